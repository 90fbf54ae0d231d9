/*
 * sample.h - what the pollers hand to the ingest thread.
 *
 * A sample is a reading of one channel, or an event of one instrument
 * (online, offline). 24 bytes, copied by value through the bounded queue;
 * nothing in it points anywhere, so ownership never crosses threads.
 *
 * Time is UTC in microseconds since the Unix epoch, everywhere in metrolog.
 */
#ifndef METROLOG_SAMPLE_H
#define METROLOG_SAMPLE_H

#include <stdint.h>

enum sample_kind {
	SAMPLE_READING = 0,   /* index: global channel index */
	SAMPLE_ONLINE = 1,    /* index: instrument index; it answers again */
	SAMPLE_OFFLINE = 2,   /* index: instrument index; quality says why */
};

/* Quality of a reading, or the reason of an offline event. */
enum quality {
	QUALITY_GOOD = 0,
	QUALITY_TIMEOUT = 1,   /* no reply in time */
	QUALITY_EXCEPTION = 2, /* exception reply; detail = exception code */
	QUALITY_CRC = 3,       /* RTU reply with a bad CRC */
	QUALITY_CONNECT = 4,   /* cannot connect, or the connection dropped */
	QUALITY_REPLY = 5,     /* reply that does not match the request */
	QUALITY_INVALID = 6,   /* registers hold no number (NaN, bad BCD) */
	QUALITY_OTHER = 7,
};

struct sample {
	int64_t ts_us;    /* when the request was sent, UTC microseconds */
	uint32_t index;   /* channel or instrument index in the config */
	uint8_t kind;     /* enum sample_kind */
	uint8_t quality;  /* enum quality */
	uint16_t detail;  /* exception code for QUALITY_EXCEPTION, else 0 */
	double value;     /* engineering value; 0 when quality is not good */
};

/* "good", "timeout", ... (stored in the database and logs). */
const char *quality_name(enum quality q);

#endif
