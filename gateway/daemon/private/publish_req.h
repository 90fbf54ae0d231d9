/*
 * publish_req.h - records requests over MQTT (docs/MQTT.md, Records on
 * request): the internal interface between publish.c (the publisher: the
 * connection, the callbacks, the step) and publish_req.c (the requests:
 * their queue, the read-only queries and the replies; their parsing is
 * core/request.c). Both are the publish module, the only files that
 * include <MQTTAsync.h>; nothing outside it includes this header (SQLite's
 * btree.h / btreeInt.h split).
 *
 * Threading: struct reqs belongs to the publisher. Its queue (a share
 * per enterprise, publish_req.c) and its dropped counter are touched
 * only under the publisher's mutex (p->mu): Paho's thread pushes
 * (reqs_push, from on_message), the publisher's thread pops (reqs_pop,
 * reqs_pop_busy). Everything else (the query connection, the counters
 * of answers, the log's rate limit) is the publisher's thread's.
 */
#ifndef METROLOG_PUBLISH_REQ_H
#define METROLOG_PUBLISH_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <MQTTAsync.h>

#include "config.h"
#include "mclock.h"
#include "request.h"

#define REQ_PAYLOAD_MAX REQUEST_PAYLOAD_MAX /* bytes of a request */
#define REQ_REPLY_MAX   (1024 * 1024)       /* bytes of a reply, at most */

/* The queue, shared out by enterprise (docs/MQTT.md, Delivery and
 * limits): REQ_PER_ENTERPRISE requests waiting at most in each share, a
 * share for each of REQ_ENTERPRISES enterprises and one for everyone
 * else (264 requests in all); REQ_PER_STEP answered per
 * publisher_step(), and as many busy replies at most; a busy reply per
 * share per REQ_BUSY_S seconds at most, and the wait it asks for. */
#define REQ_PER_ENTERPRISE 8
#define REQ_ENTERPRISES    32
#define REQ_SHARES         (REQ_ENTERPRISES + 1)
#define REQ_PER_STEP       4
#define REQ_BUSY_S         5

/* Replays (docs/MQTT.md, Replay; mqtt.replay_per_s > 0): REPLAY_QUEUE
 * requests waiting at most (more are dropped, counted: the requester asks
 * again), answered one at a time, REPLAY_PER_STEP messages per
 * publisher_step() at most, and mqtt.replay_per_s a second (a token
 * bucket holding REPLAY_BURST_US of that rate). REQ_EXTRA: the messages
 * a step may hand Paho besides the outbox's and the gateway's status. */
#define REPLAY_QUEUE    8
#define REPLAY_PER_STEP 32
#define REPLAY_BURST_US 200000
#define REQ_EXTRA       (2 * REQ_PER_STEP + REPLAY_PER_STEP + 1)

struct reqs;
struct req; /* one queued request: its copy, owned by the queue */

/* The requests side of a publisher for c (c->mqtt->requests true); its
 * rate limits and caches read clk (the publisher's). NULL with the reason
 * in err. c and clk must outlive it. */
struct reqs *reqs_new(const struct config *c, const struct mclock *clk,
                      char *err, size_t errlen);
/* Frees the queued requests and closes the query connection. NULL
 * allowed. Only once Paho calls back no more. */
void reqs_free(struct reqs *r);

/* The requests side is needed for c: records requests or replays. */
bool reqs_wanted(const struct config *c);

/* "<prefix>/<site>/requests/+/records" (with mqtt.requests) and
 * "<prefix>/<site>/replay/request" (with replays): subscribe to each that
 * is not "" (QoS 1) on every connection. */
const char *reqs_filter(const struct reqs *r);
const char *reqs_replay_filter(const struct reqs *r);

/* Does topic match one of the filters? Any thread (reads constants). */
bool reqs_match(const struct reqs *r, const char *topic);

/* Under the publisher's mutex, on Paho's thread: copy the request msg on
 * topic (at most REQ_PAYLOAD_MAX + 1 bytes of its payload, its Response
 * Topic and Correlation Data properties) into its enterprise's share of
 * the queue. When the share is full it is not queued but dropped and
 * counted, and held for a busy reply when its share holds none yet.
 * Returns 0 when queued or held (something for the publisher's thread), -1
 * when only counted (no room, or memory ran out). */
int reqs_push(struct reqs *r, const char *topic, const MQTTAsync_message *msg);

/* Under the publisher's mutex, on the ingest thread: the oldest replay
 * request waiting, now the caller's for reqs_replay_step(), when no
 * replay is under way; NULL otherwise. */
struct req *reqs_pop_replay(struct reqs *r);

/* Ingest thread, without the mutex: start replaying q (from
 * reqs_pop_replay(), NULL: none), or go on with the replay under way,
 * sending what the token bucket allows at mono_us (monotonic) straight to
 * Paho, then its reply once every seq asked for was sent or found missing
 * (docs/MQTT.md, Replay). */
void reqs_replay_step(struct reqs *r, struct req *q, MQTTAsync client,
                      int64_t mono_us);

/* Under the publisher's mutex: the oldest queued request of the next
 * share in turn (round robin; NULL: none), now the caller's, for
 * reqs_answer(). */
struct req *reqs_pop(struct reqs *r);

/* Under the publisher's mutex: a request held for a busy reply whose
 * share had none in the REQ_BUSY_S s before mono_us (monotonic), now the
 * caller's, for reqs_answer_busy(); NULL: none. Held ones whose share
 * had one are freed on the way (they stay counted as dropped). */
struct req *reqs_pop_busy(struct reqs *r, int64_t mono_us);

/* Under the publisher's mutex: how many requests are queued (waiting
 * for an answer, in no count yet); whether any is queued or held for a
 * busy reply (work for the next step); how many were dropped (not
 * queued, busy replies included) since the start. */
size_t reqs_queued(const struct reqs *r);
bool reqs_pending(const struct reqs *r);
uint64_t reqs_dropped(const struct reqs *r);

/* Ingest thread, without the mutex: answer q from the database (read
 * only) with one QoS 1 message sent straight to Paho (not through the
 * outbox), log what was wrong with it, and free q. now_us: UTC. */
void reqs_answer(struct reqs *r, struct req *q, MQTTAsync client,
                 int64_t now_us);

/* Ingest thread, without the mutex: answer q "busy, retry after
 * REQ_BUSY_S s" (msg_reply_busy()) on its reply topic, or its errors
 * topic when it has none usable, with its correlation, and free q. */
void reqs_answer_busy(struct reqs *r, struct req *q, MQTTAsync client);

/* Ingest thread: log requests dropped since the last log, at most once a
 * minute (mono_us: monotonic). */
void reqs_log_dropped(struct reqs *r, uint64_t dropped, int64_t mono_us);

/* Ingest thread: requests answered with records, with an error (or
 * ignored: an enterprise level that is not a name), and busy replies
 * sent (to requests counted as dropped). */
void reqs_counts(const struct reqs *r, uint64_t *answered, uint64_t *errors,
                 uint64_t *busy);

#endif
