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
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "calib.h"
#include "drift.h"
#include "utc.h"

/* sha256sum of the canonical text of base() once evaluated */
#define METROLOG_CALIB_GOLDEN                                                  \
	"37fb6b45f685d89824f6897b363ae75c0e756948acbee9945e00102c40f962ee"

/* sha256sum of the text approval_text_and_hash_golden pins */
#define METROLOG_APPROVAL_GOLDEN                                               \
	"fb404fd7b236ce4c5b77f27f4929c0224b93296d169a002966a9d4781af2661f"
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

	/* a correction says what changed and why (ISO/IEC 17025 7.8.8) */
	valid_base(&r);
	r.supersedes = 1;
	assert_int_equal(calib_validate(&r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "a correction needs an amendment"));
	snprintf(r.amendment, sizeof(r.amendment), "point 1 mistyped");
	assert_int_equal(calib_validate(&r, err, sizeof(err)), 0);

	/* received on the day of calibration at the latest */
	valid_base(&r);
	r.received_us = r.performed_us;
	assert_int_equal(calib_validate(&r, err, sizeof(err)), 0);
	r.received_us = r.performed_us + 1;
	assert_int_equal(calib_validate(&r, err, sizeof(err)), -1);
	assert_string_equal(err, "date of receipt after the calibration date");

	/* the new texts are checked like the others */
	valid_base(&r);
	snprintf(r.specification, sizeof(r.specification), "OIML\tR 111");
	assert_int_equal(calib_validate(&r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "specification: a control character"));
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

/* A record of the current rules with the issue's example: probe-1 not
 * adjusted and 4x out (error 0.2 against +-0.05), probe-2 adjusted into
 * tolerance; U = 0.01 (k = 2): TUR 5, every statement can be made. */
static void issue_example(struct calib_record *r)
{
	valid_base(r);
	r->rule = CALIB_RULE_SIMPLE;
	r->guard_factor = 0;
	r->npoints = 2;
	for (int i = 0; i < 2; i++) {
		struct calib_point *p = &r->points[i];
		snprintf(p->quantity, sizeof(p->quantity), "probe-%d", i + 1);
		p->reference = 20;
		p->lower = -0.05;
		p->upper = 0.05;
		p->U = 0.01;
		p->k = 2;
	}
	r->points[0].as_found = 20.2;
	r->points[0].as_left = NAN;
	r->points[1].as_found = 20.03;
	r->points[1].as_left = 20.001;
	calib_current(r);
}

/* As found / as left as metrologists mean it: a point not adjusted is as
 * left what it was as found, and the as-left result covers it. */
static void as_left_covers_every_point(void **state)
{
	(void)state;
	struct calib_record r;
	int found, left;

	issue_example(&r);
	assert_int_equal(r.rule_version, CALIB_RULE_VERSION);
	assert_int_equal(calib_evaluate(&r), 0);
	assert_int_equal(r.points[0].found, DRIFT_FAIL);
	assert_int_equal(r.points[0].left, DRIFT_FAIL); /* not adjusted */
	assert_true(isnan(r.points[0].as_left));        /* as typed */
	assert_int_equal(r.points[1].found, DRIFT_PASS);
	assert_int_equal(r.points[1].left, DRIFT_PASS);
	assert_int_equal(r.result_found, DRIFT_FAIL);
	assert_int_equal(r.result_left, DRIFT_FAIL);

	/* rule version 1, as it was: the unadjusted point left out */
	issue_example(&r);
	r.rule_version = 1;
	assert_int_equal(calib_evaluate(&r), 0);
	assert_int_equal(r.points[0].left, -1);
	assert_int_equal(r.result_left, DRIFT_PASS);
	/* ... and what today's rules say of that old record */
	assert_int_equal(calib_redecide(&r, &found, &left), 0);
	assert_int_equal(found, DRIFT_FAIL);
	assert_int_equal(left, DRIFT_FAIL);
	assert_int_equal(r.result_left, DRIFT_PASS); /* r untouched */

	/* no point adjusted: as left is as found, never "not measured" */
	issue_example(&r);
	r.points[1].as_left = NAN;
	assert_int_equal(calib_evaluate(&r), 0);
	assert_int_equal(r.result_left, DRIFT_FAIL);
	r.points[0].as_found = 20.05; /* on the limit: inside */
	assert_int_equal(calib_evaluate(&r), 0);
	assert_int_equal(r.result_found, DRIFT_PASS);
	assert_int_equal(r.result_left, DRIFT_PASS);
	/* no as-found value taken: that point has no as-found decision */
	issue_example(&r);
	r.points[1].as_found = NAN;
	assert_int_equal(calib_evaluate(&r), 0);
	assert_int_equal(r.points[1].found, -1);
	assert_int_equal(r.points[1].left, DRIFT_PASS);
}

/* Statements only when they can be made (the policy's defaults: TUR >= 4
 * or specific risk <= 2.5 %). */
static void statements_only_when_possible(void **state)
{
	(void)state;
	struct calib_record r;
	struct calib_statement st;
	char err[256];

	/* U = 0.5 against +-0.05, simple acceptance, error 0: TUR 0.1,
	 * probability of conformance about 0.16: no "pass" */
	issue_example(&r);
	r.npoints = 1;
	r.points[0].as_found = 20;
	r.points[0].U = 0.5;
	assert_int_equal(calib_evaluate(&r), 0);
	assert_int_equal(r.points[0].found, DRIFT_NO_STATEMENT);
	assert_int_equal(r.points[0].left, DRIFT_NO_STATEMENT);
	assert_int_equal(r.result_found, DRIFT_NO_STATEMENT);
	assert_int_equal(r.result_left, DRIFT_NO_STATEMENT);
	assert_string_equal(drift_decision_name(DRIFT_NO_STATEMENT),
	                    "no statement");
	assert_int_equal(
	        calib_point_statement(&r, &r.points[0], 20, DRIFT_PASS, &st),
	        0);
	assert_true(fabs(st.tur - 0.1) < 1e-12);
	assert_true(fabs((1 - st.risk) - 0.1585) < 1e-4);
	assert_false(st.made);
	assert_int_equal(calib_statements_check(&r, err, sizeof(err)), -1);
	assert_string_equal(err, "point 1: as found: no statement can be "
	                         "made: TUR 0.1 < 4 and specific risk 84.1 % "
	                         "> 2.5 %");
	/* the same record under rule version 1 said "pass" */
	r.rule_version = 0;
	assert_int_equal(calib_evaluate(&r), 0);
	assert_int_equal(r.result_found, DRIFT_PASS);

	/* TUR exactly 4 (U = 0.0125): enough, exact in decimal, even for a
	 * result on the limit (risk 50 %: simple acceptance's shared risk);
	 * U = 0.0126: TUR 3.97, no statement there */
	issue_example(&r);
	r.npoints = 1;
	r.points[0].U = 0.0125;
	r.points[0].as_found = 20.05;
	assert_int_equal(calib_evaluate(&r), 0);
	assert_int_equal(r.points[0].found, DRIFT_PASS);
	r.points[0].U = 0.0126;
	assert_int_equal(calib_evaluate(&r), 0);
	assert_int_equal(r.points[0].found, DRIFT_NO_STATEMENT);
	r.points[0].lower = -0.07; /* TUR (0.05 + 0.07) / 0.0252 = 4.76 */
	assert_int_equal(calib_evaluate(&r), 0);
	assert_int_equal(r.points[0].found, DRIFT_PASS);

	/* TUR 2 (U = 0.025): a statement where the risk is small */
	issue_example(&r);
	r.npoints = 1;
	r.points[0].U = 0.025;
	r.points[0].as_left = NAN;
	r.points[0].as_found = 20; /* risk 6e-5 */
	assert_int_equal(calib_evaluate(&r), 0);
	assert_int_equal(r.points[0].found, DRIFT_PASS);
	r.points[0].as_found = 20.04; /* risk 21 % */
	assert_int_equal(calib_evaluate(&r), 0);
	assert_int_equal(r.points[0].found, DRIFT_NO_STATEMENT);
	r.points[0].as_found = 20.06; /* false reject 21 % */
	assert_int_equal(calib_evaluate(&r), 0);
	assert_int_equal(r.points[0].found, DRIFT_NO_STATEMENT);
	r.points[0].as_found = 20.1; /* false reject 3e-5 */
	assert_int_equal(calib_evaluate(&r), 0);
	assert_int_equal(r.points[0].found, DRIFT_FAIL);
	/* the lab's own policy: TUR 2 enough */
	r.min_tur = 2;
	r.points[0].as_found = 20.04;
	assert_int_equal(calib_evaluate(&r), 0);
	assert_int_equal(r.points[0].found, DRIFT_PASS);
	assert_int_equal(calib_statements_check(&r, err, sizeof(err)), 0);

	/* guarded, r = 10, U = 0.01: TUR 5, but 2w = 0.2 > 0.1: the guard
	 * bands overlap, no statement whatever the TUR */
	issue_example(&r);
	r.npoints = 1;
	r.rule = CALIB_RULE_GUARDED;
	r.guard_factor = 10;
	r.points[0].as_found = 20;
	assert_int_equal(calib_evaluate(&r), 0);
	assert_int_equal(r.points[0].found, DRIFT_NO_STATEMENT);
	assert_int_equal(calib_statements_check(&r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "the guard bands overlap (2w = 0.2 > "
	                            "upper - lower = 0.1)"));
	/* 2w = width exactly (r = 5): an acceptance zone of one value */
	r.guard_factor = 5;
	assert_int_equal(calib_evaluate(&r), 0);
	assert_int_equal(r.points[0].found, DRIFT_PASS);
	/* a conditional decision is ILAC-G8's own statement of the risk */
	issue_example(&r);
	r.npoints = 1;
	r.rule = CALIB_RULE_GUARDED;
	r.guard_factor = 1;
	r.points[0].U = 0.025; /* TUR 2, w = 0.025 */
	r.points[0].as_found = 20.04;
	assert_int_equal(calib_evaluate(&r), 0);
	assert_int_equal(r.points[0].found, DRIFT_CONDITIONAL_PASS);

	/* the worst of the points: no statement between conditional pass
	 * and conditional fail */
	issue_example(&r);
	r.points[1].U = 0.5; /* probe-2: no statement */
	assert_int_equal(calib_evaluate(&r), 0);
	assert_int_equal(r.result_found, DRIFT_FAIL); /* probe-1 */
	r.points[0].as_found = 20.01;
	assert_int_equal(calib_evaluate(&r), 0);
	assert_int_equal(r.result_found, DRIFT_NO_STATEMENT);
	/* the policy is checked */
	issue_example(&r);
	r.max_risk = 0.6;
	assert_int_equal(calib_validate(&r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "maximum specific risk"));
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
	/* rule version 2: named first, its policy after guard_factor */
	base(&r);
	calib_current(&r);
	r.rule_version = 2;
	calib_canonical(&r, text, sizeof(text));
	assert_non_null(strstr(text, "metrolog-calibration=2\nid=1\n"));
	assert_non_null(strstr(text, "\nguard_factor=1\nmin_tur=4\n"
	                             "max_risk=0.025000000000000001\n"
	                             "result_found="));
	/* rule version 3 (today's): the certificate's fields after the
	 * policy, every one of them in the text */
	base(&r);
	calib_current(&r);
	assert_int_equal(r.rule_version, 3);
	snprintf(r.location, sizeof(r.location), "customer's site");
	r.received_us = T0 - DAY_US;
	snprintf(r.amendment, sizeof(r.amendment), "point 2\nretyped");
	calib_canonical(&r, text, sizeof(text));
	assert_non_null(strstr(text, "metrolog-calibration=3\nid=1\n"));
	assert_non_null(strstr(text,
	                       "\nmax_risk=0.025000000000000001\nlab_address=\n"
	                       "lab_accreditation=\ncustomer_address=\n"
	                       "customer_contact=\nlocation=customer's site\n"
	                       "item_condition=\nreceived=1767139200000000\n"
	                       "specification=\ndeviations=\nstandard_reason=\n"
	                       "amendment=point 2\\nretyped\nresult_found="));
	base(&r);
	calib_canonical(&r, text, sizeof(text));
	assert_null(strstr(text, "min_tur"));
	/* a short buffer: cut, NUL-terminated, same length reported */
	char small[16];
	assert_int_equal(calib_canonical(&r, small, sizeof(small)),
	                 calib_canonical(&r, NULL, 0));
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

/* The fields of schema 14 (customer_id, model) are in the text only when
 * given: a record without them (every record written before: the golden
 * hash, rule version 3's text above) hashes as it did; given, they follow
 * the certificate's fields, and the hash covers them. */
static void schema14_fields_only_when_given(void **state)
{
	(void)state;
	struct calib_record r;
	char text[8192], h1[CALIB_HASH], h2[CALIB_HASH], h3[CALIB_HASH];

	base(&r);
	calib_current(&r);
	calib_evaluate(&r);
	calib_canonical(&r, text, sizeof(text));
	assert_null(strstr(text, "customer_id"));
	assert_null(strstr(text, "\nmodel="));
	assert_int_equal(calib_hash(&r, h1), 0);
	snprintf(r.customer_id, sizeof(r.customer_id), "0101234567-001");
	calib_canonical(&r, text, sizeof(text));
	assert_non_null(strstr(text,
	                       "\namendment=\ncustomer_id=0101234567-001\n"
	                       "result_found="));
	assert_int_equal(calib_hash(&r, h2), 0);
	assert_string_not_equal(h1, h2);
	snprintf(r.model, sizeof(r.model), "Fluke 1524");
	calib_canonical(&r, text, sizeof(text));
	assert_non_null(strstr(text, "\ncustomer_id=0101234567-001\n"
	                             "model=Fluke 1524\nresult_found="));
	assert_int_equal(calib_hash(&r, h3), 0);
	assert_string_not_equal(h2, h3);
	/* a rule version 1 record keeps its golden hash */
	base(&r);
	calib_evaluate(&r);
	assert_int_equal(calib_hash(&r, h1), 0);
	assert_string_equal(h1, METROLOG_CALIB_GOLDEN);
	/* the tool's field, validated as the other texts */
	snprintf(r.remarks, sizeof(r.remarks), "one line");
	snprintf(r.customer_id, sizeof(r.customer_id), "bad\tid");
	assert_int_equal(calib_validate(&r, text, sizeof(text)), -1);
	if (strstr(text, "customer-id") == NULL)
		fail_msg("%s", text);
}

/* An approval of record 2, the first of the approvals' chain. */
static void approval_base(struct calib_approval *a)
{
	memset(a, 0, sizeof(*a));
	a->id = 1;
	a->calibration_id = 2;
	snprintf(a->record_hash, sizeof(a->record_hash), "%s",
	         "3f1c0c4b5e8a7d2f9b6e1a0c4d3b2a19f8e7d6c5b4a392817161514131211"
	         "100");
	a->approved_us = T0 + 3 * DAY_US;
	snprintf(a->approver, sizeof(a->approver), "Lê Văn Cường");
	snprintf(a->role, sizeof(a->role), "Trưởng phòng\nLab manager");
	snprintf(a->prev_hash, sizeof(a->prev_hash), "%s", CALIB_GENESIS);
}

/* The approvals' canonical text and hash are pinned: a change would
 * break every approval ever recorded. */
static void approval_text_and_hash_golden(void **state)
{
	(void)state;
	struct calib_approval a;
	char text[1024], h1[CALIB_HASH], h2[CALIB_HASH];

	approval_base(&a);
	size_t need = calib_approval_canonical(&a, text, sizeof(text));
	assert_int_equal(need, strlen(text));
	assert_string_equal(text, "metrolog-approval=1\n"
	                          "id=1\n"
	                          "prev_hash="
	                          "00000000000000000000000000000000000000000000"
	                          "00000000000000000000"
	                          "\n"
	                          "calibration_id=2\n"
	                          "record_hash="
	                          "3f1c0c4b5e8a7d2f9b6e1a0c4d3b2a19f8e7d6c5b4a3"
	                          "92817161514131211100"
	                          "\n"
	                          "approved=1767484800000000\n"
	                          "approver=Lê Văn Cường\n"
	                          "role=Trưởng phòng\\nLab manager\n");
	assert_int_equal(calib_approval_hash(&a, h1), 0);
	assert_string_equal(h1, METROLOG_APPROVAL_GOLDEN);
	/* the record's hash, the time, the link: each changes it */
	a.record_hash[0] = '4';
	assert_int_equal(calib_approval_hash(&a, h2), 0);
	assert_string_not_equal(h1, h2);
	approval_base(&a);
	a.approved_us++;
	assert_int_equal(calib_approval_hash(&a, h2), 0);
	assert_string_not_equal(h1, h2);
	approval_base(&a);
	a.prev_hash[63] = '1';
	assert_int_equal(calib_approval_hash(&a, h2), 0);
	assert_string_not_equal(h1, h2);
}

/* The approver and the technician compared as people are. */
static void same_person(void **state)
{
	(void)state;
	assert_true(calib_same_person("Trần Thị Bình", "Trần Thị Bình"));
	assert_true(calib_same_person("  TRẦN THỊ   BÌNH ", "Trần Thị Bình"));
	assert_true(calib_same_person("ĐẶNG ƯNG ƠN", "đặng ưng ơn"));
	assert_true(calib_same_person("LÊ VĂN CƯỜNG", "lê văn cường"));
	assert_true(calib_same_person("JOSÉ ŁUKASZ", "josé łukasz"));
	assert_false(calib_same_person("Trần Thị Bình", "Trần Thị Bính"));
	assert_false(calib_same_person("Trần Thị Bình", "Trần Thị"));
	assert_false(calib_same_person("TranThi", "Tran Thi"));
	assert_false(calib_same_person("", "A"));
	assert_true(calib_same_person(" ", ""));
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
	/* rule version 1 and 0 hash alike (the rows written before the
	 * column read 1); version 2 and its policy are covered */
	base(&r);
	r.rule_version = 1;
	calib_evaluate(&r);
	assert_int_equal(calib_hash(&r, h2), 0);
	assert_string_equal(h1, h2);
	base(&r);
	calib_current(&r);
	calib_evaluate(&r);
	assert_int_equal(calib_hash(&r, h2), 0);
	assert_string_not_equal(h1, h2);
	char h3[CALIB_HASH];
	r.max_risk = 0.05;
	assert_int_equal(calib_hash(&r, h3), 0);
	assert_string_not_equal(h2, h3);
}

static void set_tz(const char *tz)
{
	assert_int_equal(setenv("TZ", tz, 1), 0);
	tzset();
}

static int64_t at(const char *iso)
{
	int64_t us;

	assert_int_equal(utc_parse(iso, UTC_ABSOLUTE, 0, &us), 0);
	return us;
}

/* In UTC: due at 2027-01-01T00:00Z is due on 2027-01-01, all of it. */
static void due_states(void **state)
{
	(void)state;
	int64_t due = T0 + 365 * DAY_US;

	set_tz("UTC0");

	assert_int_equal(calib_next_due(T0, 365), due);
	assert_int_equal(calib_next_due(T0, 0), 0);
	assert_int_equal(calib_due_state(0, 30, T0), CALIB_DUE_NONE);
	assert_int_equal(calib_due_state(due, 30, due - 30 * DAY_US - 1),
	                 CALIB_DUE_OK);
	assert_int_equal(calib_due_state(due, 30, due - 30 * DAY_US),
	                 CALIB_DUE_SOON);
	assert_int_equal(calib_due_state(due, 30, due), CALIB_DUE_SOON);
	/* the due day lasts until its end (rule of 2026-12: it was
	 * overdue from due + 1 us) */
	assert_int_equal(calib_due_state(due, 30, due + 1), CALIB_DUE_SOON);
	assert_int_equal(calib_due_state(due, 30, due + DAY_US - 1),
	                 CALIB_DUE_SOON);
	assert_int_equal(calib_due_state(due, 30, due + DAY_US),
	                 CALIB_DUE_OVERDUE);
	assert_int_equal(calib_due_state(due, 0, due - 1), CALIB_DUE_OK);
	assert_int_equal(calib_due_state(due, 0, due), CALIB_DUE_SOON);
	assert_string_equal(calib_due_name(CALIB_DUE_SOON), "due_soon");
	assert_string_equal(calib_due_name(CALIB_DUE_OVERDUE), "overdue");
}

/* In Vietnam (+07:00): due at 2027-12-05T10:00+07:00 is due on the
 * 5th, local, until local midnight; the date printed is the 5th. */
static void due_at_end_of_local_day(void **state)
{
	(void)state;
	char date[UTC_DATE_SIZE];

	/* the tz database's name, or its POSIX rule without tzdata */
	set_tz(access("/usr/share/zoneinfo/Asia/Ho_Chi_Minh", R_OK) == 0
	               ? "Asia/Ho_Chi_Minh"
	               : "<+07>-7");
	int64_t due = at("2027-12-05T10:00+07:00");
	int64_t last = at("2027-12-05T23:59:59+07:00");
	int64_t midnight = at("2027-12-06T00:00+07:00");
	assert_int_equal(calib_due_state(due, 30, last), CALIB_DUE_SOON);
	assert_int_equal(calib_due_state(due, 30, last + 999999),
	                 CALIB_DUE_SOON);
	assert_int_equal(calib_due_state(due, 30, midnight), CALIB_DUE_OVERDUE);
	assert_int_equal(calib_due_state(due, 0, due + 1), CALIB_DUE_SOON);
	calib_due_date(due, date, sizeof(date));
	assert_string_equal(date, "2027-12-05");
	/* due soon from the start of the local day 30 days before */
	int64_t soon = at("2027-11-05T00:00+07:00");
	assert_int_equal(calib_due_state(due, 30, soon - 1), CALIB_DUE_OK);
	assert_int_equal(calib_due_state(due, 30, soon), CALIB_DUE_SOON);
	assert_int_equal(calib_due_next_change(due, 30, soon - 1), soon);
	assert_int_equal(calib_due_next_change(due, 30, due), midnight);
	assert_int_equal(calib_due_next_change(due, 30, midnight), 0);
	assert_int_equal(calib_due_next_change(0, 30, midnight), 0);
	/* days left: local dates apart */
	assert_int_equal(calib_due_days_left(due, last), 0);
	assert_int_equal(calib_due_days_left(due, midnight), -1);
	assert_int_equal(calib_due_days_left(due, at("2027-12-04T17:00Z")), 0);
	assert_int_equal(calib_due_days_left(due, at("2027-12-04T16:59Z")), 1);
	/* 03:00 on the 5th in Vietnam is the 4th in UTC: the 5th is printed
	 * and decided by */
	due = at("2027-12-05T03:00+07:00");
	calib_due_date(due, date, sizeof(date));
	assert_string_equal(date, "2027-12-05");
	assert_int_equal(calib_due_state(due, 0, at("2027-12-05T16:59:59Z")),
	                 CALIB_DUE_SOON);
	assert_int_equal(calib_due_state(due, 0, at("2027-12-05T17:00:00Z")),
	                 CALIB_DUE_OVERDUE);
	set_tz("UTC0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(validate_refuses),
	        cmocka_unit_test(decisions_at_boundaries),
	        cmocka_unit_test(as_left_covers_every_point),
	        cmocka_unit_test(statements_only_when_possible),
	        cmocka_unit_test(canonical_text),
	        cmocka_unit_test(hash_golden_and_sensitive),
	        cmocka_unit_test(schema14_fields_only_when_given),
	        cmocka_unit_test(approval_text_and_hash_golden),
	        cmocka_unit_test(same_person),
	        cmocka_unit_test(due_states),
	        cmocka_unit_test(due_at_end_of_local_day),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
