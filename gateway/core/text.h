/*
 * text.h - small pieces of text and memory handling the core, the
 * database and the tool share, so that each is written once: trimming a
 * field, reading a finite decimal number, growing an array.
 *
 * Pure: no I/O, no global state, any thread.
 */
#ifndef METROLOG_TEXT_H
#define METROLOG_TEXT_H

#include <stddef.h>

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

/* Whether s is text a record may hold: valid UTF-8 (no overlong forms,
 * no surrogates, nothing above U+10FFFF) without control characters (C0
 * including tab, newline and carriage return, DEL, C1). Returns 0, or -1
 * with a short reason in why ("a control character (0x0A) at byte 5",
 * "invalid UTF-8 at byte 3"). */
int text_printable(const char *s, char *why, size_t size);

/* Make *buf hold at least n elements of size each, doubling from 64.
 * Returns 0, or -1 (buf unchanged) when memory runs out. */
int text_reserve(void **buf, size_t *have, size_t n, size_t each);

#endif
