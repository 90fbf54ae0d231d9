/*
 * batch.h - the messages the collector's writer took into its open
 * transaction (collector.c): copies of their topics and payloads, in the
 * order they came, and what writing each came to. They are acknowledged to
 * the broker once copied here, so a transaction that fails (PostgreSQL
 * restarted, a deadlock, a message refused) is written again from these
 * copies. One buffer, grown as needed and kept from batch to batch: no
 * allocation per message once it has grown.
 *
 * Threads: the writer's alone.
 */
#ifndef METROLOG_BATCH_H
#define METROLOG_BATCH_H

#include <stdbool.h>
#include <stddef.h>

struct batch;

/* A batch of at most max messages, full also once it holds max_bytes of
 * topics and payloads (one message larger than that is still taken, alone).
 * Returns NULL when out of memory. */
struct batch *batch_new(int max, size_t max_bytes);
void batch_free(struct batch *b);

/* Copy topic and payload (len bytes, any bytes) in as the last message,
 * its mark 0. Returns 0, or -1 when the batch is full or out of memory
 * (nothing changed). */
int batch_add(struct batch *b, const char *topic, const char *payload,
              size_t len);

/* Messages held; whether batch_add() would refuse the next one for room. */
int batch_count(const struct batch *b);
bool batch_full(const struct batch *b);

/* Message i (0 <= i < batch_count()): its topic and payload (each
 * NUL-terminated after its length), valid until batch_add() or
 * batch_clear(). */
void batch_get(const struct batch *b, int i, const char **topic,
               const char **payload, size_t *len);

/* The caller's mark of message i (what writing it came to). */
int batch_mark(const struct batch *b, int i);
void batch_set_mark(struct batch *b, int i, int mark);

/* Forget every message (the buffer is kept). */
void batch_clear(struct batch *b);

#endif
