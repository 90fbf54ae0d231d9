/*
 * app.h - metrolog-web's pages and their rules: who may see what, the
 * login and logout, the board and its live events, the static files
 * (docs/WEB.md). http.c hands every request to app_handle().
 *
 * Threading: app_handle() runs on many threads at once (one per
 * connection); what they share is locked where it lives (sessions,
 * live, the password checks).
 */
#ifndef METROLOG_WEB_APP_H
#define METROLOG_WEB_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

struct mclock;

struct app_config {
	const char *db;           /* the database, opened read-only */
	const struct mclock *clk; /* every time (sessions, live, ages) */
	int64_t poll_us;          /* how often live.c asks for commits */
};

struct app;

/* Open the database (read-only), read the board once and start the live
 * thread. NULL with the reason in err. */
struct app *app_new(const struct app_config *c, char *err, size_t errlen);

/* An http_handler (ctx: the struct app). */
void app_handle(void *ctx, const struct http_req *rq, struct http_resp *rs);

/* End every /events stream and the live thread (before http_stop()). */
void app_stop(struct app *a);
void app_free(struct app *a); /* NULL allowed */

#endif
