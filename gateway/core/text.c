/*
 * text.c - trimming, finite numbers, growing arrays (text.h).
 */
#include "text.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

char *text_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int text_number(const char *s, double *v)
{
	char *end;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	*v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(*v))
		return -1;
	return 0;
}

int text_reserve(void **buf, size_t *have, size_t n, size_t each)
{
	if (n <= *have)
		return 0;
	size_t want = *have ? *have : 64;
	while (want < n)
		want *= 2;
	void *b = realloc(*buf, want * each);
	if (b == NULL)
		return -1;
	*buf = b;
	*have = want;
	return 0;
}
