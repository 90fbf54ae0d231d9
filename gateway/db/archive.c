/*
 * archive.c - the archive of readings in compressed blocks (archive.h):
 * the readings_archive virtual table that decodes them and the
 * archive_encode() aggregate that builds one from rows (the store's move
 * and retention are in archive_store.c). It speaks only to SQLite, so it
 * is also built as a loadable extension for the sqlite3 shell
 * (METROLOG_SQLITE_EXTENSION: SQLite's API through sqlite3ext.h).
 *
 * The virtual table is eponymous-only (no CREATE VIRTUAL TABLE: it exists
 * on every connection that registered the module, under its name) and
 * read-only. Its xBestIndex takes `channel =` and bounds on ts (=, >, >=,
 * <, <=), none of them omitted (SQLite checks them again, so an argument
 * of an odd type is only a slower scan, never a wrong row), and says rows
 * come in (channel, ts) order; a cursor reads the blocks of the range from
 * archive_blocks (ARCHIVE_BLOCKS_FROM: one seek, then the key in order)
 * and decodes one block at a time.
 *
 * Threading: a connection's own (store.h, query.h).
 */
#include "archive.h"

#ifdef METROLOG_SQLITE_EXTENSION
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1
#endif

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gorilla.h"

size_t archive_block_target(long page_size)
{
	long rows = page_size / 4096 > 1 ? page_size / 4096 : 1;
	long shared = (page_size - 8) / rows - 48, local = page_size - 70;

	return (size_t)(shared < local ? shared : local);
}

int archive_pts_reserve(struct archive_pts *b, size_t need)
{
	struct gorilla_point *p;
	size_t cap = b->cap ? b->cap : 64;

	if (need <= b->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	p = sqlite3_realloc64(b->p, cap * sizeof(*p));
	if (p == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

int archive_decode_column(sqlite3_stmt *s, int col, struct archive_pts *b)
{
	const uint8_t *data = sqlite3_column_blob(s, col);
	size_t len = (size_t)sqlite3_column_bytes(s, col), got;
	long n = data != NULL ? gorilla_count(data, len) : -1;

	if (n < 0 || n != sqlite3_column_int64(s, col - 1))
		return SQLITE_CORRUPT;
	if (archive_pts_reserve(b, b->n + (size_t)n) < 0)
		return SQLITE_NOMEM;
	if (gorilla_decode(data, len, b->p + b->n, (size_t)n, &got) < 0)
		return SQLITE_CORRUPT;
	b->n += got;
	return SQLITE_OK;
}

/* ---- the virtual table -------------------------------------------------- */

enum { COL_CHANNEL, COL_TS, COL_VALUE, COL_QUALITY };

/* idxNum bits: which arguments xFilter gets, in this order */
#define IDX_CHANNEL 1  /* channel = */
#define IDX_EQ      2  /* ts = */
#define IDX_GE      4  /* ts >= */
#define IDX_GT      8  /* ts > */
#define IDX_LE      16 /* ts <= */
#define IDX_LT      32 /* ts < */

static const char one_channel_sql[] =
        "SELECT channel, n, data FROM archive_blocks "
        "WHERE " ARCHIVE_BLOCKS_FROM(
                "?1", "?2") " AND ts_first <= ?3 ORDER BY ts_first";
static const char all_channels_sql[] =
        "SELECT channel, n, data FROM archive_blocks"
        " WHERE ts_last >= ?2 AND ts_first <= ?3 ORDER BY channel, ts_first";

struct vtab {
	sqlite3_vtab base;
	sqlite3 *db;
};

struct cursor {
	sqlite3_vtab_cursor base;
	sqlite3_stmt *one, *all, *s; /* s: the one in use */
	struct archive_pts b;        /* the block being read */
	size_t i;                    /* its point being read */
	int64_t channel;             /* the block's */
	int64_t lo, hi;              /* the ts range asked, inclusive */
	sqlite3_int64 rowid;
	bool eof;
};

static int vt_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                      sqlite3_vtab **vt, char **err)
{
	int rc;

	(void)aux;
	(void)argc;
	(void)argv;
	(void)err;
	rc = sqlite3_declare_vtab(db, "CREATE TABLE x(channel INTEGER,"
	                              " ts INTEGER, value REAL,"
	                              " quality INTEGER)");
	if (rc != SQLITE_OK)
		return rc;
	struct vtab *t = sqlite3_malloc(sizeof(*t));
	if (t == NULL)
		return SQLITE_NOMEM;
	memset(t, 0, sizeof(*t));
	t->db = db;
	*vt = &t->base;
	sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
	return SQLITE_OK;
}

static int vt_disconnect(sqlite3_vtab *vt)
{
	sqlite3_free(vt);
	return SQLITE_OK;
}

/* The bit of a usable constraint on ts, 0 for any other. */
static int ts_bit(unsigned char op)
{
	switch (op) {
	case SQLITE_INDEX_CONSTRAINT_EQ:
		return IDX_EQ;
	case SQLITE_INDEX_CONSTRAINT_GE:
		return IDX_GE;
	case SQLITE_INDEX_CONSTRAINT_GT:
		return IDX_GT;
	case SQLITE_INDEX_CONSTRAINT_LE:
		return IDX_LE;
	case SQLITE_INDEX_CONSTRAINT_LT:
		return IDX_LT;
	default:
		return 0;
	}
}

/* Rows come in (channel, ts) order: say so when that is the order asked. */
static bool order_consumed(const sqlite3_index_info *info, bool channel)
{
	const struct sqlite3_index_orderby *o = info->aOrderBy;

	for (int k = 0; k < info->nOrderBy; k++)
		if (o[k].desc)
			return false;
	if (info->nOrderBy == 1)
		return o[0].iColumn == COL_CHANNEL ||
		       (channel && o[0].iColumn == COL_TS);
	return info->nOrderBy == 2 && o[0].iColumn == COL_CHANNEL &&
	       o[1].iColumn == COL_TS;
}

static int vt_best_index(sqlite3_vtab *vt, sqlite3_index_info *info)
{
	static const int order[] = {IDX_CHANNEL, IDX_EQ, IDX_GE,
	                            IDX_GT,      IDX_LE, IDX_LT};
	static const char *const words[] = {
	        "channel=", " ts=", " ts>=", " ts>", " ts<=", " ts<"};
	int at[6], bits = 0, argv = 0;
	char plan[64] = "";

	(void)vt;
	for (int k = 0; k < info->nConstraint; k++) {
		const struct sqlite3_index_constraint *c =
		        &info->aConstraint[k];
		int bit = 0;
		if (!c->usable)
			continue;
		if (c->iColumn == COL_CHANNEL &&
		    c->op == SQLITE_INDEX_CONSTRAINT_EQ)
			bit = IDX_CHANNEL;
		else if (c->iColumn == COL_TS)
			bit = ts_bit(c->op);
		if (bit == 0 || (bits & bit))
			continue;
		/* one lower and one upper bound are enough */
		if ((bit & (IDX_GE | IDX_GT)) && (bits & (IDX_GE | IDX_GT)))
			continue;
		if ((bit & (IDX_LE | IDX_LT)) && (bits & (IDX_LE | IDX_LT)))
			continue;
		bits |= bit;
		at[__builtin_ctz((unsigned)bit)] = k;
	}
	for (int b = 0; b < 6; b++) {
		if (!(bits & order[b]))
			continue;
		info->aConstraintUsage[at[b]].argvIndex = ++argv;
		info->aConstraintUsage[at[b]].omit = 0;
		strcat(plan, words[b]);
	}
	info->idxNum = bits;
	info->idxStr = sqlite3_mprintf("%s", plan);
	info->needToFreeIdxStr = 1;
	info->orderByConsumed = order_consumed(info, bits & IDX_CHANNEL);
	bool ranged = bits & (IDX_EQ | IDX_GE | IDX_GT | IDX_LE | IDX_LT);
	if (bits & IDX_CHANNEL) {
		info->estimatedCost = ranged ? 10 : 1e4;
		info->estimatedRows = ranged ? 1000 : 100000;
	} else {
		info->estimatedCost = ranged ? 1e6 : 1e7;
		info->estimatedRows = ranged ? 1000000 : 10000000;
	}
	return SQLITE_OK;
}

static int vt_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out)
{
	struct cursor *c = sqlite3_malloc(sizeof(*c));

	(void)vt;
	if (c == NULL)
		return SQLITE_NOMEM;
	memset(c, 0, sizeof(*c));
	*out = &c->base;
	return SQLITE_OK;
}

static int vt_close(sqlite3_vtab_cursor *cur)
{
	struct cursor *c = (struct cursor *)cur;

	sqlite3_finalize(c->one);
	sqlite3_finalize(c->all);
	sqlite3_free(c->b.p);
	sqlite3_free(c);
	return SQLITE_OK;
}

/* An integer argument, exactly: 1 with *v, 0 when it is no integer (an
 * integral REAL counts). */
static int exact_int(sqlite3_value *v, int64_t *out)
{
	double d;

	switch (sqlite3_value_numeric_type(v)) {
	case SQLITE_INTEGER:
		*out = sqlite3_value_int64(v);
		return 1;
	case SQLITE_FLOAT:
		d = sqlite3_value_double(v);
		if (!(d >= -9.2e18 && d <= 9.2e18) || floor(d) != d)
			return 0;
		*out = (int64_t)d;
		return 1;
	default:
		return 0;
	}
}

/* Narrow [*lo, *hi] by the bound v of kind bit. A bound that is no
 * number leaves the range as it is (SQLite checks every row anyway); a
 * REAL one is rounded outwards. */
static void narrow(sqlite3_value *v, int bit, int64_t *lo, int64_t *hi)
{
	int type = sqlite3_value_numeric_type(v);
	double d = sqlite3_value_double(v);
	int64_t x = sqlite3_value_int64(v);
	bool empty = false;

	if (type == SQLITE_FLOAT) {
		if (!(d >= -9.2e18 && d <= 9.2e18))
			return;
		x = (int64_t)((bit & (IDX_GE | IDX_LT)) ? ceil(d) : floor(d));
		if (bit == IDX_EQ && floor(d) != d)
			empty = true;
	} else if (type != SQLITE_INTEGER) {
		return;
	}
	if (bit == IDX_GT && x == INT64_MAX)
		empty = true;
	if (bit == IDX_LT && x == INT64_MIN)
		empty = true;
	if (empty) {
		*lo = 1;
		*hi = 0;
		return;
	}
	if ((bit & (IDX_EQ | IDX_GE | IDX_GT)) &&
	    (bit == IDX_GT ? x + 1 : x) > *lo)
		*lo = bit == IDX_GT ? x + 1 : x;
	if ((bit & (IDX_EQ | IDX_LE | IDX_LT)) &&
	    (bit == IDX_LT ? x - 1 : x) < *hi)
		*hi = bit == IDX_LT ? x - 1 : x;
}

/* Go to the next point in [lo, hi], reading blocks as needed. */
static int advance(struct cursor *c)
{
	for (;;) {
		for (; c->i < c->b.n; c->i++)
			if (c->b.p[c->i].ts_us >= c->lo &&
			    c->b.p[c->i].ts_us <= c->hi)
				return SQLITE_OK;
		int rc = sqlite3_step(c->s);
		if (rc != SQLITE_ROW) {
			c->eof = true;
			return rc == SQLITE_DONE ? SQLITE_OK : rc;
		}
		c->channel = sqlite3_column_int64(c->s, 0);
		c->i = c->b.n = 0;
		if ((rc = archive_decode_column(c->s, 2, &c->b)) != SQLITE_OK) {
			sqlite3_free(c->base.pVtab->zErrMsg);
			c->base.pVtab->zErrMsg = sqlite3_mprintf(
			        "archive_blocks: a block of channel %lld does "
			        "not decode",
			        (long long)c->channel);
			return rc;
		}
	}
}

/* The statement sql of the cursor, prepared once, reset. */
static int use(struct cursor *c, sqlite3_stmt **s, const char *sql)
{
	int rc = SQLITE_OK;

	if (*s == NULL)
		rc = sqlite3_prepare_v3(((struct vtab *)c->base.pVtab)->db, sql,
		                        -1, SQLITE_PREPARE_PERSISTENT, s, NULL);
	else
		sqlite3_reset(*s);
	c->s = *s;
	return rc;
}

static int vt_filter(sqlite3_vtab_cursor *cur, int idx, const char *str,
                     int argc, sqlite3_value **argv)
{
	static const int order[] = {IDX_EQ, IDX_GE, IDX_GT, IDX_LE, IDX_LT};
	struct cursor *c = (struct cursor *)cur;
	int64_t channel = 0;
	int a = 0, rc;
	bool one = false;

	(void)str;
	c->lo = INT64_MIN;
	c->hi = INT64_MAX;
	c->b.n = c->i = 0;
	c->eof = false;
	if ((idx & IDX_CHANNEL) && a < argc)
		one = exact_int(argv[a++], &channel);
	for (int b = 0; b < 5; b++)
		if ((idx & order[b]) && a < argc)
			narrow(argv[a++], order[b], &c->lo, &c->hi);
	if ((idx & IDX_CHANNEL) && !one) { /* no integer equals it */
		c->lo = 1;
		c->hi = 0;
	}
	rc = one ? use(c, &c->one, one_channel_sql)
	         : use(c, &c->all, all_channels_sql);
	if (rc != SQLITE_OK)
		return rc;
	if (c->lo > c->hi) {
		c->eof = true;
		return SQLITE_OK;
	}
	sqlite3_bind_int64(c->s, 1, channel);
	sqlite3_bind_int64(c->s, 2, c->lo);
	sqlite3_bind_int64(c->s, 3, c->hi);
	return advance(c);
}

static int vt_next(sqlite3_vtab_cursor *cur)
{
	struct cursor *c = (struct cursor *)cur;

	c->i++;
	c->rowid++;
	return advance(c);
}

static int vt_eof(sqlite3_vtab_cursor *cur)
{
	return ((struct cursor *)cur)->eof;
}

static int vt_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
	struct cursor *c = (struct cursor *)cur;
	const struct gorilla_point *p = &c->b.p[c->i];

	switch (col) {
	case COL_CHANNEL:
		sqlite3_result_int64(ctx, c->channel);
		break;
	case COL_TS:
		sqlite3_result_int64(ctx, p->ts_us);
		break;
	case COL_VALUE:
		if (p->has_value) /* a NaN, never stored by SQLite, is NULL */
			sqlite3_result_double(ctx, p->value);
		else
			sqlite3_result_null(ctx);
		break;
	default:
		sqlite3_result_int64(ctx, p->quality);
	}
	return SQLITE_OK;
}

static int vt_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
	*rowid = ((struct cursor *)cur)->rowid;
	return SQLITE_OK;
}

static const sqlite3_module module = {
        .iVersion = 0,
        .xCreate = NULL, /* eponymous-only */
        .xConnect = vt_connect,
        .xBestIndex = vt_best_index,
        .xDisconnect = vt_disconnect,
        .xDestroy = vt_disconnect,
        .xOpen = vt_open,
        .xClose = vt_close,
        .xFilter = vt_filter,
        .xNext = vt_next,
        .xEof = vt_eof,
        .xColumn = vt_column,
        .xRowid = vt_rowid,
};

/* ---- archive_encode(ts, value, quality) --------------------------------- */

static void encode_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct archive_pts *b = sqlite3_aggregate_context(ctx, sizeof(*b));
	struct gorilla_point *p;

	(void)argc;
	if (b == NULL || archive_pts_reserve(b, b->n + 1) < 0) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	p = &b->p[b->n++];
	p->ts_us = sqlite3_value_int64(argv[0]);
	p->has_value = sqlite3_value_type(argv[1]) != SQLITE_NULL;
	p->value = p->has_value ? sqlite3_value_double(argv[1]) : 0;
	p->quality = sqlite3_value_int64(argv[2]);
}

static int by_ts(const void *a, const void *b)
{
	int64_t x = ((const struct gorilla_point *)a)->ts_us;
	int64_t y = ((const struct gorilla_point *)b)->ts_us;

	return (x > y) - (x < y);
}

static void encode_final(sqlite3_context *ctx)
{
	struct archive_pts *b = sqlite3_aggregate_context(ctx, 0);
	uint8_t *out = NULL;
	size_t len;

	if (b == NULL || b->n == 0) {
		sqlite3_result_null(ctx);
	} else if (b->n > GORILLA_MAX_POINTS) {
		sqlite3_result_error(ctx, "archive_encode: too many readings",
		                     -1);
	} else if ((out = sqlite3_malloc64(gorilla_bound(b->n))) == NULL) {
		sqlite3_result_error_nomem(ctx);
	} else {
		qsort(b->p, b->n, sizeof(*b->p), by_ts);
		if (gorilla_encode(b->p, b->n, out, gorilla_bound(b->n), &len) <
		    0) {
			sqlite3_free(out);
			sqlite3_result_error(ctx, "archive_encode: failed", -1);
		} else {
			sqlite3_result_blob64(ctx, out, len, sqlite3_free);
		}
	}
	if (b != NULL)
		sqlite3_free(b->p);
}

static int init(sqlite3 *db, char **err, const sqlite3_api_routines *api)
{
	int rc;

	(void)err;
	(void)api;
	rc = sqlite3_create_module(db, "readings_archive", &module, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(
		        db, "archive_encode", 3,
		        SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
		        NULL, NULL, encode_step, encode_final);
	return rc;
}

#ifdef METROLOG_SQLITE_EXTENSION
/* The entry point of the loadable extension (`.load .../metrolog_archive`
 * in the sqlite3 shell: docs/SCHEMA.md). */
int sqlite3_metrologarchive_init(sqlite3 *db, char **err,
                                 const sqlite3_api_routines *api);
int sqlite3_metrologarchive_init(sqlite3 *db, char **err,
                                 const sqlite3_api_routines *api)
{
	SQLITE_EXTENSION_INIT2(api);
	return init(db, err, api);
}
#else
int archive_auto(void)
{
	return sqlite3_auto_extension((void (*)(void))init) == SQLITE_OK ? 0
	                                                                 : -1;
}
#endif
