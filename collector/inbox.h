/*
 * inbox.h - one MQTT message of a gateway, as the collector reads it: the
 * site, instrument and kind from the topic, the fields every archived
 * message needs from the JSON payload (docs/MQTT.md). No Paho, no libpq:
 * unit-testable alone.
 */
#ifndef METROLOG_INBOX_H
#define METROLOG_INBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INBOX_NAME_MAX 65 /* ids are 1-64 characters (docs/MQTT.md) */
#define INBOX_TS_MAX   40

enum inbox_kind {
	INBOX_READINGS,       /* <prefix>/<site>/<instrument>/readings */
	INBOX_EVENT,          /* <prefix>/<site>/<instrument>/events */
	INBOX_STATUS,         /* <prefix>/<site>/<instrument>/status */
	INBOX_GATEWAY_STATUS, /* <prefix>/<site>/gateway/status, no seq */
	INBOX_RECORD,   /* <prefix>/<site>/calibrations, "type":"record" */
	INBOX_APPROVAL, /* <prefix>/<site>/calibrations, "type":"approval" */
};

struct inbox_msg {
	enum inbox_kind kind;
	char site[INBOX_NAME_MAX];
	char instrument[INBOX_NAME_MAX]; /* "gateway" for a gateway status;
	                                    the payload's for calibrations */
	int64_t seq;                     /* > 0; 0 for a gateway status */
	char ts[INBOX_TS_MAX];           /* ISO 8601 UTC; "" when absent
	                                    (a Last Will) */
	bool historical;
};

/* Read topic (NUL-terminated) and payload (len bytes, need not be
 * terminated) into m. prefix is the gateways' mqtt.prefix (one level or
 * more, without a trailing '/'). Returns 0, or -1 with why in err: a topic
 * not under prefix or not of the six kinds, a payload that is not the
 * JSON object of docs/MQTT.md (seq a positive integer, ts a string,
 * instrument the topic's, a readings message's channels an object of
 * objects; on calibrations, instrument a name, type "record" with a
 * positive integer "record" and a "points" array, or "approval" with
 * positive integers "approval" and "record"), and a payload that is not
 * valid UTF-8. */
int inbox_read(struct inbox_msg *m, const char *prefix, const char *topic,
               const char *payload, size_t len, char *err, size_t errlen);

/* Is topic a gateway's reply to this collector's replay request,
 * <prefix>/<site>/replay/replies/<client_id>? Its site into site. Returns
 * 0 when it is, -1 otherwise. */
int inbox_reply_site(const char *prefix, const char *client_id,
                     const char *topic, char site[INBOX_NAME_MAX]);

/* The kind's word as the archive stores it: "readings", "events",
 * "status", "gateway", "record", "approval". */
const char *inbox_kind_name(enum inbox_kind k);

#endif
