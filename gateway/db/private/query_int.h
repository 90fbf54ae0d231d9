/*
 * query_int.h - what the files of the read side (query.c, query_cal.c,
 * query_replay.c ...) share: the connection, the error helper, the
 * readings rows. Not for other modules; they
 * use query.h.
 */
#ifndef METROLOG_QUERY_INT_H
#define METROLOG_QUERY_INT_H

#include <sqlite3.h>

#include "query.h"

struct query {
	sqlite3 *db;
	char *path;
	char error[512];
};

/* Set the error "path: what: sqlite's message" (rc: sqlite's code, for
 * the message when db has none). Returns -1. */
int query_fail(struct query *q, int rc, const char *what);

/* Prepare sql; NULL with the error set on failure. */
sqlite3_stmt *query_prepare(struct query *q, const char *sql);

/* Column i as a string into buf (NULL: ""). */
void query_text(sqlite3_stmt *s, int i, char *buf, size_t size);

/* Column i as a double; NAN for NULL. */
double query_maybe_double(sqlite3_stmt *s, int i);

/* The rows of s, stepped here: (ts, value, quality) of channel ch, or
 * with the channel in column 3 when ch is 0, each to fn as a struct
 * query_reading (value NAN unless the quality is good); s is reset after.
 * Returns 0, fn's non-zero return (which stops it), or -1 (error set). */
int query_each_reading(struct query *q, sqlite3_stmt *s, int64_t ch,
                       int (*fn)(void *ctx, const struct query_reading *),
                       void *ctx);

/* Column i, a decision name (drift_decision_name), as its enum
 * drift_decision; -1 for NULL or an unknown name (which then fails the
 * hash check of a calibration record). */
int query_decision(sqlite3_stmt *s, int i);

#endif
