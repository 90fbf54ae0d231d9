/*
 * tool.c - helpers of the metrolog tool's database subcommands: the
 * database path, the lab's zone and times (the grammar and the printed forms
 * are gateway/core/utc.c's, the lab's zone gateway/core/labtime.c's). See
 * tool.h.
 */
#include "tool.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calib.h"
#include "labtime.h"
#include "query.h"
#include "text.h"
#include "utc.h"

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

void tool_lab_zone(const char *given)
{
	char zone[256];

	(void)query_use_lab_zone(tool_database(given), zone, sizeof(zone));
}

int64_t tool_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * SEC_US + ts.tv_nsec / 1000;
}

int tool_parse_long(const char *s, long lo, long hi, long *out)
{
	return text_long(s, lo, hi, out);
}

int tool_parse_time(const char *s, int64_t now_us, int64_t *us)
{
	return labtime_parse(s, 0, now_us, us);
}

void tool_format_stamp(enum cmd_format f, int64_t us, int digits, char *buf,
                       size_t size)
{
	if (f == CMD_CSV || f == CMD_JSON || f == CMD_JSONL)
		utc_format(us, digits, buf, size); /* for programs */
	else
		labtime_format(us, digits, buf, size); /* for people */
}

void tool_format_time(int64_t us, char *buf, size_t size)
{
	if (us == 0)
		snprintf(buf, size, "-");
	else
		tool_format_stamp(CMD_TEXT, us, 0, buf, size);
}

void tool_format_date(int64_t us, char *buf, size_t size)
{
	if (us == 0)
		snprintf(buf, size, "-");
	else
		labtime_format_date(us, buf, size);
}

void tool_format_due(int64_t due_us, char *buf, size_t size)
{
	if (due_us == 0)
		snprintf(buf, size, "-");
	else
		calib_due_date(due_us, buf, size);
}
