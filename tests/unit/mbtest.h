/*
 * mbtest.h - what the unit tests of the firmware core (test_mb_*.c,
 * test_node.c) share: byte literals and the PDU in, PDU out check. Include
 * after <cmocka.h>.
 */
#ifndef METROLOG_MBTEST_H
#define METROLOG_MBTEST_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "mb.h"

/* A byte array literal and its length, as two arguments. */
#define BYTES(...)                                                             \
	((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

/* Print n bytes of p in hex, labelled what. */
static inline void mb_dump(const char *what, const uint8_t *p, size_t n)
{
	print_message("%s (%zu):", what, n);
	for (size_t i = 0; i < n; i++)
		print_message(" %02X", p[i]);
	print_message("\n");
}

/* Process req (not broadcast) against map and ctx, and fail the test
 * unless the response is want, with nothing written past MB_PDU_MAX. */
static inline void mb_check_pdu(const struct mb_map *map, void *ctx,
                                const uint8_t *req, size_t req_len,
                                const uint8_t *want, size_t want_len)
{
	uint8_t rsp[MB_PDU_MAX + 16];
	size_t n;

	memset(rsp, 0xEE, sizeof(rsp));
	n = mb_pdu_process(map, ctx, req, req_len, rsp, false);
	if (n != want_len || memcmp(rsp, want, n) != 0) {
		mb_dump("request ", req, req_len);
		mb_dump("expected", want, want_len);
		mb_dump("got     ", rsp, n);
		fail_msg("response differs");
	}
	assert_int_equal(rsp[MB_PDU_MAX], 0xEE); /* nothing past the PDU */
}

#endif
