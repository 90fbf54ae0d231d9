/*
 * clock.h - monotonic time for the node from the Cortex-M SysTick timer.
 *
 * SysTick runs free over its full 24 bits at the processor clock (25 MHz
 * on the MPS2 board, so it wraps every 0.67 s); every reading adds the
 * cycles elapsed since the previous one to a microsecond count, and the
 * SysTick interrupt at each wrap makes sure no wrap goes unseen. Time is
 * thus read from the counter itself, never inferred from counting
 * interrupts, and cannot run backwards even when an interrupt is taken
 * late (as under QEMU, whose timer callbacks run on a host thread).
 *
 * clock_init() also starts a heartbeat: the board's TIMER0 (CMSDK APB
 * timer) interrupts CLOCK_HEARTBEAT_HZ times a second, so a core asleep in
 * WFI wakes at least that often and notices the end of a Modbus frame (a
 * silence of 3.5 characters, 2 ms at 19200 baud) within 100 us of it.
 * Under QEMU it also keeps the serial input flowing: the emulated UART
 * fetches the next byte from the host only when QEMU's main loop wakes,
 * and a timer expiring is what wakes it.
 *
 * The microsecond count wraps modulo 2^32: compare times by unsigned
 * subtraction. Callable from thread mode and from any interrupt handler.
 */
#ifndef METROLOG_CLOCK_H
#define METROLOG_CLOCK_H

#include <stdint.h>

#define CLOCK_CPU_HZ       25000000u /* SYSCLK = PCLK of the AN385/AN386 images */
#define CLOCK_HEARTBEAT_HZ 10000u

/* Start SysTick and the heartbeat. Call once, before any other clock_*
 * function. */
void clock_init(void);

/* Microseconds since clock_init(), wrapping after about 71 minutes. */
uint32_t clock_us(void);

/* Milliseconds since clock_init(), wrapping after about 49 days. */
uint32_t clock_ms(void);

/* Whole seconds since clock_init(). */
uint32_t clock_s(void);

#endif
