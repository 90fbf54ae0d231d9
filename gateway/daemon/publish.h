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
 * Threading: a struct publisher runs on a thread of its own (the second
 * core), with its own SQLite connection to the database for reading the
 * outbox: the ingest thread only tells it that rows were committed
 * (publisher_committed()) and deletes, in its own next transaction, the
 * rows it says were acknowledged (publisher_acked()), so the two never
 * fight for the write lock. Paho's own threads run its callbacks, which
 * only record what happened (connected, lost, acknowledged) under the
 * publisher's mutex and wake the publisher's thread.
 */
#ifndef METROLOG_PUBLISH_H
#define METROLOG_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compose.h"
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
 * reads the password from c->mqtt->password_file (if any) now, opens its
 * own connection to c->database, starts its thread and starts connecting
 * at once (in the background; over TLS with c->mqtt->tls).
 * Its timers (reconnect back-off, status updates, rate limits, the stop's
 * deadlines) read clk, on its thread; metrologd passes the clock it gives
 * the ingest loop. Returns NULL with the reason in err (never the
 * password). c and clk must outlive it.
 *
 * Its thread, in turns: act on what Paho's callbacks recorded (connected,
 * lost, acknowledged), (re)connect with capped back-off, send the outbox
 * rows after the last sent one (seq order, at most inflight
 * unacknowledged; a readings row's payload built now, docs/SCHEMA.md
 * outbox), republish the gateway's status when its backlog changed, and
 * answer a few queued records requests (mqtt.requests) from the database
 * at c->database, read-only (query.h). Between turns it waits for a
 * publisher_committed(), a callback's record (acknowledgements only when
 * the window or Paho's queue was full, or the last row in flight was
 * acknowledged), a stop, or at most 100 ms (50 ms with rows in flight:
 * an acknowledged row is returned by publisher_acked() within 50 ms;
 * 5 ms with records requests waiting). */
struct publisher *publisher_new(const struct config *c,
                                const struct mclock *clk, char *err,
                                size_t errlen);

/* The ingest thread: outbox rows were committed (wakes the publisher);
 * r (NULL: none) the readings messages among them (composer_readings()),
 * copied: the publisher builds their payloads from the copy, or from the
 * database when the copies already hold COPY_MAX_BYTES (64 MiB: a backlog
 * while the broker is away), after a restart or a reload. */
void publisher_committed(struct publisher *p,
                         const struct composed_readings *r);

/* The ingest thread: every outbox row with seq <= the value returned was
 * acknowledged (a row counts only when it and all before it were): the
 * caller deletes them (store_batch.outbox_delete, store_outbox_delete()).
 * 0: none yet. */
int64_t publisher_acked(struct publisher *p);

/* A copy of the counters (any thread). */
void publisher_get_stats(struct publisher *p, struct publisher_stats *s);

/* The stop begins (publisher_stop() below, with timeout_ms): returns once
 * the publisher answers no more records requests, so that the counters
 * read next (publisher_get_stats()) count every request as answered,
 * dropped or waiting for good; it goes on sending meanwhile. NULL
 * allowed. */
void publisher_stopping(struct publisher *p, int timeout_ms);

/*
 * Orderly stop, from the thread that made p (after publisher_stopping(),
 * or not: then its timeout_ms): its thread keeps sending for
 * at most timeout_ms while there is something to send and a connection,
 * then publishes the gateway's retained "offline" status, disconnects (so
 * the Last Will is not sent) and ends; then the rows acknowledged are
 * deleted through st (the caller's connection) and p is freed. What is
 * still in the outbox is sent at the next start. NULL allowed.
 */
void publisher_stop(struct publisher *p, struct store *st, int timeout_ms);

#endif
