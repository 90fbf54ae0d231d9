/*
 * utf8_strict.h - a strict UTF-8 check for the tests, written apart from
 * the code under test (gateway/core/text.c decodes and then checks the
 * code point; this follows the Unicode Standard's Table 3-7, Well-Formed
 * UTF-8 Byte Sequences, byte by byte), so that the two are unlikely to
 * share a mistake. cJSON does not check UTF-8: a test that a payload is
 * valid UTF-8 JSON parses it with cJSON and checks it with this.
 */
#ifndef METROLOG_UTF8_STRICT_H
#define METROLOG_UTF8_STRICT_H

#include <stdbool.h>
#include <stddef.h>

/* Are the n bytes at s well-formed UTF-8 (a NUL byte counts as U+0000)? */
static inline bool utf8_strict(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned char b = p[i];
		unsigned char lo = 0x80,
		              hi = 0xBF; /* the second byte's range */
		size_t len;

		if (b <= 0x7F) {
			i++;
			continue;
		}
		if (b >= 0xC2 && b <= 0xDF)
			len = 2;
		else if (b >= 0xE0 && b <= 0xEF)
			len = 3;
		else if (b >= 0xF0 && b <= 0xF4)
			len = 4;
		else
			return false; /* 80-C1, F5-FF never start one */
		if (b == 0xE0)
			lo = 0xA0; /* no overlong 3-byte form */
		else if (b == 0xED)
			hi = 0x9F; /* no surrogates */
		else if (b == 0xF0)
			lo = 0x90; /* no overlong 4-byte form */
		else if (b == 0xF4)
			hi = 0x8F; /* nothing above U+10FFFF */
		if (n - i < len || p[i + 1] < lo || p[i + 1] > hi)
			return false;
		for (size_t k = 2; k < len; k++)
			if (p[i + k] < 0x80 || p[i + k] > 0xBF)
				return false;
		i += len;
	}
	return true;
}

#endif
