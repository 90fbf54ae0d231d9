/*
 * out.c - the writer of the metrolog tool's listings (out.h): text, CSV,
 * a JSON array or JSON Lines, row by row; text rows held until their
 * columns' widths are known.
 *
 * Single-threaded.
 */
#include "out.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "text.h"

#define OUT_BUF (1 << 20)

static void put(struct out *w, const char *s)
{
	fputs(s, w->f);
}

static void csv_field(struct out *w, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		put(w, s);
		return;
	}
	putc('"', w->f);
	for (; *s; s++) {
		if (*s == '"')
			putc('"', w->f);
		putc(*s, w->f);
	}
	putc('"', w->f);
}

static bool plain_json(const char *s)
{
	for (; *s; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
			return false;
	return true;
}

void out_json_string(FILE *f, const char *s)
{
	putc('"', f);
	if (plain_json(s)) {
		fputs(s, f);
		s = "";
	}
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			putc(ch, f);
	}
	putc('"', f);
}

static void json_string(struct out *w, const char *s)
{
	out_json_string(w->f, s);
}

static void json_object(struct out *w, const char *const v[])
{
	putc('{', w->f);
	for (int i = 0; i < w->ncols; i++) {
		if (i > 0)
			putc(',', w->f);
		json_string(w, w->cols[i].name);
		putc(':', w->f);
		if (w->cols[i].kind == OUT_STRING)
			json_string(w, v[i]);
		else
			put(w, v[i][0] != '\0' ? v[i] : "null");
	}
	putc('}', w->f);
}

/* What a text field shows: "-" for an empty one. */
static const char *shown(const char *s)
{
	return s[0] != '\0' ? s : "-";
}

/* One line of text in the fixed widths: each field padded to its
 * column's width and one space, the last one not padded. */
static void text_line(struct out *w, const char *const v[])
{
	for (int i = 0; i < w->ncols; i++) {
		const char *s = shown(v[i]);
		fputs(s, w->f);
		if (i + 1 == w->ncols) {
			putc('\n', w->f);
			break;
		}
		size_t have = text_width(s);
		for (size_t k = have; k <= w->widths[i]; k++)
			putc(' ', w->f);
	}
}

/* Fix the widths measured so far and write what was held. */
static void text_flush(struct out *w)
{
	const char *v[OUT_MAX_COLS];
	const char *p = w->held;

	while (p < w->held + w->held_len) {
		for (int i = 0; i < w->ncols; i++) {
			v[i] = p;
			p += strlen(p) + 1;
		}
		text_line(w, v);
	}
	free(w->held);
	w->held = NULL;
	w->held_len = w->held_cap = 0;
	w->sized = true;
}

/* Hold one row (or the header) and widen the columns to it; written at
 * once when the widths are fixed, and the held rows written when they
 * reach OUT_HOLD bytes or memory runs out. */
static void text_row(struct out *w, const char *const v[])
{
	size_t need = 0, len[OUT_MAX_COLS];

	if (w->sized) {
		text_line(w, v);
		return;
	}
	for (int i = 0; i < w->ncols; i++) {
		len[i] = strlen(v[i]) + 1;
		need += len[i];
		size_t width = text_width(shown(v[i]));
		if (width > w->widths[i])
			w->widths[i] = width;
	}
	if (w->held_len + need > OUT_HOLD ||
	    text_reserve((void **)&w->held, &w->held_cap, w->held_len + need,
	                 1) < 0) {
		text_flush(w);
		text_line(w, v);
		return;
	}
	for (int i = 0; i < w->ncols; i++) {
		memcpy(w->held + w->held_len, v[i], len[i]);
		w->held_len += len[i];
	}
}

static void csv_row(struct out *w, const char *const v[])
{
	for (int i = 0; i < w->ncols; i++) {
		if (i > 0)
			putc(',', w->f);
		csv_field(w, v[i]);
	}
	put(w, "\r\n");
}

/* The buffer of the one output of the process: set before its first
 * write, and static, so that it outlives stdout's last flush at exit. */
static char out_buf[OUT_BUF];

int out_open(struct out *w, const struct cmd_line *l,
             const struct out_col *cols, int ncols)
{
	const char *path = l->output;

	assert(ncols <= OUT_MAX_COLS);
	assert(l->format <= CMD_JSONL);
	memset(w, 0, sizeof(*w));
	w->format = l->format;
	w->cols = cols;
	w->ncols = ncols;
	w->name = l->def->name;
	w->path = path != NULL && strcmp(path, "-") != 0 ? path : NULL;
	w->f = w->path != NULL ? fopen(w->path, "w") : stdout;
	if (w->f == NULL) {
		fprintf(stderr, "metrolog %s: %s: %s\n", w->name, w->path,
		        strerror(errno));
		return -1;
	}
	setvbuf(w->f, out_buf, _IOFBF, sizeof(out_buf));
	if (w->format == CMD_JSON)
		put(w, "[");
	if (w->format == CMD_TEXT || w->format == CMD_CSV) {
		const char *names[OUT_MAX_COLS];
		for (int i = 0; i < ncols; i++)
			names[i] = cols[i].name;
		if (w->format == CMD_TEXT)
			text_row(w, names);
		else
			csv_row(w, names);
	}
	return 0;
}

void out_row(struct out *w, const char *const v[])
{
	switch (w->format) {
	case CMD_TEXT:
		text_row(w, v);
		break;
	case CMD_CSV:
		csv_row(w, v);
		break;
	case CMD_JSON:
		put(w, w->rows > 0 ? ",\n" : "\n");
		json_object(w, v);
		break;
	case CMD_JSONL:
		json_object(w, v);
		putc('\n', w->f);
		break;
	default: /* a document, not rows: out_open refused it */
		assert(0);
		break;
	}
	w->rows++;
}

int out_close(struct out *w, bool complete)
{
	bool file = w->path != NULL;
	int failed;

	if (w->format == CMD_JSON)
		put(w, w->rows > 0 ? "\n]\n" : "]\n");
	if (w->format == CMD_TEXT && !w->sized)
		text_flush(w);
	failed = ferror(w->f) | (file ? fclose(w->f) : fflush(w->f));
	if (failed)
		fprintf(stderr, "metrolog %s: %s: cannot write\n", w->name,
		        file ? w->path : "standard output");
	if (file && (failed || !complete) && unlink(w->path) == 0)
		fprintf(stderr, "metrolog %s: %s removed: incomplete\n",
		        w->name, w->path);
	return failed ? -1 : 0;
}
