/*
 * calib.c - calibration records: validation, decisions, the canonical text
 * and its SHA-256 (the audit chain), due states. See calib.h.
 *
 * The only file that includes OpenSSL (libcrypto, for SHA-256 through the
 * EVP interface). Everything else is pure.
 */
#include "calib.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "drift.h"
#include "labtime.h"
#include "text.h"

#define DAY_US 86400000000LL

/* ---- validation -------------------------------------------------------- */

static bool filled(const char *s, size_t size)
{
	return strnlen(s, size) >= size - 1;
}

static bool cert_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' ||
	       c == '/';
}

__attribute__((format(printf, 3, 4))) static int
refuse(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int check_point(const struct calib_point *p, int n, double guard_factor,
                       char *err, size_t errlen)
{
	struct drift_verdict v;
	char why[96];

	if (filled(p->quantity, sizeof(p->quantity)) ||
	    filled(p->unit, sizeof(p->unit)))
		return refuse(err, errlen,
		              "point %d: quantity or unit too long", n);
	if (p->quantity[0] == '\0')
		return refuse(err, errlen,
		              "point %d: no quantity (channel name)", n);
	if (!isfinite(p->reference))
		return refuse(err, errlen, "point %d: reference value missing",
		              n);
	if (isnan(p->as_found) && isnan(p->as_left))
		return refuse(err, errlen,
		              "point %d: neither an as-found nor an as-left "
		              "value",
		              n);
	if (isinf(p->as_found) || isinf(p->as_left))
		return refuse(err, errlen, "point %d: infinite indication", n);
	if (!isfinite(p->lower) || !isfinite(p->upper))
		return refuse(err, errlen, "point %d: tolerance limits missing",
		              n);
	if (p->lower > p->upper)
		return refuse(err, errlen,
		              "point %d: lower limit %.17g > upper limit %.17g",
		              n, p->lower, p->upper);
	if (!isfinite(p->U) || p->U < 0)
		return refuse(err, errlen,
		              "point %d: expanded uncertainty U must be >= 0",
		              n);
	if (!isfinite(p->k) || p->k <= 0)
		return refuse(err, errlen,
		              "point %d: coverage factor k must be > 0", n);
	if (text_printable(p->quantity, why, sizeof(why)) < 0 ||
	    text_printable(p->unit, why, sizeof(why)) < 0)
		return refuse(err, errlen, "point %d: quantity or unit: %s", n,
		              why);
	/* the decisions can be made exactly (an error of 1e300 - 1e-300
	 * cannot): refused here, before anything is written */
	if ((!isnan(p->as_found) &&
	     drift_decide_at(p->as_found, p->reference, p->lower, p->upper,
	                     p->U, guard_factor, &v) < 0) ||
	    (!isnan(p->as_left) &&
	     drift_decide_at(p->as_left, p->reference, p->lower, p->upper, p->U,
	                     guard_factor, &v) < 0))
		return refuse(err, errlen,
		              "point %d: the indication, reference, limits "
		              "and U are too far apart in magnitude to decide "
		              "exactly (18 significant digits)",
		              n);
	return 0;
}

int calib_validate(const struct calib_record *r, char *err, size_t errlen)
{
	const struct {
		const char *name, *s;
		size_t size;
	} text[] = {
	        {"instrument", r->instrument, sizeof(r->instrument)},
	        {"certificate", r->certificate, sizeof(r->certificate)},
	        {"standard", r->standard, sizeof(r->standard)},
	        {"lab", r->lab, sizeof(r->lab)},
	        {"customer", r->customer, sizeof(r->customer)},
	        {"method", r->method, sizeof(r->method)},
	        {"conditions", r->conditions, sizeof(r->conditions)},
	        {"technician", r->technician, sizeof(r->technician)},
	        {"authorised", r->authorised, sizeof(r->authorised)},
	        {"remarks", r->remarks, sizeof(r->remarks)},
	        {"lab-address", r->lab_address, sizeof(r->lab_address)},
	        {"accreditation", r->lab_accreditation,
	         sizeof(r->lab_accreditation)},
	        {"customer-address", r->customer_address,
	         sizeof(r->customer_address)},
	        {"customer-contact", r->customer_contact,
	         sizeof(r->customer_contact)},
	        {"location", r->location, sizeof(r->location)},
	        {"condition", r->item_condition, sizeof(r->item_condition)},
	        {"specification", r->specification, sizeof(r->specification)},
	        {"deviations", r->deviations, sizeof(r->deviations)},
	        {"standard-reason", r->standard_reason,
	         sizeof(r->standard_reason)},
	        {"amendment", r->amendment, sizeof(r->amendment)},
	        {"customer-id", r->customer_id, sizeof(r->customer_id)},
	        {"model", r->model, sizeof(r->model)},
	};

	char why[96];

	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
		if (filled(text[i].s, text[i].size))
			return refuse(err, errlen,
			              "%s too long (at most %zu bytes)",
			              text[i].name, text[i].size - 2);
		if (text_printable(text[i].s, why, sizeof(why)) < 0)
			return refuse(err, errlen, "%s: %s", text[i].name, why);
	}
	if (r->instrument[0] == '\0')
		return refuse(err, errlen, "no instrument");
	if (r->certificate[0] == '\0')
		return refuse(err, errlen, "no certificate number");
	for (const char *c = r->certificate; *c; c++)
		if (!cert_char(*c))
			return refuse(err, errlen,
			              "certificate number \"%s\": only A-Z a-z "
			              "0-9 _ . - / allowed",
			              r->certificate);
	if (r->technician[0] == '\0')
		return refuse(err, errlen, "no technician");
	if (r->performed_us <= 0)
		return refuse(err, errlen, "no calibration date");
	if (r->interval_days < 0)
		return refuse(err, errlen, "interval must be >= 0 days");
	if (r->supersedes < 0)
		return refuse(err, errlen, "bad record number to supersede");
	if (r->supersedes > 0 && r->amendment[0] == '\0')
		return refuse(err, errlen,
		              "a correction needs an amendment: what changed "
		              "and why (ISO/IEC 17025 7.8.8)");
	if (r->received_us < 0 ||
	    (r->received_us > 0 && r->received_us > r->performed_us))
		return refuse(err, errlen,
		              "date of receipt after the calibration date");
	if (r->rule != CALIB_RULE_SIMPLE && r->rule != CALIB_RULE_GUARDED)
		return refuse(err, errlen, "unknown decision rule");
	if (!isfinite(r->guard_factor) || r->guard_factor < 0)
		return refuse(err, errlen, "guard factor r must be >= 0");
	if (!isfinite(r->min_tur) || r->min_tur < 0)
		return refuse(err, errlen,
		              "minimum TUR must be > 0 (0: the default)");
	if (!isfinite(r->max_risk) || r->max_risk < 0 || r->max_risk > 0.5)
		return refuse(err, errlen,
		              "maximum specific risk must be > 0 and <= 50 %% "
		              "(0: the default)");
	if (r->npoints < 1 || r->npoints > CALIB_POINTS)
		return refuse(err, errlen, "%d test points (1..%d allowed)",
		              r->npoints, CALIB_POINTS);
	for (int i = 0; i < r->npoints; i++)
		if (check_point(&r->points[i], i + 1,
		                r->rule == CALIB_RULE_GUARDED ? r->guard_factor
		                                              : 0,
		                err, errlen) < 0)
			return -1;
	return 0;
}

/* ---- decisions ---------------------------------------------------------- */

void calib_current(struct calib_record *r)
{
	r->rule_version = CALIB_RULE_VERSION;
	if (r->min_tur == 0)
		r->min_tur = CALIB_MIN_TUR_DEFAULT;
	if (r->max_risk == 0)
		r->max_risk = CALIB_MAX_RISK_DEFAULT;
}

static double guard_factor(const struct calib_record *r)
{
	return r->rule == CALIB_RULE_GUARDED ? r->guard_factor : 0.0;
}

/* The decision of one indication (drift_decide_at), -1 when NAN. */
static int decide(const struct calib_record *r, const struct calib_point *p,
                  double indication, int *out)
{
	struct drift_verdict v;

	if (isnan(indication)) {
		*out = -1;
		return 0;
	}
	/* the error and every limit exact in decimal (drift.h, EXACTLY) */
	if (drift_decide_at(indication, p->reference, p->lower, p->upper, p->U,
	                    guard_factor(r), &v) < 0)
		return -1;
	*out = (int)v.decision;
	return 0;
}

/* Decision d of indication at p under r's policy: drift.c's
 * drift_statement_of(), the one policy of conformity and the live states
 * too. */
static int point_statement(const struct calib_record *r,
                           const struct calib_point *p, double indication,
                           int d, struct drift_statement *st)
{
	struct drift_verdict v;

	if (drift_decide_at(indication, p->reference, p->lower, p->upper, p->U,
	                    guard_factor(r), &v) < 0)
		return -1;
	v.decision = (enum drift_decision)d;
	return drift_statement_of(&v, p->lower, p->upper, p->U, p->U / p->k,
	                          r->min_tur, r->max_risk, st);
}

int calib_point_statement(const struct calib_record *r,
                          const struct calib_point *p, double indication, int d,
                          struct calib_statement *out)
{
	struct drift_statement st;

	if (point_statement(r, p, indication, d, &st) < 0)
		return -1;
	out->tur = st.tur;
	out->risk = st.risk;
	out->overlap = st.overlap;
	out->made = st.made;
	return 0;
}

/* Version 2: the decision of one indication, or DRIFT_NO_STATEMENT. */
static int decide_stated(const struct calib_record *r,
                         const struct calib_point *p, double indication,
                         int *out)
{
	struct calib_statement st;

	if (decide(r, p, indication, out) < 0)
		return -1;
	if (*out < 0)
		return 0;
	if (calib_point_statement(r, p, indication, *out, &st) < 0)
		return -1;
	if (!st.made)
		*out = DRIFT_NO_STATEMENT;
	return 0;
}

/* How bad a decision is, for a record's worst: -1 (none) below pass;
 * no statement between conditional pass and conditional fail (it does
 * not say the item conforms; a failure elsewhere says it does not). */
static int severity(int d)
{
	static const int rank[DRIFT_DECISIONS] = {
	        [DRIFT_PASS] = 0,         [DRIFT_CONDITIONAL_PASS] = 1,
	        [DRIFT_NO_STATEMENT] = 2, [DRIFT_CONDITIONAL_FAIL] = 3,
	        [DRIFT_FAIL] = 4,
	};

	return d < 0 || d >= DRIFT_DECISIONS ? -1 : rank[d];
}

/* Rule version 1, as it was: a point not adjusted has no as-left
 * decision, and every point a decision. */
static int decide_point_v1(const struct calib_record *r, struct calib_point *p)
{
	return decide(r, p, p->as_found, &p->found) < 0 ||
	                       decide(r, p, p->as_left, &p->left) < 0
	               ? -1
	               : 0;
}

/* Rule version 2: statements only when they can be made; a point not
 * adjusted is as left what it was as found. */
static int decide_point_v2(const struct calib_record *r, struct calib_point *p)
{
	if (decide_stated(r, p, p->as_found, &p->found) < 0)
		return -1;
	if (isnan(p->as_left)) {
		p->left = p->found;
		return 0;
	}
	return decide_stated(r, p, p->as_left, &p->left);
}

int calib_evaluate(struct calib_record *r)
{
	r->result_found = -1;
	r->result_left = -1;
	for (int i = 0; i < r->npoints; i++) {
		struct calib_point *p = &r->points[i];
		if ((r->rule_version >= 2 ? decide_point_v2(r, p)
		                          : decide_point_v1(r, p)) < 0)
			return -1;
		if (severity(p->found) > severity(r->result_found))
			r->result_found = p->found;
		if (severity(p->left) > severity(r->result_left))
			r->result_left = p->left;
	}
	return 0;
}

/* Why point i's indication (as left: false, as found) has no
 * statement, into err; -1. */
static int no_statement(const struct calib_record *r, int i, bool left,
                        char *err, size_t errlen)
{
	const struct calib_point *p = &r->points[i];
	double ind = left && !isnan(p->as_left) ? p->as_left : p->as_found;
	struct drift_statement st;
	char why[128];
	int d;

	if (decide(r, p, ind, &d) < 0 || point_statement(r, p, ind, d, &st) < 0)
		return refuse(err, errlen, "point %d: cannot be decided",
		              i + 1);
	drift_statement_why(&st, why, sizeof(why));
	if (st.overlap)
		return refuse(err, errlen,
		              "point %d: no statement can be made: %s", i + 1,
		              why);
	return refuse(err, errlen,
	              "point %d: as %s: no statement can be made: %s", i + 1,
	              left ? "left" : "found", why);
}

int calib_point_why(const struct calib_record *r, int i, char *err,
                    size_t errlen)
{
	if (r->points[i].found == DRIFT_NO_STATEMENT)
		return no_statement(r, i, false, err, errlen);
	if (r->points[i].left == DRIFT_NO_STATEMENT)
		return no_statement(r, i, true, err, errlen);
	return 0;
}

int calib_statements_check(const struct calib_record *r, char *err,
                           size_t errlen)
{
	for (int i = 0; i < r->npoints; i++)
		if (calib_point_why(r, i, err, errlen) < 0)
			return -1;
	return 0;
}

int calib_redecide(const struct calib_record *r, int *found, int *left)
{
	struct calib_record *c = malloc(sizeof(*c));
	int rc = -1;

	if (c == NULL)
		return -1;
	memcpy(c, r, sizeof(*c));
	c->min_tur = 0;
	c->max_risk = 0;
	calib_current(c);
	if (calib_evaluate(c) == 0) {
		*found = c->result_found;
		*left = c->result_left;
		rc = 0;
	}
	free(c);
	return rc;
}

/* ---- canonical text and hash ------------------------------------------- */

struct out {
	char *buf;
	size_t size, len;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o,
                                                      const char *fmt, ...)
{
	va_list ap;
	char *at = o->len < o->size ? o->buf + o->len : NULL;
	size_t room = o->len < o->size ? o->size - o->len : 0;

	va_start(ap, fmt);
	int n = vsnprintf(at, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static void put_str(struct out *o, const char *key, const char *v)
{
	put(o, "%s=", key);
	for (const char *c = v; *c; c++) {
		if (*c == '\\')
			put(o, "\\\\");
		else if (*c == '\n')
			put(o, "\\n");
		else if (*c == '\r')
			put(o, "\\r");
		else
			put(o, "%c", *c);
	}
	put(o, "\n");
}

static void put_num(struct out *o, const char *key, double v)
{
	if (isnan(v))
		put(o, "%s=nan\n", key);
	else
		put(o, "%s=%.17g\n", key, v);
}

static void put_int(struct out *o, const char *key, int64_t v)
{
	put(o, "%s=%" PRId64 "\n", key, v);
}

size_t calib_canonical(const struct calib_record *r, char *buf, size_t size)
{
	struct out o = {.buf = buf, .size = size};
	char key[32];

	if (size > 0)
		buf[0] = '\0';
	/* version 1's text is what every record before version 2 was
	 * hashed with: unchanged (the golden hash of test_calib.c) */
	put(&o, "metrolog-calibration=%d\n",
	    r->rule_version >= 2 ? r->rule_version : 1);
	put_int(&o, "id", r->id);
	put_str(&o, "prev_hash", r->prev_hash);
	put_int(&o, "issued", r->issued_us);
	put_int(&o, "supersedes", r->supersedes);
	put_str(&o, "instrument", r->instrument);
	put_str(&o, "certificate", r->certificate);
	put_int(&o, "performed", r->performed_us);
	put_int(&o, "interval_days", r->interval_days);
	put_int(&o, "due", r->due_us);
	put_str(&o, "standard", r->standard);
	put_str(&o, "standard_cert", r->standard_cert);
	put_int(&o, "standard_due", r->standard_due_us);
	put_int(&o, "standard_overdue", r->standard_overdue);
	put_str(&o, "lab", r->lab);
	put_str(&o, "customer", r->customer);
	put_str(&o, "method", r->method);
	put_str(&o, "conditions", r->conditions);
	put_str(&o, "technician", r->technician);
	put_str(&o, "authorised", r->authorised);
	put_str(&o, "remarks", r->remarks);
	put_int(&o, "rule", r->rule);
	put_num(&o, "guard_factor", r->guard_factor);
	if (r->rule_version >= 2) {
		put_num(&o, "min_tur", r->min_tur);
		put_num(&o, "max_risk", r->max_risk);
	}
	if (r->rule_version >= 3) {
		put_str(&o, "lab_address", r->lab_address);
		put_str(&o, "lab_accreditation", r->lab_accreditation);
		put_str(&o, "customer_address", r->customer_address);
		put_str(&o, "customer_contact", r->customer_contact);
		put_str(&o, "location", r->location);
		put_str(&o, "item_condition", r->item_condition);
		put_int(&o, "received", r->received_us);
		put_str(&o, "specification", r->specification);
		put_str(&o, "deviations", r->deviations);
		put_str(&o, "standard_reason", r->standard_reason);
		put_str(&o, "amendment", r->amendment);
	}
	/* the fields of schema 14, only when given: a record without them
	 * (every record before) hashes as it did */
	if (r->customer_id[0] != '\0')
		put_str(&o, "customer_id", r->customer_id);
	if (r->model[0] != '\0')
		put_str(&o, "model", r->model);
	put_int(&o, "result_found", r->result_found);
	put_int(&o, "result_left", r->result_left);
	put_int(&o, "points", r->npoints);
	for (int i = 0; i < r->npoints && i < CALIB_POINTS; i++) {
		const struct calib_point *p = &r->points[i];
#define PKEY(name) (snprintf(key, sizeof(key), "p%d.%s", i + 1, name), key)
		put_str(&o, PKEY("quantity"), p->quantity);
		put_str(&o, PKEY("unit"), p->unit);
		put_num(&o, PKEY("reference"), p->reference);
		put_num(&o, PKEY("as_found"), p->as_found);
		put_num(&o, PKEY("as_left"), p->as_left);
		put_num(&o, PKEY("lower"), p->lower);
		put_num(&o, PKEY("upper"), p->upper);
		put_num(&o, PKEY("U"), p->U);
		put_num(&o, PKEY("k"), p->k);
		put_int(&o, PKEY("found"), p->found);
		put_int(&o, PKEY("left"), p->left);
#undef PKEY
	}
	return o.len;
}

/* SHA-256 of text (len bytes) as 64 lowercase hex digits into out. */
static int sha256_hex(const char *text, size_t len, char out[CALIB_HASH])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		return -1;
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int calib_hash(const struct calib_record *r, char out[CALIB_HASH])
{
	size_t len = calib_canonical(r, NULL, 0);
	char *text = malloc(len + 1);
	int rc;

	if (text == NULL)
		return -1;
	calib_canonical(r, text, len + 1);
	rc = sha256_hex(text, len, out);
	free(text);
	return rc;
}

/* ---- approvals ---------------------------------------------------------- */

size_t calib_approval_canonical(const struct calib_approval *a, char *buf,
                                size_t size)
{
	struct out o = {.buf = buf, .size = size};

	if (size > 0)
		buf[0] = '\0';
	put(&o, "metrolog-approval=1\n");
	put_int(&o, "id", a->id);
	put_str(&o, "prev_hash", a->prev_hash);
	put_int(&o, "calibration_id", a->calibration_id);
	put_str(&o, "record_hash", a->record_hash);
	put_int(&o, "approved", a->approved_us);
	put_str(&o, "approver", a->approver);
	put_str(&o, "role", a->role);
	return o.len;
}

int calib_approval_hash(const struct calib_approval *a, char out[CALIB_HASH])
{
	size_t len = calib_approval_canonical(a, NULL, 0);
	char *text = malloc(len + 1);
	int rc;

	if (text == NULL)
		return -1;
	calib_approval_canonical(a, text, len + 1);
	rc = sha256_hex(text, len, out);
	free(text);
	return rc;
}

/* The lower case of c in the Latin blocks (calib_same_person). */
static uint32_t fold(uint32_t c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 0xc0 && c <= 0xde && c != 0xd7))
		return c + 0x20;
	if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177) ||
	    (c >= 0x1e00 && c <= 0x1e95) || (c >= 0x1ea0 && c <= 0x1eff))
		return c | 1; /* pairs: upper even, lower odd */
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
		return c + (c & 1); /* pairs: upper odd, lower even */
	if (c == 0x178)
		return 0xff;
	if (c == 0x1a0 || c == 0x1af) /* Ơ, Ư */
		return c + 1;
	return c;
}

struct name_iter {
	const char *s;
	size_t i;
	bool started;
};

static bool name_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/* The next character of a name as compared: a run of white space inside
 * as one ' ', none at the ends; 0 at the end. */
static uint32_t name_next(struct name_iter *it)
{
	bool gap = false;

	while (name_space(it->s[it->i])) {
		gap = true;
		it->i++;
	}
	if (it->s[it->i] == '\0')
		return 0;
	if (gap && it->started)
		return ' ';
	it->started = true;
	return fold(text_utf8_next(it->s, &it->i));
}

bool calib_same_person(const char *a, const char *b)
{
	struct name_iter x = {.s = a}, y = {.s = b};
	uint32_t ca, cb;

	do {
		ca = name_next(&x);
		cb = name_next(&y);
		if (ca != cb)
			return false;
	} while (ca != 0);
	return true;
}

/* ---- due dates ---------------------------------------------------------- */

int64_t calib_next_due(int64_t performed_us, int interval_days)
{
	if (interval_days <= 0)
		return 0;
	return performed_us + (int64_t)interval_days * DAY_US;
}

/* The rule, in one place: the instants from which a calibration due at
 * due_us is due soon and overdue (calib.h). */
static void due_bounds(int64_t due_us, int due_soon_days, int64_t *soon_from,
                       int64_t *overdue_from)
{
	int64_t day = labtime_day(due_us);

	if (due_soon_days < 0)
		due_soon_days = 0;
	*overdue_from = labtime_day_start(day + 1);
	*soon_from = labtime_day_start(day - due_soon_days);
}

enum calib_due calib_due_state(int64_t due_us, int due_soon_days,
                               int64_t now_us)
{
	int64_t soon_from, overdue_from;

	if (due_us <= 0)
		return CALIB_DUE_NONE;
	due_bounds(due_us, due_soon_days, &soon_from, &overdue_from);
	if (now_us >= overdue_from)
		return CALIB_DUE_OVERDUE;
	if (now_us >= soon_from)
		return CALIB_DUE_SOON;
	return CALIB_DUE_OK;
}

int64_t calib_due_next_change(int64_t due_us, int due_soon_days, int64_t now_us)
{
	int64_t soon_from, overdue_from;

	if (due_us <= 0)
		return 0;
	due_bounds(due_us, due_soon_days, &soon_from, &overdue_from);
	if (now_us < soon_from)
		return soon_from;
	if (now_us < overdue_from)
		return overdue_from;
	return 0;
}

int64_t calib_due_days_left(int64_t due_us, int64_t now_us)
{
	return labtime_day(due_us) - labtime_day(now_us);
}

void calib_due_date(int64_t due_us, char *buf, size_t size)
{
	labtime_format_date(due_us, buf, size);
}

const char *calib_due_name(enum calib_due d)
{
	switch (d) {
	case CALIB_DUE_NONE:
		return "none";
	case CALIB_DUE_OK:
		return "ok";
	case CALIB_DUE_SOON:
		return "due_soon";
	case CALIB_DUE_OVERDUE:
		return "overdue";
	}
	return "?";
}

/* ---- the certificate's QR code ------------------------------------------ */

void calib_qr(const struct calib_record *r, char *buf, size_t size)
{
	snprintf(buf, size, "metrolog:cert=%s;id=%" PRId64 ";hash=%s",
	         r->certificate, r->id, r->hash);
}

int calib_qr_parse(const char *text, char *cert, size_t csize, char *hash,
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
