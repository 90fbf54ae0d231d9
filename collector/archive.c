/*
 * archive.c - the archive in PostgreSQL (archive.h); the only file of the
 * collector that includes libpq-fe.h.
 *
 * One message, one statement: the message's ledger row (messages, keyed
 * by site, seq and ts) and what it carries (readings keyed by channel and
 * ts, or its events or statuses row keyed by site and seq) are written by
 * a single INSERT with a data-modifying WITH, each part ON CONFLICT DO
 * NOTHING, in autocommit: the statement is its transaction, so when
 * PQexecPrepared returns success the message is committed (durable as the
 * server's synchronous_commit says; the default, on, flushes the WAL
 * first) and a duplicate changes nothing. The ids of sites, instruments
 * and channels are made by schema.sql's functions when first seen.
 *
 * Errors: a lost connection, or a server error of classes 08 (connection),
 * 40 (serialization, deadlock), 53 (resources), 55 (lock not available),
 * 57 (shutdown) or 58 (system) is ARCHIVE_RETRY; a row without its
 * partition (23514, a month dropped by retention after this connection
 * made it) makes the partitions again and tries once more; anything else
 * is the message's fault (bad JSON for jsonb, a time PostgreSQL cannot
 * read): ARCHIVE_REJECT.
 */
#include "archive.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pgschema.h"

#define SCHEMA_VERSION 1
#define LOCK_KEY       "7242661" /* pg_advisory_xact_lock: schema changes */
#define MONTHS_CACHED  32

struct archive {
	PGconn *conn;
	bool prepared;
	int months[MONTHS_CACHED]; /* yyyy * 12 + mm - 1, partitions made */
	int nmonths;
};

static const char sql_readings[] =
        "WITH m AS (INSERT INTO messages (site_id, seq, ts, kind, "
        "instrument_id, historical) VALUES (metrolog_site($1), $2, $3, "
        "'readings', metrolog_instrument($1, $4), $5) ON CONFLICT DO NOTHING) "
        "INSERT INTO readings (channel_id, ts, value, quality, seq) "
        "SELECT metrolog_channel($1, $4, c.key, c.value->>'unit'), $3, "
        "(c.value->>'value')::float8, c.value->>'quality', $2 "
        "FROM jsonb_each($6::jsonb->'channels') AS c ON CONFLICT DO NOTHING";

static const char sql_events[] =
        "WITH m AS (INSERT INTO messages (site_id, seq, ts, kind, "
        "instrument_id, historical) VALUES (metrolog_site($1), $2, $3, "
        "'events', metrolog_instrument($1, $4), $5) ON CONFLICT DO NOTHING) "
        "INSERT INTO events (site_id, seq, ts, instrument_id, event, channel, "
        "from_state, to_state, reason, detail, payload) "
        "SELECT metrolog_site($1), $2, $3, metrolog_instrument($1, $4), "
        "coalesce(j->>'event', ''), j->>'channel', j->>'from', j->>'to', "
        "j->>'reason', j->>'detail', j FROM (SELECT $6::jsonb AS j) AS p "
        "ON CONFLICT DO NOTHING";

static const char sql_status[] =
        "WITH m AS (INSERT INTO messages (site_id, seq, ts, kind, "
        "instrument_id, historical) VALUES (metrolog_site($1), $2, $3, "
        "'status', metrolog_instrument($1, $4), $5) ON CONFLICT DO NOTHING) "
        "INSERT INTO statuses (site_id, seq, ts, instrument_id, state, "
        "reason, payload) SELECT metrolog_site($1), $2, $3, "
        "metrolog_instrument($1, $4), j->>'state', j->>'reason', j "
        "FROM (SELECT $6::jsonb AS j) AS p ON CONFLICT DO NOTHING";

static const char sql_gateway[] =
        "INSERT INTO gateway_status (site_id, state, reason, ts, payload) "
        "SELECT metrolog_site($1), j->>'state', j->>'reason', $3, j "
        "FROM (SELECT $6::jsonb AS j) AS p ON CONFLICT (site_id) DO UPDATE "
        "SET state = EXCLUDED.state, reason = EXCLUDED.reason, "
        "ts = EXCLUDED.ts, payload = EXCLUDED.payload, received_at = now()";

static const char *const statements[][2] = {{"readings", sql_readings},
                                            {"events", sql_events},
                                            {"status", sql_status},
                                            {"gateway", sql_gateway}};

/* "postgresql: what: why" into err, on one line (libpq's messages have
 * several: their line ends and tabs become spaces). */
static void set_err(char *err, size_t errlen, const char *what, const char *why)
{
	size_t n;

	snprintf(err, errlen, "postgresql: %s%s%s", what,
	         why && what[0] ? ": " : "", why ? why : "");
	for (char *p = err; *p != '\0'; p++)
		if (*p == '\n' || *p == '\t' || *p == '\r')
			*p = ' ';
	n = strlen(err);
	while (n > 0 && err[n - 1] == ' ')
		err[--n] = '\0';
}

/* What a failed result means, by its SQLSTATE (see the opening comment). */
static int classify(const struct archive *a, const PGresult *r)
{
	const char *st =
	        r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	static const char *const retry[] = {"08", "40", "53", "55", "57", "58"};

	if (PQstatus(a->conn) != CONNECTION_OK || st == NULL)
		return ARCHIVE_RETRY;
	for (size_t i = 0; i < sizeof(retry) / sizeof(retry[0]); i++)
		if (strncmp(st, retry[i], 2) == 0)
			return ARCHIVE_RETRY;
	return ARCHIVE_REJECT;
}

/* Run sql with no parameters; returns 0, or -1 with err. */
static int exec(struct archive *a, const char *sql, char *err, size_t errlen)
{
	PGresult *r = PQexec(a->conn, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
	         PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		set_err(err, errlen, "", PQerrorMessage(a->conn));
	PQclear(r);
	return ok ? 0 : -1;
}

static int session_setup(struct archive *a, char *err, size_t errlen)
{
	a->prepared = false;
	a->nmonths = 0;
	/* UTC; no NOTICE lines ("already exists, skipping") on stderr */
	return exec(a,
	            "SET TimeZone = 'UTC'; SET client_min_messages = warning",
	            err, errlen);
}

struct archive *archive_open(const char *conninfo, char *err, size_t errlen)
{
	struct archive *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		set_err(err, errlen, "out of memory", NULL);
		return NULL;
	}
	a->conn = PQconnectdb(conninfo);
	if (PQstatus(a->conn) != CONNECTION_OK) {
		set_err(err, errlen, "cannot connect", PQerrorMessage(a->conn));
		archive_close(a);
		return NULL;
	}
	if (session_setup(a, err, errlen) < 0) {
		archive_close(a);
		return NULL;
	}
	return a;
}

void archive_close(struct archive *a)
{
	if (a == NULL)
		return;
	PQfinish(a->conn);
	free(a);
}

int archive_reconnect(struct archive *a, char *err, size_t errlen)
{
	if (PQstatus(a->conn) == CONNECTION_OK)
		return 0; /* busy, not lost: just try again */
	PQreset(a->conn);
	if (PQstatus(a->conn) != CONNECTION_OK) {
		set_err(err, errlen, "cannot connect", PQerrorMessage(a->conn));
		return -1;
	}
	return session_setup(a, err, errlen);
}

/* The first column of sql's one row as an integer (NULL: 0), or -1
 * with err. */
static int query_int(struct archive *a, const char *sql, char *err,
                     size_t errlen)
{
	PGresult *r = PQexec(a->conn, sql);
	int v = -1;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		v = atoi(PQgetvalue(r, 0, 0));
	else
		set_err(err, errlen, "", PQerrorMessage(a->conn));
	PQclear(r);
	return v;
}

/* The schema's version, 0 when there is none, -1 on error. */
static int schema_version(struct archive *a, char *err, size_t errlen)
{
	int there = query_int(a,
	                      "SELECT (to_regclass('metrolog_schema') IS NOT "
	                      "NULL)::int",
	                      err, errlen);

	if (there <= 0)
		return there;
	return query_int(a, "SELECT max(version) FROM metrolog_schema", err,
	                 errlen);
}

/* The partitions of the month of ts (its "YYYY-MM" start) and the next,
 * unless this connection made them already. Returns 0, or -1 with err. */
static int ensure_month(struct archive *a, const char *ts, char *err,
                        size_t errlen)
{
	int y, mo, key;
	char sql[160];

	if (sscanf(ts, "%4d-%2d", &y, &mo) != 2 || mo < 1 || mo > 12)
		return 0; /* PostgreSQL will say what is wrong with ts */
	key = y * 12 + mo - 1;
	for (int i = 0; i < a->nmonths; i++)
		if (a->months[i] == key)
			return 0;
	snprintf(sql, sizeof(sql),
	         "SELECT metrolog_partition('%04d-%02d-01T00:00:00Z'), "
	         "metrolog_partition('%04d-%02d-01T00:00:00Z')",
	         y, mo, (key + 1) / 12, (key + 1) % 12 + 1);
	if (exec(a, sql, err, errlen) < 0)
		return -1;
	if (a->nmonths == MONTHS_CACHED)
		a->nmonths = 0;
	a->months[a->nmonths++] = key;
	return 0;
}

int archive_init(struct archive *a, char *err, size_t errlen)
{
	int v;

	if (exec(a, "BEGIN", err, errlen) < 0)
		return -1;
	if (exec(a, "SELECT pg_advisory_xact_lock(" LOCK_KEY ")", err, errlen) <
	            0 ||
	    (v = schema_version(a, err, errlen)) < 0)
		goto fail;
	if (v > SCHEMA_VERSION) {
		snprintf(
		        err, errlen,
		        "postgresql: the schema is version %d, newer than this "
		        "program's %d",
		        v, SCHEMA_VERSION);
		goto fail;
	}
	if (v == 0 && exec(a, pgschema_sql, err, errlen) < 0)
		goto fail;
	if (exec(a, "COMMIT", err, errlen) < 0)
		return -1;
	time_t now = time(NULL);
	struct tm tm;
	char month[16];
	gmtime_r(&now, &tm);
	strftime(month, sizeof(month), "%Y-%m", &tm);
	return ensure_month(a, month, err, errlen) < 0 ? -1 : 0;
fail:
	PQclear(PQexec(a->conn, "ROLLBACK"));
	return -1;
}

int archive_check(struct archive *a, char *err, size_t errlen)
{
	int v = schema_version(a, err, errlen);

	if (v < 0)
		return -1;
	if (v != SCHEMA_VERSION) {
		snprintf(err, errlen,
		         v == 0 ? "postgresql: no archive schema in this "
		                  "database: run metrolog-collector init"
		                : "postgresql: the schema is version %d, this "
		                  "program writes version %d",
		         v, SCHEMA_VERSION);
		return -1;
	}
	return 0;
}

static int prepare(struct archive *a, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(statements) / sizeof(statements[0]);
	     i++) {
		/* text, int8, timestamptz, text, bool, text (a statement
		 * may leave some unused) */
		static const Oid types[6] = {25, 20, 1184, 25, 16, 25};
		PGresult *r = PQprepare(a->conn, statements[i][0],
		                        statements[i][1], 6, types);
		bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
		if (!ok) {
			set_err(err, errlen, "prepare",
			        PQerrorMessage(a->conn));
			return -1;
		}
	}
	a->prepared = true;
	return 0;
}

/* One try of the statement of m. */
static int put_once(struct archive *a, const struct inbox_msg *m,
                    const char *payload, size_t len, char *err, size_t errlen,
                    bool *no_partition)
{
	char seq[24];
	const char *v[6] = {m->site,
	                    seq,
	                    m->ts[0] ? m->ts : NULL,
	                    m->instrument,
	                    m->historical ? "t" : "f",
	                    payload};
	PGresult *r;
	int rc;

	*no_partition = false;
	snprintf(seq, sizeof(seq), "%lld", (long long)m->seq);
	if (!a->prepared && prepare(a, err, errlen) < 0)
		return classify(a, NULL);
	if (m->kind != INBOX_GATEWAY_STATUS &&
	    ensure_month(a, m->ts, err, errlen) < 0)
		return classify(a, NULL);
	char *text = strndup(payload, len); /* as text: NUL-terminated */
	if (text == NULL) {
		set_err(err, errlen, "out of memory", NULL);
		return ARCHIVE_RETRY;
	}
	v[5] = text;
	r = PQexecPrepared(a->conn, statements[m->kind][0], 6, v, NULL, NULL,
	                   0);
	free(text);
	if (PQresultStatus(r) == PGRES_COMMAND_OK) {
		/* rows the main INSERT wrote: none for a message held already
		 * (a gateway status is an upsert: always one) */
		rc = strcmp(PQcmdTuples(r), "0") == 0 ? ARCHIVE_HELD
		                                      : ARCHIVE_OK;
		PQclear(r);
		return rc;
	}
	set_err(err, errlen, inbox_kind_name(m->kind), PQerrorMessage(a->conn));
	rc = classify(a, r);
	const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	*no_partition = st != NULL && strcmp(st, "23514") == 0;
	PQclear(r);
	return rc;
}

int archive_put(struct archive *a, const struct inbox_msg *m,
                const char *payload, size_t len, char *err, size_t errlen)
{
	bool no_partition;
	int rc = put_once(a, m, payload, len, err, errlen, &no_partition);

	if (rc == ARCHIVE_REJECT && no_partition) {
		a->nmonths = 0; /* retention dropped one we had made */
		rc = put_once(a, m, payload, len, err, errlen, &no_partition);
	}
	return rc;
}

int archive_check_gaps(struct archive *a, int settle_ms, char *err,
                       size_t errlen)
{
	char ms[24];
	const char *v[1] = {ms};
	PGresult *r;
	int n = -1;

	snprintf(ms, sizeof(ms), "%d milliseconds", settle_ms);
	r = PQexecParams(a->conn, "SELECT metrolog_check_gaps($1::interval)", 1,
	                 NULL, v, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		n = atoi(PQgetvalue(r, 0, 0));
	else
		set_err(err, errlen, "gaps", PQerrorMessage(a->conn));
	PQclear(r);
	return n;
}

int archive_drop_before(struct archive *a, const char *cutoff, FILE *out,
                        char *err, size_t errlen)
{
	const char *v[1] = {cutoff};
	PGresult *r;
	int n = -1;

	r = PQexecParams(a->conn,
	                 "SELECT metrolog_drop_before($1::timestamptz)", 1,
	                 NULL, v, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		n = PQntuples(r);
		for (int i = 0; i < n; i++)
			fprintf(out, "dropped %s\n", PQgetvalue(r, i, 0));
	} else
		set_err(err, errlen, "retention", PQerrorMessage(a->conn));
	PQclear(r);
	return n;
}
