/*
 * http.h - metrolog-web's HTTP server: the one file behind libmicrohttpd
 * (http.c). It parses requests (libmicrohttpd: request line, headers,
 * cookies, query arguments, URL-encoded forms), hands each to one
 * handler, and sends what the handler fills in with the same security
 * headers on every response (docs/WEB.md, "Security"):
 *
 *   Content-Security-Policy: default-src 'none'; script-src 'self';
 *     style-src 'self'; img-src 'self'; connect-src 'self';
 *     form-action 'self'; frame-ancestors 'none'; base-uri 'none'
 *   X-Frame-Options: DENY
 *   X-Content-Type-Options: nosniff
 *   Referrer-Policy: no-referrer
 *   Cache-Control: no-store (a static file: public, max-age=3600)
 *   Strict-Transport-Security: max-age=31536000 (behind TLS only)
 *
 * and every cookie with Path=/; HttpOnly; SameSite=Strict, and Secure
 * behind TLS. Each request gets one access line in the log: client
 * address, user ("-" none), method, path, status.
 *
 * Threading: one thread per connection (libmicrohttpd's
 * MHD_USE_THREAD_PER_CONNECTION), so a handler may block (an /events
 * stream waits for the next commit); the handler is called from many
 * threads at once.
 */
#ifndef METROLOG_WEB_HTTP_H
#define METROLOG_WEB_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "page.h"

#define HTTP_FORM_FIELDS 8
#define HTTP_FORM_VALUE  2048  /* bytes of one field's value */
#define HTTP_BODY_MAX    16384 /* bytes of a form */
#define HTTP_COOKIES     3

struct http_field {
	char name[32];
	char value[HTTP_FORM_VALUE];
	size_t len;
};

/* A request, as the handler sees it. */
struct http_req {
	const char *method; /* "GET", "POST", ... */
	const char *path;   /* the path, decoded, without the query */
	char addr[64];      /* the client's address (numeric) */
	bool tls;           /* behind a TLS proxy (http_start's secure) */
	bool too_big;       /* the form was over HTTP_BODY_MAX: ignored */
	struct http_field form[HTTP_FORM_FIELDS];
	int nform;
	void *conn; /* libmicrohttpd's */
};

/* A request header, cookie, query argument or form field by name; NULL
 * when absent. Valid during the handler. */
const char *http_header(const struct http_req *r, const char *name);
const char *http_cookie(const struct http_req *r, const char *name);
const char *http_query(const struct http_req *r, const char *name);
const char *http_form(const struct http_req *r, const char *name);

/* What the handler answers. Zeroed before the call. */
struct http_resp {
	int status;        /* 0: 200 */
	const char *type;  /* Content-Type; NULL: text/html */
	struct sbuf body;  /* the body, or ... */
	const char *fixed; /* ... a static one (an embedded file) */
	size_t fixed_len;
	bool cacheable;      /* a static file */
	char location[256];  /* Location (a redirect), "" none */
	char attachment[96]; /* a download's file name (Content-Disposition:
	                        attachment; A-Z a-z 0-9 . _ - only), "" none */
	int retry_after;     /* Retry-After seconds, 0 none */
	struct {
		char name[32];
		char value[96];
		int max_age; /* seconds; 0: a session cookie; -1: delete */
	} cookies[HTTP_COOKIES];
	int ncookies;
	char user[72]; /* for the access line, "" none */
	/* A stream (Server-Sent Events): read fills buf with up to max
	 * bytes and returns how many (> 0), or -1 to end; it may block. done
	 * is called once when the connection ends. */
	ssize_t (*read)(void *ctx, char *buf, size_t max);
	void (*done)(void *ctx);
	void *ctx;
};

/* Set a cookie (name, value: token characters only). */
void http_set_cookie(struct http_resp *rs, const char *name, const char *value,
                     int max_age);

typedef void (*http_handler)(void *ctx, const struct http_req *rq,
                             struct http_resp *rs);

struct http;

/* Listen on listen ("ADDR:PORT", "[ADDR]:PORT"; port 0: any) and serve
 * every request with fn. secure: behind a reverse proxy that terminates
 * TLS (cookies Secure, HSTS, the client's address from the last
 * X-Forwarded-For). NULL with the reason in err. */
struct http *http_start(const char *listen, bool secure, http_handler fn,
                        void *ctx, char *err, size_t errlen);
/* The port it listens on. */
int http_port(const struct http *h);
/* Stop: close the socket, wait for every connection's thread (so every
 * stream's read must return soon). NULL allowed. */
void http_stop(struct http *h);

#endif
