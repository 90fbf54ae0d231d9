/*
 * inst.c - a simulated instrument: node + host port + physics (see inst.h).
 *
 * Threading: one thread; the node calls back into inst_port while the farm
 * processes a request for this instrument.
 */
#include "inst.h"
#include <float.h>

#include <stdio.h>
#include <string.h>

#include "clk.h"

static const char vendor[] = "metrolog";
static const char product_code[] = "MLN-1";
static const char revision[] = "1.0";
static const char url[] = "https://metrolog.invalid/mln-1";
static const char product_name[] = "metrolog lab node";
static const char model[] = "MLN-1 simulated lab node";

static uint32_t port_uptime_s(void *ctx)
{
	(void)ctx;
	return (uint32_t)clk_real_s();
}

static int port_sense(void *ctx, unsigned ch, float *value)
{
	struct inst *in = ctx;
	double v;

	if (ch >= in->node.nchannels ||
	    phys_sample(&in->ch[ch], clk_sim_s(), &v) != 0)
		return -1;
	/* A value a float cannot hold is a fault, as on a real node (and
	 * converting it would be undefined behaviour). */
	if (!(v >= -FLT_MAX && v <= FLT_MAX))
		return -1;
	*value = (float)v;
	return 0;
}

static const struct node_port inst_port = {
        .uptime_s = port_uptime_s,
        .sense = port_sense,
        .calibration_changed = NULL,
};

void inst_init(struct inst *in, unsigned unit, unsigned nchannels,
               const char *serial_prefix, uint64_t seed)
{
	struct node_identity id = {
	        .vendor = vendor,
	        .product_code = product_code,
	        .revision = revision,
	        .url = url,
	        .product_name = product_name,
	        .model = model,
	        .serial = in->serial,
	};
	unsigned c;

	memset(in, 0, sizeof(*in));
	in->unit = unit;
	snprintf(in->serial, sizeof(in->serial), "%.*s%04u",
	         INST_SERIAL_PREFIX_MAX, serial_prefix, unit % 10000);
	for (c = 0; c < nchannels; c++)
		phys_init(&in->ch[c], unit, c, seed);
	node_init(&in->node, &inst_port, in, &id, nchannels);
}

void inst_commit(struct inst *in)
{
	unsigned c;

	for (c = 0; c < in->node.nchannels; c++) {
		if (in->ch[c].has_lo)
			in->node.ch[c].range_lo = (float)in->ch[c].lo;
		if (in->ch[c].has_hi)
			in->node.ch[c].range_hi = (float)in->ch[c].hi;
	}
}
