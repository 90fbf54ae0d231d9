/*
 * publish.h - MQTT: topics and JSON payloads (docs/MQTT.md is the contract),
 * and the publisher that drains the database's outbox to the broker.
 *
 * The only module that includes <MQTTAsync.h> and <cjson/cJSON.h>. It owns
 * every payload: the store calls the publish_*_payload() builders inside
 * its append transaction, so that the outbox holds final messages; only
 * "historical" is added when a message is sent (it depends on when).
 *
 * Threading: the payload builders are pure and may run on any thread. A
 * struct publisher belongs to the ingest thread, which drives it with
 * publisher_step() after each COMMIT and periodically; Paho's own threads
 * run its callbacks, which only record what happened (connected, lost,
 * acknowledged) under the publisher's mutex for the next step to act on,
 * and wake publisher_wait().
 */
#ifndef METROLOG_PUBLISH_H
#define METROLOG_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct store;

#define PUBLISH_TOPIC_MAX 512

/* One channel of a readings message. */
struct publish_channel {
	const char *name;
	const char *unit; /* "" when none */
	double value;     /* ignored unless quality is 0 (good) */
	int quality;      /* enum quality */
	int digits;       /* significant digits the source carries (7 for a
	                     float32, so 101.32793 is not sent as
	                     101.32792663574219); 0: all of a double */
};

/* "<prefix>/<site>/<leaf1>[/<leaf2>]" into buf. Returns 0, or -1 when it
 * does not fit. */
int publish_topic(char *buf, size_t size, const char *prefix, const char *site,
                  const char *leaf1, const char *leaf2);

/* The payloads, without "historical" (added when sent), into buf as a
 * NUL-terminated JSON object. Each returns its length, or -1 when it does
 * not fit in size or memory runs out. */
int publish_readings_payload(char *buf, size_t size, int64_t seq, int64_t ts_us,
                             const char *instrument,
                             const struct publish_channel *ch, size_t n);
/* kind: "online" or "offline"; reason: NULL or e.g. "timeout". */
int publish_event_payload(char *buf, size_t size, int64_t seq, int64_t ts_us,
                          const char *instrument, const char *kind,
                          const char *reason);
/* A tolerance state change (kind "tolerance") or a control chart's signal
 * (kind "drift", from and to NULL) of one channel; error NAN: none. */
struct publish_tolerance {
	const char *kind, *channel, *unit, *from, *to, *detail;
	double error, lower, upper;
};
int publish_tolerance_payload(char *buf, size_t size, int64_t seq,
                              int64_t ts_us, const char *instrument,
                              const struct publish_tolerance *t);

/* The tolerance state of one channel, for a status. */
struct publish_chstate {
	const char *channel, *state;
};

/* The calibration in force of an instrument or standard, for a status and
 * a calibration event. */
struct publish_calstate {
	const char *state;       /* "none", "ok", "due_soon", "overdue" */
	int64_t due_us;          /* 0: no due date */
	const char *certificate; /* "" never calibrated */
	bool reference_overdue;  /* in use as a reference while overdue */
};

/* The retained status of an instrument or standard: state "online" or
 * "offline" (NULL: not known yet, or a standard, which is not polled)
 * with its reason; the tolerance state of each of its n channels that
 * have one (n = 0: no "tolerance" member); the calibration in force
 * (NULL: no "calibration" member). */
int publish_status_payload(char *buf, size_t size, int64_t seq, int64_t ts_us,
                           const char *instrument, const char *state,
                           const char *reason, const struct publish_chstate *ch,
                           size_t n, const struct publish_calstate *cal);

/* A change of the calibration due state (from, to: the calib_due_name()s;
 * equal when only the certificate in force changed), with the detail
 * sentence of the events row. */
int publish_calibration_payload(char *buf, size_t size, int64_t seq,
                                int64_t ts_us, const char *instrument,
                                const char *from, const char *to,
                                const struct publish_calstate *cal,
                                const char *detail);

/* "2026-11-26T12:00:00.123456Z" (28 bytes with the NUL). */
void publish_iso_time(char *buf, size_t size, int64_t ts_us);

struct publisher;

struct publisher_stats {
	uint64_t sent;     /* messages handed to Paho (resends included) */
	uint64_t acked;    /* acknowledgements (PUBACK at QoS 1), refusals
	                      included */
	uint64_t refused;  /* MQTT 5: PUBACKs with a reason code >= 0x80: the
	                      broker refused the message; dropped, not resent */
	uint64_t resent;   /* sent again after a reconnect or failure */
	uint64_t connects; /* successful connections */
	/* records requests (mqtt.requests; docs/MQTT.md, Records on
	 * request): answered with records, answered with an error, and
	 * dropped unanswered because the queue of requests was full */
	uint64_t requests, request_errors, requests_dropped;
	bool connected;
};

/* A publisher for c->mqtt (which must not be NULL) and site c->site; it
 * reads the password from c->mqtt->password_file (if any) now, and starts
 * connecting at once (in the background; over TLS with c->mqtt->tls).
 * Returns NULL with the reason in err (never the password). c must
 * outlive it. */
struct publisher *publisher_new(const struct config *c, char *err,
                                size_t errlen);

/*
 * One turn, on the ingest thread: act on what Paho's callbacks recorded
 * (connected, lost, acknowledged), delete the outbox rows whose
 * acknowledgement arrived (in seq order: a row leaves only when it and all
 * before it are acknowledged), (re)connect with capped back-off, send the
 * rows after the last sent one while fewer than inflight are unacknowledged,
 * republish the gateway's status when its backlog changed, and answer a
 * few queued records requests (mqtt.requests) from the database at
 * c->database, read-only (query.h). now_us:
 * UTC microseconds. Returns 0, or -1 on a database error (logged; the
 * next step tries again).
 */
int publisher_step(struct publisher *p, struct store *st, int64_t now_us);

/* Wait up to timeout_us for something to act on (an acknowledgement, a
 * connection made or lost, Home Assistant's "online", a records request):
 * the callbacks
 * signal it, so the caller steps again at once. Returns at once if
 * something happened since the last publisher_step(). */
void publisher_wait(struct publisher *p, int64_t timeout_us);

/* true when the outbox is empty and nothing is in flight. */
bool publisher_idle(const struct publisher *p);

/* true while connected with something to send or acknowledge, or records
 * requests waiting for an answer: the caller should step again soon. */
bool publisher_busy(const struct publisher *p);

void publisher_get_stats(struct publisher *p, struct publisher_stats *s);

/*
 * Orderly stop: keep stepping for at most timeout_ms while there is
 * something to send and a connection, then publish the gateway's retained
 * "offline" status and disconnect (so the Last Will is not sent), and free
 * p. What is still in the outbox is sent at the next start. NULL allowed.
 */
void publisher_stop(struct publisher *p, struct store *st, int timeout_ms);

#endif
