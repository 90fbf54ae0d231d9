/*
 * config_text.c - the integers of a configuration file as the user wrote
 * them; see private/config_text.h for why (libconfig 1.5 narrows integers
 * to 32 bits) and the contract.
 *
 * Lexical rules followed (libconfig 1.5's scanner.l): a setting's name is
 * [A-Za-z*][-A-Za-z0-9_*]*, then '=' or ':'; an integer is [-+]?[0-9]+ or
 * 0[Xx][0-9A-Fa-f]+, with an optional L or LL; strings are "..." with
 * backslash escapes; comments are #..., //... and / * ... * / (a comment
 * opened on an earlier line is not seen: the setting asked for is outside
 * it anyway).
 */
#include "config_text.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cfg_file {
	char *path;
	char *text;    /* the file, each '\n' replaced by '\0' */
	size_t *start; /* offset of each line in text */
	size_t nlines;
};

struct cfg_text {
	struct cfg_file *files;
	size_t nfiles;
};

struct cfg_text *cfg_text_new(void)
{
	return calloc(1, sizeof(struct cfg_text));
}

void cfg_text_free(struct cfg_text *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nfiles; i++) {
		free(t->files[i].path);
		free(t->files[i].text);
		free(t->files[i].start);
	}
	free(t->files);
	free(t);
}

/* The whole of path, NUL-terminated, into *text (*len bytes before the
 * NUL). Returns 0 or -1. */
static int slurp(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "r");
	size_t cap = 4096, n = 0, got;
	char *buf = malloc(cap);

	if (f == NULL || buf == NULL)
		goto fail;
	while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (cap - n - 1 == 0) {
			char *bigger = realloc(buf, 2 * cap);
			if (bigger == NULL)
				goto fail;
			buf = bigger;
			cap *= 2;
		}
	}
	if (ferror(f))
		goto fail;
	fclose(f);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
fail:
	if (f != NULL)
		fclose(f);
	free(buf);
	return -1;
}

/* Read path into a new entry of t. Returns it, or NULL. */
static struct cfg_file *load(struct cfg_text *t, const char *path)
{
	struct cfg_file f = {0}, *grown;
	size_t len, lines = 1;

	if (slurp(path, &f.text, &len) < 0)
		return NULL;
	for (size_t i = 0; i < len; i++)
		lines += f.text[i] == '\n';
	f.start = malloc(lines * sizeof(*f.start));
	f.path = strdup(path);
	grown = realloc(t->files, (t->nfiles + 1) * sizeof(*grown));
	if (f.start == NULL || f.path == NULL || grown == NULL) {
		free(f.text);
		free(f.start);
		free(f.path);
		if (grown != NULL)
			t->files = grown;
		return NULL;
	}
	t->files = grown;
	f.start[f.nlines++] = 0;
	for (size_t i = 0; i < len; i++) {
		if (f.text[i] == '\n') {
			f.text[i] = '\0';
			f.start[f.nlines++] = i + 1;
		}
	}
	t->files[t->nfiles] = f;
	return &t->files[t->nfiles++];
}

const char *cfg_text_line(struct cfg_text *t, const char *path, int line)
{
	struct cfg_file *f = NULL;

	if (t == NULL || path == NULL || line < 1)
		return NULL;
	for (size_t i = 0; i < t->nfiles && f == NULL; i++)
		if (strcmp(t->files[i].path, path) == 0)
			f = &t->files[i];
	if (f == NULL && (f = load(t, path)) == NULL)
		return NULL;
	if ((size_t)line > f->nlines)
		return NULL;
	return f->text + f->start[line - 1];
}

static bool name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '*';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f')
		p++;
	return p;
}

/* The value of the digits [p, end) (hex or decimal, sign in neg) into w,
 * and what libconfig 1.5 made of them: atoi() or strtoul() narrowed to an
 * int without a suffix, atoll() or its strtoull() with one. */
static void literal_value(const char *p, size_t n, bool hex, bool neg,
                          bool suffix, struct cfg_int *w)
{
	char digits[CFG_INT_TEXT * 2];
	unsigned long long u;

	while (n > 1 && *p == '0') {
		p++;
		n--;
	}
	if (n >= sizeof(digits))
		n = sizeof(digits) - 1; /* far beyond 64 bits either way */
	memcpy(digits, p, n);
	digits[n] = '\0';
	errno = 0;
	u = strtoull(digits, NULL, hex ? 16 : 10);
	bool range = errno == ERANGE;
	if (neg)
		w->fits = !range && u <= (unsigned long long)INT64_MAX + 1;
	else
		w->fits = !range && u <= (unsigned long long)INT64_MAX;
	if (w->fits)
		w->value = neg ? (long long)(0 - u) : (long long)u;
	/* the saturated value the C library hands libconfig */
	unsigned long long sat;
	if (hex)
		sat = range ? UINT64_MAX : u;
	else if (w->fits)
		sat = (unsigned long long)w->value;
	else
		sat = neg ? (unsigned long long)INT64_MIN
		          : (unsigned long long)INT64_MAX;
	w->parsed = suffix ? (long long)sat : (int32_t)(uint32_t)sat;
}

/* An integer literal at p ending where a value ends. Returns its length
 * with w filled, or 0 when p holds no such integer. */
static size_t literal(const char *p, struct cfg_int *w)
{
	const char *q = p, *digits;
	bool neg = false, hex = false, suffix = false;

	*w = (struct cfg_int){0};
	if (*q == '-' || *q == '+')
		neg = *q++ == '-';
	if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X') && q == p) {
		hex = true;
		q += 2;
	}
	digits = q;
	while (hex ? isxdigit((unsigned char)*q) : isdigit((unsigned char)*q))
		q++;
	size_t n = (size_t)(q - digits);
	if (n == 0)
		return 0;
	if (*q == 'L') {
		suffix = true;
		q += q[1] == 'L' ? 2 : 1;
	}
	if (name_char(*q) || *q == '.')
		return 0; /* a float, a name, something else */
	literal_value(digits, n, hex, neg, suffix, w);
	w->approx = strtod(p, NULL); /* stops at the suffix */
	size_t len = (size_t)(q - p);
	if (len < CFG_INT_TEXT)
		snprintf(w->text, sizeof(w->text), "%.*s", (int)len, p);
	else
		snprintf(w->text, sizeof(w->text), "%.*s...", CFG_INT_TEXT - 4,
		         p);
	return len;
}

/* Past a string or comment starting at p; p itself when none starts. */
static const char *skip_quoted(const char *p)
{
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++)
			if (*p == '\\' && p[1] != '\0')
				p++;
		return *p ? p + 1 : p;
	}
	if (*p == '#' || (p[0] == '/' && p[1] == '/'))
		return p + strlen(p);
	if (p[0] == '/' && p[1] == '*') {
		const char *end = strstr(p + 2, "*/");
		return end != NULL ? end + 2 : p + strlen(p);
	}
	return p;
}

size_t cfg_text_ints(const char *line, const char *name, struct cfg_int *out,
                     size_t max)
{
	size_t found = 0, nlen = strlen(name);
	const char *p = line;

	while (*p) {
		const char *after = skip_quoted(p);
		if (after != p) {
			p = after;
			continue;
		}
		if (!name_start(*p) || (p > line && name_char(p[-1]))) {
			p++;
			continue;
		}
		const char *end = p;
		while (name_char(*end))
			end++;
		if ((size_t)(end - p) == nlen && memcmp(p, name, nlen) == 0) {
			const char *v = skip_blanks(end);
			struct cfg_int w;
			if ((*v == '=' || *v == ':') &&
			    literal(skip_blanks(v + 1), &w) > 0) {
				if (found < max)
					out[found] = w;
				found++;
			}
		}
		p = end;
	}
	return found;
}
