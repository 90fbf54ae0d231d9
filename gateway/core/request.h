/*
 * request.h - a records request over MQTT, as data (docs/MQTT.md, Records
 * on request, is the contract): the enterprise from the request's topic,
 * the reply topic (the MQTT 5 Response Topic or "reply_to"), and the JSON
 * payload's fields.
 *
 *   <prefix>/<site>/requests/<enterprise>/records   the request's topic
 *   <prefix>/<site>/replies/<enterprise>/...         where replies may go
 *   <prefix>/<site>/replies/<enterprise>/errors      an error reply, when
 *                                                    the request gave no
 *                                                    usable reply topic
 *
 *   field        JSON type  meaning
 *   instrument   string     only this instrument (an id, 1-64 bytes)
 *   since        string     "2026-01-31" (midnight UTC) or
 *                           "2026-01-31T08:00:00Z" (fraction allowed)
 *   reply_to     string     the reply topic, under the replies above
 *   correlation  string     at most REQUEST_CORRELATION_MAX bytes, echoed
 *
 * Every field is optional but a reply topic; any other field, a field
 * given twice or of another type is refused, and so is a payload that is
 * not valid UTF-8 (its strings are echoed in JSON replies and used as
 * topics): the correlation and reply topic its error reply gets are
 * each kept only when valid themselves. A reply topic is also refused
 * when a broker would refuse it as a topic name (control characters,
 * non-characters: text_mqtt()). The enterprise is the topic level the
 * broker's ACL checked, never a field of the payload.
 *
 * A replay request (docs/MQTT.md, Replay) is parsed here too, by the same
 * code: <prefix>/<site>/replay/request, fields from and to (seqs, at most
 * REPLAY_SPAN_MAX of them), reply_to and correlation, the reply under
 * <prefix>/<site>/replay/replies/ (errors without a usable reply topic on
 * <prefix>/<site>/replay/replies/errors).
 *
 * Pure (cJSON inside, no Paho types, no I/O, no global state): any thread.
 * The publisher (gateway/daemon/publish_req.c) queues requests, calls
 * request_parse() and answers from the database.
 */
#ifndef METROLOG_REQUEST_H
#define METROLOG_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calib.h"
#include "msg.h"

#define REQUEST_PAYLOAD_MAX     (4 * 1024) /* bytes of a request, at most */
#define REQUEST_NAME_MAX        64         /* bytes of an enterprise id */
#define REQUEST_CORRELATION_MAX 256        /* bytes of "correlation" */

/* What a request asks, once parsed. Strings are NUL-terminated. */
struct request {
	char enterprise[REQUEST_NAME_MAX + 1];
	char reply_to[MSG_TOPIC_MAX];    /* where the reply goes, "": none
	                                    usable (use errors) */
	char errors[MSG_TOPIC_MAX + 80]; /* <base>replies/<enterprise>/errors */
	char instrument[CALIB_ID];       /* "": all of the enterprise's */
	char correlation[REQUEST_CORRELATION_MAX + 1];
	bool has_correlation; /* false: none (null in replies) */
	int64_t since_us;     /* UTC us; 0: all */
};

enum request_status {
	REQUEST_OK,      /* answer it */
	REQUEST_BAD,     /* answer with an error reply: why says what */
	REQUEST_IGNORED, /* no enterprise, so nowhere to answer: log why */
};

/*
 * Parse a request. base is "<prefix>/<site>/"; topic the request's topic;
 * response its MQTT 5 Response Topic, NULL when none (or too long to
 * use); payload its first min(len, REQUEST_PAYLOAD_MAX + 1) bytes followed
 * by a NUL, len its whole length on the wire. Fills *a as far as it got:
 * after REQUEST_BAD, a->reply_to ("" or a checked topic), a->errors and
 * the correlation are what the error reply needs. why (what is wrong, for
 * the reply and the log) is set unless REQUEST_OK.
 */
enum request_status request_parse(struct request *a, const char *base,
                                  const char *topic, const char *response,
                                  const char *payload, size_t len, char *why,
                                  size_t size);

/* The enterprise level of a request's topic <base>requests/<ent>/...
 * into ent; false when the topic is not under <base>requests/ or the
 * level is not a name (1-64 of A-Z a-z 0-9 _ . -). */
bool request_enterprise(const char *base, const char *topic,
                        char ent[REQUEST_NAME_MAX + 1]);

/* Is t a topic to publish on under <base>replies/<enterprise>/ (below
 * it, shorter than MSG_TOPIC_MAX, no wildcard, text a broker takes as a
 * topic name: text_mqtt())? */
bool request_reply_ok(const char *base, const char *enterprise, const char *t);

/* A replay request, once parsed (docs/MQTT.md, Replay). */
#define REPLAY_SPAN_MAX 10000 /* seqs a request may ask for, at most */
struct replay_request {
	int64_t from, to;                /* the seqs asked for, inclusive */
	char reply_to[MSG_TOPIC_MAX];    /* "": none usable (use errors) */
	char errors[MSG_TOPIC_MAX + 80]; /* <base>replay/replies/errors */
	char correlation[REQUEST_CORRELATION_MAX + 1];
	bool has_correlation;
};

/* Parse a replay request as request_parse() does a records request (base
 * "<prefix>/<site>/", response the MQTT 5 Response Topic or NULL, payload
 * and len likewise): REQUEST_OK, or REQUEST_BAD with why (a->reply_to,
 * a->errors and the correlation then say where the error goes). */
enum request_status request_parse_replay(struct replay_request *a,
                                         const char *base, const char *response,
                                         const char *payload, size_t len,
                                         char *why, size_t size);

#endif
