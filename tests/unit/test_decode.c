/*
 * Unit tests of decode: every type and word order against register words
 * computed by hand from the IEEE 754 and two's complement encodings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>

#include "decode.h"

static double decode_or_fail(enum decode_type type, const char *order,
                             const uint16_t *regs)
{
	struct decode_spec s;
	double v = NAN;

	decode_spec_init(&s, type);
	assert_int_equal(decode_order_parse(&s, order), 0);
	assert_int_equal(decode_value(&s, regs, &v), 0);
	return v;
}

/* 20.5 is 0x41A40000 in IEEE 754 binary32. */
static void float32_in_four_orders(void **state)
{
	(void)state;
	const uint16_t abcd[] = {0x41A4, 0x0000}, cdab[] = {0x0000, 0x41A4},
	               badc[] = {0xA441, 0x0000}, dcba[] = {0x0000, 0xA441};

	assert_true(decode_or_fail(DECODE_FLOAT32, "ABCD", abcd) == 20.5);
	assert_true(decode_or_fail(DECODE_FLOAT32, "CDAB", cdab) == 20.5);
	assert_true(decode_or_fail(DECODE_FLOAT32, "BADC", badc) == 20.5);
	assert_true(decode_or_fail(DECODE_FLOAT32, "DCBA", dcba) == 20.5);
	/* and lower case is accepted */
	assert_true(decode_or_fail(DECODE_FLOAT32, "cdab", cdab) == 20.5);
}

/* -1.5 is 0xBFF8000000000000 in binary64. */
static void float64_big_and_little(void **state)
{
	(void)state;
	const uint16_t be[] = {0xBFF8, 0, 0, 0}, le[] = {0, 0, 0, 0xF8BF},
	               ws[] = {0, 0, 0, 0xBFF8};

	assert_true(decode_or_fail(DECODE_FLOAT64, "ABCDEFGH", be) == -1.5);
	assert_true(decode_or_fail(DECODE_FLOAT64, "ABCD", be) == -1.5);
	assert_true(decode_or_fail(DECODE_FLOAT64, "HGFEDCBA", le) == -1.5);
	assert_true(decode_or_fail(DECODE_FLOAT64, "DCBA", le) == -1.5);
	assert_true(decode_or_fail(DECODE_FLOAT64, "CDAB", ws) == -1.5);
}

/* 0x0102030405060708 laid out in each of the eight 64-bit orders. */
static void uint64_all_eight_orders(void **state)
{
	(void)state;
	static const struct {
		const char *order;
		uint16_t regs[4];
	} cases[] = {
	        {"ABCDEFGH", {0x0102, 0x0304, 0x0506, 0x0708}},
	        {"GHEFCDAB", {0x0708, 0x0506, 0x0304, 0x0102}},
	        {"BADCFEHG", {0x0201, 0x0403, 0x0605, 0x0807}},
	        {"HGFEDCBA", {0x0807, 0x0605, 0x0403, 0x0201}},
	        {"CDABGHEF", {0x0304, 0x0102, 0x0708, 0x0506}},
	        {"EFGHABCD", {0x0506, 0x0708, 0x0102, 0x0304}},
	        {"DCBAHGFE", {0x0403, 0x0201, 0x0807, 0x0605}},
	        {"FEHGBADC", {0x0605, 0x0807, 0x0201, 0x0403}},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct decode_spec s;
		decode_spec_init(&s, DECODE_UINT64);
		assert_int_equal(decode_order_parse(&s, cases[i].order), 0);
		assert_int_equal(decode_raw(&s, cases[i].regs),
		                 0x0102030405060708ULL);
	}
}

static void signed_and_unsigned_integers(void **state)
{
	(void)state;
	const uint16_t m2[] = {0xFFFF, 0xFFFE}, m2ws[] = {0xFFFE, 0xFFFF};
	const uint16_t big64[] = {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF};
	const uint16_t i16[] = {0x8000}, i16sw[] = {0x0080};

	assert_true(decode_or_fail(DECODE_INT32, "ABCD", m2) == -2);
	assert_true(decode_or_fail(DECODE_INT32, "CDAB", m2ws) == -2);
	assert_true(decode_or_fail(DECODE_UINT32, "ABCD", m2) == 4294967294.0);
	assert_true(decode_or_fail(DECODE_INT64, "ABCD", big64) == -1);
	assert_true(decode_or_fail(DECODE_UINT64, "ABCD", big64) ==
	            18446744073709551615.0);
	assert_true(decode_or_fail(DECODE_INT16, "AB", i16) == -32768);
	assert_true(decode_or_fail(DECODE_UINT16, "AB", i16) == 32768);
	assert_true(decode_or_fail(DECODE_INT16, "BA", i16sw) == -32768);
	/* a 32-bit order name on a 16-bit type means its byte order */
	assert_true(decode_or_fail(DECODE_INT16, "DCBA", i16sw) == -32768);
	assert_true(decode_or_fail(DECODE_INT16, "CDAB", i16) == -32768);
}

static void scale_and_offset(void **state)
{
	(void)state;
	struct decode_spec s;
	const uint16_t r[] = {2735}; /* 273.5 K in tenths */
	double v;

	decode_spec_init(&s, DECODE_UINT16);
	s.scale = 0.1;
	s.offset = -273.15;
	assert_int_equal(decode_value(&s, r, &v), 0);
	assert_true(fabs(v - 0.35) < 1e-9);
}

static void bits_of_a_register(void **state)
{
	(void)state;
	struct decode_spec s;
	const uint16_t r[] = {0x8001};
	double v;

	decode_spec_init(&s, DECODE_BIT);
	s.bit = 15;
	assert_int_equal(decode_value(&s, r, &v), 0);
	assert_true(v == 1);
	s.bit = 1;
	assert_int_equal(decode_value(&s, r, &v), 0);
	assert_true(v == 0);
	assert_int_equal(decode_words(&s), 0);
}

static void bcd_digits(void **state)
{
	(void)state;
	const uint16_t b16[] = {0x1234}, b32[] = {0x0098, 0x7654};
	const uint16_t bad[] = {0x12A4};
	struct decode_spec s;
	double v = 7;

	assert_true(decode_or_fail(DECODE_BCD16, "AB", b16) == 1234);
	assert_true(decode_or_fail(DECODE_BCD32, "ABCD", b32) == 987654);
	decode_spec_init(&s, DECODE_BCD16);
	assert_int_equal(decode_value(&s, bad, &v), -1);
	assert_true(v == 7); /* untouched on error */
}

static void nan_and_infinity_are_not_values(void **state)
{
	(void)state;
	struct decode_spec s;
	const uint16_t nan32[] = {0x7FC0, 0}, inf32[] = {0xFF80, 0};
	double v;

	decode_spec_init(&s, DECODE_FLOAT32);
	assert_int_equal(decode_value(&s, nan32, &v), -1);
	assert_int_equal(decode_value(&s, inf32, &v), -1);
}

static void strings_both_byte_orders(void **state)
{
	(void)state;
	struct decode_spec s;
	const uint16_t ab[] = {0x4D4C, 0x4E2D, 0x3100, 0x0000}; /* "MLN-1" */
	const uint16_t ba[] = {0x4C4D, 0x2D4E, 0x0031, 0x2020};
	char out[16];

	decode_spec_init(&s, DECODE_STRING);
	s.string_words = 4;
	assert_int_equal(decode_words(&s), 4);
	assert_int_equal(decode_string(&s, ab, out, sizeof(out)), 5);
	assert_string_equal(out, "MLN-1");
	assert_int_equal(decode_order_parse(&s, "BA"), 0);
	assert_int_equal(decode_string(&s, ba, out, sizeof(out)), 5);
	assert_string_equal(out, "MLN-1");
	/* truncated to the buffer */
	assert_int_equal(decode_string(&s, ba, out, 4), 3);
	assert_string_equal(out, "MLN");
}

static void bad_orders_and_types_are_refused(void **state)
{
	/* orders each type refuses; ACBD is not one of the classic four */
	static const struct {
		enum decode_type type;
		const char *order;
	} bad[] = {
	        {DECODE_FLOAT32, "ABCC"},     {DECODE_FLOAT32, "ABC"},
	        {DECODE_FLOAT32, "ABCDE"},    {DECODE_FLOAT32, "ABCDEFGH"},
	        {DECODE_FLOAT32, ""},         {DECODE_FLOAT64, "ACBD"},
	        {DECODE_FLOAT64, "ABCDEFGI"},
	};
	/* a type, a name it is parsed from, the name it prints as */
	static const struct {
		enum decode_type type;
		const char *parse, *name;
	} types[] = {
	        {DECODE_FLOAT32, "float32", NULL},
	        {DECODE_BIT, "bool", "bit"},
	        {DECODE_UINT64, NULL, "uint64"},
	};
	struct decode_spec s;
	enum decode_type t;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (i == 0 || bad[i].type != bad[i - 1].type)
			decode_spec_init(&s, bad[i].type);
		assert_int_equal(decode_order_parse(&s, bad[i].order), -1);
	}
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (types[i].parse != NULL) {
			assert_int_equal(decode_type_parse(types[i].parse, &t),
			                 0);
			assert_int_equal(t, types[i].type);
		}
		if (types[i].name != NULL)
			assert_string_equal(decode_type_name(types[i].type),
			                    types[i].name);
	}
	assert_int_equal(decode_type_parse("float", &t), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(float32_in_four_orders),
	        cmocka_unit_test(float64_big_and_little),
	        cmocka_unit_test(uint64_all_eight_orders),
	        cmocka_unit_test(signed_and_unsigned_integers),
	        cmocka_unit_test(scale_and_offset),
	        cmocka_unit_test(bits_of_a_register),
	        cmocka_unit_test(bcd_digits),
	        cmocka_unit_test(nan_and_infinity_are_not_values),
	        cmocka_unit_test(strings_both_byte_orders),
	        cmocka_unit_test(bad_orders_and_types_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
