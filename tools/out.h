/*
 * out.h - the one writer of the metrolog tool's listings: rows of text
 * fields into the format a subcommand's --format asked for (cmd.h):
 *   text   aligned columns for people, "-" for an empty field: each
 *          column as wide as its widest field or name, in terminal
 *          columns (text_width(): a Vietnamese name counts its letters,
 *          not its bytes; a CJK character two), one space between
 *          columns, the last one not padded. The rows are held until
 *          out_close() (or until OUT_HOLD bytes of them) to measure
 *          them; past OUT_HOLD the widths of what was held stay, and a
 *          wider field later pushes the rest of its own line right.
 *   csv    RFC 4180: a header line, CRLF line ends, a field quoted when it
 *          holds , " CR or LF ("" for a quote)
 *   json   one JSON array of objects, one object a row (streamed: the
 *          array is written as rows come)
 *   jsonl  JSON Lines: one object a line
 * An empty field is null in JSON when its column is OUT_RAW (a number or
 * true/false written as is), "" when OUT_STRING.
 *
 * The output is stdout, or the file of -o (cmd_line.output; "-" is
 * stdout), through a 1 MiB buffer: an export of a million rows is bounded
 * by formatting, not by writes. A file whose writing failed, or whose
 * rows did not all come, is removed, never left half-written. One output
 * per process. Single-threaded.
 */
#ifndef METROLOG_OUT_H
#define METROLOG_OUT_H

#include <stdbool.h>
#include <stdio.h>

#include "cmd.h"

#define OUT_MAX_COLS 24
/* text: bytes of rows held to size the columns (a longer listing keeps
 * the widths of its first OUT_HOLD bytes) */
#define OUT_HOLD (16 << 20)

enum out_kind {
	OUT_STRING, /* a JSON string */
	OUT_RAW,    /* a JSON number or true/false as written; "" is null */
};

struct out_col {
	const char *name;
	enum out_kind kind;
};

struct out {
	FILE *f;
	enum cmd_format format;
	const struct out_col *cols;
	int ncols;
	long rows;
	const char *name; /* the subcommand, for messages */
	const char *path; /* the file, NULL for stdout */
	/* text: the header and the rows held while the widths are measured,
	 * each row its ncols fields NUL-terminated one after the other */
	char *held;
	size_t held_len, held_cap;
	bool sized;                  /* widths fixed: rows written at once */
	size_t widths[OUT_MAX_COLS]; /* terminal columns */
};

/* Start writing l's format (CMD_TEXT, CMD_CSV, CMD_JSON or CMD_JSONL) to
 * l->output and write the header. ncols <= OUT_MAX_COLS. Returns 0, or -1
 * with the error printed (file not opened). */
int out_open(struct out *w, const struct cmd_line *l,
             const struct out_col *cols, int ncols);

/* s as a JSON string onto f: '"' and '\' escaped, control characters
 * as \u00XX (the bytes otherwise as they are). The one JSON string
 * writer of the tool: listings, and `conformity --format json`. */
void out_json_string(FILE *f, const char *s);

/* One row: ncols fields, "" for empty. In text, held until the widths
 * are known (above). */
void out_row(struct out *w, const char *const v[]);

/* Finish and close (stdout is flushed, not closed). complete: every row
 * came; when not, or the output could not be written (printed), a file is
 * removed (printed). Returns 0, or -1 when the output could not be
 * written. */
int out_close(struct out *w, bool complete);

#endif
