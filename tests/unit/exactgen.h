/*
 * exactgen.h - generated (reference, limit, resolution, U, r) cases for
 * the tests of exact decisions (test_exact.c, test_calc.c): each case is
 * integers in units of 10^-D, printed as the decimal text a technician
 * would type, so every indication built from them (at a limit, one step
 * beyond) is known exactly. A fixed-seed generator: the same cases every
 * run.
 */
#ifndef METROLOG_EXACTGEN_H
#define METROLOG_EXACTGEN_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct xcase {
	int d;         /* decimals of the resolution 10^-d */
	int D;         /* decimals of the case: d + 2 (r has two) */
	int64_t ref;   /* reference, in units of 10^-D */
	int64_t limit; /* symmetric error limit L > 0, units */
	int64_t U;     /* expanded uncertainty, units (a multiple of 10^-d) */
	int64_t w;     /* guard band r x U, units */
	int64_t step;  /* one resolution step 10^-d, units */
	int r100;      /* r x 100 */
};

static uint64_t xg_state = 0x9E3779B97F4A7C15ULL;

static inline uint64_t xg_next(void)
{
	/* xorshift64* */
	xg_state ^= xg_state >> 12;
	xg_state ^= xg_state << 25;
	xg_state ^= xg_state >> 27;
	return xg_state * 0x2545F4914F6CDD1DULL;
}

static inline int64_t xg_range(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(xg_next() % (uint64_t)(hi - lo + 1));
}

/* The next case: resolution 10^-d, d in 0..6; reference up to 10^7
 * steps either side of 0; limit 1..10^4 steps; U up to the limit, r one
 * of 1, 0.83, 0.5, 0.25, so that w < L. */
static inline struct xcase xg_case(void)
{
	static const int rs[] = {100, 83, 50, 25};
	struct xcase c;
	int64_t scale;

	c.d = (int)xg_range(0, 6);
	c.D = c.d + 2;
	scale = 100;
	c.step = scale;
	c.ref = xg_range(-10000000, 10000000) * scale;
	c.limit = xg_range(1, 10000) * scale;
	c.U = xg_range(1, c.limit / scale) * scale;
	c.r100 = rs[xg_range(0, 3)];
	c.w = c.U / 100 * c.r100;
	if (2 * c.w >= 2 * c.limit) /* r = 1, U = L: keep an acceptance zone */
		c.U = c.w = 0;
	return c;
}

/* v units of 10^-D as decimal text with D decimals, e.g. "-20.0500". */
static inline const char *xg_text(int64_t v, int D, char *buf, size_t size)
{
	int64_t p = 1;
	uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	for (int i = 0; i < D; i++)
		p *= 10;
	if (D == 0)
		snprintf(buf, size, "%s%" PRIu64, v < 0 ? "-" : "", a);
	else
		snprintf(buf, size, "%s%" PRIu64 ".%0*" PRIu64,
		         v < 0 ? "-" : "", a / (uint64_t)p, D, a % (uint64_t)p);
	return buf;
}

static inline double xg_num(int64_t v, int D)
{
	char buf[64];

	return strtod(xg_text(v, D, buf, sizeof(buf)), NULL);
}

#endif
