/*
 * text.h - small pieces of text and memory handling the core, the
 * database and the tool share, so that each is written once: trimming a
 * field, reading a finite decimal number, printing a reading with the
 * digits its type carries, checking, cutting, repairing and measuring
 * UTF-8 text, growing an array.
 *
 * Pure: no I/O, no global state, any thread.
 */
#ifndef METROLOG_TEXT_H
#define METROLOG_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* s without leading and trailing white space: the trailing is cut in
 * place, the returned pointer is past the leading. */
char *text_trim(char *s);

/* The whole of s as a finite decimal number: an optional sign, digits
 * with at most one decimal point, an optional decimal exponent (dec.h's
 * grammar: no spaces, no hexadecimal "0x14", no inf or nan), and only a
 * number the double keeps exactly as typed: its shortest decimal
 * (dec_from_double) equals the text's value, so what is decided is what
 * was typed (any number of at most 15 significant digits; not 1e400, not
 * 0.1000000000000000001). Returns 0, or -1 (*v undefined) when s is not
 * one. */
int text_number(const char *s, double *v);

/* v as the shortest decimal that reads back as the same number, in
 * printf's %g form ("20", "-0.5", "19.99993", "1e-05", "1.5e+20": also a
 * JSON number), into buf (NUL-terminated when size > 0):
 *   single, and v is exactly a float32: the fewest significant digits
 *     (6 to 9) that strtof() reads back as that float32: 19.99993, not
 *     19.999927520751953 (a float32 channel's reading, stored as a
 *     double, carries no more);
 *   otherwise: the fewest (15 to 17, trailing zeros dropped) that strtod()
 *     reads back as v ("%.17g" trimmed: 20.05, not 20.050000000000001).
 * Two decimals of 6 (15) digits are further apart than a float32's
 * (double's) step, so when a shorter decimal reads back, the nearest of 6
 * (15) digits is that one: the search starts there (at one digit for a
 * subnormal, whose step is not relative). Returns
 * 0, or -1 with buf "" when v is not finite. */
int text_shortest(double v, bool single, char *buf, size_t size);

/* UTF-8 here is RFC 3629's: no overlong forms, no surrogates, nothing
 * above U+10FFFF. */

/* Whether s is valid UTF-8 (control characters allowed). Returns 0, or
 * -1 with a short reason in why ("invalid UTF-8 at byte 3"). */
int text_utf8(const char *s, char *why, size_t size);

/* Whether s is text a record may hold: valid UTF-8 without control
 * characters (C0 including tab, newline and carriage return, DEL, C1).
 * Returns 0, or -1 with a short reason in why ("a control character
 * (0x0A) at byte 5", "invalid UTF-8 at byte 3"). */
int text_printable(const char *s, char *why, size_t size);

/* Whether s may be the text of an MQTT topic name, as brokers check it
 * (MQTT 3.1.1 section 1.5.3, MQTT 5 section 1.5.4; mosquitto disconnects
 * a client that publishes on another): printable as text_printable()
 * says, and no Unicode non-character (U+FDD0 to U+FDEF, U+xFFFE,
 * U+xFFFF). Returns 0, or -1 with a short reason in why. */
int text_mqtt(const char *s, char *why, size_t size);

/* The code point at s + *i, *i moved past it; a byte that is not part of
 * a valid UTF-8 sequence is returned as itself (0x80..0xFF) and *i moved
 * by one. s[*i] must not be the terminating NUL. */
uint32_t text_utf8_next(const char *s, size_t *i);

/* How many bytes of s to keep to cut it at max bytes at most without
 * splitting a character: strlen(s) when it fits, else the end of the
 * last whole UTF-8 sequence within max (a byte that is not part of one
 * counts as one). */
size_t text_utf8_cut(const char *s, size_t max);

/* src into dst with each byte that is not part of a valid UTF-8
 * sequence written as U+FFFD (EF BF BD), so dst is valid UTF-8 whatever
 * src is; NUL-terminated when size > 0, and when the whole does not fit,
 * cut where a character ends. Returns the length of the whole repaired
 * text without its NUL (as snprintf does): it fitted when < size. */
size_t text_utf8_repair(char *dst, size_t size, const char *src);

/* The width of s on a terminal, in columns, for aligning text: one a
 * character (code point), none for a combining mark or another character
 * of no width (U+0300..U+036F, U+1AB0..U+1AFF, U+1DC0..U+1DFF,
 * U+20D0..U+20FF, U+FE20..U+FE2F, zero-width spaces and joiners, variation
 * selectors, a control character), two for an East Asian wide or
 * fullwidth one (CJK, Hangul, fullwidth forms, most emoji); a byte that is
 * not part of a valid UTF-8 sequence one (it shows as one replacement
 * character). So Vietnamese "Nhiệt độ" is 8 columns whether its letters
 * are precomposed (13 bytes) or written with combining marks. */
size_t text_width(const char *s);

/* The whole of s as a decimal whole number in [lo, hi] (strtol, base 10).
 * Returns 0, or -1 (*out untouched) when s is not one or is out of range. */
int text_long(const char *s, long lo, long hi, long *out);

/* Make *buf hold at least n elements of size each, doubling from 64.
 * Returns 0, or -1 (buf unchanged) when memory runs out. */
int text_reserve(void **buf, size_t *have, size_t n, size_t each);

#endif
