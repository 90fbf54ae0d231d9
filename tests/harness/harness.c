/*
 * harness.c - real processes and sockets for the integration tests.
 *
 * Keeps a small table of the processes and temporary directories a test
 * made, so that h_cleanup() (registered with atexit() on first use, and
 * meant to be called from cmocka teardowns too) can SIGKILL every process by
 * PID and remove every directory even when a test fails half-way. Children
 * ask the kernel for SIGKILL when the test process dies (PR_SET_PDEATHSIG),
 * which covers a test that crashes before any cleanup runs.
 *
 * Single-threaded: call it from the test's main thread only.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define H_MAX_PROCS 64
#define H_MAX_DIRS  64
#define H_MAX_ARGS  64
#define H_POLL_MS   10

static pid_t procs[H_MAX_PROCS];
static char dirs[H_MAX_DIRS][H_PATH_MAX];
static int ndirs;
static bool atexit_done;

static void h_init(void)
{
	if (!atexit_done) {
		atexit(h_cleanup);
		signal(SIGPIPE, SIG_IGN);
		atexit_done = true;
	}
}

static void h_die(const char *what)
{
	fprintf(stderr, "harness: %s: %s\n", what, strerror(errno));
	h_cleanup();
	abort();
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void forget(pid_t pid)
{
	for (int i = 0; i < H_MAX_PROCS; i++)
		if (procs[i] == pid)
			procs[i] = 0;
}

/* A fresh directory base + tmpl ("/t-XXXXXX"), registered for
 * h_cleanup(). */
static const char *tmpdir_under(const char *base, const char *tmpl)
{
	size_t len = strlen(base), tlen = strlen(tmpl) + 1;

	h_init();
	if (ndirs == H_MAX_DIRS) {
		errno = EMFILE;
		h_die("too many temporary directories");
	}
	if (mkdir(base, 0755) == -1 && errno != EEXIST)
		h_die(base);
	char *d = dirs[ndirs];
	if (len + tlen > H_PATH_MAX) {
		errno = ENAMETOOLONG;
		h_die(base);
	}
	memcpy(d, base, len);
	memcpy(d + len, tmpl, tlen);
	if (mkdtemp(d) == NULL)
		h_die("mkdtemp");
	ndirs++;
	return d;
}

const char *h_tmpdir(void)
{
	return tmpdir_under(METROLOG_TEST_TMP, "/t-XXXXXX");
}

const char *h_tmpdir_shared(void)
{
	return tmpdir_under("/tmp", "/metrolog-test-XXXXXX");
}

char *h_path(char *buf, const char *dir, const char *name)
{
	if (snprintf(buf, H_PATH_MAX, "%s/%s", dir, name) >= H_PATH_MAX) {
		errno = ENAMETOOLONG;
		h_die(name);
	}
	return buf;
}

/* Split METROLOG_TEST_WRAPPER on spaces into argv (no quoting). */
static int wrapper_args(char *copy, size_t size, const char **out, int max)
{
	const char *w = getenv("METROLOG_TEST_WRAPPER");
	int n = 0;

	if (w == NULL || *w == '\0')
		return 0;
	snprintf(copy, size, "%s", w);
	for (char *save = NULL, *tok = strtok_r(copy, " ", &save);
	     tok != NULL && n < max; tok = strtok_r(NULL, " ", &save))
		out[n++] = tok;
	return n;
}

pid_t h_spawn(const char *const argv[], const char *log_path, bool wrap)
{
	return h_spawn_input(argv, NULL, log_path, wrap);
}

pid_t h_spawn_input(const char *const argv[], const char *input_path,
                    const char *log_path, bool wrap)
{
	const char *args[H_MAX_ARGS + 1];
	char wcopy[1024];
	int n = 0, slot;

	h_init();
	for (slot = 0; slot < H_MAX_PROCS && procs[slot] != 0; slot++)
		;
	if (slot == H_MAX_PROCS)
		return -1;
	if (wrap)
		n = wrapper_args(wcopy, sizeof(wcopy), args, H_MAX_ARGS / 2);
	for (int i = 0; argv[i] != NULL && n < H_MAX_ARGS; i++)
		args[n++] = argv[i];
	args[n] = NULL;

	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == -1)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		setpgid(0, 0);
		if (log_path != NULL) {
			int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND,
			              0644);
			if (fd == -1)
				_exit(127);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		int in = open(input_path != NULL ? input_path : "/dev/null",
		              O_RDONLY);
		if (in == -1 && input_path != NULL)
			_exit(127);
		if (in != -1) {
			dup2(in, STDIN_FILENO);
			close(in);
		}
		signal(SIGPIPE, SIG_DFL);
		execvp(args[0], (char *const *)args);
		fprintf(stderr, "harness: exec %s: %s\n", args[0],
		        strerror(errno));
		_exit(127);
	}
	procs[slot] = pid;
	return pid;
}

/* Print every thread's stack of pid to stderr with gdb when it is
 * installed (a process that does not stop: where it hangs, for the test's
 * log); best effort, bounded by timeout(1). */
static void print_stacks(pid_t pid)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd),
	         "command -v gdb >/dev/null && timeout 30 gdb -p %d -batch -nx "
	         "-ex 'thread apply all bt' </dev/null >&2 2>/dev/null",
	         (int)pid);
	if (system(cmd) == -1)
		fprintf(stderr, "harness: no shell for gdb\n");
}

int h_stop(pid_t pid, int sig, int timeout_ms)
{
	int status;

	if (pid <= 0)
		return -1;
	if (sig != 0)
		kill(pid, sig);
	for (int waited = 0; waited <= timeout_ms; waited += H_POLL_MS) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid || (r == -1 && errno == ECHILD)) {
			forget(pid);
			return r == pid ? status : -1;
		}
		sleep_ms(H_POLL_MS);
	}
	fprintf(stderr,
	        "harness: pid %d did not exit within %d ms of signal "
	        "%d; its threads' stacks (gdb, if installed), then "
	        "SIGKILL\n",
	        (int)pid, timeout_ms, sig);
	print_stacks(pid);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	forget(pid);
	return -1;
}

bool h_alive(pid_t pid)
{
	siginfo_t info = {0};

	if (pid <= 0)
		return false;
	/* WNOWAIT: look without reaping, so h_stop() still gets the status */
	if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == -1)
		return false;
	return info.si_pid == 0;
}

int h_wait(pid_t pid, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms && h_alive(pid);
	     waited += H_POLL_MS)
		sleep_ms(H_POLL_MS);
	if (h_alive(pid)) {
		fprintf(stderr, "harness: pid %d still running after %d ms\n",
		        (int)pid, timeout_ms);
		h_stop(pid, SIGKILL, 1000);
		return -1;
	}
	return h_stop(pid, 0, 1000);
}

int h_run(const char *const argv[], const char *log_path, bool wrap,
          int timeout_ms)
{
	return h_run_input(argv, NULL, log_path, wrap, timeout_ms);
}

int h_run_input(const char *const argv[], const char *input_path,
                const char *log_path, bool wrap, int timeout_ms)
{
	pid_t pid = h_spawn_input(argv, input_path, log_path, wrap);

	if (pid == -1)
		return -1;
	int status = h_wait(pid, timeout_ms);
	if (status == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void h_cleanup(void)
{
	for (int i = 0; i < H_MAX_PROCS; i++) {
		if (procs[i] > 0) {
			kill(procs[i], SIGKILL);
			waitpid(procs[i], NULL, 0);
			procs[i] = 0;
		}
	}
	const char *keep = getenv("METROLOG_TEST_KEEP");
	for (int i = 0; i < ndirs; i++) {
		if (keep != NULL && *keep == '1')
			fprintf(stderr, "harness: kept %s\n", dirs[i]);
		else
			nftw(dirs[i], rm_one, 16, FTW_DEPTH | FTW_PHYS);
	}
	ndirs = 0;
}

int h_teardown(void **state)
{
	(void)state;
	h_cleanup();
	return 0;
}

int h_free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd == -1)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

int h_wait_file(const char *path, int timeout_ms)
{
	struct stat st;

	for (int waited = 0; waited <= timeout_ms; waited += H_POLL_MS) {
		if (stat(path, &st) == 0)
			return 0;
		sleep_ms(H_POLL_MS);
	}
	return -1;
}

int h_wait_port(int port, int timeout_ms)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons((uint16_t)port)};

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int waited = 0; waited <= timeout_ms; waited += H_POLL_MS) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd == -1)
			return -1;
		int r = connect(fd, (struct sockaddr *)&a, sizeof(a));
		close(fd);
		if (r == 0)
			return 0;
		sleep_ms(H_POLL_MS);
	}
	return -1;
}

ssize_t h_read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	size_t n = 0;

	if (fd == -1 || size == 0)
		return -1;
	while (n + 1 < size) {
		ssize_t r = read(fd, buf + n, size - 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	return (ssize_t)n;
}

/* Print a child's log to stderr, so a failing test shows why. */
static void dump_log(const char *what, const char *log)
{
	char buf[4096];

	if (h_read_file(log, buf, sizeof(buf)) > 0)
		fprintf(stderr, "---- %s log (%s) ----\n%s----\n", what, log,
		        buf);
}

int h_sim_start(struct h_sim *s, const char *dir, bool tcp, bool rtu,
                const char *const extra[])
{
	const char *argv[H_MAX_ARGS + 1];
	char portfile[H_PATH_MAX], buf[64];
	int n = 0;

	memset(s, 0, sizeof(*s));
	h_path(s->log, dir, "sim.log");
	h_path(portfile, dir, "sim.port");
	unlink(portfile);
	argv[n++] = METROLOG_SIM_BIN;
	if (tcp) {
		argv[n++] = "--tcp";
		argv[n++] = "127.0.0.1:0";
		argv[n++] = "--port-file";
		argv[n++] = portfile;
	}
	if (rtu) {
		h_path(s->rtu, dir, "rtu");
		unlink(s->rtu);
		argv[n++] = "--rtu";
		argv[n++] = s->rtu;
	}
	for (int i = 0; extra != NULL && extra[i] != NULL && n < H_MAX_ARGS;
	     i++)
		argv[n++] = extra[i];
	argv[n] = NULL;

	s->pid = h_spawn(argv, s->log, true);
	if (s->pid == -1)
		return -1;
	/* Under valgrind start-up takes seconds, hence the generous bound. */
	if ((tcp && h_wait_file(portfile, 20000) == -1) ||
	    (rtu && h_wait_file(s->rtu, 20000) == -1)) {
		dump_log("metrolog-sim", s->log);
		return -1;
	}
	if (tcp) {
		if (h_read_file(portfile, buf, sizeof(buf)) <= 0)
			return -1;
		s->port = atoi(buf);
	}
	return 0;
}

int h_sim_stop(struct h_sim *s)
{
	int status = h_stop(s->pid, SIGTERM, 20000);

	s->pid = 0;
	if (status == -1 || !WIFEXITED(status)) {
		dump_log("metrolog-sim", s->log);
		return -1;
	}
	if (WEXITSTATUS(status) != 0)
		dump_log("metrolog-sim", s->log);
	return WEXITSTATUS(status);
}

static int broker_spawn(struct h_broker *b)
{
	char conf[H_PATH_MAX];
	const char *argv[] = {"mosquitto", "-c",
	                      h_path(conf, b->dir, "mosquitto.conf"), NULL};

	b->pid = h_spawn(argv, b->log, false);
	if (b->pid == -1)
		return -1;
	if (h_wait_port(b->port, 10000) == -1 || !h_alive(b->pid)) {
		dump_log("mosquitto", b->log);
		return -1;
	}
	return 0;
}

/* The name of the user running the tests, for mosquitto.conf's "user":
 * mosquitto started as root changes to that user (default "mosquitto",
 * which cannot read a checkout under a 0700 directory); told "root" it
 * keeps its privileges, and run as anyone else it ignores the setting.
 * So the broker reads and writes exactly what the test's own user can. */
static const char *broker_user(void)
{
	const struct passwd *pw = getpwuid(geteuid());

	return pw != NULL ? pw->pw_name : "root";
}

int h_broker_start(struct h_broker *b, const char *dir, const char *extra_conf)
{
	char conf[H_PATH_MAX];

	memset(b, 0, sizeof(*b));
	snprintf(b->dir, sizeof(b->dir), "%s", dir);
	h_path(b->log, dir, "mosquitto.log");
	/* A port found free can be taken before mosquitto binds it: retry. */
	for (int attempt = 0; attempt < 5; attempt++) {
		b->port = h_free_port();
		FILE *f = fopen(h_path(conf, dir, "mosquitto.conf"), "w");
		if (f == NULL || b->port == -1) {
			if (f != NULL)
				fclose(f);
			return -1;
		}
		fprintf(f,
		        "user %s\n"
		        "listener %d 127.0.0.1\n"
		        "allow_anonymous true\n"
		        "persistence false\n"
		        "max_queued_messages 100000\n"
		        "max_inflight_messages 100\n"
		        "log_dest stderr\n"
		        "log_type error\nlog_type warning\nlog_type notice\n"
		        "%s\n",
		        broker_user(), b->port,
		        extra_conf != NULL ? extra_conf : "");
		fclose(f);
		if (broker_spawn(b) == 0)
			return 0;
		h_stop(b->pid, SIGKILL, 1000);
	}
	return -1;
}

int h_broker_restart(struct h_broker *b)
{
	return broker_spawn(b);
}

int h_broker_stop(struct h_broker *b)
{
	int status = h_stop(b->pid, SIGTERM, 10000);

	b->pid = 0;
	return status == -1 ? -1 : 0;
}
