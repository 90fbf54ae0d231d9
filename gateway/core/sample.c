/*
 * sample.c - names of the qualities of a sample and of instrument events.
 *
 * The names are stored in the database (events.detail, and the qualities
 * table that docs/SCHEMA.md lists with the same names) and written to the
 * logs, so they never change once released. Pure; any thread.
 */
#include "sample.h"

#include <stddef.h>

const char *quality_name(enum quality q)
{
	static const char *const names[] = {
	        [QUALITY_GOOD] = "good",
	        [QUALITY_TIMEOUT] = "timeout",
	        [QUALITY_EXCEPTION] = "exception",
	        [QUALITY_CRC] = "crc",
	        [QUALITY_CONNECT] = "connect",
	        [QUALITY_REPLY] = "reply",
	        [QUALITY_INVALID] = "invalid",
	        [QUALITY_OTHER] = "other",
	};

	if ((unsigned)q >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[q];
}

const char *sample_event_name(enum sample_kind k)
{
	switch (k) {
	case SAMPLE_ONLINE:
		return "online";
	case SAMPLE_OFFLINE:
		return "offline";
	case SAMPLE_FAILING:
		return "failing";
	default:
		return NULL;
	}
}
