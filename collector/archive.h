/*
 * archive.h - the provincial archive in PostgreSQL (libpq): the schema
 * (schema.sql) applied and checked, a gateway's message written in one
 * statement, the monthly partitions made ahead, holes in seq recorded,
 * retention by whole partitions. The only file that includes libpq-fe.h.
 *
 * Threads: a struct archive belongs to one thread (the collector's
 * writer); nothing here is shared.
 */
#ifndef METROLOG_ARCHIVE_H
#define METROLOG_ARCHIVE_H

#include <stddef.h>
#include <stdio.h>

#include "inbox.h"

struct archive;

/* What a write came to. */
enum archive_rc {
	ARCHIVE_OK = 0,      /* committed */
	ARCHIVE_HELD = 1,    /* held already: a duplicate, nothing written */
	ARCHIVE_RETRY = -1,  /* the database is down or busy: try again */
	ARCHIVE_REJECT = -2, /* the database refuses this message for good */
};

/* Connect with conninfo (libpq's "host=... dbname=..." or a URI). Returns
 * the archive, or NULL with why in err. The connection may be lost later:
 * archive_reconnect(). */
struct archive *archive_open(const char *conninfo, char *err, size_t errlen);
void archive_close(struct archive *a);

/* Connect again after the connection was lost (nothing when it was
 * not). Returns 0, or -1 with why in err. */
int archive_reconnect(struct archive *a, char *err, size_t errlen);

/* Apply the schema if the database has none, or the steps from its
 * version to this program's (pgschema.h; one transaction, under an
 * advisory lock so that two collectors do not race), and make the
 * partitions of this month and the next. Returns 0, or -1 with err. */
int archive_init(struct archive *a, char *err, size_t errlen);

/* Whether the database holds the schema version this program writes.
 * Returns 0, or -1 with err ("run metrolog-collector init", or a newer
 * version). */
int archive_check(struct archive *a, char *err, size_t errlen);

/* Write message m (its payload text, len bytes, as received) in one
 * transaction (committed on return), or in the one archive_begin()
 * opened, idempotently; the partitions of its month and the next are
 * made first if this connection has not seen them. Returns an enum
 * archive_rc, with why in err when not ARCHIVE_OK; in a transaction,
 * anything but ARCHIVE_OK and ARCHIVE_HELD has aborted it. */
int archive_put(struct archive *a, const struct inbox_msg *m,
                const char *payload, size_t len, char *err, size_t errlen);

/* Open a transaction: the archive_put() and archive_replay_reply() that
 * follow are committed together by archive_commit(). Once one of them
 * fails, the transaction is lost: archive_rollback(), then write them all
 * again in a new one. Returns ARCHIVE_OK, or ARCHIVE_RETRY with err. */
int archive_begin(struct archive *a, char *err, size_t errlen);

/* Commit the transaction archive_begin() opened. Returns ARCHIVE_OK, or
 * ARCHIVE_RETRY with err (not committed, or not known to be: roll back
 * and write again; every write is idempotent). */
int archive_commit(struct archive *a, char *err, size_t errlen);

/* End the transaction without committing (nothing when none is open or
 * the connection is lost). */
void archive_rollback(struct archive *a);

/* Record the settled holes of every site's seq in gaps (schema.sql,
 * metrolog_check_gaps) and mark the filled ones. Returns the number of
 * gaps recorded now, or -1 with err. */
int archive_check_gaps(struct archive *a, int settle_ms, char *err,
                       size_t errlen);

/* A range of a site's seqs to ask the gateway for again. */
typedef void archive_repair_fn(void *ctx, const char *site, long long from,
                               long long to);

/* The gaps to repair now (schema-3.sql, metrolog_repairs_due): at most
 * one per site, each claimed (so no other collector asks for it) and
 * given to fn as its first range of at most span seqs neither held nor
 * unrepairable; asked again after wait_ms doubled per attempt up to
 * max_ms unless a reply comes first. Returns how many, or -1 with err. */
int archive_repairs_due(struct archive *a, int span, int wait_ms, int max_ms,
                        archive_repair_fn *fn, void *ctx, char *err,
                        size_t errlen);

/* A gateway's reply to a replay request (payload, len bytes, from site):
 * its missing ranges kept in unrepairable, its gaps looked at again after
 * settle_ms. Returns the ranges kept (>= 0), or ARCHIVE_RETRY /
 * ARCHIVE_REJECT with err. */
int archive_replay_reply(struct archive *a, const char *site,
                         const char *payload, size_t len, int settle_ms,
                         char *err, size_t errlen);

/* Drop the partitions of readings and messages that end at or before
 * cutoff (an ISO 8601 time PostgreSQL reads), printing each name to out.
 * Returns how many, or -1 with err. */
int archive_drop_before(struct archive *a, const char *cutoff, FILE *out,
                        char *err, size_t errlen);

/* What archive_cal_each() hands over, site by site. */
struct calib_record;
struct calib_approval;
struct archive_cal_fn {
	void (*site)(void *ctx, const char *site); /* before its items */
	int (*record)(void *ctx, const struct calib_record *r);
	/* held_hash: the approved record's hash as held, "" not held */
	int (*approval)(void *ctx, const struct calib_approval *a,
	                const char *held_hash);
	void (*site_end)(void *ctx, const char *site); /* after them */
};

/* Every site's (site NULL) or one site's calibration records, rebuilt as
 * the gateway's struct calib_record from the archive's rows (times in
 * exact microseconds, numbers as PostgreSQL gives them back exactly, a
 * decision or rule name unknown to this program as a value that hashes
 * differently), in record order, then its approvals in approval order,
 * to fn's functions (a non-zero return of record or approval stops:
 * -1). Returns the number of sites, or -1 with err (a site not held is
 * an error). */
int archive_cal_each(struct archive *a, const char *site,
                     const struct archive_cal_fn *fn, void *ctx, char *err,
                     size_t errlen);

/* One row of archive_select(): its ncols columns as PostgreSQL's text
 * (NULL for SQL NULL), valid during the call. A non-zero return stops. */
typedef int (*archive_row_fn)(void *ctx, int ncols, const char *const *cols);

/* Run the query sql with its nparams text parameters ($1, ...; NULL for
 * SQL NULL) and hand each row to fn, in order. Returns the number of rows
 * handed, or -1 with PostgreSQL's message in err (fn's stop included:
 * "stopped"). For the provincial queries (province.h). */
int archive_select(struct archive *a, const char *sql, int nparams,
                   const char *const *params, archive_row_fn fn, void *ctx,
                   char *err, size_t errlen);

#endif
