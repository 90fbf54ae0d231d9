/*
 * lab.h - the technicians' pages besides the board (docs/WEB.md, "The
 * technicians' pages"): an instrument's page (its channels live, the
 * trend picture of a channel with its predicted crossing, recent events,
 * calibration history), the week's due worklist, and the events log with
 * its filters. app.c lets only technicians and managers reach them.
 *
 * Everything read goes through query.h; the trend is the tool's drawing
 * (trendchart.h), served as SVG from memory; every text from the
 * database is escaped (sb_html) and every name in a link percent-encoded
 * (sb_url). Times are the lab's (labtime.h).
 *
 * Threading: the caller's query connection and buffer; no state. The
 * caller holds its drawing lock around lab_trend_svg() (draw.h).
 */
#ifndef METROLOG_WEB_LAB_H
#define METROLOG_WEB_LAB_H

#include <stddef.h>
#include <stdint.h>

#include "page.h"

struct query;

#define LAB_TREND_DAYS    7   /* the trend shows this many days ... */
#define LAB_TREND_HORIZON 365 /* ... and predicts this far ahead */
#define LAB_WORKLIST_DAYS 7   /* the worklist: due within a week */
#define LAB_LOG_DAYS      7   /* the events log's range by default */
#define LAB_LOG_PAGE      50  /* events per page of the log */

/* The links to the board, the worklist and the events log. */
void lab_nav(struct sbuf *b, enum lang l);

/* The page of instrument name at now_us inside <main>; channel names the
 * channel whose trend is drawn (NULL or "": the first with a tolerance).
 * Returns 0, 1 when there is no such instrument or the instrument has no
 * such channel (nothing written), -1 on a database error. */
int lab_instrument(struct sbuf *b, struct query *q, const char *name,
                   const char *channel, int64_t now_us, enum lang l);

/* The trend picture of name/channel over the LAB_TREND_DAYS days before
 * now_us, as SVG in a new *svg of *len bytes (the caller frees it).
 * Returns 0, 1 when there is no picture (no such instrument or channel,
 * no tolerance, no good reading), -1 on an error (err says). */
int lab_trend_svg(struct query *q, const char *name, const char *channel,
                  int64_t now_us, char **svg, size_t *len, char *err,
                  size_t errlen);

/* The worklist at now_us inside <main>: the instruments and standards
 * whose calibration is overdue or due within LAB_WORKLIST_DAYS days
 * (calib_due_state(), the lab's dates), or never calibrated though they
 * have an interval, by due date then name. Returns 0, -1 on a database
 * error. */
int lab_worklist(struct sbuf *b, struct query *q, int64_t now_us, enum lang l);

/* The events log's filters as the query gave them (NULL or "": none). */
struct lab_log_args {
	const char *instrument, *kind, *from, *to, *page;
};

/* The events log at now_us inside <main>: its filter form, then the
 * events that pass, newest first, LAB_LOG_PAGE a page. Returns 0, 400
 * when a filter is not valid (the form says which, no events listed), -1
 * on a database error. */
int lab_log(struct sbuf *b, struct query *q, const struct lab_log_args *a,
            int64_t now_us, enum lang l);

#endif
