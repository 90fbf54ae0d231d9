/*
 * mb_pdu.c - the transport-independent half of the Modbus server: one
 * request PDU in, one response PDU out (Modbus Application Protocol v1.1b3).
 *
 * Each function code has a handler that checks the request in the order of
 * the spec's state diagrams (length and quantities -> 03, address range ->
 * 02, then the data model through struct mb_map, whose callbacks decide
 * whether the range exists and return their own exception). A handler
 * returns an exception code, or MB_EX_NONE and the response length.
 *
 * Choices where the spec leaves room, all documented at their place:
 *  - a request shorter or longer than its function code requires answers
 *    03 (illegal data value): the spec only lists 03 for a "byte count"
 *    or quantity that does not match, and a wrong length is the same fault;
 *  - a map callback left NULL answers 01 (illegal function);
 *  - FC 43 with an MEI type other than 0x0E answers 01, as in the spec's
 *    Read Device Identification state diagram ("Function code supported
 *    AND MEI Type = 0x0E" -> no -> exception 01);
 *  - broadcast performs FC 05, 06, 15 and 16 only; FC 23 is a read and
 *    is ignored like every other function.
 *
 * The response may be written over the request (rsp == req, as when the
 * caller processes an ADU in place): every handler copies the request
 * fields it needs into locals before writing the first response byte, and
 * write data is passed to the map before the response is built.
 */
#include <string.h>

#include "mb.h"

/* Device identification (FC 43 / MEI 14). */
#define MEI_DEVICE_ID    0x0E
#define DEVID_BASIC      0x01
#define DEVID_REGULAR    0x02
#define DEVID_EXTENDED   0x03
#define DEVID_SPECIFIC   0x04
#define DEVID_CONFORMITY 0x83 /* extended, stream and individual access */
#define DEVID_HEADER     7    /* fc, mei, code, conformity, more, next, count */
#define DEVID_OBJ_MAX    244  /* MB_PDU_MAX - DEVID_HEADER - id - length */

/* A request after its function code: the bytes a handler may read. */
struct req {
	uint8_t fc;
	const uint8_t *d;
	size_t n;
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)(v & 0xFF);
}

/* True when [addr, addr + count) runs past the last address 0xFFFF. */
static bool range_overflows(uint16_t addr, uint16_t count)
{
	return (uint32_t)addr + count > 0x10000u;
}

/* The response to a read: fc, byte count, then what read_fn puts in the
 * nbytes after them (table, addr, qty as read_fn takes them). */
static uint8_t read_rsp(uint8_t (*read_fn)(void *, enum mb_table, uint16_t,
                                           uint16_t, uint8_t *),
                        void *ctx, uint8_t fc, enum mb_table table,
                        uint16_t addr, uint16_t qty, uint8_t nbytes,
                        uint8_t *rsp, size_t *rsp_len)
{
	uint8_t ex;

	rsp[0] = fc;
	rsp[1] = nbytes;
	ex = read_fn(ctx, table, addr, qty, rsp + 2);
	if (ex != MB_EX_NONE)
		return ex;
	*rsp_len = 2u + nbytes;
	return MB_EX_NONE;
}

/* FC 01, 02, 03, 04: addr, quantity -> byte count, packed bits (01, 02)
 * or registers (03, 04). */
static uint8_t read_table(const struct mb_map *map, void *ctx,
                          const struct req *r, uint8_t *rsp, size_t *rsp_len)
{
	bool bits = r->fc == MB_FC_READ_COILS ||
	            r->fc == MB_FC_READ_DISCRETE_INPUTS;
	uint16_t max = bits ? MB_MAX_READ_BITS : MB_MAX_READ_REGISTERS;
	enum mb_table table;
	uint16_t addr, qty;
	uint8_t nbytes;

	if (r->n != 4)
		return MB_EX_ILLEGAL_DATA_VALUE;
	addr = get16(r->d);
	qty = get16(r->d + 2);
	if (qty < 1 || qty > max)
		return MB_EX_ILLEGAL_DATA_VALUE;
	if (range_overflows(addr, qty))
		return MB_EX_ILLEGAL_DATA_ADDRESS;
	if ((bits ? map->read_bits : map->read_registers) == NULL)
		return MB_EX_ILLEGAL_FUNCTION;
	switch (r->fc) {
	case MB_FC_READ_COILS:
		table = MB_COILS;
		break;
	case MB_FC_READ_DISCRETE_INPUTS:
		table = MB_DISCRETE_INPUTS;
		break;
	case MB_FC_READ_HOLDING_REGISTERS:
		table = MB_HOLDING_REGISTERS;
		break;
	default:
		table = MB_INPUT_REGISTERS;
		break;
	}
	if (!bits)
		return read_rsp(map->read_registers, ctx, r->fc, table, addr,
		                qty, (uint8_t)(2u * qty), rsp, rsp_len);
	nbytes = (uint8_t)((qty + 7u) / 8u);
	memset(rsp + 2, 0, nbytes);
	return read_rsp(map->read_bits, ctx, r->fc, table, addr, qty, nbytes,
	                rsp, rsp_len);
}

/* The response to FC 05 and 06: the request again. */
static size_t echo_rsp(const struct req *r, uint8_t *rsp)
{
	uint8_t echo[5];

	echo[0] = r->fc;
	memcpy(echo + 1, r->d, 4);
	memcpy(rsp, echo, sizeof(echo));
	return sizeof(echo);
}

/* FC 05: addr, 0xFF00 (on) or 0x0000 (off) -> echo. */
static uint8_t write_coil(const struct mb_map *map, void *ctx,
                          const struct req *r, uint8_t *rsp, size_t *rsp_len)
{
	uint8_t packed, ex;
	uint16_t addr, value;

	if (r->n != 4)
		return MB_EX_ILLEGAL_DATA_VALUE;
	addr = get16(r->d);
	value = get16(r->d + 2);
	if (value != 0xFF00 && value != 0x0000)
		return MB_EX_ILLEGAL_DATA_VALUE;
	if (map->write_bits == NULL)
		return MB_EX_ILLEGAL_FUNCTION;
	packed = value == 0xFF00 ? 1 : 0;
	ex = map->write_bits(ctx, addr, 1, &packed);
	if (ex != MB_EX_NONE)
		return ex;
	*rsp_len = echo_rsp(r, rsp);
	return MB_EX_NONE;
}

/* FC 06: addr, value -> echo. */
static uint8_t write_reg(const struct mb_map *map, void *ctx,
                         const struct req *r, uint8_t *rsp, size_t *rsp_len)
{
	uint8_t ex;

	if (r->n != 4)
		return MB_EX_ILLEGAL_DATA_VALUE;
	if (map->write_registers == NULL)
		return MB_EX_ILLEGAL_FUNCTION;
	ex = map->write_registers(ctx, get16(r->d), 1, r->d + 2);
	if (ex != MB_EX_NONE)
		return ex;
	*rsp_len = echo_rsp(r, rsp);
	return MB_EX_NONE;
}

/* FC 15, 16: addr, quantity, byte count, packed bits (15) or registers
 * (16) -> addr, quantity. */
static uint8_t write_multiple(const struct mb_map *map, void *ctx,
                              const struct req *r, uint8_t *rsp,
                              size_t *rsp_len)
{
	bool bits = r->fc == MB_FC_WRITE_MULTIPLE_COILS;
	uint8_t (*write_fn)(void *, uint16_t, uint16_t, const uint8_t *) =
	        bits ? map->write_bits : map->write_registers;
	uint16_t max = bits ? MB_MAX_WRITE_BITS : MB_MAX_WRITE_REGISTERS;
	uint16_t addr, qty;
	uint8_t nbytes, ex;

	if (r->n < 5)
		return MB_EX_ILLEGAL_DATA_VALUE;
	addr = get16(r->d);
	qty = get16(r->d + 2);
	nbytes = r->d[4];
	if (qty < 1 || qty > max ||
	    nbytes != (bits ? (qty + 7u) / 8u : 2u * qty) ||
	    r->n != 5u + nbytes)
		return MB_EX_ILLEGAL_DATA_VALUE;
	if (range_overflows(addr, qty))
		return MB_EX_ILLEGAL_DATA_ADDRESS;
	if (write_fn == NULL)
		return MB_EX_ILLEGAL_FUNCTION;
	ex = write_fn(ctx, addr, qty, r->d + 5);
	if (ex != MB_EX_NONE)
		return ex;
	rsp[0] = r->fc;
	put16(rsp + 1, addr);
	put16(rsp + 3, qty);
	*rsp_len = 5;
	return MB_EX_NONE;
}

/*
 * FC 23: read addr, read quantity, write addr, write quantity, byte count,
 * registers -> byte count, registers read. The write is performed first,
 * as the spec says; if the read then fails, its exception is sent and the
 * write stays done (the map cannot be asked whether a range exists without
 * reading it, and a probe read would overwrite an in-place request).
 */
static uint8_t read_write_regs(const struct mb_map *map, void *ctx,
                               const struct req *r, uint8_t *rsp,
                               size_t *rsp_len)
{
	uint16_t raddr, rqty, waddr, wqty;
	uint8_t nbytes, ex;

	if (r->n < 9)
		return MB_EX_ILLEGAL_DATA_VALUE;
	raddr = get16(r->d);
	rqty = get16(r->d + 2);
	waddr = get16(r->d + 4);
	wqty = get16(r->d + 6);
	nbytes = r->d[8];
	if (rqty < 1 || rqty > MB_MAX_READ_REGISTERS || wqty < 1 ||
	    wqty > MB_MAX_RW_WRITE_REGISTERS || nbytes != 2u * wqty ||
	    r->n != 9u + nbytes)
		return MB_EX_ILLEGAL_DATA_VALUE;
	if (range_overflows(raddr, rqty) || range_overflows(waddr, wqty))
		return MB_EX_ILLEGAL_DATA_ADDRESS;
	if (map->write_registers == NULL || map->read_registers == NULL)
		return MB_EX_ILLEGAL_FUNCTION;
	ex = map->write_registers(ctx, waddr, wqty, r->d + 9);
	if (ex != MB_EX_NONE)
		return ex;
	return read_rsp(map->read_registers, ctx, r->fc, MB_HOLDING_REGISTERS,
	                raddr, rqty, (uint8_t)(2u * rqty), rsp, rsp_len);
}

/* Look up a device identification object; -1 when absent. A length over
 * what one response can carry is cut to fit (a map bug, not a reason to
 * overrun the response). */
static int devid_get(const struct mb_map *map, void *ctx, uint8_t id,
                     const char **value)
{
	int len;

	*value = NULL;
	len = map->device_id(ctx, id, value);
	if (len < 0 || (len > 0 && *value == NULL))
		return -1;
	return len > DEVID_OBJ_MAX ? DEVID_OBJ_MAX : len;
}

/*
 * FC 43 / MEI 14 Read Device Identification: mei, code, object id ->
 * mei, code, conformity, more follows, next object id, number of objects,
 * then (id, length, value) per object.
 *
 * Stream access (codes 1-3) lists the present objects of the category from
 * the requested one on, skipping absent ones; when the next object does not
 * fit, "more follows" is 0xFF and "next object id" names it. A start id
 * outside the category or absent from the map restarts at object 0 (spec
 * 6.21). Individual access (code 4) answers one object, 02 if absent.
 */
static uint8_t read_device_id(const struct mb_map *map, void *ctx,
                              const struct req *r, uint8_t *rsp,
                              size_t *rsp_len)
{
	uint8_t code, id, last, count = 0;
	const char *value;
	size_t pos = DEVID_HEADER;
	int len;

	if (map->device_id == NULL)
		return MB_EX_ILLEGAL_FUNCTION;
	if (r->n >= 1 && r->d[0] != MEI_DEVICE_ID)
		return MB_EX_ILLEGAL_FUNCTION; /* spec's state diagram */
	if (r->n != 3)
		return MB_EX_ILLEGAL_DATA_VALUE;
	code = r->d[1];
	id = r->d[2];
	switch (code) {
	case DEVID_BASIC:
		last = 0x02;
		break;
	case DEVID_REGULAR:
		last = 0x06;
		break;
	case DEVID_EXTENDED:
		last = 0xFF;
		break;
	case DEVID_SPECIFIC:
		last = id;
		break;
	default:
		return MB_EX_ILLEGAL_DATA_VALUE;
	}
	if (code == DEVID_SPECIFIC) {
		if (devid_get(map, ctx, id, &value) < 0)
			return MB_EX_ILLEGAL_DATA_ADDRESS;
	} else if (id > last || devid_get(map, ctx, id, &value) < 0) {
		id = 0;
	}

	rsp[0] = r->fc;
	rsp[1] = MEI_DEVICE_ID;
	rsp[2] = code;
	rsp[3] = DEVID_CONFORMITY;
	rsp[4] = 0x00; /* more follows */
	rsp[5] = 0x00; /* next object id */
	for (;;) {
		len = devid_get(map, ctx, id, &value);
		if (len >= 0) {
			if (pos + 2u + (size_t)len > MB_PDU_MAX) {
				rsp[4] = 0xFF;
				rsp[5] = id;
				break;
			}
			rsp[pos] = id;
			rsp[pos + 1] = (uint8_t)len;
			memcpy(rsp + pos + 2, value, (size_t)len);
			pos += 2u + (size_t)len;
			count++;
		}
		if (id == last)
			break;
		id++;
	}
	rsp[6] = count;
	*rsp_len = pos;
	return MB_EX_NONE;
}

size_t mb_pdu_exception(uint8_t fc, uint8_t code, uint8_t *rsp)
{
	rsp[0] = (uint8_t)(fc | 0x80u);
	rsp[1] = code;
	return 2;
}

size_t mb_pdu_process(const struct mb_map *map, void *ctx, const uint8_t *req,
                      size_t req_len, uint8_t *rsp, bool broadcast)
{
	struct req r;
	size_t rsp_len = 0;
	uint8_t ex;

	if (req_len == 0)
		return 0;
	r.fc = req[0];
	r.d = req + 1;
	r.n = req_len - 1;
	switch (r.fc) {
	case MB_FC_READ_COILS:
	case MB_FC_READ_DISCRETE_INPUTS:
	case MB_FC_READ_HOLDING_REGISTERS:
	case MB_FC_READ_INPUT_REGISTERS:
		if (broadcast)
			return 0;
		ex = read_table(map, ctx, &r, rsp, &rsp_len);
		break;
	case MB_FC_WRITE_SINGLE_COIL:
		ex = write_coil(map, ctx, &r, rsp, &rsp_len);
		break;
	case MB_FC_WRITE_SINGLE_REGISTER:
		ex = write_reg(map, ctx, &r, rsp, &rsp_len);
		break;
	case MB_FC_WRITE_MULTIPLE_COILS:
	case MB_FC_WRITE_MULTIPLE_REGISTERS:
		ex = write_multiple(map, ctx, &r, rsp, &rsp_len);
		break;
	case MB_FC_READ_WRITE_MULTIPLE_REGISTERS:
		if (broadcast)
			return 0; /* a read: ignored, see the file comment */
		ex = read_write_regs(map, ctx, &r, rsp, &rsp_len);
		break;
	case MB_FC_ENCAPSULATED_INTERFACE:
		if (broadcast)
			return 0;
		ex = read_device_id(map, ctx, &r, rsp, &rsp_len);
		break;
	default:
		ex = MB_EX_ILLEGAL_FUNCTION;
		break;
	}
	if (broadcast)
		return 0; /* no reply to a broadcast, not even an exception */
	if (ex != MB_EX_NONE)
		return mb_pdu_exception(r.fc, ex, rsp);
	return rsp_len;
}
