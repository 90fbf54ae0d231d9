/*
 * bits.h - what the codec tests (test_gorilla.c, test_pointbuf.c) share:
 * a reproducible xorshift64 generator and a double's bits both ways.
 * Include after <stdint.h> and <string.h>; each test file gets its own
 * generator state, started at the same seed.
 */
#ifndef METROLOG_TEST_BITS_H
#define METROLOG_TEST_BITS_H

static uint64_t rng = 88172645463325252ULL;

/* The next value of the xorshift64 sequence (Marsaglia 2003). */
static inline uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static inline double from_bits(uint64_t b)
{
	double d;

	memcpy(&d, &b, sizeof(d));
	return d;
}

static inline uint64_t bits_of(double d)
{
	uint64_t b;

	memcpy(&b, &d, sizeof(b));
	return b;
}

#endif
