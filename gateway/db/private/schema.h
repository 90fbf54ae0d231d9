/*
 * schema.h - the database's schema, in one place: the file's identity
 * (application id), the schema version and the migrations that reach it
 * (schema.c), and the SQL of the rules every reader and writer of the
 * database must state the same way (SCHEMA_CAL_IN_FORCE). docs/SCHEMA.md
 * describes the result.
 *
 * Private to the db library: store.c opens and migrates with it, query.c
 * checks a file's identity and version with it, store_cal.c and query.c
 * build their statements with its fragments.
 *
 * Threading: schema_check() and schema_migrate() run on the thread that
 * owns the struct store, as every store function does.
 */
#ifndef METROLOG_SCHEMA_H
#define METROLOG_SCHEMA_H

#include <stdint.h>

/* PRAGMA application_id of every metrolog database: "MLOG". */
#define SCHEMA_APPLICATION_ID 0x4d4c4f47

/* The schema version this program writes and reads (PRAGMA user_version
 * once schema_migrate() has run; the number of migration steps). */
int schema_version(void);

struct store;

/* Refuse (-1, error recorded in st) a file that is not SQLite, is someone
 * else's database (another application id, or tables but no metrolog
 * application id), or has a schema newer than schema_version(); else 0
 * with its user_version in *version (0 for a new, empty file). Writes
 * nothing. */
int schema_check(struct store *st, int64_t *version);

/* Take the file from schema version from to schema_version(), one
 * transaction per step (data kept). Another process may be migrating the
 * same file: each step reads the version again under the write lock and
 * skips what is done. Returns 0, or -1 with the error recorded in st and
 * the failed step rolled back. */
int schema_migrate(struct store *st, int64_t from);

/*
 * The calibration in force for an instrument at a time, the one rule
 * everything that asks uses (metrologd's due states and drift restarts,
 * the tool's listings and certificates, the snapshot of a standard in a
 * new record): among the instrument's records performed at or before the
 * time and not superseded by another record, the latest by performed,
 * ties to the highest id. A record dated after the time is not in force
 * yet, whenever it was entered.
 *
 * A parenthesised scalar subquery giving that record's calibrations.id,
 * NULL when none: inst and at are SQL expressions given as string
 * literals (a column such as "i.id", or a parameter such as "?2"); inside,
 * the calibrations tables are named cal_f and cal_s, so the expressions
 * may name any other alias of the outer statement. E.g.
 *   "LEFT JOIN calibrations f ON f.id = " SCHEMA_CAL_IN_FORCE("i.id", "?3")
 * Uses the index calibrations_instrument (instrument_id, performed).
 */
#define SCHEMA_CAL_IN_FORCE(inst, at)                                          \
	"(SELECT cal_f.id FROM calibrations cal_f"                             \
	" WHERE cal_f.instrument_id = (" inst ")"                              \
	" AND cal_f.performed <= (" at ")"                                     \
	" AND NOT EXISTS (SELECT 1 FROM calibrations cal_s"                    \
	"  WHERE cal_s.supersedes = cal_f.id)"                                 \
	" ORDER BY cal_f.performed DESC, cal_f.id DESC LIMIT 1)"

/*
 * The rows of readings_recent that are not in the archive yet (schema 15,
 * docs/SCHEMA.md, "recent_moved"): the store moves readings_recent into
 * archive_blocks in turns, a range of channels per commit, and deletes
 * the moved rows later, from the table's start (archive_store.c). The
 * one row of recent_moved says which rows are moved: those with rowid <=
 * upto, and, during a turn, those with rowid <= turn_upto of a channel <
 * turn_channel. A condition on a row of readings_recent (rowid and
 * channel: SQL expressions as string literals) true when the row is not
 * moved; the rowid bound is a range of the table's key. The readings view
 * and every reader of readings_recent beside the archive use it.
 */
#define SCHEMA_RECENT_LIVE(rowid, channel)                                     \
	"(" rowid " > (SELECT upto FROM recent_moved) AND (" rowid             \
	" > (SELECT turn_upto FROM recent_moved) OR " channel                  \
	" >= (SELECT turn_channel FROM recent_moved)))"

#endif
