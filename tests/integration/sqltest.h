/*
 * sqltest.h - a test's database file read and written with plain SQL, as
 * an outsider would (test_store.c, and through gwtest.h the metrologd
 * tests). Static inline, like gwtest.h; they fail the running cmocka test.
 */
#ifndef METROLOG_SQLTEST_H
#define METROLOG_SQLTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>

#include "store.h"

/* path opened read-only, or read-write when rw, waiting up to 5 s for a
 * lock, the archive readable (store_archive_auto()); fails the test when
 * it does not open. */
static inline sqlite3 *sql_open(const char *path, bool rw)
{
	sqlite3 *db = NULL;

	assert_int_equal(store_archive_auto(), 0);
	assert_int_equal(
	        sqlite3_open_v2(path, &db,
	                        rw ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
	                           : SQLITE_OPEN_READONLY,
	                        NULL),
	        SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static inline sqlite3 *db_open(const char *path)
{
	return sql_open(path, false);
}

/* The first column of the first row of sql on db into *v: 1, 0 when there
 * is no row, -1 when sql does not prepare. */
static inline int sql_first_int(sqlite3 *db, const char *sql, long long *v)
{
	sqlite3_stmt *st = NULL;
	int found = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		found = sqlite3_step(st) == SQLITE_ROW;
		if (found)
			*v = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return found;
}

/* The first column of the first row of sql, as an integer; -1 when the
 * query fails (e.g. the schema is not created yet). */
static inline long long db_try_int(const char *path, const char *sql)
{
	sqlite3 *db = db_open(path);
	long long v = -1;

	if (sql_first_int(db, sql, &v) != 1)
		v = -1;
	sqlite3_close(db);
	return v;
}

static inline long long db_int(const char *path, const char *sql)
{
	long long v = db_try_int(path, sql);

	if (v == -1)
		fail_msg("query failed: %s", sql);
	return v;
}

static inline void db_text(const char *path, const char *sql, char *out,
                           size_t size)
{
	sqlite3 *db = db_open(path);
	sqlite3_stmt *st = NULL;

	out[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, size, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* Run sql (any statements) with write access, or fail the test. */
static inline void db_exec(const char *path, const char *sql)
{
	sqlite3 *db = sql_open(path, true);

	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
}

/* Fail the test unless PRAGMA integrity_check says "ok". */
static inline void db_assert_integrity(const char *path)
{
	char ok[256];

	db_text(path, "PRAGMA integrity_check", ok, sizeof(ok));
	assert_string_equal(ok, "ok");
}

#endif
