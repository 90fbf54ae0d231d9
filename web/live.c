/*
 * live.c - the thread that watches the database for commits and
 * publishes the board's newest snapshot (live.h).
 *
 * Who touches what: the live thread owns its struct query, the mark of
 * what it has read, and makes every snapshot (it reads l->snap without
 * the lock: nobody else writes it); the snapshot pointer, the generation and
 * the references of every snapshot are under lock, which every /events thread
 * takes in live_next() and live_release(). A snapshot is freed by whoever drops
 * its last reference.
 */
#include "live.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "mclock.h"
#include "query.h"

struct live {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* a new snapshot, or stopping */
	pthread_t thread;
	bool started, stopping;
	const struct mclock *clk;
	int64_t period_us;
	struct query *q;
	struct board_snap *snap; /* the newest; its reference is ours */
	uint64_t gen;
	struct query_mark seen; /* the live thread's: where snap stands */
	int64_t version;        /* query_data_version() before snap's read */
	int64_t full_at; /* mclock_mono() of the last board_read/refresh */
	void (*tick)(void *ctx, struct query *q);
	void *tick_ctx;
};

/* Publish s (its delta from the newest recorded): the newest. */
static void publish(struct live *l, struct board_snap *s)
{
	struct board_snap *old;

	pthread_mutex_lock(&l->lock);
	old = l->snap;
	s->gen = ++l->gen;
	l->snap = s;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
	live_release(l, old);
}

/* The snapshot after l->snap from what the commits since l->seen (m
 * now) changed into *out; NULL when nothing the board shows did. Whole
 * (board_read, *whole) at the start, when readings_recent went back
 * (emptied), and when rows of it not read yet are gone (a step of the
 * move deletes moved rows from the table's start: docs/SCHEMA.md,
 * recent_moved); a move itself leaves them there, so the new rows still
 * give each channel's newest reading. Else the states read again
 * (board_refresh) when refresh, and the new readings of readings_recent applied
 * (board_follow). Returns 0 or -1. */
static int make_snap(struct live *l, const struct query_mark *m, bool refresh,
                     bool *whole, struct board_snap **out)
{
	int64_t now = mclock_real(l->clk);
	int rc;

	*whole = l->snap == NULL || m->recent < l->seen.recent ||
	         m->recent_first > l->seen.recent + 1;
	if (*whole)
		return board_read(l->q, now, out);
	if (refresh)
		rc = board_refresh(l->q, l->snap, now, out);
	else if (m->recent == l->seen.recent)
		return 0;
	else
		rc = board_copy(l->snap, now, out);
	if (rc == 0 && m->recent > l->seen.recent)
		rc = board_follow(l->q, l->seen.recent, *out);
	return rc;
}

/* The next snapshot into *out, with what differs from l->snap, in one
 * read transaction, which l->seen then marks; NULL when nothing the
 * board shows changed. The states are read again when refresh, or when
 * an event (links, tolerance states) or a calibration record came;
 * instruments or channels that changed then: the board read whole (their
 * readings too). Returns 0 or -1. */
static int next_snap(struct live *l, bool refresh, struct board_snap **out)
{
	struct query_mark m;
	bool whole = false;
	int rc = -1;

	*out = NULL;
	if (query_read_begin(l->q) < 0)
		return -1;
	if (query_mark(l->q, &m) < 0)
		goto done;
	refresh = refresh || m.event != l->seen.event ||
	          m.calibration != l->seen.calibration;
	if ((rc = make_snap(l, &m, refresh, &whole, out)) == 0 && *out != NULL)
		rc = board_diff(*out, l->snap);
	if (rc == 0 && *out != NULL && !whole && (*out)->delta.reload) {
		board_free(*out);
		whole = true;
		if ((rc = board_read(l->q, mclock_real(l->clk), out)) == 0)
			rc = board_diff(*out, l->snap);
	}
done:
	if (query_read_end(l->q) < 0)
		rc = -1;
	if (rc < 0) {
		board_free(*out);
		*out = NULL;
		return -1;
	}
	l->seen = m;
	if (whole || refresh)
		l->full_at = mclock_mono(l->clk);
	return 0;
}

/* Make the next snapshot and publish it, if any. Returns 0, or -1
 * (logged). */
static int step(struct live *l, bool refresh)
{
	struct board_snap *s;

	if (next_snap(l, refresh, &s) < 0) {
		log_warnx("board: %s", query_error(l->q));
		return -1;
	}
	if (s != NULL)
		publish(l, s);
	return 0;
}

static void *run(void *arg)
{
	struct live *l = arg;
	int64_t seen = l->version, v;

	pthread_mutex_lock(&l->lock);
	while (!l->stopping) {
		struct timespec until = mclock_cv_deadline(l->period_us);
		pthread_cond_timedwait(&l->cond, &l->lock, &until);
		if (l->stopping)
			break;
		pthread_mutex_unlock(&l->lock);
		bool stale =
		        mclock_mono(l->clk) - l->full_at >= LIVE_REFRESH_US;
		if (query_data_version(l->q, &v) < 0) {
			log_warnx("board: %s", query_error(l->q));
		} else if (v != seen || stale) {
			if (step(l, stale) == 0)
				seen = v;
		}
		if (l->tick != NULL)
			l->tick(l->tick_ctx, l->q);
		pthread_mutex_lock(&l->lock);
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

struct live *live_start(const char *path, const struct mclock *clk,
                        int64_t period_us,
                        void (*tick)(void *ctx, struct query *q), void *ctx,
                        char *err, size_t errlen)
{
	struct live *l = calloc(1, sizeof(*l));
	pthread_condattr_t ca;

	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&l->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cond, &ca);
	pthread_condattr_destroy(&ca);
	l->clk = clk;
	l->period_us = period_us;
	l->tick = tick;
	l->tick_ctx = ctx;
	if ((l->q = query_open(path, err, errlen)) == NULL)
		goto fail;
	/* the version first: a commit after it, even one before the thread
	 * starts, is one the thread sees */
	if (query_data_version(l->q, &l->version) < 0 || step(l, true) < 0) {
		snprintf(err, errlen, "%s", query_error(l->q));
		goto fail;
	}
	if (pthread_create(&l->thread, NULL, run, l) != 0) {
		snprintf(err, errlen, "cannot start a thread");
		goto fail;
	}
	l->started = true;
	return l;
fail:
	live_free(l);
	return NULL;
}

void live_stop(struct live *l)
{
	if (l == NULL)
		return;
	pthread_mutex_lock(&l->lock);
	l->stopping = true;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
	if (l->started)
		pthread_join(l->thread, NULL);
	l->started = false;
}

void live_free(struct live *l)
{
	if (l == NULL)
		return;
	live_stop(l);
	live_release(l, l->snap);
	query_close(l->q);
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

struct board_snap *live_next(struct live *l, uint64_t *gen, int64_t wait_us,
                             bool *stopping)
{
	struct timespec until = mclock_cv_deadline(wait_us);
	struct board_snap *s = NULL;

	pthread_mutex_lock(&l->lock);
	while (!l->stopping && l->gen <= *gen)
		if (pthread_cond_timedwait(&l->cond, &l->lock, &until) != 0)
			break; /* timed out */
	*stopping = l->stopping;
	if (!l->stopping && l->gen > *gen && l->snap != NULL) {
		s = l->snap;
		s->refs++;
		*gen = l->gen;
	}
	pthread_mutex_unlock(&l->lock);
	return s;
}

void live_release(struct live *l, struct board_snap *s)
{
	bool last;

	if (s == NULL)
		return;
	pthread_mutex_lock(&l->lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&l->lock);
	if (last)
		board_free(s);
}
