/*
 * mb_tcp.c - Modbus TCP framing (Modbus Messaging on TCP/IP v1.0b): the
 * MBAP header in front of a PDU.
 *
 *   offset  bytes  field
 *   0       2      transaction id, echoed in the response
 *   2       2      protocol id, always 0
 *   4       2      length: unit byte + PDU (2..254)
 *   6       1      unit id
 *   7       ...    PDU
 *
 * TCP is a stream, so mb_tcp_frame_len() tells the reader how many bytes
 * the next ADU has from its header; a bad header cannot be skipped over
 * (there is no resynchronisation marker) and ends the connection.
 */
#include "mb.h"

#define MBAP_LEN_MIN 2   /* unit + function code */
#define MBAP_LEN_MAX 254 /* unit + MB_PDU_MAX */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

int mb_tcp_frame_len(const uint8_t *buf, size_t n)
{
	uint16_t len;

	if (n >= 4 && get16(buf + 2) != 0)
		return -1; /* tell a stranger early, before its length */
	if (n < 6)
		return 0;
	len = get16(buf + 4);
	if (len < MBAP_LEN_MIN || len > MBAP_LEN_MAX)
		return -1;
	if (n < 6u + len)
		return 0;
	return 6 + (int)len;
}

int mb_tcp_parse(const uint8_t *adu, size_t len, struct mb_tcp_header *h,
                 size_t *pdu_len)
{
	if (len < 6 + MBAP_LEN_MIN || len > MB_TCP_ADU_MAX)
		return -1;
	if (get16(adu + 2) != 0 || get16(adu + 4) != len - 6)
		return -1;
	h->transaction_id = get16(adu);
	h->unit = adu[6];
	*pdu_len = len - MB_TCP_PDU_OFFSET;
	return 0;
}

size_t mb_tcp_build(uint8_t *adu, const struct mb_tcp_header *h, size_t pdu_len)
{
	size_t len = pdu_len + 1;

	adu[0] = (uint8_t)(h->transaction_id >> 8);
	adu[1] = (uint8_t)(h->transaction_id & 0xFF);
	adu[2] = 0;
	adu[3] = 0;
	adu[4] = (uint8_t)(len >> 8);
	adu[5] = (uint8_t)(len & 0xFF);
	adu[6] = h->unit;
	return pdu_len + MB_TCP_PDU_OFFSET;
}
