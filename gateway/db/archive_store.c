/*
 * archive_store.c - the store's side of the archive (archive.h): moving
 * readings_recent into blocks, with the rare rewrite of blocks a stepped
 * back clock overlaps, and retention over blocks. Runs inside the store's
 * write transactions, on its statements (store_int.h).
 *
 * Threading: as store.c (the struct store's own thread).
 */
#include "archive.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gorilla.h"
#include "store_int.h"

struct archive_bufs {
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

/* Append the row of s (channel, ts, value, quality) to b->run; a row at
 * the time of the run's last replaces it. */
static int add_row(struct archive_bufs *b, sqlite3_stmt *s)
{
	int64_t ts = sqlite3_column_int64(s, 1);
	struct gorilla_point *p;

	if (b->run.n > 0 && b->run.p[b->run.n - 1].ts_us == ts)
		b->run.n--;
	if (archive_pts_reserve(&b->run, b->run.n + 1) < 0)
		return -1;
	p = &b->run.p[b->run.n++];
	p->ts_us = ts;
	p->has_value = sqlite3_column_type(s, 2) != SQLITE_NULL;
	p->value = p->has_value ? sqlite3_column_double(s, 2) : 0;
	p->quality = sqlite3_column_int64(s, 3);
	return 0;
}

int archive_move(struct store *st)
{
	sqlite3_stmt *s = st->stmt[S_MOVE_READ];
	struct archive_bufs *b = bufs(st);
	int64_t ch = 0;
	int rc;

	if (b == NULL)
		return -1;
	b->run.n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t next = sqlite3_column_int64(s, 0);
		if (b->run.n > 0 && next != ch) {
			if (flush_run(st, ch) < 0)
				goto fail;
			b->run.n = 0;
		}
		ch = next;
		if (add_row(b, s) < 0) {
			corrupt(st, SQLITE_NOMEM, ch);
			goto fail;
		}
		/* a full block, and one more point: the next row may
		 * replace that one */
		if (b->run.n == ARCHIVE_BLOCK_MAX + 1) {
			b->run.n--;
			if (flush_run(st, ch) < 0)
				goto fail;
			b->run.p[0] = b->run.p[ARCHIVE_BLOCK_MAX];
			b->run.n = 1;
		}
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		st_sqlite_error(st, rc, "append: move to archive");
		return -1;
	}
	if (b->run.n > 0 && flush_run(st, ch) < 0)
		return -1;
	return st_run(st, st->stmt[S_CLEAR_RECENT], "append: move to archive");
fail:
	sqlite3_reset(s);
	return -1;
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
