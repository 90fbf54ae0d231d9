/*
 * mclock.h - the daemon's clock: where every module that decides by time
 * (the pollers, the ingest loop, the publisher) reads it, so that tests
 * can drive it (STYLE 16). A const struct of function pointers (STYLE 3):
 * mclock_system is the real one; a test passes its own (a clock that
 * reads another date, or one that advances only when slept on).
 *
 * Two times: real_us is UTC (a reading's timestamp, what is stored and
 * published); mono_us is monotonic (schedules, timeouts, back-off, rate
 * limits: never stepped by NTP). Their origins are unrelated.
 *
 * Threading: the functions may be called from any thread at once (the
 * pollers' threads and the ingest thread share one clock); a test clock
 * read by a poller's thread must be safe for that.
 *
 * What a clock does not drive: a condition variable's timed wait sleeps on
 * the real CLOCK_MONOTONIC (pthread_condattr_setclock), so its users wait
 * for a duration computed from this clock and then read this clock again
 * to decide.
 */
#ifndef METROLOG_MCLOCK_H
#define METROLOG_MCLOCK_H

#include <stdint.h>
#include <time.h>

struct mclock {
	int64_t (*real_us)(void *ctx); /* UTC microseconds since the epoch */
	int64_t (*mono_us)(void *ctx); /* monotonic microseconds */
	/* sleep up to us; a signal may cut it short */
	void (*sleep_us)(void *ctx, int64_t us);
	void *ctx;
};

/* clock_gettime(CLOCK_REALTIME / CLOCK_MONOTONIC) and nanosleep (once:
 * a signal cuts the sleep short, which metrologd's main loop wants). */
extern const struct mclock mclock_system;

/* The clock's readings and sleep, spelled once. */
static inline int64_t mclock_real(const struct mclock *k)
{
	return k->real_us(k->ctx);
}

static inline int64_t mclock_mono(const struct mclock *k)
{
	return k->mono_us(k->ctx);
}

static inline void mclock_sleep(const struct mclock *k, int64_t us)
{
	k->sleep_us(k->ctx, us);
}

/* CLOCK_MONOTONIC us from now, as pthread_cond_timedwait() wants it for
 * a condition variable whose clock attribute is CLOCK_MONOTONIC. This is
 * the system's clock, not a struct mclock: a timed wait only wakes a
 * thread, which then decides by its own clock. */
struct timespec mclock_cv_deadline(int64_t us);

#endif
