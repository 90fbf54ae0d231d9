/*
 * test_mb_tcp.c - MBAP framing: how long the next ADU of a stream is,
 * parse and build, and one request through the whole TCP path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mb.h"
#include "mbtest.h"

/* Read holding registers 0x006B x3, transaction 0x0001, unit 0x11. */
static const uint8_t req[] = {0x00, 0x01, 0x00, 0x00, 0x00, 0x06,
                              0x11, 0x03, 0x00, 0x6B, 0x00, 0x03};

static void frame_len_needs_header_then_body(void **state)
{
	size_t n;

	(void)state;
	for (n = 0; n < sizeof(req); n++)
		assert_int_equal(mb_tcp_frame_len(req, n), 0);
	assert_int_equal(mb_tcp_frame_len(req, sizeof(req)), 12);
	/* a longer buffer (pipelined requests): still the first ADU */
	{
		uint8_t two[24];

		memcpy(two, req, 12);
		memcpy(two + 12, req, 12);
		assert_int_equal(mb_tcp_frame_len(two, sizeof(two)), 12);
	}
}

static void frame_len_bad_protocol_id(void **state)
{
	(void)state;
	assert_int_equal(mb_tcp_frame_len(BYTES(0x00, 0x01, 0x00, 0x01)), -1);
	assert_int_equal(mb_tcp_frame_len(BYTES(0x00, 0x01, 0x80, 0x00, 0x00,
	                                        0x06, 0x11, 0x03)),
	                 -1);
	assert_int_equal(mb_tcp_frame_len(BYTES(0x00, 0x01, 0x00)), 0);
}

static void frame_len_bad_length_field(void **state)
{
	(void)state;
	assert_int_equal(mb_tcp_frame_len(BYTES(0, 1, 0, 0, 0x00, 0x00)), -1);
	assert_int_equal(mb_tcp_frame_len(BYTES(0, 1, 0, 0, 0x00, 0x01)), -1);
	assert_int_equal(mb_tcp_frame_len(BYTES(0, 1, 0, 0, 0x00, 0xFF)), -1);
	assert_int_equal(mb_tcp_frame_len(BYTES(0, 1, 0, 0, 0x01, 0x00)), -1);
	assert_int_equal(mb_tcp_frame_len(BYTES(0, 1, 0, 0, 0xFF, 0xFF)), -1);
}

static void frame_len_limits(void **state)
{
	uint8_t buf[MB_TCP_ADU_MAX] = {0, 1, 0, 0, 0x00, 0xFE, 0x11, 0x03};

	(void)state;
	assert_int_equal(mb_tcp_frame_len(buf, 6), 0);
	assert_int_equal(mb_tcp_frame_len(buf, MB_TCP_ADU_MAX - 1), 0);
	assert_int_equal(mb_tcp_frame_len(buf, MB_TCP_ADU_MAX), 260);
	assert_int_equal(mb_tcp_frame_len(BYTES(0, 1, 0, 0, 0, 2, 0x11, 0x07)),
	                 8);
}

static void parse_good_adu(void **state)
{
	struct mb_tcp_header h = {0, 0};
	size_t pdu_len = 0;

	(void)state;
	assert_int_equal(mb_tcp_parse(req, sizeof(req), &h, &pdu_len), 0);
	assert_int_equal(h.transaction_id, 0x0001);
	assert_int_equal(h.unit, 0x11);
	assert_int_equal(pdu_len, 5);
	assert_int_equal(mb_tcp_parse(BYTES(0xAB, 0xCD, 0, 0, 0, 2, 0xFF, 0x2B),
	                              &h, &pdu_len),
	                 0);
	assert_int_equal(h.transaction_id, 0xABCD);
	assert_int_equal(h.unit, 0xFF);
	assert_int_equal(pdu_len, 1);
}

static void parse_rejects_malformed(void **state)
{
	struct mb_tcp_header h;
	size_t pdu_len;
	uint8_t big[MB_TCP_ADU_MAX + 1] = {0, 1, 0, 0, 0x00, 0xFF};

	(void)state;
	/* length field says 7, ADU holds 6 after the header */
	assert_int_equal(
	        mb_tcp_parse(BYTES(0, 1, 0, 0, 0, 7, 0x11, 0x03, 0, 0x6B, 0, 3),
	                     &h, &pdu_len),
	        -1);
	/* protocol id 1 */
	assert_int_equal(
	        mb_tcp_parse(BYTES(0, 1, 0, 1, 0, 6, 0x11, 0x03, 0, 0x6B, 0, 3),
	                     &h, &pdu_len),
	        -1);
	/* no function code */
	assert_int_equal(
	        mb_tcp_parse(BYTES(0, 1, 0, 0, 0, 1, 0x11), &h, &pdu_len), -1);
	assert_int_equal(mb_tcp_parse(big, 0, &h, &pdu_len), -1);
	/* one byte over the maximum, consistent length field */
	assert_int_equal(mb_tcp_parse(big, sizeof(big), &h, &pdu_len), -1);
}

static void build_writes_mbap(void **state)
{
	const struct mb_tcp_header h = {0x1234, 0x11};
	uint8_t adu[MB_TCP_ADU_MAX];

	(void)state;
	memset(adu, 0xEE, sizeof(adu));
	memcpy(adu + MB_TCP_PDU_OFFSET,
	       (const uint8_t[]){0x03, 0x04, 0x00, 0x0A, 0x00, 0x0B}, 6);
	assert_int_equal(mb_tcp_build(adu, &h, 6), 13);
	assert_memory_equal(
	        adu,
	        ((const uint8_t[]){0x12, 0x34, 0x00, 0x00, 0x00, 0x07, 0x11,
	                           0x03, 0x04, 0x00, 0x0A, 0x00, 0x0B}),
	        13);
	assert_int_equal(adu[13], 0xEE);
	assert_int_equal(mb_tcp_build(adu, &h, MB_PDU_MAX), MB_TCP_ADU_MAX);
	assert_int_equal(adu[4], 0x00);
	assert_int_equal(adu[5], 0xFE);
}

static uint8_t e_read_registers(void *ctx, enum mb_table table, uint16_t addr,
                                uint16_t count, uint8_t *out)
{
	static const uint8_t spec[] = {0x02, 0x2B, 0x00, 0x00, 0x00, 0x64};

	(void)ctx;
	if (table != MB_HOLDING_REGISTERS || addr != 0x6B || count != 3)
		return MB_EX_ILLEGAL_DATA_ADDRESS;
	memcpy(out, spec, sizeof(spec));
	return MB_EX_NONE;
}

static void request_through_tcp_path(void **state)
{
	const struct mb_map map = {.read_registers = e_read_registers};
	const uint8_t want[] = {0x00, 0x01, 0x00, 0x00, 0x00, 0x09, 0x11, 0x03,
	                        0x06, 0x02, 0x2B, 0x00, 0x00, 0x00, 0x64};
	uint8_t out[MB_TCP_ADU_MAX];
	struct mb_tcp_header h;
	size_t pdu_len, rsp_len;
	int len;

	(void)state;
	len = mb_tcp_frame_len(req, sizeof(req));
	assert_int_equal(len, 12);
	assert_int_equal(mb_tcp_parse(req, (size_t)len, &h, &pdu_len), 0);
	rsp_len = mb_pdu_process(&map, NULL, req + MB_TCP_PDU_OFFSET, pdu_len,
	                         out + MB_TCP_PDU_OFFSET, false);
	assert_int_equal(rsp_len, 8);
	assert_int_equal(mb_tcp_build(out, &h, rsp_len), sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(frame_len_needs_header_then_body),
	        cmocka_unit_test(frame_len_bad_protocol_id),
	        cmocka_unit_test(frame_len_bad_length_field),
	        cmocka_unit_test(frame_len_limits),
	        cmocka_unit_test(parse_good_adu),
	        cmocka_unit_test(parse_rejects_malformed),
	        cmocka_unit_test(build_writes_mbap),
	        cmocka_unit_test(request_through_tcp_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
