/*
 * store_outbox.c - the outbox's readings rows (store.h; docs/SCHEMA.md,
 * outbox): written without their payload, with the channels.id of their
 * readings, and read back with those readings so that the publisher builds
 * the payload when it sends the row.
 *
 * readings_recent has no index (the store appends to it, store.c): the
 * readings of the rows about to be rebuilt are read from it in one scan of
 * their time window, kept sorted by (channel, ts) for the next calls; a
 * reading not there (moved into the archive since) is looked for in the
 * archive's rows of its channel over the whole window, read once per
 * channel and window (at high rates readings are archived within seconds:
 * a backlog is rebuilt from there, one block decoded per channel, not one
 * lookup per reading); one still not found (committed after both reads)
 * is looked up by channel and ts in the view readings.
 *
 * Threading: as store.h (a struct store belongs to one thread).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "text.h"

#define WINDOW_MAX_US 1000000LL /* readings_recent read at most 1 s at once */

/* A reading of readings_recent in the window. */
struct recent {
	int64_t channel, ts;
	double value;
	int quality;
};

/* A channel's archived readings in the window: arows[start, start + n). */
struct arun {
	int64_t channel;
	size_t start, n;
};

struct outbox_rebuild {
	sqlite3_stmt *chan;   /* a channel's name, unit, type, instrument */
	sqlite3_stmt *recent; /* readings_recent between two ts */
	sqlite3_stmt *arch;   /* a channel's archived readings between two ts */
	sqlite3_stmt *one;    /* one reading by channel and ts (the view) */
	struct recent *rows;  /* the window, sorted by (channel, ts) */
	size_t nrows, rows_cap;
	struct recent *arows; /* archived readings of the window, by run */
	size_t narows, arows_cap;
	struct arun *runs; /* the channels read from the archive */
	size_t nruns, runs_cap;
	uint32_t *hash; /* channel -> 1 + index in runs; 0 empty */
	size_t hcap;    /* a power of two, > 2 * nruns; 0 none yet */
	int64_t lo, hi; /* the window read; lo > hi: none */
	char *text;     /* the strings store_outbox_readings() returns */
	size_t text_size;
	unsigned char *ids; /* the blob st_outbox_bind_channels() binds */
	size_t ids_size;
};

static const char chan_sql[] =
        "SELECT c.name, c.unit, c.type, i.name FROM channels c"
        " JOIN instruments i ON i.id = c.instrument_id WHERE c.id = ?1";
static const char recent_sql[] =
        "SELECT channel, ts, value, quality FROM readings_recent"
        " WHERE ts >= ?1 AND ts <= ?2";
static const char arch_sql[] = "SELECT ts, value, quality FROM readings_archive"
                               " WHERE channel = ?1 AND ts >= ?2 AND ts <= ?3";
static const char one_sql[] = "SELECT value, quality FROM readings"
                              " WHERE channel = ?1 AND ts = ?2 LIMIT 1";

static int nomem(struct store *st)
{
	st_error(st, STORE_OTHER, "outbox: %s", strerror(ENOMEM));
	return -1;
}

/* st->rb, made (statements prepared) on first use. */
static struct outbox_rebuild *rebuild_of(struct store *st)
{
	struct outbox_rebuild *rb = st->rb;
	int rc;

	if (rb != NULL)
		return rb;
	rb = calloc(1, sizeof(*rb));
	if (rb == NULL) {
		nomem(st);
		return NULL;
	}
	rb->lo = 1;
	rb->hi = 0;
	st->rb = rb;
	if ((rc = sqlite3_prepare_v3(st->db, chan_sql, -1,
	                             SQLITE_PREPARE_PERSISTENT, &rb->chan,
	                             NULL)) != SQLITE_OK ||
	    (rc = sqlite3_prepare_v3(st->db, recent_sql, -1,
	                             SQLITE_PREPARE_PERSISTENT, &rb->recent,
	                             NULL)) != SQLITE_OK ||
	    (rc = sqlite3_prepare_v3(st->db, arch_sql, -1,
	                             SQLITE_PREPARE_PERSISTENT, &rb->arch,
	                             NULL)) != SQLITE_OK ||
	    (rc = sqlite3_prepare_v3(st->db, one_sql, -1,
	                             SQLITE_PREPARE_PERSISTENT, &rb->one,
	                             NULL)) != SQLITE_OK) {
		st_sqlite_error(st, rc, "outbox: prepare");
		st_outbox_free(st);
		return NULL;
	}
	return rb;
}

void st_outbox_free(struct store *st)
{
	struct outbox_rebuild *rb = st->rb;

	if (rb == NULL)
		return;
	sqlite3_finalize(rb->chan);
	sqlite3_finalize(rb->recent);
	sqlite3_finalize(rb->arch);
	sqlite3_finalize(rb->one);
	free(rb->rows);
	free(rb->arows);
	free(rb->runs);
	free(rb->hash);
	free(rb->text);
	free(rb->ids);
	free(rb);
	st->rb = NULL;
}

int st_outbox_bind_channels(struct store *st, sqlite3_stmt *s, int i,
                            const struct store_out *o)
{
	struct outbox_rebuild *rb = rebuild_of(st);

	if (rb == NULL)
		return -1;
	if (text_reserve((void **)&rb->ids, &rb->ids_size, 4 * o->nchannels,
	                 1) < 0)
		return nomem(st);
	for (size_t k = 0; k < o->nchannels; k++) {
		uint32_t x = o->channels[k];
		int64_t id = x < st->nchannels ? st->channel_ids[x] : -1;
		if (id < 0 || id > UINT32_MAX) {
			st_error(st, STORE_OTHER,
			         "outbox: seq %" PRId64
			         ": channel index %" PRIu32
			         " not in the configuration",
			         o->seq, x);
			return -1;
		}
		for (int b = 0; b < 4; b++)
			rb->ids[4 * k + (size_t)b] =
			        (unsigned char)((uint64_t)id >> (8 * b));
	}
	sqlite3_bind_blob(s, i, rb->ids, (int)(4 * o->nchannels),
	                  SQLITE_TRANSIENT);
	return 0;
}

static int recent_cmp(const void *pa, const void *pb)
{
	const struct recent *a = pa, *b = pb;

	if (a->channel != b->channel)
		return a->channel < b->channel ? -1 : 1;
	return (a->ts > b->ts) - (a->ts < b->ts);
}

/* Read readings_recent between lo and hi into rb->rows, sorted. */
static int read_window(struct store *st, struct outbox_rebuild *rb, int64_t lo,
                       int64_t hi)
{
	sqlite3_stmt *q = rb->recent;
	int rc;

	rb->nrows = 0;
	rb->narows = 0;
	rb->nruns = 0;
	if (rb->hcap > 0)
		memset(rb->hash, 0, rb->hcap * sizeof(*rb->hash));
	rb->lo = 1;
	rb->hi = 0;
	sqlite3_bind_int64(q, 1, lo);
	sqlite3_bind_int64(q, 2, hi);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (text_reserve((void **)&rb->rows, &rb->rows_cap,
		                 rb->nrows + 1, sizeof(*rb->rows)) < 0) {
			sqlite3_reset(q);
			return nomem(st);
		}
		rb->rows[rb->nrows++] = (struct recent){
		        .channel = sqlite3_column_int64(q, 0),
		        .ts = sqlite3_column_int64(q, 1),
		        .value = sqlite3_column_double(q, 2),
		        .quality = sqlite3_column_int(q, 3),
		};
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		st_sqlite_error(st, rc, "outbox: readings");
		return -1;
	}
	if (rb->nrows > 0) /* rows is NULL before the first one */
		qsort(rb->rows, rb->nrows, sizeof(*rb->rows), recent_cmp);
	rb->lo = lo;
	rb->hi = hi;
	return 0;
}

static size_t slot_of(const struct outbox_rebuild *rb, int64_t channel)
{
	size_t i = (size_t)((uint64_t)channel * 0x9E3779B97F4A7C15ULL) &
	           (rb->hcap - 1);

	while (rb->hash[i] != 0 && rb->runs[rb->hash[i] - 1].channel != channel)
		i = (i + 1) & (rb->hcap - 1);
	return i;
}

/* rb->hash with room for one more run. Returns 0, or -1 (memory). */
static int hash_room(struct store *st, struct outbox_rebuild *rb)
{
	if (2 * (rb->nruns + 1) < rb->hcap)
		return 0;
	size_t cap = rb->hcap ? 2 * rb->hcap : 256;
	uint32_t *h = calloc(cap, sizeof(*h));
	if (h == NULL)
		return nomem(st);
	free(rb->hash);
	rb->hash = h;
	rb->hcap = cap;
	for (size_t k = 0; k < rb->nruns; k++)
		h[slot_of(rb, rb->runs[k].channel)] = (uint32_t)(k + 1);
	return 0;
}

/* The run of channel's archived readings in the window, read on first
 * use; NULL on an error. */
static const struct arun *archived(struct store *st, struct outbox_rebuild *rb,
                                   int64_t channel)
{
	sqlite3_stmt *q = rb->arch;
	int rc;

	if (rb->hcap > 0 && rb->hash[slot_of(rb, channel)] != 0)
		return &rb->runs[rb->hash[slot_of(rb, channel)] - 1];
	if (hash_room(st, rb) < 0 ||
	    text_reserve((void **)&rb->runs, &rb->runs_cap, rb->nruns + 1,
	                 sizeof(*rb->runs)) < 0) {
		nomem(st);
		return NULL;
	}
	struct arun *run = &rb->runs[rb->nruns];
	*run = (struct arun){.channel = channel, .start = rb->narows};
	sqlite3_bind_int64(q, 1, channel);
	sqlite3_bind_int64(q, 2, rb->lo);
	sqlite3_bind_int64(q, 3, rb->hi);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (text_reserve((void **)&rb->arows, &rb->arows_cap,
		                 rb->narows + 1, sizeof(*rb->arows)) < 0) {
			sqlite3_reset(q);
			nomem(st);
			return NULL;
		}
		rb->arows[rb->narows++] = (struct recent){
		        .channel = channel,
		        .ts = sqlite3_column_int64(q, 0),
		        .value = sqlite3_column_double(q, 1),
		        .quality = sqlite3_column_int(q, 2),
		};
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		st_sqlite_error(st, rc, "outbox: archived readings");
		return NULL;
	}
	run->n = rb->narows - run->start;
	rb->hash[slot_of(rb, channel)] = (uint32_t)(++rb->nruns);
	return run;
}

/* The reading of channel at ts into r: from the window's recent rows,
 * else its archived ones, else the view. */
static int find_reading(struct store *st, struct outbox_rebuild *rb,
                        int64_t channel, int64_t ts,
                        struct store_msg_reading *r)
{
	const struct recent key = {.channel = channel, .ts = ts};
	const struct recent *hit =
	        rb->nrows > 0 ? bsearch(&key, rb->rows, rb->nrows,
	                                sizeof(*rb->rows), recent_cmp)
	                      : NULL;
	sqlite3_stmt *q = rb->one;
	int rc;

	if (hit == NULL && ts >= rb->lo && ts <= rb->hi) {
		const struct arun *run = archived(st, rb, channel);
		if (run == NULL)
			return -1;
		if (run->n > 0)
			hit = bsearch(&key, rb->arows + run->start, run->n,
			              sizeof(*rb->arows), recent_cmp);
	}
	r->found = hit != NULL;
	if (hit != NULL) {
		r->value = hit->value;
		r->quality = hit->quality;
		return 0;
	}
	sqlite3_bind_int64(q, 1, channel);
	sqlite3_bind_int64(q, 2, ts);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		r->found = true;
		r->value = sqlite3_column_double(q, 0);
		r->quality = sqlite3_column_int(q, 1);
	}
	sqlite3_reset(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		st_sqlite_error(st, rc, "outbox: reading");
		return -1;
	}
	return 0;
}

/* Append the NUL-terminated s to rb->text at *used; its offset. */
static int keep_text(struct store *st, struct outbox_rebuild *rb,
                     const unsigned char *s, size_t *used, uintptr_t *off)
{
	size_t len = s != NULL ? strlen((const char *)s) : 0;

	if (text_reserve((void **)&rb->text, &rb->text_size, *used + len + 1,
	                 1) < 0)
		return nomem(st);
	memcpy(rb->text + *used, s != NULL ? (const char *)s : "", len);
	rb->text[*used + len] = '\0';
	*off = *used;
	*used += len + 1;
	return 0;
}

/* Channel id's name, unit and type into r, its instrument's name at
 * *inst (offsets into rb->text, made pointers by the caller). */
static int channel_of(struct store *st, struct outbox_rebuild *rb, int64_t id,
                      size_t *used, struct store_msg_reading *r,
                      uintptr_t *inst)
{
	sqlite3_stmt *q = rb->chan;
	uintptr_t name = 0, unit = 0;
	int rc;

	sqlite3_bind_int64(q, 1, id);
	rc = sqlite3_step(q);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(q);
		if (rc == SQLITE_DONE)
			st_error(st, STORE_CORRUPT,
			         "outbox: channel %" PRId64 " not in channels",
			         id);
		else
			st_sqlite_error(st, rc, "outbox: channel");
		return -1;
	}
	const char *type = (const char *)sqlite3_column_text(q, 2);
	r->float32 = type != NULL && strncmp(type, "float32", 7) == 0 &&
	             (type[7] == '\0' || type[7] == ' ');
	rc = keep_text(st, rb, sqlite3_column_text(q, 0), used, &name) < 0 ||
	                     keep_text(st, rb, sqlite3_column_text(q, 1), used,
	                               &unit) < 0 ||
	                     keep_text(st, rb, sqlite3_column_text(q, 3), used,
	                               inst) < 0
	             ? -1
	             : 0;
	sqlite3_reset(q);
	r->channel = (const char *)name;
	r->unit = (const char *)unit;
	return rc;
}

int store_outbox_readings(struct store *st, const struct store_msg *m,
                          int64_t hi_us, const char **instrument,
                          struct store_msg_reading *out)
{
	struct outbox_rebuild *rb = rebuild_of(st);
	uintptr_t inst = 0;
	size_t used = 0;

	if (rb == NULL)
		return -1;
	if (m->ts_us < rb->lo || m->ts_us > rb->hi) {
		int64_t hi = hi_us > m->ts_us ? hi_us : m->ts_us;
		if (hi - m->ts_us > WINDOW_MAX_US)
			hi = m->ts_us + WINDOW_MAX_US;
		if (read_window(st, rb, m->ts_us, hi) < 0)
			return -1;
	}
	for (size_t k = 0; k < m->nchannels; k++) {
		const unsigned char *b = m->channels + 4 * k;
		int64_t id =
		        (int64_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 |
		                  (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
		if (channel_of(st, rb, id, &used, &out[k], &inst) < 0 ||
		    find_reading(st, rb, id, m->ts_us, &out[k]) < 0)
			return -1;
	}
	for (size_t k = 0; k < m->nchannels; k++) {
		out[k].channel = rb->text + (uintptr_t)out[k].channel;
		out[k].unit = rb->text + (uintptr_t)out[k].unit;
	}
	*instrument = rb->text + inst;
	return 0;
}
