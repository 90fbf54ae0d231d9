/*
 * decode.h - Modbus registers to typed values.
 *
 * A channel's value occupies one bit (a coil, a discrete input, or one bit
 * of a register) or 1..4 consecutive registers (strings: up to 64). The
 * byte order on the wire is given as a string of letters: "A" is the most
 * significant byte of the value, and the position of a letter is its
 * position on the wire. So for 32 bits:
 *
 *   order  wire bytes (register 0 hi, lo, register 1 hi, lo)   known as
 *   ABCD   A B C D                                        big-endian
 *   CDAB   C D A B                                        word swap
 *   BADC   B A D C                                        byte swap
 *   DCBA   D C B A                                        little-endian
 *
 * and for 64 bits the eight orders ABCDEFGH, GHEFCDAB, BADCFEHG, HGFEDCBA,
 * CDABGHEF, EFGHABCD, DCBAHGFE and FEHGBADC (any permutation is accepted).
 * A 4-letter order given for a 64-bit type means the same thing stretched
 * over four registers: ABCD -> ABCDEFGH, CDAB -> GHEFCDAB (words reversed),
 * BADC -> BADCFEHG, DCBA -> HGFEDCBA. 16-bit types take "AB" or "BA"; the
 * orders of 32-bit types stretch the same way to 16 bits (ABCD and CDAB
 * mean AB, BADC and DCBA mean BA).
 *
 * The engineering value is raw * scale + offset. Pure functions, no state.
 */
#ifndef METROLOG_DECODE_H
#define METROLOG_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum decode_type {
	DECODE_BIT,
	DECODE_INT16,
	DECODE_UINT16,
	DECODE_INT32,
	DECODE_UINT32,
	DECODE_INT64,
	DECODE_UINT64,
	DECODE_FLOAT32,
	DECODE_FLOAT64,
	DECODE_BCD16,  /* 4 decimal digits in one register */
	DECODE_BCD32,  /* 8 decimal digits in two registers */
	DECODE_STRING, /* ASCII, 2 chars per register, NUL/space padded */
};

#define DECODE_ORDER_MAX        8
#define DECODE_STRING_WORDS_MAX 64

struct decode_spec {
	enum decode_type type;
	uint8_t order[DECODE_ORDER_MAX]; /* wire byte i holds byte order[i],
	                                    0 = most significant */
	uint8_t bit;                     /* DECODE_BIT in a register: 0..15 */
	uint8_t string_words;            /* DECODE_STRING: 1..64 */
	double scale, offset;
};

/* "float32" -> DECODE_FLOAT32 etc. ("bool" is DECODE_BIT). Returns 0 or -1. */
int decode_type_parse(const char *name, enum decode_type *type);
const char *decode_type_name(enum decode_type type);

/* Whether a channel of this type, as the database's channels.type writes
 * it ("float32 CDAB": the type's name, then the order), reads float32
 * values: their readings are printed with a float32's digits
 * (text_shortest's single). */
bool decode_type_single(const char *channel_type);

/* Registers a value of this type occupies (0 for DECODE_BIT, which reads
 * one bit; string_words for strings). */
unsigned decode_words(const struct decode_spec *spec);

/* Fill spec->order from an order string for spec->type (see above).
 * Returns 0, or -1 when the string is not a valid order for that type. */
int decode_order_parse(struct decode_spec *spec, const char *order);

/* Initialise spec: type, big-endian order, scale 1, offset 0. */
void decode_spec_init(struct decode_spec *spec, enum decode_type type);

/*
 * Decode a numeric value from regs (decode_words() registers as read from
 * the wire; for DECODE_BIT in a register, one register and spec->bit).
 * Sets *value to raw * scale + offset. Returns 0, or -1 when the registers
 * do not hold a number: a float NaN or infinity, or a BCD nibble over 9.
 */
int decode_value(const struct decode_spec *spec, const uint16_t *regs,
                 double *value);

/* The raw 64-bit pattern of regs in spec's order (for 16/32/64-bit types),
 * most significant byte first, right-aligned. */
uint64_t decode_raw(const struct decode_spec *spec, const uint16_t *regs);

/* Decode a DECODE_STRING into out (size bytes, NUL-terminated, trailing
 * NULs and spaces trimmed). Returns its length. */
size_t decode_string(const struct decode_spec *spec, const uint16_t *regs,
                     char *out, size_t size);

#endif
