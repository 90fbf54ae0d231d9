/*
 * Unit tests of the waiting readings' buffer (gateway/core/pointbuf.c):
 * exact round trips (every bit of every value, every microsecond, every
 * quality) of steady polls, equal and backward times, huge time steps
 * (the 8-byte escape), float32 values, doubles that are not float32
 * (float64 channels), NaN payloads, infinities, -0, missing values and
 * quality changes; the sorted flag; the bytes a steady float32 channel
 * takes; growth past POINTBUF_GROW_MAX; the reader's refusal of a buffer
 * cut short.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "bits.h"
#include "pointbuf.h"

#define T0  1767225600000000LL /* 2026-01-01T00:00:00Z */
#define SEC 1000000LL
#define N   70000

static struct gorilla_point pts[N];

/* Encode pts[0..n), read them back, compare every bit; the buffer's size
 * into *size when size. */
static void round_trip(size_t n, size_t *size)
{
	struct pointbuf pb = {0};
	struct pointbuf_reader r;
	struct gorilla_point p;
	size_t k;

	for (k = 0; k < n; k++)
		assert_int_equal(pointbuf_add(&pb, &pts[k]), 0);
	assert_int_equal(pointbuf_count(&pb), n);
	pointbuf_read(&pb, &r);
	for (k = 0; k < n; k++) {
		assert_int_equal(pointbuf_next(&r, &p), 1);
		assert_int_equal(p.ts_us, pts[k].ts_us);
		assert_int_equal(p.quality, pts[k].quality);
		assert_int_equal(p.has_value, pts[k].has_value);
		if (p.has_value)
			assert_int_equal(bits_of(p.value),
			                 bits_of(pts[k].value));
		else
			assert_true(p.value == 0);
	}
	assert_int_equal(pointbuf_next(&r, &p), 0);
	if (size)
		*size = pointbuf_size(&pb);
	pointbuf_free(&pb);
	assert_null(pb.mem);
}

static void set(size_t k, int64_t ts, double v, bool has, int64_t q)
{
	pts[k] = (struct gorilla_point){
	        .ts_us = ts, .value = v, .has_value = has, .quality = q};
}

static void empty(void **state)
{
	struct pointbuf pb = {0};
	struct pointbuf_reader r;
	struct gorilla_point p;

	(void)state;
	assert_int_equal(pointbuf_count(&pb), 0);
	assert_int_equal(pointbuf_size(&pb), 0);
	assert_true(pointbuf_sorted(&pb));
	pointbuf_read(&pb, &r);
	assert_int_equal(pointbuf_next(&r, &p), 0);
	pointbuf_free(&pb);
}

/* A float32 channel polled every second with up to 3 ms of jitter, its
 * value a slow walk of float32 steps: about 5 bytes a reading (3 the
 * time, 2 the value), the head and the growth's slack included at most 8. */
static void steady_float32(void **state)
{
	size_t size;
	float v = 20.0f;

	(void)state;
	for (size_t k = 0; k < 64; k++) {
		v += (float)((int)(next() % 5) - 2) * 0.001f;
		set(k, T0 + (int64_t)k * SEC + (int64_t)(next() % 3000), v,
		    true, 0);
	}
	round_trip(64, &size);
	assert_true(size <= 512);
}

static void equal_and_backward_times(void **state)
{
	struct pointbuf pb = {0};
	int64_t t[] = {T0,           T0,           T0 + SEC,
	               T0 - 5 * SEC, T0 - 5 * SEC, T0 + 3 * SEC,
	               INT64_MIN,    INT64_MAX,    0,
	               -1,           INT64_MAX,    INT64_MIN};
	size_t n = sizeof(t) / sizeof(t[0]);

	(void)state;
	for (size_t k = 0; k < n; k++)
		set(k, t[k], 1.5, true, 0);
	round_trip(n, NULL);
	/* the sorted flag: strictly increasing times only */
	for (size_t k = 0; k < 3; k++) {
		set(k, T0 + (int64_t)k * SEC, 1, true, 0);
		assert_int_equal(pointbuf_add(&pb, &pts[k]), 0);
	}
	assert_true(pointbuf_sorted(&pb));
	set(3, T0 + 2 * SEC, 1, true, 0); /* equal to the one before */
	assert_int_equal(pointbuf_add(&pb, &pts[3]), 0);
	assert_false(pointbuf_sorted(&pb));
	pointbuf_free(&pb);
}

/* Values of every kind in one buffer: float32 ones, then doubles that are
 * not float32 (the wide keys from there on), NaN payloads, infinities, -0,
 * subnormals, missing values, quality changes. */
static void special_values(void **state)
{
	double v[] = {0.0,
	              -0.0,
	              1.0f,
	              INFINITY,
	              -INFINITY,
	              from_bits(0x7ff8000000000000ULL), /* NaN, float32 */
	              from_bits(0xfff0000020000000ULL), /* -NaN, float32 */
	              0.1,                              /* not float32 */
	              from_bits(0x7ff0000000000001ULL), /* NaN payload */
	              from_bits(0x0000000000000001ULL), /* subnormal */
	              -1e300,
	              1e300,
	              -0.0,
	              1.0f,
	              0.0};
	size_t n = sizeof(v) / sizeof(v[0]), k;

	(void)state;
	for (k = 0; k < n; k++)
		set(k, T0 + (int64_t)k * SEC, v[k], k % 4 != 3,
		    k % 5 == 4   ? 3
		    : k % 7 == 6 ? -9
		                 : 0);
	round_trip(n, NULL);
	/* a float64 channel from its first reading */
	for (k = 0; k < 100; k++)
		set(k, T0 + (int64_t)k * SEC, 20.0 + (double)k * 0.001, true,
		    0);
	round_trip(100, NULL);
	/* a missing value first, qualities of 64 bits */
	set(0, T0, 0, false, 2);
	set(1, T0 + 1, 3.25, true, INT64_MIN);
	set(2, T0 + 2, 3.25, true, INT64_MAX);
	set(3, T0 + 3, 3.25, false, INT64_MAX);
	round_trip(4, NULL);
}

/* Random points of any bits: more than POINTBUF_GROW_MAX bytes. */
static void random_points(void **state)
{
	size_t size;

	(void)state;
	for (size_t k = 0; k < N; k++)
		set(k, (int64_t)next(), from_bits(next()), next() % 8 != 0,
		    next() % 4 ? 0 : (int64_t)next());
	round_trip(N, &size);
	assert_true(size > POINTBUF_GROW_MAX);
}

/* A buffer cut short: -1, never a read outside it. */
static void cut_short(void **state)
{
	struct pointbuf pb = {0};
	struct pointbuf_reader r;
	struct gorilla_point p;
	int rc = 1;

	(void)state;
	for (size_t k = 0; k < 10; k++) {
		set(k, T0 + (int64_t)k * SEC, 0.1 * (double)k, true, 0);
		assert_int_equal(pointbuf_add(&pb, &pts[k]), 0);
	}
	pointbuf_read(&pb, &r);
	r.end -= 3;
	while (rc == 1)
		rc = pointbuf_next(&r, &p);
	assert_int_equal(rc, -1);
	pointbuf_free(&pb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(empty),
	        cmocka_unit_test(steady_float32),
	        cmocka_unit_test(equal_and_backward_times),
	        cmocka_unit_test(special_values),
	        cmocka_unit_test(random_points),
	        cmocka_unit_test(cut_short),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
