/*
 * test_mux.c - the TCP buses' pollers (gateway/daemon/mux.c) in this
 * process: many buses served by few threads against a real metrolog-sim
 * (one TCP port per instrument, as in a lab), beside endpoints that fail
 * the ways a lab's do: a port that refuses, and one that takes the
 * connection and never answers.
 *
 * What must hold: every live bus keeps its absolute schedule (no poll
 * skipped as late, no failure) while its neighbours time out, sharing
 * the mux's two threads with them; and poller_stop() of a bus with a request in
 * flight ends it at once, pushing nothing of the poll cut short, while the
 * polls that completed were pushed.
 */
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config_load.h"
#include "harness.h"
#include "mclock.h"
#include "poller.h"
#include "queue.h"

#define NLIVE   40    /* instruments of the simulator, one port each */
#define NDEAD   2     /* a refusing port, a silent one */
#define WAIT_MS 20000 /* the longest any condition is waited for */

static void pause_10ms(void)
{
	struct timespec ts = {0, 10 * 1000 * 1000};

	nanosleep(&ts, NULL);
}

/* A listening socket on 127.0.0.1 that the test may never accept on: the
 * kernel completes the connections (the backlog), nothing answers. */
static int silent_listener(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* The simulator's ports, one per instrument (its port file, one a line). */
static void sim_ports(const char *dir, int *ports, int n)
{
	char path[H_PATH_MAX], buf[4096];
	int got = 0;

	h_path(path, dir, "sim.port");
	for (int t = 0; t < WAIT_MS / 10 && got < n; t++) {
		got = 0;
		if (h_read_file(path, buf, sizeof(buf)) > 0)
			for (char *s = strtok(buf, "\n"); s != NULL && got < n;
			     s = strtok(NULL, "\n"))
				ports[got++] = atoi(s);
		if (got < n)
			pause_10ms();
	}
	assert_int_equal(got, n);
}

/* Write and load a config of nbus buses, bus b on ports[b] with
 * timeout_ms[b], one instrument each (unit 1, every interval_ms, channel
 * c0: float32 at input register 0). */
static struct config *load(const char *dir, const int *ports,
                           const int *timeout_ms, int nbus, int interval_ms)
{
	char path[H_PATH_MAX], db[H_PATH_MAX];
	FILE *f = fopen(h_path(path, dir, "gw.cfg"), "w");

	assert_non_null(f);
	fprintf(f, "site = \"s\";\ndatabase = \"%s\";\nbuses = (\n",
	        h_path(db, dir, "metrolog.db"));
	for (int b = 0; b < nbus; b++)
		fprintf(f,
		        " { name = \"b%d\"; type = \"tcp\"; host = "
		        "\"127.0.0.1\"; port = %d; timeout_ms = %d; }%s\n",
		        b, ports[b], timeout_ms[b], b + 1 < nbus ? "," : "");
	fprintf(f, ");\ninstruments = (\n");
	for (int b = 0; b < nbus; b++)
		fprintf(f,
		        " { id = \"I%d\"; bus = \"b%d\"; unit_id = 1; "
		        "interval_ms = %d; channels = ( { name = \"c0\"; "
		        "table = \"input\"; address = 0; type = \"float32\"; "
		        "} ); }%s\n",
		        b, b, interval_ms, b + 1 < nbus ? "," : "");
	fprintf(f, ");\n");
	fclose(f);
	struct config *c = config_load(path, stderr);
	assert_non_null(c);
	return c;
}

/* The threads of this process (/proc/self/task). */
static int threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static uint64_t polls_of(struct poller *p)
{
	struct poller_stats st;

	poller_get_stats(p, &st);
	return st.polls;
}

/* 40 live instruments every 500 ms, each its own bus and port, beside a
 * refusing port and a silent one (timeouts of 2 s): all in the mux's two
 * threads (one on a machine of one core), each dead one beside 20 live
 * ones, besides the test's; after 4 s, every live bus has polled on its grid
 * (none late, none failed, every start within 262 ms of its due time,
 * where one stall behind the silent bus would be 2 s), and the dead ones
 * have failed as they should. */
static void a_dead_endpoint_does_not_delay_its_neighbours(void **state)
{
	char dir[H_PATH_MAX];
	struct h_sim sim;
	int ports[NLIVE + NDEAD], timeouts[NLIVE + NDEAD], silent;
	const char *const extra[] = {"--port-per-instrument", "-n", "40", NULL};
	struct poller *p[NLIVE + NDEAD];
	struct poller_stats st;

	(void)state;
	snprintf(dir, sizeof(dir), "%s", h_tmpdir());
	if (h_sim_start(&sim, dir, true, false, extra) < 0)
		fail_msg("metrolog-sim did not start");
	sim_ports(dir, ports, NLIVE);
	ports[NLIVE] = h_free_port(); /* refuses */
	int lfd = silent_listener(&silent);
	ports[NLIVE + 1] = silent;
	for (int b = 0; b < NLIVE + NDEAD; b++)
		timeouts[b] = 2000;
	struct config *c = load(dir, ports, timeouts, NLIVE + NDEAD, 500);
	struct queue *q = queue_new(65536, QUEUE_DROP_OLDEST);
	assert_non_null(q);

	int before = threads();
	for (int b = 0; b < NLIVE + NDEAD; b++) {
		p[b] = poller_start(c, b, q, &mclock_system);
		assert_non_null(p[b]);
	}
	assert_int_equal(threads(),
	                 before + (sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 2 : 1));

	/* 4 s: 8 polls due on each live bus */
	for (int t = 0; t < WAIT_MS / 10 && polls_of(p[NLIVE - 1]) < 8; t++)
		pause_10ms();
	for (int b = 0; b < NLIVE; b++) {
		poller_stop(p[b], &st);
		assert_true(st.polls >= 7);
		assert_int_equal(st.failures, 0);
		assert_int_equal(st.late, 0);
		assert_true(poller_jitter_quantile(&st, 1.0) <= 1ULL << 18);
	}
	poller_stop(p[NLIVE], &st); /* refused, then backed off */
	assert_true(st.polls >= 2);
	assert_int_equal(st.failures, st.transactions);
	poller_stop(p[NLIVE + 1], &st); /* timed out */
	assert_true(st.polls >= 1);
	assert_int_equal(st.failures, st.transactions);
	assert_int_equal(threads(), before);

	close(lfd);
	queue_free(q);
	config_free(c);
	assert_int_equal(h_sim_stop(&sim), 0);
}

/* Accept one connection on lfd and read its first request (12 bytes),
 * within WAIT_MS. Returns the connection. */
static int take_request(int lfd)
{
	struct pollfd pf = {.fd = lfd, .events = POLLIN};
	unsigned char req[12];
	size_t got = 0;

	assert_int_equal(poll(&pf, 1, WAIT_MS), 1);
	int fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	pf.fd = fd;
	while (got < sizeof(req)) {
		assert_int_equal(poll(&pf, 1, WAIT_MS), 1);
		ssize_t n = recv(fd, req + got, sizeof(req) - got, 0);
		assert_true(n > 0);
		got += (size_t)n;
	}
	return fd;
}

static int64_t now_ms(void)
{
	return mclock_system.mono_us(NULL) / 1000;
}

/* A bus whose request is in flight (the test's server took it and keeps
 * quiet; its timeout is 10 s) stops at once: nothing of its poll is
 * pushed, no poll counted; a live bus stopped after it has pushed every
 * poll it completed (the two buses take the mux's two threads). */
static void stop_with_a_request_in_flight(void **state)
{
	char dir[H_PATH_MAX];
	struct h_sim sim;
	int ports[2], timeouts[2] = {1000, 10000}, silent;
	struct poller *live, *quiet;
	struct poller_stats st;
	struct sample s[256];

	(void)state;
	snprintf(dir, sizeof(dir), "%s", h_tmpdir());
	if (h_sim_start(&sim, dir, true, false, NULL) < 0)
		fail_msg("metrolog-sim did not start");
	ports[0] = sim.port;
	int lfd = silent_listener(&silent);
	ports[1] = silent;
	struct config *c = load(dir, ports, timeouts, 2, 100);
	struct queue *q = queue_new(1024, QUEUE_DROP_OLDEST);
	assert_non_null(q);
	live = poller_start(c, 0, q, &mclock_system);
	quiet = poller_start(c, 1, q, &mclock_system);
	assert_non_null(live);
	assert_non_null(quiet);

	int fd = take_request(lfd); /* quiet's request is in flight */
	for (int t = 0; t < WAIT_MS / 10 && polls_of(live) < 3; t++)
		pause_10ms();
	int64_t t0 = now_ms();
	poller_stop(quiet, &st);
	assert_true(now_ms() - t0 < 5000); /* not its 10 s timeout */
	assert_int_equal(st.polls, 0);
	assert_int_equal(st.transactions, 0);
	poller_stop(live, &st);
	assert_true(st.polls >= 3);

	/* one reading per completed poll of live and its "online"; nothing
	 * of quiet's (instrument index 1) */
	size_t n = queue_pop(q, s, 256, 0), readings = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i].kind != SAMPLE_READING) {
			assert_int_equal(s[i].kind, SAMPLE_ONLINE);
			assert_int_equal(s[i].index, 0); /* live's */
			continue;
		}
		assert_int_equal(s[i].quality, QUALITY_GOOD);
		assert_int_equal(s[i].index,
		                 c->instruments[0].channels[0].index);
		readings++;
	}
	assert_int_equal(readings, st.polls);

	close(fd);
	close(lfd);
	queue_free(q);
	config_free(c);
	assert_int_equal(h_sim_stop(&sim), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(
	                a_dead_endpoint_does_not_delay_its_neighbours,
	                h_teardown),
	        cmocka_unit_test_teardown(stop_with_a_request_in_flight,
	                                  h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
