/*
 * calibrate.c - the calibration records of the metrolog tool:
 *   calibrate     record a calibration (append-only, hash-chained), print
 *                 its decisions and the interval advice from the history
 *   calibrations  list the records, or show one in full
 *   verify        check the audit chain, and a certificate's QR text
 *
 * Single-threaded; calibrate writes through store.h (one transaction),
 * the others read through query.h (read-only). Exit codes in tool.h.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
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
#include "drift.h"
#include "query.h"
#include "store.h"
#include "tool.h"

#define DAY_US 86400000000LL

/* ---- calibrate: fields from options or a file --------------------------- */

static void calibrate_usage(FILE *f)
{
	fprintf(f,
	        "Usage: metrolog calibrate [-d DB] --instrument ID "
	        "--certificate NUMBER --date DATE\n"
	        "         --technician NAME (--point P)... [OPTION]...\n"
	        "       metrolog calibrate [-d DB] --file RECORD [OPTION]...\n"
	        "Record a calibration of an instrument or reference standard: "
	        "appended to the\naudit chain, never overwritten. Prints the "
	        "decision at each point, the due date,\nthe reference "
	        "standard's status and the interval advice from the history "
	        "(shown,\nnever applied).\n\n"
	        "  -i, --instrument ID     the item calibrated (an instrument "
	        "or standard id of the\n"
	        "                          configuration)\n"
	        "  -c, --certificate NUM   unique certificate number "
	        "(A-Z a-z 0-9 _ . - /)\n"
	        "      --date DATE         when calibrated, UTC: YYYY-MM-DD "
	        "or YYYY-MM-DDTHH:MM\n"
	        "  -t, --technician NAME   who calibrated\n"
	        "  -p, --point P           a test point, repeat for each: "
	        "quantity,unit,reference,\n"
	        "                          as_found,as_left,lower,upper,U,k "
	        "(indications in the unit;\n"
	        "                          lower/upper: error limits; U: "
	        "expanded uncertainty;\n"
	        "                          as_found or as_left may be empty)\n"
	        "      --points FILE.csv   test points from a CSV file with "
	        "that header line\n"
	        "  -s, --standard ID       reference standard used (its "
	        "certificate and due date\n"
	        "                          are recorded; an overdue standard "
	        "is flagged)\n"
	        "      --rule RULE         simple (default) or guarded "
	        "(ILAC-G8, w = r x U)\n"
	        "      --guard-factor R    r for guarded acceptance (default "
	        "1)\n"
	        "      --interval DAYS     calibration interval (default: the "
	        "instrument's configured\n"
	        "                          calibration_interval_days)\n"
	        "      --supersedes ID     this record corrects record ID\n"
	        "      --lab TEXT, --customer TEXT, --method TEXT, "
	        "--conditions TEXT,\n"
	        "      --authorised NAME, --remarks TEXT\n"
	        "                          certificate fields (customer "
	        "defaults to the owner)\n"
	        "  -f, --file RECORD       read the fields from a file: one "
	        "\"name = value\" per line\n"
	        "                          with the long option names above "
	        "(point repeats), # comments\n"
	        "  -n, --dry-run           check and decide, print, record "
	        "nothing\n"
	        "  -d, --database FILE     the database (default "
	        "$METROLOG_DB, else\n"
	        "                          " TOOL_DEFAULT_DB ")\n"
	        "  -h, --help              show this help\n\n"
	        "Exit status: 0 recorded, 1 refused (unknown instrument or "
	        "standard, certificate\nnumber used, database error), 2 bad "
	        "usage or a bad point.\n");
}

struct cal_args {
	struct calib_record *r;
	const char *db;
	bool dry_run;
	bool have_date;
};

/* A date of a record: tool_parse_time() without "now" and ages. */
static int record_date(const char *s, int64_t *us)
{
	if (s[0] == '-' || strcmp(s, "now") == 0)
		return -1;
	return tool_parse_time(s, tool_now_us(), us);
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

static int calibrate_args(int argc, char **argv, struct cal_args *a)
{
	static const struct option opts[] = {
	        {"database", required_argument, NULL, 'd'},
	        {"instrument", required_argument, NULL, 'i'},
	        {"certificate", required_argument, NULL, 'c'},
	        {"technician", required_argument, NULL, 't'},
	        {"point", required_argument, NULL, 'p'},
	        {"standard", required_argument, NULL, 's'},
	        {"file", required_argument, NULL, 'f'},
	        {"dry-run", no_argument, NULL, 'n'},
	        {"help", no_argument, NULL, 'h'},
	        {"date", required_argument, NULL, 0},
	        {"points", required_argument, NULL, 0},
	        {"rule", required_argument, NULL, 0},
	        {"guard-factor", required_argument, NULL, 0},
	        {"interval", required_argument, NULL, 0},
	        {"supersedes", required_argument, NULL, 0},
	        {"lab", required_argument, NULL, 0},
	        {"customer", required_argument, NULL, 0},
	        {"method", required_argument, NULL, 0},
	        {"conditions", required_argument, NULL, 0},
	        {"authorised", required_argument, NULL, 0},
	        {"remarks", required_argument, NULL, 0},
	        {NULL, 0, NULL, 0},
	};
	int c, idx, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":d:i:c:t:p:s:f:nh", opts, &idx)) !=
	       -1) {
		const char *name = NULL;
		switch (c) {
		case 'h':
			calibrate_usage(stdout);
			return -1;
		case 'd':
			a->db = optarg;
			continue;
		case 'n':
			a->dry_run = true;
			continue;
		case 'f':
			if ((rc = read_file(a, optarg)) != 0)
				return rc;
			continue;
		case ':':
			fprintf(stderr,
			        "metrolog calibrate: %s needs a value\n",
			        argv[optind - 1]);
			return 2;
		case '?':
			fprintf(stderr,
			        "metrolog calibrate: unknown option "
			        "'%s'. Try 'metrolog calibrate --help'.\n",
			        argv[optind - 1]);
			return 2;
		case 0:
			name = opts[idx].name;
			break;
		default:
			for (idx = 0; opts[idx].name != NULL; idx++)
				if (opts[idx].val == c)
					name = opts[idx].name;
		}
		if ((rc = set_field(a, name, optarg, NULL)) != 0)
			return rc;
	}
	if (optind < argc) {
		fprintf(stderr,
		        "metrolog calibrate: unexpected argument '%s'\n",
		        argv[optind]);
		return 2;
	}
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
		        indication - reference);
}

static void print_points(FILE *out, const struct calib_record *r)
{
	fprintf(out,
	        "  %-3s %-14s %10s %10s %9s %10s %9s %-21s %-12s %-16s "
	        "%s\n",
	        "#", "quantity", "reference", "as found", "error", "as left",
	        "error", "error limits", "U (k)", "as found", "as left");
	for (int i = 0; i < r->npoints; i++) {
		const struct calib_point *p = &r->points[i];
		char lim[64], u[32];
		snprintf(lim, sizeof(lim), "[%g, %g] %s", p->lower, p->upper,
		         p->unit);
		snprintf(u, sizeof(u), "%g (%g)", p->U, p->k);
		fprintf(out, "  %-3d %-14s %10.6g", i + 1, p->quantity,
		        p->reference);
		print_error(out, p->as_found, p->reference);
		print_error(out, p->as_left, p->reference);
		fprintf(out, " %-21s %-12s %-16s %s\n", lim, u,
		        decision(p->found), decision(p->left));
	}
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
}

static void print_standard(FILE *out, const struct calib_record *r)
{
	char due[16];

	if (r->standard[0] == '\0') {
		fprintf(out, "standard         none recorded\n");
		return;
	}
	tool_format_date(r->standard_due_us, due, sizeof(due));
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
}

static void print_record(FILE *out, const struct calib_record *r)
{
	char performed[32], issued[32], due[16];

	tool_format_time(r->performed_us, performed, sizeof(performed));
	tool_format_time(r->issued_us, issued, sizeof(issued));
	tool_format_date(r->due_us, due, sizeof(due));
	fprintf(out, "record           %" PRId64 "\n", r->id);
	fprintf(out, "instrument       %s\n", r->instrument);
	fprintf(out, "certificate      %s\n", r->certificate);
	if (r->supersedes > 0)
		fprintf(out, "supersedes       record %" PRId64 "\n",
		        r->supersedes);
	fprintf(out, "calibrated       %s by %s\n", performed, r->technician);
	fprintf(out, "issued           %s%s%s\n", issued,
	        r->authorised[0] ? ", authorised by " : "", r->authorised);
	if (r->customer[0])
		fprintf(out, "customer         %s\n", r->customer);
	if (r->lab[0])
		fprintf(out, "laboratory       %s\n", r->lab);
	if (r->method[0])
		fprintf(out, "method           %s\n", r->method);
	if (r->conditions[0])
		fprintf(out, "conditions       %s\n", r->conditions);
	print_standard(out, r);
	print_rule(out, r);
	print_points(out, r);
	fprintf(out, "result           as found: %s; as left: %s\n",
	        decision(r->result_found), decision(r->result_left));
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
	rc = calibrate_args(argc, argv, &a);
	if (rc != 0) {
		free(r);
		return rc < 0 ? 0 : rc;
	}
	if (calib_validate(r, err, sizeof(err)) < 0 || !a.have_date) {
		fprintf(stderr, "metrolog calibrate: %s\n",
		        a.have_date ? err : "no --date");
		free(r);
		return 2;
	}
	if (a.dry_run) {
		calib_evaluate(r);
		print_rule(stdout, r);
		print_points(stdout, r);
		fprintf(stdout,
		        "result           as found: %s; as left: %s\n"
		        "(dry run: nothing recorded)\n",
		        decision(r->result_found), decision(r->result_left));
		free(r);
		return 0;
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

static void calibrations_usage(FILE *f)
{
	fprintf(f,
	        "Usage: metrolog calibrations [-d DB] [--instrument ID] "
	        "[--owner ID]\n"
	        "       metrolog calibrations [-d DB] (--id N | --certificate "
	        "NUMBER)\n"
	        "List the calibration records in chain order (superseded ones "
	        "marked), or show\none record in full.\n\n"
	        "  -i, --instrument ID    only this instrument or standard\n"
	        "  -o, --owner ID         only instruments of this owner\n"
	        "      --id N             show record N\n"
	        "  -c, --certificate NUM  show the record of this certificate\n"
	        "  -d, --database FILE    the database (default $METROLOG_DB, "
	        "else\n"
	        "                         " TOOL_DEFAULT_DB ")\n\n"
	        "Exit status: 0 done, 1 unknown record or database error, 2 "
	        "bad usage.\n");
}

struct listing {
	struct query *q;
	int rows;
};

static int list_one(void *ctx, const struct calib_record *r)
{
	struct listing *l = ctx;
	char performed[16], due[16], by[48] = "";
	int64_t sup = query_superseded_by(l->q, r->id);

	if (l->rows++ == 0)
		printf("%-5s %-10s %-16s %-20s %-12s %-16s %-16s %-10s %s\n",
		       "id", "date", "instrument", "certificate", "standard",
		       "as found", "as left", "due", "note");
	tool_format_date(r->performed_us, performed, sizeof(performed));
	tool_format_date(r->due_us, due, sizeof(due));
	if (sup > 0)
		snprintf(by, sizeof(by), "superseded by %" PRId64, sup);
	printf("%-5" PRId64 " %-10s %-16s %-20s %-12s %-16s %-16s %-10s %s%s\n",
	       r->id, performed, r->instrument, r->certificate,
	       r->standard[0] ? r->standard : "-", decision(r->result_found),
	       decision(r->result_left), due, by,
	       r->standard_overdue
	               ? (sup > 0 ? ", standard overdue" : "standard overdue")
	               : "");
	return 0;
}

int cmd_calibrations(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"database", required_argument, NULL, 'd'},
	        {"instrument", required_argument, NULL, 'i'},
	        {"owner", required_argument, NULL, 'o'},
	        {"certificate", required_argument, NULL, 'c'},
	        {"id", required_argument, NULL, 'I'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *db = NULL, *inst = NULL, *owner = NULL, *cert = NULL;
	long id = 0;
	struct listing l = {0};
	struct calib_record *r = NULL;
	char err[512];
	int c, rc = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":d:i:o:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'i':
			inst = optarg;
			break;
		case 'o':
			owner = optarg;
			break;
		case 'c':
			cert = optarg;
			break;
		case 'I':
			if (tool_parse_long(optarg, 1, LONG_MAX, &id) < 0) {
				fprintf(stderr,
				        "metrolog calibrations: --id "
				        "'%s': expected a record id >= "
				        "1\n",
				        optarg);
				return 2;
			}
			break;
		case 'h':
			calibrations_usage(stdout);
			return 0;
		default:
			fprintf(stderr,
			        "metrolog calibrations: bad option "
			        "'%s'. Try 'metrolog calibrations "
			        "--help'.\n",
			        argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr,
		        "metrolog calibrations: unexpected argument "
		        "'%s'\n",
		        argv[optind]);
		return 2;
	}
	l.q = query_open(tool_database(db), err, sizeof(err));
	if (l.q == NULL) {
		fprintf(stderr, "metrolog calibrations: %s\n", err);
		return 1;
	}
	if (id > 0 || cert != NULL) {
		r = malloc(sizeof(*r));
		rc = r == NULL ? -1
		     : id > 0  ? query_calibration(l.q, id, r)
		               : query_calibration_by_cert(l.q, cert, r);
		if (rc == 0) {
			int64_t sup = query_superseded_by(l.q, r->id);
			print_record(stdout, r);
			if (sup > 0)
				printf("superseded by    record %" PRId64 "\n",
				       sup);
		} else if (rc == 1) {
			if (id > 0)
				fprintf(stderr,
				        "metrolog calibrations: no "
				        "record %ld\n",
				        id);
			else
				fprintf(stderr,
				        "metrolog calibrations: no "
				        "record with certificate %s\n",
				        cert);
		}
	} else {
		rc = query_calibrations(l.q, inst, owner, list_one, &l);
		if (rc == 0 && l.rows == 0)
			printf("no calibration records%s%s\n",
			       inst ? " of " : "", inst ? inst : "");
	}
	if (rc < 0)
		fprintf(stderr, "metrolog calibrations: %s\n",
		        query_error(l.q));
	free(r);
	query_close(l.q);
	return rc == 0 ? 0 : 1;
}

/* ---- verify -------------------------------------------------------------- */

static void verify_usage(FILE *f)
{
	fprintf(f,
	        "Usage: metrolog verify [-d DB] [--qr TEXT | --certificate "
	        "NUMBER --hash HEX]\n"
	        "Check the audit chain of the calibration records: every "
	        "record's content against\nits SHA-256 hash, every link to "
	        "the record before, no record missing. With a\ncertificate "
	        "(the text under its QR code, or its number and hash), also "
	        "check that\nthe certificate matches its record in the "
	        "chain.\n\n"
	        "  -q, --qr TEXT          metrolog:cert=NUMBER;id=N;hash=HEX, "
	        "as "
	        "printed under the QR\n"
	        "  -c, --certificate NUM  the certificate number\n"
	        "      --hash HEX         the record hash the certificate "
	        "carries (64 hex digits)\n"
	        "  -d, --database FILE    the database (default $METROLOG_DB, "
	        "else\n"
	        "                         " TOOL_DEFAULT_DB ")\n\n"
	        "Exit status: 0 intact (and the certificate genuine), 1 "
	        "unknown certificate or\ndatabase error, 2 bad usage, 4 the "
	        "chain or the certificate does not check.\n");
}

/* "metrolog:cert=NUMBER;id=N;hash=HEX" into cert and hash. */
static int parse_qr(const char *text, char *cert, size_t csize, char *hash,
                    size_t hsize)
{
	const char *p;
	size_t n;

	if (strncmp(text, "metrolog:", 9) != 0)
		return -1;
	p = strstr(text, "cert=");
	if (p == NULL)
		return -1;
	p += 5;
	n = strcspn(p, ";");
	if (n == 0 || n >= csize)
		return -1;
	memcpy(cert, p, n);
	cert[n] = '\0';
	p = strstr(text, "hash=");
	if (p == NULL)
		return -1;
	p += 5;
	n = strcspn(p, ";");
	if (n >= hsize)
		return -1;
	memcpy(hash, p, n);
	hash[n] = '\0';
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
	free(r);
	return 0;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"database", required_argument, NULL, 'd'},
	        {"qr", required_argument, NULL, 'q'},
	        {"certificate", required_argument, NULL, 'c'},
	        {"hash", required_argument, NULL, 'H'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *db = NULL, *qr = NULL;
	char cert[CALIB_ID] = "", hash[CALIB_HASH + 1] = "", err[512];
	struct query_verify v;
	struct query *q;
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":d:q:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'q':
			qr = optarg;
			break;
		case 'c':
			snprintf(cert, sizeof(cert), "%s", optarg);
			break;
		case 'H':
			snprintf(hash, sizeof(hash), "%s", optarg);
			break;
		case 'h':
			verify_usage(stdout);
			return 0;
		default:
			fprintf(stderr,
			        "metrolog verify: bad option '%s'. Try "
			        "'metrolog verify --help'.\n",
			        argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "metrolog verify: unexpected argument '%s'\n",
		        argv[optind]);
		return 2;
	}
	if (qr != NULL &&
	    parse_qr(qr, cert, sizeof(cert), hash, sizeof(hash)) < 0) {
		fprintf(stderr,
		        "metrolog verify: --qr '%s': expected "
		        "metrolog:cert=NUMBER;id=N;hash=HEX\n",
		        qr);
		return 2;
	}
	if ((cert[0] != '\0') != (hash[0] != '\0') ||
	    (hash[0] != '\0' && !hex64(hash))) {
		fprintf(stderr, "metrolog verify: a certificate needs both its "
		                "number and its hash of 64 hex digits\n");
		return 2;
	}
	q = query_open(tool_database(db), err, sizeof(err));
	if (q == NULL) {
		fprintf(stderr, "metrolog verify: %s\n", err);
		return 1;
	}
	rc = query_verify(q, &v);
	if (rc < 0) {
		fprintf(stderr, "metrolog verify: %s\n", query_error(q));
		query_close(q);
		return 1;
	}
	if (rc == 1) {
		printf("audit chain BROKEN at record %" PRId64 ": %s\n",
		       v.bad_id, v.message);
		printf("%" PRId64 " records before it check\n", v.records);
		query_close(q);
		return 4;
	}
	printf("audit chain intact: %" PRId64 " records, head %s\n", v.records,
	       v.head);
	rc = cert[0] != '\0' ? verify_certificate(q, cert, hash) : 0;
	query_close(q);
	return rc;
}
