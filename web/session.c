/*
 * session.c - sessions and the login rate limit (session.h): two fixed
 * tables under one mutex; linear scans (SESSION_MAX and SESSION_ADDRS
 * are small, and a scan is far cheaper than the Argon2id check of a
 * login).
 */
#include "session.h"

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

struct sessions {
	pthread_mutex_t lock;
	const struct mclock *clk;
	struct session tab[SESSION_MAX]; /* id "" : free */
	struct addr_fails addrs[SESSION_ADDRS];
};

struct sessions *sessions_new(const struct mclock *clk)
{
	struct sessions *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	s->clk = clk;
	return s;
}

void sessions_free(struct sessions *s)
{
	if (s == NULL)
		return;
	pthread_mutex_destroy(&s->lock);
	memset(s->tab, 0, sizeof(s->tab));
	free(s);
}

static bool expired(const struct session *e, int64_t now)
{
	return now - e->seen_us >= SESSION_IDLE_US ||
	       now - e->created_us >= SESSION_MAX_US;
}

/* The slot of id, -1 none. Compares every open id in full time. */
static int slot_of(struct sessions *s, const char *id)
{
	int found = -1;

	if (strlen(id) != AUTH_TOKEN_SIZE - 1)
		return -1;
	for (int i = 0; i < SESSION_MAX; i++)
		if (s->tab[i].id[0] != '\0' && auth_same(s->tab[i].id, id))
			found = i;
	return found;
}

void sessions_create(struct sessions *s, const char *user, const char *role,
                     const char *customer, const char *hash,
                     struct session *out)
{
	int64_t now = mclock_mono(s->clk);
	int slot = 0;

	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < SESSION_MAX; i++) {
		if (s->tab[i].id[0] == '\0' || expired(&s->tab[i], now)) {
			slot = i;
			break;
		}
		if (s->tab[i].seen_us < s->tab[slot].seen_us)
			slot = i;
	}
	struct session *e = &s->tab[slot];
	memset(e, 0, sizeof(*e));
	auth_token(e->id, sizeof(e->id));
	auth_token(e->csrf, sizeof(e->csrf));
	snprintf(e->user, sizeof(e->user), "%s", user);
	snprintf(e->role, sizeof(e->role), "%s", role);
	snprintf(e->customer, sizeof(e->customer), "%s", customer);
	snprintf(e->hash, sizeof(e->hash), "%s", hash);
	e->created_us = e->seen_us = now;
	*out = *e;
	pthread_mutex_unlock(&s->lock);
}

int sessions_find(struct sessions *s, const char *id, struct session *out)
{
	int64_t now = mclock_mono(s->clk);
	int slot, rc = -1;

	pthread_mutex_lock(&s->lock);
	slot = slot_of(s, id);
	if (slot >= 0 && expired(&s->tab[slot], now)) {
		memset(&s->tab[slot], 0, sizeof(s->tab[slot]));
	} else if (slot >= 0) {
		s->tab[slot].seen_us = now;
		*out = s->tab[slot];
		rc = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

bool sessions_alive(struct sessions *s, const char *id)
{
	int64_t now = mclock_mono(s->clk);
	bool alive;

	pthread_mutex_lock(&s->lock);
	int slot = slot_of(s, id);
	alive = slot >= 0 && !expired(&s->tab[slot], now);
	pthread_mutex_unlock(&s->lock);
	return alive;
}

void sessions_end(struct sessions *s, const char *id)
{
	pthread_mutex_lock(&s->lock);
	int slot = slot_of(s, id);
	if (slot >= 0)
		memset(&s->tab[slot], 0, sizeof(s->tab[slot]));
	pthread_mutex_unlock(&s->lock);
}

void sessions_sweep(struct sessions *s,
                    bool (*keep)(void *ctx, const struct session *), void *ctx)
{
	int64_t now = mclock_mono(s->clk);

	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < SESSION_MAX; i++) {
		struct session *e = &s->tab[i];
		if (e->id[0] != '\0' &&
		    (expired(e, now) || (keep != NULL && !keep(ctx, e))))
			memset(e, 0, sizeof(*e));
	}
	pthread_mutex_unlock(&s->lock);
}

size_t sessions_count(struct sessions *s)
{
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < SESSION_MAX; i++)
		n += s->tab[i].id[0] != '\0';
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* ---- the rate limit of logins -------------------------------------------- */

/* The entry of addr; with make, a new one in place of a free or the
 * oldest. NULL none. */
static struct addr_fails *addr_entry(struct sessions *s, const char *addr,
                                     int64_t now, bool make)
{
	struct addr_fails *oldest = &s->addrs[0];

	for (int i = 0; i < SESSION_ADDRS; i++) {
		struct addr_fails *a = &s->addrs[i];
		if (a->addr[0] != '\0' && strcmp(a->addr, addr) == 0) {
			if (now - a->start >= SESSION_WINDOW_US) {
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

int sessions_login_allowed(struct sessions *s, const char *addr, int *retry_s)
{
	int64_t now = mclock_mono(s->clk);
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	struct addr_fails *a = addr_entry(s, addr, now, false);
	if (a != NULL && a->fails >= SESSION_FAILS) {
		int64_t left = a->start + SESSION_WINDOW_US - now;
		*retry_s = (int)((left + 999999) / 1000000);
		if (*retry_s < 1)
			*retry_s = 1;
		rc = -1;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void sessions_login_result(struct sessions *s, const char *addr, bool ok)
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
