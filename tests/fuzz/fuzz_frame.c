/*
 * fuzz_frame.c - libFuzzer target for everything in the firmware core that
 * reads bytes from the wire: RTU and TCP framing, the byte-at-a-time RTU
 * receiver, the PDU layer and the node register map behind it.
 *
 * The first input byte picks a mode; the rest is the wire data:
 *
 *   0  raw RTU frame: parse (the CRC must happen to match), process
 *   1  RTU frame with its CRC fixed up, so the PDU path is always reached;
 *      processed twice, into a separate buffer and in place over the
 *      request, and the two responses must be identical
 *   2  TCP stream: cut into ADUs by mb_tcp_frame_len(), parse, process
 *   3  RTU receiver: (time step, byte) pairs fed byte at a time, with the
 *      microsecond clock starting just before its wrap-around
 *
 * Every response is checked: at most MB_PDU_MAX bytes, none to a broadcast,
 * the function code echoed (or | 0x80 with a 2-byte exception), and the
 * built frame parses back. The node (8 channels) and its fake board are
 * reset for every input, so runs are deterministic.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mb.h"
#include "node.h"

#define NCH 8
#define T35 1750u

static uint32_t fake_uptime(void *ctx)
{
	(void)ctx;
	return 0x12345678u;
}

/* Values that reach every branch of the value/counts code. */
static int fake_sense(void *ctx, unsigned ch, float *value)
{
	static const float v[NCH] = {20.5f,  0.0f,        3.0e38f,  -3e6f,
	                             1e-40f, 2147483.75f, -0.0005f, 0.0f};
	float zero = 0.0f;

	(void)ctx;
	CHECK(ch < NCH);
	if (ch == 1)
		return -1;
	*value = ch == 7 ? zero / zero : v[ch];
	return 0;
}

static void fake_changed(void *ctx)
{
	(void)ctx;
}

static const struct node_port port = {
        .uptime_s = fake_uptime,
        .sense = fake_sense,
        .calibration_changed = fake_changed,
};

/* Long strings, so device identification needs "more follows". */
#define S100                                                                   \
	"01234567890123456789012345678901234567890123456789012345678901234567" \
	"89"                                                                   \
	"012345678901234567890123456789"
static const struct node_identity ident = {
        .vendor = S100,
        .product_code = S100,
        .revision = S100,
        .url = S100 S100 S100, /* over 244: cut to one full response */
        .product_name = "fuzz node",
        .model = "a model name longer than thirty-two characters",
        .serial = NULL,
};

static struct node nd;

static void node_reset(void)
{
	node_init(&nd, &port, NULL, &ident, NCH);
	nd.ch[0].range_hi = 10.0f;
	nd.ch[6].range_lo = 0.0f;
}

/* Process a PDU into rsp and check the response. */
static size_t process(const uint8_t *pdu, size_t pdu_len, uint8_t *rsp,
                      bool broadcast)
{
	uint8_t fc = pdu_len > 0 ? pdu[0] : 0;
	size_t n;

	n = mb_pdu_process(&node_map, &nd, pdu, pdu_len, rsp, broadcast);
	CHECK(n <= MB_PDU_MAX);
	if (broadcast || pdu_len == 0) {
		CHECK(n == 0);
		return 0;
	}
	CHECK(n >= 2);
	if (rsp[0] & 0x80u) {
		CHECK(n == 2);
		CHECK(rsp[0] == (fc | 0x80u));
		CHECK(rsp[1] >= MB_EX_ILLEGAL_FUNCTION &&
		      rsp[1] <= MB_EX_SERVER_DEVICE_FAILURE);
	} else {
		CHECK(rsp[0] == fc);
	}
	return n;
}

static void rtu_reply(const uint8_t *frame, size_t len)
{
	uint8_t out[MB_RTU_ADU_MAX];
	uint8_t unit, unit2;
	size_t pdu_len, rsp_len, out_len, back;

	if (mb_rtu_parse(frame, len, &unit, &pdu_len) != 0)
		return;
	CHECK(pdu_len + 3 == len);
	rsp_len = process(frame + 1, pdu_len, out + MB_RTU_PDU_OFFSET,
	                  unit == MB_BROADCAST_UNIT);
	if (rsp_len == 0)
		return;
	out_len = mb_rtu_build(out, unit, rsp_len);
	CHECK(out_len == rsp_len + 3 && out_len <= MB_RTU_ADU_MAX);
	CHECK(mb_rtu_parse(out, out_len, &unit2, &back) == 0);
	CHECK(unit2 == unit && back == rsp_len);
}

static void mode_raw_rtu(const uint8_t *d, size_t n)
{
	node_reset();
	rtu_reply(d, n);
}

static void mode_fixed_crc(const uint8_t *d, size_t n)
{
	uint8_t frame[MB_RTU_ADU_MAX], inplace[MB_RTU_ADU_MAX];
	uint8_t out[MB_RTU_ADU_MAX];
	struct node saved;
	size_t len, pdu_len, a, b;
	uint16_t crc;
	uint8_t unit;

	if (n < 1 || n > MB_RTU_ADU_MAX - 2)
		return;
	memcpy(frame, d, n);
	crc = mb_crc16(frame, n);
	frame[n] = (uint8_t)(crc & 0xFF);
	frame[n + 1] = (uint8_t)(crc >> 8);
	len = n + 2;
	node_reset();
	if (len < 4) {
		CHECK(mb_rtu_parse(frame, len, &unit, &pdu_len) == -1);
		return;
	}
	CHECK(mb_rtu_parse(frame, len, &unit, &pdu_len) == 0);
	CHECK(pdu_len == n - 1);

	saved = nd;
	a = process(frame + 1, pdu_len, out + 1, unit == 0);
	nd = saved;
	memcpy(inplace, frame, len);
	b = process(inplace + 1, pdu_len, inplace + 1, unit == 0);
	CHECK(a == b && memcmp(out + 1, inplace + 1, a) == 0);
	rtu_reply(frame, len);
}

static void mode_tcp_stream(const uint8_t *d, size_t n)
{
	uint8_t out[MB_TCP_ADU_MAX];
	struct mb_tcp_header h;
	size_t pdu_len, rsp_len, out_len, back;
	int len;

	node_reset();
	while (n > 0) {
		len = mb_tcp_frame_len(d, n);
		if (len <= 0)
			return; /* need more bytes, or close the connection */
		CHECK(len >= 8 && len <= MB_TCP_ADU_MAX && (size_t)len <= n);
		CHECK(mb_tcp_parse(d, (size_t)len, &h, &pdu_len) == 0);
		CHECK(pdu_len + MB_TCP_PDU_OFFSET == (size_t)len);
		rsp_len = process(d + MB_TCP_PDU_OFFSET, pdu_len,
		                  out + MB_TCP_PDU_OFFSET, false);
		out_len = mb_tcp_build(out, &h, rsp_len);
		CHECK(out_len == rsp_len + 7);
		CHECK(mb_tcp_frame_len(out, out_len) == (int)out_len);
		CHECK(mb_tcp_parse(out, out_len, &h, &back) == 0);
		CHECK(back == rsp_len);
		d += len;
		n -= (size_t)len;
	}
}

static void handle_rx(struct mb_rtu_rx *rx, size_t len)
{
	CHECK(len <= MB_RTU_ADU_MAX && len == rx->len && rx->ready);
	rtu_reply(rx->buf, len);
	mb_rtu_rx_reset(rx);
}

static void mode_rx(const uint8_t *d, size_t n)
{
	struct mb_rtu_rx rx;
	uint32_t now = 0xFFFFF000u; /* wraps after 4096 us */
	size_t i, len;

	node_reset();
	mb_rtu_rx_reset(&rx);
	for (i = 0; i + 1 < n; i += 2) {
		now += (uint32_t)d[i] *
		       16u; /* 0..4080 us: either side of T35 */
		mb_rtu_rx_byte(&rx, d[i + 1], now, T35);
		CHECK(rx.len <= MB_RTU_ADU_MAX);
		len = mb_rtu_rx_poll(&rx, now, T35);
		if (len > 0)
			handle_rx(&rx, len);
	}
	len = mb_rtu_rx_poll(&rx, now + T35, T35);
	if (len > 0)
		handle_rx(&rx, len);
	CHECK(mb_rtu_rx_poll(&rx, now + 2 * T35, T35) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] & 3u) {
	case 0:
		mode_raw_rtu(data + 1, size - 1);
		break;
	case 1:
		mode_fixed_crc(data + 1, size - 1);
		break;
	case 2:
		mode_tcp_stream(data + 1, size - 1);
		break;
	default:
		mode_rx(data + 1, size - 1);
		break;
	}
	return 0;
}
