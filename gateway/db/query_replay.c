/*
 * query_replay.c - the reads of a replay (query_replay.h): the seqs table
 * and the readings of a time window. The view readings is not used for
 * the window: its readings_recent half has no index, so it is read once
 * for the window (a few thousand rows per channel at most, 64 per channel
 * before they are archived) and the archive's blocks once per channel by
 * their (channel, ts) index.
 */
#include "query_replay.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query_int.h"
#include "schema.h"

static const char seqs_sql[] =
        "SELECT seq, ts, coalesce(instrument, 0), topic, payload FROM seqs"
        " WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3";

/* A copy of column i of s on the heap (NULL for NULL), its length in
 * *len. Returns 0, or -1 when memory runs out. */
static int heap_column(sqlite3_stmt *s, int i, char **out, size_t *len)
{
	const void *v = sqlite3_column_blob(s, i);
	size_t n = (size_t)sqlite3_column_bytes(s, i);

	*out = NULL;
	*len = 0;
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return 0;
	if ((*out = malloc(n + 1)) == NULL)
		return -1;
	if (n > 0)
		memcpy(*out, v, n);
	(*out)[n] = '\0';
	*len = n;
	return 0;
}

int query_seqs(struct query *q, int64_t from, int64_t to, struct query_seq *out,
               size_t max, size_t *n)
{
	sqlite3_stmt *s = query_prepare(q, seqs_sql);
	int rc = SQLITE_DONE;
	size_t tl;

	*n = 0;
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)max);
	while (*n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct query_seq *r = &out[*n];
		memset(r, 0, sizeof(*r));
		r->seq = sqlite3_column_int64(s, 0);
		r->ts_us = sqlite3_column_int64(s, 1);
		r->instrument = sqlite3_column_int64(s, 2);
		(*n)++;
		if (heap_column(s, 3, &r->topic, &tl) < 0 ||
		    heap_column(s, 4, &r->payload, &r->len) < 0) {
			snprintf(q->error, sizeof(q->error),
			         "%s: out of memory", q->path);
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return 0;
	query_seqs_clear(out, *n);
	*n = 0;
	return rc == SQLITE_NOMEM ? -1 : query_fail(q, rc, "seqs");
}

void query_seqs_clear(struct query_seq *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].topic);
		free(s[i].payload);
		s[i].topic = s[i].payload = NULL;
	}
}

int query_rchannels(struct query *q, struct query_rchannel **out, size_t *n)
{
	sqlite3_stmt *s = query_prepare(
	        q,
	        "SELECT c.id, c.instrument_id, i.name, c.name, c.unit, c.type"
	        " FROM channels c JOIN instruments i ON i.id = c.instrument_id"
	        " ORDER BY c.id");
	struct query_rchannel *v = NULL;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		char type[32];
		if (*n == cap) {
			size_t c2 = cap ? 2 * cap : 32;
			struct query_rchannel *m = realloc(v, c2 * sizeof(*m));
			if (m == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			v = m;
			cap = c2;
		}
		struct query_rchannel *c = &v[(*n)++];
		c->id = sqlite3_column_int64(s, 0);
		c->instrument = sqlite3_column_int64(s, 1);
		query_text(s, 2, c->inst_name, sizeof(c->inst_name));
		query_text(s, 3, c->name, sizeof(c->name));
		query_text(s, 4, c->unit, sizeof(c->unit));
		query_text(s, 5, type, sizeof(type));
		c->digits = strcmp(type, "float32") == 0 ? 7 : 0;
	}
	if (rc != SQLITE_DONE) {
		query_fail(q, rc, "channels");
		sqlite3_finalize(s);
		free(v);
		*n = 0;
		return -1;
	}
	sqlite3_finalize(s);
	*out = v;
	return 0;
}

int query_readings_window(struct query *q, const int64_t *ch, size_t nch,
                          int64_t from_us, int64_t to_us,
                          int (*fn)(void *ctx, const struct query_reading *),
                          void *ctx)
{
	sqlite3_stmt *arch = query_prepare(
	        q, "SELECT ts, value, quality FROM readings_archive"
	           " WHERE channel = ?1 AND ts >= ?2 AND ts <= ?3");
	sqlite3_stmt *recent = query_prepare(
	        q, "SELECT ts, value, quality, channel FROM readings_recent"
	           " WHERE ts >= ?1 AND ts <= ?2"
	           " AND " SCHEMA_RECENT_LIVE("rowid", "channel"));
	int ret = -1;

	if (arch == NULL || recent == NULL)
		goto out;
	for (size_t i = 0; i < nch; i++) {
		sqlite3_bind_int64(arch, 1, ch[i]);
		sqlite3_bind_int64(arch, 2, from_us);
		sqlite3_bind_int64(arch, 3, to_us);
		if ((ret = query_each_reading(q, arch, ch[i], fn, ctx)) != 0)
			goto out;
	}
	sqlite3_bind_int64(recent, 1, from_us);
	sqlite3_bind_int64(recent, 2, to_us);
	ret = query_each_reading(q, recent, 0, fn, ctx);
out:
	sqlite3_finalize(arch);
	sqlite3_finalize(recent);
	return ret;
}
