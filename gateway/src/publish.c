/*
 * publish.c - MQTT: topics, JSON payloads (cJSON) and the publisher that
 * drains the outbox to the broker with Paho's asynchronous client
 * (MQTTAsync, MQTT 3.1.1). docs/MQTT.md is the contract of what is
 * published; publish.h the contract of the functions.
 *
 * Commit before publish: every message but the gateway's own status comes
 * from the outbox table, written by store_append() in the transaction of
 * the data it reports (with payloads built here). The publisher sends the
 * rows in seq order, at most `inflight` unacknowledged, and deletes a row
 * only once it and every row before it were acknowledged (PUBACK at
 * QoS 1). After a reconnect or a failed send it sends again everything
 * unacknowledged, from the oldest row: at least once, in order, duplicates
 * possible (subscribers de-duplicate by seq).
 *
 * Threading (STYLE rule 8): struct publisher belongs to the ingest thread,
 * which calls every function of publish.h. Paho runs the callbacks below on
 * its own threads; they only record what happened (connected, connection
 * lost or refused, acknowledged seq) in the fields marked "mu" under
 * p->mu, and publisher_step() acts on it. The one piece of memory both
 * sides touch besides those fields is struct ack_ctx, the context of one
 * send: created by the ingest thread and linked in p->ctxs under mu,
 * unlinked and freed by the callback that completes it, or by
 * publisher_stop() once Paho is destroyed and calls back no more.
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
#include <cjson/cJSON.h>

#include "log.h"
#include "sample.h"
#include "store.h"

#define BACKOFF_MIN_MS    500
#define BACKOFF_MAX_MS    30000
#define STATUS_EVERY_US   (5LL * 1000000) /* backlog updates, at most */
#define CONNECT_TIMEOUT_S 10
#define STOP_WAIT_MS      2000

/* ---- topics and payloads ----------------------------------------------- */

int publish_topic(char *buf, size_t size, const char *prefix, const char *site,
                  const char *leaf1, const char *leaf2)
{
	int n = leaf2 != NULL
	                ? snprintf(buf, size, "%s/%s/%s/%s", prefix, site,
	                           leaf1, leaf2)
	                : snprintf(buf, size, "%s/%s/%s", prefix, site, leaf1);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

void publish_iso_time(char *buf, size_t size, int64_t ts_us)
{
	time_t t = (time_t)(ts_us / 1000000);
	long us = (long)(ts_us % 1000000);
	struct tm tm;

	if (us < 0) {
		us += 1000000;
		t--;
	}
	gmtime_r(&t, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	         tm.tm_min, tm.tm_sec, us);
}

/* seq, ts, ts_ms, instrument: the head of every outbox payload. */
static cJSON *payload_head(int64_t seq, int64_t ts_us, const char *instrument)
{
	char iso[40];
	cJSON *o = cJSON_CreateObject();

	publish_iso_time(iso, sizeof(iso), ts_us);
	if (o == NULL || !cJSON_AddNumberToObject(o, "seq", (double)seq) ||
	    !cJSON_AddStringToObject(o, "ts", iso) ||
	    !cJSON_AddNumberToObject(o, "ts_ms", (double)(ts_us / 1000)) ||
	    !cJSON_AddStringToObject(o, "instrument", instrument)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Print o into buf and free it. Returns the length, or -1. */
static int payload_print(cJSON *o, char *buf, size_t size)
{
	int ok = o != NULL && size > 8 &&
	         cJSON_PrintPreallocated(o, buf, (int)size - 5, 0);

	cJSON_Delete(o);
	return ok ? (int)strlen(buf) : -1;
}

/* v rounded to digits significant digits (0: unchanged), through the
 * decimal text so that cJSON prints the short form. */
static double significant(double v, int digits)
{
	char text[32];

	if (digits <= 0)
		return v;
	snprintf(text, sizeof(text), "%.*g", digits, v);
	return strtod(text, NULL);
}

int publish_readings_payload(char *buf, size_t size, int64_t seq, int64_t ts_us,
                             const char *instrument,
                             const struct publish_channel *ch, size_t n)
{
	cJSON *o = payload_head(seq, ts_us, instrument);
	cJSON *chans =
	        o != NULL ? cJSON_AddObjectToObject(o, "channels") : NULL;

	if (chans == NULL)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		cJSON *c = cJSON_AddObjectToObject(chans, ch[i].name);
		bool good = ch[i].quality == QUALITY_GOOD;
		if (c == NULL ||
		    (good ? !cJSON_AddNumberToObject(
		                    c, "value",
		                    significant(ch[i].value, ch[i].digits))
		          : !cJSON_AddNullToObject(c, "value")) ||
		    !cJSON_AddStringToObject(c, "unit", ch[i].unit) ||
		    !cJSON_AddStringToObject(
		            c, "quality",
		            quality_name((enum quality)ch[i].quality)))
			goto fail;
	}
	return payload_print(o, buf, size);
fail:
	cJSON_Delete(o);
	return -1;
}

static int event_like(char *buf, size_t size, int64_t seq, int64_t ts_us,
                      const char *instrument, const char *key,
                      const char *value, const char *reason)
{
	cJSON *o = payload_head(seq, ts_us, instrument);

	if (o == NULL || !cJSON_AddStringToObject(o, key, value) ||
	    (reason != NULL ? !cJSON_AddStringToObject(o, "reason", reason)
	                    : !cJSON_AddNullToObject(o, "reason"))) {
		cJSON_Delete(o);
		return -1;
	}
	return payload_print(o, buf, size);
}

int publish_event_payload(char *buf, size_t size, int64_t seq, int64_t ts_us,
                          const char *instrument, const char *kind,
                          const char *reason)
{
	return event_like(buf, size, seq, ts_us, instrument, "event", kind,
	                  reason);
}

int publish_status_payload(char *buf, size_t size, int64_t seq, int64_t ts_us,
                           const char *instrument, const char *state,
                           const char *reason)
{
	return event_like(buf, size, seq, ts_us, instrument, "state", state,
	                  reason);
}

int publish_tolerance_payload(char *buf, size_t size, int64_t seq,
                              int64_t ts_us, const char *instrument,
                              const struct publish_tolerance *t)
{
	cJSON *o = payload_head(seq, ts_us, instrument);
	bool ok = o != NULL;

	ok = ok && cJSON_AddStringToObject(o, "event", t->kind) &&
	     cJSON_AddStringToObject(o, "channel", t->channel);
	ok = ok && (t->from != NULL ? cJSON_AddStringToObject(o, "from", t->from)
	                            : cJSON_AddNullToObject(o, "from"));
	ok = ok && (t->to != NULL ? cJSON_AddStringToObject(o, "to", t->to)
	                          : cJSON_AddNullToObject(o, "to"));
	ok = ok && (isfinite(t->error)
	                    ? cJSON_AddNumberToObject(o, "error", t->error)
	                    : cJSON_AddNullToObject(o, "error"));
	ok = ok && cJSON_AddStringToObject(o, "unit", t->unit) &&
	     cJSON_AddNumberToObject(o, "lower", t->lower) &&
	     cJSON_AddNumberToObject(o, "upper", t->upper) &&
	     cJSON_AddStringToObject(o, "detail", t->detail);
	if (!ok) {
		cJSON_Delete(o);
		return -1;
	}
	return payload_print(o, buf, size);
}

int publish_status_tolerance_payload(char *buf, size_t size, int64_t seq,
                                     int64_t ts_us, const char *instrument,
                                     const char *state, const char *reason,
                                     const struct publish_chstate *ch,
                                     size_t n)
{
	cJSON *o = payload_head(seq, ts_us, instrument), *tol = NULL;
	bool ok = o != NULL;

	ok = ok && (state != NULL ? cJSON_AddStringToObject(o, "state", state)
	                          : cJSON_AddNullToObject(o, "state"));
	ok = ok && (reason != NULL ? cJSON_AddStringToObject(o, "reason", reason)
	                           : cJSON_AddNullToObject(o, "reason"));
	ok = ok && (tol = cJSON_AddObjectToObject(o, "tolerance")) != NULL;
	for (size_t i = 0; ok && i < n; i++)
		ok = cJSON_AddStringToObject(tol, ch[i].channel,
		                             ch[i].state) != NULL;
	if (!ok) {
		cJSON_Delete(o);
		return -1;
	}
	return payload_print(o, buf, size);
}

/* ---- the publisher ----------------------------------------------------- */

enum link { LINK_DOWN, LINK_CONNECTING, LINK_UP };

struct ack_ctx {
	struct publisher *p;
	int64_t seq; /* 0: the gateway's status, not an outbox row */
	struct ack_ctx *prev, *next; /* in p->ctxs, under p->mu */
};

struct publisher {
	const struct config *cfg;
	const struct cfg_mqtt *m;
	MQTTAsync client;
	char status_topic[PUBLISH_TOPIC_MAX];

	pthread_mutex_t mu;
	/* mu: set by the callbacks, taken by publisher_step() */
	bool cb_connected, cb_lost, cb_refused, cb_failed, cb_disconnected;
	int cb_code;           /* Paho's code of the last refusal */
	char cb_reason[160];   /* its message, "" when none */
	char cb_tls[256];      /* OpenSSL's last error, "" when none */
	int64_t *acks; /* acknowledged seqs, in arrival order */
	size_t nacks, acks_cap;
	struct ack_ctx *ctxs; /* sends not yet completed */
	uint64_t cb_acked;

	/* the ingest thread only */
	enum link link;
	int backoff_ms;
	int64_t next_attempt; /* monotonic us */
	int64_t *win;         /* seqs sent since the last rewind, in order */
	bool *win_acked;
	size_t wlen;
	int64_t last_sent;    /* highest seq sent since the last rewind */
	int64_t deleted_upto; /* rows <= this are acknowledged and gone */
	bool rewind;          /* send again from deleted_upto */
	bool empty;           /* the outbox had nothing after last_sent */
	bool stopping;        /* publisher_stop(): never connect again */
	int64_t status_rows;  /* backlog last published, -1: none yet */
	int64_t next_status;  /* monotonic us */
	char *sbuf;           /* payload with "historical" */
	size_t sbuf_size;
	char *password;       /* from password_file, or NULL; never logged */
	char last_why[512];   /* last refusal logged as a warning */
	struct publisher_stats stats;
};

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t real_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
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

static void on_sent(void *context, MQTTAsync_successData *data)
{
	struct ack_ctx *c = context;
	struct publisher *p = c->p;

	(void)data;
	pthread_mutex_lock(&p->mu);
	ctx_unlink(p, c);
	p->cb_acked++;
	if (c->seq > 0) {
		if (p->nacks == p->acks_cap) {
			size_t cap = p->acks_cap ? 2 * p->acks_cap : 256;
			int64_t *a = realloc(p->acks, cap * sizeof(*a));
			if (a == NULL) {
				p->cb_failed = true; /* resend: safe */
				goto out;
			}
			p->acks = a;
			p->acks_cap = cap;
		}
		p->acks[p->nacks++] = c->seq;
	}
out:
	pthread_mutex_unlock(&p->mu);
	free(c);
}

static void on_send_failed(void *context, MQTTAsync_failureData *data)
{
	struct ack_ctx *c = context;
	struct publisher *p = c->p;

	(void)data;
	pthread_mutex_lock(&p->mu);
	ctx_unlink(p, c);
	if (c->seq > 0)
		p->cb_failed = true;
	pthread_mutex_unlock(&p->mu);
	free(c);
}

static void on_connect(void *context, MQTTAsync_successData *data)
{
	struct publisher *p = context;

	(void)data;
	pthread_mutex_lock(&p->mu);
	p->cb_connected = true;
	pthread_mutex_unlock(&p->mu);
}

static void on_connect_failed(void *context, MQTTAsync_failureData *data)
{
	struct publisher *p = context;

	pthread_mutex_lock(&p->mu);
	p->cb_refused = true;
	p->cb_code = data != NULL ? data->code : MQTTASYNC_FAILURE;
	snprintf(p->cb_reason, sizeof(p->cb_reason), "%s",
	         data != NULL && data->message != NULL ? data->message : "");
	pthread_mutex_unlock(&p->mu);
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
	pthread_mutex_unlock(&p->mu);
}

static void on_disconnected(void *context, MQTTAsync_successData *data)
{
	struct publisher *p = context;

	(void)data;
	pthread_mutex_lock(&p->mu);
	p->cb_disconnected = true;
	pthread_mutex_unlock(&p->mu);
}

/* We subscribe to nothing; Paho requires this callback. */
static int on_message(void *context, char *topic, int len,
                      MQTTAsync_message *msg)
{
	(void)context;
	(void)len;
	MQTTAsync_freeMessage(&msg);
	MQTTAsync_free(topic);
	return 1;
}

/* ---- the ingest thread's side ---- */

static const char will_payload[] =
        "{\"state\":\"offline\",\"reason\":\"lost\"}";

static void start_connect(struct publisher *p)
{
	MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer;
	MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
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
	will.topicName = p->status_topic;
	will.message = will_payload;
	will.retained = 1;
	will.qos = 1;
	o.keepAliveInterval = p->m->keepalive_s;
	o.cleansession = 0;
	o.MQTTVersion = MQTTVERSION_3_1_1;
	o.maxInflight = p->m->inflight + 1; /* + the gateway's status */
	o.connectTimeout = CONNECT_TIMEOUT_S;
	o.will = &will;
	o.onSuccess = on_connect;
	o.onFailure = on_connect_failed;
	o.context = p;
	rc = MQTTAsync_connect(p->client, &o);
	if (rc != MQTTASYNC_SUCCESS) {
		log_warnx("mqtt: cannot start connecting to %s:%d (%s)",
		          p->m->host, p->m->port, MQTTAsync_strerror(rc));
		p->link = LINK_DOWN;
		p->next_attempt = mono_us() + (int64_t)p->backoff_ms * 1000;
		return;
	}
	p->link = LINK_CONNECTING;
}

/* Send one message; ctx_seq > 0 tracks the acknowledgement of that outbox
 * row. Returns 0 or Paho's error code. */
static int send_one(struct publisher *p, const char *topic, const char *payload,
                    size_t len, int qos, bool retain, int64_t ctx_seq)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	struct ack_ctx *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL)
		return MQTTASYNC_FAILURE;
	c->p = p;
	c->seq = ctx_seq;
	ro.onSuccess = on_sent;
	ro.onFailure = on_send_failed;
	ro.context = c;
	pthread_mutex_lock(&p->mu);
	c->next = p->ctxs;
	if (p->ctxs != NULL)
		p->ctxs->prev = c;
	p->ctxs = c;
	pthread_mutex_unlock(&p->mu);
	rc = MQTTAsync_send(p->client, topic, (int)len, payload, qos,
	                    retain ? 1 : 0, &ro);
	if (rc != MQTTASYNC_SUCCESS) {
		/* no callback will come for it */
		pthread_mutex_lock(&p->mu);
		ctx_unlink(p, c);
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
	char buf[512], iso[40];
	cJSON *o = cJSON_CreateObject();
	double age = rows > 0 && oldest_us > 0 && now_us > oldest_us
	                     ? (double)(now_us - oldest_us) / 1e6
	                     : 0;

	publish_iso_time(iso, sizeof(iso), now_us);
	if (o == NULL || !cJSON_AddStringToObject(o, "state", state) ||
	    (reason != NULL ? !cJSON_AddStringToObject(o, "reason", reason)
	                    : !cJSON_AddNullToObject(o, "reason")) ||
	    !cJSON_AddStringToObject(o, "ts", iso) ||
	    !cJSON_AddNumberToObject(o, "ts_ms", (double)(now_us / 1000)) ||
	    !cJSON_AddNumberToObject(o, "outbox", (double)rows) ||
	    !cJSON_AddNumberToObject(o, "oldest_age_s",
	                             (double)(int64_t)(age * 1000) / 1000) ||
	    !cJSON_AddStringToObject(o, "client_id", p->m->client_id)) {
		cJSON_Delete(o);
		return;
	}
	int len = payload_print(o, buf, sizeof(buf));
	if (len < 0)
		return;
	int rc = send_one(p, p->status_topic, buf, (size_t)len, 1, true, 0);
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

static void wipe(char *s)
{
	volatile char *v = s;

	while (v != NULL && *v != '\0')
		*v++ = '\0';
}

/* The first line of path, without its line end, into *out (malloc'd).
 * Returns 0, or -1 with the reason in err (never the password). */
static int read_password(const char *path, char **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (f == NULL) {
		snprintf(err, errlen, "mqtt: password_file %s: %s", path,
		         strerror(errno));
		return -1;
	}
	n = getline(&line, &cap, f);
	if (n < 0 && ferror(f)) {
		snprintf(err, errlen, "mqtt: password_file %s: %s", path,
		         strerror(errno));
		fclose(f);
		if (line != NULL)
			wipe(line);
		free(line);
		return -1;
	}
	fclose(f);
	if (n < 0) { /* an empty file: an empty password */
		free(line);
		line = strdup("");
		if (line == NULL) {
			snprintf(err, errlen, "mqtt: %s", strerror(ENOMEM));
			return -1;
		}
		n = 0;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	*out = line;
	return 0;
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
	int code;
	char msg[160], tls[256];

	pthread_mutex_lock(&p->mu);
	code = p->cb_code;
	snprintf(msg, sizeof(msg), "%s", p->cb_reason);
	snprintf(tls, sizeof(tls), "%s", p->cb_tls);
	p->cb_tls[0] = '\0';
	pthread_mutex_unlock(&p->mu);
	if (code >= 1 && code <= 5)
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

struct publisher *publisher_new(const struct config *c, char *err,
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
	p->status_rows = -1;
	p->backoff_ms = BACKOFF_MIN_MS;
	pthread_mutex_init(&p->mu, NULL);
	p->win = calloc((size_t)p->m->inflight, sizeof(*p->win));
	p->win_acked = calloc((size_t)p->m->inflight, sizeof(*p->win_acked));
	if (p->win == NULL || p->win_acked == NULL) {
		snprintf(err, errlen, "mqtt: %s", strerror(ENOMEM));
		goto fail;
	}
	if (publish_topic(p->status_topic, sizeof(p->status_topic),
	                  p->m->prefix, c->site, "gateway", "status") < 0) {
		snprintf(err, errlen, "mqtt: topic prefix too long");
		goto fail;
	}
	if (p->m->password_file != NULL &&
	    read_password(p->m->password_file, &p->password, err, errlen) < 0)
		goto fail;
	snprintf(uri, sizeof(uri), "%s://%s:%d", p->m->tls ? "ssl" : "tcp",
	         p->m->host, p->m->port);
	if (p->m->tls && !p->m->tls_verify)
		log_warnx("mqtt: tls verify is off: the broker's certificate "
		          "is not checked");
	co.MQTTVersion = MQTTVERSION_3_1_1;
	co.sendWhileDisconnected = 0;
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
	start_connect(p);
	log_info("mqtt: publishing to %s as %s under %s/%s", uri,
	         p->m->client_id, p->m->prefix, c->site);
	return p;
fail:
	if (p->client != NULL)
		MQTTAsync_destroy(&p->client);
	pthread_mutex_destroy(&p->mu);
	wipe(p->password);
	free(p->password);
	free(p->win);
	free(p->win_acked);
	free(p);
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

/* Delete the acknowledged prefix of the window from the outbox. */
static int window_retire(struct publisher *p, struct store *st)
{
	size_t k = 0;

	while (k < p->wlen && p->win_acked[k])
		k++;
	if (k == 0)
		return 0;
	int64_t upto = p->win[k - 1];
	if (upto > p->deleted_upto) {
		if (store_outbox_delete(st, upto) < 0) {
			log_warnx("mqtt: %s", store_last_message(st));
			return -1;
		}
		p->deleted_upto = upto;
	}
	memmove(p->win, p->win + k, (p->wlen - k) * sizeof(*p->win));
	memmove(p->win_acked, p->win_acked + k,
	        (p->wlen - k) * sizeof(*p->win_acked));
	p->wlen -= k;
	return 0;
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
	p->next_attempt = mono_us() + (int64_t)p->backoff_ms * 1000;
	p->backoff_ms *= 2;
	if (p->backoff_ms > BACKOFF_MAX_MS)
		p->backoff_ms = BACKOFF_MAX_MS;
}

/* Send outbox rows after last_sent while the window has room. */
static int send_rows(struct publisher *p, struct store *st, int64_t now_us)
{
	struct store_msg msgs[64];

	while (p->link == LINK_UP && p->wlen < (size_t)p->m->inflight) {
		size_t room = (size_t)p->m->inflight - p->wlen, n = 0;
		if (room > 64)
			room = 64;
		if (store_outbox_read(st, p->last_sent, msgs, room, &n) < 0) {
			log_warnx("mqtt: %s", store_last_message(st));
			return -1;
		}
		p->empty = n < room;
		for (size_t i = 0; i < n; i++) {
			size_t len;
			const char *payload =
			        with_historical(p, &msgs[i], now_us, &len);
			int rc = send_one(p, msgs[i].topic, payload, len,
			                  msgs[i].qos, msgs[i].retain,
			                  msgs[i].seq);
			if (rc != 0) {
				link_down(p, MQTTAsync_strerror(rc));
				return 0;
			}
			p->win[p->wlen] = msgs[i].seq;
			p->win_acked[p->wlen++] = false;
			p->last_sent = msgs[i].seq;
		}
		if (p->empty)
			break;
	}
	return 0;
}

int publisher_step(struct publisher *p, struct store *st, int64_t now_us)
{
	bool connected, lost, refused, failed;
	int64_t *acks;
	size_t nacks;
	int rc = 0;

	pthread_mutex_lock(&p->mu);
	connected = p->cb_connected;
	lost = p->cb_lost;
	refused = p->cb_refused;
	failed = p->cb_failed;
	p->cb_connected = p->cb_lost = p->cb_refused = p->cb_failed = false;
	acks = p->acks;
	nacks = p->nacks;
	p->acks = NULL;
	p->nacks = p->acks_cap = 0;
	p->stats.acked = p->cb_acked;
	pthread_mutex_unlock(&p->mu);

	for (size_t i = 0; i < nacks; i++)
		window_ack(p, acks[i]);
	free(acks);
	if (window_retire(p, st) < 0)
		rc = -1;
	if (refused) {
		char why[512];
		refusal_reason(p, why, sizeof(why));
		/* a warning when the reason changes, not at every retry */
		if (strcmp(why, p->last_why) != 0)
			log_warnx("mqtt: %s:%d: %s; retrying with back-off",
			          p->m->host, p->m->port, why);
		snprintf(p->last_why, sizeof(p->last_why), "%s", why);
		link_down(p, why);
	}
	if (lost && p->link != LINK_DOWN)
		link_down(p, "connection lost");
	if (connected && !lost) {
		p->link = LINK_UP;
		p->backoff_ms = BACKOFF_MIN_MS;
		p->rewind = true;
		p->status_rows = -1; /* announce "online" now */
		p->stats.connects++;
		p->last_why[0] = '\0';
		log_info("mqtt: connected to %s:%d", p->m->host, p->m->port);
	}
	if (failed)
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
	    mono_us() >= p->next_attempt)
		start_connect(p);
	if (p->link == LINK_UP && send_rows(p, st, now_us) < 0)
		rc = -1;
	if (p->link == LINK_UP) {
		int64_t rows, oldest;
		int64_t mono = mono_us();
		if (store_outbox_stats(st, &rows, &oldest) == 0 &&
		    (p->status_rows < 0 ||
		     (rows != p->status_rows && mono >= p->next_status))) {
			send_status(p, "online", NULL, rows, oldest, now_us);
			p->status_rows = rows;
			p->next_status = mono + STATUS_EVERY_US;
		}
	}
	return rc;
}

bool publisher_idle(const struct publisher *p)
{
	return p->wlen == 0 && p->empty;
}

bool publisher_busy(const struct publisher *p)
{
	return p->link == LINK_UP && !publisher_idle(p);
}

void publisher_get_stats(struct publisher *p, struct publisher_stats *s)
{
	pthread_mutex_lock(&p->mu);
	p->stats.acked = p->cb_acked;
	pthread_mutex_unlock(&p->mu);
	*s = p->stats;
	s->connected = p->link == LINK_UP;
}

void publisher_stop(struct publisher *p, struct store *st, int timeout_ms)
{
	int64_t deadline;

	if (p == NULL)
		return;
	deadline = mono_us() + (int64_t)timeout_ms * 1000;
	while (mono_us() < deadline) {
		publisher_step(p, st, real_us());
		if (p->link == LINK_DOWN ||
		    (p->link == LINK_UP && publisher_idle(p)))
			break;
		struct timespec ts = {0, 5 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (p->link == LINK_UP) {
		MQTTAsync_disconnectOptions d =
		        MQTTAsync_disconnectOptions_initializer;
		int64_t rows = 0, oldest = 0;
		store_outbox_stats(st, &rows, &oldest);
		send_status(p, "offline", "stopped", rows, oldest, real_us());
		d.timeout = STOP_WAIT_MS;
		d.onSuccess = on_disconnected;
		d.context = p;
		/* Paho sends what it has before the DISCONNECT, and waits
		 * up to the timeout for the acknowledgements */
		if (MQTTAsync_disconnect(p->client, &d) == MQTTASYNC_SUCCESS) {
			int64_t until = mono_us() + 2LL * STOP_WAIT_MS * 1000;
			bool done = false;
			while (!done && mono_us() < until) {
				struct timespec ts = {0, 5 * 1000 * 1000};
				nanosleep(&ts, NULL);
				pthread_mutex_lock(&p->mu);
				done = p->cb_disconnected;
				pthread_mutex_unlock(&p->mu);
			}
		}
		/* acks that came in while stopping */
		p->link = LINK_DOWN;
		p->stopping = true;
		publisher_step(p, st, real_us());
		log_info("mqtt: disconnected");
	}
	MQTTAsync_destroy(&p->client);
	/* Paho calls back no more: free the contexts it still held */
	while (p->ctxs != NULL) {
		struct ack_ctx *c = p->ctxs;
		p->ctxs = c->next;
		free(c);
	}
	pthread_mutex_destroy(&p->mu);
	free(p->acks);
	free(p->win);
	free(p->win_acked);
	free(p->sbuf);
	wipe(p->password);
	free(p->password);
	free(p);
}
