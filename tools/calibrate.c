/*
 * calibrate.c - the calibration records of the metrolog tool:
 *   calibrate     record a calibration (append-only, hash-chained), print
 *                 its decisions and the interval advice from the history
 *   calibrations  list the records, or show one in full
 *   verify        check the audit chain and the approvals' chain, and a
 *                 certificate's QR text
 *
 * Single-threaded; calibrate writes through store.h (one transaction),
 * the others read through query.h (read-only). Exit codes in tool.h.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "calc.h"
#include "calfile.h"
#include "calib.h"
#include "cmd.h"
#include "drift.h"
#include "labtime.h"
#include "out.h"
#include "query.h"
#include "store.h"
#include "tool.h"
#include "utc.h"

#define DAY_US 86400000000LL

/* ---- calibrate: fields from options or a file --------------------------- */

struct cal_args {
	struct calib_record *r;
	const char *db;
	bool dry_run;
	bool have_date;
};

/* A date of a record: the grammar without "now" and ages (utc.h), local
 * when written without Z or an offset (labtime_parse). */
static int record_date(const char *s, int64_t *us)
{
	return labtime_parse(s, UTC_ABSOLUTE, 0, us);
}

/* calfile's hook for --points and "points = FILE"; c->ctx is a bool set
 * when the file cannot be opened (exit status 1, not 2). */
static int read_points(struct calfile *c, const char *path, char *err,
                       size_t errlen)
{
	FILE *f = fopen(path, "r");
	int rc;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		*(bool *)c->ctx = true;
		return -1;
	}
	rc = calfile_read_points(c->r, f, path, err, errlen);
	fclose(f);
	return rc;
}

/* Run one calfile call on a's record: 0, or the exit status (reported). */
static int fields(struct cal_args *a, const char *name, const char *v,
                  const char *at, FILE *f)
{
	bool unreadable = false;
	struct calfile c = {.r = a->r,
	                    .have_date = a->have_date,
	                    .parse_date = record_date,
	                    .read_points = read_points,
	                    .ctx = &unreadable};
	char err[CALFILE_LINE_MAX + 1024];
	int rc = f != NULL ? calfile_read(&c, f, name, err, sizeof(err))
	                   : calfile_field(&c, name, v, at, err, sizeof(err));

	a->have_date = c.have_date;
	if (rc == 0)
		return 0;
	fprintf(stderr, "metrolog calibrate: %s\n", err);
	return unreadable ? 1 : 2;
}

/* One field by its long option name; at says where it came from
 * ("file:line"; NULL: the command line). */
static int set_field(struct cal_args *a, const char *name, const char *v,
                     const char *at)
{
	return fields(a, name, v, at, NULL);
}

/* The fields file at path (calfile.h). */
static int read_file(struct cal_args *a, const char *path)
{
	FILE *f = fopen(path, "r");
	int rc;

	if (f == NULL) {
		fprintf(stderr, "metrolog calibrate: %s: %s\n", path,
		        strerror(errno));
		return 1;
	}
	rc = fields(a, path, NULL, NULL, f);
	fclose(f);
	return rc;
}

/* The options of calibrate: every field of the record by its long name
 * (set_field, as in a --file), and these. */
enum { CA_FIELD, CA_FILE, CA_DRY_RUN };

static const struct cmd_option calibrate_opts[] = {
        {"instrument", 'i', "ID",
         "the item calibrated (an instrument or standard id of the\n"
         "configuration)",
         CA_FIELD},
        {"certificate", 'c', "NUM",
         "unique certificate number (A-Z a-z 0-9 _ . - /)", CA_FIELD},
        {"date", 0, "DATE",
         "when calibrated, local: YYYY-MM-DD or YYYY-MM-DDTHH:MM\n"
         "(Z or +07:00 after the time: that offset)",
         CA_FIELD},
        {"technician", 't', "NAME", "who calibrated", CA_FIELD},
        {"point", 'p', "P",
         "a test point, repeat for each: quantity,unit,reference,\n"
         "as_found,as_left,lower,upper,U,k (indications in the\n"
         "unit; lower/upper: error limits; U: expanded\n"
         "uncertainty; as_found or as_left may be empty)",
         CA_FIELD},
        {"points", 0, "FILE.csv",
         "test points from a CSV file with that header line", CA_FIELD},
        {"standard", 's', "ID",
         "reference standard used (its certificate and due date\n"
         "are recorded; an overdue standard is flagged)",
         CA_FIELD},
        {"rule", 0, "RULE", "simple (default) or guarded (ILAC-G8, w = r x U)",
         CA_FIELD},
        {"guard-factor", 0, "R", "r for guarded acceptance (default 1)",
         CA_FIELD},
        {"min-tur", 0, "N",
         "a statement of conformity when TUR = (upper - lower) /\n"
         "(2U) >= N (default 4), or when ...",
         CA_FIELD},
        {"max-risk", 0, "PCT",
         "... its specific risk (JCGM 106) is <= PCT %\n"
         "(default 2.5); otherwise the point gets \"no statement\"",
         CA_FIELD},
        {"no-statement", 0, "WHAT",
         "record (default: the point's decision is \"no\n"
         "statement\") or refuse (the record is not written)",
         CA_FIELD},
        {"interval", 0, "DAYS",
         "calibration interval (default: the instrument's\n"
         "configured calibration_interval_days)",
         CA_FIELD},
        {"supersedes", 0, "ID", "this record corrects record ID", CA_FIELD},
        {"standard-reason", 0, "TEXT",
         "why a standard overdue or never calibrated was used\n"
         "(without it such a record is refused)",
         CA_FIELD},
        {"amendment", 0, "TEXT",
         "with --supersedes (required): what changed and why", CA_FIELD},
        {"lab", 0, "TEXT",
         "the laboratory's name (default, with its address and\n"
         "accreditation: the configuration's lab group)",
         CA_FIELD},
        {"lab-address", 0, "TEXT", "the laboratory's address", CA_FIELD},
        {"accreditation", 0, "TEXT", "the accreditation, e.g. \"VILAS 1234\"",
         CA_FIELD},
        {"customer", 0, "TEXT",
         "the customer's name (default, with address and contact:\n"
         "the configuration's customer that owns the instrument)",
         CA_FIELD},
        {"customer-address", 0, "TEXT", "the customer's address", CA_FIELD},
        {"customer-contact", 0, "TEXT", "the customer's contact", CA_FIELD},
        {"customer-id", 0, "ID",
         "the customer's tax code or registration number, as\n"
         "the lab records it (the province matches on it)",
         CA_FIELD},
        {"location", 0, "TEXT",
         "where the work was done (default: the lab's location;\n"
         "say so when it was at the customer's site)",
         CA_FIELD},
        {"received", 0, "DATE", "when the item was received", CA_FIELD},
        {"condition", 0, "TEXT", "the item's condition on receipt", CA_FIELD},
        {"method", 0, "TEXT", "the procedure followed", CA_FIELD},
        {"deviations", 0, "TEXT",
         "additions to, deviations from or exclusions from the\n"
         "method",
         CA_FIELD},
        {"specification", 0, "TEXT",
         "the specification the error limits come from", CA_FIELD},
        {"conditions", 0, "TEXT", "environmental conditions", CA_FIELD},
        {"authorised", 0, "NAME",
         "(kept for old scripts: `metrolog approve` names who\n"
         "authorised the certificate)",
         CA_FIELD},
        {"remarks", 0, "TEXT", "certificate field", CA_FIELD},
        {"file", 0, "RECORD",
         "read the fields from a file: one \"name = value\" per line\n"
         "with the long option names above (point repeats),\n"
         "# comments",
         CA_FILE},
        {"dry-run", 0, NULL, "check and decide, print, record nothing",
         CA_DRY_RUN},
        {0},
};

static int on_calibrate_option(struct cmd_line *l, const struct cmd_option *o,
                               const char *v)
{
	struct cal_args *a = l->ctx;

	switch (o->id) {
	case CA_FILE:
		return read_file(a, v);
	case CA_DRY_RUN:
		a->dry_run = true;
		return 0;
	default:
		return set_field(a, o->name, v, NULL);
	}
}

const struct cmd_def calibrate_cmd = {
        .name = "calibrate",
        .summary = "record a calibration (append-only, hash-chained)",
        .synopsis = "[-d DB] --instrument ID --certificate NUMBER --date "
                    "DATE\n  --technician NAME (--point P)... [OPTION]...\n"
                    "[-d DB] --file RECORD [OPTION]...",
        .about = "Record a calibration of an instrument or reference "
                 "standard: appended to the\naudit chain, never "
                 "overwritten. Prints the decision at each point, the due "
                 "date,\nthe reference standard's status and the interval "
                 "advice from the history (shown,\nnever applied).\n",
        .options = calibrate_opts,
        .common = CMD_DATABASE,
        .footer = "Exit status: 0 recorded, 1 refused (unknown instrument "
                  "or standard, certificate\nnumber used, database error), "
                  "2 bad usage or a bad point.\n",
        .run = cmd_calibrate,
};

/* Returns 0, or -1 with *status the exit status (0: help shown). */
static int calibrate_args(int argc, char **argv, struct cal_args *a,
                          int *status)
{
	struct cmd_line l = {.on_option = on_calibrate_option, .ctx = a};

	if (cmd_parse(&calibrate_cmd, &l, argc, argv, status) < 0)
		return -1;
	a->db = l.database;
	if (a->r->rule == CALIB_RULE_GUARDED && a->r->guard_factor == 0)
		a->r->guard_factor = 1;
	return 0;
}

/* ---- printing a record -------------------------------------------------- */

static const char *decision(int d)
{
	return d < 0 ? "-" : drift_decision_name((enum drift_decision)d);
}

static void print_error(FILE *out, double indication, double reference)
{
	if (isnan(indication))
		fprintf(out, " %10s %9s", "-", "");
	else
		fprintf(out, " %10.6g %+9.4g", indication,
		        drift_error(indication, reference));
}

/* TUR of p, as the policy reads it. */
static void print_tur(FILE *out, const struct calib_point *p)
{
	if (p->U > 0)
		fprintf(out, " %6.3g", (p->upper - p->lower) / (2 * p->U));
	else
		fprintf(out, " %6s", "inf");
}

static void print_points(FILE *out, const struct calib_record *r)
{
	fprintf(out,
	        "  %-3s %-14s %10s %10s %9s %10s %9s %-21s %-12s %6s %-16s "
	        "%s\n",
	        "#", "quantity", "reference", "as found", "error", "as left",
	        "error", "error limits", "U (k)", "TUR", "as found", "as left");
	for (int i = 0; i < r->npoints; i++) {
		const struct calib_point *p = &r->points[i];
		char lim[64], u[32];
		snprintf(lim, sizeof(lim), "[%g, %g] %s", p->lower, p->upper,
		         p->unit);
		snprintf(u, sizeof(u), "%g (%g)", p->U, p->k);
		fprintf(out, "  %-3d %-14s %10.6g", i + 1, p->quantity,
		        p->reference);
		print_error(out, p->as_found, p->reference);
		if (isnan(p->as_left) && !isnan(p->as_found))
			fprintf(out, " %20s", "not adjusted");
		else
			print_error(out, p->as_left, p->reference);
		fprintf(out, " %-21s %-12s", lim, u);
		print_tur(out, p);
		fprintf(out, " %-16s %s\n", decision(p->found),
		        decision(p->left));
	}
}

/* Why each point without a statement has none (rule version 2). */
static void print_no_statements(FILE *out, const struct calib_record *r)
{
	char why[256];

	for (int i = 0; i < r->npoints; i++)
		if (calib_point_why(r, i, why, sizeof(why)) < 0)
			fprintf(out, "no statement     %s\n", why);
}

static void print_rule(FILE *out, const struct calib_record *r)
{
	if (r->rule == CALIB_RULE_GUARDED)
		fprintf(out,
		        "decision rule    guarded acceptance (ILAC-G8), "
		        "guard band w = %g x U\n",
		        r->guard_factor);
	else
		fprintf(out, "decision rule    simple acceptance (ILAC-G8, "
		             "w = 0)\n");
	if (r->rule_version >= 2)
		fprintf(out,
		        "statements       when TUR >= %g or the specific risk "
		        "<= %g %% (JCGM 106, u = U/k)%s; otherwise \"no "
		        "statement\"\n",
		        r->min_tur, 100 * r->max_risk,
		        r->rule == CALIB_RULE_GUARDED
		                ? ", and never when the guard bands overlap"
		                : "");
}

/* An old record: the rules it was decided under, and what today's would
 * say where they differ. */
static void print_rule_version(FILE *out, const struct calib_record *r)
{
	int found, left;

	if (r->rule_version >= 2)
		return;
	fprintf(out, "OLD RULES        decided under rule version 1 (before "
	             "2026-12): a point not\n"
	             "                 adjusted was left out of the as-left "
	             "result, and no point was\n"
	             "                 checked for whether a statement could "
	             "be made\n");
	if (calib_redecide(r, &found, &left) < 0)
		return;
	if (found != r->result_found || left != r->result_left)
		fprintf(out,
		        "                 re-decided under rule version %d: "
		        "as found: %s; as left: %s\n",
		        CALIB_RULE_VERSION, decision(found), decision(left));
	else
		fprintf(out,
		        "                 re-decided under rule version %d: "
		        "the same results\n",
		        CALIB_RULE_VERSION);
}

static void print_standard(FILE *out, const struct calib_record *r)
{
	char due[16];

	if (r->standard[0] == '\0') {
		fprintf(out, "standard         none recorded\n");
		return;
	}
	tool_format_due(r->standard_due_us, due, sizeof(due));
	fprintf(out, "standard         %s, certificate %s, due %s\n",
	        r->standard, r->standard_cert[0] ? r->standard_cert : "none",
	        due);
	if (r->standard_overdue)
		fprintf(out,
		        "WARNING          the reference standard %s was %s "
		        "on the calibration date\n",
		        r->standard,
		        r->standard_cert[0] ? "overdue for calibration"
		                            : "never calibrated");
	if (r->standard_reason[0])
		fprintf(out, "reason           %s\n", r->standard_reason);
}

/* The certificate's fields of r that are given, one a line. */
static void print_particulars(FILE *out, const struct calib_record *r)
{
	const struct {
		const char *label, *v;
	} f[] = {
	        {"amendment", r->amendment},
	        {"customer", r->customer},
	        {"customer addr.", r->customer_address},
	        {"customer contact", r->customer_contact},
	        {"customer id", r->customer_id},
	        {"laboratory", r->lab},
	        {"lab address", r->lab_address},
	        {"accreditation", r->lab_accreditation},
	        {"location", r->location},
	        {"item condition", r->item_condition},
	        {"method", r->method},
	        {"deviations", r->deviations},
	        {"specification", r->specification},
	        {"conditions", r->conditions},
	};
	char received[16];

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i].v[0])
			fprintf(out, "%-16s %s\n", f[i].label, f[i].v);
	if (r->received_us > 0) {
		tool_format_date(r->received_us, received, sizeof(received));
		fprintf(out, "received         %s\n", received);
	}
}

static void print_record(FILE *out, const struct calib_record *r)
{
	char performed[32], issued[32], due[16];

	tool_format_time(r->performed_us, performed, sizeof(performed));
	tool_format_time(r->issued_us, issued, sizeof(issued));
	tool_format_due(r->due_us, due, sizeof(due));
	fprintf(out, "record           %" PRId64 "\n", r->id);
	fprintf(out, "instrument       %s\n", r->instrument);
	fprintf(out, "certificate      %s\n", r->certificate);
	if (r->supersedes > 0)
		fprintf(out, "supersedes       record %" PRId64 "\n",
		        r->supersedes);
	fprintf(out, "calibrated       %s by %s\n", performed, r->technician);
	fprintf(out, "issued           %s%s%s\n", issued,
	        r->authorised[0] ? ", authorised by " : "", r->authorised);
	print_particulars(out, r);
	print_standard(out, r);
	print_rule(out, r);
	print_points(out, r);
	print_no_statements(out, r);
	fprintf(out, "result           as found: %s; as left: %s\n",
	        decision(r->result_found), decision(r->result_left));
	print_rule_version(out, r);
	if (r->interval_days > 0)
		fprintf(out, "next due         %s (interval %d days)\n", due,
		        r->interval_days);
	else
		fprintf(out, "next due         none (no calibration interval "
		             "configured or given)\n");
	if (r->remarks[0])
		fprintf(out, "remarks          %s\n", r->remarks);
	fprintf(out, "hash             %s\n", r->hash);
}

/* ---- interval advice from the history ----------------------------------- */

struct history {
	const struct calib_point *point; /* the point to follow */
	struct query *q;
	struct history_row *rows;
	int n, cap;
};

/* The same point of an earlier record: same quantity, unit and
 * reference value. Superseded records are skipped. */
static int add_history(void *ctx, const struct calib_record *r)
{
	struct history *h = ctx;

	if (query_superseded_by(h->q, r->id) != 0)
		return 0;
	for (int i = 0; i < r->npoints && h->n < h->cap; i++) {
		const struct calib_point *p = &r->points[i];
		if (strcmp(p->quantity, h->point->quantity) != 0 ||
		    strcmp(p->unit, h->point->unit) != 0 ||
		    p->reference != h->point->reference)
			continue;
		double found = isnan(p->as_found) ? p->as_left : p->as_found;
		double left = isnan(p->as_left) ? p->as_found : p->as_left;
		h->rows[h->n++] = (struct history_row){
		        .day = (long)(r->performed_us / DAY_US),
		        .found = found - p->reference,
		        .left = left - p->reference,
		        .lower = p->lower,
		        .upper = p->upper,
		        .U = p->U,
		        .k = p->k,
		        .k_stated = true,
		};
		break;
	}
	return 0;
}

static int row_cmp(const void *pa, const void *pb)
{
	const struct history_row *a = pa, *b = pb;
	return (a->day > b->day) - (a->day < b->day);
}

static void print_advice(struct query *q, const struct calib_record *r)
{
	struct calc_interval_opts o;
	struct history h = {.q = q, .cap = 1000};
	char source[512];

	h.rows = calloc((size_t)h.cap, sizeof(*h.rows));
	if (h.rows == NULL)
		return;
	fprintf(stdout, "\ninterval advice (shown, never applied; "
	                "`metrolog interval` explains the methods)\n");
	for (int i = 0; i < r->npoints; i++) {
		h.point = &r->points[i];
		h.n = 0;
		if (query_calibrations(q, r->instrument, NULL, add_history,
		                       &h) < 0) {
			fprintf(stdout, "  %s\n", query_error(q));
			break;
		}
		snprintf(source, sizeof(source), "%s %s at %g %s",
		         r->instrument, h.point->quantity, h.point->reference,
		         h.point->unit);
		fprintf(stdout, "point %d: %s\n", i + 1, source);
		if (h.n < 2) {
			fprintf(stdout,
			        "  needs at least 2 calibrations of this "
			        "point; have %d\n",
			        h.n);
			continue;
		}
		qsort(h.rows, (size_t)h.n, sizeof(*h.rows), row_cmp);
		calc_interval_defaults(&o);
		o.unit = h.point->unit;
		calc_interval_report(stdout, h.rows, h.n, &o, "records");
	}
	free(h.rows);
}

int cmd_calibrate(int argc, char **argv)
{
	struct calib_record *r = calloc(1, sizeof(*r));
	struct cal_args a = {.r = r};
	struct store *st = NULL;
	struct query *q = NULL;
	char err[512];
	int rc;

	if (r == NULL) {
		fprintf(stderr, "metrolog calibrate: out of memory\n");
		return 1;
	}
	if (calibrate_args(argc, argv, &a, &rc) < 0) {
		free(r);
		return rc;
	}
	if (calib_validate(r, err, sizeof(err)) < 0 || !a.have_date) {
		fprintf(stderr, "metrolog calibrate: %s\n",
		        a.have_date ? err : "no --date");
		free(r);
		return 2;
	}
	if (a.dry_run) {
		calib_current(r);
		calib_evaluate(r);
		print_rule(stdout, r);
		print_points(stdout, r);
		print_no_statements(stdout, r);
		fprintf(stdout,
		        "result           as found: %s; as left: %s\n"
		        "(dry run: nothing recorded)\n",
		        decision(r->result_found), decision(r->result_left));
		rc = r->refuse_no_statement &&
		     calib_statements_check(r, err, sizeof(err)) < 0;
		if (rc)
			fprintf(stderr,
			        "metrolog calibrate: %s (would be refused: "
			        "no-statement is refuse)\n",
			        err);
		free(r);
		return rc;
	}
	st = store_open(tool_database(a.db), err, sizeof(err));
	if (st == NULL || store_cal_append(st, r) < 0) {
		fprintf(stderr, "metrolog calibrate: %s\n",
		        st == NULL ? err : store_last_message(st));
		store_close(st);
		free(r);
		return 1;
	}
	store_close(st);
	print_record(stdout, r);
	q = query_open(tool_database(a.db), err, sizeof(err));
	if (q != NULL)
		print_advice(q, r);
	query_close(q);
	free(r);
	return 0;
}

/* ---- calibrations -------------------------------------------------------- */

enum { CL_INSTRUMENT, CL_OWNER, CL_CERTIFICATE, CL_ID };

static const struct cmd_option calibrations_opts[] = {
        {"instrument", 'i', "ID", "only this instrument or standard",
         CL_INSTRUMENT},
        {"owner", 0, "ID", "only instruments of this owner", CL_OWNER},
        {"id", 0, "N", "show record N", CL_ID},
        {"certificate", 'c', "NUM",
         "show the (latest) record of this certificate", CL_CERTIFICATE},
        {0},
};

struct cal_list_args {
	const char *inst, *owner, *cert;
	long id;
};

static int on_calibrations_option(struct cmd_line *l,
                                  const struct cmd_option *o, const char *v)
{
	struct cal_list_args *a = l->ctx;

	switch (o->id) {
	case CL_INSTRUMENT:
		a->inst = v;
		return 0;
	case CL_OWNER:
		a->owner = v;
		return 0;
	case CL_CERTIFICATE:
		a->cert = v;
		return 0;
	default: /* CL_ID */
		if (tool_parse_long(v, 1, LONG_MAX, &a->id) < 0)
			return cmd_usage(
			        l, "--id '%s': expected a record id >= 1", v);
		return 0;
	}
}

const struct cmd_def calibrations_cmd = {
        .name = "calibrations",
        .summary = "list the calibration records, or show one",
        .synopsis = "[-d DB] [--instrument ID] [--owner ID] "
                    "[-f text|csv|json|jsonl]\n"
                    "[-d DB] (--id N | --certificate NUMBER) "
                    "[-f text|csv|json|jsonl]",
        .about = "List the calibration records in chain order (superseded "
                 "ones marked), or show\none record in full (text) or as "
                 "its row (csv, json, jsonl). Columns:\n"
                 "  id, date (performed, local date), instrument, "
                 "certificate, standard,\n  as_found and as_left (the "
                 "results: pass, conditional pass, conditional\n  fail, "
                 "fail, -), due (date), superseded_by (the record "
                 "correcting it;\n  text: the note), standard_overdue (the "
                 "standard was overdue on the date;\n  text: the note), "
                 "rule_version, approved (when approved, UTC; text: the\n"
                 "  local date, or \"draft\" when not approved yet) and "
                 "approved_by (the\n  approver).\n",
        .options = calibrations_opts,
        .common = CMD_DATABASE,
        .formats = CMD_LISTING,
        .default_format = CMD_TEXT,
        .footer = "The database is opened read-only. json is one JSON "
                  "array; jsonl is JSON Lines.\n\nExit status: 0 done, 1 "
                  "unknown record or database error, 2 bad usage.\n",
        .run = cmd_calibrations,
};

static const struct out_col calibration_cols[] = {
        {"id", OUT_RAW},
        {"date", OUT_STRING},
        {"instrument", OUT_STRING},
        {"certificate", OUT_STRING},
        {"standard", OUT_STRING},
        {"as_found", OUT_STRING},
        {"as_left", OUT_STRING},
        {"due", OUT_STRING},
        {"superseded_by", OUT_RAW},
        {"standard_overdue", OUT_RAW},
        {"rule_version", OUT_RAW},
        {"approved", OUT_STRING},
        {"approved_by", OUT_STRING},
};
#define N_CALIBRATION_COLS                                                     \
	(int)(sizeof(calibration_cols) / sizeof(calibration_cols[0]))

struct listing {
	struct query *q;
	struct out *w; /* NULL: the text listing */
	int rows;
};

/* The approval of record id into a (approved_us 0: none, a draft).
 * Returns 0, or -1 on a database error (reported). */
static int approval_of(struct query *q, int64_t id, struct calib_approval *a)
{
	int rc = query_approval(q, id, a);

	if (rc == 1)
		memset(a, 0, sizeof(*a));
	if (rc < 0)
		fprintf(stderr, "metrolog: %s\n", query_error(q));
	return rc < 0 ? -1 : 0;
}

/* A record as a row of calibration_cols (csv, json, jsonl). */
static void record_row(struct out *w, const struct calib_record *r, int64_t sup,
                       const struct calib_approval *ap)
{
	char id[24], performed[16], due[16], by[24] = "", rv[16], when[32] = "";
	const char *v[N_CALIBRATION_COLS] = {
	        id,
	        performed,
	        r->instrument,
	        r->certificate,
	        r->standard,
	        r->result_found < 0 ? "" : decision(r->result_found),
	        r->result_left < 0 ? "" : decision(r->result_left),
	        r->due_us != 0 ? due : "",
	        by,
	        r->standard_overdue ? "true" : "false",
	        rv,
	        when,
	        ap->approver};

	snprintf(id, sizeof(id), "%" PRId64, r->id);
	snprintf(rv, sizeof(rv), "%d",
	         r->rule_version >= 2 ? r->rule_version : 1);
	tool_format_date(r->performed_us, performed, sizeof(performed));
	tool_format_due(r->due_us, due, sizeof(due));
	if (sup > 0)
		snprintf(by, sizeof(by), "%" PRId64, sup);
	if (ap->approved_us != 0)
		tool_format_stamp(w->format, ap->approved_us, 0, when,
		                  sizeof(when));
	out_row(w, v);
}

static int list_one(void *ctx, const struct calib_record *r)
{
	struct listing *l = ctx;
	char performed[16], due[16], by[96] = "", approved[16];
	int64_t sup = query_superseded_by(l->q, r->id);
	struct calib_approval ap;

	if (approval_of(l->q, r->id, &ap) < 0)
		return -1;
	if (l->w != NULL) {
		record_row(l->w, r, sup, &ap);
		l->rows++;
		return 0;
	}
	if (l->rows++ == 0)
		printf("%-5s %-10s %-16s %-20s %-12s %-16s %-16s %-10s %-10s "
		       "%s\n",
		       "id", "date", "instrument", "certificate", "standard",
		       "as found", "as left", "due", "approved", "note");
	if (ap.approved_us != 0)
		tool_format_date(ap.approved_us, approved, sizeof(approved));
	else
		snprintf(approved, sizeof(approved), "draft");
	tool_format_date(r->performed_us, performed, sizeof(performed));
	tool_format_due(r->due_us, due, sizeof(due));
	if (sup > 0)
		snprintf(by, sizeof(by), "superseded by %" PRId64, sup);
	if (r->standard_overdue)
		snprintf(by + strlen(by), sizeof(by) - strlen(by), "%s%s",
		         by[0] ? ", " : "", "standard overdue");
	if (r->rule_version < 2)
		snprintf(by + strlen(by), sizeof(by) - strlen(by), "%s%s",
		         by[0] ? ", " : "", "old rules (version 1)");
	printf("%-5" PRId64 " %-10s %-16s %-20s %-12s %-16s %-16s %-10s %-10s "
	       "%s\n",
	       r->id, performed, r->instrument, r->certificate,
	       r->standard[0] ? r->standard : "-", decision(r->result_found),
	       decision(r->result_left), due, approved, by);
	return 0;
}

/* Who approved a record and when, or that it is a draft. */
static void print_approval_line(const struct calib_approval *ap)
{
	char when[32];

	if (ap->approved_us == 0) {
		printf("approved         no: the certificate is a DRAFT until "
		       "another person approves it (metrolog approve)\n");
		return;
	}
	tool_format_time(ap->approved_us, when, sizeof(when));
	printf("approved         %s by %s%s%s (approval %" PRId64 ")\n", when,
	       ap->approver, ap->role[0] ? ", " : "", ap->role, ap->id);
}

/* --id or --certificate: the record in full, or its row. Returns as
 * query_calibration() does. */
static int show_one(struct listing *l, const struct cal_list_args *a)
{
	struct calib_record *r = malloc(sizeof(*r));
	int rc = r == NULL   ? -1
	         : a->id > 0 ? query_calibration(l->q, a->id, r)
	                     : query_calibration_by_cert(l->q, a->cert, r);

	if (rc == 0) {
		int64_t sup = query_superseded_by(l->q, r->id);
		struct calib_approval ap;
		if (approval_of(l->q, r->id, &ap) < 0) {
			free(r);
			return -1;
		}
		if (l->w != NULL) {
			record_row(l->w, r, sup, &ap);
		} else {
			print_record(stdout, r);
			print_approval_line(&ap);
			if (sup > 0)
				printf("superseded by    record %" PRId64 "\n",
				       sup);
		}
	} else if (rc == 1 && a->id > 0) {
		fprintf(stderr, "metrolog calibrations: no record %ld\n",
		        a->id);
	} else if (rc == 1) {
		fprintf(stderr,
		        "metrolog calibrations: no record with certificate "
		        "%s\n",
		        a->cert);
	}
	free(r);
	return rc;
}

/* The listing or the one record, into l->w when not text. */
static int calibrations_run(struct listing *l, const struct cal_list_args *a)
{
	int rc;

	if (a->id > 0 || a->cert != NULL)
		return show_one(l, a);
	rc = query_calibrations(l->q, a->inst, a->owner, list_one, l);
	if (rc == 0 && l->rows == 0 && l->w == NULL)
		printf("no calibration records%s%s\n", a->inst ? " of " : "",
		       a->inst ? a->inst : "");
	return rc;
}

int cmd_calibrations(int argc, char **argv)
{
	struct cal_list_args a = {0};
	struct cmd_line cl = {.on_option = on_calibrations_option, .ctx = &a};
	struct listing l = {0};
	struct out w;
	char err[512];
	int rc;

	if (cmd_parse(&calibrations_cmd, &cl, argc, argv, &rc) < 0)
		return rc;
	if (a.id > 0 && a.cert != NULL)
		return cmd_usage(&cl, "--id or --certificate: one of them");
	if ((a.id > 0 || a.cert != NULL) && (a.inst != NULL || a.owner))
		return cmd_usage(&cl, "--id and --certificate show one record: "
		                      "not with --instrument or --owner");
	l.q = query_open(tool_database(cl.database), err, sizeof(err));
	if (l.q == NULL)
		return cmd_fail(&cl, CMD_FAILED, "%s", err);
	if (cl.format != CMD_TEXT) {
		if (out_open(&w, &cl, calibration_cols, N_CALIBRATION_COLS) <
		    0) {
			query_close(l.q);
			return CMD_FAILED;
		}
		l.w = &w;
	}
	rc = calibrations_run(&l, &a);
	if (rc < 0)
		fprintf(stderr, "metrolog calibrations: %s\n",
		        query_error(l.q));
	if (l.w != NULL && out_close(l.w, rc == 0) < 0)
		rc = -1;
	query_close(l.q);
	return rc == 0 ? 0 : 1;
}

/* ---- verify -------------------------------------------------------------- */

enum { V_QR, V_CERTIFICATE, V_HASH };

static const struct cmd_option verify_opts[] = {
        {"qr", 'q', "TEXT",
         "metrolog:cert=NUMBER;id=N;hash=HEX, as printed under the QR", V_QR},
        {"certificate", 'c', "NUM", "the certificate number", V_CERTIFICATE},
        {"hash", 0, "HEX",
         "the record hash the certificate carries (64 hex digits)", V_HASH},
        {0},
};

const struct cmd_def verify_cmd = {
        .name = "verify",
        .summary = "check the audit chain and a certificate's hash",
        .synopsis = "[-d DB] [--qr TEXT | --certificate NUMBER --hash HEX]",
        .about = "Check the audit chain of the calibration records: every "
                 "record's content against\nits SHA-256 hash, every link "
                 "to the record before, no record missing; then the\n"
                 "approvals' chain the same way, each approval naming an "
                 "existing record with the\nhash it was approved with. "
                 "With a certificate (the text under its QR code,\nor its "
                 "number and hash), also check that the certificate "
                 "matches its record in\nthe chain.\n",
        .options = verify_opts,
        .common = CMD_DATABASE,
        .footer = "Exit status: 0 intact (and the certificate genuine), 1 "
                  "unknown certificate or\ndatabase error, 2 bad usage, 4 "
                  "the chain or the certificate does not check.\n",
        .run = cmd_verify,
};

struct verify_args {
	const char *qr;
	char cert[CALIB_ID], hash[CALIB_HASH + 1];
};

static int on_verify_option(struct cmd_line *l, const struct cmd_option *o,
                            const char *v)
{
	struct verify_args *a = l->ctx;

	if (o->id == V_QR)
		a->qr = v;
	else if (o->id == V_CERTIFICATE)
		snprintf(a->cert, sizeof(a->cert), "%s", v);
	else
		snprintf(a->hash, sizeof(a->hash), "%s", v);
	return 0;
}

static bool hex64(const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return n == 64;
}

/* The certificate against its record; 0 genuine, 1 unknown, 4 not. */
static int verify_certificate(struct query *q, const char *cert,
                              const char *hash)
{
	struct calib_record *r = malloc(sizeof(*r));
	int rc = r == NULL ? -1 : query_calibration_by_cert(q, cert, r);
	struct calib_approval ap = {0};
	int64_t sup;

	if (rc < 0) {
		fprintf(stderr, "metrolog verify: %s\n",
		        r == NULL ? "out of memory" : query_error(q));
		free(r);
		return 1;
	}
	if (rc == 1) {
		printf("certificate %s: NOT FOUND in this database\n", cert);
		free(r);
		return 1;
	}
	if (strcasecmp(hash, r->hash) != 0) {
		printf("certificate %s: DOES NOT MATCH record %" PRId64
		       ": the certificate carries hash %s, the record's hash "
		       "is %s\n",
		       cert, r->id, hash, r->hash);
		free(r);
		return 4;
	}
	printf("certificate %s: genuine, record %" PRId64 " of %s, hash "
	       "matches\n",
	       cert, r->id, r->instrument);
	sup = query_superseded_by(q, r->id);
	if (sup > 0)
		printf("note: record %" PRId64 " was superseded by record "
		       "%" PRId64 " (a correction)\n",
		       r->id, sup);
	if (approval_of(q, r->id, &ap) == 0 && ap.approved_us == 0)
		printf("note: record %" PRId64 " is not approved: its "
		       "certificate is a DRAFT\n",
		       r->id);
	else if (ap.approved_us != 0)
		printf("approved by %s (approval %" PRId64 ")\n", ap.approver,
		       ap.id);
	if (r->rule_version < 2)
		printf("note: record %" PRId64 " was decided under rule "
		       "version 1 (metrolog calibrations --id %" PRId64
		       " says what today's rules decide)\n",
		       r->id, r->id);
	free(r);
	return 0;
}

/* The records decided under rule version 1, counted and named. */
struct old_rules {
	int64_t n;
	int64_t first, last; /* the range named when they run on */
};

/* One record: an old one is counted, and printed when re-deciding it
 * under today's rules gives other results. */
static int note_old_rules(void *ctx, const struct calib_record *r)
{
	struct old_rules *o = ctx;
	int found, left;

	if (r->rule_version >= 2)
		return 0;
	if (o->n++ == 0) {
		o->first = r->id;
		printf("old rules: records decided under rule version 1 "
		       "(before 2026-12: unadjusted points left out of the "
		       "as-left result, no check that a statement could be "
		       "made) stay as recorded, flagged on their "
		       "certificates\n");
	}
	o->last = r->id;
	if (calib_redecide(r, &found, &left) == 0 &&
	    (found != r->result_found || left != r->result_left))
		printf("  record %" PRId64 " (certificate %s): recorded as "
		       "found: %s; as left: %s; under rule version %d: as "
		       "found: %s; as left: %s\n",
		       r->id, r->certificate, decision(r->result_found),
		       decision(r->result_left), CALIB_RULE_VERSION,
		       decision(found), decision(left));
	return 0;
}

/* Which records were decided under older rules (calib.h, rule
 * versions): they stay as they are, flagged. */
static int verify_rules(struct query *q)
{
	struct old_rules o = {0};

	if (query_calibrations(q, NULL, NULL, note_old_rules, &o) < 0) {
		fprintf(stderr, "metrolog verify: %s\n", query_error(q));
		return -1;
	}
	if (o.n > 0)
		printf("  %" PRId64
		       " records under rule version 1, ids %" PRId64
		       "..%" PRId64 "\n",
		       o.n, o.first, o.last);
	return 0;
}

int tool_verify_chains(struct query *q, const char *cmd)
{
	struct query_verify v;
	int rc = query_verify(q, &v);

	if (rc < 0) {
		fprintf(stderr, "metrolog %s: %s\n", cmd, query_error(q));
		return 1;
	}
	if (rc == 1 && v.bad_id > 0) {
		printf("audit chain BROKEN at record %" PRId64 ": %s\n",
		       v.bad_id, v.message);
		printf("%" PRId64 " records before it check\n", v.records);
		return 4;
	}
	if (rc == 1) {
		printf("approvals BROKEN at approval %" PRId64 ": %s\n",
		       v.bad_approval, v.message);
		printf("%" PRId64 " records and %" PRId64
		       " approvals before it check\n",
		       v.records, v.approvals);
		return 4;
	}
	printf("audit chain intact: %" PRId64 " records, head %s\n", v.records,
	       v.head);
	printf("approvals intact: %" PRId64 " approvals, head %s\n",
	       v.approvals, v.approvals_head);
	return 0;
}

/* The chain, then the certificate a names (if any). */
static int verify_run(const char *db, const struct verify_args *a)
{
	struct query *q;
	char err[512];
	int rc;

	q = query_open(tool_database(db), err, sizeof(err));
	if (q == NULL) {
		fprintf(stderr, "metrolog verify: %s\n", err);
		return 1;
	}
	rc = tool_verify_chains(q, "verify");
	if (rc != 0) {
		query_close(q);
		return rc;
	}
	if (verify_rules(q) < 0) {
		query_close(q);
		return 1;
	}
	rc = a->cert[0] != '\0' ? verify_certificate(q, a->cert, a->hash) : 0;
	query_close(q);
	return rc;
}

int cmd_verify(int argc, char **argv)
{
	struct verify_args a = {0};
	struct cmd_line l = {.on_option = on_verify_option, .ctx = &a};
	int rc;

	if (cmd_parse(&verify_cmd, &l, argc, argv, &rc) < 0)
		return rc;
	if (a.qr != NULL && (a.cert[0] != '\0' || a.hash[0] != '\0'))
		return cmd_usage(&l, "--qr, or --certificate with --hash: not "
		                     "both");
	if (a.qr != NULL && calib_qr_parse(a.qr, a.cert, sizeof(a.cert), a.hash,
	                                   sizeof(a.hash)) < 0)
		return cmd_usage(&l,
		                 "--qr '%s': expected "
		                 "metrolog:cert=NUMBER;id=N;hash=HEX",
		                 a.qr);
	if ((a.cert[0] != '\0') != (a.hash[0] != '\0') ||
	    (a.hash[0] != '\0' && !hex64(a.hash)))
		return cmd_usage(&l, "a certificate needs both its number and "
		                     "its hash of 64 hex digits");
	return verify_run(l.database, &a);
}
