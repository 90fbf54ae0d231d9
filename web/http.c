/*
 * http.c - the HTTP server of metrolog-web (http.h): the one file that
 * includes <microhttpd.h>.
 *
 * Each connection has a struct conn (libmicrohttpd's con_cls): the form
 * fields of a POST as its post processor hands them, and the request as
 * the handler sees it. The handler runs once, after the whole body came;
 * a body over HTTP_BODY_MAX is read and dropped (too_big), never stored.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "log.h"

#define HTTP_CONNECTIONS 512
#define HTTP_PER_ADDRESS 64
#define HTTP_IDLE_S      120 /* a connection idle this long is closed */

static const char csp[] =
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        "img-src 'self'; connect-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'";

struct http {
	struct MHD_Daemon *d;
	http_handler fn;
	void *ctx;
	bool secure;
	int port;
};

struct conn {
	struct http_req rq;
	struct MHD_PostProcessor *pp;
	size_t body;
};

struct stream {
	ssize_t (*read)(void *ctx, char *buf, size_t max);
	void (*done)(void *ctx);
	void *ctx;
};

/* ---- the request ----------------------------------------------------------
 */

const char *http_header(const struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_cookie(const struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

const char *http_query(const struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
	                                   name);
}

const char *http_form(const struct http_req *r, const char *name)
{
	for (int i = 0; i < r->nform; i++)
		if (strcmp(r->form[i].name, name) == 0)
			return r->form[i].value;
	return NULL;
}

/* A piece of a form field: the first field of a name is kept, its value
 * cut at HTTP_FORM_VALUE - 1 bytes (then refused: too_big). */
static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind,
                                const char *key, const char *filename,
                                const char *type, const char *encoding,
                                const char *data, uint64_t off, size_t size)
{
	struct conn *c = cls;
	struct http_field *f = NULL;

	(void)kind, (void)filename, (void)type, (void)encoding;
	for (int i = 0; i < c->rq.nform; i++)
		if (strcmp(c->rq.form[i].name, key) == 0)
			f = &c->rq.form[i];
	if (f == NULL && off == 0) {
		if (c->rq.nform == HTTP_FORM_FIELDS ||
		    strlen(key) >= sizeof(f->name)) {
			c->rq.too_big = true;
			return MHD_YES;
		}
		f = &c->rq.form[c->rq.nform++];
		snprintf(f->name, sizeof(f->name), "%s", key);
	} else if (f == NULL || f->len != off) {
		return MHD_YES; /* a second field of the name: ignored */
	}
	if (f->len + size >= sizeof(f->value)) {
		c->rq.too_big = true;
		return MHD_YES;
	}
	memcpy(f->value + f->len, data, size);
	f->len += size;
	f->value[f->len] = '\0';
	return MHD_YES;
}

/* The client's address: the peer's, or behind a proxy the last entry of
 * X-Forwarded-For (the one the proxy itself added). */
static void client_addr(const struct http *h, struct http_req *rq)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
	        rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const char *xff = h->secure ? http_header(rq, "X-Forwarded-For") : NULL;

	snprintf(rq->addr, sizeof(rq->addr), "?");
	if (xff != NULL) {
		const char *last = strrchr(xff, ',');
		last = last != NULL ? last + 1 : xff;
		while (*last == ' ')
			last++;
		snprintf(rq->addr, sizeof(rq->addr), "%.*s",
		         (int)strcspn(last, " "), last);
	} else if (ci != NULL && ci->client_addr != NULL) {
		struct sockaddr *sa = ci->client_addr;
		getnameinfo(
		        sa,
		        sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
		                                  : sizeof(struct sockaddr_in),
		        rq->addr, sizeof(rq->addr), NULL, 0, NI_NUMERICHOST);
	}
}

/* ---- the response ---------------------------------------------------------
 */

void http_set_cookie(struct http_resp *rs, const char *name, const char *value,
                     int max_age)
{
	if (rs->ncookies == HTTP_COOKIES)
		return;
	snprintf(rs->cookies[rs->ncookies].name,
	         sizeof(rs->cookies[rs->ncookies].name), "%s", name);
	snprintf(rs->cookies[rs->ncookies].value,
	         sizeof(rs->cookies[rs->ncookies].value), "%s", value);
	rs->cookies[rs->ncookies++].max_age = max_age;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	ssize_t n;

	(void)pos;
	n = s->read(s->ctx, buf, max);
	return n > 0 ? n : MHD_CONTENT_READER_END_OF_STREAM;
}

static void stream_done(void *cls)
{
	struct stream *s = cls;

	s->done(s->ctx);
	free(s);
}

/* The body of rs as a response (a stream, a static file or a text). */
static struct MHD_Response *body_of(struct http_resp *rs)
{
	if (rs->read != NULL) {
		struct stream *s = malloc(sizeof(*s));
		struct MHD_Response *r = NULL;
		if (s != NULL) {
			*s = (struct stream){rs->read, rs->done, rs->ctx};
			r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN,
			                                      4096, stream_read,
			                                      s, stream_done);
		}
		if (r == NULL) {
			free(s);
			rs->done(rs->ctx);
		}
		return r;
	}
	if (rs->fixed != NULL)
		return MHD_create_response_from_buffer(rs->fixed_len,
		                                       (void *)rs->fixed,
		                                       MHD_RESPMEM_PERSISTENT);
	size_t len = rs->body.len;
	char *text = sb_take(&rs->body);
	struct MHD_Response *r = MHD_create_response_from_buffer(
	        len, text, MHD_RESPMEM_MUST_FREE);
	if (r == NULL)
		free(text);
	return r;
}

static void add_headers(const struct http *h, struct MHD_Response *r,
                        const struct http_resp *rs)
{
	char line[256];

	MHD_add_response_header(r, "Content-Security-Policy", csp);
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cache-Control",
	                        rs->cacheable ? "public, max-age=3600"
	                                      : "no-store");
	if (h->secure)
		MHD_add_response_header(r, "Strict-Transport-Security",
		                        "max-age=31536000");
	MHD_add_response_header(r, "Content-Type",
	                        rs->type != NULL ? rs->type
	                                         : "text/html; charset=utf-8");
	if (rs->read != NULL)
		MHD_add_response_header(r, "X-Accel-Buffering", "no");
	if (rs->location[0] != '\0')
		MHD_add_response_header(r, "Location", rs->location);
	if (rs->attachment[0] != '\0') {
		snprintf(line, sizeof(line), "attachment; filename=\"%s\"",
		         rs->attachment);
		MHD_add_response_header(r, "Content-Disposition", line);
	}
	if (rs->retry_after > 0) {
		snprintf(line, sizeof(line), "%d", rs->retry_after);
		MHD_add_response_header(r, "Retry-After", line);
	}
	for (int i = 0; i < rs->ncookies; i++) {
		int age = rs->cookies[i].max_age;
		int n = snprintf(line, sizeof(line),
		                 "%s=%s; Path=/; HttpOnly; SameSite=Strict%s",
		                 rs->cookies[i].name, rs->cookies[i].value,
		                 h->secure ? "; Secure" : "");
		if (age != 0 && n > 0 && (size_t)n < sizeof(line))
			snprintf(line + n, sizeof(line) - (size_t)n,
			         "; Max-Age=%d", age < 0 ? 0 : age);
		MHD_add_response_header(r, "Set-Cookie", line);
	}
}

/* The path as the access line shows it: bytes that are not printable
 * ASCII (a newline that would forge a line) as '?'. */
static void log_path(const char *path, char *out, size_t size)
{
	size_t i;

	for (i = 0; path[i] != '\0' && i + 1 < size; i++)
		out[i] = path[i] > 0x20 && path[i] < 0x7f ? path[i] : '?';
	out[i] = '\0';
}

static enum MHD_Result respond(struct http *h, struct MHD_Connection *c,
                               const struct http_req *rq, struct http_resp *rs)
{
	int status = rs->status != 0 ? rs->status : 200;
	struct MHD_Response *r = body_of(rs);
	enum MHD_Result ok;
	char path[256];

	log_path(rq->path, path, sizeof(path));
	log_info("access %s %s %s %s %d", rq->addr,
	         rs->user[0] ? rs->user : "-", rq->method, path,
	         r != NULL ? status : 500);
	sb_free(&rs->body);
	if (r == NULL)
		return MHD_NO;
	add_headers(h, r, rs);
	ok = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	struct http *h = cls;
	struct conn *st = *con_cls;
	struct http_resp rs;

	(void)version;
	if (st == NULL) { /* the headers came: the body (if any) follows */
		if ((st = calloc(1, sizeof(*st))) == NULL)
			return MHD_NO;
		*con_cls = st;
		if (strcmp(method, "POST") == 0)
			st->pp = MHD_create_post_processor(c, 4096, on_field,
			                                   st);
		return MHD_YES;
	}
	if (*upload_size != 0) {
		st->body += *upload_size;
		if (st->body > HTTP_BODY_MAX)
			st->rq.too_big = true;
		else if (st->pp != NULL)
			MHD_post_process(st->pp, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	st->rq.method = method;
	st->rq.path = url;
	st->rq.tls = h->secure;
	st->rq.conn = c;
	client_addr(h, &st->rq);
	memset(&rs, 0, sizeof(rs));
	h->fn(h->ctx, &st->rq, &rs);
	return respond(h, c, &st->rq, &rs);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
	struct conn *st = *con_cls;

	(void)cls, (void)c, (void)why;
	if (st == NULL)
		return;
	if (st->pp != NULL)
		MHD_destroy_post_processor(st->pp);
	free(st);
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	/* a browser that closed its /events stream (a tab closed): no
	 * news for the operator */
	if (strstr(line, "no longer available") != NULL)
		log_debug("http: %s", line);
	else
		log_warnx("http: %s", line);
}

/* ---- the server -----------------------------------------------------------
 */

/* "ADDR:PORT" or "[ADDR]:PORT" into an address. Returns 0, or -1. */
static int parse_listen(const char *listen, struct sockaddr_storage *sa,
                        char *err, size_t errlen)
{
	char host[256];
	const char *port;
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                         .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
	                *res = NULL;
	size_t n;
	int rc;

	if (listen[0] == '[') {
		const char *end = strchr(listen, ']');
		n = end != NULL ? (size_t)(end - listen - 1) : 0;
		port = end != NULL && end[1] == ':' ? end + 2 : NULL;
		listen++;
	} else {
		port = strrchr(listen, ':');
		n = port != NULL ? (size_t)(port - listen) : 0;
		port = port != NULL ? port + 1 : NULL;
	}
	if (port == NULL || *port == '\0' || n == 0 || n >= sizeof(host)) {
		snprintf(err, errlen,
		         "--listen %s: say ADDR:PORT (e.g. 127.0.0.1:8080, "
		         "[::1]:8080)",
		         listen);
		return -1;
	}
	memcpy(host, listen, n);
	host[n] = '\0';
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "--listen %s: %s", listen,
		         gai_strerror(rc));
		return -1;
	}
	memcpy(sa, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

struct http *http_start(const char *listen, bool secure, http_handler fn,
                        void *ctx, char *err, size_t errlen)
{
	struct sockaddr_storage sa = {0};
	struct http *h;
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
	                 MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

	if (parse_listen(listen, &sa, err, errlen) < 0)
		return NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	*h = (struct http){.fn = fn, .ctx = ctx, .secure = secure};
	if (sa.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	errno = 0;
	h->d = MHD_start_daemon(
	        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
	        on_mhd_log, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	        MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTIONS,
	        MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	        secure ? 0u : (unsigned)HTTP_PER_ADDRESS,
	        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_S,
	        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_END);
	if (h->d == NULL) {
		snprintf(err, errlen, "cannot listen on %s%s%s", listen,
		         errno ? ": " : "", errno ? strerror(errno) : "");
		free(h);
		return NULL;
	}
	const union MHD_DaemonInfo *di =
	        MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = di != NULL ? di->port : 0;
	return h;
}

int http_port(const struct http *h)
{
	return h->port;
}

void http_stop(struct http *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
