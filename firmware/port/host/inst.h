/*
 * inst.h - one simulated instrument: a firmware node on the host port.
 *
 * An instrument is the firmware's struct node (register map, calibration,
 * identity) wired to a host struct node_port: uptime from the monotonic
 * clock, and each channel sensed from its physics model at the current
 * simulated time (clk.h, physics.h).
 *
 * Threading: one thread; an instrument is owned by the farm (farm.c), which
 * serialises every call into its node, as node.h requires.
 */
#ifndef METROLOG_SIM_INST_H
#define METROLOG_SIM_INST_H

#include <stdint.h>

#include "node.h"
#include "physics.h"

#define INST_SERIAL_PREFIX_MAX 12 /* + 4 digits = the 16 chars of IR 3030 */

struct inst {
	struct node node;
	unsigned unit;
	char serial[INST_SERIAL_PREFIX_MAX + 4 + 1];
	struct phys_channel ch[NODE_MAX_CHANNELS];
};

/* Set up instrument `unit` (1..9999) with nchannels default channels; the
 * serial number is prefix + the unit as 4 digits. The node is initialised
 * here; call inst_commit() once the channel physics are final. */
void inst_init(struct inst *in, unsigned unit, unsigned nchannels,
               const char *serial_prefix, uint64_t seed);

/* Copy what the node keeps of the physics (measuring ranges). */
void inst_commit(struct inst *in);

#endif
