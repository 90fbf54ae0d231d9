/*
 * text.c - trimming, exact finite decimal numbers, the shortest decimal of
 * a reading, UTF-8 text (checked, printable, fit for an MQTT topic, cut on
 * a character, repaired, measured in terminal columns), growing arrays
 * (text.h).
 */
#include "text.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dec.h"

char *text_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int text_number(const char *s, double *v)
{
	struct dec typed, kept;
	char *end;

	if (s == NULL || dec_parse(s, &typed) < 0)
		return -1;
	errno = 0;
	*v = strtod(s, &end);
	if (*end != '\0' || !isfinite(*v) || dec_from_double(*v, &kept) < 0 ||
	    dec_cmp(&typed, &kept) != 0)
		return -1;
	return 0;
}

int text_shortest(double v, bool single, char *buf, size_t size)
{
	float f = (float)v;
	bool as_float = single && (double)f == v;

	if (!isfinite(v)) {
		if (size > 0)
			buf[0] = '\0';
		return -1;
	}
	/* a subnormal's ulp is not relative: search from one digit */
	int first = as_float ? (fabsf(f) < FLT_MIN ? 1 : 6)
	                     : (fabs(v) < DBL_MIN ? 1 : 15);
	for (int p = first; p <= 17; p++) {
		snprintf(buf, size, "%.*g", p, v);
		if (as_float ? strtof(buf, NULL) == f : strtod(buf, NULL) == v)
			break; /* 9 (17) digits always do */
	}
	return 0;
}

/* The length of the UTF-8 sequence at p and its code point, or 0 when it
 * is not a valid one (RFC 3629). */
static int utf8_at(const unsigned char *p, uint32_t *cp)
{
	int n;
	uint32_t c = p[0], min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, c &= 0x1F, min = 0x80;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, c &= 0x0F, min = 0x800;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, c &= 0x07, min = 0x10000;
	else
		return 0;
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

uint32_t text_utf8_next(const char *s, size_t *i)
{
	const unsigned char *p = (const unsigned char *)s + *i;
	uint32_t cp;
	int n = utf8_at(p, &cp);

	if (n == 0) {
		(*i)++;
		return p[0];
	}
	*i += (size_t)n;
	return cp;
}

/* How strict a scan of text is. */
enum text_rule {
	TEXT_UTF8,      /* valid UTF-8, anything else allowed */
	TEXT_PRINTABLE, /* and no control character */
	TEXT_MQTT,      /* and no non-character either */
};

/* Is cp a Unicode non-character (U+FDD0 to U+FDEF, U+xFFFE, U+xFFFF)? */
static bool nonchar(uint32_t cp)
{
	return (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
}

/* s checked against rule. Returns 0, or -1 with the reason in why. */
static int text_scan(const char *s, enum text_rule rule, char *why, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	int n;

	for (size_t i = 0; p[i] != '\0'; i += (size_t)n) {
		n = utf8_at(p + i, &cp);
		if (n == 0) {
			snprintf(why, size, "invalid UTF-8 at byte %zu", i + 1);
			return -1;
		}
		if (rule >= TEXT_PRINTABLE &&
		    (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))) {
			snprintf(why, size,
			         "a control character (0x%02X) at byte %zu",
			         (unsigned)cp, i + 1);
			return -1;
		}
		if (rule >= TEXT_MQTT && nonchar(cp)) {
			snprintf(why, size,
			         "a non-character (U+%04X) at byte %zu",
			         (unsigned)cp, i + 1);
			return -1;
		}
	}
	return 0;
}

int text_printable(const char *s, char *why, size_t size)
{
	return text_scan(s, TEXT_PRINTABLE, why, size);
}

int text_mqtt(const char *s, char *why, size_t size)
{
	return text_scan(s, TEXT_MQTT, why, size);
}

int text_utf8(const char *s, char *why, size_t size)
{
	return text_scan(s, TEXT_UTF8, why, size);
}

size_t text_utf8_cut(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	uint32_t cp;
	int k;

	while (p[i] != '\0') {
		k = utf8_at(p + i, &cp);
		if (k == 0)
			k = 1; /* a byte on its own */
		if (i + (size_t)k > max)
			break;
		i += (size_t)k;
	}
	return i;
}

size_t text_utf8_repair(char *dst, size_t size, const char *src)
{
	static const char fffd[] = "\xEF\xBF\xBD";
	const unsigned char *p = (const unsigned char *)src;
	size_t need = 0, out = 0;
	uint32_t cp;
	bool full = size == 0;
	int k;

	for (size_t i = 0; p[i] != '\0'; i += k > 0 ? (size_t)k : 1) {
		k = utf8_at(p + i, &cp);
		const char *piece = k > 0 ? src + i : fffd;
		size_t len = k > 0 ? (size_t)k : 3;
		need += len;
		if (!full && out + len < size) {
			memcpy(dst + out, piece, len);
			out += len;
		} else {
			full = true; /* cut on a character boundary */
		}
	}
	if (size > 0)
		dst[out] = '\0';
	return need;
}

/* A range of code points, first to last. */
struct cp_range {
	uint32_t first, last;
};

/* Characters of no width (combining marks, zero-width spaces and joiners,
 * directional marks, variation selectors, the byte order mark) and of
 * two (East Asian wide and fullwidth), in order. */
static const struct cp_range zero_width[] = {
        {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x0610, 0x061A},
        {0x064B, 0x065F}, {0x0E31, 0x0E31}, {0x0E34, 0x0E3A}, {0x0E47, 0x0E4E},
        {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200F}, {0x202A, 0x202E},
        {0x2060, 0x2064}, {0x20D0, 0x20FF}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F},
        {0xFEFF, 0xFEFF},
};
static const struct cp_range double_width[] = {
        {0x1100, 0x115F},   {0x2E80, 0x303E},   {0x3041, 0x33FF},
        {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},
        {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE30, 0xFE4F},
        {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x1F300, 0x1F64F},
        {0x1F900, 0x1F9FF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

static bool in_ranges(uint32_t cp, const struct cp_range *r, size_t n)
{
	for (size_t i = 0; i < n && r[i].first <= cp; i++)
		if (cp <= r[i].last)
			return true;
	return false;
}

/* The columns code point cp takes: 0, 1 or 2. */
static size_t cp_width(uint32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
		return 0;
	if (cp < 0x300)
		return 1;
	if (in_ranges(cp, zero_width, sizeof(zero_width) / sizeof(*zero_width)))
		return 0;
	if (in_ranges(cp, double_width,
	              sizeof(double_width) / sizeof(*double_width)))
		return 2;
	return 1;
}

size_t text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t width = 0;
	uint32_t cp;
	int k;

	for (size_t i = 0; p[i] != '\0'; i += k > 0 ? (size_t)k : 1) {
		k = utf8_at(p + i, &cp);
		width += k > 0 ? cp_width(cp) : 1;
	}
	return width;
}

int text_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int text_reserve(void **buf, size_t *have, size_t n, size_t each)
{
	if (n <= *have)
		return 0;
	size_t want = *have ? *have : 64;
	while (want < n)
		want *= 2;
	void *b = realloc(*buf, want * each);
	if (b == NULL)
		return -1;
	*buf = b;
	*have = want;
	return 0;
}
