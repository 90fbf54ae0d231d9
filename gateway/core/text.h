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

/* The whole of s as a finite number (strtod: decimal or exponent forms,
 * no trailing characters, no inf or nan). Returns 0, or -1 (*v undefined)
 * when s is not one. */
int text_number(const char *s, double *v);

/* Make *buf hold at least n elements of size each, doubling from 64.
 * Returns 0, or -1 (buf unchanged) when memory runs out. */
int text_reserve(void **buf, size_t *have, size_t n, size_t each);

#endif
