/*
 * db_reason.c - the system's reason behind SQLite's failures to open,
 * read or write the database; see private/db_reason.h.
 */
#define _GNU_SOURCE /* AT_EACCESS */
#include "db_reason.h"

#include <errno.h>
#include <fcntl.h> /* AT_FDCWD */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Whether rc is a failure to open, read or write a file. */
static bool file_failure(int rc)
{
	return (rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_IOERR ||
	       rc == SQLITE_READONLY_DIRECTORY;
}

/* The errno of what SQLite needs of path and its directory (the file
 * read, and written when write; the directory written and entered, for
 * the file when write and it is missing, and for the -wal and -shm files);
 * 0 when all of it is allowed. *dir: the failure is the directory's. The
 * file is not opened: closing a descriptor of it would drop the locks
 * SQLite holds on it (POSIX advisory locks are per process). */
static int probe(const char *path, bool write, bool *dir)
{
	char *copy;
	int e = 0;

	*dir = false;
	if (faccessat(AT_FDCWD, path, write ? R_OK | W_OK : R_OK, AT_EACCESS) <
	    0) {
		if (errno != ENOENT || !write)
			return errno; /* a reader of a missing file: ENOENT */
	}
	if ((copy = strdup(path)) == NULL)
		return 0;
	if (faccessat(AT_FDCWD, dirname(copy), W_OK | X_OK, AT_EACCESS) < 0) {
		e = errno;
		*dir = true;
	}
	free(copy);
	return e;
}

void db_reason(sqlite3 *db, int rc, const char *path, bool write, char *buf,
               size_t size)
{
	size_t len = strlen(buf);
	bool dir = false;
	int e;

	if (db != NULL && !file_failure(rc))
		rc = sqlite3_extended_errcode(db);
	if (!file_failure(rc) || len + 1 >= size)
		return;
	e = db != NULL && rc != SQLITE_READONLY_DIRECTORY
	            ? sqlite3_system_errno(db)
	            : 0;
	/* only an open may hide its errno behind a retry's */
	if (((rc & 0xff) == SQLITE_CANTOPEN && (e == 0 || e == ENOENT)) ||
	    rc == SQLITE_READONLY_DIRECTORY) {
		int seen = probe(path, write, &dir);
		if (seen != 0)
			e = seen;
		else
			dir = false;
	}
	if (e == 0)
		return;
	char *copy = dir ? strdup(path) : NULL;
	snprintf(buf + len, size - len, ": %s%s%s", strerror(e),
	         copy != NULL ? " (directory " : "",
	         copy != NULL ? dirname(copy) : "");
	len = strlen(buf);
	if (copy != NULL && len + 1 < size)
		snprintf(buf + len, size - len, ")");
	free(copy);
}
