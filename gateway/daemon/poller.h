/*
 * poller.h - the poller of a bus: polls its instruments on time and hands
 * every reading to the queue.
 *
 * An RTU line's poller is a thread of its own; TCP buses' pollers are
 * served by a few threads, many buses each, one request in flight on each
 * (mux.c); the behaviour below is the same for both.
 *
 * A poller owns its struct bus (and so its libmodbus context) and its
 * instruments' schedules; it shares nothing but the queue, and the config,
 * which it only reads. Schedules are absolute: instrument k is due at
 * start + n * interval, whatever the last poll cost, and a reading carries
 * the UTC time its request was sent. A failing instrument backs off on its
 * own (exponential with jitter, capped by the bus's backoff_max_ms), so a
 * dead unit on a shared RS-485 line does not slow its neighbours more than
 * one timeout per back-off period.
 *
 * Time comes from the struct mclock given to poller_start() (STYLE 16):
 * the schedule, lateness, jitter and back-off from its monotonic time, a
 * reading's timestamp from its UTC time. metrologd gives every poller the
 * clock it gives the ingest loop and the publisher.
 */
#ifndef METROLOG_POLLER_H
#define METROLOG_POLLER_H

#include <stdint.h>

#include "config.h"
#include "mclock.h"
#include "queue.h"

/* the jitter histogram's buckets: the last counts every jitter from 2^38 us
 * (3.2 days) up */
#define POLLER_JITTER_BUCKETS 40

struct poller_stats {
	uint64_t polls;        /* instrument polls attempted */
	uint64_t transactions; /* Modbus requests sent */
	uint64_t failures;     /* requests that failed */
	uint64_t readings;     /* samples of kind reading pushed */
	uint64_t late;         /* polls skipped because the bus was behind */
	/* schedule jitter: start of a poll minus its due time, in a
	 * log2 histogram: bucket b counts jitters in [2^(b-1), 2^b) us */
	uint64_t jitter[POLLER_JITTER_BUCKETS];
};

struct poller;

/* Start the poller of bus index `bus` of c, pushing to q and reading the
 * time from clk (from the poller's own thread, or its mux thread's, which
 * serves only buses of that same clk: clk must be safe to read from any
 * thread; mclock_system is). c, q and clk must outlive it.
 * The first (bus 0) also checks that the descriptors of all c's buses fit
 * under the descriptor limit, adjusting it (bus_fd_budget()): a config
 * with too many buses fails here, at start, not as "Too many open files"
 * on some bus later. Returns NULL with a log line on failure. */
struct poller *poller_start(const struct config *c, int bus, struct queue *q,
                            const struct mclock *clk);

/* Ask the thread to stop and wait for it: a request in flight is
 * interrupted (TCP: at once; RTU: it ends at its deadline, timeout_ms +
 * BUS_DEADLINE_MARGIN_MS), a poll cut short pushes nothing, a poll that
 * completed is pushed. Then copy the final counters to *last (if not
 * NULL), and free everything. NULL allowed. */
void poller_stop(struct poller *p, struct poller_stats *last);

/* A copy of the counters so far (any thread). */
void poller_get_stats(struct poller *p, struct poller_stats *st);

/* The jitter below which fraction q (0..1) of the polls started, in us,
 * from a histogram (an upper bound: the bucket's top). */
uint64_t poller_jitter_quantile(const struct poller_stats *st, double q);

#endif
