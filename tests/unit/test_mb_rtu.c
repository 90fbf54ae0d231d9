/*
 * test_mb_rtu.c - RTU framing: CRC-16 vectors, request length prediction,
 * parse/build, the 3.5-character time and the byte-at-a-time receiver
 * (length-delimited, silence-delimited, microsecond counter wrap-around).
 * CRCs in expected frames were computed independently of this code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mb.h"
#include "mbtest.h"

/* ---- CRC ----------------------------------------------------------------- */

static void crc_read_10_registers_vector(void **state)
{
	(void)state;
	/* the classic frame 01 03 00 00 00 0A C5 CD: CRC 0xCDC5, low first */
	assert_int_equal(mb_crc16(BYTES(0x01, 0x03, 0x00, 0x00, 0x00, 0x0A)),
	                 0xCDC5);
}

static void crc_spec_example_and_check_value(void **state)
{
	(void)state;
	/* Modbus over serial line: 11 03 00 6B 00 03 -> 76 87 on the wire */
	assert_int_equal(mb_crc16(BYTES(0x11, 0x03, 0x00, 0x6B, 0x00, 0x03)),
	                 0x8776);
	/* CRC-16/MODBUS catalogue check value */
	assert_int_equal(mb_crc16((const uint8_t *)"123456789", 9), 0x4B37);
	assert_int_equal(mb_crc16(NULL, 0), 0xFFFF);
}

static void crc_of_frame_with_its_crc_is_zero(void **state)
{
	(void)state;
	assert_int_equal(
	        mb_crc16(BYTES(0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD)),
	        0);
}

/* ---- request length ------------------------------------------------------ */

static void request_len_fixed_function_codes(void **state)
{
	uint8_t fc;

	(void)state;
	for (fc = 1; fc <= 6; fc++) {
		uint8_t b[2] = {0x11, fc};

		assert_int_equal(mb_rtu_request_len(b, 2), 8);
		assert_int_equal(mb_rtu_request_len(b, 1), 0);
	}
	assert_int_equal(mb_rtu_request_len(BYTES(0x11, 0x2B)), 7);
	assert_int_equal(mb_rtu_request_len(NULL, 0), 0);
}

static void request_len_write_multiple_needs_byte_count(void **state)
{
	const uint8_t f16[] = {0x01, 0x10, 0x00, 0x01, 0x00, 0x02, 0x04};
	const uint8_t f15[] = {0x01, 0x0F, 0x00, 0x13, 0x00, 0x0A, 0x02};
	size_t n;

	(void)state;
	for (n = 2; n < 7; n++) {
		assert_int_equal(mb_rtu_request_len(f16, n), 0);
		assert_int_equal(mb_rtu_request_len(f15, n), 0);
	}
	assert_int_equal(mb_rtu_request_len(f16, 7), 13);
	assert_int_equal(mb_rtu_request_len(f15, 7), 11);
	/* byte count 246 (123 registers): 255; 247 would be 256, 248 too long
	 */
	assert_int_equal(mb_rtu_request_len(BYTES(1, 0x10, 0, 0, 0, 123, 246)),
	                 255);
	assert_int_equal(mb_rtu_request_len(BYTES(1, 0x10, 0, 0, 0, 0, 247)),
	                 256);
	assert_int_equal(mb_rtu_request_len(BYTES(1, 0x10, 0, 0, 0, 0, 248)),
	                 -1);
	assert_int_equal(mb_rtu_request_len(BYTES(1, 0x0F, 0, 0, 0, 0, 255)),
	                 -1);
}

static void request_len_read_write_needs_byte_count(void **state)
{
	const uint8_t f23[] = {0x01, 0x17, 0, 3, 0, 6, 0, 0x0E, 0, 3, 6};
	size_t n;

	(void)state;
	for (n = 2; n < 11; n++)
		assert_int_equal(mb_rtu_request_len(f23, n), 0);
	assert_int_equal(mb_rtu_request_len(f23, 11), 19);
	assert_int_equal(
	        mb_rtu_request_len(BYTES(1, 0x17, 0, 0, 0, 0, 0, 0, 0, 0, 243)),
	        256);
	assert_int_equal(
	        mb_rtu_request_len(BYTES(1, 0x17, 0, 0, 0, 0, 0, 0, 0, 0, 244)),
	        -1);
}

static void request_len_unknown_function_is_minus_1(void **state)
{
	(void)state;
	assert_int_equal(mb_rtu_request_len(BYTES(0x01, 0x07)), -1);
	assert_int_equal(mb_rtu_request_len(BYTES(0x01, 0x00)), -1);
	assert_int_equal(mb_rtu_request_len(BYTES(0x01, 0x83)), -1);
	assert_int_equal(mb_rtu_request_len(BYTES(0x01, 0x41, 0x00)), -1);
}

/* ---- parse / build ------------------------------------------------------- */

static void parse_good_frame(void **state)
{
	uint8_t unit = 0;
	size_t pdu_len = 0;

	(void)state;
	assert_int_equal(mb_rtu_parse(BYTES(0x11, 0x03, 0x00, 0x6B, 0x00, 0x03,
	                                    0x76, 0x87),
	                              &unit, &pdu_len),
	                 0);
	assert_int_equal(unit, 0x11);
	assert_int_equal(pdu_len, 5);
}

static void parse_bad_crc_rejected(void **state)
{
	uint8_t unit;
	size_t pdu_len;

	(void)state;
	assert_int_equal(mb_rtu_parse(BYTES(0x11, 0x03, 0x00, 0x6B, 0x00, 0x03,
	                                    0x87, 0x76),
	                              &unit, &pdu_len),
	                 -1); /* CRC bytes swapped */
	assert_int_equal(mb_rtu_parse(BYTES(0x11, 0x03, 0x00, 0x6B, 0x00, 0x04,
	                                    0x76, 0x87),
	                              &unit, &pdu_len),
	                 -1); /* a data bit flipped */
}

static void parse_length_limits(void **state)
{
	uint8_t big[MB_RTU_ADU_MAX + 1];
	uint8_t unit;
	size_t pdu_len;
	uint16_t crc;

	(void)state;
	assert_int_equal(mb_rtu_parse(BYTES(0x01, 0xC1, 0xC0), &unit, &pdu_len),
	                 -1);
	assert_int_equal(mb_rtu_parse(big, 0, &unit, &pdu_len), -1);
	/* a 4-byte frame with a good CRC parses */
	assert_int_equal(mb_rtu_parse(BYTES(0x01, 0x41, 0x01, 0x02, 0xD1, 0x9D),
	                              &unit, &pdu_len),
	                 0);
	assert_int_equal(pdu_len, 3);
	/* 256 bytes with a good CRC parse, 257 never */
	memset(big, 0x5A, sizeof(big));
	crc = mb_crc16(big, MB_RTU_ADU_MAX - 2);
	big[MB_RTU_ADU_MAX - 2] = (uint8_t)(crc & 0xFF);
	big[MB_RTU_ADU_MAX - 1] = (uint8_t)(crc >> 8);
	assert_int_equal(mb_rtu_parse(big, MB_RTU_ADU_MAX, &unit, &pdu_len), 0);
	assert_int_equal(pdu_len, 253);
	crc = mb_crc16(big, MB_RTU_ADU_MAX - 1);
	big[MB_RTU_ADU_MAX - 1] = (uint8_t)(crc & 0xFF);
	big[MB_RTU_ADU_MAX] = (uint8_t)(crc >> 8);
	assert_int_equal(mb_rtu_parse(big, MB_RTU_ADU_MAX + 1, &unit, &pdu_len),
	                 -1);
}

static void build_appends_crc_low_byte_first(void **state)
{
	uint8_t adu[MB_RTU_ADU_MAX];
	const uint8_t want[] = {0x11, 0x03, 0x06, 0x02, 0x2B, 0x00,
	                        0x00, 0x00, 0x64, 0xC8, 0xBA};

	(void)state;
	memcpy(adu + MB_RTU_PDU_OFFSET,
	       (const uint8_t[]){0x03, 0x06, 0x02, 0x2B, 0x00, 0x00, 0x00,
	                         0x64},
	       8);
	assert_int_equal(mb_rtu_build(adu, 0x11, 8), 11);
	assert_memory_equal(adu, want, sizeof(want));
}

static void build_exception_frame(void **state)
{
	uint8_t adu[8];

	(void)state;
	assert_int_equal(mb_pdu_exception(0x03, 0x02, adu + MB_RTU_PDU_OFFSET),
	                 2);
	assert_int_equal(mb_rtu_build(adu, 0x01, 2), 5);
	assert_memory_equal(
	        adu, ((const uint8_t[]){0x01, 0x83, 0x02, 0xC0, 0xF1}), 5);
}

/* ---- t3.5 ---------------------------------------------------------------- */

static void t35_values(void **state)
{
	(void)state;
	assert_int_equal(mb_rtu_t35_us(9600), 4011);  /* 4010.4 rounded up */
	assert_int_equal(mb_rtu_t35_us(19200), 2006); /* 2005.2 */
	assert_int_equal(mb_rtu_t35_us(1200), 32084); /* 32083.3 */
	assert_int_equal(mb_rtu_t35_us(38500), 1750);
	assert_int_equal(mb_rtu_t35_us(19201), 1750);
	assert_int_equal(mb_rtu_t35_us(115200), 1750);
	assert_int_equal(mb_rtu_t35_us(0), 2006); /* treated as 19200 */
	assert_int_equal(mb_rtu_t35_us(1), 38500000);
	assert_int_equal(mb_rtu_t35_us(7), 5500000); /* exact: no rounding */
}

/* ---- receiver ------------------------------------------------------------ */

#define T35     1750u
#define CHAR_US 100u /* a byte time at 115200 baud, roughly */

/* Feed bytes CHAR_US apart from t0; returns the time of the last one. */
static uint32_t feed(struct mb_rtu_rx *rx, const uint8_t *b, size_t n,
                     uint32_t t0)
{
	size_t i;
	uint32_t t = t0;

	for (i = 0; i < n; i++) {
		t = t0 + (uint32_t)i * CHAR_US;
		mb_rtu_rx_byte(rx, b[i], t, T35);
	}
	return t;
}

/* feed() into a receiver just reset. */
static uint32_t feed_new(struct mb_rtu_rx *rx, const uint8_t *b, size_t n,
                         uint32_t t0)
{
	mb_rtu_rx_reset(rx);
	return feed(rx, b, n, t0);
}

static const uint8_t read_frame[] = {0x11, 0x03, 0x00, 0x6B,
                                     0x00, 0x03, 0x76, 0x87};

/* Into a receiver just reset, feed all but the last of the n bytes of
 * frame f from t0: not ready; then the last one CHAR_US later: ready at
 * once with n bytes, before any silence. Returns the time of the last. */
static uint32_t feed_to_length(struct mb_rtu_rx *rx, const uint8_t *f, size_t n,
                               uint32_t t0)
{
	uint32_t t = feed_new(rx, f, n - 1, t0);

	assert_int_equal(mb_rtu_rx_poll(rx, t, T35), 0);
	mb_rtu_rx_byte(rx, f[n - 1], t + CHAR_US, T35);
	assert_int_equal(mb_rtu_rx_poll(rx, t + CHAR_US, T35), n);
	return t;
}

static void rx_length_delimited_frame_ready_without_silence(void **state)
{
	struct mb_rtu_rx rx;
	uint32_t t;

	(void)state;
	t = feed_to_length(&rx, read_frame, sizeof(read_frame), 1000);
	assert_memory_equal(rx.buf, read_frame, 8);
	/* stays ready until reset */
	assert_int_equal(mb_rtu_rx_poll(&rx, t + 10 * T35, T35), 8);
	mb_rtu_rx_reset(&rx);
	assert_int_equal(mb_rtu_rx_poll(&rx, t + 10 * T35, T35), 0);
}

static void rx_write_multiple_length_from_byte_count(void **state)
{
	const uint8_t f[] = {0x01, 0x10, 0x00, 0x01, 0x00, 0x02, 0x04,
	                     0x00, 0x0A, 0x01, 0x02, 0x92, 0x30};
	struct mb_rtu_rx rx;

	(void)state;
	feed_to_length(&rx, f, sizeof(f), 0);
}

static void rx_silence_delimited_unknown_function(void **state)
{
	const uint8_t f[] = {0x01, 0x41, 0x01, 0x02, 0xD1, 0x9D};
	struct mb_rtu_rx rx;
	uint32_t t;

	(void)state;
	t = feed_new(&rx, f, sizeof(f), 5000);
	assert_int_equal(mb_rtu_rx_poll(&rx, t + T35 - 1, T35), 0);
	assert_int_equal(mb_rtu_rx_poll(&rx, t + T35, T35), sizeof(f));
	assert_memory_equal(rx.buf, f, sizeof(f));
}

static void rx_truncated_frame_ends_at_silence(void **state)
{
	struct mb_rtu_rx rx;
	uint32_t t;

	(void)state;
	t = feed_new(&rx, read_frame, 5, 0);
	assert_int_equal(mb_rtu_rx_poll(&rx, t + T35 - 1, T35), 0);
	assert_int_equal(mb_rtu_rx_poll(&rx, t + T35, T35), 5);
}

static void rx_byte_after_silence_starts_new_frame(void **state)
{
	struct mb_rtu_rx rx;
	uint32_t t;

	(void)state;
	t = feed_new(&rx, (const uint8_t[]){0xAA, 0xBB, 0xCC}, 3, 0);
	/* no poll in between: the stale bytes are dropped */
	t = feed(&rx, read_frame, sizeof(read_frame), t + T35 + 1);
	assert_int_equal(mb_rtu_rx_poll(&rx, t, T35), 8);
	assert_memory_equal(rx.buf, read_frame, 8);
}

static void rx_gap_shorter_than_t35_continues_frame(void **state)
{
	struct mb_rtu_rx rx;
	uint32_t t = 0;
	size_t i;

	(void)state;
	mb_rtu_rx_reset(&rx);
	for (i = 0; i < sizeof(read_frame); i++) {
		mb_rtu_rx_byte(&rx, read_frame[i], t, T35);
		t += T35 - 1;
	}
	assert_int_equal(mb_rtu_rx_poll(&rx, t, T35), 8);
}

static void rx_gap_of_exactly_t35_splits_frames(void **state)
{
	struct mb_rtu_rx rx;

	(void)state;
	mb_rtu_rx_reset(&rx);
	mb_rtu_rx_byte(&rx, 0x01, 0, T35);
	mb_rtu_rx_byte(&rx, 0x41, T35 - 1, T35); /* still the same frame */
	assert_int_equal(rx.len, 2);
	mb_rtu_rx_byte(&rx, 0x07, 2 * T35 - 1, T35); /* exactly t3.5 later */
	assert_int_equal(rx.len, 1);
	assert_int_equal(rx.buf[0], 0x07);
}

static void rx_time_wraps_around(void **state)
{
	const uint8_t f[] = {0x01, 0x41, 0x01, 0x02, 0xD1, 0x9D};
	struct mb_rtu_rx rx;
	uint32_t t0 = 0xFFFFFFFFu - 250u; /* wraps during the frame */
	uint32_t t;

	(void)state;
	t = feed_new(&rx, f, sizeof(f), t0);
	assert_true(t < t0); /* the counter did wrap */
	assert_int_equal(rx.len, sizeof(f));
	assert_int_equal(mb_rtu_rx_poll(&rx, t + 10, T35), 0);
	assert_int_equal(mb_rtu_rx_poll(&rx, t + T35, T35), sizeof(f));
	mb_rtu_rx_reset(&rx);
	/* last byte just before the wrap, poll just after */
	mb_rtu_rx_byte(&rx, 0x01, 0xFFFFFF00u, T35);
	mb_rtu_rx_byte(&rx, 0x41, 0xFFFFFF80u, T35);
	assert_int_equal(mb_rtu_rx_poll(&rx, 0x00000100u, T35), 0);
	assert_int_equal(mb_rtu_rx_poll(&rx, 0xFFFFFF80u + T35, T35), 2);
}

/* From a reset receiver, feed 0x01 at time 0 then n - 1 bytes 0x41, 10 us
 * apart; returns the time of the last one. */
static uint32_t feed_long(struct mb_rtu_rx *rx, size_t n)
{
	uint32_t t = 0;

	mb_rtu_rx_reset(rx);
	mb_rtu_rx_byte(rx, 0x01, t, T35);
	for (size_t i = 1; i < n; i++)
		mb_rtu_rx_byte(rx, 0x41, t += 10, T35);
	return t;
}

static void rx_overflow_frame_dropped(void **state)
{
	struct mb_rtu_rx rx;
	uint32_t t;

	(void)state;
	t = feed_long(&rx, 300);
	assert_true(rx.overflow);
	assert_int_equal(mb_rtu_rx_poll(&rx, t + T35, T35), 0);
	assert_false(rx.overflow);
	/* and the receiver is ready for the next frame */
	t = feed(&rx, read_frame, sizeof(read_frame), t + 2 * T35);
	assert_int_equal(mb_rtu_rx_poll(&rx, t, T35), 8);
}

static void rx_exactly_256_bytes_by_silence(void **state)
{
	struct mb_rtu_rx rx;
	uint32_t t;

	(void)state;
	t = feed_long(&rx, MB_RTU_ADU_MAX);
	assert_false(rx.overflow);
	assert_int_equal(mb_rtu_rx_poll(&rx, t + T35, T35), MB_RTU_ADU_MAX);
}

static void rx_bytes_while_ready_are_dropped(void **state)
{
	struct mb_rtu_rx rx;
	uint32_t t;

	(void)state;
	t = feed_new(&rx, read_frame, sizeof(read_frame), 0);
	mb_rtu_rx_byte(&rx, 0x99, t + CHAR_US, T35);
	mb_rtu_rx_byte(&rx, 0x98, t + 5 * T35, T35);
	assert_int_equal(mb_rtu_rx_poll(&rx, t + 6 * T35, T35), 8);
	assert_memory_equal(rx.buf, read_frame, 8);
}

static void rx_poll_on_idle_receiver_is_0(void **state)
{
	struct mb_rtu_rx rx;

	(void)state;
	memset(&rx, 0xA5, sizeof(rx));
	mb_rtu_rx_reset(&rx);
	assert_int_equal(mb_rtu_rx_poll(&rx, 0, T35), 0);
	assert_int_equal(mb_rtu_rx_poll(&rx, 0x80000000u, T35), 0);
}

/* A frame from the receiver goes through parse, the PDU layer and build. */
static uint8_t e_read_registers(void *ctx, enum mb_table table, uint16_t addr,
                                uint16_t count, uint8_t *out)
{
	unsigned i;

	(void)ctx;
	(void)table;
	for (i = 0; i < count; i++) {
		out[2 * i] = 0;
		out[2 * i + 1] = (uint8_t)(addr + i);
	}
	return MB_EX_NONE;
}

static void rx_to_response_end_to_end(void **state)
{
	const struct mb_map map = {.read_registers = e_read_registers};
	const uint8_t req[] = {0x01, 0x04, 0x00, 0x00, 0x00, 0x02, 0x71, 0xCB};
	const uint8_t want[] = {0x01, 0x04, 0x04, 0x00, 0x00,
	                        0x00, 0x01, 0x3A, 0x44};
	uint8_t out[MB_RTU_ADU_MAX];
	struct mb_rtu_rx rx;
	size_t len, pdu_len, rsp_len;
	uint8_t unit;
	uint32_t t;

	(void)state;
	t = feed_new(&rx, req, sizeof(req), 0);
	len = mb_rtu_rx_poll(&rx, t, T35);
	assert_int_equal(len, sizeof(req));
	assert_int_equal(mb_rtu_parse(rx.buf, len, &unit, &pdu_len), 0);
	rsp_len = mb_pdu_process(&map, NULL, rx.buf + 1, pdu_len,
	                         out + MB_RTU_PDU_OFFSET, unit == 0);
	assert_int_equal(rsp_len, 6);
	assert_int_equal(mb_rtu_build(out, unit, rsp_len), sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(crc_read_10_registers_vector),
	        cmocka_unit_test(crc_spec_example_and_check_value),
	        cmocka_unit_test(crc_of_frame_with_its_crc_is_zero),
	        cmocka_unit_test(request_len_fixed_function_codes),
	        cmocka_unit_test(request_len_write_multiple_needs_byte_count),
	        cmocka_unit_test(request_len_read_write_needs_byte_count),
	        cmocka_unit_test(request_len_unknown_function_is_minus_1),
	        cmocka_unit_test(parse_good_frame),
	        cmocka_unit_test(parse_bad_crc_rejected),
	        cmocka_unit_test(parse_length_limits),
	        cmocka_unit_test(build_appends_crc_low_byte_first),
	        cmocka_unit_test(build_exception_frame),
	        cmocka_unit_test(t35_values),
	        cmocka_unit_test(
	                rx_length_delimited_frame_ready_without_silence),
	        cmocka_unit_test(rx_write_multiple_length_from_byte_count),
	        cmocka_unit_test(rx_silence_delimited_unknown_function),
	        cmocka_unit_test(rx_truncated_frame_ends_at_silence),
	        cmocka_unit_test(rx_byte_after_silence_starts_new_frame),
	        cmocka_unit_test(rx_gap_shorter_than_t35_continues_frame),
	        cmocka_unit_test(rx_gap_of_exactly_t35_splits_frames),
	        cmocka_unit_test(rx_time_wraps_around),
	        cmocka_unit_test(rx_overflow_frame_dropped),
	        cmocka_unit_test(rx_exactly_256_bytes_by_silence),
	        cmocka_unit_test(rx_bytes_while_ready_are_dropped),
	        cmocka_unit_test(rx_poll_on_idle_receiver_is_0),
	        cmocka_unit_test(rx_to_response_end_to_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
