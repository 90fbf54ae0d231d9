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
#include <unistd.h>

#include <cmocka.h>
#include <modbus.h>

#include "harness.h"
#include "simtest.h"

static void test_exception(void **state)
{
	static const char *const extra[] = {"--exception", "4", NULL};
	struct h_sim s;
	int rtu;

	(void)state;
	start(&s, true, true, extra);
	for (rtu = 0; rtu <= 1; rtu++) {
		modbus_t *mb = mb_client(rtu ? s.rtu : NULL, s.port, 1, 3000);

		assert_mb_err(read_first(mb), EMBXSFAIL);
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
	int rtu;

	(void)state;
	start(&dead, true, true, silent);
	start(&alive, true, false, NULL);
	b = mb_client(NULL, alive.port, 1, 500);
	for (rtu = 0; rtu <= 1; rtu++) {
		a = mb_client(rtu ? dead.rtu : NULL, dead.port, 1, 300);
		assert_mb_err(read_first(a), ETIMEDOUT);
		/* the other simulator answers within its 500 ms */
		assert_mb(read_first(b), 2);
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

	(void)state;
	start(&s, true, true, extra);
	read_fails(s.rtu, 0, 1000, EMBBADCRC);
	read_fails(NULL, s.port, 1000, EMBBADDATA);
	stop(&s);
}

static void test_drop_after(void **state)
{
	static const char *const extra[] = {"--drop-after", "3", NULL};
	struct h_sim s;
	modbus_t *mb;
	int round, i;

	(void)state;
	start(&s, true, false, extra);
	mb = mb_client(NULL, s.port, 1, 1000);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < 3; i++)
			assert_mb(read_first(mb), 2);
		assert_int_equal(read_first(mb), -1);
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
	modbus_t *mb = mb_open(NULL, d->sim->port, 1, 1000);
	uint16_t r[2];

	d->rc = -1;
	d->err = errno;
	if (mb == NULL)
		return NULL;
	d->rc = modbus_read_input_registers(mb, 0, 2, r);
	d->err = errno;
	d->value = modbus_get_float_abcd(r);
	d->done = now_s();
	client_free(mb);
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
	double t0, b_done;

	(void)state;
	start(&s, true, true, extra);
	d.sim = &s;
	t0 = now_s();
	assert_int_equal(pthread_create(&th, NULL, delayed_reader, &d), 0);
	usleep(100000);
	/* unit 2 on the same port, while unit 1's reply is held */
	mb = mb_client(NULL, s.port, 2, 1000);
	assert_mb(read_first(mb), 2);
	b_done = now_s();
	client_free(mb);
	assert_int_equal(pthread_join(th, NULL), 0);
	if (d.rc != 2)
		fail_msg("delayed read: %s", modbus_strerror(d.err));
	assert_true(d.value == 20.0f);
	assert_true(d.done - t0 >= 0.3);
	assert_true(b_done < d.done);

	/* RTU: the held reply arrives within a 1 s timeout */
	mb = mb_client(s.rtu, 0, 1, 1000);
	t0 = now_s();
	assert_mb(read_first(mb), 2);
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

	(void)state;
	start(&s, true, false, extra);
	mb = mb_client(NULL, s.port, 1, 1000);
	assert_mb(read_first(mb), 2);
	modbus_set_slave(mb, 2);
	assert_mb_err(read_first(mb), EMBXSBUSY);
	client_free(mb);
	stop(&s);
}

static void test_mute(void **state)
{
	struct h_sim s;
	modbus_t *mb;
	int i, rc = 0;

	(void)state;
	start(&s, true, false, NULL);
	mb = mb_client(NULL, s.port, 1, 200);
	assert_mb(read_first(mb), 2);
	assert_int_equal(kill(s.pid, SIGUSR1), 0);
	/* the signal is handled on the simulator's loop: allow a moment */
	for (i = 0; i < 20; i++) {
		rc = read_first(mb);
		if (rc == -1)
			break;
	}
	assert_int_equal(rc, -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_int_equal(kill(s.pid, SIGUSR1), 0);
	usleep(100000);
	/* a fresh connection: the old one may still see late replies */
	client_free(mb);
	mb = mb_client(NULL, s.port, 1, 1000);
	assert_mb(read_first(mb), 2);
	client_free(mb);
	stop(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_exception, h_teardown),
	        cmocka_unit_test_teardown(test_silent, h_teardown),
	        cmocka_unit_test_teardown(test_corrupt, h_teardown),
	        cmocka_unit_test_teardown(test_drop_after, h_teardown),
	        cmocka_unit_test_teardown(test_delay, h_teardown),
	        cmocka_unit_test_teardown(test_fault_unit, h_teardown),
	        cmocka_unit_test_teardown(test_mute, h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
