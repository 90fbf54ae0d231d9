/*
 * archive_store.c - the store's side of the archive (archive.h): the
 * parts of readings_recent (which rowid a reading gets), moving one part's
 * oldest rows at a time into blocks, with the rare rewrite of blocks a
 * stepped back clock overlaps, and retention over blocks. Runs inside the
 * store's write transactions, on its statements (store_int.h).
 *
 * A move reads its part in rowid order (a range of the table's own
 * B-tree: no sort in SQLite, no scan of the other parts), sorts those rows
 * by (channel, ts, rowid) in memory, writes each channel's run as blocks
 * and deletes the range. The parts' extent (first and next rowid of each)
 * is kept in memory and read again from the file when another connection
 * committed (PRAGMA data_version) or after a rollback.
 *
 * Threading: as store.c (the struct store's own thread).
 */
#include "archive.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gorilla.h"
#include "store_int.h"
#include "text.h"

/* A row of readings_recent being moved. */
struct recent_row {
	int64_t ch, rowid;
	struct gorilla_point p;
};

struct archive_bufs {
	/* part p holds rowids first[p] .. next[p] - 1 (some deleted by
	 * retention, perhaps); valid when loaded */
	int64_t first[ARCHIVE_PARTS + 1], next[ARCHIVE_PARTS + 1];
	int64_t data_version; /* PRAGMA data_version when loaded */
	bool loaded;
	int turn; /* the part the next move looks at first */
	struct recent_row *rows;
	size_t nrows, rows_cap;
	struct archive_pts run, old, merged;
	uint8_t block[];
};

void archive_bufs_free(struct archive_bufs *b)
{
	if (b == NULL)
		return;
	sqlite3_free(b->run.p);
	sqlite3_free(b->old.p);
	sqlite3_free(b->merged.p);
	free(b->rows);
	free(b);
}

static struct archive_bufs *bufs(struct store *st)
{
	if (st->arc == NULL)
		st->arc = calloc(1, sizeof(*st->arc) +
		                            gorilla_bound(ARCHIVE_BLOCK_MAX));
	if (st->arc == NULL)
		st_error(st, STORE_OTHER, "archive: out of memory");
	return st->arc;
}

/* Write the n points p (sorted, distinct times) of channel ch as blocks
 * of at most ARCHIVE_BLOCK_MAX. */
static int write_blocks(struct store *st, int64_t ch,
                        const struct gorilla_point *p, size_t n)
{
	sqlite3_stmt *ins = st->stmt[S_ARC_INSERT];
	size_t m, len;

	for (size_t at = 0; at < n; at += m) {
		m = n - at < ARCHIVE_BLOCK_MAX ? n - at : ARCHIVE_BLOCK_MAX;
		if (gorilla_encode(p + at, m, st->arc->block,
		                   gorilla_bound(ARCHIVE_BLOCK_MAX),
		                   &len) < 0) {
			st_error(st, STORE_OTHER, "archive: cannot encode");
			return -1;
		}
		sqlite3_bind_int64(ins, 1, ch);
		sqlite3_bind_int64(ins, 2, p[at].ts_us);
		sqlite3_bind_int64(ins, 3, p[at + m - 1].ts_us);
		sqlite3_bind_int64(ins, 4, (sqlite3_int64)m);
		sqlite3_bind_blob64(ins, 5, st->arc->block, len, SQLITE_STATIC);
		if (st_run(st, ins, "archive: write") < 0)
			return -1;
	}
	return 0;
}

static int corrupt(struct store *st, int rc, int64_t ch)
{
	if (rc == SQLITE_NOMEM)
		st_error(st, STORE_OTHER, "archive: out of memory");
	else
		st_error(st, STORE_CORRUPT,
		         "archive: a block of channel %lld does not decode",
		         (long long)ch);
	return -1;
}

/* Merge b->old (sorted) and b->run (sorted) into b->merged, the run's
 * point winning over an old one at the same time. */
static int merge(struct archive_bufs *b)
{
	size_t i = 0, j = 0;

	b->merged.n = 0;
	if (archive_pts_reserve(&b->merged, b->old.n + b->run.n) < 0)
		return -1;
	while (i < b->old.n || j < b->run.n) {
		const struct gorilla_point *o = &b->old.p[i], *r = &b->run.p[j];
		if (j == b->run.n || (i < b->old.n && o->ts_us < r->ts_us)) {
			b->merged.p[b->merged.n++] = *o;
			i++;
			continue;
		}
		if (i < b->old.n && o->ts_us == r->ts_us)
			i++; /* replaced */
		b->merged.p[b->merged.n++] = *r;
		j++;
	}
	return 0;
}

/* The run of channel ch overlaps its archived blocks (a clock stepped
 * back): decode every block from the one holding the run's first time
 * on, delete them, and write them again merged with the run. */
static int rewrite_overlap(struct store *st, int64_t ch)
{
	struct archive_bufs *b = st->arc;
	sqlite3_stmt *s = st->stmt[S_ARC_FROM];
	int64_t first = INT64_MAX;
	int rc;

	b->old.n = 0;
	sqlite3_bind_int64(s, 1, ch);
	sqlite3_bind_int64(s, 2, b->run.p[0].ts_us);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (first == INT64_MAX)
			first = sqlite3_column_int64(s, 0);
		if ((rc = archive_decode_column(s, 2, &b->old)) != SQLITE_OK) {
			sqlite3_reset(s);
			return corrupt(st, rc, ch);
		}
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		st_sqlite_error(st, rc, "archive: read");
		return -1;
	}
	if (merge(b) < 0)
		return corrupt(st, SQLITE_NOMEM, ch);
	sqlite3_bind_int64(st->stmt[S_ARC_DELETE_FROM], 1, ch);
	sqlite3_bind_int64(st->stmt[S_ARC_DELETE_FROM], 2, first);
	if (st_run(st, st->stmt[S_ARC_DELETE_FROM], "archive: rewrite") < 0)
		return -1;
	return write_blocks(st, ch, b->merged.p, b->merged.n);
}

/* Write b->run, points of channel ch: appended after its last block, or
 * merged with the blocks it overlaps. */
static int flush_run(struct store *st, int64_t ch)
{
	struct archive_bufs *b = st->arc;
	int64_t last = 0;
	int found;

	sqlite3_bind_int64(st->stmt[S_ARC_LAST], 1, ch);
	found = st_query_int(st, st->stmt[S_ARC_LAST], "archive: last", &last);
	if (found < 0)
		return -1;
	if (found == 1 && b->run.p[0].ts_us <= last)
		return rewrite_overlap(st, ch);
	return write_blocks(st, ch, b->run.p, b->run.n);
}

/* ---- the parts of readings_recent ---------------------------------------- */

/* The first and last rowid of part p, and where its rowids start. */
static int64_t part_lo(int p)
{
	return p == 0 ? INT64_MIN : (int64_t)p << ARCHIVE_PART_SHIFT;
}

static int64_t part_hi(int p)
{
	return p == ARCHIVE_PARTS ? INT64_MAX : part_lo(p + 1) - 1;
}

static int64_t part_start(int p)
{
	return p == 0 ? 0 : part_lo(p);
}

/* The first (S_RECENT_FIRST) or last (S_RECENT_LAST) rowid of part p:
 * 1 with *v, 0 none, -1 error. */
static int part_end(struct store *st, int stmt, int p, int64_t *v)
{
	sqlite3_bind_int64(st->stmt[stmt], 1, part_lo(p));
	sqlite3_bind_int64(st->stmt[stmt], 2, part_hi(p));
	return st_query_int(st, st->stmt[stmt], "readings_recent: parts", v);
}

static int load(struct store *st, struct archive_bufs *b)
{
	for (int p = 0; p <= ARCHIVE_PARTS; p++) {
		int64_t first = 0, last = 0;
		int found = part_end(st, S_RECENT_FIRST, p, &first);
		if (found == 1)
			found = part_end(st, S_RECENT_LAST, p, &last);
		if (found < 0)
			return -1;
		if (found == 1 && last == INT64_MAX) {
			st_error(st, STORE_OTHER,
			         "readings_recent: a rowid at its maximum");
			return -1;
		}
		b->first[p] = found == 1 ? first : part_start(p);
		b->next[p] = found == 1 ? last + 1 : part_start(p);
	}
	b->loaded = true;
	return 0;
}

int archive_recent_begin(struct store *st)
{
	struct archive_bufs *b = bufs(st);
	int64_t version = 0;

	if (b == NULL || st_query_int(st, st->stmt[S_DATA_VERSION],
	                              "readings_recent: parts", &version) < 0)
		return -1;
	if (b->loaded && version == b->data_version)
		return 0;
	b->data_version = version;
	return load(st, b);
}

void archive_recent_forget(struct store *st)
{
	if (st->arc != NULL)
		st->arc->loaded = false;
}

/* Parts in use: one per ARCHIVE_PART_MIN_CHANNELS channels, 1 to
 * ARCHIVE_PARTS. */
static int64_t parts_in_use(const struct store *st)
{
	int64_t n = st->nchannels / ARCHIVE_PART_MIN_CHANNELS;

	return n < 1 ? 1 : n > ARCHIVE_PARTS ? ARCHIVE_PARTS : n;
}

int64_t archive_recent_rowid(struct store *st, uint32_t i)
{
	int p = 1 + (int)((int64_t)i * parts_in_use(st) / st->nchannels);

	assert(st->arc != NULL && st->arc->loaded && i < st->nchannels);
	return st->arc->next[p]++;
}

int64_t archive_move_limit(const struct store *st)
{
	return 4 * st->move_rows / parts_in_use(st);
}

/* ---- the move ----------------------------------------------------------- */

static int by_channel_time(const void *x, const void *y)
{
	const struct recent_row *a = x, *b = y;

	if (a->ch != b->ch)
		return a->ch < b->ch ? -1 : 1;
	if (a->p.ts_us != b->p.ts_us)
		return a->p.ts_us < b->p.ts_us ? -1 : 1;
	return (a->rowid > b->rowid) - (a->rowid < b->rowid);
}

/* The oldest rows of part p, at most limit, into b->rows in rowid order. */
static int read_part(struct store *st, struct archive_bufs *b, int p,
                     int64_t limit)
{
	sqlite3_stmt *s = st->stmt[S_MOVE_READ];
	int rc;

	b->nrows = 0;
	sqlite3_bind_int64(s, 1, part_lo(p));
	sqlite3_bind_int64(s, 2, part_hi(p));
	sqlite3_bind_int64(s, 3, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct recent_row *r;
		if (text_reserve((void **)&b->rows, &b->rows_cap, b->nrows + 1,
		                 sizeof(*b->rows)) < 0) {
			sqlite3_reset(s);
			return corrupt(st, SQLITE_NOMEM, 0);
		}
		r = &b->rows[b->nrows++];
		r->rowid = sqlite3_column_int64(s, 0);
		r->ch = sqlite3_column_int64(s, 1);
		r->p.ts_us = sqlite3_column_int64(s, 2);
		r->p.has_value = sqlite3_column_type(s, 3) != SQLITE_NULL;
		r->p.value = r->p.has_value ? sqlite3_column_double(s, 3) : 0;
		r->p.quality = sqlite3_column_int64(s, 4);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		st_sqlite_error(st, rc, "append: move to archive");
		return -1;
	}
	return 0;
}

/* b->rows, sorted: each channel's run (of a time written twice, the row
 * written last) into blocks. */
static int write_runs(struct store *st, struct archive_bufs *b)
{
	for (size_t i = 0; i < b->nrows;) {
		int64_t ch = b->rows[i].ch;
		b->run.n = 0;
		for (; i < b->nrows && b->rows[i].ch == ch; i++) {
			const struct gorilla_point *p = &b->rows[i].p;
			if (b->run.n > 0 &&
			    b->run.p[b->run.n - 1].ts_us == p->ts_us)
				b->run.n--; /* replaced */
			if (archive_pts_reserve(&b->run, b->run.n + 1) < 0)
				return corrupt(st, SQLITE_NOMEM, ch);
			b->run.p[b->run.n++] = *p;
		}
		if (flush_run(st, ch) < 0)
			return -1;
	}
	return 0;
}

/* Move the oldest rows of part p, at most archive_move_limit(). */
static int move_part(struct store *st, struct archive_bufs *b, int p)
{
	sqlite3_stmt *del = st->stmt[S_MOVE_DELETE];
	int64_t limit = archive_move_limit(st), last;

	if (read_part(st, b, p, limit) < 0)
		return -1;
	if (b->nrows == 0) {
		b->first[p] = b->next[p] = part_start(p);
		return 0;
	}
	last = b->rows[b->nrows - 1].rowid;
	qsort(b->rows, b->nrows, sizeof(*b->rows), by_channel_time);
	if (write_runs(st, b) < 0)
		return -1;
	sqlite3_bind_int64(del, 1, part_lo(p));
	sqlite3_bind_int64(del, 2, last);
	if (st_run(st, del, "append: move to archive") < 0)
		return -1;
	if ((int64_t)b->nrows < limit) /* the part is empty: start again */
		b->first[p] = b->next[p] = part_start(p);
	else
		b->first[p] = last + 1;
	return 0;
}

int archive_move(struct store *st)
{
	struct archive_bufs *b = bufs(st);
	int64_t rows = 0;
	int p = 0;

	if (b == NULL || (!b->loaded && load(st, b) < 0))
		return -1;
	for (p = 0; p <= ARCHIVE_PARTS; p++)
		rows += b->next[p] - b->first[p];
	if (rows < st->move_rows)
		return 0;
	for (int k = 0; k <= ARCHIVE_PARTS; k++) {
		p = (b->turn + k) % (ARCHIVE_PARTS + 1);
		if (b->next[p] > b->first[p])
			break;
	}
	b->turn = (p + 1) % (ARCHIVE_PARTS + 1);
	return move_part(st, b, p);
}

int archive_prune(struct store *st, int64_t ch, int64_t cutoff, long *budget)
{
	sqlite3_stmt *s = st->stmt[S_ARC_OLDEST];
	sqlite3_stmt *del = st->stmt[S_ARC_DELETE];
	struct archive_bufs *b = bufs(st);

	if (b == NULL)
		return -1;
	while (*budget > 0) {
		int64_t first;
		size_t k = 0;
		int rc;

		/* the oldest block: gone whole, or cut at the cutoff or
		 * where the budget ends (its rest written again) */
		sqlite3_bind_int64(s, 1, ch);
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW) {
			sqlite3_reset(s);
			if (rc == SQLITE_DONE)
				return 0;
			st_sqlite_error(st, rc, "retention");
			return -1;
		}
		first = sqlite3_column_int64(s, 0);
		b->old.n = 0;
		rc = first < cutoff ? archive_decode_column(s, 2, &b->old)
		                    : SQLITE_OK;
		sqlite3_reset(s);
		if (rc != SQLITE_OK)
			return corrupt(st, rc, ch);
		if (first >= cutoff)
			return 0;
		while (k < b->old.n && k < (size_t)*budget &&
		       b->old.p[k].ts_us < cutoff)
			k++;
		sqlite3_bind_int64(del, 1, ch);
		sqlite3_bind_int64(del, 2, first);
		if (st_run(st, del, "retention") < 0 ||
		    write_blocks(st, ch, b->old.p + k, b->old.n - k) < 0)
			return -1;
		*budget -= (long)k;
		if (k < b->old.n)
			return 0;
	}
	return 0;
}
