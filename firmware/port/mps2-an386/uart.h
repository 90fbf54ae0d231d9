/*
 * uart.h - UART0 of the MPS2 board (ARM CMSDK APB UART), the node's
 * Modbus RTU line.
 *
 * Receive is interrupt driven: every byte is handed to the on_rx callback
 * from the UART0 RX interrupt handler, as it arrives, so the caller can
 * timestamp it for the RTU inter-frame silence. Transmit is polled and
 * blocking; the RTU server is half-duplex and has nothing else to do while
 * it answers.
 *
 * The CMSDK UART is always 8N1. The Modbus serial line spec prefers even
 * parity, or two stop bits without parity; 8N1 is what this UART can do
 * and what libmodbus and common masters accept, so the gateway's bus for
 * this node must be configured 8N1.
 */
#ifndef METROLOG_UART_H
#define METROLOG_UART_H

#include <stddef.h>
#include <stdint.h>

/* Called in interrupt context for each received byte. */
typedef void (*uart_rx_fn)(uint8_t byte);

/* Set the baud rate (baud <= CLOCK_CPU_HZ / 16), enable transmit, receive
 * and the RX interrupt. on_rx must not be NULL. */
void uart_init(uint32_t baud, uart_rx_fn on_rx);

/* Send len bytes; returns when the last one is in the transmit register. */
void uart_write(const uint8_t *buf, size_t len);

#endif
