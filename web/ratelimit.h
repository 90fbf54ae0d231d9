/*
 * ratelimit.h - failures counted per client address in a window, and the
 * refusal of an address that failed too often (docs/WEB.md, "Security"):
 * the logins (session.h) and the public verification of certificates
 * (verify.h) each have one.
 *
 * After `fails` failures from one address within `window_us` (counted
 * from its first failure), the address is refused until the window ends;
 * the caller then does not even look (a password is not hashed, a
 * certificate not read), so a guesser costs nothing. At most
 * RATELIMIT_ADDRS addresses are remembered, the oldest window forgotten
 * first.
 *
 * Every time comes from the clock given (STYLE 16). Threading: every
 * function may be called from any thread (one mutex).
 */
#ifndef METROLOG_WEB_RATELIMIT_H
#define METROLOG_WEB_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct mclock;

#define RATELIMIT_ADDRS 512

struct ratelimit;

/* NULL when out of memory. */
struct ratelimit *ratelimit_new(const struct mclock *clk, int fails,
                                int64_t window_us);
void ratelimit_free(struct ratelimit *r); /* NULL allowed */

/* Whether addr may try now: 0 yes, -1 no with *retry_s the seconds until
 * it may (>= 1). */
int ratelimit_allowed(struct ratelimit *r, const char *addr, int *retry_s);
/* A failure from addr (counted in its window), or with ok a success that
 * forgets its count. */
void ratelimit_result(struct ratelimit *r, const char *addr, bool ok);

#endif
