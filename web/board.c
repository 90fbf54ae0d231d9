/*
 * board.c - the technicians' board: read (query.h) whole or followed
 * from one snapshot to the next, drawn as HTML, and turned into
 * Server-Sent Events (board.h).
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
#include "utc.h"

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

/* A channel's last reading: its time (0 none), value (NAN unless good)
 * and quality (enum quality, -1 none), as the board shows them. */
static void set_last(struct board_chan *bc, int64_t ts_us, double value,
                     int quality)
{
	bc->last_us = ts_us;
	bc->quality[0] = bc->value[0] = '\0';
	if (quality >= 0)
		snprintf(bc->quality, sizeof(bc->quality), "%s",
		         quality_name((enum quality)quality));
	if (!isnan(value))
		text_shortest(value, bc->single, bc->value, sizeof(bc->value));
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
	bc->single = decode_type_single(ch->type);
	set_last(bc, ch->last_us, ch->last_value, ch->last_quality);
	if (ch->has_tolerance)
		snprintf(bc->state, sizeof(bc->state), "%s",
		         ch->state[0] ? ch->state : "no_data");
	return 0;
}

static struct board_snap *snap_new(int64_t now_us)
{
	struct board_snap *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->refs = 1;
	s->now_us = now_us;
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = ((const struct board_id *)a)->id;
	int64_t y = ((const struct board_id *)b)->id;

	return x < y ? -1 : x > y;
}

/* s->by_id: every channel of s by id. Returns 0 or -1. */
static int index_by_id(struct board_snap *s)
{
	if ((s->by_id = malloc((s->nchan + 1) * sizeof(*s->by_id))) == NULL)
		return -1;
	for (size_t k = 0; k < s->nchan; k++)
		s->by_id[k] = (struct board_id){.id = s->chan[k].id, .k = k};
	qsort(s->by_id, s->nchan, sizeof(*s->by_id), cmp_id);
	return 0;
}

/* The channel with id in s, NULL none. */
static struct board_chan *find_chan(const struct board_snap *s, int64_t id)
{
	size_t lo = 0, hi = s->nchan;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int64_t at = s->by_id[mid].id;
		if (at == id)
			return &s->chan[s->by_id[mid].k];
		if (at < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The board at now_us from q: with each channel's last reading
 * (query_instruments, query_channels), or without (prev given:
 * query_board_instruments, query_board_channels, the readings then
 * those of prev's channel with the same id). */
static int read_board(struct query *q, const struct board_snap *prev,
                      int64_t now_us, struct board_snap **out)
{
	struct reader r = {.now_us = now_us};
	int rc;

	*out = NULL;
	if ((r.s = snap_new(now_us)) == NULL)
		return -1;
	if (prev == NULL)
		rc = query_instruments(q, NULL, now_us, add_inst, &r) != 0 ||
		     r.failed || query_channels(q, NULL, add_chan, &r) != 0;
	else
		rc = query_board_instruments(q, now_us, add_inst, &r) != 0 ||
		     r.failed || query_board_channels(q, add_chan, &r) != 0;
	if (rc != 0 || r.failed || index_by_id(r.s) < 0) {
		board_free(r.s);
		return -1;
	}
	for (size_t k = 0; prev != NULL && k < r.s->nchan; k++) {
		struct board_chan *to = &r.s->chan[k];
		const struct board_chan *from = find_chan(prev, to->id);
		if (from != NULL) {
			to->last_us = from->last_us;
			memcpy(to->value, from->value, sizeof(to->value));
			memcpy(to->quality, from->quality, sizeof(to->quality));
		}
	}
	*out = r.s;
	return 0;
}

int board_read(struct query *q, int64_t now_us, struct board_snap **out)
{
	return read_board(q, NULL, now_us, out);
}

int board_refresh(struct query *q, const struct board_snap *prev,
                  int64_t now_us, struct board_snap **out)
{
	return read_board(q, prev, now_us, out);
}

static void delta_free(struct board_delta *d)
{
	free(d->inst);
	free(d->chan);
	memset(d, 0, sizeof(*d));
}

void board_free(struct board_snap *s)
{
	if (s == NULL)
		return;
	free(s->inst);
	free(s->chan);
	free(s->by_id);
	delta_free(&s->delta);
	for (int l = 0; l < LANGS; l++)
		sb_free(&s->text[l]);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* A copy of n items of size bytes at p into *out (NULL when n is 0).
 * Returns 0 or -1. */
static int dup_array(const void *p, size_t n, size_t size, void *out)
{
	void *d = n > 0 ? malloc(n * size) : NULL;

	if (n > 0 && d == NULL)
		return -1;
	if (n > 0)
		memcpy(d, p, n * size);
	memcpy(out, &d, sizeof(d));
	return 0;
}

int board_copy(const struct board_snap *s, int64_t now_us,
               struct board_snap **out)
{
	struct board_snap *c = snap_new(now_us);

	*out = NULL;
	if (c == NULL)
		return -1;
	c->ninst = s->ninst;
	c->nchan = s->nchan;
	if (dup_array(s->inst, s->ninst, sizeof(*s->inst), &c->inst) < 0 ||
	    dup_array(s->chan, s->nchan, sizeof(*s->chan), &c->chan) < 0 ||
	    dup_array(s->by_id, s->nchan, sizeof(*s->by_id), &c->by_id) < 0) {
		board_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

static int follow_one(void *ctx, const struct query_reading *r)
{
	struct board_chan *bc = find_chan(ctx, r->channel);

	/* the newest by time, as board_read()'s max(ts) */
	if (bc != NULL && r->ts_us >= bc->last_us)
		set_last(bc, r->ts_us, r->value, r->quality);
	return 0;
}

int board_follow(struct query *q, int64_t after, struct board_snap *s)
{
	return query_recent_after(q, after, follow_one, s) == 0 ? 0 : -1;
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
/*
 * The lab's time of a reading, as labtime_format() writes it, without
 * asking the C library for each one: labtime_offset() calls tzset(),
 * which looks at the zone file on every call (a stat: most of the cost of
 * drawing ten thousand channels). The offset is asked at both ends of the
 * hour holding the reading; when they agree it holds for the whole hour
 * (a zone changes its offset months apart, never twice in an hour), and
 * serves every reading of that hour in the same drawing.
 */
struct lab_clock {
	int64_t from_us, to_us; /* offset holds on [from_us, to_us] */
	int offset;
};

static void lab_when(struct lab_clock *k, int64_t us, char *buf, size_t size)
{
	const int64_t hour = 3600 * UTC_SEC_US;

	if (k->to_us == 0 || us < k->from_us || us > k->to_us) {
		int64_t from = us - (us % hour + hour) % hour;
		int at = labtime_offset(from);
		if (labtime_offset(from + hour - 1) != at) {
			k->to_us = 0; /* a change in this hour: ask each time */
			labtime_format(us, 0, buf, size);
			return;
		}
		*k = (struct lab_clock){from, from + hour - 1, at};
	}
	utc_format_offset(us, k->offset, 0, buf, size);
}

/* ---- HTML ---------------------------------------------------------------- */

/* v in decimal: sb_printf() costs more than the rest of a channel's
 * cell (it formats twice), and there are ten thousand channels. */
static void sb_int(struct sbuf *b, int64_t v)
{
	char buf[24], *p = buf + sizeof(buf);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	sb_addn(b, p, (size_t)(buf + sizeof(buf) - p));
}

/* before, id in decimal, after. */
static void sb_id(struct sbuf *b, const char *before, int64_t id,
                  const char *after)
{
	sb_add(b, before);
	sb_int(b, id);
	sb_add(b, after);
}

static void chan_html(struct sbuf *b, const struct board_chan *c,
                      int64_t now_us, struct lab_clock *k, enum lang l)
{
	char text[320], age[32], when[40];

	value_text(c, l, text, sizeof(text));
	sb_id(b, "<tr id=\"c", c->id, "\"><th scope=\"row\">");
	sb_html(b, c->name);
	sb_id(b, "</th><td class=\"val\"><span id=\"c", c->id, "-v\">");
	sb_html(b, text);
	sb_add(b, "</span> <span class=\"unit\">");
	sb_html(b, c->unit);
	sb_id(b, "</span></td><td class=\"age\" id=\"c", c->id, "-a\"");
	if (c->last_us != 0) {
		page_age(now_us - c->last_us, age, sizeof(age));
		lab_when(k, c->last_us, when, sizeof(when));
		sb_add(b, " data-t=\"");
		sb_int(b, c->last_us / 1000);
		sb_add(b, "\" title=\"");
		sb_html(b, when);
		sb_add(b, "\">");
		sb_html(b, age);
		sb_add(b, "</td>");
	} else {
		sb_add(b, ">-</td>");
	}
	sb_id(b, "<td id=\"c", c->id, "-s\" class=\"st ");
	sb_add(b, state_class(c->state));
	sb_add(b, "\">");
	sb_html(b, tr_state(l, c->state));
	sb_add(b, "</td></tr>");
}

/* An instrument's block; on the board (alone false) with its name,
 * location and the link to its page, on its page (alone) without. */
static void inst_html(struct sbuf *b, const struct board_snap *s,
                      const struct board_inst *in, int64_t now_us,
                      struct lab_clock *lk, enum lang l, bool alone)
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
		chan_html(b, &s->chan[in->first + k], now_us, lk, l);
	sb_add(b, "</tbody></table></section>");
}

/* The line that says whether live updates come (board.js), and in which
 * zone times are, at now_us. */
static void live_line(struct sbuf *b, int64_t now_us, enum lang l)
{
	char zone[16];

	labtime_format_zone(now_us, zone, sizeof(zone));
	sb_add(b, "<p class=\"meta\"><span id=\"live\" class=\"live\" "
	          "data-ok=\"");
	sb_html(b, tr(l, M_LIVE));
	sb_add(b, "\" data-lost=\"");
	sb_html(b, tr(l, M_LIVE_LOST));
	sb_printf(b, "\" data-now=\"%lld\">…</span> · ",
	          (long long)(now_us / 1000));
	sb_html(b, tr(l, M_TIMES_IN));
	sb_printf(b, " (%s)</p>", zone);
}

void board_html(struct sbuf *b, const struct board_snap *s, int64_t now_us,
                enum lang l)
{
	struct lab_clock k = {0};

	sb_printf(b, "<h1>%s</h1>", tr(l, M_BOARD));
	live_line(b, now_us, l);
	if (s->ninst == 0) {
		sb_add(b, "<p>");
		sb_html(b, tr(l, M_NO_INSTRUMENTS));
		sb_add(b, "</p>");
	}
	for (size_t i = 0; i < s->ninst; i++)
		inst_html(b, s, &s->inst[i], now_us, &k, l, false);
}

int board_instrument_html(struct sbuf *b, const struct board_snap *s,
                          int64_t id, int64_t now_us, enum lang l)
{
	struct lab_clock k = {0};

	for (size_t i = 0; i < s->ninst; i++)
		if (s->inst[i].id == id) {
			live_line(b, now_us, l);
			inst_html(b, s, &s->inst[i], now_us, &k, l, true);
			return 0;
		}
	return 1;
}

/* ---- events -------------------------------------------------------------- */

/* One channel of a "chs" event: [id, t, v, c, s, lt] (docs/WEB.md). */
static void chan_item(struct sbuf *b, const struct board_chan *c,
                      struct lab_clock *k, enum lang l)
{
	char text[320], when[40] = "";

	value_text(c, l, text, sizeof(text));
	if (c->last_us != 0)
		lab_when(k, c->last_us, when, sizeof(when));
	sb_id(b, "[", c->id, ",");
	sb_int(b, c->last_us / 1000);
	sb_add(b, ",");
	sb_json(b, text);
	sb_add(b, ",\"");
	sb_add(b, state_class(c->state));
	sb_add(b, "\",");
	sb_json(b, tr_state(l, c->state));
	sb_add(b, ",");
	sb_json(b, when);
	sb_add(b, "]");
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

/* The events of d, a delta to cur, in l. */
static void draw(struct sbuf *b, const struct board_snap *cur,
                 const struct board_delta *d, enum lang l)
{
	struct lab_clock k = {0};

	if (d->reload) {
		sb_add(b, "event: reload\ndata: {}\n\n");
		return;
	}
	for (size_t i = 0; i < d->ninst; i++)
		inst_event(b, &cur->inst[d->inst[i]], l);
	for (size_t i = 0; i < d->nchan; i++) {
		if (i % BOARD_CHS_MAX == 0)
			sb_printf(b, "event: chs\ndata: {\"n\":%lld,\"ch\":[",
			          (long long)(cur->now_us / 1000));
		else
			sb_add(b, ",");
		chan_item(b, &cur->chan[d->chan[i]], &k, l);
		if (i % BOARD_CHS_MAX == BOARD_CHS_MAX - 1 || i + 1 == d->nchan)
			sb_add(b, "]}\n\n");
	}
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

static bool inst_differs(const struct board_inst *a, const struct board_inst *b)
{
	return strcmp(a->link, b->link) != 0 || strcmp(a->due, b->due) != 0 ||
	       strcmp(a->due_date, b->due_date) != 0;
}

static bool chan_differs(const struct board_chan *a, const struct board_chan *b)
{
	return a->last_us != b->last_us || strcmp(a->state, b->state) != 0 ||
	       strcmp(a->value, b->value) != 0 ||
	       strcmp(a->quality, b->quality) != 0;
}

/* What differs from old (NULL: everything) to cur into *d (zeroed).
 * Returns 0 or -1 (out of memory). */
static int delta_of(struct board_delta *d, const struct board_snap *old,
                    const struct board_snap *cur)
{
	memset(d, 0, sizeof(*d));
	if (old != NULL && !same_layout(old, cur)) {
		d->reload = true;
		return 0;
	}
	d->inst = malloc((cur->ninst + 1) * sizeof(*d->inst));
	d->chan = malloc((cur->nchan + 1) * sizeof(*d->chan));
	if (d->inst == NULL || d->chan == NULL) {
		delta_free(d);
		return -1;
	}
	for (size_t i = 0; i < cur->ninst; i++)
		if (old == NULL || inst_differs(&old->inst[i], &cur->inst[i]))
			d->inst[d->ninst++] = i;
	for (size_t k = 0; k < cur->nchan; k++)
		if (old == NULL || chan_differs(&old->chan[k], &cur->chan[k]))
			d->chan[d->nchan++] = k;
	return 0;
}

int board_diff(struct board_snap *cur, const struct board_snap *old)
{
	delta_free(&cur->delta);
	cur->prev_gen = old != NULL ? old->gen : 0;
	return delta_of(&cur->delta, old, cur);
}

void board_events(struct sbuf *b, const struct board_snap *old,
                  const struct board_snap *cur, enum lang l)
{
	struct board_delta d;

	if (delta_of(&d, old, cur) < 0) {
		b->oom = true;
		return;
	}
	draw(b, cur, &d, l);
	delta_free(&d);
}

int board_delta(struct board_snap *s, enum lang l, const char **p, size_t *len)
{
	int rc;

	pthread_mutex_lock(&s->lock);
	if (!s->drawn[l]) {
		draw(&s->text[l], s, &s->delta, l);
		s->drawn[l] = true;
	}
	rc = s->text[l].oom ? -1 : 0;
	*p = s->text[l].p;
	*len = s->text[l].len;
	pthread_mutex_unlock(&s->lock);
	return rc;
}
