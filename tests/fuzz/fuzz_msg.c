/*
 * fuzz_msg.c - libFuzzer target for the payload builders of metrologd
 * (core/msg.c, docs/MQTT.md): names, units, certificates and values come
 * from the configuration, the bus and the calibration records, so any of
 * them may be long, odd or not finite.
 *
 * Input: the first byte picks the builder (readings, event, tolerance,
 * status, calibration, gateway status, Home Assistant config, topic, the
 * records reply, the error reply), the next two the size of the buffer
 * (allocated to exactly that size, so that ASan sees a byte written past
 * it); then, as the builder asks for them, strings (a length byte and as
 * many bytes, cut at a NUL as C cuts them), numbers (8 raw bytes: any
 * double, NaN and infinities included; any int64_t), counts and flags (a
 * byte each). Past the input's end every byte is 0.
 *
 * Checked: the builder returns -1 or a length n < size with buf[n] the
 * first NUL; that text is valid UTF-8 whatever the strings given (cJSON
 * does not check it: utf8_ok() here does) and parses with cJSON as an
 * object; every string put in comes back identical in its place when it
 * is valid UTF-8 (and is a string there anyway, repaired); a number that is not
 * finite is null, a finite one a number equal to it within cJSON's rounding (a
 * part in 2^51); a topic is what its parts joined make, or -1 when that does
 * not fit; a readings payload is byte for byte the one the cJSON path
 * it replaced printed (tests/msg_readings_ref.h), or -1 as it was.
 */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../msg_readings_ref.h"
#include "calib.h"
#include "config.h"
#include "fuzz.h"
#include "msg.h"
#include "utc.h"

#define MAX_ITEMS 6 /* channels, instruments, records, points */

/* ---- the input ---------------------------------------------------------- */

struct input {
	const uint8_t *d;
	size_t n;
	char arena[1 << 16]; /* the strings taken, NUL-terminated */
	size_t used;
};

static unsigned take_u8(struct input *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->d++;
}

static uint64_t take_u64(struct input *in)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | take_u8(in);
	return v;
}

static int64_t take_i64(struct input *in)
{
	return (int64_t)take_u64(in);
}

static double take_double(struct input *in)
{
	uint64_t u = take_u64(in);
	double v;

	memcpy(&v, &u, sizeof(v));
	return v;
}

static const char *take_str(struct input *in)
{
	size_t len = take_u8(in);
	char *s = in->arena + in->used;

	if (in->used + len + 1 > sizeof(in->arena))
		return "";
	for (size_t i = 0; i < len; i++)
		s[i] = (char)take_u8(in);
	s[len] = '\0';
	in->used += strlen(s) + 1;
	return s;
}

/* A string, or NULL when the flag byte before it is odd. */
static const char *take_str_or_null(struct input *in)
{
	return take_u8(in) & 1 ? NULL : take_str(in);
}

/* ---- checks ------------------------------------------------------------- */

/* Is s UTF-8 (no overlong form, no surrogate, at most U+10FFFF)? */
static bool utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != 0) {
		unsigned c = *p, len = c < 0x80   ? 1
		                       : c < 0xC2 ? 0
		                       : c < 0xE0 ? 2
		                       : c < 0xF0 ? 3
		                       : c < 0xF5 ? 4
		                                  : 0;
		unsigned cp = c & (0xFF >> (len + 1));
		if (len == 0)
			return false;
		for (unsigned i = 1; i < len; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3F);
		}
		if ((len == 3 &&
		     (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
			return false;
		p += len;
	}
	return true;
}

static const cJSON *get(const cJSON *o, const char *key)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, key);

	CHECK(m != NULL);
	return m;
}

/* m is a string, want itself when want is UTF-8. */
static void same(const cJSON *m, const char *want)
{
	CHECK(cJSON_IsString(m));
	if (utf8_ok(want))
		CHECK(strcmp(m->valuestring, want) == 0);
}

/* o's key is want, or null when want is NULL. */
static void str_at(const cJSON *o, const char *key, const char *want)
{
	const cJSON *m = get(o, key);

	if (want == NULL)
		CHECK(cJSON_IsNull(m));
	else
		same(m, want);
}

/* o's key is want, or null when want is "". */
static void text_at(const cJSON *o, const char *key, const char *want)
{
	str_at(o, key, want[0] != '\0' ? want : NULL);
}

/* o's key is v (within cJSON's rounding), or null when v is not finite. */
static void num_at(const cJSON *o, const char *key, double v)
{
	const cJSON *m = get(o, key);

	if (!isfinite(v)) {
		CHECK(cJSON_IsNull(m));
		return;
	}
	CHECK(cJSON_IsNumber(m));
	CHECK(m->valuedouble == v ||
	      fabs(m->valuedouble - v) <= fabs(v) * 2 * DBL_EPSILON);
}

/* o's key is the ISO time of us, or null when us <= 0 and nullable. */
static void time_at(const cJSON *o, const char *key, int64_t us, bool nullable)
{
	char iso[40];

	if (nullable && us <= 0) {
		CHECK(cJSON_IsNull(get(o, key)));
		return;
	}
	utc_format(us, 6, iso, sizeof(iso));
	same(get(o, key), iso);
}

static void bool_at(const cJSON *o, const char *key, bool want)
{
	const cJSON *m = get(o, key);

	CHECK(cJSON_IsBool(m) && cJSON_IsTrue(m) == want);
}

/* The length n returned into buf of size: -1, or the text parsed (NULL
 * after -1; cJSON_Delete() it). */
static cJSON *parsed(const char *buf, size_t size, int n)
{
	cJSON *o;
	const char *end = NULL;

	if (n < 0) {
		CHECK(n == -1);
		return NULL;
	}
	CHECK((size_t)n < size && buf[n] == '\0' && strlen(buf) == (size_t)n);
	CHECK(utf8_ok(buf)); /* whatever the strings given (msg.h) */
	o = cJSON_ParseWithOpts(buf, &end, 1);
	CHECK(o != NULL && cJSON_IsObject(o));
	return o;
}

/* seq, ts, ts_ms, instrument. */
static void head_at(const cJSON *o, int64_t seq, int64_t ts,
                    const char *instrument)
{
	num_at(o, "seq", (double)seq);
	time_at(o, "ts", ts, false);
	num_at(o, "ts_ms", (double)(ts / 1000));
	str_at(o, "instrument", instrument);
}

/* ---- the outbox payloads ------------------------------------------------ */

/* What readings says of v at digits, as msg.c rounds it. */
static double rounded(double v, int digits)
{
	char text[32];

	if (digits <= 0 || digits >= 17 || !isfinite(v))
		return v;
	snprintf(text, sizeof(text), "%.*g", digits, v);
	return strtod(text, NULL);
}

static void readings(struct input *in, char *buf, size_t size)
{
	struct msg_channel ch[MAX_ITEMS];
	int64_t seq = take_i64(in), ts = take_i64(in);
	const char *inst = take_str(in);
	size_t n = take_u8(in) % (MAX_ITEMS + 1);
	const cJSON *chans;
	cJSON *o;

	for (size_t i = 0; i < n; i++) {
		ch[i].name = take_str(in);
		ch[i].unit = take_str(in);
		ch[i].value = take_double(in);
		ch[i].quality = (int)(take_u8(in) % 8);
		ch[i].digits = (int)(take_u8(in) % 20);
	}
	/* byte for byte what the cJSON path printed, or -1 as it did */
	char *want = malloc(size > 0 ? size : 1);
	int len = msg_readings(buf, size, seq, ts, inst, ch, n);
	CHECK(want != NULL);
	CHECK(len == ref_readings(want, size, seq, ts, inst, ch, n));
	CHECK(len < 0 || memcmp(buf, want, (size_t)len + 1) == 0);
	free(want);
	o = parsed(buf, size, len);
	if (o == NULL)
		return;
	head_at(o, seq, ts, inst);
	chans = get(o, "channels");
	CHECK(cJSON_IsObject(chans) && cJSON_GetArraySize(chans) == (int)n);
	for (size_t i = 0; i < n; i++) {
		const cJSON *c = cJSON_GetArrayItem(chans, (int)i);
		if (utf8_ok(ch[i].name))
			CHECK(strcmp(c->string, ch[i].name) == 0);
		str_at(c, "unit", ch[i].unit);
		CHECK(cJSON_IsString(get(c, "quality")));
		num_at(c, "value",
		       ch[i].quality == 0 ? rounded(ch[i].value, ch[i].digits)
		                          : NAN);
	}
	cJSON_Delete(o);
}

static void event(struct input *in, char *buf, size_t size)
{
	int64_t seq = take_i64(in), ts = take_i64(in);
	const char *inst = take_str(in), *kind = take_str(in),
	           *reason = take_str_or_null(in);
	cJSON *o = parsed(buf, size,
	                  msg_event(buf, size, seq, ts, inst, kind, reason));

	if (o == NULL)
		return;
	head_at(o, seq, ts, inst);
	str_at(o, "event", kind);
	str_at(o, "reason", reason);
	cJSON_Delete(o);
}

static void tolerance(struct input *in, char *buf, size_t size)
{
	int64_t seq = take_i64(in), ts = take_i64(in);
	const char *inst = take_str(in);
	struct msg_tol t;
	cJSON *o;

	t.kind = take_str(in);
	t.channel = take_str(in);
	t.unit = take_str(in);
	t.from = take_str_or_null(in);
	t.to = take_str_or_null(in);
	t.detail = take_str(in);
	t.error = take_double(in);
	t.lower = take_double(in);
	t.upper = take_double(in);
	o = parsed(buf, size, msg_tolerance(buf, size, seq, ts, inst, &t));
	if (o == NULL)
		return;
	head_at(o, seq, ts, inst);
	str_at(o, "event", t.kind);
	str_at(o, "channel", t.channel);
	str_at(o, "from", t.from);
	str_at(o, "to", t.to);
	num_at(o, "error", t.error);
	str_at(o, "unit", t.unit);
	num_at(o, "lower", t.lower);
	num_at(o, "upper", t.upper);
	str_at(o, "detail", t.detail);
	cJSON_Delete(o);
}

static void take_cal(struct input *in, struct msg_calstate *cal)
{
	cal->state = take_str(in);
	cal->due_us = take_i64(in);
	cal->certificate = take_str(in);
	cal->reference_overdue = take_u8(in) & 1;
}

static void cal_at(const cJSON *o, const struct msg_calstate *cal)
{
	const cJSON *c = get(o, "calibration");

	str_at(c, "state", cal->state);
	time_at(c, "due", cal->due_us, true);
	if (cal->due_us > 0)
		num_at(c, "due_ms", (double)(cal->due_us / 1000));
	else
		CHECK(cJSON_IsNull(get(c, "due_ms")));
	text_at(c, "certificate", cal->certificate);
	bool_at(c, "reference_overdue", cal->reference_overdue);
}

static void status(struct input *in, char *buf, size_t size)
{
	struct msg_chstate ch[MAX_ITEMS];
	int64_t seq = take_i64(in), ts = take_i64(in);
	const char *inst = take_str(in), *state = take_str_or_null(in),
	           *reason = take_str_or_null(in);
	size_t n = take_u8(in) % (MAX_ITEMS + 1);
	bool has_cal = take_u8(in) & 1;
	struct msg_calstate cal;
	cJSON *o;

	take_cal(in, &cal);
	for (size_t i = 0; i < n; i++) {
		ch[i].channel = take_str(in);
		ch[i].state = take_str(in);
	}
	o = parsed(buf, size,
	           msg_status(buf, size, seq, ts, inst, state, reason, ch, n,
	                      has_cal ? &cal : NULL));
	if (o == NULL)
		return;
	head_at(o, seq, ts, inst);
	str_at(o, "state", state);
	str_at(o, "reason", reason);
	CHECK((n > 0) == cJSON_HasObjectItem(o, "tolerance"));
	for (size_t i = 0; i < n; i++) {
		const cJSON *c =
		        cJSON_GetArrayItem(get(o, "tolerance"), (int)i);
		if (utf8_ok(ch[i].channel))
			CHECK(strcmp(c->string, ch[i].channel) == 0);
		same(c, ch[i].state);
	}
	CHECK(has_cal == cJSON_HasObjectItem(o, "calibration"));
	if (has_cal)
		cal_at(o, &cal);
	cJSON_Delete(o);
}

static void calibration(struct input *in, char *buf, size_t size)
{
	int64_t seq = take_i64(in), ts = take_i64(in);
	const char *inst = take_str(in), *from = take_str(in),
	           *to = take_str(in), *detail = take_str(in);
	struct msg_calstate cal;
	cJSON *o;

	take_cal(in, &cal);
	o = parsed(buf, size,
	           msg_calibration(buf, size, seq, ts, inst, from, to, &cal,
	                           detail));
	if (o == NULL)
		return;
	head_at(o, seq, ts, inst);
	str_at(o, "event", "calibration");
	str_at(o, "from", from);
	str_at(o, "to", to);
	cal_at(o, &cal);
	str_at(o, "detail", detail);
	cJSON_Delete(o);
}

static void gateway(struct input *in, char *buf, size_t size)
{
	const char *state = take_str(in), *reason = take_str_or_null(in),
	           *client = take_str(in);
	const struct msg_gwstatus s = {state,        reason,       take_i64(in),
	                               take_i64(in), take_i64(in), client,
	                               take_i64(in), take_i64(in)};
	cJSON *o = parsed(buf, size, msg_gateway_status(buf, size, &s));

	if (o == NULL)
		return;
	str_at(o, "state", state);
	str_at(o, "reason", reason);
	time_at(o, "ts", s.now_us, false);
	num_at(o, "ts_ms", (double)(s.now_us / 1000));
	num_at(o, "outbox", (double)s.rows);
	CHECK(cJSON_IsNumber(get(o, "oldest_age_s")) &&
	      get(o, "oldest_age_s")->valuedouble >= 0);
	str_at(o, "client_id", client);
	time_at(o, "connected", s.connected_us, false);
	num_at(o, "last_seq", (double)s.last_seq);
	cJSON_Delete(o);
}

/* ---- Home Assistant, topics --------------------------------------------- */

/* s as msg.c's Home Assistant ids write it: A-Z a-z 0-9 - as they are,
 * any other byte as _XX; appended to out. */
static void ha_id(char *out, size_t size, const char *s)
{
	size_t n = strlen(out);

	for (; *s != '\0' && n + 4 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-')
			out[n++] = (char)c;
		else
			n += (size_t)snprintf(out + n, size - n, "_%02X", c);
	}
	out[n] = '\0';
}

/* The config's strings that name things: name, unique_id, state_topic,
 * the device. */
static void ha_names(const cJSON *o, const struct msg_ha *h,
                     const struct cfg_instrument *ci,
                     const struct cfg_channel *cc, bool tol)
{
	char want[4096];
	const cJSON *dev = get(o, "device");

	snprintf(want, sizeof(want), "%s%s", cc->name, tol ? " tolerance" : "");
	str_at(o, "name", want);
	snprintf(want, sizeof(want), "metrolog/%s/%s/%s%s", h->site, ci->id,
	         cc->name, tol ? "/tolerance" : "");
	str_at(o, "unique_id", want);
	snprintf(want, sizeof(want), "%s/%s/%s/%s", h->prefix, h->site, ci->id,
	         tol ? "status" : "readings");
	str_at(o, "state_topic", want);
	CHECK(tol || cc->unit[0] == '\0' ||
	      cJSON_HasObjectItem(o, "unit_of_measurement"));
	if (!tol && cc->unit[0] != '\0')
		str_at(o, "unit_of_measurement", cc->unit);
	snprintf(want, sizeof(want), "metrolog/%s/%s", h->site, ci->id);
	same(cJSON_GetArrayItem(get(dev, "identifiers"), 0), want);
	str_at(dev, "name", ci->id);
	CHECK((ci->model[0] != '\0') == cJSON_HasObjectItem(dev, "model"));
	if (ci->model[0] != '\0')
		str_at(dev, "model", ci->model);
	if (ci->serial[0] != '\0')
		str_at(dev, "serial_number", ci->serial);
	if (ci->location[0] != '\0')
		str_at(dev, "suggested_area", ci->location);
}

static void ha(struct input *in, char *buf, size_t size)
{
	struct msg_ha h;
	struct cfg_instrument ci = {0};
	struct cfg_channel cc = {0};
	bool tol;
	size_t tsize;
	char *topic, want[4096];
	cJSON *o;

	h.ha_prefix = take_str(in);
	h.prefix = take_str(in);
	h.site = take_str(in);
	h.gateway_status = take_str(in);
	ci.id = (char *)take_str(in);
	ci.model = (char *)take_str(in);
	ci.serial = (char *)take_str(in);
	ci.location = (char *)take_str(in);
	cc.name = (char *)take_str(in);
	cc.unit = (char *)take_str(in);
	tol = take_u8(in) & 1;
	tsize = take_u8(in) * 4;
	topic = malloc(tsize > 0 ? tsize : 1);
	CHECK(topic != NULL);
	o = parsed(buf, size,
	           msg_ha_config(&h, &ci, &cc, tol, topic, tsize, buf, size));
	if (o != NULL) {
		/* the topic: distinct names, distinct topics */
		snprintf(want, sizeof(want), "%s/sensor/metrolog-",
		         h.ha_prefix);
		ha_id(want, sizeof(want), h.site);
		strcat(want, "/");
		ha_id(want, sizeof(want), ci.id);
		strcat(want, "__");
		ha_id(want, sizeof(want), cc.name);
		strcat(want, tol ? "__tolerance/config" : "/config");
		CHECK(strcmp(topic, want) == 0);
		ha_names(o, &h, &ci, &cc, tol);
		cJSON_Delete(o);
	}
	free(topic);
}

static void topic(struct input *in, char *buf, size_t size)
{
	const char *prefix = take_str(in), *site = take_str(in),
	           *leaf1 = take_str(in), *leaf2 = take_str_or_null(in);
	char want[2048];
	int n = leaf2 != NULL ? snprintf(want, sizeof(want), "%s/%s/%s/%s",
	                                 prefix, site, leaf1, leaf2)
	                      : snprintf(want, sizeof(want), "%s/%s/%s", prefix,
	                                 site, leaf1);

	if (msg_topic(buf, size, prefix, site, leaf1, leaf2) == 0)
		CHECK((size_t)n < size && strcmp(buf, want) == 0);
	else
		CHECK((size_t)n >= size);
}

/* ---- records on request ------------------------------------------------- */

static void take_array(struct input *in, char *dst, size_t size)
{
	snprintf(dst, size, "%s", take_str(in));
}

/* A record from the input into rec. */
static void take_record(struct input *in, struct calib_record *rec)
{
	rec->id = take_i64(in);
	take_array(in, rec->certificate, sizeof(rec->certificate));
	rec->performed_us = take_i64(in);
	rec->issued_us = take_i64(in);
	rec->due_us = take_i64(in);
	take_array(in, rec->standard, sizeof(rec->standard));
	take_array(in, rec->standard_cert, sizeof(rec->standard_cert));
	rec->standard_overdue = take_u8(in) & 1;
	rec->rule = take_u8(in) & 1 ? CALIB_RULE_GUARDED : CALIB_RULE_SIMPLE;
	rec->result_found = (int)(take_u8(in) % 5) - 1;
	rec->result_left = (int)(take_u8(in) % 5) - 1;
	rec->supersedes = take_i64(in);
	take_array(in, rec->hash, sizeof(rec->hash));
	rec->npoints = (int)(take_u8(in) % (MAX_ITEMS + 1));
	for (int i = 0; i < rec->npoints; i++) {
		struct calib_point *p = &rec->points[i];
		take_array(in, p->quantity, sizeof(p->quantity));
		take_array(in, p->unit, sizeof(p->unit));
		p->reference = take_double(in);
		p->as_found = take_double(in);
		p->as_left = take_double(in);
		p->lower = take_double(in);
		p->upper = take_double(in);
		p->U = take_double(in);
		p->k = take_double(in);
		p->found = (int)(take_u8(in) % 5) - 1;
		p->left = (int)(take_u8(in) % 5) - 1;
	}
}

static void id_at(const cJSON *o, const char *key, int64_t id)
{
	num_at(o, key, id > 0 ? (double)id : NAN);
}

static void record_at(const cJSON *c, const struct calib_record *rec,
                      int64_t by)
{
	const cJSON *pts = get(c, "points");

	num_at(c, "record", (double)rec->id);
	str_at(c, "certificate", rec->certificate);
	time_at(c, "performed", rec->performed_us, true);
	time_at(c, "issued", rec->issued_us, true);
	time_at(c, "due", rec->due_us, true);
	text_at(c, "standard", rec->standard);
	text_at(c, "standard_certificate", rec->standard_cert);
	bool_at(c, "standard_overdue", rec->standard_overdue);
	id_at(c, "supersedes", rec->supersedes);
	id_at(c, "superseded_by", by);
	str_at(c, "hash", rec->hash);
	CHECK(cJSON_GetArraySize(pts) == rec->npoints);
	for (int i = 0; i < rec->npoints; i++) {
		const struct calib_point *p = &rec->points[i];
		const cJSON *o = cJSON_GetArrayItem(pts, i);
		str_at(o, "quantity", p->quantity);
		str_at(o, "unit", p->unit);
		num_at(o, "reference", p->reference);
		num_at(o, "as_found", p->as_found);
		num_at(o, "as_left", p->as_left);
		num_at(o, "lower", p->lower);
		num_at(o, "upper", p->upper);
		num_at(o, "U", p->U);
		num_at(o, "k", p->k);
		CHECK((p->found < 0) ==
		      cJSON_IsNull(get(o, "as_found_decision")));
		CHECK((p->left < 0) ==
		      cJSON_IsNull(get(o, "as_left_decision")));
	}
}

static void instrument_at(const cJSON *o, const struct msg_instrument *mi)
{
	str_at(o, "instrument", mi->name);
	str_at(o, "kind", mi->kind);
	text_at(o, "model", mi->model);
	text_at(o, "serial", mi->serial);
	text_at(o, "location", mi->location);
	time_at(o, "due", mi->due_us, true);
	CHECK(cJSON_IsString(get(o, "due_state")));
}

static struct calib_record recs[MAX_ITEMS];

/* Instruments and their records from the input, into r and checked in
 * the text. */
static void reply(struct input *in)
{
	struct msg_reply_head h;
	struct msg_instrument mi;
	int nrec;
	int64_t by;
	struct msg_reply *r;
	const cJSON *cals;
	size_t len;
	char *text;
	cJSON *o;

	h.enterprise = take_str(in);
	h.generated_us = take_i64(in);
	h.correlation = take_str_or_null(in);
	h.chain_head = take_str(in);
	h.chain_intact = take_u8(in) & 1;
	mi.name = take_str(in);
	mi.kind = take_str(in);
	mi.model = take_str(in);
	mi.serial = take_str(in);
	mi.location = take_str(in);
	mi.due_us = take_i64(in);
	mi.due = (int)(take_u8(in) % 4);
	nrec = (int)(take_u8(in) % (MAX_ITEMS + 1));
	by = take_i64(in);
	r = msg_reply_new(&h);
	CHECK(r != NULL);
	CHECK(msg_reply_record(r, &recs[0], 0) == -1); /* no instrument */
	CHECK(msg_reply_instrument(r, &mi) == 0);
	for (int i = 0; i < nrec; i++) {
		take_record(in, &recs[i]);
		CHECK(msg_reply_record(r, &recs[i], by) == 0);
	}
	text = msg_reply_text(r, &len);
	CHECK(text != NULL && strlen(text) == len);
	o = parsed(text, len + 1, (int)len);
	str_at(o, "status", "ok");
	str_at(o, "enterprise", h.enterprise);
	time_at(o, "generated", h.generated_us, true);
	str_at(o, "correlation", h.correlation);
	str_at(o, "chain_head", h.chain_head);
	bool_at(o, "chain_intact", h.chain_intact);
	CHECK(cJSON_GetArraySize(get(o, "instruments")) == 1);
	instrument_at(cJSON_GetArrayItem(get(o, "instruments"), 0), &mi);
	cals = get(cJSON_GetArrayItem(get(o, "instruments"), 0),
	           "calibrations");
	CHECK(cJSON_GetArraySize(cals) == nrec);
	for (int i = 0; i < nrec; i++)
		record_at(cJSON_GetArrayItem(cals, i), &recs[i], by);
	cJSON_Delete(o);
	msg_text_free(text);
	msg_reply_free(r);
}

static void reply_error(struct input *in, char *buf, size_t size)
{
	const char *error = take_str(in), *corr = take_str_or_null(in);
	cJSON *o = parsed(buf, size, msg_reply_error(buf, size, error, corr));

	if (o == NULL)
		return;
	str_at(o, "status", "error");
	str_at(o, "error", error);
	str_at(o, "correlation", corr);
	cJSON_Delete(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct input in;
	unsigned which;
	size_t bsize;
	char *buf;

	in.d = data;
	in.n = size;
	in.used = 0;
	which = take_u8(&in) % 10;
	bsize = take_u8(&in) << 8;
	bsize |= take_u8(&in);
	buf = malloc(bsize > 0 ? bsize : 1);
	CHECK(buf != NULL);
	switch (which) {
	case 0:
		readings(&in, buf, bsize);
		break;
	case 1:
		event(&in, buf, bsize);
		break;
	case 2:
		tolerance(&in, buf, bsize);
		break;
	case 3:
		status(&in, buf, bsize);
		break;
	case 4:
		calibration(&in, buf, bsize);
		break;
	case 5:
		gateway(&in, buf, bsize);
		break;
	case 6:
		ha(&in, buf, bsize);
		break;
	case 7:
		topic(&in, buf, bsize);
		break;
	case 8:
		reply(&in);
		break;
	default:
		reply_error(&in, buf, bsize);
		break;
	}
	free(buf);
	return 0;
}
