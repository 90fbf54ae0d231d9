/*
 * gorilla.c - the archive's block codec (see gorilla.h for the formats).
 *
 * A bit writer that never writes past its buffer (it records the
 * overflow) and a bit reader that never reads past its block (a read past
 * the end fails); over them the encoder of version 2 and the decoders of
 * versions 1 and 2. Times and value bits are handled as uint64_t so that
 * every difference wraps instead of overflowing: any int64 sequence
 * round-trips.
 *
 * Version 2's encoder chooses a block's parameters before writing it: the
 * poll period (the block's span over its polls, or that rounded to a
 * millisecond, whichever codes the times in fewer bits), the offset of the
 * grid below the first time (so that no residual is negative), the Rice
 * parameters from the residuals' and the value steps' means, and the value
 * path (float32 steps when at most a quarter of the values are not
 * float32, else the XOR of version 1).
 */
#include "gorilla.h"

#include <string.h>

#define HEADER_BYTES 3 /* version, n (16 bits) */
/* version 2 at most: the header 8 + 16 + 64 + 1 + 2 x (7 + 64) + 6 + 6,
 * a point: escape 16 + 3, step and residual 2 x (6 + 64), state 5 + 64,
 * value 77 (version 1's point: 217) */
#define HEADER_BITS 243
#define POINT_BITS  305
#define NBUCKETS    7
#define QUALITY_RAW 15          /* 4-bit code: 64 bits of quality follow */
#define LEAD_MAX    31          /* 5 bits of leading zeros */
#define RICE_Q      16          /* a Rice quotient of 16 one bits: an escape */
#define KT_MAX      60          /* the largest Rice parameter of times */
#define KV_MAX      32          /* ... of float32 value steps */
#define KEY_ZERO    0x80000000u /* the key of +0.0 */
#define KEY_BITS    33          /* a zig-zagged key step, escaped */
#define ODD         4           /* escape flags: the time off the grid, */
#define STATE       2           /* a new state, */
#define RAW         1           /* a value not float32 in 64 bits */

/* The delta-of-delta buckets: bucket i < NBUCKETS - 1 is announced by i
 * one bits then a zero bit, the last by NBUCKETS - 1 one bits; its value
 * has width[i] bits (two's complement). tools/bench/bench-archive's
 * "times" line measures the choice. */
static const unsigned bucket_width[NBUCKETS] = {0, 8, 11, 14, 17, 24, 64};

struct bitw {
	uint8_t *buf;
	size_t size; /* bytes */
	size_t bit;  /* bits written */
	bool full;   /* a write did not fit */
};

struct bitr {
	const uint8_t *buf;
	size_t len; /* bytes */
	size_t bit; /* bits read */
};

/* Append the low nbits (0..64) of v, most significant first. */
static void put(struct bitw *w, uint64_t v, unsigned nbits)
{
	while (nbits > 0) {
		size_t byte = w->bit >> 3;
		unsigned room = 8 - (unsigned)(w->bit & 7);
		unsigned take = nbits < room ? nbits : room;
		unsigned chunk;

		if (byte >= w->size) {
			w->full = true;
			return;
		}
		if (room == 8)
			w->buf[byte] = 0;
		chunk = (unsigned)(v >> (nbits - take)) & ((1u << take) - 1);
		w->buf[byte] |= (uint8_t)(chunk << (room - take));
		w->bit += take;
		nbits -= take;
	}
}

/* Read nbits (0..64) into *v. Returns 0, or -1 past the end of the block
 * (nothing read). */
static int get(struct bitr *r, unsigned nbits, uint64_t *v)
{
	uint64_t out = 0;

	if (nbits > r->len * 8 - r->bit)
		return -1;
	while (nbits > 0) {
		unsigned room = 8 - (unsigned)(r->bit & 7);
		unsigned take = nbits < room ? nbits : room;
		unsigned byte = r->buf[r->bit >> 3];

		out = out << take |
		      ((byte >> (room - take)) & ((1u << take) - 1));
		r->bit += take;
		nbits -= take;
	}
	*v = out;
	return 0;
}

static bool fits(uint64_t d, unsigned width)
{
	int64_t s = (int64_t)d;

	if (width == 0)
		return s == 0;
	if (width >= 64)
		return true;
	return s >= -(INT64_C(1) << (width - 1)) &&
	       s < (INT64_C(1) << (width - 1));
}

static unsigned bucket_of(uint64_t d)
{
	unsigned i = 0;

	while (!fits(d, bucket_width[i]))
		i++;
	return i;
}

/* The bits put_bucket() writes for d. */
static unsigned bucket_bits(uint64_t d)
{
	unsigned i = bucket_of(d);

	return (i < NBUCKETS - 1 ? i + 1 : i) + bucket_width[i];
}

static void put_bucket(struct bitw *w, uint64_t d)
{
	unsigned i = bucket_of(d);

	if (i < NBUCKETS - 1)
		put(w, ((UINT64_C(1) << i) - 1) << 1, i + 1);
	else
		put(w, (UINT64_C(1) << i) - 1, i);
	if (bucket_width[i] < 64)
		d &= (UINT64_C(1) << bucket_width[i]) - 1;
	put(w, d, bucket_width[i]);
}

static int get_bucket(struct bitr *r, uint64_t *d)
{
	unsigned i = 0, width;
	uint64_t bit;

	while (i < NBUCKETS - 1) {
		if (get(r, 1, &bit) < 0)
			return -1;
		if (bit == 0)
			break;
		i++;
	}
	width = bucket_width[i];
	if (get(r, width, d) < 0)
		return -1;
	if (width > 0 && width < 64 && (*d >> (width - 1)) & 1)
		*d |= ~UINT64_C(0) << width; /* sign extension */
	return 0;
}

/* What encoding and decoding carry from one point to the next. */
struct track {
	uint64_t ts, delta;   /* version 1: previous time and delta */
	uint64_t grid;        /* version 2: the time of the last point's poll */
	int64_t quality;      /* previous state */
	bool has_value;       /*   ... */
	uint64_t bits;        /* XOR path: previous present value's bits */
	unsigned lead, trail; /*   the XOR window, once window is set */
	bool window;
	uint32_t key; /* float32 path: previous float32 value's key */
};

/* A version 2 block's parameters (its header after n and t0). */
struct grid {
	uint64_t period; /* of the polls, in us */
	uint64_t base;   /* the first poll is at t0 - base */
	unsigned kt;     /* Rice parameter of the time residuals */
	unsigned kv;     /* ... of the float32 value steps */
	bool f32;        /* the float32 value path, not the XOR one */
};

static void track_init(struct track *t)
{
	memset(t, 0, sizeof(*t));
	t->has_value = true;
	t->key = KEY_ZERO;
}

/* ---- float32 values ----------------------------------------------------
 * A double that is a float32 (a zero, a float32 normal number, an
 * infinity, a NaN whose payload has 23 bits: its low 29 mantissa bits
 * zero and its exponent one of a float32) as the float32's 32 bits, then
 * made monotone (positive: sign bit set; negative: all bits flipped), so
 * that a small step of the value is a small step of the key. */

bool gorilla_key32(uint64_t bits, uint32_t *key)
{
	unsigned e = (unsigned)(bits >> 52) & 0x7ff, fe;
	uint32_t f;

	if (bits & ((UINT64_C(1) << 29) - 1))
		return false;
	if (e == 0 || e == 0x7ff)
		fe = e == 0 ? 0 : 0xff;
	else if (e >= 897 && e <= 1150)
		fe = e - 896;
	else
		return false;
	f = (uint32_t)(bits >> 63) << 31 | fe << 23 |
	    ((uint32_t)(bits >> 29) & 0x7fffff);
	*key = f & 0x80000000u ? ~f : f | 0x80000000u;
	return true;
}

uint64_t gorilla_unkey32(uint32_t key)
{
	uint32_t f = key & 0x80000000u ? key & 0x7fffffffu : ~key;
	uint64_t fe = (f >> 23) & 0xff;
	uint64_t e = fe == 0 ? 0 : fe == 0xff ? 0x7ff : fe + 896;

	return (uint64_t)(f >> 31) << 63 | e << 52 |
	       (uint64_t)(f & 0x7fffff) << 29;
}

/* ---- Rice codes -------------------------------------------------------- */

/* u as q = u >> k one bits, a zero bit, then u's low k bits; the caller
 * made sure q < RICE_Q (RICE_Q one bits are an escape). */
static void put_rice(struct bitw *w, uint64_t u, unsigned k)
{
	unsigned q = (unsigned)(u >> k);

	put(w, ((UINT64_C(1) << q) - 1) << 1, q + 1);
	put(w, u, k);
}

static void put_escape(struct bitw *w)
{
	put(w, (UINT64_C(1) << RICE_Q) - 1, RICE_Q);
}

/* Read a Rice code into *u: 0, 1 for an escape (RICE_Q one bits), -1 at
 * the block's end. */
static int get_rice(struct bitr *r, unsigned k, uint64_t *u)
{
	uint64_t bit, low;
	unsigned q = 0;

	for (;;) {
		if (get(r, 1, &bit) < 0)
			return -1;
		if (bit == 0)
			break;
		if (++q == RICE_Q)
			return 1;
	}
	if (get(r, k, &low) < 0)
		return -1;
	*u = (uint64_t)q << k | low;
	return 0;
}

/* The Rice parameter for values of mean m, as for a geometric
 * distribution: the bit length of 0.48 m, at most kmax. */
static unsigned rice_k(double m, unsigned kmax)
{
	unsigned k = 0;

	while (k < kmax && (double)(UINT64_C(1) << k) <= 0.48 * m)
		k++;
	return k;
}

/* ---- the poll grid -----------------------------------------------------
 * The poll nearest ts after the poll at g: *s polls on (any int64) and the
 * residual *r = ts - (g + s x period), 64-bit wrapping. */
static void nearest(uint64_t g, uint64_t period, uint64_t ts, uint64_t *s,
                    uint64_t *r)
{
	int64_t d = (int64_t)(ts - g), m = 1;

	if (period > 0 && period <= INT64_MAX) {
		int64_t p = (int64_t)period, rem;
		m = d / p;
		rem = d - m * p;
		if (rem > p / 2)
			m++;
		else if (rem < -(p / 2))
			m--;
	}
	*s = (uint64_t)m;
	*r = ts - g - (uint64_t)m * period;
}

/* Point time ts after the poll at *g: true with the residual *u when it
 * is at the next poll and *u fits a Rice code; else false with the step
 * *s and residual *r to its nearest poll. *g moves to the point's poll. */
static bool on_grid(uint64_t *g, const struct grid *c, uint64_t ts, uint64_t *u,
                    uint64_t *s, uint64_t *r)
{
	*u = ts - (*g + c->period);
	if (*u >> c->kt < RICE_Q) {
		*g += c->period;
		return true;
	}
	nearest(*g, c->period, ts, s, r);
	*g += *s * c->period;
	return false;
}

/* The period of the block's polls: its first positive step, refined over
 * spans of 2, 4, 8 ... points to the whole block (span / polls in it). */
static uint64_t period_guess(const struct gorilla_point *p, size_t n)
{
	uint64_t period = 0;

	for (size_t k = 1; k < n && period == 0; k++)
		if (p[k].ts_us > p[k - 1].ts_us)
			period =
			        (uint64_t)p[k].ts_us - (uint64_t)p[k - 1].ts_us;
	if (period == 0 || period > INT64_MAX)
		return 0;
	for (size_t i = 2;; i *= 2) {
		size_t j = i < n - 1 ? i : n - 1;
		uint64_t span = (uint64_t)p[j].ts_us - (uint64_t)p[0].ts_us;
		if (p[j].ts_us > p[0].ts_us) {
			uint64_t polls = (span + period / 2) / period;
			if (polls > 0)
				period = (span + polls / 2) / polls;
		}
		if (j == n - 1)
			return period;
	}
}

/* Set c->base (no residual below the grid) and c->kt (from the mean
 * residual) for c->period, the points at their nearest polls. */
static void fit_grid(const struct gorilla_point *p, size_t n, struct grid *c)
{
	uint64_t g = (uint64_t)p[0].ts_us, s, r;
	int64_t lowest = 0;
	double sum = 0;

	for (size_t k = 1; k < n; k++) {
		nearest(g, c->period, (uint64_t)p[k].ts_us, &s, &r);
		g += s * c->period;
		lowest = (int64_t)r < lowest ? (int64_t)r : lowest;
		sum += (double)(int64_t)r;
	}
	c->base = (uint64_t)0 - (uint64_t)lowest;
	c->kt = rice_k(n > 1 ? sum / (double)(n - 1) - (double)lowest : 0,
	               KT_MAX);
}

/* The bits of the block's times after the first with the grid c. */
static uint64_t time_bits(const struct gorilla_point *p, size_t n,
                          const struct grid *c)
{
	uint64_t g = (uint64_t)p[0].ts_us - c->base, u, s, r, bits = 0;

	for (size_t k = 1; k < n; k++) {
		if (on_grid(&g, c, (uint64_t)p[k].ts_us, &u, &s, &r))
			bits += 1 + (u >> c->kt) + c->kt;
		else
			bits += RICE_Q + 3 + bucket_bits(s - 1) +
			        bucket_bits(r);
	}
	return bits;
}

/* The grid that codes the times in fewest bits: the guessed period, or
 * that rounded to a millisecond (polls are configured in ms). */
static void choose_grid(const struct gorilla_point *p, size_t n, struct grid *c)
{
	uint64_t guess = period_guess(p, n), best = UINT64_MAX;
	uint64_t cand[2] = {guess, (guess + 500) / 1000 * 1000};
	struct grid g = *c;

	for (int i = 0; i < 2; i++) {
		if (i == 1 && (cand[1] == guess || cand[1] == 0))
			break;
		g.period = cand[i];
		fit_grid(p, n, &g);
		uint64_t bits = time_bits(p, n, &g);
		if (bits < best) {
			best = bits;
			c->period = g.period;
			c->base = g.base;
			c->kt = g.kt;
		}
	}
}

/* The value path and c->kv: float32 steps when at most a quarter of the
 * present values are not float32, with the Rice parameter (of three
 * around the mean's) that codes the steps in fewest bits. */
static void choose_values(const struct gorilla_point *p, size_t n,
                          struct grid *c)
{
	uint32_t key, last = KEY_ZERO;
	size_t present = 0, f32 = 0;
	double sum = 0;
	uint64_t bits[3] = {0, 0, 0}, z, b;

	for (size_t k = 0; k < n; k++) {
		memcpy(&b, &p[k].value, sizeof(b));
		present += p[k].has_value;
		if (!p[k].has_value || !gorilla_key32(b, &key))
			continue;
		if (f32++ > 0)
			sum += (double)gorilla_zigzag((int64_t)key -
			                              (int64_t)last);
		last = key;
	}
	c->f32 = f32 > 0 && (present - f32) * 4 <= present;
	if (!c->f32)
		return;
	unsigned k0 = rice_k(f32 > 1 ? sum / (double)(f32 - 1) : 0, KV_MAX);
	k0 = k0 > 0 ? k0 - 1 : 0; /* try k0, k0 + 1, k0 + 2 */
	last = KEY_ZERO;
	for (size_t k = 0; k < n; k++) {
		memcpy(&b, &p[k].value, sizeof(b));
		if (!p[k].has_value || !gorilla_key32(b, &key))
			continue;
		z = gorilla_zigzag((int64_t)key - (int64_t)last);
		last = key;
		for (unsigned i = 0; i < 3; i++)
			bits[i] += z >> (k0 + i) < RICE_Q
			                   ? (z >> (k0 + i)) + 1 + k0 + i
			                   : RICE_Q + KEY_BITS;
	}
	c->kv = k0;
	for (unsigned i = 1; i < 3; i++)
		if (k0 + i <= KV_MAX && bits[i] < bits[c->kv - k0])
			c->kv = k0 + i;
}

/* ---- encoding ---------------------------------------------------------- */

static void put_wide(struct bitw *w, uint64_t v)
{
	unsigned width = v == 0 ? 0 : 64 - (unsigned)__builtin_clzll(v);

	put(w, width, 7);
	put(w, v, width);
}

static bool new_state(const struct track *t, const struct gorilla_point *p)
{
	return p->quality != t->quality || p->has_value != t->has_value;
}

/* Value present (1 bit) and the quality (4 bits, or 15 and 64 bits). */
static void put_state(struct bitw *w, struct track *t,
                      const struct gorilla_point *p)
{
	put(w, p->has_value, 1);
	if (p->quality >= 0 && p->quality < QUALITY_RAW) {
		put(w, (uint64_t)p->quality, 4);
	} else {
		put(w, QUALITY_RAW, 4);
		put(w, (uint64_t)p->quality, 64);
	}
	t->quality = p->quality;
	t->has_value = p->has_value;
}

/* The XOR path (version 1's value field). */
static void put_xor(struct bitw *w, struct track *t, uint64_t bits)
{
	uint64_t x = bits ^ t->bits;
	unsigned lead, trail, m;

	t->bits = bits;
	if (x == 0) {
		put(w, 0, 1);
		return;
	}
	lead = (unsigned)__builtin_clzll(x);
	trail = (unsigned)__builtin_ctzll(x);
	lead = lead > LEAD_MAX ? LEAD_MAX : lead;
	m = 64 - lead - trail;
	/* the last window when it holds x and costs no more than a new one
	 * (Gorilla reuses it whenever it holds x) */
	if (t->window && lead >= t->lead && trail >= t->trail &&
	    64 - t->lead - t->trail <= 11 + m) {
		put(w, 2, 2);
		put(w, x >> t->trail, 64 - t->lead - t->trail);
		return;
	}
	put(w, 3, 2);
	put(w, lead, 5);
	put(w, m - 1, 6);
	put(w, x >> trail, m);
	t->lead = lead;
	t->trail = trail;
	t->window = true;
}

static void put_value(struct bitw *w, struct track *t, const struct grid *c,
                      double value, bool raw)
{
	uint64_t bits, z;
	uint32_t key;

	memcpy(&bits, &value, sizeof(bits));
	if (!c->f32) {
		put_xor(w, t, bits);
	} else if (raw) {
		put(w, bits, 64);
	} else {
		(void)gorilla_key32(bits, &key); /* raw is false: a float32 */
		z = gorilla_zigzag((int64_t)key - (int64_t)t->key);
		t->key = key;
		if (z >> c->kv < RICE_Q) {
			put_rice(w, z, c->kv);
		} else {
			put_escape(w);
			put(w, z, KEY_BITS);
		}
	}
}

/* Point k of a block: its time (none for k = 0), escape flags, state,
 * value. */
static void put_point(struct bitw *w, struct track *t, const struct grid *c,
                      size_t k, const struct gorilla_point *p)
{
	uint64_t b, u = 0, s = 0, r = 0;
	uint32_t key;
	bool odd = false, state = new_state(t, p), raw;

	memcpy(&b, &p->value, sizeof(b));
	raw = c->f32 && p->has_value && !gorilla_key32(b, &key);
	if (k > 0)
		odd = !on_grid(&t->grid, c, (uint64_t)p->ts_us, &u, &s, &r);
	if (k == 0) {
		put(w, (uint64_t)state << 1 | raw, 2);
	} else if (!odd && !state && !raw) {
		put_rice(w, u, c->kt);
	} else {
		put_escape(w);
		put(w, (uint64_t)odd << 2 | (uint64_t)state << 1 | raw, 3);
		if (odd) {
			put_bucket(w, s - 1);
			put_bucket(w, r);
		} else {
			put_rice(w, u, c->kt);
		}
	}
	if (state)
		put_state(w, t, p);
	if (p->has_value)
		put_value(w, t, c, p->value, raw);
}

size_t gorilla_bound(size_t n)
{
	return (HEADER_BITS + POINT_BITS * n + 7) / 8;
}

int gorilla_encode(const struct gorilla_point *p, size_t n, uint8_t *buf,
                   size_t size, size_t *len)
{
	struct bitw w = {.buf = buf, .size = size};
	struct grid c = {0};
	struct track t;

	if (n < 1 || n > GORILLA_MAX_POINTS)
		return -1;
	choose_values(p, n, &c);
	choose_grid(p, n, &c);
	track_init(&t);
	t.grid = (uint64_t)p[0].ts_us - c.base;
	put(&w, GORILLA_VERSION, 8);
	put(&w, n, 16);
	put(&w, (uint64_t)p[0].ts_us, 64);
	put(&w, c.f32, 1);
	put_wide(&w, c.period);
	put_wide(&w, c.base);
	put(&w, c.kt, 6);
	if (c.f32)
		put(&w, c.kv, 6);
	for (size_t k = 0; k < n && !w.full; k++)
		put_point(&w, &t, &c, k, &p[k]);
	if (w.full)
		return -1;
	*len = (w.bit + 7) / 8;
	return 0;
}

/* ---- decoding ---------------------------------------------------------- */

static int get_state(struct bitr *r, struct track *t)
{
	uint64_t v;

	if (get(r, 1, &v) < 0)
		return -1;
	t->has_value = v != 0;
	if (get(r, 4, &v) < 0 || (v == QUALITY_RAW && get(r, 64, &v) < 0))
		return -1;
	t->quality = (int64_t)v;
	return 0;
}

static int get_xor(struct bitr *r, struct track *t, double *value)
{
	uint64_t c, x, lead, m;

	if (get(r, 1, &c) < 0)
		return -1;
	x = 0;
	if (c == 1) {
		if (get(r, 1, &c) < 0)
			return -1;
		if (c == 0) { /* 10: the last window */
			if (!t->window)
				return -1;
			m = 64 - t->lead - t->trail;
		} else { /* 11: a new window */
			if (get(r, 5, &lead) < 0 || get(r, 6, &m) < 0)
				return -1;
			m++;
			if (lead + m > 64)
				return -1;
			t->lead = (unsigned)lead;
			t->trail = (unsigned)(64 - lead - m);
			t->window = true;
		}
		if (get(r, (unsigned)m, &x) < 0)
			return -1;
		x <<= t->trail;
	}
	t->bits ^= x;
	memcpy(value, &t->bits, sizeof(*value));
	return 0;
}

/* Nothing after the last point but zero bits to the byte's end. */
static int get_padding(struct bitr *r)
{
	uint64_t v;

	if (r->len * 8 - r->bit >= 8 ||
	    get(r, (unsigned)(r->len * 8 - r->bit), &v) < 0 || v != 0)
		return -1;
	return 0;
}

long gorilla_count(const uint8_t *buf, size_t len)
{
	long n;

	if (len < HEADER_BYTES || buf[0] < 1 || buf[0] > GORILLA_VERSION)
		return -1;
	n = (long)buf[1] << 8 | buf[2];
	return n >= 1 ? n : -1;
}

static int decode_v1(struct bitr *r, struct gorilla_point *out, long count)
{
	struct track t;
	uint64_t v;

	track_init(&t);
	for (long k = 0; k < count; k++) {
		struct gorilla_point *p = &out[k];
		if (k == 0) {
			if (get(r, 64, &t.ts) < 0)
				return -1;
		} else {
			if (get_bucket(r, &v) < 0)
				return -1;
			t.delta += v;
			t.ts += t.delta;
		}
		if (get(r, 1, &v) < 0 || (v == 1 && get_state(r, &t) < 0))
			return -1;
		p->ts_us = (int64_t)t.ts;
		p->quality = t.quality;
		p->has_value = t.has_value;
		p->value = 0;
		if (t.has_value && get_xor(r, &t, &p->value) < 0)
			return -1;
	}
	return 0;
}

static int get_wide(struct bitr *r, uint64_t *v)
{
	uint64_t width;

	if (get(r, 7, &width) < 0 || width > 64)
		return -1;
	return get(r, (unsigned)width, v);
}

/* Version 2's header after the count: t0 into t, the grid into c. */
static int get_header(struct bitr *r, struct track *t, struct grid *c)
{
	uint64_t ts, f32, kt, kv = 0;

	if (get(r, 64, &ts) < 0 || get(r, 1, &f32) < 0 ||
	    get_wide(r, &c->period) < 0 || get_wide(r, &c->base) < 0 ||
	    get(r, 6, &kt) < 0 || kt > KT_MAX ||
	    (f32 && (get(r, 6, &kv) < 0 || kv > KV_MAX)))
		return -1;
	c->f32 = f32 != 0;
	c->kt = (unsigned)kt;
	c->kv = (unsigned)kv;
	t->ts = ts;
	t->grid = ts - c->base;
	return 0;
}

static int get_value(struct bitr *r, struct track *t, const struct grid *c,
                     bool raw, double *value)
{
	uint64_t z, bits;
	int64_t key;
	int e;

	if (!c->f32)
		return get_xor(r, t, value);
	if (raw) {
		if (get(r, 64, &bits) < 0)
			return -1;
		memcpy(value, &bits, sizeof(*value));
		return 0;
	}
	e = get_rice(r, c->kv, &z);
	if (e < 0 || (e == 1 && get(r, KEY_BITS, &z) < 0))
		return -1;
	key = (int64_t)t->key + gorilla_unzigzag(z);
	if (key < 0 || key > (int64_t)UINT32_MAX)
		return -1;
	t->key = (uint32_t)key;
	bits = gorilla_unkey32(t->key);
	memcpy(value, &bits, sizeof(*value));
	return 0;
}

/* Point k's time (k > 0) into t->ts, and its escape flags. */
static int get_time(struct bitr *r, struct track *t, const struct grid *c,
                    uint64_t *flags)
{
	uint64_t u, s;
	int e = get_rice(r, c->kt, &u);

	*flags = 0;
	if (e == 1) { /* an escape */
		if (get(r, 3, flags) < 0 || *flags == 0)
			return -1;
		if (*flags & ODD) {
			if (get_bucket(r, &s) < 0 || get_bucket(r, &u) < 0)
				return -1;
			t->grid += (s + 1) * c->period;
			t->ts = t->grid + u;
			return 0;
		}
		e = get_rice(r, c->kt, &u); /* no escape in an escape */
	}
	if (e != 0)
		return -1;
	t->grid += c->period;
	t->ts = t->grid + u;
	return 0;
}

static int decode_v2(struct bitr *r, struct gorilla_point *out, long count)
{
	struct track t;
	struct grid c;
	uint64_t flags;

	track_init(&t);
	if (get_header(r, &t, &c) < 0)
		return -1;
	for (long k = 0; k < count; k++) {
		struct gorilla_point *p = &out[k];
		if (k == 0 ? get(r, 2, &flags) < 0
		           : get_time(r, &t, &c, &flags) < 0)
			return -1;
		if ((flags & RAW) && !c.f32)
			return -1;
		if ((flags & STATE) && get_state(r, &t) < 0)
			return -1;
		p->ts_us = (int64_t)t.ts;
		p->quality = t.quality;
		p->has_value = t.has_value;
		p->value = 0;
		if (t.has_value &&
		    get_value(r, &t, &c, (flags & RAW) != 0, &p->value) < 0)
			return -1;
	}
	return 0;
}

int gorilla_decode(const uint8_t *buf, size_t len, struct gorilla_point *out,
                   size_t max, size_t *n)
{
	struct bitr r = {.buf = buf, .len = len, .bit = 8 * HEADER_BYTES};
	long count = gorilla_count(buf, len);

	if (count < 0 || (size_t)count > max)
		return -1;
	if ((buf[0] == 1 ? decode_v1(&r, out, count)
	                 : decode_v2(&r, out, count)) < 0 ||
	    get_padding(&r) < 0)
		return -1;
	*n = (size_t)count;
	return 0;
}
