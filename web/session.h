/*
 * session.h - metrolog-web's sessions, in memory, and the rate limit of
 * logins per client address (docs/WEB.md, "Security").
 *
 * A session is a random id (auth_token: 256 bits) the browser holds in
 * the cookie mlw_session, and a CSRF token of its own that every form
 * that changes something carries. It remembers the user's name, role,
 * customer and the password hash it logged in with: sessions_sweep()
 * ends the sessions of a user disabled or given a new password (the
 * caller reads users). A session ends after SESSION_IDLE_US without a
 * request, SESSION_MAX_US after its login, at logout, and when the
 * program stops (nothing is written to disk).
 *
 * Logins: after SESSION_FAILS failures from one address within
 * SESSION_WINDOW_US, its logins are refused unchecked until the window
 * ends (a password is not even hashed, so a guesser costs nothing): a
 * struct ratelimit (ratelimit.h).
 *
 * Every time comes from the clock given to sessions_new() (STYLE 16).
 * Threading: every function may be called from any thread (one mutex).
 */
#ifndef METROLOG_WEB_SESSION_H
#define METROLOG_WEB_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "ratelimit.h"

struct mclock;

#define SESSION_MAX       1024                    /* sessions at once */
#define SESSION_IDLE_US   (8 * 3600 * 1000000LL)  /* 8 h */
#define SESSION_MAX_US    (24 * 3600 * 1000000LL) /* 24 h */
#define SESSION_FAILS     5                       /* failed logins ... */
#define SESSION_WINDOW_US (60 * 1000000LL)        /* ... a minute */
#define SESSION_ADDRS     RATELIMIT_ADDRS         /* addresses remembered */

struct session {
	char id[AUTH_TOKEN_SIZE];
	char csrf[AUTH_TOKEN_SIZE];
	char user[72];
	char role[16];
	char customer[72];
	char hash[AUTH_HASH_SIZE];   /* the password hash it logged in with */
	int64_t created_us, seen_us; /* monotonic */
};

struct sessions;

/* NULL when out of memory. */
struct sessions *sessions_new(const struct mclock *clk);
void sessions_free(struct sessions *s); /* NULL allowed */

/* A new session for user (its role, customer, hash) into out. When
 * SESSION_MAX are open, the one idle longest ends. */
void sessions_create(struct sessions *s, const char *user, const char *role,
                     const char *customer, const char *hash,
                     struct session *out);

/* The session of id, touched (its idle time starts again), into out: 0,
 * or -1 when there is none (or it expired: it ends). */
int sessions_find(struct sessions *s, const char *id, struct session *out);

/* Whether session id is still open (not touched). */
bool sessions_alive(struct sessions *s, const char *id);

/* End session id (logout); nothing when there is none. */
void sessions_end(struct sessions *s, const char *id);

/* End every expired session, and every one keep() says no to (keep is
 * called with the mutex held: it must not call back in). */
void sessions_sweep(struct sessions *s,
                    bool (*keep)(void *ctx, const struct session *), void *ctx);

/* Open sessions. */
size_t sessions_count(struct sessions *s);

/* Whether addr may try a login now: 0 yes, -1 no with *retry_s the
 * seconds until it may (>= 1). */
int sessions_login_allowed(struct sessions *s, const char *addr, int *retry_s);
/* A failed login from addr (counted in the window), or a good one (its
 * count forgotten). */
void sessions_login_result(struct sessions *s, const char *addr, bool ok);

#endif
