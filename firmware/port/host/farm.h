/*
 * farm.h - the simulated instruments and the routing of requests to them.
 *
 * The farm owns N instruments (unit ids 1..N), the fault-injection settings
 * and the mute switch. A transport hands it a request PDU with the route it
 * came by and gets back the response PDU and what to do with it:
 *
 *   route            unit 0               unit 1..N     other units
 *   FARM_TCP_SHARED  broadcast, no reply  instrument    exception 0x0B
 *   FARM_RTU         broadcast, no reply  instrument    silence
 *   k >= 0           instrument k+1 answers every unit id (0 and 255 too)
 *
 * Faults apply to every instrument, or to fault unit U only: mute (no reply
 * at all), silent (probability of no reply), exception (answer every request
 * with it), corrupt (probability; the transport breaks the envelope), delay
 * (the transport holds the reply) and drop-after (the TCP transport closes
 * the connection after N requests that faults apply to). The hostile
 * device: wrong function code and wrong byte count (the response PDU is
 * altered here), and, done by the transport, wrong unit id, trickle (one
 * byte at a time), reset mid-frame and an endless stream of garbage (the
 * last two on TCP only).
 *
 * Threading: one thread (the event loop) calls everything here.
 */
#ifndef METROLOG_SIM_FARM_H
#define METROLOG_SIM_FARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "physics.h"

#define FARM_MAX_INSTRUMENTS 9999

enum {
	FARM_TCP_SHARED = -1,
	FARM_RTU = -2,
};

struct farm_faults {
	unsigned unit;       /* 0: every instrument */
	uint32_t delay_ms;   /* 0: none */
	double silent;       /* probability 0..1 */
	double corrupt;      /* probability 0..1 */
	uint8_t exception;   /* 0: none */
	uint32_t drop_after; /* 0: never */
	uint32_t trickle_ms; /* 0: none; else one reply byte every trickle_ms */
	bool wrong_unit;     /* reply with another unit id */
	bool wrong_function; /* reply with another function code */
	bool wrong_count;    /* reply with a byte count and data 2 bytes off */
	bool reset;          /* TCP: half the reply, then a reset (RST) */
	bool garbage;        /* TCP: an endless stream of random bytes */
};

/* What the transport must do with a request's outcome. */
struct farm_reply {
	size_t len;          /* response PDU length; 0: send nothing */
	uint32_t delay_ms;   /* hold the reply this long */
	bool corrupt;        /* break the envelope (CRC or transaction id) */
	bool faulty;         /* faults apply: counts towards drop_after */
	uint32_t trickle_ms; /* send the reply one byte every trickle_ms */
	bool wrong_unit;     /* put farm_other_unit() in the envelope */
	bool reset;          /* TCP: send half the reply, then reset */
	bool garbage;        /* TCP: send random bytes from now on, forever */
};

/* The unit id a wrong-unit reply carries instead of unit. */
uint8_t farm_other_unit(uint8_t unit);

struct farm;

/* Create ninst instruments of nch channels. Returns NULL on allocation
 * failure (errno set). */
struct farm *farm_new(unsigned ninst, unsigned nch, const char *serial_prefix,
                      uint64_t seed, const struct farm_faults *faults);
void farm_free(struct farm *f);

/* Apply a --channel spec; sp->unit and sp->ch must be in range. */
void farm_apply(struct farm *f, const struct phys_spec *sp);

/* Check every channel and hand the ranges to the nodes. Returns 0, or -1
 * with a message in err. */
int farm_commit(struct farm *f, char *err, size_t errlen);

unsigned farm_count(const struct farm *f);
const struct farm_faults *farm_faults(const struct farm *f);

/* Toggle mute; returns the new state. */
bool farm_toggle_mute(struct farm *f);

/* Suspend or resume every fault (the device recovers, then fails again);
 * returns true when they are now suspended. */
bool farm_toggle_faults(struct farm *f);

/*
 * Handle the request PDU req (req_len bytes, function code first) for unit,
 * arriving by route (FARM_TCP_SHARED, FARM_RTU or an instrument index).
 * Writes the response PDU into rsp (MB_PDU_MAX bytes) and fills *r.
 */
void farm_request(struct farm *f, int route, uint8_t unit, const uint8_t *req,
                  size_t req_len, uint8_t *rsp, struct farm_reply *r);

#endif
