/*
 * query.c - the read-only connection, and the instruments, channels,
 * readings and events the metrolog tool lists. See query.h.
 *
 * Calibration records are read in query_cal.c. Both speak to the schema of
 * docs/SCHEMA.md, which schema.c creates and migrates (schema.h: the
 * application id, the version, and the rule of the calibration in force).
 */
#include "query.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive.h"
#include "db_reason.h"
#include "drift.h"
#include "query_int.h"
#include "schema.h"

#define QUERY_BUSY_MS 5000

int query_fail(struct query *q, int rc, const char *what)
{
	const char *msg = q->db != NULL && sqlite3_errcode(q->db) != SQLITE_OK
	                          ? sqlite3_errmsg(q->db)
	                          : sqlite3_errstr(rc);

	snprintf(q->error, sizeof(q->error), "%s: %s: %s", q->path, what, msg);
	db_reason(q->db, rc, q->path, false, q->error, sizeof(q->error));
	return -1;
}

sqlite3_stmt *query_prepare(struct query *q, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(q->db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK) {
		query_fail(q, rc, "query");
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

int query_decision(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	for (int d = 0; t != NULL && d < DRIFT_DECISIONS; d++)
		if (strcmp((const char *)t,
		           drift_decision_name((enum drift_decision)d)) == 0)
			return d;
	return -1;
}

void query_text(sqlite3_stmt *s, int i, char *buf, size_t size)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	snprintf(buf, size, "%s", t != NULL ? (const char *)t : "");
}

double query_maybe_double(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL
	               ? NAN
	               : sqlite3_column_double(s, i);
}

static int pragma(struct query *q, const char *sql, int64_t *v)
{
	sqlite3_stmt *s = query_prepare(q, sql);
	int rc;

	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : query_fail(q, rc, "reading the header");
}

struct query *query_open(const char *path, char *err, size_t errlen)
{
	struct query *q = calloc(1, sizeof(*q));
	int64_t app = 0, version = 0;
	int rc;

	if (q == NULL || (q->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		free(q);
		return NULL;
	}
	/* A mistyped path is no empty database: say so plainly (a read-only
	 * open creates nothing either way). */
	struct stat st;
	if (stat(path, &st) != 0 && errno == ENOENT) {
		snprintf(
		        q->error, sizeof(q->error),
		        "%s: no such database (metrologd creates it; check -d)",
		        path);
		goto fail;
	}
	if (archive_auto() < 0) {
		snprintf(q->error, sizeof(q->error),
		         "%s: cannot register the archive", path);
		goto fail;
	}
	rc = sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		query_fail(q, rc, "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(q->db, QUERY_BUSY_MS);
	if (sqlite3_exec(q->db, "PRAGMA query_only = 1", NULL, NULL, NULL) !=
	            SQLITE_OK ||
	    pragma(q, "PRAGMA application_id", &app) < 0 ||
	    pragma(q, "PRAGMA user_version", &version) < 0) {
		if (q->error[0] == '\0')
			query_fail(q, SQLITE_ERROR, "cannot read");
		goto fail;
	}
	if (app != SCHEMA_APPLICATION_ID) {
		snprintf(q->error, sizeof(q->error),
		         "%s: not a metrolog database", path);
		goto fail;
	}
	if (version != schema_version()) {
		snprintf(q->error, sizeof(q->error),
		         "%s: schema version %" PRId64
		         ", this program reads %d "
		         "(%s)",
		         path, version, schema_version(),
		         version < schema_version()
		                 ? "start metrologd once to migrate it"
		                 : "use a newer metrolog");
		goto fail;
	}
	return q;
fail:
	snprintf(err, errlen, "%s", q->error);
	query_close(q);
	return NULL;
}

void query_close(struct query *q)
{
	if (q == NULL)
		return;
	sqlite3_close(q->db);
	free(q->path);
	free(q);
}

const char *query_error(const struct query *q)
{
	return q->error;
}

/* ---- instruments and channels ------------------------------------------ */

/*
 * The newest reading of each channel. readings_recent has no index, so a
 * per-channel query of the readings view would scan it once per channel:
 * the CTE scans it once per statement instead (MATERIALIZED; value and
 * quality are those of the row holding max(ts), as SQLite defines bare
 * columns beside a lone max()). The archive's newest time of a channel is
 * one seek in archive_blocks' primary key (ARCHIVE_LAST_TS), its row one
 * block decoded. A reading is in exactly one of the two
 * tables, so the newer of the two is the channel's newest reading.
 */
#define RECENT_CTE                                                             \
	"WITH recent AS MATERIALIZED (SELECT channel, max(ts) AS ts, value,"   \
	" quality FROM readings_recent"                                        \
	" WHERE " SCHEMA_RECENT_LIVE("rowid", "channel") " GROUP BY channel) "
#define ARCHIVE_LAST(ch) ARCHIVE_LAST_TS(ch)

/* The calibration in force at ?3 of instruments row i (schema.h). */
#define IN_FORCE_AT_3  SCHEMA_CAL_IN_FORCE("i.id", "?3")
#define CHANNEL_LAST_C ARCHIVE_LAST("c.id")

/* The columns of an instrument up to its link event (read_instrument),
 * and what follows the last reading's column: the tables and the rules
 * (calibration in force, last link event) its listing shares with the
 * board's (query_board_instruments). */
#define INSTRUMENT_COLS                                                        \
	"SELECT i.id, i.name, i.kind, i.model, i.serial, i.owner,"             \
	" i.location, i.active, i.interval_days, i.due_soon_days,"             \
	" f.id, f.certificate, f.performed, f.due, f.result_left,"             \
	" l.kind, l.ts,"
#define INSTRUMENT_FROM                                                        \
	" FROM instruments i"                                                  \
	" LEFT JOIN calibrations f ON f.id = " IN_FORCE_AT_3                   \
	" LEFT JOIN events l ON l.id = (SELECT e.id FROM events e"             \
	"  WHERE e.instrument_id = i.id AND e.kind IN ('online', 'offline', "  \
	"'failing')"                                                           \
	"  ORDER BY e.ts DESC, e.id DESC LIMIT 1)"                             \
	" WHERE (?1 IS NULL OR i.owner = ?1) AND (?2 IS NULL OR i.name = ?2)"  \
	" ORDER BY i.name"

static const char instruments_sql[] = RECENT_CTE INSTRUMENT_COLS
        " (SELECT max(max(coalesce(r.ts, 0), coalesce(" CHANNEL_LAST_C
        ", 0))) FROM channels c LEFT JOIN recent r ON r.channel = c.id"
        "  WHERE c.instrument_id = i.id),"
        " EXISTS (SELECT 1 FROM channels u JOIN channels rc"
        "  ON rc.id = u.reference_channel"
        "  WHERE u.active = 1 AND rc.instrument_id = i.id)"
        " OR EXISTS (SELECT 1 FROM calibrations s WHERE s.standard_id = "
        "i.id)" INSTRUMENT_FROM;

/* The board's: no reading, no reference use (0 both). */
static const char board_instruments_sql[] =
        INSTRUMENT_COLS " 0, 0" INSTRUMENT_FROM;

static void read_instrument(sqlite3_stmt *s, int64_t now_us,
                            struct query_instrument *in)
{
	memset(in, 0, sizeof(*in));
	in->id = sqlite3_column_int64(s, 0);
	query_text(s, 1, in->name, sizeof(in->name));
	query_text(s, 2, in->kind, sizeof(in->kind));
	query_text(s, 3, in->model, sizeof(in->model));
	query_text(s, 4, in->serial, sizeof(in->serial));
	query_text(s, 5, in->owner, sizeof(in->owner));
	query_text(s, 6, in->location, sizeof(in->location));
	in->active = sqlite3_column_int(s, 7) != 0;
	in->interval_days = sqlite3_column_int(s, 8);
	in->due_soon_days = sqlite3_column_int(s, 9);
	in->cal_id = sqlite3_column_int64(s, 10);
	query_text(s, 11, in->certificate, sizeof(in->certificate));
	in->cal_us = sqlite3_column_int64(s, 12);
	in->due_us = sqlite3_column_int64(s, 13);
	in->cal_result = query_decision(s, 14);
	in->due = calib_due_state(in->due_us, in->due_soon_days, now_us);
	query_text(s, 15, in->link, sizeof(in->link));
	in->link_us = sqlite3_column_int64(s, 16);
	in->last_reading_us = sqlite3_column_int64(s, 17);
	in->used_as_reference = sqlite3_column_int(s, 18) != 0;
}

static int list_instruments(struct query *q, const char *sql, const char *owner,
                            const char *name, int64_t now_us,
                            int (*fn)(void *, const struct query_instrument *),
                            void *ctx)
{
	sqlite3_stmt *s = query_prepare(q, sql);
	struct query_instrument in;
	int rc, ret = 0;

	if (s == NULL)
		return -1;
	if (owner != NULL)
		sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
	if (name != NULL)
		sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now_us);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_instrument(s, now_us, &in);
		if ((ret = fn(ctx, &in)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = query_fail(q, rc, "instruments");
	sqlite3_finalize(s);
	return ret;
}

int query_instruments(struct query *q, const char *owner, int64_t now_us,
                      int (*fn)(void *ctx, const struct query_instrument *),
                      void *ctx)
{
	return list_instruments(q, instruments_sql, owner, NULL, now_us, fn,
	                        ctx);
}

int query_board_instruments(struct query *q, int64_t now_us,
                            int (*fn)(void *ctx,
                                      const struct query_instrument *),
                            void *ctx)
{
	return list_instruments(q, board_instruments_sql, NULL, NULL, now_us,
	                        fn, ctx);
}

static int copy_instrument(void *ctx, const struct query_instrument *in)
{
	memcpy(ctx, in, sizeof(*in));
	return 1;
}

int query_instrument(struct query *q, const char *name, int64_t now_us,
                     struct query_instrument *out)
{
	int ret = list_instruments(q, instruments_sql, NULL, name, now_us,
	                           copy_instrument, out);

	return ret < 0 ? -1 : ret == 1 ? 0 : 1;
}

/* A channel's columns around its last reading (read_channel), and the
 * tables and the rule of its tolerance state (the last tolerance event),
 * which its listing shares with the board's (query_board_channels). */
#define CHANNEL_COLS "SELECT c.id, i.name, c.name, c.unit, c.type, c.active,"
#define CHANNEL_TOLERANCE                                                      \
	" rc.name, c.reference, c.lower, c.upper, c.guard, c.U, c.k,"          \
	" t.state_to, t.ts"                                                    \
	" FROM channels c JOIN instruments i ON i.id = c.instrument_id"
#define CHANNEL_STATE                                                          \
	" LEFT JOIN channels rc ON rc.id = c.reference_channel"                \
	" LEFT JOIN events t ON t.id = (SELECT e.id FROM events e"             \
	"  WHERE e.instrument_id = c.instrument_id AND e.channel_id = c.id"    \
	"  AND e.kind = 'tolerance' ORDER BY e.ts DESC, e.id DESC LIMIT 1)"    \
	" WHERE (?1 IS NULL OR i.name = ?1)"                                   \
	" ORDER BY i.name, c.name"

static const char channels_sql[] = RECENT_CTE CHANNEL_COLS
        " r.ts, r.value, r.quality, a.ts, a.value, a.quality," CHANNEL_TOLERANCE
        " LEFT JOIN recent r ON r.channel = c.id"
        " LEFT JOIN readings_archive a ON a.channel = c.id"
        "  AND a.ts = " ARCHIVE_LAST("c.id") CHANNEL_STATE;

/* The board's: no reading (NULL: read_last() finds none). */
static const char board_channels_sql[] = CHANNEL_COLS
        " NULL, NULL, NULL, NULL, NULL, NULL," CHANNEL_TOLERANCE CHANNEL_STATE;

/* The newer of the reading at column col (recent) and col + 3 (archive). */
static void read_last(sqlite3_stmt *s, int col, struct query_channel *ch)
{
	int64_t recent = sqlite3_column_int64(s, col);
	int64_t archived = sqlite3_column_int64(s, col + 3);
	int at = archived > recent ? col + 3 : col;

	ch->last_us = sqlite3_column_int64(s, at);
	ch->last_quality =
	        ch->last_us == 0 ? -1 : sqlite3_column_int(s, at + 2);
	ch->last_value =
	        ch->last_quality == 0 ? query_maybe_double(s, at + 1) : NAN;
}

static void read_channel(sqlite3_stmt *s, struct query_channel *ch)
{
	memset(ch, 0, sizeof(*ch));
	ch->id = sqlite3_column_int64(s, 0);
	query_text(s, 1, ch->instrument, sizeof(ch->instrument));
	query_text(s, 2, ch->name, sizeof(ch->name));
	query_text(s, 3, ch->unit, sizeof(ch->unit));
	query_text(s, 4, ch->type, sizeof(ch->type));
	ch->active = sqlite3_column_int(s, 5) != 0;
	read_last(s, 6, ch);
	query_text(s, 12, ch->reference_channel, sizeof(ch->reference_channel));
	ch->has_tolerance = sqlite3_column_type(s, 14) != SQLITE_NULL;
	ch->reference = query_maybe_double(s, 13);
	ch->lower = query_maybe_double(s, 14);
	ch->upper = query_maybe_double(s, 15);
	ch->guard = query_maybe_double(s, 16);
	ch->U = query_maybe_double(s, 17);
	ch->k = query_maybe_double(s, 18);
	query_text(s, 19, ch->state, sizeof(ch->state));
	ch->state_us = ch->state[0] != '\0' ? sqlite3_column_int64(s, 20) : 0;
}

static int list_channels(struct query *q, const char *sql,
                         const char *instrument,
                         int (*fn)(void *ctx, const struct query_channel *),
                         void *ctx)
{
	sqlite3_stmt *s = query_prepare(q, sql);
	struct query_channel ch;
	int rc, ret = 0;

	if (s == NULL)
		return -1;
	if (instrument != NULL)
		sqlite3_bind_text(s, 1, instrument, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_channel(s, &ch);
		if ((ret = fn(ctx, &ch)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = query_fail(q, rc, "channels");
	sqlite3_finalize(s);
	return ret;
}

int query_channels(struct query *q, const char *instrument,
                   int (*fn)(void *ctx, const struct query_channel *),
                   void *ctx)
{
	return list_channels(q, channels_sql, instrument, fn, ctx);
}

int query_board_channels(struct query *q,
                         int (*fn)(void *ctx, const struct query_channel *),
                         void *ctx)
{
	return list_channels(q, board_channels_sql, NULL, fn, ctx);
}

int query_channel_id(struct query *q, const char *instrument,
                     const char *channel, int64_t *id)
{
	sqlite3_stmt *s = query_prepare(
	        q,
	        "SELECT c.id FROM channels c JOIN instruments i"
	        " ON i.id = c.instrument_id WHERE i.name = ?1 AND c.name = ?2");
	int rc, ret;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, instrument, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, channel, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		ret = 0;
	} else {
		ret = rc == SQLITE_DONE ? 1 : query_fail(q, rc, "channels");
	}
	sqlite3_finalize(s);
	return ret;
}

/* ---- readings and events ------------------------------------------------ */

/*
 * One statement over the readings view. SQLite pushes the WHERE into both
 * arms of the UNION ALL and merges them in ts order: the archive's virtual
 * table handed the channel and both bounds (it decodes the channel's
 * blocks of the range, found by archive_blocks' primary key, and gives
 * rows in ts order: archive.c), and the channel's rows of readings_recent
 * (at most one move's worth), sorted. EXPLAIN QUERY PLAN
 * (query_readings_plan(); tests/integration/test_records.c checks it):
 *   MERGE (UNION ALL)
 *     SCAN readings_archive VIRTUAL TABLE INDEX 37:channel= ts>= ts<
 *     SCAN readings_recent
 */
static const char readings_sql[] =
        "SELECT ts, value, quality FROM readings"
        " WHERE channel = ?1 AND ts >= ?2 AND ts < ?3 ORDER BY ts";

int query_each_reading(struct query *q, sqlite3_stmt *s, int64_t ch,
                       int (*fn)(void *ctx, const struct query_reading *),
                       void *ctx)
{
	struct query_reading r = {.channel = ch};
	int rc, ret = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r.ts_us = sqlite3_column_int64(s, 0);
		r.quality = sqlite3_column_int(s, 2);
		r.value = r.quality == 0 ? query_maybe_double(s, 1) : NAN;
		if (ch == 0)
			r.channel = sqlite3_column_int64(s, 3);
		if ((ret = fn(ctx, &r)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = query_fail(q, rc, "readings");
	sqlite3_reset(s);
	return ret;
}

int query_readings(struct query *q, int64_t channel, int64_t from_us,
                   int64_t to_us,
                   int (*fn)(void *ctx, const struct query_reading *),
                   void *ctx)
{
	sqlite3_stmt *s = query_prepare(q, readings_sql);
	int ret;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, channel);
	sqlite3_bind_int64(s, 2, from_us);
	sqlite3_bind_int64(s, 3, to_us);
	ret = query_each_reading(q, s, channel, fn, ctx);
	sqlite3_finalize(s);
	return ret;
}

int query_readings_plan(struct query *q, char *buf, size_t size)
{
	char sql[sizeof(readings_sql) + 32];
	sqlite3_stmt *s;
	size_t n = 0;
	int rc;

	snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", readings_sql);
	if ((s = query_prepare(q, sql)) == NULL)
		return -1;
	buf[0] = '\0';
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && n < size) {
		const unsigned char *d = sqlite3_column_text(s, 3);
		n += (size_t)snprintf(buf + n, size - n, "%s\n",
		                      d != NULL ? (const char *)d : "");
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW
	               ? 0
	               : query_fail(q, rc, "query plan");
}

int query_reading_counts(struct query *q, const char *instrument,
                         int64_t from_us, int64_t to_us,
                         struct query_counts *out)
{
	sqlite3_stmt *s = query_prepare(
	        q, "SELECT count(*), sum(quality = 0) FROM readings"
	           " WHERE channel IN (SELECT c.id FROM channels c"
	           "  JOIN instruments i ON i.id = c.instrument_id"
	           "  WHERE i.name = ?1)"
	           " AND ts >= ?2 AND ts < ?3 GROUP BY channel");
	int rc;

	if (s == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	sqlite3_bind_text(s, 1, instrument, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, from_us);
	sqlite3_bind_int64(s, 3, to_us);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t n = sqlite3_column_int64(s, 0);
		out->readings += n;
		out->good += sqlite3_column_int64(s, 1);
		out->most = n > out->most ? n : out->most;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : query_fail(q, rc, "readings");
}

/* ---- what the live board follows ---------------------------------------- */

int query_read_begin(struct query *q)
{
	int rc = sqlite3_exec(q->db, "BEGIN", NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : query_fail(q, rc, "begin");
}

int query_read_end(struct query *q)
{
	int rc = sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : query_fail(q, rc, "end");
}

int query_mark(struct query *q, struct query_mark *m)
{
	sqlite3_stmt *s = query_prepare(
	        q, "SELECT (SELECT max(rowid) FROM readings_recent),"
	           " (SELECT min(rowid) FROM readings_recent),"
	           " (SELECT max(id) FROM events),"
	           " (SELECT max(id) FROM calibrations)");
	int rc;

	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		m->recent = sqlite3_column_int64(s, 0);
		m->recent_first = sqlite3_column_int64(s, 1);
		m->event = sqlite3_column_int64(s, 2);
		m->calibration = sqlite3_column_int64(s, 3);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : query_fail(q, rc, "mark");
}

int query_recent_after(struct query *q, int64_t after,
                       int (*fn)(void *ctx, const struct query_reading *),
                       void *ctx)
{
	sqlite3_stmt *s = query_prepare(
	        q, "SELECT ts, value, quality, channel FROM readings_recent"
	           " WHERE rowid > ?1 ORDER BY rowid");
	int ret;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, after);
	ret = query_each_reading(q, s, 0, fn, ctx);
	sqlite3_finalize(s);
	return ret;
}

int query_events(struct query *q, const char *instrument, int64_t from_us,
                 int64_t to_us,
                 int (*fn)(void *ctx, const struct query_event *), void *ctx)
{
	sqlite3_stmt *s = query_prepare(
	        q, "SELECT e.id, e.ts, i.name, c.name, e.kind, e.detail,"
	           " e.state_from, e.state_to"
	           " FROM events e JOIN instruments i ON i.id = e.instrument_id"
	           " LEFT JOIN channels c ON c.id = e.channel_id"
	           " WHERE (?1 IS NULL OR i.name = ?1)"
	           " AND e.ts >= ?2 AND e.ts < ?3 ORDER BY e.ts, e.id");
	struct query_event e;
	int rc, ret = 0;

	if (s == NULL)
		return -1;
	if (instrument != NULL)
		sqlite3_bind_text(s, 1, instrument, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, from_us);
	sqlite3_bind_int64(s, 3, to_us);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		e.id = sqlite3_column_int64(s, 0);
		e.ts_us = sqlite3_column_int64(s, 1);
		query_text(s, 2, e.instrument, sizeof(e.instrument));
		query_text(s, 3, e.channel, sizeof(e.channel));
		query_text(s, 4, e.kind, sizeof(e.kind));
		query_text(s, 5, e.detail, sizeof(e.detail));
		query_text(s, 6, e.state_from, sizeof(e.state_from));
		query_text(s, 7, e.state_to, sizeof(e.state_to));
		if ((ret = fn(ctx, &e)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = query_fail(q, rc, "events");
	sqlite3_finalize(s);
	return ret;
}

int query_instrument_by_due(const void *a, const void *b)
{
	const struct query_instrument *x = a, *y = b;

	if (x->due_us != y->due_us)
		return x->due_us < y->due_us ? -1 : 1;
	return strcmp(x->name, y->name);
}
