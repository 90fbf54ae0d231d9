/*
 * simtest.h - helpers shared by the test_sim_* integration tests.
 *
 * Each of those tests starts metrolog-sim through the harness and talks to
 * it with libmodbus or a raw socket. What they all need stands here once:
 * assert_mb() and assert_mb_err(), the cmocka teardown, starting and
 * stopping the simulator, a connected TCP or RTU client, a raw TCP
 * connection, a monotonic clock and register decoding. Every function is
 * static inline, so a test that does not use one does not warn.
 *
 * Include it after defining _GNU_SOURCE, like the rest of the test's
 * system headers. Only mb_open() may be called off the main thread (it
 * makes no cmocka assertion); the rest fail the running test.
 */
#ifndef METROLOG_SIMTEST_H
#define METROLOG_SIMTEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include <cmocka.h>
#include <modbus.h>

#include "harness.h"

/* expr (a libmodbus call) must return want; else fail with its error. */
#define assert_mb(expr, want)                                                  \
	do {                                                                   \
		int rc_ = (expr);                                              \
		if (rc_ != (want))                                             \
			fail_msg("%s = %d (%s), want %d", #expr, rc_,          \
			         modbus_strerror(errno), (int)(want));         \
	} while (0)

/* expr (a libmodbus call) must fail: return -1 with errno err. */
#define assert_mb_err(expr, err)                                               \
	do {                                                                   \
		int rc_, e_;                                                   \
		errno = 0;                                                     \
		rc_ = (expr);                                                  \
		e_ = errno;                                                    \
		if (rc_ != -1 || e_ != (err))                                  \
			fail_msg("%s = %d, errno %d (%s), want -1 (%s)",       \
			         #expr, rc_, e_, modbus_strerror(e_),          \
			         modbus_strerror(err));                        \
	} while (0)

/* Start metrolog-sim in dir (see h_sim_start()), or fail the test. */
static inline void start_in(struct h_sim *s, const char *dir, bool tcp,
                            bool rtu, const char *const extra[])
{
	if (h_sim_start(s, dir, tcp, rtu, extra) < 0)
		fail_msg("metrolog-sim did not start");
}

/* start_in() a fresh temporary directory. */
static inline void start(struct h_sim *s, bool tcp, bool rtu,
                         const char *const extra[])
{
	start_in(s, h_tmpdir(), tcp, rtu, extra);
}

/* Stop the simulator; it must exit 0. */
static inline void stop(struct h_sim *s)
{
	assert_int_equal(h_sim_stop(s), 0);
}

/* A connected libmodbus context for unit: RTU at 19200 8N1 on the pty rtu
 * when rtu is not NULL, else TCP to 127.0.0.1:port; response timeout
 * timeout_ms. Returns NULL (errno set) on error. */
static inline modbus_t *mb_open(const char *rtu, int port, int unit,
                                int timeout_ms)
{
	modbus_t *mb = rtu != NULL ? modbus_new_rtu(rtu, 19200, 'N', 8, 1)
	                           : modbus_new_tcp("127.0.0.1", port);
	int err;

	if (mb == NULL)
		return NULL;
	modbus_set_slave(mb, unit);
	modbus_set_response_timeout(mb, (uint32_t)(timeout_ms / 1000),
	                            (uint32_t)(timeout_ms % 1000) * 1000);
	if (modbus_connect(mb) < 0) {
		err = errno;
		modbus_free(mb);
		errno = err;
		return NULL;
	}
	return mb;
}

/* mb_open(), or fail the test. */
static inline modbus_t *mb_client(const char *rtu, int port, int unit,
                                  int timeout_ms)
{
	modbus_t *mb = mb_open(rtu, port, unit, timeout_ms);

	if (mb == NULL && rtu != NULL)
		fail_msg("open %s: %s", rtu, modbus_strerror(errno));
	else if (mb == NULL)
		fail_msg("connect to port %d: %s", port,
		         modbus_strerror(errno));
	return mb;
}

static inline void client_free(modbus_t *mb)
{
	modbus_close(mb);
	modbus_free(mb);
}

/* Read input registers 0 and 1 (the first channel) of mb's unit; returns
 * what libmodbus returns (2, or -1 with errno set). */
static inline int read_first(modbus_t *mb)
{
	uint16_t r[2];

	return modbus_read_input_registers(mb, 0, 2, r);
}

/* Through a fresh mb_client() for unit 1, read input registers 0..1 and
 * expect the read to fail with errno err; the client is freed. */
static inline void read_fails(const char *rtu, int port, int timeout_ms,
                              int err)
{
	modbus_t *mb = mb_client(rtu, port, 1, timeout_ms);

	assert_mb_err(read_first(mb), err);
	client_free(mb);
}

/* A plain TCP connection to 127.0.0.1:port, or fail the test. */
static inline int raw_connect(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Seconds on the monotonic clock. */
static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The value (FC 04, float32 ABCD) of channel ch; the read must succeed. */
static inline float read_value(modbus_t *mb, int ch)
{
	uint16_t r[2];

	assert_mb(modbus_read_input_registers(mb, 2 * ch, 2, r), 2);
	return modbus_get_float_abcd(r);
}

/* words registers holding a string, high byte first, into out (2 * words
 * + 1 bytes, NUL-terminated). */
static inline void reg_string(const uint16_t *r, unsigned words, char *out)
{
	unsigned i;

	for (i = 0; i < words; i++) {
		out[2 * i] = (char)(r[i] >> 8);
		out[2 * i + 1] = (char)(r[i] & 0xFF);
	}
	out[2 * words] = 0;
}

#endif
