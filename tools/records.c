/*
 * records.c - the read-only database subcommands of the metrolog tool:
 * instruments, channels, due, readings, events and report (tool.h).
 *
 * Each is three steps: parse the command line with the one option parser
 * below (every subcommand takes -d/--database and -h/--help, and the
 * subset of the other options its struct cmd names), open the database
 * read-only (query_open: never modified), and give each row of a query.h
 * listing to the one output writer below, as text fields, in the format
 * asked for: an aligned table, CSV (RFC 4180: a header, CRLF line ends,
 * fields quoted when needed), a JSON array of objects, or JSON Lines;
 * report also writes a PDF (report_pdf(), report.h), not through it.
 * Times are printed in UTC, ISO 8601.
 *
 * Output goes through stdio with a 1 MiB buffer: the export of a million
 * readings is bounded by formatting, not by writes (docs/BENCHMARKS.md,
 * "Export").
 *
 * Single-threaded.
 */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "draw.h"
#include "query.h"
#include "report.h"
#include "sample.h"
#include "tool.h"
#include "utc.h"

#define DAY_US   ((int64_t)86400000000)
#define OUT_BUF  (1 << 20)
#define MAX_COLS 24

/* ---- options --------------------------------------------------------- */

enum {
	O_OWNER = 1 << 0,
	O_FORMAT = 1 << 1,
	O_RANGE = 1 << 2, /* --from, --to */
	O_WITHIN = 1 << 3,
	O_MONTH = 1 << 4,
	O_OUTPUT = 1 << 5,
};

enum format { F_TABLE, F_CSV, F_JSON, F_JSONL, F_PDF };
static const char *const format_names[] = {"table", "csv", "json", "jsonl",
                                           "pdf"};

struct cmd {
	const char *name;
	const char *synopsis;   /* after "metrolog NAME " */
	const char *help;       /* what it does, its options, its columns */
	unsigned opts;          /* O_* it takes */
	enum format formats[4]; /* the ones it writes, the first by default */
	int nformats;
	int max_args;         /* positional arguments */
	int64_t default_from; /* default --from: this long before --to (or
	                         now); 0: the epoch */
};

struct opts {
	const char *db, *owner, *output, *arg, *month;
	enum format format;
	int64_t now_us, from_us, to_us;
	long within; /* days, -1 not given */
};

static const char common_help[] =
        "\nCommon options:\n"
        "  -d, --database FILE  the gateway's database (default "
        "$METROLOG_DB, else\n"
        "                       " TOOL_DEFAULT_DB "), opened "
        "read-only: never modified\n"
        "  -h, --help           show this help\n"
        "Times (--from, --to): YYYY-MM-DD (midnight UTC), "
        "YYYY-MM-DDTHH:MM[:SS[.ffffff]][Z]\n"
        "(UTC), now, or an age before now: -30d, -12h, -15m, -10s. "
        "Printed times are UTC,\nISO 8601.\n\n"
        "Exit status: 0 done (also when nothing matches); 1 the request "
        "failed (unknown\ninstrument or channel, database error, output "
        "not written); 2 bad usage (unknown\noption, bad time, month or "
        "number).\n";

static void usage(const struct cmd *c, FILE *f)
{
	fprintf(f, "Usage: metrolog %s %s\n%s", c->name, c->synopsis, c->help);
	if (c->opts & O_FORMAT) {
		fprintf(f, "  -f, --format F       ");
		for (int i = 0; i < c->nformats; i++)
			fprintf(f, "%s%s", i ? ", " : "",
			        format_names[c->formats[i]]);
		fprintf(f, " (default %s)\n", format_names[c->formats[0]]);
	}
	fputs(common_help, f);
}

__attribute__((format(printf, 2, 3))) static int bad_usage(const struct cmd *c,
                                                           const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "metrolog %s: ", c->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'metrolog %s --help'.\n", c->name);
	return -1;
}

static int parse_format(const struct cmd *c, const char *s, enum format *f)
{
	for (int i = 0; i < c->nformats; i++)
		if (strcmp(s, format_names[c->formats[i]]) == 0) {
			*f = c->formats[i];
			return 0;
		}
	return bad_usage(c, "--format '%s': not a format of this command", s);
}

static int parse_time(const struct cmd *c, const char *opt, const char *s,
                      int64_t now_us, int64_t *us)
{
	if (tool_parse_time(s, now_us, us) < 0)
		return bad_usage(c,
		                 "%s '%s': not a time (YYYY-MM-DD[THH:MM[:SS]]"
		                 "[Z], now, -30d, -12h, ...)",
		                 opt, s);
	return 0;
}

static int parse_days(const struct cmd *c, const char *s, long *days)
{
	if (tool_parse_long(s, 0, 36500, days) < 0)
		return bad_usage(c, "--within '%s': expected 0..36500 days", s);
	return 0;
}

/* The option c->opts names, or a usage error. */
static int take(const struct cmd *c, unsigned opt, const char *name)
{
	return (c->opts & opt) ? 0
	                       : bad_usage(c,
	                                   "%s: not an option of this "
	                                   "command",
	                                   name);
}

static int parse_one(const struct cmd *c, int ch, const char *arg,
                     struct opts *o)
{
	switch (ch) {
	case 'd':
		o->db = arg;
		return 0;
	case 'O':
		o->owner = arg;
		return take(c, O_OWNER, "--owner");
	case 'f':
		return take(c, O_FORMAT, "--format") < 0
		               ? -1
		               : parse_format(c, arg, &o->format);
	case 'F':
		return take(c, O_RANGE, "--from") < 0
		               ? -1
		               : parse_time(c, "--from", arg, o->now_us,
		                            &o->from_us);
	case 'T':
		return take(c, O_RANGE, "--to") < 0
		               ? -1
		               : parse_time(c, "--to", arg, o->now_us,
		                            &o->to_us);
	case 'w':
		return take(c, O_WITHIN, "--within") < 0
		               ? -1
		               : parse_days(c, arg, &o->within);
	case 'm':
		o->month = arg;
		return take(c, O_MONTH, "--month");
	case 'o':
		o->output = arg;
		return take(c, O_OUTPUT, "--output");
	default:
		return bad_usage(c, "unknown option");
	}
}

/* Parse argv for c into o. Returns 0, 1 when --help was printed, -1 on a
 * usage error (printed). */
static int parse_opts(const struct cmd *c, int argc, char **argv,
                      struct opts *o)
{
	static const struct option longopts[] = {
	        {"database", required_argument, NULL, 'd'},
	        {"owner", required_argument, NULL, 'O'},
	        {"format", required_argument, NULL, 'f'},
	        {"from", required_argument, NULL, 'F'},
	        {"to", required_argument, NULL, 'T'},
	        {"within", required_argument, NULL, 'w'},
	        {"month", required_argument, NULL, 'm'},
	        {"output", required_argument, NULL, 'o'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->now_us = tool_now_us();
	o->from_us = INT64_MIN;
	o->to_us = INT64_MAX;
	o->within = -1;
	o->format = c->formats[0];
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "d:f:o:h", longopts, NULL)) !=
	       -1) {
		if (ch == 'h') {
			usage(c, stdout);
			return 1;
		}
		if (ch == '?' || ch == ':')
			return bad_usage(c,
			                 "%s: unknown option or missing "
			                 "argument",
			                 argv[optind - 1]);
		if (parse_one(c, ch, optarg, o) < 0)
			return -1;
	}
	if (argc - optind > c->max_args)
		return bad_usage(c, "'%s': unexpected argument",
		                 argv[optind + c->max_args]);
	o->arg = optind < argc ? argv[optind] : NULL;
	if (o->from_us == INT64_MIN) /* default: default_from before --to */
		o->from_us = c->default_from == 0
		                     ? 0
		                     : (o->to_us == INT64_MAX ? o->now_us
		                                              : o->to_us) -
		                               c->default_from;
	if (o->from_us >= o->to_us)
		return bad_usage(c, "--from must be before --to");
	return 0;
}

static struct query *open_db(const struct cmd *c, const struct opts *o)
{
	char err[600];
	struct query *q = query_open(tool_database(o->db), err, sizeof(err));

	if (q == NULL)
		fprintf(stderr, "metrolog %s: %s\n", c->name, err);
	return q;
}

/* 0 when the instrument name exists (into in) or name is NULL; else 1
 * with the error printed. */
static int check_instrument(const struct cmd *c, struct query *q,
                            const char *name, struct query_instrument *in)
{
	int rc;

	if (name == NULL)
		return 0;
	rc = query_instrument(q, name, 0, in);
	if (rc == 1)
		fprintf(stderr, "metrolog %s: unknown instrument '%s'\n",
		        c->name, name);
	else if (rc < 0)
		fprintf(stderr, "metrolog %s: %s\n", c->name, query_error(q));
	return rc == 0 ? 0 : 1;
}

/* ---- output ---------------------------------------------------------- */

enum col_kind {
	C_TEXT, /* a JSON string */
	C_RAW,  /* a JSON number or true/false as written; "" is null */
};

struct col {
	const char *name;
	int width; /* in a table */
	enum col_kind kind;
};

struct out {
	FILE *f;
	enum format format;
	const struct col *cols;
	int ncols;
	long rows;
};

static void put(struct out *w, const char *s)
{
	fputs(s, w->f);
}

static void csv_field(struct out *w, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		put(w, s);
		return;
	}
	putc('"', w->f);
	for (; *s; s++) {
		if (*s == '"')
			putc('"', w->f);
		putc(*s, w->f);
	}
	putc('"', w->f);
}

static bool plain_json(const char *s)
{
	for (; *s; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
			return false;
	return true;
}

static void json_string(struct out *w, const char *s)
{
	putc('"', w->f);
	if (plain_json(s)) {
		put(w, s);
		s = "";
	}
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(w->f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(w->f, "\\u%04x", ch);
		else
			putc(ch, w->f);
	}
	putc('"', w->f);
}

static void json_object(struct out *w, const char *const v[])
{
	putc('{', w->f);
	for (int i = 0; i < w->ncols; i++) {
		if (i > 0)
			putc(',', w->f);
		json_string(w, w->cols[i].name);
		putc(':', w->f);
		if (w->cols[i].kind == C_TEXT)
			json_string(w, v[i]);
		else
			put(w, v[i][0] != '\0' ? v[i] : "null");
	}
	putc('}', w->f);
}

static void table_row(struct out *w, const char *const v[])
{
	for (int i = 0; i < w->ncols; i++) {
		const char *s = v[i][0] != '\0' ? v[i] : "-";
		if (i + 1 == w->ncols)
			fprintf(w->f, "%s\n", s);
		else
			fprintf(w->f, "%-*s ", w->cols[i].width, s);
	}
}

/* The buffer of the one output of the process: set before its first
 * write, and static, so that it outlives stdout's last flush at exit. */
static char out_buf[OUT_BUF];

/* Start writing to o->output (NULL or "-": stdout) and write the header.
 * Returns 0, -1 (printed). */
static int out_open(struct out *w, const struct cmd *c, const struct opts *o,
                    const struct col *cols, int ncols)
{
	assert(ncols <= MAX_COLS);
	memset(w, 0, sizeof(*w));
	w->format = o->format;
	w->cols = cols;
	w->ncols = ncols;
	w->f = o->output != NULL && strcmp(o->output, "-") != 0
	               ? fopen(o->output, "w")
	               : stdout;
	if (w->f == NULL) {
		fprintf(stderr, "metrolog %s: %s: %s\n", c->name, o->output,
		        strerror(errno));
		return -1;
	}
	setvbuf(w->f, out_buf, _IOFBF, sizeof(out_buf));
	if (w->format == F_JSON)
		put(w, "[");
	if (w->format == F_TABLE || w->format == F_CSV) {
		const char *names[MAX_COLS];
		for (int i = 0; i < ncols; i++)
			names[i] = cols[i].name;
		if (w->format == F_TABLE) {
			table_row(w, names);
		} else {
			for (int i = 0; i < ncols; i++) {
				put(w, i ? "," : "");
				csv_field(w, names[i]);
			}
			put(w, "\r\n");
		}
	}
	return 0;
}

static void out_row(struct out *w, const char *const v[])
{
	switch (w->format) {
	case F_TABLE:
		table_row(w, v);
		break;
	case F_CSV:
		for (int i = 0; i < w->ncols; i++) {
			if (i > 0)
				putc(',', w->f);
			csv_field(w, v[i]);
		}
		put(w, "\r\n");
		break;
	case F_JSON:
		put(w, w->rows > 0 ? ",\n" : "\n");
		json_object(w, v);
		break;
	case F_JSONL:
		json_object(w, v);
		putc('\n', w->f);
		break;
	case F_PDF: /* a document, not rows: cmd_report writes it */
		assert(0);
		break;
	}
	w->rows++;
}

/* Finish and close (stdout is flushed, not closed). complete: the query
 * gave every row; when it did not, or the output could not be written
 * (printed), a file output is removed rather than left half-written.
 * Returns 0, or -1 when the output could not be written. */
static int out_close(struct out *w, const struct cmd *c, const struct opts *o,
                     bool complete)
{
	bool file = w->f != stdout;
	int failed;

	if (w->format == F_JSON)
		put(w, w->rows > 0 ? "\n]\n" : "]\n");
	failed = ferror(w->f) | (file ? fclose(w->f) : fflush(w->f));
	if (failed)
		fprintf(stderr, "metrolog %s: %s: cannot write\n", c->name,
		        file ? o->output : "standard output");
	if (file && (failed || !complete) && unlink(o->output) == 0)
		fprintf(stderr, "metrolog %s: %s removed: incomplete\n",
		        c->name, o->output);
	return failed ? -1 : 0;
}

/* ---- fields ---------------------------------------------------------- */

/* The shortest of %.15g, %.16g, %.17g that reads back as v ("" for NAN). */
static void fmt_double(double v, char *buf, size_t size)
{
	if (isnan(v)) {
		buf[0] = '\0';
		return;
	}
	for (int p = 15; p <= 17; p++) {
		snprintf(buf, size, "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

static void fmt_time(int64_t us, char *buf, size_t size)
{
	if (us == 0)
		buf[0] = '\0';
	else
		tool_format_time(us, buf, size);
}

static void fmt_date(int64_t us, char *buf, size_t size)
{
	if (us == 0)
		buf[0] = '\0';
	else
		tool_format_date(us, buf, size);
}

static void fmt_int(int64_t v, char *buf, size_t size)
{
	snprintf(buf, size, "%" PRId64, v);
}

static const char *yes(bool b)
{
	return b ? "true" : "false";
}

/* ---- instruments ----------------------------------------------------- */

static const char instruments_help[] =
        "List the instruments and reference standards the gateway has "
        "been configured\nwith, one row each, by name:\n"
        "  instrument, kind (instrument: polled; standard: a reference "
        "standard),\n"
        "  model, serial, owner, location, active (in the loaded "
        "configuration),\n"
        "  link (online/offline: the last such event) and link_since, "
        "last_reading (the\n"
        "  newest reading of any channel), certificate, calibrated "
        "(performed date) and\n"
        "  due (date) of the calibration in force (the latest not "
        "superseded), due_state\n"
        "  now (none: no due date, ok, due_soon, overdue), "
        "used_as_reference (a channel is\n"
        "  compared with one of its channels, or a calibration record "
        "names it as its\n"
        "  standard), alert (used as a reference while overdue or never "
        "calibrated).\n\n"
        "Options:\n"
        "      --owner ID       only the instruments of this owner\n";

static const struct col instrument_cols[] = {
        {"instrument", 12, C_TEXT},
        {"kind", 10, C_TEXT},
        {"model", 10, C_TEXT},
        {"serial", 8, C_TEXT},
        {"owner", 8, C_TEXT},
        {"location", 8, C_TEXT},
        {"active", 6, C_RAW},
        {"link", 7, C_TEXT},
        {"link_since", 20, C_TEXT},
        {"last_reading", 20, C_TEXT},
        {"certificate", 11, C_TEXT},
        {"calibrated", 10, C_TEXT},
        {"due", 10, C_TEXT},
        {"due_state", 9, C_TEXT},
        {"used_as_reference", 5, C_RAW},
        {"alert", 1, C_TEXT},
};
#define N_INSTRUMENT_COLS                                                      \
	(int)(sizeof(instrument_cols) / sizeof(instrument_cols[0]))

static const char *alert(const struct query_instrument *in)
{
	if (!in->used_as_reference)
		return "";
	if (in->cal_id == 0)
		return "reference never calibrated";
	return in->due == CALIB_DUE_OVERDUE ? "reference overdue" : "";
}

static int instrument_row(void *ctx, const struct query_instrument *in)
{
	char since[32], last[32], cal[16], due[16];
	const char *v[N_INSTRUMENT_COLS] = {in->name,
	                                    in->kind,
	                                    in->model,
	                                    in->serial,
	                                    in->owner,
	                                    in->location,
	                                    yes(in->active),
	                                    in->link,
	                                    since,
	                                    last,
	                                    in->certificate,
	                                    cal,
	                                    due,
	                                    calib_due_name(in->due),
	                                    yes(in->used_as_reference),
	                                    alert(in)};

	fmt_time(in->link_us, since, sizeof(since));
	fmt_time(in->last_reading_us, last, sizeof(last));
	fmt_date(in->cal_us, cal, sizeof(cal));
	fmt_date(in->due_us, due, sizeof(due));
	out_row(ctx, v);
	return 0;
}

/* Run a listing into the output: the one tail of every listing
 * subcommand. list returns as a query.h listing does. */
static int run_listing(const struct cmd *c, const struct opts *o,
                       struct query *q, const struct col *cols, int ncols,
                       int (*list)(struct query *, const struct opts *,
                                   struct out *))
{
	struct out w;
	int ret;

	if (out_open(&w, c, o, cols, ncols) < 0)
		return 1;
	ret = list(q, o, &w);
	if (ret < 0)
		fprintf(stderr, "metrolog %s: %s\n", c->name, query_error(q));
	if (out_close(&w, c, o, ret == 0) < 0)
		return 1;
	return ret < 0 ? 1 : 0;
}

/* parse, open, check the instrument argument, list, close: a subcommand. */
static int run(const struct cmd *c, int argc, char **argv,
               const struct col *cols, int ncols,
               int (*list)(struct query *, const struct opts *, struct out *))
{
	struct query_instrument in;
	struct opts o;
	struct query *q;
	int rc = parse_opts(c, argc, argv, &o);

	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if ((q = open_db(c, &o)) == NULL)
		return 1;
	rc = check_instrument(c, q, o.arg, &in);
	if (rc == 0)
		rc = run_listing(c, &o, q, cols, ncols, list);
	query_close(q);
	return rc;
}

static int list_instruments(struct query *q, const struct opts *o,
                            struct out *w)
{
	return query_instruments(q, o->owner, o->now_us, instrument_row, w);
}

static const struct cmd instruments_cmd = {
        .name = "instruments",
        .synopsis = "[-d DB] [--owner ID] [--format table|csv|json]",
        .help = instruments_help,
        .opts = O_OWNER | O_FORMAT,
        .formats = {F_TABLE, F_CSV, F_JSON},
        .nformats = 3,
};

int cmd_instruments(int argc, char **argv)
{
	return run(&instruments_cmd, argc, argv, instrument_cols,
	           N_INSTRUMENT_COLS, list_instruments);
}

/* ---- channels -------------------------------------------------------- */

static const char channels_help[] =
        "List the channels of one instrument (or of all), by instrument "
        "and name:\n"
        "  instrument, channel, unit (the engineering unit of every value "
        "of the row),\n"
        "  type (decoding), active, last_reading (time), value and "
        "quality of the newest\n"
        "  reading (value empty unless quality is good), the tolerance "
        "when configured:\n"
        "  reference (nominal value) or reference_channel (compared with "
        "that channel),\n"
        "  lower and upper (error limits), guard (guard band), U "
        "(expanded uncertainty)\n"
        "  and k (coverage factor), and the live tolerance state: state "
        "(no_data,\n"
        "  in_tolerance, warning, out_of_tolerance: the new state of the "
        "last tolerance\n"
        "  event) and state_since.\n\n"
        "Options:\n";

static const struct col channel_cols[] = {
        {"instrument", 12, C_TEXT},
        {"channel", 10, C_TEXT},
        {"unit", 6, C_TEXT},
        {"type", 12, C_TEXT},
        {"active", 6, C_RAW},
        {"last_reading", 20, C_TEXT},
        {"value", 12, C_RAW},
        {"quality", 9, C_TEXT},
        {"reference", 9, C_RAW},
        {"reference_channel", 9, C_TEXT},
        {"lower", 8, C_RAW},
        {"upper", 8, C_RAW},
        {"guard", 8, C_RAW},
        {"U", 8, C_RAW},
        {"k", 4, C_RAW},
        {"state", 16, C_TEXT},
        {"state_since", 1, C_TEXT},
};
#define N_CHANNEL_COLS (int)(sizeof(channel_cols) / sizeof(channel_cols[0]))

static int channel_row(void *ctx, const struct query_channel *ch)
{
	char last[32], since[32], num[7][32];
	const double nums[7] = {ch->last_value, ch->reference, ch->lower,
	                        ch->upper,      ch->guard,     ch->U,
	                        ch->k};
	const char *v[N_CHANNEL_COLS] = {
	        ch->instrument,
	        ch->name,
	        ch->unit,
	        ch->type,
	        yes(ch->active),
	        last,
	        num[0],
	        ch->last_quality >= 0
	                ? quality_name((enum quality)ch->last_quality)
	                : "",
	        num[1],
	        ch->reference_channel,
	        num[2],
	        num[3],
	        num[4],
	        num[5],
	        num[6],
	        ch->state,
	        since};

	for (int i = 0; i < 7; i++)
		fmt_double(nums[i], num[i], sizeof(num[i]));
	fmt_time(ch->last_us, last, sizeof(last));
	fmt_time(ch->state_us, since, sizeof(since));
	out_row(ctx, v);
	return 0;
}

static int list_channels(struct query *q, const struct opts *o, struct out *w)
{
	return query_channels(q, o->arg, channel_row, w);
}

static const struct cmd channels_cmd = {
        .name = "channels",
        .synopsis = "[-d DB] [INSTRUMENT] [--format table|csv|json]",
        .help = channels_help,
        .opts = O_FORMAT,
        .formats = {F_TABLE, F_CSV, F_JSON},
        .nformats = 3,
        .max_args = 1,
};

int cmd_channels(int argc, char **argv)
{
	return run(&channels_cmd, argc, argv, channel_cols, N_CHANNEL_COLS,
	           list_channels);
}

/* ---- due ------------------------------------------------------------- */

static const char due_help[] =
        "The weekly worklist: the active instruments and standards whose "
        "calibration is\noverdue or due within DAYS, by due date (never "
        "calibrated ones first):\n"
        "  due (date), instrument, kind, state (overdue, due_soon, or "
        "never_calibrated:\n"
        "  a calibration interval is configured but no calibration "
        "recorded), days_left\n"
        "  (whole days from now to the due date, negative when overdue), "
        "certificate in\n"
        "  force, owner, location, in_use (a standard or instrument used "
        "as the reference\n"
        "  of a channel or of a calibration record: fix these first).\n"
        "Exit status 0 whether or not something is due.\n\n"
        "Options:\n"
        "      --within DAYS    due within DAYS days from now (default: "
        "each instrument's\n"
        "                       due_soon_days)\n";

static const struct col due_cols[] = {
        {"due", 10, C_TEXT},     {"instrument", 12, C_TEXT},
        {"kind", 10, C_TEXT},    {"state", 16, C_TEXT},
        {"days_left", 9, C_RAW}, {"certificate", 11, C_TEXT},
        {"owner", 8, C_TEXT},    {"location", 8, C_TEXT},
        {"in_use", 1, C_RAW},
};
#define N_DUE_COLS (int)(sizeof(due_cols) / sizeof(due_cols[0]))

struct due_list {
	const struct opts *o;
	struct query_instrument *v;
	size_t n, cap;
};

static bool is_due(const struct query_instrument *in, const struct opts *o)
{
	if (!in->active)
		return false;
	if (in->cal_id == 0 || in->due_us == 0)
		return in->cal_id == 0 && in->interval_days > 0;
	if (o->within >= 0)
		return in->due_us <= o->now_us + o->within * DAY_US;
	return in->due == CALIB_DUE_OVERDUE || in->due == CALIB_DUE_SOON;
}

static int collect_due(void *ctx, const struct query_instrument *in)
{
	struct due_list *d = ctx;

	if (!is_due(in, d->o))
		return 0;
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 16;
		struct query_instrument *v = realloc(d->v, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n++] = *in;
	return 0;
}

static int by_due(const void *a, const void *b)
{
	const struct query_instrument *x = a, *y = b;

	if (x->due_us != y->due_us)
		return x->due_us < y->due_us ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void due_row(struct out *w, const struct query_instrument *in,
                    int64_t now_us)
{
	char due[16], days[24] = "";
	bool never = in->cal_id == 0;
	const char *v[N_DUE_COLS] = {due,
	                             in->name,
	                             in->kind,
	                             never ? "never_calibrated"
	                                   : calib_due_name(in->due),
	                             days,
	                             in->certificate,
	                             in->owner,
	                             in->location,
	                             yes(in->used_as_reference)};

	fmt_date(in->due_us, due, sizeof(due));
	if (!never)
		fmt_int((in->due_us - now_us) / DAY_US, days, sizeof(days));
	out_row(w, v);
}

static int list_due(struct query *q, const struct opts *o, struct out *w)
{
	struct due_list d = {.o = o};
	int ret = query_instruments(q, NULL, o->now_us, collect_due, &d);

	if (ret == 0) {
		if (d.n > 0)
			qsort(d.v, d.n, sizeof(*d.v), by_due);
		for (size_t i = 0; i < d.n; i++)
			due_row(w, &d.v[i], o->now_us);
	}
	free(d.v);
	return ret;
}

static const struct cmd due_cmd = {
        .name = "due",
        .synopsis = "[-d DB] [--within DAYS] [--format table|csv|json]",
        .help = due_help,
        .opts = O_WITHIN | O_FORMAT,
        .formats = {F_TABLE, F_CSV, F_JSON},
        .nformats = 3,
};

int cmd_due(int argc, char **argv)
{
	return run(&due_cmd, argc, argv, due_cols, N_DUE_COLS, list_due);
}

/* ---- events ---------------------------------------------------------- */

static const char events_help[] =
        "List the events of one instrument (or of all) with --from <= ts "
        "< --to, by time:\n"
        "  ts, instrument, channel (empty for events of the whole "
        "instrument), kind\n"
        "  (online, offline, tolerance, drift), detail (docs/SCHEMA.md, "
        "events).\n\n"
        "Options:\n"
        "      --from T         from this time (default: 30 days before --to, "
        "or now)\n"
        "      --to T           until this time, excluded (default: no "
        "end)\n";

static const struct col event_cols[] = {
        {"ts", 20, C_TEXT},      {"instrument", 12, C_TEXT},
        {"channel", 10, C_TEXT}, {"kind", 9, C_TEXT},
        {"detail", 1, C_TEXT},
};
#define N_EVENT_COLS (int)(sizeof(event_cols) / sizeof(event_cols[0]))

static int event_row(void *ctx, const struct query_event *e)
{
	char ts[32];
	const char *v[N_EVENT_COLS] = {ts, e->instrument, e->channel, e->kind,
	                               e->detail};

	fmt_time(e->ts_us, ts, sizeof(ts));
	out_row(ctx, v);
	return 0;
}

static int list_events(struct query *q, const struct opts *o, struct out *w)
{
	return query_events(q, o->arg, o->from_us, o->to_us, event_row, w);
}

static const struct cmd events_cmd = {
        .name = "events",
        .synopsis = "[-d DB] [INSTRUMENT] [--from T] [--to T] "
                    "[--format table|csv|json]",
        .help = events_help,
        .opts = O_RANGE | O_FORMAT,
        .formats = {F_TABLE, F_CSV, F_JSON},
        .nformats = 3,
        .max_args = 1,
        .default_from = 30 * DAY_US,
};

int cmd_events(int argc, char **argv)
{
	return run(&events_cmd, argc, argv, event_cols, N_EVENT_COLS,
	           list_events);
}

/* ---- readings -------------------------------------------------------- */

static const char readings_help[] =
        "Export the readings of one channel (INSTRUMENT/CHANNEL) or of "
        "every channel of\nan instrument with --from <= ts < --to, by "
        "channel then time, streamed (constant\nmemory). Columns:\n"
        "  instrument, channel, ts (UTC, ISO 8601 with microseconds), "
        "ts_us (UTC\n"
        "  microseconds since 1970-01-01), value (in unit; empty in CSV, "
        "null in JSON,\n"
        "  unless quality is good), unit, quality (good, timeout, "
        "exception, crc,\n"
        "  connect, reply, invalid, other).\n"
        "Values are printed with the fewest digits (15 to 17) that read "
        "back exactly.\n"
        "CSV is RFC 4180 (header line, CRLF line ends); JSON Lines is one "
        "object a line.\n\n"
        "Options:\n"
        "      --from T         from this time (default: 24 hours before --to, "
        "or now)\n"
        "      --to T           until this time, excluded (default: no "
        "end)\n"
        "  -o, --output FILE    write to FILE (default: standard output)\n";

static const struct col reading_cols[] = {
        {"instrument", 0, C_TEXT}, {"channel", 0, C_TEXT}, {"ts", 0, C_TEXT},
        {"ts_us", 0, C_RAW},       {"value", 0, C_RAW},    {"unit", 0, C_TEXT},
        {"quality", 0, C_TEXT},
};
#define N_READING_COLS (int)(sizeof(reading_cols) / sizeof(reading_cols[0]))

struct export
{
	struct out *w;
	const struct query_channel *ch;
};

static int reading_row(void *ctx, const struct query_reading *r)
{
	struct export *x = ctx;
	char ts[UTC_US_SIZE], us[24], value[32];
	const char *v[N_READING_COLS] = {
	        x->ch->instrument,
	        x->ch->name,
	        ts,
	        us,
	        value,
	        x->ch->unit,
	        quality_name((enum quality)r->quality)};

	utc_format(r->ts_us, 6, ts, sizeof(ts));
	snprintf(us, sizeof(us), "%" PRId64, r->ts_us);
	fmt_double(r->value, value, sizeof(value));
	out_row(x->w, v);
	return ferror(x->w->f) ? -1 : 0;
}

struct channel_list {
	const char *only; /* a channel name, NULL: all */
	struct query_channel *v;
	size_t n;
};

static int collect_channel(void *ctx, const struct query_channel *ch)
{
	struct channel_list *l = ctx;
	struct query_channel *v;

	if (l->only != NULL && strcmp(ch->name, l->only) != 0)
		return 0;
	if ((v = realloc(l->v, (l->n + 1) * sizeof(*v))) == NULL)
		return -1;
	l->v = v;
	l->v[l->n++] = *ch;
	return 0;
}

static int export_channels(struct query *q, const struct opts *o,
                           const struct channel_list *l, struct out *w)
{
	struct export x = {.w = w};

	for (size_t i = 0; i < l->n; i++) {
		x.ch = &l->v[i];
		int ret = query_readings(q, x.ch->id, o->from_us, o->to_us,
		                         reading_row, &x);
		if (ret != 0)
			return ret;
	}
	return 0;
}

/* The channels INSTRUMENT[/CHANNEL] names into l: 0, or 1 with the error
 * printed (unknown instrument or channel). */
static int find_channels(const struct cmd *c, struct query *q, const char *arg,
                         struct channel_list *l)
{
	char name[CALIB_ID + CALIB_TEXT];
	struct query_instrument in;
	char *slash;

	snprintf(name, sizeof(name), "%s", arg);
	if ((slash = strchr(name, '/')) != NULL)
		*slash = '\0';
	l->only = slash != NULL ? slash + 1 : NULL;
	if (check_instrument(c, q, name, &in) != 0)
		return 1;
	if (query_channels(q, name, collect_channel, l) < 0) {
		fprintf(stderr, "metrolog %s: %s\n", c->name, query_error(q));
		return 1;
	}
	if (l->n == 0 && l->only != NULL)
		fprintf(stderr,
		        "metrolog %s: unknown channel '%s' of "
		        "instrument '%s'\n",
		        c->name, l->only, name);
	else if (l->n == 0)
		fprintf(stderr,
		        "metrolog %s: instrument '%s' has no "
		        "channels\n",
		        c->name, name);
	l->only = NULL; /* pointed into name */
	return l->n == 0 ? 1 : 0;
}

static const struct cmd readings_cmd = {
        .name = "readings",
        .synopsis = "[-d DB] INSTRUMENT[/CHANNEL] [--from T] [--to T] "
                    "[--format csv|jsonl] [-o FILE]",
        .help = readings_help,
        .opts = O_RANGE | O_FORMAT | O_OUTPUT,
        .formats = {F_CSV, F_JSONL},
        .nformats = 2,
        .max_args = 1,
        .default_from = DAY_US,
};

int cmd_readings(int argc, char **argv)
{
	const struct cmd *c = &readings_cmd;
	struct channel_list l = {0};
	struct opts o;
	struct out w;
	struct query *q;
	int rc = parse_opts(c, argc, argv, &o);

	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (o.arg == NULL) {
		bad_usage(c, "say which: INSTRUMENT or INSTRUMENT/CHANNEL");
		return 2;
	}
	if ((q = open_db(c, &o)) == NULL)
		return 1;
	rc = find_channels(c, q, o.arg, &l);
	if (rc == 0 && out_open(&w, c, &o, reading_cols, N_READING_COLS) < 0)
		rc = 1;
	if (rc == 0) {
		int ret = export_channels(q, &o, &l, &w);
		if (ret < 0 && !ferror(w.f))
			fprintf(stderr, "metrolog %s: %s\n", c->name,
			        query_error(q));
		rc = (out_close(&w, c, &o, ret == 0) < 0 || ret != 0) ? 1 : 0;
	}
	free(l.v);
	query_close(q);
	return rc;
}

/* ---- report ---------------------------------------------------------- */

static const char report_help[] =
        "The monthly summary of every instrument and standard (or of one "
        "owner's), by\nname. The month is UTC; time figures stop at now "
        "for the current month.\n"
        "  instrument, kind, month\n"
        "  polls         readings of its channel with the most readings "
        "in the month\n"
        "                (each poll records one reading per channel, good "
        "or not)\n"
        "  readings, good  readings of all its channels, and the good "
        "ones\n"
        "  good_pct      100 * good / readings (%; empty when no "
        "readings)\n"
        "  online_s, known_s, online_pct  time online (seconds) and time "
        "whose link state\n"
        "                is known: the state at each instant is that of "
        "the last online/\n"
        "                offline event before it (unknown before the first "
        "one ever);\n"
        "                online_pct = 100 * online_s / known_s. A stopped "
        "gateway records\n"
        "                no event: that time counts in the last state.\n"
        "  oot_s         seconds during which at least one of its channels "
        "was\n"
        "                out_of_tolerance (the new state of its tolerance "
        "events)\n"
        "  online_events, offline_events, tolerance_events, drift_events, "
        "other_events\n"
        "                events of each kind in the month\n"
        "  calibrations  calibration records performed in the month "
        "(corrections, which\n"
        "                supersede a record, not counted)\n"
        "  certificate, due, due_state  the calibration in force at the "
        "month's end, its\n"
        "                due date and due state then (none, ok, due_soon, "
        "overdue)\n"
        "--format pdf writes the same as an A4 document (landscape) in "
        "Vietnamese with\nthe English below: title, month, database, "
        "time generated (UTC), owner, one\ntable row per instrument "
        "(percentages in %, times in h, min and s; the header\n"
        "on every page), these definitions, \"page x of y\" in each "
        "footer. It needs\n-o FILE.pdf and is written whole or not at "
        "all.\n\n"
        "Options:\n"
        "      --month YYYY-MM  the month (required)\n"
        "      --owner ID       only the instruments of this owner\n"
        "  -o, --output FILE    write to FILE (default: standard output; "
        "pdf: required)\n";

static const struct col report_cols[] = {
        {"instrument", 0, C_TEXT},    {"kind", 0, C_TEXT},
        {"month", 0, C_TEXT},         {"polls", 0, C_RAW},
        {"readings", 0, C_RAW},       {"good", 0, C_RAW},
        {"good_pct", 0, C_RAW},       {"online_s", 0, C_RAW},
        {"known_s", 0, C_RAW},        {"online_pct", 0, C_RAW},
        {"oot_s", 0, C_RAW},          {"online_events", 0, C_RAW},
        {"offline_events", 0, C_RAW}, {"tolerance_events", 0, C_RAW},
        {"drift_events", 0, C_RAW},   {"other_events", 0, C_RAW},
        {"calibrations", 0, C_RAW},   {"certificate", 0, C_TEXT},
        {"due", 0, C_TEXT},           {"due_state", 0, C_TEXT},
};
#define N_REPORT_COLS (int)(sizeof(report_cols) / sizeof(report_cols[0]))

struct report_out {
	struct out *w;
	const char *month;
};

static void fmt_fixed(double v, int decimals, char *buf, size_t size)
{
	if (isnan(v))
		buf[0] = '\0';
	else
		snprintf(buf, size, "%.*f", decimals, v);
}

static int report_out_row(void *ctx, const struct report_row *r)
{
	const struct report_out *ro = ctx;
	char polls[24], readings[24], good[24], good_pct[24], online[32],
	        known[32], online_pct[24], oot[32], ev[5][24], cals[24],
	        due[16];
	const int64_t events[5] = {r->online_events, r->offline_events,
	                           r->tolerance_events, r->drift_events,
	                           r->other_events};
	const char *v[N_REPORT_COLS] = {r->in.name, r->in.kind,
	                                ro->month,  polls,
	                                readings,   good,
	                                good_pct,   online,
	                                known,      online_pct,
	                                oot,        ev[0],
	                                ev[1],      ev[2],
	                                ev[3],      ev[4],
	                                cals,       r->in.certificate,
	                                due,        calib_due_name(r->in.due)};

	fmt_int(r->polls, polls, sizeof(polls));
	fmt_int(r->readings, readings, sizeof(readings));
	fmt_int(r->good, good, sizeof(good));
	fmt_fixed(r->good_pct, 2, good_pct, sizeof(good_pct));
	fmt_fixed((double)r->online_us / 1e6, 3, online, sizeof(online));
	fmt_fixed((double)r->known_us / 1e6, 3, known, sizeof(known));
	fmt_fixed(r->online_pct, 2, online_pct, sizeof(online_pct));
	fmt_fixed((double)r->oot_us / 1e6, 3, oot, sizeof(oot));
	for (int i = 0; i < 5; i++)
		fmt_int(events[i], ev[i], sizeof(ev[i]));
	fmt_int(r->calibrations, cals, sizeof(cals));
	fmt_date(r->in.due_us, due, sizeof(due));
	out_row(ro->w, v);
	return 0;
}

static const struct cmd report_cmd = {
        .name = "report",
        .synopsis = "[-d DB] --month YYYY-MM [--owner ID] "
                    "[--format csv|json|pdf] [-o FILE]",
        .help = report_help,
        .opts = O_MONTH | O_OWNER | O_FORMAT | O_OUTPUT,
        .formats = {F_CSV, F_JSON, F_PDF},
        .nformats = 3,
};

static int list_report(struct query *q, const struct opts *o, struct out *w)
{
	struct report_out ro = {.w = w, .month = o->month};

	return report_month(q, o->owner, o->from_us, o->to_us, o->now_us,
	                    report_out_row, &ro);
}

/* --format pdf: report_pdf() into o->output. */
static int report_document(const struct cmd *c, const struct opts *o,
                           struct query *q)
{
	const struct report_pdf_info info = {.month = o->month,
	                                     .site = tool_database(o->db),
	                                     .owner = o->owner,
	                                     .from_us = o->from_us,
	                                     .to_us = o->to_us,
	                                     .now_us = o->now_us};
	char err[600];

	if (report_pdf(q, &info, o->output, err, sizeof(err)) < 0) {
		fprintf(stderr, "metrolog %s: %s\n", c->name, err);
		return 1;
	}
	return 0;
}

int cmd_report(int argc, char **argv)
{
	const struct cmd *c = &report_cmd;
	enum draw_format fmt;
	struct opts o;
	struct query *q;
	int rc = parse_opts(c, argc, argv, &o);

	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (o.month == NULL) {
		bad_usage(c, "say which month: --month YYYY-MM");
		return 2;
	}
	if (report_parse_month(o.month, &o.from_us, &o.to_us) < 0) {
		bad_usage(c, "--month '%s': expected YYYY-MM", o.month);
		return 2;
	}
	if (o.format == F_PDF &&
	    (o.output == NULL || draw_format_of(o.output, &fmt) < 0 ||
	     fmt != DRAW_PDF)) {
		bad_usage(c,
		          "--format pdf: say where to write it: -o FILE.pdf");
		return 2;
	}
	if ((q = open_db(c, &o)) == NULL)
		return 1;
	if (o.format == F_PDF)
		rc = report_document(c, &o, q);
	else
		rc = run_listing(c, &o, q, report_cols, N_REPORT_COLS,
		                 list_report);
	query_close(q);
	return rc;
}
