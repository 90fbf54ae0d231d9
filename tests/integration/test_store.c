/*
 * test_store.c - the SQLite store on real files in a temporary directory.
 *
 * What the store writes is read back with plain SQL on a connection of the
 * test's own (the way an auditor or the metrolog tool sees the file), and
 * every test ends with PRAGMA integrity_check. Faults are real: another
 * connection holds the write lock (STORE_BUSY), a page cap fills the
 * "disk" (STORE_FULL), a text file or someone else's database is opened
 * (STORE_CORRUPT); each time nothing of the batch is written, and the same
 * batch succeeds on the same struct store once the fault is gone. A
 * database in a directory its user may not write is refused with the real
 * reason (EACCES).
 *
 * Configurations are filled by hand: the store only reads the layout of
 * struct config, so these tests do not depend on the config parser.
 *
 * Threading: one thread (a child process opens files as another user).
 */
#define _DEFAULT_SOURCE /* setgroups() */
#include <grp.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "caltest.h"
#include "compose.h"
#include "harness.h"
#include "msg.h"
#include "query.h"
#include "sqltest.h"
#include "store.h"

#define T0            1700000000000000LL /* 2023-11-14 22:13:20 UTC, in us */
#define SEC           1000000LL
#define NO_CAP        1073741823L /* SQLite's default max_page_count */
#define SCHEMA_LATEST 15          /* PRAGMA user_version this code writes */
#define V3_T0         1767225600000000LL /* tests/fixtures/schema-v3.sql */

/* ---- configurations filled by hand -------------------------------------- */

struct tinst {
	const char *id;
	const char *channels[4]; /* NULL-terminated */
};

/* A config of the instruments in t (NULL id ends the list); channel
 * indexes in order. Free with free_config(). */
static struct config *make_config(const struct tinst *t)
{
	struct config *c = calloc(1, sizeof(*c));
	int n = 0;

	assert_non_null(c);
	while (t[n].id != NULL)
		n++;
	c->instruments = calloc(n, sizeof(*c->instruments));
	assert_non_null(c->instruments);
	c->ninstruments = n;
	for (int i = 0; i < n; i++) {
		struct cfg_instrument *in = &c->instruments[i];
		int m = 0;
		while (m < 4 && t[i].channels[m] != NULL)
			m++;
		in->id = (char *)t[i].id;
		in->model = "M-100";
		in->serial = "SN-1";
		in->owner = "lab";
		in->location = "room 1";
		in->interval_ms = 1000;
		in->channels = calloc(m ? m : 1, sizeof(*in->channels));
		assert_non_null(in->channels);
		in->nchannels = m;
		for (int j = 0; j < m; j++) {
			struct cfg_channel *ch = &in->channels[j];
			ch->name = (char *)t[i].channels[j];
			ch->unit = "degC";
			ch->table = BUS_HOLDING_REGISTERS;
			ch->address = (uint16_t)(j * 2);
			decode_spec_init(&ch->spec, DECODE_FLOAT32);
			ch->spec.scale = 0.5;
			ch->index = (uint32_t)c->nchannels++;
		}
	}
	return c;
}

static void free_config(struct config *c)
{
	for (int i = 0; i < c->ninstruments; i++)
		free(c->instruments[i].channels);
	free(c->instruments);
	free(c);
}

static const struct tinst two[] = {
        {"dmm-1", {"volt", "curr", "temp", NULL}},
        {"tc-7", {"t1", "t2", NULL}},
        {NULL, {NULL}},
};

/* ---- reading the file with plain SQL ------------------------------------ */

/* The integer in the first column of the first row of sql, or -1 if
 * there is no row (NULL reads as 0). */
static int64_t sql_int(const char *path, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static int64_t sql_int(const char *path, const char *fmt, ...)
{
	char sql[512];
	va_list ap;
	sqlite3 *db = sql_open(path, true);
	long long v = -1;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	if (sql_first_int(db, sql, &v) < 0)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
	return v;
}

static int64_t readings_count(const char *path)
{
	return sql_int(path, "SELECT count(*) FROM readings");
}

/* The readings of readings_recent not moved into the archive yet (the
 * moved ones stay a while, skipped by the view: docs/SCHEMA.md,
 * recent_moved). */
static int64_t recent_live(const char *path)
{
	return sql_int(path, "SELECT (SELECT count(*) FROM readings) -"
	                     " (SELECT count(*) FROM readings_archive)");
}

/* The row id of instrument.channel, or -1. */
static int64_t channel_id(const char *path, const char *inst, const char *ch)
{
	return sql_int(path,
	               "SELECT c.id FROM channels c JOIN instruments i"
	               " ON i.id = c.instrument_id"
	               " WHERE i.name = '%s' AND c.name = '%s'",
	               inst, ch);
}

/* ---- helpers ------------------------------------------------------------ */

static char *db_path(char *buf)
{
	return h_path(buf, h_tmpdir(), "metrolog.db");
}

static struct store *open_ok(const char *path)
{
	char err[512];
	struct store *st = store_open(path, err, sizeof(err));

	if (st == NULL)
		fail_msg("store_open: %s", err);
	return st;
}

static void sync_ok(struct store *st, const struct tinst *t)
{
	struct config *c = make_config(t);

	if (store_sync_config(st, c) < 0)
		fail_msg("store_sync_config: %s", store_last_message(st));
	free_config(c);
}

/* A store on a new file (its path into path), configured with two. */
static struct store *open_two(char *path)
{
	struct store *st = open_ok(db_path(path));

	sync_ok(st, two);
	return st;
}

static struct sample reading(uint32_t index, int64_t ts, double v,
                             enum quality q)
{
	return (struct sample){.ts_us = ts,
	                       .index = index,
	                       .kind = SAMPLE_READING,
	                       .quality = (uint8_t)q,
	                       .value = q == QUALITY_GOOD ? v : 0};
}

static void append_ok(struct store *st, const struct sample *s, size_t n)
{
	if (store_append(st, s, n) < 0)
		fail_msg("store_append: %s", store_last_message(st));
}

/* With messages and composed events (metrologd's way: compose.h). */
static void compose_ok(struct composer *cp, struct store *st,
                       const struct sample *s, size_t n)
{
	if (composer_write(cp, st, s, n) < 0)
		fail_msg("composer_write: %s", composer_error(cp, st));
}

/* n readings round-robin over nch channels, one second per round. */
static struct sample *make_readings(size_t n, uint32_t nch, int64_t t0)
{
	struct sample *s = calloc(n, sizeof(*s));

	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		s[i] = reading((uint32_t)(i % nch),
		               t0 + (int64_t)(i / nch) * SEC +
		                       (int64_t)(i % nch),
		               (double)i * 0.25, QUALITY_GOOD);
	return s;
}

/* ---- tests -------------------------------------------------------------- */

static void test_quality_names(void **state)
{
	char path[H_PATH_MAX];
	struct store *st;

	(void)state;
	assert_string_equal(quality_name(QUALITY_GOOD), "good");
	assert_string_equal(quality_name(QUALITY_EXCEPTION), "exception");
	assert_string_equal(quality_name((enum quality)200), "unknown");
	/* the qualities table says the same as quality_name() */
	st = open_ok(db_path(path));
	store_close(st);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM qualities"), 8);
	for (int q = QUALITY_GOOD; q <= QUALITY_OTHER; q++)
		assert_int_equal(sql_int(path,
		                         "SELECT count(*) FROM qualities"
		                         " WHERE code = %d AND name = '%s'",
		                         q, quality_name((enum quality)q)),
		                 1);
}

static void test_open_reopen(void **state)
{
	char path[H_PATH_MAX];
	struct store *st;
	struct sample s[2] = {reading(0, T0, 1.5, QUALITY_GOOD),
	                      reading(4, T0 + 1, 2.5, QUALITY_GOOD)};
	int64_t volt, t2;
	char hdr[100];

	(void)state;
	st = open_two(path);
	append_ok(st, s, 2);
	store_close(st);
	assert_int_equal(sql_int(path, "PRAGMA user_version"), SCHEMA_LATEST);
	assert_int_equal(sql_int(path, "PRAGMA application_id"), 0x4d4c4f47);
	/* WAL is in the file header: bytes 18 and 19 are 2 */
	assert_true(h_read_file(path, hdr, sizeof(hdr)) == sizeof(hdr) - 1);
	assert_int_equal(hdr[18], 2);
	assert_int_equal(hdr[19], 2);
	volt = channel_id(path, "dmm-1", "volt");
	t2 = channel_id(path, "tc-7", "t2");
	assert_true(volt > 0 && t2 > 0 && volt != t2);

	/* reopen: the data is there, ids stay, and appends go on */
	st = open_ok(path);
	sync_ok(st, two);
	append_ok(st, s, 2);
	store_close(st);
	assert_int_equal(channel_id(path, "dmm-1", "volt"), volt);
	assert_int_equal(channel_id(path, "tc-7", "t2"), t2);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM instruments"), 2);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM channels"), 5);
	assert_int_equal(readings_count(path), 4);
	assert_int_equal(sql_int(path,
	                         "SELECT count(*) FROM readings"
	                         " WHERE channel = %lld",
	                         (long long)t2),
	                 2);
	db_assert_integrity(path);
}

static void test_newer_schema_refused(void **state)
{
	char path[H_PATH_MAX], err[512];
	enum store_error kind = STORE_OK;

	(void)state;
	store_close(open_ok(db_path(path)));
	db_exec(path, "PRAGMA user_version = 99");
	assert_null(store_open_ex(path, &kind, err, sizeof(err)));
	assert_int_equal(kind, STORE_OTHER);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "newer"));
	assert_int_equal(sql_int(path, "PRAGMA user_version"), 99);
	db_assert_integrity(path);
}

static void test_not_a_database(void **state)
{
	char path[H_PATH_MAX], other[H_PATH_MAX], err[512], text[4096];
	enum store_error kind = STORE_OK;
	FILE *f;

	(void)state;
	/* a text file (bigger than a SQLite header) */
	h_path(path, h_tmpdir(), "notes.txt");
	memset(text, 'x', sizeof(text));
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, sizeof(text), f), sizeof(text));
	fclose(f);
	assert_null(store_open_ex(path, &kind, err, sizeof(err)));
	assert_int_equal(kind, STORE_CORRUPT);
	assert_non_null(strstr(err, path));
	assert_int_equal(h_read_file(path, text, sizeof(text)), 4095);

	/* someone else's SQLite database is left alone too */
	h_path(other, h_tmpdir(), "other.db");
	db_exec(other, "CREATE TABLE notes(x)");
	assert_null(store_open_ex(other, &kind, err, sizeof(err)));
	assert_int_equal(kind, STORE_CORRUPT);
	assert_non_null(strstr(err, other));
	assert_int_equal(sql_int(other, "PRAGMA user_version"), 0);

	/* a directory that does not exist */
	h_path(other, h_tmpdir(), "no/such/dir.db");
	assert_null(store_open_ex(other, &kind, err, sizeof(err)));
	assert_non_null(strstr(err, other));
	assert_non_null(strstr(err, "No such file or directory"));
}

/* ---- the reason of a refused open --------------------------------------- */

#define OTHER_UID 65534 /* nobody: the user a root test opens files as */

/* The message of opening path: with store_open_ex() (write) or
 * query_open(), as a user the permissions apply to: this process, or, as
 * root (whom they do not stop), a child running as OTHER_UID. "" when the
 * open succeeded. */
static void open_message(const char *path, bool rw, char *msg, size_t size)
{
	char err[512] = "";
	int fds[2];
	pid_t pid;

	if (geteuid() != 0) {
		struct store *st =
		        rw ? store_open(path, err, sizeof(err)) : NULL;
		struct query *q =
		        rw ? NULL : query_open(path, err, sizeof(err));
		if (st != NULL || q != NULL)
			err[0] = '\0';
		store_close(st);
		query_close(q);
		snprintf(msg, size, "%s", err);
		return;
	}
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		if (setgroups(0, NULL) < 0 || setgid(OTHER_UID) < 0 ||
		    setuid(OTHER_UID) < 0)
			_exit(2);
		open_message(path, rw, err, sizeof(err));
		_exit(write(fds[1], err, strlen(err)) == (ssize_t)strlen(err)
		              ? 0
		              : 3);
	}
	close(fds[1]);
	ssize_t n = read(fds[0], msg, size - 1);
	int status = 0;
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	msg[n > 0 ? n : 0] = '\0';
}

/*
 * A database in a directory its user may not write is refused with the
 * real reason (EACCES), not the ENOENT of SQLite's read-only retry: a new
 * file, and an existing one whose -shm and -wal cannot be created beside
 * it, and an empty one SQLite cannot put in WAL mode; a file the user
 * may not read, for the read side too. The directory
 * is one of /tmp's, so that the other user can reach it.
 */
static void test_open_permission_denied(void **state)
{
	char dir[] = "/tmp/metrolog-perm-XXXXXX", ro[H_PATH_MAX],
	     fresh[H_PATH_MAX], old[H_PATH_MAX], empty[H_PATH_MAX],
	     secret[H_PATH_MAX], msg[512];

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	h_path(ro, dir, "ro");
	assert_int_equal(mkdir(ro, 0755), 0);
	h_path(fresh, ro, "new.db");
	h_path(old, ro, "old.db");
	h_path(empty, ro, "empty.db");
	h_path(secret, dir, "secret.db");
	store_close(open_ok(old));
	FILE *f = fopen(empty, "w");
	assert_non_null(f);
	fclose(f);
	store_close(open_ok(secret));
	assert_int_equal(chmod(secret, 0600), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(old, OTHER_UID, OTHER_UID), 0);
		assert_int_equal(chown(empty, OTHER_UID, OTHER_UID), 0);
	}
	assert_int_equal(chmod(ro, 0555), 0);

	open_message(fresh, true, msg, sizeof(msg));
	assert_non_null(strstr(msg, fresh));
	assert_non_null(strstr(msg, "Permission denied"));
	assert_null(strstr(msg, "No such file"));
	open_message(old, true, msg, sizeof(msg));
	assert_non_null(strstr(msg, old));
	assert_non_null(strstr(msg, "Permission denied"));
	assert_null(strstr(msg, "No such file"));
	open_message(empty, true, msg, sizeof(msg)); /* no WAL can be made */
	assert_non_null(strstr(msg, empty));
	assert_non_null(strstr(msg, "Permission denied"));
	if (geteuid() == 0) { /* the owner may read a 0600 file */
		open_message(secret, false, msg, sizeof(msg));
		assert_non_null(strstr(msg, secret));
		assert_non_null(strstr(msg, "Permission denied"));
	}

	assert_int_equal(chmod(ro, 0755), 0);
	assert_int_equal(unlink(old), 0);
	assert_int_equal(unlink(empty), 0);
	assert_int_equal(unlink(secret), 0);
	assert_int_equal(rmdir(ro), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void test_sync_config_reload(void **state)
{
	static const struct tinst changed[] = {
	        {"new-3", {"p", NULL}},
	        {"dmm-1", {"temp", "volt", "freq", NULL}}, /* curr gone */
	        {NULL, {NULL}},                            /* tc-7 gone */
	};
	char path[H_PATH_MAX];
	struct store *st;
	int64_t volt, temp, curr, t1;
	struct sample s;

	(void)state;
	st = open_two(path);
	volt = channel_id(path, "dmm-1", "volt");
	temp = channel_id(path, "dmm-1", "temp");
	curr = channel_id(path, "dmm-1", "curr");
	t1 = channel_id(path, "tc-7", "t1");

	sync_ok(st, changed);
	assert_int_equal(channel_id(path, "dmm-1", "volt"), volt);
	assert_int_equal(channel_id(path, "dmm-1", "temp"), temp);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM instruments"), 3);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM channels"), 7);
	assert_int_equal(sql_int(path, "SELECT active FROM instruments"
	                               " WHERE name = 'tc-7'"),
	                 0);
	assert_int_equal(sql_int(path, "SELECT active FROM instruments"
	                               " WHERE name = 'new-3'"),
	                 1);
	assert_int_equal(sql_int(path,
	                         "SELECT active FROM channels WHERE id = %lld",
	                         (long long)curr),
	                 0);
	assert_int_equal(sql_int(path,
	                         "SELECT active FROM channels WHERE id = %lld",
	                         (long long)t1),
	                 0);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM channels"
	                               " WHERE active"),
	                 4);
	/* index 2 is now dmm-1.volt (new-3.p is 0, dmm-1.temp 1) */
	s = reading(2, T0, 7.0, QUALITY_GOOD);
	append_ok(st, &s, 1);
	assert_int_equal(sql_int(path, "SELECT channel FROM readings"), volt);
	/* description columns follow the config */
	assert_int_equal(sql_int(path,
	                         "SELECT count(*) FROM channels WHERE id = %lld"
	                         " AND reg_table = 'holding' AND address = 2"
	                         " AND type = 'float32 ABCD' AND scale = 0.5"
	                         " AND unit = 'degC'",
	                         (long long)volt),
	                 1);

	/* back to the first config: the same rows become active again */
	sync_ok(st, two);
	store_close(st);
	assert_int_equal(channel_id(path, "dmm-1", "curr"), curr);
	assert_int_equal(channel_id(path, "tc-7", "t1"), t1);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM channels"), 7);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM channels"
	                               " WHERE active"),
	                 5);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM instruments"
	                               " WHERE active"),
	                 2);
	db_assert_integrity(path);
}

static void test_append_read_back(void **state)
{
	char path[H_PATH_MAX];
	struct store *st;
	const struct sample s[] = {
	        reading(0, T0 + 1, 230.125, QUALITY_GOOD),
	        reading(1, T0 + 2, -0.000123, QUALITY_GOOD),
	        reading(2, T0 + 3, 99, QUALITY_TIMEOUT),
	        reading(3, T0 + 4, 99, QUALITY_EXCEPTION),
	        {.ts_us = T0 + 5,
	         .index = 1,
	         .kind = SAMPLE_OFFLINE,
	         .quality = QUALITY_EXCEPTION,
	         .detail = 2},
	        {.ts_us = T0 + 6,
	         .index = 1,
	         .kind = SAMPLE_OFFLINE,
	         .quality = QUALITY_TIMEOUT},
	        {.ts_us = T0 + 7, .index = 1, .kind = SAMPLE_ONLINE},
	        reading(4, T0 + 8, 1e300, QUALITY_GOOD),
	};
	sqlite3 *db;
	sqlite3_stmt *q;
	int n = 0;

	(void)state;
	st = open_two(path);
	append_ok(st, s, sizeof(s) / sizeof(s[0]));
	append_ok(st, s, 0); /* an empty batch is fine */
	store_close(st);

	db = sql_open(path, true);
	assert_int_equal(
	        sqlite3_prepare_v2(db,
	                           "SELECT i.name || '.' || c.name, r.ts,"
	                           " r.value, q.name FROM readings r"
	                           " JOIN channels c ON c.id = r.channel"
	                           " JOIN instruments i"
	                           " ON i.id = c.instrument_id"
	                           " JOIN qualities q ON q.code = r.quality"
	                           " ORDER BY r.ts",
	                           -1, &q, NULL),
	        SQLITE_OK);
	static const char *names[] = {"dmm-1.volt", "dmm-1.curr", "dmm-1.temp",
	                              "tc-7.t1", "tc-7.t2"};
	static const int at[] = {0, 1, 2, 3, 7};
	while (sqlite3_step(q) == SQLITE_ROW) {
		const struct sample *w = &s[at[n]];
		assert_true(n < 5);
		assert_string_equal(sqlite3_column_text(q, 0), names[n]);
		assert_int_equal(sqlite3_column_int64(q, 1), w->ts_us);
		assert_string_equal(sqlite3_column_text(q, 3),
		                    quality_name((enum quality)w->quality));
		if (w->quality == QUALITY_GOOD)
			assert_true(sqlite3_column_double(q, 2) == w->value);
		else
			assert_int_equal(sqlite3_column_type(q, 2),
			                 SQLITE_NULL);
		n++;
	}
	assert_int_equal(n, 5);
	sqlite3_finalize(q);

	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT e.ts, i.name, e.kind,"
	                                    " coalesce(e.detail, '-'),"
	                                    " e.channel_id IS NULL"
	                                    " FROM events e JOIN instruments i"
	                                    " ON i.id = e.instrument_id"
	                                    " ORDER BY e.id",
	                                    -1, &q, NULL),
	                 SQLITE_OK);
	static const char *kinds[] = {"offline", "offline", "online"};
	static const char *details[] = {"exception 02", "timeout", "-"};
	for (n = 0; sqlite3_step(q) == SQLITE_ROW; n++) {
		assert_true(n < 3);
		assert_int_equal(sqlite3_column_int64(q, 0), T0 + 5 + n);
		assert_string_equal(sqlite3_column_text(q, 1), "tc-7");
		assert_string_equal(sqlite3_column_text(q, 2), kinds[n]);
		assert_string_equal(sqlite3_column_text(q, 3), details[n]);
		assert_int_equal(sqlite3_column_int(q, 4), 1);
	}
	assert_int_equal(n, 3);
	sqlite3_finalize(q);
	sqlite3_close(db);
	db_assert_integrity(path);
}

/* A bad sample at the end of a batch: the good ones before it are not
 * written either. */
static void test_batch_atomic(void **state)
{
	char path[H_PATH_MAX];
	struct store *st;
	struct sample s[3] = {reading(0, T0, 1, QUALITY_GOOD),
	                      reading(1, T0, 2, QUALITY_GOOD),
	                      reading(99, T0, 3, QUALITY_GOOD)};

	(void)state;
	st = open_ok(db_path(path));
	assert_int_equal(store_append(st, s, 1), -1); /* before any config */
	assert_int_equal(store_last_error(st), STORE_OTHER);
	sync_ok(st, two);
	assert_int_equal(store_append(st, s, 3), -1);
	assert_int_equal(store_last_error(st), STORE_OTHER);
	assert_non_null(strstr(store_last_message(st), path));
	assert_non_null(strstr(store_last_message(st), "index 99"));
	assert_int_equal(readings_count(path), 0);
	s[2].index = 2;
	append_ok(st, s, 3);
	assert_int_equal(readings_count(path), 3);
	store_close(st);
	db_assert_integrity(path);
}

static void test_busy(void **state)
{
	char path[H_PATH_MAX];
	struct store *st;
	struct sample *s = make_readings(500, 5, T0);
	sqlite3 *other;

	(void)state;
	st = open_two(path);
	assert_int_equal(store_set_busy_timeout(st, 100), 0);
	other = sql_open(path, true);
	assert_int_equal(
	        sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL),
	        SQLITE_OK);
	assert_int_equal(store_append(st, s, 500), -1);
	assert_int_equal(store_last_error(st), STORE_BUSY);
	assert_non_null(strstr(store_last_message(st), path));
	assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL),
	                 SQLITE_OK);
	assert_int_equal(readings_count(path), 0);

	/* the same batch, the same struct store, once the lock is gone */
	append_ok(st, s, 500);
	assert_int_equal(readings_count(path), 500);
	sqlite3_close(other);
	store_close(st);
	free(s);
	db_assert_integrity(path);
}

static void test_disk_full(void **state)
{
	char path[H_PATH_MAX];
	struct store *st;
	struct sample *s = make_readings(20000, 5, T0);
	long cap;

	(void)state;
	st = open_two(path);
	append_ok(st, s, 100);
	cap = store_set_max_pages(st, 1); /* raised to the current size */
	assert_true(cap > 1);
	assert_int_equal(store_append(st, s + 100, 19900), -1);
	assert_int_equal(store_last_error(st), STORE_FULL);
	assert_non_null(strstr(store_last_message(st), path));
	assert_int_equal(readings_count(path), 100);
	/* still full: still nothing */
	assert_int_equal(store_append(st, s + 100, 19900), -1);
	assert_int_equal(store_last_error(st), STORE_FULL);
	assert_int_equal(readings_count(path), 100);

	assert_int_equal(store_set_max_pages(st, NO_CAP), NO_CAP);
	append_ok(st, s + 100, 19900);
	assert_int_equal(readings_count(path), 20000);
	assert_int_equal(sql_int(path, "SELECT sum(value * 4) FROM readings"),
	                 19999LL * 20000 / 2);
	store_close(st);
	free(s);
	db_assert_integrity(path);
}

/* Past the move threshold (65536 rows for a small config) readings move
 * from readings_recent to readings_archive, in turns (a channel's rows,
 * 13,200 of them, more than the 2,048 of a step, per commit); the view
 * shows them all, once. */
static void test_archive_move(void **state)
{
	enum { N = 70000, BATCH = 1000 };
	char path[H_PATH_MAX];
	struct store *st;
	struct sample *s = make_readings(N, 5, T0);
	int64_t recent, archived;

	(void)state;
	st = open_two(path);
	for (int i = 0; i < N; i += BATCH)
		append_ok(st, s + i, BATCH);
	store_close(st);
	recent = recent_live(path);
	archived = sql_int(path, "SELECT count(*) FROM readings_archive");
	/* the 66th batch started a turn over the 66,000 rows then, moved by
	 * it and the next 4 batches, one channel each */
	assert_int_equal(archived, 66000);
	assert_int_equal(recent, N - 66000);
	assert_int_equal(sql_int(path, "SELECT upto FROM recent_moved"), 66000);
	assert_int_equal(readings_count(path), N);
	assert_int_equal(sql_int(path,
	                         "SELECT count(DISTINCT channel || ':' || ts)"
	                         " FROM readings"),
	                 N);
	assert_int_equal(sql_int(path, "SELECT sum(value * 4) FROM readings"),
	                 (int64_t)(N - 1) * N / 2);
	/* one channel over a time range, as the tool asks */
	assert_int_equal(sql_int(path,
	                         "SELECT count(*) FROM readings"
	                         " WHERE channel = %lld AND ts >= %lld"
	                         " AND ts < %lld",
	                         (long long)channel_id(path, "dmm-1", "temp"),
	                         (long long)(T0 + 13000 * SEC),
	                         (long long)(T0 + 13500 * SEC)),
	                 500);
	free(s);
	db_assert_integrity(path);
}

/* Every row of sql (channel, ts, value, quality), the value's bits kept:
 * into rows (room for max), the count returned. */
struct arow {
	int64_t channel, ts, quality;
	uint64_t bits;
	bool null;
};

static size_t read_rows(const char *path, const char *sql, struct arow *rows,
                        size_t max)
{
	sqlite3 *db = sql_open(path, false);
	sqlite3_stmt *s;
	size_t n = 0;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		double v = sqlite3_column_double(s, 2);
		assert_true(n < max);
		rows[n].channel = sqlite3_column_int64(s, 0);
		rows[n].ts = sqlite3_column_int64(s, 1);
		rows[n].null = sqlite3_column_type(s, 2) == SQLITE_NULL;
		memcpy(&rows[n].bits, &v, sizeof(v));
		rows[n].quality = sqlite3_column_int64(s, 3);
		n++;
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static void same_rows(const struct arow *a, const struct arow *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i].channel != b[i].channel || a[i].ts != b[i].ts ||
		    a[i].null != b[i].null ||
		    (!a[i].null && a[i].bits != b[i].bits) ||
		    a[i].quality != b[i].quality)
			fail_msg("row %zu differs: channel %lld ts %lld", i,
			         (long long)a[i].channel, (long long)a[i].ts);
	}
}

/* No two blocks of a channel overlap, and their counts are the rows. */
static void assert_blocks_sound(const char *path)
{
	assert_int_equal(sql_int(path, "SELECT count(*) FROM archive_blocks a"
	                               " JOIN archive_blocks b ON"
	                               " b.channel = a.channel AND"
	                               " b.ts_first > a.ts_first AND"
	                               " b.ts_first <= a.ts_last"),
	                 0);
	/* the store cuts blocks by size, up to 16,384 readings (archive.h;
	 * 1,024 before; test_archive.c checks the size) */
	assert_int_equal(sql_int(path, "SELECT count(*) FROM archive_blocks"
	                               " WHERE n < 1 OR n > 16384"
	                               " OR ts_last < ts_first"),
	                 0);
	assert_int_equal(
	        sql_int(path, "SELECT coalesce(sum(n), 0) FROM archive_blocks"),
	        sql_int(path, "SELECT count(*) FROM readings_archive"));
}

/* query_readings() into a struct range_ctx, checking ts order and that
 * each row is the one of the readings view's. */
struct range_ctx {
	struct arow *rows; /* the view's rows, in (channel, ts) order */
	size_t n, max;
	int64_t last;
};

static int range_row(void *ctx, const struct query_reading *r)
{
	struct range_ctx *c = ctx;
	size_t i = 0;

	assert_true(c->n == 0 || r->ts_us > c->last);
	c->last = r->ts_us;
	while (i < c->max && c->rows[i].ts != r->ts_us)
		i++;
	assert_true(i < c->max);
	assert_int_equal(r->quality, c->rows[i].quality);
	if (r->quality == 0) {
		uint64_t bits;
		memcpy(&bits, &r->value, sizeof(bits));
		assert_int_equal(bits, c->rows[i].bits);
	}
	c->n++;
	return 0;
}

/* The virtual table gives what a plain table of the same rows gives, for
 * every kind of constraint its xBestIndex takes or leaves to SQLite (odd
 * types, bounds beyond int64, empty ranges, IN, BETWEEN). */
static void assert_archive_like_table(const char *path, int64_t x)
{
	static const char *const conds[] = {
	        "1",
	        "channel = 2",
	        "channel = 2.0",
	        "channel = '2'",
	        "channel = 2.5",
	        "channel = NULL",
	        "channel = 'two'",
	        "channel IN (1, 3, 99)",
	        "channel > 3",
	        "ts = %lld",
	        "ts = %lld.0 AND channel = 3",
	        "ts = %lld.5",
	        "ts >= %lld AND channel = 2",
	        "ts > %lld AND channel = 2",
	        "ts <= %lld AND channel = 2",
	        "ts < %lld AND channel = 2",
	        "ts > %lld.5 AND ts < %lld.5 + 5000000 AND channel = 4",
	        "ts >= %lld - 3000000 AND ts <= %lld + 3000000",
	        "ts BETWEEN %lld AND %lld + 10000000 AND channel = 1",
	        "ts > 9223372036854775807",
	        "ts < -9223372036854775808",
	        "ts >= 9.3e18 OR ts < -9.3e18",
	        "ts < 'abc' AND channel = 5",
	        "ts > 'abc'",
	        "ts = NULL",
	        "ts > %lld AND ts < %lld",
	};
	char where[256], sql[768];

	db_exec(path, "CREATE TABLE copy_archive AS"
	              " SELECT * FROM readings_archive");
	for (size_t i = 0; i < sizeof(conds) / sizeof(conds[0]); i++) {
		snprintf(where, sizeof(where), conds[i], (long long)x,
		         (long long)x, (long long)x);
		snprintf(sql, sizeof(sql),
		         "SELECT (SELECT count(*) || ':' || total(ts) || ':'"
		         " || total(value) || ':' || total(quality) FROM"
		         " readings_archive WHERE %s) IS (SELECT count(*) ||"
		         " ':' || total(ts) || ':' || total(value) || ':' ||"
		         " total(quality) FROM copy_archive WHERE %s)",
		         where, where);
		if (sql_int(path, "%s", sql) != 1)
			fail_msg("readings_archive differs where %s", where);
	}
	db_exec(path, "DROP TABLE copy_archive");
}

/* A clock stepped back: readings at the times of archived ones replace
 * them when they move (as INSERT OR REPLACE did), the others join them;
 * the blocks never overlap and the view gives each (channel, ts) once. */
static void test_archive_overlap(void **state)
{
	enum { N = 66000, BATCH = 1000, BACK = 100 };
	char path[H_PATH_MAX];
	struct store *st;
	struct sample *s = make_readings(N, 5, T0);
	double want = 0;

	(void)state;
	st = open_two(path);
	for (int i = 0; i < N; i += BATCH)
		append_ok(st, s + i, BATCH);
	assert_int_equal(store_archive_all(st), 0);
	assert_int_equal(recent_live(path), 0);
	/* again BACK s earlier, other values: all but the first BACK rounds
	 * fall on archived times */
	for (int i = 0; i < N; i++) {
		s[i].ts_us -= BACK * SEC;
		s[i].value += 1e6;
		want += s[i].value;
	}
	for (int i = 0; i < N; i += BATCH)
		append_ok(st, s + i, BATCH);
	assert_int_equal(store_archive_all(st), 0);
	store_close(st);
	assert_int_equal(recent_live(path), 0);
	/* the first run's last BACK rounds are the only ones kept */
	for (int i = N - BACK * 5; i < N; i++)
		want += (double)i * 0.25;
	assert_int_equal(readings_count(path), N + BACK * 5);
	assert_int_equal(sql_int(path,
	                         "SELECT count(DISTINCT channel || ':' || ts)"
	                         " FROM readings"),
	                 N + BACK * 5);
	assert_int_equal(sql_int(path, "SELECT sum(value * 4) FROM readings"),
	                 (int64_t)(want * 4));
	assert_blocks_sound(path);
	assert_archive_like_table(path, T0 + 5000 * SEC + 2);
	free(s);
	db_assert_integrity(path);
}

/* A version-7 file's archived rows, odd values too, come back exactly
 * from the blocks the migration to version 8 encodes, in the same order,
 * through the readings view and through query_readings(). */
static void test_migration_archive(void **state)
{
	enum { N = 5000 };
	static char sql[32768];
	static struct arow before[N + 8], after[N + 8];
	char path[H_PATH_MAX], err[512];
	const char *order = "SELECT channel, ts, value, quality FROM readings"
	                    " ORDER BY channel, ts";
	sqlite3 *db;
	sqlite3_stmt *ins;
	size_t n, m;
	ssize_t len;

	(void)state;
	len = h_read_file(METROLOG_FIXTURES "/schema-v3.sql", sql, sizeof(sql));
	assert_true(len > 0 && (size_t)len < sizeof(sql) - 1);
	db_exec(db_path(path), sql);
	/* the archive as it was up to version 7: rows of channel 1 */
	db = sql_open(path, true);
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "INSERT INTO readings_archive"
	                                    " VALUES (?1, ?2, ?3, ?4)",
	                                    -1, &ins, NULL),
	                 SQLITE_OK);
	for (int i = 0; i < N; i++) {
		static const double odd[] = {
		        -0.0,     5e-324,    -1.7976931348623157e308,
		        INFINITY, -INFINITY, 1e-300};
		double v = (double)(float)(20.5 + 0.01 * sin(i * 0.37));
		sqlite3_bind_int64(ins, 1, 1);
		sqlite3_bind_int64(ins, 2,
		                   V3_T0 - (N - i) * SEC + (i * 7919) % 3000);
		if (i % 97 == 5)
			v = odd[(i / 97) % 6];
		if (i % 13 == 1) {
			sqlite3_bind_null(ins, 3);
			sqlite3_bind_int(ins, 4, 1 + i % 7);
		} else {
			sqlite3_bind_double(ins, 3, v);
			sqlite3_bind_int(ins, 4, 0);
		}
		assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
		sqlite3_reset(ins);
	}
	sqlite3_finalize(ins);
	sqlite3_close(db);
	n = read_rows(path, order, before, N + 8);
	assert_int_equal(n, N + 2); /* and the 2 of readings_recent */

	store_close(open_ok(path));
	assert_int_equal(sql_int(path, "PRAGMA user_version"), SCHEMA_LATEST);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM sqlite_schema"
	                               " WHERE name = 'readings_archive'"),
	                 0);
	/* 5000 rows: blocks of 1024 */
	assert_int_equal(sql_int(path, "SELECT count(*) FROM archive_blocks"),
	                 5);
	assert_blocks_sound(path);
	m = read_rows(path, order, after, N + 8);
	assert_int_equal(m, n);
	same_rows(before, after, n);

	/* the tool's way: one channel over a range, in ts order */
	struct query *q = query_open(path, err, sizeof(err));
	if (q == NULL)
		fail_msg("query_open: %s", err);
	struct range_ctx rc = {.rows = before, .n = 0, .max = N + 8};
	assert_int_equal(query_readings(q, 1, V3_T0 - 4000 * SEC,
	                                V3_T0 + 3600 * SEC, range_row, &rc),
	                 0);
	query_close(q);
	assert_int_equal(rc.n, 4000 + 2); /* the archived ones, then recent */
	db_assert_integrity(path);
}

static void test_retention(void **state)
{
	enum { N = 70000, BATCH = 1000 };
	const int64_t cutoff = T0 + 10000 * SEC; /* 50000 readings before */
	char path[H_PATH_MAX];
	struct store *st;
	struct sample *s = make_readings(N, 5, T0);
	struct sample ev = {.ts_us = T0,
	                    .index = 0,
	                    .kind = SAMPLE_OFFLINE,
	                    .quality = QUALITY_CONNECT};
	long deleted, total = 0;
	int calls = 0;

	(void)state;
	st = open_two(path);
	append_ok(st, &ev, 1);
	for (int i = 0; i < N; i += BATCH)
		append_ok(st, s + i, BATCH);
	/* rows in both tables, and some old ones in readings_recent too */
	for (int i = 0; i < 10; i++)
		s[i].ts_us -= 1000 * SEC;
	append_ok(st, s, 10);
	assert_true(sql_int(path, "SELECT count(*) FROM readings_recent") > 0);

	do {
		assert_int_equal(store_retention(st, cutoff, 7777, &deleted),
		                 0);
		assert_true(deleted <= 7777);
		total += deleted;
		calls++;
	} while (deleted > 0 && calls < 100);
	assert_int_equal(total, 50000 + 10);
	assert_true(calls >= 7);
	assert_int_equal(sql_int(path,
	                         "SELECT count(*) FROM readings"
	                         " WHERE ts < %lld",
	                         (long long)cutoff),
	                 0);
	assert_int_equal(readings_count(path), N - 50000);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM events"), 1);
	assert_int_equal(store_retention(st, cutoff, 0, &deleted), 0);
	assert_int_equal(deleted, 0);
	/* everything old: events still stay */
	assert_int_equal(
	        store_retention(st, T0 + 1000000 * SEC, 1000000, &deleted), 0);
	assert_int_equal(deleted, N - 50000);
	assert_int_equal(readings_count(path), 0);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM events"), 1);
	store_close(st);
	free(s);
	db_assert_integrity(path);
}

/* ---- the MQTT outbox ---------------------------------------------------- */

static struct cfg_mqtt test_mqtt = {
        .host = "127.0.0.1",
        .port = 1883,
        .prefix = "ml",
        .client_id = "gw",
        .qos = 1,
        .inflight = 8,
        .outbox_max = 1000,
        .historical_s = 10,
};

/* two[] with publishing on; the store keeps using it: free it after. */
static struct config *sync_mqtt(struct store *st)
{
	struct config *c = make_config(two);

	c->site = "lab";
	c->mqtt = &test_mqtt;
	if (store_sync_config(st, c) < 0)
		fail_msg("store_sync_config: %s", store_last_message(st));
	return c;
}

/* A version 1 file as metrolog 0.1 wrote it (tests/fixtures/schema-v1.sql)
 * is migrated to the current schema, its data kept. */
static void test_migration_to_outbox(void **state)
{
	char path[H_PATH_MAX], sql[8192];
	struct store *st;
	ssize_t n;

	(void)state;
	n = h_read_file(METROLOG_FIXTURES "/schema-v1.sql", sql, sizeof(sql));
	assert_true(n > 0 && (size_t)n < sizeof(sql) - 1);
	db_exec(db_path(path), sql);
	assert_int_equal(sql_int(path, "PRAGMA user_version"), 1);
	st = open_ok(path);
	store_close(st);
	assert_int_equal(sql_int(path, "PRAGMA user_version"), SCHEMA_LATEST);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM outbox"), 0);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM calibrations"), 0);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM instruments"
	                               " WHERE kind = 'instrument'"
	                               " AND interval_days = 0"),
	                 1);
	assert_int_equal(readings_count(path), 1);
	db_assert_integrity(path);
}

/* Without an mqtt group nothing goes to the outbox. */
static void test_outbox_off(void **state)
{
	char path[H_PATH_MAX];
	struct store *st;
	struct sample s = reading(0, T0, 1.5, QUALITY_GOOD);

	(void)state;
	st = open_two(path);
	append_ok(st, &s, 1);
	store_close(st);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM outbox"), 0);
}

/* The payload of readings row m (stored without it, schema 13) as the
 * publisher builds it from the database: store_outbox_readings() and
 * msg_readings(), into buf; m then points to it. */
static void rebuild_payload(struct store *st, struct store_msg *m, char *buf,
                            size_t size)
{
	struct store_msg_reading r[8];
	struct msg_channel ch[8];
	const char *id = NULL;
	size_t n = 0;
	int len;

	assert_true(m->nchannels > 0 && m->nchannels <= 8);
	assert_int_equal(m->len, 0);
	assert_int_equal(store_outbox_readings(st, m, m->ts_us, &id, r), 0);
	for (size_t k = 0; k < m->nchannels; k++) {
		assert_true(r[k].found);
		ch[n++] = (struct msg_channel){.name = r[k].channel,
		                               .unit = r[k].unit,
		                               .value = r[k].value,
		                               .quality = r[k].quality,
		                               .digits = r[k].float32 ? 7 : 0};
	}
	len = msg_readings(buf, size, m->seq, m->ts_us, id, ch, n);
	assert_true(len > 0);
	m->payload = buf;
	m->len = (size_t)len;
}

/* Readings rows whose readings the store has moved into the archive
 * (at high rates, within seconds) are rebuilt from the archive's rows of
 * their channels, read once per channel and window: every reading found,
 * with the value committed, in windows of at most a second. */
static void test_outbox_rebuilt_from_archive(void **state)
{
	enum { N = 70000, BATCH = 1000, ROWS = 64 };
	char path[H_PATH_MAX];
	struct store *st;
	struct config *c;
	struct composer *cp;
	struct sample *s = make_readings(N, 5, T0);
	struct store_msg m[ROWS];
	size_t n;

	(void)state;
	st = open_ok(db_path(path));
	c = sync_mqtt(st);
	/* every row kept (the test's default keeps 1 000) */
	struct cfg_mqtt big = *c->mqtt;
	big.outbox_max = 2 * N;
	c->mqtt = &big;
	if (store_sync_config(st, c) < 0)
		fail_msg("store_sync_config: %s", store_last_message(st));
	cp = composer_new(c);
	assert_non_null(cp);
	for (int i = 0; i < N; i += BATCH)
		compose_ok(cp, st, s + i, BATCH);
	/* the first rows' readings are in the archive, not in recent */
	assert_true(sql_int(path, "SELECT count(*) FROM readings_archive") >=
	            66000);
	assert_int_equal(sql_int(path,
	                         "SELECT count(*) FROM readings_recent"
	                         " WHERE ts <= %lld",
	                         (long long)(T0 + 20 * SEC)),
	                 0);
	assert_int_equal(store_outbox_read(st, 0, m, ROWS, &n), 0);
	assert_int_equal(n, ROWS);
	for (size_t i = 0; i < n; i++) {
		struct store_msg_reading r[1];
		const char *id = NULL;

		/* one message per sample: make_readings' channels each have
		 * their own ts */
		assert_int_equal(m[i].seq, (int64_t)i + 1);
		assert_int_equal(m[i].nchannels, 1);
		assert_int_equal(store_outbox_readings(st, &m[i],
		                                       m[n - 1].ts_us, &id, r),
		                 0);
		assert_true(r[0].found);
		assert_true(r[0].value == (double)i * 0.25);
		assert_int_equal(r[0].quality, QUALITY_GOOD);
		assert_string_equal(id, i % 5 < 3 ? "dmm-1" : "tc-7");
	}
	composer_free(cp);
	store_close(st);
	free_config(c);
	free(s);
}

/* One message per (instrument, ts) with all its channels; an event and a
 * retained status per online/offline; seqs consecutive, in time order;
 * read after a seq, delete up to one, never reuse one. */
static void test_outbox_messages(void **state)
{
	char p0[4096], p1[4096];
	char path[H_PATH_MAX];
	struct store *st;
	struct config *c;
	struct composer *cp;
	struct store_msg m[16];
	size_t n;
	int64_t rows, oldest;
	/* channels 0-2: dmm-1, 3-4: tc-7; interleaved as two pollers do */
	struct sample s[] = {
	        reading(0, T0, 1.5, QUALITY_GOOD),
	        reading(3, T0 + 5, 20.25, QUALITY_GOOD),
	        reading(1, T0, 2.5, QUALITY_GOOD),
	        reading(4, T0 + 5, 0, QUALITY_TIMEOUT),
	        reading(2, T0, 3.5, QUALITY_GOOD),
	        {.ts_us = T0 + 7,
	         .index = 1,
	         .kind = SAMPLE_OFFLINE,
	         .quality = QUALITY_TIMEOUT},
	        reading(0, T0 + SEC, 1.75, QUALITY_GOOD),
	};

	(void)state;
	st = open_ok(db_path(path));
	c = sync_mqtt(st);
	cp = composer_new(c);
	assert_non_null(cp);
	compose_ok(cp, st, s, sizeof(s) / sizeof(s[0]));
	assert_int_equal(store_outbox_read(st, 0, m, 16, &n), 0);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(m[i].seq, (int64_t)i + 1);
	/* readings rows: their channels, the payload built when sent */
	assert_int_equal(m[0].nchannels, 3);
	assert_int_equal(m[1].nchannels, 2);
	assert_int_equal(m[2].nchannels, 0);
	rebuild_payload(st, &m[0], p0, sizeof(p0));
	rebuild_payload(st, &m[1], p1, sizeof(p1));
	assert_string_equal(m[0].topic, "ml/lab/dmm-1/readings");
	assert_int_equal(m[0].ts_us, T0);
	assert_false(m[0].retain);
	assert_int_equal(m[0].qos, 1);
	assert_int_equal(strlen(m[0].payload), m[0].len);
	assert_non_null(strstr(m[0].payload, "\"seq\":1,"));
	assert_non_null(strstr(m[0].payload, "\"instrument\":\"dmm-1\""));
	assert_non_null(strstr(m[0].payload,
	                       "\"volt\":{\"value\":1.5,\"unit\":\"degC\","
	                       "\"quality\":\"good\"}"));
	assert_non_null(strstr(m[0].payload, "\"temp\":{\"value\":3.5,"));
	assert_non_null(
	        strstr(m[0].payload, "\"ts\":\"2023-11-14T22:13:20.000000Z\""));
	assert_non_null(strstr(m[0].payload, "\"ts_ms\":1700000000000"));
	assert_string_equal(m[1].topic, "ml/lab/tc-7/readings");
	assert_non_null(strstr(m[1].payload,
	                       "\"t2\":{\"value\":null,\"unit\":\"degC\","
	                       "\"quality\":\"timeout\"}"));
	assert_string_equal(m[2].topic, "ml/lab/tc-7/events");
	assert_non_null(strstr(m[2].payload, "\"event\":\"offline\""));
	assert_non_null(strstr(m[2].payload, "\"reason\":\"timeout\""));
	assert_false(m[2].retain);
	assert_string_equal(m[3].topic, "ml/lab/tc-7/status");
	assert_non_null(strstr(m[3].payload, "\"state\":\"offline\""));
	assert_true(m[3].retain);
	assert_string_equal(m[4].topic, "ml/lab/dmm-1/readings");
	assert_int_equal(m[4].ts_us, T0 + SEC);

	/* after a seq; stats; delete */
	assert_int_equal(store_outbox_read(st, 3, m, 16, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(m[0].seq, 4);
	assert_int_equal(store_outbox_stats(st, &rows, &oldest), 0);
	assert_int_equal(rows, 5);
	assert_int_equal(oldest, T0);
	assert_int_equal(store_outbox_delete(st, 5), 0);
	assert_int_equal(store_outbox_stats(st, &rows, &oldest), 0);
	assert_int_equal(rows, 0);
	assert_int_equal(oldest, 0);

	/* a failed batch writes no outbox row and uses no seq */
	struct sample bad[2] = {reading(0, T0 + 2 * SEC, 1, QUALITY_GOOD),
	                        reading(99, T0 + 2 * SEC, 1, QUALITY_GOOD)};
	assert_int_equal(composer_write(cp, st, bad, 2), -1);
	assert_int_equal(store_outbox_stats(st, &rows, &oldest), 0);
	assert_int_equal(rows, 0);
	store_close(st);

	/* seqs go on after a restart, even with an empty outbox */
	st = open_ok(path);
	free_config(c);
	c = sync_mqtt(st);
	composer_free(cp);
	cp = composer_new(c);
	assert_non_null(cp);
	compose_ok(cp, st, s, 1);
	assert_int_equal(store_outbox_read(st, 0, m, 16, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].seq, 6);
	composer_free(cp);
	store_close(st);
	free_config(c);
	db_assert_integrity(path);
}

/* A SAMPLE_STATE (monitor.c): an events row of kind "tolerance" on the
 * channel; with mqtt, a tolerance event and the retained status with the
 * channel's state; a failed batch leaves the states as they were. */
static void test_tolerance_events(void **state)
{
	char path[H_PATH_MAX];
	struct store *st;
	struct config *c;
	struct composer *cp;
	struct store_msg m[16];
	size_t n;
	struct cfg_tolerance tol = {.reference = 20,
	                            .lower = -0.5,
	                            .upper = 0.5,
	                            .U = 0.125,
	                            .k = 2,
	                            .rule = TOL_RULE_GUARDED,
	                            .guard_factor = 1,
	                            .guard = 0.125};
	struct sample s[] = {
	        reading(1, T0, 20.625, QUALITY_GOOD),
	        {.ts_us = T0,
	         .index = 1,
	         .kind = SAMPLE_STATE,
	         .quality = QUALITY_GOOD,
	         .value = 0.625,
	         .detail = DRIFT_OUT_OF_TOLERANCE | DRIFT_WARNING << 4},
	};

	(void)state;
	st = open_ok(db_path(path));
	c = make_config(two);
	c->site = "lab";
	c->mqtt = &test_mqtt;
	c->instruments[0].channels[1].tolerance = &tol;
	if (store_sync_config(st, c) < 0)
		fail_msg("store_sync_config: %s", store_last_message(st));
	cp = composer_new(c);
	assert_non_null(cp);
	compose_ok(cp, st, s, 2);
	assert_int_equal(sql_int(path,
	                         "SELECT count(*) FROM events WHERE "
	                         "kind = 'tolerance' AND channel_id = "
	                         "%lld AND detail = 'warning -> "
	                         "out_of_tolerance: error 0.625 degC, "
	                         "limits [-0.5, 0.5], rule guarded r=1 "
	                         "U=0.125 k=2 (guard 0.125)'",
	                         (long long)channel_id(path, "dmm-1", "curr")),
	                 1);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM events WHERE "
	                               "kind = 'tolerance' AND state_from = "
	                               "'warning' AND state_to = "
	                               "'out_of_tolerance'"),
	                 1);
	assert_int_equal(store_outbox_read(st, 0, m, 16, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(m[0].topic, "ml/lab/dmm-1/readings");
	assert_string_equal(m[1].topic, "ml/lab/dmm-1/events");
	assert_false(m[1].retain);
	assert_non_null(strstr(m[1].payload,
	                       "\"event\":\"tolerance\",\"channel\":\"curr\","
	                       "\"from\":\"warning\",\"to\":"
	                       "\"out_of_tolerance\",\"error\":0.625,"
	                       "\"unit\":\"degC\",\"lower\":-0.5,"
	                       "\"upper\":0.5,\"detail\":\"warning -> "));
	assert_string_equal(m[2].topic, "ml/lab/dmm-1/status");
	assert_true(m[2].retain);
	assert_non_null(strstr(m[2].payload,
	                       "\"state\":null,\"reason\":null,\"tolerance\":"
	                       "{\"curr\":\"out_of_tolerance\"}"));

	/* a failed batch: no row, and the status keeps the last state */
	struct sample bad[] = {
	        {.ts_us = T0 + SEC,
	         .index = 1,
	         .kind = SAMPLE_STATE,
	         .quality = QUALITY_GOOD,
	         .value = 0,
	         .detail = DRIFT_IN_TOLERANCE | DRIFT_OUT_OF_TOLERANCE << 4},
	        reading(99, T0 + SEC, 1, QUALITY_GOOD),
	};
	assert_int_equal(composer_write(cp, st, bad, 2), -1);
	struct sample on = {.ts_us = T0 + 2 * SEC,
	                    .index = 0,
	                    .kind = SAMPLE_ONLINE,
	                    .quality = QUALITY_GOOD};
	compose_ok(cp, st, &on, 1);
	/* online and offline events have no state columns (the kind) */
	assert_int_equal(sql_int(path, "SELECT count(*) FROM events WHERE "
	                               "kind = 'online' AND state_from IS NULL"
	                               " AND state_to IS NULL"),
	                 1);
	assert_int_equal(store_outbox_read(st, 3, m, 16, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(m[1].topic, "ml/lab/dmm-1/status");
	assert_non_null(strstr(
	        m[1].payload, "\"state\":\"online\",\"reason\":null,"
	                      "\"tolerance\":{\"curr\":\"out_of_tolerance\"}"));
	/* a state of a channel without tolerance is refused */
	struct sample stray = s[1];
	stray.index = 0;
	assert_int_equal(composer_write(cp, st, &stray, 1), -1);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM events WHERE "
	                               "kind = 'tolerance'"),
	                 1);
	/* a chart's signal is not a change of state: no state columns */
	struct sample chart = {.ts_us = T0 + 3 * SEC,
	                       .index = 1,
	                       .kind = SAMPLE_STATE,
	                       .quality = QUALITY_GOOD,
	                       .value = 0.3,
	                       .detail =
	                               SAMPLE_STATE_CHART | SAMPLE_STATE_HIGH};
	compose_ok(cp, st, &chart, 1);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM events WHERE "
	                               "kind = 'drift' AND state_from IS NULL"
	                               " AND state_to IS NULL"),
	                 1);
	composer_free(cp);
	store_close(st);
	free_config(c);
	db_assert_integrity(path);
}

/* Past outbox_max the oldest rows go, counted; the readings stay. */
static void test_outbox_full(void **state)
{
	char path[H_PATH_MAX];
	struct store *st;
	struct config *c;
	struct composer *cp;
	struct store_msg m[1];
	size_t n;
	int64_t rows, oldest;
	struct sample *s = make_readings(1500, 1, T0);

	(void)state;
	st = open_ok(db_path(path));
	c = sync_mqtt(st);
	cp = composer_new(c);
	assert_non_null(cp);
	compose_ok(cp, st, s, 1200);
	compose_ok(cp, st, s + 1200, 300);
	assert_int_equal(store_outbox_stats(st, &rows, &oldest), 0);
	assert_int_equal(rows, 1000);
	assert_int_equal(store_outbox_dropped(st), 500);
	assert_int_equal(store_outbox_read(st, 0, m, 1, &n), 0);
	assert_int_equal(m[0].seq, 501);
	assert_int_equal(oldest, s[500].ts_us);
	composer_free(cp);
	store_close(st);
	free_config(c);
	free(s);
	assert_int_equal(readings_count(path), 1500);
	db_assert_integrity(path);
}

/* ---- event states as columns (schema 4) --------------------------------- */

/* The states of events row id are from and to ("NULL": none). */
static void assert_states(const char *path, int id, const char *from,
                          const char *to)
{
	if (sql_int(path,
	            "SELECT count(*) FROM events WHERE id = %d"
	            " AND state_from IS %s AND state_to IS %s",
	            id, from, to) != 1)
		fail_msg("event %d: states are not %s -> %s", id, from, to);
}

static int copy_channel(void *ctx, const struct query_channel *ch)
{
	*(struct query_channel *)ctx = *ch;
	return 0;
}

/* "from>to," for each event with states, into ctx (a char[512]). */
static int event_states(void *ctx, const struct query_event *e)
{
	char *buf = ctx;
	size_t n = strlen(buf);

	if (e->state_to[0] != '\0')
		snprintf(buf + n, 512 - n, "%s>%s,", e->state_from,
		         e->state_to);
	return 0;
}

/* A version-3 file as metrolog 0.3 wrote it (tests/fixtures/schema-v3.sql):
 * migrated to 4, the states of its tolerance and calibration changes are
 * read once from their sentences into state_from and state_to; the other
 * events, and a sentence whose words are not states, get none; the
 * readers say what they said before (the last tolerance state of t1). */
static void test_migration_event_states(void **state)
{
	static char sql[32768];
	char path[H_PATH_MAX], err[512], states[512] = "";
	struct query *q;
	struct query_channel ch;
	ssize_t n;

	(void)state;
	n = h_read_file(METROLOG_FIXTURES "/schema-v3.sql", sql, sizeof(sql));
	assert_true(n > 0 && (size_t)n < sizeof(sql) - 1);
	db_exec(db_path(path), sql);
	db_exec(path, "INSERT INTO events VALUES (16, 1767226200000000, 1, 1,"
	              " 'tolerance', 'hot -> cold: not states')");
	assert_int_equal(sql_int(path, "PRAGMA user_version"), 3);
	store_close(open_ok(path));
	assert_int_equal(sql_int(path, "PRAGMA user_version"), SCHEMA_LATEST);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM events"), 16);
	/* schema 5: the records written before are of rule version 1 */
	assert_int_equal(sql_int(path, "SELECT count(*) FROM"
	                               " pragma_table_info('calibrations')"
	                               " WHERE name = 'rule_version'"
	                               " AND dflt_value = '1'"
	                               " AND \"notnull\" = 1"),
	                 1);
	/* schema 6: the approvals, none yet (every old record a draft) */
	assert_int_equal(sql_int(path, "SELECT count(*) FROM approvals"), 0);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM sqlite_schema"
	                               " WHERE type = 'trigger' AND"
	                               " tbl_name = 'approvals'"),
	                 2);
	assert_states(path, 1, "NULL", "NULL"); /* online */
	assert_states(path, 2, "'no_data'", "'in_tolerance'");
	assert_states(path, 3, "'in_tolerance'", "'warning'");
	assert_states(path, 4, "NULL", "NULL"); /* drift */
	assert_states(path, 5, "NULL", "NULL"); /* trend */
	assert_states(path, 6, "'warning'", "'out_of_tolerance'");
	assert_states(path, 7, "NULL", "NULL"); /* offline */
	assert_states(path, 8, "'out_of_tolerance'", "'no_data'");
	assert_states(path, 9, "NULL", "NULL");
	assert_states(path, 10, "'none'", "'overdue'");
	assert_states(path, 11, "'none'", "'ok'");
	assert_states(path, 12, "NULL", "NULL"); /* calibrated: same state */
	assert_states(path, 13, "NULL", "NULL"); /* now in use */
	assert_states(path, 14, "'ok'", "'due_soon'");
	assert_states(path, 15, "NULL", "NULL");
	assert_states(path, 16, "NULL", "NULL");
	/* the sentences stay, for people */
	assert_int_equal(sql_int(path,
	                         "SELECT count(*) FROM events WHERE"
	                         " id = 6 AND detail LIKE 'warning ->"
	                         " out_of_tolerance: error 0.61 degC,%%'"),
	                 1);

	/* the readers on the file as it was, without the made-up row */
	db_exec(path, "DELETE FROM events WHERE id = 16");
	q = query_open(path, err, sizeof(err));
	if (q == NULL)
		fail_msg("query_open: %s", err);
	memset(&ch, 0, sizeof(ch));
	assert_int_equal(query_channels(q, "TB-01", copy_channel, &ch), 0);
	assert_string_equal(ch.name, "t1");
	assert_string_equal(ch.state, "no_data");
	assert_int_equal(ch.state_us, V3_T0 + 50 * SEC);
	assert_int_equal(query_events(q, NULL, INT64_MIN, INT64_MAX,
	                              event_states, states),
	                 0);
	assert_string_equal(states, "no_data>in_tolerance,"
	                            "in_tolerance>warning,"
	                            "warning>out_of_tolerance,"
	                            "out_of_tolerance>no_data,"
	                            "none>overdue,none>ok,ok>due_soon,");
	query_close(q);
	db_assert_integrity(path);
}

/* ---- the calibration in force ------------------------------------------- */

static int64_t real_now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * SEC + t.tv_nsec / 1000;
}

/* The calibration in force of name at at_us as the tool reads it: its
 * certificate into cert ("" none); returns the due state. */
static enum calib_due tool_in_force(struct query *q, const char *name,
                                    int64_t at_us, char *cert, size_t size)
{
	struct query_instrument in;

	if (query_instrument(q, name, at_us, &in) != 0)
		fail_msg("query_instrument %s: %s", name, query_error(q));
	snprintf(cert, size, "%s", in.certificate);
	assert_true(in.cal_id == 0 || cert[0] != '\0');
	return in.due;
}

/* A record dated 2 h ahead (the tool accepts up to a day: clocks and time
 * zones) is in force nowhere before its time - not for metrologd's due
 * states (composer_calibration), not for the tool's listings
 * (query_instrument), not as the standard of a record performed now
 * (the snapshot) - and everywhere from its time on; the refresh notices
 * it at that time, though no record was appended since and a minute has
 * not passed since the refresh before. The times are driven through the
 * now_us arguments. */
static void test_cal_in_force_future(void **state)
{
	char path[H_PATH_MAX], err[512], cert[CALIB_ID];
	struct config *c = make_config(two);
	struct cfg_standard sd = {.id = "STD-1",
	                          .model = "",
	                          .serial = "",
	                          .owner = "lab",
	                          .location = "",
	                          .cal_interval_days = 180,
	                          .due_soon_days = 30};
	struct calib_record r;
	const int64_t now = real_now_us(), later = now + 2 * 3600 * SEC;
	struct store *st;
	struct query *q;
	struct composer *cp;

	(void)state;
	c->instruments[0].cal_interval_days = 365;
	c->instruments[0].due_soon_days = 30;
	c->standards = &sd;
	c->nstandards = 1;
	st = open_ok(db_path(path));
	if (store_sync_config(st, c) < 0)
		fail_msg("store_sync_config: %s", store_last_message(st));
	cp = composer_new(c);
	assert_non_null(cp);
	assert_int_equal(composer_calibration(cp, st, now), 0); /* learns */

	cal_record(&r, "STD-1", "S-F", "tech", later);
	cal_point(&r, "t", "degC", 20, 20.1, NAN);
	cal_append(st, &r);
	cal_record(&r, "dmm-1", "C-1", "tech", now);
	snprintf(r.standard, sizeof(r.standard), "STD-1");
	snprintf(r.standard_reason, sizeof(r.standard_reason),
	         "its calibration is dated later");
	cal_point(&r, "volt", "V", 1, 1.1, NAN);
	cal_append(st, &r);
	/* the snapshot: the standard was not calibrated yet at now */
	assert_int_equal(sql_int(path, "SELECT count(*) FROM calibrations"
	                               " WHERE certificate = 'C-1'"
	                               " AND standard_cert = ''"
	                               " AND standard_overdue = 1"),
	                 1);

	/* before its time: only C-1 comes into force */
	assert_int_equal(composer_calibration(cp, st, now + 1), 1);
	assert_true(composer_renewed(cp, 0));
	assert_int_equal(composer_calibration(cp, st, later - 1), 0);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM events e"
	                               " JOIN instruments i"
	                               " ON i.id = e.instrument_id"
	                               " WHERE i.name = 'STD-1'"),
	                 0);
	q = query_open(path, err, sizeof(err));
	if (q == NULL)
		fail_msg("query_open: %s", err);
	assert_int_equal(
	        tool_in_force(q, "STD-1", later - 1, cert, sizeof(cert)),
	        CALIB_DUE_NONE);
	assert_string_equal(cert, "");
	assert_int_equal(
	        tool_in_force(q, "dmm-1", later - 1, cert, sizeof(cert)),
	        CALIB_DUE_OK);
	assert_string_equal(cert, "C-1");

	/* at its time: in force for the refresh 1 us after the last one */
	assert_int_equal(composer_calibration(cp, st, later), 1);
	assert_false(composer_renewed(cp, 0));
	assert_int_equal(sql_int(path,
	                         "SELECT count(*) FROM events e"
	                         " JOIN instruments i ON i.id = e.instrument_id"
	                         " WHERE i.name = 'STD-1' AND e.ts = %lld"
	                         " AND e.kind = 'calibration'"
	                         " AND e.state_from = 'none'"
	                         " AND e.state_to = 'ok'"
	                         " AND e.detail LIKE 'none -> ok: due %%,"
	                         " certificate S-F'",
	                         (long long)later),
	                 1);
	assert_int_equal(tool_in_force(q, "STD-1", later, cert, sizeof(cert)),
	                 CALIB_DUE_OK);
	assert_string_equal(cert, "S-F");
	/* a record performed from then on has it as its standard's snapshot */
	cal_record(&r, "dmm-1", "C-2", "tech", later);
	snprintf(r.standard, sizeof(r.standard), "STD-1");
	cal_point(&r, "volt", "V", 1, 1.05, NAN);
	cal_append(st, &r);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM calibrations"
	                               " WHERE certificate = 'C-2'"
	                               " AND standard_cert = 'S-F'"
	                               " AND standard_overdue = 0"),
	                 1);
	query_close(q);
	composer_free(cp);
	store_close(st);
	c->standards = NULL;
	c->nstandards = 0;
	free_config(c);
	db_assert_integrity(path);
}

/* The accounts of metrolog-web: written by store_user_*(), read back by
 * query_user(); what the store refuses leaves the table as it was. */
static void test_users(void **state)
{
	char path[H_PATH_MAX], err[512];
	struct store *st;
	struct query *q;
	struct query_user u;
	int64_t v1, v2;

	(void)state;
	db_path(path);
	st = open_ok(path);
	db_exec(path, "INSERT INTO customers (name, legal_name, address,"
	              " contact, last_config) VALUES ('ACME', 'ACME Ltd', '',"
	              " '', 1)");
	assert_int_equal(
	        store_user_add(st, "tech", "technician", NULL, "$argon2id$h1"),
	        0);
	assert_int_equal(store_user_add(st, "acme.qm", "enterprise", "ACME",
	                                "$argon2id$h2"),
	                 0);
	/* refused: a name taken, an unknown customer, a customer against the
	 * role, a role the schema does not know */
	assert_int_equal(store_user_add(st, "tech", "manager", NULL, "$x"), -1);
	assert_non_null(strstr(store_last_message(st), "exists already"));
	assert_int_equal(store_user_add(st, "b", "enterprise", "NOPE", "$x"),
	                 -1);
	assert_non_null(strstr(store_last_message(st), "no customer NOPE"));
	assert_int_equal(store_user_add(st, "c", "technician", "ACME", "$x"),
	                 -1);
	assert_int_equal(store_user_add(st, "d", "enterprise", NULL, "$x"), -1);
	assert_int_equal(store_user_add(st, "e", "admin", NULL, "$x"), -1);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM users"), 2);
	assert_int_equal(store_user_passwd(st, "nobody", "$x"), -1);
	assert_non_null(strstr(store_last_message(st), "no user nobody"));

	q = query_open(path, err, sizeof(err));
	assert_non_null(q);
	assert_int_equal(query_data_version(q, &v1), 0);
	assert_int_equal(store_user_passwd(st, "tech", "$argon2id$h3"), 0);
	assert_int_equal(store_user_disable(st, "acme.qm", true), 0);
	assert_int_equal(query_data_version(q, &v2), 0);
	assert_true(v2 != v1); /* another connection committed */
	assert_int_equal(query_user(q, "tech", &u), 0);
	assert_string_equal(u.role, "technician");
	assert_string_equal(u.customer, "");
	assert_string_equal(u.password, "$argon2id$h3");
	assert_false(u.disabled);
	assert_true(u.created_us > T0);
	assert_int_equal(query_user(q, "acme.qm", &u), 0);
	assert_string_equal(u.customer, "ACME");
	assert_true(u.disabled);
	assert_int_equal(query_user(q, "nobody", &u), 1);
	query_close(q);
	store_close(st);
	/* never deleted: a trigger refuses it */
	sqlite3 *db = sql_open(path, true);
	assert_int_equal(
	        sqlite3_exec(db, "DELETE FROM users", NULL, NULL, NULL),
	        SQLITE_CONSTRAINT);
	assert_non_null(strstr(sqlite3_errmsg(db), "never deleted"));
	sqlite3_close(db);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM users"), 2);
	db_assert_integrity(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_quality_names, h_teardown),
	        cmocka_unit_test_teardown(test_open_reopen, h_teardown),
	        cmocka_unit_test_teardown(test_newer_schema_refused,
	                                  h_teardown),
	        cmocka_unit_test_teardown(test_not_a_database, h_teardown),
	        cmocka_unit_test_teardown(test_open_permission_denied,
	                                  h_teardown),
	        cmocka_unit_test_teardown(test_sync_config_reload, h_teardown),
	        cmocka_unit_test_teardown(test_append_read_back, h_teardown),
	        cmocka_unit_test_teardown(test_batch_atomic, h_teardown),
	        cmocka_unit_test_teardown(test_busy, h_teardown),
	        cmocka_unit_test_teardown(test_disk_full, h_teardown),
	        cmocka_unit_test_teardown(test_archive_move, h_teardown),
	        cmocka_unit_test_teardown(test_retention, h_teardown),
	        cmocka_unit_test_teardown(test_archive_overlap, h_teardown),
	        cmocka_unit_test_teardown(test_migration_archive, h_teardown),
	        cmocka_unit_test_teardown(test_migration_to_outbox, h_teardown),
	        cmocka_unit_test_teardown(test_outbox_off, h_teardown),
	        cmocka_unit_test_teardown(test_outbox_messages, h_teardown),
	        cmocka_unit_test_teardown(test_outbox_rebuilt_from_archive,
	                                  h_teardown),
	        cmocka_unit_test_teardown(test_outbox_full, h_teardown),
	        cmocka_unit_test_teardown(test_tolerance_events, h_teardown),
	        cmocka_unit_test_teardown(test_migration_event_states,
	                                  h_teardown),
	        cmocka_unit_test_teardown(test_cal_in_force_future, h_teardown),
	        cmocka_unit_test_teardown(test_users, h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
