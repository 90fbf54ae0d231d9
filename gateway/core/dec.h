/*
 * dec.h - exact decimal numbers for decisions: a value is m x 10^e with a
 * 64-bit mantissa, read exactly from the text a person typed, or from a
 * double by the shortest decimal that reads back as that double (so the
 * double strtod made of "20.05" is 20.05 again). Subtraction, addition,
 * multiplication and comparison are exact; an operation whose result
 * would not fit 18 significant digits fails (-1) instead of rounding.
 *
 * Why: in binary floating point 20.05 - 20 is 0.05000000000000071, above
 * a limit of 0.05; in decimal it is 0.05, on the limit, and a value on a
 * limit is on it (docs/METROLOGY.md, "A value on a limit is on it").
 *
 * Pure: no I/O, no allocation, no global state, any thread. Values are
 * kept normalised: no trailing zeros in m, and 0 is {0, 0}, so equal
 * values have equal fields.
 */
#ifndef METROLOG_DEC_H
#define METROLOG_DEC_H

#include <stddef.h>
#include <stdint.h>

/* Significant digits a text may carry to be read exactly (dec_parse). */
#define DEC_DIGITS 18
/* Exponents kept within +-DEC_EXP_MAX (a double reaches 10^308). */
#define DEC_EXP_MAX 400

struct dec {
	int64_t m; /* mantissa, |m| <= INT64_MAX, no trailing zero digit */
	int32_t e; /* decimal exponent: the value is m x 10^e */
};

/*
 * The whole of s as a decimal: an optional sign, digits with at most one
 * decimal point (at least one digit), then optionally e or E, an optional
 * sign and digits. Nothing else: no spaces, no hexadecimal, no inf or
 * nan. Returns 0, or -1 when s is not one, carries more than DEC_DIGITS
 * significant digits, or its exponent is out of range.
 */
int dec_parse(const char *s, struct dec *d);

/* The shortest decimal (at most 17 significant digits) that reads back
 * as v: the number a person typed, when it had at most 15 significant
 * digits. Returns 0, or -1 when v is not finite. */
int dec_from_double(double v, struct dec *d);

/* v rounded to sig significant digits (1..17; ties as printf rounds), as
 * "%.*g" prints it. Returns 0, or -1 when v is not finite or sig is out
 * of range. */
int dec_from_double_sig(double v, int sig, struct dec *d);

/* The double nearest to d (correctly rounded; may be +-HUGE_VAL for
 * exponents beyond a double's range). */
double dec_to_double(const struct dec *d);

/* out = a + b, a - b, a x b exactly. Return 0, or -1 (out untouched) when
 * the exact result does not fit. out may be a or b. */
int dec_add(const struct dec *a, const struct dec *b, struct dec *out);
int dec_sub(const struct dec *a, const struct dec *b, struct dec *out);
int dec_mul(const struct dec *a, const struct dec *b, struct dec *out);

/* -1, 0 or 1 as a <, =, > b: exact, for every pair of values. */
int dec_cmp(const struct dec *a, const struct dec *b);

/* The sign of d: -1, 0 or 1. */
int dec_sign(const struct dec *d);

/* out = the multiple of step (> 0) nearest to v, halves away from zero.
 * Returns 0, or -1 when step is not > 0 or the result does not fit. */
int dec_quantize(const struct dec *v, const struct dec *step, struct dec *out);

/* d as plain text, without exponent when |e| is moderate ("0.05",
 * "-20", "12e30" beyond), into buf (NUL-terminated when size > 0).
 * Returns the length the whole text needs (like snprintf). */
size_t dec_format(const struct dec *d, char *buf, size_t size);

/* Room dec_format_g() needs, its NUL included. */
#define DEC_G_SIZE 32

/* d as printf's "%.*g" (precision prec, 1..17) prints a double whose
 * value d is: d must carry at most prec significant digits (it is the
 * rounding of that double to prec digits, as dec_from_double_sig()
 * gives it), so no digit is dropped, and like %g without '#' no trailing
 * zero is written: "20", "-0.5", "1e-05", "1.5e+20", "123456789012345"
 * with prec 15. 0 is "0" (d carries no sign of zero). Into buf, of at
 * least DEC_G_SIZE bytes, NUL-terminated. Returns the length. */
size_t dec_format_g(const struct dec *d, int prec, char *buf);

#endif
