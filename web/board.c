/*
 * board.c - the technicians' board: read (query.h), drawn as HTML, and
 * turned into Server-Sent Events (board.h).
 *
 * The words and their colours are one table each: a tolerance state is a
 * CSS class (st-in, st-warn, st-out, st-nodata, st-none) and words in the
 * page's language; a link and a due state the same. Colour never goes
 * alone: each cell says its state in words, and board.css adds a symbol.
 */
#include "board.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib.h"
#include "decode.h"
#include "labtime.h"
#include "query.h"
#include "sample.h"
#include "text.h"

struct reader {
	struct board_snap *s;
	size_t cap_inst, cap_chan;
	size_t cursor; /* find_inst()'s */
	int64_t now_us;
	int failed;
};

static int add_inst(void *ctx, const struct query_instrument *in)
{
	struct reader *r = ctx;
	struct board_inst *bi;
	void *p = r->s->inst;

	if (strcmp(in->kind, "instrument") != 0 || !in->active)
		return 0;
	if (text_reserve(&p, &r->cap_inst, r->s->ninst + 1, sizeof(*bi)) < 0)
		return r->failed = 1;
	r->s->inst = p;
	bi = &r->s->inst[r->s->ninst++];
	memset(bi, 0, sizeof(*bi));
	bi->id = in->id;
	snprintf(bi->name, sizeof(bi->name), "%s", in->name);
	snprintf(bi->location, sizeof(bi->location), "%s", in->location);
	snprintf(bi->link, sizeof(bi->link), "%s", in->link);
	snprintf(bi->due, sizeof(bi->due), "%s", calib_due_name(in->due));
	if (in->due_us != 0)
		calib_due_date(in->due_us, bi->due_date, sizeof(bi->due_date));
	return 0;
}

/* The instrument named name, NULL none. Both listings are by name
 * (ORDER BY i.name: byte order), so a cursor that only moves forward
 * finds each channel's instrument: one pass over both. */
static struct board_inst *find_inst(struct reader *r, const char *name)
{
	struct board_snap *s = r->s;
	int cmp = 1;

	while (r->cursor < s->ninst &&
	       (cmp = strcmp(s->inst[r->cursor].name, name)) < 0)
		r->cursor++;
	return r->cursor < s->ninst && cmp == 0 ? &s->inst[r->cursor] : NULL;
}

static int add_chan(void *ctx, const struct query_channel *ch)
{
	struct reader *r = ctx;
	struct board_inst *bi = find_inst(r, ch->instrument);
	struct board_chan *bc;
	void *p = r->s->chan;

	if (bi == NULL || !ch->active)
		return 0;
	if (text_reserve(&p, &r->cap_chan, r->s->nchan + 1, sizeof(*bc)) < 0)
		return r->failed = 1;
	r->s->chan = p;
	/* query_channels() lists by instrument then name: an instrument's
	 * channels come together */
	if (bi->nchan == 0)
		bi->first = r->s->nchan;
	bi->nchan++;
	bc = &r->s->chan[r->s->nchan++];
	memset(bc, 0, sizeof(*bc));
	bc->id = ch->id;
	snprintf(bc->name, sizeof(bc->name), "%s", ch->name);
	snprintf(bc->unit, sizeof(bc->unit), "%s", ch->unit);
	bc->last_us = ch->last_us;
	if (ch->last_quality >= 0)
		snprintf(bc->quality, sizeof(bc->quality), "%s",
		         quality_name((enum quality)ch->last_quality));
	if (!isnan(ch->last_value))
		text_shortest(ch->last_value, decode_type_single(ch->type),
		              bc->value, sizeof(bc->value));
	if (ch->has_tolerance)
		snprintf(bc->state, sizeof(bc->state), "%s",
		         ch->state[0] ? ch->state : "no_data");
	return 0;
}

int board_read(struct query *q, int64_t now_us, struct board_snap **out)
{
	struct reader r = {.now_us = now_us};

	*out = NULL;
	if ((r.s = calloc(1, sizeof(*r.s))) == NULL)
		return -1;
	r.s->refs = 1;
	r.s->now_us = now_us;
	if (query_instruments(q, NULL, now_us, add_inst, &r) != 0 || r.failed ||
	    query_channels(q, NULL, add_chan, &r) != 0 || r.failed) {
		board_free(r.s);
		return -1;
	}
	*out = r.s;
	return 0;
}

void board_free(struct board_snap *s)
{
	if (s == NULL)
		return;
	free(s->inst);
	free(s->chan);
	free(s);
}

/* ---- words and classes --------------------------------------------------- */

/* The CSS class of a tolerance state word ("" none configured). */
static const char *state_class(const char *state)
{
	static const char *const words[] = {"in_tolerance", "warning",
	                                    "out_of_tolerance", "no_data"};
	static const char *const classes[] = {"st-in", "st-warn", "st-out",
	                                      "st-nodata"};

	for (size_t i = 0; i < 4; i++)
		if (strcmp(state, words[i]) == 0)
			return classes[i];
	return "st-none";
}

/* What the value cell says: the value, or why there is none. */
static void value_text(const struct board_chan *c, enum lang l, char *buf,
                       size_t size)
{
	if (c->value[0] != '\0')
		snprintf(buf, size, "%s", c->value);
	else if (c->quality[0] != '\0')
		snprintf(buf, size, "%s (%s)", tr(l, M_NO_READING), c->quality);
	else
		snprintf(buf, size, "%s", tr(l, M_NO_READING));
}

/* What the due cell says: the state, and the date when there is one. */
/* ---- HTML ---------------------------------------------------------------- */

static void chan_html(struct sbuf *b, const struct board_chan *c,
                      int64_t now_us, enum lang l)
{
	char text[320], age[32], when[40];

	value_text(c, l, text, sizeof(text));
	sb_printf(b, "<tr id=\"c%lld\"><th scope=\"row\">", (long long)c->id);
	sb_html(b, c->name);
	sb_printf(b, "</th><td class=\"val\"><span id=\"c%lld-v\">",
	          (long long)c->id);
	sb_html(b, text);
	sb_add(b, "</span> <span class=\"unit\">");
	sb_html(b, c->unit);
	if (c->last_us != 0) {
		page_age(now_us - c->last_us, age, sizeof(age));
		labtime_format(c->last_us, 0, when, sizeof(when));
		sb_printf(b,
		          "</span></td><td class=\"age\" id=\"c%lld-a\" "
		          "data-t=\"%lld\" title=\"%s\">%s</td>",
		          (long long)c->id, (long long)(c->last_us / 1000),
		          when, age);
	} else {
		sb_printf(b,
		          "</span></td><td class=\"age\" id=\"c%lld-a\">-"
		          "</td>",
		          (long long)c->id);
	}
	sb_printf(b, "<td id=\"c%lld-s\" class=\"st %s\">", (long long)c->id,
	          state_class(c->state));
	sb_html(b, tr_state(l, c->state));
	sb_add(b, "</td></tr>");
}

/* An instrument's block; on the board (alone false) with its name,
 * location and the link to its page, on its page (alone) without. */
static void inst_html(struct sbuf *b, const struct board_snap *s,
                      const struct board_inst *in, enum lang l, bool alone)
{
	char due[128];

	page_due_text(l, in->due, in->due_date, due, sizeof(due));
	sb_printf(b, "<section class=\"inst\" id=\"i%lld\">",
	          (long long)in->id);
	if (!alone) {
		sb_add(b, "<h2>");
		sb_html(b, in->name);
		sb_add(b, "</h2><p class=\"where\">");
		sb_html(b, in->location);
		sb_add(b, " · <a class=\"open\" href=\"/lab/instrument?name=");
		sb_url(b, in->name);
		sb_add(b, "\">");
		sb_html(b, tr(l, M_OPEN_INSTRUMENT));
		sb_add(b, "</a></p>");
	}
	sb_printf(b,
	          "<p class=\"states\"><span>%s: </span><span id=\"i%lld-"
	          "link\" class=\"link link-%s\">",
	          tr(l, M_LINK), (long long)in->id,
	          in->link[0] ? in->link : "none");
	sb_html(b, tr_link(l, in->link));
	sb_printf(b,
	          "</span> <span>%s: </span><span id=\"i%lld-due\" "
	          "class=\"due due-%s\">",
	          tr(l, M_CALIBRATION), (long long)in->id, in->due);
	sb_html(b, due);
	sb_printf(b,
	          "</span></p><table><thead><tr><th>%s</th><th>%s</th>"
	          "<th>%s</th><th>%s</th></tr></thead><tbody>",
	          tr(l, M_CHANNEL), tr(l, M_VALUE), tr(l, M_AGE),
	          tr(l, M_TOLERANCE));
	for (size_t k = 0; k < in->nchan; k++)
		chan_html(b, &s->chan[in->first + k], s->now_us, l);
	sb_add(b, "</tbody></table></section>");
}

/* The line that says whether live updates come (board.js), and in which
 * zone times are. */
static void live_line(struct sbuf *b, const struct board_snap *s, enum lang l)
{
	char zone[16];

	labtime_format_zone(s->now_us, zone, sizeof(zone));
	sb_add(b, "<p class=\"meta\"><span id=\"live\" class=\"live\" "
	          "data-ok=\"");
	sb_html(b, tr(l, M_LIVE));
	sb_add(b, "\" data-lost=\"");
	sb_html(b, tr(l, M_LIVE_LOST));
	sb_printf(b, "\" data-now=\"%lld\">…</span> · ",
	          (long long)(s->now_us / 1000));
	sb_html(b, tr(l, M_TIMES_IN));
	sb_printf(b, " (%s)</p>", zone);
}

void board_html(struct sbuf *b, const struct board_snap *s, enum lang l)
{
	sb_printf(b, "<h1>%s</h1>", tr(l, M_BOARD));
	live_line(b, s, l);
	if (s->ninst == 0) {
		sb_add(b, "<p>");
		sb_html(b, tr(l, M_NO_INSTRUMENTS));
		sb_add(b, "</p>");
	}
	for (size_t i = 0; i < s->ninst; i++)
		inst_html(b, s, &s->inst[i], l, false);
}

int board_instrument_html(struct sbuf *b, const struct board_snap *s,
                          int64_t id, enum lang l)
{
	for (size_t i = 0; i < s->ninst; i++)
		if (s->inst[i].id == id) {
			live_line(b, s, l);
			inst_html(b, s, &s->inst[i], l, true);
			return 0;
		}
	return 1;
}

/* ---- events -------------------------------------------------------------- */

static void chan_event(struct sbuf *b, const struct board_chan *c,
                       int64_t now_us, enum lang l)
{
	char text[320], when[40] = "";

	value_text(c, l, text, sizeof(text));
	if (c->last_us != 0)
		labtime_format(c->last_us, 0, when, sizeof(when));
	sb_printf(b,
	          "event: ch\ndata: {\"id\":%lld,\"t\":%lld,\"n\":%lld,"
	          "\"lt\":",
	          (long long)c->id, (long long)(c->last_us / 1000),
	          (long long)(now_us / 1000));
	sb_json(b, when);
	sb_add(b, ",\"v\":");
	sb_json(b, text);
	sb_printf(b, ",\"c\":\"%s\",\"s\":", state_class(c->state));
	sb_json(b, tr_state(l, c->state));
	sb_add(b, "}\n\n");
}

static void inst_event(struct sbuf *b, const struct board_inst *in, enum lang l)
{
	char due[128];

	page_due_text(l, in->due, in->due_date, due, sizeof(due));
	sb_printf(b,
	          "event: inst\ndata: {\"id\":%lld,\"lc\":", (long long)in->id);
	sb_json(b, in->link[0] ? in->link : "none");
	sb_add(b, ",\"l\":");
	sb_json(b, tr_link(l, in->link));
	sb_add(b, ",\"dc\":");
	sb_json(b, in->due);
	sb_add(b, ",\"d\":");
	sb_json(b, due);
	sb_add(b, "}\n\n");
}

/* Whether a and b list the same instruments and channels, in order. */
static bool same_layout(const struct board_snap *a, const struct board_snap *b)
{
	if (a->ninst != b->ninst || a->nchan != b->nchan)
		return false;
	for (size_t i = 0; i < a->ninst; i++)
		if (a->inst[i].id != b->inst[i].id ||
		    a->inst[i].nchan != b->inst[i].nchan)
			return false;
	for (size_t k = 0; k < a->nchan; k++)
		if (a->chan[k].id != b->chan[k].id)
			return false;
	return true;
}

void board_events(struct sbuf *b, const struct board_snap *old,
                  const struct board_snap *cur, enum lang l)
{
	if (old != NULL && !same_layout(old, cur)) {
		sb_add(b, "event: reload\ndata: {}\n\n");
		return;
	}
	for (size_t i = 0; i < cur->ninst; i++) {
		const struct board_inst *n = &cur->inst[i];
		if (old == NULL || strcmp(old->inst[i].link, n->link) != 0 ||
		    strcmp(old->inst[i].due, n->due) != 0 ||
		    strcmp(old->inst[i].due_date, n->due_date) != 0)
			inst_event(b, n, l);
	}
	for (size_t k = 0; k < cur->nchan; k++) {
		const struct board_chan *n = &cur->chan[k];
		if (old == NULL || old->chan[k].last_us != n->last_us ||
		    strcmp(old->chan[k].state, n->state) != 0 ||
		    strcmp(old->chan[k].value, n->value) != 0)
			chan_event(b, n, cur->now_us, l);
	}
}
