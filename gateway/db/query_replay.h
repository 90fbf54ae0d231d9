/*
 * query_replay.h - what a replay reads (docs/MQTT.md, Replay): the table
 * seqs, what each outbox seq carried (docs/SCHEMA.md; written by a trigger
 * on the outbox), and the readings a readings message is rebuilt from.
 * On the read-only connection of query.h, so on the thread that owns it
 * (metrologd's publisher: the ingest thread).
 */
#ifndef METROLOG_QUERY_REPLAY_H
#define METROLOG_QUERY_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "query.h"

/* One row of seqs. */
struct query_seq {
	int64_t seq, ts_us;
	int64_t instrument; /* a readings message: instruments.id, else 0 */
	char *topic;        /* otherwise: on the heap, as composed */
	char *payload;      /* on the heap, len bytes and a NUL */
	size_t len;
};

/* The rows of seqs with from <= seq <= to, at most max, in seq order,
 * into out; *n is how many. Free them with query_seqs_clear(). Returns 0,
 * or -1 (query_error()). */
int query_seqs(struct query *q, int64_t from, int64_t to, struct query_seq *out,
               size_t max, size_t *n);
void query_seqs_clear(struct query_seq *s, size_t n);

/* One channel of an instrument, for rebuilding its readings messages. */
struct query_rchannel {
	int64_t id, instrument; /* channels.id, instruments.id */
	char inst_name[64 + 1]; /* the instrument's id (name) */
	char name[64 + 1], unit[64 + 1];
	int digits; /* 7 for a float32 channel, else 0 (msg_channel) */
};

/* Every channel of every instrument, in channels.id order (the order of
 * the configuration when they were made), into a heap array *out of *n
 * (free() it). Returns 0 or -1. */
int query_rchannels(struct query *q, struct query_rchannel **out, size_t *n);

/* Every reading of channel ids ch[0..nch) with from_us <= ts <= to_us, to
 * fn (a non-zero return stops: returned). readings_recent is read once,
 * the archive once per channel (its index: channel, ts). Returns 0, fn's
 * return, or -1. */
int query_readings_window(struct query *q, const int64_t *ch, size_t nch,
                          int64_t from_us, int64_t to_us,
                          int (*fn)(void *ctx, const struct query_reading *),
                          void *ctx);

#endif
