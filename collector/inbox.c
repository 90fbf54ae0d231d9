/*
 * inbox.c - a gateway's MQTT message read for the archive (inbox.h): the
 * topic split against the configured prefix, the payload parsed with cJSON
 * and checked for what the archive keys on. The payload itself goes to
 * PostgreSQL as jsonb (archive.c); this file only decides whether it is
 * one the archive can take, so that a malformed message is refused here,
 * once, instead of failing a transaction again and again.
 */
#include "inbox.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

static const char *const kind_names[] = {"readings", "events", "status",
                                         "gateway",  "record", "approval"};

const char *inbox_kind_name(enum inbox_kind k)
{
	return kind_names[k];
}

/* Copy the topic level at *p (up to '/' or the end) into out; *p moves
 * past it and its '/'. Returns 0, or -1 when empty or too long. */
static int level(const char **p, char *out, size_t size)
{
	size_t n = strcspn(*p, "/");

	if (n == 0 || n >= size)
		return -1;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n + ((*p)[n] == '/');
	return 0;
}

static int read_topic(struct inbox_msg *m, const char *prefix,
                      const char *topic)
{
	size_t pl = strlen(prefix);
	char kind[16];
	const char *p;

	if (strncmp(topic, prefix, pl) != 0 || topic[pl] != '/')
		return -1;
	p = topic + pl + 1;
	if (level(&p, m->site, sizeof(m->site)) == 0 &&
	    strcmp(p, "calibrations") == 0) {
		m->kind = INBOX_RECORD; /* or an approval: its "type" says */
		return 0;
	}
	p = topic + pl + 1;
	if (level(&p, m->site, sizeof(m->site)) < 0 ||
	    level(&p, m->instrument, sizeof(m->instrument)) < 0 ||
	    strchr(p, '/') != NULL || level(&p, kind, sizeof(kind)) < 0)
		return -1;
	if (strcmp(kind, "readings") == 0)
		m->kind = INBOX_READINGS;
	else if (strcmp(kind, "events") == 0)
		m->kind = INBOX_EVENT;
	else if (strcmp(kind, "status") == 0)
		m->kind = INBOX_STATUS;
	else
		return -1;
	return 0;
}

int inbox_reply_site(const char *prefix, const char *client_id,
                     const char *topic, char site[INBOX_NAME_MAX])
{
	size_t pl = strlen(prefix);
	const char *p;

	if (strncmp(topic, prefix, pl) != 0 || topic[pl] != '/')
		return -1;
	p = topic + pl + 1;
	if (level(&p, site, INBOX_NAME_MAX) < 0 ||
	    strncmp(p, "replay/replies/", 15) != 0 ||
	    strcmp(p + 15, client_id) != 0)
		return -1;
	return 0;
}

/* A readings message's channels: an object whose members are objects
 * with a string quality and a number or null value. */
static int check_channels(const cJSON *ch)
{
	const cJSON *c;

	if (!cJSON_IsObject(ch))
		return -1;
	cJSON_ArrayForEach(c, ch)
	{
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "value");
		const cJSON *q = cJSON_GetObjectItemCaseSensitive(c, "quality");

		if (!cJSON_IsObject(c) || c->string == NULL ||
		    c->string[0] == '\0' || !cJSON_IsString(q) ||
		    (v != NULL && !cJSON_IsNull(v) && !cJSON_IsNumber(v)))
			return -1;
	}
	return 0;
}

/* Whether j's member key is an integer from 1 to 2^53. */
static bool positive(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

	return cJSON_IsNumber(v) && v->valuedouble >= 1 &&
	       v->valuedouble <= 9007199254740992.0 &&
	       v->valuedouble == floor(v->valuedouble);
}

/* A calibrations message (docs/MQTT.md): its type into m->kind, its
 * instrument into m->instrument. Returns 0, or -1 with err. */
static int read_calibration(struct inbox_msg *m, const cJSON *j, char *err,
                            size_t errlen)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(j, "instrument");

	if (!cJSON_IsString(in) || in->valuestring[0] == '\0' ||
	    strlen(in->valuestring) >= sizeof(m->instrument)) {
		snprintf(err, errlen, "seq %lld: no instrument",
		         (long long)m->seq);
		return -1;
	}
	strcpy(m->instrument, in->valuestring);
	if (cJSON_IsString(type) && strcmp(type->valuestring, "record") == 0 &&
	    positive(j, "record") &&
	    cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "points")))
		m->kind = INBOX_RECORD;
	else if (cJSON_IsString(type) &&
	         strcmp(type->valuestring, "approval") == 0 &&
	         positive(j, "approval") && positive(j, "record"))
		m->kind = INBOX_APPROVAL;
	else {
		snprintf(err, errlen,
		         "seq %lld: not a calibration record or approval",
		         (long long)m->seq);
		return -1;
	}
	return 0;
}

/* The fields of a parsed payload into m. Returns 0, or -1 with err. */
static int read_fields(struct inbox_msg *m, const cJSON *j, char *err,
                       size_t errlen)
{
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(j, "seq");
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(j, "ts");
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(j, "instrument");
	const cJSON *hist = cJSON_GetObjectItemCaseSensitive(j, "historical");

	if (m->kind == INBOX_STATUS && seq == NULL &&
	    strcmp(m->instrument, "gateway") == 0) {
		m->kind = INBOX_GATEWAY_STATUS; /* not from the outbox */
		if (cJSON_IsString(ts) &&
		    strlen(ts->valuestring) < INBOX_TS_MAX)
			strcpy(m->ts, ts->valuestring);
		return 0;
	}
	if (!positive(j, "seq")) {
		snprintf(err, errlen, "no seq (a positive integer)");
		return -1;
	}
	m->seq = (int64_t)seq->valuedouble;
	if (!cJSON_IsString(ts) || strlen(ts->valuestring) < 20 ||
	    strlen(ts->valuestring) >= INBOX_TS_MAX) {
		snprintf(err, errlen, "seq %lld: no ts (an ISO 8601 time)",
		         (long long)m->seq);
		return -1;
	}
	strcpy(m->ts, ts->valuestring);
	m->historical = cJSON_IsTrue(hist);
	if (m->kind == INBOX_RECORD)
		return read_calibration(m, j, err, errlen);
	if (!cJSON_IsString(in) ||
	    strcmp(in->valuestring, m->instrument) != 0) {
		snprintf(err, errlen,
		         "seq %lld: instrument is not the topic's \"%s\"",
		         (long long)m->seq, m->instrument);
		return -1;
	}
	m->historical = cJSON_IsTrue(hist);
	if (m->kind == INBOX_READINGS &&
	    check_channels(cJSON_GetObjectItemCaseSensitive(j, "channels")) <
	            0) {
		snprintf(err, errlen, "seq %lld: channels malformed",
		         (long long)m->seq);
		return -1;
	}
	return 0;
}

int inbox_read(struct inbox_msg *m, const char *prefix, const char *topic,
               const char *payload, size_t len, char *err, size_t errlen)
{
	char why[64];
	char *text;
	cJSON *j;
	int rc;

	memset(m, 0, sizeof(*m));
	if (read_topic(m, prefix, topic) < 0) {
		snprintf(err, errlen, "not a gateway's topic under %s/",
		         prefix);
		return -1;
	}
	if (memchr(payload, '\0', len) != NULL) {
		snprintf(err, errlen, "a NUL byte in the payload");
		return -1;
	}
	text = malloc(len + 1);
	if (text == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(text, payload, len);
	text[len] = '\0';
	if (text_utf8(text, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "payload %s", why);
		free(text);
		return -1;
	}
	j = cJSON_Parse(text);
	free(text);
	if (!cJSON_IsObject(j)) {
		snprintf(err, errlen, "payload is not a JSON object");
		cJSON_Delete(j);
		return -1;
	}
	rc = read_fields(m, j, err, errlen);
	cJSON_Delete(j);
	return rc;
}
