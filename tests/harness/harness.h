/*
 * harness.h - helpers for integration tests: real processes, real sockets.
 *
 * Every process a test starts is registered here and killed (SIGKILL, by
 * PID) by h_cleanup(), which also runs at exit, so a failing or crashing
 * test leaves nothing behind; children also get PR_SET_PDEATHSIG so they die
 * with the test process. Every wait is bounded.
 *
 * Set METROLOG_TEST_WRAPPER (e.g. "valgrind --leak-check=full
 * --error-exitcode=99") to run every spawned project program under it.
 * Set METROLOG_TEST_KEEP=1 to keep temporary directories for inspection.
 */
#ifndef METROLOG_HARNESS_H
#define METROLOG_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define H_PATH_MAX 512

/* A fresh directory under METROLOG_TEST_TMP, removed by h_cleanup().
 * Returns a static-lifetime path (owned by the harness). Aborts on error. */
const char *h_tmpdir(void);

/* The same, made under /tmp instead of the build directory, for a program
 * that runs as another user: /tmp is open to every user, where the path
 * of the build directory may not be (a checkout in a 0700 directory).
 * Removed by h_cleanup() like h_tmpdir()'s. */
const char *h_tmpdir_shared(void);

/* Join dir and name into buf (H_PATH_MAX); returns buf. */
char *h_path(char *buf, const char *dir, const char *name);

/* Start argv[0] with argv, stdout and stderr appended to log_path (may be
 * NULL: inherit). wrap: run it under METROLOG_TEST_WRAPPER if set. The
 * process is registered for cleanup. Returns its pid, or -1. */
pid_t h_spawn(const char *const argv[], const char *log_path, bool wrap);

/* h_spawn() with standard input read from input_path (NULL: /dev/null;
 * a file that cannot be opened: the child exits 127). */
pid_t h_spawn_input(const char *const argv[], const char *input_path,
                    const char *log_path, bool wrap);

/* Send sig (0: none) to pid and wait up to timeout_ms for it to exit.
 * Returns the status as waitpid() reports it, or -1 on timeout (then it
 * is SIGKILLed). */
int h_stop(pid_t pid, int sig, int timeout_ms);

/* true while pid has not exited; does not reap it. */
bool h_alive(pid_t pid);

/* Wait up to timeout_ms for pid to exit by itself. Returns its status as
 * waitpid() reports it, or -1 on timeout (then it is SIGKILLed). */
int h_wait(pid_t pid, int timeout_ms);

/* h_spawn() then h_wait(): returns the exit code (0..255), or -1 if it
 * did not exit normally within timeout_ms. */
int h_run(const char *const argv[], const char *log_path, bool wrap,
          int timeout_ms);

/* h_run() with standard input read from input_path (h_spawn_input). */
int h_run_input(const char *const argv[], const char *input_path,
                const char *log_path, bool wrap, int timeout_ms);

/* Kill every registered process and remove the temp dirs. Idempotent. */
void h_cleanup(void);

/* A cmocka teardown (state unused): h_cleanup(). Returns 0. */
int h_teardown(void **state);

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int h_free_port(void);

/* Wait until path exists (up to timeout_ms). Returns 0, or -1. */
int h_wait_file(const char *path, int timeout_ms);

/* Wait until 127.0.0.1:port accepts a connection. Returns 0, or -1. */
int h_wait_port(int port, int timeout_ms);

/* Read a whole small file into buf (NUL-terminated). Returns length or -1. */
ssize_t h_read_file(const char *path, char *buf, size_t size);

/* ---- the instrument simulator (metrolog-sim) ---------------------------- */

struct h_sim {
	pid_t pid;
	int port;             /* first TCP port, 0 if none */
	char rtu[H_PATH_MAX]; /* pty symlink, "" if none */
	char log[H_PATH_MAX];
};

/* Start metrolog-sim in dir. tcp: serve TCP on a free port. rtu: serve RTU
 * on a pty linked at dir/rtu. extra: more arguments, NULL-terminated (may be
 * NULL). Waits until it serves. Returns 0, or -1 (its log says why). */
int h_sim_start(struct h_sim *s, const char *dir, bool tcp, bool rtu,
                const char *const extra[]);
/* SIGTERM, wait; returns its exit status (0 expected) or -1. */
int h_sim_stop(struct h_sim *s);

/* ---- a real mosquitto broker on loopback -------------------------------- */

struct h_broker {
	pid_t pid;
	int port;
	char dir[H_PATH_MAX];
	char log[H_PATH_MAX];
};

/* Write a mosquitto.conf in dir (listener 127.0.0.1 on a free port,
 * persistence off, max_queued_messages set high, extra_conf appended if not
 * NULL) and start mosquitto. Waits until it accepts. Returns 0, or -1.
 * The broker runs as the user running the tests ("user <that user>", so
 * started as root it does not drop to user mosquitto): it reads its files
 * and writes its persistence wherever the checkout is, 0700 parents
 * included, with no chmod by the test. */
int h_broker_start(struct h_broker *b, const char *dir, const char *extra_conf);
/* Restart on the same port (for outage tests). Returns 0, or -1. */
int h_broker_restart(struct h_broker *b);
int h_broker_stop(struct h_broker *b);

#endif
