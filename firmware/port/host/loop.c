/*
 * loop.c - epoll event loop with a handful of timers (see loop.h).
 *
 * Threading: one thread, the one in loop_run().
 */
#include "loop.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "clk.h"

#define MAX_EVENTS 256

struct loop {
	int epfd;
	bool stop;
	unsigned ntimers;
	struct loop_timer *timer[LOOP_MAX_TIMERS];
	struct epoll_event ev[MAX_EVENTS];
};

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	return l;
}

void loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	close(l->epfd);
	free(l);
}

static int ctl(struct loop *l, int op, int fd, uint32_t events,
               struct loop_watch *w)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};

	return epoll_ctl(l->epfd, op, fd, &ev);
}

int loop_add(struct loop *l, int fd, uint32_t events, struct loop_watch *w)
{
	return ctl(l, EPOLL_CTL_ADD, fd, events, w);
}

int loop_mod(struct loop *l, int fd, uint32_t events, struct loop_watch *w)
{
	return ctl(l, EPOLL_CTL_MOD, fd, events, w);
}

int loop_del(struct loop *l, int fd)
{
	return ctl(l, EPOLL_CTL_DEL, fd, 0, NULL);
}

int loop_add_timer(struct loop *l, struct loop_timer *t)
{
	if (l->ntimers == LOOP_MAX_TIMERS) {
		errno = ENOSPC;
		return -1;
	}
	l->timer[l->ntimers++] = t;
	return 0;
}

void loop_del_timer(struct loop *l, struct loop_timer *t)
{
	unsigned i;

	for (i = 0; i < l->ntimers; i++) {
		if (l->timer[i] == t) {
			l->timer[i] = l->timer[--l->ntimers];
			return;
		}
	}
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}

/* Milliseconds until the earliest armed timer, rounded up; -1 if none. */
static int next_timeout_ms(struct loop *l, uint64_t now)
{
	uint64_t due = 0, wait;
	unsigned i;

	for (i = 0; i < l->ntimers; i++) {
		uint64_t d = l->timer[i]->due_us;

		if (d != 0 && (due == 0 || d < due))
			due = d;
	}
	if (due == 0)
		return -1;
	if (due <= now)
		return 0;
	wait = (due - now + 999) / 1000;
	return wait > 60000 ? 60000 : (int)wait;
}

static void run_timers(struct loop *l)
{
	uint64_t now = clk_now_us();
	unsigned i;

	for (i = 0; i < l->ntimers; i++) {
		struct loop_timer *t = l->timer[i];

		if (t->due_us != 0 && t->due_us <= now)
			t->fn(t, now);
	}
}

int loop_run(struct loop *l)
{
	while (!l->stop) {
		int n, i, timeout;

		timeout = next_timeout_ms(l, clk_now_us());
		n = epoll_wait(l->epfd, l->ev, MAX_EVENTS, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (i = 0; i < n; i++) {
			struct loop_watch *w = l->ev[i].data.ptr;

			w->fn(w, l->ev[i].events);
		}
		run_timers(l);
	}
	return 0;
}
