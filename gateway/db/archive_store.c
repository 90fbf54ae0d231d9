/*
 * archive_store.c - the store's side of the archive (archive.h): moving
 * readings_recent into blocks, with the rare rewrite of blocks a stepped
 * back clock overlaps, and retention over blocks. Runs inside the store's
 * write transactions, on its statements (store_int.h).
 *
 * Blocks are cut by their encoded size: as many points as make a block of
 * at most archive_block_target() bytes (a row that fills a page), or
 * ARCHIVE_BLOCK_MAX. A move brings each channel a run of readings (64 at
 * 10,000 channels); the run that does not fill a block leaves a small one
 * at the channel's end. Small blocks are merged when they would make a
 * full one: the channel's trailing small blocks (at most 4 targets' worth)
 * are decoded, deleted and written again with the run, cut by size. So a
 * reading is encoded about twice, not once a move. What the small blocks
 * of a channel weigh is kept in memory (struct pending: counted from the
 * rows at a channel's first run since the store opened, then kept); a
 * wrong count (another process wrote) costs a merge early or late, never
 * a reading, as the merge reads the blocks themselves. The merges of one
 * move decode at most about 1.5 times the readings a move takes (a budget
 * of 3/2 points a row of move_rows, overshot by one merge at most), so
 * the move's cost stays in proportion to what it moves. The budget is
 * spent on a contiguous range of channels, from where the last move's ran
 * out (a cursor; from the first channel once every one had its turn): a
 * move writes its small blocks in channel order, a few channels to a page,
 * so merging neighbours empties whole pages (SQLite frees them) instead of
 * leaving holes in every page. And a move writes its full blocks first,
 * its small ones at its end (struct deferred), so that a full block (a
 * page alone) never cuts short a page of small ones. (Merges spread over
 * all channels, small blocks written as they came: 4.55 bytes a reading at
 * 10,000 channels instead of 3.91 with no merging; with both: 3.33.)
 *
 * Threading: as store.c (the struct store's own thread).
 */
#include "archive.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gorilla.h"
#include "store_int.h"

#define MERGE_MAX_TARGETS 4 /* trailing small blocks merged at once, bytes */

/* A channel's trailing small blocks, as far as this store has seen. */
struct pending {
	int64_t ch;
	size_t bytes; /* their encoded bytes (up to MERGE_MAX_TARGETS) */
	bool known;   /* bytes counted since the store opened */
	bool used;
};

/* A small block a move writes at its end (struct archive_bufs, dv). */
struct deferred {
	int64_t ch, first, last;
	size_t n, off, len; /* its bytes: dbytes + off, len of them */
};

struct archive_bufs {
	struct archive_pts run, old, merged;
	size_t target;           /* archive_block_target() of the file */
	double per_point;        /* bytes a point in the last block cut */
	long budget;             /* points the move's merges may decode */
	int64_t cursor;          /* merges of this move from this channel */
	bool spent;              /* the budget ran out in this move */
	size_t tail_len, tail_n; /* the last block write_blocks() wrote */
	size_t nwritten;         /* and how many it wrote */
	struct pending *pend;    /* open addressing, cap a power of 2 */
	size_t npend, cap;
	uint8_t *block, *spare; /* gorilla_bound(ARCHIVE_BLOCK_MAX) each */
	bool deferring;         /* in a move: small blocks wait in dv */
	struct deferred *dv;
	size_t ndv, capdv;
	uint8_t *dbytes;
	size_t nbytes, capbytes;
};

void archive_bufs_free(struct archive_bufs *b)
{
	if (b == NULL)
		return;
	sqlite3_free(b->run.p);
	sqlite3_free(b->old.p);
	sqlite3_free(b->merged.p);
	free(b->pend);
	free(b->block);
	free(b->spare);
	free(b->dv);
	free(b->dbytes);
	free(b);
}

/* The file's page size, or -1. */
static long page_size(struct store *st)
{
	sqlite3_stmt *s;
	long page = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA page_size", -1, &s, NULL) !=
	    SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		page = (long)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return page;
}

static struct archive_bufs *bufs(struct store *st)
{
	struct archive_bufs *b = st->arc;
	long page;

	if (b != NULL)
		return b;
	if ((page = page_size(st)) < 512) {
		st_error(st, STORE_OTHER, "archive: cannot read the page size");
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (b != NULL) {
		b->block = malloc(gorilla_bound(ARCHIVE_BLOCK_MAX));
		b->spare = malloc(gorilla_bound(ARCHIVE_BLOCK_MAX));
	}
	if (b == NULL || b->block == NULL || b->spare == NULL) {
		archive_bufs_free(b);
		st_error(st, STORE_OTHER, "archive: out of memory");
		return NULL;
	}
	b->target = archive_block_target(page);
	b->per_point = 3;
	b->cursor = INT64_MIN;
	st->arc = b;
	return b;
}

/* ---- what each channel's small blocks weigh ---------------------------- */

static size_t slot_of(int64_t ch, size_t cap)
{
	return (size_t)(((uint64_t)ch * 0x9E3779B97F4A7C15ULL) >> 32) &
	       (cap - 1);
}

/* The entry of channel ch, made (bytes 0) when add; NULL when it has
 * none (!add) or out of memory. */
static struct pending *pending(struct archive_bufs *b, int64_t ch, bool add)
{
	size_t i;

	if (add && 2 * (b->npend + 1) > b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 256;
		struct pending *p = calloc(cap, sizeof(*p));
		if (p == NULL)
			return NULL;
		for (size_t k = 0; k < b->cap; k++) {
			if (!b->pend[k].used)
				continue;
			i = slot_of(b->pend[k].ch, cap);
			while (p[i].used)
				i = (i + 1) & (cap - 1);
			p[i] = b->pend[k];
		}
		free(b->pend);
		b->pend = p;
		b->cap = cap;
	}
	if (b->cap == 0)
		return NULL;
	i = slot_of(ch, b->cap);
	while (b->pend[i].used && b->pend[i].ch != ch)
		i = (i + 1) & (b->cap - 1);
	if (!b->pend[i].used) {
		if (!add)
			return NULL;
		b->pend[i] = (struct pending){.ch = ch, .used = true};
		b->npend++;
	}
	return &b->pend[i];
}

/* A block of len bytes and n points is small: not one cut by size (which
 * ends within a point of the target) nor by count. */
static bool small(const struct archive_bufs *b, size_t len, size_t n)
{
	return len + ARCHIVE_SMALL_SLACK < b->target && n < ARCHIVE_BLOCK_MAX;
}

/* ---- writing blocks ---------------------------------------------------- */

/*
 * Encode into b->block the block of the first m of the n points p, m as
 * many as fit in b->target bytes: the block of m fits, that of m + 1 does
 * not (or m is n, or ARCHIVE_BLOCK_MAX). A block's size grows with its
 * points, though not strictly (the codec chooses its parameters per
 * block), so this m is the one the search meets: guessed from the bytes a
 * point of the last block, then by the ratio of the last try, then by
 * halves. Usually 3 or 4 encodings; one when the bound of all n fits.
 * Returns m with the block's length in *len, or 0 when the codec refuses.
 */
static size_t cut(struct archive_bufs *b, const struct gorilla_point *p,
                  size_t n, size_t *len)
{
	size_t max = n < ARCHIVE_BLOCK_MAX ? n : ARCHIVE_BLOCK_MAX;
	size_t lo = 0, hi = max + 1, m, got; /* lo fits, hi does not */
	double guess = (double)b->target / b->per_point;

	m = gorilla_bound(max) <= b->target || guess >= (double)max
	            ? max
	            : (guess < 1 ? 1 : (size_t)guess);
	for (int tries = 0;; tries++) {
		if (gorilla_encode(p, m, b->spare,
		                   gorilla_bound(ARCHIVE_BLOCK_MAX), &got) < 0)
			return 0;
		if (got <= b->target) {
			uint8_t *t = b->block;
			b->block = b->spare;
			b->spare = t;
			lo = m;
			*len = got;
		} else {
			hi = m;
		}
		if (lo + 1 >= hi)
			break;
		m = tries < 4 ? (size_t)((double)m * (double)b->target /
		                         (double)got)
		              : lo + (hi - lo) / 2;
		m = m <= lo ? lo + 1 : (m >= hi ? hi - 1 : m);
	}
	if (lo > 0)
		b->per_point = (double)*len / (double)lo;
	return lo;
}

static int insert_block(struct store *st, int64_t ch, int64_t first,
                        int64_t last, size_t n, const uint8_t *data, size_t len)
{
	sqlite3_stmt *ins = st->stmt[S_ARC_INSERT];

	sqlite3_bind_int64(ins, 1, ch);
	sqlite3_bind_int64(ins, 2, first);
	sqlite3_bind_int64(ins, 3, last);
	sqlite3_bind_int64(ins, 4, (sqlite3_int64)n);
	sqlite3_bind_blob64(ins, 5, data, len, SQLITE_STATIC);
	return st_run(st, ins, "archive: write");
}

/* Keep the small block in b->block (len bytes) for the end of the move.
 * Returns 0, or -1 out of memory. */
static int defer(struct archive_bufs *b, int64_t ch, int64_t first,
                 int64_t last, size_t n, size_t len)
{
	if (b->ndv == b->capdv) {
		size_t cap = b->capdv ? 2 * b->capdv : 1024;
		struct deferred *d = realloc(b->dv, cap * sizeof(*d));
		if (d == NULL)
			return -1;
		b->dv = d;
		b->capdv = cap;
	}
	if (b->nbytes + len > b->capbytes) {
		size_t cap = b->capbytes ? 2 * b->capbytes : 65536;
		while (cap < b->nbytes + len)
			cap *= 2;
		uint8_t *d = realloc(b->dbytes, cap);
		if (d == NULL)
			return -1;
		b->dbytes = d;
		b->capbytes = cap;
	}
	memcpy(b->dbytes + b->nbytes, b->block, len);
	b->dv[b->ndv++] = (struct deferred){.ch = ch,
	                                    .first = first,
	                                    .last = last,
	                                    .n = n,
	                                    .off = b->nbytes,
	                                    .len = len};
	b->nbytes += len;
	return 0;
}

/*
 * Write the n points p (sorted, distinct times) of channel ch as blocks
 * cut by size; the last one's length and count in b->tail_len, tail_n,
 * the blocks written in b->nwritten. In a move, a last block that is
 * small waits for the move's end (archive_move()): the small blocks of a
 * move then fill pages together, and a full block (a page alone) never
 * cuts short a page of small ones.
 */
static int write_blocks(struct store *st, int64_t ch,
                        const struct gorilla_point *p, size_t n)
{
	struct archive_bufs *b = st->arc;
	size_t m, len = 0;
	int rc;

	b->nwritten = 0;
	for (size_t at = 0; at < n; at += m) {
		if ((m = cut(b, p + at, n - at, &len)) == 0) {
			st_error(st, STORE_OTHER, "archive: cannot encode");
			return -1;
		}
		if (b->deferring && at + m == n && small(b, len, m)) {
			if ((rc = defer(b, ch, p[at].ts_us, p[n - 1].ts_us, m,
			                len)) < 0)
				st_error(st, STORE_OTHER,
				         "archive: out of memory");
		} else {
			rc = insert_block(st, ch, p[at].ts_us,
			                  p[at + m - 1].ts_us, m, b->block,
			                  len);
		}
		if (rc < 0)
			return -1;
		b->tail_len = len;
		b->tail_n = m;
		b->nwritten++;
	}
	return 0;
}

/* The end of a move: write the small blocks it kept, in channel order. */
static int write_deferred(struct store *st)
{
	struct archive_bufs *b = st->arc;

	for (size_t i = 0; i < b->ndv; i++) {
		const struct deferred *d = &b->dv[i];
		if (insert_block(st, d->ch, d->first, d->last, d->n,
		                 b->dbytes + d->off, d->len) < 0)
			return -1;
	}
	b->ndv = b->nbytes = 0;
	return 0;
}

/* A run of channel ch goes on after a part of it flushed in this move
 * (a run longer than ARCHIVE_BLOCK_MAX): take back the small block that
 * part left waiting, in front of b->run. Returns 0, or -1 out of memory
 * or not decoding. */
static int take_back(struct archive_bufs *b, int64_t ch, struct pending *pd)
{
	const struct deferred *d;
	size_t k;

	if (b->ndv == 0 || b->dv[b->ndv - 1].ch != ch)
		return 0;
	d = &b->dv[b->ndv - 1];
	if (archive_pts_reserve(&b->old, d->n) < 0 ||
	    archive_pts_reserve(&b->run, b->run.n + d->n) < 0 ||
	    gorilla_decode(b->dbytes + d->off, d->len, b->old.p, d->n, &k) <
	            0 ||
	    k != d->n)
		return -1;
	memmove(b->run.p + k, b->run.p, b->run.n * sizeof(*b->run.p));
	memcpy(b->run.p, b->old.p, k * sizeof(*b->run.p));
	b->run.n += k;
	pd->bytes = pd->bytes > d->len ? pd->bytes - d->len : 0;
	b->nbytes = d->off;
	b->ndv--;
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

/* Decode every block of channel ch from the one holding the time from
 * on, delete them, and write them again merged with b->run (a clock
 * stepped back, or small blocks merged). */
static int rewrite_from(struct store *st, int64_t ch, int64_t from)
{
	struct archive_bufs *b = st->arc;
	sqlite3_stmt *s = st->stmt[S_ARC_FROM];
	int64_t first = INT64_MAX;
	int rc;

	b->old.n = 0;
	sqlite3_bind_int64(s, 1, ch);
	sqlite3_bind_int64(s, 2, from);
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
	b->budget -= (long)b->old.n;
	if (merge(b) < 0)
		return corrupt(st, SQLITE_NOMEM, ch);
	sqlite3_bind_int64(st->stmt[S_ARC_DELETE_FROM], 1, ch);
	sqlite3_bind_int64(st->stmt[S_ARC_DELETE_FROM], 2, first);
	if (st_run(st, st->stmt[S_ARC_DELETE_FROM], "archive: rewrite") < 0)
		return -1;
	return write_blocks(st, ch, b->merged.p, b->merged.n);
}

/* Step s (channel ch bound) for a block: 1 with its first column, its
 * length and count, 0 when there is none, -1 (recorded). Not reset. */
static int block_row(struct store *st, sqlite3_stmt *s, int64_t *ts,
                     size_t *len, size_t *n)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW) {
		st_sqlite_error(st, rc, "archive: read");
		return -1;
	}
	*ts = sqlite3_column_int64(s, 0);
	*len = (size_t)sqlite3_column_int64(s, 1);
	*n = (size_t)sqlite3_column_int64(s, 2);
	return 1;
}

/* The ts_first of the oldest of channel ch's trailing small blocks (at
 * most MERGE_MAX_TARGETS targets of them) in *from, their bytes in *sum:
 * 1, 0 when its newest block is not small, -1 (recorded). */
static int small_tail(struct store *st, int64_t ch, int64_t *from, size_t *sum)
{
	struct archive_bufs *b = st->arc;
	sqlite3_stmt *s = st->stmt[S_ARC_TAIL];
	size_t len, n;
	int64_t ts;
	int found = 0, rc;

	*sum = 0;
	sqlite3_bind_int64(s, 1, ch);
	while ((rc = block_row(st, s, &ts, &len, &n)) == 1 &&
	       small(b, len, n) &&
	       *sum + len <= MERGE_MAX_TARGETS * b->target) {
		*sum += len;
		*from = ts;
		found = 1;
	}
	sqlite3_reset(s);
	return rc < 0 ? -1 : found;
}

/* Merge channel ch's small blocks with b->run now: they and the run would
 * make a full block, and the move's budget allows (or the run alone fills
 * a block: then the small ones would be left behind it). */
static bool merge_now(const struct archive_bufs *b, const struct pending *pd)
{
	double run = (double)b->run.n * b->per_point;

	return pd->bytes > 0 && (double)pd->bytes + run >= (double)b->target &&
	       ((b->budget > 0 && pd->ch >= b->cursor) ||
	        run >= (double)b->target);
}

/* Write b->run, points of channel ch: appended after its last block,
 * merged with its trailing small blocks, or merged with the blocks it
 * overlaps. */
static int flush_run(struct store *st, int64_t ch)
{
	struct archive_bufs *b = st->arc;
	struct pending *pd = pending(b, ch, true);
	int64_t last = 0, from = 0;
	size_t len = 0, n = 0, before;
	int found, rc;

	if (pd == NULL || take_back(b, ch, pd) < 0)
		return corrupt(st, SQLITE_NOMEM, ch);
	sqlite3_bind_int64(st->stmt[S_ARC_LAST], 1, ch);
	found = block_row(st, st->stmt[S_ARC_LAST], &last, &len, &n);
	sqlite3_reset(st->stmt[S_ARC_LAST]);
	if (found < 0)
		return -1;
	if (!pd->known) { /* the first run since the store opened: count */
		pd->bytes = 0;
		if (found == 1 && small(b, len, n) &&
		    small_tail(st, ch, &from, &pd->bytes) < 0)
			return -1;
		pd->known = true;
	}
	before = pd->bytes;
	if (found == 1 && b->run.p[0].ts_us <= last) {
		rc = rewrite_from(st, ch, b->run.p[0].ts_us);
		before = 0;
	} else if (merge_now(b, pd) &&
	           (rc = small_tail(st, ch, &from, &len)) != 0) {
		rc = rc < 0 ? -1 : rewrite_from(st, ch, from);
		before = 0;
		if (b->budget <= 0 && !b->spent) { /* the next move: on */
			b->spent = true;
			b->cursor = ch + 1;
		}
	} else {
		rc = write_blocks(st, ch, b->run.p, b->run.n);
	}
	if (rc < 0)
		return -1;
	/* what is small at the channel's end now */
	if (!small(b, b->tail_len, b->tail_n))
		pd->bytes = 0;
	else
		pd->bytes = (b->nwritten == 1 ? before : 0) + b->tail_len;
	return 0;
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

/* A move failed (its transaction is rolled back): the counts of small
 * bytes may be those of blocks that are not there; count again. */
static void forget_all(struct archive_bufs *b)
{
	for (size_t i = 0; i < b->cap; i++)
		b->pend[i].known = false;
	b->deferring = false;
	b->ndv = b->nbytes = 0;
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
	b->budget = 3 * (long)st->move_rows / 2;
	b->spent = false;
	b->deferring = true;
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
			/* kept aside: flush_run() may put points in front */
			struct gorilla_point extra = b->run.p[--b->run.n];
			if (flush_run(st, ch) < 0)
				goto fail;
			b->run.p[0] = extra;
			b->run.n = 1;
		}
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		st_sqlite_error(st, rc, "append: move to archive");
		forget_all(b);
		return -1;
	}
	if (b->run.n > 0 && flush_run(st, ch) < 0) {
		forget_all(b);
		return -1;
	}
	b->deferring = false;
	if (write_deferred(st) < 0) {
		forget_all(b);
		return -1;
	}
	if (!b->spent) /* every channel from the cursor on had its turn */
		b->cursor = INT64_MIN;
	return st_run(st, st->stmt[S_CLEAR_RECENT], "append: move to archive");
fail:
	sqlite3_reset(s);
	forget_all(b);
	return -1;
}

int archive_prune(struct store *st, int64_t ch, int64_t cutoff, long *budget)
{
	sqlite3_stmt *s = st->stmt[S_ARC_OLDEST];
	sqlite3_stmt *del = st->stmt[S_ARC_DELETE];
	struct archive_bufs *b = bufs(st);
	struct pending *pd;

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
		if ((pd = pending(b, ch, false)) != NULL)
			pd->known = false; /* its blocks change: count again */
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
