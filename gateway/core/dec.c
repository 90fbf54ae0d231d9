/*
 * dec.c - exact decimal numbers (dec.h): m x 10^e with a 64-bit mantissa.
 *
 * Every operation either gives the exact result or fails: products and
 * alignments are checked with the compiler's overflow built-ins, and a
 * comparison never fails (it compares orders of magnitude before it
 * aligns, so an alignment it needs always fits in 64 unsigned bits).
 * Conversions from double go through printf's correctly rounded "%.*e"
 * and strtod's correctly rounded reading (C11 7.21.6.1, 7.22.1.3).
 *
 * Fast paths (the live monitor converts every reading): each gives the
 * very decimal or double the printf/strtod path gives, or declines and
 * lets that path run. They need IEEE double arithmetic without excess
 * precision (FLT_EVAL_METHOD 0, as on x86-64 and AArch64; otherwise they
 * are compiled out) and use only exact operands: integers below 2^53 and
 * the powers of ten up to 10^22, which a double holds exactly, so each
 * product or quotient is the correctly rounded one (Clinger, "How to read
 * floating point numbers accurately", PLDI 1990):
 * - to double: m x 10^e with |m| <= 2^53 and |e| <= 22 is m * 10^e or
 *   m / 10^-e, one correctly rounded operation, as strtod rounds it;
 * - from double: a decimal N x 10^-k with N < 10^15 that reads back as v
 *   (N / 10^k == v) is the shortest one: two decimals of at most 15
 *   significant digits never read back as the same double (DBL_DIG), so
 *   it is the 15-digit rounding printf gives, which dec_from_double keeps;
 * - to sig <= 15 digits: y = |v| x 10^p is the exact product rounded
 *   once. Rounding is monotone and 10^(sig-1), 10^sig and every n + 1/2
 *   are doubles, so when y lies strictly inside the decade and its
 *   fraction is not 1/2 (kept y x 2^-52 away from it for good measure,
 *   twice the most the one rounding moved y; 2^-50 sent every 15-digit
 *   y above 5.6 x 10^14, such as the integers a JSON printer meets, to
 *   printf) the exact value lies on the same side of each: the rounding
 *   printf makes of it (to nearest, ties to even) is round(y).
 * tests/unit/test_exact.c compares them with the printf/strtod path over
 * millions of doubles.
 */
#include "dec.h"

#include <assert.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint64_t pow10_u[20] = {1ULL,
                                     10ULL,
                                     100ULL,
                                     1000ULL,
                                     10000ULL,
                                     100000ULL,
                                     1000000ULL,
                                     10000000ULL,
                                     100000000ULL,
                                     1000000000ULL,
                                     10000000000ULL,
                                     100000000000ULL,
                                     1000000000000ULL,
                                     10000000000000ULL,
                                     100000000000000ULL,
                                     1000000000000000ULL,
                                     10000000000000000ULL,
                                     100000000000000000ULL,
                                     1000000000000000000ULL,
                                     10000000000000000000ULL};

/* The powers of ten a double holds exactly. */
static const double pow10_d[23] = {
        1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

#if FLT_EVAL_METHOD == 0
#define DEC_FAST 1
#else
#define DEC_FAST 0
#endif

/* m x 10^e without trailing zeros in m; -1 when e leaves the range or m
 * is INT64_MIN (kept out so that every mantissa can be negated). */
static int normalise(int64_t m, int64_t e, struct dec *out)
{
	if (m == 0) {
		*out = (struct dec){0, 0};
		return 0;
	}
	if (m == INT64_MIN)
		return -1;
	while (m % 10 == 0) {
		m /= 10;
		e++;
	}
	if (e > DEC_EXP_MAX || e < -DEC_EXP_MAX)
		return -1;
	*out = (struct dec){m, (int32_t)e};
	return 0;
}

/* m x 10^k into *out, k >= 0; -1 when it does not fit. */
static int scale_up(int64_t m, int64_t k, int64_t *out)
{
	if (m == 0) {
		*out = 0;
		return 0;
	}
	if (k > 18 || __builtin_mul_overflow(m, (int64_t)pow10_u[k], out))
		return -1;
	return 0;
}

static int digits_u(uint64_t u)
{
	int n = 1;

	while (n < 20 && u >= pow10_u[n])
		n++;
	return n;
}

static uint64_t magnitude(int64_t m)
{
	return m < 0 ? (uint64_t)0 - (uint64_t)m : (uint64_t)m;
}

/* The mantissa part of dec_parse: digits and at most one point. Sets
 * *m, *e (value m x 10^e) and advances *p; -1 when there is no digit or
 * more than DEC_DIGITS significant ones. */
static int parse_mantissa(const char **p, int64_t *m, int64_t *e)
{
	const char *s = *p;
	int64_t v = 0, zeros = 0, frac = 0;
	int nsig = 0, ndig = 0;
	bool point = false;

	for (;; s++) {
		if (*s == '.' && !point) {
			point = true;
			continue;
		}
		if (*s < '0' || *s > '9')
			break;
		ndig++;
		frac += point;
		if (*s == '0') {
			zeros += nsig > 0; /* leading zeros carry nothing */
			continue;
		}
		nsig += (int)zeros + 1;
		if (nsig > DEC_DIGITS)
			return -1;
		v = v * (int64_t)pow10_u[zeros] * 10 + (*s - '0');
		zeros = 0;
	}
	if (ndig == 0)
		return -1;
	*p = s;
	*m = v;
	*e = zeros - frac;
	return 0;
}

int dec_parse(const char *s, struct dec *d)
{
	int64_t m, e, x = 0;
	bool neg = false, xneg = false;

	if (s == NULL)
		return -1;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (parse_mantissa(&s, &m, &e) < 0)
		return -1;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			xneg = *s++ == '-';
		if (*s < '0' || *s > '9')
			return -1;
		for (; *s >= '0' && *s <= '9'; s++)
			if (x < 100000)
				x = x * 10 + (*s - '0');
	}
	if (*s != '\0')
		return -1;
	return normalise(neg ? -m : m, e + (xneg ? -x : x), d);
}

/* |v| rounded to sig digits by the fast path (see the opening comment),
 * into *d; false when it declines. v finite, 1 <= sig <= 17. */
static bool fast_sig(double v, int sig, struct dec *d)
{
	double a = fabs(v), y, n, f;
	uint64_t bits;
	int p;

	if (!DEC_FAST || sig > 15 || !(a >= 1e-290 && a <= 1e290))
		return a == 0 && normalise(0, 0, d) == 0;
	/* a = 1.f x 2^b (normal here): floor(log10(a)) is k = floor(b x
	 * log10(2)) or k + 1, then y lands a decade too high: one down. A
	 * wrong guess only declines (checked below), it never misleads. */
	memcpy(&bits, &a, sizeof(bits));
	p = sig - 1 -
	    (int)floor((double)((int)(bits >> 52) - 1023) *
	               0.30102999566398120);
	for (int tries = 0;; tries++) {
		if (p < -22 || p > 22)
			return false;
		y = p >= 0 ? a * pow10_d[p] : a / pow10_d[-p];
		if (y < pow10_d[sig] || tries == 1)
			break;
		p--;
	}
	if (!(y > pow10_d[sig - 1] * (1 + 0x1p-50)) ||
	    !(y < pow10_d[sig] * (1 - 0x1p-50)))
		return false;
	n = floor(y);
	f = y - n; /* exact: y < 2^50, so its ulp is a power of two <= 1/8 */
	if (fabs(f - 0.5) <= y * 0x1p-52)
		return false;
	if (f > 0.5)
		n += 1;
	return normalise(v < 0 ? -(int64_t)n : (int64_t)n, -(int64_t)p, d) == 0;
}

/* The shortest decimal of v (finite) by the fast path, into *d; false
 * when it declines (no decimal N x 10^-k, N < 10^15, k <= 22, reads
 * back as v). */
static bool fast_from_double(double v, struct dec *d)
{
	double a = fabs(v);

	if (!DEC_FAST || !(a >= 1e-22 && a < 1e15))
		return a == 0 && normalise(0, 0, d) == 0;
	for (int k = 0; k <= 22; k++) {
		double y = a * pow10_d[k], n;
		if (y >= 1e15)
			return false;
		n = floor(y + 0.5); /* y + 0.5 exact: ulp(y) <= 1/8 */
		/* the right k leaves |y - N| <= N x 2^-51; the quotient
		 * decides alone, the first test only saves divisions */
		if (n > 0 && fabs(y - n) <= n * 0x1p-50 && n / pow10_d[k] == a)
			return normalise(v < 0 ? -(int64_t)n : (int64_t)n,
			                 -(int64_t)k, d) == 0;
	}
	return false;
}

int dec_from_double_sig(double v, int sig, struct dec *d)
{
	char buf[40];

	if (!isfinite(v) || sig < 1 || sig > 17)
		return -1;
	if (fast_sig(v, sig, d))
		return 0;
	snprintf(buf, sizeof(buf), "%.*e", sig - 1, v);
	return dec_parse(buf, d);
}

int dec_from_double(double v, struct dec *d)
{
	char buf[40];

	if (!isfinite(v))
		return -1;
	if (fast_from_double(v, d))
		return 0;
	/* The nearest 15-digit decimal reads back as v whenever any shorter
	 * one does (it is within half an ulp, less than half a step of the
	 * 15-digit grid), so 15, 16, 17 digits find the shortest value. */
	for (int p = 15; p <= 17; p++) {
		snprintf(buf, sizeof(buf), "%.*e", p - 1, v);
		if (strtod(buf, NULL) == v || p == 17)
			break;
	}
	return dec_parse(buf, d);
}

double dec_to_double(const struct dec *d)
{
	char buf[40];

	if (DEC_FAST && magnitude(d->m) <= (1ULL << 53) && d->e >= -22 &&
	    d->e <= 22)
		return d->e >= 0 ? (double)d->m * pow10_d[d->e]
		                 : (double)d->m / pow10_d[-d->e];
	snprintf(buf, sizeof(buf), "%" PRId64 "e%" PRId32, d->m, d->e);
	return strtod(buf, NULL);
}

int dec_add(const struct dec *a, const struct dec *b, struct dec *out)
{
	int64_t x, y, s;
	int32_t e = a->e < b->e ? a->e : b->e;

	if (a->m == 0 || b->m == 0) {
		*out = a->m == 0 ? *b : *a;
		return 0;
	}
	if (scale_up(a->m, (int64_t)a->e - e, &x) < 0 ||
	    scale_up(b->m, (int64_t)b->e - e, &y) < 0 ||
	    __builtin_add_overflow(x, y, &s))
		return -1;
	return normalise(s, e, out);
}

int dec_sub(const struct dec *a, const struct dec *b, struct dec *out)
{
	struct dec nb = {-b->m, b->e}; /* never INT64_MIN: see normalise */

	return dec_add(a, &nb, out);
}

int dec_mul(const struct dec *a, const struct dec *b, struct dec *out)
{
	int64_t m;

	if (__builtin_mul_overflow(a->m, b->m, &m))
		return -1;
	return normalise(m, (int64_t)a->e + b->e, out);
}

int dec_sign(const struct dec *d)
{
	return (d->m > 0) - (d->m < 0);
}

/* |a| against |b|: -1, 0, 1. */
static int cmp_magnitude(const struct dec *a, const struct dec *b)
{
	uint64_t ua = magnitude(a->m), ub = magnitude(b->m);
	int64_t oa = digits_u(ua) + (int64_t)a->e;
	int64_t ob = digits_u(ub) + (int64_t)b->e;

	if (oa != ob)
		return oa < ob ? -1 : 1;
	/* Same order of magnitude: the one with the larger exponent has
	 * fewer digits, and scaled to the other's exponent it has as many
	 * digits as the other, at most 19: it fits. */
	if (a->e > b->e)
		ua *= pow10_u[a->e - b->e];
	else
		ub *= pow10_u[b->e - a->e];
	return (ua > ub) - (ua < ub);
}

int dec_cmp(const struct dec *a, const struct dec *b)
{
	int sa = dec_sign(a), sb = dec_sign(b);

	if (sa != sb)
		return sa < sb ? -1 : 1;
	if (sa == 0)
		return 0;
	return sa * cmp_magnitude(a, b);
}

int dec_quantize(const struct dec *v, const struct dec *step, struct dec *out)
{
	int32_t e = v->e < step->e ? v->e : step->e;
	int64_t x, s, q, r, rm;
	struct dec qd;

	if (dec_sign(step) <= 0)
		return -1;
	/* Below a tenth of the step: 0, whatever the exponents. */
	if (v->m == 0 ||
	    digits_u(magnitude(v->m)) + (int64_t)v->e < (int64_t)step->e) {
		*out = (struct dec){0, 0};
		return 0;
	}
	if (scale_up(v->m, (int64_t)v->e - e, &x) < 0 ||
	    scale_up(step->m, (int64_t)step->e - e, &s) < 0)
		return -1;
	q = x / s;
	r = x % s;
	rm = r < 0 ? -r : r;
	if (rm >= s - rm)
		q += x < 0 ? -1 : 1;
	qd = (struct dec){q, 0};
	return dec_mul(&qd, step, out);
}

size_t dec_format(const struct dec *d, char *buf, size_t size)
{
	char digits[24], zeros[32];
	uint64_t u = magnitude(d->m);
	const char *sign = d->m < 0 ? "-" : "";
	int n, len;

	snprintf(digits, sizeof(digits), "%" PRIu64, u);
	len = (int)strlen(digits);
	memset(zeros, '0', sizeof(zeros));
	if (d->m == 0)
		n = snprintf(buf, size, "0");
	else if (d->e >= 0 && d->e <= 20)
		n = snprintf(buf, size, "%s%s%.*s", sign, digits, (int)d->e,
		             zeros);
	else if (d->e < 0 && d->e >= -30 && len > -d->e)
		n = snprintf(buf, size, "%s%.*s.%s", sign, len + d->e, digits,
		             digits + len + d->e);
	else if (d->e < 0 && d->e >= -30)
		n = snprintf(buf, size, "%s0.%.*s%s", sign, -d->e - len, zeros,
		             digits);
	else
		n = snprintf(buf, size, "%s%se%" PRId32, sign, digits, d->e);
	return n < 0 ? 0 : (size_t)n;
}

size_t dec_format_g(const struct dec *d, int prec, char *buf)
{
	char digits[20];
	uint64_t u = magnitude(d->m);
	int k = sizeof(digits), nd, x;
	char *p = buf;

	if (d->m < 0)
		*p++ = '-';
	for (; u > 0; u /= 10)
		digits[--k] = (char)('0' + u % 10);
	nd = (int)sizeof(digits) - k;
	if (nd == 0) {
		memcpy(p, "0", 2);
		return (size_t)(p - buf) + 1;
	}
	const char *s = digits + k;
	assert(nd <= prec && prec <= 17);
	x = nd - 1 + d->e; /* the decimal exponent %g decides by */
	if (x < -4 || x >= prec) {
		int ax = x < 0 ? -x : x;
		*p++ = s[0];
		if (nd > 1) {
			*p++ = '.';
			memcpy(p, s + 1, (size_t)nd - 1);
			p += nd - 1;
		}
		*p++ = 'e';
		*p++ = x < 0 ? '-' : '+';
		if (ax >= 100)
			*p++ = (char)('0' + ax / 100);
		*p++ = (char)('0' + ax / 10 % 10);
		*p++ = (char)('0' + ax % 10);
	} else if (d->e >= 0) { /* a whole number: digits and zeros */
		memcpy(p, s, (size_t)nd);
		memset(p + nd, '0', (size_t)d->e);
		p += nd + d->e;
	} else if (x >= 0) { /* the point inside the digits */
		memcpy(p, s, (size_t)x + 1);
		p += x + 1;
		*p++ = '.';
		memcpy(p, s + x + 1, (size_t)(nd - x - 1));
		p += nd - x - 1;
	} else { /* 0.000ddd */
		*p++ = '0';
		*p++ = '.';
		memset(p, '0', (size_t)(-x - 1));
		p += -x - 1;
		memcpy(p, s, (size_t)nd);
		p += nd;
	}
	*p = '\0';
	return (size_t)(p - buf);
}
