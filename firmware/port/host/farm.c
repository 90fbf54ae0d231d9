/*
 * farm.c - instruments, request routing and fault injection (see farm.h).
 *
 * Threading: one thread (the event loop); the mute flag is flipped by the
 * loop's signal handler callback, never from an asynchronous signal handler.
 */
#include "farm.h"

#include <stdio.h>
#include <stdlib.h>

#include "inst.h"
#include "log.h"
#include "mb.h"

struct farm {
	unsigned n;
	struct inst *inst; /* n instruments, unit = index + 1 */
	struct farm_faults faults;
	bool muted;
	bool faults_off; /* SIGUSR2: faults suspended */
	uint64_t rng;    /* xorshift64 for fault draws */
};

struct farm *farm_new(unsigned ninst, unsigned nch, const char *serial_prefix,
                      uint64_t seed, const struct farm_faults *faults)
{
	struct farm *f;
	unsigned i;

	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	f->inst = calloc(ninst, sizeof(*f->inst));
	if (f->inst == NULL) {
		free(f);
		return NULL;
	}
	f->n = ninst;
	f->faults = *faults;
	f->rng = seed * 0x9E3779B97F4A7C15u + 0x2545F4914F6CDD1Du;
	if (f->rng == 0)
		f->rng = 1;
	for (i = 0; i < ninst; i++)
		inst_init(&f->inst[i], i + 1, nch, serial_prefix, seed);
	return f;
}

void farm_free(struct farm *f)
{
	if (f == NULL)
		return;
	free(f->inst);
	free(f);
}

void farm_apply(struct farm *f, const struct phys_spec *sp)
{
	unsigned i;

	for (i = 0; i < f->n; i++) {
		struct inst *in = &f->inst[i];

		if (sp->unit != 0 && sp->unit != in->unit)
			continue;
		if (sp->ch < in->node.nchannels)
			phys_spec_apply(sp, &in->ch[sp->ch]);
	}
}

int farm_commit(struct farm *f, char *err, size_t errlen)
{
	unsigned i, c;

	for (i = 0; i < f->n; i++) {
		struct inst *in = &f->inst[i];

		for (c = 0; c < in->node.nchannels; c++) {
			char why[128];

			if (phys_check(&in->ch[c], why, sizeof(why)) < 0) {
				snprintf(err, errlen, "unit %u channel %u: %s",
				         in->unit, c, why);
				return -1;
			}
		}
		inst_commit(in);
	}
	return 0;
}

unsigned farm_count(const struct farm *f)
{
	return f->n;
}

const struct farm_faults *farm_faults(const struct farm *f)
{
	return &f->faults;
}

bool farm_toggle_mute(struct farm *f)
{
	f->muted = !f->muted;
	return f->muted;
}

bool farm_toggle_faults(struct farm *f)
{
	f->faults_off = !f->faults_off;
	return f->faults_off;
}

/* Uniform in [0, 1): a probability p of 1 always hits, 0 never does. */
static double draw(struct farm *f)
{
	uint64_t x = f->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	f->rng = x;
	return (double)(x >> 11) * 0x1.0p-53;
}

uint8_t farm_other_unit(uint8_t unit)
{
	return unit >= 247 ? 1 : (uint8_t)(unit + 1);
}

/* Wrong function code: the read functions swapped in pairs (1 and 2, 3
 * and 4; any other code likewise with its odd or even neighbour), so the
 * frame stays well formed. Wrong byte count: two data bytes fewer (or two
 * more when there are fewer than two), the count saying so. */
static void hostile_pdu(const struct farm_faults *ft, uint8_t *rsp, size_t *len)
{
	if (*len < 2 || rsp[0] >= 0x80)
		return;
	if (ft->wrong_count && rsp[0] <= 4) {
		if (rsp[1] >= 2) {
			rsp[1] = (uint8_t)(rsp[1] - 2);
			*len -= 2;
		} else {
			rsp[1] = (uint8_t)(rsp[1] + 2);
			rsp[*len] = rsp[*len + 1] = 0;
			*len += 2;
		}
	}
	if (ft->wrong_function)
		rsp[0] = (uint8_t)((rsp[0] & 1) ? rsp[0] + 1 : rsp[0] - 1);
}

static void broadcast(struct farm *f, const uint8_t *req, size_t req_len,
                      uint8_t *rsp)
{
	unsigned i;

	for (i = 0; i < f->n; i++)
		(void)mb_pdu_process(&node_map, &f->inst[i].node, req, req_len,
		                     rsp, true);
}

static const char *route_name(int route, char *buf, size_t len)
{
	if (route == FARM_TCP_SHARED)
		return "tcp";
	if (route == FARM_RTU)
		return "rtu";
	snprintf(buf, len, "tcp#%d", route + 1);
	return buf;
}

void farm_request(struct farm *f, int route, uint8_t unit, const uint8_t *req,
                  size_t req_len, uint8_t *rsp, struct farm_reply *r)
{
	const struct farm_faults *ft = &f->faults;
	struct inst *in = NULL;
	const char *what = NULL;
	char rb[16];

	r->len = 0;
	r->delay_ms = 0;
	r->corrupt = false;
	r->faulty = false;
	r->trickle_ms = 0;
	r->wrong_unit = r->reset = r->garbage = false;
	if (f->muted) {
		what = "muted";
		goto out;
	}
	if (route >= 0) {
		in = &f->inst[route];
	} else if (unit == MB_BROADCAST_UNIT) {
		broadcast(f, req, req_len, rsp);
		what = "broadcast";
		goto out;
	} else if (unit <= f->n) {
		in = &f->inst[unit - 1];
	} else if (route == FARM_TCP_SHARED) {
		r->len = mb_pdu_exception(req_len > 0 ? req[0] : 0,
		                          MB_EX_GATEWAY_TARGET_FAILED, rsp);
		what = "no such unit";
		goto out;
	} else {
		what = "no such unit, silence";
		goto out;
	}

	if (!f->faults_off && (ft->unit == 0 || ft->unit == in->unit)) {
		r->faulty = true;
		if (ft->silent > 0 && draw(f) < ft->silent) {
			what = "silent fault";
			goto out;
		}
		if (ft->exception != 0 && req_len > 0) {
			r->len = mb_pdu_exception(req[0], ft->exception, rsp);
			what = "exception fault";
		}
		if (ft->corrupt > 0 && draw(f) < ft->corrupt)
			r->corrupt = true;
		r->delay_ms = ft->delay_ms;
		r->trickle_ms = ft->trickle_ms;
		r->wrong_unit = ft->wrong_unit;
		r->reset = ft->reset;
		r->garbage = ft->garbage;
	}
	if (r->len == 0)
		r->len = mb_pdu_process(&node_map, &in->node, req, req_len, rsp,
		                        false);
	if (r->faulty && r->len > 0)
		hostile_pdu(ft, rsp, &r->len);
out:
	if (log_verbose())
		log_debug("%s unit %u fc 0x%02x (%zu bytes): %s, reply %zu "
		          "bytes%s%s%s%s, delay %u ms, trickle %u ms",
		          route_name(route, rb, sizeof(rb)), unit,
		          req_len > 0 ? req[0] : 0, req_len,
		          what != NULL ? what : "served", r->len,
		          r->corrupt ? " (corrupted)" : "",
		          r->wrong_unit ? " (wrong unit)" : "",
		          r->reset ? " (reset mid-frame)" : "",
		          r->garbage ? " (then garbage)" : "", r->delay_ms,
		          r->trickle_ms);
}
