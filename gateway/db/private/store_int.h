/*
 * store_int.h - what the files of the store share (store.c: opening,
 * configuration, readings, events, the outbox, retention; schema.c: the
 * schema and its migrations; store_cal.c: calibration records and due
 * states), like SQLite's btreeInt.h beside
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
#include "msg.h"
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
	S_RECENT_ROWS,
	S_MOVE,
	S_CLEAR_RECENT,
	S_PRUNE_RECENT,
	S_NEXT_CHANNEL,
	S_PRUNE_BOUND,
	S_PRUNE_ARCHIVE,
	S_OUTBOX_INSERT,
	S_OUTBOX_READ,
	S_OUTBOX_DELETE,
	S_OUTBOX_TRIM,
	S_OUTBOX_ROWS,
	S_OUTBOX_OLDEST,
	S_OUTBOX_LAST_SEQ,
	S_COUNT
};

struct item;
struct undo;
struct cal_state;

struct store {
	sqlite3 *db;
	char *path;
	enum store_error error;
	char message[STORE_MSG_MAX];
	sqlite3_stmt *stmt[S_COUNT];
	/* From the last store_sync_config(): row ids by config index. */
	int64_t *channel_ids;
	uint32_t nchannels;
	int64_t *instrument_ids;
	uint32_t ninstruments;
	int64_t move_rows;     /* readings_recent rows that trigger a move */
	int64_t prune_channel; /* where store_retention() goes on */
	/* The outbox: written when cfg->mqtt is not NULL. */
	const struct config *cfg; /* from the last store_sync_config() */
	uint32_t *inst_of;        /* instrument index of each channel index */
	int64_t outbox_rows;      /* rows in the outbox; -1: not counted yet */
	uint64_t outbox_dropped;
	struct item *items; /* store_append()'s sort space */
	size_t nitems;
	struct msg_channel *pch;
	size_t npch;
	/* Tolerance states for the retained instrument statuses, as of what
	 * the outbox holds; changed only through set_state(), which logs the
	 * old value so that a failed store_append() can undo it. */
	const struct config *conf; /* the last store_sync_config(), always */
	uint8_t *chan_state;       /* enum drift_state by channel index */
	uint8_t *inst_state;       /* 0 unknown, 1 online, 2 offline */
	uint8_t *inst_reason;      /* enum quality of the last offline */
	struct undo *undo;
	size_t nundo, undo_cap;
	struct msg_chstate *pcs;
	size_t npcs;
	char *pbuf; /* one payload */
	size_t pbuf_size;
	char *rbuf; /* what store_outbox_read() returns */
	size_t rbuf_size;
	/* Calibration due states (store_cal_refresh()): the instruments of
	 * conf, then its standards; NULL until the first refresh after a
	 * store_sync_config(). */
	struct cal_state *cal;
	size_t ncal;
	int64_t cal_seen;    /* newest calibrations.id at the last refresh */
	int64_t cal_next_us; /* when due states are recomputed anyway */
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
/* UTC microseconds now. */
int64_t st_now_us(void);

/* The outbox: payload space, the row count and the next seq; one row;
 * grow st->pbuf when a payload did not fit (1: try again, 0: it fit, -1);
 * the retained status of entity k (instrument k, or standard k -
 * ninstruments) with the calibration state cal (NULL: none known). */
int st_outbox_next_seq(struct store *st, int64_t *seq);
int st_outbox_insert(struct store *st, int64_t seq, int64_t ts,
                     const char *topic, int len, bool retain);
int st_grow_payload(struct store *st, int len, size_t need);
int st_outbox_entity_status(struct store *st, size_t k, int64_t ts,
                            int64_t *seq, const struct cal_state *cal);

/* ---- of store_cal.c ------------------------------------------------------ */

/* The calibration in force of one instrument or standard. */
struct cal_state {
	int64_t row;         /* instruments.id */
	int64_t due_us;      /* 0: none */
	char cert[CALIB_ID]; /* "" never calibrated */
	uint8_t due;         /* enum calib_due */
	bool in_use;         /* a reference: of a channel, or of a record */
	bool renewed;        /* another certificate in force since the
	                        refresh before (store_cal_renewed()) */
};

/* The calibration block of a status from cs (NULL: none known). */
const struct msg_calstate *st_cal_block(const struct cal_state *cs,
                                        struct msg_calstate *out);

#endif
