/*
 * clock.c - SysTick driver behind clock.h.
 *
 * State: the counter value at the previous reading, the cycles not yet
 * worth a whole microsecond, and the time so far (microseconds modulo
 * 2^32, and seconds plus microseconds into the second for the slower
 * clocks). advance() is the only writer; it runs with interrupts masked,
 * so a reading in an interrupt handler and one in the main loop cannot
 * interleave.
 *
 * A wrap of the 24-bit down-counter is accounted for by modular
 * subtraction, which is exact as long as readings are less than one
 * period (2^24 cycles, 0.67 s) apart: systick_handler() reads the clock at
 * every wrap to guarantee it (and the heartbeat reads it far more often).
 *
 * TIMER0 (ARM DDI 0479, section 4.4; base 0x40000000, IRQ 8 on AN386):
 *
 *   offset  name       use here
 *   0x00    CTRL       bit 0 enable, bit 3 interrupt enable
 *   0x04    VALUE      current count, down to 0, then RELOAD
 *   0x08    RELOAD     PCLK / CLOCK_HEARTBEAT_HZ - 1
 *   0x0C    INTCLEAR   write 1 to clear the interrupt
 */
#include "clock.h"

#include "cortex_m.h"

#define TIMER0_BASE      0x40000000u
#define TIMER0_IRQ       8
#define TIMER0_CTRL      CM_REG(TIMER0_BASE + 0x00u)
#define TIMER0_VALUE     CM_REG(TIMER0_BASE + 0x04u)
#define TIMER0_RELOAD    CM_REG(TIMER0_BASE + 0x08u)
#define TIMER0_INTCLEAR  CM_REG(TIMER0_BASE + 0x0Cu)
#define TIMER_CTRL_EN    (1u << 0)
#define TIMER_CTRL_IRQEN (1u << 3)

#define SYST_MASK     0x00FFFFFFu /* 24-bit counter, reload 0xFFFFFF */
#define CYCLES_PER_US (CLOCK_CPU_HZ / 1000000u)
#define US_PER_S      1000000u

_Static_assert(CLOCK_CPU_HZ % 1000000u == 0, "whole cycles per us");
_Static_assert(CLOCK_CPU_HZ % CLOCK_HEARTBEAT_HZ == 0, "whole heartbeat");

static uint32_t last_cvr;   /* SYST_CVR at the previous reading */
static uint32_t cycles_rem; /* cycles short of a whole microsecond */
static uint32_t now_us;     /* microseconds, modulo 2^32 */
static uint32_t now_s;      /* whole seconds */
static uint32_t us_into_s;  /* microseconds into the current second */

void clock_init(void)
{
	SYST_CSR = 0;
	SYST_RVR = SYST_MASK;
	SYST_CVR = 0; /* any write clears it; it reloads once enabled */
	SCB_SHPR3 = (SCB_SHPR3 & 0x00FFFFFFu) | ((uint32_t)CM_PRIO(0) << 24);
	SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
	/* Start from the reloaded value, not the 0 before it: that would
	 * count as a whole period gone by. */
	do {
		last_cvr = SYST_CVR & SYST_MASK;
	} while (last_cvr == 0);

	TIMER0_CTRL = 0;
	TIMER0_RELOAD = CLOCK_CPU_HZ / CLOCK_HEARTBEAT_HZ - 1u;
	TIMER0_VALUE = CLOCK_CPU_HZ / CLOCK_HEARTBEAT_HZ - 1u;
	TIMER0_INTCLEAR = 1;
	TIMER0_CTRL = TIMER_CTRL_EN | TIMER_CTRL_IRQEN;
	cm_nvic_enable(TIMER0_IRQ, 0);
}

/* Bring the time up to the counter. Interrupts must be masked. */
static void advance(void)
{
	uint32_t cvr = SYST_CVR & SYST_MASK;
	uint32_t us;

	cycles_rem += (last_cvr - cvr) & SYST_MASK; /* it counts down */
	last_cvr = cvr;
	us = cycles_rem / CYCLES_PER_US;
	cycles_rem -= us * CYCLES_PER_US;
	now_us += us;
	us_into_s += us;
	while (us_into_s >= US_PER_S) {
		us_into_s -= US_PER_S;
		now_s++;
	}
}

/* The time in each unit, brought up to the counter in one critical
 * section. */
struct now {
	uint32_t us, ms, s;
};

static struct now read_now(void)
{
	uint32_t primask = cm_irq_save();
	struct now n;

	advance();
	n.us = now_us;
	n.ms = now_s * 1000u + us_into_s / 1000u;
	n.s = now_s;
	cm_irq_restore(primask);
	return n;
}

void systick_handler(void)
{
	(void)read_now();
}

void timer0_handler(void)
{
	uint32_t primask = cm_irq_save();

	TIMER0_INTCLEAR = 1;
	advance();
	cm_irq_restore(primask);
}

uint32_t clock_us(void)
{
	return read_now().us;
}

uint32_t clock_ms(void)
{
	return read_now().ms;
}

uint32_t clock_s(void)
{
	return read_now().s;
}
