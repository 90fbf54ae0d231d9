/*
 * query_cal.c - reading calibration records back, and checking the audit
 * chain. See query.h and calib.h; the tables are in docs/SCHEMA.md.
 *
 * A record is read from its columns and its point rows into a struct
 * calib_record; calib_hash() of that struct must give the stored hash.
 * Any column changed behind the store's back therefore shows up as a
 * content/hash mismatch of that record, and a recomputed hash as a broken
 * link from the next one. The approvals (calib.h) are read and checked
 * the same way, after the records.
 */
#include "query.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drift.h"
#include "labtime.h"
#include "query_int.h"

#define RECORD_COLUMNS                                                         \
	"c.id, i.name, c.certificate, c.supersedes, c.performed, c.issued,"    \
	" c.interval_days, c.due, s.name, c.standard_cert, c.standard_due,"    \
	" c.standard_overdue, c.lab, c.customer, c.method, c.conditions,"      \
	" c.technician, c.authorised, c.remarks, c.rule, c.guard_factor,"      \
	" c.result_found, c.result_left, c.prev_hash, c.hash,"                 \
	" c.rule_version, c.min_tur, c.max_risk, c.lab_address,"               \
	" c.lab_accreditation, c.customer_address, c.customer_contact,"        \
	" c.location, c.item_condition, c.received, c.specification,"          \
	" c.deviations, c.standard_reason, c.amendment, c.customer_id,"        \
	" c.model"
#define RECORD_FROM                                                            \
	" FROM calibrations c JOIN instruments i ON i.id = c.instrument_id"    \
	" LEFT JOIN instruments s ON s.id = c.standard_id"

/* The columns of RECORD_COLUMNS into r (points not read). */
static void read_columns(sqlite3_stmt *s, struct calib_record *r)
{
	char rule[16];

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(s, 0);
	query_text(s, 1, r->instrument, sizeof(r->instrument));
	query_text(s, 2, r->certificate, sizeof(r->certificate));
	r->supersedes = sqlite3_column_int64(s, 3);
	r->performed_us = sqlite3_column_int64(s, 4);
	r->issued_us = sqlite3_column_int64(s, 5);
	r->interval_days = sqlite3_column_int(s, 6);
	r->due_us = sqlite3_column_int64(s, 7);
	query_text(s, 8, r->standard, sizeof(r->standard));
	query_text(s, 9, r->standard_cert, sizeof(r->standard_cert));
	r->standard_due_us = sqlite3_column_int64(s, 10);
	r->standard_overdue = sqlite3_column_int(s, 11) != 0;
	query_text(s, 12, r->lab, sizeof(r->lab));
	query_text(s, 13, r->customer, sizeof(r->customer));
	query_text(s, 14, r->method, sizeof(r->method));
	query_text(s, 15, r->conditions, sizeof(r->conditions));
	query_text(s, 16, r->technician, sizeof(r->technician));
	query_text(s, 17, r->authorised, sizeof(r->authorised));
	query_text(s, 18, r->remarks, sizeof(r->remarks));
	query_text(s, 19, rule, sizeof(rule));
	/* an unknown rule name reads as -1, which no hash was made of */
	r->rule = strcmp(rule, "guarded") == 0  ? CALIB_RULE_GUARDED
	          : strcmp(rule, "simple") == 0 ? CALIB_RULE_SIMPLE
	                                        : (enum calib_rule) - 1;
	r->guard_factor = sqlite3_column_double(s, 20);
	r->result_found = query_decision(s, 21);
	r->result_left = query_decision(s, 22);
	query_text(s, 23, r->prev_hash, sizeof(r->prev_hash));
	query_text(s, 24, r->hash, sizeof(r->hash));
	r->rule_version = sqlite3_column_int(s, 25);
	r->min_tur = sqlite3_column_double(s, 26); /* NULL: 0 */
	r->max_risk = sqlite3_column_double(s, 27);
	query_text(s, 28, r->lab_address, sizeof(r->lab_address));
	query_text(s, 29, r->lab_accreditation, sizeof(r->lab_accreditation));
	query_text(s, 30, r->customer_address, sizeof(r->customer_address));
	query_text(s, 31, r->customer_contact, sizeof(r->customer_contact));
	query_text(s, 32, r->location, sizeof(r->location));
	query_text(s, 33, r->item_condition, sizeof(r->item_condition));
	r->received_us = sqlite3_column_int64(s, 34);
	query_text(s, 35, r->specification, sizeof(r->specification));
	query_text(s, 36, r->deviations, sizeof(r->deviations));
	query_text(s, 37, r->standard_reason, sizeof(r->standard_reason));
	query_text(s, 38, r->amendment, sizeof(r->amendment));
	query_text(s, 39, r->customer_id, sizeof(r->customer_id));
	query_text(s, 40, r->model, sizeof(r->model));
}

/* The point rows of r->id, in order. A row numbered outside 1..CALIB_POINTS
 * or out of sequence makes npoints -1 (the record cannot hash right). */
static int read_points(struct query *q, sqlite3_stmt *p, struct calib_record *r)
{
	int rc;

	sqlite3_bind_int64(p, 1, r->id);
	r->npoints = 0;
	while ((rc = sqlite3_step(p)) == SQLITE_ROW) {
		int n = sqlite3_column_int(p, 0);
		if (n != r->npoints + 1 || n > CALIB_POINTS) {
			r->npoints = -1;
			continue;
		}
		struct calib_point *pt = &r->points[r->npoints++];
		query_text(p, 1, pt->quantity, sizeof(pt->quantity));
		query_text(p, 2, pt->unit, sizeof(pt->unit));
		pt->reference = sqlite3_column_double(p, 3);
		pt->as_found = query_maybe_double(p, 4);
		pt->as_left = query_maybe_double(p, 5);
		pt->lower = sqlite3_column_double(p, 6);
		pt->upper = sqlite3_column_double(p, 7);
		pt->U = sqlite3_column_double(p, 8);
		pt->k = sqlite3_column_double(p, 9);
		pt->found = query_decision(p, 10);
		pt->left = query_decision(p, 11);
	}
	sqlite3_reset(p);
	return rc == SQLITE_DONE ? 0 : query_fail(q, rc, "calibration points");
}

static sqlite3_stmt *points_stmt(struct query *q)
{
	return query_prepare(q, "SELECT n, quantity, unit, reference, as_found,"
	                        " as_left, lower, upper, U, k, found_result,"
	                        " left_result FROM calibration_points"
	                        " WHERE calibration_id = ?1 ORDER BY n");
}

/* Run s (bound by the caller) and give each record to fn. */
static int each_record(struct query *q, sqlite3_stmt *s,
                       int (*fn)(void *, const struct calib_record *),
                       void *ctx)
{
	sqlite3_stmt *p = points_stmt(q);
	struct calib_record *r = malloc(sizeof(*r));
	int rc, ret = 0;

	if (p == NULL || r == NULL) {
		ret = r == NULL ? query_fail(q, SQLITE_NOMEM, "calibrations")
		                : -1;
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_columns(s, r);
		if (read_points(q, p, r) < 0) {
			ret = -1;
			goto out;
		}
		if ((ret = fn(ctx, r)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		ret = query_fail(q, rc, "calibrations");
out:
	sqlite3_finalize(p);
	free(r);
	return ret;
}

int query_calibrations(struct query *q, const char *instrument,
                       const char *owner,
                       int (*fn)(void *ctx, const struct calib_record *),
                       void *ctx)
{
	sqlite3_stmt *s = query_prepare(
	        q, "SELECT " RECORD_COLUMNS RECORD_FROM
	           " WHERE (?1 IS NULL OR i.name = ?1)"
	           " AND (?2 IS NULL OR i.owner = ?2) ORDER BY c.id");
	int ret;

	if (s == NULL)
		return -1;
	if (instrument != NULL)
		sqlite3_bind_text(s, 1, instrument, -1, SQLITE_STATIC);
	if (owner != NULL)
		sqlite3_bind_text(s, 2, owner, -1, SQLITE_STATIC);
	ret = each_record(q, s, fn, ctx);
	sqlite3_finalize(s);
	return ret;
}

static int copy_out(void *ctx, const struct calib_record *r)
{
	memcpy(ctx, r, sizeof(*r));
	return 1;
}

static int one_record(struct query *q, const char *where, const char *text,
                      int64_t id, struct calib_record *out)
{
	char sql[2048];
	sqlite3_stmt *s;
	int ret;

	snprintf(sql, sizeof(sql), "SELECT %s%s WHERE %s", RECORD_COLUMNS,
	         RECORD_FROM, where);
	if ((s = query_prepare(q, sql)) == NULL)
		return -1;
	if (text != NULL)
		sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(s, 1, id);
	ret = each_record(q, s, copy_out, out);
	sqlite3_finalize(s);
	return ret < 0 ? -1 : ret == 1 ? 0 : 1;
}

int query_calibration(struct query *q, int64_t id, struct calib_record *out)
{
	return one_record(q, "c.id = ?1", NULL, id, out);
}

int query_calibration_by_cert(struct query *q, const char *certificate,
                              struct calib_record *out)
{
	return one_record(q, "c.certificate = ?1 ORDER BY c.id DESC LIMIT 1",
	                  certificate, 0, out);
}

int64_t query_superseded_by(struct query *q, int64_t id)
{
	sqlite3_stmt *s = query_prepare(
	        q, "SELECT id FROM calibrations WHERE supersedes = ?1");
	int64_t by = 0;
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		by = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_DONE)
		by = query_fail(q, rc, "calibrations");
	sqlite3_finalize(s);
	return by;
}

/* The one text column of the one row s selects (prepared, bound; NULL:
 * preparing failed) into out: 1, 0 no row, -1 error. Finalizes s. */
static int lab_text(struct query *q, sqlite3_stmt *s, char *out, size_t size)
{
	int rc, found = 0;

	if (size > 0)
		out[0] = '\0';
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		query_text(s, 0, out, size);
		found = 1;
	} else if (rc != SQLITE_DONE) {
		found = query_fail(q, rc, "lab");
	}
	sqlite3_finalize(s);
	return found;
}

int query_lab_logo(struct query *q, const char *lab, char *path, size_t size)
{
	sqlite3_stmt *s = query_prepare(
	        q, "SELECT logo FROM lab WHERE name = ?1 AND logo != ''");

	if (s != NULL)
		sqlite3_bind_text(s, 1, lab, -1, SQLITE_STATIC);
	return lab_text(q, s, path, size);
}

int query_lab_timezone(struct query *q, char *name, size_t size)
{
	return lab_text(q,
	                query_prepare(q, "SELECT timezone FROM lab WHERE "
	                                 "timezone != ''"),
	                name, size);
}

int query_use_lab_zone(const char *path, char *name, size_t size)
{
	const char *tz = getenv("TZ");
	char err[256];
	struct query *q;
	int taken = 0;

	if ((tz != NULL && *tz != '\0') ||
	    (q = query_open(path, err, sizeof(err))) == NULL)
		return 0;
	if (query_lab_timezone(q, name, size) == 1 &&
	    labtime_use_zone(name) == 0)
		taken = 1;
	query_close(q);
	return taken;
}

/* ---- the audit chain ---------------------------------------------------- */

struct chain {
	struct query_verify *v;
	char hash[CALIB_HASH];
};

__attribute__((format(printf, 3, 4))) static int
bad(struct chain *c, int64_t id, const char *fmt, ...)
{
	va_list ap;

	c->v->bad_id = id;
	va_start(ap, fmt);
	vsnprintf(c->v->message, sizeof(c->v->message), fmt, ap);
	va_end(ap);
	return 1;
}

static int check_link(void *ctx, const struct calib_record *r)
{
	struct chain *c = ctx;
	int64_t expect = c->v->records + 1;
	char hash[CALIB_HASH];

	if (r->id != expect)
		return bad(c, expect,
		           "record %" PRId64 " is missing: the chain goes from "
		           "record %" PRId64 " to record %" PRId64
		           " (a record was deleted)",
		           expect, c->v->records, r->id);
	if (strcmp(r->prev_hash, c->hash) != 0)
		return bad(c, r->id,
		           "record %" PRId64
		           " (certificate %s) does not link to "
		           "record %" PRId64 ": it names hash %.16s..., the "
		           "record before has %.16s... (record %" PRId64
		           " was altered and its hash recomputed, or replaced)",
		           r->id, r->certificate, r->id - 1, r->prev_hash,
		           c->hash, r->id - 1);
	if (r->npoints < 0)
		return bad(c, r->id,
		           "record %" PRId64
		           " (certificate %s): its test points "
		           "are not numbered 1, 2, ... (a point was removed or "
		           "added)",
		           r->id, r->certificate);
	if (calib_hash(r, hash) < 0)
		return -1;
	if (strcmp(hash, r->hash) != 0)
		return bad(
		        c, r->id,
		        "record %" PRId64 " (certificate %s) was altered: its "
		        "content hashes to %.16s..., the chain holds %.16s...",
		        r->id, r->certificate, hash, r->hash);
	snprintf(c->hash, sizeof(c->hash), "%s", r->hash);
	c->v->records++;
	return 0;
}

/* ---- approvals ---------------------------------------------------------- */

#define APPROVAL_SELECT                                                        \
	"SELECT a.id, a.calibration_id, a.approved, a.approver, a.role,"       \
	" a.prev_hash, a.hash, c.hash, c.certificate FROM approvals a"         \
	" LEFT JOIN calibrations c ON c.id = a.calibration_id"

/* The columns of APPROVAL_SELECT into a (record_hash "" when the record
 * does not exist) and the record's certificate into cert. */
static void read_approval(sqlite3_stmt *s, struct calib_approval *a, char *cert,
                          size_t size)
{
	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(s, 0);
	a->calibration_id = sqlite3_column_int64(s, 1);
	a->approved_us = sqlite3_column_int64(s, 2);
	query_text(s, 3, a->approver, sizeof(a->approver));
	query_text(s, 4, a->role, sizeof(a->role));
	query_text(s, 5, a->prev_hash, sizeof(a->prev_hash));
	query_text(s, 6, a->hash, sizeof(a->hash));
	query_text(s, 7, a->record_hash, sizeof(a->record_hash));
	query_text(s, 8, cert, size);
}

/* The approval where column = id: 0 found, 1 none, -1 error. */
static int one_approval(struct query *q, const char *column, int64_t id,
                        struct calib_approval *out, char *cert, size_t size)
{
	char sql[1024];
	sqlite3_stmt *s;
	int rc;

	snprintf(sql, sizeof(sql), "%s WHERE a.%s = ?1", APPROVAL_SELECT,
	         column);
	if ((s = query_prepare(q, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		read_approval(s, out, cert, size);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : query_fail(q, rc, "approvals");
}

int query_approval(struct query *q, int64_t calibration_id,
                   struct calib_approval *out)
{
	char cert[CALIB_ID];

	return one_approval(q, "calibration_id", calibration_id, out, cert,
	                    sizeof(cert));
}

int query_approval_at(struct query *q, int64_t id, struct calib_approval *out,
                      char *cert, size_t size)
{
	return one_approval(q, "id", id, out, cert, size);
}

/* One approval in the chain: 0 good, 1 bad (c->v says why). */
static int check_approval(struct chain *c, const struct calib_approval *a,
                          const char *cert)
{
	int64_t expect = c->v->approvals + 1;
	char hash[CALIB_HASH];

	c->v->bad_approval = a->id;
	if (a->id != expect) {
		c->v->bad_approval = expect;
		return bad(c, 0,
		           "approval %" PRId64 " is missing: the approvals go "
		           "from approval %" PRId64 " to approval %" PRId64
		           " (an approval was deleted)",
		           expect, c->v->approvals, a->id);
	}
	if (strcmp(a->prev_hash, c->hash) != 0)
		return bad(c, 0,
		           "approval %" PRId64 " does not link to approval "
		           "%" PRId64 ": it names hash %.16s..., the approval "
		           "before has %.16s... (approval %" PRId64
		           " was altered and its hash recomputed, or replaced)",
		           a->id, a->id - 1, a->prev_hash, c->hash, a->id - 1);
	if (a->record_hash[0] == '\0')
		return bad(c, 0,
		           "approval %" PRId64 " names record %" PRId64
		           ", which does not exist",
		           a->id, a->calibration_id);
	if (calib_approval_hash(a, hash) < 0)
		return -1;
	if (strcmp(hash, a->hash) != 0)
		return bad(c, 0,
		           "approval %" PRId64 " (record %" PRId64
		           ", certificate %s) was altered: its content with "
		           "the record's hash hashes to %.16s..., the chain "
		           "holds %.16s...",
		           a->id, a->calibration_id, cert, hash, a->hash);
	c->v->bad_approval = 0;
	snprintf(c->hash, sizeof(c->hash), "%s", a->hash);
	c->v->approvals++;
	return 0;
}

/* The approvals' chain, after the records': 0 intact, 1 bad, -1 error. */
static int verify_approvals(struct query *q, struct query_verify *out)
{
	struct chain c = {.v = out};
	sqlite3_stmt *s = query_prepare(q, APPROVAL_SELECT " ORDER BY a.id");
	struct calib_approval a;
	char cert[CALIB_ID];
	int rc = SQLITE_DONE, ret = 0;

	snprintf(c.hash, sizeof(c.hash), "%s", CALIB_GENESIS);
	if (s == NULL)
		return -1;
	while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_approval(s, &a, cert, sizeof(cert));
		ret = check_approval(&c, &a, cert);
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = query_fail(q, rc, "approvals");
	sqlite3_finalize(s);
	snprintf(out->approvals_head, sizeof(out->approvals_head), "%s",
	         c.hash);
	return ret;
}

int query_verify(struct query *q, struct query_verify *out)
{
	struct chain c = {.v = out};
	sqlite3_stmt *s;
	int ret;

	memset(out, 0, sizeof(*out));
	snprintf(c.hash, sizeof(c.hash), "%s", CALIB_GENESIS);
	s = query_prepare(q, "SELECT " RECORD_COLUMNS RECORD_FROM
	                     " ORDER BY c.id");
	if (s == NULL)
		return -1;
	ret = each_record(q, s, check_link, &c);
	sqlite3_finalize(s);
	if (ret < 0)
		return -1;
	snprintf(out->head, sizeof(out->head), "%s", c.hash);
	if (ret == 0) {
		/* point rows of no record (added behind the store's back) */
		sqlite3_stmt *o = query_prepare(
		        q, "SELECT calibration_id FROM calibration_points p"
		           " WHERE NOT EXISTS (SELECT 1 FROM calibrations c"
		           "   WHERE c.id = p.calibration_id) LIMIT 1");
		if (o == NULL)
			return -1;
		if (sqlite3_step(o) == SQLITE_ROW) {
			bad(&c, sqlite3_column_int64(o, 0),
			    "test points of record %lld exist without the "
			    "record",
			    (long long)sqlite3_column_int64(o, 0));
			ret = 1;
		}
		sqlite3_finalize(o);
	}
	if (ret == 0)
		ret = verify_approvals(q, out);
	return ret;
}
