/*
 * clk.c - real and simulated clocks of the simulator (see clk.h).
 *
 * Threading: one thread; start_us and accel are written by clk_init(), and
 * start_us again once by the first clk_sim_s() after clk_hold().
 */
#include "clk.h"

#include <stdbool.h>
#include <time.h>

static uint64_t start_us;
static double accel = 1.0;
static bool held; /* simulated time 0 until clk_sim_s() is first asked */

uint64_t clk_now_us(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void clk_init(double a)
{
	start_us = clk_now_us();
	accel = a;
}

double clk_real_s(void)
{
	return (double)(clk_now_us() - start_us) / 1e6;
}

void clk_hold(void)
{
	held = true;
}

double clk_sim_s(void)
{
	if (held) { /* the first value read: simulated time starts now */
		held = false;
		start_us = clk_now_us();
		return 0;
	}
	return accel * clk_real_s();
}
