/*
 * calc.c - `metrolog conformity` and `metrolog interval` (calc.h).
 *
 * conformity: one result against its tolerance under a decision rule:
 * decision, acceptance limits, guard band, probability of conformance and
 * the worst-case false-accept risk of the rule.
 *
 * interval: a channel's calibration history as CSV, one calibration a
 * line (the format and its parser: gateway/core/history.h). From it: the
 * drift per day (deltas as_found - previous as_left against days since that
 * as-left), the predicted out-of-tolerance date after the last as-left
 * with its prediction bound, and the interval each method suggests, with
 * its inputs so a reviewer can redo it. The arithmetic is in drift.c; the
 * formulas are in docs/METROLOGY.md.
 *
 * Single-threaded; all memory freed before returning.
 */
#include "calc.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "dec.h"
#include "drift.h"
#include "history.h"
#include "out.h"
#include "text.h"
#include "utc.h"

/* ---- Small parsers --------------------------------------------------- */

int calc_parse_date(const char *s, long *days)
{
	return history_parse_date(s, days);
}

void calc_format_date(long days, char *buf, size_t size)
{
	utc_format_date((int64_t)days * UTC_DAY_US, buf, size);
}

static const char *unit_suffix(const char *unit, char *buf, size_t size)
{
	if (!unit || !*unit)
		return "";
	snprintf(buf, size, " %s", unit);
	return buf;
}

/* ---- conformity ------------------------------------------------------ */

struct conf_args {
	double value, tol, nominal, lower, upper, U, k, u, r;
	double min_tur, max_risk; /* the statement policy; 0: defaults */
	enum cmd_format format;
	bool has_value, has_tol, has_nominal, has_lower, has_upper, has_U,
	        has_k, has_u;
	bool guarded;
	const char *unit;
	/* the limits and U as exact decimals (nominal -+ tolerance, k x u),
	 * what the decision compares (drift.h, EXACTLY) */
	struct dec dlower, dupper, dU;
};

static int parse_rule(const char *s, struct conf_args *a)
{
	if (strcmp(s, "simple") == 0) {
		a->guarded = false;
		a->r = 0;
		return 0;
	}
	if (strcmp(s, "guarded") == 0) {
		a->guarded = true;
		a->r = 1;
		return 0;
	}
	if (strncmp(s, "guarded:", 8) == 0 && text_number(s + 8, &a->r) == 0 &&
	    a->r >= 0) {
		a->guarded = true;
		return 0;
	}
	return -1;
}

enum {
	C_VALUE,
	C_TOLERANCE,
	C_NOMINAL,
	C_LOWER,
	C_UPPER,
	C_BIG_U,
	C_K,
	C_SMALL_U,
	C_RULE,
	C_UNIT,
	C_MIN_TUR,
	C_MAX_RISK
};

static const struct cmd_option conformity_opts[] = {
        {"value", 0, "VALUE", "the result, instead of the argument", C_VALUE},
        {"tolerance", 0, "A",
         "limits N - A and N + A (N: --nominal, default 0)", C_TOLERANCE},
        {"nominal", 0, "N", "the nominal value of --tolerance", C_NOMINAL},
        {"lower", 0, "L", "the lower limit itself (with --upper)", C_LOWER},
        {"upper", 0, "H", "the upper limit itself (with --lower)", C_UPPER},
        {"U", 0, "U", "expanded uncertainty", C_BIG_U},
        {"k", 0, "K", "its coverage factor (default k = 2)", C_K},
        {"u", 0, "u", "standard uncertainty instead of U and k", C_SMALL_U},
        {"rule", 0, "R",
         "simple (default): guard band 0; guarded: w = U; guarded:r:\n"
         "w = r*U (r = 0.83 gives about 5 % worst-case false-accept\n"
         "risk)",
         C_RULE},
        {"min-tur", 0, "N",
         "a statement of conformity when TUR = (upper - lower) /\n"
         "(2U) >= N (default 4), or when ...",
         C_MIN_TUR},
        {"max-risk", 0, "PCT",
         "... its specific risk (JCGM 106) is <= PCT %\n"
         "(default 2.5); otherwise the decision is \"no statement\"",
         C_MAX_RISK},
        {"unit", 0, "UNIT", "print values with this unit", C_UNIT},
        {0},
};

const struct cmd_def conformity_cmd = {
        .name = "conformity",
        .summary = "decide one result's conformity (ILAC-G8), with its "
                   "probability",
        .synopsis = "VALUE (--tolerance A [--nominal N] | --lower L --upper "
                    "H)\n  (--U U [--k K] | --u u) [--rule "
                    "simple|guarded[:r]] [--unit UNIT]\n"
                    "  [--min-tur N] [--max-risk PCT] [-f text|json|jsonl]",
        .about = "Decide the conformity of one result per ILAC-G8:2019 and "
                 "give its probability of\nconformance (JCGM 106:2012, "
                 "normal model). VALUE may be negative.\n"
                 "The decision is a statement only under the lab's "
                 "policy, as in metrolog\ncalibrate: else \"no "
                 "statement\", with the reason (TUR and specific risk).\n",
        .options = conformity_opts,
        .formats = CMD_FMT(CMD_TEXT) | CMD_FMT(CMD_JSON) | CMD_FMT(CMD_JSONL),
        .default_format = CMD_TEXT,
        .max_args = CMD_MAX_ARGS, /* one VALUE: checked below */
        .footer = "Exactly at a limit is inside it. Exit status: 0 decided "
                  "(whatever the decision,\n\"no statement\" included), 2 "
                  "bad usage.\n",
        .run = calc_conformity,
};

static int on_conformity_option(struct cmd_line *l, const struct cmd_option *o,
                                const char *v)
{
	struct conf_args *a = l->ctx;
	struct {
		double *val;
		bool *given;
	} num[] = {
	        [C_VALUE] = {&a->value, &a->has_value},
	        [C_TOLERANCE] = {&a->tol, &a->has_tol},
	        [C_NOMINAL] = {&a->nominal, &a->has_nominal},
	        [C_LOWER] = {&a->lower, &a->has_lower},
	        [C_UPPER] = {&a->upper, &a->has_upper},
	        [C_BIG_U] = {&a->U, &a->has_U},
	        [C_K] = {&a->k, &a->has_k},
	        [C_SMALL_U] = {&a->u, &a->has_u},
	};

	if (o->id == C_UNIT) {
		a->unit = v;
		return 0;
	}
	if (o->id == C_MIN_TUR || o->id == C_MAX_RISK) {
		double d;
		if (text_number(v, &d) < 0 || !(d > 0) ||
		    (o->id == C_MAX_RISK && d > 50))
			return cmd_usage(
			        l,
			        o->id == C_MIN_TUR
			                ? "--min-tur '%s': need a number "
			                  "> 0"
			                : "--max-risk '%s': need a "
			                  "percentage > 0 and <= 50",
			        v);
		if (o->id == C_MIN_TUR)
			a->min_tur = d;
		else
			a->max_risk = d / 100;
		return 0;
	}
	if (o->id == C_RULE) {
		if (parse_rule(v, a) < 0)
			return cmd_usage(l,
			                 "--rule: '%s' is not simple, guarded "
			                 "or guarded:r (r >= 0)",
			                 v);
		return 0;
	}
	if (text_number(v, num[o->id].val) < 0)
		return cmd_usage(l, "--%s: '%s' is not a number", o->name, v);
	*num[o->id].given = true;
	return 0;
}

/* The one VALUE: --value, or the argument. */
static int conformity_value(struct cmd_line *l, struct conf_args *a)
{
	if (l->nargs > (a->has_value ? 0 : 1))
		return cmd_usage(l, "unexpected argument '%s'",
		                 l->args[a->has_value ? 0 : 1]);
	if (l->nargs == 1 && text_number(l->args[0], &a->value) < 0)
		return cmd_usage(l,
		                 "unexpected argument '%s'. Try 'metrolog "
		                 "conformity --help'.",
		                 l->args[0]);
	if (l->nargs == 1)
		a->has_value = true;
	if (!a->has_value)
		return cmd_usage(l, "no value given");
	return 0;
}

/* N - A and N + A exactly in decimal, and as the nearest doubles.
 * Returns 0, or -1 when they do not fit 18 significant digits. */
static int exact_limits(struct conf_args *a)
{
	struct dec n, t;

	if (dec_from_double(a->nominal, &n) < 0 ||
	    dec_from_double(a->tol, &t) < 0 ||
	    dec_sub(&n, &t, &a->dlower) < 0 || dec_add(&n, &t, &a->dupper) < 0)
		return -1;
	a->lower = dec_to_double(&a->dlower);
	a->upper = dec_to_double(&a->dupper);
	return 0;
}

/* The limits and the uncertainty, once every option is read. */
static int conformity_check(struct cmd_line *l, struct conf_args *a)
{
	if (a->has_tol == (a->has_lower || a->has_upper) ||
	    (!a->has_tol && !(a->has_lower && a->has_upper)))
		return cmd_usage(l, "give either --tolerance or both --lower "
		                    "and --upper");
	if (a->has_nominal && !a->has_tol)
		return cmd_usage(l, "--nominal goes with --tolerance");
	if (a->has_tol) {
		if (a->tol < 0)
			return cmd_usage(l, "--tolerance must not be negative");
		if (exact_limits(a) < 0)
			return cmd_usage(l, "--nominal and --tolerance are too "
			                    "far apart in magnitude to add "
			                    "exactly");
	} else {
		dec_from_double(a->lower, &a->dlower);
		dec_from_double(a->upper, &a->dupper);
	}
	if (a->lower > a->upper)
		return cmd_usage(l, "--lower is above --upper");
	if (a->has_U == a->has_u || (a->has_k && !a->has_U))
		return cmd_usage(l, "give either --U (with optional --k) or "
		                    "--u");
	if (!a->has_k)
		a->k = 2;
	if (a->has_U && (!(a->U > 0) || !(a->k > 0)))
		return cmd_usage(l, "--U and --k must be positive");
	if (a->has_u && !(a->u > 0))
		return cmd_usage(l, "--u must be positive");
	if (a->has_U) {
		a->u = a->U / a->k;
		dec_from_double(a->U, &a->dU);
	} else {
		struct dec k, u;
		dec_from_double(a->k, &k);
		dec_from_double(a->u, &u);
		if (dec_mul(&k, &u, &a->dU) < 0)
			return cmd_usage(l, "--k x --u does not fit 18 digits");
		a->U = dec_to_double(&a->dU);
	}
	return 0;
}

/* Returns 0, or -1 with *status the exit status (help shown: 0; bad
 * usage, reported: 2). */
static int conformity_args(int argc, char **argv, FILE *out, FILE *err,
                           struct conf_args *a, int *status)
{
	struct cmd_line l = {.out = out,
	                     .err = err,
	                     .on_option = on_conformity_option,
	                     .ctx = a};

	memset(a, 0, sizeof(*a));
	if (cmd_parse(&conformity_cmd, &l, argc, argv, status) < 0)
		return -1;
	a->format = l.format;
	*status = conformity_value(&l, a);
	if (*status == 0)
		*status = conformity_check(&l, a);
	return *status == 0 ? 0 : -1;
}

/* One decided result: the verdict, its statement under the policy. */
struct conf_result {
	struct drift_verdict v;
	struct drift_statement st;
	enum drift_decision decision; /* v's, or DRIFT_NO_STATEMENT */
	double pc, pfa;
	char why[128]; /* why no statement, "" when one */
};

/* "made: TUR 5 >= 4" and the like: why st is a statement. */
static void statement_made(const struct conf_result *c, char *buf, size_t size)
{
	const struct drift_statement *st = &c->st;

	if (c->v.decision == DRIFT_CONDITIONAL_PASS ||
	    c->v.decision == DRIFT_CONDITIONAL_FAIL)
		snprintf(buf, size,
		         "made: a conditional decision (ILAC-G8: it "
		         "states its own risk)");
	else if (st->tur >= st->min_tur)
		snprintf(buf, size, "made: TUR %.3g >= %g", st->tur,
		         st->min_tur);
	else
		snprintf(buf, size,
		         "made: specific risk %.3g %% <= %g %% (TUR %.3g < %g)",
		         100 * st->risk, 100 * st->max_risk, st->tur,
		         st->min_tur);
}

static void conformity_text(FILE *out, const struct conf_args *a,
                            const struct conf_result *c)
{
	char ub[64], made[160];
	const char *u = unit_suffix(a->unit, ub, sizeof(ub));
	const struct drift_verdict *v = &c->v;

	fprintf(out, "value            %.6g%s\n", a->value, u);
	fprintf(out, "limits           [%.6g, %.6g]%s\n", a->lower, a->upper,
	        u);
	fprintf(out, "uncertainty      U = %.6g%s (k = %.6g), u = %.6g%s\n",
	        a->U, u, a->k, a->u, u);
	if (a->guarded)
		fprintf(out,
		        "rule             guarded acceptance (ILAC-G8), "
		        "w = %.6g x U\n",
		        a->r);
	else
		fprintf(out, "rule             simple acceptance (ILAC-G8), "
		             "w = 0\n");
	fprintf(out, "guard band       w = %.6g%s\n", v->guard, u);
	if (v->accept_lower <= v->accept_upper)
		fprintf(out, "acceptance zone  [%.6g, %.6g]%s\n",
		        v->accept_lower, v->accept_upper, u);
	else
		fprintf(out, "acceptance zone  empty (2w exceeds the "
		             "tolerance width): nothing can pass\n");
	fprintf(out, "decision         %s\n", drift_decision_name(c->decision));
	fprintf(out,
	        "policy           a statement when TUR >= %g or specific "
	        "risk <= %g %%\n",
	        c->st.min_tur, 100 * c->st.max_risk);
	fprintf(out, "TUR              (upper - lower) / (2U) = %.3g\n",
	        c->st.tur);
	if (c->st.made) {
		statement_made(c, made, sizeof(made));
		fprintf(out, "statement        %s\n", made);
	} else
		fprintf(out, "statement        none: %s (the rule alone: %s)\n",
		        c->why, drift_decision_name(v->decision));
	fprintf(out,
	        "conformance      p_c = %.6g (probability that the "
	        "true value is within the limits)\n",
	        c->pc);
	fprintf(out, "risk             1 - p_c = %.3g\n",
	        drift_nonconformance(a->value, a->u, a->lower, a->upper));
	if (!isnan(c->pfa))
		fprintf(out,
		        "worst-case PFA   %.3g (a result exactly at an "
		        "acceptance limit)\n",
		        c->pfa);
}

/* "name":number, or null when not finite; fmt a printf format of it. */
static void json_num(FILE *out, const char *name, const char *fmt, double x)
{
	fprintf(out, ",\"%s\":", name);
	if (isfinite(x))
		fprintf(out, fmt, x);
	else
		fputs("null", out);
}

static void conformity_json(FILE *out, const struct conf_args *a,
                            const struct conf_result *c)
{
	const struct drift_verdict *v = &c->v;
	bool zone = v->accept_lower <= v->accept_upper;

	fputs(a->format == CMD_JSON ? "[{" : "{", out);
	fprintf(out, "\"value\":%.15g", a->value);
	json_num(out, "lower", "%.15g", a->lower);
	json_num(out, "upper", "%.15g", a->upper);
	fputs(",\"unit\":", out);
	if (a->unit != NULL && a->unit[0] != '\0')
		out_json_string(out, a->unit);
	else
		fputs("null", out);
	json_num(out, "U", "%.15g", a->U);
	json_num(out, "k", "%.15g", a->k);
	json_num(out, "u", "%.15g", a->u);
	fprintf(out, ",\"rule\":\"%s\"", a->guarded ? "guarded" : "simple");
	json_num(out, "r", "%.15g", a->r);
	json_num(out, "guard", "%.15g", v->guard);
	json_num(out, "accept_lower", "%.15g", zone ? v->accept_lower : NAN);
	json_num(out, "accept_upper", "%.15g", zone ? v->accept_upper : NAN);
	fprintf(out, ",\"decision\":\"%s\",\"rule_decision\":\"%s\"",
	        drift_decision_name(c->decision),
	        drift_decision_name(v->decision));
	fprintf(out,
	        ",\"statement\":%s,\"reason\":", c->st.made ? "true" : "false");
	if (c->st.made)
		fputs("null", out);
	else
		out_json_string(out, c->why);
	json_num(out, "tur", "%.6g", c->st.tur);
	json_num(out, "risk", "%.6g", c->st.risk);
	json_num(out, "min_tur", "%.15g", c->st.min_tur);
	json_num(out, "max_risk", "%.15g", c->st.max_risk);
	json_num(out, "p_c", "%.6g", c->pc);
	json_num(out, "worst_pfa", "%.6g", c->pfa);
	fputs(a->format == CMD_JSON ? "}]\n" : "}\n", out);
}

int calc_conformity_to(int argc, char **argv, FILE *out, FILE *err)
{
	struct conf_args a;
	struct conf_result c;
	struct dec dv, dr;
	int rc;

	if (conformity_args(argc, argv, out, err, &a, &rc) < 0)
		return rc;
	dec_from_double(a.value, &dv);
	dec_from_double(a.r, &dr);
	if (drift_decide_dec(&dv, &a.dlower, &a.dupper, &a.dU, &dr, &c.v) < 0 ||
	    drift_statement_of(&c.v, a.lower, a.upper, a.U, a.u, a.min_tur,
	                       a.max_risk, &c.st) < 0) {
		fprintf(err, "metrolog conformity: the value, limits and "
		             "guard band are too far apart in magnitude to "
		             "compare exactly\n");
		return 2;
	}
	/* the policy of metrolog calibrate (drift_statement_of) */
	c.decision = c.st.made ? c.v.decision : DRIFT_NO_STATEMENT;
	drift_statement_why(&c.st, c.why, sizeof(c.why));
	c.pc = drift_conformance(a.value, a.u, a.lower, a.upper);
	c.pfa = drift_worst_pfa(a.lower, a.upper, c.v.guard, a.u);
	if (a.format == CMD_TEXT)
		conformity_text(out, &a, &c);
	else
		conformity_json(out, &a, &c);
	return 0;
}

int calc_conformity(int argc, char **argv)
{
	return calc_conformity_to(argc, argv, stdout, stderr);
}

/* ---- interval -------------------------------------------------------- */

/* Read the history; returns the row count, or -1 (reported). */
static int read_history(const char *path, struct history_row *rows, FILE *err)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char why[HISTORY_LINE_MAX + 256];
	int n;

	if (!f) {
		fprintf(err, "metrolog interval: %s: %s\n", path,
		        strerror(errno));
		return -1;
	}
	n = history_read(f, path, rows, why, sizeof(why));
	if (n < 0)
		fprintf(err, "metrolog interval: %s\n", why);
	if (f != stdin)
		fclose(f);
	return n;
}

void calc_interval_defaults(struct calc_interval_opts *o)
{
	*o = (struct calc_interval_opts){.target = 0.95,
	                                 .alpha = 0.05,
	                                 .conf = 0.95,
	                                 .a = DRIFT_STAIR_A,
	                                 .b = DRIFT_STAIR_B,
	                                 .horizon = 3650,
	                                 .degree = 0,
	                                 .sides = DRIFT_TWO_SIDED};
}

enum {
	I_TARGET,
	I_ALPHA,
	I_CONF,
	I_STAIR_A,
	I_STAIR_B,
	I_HORIZON,
	I_U0,
	I_U_TARGET,
	I_A3_BAND,
	I_DEGREE,
	I_SIDES,
	I_UNIT
};

static const struct cmd_option interval_opts[] = {
        {"target", 0, "R",
         "reliability target of the interval test (default 0.95)", I_TARGET},
        {"alpha", 0, "A",
         "significance of the interval test, per side (default 0.05)", I_ALPHA},
        {"a3-band", 0, "DAYS",
         "the interval test counts results whose interval is within\n"
         "DAYS of the current one (default min(56, current / 2))",
         I_A3_BAND},
        {"conf", 0, "C",
         "confidence of the drift's prediction bounds (default 0.95)", I_CONF},
        {"sides", 0, "S",
         "two (default): both limits; upper or lower: that limit\n"
         "alone, with a one-sided bound",
         I_SIDES},
        {"degree", 0, "M",
         "drift model d = b1 t (1) or b1 t + b2 t^2 (2); auto\n"
         "(default): the one with the smaller residual s",
         I_DEGREE},
        {"u0", 0, "u",
         "standard uncertainty of the last as-left (default: the last\n"
         "row's uncertainty / k)",
         I_U0},
        {"u-target", 0, "u",
         "uncertainty-growth target: the standard uncertainty the\n"
         "prediction may grow to (default: not computed)",
         I_U_TARGET},
        {"stair-a", 0, "A",
         "staircase: lengthen by 1 + A when in tolerance (default 0.10)",
         I_STAIR_A},
        {"stair-b", 0, "B",
         "staircase: shorten by 1 - B when out (default 0.55)", I_STAIR_B},
        {"horizon", 0, "DAYS", "longest interval considered (default 3650)",
         I_HORIZON},
        {"unit", 0, "UNIT", "print values with this unit", I_UNIT},
        {0},
};

const struct cmd_def interval_cmd = {
        .name = "interval",
        .summary = "suggest a calibration interval from a "
                   "calibration-history CSV",
        .synopsis = "FILE.csv [OPTION]...",
        .about = "Suggest the next calibration interval from a channel's "
                 "calibration history.\nFILE has the header date,as_found,"
                 "as_left,lower,upper,uncertainty,k (k optional,\n2 when "
                 "absent) and one calibration a line (dates YYYY-MM-DD, "
                 "increasing;\nerrors = indication - reference; '-' reads "
                 "standard input).\n",
        .options = interval_opts,
        .min_args = 1,
        .max_args = 1,
        .args_missing = "no history file given",
        .footer = "Suggestions are advice, never applied. Exit status: 0 "
                  "done, 1 unreadable or bad\nfile, 2 bad usage.\n",
        .run = calc_interval,
};

/* --degree and --sides: words. */
static int interval_word(struct cmd_line *l, const struct cmd_option *o,
                         const char *v, struct calc_interval_opts *io)
{
	static const char *sides[] = {"two", "upper", "lower"};
	static const char *degrees[] = {"auto", "1", "2"};

	for (int i = 0; i < 3; i++) {
		if (o->id == I_SIDES && strcmp(v, sides[i]) == 0) {
			io->sides = (enum drift_sides)i;
			return 0;
		}
		if (o->id == I_DEGREE && strcmp(v, degrees[i]) == 0) {
			io->degree = i;
			return 0;
		}
	}
	return cmd_usage(l, "--%s: '%s' is not %s", o->name, v,
	                 o->id == I_SIDES ? "two, upper or lower"
	                                  : "1, 2 or auto");
}

static int on_interval_option(struct cmd_line *l, const struct cmd_option *o,
                              const char *v)
{
	struct calc_interval_opts *io = l->ctx;
	double *vals[] = {
	        [I_TARGET] = &io->target,  [I_ALPHA] = &io->alpha,
	        [I_CONF] = &io->conf,      [I_STAIR_A] = &io->a,
	        [I_STAIR_B] = &io->b,      [I_HORIZON] = &io->horizon,
	        [I_U0] = &io->u0,          [I_U_TARGET] = &io->u_target,
	        [I_A3_BAND] = &io->a3_band};

	if (o->id == I_UNIT) {
		io->unit = v;
		return 0;
	}
	if (o->id == I_SIDES || o->id == I_DEGREE)
		return interval_word(l, o, v, io);
	if (text_number(v, vals[o->id]) < 0)
		return cmd_usage(l, "--%s: '%s' is not a number", o->name, v);
	if (o->id == I_U0)
		io->has_u0 = true;
	if (o->id == I_A3_BAND)
		io->has_a3_band = true;
	return 0;
}

/* Returns 0, or -1 with *status the exit status (help shown: 0; bad
 * usage, reported: 2). */
static int interval_args(int argc, char **argv, FILE *out, FILE *err,
                         struct calc_interval_opts *o, int *status)
{
	struct cmd_line l = {.out = out,
	                     .err = err,
	                     .on_option = on_interval_option,
	                     .ctx = o};

	calc_interval_defaults(o);
	if (cmd_parse(&interval_cmd, &l, argc, argv, status) < 0)
		return -1;
	o->path = l.args[0];
	if (!(o->target > 0 && o->target < 1) ||
	    !(o->alpha > 0 && o->alpha < 0.5) ||
	    !(o->conf > 0.5 && o->conf < 1))
		*status = cmd_usage(&l, "--target must be in (0, 1), --alpha "
		                        "in (0, 0.5), --conf in (0.5, 1)");
	else if (!(o->a >= 0) || !(o->b >= 0 && o->b < 1) || !(o->horizon >= 1))
		*status = cmd_usage(&l, "--stair-a must be >= 0, --stair-b in "
		                        "[0, 1), --horizon >= 1");
	else if ((o->has_u0 && !(o->u0 >= 0)) || !(o->u_target >= 0) ||
	         !(o->a3_band >= 0))
		*status = cmd_usage(&l, "--u0, --u-target and --a3-band must "
		                        "not be negative");
	return *status == 0 ? 0 : -1;
}

static bool in_tol(const struct history_row *r)
{
	return r->found >= r->lower && r->found <= r->upper;
}

/* The fit's lines: the drift rate (degree 1) or the model's coefficients
 * (degree 2), how the degree was chosen, n, s and its dof. */
static void print_fit(FILE *out, const struct drift_vd *v, const double *t,
                      const double *d, int n, const char *u)
{
	const struct drift_vd_fit *f = &v->fit;
	struct drift_vd_fit f1, f2;
	char how[160];

	if (v->degree != 0)
		snprintf(how, sizeof(how), "degree %d (--degree)", f->degree);
	else if (drift_vd_fit(t, d, n, 1, &f1) == 0 &&
	         drift_vd_fit(t, d, n, 2, &f2) == 0)
		snprintf(how, sizeof(how),
		         "degree %d, chosen by the data: residual s %.3g "
		         "(degree 1) against %.3g (degree 2)",
		         f->degree, f1.s, f2.s);
	else
		snprintf(how, sizeof(how),
		         "degree 1: degree 2 needs two different lengths");
	if (f->degree == 1)
		fprintf(out,
		        "drift rate       %.6g +- %.3g%s per day (standard "
		        "error), %.6g%s per year\n"
		        "                 model: as_found - previous as_left "
		        "= b1 t, t = days since that as-left (%s)\n",
		        f->b[0], sqrt(f->cov[0][0]), u, f->b[0] * 365.25, u,
		        how);
	else
		fprintf(out,
		        "drift model      as_found - previous as_left = b1 t "
		        "+ b2 t^2, t = days since that as-left (%s)\n"
		        "                 b1 = %.6g +- %.3g%s per day, b2 = "
		        "%.6g +- %.3g%s per day^2 (standard errors), cov(b1, "
		        "b2) = %.4g\n",
		        how, f->b[0], sqrt(f->cov[0][0]), u, f->b[1],
		        sqrt(f->cov[1][1]), u, f->cov[0][1]);
	fprintf(out,
	        "                 n = %d intervals, residual s = %.3g%s (%d "
	        "dof)\n",
	        f->n, f->s, u, f->dof);
}

/* "DATE (X days" of a target met t days after the last as-left. */
static void print_when(FILE *out, long day0, double t)
{
	char date[16];

	calc_format_date(day0 + (long)floor(t), date, sizeof(date));
	fprintf(out, "%s (%.1f days", date, t);
}

static void print_dates(FILE *out, const struct history_row *last,
                        const struct drift_vd *v,
                        const struct calc_interval_opts *o, const char *u)
{
	char date[16];

	calc_format_date(last->day, date, sizeof(date));
	fprintf(out,
	        "out of tolerance after the last as-left (%.6g%s on %s, "
	        "limits [%.6g, %.6g]%s):\n",
	        last->left, u, date, last->lower, last->upper, u);
	if (isnan(v->t_line)) {
		fprintf(out, "  fitted line     not within %.6g days\n",
		        o->horizon);
	} else {
		fprintf(out, "  fitted line     ");
		print_when(out, last->day, v->t_line);
		fprintf(out, ")\n");
	}
	if (v->capped) {
		fprintf(out, "  %2.0f %% bound      not within %.6g days\n",
		        o->conf * 100, o->horizon);
		return;
	}
	fprintf(out, "  %2.0f %% bound      ", o->conf * 100);
	print_when(out, last->day, v->suggested);
	fprintf(out, "; %s prediction bound%s with u0, conservative)\n",
	        v->sides == DRIFT_TWO_SIDED ? "two-sided" : "one-sided",
	        v->sides == DRIFT_TWO_SIDED ? "s" : "");
}

/* The two variables-data suggestions with every input they used. */
static void print_vd_suggestions(FILE *out, const struct history_row *last,
                                 const struct drift_vd *v,
                                 const struct calc_interval_opts *o,
                                 const char *u)
{
	char from[160];

	if (o->has_u0)
		snprintf(from, sizeof(from), "--u0");
	else
		snprintf(from, sizeof(from),
		         "the last uncertainty %.6g%s / k = %.6g%s", last->U, u,
		         last->k,
		         last->k_stated ? "" : " (assumed: no k column)");
	fprintf(out,
	        "  variables data (drift)  %.0f days  inputs: n = %d, degree "
	        "%d, y0 = %.6g%s (last as-left), u0 = %.6g%s (standard, %s), "
	        "t = %.4g (%s %.0f %%, %d dof), limits [%.6g, %.6g]%s %s, "
	        "bound y0 + d(t) +- t sqrt(u0^2 + u_p(t)^2), horizon %.6g "
	        "days%s\n",
	        floor(v->suggested), v->fit.n, v->fit.degree, v->y0, u, v->u0,
	        u, from, v->k,
	        v->sides == DRIFT_TWO_SIDED ? "two-sided" : "one-sided",
	        o->conf * 100, v->fit.dof, last->lower, last->upper, u,
	        drift_sides_name(v->sides), o->horizon,
	        v->capped           ? " (no crossing: capped)"
	        : v->suggested == 0 ? " (already reached at the as-left)"
	                            : "");
	if (isnan(v->u_interval)) {
		fprintf(out, "  uncertainty target      -  (give --u-target u, "
		             "a standard uncertainty)\n");
		return;
	}
	fprintf(out,
	        "  uncertainty target      %.0f days  inputs: u(t) = "
	        "sqrt(u0^2 + u_p(t)^2) reaches %.6g%s (standard, "
	        "--u-target), u0 = %.6g%s, n = %d, degree %d, s = %.3g%s, "
	        "horizon %.6g days: met at %.2f days%s\n",
	        floor(v->u_interval), v->u_target, u, v->u0, u, v->fit.n,
	        v->fit.degree, v->fit.s, u, o->horizon, v->u_interval,
	        v->u_capped ? " (not reached: capped)" : "");
}

static void print_drift(FILE *out, const struct history_row *rows, int n,
                        const struct calc_interval_opts *o, const char *u)
{
	const struct history_row *last = &rows[n - 1];
	double *t = malloc(sizeof(double) * n), *d = malloc(sizeof(double) * n);
	struct drift_vd v = {.degree = o->degree,
	                     .y0 = last->left,
	                     .u0 = o->has_u0 ? o->u0 : last->U / last->k,
	                     .lower = last->lower,
	                     .upper = last->upper,
	                     .sides = o->sides,
	                     .conf = o->conf,
	                     .u_target = o->u_target,
	                     .horizon = o->horizon};

	if (!t || !d) {
		fprintf(out, "drift rate       (out of memory)\n");
		goto done;
	}
	for (int i = 1; i < n; i++) {
		t[i - 1] = rows[i].day - rows[i - 1].day;
		d[i - 1] = rows[i].found - rows[i - 1].left;
	}
	if (n - 1 < 3 || drift_interval_vd(t, d, n - 1, &v) < 0) {
		fprintf(out,
		        "drift rate       not computed: need at least 3 "
		        "intervals, of two different lengths for degree 2 "
		        "(have %d intervals)\n",
		        n - 1);
		fprintf(out, "suggested interval\n");
		fprintf(out, "  variables data (drift)  -\n");
		goto done;
	}
	print_fit(out, &v, t, d, n - 1, u);
	print_dates(out, last, &v, o, u);
	fprintf(out, "suggested interval\n");
	print_vd_suggestions(out, last, &v, o, u);
done:
	free(t);
	free(d);
}

/*
 * The A3 line, with every input a reviewer needs to redo it: the results
 * counted (those at the current interval, within the band) and those
 * left out, the binomial tail of each side, and when the test rejects the
 * two-sided confidence C = 1 - 2p of the rejecting side and the step
 * I * 10^((R_hat - R*) C), with the clamp when it binds.
 */
static void print_a3(FILE *out, const struct drift_a3 *a, double band,
                     int others)
{
	double p = a->change < 0 ? a->p_low : a->p_high;
	double raw = pow(10, (a->observed - a->target) * a->confidence);

	fprintf(out,
	        "  interval test (RP-1 A3) %.0f days  inputs: %d of %d in "
	        "tolerance (%.4g) at the current interval (%.0f +- %.4g days; "
	        "%d at other intervals not counted), target %.3g, alpha "
	        "%.3g, P(X <= %d) = %.3g, P(X >= %d) = %.3g: ",
	        a->suggested, a->x, a->n, a->observed, a->interval, band,
	        others, a->target, a->alpha, a->x, a->p_low, a->x, a->p_high);
	if (a->change == 0) {
		fprintf(out,
		        "not significant, keep, factor 1, current interval "
		        "%.0f days\n",
		        a->interval);
		return;
	}
	fprintf(out,
	        "%s, C = 1 - 2 x %.3g = %.4f, %.0f x 10^((%.4g - %.3g) x "
	        "%.4f) = %.0f x %.4g",
	        a->change < 0 ? "significantly low, shorten"
	                      : "significantly high, lengthen",
	        p, a->confidence, a->interval, a->observed, a->target,
	        a->confidence, a->interval, raw);
	if (raw != a->factor)
		fprintf(out, ", factor clamped to [%.3g, %.3g]: %.3g",
		        1 / DRIFT_A3_MAX_CHANGE, DRIFT_A3_MAX_CHANGE,
		        a->factor);
	fprintf(out, " = %.1f days\n", a->suggested);
}

/* RP-1 A3 on the results at the current interval (the last one). */
static void interval_a3(FILE *out, const struct history_row *rows, int n,
                        const struct calc_interval_opts *o)
{
	double *t = malloc(sizeof(double) * n);
	bool *ok = malloc(sizeof(bool) * n);
	struct drift_a3 a = {.interval = rows[n - 1].day - rows[n - 2].day,
	                     .target = o->target,
	                     .alpha = o->alpha};
	double band = o->has_a3_band ? o->a3_band : drift_a3_band(a.interval);

	if (!t || !ok) {
		fprintf(out, "  interval test (RP-1 A3) (out of memory)\n");
		goto done;
	}
	for (int i = 1; i < n; i++) {
		t[i - 1] = rows[i].day - rows[i - 1].day;
		ok[i - 1] = in_tol(&rows[i]);
	}
	if (drift_a3_count(t, ok, n - 1, a.interval, band, &a.n, &a.x) == 0 &&
	    drift_interval_a3(&a) == 0)
		print_a3(out, &a, band, n - 1 - a.n);
done:
	free(t);
	free(ok);
}

void calc_interval_report(FILE *out, const struct history_row *rows, int n,
                          const struct calc_interval_opts *o,
                          const char *source)
{
	struct drift_stair s;
	char ub[64], d0[16], d1[16];
	const char *u = unit_suffix(o->unit, ub, sizeof(ub));
	int x = 0;

	calc_format_date(rows[0].day, d0, sizeof(d0));
	calc_format_date(rows[n - 1].day, d1, sizeof(d1));
	fprintf(out, "history          %d calibrations, %s to %s (%s)\n", n, d0,
	        d1, source);
	for (int i = 1; i < n; i++)
		x += in_tol(&rows[i]);
	fprintf(out,
	        "as found         %d of %d in tolerance after an "
	        "interval (simple acceptance: lower <= as_found <= "
	        "upper)\n",
	        x, n - 1);

	print_drift(out, rows, n, o, u);

	s = (struct drift_stair){.interval = rows[n - 1].day - rows[n - 2].day,
	                         .a = o->a,
	                         .b = o->b,
	                         .in_tolerance = in_tol(&rows[n - 1]),
	                         .max = o->horizon};
	if (drift_interval_stair(&s) == 0)
		fprintf(out,
		        "  staircase (OIML D 10)   %.0f days  inputs: "
		        "current interval %.0f days, last as-found %s, "
		        "a = %.3g, b = %.3g: %.0f x %.3g\n",
		        s.suggested, s.interval,
		        s.in_tolerance ? "in tolerance" : "out of tolerance",
		        s.a, s.b, s.interval,
		        s.in_tolerance ? 1 + s.a : 1 - s.b);
	interval_a3(out, rows, n, o);
	fprintf(out, "suggestions are advice: review before changing the "
	             "interval\n");
}

int calc_interval_to(int argc, char **argv, FILE *out, FILE *err)
{
	struct calc_interval_opts o;
	struct history_row *rows;
	int n, rc;

	if (interval_args(argc, argv, out, err, &o, &rc) < 0)
		return rc;
	rows = calloc(HISTORY_ROWS_MAX, sizeof(*rows));
	if (!rows) {
		fprintf(err, "metrolog interval: out of memory\n");
		return 1;
	}
	n = read_history(o.path, rows, err);
	if (n >= 0)
		calc_interval_report(out, rows, n, &o, o.path);
	free(rows);
	return n < 0 ? 1 : 0;
}

int calc_interval(int argc, char **argv)
{
	return calc_interval_to(argc, argv, stdout, stderr);
}
