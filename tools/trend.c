/*
 * trend.c - `metrolog trend`: its options, then the picture drawn by
 * trend_chart() (tools/trendchart.c, shared with metrolog-web) into the
 * file -o names.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "query.h"
#include "tool.h"
#include "trendchart.h"

/* ---- the command ------------------------------------------------------- */

enum { TR_FROM, TR_TO, TR_WIDTH, TR_HEIGHT, TR_HORIZON };

static const struct cmd_option trend_opts[] = {
        {"from", 0, "T",
         "readings from T (local: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS],\n"
         "with Z or +07:00: that offset; now, or an age such as\n"
         "-30d, -12h); default: the first",
         TR_FROM},
        {"to", 0, "T", "readings before T; default: the last", TR_TO},
        {"width", 'W', "PX", "picture width (default 1200, 200..10000)",
         TR_WIDTH},
        {"height", 'H', "PX", "picture height (default 600, 150..10000)",
         TR_HEIGHT},
        {"horizon", 0, "DAYS",
         "how far ahead to predict a crossing (default 365)", TR_HORIZON},
        {0},
};

const struct cmd_def trend_cmd = {
        .name = "trend",
        .summary = "a channel's error over time, as SVG or PNG",
        .synopsis = "[-d DB] INSTRUMENT/CHANNEL [--from T] [--to T]\n"
                    "  -o FILE.svg|FILE.png [--width PX --height PX] "
                    "[--horizon DAYS]",
        .about = "Draw a channel's error over time (value - reference, or - "
                 "the reference channel)\nwith its tolerance and guard-band "
                 "limits, the fitted drift line and its 95 %\nprediction "
                 "bound, the predicted dates at which they leave the "
                 "limits, and the\ninstrument's calibrations. SVG or PNG by "
                 "the file's extension.\n",
        .options = trend_opts,
        .common = CMD_DATABASE | CMD_OUTPUT,
        .output_help = "FILE.svg or FILE.png (required; written whole or "
                       "not at all)",
        .min_args = 1,
        .max_args = 1,
        .args_missing = "say which channel: INSTRUMENT/CHANNEL",
        .footer = "Exit status: 0 written, 1 unknown channel, no readings, "
                  "no tolerance or not\nwritten, 2 bad usage.\n",
        .run = cmd_trend,
};

struct trend_args {
	int64_t now, from, to;
	double width, height, horizon;
};

/* A number option in [lo, hi] of unit, or a usage message. */
static int parse_num(const struct cmd_line *l, const char *opt, const char *s,
                     long lo, long hi, const char *unit, double *out)
{
	long v;

	if (tool_parse_long(s, lo, hi, &v) < 0)
		return cmd_usage(l, "%s '%s': expected %ld..%ld %s", opt, s, lo,
		                 hi, unit);
	*out = (double)v;
	return 0;
}

static int on_trend_option(struct cmd_line *l, const struct cmd_option *o,
                           const char *v)
{
	struct trend_args *a = l->ctx;

	switch (o->id) {
	case TR_FROM:
	case TR_TO:
		if (tool_parse_time(v, a->now,
		                    o->id == TR_FROM ? &a->from : &a->to) < 0)
			return cmd_usage(l,
			                 "--%s '%s': expected a time "
			                 "(YYYY-MM-DD[THH:MM[:SS]][Z|+07:00], "
			                 "now, -30d)",
			                 o->name, v);
		return 0;
	case TR_WIDTH:
		return parse_num(l, "--width", v, 200, 10000, "pixels",
		                 &a->width);
	case TR_HEIGHT:
		return parse_num(l, "--height", v, 150, 10000, "pixels",
		                 &a->height);
	default: /* TR_HORIZON */
		return parse_num(l, "--horizon", v, 1, 36500, "days",
		                 &a->horizon);
	}
}

int cmd_trend(int argc, char **argv)
{
	struct trend_args a = {.now = tool_now_us(),
	                       .from = INT64_MIN,
	                       .to = INT64_MAX,
	                       .width = 1200,
	                       .height = 600,
	                       .horizon = 365};
	struct cmd_line l = {.on_option = on_trend_option, .ctx = &a};
	char instrument[CALIB_ID], channel[CALIB_TEXT], err[512];
	struct trend_result res;
	struct query *q;
	enum draw_format fmt;
	int status = 1;

	if (cmd_parse(&trend_cmd, &l, argc, argv, &status) < 0)
		return status;
	status = 1;
	const char *arg = l.args[0], *slash = strchr(arg, '/');
	if (slash == NULL || slash == arg || slash[1] == '\0' ||
	    (size_t)(slash - arg) >= sizeof(instrument) ||
	    strlen(slash + 1) >= sizeof(channel)) {
		fprintf(stderr,
		        "metrolog trend: '%s': expected "
		        "INSTRUMENT/CHANNEL\n",
		        arg);
		return 2;
	}
	memcpy(instrument, arg, (size_t)(slash - arg));
	instrument[slash - arg] = '\0';
	snprintf(channel, sizeof(channel), "%s", slash + 1);
	if (a.from != INT64_MIN && a.to != INT64_MAX && a.from >= a.to) {
		fprintf(stderr, "metrolog trend: --from must be before --to\n");
		return 2;
	}
	if (l.output == NULL || draw_format_of(l.output, &fmt) < 0 ||
	    fmt == DRAW_PDF) {
		fprintf(stderr, "metrolog trend: say where to write it: "
		                "-o FILE.svg or -o FILE.png\n");
		return 2;
	}
	q = query_open(tool_database(l.database), err, sizeof(err));
	if (q == NULL) {
		fprintf(stderr, "metrolog trend: %s\n", err);
		return 1;
	}
	struct trend_request rq = {.instrument = instrument,
	                           .channel = channel,
	                           .from = a.from,
	                           .to = a.to,
	                           .width = a.width,
	                           .height = a.height,
	                           .horizon = a.horizon,
	                           .format = fmt,
	                           .path = l.output};
	if (trend_chart(q, &rq, &res) != 0)
		fprintf(stderr, "metrolog trend: %s\n", res.err);
	else
		status = 0;
	query_close(q);
	return status;
}
