/*
 * Unit tests of the archive's block codec (gateway/core/gorilla.c): exact
 * round trips (every bit of every double and every microsecond) of random
 * walks, constants, special doubles, float32 values and doubles that are
 * not float32 in one block, equal, backward and huge time steps,
 * qualities and missing values, 1-point and full blocks; the sizes a
 * slowly varying signal and a constant one take; blocks of version 1
 * (written by its encoder, kept here as bytes) still decoded; and the
 * decoder's refusals (truncation at every length, version, count,
 * padding, windows, and each malformed field of version 2).
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

#include "bits.h"
#include "gorilla.h"

#define T0  1767225600000000LL /* 2026-01-01T00:00:00Z */
#define SEC 1000000LL
#define MAX GORILLA_MAX_POINTS

static struct gorilla_point pts[MAX + 1], back[MAX + 1];
static uint8_t buf[(MAX + 1) * 39 + 64];

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

/* ---- version 1 blocks, as its encoder wrote them (commit 661a10a) ---- */

/* 16 readings of a float32 signal around 20.5 polled at 1 s, late by
 * late[k] us, one poll missed after the 9th, a reading without a value
 * (quality 1), qualities 3 and INT64_MIN. */
static const int64_t v1_late[16] = {37,   120, 5, 88,  430, 12,  0,  77,
                                    1999, 64,  3, 250, 9,   141, 60, 2};
static const float v1_f[16] = {20.5f,  20.50012f, 20.49987f, 20.5f,
                               20.5f,  20.50301f, 20.49f,    20.5f,
                               20.51f, 20.5f,     20.5f,     20.4999f,
                               20.5f,  20.5002f,  20.5f,     20.5f};
/* 12 readings of odd times (equal, backward, int64 extremes) and doubles
 * (NaN payload, -0, subnormals, infinities, 0.1, DBL_MAX), one of quality
 * INT64_MAX. */
static const int64_t v1_ts[12] = {T0,        T0,        T0 - 1,
                                  INT64_MIN, INT64_MAX, 0,
                                  -1,        T0,        T0 + 8388608LL * 3,
                                  T0 + 1,    INT64_MAX, INT64_MIN};
static const uint64_t v1_bits[12] = {0x7ff8000000000000ULL,
                                     0x7ff00000deadbeefULL,
                                     0x8000000000000000ULL,
                                     0,
                                     1,
                                     0x000fffffffffffffULL,
                                     0x7ff0000000000000ULL,
                                     0xfff0000000000000ULL,
                                     0x3fb999999999999aULL,
                                     0x4034800000000000ULL,
                                     0x7fefffffffffffffULL,
                                     0xc000000000000001ULL};
static const uint8_t v1_lab[] = {
        0x01, 0x00, 0x10, 0x00, 0x06, 0x47, 0x48, 0x46, 0x20, 0x40, 0x25, 0x61,
        0x3e, 0x01, 0xa7, 0xe0, 0xf4, 0x29, 0x37, 0xd1, 0x7f, 0xdc, 0xe9, 0xc1,
        0x2f, 0xff, 0x07, 0x86, 0x32, 0xff, 0xf7, 0x98, 0x81, 0xc3, 0xa8, 0x46,
        0x10, 0x06, 0x2a, 0xc6, 0x59, 0x7e, 0xda, 0xf9, 0x65, 0x7e, 0xb8, 0x5e,
        0x1c, 0xd5, 0x01, 0x47, 0xbf, 0x83, 0xcc, 0xcb, 0xd0, 0x14, 0x7b, 0xfb,
        0xc3, 0x14, 0x48, 0xc4, 0xd3, 0x3b, 0xff, 0xe6, 0x6c, 0x31, 0xfc, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0xff, 0xf3, 0x31, 0x75, 0xc3,
        0xe0, 0xda, 0x77, 0x2b, 0x5a, 0x61, 0x70,
};
static const uint8_t v1_odd[] = {
        0x01, 0x00, 0x0c, 0x00, 0x06, 0x47, 0x48, 0x46, 0x20, 0x40, 0x00, 0x61,
        0x2f, 0xff, 0xcd, 0x99, 0xc0, 0x00, 0x06, 0xf5, 0x6d, 0xf7, 0x7d, 0xfe,
        0xc1, 0xff, 0xff, 0x80, 0x00, 0x06, 0xf5, 0x6d, 0xf7, 0x7f, 0xef, 0xff,
        0x37, 0x16, 0xf7, 0x3b, 0xf8, 0x00, 0x4c, 0x00, 0x7f, 0x80, 0x06, 0x47,
        0x48, 0x46, 0x20, 0x3f, 0xfe, 0x7f, 0x80, 0x00, 0x00, 0x00, 0x03, 0xfc,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x17, 0xef, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xfb, 0x32, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x61, 0x87, 0xef,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80, 0x03, 0x23, 0xa4,
        0x23, 0x10, 0x20, 0x01, 0x30, 0x01, 0xff, 0xff, 0xe6, 0xe2, 0xde, 0xed,
        0x7e, 0xff, 0xfd, 0x83, 0xec, 0x04, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99,
        0xbf, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x80, 0x00, 0x00, 0xa7, 0xf8, 0xd1,
        0x99, 0x99, 0x99, 0x99, 0x99, 0xbf, 0xbf, 0xfc, 0xdc, 0x5b, 0xdd, 0xaf,
        0xdf, 0xfe, 0xb1, 0x7b, 0xfe, 0xdb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xf0, 0x00, 0xc8, 0xe9, 0x08, 0xc4, 0x08, 0x00, 0x6c, 0x1f, 0x5f, 0xf7,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};
static const uint8_t v1_one[] = {
        0x01, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xfb, 0xfb, 0x02, 0x38, 0x06, 0xa8,
};

static void v1_points(void)
{
	for (size_t k = 0; k < 16; k++) {
		set(k, T0 + (int64_t)k * SEC + v1_late[k] + (k >= 9 ? SEC : 0),
		    v1_f[k]);
	}
	pts[4] = (struct gorilla_point){
	        .ts_us = pts[4].ts_us, .quality = 1, .has_value = false};
	pts[11].quality = 3;
	pts[12].quality = INT64_MIN;
	for (size_t k = 0; k < 12; k++) {
		set(16 + k, v1_ts[k], from_bits(v1_bits[k]));
		pts[16 + k].quality = k == 5 ? INT64_MAX : 0;
	}
	set(28, -5, -21.25);
	pts[28].quality = 14;
}

/* Decode the version 1 block b (len bytes) and compare it with the n
 * points p; then encode them again (version 2) and decode that. */
static void v1_check(const uint8_t *b, size_t len,
                     const struct gorilla_point *p, size_t n)
{
	size_t got = 0;

	assert_int_equal(b[0], 1);
	assert_int_equal(gorilla_count(b, len), (long)n);
	assert_int_equal(gorilla_decode(b, len, back, n, &got), 0);
	assert_int_equal(got, n);
	for (size_t k = 0; k < n; k++) {
		assert_int_equal(back[k].ts_us, p[k].ts_us);
		assert_int_equal(back[k].quality, p[k].quality);
		assert_int_equal(back[k].has_value, p[k].has_value);
		if (p[k].has_value)
			assert_int_equal(bits_of(back[k].value),
			                 bits_of(p[k].value));
	}
	round_trip(p, n);
	assert_int_equal(buf[0], GORILLA_VERSION);
}

static void version_1_blocks(void **state)
{
	uint8_t copy[sizeof(v1_odd) + 1];
	size_t n;

	(void)state;
	v1_points();
	v1_check(v1_lab, sizeof(v1_lab), pts, 16);
	v1_check(v1_odd, sizeof(v1_odd), pts + 16, 12);
	v1_check(v1_one, sizeof(v1_one), pts + 28, 1);
	/* still refused when cut or padded */
	memcpy(copy, v1_odd, sizeof(v1_odd));
	assert_int_equal(gorilla_decode(copy, sizeof(v1_odd) - 1, back, 12, &n),
	                 -1);
	copy[sizeof(v1_odd)] = 0;
	assert_int_equal(gorilla_decode(copy, sizeof(v1_odd) + 1, back, 12, &n),
	                 -1);
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
 * bits a point; a noisy float32 signal polled at 1 s with jitter under 3
 * bytes (version 1: 4-5; tools/bench/bench-archive measures them): far
 * from the 17 bytes of its raw fields. */
static void sizes(void **state)
{
	size_t len;

	(void)state;
	for (size_t k = 0; k < 1024; k++)
		set(k, T0 + (int64_t)k * SEC, 21.25);
	len = round_trip(pts, 1024);
	assert_true(len < 1024 / 2); /* < 4 bits a point */
	assert_true(len <
	            1024 / 3); /* version 2: 2 bits a point and a header */
	lab_signal(1024, 0.001, 200);
	len = round_trip(pts, 1024);
	assert_true(len < 1024 * 5);
	assert_true(len < 1024 * 3); /* version 2 */
	lab_signal(1024, 0.01, 3000);
	len = round_trip(pts, 1024);
	assert_true(len < 1024 * 6);
	assert_true(len < 1024 * 7 / 2); /* version 2 */
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
	pts[20].ts_us += 5 * SEC;    /* off the grid */
	pts[30].value = 0.1;         /* not a float32 */
	pts[0].value = DBL_TRUE_MIN; /* neither, at the start */
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

/* ---- float32 values --------------------------------------------------- */

/* The double a float32's bits make when the poller widens a register. */
static double widen(uint32_t f)
{
	float x;

	memcpy(&x, &f, sizeof(x));
	return (double)x;
}

/* Every special float32 after every other (their keys' steps include the
 * largest, from one NaN to the other), NaNs of float32 payloads made
 * bit by bit, and float32 subnormals (doubles that are not float32
 * keys: written raw). */
static void float32_values(void **state)
{
	static const uint32_t f[] = {
	        0x00000000, 0x80000000,                         /* +0, -0 */
	        0x7f800000, 0xff800000,                         /* +inf, -inf */
	        0x00800000, 0x80800000,                         /* FLT_MIN */
	        0x7f7fffff, 0xff7fffff,                         /* FLT_MAX */
	        0x41a40000, 0xc1a40000,                         /* 20.5 */
	        0x41a40001, 0x3f800000, 0x00000001, 0x807fffff, /* subnormal */
	};
	static const uint64_t nan[] = {
	        0x7ff8000000000000ULL, 0xfff8000000000000ULL,
	        0x7fffffffe0000000ULL, /* key 0xffffffff */
	        0xffffffffe0000000ULL, /* key 0 */
	        0x7ff0000020000000ULL, /* a float32 signalling NaN */
	        0x7ff0000000000001ULL, /* a double's: not float32 */
	};
	size_t nf = sizeof(f) / sizeof(f[0]), nn = sizeof(nan) / sizeof(nan[0]);
	size_t n = 0, m = nf + nn;
	double v[sizeof(f) / sizeof(f[0]) + sizeof(nan) / sizeof(nan[0])];

	(void)state;
	for (size_t i = 0; i < nf; i++)
		v[i] = widen(f[i]);
	for (size_t i = 0; i < nn; i++)
		v[nf + i] = from_bits(nan[i]);
	for (size_t i = 0; i < m; i++)
		for (size_t j = 0; j < m; j++) {
			set(n, T0 + (int64_t)n * SEC, v[i]);
			n++;
			set(n, T0 + (int64_t)n * SEC, v[j]);
			n++;
		}
	round_trip(pts, n);
	for (size_t i = 0; i < m; i++) {
		set(0, T0, v[i]);
		round_trip(pts, 1);
	}
	/* random doubles of float32 exponents with 23-bit mantissas: float32
	 * keys far apart */
	for (size_t k = 0; k < 3000; k++) {
		uint64_t e = 897 + next() % 254;
		if (k % 7 == 0)
			e = k % 2 ? 0 : 0x7ff;
		set(k, T0 + (int64_t)k * SEC,
		    from_bits((next() & 0x800fffffe0000000ULL) | e << 52));
	}
	round_trip(pts, 3000);
}

/* A float32 signal with a few doubles that are not float32 stays on the
 * float32 path (those few in 64 bits each, the first point too); one
 * with many takes the XOR path; both come back bit for bit. */
static void mixed_blocks(void **state)
{
	static const uint64_t odd[] = {
	        0x3fb999999999999aULL, /* 0.1 */
	        0x0000000000000001ULL, /* a double subnormal */
	        0x7fefffffffffffffULL, /* DBL_MAX */
	        0x7ff00000deadbeefULL, /* a NaN payload of a double */
	        0x4034800000000001ULL, /* 20.5 plus a double's ulp */
	};
	size_t plain, mixed;

	(void)state;
	lab_signal(1024, 0.001, 200);
	plain = round_trip(pts, 1024);
	for (size_t i = 0; i < 5; i++)
		pts[i * 200].value = from_bits(odd[i]);
	mixed = round_trip(pts, 1024);
	assert_true(mixed <= plain + 5 * 12);
	/* every other value a double */
	for (size_t k = 0; k < 1024; k += 2)
		pts[k].value += 1e-9;
	round_trip(pts, 1024);
	/* absent values around the doubles, and at the start */
	for (size_t k = 0; k < 1024; k += 3)
		pts[k].has_value = false;
	round_trip(pts, 1024);
}

/* Equal times (no period), a time going back, one far off the grid. */
static void grid_breaks(void **state)
{
	(void)state;
	for (size_t k = 0; k < 100; k++)
		set(k, T0, (double)(float)(k * 0.25));
	round_trip(pts, 100);
	lab_signal(1024, 0.001, 200);
	pts[10].ts_us = pts[9].ts_us - 1;
	pts[500].ts_us = pts[499].ts_us + 86400 * SEC;
	pts[501].ts_us = INT64_MIN;
	pts[502].ts_us = INT64_MAX;
	round_trip(pts, 1024);
	/* a period that is not a whole millisecond: 0.333333 s */
	for (size_t k = 0; k < 1024; k++)
		set(k, T0 + (int64_t)k * 333333 + (int64_t)(next() % 50), 1.5);
	assert_true(round_trip(pts, 1024) < 1024); /* < 8 bits a point */
}

/* ---- malformed version 2 blocks, made bit by bit ----------------------- */

struct hand {
	uint8_t b[64];
	size_t bit;
};

static void add(struct hand *h, uint64_t v, unsigned nbits)
{
	for (unsigned i = nbits; i-- > 0; h->bit++)
		if (v >> i & 1)
			h->b[h->bit >> 3] |= (uint8_t)(0x80 >> (h->bit & 7));
}

/* A header: n points from t0 = 0, period 0 and base 0 (7-bit widths of
 * 0), kt, the float32 path with kv when f32. */
static void head(struct hand *h, unsigned n, bool f32, unsigned kt, unsigned kv)
{
	memset(h, 0, sizeof(*h));
	add(h, 2, 8);
	add(h, n, 16);
	add(h, 0, 64);
	add(h, f32, 1);
	add(h, 0, 7);
	add(h, 0, 7);
	add(h, kt, 6);
	if (f32)
		add(h, kv, 6);
}

static int hand_decode(const struct hand *h, size_t *n)
{
	return gorilla_decode(h->b, (h->bit + 7) / 8, back, 2, n);
}

/* Point 0: no flags, the value +0.0 (a step of 0 from +0.0's key). */
static void point0(struct hand *h)
{
	add(h, 0, 2);
	add(h, 0, 1);
}

static void decode_v2_refusals(void **state)
{
	struct hand h;
	size_t n;

	(void)state;
	/* well formed: 2 points at 0, +0.0; then 1 point, padded */
	head(&h, 2, true, 0, 0);
	point0(&h);
	add(&h, 0, 1); /* time: residual 0 */
	add(&h, 0, 1); /* value: step 0 */
	assert_int_equal(hand_decode(&h, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(back[1].ts_us, 0);
	assert_int_equal(bits_of(back[1].value), 0);
	head(&h, 1, true, 0, 0);
	point0(&h);
	assert_int_equal(hand_decode(&h, &n), 0);
	add(&h, 0, 1);
	add(&h, 1, 1); /* a padding bit set */
	assert_int_equal(hand_decode(&h, &n), -1);
	/* an escape without a flag */
	head(&h, 2, true, 0, 0);
	point0(&h);
	add(&h, 0xffff, 16);
	add(&h, 0, 3);
	add(&h, 0, 2);
	assert_int_equal(hand_decode(&h, &n), -1);
	/* an escape in an escape: flags "new state", then 16 one bits */
	head(&h, 2, true, 0, 0);
	point0(&h);
	add(&h, 0xffff, 16);
	add(&h, 2, 3);
	add(&h, 0xffff, 16);
	add(&h, 0, 6);
	assert_int_equal(hand_decode(&h, &n), -1);
	/* a raw value on the XOR path */
	head(&h, 1, false, 0, 0);
	add(&h, 1, 2);
	add(&h, 0, 64);
	assert_int_equal(hand_decode(&h, &n), -1);
	/* Rice parameters too large */
	head(&h, 1, true, 61, 0);
	point0(&h);
	assert_int_equal(hand_decode(&h, &n), -1);
	head(&h, 1, true, 0, 33);
	point0(&h);
	assert_int_equal(hand_decode(&h, &n), -1);
	/* a width over 64 bits */
	memset(&h, 0, sizeof(h));
	add(&h, 2, 8);
	add(&h, 1, 16);
	add(&h, 0, 64);
	add(&h, 0, 1);
	add(&h, 65, 7);
	add(&h, 0, 7 + 6 + 6 + 3);
	assert_int_equal(hand_decode(&h, &n), -1);
	/* float32 keys: +2^31 from +0.0's is past the last key, 2^31 - 1 the
	 * last (+NaN, all payload bits), -(2^31 + 1) before the first */
	static const uint64_t steps[3] = {1ULL << 32, (1ULL << 32) - 2,
	                                  (1ULL << 32) + 1};
	for (int i = 0; i < 3; i++) {
		head(&h, 1, true, 0, 0);
		add(&h, 0, 2);
		add(&h, 0xffff, 16);
		add(&h, steps[i], 33);
		assert_int_equal(hand_decode(&h, &n), i == 1 ? 0 : -1);
		if (i == 1)
			assert_int_equal(bits_of(back[0].value),
			                 0x7fffffffe0000000ULL);
	}
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
	        cmocka_unit_test(version_1_blocks),
	        cmocka_unit_test(float32_values),
	        cmocka_unit_test(mixed_blocks),
	        cmocka_unit_test(grid_breaks),
	        cmocka_unit_test(decode_v2_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
