/*
 * physics.h - the simulated sensor behind one channel of a simulated node.
 *
 * A channel reads, at simulated time t (seconds since the simulator started,
 * see clk.h):
 *
 *   value(t) = nominal + drift * t / 86400 + (t >= step_at ? step : 0)
 *              + noise * N(0,1)
 *
 * and reports a sensor fault from t >= fault_at on. The normal deviates come
 * from a per-channel xorshift64* stream seeded by splitmix64 from (seed,
 * unit, channel), so a run is reproducible with the same --seed and the same
 * sequence of reads.
 *
 * Threading: one thread; a channel is owned by its instrument (instrument.c).
 */
#ifndef METROLOG_SIM_PHYSICS_H
#define METROLOG_SIM_PHYSICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct phys_channel {
	double nominal;  /* engineering units */
	double noise;    /* standard deviation, >= 0 */
	double drift;    /* units per simulated day */
	double step;     /* added from step_at on */
	double step_at;  /* simulated seconds */
	double fault_at; /* simulated seconds; +inf: never */
	double lo, hi;   /* measuring range, valid when has_lo / has_hi */
	bool has_lo, has_hi;
	uint64_t rng; /* xorshift64* state, never 0 */
	double spare; /* second Box-Muller deviate */
	bool has_spare;
};

/* Defaults for channel ch: nominal 20 + ch, everything else 0, no fault,
 * unbounded range; the stream is seeded from (seed, unit, ch). */
void phys_init(struct phys_channel *c, unsigned unit, unsigned ch,
               uint64_t seed);

/* Sample the channel at simulated time t. Returns 0 and sets *value, or -1
 * when the sensor is faulty at t. */
int phys_sample(struct phys_channel *c, double t, double *value);

/* A parsed --channel argument: [U.]C:KEY=VAL[,KEY=VAL]... */
#define PHYS_SPEC_MAX_KEYS 16
struct phys_spec {
	unsigned unit; /* 0: every unit */
	unsigned ch;
	unsigned nkeys;
	uint8_t key[PHYS_SPEC_MAX_KEYS]; /* private key index */
	double val[PHYS_SPEC_MAX_KEYS];
};

/* Parse s into *sp. Returns 0, or -1 with a message in err (errlen bytes)
 * saying what is wrong. Unit and channel are checked against the
 * configuration later, by the caller. */
int phys_spec_parse(const char *s, struct phys_spec *sp, char *err,
                    size_t errlen);

/* Apply the keys of sp to c, in order (later wins). */
void phys_spec_apply(const struct phys_spec *sp, struct phys_channel *c);

/* Check a channel after every spec was applied. Returns 0, or -1 with a
 * message in err. */
int phys_check(const struct phys_channel *c, char *err, size_t errlen);

#endif
