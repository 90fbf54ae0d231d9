/*
 * link.c - the collector's MQTT client (link.h); the only file of the
 * collector that includes MQTTAsync.h.
 *
 * Threads: everything below but link_new() runs on Paho's threads. The
 * callbacks log (log.c writes one line with one write()) and subscribe
 * on each connection (a persistent session keeps the subscriptions, but
 * the first connection, or a broker that lost its state, needs them);
 * on_message() hands the message to the collector's deliver function and
 * returns only when it did (see link.h: the PUBACK follows the return).
 *
 * There is no link_free(): a message may be held in deliver() forever
 * while the collector stops (the collector is not done with it, so it
 * must not be acknowledged), holding Paho's mutex, which MQTTAsync_destroy()
 * would wait for. The process exits with the client; the broker keeps the
 * session and sends again what was not acknowledged.
 */
#include "link.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <MQTTAsync.h>

#include "log.h"
#include "paho_init.h"
#include "secret.h"

#define SESSION_EXPIRY_S (7 * 86400) /* MQTT 5: queued for us this long */
#define NFILTERS         5           /* the last: replay replies (repair on) */

struct link {
	const struct ccfg *c;
	MQTTAsync client;
	link_deliver_fn *deliver;
	void *arg;
	char *password;
	char filters[NFILTERS][512];
	int nfilters;
};

static void on_subscribed(void *context, MQTTAsync_successData *data)
{
	struct link *l = context;

	(void)data;
	log_info("mqtt: subscribed to %s, %s, %s, %s%s%s (QoS 1)",
	         l->filters[0], l->filters[1], l->filters[2], l->filters[3],
	         l->nfilters > 4 ? ", " : "",
	         l->nfilters > 4 ? l->filters[4] : "");
}

static void on_subscribed5(void *context, MQTTAsync_successData5 *data)
{
	struct link *l = context;

	for (int i = 0; data != NULL && i < data->alt.sub.reasonCodeCount; i++)
		if (data->alt.sub.reasonCodes[i] >= 0x80) {
			log_warnx("mqtt: the broker refused the subscription "
			          "to %s: %s",
			          l->filters[i],
			          MQTTReasonCode_toString(
			                  data->alt.sub.reasonCodes[i]));
			return;
		}
	on_subscribed(context, NULL);
}

static void on_subscribe_failed(void *context, MQTTAsync_failureData *data)
{
	(void)context;
	log_warnx("mqtt: subscribing failed (%s)",
	          MQTTAsync_strerror(data != NULL ? data->code : -1));
}

static void on_subscribe_failed5(void *context, MQTTAsync_failureData5 *data)
{
	(void)context;
	log_warnx("mqtt: subscribing failed (%s)",
	          data != NULL ? MQTTReasonCode_toString(data->reasonCode)
	                       : "?");
}

/* Every connection, the first and Paho's reconnections: subscribe. */
static void on_connected(void *context, char *cause)
{
	struct link *l = context;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	char *topics[NFILTERS];
	int qos[NFILTERS], rc;

	(void)cause;
	log_info("mqtt: connected to %s:%d as %s", l->c->host, l->c->port,
	         l->c->client_id);
	for (int i = 0; i < l->nfilters; i++) {
		topics[i] = l->filters[i];
		qos[i] = 1;
	}
	ro.context = l;
	if (l->c->version == 5) {
		ro.onSuccess5 = on_subscribed5;
		ro.onFailure5 = on_subscribe_failed5;
	} else {
		ro.onSuccess = on_subscribed;
		ro.onFailure = on_subscribe_failed;
	}
	rc = MQTTAsync_subscribeMany(l->client, l->nfilters, topics, qos, &ro);
	if (rc != MQTTASYNC_SUCCESS)
		log_warnx("mqtt: cannot subscribe (%s)",
		          MQTTAsync_strerror(rc));
}

static void on_lost(void *context, char *cause)
{
	struct link *l = context;

	log_warnx("mqtt: connection to %s:%d lost (%s); connecting again",
	          l->c->host, l->c->port, cause != NULL ? cause : "?");
}

static void on_connect_failed(void *context, MQTTAsync_failureData *data)
{
	struct link *l = context;

	log_warnx("mqtt: cannot connect to %s:%d (%s); trying again",
	          l->c->host, l->c->port,
	          MQTTAsync_strerror(data != NULL ? data->code : -1));
}

static void on_connect_failed5(void *context, MQTTAsync_failureData5 *data)
{
	struct link *l = context;

	log_warnx("mqtt: cannot connect to %s:%d (%s); trying again",
	          l->c->host, l->c->port,
	          data != NULL && data->reasonCode != 0
	                  ? MQTTReasonCode_toString(data->reasonCode)
	                  : MQTTAsync_strerror(data != NULL ? data->code : -1));
}

static int on_message(void *context, char *topic, int len,
                      MQTTAsync_message *msg)
{
	struct link *l = context;

	(void)len;
	l->deliver(l->arg, topic, msg->payload, (size_t)msg->payloadlen);
	MQTTAsync_freeMessage(&msg);
	MQTTAsync_free(topic);
	return 1; /* done with it (link.h): Paho sends the PUBACK now */
}

static int start_connect(struct link *l, char *err, size_t errlen)
{
	MQTTAsync_connectOptions o3 = MQTTAsync_connectOptions_initializer;
	MQTTAsync_connectOptions o5 = MQTTAsync_connectOptions_initializer5;
	MQTTAsync_connectOptions o = l->c->version == 5 ? o5 : o3;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
	MQTTProperties props = MQTTProperties_initializer;
	MQTTProperty expiry = {
	        .identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL,
	        .value.integer4 = SESSION_EXPIRY_S};
	int rc;

	if (l->c->tls) {
		ssl.trustStore = l->c->ca_file;
		ssl.keyStore = l->c->cert_file;
		ssl.privateKey = l->c->key_file;
		ssl.enableServerCertAuth = l->c->tls_verify;
		ssl.verify = l->c->tls_verify;
		o.ssl = &ssl;
	}
	o.username = l->c->username;
	o.password = l->password;
	o.keepAliveInterval = l->c->keepalive_s;
	o.automaticReconnect = 1;
	o.minRetryInterval = 1;
	o.maxRetryInterval = 30;
	o.context = l;
	if (l->c->version == 5) {
		if (MQTTProperties_add(&props, &expiry) != 0) {
			snprintf(err, errlen, "mqtt: session expiry not set");
			return -1;
		}
		o.cleanstart = 0;
		o.connectProperties = &props;
		o.onFailure5 = on_connect_failed5;
	} else {
		o.cleansession = 0;
		o.onFailure = on_connect_failed;
	}
	rc = MQTTAsync_connect(l->client, &o);
	MQTTProperties_free(&props);
	if (rc != MQTTASYNC_SUCCESS) {
		snprintf(err, errlen, "mqtt: cannot start connecting: %s",
		         MQTTAsync_strerror(rc));
		return -1;
	}
	return 0;
}

struct link *link_new(const struct ccfg *c, link_deliver_fn *fn, void *arg,
                      char *err, size_t errlen)
{
	MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
	static const char *const kinds[4] = {"+/readings", "+/events",
	                                     "+/status", "calibrations"};
	struct link *l = calloc(1, sizeof(*l));
	char uri[600];
	int rc;

	if (l == NULL) {
		snprintf(err, errlen, "mqtt: %s", strerror(ENOMEM));
		return NULL;
	}
	l->c = c;
	l->deliver = fn;
	l->arg = arg;
	for (int i = 0; i < 4; i++)
		snprintf(l->filters[i], sizeof(l->filters[i]),
		         "$share/%s/%s/%s/%s", c->group, c->prefix, c->sites,
		         kinds[i]);
	l->nfilters = 4;
	if (c->repair) /* the replies are this collector's alone: not shared */
		snprintf(l->filters[l->nfilters++], sizeof(l->filters[0]),
		         "%s/%s/replay/replies/%s", c->prefix, c->sites,
		         c->client_id);
	if (c->password_file != NULL &&
	    secret_read_line(c->password_file, &l->password, err, errlen) < 0)
		goto fail;
	snprintf(uri, sizeof(uri), "%s://%s:%d", c->tls ? "ssl" : "tcp",
	         c->host, c->port);
	co.MQTTVersion = c->version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
	paho_init();
	rc = MQTTAsync_createWithOptions(&l->client, uri, c->client_id,
	                                 MQTTCLIENT_PERSISTENCE_NONE, NULL,
	                                 &co);
	if (rc != MQTTASYNC_SUCCESS) {
		snprintf(err, errlen, "mqtt: cannot create the client: %s",
		         MQTTAsync_strerror(rc));
		goto fail;
	}
	if (MQTTAsync_setCallbacks(l->client, l, on_lost, on_message, NULL) !=
	            MQTTASYNC_SUCCESS ||
	    MQTTAsync_setConnected(l->client, l, on_connected) !=
	            MQTTASYNC_SUCCESS) {
		snprintf(err, errlen, "mqtt: cannot set the callbacks");
		goto fail;
	}
	if (start_connect(l, err, errlen) < 0)
		goto fail;
	log_info("mqtt: connecting to %s as %s (MQTT %s), group %s", uri,
	         c->client_id, c->version == 5 ? "5" : "3.1.1", c->group);
	return l;
fail:
	if (l->client != NULL)
		MQTTAsync_destroy(&l->client);
	secret_wipe(l->password);
	free(l->password);
	free(l);
	return NULL;
}

int link_ask_replay(struct link *l, const char *site, long long from,
                    long long to)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	MQTTAsync_message m = MQTTAsync_message_initializer;
	MQTTProperties props = MQTTProperties_initializer;
	char topic[600], reply[600], corr[120], payload[1400];
	int n, rc;

	snprintf(topic, sizeof(topic), "%s/%s/replay/request", l->c->prefix,
	         site);
	snprintf(reply, sizeof(reply), "%s/%s/replay/replies/%s", l->c->prefix,
	         site, l->c->client_id);
	snprintf(corr, sizeof(corr), "%s:%lld", site, from);
	if (l->c->version == 5) { /* the request's properties (MQTT 5) */
		MQTTProperty rt = {.identifier =
		                           MQTTPROPERTY_CODE_RESPONSE_TOPIC,
		                   .value.data = {(int)strlen(reply), reply}};
		MQTTProperty cd = {.identifier =
		                           MQTTPROPERTY_CODE_CORRELATION_DATA,
		                   .value.data = {(int)strlen(corr), corr}};
		if (MQTTProperties_add(&props, &rt) != 0 ||
		    MQTTProperties_add(&props, &cd) != 0) {
			MQTTProperties_free(&props);
			return -1;
		}
		m.properties = props;
		n = snprintf(payload, sizeof(payload),
		             "{\"from\":%lld,\"to\":%lld}", from, to);
	} else { /* in the payload (MQTT 3.1.1) */
		n = snprintf(payload, sizeof(payload),
		             "{\"from\":%lld,\"to\":%lld,\"reply_to\":\"%s\","
		             "\"correlation\":\"%s\"}",
		             from, to, reply, corr);
	}
	m.payload = payload;
	m.payloadlen = n;
	m.qos = 1;
	rc = MQTTAsync_isConnected(l->client)
	             ? MQTTAsync_sendMessage(l->client, topic, &m, &ro)
	             : MQTTASYNC_DISCONNECTED;
	MQTTProperties_free(&props);
	if (rc != MQTTASYNC_SUCCESS) {
		log_warnx("mqtt: replay request to %s not sent (%s)", topic,
		          MQTTAsync_strerror(rc));
		return -1;
	}
	log_info("mqtt: asked %s to replay seqs %lld..%lld", site, from, to);
	return 0;
}
