/*
 * store.h - the SQLite database: schema, migrations, batched writes,
 * retention, and the queries the metrolog tool shares.
 *
 * With query.h, the only module that includes <sqlite3.h> (store.c and
 * store_cal.c write, sharing store_int.h; query*.c read). One file in WAL
 * mode with synchronous=FULL: a commit is on disk (the WAL synced) before
 * store_write() or store_cal_append() returns and before any other
 * connection sees it, so a power cut never takes back what was published
 * or certified. Schema in docs/SCHEMA.md, versioned with
 * PRAGMA user_version and migrated forward by store_open(). Time columns
 * are UTC microseconds since the epoch (INTEGER).
 *
 * Threading: a struct store belongs to one thread (the ingest thread in
 * metrologd, the main thread in the tool). Other processes may read the
 * file at any time (WAL).
 */
#ifndef METROLOG_STORE_H
#define METROLOG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calib.h"
#include "config.h"
#include "sample.h"

enum store_error {
	STORE_OK = 0,
	STORE_BUSY,    /* locked by another process beyond the busy timeout */
	STORE_FULL,    /* disk or quota full */
	STORE_IO,      /* I/O error */
	STORE_CORRUPT, /* not a metrolog database, or damaged */
	STORE_OTHER,
};

struct store;

/* Open (creating if needed) the database at path and migrate it to the
 * current schema. Returns NULL with the reason in err on failure. */
struct store *store_open(const char *path, char *err, size_t errlen);
void store_close(struct store *st); /* NULL allowed */

/* The page cache (PRAGMA cache_size) of every connection opened after
 * this call, in KiB (> 0); 8 MiB until then. For a process that keeps
 * its memory small (metrologd); call it before the first store_open(),
 * before other threads open any. */
void store_set_cache_kib(int kib);

/* The page cache of st's own connection, in KiB (> 0). Returns 0, or -1
 * with the reason in store_last_message(). */
int store_cache_kib(struct store *st, int kib);

/* Insert or update the instruments, channels and standards of c (by id
 * and channel name) so that readings keep stable ids across restarts and
 * reloads, and remember the mapping from c's indexes to row ids for
 * store_write(). Instruments no longer in c are kept (marked inactive),
 * never deleted. c is used by store_write() (its indexes, and
 * mqtt->outbox_max) until the next store_sync_config() and must live that
 * long. Returns 0 or -1. */
int store_sync_config(struct store *st, const struct config *c);

/* An events row composed by the caller (metrologd's composer: tolerance,
 * drift, trend and calibration events; docs/SCHEMA.md, events). */
struct store_event {
	int64_t ts_us;
	uint32_t entity;    /* instrument index of the config last given to
	                       store_sync_config(), or ninstruments + a standard's
	                       index */
	int32_t channel;    /* global channel index, or -1: none */
	const char *kind;   /* "tolerance", "drift", "trend", "calibration" */
	const char *from;   /* the state before and after, as words */
	const char *to;     /* (NULL: not a change of state) */
	const char *detail; /* the sentence for people; NULL: none */
};

/* An outbox row composed by the caller (docs/MQTT.md): its seq must be
 * above every seq the outbox ever held (store_outbox_next_seq()) and
 * increase along the batch. */
struct store_out {
	int64_t seq;
	int64_t ts_us; /* when what it reports happened */
	const char *topic;
	const char *payload; /* len bytes */
	size_t len;
	int qos;
	bool retain;
	/* > 0: a readings message written without its payload (payload and
	 * len ignored): the global channel indexes (of the config last given
	 * to store_sync_config()) of its readings, in the payload's order;
	 * the publisher builds the payload when it sends it
	 * (store_outbox_readings(); docs/SCHEMA.md, outbox) */
	const uint32_t *channels;
	size_t nchannels;
};

/* What one transaction writes. */
struct store_batch {
	const struct sample *samples; /* readings, online/offline events */
	size_t nsamples;
	const struct store_event *events;
	size_t nevents;
	const struct store_out *out;
	size_t nout;
	bool composed; /* events has the rows of samples' SAMPLE_STATEs */
	/* > 0: the calibration records / approvals published up to this id
	 * (store_cal_published()), set in the same transaction as out */
	int64_t cal_published, approvals_published;
	/* > 0: delete the outbox rows with seq <= this first (acknowledged;
	 * store_outbox_delete() in the same transaction) */
	int64_t outbox_delete;
};

/*
 * Write b in ONE transaction: each SAMPLE_READING as a reading, each
 * SAMPLE_ONLINE / SAMPLE_OFFLINE / SAMPLE_FAILING as an events row (kind
 * "online", "offline" or "failing", detail the reason), the composed events
 * rows (a SAMPLE_STATE is refused unless b->composed says they hold its row),
 * and the outbox rows; then, when the config last given to store_sync_config()
 * has an mqtt group and the outbox holds more than its outbox_max rows, the
 * oldest go (store_outbox_dropped() counts them). Indexes are those of
 * that config. Nothing here builds a message: the store writes what it is
 * handed. On failure the transaction is rolled back, nothing is written,
 * and the caller keeps the batch to retry. Returns 0 or -1.
 * Each call also takes a step of the move of readings into the archive's
 * compressed blocks, in turns (docs/SCHEMA.md, recent_moved): once 64 rows
 * per channel (at least 65,536) wait, the next 32 calls or so each move a
 * range of channels, so that no call waits for a whole move
 * (docs/BENCHMARKS.md "Archive").
 */
int store_write(struct store *st, const struct store_batch *b);

/* Move every reading not in the archive yet into it, in one transaction
 * (a turn under way finished, then one of the rest, whatever their
 * number), and delete the moved rows of readings_recent but its newest.
 * For tests and tools that want the archive whole. Returns 0 or -1. */
int store_archive_all(struct store *st);

/* store_write() of n samples alone (no SAMPLE_STATE: compose those). */
int store_append(struct store *st, const struct sample *s, size_t n);

/* From now on, every SQLite connection this process opens can read the
 * archive (the virtual table readings_archive, which the view readings
 * reads, and the aggregate archive_encode(); docs/SCHEMA.md). store_open()
 * and query_open() call it; a program or test that opens the database
 * with SQLite itself calls it first. Idempotent. Returns 0 or -1. */
int store_archive_auto(void);

/* Delete readings older than cutoff_us (events and calibrations are never
 * deleted), at most max_rows per call so the writer never stalls for long.
 * Sets *deleted. Returns 0 or -1. */
int store_retention(struct store *st, int64_t cutoff_us, long max_rows,
                    long *deleted);

/* As store_open(), and on failure sets *kind (if not NULL) to why:
 * STORE_CORRUPT for a file that is not SQLite or not metrolog's, STORE_OTHER
 * for a schema newer than this program knows (or a path that cannot be
 * opened), STORE_BUSY, STORE_FULL, STORE_IO as for the other calls. */
struct store *store_open_ex(const char *path, enum store_error *kind, char *err,
                            size_t errlen);

/* How long a write waits for another process's lock before failing with
 * STORE_BUSY (store_open() sets 5000 ms). Returns 0 or -1. */
int store_set_busy_timeout(struct store *st, int ms);

/* A hard cap on the file size, in pages of 4 KiB, for this connection
 * (PRAGMA max_page_count): writes beyond it fail with STORE_FULL. For tests
 * (a full disk without a small file system) and for operators who want a
 * cap. SQLite raises a cap below the current size to the current size;
 * 1073741823 lifts it. Returns the cap in effect, or -1. */
long store_set_max_pages(struct store *st, long pages);

/* ---- the MQTT outbox (docs/SCHEMA.md, table outbox) ---------------------
 * Written by store_write() on the writer's connection, which also deletes
 * what was acknowledged; read by the publisher through a connection of its
 * own (metrologd: another thread). */

/* The seq the next outbox row takes: one above every seq the outbox ever
 * held (AUTOINCREMENT: never reused). Returns 0 or -1. */
int store_outbox_next_seq(struct store *st, int64_t *seq);

/* One outbox row. topic and payload point into memory of the store, valid
 * until the next call on it. */
struct store_msg {
	int64_t seq;   /* per-gateway sequence number, increasing */
	int64_t ts_us; /* when what it reports happened */
	const char *topic;
	const char *payload; /* JSON, NUL-terminated, len bytes */
	size_t len;
	int qos;
	bool retain;
	/* > 0: a readings row, payload "": its channels, as stored (the
	 * channels.id of each, 4 bytes little-endian): its payload is built
	 * from store_outbox_readings() */
	const unsigned char *channels;
	size_t nchannels;
};

/* The first (at most) max rows with seq > after, in seq order, into out;
 * *n is how many. Returns 0 or -1. */
int store_outbox_read(struct store *st, int64_t after, struct store_msg *out,
                      size_t max, size_t *n);

/* One reading of a readings row, read back for its payload. */
struct store_msg_reading {
	const char *channel; /* channels.name */
	const char *unit;    /* channels.unit, "" when none */
	bool float32;        /* channels.type is a float32 (7 digits) */
	bool found;          /* false: the reading is no longer in the
	                        database (retention deleted it) */
	int quality;         /* enum quality */
	double value;        /* when quality is good */
};

/*
 * The content of readings row m (store_outbox_read(), m->nchannels > 0):
 * its instrument's name (instruments.name: the config's id) into
 * *instrument, and into out (m->nchannels of them, in order) each
 * reading at m->ts_us with its channel's name, unit and type as the
 * database holds them. hi_us: the latest ts of the rows about to be
 * rebuilt (at least m->ts_us): readings_recent, which has no index, is
 * read once for the readings between m->ts_us and hi_us and kept for the
 * next calls (a reading not found there is looked up by channel and ts in
 * the view readings). Strings valid until the next call. Returns 0 or -1.
 */
int store_outbox_readings(struct store *st, const struct store_msg *m,
                          int64_t hi_us, const char **instrument,
                          struct store_msg_reading *out);

/* Delete the rows with seq <= upto (acknowledged). Returns 0 or -1. */
int store_outbox_delete(struct store *st, int64_t upto);

/* Rows in the outbox, and the ts_us of the oldest (0 when empty); counted
 * afresh on a connection that never wrote the outbox (a reader's). */
int store_outbox_stats(struct store *st, int64_t *rows, int64_t *oldest_us);

/* Rows deleted unsent because the outbox was full, since store_open(). */
uint64_t store_outbox_dropped(const struct store *st);

/* ---- calibration records (calib.h; docs/SCHEMA.md, calibrations) -------
 * Append-only and hash-chained; read them with query.h. */

/*
 * Validate r (calib_validate) and append it to the audit chain in ONE
 * transaction, filling in: id and prev_hash (the chain's next link),
 * issued_us (now), interval_days (the instrument's configured interval
 * when 0), due_us, customer (the instrument's owner when empty), the
 * reference standard's snapshot (its certificate in force at
 * performed_us, its due date, overdue or not), the rule version (always
 * CALIB_RULE_VERSION: calib_current, so the policy's defaults where 0),
 * the decisions, and hash.
 * Refused (-1, nothing written, store_last_message says why): an
 * instrument or standard no configuration has named, a certificate number
 * already used, a record to supersede that does not exist, is of another
 * instrument or is already superseded, an instrument as its own standard,
 * a point that gets no statement when r->refuse_no_statement.
 */
int store_cal_append(struct store *st, struct calib_record *r);

/*
 * Approve the record whose certificate number is certificate (calib.h,
 * approvals; ISO/IEC 17025 7.8.2.1 o) in ONE transaction: approver and
 * role (role may be "") are trimmed, must be printable UTF-8 without
 * control characters (text_printable) and fit CALIB_TEXT; the approval
 * gets its id and prev_hash (the approvals' chain), the record's id and
 * hash, approved_us (now) and its hash, all into *out.
 * Refused (-1, nothing written, store_last_message says why in plain
 * words): no approver, no record with that number, a record already
 * superseded by a correction, a record already approved, an approver who
 * is the record's technician (calib_same_person).
 */
int store_cal_approve(struct store *st, const char *certificate,
                      const char *approver, const char *role,
                      struct calib_approval *out);

/* The calibration in force of an instrument or standard. */
struct store_cal_force {
	int64_t due_us;          /* 0: none */
	char cert[CALIB_ID];     /* "" never calibrated */
	bool standard_of_record; /* a record names it as its standard */
};

/* The calibration in force at now_us of each of the n entities (instrument
 * k of the config last given to store_sync_config(), then its standards)
 * into out: the latest by performed among the records performed by now_us
 * and not superseded (docs/SCHEMA.md; a record dated after now_us is not
 * in force yet). Returns 0 or -1. */
int store_cal_in_force(struct store *st, int64_t now_us,
                       struct store_cal_force *out, size_t n);

/* The id of the newest calibration record (0: none), so that a caller
 * reads the states again only when one was appended. Returns 0 or -1. */
int store_cal_last_id(struct store *st, int64_t *id);

/* What is published and what there is (docs/SCHEMA.md, published):
 * the last record id and approval id put into the outbox (store_write()'s
 * cal_published, approvals_published), and the newest of each. */
struct store_cal_pub {
	int64_t cal_done, cal_last;
	int64_t approvals_done, approvals_last;
};

/* Read *out. Returns 0 or -1. */
int store_cal_published(struct store *st, struct store_cal_pub *out);

/* The earliest performed time after now_us of any record (0: none): when
 * a record dated ahead comes into force. Returns 0 or -1. */
int store_cal_next_performed(struct store *st, int64_t now_us, int64_t *next);

/* ---- the accounts of metrolog-web (docs/SCHEMA.md, users) -------------
 * The store never sees a password: hash is the Argon2id string auth.h's
 * auth_hash() made. Each call is one transaction. Refused (-1, nothing
 * written, store_last_message says why in plain words) as each says. */

/* Add user name with role ("technician", "manager" or "enterprise") and
 * customer (a customers.name: required for an enterprise user, NULL for
 * the lab's people). Refused: a name already used (users are never
 * deleted, so never reused), an unknown customer, a customer given or
 * missing against the role, a role the schema does not know. */
int store_user_add(struct store *st, const char *name, const char *role,
                   const char *customer, const char *hash);

/* Replace the password of user name. Refused: no such user. */
int store_user_passwd(struct store *st, const char *name, const char *hash);

/* Disable user name (metrolog-web refuses its logins and ends its
 * sessions at their next request), or enable it again. Refused: no such
 * user. */
int store_user_disable(struct store *st, const char *name, bool disabled);

/* The last failure: its kind and a message naming the database file. */
enum store_error store_last_error(const struct store *st);
const char *store_last_message(const struct store *st);

#endif
