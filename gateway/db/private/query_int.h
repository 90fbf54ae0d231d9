/*
 * query_int.h - what the files of the read side (query.c, query_cal.c)
 * share: the connection and the error helper. Not for other modules; they
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

/* Column i, a decision name (drift_decision_name), as its enum
 * drift_decision; -1 for NULL or an unknown name (which then fails the
 * hash check of a calibration record). */
int query_decision(sqlite3_stmt *s, int i);

#endif
