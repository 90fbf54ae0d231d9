/*
 * test_qemu_node.c - the Cortex-M firmware (firmware/port/mps2-an386) run
 * in QEMU's mps2-an386 machine and questioned over Modbus RTU by
 * libmodbus, the way the gateway will question a real board.
 *
 * QEMU connects the board's UART0 to a pseudo-terminal (-serial pty) and
 * names it in its log ("char device redirected to /dev/pts/N"); the test
 * opens that pty as a 19200 8N1 serial line and talks to unit 1. The same
 * ELF image would run on an MPS2 board, so this checks the startup code,
 * the UART and SysTick drivers and the portable core together, in the
 * machine code the compiler produced for the target.
 *
 * Frames libmodbus cannot produce or parse (a bad CRC, a truncated frame,
 * the FC 43/14 device identification response) go through the pty's file
 * descriptor directly.
 *
 * A request that times out is sent again (up to RETRIES times), and the
 * retries are counted: QEMU's emulated UART takes the next byte from the
 * host only when QEMU's main loop runs, and on a host whose cores are busy
 * elsewhere that thread now and then waits a few milliseconds for a CPU,
 * longer than the 3.5-character silence (2 ms at 19200 baud) that ends a
 * frame, so the node rightly drops the pieces. (Measured on 2 cores: 4 in
 * 10000 requests at load average 2.5, about 1 in 100 at 5, 1 in 20 with
 * three more CPU hogs on top.) A master on a real line retries the same
 * way. The count is printed, not checked: how many a host needs depends
 * on what else runs on it (17 % beside stress-ng --cpu 2 and a valgrind
 * pass), and a request that still fails after RETRIES fails its test.
 *
 * One QEMU for the whole group; the harness kills it by PID at the end,
 * or if the test dies.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <modbus.h>

#include "harness.h"
#include "node.h"

#define UNIT             1
#define BAUD             19200
#define CHANNELS         4
#define START_TIMEOUT_MS 15000
#define REPLY_TIMEOUT_MS 1000
#define SILENCE_MS       300 /* long enough to be sure no reply is coming */
#define RETRIES          30 /* beside stress-ng --cpu 2 about 3 tries in 10 fail */

/* What main.c of the port puts in the node. */
#define MODEL        "ML-NODE-M4 MPS2-AN386"
#define SERIAL       "MPS2-AN386-0001"
#define VENDOR       "metrolog"
#define PRODUCT_CODE "ML-NODE-M4"
#define REVISION     "1.0"

/* Plausible readings of the four simulated channels. */
static const struct {
	const char *what;
	float lo, hi;
} plausible[CHANNELS] = {
        {"temperature", 19.9f, 20.1f},
        {"humidity", 44.0f, 46.0f},
        {"pressure", 101.2f, 101.45f},
        {"voltage", 9.99f, 10.01f},
};

struct qemu_node {
	pid_t pid;
	char log[H_PATH_MAX];
	char pty[H_PATH_MAX];
	modbus_t *mb;
	int fd;
};

static struct qemu_node qn;
static int requests, retries;

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void dump_log(void)
{
	char buf[4096];

	if (h_read_file(qn.log, buf, sizeof(buf)) > 0)
		fprintf(stderr, "---- qemu log (%s) ----\n%s----\n", qn.log,
		        buf);
}

/* Find "/dev/pts/N" in QEMU's log. Returns 0, or -1 if it never came. */
static int wait_pty(int timeout_ms)
{
	static const char tag[] = "char device redirected to ";
	char buf[4096];

	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		if (h_read_file(qn.log, buf, sizeof(buf)) > 0) {
			const char *p = strstr(buf, tag);
			if (p != NULL) {
				p += sizeof(tag) - 1;
				size_t n = strcspn(p, " \r\n");
				if (n > 0 && n < sizeof(qn.pty)) {
					memcpy(qn.pty, p, n);
					qn.pty[n] = '\0';
					return 0;
				}
			}
		}
		if (!h_alive(qn.pid))
			return -1;
		sleep_ms(20);
	}
	return -1;
}

/* ---- raw frames ---------------------------------------------------------- */

static uint16_t crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xFFFF;

	while (n--) {
		crc ^= *p++;
		for (int i = 0; i < 8; i++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001)
			                : (uint16_t)(crc >> 1);
	}
	return crc;
}

/* Read what arrives on the pty until the line has been quiet for quiet_ms
 * (or first_ms passed with nothing at all). Returns the byte count. */
static size_t read_raw(uint8_t *buf, size_t size, int first_ms, int quiet_ms)
{
	struct pollfd pfd = {.fd = qn.fd, .events = POLLIN};
	size_t n = 0;

	for (;;) {
		int r = poll(&pfd, 1, n == 0 ? first_ms : quiet_ms);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return n;
		ssize_t got = read(qn.fd, buf + n, size - n);
		if (got <= 0)
			return n;
		n += (size_t)got;
		if (n == size)
			return n;
	}
}

static void write_raw(const uint8_t *frame, size_t len)
{
	assert_int_equal(write(qn.fd, frame, len), (ssize_t)len);
}

/* ---- requests, retried --------------------------------------------------- */

/* Discard whatever arrives until the line has been quiet for 200 ms: a
 * reply that came after the timeout must not be taken for the reply to
 * the next request. */
static void drain(void)
{
	uint8_t junk[MODBUS_RTU_MAX_ADU_LENGTH];

	while (read_raw(junk, sizeof(junk), 200, 200) > 0)
		;
	modbus_flush(qn.mb);
}

/* Whether a request that returned rc should be sent again: it failed
 * without an exception response (no reply, or a garbled or late one) and
 * has retries left. Counts requests and retries. */
static bool retry(int rc, int *attempt)
{
	int err = errno;

	if (*attempt == 0)
		requests++;
	if (rc != -1 || (err >= EMBXILFUN && err <= EMBXGTAR) ||
	    *attempt == RETRIES)
		return false;
	(*attempt)++;
	retries++;
	drain();
	errno = err;
	return true;
}

/* The Modbus functions the tests send. */
enum fn {
	FN_READ_INPUT,    /* FC 4 */
	FN_READ_HOLDING,  /* FC 3 */
	FN_WRITE_HOLDING, /* FC 6 for one register, else FC 16 */
	FN_READ_COILS,    /* FC 1 */
	FN_WRITE_COIL,    /* FC 5 */
};

/* Send fn for n registers or coils from addr on qn.mb, again while retry()
 * says so; data holds the registers or bits read or written (for
 * FN_WRITE_COIL, n is the value written and data is not used). Returns
 * what libmodbus returned last. */
static int request(enum fn fn, uint16_t addr, int n, void *data)
{
	int rc, attempt = 0;

	do {
		switch (fn) {
		case FN_READ_INPUT:
			rc = modbus_read_input_registers(qn.mb, addr, n, data);
			break;
		case FN_READ_HOLDING:
			rc = modbus_read_registers(qn.mb, addr, n, data);
			break;
		case FN_WRITE_HOLDING:
			rc = n == 1 ? modbus_write_register(qn.mb, addr,
			                                    *(uint16_t *)data)
			            : modbus_write_registers(qn.mb, addr, n,
			                                     data);
			break;
		case FN_READ_COILS:
			rc = modbus_read_bits(qn.mb, addr, n, data);
			break;
		default:
			rc = modbus_write_bit(qn.mb, addr, n);
		}
	} while (retry(rc, &attempt));
	return rc;
}

/*
 * QEMU notices that the pty was opened only on its next once-a-second
 * check, and holds the first request until then. Wait for that answer with
 * a long timeout: a retry after a short one would leave two answers on the
 * line and every later reply one request behind. Then drain the line.
 */
static int wait_responsive(int timeout_ms)
{
	uint16_t r;
	int rc = -1;

	modbus_set_response_timeout(qn.mb, 5, 0);
	for (int waited = 0; waited <= timeout_ms; waited += 5200) {
		if (modbus_read_input_registers(qn.mb, NODE_IR_CHANNELS, 1,
		                                &r) == 1) {
			rc = 0;
			break;
		}
		if (!h_alive(qn.pid))
			return -1;
		sleep_ms(200);
		modbus_flush(qn.mb);
	}
	sleep_ms(100);
	modbus_flush(qn.mb);
	modbus_set_response_timeout(qn.mb, REPLY_TIMEOUT_MS / 1000,
	                            REPLY_TIMEOUT_MS % 1000 * 1000);
	return rc;
}

static int group_setup(void **state)
{
	const char *dir = h_tmpdir();
	const char *argv[] = {
	        QEMU_SYSTEM_ARM,   "-M",       "mps2-an386",
	        "-nographic",      "-monitor", "none",
	        "-serial",         "pty",      "-kernel",
	        METROLOG_NODE_ELF, NULL,
	};

	(void)state;
	memset(&qn, 0, sizeof(qn));
	qn.fd = -1;
	h_path(qn.log, dir, "qemu.log");
	qn.pid = h_spawn(argv, qn.log, false);
	if (qn.pid == -1 || wait_pty(START_TIMEOUT_MS) == -1)
		goto fail;
	qn.mb = modbus_new_rtu(qn.pty, BAUD, 'N', 8, 1);
	if (qn.mb == NULL || modbus_set_slave(qn.mb, UNIT) == -1 ||
	    modbus_connect(qn.mb) == -1) {
		fprintf(stderr, "%s: %s\n", qn.pty, modbus_strerror(errno));
		goto fail;
	}
	qn.fd = modbus_get_socket(qn.mb);
	if (wait_responsive(START_TIMEOUT_MS) == -1) {
		fprintf(stderr, "node on %s does not answer\n", qn.pty);
		goto fail;
	}
	return 0;
fail:
	dump_log();
	if (qn.mb != NULL)
		modbus_free(qn.mb);
	qn.mb = NULL;
	h_cleanup();
	return -1;
}

static int group_teardown(void **state)
{
	(void)state;
	if (qn.mb != NULL) {
		modbus_close(qn.mb);
		modbus_free(qn.mb);
	}
	qn.mb = NULL;
	h_cleanup();
	return 0;
}

/* float32 in two registers, high word first ("ABCD"), as node.h says.
 * (libmodbus 3.1.6's modbus_set_float_abcd() swaps the bytes.) */
static float regs_to_float(const uint16_t *r)
{
	uint32_t u = (uint32_t)r[0] << 16 | r[1];
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static void float_to_regs(float f, uint16_t *r)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	r[0] = (uint16_t)(u >> 16);
	r[1] = (uint16_t)(u & 0xFFFF);
}

/* Read `words` input registers from addr (at most NODE_IR_MODEL_WORDS) as
 * text, two characters a register, high byte first, into text (2 * words
 * + 1 bytes, NUL-terminated). */
static void read_text(uint16_t addr, int words, char *text)
{
	uint16_t r[NODE_IR_MODEL_WORDS];

	assert_true(words <= NODE_IR_MODEL_WORDS);
	assert_int_equal(request(FN_READ_INPUT, addr, words, r), words);
	for (int i = 0; i < words; i++) {
		text[2 * i] = (char)(r[i] >> 8);
		text[2 * i + 1] = (char)(r[i] & 0xFF);
	}
	text[2 * words] = '\0';
}

/* ---- tests --------------------------------------------------------------- */

static void identity_registers(void **state)
{
	uint16_t r[2];
	char text[2 * NODE_IR_MODEL_WORDS + 1];

	(void)state;
	assert_int_equal(request(FN_READ_INPUT, NODE_IR_CHANNELS, 2, r), 2);
	assert_int_equal(r[0], CHANNELS);
	assert_int_equal(r[1], NODE_FW_VERSION);
	assert_int_equal(r[1], 0x0100);

	read_text(NODE_IR_MODEL, NODE_IR_MODEL_WORDS, text);
	assert_string_equal(text, MODEL);
	/* NUL padded to the end */
	for (size_t i = strlen(MODEL); i < 2 * NODE_IR_MODEL_WORDS; i++)
		assert_int_equal(text[i], '\0');

	read_text(NODE_IR_SERIAL, NODE_IR_SERIAL_WORDS, text);
	assert_string_equal(text, SERIAL);
}

static void read_values(float v[CHANNELS])
{
	uint16_t r[2 * CHANNELS];

	assert_int_equal(request(FN_READ_INPUT, NODE_IR_VALUE, 2 * CHANNELS, r),
	                 2 * CHANNELS);
	for (int c = 0; c < CHANNELS; c++)
		v[c] = regs_to_float(&r[2 * c]);
}

static void values_are_plausible_and_alive(void **state)
{
	float v[CHANNELS], after[CHANNELS];
	uint16_t r[2 * CHANNELS];
	bool moved = false;

	(void)state;
	read_values(v);
	for (int c = 0; c < CHANNELS; c++) {
		if (!isfinite(v[c]) || v[c] < plausible[c].lo ||
		    v[c] > plausible[c].hi)
			fail_msg("channel %d (%s) reads %.6f, expected "
			         "%.3f..%.3f",
			         c, plausible[c].what, (double)v[c],
			         (double)plausible[c].lo,
			         (double)plausible[c].hi);
	}

	/* counts = value * 1000, rounded: the same reading as an int32. The
	 * signals drift, so the counts must lie between the values read
	 * just before and just after them. */
	assert_int_equal(
	        request(FN_READ_INPUT, NODE_IR_COUNTS, 2 * CHANNELS, r),
	        2 * CHANNELS);
	read_values(after);
	for (int c = 0; c < CHANNELS; c++) {
		int32_t counts =
		        (int32_t)((uint32_t)r[2 * c] << 16 | r[2 * c + 1]);
		double a = (double)v[c] * NODE_COUNTS_PER_UNIT;
		double b = (double)after[c] * NODE_COUNTS_PER_UNIT;
		if (counts < fmin(a, b) - 1.0 || counts > fmax(a, b) + 1.0)
			fail_msg("channel %d: %d counts for %.6f..%.6f", c,
			         (int)counts, (double)v[c], (double)after[c]);
	}

	/* all channels enabled, in range, no fault */
	assert_int_equal(request(FN_READ_INPUT, NODE_IR_STATUS, CHANNELS, r),
	                 CHANNELS);
	for (int c = 0; c < CHANNELS; c++)
		assert_int_equal(r[c], 0);

	/* The simulated signals drift with the SysTick clock. */
	sleep_ms(500);
	read_values(after);
	for (int c = 0; c < CHANNELS; c++)
		moved = moved || after[c] != v[c];
	assert_true(moved);
}

static double host_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t uptime(void)
{
	uint16_t r[2];

	assert_int_equal(request(FN_READ_INPUT, NODE_IR_UPTIME, 2, r), 2);
	return (uint32_t)r[0] << 16 | r[1];
}

static void uptime_counts_seconds(void **state)
{
	(void)state;
	double t0 = host_s();
	uint32_t before = uptime();
	double t1 = host_s();
	sleep_ms(2100);
	double t2 = host_s();
	uint32_t after = uptime();
	double t3 = host_s();
	/* SysTick runs from QEMU's virtual clock, which follows the host's
	 * while the machine runs. The node sampled its uptime somewhere in
	 * [t0, t1] and in [t2, t3], so whole seconds went by between
	 * floor(t2 - t1) and ceil(t3 - t0). */
	assert_in_range(after - before, (uint32_t)floor(t2 - t1),
	                (uint32_t)ceil(t3 - t0));
}

static void coil_disables_a_channel(void **state)
{
	uint8_t bits[CHANNELS];
	uint16_t st;

	(void)state;
	assert_int_equal(request(FN_WRITE_COIL, NODE_CO_ENABLE + 1, 0, NULL),
	                 1);
	assert_int_equal(request(FN_READ_COILS, NODE_CO_ENABLE, CHANNELS, bits),
	                 CHANNELS);
	assert_int_equal(bits[0], 1);
	assert_int_equal(bits[1], 0);
	assert_int_equal(request(FN_READ_INPUT, NODE_IR_STATUS + 1, 1, &st), 1);
	assert_true(st & NODE_ST_DISABLED);

	assert_int_equal(request(FN_WRITE_COIL, NODE_CO_ENABLE + 1, 1, NULL),
	                 1);
	assert_int_equal(request(FN_READ_INPUT, NODE_IR_STATUS + 1, 1, &st), 1);
	assert_int_equal(st & NODE_ST_DISABLED, 0);
}

static void broadcast_write_is_done_not_answered(void **state)
{
	uint8_t bit = 1;
	uint8_t reply[64];

	(void)state;
	/* Nothing tells a master that a broadcast was lost, so look at the
	 * coil and broadcast again if it did not change (see RETRIES). */
	requests++;
	for (int attempt = 0; bit != 0; attempt++) {
		if (attempt == RETRIES + 1)
			fail_msg("broadcast write of coil 2 never took effect");
		if (attempt > 0)
			retries++;
		assert_int_equal(
		        modbus_set_slave(qn.mb, MODBUS_BROADCAST_ADDRESS), 0);
		/* libmodbus 3.1.6 waits for an answer to a broadcast anyway
		 * and times out; a later one may not wait at all. */
		int rc = modbus_write_bit(qn.mb, NODE_CO_ENABLE + 2, 0);
		assert_true(rc == 1 || (rc == -1 && errno == ETIMEDOUT));
		assert_int_equal(modbus_set_slave(qn.mb, UNIT), 0);
		assert_int_equal(read_raw(reply, sizeof(reply), SILENCE_MS, 50),
		                 0);
		assert_int_equal(
		        request(FN_READ_COILS, NODE_CO_ENABLE + 2, 1, &bit), 1);
	}
	assert_int_equal(request(FN_WRITE_COIL, NODE_CO_ENABLE + 2, 1, NULL),
	                 1);
}

static void calibration_is_locked(void **state)
{
	uint16_t gain[2], lock, key = NODE_UNLOCK_KEY, zero = 0;
	float v[CHANNELS];

	(void)state;
	assert_int_equal(request(FN_READ_HOLDING, NODE_HR_LOCK, 1, &lock), 1);
	assert_int_equal(lock, 0);

	float_to_regs(1.25f, gain);
	assert_int_equal(request(FN_WRITE_HOLDING, NODE_HR_CAL, 2, gain), -1);
	assert_int_equal(errno, EMBXSFAIL);

	/* Unlocked, the same write goes through and changes the value. */
	assert_int_equal(request(FN_WRITE_HOLDING, NODE_HR_LOCK, 1, &key), 1);
	assert_int_equal(request(FN_READ_HOLDING, NODE_HR_LOCK, 1, &lock), 1);
	assert_int_equal(lock, 1);
	assert_int_equal(request(FN_WRITE_HOLDING, NODE_HR_CAL, 2, gain), 2);
	assert_int_equal(request(FN_READ_HOLDING, NODE_HR_CAL, 2, gain), 2);
	assert_true(regs_to_float(gain) == 1.25f);
	read_values(v);
	assert_true(v[0] > 1.25f * plausible[0].lo &&
	            v[0] < 1.25f * plausible[0].hi);

	/* Put it back and lock again. */
	float_to_regs(1.0f, gain);
	assert_int_equal(request(FN_WRITE_HOLDING, NODE_HR_CAL, 2, gain), 2);
	assert_int_equal(request(FN_WRITE_HOLDING, NODE_HR_LOCK, 1, &zero), 1);
	assert_int_equal(request(FN_WRITE_HOLDING, NODE_HR_CAL, 2, gain), -1);
	assert_int_equal(errno, EMBXSFAIL);
}

static void unmapped_address_is_refused(void **state)
{
	uint16_t r[2];

	(void)state;
	assert_int_equal(
	        request(FN_READ_INPUT, NODE_IR_VALUE + 2 * CHANNELS, 2, r), -1);
	assert_int_equal(errno, EMBXILADD);
}

/*
 * Send FC 43 / MEI 14 with read code `code` from object `object` and
 * return the objects of the reply as id/value pairs in `objs` (values
 * NUL-terminated in place). libmodbus sends the request but cannot size
 * the reply, so the reply is read from the pty.
 */
struct devid_obj {
	uint8_t id;
	char value[245];
};

static int device_id(uint8_t code, uint8_t object, struct devid_obj *objs,
                     int max)
{
	const uint8_t req[] = {UNIT, 0x2B, 0x0E, code, object};
	uint8_t rsp[MODBUS_RTU_MAX_ADU_LENGTH];
	size_t n, pos;
	int nobj;

	requests++;
	for (int attempt = 0;; attempt++) {
		assert_int_equal(
		        modbus_send_raw_request(qn.mb, req, sizeof(req)),
		        (int)sizeof(req) + 2);
		n = read_raw(rsp, sizeof(rsp), REPLY_TIMEOUT_MS, 200);
		if (n > 0 || attempt == RETRIES)
			break;
		retries++;
		drain();
	}
	assert_true(n >= 5);
	assert_int_equal(crc16(rsp, n - 2), rsp[n - 2] | rsp[n - 1] << 8);
	assert_int_equal(rsp[0], UNIT);
	assert_int_equal(rsp[1], 0x2B);
	/* unit fc mei code conformity more next count */
	assert_true(n >= 10);
	assert_int_equal(rsp[2], 0x0E);
	assert_int_equal(rsp[3], code);
	nobj = rsp[7];
	assert_true(nobj <= max);
	pos = 8;
	for (int i = 0; i < nobj; i++) {
		assert_true(pos + 2 <= n - 2);
		uint8_t len = rsp[pos + 1];
		assert_true(pos + 2 + len <= n - 2);
		objs[i].id = rsp[pos];
		memcpy(objs[i].value, &rsp[pos + 2], len);
		objs[i].value[len] = '\0';
		pos += 2u + len;
	}
	assert_int_equal(pos, n - 2);
	return nobj;
}

static void device_identification(void **state)
{
	struct devid_obj objs[8];

	(void)state;
	/* basic stream: vendor, product code, revision */
	assert_int_equal(device_id(0x01, 0x00, objs, 8), 3);
	assert_int_equal(objs[0].id, 0x00);
	assert_string_equal(objs[0].value, VENDOR);
	assert_int_equal(objs[1].id, 0x01);
	assert_string_equal(objs[1].value, PRODUCT_CODE);
	assert_int_equal(objs[2].id, 0x02);
	assert_string_equal(objs[2].value, REVISION);

	/* one specific object: the model name */
	assert_int_equal(device_id(0x04, 0x05, objs, 8), 1);
	assert_int_equal(objs[0].id, 0x05);
	assert_string_equal(objs[0].value, MODEL);

	/* and the line is still in step for libmodbus */
	uint16_t r;
	assert_int_equal(request(FN_READ_INPUT, NODE_IR_CHANNELS, 1, &r), 1);
	assert_int_equal(r, CHANNELS);
}

static void bad_crc_gets_no_answer(void **state)
{
	/* read 1 input register at 3002, CRC spoiled */
	uint8_t req[8] = {UNIT, 0x04, 0x0B, 0xBA, 0x00, 0x01};
	uint8_t reply[64];
	uint16_t crc = crc16(req, 6), r;
	size_t n;

	(void)state;
	req[6] = (uint8_t)(crc & 0xFF) ^ 0x5A;
	req[7] = (uint8_t)(crc >> 8);
	write_raw(req, sizeof(req));
	assert_int_equal(read_raw(reply, sizeof(reply), SILENCE_MS, 50), 0);

	/* the next request is served */
	assert_int_equal(request(FN_READ_INPUT, NODE_IR_CHANNELS, 1, &r), 1);
	assert_int_equal(r, CHANNELS);

	/* the same frame with its CRC right is answered: the silence above
	 * was the CRC check, not a deaf node */
	req[6] = (uint8_t)(crc & 0xFF);
	requests++;
	for (int attempt = 0;; attempt++) {
		write_raw(req, sizeof(req));
		n = read_raw(reply, sizeof(reply), REPLY_TIMEOUT_MS, 200);
		if (n > 0 || attempt == RETRIES)
			break;
		retries++;
		drain();
	}
	assert_int_equal(n, 7);
	assert_int_equal(reply[1], 0x04);
	assert_int_equal(reply[3] << 8 | reply[4], CHANNELS);
}

static void truncated_frame_is_dropped_at_silence(void **state)
{
	/* the first 5 bytes of an 8-byte request, then the line goes quiet
	 * for far longer than 3.5 characters */
	const uint8_t part[] = {UNIT, 0x04, 0x0B, 0xBA, 0x00};
	uint8_t reply[64];
	uint16_t r;

	(void)state;
	write_raw(part, sizeof(part));
	assert_int_equal(read_raw(reply, sizeof(reply), SILENCE_MS, 50), 0);
	assert_int_equal(request(FN_READ_INPUT, NODE_IR_CHANNELS, 1, &r), 1);
	assert_int_equal(r, CHANNELS);
}

static void other_unit_is_ignored(void **state)
{
	uint16_t r;

	(void)state;
	assert_int_equal(modbus_set_slave(qn.mb, UNIT + 1), 0);
	assert_int_equal(
	        modbus_read_input_registers(qn.mb, NODE_IR_CHANNELS, 1, &r),
	        -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_int_equal(modbus_set_slave(qn.mb, UNIT), 0);
	assert_int_equal(request(FN_READ_INPUT, NODE_IR_CHANNELS, 1, &r), 1);
}

static void many_requests_in_a_row(void **state)
{
	uint16_t r[2 * CHANNELS];

	(void)state;
	for (int i = 0; i < 300; i++) {
		int n = i % 2 ? 2 * CHANNELS : 1;
		uint16_t addr = i % 2 ? NODE_IR_VALUE : NODE_IR_CHANNELS;
		if (request(FN_READ_INPUT, addr, n, r) != n)
			fail_msg("request %d: %s", i, modbus_strerror(errno));
	}
}

/* The retries of the whole group, a figure of the host's load (above);
 * the group did make its requests. */
static void retries_are_reported(void **state)
{
	(void)state;
	fprintf(stderr, "%d requests, %d sent again after a timeout\n",
	        requests, retries);
	assert_true(requests >= 300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(identity_registers),
	        cmocka_unit_test(values_are_plausible_and_alive),
	        cmocka_unit_test(uptime_counts_seconds),
	        cmocka_unit_test(coil_disables_a_channel),
	        cmocka_unit_test(broadcast_write_is_done_not_answered),
	        cmocka_unit_test(calibration_is_locked),
	        cmocka_unit_test(unmapped_address_is_refused),
	        cmocka_unit_test(device_identification),
	        cmocka_unit_test(bad_crc_gets_no_answer),
	        cmocka_unit_test(truncated_frame_is_dropped_at_silence),
	        cmocka_unit_test(other_unit_is_ignored),
	        cmocka_unit_test(many_requests_in_a_row),
	        cmocka_unit_test(retries_are_reported),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
