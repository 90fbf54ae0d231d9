/*
 * test_sim_faults.c - metrolog-sim's injected faults, seen by libmodbus.
 *
 * --exception answers with that exception; --silent 1 gives the client a
 * timeout while another simulator answers; --corrupt 1 is a CRC error on
 * RTU and a transaction id mismatch on TCP; --drop-after closes the
 * connection after N requests and a reconnect works; --delay holds a reply
 * without blocking the other clients (one thread waits for the delayed
 * reply while the main thread is served on the same port); --fault-unit
 * limits faults to one unit; SIGUSR1 mutes and unmutes.
 *
 * Threading: the delay test runs one client in a second thread, with its
 * own libmodbus context; everything else runs on the main thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <modbus.h>

#include "harness.h"

#define assert_mb(expr, want)                                                  \
	do {                                                                   \
		int rc_ = (expr);                                              \
		if (rc_ != (want))                                             \
			fail_msg("%s = %d (%s), want %d", #expr, rc_,          \
			         modbus_strerror(errno), (int)(want));         \
	} while (0)

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

static int teardown(void **state)
{
	(void)state;
	h_cleanup();
	return 0;
}

static void start(struct h_sim *s, bool tcp, bool rtu,
                  const char *const extra[])
{
	if (h_sim_start(s, h_tmpdir(), tcp, rtu, extra) < 0)
		fail_msg("metrolog-sim did not start");
}

static void stop(struct h_sim *s)
{
	assert_int_equal(h_sim_stop(s), 0);
}

static modbus_t *client(const struct h_sim *s, bool rtu, int unit,
                        int timeout_ms)
{
	modbus_t *mb = rtu ? modbus_new_rtu(s->rtu, 19200, 'N', 8, 1)
	                   : modbus_new_tcp("127.0.0.1", s->port);

	assert_non_null(mb);
	modbus_set_slave(mb, unit);
	modbus_set_response_timeout(mb, (uint32_t)(timeout_ms / 1000),
	                            (uint32_t)(timeout_ms % 1000) * 1000);
	if (modbus_connect(mb) < 0)
		fail_msg("connect: %s", modbus_strerror(errno));
	return mb;
}

static void client_free(modbus_t *mb)
{
	modbus_close(mb);
	modbus_free(mb);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_exception(void **state)
{
	static const char *const extra[] = {"--exception", "4", NULL};
	struct h_sim s;
	uint16_t r[2];
	int rtu;

	(void)state;
	start(&s, true, true, extra);
	for (rtu = 0; rtu <= 1; rtu++) {
		modbus_t *mb = client(&s, rtu, 1, 3000);

		assert_mb_err(modbus_read_input_registers(mb, 0, 2, r),
		              EMBXSFAIL);
		assert_mb_err(modbus_write_register(mb, 0, 0xCA1B), EMBXSFAIL);
		client_free(mb);
	}
	stop(&s);
}

static void test_silent(void **state)
{
	static const char *const silent[] = {"--silent", "1", NULL};
	struct h_sim dead, alive;
	modbus_t *a, *b;
	uint16_t r[2];
	int rtu;

	(void)state;
	start(&dead, true, true, silent);
	start(&alive, true, false, NULL);
	b = client(&alive, false, 1, 500);
	for (rtu = 0; rtu <= 1; rtu++) {
		a = client(&dead, rtu, 1, 300);
		assert_mb_err(modbus_read_input_registers(a, 0, 2, r),
		              ETIMEDOUT);
		/* the other simulator answers within its 500 ms */
		assert_mb(modbus_read_input_registers(b, 0, 2, r), 2);
		client_free(a);
	}
	client_free(b);
	stop(&dead);
	stop(&alive);
}

static void test_corrupt(void **state)
{
	static const char *const extra[] = {"--corrupt", "1", NULL};
	struct h_sim s;
	modbus_t *mb;
	uint16_t r[2];

	(void)state;
	start(&s, true, true, extra);
	mb = client(&s, true, 1, 1000);
	assert_mb_err(modbus_read_input_registers(mb, 0, 2, r), EMBBADCRC);
	client_free(mb);
	mb = client(&s, false, 1, 1000);
	assert_mb_err(modbus_read_input_registers(mb, 0, 2, r), EMBBADDATA);
	client_free(mb);
	stop(&s);
}

static void test_drop_after(void **state)
{
	static const char *const extra[] = {"--drop-after", "3", NULL};
	struct h_sim s;
	modbus_t *mb;
	uint16_t r[2];
	int round, i;

	(void)state;
	start(&s, true, false, extra);
	mb = client(&s, false, 1, 1000);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < 3; i++)
			assert_mb(modbus_read_input_registers(mb, 0, 2, r), 2);
		assert_int_equal(modbus_read_input_registers(mb, 0, 2, r), -1);
		/* reconnect */
		modbus_close(mb);
		assert_mb(modbus_connect(mb), 0);
	}
	client_free(mb);
	stop(&s);
}

/* ---- delay -------------------------------------------------------------- */

struct delayed_read {
	const struct h_sim *sim;
	int rc, err;
	float value;
	double done;
};

static void *delayed_reader(void *arg)
{
	struct delayed_read *d = arg;
	modbus_t *mb = modbus_new_tcp("127.0.0.1", d->sim->port);
	uint16_t r[2];

	d->rc = -1;
	if (mb == NULL)
		return NULL;
	modbus_set_slave(mb, 1);
	modbus_set_response_timeout(mb, 1, 0);
	if (modbus_connect(mb) == 0) {
		d->rc = modbus_read_input_registers(mb, 0, 2, r);
		d->err = errno;
		d->value = modbus_get_float_abcd(r);
	}
	d->done = now_s();
	modbus_close(mb);
	modbus_free(mb);
	return NULL;
}

static void test_delay(void **state)
{
	static const char *const extra[] = {
	        "-n", "2", "--delay", "300", "--fault-unit", "1", NULL};
	struct h_sim s;
	struct delayed_read d = {0};
	pthread_t th;
	modbus_t *mb;
	uint16_t r[2];
	double t0, b_done;

	(void)state;
	start(&s, true, true, extra);
	d.sim = &s;
	t0 = now_s();
	assert_int_equal(pthread_create(&th, NULL, delayed_reader, &d), 0);
	usleep(100000);
	/* unit 2 on the same port, while unit 1's reply is held */
	mb = client(&s, false, 2, 1000);
	assert_mb(modbus_read_input_registers(mb, 0, 2, r), 2);
	b_done = now_s();
	client_free(mb);
	assert_int_equal(pthread_join(th, NULL), 0);
	if (d.rc != 2)
		fail_msg("delayed read: %s", modbus_strerror(d.err));
	assert_true(d.value == 20.0f);
	assert_true(d.done - t0 >= 0.3);
	assert_true(b_done < d.done);

	/* RTU: the held reply arrives within a 1 s timeout */
	mb = client(&s, true, 1, 1000);
	t0 = now_s();
	assert_mb(modbus_read_input_registers(mb, 0, 2, r), 2);
	assert_true(now_s() - t0 >= 0.3);
	client_free(mb);
	stop(&s);
}

/* ---- fault unit and mute ------------------------------------------------ */

static void test_fault_unit(void **state)
{
	static const char *const extra[] = {
	        "-n", "2", "--exception", "6", "--fault-unit", "2", NULL};
	struct h_sim s;
	modbus_t *mb;
	uint16_t r[2];

	(void)state;
	start(&s, true, false, extra);
	mb = client(&s, false, 1, 1000);
	assert_mb(modbus_read_input_registers(mb, 0, 2, r), 2);
	modbus_set_slave(mb, 2);
	assert_mb_err(modbus_read_input_registers(mb, 0, 2, r), EMBXSBUSY);
	client_free(mb);
	stop(&s);
}

static void test_mute(void **state)
{
	struct h_sim s;
	modbus_t *mb;
	uint16_t r[2];
	int i, rc = 0;

	(void)state;
	start(&s, true, false, NULL);
	mb = client(&s, false, 1, 200);
	assert_mb(modbus_read_input_registers(mb, 0, 2, r), 2);
	assert_int_equal(kill(s.pid, SIGUSR1), 0);
	/* the signal is handled on the simulator's loop: allow a moment */
	for (i = 0; i < 20; i++) {
		rc = modbus_read_input_registers(mb, 0, 2, r);
		if (rc == -1)
			break;
	}
	assert_int_equal(rc, -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_int_equal(kill(s.pid, SIGUSR1), 0);
	usleep(100000);
	/* a fresh connection: the old one may still see late replies */
	client_free(mb);
	mb = client(&s, false, 1, 1000);
	assert_mb(modbus_read_input_registers(mb, 0, 2, r), 2);
	client_free(mb);
	stop(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_exception, teardown),
	        cmocka_unit_test_teardown(test_silent, teardown),
	        cmocka_unit_test_teardown(test_corrupt, teardown),
	        cmocka_unit_test_teardown(test_drop_after, teardown),
	        cmocka_unit_test_teardown(test_delay, teardown),
	        cmocka_unit_test_teardown(test_fault_unit, teardown),
	        cmocka_unit_test_teardown(test_mute, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
