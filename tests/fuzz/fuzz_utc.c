/*
 * fuzz_utc.c - libFuzzer target for the UTC time parser (gateway/core/utc.c),
 * which reads what people type and what MQTT requests send ("since").
 *
 * The input, cut at 64 bytes and NUL-terminated, is parsed with each flag
 * set at a fixed now. Checked for every input:
 *   - a narrower flag never accepts what a wider one refuses, and where both
 *     accept they agree (UTC_DATE_ONLY within UTC_ABSOLUTE within 0);
 *   - an absolute time lies within a day of years 0001-9999;
 *   - a date-only time is a midnight that prints back as the input;
 *   - every accepted time in years 0001-9999 prints (to the microsecond and
 *     to the second) to a string that parses back to it (floored to the
 *     second for the second form).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "utc.h"

#define NOW 1795694400123456LL /* 2026-11-26T12:00:00.123456Z */

static void round_trip(int64_t us)
{
	struct utc_civil c;
	char buf[64];
	int64_t back;

	utc_to_civil(us, &c);
	if (c.year < 1 || c.year > 9999)
		return;
	utc_format(us, 6, buf, sizeof(buf));
	CHECK(strlen(buf) + 1 == UTC_US_SIZE);
	CHECK(utc_parse(buf, UTC_ABSOLUTE, 0, &back) == 0 && back == us);
	utc_format(us, 0, buf, sizeof(buf));
	CHECK(strlen(buf) + 1 == UTC_SEC_SIZE);
	CHECK(utc_parse(buf, UTC_ABSOLUTE, 0, &back) == 0);
	CHECK(back <= us && us - back < UTC_SEC_US);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[65];
	int64_t any, abs, day;
	int ok_any, ok_abs, ok_day;

	if (size > 64)
		size = 64;
	memcpy(s, data, size);
	s[size] = '\0';
	ok_any = utc_parse(s, 0, NOW, &any) == 0;
	ok_abs = utc_parse(s, UTC_ABSOLUTE, NOW, &abs) == 0;
	ok_day = utc_parse(s, UTC_DATE_ONLY, NOW, &day) == 0;
	CHECK(!ok_abs || (ok_any && abs == any));
	CHECK(!ok_day || (ok_abs && day == abs));
	if (ok_abs) {
		CHECK(abs >= utc_days_from_civil(1, 1, 1) * UTC_DAY_US -
		                      UTC_DAY_US &&
		      abs <= utc_days_from_civil(10000, 1, 1) * UTC_DAY_US +
		                      UTC_DAY_US);
	}
	if (ok_day) {
		char buf[UTC_DATE_SIZE];

		CHECK(day % UTC_DAY_US == 0);
		utc_format_date(day, buf, sizeof(buf));
		CHECK(strcmp(buf, s) == 0);
	}
	if (ok_any)
		round_trip(any);
	return 0;
}
