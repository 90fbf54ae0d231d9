/*
 * ingest.h - the ingest loop of metrologd: samples from the bounded queue,
 * through the tolerance monitor, into batches that the composer and the
 * store commit in ONE transaction each; then a word to the publisher
 * (which runs on its own thread), and between batches retention and the
 * calibration due states. The outbox rows the publisher says were
 * acknowledged are deleted in the next batch's transaction (or alone after
 * 200 ms without one).
 *
 * Nothing is lost on purpose: a batch that fails to commit (database
 * locked, disk full) is kept and retried with back-off (100 ms to 5 s),
 * while the queue's policy decides what happens if the failure lasts;
 * ingest_drain() commits everything queued before a stop or a reload.
 *
 * Time comes from a struct mclock (mclock.h), so tests drive it: the real
 * one (mclock_system, which metrologd also gives the pollers and the
 * publisher) or one of their own (STYLE 16).
 *
 * Threading: a struct ingest belongs to the ingest thread (metrologd's
 * main thread), with the store, the composer and the monitor; pollers only
 * push to the queue; the publisher's thread reads what is committed.
 */
#ifndef METROLOG_INGEST_H
#define METROLOG_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "mclock.h"
#include "queue.h"
#include "store.h"

struct publisher;

struct ingest_stats {
	uint64_t readings, events, states; /* committed */
	uint64_t commit_failures;
	size_t pending; /* samples in the open batch */
	bool retrying;  /* the last commit failed; it is being retried */
};

struct ingest;

/* An ingest loop for c over st (synced to c by the caller) and q. c, st,
 * q and clk must outlive it. NULL with the reason logged. */
struct ingest *ingest_new(const struct config *c, struct store *st,
                          struct queue *q, const struct mclock *clk);
void ingest_free(struct ingest *in); /* NULL allowed */

/* The publisher to tell of each commit, whose acknowledged rows this
 * loop deletes (NULL: none). */
void ingest_set_publisher(struct ingest *in, struct publisher *p);

/*
 * One turn: take what the queue has and commit when the batch holds
 * batch_max samples or its first is batch_ms old. With an empty batch,
 * wait up to wait_ms for a first sample; with a batch open, wait for the
 * rest of it until it is full or batch_ms old, but at most wait_ms, on the
 * queue (queue_pop_batch()), which wakes this thread once the batch can be
 * filled, not at every push; with wait_ms 0, take what is queued and sleep
 * on the clock until the batch is due (a test's clock). After a commit,
 * publisher_committed(); between batches, the acknowledged outbox rows (after
 * 200 ms without a commit), retention and the calibration due states.
 */
void ingest_step(struct ingest *in, int wait_ms);

/* With the producers stopped: commit everything queued, retrying for at
 * most 30 s of failures. Returns how many samples could not be committed
 * (logged; 0 normally). */
size_t ingest_drain(struct ingest *in);

/* Switch to next, after ingest_drain() with the producers stopped: the
 * store, the composer and the monitor follow it (states of instruments
 * and channels that stay are kept). Returns 0, or -1 with the reason
 * logged and the running configuration kept. */
int ingest_reload(struct ingest *in, const struct config *next);

void ingest_get_stats(const struct ingest *in, struct ingest_stats *s);

#endif
