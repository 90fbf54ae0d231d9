/*
 * node.h - the register map of a metrolog lab instrument node.
 *
 * A node measures up to NODE_MAX_CHANNELS quantities and exposes them over
 * Modbus through node_map (a struct mb_map whose ctx is a struct node *).
 * The board is reached only through struct node_port, so the same map runs
 * on a microcontroller (ADC, RTC) and in the host simulator (physics model).
 *
 * Register map (0-based protocol addresses; docs/REGISTERS.md is the table
 * technicians use). Multi-register values are big-endian, high word first
 * ("ABCD"). c is the channel index, 0 <= c < channel count.
 *
 *   table             address        words  content
 *   input registers   0    + 2c      2      value, float32, calibrated:
 *                                           gain[c] * sensed + offset[c]
 *                     1000 + 2c      2      counts, int32: value * 1000 rounded
 *                     2000 + c       1      status bits (NODE_ST_*)
 *                     3000           2      uptime, uint32 seconds
 *                     3002           1      channel count
 *                     3003           1      firmware version (major << 8 |
 * minor) 3010           16     model, 32 ASCII chars, NUL padded 3030 8 serial
 * number, 16 ASCII chars holding registers 0              1      calibration
 * lock: write NODE_UNLOCK_KEY to unlock, any other value to lock; reads 1 when
 *                                           unlocked, 0 when locked
 *                     1000 + 4c      2      gain, float32 (default 1.0)
 *                     1002 + 4c      2      offset, float32 (default 0.0)
 *                     2000           3      date of last adjustment:
 *                                           year, month, day (0 = never)
 *   discrete inputs   0    + c       1      sensor fault on channel c
 *                     1000 + c       1      channel c out of range
 *   coils             0    + c       1      channel c enabled (default 1)
 *
 * Gain, offset and the adjustment date are write-protected: writing them
 * while locked answers exception 04 (server device failure). A read or write
 * that touches an address outside the map answers exception 02. A float
 * write that is not finite answers exception 03.
 *
 * Threading: none; the caller serialises calls for one node.
 */
#ifndef METROLOG_NODE_H
#define METROLOG_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "mb.h"

#define NODE_MAX_CHANNELS    64
#define NODE_FW_VERSION      0x0100 /* 1.0 */
#define NODE_UNLOCK_KEY      0xCA1B
#define NODE_COUNTS_PER_UNIT 1000

/* Register bases (see the map above). */
enum {
	NODE_IR_VALUE = 0,
	NODE_IR_COUNTS = 1000,
	NODE_IR_STATUS = 2000,
	NODE_IR_UPTIME = 3000,
	NODE_IR_CHANNELS = 3002,
	NODE_IR_FW_VERSION = 3003,
	NODE_IR_MODEL = 3010,
	NODE_IR_MODEL_WORDS = 16,
	NODE_IR_SERIAL = 3030,
	NODE_IR_SERIAL_WORDS = 8,
	NODE_HR_LOCK = 0,
	NODE_HR_CAL = 1000,
	NODE_HR_ADJ_DATE = 2000,
	NODE_DI_FAULT = 0,
	NODE_DI_RANGE = 1000,
	NODE_CO_ENABLE = 0,
};

/* Channel status bits (input register 2000 + c). */
enum {
	NODE_ST_SENSOR_FAULT = 1u << 0,
	NODE_ST_OVER_RANGE = 1u << 1,
	NODE_ST_UNDER_RANGE = 1u << 2,
	NODE_ST_DISABLED = 1u << 3,
};

/* The board: a const struct of function pointers (the port). */
struct node_port {
	/* Seconds since power-up. */
	uint32_t (*uptime_s)(void *ctx);
	/* Measure channel ch in engineering units, before the node's own
	 * gain and offset. Returns 0, or -1 on a sensor fault (a value that
	 * is not finite is a fault too). float: the FPU of a Cortex-M4 is
	 * single precision, and the register map carries float32. */
	int (*sense)(void *ctx, unsigned ch, float *value);
	/* Called after gain, offset or the adjustment date changed, so a
	 * board can store them in flash. May be NULL. */
	void (*calibration_changed)(void *ctx);
};

/* Identity strings, shown by FC 43/14 and the identity registers. The
 * strings are not copied: they must outlive the node. */
struct node_identity {
	const char *vendor;       /* object 0x00 */
	const char *product_code; /* object 0x01 */
	const char *revision;     /* object 0x02 */
	const char *url;          /* object 0x03 */
	const char *product_name; /* object 0x04 */
	const char *model;        /* object 0x05, IR 3010 */
	const char *serial;       /* object 0x80 (extended), IR 3030 */
};

struct node_channel {
	float gain, offset;
	float range_lo, range_hi; /* measuring range, engineering units */
	bool enabled;
};

struct node {
	const struct node_port *port;
	void *port_ctx;
	struct node_identity id;
	unsigned nchannels;
	struct node_channel ch[NODE_MAX_CHANNELS];
	uint16_t adj_date[3]; /* year, month, day */
	bool unlocked;
};

/* Set up a node with nchannels (1..NODE_MAX_CHANNELS) channels, gain 1,
 * offset 0, an unbounded range, all enabled, locked. */
void node_init(struct node *n, const struct node_port *port, void *port_ctx,
               const struct node_identity *id, unsigned nchannels);

/* The Modbus data model of a node; pass the struct node * as ctx. */
extern const struct mb_map node_map;

#endif
