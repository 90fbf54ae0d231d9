/*
 * request.c - a records request over MQTT parsed into struct request
 * (request.h). Moved out of gateway/daemon/publish_req.c, which keeps the
 * queue, the queries and the replies, so that the parsing can be
 * unit-tested and fuzzed without Paho (tests/unit/test_request.c,
 * tests/fuzz/fuzz_request.c). The messages are the ones the daemon sent.
 */
#include "request.h"

#include <ctype.h>
#include <math.h>
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

/* Is t a topic under the replies prefix want (below it, shorter than
 * MSG_TOPIC_MAX, no wildcard, a topic name a broker takes)? */
static bool reply_under(const char *want, const char *t)
{
	size_t n = strlen(want);
	char why[80];

	return strncmp(t, want, n) == 0 && t[n] != '\0' &&
	       strlen(t) < MSG_TOPIC_MAX && strpbrk(t, "+#") == NULL &&
	       text_mqtt(t, why, sizeof(why)) == 0;
}

bool request_reply_ok(const char *base, const char *ent, const char *t)
{
	char want[MSG_TOPIC_MAX + 80];

	snprintf(want, sizeof(want), "%sreplies/%s/", base, ent);
	return reply_under(want, t);
}

/* Where a request's reply goes and what it echoes: filled by the common
 * part of the parsing, for a records or a replay request. */
struct reply_to {
	const char *under; /* replies must be below this topic prefix */
	char *topic;       /* MSG_TOPIC_MAX bytes; "": none usable yet */
	char *correlation; /* REQUEST_CORRELATION_MAX + 1 bytes */
	bool *has_correlation;
};

/* What an error reply needs first: the correlation (when it is valid
 * UTF-8: it is echoed in a JSON reply) and the reply topic of the
 * request object j, even when the rest of it is refused. */
static void reply_fields(const struct reply_to *rt, const cJSON *j)
{
	const cJSON *it;
	char why[80];

	it = cJSON_GetObjectItemCaseSensitive(j, "correlation");
	if (cJSON_IsString(it) &&
	    strlen(it->valuestring) <= REQUEST_CORRELATION_MAX &&
	    text_utf8(it->valuestring, why, sizeof(why)) == 0) {
		snprintf(rt->correlation, REQUEST_CORRELATION_MAX + 1, "%s",
		         it->valuestring);
		*rt->has_correlation = true;
	}
	it = cJSON_GetObjectItemCaseSensitive(j, "reply_to");
	if (rt->topic[0] == '\0' && cJSON_IsString(it) &&
	    reply_under(rt->under, it->valuestring))
		snprintf(rt->topic, MSG_TOPIC_MAX, "%s", it->valuestring);
}

/* The fields of one kind of request: their names (the last two are
 * always reply_to and correlation), and what checks and keeps the
 * others. */
struct fields {
	const char *const *names;
	size_t n;
	const char *list; /* for the message of an unknown field */
	/* the value of field k (k < n - 2) into the request; NULL or what
	 * is wrong (in why, or a constant) */
	const char *(*take)(void *req, size_t k, const cJSON *it, char *why,
	                    size_t size);
	void *req;
	const struct reply_to *rt;
};

/* One member it of the request (seen: the members so far). Returns NULL,
 * or what is wrong (in why, or a constant). */
static const char *member(const struct fields *f, const cJSON *it, bool *seen,
                          char *why, size_t size)
{
	size_t k = 0;

	while (k < f->n && strcmp(it->string, f->names[k]) != 0)
		k++;
	if (k == f->n) { /* its first 64 bytes, never half a character */
		snprintf(why, size, "unknown field \"%.*s\" (known: %s)",
		         (int)text_utf8_cut(it->string, 64), it->string,
		         f->list);
		return why;
	}
	if (seen[k]) {
		snprintf(why, size, "field \"%s\" given twice", f->names[k]);
		return why;
	}
	seen[k] = true;
	if (k == f->n - 2 || k == f->n - 1) { /* reply_to, correlation */
		if (!cJSON_IsString(it)) {
			snprintf(why, size, "field \"%s\" must be a string",
			         f->names[k]);
			return why;
		}
		if (k == f->n - 1 &&
		    strlen(it->valuestring) > REQUEST_CORRELATION_MAX)
			return "correlation longer than 256 bytes";
		if (k == f->n - 2 &&
		    !reply_under(f->rt->under, it->valuestring)) {
			snprintf(why, size, "reply_to must be a topic under %s",
			         f->rt->under);
			return why;
		}
		return NULL;
	}
	return f->take(f->req, k, it, why, size);
}

/* The payload's fields as f says. Returns NULL, or what is wrong. */
static const char *parse_payload(const struct fields *f, const char *payload,
                                 size_t len, char *why, size_t size)
{
	bool seen[8] = {false};
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
	reply_fields(f->rt, j);
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
		if ((bad = member(f, it, seen, why, size)) != NULL)
			break;
	}
	cJSON_Delete(j); /* bad is why or a constant */
	return bad;
}

/* The common end of both parsers: the Response Topic (response, NULL:
 * none), then the payload, then a reply topic required. */
static enum request_status parse_common(const struct fields *f,
                                        const char *response,
                                        const char *payload, size_t len,
                                        char *why, size_t size)
{
	const char *bad;

	if (response != NULL) {
		if (!reply_under(f->rt->under, response)) {
			snprintf(why, size,
			         "the Response Topic must be under %s",
			         f->rt->under);
			return REQUEST_BAD;
		}
		snprintf(f->rt->topic, MSG_TOPIC_MAX, "%s", response);
	}
	bad = parse_payload(f, payload, len, why, size);
	if (bad == NULL && f->rt->topic[0] == '\0')
		bad = "no reply topic: give \"reply_to\" (MQTT 3.1.1) or a "
		      "Response Topic property (MQTT 5)";
	if (bad == NULL)
		return REQUEST_OK;
	if (bad != why)
		snprintf(why, size, "%s", bad);
	return REQUEST_BAD;
}

/* A records request's own fields: instrument (0) and since (1). */
static const char *take_records(void *req, size_t k, const cJSON *it, char *why,
                                size_t size)
{
	static const char *const names[] = {"instrument", "since"};
	struct request *a = req;
	const char *v;

	if (!cJSON_IsString(it)) {
		snprintf(why, size, "field \"%s\" must be a string", names[k]);
		return why;
	}
	v = it->valuestring;
	if (k == 0) {
		if (v[0] == '\0' || strlen(v) >= CALIB_ID)
			return "instrument must be an instrument id";
		snprintf(a->instrument, sizeof(a->instrument), "%s", v);
	} else if (utc_parse(v, UTC_ABSOLUTE, 0, &a->since_us) < 0) {
		return "since must be an ISO 8601 date such as "
		       "\"2026-01-31\" or \"2026-01-31T08:00:00Z\"";
	}
	return NULL;
}

enum request_status request_parse(struct request *a, const char *base,
                                  const char *topic, const char *response,
                                  const char *payload, size_t len, char *why,
                                  size_t size)
{
	static const char *const names[] = {"instrument", "since", "reply_to",
	                                    "correlation"};
	char under[MSG_TOPIC_MAX + 80];
	struct reply_to rt = {under, a->reply_to, a->correlation,
	                      &a->has_correlation};
	const struct fields f = {
	        names,        4, "instrument, since, reply_to, correlation",
	        take_records, a, &rt};

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
	snprintf(under, sizeof(under), "%sreplies/%s/", base, a->enterprise);
	return parse_common(&f, response, payload, len, why, size);
}

/* A replay request's own fields: from (0) and to (1), seqs. */
static const char *take_replay(void *req, size_t k, const cJSON *it, char *why,
                               size_t size)
{
	struct replay_request *a = req;
	double v = cJSON_IsNumber(it) ? it->valuedouble : 0;

	if (!(v >= 1 && v <= 9007199254740992.0 && v == floor(v))) {
		snprintf(why, size,
		         "field \"%s\" must be a seq (an integer "
		         "from 1)",
		         k == 0 ? "from" : "to");
		return why;
	}
	if (k == 0)
		a->from = (int64_t)v;
	else
		a->to = (int64_t)v;
	return NULL;
}

enum request_status request_parse_replay(struct replay_request *a,
                                         const char *base, const char *response,
                                         const char *payload, size_t len,
                                         char *why, size_t size)
{
	static const char *const names[] = {"from", "to", "reply_to",
	                                    "correlation"};
	char under[MSG_TOPIC_MAX + 80];
	struct reply_to rt = {under, a->reply_to, a->correlation,
	                      &a->has_correlation};
	const struct fields f = {
	        names,       4, "from, to, reply_to, correlation",
	        take_replay, a, &rt};
	enum request_status st;

	memset(a, 0, sizeof(*a));
	snprintf(a->errors, sizeof(a->errors), "%sreplay/replies/errors", base);
	snprintf(under, sizeof(under), "%sreplay/replies/", base);
	st = parse_common(&f, response, payload, len, why, size);
	if (st != REQUEST_OK)
		return st;
	if (a->from == 0 || a->to == 0 || a->to < a->from ||
	    a->to - a->from >= REPLAY_SPAN_MAX) {
		snprintf(
		        why, size,
		        "give \"from\" and \"to\", from <= to, at most %d seqs "
		        "a request",
		        REPLAY_SPAN_MAX);
		return REQUEST_BAD;
	}
	return REQUEST_OK;
}
