/*
 * Unit tests of the archive's block codec (gateway/core/gorilla.c): exact
 * round trips (every bit of every double and every microsecond) of random
 * walks, constants, special doubles, equal, backward and huge time steps,
 * qualities and missing values, 1-point and full blocks; the sizes a
 * slowly varying signal and a constant one take; and the decoder's
 * refusals (truncation at every length, version, count, padding, windows).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gorilla.h"

#define T0  1767225600000000LL /* 2026-01-01T00:00:00Z */
#define SEC 1000000LL
#define MAX GORILLA_MAX_POINTS

static struct gorilla_point pts[MAX + 1], back[MAX + 1];
static uint8_t buf[(MAX + 1) * 39 + 64];

static uint64_t rng = 88172645463325252ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double from_bits(uint64_t b)
{
	double d;

	memcpy(&d, &b, sizeof(d));
	return d;
}

static uint64_t bits_of(double d)
{
	uint64_t b;

	memcpy(&b, &d, sizeof(b));
	return b;
}

/* Encode p[0..n), decode it, compare every field bit for bit; returns the
 * block's length. */
static size_t round_trip(const struct gorilla_point *p, size_t n)
{
	size_t len = 0, got = 0;

	assert_int_equal(gorilla_encode(p, n, buf, gorilla_bound(n), &len), 0);
	assert_true(len <= gorilla_bound(n));
	assert_int_equal(gorilla_count(buf, len), (long)n);
	assert_int_equal(gorilla_decode(buf, len, back, n, &got), 0);
	assert_int_equal(got, n);
	for (size_t k = 0; k < n; k++) {
		assert_int_equal(back[k].ts_us, p[k].ts_us);
		assert_int_equal(back[k].quality, p[k].quality);
		assert_int_equal(back[k].has_value, p[k].has_value);
		if (p[k].has_value)
			assert_int_equal(bits_of(back[k].value),
			                 bits_of(p[k].value));
	}
	return len;
}

static void set(size_t k, int64_t ts, double v)
{
	pts[k] = (struct gorilla_point){
	        .ts_us = ts, .value = v, .quality = 0, .has_value = true};
}

/* A float32 signal around 20.5 with Gaussian-like noise sd (the sum of
 * 4 uniforms), polled every second with up to jitter us late. */
static void lab_signal(size_t n, double sd, int64_t jitter)
{
	for (size_t k = 0; k < n; k++) {
		double u = 0;
		for (int i = 0; i < 4; i++)
			u += (double)(next() >> 11) * 0x1.0p-53 - 0.5;
		int64_t late = jitter > 0 ? (int64_t)(next() % jitter) : 0;
		set(k, T0 + (int64_t)k * SEC + late,
		    (double)(float)(20.5 + sd * u * 1.7320508));
	}
}

static void random_walks(void **state)
{
	(void)state;
	for (int run = 0; run < 50; run++) {
		size_t n = 1 + next() % 2000;
		double v = (double)(next() % 1000) - 500;
		for (size_t k = 0; k < n; k++) {
			v += ((double)(next() >> 11) * 0x1.0p-53 - 0.5) *
			     (run % 5 == 0 ? 1e6 : 0.01);
			set(k, T0 + (int64_t)k * SEC + (int64_t)(next() % 5000),
			    run % 2 ? v : (double)(float)v);
		}
		round_trip(pts, n);
	}
}

/* The sizes the archive is for: a constant polled on time takes a few
 * bits a point; a noisy float32 signal polled at 1 s with jitter about
 * 4-5 bytes (tools/bench/bench-archive measures them): far from the 17
 * bytes of its raw fields. */
static void sizes(void **state)
{
	size_t len;

	(void)state;
	for (size_t k = 0; k < 1024; k++)
		set(k, T0 + (int64_t)k * SEC, 21.25);
	len = round_trip(pts, 1024);
	assert_true(len < 1024 / 2); /* < 4 bits a point */
	lab_signal(1024, 0.001, 200);
	len = round_trip(pts, 1024);
	assert_true(len < 1024 * 5);
	lab_signal(1024, 0.01, 3000);
	len = round_trip(pts, 1024);
	assert_true(len < 1024 * 6);
}

static void special_doubles(void **state)
{
	static const uint64_t specials[] = {
	        0x7ff8000000000000ULL, /* quiet NaN */
	        0x7ff0000000000001ULL, /* signalling NaN */
	        0xfff8000000000000ULL, /* negative NaN */
	        0x7ff00000deadbeefULL, /* NaN with a payload */
	        0x7fffffffffffffffULL, 0xffffffffffffffffULL,
	        0x7ff0000000000000ULL, /* +inf */
	        0xfff0000000000000ULL, /* -inf */
	        0x8000000000000000ULL, /* -0 */
	        0x0000000000000000ULL, /* +0 */
	        0x0000000000000001ULL, /* smallest subnormal */
	        0x000fffffffffffffULL, /* largest subnormal */
	        0x8000000000000001ULL, 0x0010000000000000ULL,
	        0x7fefffffffffffffULL, /* DBL_MAX */
	};
	size_t ns = sizeof(specials) / sizeof(specials[0]), n = 0;

	(void)state;
	/* each after each: every XOR between them */
	for (size_t i = 0; i < ns; i++)
		for (size_t j = 0; j < ns; j++) {
			set(n, T0 + (int64_t)n, from_bits(specials[i]));
			n++;
			set(n, T0 + (int64_t)n, from_bits(specials[j]));
			n++;
		}
	round_trip(pts, n);
	for (size_t i = 0; i < ns; i++) {
		set(0, T0, from_bits(specials[i]));
		round_trip(pts, 1);
	}
}

static void odd_times(void **state)
{
	static const int64_t ts[] = {
	        T0,        T0,        T0,        T0 + 1,    T0,
	        T0 - SEC,  0,         -1,        INT64_MIN, INT64_MAX,
	        INT64_MIN, INT64_MAX, INT64_MAX, 1,         T0 + 86400 * SEC,
	        T0 - 1,    T0 + 1,    T0 + 1000, T0 + 128,  T0 - 127,
	};
	size_t n = sizeof(ts) / sizeof(ts[0]);

	(void)state;
	for (size_t k = 0; k < n; k++)
		set(k, ts[k], (double)k);
	round_trip(pts, n);
	/* every bucket's edges: delta-of-delta d = +-2^(w-1) around */
	static const unsigned widths[] = {8, 11, 14, 17, 24};
	n = 0;
	int64_t t = T0, delta = SEC;
	for (size_t w = 0; w < 5; w++)
		for (int s = -1; s <= 1; s += 2)
			for (int64_t e = -1; e <= 0; e++) {
				int64_t d = s * (1LL << (widths[w] - 1)) + e;
				delta += d;
				t += delta;
				set(n++, t, 1.0);
			}
	round_trip(pts, n);
}

static void qualities_and_missing_values(void **state)
{
	static const int64_t q[] = {0, 0,  1, 1,         14,        15,
	                            0, -1, 7, INT64_MAX, INT64_MIN, 0};
	size_t n = sizeof(q) / sizeof(q[0]);

	(void)state;
	for (size_t k = 0; k < n; k++) {
		set(k, T0 + (int64_t)k * SEC, 20.0 + (double)k);
		pts[k].quality = q[k];
		pts[k].has_value = k % 3 != 1;
	}
	round_trip(pts, n);
	/* a block of nothing but missing values */
	for (size_t k = 0; k < 10; k++) {
		set(k, T0 + (int64_t)k * SEC, 0);
		pts[k].quality = 1;
		pts[k].has_value = false;
	}
	round_trip(pts, 10);
}

static void block_sizes(void **state)
{
	size_t len;

	(void)state;
	set(0, T0, 20.5);
	round_trip(pts, 1);
	lab_signal(MAX, 0.01, 1000);
	round_trip(pts, MAX);
	assert_int_equal(gorilla_encode(pts, 0, buf, sizeof(buf), &len), -1);
	assert_int_equal(gorilla_encode(pts, MAX + 1, buf, sizeof(buf), &len),
	                 -1);
}

/* Too small a buffer at every size fails, never writing past it. */
static void encode_buffer_too_small(void **state)
{
	uint8_t small[256];
	size_t len, need;

	(void)state;
	lab_signal(40, 0.01, 3000);
	assert_int_equal(gorilla_encode(pts, 40, buf, sizeof(buf), &need), 0);
	assert_true(need < sizeof(small) - 8);
	for (size_t size = 0; size < need; size++) {
		memset(small, 0xa5, sizeof(small));
		assert_int_equal(gorilla_encode(pts, 40, small, size, &len),
		                 -1);
		for (size_t i = size; i < sizeof(small); i++)
			assert_int_equal(small[i], 0xa5);
	}
	assert_int_equal(gorilla_encode(pts, 40, small, need, &len), 0);
	assert_int_equal(len, need);
}

static void decode_refusals(void **state)
{
	uint8_t copy[512];
	size_t len, n;

	(void)state;
	lab_signal(60, 0.01, 3000);
	pts[5].quality = 99;
	pts[6].has_value = false;
	assert_int_equal(gorilla_encode(pts, 60, buf, sizeof(buf), &len), 0);
	assert_true(len + 1 < sizeof(copy));
	/* every truncation: copied so that a read past it would be seen by
	 * the sanitizers */
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *p = malloc(cut + 1);
		assert_non_null(p);
		memcpy(p, buf, cut);
		assert_int_equal(gorilla_decode(p, cut, back, 60, &n), -1);
		free(p);
	}
	memcpy(copy, buf, len);
	assert_int_equal(gorilla_decode(copy, len, back, 59, &n),
	                 -1); /* room */
	copy[len] = 0;
	assert_int_equal(gorilla_decode(copy, len + 1, back, 60, &n), -1);
	copy[0] = GORILLA_VERSION + 1;
	assert_int_equal(gorilla_decode(copy, len, back, 60, &n), -1);
	copy[0] = GORILLA_VERSION;
	copy[1] = copy[2] = 0; /* n = 0 */
	assert_int_equal(gorilla_decode(copy, len, back, 60, &n), -1);
	assert_int_equal(gorilla_count(copy, len), -1);
	assert_int_equal(gorilla_count(copy, 2), -1);
}

/* Hand-made blocks: padding must be zero; a window must be set before it
 * is reused; a new window may not exceed 64 bits. */
static void decode_hand_made(void **state)
{
	/* version, n = 1, ts = 0, state 0, value: 0 (same as 0.0), then
	 * 6 bits of padding */
	uint8_t ok[] = {1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x00};
	uint8_t reuse[] = {1, 0,    1, 0, 0, 0, 0, 0, 0, 0,
	                   0, 0x50, 0, 0, 0, 0, 0, 0, 0, 0};
	/* 11, lead 31, m - 1 = 63: 31 + 64 > 64 */
	uint8_t wide[] = {1,    0,    1,    0,    0,    0,    0,    0,
	                  0,    0,    0,    0x7f, 0xff, 0xff, 0xff, 0xff,
	                  0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	size_t n;

	(void)state;
	assert_int_equal(gorilla_decode(ok, sizeof(ok), back, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(back[0].ts_us, 0);
	assert_int_equal(bits_of(back[0].value), 0);
	ok[11] = 0x01; /* a padding bit set */
	assert_int_equal(gorilla_decode(ok, sizeof(ok), back, 1, &n), -1);
	/* state 0, value 10 (reuse) before any window */
	assert_int_equal(gorilla_decode(reuse, sizeof(reuse), back, 1, &n), -1);
	assert_int_equal(gorilla_decode(wide, sizeof(wide), back, 1, &n), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(random_walks),
	        cmocka_unit_test(sizes),
	        cmocka_unit_test(special_doubles),
	        cmocka_unit_test(odd_times),
	        cmocka_unit_test(qualities_and_missing_values),
	        cmocka_unit_test(block_sizes),
	        cmocka_unit_test(encode_buffer_too_small),
	        cmocka_unit_test(decode_refusals),
	        cmocka_unit_test(decode_hand_made),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
