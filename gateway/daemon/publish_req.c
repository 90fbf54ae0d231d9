/*
 * publish_req.c - records on request (mqtt.requests; docs/MQTT.md, Records
 * on request, is the contract): an enterprise (an instrument's `owner`)
 * publishes a JSON request on <prefix>/<site>/requests/<enterprise>/records
 * and gets the calibration records of its own instruments, read from the
 * database through a read-only connection of its own (query.h), as one
 * JSON reply on a topic under <prefix>/<site>/replies/<enterprise>/.
 * This file queries, queues and sends; core/msg.c builds every reply
 * (msg_reply_*(), from the query results turned into core data) and
 * core/request.c parses the requests, so no JSON is built or parsed here.
 *
 * Confinement: the enterprise is the topic level the broker's ACL checked
 * when it let the request in, never a field of the payload; an answer
 * holds only instruments whose owner is exactly that id, and an
 * instrument of another enterprise is refused with the same words as one
 * that does not exist; the reply topic must lie under that enterprise's
 * replies, so an ACL that lets each enterprise read only its own replies
 * keeps the answers apart too.
 *
 * Fairness: the queue is shared out by enterprise, REQ_PER_ENTERPRISE
 * requests waiting at most in each of REQ_ENTERPRISES shares, and a last
 * share for everyone else (enterprises when all those are taken, and
 * levels that are not names); requests are taken from the shares in
 * turn (round robin), so one enterprise's flood delays only its own
 * answers, and every other enterprise waits for one request of each at
 * most. A request that finds its share full is not queued (dropped,
 * counted): the share holds one of them, which is answered "busy, retry
 * after REQ_BUSY_S s" unless its share had a busy reply in the last
 * REQ_BUSY_S s; the rest are only counted, so the busy replies are at
 * most one per share per REQ_BUSY_S s, never a flood of their own.
 *
 * Threading (publish_req.h): Paho's thread only copies a request into
 * its share under the publisher's mutex; a step on the publisher's
 * thread pops at most REQ_PER_STEP requests and REQ_PER_STEP busy ones
 * per step and answers them here, so a burst of requests delays the
 * outbox by a few queries per step at most and never blocks Paho.
 * Replies are sent straight to Paho at QoS 1, not through the outbox: an
 * answer lost in an outage is asked again, it is not data to keep.
 */
#include "publish_req.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib.h"
#include "log.h"
#include "msg.h"
#include "publish.h"
#include "query.h"
#include "query_replay.h"
#include "request.h"
#include "text.h"

#define CORRELATION_MAX 256 /* bytes of the Correlation Data property */
#define VERIFY_CACHE_US (10LL * 1000000) /* chain check reused, at most */
#define LOG_EVERY_US    (60LL * 1000000)
#define LOG_PER_MINUTE  10  /* request problems logged, then summed up */
#define RECORD_COST     800 /* reply bytes of a record without points, */
#define POINT_COST      260 /* and of a point, about: stop building early */

struct req {
	char topic[MSG_TOPIC_MAX];
	char *payload;  /* NUL-terminated, at most REQ_PAYLOAD_MAX + 1 */
	size_t len;     /* the payload's whole length on the wire */
	char *response; /* MQTT 5 Response Topic, NULL when none */
	void *corr;     /* MQTT 5 Correlation Data, NULL when none */
	int corr_len;
};

/* The share of the queue of one enterprise: its requests waiting, in
 * the order they came, and the request it held for a busy reply. */
struct share {
	char ent[REQUEST_NAME_MAX + 1]; /* "": free (the last share: any) */
	struct req *ring[REQ_PER_ENTERPRISE];
	size_t head, n;
	struct req *busy;    /* not queued: to answer busy, NULL: none */
	int64_t quiet_until; /* monotonic us: no busy reply before */
};

/* A replay under way (the publisher thread's): what was sent and what
 * could not be, as ranges of seqs, for its reply. */
struct rjob {
	struct req *q; /* its request: the Correlation Data */
	struct replay_request a;
	int64_t next; /* the next seq to look at */
	struct msg_replay_range *sent, *missing;
	size_t nsent, nmissing, cap_sent, cap_missing;
	uint64_t messages; /* sent */
};

struct reqs {
	const struct config *cfg;
	const struct mclock *clk;    /* the publisher's */
	char filter[MSG_TOPIC_MAX];  /* <prefix>/<site>/requests/+/records,
	                                "": records requests off */
	char rfilter[MSG_TOPIC_MAX]; /* <prefix>/<site>/replay/request, "":
	                                replays off */
	char base[MSG_TOPIC_MAX];    /* <prefix>/<site>/ */
	/* under the publisher's mutex */
	struct share shares[REQ_SHARES];   /* the last: every enterprise
	                                      without a share of its own */
	size_t next;                       /* the share whose turn it is */
	size_t queued, held;               /* in the rings, in busy */
	uint64_t dropped;                  /* not queued */
	struct req *replays[REPLAY_QUEUE]; /* replay requests waiting */
	size_t rhead, rn;
	uint64_t replays_dropped;
	/* the publisher's thread only */
	struct query *q; /* opened at the first request */
	uint64_t answered, errors, busy, dropped_logged;
	int64_t dropped_log_at, log_window; /* monotonic us */
	int logged, unlogged;               /* in this log window */
	struct query_verify verify;         /* cached chain check */
	int64_t verified_at;                /* monotonic us, 0: none */
	struct calib_record *scratch;
	struct rjob *job;             /* the replay under way, NULL none */
	double tokens;                /* messages the bucket allows now */
	int64_t tokens_at;            /* monotonic us of tokens, 0: none */
	struct query_rchannel *chans; /* every channel, at a replay's
	                                 start */
	size_t nchans;
	uint64_t replays_logged; /* dropped replays already logged */
};

/* ---- the queue (under the publisher's mutex) ---------------------------- */

struct reqs *reqs_new(const struct config *c, const struct mclock *clk,
                      char *err, size_t errlen)
{
	struct reqs *r = calloc(1, sizeof(*r));
	int n1, n2, n3;

	if (r == NULL || (r->scratch = malloc(sizeof(*r->scratch))) == NULL) {
		free(r);
		snprintf(err, errlen, "mqtt: out of memory");
		return NULL;
	}
	r->cfg = c;
	r->clk = clk;
	n1 = snprintf(r->filter, sizeof(r->filter), "%s/%s/requests/+/records",
	              c->mqtt->prefix, c->site);
	n2 = snprintf(r->base, sizeof(r->base), "%s/%s/", c->mqtt->prefix,
	              c->site);
	n3 = snprintf(r->rfilter, sizeof(r->rfilter), "%s/%s/replay/request",
	              c->mqtt->prefix, c->site);
	if (!c->mqtt->requests)
		r->filter[0] = '\0';
	if (c->mqtt->replay_per_s <= 0)
		r->rfilter[0] = '\0';
	if (n1 < 0 || (size_t)n1 >= sizeof(r->filter) || n2 < 0 ||
	    (size_t)n2 + 64 >= sizeof(r->base) || n3 < 0 ||
	    (size_t)n3 >= sizeof(r->rfilter)) {
		snprintf(err, errlen, "mqtt: topic prefix too long");
		reqs_free(r);
		return NULL;
	}
	return r;
}

static void req_free(struct req *q)
{
	if (q == NULL)
		return;
	free(q->payload);
	free(q->response);
	free(q->corr);
	free(q);
}

static void rjob_free(struct rjob *j)
{
	if (j == NULL)
		return;
	req_free(j->q);
	free(j->sent);
	free(j->missing);
	free(j);
}

void reqs_free(struct reqs *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < REQ_SHARES; i++) {
		struct share *sh = &r->shares[i];
		for (; sh->n > 0; sh->n--) {
			req_free(sh->ring[sh->head]);
			sh->head = (sh->head + 1) % REQ_PER_ENTERPRISE;
		}
		req_free(sh->busy);
	}
	for (; r->rn > 0; r->rn--) {
		req_free(r->replays[r->rhead]);
		r->rhead = (r->rhead + 1) % REPLAY_QUEUE;
	}
	rjob_free(r->job);
	free(r->chans);
	query_close(r->q);
	free(r->scratch);
	free(r);
}

bool reqs_wanted(const struct config *c)
{
	return c->mqtt->requests || c->mqtt->replay_per_s > 0;
}

const char *reqs_filter(const struct reqs *r)
{
	return r->filter;
}

const char *reqs_replay_filter(const struct reqs *r)
{
	return r->rfilter;
}

bool reqs_match(const struct reqs *r, const char *topic)
{
	size_t b = strlen(r->base), t = strlen(topic);
	const char *ent, *slash;

	if (r->rfilter[0] != '\0' && strcmp(topic, r->rfilter) == 0)
		return true;
	if (r->filter[0] == '\0' || strncmp(topic, r->base, b) != 0 ||
	    strncmp(topic + b, "requests/", 9) != 0)
		return false;
	ent = topic + b + 9;
	slash = strchr(ent, '/');
	return slash != NULL && slash > ent && strcmp(slash, "/records") == 0 &&
	       t < MSG_TOPIC_MAX;
}

/* The share of a request on topic: its enterprise's, a free one it now
 * takes, or the last one (enterprises when every other share is taken,
 * and levels that are not names, which are only logged). */
static struct share *share_of(struct reqs *r, const char *topic)
{
	char ent[REQUEST_NAME_MAX + 1];
	struct share *free_share = NULL;

	if (!request_enterprise(r->base, topic, ent))
		return &r->shares[REQ_SHARES - 1];
	for (size_t i = 0; i < REQ_SHARES - 1; i++) {
		struct share *sh = &r->shares[i];
		if (strcmp(sh->ent, ent) == 0)
			return sh;
		if (sh->ent[0] == '\0' && free_share == NULL)
			free_share = sh;
	}
	if (free_share == NULL)
		return &r->shares[REQ_SHARES - 1];
	snprintf(free_share->ent, sizeof(free_share->ent), "%s", ent);
	return free_share;
}

/* sh given back when nothing is left in it (not the last share). */
static void share_tidy(struct reqs *r, struct share *sh)
{
	if (sh != &r->shares[REQ_SHARES - 1] && sh->n == 0 &&
	    sh->busy == NULL) {
		sh->ent[0] = '\0';
		sh->head = 0;
		sh->quiet_until = 0;
	}
}

/* A copy of the request msg on topic (what reqs_push() says), or NULL
 * when memory runs out. */
static struct req *req_copy(const char *topic, const MQTTAsync_message *msg)
{
	MQTTProperties *props = (MQTTProperties *)&msg->properties;
	MQTTProperty *rt = MQTTProperties_getProperty(
	        props, MQTTPROPERTY_CODE_RESPONSE_TOPIC);
	MQTTProperty *cd = MQTTProperties_getProperty(
	        props, MQTTPROPERTY_CODE_CORRELATION_DATA);
	size_t len = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;
	size_t keep = len > REQ_PAYLOAD_MAX ? REQ_PAYLOAD_MAX + 1 : len;
	struct req *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	snprintf(q->topic, sizeof(q->topic), "%s", topic);
	q->len = len;
	q->payload = malloc(keep + 1);
	if (q->payload != NULL) {
		memcpy(q->payload, msg->payload, keep);
		q->payload[keep] = '\0';
	}
	if (rt != NULL && rt->value.data.len < MSG_TOPIC_MAX &&
	    (q->response = malloc((size_t)rt->value.data.len + 1)) != NULL) {
		memcpy(q->response, rt->value.data.data,
		       (size_t)rt->value.data.len);
		q->response[rt->value.data.len] = '\0';
	} else if (rt != NULL) {
		q->response = NULL; /* too long: no usable reply topic */
	}
	if (cd != NULL && cd->value.data.len <= CORRELATION_MAX &&
	    (q->corr = malloc((size_t)cd->value.data.len + 1)) != NULL) {
		memcpy(q->corr, cd->value.data.data,
		       (size_t)cd->value.data.len);
		q->corr_len = cd->value.data.len;
	}
	if (q->payload == NULL) {
		req_free(q);
		return NULL;
	}
	return q;
}

/* A replay request into its queue; dropped (counted) when it is full. */
static int replay_push(struct reqs *r, const char *topic,
                       const MQTTAsync_message *msg)
{
	struct req *q = r->rn < REPLAY_QUEUE ? req_copy(topic, msg) : NULL;

	if (q == NULL) {
		r->replays_dropped++;
		return -1;
	}
	r->replays[(r->rhead + r->rn) % REPLAY_QUEUE] = q;
	r->rn++;
	return 0;
}

int reqs_push(struct reqs *r, const char *topic, const MQTTAsync_message *msg)
{
	if (r->rfilter[0] != '\0' && strcmp(topic, r->rfilter) == 0)
		return replay_push(r, topic, msg);
	struct share *sh = share_of(r, topic);
	bool room = sh->n < REQ_PER_ENTERPRISE;
	struct req *q = NULL;

	if (room || sh->busy == NULL)
		q = req_copy(topic, msg);
	if (q == NULL) { /* no memory, or a busy reply held already */
		r->dropped++;
		share_tidy(r, sh);
		return -1;
	}
	if (!room) { /* not queued: answered busy, if it is its turn */
		r->dropped++;
		sh->busy = q;
		r->held++;
		return 0;
	}
	sh->ring[(sh->head + sh->n) % REQ_PER_ENTERPRISE] = q;
	sh->n++;
	r->queued++;
	return 0;
}

struct req *reqs_pop(struct reqs *r)
{
	for (size_t k = 0; k < REQ_SHARES; k++) {
		size_t i = (r->next + k) % REQ_SHARES;
		struct share *sh = &r->shares[i];
		struct req *q;

		if (sh->n == 0)
			continue;
		q = sh->ring[sh->head];
		sh->head = (sh->head + 1) % REQ_PER_ENTERPRISE;
		sh->n--;
		r->queued--;
		r->next = (i + 1) % REQ_SHARES; /* the next share's turn */
		share_tidy(r, sh);
		return q;
	}
	return NULL;
}

struct req *reqs_pop_busy(struct reqs *r, int64_t mono_us)
{
	for (size_t i = 0; i < REQ_SHARES; i++) {
		struct share *sh = &r->shares[i];
		struct req *q = sh->busy;

		if (q == NULL)
			continue;
		sh->busy = NULL;
		r->held--;
		if (mono_us < sh->quiet_until) {
			req_free(q); /* its share had its busy reply */
			share_tidy(r, sh);
			continue;
		}
		sh->quiet_until = mono_us + REQ_BUSY_S * 1000000LL;
		share_tidy(r, sh);
		return q;
	}
	return NULL;
}

size_t reqs_queued(const struct reqs *r)
{
	return r->queued;
}

bool reqs_pending(const struct reqs *r)
{
	return r->queued + r->held + r->rn > 0 || r->job != NULL;
}

uint64_t reqs_dropped(const struct reqs *r)
{
	return r->dropped;
}

/* ---- the publisher's thread's side -------------------------------------- */

void reqs_counts(const struct reqs *r, uint64_t *answered, uint64_t *errors,
                 uint64_t *busy)
{
	*answered = r->answered;
	*errors = r->errors;
	*busy = r->busy;
}

void reqs_log_dropped(struct reqs *r, uint64_t dropped, int64_t mono_us)
{
	if (dropped == r->dropped_logged ||
	    (r->dropped_log_at != 0 && mono_us < r->dropped_log_at))
		return;
	log_warnx("mqtt: %" PRIu64 " records requests dropped (more than %d "
	          "of their enterprise waiting), %" PRIu64 " in all, %" PRIu64
	          " of them answered busy",
	          dropped - r->dropped_logged, REQ_PER_ENTERPRISE, dropped,
	          r->busy);
	r->dropped_logged = dropped;
	r->dropped_log_at = mono_us + LOG_EVERY_US;
}

static int64_t mono_now(const struct reqs *r)
{
	return mclock_mono(r->clk);
}

/* s with every byte outside printable ASCII as '?': what a requester
 * wrote goes into the log as one line. */
static void printable(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

/* A problem with a request, in the log: at most LOG_PER_MINUTE a minute,
 * then how many were not logged. */
__attribute__((format(printf, 3, 4))) static void
req_log(struct reqs *r, const char *topic, const char *fmt, ...)
{
	char msg[512], t[MSG_TOPIC_MAX];
	int64_t now = mono_now(r);
	va_list ap;

	if (now >= r->log_window) {
		if (r->unlogged > 0)
			log_warnx("mqtt: %d more request problems "
			          "not logged",
			          r->unlogged);
		r->log_window = now + LOG_EVERY_US;
		r->logged = r->unlogged = 0;
	}
	if (r->logged >= LOG_PER_MINUTE) {
		r->unlogged++;
		return;
	}
	r->logged++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(t, sizeof(t), "%s", topic);
	printable(msg);
	printable(t);
	log_warnx("mqtt: request on %s: %s", t, msg);
}

/* Send payload to topic, QoS 1, not retained, with q's Correlation Data
 * when it has one. Returns Paho's code. */
static int send_reply(MQTTAsync client, const struct req *q, const char *topic,
                      const char *payload, size_t len)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	MQTTAsync_message m = MQTTAsync_message_initializer;
	MQTTProperties props = MQTTProperties_initializer;
	int rc;

	m.payload = (void *)payload;
	m.payloadlen = (int)len;
	m.qos = 1;
	m.retained = 0;
	if (q->corr != NULL) {
		MQTTProperty cd = {.identifier =
		                           MQTTPROPERTY_CODE_CORRELATION_DATA,
		                   .value.data = {q->corr_len, q->corr}};
		if (MQTTProperties_add(&props, &cd) == 0) {
			m.properties = props;
			ro.properties = props;
		}
	}
	/* Paho copies the payload and the properties */
	rc = MQTTAsync_sendMessage(client, topic, &m, &ro);
	MQTTProperties_free(&props);
	return rc;
}

/* Where an error reply to a goes: its reply topic, or its errors topic
 * when it has none usable. */
static const char *error_topic(const struct request *a)
{
	return a->reply_to[0] != '\0' ? a->reply_to : a->errors;
}

/* The error reply: on error_topic(a); logged. */
__attribute__((format(printf, 5, 6))) static void
reply_error(struct reqs *r, MQTTAsync client, const struct req *q,
            const struct request *a, const char *fmt, ...)
{
	/* msg_reply_error(): 6 bytes a byte at most, and the rest */
	char msg[512], text[6 * (sizeof(msg) + REQUEST_CORRELATION_MAX) + 64];
	const char *topic = error_topic(a);
	va_list ap;
	int len, rc;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->errors++;
	req_log(r, q->topic, "%s (error reply on %s)", msg, topic);
	len = msg_reply_error(text, sizeof(text), msg,
	                      a->has_correlation ? a->correlation : NULL);
	if (len < 0) {
		log_warnx("mqtt: records reply to %s: out of memory", topic);
		return;
	}
	rc = send_reply(client, q, topic, text, (size_t)len);
	if (rc != MQTTASYNC_SUCCESS)
		req_log(r, q->topic, "reply on %s not sent (%s)", topic,
		        MQTTAsync_strerror(rc));
}

void reqs_answer_busy(struct reqs *r, struct req *q, MQTTAsync client)
{
	char why[512], msg[128];
	char text[6 * (sizeof(msg) + REQUEST_CORRELATION_MAX) + 96];
	struct request a;
	int len, rc;

	if (request_parse(&a, r->base, q->topic, q->response, q->payload,
	                  q->len, why, sizeof(why)) == REQUEST_IGNORED) {
		req_log(r, q->topic, "%s", why); /* nowhere to answer */
		goto out;
	}
	snprintf(msg, sizeof(msg),
	         "busy: too many requests waiting; retry after %d s",
	         REQ_BUSY_S);
	len = msg_reply_busy(text, sizeof(text), msg,
	                     a.has_correlation ? a.correlation : NULL,
	                     REQ_BUSY_S);
	if (len < 0) {
		log_warnx("mqtt: records reply to %s: out of memory",
		          error_topic(&a));
		goto out;
	}
	rc = send_reply(client, q, error_topic(&a), text, (size_t)len);
	if (rc != MQTTASYNC_SUCCESS)
		req_log(r, q->topic, "busy reply on %s not sent (%s)",
		        error_topic(&a), MQTTAsync_strerror(rc));
	else
		r->busy++;
out:
	req_free(q);
}

/* ---- the reply ------------------------------------------------------- */

/* The instruments of one enterprise, by name. */
struct inst_list {
	struct query_instrument *v;
	size_t n, cap;
};

static int collect_instrument(void *ctx, const struct query_instrument *in)
{
	struct inst_list *l = ctx;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct query_instrument *v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL)
			return 2; /* out of memory */
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *in;
	return 0;
}

/* Building the reply, record by record. */
struct build {
	struct reqs *r;
	struct msg_reply *reply;
	int64_t since_us;
	size_t bytes; /* of the reply so far, about */
};

/* query_calibrations()'s callback: 0 go on, 1 too large, 2 out of
 * memory, -1 a database error. */
static int add_record(void *ctx, const struct calib_record *rec)
{
	struct build *b = ctx;
	int64_t by;

	if (rec->performed_us < b->since_us)
		return 0;
	b->bytes += RECORD_COST + (size_t)rec->npoints * POINT_COST;
	if (b->bytes > REQ_REPLY_MAX)
		return 1;
	if ((by = query_superseded_by(b->r->q, rec->id)) < 0)
		return -1;
	return msg_reply_record(b->reply, rec, by) == 0 ? 0 : 2;
}

/* The audit chain's head and state, checked again when a record was
 * added since or VERIFY_CACHE_US passed. Returns 0, or -1. */
static int chain_state(struct reqs *r, bool *intact)
{
	int64_t now = mono_now(r);
	int rc;

	if (r->verified_at != 0 && now - r->verified_at < VERIFY_CACHE_US &&
	    query_calibration(r->q, r->verify.records + 1, r->scratch) == 1) {
		*intact = r->verify.bad_id == 0;
		return 0;
	}
	rc = query_verify(r->q, &r->verify);
	if (rc < 0) {
		r->verified_at = 0;
		return -1;
	}
	r->verified_at = now;
	*intact = rc == 0;
	return 0;
}

/* What a reply shows of in. */
static struct msg_instrument reply_instrument(const struct query_instrument *in)
{
	return (struct msg_instrument){.name = in->name,
	                               .kind = in->kind,
	                               .model = in->model,
	                               .serial = in->serial,
	                               .location = in->location,
	                               .due_us = in->due_us,
	                               .due = (int)in->due};
}

enum outcome { OUT_OK, OUT_UNKNOWN, OUT_TOO_LARGE, OUT_NOMEM, OUT_DB };

/* The instruments of a's enterprise (only a->instrument when given)
 * into *l. */
static enum outcome reply_instruments(struct reqs *r, const struct request *a,
                                      int64_t now_us, struct inst_list *l)
{
	int rc = query_instruments(r->q, a->enterprise, now_us,
	                           collect_instrument, l);
	size_t i = 0;

	if (rc != 0)
		return rc < 0 ? OUT_DB : OUT_NOMEM;
	if (a->instrument[0] == '\0')
		return OUT_OK;
	while (i < l->n && strcmp(l->v[i].name, a->instrument) != 0)
		i++;
	if (i == l->n)
		return OUT_UNKNOWN;
	l->v[0] = l->v[i];
	l->n = 1;
	return OUT_OK;
}

/* The ok reply of a into *out (msg_reply_free() it). */
static enum outcome build_reply(struct reqs *r, const struct request *a,
                                int64_t now_us, struct msg_reply **out)
{
	struct inst_list l = {0};
	struct build b = {.r = r, .since_us = a->since_us, .bytes = 512};
	struct msg_reply_head h = {
	        .enterprise = a->enterprise,
	        .generated_us = now_us,
	        .correlation = a->has_correlation ? a->correlation : NULL};
	enum outcome res;
	int rc;

	*out = NULL;
	res = reply_instruments(r, a, now_us, &l);
	if (res != OUT_OK)
		goto fail;
	if (chain_state(r, &h.chain_intact) < 0) {
		res = OUT_DB;
		goto fail;
	}
	h.chain_head = r->verify.head;
	res = OUT_NOMEM;
	if ((b.reply = msg_reply_new(&h)) == NULL)
		goto fail;
	for (size_t i = 0; i < l.n; i++) {
		struct msg_instrument in = reply_instrument(&l.v[i]);
		b.bytes += RECORD_COST;
		if (msg_reply_instrument(b.reply, &in) < 0)
			goto fail;
		rc = query_calibrations(r->q, l.v[i].name, a->enterprise,
		                        add_record, &b);
		if (rc != 0) {
			res = rc < 0    ? OUT_DB
			      : rc == 1 ? OUT_TOO_LARGE
			                : OUT_NOMEM;
			goto fail;
		}
	}
	free(l.v);
	*out = b.reply;
	return OUT_OK;
fail:
	free(l.v);
	msg_reply_free(b.reply);
	return res;
}

/* Open the read-only connection if it is not. Returns 0, or -1 (logged). */
static int query_ready(struct reqs *r)
{
	char err[512];

	if (r->q != NULL)
		return 0;
	r->q = query_open(r->cfg->database, err, sizeof(err));
	if (r->q == NULL) {
		log_warnx("mqtt: records requests: %s", err);
		return -1;
	}
	return 0;
}

void reqs_answer(struct reqs *r, struct req *q, MQTTAsync client,
                 int64_t now_us)
{
	struct request a;
	char why[512];
	struct msg_reply *reply = NULL;
	size_t len;
	char *text;

	switch (request_parse(&a, r->base, q->topic, q->response, q->payload,
	                      q->len, why, sizeof(why))) {
	case REQUEST_OK:
		break;
	case REQUEST_IGNORED:
		r->errors++;
		req_log(r, q->topic, "%s", why);
		goto out;
	case REQUEST_BAD:
		reply_error(r, client, q, &a, "%s", why);
		goto out;
	}
	if (query_ready(r) < 0) {
		reply_error(r, client, q, &a,
		            "records are not available now; ask again later");
		goto out;
	}
	switch (build_reply(r, &a, now_us, &reply)) {
	case OUT_OK:
		break;
	case OUT_UNKNOWN:
		reply_error(r, client, q, &a,
		            "no instrument \"%s\" of enterprise \"%s\"",
		            a.instrument, a.enterprise);
		goto out;
	case OUT_TOO_LARGE:
		reply_error(r, client, q, &a,
		            "reply too large (more than %d bytes): ask for one "
		            "\"instrument\" or for records \"since\" a date",
		            REQ_REPLY_MAX);
		goto out;
	case OUT_NOMEM:
		reply_error(r, client, q, &a, "out of memory; ask again later");
		goto out;
	case OUT_DB:
		log_warnx("mqtt: records requests: %s", query_error(r->q));
		query_close(r->q); /* opened again at the next request */
		r->q = NULL;
		r->verified_at = 0;
		reply_error(r, client, q, &a,
		            "records are not available now; ask again later");
		goto out;
	}
	text = msg_reply_text(reply, &len);
	msg_reply_free(reply);
	if (text == NULL) {
		reply_error(r, client, q, &a, "out of memory; ask again later");
		goto out;
	}
	if (len > REQ_REPLY_MAX) {
		reply_error(
		        r, client, q, &a,
		        "reply too large (%zu bytes, at most %d): ask for "
		        "one \"instrument\" or for records \"since\" a date",
		        len, REQ_REPLY_MAX);
	} else {
		int rc = send_reply(client, q, a.reply_to, text, len);
		if (rc != MQTTASYNC_SUCCESS)
			req_log(r, q->topic, "reply on %s not sent (%s)",
			        a.reply_to, MQTTAsync_strerror(rc));
		else
			log_debug("mqtt: records of %s sent on %s (%zu bytes)",
			          a.enterprise, a.reply_to, len);
		r->answered++;
	}
	msg_text_free(text);
out:
	req_free(q);
}

/* ---- replays (docs/MQTT.md, Replay) --------------------------------------
 * A request waits in its queue (under the publisher's mutex) until no
 * replay is under way; then, step by step, the seqs from..to are looked
 * up in the table seqs (query_replay.h) in seq order, REPLAY_PER_STEP at
 * most and only as many as the token bucket allows (mqtt.replay_per_s),
 * and each is sent again on its topic with "historical":true and
 * "replay":true, never retained (an old status must not replace the
 * current retained one): a readings message rebuilt from the readings of
 * its instrument at its ts, any other as composed. A seq with no row was
 * never kept for replays (before schema 12, or not assigned); a readings
 * message whose readings are gone was deleted by retention. Once every
 * seq was sent or found missing, the reply says which. */

struct reading_set {
	struct query_reading *v;
	size_t n, cap;
};

static int collect_reading(void *ctx, const struct query_reading *rd)
{
	struct reading_set *s = ctx;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct query_reading *v = realloc(s->v, cap * sizeof(*v));
		if (v == NULL)
			return 2;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = *rd;
	return 0;
}

/* Append [from, to] to a job's ranges, merged into the last one when it
 * follows it with the same reason (missing) and the times widened.
 * Returns 0, or -1 when memory runs out. */
static int add_range(struct msg_replay_range **v, size_t *n, size_t *cap,
                     int64_t from, int64_t to, const char *reason, int64_t ts)
{
	struct msg_replay_range *l = *n > 0 ? &(*v)[*n - 1] : NULL;

	if (l != NULL && l->to + 1 == from && l->reason == reason &&
	    (ts > 0) == (l->ts_from > 0)) {
		l->to = to;
		if (ts > 0 && ts < l->ts_from)
			l->ts_from = ts;
		if (ts > l->ts_to)
			l->ts_to = ts;
		return 0;
	}
	if (text_reserve((void **)v, cap, *n + 1, sizeof(**v)) < 0)
		return -1;
	(*v)[(*n)++] = (struct msg_replay_range){from, to, reason, ts, ts};
	return 0;
}

static int job_missing(struct rjob *j, int64_t from, int64_t to,
                       const char *reason, int64_t ts)
{
	return add_range(&j->missing, &j->nmissing, &j->cap_missing, from, to,
	                 reason, ts);
}

/* Send payload (len bytes, as composed) again on topic, marked replayed,
 * QoS 1, not retained. Returns Paho's code, or -1 (too large). */
static int replay_send(MQTTAsync client, const char *topic, const char *payload,
                       size_t len)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	MQTTAsync_message m = MQTTAsync_message_initializer;
	size_t size = len + 64;
	char *buf = malloc(size);
	int n, rc = -1;

	if (buf != NULL &&
	    (n = msg_replay_mark(buf, size, payload, len)) >= 0) {
		m.payload = buf;
		m.payloadlen = n;
		m.qos = 1;
		m.retained = 0;
		rc = MQTTAsync_sendMessage(client, topic, &m, &ro);
	}
	free(buf);
	return rc;
}

/* The readings message of row (an instrument's channels at its ts) from
 * the readings in rs, into buf; its topic into topic. Returns its length,
 * 0 when no reading is left (retention), -1 when it does not fit. */
static int rebuild_readings(struct reqs *r, const struct query_seq *row,
                            const struct reading_set *rs, char *topic,
                            char *buf, size_t size)
{
	struct msg_channel ch[256];
	const char *name = NULL;
	size_t n = 0;

	for (size_t i = 0; i < r->nchans && n < 256; i++) {
		const struct query_rchannel *c = &r->chans[i];
		if (c->instrument != row->instrument)
			continue;
		name = c->inst_name;
		for (size_t k = 0; k < rs->n; k++) {
			const struct query_reading *rd = &rs->v[k];
			if (rd->channel != c->id || rd->ts_us != row->ts_us)
				continue;
			ch[n++] = (struct msg_channel){c->name, c->unit,
			                               rd->value, rd->quality,
			                               c->digits};
			break;
		}
	}
	if (n == 0)
		return 0;
	if (msg_topic(topic, MSG_TOPIC_MAX, r->cfg->mqtt->prefix, r->cfg->site,
	              name, "readings") < 0)
		return -1;
	return msg_readings(buf, size, row->seq, row->ts_us, name, ch, n);
}

/* The readings of the readings messages among rows[0..n) into rs: one
 * window from their first ts to their last, their instruments' channels
 * only. Returns 0 or -1. */
static int window_readings(struct reqs *r, const struct query_seq *rows,
                           size_t n, struct reading_set *rs)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN, ids[256];
	size_t nids = 0;

	for (size_t i = 0; i < n; i++)
		if (rows[i].instrument != 0) {
			lo = rows[i].ts_us < lo ? rows[i].ts_us : lo;
			hi = rows[i].ts_us > hi ? rows[i].ts_us : hi;
		}
	if (lo > hi)
		return 0;
	for (size_t i = 0; i < r->nchans && nids < 256; i++)
		for (size_t k = 0; k < n; k++)
			if (rows[k].instrument == r->chans[i].instrument) {
				ids[nids++] = r->chans[i].id;
				break;
			}
	return query_readings_window(r->q, ids, nids, lo, hi, collect_reading,
	                             rs) == 0
	               ? 0
	               : -1;
}

/* One row of a replay: sent again, or recorded missing. Returns 1 sent,
 * 0 missing, -1 not sent now (Paho refused: tried again next step). */
static int replay_row(struct reqs *r, MQTTAsync client, struct rjob *j,
                      const struct query_seq *row, const struct reading_set *rs)
{
	char topic[MSG_TOPIC_MAX], *buf;
	size_t size = 64 * 1024;
	int len, rc;

	if (row->instrument == 0)
		return replay_send(client, row->topic, row->payload,
		                   row->len) == MQTTASYNC_SUCCESS
		               ? 1
		               : -1;
	if ((buf = malloc(size)) == NULL)
		return -1;
	len = rebuild_readings(r, row, rs, topic, buf, size);
	if (len == 0) {
		free(buf);
		return job_missing(j, row->seq, row->seq, "retention",
		                   row->ts_us) < 0
		               ? -1
		               : 0;
	}
	rc = len > 0 ? replay_send(client, topic, buf, (size_t)len) : -1;
	free(buf);
	return rc == MQTTASYNC_SUCCESS ? 1 : -1;
}

/* Send up to budget messages of job j. Returns how many, or -1 on a
 * database error (logged). */
static int replay_some(struct reqs *r, MQTTAsync client, struct rjob *j,
                       int budget)
{
	struct query_seq rows[REPLAY_PER_STEP];
	struct reading_set rs = {0};
	size_t n = 0, i = 0;
	int sent = 0, rc = 0;

	if (query_seqs(r->q, j->next, j->a.to, rows,
	               (size_t)(budget < REPLAY_PER_STEP ? budget
	                                                 : REPLAY_PER_STEP),
	               &n) < 0 ||
	    window_readings(r, rows, n, &rs) < 0) {
		log_warnx("mqtt: replay: %s", query_error(r->q));
		rc = -1;
		goto out;
	}
	for (; i < n; i++) {
		if (rows[i].seq > j->next &&
		    job_missing(j, j->next, rows[i].seq - 1, "not_kept", 0) < 0)
			break;
		j->next = rows[i].seq;
		int one = replay_row(r, client, j, &rows[i], &rs);
		if (one < 0)
			break;
		if (one == 1 &&
		    add_range(&j->sent, &j->nsent, &j->cap_sent, rows[i].seq,
		              rows[i].seq, NULL, 0) < 0)
			break;
		sent += one;
		j->next = rows[i].seq + 1;
	}
	if (i == n && n < (size_t)budget && n < REPLAY_PER_STEP &&
	    j->next <= j->a.to &&
	    job_missing(j, j->next, j->a.to, "not_kept", 0) == 0)
		j->next = j->a.to + 1; /* nothing kept after the last row */
	rc = sent;
out:
	query_seqs_clear(rows, n);
	free(rs.v);
	return rc;
}

/* The error reply to replay request q (a: as far as it was parsed). */
static void replay_error(struct reqs *r, MQTTAsync client, const struct req *q,
                         const struct replay_request *a, const char *msg)
{
	char text[6 * (512 + REQUEST_CORRELATION_MAX) + 64];
	const char *topic = a->reply_to[0] != '\0' ? a->reply_to : a->errors;
	int len;

	/* logged, not counted: the stats' request counts are the records
	 * requests' (docs/MQTT.md) */
	req_log(r, q->topic, "%s (error reply on %s)", msg, topic);
	len = msg_reply_error(text, sizeof(text), msg,
	                      a->has_correlation ? a->correlation : NULL);
	if (len >= 0 && send_reply(client, q, topic, text, (size_t)len) !=
	                        MQTTASYNC_SUCCESS)
		req_log(r, q->topic, "reply on %s not sent", topic);
}

/* Start replaying request q (taken from its queue): parsed, the channels
 * read. Returns the job, or NULL when q was answered with an error (and
 * freed). */
static struct rjob *replay_start(struct reqs *r, MQTTAsync client,
                                 struct req *q)
{
	struct rjob *j = calloc(1, sizeof(*j));
	char why[512];

	if (j == NULL) {
		req_free(q);
		return NULL;
	}
	j->q = q;
	if (request_parse_replay(&j->a, r->base, q->response, q->payload,
	                         q->len, why, sizeof(why)) != REQUEST_OK) {
		replay_error(r, client, q, &j->a, why);
		rjob_free(j);
		return NULL;
	}
	free(r->chans);
	r->chans = NULL;
	r->nchans = 0;
	if (query_ready(r) < 0 ||
	    query_rchannels(r->q, &r->chans, &r->nchans) < 0) {
		replay_error(r, client, q, &j->a,
		             "replays are not available now; ask again later");
		rjob_free(j);
		return NULL;
	}
	j->next = j->a.from;
	log_info("mqtt: replaying seqs %" PRId64 "..%" PRId64 " (at most %d "
	         "a second)",
	         j->a.from, j->a.to, r->cfg->mqtt->replay_per_s);
	return j;
}

/* The reply of a finished job; the job freed. */
static void replay_finish(struct reqs *r, MQTTAsync client, struct rjob *j)
{
	struct msg_replay_reply rep = {
	        .from = j->a.from,
	        .to = j->a.to,
	        .correlation = j->a.has_correlation ? j->a.correlation : NULL,
	        .sent = j->sent,
	        .nsent = j->nsent,
	        .missing = j->missing,
	        .nmissing = j->nmissing};
	size_t len;
	char *text = msg_replay_reply(&rep, &len);

	if (text == NULL || send_reply(client, j->q, j->a.reply_to, text,
	                               len) != MQTTASYNC_SUCCESS)
		req_log(r, j->q->topic, "replay reply on %s not sent",
		        j->a.reply_to);
	log_info("mqtt: replayed seqs %" PRId64 "..%" PRId64 ": %" PRIu64
	         " message(s) sent, %zu range(s) missing",
	         j->a.from, j->a.to, j->messages, j->nmissing);
	msg_text_free(text);
	rjob_free(j);
}

struct req *reqs_pop_replay(struct reqs *r)
{
	struct req *q;

	if (r->job != NULL || r->rn == 0)
		return NULL;
	q = r->replays[r->rhead];
	r->rhead = (r->rhead + 1) % REPLAY_QUEUE;
	r->rn--;
	return q;
}

void reqs_replay_step(struct reqs *r, struct req *q, MQTTAsync client,
                      int64_t mono_us)
{
	double rate = r->cfg->mqtt->replay_per_s;
	double cap = rate * REPLAY_BURST_US / 1e6;
	int sent;

	if (q != NULL && (r->job = replay_start(r, client, q)) == NULL)
		return;
	if (r->job == NULL)
		return;
	if (r->tokens_at == 0)
		r->tokens = 1;
	else
		r->tokens += (double)(mono_us - r->tokens_at) * rate / 1e6;
	r->tokens_at = mono_us;
	if (r->tokens > (cap > 1 ? cap : 1))
		r->tokens = cap > 1 ? cap : 1;
	if (r->tokens < 1)
		return;
	sent = replay_some(r, client, r->job, (int)r->tokens);
	if (sent < 0) { /* the database: the job ends, its reply says so */
		query_close(r->q);
		r->q = NULL;
		replay_error(r, client, r->job->q, &r->job->a,
		             "replays are not available now; ask again later");
		rjob_free(r->job);
		r->job = NULL;
		return;
	}
	r->tokens -= sent;
	r->job->messages += (uint64_t)sent;
	if (r->job->next > r->job->a.to) {
		replay_finish(r, client, r->job);
		r->job = NULL;
		r->tokens_at = 0; /* idle: no credit saved up */
	}
}
