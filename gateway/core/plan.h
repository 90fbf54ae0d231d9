/*
 * plan.h - turn the channels of one instrument into the fewest legal block
 * reads.
 *
 * Channels of one table whose registers lie close together are read in one
 * request when the gap between them is at most max_gap registers (read over
 * and ignored) and the block stays within the protocol limit (125 registers,
 * 2000 bits). Pure function of its input; built once per configuration.
 */
#ifndef METROLOG_PLAN_H
#define METROLOG_PLAN_H

#include <stdint.h>

#include "mbaddr.h"

#define PLAN_MAX_REGISTERS 125
#define PLAN_MAX_BITS      2000

/* What one channel needs: table, first address, and how many registers
 * (or bits, for coils and discrete inputs: always 1) it spans. */
struct plan_need {
	enum bus_table table;
	uint16_t address;
	uint16_t count;
};

struct plan_read {
	enum bus_table table;
	uint16_t address;
	uint16_t count;
};

/* Where channel i's words are: reads[slot[i].read], from word offset. */
struct plan_slot {
	uint16_t read;
	uint16_t offset;
};

struct plan {
	struct plan_read *reads;
	int nreads;
	struct plan_slot *slots; /* one per need, in the caller's order */
	int nslots;
};

/*
 * Plan the reads for n needs. max_gap: registers (or bits) that may be read
 * over between two channels to save a request (0: only adjacent channels
 * are merged). Overlapping needs share words. Reads are sorted by table,
 * then address. Returns 0 and fills *p (free with plan_free()), or -1 on
 * allocation failure or a need that does not fit in one request.
 */
int plan_build(const struct plan_need *needs, int n, int max_gap,
               struct plan *p);
void plan_free(struct plan *p);

#endif
