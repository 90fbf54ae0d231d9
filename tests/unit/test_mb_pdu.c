/*
 * test_mb_pdu.c - mb_pdu_process() frame in, frame out, against a plain
 * array-backed map. Expected bytes are written by hand from the Modbus
 * Application Protocol v1.1b3 (its examples where it has one).
 *
 * The test map has addresses 0x0000-0x0FFF and 0xF000-0xFFFF in every
 * table; anything else answers exception 02 from the map. It logs calls so
 * tests can tell what the core did (broadcast, write-before-read).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mb.h"
#include "mbtest.h"

struct tmap {
	uint8_t coils[0x10000];
	uint8_t di[0x10000];
	uint16_t ir[0x10000];
	uint16_t hr[0x10000];
	char log[64]; /* 'r' read bits, 'R' read regs, 'w' 'W' writes */
	size_t nlog;
	uint8_t force_ex; /* every callback returns this when non-zero */
	const char *objs[256];
};

static struct tmap tm;

static bool mapped(uint16_t addr, uint16_t count)
{
	uint32_t end = (uint32_t)addr + count;

	return end <= 0x1000 || addr >= 0xF000;
}

static void logc(char c)
{
	if (tm.nlog < sizeof(tm.log) - 1)
		tm.log[tm.nlog++] = c;
}

/* The start of every callback: log c, then the exception to answer (the
 * forced one, or 02 when addr..addr+count-1 is not mapped), else
 * MB_EX_NONE. */
static uint8_t t_enter(void *ctx, char c, uint16_t addr, uint16_t count)
{
	(void)ctx;
	logc(c);
	if (tm.force_ex)
		return tm.force_ex;
	if (!mapped(addr, count))
		return MB_EX_ILLEGAL_DATA_ADDRESS;
	return MB_EX_NONE;
}

static uint8_t t_read_bits(void *ctx, enum mb_table table, uint16_t addr,
                           uint16_t count, uint8_t *out)
{
	const uint8_t *src = table == MB_COILS ? tm.coils : tm.di;
	uint8_t ex = t_enter(ctx, 'r', addr, count);

	for (unsigned i = 0; ex == MB_EX_NONE && i < count; i++) {
		assert_int_equal(out[i / 8] & (1u << (i % 8)), 0); /* zeroed */
		if (src[addr + i])
			out[i / 8] |= (uint8_t)(1u << (i % 8));
	}
	return ex;
}

static uint8_t t_read_registers(void *ctx, enum mb_table table, uint16_t addr,
                                uint16_t count, uint8_t *out)
{
	const uint16_t *src = table == MB_HOLDING_REGISTERS ? tm.hr : tm.ir;
	uint8_t ex = t_enter(ctx, 'R', addr, count);

	for (unsigned i = 0; ex == MB_EX_NONE && i < count; i++) {
		out[2 * i] = (uint8_t)(src[addr + i] >> 8);
		out[2 * i + 1] = (uint8_t)(src[addr + i] & 0xFF);
	}
	return ex;
}

static uint8_t t_write_bits(void *ctx, uint16_t addr, uint16_t count,
                            const uint8_t *packed)
{
	uint8_t ex = t_enter(ctx, 'w', addr, count);

	for (unsigned i = 0; ex == MB_EX_NONE && i < count; i++)
		tm.coils[addr + i] = (packed[i / 8] >> (i % 8)) & 1u;
	return ex;
}

static uint8_t t_write_registers(void *ctx, uint16_t addr, uint16_t count,
                                 const uint8_t *be)
{
	uint8_t ex = t_enter(ctx, 'W', addr, count);

	for (unsigned i = 0; ex == MB_EX_NONE && i < count; i++)
		tm.hr[addr + i] = (uint16_t)(be[2 * i] << 8 | be[2 * i + 1]);
	return ex;
}

static int t_device_id(void *ctx, uint8_t id, const char **value)
{
	(void)ctx;
	if (tm.objs[id] == NULL)
		return -1;
	*value = tm.objs[id];
	return (int)strlen(tm.objs[id]);
}

static const struct mb_map tmap = {
        .read_bits = t_read_bits,
        .read_registers = t_read_registers,
        .write_bits = t_write_bits,
        .write_registers = t_write_registers,
        .device_id = t_device_id,
};

static int setup(void **state)
{
	(void)state;
	memset(&tm, 0, sizeof(tm));
	tm.objs[0] = "Metrolab";
	tm.objs[1] = "ML-T";
	tm.objs[2] = "V1.0";
	return 0;
}

/* Process req (not broadcast) against map and compare with want. */
static void check_map(const struct mb_map *map, const uint8_t *req,
                      size_t req_len, const uint8_t *want, size_t want_len)
{
	mb_check_pdu(map, NULL, req, req_len, want, want_len);
}

static void check(const uint8_t *req, size_t req_len, const uint8_t *want,
                  size_t want_len)
{
	check_map(&tmap, req, req_len, want, want_len);
}

/* Process req and expect exception ex of its function (code | 0x80). */
static void check_ex(const uint8_t *req, size_t req_len, uint8_t ex)
{
	check(req, req_len, BYTES((uint8_t)(req[0] | 0x80), ex));
}

static size_t broadcast(const uint8_t *req, size_t req_len)
{
	uint8_t rsp[MB_PDU_MAX];

	return mb_pdu_process(&tmap, NULL, req, req_len, rsp, true);
}

/* Set bits from packed bytes (used to load the spec's examples). */
static void load_bits(uint8_t *table, unsigned addr, const uint8_t *packed,
                      unsigned count)
{
	unsigned i;

	for (i = 0; i < count; i++)
		table[addr + i] = (packed[i / 8] >> (i % 8)) & 1u;
}

/* ---- FC 01 / 02 ---------------------------------------------------------- */

static void fc01_read_coils_spec_example(void **state)
{
	(void)state;
	/* spec 6.1: coils 20-38 = CD 6B 05 */
	load_bits(tm.coils, 19, (const uint8_t[]){0xCD, 0x6B, 0x05}, 19);
	check(BYTES(0x01, 0x00, 0x13, 0x00, 0x13),
	      BYTES(0x01, 0x03, 0xCD, 0x6B, 0x05));
}

static void fc02_read_discrete_inputs_spec_example(void **state)
{
	(void)state;
	/* spec 6.2: inputs 197-218 = AC DB 35 */
	load_bits(tm.di, 196, (const uint8_t[]){0xAC, 0xDB, 0x35}, 22);
	check(BYTES(0x02, 0x00, 0xC4, 0x00, 0x16),
	      BYTES(0x02, 0x03, 0xAC, 0xDB, 0x35));
}

static void fc01_reads_from_coils_not_inputs(void **state)
{
	(void)state;
	tm.di[0] = 1;
	check(BYTES(0x01, 0x00, 0x00, 0x00, 0x01), BYTES(0x01, 0x01, 0x00));
	tm.coils[0] = 1;
	check(BYTES(0x01, 0x00, 0x00, 0x00, 0x01), BYTES(0x01, 0x01, 0x01));
}

static void fc01_quantity_2000_fills_250_bytes(void **state)
{
	uint8_t rsp[MB_PDU_MAX];
	size_t n;

	(void)state;
	tm.coils[1999] = 1;
	n = mb_pdu_process(&tmap, NULL,
	                   (const uint8_t[]){0x01, 0, 0, 0x07, 0xD0}, 5, rsp,
	                   false);
	assert_int_equal(n, 252);
	assert_int_equal(rsp[1], 250);
	assert_int_equal(rsp[251], 0x80);
}

static void fc01_quantity_0_and_2001_are_ex03(void **state)
{
	(void)state;
	check_ex(BYTES(0x01, 0x00, 0x00, 0x00, 0x00), 0x03);
	check_ex(BYTES(0x01, 0x00, 0x00, 0x07, 0xD1), 0x03);
	check_ex(BYTES(0x02, 0x00, 0x00, 0x00, 0x00), 0x03);
	check_ex(BYTES(0x02, 0x00, 0x00, 0xFF, 0xFF), 0x03);
	assert_int_equal(tm.nlog, 0); /* the map was never asked */
}

static void fc01_address_ffff_qty1_ok_qty2_ex02(void **state)
{
	(void)state;
	tm.coils[0xFFFF] = 1;
	check(BYTES(0x01, 0xFF, 0xFF, 0x00, 0x01), BYTES(0x01, 0x01, 0x01));
	check_ex(BYTES(0x01, 0xFF, 0xFF, 0x00, 0x02), 0x02);
	check_ex(BYTES(0x02, 0xFF, 0xF0, 0x00, 0x11), 0x02);
}

static void fc01_unmapped_address_is_map_ex02(void **state)
{
	(void)state;
	check_ex(BYTES(0x01, 0x10, 0x00, 0x00, 0x01), 0x02);
	assert_string_equal(tm.log, "r");
}

/* ---- FC 03 / 04 ---------------------------------------------------------- */

static void fc03_read_holding_spec_example(void **state)
{
	(void)state;
	tm.hr[107] = 0x022B;
	tm.hr[108] = 0x0000;
	tm.hr[109] = 0x0064;
	check(BYTES(0x03, 0x00, 0x6B, 0x00, 0x03),
	      BYTES(0x03, 0x06, 0x02, 0x2B, 0x00, 0x00, 0x00, 0x64));
}

static void fc04_read_input_spec_example(void **state)
{
	(void)state;
	tm.ir[8] = 0x000A;
	tm.hr[8] = 0x1111;
	check(BYTES(0x04, 0x00, 0x08, 0x00, 0x01),
	      BYTES(0x04, 0x02, 0x00, 0x0A));
}

static void fc03_quantity_125_ok_126_ex03_0_ex03(void **state)
{
	uint8_t rsp[MB_PDU_MAX];
	size_t n;

	(void)state;
	tm.hr[124] = 0xBEEF;
	n = mb_pdu_process(&tmap, NULL, (const uint8_t[]){0x03, 0, 0, 0, 125},
	                   5, rsp, false);
	assert_int_equal(n, 252);
	assert_int_equal(rsp[1], 250);
	assert_int_equal(rsp[250], 0xBE);
	assert_int_equal(rsp[251], 0xEF);
	check_ex(BYTES(0x03, 0x00, 0x00, 0x00, 0x7E), 0x03);
	check_ex(BYTES(0x03, 0x00, 0x00, 0x00, 0x00), 0x03);
	check_ex(BYTES(0x04, 0x00, 0x00, 0x00, 0x7E), 0x03);
}

static void fc03_address_ffff_qty1_ok_qty2_ex02(void **state)
{
	(void)state;
	tm.hr[0xFFFF] = 0x1234;
	check(BYTES(0x03, 0xFF, 0xFF, 0x00, 0x01),
	      BYTES(0x03, 0x02, 0x12, 0x34));
	check_ex(BYTES(0x03, 0xFF, 0xFF, 0x00, 0x02), 0x02);
	check_ex(BYTES(0x04, 0xFF, 0x90, 0x00, 0x71), 0x02);
	check(BYTES(0x04, 0xFF, 0x90, 0x00, 0x70), (uint8_t[226]){0x04, 0xE0},
	      226); /* 0xFF90 + 0x70 = 0x10000 */
}

static void fc03_short_and_long_requests_ex03(void **state)
{
	(void)state;
	check_ex(BYTES(0x03), 0x03);
	check_ex(BYTES(0x03, 0x00, 0x00, 0x00), 0x03);
	check_ex(BYTES(0x03, 0x00, 0x00, 0x00, 0x01, 0x00), 0x03);
	check_ex(BYTES(0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00), 0x03);
	check_ex(BYTES(0x04, 0x00), 0x03);
	assert_int_equal(tm.nlog, 0);
}

static void map_exception_is_passed_through(void **state)
{
	(void)state;
	tm.force_ex = MB_EX_SERVER_DEVICE_FAILURE;
	check_ex(BYTES(0x03, 0x00, 0x00, 0x00, 0x01), 0x04);
	check_ex(BYTES(0x02, 0x00, 0x00, 0x00, 0x01), 0x04);
	check_ex(BYTES(0x06, 0x00, 0x00, 0x00, 0x01), 0x04);
	check_ex(BYTES(0x05, 0x00, 0x00, 0xFF, 0x00), 0x04);
}

/* ---- FC 05 / 06 ---------------------------------------------------------- */

static void fc05_write_coil_on_off_echo(void **state)
{
	(void)state;
	check(BYTES(0x05, 0x00, 0xAC, 0xFF, 0x00),
	      BYTES(0x05, 0x00, 0xAC, 0xFF, 0x00));
	assert_int_equal(tm.coils[0xAC], 1);
	check(BYTES(0x05, 0x00, 0xAC, 0x00, 0x00),
	      BYTES(0x05, 0x00, 0xAC, 0x00, 0x00));
	assert_int_equal(tm.coils[0xAC], 0);
}

static void fc05_bad_value_ex03(void **state)
{
	(void)state;
	check_ex(BYTES(0x05, 0x00, 0x01, 0x00, 0x01), 0x03);
	check_ex(BYTES(0x05, 0x00, 0x01, 0x00, 0xFF), 0x03);
	check_ex(BYTES(0x05, 0x00, 0x01, 0xFF, 0xFF), 0x03);
	check_ex(BYTES(0x05, 0x00, 0x01, 0xFF), 0x03);
	assert_int_equal(tm.nlog, 0);
}

static void fc05_address_ffff_ok(void **state)
{
	(void)state;
	check(BYTES(0x05, 0xFF, 0xFF, 0xFF, 0x00),
	      BYTES(0x05, 0xFF, 0xFF, 0xFF, 0x00));
	assert_int_equal(tm.coils[0xFFFF], 1);
}

static void fc06_write_register_spec_example(void **state)
{
	(void)state;
	check(BYTES(0x06, 0x00, 0x01, 0x00, 0x03),
	      BYTES(0x06, 0x00, 0x01, 0x00, 0x03));
	assert_int_equal(tm.hr[1], 3);
}

static void fc06_wrong_length_ex03(void **state)
{
	(void)state;
	check_ex(BYTES(0x06, 0x00, 0x01, 0x00), 0x03);
	check_ex(BYTES(0x06, 0x00, 0x01, 0x00, 0x03, 0x00), 0x03);
	assert_int_equal(tm.hr[1], 0);
}

/* An FC 15 or 16 request at address 0 for quantity items, with byte count
 * bytes and as many zero data bytes: expect exception 03. */
static void check_long(uint8_t fc, uint16_t quantity, uint8_t bytes)
{
	uint8_t req[6 + 255] = {fc,
	                        0x00,
	                        0x00,
	                        (uint8_t)(quantity >> 8),
	                        (uint8_t)(quantity & 0xFF),
	                        bytes};

	check(req, 6u + bytes, BYTES((uint8_t)(fc | 0x80), 0x03));
}

/* ---- FC 15 / 16 ---------------------------------------------------------- */

static void fc15_write_coils_spec_example(void **state)
{
	const uint8_t want[10] = {1, 0, 1, 1, 0, 0, 1, 1, 1, 0};

	(void)state;
	tm.coils[29] = 1; /* just past the range: must stay */
	check(BYTES(0x0F, 0x00, 0x13, 0x00, 0x0A, 0x02, 0xCD, 0x01),
	      BYTES(0x0F, 0x00, 0x13, 0x00, 0x0A));
	assert_memory_equal(tm.coils + 19, want, sizeof(want));
	assert_int_equal(tm.coils[29], 1);
}

static void fc15_quantity_and_byte_count_checks_ex03(void **state)
{
	(void)state;
	/* quantity 0 */
	check_ex(BYTES(0x0F, 0x00, 0x00, 0x00, 0x00, 0x00), 0x03);
	/* quantity 1969 (limit 1968) with a consistent byte count 247 */
	check_long(0x0F, 1969, 247);
	/* byte count 1 for 10 coils */
	check_ex(BYTES(0x0F, 0x00, 0x13, 0x00, 0x0A, 0x01, 0xCD), 0x03);
	/* byte count 2 but only 1 data byte */
	check_ex(BYTES(0x0F, 0x00, 0x13, 0x00, 0x0A, 0x02, 0xCD), 0x03);
	/* one data byte too many */
	check_ex(BYTES(0x0F, 0x00, 0x13, 0x00, 0x0A, 0x02, 0xCD, 0x01, 0x00),
	         0x03);
	/* no byte count at all */
	check_ex(BYTES(0x0F, 0x00, 0x13, 0x00, 0x0A), 0x03);
	assert_int_equal(tm.nlog, 0);
}

static void fc15_quantity_1968_ok(void **state)
{
	uint8_t req[6 + 246] = {0x0F, 0x00, 0x00, 0x07, 0xB0, 246};

	(void)state;
	req[6 + 245] = 0x80; /* coil 1967 */
	check(req, sizeof(req), BYTES(0x0F, 0x00, 0x00, 0x07, 0xB0));
	assert_int_equal(tm.coils[1967], 1);
	assert_int_equal(tm.coils[1966], 0);
}

static void fc15_address_overflow_ex02(void **state)
{
	(void)state;
	check_ex(BYTES(0x0F, 0xFF, 0xFF, 0x00, 0x02, 0x01, 0x03), 0x02);
	check(BYTES(0x0F, 0xFF, 0xFF, 0x00, 0x01, 0x01, 0x01),
	      BYTES(0x0F, 0xFF, 0xFF, 0x00, 0x01));
	assert_int_equal(tm.coils[0xFFFF], 1);
}

static void fc16_write_registers_spec_example(void **state)
{
	(void)state;
	check(BYTES(0x10, 0x00, 0x01, 0x00, 0x02, 0x04, 0x00, 0x0A, 0x01, 0x02),
	      BYTES(0x10, 0x00, 0x01, 0x00, 0x02));
	assert_int_equal(tm.hr[1], 0x000A);
	assert_int_equal(tm.hr[2], 0x0102);
}

static void fc16_quantity_and_byte_count_checks_ex03(void **state)
{
	(void)state;
	check_ex(BYTES(0x10, 0x00, 0x01, 0x00, 0x00, 0x00), 0x03);
	check_long(0x10, 124, 248);
	/* byte count 3 for 2 registers */
	check_ex(BYTES(0x10, 0x00, 0x01, 0x00, 0x02, 0x03, 0x00, 0x0A, 0x01),
	         0x03);
	/* byte count 4, 3 bytes of data */
	check_ex(BYTES(0x10, 0x00, 0x01, 0x00, 0x02, 0x04, 0x00, 0x0A, 0x01),
	         0x03);
	/* byte count 4, 5 bytes of data */
	check_ex(BYTES(0x10, 0x00, 0x01, 0x00, 0x02, 0x04, 0x00, 0x0A, 0x01,
	               0x02, 0x03),
	         0x03);
	check_ex(BYTES(0x10, 0x00, 0x01, 0x00), 0x03);
	assert_int_equal(tm.nlog, 0);
	assert_int_equal(tm.hr[1], 0);
}

static void fc16_quantity_123_ok(void **state)
{
	uint8_t req[6 + 246] = {0x10, 0x00, 0x10, 0x00, 123, 246};

	(void)state;
	req[6 + 244] = 0xAB;
	req[6 + 245] = 0xCD;
	check(req, sizeof(req), BYTES(0x10, 0x00, 0x10, 0x00, 0x7B));
	assert_int_equal(tm.hr[0x10 + 122], 0xABCD);
}

static void fc16_address_overflow_ex02(void **state)
{
	(void)state;
	check_ex(BYTES(0x10, 0xFF, 0xFF, 0x00, 0x02, 0x04, 0, 1, 0, 2), 0x02);
	check(BYTES(0x10, 0xFF, 0xFF, 0x00, 0x01, 0x02, 0x12, 0x34),
	      BYTES(0x10, 0xFF, 0xFF, 0x00, 0x01));
	assert_int_equal(tm.hr[0xFFFF], 0x1234);
}

/* ---- FC 23 --------------------------------------------------------------- */

static void fc23_read_write_spec_example(void **state)
{
	(void)state;
	tm.hr[3] = 0x00FE;
	tm.hr[4] = 0x0ACD;
	tm.hr[5] = 0x0001;
	tm.hr[6] = 0x0003;
	tm.hr[7] = 0x000D;
	tm.hr[8] = 0x00FF;
	check(BYTES(0x17, 0x00, 0x03, 0x00, 0x06, 0x00, 0x0E, 0x00, 0x03, 0x06,
	            0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF),
	      BYTES(0x17, 0x0C, 0x00, 0xFE, 0x0A, 0xCD, 0x00, 0x01, 0x00, 0x03,
	            0x00, 0x0D, 0x00, 0xFF));
	assert_int_equal(tm.hr[0x0E], 0x00FF);
	assert_int_equal(tm.hr[0x10], 0x00FF);
}

static void fc23_writes_before_reading(void **state)
{
	(void)state;
	tm.hr[5] = 0x1111;
	check(BYTES(0x17, 0x00, 0x05, 0x00, 0x01, 0x00, 0x05, 0x00, 0x01, 0x02,
	            0xAB, 0xCD),
	      BYTES(0x17, 0x02, 0xAB, 0xCD));
	assert_string_equal(tm.log, "WR");
}

static void fc23_limits_ex03(void **state)
{
	(void)state;
	/* read quantity 0 */
	check_ex(BYTES(0x17, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0), 0x03);
	/* read quantity 126 */
	check_ex(BYTES(0x17, 0, 0, 0, 126, 0, 0, 0, 1, 2, 0, 0), 0x03);
	/* write quantity 0 */
	check_ex(BYTES(0x17, 0, 0, 0, 1, 0, 0, 0, 0, 0), 0x03);
	/* write quantity 122, byte count 244 */
	{
		uint8_t req[10 + 244] = {0x17, 0, 0, 0, 1, 0, 0, 0, 122, 244};

		check(req, sizeof(req), BYTES(0x97, 0x03));
	}
	/* byte count 4 for one register */
	check_ex(BYTES(0x17, 0, 0, 0, 1, 0, 0, 0, 1, 4, 0, 0, 0, 0), 0x03);
	/* data one byte short, one byte long */
	check_ex(BYTES(0x17, 0, 0, 0, 1, 0, 0, 0, 1, 2, 0), 0x03);
	check_ex(BYTES(0x17, 0, 0, 0, 1, 0, 0, 0, 1, 2, 0, 0, 0), 0x03);
	check_ex(BYTES(0x17, 0, 0, 0, 1, 0, 0, 0), 0x03);
	assert_int_equal(tm.nlog, 0);
}

static void fc23_write_121_read_125_ok(void **state)
{
	uint8_t req[10 + 242] = {0x17, 0, 0, 0, 125, 0, 0, 0, 121, 242};
	uint8_t rsp[MB_PDU_MAX];
	size_t n;

	(void)state;
	req[10 + 240] = 0x55;
	req[10 + 241] = 0xAA;
	n = mb_pdu_process(&tmap, NULL, req, sizeof(req), rsp, false);
	assert_int_equal(n, 252);
	assert_int_equal(rsp[0], 0x17);
	assert_int_equal(rsp[1], 250);
	assert_int_equal(rsp[2 + 240], 0x55); /* register 120 as written */
	assert_int_equal(rsp[2 + 241], 0xAA);
}

static void fc23_address_overflow_ex02(void **state)
{
	(void)state;
	/* read range past 0xFFFF */
	check_ex(BYTES(0x17, 0xFF, 0xFF, 0, 2, 0, 0, 0, 1, 2, 0, 7), 0x02);
	/* write range past 0xFFFF */
	check_ex(BYTES(0x17, 0, 0, 0, 1, 0xFF, 0xFF, 0, 2, 4, 0, 7, 0, 8),
	         0x02);
	assert_int_equal(tm.nlog, 0);
	assert_int_equal(tm.hr[0], 0);
}

/* ---- other function codes, empty request --------------------------------- */

static void unknown_function_codes_ex01(void **state)
{
	(void)state;
	check_ex(BYTES(0x07), 0x01);
	check_ex(BYTES(0x08, 0x00, 0x00, 0x12, 0x34), 0x01);
	check_ex(BYTES(0x16, 0, 0, 0, 0, 0, 0), 0x01);
	check_ex(BYTES(0x00), 0x01);
	check_ex(BYTES(0x81, 0x00), 0x01);
	check_ex(BYTES(0x7F), 0x01);
}

static void empty_request_returns_0(void **state)
{
	const uint8_t req[1] = {0x03};
	uint8_t rsp[MB_PDU_MAX] = {0};

	(void)state;
	assert_int_equal(mb_pdu_process(&tmap, NULL, req, 0, rsp, false), 0);
	assert_int_equal(mb_pdu_process(&tmap, NULL, req, 0, rsp, true), 0);
	assert_int_equal(tm.nlog, 0);
}

static void exception_builder(void **state)
{
	uint8_t rsp[2];

	(void)state;
	assert_int_equal(mb_pdu_exception(0x03, 0x02, rsp), 2);
	assert_int_equal(rsp[0], 0x83);
	assert_int_equal(rsp[1], 0x02);
}

static void null_callbacks_are_ex01(void **state)
{
	const struct mb_map regs_only = {.read_registers = t_read_registers};

	(void)state;
	check_map(&regs_only, BYTES(0x01, 0, 0, 0, 1), BYTES(0x81, 0x01));
	check_map(&regs_only, BYTES(0x05, 0, 0, 0xFF, 0), BYTES(0x85, 0x01));
	check_map(&regs_only, BYTES(0x06, 0, 0, 0, 1), BYTES(0x86, 0x01));
	check_map(&regs_only, BYTES(0x0F, 0, 0, 0, 1, 1, 1), BYTES(0x8F, 0x01));
	check_map(&regs_only, BYTES(0x10, 0, 0, 0, 1, 2, 0, 1),
	          BYTES(0x90, 0x01));
	check_map(&regs_only, BYTES(0x17, 0, 0, 0, 1, 0, 0, 0, 1, 2, 0, 1),
	          BYTES(0x97, 0x01));
	check_map(&regs_only, BYTES(0x2B, 0x0E, 0x01, 0x00), BYTES(0xAB, 0x01));
	check_map(&regs_only, BYTES(0x03, 0, 0, 0, 1), BYTES(0x03, 0x02, 0, 0));
}

/* ---- broadcast ----------------------------------------------------------- */

static void broadcast_performs_writes_returns_0(void **state)
{
	(void)state;
	assert_int_equal(broadcast(BYTES(0x06, 0x00, 0x02, 0x12, 0x34)), 0);
	assert_int_equal(tm.hr[2], 0x1234);
	assert_int_equal(broadcast(BYTES(0x05, 0x00, 0x03, 0xFF, 0x00)), 0);
	assert_int_equal(tm.coils[3], 1);
	assert_int_equal(
	        broadcast(BYTES(0x0F, 0x00, 0x08, 0x00, 0x03, 0x01, 0x05)), 0);
	assert_int_equal(tm.coils[8], 1);
	assert_int_equal(tm.coils[9], 0);
	assert_int_equal(tm.coils[10], 1);
	assert_int_equal(broadcast(BYTES(0x10, 0x00, 0x20, 0x00, 0x01, 0x02,
	                                 0xAB, 0xCD)),
	                 0);
	assert_int_equal(tm.hr[0x20], 0xABCD);
	assert_string_equal(tm.log, "WwwW");
}

static void broadcast_ignores_reads_and_rw(void **state)
{
	(void)state;
	assert_int_equal(broadcast(BYTES(0x01, 0, 0, 0, 1)), 0);
	assert_int_equal(broadcast(BYTES(0x02, 0, 0, 0, 1)), 0);
	assert_int_equal(broadcast(BYTES(0x03, 0, 0, 0, 1)), 0);
	assert_int_equal(broadcast(BYTES(0x04, 0, 0, 0, 1)), 0);
	assert_int_equal(broadcast(BYTES(0x2B, 0x0E, 0x01, 0x00)), 0);
	assert_int_equal(
	        broadcast(BYTES(0x17, 0, 0, 0, 1, 0, 5, 0, 1, 2, 0x12, 0x34)),
	        0);
	assert_int_equal(tm.hr[5], 0);
	assert_int_equal(tm.nlog, 0);
}

static void broadcast_never_answers_errors(void **state)
{
	(void)state;
	assert_int_equal(broadcast(BYTES(0x07)), 0);
	assert_int_equal(broadcast(BYTES(0x06, 0x00)), 0);
	assert_int_equal(broadcast(BYTES(0x05, 0x00, 0x01, 0x12, 0x34)), 0);
	assert_int_equal(broadcast(BYTES(0x06, 0x20, 0x00, 0x00, 0x01)), 0);
	assert_int_equal(tm.coils[1], 0);
	assert_string_equal(tm.log, "W"); /* the one with a valid frame */
}

/* ---- in-place processing ------------------------------------------------- */

static void response_may_overwrite_request(void **state)
{
	uint8_t buf[MB_PDU_MAX];
	size_t n;

	(void)state;
	tm.hr[0x10] = 0x0102;
	tm.hr[0x11] = 0x0304;
	memcpy(buf, (const uint8_t[]){0x03, 0x00, 0x10, 0x00, 0x02}, 5);
	n = mb_pdu_process(&tmap, NULL, buf, 5, buf, false);
	assert_int_equal(n, 6);
	assert_memory_equal(buf, ((const uint8_t[]){0x03, 4, 1, 2, 3, 4}), 6);

	memcpy(buf,
	       (const uint8_t[]){0x17, 0, 0x20, 0, 2, 0, 0x20, 0, 2, 4, 0xA1,
	                         0xA2, 0xB1, 0xB2},
	       14);
	n = mb_pdu_process(&tmap, NULL, buf, 14, buf, false);
	assert_int_equal(n, 6);
	assert_memory_equal(
	        buf, ((const uint8_t[]){0x17, 4, 0xA1, 0xA2, 0xB1, 0xB2}), 6);

	memcpy(buf, (const uint8_t[]){0x10, 0, 0x30, 0, 1, 2, 0x77, 0x88}, 8);
	n = mb_pdu_process(&tmap, NULL, buf, 8, buf, false);
	assert_int_equal(n, 5);
	assert_memory_equal(buf, ((const uint8_t[]){0x10, 0, 0x30, 0, 1}), 5);
	assert_int_equal(tm.hr[0x30], 0x7788);
}

/* ---- FC 43 / MEI 14 ------------------------------------------------------ */

static void fc43_basic_stream(void **state)
{
	(void)state;
	tm.objs[3] = "http://x"; /* regular: not in the basic stream */
	check(BYTES(0x2B, 0x0E, 0x01, 0x00),
	      BYTES(0x2B, 0x0E, 0x01, 0x83, 0x00, 0x00, 0x03, /* header */
	            0x00, 8, 'M', 'e', 't', 'r', 'o', 'l', 'a', 'b', /* */
	            0x01, 4, 'M', 'L', '-', 'T',                     /* */
	            0x02, 4, 'V', '1', '.', '0'));
}

static void fc43_regular_stream_skips_absent(void **state)
{
	(void)state;
	tm.objs[0] = "A";
	tm.objs[1] = "B";
	tm.objs[2] = "C";
	tm.objs[4] = "E"; /* 3 absent */
	tm.objs[6] = "G";
	tm.objs[7] = "H"; /* reserved: past the regular range */
	tm.objs[0x80] = "X";
	check(BYTES(0x2B, 0x0E, 0x02, 0x00),
	      BYTES(0x2B, 0x0E, 0x02, 0x83, 0x00, 0x00, 0x05, 0x00, 1, 'A',
	            0x01, 1, 'B', 0x02, 1, 'C', 0x04, 1, 'E', 0x06, 1, 'G'));
}

static void fc43_extended_stream_includes_private_objects(void **state)
{
	(void)state;
	tm.objs[0] = "A";
	tm.objs[1] = "B";
	tm.objs[2] = "";
	tm.objs[0x80] = "X";
	tm.objs[0xFF] = "Z";
	check(BYTES(0x2B, 0x0E, 0x03, 0x00),
	      BYTES(0x2B, 0x0E, 0x03, 0x83, 0x00, 0x00, 0x05, 0x00, 1, 'A',
	            0x01, 1, 'B', 0x02, 0, 0x80, 1, 'X', 0xFF, 1, 'Z'));
}

static void fc43_stream_from_a_start_object(void **state)
{
	(void)state;
	check(BYTES(0x2B, 0x0E, 0x01, 0x01),
	      BYTES(0x2B, 0x0E, 0x01, 0x83, 0x00, 0x00, 0x02, 0x01, 4, 'M', 'L',
	            '-', 'T', 0x02, 4, 'V', '1', '.', '0'));
}

static void fc43_unknown_start_object_restarts_at_0(void **state)
{
	static const uint8_t all[] = {
	        0x2B, 0x0E, 0x01, 0x83, 0x00, 0x00, 0x03,                /* */
	        0x00, 8,    'M',  'e',  't',  'r',  'o',  'l', 'a', 'b', /* */
	        0x01, 4,    'M',  'L',  '-',  'T',                       /* */
	        0x02, 4,    'V',  '1',  '.',  '0'};

	(void)state;
	tm.objs[5] = "model";
	/* 0x05 exists but is outside the basic category */
	check(BYTES(0x2B, 0x0E, 0x01, 0x05), all, sizeof(all));
	/* 0x42 is absent */
	check(BYTES(0x2B, 0x0E, 0x01, 0x42), all, sizeof(all));
	tm.objs[0x90] = NULL;
	check(BYTES(0x2B, 0x0E, 0x03, 0x90),
	      BYTES(0x2B, 0x0E, 0x03, 0x83, 0x00, 0x00, 0x04, 0x00, 8, 'M', 'e',
	            't', 'r', 'o', 'l', 'a', 'b', 0x01, 4, 'M', 'L', '-', 'T',
	            0x02, 4, 'V', '1', '.', '0', 0x05, 5, 'm', 'o', 'd', 'e',
	            'l'));
}

static void fc43_specific_object(void **state)
{
	(void)state;
	tm.objs[0x80] = "SN42";
	check(BYTES(0x2B, 0x0E, 0x04, 0x80),
	      BYTES(0x2B, 0x0E, 0x04, 0x83, 0x00, 0x00, 0x01, 0x80, 4, 'S', 'N',
	            '4', '2'));
	check(BYTES(0x2B, 0x0E, 0x04, 0x01),
	      BYTES(0x2B, 0x0E, 0x04, 0x83, 0x00, 0x00, 0x01, 0x01, 4, 'M', 'L',
	            '-', 'T'));
}

static void fc43_specific_absent_object_ex02(void **state)
{
	(void)state;
	check_ex(BYTES(0x2B, 0x0E, 0x04, 0x03), 0x02);
	check_ex(BYTES(0x2B, 0x0E, 0x04, 0xFF), 0x02);
}

static void fc43_bad_read_code_ex03(void **state)
{
	(void)state;
	check_ex(BYTES(0x2B, 0x0E, 0x00, 0x00), 0x03);
	check_ex(BYTES(0x2B, 0x0E, 0x05, 0x00), 0x03);
	check_ex(BYTES(0x2B, 0x0E, 0xFF, 0x00), 0x03);
}

static void fc43_wrong_mei_type_ex01(void **state)
{
	(void)state;
	check_ex(BYTES(0x2B, 0x0D, 0x01, 0x00), 0x01);
	check_ex(BYTES(0x2B, 0x00), 0x01);
}

static void fc43_wrong_length_ex03(void **state)
{
	(void)state;
	check_ex(BYTES(0x2B), 0x03);
	check_ex(BYTES(0x2B, 0x0E), 0x03);
	check_ex(BYTES(0x2B, 0x0E, 0x01), 0x03);
	check_ex(BYTES(0x2B, 0x0E, 0x01, 0x00, 0x00), 0x03);
}

static char s100a[101], s100b[101], s100c[101], s244[245];

static void fill(char *s, char c, size_t n)
{
	memset(s, c, n);
	s[n] = '\0';
}

static void fc43_more_follows_when_objects_do_not_fit(void **state)
{
	uint8_t rsp[MB_PDU_MAX];
	size_t n;

	(void)state;
	fill(s100a, 'a', 100);
	fill(s100b, 'b', 100);
	fill(s100c, 'c', 100);
	tm.objs[0] = s100a;
	tm.objs[1] = s100b;
	tm.objs[2] = s100c;
	/* 7 + 102 + 102 = 211; object 2 would make it 313 > 253 */
	n = mb_pdu_process(&tmap, NULL, (const uint8_t[]){0x2B, 0x0E, 0x01, 0},
	                   4, rsp, false);
	assert_int_equal(n, 211);
	assert_memory_equal(rsp,
	                    ((const uint8_t[]){0x2B, 0x0E, 0x01, 0x83, 0xFF,
	                                       0x02, 0x02, 0x00, 100}),
	                    9);
	assert_int_equal(rsp[9], 'a');
	assert_int_equal(rsp[109], 0x01);
	assert_int_equal(rsp[110], 100);
	assert_int_equal(rsp[111], 'b');
	assert_int_equal(rsp[210], 'b');
	/* the client follows "next object id" */
	n = mb_pdu_process(&tmap, NULL,
	                   (const uint8_t[]){0x2B, 0x0E, 0x01, 0x02}, 4, rsp,
	                   false);
	assert_int_equal(n, 109);
	assert_memory_equal(rsp,
	                    ((const uint8_t[]){0x2B, 0x0E, 0x01, 0x83, 0x00,
	                                       0x00, 0x01, 0x02, 100}),
	                    9);
	assert_int_equal(rsp[108], 'c');
}

static void fc43_object_of_244_bytes_fills_the_pdu(void **state)
{
	uint8_t rsp[MB_PDU_MAX];
	size_t n;

	(void)state;
	fill(s244, 'z', 244);
	tm.objs[1] = s244;
	n = mb_pdu_process(&tmap, NULL, (const uint8_t[]){0x2B, 0x0E, 0x01, 0},
	                   4, rsp, false);
	/* object 0 (8 chars) fits, object 1 does not: more follows at 1 */
	assert_int_equal(n, 7 + 10);
	assert_int_equal(rsp[4], 0xFF);
	assert_int_equal(rsp[5], 0x01);
	assert_int_equal(rsp[6], 1);
	n = mb_pdu_process(&tmap, NULL,
	                   (const uint8_t[]){0x2B, 0x0E, 0x01, 0x01}, 4, rsp,
	                   false);
	assert_int_equal(n, MB_PDU_MAX);
	assert_int_equal(rsp[4], 0xFF); /* object 2 still to come */
	assert_int_equal(rsp[5], 0x02);
	assert_int_equal(rsp[6], 1);
	assert_int_equal(rsp[7], 0x01);
	assert_int_equal(rsp[8], 244);
	assert_int_equal(rsp[252], 'z');
	n = mb_pdu_process(&tmap, NULL,
	                   (const uint8_t[]){0x2B, 0x0E, 0x04, 0x01}, 4, rsp,
	                   false);
	assert_int_equal(n, MB_PDU_MAX);
	assert_int_equal(rsp[4], 0x00);
	assert_int_equal(rsp[5], 0x00);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, setup)
	        T(fc01_read_coils_spec_example),
	        T(fc02_read_discrete_inputs_spec_example),
	        T(fc01_reads_from_coils_not_inputs),
	        T(fc01_quantity_2000_fills_250_bytes),
	        T(fc01_quantity_0_and_2001_are_ex03),
	        T(fc01_address_ffff_qty1_ok_qty2_ex02),
	        T(fc01_unmapped_address_is_map_ex02),
	        T(fc03_read_holding_spec_example),
	        T(fc04_read_input_spec_example),
	        T(fc03_quantity_125_ok_126_ex03_0_ex03),
	        T(fc03_address_ffff_qty1_ok_qty2_ex02),
	        T(fc03_short_and_long_requests_ex03),
	        T(map_exception_is_passed_through),
	        T(fc05_write_coil_on_off_echo),
	        T(fc05_bad_value_ex03),
	        T(fc05_address_ffff_ok),
	        T(fc06_write_register_spec_example),
	        T(fc06_wrong_length_ex03),
	        T(fc15_write_coils_spec_example),
	        T(fc15_quantity_and_byte_count_checks_ex03),
	        T(fc15_quantity_1968_ok),
	        T(fc15_address_overflow_ex02),
	        T(fc16_write_registers_spec_example),
	        T(fc16_quantity_and_byte_count_checks_ex03),
	        T(fc16_quantity_123_ok),
	        T(fc16_address_overflow_ex02),
	        T(fc23_read_write_spec_example),
	        T(fc23_writes_before_reading),
	        T(fc23_limits_ex03),
	        T(fc23_write_121_read_125_ok),
	        T(fc23_address_overflow_ex02),
	        T(unknown_function_codes_ex01),
	        T(empty_request_returns_0),
	        T(exception_builder),
	        T(null_callbacks_are_ex01),
	        T(broadcast_performs_writes_returns_0),
	        T(broadcast_ignores_reads_and_rw),
	        T(broadcast_never_answers_errors),
	        T(response_may_overwrite_request),
	        T(fc43_basic_stream),
	        T(fc43_regular_stream_skips_absent),
	        T(fc43_extended_stream_includes_private_objects),
	        T(fc43_stream_from_a_start_object),
	        T(fc43_unknown_start_object_restarts_at_0),
	        T(fc43_specific_object),
	        T(fc43_specific_absent_object_ex02),
	        T(fc43_bad_read_code_ex03),
	        T(fc43_wrong_mei_type_ex01),
	        T(fc43_wrong_length_ex03),
	        T(fc43_more_follows_when_objects_do_not_fit),
	        T(fc43_object_of_244_bytes_fills_the_pdu),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
