/*
 * mclock.c - the system clock (mclock.h): clock_gettime and nanosleep.
 */
#include "mclock.h"

#include <time.h>

static int64_t clock_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t sys_real_us(void *ctx)
{
	(void)ctx;
	return clock_us(CLOCK_REALTIME);
}

static int64_t sys_mono_us(void *ctx)
{
	(void)ctx;
	return clock_us(CLOCK_MONOTONIC);
}

/* A signal cuts it short, which is what the main loop wants. */
static void sys_sleep_us(void *ctx, int64_t us)
{
	struct timespec ts = {(time_t)(us / 1000000),
	                      (long)(us % 1000000) * 1000};

	(void)ctx;
	if (us > 0)
		nanosleep(&ts, NULL);
}

const struct mclock mclock_system = {
        .real_us = sys_real_us,
        .mono_us = sys_mono_us,
        .sleep_us = sys_sleep_us,
};

struct timespec mclock_cv_deadline(int64_t us)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(us / 1000000);
	ts.tv_nsec += (long)(us % 1000000) * 1000;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}
