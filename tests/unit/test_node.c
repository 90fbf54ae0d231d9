/*
 * test_node.c - the node register map, driven through mb_pdu_process()
 * with a fake board whose sensors return preset values or faults. Expected
 * float32 words are written by hand (20.5 = 0x41A40000 and so on).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mbtest.h"
#include "node.h"

#define NCH 8

struct fake {
	float value[NODE_MAX_CHANNELS];
	bool fault[NODE_MAX_CHANNELS];
	int sense_calls[NODE_MAX_CHANNELS];
	float step; /* added to a channel's value after each sense */
	uint32_t uptime;
	int uptime_calls;
	int cal_changed;
};

static struct fake fk;
static struct node nd;

static uint32_t f_uptime(void *ctx)
{
	struct fake *f = ctx;

	f->uptime_calls++;
	return f->uptime;
}

static int f_sense(void *ctx, unsigned ch, float *value)
{
	struct fake *f = ctx;

	assert_true(ch < NODE_MAX_CHANNELS);
	f->sense_calls[ch]++;
	if (f->fault[ch])
		return -1;
	*value = f->value[ch];
	f->value[ch] += f->step;
	return 0;
}

static void f_cal_changed(void *ctx)
{
	struct fake *f = ctx;

	f->cal_changed++;
}

static const struct node_port port = {
        .uptime_s = f_uptime,
        .sense = f_sense,
        .calibration_changed = f_cal_changed,
};

static const struct node_identity ident = {
        .vendor = "Metrolab",
        .product_code = "ML-T8",
        .revision = "1.0",
        .url = "https://metrolab.example",
        .product_name = "Thermometer bridge",
        .model = "ML-T8/PT100",
        .serial = "SN-00042",
};

static int setup(void **state)
{
	(void)state;
	memset(&fk, 0, sizeof(fk));
	node_init(&nd, &port, &fk, &ident, NCH);
	return 0;
}

/* Process req against the node's map and compare with want. */
static void check(const uint8_t *req, size_t req_len, const uint8_t *want,
                  size_t want_len)
{
	mb_check_pdu(&node_map, &nd, req, req_len, want, want_len);
}

/* Read input registers 0..1 (channel 0, float32 high word first) and
 * expect the bytes b0 b1 b2 b3. */
static void check_ch0(uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
	check(BYTES(0x04, 0x00, 0x00, 0x00, 0x02),
	      BYTES(0x04, 0x04, b0, b1, b2, b3));
}

static void unlock(void)
{
	check(BYTES(0x06, 0x00, 0x00, 0xCA, 0x1B),
	      BYTES(0x06, 0x00, 0x00, 0xCA, 0x1B));
}

/* ---- init ---------------------------------------------------------------- */

static void init_defaults(void **state)
{
	unsigned c;

	(void)state;
	assert_int_equal(nd.nchannels, NCH);
	assert_false(nd.unlocked);
	for (c = 0; c < NODE_MAX_CHANNELS; c++) {
		assert_true(nd.ch[c].gain == 1.0f);
		assert_true(nd.ch[c].offset == 0.0f);
		assert_true(nd.ch[c].enabled);
		assert_true(nd.ch[c].range_lo < -3.4e38f);
		assert_true(nd.ch[c].range_hi > 3.4e38f);
		assert_true(nd.ch[c].range_hi == nd.ch[c].range_hi); /* !NaN */
	}
	assert_int_equal(nd.adj_date[0], 0);
	node_init(&nd, &port, &fk, &ident, 1000);
	assert_int_equal(nd.nchannels, NODE_MAX_CHANNELS);
}

/* ---- values and counts --------------------------------------------------- */

static void value_20_5_is_41a40000(void **state)
{
	(void)state;
	fk.value[0] = 20.5;
	check_ch0(0x41, 0xA4, 0x00, 0x00);
}

static void counts_20_5_is_20500(void **state)
{
	(void)state;
	fk.value[1] = 20.5;
	check(BYTES(0x04, 0x03, 0xEA, 0x00, 0x02), /* 1002: channel 1 */
	      BYTES(0x04, 0x04, 0x00, 0x00, 0x50, 0x14));
	fk.value[1] = -20.5;
	check(BYTES(0x04, 0x03, 0xEA, 0x00, 0x02),
	      BYTES(0x04, 0x04, 0xFF, 0xFF, 0xAF, 0xEC));
}

static void counts_round_half_away_from_zero(void **state)
{
	(void)state;
	fk.value[0] = 0.0005; /* 0.5 counts -> 1 */
	fk.value[1] = -0.0005;
	fk.value[2] = 0.0004;
	fk.value[3] = -0.0004;
	fk.value[4] = 1.2345; /* 1234.5 -> 1235 */
	fk.value[5] = -1.2345;
	fk.value[6] = 0.0;
	fk.value[7] = 1.0015; /* 1001.5 -> 1002 */
	check(BYTES(0x04, 0x03, 0xE8, 0x00, 0x10),
	      BYTES(0x04, 0x20,               /* */
	            0x00, 0x00, 0x00, 0x01,   /* 1 */
	            0xFF, 0xFF, 0xFF, 0xFF,   /* -1 */
	            0x00, 0x00, 0x00, 0x00,   /* 0 */
	            0x00, 0x00, 0x00, 0x00,   /* 0 */
	            0x00, 0x00, 0x04, 0xD3,   /* 1235 */
	            0xFF, 0xFF, 0xFB, 0x2D,   /* -1235 */
	            0x00, 0x00, 0x00, 0x00,   /* 0 */
	            0x00, 0x00, 0x03, 0xEA)); /* 1002 */
}

static void gain_and_offset_apply(void **state)
{
	(void)state;
	nd.ch[2].gain = 2.0f;
	nd.ch[2].offset = 1.0f;
	fk.value[2] = 10.0;
	check(BYTES(0x04, 0x00, 0x04, 0x00, 0x02),
	      BYTES(0x04, 0x04, 0x41, 0xA8, 0x00, 0x00)); /* 21.0 */
}

static void fault_gives_nan_and_int32_min(void **state)
{
	(void)state;
	fk.fault[1] = true;
	check(BYTES(0x04, 0x00, 0x02, 0x00, 0x02),
	      BYTES(0x04, 0x04, 0x7F, 0xC0, 0x00, 0x00));
	check(BYTES(0x04, 0x03, 0xEA, 0x00, 0x02),
	      BYTES(0x04, 0x04, 0x80, 0x00, 0x00, 0x00));
	check(BYTES(0x04, 0x07, 0xD0, 0x00, 0x02), /* status 2000, 2001 */
	      BYTES(0x04, 0x04, 0x00, 0x00, 0x00, 0x01));
	check(BYTES(0x02, 0x00, 0x00, 0x00, 0x08), /* fault bits */
	      BYTES(0x02, 0x01, 0x02));
}

static void non_finite_reading_is_a_fault(void **state)
{
	float zero = 0.0f;

	(void)state;
	fk.value[0] = zero / zero;
	fk.value[1] = 1.0f / zero;
	fk.value[2] = -1.0f / zero;
	fk.value[3] = -(zero / zero);
	check(BYTES(0x04, 0x07, 0xD0, 0x00, 0x05),
	      BYTES(0x04, 0x0A, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01,
	            0x00, 0x00));
	check_ch0(0x7F, 0xC0, 0x00, 0x00);
}

static void disabled_channel_not_sensed(void **state)
{
	(void)state;
	fk.value[0] = 20.5;
	check(BYTES(0x05, 0x00, 0x00, 0x00, 0x00),
	      BYTES(0x05, 0x00, 0x00, 0x00, 0x00));
	assert_false(nd.ch[0].enabled);
	check_ch0(0x7F, 0xC0, 0x00, 0x00);
	check(BYTES(0x04, 0x03, 0xE8, 0x00, 0x02),
	      BYTES(0x04, 0x04, 0x80, 0x00, 0x00, 0x00));
	check(BYTES(0x04, 0x07, 0xD0, 0x00, 0x01),
	      BYTES(0x04, 0x02, 0x00, 0x08));
	check(BYTES(0x02, 0x00, 0x00, 0x00, 0x01), BYTES(0x02, 0x01, 0x00));
	assert_int_equal(fk.sense_calls[0], 0);
}

static void over_and_under_measuring_range(void **state)
{
	(void)state;
	nd.ch[0].range_lo = 0.0f;
	nd.ch[0].range_hi = 100.0f;
	nd.ch[1].range_lo = 0.0f;
	nd.ch[1].range_hi = 100.0f;
	fk.value[0] = 150.0;
	fk.value[1] = -1.0;
	fk.value[2] = 50.0;
	/* the value is still reported */
	check(BYTES(0x04, 0x00, 0x00, 0x00, 0x04),
	      BYTES(0x04, 0x08, 0x43, 0x16, 0x00, 0x00, 0xBF, 0x80, 0x00,
	            0x00));
	check(BYTES(0x04, 0x07, 0xD0, 0x00, 0x03),
	      BYTES(0x04, 0x06, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00));
	check(BYTES(0x02, 0x03, 0xE8, 0x00, 0x03), BYTES(0x02, 0x01, 0x03));
	/* the limits themselves are in range */
	fk.value[0] = 100.0;
	fk.value[1] = 0.0;
	check(BYTES(0x04, 0x07, 0xD0, 0x00, 0x02),
	      BYTES(0x04, 0x04, 0x00, 0x00, 0x00, 0x00));
}

static void counts_saturate_with_range_bits(void **state)
{
	(void)state;
	fk.value[0] = 3e6;        /* 3e9 counts */
	fk.value[1] = -3e6;       /* -3e9 counts */
	fk.value[2] = 2147483.0;  /* 2147483000: fits, exactly */
	fk.value[3] = 2147483.5;  /* 2147483500: fits */
	fk.value[4] = 2147483.75; /* 2147483750: over */
	fk.value[5] = -2147483.75;
	check(BYTES(0x04, 0x03, 0xE8, 0x00, 0x0C),
	      BYTES(0x04, 0x18,             /* */
	            0x7F, 0xFF, 0xFF, 0xFF, /* INT32_MAX */
	            0x80, 0x00, 0x00, 0x01, /* INT32_MIN + 1 */
	            0x7F, 0xFF, 0xFD, 0x78, /* 2147483000 */
	            0x7F, 0xFF, 0xFF, 0x6C, /* 2147483500 */
	            0x7F, 0xFF, 0xFF, 0xFF, /* */
	            0x80, 0x00, 0x00, 0x01));
	check(BYTES(0x04, 0x07, 0xD0, 0x00, 0x06),
	      BYTES(0x04, 0x0C, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
	            0x00, 0x02, 0x00, 0x04));
}

static void counts_of_tiny_values_are_0(void **state)
{
	(void)state;
	fk.value[0] = 1e-40; /* subnormal float */
	fk.value[1] = -1e-30;
	check(BYTES(0x04, 0x03, 0xE8, 0x00, 0x04),
	      BYTES(0x04, 0x08, 0, 0, 0, 0, 0, 0, 0, 0));
}

static void each_channel_sensed_once_per_request(void **state)
{
	unsigned c;

	(void)state;
	fk.step = 1.0;
	check(BYTES(0x04, 0x00, 0x00, 0x00, 0x10), (uint8_t[34]){0x04, 0x20},
	      34);
	for (c = 0; c < NCH; c++)
		assert_int_equal(fk.sense_calls[c], 1);
	check(BYTES(0x04, 0x07, 0xD0, 0x00, 0x08), (uint8_t[18]){0x04, 0x10},
	      18);
	check(BYTES(0x02, 0x00, 0x00, 0x00, 0x08), BYTES(0x02, 0x01, 0x00));
	check(BYTES(0x02, 0x03, 0xE8, 0x00, 0x08), BYTES(0x02, 0x01, 0x00));
	for (c = 0; c < NCH; c++)
		assert_int_equal(fk.sense_calls[c], 4);
	assert_int_equal(fk.sense_calls[NCH], 0);
}

static void both_words_of_a_float_from_one_reading(void **state)
{
	(void)state;
	/* 20.5 then 20.5 + 1/1024: the low words differ, so a second
	 * sense between the two words would show up */
	fk.value[0] = 20.5;
	fk.step = 1.0 / 1024;
	check_ch0(0x41, 0xA4, 0x00, 0x00);
	check_ch0(0x41, 0xA4, 0x02, 0x00);
}

static void reading_low_word_alone(void **state)
{
	(void)state;
	fk.value[0] = 20.5;
	check(BYTES(0x04, 0x00, 0x01, 0x00, 0x01),
	      BYTES(0x04, 0x02, 0x00, 0x00));
	check(BYTES(0x04, 0x00, 0x00, 0x00, 0x01),
	      BYTES(0x04, 0x02, 0x41, 0xA4));
}

/* ---- identity registers -------------------------------------------------- */

static void uptime_channels_version(void **state)
{
	(void)state;
	fk.uptime = 0x00012345;
	check(BYTES(0x04, 0x0B, 0xB8, 0x00, 0x04),
	      BYTES(0x04, 0x08, 0x00, 0x01, 0x23, 0x45, 0x00, 0x08, 0x01,
	            0x00));
	assert_int_equal(fk.uptime_calls, 1);
	check(BYTES(0x04, 0x0B, 0xB9, 0x00, 0x01),
	      BYTES(0x04, 0x02, 0x23, 0x45));
}

static void model_and_serial_strings(void **state)
{
	(void)state;
	/* "ML-T8/PT100": 11 chars, NUL padded to 32 */
	check(BYTES(0x04, 0x0B, 0xC2, 0x00, 0x10),
	      BYTES(0x04, 0x20, 'M', 'L', '-', 'T', '8', '/', 'P', 'T', '1',
	            '0', '0', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	            0, 0, 0, 0));
	check(BYTES(0x04, 0x0B, 0xD6, 0x00, 0x08),
	      BYTES(0x04, 0x10, 'S', 'N', '-', '0', '0', '0', '4', '2', 0, 0, 0,
	            0, 0, 0, 0, 0));
}

static void long_strings_truncated(void **state)
{
	struct node_identity id = ident;

	(void)state;
	id.serial = "0123456789ABCDEFGHIJ"; /* 20 chars, field 16 */
	id.model = NULL;
	node_init(&nd, &port, &fk, &id, NCH);
	check(BYTES(0x04, 0x0B, 0xDD, 0x00, 0x01), BYTES(0x04, 0x02, 'E', 'F'));
	check(BYTES(0x04, 0x0B, 0xC2, 0x00, 0x02),
	      BYTES(0x04, 0x04, 0, 0, 0, 0));
}

/* ---- addresses outside the map ------------------------------------------- */

/* Send function fc with a 16-bit address and a 16-bit value (a count,
 * or the value to write) and expect exception 02. */
static void check_ex02(uint8_t fc, uint16_t addr, uint16_t value)
{
	const uint8_t req[] = {fc, (uint8_t)(addr >> 8), (uint8_t)(addr & 0xFF),
	                       (uint8_t)(value >> 8), (uint8_t)(value & 0xFF)};

	check(req, sizeof(req), BYTES((uint8_t)(fc | 0x80), 0x02));
}

static void unmapped_addresses_ex02(void **state)
{
	/* function, address, count (FC 5: the value); address 16 is
	 * channel 8 */
	static const struct {
		uint8_t fc;
		uint16_t addr, value;
	} bad[] = {
	        {0x04, 16, 1},     {0x04, 15, 2},   {0x04, 1016, 1},
	        {0x04, 2008, 1},   {0x04, 3004, 1}, {0x04, 3003, 2},
	        {0x04, 3010, 17},  {0x04, 3038, 1}, {0x04, 65535, 1},
	        {0x03, 0, 2},      {0x03, 1032, 1}, {0x03, 2000, 4},
	        {0x02, 0, 9},      {0x02, 1000, 9}, {0x01, 7, 2},
	        {0x05, 8, 0xFF00},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_ex02(bad[i].fc, bad[i].addr, bad[i].value);
	check(BYTES(0x0F, 0x00, 0x00, 0x00, 0x09, 0x02, 0xFF, 0x01),
	      BYTES(0x8F, 0x02));
	check(BYTES(0x06, 0x00, 0x01, 0x00, 0x00), BYTES(0x86, 0x02));
	assert_true(nd.ch[0].enabled); /* the failed FC 15 changed nothing */
}

/* ---- lock, calibration writes -------------------------------------------- */

static void lock_and_unlock(void **state)
{
	(void)state;
	check(BYTES(0x03, 0x00, 0x00, 0x00, 0x01),
	      BYTES(0x03, 0x02, 0x00, 0x00));
	unlock();
	check(BYTES(0x03, 0x00, 0x00, 0x00, 0x01),
	      BYTES(0x03, 0x02, 0x00, 0x01));
	check(BYTES(0x06, 0x00, 0x00, 0x00, 0x01),
	      BYTES(0x06, 0x00, 0x00, 0x00, 0x01));
	check(BYTES(0x03, 0x00, 0x00, 0x00, 0x01),
	      BYTES(0x03, 0x02, 0x00, 0x00));
	/* FC 16 works on the lock too */
	check(BYTES(0x10, 0x00, 0x00, 0x00, 0x01, 0x02, 0xCA, 0x1B),
	      BYTES(0x10, 0x00, 0x00, 0x00, 0x01));
	assert_true(nd.unlocked);
}

static void calibration_read_defaults(void **state)
{
	(void)state;
	/* channel 1: gain 1.0, offset 0.0 */
	check(BYTES(0x03, 0x03, 0xEC, 0x00, 0x04),
	      BYTES(0x03, 0x08, 0x3F, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
	            0x00));
}

static void gain_write_while_locked_ex04(void **state)
{
	(void)state;
	check(BYTES(0x10, 0x03, 0xE8, 0x00, 0x02, 0x04, 0x40, 0x00, 0x00, 0x00),
	      BYTES(0x90, 0x04));
	check(BYTES(0x10, 0x07, 0xD0, 0x00, 0x03, 0x06, 0x07, 0xE8, 0x00, 0x03,
	            0x00, 0x0F),
	      BYTES(0x90, 0x04));
	check(BYTES(0x06, 0x07, 0xD2, 0x00, 0x01), BYTES(0x86, 0x04));
	assert_true(nd.ch[0].gain == 1.0f);
	assert_int_equal(nd.adj_date[0], 0);
	assert_int_equal(fk.cal_changed, 0);
}

static void gain_offset_write_unlocked(void **state)
{
	(void)state;
	unlock();
	/* channel 0 gain 2.0, offset 0.5 */
	check(BYTES(0x10, 0x03, 0xE8, 0x00, 0x04, 0x08, 0x40, 0x00, 0x00, 0x00,
	            0x3F, 0x00, 0x00, 0x00),
	      BYTES(0x10, 0x03, 0xE8, 0x00, 0x04));
	assert_int_equal(fk.cal_changed, 1);
	check(BYTES(0x03, 0x03, 0xE8, 0x00, 0x04),
	      BYTES(0x03, 0x08, 0x40, 0x00, 0x00, 0x00, 0x3F, 0x00, 0x00,
	            0x00));
	fk.value[0] = 10.0; /* 2 * 10 + 0.5 = 20.5 */
	check_ch0(0x41, 0xA4, 0x00, 0x00);
	/* offset alone of channel 7 (1030), across into nothing else */
	check(BYTES(0x10, 0x04, 0x06, 0x00, 0x02, 0x04, 0xBF, 0x80, 0x00, 0x00),
	      BYTES(0x10, 0x04, 0x06, 0x00, 0x02));
	assert_true(nd.ch[7].offset == -1.0f);
	/* offset of ch 0 and gain of ch 1 in one write (1002..1005) */
	check(BYTES(0x10, 0x03, 0xEA, 0x00, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00,
	            0x40, 0x40, 0x00, 0x00),
	      BYTES(0x10, 0x03, 0xEA, 0x00, 0x04));
	assert_true(nd.ch[0].offset == 0.0f);
	assert_true(nd.ch[1].gain == 3.0f);
	assert_int_equal(fk.cal_changed, 3);
}

static void calibration_write_without_callback(void **state)
{
	const struct node_port bare = {.sense = f_sense};

	(void)state;
	node_init(&nd, &bare, &fk, &ident, NCH);
	unlock();
	check(BYTES(0x10, 0x03, 0xE8, 0x00, 0x02, 0x04, 0x40, 0x00, 0x00, 0x00),
	      BYTES(0x10, 0x03, 0xE8, 0x00, 0x02));
	assert_true(nd.ch[0].gain == 2.0f);
	/* and no uptime function: reads 0 */
	check(BYTES(0x04, 0x0B, 0xB8, 0x00, 0x02),
	      BYTES(0x04, 0x04, 0x00, 0x00, 0x00, 0x00));
}

static void non_finite_float_write_ex03(void **state)
{
	(void)state;
	unlock();
	/* +inf gain */
	check(BYTES(0x10, 0x03, 0xE8, 0x00, 0x02, 0x04, 0x7F, 0x80, 0x00, 0x00),
	      BYTES(0x90, 0x03));
	/* -inf */
	check(BYTES(0x10, 0x03, 0xE8, 0x00, 0x02, 0x04, 0xFF, 0x80, 0x00, 0x00),
	      BYTES(0x90, 0x03));
	/* a good gain and a NaN offset: all or nothing */
	check(BYTES(0x10, 0x03, 0xE8, 0x00, 0x04, 0x08, 0x40, 0x00, 0x00, 0x00,
	            0x7F, 0xC0, 0x00, 0x00),
	      BYTES(0x90, 0x03));
	/* a signalling NaN through FC 23 */
	check(BYTES(0x17, 0x03, 0xE8, 0x00, 0x01, 0x03, 0xE8, 0x00, 0x02, 0x04,
	            0x7F, 0x80, 0x00, 0x01),
	      BYTES(0x97, 0x03));
	assert_true(nd.ch[0].gain == 1.0f);
	assert_true(nd.ch[0].offset == 0.0f);
	assert_int_equal(fk.cal_changed, 0);
}

static void half_float_write_ex02(void **state)
{
	(void)state;
	unlock();
	check(BYTES(0x06, 0x03, 0xE8, 0x40, 0x00), BYTES(0x86, 0x02));
	check(BYTES(0x06, 0x03, 0xE9, 0x00, 0x00), BYTES(0x86, 0x02));
	/* 1001..1002: low half of gain, high half of offset */
	check(BYTES(0x10, 0x03, 0xE9, 0x00, 0x02, 0x04, 0, 0, 0x40, 0),
	      BYTES(0x90, 0x02));
	/* 1000..1002: gain and half the offset */
	check(BYTES(0x10, 0x03, 0xE8, 0x00, 0x03, 0x06, 0x40, 0, 0, 0, 0x40, 0),
	      BYTES(0x90, 0x02));
	assert_true(nd.ch[0].gain == 1.0f);
	assert_int_equal(fk.cal_changed, 0);
}

/* Write y-m-d to the adjustment date (registers 2000..2002) in one FC16
 * request and compare the response with want. */
static void check_date(unsigned y, unsigned m, unsigned d, const uint8_t *want,
                       size_t want_len)
{
	uint8_t req[12] = {0x10, 0x07, 0xD0, 0x00, 0x03, 0x06};

	req[6] = (uint8_t)(y >> 8);
	req[7] = (uint8_t)(y & 0xFF);
	req[9] = (uint8_t)m;
	req[11] = (uint8_t)d;
	check(req, sizeof(req), want, want_len);
}

static void adjustment_date(void **state)
{
	(void)state;
	unlock();
	check_date(2024, 2, 29, /* a leap day */
	           BYTES(0x10, 0x07, 0xD0, 0x00, 0x03));
	check(BYTES(0x03, 0x07, 0xD0, 0x00, 0x03),
	      BYTES(0x03, 0x06, 0x07, 0xE8, 0x00, 0x02, 0x00, 0x1D));
	assert_int_equal(fk.cal_changed, 1);
	/* change the month alone: 2024-03-29 */
	check(BYTES(0x06, 0x07, 0xD1, 0x00, 0x03),
	      BYTES(0x06, 0x07, 0xD1, 0x00, 0x03));
	assert_int_equal(nd.adj_date[1], 3);
	/* back to "never" */
	check_date(0, 0, 0, BYTES(0x10, 0x07, 0xD0, 0x00, 0x03));
	assert_int_equal(nd.adj_date[0], 0);
	assert_int_equal(fk.cal_changed, 3);
}

static void bad_adjustment_dates_ex03(void **state)
{
	/* month 13; 2023-02-29; day 0, day 32; year 1999 */
	static const unsigned bad[][3] = {
	        {2024, 13, 1}, {2023, 2, 29}, {2024, 1, 0},
	        {2024, 1, 32}, {1999, 1, 1},
	};

	(void)state;
	unlock();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_date(bad[i][0], bad[i][1], bad[i][2], BYTES(0x90, 0x03));
	/* a year alone when the date is "never": 2024-00-00 */
	check(BYTES(0x06, 0x07, 0xD0, 0x07, 0xE8), BYTES(0x86, 0x03));
	assert_int_equal(nd.adj_date[0], 0);
	assert_int_equal(fk.cal_changed, 0);
}

/* ---- coils --------------------------------------------------------------- */

static void enable_coils(void **state)
{
	(void)state;
	check(BYTES(0x01, 0x00, 0x00, 0x00, 0x08), BYTES(0x01, 0x01, 0xFF));
	check(BYTES(0x0F, 0x00, 0x00, 0x00, 0x08, 0x01, 0x55),
	      BYTES(0x0F, 0x00, 0x00, 0x00, 0x08));
	check(BYTES(0x01, 0x00, 0x00, 0x00, 0x08), BYTES(0x01, 0x01, 0x55));
	check(BYTES(0x01, 0x00, 0x01, 0x00, 0x03), BYTES(0x01, 0x01, 0x02));
	assert_false(nd.ch[1].enabled);
	check(BYTES(0x04, 0x07, 0xD1, 0x00, 0x01),
	      BYTES(0x04, 0x02, 0x00, 0x08));
	/* coils are not write-protected */
	check(BYTES(0x05, 0x00, 0x01, 0xFF, 0x00),
	      BYTES(0x05, 0x00, 0x01, 0xFF, 0x00));
	assert_true(nd.ch[1].enabled);
}

/* ---- FC 23 and FC 43 on the node ----------------------------------------- */

static void fc23_unlock_and_read_lock(void **state)
{
	(void)state;
	check(BYTES(0x17, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x02,
	            0xCA, 0x1B),
	      BYTES(0x17, 0x02, 0x00, 0x01));
}

static void device_identification(void **state)
{
	(void)state;
	check(BYTES(0x2B, 0x0E, 0x01, 0x00),
	      BYTES(0x2B, 0x0E, 0x01, 0x83, 0x00, 0x00, 0x03, 0x00, 8, 'M', 'e',
	            't', 'r', 'o', 'l', 'a', 'b', 0x01, 5, 'M', 'L', '-', 'T',
	            '8', 0x02, 3, '1', '.', '0'));
	check(BYTES(0x2B, 0x0E, 0x04, 0x80),
	      BYTES(0x2B, 0x0E, 0x04, 0x83, 0x00, 0x00, 0x01, 0x80, 8, 'S', 'N',
	            '-', '0', '0', '0', '4', '2'));
	check(BYTES(0x2B, 0x0E, 0x04, 0x05),
	      BYTES(0x2B, 0x0E, 0x04, 0x83, 0x00, 0x00, 0x01, 0x05, 11, 'M',
	            'L', '-', 'T', '8', '/', 'P', 'T', '1', '0', '0'));
	check(BYTES(0x2B, 0x0E, 0x04, 0x06), BYTES(0xAB, 0x02));
}

static void device_identification_missing_strings(void **state)
{
	const struct node_identity bare = {.vendor = "V"};

	(void)state;
	node_init(&nd, &port, &fk, &bare, NCH);
	/* basic objects exist even when empty; the others do not */
	check(BYTES(0x2B, 0x0E, 0x03, 0x00),
	      BYTES(0x2B, 0x0E, 0x03, 0x83, 0x00, 0x00, 0x03, 0x00, 1, 'V',
	            0x01, 0, 0x02, 0));
	check(BYTES(0x2B, 0x0E, 0x04, 0x80), BYTES(0xAB, 0x02));
	node_init(&nd, &port, &fk, NULL, NCH);
	check(BYTES(0x2B, 0x0E, 0x04, 0x00),
	      BYTES(0x2B, 0x0E, 0x04, 0x83, 0x00, 0x00, 0x01, 0x00, 0));
}

static void max_channels_read_125_registers(void **state)
{
	uint8_t rsp[MB_PDU_MAX];
	size_t n;

	(void)state;
	node_init(&nd, &port, &fk, &ident, NODE_MAX_CHANNELS);
	fk.value[62] = 20.5;
	n = mb_pdu_process(&node_map, &nd,
	                   (const uint8_t[]){0x04, 0x00, 0x00, 0x00, 0x7D}, 5,
	                   rsp, false);
	assert_int_equal(n, 252);
	assert_int_equal(rsp[2 + 4 * 62], 0x41); /* high word of channel 62 */
	assert_int_equal(rsp[2 + 4 * 62 + 1], 0xA4);
	check(BYTES(0x04, 0x00, 0x7F, 0x00, 0x01), BYTES(0x04, 0x02, 0, 0));
	check(BYTES(0x04, 0x00, 0x80, 0x00, 0x01), BYTES(0x84, 0x02));
	check(BYTES(0x03, 0x04, 0xE7, 0x00, 0x01), /* 1255: offset ch 63 lo */
	      BYTES(0x03, 0x02, 0x00, 0x00));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, setup)
	        T(init_defaults),
	        T(value_20_5_is_41a40000),
	        T(counts_20_5_is_20500),
	        T(counts_round_half_away_from_zero),
	        T(gain_and_offset_apply),
	        T(fault_gives_nan_and_int32_min),
	        T(non_finite_reading_is_a_fault),
	        T(disabled_channel_not_sensed),
	        T(over_and_under_measuring_range),
	        T(counts_saturate_with_range_bits),
	        T(counts_of_tiny_values_are_0),
	        T(each_channel_sensed_once_per_request),
	        T(both_words_of_a_float_from_one_reading),
	        T(reading_low_word_alone),
	        T(uptime_channels_version),
	        T(model_and_serial_strings),
	        T(long_strings_truncated),
	        T(unmapped_addresses_ex02),
	        T(lock_and_unlock),
	        T(calibration_read_defaults),
	        T(gain_write_while_locked_ex04),
	        T(gain_offset_write_unlocked),
	        T(calibration_write_without_callback),
	        T(non_finite_float_write_ex03),
	        T(half_float_write_ex02),
	        T(adjustment_date),
	        T(bad_adjustment_dates_ex03),
	        T(enable_coils),
	        T(fc23_unlock_and_read_lock),
	        T(device_identification),
	        T(device_identification_missing_strings),
	        T(max_channels_read_125_registers),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
