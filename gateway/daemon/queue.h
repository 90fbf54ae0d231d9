/*
 * queue.h - the bounded hand-off from the pollers (many producers) to the
 * ingest thread (one consumer).
 *
 * A ring of struct sample behind one mutex and two condition variables.
 * Producers push all the samples of one poll at once; the consumer takes
 * up to a batch at once. When the ring is full the configured policy
 * decides: QUEUE_DROP_OLDEST (overwrite the oldest, counted) or QUEUE_BLOCK
 * (the producer waits). No allocation after queue_new(); the ring's pages
 * become resident as they are first used, and a queue that empties starts
 * again at its first sample, so memory follows the most samples held
 * (high_water), not the capacity.
 */
#ifndef METROLOG_QUEUE_H
#define METROLOG_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "sample.h"

struct queue;

struct queue_stats {
	uint64_t pushed;   /* samples accepted */
	uint64_t dropped;  /* samples overwritten by QUEUE_DROP_OLDEST */
	uint64_t blocked;  /* pushes that had to wait (QUEUE_BLOCK) */
	size_t high_water; /* most samples held at once */
	size_t capacity;
};

/* A queue of capacity samples (>= 1). NULL on allocation failure. */
struct queue *queue_new(size_t capacity, enum queue_full_policy policy);
void queue_free(struct queue *q); /* NULL allowed */

/* Push n samples (n <= capacity). With QUEUE_BLOCK waits for room unless
 * the queue is closed. Returns how many older samples were dropped to make
 * room (0 normally), or -1 if the queue is closed. */
long queue_push(struct queue *q, const struct sample *s, size_t n);

/* Take up to max samples into out, waiting up to timeout_ms for the first
 * one. Returns the count (0 on timeout, or when closed and empty). The
 * same as queue_pop_batch() with want 1. */
size_t queue_pop(struct queue *q, struct sample *out, size_t max,
                 int timeout_ms);

/* Take up to max samples into out once `want` of them are held, waiting
 * up to timeout_ms (0: not at all; negative: without limit) for that many;
 * at the timeout, or when the queue is closed, take what there is (fewer
 * than want, maybe 0). want is clamped to 1..min(max, capacity). While the
 * consumer waits, a push wakes it only if it brings the queue to `want`
 * samples (a full queue always does), not at every push: a consumer that
 * batches N samples or T ms is woken once per batch. Returns the count. */
size_t queue_pop_batch(struct queue *q, struct sample *out, size_t max,
                       size_t want, int timeout_ms);

/* Wake every waiter; later pushes fail; pops drain what is left. */
void queue_close(struct queue *q);

void queue_get_stats(struct queue *q, struct queue_stats *st);

#endif
