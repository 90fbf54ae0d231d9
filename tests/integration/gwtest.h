/*
 * gwtest.h - helpers shared by the metrologd end-to-end tests
 * (test_gateway.c, test_mqtt.c): a gateway's directory, configuration,
 * database and log; starting and stopping metrologd through the harness
 * (so that METROLOG_TEST_WRAPPER runs it under valgrind); reading the
 * database with plain SQL. Every function is static inline, so a test that
 * does not use one does not warn. They fail the running cmocka test.
 */
#ifndef METROLOG_GWTEST_H
#define METROLOG_GWTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "sqltest.h"

struct gw {
	pid_t pid;
	char dir[H_PATH_MAX];
	char cfg[H_PATH_MAX];
	char db[H_PATH_MAX];
	char log[H_PATH_MAX];
};

static inline void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static inline void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* A TCP bus block for a simulator on port. */
static inline void tcp_bus(char *out, size_t size, const char *name, int port,
                           int timeout_ms)
{
	snprintf(out, size,
	         "{ name = \"%s\"; type = \"tcp\"; host = \"127.0.0.1\"; "
	         "port = %d; timeout_ms = %d; backoff_max_ms = 1000; }",
	         name, port, timeout_ms);
}

/* An instrument with nch float32 channels c0.. at input registers 0.. */
static inline void instrument(char *out, size_t size, const char *id,
                              const char *bus, int unit, int interval_ms,
                              int nch)
{
	int n = snprintf(out, size,
	                 "{ id = \"%s\"; bus = \"%s\"; unit_id = %d; "
	                 "interval_ms = %d; owner = \"ACME\"; channels = (",
	                 id, bus, unit, interval_ms);
	for (int c = 0; c < nch; c++)
		n += snprintf(out + n, size - (size_t)n,
		              "%s{ name = \"c%d\"; table = \"input\"; "
		              "address = %d; type = \"float32\"; "
		              "unit = \"degC\"; }",
		              c ? ", " : "", c, 2 * c);
	snprintf(out + n, size - (size_t)n, "); }");
}

static inline void gw_config(struct gw *g, const char *buses, const char *insts,
                             const char *storage)
{
	char text[32768];

	snprintf(text, sizeof(text),
	         "site = \"test-lab\";\ndatabase = \"%s\";\n%s\n"
	         "buses = ( %s );\ninstruments = ( %s );\n",
	         g->db, storage != NULL ? storage : "", buses, insts);
	write_file(g->cfg, text);
}

static inline void gw_init(struct gw *g, const char *dir)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->dir, sizeof(g->dir), "%s", dir);
	h_path(g->cfg, dir, "metrologd.cfg");
	h_path(g->db, dir, "metrolog.db");
	h_path(g->log, dir, "metrologd.log");
}

static inline void gw_start(struct gw *g)
{
	const char *argv[] = {METROLOGD_BIN, "-c", g->cfg, NULL};

	g->pid = h_spawn(argv, g->log, true);
	assert_true(g->pid > 0);
}

/* The last 6 KiB of g's log on stderr: what a failing test shows of
 * why metrologd ended as it did (valgrind's report among it). */
static inline void gw_log_tail(const struct gw *g)
{
	char buf[6144];
	size_t n = 0;
	FILE *f = fopen(g->log, "r");

	if (f != NULL) {
		if (fseek(f, -(long)(sizeof(buf) - 1), SEEK_END) != 0)
			rewind(f);
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	fprintf(stderr, "--- the end of %s:\n%s\n---\n", g->log, buf);
}

/* SIGTERM and wait; returns the exit code (-1 if it did not exit), after
 * showing the end of its log when that is not 0. */
static inline int gw_stop(struct gw *g)
{
	int status = h_stop(g->pid, SIGTERM, 30000);

	g->pid = 0;
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		gw_log_tail(g);
	if (status == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Wait (up to timeout_ms) until sql's first column, on g's database, is
 * at least 1 (a condition written in SQL); false when it never was. An
 * absent file or schema counts as not yet. */
static inline bool gw_wait_sql(const struct gw *g, const char *sql,
                               int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 100) {
		if (access(g->db, F_OK) == 0 && db_try_int(g->db, sql) >= 1)
			return true;
		sleep_ms(100);
	}
	return false;
}

/* Wait (up to 60 s) until g's log (its first MiB) holds text; fails the
 * test when it never does. */
static inline void gw_wait_log(const struct gw *g, const char *text)
{
	static char buf[1 << 20];

	for (int i = 0; i < 600; i++) {
		if (h_read_file(g->log, buf, sizeof(buf)) >= 0 &&
		    strstr(buf, text) != NULL)
			return;
		sleep_ms(100);
	}
	fail_msg("'%s' never in %s", text, g->log);
}

#ifdef METROLOG_SUPP_DIR
/*
 * fontconfig leaks a block of its own once per process (fontconfig.supp):
 * add its suppressions to a valgrind wrapper and to LeakSanitizer for the
 * programs this test starts, so that what remains to report is ours.
 * For tests built with SUPP (METROLOG_SUPP_DIR): those that draw PDFs.
 */
static inline void gw_suppress_font_leaks(void)
{
	const char *w = getenv("METROLOG_TEST_WRAPPER");
	const char *lsan = getenv("LSAN_OPTIONS");
	char buf[1024];

	if (w != NULL && strstr(w, "valgrind") != NULL &&
	    strstr(w, "fontconfig.supp") == NULL) {
		snprintf(buf, sizeof(buf),
		         "%s --suppressions=" METROLOG_SUPP_DIR
		         "/fontconfig.supp",
		         w);
		setenv("METROLOG_TEST_WRAPPER", buf, 1);
	}
	snprintf(buf, sizeof(buf),
	         "%s%ssuppressions=" METROLOG_SUPP_DIR "/fontconfig.lsan",
	         lsan ? lsan : "", lsan ? ":" : "");
	setenv("LSAN_OPTIONS", buf, 1);
}
#endif

/* Run the metrolog tool with args (NULL-terminated, without the program
 * name); its stdout and stderr, into out, come from a log file in dir.
 * Returns its exit status. */
static inline int gw_tool(const char *dir, const char *const args[], char *out,
                          size_t size)
{
	const char *argv[64] = {METROLOG_BIN};
	char log[H_PATH_MAX], name[32];
	static int n;
	int i, code;

	for (i = 0; args[i] != NULL && i < 62; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	snprintf(name, sizeof(name), "metrolog-%d.log", n++);
	code = h_run(argv, h_path(log, dir, name), true, 60000);
	assert_true(h_read_file(log, out, size) >= 0);
	assert_true(code >= 0);
	return code;
}

#endif
