/*
 * gorilla.h - one channel's block of archived readings in a few bytes a
 * reading, and back, bit for bit: the codec of the archive
 * (docs/SCHEMA.md, "archive_blocks"), after Facebook's Gorilla (Pelkonen et
 * al., VLDB 2015, section 4.1): times as delta-of-delta in variable-length
 * buckets (chosen for microsecond times polled about once a second with
 * sub-millisecond to millisecond jitter: tools/bench/bench-archive), values
 * as the XOR with the previous value inside a window of leading and
 * trailing zeros, and the quality and the presence of a value as one bit
 * when they are those of the point before.
 *
 * Lossless for every input: any int64 times (in any order, equal ones
 * too), any double's 64 bits (NaN payloads, -0, infinities, subnormals),
 * any int64 quality. Pure functions: no I/O, no allocation, no state.
 *
 * The block format, MSB first within each byte (a bit string, padded with
 * zero bits to a whole byte):
 *
 *   field            bits     meaning
 *   ---------------  -------  --------------------------------------------
 *   version          8        GORILLA_VERSION (1)
 *   n                16       points in the block, 1..GORILLA_MAX_POINTS
 *   then for each point k = 0 .. n-1:
 *   time             64       k = 0: the time, two's complement
 *                    bucket   k = 1: the delta t1 - t0, k >= 2: the delta-
 *                             of-delta (t[k] - t[k-1]) - (t[k-1] - t[k-2]),
 *                             64-bit wrapping arithmetic, in the bucket:
 *                               0                    0
 *                               10      + 8 bits     -128 .. 127
 *                               110     + 11 bits    -1024 .. 1023
 *                               1110    + 14 bits    -8192 .. 8191
 *                               11110   + 17 bits    -65536 .. 65535
 *                               111110  + 24 bits    -2^23 .. 2^23 - 1
 *                               111111  + 64 bits    anything
 *                             (two's complement, sign extended)
 *   state            1        0: quality and value-present as the point
 *                             before (before point 0: quality 0, present)
 *                    +1 +4    1, then present (1 bit), then the quality
 *                             0..14 in 4 bits, or 15 and 64 bits of it
 *   value            (only when present) x = bits XOR bits of the previous
 *                             present value (before the first: 0):
 *                    1        0: x = 0 (the same value)
 *                    2 + m    10: x's meaningful bits inside the window of
 *                             the last 11 (m = 64 - lead - trail of it)
 *                    2+5+6+m  11, lead (leading zero bits, at most 31),
 *                             m - 1 (m = 1..64 meaningful bits), then m
 *                             bits; trail = 64 - lead - m; a new window
 *
 * The decoder refuses (-1) a wrong version, n out of range, a block that
 * ends before its n points, a window used before one is set, a window
 * wider than 64 bits, and anything but zero padding after the last point.
 */
#ifndef METROLOG_GORILLA_H
#define METROLOG_GORILLA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GORILLA_VERSION    2
#define GORILLA_MAX_POINTS 65535

/* One reading of a block. value means nothing when has_value is false
 * (a reading without a value: the archive's NULL); it is not stored. */
struct gorilla_point {
	int64_t ts_us;
	double value;
	int64_t quality;
	bool has_value;
};

/* The most bytes gorilla_encode() writes for n points (n <= max). */
size_t gorilla_bound(size_t n);

/* Encode the n points p (1 <= n <= GORILLA_MAX_POINTS) into buf (size
 * bytes). Returns 0 with the block's length in *len, or -1 (n out of
 * range, or buf too small: gorilla_bound(n) is always enough). */
int gorilla_encode(const struct gorilla_point *p, size_t n, uint8_t *buf,
                   size_t size, size_t *len);

/* Decode the block buf (len bytes) into out (room for max points).
 * Returns 0 with the point count in *n, or -1 when the block is not a
 * whole valid block (see above) or holds more than max points. Reads no
 * byte outside buf, whatever it holds. */
int gorilla_decode(const uint8_t *buf, size_t len, struct gorilla_point *out,
                   size_t max, size_t *n);

/* The point count of the block buf from its header alone, or -1 when the
 * header is not one of a valid block (a cheap check before a decode). */
long gorilla_count(const uint8_t *buf, size_t len);

#endif
