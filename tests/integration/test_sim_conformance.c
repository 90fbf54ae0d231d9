/*
 * test_sim_conformance.c - metrolog-sim against a real libmodbus client.
 *
 * Every test runs twice: over Modbus TCP and over Modbus RTU on the
 * simulator's pseudo-terminal, each time against a fresh simulator with
 * 2 instruments x 4 channels and noise-free physics, so values are exact:
 * nominal 20.5 reads as float 20.5 and counts 20500. Covered: function
 * codes 01, 02, 03, 04, 05, 06, 15, 16, 23 and 43/14, FC 17 refused with
 * exception 01, exceptions 02 (outside the map), 03 (bad value) and 04
 * (calibration locked), the unlock-write-read back cycle, the identity
 * registers and the device identification objects.
 *
 * libmodbus 3.1.6 does not know the length of an FC 43 response (it reads
 * two bytes of it), so device identification is sent with
 * modbus_send_raw_request() and its reply read from the context's
 * descriptor here: by the MBAP length on TCP, up to the silence (and
 * checked against its CRC) on RTU.
 *
 * Threading: one thread (cmocka runs the tests one after another).
 */
#define _GNU_SOURCE
#include <errno.h>
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

struct fx {
	struct h_sim sim;
	modbus_t *mb;
	bool rtu;
};

static int setup(void **state, bool rtu)
{
	static const char *const extra[] = {"-n", "2",
	                                    "-m", "4",
	                                    "-c", "0:nominal=20.5",
	                                    "-c", "1:nominal=-3.25",
	                                    "-c", "2.2:nominal=7",
	                                    NULL};
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	*state = fx;
	fx->rtu = rtu;
	if (h_sim_start(&fx->sim, h_tmpdir(), true, true, extra) < 0)
		return -1;
	fx->mb = mb_open(rtu ? fx->sim.rtu : NULL, fx->sim.port, 1, 3000);
	return fx->mb != NULL ? 0 : -1;
}

static int setup_tcp(void **state)
{
	return setup(state, false);
}

static int setup_rtu(void **state)
{
	return setup(state, true);
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;
	int st = 0;

	if (fx == NULL)
		return 0;
	if (fx->mb != NULL)
		client_free(fx->mb);
	if (fx->sim.pid > 0)
		st = h_sim_stop(&fx->sim);
	h_cleanup();
	free(fx);
	if (st != 0) {
		fprintf(stderr, "metrolog-sim exit status %d\n", st);
		return -1;
	}
	return 0;
}

/* float32 into two registers, high word first. (libmodbus 3.1.6's
 * modbus_set_float_abcd() swaps the bytes; its getter is right.) */
static void put_float(float f, uint16_t *r)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	r[0] = (uint16_t)(u >> 16);
	r[1] = (uint16_t)(u & 0xFFFF);
}

static int32_t reg_i32(const uint16_t *r)
{
	return (int32_t)((uint32_t)r[0] << 16 | r[1]);
}

/* ---- function codes ----------------------------------------------------- */

static void test_input_registers(void **state)
{
	struct fx *fx = *state;
	uint16_t r[32];
	char s[40];

	/* FC 04: values (float32 ABCD) of the 4 channels */
	assert_mb(modbus_read_input_registers(fx->mb, 0, 8, r), 8);
	assert_true(modbus_get_float_abcd(r) == 20.5f);
	assert_true(modbus_get_float_abcd(r + 2) == -3.25f);
	assert_true(modbus_get_float_abcd(r + 4) == 22.0f); /* 20 + C */
	assert_true(modbus_get_float_abcd(r + 6) == 23.0f);
	/* counts: value * 1000 */
	assert_mb(modbus_read_input_registers(fx->mb, 1000, 8, r), 8);
	assert_int_equal(reg_i32(r), 20500);
	assert_int_equal(reg_i32(r + 2), -3250);
	assert_int_equal(reg_i32(r + 4), 22000);
	/* status: all clear */
	assert_mb(modbus_read_input_registers(fx->mb, 2000, 4, r), 4);
	assert_int_equal(r[0] | r[1] | r[2] | r[3], 0);
	/* uptime, channel count, firmware version */
	assert_mb(modbus_read_input_registers(fx->mb, 3000, 4, r), 4);
	assert_true(reg_i32(r) >= 0 && reg_i32(r) < 60);
	assert_int_equal(r[2], 4);
	assert_int_equal(r[3], 0x0100);
	/* model and serial */
	assert_mb(modbus_read_input_registers(fx->mb, 3010, 16, r), 16);
	reg_string(r, 16, s);
	assert_string_equal(s, "MLN-1 simulated lab node");
	assert_mb(modbus_read_input_registers(fx->mb, 3030, 8, r), 8);
	reg_string(r, 8, s);
	assert_string_equal(s, "SIM0001");
}

static void test_unit_specific_physics(void **state)
{
	struct fx *fx = *state;
	uint16_t r[2];

	/* -c 2.2:nominal=7 applies to unit 2 only */
	assert_mb(modbus_read_input_registers(fx->mb, 4, 2, r), 2);
	assert_true(modbus_get_float_abcd(r) == 22.0f);
	modbus_set_slave(fx->mb, 2);
	assert_mb(modbus_read_input_registers(fx->mb, 4, 2, r), 2);
	assert_true(modbus_get_float_abcd(r) == 7.0f);
	assert_mb(modbus_read_input_registers(fx->mb, 0, 2, r), 2);
	assert_true(modbus_get_float_abcd(r) == 20.5f);
}

static void test_bits(void **state)
{
	struct fx *fx = *state;
	uint8_t b[8], w[4] = {1, 0, 1, 0};
	uint16_t st[4], v[2];

	/* FC 01: every channel enabled; FC 02: no fault, in range */
	assert_mb(modbus_read_bits(fx->mb, 0, 4, b), 4);
	assert_true(b[0] && b[1] && b[2] && b[3]);
	assert_mb(modbus_read_input_bits(fx->mb, 0, 4, b), 4);
	assert_false(b[0] || b[1] || b[2] || b[3]);
	assert_mb(modbus_read_input_bits(fx->mb, 1000, 4, b), 4);
	assert_false(b[0] || b[1] || b[2] || b[3]);

	/* FC 05: disable channel 1: its status says so, its value is NaN */
	assert_mb(modbus_write_bit(fx->mb, 1, 0), 1);
	assert_mb(modbus_read_bits(fx->mb, 0, 4, b), 4);
	assert_true(b[0] && !b[1] && b[2] && b[3]);
	assert_mb(modbus_read_input_registers(fx->mb, 2000, 4, st), 4);
	assert_int_equal(st[1], 1u << 3);
	assert_mb(modbus_read_input_registers(fx->mb, 2, 2, v), 2);
	assert_true(isnan(modbus_get_float_abcd(v)));

	/* FC 15 */
	assert_mb(modbus_write_bits(fx->mb, 0, 4, w), 4);
	assert_mb(modbus_read_bits(fx->mb, 0, 4, b), 4);
	assert_memory_equal(b, w, 4);
}

static void test_calibration(void **state)
{
	struct fx *fx = *state;
	uint16_t r[4], w[2];

	/* FC 03: locked; FC 16 to a gain while locked: exception 04 */
	assert_mb(modbus_read_registers(fx->mb, 0, 1, r), 1);
	assert_int_equal(r[0], 0);
	put_float(2.0f, w);
	assert_mb_err(modbus_write_registers(fx->mb, 1000, 2, w), EMBXSFAIL);
	assert_mb_err(modbus_write_register(fx->mb, 2001, 5), EMBXSFAIL);

	/* FC 06: unlock */
	assert_mb(modbus_write_register(fx->mb, 0, 0xCA1B), 1);
	assert_mb(modbus_read_registers(fx->mb, 0, 1, r), 1);
	assert_int_equal(r[0], 1);

	/* FC 16: gain 2 on channel 0, read back, applied to the value */
	assert_mb(modbus_write_registers(fx->mb, 1000, 2, w), 2);
	assert_mb(modbus_read_registers(fx->mb, 1000, 4, r), 4);
	assert_true(modbus_get_float_abcd(r) == 2.0f);
	assert_true(modbus_get_float_abcd(r + 2) == 0.0f);
	assert_mb(modbus_read_input_registers(fx->mb, 0, 2, r), 2);
	assert_true(modbus_get_float_abcd(r) == 41.0f);

	/* FC 23: write the offset, read gain and offset in one exchange */
	put_float(1.0f, w);
	assert_mb(
	        modbus_write_and_read_registers(fx->mb, 1002, 2, w, 1000, 4, r),
	        4);
	assert_true(modbus_get_float_abcd(r) == 2.0f);
	assert_true(modbus_get_float_abcd(r + 2) == 1.0f);
	assert_mb(modbus_read_input_registers(fx->mb, 0, 2, r), 2);
	assert_true(modbus_get_float_abcd(r) == 42.0f);
	assert_mb(modbus_read_input_registers(fx->mb, 1000, 2, r), 2);
	assert_int_equal(reg_i32(r), 42000);

	/* exception 03: a gain that is not finite, a date that is not one */
	put_float(NAN, w);
	assert_mb_err(modbus_write_registers(fx->mb, 1004, 2, w), EMBXILVAL);
	assert_mb_err(modbus_write_register(fx->mb, 2001, 13), EMBXILVAL);
	r[0] = 2024;
	r[1] = 5;
	r[2] = 17;
	assert_mb(modbus_write_registers(fx->mb, 2000, 3, r), 3);
	assert_mb(modbus_read_registers(fx->mb, 2000, 3, r), 3);
	assert_true(r[0] == 2024 && r[1] == 5 && r[2] == 17);

	/* lock again: writes refused, the gain stays */
	assert_mb(modbus_write_register(fx->mb, 0, 0), 1);
	put_float(3.0f, w);
	assert_mb_err(modbus_write_registers(fx->mb, 1000, 2, w), EMBXSFAIL);
	assert_mb(modbus_read_registers(fx->mb, 1000, 2, r), 2);
	assert_true(modbus_get_float_abcd(r) == 2.0f);
}

static void test_illegal_address(void **state)
{
	struct fx *fx = *state;
	uint16_t r[16];
	uint8_t b[8];

	/* 4 channels: values are 0..7; 8 is past the map */
	assert_mb_err(modbus_read_input_registers(fx->mb, 8, 1, r), EMBXILADD);
	assert_mb_err(modbus_read_input_registers(fx->mb, 6, 4, r), EMBXILADD);
	assert_mb_err(modbus_read_input_registers(fx->mb, 3030, 9, r),
	              EMBXILADD);
	assert_mb_err(modbus_read_registers(fx->mb, 5000, 1, r), EMBXILADD);
	assert_mb_err(modbus_read_bits(fx->mb, 4, 1, b), EMBXILADD);
	assert_mb_err(modbus_read_input_bits(fx->mb, 2000, 1, b), EMBXILADD);
	assert_mb_err(modbus_write_bit(fx->mb, 64, 1), EMBXILADD);
	/* half a float: exception 02 */
	assert_mb(modbus_write_register(fx->mb, 0, 0xCA1B), 1);
	assert_mb_err(modbus_write_register(fx->mb, 1001, 0), EMBXILADD);
	/* the connection still works */
	assert_mb(modbus_read_input_registers(fx->mb, 0, 2, r), 2);
}

static void test_report_slave_id_refused(void **state)
{
	struct fx *fx = *state;
	uint8_t buf[64];

	assert_mb_err(modbus_report_slave_id(fx->mb, sizeof(buf), buf),
	              EMBXILFUN);
	assert_mb(modbus_read_input_registers(fx->mb, 3002, 1, (uint16_t *)buf),
	          1);
}

/* ---- device identification (FC 43 / MEI 14) ---------------------------- */

static uint16_t crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xFFFF;
	size_t i;
	int b;

	for (i = 0; i < n; i++) {
		crc ^= p[i];
		for (b = 0; b < 8; b++)
			crc = crc & 1 ? (uint16_t)(crc >> 1 ^ 0xA001)
			              : (uint16_t)(crc >> 1);
	}
	return crc;
}

/* Read into buf until want bytes (want > 0) or, when want is 0, until
 * 100 ms of silence after at least one byte. Returns the count. */
static size_t read_raw(int fd, uint8_t *buf, size_t size, size_t want)
{
	size_t n = 0;
	int waited = 0;

	while (n < size && (want == 0 || n < want) && waited < 3000) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&p, 1, 100) <= 0) {
			waited += 100;
			if (want == 0 && n > 0)
				break;
			continue;
		}
		r = read(fd, buf + n, (want ? want : size) - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	return n;
}

/* Send an FC 43/14 request (read code, object) to unit 1 and return the
 * response PDU in pdu (its length, or -1). */
static int devid_exchange(struct fx *fx, uint8_t code, uint8_t object,
                          uint8_t *pdu)
{
	const uint8_t req[] = {1, 0x2B, 0x0E, code, object};
	uint8_t adu[300];
	int fd = modbus_get_socket(fx->mb);
	size_t n;

	if (modbus_send_raw_request(fx->mb, req, sizeof(req)) < 0)
		return -1;
	if (fx->rtu) {
		n = read_raw(fd, adu, sizeof(adu), 0);
		if (n < 5 || adu[0] != 1 ||
		    crc16(adu, n - 2) != (adu[n - 2] | adu[n - 1] << 8))
			return -1;
		memcpy(pdu, adu + 1, n - 3);
		return (int)(n - 3);
	}
	if (read_raw(fd, adu, sizeof(adu), 6) != 6)
		return -1;
	n = (size_t)(adu[4] << 8 | adu[5]);
	if (n < 2 || n > 254 || read_raw(fd, adu + 6, n, n) != n)
		return -1;
	memcpy(pdu, adu + 7, n - 1);
	return (int)(n - 1);
}

/* Find object id in an FC 43/14 response; copy its value to out. */
static bool devid_find(const uint8_t *pdu, int len, uint8_t id, char *out)
{
	int i, k, nobj;

	if (len < 7 || pdu[0] != 0x2B || pdu[1] != 0x0E)
		return false;
	nobj = pdu[6];
	for (i = 7, k = 0; k < nobj && i + 2 <= len; k++) {
		int olen = pdu[i + 1];

		if (i + 2 + olen > len)
			return false;
		if (pdu[i] == id) {
			memcpy(out, pdu + i + 2, (size_t)olen);
			out[olen] = 0;
			return true;
		}
		i += 2 + olen;
	}
	return false;
}

static void expect_object(struct fx *fx, uint8_t id, const char *want)
{
	uint8_t pdu[256];
	char v[256];
	int n = devid_exchange(fx, 0x04, id, pdu);

	if (n < 0)
		fail_msg("object 0x%02x: no valid response", id);
	if (!devid_find(pdu, n, id, v))
		fail_msg("object 0x%02x not in the response", id);
	assert_string_equal(v, want);
}

static void test_device_identification(void **state)
{
	struct fx *fx = *state;
	uint8_t pdu[256];
	char v[256];
	int n;

	expect_object(fx, 0x00, "metrolog");
	expect_object(fx, 0x01, "MLN-1");
	expect_object(fx, 0x02, "1.0");
	expect_object(fx, 0x03, "https://metrolog.invalid/mln-1");
	expect_object(fx, 0x04, "metrolog lab node");
	expect_object(fx, 0x05, "MLN-1 simulated lab node");
	expect_object(fx, 0x80, "SIM0001");

	/* basic stream: objects 0, 1, 2 in one response */
	n = devid_exchange(fx, 0x01, 0x00, pdu);
	assert_true(n > 0);
	assert_true(devid_find(pdu, n, 0x00, v));
	assert_string_equal(v, "metrolog");
	assert_true(devid_find(pdu, n, 0x02, v));
	assert_string_equal(v, "1.0");

	/* an object that does not exist: exception 02 */
	n = devid_exchange(fx, 0x04, 0x42, pdu);
	assert_int_equal(n, 2);
	assert_int_equal(pdu[0], 0x2B | 0x80);
	assert_int_equal(pdu[1], 0x02);

	/* the exchange leaves the line clean for libmodbus */
	assert_mb(modbus_read_input_registers(fx->mb, 3002, 1, (uint16_t *)pdu),
	          1);
}

#define BOTH(t)                                                                \
	cmocka_unit_test_setup_teardown(t, setup_tcp, fx_teardown),            \
	        cmocka_unit_test_setup_teardown(t, setup_rtu, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        BOTH(test_input_registers),
	        BOTH(test_unit_specific_physics),
	        BOTH(test_bits),
	        BOTH(test_calibration),
	        BOTH(test_illegal_address),
	        BOTH(test_report_slave_id_refused),
	        BOTH(test_device_identification),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
