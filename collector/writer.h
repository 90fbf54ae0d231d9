/*
 * writer.h - the collector's writer: the messages the broker gives it,
 * into PostgreSQL (archive.h) in batched transactions, the counters of
 * what came of them, and the gap checks between batches.
 *
 * The acknowledgement rule (docs/COLLECTOR.md, Batches): with
 * archive.batch_max > 1 a gateway's message with a seq is copied into the
 * open batch (batch.h) and may be acknowledged to the broker at once,
 * before its commit; the batch is committed when it holds batch_max
 * messages, batch_ms after its first, before a message acknowledged only
 * once committed, and at a stop. A message lost in a batch (the process
 * killed) is a hole in its site's seq, or a tail that the gateway's next
 * status's last_seq names: the gap check records it and the repair asks
 * the gateway for it again. Acknowledged only once committed, as with
 * batch_max = 1 for every message: a gateway's status (no seq: nothing
 * would find it lost, and its last_seq is what finds a lost tail) and a
 * reply to a replay request (it moves the repair's schedule).
 *
 * Threads: the writer's (the collector's main thread) alone.
 */
#ifndef METROLOG_WRITER_H
#define METROLOG_WRITER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "archive.h"
#include "ccfg.h"
#include "mclock.h"

struct writer;

/* What writer_take() did with a message. */
enum writer_take {
	WRITER_BATCHED, /* copied into the batch: acknowledge it now, then
	                   writer_write() */
	WRITER_DONE,    /* committed or refused for good: acknowledge it */
	WRITER_STOP,    /* not written, the collector stops: never
	                   acknowledge it (the broker sends it again) */
};

/* A writer for c into a, by clock k (all three must outlive it); stop
 * is the flag the signal handler sets (a write waiting for PostgreSQL
 * gives up when it is set: at once when it holds no acknowledged message,
 * else after STOP_WAIT_MS of trying). Returns NULL when out of memory. */
struct writer *writer_new(const struct ccfg *c, struct archive *a,
                          const struct mclock *k, volatile sig_atomic_t *stop);
void writer_free(struct writer *w);

/* Take one message of topic (payload len bytes, valid during the call):
 * refused (logged), copied into the batch, or, for a message acknowledged
 * only once committed, written with the batch in hand and committed
 * (waiting for PostgreSQL as long as it is away). Returns an enum
 * writer_take. */
int writer_take(struct writer *w, const char *topic, const char *payload,
                size_t len);

/* After WRITER_BATCHED: write the new message into the open transaction,
 * and commit when the batch is full (or the transaction failed: what it
 * lost is written again). Returns 0, or -1 when the collector stops first
 * (the batch given up: logged). */
int writer_write(struct writer *w);

/* Commit the open batch if it has any message (waiting for PostgreSQL as
 * long as it is away; at a stop, 10 s at most). Returns 0, or -1 when it
 * gave the batch up (logged). */
int writer_commit(struct writer *w);

/* Milliseconds until the open batch is due (0: now), or -1 when no
 * message is held. */
long long writer_due_in(const struct writer *w);

/* Look for gaps in every site's seq (archive_check_gaps), unless a batch
 * is open (its transaction is not the place). Returns whether it looked
 * (a failure logged, once). */
bool writer_check_gaps(struct writer *w);

/* The counters as JSON, for the stats line: written, duplicates, refused,
 * retries, gaps, unrepairable, batches (transactions committed). */
void writer_stats(const struct writer *w, char *buf, size_t size);

#endif
