/*
 * pgtest.h - a real PostgreSQL 15 for the collector's tests: initdb in a
 * directory of the test's own, the server on a free loopback port with
 * its unix socket in that directory, queries with libpq. PostgreSQL
 * refuses to run as root: when the tests do, initdb and postgres run as
 * nobody (setpriv, which execs: the harness kills the server by its pid),
 * in a directory owned by nobody under /tmp (h_tmpdir_shared(): the
 * checkout may lie in a directory nobody cannot enter, a 0700 one). Every
 * function is static inline, like gwtest.h's; they fail the running
 * cmocka test.
 */
#ifndef METROLOG_PGTEST_H
#define METROLOG_PGTEST_H

#include <libpq-fe.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gwtest.h"

#define PG_BIN "/usr/lib/postgresql/15/bin"

struct pg {
	pid_t pid;
	int port;
	char dir[H_PATH_MAX]; /* owned by the server's user */
	char data[H_PATH_MAX];
	char log[H_PATH_MAX];
	char conninfo[H_PATH_MAX + 64];
};

/* argv with "setpriv --reuid=nobody ..." in front when root; out holds
 * at most 24 entries. */
static inline void pg_argv(const char **out, const char *const argv[])
{
	int n = 0;

	if (geteuid() == 0) {
		out[n++] = "setpriv";
		out[n++] = "--reuid=65534";
		out[n++] = "--regid=65534";
		out[n++] = "--clear-groups";
	}
	for (int i = 0; argv[i] != NULL && n < 23; i++)
		out[n++] = argv[i];
	out[n] = NULL;
}

/* Wait (up to 60 s) until the server answers PQping. */
static inline void pg_wait_ready(const struct pg *p)
{
	for (int i = 0; i < 600; i++) {
		if (PQping(p->conninfo) == PQPING_OK)
			return;
		if (!h_alive(p->pid))
			fail_msg("postgres exited; see %s", p->log);
		sleep_ms(100);
	}
	fail_msg("postgres never accepted connections; see %s", p->log);
}

/* Start the server made by pg_init() (again, after pg_stop()). */
static inline void pg_start(struct pg *p)
{
	char port[16];
	const char *argv[24];

	snprintf(port, sizeof(port), "%d", p->port);
	pg_argv(argv,
	        (const char *const[]){PG_BIN "/postgres", "-D", p->data, "-p",
	                              port, "-k", p->dir, "-c",
	                              "listen_addresses=127.0.0.1", NULL});
	p->pid = h_spawn(argv, p->log, false);
	assert_true(p->pid > 0);
	pg_wait_ready(p);
}

/* initdb in a fresh directory under dir (trust authentication, user
 * "metrolog"), or under /tmp when root, then start the server on a free
 * port. */
static inline void pg_init(struct pg *p, const char *dir)
{
	const char *argv[24];
	char initlog[H_PATH_MAX];

	memset(p, 0, sizeof(*p));
	if (geteuid() == 0)
		dir = h_tmpdir_shared();
	h_path(p->dir, dir, "pg");
	h_path(p->data, p->dir, "data");
	h_path(p->log, dir, "postgres.log");
	h_path(initlog, dir, "initdb.log");
	assert_int_equal(mkdir(p->dir, 0700), 0);
	if (geteuid() == 0) {
		/* nobody must reach its directory: mkdtemp made it 0700 */
		assert_int_equal(chmod(dir, 0711), 0);
		assert_int_equal(chown(p->dir, 65534, 65534), 0);
		write_file(p->log, "");
		assert_int_equal(chown(p->log, 65534, 65534), 0);
		write_file(initlog, "");
		assert_int_equal(chown(initlog, 65534, 65534), 0);
	}
	pg_argv(argv, (const char *const[]){PG_BIN "/initdb", "-D", p->data,
	                                    "-U", "metrolog", "-A", "trust",
	                                    "-E", "UTF8", "--no-sync", NULL});
	if (h_run(argv, initlog, false, 120000) != 0)
		fail_msg("initdb failed; see %s", initlog);
	p->port = h_free_port();
	snprintf(p->conninfo, sizeof(p->conninfo),
	         "host=127.0.0.1 port=%d dbname=postgres user=metrolog "
	         "connect_timeout=5",
	         p->port);
	pg_start(p);
}

/* Fast shutdown (SIGINT); returns once the server has exited. */
static inline void pg_stop(struct pg *p)
{
	assert_true(h_stop(p->pid, SIGINT, 60000) != -1);
	p->pid = 0;
}

/* The first column of the first row of sql as an integer (NULL: 0);
 * fails the test on an error. */
static inline long long pg_int(const struct pg *p, const char *sql)
{
	PGconn *c = PQconnectdb(p->conninfo);
	PGresult *r;
	long long v;

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("postgresql: %s", PQerrorMessage(c));
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	PQfinish(c);
	return v;
}

/* The first column of every row of sql as integers (NULL: 0), the first
 * max of them into out; returns how many rows; fails the test on an
 * error. */
static inline size_t pg_ints(const struct pg *p, const char *sql,
                             long long *out, size_t max)
{
	PGconn *c = PQconnectdb(p->conninfo);
	PGresult *r;
	size_t n;

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("postgresql: %s", PQerrorMessage(c));
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	n = (size_t)PQntuples(r);
	for (size_t i = 0; i < n && i < max; i++)
		out[i] = strtoll(PQgetvalue(r, (int)i, 0), NULL, 10);
	PQclear(r);
	PQfinish(c);
	return n;
}

/* What pg_each() hands its function for each row: the row's values as
 * text (a NULL: NULL), n of them. */
typedef void pg_row_fn(const char *const *v, int n, void *arg);

/* fn(values, columns, arg) for each row of sql (at most 16 columns);
 * returns how many rows; fails the test on an error. */
static inline size_t pg_each(const struct pg *p, const char *sql, pg_row_fn *fn,
                             void *arg)
{
	PGconn *c = PQconnectdb(p->conninfo);
	PGresult *r;
	const char *v[16];
	size_t n;
	int cols;

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("postgresql: %s", PQerrorMessage(c));
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	n = (size_t)PQntuples(r);
	cols = PQnfields(r) < 16 ? PQnfields(r) : 16;
	for (int i = 0; i < (int)n; i++) {
		for (int j = 0; j < cols; j++)
			v[j] = PQgetisnull(r, i, j) ? NULL
			                            : PQgetvalue(r, i, j);
		fn(v, cols, arg);
	}
	PQclear(r);
	PQfinish(c);
	return n;
}

/* Wait (up to timeout_ms) until sql gives at least want; returns what it
 * gave last. */
static inline long long pg_wait_int(const struct pg *p, const char *sql,
                                    long long want, int timeout_ms)
{
	long long v = 0;

	for (int waited = 0; waited <= timeout_ms; waited += 100) {
		if ((v = pg_int(p, sql)) >= want)
			break;
		sleep_ms(100);
	}
	return v;
}

#endif
