/*
 * msg_readings_ref.h - the readings payload as msg.c built it up to
 * 2026-12 (a cJSON tree printed with cJSON_PrintPreallocated, then
 * repaired to UTF-8), kept for the tests only: msg_readings() now writes
 * the payload directly and must give the very same bytes and the same
 * -1 for every input and every buffer size (tests/unit/test_msg_fast.c,
 * tests/fuzz/fuzz_msg.c). Test code: it may allocate and be slow.
 */
#ifndef METROLOG_MSG_READINGS_REF_H
#define METROLOG_MSG_READINGS_REF_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "msg.h"
#include "sample.h"
#include "text.h"
#include "utc.h"

static inline cJSON *ref_head(int64_t seq, int64_t ts_us,
                              const char *instrument)
{
	char iso[40];
	cJSON *o = cJSON_CreateObject();

	utc_format(ts_us, 6, iso, sizeof(iso));
	if (o == NULL || !cJSON_AddNumberToObject(o, "seq", (double)seq) ||
	    !cJSON_AddStringToObject(o, "ts", iso) ||
	    !cJSON_AddNumberToObject(o, "ts_ms", (double)(ts_us / 1000)) ||
	    !cJSON_AddStringToObject(o, "instrument", instrument)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static inline int ref_utf8(char *buf, size_t room)
{
	char why[64], *copy;
	size_t len;

	if (text_utf8(buf, why, sizeof(why)) == 0)
		return (int)strlen(buf);
	if ((copy = strdup(buf)) == NULL)
		return -1;
	len = text_utf8_repair(buf, room, copy);
	free(copy);
	return len < room ? (int)len : -1;
}

static inline int ref_print(cJSON *o, char *buf, size_t size)
{
	int room = size > INT_MAX ? INT_MAX : (int)size;
	int ok = o != NULL && room > 8 &&
	         cJSON_PrintPreallocated(o, buf, room - 5, 0);

	cJSON_Delete(o);
	return ok ? ref_utf8(buf, (size_t)room - 5) : -1;
}

static inline double ref_significant(double v, int digits)
{
	char text[32];

	if (digits <= 0 || digits >= 17)
		return v;
	snprintf(text, sizeof(text), "%.*g", digits, v);
	return strtod(text, NULL);
}

/* msg_readings() as it was. */
static inline int ref_readings(char *buf, size_t size, int64_t seq,
                               int64_t ts_us, const char *instrument,
                               const struct msg_channel *ch, size_t n)
{
	cJSON *o = ref_head(seq, ts_us, instrument);
	cJSON *chans =
	        o != NULL ? cJSON_AddObjectToObject(o, "channels") : NULL;

	if (chans == NULL)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		cJSON *c = cJSON_AddObjectToObject(chans, ch[i].name);
		bool good = ch[i].quality == QUALITY_GOOD;
		if (c == NULL ||
		    (good ? !cJSON_AddNumberToObject(
		                    c, "value",
		                    ref_significant(ch[i].value, ch[i].digits))
		          : !cJSON_AddNullToObject(c, "value")) ||
		    !cJSON_AddStringToObject(c, "unit", ch[i].unit) ||
		    !cJSON_AddStringToObject(
		            c, "quality",
		            quality_name((enum quality)ch[i].quality)))
			goto fail;
	}
	return ref_print(o, buf, size);
fail:
	cJSON_Delete(o);
	return -1;
}

#endif
