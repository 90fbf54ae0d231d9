/*
 * test_sim_behaviour.c - what metrolog-sim simulates, seen through libmodbus.
 *
 * Physics: drift under time acceleration (1 unit per simulated second at
 * 100 simulated seconds per real second), a step and a sensor fault at
 * given simulated times, the measuring range, and reproducible noise for a
 * seed. Addressing: several instruments on one TCP port (unit ids, the
 * gateway exception 0x0B for an unknown unit, broadcast writes), silence
 * for an unknown unit on RTU, and one port per instrument answering any
 * unit id.
 *
 * Threading: one thread.
 */
#define _GNU_SOURCE
#include <math.h>
#include <poll.h>
#include <setjmp.h>
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

static void serial_of(modbus_t *mb, char *out)
{
	uint16_t r[8];

	assert_mb(modbus_read_input_registers(mb, 3030, 8, r), 8);
	reg_string(r, 8, out);
}

/* ---- physics ------------------------------------------------------------ */

static void test_drift_accelerated(void **state)
{
	static const char *const extra[] = {"-a", "100", "-c",
	                                    "0:nominal=20,drift=86400", NULL};
	struct h_sim s;
	modbus_t *mb;
	double a0, a1, b0, b1, lo, hi;
	float v1, v2;

	(void)state;
	start(&s, true, false, extra);
	mb = mb_client(NULL, s.port, 1, 3000);
	a0 = now_s();
	v1 = read_value(mb, 0);
	a1 = now_s();
	usleep(500000);
	b0 = now_s();
	v2 = read_value(mb, 0);
	b1 = now_s();
	/* 1 unit per simulated second, 100 simulated seconds per second:
	 * the difference is 100 x the real time between the two samples,
	 * which lies between b0 - a1 and b1 - a0. */
	lo = 100.0 * (b0 - a1) - 1.0;
	hi = 100.0 * (b1 - a0) + 1.0;
	if (!((double)(v2 - v1) >= lo && (double)(v2 - v1) <= hi))
		fail_msg("difference %g, want %g..%g", (double)(v2 - v1), lo,
		         hi);
	assert_true(v2 - v1 > 45.0f && v2 - v1 < 80.0f);
	assert_true(v1 >= 20.0f);
	client_free(mb);
	stop(&s);
}

static void test_step_fault_range(void **state)
{
	static const char *const before_args[] = {
	        "-c", "1:step=5,step_at=3600", "-c", "2:fault_at=3600",
	        "-c", "3:lo=0,hi=10",          NULL};
	static const char *const after_args[] = {"-a", "1e6",
	                                         "-c", "1:step=5,step_at=3600",
	                                         "-c", "2:fault_at=3600",
	                                         NULL};
	struct h_sim s;
	modbus_t *mb;
	uint16_t st[4];
	uint8_t b[4];

	(void)state;
	/* real time: an hour of simulated time is far away */
	start(&s, true, false, before_args);
	mb = mb_client(NULL, s.port, 1, 3000);
	assert_true(read_value(mb, 1) == 21.0f);
	assert_true(read_value(mb, 2) == 22.0f);
	assert_mb(modbus_read_input_bits(mb, 0, 4, b), 4);
	assert_false(b[0] || b[1] || b[2] || b[3]);
	/* channel 3 (23) is over its range 0..10 */
	assert_mb(modbus_read_input_bits(mb, 1000, 4, b), 4);
	assert_true(!b[0] && !b[1] && !b[2] && b[3]);
	assert_mb(modbus_read_input_registers(mb, 2000, 4, st), 4);
	assert_int_equal(st[3], 1u << 1);
	client_free(mb);
	stop(&s);

	/* a million times faster: the hour is past within 4 ms (wait
	 * 50 ms, so it is past whatever the speed of this machine) */
	start(&s, true, false, after_args);
	nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
	mb = mb_client(NULL, s.port, 1, 3000);
	assert_true(read_value(mb, 1) == 26.0f);
	assert_true(isnan(read_value(mb, 2)));
	assert_mb(modbus_read_input_bits(mb, 0, 4, b), 4);
	assert_true(!b[0] && !b[1] && b[2] && !b[3]);
	assert_mb(modbus_read_input_registers(mb, 2000, 4, st), 4);
	assert_int_equal(st[2], 1u << 0);
	client_free(mb);
	stop(&s);
}

/* The first n noisy readings of channel 0 with a seed. */
static void noisy_readings(const char *seed, float *v, int n)
{
	const char *const extra[] = {"--seed", seed, "-c",
	                             "0:nominal=100,noise=2", NULL};
	struct h_sim s;
	modbus_t *mb;
	int i;

	start(&s, true, false, extra);
	mb = mb_client(NULL, s.port, 1, 3000);
	for (i = 0; i < n; i++)
		v[i] = read_value(mb, 0);
	client_free(mb);
	stop(&s);
}

static void test_noise_reproducible(void **state)
{
	float a[20], b[20], c[20];
	double mean = 0;
	int i;

	(void)state;
	noisy_readings("7", a, 20);
	noisy_readings("7", b, 20);
	noisy_readings("8", c, 20);
	assert_memory_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, c, sizeof(a));
	for (i = 0; i < 20; i++) {
		assert_true(fabsf(a[i] - 100.0f) < 12.0f); /* 6 sigma */
		mean += a[i] / 20.0;
	}
	assert_true(fabs(mean - 100.0) < 3.0); /* 6 sigma of the mean */
}

/* ---- units and ports ---------------------------------------------------- */

/* true when nothing arrives on fd within ms milliseconds */
static bool silent_for(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, ms) == 0;
}

static void test_shared_port(void **state)
{
	static const char *const extra[] = {"-n", "3", NULL};
	/* FC 05, coil 2 off, unit 0 (broadcast) */
	static const uint8_t bcast[] = {0, 9, 0, 0, 0, 6, 0, 5, 0, 2, 0, 0};
	struct h_sim s;
	modbus_t *mb;
	uint8_t b[4];
	char serial[17];
	int fd, unit;

	(void)state;
	start(&s, true, false, extra);
	mb = mb_client(NULL, s.port, 2, 3000);
	serial_of(mb, serial);
	assert_string_equal(serial, "SIM0002");
	modbus_set_slave(mb, 3);
	serial_of(mb, serial);
	assert_string_equal(serial, "SIM0003");
	/* a unit that is not there: "gateway target device failed" */
	modbus_set_slave(mb, 9);
	assert_mb_err(read_first(mb), EMBXGTAR);
	modbus_set_slave(mb, 255);
	assert_mb_err(read_first(mb), EMBXGTAR);

	/* broadcast: every instrument performs the write, none answers */
	fd = raw_connect(s.port);
	assert_int_equal(write(fd, bcast, sizeof(bcast)), sizeof(bcast));
	assert_true(silent_for(fd, 300));
	close(fd);
	for (unit = 1; unit <= 3; unit++) {
		modbus_set_slave(mb, unit);
		assert_mb(modbus_read_bits(mb, 0, 4, b), 4);
		assert_true(b[0] && b[1] && !b[2] && b[3]);
	}
	client_free(mb);
	stop(&s);
}

static void test_rtu_units(void **state)
{
	static const char *const extra[] = {"-n", "3", NULL};
	struct h_sim s;
	modbus_t *mb;
	uint8_t b[4];
	char serial[17];
	int unit;

	(void)state;
	start(&s, false, true, extra);
	mb = mb_client(s.rtu, 0, 3, 3000);
	serial_of(mb, serial);
	assert_string_equal(serial, "SIM0003");
	/* an unknown unit is silence on a serial line */
	modbus_set_slave(mb, 9);
	modbus_set_response_timeout(mb, 0, 300000);
	assert_mb_err(read_first(mb), ETIMEDOUT);
	/* broadcast write (libmodbus expects no reply for unit 0) */
	modbus_set_slave(mb, 0);
	modbus_write_bit(mb, 1, 0);
	modbus_set_response_timeout(mb, 3, 0);
	usleep(100000);
	modbus_flush(mb);
	for (unit = 1; unit <= 3; unit++) {
		modbus_set_slave(mb, unit);
		assert_mb(modbus_read_bits(mb, 0, 4, b), 4);
		assert_true(b[0] && !b[1] && b[2] && b[3]);
	}
	client_free(mb);
	stop(&s);
}

static void test_port_per_instrument(void **state)
{
	static const char *const extra[] = {"-n", "3", "--port-per-instrument",
	                                    NULL};
	struct h_sim s;
	char path[H_PATH_MAX], buf[256], serial[17];
	const char *dir = h_tmpdir();
	int port[3], i;

	(void)state;
	start_in(&s, dir, true, false, extra);
	assert_true(h_read_file(h_path(path, dir, "sim.port"), buf,
	                        sizeof(buf)) > 0);
	assert_int_equal(sscanf(buf, "%d %d %d", &port[0], &port[1], &port[2]),
	                 3);
	assert_int_equal(port[0], s.port);
	for (i = 0; i < 3; i++) {
		static const int units[] = {1, 0, 255, 7};
		char want[17];
		int u;

		snprintf(want, sizeof(want), "SIM%04d", i + 1);
		for (u = 0; u < 4; u++) {
			modbus_t *mb = mb_client(NULL, port[i], units[u], 3000);

			serial_of(mb, serial);
			assert_string_equal(serial, want);
			client_free(mb);
		}
	}
	stop(&s);
	/* the port file goes with the simulator */
	assert_int_equal(access(path, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_drift_accelerated, h_teardown),
	        cmocka_unit_test_teardown(test_step_fault_range, h_teardown),
	        cmocka_unit_test_teardown(test_noise_reproducible, h_teardown),
	        cmocka_unit_test_teardown(test_shared_port, h_teardown),
	        cmocka_unit_test_teardown(test_rtu_units, h_teardown),
	        cmocka_unit_test_teardown(test_port_per_instrument, h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
