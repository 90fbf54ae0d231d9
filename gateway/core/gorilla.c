/*
 * gorilla.c - the archive's block codec (see gorilla.h for the format).
 *
 * A bit writer that never writes past its buffer (it records the
 * overflow) and a bit reader that never reads past its block (a read past
 * the end fails), and the three fields of a point over them: time, state,
 * value. Times and value bits are handled as uint64_t so that every
 * difference wraps instead of overflowing: any int64 sequence round-trips.
 */
#include "gorilla.h"

#include <string.h>

#define HEADER_BYTES 3   /* version, n (16 bits) */
#define POINT_BITS   217 /* at most: time 6 + 64, state 6 + 64, value 77 */
#define NBUCKETS     7
#define QUALITY_RAW  15 /* 4-bit code: 64 bits of quality follow */
#define LEAD_MAX     31 /* 5 bits of leading zeros */

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

static void put_bucket(struct bitw *w, uint64_t d)
{
	unsigned i = 0;

	while (!fits(d, bucket_width[i]))
		i++;
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
	uint64_t ts, delta;   /* previous time and delta */
	int64_t quality;      /* previous state */
	bool has_value;       /*   ... */
	uint64_t bits;        /* previous present value's bits */
	unsigned lead, trail; /* the XOR window, once window is set */
	bool window;
};

static void track_init(struct track *t)
{
	memset(t, 0, sizeof(*t));
	t->has_value = true;
}

static void put_time(struct bitw *w, struct track *t, size_t k, uint64_t ts)
{
	if (k == 0) {
		put(w, ts, 64);
	} else {
		uint64_t delta = ts - t->ts;
		put_bucket(w, delta - t->delta);
		t->delta = delta;
	}
	t->ts = ts;
}

static void put_state(struct bitw *w, struct track *t,
                      const struct gorilla_point *p)
{
	if (p->quality == t->quality && p->has_value == t->has_value) {
		put(w, 0, 1);
		return;
	}
	put(w, 1, 1);
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

static void put_value(struct bitw *w, struct track *t, double value)
{
	uint64_t bits, x;
	unsigned lead, trail, m;

	memcpy(&bits, &value, sizeof(bits));
	x = bits ^ t->bits;
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

size_t gorilla_bound(size_t n)
{
	return HEADER_BYTES + (POINT_BITS * n + 7) / 8;
}

int gorilla_encode(const struct gorilla_point *p, size_t n, uint8_t *buf,
                   size_t size, size_t *len)
{
	struct bitw w = {.buf = buf, .size = size};
	struct track t;

	if (n < 1 || n > GORILLA_MAX_POINTS)
		return -1;
	track_init(&t);
	put(&w, GORILLA_VERSION, 8);
	put(&w, n, 16);
	for (size_t k = 0; k < n && !w.full; k++) {
		put_time(&w, &t, k, (uint64_t)p[k].ts_us);
		put_state(&w, &t, &p[k]);
		if (p[k].has_value)
			put_value(&w, &t, p[k].value);
	}
	if (w.full)
		return -1;
	*len = (w.bit + 7) / 8;
	return 0;
}

static int get_state(struct bitr *r, struct track *t)
{
	uint64_t v;

	if (get(r, 1, &v) < 0)
		return -1;
	if (v == 0)
		return 0;
	if (get(r, 1, &v) < 0)
		return -1;
	t->has_value = v != 0;
	if (get(r, 4, &v) < 0 || (v == QUALITY_RAW && get(r, 64, &v) < 0))
		return -1;
	t->quality = (int64_t)v;
	return 0;
}

static int get_value(struct bitr *r, struct track *t, double *value)
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

long gorilla_count(const uint8_t *buf, size_t len)
{
	long n;

	if (len < HEADER_BYTES || buf[0] != GORILLA_VERSION)
		return -1;
	n = (long)buf[1] << 8 | buf[2];
	return n >= 1 ? n : -1;
}

int gorilla_decode(const uint8_t *buf, size_t len, struct gorilla_point *out,
                   size_t max, size_t *n)
{
	struct bitr r = {.buf = buf, .len = len, .bit = 8 * HEADER_BYTES};
	struct track t;
	long count = gorilla_count(buf, len);
	uint64_t v;

	if (count < 0 || (size_t)count > max)
		return -1;
	track_init(&t);
	for (long k = 0; k < count; k++) {
		struct gorilla_point *p = &out[k];
		if (k == 0) {
			if (get(&r, 64, &t.ts) < 0)
				return -1;
		} else {
			if (get_bucket(&r, &v) < 0)
				return -1;
			t.delta += v;
			t.ts += t.delta;
		}
		if (get_state(&r, &t) < 0)
			return -1;
		p->ts_us = (int64_t)t.ts;
		p->quality = t.quality;
		p->has_value = t.has_value;
		p->value = 0;
		if (t.has_value && get_value(&r, &t, &p->value) < 0)
			return -1;
	}
	/* nothing after the last point but zero bits to the byte's end */
	if (len * 8 - r.bit >= 8 ||
	    get(&r, (unsigned)(len * 8 - r.bit), &v) < 0 || v != 0)
		return -1;
	*n = (size_t)count;
	return 0;
}
