/*
 * publish.c - MQTT: the publisher that
 * drains the outbox to the broker with Paho's asynchronous client
 * (MQTTAsync, MQTT 3.1.1, or MQTT 5 with mqtt.version = 5). docs/MQTT.md is
 * the contract of what is published; publish.h the contract of the
 * functions.
 *
 * Commit before publish: every message but the gateway's own status comes
 * from the outbox table, written by store_write() in the transaction of
 * the data it reports; this thread reads only what is committed. The publisher
 * sends the rows in seq order, at most `inflight` unacknowledged, and deletes a
 * row only once it and every row before it were acknowledged (PUBACK at QoS 1).
 * After a reconnect or a failed send it sends again everything unacknowledged,
 * from the oldest row: at least once, in order, duplicates possible
 * (subscribers de-duplicate by seq).
 *
 * Threading (STYLE rule 8): struct publisher runs on its own thread
 * (run()), which makes every Paho call and reads the outbox through its
 * own connection (p->st); the ingest thread only calls
 * publisher_committed(), publisher_acked(), publisher_get_stats() and
 * publisher_stop(), which touch the fields marked "mu" under p->mu. Paho
 * runs the callbacks below on its own threads; they only record what
 * happened (connected, connection lost or refused, acknowledged seq) in
 * those fields, and step() acts on it. Rows acknowledged are not deleted
 * here: the acknowledged prefix (acked_upto) is handed to the ingest
 * thread, which deletes them in its next transaction, so this thread
 * never takes SQLite's write lock. The one piece of memory both sides
 * touch besides those fields is struct ack_ctx, the context of one send:
 * created by the publisher's thread and linked in p->ctxs under mu,
 * unlinked and freed by the callback that completes it, or by
 * publisher_stop() once Paho is destroyed and calls back no more.
 *
 * Wake-ups: the thread steps when there is work, not per message. Every
 * callback that records something signals p->cv (wait_event() returns at
 * once), except an acknowledgement, which signals only when the thread
 * waits for one (send_completed(), wait_plan()): the window was full (it
 * wakes when half of it is acknowledged), Paho's queue was full or
 * records requests wait for room (every one), or it was the last outbox
 * row in flight. The other acknowledgements are taken at the next step: a
 * commit (publisher_committed(), every batch_ms while readings come), one
 * of those, or the wait's timeout, ACK_HANDOVER_US (50 ms) while rows are
 * in flight. So an acknowledged row reaches publisher_acked() within
 * 50 ms, and the ingest thread deletes it in its next transaction. At a
 * lab's load (1 000 messages/s in batches of 100 ms) that is a few steps
 * per commit instead of one per PUBACK and one every 5 ms.
 *
 * QoS 0 and Paho's pending writes: at QoS 0 Paho completes a send (our
 * on_sent()) once it is written to the socket. When the socket's buffer
 * is full (the broker reads slower than we write, a moment behind on a
 * busy machine) the write is partial: Paho keeps the rest as a pending
 * write, sends nothing more on that connection, and finishes it only when
 * its receiving thread next wakes, which is when a packet comes in or its
 * poll times out after a second. At QoS 1 PUBACKs come in all the time; at
 * QoS 0 nothing does, so every partial write stopped the stream for about
 * a second (at 300 000 readings/s, 60 channels, 40 % of the throughput;
 * strace: writev() short, then silence until the receiving thread's
 * poll(..., 1000) returns). So every KICK_BYTES of QoS 0 rows
 * sent, the thread also sends an UNSUBSCRIBE from the gateway's status
 * topic (which it never subscribes to: nothing changes at the broker,
 * nothing is published) and the broker's UNSUBACK, read after the bytes
 * before it, wakes Paho's receiving thread while the broker drains the
 * buffer (kick()). The receiving thread then finishes the write but does
 * not wake Paho's sending thread, which sleeps until its own timeout (up
 * to a second again) or the next command; with the window full and no
 * completion since, the publisher's thread has nothing to send. So a step
 * that finds a full window of QoS 0 rows and no completion for
 * ACK_HANDOVER_US (the thread's wait then) sends a kick at once: the
 * command wakes the sending thread. At most 20 such a second, each a few
 * bytes queued in Paho, for as long as the broker reads nothing.
 *
 * Time (STYLE 16): the reconnect back-off, the status's timers, the stop's
 * deadlines and the times handed to publish_req.c come from the clock given
 * to publisher_new() (mclock.h), the UTC "now" of a step from its caller.
 * Only wait_event()'s timed wait is on CLOCK_MONOTONIC itself (the
 * condition variable's clock); it decides nothing.
 *
 * MQTT 5: the same, with Paho's "5" callbacks, clean start off and a
 * session expiry interval (SESSION_EXPIRY_S), so the session survives a
 * reconnect as with clean session off in 3.1.1. A PUBACK with a reason
 * code >= 0x80 (0x87 not authorized, 0x97 quota exceeded, ...) comes to
 * on_send_failed5() with that reason code: the message was refused, not
 * lost in transit. It is counted (stats.refused), logged once per distinct
 * code, and treated as done: the row is deleted like an acknowledged one.
 * Sending it again would get the same answer (an ACL or a quota does not
 * change because we retry), and holding it would stop the outbox for
 * good, since rows leave only in seq order. 3.1.1 has no such code: there
 * a broker acknowledges what it drops (docs/MQTT.md, Security).
 *
 * Home Assistant discovery (mqtt.homeassistant): on each connection, and
 * whenever Home Assistant says "online" on <ha_prefix>/status, one
 * retained QoS 1 config message per channel (and per tolerance state) is
 * sent directly, not through the outbox: it is configuration, rebuilt from
 * the running config every time, not data.
 *
 * Records on request (mqtt.requests): publish_req.c, part of this module
 * (publish_req.h), answers enterprises' requests for their calibration
 * records. The subscription to <prefix>/<site>/requests/+/records is made
 * on each connection like Home Assistant's; on_message() only copies a
 * request into its enterprise's share of a bounded queue under mu and
 * signals; step() answers at most REQ_PER_STEP of them per
 * step, the shares in turn, and as many "busy" replies to requests that
 * found their share full, straight to Paho at QoS 1 (not through the
 * outbox: answers, not data).
 *
 * Security: with a tls group the URI is ssl://, the broker's certificate
 * is checked against ca_file (and its name against the host) unless
 * verify is false, and a client certificate is presented if configured.
 * The password is read from password_file when the publisher is created
 * (at start and at each reload), kept only in p->password and Paho's own
 * copy, wiped when freed, and never logged. Why a connection was refused
 * (Paho's code and message, and OpenSSL's last error, which Paho hands to
 * on_ssl_error() on its thread) is recorded under mu like the rest.
 */
#include "publish.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <MQTTAsync.h>

#include "log.h"
#include "msg.h"
#include "paho_init.h"
#include "publish_req.h"
#include "sample.h"
#include "secret.h"
#include "store.h"
#include "text.h"

#define BACKOFF_MIN_MS    500
#define BACKOFF_MAX_MS    30000
#define STATUS_EVERY_US   (5LL * 1000000) /* backlog updates, at most */
#define STATUS_CHECK_US   (1LL * 1000000) /* backlog counted, at most */
#define CONNECT_TIMEOUT_S 10
#define STOP_WAIT_MS      2000
#define STOP_STEP_US      5000 /* the stop's flush looks again this often */
#define BUSY_WAIT_US      5000 /* longest wait: requests, Paho full, an error */
#define ACK_HANDOVER_US                                                        \
	50000               /* longest wait with rows in flight: an ack is     \
	                       in publisher_acked() within this */
#define IDLE_WAIT_US 100000 /* longest wait otherwise */
#define SESSION_EXPIRY_S                                                       \
	86400 /* MQTT 5: the broker keeps our session                          \
	         this long after a disconnection */
#define MAX_PENDING_REFUSALS 16
#define COPY_MAX_BYTES       (64u << 20) /* readings copies held, at most */
#define PUBLISH_CACHE_KIB    256         /* the publisher's page cache */
#define PAYLOAD_MAX          (64u << 20) /* a payload built, at most */
#define BUFFER_MARGIN        64 /* Paho's queue beyond what we send at once */
#define KICK_BYTES                                                             \
	(32u << 10) /* QoS 0 bytes sent between two UNSUBSCRIBEs: kick() */

/* ---- the publisher ----------------------------------------------------- */

enum link { LINK_DOWN, LINK_CONNECTING, LINK_UP };

/* What a send was, for the log when it is refused. */
enum ack_kind { ACK_ROW, ACK_STATUS, ACK_DISCOVERY };

struct ack_ctx {
	struct publisher *p;
	int64_t seq; /* 0: not an outbox row (kind says what) */
	enum ack_kind kind;
	struct ack_ctx *prev, *next; /* in p->ctxs, under p->mu */
};

/* The readings messages of one commit (publisher_committed()), in seq
 * order, with their readings, in one allocation. */
struct copy {
	struct copy *next;
	const struct config *c; /* whose indexes */
	int64_t first_seq, last_seq;
	size_t nmsgs, bytes;
	struct composed_msg *msgs;
	struct composed_reading *readings;
};

/* A PUBACK refusal recorded by a callback, for the publisher's thread to log.
 */
struct refusal {
	int code;
	int64_t seq;
	enum ack_kind kind;
};

struct publisher {
	const struct config *cfg;
	const struct cfg_mqtt *m;
	const struct mclock *clk;
	MQTTAsync client;
	char status_topic[MSG_TOPIC_MAX];
	char ha_status_topic[MSG_TOPIC_MAX]; /* "" without discovery */
	/* when the current connection was begun (UTC us), and its Last Will,
	 * which says so (msg_gateway_will()) */
	int64_t connected_us;
	char will[128];

	pthread_mutex_t mu;
	pthread_cond_t cv; /* signalled with each record: wait_event() */
	/* mu: set by the callbacks, taken by step() */
	bool cb_connected, cb_lost, cb_refused, cb_failed, cb_disconnected;
	bool cb_event;            /* any of these since the last step */
	bool cb_ha_online;        /* Home Assistant said "online" */
	int cb_code;              /* Paho's code of the last refusal */
	int cb_reason_code;       /* MQTT 5: the CONNACK's reason code, or 0 */
	uint64_t cb_refused_msgs; /* PUBACKs with a reason code >= 0x80 */
	struct refusal cb_refusals[MAX_PENDING_REFUSALS]; /* to log */
	size_t cb_nrefusals;
	char cb_reason[160]; /* its message, "" when none */
	char cb_tls[256];    /* OpenSSL's last error, "" when none */
	int64_t *acks;       /* acknowledged seqs, in arrival order */
	size_t nacks, acks_cap;
	struct ack_ctx *ctxs; /* sends not yet completed */
	size_t rows_out;      /* of them, outbox rows */
	unsigned acks_new;    /* sends completed since the last step */
	unsigned ack_wake;    /* the waiting thread wants a signal after this
	                         many (0: only when rows_out falls to 0) */
	uint64_t cb_acked;
	struct reqs *reqs; /* records requests; NULL when off. Its queue is
	                      under mu (publish_req.h) */
	/* mu: with the ingest thread */
	bool quit;        /* publisher_stopping(): flush and end */
	bool quiet;       /* the thread answers no more requests */
	int stop_ms;      /* the flush's deadline */
	int64_t acked_up; /* the acknowledged prefix, for publisher_acked() */
	struct copy *in_head, *in_tail; /* copies handed over, not taken */
	size_t copy_bytes;              /* of every copy held, both lists */
	bool copy_full;                 /* one was refused (logged once) */
	struct publisher_stats shared;  /* copied after each step */

	/* the publisher's thread only */
	pthread_t thread;
	struct store *st; /* its own connection: the outbox is read here */
	struct copy *copies, *copies_tail; /* taken, oldest first */
	char *pbuf;                        /* a readings payload built */
	size_t pbuf_size;
	struct msg_channel *mch; /* its channels */
	struct store_msg_reading *mrd;
	size_t mch_cap, mrd_cap;
	bool missing_logged; /* a reading the database no longer has */
	enum link link;
	int backoff_ms;
	int64_t next_attempt; /* monotonic us */
	int64_t *win;         /* seqs sent since the last rewind, in order */
	bool *win_acked;
	size_t wlen;
	int64_t last_sent;    /* highest seq sent since the last rewind */
	int64_t deleted_upto; /* rows <= this are acknowledged (the ingest
	                         thread deletes them) */
	bool rewind;          /* send again from deleted_upto */
	bool empty;           /* the outbox had nothing after last_sent */
	bool stopping;        /* publisher_stop() began: no more connects */
	int64_t status_rows;  /* backlog last published, -1: none yet */
	int64_t next_status;  /* monotonic us */
	int64_t next_status_check; /* monotonic us */
	char *sbuf;                /* payload with "historical" */
	size_t sbuf_size;
	char *password;     /* from password_file, or NULL; never logged */
	char last_why[512]; /* last refusal logged as a warning */
	bool refusal_logged[256]; /* PUBACK reason codes already logged */
	bool ha_due;              /* discovery to (re)announce */
	bool req_pending;         /* requests left queued by the last step */
	bool paho_full;           /* Paho refused a row: its queue was full */
	bool send_error;          /* the last send_rows() failed */
	size_t kick_bytes;        /* QoS 0 bytes sent since the last kick() */
	bool qos0;                /* the last row sent was QoS 0 */
	int64_t last_done;        /* monotonic us: a step saw sends complete */
	int max_buffered;         /* Paho's maxBufferedMessages */
	struct publisher_stats stats;
};

static void *run(void *arg);
static void publisher_free(struct publisher *p);

/* The time, from the clock given to publisher_new(). */
static int64_t mono_us(const struct publisher *p)
{
	return mclock_mono(p->clk);
}

static int64_t real_us(const struct publisher *p)
{
	return mclock_real(p->clk);
}

/* ---- Paho's callbacks: record, under mu, and return ---- */

static void ctx_unlink(struct publisher *p, struct ack_ctx *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		p->ctxs = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
}

/* Under mu: something for the next step; wake wait_event(). */
static void signal_event(struct publisher *p)
{
	p->cb_event = true;
	pthread_cond_signal(&p->cv);
}

/* Under mu: the send of c completed (any way): wake the thread if it
 * waits for acknowledgements (p->ack_wake of them: room in a full window
 * or in Paho's queue) or c was the last outbox row in flight (the window
 * is empty: its rows go to publisher_acked() now). Any other
 * acknowledgement waits for the next step: a commit, a timer
 * (ACK_HANDOVER_US) or one of these. */
static void send_completed(struct publisher *p, struct ack_ctx *c)
{
	bool last = false;

	ctx_unlink(p, c);
	if (c->seq > 0) {
		p->rows_out--;
		last = p->rows_out == 0;
	}
	p->acks_new++;
	if (last || (p->ack_wake > 0 && p->acks_new >= p->ack_wake))
		signal_event(p);
}

/* Under mu: the send of c is done (acknowledged, or refused for good). */
static void record_done(struct publisher *p, const struct ack_ctx *c)
{
	p->cb_acked++;
	if (c->seq > 0) {
		if (p->nacks == p->acks_cap) {
			size_t cap = p->acks_cap ? 2 * p->acks_cap : 256;
			int64_t *a = realloc(p->acks, cap * sizeof(*a));
			if (a == NULL) {
				p->cb_failed = true; /* resend: safe */
				return;
			}
			p->acks = a;
			p->acks_cap = cap;
		}
		p->acks[p->nacks++] = c->seq;
	}
}

static void on_sent(void *context, MQTTAsync_successData *data)
{
	struct ack_ctx *c = context;
	struct publisher *p = c->p;

	(void)data;
	pthread_mutex_lock(&p->mu);
	record_done(p, c);
	send_completed(p, c);
	pthread_mutex_unlock(&p->mu);
	free(c);
}

static void on_sent5(void *context, MQTTAsync_successData5 *data)
{
	(void)data;
	on_sent(context, NULL);
}

static void on_send_failed(void *context, MQTTAsync_failureData *data)
{
	struct ack_ctx *c = context;
	struct publisher *p = c->p;

	(void)data;
	pthread_mutex_lock(&p->mu);
	send_completed(p, c);
	if (c->seq > 0)
		p->cb_failed = true;
	signal_event(p); /* sent again from the oldest: now */
	pthread_mutex_unlock(&p->mu);
	free(c);
}

/* MQTT 5: a reason code >= 0x80 from the broker (with no error of Paho's
 * own) is a PUBACK refusing the message: done, see the opening comment.
 * Anything else failed in transit (Paho's code, reason code 0): sent
 * again. packet_type is not tested: Paho 1.3.12 reads it from the PUBACK
 * after freeing it, so it is not reliable. */
static void on_send_failed5(void *context, MQTTAsync_failureData5 *data)
{
	struct ack_ctx *c = context;
	struct publisher *p = c->p;
	int code = data != NULL ? (int)data->reasonCode : 0;

	if (data == NULL || data->code != MQTTASYNC_SUCCESS || code < 0x80) {
		on_send_failed(context, NULL);
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->cb_refused_msgs++;
	bool pending = false;
	for (size_t i = 0; i < p->cb_nrefusals; i++)
		pending |= p->cb_refusals[i].code == code;
	if (!pending && p->cb_nrefusals < MAX_PENDING_REFUSALS)
		p->cb_refusals[p->cb_nrefusals++] =
		        (struct refusal){code, c->seq, c->kind};
	record_done(p, c);
	send_completed(p, c);
	signal_event(p); /* a refusal is logged now (rare) */
	pthread_mutex_unlock(&p->mu);
	free(c);
}

static void on_connect(void *context, MQTTAsync_successData *data)
{
	struct publisher *p = context;

	(void)data;
	pthread_mutex_lock(&p->mu);
	p->cb_connected = true;
	signal_event(p);
	pthread_mutex_unlock(&p->mu);
}

static void on_connect5(void *context, MQTTAsync_successData5 *data)
{
	(void)data;
	on_connect(context, NULL);
}

static void connect_failed(struct publisher *p, int code, int reason_code,
                           const char *message)
{
	pthread_mutex_lock(&p->mu);
	p->cb_refused = true;
	p->cb_code = code;
	p->cb_reason_code = reason_code;
	snprintf(p->cb_reason, sizeof(p->cb_reason), "%s",
	         message != NULL ? message : "");
	signal_event(p);
	pthread_mutex_unlock(&p->mu);
}

static void on_connect_failed(void *context, MQTTAsync_failureData *data)
{
	connect_failed(context, data != NULL ? data->code : MQTTASYNC_FAILURE,
	               0, data != NULL ? data->message : NULL);
}

static void on_connect_failed5(void *context, MQTTAsync_failureData5 *data)
{
	connect_failed(context, data != NULL ? data->code : MQTTASYNC_FAILURE,
	               data != NULL ? (int)data->reasonCode : 0,
	               data != NULL ? data->message : NULL);
}

/* OpenSSL's error queue, one line at a time (ERR_print_errors_cb): keep
 * the last, e.g. "...:certificate verify failed:...". */
static int on_ssl_error(const char *str, size_t len, void *u)
{
	struct publisher *p = u;

	while (len > 0 && (str[len - 1] == '\n' || str[len - 1] == '\r'))
		len--;
	pthread_mutex_lock(&p->mu);
	snprintf(p->cb_tls, sizeof(p->cb_tls), "%.*s", (int)len, str);
	pthread_mutex_unlock(&p->mu);
	return 1;
}

static void on_lost(void *context, char *cause)
{
	struct publisher *p = context;

	(void)cause;
	pthread_mutex_lock(&p->mu);
	p->cb_lost = true;
	signal_event(p);
	pthread_mutex_unlock(&p->mu);
}

static void on_disconnected(void *context, MQTTAsync_successData *data)
{
	struct publisher *p = context;

	(void)data;
	pthread_mutex_lock(&p->mu);
	p->cb_disconnected = true;
	signal_event(p);
	pthread_mutex_unlock(&p->mu);
}

static void on_disconnected5(void *context, MQTTAsync_successData5 *data)
{
	(void)data;
	on_disconnected(context, NULL);
}

/* The subscriptions: Home Assistant's status (with discovery on):
 * "online" means it (re)started and wants the configs again; records
 * requests (with mqtt.requests): copied into their queue. */
static int on_message(void *context, char *topic, int len,
                      MQTTAsync_message *msg)
{
	struct publisher *p = context;

	(void)len;
	if (p->reqs != NULL && reqs_match(p->reqs, topic)) {
		pthread_mutex_lock(&p->mu);
		if (reqs_push(p->reqs, topic, msg) == 0)
			signal_event(p);
		pthread_mutex_unlock(&p->mu);
	} else if (p->ha_status_topic[0] != '\0' &&
	           strcmp(topic, p->ha_status_topic) == 0 &&
	           msg->payloadlen == 6 &&
	           memcmp(msg->payload, "online", 6) == 0) {
		pthread_mutex_lock(&p->mu);
		p->cb_ha_online = true;
		signal_event(p);
		pthread_mutex_unlock(&p->mu);
	}
	MQTTAsync_freeMessage(&msg);
	MQTTAsync_free(topic);
	return 1;
}

/* ---- the publisher's thread ---- */

static void start_connect(struct publisher *p)
{
	MQTTAsync_connectOptions o3 = MQTTAsync_connectOptions_initializer;
	MQTTAsync_connectOptions o5 = MQTTAsync_connectOptions_initializer5;
	MQTTAsync_connectOptions o = p->m->version == 5 ? o5 : o3;
	MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
	MQTTProperties props = MQTTProperties_initializer;
	int rc;

	if (p->m->tls) {
		ssl.trustStore = p->m->ca_file;
		ssl.keyStore = p->m->cert_file;
		ssl.privateKey = p->m->key_file;
		ssl.enableServerCertAuth = p->m->tls_verify;
		ssl.verify = p->m->tls_verify; /* the host name too */
		ssl.ssl_error_cb = on_ssl_error;
		ssl.ssl_error_context = p;
		o.ssl = &ssl;
	}
	o.username = p->m->username;
	o.password = p->password;
	p->connected_us = real_us(p);
	if (msg_gateway_will(p->will, sizeof(p->will), p->connected_us) < 0)
		p->will[0] = '\0'; /* cannot happen: 128 bytes hold it */
	will.topicName = p->status_topic;
	will.message = p->will;
	will.retained = 1;
	will.qos = 1;
	o.keepAliveInterval = p->m->keepalive_s;
	o.cleansession = 0;
	/* + the gateway's status and the replies to records requests (and
	 * as many busy replies) */
	o.maxInflight = p->m->inflight + 1 + (p->reqs != NULL ? REQ_EXTRA : 0);
	o.connectTimeout = CONNECT_TIMEOUT_S;
	o.will = &will;
	o.context = p;
	if (p->m->version == 5) {
		/* clean start off and a session that outlives the connection:
		 * what clean session off is in 3.1.1 */
		MQTTProperty expiry = {
		        .identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL,
		        .value.integer4 = SESSION_EXPIRY_S};
		if (MQTTProperties_add(&props, &expiry) != 0)
			log_warnx("mqtt: session expiry interval not set");
		o.MQTTVersion = MQTTVERSION_5;
		o.cleanstart = 0;
		o.connectProperties = &props;
		o.onSuccess5 = on_connect5;
		o.onFailure5 = on_connect_failed5;
	} else {
		o.MQTTVersion = MQTTVERSION_3_1_1;
		o.onSuccess = on_connect;
		o.onFailure = on_connect_failed;
	}
	rc = MQTTAsync_connect(p->client, &o); /* copies the properties */
	MQTTProperties_free(&props);
	if (rc != MQTTASYNC_SUCCESS) {
		log_warnx("mqtt: cannot start connecting to %s:%d (%s)",
		          p->m->host, p->m->port, MQTTAsync_strerror(rc));
		p->link = LINK_DOWN;
		p->next_attempt = mono_us(p) + (int64_t)p->backoff_ms * 1000;
		return;
	}
	p->link = LINK_CONNECTING;
}

/* Send one message; ctx_seq > 0 tracks the acknowledgement of that outbox
 * row. Returns 0 or Paho's error code. */
static int send_one(struct publisher *p, const char *topic, const char *payload,
                    size_t len, int qos, bool retain, int64_t ctx_seq,
                    enum ack_kind kind)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	struct ack_ctx *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL)
		return MQTTASYNC_FAILURE;
	c->p = p;
	c->seq = ctx_seq;
	c->kind = kind;
	if (p->m->version == 5) {
		ro.onSuccess5 = on_sent5;
		ro.onFailure5 = on_send_failed5;
	} else {
		ro.onSuccess = on_sent;
		ro.onFailure = on_send_failed;
	}
	ro.context = c;
	pthread_mutex_lock(&p->mu);
	c->next = p->ctxs;
	if (p->ctxs != NULL)
		p->ctxs->prev = c;
	p->ctxs = c;
	if (ctx_seq > 0)
		p->rows_out++;
	pthread_mutex_unlock(&p->mu);
	rc = MQTTAsync_send(p->client, topic, (int)len, payload, qos,
	                    retain ? 1 : 0, &ro);
	if (rc != MQTTASYNC_SUCCESS) {
		/* no callback will come for it */
		pthread_mutex_lock(&p->mu);
		ctx_unlink(p, c);
		if (ctx_seq > 0)
			p->rows_out--;
		pthread_mutex_unlock(&p->mu);
		free(c);
		return rc;
	}
	p->stats.sent++;
	return 0;
}

/* The gateway's retained status: state, and the backlog. */
static void send_status(struct publisher *p, const char *state,
                        const char *reason, int64_t rows, int64_t oldest_us,
                        int64_t now_us)
{
	char buf[512];
	const struct msg_gwstatus s = {
	        state, reason, rows, oldest_us, now_us, p->m->client_id,
	        p->connected_us,
	        /* sent before the status on this connection, or acknowledged
	         * before it began (the rewind re-sends the rest) */
	        p->last_sent > p->deleted_upto ? p->last_sent
	                                       : p->deleted_upto};
	int len = msg_gateway_status(buf, sizeof(buf), &s);
	if (len < 0)
		return;
	int rc = send_one(p, p->status_topic, buf, (size_t)len, 1, true, 0,
	                  ACK_STATUS);
	if (rc != 0)
		log_debug("mqtt: gateway status not sent (%s)",
		          MQTTAsync_strerror(rc));
}

/* "historical" is the one field decided at send time: splice it in
 * before the payload's closing brace. Returns the payload to send. */
static const char *with_historical(struct publisher *p,
                                   const struct store_msg *m, int64_t now_us,
                                   size_t *len)
{
	bool old = now_us - m->ts_us > (int64_t)p->m->historical_s * 1000000;
	const char *tail =
	        old ? ",\"historical\":true}" : ",\"historical\":false}";
	size_t need = m->len + strlen(tail) + 1;

	if (m->len < 2 || m->payload[m->len - 1] != '}') {
		*len = m->len;
		return m->payload;
	}
	if (need > p->sbuf_size) {
		char *b = realloc(p->sbuf, need);
		if (b == NULL) {
			*len = m->len;
			return m->payload;
		}
		p->sbuf = b;
		p->sbuf_size = need;
	}
	memcpy(p->sbuf, m->payload, m->len - 1);
	strcpy(p->sbuf + m->len - 1, tail);
	*len = m->len - 1 + strlen(tail);
	return p->sbuf;
}

/* OpenSSL 3 writes "<thread>:error:<code>:<library>:<function>:<reason>:
 * <file>:<line>:"; keep "<reason>" (s is cut in place), or all of s when
 * it is not in that form. */
static const char *ssl_reason(char *s)
{
	const char *err = strstr(s, ":error:");
	char *start = s, *end;

	if (err == NULL)
		return s;
	for (int i = 0; i < 5 && start != NULL; i++) {
		start = strchr(start, ':');
		if (start != NULL)
			start++;
	}
	if (start == NULL || (end = strchr(start, ':')) == NULL)
		return s;
	*end = '\0';
	return start;
}

/* Why the last connection attempt was refused, for the log. */
static void refusal_reason(struct publisher *p, char *buf, size_t size)
{
	static const char *const connack[] = {
	        NULL,
	        "unacceptable protocol version",
	        "client id rejected",
	        "server unavailable",
	        "bad user name or password",
	        "not authorised",
	};
	int code, rcode;
	char msg[160], tls[256];

	pthread_mutex_lock(&p->mu);
	code = p->cb_code;
	rcode = p->cb_reason_code;
	snprintf(msg, sizeof(msg), "%s", p->cb_reason);
	snprintf(tls, sizeof(tls), "%s", p->cb_tls);
	p->cb_tls[0] = '\0';
	pthread_mutex_unlock(&p->mu);
	if (p->m->version == 5 && (rcode >= 0x80 || code >= 0x80)) {
		int rc5 = rcode >= 0x80 ? rcode : code;
		snprintf(buf, size,
		         "refused by the broker: %s (CONNACK reason code "
		         "0x%02x)",
		         MQTTReasonCode_toString((enum MQTTReasonCodes)rc5),
		         rc5);
	} else if (code >= 1 && code <= 5)
		snprintf(buf, size, "refused by the broker: %s (CONNACK %d)",
		         connack[code], code);
	else if (tls[0] != '\0')
		snprintf(buf, size, "TLS handshake failed: %s",
		         ssl_reason(tls));
	else if (msg[0] != '\0')
		snprintf(buf, size, "connection failed: %s (%s)", msg,
		         MQTTAsync_strerror(code));
	else
		snprintf(buf, size, "connection failed or timed out (%s)",
		         MQTTAsync_strerror(code));
}

struct publisher *publisher_new(const struct config *c,
                                const struct mclock *clk, char *err,
                                size_t errlen)
{
	MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
	struct publisher *p = calloc(1, sizeof(*p));
	char uri[600];
	int rc;

	assert(c->mqtt != NULL);
	if (p == NULL) {
		snprintf(err, errlen, "mqtt: %s", strerror(ENOMEM));
		return NULL;
	}
	p->cfg = c;
	p->m = c->mqtt;
	p->clk = clk;
	p->status_rows = -1;
	p->backoff_ms = BACKOFF_MIN_MS;
	pthread_mutex_init(&p->mu, NULL);
	{
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&p->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	p->win = calloc((size_t)p->m->inflight, sizeof(*p->win));
	p->win_acked = calloc((size_t)p->m->inflight, sizeof(*p->win_acked));
	if (p->win == NULL || p->win_acked == NULL) {
		snprintf(err, errlen, "mqtt: %s", strerror(ENOMEM));
		goto fail;
	}
	if (msg_topic(p->status_topic, sizeof(p->status_topic), p->m->prefix,
	              c->site, "gateway", "status") < 0) {
		snprintf(err, errlen, "mqtt: topic prefix too long");
		goto fail;
	}
	if (p->m->ha_prefix != NULL &&
	    snprintf(p->ha_status_topic, sizeof(p->ha_status_topic),
	             "%s/status",
	             p->m->ha_prefix) >= (int)sizeof(p->ha_status_topic)) {
		snprintf(err, errlen, "mqtt: homeassistant prefix too long");
		goto fail;
	}
	if (p->m->password_file != NULL &&
	    secret_read_line(p->m->password_file, &p->password, err, errlen) <
	            0)
		goto fail;
	snprintf(uri, sizeof(uri), "%s://%s:%d", p->m->tls ? "ssl" : "tcp",
	         p->m->host, p->m->port);
	if (p->m->tls && !p->m->tls_verify)
		log_warnx("mqtt: tls verify is off: the broker's certificate "
		          "is not checked");
	co.MQTTVersion = p->m->version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
	co.sendWhileDisconnected = 0;
	/* Paho refuses a send when this many are queued in it, connected or
	 * not (default 100): room for the window, the status, and every
	 * discovery config, which are all sent at once */
	co.maxBufferedMessages = p->m->inflight + 1 + BUFFER_MARGIN;
	if (reqs_wanted(c)) {
		p->reqs = reqs_new(c, clk, err, errlen);
		if (p->reqs == NULL)
			goto fail;
		co.maxBufferedMessages += REQ_EXTRA; /* replies, replays */
	}
	for (int i = 0; p->m->ha_prefix != NULL && i < c->ninstruments; i++)
		for (int j = 0; j < c->instruments[i].nchannels; j++)
			co.maxBufferedMessages +=
			        c->instruments[i].channels[j].tolerance != NULL
			                ? 2
			                : 1;
	p->max_buffered = co.maxBufferedMessages;
	paho_init();
	rc = MQTTAsync_createWithOptions(&p->client, uri, p->m->client_id,
	                                 MQTTCLIENT_PERSISTENCE_NONE, NULL,
	                                 &co);
	if (rc != MQTTASYNC_SUCCESS) {
		snprintf(err, errlen,
		         "mqtt: cannot create the client for %s: %s", uri,
		         MQTTAsync_strerror(rc));
		p->client = NULL;
		goto fail;
	}
	rc = MQTTAsync_setCallbacks(p->client, p, on_lost, on_message, NULL);
	if (rc != MQTTASYNC_SUCCESS) {
		snprintf(err, errlen, "mqtt: %s", MQTTAsync_strerror(rc));
		goto fail;
	}
	p->st = store_open(c->database, err, errlen);
	if (p->st == NULL)
		goto fail;
	/* SQLite empties a reader's page cache whenever it begins a read
	 * after another connection committed (in WAL mode): the ingest
	 * thread commits every batch, so this cache only ever holds the
	 * pages of one read, and a large one held a catch-up's, up to 2 MiB,
	 * never to be read again */
	if (store_cache_kib(p->st, PUBLISH_CACHE_KIB) < 0) {
		snprintf(err, errlen, "%s", store_last_message(p->st));
		goto fail;
	}
	start_connect(p);
	if (pthread_create(&p->thread, NULL, run, p) != 0) {
		snprintf(err, errlen,
		         "mqtt: cannot start the publisher's thread");
		goto fail;
	}
	log_info("mqtt: publishing to %s as %s under %s/%s (MQTT %s)", uri,
	         p->m->client_id, p->m->prefix, c->site,
	         p->m->version == 5 ? "5" : "3.1.1");
	if (p->reqs != NULL && reqs_filter(p->reqs)[0] != '\0')
		log_info("mqtt: answering records requests on %s",
		         reqs_filter(p->reqs));
	if (p->reqs != NULL && reqs_replay_filter(p->reqs)[0] != '\0')
		log_info("mqtt: answering replay requests on %s",
		         reqs_replay_filter(p->reqs));
	return p;
fail:
	publisher_free(p);
	return NULL;
}

/* Mark seq acknowledged in the window (sorted, so binary search). */
static void window_ack(struct publisher *p, int64_t seq)
{
	size_t lo = 0, hi = p->wlen;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->win[mid] < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < p->wlen && p->win[lo] == seq)
		p->win_acked[lo] = true;
}

/* Retire the acknowledged prefix of the window: the ingest thread
 * deletes it from the outbox (publisher_acked()). */
static void window_retire(struct publisher *p)
{
	size_t k = 0;

	while (k < p->wlen && p->win_acked[k])
		k++;
	if (k == 0)
		return;
	int64_t upto = p->win[k - 1];
	if (upto > p->deleted_upto) {
		p->deleted_upto = upto;
		pthread_mutex_lock(&p->mu);
		p->acked_up = upto;
		pthread_mutex_unlock(&p->mu);
	}
	memmove(p->win, p->win + k, (p->wlen - k) * sizeof(*p->win));
	memmove(p->win_acked, p->win_acked + k,
	        (p->wlen - k) * sizeof(*p->win_acked));
	p->wlen -= k;
}

static void link_down(struct publisher *p, const char *why)
{
	if (p->link == LINK_UP)
		log_warnx("mqtt: %s:%d: %s; the outbox keeps what is unsent",
		          p->m->host, p->m->port, why);
	else
		log_debug("mqtt: %s:%d: %s", p->m->host, p->m->port, why);
	p->link = LINK_DOWN;
	p->rewind = true;
	p->next_attempt = mono_us(p) + (int64_t)p->backoff_ms * 1000;
	p->backoff_ms *= 2;
	if (p->backoff_ms > BACKOFF_MAX_MS)
		p->backoff_ms = BACKOFF_MAX_MS;
}

/* ---- readings payloads, built when sent ---- */

/* Significant digits of a channel's values in a payload (msg.h). */
static int digits_of(bool float32)
{
	return float32 ? 7 : 0;
}

/* A copy of r in one allocation; NULL when memory runs out. */
static struct copy *copy_make(const struct composed_readings *r)
{
	size_t msgs = r->nmsgs * sizeof(*r->msgs);
	size_t bytes = sizeof(struct copy) + msgs +
	               r->nreadings * sizeof(*r->readings);
	struct copy *c = malloc(bytes);

	if (c == NULL)
		return NULL;
	*c = (struct copy){
	        .c = r->c,
	        .first_seq = r->msgs[0].seq,
	        .last_seq = r->msgs[r->nmsgs - 1].seq,
	        .nmsgs = r->nmsgs,
	        .bytes = bytes,
	        .msgs = (struct composed_msg *)(c + 1),
	};
	c->readings = (struct composed_reading *)((char *)c->msgs + msgs);
	memcpy(c->msgs, r->msgs, msgs);
	memcpy(c->readings, r->readings, r->nreadings * sizeof(*r->readings));
	return c;
}

/* Free the copies no row to send needs any more (seq <= upto). */
static void copies_retire(struct publisher *p, int64_t upto)
{
	size_t freed = 0;

	while (p->copies != NULL && p->copies->last_seq <= upto) {
		struct copy *c = p->copies;
		p->copies = c->next;
		freed += c->bytes;
		free(c);
	}
	if (p->copies == NULL)
		p->copies_tail = NULL;
	if (freed > 0) {
		pthread_mutex_lock(&p->mu);
		p->copy_bytes -= freed;
		pthread_mutex_unlock(&p->mu);
	}
}

/* The copy of readings message seq, and the copy holding it; NULL: none. */
static const struct composed_msg *
copy_find(const struct publisher *p, int64_t seq, const struct copy **owner)
{
	for (const struct copy *c = p->copies; c != NULL; c = c->next) {
		if (seq > c->last_seq)
			continue;
		if (seq < c->first_seq)
			return NULL;
		size_t lo = 0, hi = c->nmsgs;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (c->msgs[mid].seq < seq)
				lo = mid + 1;
			else
				hi = mid;
		}
		*owner = c;
		return lo < c->nmsgs && c->msgs[lo].seq == seq ? &c->msgs[lo]
		                                               : NULL;
	}
	return NULL;
}

/* The channels of readings row m from its copy into p->mch, the
 * instrument's id into *id; -1: no copy (or of another config). */
static int channels_from_copy(struct publisher *p, const struct store_msg *m,
                              const char **id)
{
	const struct copy *c = NULL;
	const struct composed_msg *cm = copy_find(p, m->seq, &c);

	if (cm == NULL || c->c != p->cfg || cm->n != m->nchannels)
		return -1;
	const struct cfg_instrument *in = &p->cfg->instruments[cm->inst];
	for (uint32_t k = 0; k < cm->n; k++) {
		const struct composed_reading *r = &c->readings[cm->first + k];
		const struct cfg_channel *ch =
		        &in->channels[r->index - in->channels[0].index];
		p->mch[k] = (struct msg_channel){
		        .name = ch->name,
		        .unit = ch->unit,
		        .value = r->value,
		        .quality = r->quality,
		        .digits = digits_of(ch->spec.type == DECODE_FLOAT32),
		};
	}
	*id = in->id;
	return (int)cm->n;
}

/* The channels of readings row m read back from the database into
 * p->mch (a reading no longer there is left out, logged once); the
 * instrument's id into *id. hi_us: store_outbox_readings(). */
static int channels_from_db(struct publisher *p, const struct store_msg *m,
                            int64_t hi_us, const char **id)
{
	int n = 0;

	if (text_reserve((void **)&p->mrd, &p->mrd_cap, m->nchannels,
	                 sizeof(*p->mrd)) < 0)
		return -1;
	if (store_outbox_readings(p->st, m, hi_us, id, p->mrd) < 0) {
		log_warnx("mqtt: %s", store_last_message(p->st));
		return -1;
	}
	for (size_t k = 0; k < m->nchannels; k++) {
		const struct store_msg_reading *r = &p->mrd[k];
		if (!r->found) {
			if (!p->missing_logged)
				log_warnx("mqtt: seq %" PRId64 ": the reading "
				          "of %s at its time is no longer in "
				          "the database (retention): sent "
				          "without it; logged once",
				          m->seq, r->channel);
			p->missing_logged = true;
			continue;
		}
		p->mch[n++] = (struct msg_channel){
		        .name = r->channel,
		        .unit = r->unit,
		        .value = r->value,
		        .quality = r->quality,
		        .digits = digits_of(r->float32),
		};
	}
	return n;
}

/* The payload of readings row m (no payload stored: docs/SCHEMA.md,
 * outbox) into p->pbuf, as msg_readings() builds it: from the copy handed
 * over after its commit, else from the database (hi_us: the latest ts of
 * the rows read with it). Returns its length, or -1 (logged). */
static int readings_payload(struct publisher *p, const struct store_msg *m,
                            int64_t hi_us)
{
	const char *id = NULL;
	int n, len;

	if (text_reserve((void **)&p->mch, &p->mch_cap, m->nchannels,
	                 sizeof(*p->mch)) < 0)
		return -1;
	n = channels_from_copy(p, m, &id);
	if (n < 0 && (n = channels_from_db(p, m, hi_us, &id)) < 0)
		return -1;
	for (size_t room = 4096; room <= PAYLOAD_MAX; room *= 2) {
		if (text_reserve((void **)&p->pbuf, &p->pbuf_size, room, 1) < 0)
			break;
		len = msg_readings(p->pbuf, p->pbuf_size, m->seq, m->ts_us, id,
		                   p->mch, (size_t)n);
		if (len >= 0)
			return len;
	}
	log_warnx("mqtt: seq %" PRId64 ": readings payload not built", m->seq);
	return -1;
}

/* The latest ts among the readings rows of m[0 .. n). */
static int64_t readings_hi(const struct store_msg *m, size_t n)
{
	int64_t hi = INT64_MIN;

	for (size_t i = 0; i < n; i++)
		if (m[i].nchannels > 0 && m[i].ts_us > hi)
			hi = m[i].ts_us;
	return hi;
}

/* An UNSUBSCRIBE from a topic this client never subscribes to (the
 * gateway's status): the command wakes Paho's sending thread, the
 * broker's UNSUBACK its receiving thread, which then finishes a write the
 * socket left pending (see the opening comment). */
static void kick(struct publisher *p)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;

	p->kick_bytes = 0;
	int rc = MQTTAsync_unsubscribe(p->client, p->status_topic, &ro);
	if (rc != MQTTASYNC_SUCCESS)
		log_debug("mqtt: unsubscribe (a wake-up) not sent (%s)",
		          MQTTAsync_strerror(rc));
}

/* Send outbox rows after last_sent while the window has room. */
static int send_rows(struct publisher *p, struct store *st, int64_t now_us)
{
	struct store_msg msgs[64];

	p->paho_full = false;
	while (p->link == LINK_UP && p->wlen < (size_t)p->m->inflight) {
		size_t room = (size_t)p->m->inflight - p->wlen, n = 0;
		if (room > 64)
			room = 64;
		if (store_outbox_read(st, p->last_sent, msgs, room, &n) < 0) {
			log_warnx("mqtt: %s", store_last_message(st));
			return -1;
		}
		p->empty = n < room;
		int64_t hi = readings_hi(msgs, n);
		for (size_t i = 0; i < n; i++) {
			size_t len;
			if (msgs[i].nchannels > 0) {
				int plen = readings_payload(p, &msgs[i], hi);
				if (plen < 0)
					return -1;
				msgs[i].payload = p->pbuf;
				msgs[i].len = (size_t)plen;
			}
			const char *payload =
			        with_historical(p, &msgs[i], now_us, &len);
			int rc = send_one(p, msgs[i].topic, payload, len,
			                  msgs[i].qos, msgs[i].retain,
			                  msgs[i].seq, ACK_ROW);
			if (rc == MQTTASYNC_MAX_BUFFERED_MESSAGES) {
				/* Paho's queue is full: the next step, at
				 * the next acknowledgement */
				p->paho_full = true;
				return 0;
			}
			if (rc != 0) {
				link_down(p, MQTTAsync_strerror(rc));
				return 0;
			}
			p->win[p->wlen] = msgs[i].seq;
			p->win_acked[p->wlen++] = false;
			p->last_sent = msgs[i].seq;
			p->qos0 = msgs[i].qos == 0;
			if (p->qos0)
				p->kick_bytes += len + strlen(msgs[i].topic);
			if (p->kick_bytes >= KICK_BYTES)
				kick(p);
		}
		if (p->empty)
			break;
	}
	return 0;
}

/* Log the PUBACK refusals recorded since the last step, once per code,
 * with the topic (the row is still in the outbox: it leaves in this step). */
static void log_refusals(struct publisher *p, struct store *st,
                         const struct refusal *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char topic[MSG_TOPIC_MAX];
		struct store_msg m;
		size_t got = 0;
		int code = r[i].code & 0xff;

		if (p->refusal_logged[code])
			continue;
		p->refusal_logged[code] = true;
		if (r[i].kind == ACK_STATUS)
			snprintf(topic, sizeof(topic), "%s", p->status_topic);
		else if (r[i].kind == ACK_DISCOVERY)
			snprintf(topic, sizeof(topic),
			         "%s/sensor/... (discovery)", p->m->ha_prefix);
		else if (store_outbox_read(st, r[i].seq - 1, &m, 1, &got) ==
		                 0 &&
		         got == 1 && m.seq == r[i].seq)
			snprintf(topic, sizeof(topic), "%s", m.topic);
		else
			snprintf(topic, sizeof(topic), "seq %" PRId64,
			         r[i].seq);
		log_warnx(
		        "mqtt: the broker refused a message on %s: %s (PUBACK "
		        "reason code 0x%02x); refused messages are dropped "
		        "from the outbox and counted, this is logged once "
		        "per code",
		        topic,
		        MQTTReasonCode_toString((enum MQTTReasonCodes)code),
		        code);
	}
}

/* Subscribe to Home Assistant's status (it says "online" when it starts
 * and then wants the discovery configs again). */
static void ha_subscribe(struct publisher *p)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	int rc = MQTTAsync_subscribe(p->client, p->ha_status_topic, 1, &ro);

	if (rc != MQTTASYNC_SUCCESS)
		log_warnx("mqtt: cannot subscribe to %s (%s)",
		          p->ha_status_topic, MQTTAsync_strerror(rc));
}

/* Subscribe to the records requests of every enterprise (the "+") and
 * to the replay requests, each when on. */
static void requests_subscribe(struct publisher *p)
{
	const char *filters[2] = {reqs_filter(p->reqs),
	                          reqs_replay_filter(p->reqs)};

	for (int i = 0; i < 2; i++) {
		MQTTAsync_responseOptions ro =
		        MQTTAsync_responseOptions_initializer;
		int rc;
		if (filters[i][0] == '\0')
			continue;
		rc = MQTTAsync_subscribe(p->client, filters[i], 1, &ro);
		if (rc != MQTTASYNC_SUCCESS)
			log_warnx("mqtt: cannot subscribe to %s (%s)",
			          filters[i], MQTTAsync_strerror(rc));
	}
}

/* Whether Paho can take this step's replies on top of what it still holds
 * (sent and not acknowledged, or not sent yet) and of what the outbox may
 * still send: when replies go out slower than requests are answered (a
 * slow broker or link), answering more would have Paho refuse them ("No
 * more messages can be buffered") and the requests would get no reply. */
static bool replies_fit(struct publisher *p)
{
	MQTTAsync_token *t = NULL;
	int held = 0;

	if (MQTTAsync_getPendingTokens(p->client, &t) != MQTTASYNC_SUCCESS)
		return false;
	while (t != NULL && t[held] != -1)
		held++;
	MQTTAsync_free(t);
	return held + (p->m->inflight - (int)p->wlen) + 1 + REQ_EXTRA <=
	       p->max_buffered;
}

/* Answer up to REQ_PER_STEP queued records requests while connected and
 * Paho has room for their replies, an enterprise's share at a time, and
 * send up to REQ_PER_STEP busy replies to requests that found their share
 * full; the rest wait for the next step (wait_plan(): one soon,
 * or at the next acknowledgement), so that a burst never holds
 * the publisher's thread for long. */
static void answer_requests(struct publisher *p, int64_t now_us)
{
	int64_t mono = mono_us(p);
	uint64_t dropped;
	bool left, room;

	/* Paho is asked only when there is something to answer: not at
	 * every step of the ingest loop */
	pthread_mutex_lock(&p->mu);
	left = reqs_pending(p->reqs);
	pthread_mutex_unlock(&p->mu);
	room = left && p->link == LINK_UP && replies_fit(p);

	for (int i = 0; i < REQ_PER_STEP && room; i++) {
		pthread_mutex_lock(&p->mu);
		struct req *q = reqs_pop(p->reqs);
		pthread_mutex_unlock(&p->mu);
		if (q == NULL)
			break;
		reqs_answer(p->reqs, q, p->client, now_us);
	}
	for (int i = 0; i < REQ_PER_STEP && room; i++) {
		pthread_mutex_lock(&p->mu);
		struct req *q = reqs_pop_busy(p->reqs, mono);
		pthread_mutex_unlock(&p->mu);
		if (q == NULL)
			break;
		reqs_answer_busy(p->reqs, q, p->client);
	}
	if (room) { /* a replay: at its own rate (mqtt.replay_per_s) */
		pthread_mutex_lock(&p->mu);
		struct req *q = reqs_pop_replay(p->reqs);
		pthread_mutex_unlock(&p->mu);
		reqs_replay_step(p->reqs, q, p->client, mono);
	}
	pthread_mutex_lock(&p->mu);
	left = reqs_pending(p->reqs);
	dropped = reqs_dropped(p->reqs);
	pthread_mutex_unlock(&p->mu);
	p->req_pending = left && p->link == LINK_UP;
	reqs_log_dropped(p->reqs, dropped, mono_us(p));
}

/* Every channel's discovery config (and its tolerance state's, if it has
 * a tolerance), retained, QoS 1, straight to Paho. */
static void ha_announce(struct publisher *p)
{
	char topic[MSG_TOPIC_MAX], buf[4096];
	int sent = 0;
	const struct msg_ha ha = {.ha_prefix = p->m->ha_prefix,
	                          .prefix = p->m->prefix,
	                          .site = p->cfg->site,
	                          .gateway_status = p->status_topic};

	for (int i = 0; i < p->cfg->ninstruments; i++) {
		const struct cfg_instrument *in = &p->cfg->instruments[i];
		for (int j = 0; j < in->nchannels; j++) {
			const struct cfg_channel *ch = &in->channels[j];
			for (int t = 0; t < (ch->tolerance != NULL ? 2 : 1);
			     t++) {
				int len = msg_ha_config(&ha, in, ch, t == 1,
				                        topic, sizeof(topic),
				                        buf, sizeof(buf));
				if (len < 0) {
					log_warnx("mqtt: discovery config of "
					          "%s/%s "
					          "too long, not sent",
					          in->id, ch->name);
					continue;
				}
				int rc = send_one(p, topic, buf, (size_t)len, 1,
				                  true, 0, ACK_DISCOVERY);
				if (rc != 0) {
					log_warnx(
					        "mqtt: Home Assistant "
					        "discovery "
					        "stopped after %d configs "
					        "(%s); "
					        "again at the next connection",
					        sent, MQTTAsync_strerror(rc));
					return;
				}
				sent++;
			}
		}
	}
	log_info("mqtt: Home Assistant discovery: %d configs under %s", sent,
	         p->m->ha_prefix);
}

/* A full window of QoS 0 rows on a connection: it moves only as Paho
 * writes them (see the opening comment). */
static bool window_stalled(const struct publisher *p)
{
	return p->link == LINK_UP && p->qos0 &&
	       p->wlen >= (size_t)p->m->inflight;
}

/* What Paho's callbacks recorded since the last step, taken in one go. */
struct cb_taken {
	bool connected, lost, refused, failed, ha_online, copy_full;
	struct refusal refusals[MAX_PENDING_REFUSALS];
	size_t nrefusals;
	int64_t *acks; /* the caller frees it */
	size_t nacks;
	unsigned ndone; /* sends completed (acks_new) */
};

/* Take (and clear) what the callbacks recorded, under the lock. */
static void take_callbacks(struct publisher *p, struct cb_taken *c)
{
	pthread_mutex_lock(&p->mu);
	c->connected = p->cb_connected;
	c->lost = p->cb_lost;
	c->refused = p->cb_refused;
	c->failed = p->cb_failed;
	c->ha_online = p->cb_ha_online;
	p->cb_connected = p->cb_lost = p->cb_refused = p->cb_failed = false;
	p->cb_ha_online = p->cb_event = false;
	c->ndone = p->acks_new;
	p->acks_new = 0;
	p->ack_wake = 0;
	c->acks = p->acks;
	c->nacks = p->nacks;
	p->acks = NULL;
	p->nacks = p->acks_cap = 0;
	c->nrefusals = p->cb_nrefusals;
	memcpy(c->refusals, p->cb_refusals,
	       c->nrefusals * sizeof(*c->refusals));
	p->cb_nrefusals = 0;
	if (p->in_head != NULL) { /* the copies handed over */
		if (p->copies_tail != NULL)
			p->copies_tail->next = p->in_head;
		else
			p->copies = p->in_head;
		p->copies_tail = p->in_tail;
		p->in_head = p->in_tail = NULL;
	}
	c->copy_full = p->copy_full;
	p->copy_full = false;
	p->stats.acked = p->cb_acked;
	p->stats.refused = p->cb_refused_msgs;
	pthread_mutex_unlock(&p->mu);
}

/* The broker refused the connection: say why (once per reason) and back
 * off. */
static void link_refused(struct publisher *p)
{
	char why[512];

	refusal_reason(p, why, sizeof(why));
	/* a warning when the reason changes, not at every retry */
	if (strcmp(why, p->last_why) != 0)
		log_warnx("mqtt: %s:%d: %s; retrying with back-off", p->m->host,
		          p->m->port, why);
	snprintf(p->last_why, sizeof(p->last_why), "%s", why);
	link_down(p, why);
}

/* The connection is up: send again from the oldest row, announce
 * "online", subscribe to what we answer. */
static void link_connected(struct publisher *p)
{
	p->link = LINK_UP;
	p->backoff_ms = BACKOFF_MIN_MS;
	p->rewind = true;
	p->status_rows = -1; /* announce "online" now */
	p->stats.connects++;
	p->last_why[0] = '\0';
	log_info("mqtt: connected to %s:%d", p->m->host, p->m->port);
	if (p->ha_status_topic[0] != '\0') {
		ha_subscribe(p);
		p->ha_due = true;
	}
	if (p->reqs != NULL)
		requests_subscribe(p);
}

/* The "online" status with the outbox's size, when it is due and the
 * size changed. */
static void status_step(struct publisher *p, struct store *st, int64_t now_us)
{
	int64_t mono = mono_us(p);

	if (p->link == LINK_UP &&
	    (p->status_rows < 0 ||
	     (mono >= p->next_status && mono >= p->next_status_check))) {
		/* counting the outbox reads all of it: not at every step (a
		 * step per PUBACK with a backlog of 10^5 rows would spend its
		 * time here), at most every STATUS_CHECK_US */
		int64_t rows, oldest;
		p->next_status_check = mono + STATUS_CHECK_US;
		if (store_outbox_stats(st, &rows, &oldest) == 0 &&
		    (p->status_rows < 0 || rows != p->status_rows)) {
			send_status(p, "online", NULL, rows, oldest, now_us);
			p->status_rows = rows;
			p->next_status = mono + STATUS_EVERY_US;
		}
	}
}

/* One turn of the publisher's thread (publisher_new()). now_us: UTC
 * microseconds. Returns 0, or -1 on a database error (logged; the next
 * turn tries again). */
static int step(struct publisher *p, int64_t now_us)
{
	struct store *st = p->st;
	struct cb_taken c;
	int rc = 0;

	take_callbacks(p, &c);
	log_refusals(p, st, c.refusals, c.nrefusals);
	for (size_t i = 0; i < c.nacks; i++)
		window_ack(p, c.acks[i]);
	free(c.acks);
	window_retire(p);
	if (c.ndone > 0 || !window_stalled(p))
		p->last_done = mono_us(p);
	else if (mono_us(p) - p->last_done >= ACK_HANDOVER_US) {
		kick(p); /* Paho's threads asleep with a pending write */
		p->last_done = mono_us(p);
	}
	copies_retire(p, p->deleted_upto);
	if (c.copy_full)
		log_debug("mqtt: %u MiB of readings copies held: the payloads "
		          "of newer readings messages are built from the "
		          "database",
		          COPY_MAX_BYTES >> 20);
	if (c.refused)
		link_refused(p);
	if (c.lost && p->link != LINK_DOWN)
		link_down(p, "connection lost");
	if (c.connected && !c.lost)
		link_connected(p);
	if (c.ha_online && p->ha_status_topic[0] != '\0') {
		log_info("mqtt: Home Assistant is online: discovery again");
		p->ha_due = true;
	}
	if (p->link == LINK_UP && p->ha_due) {
		p->ha_due = false;
		ha_announce(p);
	}
	if (c.failed)
		p->rewind = true;
	if (p->rewind) {
		/* what was in flight is sent again, from the oldest */
		if (p->wlen > 0)
			p->stats.resent += p->wlen;
		p->wlen = 0;
		p->last_sent = p->deleted_upto;
		p->rewind = false;
	}
	if (p->link == LINK_DOWN && !p->stopping &&
	    mono_us(p) >= p->next_attempt)
		start_connect(p);
	p->send_error = p->link == LINK_UP && send_rows(p, st, now_us) < 0;
	if (p->send_error)
		rc = -1;
	status_step(p, st, now_us);
	/* a request still queued when stopping stays waiting: the last
	 * stats line, logged before publisher_stop(), counts it so */
	if (p->reqs != NULL && !p->stopping)
		answer_requests(p, now_us);
	return rc;
}

/* The one wait not on the publisher's clock: the condition variable's
 * timed wait is on CLOCK_MONOTONIC (its attribute), for timeout_us; it
 * decides nothing, the next step reads the clock. Returns at once if a
 * callback that signals (send_completed()), a commit or a stop came since
 * the last step, or ack_wake > 0 sends completed since (ack_wake: 0 waits
 * only for those signals). */
static void wait_event(struct publisher *p, int64_t timeout_us,
                       unsigned ack_wake)
{
	struct timespec ts = mclock_cv_deadline(timeout_us);

	pthread_mutex_lock(&p->mu);
	p->ack_wake = ack_wake;
	while (!p->cb_event && !p->quit &&
	       !(ack_wake > 0 && p->acks_new >= ack_wake))
		if (pthread_cond_timedwait(&p->cv, &p->mu, &ts) != 0)
			break; /* ETIMEDOUT */
	pthread_mutex_unlock(&p->mu);
}

/* The outbox is empty and nothing is in flight. */
static bool idle(const struct publisher *p)
{
	return p->wlen == 0 && p->empty;
}

/* How long the thread may wait after a step, and after how many completed
 * sends it must wake (*ack_wake, 0: only on the last row in flight's, see
 * send_completed()). Whatever else the step left to do comes with a
 * signal: a commit, a callback's record, a request, a stop.
 * - records requests queued, or Paho's queue full: every completion makes
 *   room for a reply or a row, and BUSY_WAIT_US (a replay's pace, Paho's
 *   pending count) as before;
 * - a database error: again after BUSY_WAIT_US;
 * - a full window: half of it acknowledged refills it, the other half
 *   still in flight meanwhile (at least one: a window of 1 wakes on its
 *   ack). The rest of the window's acks, when they come out of order or
 *   fewer are in flight, wake the thread when the last one comes (a
 *   full window of QoS 0 rows that did not move meanwhile: step() kicks
 *   Paho, see the opening comment);
 * - rows in flight: the last one's ack, or ACK_HANDOVER_US, which bounds
 *   how long an acknowledged row waits for publisher_acked() (the ingest
 *   thread deletes it in its next transaction);
 * - otherwise IDLE_WAIT_US (the reconnect's back-off, the status's
 *   timers). */
static int64_t wait_plan(const struct publisher *p, unsigned *ack_wake)
{
	size_t inflight = (size_t)p->m->inflight;

	*ack_wake = 0;
	if (p->link != LINK_UP)
		return IDLE_WAIT_US;
	if (p->req_pending || p->paho_full) {
		*ack_wake = 1;
		return BUSY_WAIT_US;
	}
	if (p->send_error)
		return BUSY_WAIT_US;
	if (p->wlen >= inflight) {
		*ack_wake = (unsigned)((inflight + 1) / 2);
		return ACK_HANDOVER_US;
	}
	return p->wlen > 0 ? ACK_HANDOVER_US : IDLE_WAIT_US;
}

/* The counters for publisher_get_stats(), after each step: the
 * requests' counts of one instant (answered + errors + dropped + waiting
 * is every request taken so far). */
static void share_stats(struct publisher *p)
{
	struct publisher_stats s = p->stats;

	if (p->reqs != NULL)
		reqs_counts(p->reqs, &s.requests, &s.request_errors,
		            &s.requests_busy);
	s.connected = p->link == LINK_UP;
	pthread_mutex_lock(&p->mu);
	if (p->reqs != NULL) {
		s.requests_dropped = reqs_dropped(p->reqs);
		s.requests_waiting = reqs_queued(p->reqs);
	}
	p->shared = s;
	pthread_mutex_unlock(&p->mu);
}

/* The stop: send for at most p->stop_ms while there is something to send
 * and a connection, publish "offline", disconnect. */
static void flush_and_disconnect(struct publisher *p)
{
	int64_t deadline = mono_us(p) + (int64_t)p->stop_ms * 1000;
	while (mono_us(p) < deadline) {
		step(p, real_us(p));
		if (p->link == LINK_DOWN || (p->link == LINK_UP && idle(p)))
			break;
		mclock_sleep(p->clk, STOP_STEP_US);
	}
	if (p->link != LINK_UP)
		return;
	MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
	int64_t rows = 0, oldest = 0;
	store_outbox_stats(p->st, &rows, &oldest);
	send_status(p, "offline", "stopped", rows, oldest, real_us(p));
	d.timeout = STOP_WAIT_MS;
	if (p->m->version == 5)
		d.onSuccess5 = on_disconnected5;
	else
		d.onSuccess = on_disconnected;
	d.context = p;
	/* Paho sends what it has before the DISCONNECT, and waits up to the
	 * timeout for the acknowledgements */
	if (MQTTAsync_disconnect(p->client, &d) == MQTTASYNC_SUCCESS) {
		int64_t until = mono_us(p) + 2LL * STOP_WAIT_MS * 1000;
		bool done = false;
		while (!done && mono_us(p) < until) {
			mclock_sleep(p->clk, STOP_STEP_US);
			pthread_mutex_lock(&p->mu);
			done = p->cb_disconnected;
			pthread_mutex_unlock(&p->mu);
		}
	}
	/* acks that came in while stopping */
	p->link = LINK_DOWN;
	step(p, real_us(p));
	log_info("mqtt: disconnected");
}

/* The publisher's thread: a turn, then a wait, until publisher_stop(). */
static void *run(void *arg)
{
	struct publisher *p = arg;

	log_thread_name("publish");
	for (;;) {
		pthread_mutex_lock(&p->mu);
		bool quit = p->quit;
		pthread_mutex_unlock(&p->mu);
		if (quit)
			break;
		unsigned ack_wake;
		step(p, real_us(p));
		share_stats(p);
		int64_t timeout = wait_plan(p, &ack_wake);
		wait_event(p, timeout, ack_wake);
	}
	p->stopping = true; /* never connect again, answer no more requests */
	share_stats(p);
	pthread_mutex_lock(&p->mu);
	p->quiet = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	flush_and_disconnect(p);
	share_stats(p);
	return NULL;
}

void publisher_committed(struct publisher *p, const struct composed_readings *r)
{
	struct copy *c = r != NULL && r->nmsgs > 0 ? copy_make(r) : NULL;

	pthread_mutex_lock(&p->mu);
	if (c != NULL && p->copy_bytes + c->bytes > COPY_MAX_BYTES) {
		p->copy_full = true;
		free(c);
	} else if (c != NULL) {
		if (p->in_tail != NULL)
			p->in_tail->next = c;
		else
			p->in_head = c;
		p->in_tail = c;
		p->copy_bytes += c->bytes;
	}
	signal_event(p);
	pthread_mutex_unlock(&p->mu);
}

int64_t publisher_acked(struct publisher *p)
{
	pthread_mutex_lock(&p->mu);
	int64_t upto = p->acked_up;
	pthread_mutex_unlock(&p->mu);
	return upto;
}

void publisher_get_stats(struct publisher *p, struct publisher_stats *s)
{
	pthread_mutex_lock(&p->mu);
	*s = p->shared;
	s->acked = p->cb_acked;
	s->refused = p->cb_refused_msgs;
	pthread_mutex_unlock(&p->mu);
}

/* What publisher_new() made, once its thread has ended (or never ran). */
static void publisher_free(struct publisher *p)
{
	if (p->client != NULL)
		MQTTAsync_destroy(&p->client);
	reqs_free(p->reqs); /* with the requests still queued */
	/* Paho calls back no more: free the contexts it still held */
	while (p->ctxs != NULL) {
		struct ack_ctx *c = p->ctxs;
		p->ctxs = c->next;
		free(c);
	}
	store_close(p->st);
	for (int l = 0; l < 2; l++) {
		struct copy *c = l == 0 ? p->copies : p->in_head;
		while (c != NULL) {
			struct copy *next = c->next;
			free(c);
			c = next;
		}
	}
	free(p->pbuf);
	free(p->mch);
	free(p->mrd);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->acks);
	free(p->win);
	free(p->win_acked);
	free(p->sbuf);
	secret_wipe(p->password);
	free(p->password);
	free(p);
}

void publisher_stopping(struct publisher *p, int timeout_ms)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	if (!p->quit) {
		p->quit = true;
		p->stop_ms = timeout_ms;
		signal_event(p);
	}
	while (!p->quiet)
		pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

void publisher_stop(struct publisher *p, struct store *st, int timeout_ms)
{
	if (p == NULL)
		return;
	publisher_stopping(p, timeout_ms);
	pthread_join(p->thread, NULL);
	if (p->deleted_upto > 0 && store_outbox_delete(st, p->deleted_upto) < 0)
		log_warnx("mqtt: %s", store_last_message(st));
	publisher_free(p);
}
