/*
 * msg.c - topics and every JSON payload metrologd sends (msg.h;
 * docs/MQTT.md is the contract): the outbox's messages, the gateway's
 * status, Home Assistant discovery and the replies to records requests.
 * With request.c, the only files that include <cjson/cJSON.h>; the
 * readings payload, the one of every poll, is written directly, without
 * cJSON, to the very bytes cJSON printed (below).
 */
#include "msg.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "calib.h"
#include "config.h"
#include "dec.h"
#include "drift.h"
#include "sample.h"
#include "text.h"
#include "utc.h"

/* ---- topics and payloads ----------------------------------------------- */

int msg_topic(char *buf, size_t size, const char *prefix, const char *site,
              const char *leaf1, const char *leaf2)
{
	int n = leaf2 != NULL
	                ? snprintf(buf, size, "%s/%s/%s/%s", prefix, site,
	                           leaf1, leaf2)
	                : snprintf(buf, size, "%s/%s/%s", prefix, site, leaf1);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* seq, ts, ts_ms, instrument: the head of every outbox payload. */
static cJSON *payload_head(int64_t seq, int64_t ts_us, const char *instrument)
{
	char iso[40];
	cJSON *o = cJSON_CreateObject();

	utc_format(ts_us, 6, iso, sizeof(iso));
	if (o == NULL || !cJSON_AddNumberToObject(o, "seq", (double)seq) ||
	    !cJSON_AddStringToObject(o, "ts", iso) ||
	    !cJSON_AddNumberToObject(o, "ts_ms", (double)(ts_us / 1000)) ||
	    !cJSON_AddStringToObject(o, "instrument", instrument)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* The printed text in buf (room bytes) made valid UTF-8 (msg.h): cJSON
 * writes every byte from 0x80 up as it is, and only inside strings, so
 * repairing the text repairs each string and nothing else. Returns the
 * length, or -1 when the repaired text does not fit or memory runs out. */
static int payload_utf8(char *buf, size_t room)
{
	char why[64], *copy;
	size_t len;

	if (text_utf8(buf, why, sizeof(why)) == 0)
		return (int)strlen(buf);
	if ((copy = strdup(buf)) == NULL)
		return -1;
	len = text_utf8_repair(buf, room, copy);
	free(copy);
	return len < room ? (int)len : -1;
}

/* Print o into buf and free it. Returns the length, or -1. cJSON may
 * misjudge what it needs by a few bytes, so it is given 5 fewer than
 * size (its documentation's advice); an int, so at most INT_MAX. */
static int payload_print(cJSON *o, char *buf, size_t size)
{
	int room = size > INT_MAX ? INT_MAX : (int)size;
	int ok = o != NULL && room > 8 &&
	         cJSON_PrintPreallocated(o, buf, room - 5, 0);

	cJSON_Delete(o);
	return ok ? payload_utf8(buf, (size_t)room - 5) : -1;
}

/* ---- the readings payload, written directly -------------------------------
 * One for every poll of an instrument (300 000 readings a second at the
 * ceiling), so it is written straight into the caller's buffer, not
 * through a cJSON tree: the very bytes cJSON 1.7.15 printed for it, and -1
 * for the very same sizes (tests/unit/test_msg_fast.c compares the two
 * over generated messages), without an allocation, a printf or a strtod
 * on the common path. What cJSON did, and so what this does:
 * - a string: '"', '\\' and \b \f \n \r \t escaped so, every other byte
 *   below 0x20 as \u00xx, the rest as it is; then (payload_utf8()) each
 *   byte that is not part of a valid UTF-8 sequence as U+FFFD. Only bytes
 *   below 0x80 are escaped, never a continuation byte, so a string
 *   repaired alone is repaired as it was within the whole text;
 * - a number: "%1.15g" when that text reads back within a part in 2^52
 *   (cJSON's compare_double()), else "%1.17g"; null when not finite. dec.h
 *   rounds exactly as printf does (dec_from_double_sig()) and reads back
 *   as strtod does (dec_to_double()); dec_format_g() writes the %g form;
 * - room: cJSON was given 5 bytes less than size and asked for 2 more
 *   than the text, so the text fitted when its length + 7 <= size, and
 *   when repaired, its repaired length + 6 <= size too. */

/* A text being written into [p, end). */
struct jw {
	char *p, *end;
	size_t bad; /* bytes written as U+FFFD (3 bytes for 1) */
	bool full;  /* a write did not fit: nothing more is written */
};

static void jw_put(struct jw *w, const void *s, size_t n)
{
	if (w->full || n > (size_t)(w->end - w->p)) {
		w->full = true;
		return;
	}
	memcpy(w->p, s, n);
	w->p += n;
}

/* c (below 0x20, '"' or '\\') escaped as cJSON escapes it into out (6
 * bytes); returns the length. */
static size_t json_escape(unsigned char c, char *out)
{
	static const char hex[] = "0123456789abcdef";
	char e = 0;

	switch (c) {
	case '"':
	case '\\':
		e = (char)c;
		break;
	case '\b':
		e = 'b';
		break;
	case '\f':
		e = 'f';
		break;
	case '\n':
		e = 'n';
		break;
	case '\r':
		e = 'r';
		break;
	case '\t':
		e = 't';
		break;
	}
	out[0] = '\\';
	if (e != 0) {
		out[1] = e;
		return 2;
	}
	memcpy(out + 1, "u00", 3);
	out[4] = hex[c >> 4];
	out[5] = hex[c & 15];
	return 6;
}

/* s as a JSON string, escaped and repaired (above). */
static void jw_string(struct jw *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[6];
	size_t n, k;

	jw_put(w, "\"", 1);
	for (;;) {
		for (n = 0;
		     p[n] >= 0x20 && p[n] < 0x80 && p[n] != '"' && p[n] != '\\';
		     n++)
			;
		jw_put(w, p, n);
		p += n;
		if (*p == '\0')
			break;
		if (*p < 0x80) {
			jw_put(w, esc, json_escape(*p++, esc));
			continue;
		}
		k = 0;
		text_utf8_next((const char *)p, &k);
		if (k == 1) { /* not part of a valid sequence */
			jw_put(w, "\xEF\xBF\xBD", 3);
			w->bad++;
		} else {
			jw_put(w, p, k);
		}
		p += k;
	}
	jw_put(w, "\"", 1);
}

/* cJSON's compare_double(): a and b within a part in 2^52 of the larger. */
static bool close_enough(double a, double b)
{
	double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);

	return fabs(a - b) <= m * DBL_EPSILON;
}

/* v as cJSON prints a number (above) into out (DEC_G_SIZE bytes); returns
 * the length. */
static size_t json_number(double v, char *out)
{
	struct dec d;

	if (v == 0) { /* a decimal has no -0; %g has */
		if (signbit(v)) {
			memcpy(out, "-0", 3);
			return 2;
		}
		memcpy(out, "0", 2);
		return 1;
	}
	if (dec_from_double_sig(v, 15, &d) == 0 &&
	    close_enough(dec_to_double(&d), v))
		return dec_format_g(&d, 15, out);
	if (dec_from_double_sig(v, 17, &d) == 0)
		return dec_format_g(&d, 17, out);
	memcpy(out, "null", 5); /* not finite */
	return 4;
}

/* A channel's value as msg.h says (rounded to digits significant digits
 * through their text, then printed as cJSON prints the double that text
 * reads back as), into out (DEC_G_SIZE bytes); returns the length. */
static size_t reading_number(double v, int digits, char *out)
{
	struct dec d;
	double x;

	if (digits <= 0 || digits >= 17 || !isfinite(v) || v == 0 ||
	    dec_from_double_sig(v, digits, &d) < 0)
		return json_number(v, out);
	x = dec_to_double(&d);
	/* At most 15 digits, read back as a normal double: x is within a
	 * part in 2^53 of d, less than half a step of 15 digits, so cJSON's
	 * %1.15g of x is d again, and reads back as x. */
	if (digits <= 15 && fabs(x) >= DBL_MIN && fabs(x) <= DBL_MAX)
		return dec_format_g(&d, 15, out);
	return json_number(x, out);
}

/* "name":{"value":...,"unit":...,"quality":...} of c; -1 when a string is
 * NULL (cJSON refused those). */
static int readings_channel(struct jw *w, const struct msg_channel *c)
{
	char num[DEC_G_SIZE];

	if (c->name == NULL || c->unit == NULL)
		return -1;
	jw_string(w, c->name);
	jw_put(w, ":{\"value\":", 10);
	if (c->quality == QUALITY_GOOD)
		jw_put(w, num, reading_number(c->value, c->digits, num));
	else
		jw_put(w, "null", 4);
	jw_put(w, ",\"unit\":", 8);
	jw_string(w, c->unit);
	jw_put(w, ",\"quality\":", 11);
	jw_string(w, quality_name((enum quality)c->quality));
	jw_put(w, "}", 1);
	return 0;
}

int msg_readings(char *buf, size_t size, int64_t seq, int64_t ts_us,
                 const char *instrument, const struct msg_channel *ch, size_t n)
{
	size_t room = size > INT_MAX ? INT_MAX : size, len;
	char num[DEC_G_SIZE], iso[40];
	struct jw w;

	if (room <= 8 || instrument == NULL)
		return -1;
	w = (struct jw){.p = buf, .end = buf + room - 6};
	utc_format(ts_us, 6, iso, sizeof(iso));
	jw_put(&w, "{\"seq\":", 7);
	jw_put(&w, num, json_number((double)seq, num));
	jw_put(&w, ",\"ts\":", 6);
	jw_string(&w, iso);
	jw_put(&w, ",\"ts_ms\":", 9);
	jw_put(&w, num, json_number((double)(ts_us / 1000), num));
	jw_put(&w, ",\"instrument\":", 14);
	jw_string(&w, instrument);
	jw_put(&w, ",\"channels\":{", 13);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			jw_put(&w, ",", 1);
		if (readings_channel(&w, &ch[i]) < 0)
			return -1;
	}
	jw_put(&w, "}}", 2);
	len = (size_t)(w.p - buf);
	if (w.full || len - 2 * w.bad + 7 > room)
		return -1;
	buf[len] = '\0';
	return (int)len;
}

static int event_like(char *buf, size_t size, int64_t seq, int64_t ts_us,
                      const char *instrument, const char *key,
                      const char *value, const char *reason)
{
	cJSON *o = payload_head(seq, ts_us, instrument);

	if (o == NULL || !cJSON_AddStringToObject(o, key, value) ||
	    (reason != NULL ? !cJSON_AddStringToObject(o, "reason", reason)
	                    : !cJSON_AddNullToObject(o, "reason"))) {
		cJSON_Delete(o);
		return -1;
	}
	return payload_print(o, buf, size);
}

int msg_event(char *buf, size_t size, int64_t seq, int64_t ts_us,
              const char *instrument, const char *kind, const char *reason)
{
	return event_like(buf, size, seq, ts_us, instrument, "event", kind,
	                  reason);
}

int msg_tolerance(char *buf, size_t size, int64_t seq, int64_t ts_us,
                  const char *instrument, const struct msg_tol *t)
{
	cJSON *o = payload_head(seq, ts_us, instrument);
	bool ok = o != NULL;

	ok = ok && cJSON_AddStringToObject(o, "event", t->kind) &&
	     cJSON_AddStringToObject(o, "channel", t->channel);
	ok = ok &&
	     (t->from != NULL ? cJSON_AddStringToObject(o, "from", t->from)
	                      : cJSON_AddNullToObject(o, "from"));
	ok = ok && (t->to != NULL ? cJSON_AddStringToObject(o, "to", t->to)
	                          : cJSON_AddNullToObject(o, "to"));
	ok = ok &&
	     (isfinite(t->error) ? cJSON_AddNumberToObject(o, "error", t->error)
	                         : cJSON_AddNullToObject(o, "error"));
	ok = ok && cJSON_AddStringToObject(o, "unit", t->unit) &&
	     cJSON_AddNumberToObject(o, "lower", t->lower) &&
	     cJSON_AddNumberToObject(o, "upper", t->upper) &&
	     cJSON_AddStringToObject(o, "detail", t->detail);
	if (!ok) {
		cJSON_Delete(o);
		return -1;
	}
	return payload_print(o, buf, size);
}

/* The "calibration" member: state, due (ISO and ms, null when none),
 * certificate (null when never calibrated), reference_overdue. */
static bool add_calibration(cJSON *o, const struct msg_calstate *cal)
{
	cJSON *c = cJSON_AddObjectToObject(o, "calibration");
	char iso[40];
	bool ok = c != NULL &&
	          cJSON_AddStringToObject(c, "state", cal->state) != NULL;

	if (cal->due_us > 0) {
		utc_format(cal->due_us, 6, iso, sizeof(iso));
		ok = ok && cJSON_AddStringToObject(c, "due", iso) &&
		     cJSON_AddNumberToObject(c, "due_ms",
		                             (double)(cal->due_us / 1000));
	} else {
		ok = ok && cJSON_AddNullToObject(c, "due") &&
		     cJSON_AddNullToObject(c, "due_ms");
	}
	ok = ok && (cal->certificate[0] != '\0'
	                    ? cJSON_AddStringToObject(c, "certificate",
	                                              cal->certificate) != NULL
	                    : cJSON_AddNullToObject(c, "certificate") != NULL);
	return ok && cJSON_AddBoolToObject(c, "reference_overdue",
	                                   cal->reference_overdue) != NULL;
}

int msg_status(char *buf, size_t size, int64_t seq, int64_t ts_us,
               const char *instrument, const char *state, const char *reason,
               const struct msg_chstate *ch, size_t n,
               const struct msg_calstate *cal)
{
	cJSON *o = payload_head(seq, ts_us, instrument), *tol = NULL;
	bool ok = o != NULL;

	ok = ok && (state != NULL ? cJSON_AddStringToObject(o, "state", state)
	                          : cJSON_AddNullToObject(o, "state"));
	ok = ok &&
	     (reason != NULL ? cJSON_AddStringToObject(o, "reason", reason)
	                     : cJSON_AddNullToObject(o, "reason"));
	if (ok && n > 0)
		ok = (tol = cJSON_AddObjectToObject(o, "tolerance")) != NULL;
	for (size_t i = 0; ok && i < n; i++)
		ok = cJSON_AddStringToObject(tol, ch[i].channel, ch[i].state) !=
		     NULL;
	if (ok && cal != NULL)
		ok = add_calibration(o, cal);
	if (!ok) {
		cJSON_Delete(o);
		return -1;
	}
	return payload_print(o, buf, size);
}

int msg_calibration(char *buf, size_t size, int64_t seq, int64_t ts_us,
                    const char *instrument, const char *from, const char *to,
                    const struct msg_calstate *cal, const char *detail)
{
	cJSON *o = payload_head(seq, ts_us, instrument);
	bool ok = o != NULL &&
	          cJSON_AddStringToObject(o, "event", "calibration") &&
	          cJSON_AddStringToObject(o, "from", from) &&
	          cJSON_AddStringToObject(o, "to", to) &&
	          add_calibration(o, cal) &&
	          cJSON_AddStringToObject(o, "detail", detail);

	if (!ok) {
		cJSON_Delete(o);
		return -1;
	}
	return payload_print(o, buf, size);
}

/* ---- the gateway's status ----------------------------------------------- */

int msg_gateway_status(char *buf, size_t size, const struct msg_gwstatus *s)
{
	char iso[40], since[40];
	cJSON *o = cJSON_CreateObject();
	double age = s->rows > 0 && s->oldest_us > 0 && s->now_us > s->oldest_us
	                     ? (double)(s->now_us - s->oldest_us) / 1e6
	                     : 0;

	utc_format(s->now_us, 6, iso, sizeof(iso));
	utc_format(s->connected_us, 6, since, sizeof(since));
	if (o == NULL || !cJSON_AddStringToObject(o, "state", s->state) ||
	    (s->reason != NULL
	             ? !cJSON_AddStringToObject(o, "reason", s->reason)
	             : !cJSON_AddNullToObject(o, "reason")) ||
	    !cJSON_AddStringToObject(o, "ts", iso) ||
	    !cJSON_AddNumberToObject(o, "ts_ms", (double)(s->now_us / 1000)) ||
	    !cJSON_AddNumberToObject(o, "outbox", (double)s->rows) ||
	    !cJSON_AddNumberToObject(o, "oldest_age_s",
	                             (double)(int64_t)(age * 1000) / 1000) ||
	    !cJSON_AddStringToObject(o, "client_id", s->client_id) ||
	    !cJSON_AddStringToObject(o, "connected", since) ||
	    !cJSON_AddNumberToObject(o, "last_seq", (double)s->last_seq)) {
		cJSON_Delete(o);
		return -1;
	}
	return payload_print(o, buf, size);
}

int msg_gateway_will(char *buf, size_t size, int64_t connected_us)
{
	char since[40];
	int n;

	utc_format(connected_us, 6, since, sizeof(since));
	n = snprintf(buf, size,
	             "{\"state\":\"offline\",\"reason\":\"lost\","
	             "\"connected\":\"%s\"}",
	             since);
	return n < 0 || (size_t)n >= size ? -1 : n;
}

/* ---- Home Assistant discovery ------------------------------------------- */

#define HA_ID   200  /* an id: a 64-byte name, every byte as _XX, fits */
#define HA_TEXT 1024 /* names, unique ids, templates */

/* s as a Home Assistant node or object id: A-Z a-z 0-9 and '-' as they
 * are, any other byte as "_XX" (hex), so distinct names stay distinct
 * and "__" never occurs (it separates parts). Returns 0, or -1 when it
 * does not fit in size (cut, it could name another channel). */
static int ha_id(char *out, size_t size, const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-') {
			if (n + 1 >= size)
				return -1;
			out[n++] = (char)ch;
		} else {
			if (n + 3 >= size)
				return -1;
			n += (size_t)snprintf(out + n, size - n, "_%02X", ch);
		}
	}
	out[n] = '\0';
	return 0;
}

/* key: the text fmt makes; false when it is longer than HA_TEXT (never
 * cut: a unique id cut could be another's) or memory runs out. */
__attribute__((format(printf, 3, 4))) static bool
add_printf(cJSON *o, const char *key, const char *fmt, ...)
{
	char text[HA_TEXT];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < sizeof(text) &&
	       cJSON_AddStringToObject(o, key, text) != NULL;
}

/* {"topic": t, "value_template": online/offline from the JSON state} */
static bool ha_availability(cJSON *list, const char *topic)
{
	cJSON *a = cJSON_CreateObject();

	if (a == NULL || !cJSON_AddItemToArray(list, a)) {
		cJSON_Delete(a);
		return false;
	}
	return cJSON_AddStringToObject(a, "topic", topic) &&
	       cJSON_AddStringToObject(a, "value_template",
	                               "{{ 'online' if value_json.state == "
	                               "'online' else 'offline' }}");
}

/* The sensor of a channel's tolerance state, from the status topic. */
static bool ha_tolerance(cJSON *o, const char *site, const char *id,
                         const char *name, const char *status)
{
	const char *states[DRIFT_STATES];
	cJSON *opts;

	for (int k = 0; k < DRIFT_STATES; k++)
		states[k] = drift_state_word((enum drift_state)k);
	if (!add_printf(o, "name", "%s tolerance", name) ||
	    !add_printf(o, "unique_id", "metrolog/%s/%s/%s/tolerance", site, id,
	                name) ||
	    !cJSON_AddStringToObject(o, "state_topic", status) ||
	    !add_printf(o, "value_template",
	                "{{ value_json.tolerance['%s'] if value_json.tolerance "
	                "is defined and value_json.tolerance['%s'] is defined "
	                "else this.state }}",
	                name, name) ||
	    !cJSON_AddStringToObject(o, "device_class", "enum"))
		return false;
	opts = cJSON_CreateStringArray(states, DRIFT_STATES);
	if (opts == NULL || !cJSON_AddItemToObject(o, "options", opts)) {
		cJSON_Delete(opts);
		return false;
	}
	return true;
}

/* The sensor of a channel's value, from the readings topic. */
static bool ha_value(cJSON *o, const char *site, const char *id,
                     const struct cfg_channel *ch, const char *readings)
{
	return cJSON_AddStringToObject(o, "name", ch->name) &&
	       add_printf(o, "unique_id", "metrolog/%s/%s/%s", site, id,
	                  ch->name) &&
	       cJSON_AddStringToObject(o, "state_topic", readings) &&
	       add_printf(
	               o, "value_template",
	               "{{ value_json.channels['%s'].value if "
	               "value_json.channels['%s'] is defined else this.state "
	               "}}",
	               ch->name, ch->name) &&
	       (ch->unit[0] == '\0' ||
	        cJSON_AddStringToObject(o, "unit_of_measurement", ch->unit)) &&
	       cJSON_AddStringToObject(o, "state_class", "measurement");
}

/* The device: the instrument, with what the configuration says of it. */
static bool ha_device(cJSON *o, const char *site,
                      const struct cfg_instrument *in)
{
	char text[HA_TEXT];
	cJSON *dev = cJSON_AddObjectToObject(o, "device");
	cJSON *ids =
	        dev != NULL ? cJSON_AddArrayToObject(dev, "identifiers") : NULL;
	cJSON *id;
	int n = snprintf(text, sizeof(text), "metrolog/%s/%s", site, in->id);

	if (ids == NULL || n < 0 || (size_t)n >= sizeof(text))
		return false;
	id = cJSON_CreateString(text);
	if (id == NULL || !cJSON_AddItemToArray(ids, id)) {
		cJSON_Delete(id);
		return false;
	}
	return cJSON_AddStringToObject(dev, "name", in->id) &&
	       cJSON_AddStringToObject(dev, "manufacturer", "metrolog") &&
	       (in->model[0] == '\0' ||
	        cJSON_AddStringToObject(dev, "model", in->model)) &&
	       (in->serial[0] == '\0' ||
	        cJSON_AddStringToObject(dev, "serial_number", in->serial)) &&
	       (in->location[0] == '\0' ||
	        cJSON_AddStringToObject(dev, "suggested_area", in->location));
}

/* The discovery config of channel ch of instrument in: its value
 * (tolerance false) or its tolerance state (true), into topic and buf.
 * Returns the payload's length, or -1. */
int msg_ha_config(const struct msg_ha *h, const struct cfg_instrument *in,
                  const struct cfg_channel *ch, bool tolerance, char *topic,
                  size_t tsize, char *buf, size_t size)
{
	const char *site = h->site;
	char node[HA_ID], inst_id[HA_ID], ch_id[HA_ID], readings[MSG_TOPIC_MAX],
	        status[MSG_TOPIC_MAX];
	cJSON *o, *av;
	int n;

	if (ha_id(node, sizeof(node), site) < 0 ||
	    ha_id(inst_id, sizeof(inst_id), in->id) < 0 ||
	    ha_id(ch_id, sizeof(ch_id), ch->name) < 0)
		return -1;
	n = snprintf(topic, tsize, "%s/sensor/metrolog-%s/%s__%s%s/config",
	             h->ha_prefix, node, inst_id, ch_id,
	             tolerance ? "__tolerance" : "");
	if (n < 0 || (size_t)n >= tsize ||
	    msg_topic(readings, sizeof(readings), h->prefix, site, in->id,
	              "readings") < 0 ||
	    msg_topic(status, sizeof(status), h->prefix, site, in->id,
	              "status") < 0)
		return -1;
	o = cJSON_CreateObject();
	if (o == NULL ||
	    !(tolerance ? ha_tolerance(o, site, in->id, ch->name, status)
	                : ha_value(o, site, in->id, ch, readings)) ||
	    (av = cJSON_AddArrayToObject(o, "availability")) == NULL ||
	    !ha_availability(av, h->gateway_status) ||
	    !(tolerance || ha_availability(av, status)) ||
	    !cJSON_AddStringToObject(o, "availability_mode", "all") ||
	    !ha_device(o, site, in)) {
		cJSON_Delete(o);
		return -1;
	}
	return payload_print(o, buf, size);
}

/* ---- records on request ------------------------------------------------- */

struct msg_reply {
	cJSON *o;     /* the whole reply */
	cJSON *insts; /* its "instruments" */
	cJSON *cals;  /* the last instrument's "calibrations", NULL: none */
};

/* key: the ISO 8601 time us, null when us <= 0. */
static bool add_time(cJSON *o, const char *key, int64_t us)
{
	char iso[40];

	if (us <= 0)
		return cJSON_AddNullToObject(o, key) != NULL;
	utc_format(us, 6, iso, sizeof(iso));
	return cJSON_AddStringToObject(o, key, iso) != NULL;
}

/* key: s, null when s is "". */
static bool add_text(cJSON *o, const char *key, const char *s)
{
	return (s[0] != '\0' ? cJSON_AddStringToObject(o, key, s)
	                     : cJSON_AddNullToObject(o, key)) != NULL;
}

/* key: v exactly (text_shortest(): the fewest digits that read back as
 * v; cJSON's own printing may drop the last bit, its 15-digit text being
 * "close enough" to it), null when not finite. A record's hash is
 * recomputed from these numbers (docs/MQTT.md, calibrations). */
static bool add_number(cJSON *o, const char *key, double v)
{
	char text[40];

	if (text_shortest(v, false, text, sizeof(text)) < 0)
		return cJSON_AddNullToObject(o, key) != NULL;
	return cJSON_AddRawToObject(o, key, text) != NULL;
}

/* key: an id, null when id <= 0. */
static bool add_id(cJSON *o, const char *key, int64_t id)
{
	return (id > 0 ? cJSON_AddNumberToObject(o, key, (double)id)
	               : cJSON_AddNullToObject(o, key)) != NULL;
}

/* key: the decision's name (enum drift_decision), null when d < 0. */
static bool add_decision(cJSON *o, const char *key, int d)
{
	return (d >= 0 ? cJSON_AddStringToObject(
	                         o, key,
	                         drift_decision_name((enum drift_decision)d))
	               : cJSON_AddNullToObject(o, key)) != NULL;
}

/* key: the request's correlation, null when none. */
static bool add_correlation(cJSON *o, const char *correlation)
{
	return (correlation != NULL
	                ? cJSON_AddStringToObject(o, "correlation", correlation)
	                : cJSON_AddNullToObject(o, "correlation")) != NULL;
}

/* A new object appended to the array list, or NULL. */
static cJSON *append_object(cJSON *list)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || !cJSON_AddItemToArray(list, o)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

struct msg_reply *msg_reply_new(const struct msg_reply_head *h)
{
	struct msg_reply *r = calloc(1, sizeof(*r));
	cJSON *o = cJSON_CreateObject();

	if (r == NULL || o == NULL ||
	    !cJSON_AddStringToObject(o, "status", "ok") ||
	    !cJSON_AddStringToObject(o, "enterprise", h->enterprise) ||
	    !add_time(o, "generated", h->generated_us) ||
	    !add_correlation(o, h->correlation) ||
	    !cJSON_AddStringToObject(o, "chain_head", h->chain_head) ||
	    !cJSON_AddBoolToObject(o, "chain_intact", h->chain_intact) ||
	    (r->insts = cJSON_AddArrayToObject(o, "instruments")) == NULL) {
		cJSON_Delete(o);
		free(r);
		return NULL;
	}
	r->o = o;
	return r;
}

void msg_reply_free(struct msg_reply *r)
{
	if (r == NULL)
		return;
	cJSON_Delete(r->o);
	free(r);
}

int msg_reply_instrument(struct msg_reply *r, const struct msg_instrument *in)
{
	cJSON *o = append_object(r->insts);

	r->cals = NULL;
	if (o == NULL || !cJSON_AddStringToObject(o, "instrument", in->name) ||
	    !cJSON_AddStringToObject(o, "kind", in->kind) ||
	    !add_text(o, "model", in->model) ||
	    !add_text(o, "serial", in->serial) ||
	    !add_text(o, "location", in->location) ||
	    !add_time(o, "due", in->due_us) ||
	    !cJSON_AddStringToObject(o, "due_state",
	                             calib_due_name((enum calib_due)in->due)))
		return -1;
	r->cals = cJSON_AddArrayToObject(o, "calibrations");
	return r->cals != NULL ? 0 : -1;
}

/* rec's "points": quantity, unit, the numbers (null: not finite) and the
 * two decisions of each. */
static bool add_points(cJSON *c, const struct calib_record *rec)
{
	cJSON *pts = cJSON_AddArrayToObject(c, "points");
	bool ok = pts != NULL;

	for (int i = 0; ok && i < rec->npoints; i++) {
		const struct calib_point *p = &rec->points[i];
		cJSON *o = append_object(pts);
		ok = o != NULL &&
		     cJSON_AddStringToObject(o, "quantity", p->quantity) &&
		     cJSON_AddStringToObject(o, "unit", p->unit) &&
		     add_number(o, "reference", p->reference) &&
		     add_number(o, "as_found", p->as_found) &&
		     add_number(o, "as_left", p->as_left) &&
		     add_number(o, "lower", p->lower) &&
		     add_number(o, "upper", p->upper) &&
		     add_number(o, "U", p->U) && add_number(o, "k", p->k) &&
		     add_decision(o, "as_found_decision", p->found) &&
		     add_decision(o, "as_left_decision", p->left);
	}
	return ok;
}

/* The fields of rec a records reply carries (docs/MQTT.md), into c. */
static bool record_fields(cJSON *c, const struct calib_record *rec,
                          int64_t superseded_by)
{
	return cJSON_AddNumberToObject(c, "record", (double)rec->id) &&
	       cJSON_AddStringToObject(c, "certificate", rec->certificate) &&
	       add_time(c, "performed", rec->performed_us) &&
	       add_time(c, "issued", rec->issued_us) &&
	       add_time(c, "due", rec->due_us) &&
	       add_text(c, "standard", rec->standard) &&
	       add_text(c, "standard_certificate", rec->standard_cert) &&
	       cJSON_AddBoolToObject(c, "standard_overdue",
	                             rec->standard_overdue) &&
	       cJSON_AddStringToObject(c, "rule",
	                               rec->rule == CALIB_RULE_GUARDED
	                                       ? "guarded"
	                                       : "simple") &&
	       cJSON_AddNumberToObject(
	               c, "rule_version",
	               rec->rule_version >= 2 ? rec->rule_version : 1) &&
	       add_decision(c, "result_as_found", rec->result_found) &&
	       add_decision(c, "result_as_left", rec->result_left) &&
	       add_id(c, "supersedes", rec->supersedes) &&
	       add_id(c, "superseded_by", superseded_by) &&
	       cJSON_AddStringToObject(c, "hash", rec->hash) &&
	       add_points(c, rec);
}

int msg_reply_record(struct msg_reply *r, const struct calib_record *rec,
                     int64_t superseded_by)
{
	cJSON *c = r->cals != NULL ? append_object(r->cals) : NULL;

	return c != NULL && record_fields(c, rec, superseded_by) ? 0 : -1;
}

/* The rest of a record's fields, for the whole record (msg_certificate). */
static bool record_rest(cJSON *c, const struct calib_record *r)
{
	return cJSON_AddStringToObject(c, "instrument", r->instrument) &&
	       cJSON_AddNumberToObject(c, "interval_days", r->interval_days) &&
	       add_time(c, "standard_due", r->standard_due_us) &&
	       add_text(c, "standard_reason", r->standard_reason) &&
	       add_text(c, "lab", r->lab) &&
	       add_text(c, "lab_address", r->lab_address) &&
	       add_text(c, "lab_accreditation", r->lab_accreditation) &&
	       add_text(c, "customer", r->customer) &&
	       add_text(c, "customer_address", r->customer_address) &&
	       add_text(c, "customer_contact", r->customer_contact) &&
	       add_text(c, "customer_id", r->customer_id) &&
	       add_text(c, "model", r->model) &&
	       add_text(c, "location", r->location) &&
	       add_text(c, "item_condition", r->item_condition) &&
	       add_time(c, "received", r->received_us) &&
	       add_text(c, "method", r->method) &&
	       add_text(c, "specification", r->specification) &&
	       add_text(c, "deviations", r->deviations) &&
	       add_text(c, "conditions", r->conditions) &&
	       add_text(c, "technician", r->technician) &&
	       add_text(c, "authorised", r->authorised) &&
	       add_text(c, "remarks", r->remarks) &&
	       add_text(c, "amendment", r->amendment) &&
	       add_number(c, "guard_factor", r->guard_factor) &&
	       add_number(c, "min_tur", r->min_tur) &&
	       add_number(c, "max_risk", r->max_risk) &&
	       cJSON_AddStringToObject(c, "prev_hash", r->prev_hash);
}

/* "approval": ap's fields, or null (ap->id 0: a draft). */
static bool add_approval(cJSON *c, const struct calib_approval *ap)
{
	cJSON *o;

	if (ap->id <= 0)
		return cJSON_AddNullToObject(c, "approval") != NULL;
	o = cJSON_AddObjectToObject(c, "approval");
	return o != NULL &&
	       cJSON_AddNumberToObject(o, "approval", (double)ap->id) &&
	       add_time(o, "approved", ap->approved_us) &&
	       cJSON_AddStringToObject(o, "approver", ap->approver) &&
	       add_text(o, "role", ap->role) &&
	       cJSON_AddStringToObject(o, "record_hash", ap->record_hash) &&
	       cJSON_AddStringToObject(o, "prev_hash", ap->prev_hash) &&
	       cJSON_AddStringToObject(o, "hash", ap->hash);
}

char *msg_certificate(const struct msg_certificate *m, size_t *len)
{
	const struct calib_record *r = m->rec;
	cJSON *o = cJSON_CreateObject();
	char qr[CALIB_QR];
	char *text = NULL;

	*len = 0;
	calib_qr(r, qr, sizeof(qr));
	if (o != NULL &&
	    cJSON_AddStringToObject(o, "format", "metrolog-certificate") &&
	    cJSON_AddNumberToObject(o, "format_version", 1) &&
	    record_fields(o, r, m->superseded_by) && record_rest(o, r) &&
	    add_text(o, "supersedes_certificate", m->replaces) &&
	    add_text(o, "superseded_by_certificate", m->replaced_by) &&
	    add_approval(o, m->approval) &&
	    cJSON_AddStringToObject(o, "qr", qr)) {
		struct msg_reply whole = {.o = o};
		text = msg_reply_text(&whole, len);
	}
	cJSON_Delete(o);
	return text;
}

/* o printed on one line, made valid UTF-8 (as payload_utf8()), on the
 * heap for msg_text_free(), its length in *len; NULL when memory runs
 * out. o is not freed. */
static char *heap_text(const cJSON *o, size_t *len)
{
	char *text = cJSON_PrintUnformatted(o), *fixed, why[64];
	size_t need;

	*len = 0;
	if (text == NULL)
		return NULL;
	if (text_utf8(text, why, sizeof(why)) < 0) { /* as payload_utf8() */
		need = text_utf8_repair(NULL, 0, text);
		fixed = cJSON_malloc(need + 1);
		if (fixed != NULL)
			text_utf8_repair(fixed, need + 1, text);
		cJSON_free(text);
		text = fixed;
	}
	*len = text != NULL ? strlen(text) : 0;
	return text;
}

char *msg_reply_text(const struct msg_reply *r, size_t *len)
{
	return heap_text(r->o, len);
}

void msg_text_free(char *text)
{
	cJSON_free(text);
}

/* {"status":"error","error":...,"correlation":...}, or NULL. */
static cJSON *error_object(const char *error, const char *correlation)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || !cJSON_AddStringToObject(o, "status", "error") ||
	    !cJSON_AddStringToObject(o, "error", error) ||
	    !add_correlation(o, correlation)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int msg_reply_error(char *buf, size_t size, const char *error,
                    const char *correlation)
{
	return payload_print(error_object(error, correlation), buf, size);
}

int msg_reply_busy(char *buf, size_t size, const char *error,
                   const char *correlation, int retry_after_s)
{
	cJSON *o = error_object(error, correlation);

	if (o != NULL && !cJSON_AddNumberToObject(o, "retry_after_s",
	                                          (double)retry_after_s)) {
		cJSON_Delete(o);
		return -1;
	}
	return payload_print(o, buf, size);
}

/* ---- calibration records published in full ------------------------------ */

/* key: the ISO 8601 time us, null when 0 (add_time() for any other). */
static bool add_exact_time(cJSON *o, const char *key, int64_t us)
{
	char iso[40];

	if (us == 0)
		return cJSON_AddNullToObject(o, key) != NULL;
	utc_format(us, 6, iso, sizeof(iso));
	return cJSON_AddStringToObject(o, key, iso) != NULL;
}

/* The fields of rec that say who, what, where (every string as it is). */
static bool add_record_texts(cJSON *c, const struct calib_record *r)
{
	const struct {
		const char *key, *v;
	} t[] = {
	        {"certificate", r->certificate},
	        {"prev_hash", r->prev_hash},
	        {"hash", r->hash},
	        {"standard", r->standard},
	        {"standard_certificate", r->standard_cert},
	        {"lab", r->lab},
	        {"lab_address", r->lab_address},
	        {"lab_accreditation", r->lab_accreditation},
	        {"customer", r->customer},
	        {"customer_address", r->customer_address},
	        {"customer_contact", r->customer_contact},
	        {"customer_id", r->customer_id},
	        {"model", r->model},
	        {"location", r->location},
	        {"item_condition", r->item_condition},
	        {"method", r->method},
	        {"specification", r->specification},
	        {"conditions", r->conditions},
	        {"deviations", r->deviations},
	        {"technician", r->technician},
	        {"authorised", r->authorised},
	        {"remarks", r->remarks},
	        {"standard_reason", r->standard_reason},
	        {"amendment", r->amendment},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!cJSON_AddStringToObject(c, t[i].key, t[i].v))
			return false;
	return true;
}

char *msg_cal_record(int64_t seq, int64_t ts_us, const struct calib_record *r,
                     size_t *len)
{
	cJSON *c = payload_head(seq, ts_us, r->instrument);
	char *text = NULL;
	bool ok;

	*len = 0;
	ok = c != NULL && cJSON_AddStringToObject(c, "type", "record") &&
	     cJSON_AddNumberToObject(c, "record", (double)r->id) &&
	     cJSON_AddNumberToObject(c, "rule_version",
	                             r->rule_version >= 2 ? r->rule_version
	                                                  : 1) &&
	     add_record_texts(c, r) && add_id(c, "supersedes", r->supersedes) &&
	     add_exact_time(c, "issued", r->issued_us) &&
	     add_exact_time(c, "performed", r->performed_us) &&
	     add_exact_time(c, "received", r->received_us) &&
	     cJSON_AddNumberToObject(c, "interval_days", r->interval_days) &&
	     add_exact_time(c, "due", r->due_us) &&
	     add_exact_time(c, "standard_due", r->standard_due_us) &&
	     cJSON_AddBoolToObject(c, "standard_overdue",
	                           r->standard_overdue) &&
	     cJSON_AddStringToObject(
	             c, "rule",
	             r->rule == CALIB_RULE_GUARDED ? "guarded" : "simple") &&
	     add_number(c, "guard_factor", r->guard_factor) &&
	     add_number(c, "min_tur", r->min_tur) &&
	     add_number(c, "max_risk", r->max_risk) &&
	     add_decision(c, "result_as_found", r->result_found) &&
	     add_decision(c, "result_as_left", r->result_left) &&
	     add_points(c, r);
	if (ok)
		text = heap_text(c, len);
	cJSON_Delete(c);
	return text;
}

char *msg_cal_approval(int64_t seq, int64_t ts_us, const char *instrument,
                       const char *certificate, const struct calib_approval *a,
                       size_t *len)
{
	cJSON *c = payload_head(seq, ts_us, instrument);
	char *text = NULL;
	bool ok;

	*len = 0;
	ok = c != NULL && cJSON_AddStringToObject(c, "type", "approval") &&
	     cJSON_AddNumberToObject(c, "approval", (double)a->id) &&
	     cJSON_AddNumberToObject(c, "record", (double)a->calibration_id) &&
	     cJSON_AddStringToObject(c, "certificate", certificate) &&
	     cJSON_AddStringToObject(c, "record_hash", a->record_hash) &&
	     add_exact_time(c, "approved", a->approved_us) &&
	     cJSON_AddStringToObject(c, "approver", a->approver) &&
	     cJSON_AddStringToObject(c, "role", a->role) &&
	     cJSON_AddStringToObject(c, "prev_hash", a->prev_hash) &&
	     cJSON_AddStringToObject(c, "hash", a->hash);
	if (ok)
		text = heap_text(c, len);
	cJSON_Delete(c);
	return text;
}

/* ---- replays ------------------------------------------------------------ */

int msg_replay_mark(char *buf, size_t size, const char *payload, size_t len)
{
	static const char tail[] = ",\"historical\":true,\"replay\":true}";

	if (len < 2 || payload[len - 1] != '}' || len - 1 + sizeof(tail) > size)
		return -1;
	memcpy(buf, payload, len - 1);
	memcpy(buf + len - 1, tail, sizeof(tail)); /* with the NUL */
	return (int)(len - 1 + sizeof(tail) - 1);
}

/* [from, to] appended to list (seqs are exact as JSON numbers: below
 * 2^53). */
static bool add_range(cJSON *list, const struct msg_replay_range *g)
{
	cJSON *a = cJSON_CreateArray();

	if (a == NULL || !cJSON_AddItemToArray(list, a)) {
		cJSON_Delete(a);
		return false;
	}
	return cJSON_AddItemToArray(a, cJSON_CreateNumber((double)g->from)) &&
	       cJSON_AddItemToArray(a, cJSON_CreateNumber((double)g->to));
}

static bool add_missing(cJSON *list, const struct msg_replay_range *g)
{
	cJSON *o = append_object(list);

	return o != NULL && add_id(o, "from", g->from) &&
	       add_id(o, "to", g->to) &&
	       cJSON_AddStringToObject(o, "reason", g->reason) &&
	       add_time(o, "ts_from", g->ts_from) &&
	       add_time(o, "ts_to", g->ts_to);
}

char *msg_replay_reply(const struct msg_replay_reply *r, size_t *len)
{
	cJSON *o = cJSON_CreateObject(), *sent, *missing;
	char *text = NULL;
	bool ok = o != NULL && cJSON_AddStringToObject(o, "status", "ok") &&
	          add_id(o, "from", r->from) && add_id(o, "to", r->to) &&
	          add_correlation(o, r->correlation) &&
	          (sent = cJSON_AddArrayToObject(o, "sent")) != NULL &&
	          (missing = cJSON_AddArrayToObject(o, "missing")) != NULL;

	for (size_t i = 0; ok && i < r->nsent; i++)
		ok = add_range(sent, &r->sent[i]);
	for (size_t i = 0; ok && i < r->nmissing; i++)
		ok = add_missing(missing, &r->missing[i]);
	if (ok)
		text = heap_text(o, len);
	cJSON_Delete(o);
	return text;
}
