/*
 * The service manager's notifications (gateway/daemon/notify.h), received
 * on a datagram socket the test binds where systemd would: metrologd
 * started with NOTIFY_SOCKET and WATCHDOG_USEC sends READY=1 once its
 * database holds the configuration and it polls, WATCHDOG=1 while it runs,
 * RELOADING=1 then READY=1 around a SIGHUP, STOPPING=1 on SIGTERM; and the
 * watchdog thread in this process feeds only while its beat grows; a
 * metrologd whose ingest loop hangs stops feeding, and killed and started
 * again as systemd would, has lost nothing committed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gwtest.h"
#include "harness.h"
#include "notify.h"

/* A datagram socket bound at dir/notify.sock; its path in path. */
static int bind_notify(const char *dir, char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	h_path(path, dir, "notify.sock");
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The next datagram within ms into buf (NUL-terminated); -1 if none. */
static int next_message(int fd, char *buf, size_t size, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n;

	if (poll(&p, 1, ms) != 1)
		return -1;
	n = recv(fd, buf, size - 1, 0);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* Wait up to ms for a datagram with the line line ("READY=1") in it;
 * count the WATCHDOG=1 seen on the way into *pets (may be NULL); the
 * matching datagram is left in buf. Fails the test on time out. */
static void wait_message(int fd, const char *line, char *buf, size_t size,
                         int *pets, int ms)
{
	int64_t deadline = now_ms() + ms;
	size_t len = strlen(line);

	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0 || next_message(fd, buf, size, (int)left) == -1)
			fail_msg("no %s within %d ms", line, ms);
		for (const char *p = buf; p != NULL;
		     p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
			if (strncmp(p, line, len) == 0 &&
			    (p[len] == '\n' || p[len] == '\0'))
				return;
		}
		if (pets != NULL && strcmp(buf, "WATCHDOG=1") == 0)
			(*pets)++;
	}
}

/* metrologd under a pretend systemd: READY after the database, pets while
 * it runs, RELOADING/READY on SIGHUP, STOPPING on SIGTERM, exit 0. */
static void test_metrologd_notifies(void **state)
{
	(void)state;
	const char *dir = h_tmpdir();
	char bus[256], inst[1024], path[H_PATH_MAX], msg[512];
	struct h_sim sim;
	struct gw g;
	int pets = 0;

	assert_int_equal(h_sim_start(&sim, dir, true, false, NULL), 0);
	gw_init(&g, dir);
	tcp_bus(bus, sizeof(bus), "b", sim.port, 500);
	instrument(inst, sizeof(inst), "T-1", "b", 1, 100, 2);
	gw_config(&g, bus, inst, NULL);
	int fd = bind_notify(dir, path);

	setenv("NOTIFY_SOCKET", path, 1);
	setenv("WATCHDOG_USEC", "400000", 1); /* a pet every 200 ms */
	gw_start(&g);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");

	wait_message(fd, "READY=1", msg, sizeof(msg), &pets, 30000);
	/* by then the database holds the configuration and it polls */
	assert_non_null(strstr(msg, "STATUS=polling 1 instruments (2 "
	                            "channels) on 1 buses"));
	assert_int_equal(db_int(g.db, "SELECT count(*) FROM instruments "
	                              "WHERE name = 'T-1'"),
	                 1);
	assert_int_equal(pets, 0); /* nothing fed before READY */

	/* the watchdog keeps being fed */
	for (int i = 0; i < 5; i++)
		wait_message(fd, "WATCHDOG=1", msg, sizeof(msg), NULL, 60000);

	assert_int_equal(kill(g.pid, SIGHUP), 0);
	wait_message(fd, "RELOADING=1", msg, sizeof(msg), NULL, 30000);
	assert_non_null(strstr(msg, "\nMONOTONIC_USEC="));
	wait_message(fd, "READY=1", msg, sizeof(msg), NULL, 30000);
	wait_message(fd, "WATCHDOG=1", msg, sizeof(msg), NULL, 60000);

	assert_int_equal(kill(g.pid, SIGTERM), 0);
	wait_message(fd, "STOPPING=1", msg, sizeof(msg), NULL, 30000);
	assert_int_equal(gw_stop(&g), 0);
	close(fd);
	assert_int_equal(h_sim_stop(&sim), 0);
}

/* metrologd's ingest loop hung for real while its pollers and watchdog
 * thread run (METROLOG_TEST_HANG_INGEST: the one fault injected; a hung
 * disk cannot be made here): it says so and the pets stop; killed as
 * systemd's watchdog kills (SIGABRT) and started again on the same
 * database (Restart=on-failure), it has lost no committed reading and
 * polls on. */
static void test_hung_ingest_is_restarted_losing_nothing(void **state)
{
	(void)state;
	const char *dir = h_tmpdir();
	char bus[256], inst[1024], path[H_PATH_MAX], msg[512];
	char hang[H_PATH_MAX], want[128];
	struct h_sim sim;
	struct gw g;
	long long at_kill;
	int pets = 0, status;

	assert_int_equal(h_sim_start(&sim, dir, true, false, NULL), 0);
	gw_init(&g, dir);
	tcp_bus(bus, sizeof(bus), "b", sim.port, 500);
	instrument(inst, sizeof(inst), "T-1", "b", 1, 100, 2);
	gw_config(&g, bus, inst, NULL);
	int fd = bind_notify(dir, path);
	h_path(hang, dir, "hang-now");

	setenv("NOTIFY_SOCKET", path, 1);
	setenv("WATCHDOG_USEC", "1000000", 1); /* a pet every 500 ms */
	setenv("METROLOG_TEST_HANG_INGEST", hang, 1);
	gw_start(&g);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("METROLOG_TEST_HANG_INGEST");
	wait_message(fd, "READY=1", msg, sizeof(msg), NULL, 30000);
	assert_true(
	        gw_wait_sql(&g, "SELECT count(*) >= 20 FROM readings", 60000));

	write_file(hang, "");
	gw_wait_log(&g, "test: the ingest loop hangs");
	gw_wait_log(&g, "watchdog: the ingest loop has not turned");
	/* what was on its way before; then no pet for two periods */
	while (next_message(fd, msg, sizeof(msg), 0) == 0)
		;
	for (int64_t until = now_ms() + 2000; now_ms() < until;)
		if (next_message(fd, msg, sizeof(msg), 100) == 0 &&
		    strcmp(msg, "WATCHDOG=1") == 0)
			pets++;
	assert_int_equal(pets, 0);
	at_kill = db_int(g.db, "SELECT count(*) FROM readings");
	status = h_stop(g.pid, SIGABRT, 30000);
	g.pid = 0;
	assert_true(status != -1 && WIFSIGNALED(status) &&
	            WTERMSIG(status) == SIGABRT);

	/* the same database, whole, with every reading committed */
	assert_int_equal(db_int(g.db, "SELECT count(*) FROM "
	                              "pragma_integrity_check WHERE "
	                              "integrity_check = 'ok'"),
	                 1);
	assert_int_equal(db_int(g.db, "SELECT count(*) FROM readings"),
	                 at_kill);
	gw_start(&g);
	snprintf(want, sizeof(want), "SELECT count(*) >= %lld FROM readings",
	         at_kill + 20);
	assert_true(gw_wait_sql(&g, want, 60000));
	assert_int_equal(gw_stop(&g), 0);
	close(fd);
	assert_int_equal(h_sim_stop(&sim), 0);
}

/* Without NOTIFY_SOCKET nothing is sent, nothing fails, no watchdog. */
static void test_without_socket(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	setenv("WATCHDOG_USEC", "400000", 1);
	assert_int_equal(notify_send("READY=1"), 0);
	assert_int_equal(notify_watchdog_usec(), 0);
	unsetenv("WATCHDOG_USEC");
}

/* WATCHDOG_USEC for another process (WATCHDOG_PID) is not ours. */
static void test_watchdog_pid(void **state)
{
	(void)state;
	const char *dir = h_tmpdir();
	char path[H_PATH_MAX], pid[32];
	int fd = bind_notify(dir, path);

	setenv("NOTIFY_SOCKET", path, 1);
	setenv("WATCHDOG_USEC", "250000", 1);
	assert_int_equal(notify_watchdog_usec(), 250000);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(notify_watchdog_usec(), 250000);
	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(notify_watchdog_usec(), 0);
	setenv("WATCHDOG_USEC", "soon", 1);
	unsetenv("WATCHDOG_PID");
	assert_int_equal(notify_watchdog_usec(), 0);
	unsetenv("WATCHDOG_USEC");
	unsetenv("NOTIFY_SOCKET");
	close(fd);
}

/* The watchdog thread feeds while the beat grows, stops feeding when it
 * stands still (a hung ingest loop), and feeds again when it moves. */
static void test_watchdog_follows_beat(void **state)
{
	(void)state;
	const char *dir = h_tmpdir();
	char path[H_PATH_MAX], msg[128];
	atomic_uint_fast64_t beat = 0;
	int fd = bind_notify(dir, path);
	int pets = 0;

	setenv("NOTIFY_SOCKET", path, 1);
	struct notify_watchdog *w = notify_watchdog_start(100000, &beat);
	unsetenv("NOTIFY_SOCKET");
	assert_non_null(w);
	/* alive: a pet per half period, each after a beat */
	for (int i = 0; i < 5; i++) {
		atomic_fetch_add(&beat, 1);
		wait_message(fd, "WATCHDOG=1", msg, sizeof(msg), NULL, 60000);
	}
	/* hung: after the pets already on their way (at most two: the pets
	 * lag the beats by one, as the first is sent at start), none for
	 * 2 s (40 half periods) */
	for (int64_t until = now_ms() + 2000; now_ms() < until;) {
		if (next_message(fd, msg, sizeof(msg), 100) == 0) {
			assert_string_equal(msg, "WATCHDOG=1");
			pets++;
		}
	}
	assert_true(pets <= 2);
	/* alive again */
	atomic_fetch_add(&beat, 1);
	wait_message(fd, "WATCHDOG=1", msg, sizeof(msg), NULL, 60000);
	notify_watchdog_stop(w);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_metrologd_notifies, h_teardown),
	        cmocka_unit_test_teardown(
	                test_hung_ingest_is_restarted_losing_nothing,
	                h_teardown),
	        cmocka_unit_test(test_without_socket),
	        cmocka_unit_test_teardown(test_watchdog_pid, h_teardown),
	        cmocka_unit_test_teardown(test_watchdog_follows_beat,
	                                  h_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
