/*
 * db_reason.h - why SQLite could not open or write the database, in the
 * words of the system (strerror), for the store (store.c) and the read
 * side (query.c) alike. Private to the db library.
 *
 * SQLite's messages alone mislead: a failed read-write open is retried
 * read-only, and the errno SQLite keeps is the retry's, so a database that
 * cannot be created in a directory metrologd may not write reads "unable
 * to open database file: No such file or directory" when the cause is
 * EACCES; the -wal and -shm files beside it fail the same way.
 */
#ifndef METROLOG_DB_REASON_H
#define METROLOG_DB_REASON_H

#include <stdbool.h>
#include <stddef.h>

#include <sqlite3.h>

/*
 * Append to buf (NUL-terminated, size bytes in all) ": " and the system's
 * reason for the failure rc (when it is not a failure of a file, the last
 * failure on db; db NULL: the open failed before SQLite had a connection)
 * when that failure is an open, a read or a write of a file
 * (SQLITE_CANTOPEN, SQLITE_IOERR, SQLITE_READONLY_DIRECTORY, the last
 * always checked on the file system): the errno SQLite reports
 * (sqlite3_system_errno), or, when that is ENOENT or none, what the file
 * system says itself: the errno of opening path (read-write when write)
 * or, when path exists (or is missing and write), of writing and entering
 * its directory (where SQLite creates the file, and the -wal and -shm
 * files). Appends nothing for other failures.
 */
void db_reason(sqlite3 *db, int rc, const char *path, bool write, char *buf,
               size_t size);

#endif
