/*
 * e2e-sub - the subscriber end of tools/bench/bench-e2e: subscribes to a
 * topic filter and, for each readings message of one gateway, counts the
 * message and its readings (the members of "channels"), checks the
 * gateway's "seq" (docs/MQTT.md: +1 per readings, events and instrument
 * status message of a site) for holes and duplicates, and measures the
 * latency from the poll's request ("ts", UTC, microseconds) to this
 * receipt (CLOCK_REALTIME) into a histogram (docs/BENCHMARKS.md, "End to
 * end").
 *
 *   e2e-sub HOST PORT FILTER QOS [READY_FILE]
 *
 * Subscribe to the gateway's whole tree (<prefix>/<site>/#) so that every
 * message with a seq is seen: with readings alone, each event and status
 * is a hole. READY_FILE is created once the subscription is granted.
 * Signals: SIGUSR1 starts a window (every count back to zero); SIGUSR2
 * prints the window so far as one JSON line and starts the next one;
 * SIGTERM or SIGINT print it and exit. Fields of the line: seconds,
 * readings messages and readings (and per second), other messages with a
 * seq (events, statuses), messages without one (gateway status), lost
 * (seqs missing between the lowest and the highest of the window),
 * duplicates, late (seqs below the window's first: reordered across its
 * start), latency p50/p99/p99.9/max in ms, payloads it could not parse,
 * and payloads checked against cJSON.
 *
 * Cheap, because it shares the cores it measures: one pass over each
 * payload that reads seq, ts and the channels' count and skips the rest
 * (no tree, no allocation); cJSON parses one message in CHECK_EVERY to
 * check that pass (a difference counts as "check_mismatch").
 *
 * Threading: Paho's receiving thread runs on_message(), which counts under
 * mu; main waits for the signals (blocked in every thread, sigwait) and
 * prints and resets under mu.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>
#include <cjson/cJSON.h>

#include "paho_init.h"
#include "utc.h"

/* Latency histogram: 10 us buckets up to 1 s, then 1 ms buckets up to
 * 120 s, then one bucket for the rest (the max is kept exactly). */
#define FINE_US     10
#define FINE_N      100000 /* 0 .. 1 s */
#define COARSE_US   1000
#define COARSE_N    119000 /* 1 s .. 120 s */
#define HIST_N      (FINE_N + COARSE_N + 1)
#define CHECK_EVERY 1024

/* One window's counts; under mu. */
struct window {
	struct timespec start;
	uint64_t readings_msgs, readings, other_seq, no_seq, bad, late;
	uint64_t duplicates, negative, checked, mismatch;
	int64_t lat_max_us;
	int64_t base;          /* first seq of the window, -1: none yet */
	int64_t top;           /* highest seq seen, relative to base */
	uint64_t distinct;     /* seqs seen once at least */
	unsigned char *bits;   /* seq - base seen */
	size_t nbits;          /* room in bits, in bits */
	uint32_t hist[HIST_N]; /* latencies */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct window win;
static int state; /* 0 connecting, 1 subscribed, -1 failed */

/* What one pass reads from a payload. */
struct fields {
	int64_t seq; /* -1: none */
	char ts[40]; /* "" when none */
	long channels;
};

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* p at a string's opening quote: after its closing quote, or NULL. */
static const char *skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* p at a value: just after it (a scalar ends before the ',', '}' or ']'
 * that follows it), or NULL if the text ends first. */
static const char *skip_value(const char *p, const char *end)
{
	int depth = 0;

	while (p < end) {
		char c = *p;
		if (c == '"') {
			p = skip_string(p, end);
			if (p == NULL || depth == 0)
				return p;
			continue;
		}
		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return p;
			if (--depth == 0)
				return p + 1;
		} else if (c == ',' && depth == 0) {
			return p;
		}
		p++;
	}
	return depth == 0 ? p : NULL;
}

/* The object at p (its '{'), member by member: on_member() gets each key
 * and its value's start and returns the end of the value (or NULL to have
 * it skipped). Returns the end of the object and *n the members, or NULL
 * when it is not one. */
static const char *
walk_object(const char *p, const char *end, long *n,
            const char *(*on_member)(const char *key, size_t klen,
                                     const char *v, const char *end, void *ctx),
            void *ctx)
{
	*n = 0;
	p = skip_ws(p, end);
	if (p >= end || *p != '{')
		return NULL;
	p = skip_ws(p + 1, end);
	if (p < end && *p == '}')
		return p + 1;
	for (;;) {
		const char *key = p + 1, *v, *after;
		if (p >= end || *p != '"' || (p = skip_string(p, end)) == NULL)
			return NULL;
		size_t klen = (size_t)(p - 1 - key);
		p = skip_ws(p, end);
		if (p >= end || *p != ':')
			return NULL;
		v = skip_ws(p + 1, end);
		after = on_member(key, klen, v, end, ctx);
		p = after != NULL ? after : skip_value(v, end);
		if (p == NULL)
			return NULL;
		(*n)++;
		p = skip_ws(p, end);
		if (p < end && *p == '}')
			return p + 1;
		if (p >= end || *p != ',')
			return NULL;
		p = skip_ws(p + 1, end);
	}
}

/* v at an object: after it, and *n its members (one pass: the commas at
 * its own depth), or NULL when it is not one. */
static const char *count_members(const char *v, const char *end, long *n)
{
	const char *p = v;
	int depth = 0, empty = 1;

	*n = 0;
	if (p >= end || *p != '{')
		return NULL;
	for (; p < end; p++) {
		char c = *p;
		if (c == '"') {
			p = skip_string(p, end);
			if (p == NULL)
				return NULL;
			p--;
			empty = 0;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (--depth == 0) {
				*n += !empty;
				return p + 1;
			}
		} else if (c == ',' && depth == 1) {
			(*n)++;
		}
	}
	return NULL;
}

static int key_is(const char *key, size_t klen, const char *name)
{
	return strlen(name) == klen && memcmp(key, name, klen) == 0;
}

/* A top-level member: seq, ts and the count of channels into ctx. */
static const char *top_member(const char *key, size_t klen, const char *v,
                              const char *end, void *ctx)
{
	struct fields *f = ctx;

	if (key_is(key, klen, "channels"))
		return count_members(v, end, &f->channels);
	if (key_is(key, klen, "seq") && v < end && *v >= '0' && *v <= '9') {
		f->seq = 0;
		while (v < end && *v >= '0' && *v <= '9')
			f->seq = f->seq * 10 + (*v++ - '0');
		return v;
	}
	if (key_is(key, klen, "ts") && v < end && *v == '"') {
		const char *e = skip_string(v, end);
		size_t len = e != NULL ? (size_t)(e - v - 2) : 0;
		if (e != NULL && len < sizeof(f->ts)) {
			memcpy(f->ts, v + 1, len);
			f->ts[len] = '\0';
		}
		return e;
	}
	return NULL;
}

/* payload into *f in one pass. Returns 0, or -1 if it is not an object. */
static int scan(const char *payload, size_t len, struct fields *f)
{
	long n;

	f->seq = -1;
	f->ts[0] = '\0';
	f->channels = -1;
	return walk_object(payload, payload + len, &n, top_member, f) != NULL
	               ? 0
	               : -1;
}

/* The same fields through cJSON. Returns 1 when they agree with *f. */
static int check_with_cjson(const char *payload, size_t len,
                            const struct fields *f)
{
	cJSON *root = cJSON_ParseWithLength(payload, len);
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(root, "seq");
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(root, "ts");
	const cJSON *ch = cJSON_GetObjectItemCaseSensitive(root, "channels");
	int ok = root != NULL;

	if (ok)
		ok = cJSON_IsNumber(seq) ? (int64_t)seq->valuedouble == f->seq
		                         : f->seq == -1;
	if (ok)
		ok = cJSON_IsString(ts) ? strcmp(ts->valuestring, f->ts) == 0
		                        : f->ts[0] == '\0';
	if (ok)
		ok = cJSON_IsObject(ch) ? cJSON_GetArraySize(ch) == f->channels
		                        : f->channels == -1;
	cJSON_Delete(root);
	return ok;
}

static void window_reset(struct window *w)
{
	unsigned char *bits = w->bits;
	size_t nbits = w->nbits;

	memset(w, 0, sizeof(*w));
	w->bits = bits;
	w->nbits = nbits;
	if (bits != NULL)
		memset(bits, 0, nbits / 8);
	w->base = -1;
	w->top = -1;
	clock_gettime(CLOCK_MONOTONIC, &w->start);
}

/* seq into the window's set: a duplicate, a late one or a new one. */
static void count_seq(struct window *w, int64_t seq)
{
	int64_t i;

	if (w->base < 0)
		w->base = seq;
	if (seq < w->base) {
		w->late++;
		return;
	}
	i = seq - w->base;
	if ((size_t)i >= w->nbits) {
		size_t n = w->nbits ? w->nbits : 1 << 20;
		while (n <= (size_t)i)
			n *= 2;
		unsigned char *b = realloc(w->bits, n / 8);
		if (b == NULL) {
			w->bad++; /* out of memory: counted, not tracked */
			return;
		}
		memset(b + w->nbits / 8, 0, (n - w->nbits) / 8);
		w->bits = b;
		w->nbits = n;
	}
	if (w->bits[i / 8] & (1u << (i % 8))) {
		w->duplicates++;
		return;
	}
	w->bits[i / 8] |= (unsigned char)(1u << (i % 8));
	w->distinct++;
	if (i > w->top)
		w->top = i;
}

static void count_latency(struct window *w, int64_t us)
{
	size_t b;

	if (us < 0) {
		w->negative++;
		us = 0;
	}
	if (us > w->lat_max_us)
		w->lat_max_us = us;
	if (us < (int64_t)FINE_N * FINE_US)
		b = (size_t)(us / FINE_US);
	else if (us < (int64_t)FINE_N * FINE_US + (int64_t)COARSE_N * COARSE_US)
		b = FINE_N + (size_t)((us - FINE_N * FINE_US) / COARSE_US);
	else
		b = HIST_N - 1;
	w->hist[b]++;
}

/* The upper bound of bucket b, in ms. */
static double bucket_ms(size_t b)
{
	if (b < FINE_N)
		return (double)(b + 1) * FINE_US / 1000.0;
	return (double)FINE_N * FINE_US / 1000.0 +
	       (double)(b - FINE_N + 1) * COARSE_US / 1000.0;
}

/* The latency under which a fraction q of the window's readings messages
 * arrived (the upper bound of its bucket; the max beyond the buckets). */
static double quantile_ms(const struct window *w, double q)
{
	uint64_t n = 0, want = (uint64_t)(q * (double)w->readings_msgs);

	if (w->readings_msgs == 0)
		return -1;
	if (want >= w->readings_msgs)
		want = w->readings_msgs - 1;
	for (size_t b = 0; b < HIST_N; b++) {
		n += w->hist[b];
		if (n > want)
			return b == HIST_N - 1 ? (double)w->lat_max_us / 1000.0
			                       : bucket_ms(b);
	}
	return (double)w->lat_max_us / 1000.0;
}

static int is_readings(const char *topic)
{
	size_t n = strlen(topic);

	return n >= 9 && strcmp(topic + n - 9, "/readings") == 0;
}

static int on_message(void *ctx, char *topic, int tlen, MQTTAsync_message *m)
{
	struct fields f;
	struct timespec now;
	int64_t sent_us = 0, now_us;
	int readings = is_readings(topic);
	int ok = scan(m->payload, (size_t)m->payloadlen, &f) == 0;

	(void)ctx;
	(void)tlen;
	clock_gettime(CLOCK_REALTIME, &now);
	now_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
	if (ok && readings)
		ok = f.seq >= 0 && f.channels >= 0 &&
		     utc_parse(f.ts, UTC_ABSOLUTE, 0, &sent_us) == 0;
	pthread_mutex_lock(&mu);
	if (!ok) {
		win.bad++;
	} else {
		if (f.seq >= 0)
			count_seq(&win, f.seq);
		if (readings) {
			win.readings_msgs++;
			win.readings += (uint64_t)f.channels;
			count_latency(&win, now_us - sent_us);
			if (win.readings_msgs % CHECK_EVERY == 1) {
				win.checked++;
				if (!check_with_cjson(m->payload,
				                      (size_t)m->payloadlen,
				                      &f))
					win.mismatch++;
			}
		} else if (f.seq >= 0) {
			win.other_seq++;
		} else {
			win.no_seq++;
		}
	}
	pthread_mutex_unlock(&mu);
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

/* The window so far as one JSON line on stdout. Under mu. */
static void print_window(const struct window *w)
{
	struct timespec now;
	double s;
	uint64_t lost = w->base < 0 ? 0 : (uint64_t)(w->top + 1) - w->distinct;

	clock_gettime(CLOCK_MONOTONIC, &now);
	s = (double)(now.tv_sec - w->start.tv_sec) +
	    (double)(now.tv_nsec - w->start.tv_nsec) / 1e9;
	printf("{\"seconds\":%.3f,\"messages\":%llu,\"readings\":%llu,"
	       "\"messages_per_s\":%.0f,\"readings_per_s\":%.0f,"
	       "\"other_with_seq\":%llu,\"without_seq\":%llu,"
	       "\"seq_first\":%lld,\"seq_last\":%lld,\"lost\":%llu,"
	       "\"duplicates\":%llu,\"late\":%llu,",
	       s, (unsigned long long)w->readings_msgs,
	       (unsigned long long)w->readings, (double)w->readings_msgs / s,
	       (double)w->readings / s, (unsigned long long)w->other_seq,
	       (unsigned long long)w->no_seq, (long long)w->base,
	       (long long)(w->base < 0 ? -1 : w->base + w->top),
	       (unsigned long long)lost, (unsigned long long)w->duplicates,
	       (unsigned long long)w->late);
	printf("\"latency_p50_ms\":%.2f,\"latency_p99_ms\":%.2f,"
	       "\"latency_p999_ms\":%.2f,\"latency_max_ms\":%.2f,"
	       "\"latency_negative\":%llu,\"unparsed\":%llu,"
	       "\"checked\":%llu,\"check_mismatch\":%llu}\n",
	       quantile_ms(w, 0.5), quantile_ms(w, 0.99), quantile_ms(w, 0.999),
	       (double)w->lat_max_us / 1000.0, (unsigned long long)w->negative,
	       (unsigned long long)w->bad, (unsigned long long)w->checked,
	       (unsigned long long)w->mismatch);
	fflush(stdout);
}

static void set_state(int v)
{
	pthread_mutex_lock(&mu);
	state = v;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

static void on_subscribed(void *c, MQTTAsync_successData *d)
{
	(void)c;
	/* a refused subscription comes back as granted QoS 0x80 */
	set_state(d != NULL && d->alt.qos == 0x80 ? -1 : 1);
}

static void on_failed(void *c, MQTTAsync_failureData *d)
{
	(void)c;
	(void)d;
	set_state(-1);
}

static void on_lost(void *c, char *cause)
{
	(void)c;
	fprintf(stderr, "e2e-sub: connection lost: %s\n",
	        cause != NULL ? cause : "?");
	set_state(-1);
}

/* What the command line asks for. */
struct args {
	const char *filter, *ready;
	int qos;
	MQTTAsync client;
};

static void on_connected(void *c, MQTTAsync_successData *d)
{
	struct args *a = c;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;

	(void)d;
	ro.onSuccess = on_subscribed;
	ro.onFailure = on_failed;
	ro.context = a;
	if (MQTTAsync_subscribe(a->client, a->filter, a->qos, &ro) !=
	    MQTTASYNC_SUCCESS)
		set_state(-1);
}

/* Connect and subscribe; waits for the outcome. Returns 0 or -1. */
static int subscribe(struct args *a, const char *uri)
{
	MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer;
	char id[64];

	snprintf(id, sizeof(id), "e2e-sub-%ld", (long)getpid());
	paho_init();
	if (MQTTAsync_create(&a->client, uri, id, MQTTCLIENT_PERSISTENCE_NONE,
	                     NULL) != MQTTASYNC_SUCCESS ||
	    MQTTAsync_setCallbacks(a->client, a, on_lost, on_message, NULL) !=
	            MQTTASYNC_SUCCESS)
		return -1;
	o.keepAliveInterval = 30;
	o.cleansession = 1;
	o.onSuccess = on_connected;
	o.onFailure = on_failed;
	o.context = a;
	if (MQTTAsync_connect(a->client, &o) != MQTTASYNC_SUCCESS)
		return -1;
	pthread_mutex_lock(&mu);
	while (state == 0)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return state > 0 ? 0 : -1;
}

/* Signals until SIGTERM or SIGINT: each one acts on the window. */
static void serve_signals(const sigset_t *set)
{
	for (;;) {
		int sig;
		if (sigwait(set, &sig) != 0)
			continue;
		pthread_mutex_lock(&mu);
		if (sig != SIGUSR1)
			print_window(&win);
		if (sig == SIGUSR1 || sig == SIGUSR2)
			window_reset(&win);
		pthread_mutex_unlock(&mu);
		if (sig == SIGTERM || sig == SIGINT)
			return;
	}
}

int main(int argc, char **argv)
{
	struct args a = {0};
	sigset_t set;
	char uri[300];

	if (argc < 5 || argc > 6 ||
	    (atoi(argv[4]) != 0 && atoi(argv[4]) != 1)) {
		fprintf(stderr, "usage: e2e-sub HOST PORT FILTER QOS(0|1) "
		                "[READY_FILE]\n");
		return 2;
	}
	a.filter = argv[3];
	a.qos = atoi(argv[4]);
	a.ready = argc == 6 ? argv[5] : NULL;
	/* blocked here, so in Paho's threads too: only sigwait takes them */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	window_reset(&win);
	snprintf(uri, sizeof(uri), "tcp://%s:%s", argv[1], argv[2]);
	if (subscribe(&a, uri) < 0) {
		fprintf(stderr, "e2e-sub: cannot subscribe to %s on %s\n",
		        a.filter, uri);
		return 1;
	}
	if (a.ready != NULL) {
		FILE *f = fopen(a.ready, "w");
		if (f == NULL || fclose(f) != 0) {
			fprintf(stderr, "e2e-sub: %s: %s\n", a.ready,
			        strerror(errno));
			return 1;
		}
	}
	serve_signals(&set);
	MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
	d.timeout = 1000;
	MQTTAsync_disconnect(a.client, &d);
	MQTTAsync_destroy(&a.client);
	free(win.bits);
	return 0;
}
