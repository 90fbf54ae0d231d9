/*
 * node.c - the register map of an instrument node (see the table in
 * node.h): turns Modbus addresses into channel values, calibration and
 * identity, and reaches the board only through struct node_port.
 *
 * Every map region is a contiguous block of addresses. A request is served
 * only if it lies inside one block (regions are far apart, so a range that
 * leaves its block crosses unmapped addresses: exception 02).
 *
 * Within one request each channel is sensed at most once and the uptime
 * read at most once, so the two words of a float, or the words of
 * neighbouring channels, come from one coherent look at the board. A
 * request reads one contiguous range in increasing address order, so a
 * one-entry cache (the last channel sampled) is enough.
 *
 * Writes are all-or-nothing: the whole range is checked (address, lock,
 * values) before anything changes. Check order: 02 (address, or a write
 * that covers only one half of a float32: the other half is not a register
 * that can be written alone), then 04 (locked), then 03 (a value that is
 * not finite, or a date that is not a real date).
 *
 * Arithmetic is single precision (the Cortex-M4 FPU) and integer; a sensed
 * value that is NaN or infinite is a sensor fault.
 */
#include <string.h>

#include "node.h"

#define FLOAT_MAX      3.40282347e+38f /* FLT_MAX */
#define QUIET_NAN_BITS 0x7FC00000u
#define COUNTS_INVALID INT32_MIN
#define DEVID_OBJ_MAX  244
#define ADJ_YEAR_MIN   2000
#define ADJ_YEAR_MAX   2099

/* One channel as seen by one request. */
struct sample {
	uint32_t value_bits; /* float32 */
	int32_t counts;
	uint16_t status; /* NODE_ST_* */
};

/* What one request has read from the board so far. */
struct snapshot {
	int ch; /* channel held in s, -1 when none */
	struct sample s;
	bool have_uptime;
	uint32_t uptime;
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint32_t float_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static float bits_float(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

/* Word k (0 = high) of a 32-bit value sent high word first. */
static uint16_t word_of(uint32_t v, unsigned k)
{
	return (uint16_t)(k == 0 ? v >> 16 : v & 0xFFFFu);
}

static bool is_finite(float f)
{
	return f == f && f - f == 0.0f;
}

/* True when [addr, addr + count) lies inside [base, base + size). */
static bool inside(uint16_t addr, uint16_t count, unsigned base, unsigned size)
{
	return addr >= base && (uint32_t)addr + count <= (uint32_t)base + size;
}

/* strlen() that stops at max. */
static size_t bounded_len(const char *s, size_t max)
{
	size_t len = 0;

	if (s == NULL)
		return 0;
	while (len < max && s[len] != '\0')
		len++;
	return len;
}

/* Word k of a string field: 2 chars per register, high byte first, NUL
 * padded, truncated to the field. */
static uint16_t string_word(const char *s, size_t field_chars, unsigned k)
{
	size_t len = bounded_len(s, field_chars);
	size_t i = 2u * k;
	uint8_t hi = i < len ? (uint8_t)s[i] : 0;
	uint8_t lo = i + 1 < len ? (uint8_t)s[i + 1] : 0;

	return (uint16_t)((uint16_t)hi << 8 | lo);
}

/*
 * value * 1000 rounded half away from zero, saturated to
 * INT32_MIN + 1..INT32_MAX (INT32_MIN means "no value"), for a value that
 * is not NaN. Computed exactly from the float32's bits with integers:
 * |value| = m * 2^(e - 150) with a 24-bit m, so |value| * 1000 is
 * m * 1000 (34 bits) shifted right by 150 - e. Float arithmetic would round
 * the product (20 counts off near 2^31) and double is not native on the M4.
 */
static int32_t to_counts(float value, uint16_t *status)
{
	uint32_t bits = float_bits(value);
	bool neg = (bits >> 31) != 0;
	unsigned e = bits >> 23 & 0xFFu;
	uint64_t m = bits & 0x7FFFFFu;
	uint64_t q; /* |value| * 1000, rounded */
	unsigned sh;

	if (e == 0)
		e = 1; /* subnormal: no implicit bit */
	else
		m |= 0x800000u;
	if (e >= 150) {
		q = UINT64_MAX; /* |value| >= 2^23: over 8e9 counts */
	} else {
		sh = 150 - e;
		m *= NODE_COUNTS_PER_UNIT;
		q = sh > 40 ? 0 : (m + ((uint64_t)1 << (sh - 1))) >> sh;
	}
	if (q > INT32_MAX) {
		*status |= neg ? NODE_ST_UNDER_RANGE : NODE_ST_OVER_RANGE;
		return neg ? INT32_MIN + 1 : INT32_MAX;
	}
	return neg ? -(int32_t)q : (int32_t)q;
}

/* Sense channel c unless this request already has. */
static const struct sample *sense_channel(const struct node *n,
                                          struct snapshot *sn, unsigned c)
{
	const struct node_channel *ch = &n->ch[c];
	struct sample *s = &sn->s;
	float x = 0.0f;
	float v;

	if (sn->ch == (int)c)
		return s;
	sn->ch = (int)c;
	s->status = 0;
	if (!ch->enabled) {
		s->status = NODE_ST_DISABLED;
		goto invalid;
	}
	if (n->port == NULL || n->port->sense == NULL ||
	    n->port->sense(n->port_ctx, c, &x) != 0)
		goto fault;
	if (!(x >= -FLOAT_MAX && x <= FLOAT_MAX))
		goto fault; /* NaN or infinite */
	v = ch->gain * x + ch->offset;
	if (v != v)
		goto fault; /* gain or offset set to NaN behind our back */
	s->value_bits = float_bits(v);
	s->counts = to_counts(v, &s->status);
	if (v > ch->range_hi)
		s->status |= NODE_ST_OVER_RANGE;
	if (v < ch->range_lo)
		s->status |= NODE_ST_UNDER_RANGE;
	return s;
fault:
	s->status = NODE_ST_SENSOR_FAULT;
invalid:
	s->value_bits = QUIET_NAN_BITS;
	s->counts = COUNTS_INVALID;
	return s;
}

static uint32_t uptime(const struct node *n, struct snapshot *sn)
{
	if (!sn->have_uptime) {
		sn->have_uptime = true;
		sn->uptime = 0;
		if (n->port != NULL && n->port->uptime_s != NULL)
			sn->uptime = n->port->uptime_s(n->port_ctx);
	}
	return sn->uptime;
}

/* ---- input registers ---------------------------------------------------- */

static bool ir_mapped(const struct node *n, uint16_t addr, uint16_t count)
{
	unsigned nch = n->nchannels;

	return inside(addr, count, NODE_IR_VALUE, 2 * nch) ||
	       inside(addr, count, NODE_IR_COUNTS, 2 * nch) ||
	       inside(addr, count, NODE_IR_STATUS, nch) ||
	       inside(addr, count, NODE_IR_UPTIME, 4) || /* 3000..3003 */
	       inside(addr, count, NODE_IR_MODEL, NODE_IR_MODEL_WORDS) ||
	       inside(addr, count, NODE_IR_SERIAL, NODE_IR_SERIAL_WORDS);
}

/* Input register a, known to be mapped. */
static uint16_t ir_word(const struct node *n, struct snapshot *sn, unsigned a)
{
	unsigned off;

	if (a >= NODE_IR_SERIAL)
		return string_word(n->id.serial, 2 * NODE_IR_SERIAL_WORDS,
		                   a - NODE_IR_SERIAL);
	if (a >= NODE_IR_MODEL)
		return string_word(n->id.model, 2 * NODE_IR_MODEL_WORDS,
		                   a - NODE_IR_MODEL);
	if (a == NODE_IR_FW_VERSION)
		return NODE_FW_VERSION;
	if (a == NODE_IR_CHANNELS)
		return (uint16_t)n->nchannels;
	if (a >= NODE_IR_UPTIME)
		return word_of(uptime(n, sn), a - NODE_IR_UPTIME);
	if (a >= NODE_IR_STATUS)
		return sense_channel(n, sn, a - NODE_IR_STATUS)->status;
	if (a >= NODE_IR_COUNTS) {
		off = a - NODE_IR_COUNTS;
		return word_of((uint32_t)sense_channel(n, sn, off / 2)->counts,
		               off % 2);
	}
	off = a - NODE_IR_VALUE;
	return word_of(sense_channel(n, sn, off / 2)->value_bits, off % 2);
}

/* ---- holding registers -------------------------------------------------- */

static bool hr_mapped(const struct node *n, uint16_t addr, uint16_t count)
{
	return inside(addr, count, NODE_HR_LOCK, 1) ||
	       inside(addr, count, NODE_HR_CAL, 4 * n->nchannels) ||
	       inside(addr, count, NODE_HR_ADJ_DATE, 3);
}

/* Holding register a, known to be mapped. */
static uint16_t hr_word(const struct node *n, unsigned a)
{
	const struct node_channel *ch;
	unsigned off;

	if (a >= NODE_HR_ADJ_DATE)
		return n->adj_date[a - NODE_HR_ADJ_DATE];
	if (a >= NODE_HR_CAL) {
		off = a - NODE_HR_CAL;
		ch = &n->ch[off / 4];
		return word_of(float_bits(off % 4 < 2 ? ch->gain : ch->offset),
		               off % 2);
	}
	return n->unlocked ? 1 : 0;
}

static void calibration_changed(const struct node *n)
{
	if (n->port != NULL && n->port->calibration_changed != NULL)
		n->port->calibration_changed(n->port_ctx);
}

/* Gains and offsets: whole float32s only, finite, unlocked. */
static uint8_t write_cal(struct node *n, uint16_t addr, uint16_t count,
                         const uint8_t *be)
{
	unsigned off = (unsigned)addr - NODE_HR_CAL;
	unsigned i, w;
	float f;

	if (off % 2 != 0 || count % 2 != 0)
		return MB_EX_ILLEGAL_DATA_ADDRESS; /* half a float */
	if (!n->unlocked)
		return MB_EX_SERVER_DEVICE_FAILURE;
	for (i = 0; i < count; i += 2)
		if (!is_finite(bits_float(get32(be + 2 * i))))
			return MB_EX_ILLEGAL_DATA_VALUE;
	for (i = 0; i < count; i += 2) {
		w = off + i;
		f = bits_float(get32(be + 2 * i));
		if (w % 4 == 0)
			n->ch[w / 4].gain = f;
		else
			n->ch[w / 4].offset = f;
	}
	calibration_changed(n);
	return MB_EX_NONE;
}

/* Year, month, day: all zero (never adjusted) or a real date. */
static bool date_valid(const uint16_t d[3])
{
	static const uint8_t mdays[12] = {31, 28, 31, 30, 31, 30,
	                                  31, 31, 30, 31, 30, 31};
	unsigned dim;

	if (d[0] == 0 && d[1] == 0 && d[2] == 0)
		return true;
	if (d[0] < ADJ_YEAR_MIN || d[0] > ADJ_YEAR_MAX || d[1] < 1 || d[1] > 12)
		return false;
	dim = mdays[d[1] - 1];
	if (d[1] == 2 && d[0] % 4 == 0) /* every 4th year in 2000..2099 */
		dim++;
	return d[2] >= 1 && d[2] <= dim;
}

/* Any part of the date; the date that results must be valid. */
static uint8_t write_date(struct node *n, uint16_t addr, uint16_t count,
                          const uint8_t *be)
{
	uint16_t d[3];
	unsigned i;

	if (!n->unlocked)
		return MB_EX_SERVER_DEVICE_FAILURE;
	memcpy(d, n->adj_date, sizeof(d));
	for (i = 0; i < count; i++)
		d[addr - NODE_HR_ADJ_DATE + i] = get16(be + 2 * i);
	if (!date_valid(d))
		return MB_EX_ILLEGAL_DATA_VALUE;
	memcpy(n->adj_date, d, sizeof(d));
	calibration_changed(n);
	return MB_EX_NONE;
}

/* ---- struct mb_map callbacks -------------------------------------------- */

static uint8_t node_read_bits(void *ctx, enum mb_table table, uint16_t addr,
                              uint16_t count, uint8_t *out)
{
	const struct node *n = ctx;
	struct snapshot sn = {.ch = -1};
	unsigned i, a;
	bool bit;

	if (table == MB_COILS) {
		if (!inside(addr, count, NODE_CO_ENABLE, n->nchannels))
			return MB_EX_ILLEGAL_DATA_ADDRESS;
		for (i = 0; i < count; i++)
			if (n->ch[addr - NODE_CO_ENABLE + i].enabled)
				out[i / 8] |= (uint8_t)(1u << (i % 8));
		return MB_EX_NONE;
	}
	if (table != MB_DISCRETE_INPUTS ||
	    !(inside(addr, count, NODE_DI_FAULT, n->nchannels) ||
	      inside(addr, count, NODE_DI_RANGE, n->nchannels)))
		return MB_EX_ILLEGAL_DATA_ADDRESS;
	for (i = 0; i < count; i++) {
		a = (unsigned)addr + i;
		if (a >= NODE_DI_RANGE)
			bit = sense_channel(n, &sn, a - NODE_DI_RANGE)->status &
			      (NODE_ST_OVER_RANGE | NODE_ST_UNDER_RANGE);
		else
			bit = sense_channel(n, &sn, a - NODE_DI_FAULT)->status &
			      NODE_ST_SENSOR_FAULT;
		if (bit)
			out[i / 8] |= (uint8_t)(1u << (i % 8));
	}
	return MB_EX_NONE;
}

static uint8_t node_read_registers(void *ctx, enum mb_table table,
                                   uint16_t addr, uint16_t count, uint8_t *out)
{
	const struct node *n = ctx;
	struct snapshot sn = {.ch = -1};
	unsigned i, a;
	uint16_t w;

	if (table == MB_INPUT_REGISTERS) {
		if (!ir_mapped(n, addr, count))
			return MB_EX_ILLEGAL_DATA_ADDRESS;
	} else if (table != MB_HOLDING_REGISTERS ||
	           !hr_mapped(n, addr, count)) {
		return MB_EX_ILLEGAL_DATA_ADDRESS;
	}
	for (i = 0; i < count; i++) {
		a = (unsigned)addr + i;
		w = table == MB_INPUT_REGISTERS ? ir_word(n, &sn, a)
		                                : hr_word(n, a);
		out[2 * i] = (uint8_t)(w >> 8);
		out[2 * i + 1] = (uint8_t)(w & 0xFF);
	}
	return MB_EX_NONE;
}

static uint8_t node_write_bits(void *ctx, uint16_t addr, uint16_t count,
                               const uint8_t *packed)
{
	struct node *n = ctx;
	unsigned i;

	if (!inside(addr, count, NODE_CO_ENABLE, n->nchannels))
		return MB_EX_ILLEGAL_DATA_ADDRESS;
	for (i = 0; i < count; i++)
		n->ch[addr - NODE_CO_ENABLE + i].enabled =
		        (packed[i / 8] >> (i % 8) & 1u) != 0;
	return MB_EX_NONE;
}

static uint8_t node_write_registers(void *ctx, uint16_t addr, uint16_t count,
                                    const uint8_t *be)
{
	struct node *n = ctx;

	if (inside(addr, count, NODE_HR_LOCK, 1)) {
		/* the lock itself is never locked: a wrong key locks */
		n->unlocked = get16(be) == NODE_UNLOCK_KEY;
		return MB_EX_NONE;
	}
	if (inside(addr, count, NODE_HR_CAL, 4 * n->nchannels))
		return write_cal(n, addr, count, be);
	if (inside(addr, count, NODE_HR_ADJ_DATE, 3))
		return write_date(n, addr, count, be);
	return MB_EX_ILLEGAL_DATA_ADDRESS;
}

/* Objects 0x00-0x02 always exist (empty if the identity lacks them); the
 * others exist when set. */
static int node_device_id(void *ctx, uint8_t object_id, const char **value)
{
	const struct node *n = ctx;
	const char *s;
	bool basic = object_id <= 0x02;

	switch (object_id) {
	case 0x00:
		s = n->id.vendor;
		break;
	case 0x01:
		s = n->id.product_code;
		break;
	case 0x02:
		s = n->id.revision;
		break;
	case 0x03:
		s = n->id.url;
		break;
	case 0x04:
		s = n->id.product_name;
		break;
	case 0x05:
		s = n->id.model;
		break;
	case 0x80:
		s = n->id.serial;
		break;
	default:
		return -1;
	}
	if (s == NULL) {
		if (!basic)
			return -1;
		s = "";
	}
	*value = s;
	return (int)bounded_len(s, DEVID_OBJ_MAX);
}

const struct mb_map node_map = {
        .read_bits = node_read_bits,
        .read_registers = node_read_registers,
        .write_bits = node_write_bits,
        .write_registers = node_write_registers,
        .device_id = node_device_id,
};

void node_init(struct node *n, const struct node_port *port, void *port_ctx,
               const struct node_identity *id, unsigned nchannels)
{
	unsigned c;

	memset(n, 0, sizeof(*n));
	n->port = port;
	n->port_ctx = port_ctx;
	if (id != NULL)
		n->id = *id;
	n->nchannels =
	        nchannels > NODE_MAX_CHANNELS ? NODE_MAX_CHANNELS : nchannels;
	for (c = 0; c < NODE_MAX_CHANNELS; c++) {
		n->ch[c].gain = 1.0f;
		n->ch[c].offset = 0.0f;
		n->ch[c].range_lo = -FLOAT_MAX;
		n->ch[c].range_hi = FLOAT_MAX;
		n->ch[c].enabled = true;
	}
	n->unlocked = false;
}
