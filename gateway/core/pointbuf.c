/*
 * pointbuf.c - a channel's waiting readings, a few bytes each (see
 * pointbuf.h for the format): the encoder appends with the state it keeps
 * in the buffer's head, the reader replays the same state from the start.
 */
#include "pointbuf.h"

#include <stdlib.h>
#include <string.h>

#define F_PRESENT 1u
#define F_WIDE    2u
#define F_QUALITY 4u
#define F_TIME    8u
#define STATE     (F_PRESENT | F_WIDE) /* the flags that hold on */

#define KEY32_ZERO UINT64_C(0x80000000) /* +0.0's narrow key */
#define KEY64_SIGN (UINT64_C(1) << 63)  /* +0.0's wide key */
#define FIRST_SIZE 64                   /* bytes, head included */

/* The head of a buffer's allocation: the last point's state. */
struct head {
	int64_t ts, step; /* time, and its step from the point before */
	int64_t quality;
	uint64_t key;  /* value key (narrow or wide as flags say) */
	uint32_t len;  /* bytes of points after the head */
	uint32_t size; /* bytes allocated, head included */
	uint32_t n;    /* points */
	uint8_t flags; /* STATE of the last point */
	bool unsorted; /* a point's time was not after the one before */
};

static struct head *head_of(const struct pointbuf *pb)
{
	return (struct head *)(void *)pb->mem;
}

static uint64_t key64(uint64_t bits)
{
	return bits & KEY64_SIGN ? ~bits : bits | KEY64_SIGN;
}

static uint64_t unkey64(uint64_t key)
{
	return key & KEY64_SIGN ? key & ~KEY64_SIGN : ~key;
}

static uint8_t *put_varint(uint8_t *at, uint64_t v)
{
	while (v >= 0x80) {
		*at++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*at++ = (uint8_t)v;
	return at;
}

static int get_varint(struct pointbuf_reader *r, uint64_t *v)
{
	uint64_t x = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t c;
		if (r->at == r->end)
			return -1;
		c = *r->at++;
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

/* Room for one more point in pb. */
static int reserve(struct pointbuf *pb)
{
	struct head *h = head_of(pb);
	size_t size, need;
	uint8_t *mem;

	need = sizeof(*h) + (h ? h->len : 0) + POINTBUF_POINT_MAX;
	if (h != NULL && need <= h->size)
		return 0;
	size = h ? h->size : FIRST_SIZE;
	while (size < need) /* a quarter more: a buffer is mostly points */
		size += size / 4 < FIRST_SIZE          ? FIRST_SIZE
		        : size / 4 < POINTBUF_GROW_MAX ? size / 4
		                                       : POINTBUF_GROW_MAX;
	if (size > UINT32_MAX)
		return -1;
	mem = realloc(pb->mem, size);
	if (mem == NULL)
		return -1;
	if (pb->mem == NULL) {
		memset(mem, 0, sizeof(*h));
		((struct head *)(void *)mem)->key = KEY32_ZERO;
		((struct head *)(void *)mem)->flags = F_PRESENT;
	}
	pb->mem = mem;
	head_of(pb)->size = (uint32_t)size;
	return 0;
}

/* The flags of p after h's state; its value's key in *key. */
static uint8_t flags_of(const struct head *h, const struct gorilla_point *p,
                        uint64_t *key)
{
	uint8_t f = h->flags & F_WIDE;
	uint64_t bits;
	uint32_t k32;

	if (!p->has_value)
		return f;
	memcpy(&bits, &p->value, sizeof(bits));
	if (!f && gorilla_key32(bits, &k32)) {
		*key = k32;
		return F_PRESENT;
	}
	*key = key64(bits);
	return F_PRESENT | F_WIDE;
}

int pointbuf_add(struct pointbuf *pb, const struct gorilla_point *p)
{
	struct head *h;
	uint64_t step, dd, key = 0;
	uint8_t *at, f;

	if (reserve(pb) < 0)
		return -1;
	h = head_of(pb);
	at = pb->mem + sizeof(*h) + h->len;
	step = (uint64_t)p->ts_us - (uint64_t)h->ts;
	dd = gorilla_zigzag((int64_t)(step - (uint64_t)h->step));
	f = flags_of(h, p, &key);
	if ((f ^ h->flags) & F_WIDE)
		h->key = f & F_WIDE ? KEY64_SIGN : KEY32_ZERO;
	if (p->quality != h->quality)
		f |= F_QUALITY;
	if (dd >> 63)
		f |= F_TIME;
	if (f != h->flags) {
		at = put_varint(at, (f & F_TIME ? 0 : dd) << 1 | 1);
		*at++ = f;
	} else {
		at = put_varint(at, dd << 1);
	}
	for (unsigned i = 0; f & F_TIME && i < 8; i++)
		*at++ = (uint8_t)((uint64_t)p->ts_us >> (8 * i));
	if (f & F_QUALITY)
		at = put_varint(at, gorilla_zigzag(p->quality));
	if (f & F_PRESENT)
		at = put_varint(at, gorilla_zigzag((int64_t)(key - h->key)));
	if (h->n > 0 && p->ts_us <= h->ts)
		h->unsorted = true;
	h->key = f & F_PRESENT ? key : h->key;
	h->ts = p->ts_us;
	h->step = h->n ? (int64_t)step : 0;
	h->quality = p->quality;
	h->flags = f & STATE;
	h->n++;
	h->len = (uint32_t)(at - (pb->mem + sizeof(*h)));
	return 0;
}

size_t pointbuf_count(const struct pointbuf *pb)
{
	return pb->mem ? head_of(pb)->n : 0;
}

size_t pointbuf_size(const struct pointbuf *pb)
{
	return pb->mem ? head_of(pb)->size : 0;
}

bool pointbuf_sorted(const struct pointbuf *pb)
{
	return pb->mem == NULL || !head_of(pb)->unsorted;
}

void pointbuf_free(struct pointbuf *pb)
{
	free(pb->mem);
	pb->mem = NULL;
}

void pointbuf_read(const struct pointbuf *pb, struct pointbuf_reader *r)
{
	const struct head *h = head_of(pb);

	memset(r, 0, sizeof(*r));
	r->key = KEY32_ZERO;
	r->flags = F_PRESENT;
	if (h == NULL)
		return;
	r->at = pb->mem + sizeof(*h);
	r->end = r->at + h->len;
	r->left = h->n;
}

/* The flags and what they bring of the point after r's state: its time
 * into *ts (from dd when not T). */
static int get_flags(struct pointbuf_reader *r, uint64_t v, int64_t *ts)
{
	uint8_t f = r->flags;
	uint64_t step = (uint64_t)r->step + (uint64_t)gorilla_unzigzag(v >> 1);
	uint64_t t = 0, q;

	if (v & 1) {
		if (r->at == r->end)
			return -1;
		f = *r->at++;
		if (f & ~(STATE | F_QUALITY | F_TIME))
			return -1;
		if ((f ^ r->flags) & F_WIDE)
			r->key = f & F_WIDE ? KEY64_SIGN : KEY32_ZERO;
	}
	if (f & F_TIME) {
		if (r->end - r->at < 8 || v >> 1)
			return -1;
		for (unsigned i = 0; i < 8; i++)
			t |= (uint64_t)*r->at++ << (8 * i);
		*ts = (int64_t)t;
	} else {
		*ts = (int64_t)((uint64_t)r->ts + step);
	}
	if (f & F_QUALITY) {
		if (get_varint(r, &q) < 0)
			return -1;
		r->quality = gorilla_unzigzag(q);
	}
	r->flags = f & STATE;
	return 0;
}

int pointbuf_next(struct pointbuf_reader *r, struct gorilla_point *p)
{
	uint64_t v, z, bits;
	int64_t ts;

	if (r->left == 0)
		return 0;
	if (get_varint(r, &v) < 0 || get_flags(r, v, &ts) < 0)
		return -1;
	p->has_value = r->flags & F_PRESENT;
	p->value = 0;
	if (p->has_value) {
		if (get_varint(r, &z) < 0)
			return -1;
		r->key += (uint64_t)gorilla_unzigzag(z);
		if (!(r->flags & F_WIDE) && r->key > UINT32_MAX)
			return -1;
		bits = r->flags & F_WIDE ? unkey64(r->key)
		                         : gorilla_unkey32((uint32_t)r->key);
		memcpy(&p->value, &bits, sizeof(bits));
	}
	p->ts_us = ts;
	p->quality = r->quality;
	r->step = r->started ? (int64_t)((uint64_t)ts - (uint64_t)r->ts) : 0;
	r->started = true;
	r->ts = ts;
	r->left--;
	return 1;
}
