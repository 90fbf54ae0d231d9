/*
 * calfile.c - the fields of a calibration record as text: a field by
 * name, a fields file, a points CSV (calfile.h has the formats). Moved
 * out of tools/calibrate.c so that it can be unit-tested and fuzzed on its
 * own (tests/unit/test_calfile.c, tests/fuzz/fuzz_calfile.c); the
 * messages are the ones the tool printed, now with the file and line of
 * every problem in a file.
 */
#include "calfile.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* "at: " then the message into err; at NULL: the message alone. */
__attribute__((format(printf, 4, 5))) static int
say(char *err, size_t errlen, const char *at, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (at != NULL)
		n = snprintf(err, errlen, "%s: ", at);
	if (n < 0 || (size_t)n >= errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *where(const char *at)
{
	return at != NULL ? at : "argument";
}

int calfile_point(const char *text, struct calib_point *p, char *why,
                  size_t size)
{
	char buf[CALFILE_LINE_MAX], *field[9], *s = buf;
	double *num[9] = {NULL,         NULL,        &p->reference,
	                  &p->as_found, &p->as_left, &p->lower,
	                  &p->upper,    &p->U,       &p->k};
	static const char *names[9] = {"quantity", "unit",    "reference",
	                               "as_found", "as_left", "lower",
	                               "upper",    "U",       "k"};
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", text);
	while (n < 9) {
		field[n++] = s;
		s = strchr(s, ',');
		if (s == NULL)
			break;
		*s++ = '\0';
	}
	if (n != 9 || s != NULL) {
		snprintf(why, size,
		         "expected 9 fields quantity,unit,reference,as_found,"
		         "as_left,lower,upper,U,k; got %s",
		         s != NULL ? "more" : "fewer");
		return -1;
	}
	memset(p, 0, sizeof(*p));
	for (int i = 0; i < 2; i++) {
		char bad[96];
		if (text_printable(field[i], bad, sizeof(bad)) < 0) {
			snprintf(why, size, "%s: %s", names[i], bad);
			return -1;
		}
	}
	snprintf(p->quantity, sizeof(p->quantity), "%s", field[0]);
	snprintf(p->unit, sizeof(p->unit), "%s", field[1]);
	for (int i = 2; i < 9; i++) {
		if (field[i][0] == '\0' && (i == 3 || i == 4)) {
			*num[i] = NAN;
			continue;
		}
		if (text_number(field[i], num[i]) < 0) {
			snprintf(why, size, "%s '%s' is not a number", names[i],
			         field[i]);
			return -1;
		}
	}
	return 0;
}

/* Append the point text to r; at as for calfile_field(). */
static int add_point(struct calib_record *r, const char *text, const char *at,
                     char *err, size_t errlen)
{
	char why[256];

	if (r->npoints == CALIB_POINTS)
		return say(err, errlen, where(at), "more than %d points",
		           CALIB_POINTS);
	if (calfile_point(text, &r->points[r->npoints], why, sizeof(why)) < 0)
		return say(err, errlen, where(at), "point '%s': %s", text, why);
	r->npoints++;
	return 0;
}

/* Copy a text field, refusing what does not fit and what is not
 * printable UTF-8 (text_printable). */
static int set_text(char *dst, size_t size, const char *name, const char *v,
                    const char *at, char *err, size_t errlen)
{
	char why[96];

	if (text_printable(v, why, sizeof(why)) < 0)
		return say(err, errlen, at, "--%s: %s", name, why);
	if (strlen(v) >= size - 1)
		return say(err, errlen, at,
		           "--%s: too long (at most %zu bytes)", name,
		           size - 2);
	snprintf(dst, size, "%s", v);
	return 0;
}

/* A finite decimal number >= min, the whole of v (text_number). */
static int number(const char *v, double min, double *out)
{
	if (text_number(v, out) < 0 || !(*out >= min))
		return -1;
	return 0;
}

/* The text fields, by long option name. */
#define TEXT_FIELD(name, f)                                                    \
	{                                                                      \
		name, offsetof(struct calib_record, f),                        \
		        sizeof(((struct calib_record *)0)->f)                  \
	}
static const struct {
	const char *name;
	size_t offset, size;
} text_fields[] = {
        TEXT_FIELD("instrument", instrument),
        TEXT_FIELD("certificate", certificate),
        TEXT_FIELD("technician", technician),
        TEXT_FIELD("standard", standard),
        TEXT_FIELD("lab", lab),
        TEXT_FIELD("customer", customer),
        TEXT_FIELD("method", method),
        TEXT_FIELD("conditions", conditions),
        TEXT_FIELD("authorised", authorised),
        TEXT_FIELD("remarks", remarks),
        TEXT_FIELD("lab-address", lab_address),
        TEXT_FIELD("accreditation", lab_accreditation),
        TEXT_FIELD("customer-address", customer_address),
        TEXT_FIELD("customer-contact", customer_contact),
        TEXT_FIELD("location", location),
        TEXT_FIELD("condition", item_condition),
        TEXT_FIELD("specification", specification),
        TEXT_FIELD("deviations", deviations),
        TEXT_FIELD("standard-reason", standard_reason),
        TEXT_FIELD("amendment", amendment),
        TEXT_FIELD("customer-id", customer_id),
};
#undef TEXT_FIELD

/* "date" (when calibrated) or "received" (date of receipt). */
static int set_date(struct calfile *c, const char *name, const char *v,
                    const char *at, char *err, size_t errlen)
{
	int64_t us;

	if (c->parse_date == NULL || c->parse_date(v, &us) < 0)
		return say(err, errlen, where(at),
		           "%s '%s': use YYYY-MM-DD or YYYY-MM-DDTHH:MM "
		           "(the lab's time; Z or +07:00 after it: that "
		           "offset)",
		           name, v);
	if (strcmp(name, "received") == 0) {
		c->r->received_us = us;
		return 0;
	}
	c->r->performed_us = us;
	c->have_date = true;
	return 0;
}

static int set_rule(struct calib_record *r, const char *v, const char *at,
                    char *err, size_t errlen)
{
	if (strcmp(v, "simple") == 0)
		r->rule = CALIB_RULE_SIMPLE;
	else if (strcmp(v, "guarded") == 0)
		r->rule = CALIB_RULE_GUARDED;
	else
		return say(err, errlen, where(at),
		           "rule '%s': simple or guarded", v);
	return 0;
}

/* The statement policy's fields (calib.h); -1 with err, 1 when name is
 * none of them. max-risk is typed in percent. */
static int set_policy(struct calib_record *r, const char *name, const char *v,
                      const char *at, char *err, size_t errlen)
{
	double d;

	if (strcmp(name, "min-tur") == 0) {
		if (number(v, 0, &d) < 0 || d == 0)
			return say(err, errlen, at,
			           "--min-tur '%s': need a number > 0", v);
		r->min_tur = d;
		return 0;
	}
	if (strcmp(name, "max-risk") == 0) {
		if (number(v, 0, &d) < 0 || d == 0 || d > 50)
			return say(err, errlen, at,
			           "--max-risk '%s': need a percentage > 0 and "
			           "<= 50",
			           v);
		r->max_risk = d / 100;
		return 0;
	}
	if (strcmp(name, "no-statement") == 0) {
		if (strcmp(v, "record") != 0 && strcmp(v, "refuse") != 0)
			return say(err, errlen, where(at),
			           "no-statement '%s': record or refuse", v);
		r->refuse_no_statement = strcmp(v, "refuse") == 0;
		return 0;
	}
	return 1;
}

/* The numeric fields; -1 with err, 1 when name is none of them. */
static int set_numeric(struct calib_record *r, const char *name, const char *v,
                       const char *at, char *err, size_t errlen)
{
	double d;

	if (strcmp(name, "guard-factor") == 0) {
		if (number(v, 0, &r->guard_factor) < 0)
			return say(err, errlen, at,
			           "--guard-factor '%s': need a number >= 0",
			           v);
		return 0;
	}
	if (strcmp(name, "interval") == 0) {
		if (number(v, 1, &d) < 0 || d > 3650 || d != floor(d))
			return say(err, errlen, at,
			           "--interval: whole days, 1..3650");
		r->interval_days = (int)d;
		return 0;
	}
	if (strcmp(name, "supersedes") == 0) {
		/* below 2^63, or the conversion is undefined */
		if (number(v, 1, &d) < 0 || d != floor(d) ||
		    d >= 9223372036854775808.0)
			return say(err, errlen, at,
			           "--supersedes '%s': need a whole number "
			           ">= 1",
			           v);
		r->supersedes = (int64_t)d;
		return 0;
	}
	return 1;
}

int calfile_field(struct calfile *c, const char *name, const char *value,
                  const char *at, char *err, size_t errlen)
{
	struct calib_record *r = c->r;
	int rc;

	for (size_t i = 0; i < sizeof(text_fields) / sizeof(text_fields[0]);
	     i++)
		if (strcmp(name, text_fields[i].name) == 0)
			return set_text((char *)r + text_fields[i].offset,
			                text_fields[i].size, name, value, at,
			                err, errlen);
	if (strcmp(name, "point") == 0)
		return add_point(r, value, at, err, errlen);
	if (strcmp(name, "points") == 0) {
		if (c->read_points == NULL)
			return say(err, errlen, where(at),
			           "points: no files here");
		return c->read_points(c, value, err, errlen) < 0 ? -1 : 0;
	}
	if (strcmp(name, "date") == 0 || strcmp(name, "received") == 0)
		return set_date(c, name, value, at, err, errlen);
	if (strcmp(name, "rule") == 0)
		return set_rule(r, value, at, err, errlen);
	rc = set_numeric(r, name, value, at, err, errlen);
	if (rc <= 0)
		return rc;
	rc = set_policy(r, name, value, at, err, errlen);
	if (rc <= 0)
		return rc;
	return say(err, errlen, where(at), "unknown field '%s'", name);
}

/* The bytes of one line of f, up to and without its newline, into line
 * (NUL-terminated). Returns the length, -1 at the end of f (nothing
 * read), -2 when longer than CALFILE_LINE_MAX - 2; *nul is set when the
 * line holds a NUL byte (which fgets would hide with the rest after
 * it). */
static long read_line(FILE *f, char *line, bool *nul)
{
	long len = 0;
	int c;

	*nul = false;
	while ((c = getc(f)) != EOF && c != '\n') {
		if (len >= CALFILE_LINE_MAX - 2)
			return -2;
		*nul |= c == '\0';
		line[len++] = (char)c;
	}
	line[len] = '\0';
	return c == EOF && len == 0 ? -1 : len;
}

/* The next line of f into line, trimmed into *s; at set to "name:n".
 * Returns 1 a line, 0 the end, -1 with err (too long, a NUL byte, read
 * error). A line's text is checked where it is used (text_printable). */
static int next_line(FILE *f, const char *name, char *line, int *n, char **s,
                     char *at, size_t atlen, char *err, size_t errlen)
{
	bool nul;
	long len = read_line(f, line, &nul);

	if (ferror(f))
		return say(err, errlen, name, "read error");
	if (len == -1)
		return 0;
	++*n;
	snprintf(at, atlen, "%s:%d", name, *n);
	if (len == -2)
		return say(err, errlen, at, "line longer than %d characters",
		           CALFILE_LINE_MAX - 2);
	if (nul)
		return say(err, errlen, at,
		           "a NUL byte in the line (not a text file?)");
	*s = text_trim(line);
	return 1;
}

int calfile_read_points(struct calib_record *r, FILE *f, const char *name,
                        char *err, size_t errlen)
{
	char line[CALFILE_LINE_MAX], at[512], *s;
	int n = 0, rc;

	while ((rc = next_line(f, name, line, &n, &s, at, sizeof(at), err,
	                       errlen)) == 1) {
		if (*s == '\0' || *s == '#')
			continue;
		if (strncmp(s, "quantity,", 9) == 0)
			continue; /* the header */
		if (add_point(r, s, at, err, errlen) < 0)
			return -1;
	}
	return rc;
}

int calfile_read(struct calfile *c, FILE *f, const char *name, char *err,
                 size_t errlen)
{
	char line[CALFILE_LINE_MAX], at[512], *s, *eq, *v;
	int n = 0, rc;
	size_t len;

	while ((rc = next_line(f, name, line, &n, &s, at, sizeof(at), err,
	                       errlen)) == 1) {
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (eq == NULL)
			return say(err, errlen, at, "expected name = value");
		*eq = '\0';
		v = text_trim(eq + 1);
		len = strlen(v);
		if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
			v[len - 1] = '\0';
			v++;
		}
		if (calfile_field(c, text_trim(s), v, at, err, errlen) < 0)
			return -1;
	}
	return rc;
}
