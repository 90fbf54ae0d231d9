/*
 * query_backup.c - a consistent copy of the database while metrologd runs
 * (query.h, query_backup()): SQLite's online backup API reads every page
 * in one read transaction of the query's own read-only connection, so the
 * copy is the database as of one commit, whatever metrologd writes
 * meanwhile (WAL: the writer never waits for it). The copy is written
 * beside its destination as NAME.part, made a single file (rollback
 * journal, no -wal), checked (integrity_check), synced, and only then
 * renamed to NAME: a file named NAME is always a whole, checked copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "query.h"
#include "query_int.h"

#define PART_SUFFIX ".part"

/* fsync path (a file, or a directory: the rename in it). 0 or -1. */
static int sync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* One statement on the copy whose first column must read "ok" (or
 * anything, when want is NULL). 0, or -1 with err set. */
static int on_copy(sqlite3 *db, const char *sql, const char *want,
                   const char *part, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	const unsigned char *got;

	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s: %s", part, sqlite3_errmsg(db));
		sqlite3_finalize(s);
		return -1;
	}
	got = rc == SQLITE_ROW ? sqlite3_column_text(s, 0) : NULL;
	if (want != NULL && (got == NULL || strcmp((const char *)got, want))) {
		snprintf(err, errlen, "%s: the copy does not check: %s", part,
		         got != NULL ? (const char *)got : "no answer");
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

/* Copy q's database into part (created) and check it. 0 or -1. */
static int copy_to(struct query *q, const char *part, char *err, size_t errlen)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	int rc = sqlite3_open_v2(part, &dst,
	                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                                 SQLITE_OPEN_EXCLUSIVE,
	                         NULL);

	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", part,
		         dst != NULL ? sqlite3_errmsg(dst)
		                     : sqlite3_errstr(rc));
		sqlite3_close(dst);
		return -1;
	}
	b = sqlite3_backup_init(dst, "main", q->db, "main");
	if (b == NULL) {
		snprintf(err, errlen, "%s: %s", part, sqlite3_errmsg(dst));
		sqlite3_close(dst);
		return -1;
	}
	/* all pages in one step: one read transaction on the source, so the
	 * copy is the database as of one commit (a busy source is waited for
	 * by the query's busy timeout) */
	rc = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s: copying %s: %s", part, q->path,
		         sqlite3_errstr(rc));
		sqlite3_close(dst);
		return -1;
	}
	if (on_copy(dst, "PRAGMA journal_mode = DELETE", "delete", part, err,
	            errlen) < 0 ||
	    on_copy(dst, "PRAGMA integrity_check", "ok", part, err, errlen) <
	            0) {
		sqlite3_close(dst);
		return -1;
	}
	if (sqlite3_close(dst) != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot close the copy", part);
		return -1;
	}
	return 0;
}

int query_backup(struct query *q, const char *dest, char *err, size_t errlen)
{
	char part[4096], dir[4096];
	struct stat st;

	if (snprintf(part, sizeof(part), "%s" PART_SUFFIX, dest) >=
	    (int)sizeof(part)) {
		snprintf(err, errlen, "%s: path too long", dest);
		return -1;
	}
	if (lstat(dest, &st) == 0) {
		snprintf(err, errlen,
		         "%s: exists; a backup never replaces a file", dest);
		return -1;
	}
	if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", dest, strerror(errno));
		return -1;
	}
	/* a .part is what an interrupted backup left: never a backup */
	if (unlink(part) != 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", part, strerror(errno));
		return -1;
	}
	if (copy_to(q, part, err, errlen) < 0) {
		unlink(part);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", dest);
	if (sync_path(part, O_RDONLY) < 0 || rename(part, dest) != 0 ||
	    sync_path(dirname(dir), O_RDONLY | O_DIRECTORY) < 0) {
		snprintf(err, errlen, "%s: %s", dest, strerror(errno));
		unlink(part);
		return -1;
	}
	return 0;
}
