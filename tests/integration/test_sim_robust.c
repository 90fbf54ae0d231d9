/*
 * test_sim_robust.c - metrolog-sim under bad input, load and signals.
 *
 * Raw sockets send what no polite client sends: garbage, MBAP headers with
 * a bad protocol id or length, half a frame then a close, an unknown
 * function code, many pipelined requests in one write; raw bytes on the
 * pty. The simulator must close only the offending connection, keep
 * serving, and exit 0 on SIGTERM/SIGINT having removed its symlink and port
 * file. 200 concurrent connections each get their answer. Bad command lines
 * exit 2 with one line naming the option.
 *
 * Threading: one thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <modbus.h>

#include "harness.h"
#include "simtest.h"

#define NCLIENTS 200

static void send_all(int fd, const void *buf, size_t len)
{
	assert_int_equal(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Read exactly len bytes within 3 s. Returns len, or what was read before
 * the end of the stream or the timeout. */
static size_t recv_n(int fd, uint8_t *buf, size_t len)
{
	size_t n = 0;

	while (n < len) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&p, 1, 3000) <= 0)
			break;
		r = recv(fd, buf + n, len - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	return n;
}

/* true when the peer closes the connection within 3 s */
static bool closed_by_peer(int fd)
{
	uint8_t buf[64];
	struct pollfd p = {.fd = fd, .events = POLLIN};

	for (;;) {
		ssize_t r;

		if (poll(&p, 1, 3000) <= 0)
			return false;
		r = recv(fd, buf, sizeof(buf), 0);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return true;
		if (r < 0)
			return false;
	}
}

/* A read of the 2 value registers of channel ch, transaction id tid. */
static void read_request(uint8_t *req, uint16_t tid, int ch)
{
	/* MBAP: tid, protocol 0, length 6, unit 1; PDU: FC 04, addr, 2 */
	req[0] = (uint8_t)(tid >> 8);
	req[1] = (uint8_t)(tid & 0xFF);
	req[2] = req[3] = req[4] = 0;
	req[5] = 6;
	req[6] = 1;
	req[7] = 4;
	req[8] = 0;
	req[9] = (uint8_t)(2 * ch);
	req[10] = 0;
	req[11] = 2;
}

static void assert_served(int port)
{
	/* libmodbus's default response timeout: 500 ms */
	modbus_t *mb = mb_client(NULL, port, 1, 500);

	assert_true(read_value(mb, 0) == 20.0f);
	client_free(mb);
}

static void test_malformed_tcp(void **state)
{
	static const char garbage[] = "GET / HTTP/1.0\r\n\r\n";
	/* protocol id 0, length 255 (> 254) */
	static const uint8_t long_len[] = {0, 1, 0, 0, 0, 255, 1, 4, 0, 0};
	/* length 1: no room for a function code */
	static const uint8_t short_len[] = {0, 1, 0, 0, 0, 1, 1};
	/* unknown function code 0x41 */
	static const uint8_t unknown_fc[] = {0, 7, 0, 0, 0, 2, 1, 0x41};
	struct h_sim s;
	uint8_t req[12], rsp[64];
	int fd, keep;

	(void)state;
	start(&s, true, false, NULL);
	/* a healthy connection open throughout */
	keep = raw_connect(s.port);

	fd = raw_connect(s.port);
	send_all(fd, garbage, sizeof(garbage) - 1);
	assert_true(closed_by_peer(fd));
	close(fd);

	fd = raw_connect(s.port);
	send_all(fd, long_len, sizeof(long_len));
	assert_true(closed_by_peer(fd));
	close(fd);

	fd = raw_connect(s.port);
	send_all(fd, short_len, sizeof(short_len));
	assert_true(closed_by_peer(fd));
	close(fd);

	/* half a frame, then the client goes away */
	fd = raw_connect(s.port);
	read_request(req, 1, 0);
	send_all(fd, req, 7);
	close(fd);

	/* a frame split over two writes is still one request */
	fd = raw_connect(s.port);
	send_all(fd, req, 5);
	usleep(20000);
	send_all(fd, req + 5, 7);
	assert_int_equal(recv_n(fd, rsp, 13), 13);
	assert_int_equal(rsp[7], 4);
	close(fd);

	/* unknown function code: exception 01, connection stays */
	fd = raw_connect(s.port);
	send_all(fd, unknown_fc, sizeof(unknown_fc));
	assert_int_equal(recv_n(fd, rsp, 9), 9);
	assert_int_equal(rsp[0] << 8 | rsp[1], 7);
	assert_int_equal(rsp[7], 0x41 | 0x80);
	assert_int_equal(rsp[8], 1);
	read_request(req, 8, 0);
	send_all(fd, req, sizeof(req));
	assert_int_equal(recv_n(fd, rsp, 13), 13);
	close(fd);

	/* the first connection was not disturbed */
	read_request(req, 42, 1);
	send_all(keep, req, sizeof(req));
	assert_int_equal(recv_n(keep, rsp, 13), 13);
	assert_int_equal(rsp[0] << 8 | rsp[1], 42);
	close(keep);

	assert_served(s.port);
	stop(&s);
}

static void test_pipelined(void **state)
{
	enum { N = 100 };
	static uint8_t req[N * 12], rsp[N * 13];
	struct h_sim s;
	int fd, i;

	(void)state;
	start(&s, true, false, NULL);
	fd = raw_connect(s.port);
	for (i = 0; i < N; i++)
		read_request(req + 12 * i, (uint16_t)(1000 + i), i % 4);
	send_all(fd, req, sizeof(req));
	assert_int_equal(recv_n(fd, rsp, sizeof(rsp)), sizeof(rsp));
	for (i = 0; i < N; i++) {
		const uint8_t *r = rsp + 13 * i;

		assert_int_equal(r[0] << 8 | r[1], 1000 + i);
		assert_int_equal(r[7], 4);
		assert_int_equal(r[8], 4);
		/* float ABCD high byte of 20 + ch: 0x41 */
		assert_int_equal(r[9], 0x41);
	}
	close(fd);
	stop(&s);
}

static void test_many_clients(void **state)
{
	static int fd[NCLIENTS];
	struct h_sim s;
	uint8_t req[12], rsp[13];
	int i;

	(void)state;
	start(&s, true, false, NULL);
	/* all connected at once, all requests in flight at once */
	for (i = 0; i < NCLIENTS; i++)
		fd[i] = raw_connect(s.port);
	for (i = 0; i < NCLIENTS; i++) {
		read_request(req, (uint16_t)i, i % 4);
		send_all(fd[i], req, sizeof(req));
	}
	for (i = 0; i < NCLIENTS; i++) {
		float v;
		uint32_t u;

		if (recv_n(fd[i], rsp, sizeof(rsp)) != sizeof(rsp))
			fail_msg("client %d got no reply", i);
		assert_int_equal(rsp[0] << 8 | rsp[1], i);
		u = (uint32_t)rsp[9] << 24 | (uint32_t)rsp[10] << 16 |
		    (uint32_t)rsp[11] << 8 | rsp[12];
		memcpy(&v, &u, sizeof(v));
		assert_true(v == 20.0f + (float)(i % 4));
	}
	for (i = 0; i < NCLIENTS; i++)
		close(fd[i]);
	assert_served(s.port);
	stop(&s);
}

static void test_rtu_garbage(void **state)
{
	static const uint8_t junk[] = {0xFF, 0x00, 0x13, 0x37, 0x01, 0x03,
	                               0x00, 0x00, 0x00, 0x01, 0xAA, 0xBB};
	struct h_sim s;
	modbus_t *mb;
	int fd;

	(void)state;
	start(&s, false, true, NULL);
	/* bad CRC and noise: discarded, no reply, no harm */
	fd = open(s.rtu, O_RDWR | O_NOCTTY);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, junk, sizeof(junk)), sizeof(junk));
	close(fd);
	usleep(50000);
	mb = mb_client(s.rtu, 0, 1, 2000);
	assert_true(read_value(mb, 0) == 20.0f);
	client_free(mb);
	stop(&s);
}

static void test_clean_stop(void **state)
{
	const char *dir = h_tmpdir();
	char portfile[H_PATH_MAX];
	struct h_sim s;
	int sig, st;

	(void)state;
	h_path(portfile, dir, "sim.port");
	for (sig = 0; sig < 2; sig++) {
		int fd;

		start_in(&s, dir, true, true, NULL);
		/* a client still connected does not hold up the exit */
		fd = raw_connect(s.port);
		st = h_stop(s.pid, sig == 0 ? SIGTERM : SIGINT, 20000);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
		assert_true(closed_by_peer(fd));
		close(fd);
		assert_int_equal(access(s.rtu, F_OK), -1);
		assert_int_equal(access(portfile, F_OK), -1);
	}
}

/* Run metrolog-sim with args; return its exit status, its output in out. */
static int run_sim(const char *const args[], char *out, size_t size)
{
	const char *argv[16];
	char log[H_PATH_MAX];
	pid_t pid;
	int i, st;

	h_path(log, h_tmpdir(), "out.log");
	argv[0] = METROLOG_SIM_BIN;
	for (i = 0; args[i] != NULL && i < 14; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	pid = h_spawn(argv, log, false);
	assert_true(pid > 0);
	st = h_stop(pid, 0, 10000);
	assert_true(WIFEXITED(st));
	assert_true(h_read_file(log, out, size) >= 0);
	return WEXITSTATUS(st);
}

static void expect_usage_error(const char *const args[], const char *needle)
{
	char out[1024];
	char *nl;

	assert_int_equal(run_sim(args, out, sizeof(out)), 2);
	nl = strchr(out, '\n');
	/* one line */
	assert_non_null(nl);
	assert_int_equal(nl[1], 0);
	if (strstr(out, needle) == NULL)
		fail_msg("'%s' does not mention '%s'", out, needle);
}

static void test_command_line(void **state)
{
	char out[8192];

	(void)state;
	assert_int_equal(
	        run_sim((const char *[]){"--version", NULL}, out, sizeof(out)),
	        0);
	assert_string_equal(out, "metrolog-sim " METROLOG_VERSION "\n");
	assert_int_equal(
	        run_sim((const char *[]){"--help", NULL}, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "--port-per-instrument"));
	assert_non_null(strstr(out, "SIGUSR1"));

	expect_usage_error((const char *[]){NULL}, "--tcp");
	expect_usage_error((const char *[]){"-t", "0", "-m", "65", NULL},
	                   "--channels");
	expect_usage_error((const char *[]){"-t", "0", "-n", "0", NULL},
	                   "--instruments");
	expect_usage_error((const char *[]){"-t", "99999", NULL}, "--tcp");
	expect_usage_error((const char *[]){"-t", "0", "--silent", "1.5", NULL},
	                   "--silent");
	expect_usage_error(
	        (const char *[]){"-t", "0", "-c", "0:colour=3", NULL},
	        "colour");
	expect_usage_error((const char *[]){"-t", "0", "-c", "9:noise=1", NULL},
	                   "--channel");
	expect_usage_error(
	        (const char *[]){"-t", "0", "-c", "4.0:noise=1", NULL},
	        "--channel");
	expect_usage_error((const char *[]){"-t", "0", "--accel", "fast", NULL},
	                   "--accel");
	expect_usage_error((const char *[]){"-t", "0", "--frobnicate", NULL},
	                   "--frobnicate");
	expect_usage_error(
	        (const char *[]){"-t", "0", "--fault-unit", "2", NULL},
	        "--fault-unit");
	expect_usage_error((const char *[]){"--port-per-instrument", "-r",
	                                    "/nonexistent/x", NULL},
	                   "--port-per-instrument");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_malformed_tcp, h_teardown),
	        cmocka_unit_test_teardown(test_pipelined, h_teardown),
	        cmocka_unit_test_teardown(test_many_clients, h_teardown),
	        cmocka_unit_test_teardown(test_rtu_garbage, h_teardown),
	        cmocka_unit_test_teardown(test_clean_stop, h_teardown),
	        cmocka_unit_test_teardown(test_command_line, h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
