/*
 * test_powercut.c - power cuts at hundreds of random points of a real
 * ingest-and-publish sequence: after each, the database opens, its
 * integrity check is ok, every outbox message handed to the broker is
 * still in the database (or was acknowledged), no seq is handed out again,
 * and every calibration record whose certificate could have been printed
 * is there with its number (docs/SCHEMA.md, "Durable before visible").
 *
 * How (the idea of SQLite's own crash tests, src/test6.c): a VFS shim,
 * registered as this process's default, sits over SQLite's unix VFS and
 * keeps, for each file, the image it had at its last xSync (a file never
 * synced does not exist on "disk"), and the writes made since. At the Nth
 * write or sync of the run the power goes: that call and every later one
 * fails (a delete does nothing: the process is dead), the test stops
 * driving, closes everything, and puts each file back as a power cut
 * leaves it: its synced image with a random half of the writes made since
 * laid over it, in order (the disk may have taken some of them); the -shm
 * file is gone (it lives in memory).
 *
 * The sequence: the ingest loop (gateway/daemon/ingest.c, composing with
 * compose.c) over a configuration with an mqtt group, a real queue, a
 * clock the test drives; after each step the test does what the publisher
 * does after a commit: it reads the outbox past what it sent, "sends" it
 * (records the seqs), and now and then deletes what the broker
 * "acknowledged"; every 10 steps it appends a calibration record as
 * `metrolog calibrate` does (its certificate may then be printed). With
 * `synchronous = NORMAL` this test fails: sent seqs vanish and come back
 * for other messages, and certified records vanish.
 *
 * Threading: one thread. METROLOG_POWERCUT_SEED sets the seed (printed).
 */
#define _DEFAULT_SOURCE /* drand48() */
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "caltest.h"
#include "config_load.h"
#include "fakeclock.h"
#include "harness.h"
#include "ingest.h"
#include "log.h"
#include "queue.h"
#include "store.h"

#define MS      1000LL
#define RUNS    200 /* power cuts */
#define STEPS   60  /* ingest steps of one run */
#define MAXSENT 4096

/* ---- the power-cut VFS --------------------------------------------------- */

struct pc_write {
	sqlite3_int64 off;
	int n;
	unsigned char *data;
};

/* What the "disk" holds of one file. */
struct pc_track {
	char *path;
	bool exists;            /* synced at least once (or there before) */
	unsigned char *durable; /* its image at the last sync */
	size_t dlen;
	struct pc_write *w; /* the writes since */
	size_t nw, wcap;
	struct pc_track *next;
};

struct pc_file {
	sqlite3_file base;
	struct pc_track *t; /* NULL: not tracked (temp files) */
	sqlite3_file *real; /* the unix VFS's file, right after this struct */
};

static struct pc_state {
	sqlite3_vfs vfs;
	sqlite3_vfs *real;
	struct pc_track *tracks;
	long ops;      /* writes and syncs so far in this run */
	long crash_at; /* 0: never */
	bool crashed;
	bool on; /* false: pass everything through, track nothing */
} pc;

static bool power_fails(void)
{
	if (pc.crashed)
		return true;
	if (pc.on && pc.crash_at > 0 && ++pc.ops >= pc.crash_at)
		pc.crashed = true;
	else if (pc.on && pc.crash_at == 0)
		pc.ops++;
	return pc.crashed;
}

/* The whole of a file as it is now (errors: empty). */
static unsigned char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;

	*len = 0;
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n)) != NULL)
		*len = fread(buf, 1, (size_t)n, f);
	fclose(f);
	return buf;
}

static void forget_writes(struct pc_track *t)
{
	for (size_t i = 0; i < t->nw; i++)
		free(t->w[i].data);
	t->nw = 0;
}

static struct pc_track *track(const char *path)
{
	struct pc_track *t;

	for (t = pc.tracks; t != NULL; t = t->next)
		if (strcmp(t->path, path) == 0)
			return t;
	t = calloc(1, sizeof(*t));
	assert_non_null(t);
	t->path = strdup(path);
	assert_non_null(t->path);
	t->durable = read_all(path, &t->dlen);
	t->exists = access(path, F_OK) == 0;
	t->next = pc.tracks;
	pc.tracks = t;
	return t;
}

static void tracks_free(void)
{
	while (pc.tracks != NULL) {
		struct pc_track *t = pc.tracks;
		pc.tracks = t->next;
		forget_writes(t);
		free(t->w);
		free(t->durable);
		free(t->path);
		free(t);
	}
}

static int pc_close(sqlite3_file *f)
{
	struct pc_file *p = (struct pc_file *)f;

	return p->real->pMethods->xClose(p->real);
}

static int pc_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	struct pc_file *p = (struct pc_file *)f;

	return p->real->pMethods->xRead(p->real, buf, n, off);
}

static int pc_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	struct pc_file *p = (struct pc_file *)f;
	struct pc_track *t = p->t;

	if (t != NULL && power_fails())
		return SQLITE_IOERR_WRITE;
	int rc = p->real->pMethods->xWrite(p->real, buf, n, off);
	if (rc == SQLITE_OK && t != NULL && pc.on) {
		if (t->nw == t->wcap) {
			t->wcap = t->wcap ? 2 * t->wcap : 64;
			t->w = realloc(t->w, t->wcap * sizeof(*t->w));
			assert_non_null(t->w);
		}
		struct pc_write *w = &t->w[t->nw++];
		w->off = off;
		w->n = n;
		w->data = malloc((size_t)n);
		assert_non_null(w->data);
		memcpy(w->data, buf, (size_t)n);
	}
	return rc;
}

static int pc_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct pc_file *p = (struct pc_file *)f;

	if (p->t != NULL && pc.crashed)
		return SQLITE_IOERR_TRUNCATE;
	return p->real->pMethods->xTruncate(p->real, size);
}

/* The sync itself is simulated: the image is what the disk now holds. */
static int pc_sync(sqlite3_file *f, int flags)
{
	struct pc_file *p = (struct pc_file *)f;
	struct pc_track *t = p->t;

	if (t == NULL)
		return p->real->pMethods->xSync(p->real, flags);
	if (power_fails())
		return SQLITE_IOERR_FSYNC;
	free(t->durable);
	t->durable = read_all(t->path, &t->dlen);
	t->exists = true;
	forget_writes(t);
	return SQLITE_OK;
}

static int pc_size(sqlite3_file *f, sqlite3_int64 *size)
{
	struct pc_file *p = (struct pc_file *)f;

	return p->real->pMethods->xFileSize(p->real, size);
}

static int pc_lock(sqlite3_file *f, int lock)
{
	struct pc_file *p = (struct pc_file *)f;

	return p->real->pMethods->xLock(p->real, lock);
}

static int pc_unlock(sqlite3_file *f, int lock)
{
	struct pc_file *p = (struct pc_file *)f;

	return p->real->pMethods->xUnlock(p->real, lock);
}

static int pc_reserved(sqlite3_file *f, int *out)
{
	struct pc_file *p = (struct pc_file *)f;

	return p->real->pMethods->xCheckReservedLock(p->real, out);
}

static int pc_fcntl(sqlite3_file *f, int op, void *arg)
{
	struct pc_file *p = (struct pc_file *)f;

	return p->real->pMethods->xFileControl(p->real, op, arg);
}

static int pc_sector(sqlite3_file *f)
{
	struct pc_file *p = (struct pc_file *)f;

	return p->real->pMethods->xSectorSize(p->real);
}

static int pc_devchar(sqlite3_file *f)
{
	struct pc_file *p = (struct pc_file *)f;

	/* no "powersafe overwrite" and no atomic writes: assume the worst */
	return p->real->pMethods->xDeviceCharacteristics(p->real) &
	       ~(SQLITE_IOCAP_POWERSAFE_OVERWRITE | SQLITE_IOCAP_ATOMIC |
	         SQLITE_IOCAP_SAFE_APPEND | SQLITE_IOCAP_SEQUENTIAL);
}

static int pc_shm_map(sqlite3_file *f, int pg, int sz, int ext,
                      void volatile **pp)
{
	struct pc_file *p = (struct pc_file *)f;

	return p->real->pMethods->xShmMap(p->real, pg, sz, ext, pp);
}

static int pc_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	struct pc_file *p = (struct pc_file *)f;

	return p->real->pMethods->xShmLock(p->real, off, n, flags);
}

static void pc_shm_barrier(sqlite3_file *f)
{
	struct pc_file *p = (struct pc_file *)f;

	p->real->pMethods->xShmBarrier(p->real);
}

static int pc_shm_unmap(sqlite3_file *f, int del)
{
	struct pc_file *p = (struct pc_file *)f;

	return p->real->pMethods->xShmUnmap(p->real, pc.crashed ? 0 : del);
}

static const sqlite3_io_methods pc_io = {
        .iVersion = 2, /* no xFetch: every read goes through xRead */
        .xClose = pc_close,
        .xRead = pc_read,
        .xWrite = pc_write,
        .xTruncate = pc_truncate,
        .xSync = pc_sync,
        .xFileSize = pc_size,
        .xLock = pc_lock,
        .xUnlock = pc_unlock,
        .xCheckReservedLock = pc_reserved,
        .xFileControl = pc_fcntl,
        .xSectorSize = pc_sector,
        .xDeviceCharacteristics = pc_devchar,
        .xShmMap = pc_shm_map,
        .xShmLock = pc_shm_lock,
        .xShmBarrier = pc_shm_barrier,
        .xShmUnmap = pc_shm_unmap,
};

static int pc_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f,
                   int flags, int *out)
{
	struct pc_file *p = (struct pc_file *)f;
	int rc;

	(void)vfs;
	p->real = (sqlite3_file *)(p + 1);
	p->t = NULL;
	rc = pc.real->xOpen(pc.real, name, p->real, flags, out);
	if (rc != SQLITE_OK) {
		p->base.pMethods = NULL;
		return rc;
	}
	if (pc.on && name != NULL &&
	    (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL |
	              SQLITE_OPEN_MAIN_JOURNAL)))
		p->t = track(name);
	p->base.pMethods = &pc_io;
	return SQLITE_OK;
}

static int pc_delete(sqlite3_vfs *vfs, const char *name, int dirsync)
{
	(void)vfs;
	if (pc.crashed)
		return SQLITE_OK; /* the process is dead: nothing happens */
	for (struct pc_track *t = pc.tracks; t != NULL; t = t->next)
		if (strcmp(t->path, name) == 0) {
			t->exists = false;
			t->dlen = 0;
			forget_writes(t);
		}
	return pc.real->xDelete(pc.real, name, dirsync);
}

static int pc_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return pc.real->xAccess(pc.real, name, flags, out);
}

static int pc_fullpath(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return pc.real->xFullPathname(pc.real, name, n, out);
}

static int pc_random(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return pc.real->xRandomness(pc.real, n, out);
}

static int pc_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return pc.real->xSleep(pc.real, us);
}

static int pc_time(sqlite3_vfs *vfs, double *t)
{
	(void)vfs;
	return pc.real->xCurrentTime(pc.real, t);
}

static int pc_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return pc.real->xGetLastError(pc.real, n, out);
}

static int pc_time64(sqlite3_vfs *vfs, sqlite3_int64 *t)
{
	(void)vfs;
	return pc.real->xCurrentTimeInt64(pc.real, t);
}

static void pc_register(void)
{
	pc.real = sqlite3_vfs_find(NULL);
	assert_non_null(pc.real);
	pc.vfs = (sqlite3_vfs){
	        .iVersion = 2,
	        .szOsFile = (int)sizeof(struct pc_file) + pc.real->szOsFile,
	        .mxPathname = pc.real->mxPathname,
	        .zName = "powercut",
	        .xOpen = pc_open,
	        .xDelete = pc_delete,
	        .xAccess = pc_access,
	        .xFullPathname = pc_fullpath,
	        .xRandomness = pc_random,
	        .xSleep = pc_sleep,
	        .xCurrentTime = pc_time,
	        .xGetLastError = pc_last_error,
	        .xCurrentTimeInt64 = pc_time64,
	};
	assert_int_equal(sqlite3_vfs_register(&pc.vfs, 1), SQLITE_OK);
}

/* Put every tracked file back as the power cut left it: its synced image,
 * then each write made since kept or lost at random, in order; a file
 * never synced is gone; so is every -shm file. */
static void power_cut_aftermath(void)
{
	for (struct pc_track *t = pc.tracks; t != NULL; t = t->next) {
		char shm[H_PATH_MAX + 8];
		if (!t->exists) {
			unlink(t->path);
			continue;
		}
		int fd = open(t->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_true(fd >= 0);
		assert_true(t->dlen == 0 ||
		            write(fd, t->durable, t->dlen) == (ssize_t)t->dlen);
		for (size_t i = 0; i < t->nw; i++)
			if (drand48() < 0.5)
				assert_int_equal(pwrite(fd, t->w[i].data,
				                        (size_t)t->w[i].n,
				                        t->w[i].off),
				                 t->w[i].n);
		close(fd);
		snprintf(shm, sizeof(shm), "%s-shm", t->path);
		unlink(shm);
	}
}

/* ---- the ingest-and-publish sequence ----------------------------------- */

/* What the "broker" was handed and acknowledged, and the certificates
 * printed (a calibration record appended: store_cal_append() returned). */
struct sent {
	int64_t seq[MAXSENT];
	size_t n;
	int64_t last, acked; /* highest seq sent; acknowledged up to */
	int certs;           /* C-1 .. C-certs */
};

struct run {
	struct fake_clock t;
	struct mclock clk;
	char dir[H_PATH_MAX], db[H_PATH_MAX];
	struct config *cfg;
	struct store *st;
	struct queue *q;
	struct ingest *in;
	struct sent sent;
};

static struct config *write_config(struct run *r)
{
	char path[H_PATH_MAX];
	FILE *f = fopen(h_path(path, r->dir, "gw.cfg"), "w");

	assert_non_null(f);
	fprintf(f,
	        "site = \"s\";\ndatabase = \"%s\";\n"
	        "storage = { batch_max = 8; batch_ms = 50; };\n"
	        "mqtt = {};\n"
	        "buses = ( { name = \"b\"; type = \"tcp\"; host = "
	        "\"localhost\"; port = 502; } );\n"
	        "instruments = (\n"
	        " { id = \"A\"; bus = \"b\"; unit_id = 1; interval_ms = 1000;"
	        "  channels = ( { name = \"x\"; table = \"input\"; address = 0;"
	        " type = \"uint16\"; }, { name = \"y\"; table = \"input\";"
	        " address = 1; type = \"uint16\"; } ); }\n);\n",
	        r->db);
	fclose(f);
	struct config *c = config_load(path, stderr);
	assert_non_null(c);
	return c;
}

/* The publisher's turn after a commit: hand on what the outbox holds
 * past the last seq sent; acknowledge (delete) now and then. Returns -1
 * once the power is gone. */
static int publish(struct run *r, long step)
{
	struct store_msg m[16];
	size_t n = 0;

	if (pc.crashed || store_outbox_read(r->st, r->sent.last, m, 16, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		assert_true(m[i].seq > r->sent.last);
		assert_true(r->sent.n < MAXSENT);
		r->sent.seq[r->sent.n++] = m[i].seq;
		r->sent.last = m[i].seq;
	}
	if (step % 7 == 6 && r->sent.last > r->sent.acked) {
		/* the broker acknowledged up to upto: deleting them follows */
		r->sent.acked =
		        r->sent.acked + (r->sent.last - r->sent.acked) / 2;
		if (store_outbox_delete(r->st, r->sent.acked) < 0)
			return -1;
	}
	return 0;
}

/* metrolog calibrate's turn: a record for instrument A; once appended,
 * its certificate C-n may be printed. Returns -1 once the power is gone. */
static int certify(struct run *r)
{
	struct calib_record rec;
	char cert[16];

	snprintf(cert, sizeof(cert), "C-%d", r->sent.certs + 1);
	cal_record(&rec, "A", cert, "T. Echnician", r->t.real);
	cal_point(&rec, "temperature", "degC", 20, 20.1, NAN);
	if (pc.crashed || store_cal_append(r->st, &rec) < 0) {
		assert_true(pc.crashed); /* only the power stops it */
		return -1;
	}
	r->sent.certs++;
	return 0;
}

/* One run: open, ingest and publish for STEPS steps or until the power
 * goes (crash_at: the write or sync it goes at; 0: never). Returns the
 * writes and syncs made. */
static long run_once(struct run *r, const char *top, int k, long crash_at)
{
	char err[512], name[32];

	memset(r, 0, sizeof(*r));
	r->t = (struct fake_clock){.real = 1700000000000000LL, .mono = 1000};
	r->clk = fake_clock_of(&r->t);
	snprintf(name, sizeof(name), "run-%d", k);
	h_path(r->dir, top, name);
	assert_int_equal(mkdir(r->dir, 0755), 0);
	h_path(r->db, r->dir, "metrolog.db");
	r->cfg = write_config(r);
	pc.tracks = NULL; /* tracks_free() forgot the last run's */
	pc.ops = 0;
	pc.crash_at = crash_at;
	pc.crashed = false;
	pc.on = true;
	r->st = store_open(r->db, err, sizeof(err));
	if (r->st == NULL) {
		assert_true(pc.crashed); /* only the power stops it */
		return pc.ops;
	}
	r->q = queue_new(4096, QUEUE_DROP_OLDEST);
	assert_non_null(r->q);
	if (store_sync_config(r->st, r->cfg) == 0 &&
	    (r->in = ingest_new(r->cfg, r->st, r->q, &r->clk)) != NULL) {
		for (long step = 0; step < STEPS && !pc.crashed; step++) {
			for (uint32_t ch = 0; ch < 2; ch++) {
				struct sample s = {.ts_us = r->t.real + ch,
				                   .index = ch,
				                   .kind = SAMPLE_READING,
				                   .value = (double)step};
				assert_int_equal(queue_push(r->q, &s, 1), 0);
			}
			ingest_step(r->in, 0);
			if (publish(r, step) < 0 ||
			    (step % 10 == 5 && certify(r) < 0))
				break;
			fake_sleep(&r->t, 20 * MS);
		}
	}
	/* a cut may also come while closing, or (the counts of a run vary a
	 * little) after it: the files are then as the close left them */
	ingest_free(r->in);
	queue_free(r->q);
	store_close(r->st);
	return pc.ops;
}

/* After the cut: the file opens, is intact, holds every message sent and
 * not acknowledged, and the next seq is past every seq sent. */
static void check_after(struct run *r, long crash_at)
{
	char err[512];
	sqlite3 *db;
	sqlite3_stmt *s;

	pc.on = false;
	pc.crashed = false;
	if (access(r->db, F_OK) != 0) { /* never synced: never there */
		if (r->sent.n > 0)
			fail_msg("cut at %ld: %zu messages were sent, and the "
			         "database is gone",
			         crash_at, r->sent.n);
		config_free(r->cfg);
		return;
	}
	assert_int_equal(
	        sqlite3_open_v2(r->db, &db, SQLITE_OPEN_READWRITE, NULL),
	        SQLITE_OK);
	assert_int_equal(
	        sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL),
	        SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	if (strcmp((const char *)sqlite3_column_text(s, 0), "ok") != 0)
		fail_msg("cut at %ld: integrity_check: %s", crash_at,
		         sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	s = NULL;
	if (r->sent.n > 0 && /* else the schema may not be there yet */
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM outbox WHERE seq = ?1",
	                       -1, &s, NULL) != SQLITE_OK)
		fail_msg("cut at %ld: %zu messages were sent, and the "
		         "outbox is gone: %s",
		         crash_at, r->sent.n, sqlite3_errmsg(db));
	for (size_t i = 0; i < r->sent.n; i++) {
		if (r->sent.seq[i] <= r->sent.acked)
			continue; /* acknowledged: deleted, or sent again */
		sqlite3_bind_int64(s, 1, r->sent.seq[i]);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		if (sqlite3_column_int64(s, 0) != 1)
			fail_msg("cut at %ld: seq %lld was sent, then lost",
			         crash_at, (long long)r->sent.seq[i]);
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	for (int c = 1; c <= r->sent.certs; c++) {
		char sql[128];
		snprintf(sql, sizeof(sql),
		         "SELECT count(*) FROM calibrations WHERE certificate "
		         "= 'C-%d' AND id = %d",
		         c, c);
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL),
		                 SQLITE_OK);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		if (sqlite3_column_int64(s, 0) != 1)
			fail_msg("cut at %ld: the record of printed "
			         "certificate C-%d is gone",
			         crash_at, c);
		sqlite3_finalize(s);
	}
	sqlite3_close(db);

	struct store *st = store_open(r->db, err, sizeof(err));
	int64_t next = 0;
	if (st == NULL)
		fail_msg("cut at %ld: store_open: %s", crash_at, err);
	assert_int_equal(store_outbox_next_seq(st, &next), 0);
	if (next <= r->sent.last)
		fail_msg("cut at %ld: seq %lld would be handed out again "
		         "(%lld sent)",
		         crash_at, (long long)next, (long long)r->sent.last);
	store_close(st);
	config_free(r->cfg);
}

static void test_power_cuts(void **state)
{
	static struct run r;
	const char *env = getenv("METROLOG_POWERCUT_SEED");
	const char *top = h_tmpdir();
	long seed = env != NULL ? atol(env) : 20261205;
	long total, sent = 0, cuts = 0;

	(void)state;
	log_init("test_powercut", LOG_LEVEL_WARN);
	pc_register();
	/* how many writes and syncs a whole run makes */
	total = run_once(&r, top, RUNS, 0);
	tracks_free();
	config_free(r.cfg);
	assert_true(r.sent.n > STEPS);              /* it published */
	assert_int_equal(r.sent.certs, STEPS / 10); /* and certified */
	print_message("seed %ld: %ld writes and syncs in a run, %d cuts\n",
	              seed, total, RUNS);
	srand48(seed);
	for (int i = 0; i < RUNS; i++) {
		long at = 1 + (long)(drand48() * (double)total);
		run_once(&r, top, i, at);
		cuts += pc.crashed;
		power_cut_aftermath();
		tracks_free();
		check_after(&r, at);
		sent += (long)r.sent.n;
	}
	print_message("%ld cuts in a run, %ld messages sent before them, "
	              "none lost\n",
	              cuts, sent);
	assert_true(cuts >= RUNS * 9 / 10);
	assert_int_equal(sqlite3_vfs_unregister(&pc.vfs), SQLITE_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_power_cuts, h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
