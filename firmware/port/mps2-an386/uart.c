/*
 * uart.c - CMSDK APB UART0 driver behind uart.h.
 *
 * Registers (ARM DDI 0479, section 4.3; base 0x40004000 on AN385/AN386):
 *
 *   offset  name       use here
 *   0x00    DATA       read: received byte (clears RXFULL); write: send
 *   0x04    STATE      bit 0 TXFULL, bit 1 RXFULL, bits 2-3 overrun (W1C)
 *   0x08    CTRL       bit 0 TX enable, bit 1 RX enable, bit 3 RX irq enable
 *   0x0C    INTSTATUS  bit 1 RX interrupt (W1C)
 *   0x10    BAUDDIV    PCLK / baud, at least 16
 *
 * The receive buffer holds a single byte, so the RX handler must run before
 * the next byte completes (520 us at 19200 baud): only the clock's two
 * short handlers (SysTick, TIMER0) can delay it, and it does nothing but
 * hand the byte on.
 *
 * QEMU (hw/char/cmsdk-apb-uart.c) drops bytes while RX is disabled in CTRL
 * and ignores BAUDDIV below 16, hence the order in uart_init().
 */
#include "uart.h"

#include "clock.h"
#include "cortex_m.h"

#define UART0_BASE   0x40004000u
#define UART0_RX_IRQ 0

#define UART_DATA      CM_REG(UART0_BASE + 0x00u)
#define UART_STATE     CM_REG(UART0_BASE + 0x04u)
#define UART_CTRL      CM_REG(UART0_BASE + 0x08u)
#define UART_INTSTATUS CM_REG(UART0_BASE + 0x0Cu)
#define UART_BAUDDIV   CM_REG(UART0_BASE + 0x10u)

#define STATE_TXFULL  (1u << 0)
#define STATE_RXFULL  (1u << 1)
#define STATE_OVERRUN (3u << 2)
#define CTRL_TX_EN    (1u << 0)
#define CTRL_RX_EN    (1u << 1)
#define CTRL_RX_INTEN (1u << 3)
#define INT_RX        (1u << 1)

static uart_rx_fn rx_callback;

void uart_init(uint32_t baud, uart_rx_fn on_rx)
{
	rx_callback = on_rx;
	UART_CTRL = 0;
	UART_BAUDDIV = CLOCK_CPU_HZ / baud;
	UART_STATE = STATE_OVERRUN;
	UART_INTSTATUS = INT_RX;
	UART_CTRL = CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INTEN;
	cm_nvic_enable(UART0_RX_IRQ, 1);
}

void uart0_rx_handler(void)
{
	/* Acknowledge first, then drain: a byte landing after the last
	 * RXFULL check raises the interrupt again instead of waiting in the
	 * register with no interrupt to announce it. */
	UART_INTSTATUS = INT_RX;
	while (UART_STATE & STATE_RXFULL)
		rx_callback((uint8_t)UART_DATA);
	if (UART_STATE & STATE_OVERRUN)
		UART_STATE = STATE_OVERRUN; /* the frame's CRC will catch it */
}

void uart_write(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		while (UART_STATE & STATE_TXFULL)
			;
		UART_DATA = buf[i];
	}
}
