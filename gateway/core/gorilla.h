/*
 * gorilla.h - one channel's block of archived readings in a few bytes a
 * reading, and back, bit for bit: the codec of the archive
 * (docs/SCHEMA.md, "archive_blocks"), after Facebook's Gorilla (Pelkonen et
 * al., VLDB 2015, section 4.1). Version 2 (written): times as residuals
 * from the block's poll grid (the poller polls on a grid of its interval,
 * each poll a little late) in Rice codes; values that are float32 (as the
 * instruments' registers give them) as steps of their float32 bit
 * patterns, others as the XOR with the previous value (version 1's
 * field); quality and the presence of a value said only when they change.
 * Version 1 (delta-of-delta times, XOR values, a state bit per point) is
 * still decoded: blocks written before stay readable as they are.
 *
 * Lossless for every input: any int64 times (in any order, equal ones
 * too), any double's 64 bits (NaN payloads, -0, infinities, subnormals),
 * any int64 quality. Pure functions: no I/O, no allocation, no state.
 *
 * Both formats are bit strings, MSB first within each byte, padded with
 * zero bits to a whole byte; all time arithmetic is 64-bit wrapping.
 * Version 2:
 *
 *   field          bits       meaning
 *   -------------  ---------  ------------------------------------------
 *   version        8          2
 *   n              16         points in the block, 1..GORILLA_MAX_POINTS
 *   t0             64         point 0's time, two's complement
 *   f32            1          1: the float32 value path, 0: the XOR path
 *   period         7 + w      w (0..64), then P, the poll period (us), in
 *                             w bits
 *   base           7 + w      w, then B in w bits: the first poll is at
 *                             g0 = t0 - B (B puts the earliest point of
 *                             the block on the grid: no residual < 0)
 *   kt             6          Rice parameter of the time residuals, 0..60
 *   kv             6          only when f32: Rice parameter of the value
 *                             steps, 0..32
 *   then point 0:  2          flags S, R (as below); its time is t0
 *   then for each point k = 1 .. n-1:
 *   time           rice       u = t[k] - g[k] with g[k] = g[k-1] + P (the
 *                             next poll): q = u >> kt one bits (q 0..15),
 *                             a zero bit, the kt low bits of u
 *                  16 + 3     or 16 one bits (an escape), then flags
 *                             O, S, R (not all 0):
 *                  bkt + bkt  O = 1: s - 1 and r in version 1's buckets
 *                             (below): g[k] = g[k-1] + s*P, t[k] = g[k] + r
 *                  rice       O = 0: u as above (16 one bits: refused)
 *   state          5 (+ 64)   only when S: value present (1 bit), the
 *                             quality 0..14 in 4 bits, or 15 and 64 bits
 *                             of it; without S as the point before
 *                             (before point 0: quality 0, present)
 *   value          (only when present)
 *                  XOR        f32 = 0: version 1's value field
 *                  64         f32 = 1, R = 1: the double's bits (not a
 *                             float32; the previous key stays)
 *                  rice       f32 = 1, R = 0: z = zig-zag (2d, or -2d - 1
 *                             when d < 0) of d = key - the previous key
 *                             (before the first: +0.0's, 0x80000000), in
 *                             a Rice code of kv
 *                  16 + 33    or 16 one bits, then z in 33 bits; the key
 *                             must stay in 0 .. 2^32 - 1
 *
 * A float32 key: a double is a float32 when its 29 low mantissa bits are
 * 0 and its exponent e is 0, 897..1150 or 2047; the 32 bits f = sign,
 * (0, e - 896 or 255), the 23 high mantissa bits are then those of the
 * float32 (float32 subnormals excepted: they go raw), and key = f with
 * the sign bit set when positive, all bits flipped when negative (so that
 * near values have near keys, across 0 too).
 *
 * Version 1:
 *
 *   field            bits     meaning
 *   ---------------  -------  --------------------------------------------
 *   version          8        1
 *   n                16       points in the block, 1..GORILLA_MAX_POINTS
 *   then for each point k = 0 .. n-1:
 *   time             64       k = 0: the time, two's complement
 *                    bucket   k = 1: the delta t1 - t0, k >= 2: the delta-
 *                             of-delta (t[k] - t[k-1]) - (t[k-1] - t[k-2]),
 *                             in the bucket:
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
 * The decoder refuses (-1) a version other than 1 and 2, n out of range,
 * a block that ends before its n points, anything but zero padding after
 * the last point; a XOR window used before one is set or wider than 64
 * bits; in version 2 a width over 64, kt over 60, kv over 32, an escape
 * without a flag, an escape where an escaped residual is, R on the XOR
 * path, and a key out of 0 .. 2^32 - 1.
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
 * bytes), in version GORILLA_VERSION. Returns 0 with the block's length
 * in *len, or -1 (n out of range, or buf too small: gorilla_bound(n) is
 * always enough). */
int gorilla_encode(const struct gorilla_point *p, size_t n, uint8_t *buf,
                   size_t size, size_t *len);

/* Decode the block buf (len bytes, version 1 or 2) into out (room for
 * max points). Returns 0 with the point count in *n, or -1 when the block
 * is not a whole valid block (see above) or holds more than max points.
 * Reads no byte outside buf, whatever it holds. */
int gorilla_decode(const uint8_t *buf, size_t len, struct gorilla_point *out,
                   size_t max, size_t *n);

/* The point count of the block buf from its header alone, or -1 when the
 * header is not one of a valid block (a cheap check before a decode). */
long gorilla_count(const uint8_t *buf, size_t len);

/* The float32 key of a double's 64 bits (version 2's f32 path, above):
 * true with the key in *key when the double is a float32 (a zero, a
 * float32 normal number, an infinity, a NaN whose payload has 23 bits),
 * else false. Order-preserving: near values have near keys, across 0 too.
 * gorilla_unkey32() gives the double's bits back from a key. */
bool gorilla_key32(uint64_t bits, uint32_t *key);
uint64_t gorilla_unkey32(uint32_t key);

/* A signed step as an unsigned one, small when the step is small (0, -1,
 * 1, -2 ... as 0, 1, 2, 3 ...), and back; both bijective over 64 bits. */
static inline uint64_t gorilla_zigzag(int64_t d)
{
	return (uint64_t)d << 1 ^ (uint64_t)(d >> 63);
}

static inline int64_t gorilla_unzigzag(uint64_t z)
{
	return (int64_t)(z >> 1 ^ (~(z & 1) + 1));
}

#endif
