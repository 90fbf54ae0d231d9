/*
 * mb.h - the Modbus server (slave) protocol core of a metrolog instrument node.
 *
 * Portable C11 with no allocation, no OS and no libmodbus: only <stdint.h>,
 * <stdbool.h>, <stddef.h> and <string.h>. The same object code runs on a
 * Cortex-M board and in the host simulator (metrolog-sim).
 *
 * Three layers, each a set of pure functions over caller-owned buffers:
 *
 *   PDU   mb_pdu_process(): function code + data in, response PDU out.
 *         The data model is reached through a const struct mb_map of
 *         callbacks, so the register map lives elsewhere (node.c).
 *   RTU   CRC-16, frame length prediction, parse/build of
 *         [unit][PDU][CRC lo][CRC hi], and a byte-at-a-time receiver that
 *         delimits frames by expected length or by the 3.5-character silence.
 *   TCP   MBAP header: [tid hi][tid lo][0][0][len hi][len lo][unit][PDU],
 *         stream framing (how long is the next ADU) and parse/build.
 *
 * Zero-copy convention: a response PDU is written in place at the offset of
 * the transport's header (MB_RTU_PDU_OFFSET or MB_TCP_PDU_OFFSET) of the
 * output ADU buffer, and the *_build() functions add the envelope around it.
 *
 * Threading: none. Every function is reentrant; the caller serialises access
 * to the data model behind struct mb_map.
 */
#ifndef METROLOG_MB_H
#define METROLOG_MB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Function codes served. */
enum {
	MB_FC_READ_COILS = 0x01,
	MB_FC_READ_DISCRETE_INPUTS = 0x02,
	MB_FC_READ_HOLDING_REGISTERS = 0x03,
	MB_FC_READ_INPUT_REGISTERS = 0x04,
	MB_FC_WRITE_SINGLE_COIL = 0x05,
	MB_FC_WRITE_SINGLE_REGISTER = 0x06,
	MB_FC_WRITE_MULTIPLE_COILS = 0x0F,
	MB_FC_WRITE_MULTIPLE_REGISTERS = 0x10,
	MB_FC_READ_WRITE_MULTIPLE_REGISTERS = 0x17,
	MB_FC_ENCAPSULATED_INTERFACE =
	        0x2B, /* MEI type 0x0E: device identification */
};

/* Exception codes (the second byte of an exception response). */
enum mb_exception {
	MB_EX_NONE = 0x00,
	MB_EX_ILLEGAL_FUNCTION = 0x01,
	MB_EX_ILLEGAL_DATA_ADDRESS = 0x02,
	MB_EX_ILLEGAL_DATA_VALUE = 0x03,
	MB_EX_SERVER_DEVICE_FAILURE = 0x04,
	MB_EX_GATEWAY_TARGET_FAILED = 0x0B,
};

/* The four tables of the Modbus data model. */
enum mb_table {
	MB_COILS,
	MB_DISCRETE_INPUTS,
	MB_INPUT_REGISTERS,
	MB_HOLDING_REGISTERS,
};

/* Protocol limits (Modbus Application Protocol v1.1b3, section 6). */
#define MB_PDU_MAX                253
#define MB_MAX_READ_BITS          2000
#define MB_MAX_WRITE_BITS         1968
#define MB_MAX_READ_REGISTERS     125
#define MB_MAX_WRITE_REGISTERS    123
#define MB_MAX_RW_WRITE_REGISTERS 121
#define MB_BROADCAST_UNIT         0

#define MB_RTU_ADU_MAX    256 /* unit + PDU + CRC */
#define MB_RTU_PDU_OFFSET 1
#define MB_TCP_ADU_MAX    260 /* MBAP (7) + PDU */
#define MB_TCP_PDU_OFFSET 7

/*
 * The data model a server exposes. Every callback returns an enum
 * mb_exception: MB_EX_NONE on success, otherwise the exception to send.
 * Addresses are 0-based protocol addresses. The core has already checked
 * that count is within the protocol limits and addr + count <= 0x10000,
 * so a callback only decides whether the range exists in its map.
 *
 * Bits travel packed as on the wire: bit 0 of byte 0 is the first address.
 * Registers travel big-endian as on the wire: 2 bytes per register.
 */
struct mb_map {
	/* table is MB_COILS or MB_DISCRETE_INPUTS; out has (count + 7) / 8
	 * bytes, zeroed by the core before the call. */
	uint8_t (*read_bits)(void *ctx, enum mb_table table, uint16_t addr,
	                     uint16_t count, uint8_t *out);
	/* table is MB_INPUT_REGISTERS or MB_HOLDING_REGISTERS; out has
	 * 2 * count bytes. */
	uint8_t (*read_registers)(void *ctx, enum mb_table table, uint16_t addr,
	                          uint16_t count, uint8_t *out);
	/* coils only */
	uint8_t (*write_bits)(void *ctx, uint16_t addr, uint16_t count,
	                      const uint8_t *packed);
	/* holding registers only */
	uint8_t (*write_registers)(void *ctx, uint16_t addr, uint16_t count,
	                           const uint8_t *be);
	/* Device identification object (FC 43 / MEI 14). Sets *value and
	 * returns its length (0..244), or returns -1 when the object does not
	 * exist. Objects 0x00-0x02 (basic) must exist; may be NULL, in which
	 * case FC 43 answers ILLEGAL_FUNCTION. */
	int (*device_id)(void *ctx, uint8_t object_id, const char **value);
};

/*
 * Process one request PDU (function code first) of req_len bytes and write
 * the response PDU into rsp, which holds MB_PDU_MAX bytes. rsp may be the
 * same buffer as req (the request is fully read before rsp is written).
 *
 * Returns the response length (> 0), or 0 when no response must be sent:
 * broadcast requests (writes are performed, reads are ignored, as the spec
 * says) and empty requests. A malformed request (length that does not match
 * its own byte count, quantity 0 or over the limit, address overflow past
 * 0xFFFF, bad coil value) gets the exception the spec prescribes, never a
 * read past req_len.
 */
size_t mb_pdu_process(const struct mb_map *map, void *ctx, const uint8_t *req,
                      size_t req_len, uint8_t *rsp, bool broadcast);

/* Build an exception response PDU for function fc into rsp. Returns 2. */
size_t mb_pdu_exception(uint8_t fc, uint8_t code, uint8_t *rsp);

/* ---- RTU ---------------------------------------------------------------- */

/* CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF) of len bytes. On the
 * wire the low byte is sent first. */
uint16_t mb_crc16(const uint8_t *buf, size_t len);

/*
 * Predict the total length of an RTU request frame (unit, PDU, CRC) from its
 * first n bytes. Returns the length (4..256) once known, 0 when more bytes
 * are needed to tell, or -1 when it cannot be told (unknown function code or
 * a byte count that would exceed the ADU): such a frame ends at the silence.
 */
int mb_rtu_request_len(const uint8_t *buf, size_t n);

/*
 * Check an RTU frame: at least 4 bytes, at most MB_RTU_ADU_MAX, CRC correct.
 * On success sets *unit and *pdu_len (the PDU starts at frame + 1) and
 * returns 0; returns -1 otherwise (the spec says: discard, no reply).
 */
int mb_rtu_parse(const uint8_t *frame, size_t len, uint8_t *unit,
                 size_t *pdu_len);

/* Wrap the PDU at adu + MB_RTU_PDU_OFFSET: set the unit, append the CRC.
 * Returns the frame length (pdu_len + 3). */
size_t mb_rtu_build(uint8_t *adu, uint8_t unit, size_t pdu_len);

/* The 3.5-character silence in microseconds for a baud rate, 11 bits per
 * character; fixed at 1750 us above 19200 baud as the spec recommends. */
uint32_t mb_rtu_t35_us(uint32_t baud);

/*
 * A byte-at-a-time RTU receiver for a UART interrupt or a read() loop.
 * Feed every received byte with mb_rtu_rx_byte(); call mb_rtu_rx_poll()
 * from the main loop. A frame ends when its predicted length is reached or
 * when the line has been silent for t35_us. A byte arriving after a silence
 * starts a new frame, discarding an unfinished one.
 */
struct mb_rtu_rx {
	uint8_t buf[MB_RTU_ADU_MAX];
	uint16_t len;
	uint32_t last_us; /* time of the last byte */
	bool overflow;    /* more than MB_RTU_ADU_MAX bytes: drop the frame */
	bool ready;       /* a frame is complete and waits in buf */
};

void mb_rtu_rx_reset(struct mb_rtu_rx *rx);
void mb_rtu_rx_byte(struct mb_rtu_rx *rx, uint8_t byte, uint32_t now_us,
                    uint32_t t35_us);
/* Returns the length of a complete frame in rx->buf (then call
 * mb_rtu_rx_reset() once handled), or 0. */
size_t mb_rtu_rx_poll(struct mb_rtu_rx *rx, uint32_t now_us, uint32_t t35_us);

/* ---- TCP (MBAP) --------------------------------------------------------- */

struct mb_tcp_header {
	uint16_t transaction_id;
	uint8_t unit;
};

/*
 * Given the first n bytes of a TCP stream, return the length of the first
 * ADU once it is complete (8..260), 0 when more bytes are needed, or -1 when
 * the header is malformed (protocol id not 0, length field < 2 or > 254):
 * the stream cannot be resynchronised and the connection should be closed.
 */
int mb_tcp_frame_len(const uint8_t *buf, size_t n);

/* Parse a complete ADU of len bytes (as sized by mb_tcp_frame_len()).
 * Sets *h and *pdu_len (the PDU starts at adu + MB_TCP_PDU_OFFSET).
 * Returns 0, or -1 if malformed. */
int mb_tcp_parse(const uint8_t *adu, size_t len, struct mb_tcp_header *h,
                 size_t *pdu_len);

/* Write the MBAP header for the PDU at adu + MB_TCP_PDU_OFFSET. Returns the
 * ADU length (pdu_len + 7). */
size_t mb_tcp_build(uint8_t *adu, const struct mb_tcp_header *h,
                    size_t pdu_len);

#endif
