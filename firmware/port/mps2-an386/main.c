/*
 * main.c - the metrolog instrument node on the ARM MPS2 board with the
 * AN386 image (Cortex-M4F): a Modbus RTU server, unit 1, on UART0 at
 * 19200 baud 8N1, serving the register map of firmware/core/node.h for four
 * channels.
 *
 * The board has no sensors, so sense() returns plausible laboratory
 * readings (temperature, humidity, pressure, a DC voltage reference) that
 * drift slowly with the SysTick clock: a master sees a live instrument.
 *
 * Who touches what: the UART0 RX interrupt feeds received bytes, with
 * their arrival time, into the RTU receiver `rx`; the main loop takes a
 * finished frame out of `rx` with interrupts masked, then parses it, runs
 * the node map and answers with interrupts enabled. The node and the
 * transmit buffer belong to the main loop alone. The core sleeps in WFI
 * whenever no frame is complete; a received byte or the clock's 10 kHz
 * heartbeat wakes it, so the end of frame silence (3.5 characters) is seen
 * within 100 us.
 *
 * Calibration (gain, offset, adjustment date) lives in RAM and is lost at
 * reset; a production board would store it in flash from
 * calibration_changed().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "clock.h"
#include "cortex_m.h"
#include "mb.h"
#include "node.h"
#include "uart.h"

#define NODE_UNIT_ID  1
#define NODE_BAUD     19200u
#define NODE_CHANNELS 4

/* A simulated quantity: base +- amplitude, a triangle of the given period. */
struct signal {
	float base, amplitude;
	uint32_t period_ms;
	float range_lo, range_hi;
};

static const struct signal signals[NODE_CHANNELS] = {
        {20.0f, 0.05f, 60000, -40.0f, 125.0f},    /* temperature, degC */
        {45.0f, 0.5f, 300000, 0.0f, 100.0f},      /* relative humidity, % */
        {101.325f, 0.02f, 120000, 80.0f, 110.0f}, /* air pressure, kPa */
        {10.0f, 0.0005f, 30000, 0.0f, 20.0f},     /* DC voltage reference, V */
};

static const struct node_identity identity = {
        .vendor = "metrolog",
        .product_code = "ML-NODE-M4",
        .revision = "1.0",
        .url = "https://metrolog.example/node",
        .product_name = "metrolog instrument node",
        .model = "ML-NODE-M4 MPS2-AN386",
        .serial = "MPS2-AN386-0001",
};

static struct node node;
static struct mb_rtu_rx rx; /* shared with the UART RX interrupt */
static uint32_t t35_us;     /* written before the interrupt is enabled */
static uint8_t frame[MB_RTU_ADU_MAX];
static uint8_t reply[MB_RTU_ADU_MAX];

static uint32_t board_uptime_s(void *ctx)
{
	(void)ctx;
	return clock_s();
}

static int board_sense(void *ctx, unsigned ch, float *value)
{
	const struct signal *s;
	float x;

	(void)ctx;
	if (ch >= NODE_CHANNELS)
		return -1;
	s = &signals[ch];
	/* x runs 0..2 over one period; the triangle is -1..1 */
	x = (float)(clock_ms() % s->period_ms) / (float)(s->period_ms / 2u);
	x = x < 1.0f ? 2.0f * x - 1.0f : 3.0f - 2.0f * x;
	*value = s->base + s->amplitude * x;
	return 0;
}

static const struct node_port board = {
        .uptime_s = board_uptime_s,
        .sense = board_sense,
        .calibration_changed = NULL,
};

/* UART0 RX interrupt context. */
static void on_rx_byte(uint8_t byte)
{
	mb_rtu_rx_byte(&rx, byte, clock_us(), t35_us);
}

/* Take a finished frame out of the receiver into frame[]; returns its
 * length or 0. Interrupts must be masked. */
static size_t take_frame(void)
{
	size_t len = mb_rtu_rx_poll(&rx, clock_us(), t35_us);

	if (len > 0) {
		memcpy(frame, rx.buf, len);
		mb_rtu_rx_reset(&rx);
	}
	return len;
}

/* Answer one frame. Frames with a bad CRC or for another unit are dropped
 * without a word, as the serial line spec requires; broadcasts are
 * performed and not answered. */
static void serve(size_t len)
{
	uint8_t unit;
	size_t pdu_len, rsp_len;

	if (mb_rtu_parse(frame, len, &unit, &pdu_len) != 0)
		return;
	if (unit != NODE_UNIT_ID && unit != MB_BROADCAST_UNIT)
		return;
	rsp_len = mb_pdu_process(&node_map, &node, frame + MB_RTU_PDU_OFFSET,
	                         pdu_len, reply + MB_RTU_PDU_OFFSET,
	                         unit == MB_BROADCAST_UNIT);
	if (rsp_len == 0)
		return;
	uart_write(reply, mb_rtu_build(reply, unit, rsp_len));
}

int main(void)
{
	uint32_t primask;
	size_t len;

	clock_init();
	node_init(&node, &board, NULL, &identity, NODE_CHANNELS);
	for (unsigned c = 0; c < NODE_CHANNELS; c++) {
		node.ch[c].range_lo = signals[c].range_lo;
		node.ch[c].range_hi = signals[c].range_hi;
	}
	t35_us = mb_rtu_t35_us(NODE_BAUD);
	mb_rtu_rx_reset(&rx);
	uart_init(NODE_BAUD, on_rx_byte);

	for (;;) {
		/* Check and sleep with interrupts masked: a byte that ends a
		 * frame just after the check still wakes the WFI. */
		primask = cm_irq_save();
		len = take_frame();
		if (len == 0)
			cm_wait_for_interrupt();
		cm_irq_restore(primask);
		if (len > 0)
			serve(len);
	}
}
