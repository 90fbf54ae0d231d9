/*
 * startup.c - vector table and reset handler of the metrolog node on the
 * MPS2 AN386 (Cortex-M4F).
 *
 * The CPU loads its stack pointer and first PC from the table at address 0
 * (SSRAM1). reset_handler() enables the FPU before any compiled code may use
 * it, copies .data from its load image in SSRAM1 to SSRAM2&3, zeroes .bss
 * and calls main(). There are no C++ constructors and no libc start-up: the
 * firmware needs only memcpy/memset/memcmp from newlib-nano.
 *
 * A fault or an unexpected interrupt resets the board (SYSRESETREQ): an
 * instrument on a bus recovers by itself, and the gateway sees a short
 * communication loss and an uptime that restarted.
 */
#include <stdint.h>

#include "cortex_m.h"

/* Provided by mps2-an386.ld. */
extern uint32_t __stack_top[];
extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];

int main(void);
void default_handler(void);

void systick_handler(void) __attribute__((weak, alias("default_handler")));
void uart0_rx_handler(void) __attribute__((weak, alias("default_handler")));
void timer0_handler(void) __attribute__((weak, alias("default_handler")));

#define CM_EXCEPTIONS 15 /* after the initial SP: reset .. SysTick */
#define AN386_IRQS    32 /* num-irq of the AN385/AN386 images */

struct vector_table {
	uint32_t *initial_sp;
	void (*exception[CM_EXCEPTIONS])(void); /* numbers 1..15 */
	void (*irq[AN386_IRQS])(void);
};

/* On AN386, IRQ 0 is UART0 RX and IRQ 8 TIMER0 (QEMU hw/arm/mps2.c,
 * AN386 section 3.9). Entries left out are reserved (0). */
/* clang-format off */
__attribute__((section(".vectors"), used))
static const struct vector_table vectors = {
	.initial_sp = __stack_top,
	.exception = {
		[0] = reset_handler,
		[1] = default_handler,	/* NMI */
		[2] = default_handler,	/* HardFault */
		[3] = default_handler,	/* MemManage */
		[4] = default_handler,	/* BusFault */
		[5] = default_handler,	/* UsageFault */
		[10] = default_handler,	/* SVCall */
		[11] = default_handler,	/* DebugMonitor */
		[13] = default_handler,	/* PendSV */
		[14] = systick_handler,
	},
	.irq = {
		[0] = uart0_rx_handler,
		[1 ... 7] = default_handler,
		[8] = timer0_handler,
		[9 ... AN386_IRQS - 1] = default_handler,
	},
};
/* clang-format on */

void reset_handler(void)
{
	uint32_t *src, *dst;

	/* CP10 and CP11 full access: the compiler uses the FPU (hard-float
	 * ABI) anywhere from here on. */
	SCB_CPACR |= SCB_CPACR_CP10_CP11;
	__asm__ volatile("dsb\n\tisb" : : : "memory");

	SCB_VTOR = (uint32_t)(uintptr_t)&vectors;

	src = __data_load;
	for (dst = __data_start; dst < __data_end; dst++)
		*dst = *src++;
	for (dst = __bss_start; dst < __bss_end; dst++)
		*dst = 0;

	main();
	default_handler(); /* main() does not return */
}

void default_handler(void)
{
	SCB_AIRCR = SCB_AIRCR_VECTKEY | SCB_AIRCR_SYSRESETREQ;
	__asm__ volatile("dsb" : : : "memory");
	for (;;)
		;
}
