/*
 * paho-publish - the ceiling for metrologd's publisher: Eclipse Paho's
 * asynchronous client alone, publishing N messages of SIZE bytes from
 * memory to a broker, with at most WINDOW unacknowledged at a time (as
 * metrologd's mqtt.inflight). No database, no JSON: what is left is Paho,
 * the socket and the broker. tools/bench/bench-publish runs it
 * (docs/BENCHMARKS.md, "Publishing").
 *
 *   paho-publish HOST PORT N QOS SIZE WINDOW [VERSION]
 *
 * VERSION is 3 (MQTT 3.1.1, the default) or 5. Prints one JSON line:
 * messages, seconds from the first send to the last completion (the
 * PUBACK at QoS 1; at QoS 0 the write to the socket), messages/s and
 * MB/s of payload. Exits 1 if not every message completed.
 *
 * Threading: main sends; Paho's thread runs on_done(), which only counts
 * under mu and signals cv, so main refills the window at once.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <MQTTAsync.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long done, failed;
static int connected; /* 1 up, -1 refused */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void count(int ok)
{
	pthread_mutex_lock(&mu);
	if (ok)
		done++;
	else
		failed++;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

static void on_done(void *c, MQTTAsync_successData *d)
{
	(void)c;
	(void)d;
	count(1);
}

static void on_fail(void *c, MQTTAsync_failureData *d)
{
	(void)c;
	(void)d;
	count(0);
}

static void on_done5(void *c, MQTTAsync_successData5 *d)
{
	(void)c;
	(void)d;
	count(1);
}

static void on_fail5(void *c, MQTTAsync_failureData5 *d)
{
	(void)c;
	(void)d;
	count(0);
}

static void set_connected(int v)
{
	pthread_mutex_lock(&mu);
	connected = v;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

static void on_conn(void *c, MQTTAsync_successData *d)
{
	(void)c;
	(void)d;
	set_connected(1);
}

static void on_conn_fail(void *c, MQTTAsync_failureData *d)
{
	(void)c;
	(void)d;
	set_connected(-1);
}

static void on_conn5(void *c, MQTTAsync_successData5 *d)
{
	(void)c;
	(void)d;
	set_connected(1);
}

static void on_conn_fail5(void *c, MQTTAsync_failureData5 *d)
{
	(void)c;
	(void)d;
	set_connected(-1);
}

/* The run the command line asks for. */
struct bench {
	long n, size, window;
	int qos, v5;
};

/* The arguments into b. Returns 0, or -1 after a usage message. */
static int parse_args(int argc, char **argv, struct bench *b)
{
	if (argc < 7 || argc > 8) {
		fprintf(stderr,
		        "usage: paho-publish HOST PORT N QOS SIZE WINDOW "
		        "[VERSION]\n");
		return -1;
	}
	b->n = atol(argv[3]);
	b->qos = atoi(argv[4]);
	b->size = atol(argv[5]);
	b->window = atol(argv[6]);
	b->v5 = argc == 8 && atoi(argv[7]) == 5;
	if (b->n < 1 || b->qos < 0 || b->qos > 1 || b->size < 1 ||
	    b->window < 1) {
		fprintf(stderr, "paho-publish: bad arguments\n");
		return -1;
	}
	return 0;
}

/* A client for uri, connected (waits for the outcome). Returns 0, or -1
 * with a message. */
static int connect_client(MQTTAsync *client, const char *uri,
                          const struct bench *b)
{
	MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
	MQTTAsync_connectOptions o3 = MQTTAsync_connectOptions_initializer;
	MQTTAsync_connectOptions o5 = MQTTAsync_connectOptions_initializer5;
	MQTTAsync_connectOptions o;

	co.MQTTVersion = b->v5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
	if (MQTTAsync_createWithOptions(client, uri, "paho-publish-bench",
	                                MQTTCLIENT_PERSISTENCE_NONE, NULL,
	                                &co) != MQTTASYNC_SUCCESS) {
		fprintf(stderr, "paho-publish: cannot create the client\n");
		return -1;
	}
	o = b->v5 ? o5 : o3;
	o.keepAliveInterval = 30;
	o.maxInflight = (int)b->window;
	if (b->v5) {
		o.cleanstart = 1;
		o.onSuccess5 = on_conn5;
		o.onFailure5 = on_conn_fail5;
	} else {
		o.cleansession = 1;
		o.onSuccess = on_conn;
		o.onFailure = on_conn_fail;
	}
	if (MQTTAsync_connect(*client, &o) != MQTTASYNC_SUCCESS) {
		fprintf(stderr, "paho-publish: cannot start connecting\n");
		return -1;
	}
	pthread_mutex_lock(&mu);
	while (connected == 0)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	if (connected < 0) {
		fprintf(stderr, "paho-publish: connection to %s failed\n", uri);
		return -1;
	}
	return 0;
}

/* Send b->n messages of payload with at most b->window in flight, and
 * wait for every one sent to complete. Returns how many were sent. */
static long publish_all(MQTTAsync client, const struct bench *b, char *payload)
{
	long sent = 0;
	int rc;

	while (sent < b->n) {
		MQTTAsync_responseOptions ro =
		        MQTTAsync_responseOptions_initializer;
		pthread_mutex_lock(&mu);
		while (sent - done - failed >= b->window)
			pthread_cond_wait(&cv, &mu);
		pthread_mutex_unlock(&mu);
		if (b->v5) {
			ro.onSuccess5 = on_done5;
			ro.onFailure5 = on_fail5;
		} else {
			ro.onSuccess = on_done;
			ro.onFailure = on_fail;
		}
		rc = MQTTAsync_send(client, "bench/paho/readings", (int)b->size,
		                    payload, b->qos, 0, &ro);
		if (rc != MQTTASYNC_SUCCESS) {
			fprintf(stderr, "paho-publish: send: %s\n",
			        MQTTAsync_strerror(rc));
			break;
		}
		sent++;
	}
	pthread_mutex_lock(&mu);
	while (done + failed < sent)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return sent;
}

int main(int argc, char **argv)
{
	struct bench b;
	MQTTAsync client;
	char uri[300];
	double t0, t1;
	char *payload;

	if (parse_args(argc, argv, &b) < 0)
		return 2;
	payload = malloc((size_t)b.size);
	if (payload == NULL)
		return 1;
	memset(payload, 'x', (size_t)b.size);
	snprintf(uri, sizeof(uri), "tcp://%s:%s", argv[1], argv[2]);
	if (connect_client(&client, uri, &b) < 0)
		return 1;

	t0 = now_s();
	publish_all(client, &b, payload);
	t1 = now_s();

	printf("{\"version\":%d,\"qos\":%d,\"size\":%ld,\"window\":%ld,"
	       "\"messages\":%ld,\"failed\":%ld,\"seconds\":%.3f,"
	       "\"messages_per_s\":%.0f,\"payload_mb_per_s\":%.1f}\n",
	       b.v5 ? 5 : 3, b.qos, b.size, b.window, done, failed, t1 - t0,
	       (double)done / (t1 - t0),
	       (double)done * (double)b.size / (t1 - t0) / 1e6);
	MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
	d.timeout = 1000;
	MQTTAsync_disconnect(client, &d);
	struct timespec ts = {0, 200 * 1000 * 1000};
	nanosleep(&ts, NULL);
	MQTTAsync_destroy(&client);
	free(payload);
	return done == b.n ? 0 : 1;
}
