/*
 * test_text.c - gateway/core/text.c's measures and numbers for people:
 * text_width() (terminal columns of UTF-8 text: Vietnamese precomposed
 * and with combining marks alike, wide CJK, bytes that are not UTF-8) and
 * text_shortest() (a reading printed with the digits its type carries:
 * float32 values as the shortest decimal strtof() reads back, doubles as
 * the shortest strtod() reads back, checked against a search of every
 * precision from 1, on values of every magnitude).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

static void width_counts_columns_not_bytes(void **state)
{
	(void)state;
	/* "Nhiệt độ" precomposed (U+1EC7, U+0111, U+1ED9) */
	static const char pre[] = "Nhi\xE1\xBB\x87t \xC4\x91\xE1\xBB\x99";
	/* the same with combining marks: e U+0323 U+0302, d-stroke,
	 * o U+0323 U+0302 */
	static const char nfd[] = "Nhie\xCC\xA3\xCC\x82t \xC4\x91"
	                          "o\xCC\xA3\xCC\x82";

	assert_int_equal(text_width(""), 0);
	assert_int_equal(text_width("TB-01"), 5);
	assert_int_equal(strlen(pre), 13);
	assert_int_equal(text_width(pre), 8);
	assert_int_equal(strlen(nfd), 17);
	assert_int_equal(text_width(nfd), 8);
	/* 温度 (two wide characters), ＡＢ (fullwidth) */
	assert_int_equal(text_width("\xE6\xB8\xA9\xE5\xBA\xA6"), 4);
	assert_int_equal(text_width("\xEF\xBC\xA1\xEF\xBC\xA2"), 4);
	/* a zero-width space and a BOM take nothing; a tab nothing */
	assert_int_equal(text_width("a\xE2\x80\x8B"
	                            "b\xEF\xBB\xBF"),
	                 2);
	assert_int_equal(text_width("a\tb"), 2);
	/* bytes that are not UTF-8: one column each; an overlong form too */
	assert_int_equal(text_width("a\xFF\xFE"
	                            "b"),
	                 4);
	assert_int_equal(text_width("\xC0\xAF"), 2);
	/* a sequence cut short: the lead byte and what follows */
	assert_int_equal(text_width("\xE1\xBB"), 2);
	/* degree sign, micro, Greek: one each */
	assert_int_equal(text_width("\xC2\xB0"
	                            "C \xC2\xB5m \xCE\xA9"),
	                 7);
}

/* The significant digits of a printed number: its mantissa's digits
 * without leading and trailing zeros ("120" 2, "0.0305" 3, "1e-05" 1). */
static int sig_digits(const char *s)
{
	char digits[64];
	int n = 0, first = 0;

	for (; *s != '\0' && *s != 'e' && *s != 'E'; s++)
		if (*s >= '0' && *s <= '9' && n < 63)
			digits[n++] = *s;
	while (first < n && digits[first] == '0')
		first++;
	while (n > first && digits[n - 1] == '0')
		n--;
	return n - first;
}

/* The fewest significant digits ("%.*g" from 1 up) that read back as v
 * (as a float when single): what text_shortest() must print. */
static int fewest(double v, bool single)
{
	char buf[40];

	for (int p = 1; p <= 17; p++) {
		snprintf(buf, sizeof(buf), "%.*g", p, v);
		if (single ? strtof(buf, NULL) == (float)v
		           : strtod(buf, NULL) == v)
			return p;
	}
	return 17;
}

/* text_shortest(v) is want (when not NULL), reads back as v, and has the
 * fewest significant digits that do. */
static void check(double v, bool single, const char *want)
{
	bool as_float = single && (double)(float)v == v;
	const char *type = as_float ? "float32" : "double";
	char got[40];

	assert_int_equal(text_shortest(v, single, got, sizeof(got)), 0);
	if (want != NULL && strcmp(got, want) != 0)
		fail_msg("%.17g (%s): got %s, want %s", v, type, got, want);
	if (as_float ? strtof(got, NULL) != (float)v : strtod(got, NULL) != v)
		fail_msg("%.17g (%s): %s does not read back", v, type, got);
	if (v != 0 && sig_digits(got) != fewest(v, as_float))
		fail_msg("%.17g (%s): %s, but %d digits read back", v, type,
		         got, fewest(v, as_float));
}

static void shortest_reads_back_with_the_digits_of_the_type(void **state)
{
	(void)state;
	char buf[40];

	/* the reading: a float32 near 20 degC */
	float f = 19.99993f;
	assert_true((double)f != 19.99993); /* stored as a double: 17 digits */
	check((double)f, true, "19.99993");
	check((double)f, false, "19.999929428100586");
	check((double)0.1f, true, "0.1");
	check((double)-273.15f, true, "-273.15");
	check((double)1e-5f, true, "1e-05");
	check((double)3.4028235e38f, true, "3.4028235e+38");
	check(20.0, true, "20");
	check(120.0, false, "120"); /* not 1.2e+02 */
	check(1e7, true, "1e+07");
	check((double)1234567.0f, true, "1234567");
	check(0.0, true, "0");
	check(-0.0, false, "-0");
	/* doubles: 20.05 as typed, 0.1 + 0.2 in full */
	check(20.05, false, "20.05");
	check(0.1 + 0.2, false, "0.30000000000000004");
	check(1.0 / 3.0, false, "0.3333333333333333");
	check(5e-324, false, "5e-324"); /* subnormal */
	check((double)1e-45f, true, "1e-45");
	check(1.7976931348623157e308, false, "1.7976931348623157e+308");
	/* a float32 channel whose value is not a float32 (a scale applied,
	 * or a reading written by another program): the double's digits */
	check(20 + 1 / 3.0, true, "20.333333333333332");
	check(1.2345678, true, "1.2345678");
	/* not finite: nothing */
	assert_int_equal(text_shortest(NAN, false, buf, sizeof(buf)), -1);
	assert_string_equal(buf, "");
	assert_int_equal(text_shortest(INFINITY, true, buf, sizeof(buf)), -1);
	assert_string_equal(buf, "");

	/* every magnitude, both types, against the search from 1 digit */
	srand(12345);
	for (int i = 0; i < 50000; i++) {
		double m = (double)rand() / RAND_MAX;
		int e = rand() % 80 - 40;
		double v = (rand() % 2 ? -1 : 1) * m * pow(10, e);
		check(v, false, NULL);
		if (isfinite((float)v))
			check((double)(float)v, true, NULL);
		uint32_t bits = (uint32_t)rand() ^ (uint32_t)rand() << 16;
		float any;
		memcpy(&any, &bits, sizeof(any));
		if (isfinite(any))
			check((double)any, true, NULL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(width_counts_columns_not_bytes),
	        cmocka_unit_test(
	                shortest_reads_back_with_the_digits_of_the_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
