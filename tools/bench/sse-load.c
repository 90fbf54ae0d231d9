/*
 * sse-load - many browsers' live boards at once: N connections to
 * metrolog-web's /events (Server-Sent Events, docs/WEB.md), held open for
 * a window, each channel update's latency measured. tools/bench/bench-web
 * runs it (docs/BENCHMARKS.md, "Web console under load").
 *
 *   sse-load PORT SESSION N WARMUP_S WINDOW_S
 *
 * SESSION is the value of a logged-in technician's mlw_session cookie.
 * After WARMUP_S (every stream's first full picture arrives), for
 * WINDOW_S, each channel update is read for its reading's time t and the
 * server's send stamp n, ms since the epoch: in an `event: chs` (its data
 * {"n":N,"ch":[[id,t,...],...]}) each item of "ch" is one update; in an
 * `event: ch` (the format before it, {"id":..,"t":T,"n":N,...}) the
 * line is. The latency receipt - t and the server's part n - t go into
 * histograms of 1 ms buckets. Prints one JSON line: streams open at the end,
 * updates received per second (all streams), latency p50/p99/max and the
 * server's p50/p99, in ms. Exits 1 when a stream could not be opened; a stream
 * the server closed is counted out of streams_open.
 *
 * One thread, epoll over plain sockets, HTTP/1.0 (the answer then has no
 * chunked framing: the stream is the body, line by line).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_STREAMS 1024
#define BUCKETS     10000 /* 1 ms each; the last one holds 10 s and more */
#define LINE_MAX_B  65536 /* a chs event of 256 channels: 25-40 KiB */

struct stream {
	int fd;
	size_t len;
	int in_ch; /* the last event line: 1 `event: ch`, 2 `event: chs` */
	int header_done;
	char buf[LINE_MAX_B];
};

static uint64_t hist_total[BUCKETS], hist_server[BUCKETS];
static uint64_t updates;
static double max_ms;

static double now_ms(int clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void add(uint64_t *h, double ms)
{
	long b = ms < 0 ? 0 : (long)ms;

	h[b < BUCKETS ? b : BUCKETS - 1]++;
}

static long quantile(const uint64_t *h, uint64_t n, double q)
{
	uint64_t want = (uint64_t)(q * (double)n), seen = 0;

	for (long b = 0; b < BUCKETS; b++) {
		seen += h[b];
		if (seen > want)
			return b + 1; /* the bucket's upper bound */
	}
	return BUCKETS;
}

/* A number after `"key":` in s, or -1. */
static double field(const char *s, const char *key)
{
	const char *p = strstr(s, key);

	return p ? strtod(p + strlen(key), NULL) : -1;
}

static void update(double t, double n)
{
	if (t <= 0 || n <= 0)
		return;
	double total = now_ms(CLOCK_REALTIME) - t;
	add(hist_total, total);
	add(hist_server, n - t);
	if (total > max_ms)
		max_ms = total;
	updates++;
}

/* Past the JSON array item at p ([...], strings with their escapes
 * skipped): the character after its closing bracket. */
static const char *skip_item(const char *p)
{
	int depth = 0, in_str = 0;

	for (; *p != '\0'; p++) {
		if (in_str) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '"')
				in_str = 0;
		} else if (*p == '"') {
			in_str = 1;
		} else if (*p == '[') {
			depth++;
		} else if (*p == ']' && --depth == 0) {
			return p + 1;
		}
	}
	return p;
}

/* Each item [id, t, ...] of a chs event's "ch" array. */
static void on_chs(const char *data)
{
	double n = field(data, "\"n\":");
	const char *p = strstr(data, "\"ch\":[");

	if (p == NULL)
		return;
	for (p += 6; *p == '[';) {
		char *end;
		strtoll(p + 1, &end, 10); /* the channel's id */
		if (*end != ',')
			return;
		update(strtod(end + 1, NULL), n);
		p = skip_item(p);
		if (*p == ',')
			p++;
	}
}

static void on_line(struct stream *st, char *line, int measuring)
{
	if (!st->header_done) {
		if (line[0] == '\0')
			st->header_done = 1;
		return;
	}
	if (strncmp(line, "event: ", 7) == 0) {
		st->in_ch = strcmp(line + 7, "ch") == 0    ? 1
		            : strcmp(line + 7, "chs") == 0 ? 2
		                                           : 0;
		return;
	}
	if (!measuring || !st->in_ch || strncmp(line, "data: ", 6) != 0)
		return;
	if (st->in_ch == 2)
		on_chs(line + 6);
	else
		update(field(line, "\"t\":"), field(line, "\"n\":"));
}

/* Read what st's socket has; 0, or -1 when it closed or failed. */
static int on_readable(struct stream *st, int measuring)
{
	for (;;) {
		ssize_t r = read(st->fd, st->buf + st->len,
		                 sizeof(st->buf) - st->len - 1);
		if (r == 0)
			return -1;
		if (r < 0)
			return errno == EAGAIN ? 0 : -1;
		st->len += (size_t)r;
		st->buf[st->len] = '\0';
		char *start = st->buf, *nl;
		while ((nl = memchr(start, '\n',
		                    st->len - (size_t)(start - st->buf)))) {
			*nl = '\0';
			if (nl > start && nl[-1] == '\r')
				nl[-1] = '\0';
			on_line(st, start, measuring);
			start = nl + 1;
		}
		st->len -= (size_t)(start - st->buf);
		memmove(st->buf, start, st->len);
		if (st->len == sizeof(st->buf) - 1)
			st->len =
			        0; /* a line longer than the buffer: dropped */
	}
}

static int open_stream(int port, const char *session, int ep, struct stream *st)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons((uint16_t)port)};
	char req[512];

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	st->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (st->fd < 0 || connect(st->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	int n = snprintf(
	        req, sizeof(req),
	        "GET /events HTTP/1.0\r\nHost: 127.0.0.1\r\n"
	        "Cookie: mlw_session=%s\r\nAccept: text/event-stream\r\n\r\n",
	        session);
	if (write(st->fd, req, (size_t)n) != n ||
	    fcntl(st->fd, F_SETFL, O_NONBLOCK) < 0)
		return -1;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = st};
	return epoll_ctl(ep, EPOLL_CTL_ADD, st->fd, &ev);
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr,
		        "usage: sse-load PORT SESSION N WARMUP_S WINDOW_S\n");
		return 2;
	}
	int port = atoi(argv[1]), n = atoi(argv[3]);
	double warmup = atof(argv[4]) * 1e3, window = atof(argv[5]) * 1e3;
	if (n < 1 || n > MAX_STREAMS) {
		fprintf(stderr, "sse-load: N must be 1..%d\n", MAX_STREAMS);
		return 2;
	}
	static struct stream streams[MAX_STREAMS];
	int ep = epoll_create1(0), open_now = n;
	for (int i = 0; i < n; i++) {
		if (open_stream(port, argv[2], ep, &streams[i]) < 0) {
			perror("sse-load: /events");
			return 1;
		}
	}
	double start = now_ms(CLOCK_MONOTONIC);
	for (;;) {
		double t = now_ms(CLOCK_MONOTONIC) - start;
		if (t >= warmup + window)
			break;
		struct epoll_event evs[64];
		int k = epoll_wait(ep, evs, 64, 100);
		for (int i = 0; i < k; i++) {
			struct stream *st = evs[i].data.ptr;
			if (on_readable(st, t >= warmup) < 0) {
				epoll_ctl(ep, EPOLL_CTL_DEL, st->fd, NULL);
				close(st->fd);
				open_now--;
			}
		}
	}
	printf("{\"streams\":%d,\"streams_open\":%d,\"updates_per_s\":%.0f,"
	       "\"latency_ms_p50\":%ld,\"latency_ms_p99\":%ld,\"latency_ms_"
	       "max\":%.0f,"
	       "\"server_ms_p50\":%ld,\"server_ms_p99\":%ld}\n",
	       n, open_now, (double)updates * 1e3 / window,
	       quantile(hist_total, updates, 0.5),
	       quantile(hist_total, updates, 0.99), max_ms,
	       quantile(hist_server, updates, 0.5),
	       quantile(hist_server, updates, 0.99));
	return 0;
}
