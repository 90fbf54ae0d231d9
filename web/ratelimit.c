/*
 * ratelimit.c - failures per client address (ratelimit.h): one fixed
 * table under one mutex, scanned linearly (RATELIMIT_ADDRS is small, and
 * a scan is far cheaper than what it guards).
 */
#include "ratelimit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mclock.h"

struct addr_fails {
	char addr[64]; /* "" free */
	int64_t start; /* the window's start (monotonic us) */
	int fails;
};

struct ratelimit {
	pthread_mutex_t lock;
	const struct mclock *clk;
	int fails;
	int64_t window_us;
	struct addr_fails addrs[RATELIMIT_ADDRS];
};

struct ratelimit *ratelimit_new(const struct mclock *clk, int fails,
                                int64_t window_us)
{
	struct ratelimit *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	r->clk = clk;
	r->fails = fails;
	r->window_us = window_us;
	return r;
}

void ratelimit_free(struct ratelimit *r)
{
	if (r == NULL)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* The entry of addr; with make, a new one in place of a free or the
 * oldest. NULL none. */
static struct addr_fails *addr_entry(struct ratelimit *s, const char *addr,
                                     int64_t now, bool make)
{
	struct addr_fails *oldest = &s->addrs[0];

	for (int i = 0; i < RATELIMIT_ADDRS; i++) {
		struct addr_fails *a = &s->addrs[i];
		if (a->addr[0] != '\0' && strcmp(a->addr, addr) == 0) {
			if (now - a->start >= s->window_us) {
				a->start = now; /* a new window */
				a->fails = 0;
			}
			return a;
		}
		if (a->addr[0] == '\0' || a->start < oldest->start)
			oldest = a;
	}
	if (!make)
		return NULL;
	snprintf(oldest->addr, sizeof(oldest->addr), "%s", addr);
	oldest->start = now;
	oldest->fails = 0;
	return oldest;
}

int ratelimit_allowed(struct ratelimit *s, const char *addr, int *retry_s)
{
	int64_t now = mclock_mono(s->clk);
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	struct addr_fails *a = addr_entry(s, addr, now, false);
	if (a != NULL && a->fails >= s->fails) {
		int64_t left = a->start + s->window_us - now;
		*retry_s = (int)((left + 999999) / 1000000);
		if (*retry_s < 1)
			*retry_s = 1;
		rc = -1;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void ratelimit_result(struct ratelimit *s, const char *addr, bool ok)
{
	int64_t now = mclock_mono(s->clk);

	pthread_mutex_lock(&s->lock);
	struct addr_fails *a = addr_entry(s, addr, now, !ok);
	if (a != NULL && ok)
		memset(a, 0, sizeof(*a));
	else if (a != NULL)
		a->fails++;
	pthread_mutex_unlock(&s->lock);
}
