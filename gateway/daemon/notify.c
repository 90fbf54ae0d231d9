/*
 * notify.c - the service manager's notification protocol (notify.h), in
 * the few lines systemd documents as stable (sd_notify(3), "Notes"), so
 * that metrologd needs no libsystemd: one datagram per state to the
 * AF_UNIX socket of $NOTIFY_SOCKET; and the watchdog thread.
 *
 * The watchdog thread touches only its struct's stop flag (under its
 * mutex) and reads the beat counter (atomically); it blocks every signal,
 * which metrologd's main thread handles.
 */
#include "notify.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "mclock.h"

struct notify_watchdog {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop; /* under lock */
	int64_t period_us;
	const atomic_uint_fast64_t *beat;
	/* $NOTIFY_SOCKET, read once at start: the thread never reads the
	 * environment (getenv() is not safe against another thread's
	 * setenv()) */
	struct sockaddr_un addr;
	socklen_t addr_len;
};

/* $NOTIFY_SOCKET as an address; 0 with *len set, or -1 (unset or not a
 * socket name: EINVAL). */
static int notify_address(struct sockaddr_un *sa, socklen_t *len)
{
	const char *name = getenv("NOTIFY_SOCKET");
	size_t n;

	if (name == NULL || name[0] == '\0')
		return -1;
	n = strlen(name);
	if ((name[0] != '/' && name[0] != '@') || n >= sizeof(sa->sun_path)) {
		errno = EINVAL;
		return -1;
	}
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, name, n);
	if (name[0] == '@')
		sa->sun_path[0] = '\0'; /* the abstract namespace */
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	                   (name[0] == '/' ? 1 : 0));
	return 0;
}

/* One datagram to addr; 0, or -1 with errno. */
static int send_state(const struct sockaddr_un *addr, socklen_t len,
                      const char *state)
{
	ssize_t sent;
	int fd, saved;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	              (const struct sockaddr *)addr, len);
	saved = errno;
	close(fd);
	errno = saved;
	return sent == (ssize_t)strlen(state) ? 0 : -1;
}

int notify_send(const char *state)
{
	struct sockaddr_un sa;
	socklen_t len;

	if (getenv("NOTIFY_SOCKET") == NULL)
		return 0;
	if (notify_address(&sa, &len) == -1)
		return -1;
	return send_state(&sa, len, state);
}

int64_t notify_watchdog_usec(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	char *end;
	long long v;

	if (getenv("NOTIFY_SOCKET") == NULL || usec == NULL)
		return 0;
	if (pid != NULL) {
		long long p = strtoll(pid, &end, 10);
		if (*end != '\0' || p != (long long)getpid())
			return 0;
	}
	errno = 0;
	v = strtoll(usec, &end, 10);
	if (errno != 0 || end == usec || *end != '\0' || v <= 0)
		return 0;
	return v;
}

/* Wait up to us or until stopped; true when stopped. */
static bool watchdog_sleep(struct notify_watchdog *w, int64_t us)
{
	struct timespec until = mclock_cv_deadline(us);
	bool stop;

	pthread_mutex_lock(&w->lock);
	while (!w->stop &&
	       pthread_cond_timedwait(&w->wake, &w->lock, &until) != ETIMEDOUT)
		;
	stop = w->stop;
	pthread_mutex_unlock(&w->lock);
	return stop;
}

/* One WATCHDOG=1; the first failure logged. */
static void pet(const struct notify_watchdog *w, bool *failed)
{
	if (send_state(&w->addr, w->addr_len, "WATCHDOG=1") == -1 && !*failed) {
		log_warn("watchdog: cannot notify the service manager");
		*failed = true;
	}
}

static void *watchdog_main(void *arg)
{
	struct notify_watchdog *w = arg;
	uint_fast64_t seen = atomic_load(w->beat);
	bool petting = true, failed = false;

	log_thread_name("watchdog");
	pet(w, &failed);
	while (!watchdog_sleep(w, w->period_us / 2)) {
		uint_fast64_t now = atomic_load(w->beat);
		if (now == seen) {
			if (petting)
				log_warnx("watchdog: the ingest loop has not "
				          "turned for %lld ms; not fed",
				          (long long)(w->period_us / 2000));
			petting = false;
			continue;
		}
		if (!petting)
			log_info("watchdog: the ingest loop turns again; fed");
		petting = true;
		seen = now;
		pet(w, &failed);
	}
	return NULL;
}

struct notify_watchdog *notify_watchdog_start(int64_t period_us,
                                              const atomic_uint_fast64_t *beat)
{
	struct notify_watchdog *w = calloc(1, sizeof(*w));
	pthread_condattr_t ca;
	sigset_t all, old;
	int rc;

	if (w == NULL) {
		log_warnx("watchdog: out of memory");
		return NULL;
	}
	w->period_us = period_us;
	w->beat = beat;
	if (notify_address(&w->addr, &w->addr_len) == -1) {
		log_warnx("watchdog: NOTIFY_SOCKET is not a socket's name");
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &ca);
	pthread_condattr_destroy(&ca);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&w->thread, NULL, watchdog_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		log_warnx("watchdog: cannot start its thread: %s",
		          strerror(rc));
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return NULL;
	}
	return w;
}

void notify_watchdog_stop(struct notify_watchdog *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
