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

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gorilla.h"
#include "pointbuf.h"
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

/* A channel's rows of readings_recent not moved yet, in arrival order,
 * encoded (pointbuf.h: a few bytes a reading). */
struct chrun {
	int64_t ch;
	struct pointbuf turn; /* those of the turn under way */
	struct pointbuf pts;  /* those after them */
	bool used;
};

/* The move in turns (archive_step()). */
struct turn {
	bool known;   /* the marks below are the file's, the runs its rows */
	int64_t upto; /* recent_moved, as this store last read or wrote */
	int64_t turn_upto, turn_channel;
	int64_t cursor;     /* the rows up to this rowid are read (or moved) */
	int64_t nread;      /* the rows in the runs' pts */
	int64_t nturn;      /* and in their turn */
	int64_t version;    /* PRAGMA data_version at the last step */
	struct chrun *runs; /* open addressing, cap a power of 2 */
	size_t nruns, cap;
	int64_t *order;      /* in a turn: the channels of its runs, in order */
	size_t norder, next; /* and the next one to move */
};

struct archive_bufs {
	struct archive_pts run, old, merged;
	size_t target;           /* archive_block_target() of the file */
	double per_point;        /* bytes a point in the last block cut */
	long budget;             /* points the turn's merges may decode */
	long step_budget;        /* and those of its step (a commit) */
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
	struct turn t;
	struct archive_pts unsorted; /* a turn's run out of time order */
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
	for (size_t i = 0; i < b->t.cap; i++) {
		pointbuf_free(&b->t.runs[i].pts);
		pointbuf_free(&b->t.runs[i].turn);
	}
	sqlite3_free(b->unsorted.p);
	free(b->t.runs);
	free(b->t.order);
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

	if (add && 4 * (b->npend + 1) > 3 * b->cap) {
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
	b->step_budget -= (long)b->old.n;
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

/* Channel ch's small blocks and b->run would make a full block. */
static bool would_fill(const struct archive_bufs *b, const struct pending *pd)
{
	double run = (double)b->run.n * b->per_point;

	return pd->bytes > 0 && (double)pd->bytes + run >= (double)b->target;
}

/* Merge channel ch's small blocks with b->run now: they would make a full
 * block, and the turn's budget allows (or the run alone fills a block:
 * then the small ones would be left behind it). */
static bool merge_now(const struct archive_bufs *b, const struct pending *pd)
{
	return would_fill(b, pd) &&
	       ((b->budget > 0 && pd->ch >= b->cursor) ||
	        (double)b->run.n * b->per_point >= (double)b->target);
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
		if (b->budget <= 0 && !b->spent) { /* the next turn: on */
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

/* ---- the move in turns ------------------------------------------------- */

/* The runs of the channels: where each channel's rows wait for its turn. */
static struct chrun *run_of(struct turn *t, int64_t ch)
{
	size_t i;

	if (4 * (t->nruns + 1) > 3 * t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 1024;
		struct chrun *r = calloc(cap, sizeof(*r));
		if (r == NULL)
			return NULL;
		for (size_t k = 0; k < t->cap; k++) {
			if (!t->runs[k].used)
				continue;
			i = slot_of(t->runs[k].ch, cap);
			while (r[i].used)
				i = (i + 1) & (cap - 1);
			r[i] = t->runs[k];
		}
		free(t->runs);
		t->runs = r;
		t->cap = cap;
	}
	i = slot_of(ch, t->cap);
	while (t->runs[i].used && t->runs[i].ch != ch)
		i = (i + 1) & (t->cap - 1);
	if (!t->runs[i].used) {
		t->runs[i] = (struct chrun){.ch = ch, .used = true};
		t->nruns++;
	}
	return &t->runs[i];
}

/* Forget the rows read: the next step reads them again from the file. */
static void turn_reset(struct turn *t)
{
	for (size_t i = 0; i < t->cap; i++) {
		pointbuf_free(&t->runs[i].pts);
		pointbuf_free(&t->runs[i].turn);
	}
	t->nread = t->nturn = 0;
	t->norder = t->next = 0;
	t->known = false;
}

/* A step failed (its transaction is rolled back): the counts of small
 * bytes may be those of blocks that are not there, the rows read and the
 * marks those of another state; count and read again. */
static void forget_all(struct archive_bufs *b)
{
	for (size_t i = 0; i < b->cap; i++)
		b->pend[i].known = false;
	b->deferring = false;
	b->ndv = b->nbytes = 0;
	turn_reset(&b->t);
}

void archive_forget(struct store *st)
{
	if (st->arc != NULL)
		forget_all(st->arc);
}

/* Read into the runs (their turn when turn) the rows not moved after
 * t->cursor up to rowid to, at most limit of them, in rowid order
 * (arrival order). */
static int read_rows(struct store *st, struct turn *t, int64_t to,
                     int64_t limit, bool turn)
{
	sqlite3_stmt *s = st->stmt[S_TURN_READ];
	int64_t got = 0;
	int rc;

	sqlite3_bind_int64(s, 1, t->cursor);
	sqlite3_bind_int64(s, 2, to);
	sqlite3_bind_int64(s, 3, t->turn_upto);
	sqlite3_bind_int64(s, 4, t->turn_channel);
	sqlite3_bind_int64(s, 5, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct chrun *r = run_of(t, sqlite3_column_int64(s, 1));
		struct gorilla_point p;
		p.ts_us = sqlite3_column_int64(s, 2);
		p.has_value = sqlite3_column_type(s, 3) != SQLITE_NULL;
		p.value = p.has_value ? sqlite3_column_double(s, 3) : 0;
		p.quality = sqlite3_column_int64(s, 4);
		if (r == NULL ||
		    pointbuf_add(turn ? &r->turn : &r->pts, &p) < 0) {
			sqlite3_reset(s);
			return corrupt(st, SQLITE_NOMEM, 0);
		}
		t->cursor = sqlite3_column_int64(s, 0);
		got++;
	}
	sqlite3_reset(s);
	*(turn ? &t->nturn : &t->nread) += got;
	if (rc != SQLITE_DONE) {
		st_sqlite_error(st, rc, "archive: read");
		return -1;
	}
	if (got < limit) /* every row up to to read */
		t->cursor = to > t->cursor ? to : t->cursor;
	return 0;
}

/* Sort the n points p by time, stably (a clock stepped back: rows come in
 * arrival order), through tmp. Returns 0, or -1 out of memory. */
static int sort_by_time(struct archive_pts *r, struct archive_pts *tmp)
{
	struct gorilla_point *src = r->p, *dst, *x;
	size_t n = r->n;

	if (archive_pts_reserve(tmp, n) < 0)
		return -1;
	dst = tmp->p;
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n;
			size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;
			while (i < mid || j < hi)
				dst[k++] = j == hi || (i < mid &&
				                       src[i].ts_us <=
				                               src[j].ts_us)
				                   ? src[i++]
				                   : src[j++];
		}
		x = src;
		src = dst;
		dst = x;
	}
	if (src != r->p)
		memcpy(r->p, src, n * sizeof(*src));
	return 0;
}

/* The next of channel ch's waiting readings from rd into *p. */
static int next_point(struct store *st, struct pointbuf_reader *rd,
                      struct gorilla_point *p, int64_t ch)
{
	if (pointbuf_next(rd, p) == 1)
		return 0;
	st_error(st, STORE_OTHER,
	         "archive: the waiting readings of channel %lld do not decode",
	         (long long)ch);
	return -1;
}

/* The turn's run of r (not in time order) decoded into b->unsorted, then
 * sorted by time, of equal times the later row kept. */
static int sort_run(struct store *st, struct chrun *r)
{
	struct archive_pts *p = &st->arc->unsorted;
	size_t n = pointbuf_count(&r->turn), k = 0;
	struct pointbuf_reader rd;

	if (archive_pts_reserve(p, n) < 0)
		return corrupt(st, SQLITE_NOMEM, r->ch);
	pointbuf_read(&r->turn, &rd);
	for (p->n = 0; p->n < n; p->n++)
		if (next_point(st, &rd, &p->p[p->n], r->ch) < 0)
			return -1;
	if (sort_by_time(p, &st->arc->merged) < 0)
		return corrupt(st, SQLITE_NOMEM, r->ch);
	for (size_t i = 0; i < p->n; i++) {
		if (k > 0 && p->p[k - 1].ts_us == p->p[i].ts_us)
			k--;
		p->p[k++] = p->p[i];
	}
	p->n = k;
	return 0;
}

/* Write the turn's run of r, in time order (of equal times the later row),
 * as channel r->ch's blocks (flush_run() by ARCHIVE_BLOCK_MAX points),
 * and free it. A run in time order (the usual) is decoded a block's
 * points at a time, straight into b->run. */
static int move_run(struct store *st, struct chrun *r)
{
	struct archive_bufs *b = st->arc;
	bool sorted = pointbuf_sorted(&r->turn);
	size_t n = pointbuf_count(&r->turn);
	struct pointbuf_reader rd;

	if (!sorted && sort_run(st, r) < 0)
		return -1;
	n = sorted ? n : b->unsorted.n;
	pointbuf_read(&r->turn, &rd);
	for (size_t at = 0; at < n; at += ARCHIVE_BLOCK_MAX) {
		size_t m =
		        n - at < ARCHIVE_BLOCK_MAX ? n - at : ARCHIVE_BLOCK_MAX;
		if (archive_pts_reserve(&b->run, m) < 0)
			return corrupt(st, SQLITE_NOMEM, r->ch);
		for (size_t k = 0; sorted && k < m; k++)
			if (next_point(st, &rd, &b->run.p[k], r->ch) < 0)
				return -1;
		if (!sorted)
			memcpy(b->run.p, b->unsorted.p + at,
			       m * sizeof(*b->run.p));
		b->run.n = m;
		if (flush_run(st, r->ch) < 0)
			return -1;
	}
	pointbuf_free(&r->turn);
	if (b->unsorted.cap > ARCHIVE_BLOCK_MAX) { /* a rare one: memory back */
		sqlite3_free(b->unsorted.p);
		b->unsorted = (struct archive_pts){0};
	}
	return 0;
}

static int by_channel(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The channels whose turn holds rows, in order, into t->order (their
 * channels, not their runs: run_of() moves the runs when it grows). */
static int order_runs(struct turn *t)
{
	size_t n = 0;

	free(t->order);
	t->order = malloc((t->nruns ? t->nruns : 1) * sizeof(*t->order));
	if (t->order == NULL)
		return -1;
	for (size_t i = 0; i < t->cap; i++)
		if (t->runs[i].used && pointbuf_count(&t->runs[i].turn) > 0)
			t->order[n++] = t->runs[i].ch;
	qsort(t->order, n, sizeof(*t->order), by_channel);
	t->norder = n;
	t->next = 0;
	return 0;
}

/* Move the next channels of the turn, a share of its rows (all of them
 * when all); their small blocks written together at the end. */
static int move_share(struct store *st, struct turn *t, bool all)
{
	struct archive_bufs *b = st->arc;
	int64_t share = st->move_rows / ARCHIVE_TURN_STEPS, done = 0;

	if (share < 1 || all)
		share = t->nturn > 1 ? t->nturn : 1;
	/* the step ends once it moved its share, or its merges decoded
	 * twice the step's share of the turn's budget (3/2 of its rows):
	 * merges go on in the next step, over contiguous channels */
	b->step_budget = all ? LONG_MAX : 3 * (long)share;
	b->deferring = true;
	while (t->next < t->norder && done < share && b->step_budget > 0) {
		struct chrun *r = run_of(t, t->order[t->next]);
		if (r == NULL)
			return corrupt(st, SQLITE_NOMEM, t->order[t->next]);
		done += (int64_t)pointbuf_count(&r->turn);
		if (move_run(st, r) < 0)
			return -1;
		t->next++;
	}
	b->deferring = false;
	return write_deferred(st);
}

/* recent_moved and readings_recent's highest and lowest rowid (0: empty)
 * into m[0..4]. */
static int turn_get(struct store *st, int64_t m[5])
{
	sqlite3_stmt *s = st->stmt[S_TURN_GET];
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		for (int k = 0; k < 5; k++)
			m[k] = sqlite3_column_int64(s, k);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW) {
		st_sqlite_error(st, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc,
		                "archive: recent_moved");
		return -1;
	}
	return 0;
}

/* Delete moved rows from the table's start: up to move_rows /
 * ARCHIVE_DROP_STEPS (all when all), never the newest row (so that rowids
 * go on: metrolog-web follows them). */
static int drop_moved(struct store *st, const struct turn *t, int64_t max,
                      int64_t min, bool all)
{
	sqlite3_stmt *s = st->stmt[S_RECENT_DROP];
	int64_t to = t->upto < max ? t->upto : max - 1;
	int64_t most = st->move_rows / ARCHIVE_DROP_STEPS;

	if (!all && most > 0 && to - min >= most)
		to = min + most - 1;
	if (min <= 0 || to < min)
		return 0;
	sqlite3_bind_int64(s, 1, to);
	return st_run(st, s, "archive: drop moved rows");
}

/* This transaction's readings as store_write() kept them (st->staged),
 * after the turn's in the runs. */
static int take_staged(struct store *st, struct turn *t)
{
	for (size_t i = 0; i < st->nstaged; i++) {
		struct chrun *r = run_of(t, st->staged[i].ch);
		if (r == NULL || pointbuf_add(&r->pts, &st->staged[i].p) < 0)
			return corrupt(st, SQLITE_NOMEM, 0);
	}
	t->nread += (int64_t)st->nstaged;
	return 0;
}

/* Bring the runs up to the newest row, max: this transaction's readings
 * as kept when they are all that is new (no reading back), else the rows
 * read (at most limit). */
static int catch_up(struct store *st, struct turn *t, int64_t max,
                    int64_t limit)
{
	if (!st->staged_lost && t->cursor == max - (int64_t)st->nstaged) {
		t->cursor = max;
		return take_staged(st, t);
	}
	return read_rows(st, t, max, limit, false);
}

/* Start a turn over the rows read: they become the runs' turn. */
static void start_turn(struct turn *t)
{
	for (size_t i = 0; i < t->cap; i++) {
		struct pointbuf x = t->runs[i].turn; /* empty */
		t->runs[i].turn = t->runs[i].pts;
		t->runs[i].pts = x;
	}
	t->turn_upto = t->cursor;
	t->nturn = t->nread;
	t->nread = 0;
	t->norder = 0;
}

/* Write the marks of t into recent_moved. */
static int turn_set(struct store *st, const struct turn *t)
{
	sqlite3_stmt *set = st->stmt[S_TURN_SET];

	sqlite3_bind_int64(set, 1, t->upto);
	sqlite3_bind_int64(set, 2, t->turn_upto);
	sqlite3_bind_int64(set, 3, t->turn_channel);
	return st_run(st, set, "archive: recent_moved");
}

/* One step (archive_step()); *max: the newest rowid. */
static int step(struct store *st, struct turn *t, bool all, int64_t *max)
{
	struct archive_bufs *b = st->arc;
	int64_t m[5], version = 0, limit = all ? INT64_MAX : st->move_rows / 8;

	if (turn_get(st, m) < 0 ||
	    st_query_int(st, st->stmt[S_DATA_VERSION], "archive", &version) < 0)
		return -1;
	*max = m[3];
	if (version != t->version) { /* another connection wrote: its rows */
		t->known = false;
		t->version = version;
	}
	if (!t->known || m[0] != t->upto || m[1] != t->turn_upto ||
	    m[2] != t->turn_channel ||
	    m[3] - (int64_t)st->nstaged < t->cursor) {
		/* first step, another writer, or rows read are gone: read
		 * the rows again (a row another one deleted is not moved) */
		turn_reset(t);
		t->upto = t->cursor = m[0];
		t->turn_upto = m[1];
		t->turn_channel = m[2];
		t->known = true;
	}
	limit = limit < 8192 ? 8192 : limit;
	if (t->cursor < t->turn_upto) { /* a turn's rows read again */
		if (read_rows(st, t, t->turn_upto, limit, true) < 0)
			return -1;
		if (t->cursor < t->turn_upto)
			return drop_moved(st, t, m[3], m[4], all);
	}
	if (catch_up(st, t, m[3], limit) < 0)
		return -1;
	if (t->turn_upto == t->upto) { /* no turn: start one? */
		if (t->nread == 0 || (!all && t->nread < st->move_rows))
			return drop_moved(st, t, m[3], m[4], all);
		start_turn(t);
	}
	if (t->norder == 0) { /* the turn's first step here */
		if (order_runs(t) < 0)
			return corrupt(st, SQLITE_NOMEM, 0);
		b->budget = 3 * (long)t->nturn / 2;
		b->spent = false;
	}
	if (move_share(st, t, all) < 0)
		return -1;
	if (t->next < t->norder) {
		t->turn_channel = t->order[t->next];
	} else { /* the turn is over */
		t->upto = t->turn_upto;
		t->turn_channel = 0;
		t->nturn = 0;
		t->norder = t->next = 0;
		if (!b->spent) /* every channel from the cursor on had its turn
		                */
			b->cursor = INT64_MIN;
	}
	if (turn_set(st, t) < 0)
		return -1;
	return drop_moved(st, t, m[3], m[4], all);
}

int archive_step(struct store *st, bool all)
{
	struct archive_bufs *b = bufs(st);
	int64_t max = 0;

	if (b == NULL)
		return -1;
	/* all: a turn under way, then one of the rest */
	for (int k = 0; k < (all ? 3 : 1); k++) {
		if (step(st, &b->t, all, &max) < 0) {
			forget_all(b);
			return -1;
		}
		if (b->t.upto >= max)
			break;
	}
	return 0;
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
