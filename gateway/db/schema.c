/*
 * schema.c - the database's schema: the migrations that build it step by
 * step, the check that a file is ours, and the migration of an older file
 * (schema.h). docs/SCHEMA.md describes the tables; tests/integration/
 * test_store.c migrates real files of versions 1 and 3.
 *
 * Threading: as store.c (the struct store's own thread).
 */
#include "schema.h"

#include <inttypes.h>
#include <stdio.h>

#include <sqlite3.h>

#include "store_int.h"

/*
 * Migrations: migrations[v] takes the schema from version v to v + 1, in
 * one transaction, after which PRAGMA user_version is v + 1. Append a step
 * to change the schema; never edit a released one. docs/SCHEMA.md
 * describes the result.
 */
static const char *const migrations[] = {
        /* 0 -> 1: instruments, channels, readings, events */
        "PRAGMA application_id = 1296846663;" /* SCHEMA_APPLICATION_ID */
        "CREATE TABLE instruments ("
        "  id          INTEGER PRIMARY KEY,"
        "  name        TEXT    NOT NULL UNIQUE,"
        "  model       TEXT    NOT NULL DEFAULT '',"
        "  serial      TEXT    NOT NULL DEFAULT '',"
        "  owner       TEXT    NOT NULL DEFAULT '',"
        "  location    TEXT    NOT NULL DEFAULT '',"
        "  active      INTEGER NOT NULL DEFAULT 1,"
        "  first_seen  INTEGER NOT NULL,"
        "  last_config INTEGER NOT NULL);"
        "CREATE TABLE channels ("
        "  id            INTEGER PRIMARY KEY,"
        "  instrument_id INTEGER NOT NULL REFERENCES instruments(id),"
        "  name          TEXT    NOT NULL,"
        "  unit          TEXT    NOT NULL DEFAULT '',"
        "  reg_table     TEXT    NOT NULL,"
        "  address       INTEGER NOT NULL,"
        "  type          TEXT    NOT NULL,"
        "  scale         REAL    NOT NULL DEFAULT 1,"
        "  value_offset  REAL    NOT NULL DEFAULT 0,"
        "  active        INTEGER NOT NULL DEFAULT 1,"
        "  first_seen    INTEGER NOT NULL,"
        "  last_config   INTEGER NOT NULL,"
        "  UNIQUE (instrument_id, name));"
        "CREATE TABLE qualities ("
        "  code INTEGER PRIMARY KEY,"
        "  name TEXT    NOT NULL UNIQUE);"
        "INSERT INTO qualities VALUES (0, 'good'), (1, 'timeout'),"
        "  (2, 'exception'), (3, 'crc'), (4, 'connect'), (5, 'reply'),"
        "  (6, 'invalid'), (7, 'other');"
        "CREATE TABLE readings_recent ("
        "  channel INTEGER NOT NULL,"
        "  ts      INTEGER NOT NULL,"
        "  value   REAL,"
        "  quality INTEGER NOT NULL);"
        "CREATE TABLE readings_archive ("
        "  channel INTEGER NOT NULL,"
        "  ts      INTEGER NOT NULL,"
        "  value   REAL,"
        "  quality INTEGER NOT NULL,"
        "  PRIMARY KEY (channel, ts)) WITHOUT ROWID;"
        "CREATE VIEW readings AS"
        "  SELECT channel, ts, value, quality FROM readings_archive"
        "  UNION ALL"
        "  SELECT channel, ts, value, quality FROM readings_recent;"
        "CREATE TABLE events ("
        "  id            INTEGER PRIMARY KEY,"
        "  ts            INTEGER NOT NULL,"
        "  instrument_id INTEGER NOT NULL REFERENCES instruments(id),"
        "  channel_id    INTEGER REFERENCES channels(id),"
        "  kind          TEXT    NOT NULL,"
        "  detail        TEXT);"
        "CREATE INDEX events_instrument_ts ON events (instrument_id, ts);",
        /* 1 -> 2: the MQTT outbox. AUTOINCREMENT: a seq is never used
         * twice, even once every row was acknowledged and deleted. */
        "CREATE TABLE outbox ("
        "  seq     INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  ts      INTEGER NOT NULL,"
        "  topic   TEXT    NOT NULL,"
        "  payload BLOB    NOT NULL,"
        "  qos     INTEGER NOT NULL,"
        "  retain  INTEGER NOT NULL);",
        /* 2 -> 3: reference standards, calibration intervals and the
         * append-only, hash-chained calibration records (calib.h) */
        "ALTER TABLE instruments ADD COLUMN kind TEXT NOT NULL"
        "  DEFAULT 'instrument';"
        "ALTER TABLE instruments ADD COLUMN interval_days INTEGER NOT NULL"
        "  DEFAULT 0;"
        "ALTER TABLE instruments ADD COLUMN due_soon_days INTEGER NOT NULL"
        "  DEFAULT 30;"
        "ALTER TABLE channels ADD COLUMN reference_channel INTEGER"
        "  REFERENCES channels(id);"
        "ALTER TABLE channels ADD COLUMN reference REAL;"
        "ALTER TABLE channels ADD COLUMN lower REAL;"
        "ALTER TABLE channels ADD COLUMN upper REAL;"
        "ALTER TABLE channels ADD COLUMN guard REAL;"
        "ALTER TABLE channels ADD COLUMN U REAL;"
        "ALTER TABLE channels ADD COLUMN k REAL;"
        "CREATE TABLE calibrations ("
        "  id               INTEGER PRIMARY KEY,"
        "  instrument_id    INTEGER NOT NULL REFERENCES instruments(id),"
        "  certificate      TEXT    NOT NULL,"
        "  supersedes       INTEGER REFERENCES calibrations(id),"
        "  performed        INTEGER NOT NULL,"
        "  issued           INTEGER NOT NULL,"
        "  interval_days    INTEGER NOT NULL,"
        "  due              INTEGER NOT NULL,"
        "  standard_id      INTEGER REFERENCES instruments(id),"
        "  standard_cert    TEXT    NOT NULL,"
        "  standard_due     INTEGER NOT NULL,"
        "  standard_overdue INTEGER NOT NULL,"
        "  lab              TEXT    NOT NULL,"
        "  customer         TEXT    NOT NULL,"
        "  method           TEXT    NOT NULL,"
        "  conditions       TEXT    NOT NULL,"
        "  technician       TEXT    NOT NULL,"
        "  authorised       TEXT    NOT NULL,"
        "  remarks          TEXT    NOT NULL,"
        "  rule             TEXT    NOT NULL,"
        "  guard_factor     REAL    NOT NULL,"
        "  result_found     TEXT,"
        "  result_left      TEXT,"
        "  prev_hash        TEXT    NOT NULL,"
        "  hash             TEXT    NOT NULL UNIQUE);"
        "CREATE INDEX calibrations_instrument"
        "  ON calibrations (instrument_id, performed);"
        "CREATE INDEX calibrations_certificate ON calibrations (certificate);"
        "CREATE TABLE calibration_points ("
        "  calibration_id INTEGER NOT NULL REFERENCES calibrations(id),"
        "  n              INTEGER NOT NULL,"
        "  quantity       TEXT    NOT NULL,"
        "  unit           TEXT    NOT NULL,"
        "  reference      REAL    NOT NULL,"
        "  as_found       REAL,"
        "  as_left        REAL,"
        "  lower          REAL    NOT NULL,"
        "  upper          REAL    NOT NULL,"
        "  U              REAL    NOT NULL,"
        "  k              REAL    NOT NULL,"
        "  found_result   TEXT,"
        "  left_result    TEXT,"
        "  PRIMARY KEY (calibration_id, n)) WITHOUT ROWID;"
        "CREATE TRIGGER calibrations_no_update BEFORE UPDATE ON calibrations"
        "  BEGIN SELECT RAISE(ABORT, 'calibration records are append-only:"
        " record a correction that supersedes it'); END;"
        "CREATE TRIGGER calibrations_no_delete BEFORE DELETE ON calibrations"
        "  BEGIN SELECT RAISE(ABORT, 'calibration records are append-only:"
        " record a correction that supersedes it'); END;"
        "CREATE TRIGGER calibration_points_no_update BEFORE UPDATE ON"
        "  calibration_points BEGIN SELECT RAISE(ABORT, 'calibration records"
        " are append-only'); END;"
        "CREATE TRIGGER calibration_points_no_delete BEFORE DELETE ON"
        "  calibration_points BEGIN SELECT RAISE(ABORT, 'calibration records"
        " are append-only'); END;",
        /* 3 -> 4: the states of an event as columns (before, they were
         * only in the detail sentence): NULL both when the event is not a
         * change of state. The rows written before are filled in once
         * from their detail, "<from> -> <to>: ..." - the only place a
         * detail is ever parsed; a word that is not a state of the
         * event's kind (the words of version 4) leaves both NULL. */
        "ALTER TABLE events ADD COLUMN state_from TEXT;"
        "ALTER TABLE events ADD COLUMN state_to TEXT;"
        "UPDATE events SET"
        "  state_from = substr(detail, 1, instr(detail, ' -> ') - 1),"
        "  state_to = substr(detail, instr(detail, ' -> ') + 4,"
        "    instr(detail, ': ') - instr(detail, ' -> ') - 4)"
        "  WHERE kind IN ('tolerance', 'calibration')"
        "  AND instr(detail, ' -> ') > 0"
        "  AND instr(detail, ': ') > instr(detail, ' -> ');"
        "UPDATE events SET state_from = NULL, state_to = NULL"
        "  WHERE state_from IS NOT NULL AND NOT ("
        "   (kind = 'tolerance'"
        "    AND state_from IN ('no_data', 'in_tolerance', 'warning',"
        "     'out_of_tolerance')"
        "    AND state_to IN ('no_data', 'in_tolerance', 'warning',"
        "     'out_of_tolerance'))"
        "   OR (kind = 'calibration'"
        "    AND state_from IN ('none', 'ok', 'due_soon', 'overdue')"
        "    AND state_to IN ('none', 'ok', 'due_soon', 'overdue')));",
        /* 4 -> 5: which rules decided a record (calib.h, rule versions)
         * and, from version 2, its statement policy. The records written
         * before are version 1, their policy NULL: none was applied. */
        "ALTER TABLE calibrations ADD COLUMN rule_version INTEGER NOT NULL"
        "  DEFAULT 1;"
        "ALTER TABLE calibrations ADD COLUMN min_tur REAL;"
        "ALTER TABLE calibrations ADD COLUMN max_risk REAL;",
        /* 5 -> 6: approvals of records by a person other than the
         * technician (calib.h, approvals): append-only, one per record,
         * hash-chained among themselves. The records written before
         * have none: their certificates are drafts until approved. */
        "CREATE TABLE approvals ("
        "  id             INTEGER PRIMARY KEY,"
        "  calibration_id INTEGER NOT NULL UNIQUE"
        "    REFERENCES calibrations(id),"
        "  approved       INTEGER NOT NULL,"
        "  approver       TEXT    NOT NULL,"
        "  role           TEXT    NOT NULL,"
        "  prev_hash      TEXT    NOT NULL,"
        "  hash           TEXT    NOT NULL UNIQUE);"
        "CREATE TRIGGER approvals_no_update BEFORE UPDATE ON approvals"
        "  BEGIN SELECT RAISE(ABORT, 'approvals are append-only'); END;"
        "CREATE TRIGGER approvals_no_delete BEFORE DELETE ON approvals"
        "  BEGIN SELECT RAISE(ABORT, 'approvals are append-only'); END;",
        /* 6 -> 7: the laboratory and its customers, as metrologd's
         * configuration names them, and the certificate's fields of a
         * record of rule version 3 (calib.h); '' and 0 in older ones */
        "CREATE TABLE lab ("
        "  id            INTEGER PRIMARY KEY CHECK (id = 1),"
        "  name          TEXT    NOT NULL,"
        "  address       TEXT    NOT NULL,"
        "  accreditation TEXT    NOT NULL,"
        "  location      TEXT    NOT NULL,"
        "  logo          TEXT    NOT NULL,"
        "  last_config   INTEGER NOT NULL);"
        "CREATE TABLE customers ("
        "  id          INTEGER PRIMARY KEY,"
        "  name        TEXT    NOT NULL UNIQUE,"
        "  legal_name  TEXT    NOT NULL,"
        "  address     TEXT    NOT NULL,"
        "  contact     TEXT    NOT NULL,"
        "  active      INTEGER NOT NULL DEFAULT 1,"
        "  last_config INTEGER NOT NULL);"
        "ALTER TABLE calibrations ADD COLUMN lab_address TEXT NOT NULL"
        "  DEFAULT '';"
        "ALTER TABLE calibrations ADD COLUMN lab_accreditation TEXT NOT NULL"
        "  DEFAULT '';"
        "ALTER TABLE calibrations ADD COLUMN customer_address TEXT NOT NULL"
        "  DEFAULT '';"
        "ALTER TABLE calibrations ADD COLUMN customer_contact TEXT NOT NULL"
        "  DEFAULT '';"
        "ALTER TABLE calibrations ADD COLUMN location TEXT NOT NULL"
        "  DEFAULT '';"
        "ALTER TABLE calibrations ADD COLUMN item_condition TEXT NOT NULL"
        "  DEFAULT '';"
        "ALTER TABLE calibrations ADD COLUMN received INTEGER NOT NULL"
        "  DEFAULT 0;"
        "ALTER TABLE calibrations ADD COLUMN specification TEXT NOT NULL"
        "  DEFAULT '';"
        "ALTER TABLE calibrations ADD COLUMN deviations TEXT NOT NULL"
        "  DEFAULT '';"
        "ALTER TABLE calibrations ADD COLUMN standard_reason TEXT NOT NULL"
        "  DEFAULT '';"
        "ALTER TABLE calibrations ADD COLUMN amendment TEXT NOT NULL"
        "  DEFAULT '';",
        /* 7 -> 8: the lab's time zone (an IANA name; '': the system's) */
        "ALTER TABLE lab ADD COLUMN timezone TEXT NOT NULL DEFAULT '';",
        /* 8 -> 9: the accounts of metrolog-web (`metrolog user`): a
         * password is only ever stored as its Argon2id string (auth.h);
         * an enterprise user names the customer whose instruments it
         * sees, the lab's people none. Never deleted: disabled. */
        "CREATE TABLE users ("
        "  id       INTEGER PRIMARY KEY,"
        "  name     TEXT    NOT NULL UNIQUE,"
        "  role     TEXT    NOT NULL"
        "    CHECK (role IN ('technician', 'manager', 'enterprise')),"
        "  customer TEXT    REFERENCES customers(name),"
        "  password TEXT    NOT NULL,"
        "  disabled INTEGER NOT NULL DEFAULT 0,"
        "  created  INTEGER NOT NULL,"
        "  CHECK ((role = 'enterprise') = (customer IS NOT NULL)));"
        "CREATE TRIGGER users_no_delete BEFORE DELETE ON users"
        "  BEGIN SELECT RAISE(ABORT, 'users are never deleted: disable"
        " them'); END;",
        /* 9 -> 10: the archive in compressed blocks of up to 1024
         * readings of one channel (archive.h, gorilla.h), read back row by
         * row by the virtual table readings_archive (archive.c), which
         * takes the dropped table's name: the view readings, unchanged,
         * then reads it. The rows archived before are encoded here by
         * archive_encode() (archive.c), 1024 at a time in time order per
         * channel. Needs archive_auto() (store_open() calls it). A rowid
         * table, not WITHOUT ROWID: a block of 1024 readings (4-5 KB)
         * overflows a page, and the index B-tree of a WITHOUT ROWID
         * table keeps only 489-1002 bytes of a row in its page, the rest
         * in an overflow page of its own, mostly empty; a rowid table
         * fills its overflow pages (tools/bench/bench-archive). */
        "CREATE TABLE archive_blocks ("
        "  id       INTEGER PRIMARY KEY,"
        "  channel  INTEGER NOT NULL,"
        "  ts_first INTEGER NOT NULL,"
        "  ts_last  INTEGER NOT NULL,"
        "  n        INTEGER NOT NULL,"
        "  data     BLOB    NOT NULL);"
        "CREATE UNIQUE INDEX archive_blocks_key"
        "  ON archive_blocks (channel, ts_first);"
        "INSERT INTO archive_blocks (channel, ts_first, ts_last, n, data)"
        "  SELECT channel, min(ts), max(ts), count(*),"
        "    archive_encode(ts, value, quality)"
        "  FROM (SELECT channel, ts, value, quality,"
        "    (row_number() OVER (PARTITION BY channel ORDER BY ts) - 1)"
        "      / 1024 AS block"
        "    FROM readings_archive)"
        "  GROUP BY channel, block;"
        "DROP TABLE readings_archive;",
        /* 10 -> 11: how far metrologd has put the calibration records
         * and the approvals into the outbox (docs/MQTT.md,
         * calibrations): set in the transaction that writes their
         * outbox rows, so a restart neither skips nor repeats one. 0:
         * none yet, so a database with records publishes them all
         * once. */
        "CREATE TABLE published ("
        "  chain TEXT    PRIMARY KEY"
        "    CHECK (chain IN ('calibrations', 'approvals')),"
        "  upto  INTEGER NOT NULL);"
        "INSERT INTO published VALUES ('calibrations', 0), ('approvals', 0);",
        /* 11 -> 12: what each outbox seq carried, for replays
         * (docs/MQTT.md, Replay), written by a trigger in the
         * transaction of its outbox row, so that it outlives the row
         * (deleted once acknowledged). A readings message is kept as its
         * instrument and ts (replayed from readings, and gone with them:
         * store_retention()); any other (events, statuses, calibration
         * records: few) as its topic and payload. */
        "CREATE TABLE seqs ("
        "  seq        INTEGER PRIMARY KEY,"
        "  ts         INTEGER NOT NULL,"
        "  instrument INTEGER," /* readings: instruments.id */
        "  topic      TEXT,"    /* otherwise: as composed */
        "  payload    BLOB);"
        "CREATE TRIGGER outbox_seqs AFTER INSERT ON outbox BEGIN"
        "  INSERT OR REPLACE INTO seqs (seq, ts, instrument)"
        "    SELECT NEW.seq, NEW.ts, i.id FROM instruments i"
        "    WHERE NEW.topic GLOB '*/' || i.name || '/readings';"
        "  INSERT OR REPLACE INTO seqs (seq, ts, topic, payload)"
        "    SELECT NEW.seq, NEW.ts, NEW.topic, NEW.payload"
        "    WHERE NEW.topic NOT GLOB '*/readings';"
        "END;",
        /* 12 -> 13: a readings message's outbox row without its payload
         * (docs/SCHEMA.md, outbox): channels holds the channels.id of its
         * readings, 4 bytes little-endian each, in the payload's order,
         * and payload is empty; the publisher builds the payload from the
         * readings when it sends the row. NULL: payload is the message
         * (events, statuses, calibration records, and every row written
         * before). The store now writes seqs itself with each outbox row
         * (a readings message's instrument from its first channel): the
         * trigger of 12 found it by the topic, a scan of instruments per
         * row. */
        "ALTER TABLE outbox ADD COLUMN channels BLOB;"
        "DROP TRIGGER outbox_seqs;",
        /* 13 -> 14: a record's customer id (the customer's tax code or
         * registration number, as the lab records it) and the item's
         * model as configured when the record was written; '' in older
         * records, and in the hash only when not '' (calib.h) */
        "ALTER TABLE calibrations ADD COLUMN customer_id TEXT NOT NULL"
        "  DEFAULT '';"
        "ALTER TABLE calibrations ADD COLUMN model TEXT NOT NULL"
        "  DEFAULT '';",
        /* 14 -> 15: the move in turns (archive_store.c): which rows of
         * readings_recent are already in the archive (SCHEMA_RECENT_LIVE,
         * docs/SCHEMA.md, recent_moved), so that a commit moves a range
         * of channels and the moved rows are deleted later, from the
         * table's start; the view skips them. One row; 0, 0, 0: none. */
        "CREATE TABLE recent_moved ("
        "  id           INTEGER PRIMARY KEY CHECK (id = 1),"
        "  upto         INTEGER NOT NULL,"
        "  turn_upto    INTEGER NOT NULL,"
        "  turn_channel INTEGER NOT NULL,"
        "  CHECK (turn_upto >= upto));"
        "INSERT INTO recent_moved VALUES (1, 0, 0, 0);"
        "DROP VIEW readings;"
        "CREATE VIEW readings AS"
        "  SELECT channel, ts, value, quality FROM readings_archive"
        "  UNION ALL"
        "  SELECT channel, ts, value, quality FROM readings_recent"
        "  WHERE " SCHEMA_RECENT_LIVE("rowid", "channel") ";",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

int schema_version(void)
{
	return SCHEMA_VERSION;
}

/* Run sql, recording a failure as "migration: ...". */
static int exec(struct store *st, const char *sql)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK) {
		st_sqlite_error(st, rc, "migration");
		return -1;
	}
	return 0;
}

static void refuse_newer(struct store *st, int64_t version)
{
	st_error(st, STORE_OTHER,
	         "schema version %" PRId64 " is newer than this program "
	         "knows (%d): use a newer metrolog",
	         version, SCHEMA_VERSION);
}

int schema_check(struct store *st, int64_t *version)
{
	int64_t app, tables;

	/* The first statement that reads the file: a file that is not
	 * SQLite fails here with SQLITE_NOTADB. */
	if (st_pragma_int(st, "PRAGMA application_id", &app) < 0 ||
	    st_pragma_int(st, "PRAGMA user_version", version) < 0 ||
	    st_pragma_int(st, "SELECT count(*) FROM sqlite_schema", &tables) <
	            0) {
		if (st->error == STORE_CORRUPT)
			st_error(st, STORE_CORRUPT,
			         "not a SQLite database, or damaged (%s)",
			         sqlite3_errmsg(st->db));
		return -1;
	}
	if (app != 0 && app != SCHEMA_APPLICATION_ID) {
		st_error(st, STORE_CORRUPT,
		         "not a metrolog database (application_id %#" PRIx64
		         ")",
		         app);
		return -1;
	}
	if (app == 0 && tables > 0) {
		st_error(st, STORE_CORRUPT,
		         "not a metrolog database (it has tables, but no "
		         "metrolog application_id)");
		return -1;
	}
	if (*version > SCHEMA_VERSION) {
		refuse_newer(st, *version);
		return -1;
	}
	return 0;
}

int schema_migrate(struct store *st, int64_t from)
{
	char sql[64];
	int64_t v;

	for (v = from; v < SCHEMA_VERSION; v++) {
		int64_t now;
		if (exec(st, "BEGIN IMMEDIATE") < 0)
			return -1;
		if (st_pragma_int(st, "PRAGMA user_version", &now) < 0)
			goto fail;
		if (now > SCHEMA_VERSION) {
			refuse_newer(st, now);
			goto fail;
		}
		if (now > v) { /* another process did this step */
			v = now - 1;
			if (exec(st, "COMMIT") < 0)
				goto fail;
			continue;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %" PRId64,
		         v + 1);
		if (sqlite3_exec(st->db, migrations[v], NULL, NULL, NULL) !=
		            SQLITE_OK ||
		    sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) !=
		            SQLITE_OK) {
			snprintf(sql, sizeof(sql),
			         "migration to schema version %" PRId64, v + 1);
			st_sqlite_error(st, sqlite3_errcode(st->db), sql);
			goto fail;
		}
	}
	return 0;
fail:
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}
