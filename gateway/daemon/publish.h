/*
 * publish.h - the publisher: drains the database's outbox to the MQTT
 * broker (docs/MQTT.md is the contract of what is published).
 *
 * With publish_req.c, the only module that includes <MQTTAsync.h>. It
 * builds no data message: the composer (compose.c) turns each batch into
 * outbox rows with msg.c's payloads in the batch's transaction, and the
 * publisher only sends them; it adds "historical" when a message is sent
 * late (that depends on when), and sends its own retained status and the
 * Home Assistant discovery configs (msg.c builds both) straight to Paho.
 *
 * Threading: a struct publisher belongs to the ingest thread, which drives
 * it with publisher_step() after each COMMIT and periodically; Paho's own
 * threads run its callbacks, which only record what happened (connected,
 * lost, acknowledged) under the publisher's mutex for the next step to act
 * on, and wake publisher_wait().
 */
#ifndef METROLOG_PUBLISH_H
#define METROLOG_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "mclock.h"

struct store;

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
	 * request): answered with records, answered with an error (or
	 * ignored), dropped because their enterprise's share of the queue
	 * was full, and of those, answered "busy"; and waiting in the queue
	 * now (in none of the counts yet) */
	uint64_t requests, request_errors, requests_dropped, requests_busy;
	uint64_t requests_waiting;
	bool connected;
};

/* A publisher for c->mqtt (which must not be NULL) and site c->site; it
 * reads the password from c->mqtt->password_file (if any) now, and starts
 * connecting at once (in the background; over TLS with c->mqtt->tls).
 * Its timers (reconnect back-off, status updates, rate limits, the stop's
 * deadlines) read clk, on the ingest thread only; metrologd passes the
 * clock it gives the ingest loop. Returns NULL with the reason in err
 * (never the password). c and clk must outlive it. */
struct publisher *publisher_new(const struct config *c,
                                const struct mclock *clk, char *err,
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
