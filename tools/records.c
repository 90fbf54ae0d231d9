/*
 * records.c - the read-only database subcommands of the metrolog tool:
 * instruments, channels, due, readings, events and report (tool.h).
 *
 * Each is three steps: parse the command line with the framework of cmd.h
 * from its struct cmd_def (every one takes -d/--database, -f/--format and
 * -h/--help, and the options its declaration lists), open the database
 * read-only (query_open: never modified), and give each row of a query.h
 * listing to the one writer of out.h, as text fields, in the format asked
 * for: text, CSV, a JSON array or JSON Lines; report also writes a PDF
 * (report_pdf(), report.h), not through it. Times are ISO 8601: the
 * lab's local time with its offset in text, UTC in CSV and JSON
 * (tool_format_stamp); times typed without an offset are local.
 *
 * Single-threaded.
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "decode.h"
#include "draw.h"
#include "out.h"
#include "query.h"
#include "report.h"
#include "sample.h"
#include "text.h"
#include "tool.h"
#include "utc.h"

#define DAY_US ((int64_t)86400000000)

/* ---- options --------------------------------------------------------- */

/* The options of these subcommands (struct cmd_option.id). */
enum { O_OWNER, O_FROM, O_TO, O_WITHIN, O_MONTH };

struct opts {
	const char *db, *owner, *output, *arg, *month;
	enum cmd_format format;
	int64_t now_us, from_us, to_us;
	long within; /* days, -1 not given */
};

#define OPT_OWNER                                                              \
	{                                                                      \
		"owner", 0, "ID", "only the instruments of this owner",        \
		        O_OWNER                                                \
	}
#define OPT_TO                                                                 \
	{                                                                      \
		"to", 0, "T", "until this time, excluded (default: no end)",   \
		        O_TO                                                   \
	}

static const char common_footer[] =
        "Times (--from, --to): YYYY-MM-DD (local midnight), "
        "YYYY-MM-DDTHH:MM[:SS[.ffffff]]\n"
        "(the lab's local time: TZ, else /etc/localtime), with Z (UTC) or "
        "an offset such\nas +07:00, now, or an age before now: -30d, -12h, "
        "-15m, -10s. Printed times\nare ISO 8601: local with the offset "
        "(Z when 0) in text, UTC in csv, json and\njsonl; dates are local. "
        "The database is opened read-only: never modified.\n"
        "json is one JSON array of objects; jsonl is JSON Lines (one "
        "object a line).\n\n"
        "Exit status: 0 done (also when nothing matches); 1 the request "
        "failed (unknown\ninstrument or channel, database error, output "
        "not written); 2 bad usage (unknown\noption, bad time, month or "
        "number).\n";

static int parse_time(const struct cmd_line *l, const char *opt, const char *s,
                      int64_t now_us, int64_t *us)
{
	if (tool_parse_time(s, now_us, us) < 0)
		return cmd_usage(l,
		                 "%s '%s': not a time (YYYY-MM-DD[THH:MM[:SS]]"
		                 "[Z|+07:00], now, -30d, -12h, ...)",
		                 opt, s);
	return 0;
}

static int on_option(struct cmd_line *l, const struct cmd_option *opt,
                     const char *v)
{
	struct opts *o = l->ctx;

	switch (opt->id) {
	case O_OWNER:
		o->owner = v;
		return 0;
	case O_FROM:
		return parse_time(l, "--from", v, o->now_us, &o->from_us);
	case O_TO:
		return parse_time(l, "--to", v, o->now_us, &o->to_us);
	case O_WITHIN:
		if (tool_parse_long(v, 0, 36500, &o->within) < 0)
			return cmd_usage(
			        l, "--within '%s': expected 0..36500 days", v);
		return 0;
	case O_MONTH:
		o->month = v;
		return 0;
	default:
		return 0;
	}
}

/* Parse argv for d into o and l. default_from: the default --from, this
 * long before --to (or now); 0: the epoch. Returns 0, or -1 with *status
 * the exit status (help printed, or a usage error). */
static int parse_opts(const struct cmd_def *d, int64_t default_from, int argc,
                      char **argv, struct opts *o, struct cmd_line *l,
                      int *status)
{
	memset(o, 0, sizeof(*o));
	o->now_us = tool_now_us();
	o->from_us = INT64_MIN;
	o->to_us = INT64_MAX;
	o->within = -1;
	*l = (struct cmd_line){.on_option = on_option, .ctx = o};
	if (cmd_parse(d, l, argc, argv, status) < 0)
		return -1;
	o->db = l->database;
	o->output = l->output;
	o->format = l->format;
	o->arg = l->nargs > 0 ? l->args[0] : NULL;
	if (o->from_us == INT64_MIN) /* default: default_from before --to */
		o->from_us = default_from == 0
		                     ? 0
		                     : (o->to_us == INT64_MAX ? o->now_us
		                                              : o->to_us) -
		                               default_from;
	if (o->from_us >= o->to_us) {
		*status = cmd_usage(l, "--from must be before --to");
		return -1;
	}
	return 0;
}

static struct query *open_db(const struct cmd_def *c, const struct opts *o)
{
	char err[600];
	struct query *q = query_open(tool_database(o->db), err, sizeof(err));

	if (q == NULL)
		fprintf(stderr, "metrolog %s: %s\n", c->name, err);
	return q;
}

/* 0 when the instrument name exists (into in) or name is NULL; else 1
 * with the error printed. */
static int check_instrument(const struct cmd_def *c, struct query *q,
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

/* ---- fields ---------------------------------------------------------- */

/* A number as people read it (text_shortest(): the shortest decimal that
 * reads back as v, of a float32 when single), "" for NAN. */
static void fmt_number(double v, bool single, char *buf, size_t size)
{
	if (text_shortest(v, single, buf, size) < 0)
		buf[0] = '\0';
}

/* A configured number (a tolerance, a reference): a double's digits. */
static void fmt_double(double v, char *buf, size_t size)
{
	fmt_number(v, false, buf, size);
}

/* A time in the zone of the output's format (tool_format_stamp: local for
 * text, UTC for programs), "" for none. */
static void fmt_time(const struct out *w, int64_t us, char *buf, size_t size)
{
	if (us == 0)
		buf[0] = '\0';
	else
		tool_format_stamp(w->format, us, 0, buf, size);
}

static void fmt_date(int64_t us, char *buf, size_t size)
{
	if (us == 0)
		buf[0] = '\0';
	else
		tool_format_date(us, buf, size);
}

/* A due date: the lab's local date of it (tool_format_due), "" for none. */
static void fmt_due(int64_t us, char *buf, size_t size)
{
	if (us == 0)
		buf[0] = '\0';
	else
		tool_format_due(us, buf, size);
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
        "  link (online/failing/offline: the last such event) and "
        "link_since,\n"
        "  last_reading (the newest reading of any channel), certificate,\n"
        "  calibrated (performed date) and due (date) of the calibration "
        "in force (the\n"
        "  latest not superseded), due_state now (none: no due date, ok, "
        "due_soon,\n"
        "  overdue), used_as_reference (a channel is compared with one of "
        "its channels,\n"
        "  or a calibration record names it as its standard), alert (used "
        "as a reference\n"
        "  while overdue or never calibrated).\n";

static const struct out_col instrument_cols[] = {
        {"instrument", OUT_STRING},
        {"kind", OUT_STRING},
        {"model", OUT_STRING},
        {"serial", OUT_STRING},
        {"owner", OUT_STRING},
        {"location", OUT_STRING},
        {"active", OUT_RAW},
        {"link", OUT_STRING},
        {"link_since", OUT_STRING},
        {"last_reading", OUT_STRING},
        {"certificate", OUT_STRING},
        {"calibrated", OUT_STRING},
        {"due", OUT_STRING},
        {"due_state", OUT_STRING},
        {"used_as_reference", OUT_RAW},
        {"alert", OUT_STRING},
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

	fmt_time(ctx, in->link_us, since, sizeof(since));
	fmt_time(ctx, in->last_reading_us, last, sizeof(last));
	fmt_date(in->cal_us, cal, sizeof(cal));
	fmt_due(in->due_us, due, sizeof(due));
	out_row(ctx, v);
	return 0;
}

/* Run a listing into the output: the one tail of every listing
 * subcommand. list returns as a query.h listing does. */
static int run_listing(const struct cmd_line *l, const struct opts *o,
                       struct query *q, const struct out_col *cols, int ncols,
                       int (*list)(struct query *, const struct opts *,
                                   struct out *))
{
	struct out w;
	int ret;

	if (out_open(&w, l, cols, ncols) < 0)
		return 1;
	ret = list(q, o, &w);
	if (ret < 0)
		fprintf(stderr, "metrolog %s: %s\n", l->def->name,
		        query_error(q));
	if (out_close(&w, ret == 0) < 0)
		return 1;
	return ret < 0 ? 1 : 0;
}

/* parse, open, check the instrument argument, list, close: a subcommand. */
static int run(const struct cmd_def *c, int64_t default_from, int argc,
               char **argv, const struct out_col *cols, int ncols,
               int (*list)(struct query *, const struct opts *, struct out *))
{
	struct query_instrument in;
	struct cmd_line l;
	struct opts o;
	struct query *q;
	int rc;

	if (parse_opts(c, default_from, argc, argv, &o, &l, &rc) < 0)
		return rc;
	if ((q = open_db(c, &o)) == NULL)
		return 1;
	rc = check_instrument(c, q, o.arg, &in);
	if (rc == 0)
		rc = run_listing(&l, &o, q, cols, ncols, list);
	query_close(q);
	return rc;
}

static int list_instruments(struct query *q, const struct opts *o,
                            struct out *w)
{
	return query_instruments(q, o->owner, o->now_us, instrument_row, w);
}

static const struct cmd_option instruments_opts[] = {OPT_OWNER, {0}};

const struct cmd_def instruments_cmd = {
        .name = "instruments",
        .summary = "instruments and standards: state, last reading, "
                   "calibration due",
        .synopsis = "[-d DB] [--owner ID] [-f text|csv|json|jsonl]",
        .about = instruments_help,
        .options = instruments_opts,
        .common = CMD_DATABASE,
        .formats = CMD_LISTING,
        .default_format = CMD_TEXT,
        .footer = common_footer,
        .run = cmd_instruments,
};

int cmd_instruments(int argc, char **argv)
{
	return run(&instruments_cmd, 0, argc, argv, instrument_cols,
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
        "  event) and state_since.\n";

static const struct out_col channel_cols[] = {
        {"instrument", OUT_STRING},
        {"channel", OUT_STRING},
        {"unit", OUT_STRING},
        {"type", OUT_STRING},
        {"active", OUT_RAW},
        {"last_reading", OUT_STRING},
        {"value", OUT_RAW},
        {"quality", OUT_STRING},
        {"reference", OUT_RAW},
        {"reference_channel", OUT_STRING},
        {"lower", OUT_RAW},
        {"upper", OUT_RAW},
        {"guard", OUT_RAW},
        {"U", OUT_RAW},
        {"k", OUT_RAW},
        {"state", OUT_STRING},
        {"state_since", OUT_STRING},
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

	fmt_number(nums[0], decode_type_single(ch->type), num[0],
	           sizeof(num[0]));
	for (int i = 1; i < 7; i++)
		fmt_double(nums[i], num[i], sizeof(num[i]));
	fmt_time(ctx, ch->last_us, last, sizeof(last));
	fmt_time(ctx, ch->state_us, since, sizeof(since));
	out_row(ctx, v);
	return 0;
}

static int list_channels(struct query *q, const struct opts *o, struct out *w)
{
	return query_channels(q, o->arg, channel_row, w);
}

const struct cmd_def channels_cmd = {
        .name = "channels",
        .summary = "channels: last reading, tolerance, live state",
        .synopsis = "[-d DB] [INSTRUMENT] [-f text|csv|json|jsonl]",
        .about = channels_help,
        .common = CMD_DATABASE,
        .formats = CMD_LISTING,
        .default_format = CMD_TEXT,
        .max_args = 1,
        .footer = common_footer,
        .run = cmd_channels,
};

int cmd_channels(int argc, char **argv)
{
	return run(&channels_cmd, 0, argc, argv, channel_cols, N_CHANNEL_COLS,
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
        "  (local dates from today to the due date: 0 on it, negative when "
        "overdue),\n"
        "  certificate in force, owner, location, in_use (a standard or "
        "instrument used\n"
        "  as the reference of a channel or of a calibration record: fix "
        "these first).\n"
        "The due date is a date of the lab's local time zone (TZ, else "
        "/etc/localtime);\n"
        "a calibration is overdue from local midnight after it.\n"
        "Exit status 0 whether or not something is due.\n";

static const struct out_col due_cols[] = {
        {"due", OUT_STRING},    {"instrument", OUT_STRING},
        {"kind", OUT_STRING},   {"state", OUT_STRING},
        {"days_left", OUT_RAW}, {"certificate", OUT_STRING},
        {"owner", OUT_STRING},  {"location", OUT_STRING},
        {"in_use", OUT_RAW},
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
		return calib_due_state(in->due_us, (int)o->within, o->now_us) !=
		       CALIB_DUE_OK;
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

	fmt_due(in->due_us, due, sizeof(due));
	if (!never)
		fmt_int(calib_due_days_left(in->due_us, now_us), days,
		        sizeof(days));
	out_row(w, v);
}

static int list_due(struct query *q, const struct opts *o, struct out *w)
{
	struct due_list d = {.o = o};
	int ret = query_instruments(q, NULL, o->now_us, collect_due, &d);

	if (ret == 0) {
		if (d.n > 0)
			qsort(d.v, d.n, sizeof(*d.v), query_instrument_by_due);
		for (size_t i = 0; i < d.n; i++)
			due_row(w, &d.v[i], o->now_us);
	}
	free(d.v);
	return ret;
}

static const struct cmd_option due_opts[] = {
        {"within", 0, "DAYS",
         "due within DAYS days from now (default: each instrument's\n"
         "due_soon_days)",
         O_WITHIN},
        {0},
};

const struct cmd_def due_cmd = {
        .name = "due",
        .summary = "the worklist: calibrations overdue or due soon",
        .synopsis = "[-d DB] [--within DAYS] [-f text|csv|json|jsonl]",
        .about = due_help,
        .options = due_opts,
        .common = CMD_DATABASE,
        .formats = CMD_LISTING,
        .default_format = CMD_TEXT,
        .footer = common_footer,
        .run = cmd_due,
};

int cmd_due(int argc, char **argv)
{
	return run(&due_cmd, 0, argc, argv, due_cols, N_DUE_COLS, list_due);
}

/* ---- events ---------------------------------------------------------- */

static const char events_help[] =
        "List the events of one instrument (or of all) with --from <= ts "
        "< --to, by time:\n"
        "  ts, instrument, channel (empty for events of the whole "
        "instrument), kind\n"
        "  (online, failing, offline, tolerance, drift, trend, "
        "calibration),\n"
        "  state_from, state_to (a change of state: tolerance states or "
        "due states;\n"
        "  empty otherwise), detail (docs/SCHEMA.md, events).\n";

static const struct out_col event_cols[] = {
        {"ts", OUT_STRING},         {"instrument", OUT_STRING},
        {"channel", OUT_STRING},    {"kind", OUT_STRING},
        {"state_from", OUT_STRING}, {"state_to", OUT_STRING},
        {"detail", OUT_STRING},
};
#define N_EVENT_COLS (int)(sizeof(event_cols) / sizeof(event_cols[0]))

static int event_row(void *ctx, const struct query_event *e)
{
	char ts[32];
	const char *v[N_EVENT_COLS] = {ts,       e->instrument, e->channel,
	                               e->kind,  e->state_from, e->state_to,
	                               e->detail};

	fmt_time(ctx, e->ts_us, ts, sizeof(ts));
	out_row(ctx, v);
	return 0;
}

static int list_events(struct query *q, const struct opts *o, struct out *w)
{
	return query_events(q, o->arg, o->from_us, o->to_us, event_row, w);
}

static const struct cmd_option events_opts[] = {
        {"from", 0, "T",
         "from this time (default: 30 days before --to, or now)", O_FROM},
        OPT_TO,
        {0},
};

const struct cmd_def events_cmd = {
        .name = "events",
        .summary = "online/offline, tolerance, drift and trend events",
        .synopsis = "[-d DB] [INSTRUMENT] [--from T] [--to T] "
                    "[-f text|csv|json|jsonl]",
        .about = events_help,
        .options = events_opts,
        .common = CMD_DATABASE,
        .formats = CMD_LISTING,
        .default_format = CMD_TEXT,
        .max_args = 1,
        .footer = common_footer,
        .run = cmd_events,
};

int cmd_events(int argc, char **argv)
{
	return run(&events_cmd, 30 * DAY_US, argc, argv, event_cols,
	           N_EVENT_COLS, list_events);
}

/* ---- readings -------------------------------------------------------- */

static const char readings_help[] =
        "Export the readings of one channel (INSTRUMENT/CHANNEL) or of "
        "every channel of\nan instrument with --from <= ts < --to, by "
        "channel then time, streamed (constant\nmemory). Columns:\n"
        "  instrument, channel, ts (ISO 8601 with microseconds: UTC in "
        "csv and json,\n  local with the offset in text), ts_us (UTC\n"
        "  microseconds since 1970-01-01), value (in unit; empty in CSV, "
        "null in JSON,\n"
        "  unless quality is good), unit, quality (good, timeout, "
        "exception, crc,\n"
        "  connect, reply, invalid, other).\n"
        "Values are printed with the fewest digits that read back as the "
        "same number:\n"
        "as a float32 for a float32 channel (19.99993), as a double "
        "otherwise.\n"
        "CSV is RFC 4180 (header line, CRLF line ends); JSON Lines is one "
        "object a line.\n";

static const struct out_col reading_cols[] = {
        {"instrument", OUT_STRING}, {"channel", OUT_STRING},
        {"ts", OUT_STRING},         {"ts_us", OUT_RAW},
        {"value", OUT_RAW},         {"unit", OUT_STRING},
        {"quality", OUT_STRING},
};
#define N_READING_COLS (int)(sizeof(reading_cols) / sizeof(reading_cols[0]))

struct export
{
	struct out *w;
	const struct query_channel *ch;
	bool single; /* ch reads float32 values */
};

static int reading_row(void *ctx, const struct query_reading *r)
{
	struct export *x = ctx;
	char ts[UTC_OFF_US_SIZE], us[24], value[32];
	const char *v[N_READING_COLS] = {
	        x->ch->instrument,
	        x->ch->name,
	        ts,
	        us,
	        value,
	        x->ch->unit,
	        quality_name((enum quality)r->quality)};

	tool_format_stamp(x->w->format, r->ts_us, 6, ts, sizeof(ts));
	snprintf(us, sizeof(us), "%" PRId64, r->ts_us);
	fmt_number(r->value, x->single, value, sizeof(value));
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
		x.single = decode_type_single(x.ch->type);
		int ret = query_readings(q, x.ch->id, o->from_us, o->to_us,
		                         reading_row, &x);
		if (ret != 0)
			return ret;
	}
	return 0;
}

/* The channels INSTRUMENT[/CHANNEL] names into l: 0, or 1 with the error
 * printed (unknown instrument or channel). */
static int find_channels(const struct cmd_def *c, struct query *q,
                         const char *arg, struct channel_list *l)
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

static const struct cmd_option readings_opts[] = {
        {"from", 0, "T",
         "from this time (default: 24 hours before --to, or now)", O_FROM},
        OPT_TO,
        {0},
};

const struct cmd_def readings_cmd = {
        .name = "readings",
        .summary = "export readings (CSV by default, JSON, JSON Lines, text)",
        .synopsis = "[-d DB] INSTRUMENT[/CHANNEL] [--from T] [--to T] "
                    "[-f csv|json|jsonl|text]\n  [-o FILE]",
        .about = readings_help,
        .options = readings_opts,
        .common = CMD_DATABASE | CMD_OUTPUT,
        .formats = CMD_LISTING,
        .default_format = CMD_CSV,
        .min_args = 1,
        .max_args = 1,
        .args_missing = "say which: INSTRUMENT or INSTRUMENT/CHANNEL",
        .footer = common_footer,
        .run = cmd_readings,
};

int cmd_readings(int argc, char **argv)
{
	const struct cmd_def *c = &readings_cmd;
	struct channel_list chs = {0};
	struct cmd_line l;
	struct opts o;
	struct out w;
	struct query *q;
	int rc;

	if (parse_opts(c, DAY_US, argc, argv, &o, &l, &rc) < 0)
		return rc;
	if ((q = open_db(c, &o)) == NULL)
		return 1;
	rc = find_channels(c, q, o.arg, &chs);
	if (rc == 0 && out_open(&w, &l, reading_cols, N_READING_COLS) < 0)
		rc = 1;
	if (rc == 0) {
		int ret = export_channels(q, &o, &chs, &w);
		if (ret < 0 && !ferror(w.f))
			fprintf(stderr, "metrolog %s: %s\n", c->name,
			        query_error(q));
		rc = (out_close(&w, ret == 0) < 0 || ret != 0) ? 1 : 0;
	}
	free(chs.v);
	query_close(q);
	return rc;
}

/* ---- report ---------------------------------------------------------- */

static const char report_help[] =
        "The monthly summary of every instrument and standard (or of one "
        "owner's), by\nname. The month is local (from local midnight of "
        "its first day to local\nmidnight of the next month's); time "
        "figures stop at now "
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
        "                failing/offline event before it (failing is not "
        "online; unknown\n"
        "                before the first one ever);\n"
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
        "time generated (local), owner, one\ntable row per instrument "
        "(percentages in %, times in h, min and s; the header\n"
        "on every page), these definitions, \"page x of y\" in each "
        "footer. It needs\n-o FILE.pdf and is written whole or not at "
        "all.\n";

static const struct out_col report_cols[] = {
        {"instrument", OUT_STRING},  {"kind", OUT_STRING},
        {"month", OUT_STRING},       {"polls", OUT_RAW},
        {"readings", OUT_RAW},       {"good", OUT_RAW},
        {"good_pct", OUT_RAW},       {"online_s", OUT_RAW},
        {"known_s", OUT_RAW},        {"online_pct", OUT_RAW},
        {"oot_s", OUT_RAW},          {"online_events", OUT_RAW},
        {"offline_events", OUT_RAW}, {"tolerance_events", OUT_RAW},
        {"drift_events", OUT_RAW},   {"other_events", OUT_RAW},
        {"calibrations", OUT_RAW},   {"certificate", OUT_STRING},
        {"due", OUT_STRING},         {"due_state", OUT_STRING},
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
	fmt_due(r->in.due_us, due, sizeof(due));
	out_row(ro->w, v);
	return 0;
}

static const struct cmd_option report_opts[] = {
        {"month", 0, "YYYY-MM", "the month, local (required)", O_MONTH},
        OPT_OWNER,
        {0},
};

const struct cmd_def report_cmd = {
        .name = "report",
        .summary = "monthly summary per instrument (rows, or a PDF)",
        .synopsis = "[-d DB] --month YYYY-MM [--owner ID] "
                    "[-f csv|json|jsonl|text|pdf] [-o FILE]",
        .about = report_help,
        .options = report_opts,
        .common = CMD_DATABASE | CMD_OUTPUT,
        .output_help = "write to FILE (default: standard output; pdf: "
                       "required, FILE.pdf)",
        .formats = CMD_LISTING | CMD_FMT(CMD_PDF),
        .default_format = CMD_CSV,
        .footer = common_footer,
        .run = cmd_report,
};

static int list_report(struct query *q, const struct opts *o, struct out *w)
{
	struct report_out ro = {.w = w, .month = o->month};

	return report_month(q, o->owner, o->from_us, o->to_us, o->now_us,
	                    report_out_row, &ro);
}

/* --format pdf: report_pdf() into o->output. */
static int report_document(const struct cmd_def *c, const struct opts *o,
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
	const struct cmd_def *c = &report_cmd;
	enum draw_format fmt;
	struct cmd_line l;
	struct opts o;
	struct query *q;
	int rc;

	if (parse_opts(c, 0, argc, argv, &o, &l, &rc) < 0)
		return rc;
	if (o.month == NULL)
		return cmd_usage(&l, "say which month: --month YYYY-MM");
	if (report_parse_month(o.month, &o.from_us, &o.to_us) < 0)
		return cmd_usage(&l, "--month '%s': expected YYYY-MM", o.month);
	if (o.format == CMD_PDF &&
	    (o.output == NULL || draw_format_of(o.output, &fmt) < 0 ||
	     fmt != DRAW_PDF))
		return cmd_usage(
		        &l, "--format pdf: say where to write it: -o FILE.pdf");
	if ((q = open_db(c, &o)) == NULL)
		return 1;
	if (o.format == CMD_PDF)
		rc = report_document(c, &o, q);
	else
		rc = run_listing(&l, &o, q, report_cols, N_REPORT_COLS,
		                 list_report);
	query_close(q);
	return rc;
}
