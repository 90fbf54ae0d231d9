/*
 * test_calib.c - calibration records (gateway/src/calib.c): validation,
 * decisions at the boundaries, the canonical text and its hash, due
 * states at their boundaries.
 *
 * The golden hash pins the canonical format: records already in lab
 * databases were hashed with it, so a change of format would make every
 * existing chain fail verification. The value was computed once with
 * `sha256sum` over the canonical text this test also checks line by line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "calib.h"
#include "drift.h"

/* sha256sum of the canonical text of base() once evaluated */
#define METROLOG_CALIB_GOLDEN                                                  \
	"37fb6b45f685d89824f6897b363ae75c0e756948acbee9945e00102c40f962ee"

#define DAY_US 86400000000LL
#define T0     1767225600000000LL /* 2026-01-01T00:00:00Z */

static void base(struct calib_record *r)
{
	memset(r, 0, sizeof(*r));
	r->id = 1;
	snprintf(r->prev_hash, sizeof(r->prev_hash), "%s", CALIB_GENESIS);
	r->issued_us = T0 + 10 * DAY_US;
	snprintf(r->instrument, sizeof(r->instrument), "TB-01");
	snprintf(r->certificate, sizeof(r->certificate), "C-2026/001");
	r->performed_us = T0 + 9 * DAY_US;
	r->interval_days = 365;
	r->due_us = calib_next_due(r->performed_us, 365);
	snprintf(r->technician, sizeof(r->technician), "Nguyễn Văn An");
	snprintf(r->remarks, sizeof(r->remarks), "line 1\nline 2 \\ end");
	r->rule = CALIB_RULE_GUARDED;
	r->guard_factor = 1;
	r->npoints = 1;
	struct calib_point *p = &r->points[0];
	snprintf(p->quantity, sizeof(p->quantity), "temperature");
	snprintf(p->unit, sizeof(p->unit), "degC");
	p->reference = 20;
	p->as_found = 20.5;
	p->as_left = NAN;
	p->lower = -1;
	p->upper = 1;
	p->U = 0.25;
	p->k = 2;
}

/* base() as a new record may be: its remarks without the newline that
 * base() keeps for the canonical text's escapes. */
static void valid_base(struct calib_record *r)
{
	base(r);
	snprintf(r->remarks, sizeof(r->remarks), "line 1, line 2 \\ end");
}

static void validate_refuses(void **state)
{
	(void)state;
	struct calib_record r;
	char err[256];

	valid_base(&r);
	assert_int_equal(calib_validate(&r, err, sizeof(err)), 0);

	/* base()'s remarks hold a newline (for the canonical text's
	 * escapes): a new record may not (text_printable) */
	base(&r);
	assert_int_equal(calib_validate(&r, err, sizeof(err)), -1);
	assert_string_equal(err,
	                    "remarks: a control character (0x0A) at byte 7");

	valid_base(&r);
	r.certificate[2] = ' ';
	assert_int_equal(calib_validate(&r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "only A-Z a-z 0-9 _ . - / allowed"));

	valid_base(&r);
	r.points[0].as_found = NAN;
	assert_int_equal(calib_validate(&r, err, sizeof(err)), -1);
	assert_string_equal(err, "point 1: neither an as-found nor an as-left "
	                         "value");

	valid_base(&r);
	r.points[0].lower = 2;
	assert_int_equal(calib_validate(&r, err, sizeof(err)), -1);
	assert_string_equal(err, "point 1: lower limit 2 > upper limit 1");

	valid_base(&r);
	r.points[0].k = 0;
	assert_int_equal(calib_validate(&r, err, sizeof(err)), -1);

	valid_base(&r);
	r.npoints = 0;
	assert_int_equal(calib_validate(&r, err, sizeof(err)), -1);

	valid_base(&r);
	r.technician[0] = '\0';
	assert_int_equal(calib_validate(&r, err, sizeof(err)), -1);
	assert_string_equal(err, "no technician");

	/* a string that fills its array may have been cut: refused */
	valid_base(&r);
	memset(r.method, 'm', sizeof(r.method) - 1);
	r.method[sizeof(r.method) - 1] = '\0';
	assert_int_equal(calib_validate(&r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "method too long"));
}

/* Guarded, w = U = 0.25, limits [-1, 1]: the zones of drift_decide with
 * exactly representable boundaries. */
static void decisions_at_boundaries(void **state)
{
	(void)state;
	struct calib_record r;
	const struct {
		double indication;
		int decision;
	} cases[] = {
	        {20.75, DRIFT_PASS},              /* exactly at upper - w */
	        {20.875, DRIFT_CONDITIONAL_PASS}, /* inside the guard band */
	        {21.0, DRIFT_CONDITIONAL_PASS},   /* exactly at the limit */
	        {21.25, DRIFT_CONDITIONAL_FAIL},  /* exactly at upper + w */
	        {21.5, DRIFT_FAIL},
	        {19.25, DRIFT_PASS}, /* exactly at lower + w */
	        {18.75, DRIFT_CONDITIONAL_FAIL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		base(&r);
		r.points[0].as_found = cases[i].indication;
		assert_int_equal(calib_evaluate(&r), 0);
		assert_int_equal(r.points[0].found, cases[i].decision);
		assert_int_equal(r.points[0].left, -1); /* NAN: not adjusted */
		assert_int_equal(r.result_found, cases[i].decision);
		assert_int_equal(r.result_left, -1);
	}
	/* simple acceptance: exactly at the limit passes, beyond fails */
	base(&r);
	r.rule = CALIB_RULE_SIMPLE;
	r.points[0].as_found = 21.0;
	assert_int_equal(calib_evaluate(&r), 0);
	assert_int_equal(r.points[0].found, DRIFT_PASS);
	r.points[0].as_found = 21.125;
	assert_int_equal(calib_evaluate(&r), 0);
	assert_int_equal(r.points[0].found, DRIFT_FAIL);
	/* the record's result is the worst of its points */
	base(&r);
	r.npoints = 2;
	r.points[1] = r.points[0];
	r.points[1].as_found = 21.5;
	r.points[0].as_left = 20.0;
	assert_int_equal(calib_evaluate(&r), 0);
	assert_int_equal(r.result_found, DRIFT_FAIL);
	assert_int_equal(r.result_left, DRIFT_PASS);
}

static void canonical_text(void **state)
{
	(void)state;
	struct calib_record r;
	char text[8192];

	base(&r);
	assert_int_equal(calib_evaluate(&r), 0);
	size_t need = calib_canonical(&r, NULL, 0);
	assert_int_equal(calib_canonical(&r, text, sizeof(text)), need);
	assert_int_equal(strlen(text), need);
	assert_non_null(strstr(text, "metrolog-calibration=1\nid=1\nprev_hash="
	                             "0000000000000000000000000000000000000000"
	                             "000000000000000000000000\n"));
	/* escapes keep one field one line */
	assert_non_null(strstr(text, "\nremarks=line 1\\nline 2 \\\\ end\n"));
	assert_non_null(strstr(text, "\ntechnician=Nguyễn Văn An\n"));
	assert_non_null(strstr(text, "\np1.as_found=20.5\n"));
	assert_non_null(strstr(text, "\np1.as_left=nan\n"));
	assert_non_null(strstr(text, "\np1.found=0\np1.left=-1\n"));
	/* %.17g: the exact double */
	r.points[0].reference = 0.1;
	calib_canonical(&r, text, sizeof(text));
	assert_non_null(strstr(text, "\np1.reference=0.10000000000000001\n"));
	/* a short buffer: cut, NUL-terminated, same length reported */
	char small[16];
	assert_int_equal(calib_canonical(&r, small, sizeof(small)),
	                 calib_canonical(&r, NULL, 0));
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

static void hash_golden_and_sensitive(void **state)
{
	(void)state;
	struct calib_record r;
	char h1[CALIB_HASH], h2[CALIB_HASH];

	base(&r);
	assert_int_equal(calib_evaluate(&r), 0);
	assert_int_equal(calib_hash(&r, h1), 0);
	assert_int_equal(strlen(h1), 64);
	assert_string_equal(h1, METROLOG_CALIB_GOLDEN);
	/* any field changes it */
	r.points[0].as_found = nextafter(20.5, 21);
	assert_int_equal(calib_hash(&r, h2), 0);
	assert_string_not_equal(h1, h2);
	base(&r);
	calib_evaluate(&r);
	r.prev_hash[63] = '1';
	assert_int_equal(calib_hash(&r, h2), 0);
	assert_string_not_equal(h1, h2);
	/* the stored hash itself is not part of the text */
	base(&r);
	calib_evaluate(&r);
	snprintf(r.hash, sizeof(r.hash), "%s", h1);
	assert_int_equal(calib_hash(&r, h2), 0);
	assert_string_equal(h1, h2);
}

static void due_states(void **state)
{
	(void)state;
	int64_t due = T0 + 365 * DAY_US;

	assert_int_equal(calib_next_due(T0, 365), due);
	assert_int_equal(calib_next_due(T0, 0), 0);
	assert_int_equal(calib_due_state(0, 30, T0), CALIB_DUE_NONE);
	assert_int_equal(calib_due_state(due, 30, due - 30 * DAY_US - 1),
	                 CALIB_DUE_OK);
	assert_int_equal(calib_due_state(due, 30, due - 30 * DAY_US),
	                 CALIB_DUE_SOON);
	assert_int_equal(calib_due_state(due, 30, due), CALIB_DUE_SOON);
	assert_int_equal(calib_due_state(due, 30, due + 1), CALIB_DUE_OVERDUE);
	assert_int_equal(calib_due_state(due, 0, due - 1), CALIB_DUE_OK);
	assert_string_equal(calib_due_name(CALIB_DUE_SOON), "due_soon");
	assert_string_equal(calib_due_name(CALIB_DUE_OVERDUE), "overdue");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(validate_refuses),
	        cmocka_unit_test(decisions_at_boundaries),
	        cmocka_unit_test(canonical_text),
	        cmocka_unit_test(hash_golden_and_sensitive),
	        cmocka_unit_test(due_states),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
