/*
 * caltest.h - calibration records for the integration tests that append
 * them with the store API from the test process (test_records.c,
 * test_certificate.c, test_mqtt_requests.c): the fields a record needs
 * and a test point with fixed limits; a record of rule version 1
 * appended by plain SQL, as the code before version 2 did. Static inline,
 * like gwtest.h; a test that includes it links metrolog_gw and SQLite.
 * They fail the running cmocka test.
 */
#ifndef METROLOG_CALTEST_H
#define METROLOG_CALTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <inttypes.h>
#include <stdlib.h>

#include "calib.h"
#include "sqltest.h"
#include "store.h"

/* A record with what every record needs (the rest zero: simple
 * acceptance, no standard, the instrument's interval). */
static inline void cal_record(struct calib_record *r, const char *instrument,
                              const char *cert, const char *technician,
                              int64_t performed_us)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->instrument, sizeof(r->instrument), "%s", instrument);
	snprintf(r->certificate, sizeof(r->certificate), "%s", cert);
	snprintf(r->technician, sizeof(r->technician), "%s", technician);
	r->performed_us = performed_us;
}

/* A test point with error limits +-0.5 and U = 0.0625 (k = 2), in unit;
 * found or left may be NAN. */
static inline void cal_point(struct calib_record *r, const char *quantity,
                             const char *unit, double reference, double found,
                             double left)
{
	struct calib_point *p = &r->points[r->npoints++];

	snprintf(p->quantity, sizeof(p->quantity), "%s", quantity);
	snprintf(p->unit, sizeof(p->unit), "%s", unit);
	p->reference = reference;
	p->as_found = found;
	p->as_left = left;
	p->lower = -0.5;
	p->upper = 0.5;
	p->U = 0.0625;
	p->k = 2;
}

/* store_cal_append(), or fail the test with the store's message; the
 * record's id. */
static inline int64_t cal_append(struct store *st, struct calib_record *r)
{
	if (store_cal_append(st, r) != 0)
		fail_msg("store_cal_append %s: %s", r->certificate,
		         store_last_message(st));
	return r->id;
}

/* "NULL" or 'the decision's name' for SQL. */
static inline const char *cal_sql_decision(int d)
{
	static const char *const q[] = {"'pass'", "'conditional pass'",
	                                "'conditional fail'", "'fail'"};

	return d >= 0 && d < 4 ? q[d] : "NULL";
}

/* "NULL" or %.17g of v, into buf. */
static inline const char *cal_sql_num(double v, char *buf, size_t size)
{
	if (isnan(v))
		snprintf(buf, size, "NULL");
	else
		snprintf(buf, size, "%.17g", v);
	return buf;
}

/*
 * Append r to the chain of the database at db as the code before rule
 * version 2 did: decided under rule version 1 (calib_evaluate with
 * rule_version 0), hashed with version 1's canonical text, written with
 * the columns of schema version 4 (rule_version left to its default, 1),
 * plain SQL (nothing stops an INSERT). Fills in id, prev_hash, issued_us
 * (performed + 1 day), due_us, the decisions and hash. r's instrument
 * must exist; no standard. Returns r's id.
 */
static inline int64_t cal_append_v1(const char *db, struct calib_record *r)
{
	char *sql = malloc(1 << 16);
	char a[40], b[40];
	size_t n;

	assert_non_null(sql);
	r->rule_version = 0;
	r->id = db_int(db, "SELECT coalesce(max(id), 0) FROM calibrations") + 1;
	if (r->id == 1)
		snprintf(r->prev_hash, sizeof(r->prev_hash), "%s",
		         CALIB_GENESIS);
	else
		db_text(db,
		        "SELECT hash FROM calibrations ORDER BY id DESC "
		        "LIMIT 1",
		        r->prev_hash, sizeof(r->prev_hash));
	r->issued_us = r->performed_us + 86400000000LL;
	r->due_us = calib_next_due(r->performed_us, r->interval_days);
	assert_int_equal(calib_evaluate(r), 0);
	assert_int_equal(calib_hash(r, r->hash), 0);
	n = (size_t)snprintf(
	        sql, 1 << 16,
	        "INSERT INTO calibrations (id, instrument_id, certificate,"
	        " supersedes, performed, issued, interval_days, due,"
	        " standard_id, standard_cert, standard_due, standard_overdue,"
	        " lab, customer, method, conditions, technician, authorised,"
	        " remarks, rule, guard_factor, result_found, result_left,"
	        " prev_hash, hash) VALUES (%" PRId64 ", (SELECT id FROM"
	        " instruments WHERE name = '%s'), '%s', NULL, %" PRId64
	        ", %" PRId64 ", %d, %" PRId64 ", NULL, '', 0, 0, '%s', '%s',"
	        " '%s', '%s', '%s', '%s', '%s', '%s', %.17g, %s, %s, '%s',"
	        " '%s');",
	        r->id, r->instrument, r->certificate, r->performed_us,
	        r->issued_us, r->interval_days, r->due_us, r->lab, r->customer,
	        r->method, r->conditions, r->technician, r->authorised,
	        r->remarks,
	        r->rule == CALIB_RULE_GUARDED ? "guarded" : "simple",
	        r->guard_factor, cal_sql_decision(r->result_found),
	        cal_sql_decision(r->result_left), r->prev_hash, r->hash);
	for (int i = 0; i < r->npoints; i++) {
		const struct calib_point *p = &r->points[i];
		n += (size_t)snprintf(
		        sql + n, (1 << 16) - n,
		        "INSERT INTO calibration_points (calibration_id, n,"
		        " quantity, unit, reference, as_found, as_left, lower,"
		        " upper, U, k, found_result, left_result) VALUES"
		        " (%" PRId64 ", %d, '%s', '%s', %.17g, %s, %s, %.17g,"
		        " %.17g, %.17g, %.17g, %s, %s);",
		        r->id, i + 1, p->quantity, p->unit, p->reference,
		        cal_sql_num(p->as_found, a, sizeof(a)),
		        cal_sql_num(p->as_left, b, sizeof(b)), p->lower,
		        p->upper, p->U, p->k, cal_sql_decision(p->found),
		        cal_sql_decision(p->left));
	}
	assert_true(n < (1 << 16));
	db_exec(db, sql);
	free(sql);
	return r->id;
}

#endif
