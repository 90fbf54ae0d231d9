/*
 * request.c - a records request over MQTT parsed into struct request
 * (request.h). Moved out of gateway/daemon/publish_req.c, which keeps the
 * queue, the queries and the replies, so that the parsing can be
 * unit-tested and fuzzed without Paho (tests/unit/test_request.c,
 * tests/fuzz/fuzz_request.c). The messages are the ones the daemon sent.
 */
#include "request.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "text.h"
#include "utc.h"

static bool name_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-';
}

bool request_enterprise(const char *base, const char *topic,
                        char ent[REQUEST_NAME_MAX + 1])
{
	size_t b = strlen(base), n = 0;
	const char *s;

	if (strncmp(topic, base, b) != 0 ||
	    strncmp(topic + b, "requests/", 9) != 0)
		return false;
	s = topic + b + 9;
	for (; s[n] != '/' && s[n] != '\0'; n++)
		if (n >= REQUEST_NAME_MAX || !name_char(s[n]))
			return false;
	if (n == 0)
		return false;
	memcpy(ent, s, n);
	ent[n] = '\0';
	return true;
}

bool request_reply_ok(const char *base, const char *ent, const char *t)
{
	char want[MSG_TOPIC_MAX + 80], why[80];
	size_t n;

	snprintf(want, sizeof(want), "%sreplies/%s/", base, ent);
	n = strlen(want);
	return strncmp(t, want, n) == 0 && t[n] != '\0' &&
	       strlen(t) < MSG_TOPIC_MAX && strpbrk(t, "+#") == NULL &&
	       text_mqtt(t, why, sizeof(why)) == 0;
}

/* What an error reply needs first: the correlation (when it is valid
 * UTF-8: it is echoed in a JSON reply) and the reply topic of the
 * request object j, even when the rest of it is refused. */
static void reply_fields(struct request *a, const char *base, const cJSON *j)
{
	const cJSON *it;
	char why[80];

	it = cJSON_GetObjectItemCaseSensitive(j, "correlation");
	if (cJSON_IsString(it) &&
	    strlen(it->valuestring) <= REQUEST_CORRELATION_MAX &&
	    text_utf8(it->valuestring, why, sizeof(why)) == 0) {
		snprintf(a->correlation, sizeof(a->correlation), "%s",
		         it->valuestring);
		a->has_correlation = true;
	}
	it = cJSON_GetObjectItemCaseSensitive(j, "reply_to");
	if (a->reply_to[0] == '\0' && cJSON_IsString(it) &&
	    request_reply_ok(base, a->enterprise, it->valuestring))
		snprintf(a->reply_to, sizeof(a->reply_to), "%s",
		         it->valuestring);
}

/* One member it of the request (seen: the members so far). Returns NULL,
 * or what is wrong (in why, or a constant). */
static const char *member(struct request *a, const char *base, const cJSON *it,
                          bool seen[4], char *why, size_t size)
{
	static const char *const known[] = {"instrument", "since", "reply_to",
	                                    "correlation"};
	size_t k = 0;
	const char *v;

	while (k < 4 && strcmp(it->string, known[k]) != 0)
		k++;
	if (k == 4) { /* its first 64 bytes, never half a character */
		snprintf(why, size,
		         "unknown field \"%.*s\" (known: instrument, "
		         "since, reply_to, correlation)",
		         (int)text_utf8_cut(it->string, 64), it->string);
		return why;
	}
	if (seen[k]) {
		snprintf(why, size, "field \"%s\" given twice", known[k]);
		return why;
	}
	seen[k] = true;
	if (!cJSON_IsString(it)) {
		snprintf(why, size, "field \"%s\" must be a string", known[k]);
		return why;
	}
	v = it->valuestring;
	if (k == 3 && strlen(v) > REQUEST_CORRELATION_MAX) {
		return "correlation longer than 256 bytes";
	} else if (k == 2 && !request_reply_ok(base, a->enterprise, v)) {
		snprintf(why, size,
		         "reply_to must be a topic under %sreplies/%s/", base,
		         a->enterprise);
		return why;
	} else if (k == 0) {
		if (v[0] == '\0' || strlen(v) >= CALIB_ID)
			return "instrument must be an instrument id";
		snprintf(a->instrument, sizeof(a->instrument), "%s", v);
	} else if (k == 1 && utc_parse(v, UTC_ABSOLUTE, 0, &a->since_us) < 0) {
		return "since must be an ISO 8601 date such as "
		       "\"2026-01-31\" or \"2026-01-31T08:00:00Z\"";
	}
	return NULL;
}

/* The payload's fields into a. Returns NULL, or what is wrong. */
static const char *parse_payload(struct request *a, const char *base,
                                 const char *payload, size_t len, char *why,
                                 size_t size)
{
	bool seen[4] = {false};
	const char *bad = NULL;
	char utf8[64];
	const cJSON *it;
	cJSON *j;

	if (len > REQUEST_PAYLOAD_MAX) {
		snprintf(why, size, "request too large: %zu bytes, at most %d",
		         len, REQUEST_PAYLOAD_MAX);
		return why;
	}
	if (memchr(payload, '\0', len) != NULL ||
	    (j = cJSON_ParseWithOpts(payload, NULL, 1)) == NULL)
		return "malformed JSON";
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return "the request must be a JSON object";
	}
	reply_fields(a, base, j);
	/* every string of it is echoed in a reply or used as a topic: a
	 * request that is not UTF-8 (RFC 8259, 8.1) is refused whole */
	if (text_utf8(payload, utf8, sizeof(utf8)) < 0) {
		cJSON_Delete(j);
		snprintf(why, size, "the request is not valid UTF-8 (%s)",
		         utf8);
		return why;
	}
	cJSON_ArrayForEach(it, j)
	{
		if ((bad = member(a, base, it, seen, why, size)) != NULL)
			break;
	}
	cJSON_Delete(j); /* bad is why or a constant */
	return bad;
}

enum request_status request_parse(struct request *a, const char *base,
                                  const char *topic, const char *response,
                                  const char *payload, size_t len, char *why,
                                  size_t size)
{
	const char *bad;

	memset(a, 0, sizeof(*a));
	if (!request_enterprise(base, topic, a->enterprise)) {
		/* no enterprise, no replies subtree to answer in */
		snprintf(why, size,
		         "ignored: the enterprise level is not 1-64 of A-Z a-z "
		         "0-9 _ . -");
		return REQUEST_IGNORED;
	}
	snprintf(a->errors, sizeof(a->errors), "%sreplies/%s/errors", base,
	         a->enterprise);
	if (response != NULL) {
		if (!request_reply_ok(base, a->enterprise, response)) {
			snprintf(why, size,
			         "the Response Topic must be under "
			         "%sreplies/%s/",
			         base, a->enterprise);
			return REQUEST_BAD;
		}
		snprintf(a->reply_to, sizeof(a->reply_to), "%s", response);
	}
	bad = parse_payload(a, base, payload, len, why, size);
	if (bad == NULL && a->reply_to[0] == '\0')
		bad = "no reply topic: give \"reply_to\" (MQTT 3.1.1) or a "
		      "Response Topic property (MQTT 5)";
	if (bad == NULL)
		return REQUEST_OK;
	if (bad != why)
		snprintf(why, size, "%s", bad);
	return REQUEST_BAD;
}
