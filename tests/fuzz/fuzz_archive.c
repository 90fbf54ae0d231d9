/*
 * fuzz_archive.c - libFuzzer target for the archive's block codec
 * (gateway/core/gorilla.c), whose decoder reads the blobs of
 * archive_blocks: bytes another program may have written.
 *
 * Checked for every input:
 *   - decoding the input as a block (of version 1 or 2: the seeds hold
 *     both) reads nothing outside it (ASan) and either refuses it or
 *     gives points that encode (version 2) to a block that decodes to the
 *     same points, bit for bit;
 *   - points derived from the input (the first byte picks raw fields,
 *     small XOR steps of the double's bits, or small steps of a float32
 *     polled on a grid with jitter, as a slowly varying signal makes,
 *     with some doubles that are not float32 among them when its bit 2 is
 *     set) encode within gorilla_bound() and decode to themselves, bit
 *     for bit, whatever they are (NaN payloads, -0, backward times).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "gorilla.h"

#define MAX_POINTS 4096

static struct gorilla_point in[GORILLA_MAX_POINTS], out[GORILLA_MAX_POINTS];
static uint8_t block[GORILLA_MAX_POINTS * 39 + 64];

static uint64_t bits_of(double d)
{
	uint64_t b;

	memcpy(&b, &d, sizeof(b));
	return b;
}

static void same(const struct gorilla_point *a, const struct gorilla_point *b,
                 size_t n)
{
	for (size_t k = 0; k < n; k++) {
		CHECK(a[k].ts_us == b[k].ts_us);
		CHECK(a[k].quality == b[k].quality);
		CHECK(a[k].has_value == b[k].has_value);
		CHECK(!a[k].has_value ||
		      bits_of(a[k].value) == bits_of(b[k].value));
	}
}

/* Encode p[0..n) and decode it back: the same points. */
static void round_trip(const struct gorilla_point *p, size_t n)
{
	size_t len = 0, got = 0;

	CHECK(gorilla_bound(n) <= sizeof(block));
	CHECK(gorilla_encode(p, n, block, gorilla_bound(n), &len) == 0);
	CHECK(len <= gorilla_bound(n) && block[0] == GORILLA_VERSION);
	CHECK(gorilla_count(block, len) == (long)n);
	CHECK(gorilla_decode(block, len, out, n, &got) == 0 && got == n);
	same(p, out, n);
}

static uint64_t take(const uint8_t **d, size_t *left, size_t bytes)
{
	uint64_t v = 0;

	for (size_t i = 0; i<bytes && * left> 0; i++, (*d)++, (*left)--)
		v = v << 8 | **d;
	return v;
}

/* A float32 of bits f widened, as the poller does. */
static uint64_t widen(uint32_t f)
{
	float x;
	double d;

	memcpy(&x, &f, sizeof(x));
	d = (double)x;
	return bits_of(d);
}

/* Points from the input: raw fields, small XOR steps, or small float32
 * steps on a grid. */
static size_t derive(const uint8_t *d, size_t size)
{
	unsigned mode = size > 0 ? d[0] & 3 : 0, mixed = size > 0 && d[0] & 4;
	uint64_t ts = 1767225600000000ULL, bits = 0x4034800000000000ULL;
	uint32_t f = 0x41a40000; /* 20.5 */
	size_t n = 0;

	while (size > 0 && n < MAX_POINTS) {
		uint64_t flags = take(&d, &size, 1);
		if (mode == 0) {
			ts = take(&d, &size, 8);
			bits = take(&d, &size, 8);
		} else if (mode == 1) {
			ts += 1000000 + (int16_t)take(&d, &size, 2);
			bits ^= take(&d, &size, 2) << (flags & 0x1f);
		} else {
			ts += 1000000 * (1 + (flags >> 4 == 0xf)) +
			      take(&d, &size, 1) * (flags & 7);
			f += (uint32_t)(int8_t)take(&d, &size, 1)
			     << (flags & 8);
			bits = mixed && (flags & 0x70) == 0x70
			               ? take(&d, &size, 8)
			               : widen(f);
		}
		memcpy(&in[n].value, &bits, sizeof(bits));
		in[n].ts_us = (int64_t)ts;
		in[n].has_value = (flags & 0x80) == 0;
		in[n].quality = (flags & 0x60) == 0x60 ? (int64_t)(ts ^ bits)
		                                       : (int64_t)(flags >> 5);
		n++;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = 0;

	if (gorilla_decode(data, size, in, GORILLA_MAX_POINTS, &n) == 0) {
		CHECK(n >= 1 && gorilla_count(data, size) == (long)n);
		round_trip(in, n);
	}
	n = derive(data, size);
	if (n > 0)
		round_trip(in, n);
	return 0;
}
