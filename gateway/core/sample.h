/*
 * sample.h - what the pollers hand to the ingest thread.
 *
 * A sample is a reading of one channel, an event of one instrument
 * (online, offline, failing), or a change of a channel's tolerance state. 24
 * bytes, copied by value through the bounded queue;
 * nothing in it points anywhere, so ownership never crosses threads.
 *
 * Time is UTC in microseconds since the Unix epoch, everywhere in metrolog.
 */
#ifndef METROLOG_SAMPLE_H
#define METROLOG_SAMPLE_H

#include <stdint.h>

enum sample_kind {
	SAMPLE_READING = 0, /* index: global channel index */
	SAMPLE_ONLINE = 1,  /* index: instrument index; it answers again */
	SAMPLE_OFFLINE = 2, /* index: instrument index; quality says why */
	SAMPLE_STATE = 3,   /* index: global channel index; made by the
	                       ingest thread (monitor.c), never by a poller;
	                       value: the error; detail: see below */
	SAMPLE_FAILING = 4, /* index: instrument index; it answers, but no
	                       read of a poll succeeded; quality and detail
	                       say why (an exception and its code) */
};

/*
 * detail of a SAMPLE_STATE. A tolerance state change: bits 0-3 the new
 * enum drift_state, bits 4-7 the previous one. A control chart that starts
 * to signal: SAMPLE_STATE_CHART set, SAMPLE_STATE_CUSUM set for CUSUM
 * (clear: EWMA), SAMPLE_STATE_HIGH set when the error shifted up. A new
 * trend forecast: SAMPLE_STATE_CHART and SAMPLE_STATE_TREND set,
 * SAMPLE_STATE_HIGH when the upper limit is the one predicted to be
 * crossed; value = days from ts until the prediction bound reaches it
 * (NAN: no crossing predicted within the horizon any more).
 */
#define SAMPLE_STATE_NEW(d) ((d)&0x0f)
#define SAMPLE_STATE_OLD(d) (((d) >> 4) & 0x0f)
#define SAMPLE_STATE_CHART  0x100
#define SAMPLE_STATE_CUSUM  0x200
#define SAMPLE_STATE_HIGH   0x400
#define SAMPLE_STATE_TREND  0x800

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
	int64_t ts_us;   /* when the request was sent, UTC microseconds */
	uint32_t index;  /* channel or instrument index in the config */
	uint8_t kind;    /* enum sample_kind */
	uint8_t quality; /* enum quality */
	uint16_t detail; /* exception code for QUALITY_EXCEPTION, else 0 */
	double value;    /* engineering value; 0 when quality is not good */
};

/* "good", "timeout", ... (stored in the database and logs). */
const char *quality_name(enum quality q);

/* The state an instrument event (SAMPLE_ONLINE, SAMPLE_OFFLINE,
 * SAMPLE_FAILING) says it is in: "online", "offline", "failing" (the
 * events.kind of the database, the event and state of MQTT); NULL for
 * another kind. */
const char *sample_event_name(enum sample_kind k);

#endif
