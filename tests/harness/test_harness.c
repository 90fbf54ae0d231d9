/*
 * Tests of the test harness itself: a real mosquitto starts on a free
 * loopback port, carries a message, restarts on the same port; processes
 * are killed by cleanup; the simulator starts and reports its port.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

static void broker_carries_a_message_and_restarts(void **state)
{
	(void)state;
	const char *dir = h_tmpdir();
	struct h_broker b;
	char port[16], log[H_PATH_MAX], out[256];

	assert_int_equal(h_broker_start(&b, dir, NULL), 0);
	assert_true(b.port > 1024);
	snprintf(port, sizeof(port), "%d", b.port);
	const char *pub[] = {"mosquitto_pub",
	                     "-h",
	                     "127.0.0.1",
	                     "-p",
	                     port,
	                     "-t",
	                     "harness/test",
	                     "-m",
	                     "hello",
	                     "-r",
	                     "-q",
	                     "1",
	                     NULL};
	assert_int_equal(h_run(pub, h_path(log, dir, "pub.log"), false, 10000),
	                 0);
	const char *sub[] = {
	        "mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-t",
	        "harness/test",  "-C", "1",         "-W", "5",  NULL};
	assert_int_equal(h_run(sub, h_path(log, dir, "sub.log"), false, 10000),
	                 0);
	assert_true(h_read_file(log, out, sizeof(out)) > 0);
	assert_string_equal(out, "hello\n");

	assert_int_equal(h_broker_stop(&b), 0);
	assert_int_equal(h_wait_port(b.port, 100), -1);
	assert_int_equal(h_broker_restart(&b), 0);
	assert_int_equal(h_wait_port(b.port, 1000), 0);
	assert_int_equal(h_broker_stop(&b), 0);
}

static void cleanup_kills_by_pid(void **state)
{
	(void)state;
	const char *argv[] = {"sleep", "600", NULL};
	pid_t pid = h_spawn(argv, NULL, false);

	assert_true(pid > 0);
	assert_true(h_alive(pid));
	h_cleanup();
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
}

static void simulator_starts_and_stops_cleanly(void **state)
{
	(void)state;
	struct h_sim s;

	assert_int_equal(h_sim_start(&s, h_tmpdir(), true, true, NULL), 0);
	assert_true(s.port > 0);
	assert_int_equal(h_wait_port(s.port, 1000), 0);
	assert_int_equal(h_wait_file(s.rtu, 0), 0);
	assert_int_equal(h_sim_stop(&s), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(broker_carries_a_message_and_restarts,
	                                  h_teardown),
	        cmocka_unit_test_teardown(cleanup_kills_by_pid, h_teardown),
	        cmocka_unit_test_teardown(simulator_starts_and_stops_cleanly,
	                                  h_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
