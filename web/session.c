/*
 * session.c - sessions and the login rate limit (session.h): a fixed
 * table under one mutex, linear scans (SESSION_MAX is small); the
 * failed logins per address in a struct ratelimit (ratelimit.c).
 */
#include "session.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mclock.h"
#include "ratelimit.h"

struct sessions {
	pthread_mutex_t lock;
	const struct mclock *clk;
	struct session tab[SESSION_MAX]; /* id "" : free */
	struct ratelimit *logins;
};

struct sessions *sessions_new(const struct mclock *clk)
{
	struct sessions *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->logins = ratelimit_new(clk, SESSION_FAILS, SESSION_WINDOW_US);
	if (s->logins == NULL) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->clk = clk;
	return s;
}

void sessions_free(struct sessions *s)
{
	if (s == NULL)
		return;
	ratelimit_free(s->logins);
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

int sessions_login_allowed(struct sessions *s, const char *addr, int *retry_s)
{
	return ratelimit_allowed(s->logins, addr, retry_s);
}

void sessions_login_result(struct sessions *s, const char *addr, bool ok)
{
	ratelimit_result(s->logins, addr, ok);
}
