/*
 * query.h - read-only queries on the gateway's database, for the metrolog
 * tool and for the records requests metrologd answers over MQTT.
 *
 * The second half of the store layer (store.c writes, query*.c read; these
 * are the only files that include <sqlite3.h>). A struct query is its own
 * connection, opened read-only (SQLITE_OPEN_READONLY, query_only): it can
 * never modify the file, and it reads a consistent snapshot while
 * metrologd writes (WAL). Schema in docs/SCHEMA.md.
 *
 * Listing functions call fn once per row, in the documented order, with a
 * pointer valid only during the call; fn returns 0 to go on, non-zero to
 * stop (the listing then returns that value). They return 0 when done, -1
 * on a database error (query_error() says which), or fn's value.
 *
 * Threading: a struct query belongs to one thread.
 */
#ifndef METROLOG_QUERY_H
#define METROLOG_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calib.h"

struct query;

/* Open path read-only; never creates a file. NULL with the reason in err
 * when the file does not exist ("PATH: no such database (metrologd
 * creates it; check -d)": the tool's -d names the database), is not a
 * metrolog database, or has a schema this program does not know. */
struct query *query_open(const char *path, char *err, size_t errlen);
void query_close(struct query *q); /* NULL allowed */

/* The last error, naming the database file. */
const char *query_error(const struct query *q);

/*
 * A copy of q's database as of one commit (SQLite's online backup, while
 * metrologd writes) into the new file dest: written as dest.part, made a
 * single file (no -wal), checked with integrity_check, synced, then renamed
 * to dest. Never replaces an existing dest (refused); a dest.part left by
 * an interrupted backup is removed first. The copy's mode is 0666 less the
 * umask. Returns 0, or -1 with the reason in err (dest.part removed).
 * (query_backup.c)
 */
int query_backup(struct query *q, const char *dest, char *err, size_t errlen);

/* ---- instruments and channels (query.c) ------------------------------ */

struct query_instrument {
	int64_t id;
	char name[CALIB_ID];
	char kind[16]; /* "instrument" (polled) or "standard" */
	char model[CALIB_TEXT], serial[CALIB_TEXT], owner[CALIB_TEXT],
	        location[CALIB_TEXT];
	bool active;       /* in the loaded configuration */
	int interval_days; /* configured calibration interval, 0 none */
	int due_soon_days;
	/* the calibration in force at the now_us given to the listing: the
	 * latest by performed date among the records performed by then and
	 * not superseded; cal_id 0 when none (never calibrated) */
	int64_t cal_id;
	char certificate[CALIB_ID];
	int64_t cal_us, due_us;
	int cal_result;     /* as-left result of it (enum drift_decision) */
	enum calib_due due; /* at the now_us given to the listing */
	/* live: the last online/offline event ("online", "offline", "" none),
	 * and the time of the newest reading of any of its channels (0 none) */
	char link[16];
	int64_t link_us;
	int64_t last_reading_us;
	/* the standard is the reference of a channel (reference_channel) or
	 * of a calibration record of another instrument */
	bool used_as_reference;
};

/* qsort order of the due worklists (`metrolog due`, metrolog-web's
 * /lab/due): by due date (0, never calibrated, first), then by name. */
int query_instrument_by_due(const void *a, const void *b);

/* Every instrument and standard (owner NULL) or those of one owner, by
 * name; calibration in force and due states at now_us (now, or a past
 * date such as a month's end for a report). */
int query_instruments(struct query *q, const char *owner, int64_t now_us,
                      int (*fn)(void *ctx, const struct query_instrument *),
                      void *ctx);
/* One instrument by name: 0 found, 1 unknown, -1 error. */
int query_instrument(struct query *q, const char *name, int64_t now_us,
                     struct query_instrument *out);

struct query_channel {
	int64_t id;
	char instrument[CALIB_ID];
	char name[CALIB_TEXT];
	char unit[CALIB_UNIT];
	char type[64]; /* e.g. "float32 CDAB" */
	bool active;
	int64_t last_us;   /* newest reading, 0 none */
	double last_value; /* NAN unless its quality is good */
	int last_quality;  /* enum quality; -1 none */
	/* the last tolerance event's new state ("in_tolerance", ...), "" none
	 */
	char state[24];
	int64_t state_us;
	/* the configured tolerance (docs/SCHEMA.md, channels): error limits
	 * [lower, upper] at reference, guard band, expanded uncertainty U with
	 * coverage factor k, all in the unit; NAN and has_tolerance false when
	 * the channel has none. reference_channel: the channel compared with
	 * (comparison calibration), "" none. */
	bool has_tolerance;
	double reference, lower, upper, guard, U, k;
	char reference_channel[CALIB_TEXT];
};

/* The channels of one instrument (NULL: all), by instrument then name. */
int query_channels(struct query *q, const char *instrument,
                   int (*fn)(void *ctx, const struct query_channel *),
                   void *ctx);
/* The channel id of instrument/channel: 0 found, 1 unknown, -1 error. */
int query_channel_id(struct query *q, const char *instrument,
                     const char *channel, int64_t *id);

/* ---- readings and events (query.c) ----------------------------------- */

struct query_reading {
	int64_t channel; /* channels.id */
	int64_t ts_us;
	double value; /* NAN unless quality is good */
	int quality;  /* enum quality */
};

/* The readings of a channel with from_us <= ts < to_us, by ts. Streams:
 * constant memory whatever the range. */
int query_readings(struct query *q, int64_t channel, int64_t from_us,
                   int64_t to_us,
                   int (*fn)(void *ctx, const struct query_reading *),
                   void *ctx);

/* How many readings the channels of one instrument have with from_us <=
 * ts < to_us: in all, good ones, and those of the channel with the most
 * (every poll records one reading per channel, good or not). Returns 0 or
 * -1. */
struct query_counts {
	int64_t readings, good, most;
};
int query_reading_counts(struct query *q, const char *instrument,
                         int64_t from_us, int64_t to_us,
                         struct query_counts *out);

/* SQLite's plan for query_readings(), one line per step ("SCAN
 * readings_archive VIRTUAL TABLE INDEX 37:channel= ts>= ts<", ...), into
 * buf. Returns 0 or -1. */
int query_readings_plan(struct query *q, char *buf, size_t size);

/* ---- what metrolog-web's live board follows (query.c) ---------------- */

/* Where the database stands, for a reader that follows it (docs/WEB.md,
 * "Live updates"): the newest rowid of readings_recent (readings are
 * appended there in commit order; from schema 15 the move never deletes
 * the newest row, so rowids go on; up to 14 they started again at 1 once
 * a move emptied the table, as they still do if retention empties it),
 * its oldest rowid (moved rows are deleted from the table's start some
 * commits after their move: past the newest a reader saw plus 1, rows it
 * did not read are gone), the newest events.id and calibrations.id; 0 for
 * an empty table. */
struct query_mark {
	int64_t recent, recent_first, event, calibration;
};

/* A read transaction on q: every statement between query_read_begin()
 * and query_read_end() sees the same commit. Return 0 or -1. */
int query_read_begin(struct query *q);
int query_read_end(struct query *q);

/* Where the database stands now into *m. Returns 0 or -1. */
int query_mark(struct query *q, struct query_mark *m);

/* query_instruments(NULL owner) and query_channels(NULL), without what
 * comes from the readings (last_reading_us 0, used_as_reference false;
 * last_us 0, last_value NAN, last_quality -1): for a reader that follows
 * the readings itself (query_recent_after), at a cost that does not grow
 * with readings_recent. Same order, same rules. */
int query_board_instruments(struct query *q, int64_t now_us,
                            int (*fn)(void *ctx,
                                      const struct query_instrument *),
                            void *ctx);
int query_board_channels(struct query *q,
                         int (*fn)(void *ctx, const struct query_channel *),
                         void *ctx);

/* The readings appended to readings_recent after rowid after (a
 * query_mark().recent), by rowid: what the commits since added, whether
 * a step of the move took them into the archive since or not (they stay
 * in readings_recent a while: docs/SCHEMA.md, recent_moved), as long as
 * the table was not emptied in between (then mark.recent went back).
 * One indexed range: its cost is the new rows', whatever the table
 * holds. */
int query_recent_after(struct query *q, int64_t after,
                       int (*fn)(void *ctx, const struct query_reading *),
                       void *ctx);

struct query_event {
	int64_t id, ts_us;
	char instrument[CALIB_ID];
	char channel[CALIB_TEXT]; /* "" for events of the whole instrument */
	char kind[16];            /* online, offline, tolerance, drift, ... */
	char detail[512];         /* a sentence, for people */
	/* a change of state (docs/SCHEMA.md, events): the states before and
	 * after, drift_state_word()s for tolerance events, calib_due_name()s
	 * for calibration events; "" both when the event is not one */
	char state_from[24], state_to[24];
};

/* The events of one instrument (NULL: all) with from_us <= ts < to_us, by
 * ts then id. */
int query_events(struct query *q, const char *instrument, int64_t from_us,
                 int64_t to_us,
                 int (*fn)(void *ctx, const struct query_event *), void *ctx);

/* ---- the accounts of metrolog-web (query_user.c) ----------------------- */

struct query_user {
	int64_t id;
	char name[72];      /* auth.h: at most AUTH_NAME_MAX (64) bytes */
	char role[16];      /* "technician", "manager", "enterprise" */
	char customer[72];  /* customers.name of an enterprise user; "" else */
	char password[128]; /* the Argon2id string (auth.h), never a password */
	bool disabled;
	int64_t created_us;
};

/* Every user, by name (disabled ones too). */
int query_users(struct query *q,
                int (*fn)(void *ctx, const struct query_user *), void *ctx);
/* One user by name: 0 found, 1 unknown, -1 error. */
int query_user(struct query *q, const char *name, struct query_user *out);

/* A number that changes whenever another connection has committed a
 * change to the file since the last call on q (PRAGMA data_version):
 * metrolog-web polls it to learn that metrologd committed, without
 * reading a table. Returns 0 or -1. */
int query_data_version(struct query *q, int64_t *version);

/* ---- calibration records (query_cal.c) ------------------------------- */

/* The records of one instrument (NULL: all), optionally only of
 * instruments whose owner is owner (NULL: any), in chain (id) order;
 * superseded records included (a record says what supersedes it through
 * the later record's supersedes field). */
int query_calibrations(struct query *q, const char *instrument,
                       const char *owner,
                       int (*fn)(void *ctx, const struct calib_record *),
                       void *ctx);
/* One record by id, or by certificate number (the latest record with that
 * number): 0 found, 1 unknown, -1 error. */
int query_calibration(struct query *q, int64_t id, struct calib_record *out);
int query_calibration_by_cert(struct query *q, const char *certificate,
                              struct calib_record *out);
/* The id of the record that supersedes id, 0 none, -1 error. */
int64_t query_superseded_by(struct query *q, int64_t id);
/* The logo (a PNG path) of the laboratory of the configuration metrologd
 * last loaded (table lab) when its name is lab (a record's lab): 1 with
 * the path, 0 none (another lab, or no logo configured), -1 error. */
int query_lab_logo(struct query *q, const char *lab, char *path, size_t size);
/* The lab's time zone (an IANA name) of the configuration metrologd last
 * loaded: 1 with the name, 0 none (no lab group, or no timezone: the
 * system's), -1 error. */
int query_lab_timezone(struct query *q, char *name, size_t size);
/* Take the lab's time zone stored in the database at path as this
 * process's (labtime_use_zone), unless TZ is set: TZ, then the lab's
 * setting, then the system's zone. Before any other thread (it sets TZ).
 * 1 taken (its name in name), 0 not (TZ set, none stored, or the database
 * cannot be read: whoever opens it next says why). */
int query_use_lab_zone(const char *path, char *name, size_t size);

/* The approval of record calibration_id (calib.h, approvals), with the
 * record's hash as stored now in record_hash: 0 found, 1 none (the
 * record is a draft), -1 error. */
int query_approval(struct query *q, int64_t calibration_id,
                   struct calib_approval *out);
/* The approval of id id (its place in the approvals' chain), with the
 * approved record's certificate into cert (size bytes; "" when the record
 * does not exist): 0 found, 1 none, -1 error. */
int query_approval_at(struct query *q, int64_t id, struct calib_approval *out,
                      char *cert, size_t size);

/* Check the whole audit chain: every record's hash against its content,
 * every prev_hash against the record before, ids 1..n without a gap, and
 * every point row belonging to a record; then, when the records check,
 * the approvals' chain the same way, each approval naming an existing
 * record whose hash is the one it was approved with. */
struct query_verify {
	int64_t records;       /* records checked */
	int64_t bad_id;        /* first bad record, 0 when all good */
	char head[CALIB_HASH]; /* hash of the last record (CALIB_GENESIS
	                          when none) */
	int64_t approvals;     /* approvals checked */
	int64_t bad_approval;  /* first bad approval, 0 when all good */
	char approvals_head[CALIB_HASH]; /* hash of the last approval */
	char message[512]; /* what is wrong with bad_id or bad_approval */
};
/* 0 chain intact, 1 a record or an approval altered/removed (out says
 * which: bad_id, else bad_approval), -1 error. */
int query_verify(struct query *q, struct query_verify *out);

#endif
