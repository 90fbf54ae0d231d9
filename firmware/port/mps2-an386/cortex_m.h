/*
 * cortex_m.h - the few Cortex-M4 core registers this port touches (System
 * Control Block, NVIC, SysTick, FPU access), interrupt masking, and the
 * exception handlers that startup.c puts in the vector table.
 *
 * Written out by hand instead of pulling in CMSIS: the port needs a dozen
 * registers, and the addresses are fixed by the ARMv7-M architecture
 * (ARM DDI 0403, B3.2), so they hold on any Cortex-M4 board.
 */
#ifndef METROLOG_CORTEX_M_H
#define METROLOG_CORTEX_M_H

#include <stdint.h>

#define CM_REG(addr) (*(volatile uint32_t *)(addr))

/* System Control Block */
#define SCB_ICSR  CM_REG(0xE000ED04u)
#define SCB_VTOR  CM_REG(0xE000ED08u)
#define SCB_AIRCR CM_REG(0xE000ED0Cu)
#define SCB_SHPR3 CM_REG(0xE000ED20u) /* PendSV, SysTick priorities */
#define SCB_CPACR CM_REG(0xE000ED88u)

#define SCB_ICSR_PENDSTSET    (1u << 26)
#define SCB_AIRCR_VECTKEY     (0x05FAu << 16)
#define SCB_AIRCR_SYSRESETREQ (1u << 2)
#define SCB_CPACR_CP10_CP11   (0xFu << 20) /* full access to the FPU */

/* SysTick */
#define SYST_CSR CM_REG(0xE000E010u)
#define SYST_RVR CM_REG(0xE000E014u)
#define SYST_CVR CM_REG(0xE000E018u)

#define SYST_CSR_ENABLE    (1u << 0)
#define SYST_CSR_TICKINT   (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2) /* 1: processor clock */

/* NVIC: interrupt set-enable and priority registers */
#define NVIC_ISER(n)       CM_REG(0xE000E100u + 4u * (n))
#define NVIC_IPR_BYTE(irq) (*(volatile uint8_t *)(0xE000E400u + (irq)))

/* The AN386 CPU implements 3 priority bits: the top bits of each byte. */
#define CM_PRIO(level) ((uint8_t)((level) << 5))

static inline void cm_nvic_enable(unsigned irq, unsigned level)
{
	NVIC_IPR_BYTE(irq) = CM_PRIO(level);
	NVIC_ISER(irq / 32u) = 1u << (irq % 32u);
}

/* Mask interrupts; returns the previous PRIMASK for cm_irq_restore(). */
static inline uint32_t cm_irq_save(void)
{
	uint32_t primask;

	__asm__ volatile("mrs %0, primask\n\tcpsid i"
	                 : "=r"(primask)
	                 :
	                 : "memory");
	return primask;
}

static inline void cm_irq_restore(uint32_t primask)
{
	__asm__ volatile("msr primask, %0" : : "r"(primask) : "memory");
}

/* Sleep until an interrupt is pending. Call it with interrupts masked
 * (cm_irq_save) right after checking for work: an interrupt that comes
 * after the check still ends the sleep, and is taken once unmasked. */
static inline void cm_wait_for_interrupt(void)
{
	__asm__ volatile("dsb\n\twfi" : : : "memory");
}

/* Exception and interrupt handlers named in the vector table. The ones a
 * driver does not define fall back to a handler that resets the board. */
void reset_handler(void);
void systick_handler(void);
void uart0_rx_handler(void);
void timer0_handler(void);

#endif
