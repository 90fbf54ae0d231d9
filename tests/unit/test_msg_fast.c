/*
 * Unit tests of the readings payload written directly (gateway/core/msg.c,
 * msg_readings()) against the cJSON path it replaced
 * (tests/msg_readings_ref.h): the same bytes and the same length, or -1
 * for both, for every message generated and for every buffer size around
 * its length. Generated with a fixed seed: random doubles of every kind
 * (any bit pattern: NaN, infinities, subnormals, +-0, huge and tiny
 * exponents), float32 values at 7 digits as the bus gives them, values at
 * a rounding's edge (x.xxxxxx5, decades, DBL_MIN, DBL_MAX, 10^15), every
 * digits from -1 to 20, every quality and a few out of range, names and
 * units that need escapes or are not UTF-8, NULL strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../msg_readings_ref.h"
#include "msg.h"
#include "sample.h"

#define BIG    16384
#define CANARY 0xA5

static uint64_t rng_state = 0x243F6A8885A308D3ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static double bits_double(uint64_t u)
{
	double v;

	memcpy(&v, &u, sizeof(v));
	return v;
}

static float bits_float(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

/* Doubles on an edge of some rounding or of the double's range. */
static const double edges[] = {
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.1,
        0.5,
        20.0123,
        99999.995,
        9.9999995e-5,
        9.99999949e-5,
        1e-5,
        1e-4,
        0.000123456789,
        123456789012345.0,
        999999999999999.0,
        1e15,
        1e15 + 1,
        1e16,
        9007199254740992.0,
        9007199254740993.0,
        2147483647.0,
        2147483648.0,
        -2147483648.0,
        1e21,
        1e22,
        1e23,
        1.7976931348623157e308,
        -1.7976931348623157e308,
        1.797693e308,
        1.79769e308,
        2.2250738585072014e-308,
        2.2250738585072009e-308,
        2.225074e-308,
        2.2250735e-308,
        4.9406564584124654e-324,
        1e-320,
        1.0e-300,
        1.0e300,
        FLT_MAX,
        FLT_MIN,
        FLT_TRUE_MIN,
        0.30000000000000004,
        1.0000000000000002,
        0.9999999999999999,
        123.4567,
        1234567.5,
        12345675.0,
};

/* A value of some kind: any bits, a float32's bits, a lab's float32, an
 * edge, an edge a few ulps off, a decimal of few digits. */
static double value(void)
{
	uint64_t k = rng() % 8;
	double e = edges[rng() % (sizeof(edges) / sizeof(edges[0]))];

	switch (k) {
	case 0:
		return bits_double(rng());
	case 1:
		return (double)bits_float((uint32_t)rng());
	case 2:
		return (double)(float)(20.0123 +
		                       ((double)(rng() % 20001) / 1e4 - 1.0));
	case 3:
		return e;
	case 4: {
		uint64_t u;
		memcpy(&u, &e, sizeof(u));
		return bits_double(u + rng() % 5 - 2);
	}
	case 5:
		return (double)(int64_t)(rng() % 2000001 - 1000000) /
		       pow(10, (double)(rng() % 12));
	case 6:
		return (double)(float)((double)(int64_t)(rng() % 20000001) *
		                       pow(10, (double)(rng() % 80) - 45));
	default:
		return ldexp((double)(rng() % (1ULL << 53)),
		             (int)(rng() % 2100) - 1100);
	}
}

static const char *const strings[] = {
        "ch01",
        "Temperature",
        "°C",
        "Nguyễn",
        "",
        "a\"b",
        "c\\d",
        "tab\there",
        "\n\r\b\f",
        "\x01\x1f\x7f",
        "\xC3",
        "x\xE2\x82",
        "\xFF\xFE",
        "\xED\xA0\x80",
        "\xC0\xAF",
        "\xF4\x90\x80\x80",
        "\xF0\x9F\x98\x80 ok",
        "é\"\xE9",
        "/slash/",
        "%RH",
};

static const char *string(void)
{
	return strings[rng() % (sizeof(strings) / sizeof(strings[0]))];
}

/* The new and the old path agree on the message, into a big buffer and
 * into every size from 0 to 9 and around the length, behind a canary. */
static void agree(int64_t seq, int64_t ts, const char *inst,
                  const struct msg_channel *ch, size_t n)
{
	static char want[BIG], got[BIG + 64];
	int wlen = ref_readings(want, BIG, seq, ts, inst, ch, n);
	int glen = msg_readings(got, BIG, seq, ts, inst, ch, n);

	assert_int_equal(glen, wlen);
	if (wlen >= 0)
		assert_memory_equal(got, want, (size_t)wlen + 1);
	if (wlen < 0)
		return;
	for (size_t size = 0; size <= (size_t)wlen + 10; size++) {
		if (size == 10 && wlen > 12)
			size = (size_t)wlen - 2;
		memset(got, CANARY, sizeof(got));
		glen = msg_readings(got, size, seq, ts, inst, ch, n);
		for (size_t i = size; i < sizeof(got); i++)
			assert_int_equal((unsigned char)got[i], CANARY);
		assert_int_equal(
		        glen, ref_readings(want, size, seq, ts, inst, ch, n));
		if (glen >= 0)
			assert_memory_equal(got, want, (size_t)glen + 1);
	}
}

/* One channel, value v at digits: the bytes of the whole message agree
 * (the numbers' text alone decides: the rest is the same each time). */
static void agree_value(double v, int digits)
{
	static char want[1024], got[1024];
	struct msg_channel ch = {"v", "", v, QUALITY_GOOD, digits};
	int wlen = ref_readings(want, sizeof(want), 1, 0, "i", &ch, 1);
	int glen = msg_readings(got, sizeof(got), 1, 0, "i", &ch, 1);

	if (glen != wlen || memcmp(got, want, (size_t)wlen + 1) != 0)
		fail_msg("%a at %d digits: want %s, got %s", v, digits, want,
		         got);
}

/* Every edge at every digits, and many values of each kind at 0 and 7
 * digits (the two metrologd uses) and at any other. */
static void numbers(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		for (int d = -1; d <= 20; d++) {
			agree_value(edges[i], d);
			agree_value(-edges[i], d);
			agree_value(nextafter(edges[i], INFINITY), d);
			agree_value(nextafter(edges[i], -INFINITY), d);
		}
	agree_value(NAN, 0);
	agree_value(-NAN, 7);
	agree_value(INFINITY, 7);
	agree_value(-INFINITY, 0);
	for (int k = 0; k < 200000; k++) {
		int d = k % 4 == 0 ? (int)(rng() % 22) - 1 : k % 2 ? 7 : 0;
		agree_value(value(), d);
	}
}

/* Whole messages: head, names, units, qualities, sizes. */
static void messages(void **state)
{
	struct msg_channel ch[12];

	(void)state;
	for (int k = 0; k < 3000; k++) {
		size_t n = rng() % 13;
		int64_t seq =
		        k % 3 == 0 ? (int64_t)rng() : (int64_t)(rng() % 100000);
		int64_t ts = k % 3 == 0 ? (int64_t)rng()
		                        : 1795694400123456LL +
		                                  (int64_t)(rng() % 1000000000);
		for (size_t i = 0; i < n; i++)
			ch[i] = (struct msg_channel){
			        .name = string(),
			        .unit = string(),
			        .value = value(),
			        .quality = rng() % 4 == 0
			                           ? (int)(rng() % 12) - 2
			                           : 0,
			        .digits = rng() % 2 ? 7 : (int)(rng() % 22) - 1,
			};
		agree(seq, ts, k % 5 == 0 ? string() : "bench-instrument-01",
		      ch, n);
	}
}

/* A NULL instrument, name or unit: -1 either way. */
static void nulls(void **state)
{
	struct msg_channel ch[2] = {{"a", "V", 1.5, 0, 7},
	                            {"b", "V", 2.5, 0, 0}};
	char buf[256];

	(void)state;
	assert_int_equal(msg_readings(buf, sizeof(buf), 1, 0, NULL, ch, 2), -1);
	ch[1].name = NULL;
	assert_int_equal(msg_readings(buf, sizeof(buf), 1, 0, "i", ch, 2), -1);
	assert_int_equal(ref_readings(buf, sizeof(buf), 1, 0, "i", ch, 2), -1);
	ch[1].name = "b";
	ch[0].unit = NULL;
	assert_int_equal(msg_readings(buf, sizeof(buf), 1, 0, "i", ch, 2), -1);
	assert_int_equal(ref_readings(buf, sizeof(buf), 1, 0, "i", ch, 2), -1);
	ch[0].unit = "V";
	agree(1, 0, "i", ch, 2);
	agree(1, 0, "i", ch, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(nulls),
	        cmocka_unit_test(numbers),
	        cmocka_unit_test(messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
