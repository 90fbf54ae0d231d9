/*
 * clk.h - the simulator's clocks: real monotonic time and simulated time.
 *
 * Real time is CLOCK_MONOTONIC in microseconds; it drives the node's uptime,
 * the RTU 3.5-character silence and the reply delays. Simulated time is
 * t_sim = accel * (now - start) seconds: it drives the sensor physics, so
 * drift and scheduled faults can be compressed (--accel).
 *
 * Threading: one thread; clk_init() runs once before anything reads a clock.
 */
#ifndef METROLOG_SIM_CLK_H
#define METROLOG_SIM_CLK_H

#include <stdint.h>

/* Record the start instant and the acceleration (simulated s per real s). */
void clk_init(double accel);

/* Monotonic microseconds (arbitrary origin). */
uint64_t clk_now_us(void);

/* Real seconds since clk_init(). */
double clk_real_s(void);

/* Simulated seconds since clk_init(): accel * clk_real_s(); after
 * clk_hold(), 0 at its first call, which restarts both clocks, then the
 * same (--clock-on-request: the model starts with the first poll). */
double clk_sim_s(void);

/* Hold simulated time at 0 until the next clk_sim_s(). */
void clk_hold(void);

#endif
