/*
 * province.c - the provincial queries of metrolog-collector (province.h):
 * each a SELECT on the views and functions of schema-4.sql and
 * schema-5.sql through archive_select(), printed as text, CSV or JSON
 * (PostgreSQL's json_agg makes the JSON); the pooled interval analysis hands
 * the pooled history to the tool's own report (tools/calc.c, compiled in), so
 * that its advice is what `metrolog interval` gives on the same history.
 */
#include "province.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "calc.h"
#include "calib.h"
#include "ccfg.h"
#include "history.h"
#include "text.h"
#include "utc.h"

enum fmt { F_TEXT, F_CSV, F_JSON };

struct args {
	const char *cmd, *config, *name, *from, *to, *model, *id;
	enum fmt fmt;
	bool csv; /* interval: the pooled history as CSV */
};

/* A column of a query: its name (CSV header, JSON key) and SQL. */
struct col {
	const char *name, *sql;
};

#define ISO(c) "to_char(" c ", 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* A query: its columns, FROM ... (with $1, $2), ORDER BY, and the text
 * printer of a row (columns in the order of cols). */
struct query {
	const struct col *cols;
	int ncols;
	const char *from, *order;
	void (*text)(FILE *out, const char *const *c);
};

struct table {
	FILE *out;
	enum fmt fmt;
	const struct query *q;
};

/* ---- output ------------------------------------------------------------ */

static const char *or_dash(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "-";
}

/* One CSV field (RFC 4180): quoted when it holds , " CR LF; NULL empty. */
static void csv_field(FILE *out, const char *s, bool last)
{
	if (s != NULL && strpbrk(s, ",\"\r\n") != NULL) {
		fputc('"', out);
		for (; *s != '\0'; s++) {
			if (*s == '"')
				fputc('"', out);
			fputc(*s, out);
		}
		fputc('"', out);
	} else if (s != NULL)
		fputs(s, out);
	fputs(last ? "\r\n" : ",", out);
}

static int put_row(void *ctx, int n, const char *const *c)
{
	struct table *t = ctx;

	if (t->fmt == F_JSON)
		fprintf(t->out, "%s\n", c[0]);
	else if (t->fmt == F_CSV)
		for (int i = 0; i < n; i++)
			csv_field(t->out, c[i], i == n - 1);
	else
		t->q->text(t->out, c);
	return 0;
}

/* Run q with params in format fmt to out. Returns the rows, or -1 with
 * err. */
static int run_query(struct archive *a, const struct query *q,
                     const char *const *params, int nparams, enum fmt fmt,
                     FILE *out, char *err, size_t errlen)
{
	char sql[8192];
	size_t at = 0;
	struct table t = {out, fmt, q};

	at += (size_t)snprintf(sql + at, sizeof(sql) - at, "SELECT ");
	for (int i = 0; i < q->ncols && at < sizeof(sql); i++)
		at += (size_t)snprintf(sql + at, sizeof(sql) - at, "%s%s AS %s",
		                       i ? ", " : "", q->cols[i].sql,
		                       q->cols[i].name);
	if (at < sizeof(sql))
		at += (size_t)snprintf(sql + at, sizeof(sql) - at, " %s",
		                       q->from);
	if (fmt == F_JSON && at < sizeof(sql)) {
		char inner[8192];
		memcpy(inner, sql, at + 1);
		at = (size_t)snprintf(
		        sql, sizeof(sql),
		        "SELECT coalesce(json_agg(x ORDER BY %s), "
		        "'[]'::json) FROM (%s) AS x",
		        q->order, inner);
	} else if (at < sizeof(sql))
		at += (size_t)snprintf(sql + at, sizeof(sql) - at,
		                       " ORDER BY %s", q->order);
	if (at >= sizeof(sql)) {
		snprintf(err, errlen, "a query too long");
		return -1;
	}
	if (fmt == F_CSV)
		for (int i = 0; i < q->ncols; i++)
			csv_field(out, q->cols[i].name, i == q->ncols - 1);
	return archive_select(a, sql, nparams, params, put_row, &t, err,
	                      errlen);
}

/* ---- enterprise ----------------------------------------------------- */

enum {
	E_SITE,
	E_INST,
	E_CUSTOMER,
	E_ADDRESS,
	E_CERT,
	E_RECORD,
	E_PERFORMED,
	E_ISSUED,
	E_DUE,
	E_INTERVAL,
	E_DUE_STATE,
	E_LAB_DUE,
	E_FOUND,
	E_LEFT,
	E_APPROVAL,
	E_APPROVED,
	E_APPROVER,
	E_ROLE,
	E_CERTS,
	E_COLS
};

static const struct col ent_cols[E_COLS] = {
        {"site", "site"},
        {"instrument", "instrument"},
        {"customer", "customer"},
        {"customer_address", "customer_address"},
        {"certificate", "certificate"},
        {"record", "record"},
        {"performed", ISO("performed")},
        {"issued", ISO("issued")},
        {"due", ISO("due")},
        {"interval_days", "interval_days"},
        {"due_state", "due_state"},
        {"lab_due_state", "lab_due_state"},
        {"result_as_found", "result_as_found"},
        {"result_as_left", "result_as_left"},
        {"approval", "approval"},
        {"approved", ISO("approved")},
        {"approver", "approver"},
        {"role", "role"},
        {"certificates", "array_to_string(certificates, ' ')"},
};

static void ent_text(FILE *out, const char *const *c)
{
	fprintf(out, "%s %s (customer %s%s%s)\n", c[E_SITE], c[E_INST],
	        c[E_CUSTOMER], c[E_ADDRESS][0] ? ", " : "", c[E_ADDRESS]);
	fprintf(out,
	        "  in force      certificate %s (record %s), performed %s, "
	        "issued %s\n",
	        c[E_CERT], c[E_RECORD], or_dash(c[E_PERFORMED]),
	        or_dash(c[E_ISSUED]));
	fprintf(out, "  results       as found %s, as left %s\n",
	        or_dash(c[E_FOUND]), or_dash(c[E_LEFT]));
	fprintf(out, "  approval      %s", c[E_APPROVAL]);
	if (c[E_APPROVED] != NULL)
		fprintf(out, " %s by %s%s%s%s", c[E_APPROVED], c[E_APPROVER],
		        c[E_ROLE][0] ? " (" : "", c[E_ROLE],
		        c[E_ROLE][0] ? ")" : "");
	fprintf(out,
	        "\n  due           %s (interval %s days): %s; the lab "
	        "says %s\n",
	        or_dash(c[E_DUE]), c[E_INTERVAL], c[E_DUE_STATE],
	        or_dash(c[E_LAB_DUE]));
	fprintf(out, "  certificates  %s\n\n", or_dash(c[E_CERTS]));
}

static void names_text(FILE *out, const char *const *c)
{
	fprintf(out, "  %s: \"%s\"%s%s%s%s, %s instrument(s), %s record(s)\n",
	        c[0], c[1], c[5] ? ", id " : "", c[5] ? c[5] : "",
	        c[2][0] ? ", " : "", c[2], c[3], c[4]);
}

/* The customers of the same name under a customer id: not this
 * enterprise (the id decides), named so that a person can ask for them. */
static void others_text(FILE *out, const char *const *c)
{
	fprintf(out,
	        "  not included, another customer id: %s: \"%s\", id %s "
	        "(enterprise --id)\n",
	        c[0], c[1], c[2]);
}

/* The enterprise's key from what the person typed: a legal name, or with
 * --id a customer id (schema-5.sql, metrolog_record_enterprise). */
#define KEY_OF_NAME "metrolog_enterprise_key($1)"
#define KEY_OF_ID   "metrolog_id_enterprise($1)"

/* The legal names of the enterprise as the labs record them, and (by
 * name) those of the same name that a customer id keeps apart. */
static int ent_names(struct archive *a, const struct args *g,
                     const char *const *p, char *err, size_t errlen)
{
	static const struct col name_cols[] = {
	        {"site", "site"},       {"legal_name", "legal_name"},
	        {"address", "address"}, {"instruments", "instruments"},
	        {"records", "records"}, {"customer_id", "customer_id"}};
	static const struct col other_cols[] = {{"site", "site"},
	                                        {"legal_name", "legal_name"},
	                                        {"customer_id", "customer_id"}};
	static const struct query by_name = {
	        name_cols, 6, "FROM customers WHERE enterprise = " KEY_OF_NAME,
	        "site, legal_name", names_text};
	static const struct query by_id = {
	        name_cols, 6, "FROM customers WHERE enterprise = " KEY_OF_ID,
	        "site, legal_name", names_text};
	static const struct query others = {
	        other_cols, 3,
	        "FROM customers WHERE enterprise LIKE 'id:%' AND "
	        "metrolog_enterprise_key(legal_name) = " KEY_OF_NAME,
	        "site, legal_name", others_text};

	if (g->id != NULL)
		printf("enterprise with customer id \"%s\": matched on the id "
		       "normalised; as the labs record it:\n",
		       g->id);
	else
		printf("enterprise \"%s\": matched on the legal name "
		       "normalised, records without a customer id; as the "
		       "labs record it:\n",
		       g->name);
	if (run_query(a, g->id ? &by_id : &by_name, p, 1, F_TEXT, stdout, err,
	              errlen) < 0 ||
	    (g->id == NULL &&
	     run_query(a, &others, p, 1, F_TEXT, stdout, err, errlen) < 0))
		return -1;
	printf("\n");
	return 0;
}

static int cmd_enterprise(struct archive *a, const struct args *g, char *err,
                          size_t errlen)
{
	static const struct query q = {
	        ent_cols, E_COLS,
	        "FROM enterprise_instruments WHERE enterprise = " KEY_OF_NAME,
	        "site, instrument", ent_text};
	struct col json_cols[E_COLS];
	struct query jq;
	struct query eq = q;
	const char *p[1] = {g->id != NULL ? g->id : g->name};
	int n;

	if (g->id != NULL)
		eq.from = "FROM enterprise_instruments WHERE enterprise "
		          "= " KEY_OF_ID;
	if (g->fmt == F_TEXT && ent_names(a, g, p, err, errlen) < 0)
		return 1;
	memcpy(json_cols, ent_cols, sizeof(json_cols));
	json_cols[E_CERTS].sql = "certificates"; /* an array in JSON */
	jq = eq;
	jq.cols = json_cols;
	n = run_query(a, g->fmt == F_JSON ? &jq : &eq, p, 1, g->fmt, stdout,
	              err, errlen);
	if (n < 0)
		return 1;
	if (g->fmt == F_TEXT && n == 0)
		printf("no instrument of this enterprise in the archive\n");
	return g->fmt != F_JSON && n == 0 ? 3 : 0;
}

/* ---- availability ------------------------------------------------------ */

enum {
	A_SITE,
	A_INST,
	A_CHANNEL,
	A_INST_S,
	A_ONLINE,
	A_OFFLINE,
	A_FAILING,
	A_UNKNOWN,
	A_ONLINE_F,
	A_CHAN_S,
	A_IN_TOL,
	A_WARNING,
	A_OOT,
	A_NO_DATA,
	A_TOL_UNKNOWN,
	A_WARNING_F,
	A_OOT_F,
	A_COLS
};

static const struct col av_cols[A_COLS] = {
        {"site", "site"},
        {"instrument", "instrument"},
        {"channel", "channel"},
        {"instrument_s", "instrument_s"},
        {"online_s", "online_s"},
        {"offline_s", "offline_s"},
        {"failing_s", "failing_s"},
        {"unknown_s", "unknown_s"},
        {"online_fraction", "online_fraction"},
        {"channel_s", "channel_s"},
        {"in_tolerance_s", "in_tolerance_s"},
        {"warning_s", "warning_s"},
        {"out_of_tolerance_s", "out_of_tolerance_s"},
        {"no_data_s", "no_data_s"},
        {"tolerance_unknown_s", "tolerance_unknown_s"},
        {"warning_fraction", "warning_fraction"},
        {"out_of_tolerance_fraction", "out_of_tolerance_fraction"},
};

/* Site totals, then instruments, then channels: one table. */
static const char av_from[] =
        "FROM (WITH a AS (SELECT * FROM metrolog_availability($1, $2)), "
        "t AS (SELECT * FROM metrolog_tolerance_time($1, $2)), "
        "sa AS (SELECT site, sum(period_s) AS p, sum(online_s) AS onl, "
        "sum(offline_s) AS off, sum(failing_s) AS fl, sum(unknown_s) AS un "
        "FROM a GROUP BY site), "
        "st AS (SELECT site, sum(period_s) AS p, sum(in_tolerance_s) AS ok, "
        "sum(warning_s) AS w, sum(out_of_tolerance_s) AS o, "
        "sum(no_data_s) AS nd, sum(unknown_s) AS un FROM t GROUP BY site) "
        "SELECT coalesce(sa.site, st.site) AS site, NULL::text AS "
        "instrument, NULL::text AS channel, sa.p AS instrument_s, sa.onl AS "
        "online_s, sa.off AS offline_s, sa.fl AS failing_s, sa.un AS "
        "unknown_s, (sa.onl / sa.p)::float8 AS online_fraction, st.p AS "
        "channel_s, st.ok AS in_tolerance_s, st.w AS warning_s, st.o AS "
        "out_of_tolerance_s, st.nd AS no_data_s, st.un AS "
        "tolerance_unknown_s, (st.w / st.p)::float8 AS warning_fraction, "
        "(st.o / st.p)::float8 AS out_of_tolerance_fraction "
        "FROM sa FULL JOIN st ON st.site = sa.site "
        "UNION ALL SELECT site, instrument, NULL, period_s, online_s, "
        "offline_s, failing_s, unknown_s, online_fraction, NULL, NULL, NULL, "
        "NULL, NULL, NULL, NULL, NULL FROM a "
        "UNION ALL SELECT site, instrument, channel, NULL, NULL, NULL, NULL, "
        "NULL, NULL, period_s, in_tolerance_s, warning_s, "
        "out_of_tolerance_s, no_data_s, unknown_s, warning_fraction, "
        "out_of_tolerance_fraction FROM t) AS r";

/* "online 87.5 % (75600 s)": seconds s of period p, after ", " unless
 * first. */
static void share(FILE *out, const char *what, const char *s, const char *p)
{
	double v = strtod(s, NULL), whole = strtod(p, NULL);
	bool first = strcmp(what, "online") == 0 ||
	             strcmp(what, "out of tolerance") == 0;

	fprintf(out, "%s%s %.4g %% (%.0f s)", first ? " " : ", ", what,
	        whole > 0 ? v / whole * 100 : 0, v);
}

static void av_text(FILE *out, const char *const *c)
{
	if (c[A_INST] == NULL)
		fprintf(out, "%s (all instruments, all channels)\n", c[A_SITE]);
	else if (c[A_CHANNEL] == NULL)
		fprintf(out, "  %s\n", c[A_INST]);
	else
		fprintf(out, "    channel %s\n", c[A_CHANNEL]);
	if (c[A_INST_S] != NULL && c[A_CHANNEL] == NULL) {
		fprintf(out, "   %s", c[A_INST] ? "  " : "");
		share(out, "online", c[A_ONLINE], c[A_INST_S]);
		share(out, "offline", c[A_OFFLINE], c[A_INST_S]);
		share(out, "failing", c[A_FAILING], c[A_INST_S]);
		share(out, "unknown", c[A_UNKNOWN], c[A_INST_S]);
		fputc('\n', out);
	}
	if (c[A_CHAN_S] != NULL) {
		fprintf(out, "   %s", c[A_INST] ? "    " : "");
		share(out, "out of tolerance", c[A_OOT], c[A_CHAN_S]);
		share(out, "warning", c[A_WARNING], c[A_CHAN_S]);
		share(out, "in tolerance", c[A_IN_TOL], c[A_CHAN_S]);
		share(out, "no data", c[A_NO_DATA], c[A_CHAN_S]);
		share(out, "unknown", c[A_TOL_UNKNOWN], c[A_CHAN_S]);
		fputc('\n', out);
	}
}

static int cmd_availability(struct archive *a, const struct args *g, char *err,
                            size_t errlen)
{
	static const struct query q = {
	        av_cols, A_COLS, av_from,
	        "site, instrument NULLS FIRST, channel NULLS FIRST", av_text};
	const char *p[2] = {g->from, g->to};

	if (g->fmt == F_TEXT)
		printf("from %s to %s (shares of the period; of instrument- or "
		       "channel-time for a site)\n",
		       g->from, g->to);
	return run_query(a, &q, p, 2, g->fmt, stdout, err, errlen) < 0 ? 1 : 0;
}

/* ---- interval ---------------------------------------------------------- */

/* One calibration of one point of one instrument (errors: value minus
 * reference, as `metrolog calibrate` follows a point). */
struct hrow {
	char site[72], inst[72], quantity[CALIB_TEXT], unit[CALIB_UNIT];
	double reference;
	struct history_row h;
};

struct pool {
	struct hrow *rows;
	int n;
	size_t cap;
	bool oom;
};

static double num(const char *s)
{
	return s != NULL ? strtod(s, NULL) : NAN;
}

/* metrolog_model_history's row into the pool. */
static int add_hrow(void *ctx, int n, const char *const *c)
{
	struct pool *p = ctx;
	struct hrow *r;
	double found, left;

	(void)n;
	if (text_reserve((void **)&p->rows, &p->cap, (size_t)p->n + 1,
	                 sizeof(*p->rows)) < 0) {
		p->oom = true;
		return -1;
	}
	r = &p->rows[p->n++];
	snprintf(r->site, sizeof(r->site), "%s", c[0]);
	snprintf(r->inst, sizeof(r->inst), "%s", c[1]);
	snprintf(r->quantity, sizeof(r->quantity), "%s", c[2]);
	snprintf(r->unit, sizeof(r->unit), "%s", c[3]);
	r->reference = num(c[4]);
	found = isnan(num(c[7])) ? num(c[8]) : num(c[7]);
	left = isnan(num(c[8])) ? num(c[7]) : num(c[8]);
	r->h = (struct history_row){.day = strtol(c[6], NULL, 10),
	                            .found = found - r->reference,
	                            .left = left - r->reference,
	                            .lower = num(c[9]),
	                            .upper = num(c[10]),
	                            .U = num(c[11]),
	                            .k = num(c[12]),
	                            .k_stated = true};
	return 0;
}

static bool same_point(const struct hrow *a, const struct hrow *b)
{
	return strcmp(a->quantity, b->quantity) == 0 &&
	       strcmp(a->unit, b->unit) == 0 && a->reference == b->reference;
}

static bool same_inst(const struct hrow *a, const struct hrow *b)
{
	return strcmp(a->site, b->site) == 0 && strcmp(a->inst, b->inst) == 0;
}

/* An interval of one instrument: from its calibration start to end. */
struct pair {
	const struct hrow *start, *end;
};

/* By the end's day, then site and instrument: the last is the interval
 * most recently completed, the pool's "current interval". */
static int pair_cmp(const void *pa, const void *pb)
{
	const struct pair *a = pa, *b = pb;
	int c;

	if (a->end->h.day != b->end->h.day)
		return a->end->h.day < b->end->h.day ? -1 : 1;
	c = strcmp(a->end->site, b->end->site);
	return c != 0 ? c : strcmp(a->end->inst, b->end->inst);
}

/* The pooled pairs laid end to end as one history the tool reads: row i
 * (i >= 1) is pair i's end (its as-found, limits, U, k) carrying pair
 * i+1's start as-left, day = row i-1's + pair i's days, so that the tool's
 * deltas, intervals and as-found tests are exactly the pairs'. */
static void chain(const struct pair *pr, int np, struct history_row *rows)
{
	rows[0] = pr[0].start->h;
	for (int i = 1; i <= np; i++) {
		const struct pair *x = &pr[i - 1];
		rows[i] = x->end->h;
		rows[i].day =
		        rows[i - 1].day + (x->end->h.day - x->start->h.day);
		rows[i].left = i < np ? pr[i].start->h.left : x->end->h.left;
	}
}

static void print_csv(FILE *out, const struct history_row *rows, int n)
{
	char v[7][40];

	fprintf(out, "date,as_found,as_left,lower,upper,uncertainty,k\n");
	for (int i = 0; i < n; i++) {
		utc_format_date((int64_t)rows[i].day * UTC_DAY_US, v[0],
		                sizeof(v[0]));
		text_shortest(rows[i].found, false, v[1], sizeof(v[1]));
		text_shortest(rows[i].left, false, v[2], sizeof(v[2]));
		text_shortest(rows[i].lower, false, v[3], sizeof(v[3]));
		text_shortest(rows[i].upper, false, v[4], sizeof(v[4]));
		text_shortest(rows[i].U, false, v[5], sizeof(v[5]));
		text_shortest(rows[i].k, false, v[6], sizeof(v[6]));
		fprintf(out, "%s,%s,%s,%s,%s,%s,%s\n", v[0], v[1], v[2], v[3],
		        v[4], v[5], v[6]);
	}
}

/* Counts of the point's group g[0..n): records, instruments, labs. */
static void group_counts(const struct hrow *g, int n, int *insts, int *labs)
{
	*insts = *labs = 0;
	for (int i = 0; i < n; i++) {
		bool new_inst = true, new_lab = true;
		for (int j = 0; j < i; j++) {
			new_inst = new_inst && !same_inst(&g[i], &g[j]);
			new_lab = new_lab && strcmp(g[i].site, g[j].site) != 0;
		}
		*insts += new_inst;
		*labs += new_lab;
	}
}

/* The advice for one point: g[0..n) sorted by instrument, then day. */
static int point_advice(const struct args *a, const struct hrow *g, int n)
{
	struct pair *pr = calloc((size_t)n, sizeof(*pr));
	struct history_row *rows = calloc((size_t)n + 1, sizeof(*rows));
	struct calc_interval_opts o;
	int np = 0, skipped = 0, insts, labs;
	char src[512], d0[16], d1[16];

	if (pr == NULL || rows == NULL) {
		free(pr);
		free(rows);
		return -1;
	}
	for (int i = 1; i < n; i++)
		if (!same_inst(&g[i - 1], &g[i]))
			continue;
		else if (g[i].h.day > g[i - 1].h.day)
			pr[np++] = (struct pair){&g[i - 1], &g[i]};
		else
			skipped++; /* the same day: no interval */
	group_counts(g, n, &insts, &labs);
	qsort(pr, (size_t)np, sizeof(*pr), pair_cmp);
	if (np > 0)
		chain(pr, np, rows);
	if (a->csv) {
		printf("# model %s, point %s at %.17g %s\n", a->model,
		       g[0].quantity, g[0].reference, g[0].unit);
		if (np > 0)
			print_csv(stdout, rows, np + 1);
	} else {
		printf("point %s at %g %s: %d records of %d instrument(s) in "
		       "%d lab(s), %d intervals pooled",
		       g[0].quantity, g[0].reference, g[0].unit, n, insts, labs,
		       np);
		if (skipped > 0)
			printf(" (%d of 0 days left out)", skipped);
		printf("\n");
	}
	if (!a->csv && np > 0) {
		utc_format_date((int64_t)pr[0].start->h.day * UTC_DAY_US, d0,
		                sizeof(d0));
		utc_format_date((int64_t)pr[np - 1].end->h.day * UTC_DAY_US, d1,
		                sizeof(d1));
		printf("  performed %s to %s; below, the intervals laid end to "
		       "end (--csv prints that history)\n",
		       d0, d1);
		snprintf(src, sizeof(src), "model %s pooled", a->model);
		calc_interval_defaults(&o);
		o.unit = g[0].unit;
		calc_interval_report(stdout, rows, np + 1, &o, src);
	} else if (!a->csv)
		printf("  no interval to pool\n");
	if (!a->csv)
		printf("\n");
	free(pr);
	free(rows);
	return np;
}

static int cmd_interval(struct archive *a, const struct args *g, char *err,
                        size_t errlen)
{
	struct pool p = {0};
	const char *prm[1] = {g->model};
	int rc = 0, intervals = 0;

	if (archive_select(a, "SELECT * FROM metrolog_model_history($1)", 1,
	                   prm, add_hrow, &p, err, errlen) < 0) {
		if (p.oom)
			snprintf(err, errlen, "out of memory");
		free(p.rows);
		return 1;
	}
	if (!g->csv)
		printf("model %s: the instruments instrument_models lists with "
		       "it, every lab; the tool's methods (`metrolog "
		       "interval`)\n\n",
		       g->model);
	for (int i = 0, j; i < p.n && rc == 0; i = j) {
		for (j = i + 1; j < p.n && same_point(&p.rows[i], &p.rows[j]);
		     j++)
			;
		int k = point_advice(g, &p.rows[i], j - i);
		if (k < 0) {
			snprintf(err, errlen, "out of memory");
			rc = 1;
		}
		intervals += k > 0 ? k : 0;
	}
	if (rc == 0 && p.n == 0 && !g->csv)
		printf("no calibration of an instrument of model %s in the "
		       "archive\n",
		       g->model);
	free(p.rows);
	return rc != 0 ? rc : intervals == 0 ? 3 : 0;
}

/* ---- the command line ------------------------------------------------- */

bool province_is_command(const char *word)
{
	return strcmp(word, "enterprise") == 0 ||
	       strcmp(word, "availability") == 0 ||
	       strcmp(word, "interval") == 0;
}

static int usage(const char *cmd)
{
	fprintf(stderr,
	        "metrolog-collector %s: bad usage\n"
	        "Usage: metrolog-collector [-c FILE] enterprise NAME|--id ID "
	        "[--format text|csv|json]\n"
	        "       metrolog-collector [-c FILE] availability --from TIME "
	        "--to TIME [--format F]\n"
	        "       metrolog-collector [-c FILE] interval --model MODEL "
	        "[--csv]\n"
	        "TIME: ISO 8601 (2026-11-01T00:00:00Z). "
	        "docs/PROVINCE-QUERIES.md "
	        "explains each.\n",
	        cmd);
	return 2;
}

/* Parse argv[at + 1 ...] into g. Returns 0, or -1 on bad usage. */
static int parse(struct args *g, int at, int argc, char **argv)
{
	for (int i = at + 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		const char **to =
		        strcmp(argv[i], "--from") == 0    ? &g->from
		        : strcmp(argv[i], "--to") == 0    ? &g->to
		        : strcmp(argv[i], "--model") == 0 ? &g->model
		        : strcmp(argv[i], "--id") == 0    ? &g->id
		        : strcmp(argv[i], "-c") == 0 ||
		                        strcmp(argv[i], "--config") == 0
		                ? &g->config
		                : NULL;
		if (to != NULL && v != NULL) {
			*to = v;
			i++;
		} else if (strcmp(argv[i], "--format") == 0 && v != NULL) {
			g->fmt = strcmp(v, "text") == 0   ? F_TEXT
			         : strcmp(v, "csv") == 0  ? F_CSV
			         : strcmp(v, "json") == 0 ? F_JSON
			                                  : (enum fmt) - 1;
			if ((int)g->fmt < 0)
				return -1;
			i++;
		} else if (strcmp(argv[i], "--csv") == 0)
			g->csv = true;
		else if (argv[i][0] != '-' && g->name == NULL)
			g->name = argv[i];
		else
			return -1;
	}
	if (strcmp(g->cmd, "enterprise") == 0)
		return (g->name != NULL) != (g->id != NULL) && !g->from &&
		                       !g->to && !g->model && !g->csv
		               ? 0
		               : -1;
	if (g->id != NULL)
		return -1;
	if (strcmp(g->cmd, "availability") == 0)
		return g->from && g->to && !g->name && !g->model && !g->csv
		               ? 0
		               : -1;
	return g->model && !g->name && !g->from && !g->to && g->fmt == F_TEXT
	               ? 0
	               : -1;
}

int province_main(const char *config, int at, int argc, char **argv)
{
	struct args g = {.cmd = argv[at], .config = config};
	char err[1024] = "";
	struct ccfg *c;
	struct archive *a = NULL;
	int rc = 1;

	if (parse(&g, at, argc, argv) < 0)
		return usage(g.cmd);
	c = ccfg_load(g.config, stderr);
	if (c == NULL)
		return 1;
	a = archive_open(c->conninfo, err, sizeof(err));
	if (a != NULL && archive_check(a, err, sizeof(err)) == 0) {
		if (strcmp(g.cmd, "enterprise") == 0)
			rc = cmd_enterprise(a, &g, err, sizeof(err));
		else if (strcmp(g.cmd, "availability") == 0)
			rc = cmd_availability(a, &g, err, sizeof(err));
		else
			rc = cmd_interval(a, &g, err, sizeof(err));
	}
	fflush(stdout);
	if (rc == 1)
		fprintf(stderr, "metrolog-collector %s: %s\n", g.cmd, err);
	archive_close(a);
	ccfg_free(c);
	return rc;
}
