/*
 * pointbuf.h - a channel's readings waiting in memory for their move into
 * the archive (gateway/db/archive_store.c), a few bytes each: encoded as
 * they come into one growable byte buffer, decoded in order at the
 * channel's turn. Lossless for every input: any int64 times (in any order,
 * equal ones too), any double's 64 bits when a value is present, any int64
 * quality.
 *
 * One allocation a buffer: a head (the lengths and the encoder's state:
 * the last point's time, time step, value key, quality, flags), then the
 * points, each:
 *
 *   field    bytes     meaning
 *   -------  --------  ------------------------------------------------
 *   time     varint    zig-zag(dd) << 1 | M, where dd is the time's step
 *                      from the point before minus that point's step
 *                      (a delta of deltas; before the first point the
 *                      time and the step are 0, the first point's step is
 *                      0), all 64-bit wrapping; M: flags follow
 *   flags    1         only when M: P (1, a value is present), W (2, the
 *                      value keys are wide from here on), Q (4, a quality
 *                      follows), T (8, the time follows in 8 bytes, the
 *                      varint's dd is then 0); P and W hold for the next
 *                      points until flags say otherwise (before the
 *                      first: P set, W clear, quality 0)
 *   time     8         only when T: the time, little endian (a dd whose
 *                      zig-zag needs 64 bits)
 *   quality  varint    only when Q: zig-zag(quality)
 *   value    varint    only when P: zig-zag(key - the last key), 64-bit
 *                      wrapping; narrow keys are gorilla_key32()'s (the
 *                      last key before the first: +0.0's, 0x80000000),
 *                      wide ones a double's 64 bits made monotone
 *                      (positive: sign bit set, negative: all bits
 *                      flipped; the last key when W is set: +0.0's,
 *                      2^63). The encoder sets W at the first present
 *                      value that is not a float32.
 *
 * A varint: 7 bits a byte, low bits first, the high bit set on all but the
 * last byte (LEB128). About 2 bytes a reading polled on a steady period
 * with a slowly varying float32 value; at most POINTBUF_POINT_MAX.
 *
 * Threading: none; a buffer is its owner's.
 */
#ifndef METROLOG_POINTBUF_H
#define METROLOG_POINTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gorilla.h"

#define POINTBUF_POINT_MAX 39          /* bytes a point at most */
#define POINTBUF_GROW_MAX  (64 * 1024) /* bytes a growth adds at most */

/* A buffer of points; {0} (mem NULL) is an empty one. */
struct pointbuf {
	uint8_t *mem; /* the head, then the points' bytes */
};

/* Append point p (of ts_us, has_value, value when has_value, quality) to
 * pb, growing its allocation by a quarter (by 64 bytes at least and by
 * POINTBUF_GROW_MAX at most; doubling left a minute's readings of 10 000
 * channels in 5.1 MB where a quarter takes 3.7, docs/BENCHMARKS.md).
 * Returns 0, or -1 out of memory (pb unchanged). */
int pointbuf_add(struct pointbuf *pb, const struct gorilla_point *p);

/* The points in pb. */
size_t pointbuf_count(const struct pointbuf *pb);

/* The bytes pb holds allocated (its head included; 0 when empty). */
size_t pointbuf_size(const struct pointbuf *pb);

/* True when each point of pb came after the one before (its time
 * greater): then they are in time order, none at an equal time. */
bool pointbuf_sorted(const struct pointbuf *pb);

/* Free pb's memory; it is then empty. */
void pointbuf_free(struct pointbuf *pb);

/* A reading of a buffer's points, in the order they were added. */
struct pointbuf_reader {
	const uint8_t *at, *end;
	size_t left; /* points not read yet */
	int64_t ts, step, quality;
	uint64_t key;
	uint8_t flags;
	bool started; /* a point read */
};

/* Start reading pb into r; pb must not change while r reads it. */
void pointbuf_read(const struct pointbuf *pb, struct pointbuf_reader *r);

/* The next point into *p (value 0 when it has none). Returns 1, 0 after
 * the last point, or -1 when the bytes are not a valid buffer's. */
int pointbuf_next(struct pointbuf_reader *r, struct gorilla_point *p);

#endif
