/*
 * store_int.h - what the files of the store share (store.c: opening,
 * configuration, readings, events, the outbox, retention; schema.c: the
 * schema and its migrations; store_cal.c: calibration records and due
 * states; archive.c: the archive's blocks), like SQLite's btreeInt.h beside
 * btree.h. Not for other modules: they use store.h.
 *
 * Threading: as store.h (a struct store belongs to one thread).
 */
#ifndef METROLOG_STORE_INT_H
#define METROLOG_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "calib.h"
#include "gorilla.h"
#include "store.h"

#define STORE_MSG_MAX 512

/* The statements store_append() and store_retention() run, prepared once
 * by store_open(); the order of stmt_sql[]. */
enum {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_INSERT_READING,
	S_INSERT_BLOCK,
	S_INSERT_EVENT,
	S_INSERT_CHANNEL_EVENT,
	S_RECENT_FIX,
	S_TURN_GET,
	S_TURN_SET,
	S_TURN_READ,
	S_RECENT_DROP,
	S_DATA_VERSION,
	S_PRUNE_RECENT,
	S_NEXT_CHANNEL,
	S_ARC_LAST,
	S_ARC_TAIL,
	S_ARC_FROM,
	S_ARC_DELETE_FROM,
	S_ARC_DELETE,
	S_ARC_INSERT,
	S_ARC_OLDEST,
	S_OUTBOX_INSERT,
	S_OUTBOX_READ,
	S_OUTBOX_DELETE,
	S_OUTBOX_TRIM,
	S_SEQS_INSERT,
	S_OUTBOX_ROWS,
	S_OUTBOX_OLDEST,
	S_OUTBOX_LAST_SEQ,
	S_COUNT
};

struct store {
	sqlite3 *db;
	char *path;
	enum store_error error;
	char message[STORE_MSG_MAX];
	sqlite3_stmt *stmt[S_COUNT];
	/* From the last store_sync_config(): row ids by config index; the
	 * instruments' then the standards' in instrument_ids. */
	const struct config *conf;
	int64_t *channel_ids;
	uint32_t nchannels;
	int64_t *instrument_ids;
	uint32_t ninstruments, nentities;
	int64_t move_rows;     /* rows not moved that start a move's turn */
	int64_t prune_channel; /* where store_retention() goes on */
	int64_t outbox_rows;   /* rows in the outbox; -1: not counted yet */
	bool outbox_writer;    /* this connection wrote or deleted outbox
	                          rows: outbox_rows is kept, not recounted */
	uint64_t outbox_dropped;
	char *rbuf; /* what store_outbox_read() returns */
	size_t rbuf_size;
	struct outbox_rebuild *rb; /* store_outbox.c's, made on first use */
	struct archive_bufs *arc;  /* archive.c's, made on first use */
	/* the readings store_write() inserts, as SQLite keeps them, for its
	 * step of the move (archive_step(): none read back); lost: one was
	 * not kept (out of memory), the step reads them */
	struct st_staged {
		int64_t ch;
		struct gorilla_point p;
	} * staged;
	size_t nstaged, capstaged;
	bool staged_lost;
};

/* ---- helpers of store.c ------------------------------------------------- */

/* Record an error of kind: "path: " and the message. */
void st_error(struct store *st, enum store_error kind, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Record the failure rc of what, with SQLite's message. */
void st_sqlite_error(struct store *st, int rc, const char *what);
/* Step s to completion, then reset it. Returns 0, or -1 (recorded). */
int st_run(struct store *st, sqlite3_stmt *s, const char *what);
/* Step s once for a single integer column: 1 with *v set, 0 no row (or
 * NULL), -1 error. Resets s. */
int st_query_int(struct store *st, sqlite3_stmt *s, const char *what,
                 int64_t *v);
/* Run sql (a PRAGMA or a query) for one integer: 0 with *v (0 when there
 * is no row), or -1 (recorded). */
int st_pragma_int(struct store *st, const char *sql, int64_t *v);
/* Bind a string (NULL: ""), static: it must outlive the step. */
void st_bind_text(sqlite3_stmt *s, int i, const char *v);
/* Roll back the open transaction, if any. */
void st_rollback(struct store *st);
/* Inside the write transaction: the published marks set to cal and
 * approvals where > 0 (store_cal.c). Returns 0 or -1. */
int st_cal_mark(struct store *st, int64_t cal, int64_t approvals);
/* UTC microseconds now. */
int64_t st_now_us(void);
/* Bind o's channels (a readings row) as parameter i: the channels.id of
 * each, 4 bytes little-endian (docs/SCHEMA.md, outbox), copied. Returns
 * 0 or -1 (recorded: an index not in the configuration). store_outbox.c */
int st_outbox_bind_channels(struct store *st, sqlite3_stmt *s, int i,
                            const struct store_out *o);
/* Free what store_outbox_readings() kept (store_close()). */
void st_outbox_free(struct store *st);

#endif
