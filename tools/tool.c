/*
 * tool.c - helpers of the metrolog tool's database subcommands: the
 * database path and UTC times. See tool.h.
 */
#include "tool.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calc.h"

#define SEC_US 1000000LL

const char *tool_database(const char *given)
{
	const char *env = getenv("METROLOG_DB");

	if (given != NULL && *given)
		return given;
	if (env != NULL && *env)
		return env;
	return TOOL_DEFAULT_DB;
}

int64_t tool_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * SEC_US + ts.tv_nsec / 1000;
}

int tool_parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_age(const char *s, int64_t now_us, int64_t *us)
{
	char *end;
	long long n = strtoll(s + 1, &end, 10);
	int64_t unit;

	if (end == s + 1 || n < 0 || end[0] == '\0' || end[1] != '\0')
		return -1;
	switch (*end) {
	case 'd':
		unit = 86400 * SEC_US;
		break;
	case 'h':
		unit = 3600 * SEC_US;
		break;
	case 'm':
		unit = 60 * SEC_US;
		break;
	case 's':
		unit = SEC_US;
		break;
	default:
		return -1;
	}
	if (n > 100000LL * 366 * 86400 * SEC_US / unit)
		return -1;
	*us = now_us - n * unit;
	return 0;
}

int tool_parse_time(const char *s, int64_t now_us, int64_t *us)
{
	char date[11];
	long days;
	int hh = 0, mm = 0, ss = 0, used = 0;
	long frac = 0;
	int fdigits = 0;

	if (s == NULL)
		return -1;
	if (strcmp(s, "now") == 0) {
		*us = now_us;
		return 0;
	}
	if (s[0] == '-')
		return parse_age(s, now_us, us);
	if (strlen(s) < 10)
		return -1;
	memcpy(date, s, 10);
	date[10] = '\0';
	if (calc_parse_date(date, &days) < 0)
		return -1;
	s += 10;
	if (*s == 'T' || *s == ' ') {
		if (sscanf(s + 1, "%2d:%2d%n", &hh, &mm, &used) != 2 ||
		    used != 5)
			return -1;
		s += 1 + used;
		if (*s == ':') {
			if (sscanf(s + 1, "%2d%n", &ss, &used) != 1 ||
			    used != 2)
				return -1;
			s += 3;
			if (*s == '.') {
				s++;
				while (*s >= '0' && *s <= '9') {
					if (fdigits < 6) {
						frac = frac * 10 + (*s - '0');
						fdigits++;
					}
					s++;
				}
				if (fdigits == 0)
					return -1;
				while (fdigits++ < 6)
					frac *= 10;
			}
		}
		if (*s == 'Z')
			s++;
		if (hh > 23 || mm > 59 || ss > 60)
			return -1;
	}
	if (*s != '\0')
		return -1;
	*us = ((int64_t)days * 86400 + hh * 3600 + mm * 60 + ss) * SEC_US +
	      frac;
	return 0;
}

void tool_format_time(int64_t us, char *buf, size_t size)
{
	time_t t = (time_t)(us / SEC_US);
	struct tm tm;

	if (us == 0 || gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, size, "-");
		return;
	}
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void tool_format_date(int64_t us, char *buf, size_t size)
{
	time_t t = (time_t)(us / SEC_US);
	struct tm tm;

	if (us == 0 || gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, size, "-");
		return;
	}
	strftime(buf, size, "%Y-%m-%d", &tm);
}
