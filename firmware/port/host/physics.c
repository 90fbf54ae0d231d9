/*
 * physics.c - sensor model of a simulated channel (see physics.h).
 *
 * Threading: one thread; each struct phys_channel belongs to one instrument
 * and is touched only when that instrument's node senses the channel.
 */
#include "physics.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECONDS_PER_DAY 86400.0
#define TWO_PI          6.283185307179586476925

enum key {
	K_NOMINAL,
	K_NOISE,
	K_DRIFT,
	K_STEP,
	K_STEP_AT,
	K_LO,
	K_HI,
	K_FAULT_AT,
	K_COUNT
};

static const char *const key_names[K_COUNT] = {
        [K_NOMINAL] = "nominal", [K_NOISE] = "noise",       [K_DRIFT] = "drift",
        [K_STEP] = "step",       [K_STEP_AT] = "step_at",   [K_LO] = "lo",
        [K_HI] = "hi",           [K_FAULT_AT] = "fault_at",
};

/* splitmix64: turns any seed into a well-mixed 64-bit state. */
static uint64_t splitmix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15u;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
	return x ^ (x >> 31);
}

static uint64_t xorshift64star(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Du;
}

/* Uniform in (0, 1]: never 0, so log() below is finite. */
static double uniform(uint64_t *s)
{
	return ((double)(xorshift64star(s) >> 11) + 1.0) * 0x1.0p-53;
}

/* Standard normal deviate (Box-Muller, both values used). */
static double gauss(struct phys_channel *c)
{
	double r, th;

	if (c->has_spare) {
		c->has_spare = false;
		return c->spare;
	}
	r = sqrt(-2.0 * log(uniform(&c->rng)));
	th = TWO_PI * uniform(&c->rng);
	c->spare = r * sin(th);
	c->has_spare = true;
	return r * cos(th);
}

void phys_init(struct phys_channel *c, unsigned unit, unsigned ch,
               uint64_t seed)
{
	memset(c, 0, sizeof(*c));
	c->nominal = 20.0 + ch;
	c->fault_at = INFINITY;
	c->rng = splitmix64(splitmix64(seed) ^ ((uint64_t)unit << 32 | ch));
	if (c->rng == 0)
		c->rng = 1;
}

int phys_sample(struct phys_channel *c, double t, double *value)
{
	double v;

	if (t >= c->fault_at)
		return -1;
	v = c->nominal + c->drift * (t / SECONDS_PER_DAY);
	if (t >= c->step_at)
		v += c->step;
	if (c->noise > 0.0)
		v += c->noise * gauss(c);
	*value = v;
	return 0;
}

/* Parse an unsigned decimal number ending at one of the characters in
 * stop; *end is set past it. */
static int parse_uint(const char *s, const char *stop, unsigned *out,
                      const char **end)
{
	char *e;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &e, 10);
	if (errno != 0 || v > 1000000 || strchr(stop, *e) == NULL || *e == 0)
		return -1;
	*out = (unsigned)v;
	*end = e;
	return 0;
}

static int parse_key(const char *s, size_t len)
{
	int k;

	for (k = 0; k < K_COUNT; k++)
		if (strlen(key_names[k]) == len &&
		    strncmp(s, key_names[k], len) == 0)
			return k;
	return -1;
}

int phys_spec_parse(const char *s, struct phys_spec *sp, char *err,
                    size_t errlen)
{
	const char *p = s, *e;
	unsigned a;

	memset(sp, 0, sizeof(*sp));
	if (parse_uint(p, ".:", &a, &e) < 0)
		goto syntax;
	if (*e == '.') {
		if (a == 0) {
			snprintf(err, errlen, "unit must be 1 or more");
			return -1;
		}
		sp->unit = a;
		if (parse_uint(e + 1, ":", &a, &e) < 0)
			goto syntax;
	}
	sp->ch = a;
	p = e + 1; /* past ':' */
	for (;;) {
		const char *eq = strchr(p, '=');
		const char *comma;
		char *vend;
		double v;
		int k;

		if (eq == NULL)
			goto syntax;
		k = parse_key(p, (size_t)(eq - p));
		if (k < 0) {
			snprintf(err, errlen,
			         "unknown key '%.*s' (keys: nominal, noise, "
			         "drift, step, step_at, lo, hi, fault_at)",
			         (int)(eq - p), p);
			return -1;
		}
		comma = strchr(eq + 1, ',');
		errno = 0;
		v = strtod(eq + 1, &vend);
		if (vend == eq + 1 || errno != 0 || !isfinite(v) ||
		    (comma != NULL ? vend != comma : *vend != 0)) {
			snprintf(err, errlen, "bad number for %s",
			         key_names[k]);
			return -1;
		}
		if (k == K_NOISE && v < 0) {
			snprintf(err, errlen, "noise must be >= 0");
			return -1;
		}
		if (sp->nkeys == PHYS_SPEC_MAX_KEYS) {
			snprintf(err, errlen, "more than %d keys",
			         PHYS_SPEC_MAX_KEYS);
			return -1;
		}
		sp->key[sp->nkeys] = (uint8_t)k;
		sp->val[sp->nkeys] = v;
		sp->nkeys++;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
syntax:
	snprintf(err, errlen,
	         "expected [UNIT.]CHANNEL:KEY=VALUE[,KEY=VALUE]...");
	return -1;
}

void phys_spec_apply(const struct phys_spec *sp, struct phys_channel *c)
{
	unsigned i;

	for (i = 0; i < sp->nkeys; i++) {
		double v = sp->val[i];

		switch ((enum key)sp->key[i]) {
		case K_NOMINAL:
			c->nominal = v;
			break;
		case K_NOISE:
			c->noise = v;
			break;
		case K_DRIFT:
			c->drift = v;
			break;
		case K_STEP:
			c->step = v;
			break;
		case K_STEP_AT:
			c->step_at = v;
			break;
		case K_LO:
			c->lo = v;
			c->has_lo = true;
			break;
		case K_HI:
			c->hi = v;
			c->has_hi = true;
			break;
		case K_FAULT_AT:
			c->fault_at = v;
			break;
		case K_COUNT:
			break;
		}
	}
}

int phys_check(const struct phys_channel *c, char *err, size_t errlen)
{
	if (c->has_lo && c->has_hi && !(c->lo < c->hi)) {
		snprintf(err, errlen, "lo (%g) must be below hi (%g)", c->lo,
		         c->hi);
		return -1;
	}
	return 0;
}
