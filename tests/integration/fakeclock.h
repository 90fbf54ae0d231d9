/*
 * fakeclock.h - a struct mclock (gateway/daemon/mclock.h) that a test
 * drives: it reads what the test set, and sleeping advances it instead of
 * waiting, so code that decides by time (the ingest loop's batches and
 * back-off) runs in no real time. One thread only: for a poller, whose
 * thread reads its clock, see test_poller.c's atomic clock.
 */
#ifndef METROLOG_FAKECLOCK_H
#define METROLOG_FAKECLOCK_H

#include <stdint.h>

#include "mclock.h"

struct fake_clock {
	int64_t real, mono; /* UTC and monotonic microseconds */
};

static inline int64_t fake_real(void *ctx)
{
	return ((struct fake_clock *)ctx)->real;
}

static inline int64_t fake_mono(void *ctx)
{
	return ((struct fake_clock *)ctx)->mono;
}

static inline void fake_sleep(void *ctx, int64_t us)
{
	struct fake_clock *f = ctx;

	f->real += us;
	f->mono += us;
}

/* The struct mclock that reads f. */
static inline struct mclock fake_clock_of(struct fake_clock *f)
{
	return (struct mclock){fake_real, fake_mono, fake_sleep, f};
}

#endif
