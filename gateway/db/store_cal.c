/*
 * store_cal.c - the calibration records in the database: appending a
 * record to the hash-chained, append-only table (store_cal_append), and
 * reading the calibration in force of every instrument and standard
 * (store_cal_in_force), from which metrologd's composer derives the due
 * states it records and publishes; approving a record (store_cal_approve,
 * the approvals' own chain). See store.h for the contracts,
 * calib.h for the record and its hash, docs/SCHEMA.md for the tables.
 *
 * Threading: as store.c; the struct store belongs to one thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib.h"
#include "drift.h"
#include "schema.h"
#include "store_int.h"
#include "text.h"

/* ---- calibration records ----------------------------------------------- */

#define CAL_FUTURE_US (86400 * 1000000LL) /* clocks and time zones */

/* A statement prepared for one store_cal_append(); NULL with the error set
 * on failure. */
static sqlite3_stmt *prep(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK) {
		st_sqlite_error(st, rc, "calibration");
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

/* Run sql with one text or integer parameter; the first row's column 0
 * and 1 as integers into a and b (either may be NULL). 1 row, 0 none, -1
 * error. */
static int lookup(struct store *st, const char *sql, const char *text,
                  int64_t num, int64_t *a, int64_t *b)
{
	sqlite3_stmt *s = prep(st, sql);
	int rc, found = 0;

	if (s == NULL)
		return -1;
	if (text != NULL)
		st_bind_text(s, 1, text);
	else
		sqlite3_bind_int64(s, 1, num);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		found = 1;
		if (a != NULL)
			*a = sqlite3_column_int64(s, 0);
		if (b != NULL)
			*b = sqlite3_column_int64(s, 1);
	} else if (rc != SQLITE_DONE) {
		st_sqlite_error(st, rc, "calibration");
		found = -1;
	}
	sqlite3_finalize(s);
	return found;
}

/* The reference standard's calibration in force when r was performed
 * (SCHEMA_CAL_IN_FORCE): its certificate, due date, and whether it was
 * overdue (or never calibrated). */
static int standard_snapshot(struct store *st, int64_t standard_id,
                             struct calib_record *r)
{
	sqlite3_stmt *s =
	        prep(st, "SELECT certificate, due FROM calibrations"
	                 " WHERE id = " SCHEMA_CAL_IN_FORCE("?1", "?2"));
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, standard_id);
	sqlite3_bind_int64(s, 2, r->performed_us);
	rc = sqlite3_step(s);
	r->standard_cert[0] = '\0';
	r->standard_due_us = 0;
	r->standard_overdue = true; /* never calibrated */
	if (rc == SQLITE_ROW) {
		const unsigned char *c = sqlite3_column_text(s, 0);
		snprintf(r->standard_cert, sizeof(r->standard_cert), "%s",
		         c != NULL ? (const char *)c : "");
		r->standard_due_us = sqlite3_column_int64(s, 1);
		r->standard_overdue =
		        calib_due_state(r->standard_due_us, 0,
		                        r->performed_us) == CALIB_DUE_OVERDUE;
	} else if (rc != SQLITE_DONE) {
		st_sqlite_error(st, rc, "calibration");
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

static void bind_decision(sqlite3_stmt *s, int i, int d)
{
	if (d < 0)
		sqlite3_bind_null(s, i);
	else
		st_bind_text(s, i, drift_decision_name((enum drift_decision)d));
}

static void bind_maybe(sqlite3_stmt *s, int i, double v)
{
	if (isnan(v))
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_double(s, i, v);
}

static int insert_record(struct store *st, const struct calib_record *r,
                         int64_t inst_id, int64_t std_id)
{
	sqlite3_stmt *s = prep(
	        st, "INSERT INTO calibrations (id, instrument_id, certificate,"
	            " supersedes, performed, issued, interval_days, due,"
	            " standard_id, standard_cert, standard_due,"
	            " standard_overdue, lab, customer, method, conditions,"
	            " technician, authorised, remarks, rule, guard_factor,"
	            " result_found, result_left, prev_hash, hash, rule_version,"
	            " min_tur, max_risk, lab_address, lab_accreditation,"
	            " customer_address, customer_contact, location,"
	            " item_condition, received, specification, deviations,"
	            " standard_reason, amendment, customer_id, model) VALUES"
	            " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
	            " ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24,"
	            " ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35,"
	            " ?36, ?37, ?38, ?39, ?40, ?41)");
	sqlite3_stmt *p = prep(
	        st,
	        "INSERT INTO calibration_points (calibration_id, n,"
	        " quantity, unit, reference, as_found, as_left, lower,"
	        " upper, U, k, found_result, left_result) VALUES"
	        " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
	int rc = -1;

	if (s == NULL || p == NULL)
		goto out;
	sqlite3_bind_int64(s, 1, r->id);
	sqlite3_bind_int64(s, 2, inst_id);
	st_bind_text(s, 3, r->certificate);
	if (r->supersedes > 0)
		sqlite3_bind_int64(s, 4, r->supersedes);
	sqlite3_bind_int64(s, 5, r->performed_us);
	sqlite3_bind_int64(s, 6, r->issued_us);
	sqlite3_bind_int(s, 7, r->interval_days);
	sqlite3_bind_int64(s, 8, r->due_us);
	if (std_id > 0)
		sqlite3_bind_int64(s, 9, std_id);
	st_bind_text(s, 10, r->standard_cert);
	sqlite3_bind_int64(s, 11, r->standard_due_us);
	sqlite3_bind_int(s, 12, r->standard_overdue);
	st_bind_text(s, 13, r->lab);
	st_bind_text(s, 14, r->customer);
	st_bind_text(s, 15, r->method);
	st_bind_text(s, 16, r->conditions);
	st_bind_text(s, 17, r->technician);
	st_bind_text(s, 18, r->authorised);
	st_bind_text(s, 19, r->remarks);
	st_bind_text(s, 20,
	             r->rule == CALIB_RULE_GUARDED ? "guarded" : "simple");
	sqlite3_bind_double(s, 21, r->guard_factor);
	bind_decision(s, 22, r->result_found);
	bind_decision(s, 23, r->result_left);
	st_bind_text(s, 24, r->prev_hash);
	st_bind_text(s, 25, r->hash);
	sqlite3_bind_int(s, 26, r->rule_version);
	sqlite3_bind_double(s, 27, r->min_tur);
	sqlite3_bind_double(s, 28, r->max_risk);
	st_bind_text(s, 29, r->lab_address);
	st_bind_text(s, 30, r->lab_accreditation);
	st_bind_text(s, 31, r->customer_address);
	st_bind_text(s, 32, r->customer_contact);
	st_bind_text(s, 33, r->location);
	st_bind_text(s, 34, r->item_condition);
	sqlite3_bind_int64(s, 35, r->received_us);
	st_bind_text(s, 36, r->specification);
	st_bind_text(s, 37, r->deviations);
	st_bind_text(s, 38, r->standard_reason);
	st_bind_text(s, 39, r->amendment);
	st_bind_text(s, 40, r->customer_id);
	st_bind_text(s, 41, r->model);
	if (st_run(st, s, "calibration") < 0)
		goto out;
	for (int i = 0; i < r->npoints; i++) {
		const struct calib_point *pt = &r->points[i];
		sqlite3_bind_int64(p, 1, r->id);
		sqlite3_bind_int(p, 2, i + 1);
		st_bind_text(p, 3, pt->quantity);
		st_bind_text(p, 4, pt->unit);
		sqlite3_bind_double(p, 5, pt->reference);
		bind_maybe(p, 6, pt->as_found);
		bind_maybe(p, 7, pt->as_left);
		sqlite3_bind_double(p, 8, pt->lower);
		sqlite3_bind_double(p, 9, pt->upper);
		sqlite3_bind_double(p, 10, pt->U);
		sqlite3_bind_double(p, 11, pt->k);
		bind_decision(p, 12, pt->found);
		bind_decision(p, 13, pt->left);
		if (st_run(st, p, "calibration") < 0)
			goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	sqlite3_finalize(p);
	return rc;
}

/* Column 0, text, of the row that sql with ?1 = id gives, into buf when
 * there is one (buf unchanged when none). Returns 0, or -1 when sql does
 * not prepare. */
static int lookup_text(struct store *st, const char *sql, int64_t id, char *buf,
                       size_t size)
{
	sqlite3_stmt *s = prep(st, sql);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW)
		snprintf(buf, size, "%s",
		         (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return 0;
}

/* Column i of the first row sql gives (?1 = key, unless NULL), as text,
 * into columns[i] (CALIB_TEXT bytes) where that is "" (a NULL entry:
 * skipped). Returns 1 a row, 0 none, -1 error. */
static int fill_texts(struct store *st, const char *sql, const char *key,
                      char *const *columns, int n)
{
	sqlite3_stmt *s = prep(st, sql);
	int rc;

	if (s == NULL)
		return -1;
	if (key != NULL)
		st_bind_text(s, 1, key);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		for (int i = 0; i < n; i++)
			if (columns[i] != NULL && columns[i][0] == '\0' &&
			    sqlite3_column_text(s, i) != NULL)
				snprintf(columns[i], CALIB_TEXT, "%s",
				         (const char *)sqlite3_column_text(s,
				                                           i));
	} else if (rc != SQLITE_DONE) {
		st_sqlite_error(st, rc, "calibration");
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* The laboratory's identity (the lab table, from metrologd's
 * configuration) where r gives no lab: name, address, accreditation and,
 * where r gives none, the lab's usual location of work. */
static int cal_lab(struct store *st, struct calib_record *r)
{
	char *const cols[] = {r->lab, r->lab_address, r->lab_accreditation,
	                      r->location};

	if (r->lab[0] != '\0')
		return 0;
	return fill_texts(st,
	                  "SELECT name, address, accreditation, location"
	                  " FROM lab",
	                  NULL, cols, 4) < 0
	               ? -1
	               : 0;
}

/* The customer where r gives none: the instrument's owner, with the
 * name, address and contact of the customers table when it knows that
 * owner, else the owner's id alone. */
static int cal_customer(struct store *st, struct calib_record *r,
                        int64_t inst_id)
{
	char owner[CALIB_TEXT] = "";
	char *const cols[] = {r->customer, r->customer_address,
	                      r->customer_contact};
	int found;

	if (r->customer[0] != '\0')
		return 0;
	if (lookup_text(st, "SELECT owner FROM instruments WHERE id = ?1",
	                inst_id, owner, sizeof(owner)) < 0)
		return -1;
	found = fill_texts(st,
	                   "SELECT legal_name, address, contact FROM customers"
	                   " WHERE name = ?1",
	                   owner, cols, 3);
	if (found == 0)
		snprintf(r->customer, sizeof(r->customer), "%s", owner);
	return found < 0 ? -1 : 0;
}

/* The instrument of r into inst_id; its interval where r gives none, and
 * its model (a snapshot, as the standard's certificate is). */
static int cal_instrument(struct store *st, struct calib_record *r,
                          int64_t *inst_id)
{
	int64_t interval = 0;
	int found = lookup(st,
	                   "SELECT id, interval_days FROM instruments"
	                   " WHERE name = ?1",
	                   r->instrument, 0, inst_id, &interval);

	if (found <= 0) {
		if (found == 0)
			st_error(st, STORE_OTHER,
			         "unknown instrument \"%s\": not an instrument "
			         "or standard of any configuration metrologd "
			         "has loaded",
			         r->instrument);
		return -1;
	}
	if (r->interval_days == 0)
		r->interval_days = (int)interval;
	r->model[0] = '\0'; /* the item's model as configured now */
	return lookup_text(st, "SELECT model FROM instruments WHERE id = ?1",
	                   *inst_id, r->model, sizeof(r->model));
}

/* A new certificate number, and a record to supersede (if any) of the
 * same instrument and not yet superseded. */
static int cal_check_numbers(struct store *st, const struct calib_record *r,
                             int64_t inst_id)
{
	int64_t other = 0, of = 0;
	int found;

	found = lookup(st, "SELECT id FROM calibrations WHERE certificate = ?1",
	               r->certificate, 0, &other, NULL);
	if (found != 0) {
		if (found > 0)
			st_error(st, STORE_OTHER,
			         "certificate number %s is already record "
			         "%" PRId64
			         " (a correction needs a new number)",
			         r->certificate, other);
		return -1;
	}
	if (r->supersedes <= 0)
		return 0;
	found = lookup(st,
	               "SELECT instrument_id FROM calibrations"
	               " WHERE id = ?1",
	               NULL, r->supersedes, &of, NULL);
	if (found <= 0 || of != inst_id) {
		if (found >= 0)
			st_error(st, STORE_OTHER,
			         "record %" PRId64 " to supersede %s",
			         r->supersedes,
			         found == 0 ? "does not exist"
			                    : "is of another instrument");
		return -1;
	}
	found = lookup(st,
	               "SELECT id FROM calibrations"
	               " WHERE supersedes = ?1",
	               NULL, r->supersedes, &other, NULL);
	if (found != 0) {
		if (found > 0)
			st_error(st, STORE_OTHER,
			         "record %" PRId64
			         " is already superseded by record "
			         "%" PRId64,
			         r->supersedes, other);
		return -1;
	}
	return 0;
}

/* A standard overdue or never calibrated on r's date is used only with
 * a recorded reason; a reason without such a standard is refused too (the
 * certificate would print it). */
static int standard_reason_check(struct store *st, const struct calib_record *r)
{
	char due[32];

	if (r->standard_overdue && r->standard_reason[0] == '\0') {
		if (r->standard_cert[0] == '\0')
			st_error(st, STORE_OTHER,
			         "reference standard %s was never calibrated "
			         "(no record of it in force on the calibration "
			         "date): use a calibrated standard, or give "
			         "--standard-reason (recorded, and printed on "
			         "the certificate instead of a traceability "
			         "claim)",
			         r->standard);
		else {
			calib_due_date(r->standard_due_us, due, sizeof(due));
			st_error(st, STORE_OTHER,
			         "reference standard %s was overdue on the "
			         "calibration date (certificate %s, due %s): "
			         "use a calibrated standard, or give "
			         "--standard-reason (recorded, and printed on "
			         "the certificate instead of a traceability "
			         "claim)",
			         r->standard, r->standard_cert, due);
		}
		return -1;
	}
	if (!r->standard_overdue && r->standard_reason[0] != '\0') {
		st_error(st, STORE_OTHER, "--standard-reason given, but %s",
		         r->standard[0] ? "the reference standard was in "
		                          "calibration on that date"
		                        : "no reference standard was named");
		return -1;
	}
	return 0;
}

/* The reference standard of r into std_id (0: none) and its snapshot
 * into r. */
static int cal_standard(struct store *st, struct calib_record *r,
                        int64_t *std_id)
{
	int found;

	*std_id = 0;
	if (r->standard[0] == '\0') {
		r->standard_cert[0] = '\0';
		r->standard_due_us = 0;
		r->standard_overdue = false;
		return standard_reason_check(st, r);
	}
	if (strcmp(r->standard, r->instrument) == 0) {
		st_error(st, STORE_OTHER,
		         "%s cannot be its own reference standard",
		         r->instrument);
		return -1;
	}
	found = lookup(st, "SELECT id FROM instruments WHERE name = ?1",
	               r->standard, 0, std_id, NULL);
	if (found <= 0) {
		if (found == 0)
			st_error(st, STORE_OTHER,
			         "unknown reference standard \"%s\": "
			         "list it under standards (or "
			         "instruments) in the configuration",
			         r->standard);
		return -1;
	}
	if (standard_snapshot(st, *std_id, r) < 0)
		return -1;
	return standard_reason_check(st, r);
}

/* The id of r and the hash of the record before it in the chain. */
static int cal_chain(struct store *st, struct calib_record *r)
{
	int64_t last_id = 0;

	if (lookup(st, "SELECT id FROM calibrations ORDER BY id DESC LIMIT 1",
	           NULL, 0, &last_id, NULL) < 0)
		return -1;
	r->prev_hash[0] = '\0';
	if (last_id > 0) {
		if (lookup_text(
		            st, "SELECT hash FROM calibrations WHERE id = ?1",
		            last_id, r->prev_hash, sizeof(r->prev_hash)) < 0)
			return -1;
	} else {
		snprintf(r->prev_hash, sizeof(r->prev_hash), "%s",
		         CALIB_GENESIS);
	}
	r->id = last_id + 1;
	return 0;
}

/* Everything store_cal_append() checks and fills in, inside its
 * transaction. */
static int cal_prepare(struct store *st, struct calib_record *r,
                       int64_t *inst_id, int64_t *std_id)
{
	char why[256];

	if (cal_instrument(st, r, inst_id) < 0 || cal_lab(st, r) < 0 ||
	    cal_customer(st, r, *inst_id) < 0 ||
	    cal_check_numbers(st, r, *inst_id) < 0 ||
	    cal_standard(st, r, std_id) < 0 || cal_chain(st, r) < 0)
		return -1;
	r->issued_us = st_now_us();
	if (r->performed_us > r->issued_us + CAL_FUTURE_US) {
		st_error(st, STORE_OTHER,
		         "the calibration date is in the future (more than a "
		         "day after now)");
		return -1;
	}
	r->due_us = calib_next_due(r->performed_us, r->interval_days);
	if (calib_evaluate(r) < 0 || calib_hash(r, r->hash) < 0) {
		st_error(st, STORE_OTHER, "calibration: cannot evaluate");
		return -1;
	}
	if (r->refuse_no_statement &&
	    calib_statements_check(r, why, sizeof(why)) < 0) {
		st_error(st, STORE_OTHER,
		         "%s (refused: no-statement is refuse)", why);
		return -1;
	}
	return 0;
}

int store_cal_append(struct store *st, struct calib_record *r)
{
	char why[256];
	int64_t inst_id = 0, std_id = 0;

	calib_current(r); /* decided under today's rules, never older ones */
	if (calib_validate(r, why, sizeof(why)) < 0) {
		st_error(st, STORE_OTHER, "calibration: %s", why);
		return -1;
	}
	if (st_run(st, st->stmt[S_BEGIN], "calibration") < 0)
		return -1;
	if (cal_prepare(st, r, &inst_id, &std_id) < 0 ||
	    insert_record(st, r, inst_id, std_id) < 0 ||
	    st_run(st, st->stmt[S_COMMIT], "calibration") < 0) {
		st_rollback(st);
		return -1;
	}
	return 0;
}

/* ---- approvals --------------------------------------------------------- */

/* One text of an approval, trimmed into buf: 0, or -1 (recorded) when it
 * is not printable or does not fit. */
static int approval_text(struct store *st, const char *what, const char *v,
                         char *buf, size_t size)
{
	char why[128];
	int n = snprintf(buf, size, "%s", v != NULL ? v : "");

	if (n < 0 || (size_t)n >= size) {
		st_error(st, STORE_OTHER, "approval: the %s is too long", what);
		return -1;
	}
	char *t = text_trim(buf);
	memmove(buf, t, strlen(t) + 1);
	if (text_printable(buf, why, sizeof(why)) < 0) {
		st_error(st, STORE_OTHER, "approval: the %s: %s", what, why);
		return -1;
	}
	return 0;
}

/* The record a certificate number names, checked for approval: its id
 * and hash into a, its technician into tech. */
static int approval_record(struct store *st, const char *certificate,
                           struct calib_approval *a, char *tech, size_t size)
{
	sqlite3_stmt *s = prep(st, "SELECT id, hash, technician FROM"
	                           " calibrations WHERE certificate = ?1"
	                           " ORDER BY id DESC LIMIT 1");
	int64_t other = 0;
	int rc, found;

	if (s == NULL)
		return -1;
	st_bind_text(s, 1, certificate);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		a->calibration_id = sqlite3_column_int64(s, 0);
		snprintf(a->record_hash, sizeof(a->record_hash), "%s",
		         (const char *)sqlite3_column_text(s, 1));
		snprintf(tech, size, "%s",
		         (const char *)sqlite3_column_text(s, 2));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			st_error(st, STORE_OTHER,
			         "no calibration record with certificate "
			         "number %s",
			         certificate);
		else
			st_sqlite_error(st, rc, "approval");
		return -1;
	}
	found = lookup(st, "SELECT id FROM calibrations WHERE supersedes = ?1",
	               NULL, a->calibration_id, &other, NULL);
	if (found != 0) {
		if (found > 0)
			st_error(st, STORE_OTHER,
			         "record %" PRId64 " (certificate %s) is "
			         "superseded by record %" PRId64
			         ": approve the correction, not it",
			         a->calibration_id, certificate, other);
		return -1;
	}
	return 0;
}

/* Refuse a second approval of a's record. */
static int approval_unique(struct store *st, const struct calib_approval *a,
                           const char *certificate)
{
	sqlite3_stmt *s = prep(st, "SELECT id, approver FROM approvals"
	                           " WHERE calibration_id = ?1");
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, a->calibration_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		st_error(st, STORE_OTHER,
		         "record %" PRId64 " (certificate %s) is already "
		         "approved, by %s (approval %lld): an approval is "
		         "never repeated",
		         a->calibration_id, certificate,
		         (const char *)sqlite3_column_text(s, 1),
		         (long long)sqlite3_column_int64(s, 0));
	else if (rc != SQLITE_DONE)
		st_sqlite_error(st, rc, "approval");
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The id of a and the hash of the approval before it. */
static int approval_chain(struct store *st, struct calib_approval *a)
{
	int64_t last = 0;

	if (lookup(st, "SELECT coalesce(max(id), 0) FROM approvals", NULL, 0,
	           &last, NULL) < 0)
		return -1;
	snprintf(a->prev_hash, sizeof(a->prev_hash), "%s", CALIB_GENESIS);
	if (last > 0 &&
	    lookup_text(st, "SELECT hash FROM approvals WHERE id = ?1", last,
	                a->prev_hash, sizeof(a->prev_hash)) < 0)
		return -1;
	a->id = last + 1;
	return 0;
}

/* Everything store_cal_approve() checks and fills in, inside its
 * transaction. */
static int approval_prepare(struct store *st, const char *certificate,
                            struct calib_approval *a)
{
	char tech[CALIB_TEXT] = "";

	if (approval_record(st, certificate, a, tech, sizeof(tech)) < 0 ||
	    approval_unique(st, a, certificate) < 0)
		return -1;
	if (calib_same_person(a->approver, tech)) {
		st_error(st, STORE_OTHER,
		         "%s calibrated record %" PRId64
		         " (certificate %s) and cannot approve it: the "
		         "approval must be by another person",
		         a->approver, a->calibration_id, certificate);
		return -1;
	}
	if (approval_chain(st, a) < 0)
		return -1;
	a->approved_us = st_now_us();
	if (calib_approval_hash(a, a->hash) < 0) {
		st_error(st, STORE_OTHER, "approval: out of memory");
		return -1;
	}
	return 0;
}

int store_cal_approve(struct store *st, const char *certificate,
                      const char *approver, const char *role,
                      struct calib_approval *out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (approval_text(st, "approver", approver, out->approver,
	                  sizeof(out->approver)) < 0 ||
	    approval_text(st, "role", role, out->role, sizeof(out->role)) < 0)
		return -1;
	if (out->approver[0] == '\0') {
		st_error(st, STORE_OTHER, "approval: no approver named");
		return -1;
	}
	if (st_run(st, st->stmt[S_BEGIN], "approval") < 0)
		return -1;
	if (approval_prepare(st, certificate, out) < 0 ||
	    (s = prep(st, "INSERT INTO approvals (id, calibration_id,"
	                  " approved, approver, role, prev_hash, hash)"
	                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")) == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, out->id);
	sqlite3_bind_int64(s, 2, out->calibration_id);
	sqlite3_bind_int64(s, 3, out->approved_us);
	st_bind_text(s, 4, out->approver);
	st_bind_text(s, 5, out->role);
	st_bind_text(s, 6, out->prev_hash);
	st_bind_text(s, 7, out->hash);
	rc = st_run(st, s, "approval");
	sqlite3_finalize(s);
	if (rc < 0 || st_run(st, st->stmt[S_COMMIT], "approval") < 0)
		goto fail;
	return 0;
fail:
	st_rollback(st);
	return -1;
}

/* ---- calibration in force -------------------------------------------- */

int store_cal_last_id(struct store *st, int64_t *id)
{
	*id = 0;
	return lookup(st, "SELECT coalesce(max(id), 0) FROM calibrations", NULL,
	              0, id, NULL) < 0
	               ? -1
	               : 0;
}

/* An entity by row id (?1): the due date and certificate of its
 * calibration in force at ?2 (schema.h), and whether a record names it as
 * the standard. */
static const char in_force_sql[] =
        "SELECT f.due, f.certificate,"
        " EXISTS (SELECT 1 FROM calibrations r WHERE r.standard_id = ?1)"
        " FROM (SELECT 1) LEFT JOIN calibrations f ON f.id "
        "= " SCHEMA_CAL_IN_FORCE("?1", "?2");

int store_cal_in_force(struct store *st, int64_t now_us,
                       struct store_cal_force *out, size_t n)
{
	sqlite3_stmt *q = prep(st, in_force_sql);
	int rc = SQLITE_DONE;

	if (q == NULL)
		return -1;
	if (n > st->nentities) {
		sqlite3_finalize(q);
		st_error(st, STORE_OTHER,
		         "calibration states: %zu entities, the configuration "
		         "has %" PRIu32,
		         n, st->nentities);
		return -1;
	}
	for (size_t k = 0; k < n; k++) {
		sqlite3_bind_int64(q, 1, st->instrument_ids[k]);
		sqlite3_bind_int64(q, 2, now_us);
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW) {
			const unsigned char *cert = sqlite3_column_text(q, 1);
			out[k].due_us = sqlite3_column_int64(q, 0);
			snprintf(out[k].cert, sizeof(out[k].cert), "%s",
			         cert != NULL ? (const char *)cert : "");
			out[k].standard_of_record =
			        sqlite3_column_int(q, 2) != 0;
			rc = SQLITE_DONE;
		}
		sqlite3_reset(q);
		if (rc != SQLITE_DONE)
			break;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		st_sqlite_error(st, rc, "calibration states");
		return -1;
	}
	return 0;
}

int st_cal_mark(struct store *st, int64_t cal, int64_t approvals)
{
	const char *chain[2] = {"calibrations", "approvals"};
	int64_t upto[2] = {cal, approvals};

	for (int i = 0; i < 2; i++) {
		if (upto[i] <= 0)
			continue;
		sqlite3_stmt *s = prep(
		        st, "UPDATE published SET upto = ?1 WHERE chain = ?2");
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, upto[i]);
		st_bind_text(s, 2, chain[i]);
		int rc = st_run(st, s, "published");
		sqlite3_finalize(s);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int store_cal_published(struct store *st, struct store_cal_pub *out)
{
	memset(out, 0, sizeof(*out));
	return lookup(st,
	              "SELECT upto, (SELECT coalesce(max(id), 0) FROM"
	              " calibrations) FROM published WHERE chain = ?1",
	              "calibrations", 0, &out->cal_done, &out->cal_last) < 0 ||
	                       lookup(st,
	                              "SELECT upto, (SELECT coalesce(max(id), "
	                              "0)"
	                              " FROM approvals) FROM published"
	                              " WHERE chain = ?1",
	                              "approvals", 0, &out->approvals_done,
	                              &out->approvals_last) < 0
	               ? -1
	               : 0;
}

int store_cal_next_performed(struct store *st, int64_t now_us, int64_t *next)
{
	*next = 0;
	return lookup(st,
	              "SELECT coalesce(min(performed), 0) FROM calibrations"
	              " WHERE performed > ?1",
	              NULL, now_us, next, NULL) < 0
	               ? -1
	               : 0;
}
