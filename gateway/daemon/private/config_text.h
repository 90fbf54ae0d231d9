/*
 * config_text.h - the integers of a configuration file as the user wrote
 * them, for config.c only.
 *
 * libconfig 1.5 (Debian 12's) narrows an integer without an L suffix to 32
 * bits as it scans it (atoi, strtoul): `interval_ms = 4294967396` reads as
 * 100 and 99999999999999999999 as -1, and nothing tells the caller. So
 * config.c reads the line a setting came from again and takes the number
 * from its text: range checks see the 64-bit value (or know it does not fit
 * in 64 bits) and messages quote the number as written. The text is read
 * lexically only (strings and comments skipped); libconfig stays the parser.
 *
 * Memory: a struct cfg_text holds the files it has read until
 * cfg_text_free(). Used by one thread (the loader's).
 */
#ifndef METROLOG_CONFIG_TEXT_H
#define METROLOG_CONFIG_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#define CFG_INT_TEXT 48 /* an integer's text, cut to fit with "..." */

/* One integer literal written as the value of a setting. */
struct cfg_int {
	char text[CFG_INT_TEXT]; /* as written, e.g. "0x1F", "4294967396" */
	bool fits;               /* value holds it (it fits in 64 bits) */
	long long value;         /* the number written, when fits */
	double approx;           /* the number written, as a double */
	long long parsed;        /* what libconfig 1.5 made of it */
};

struct cfg_text;

struct cfg_text *cfg_text_new(void);    /* NULL: out of memory */
void cfg_text_free(struct cfg_text *t); /* NULL allowed */

/* Line `line` (1-based) of file path, NUL-terminated, read once and kept
 * until cfg_text_free(); NULL when the file cannot be read or is shorter. */
const char *cfg_text_line(struct cfg_text *t, const char *path, int line);

/*
 * The integer literals written on line as the value of a setting called
 * name ("name = 12", "name: 0x0C", "name = 12L"), in the order written,
 * outside strings and comments: at most max of them into out. Returns how
 * many were found (which may exceed max).
 */
size_t cfg_text_ints(const char *line, const char *name, struct cfg_int *out,
                     size_t max);

#endif
