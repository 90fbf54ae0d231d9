/*
 * loop.h - the simulator's single-threaded event loop: epoll plus timers.
 *
 * A module embeds a struct loop_watch in the object that owns a descriptor
 * and registers it with loop_add(); the loop calls watch->fn with the epoll
 * events (after Redis's ae.c, reduced to what the simulator needs). Timers
 * are few and long-lived (one per transport): each has a due time that its
 * owner moves; the loop sleeps until the earliest one.
 *
 * Threading: everything runs on the thread that calls loop_run(); callbacks
 * may add, modify and delete watches and move timers.
 */
#ifndef METROLOG_SIM_LOOP_H
#define METROLOG_SIM_LOOP_H

#include <stdint.h>

struct loop_watch {
	void (*fn)(struct loop_watch *w, uint32_t events);
};

struct loop_timer {
	void (*fn)(struct loop_timer *t, uint64_t now_us);
	uint64_t due_us; /* clk_now_us() time; 0: not armed */
};

struct loop;

/* Returns NULL on failure (errno set). */
struct loop *loop_new(void);
void loop_free(struct loop *l);

/* epoll_ctl ADD / MOD / DEL. Return 0, or -1 with errno. */
int loop_add(struct loop *l, int fd, uint32_t events, struct loop_watch *w);
int loop_mod(struct loop *l, int fd, uint32_t events, struct loop_watch *w);
int loop_del(struct loop *l, int fd);

/* Register a timer (at most LOOP_MAX_TIMERS). Returns 0, or -1. */
#define LOOP_MAX_TIMERS 8
int loop_add_timer(struct loop *l, struct loop_timer *t);
/* Unregister a timer (no effect if it is not registered). */
void loop_del_timer(struct loop *l, struct loop_timer *t);

/* Run until loop_stop(). Returns 0, or -1 if epoll_wait failed. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);

#endif
