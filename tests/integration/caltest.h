/*
 * caltest.h - calibration records for the integration tests that append
 * them with the store API from the test process (test_records.c,
 * test_certificate.c, test_mqtt_requests.c): the fields a record needs
 * and a test point with fixed limits. Static inline, like gwtest.h; a
 * test that includes it links metrolog_gw. They fail the running cmocka
 * test.
 */
#ifndef METROLOG_CALTEST_H
#define METROLOG_CALTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "calib.h"
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

#endif
