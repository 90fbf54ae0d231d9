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
 * Batches (archive_begin .. archive_commit): the same statements inside
 * one transaction, so that many messages share one commit, one WAL flush.
 * A failed statement aborts the whole transaction: the caller rolls it
 * back and writes its messages again (it keeps them, batch.h); a row
 * without its partition is then ARCHIVE_RETRY (the transaction written
 * again makes the partitions first), once. Partitions made in a
 * transaction that is rolled back are forgotten with it.
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
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calib.h"
#include "drift.h"
#include "pgschema.h"

#define SCHEMA_VERSION pgschema_nsteps
#define LOCK_KEY       "7242661" /* pg_advisory_xact_lock: schema changes */
#define MONTHS_CACHED  32

struct archive {
	PGconn *conn;
	bool prepared;
	bool remade; /* in this transaction: ARCHIVE_RETRY for a partition
	                missing once already (archive_put) */
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

/* The gateway's status replaces the one held unless it is older: two
 * collectors in a share group may write a connection's last "online" and
 * its "stopped" in either order. Older by (connected, Last Will, ts): a
 * later connection's status is newer; within one connection, the Last
 * Will (no ts) is its last word, else ts orders. A status without
 * "connected" (a gateway before it was published) replaces any. */
static const char sql_gateway[] =
        "INSERT INTO gateway_status AS g (site_id, state, reason, ts, "
        "payload) SELECT metrolog_site($1), j->>'state', j->>'reason', $3, j "
        "FROM (SELECT $6::jsonb AS j) AS p ON CONFLICT (site_id) DO UPDATE "
        "SET state = EXCLUDED.state, reason = EXCLUDED.reason, "
        "ts = EXCLUDED.ts, payload = EXCLUDED.payload, received_at = now() "
        "WHERE NOT (EXCLUDED.payload ? 'connected' AND g.payload ? "
        "'connected') OR ((EXCLUDED.payload->>'connected')::timestamptz, "
        "EXCLUDED.ts IS NULL, coalesce(EXCLUDED.ts, '-infinity')) >= "
        "((g.payload->>'connected')::timestamptz, g.ts IS NULL, "
        "coalesce(g.ts, '-infinity'))";

/* A calibration record (docs/MQTT.md): its ledger row, its points and
 * the record; the record's row count says held or written. */
static const char sql_record[] =
        "WITH m AS (INSERT INTO messages (site_id, seq, ts, kind, "
        "instrument_id, historical) VALUES (metrolog_site($1), $2, $3, "
        "'record', metrolog_instrument($1, $4), $5) ON CONFLICT DO NOTHING), "
        "p AS (INSERT INTO cal_points (site_id, record, n, quantity, unit, "
        "reference, as_found, as_left, lower_limit, upper_limit, u_expanded, "
        "k, as_found_decision, as_left_decision) SELECT metrolog_site($1), "
        "(j->>'record')::bigint, e.n, e.p->>'quantity', e.p->>'unit', "
        "(e.p->>'reference')::float8, (e.p->>'as_found')::float8, "
        "(e.p->>'as_left')::float8, (e.p->>'lower')::float8, "
        "(e.p->>'upper')::float8, (e.p->>'U')::float8, (e.p->>'k')::float8, "
        "e.p->>'as_found_decision', e.p->>'as_left_decision' "
        "FROM (SELECT $6::jsonb AS j) AS x, "
        "jsonb_array_elements(x.j->'points') WITH ORDINALITY AS e(p, n) "
        "ON CONFLICT DO NOTHING) "
        "INSERT INTO cal_records (site_id, record, seq, instrument_id, "
        "certificate, rule_version, prev_hash, hash, supersedes, issued, "
        "performed, received, interval_days, due, standard, "
        "standard_certificate, standard_due, standard_overdue, lab, "
        "lab_address, lab_accreditation, customer, customer_address, "
        "customer_contact, location, item_condition, method, specification, "
        "conditions, deviations, technician, authorised, remarks, "
        "standard_reason, amendment, rule, guard_factor, min_tur, max_risk, "
        "result_as_found, result_as_left, customer_id, model) "
        "SELECT metrolog_site($1), "
        "(j->>'record')::bigint, $2, metrolog_instrument($1, $4), "
        "j->>'certificate', (j->>'rule_version')::int, j->>'prev_hash', "
        "j->>'hash', (j->>'supersedes')::bigint, "
        "(j->>'issued')::timestamptz, (j->>'performed')::timestamptz, "
        "(j->>'received')::timestamptz, (j->>'interval_days')::int, "
        "(j->>'due')::timestamptz, j->>'standard', "
        "j->>'standard_certificate', (j->>'standard_due')::timestamptz, "
        "(j->>'standard_overdue')::boolean, j->>'lab', j->>'lab_address', "
        "j->>'lab_accreditation', j->>'customer', j->>'customer_address', "
        "j->>'customer_contact', j->>'location', j->>'item_condition', "
        "j->>'method', j->>'specification', j->>'conditions', "
        "j->>'deviations', j->>'technician', j->>'authorised', "
        "j->>'remarks', j->>'standard_reason', j->>'amendment', j->>'rule', "
        "(j->>'guard_factor')::float8, (j->>'min_tur')::float8, "
        "(j->>'max_risk')::float8, j->>'result_as_found', "
        "j->>'result_as_left', coalesce(j->>'customer_id', ''), "
        "coalesce(j->>'model', '') FROM (SELECT $6::jsonb AS j) AS x "
        "ON CONFLICT DO NOTHING";

static const char sql_approval[] =
        "WITH m AS (INSERT INTO messages (site_id, seq, ts, kind, "
        "instrument_id, historical) VALUES (metrolog_site($1), $2, $3, "
        "'approval', metrolog_instrument($1, $4), $5) "
        "ON CONFLICT DO NOTHING) "
        "INSERT INTO cal_approvals (site_id, approval, seq, record, "
        "certificate, record_hash, approved, approver, role, prev_hash, "
        "hash) SELECT metrolog_site($1), (j->>'approval')::bigint, $2, "
        "(j->>'record')::bigint, j->>'certificate', j->>'record_hash', "
        "(j->>'approved')::timestamptz, j->>'approver', j->>'role', "
        "j->>'prev_hash', j->>'hash' FROM (SELECT $6::jsonb AS j) AS x "
        "ON CONFLICT DO NOTHING";

/* By enum inbox_kind. */
static const char *const statements[][2] = {
        {"readings", sql_readings}, {"events", sql_events},
        {"status", sql_status},     {"gateway", sql_gateway},
        {"record", sql_record},     {"approval", sql_approval}};

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
	for (; v < SCHEMA_VERSION; v++) /* the steps it lacks */
		if (exec(a, pgschema_steps[v], err, errlen) < 0)
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
		         : v < SCHEMA_VERSION
		                 ? "postgresql: the schema is version %d, this "
		                   "program "
		                   "writes version %d: run metrolog-collector "
		                   "init to "
		                   "upgrade it"
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
		 * (a gateway status: none when older than the one held) */
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

static bool in_transaction(const struct archive *a)
{
	return PQtransactionStatus(a->conn) != PQTRANS_IDLE;
}

int archive_put(struct archive *a, const struct inbox_msg *m,
                const char *payload, size_t len, char *err, size_t errlen)
{
	bool no_partition;
	int rc = put_once(a, m, payload, len, err, errlen, &no_partition);

	if (rc != ARCHIVE_REJECT || !no_partition)
		return rc;
	if (!in_transaction(a)) {
		a->nmonths = 0; /* retention dropped one we had made */
		return put_once(a, m, payload, len, err, errlen, &no_partition);
	}
	if (a->remade)
		return ARCHIVE_REJECT; /* made again, and still missing */
	a->nmonths = 0; /* the transaction, written again, makes them */
	a->remade = true;
	return ARCHIVE_RETRY;
}

int archive_begin(struct archive *a, char *err, size_t errlen)
{
	if (exec(a, "BEGIN", err, errlen) < 0)
		return ARCHIVE_RETRY;
	return ARCHIVE_OK;
}

int archive_commit(struct archive *a, char *err, size_t errlen)
{
	PGresult *r = PQexec(a->conn, "COMMIT");
	/* COMMIT of an aborted transaction "succeeds" as a ROLLBACK */
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK &&
	          strcmp(PQcmdStatus(r), "COMMIT") == 0;

	if (!ok)
		set_err(err, errlen, "commit",
		        PQresultStatus(r) == PGRES_COMMAND_OK
		                ? "the transaction was rolled back"
		                : PQerrorMessage(a->conn));
	PQclear(r);
	if (ok)
		a->remade = false;
	return ok ? ARCHIVE_OK : ARCHIVE_RETRY;
}

void archive_rollback(struct archive *a)
{
	if (PQstatus(a->conn) == CONNECTION_OK && in_transaction(a))
		PQclear(PQexec(a->conn, "ROLLBACK"));
	a->nmonths = 0; /* the partitions it made, if any, are gone */
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

int archive_repairs_due(struct archive *a, int span, int wait_ms, int max_ms,
                        archive_repair_fn *fn, void *ctx, char *err,
                        size_t errlen)
{
	char sp[24], w[40], m[40];
	const char *v[3] = {sp, w, m};
	PGresult *r;
	int n = -1;

	snprintf(sp, sizeof(sp), "%d", span);
	snprintf(w, sizeof(w), "%d milliseconds", wait_ms);
	snprintf(m, sizeof(m), "%d milliseconds", max_ms);
	r = PQexecParams(
	        a->conn,
	        "SELECT site, ask_from, ask_to FROM metrolog_repairs_due("
	        "$1::bigint, $2::interval, $3::interval)",
	        3, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		n = PQntuples(r);
		for (int i = 0; i < n; i++)
			fn(ctx, PQgetvalue(r, i, 0),
			   strtoll(PQgetvalue(r, i, 1), NULL, 10),
			   strtoll(PQgetvalue(r, i, 2), NULL, 10));
	} else
		set_err(err, errlen, "repairs", PQerrorMessage(a->conn));
	PQclear(r);
	return n;
}

int archive_replay_reply(struct archive *a, const char *site,
                         const char *payload, size_t len, int settle_ms,
                         char *err, size_t errlen)
{
	char ms[24], *text = malloc(len + 1);
	const char *v[3] = {site, text, ms};
	PGresult *r;
	int n;

	if (text == NULL) {
		snprintf(err, errlen, "out of memory");
		return ARCHIVE_RETRY;
	}
	memcpy(text, payload, len);
	text[len] = '\0';
	snprintf(ms, sizeof(ms), "%d milliseconds", settle_ms);
	r = PQexecParams(a->conn,
	                 "SELECT metrolog_replay_reply($1, $2::jsonb, "
	                 "$3::interval)",
	                 3, NULL, v, NULL, NULL, 0);
	free(text);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
		n = atoi(PQgetvalue(r, 0, 0));
	} else {
		n = classify(a, r);
		set_err(err, errlen, "replay reply", PQerrorMessage(a->conn));
	}
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

/* ---- calibration records, read back for verify -------------------------- */

/* Times as exact microseconds since the epoch, 0 for NULL. */
#define US(col) "coalesce((extract(epoch FROM " col ") * 1000000)::int8, 0)"

/* The columns in read_record's order; one string, as written. */
/* clang-format off */
static const char sql_cal_records[] =
        "SELECT c.record, c.prev_hash, c.hash, " US("c.issued") ", "
        "coalesce(c.supersedes, 0), i.name, c.certificate, "
        US("c.performed") ", c.interval_days, " US("c.due") ", "
        "c.standard, c.standard_certificate, " US("c.standard_due") ", "
        "c.standard_overdue::int, c.lab, c.customer, c.method, "
        "c.conditions, c.technician, c.authorised, c.remarks, "
        "c.lab_address, c.lab_accreditation, c.customer_address, "
        "c.customer_contact, c.location, c.item_condition, "
        US("c.received") ", "
        "c.specification, c.deviations, c.standard_reason, c.amendment, "
        "c.rule, c.guard_factor, c.rule_version, c.min_tur, c.max_risk, "
        "c.result_as_found, c.result_as_left, c.customer_id, c.model "
        "FROM cal_records c JOIN instruments i ON i.id = c.instrument_id "
        "WHERE c.site_id = $1 ORDER BY c.record";
/* clang-format on */

static const char sql_cal_points[] =
        "SELECT record, quantity, unit, reference, as_found, as_left, "
        "lower_limit, upper_limit, u_expanded, k, as_found_decision, "
        "as_left_decision FROM cal_points WHERE site_id = $1 "
        "ORDER BY record, n";

static const char sql_cal_approvals[] =
        "SELECT a.approval, a.record, a.record_hash, " US(
                "a.approved") ", "
                              "a.approver, a.role, a.prev_hash, a.hash, "
                              "coalesce(c.hash, '') "
                              "FROM cal_approvals a LEFT JOIN cal_records c ON "
                              "c.site_id = a.site_id AND c.record = a.record "
                              "WHERE a.site_id = $1 ORDER BY a.approval";

static const char *col(const PGresult *r, int row, int c)
{
	return PQgetvalue(r, row, c);
}

static int64_t col_int(const PGresult *r, int row, int c)
{
	return strtoll(PQgetvalue(r, row, c), NULL, 10);
}

/* NULL: NAN (not taken, not adjusted); else exactly the double
 * PostgreSQL holds (its shortest text that reads back the same). */
static double col_num(const PGresult *r, int row, int c)
{
	return PQgetisnull(r, row, c) ? NAN
	                              : strtod(PQgetvalue(r, row, c), NULL);
}

static void col_text(const PGresult *r, int row, int c, char *buf, size_t size)
{
	snprintf(buf, size, "%s", PQgetvalue(r, row, c));
}

/* A decision's name back to enum drift_decision; NULL -1; a name this
 * program does not know 99, so that the record does not hash the same. */
static int col_decision(const PGresult *r, int row, int c)
{
	if (PQgetisnull(r, row, c))
		return -1;
	for (int d = 0; d < DRIFT_DECISIONS; d++)
		if (strcmp(PQgetvalue(r, row, c),
		           drift_decision_name((enum drift_decision)d)) == 0)
			return d;
	return 99;
}

/* Row i of sql_cal_records into rec (no points). */
static void read_record(const PGresult *r, int i, struct calib_record *rec)
{
	const char *rule = col(r, i, 32);

	memset(rec, 0, sizeof(*rec));
	rec->id = col_int(r, i, 0);
	col_text(r, i, 1, rec->prev_hash, sizeof(rec->prev_hash));
	col_text(r, i, 2, rec->hash, sizeof(rec->hash));
	rec->issued_us = col_int(r, i, 3);
	rec->supersedes = col_int(r, i, 4);
	col_text(r, i, 5, rec->instrument, sizeof(rec->instrument));
	col_text(r, i, 6, rec->certificate, sizeof(rec->certificate));
	rec->performed_us = col_int(r, i, 7);
	rec->interval_days = (int)col_int(r, i, 8);
	rec->due_us = col_int(r, i, 9);
	col_text(r, i, 10, rec->standard, sizeof(rec->standard));
	col_text(r, i, 11, rec->standard_cert, sizeof(rec->standard_cert));
	rec->standard_due_us = col_int(r, i, 12);
	rec->standard_overdue = col_int(r, i, 13) != 0;
	char *const texts[] = {rec->lab,
	                       rec->customer,
	                       rec->method,
	                       rec->conditions,
	                       rec->technician,
	                       rec->authorised,
	                       rec->remarks,
	                       rec->lab_address,
	                       rec->lab_accreditation,
	                       rec->customer_address,
	                       rec->customer_contact,
	                       rec->location,
	                       rec->item_condition};
	for (int k = 0; k < 13; k++)
		col_text(r, i, 14 + k, texts[k],
		         k == 6 ? sizeof(rec->remarks) : CALIB_TEXT);
	rec->received_us = col_int(r, i, 27);
	col_text(r, i, 28, rec->specification, sizeof(rec->specification));
	col_text(r, i, 29, rec->deviations, sizeof(rec->deviations));
	col_text(r, i, 30, rec->standard_reason, sizeof(rec->standard_reason));
	col_text(r, i, 31, rec->amendment, sizeof(rec->amendment));
	/* a rule's word unknown here hashes differently */
	rec->rule = strcmp(rule, "guarded") == 0  ? CALIB_RULE_GUARDED
	            : strcmp(rule, "simple") == 0 ? CALIB_RULE_SIMPLE
	                                          : (enum calib_rule)99;
	rec->guard_factor = col_num(r, i, 33);
	rec->rule_version = (int)col_int(r, i, 34);
	rec->min_tur = col_num(r, i, 35);
	rec->max_risk = col_num(r, i, 36);
	rec->result_found = col_decision(r, i, 37);
	rec->result_left = col_decision(r, i, 38);
	col_text(r, i, 39, rec->customer_id, sizeof(rec->customer_id));
	col_text(r, i, 40, rec->model, sizeof(rec->model));
}

/* The points of record rec->id from row *at of sql_cal_points on. */
static void read_points(const PGresult *p, int *at, struct calib_record *rec)
{
	int n = PQntuples(p);

	while (*at < n && col_int(p, *at, 0) < rec->id)
		(*at)++; /* points of a record not held */
	for (; *at < n && col_int(p, *at, 0) == rec->id; (*at)++) {
		if (rec->npoints == CALIB_POINTS) {
			rec->npoints++; /* more than a lab can record */
			continue;
		}
		struct calib_point *pt = &rec->points[rec->npoints++];
		col_text(p, *at, 1, pt->quantity, sizeof(pt->quantity));
		col_text(p, *at, 2, pt->unit, sizeof(pt->unit));
		pt->reference = col_num(p, *at, 3);
		pt->as_found = col_num(p, *at, 4);
		pt->as_left = col_num(p, *at, 5);
		pt->lower = col_num(p, *at, 6);
		pt->upper = col_num(p, *at, 7);
		pt->U = col_num(p, *at, 8);
		pt->k = col_num(p, *at, 9);
		pt->found = col_decision(p, *at, 10);
		pt->left = col_decision(p, *at, 11);
	}
}

/* sql with the one parameter v; NULL with err unless it gives rows. */
static PGresult *rows(struct archive *a, const char *sql, const char *v,
                      char *err, size_t errlen)
{
	PGresult *r = PQexecParams(a->conn, sql, 1, NULL, &v, NULL, NULL, 0);

	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		return r;
	set_err(err, errlen, "calibration records", PQerrorMessage(a->conn));
	PQclear(r);
	return NULL;
}

/* One site's records and approvals to fn. */
static int cal_site(struct archive *a, const char *id,
                    const struct archive_cal_fn *fn, void *ctx,
                    struct calib_record *rec, char *err, size_t errlen)
{
	PGresult *r = rows(a, sql_cal_records, id, err, errlen);
	PGresult *p = r ? rows(a, sql_cal_points, id, err, errlen) : NULL;
	PGresult *ap = p ? rows(a, sql_cal_approvals, id, err, errlen) : NULL;
	int rc = ap != NULL ? 0 : -1, at = 0;

	for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
		read_record(r, i, rec);
		read_points(p, &at, rec);
		rc = fn->record(ctx, rec);
	}
	for (int i = 0; rc == 0 && ap != NULL && i < PQntuples(ap); i++) {
		struct calib_approval ca = {0};
		ca.id = col_int(ap, i, 0);
		ca.calibration_id = col_int(ap, i, 1);
		col_text(ap, i, 2, ca.record_hash, sizeof(ca.record_hash));
		ca.approved_us = col_int(ap, i, 3);
		col_text(ap, i, 4, ca.approver, sizeof(ca.approver));
		col_text(ap, i, 5, ca.role, sizeof(ca.role));
		col_text(ap, i, 6, ca.prev_hash, sizeof(ca.prev_hash));
		col_text(ap, i, 7, ca.hash, sizeof(ca.hash));
		rc = fn->approval(ctx, &ca, col(ap, i, 8));
	}
	if (rc != 0 && ap != NULL)
		set_err(err, errlen, "verify", "out of memory");
	PQclear(r);
	PQclear(p);
	PQclear(ap);
	return rc != 0 ? -1 : 0;
}

int archive_cal_each(struct archive *a, const char *site,
                     const struct archive_cal_fn *fn, void *ctx, char *err,
                     size_t errlen)
{
	PGresult *s = PQexecParams(a->conn,
	                           "SELECT id, name FROM sites WHERE $1::text "
	                           "IS NULL OR name = $1 "
	                           "ORDER BY name",
	                           1, NULL, &site, NULL, NULL, 0);
	struct calib_record *rec = malloc(sizeof(*rec));
	int n = -1;

	if (PQresultStatus(s) != PGRES_TUPLES_OK)
		set_err(err, errlen, "sites", PQerrorMessage(a->conn));
	else if (rec == NULL)
		set_err(err, errlen, "verify", "out of memory");
	else if (site != NULL && PQntuples(s) == 0)
		snprintf(err, errlen, "no site %s in the archive", site);
	else {
		for (n = 0; n < PQntuples(s); n++) {
			fn->site(ctx, col(s, n, 1));
			if (cal_site(a, col(s, n, 0), fn, ctx, rec, err,
			             errlen) < 0) {
				n = -1;
				break;
			}
			fn->site_end(ctx, col(s, n, 1));
		}
	}
	free(rec);
	PQclear(s);
	return n;
}

int archive_select(struct archive *a, const char *sql, int nparams,
                   const char *const *params, archive_row_fn fn, void *ctx,
                   char *err, size_t errlen)
{
	PGresult *r = PQexecParams(a->conn, sql, nparams, NULL, params, NULL,
	                           NULL, 0);
	int n = -1, ncols = PQnfields(r);
	const char **cols = calloc((size_t)ncols + 1, sizeof(*cols));

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		set_err(err, errlen, "", PQresultErrorMessage(r));
	else if (cols == NULL)
		set_err(err, errlen, "out of memory", NULL);
	else {
		for (n = 0; n < PQntuples(r); n++) {
			for (int c = 0; c < ncols; c++)
				cols[c] = PQgetisnull(r, n, c)
				                  ? NULL
				                  : PQgetvalue(r, n, c);
			if (fn(ctx, ncols, cols) != 0) {
				set_err(err, errlen, "stopped", NULL);
				n = -1;
				break;
			}
		}
	}
	free(cols);
	PQclear(r);
	return n;
}
