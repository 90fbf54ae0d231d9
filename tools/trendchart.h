/*
 * trendchart.h - the trend picture of a channel (tools/trendchart.c): its
 * error over time against its tolerance and guard-band limits, the fitted
 * drift line with its 95 % prediction bound, the predicted dates at which
 * they leave the limits, and the instrument's calibrations. One drawing
 * for both its users: `metrolog trend` writes it to a file (SVG or PNG),
 * metrolog-web serves it as SVG from memory (no file).
 *
 * Threading: the caller's query connection; draw.h's rule (one drawing at
 * a time in a program with threads: metrolog-web locks around it).
 */
#ifndef METROLOG_TRENDCHART_H
#define METROLOG_TRENDCHART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "draw.h"

struct query;

struct trend_request {
	const char *instrument, *channel;
	int64_t from, to;     /* readings in [from, to); INT64_MIN, INT64_MAX:
	                         from the first, to the last */
	double width, height; /* points (SVG) or pixels (PNG) */
	double horizon;       /* days ahead to predict a crossing */
	enum draw_format format; /* DRAW_SVG or DRAW_PNG */
	const char *path;        /* the file; NULL: an SVG in memory */
	/* the time axis from the first reading even when from is given
	 * (from then says only what is read) */
	bool axis_from_data;
	/* the result only (the fit, the crossings): no drawing at all, no
	 * lock needed */
	bool no_picture;
};

/* Why there is no picture (trend_chart() returned 1). */
enum trend_none {
	TREND_NO_CHANNEL,   /* no such channel of the instrument */
	TREND_NO_TOLERANCE, /* no tolerance: no reference for the error */
	TREND_NO_READINGS,  /* no good reading in the range */
};

struct trend_result {
	/* request.path NULL: the SVG (the caller frees it) */
	char *svg;
	size_t svg_len;
	/* what the picture shows */
	int64_t readings;       /* good readings drawn */
	bool fitted;            /* a drift line (3 readings or more) */
	double slope, se_slope; /* unit per day */
	/* the predicted crossings of the limits by the line and by its 95 %
	 * prediction bound; 0 none within the horizon */
	int64_t line_us, bound_us;
	enum trend_none none;
	char err[512]; /* why not (1 or -1), for people, in English */
};

/* Draw the trend of rq->instrument/rq->channel (or, with no_picture,
 * only work out what it would show). Returns 0 drawn (to the
 * file, written whole or not at all, or into out->svg), 1 nothing to
 * draw (out->none and out->err say why), -1 a database, memory or
 * drawing error (out->err). out is zeroed first. */
int trend_chart(struct query *q, const struct trend_request *rq,
                struct trend_result *out);

#endif
