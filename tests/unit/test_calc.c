/*
 * Unit tests of the calculators behind `metrolog conformity` and
 * `metrolog interval` (tools/calc.c): decisions and numbers printed for
 * worked examples, every bad usage answered by exit status 2 and one line
 * on stderr, and every bad history line named by file and line number.
 * Output goes to memory streams (open_memstream); history files are written
 * to a temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calc.h"
#include "exactgen.h"
#include "tooltest.h"

struct run {
	int rc;
	char *out, *err;
	size_t nout, nerr;
};

typedef int (*calc_fn)(int, char **, FILE *, FILE *);

static struct run run(calc_fn fn, const char *const *args)
{
	struct run r = {0};
	char *argv[TT_ARGS_MAX];
	int argc = tt_argv(args, argv);
	FILE *out = open_memstream(&r.out, &r.nout);
	FILE *err = open_memstream(&r.err, &r.nerr);
	assert_non_null(out);
	assert_non_null(err);
	r.rc = fn(argc, argv, out, err);
	fclose(out);
	fclose(err);
	return r;
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* A usage error: status 2, nothing on stdout, one line on stderr. */
static void usage_error(calc_fn fn, const char *const *args, const char *want)
{
	struct run r = run(fn, args);
	assert_int_equal(r.rc, 2);
	assert_int_equal(r.nout, 0);
	assert_int_equal(lines(r.err), 1);
	has(r.err, want);
	run_free(&r);
}

static void dates(void **state)
{
	(void)state;
	long d;
	char buf[16];

	assert_int_equal(calc_parse_date("1970-01-01", &d), 0);
	assert_int_equal(d, 0);
	assert_int_equal(calc_parse_date("2000-03-01", &d), 0);
	assert_int_equal(d, 11017); /* 30 years * 365 + 7 leap days + 60 */
	assert_int_equal(calc_parse_date("2024-02-29", &d), 0);
	assert_int_equal(d, 19782);
	calc_format_date(d, buf, sizeof(buf));
	assert_string_equal(buf, "2024-02-29");
	calc_format_date(-1, buf, sizeof(buf));
	assert_string_equal(buf, "1969-12-31");
	assert_int_equal(calc_parse_date("2023-02-29", &d), -1);
	assert_int_equal(calc_parse_date("1900-02-29", &d), -1);
	assert_int_equal(calc_parse_date("2000-02-29", &d), 0);
	assert_int_equal(calc_parse_date("2024-13-01", &d), -1);
	assert_int_equal(calc_parse_date("2024-04-31", &d), -1);
	assert_int_equal(calc_parse_date("2024-4-01", &d), -1);
	assert_int_equal(calc_parse_date("2024-04-01x", &d), -1);
	assert_int_equal(calc_parse_date("", &d), -1);
}

static void conformity_guarded(void **state)
{
	(void)state;
	/* 10.03 V against 10 +- 0.05 V, U = 0.01 V (k = 2), w = U:
	 * acceptance [9.96, 10.04]: pass. u = 0.005; p_c = Phi(4) -
	 * Phi(-16) = 0.999968 (1 - Q(4), Q(4) = 3.167e-5); worst-case PFA
	 * at 10.04: Q(2) = 0.0228. */
	const char *args[] = {"conformity", "10.03",   "--tolerance", "0.05",
	                      "--nominal",  "10",      "--U",         "0.01",
	                      "--rule",     "guarded", "--unit",      "V",
	                      NULL};
	struct run r = run(calc_conformity_to, args);

	assert_int_equal(r.rc, 0);
	assert_int_equal(r.nerr, 0);
	has(r.out, "limits           [9.95, 10.05] V");
	has(r.out, "U = 0.01 V (k = 2), u = 0.005 V");
	has(r.out, "guard band       w = 0.01 V");
	has(r.out, "acceptance zone  [9.96, 10.04] V");
	has(r.out, "decision         pass\n");
	has(r.out, "p_c = 0.999968");
	has(r.out, "1 - p_c = 3.17e-05");
	has(r.out, "worst-case PFA   0.0228");
	run_free(&r);
}

/* The tool decides one value as it was typed. The decision rule's zones
 * alone: with --min-tur 1 every decision of these cases (U <= the limit)
 * is a statement (the policy is tested in conformity_policy). */
static const char *conformity_decision(const char *value, const char *tol,
                                       const char *nominal, const char *U,
                                       const char *rule)
{
	const char *args[] = {"conformity", value,   "--tolerance", tol,
	                      "--nominal",  nominal, "--U",         U,
	                      "--rule",     rule,    "--min-tur",   "1",
	                      NULL};
	static char got[64];
	struct run r = run(calc_conformity_to, args);
	const char *at;

	assert_int_equal(r.rc, 0);
	at = strstr(r.out, "decision         ");
	assert_non_null(at);
	at += strlen("decision         ");
	snprintf(got, sizeof(got), "%.*s", (int)strcspn(at, "\n"), at);
	run_free(&r);
	return got;
}

/* A value on a limit is on it, whatever its binary representation: the
 * issue's example, then a sample of the generated cases of test_exact.c
 * (exactgen.h), on both limits, simple and guarded. */
static void conformity_exact(void **state)
{
	(void)state;
	char v[40], l[40], n[40], u[40], rule[32];

	assert_string_equal(
	        conformity_decision("0.8", "0.1", "0.7", "0.01", "simple"),
	        "pass");
	assert_string_equal(
	        conformity_decision("0.6", "0.1", "0.7", "0.01", "simple"),
	        "pass");
	assert_string_equal(conformity_decision("0.8000001", "0.1", "0.7",
	                                        "0.01", "simple"),
	                    "fail");
	assert_string_equal(
	        conformity_decision("20.05", "0.05", "20", "0.01", "guarded"),
	        "conditional pass");
	assert_string_equal(
	        conformity_decision("20.04", "0.05", "20", "0.01", "guarded"),
	        "pass");
	assert_string_equal(
	        conformity_decision("20.06", "0.05", "20", "0.01", "guarded"),
	        "conditional fail");
	for (int i = 0; i < 300; i++) {
		struct xcase c = xg_case();
		if (c.U == 0)
			continue;
		xg_text(c.limit, c.D, l, sizeof(l));
		xg_text(c.ref, c.D, n, sizeof(n));
		xg_text(c.U, c.D, u, sizeof(u));
		for (int sign = -1; sign <= 1; sign += 2) {
			int64_t L = sign * c.limit, w = sign * c.w;
			xg_text(c.ref + L, c.D, v, sizeof(v));
			assert_string_equal(
			        conformity_decision(v, l, n, u, "simple"),
			        "pass");
			xg_text(c.ref + L + sign, c.D, v, sizeof(v));
			assert_string_equal(
			        conformity_decision(v, l, n, u, "simple"),
			        "fail");
			snprintf(rule, sizeof(rule), "guarded:%d.%02d",
			         c.r100 / 100, c.r100 % 100);
			xg_text(c.ref + L - w, c.D, v, sizeof(v));
			assert_string_equal(
			        conformity_decision(v, l, n, u, rule), "pass");
			xg_text(c.ref + L - w + sign, c.D, v, sizeof(v));
			assert_string_equal(
			        conformity_decision(v, l, n, u, rule),
			        "conditional pass");
			xg_text(c.ref + L + w, c.D, v, sizeof(v));
			assert_string_equal(
			        conformity_decision(v, l, n, u, rule),
			        "conditional fail");
			xg_text(c.ref + L + w + sign, c.D, v, sizeof(v));
			assert_string_equal(
			        conformity_decision(v, l, n, u, rule), "fail");
		}
	}
}

static void conformity_cases(void **state)
{
	(void)state;
	/* Negative value, asymmetric limits, u given, r = 0.83:
	 * w = 0.83 * 2 * 0.01 = 0.0166, acceptance [-0.0334, 0.0334];
	 * -0.045 is inside the limit, in the guard band: conditional pass.
	 * p_c = Phi(9.5) - Phi(-0.5) = 0.691462. */
	const char *a1[] = {"conformity", "-0.045",  "--lower",
	                    "-0.05",      "--upper", "0.05",
	                    "--u",        "0.01",    "--rule=guarded:0.83",
	                    NULL};
	struct run r = run(calc_conformity_to, a1);
	assert_int_equal(r.rc, 0);
	has(r.out, "guard band       w = 0.0166\n");
	has(r.out, "decision         conditional pass\n");
	has(r.out, "p_c = 0.691462");
	has(r.out, "worst-case PFA   0.0485");
	run_free(&r);

	/* Exactly at the limit under simple acceptance: pass, p_c = 0.5,
	 * when the lab's policy accepts a TUR of 2; under the default one
	 * (TUR 2 < 4, risk 50 % > 2.5 %) no statement (since 2026-12). */
	const char *a2[] = {"conformity", "--value",   "0.5",  "--tolerance",
	                    "0.5",        "--U",       "0.25", "--k",
	                    "2",          "--min-tur", "2",    NULL};
	r = run(calc_conformity_to, a2);
	assert_int_equal(r.rc, 0);
	has(r.out, "rule             simple acceptance");
	has(r.out, "decision         pass\n");
	has(r.out, "statement        made: TUR 2 >= 2\n");
	has(r.out, "p_c = 0.5 ");
	run_free(&r);
	a2[9] = NULL;
	r = run(calc_conformity_to, a2);
	assert_int_equal(r.rc, 0);
	has(r.out, "decision         no statement\n");
	has(r.out, "statement        none: TUR 2 < 4 and specific risk 50 % > "
	           "2.5 % (the rule alone: pass)\n");
	has(r.out, "p_c = 0.5 ");
	run_free(&r);

	/* Out by less than w = U = 0.25: conditional fail; by more: fail. */
	const char *a3[] = {"conformity", "0.625",  "--tolerance", "0.5", "--U",
	                    "0.25",       "--rule", "guarded",     NULL};
	r = run(calc_conformity_to, a3);
	has(r.out, "decision         conditional fail\n");
	run_free(&r);
	const char *a4[] = {"conformity", "0.875",  "--tolerance", "0.5", "--U",
	                    "0.25",       "--rule", "guarded",     NULL};
	r = run(calc_conformity_to, a4);
	has(r.out, "decision         fail\n");
	run_free(&r);

	/* Guard band wider than half the tolerance: the rule alone would
	 * say conditional pass; nothing can pass, so no statement (since
	 * 2026-12), whatever the policy. */
	const char *a5[] = {"conformity", "0",      "--tolerance", "0.5", "--U",
	                    "0.75",       "--rule", "guarded",     NULL};
	r = run(calc_conformity_to, a5);
	has(r.out, "acceptance zone  empty");
	has(r.out, "decision         no statement\n");
	has(r.out, "statement        none: the guard bands overlap (2w = 1.5 > "
	           "upper - lower = 1) (the rule alone: conditional pass)\n");
	run_free(&r);

	const char *help[] = {"conformity", "--help", NULL};
	r = run(calc_conformity_to, help);
	assert_int_equal(r.rc, 0);
	has(r.out, "Usage: metrolog conformity");
	run_free(&r);
}

/* The statement policy of metrolog calibrate (drift_statement_of):
 * the example, U = 0.5 against +-0.05, is no statement, in text
 * and in JSON; TUR exactly 4 is enough; below it a small risk is; the
 * options move the policy. */
static void conformity_policy(void **state)
{
	(void)state;
	const char *a1[] = {"conformity", "0.04", "--tolerance", "0.05",
	                    "--U",        "0.5",  NULL};
	struct run r = run(calc_conformity_to, a1);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.nerr, 0);
	has(r.out, "decision         no statement\n");
	has(r.out, "TUR              (upper - lower) / (2U) = 0.1\n");
	has(r.out, "statement        none: TUR 0.1 < 4 and specific risk 84.3 "
	           "% > 2.5 % (the rule alone: pass)\n");
	run_free(&r);

	const char *j1[] = {"conformity", "0.04", "--tolerance",
	                    "0.05",       "--U",  "0.5",
	                    "--format",   "json", NULL};
	r = run(calc_conformity_to, j1);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.nerr, 0);
	assert_int_equal(r.out[0], '[');
	has(r.out, "\"decision\":\"no statement\",\"rule_decision\":\"pass\"");
	has(r.out, "\"statement\":false,\"reason\":\"TUR 0.1 < 4 and specific "
	           "risk 84.3 % > 2.5 %\"");
	has(r.out, "\"tur\":0.1,\"risk\":0.84347,\"min_tur\":4,"
	           "\"max_risk\":0.025");
	assert_int_equal(lines(r.out), 1);
	run_free(&r);

	/* TUR = 0.08 / 0.02 = 4 exactly: a statement, at the limit too */
	const char *a2[] = {"conformity", "0.04", "--tolerance", "0.04", "--U",
	                    "0.01",       "-f",   "jsonl",       NULL};
	r = run(calc_conformity_to, a2);
	assert_int_equal(r.out[0], '{');
	has(r.out, "\"decision\":\"pass\"");
	has(r.out, "\"statement\":true,\"reason\":null,\"tur\":4,");
	run_free(&r);
	/* TUR 3.99 < 4, but at the centre the risk is tiny: a statement;
	 * near the limit it is not */
	const char *a3[] = {"conformity", "0",    "--tolerance", "0.0399",
	                    "--U",        "0.01", NULL};
	r = run(calc_conformity_to, a3);
	has(r.out, "decision         pass\n");
	has(r.out, "statement        made: specific risk ");
	run_free(&r);
	a3[1] = "0.0390";
	r = run(calc_conformity_to, a3);
	has(r.out, "decision         no statement\n");
	run_free(&r);

	/* --min-tur 0.1: the example is a statement by TUR */
	const char *a4[] = {"conformity", "0.04", "--tolerance",
	                    "0.05",       "--U",  "0.5",
	                    "--min-tur",  "0.1",  NULL};
	r = run(calc_conformity_to, a4);
	has(r.out, "decision         pass\n");
	has(r.out, "statement        made: TUR 0.1 >= 0.1\n");
	has(r.out, "policy           a statement when TUR >= 0.1 or specific "
	           "risk <= 2.5 %\n");
	run_free(&r);
	/* --max-risk 50: 84 % is still too much */
	a4[6] = "--max-risk";
	a4[7] = "50";
	r = run(calc_conformity_to, a4);
	has(r.out, "decision         no statement\n");
	has(r.out, "specific risk 84.3 % > 50 %");
	run_free(&r);
	/* a conditional decision states its risk itself */
	const char *a5[] = {"conformity", "0.045",   "--tolerance",
	                    "0.05",       "--U",     "0.02",
	                    "--rule",     "guarded", NULL};
	r = run(calc_conformity_to, a5);
	has(r.out, "decision         conditional pass\n");
	has(r.out, "statement        made: a conditional decision");
	run_free(&r);

	const char *u1[] = {"conformity", "0", "--tolerance", "1", "--U", "1",
	                    "--min-tur",  "0", NULL};
	usage_error(calc_conformity_to, u1, "--min-tur '0': need a number > 0");
	const char *u2[] = {"conformity", "0",  "--tolerance", "1", "--U", "1",
	                    "--max-risk", "60", NULL};
	usage_error(calc_conformity_to, u2,
	            "--max-risk '60': need a percentage > 0 and <= 50");
	const char *u3[] = {"conformity", "0",  "--tolerance", "1", "--U",
	                    "1",          "-f", "csv",         NULL};
	struct run e = run(calc_conformity_to, u3);
	assert_int_equal(e.rc, 2);
	run_free(&e);
}

static void conformity_usage_errors(void **state)
{
	(void)state;
	const char *a1[] = {"conformity", "--tolerance", "1", "--U", "1", NULL};
	usage_error(calc_conformity_to, a1, "no value given");
	const char *a2[] = {"conformity", "1", "--U", "1", NULL};
	usage_error(calc_conformity_to, a2, "--tolerance or both");
	const char *a3[] = {"conformity", "1", "--tolerance", "1",
	                    "--lower",    "0", "--upper",     "2",
	                    "--U",        "1", NULL};
	usage_error(calc_conformity_to, a3, "--tolerance or both");
	const char *a4[] = {"conformity", "1", "--tolerance", "1", NULL};
	usage_error(calc_conformity_to, a4, "--U (with optional --k) or --u");
	const char *a5[] = {"conformity", "1",   "--tolerance", "1", "--U",
	                    "1",          "--u", "1",           NULL};
	usage_error(calc_conformity_to, a5, "--U (with optional --k) or --u");
	const char *a6[] = {"conformity", "1", "--tolerance", "x",
	                    "--U",        "1", NULL};
	usage_error(calc_conformity_to, a6, "'x' is not a number");
	const char *a7[] = {"conformity", "1", "--tolerance", "1", "--U", NULL};
	usage_error(calc_conformity_to, a7, "--U needs a value");
	const char *a8[] = {"conformity", "1",      "--tolerance", "1", "--u",
	                    "1",          "--rule", "guarded:-1",  NULL};
	usage_error(calc_conformity_to, a8, "--rule");
	const char *a9[] = {"conformity", "1",   "--lower", "2", "--upper",
	                    "1",          "--u", "1",       NULL};
	usage_error(calc_conformity_to, a9, "--lower is above --upper");
	const char *a10[] = {"conformity", "1",   "2", "--tolerance",
	                     "1",          "--u", "1", NULL};
	usage_error(calc_conformity_to, a10, "unexpected argument '2'");
	const char *a11[] = {"conformity", "1", "--tolerance", "1",
	                     "--u",        "0", NULL};
	usage_error(calc_conformity_to, a11, "--u must be positive");
	const char *a12[] = {"conformity", "1",   "--tolerance", "1", "--u",
	                     "1",          "--k", "2",           NULL};
	usage_error(calc_conformity_to, a12, "--U (with optional --k) or --u");
}

/* ---- interval -------------------------------------------------------- */

static char dir[64];
static char path[128];

static int make_dir(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test_calc.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	(void)state;
	unlink(path);
	return rmdir(dir);
}

static const char *history(const char *text)
{
	snprintf(path, sizeof(path), "%s/h.csv", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void interval_worked(void **state)
{
	(void)state;
	/* Intervals 100, 200, 300, 400 days from 2020-01-01, as-left 0,
	 * deltas 0.11, 0.19, 0.29, 0.41, limits +-0.5: the variables-data
	 * example of test_drift (beta = 0.001/day, se 2.108e-5, line at
	 * 500 days = 2024-02-09, 95 % bound at 464.37 days = 2024-01-04).
	 * Staircase: 400 * 1.1 = 440. A3: 4 of 4 against 0.95:
	 * P(X >= 4) = 0.95^4 = 0.815, keep 400. */
	const char *p =
	        history("# a comment\n"
	                "date,as_found,as_left,lower,upper,uncertainty\n"
	                "2020-01-01,0.02,0,-0.5,0.5,0.02\n"
	                "2020-04-10,0.11,0,-0.5,0.5,0.02\n"
	                "\n"
	                "2020-10-27,0.19,0,-0.5,0.5,0.02\n"
	                "2021-08-23, 0.29 ,0,-0.5,0.5,0.02\r\n"
	                "2022-09-27,0.41,0,-0.5,0.5,0.02\n");
	/* The first-degree model without u0 against the upper limit with a
	 * one-sided 95 % bound, and A3 counting every interval (a band of
	 * 300 days about 400): the method as it was before u0, the choice
	 * of degree and A3 at the current interval only. */
	const char *args[] = {"interval", p,       "--unit",    "mV",
	                      "--degree", "1",     "--u0",      "0",
	                      "--sides",  "upper", "--a3-band", "300",
	                      NULL};
	struct run r = run(calc_interval_to, args);

	assert_int_equal(r.rc, 0);
	assert_int_equal(r.nerr, 0);
	has(r.out, "5 calibrations, 2020-01-01 to 2022-09-27");
	has(r.out, "4 of 4 in tolerance");
	has(r.out, "drift rate       0.001 +- 2.11e-05 mV per day");
	has(r.out, "0.36525 mV per year");
	has(r.out, "fitted line     2024-02-09 (500.0 days)");
	has(r.out, "95 % bound      2024-01-04 (464.4 days");
	has(r.out, "variables data (drift)  464 days");
	has(r.out, "staircase (OIML D 10)   440 days");
	has(r.out, "current interval 400 days, last as-found in tolerance");
	has(r.out, "interval test (RP-1 A3) 400 days");
	has(r.out, "P(X >= 4) = 0.815: not significant, keep");
	run_free(&r);

	/* The defaults on the same file. Degree chosen by the data: s =
	 * 0.0115 (degree 1) against 0.0127 (degree 2); u0 = 0.02 / 2 = 0.01
	 * (no k column: k = 2); two-sided 95 %: t_{0.975, 3} = 3.182; the
	 * bound 0.001 t + 3.182446 sqrt(0.01^2 + s^2 (1 + t^2/300000))
	 * reaches 0.5 at 443.0 days (mpmath: 443.0206). A3 counts only the
	 * 400-day result (band min(56, 200) = 56): 1 of 1, P(X >= 1) = 0.95,
	 * keep. */
	const char *a1[] = {"interval", p, "--unit", "mV", NULL};
	r = run(calc_interval_to, a1);
	assert_int_equal(r.rc, 0);
	has(r.out, "drift rate       0.001 +- 2.11e-05 mV per day");
	has(r.out, "(degree 1, chosen by the data: residual s 0.0115 (degree "
	           "1) against 0.0127 (degree 2))");
	has(r.out, "95 % bound      2023-12-14 (443.0 days; two-sided");
	has(r.out, "variables data (drift)  443 days  inputs: n = 4, degree "
	           "1, y0 = 0 mV (last as-left), u0 = 0.01 mV (standard, the "
	           "last uncertainty 0.02 mV / k = 2 (assumed: no k column)), "
	           "t = 3.182 (two-sided 95 %, 3 dof), limits [-0.5, 0.5] mV "
	           "two-sided");
	has(r.out, "uncertainty target      -  (give --u-target u");
	has(r.out, "interval test (RP-1 A3) 400 days  inputs: 1 of 1 in "
	           "tolerance (1) at the current interval (400 +- 56 days; 3 "
	           "at other intervals not counted)");
	has(r.out, "P(X >= 1) = 0.95: not significant, keep");
	run_free(&r);

	/* Out of tolerance as found at the end: staircase 400 * 0.45 =
	 * 180; 3 of 4 against 0.95: P(X <= 3) = 1 - 0.8145 = 0.185, keep. */
	p = history("date,as_found,as_left,lower,upper,uncertainty\n"
	            "2020-01-01,0.02,0,-0.5,0.5,0.02\n"
	            "2020-04-10,0.11,0,-0.5,0.5,0.02\n"
	            "2020-10-27,0.19,0,-0.5,0.5,0.02\n"
	            "2021-08-23,0.29,0,-0.5,0.5,0.02\n"
	            "2022-09-27,0.61,0,-0.5,0.5,0.02\n");
	const char *a2[] = {"interval",  p,     "--horizon", "1000",
	                    "--a3-band", "300", NULL};
	r = run(calc_interval_to, a2);
	assert_int_equal(r.rc, 0);
	has(r.out, "staircase (OIML D 10)   180 days");
	has(r.out, "last as-found out of tolerance");
	has(r.out, "3 of 4 in tolerance");
	has(r.out, "P(X <= 3) = 0.185");
	run_free(&r);

	/* Two calibrations: no drift fit, the other methods still run. */
	p = history("date,as_found,as_left,lower,upper,uncertainty\n"
	            "2020-01-01,0.02,0,-0.5,0.5,0.02\n"
	            "2020-07-01,0.11,0,-0.5,0.5,0.02\n");
	const char *a3[] = {"interval", p, NULL};
	r = run(calc_interval_to, a3);
	assert_int_equal(r.rc, 0);
	has(r.out, "drift rate       not computed");
	has(r.out, "staircase (OIML D 10)   200 days"); /* 182 * 1.1 */
	run_free(&r);

	/* 0 of 3 in tolerance at 100 days: P(X <= 0) = 0.05^3 = 1.25e-4,
	 * C = 1 - 2.5e-4 = 0.99975, 10^((0 - 0.95) * 0.99975) = 0.1123
	 * (R_hat = 0 needs no substitute): clamped to 1/2, 50 days. */
	p = history("date,as_found,as_left,lower,upper,uncertainty\n"
	            "2020-01-01,0.02,0,-0.5,0.5,0.02\n"
	            "2020-04-10,0.61,0,-0.5,0.5,0.02\n"
	            "2020-07-19,0.61,0,-0.5,0.5,0.02\n"
	            "2020-10-27,0.61,0,-0.5,0.5,0.02\n");
	const char *a4[] = {"interval", p, NULL};
	r = run(calc_interval_to, a4);
	assert_int_equal(r.rc, 0);
	has(r.out, "interval test (RP-1 A3) 50 days");
	has(r.out, "P(X <= 0) = 0.000125");
	has(r.out, "significantly low, shorten, C = 1 - 2 x 0.000125 = "
	           "0.9998, 100 x 10^((0 - 0.95) x 0.9998) = 100 x 0.1123, "
	           "factor clamped to [0.5, 2]: 0.5 = 50.0 days\n");
	run_free(&r);
}

/*
 * The published Method A3 example, asset 1 of the NCSL International 2019
 * Workshop & Symposium tutorial on calibration intervals (history and
 * results as reproduced in sandialabs/suncal, test/test_interval.py):
 * 20 intervals of 365 days, in tolerance (1) or not (0) as found
 *   1 1 0 1 0 1 1 1 1 0 1 1 1 1 1 0 1 1 1 0,
 * target 0.95. Published: rejection confidence 0.9949 and new interval
 * 231 days. Ours (docs/METROLOGY.md, "Calibration-interval advice"):
 * P(X <= 15) = 0.0025739 (printed 0.00257), C = 1 - 2 * 0.0025739 =
 * 0.994852 (printed 0.9949), factor 10^((0.75 - 0.95) * 0.994852) =
 * 10^-0.198970 = 0.632455, 365 * 0.632455 = 230.846 days: printed "231"
 * in the heading and 230.8 at the end of the inputs.
 */
static void interval_published_a3(void **state)
{
	(void)state;
	static const int pass[] = {1, 1, 0, 1, 0, 1, 1, 1, 1, 0,
	                           1, 1, 1, 1, 1, 0, 1, 1, 1, 0};
	char text[2048], date[16];
	size_t len;
	long day0;

	assert_int_equal(calc_parse_date("2000-01-01", &day0), 0);
	len = (size_t)snprintf(text, sizeof(text),
	                       "date,as_found,as_left,lower,upper,"
	                       "uncertainty\n2000-01-01,0,0,-0.5,0.5,0.02\n");
	for (int i = 0; i < 20; i++) {
		calc_format_date(day0 + 365L * (i + 1), date, sizeof(date));
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		                        "%s,%s,0,-0.5,0.5,0.02\n", date,
		                        pass[i] ? "0" : "1");
		assert_true(len < sizeof(text));
	}
	const char *args[] = {"interval", history(text), NULL};
	struct run r = run(calc_interval_to, args);

	assert_int_equal(r.rc, 0);
	has(r.out, "15 of 20 in tolerance after an interval");
	has(r.out, "P(X <= 15) = 0.00257");
	has(r.out, "significantly low, shorten, C = 1 - 2 x 0.00257 = "
	           "0.9949, 365 x 10^((0.75 - 0.95) x 0.9949) = 365 x "
	           "0.6325 = 230.8 days\n");
	has(r.out, "interval test (RP-1 A3) 231 days");
	run_free(&r);
}

/*
 * NASA-HDBK-8739.19-5's variables-data example through the tool (the
 * numbers: test_drift.c, published_vd_nasa): a history whose deltas are
 * Table 7-2's (as-left 10.03 each time, as found 10.03 + delta after 70,
 * 86, 104, 135, 167, 173 days), the limits 9 and 11, u0 = 0.28 as a
 * standard uncertainty (k column 1). Published: 140.1 days two-sided at
 * 90 %, 171.75 days for the upper limit alone, 327.15 days for the
 * uncertainty target 0.5. The tool prints whole days (floor) in the
 * headings and the exact days beside them.
 */
static void interval_published_vd(void **state)
{
	(void)state;
	const char *p = history("date,as_found,as_left,lower,upper,"
	                        "uncertainty,k\n"
	                        "2020-01-01,10.03,10.03,9,11,0.28,1\n"
	                        "2020-03-11,10.13,10.03,9,11,0.28,1\n"
	                        "2020-06-05,10.14,10.03,9,11,0.28,1\n"
	                        "2020-09-17,10.281,10.03,9,11,0.28,1\n"
	                        "2021-01-30,10.329,10.03,9,11,0.28,1\n"
	                        "2021-07-16,10.433,10.03,9,11,0.28,1\n"
	                        "2022-01-05,10.645,10.03,9,11,0.28,1\n");
	const char *args[] = {"interval",   p,     "--conf", "0.9",
	                      "--u-target", "0.5", NULL};
	struct run r = run(calc_interval_to, args);

	assert_int_equal(r.rc, 0);
	has(r.out, "b1 = 0.000157407 +- 0.00101 per day, b2 = 1.67379e-05 "
	           "+- 6.74e-06 per day^2");
	has(r.out, "n = 6 intervals, residual s = 0.0708 (4 dof)");
	has(r.out, "degree 2, chosen by the data");
	has(r.out, "90 % bound      2022-05-25 (140.1 days; two-sided");
	has(r.out, "variables data (drift)  140 days  inputs: n = 6, degree "
	           "2, y0 = 10.03 (last as-left), u0 = 0.28 (standard, the "
	           "last uncertainty 0.28 / k = 1), t = 2.132 (two-sided 90 "
	           "%, 4 dof), limits [9, 11] two-sided");
	has(r.out, "uncertainty target      327 days  inputs: u(t) = "
	           "sqrt(u0^2 + u_p(t)^2) reaches 0.5 (standard, --u-target), "
	           "u0 = 0.28, n = 6, degree 2, s = 0.0708, horizon 3650 days: "
	           "met at 327.15 days");
	run_free(&r);

	const char *a2[] = {"interval", p,       "--conf", "0.9",
	                    "--sides",  "upper", NULL};
	r = run(calc_interval_to, a2);
	assert_int_equal(r.rc, 0);
	has(r.out, "90 % bound      2022-06-25 (171.7 days; one-sided");
	has(r.out, "t = 1.533 (one-sided 90 %, 4 dof), limits [9, 11] upper "
	           "limit only");
	run_free(&r);

	/* --u0 instead of the file's, and --degree 1: the old model on the
	 * handbook's data gives 271 days, about twice the published 140. */
	const char *a3[] = {"interval", p,      "--conf", "0.9", "--degree",
	                    "1",        "--u0", "0",      NULL};
	r = run(calc_interval_to, a3);
	assert_int_equal(r.rc, 0);
	has(r.out, "(degree 1 (--degree))");
	has(r.out, "variables data (drift)  271 days");
	has(r.out, "u0 = 0 (standard, --u0)");
	run_free(&r);
}

/*
 * The A3 case: 59 results at 30 days then 1 at 365 days, all in
 * tolerance. Counting all 60 said "60 of 60, lengthen to 405 days"; at
 * the current interval only 1 result counts: keep 365.
 */
static void interval_a3_current(void **state)
{
	(void)state;
	static char text[4096];
	char date[16];
	size_t len;
	long day;

	assert_int_equal(calc_parse_date("2000-01-01", &day), 0);
	len = (size_t)snprintf(text, sizeof(text),
	                       "date,as_found,as_left,lower,upper,uncertainty"
	                       "\n2000-01-01,0,0,-1,1,0.1\n");
	for (int i = 0; i < 60; i++) {
		day += i < 59 ? 30 : 365;
		calc_format_date(day, date, sizeof(date));
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		                        "%s,0,0,-1,1,0.1\n", date);
		assert_true(len < sizeof(text));
	}
	const char *args[] = {"interval", history(text), NULL};
	struct run r = run(calc_interval_to, args);

	assert_int_equal(r.rc, 0);
	has(r.out, "60 of 60 in tolerance after an interval");
	has(r.out, "interval test (RP-1 A3) 365 days  inputs: 1 of 1 in "
	           "tolerance (1) at the current interval (365 +- 56 days; 59 "
	           "at other intervals not counted)");
	has(r.out, "P(X >= 1) = 0.95: not significant, keep");
	assert_null(strstr(r.out, "405"));
	run_free(&r);
}

static void bad_history(const char *text, const char *want)
{
	const char *p = history(text);
	const char *args[] = {"interval", p, NULL};
	struct run r = run(calc_interval_to, args);

	assert_int_equal(r.rc, 1);
	assert_int_equal(lines(r.err), 1);
	has(r.err, want);
	run_free(&r);
}

static void interval_errors(void **state)
{
	(void)state;
	const char *h = "date,as_found,as_left,lower,upper,uncertainty\n";
	char buf[512];

	bad_history("date,found,left\n", "h.csv:1: expected the header");
	bad_history("", "empty file");
	snprintf(buf, sizeof(buf),
	         "%s2020-01-01,0,0,-1,1,0\n"
	         "2020-02-30,0,0,-1,1,0\n",
	         h);
	bad_history(buf, "h.csv:3: date '2020-02-30' is not a valid");
	snprintf(buf, sizeof(buf),
	         "%s2020-01-01,0,0,-1,1,0\n"
	         "2020-01-01,0,0,-1,1,0\n",
	         h);
	bad_history(buf, "h.csv:3: date is not after");
	snprintf(buf, sizeof(buf), "%s2020-01-01,0,0,-1,1\n", h);
	bad_history(buf, "h.csv:2: expected 6 comma-separated fields, got "
	                 "fewer");
	snprintf(buf, sizeof(buf), "%s2020-01-01,0,0,-1,1,0,7\n", h);
	bad_history(buf, "h.csv:2: expected 6 comma-separated fields, got "
	                 "more");
	snprintf(buf, sizeof(buf), "%s2020-01-01,0,abc,-1,1,0\n", h);
	bad_history(buf, "h.csv:2: as_left 'abc' is not a number");
	snprintf(buf, sizeof(buf), "%s2020-01-01,0,0,1,-1,0\n", h);
	bad_history(buf, "h.csv:2: lower 1 is above upper -1");
	snprintf(buf, sizeof(buf), "%s2020-01-01,0,0,-1,1,-0.1\n", h);
	bad_history(buf, "h.csv:2: uncertainty must not be negative");
	snprintf(buf, sizeof(buf), "%s2020-01-01,0,0,-1,1,0\n", h);
	bad_history(buf, "need at least 2 calibrations, found 1");

	const char *a1[] = {"interval", "/nonexistent/h.csv", NULL};
	struct run r = run(calc_interval_to, a1);
	assert_int_equal(r.rc, 1);
	has(r.err, "/nonexistent/h.csv: No such file");
	run_free(&r);

	const char *a2[] = {"interval", NULL};
	usage_error(calc_interval_to, a2, "no history file given");
	const char *a3[] = {"interval", "x.csv", "--target", "1", NULL};
	usage_error(calc_interval_to, a3, "--target must be in (0, 1)");
	const char *a4[] = {"interval", "x.csv", "--bogus", NULL};
	usage_error(calc_interval_to, a4, "unexpected argument '--bogus'");
	const char *a5[] = {"interval", "x.csv", "--conf", NULL};
	usage_error(calc_interval_to, a5, "--conf needs a value");
	const char *a6[] = {"interval", "x.csv", "--stair-b", "1", NULL};
	usage_error(calc_interval_to, a6, "--stair-b in [0, 1)");
	const char *a7[] = {"interval", "x.csv", "--sides", "both", NULL};
	usage_error(calc_interval_to, a7,
	            "--sides: 'both' is not two, upper "
	            "or lower");
	const char *a8[] = {"interval", "x.csv", "--degree", "3", NULL};
	usage_error(calc_interval_to, a8, "--degree: '3' is not 1, 2 or auto");
	const char *a9[] = {"interval", "x.csv", "--u0", "-0.1", NULL};
	usage_error(calc_interval_to, a9,
	            "--u0, --u-target and --a3-band "
	            "must not be negative");
	const char *a10[] = {"interval", "x.csv", "--a3-band", "-1", NULL};
	usage_error(calc_interval_to, a10, "must not be negative");
	const char *help[] = {"interval", "-h", NULL};
	r = run(calc_interval_to, help);
	assert_int_equal(r.rc, 0);
	has(r.out, "Usage: metrolog interval");
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(dates),
	        cmocka_unit_test(conformity_guarded),
	        cmocka_unit_test(conformity_cases),
	        cmocka_unit_test(conformity_exact),
	        cmocka_unit_test(conformity_policy),
	        cmocka_unit_test(conformity_usage_errors),
	        cmocka_unit_test(interval_worked),
	        cmocka_unit_test(interval_published_a3),
	        cmocka_unit_test(interval_published_vd),
	        cmocka_unit_test(interval_a3_current),
	        cmocka_unit_test(interval_errors),
	};
	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
