/*
 * app.c - metrolog-web's pages and rules (app.h; docs/WEB.md).
 *
 *   GET  /               to /board (the lab's people), the enterprise
 *                        page, or /login
 *   GET  /login          the login form (its CSRF token in the cookie
 *                        mlw_login and in the form: both must match)
 *   POST /login          rate-limited per address (session.h); a good
 *                        login gets a new session (cookie mlw_session)
 *   POST /logout         the session's CSRF token required
 *   GET  /board          technicians and managers; 404 for anyone else
 *                        logged in, exactly as for a page that does not
 *                        exist
 *   GET  /events         the board's Server-Sent Events (same rule)
 *   GET  /instruments    the portal (portal.h): the user's instruments
 *                        (the lab's people: all); logged out: /login
 *   GET  /instrument?name=ID   one of them with its history
 *   GET  /certificate.pdf?n=NUMBER, /certificate.json?n=NUMBER
 *                        a record the user may have (portal_record),
 *                        drawn by certdoc.h, or as msg_certificate();
 *                        another's or a draft (enterprises): the 404
 *   GET  /verify         anyone: a certificate's number and hash, or its
 *                        QR text, checked (verify.h); rate-limited per
 *                        address on the checks that do not match
 *   GET  /lab/instrument?name=ID[&channel=CH], /lab/trend.svg?name=ID&
 *        channel=CH, /lab/due, /lab/log?instrument=&kind=&from=&to=&page=
 *                        the technicians' pages (lab.h): technicians and
 *                        managers; anyone else logged in gets the 404 of
 *                        a page that does not exist
 *   GET  /static/NAME    the embedded files (assets.h)
 *   ?lang=en|vi          on any page: the language, kept in mlw_lang
 *
 * Each request that needs the database opens its own read-only
 * connection (query_open) and closes it at its end: a connection belongs
 * to one thread, and opening one costs far less than a page. A session is
 * checked against the users table at every request (disabled, new
 * password, other role: it ends), and every second for the open /events
 * streams (sweep(), on the live thread).
 */
#include "app.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "auth.h"
#include "board.h"
#include "certdoc.h"
#include "lab.h"
#include "live.h"
#include "log.h"
#include "mclock.h"
#include "msg.h"
#include "portal.h"
#include "query.h"
#include "ratelimit.h"
#include "session.h"
#include "verify.h"

#define COOKIE_SESSION   "mlw_session"
#define COOKIE_LOGIN     "mlw_login"
#define COOKIE_LANG      "mlw_lang"
#define KEEPALIVE_US     (15 * 1000000LL) /* an /events comment at least */
#define SWEEP_US         1000000LL        /* sessions checked this often */
#define LOGIN_FORM_S     3600             /* the login form's token lives */
#define LANG_COOKIE_S    (365 * 86400)
#define VERIFY_FAILS     10 /* checks that do not match, per address ... */
#define VERIFY_WINDOW_US (60 * 1000000LL) /* ... in a minute */

struct app {
	char *db;
	const struct mclock *clk;
	struct sessions *sessions;
	struct ratelimit *verify; /* /verify's failures per address */
	struct live *live;
	/* one Argon2id check at a time: each takes 64 MiB */
	pthread_mutex_t kdf;
	/* one certificate drawn at a time (draw.h: fontconfig, Pango) */
	pthread_mutex_t draw;
	/* checked for a user that does not exist, so that such a login
	 * takes as long as a wrong password */
	char dummy[AUTH_HASH_SIZE];
	int64_t swept_us; /* the live thread's */
};

/* One request. */
struct call {
	struct app *a;
	const struct http_req *rq;
	struct http_resp *rs;
	enum lang lang;
	struct query *q; /* opened on first use, closed at the end */
	bool logged_in;
	struct session s;
};

/* ---- the users behind sessions ------------------------------------------- */

/* 1 when the user of s is still as it logged in (enabled, the same
 * password, role and customer), 0 when not, -1 on a database error. */
static int user_current(struct query *q, const struct session *s)
{
	struct query_user u;
	int rc = query_user(q, s->user, &u);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return !u.disabled && strcmp(u.password, s->hash) == 0 &&
	       strcmp(u.role, s->role) == 0 &&
	       strcmp(u.customer, s->customer) == 0;
}

static bool keep_session(void *ctx, const struct session *s)
{
	return user_current(ctx, s) != 0; /* an error keeps it */
}

/* The live thread's tick: end the sessions of users changed since. */
static void sweep(void *ctx, struct query *q)
{
	struct app *a = ctx;
	int64_t now = mclock_mono(a->clk);

	if (now - a->swept_us < SWEEP_US)
		return;
	a->swept_us = now;
	sessions_sweep(a->sessions, keep_session, q);
}

static struct query *call_query(struct call *c)
{
	char err[512];

	if (c->q == NULL &&
	    (c->q = query_open(c->a->db, err, sizeof(err))) == NULL)
		log_warnx("%s", err);
	return c->q;
}

static bool lab_role(const struct session *s)
{
	return strcmp(s->role, auth_role_name(AUTH_TECHNICIAN)) == 0 ||
	       strcmp(s->role, auth_role_name(AUTH_MANAGER)) == 0;
}

/* ---- answers ---------------------------------------------------------------
 */

static void page_message(struct call *c, int status, enum msg m)
{
	c->rs->status = status;
	page_head(&c->rs->body, c->lang, tr(c->lang, m),
	          c->logged_in ? c->s.user : NULL, c->s.csrf);
	sb_add(&c->rs->body, "<p class=\"message\">");
	sb_html(&c->rs->body, tr(c->lang, m));
	sb_add(&c->rs->body, "</p>");
	page_tail(&c->rs->body);
}

/* The one answer for what does not exist or is not this user's. */
static void not_found(struct call *c)
{
	page_message(c, 404, M_NOT_FOUND);
}

static void redirect(struct call *c, const char *to)
{
	c->rs->status = 303;
	snprintf(c->rs->location, sizeof(c->rs->location), "%s", to);
}

static void static_file(struct call *c, const char *name)
{
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; i < nassets; i++)
		if (strcmp(assets[i].name, name) == 0) {
			c->rs->fixed = (const char *)assets[i].data;
			c->rs->fixed_len = assets[i].len;
			c->rs->cacheable = true;
			c->rs->type =
			        dot != NULL && strcmp(dot, ".css") == 0
			                ? "text/css; charset=utf-8"
			                : "text/javascript; charset=utf-8";
			return;
		}
	not_found(c);
}

/* ---- login and logout
 * -------------------------------------------------------- */

static bool is_token(const char *t)
{
	return t != NULL && strlen(t) == AUTH_TOKEN_SIZE - 1 &&
	       strspn(t, "0123456789abcdef") == AUTH_TOKEN_SIZE - 1;
}

/* The login form, its token token (kept in the cookie mlw_login), with
 * the message err (M_MSGS: none). */
static void login_form(struct call *c, int status, enum msg err,
                       const char *token)
{
	struct sbuf *b = &c->rs->body;

	c->rs->status = status;
	http_set_cookie(c->rs, COOKIE_LOGIN, token, LOGIN_FORM_S);
	page_head(b, c->lang, tr(c->lang, M_LOGIN), NULL, NULL);
	sb_add(b, "<h1>");
	sb_html(b, tr(c->lang, M_LOGIN));
	sb_add(b, "</h1>");
	if (err != M_MSGS) {
		sb_add(b, "<p class=\"error\" role=\"alert\">");
		sb_html(b, tr(c->lang, err));
		sb_add(b, "</p>");
	}
	sb_add(b, "<form class=\"login\" method=\"post\" action=\"/login\">"
	          "<input type=\"hidden\" name=\"csrf\" value=\"");
	sb_html(b, token);
	sb_add(b, "\"><label>");
	sb_html(b, tr(c->lang, M_USER));
	sb_add(b, " <input name=\"user\" autocomplete=\"username\" required "
	          "maxlength=\"64\" autofocus></label><label>");
	sb_html(b, tr(c->lang, M_PASSWORD));
	sb_add(b, " <input type=\"password\" name=\"password\" "
	          "autocomplete=\"current-password\" required></label>"
	          "<button type=\"submit\">");
	sb_html(b, tr(c->lang, M_SIGN_IN));
	sb_add(b, "</button></form>");
	page_tail(b);
}

static void get_login(struct call *c)
{
	const char *t = http_cookie(c->rq, COOKIE_LOGIN);
	char token[AUTH_TOKEN_SIZE];

	if (c->logged_in) {
		redirect(c, "/");
		return;
	}
	if (is_token(t))
		snprintf(token, sizeof(token), "%s", t);
	else
		auth_token(token, sizeof(token));
	login_form(c, 200, M_MSGS, token);
}

/* Whether user may log in with password: 0 yes (*u its row), 1 no, -1 a
 * database error. One Argon2id check whatever the case. */
static int check_password(struct call *c, const char *user,
                          const char *password, struct query_user *u)
{
	char why[128];
	int found = 1, ok;

	if (auth_check_name(user, why, sizeof(why)) == 0) {
		if (call_query(c) == NULL)
			return -1;
		if ((found = query_user(c->q, user, u)) < 0)
			return -1;
	}
	pthread_mutex_lock(&c->a->kdf);
	ok = auth_verify(found == 0 ? u->password : c->a->dummy, password);
	pthread_mutex_unlock(&c->a->kdf);
	return found == 0 && ok == 0 && !u->disabled ? 0 : 1;
}

static void post_login(struct call *c)
{
	const char *cookie = http_cookie(c->rq, COOKIE_LOGIN);
	const char *token = http_form(c->rq, "csrf");
	const char *user = http_form(c->rq, "user");
	const char *pw = http_form(c->rq, "password");
	char fresh[AUTH_TOKEN_SIZE], why[128];
	struct query_user u;
	struct session s;
	int retry, rc;

	auth_token(fresh, sizeof(fresh));
	if (c->rq->too_big || !is_token(cookie) || token == NULL ||
	    !auth_same(cookie, token) || user == NULL || pw == NULL) {
		login_form(c, 403, M_BAD_FORM, fresh);
		return;
	}
	if (sessions_login_allowed(c->a->sessions, c->rq->addr, &retry) < 0) {
		c->rs->retry_after = retry;
		login_form(c, 429, M_TOO_MANY, cookie);
		log_warnx("login refused from %s: too many failures",
		          c->rq->addr);
		return;
	}
	if ((rc = check_password(c, user, pw, &u)) < 0) {
		page_message(c, 503, M_BAD_FORM);
		return;
	}
	sessions_login_result(c->a->sessions, c->rq->addr, rc == 0);
	if (rc != 0) {
		log_warnx("login failed from %s for %s", c->rq->addr,
		          auth_check_name(user, why, sizeof(why)) == 0
		                  ? user
		                  : "(not a user name)");
		login_form(c, 401, M_BAD_LOGIN, cookie);
		return;
	}
	sessions_create(c->a->sessions, u.name, u.role, u.customer, u.password,
	                &s);
	log_info("login %s (%s) from %s", u.name, u.role, c->rq->addr);
	snprintf(c->rs->user, sizeof(c->rs->user), "%s", u.name);
	http_set_cookie(c->rs, COOKIE_SESSION, s.id, 0);
	http_set_cookie(c->rs, COOKIE_LOGIN, "", -1);
	redirect(c, "/");
}

static void post_logout(struct call *c)
{
	const char *token = http_form(c->rq, "csrf");

	if (!c->logged_in) {
		redirect(c, "/login");
		return;
	}
	if (token == NULL || !auth_same(token, c->s.csrf)) {
		page_message(c, 403, M_BAD_FORM);
		return;
	}
	sessions_end(c->a->sessions, c->s.id);
	log_info("logout %s from %s", c->s.user, c->rq->addr);
	http_set_cookie(c->rs, COOKIE_SESSION, "", -1);
	redirect(c, "/login");
}

/* ---- the pages
 * ---------------------------------------------------------------- */

static void get_home(struct call *c)
{
	if (!c->logged_in)
		redirect(c, "/login");
	else if (lab_role(&c->s))
		redirect(c, "/board");
	else
		redirect(c, "/instruments");
}

/* Whose instruments the user sees: NULL every one (the lab's people),
 * else its customer's. */
static const char *owner_of(const struct call *c)
{
	return lab_role(&c->s) ? NULL : c->s.customer;
}

/* A portal page: rc 0 the page in page (title title; keep: the query
 * arguments the language switch keeps, page_head_keep), 1 the 404, -1 a
 * database error (503). */
static void portal_answer(struct call *c, int rc, const char *title,
                          const char *keep, struct sbuf *page)
{
	if (rc < 0) {
		log_warnx("portal: %s", query_error(c->q));
		page_message(c, 503, M_NOT_FOUND);
	} else if (rc == 1) {
		not_found(c);
	} else {
		page_head_keep(&c->rs->body, c->lang, title, c->s.user,
		               c->s.csrf, keep);
		sb_addn(&c->rs->body, page->p != NULL ? page->p : "",
		        page->len);
		page_tail(&c->rs->body);
		c->rs->body.oom |= page->oom;
	}
	sb_free(page);
}

static void get_instruments(struct call *c)
{
	struct sbuf page = {0};

	if (call_query(c) == NULL) {
		page_message(c, 503, M_NOT_FOUND);
		return;
	}
	portal_answer(c,
	              portal_instruments(&page, c->q, owner_of(c),
	                                 mclock_real(c->a->clk), c->lang),
	              tr(c->lang, M_INSTRUMENTS), "", &page);
}

static void get_instrument(struct call *c)
{
	const char *name = http_query(c->rq, "name");
	struct sbuf page = {0}, keep = {0};
	int rc;

	if (name == NULL || name[0] == '\0') {
		not_found(c);
		return;
	}
	if (call_query(c) == NULL) {
		page_message(c, 503, M_NOT_FOUND);
		return;
	}
	rc = portal_instrument(&page, c->q, name, owner_of(c),
	                       mclock_real(c->a->clk), c->lang);
	sb_add(&keep, "name=");
	sb_url(&keep, name);
	sb_add(&keep, "&");
	portal_answer(c, rc, name, keep.oom ? "" : keep.p, &page);
	sb_free(&keep);
}

/* The board from the live thread's newest snapshot: no query of its own
 * (the page is as fresh as the live board, within a poll period). */
static void get_board(struct call *c)
{
	uint64_t gen = 0;
	bool stopping;
	struct board_snap *snap = live_next(c->a->live, &gen, 0, &stopping);

	if (snap == NULL) {
		page_message(c, 503, M_NOT_FOUND);
		return;
	}
	page_head(&c->rs->body, c->lang, tr(c->lang, M_BOARD), c->s.user,
	          c->s.csrf);
	lab_nav(&c->rs->body, c->lang);
	board_html(&c->rs->body, snap, mclock_real(c->a->clk), c->lang);
	sb_add(&c->rs->body, "<script src=\"/static/board.js\"></script>");
	page_tail(&c->rs->body);
	live_release(c->a->live, snap);
}

/* ---- the technicians' pages (lab.h) --------------------------------------
 */

/* The query arguments names[] of the request that are there, as
 * "name=value&" each (page_head_keep). */
static void keep_args(struct sbuf *keep, const struct http_req *rq,
                      const char *const *names, int n);

/* A page of lab.h: rc 0 (or 400: status 400) the page in page, 1 the
 * 404, -1 a database error (503); keep: the query arguments the language
 * switch keeps. */
static void lab_answer(struct call *c, int rc, const char *title,
                       const char *const *keep, int nkeep, struct sbuf *page)
{
	struct sbuf k = {0};

	if (rc == 400)
		c->rs->status = 400;
	keep_args(&k, c->rq, keep, nkeep);
	portal_answer(c, rc == 400 ? 0 : rc, title,
	              k.oom || k.p == NULL ? "" : k.p, page);
	sb_free(&k);
}

static void get_lab_instrument(struct call *c)
{
	const char *name = http_query(c->rq, "name");
	struct sbuf page = {0};

	if (name == NULL || name[0] == '\0') {
		not_found(c);
		return;
	}
	if (call_query(c) == NULL) {
		page_message(c, 503, M_NOT_FOUND);
		return;
	}
	lab_answer(c,
	           lab_instrument(&page, c->q, name,
	                          http_query(c->rq, "channel"),
	                          mclock_real(c->a->clk), c->lang),
	           name, (const char *const[]){"name", "channel"}, 2, &page);
}

/* The trend picture, drawn in memory (one drawing at a time). */
static void get_lab_trend(struct call *c)
{
	const char *name = http_query(c->rq, "name");
	const char *channel = http_query(c->rq, "channel");
	char *svg = NULL, err[512];
	size_t len = 0;
	int rc;

	if (name == NULL || channel == NULL || name[0] == '\0' ||
	    channel[0] == '\0') {
		not_found(c);
		return;
	}
	if (call_query(c) == NULL) {
		page_message(c, 503, M_NOT_FOUND);
		return;
	}
	pthread_mutex_lock(&c->a->draw);
	rc = lab_trend_svg(c->q, name, channel, mclock_real(c->a->clk), &svg,
	                   &len, err, sizeof(err));
	pthread_mutex_unlock(&c->a->draw);
	if (rc == 0) {
		c->rs->body = (struct sbuf){.p = svg, .len = len, .cap = len};
		c->rs->type = "image/svg+xml";
		return;
	}
	free(svg);
	if (rc < 0) {
		log_warnx("trend of %s/%s: %s", name, channel, err);
		page_message(c, 503, M_NOT_FOUND);
	} else {
		not_found(c);
	}
}

static void get_lab_due(struct call *c)
{
	struct sbuf page = {0};

	if (call_query(c) == NULL) {
		page_message(c, 503, M_NOT_FOUND);
		return;
	}
	lab_answer(c,
	           lab_worklist(&page, c->q, mclock_real(c->a->clk), c->lang),
	           tr(c->lang, M_WORKLIST), NULL, 0, &page);
}

static void get_lab_log(struct call *c)
{
	static const char *const names[] = {"instrument", "kind", "from", "to",
	                                    "page"};
	struct lab_log_args a = {.instrument = http_query(c->rq, names[0]),
	                         .kind = http_query(c->rq, names[1]),
	                         .from = http_query(c->rq, names[2]),
	                         .to = http_query(c->rq, names[3]),
	                         .page = http_query(c->rq, names[4])};
	struct sbuf page = {0};

	if (call_query(c) == NULL) {
		page_message(c, 503, M_NOT_FOUND);
		return;
	}
	lab_answer(c, lab_log(&page, c->q, &a, mclock_real(c->a->clk), c->lang),
	           tr(c->lang, M_EVENTS_LOG), names, 5, &page);
}

/* /lab/...: the lab's people only. */
static void lab_route(struct call *c, const char *p)
{
	if (!c->logged_in)
		redirect(c, "/login");
	else if (!lab_role(&c->s))
		not_found(c);
	else if (strcmp(p, "/lab/instrument") == 0)
		get_lab_instrument(c);
	else if (strcmp(p, "/lab/trend.svg") == 0)
		get_lab_trend(c);
	else if (strcmp(p, "/lab/due") == 0)
		get_lab_due(c);
	else
		get_lab_log(c);
}

/* ---- certificates --------------------------------------------------------
 */

/* The record of certificate ?n= that the user may have (portal_record)
 * into a new *r (the caller frees it) with its approval: 0; or -1,
 * answered (the 404 of what does not exist, or 503). */
static int call_record(struct call *c, struct calib_record **r,
                       struct calib_approval *ap)
{
	const char *cert = http_query(c->rq, "n");
	int rc;

	*r = NULL;
	if (cert == NULL || cert[0] == '\0' ||
	    strlen(cert) >= sizeof((*r)->certificate)) {
		not_found(c);
		return -1;
	}
	if (call_query(c) == NULL || (*r = malloc(sizeof(**r))) == NULL) {
		page_message(c, 503, M_NOT_FOUND);
		return -1;
	}
	rc = portal_record(c->q, cert, owner_of(c), *r, ap);
	if (rc == 0)
		return 0;
	if (rc < 0) {
		log_warnx("certificate: %s", query_error(c->q));
		page_message(c, 503, M_NOT_FOUND);
	} else {
		not_found(c);
	}
	free(*r);
	*r = NULL;
	return -1;
}

/* The download's file name: the certificate number, '/' as '_'. */
static void attachment(struct call *c, const char *cert, const char *ext)
{
	size_t i;

	snprintf(c->rs->attachment, sizeof(c->rs->attachment), "%s.%s", cert,
	         ext);
	for (i = 0; c->rs->attachment[i] != '\0'; i++)
		if (c->rs->attachment[i] == '/')
			c->rs->attachment[i] = '_';
}

/* The certificate as the tool draws it (certdoc.h), drawn in memory. */
static void get_certificate_pdf(struct call *c)
{
	struct calib_record *r;
	struct calib_approval ap;
	struct certdoc d = {.lang = DRAW_VI_EN};
	int rc;

	if (call_record(c, &r, &ap) < 0)
		return;
	d.now_us = mclock_real(c->a->clk);
	pthread_mutex_lock(&c->a->draw);
	rc = certdoc_write(c->q, r, &d);
	pthread_mutex_unlock(&c->a->draw);
	if (d.note[0] != '\0')
		log_warnx("certificate %s: %s", r->certificate, d.note);
	if (rc < 0) {
		log_warnx("certificate %s: %s", r->certificate, d.err);
		page_message(c, 503, M_NOT_FOUND);
	} else {
		c->rs->body =
		        (struct sbuf){.p = d.pdf, .len = d.len, .cap = d.len};
		c->rs->type = "application/pdf";
		attachment(c, r->certificate, "pdf");
	}
	free(r);
}

/* The record as JSON (msg_certificate). */
static void get_certificate_json(struct call *c)
{
	struct calib_record *r;
	struct calib_approval ap;
	char replaces[CALIB_ID], replaced_by[CALIB_ID];
	struct msg_certificate m = {.replaces = replaces,
	                            .replaced_by = replaced_by,
	                            .approval = &ap};
	char *text = NULL;
	size_t len;

	if (call_record(c, &r, &ap) < 0)
		return;
	m.rec = r;
	if (certdoc_supersession(c->q, r, replaces, replaced_by,
	                         &m.superseded_by) < 0) {
		log_warnx("certificate: %s", query_error(c->q));
		page_message(c, 503, M_NOT_FOUND);
	} else if ((text = msg_certificate(&m, &len)) == NULL) {
		c->rs->body.oom = true;
	} else {
		sb_addn(&c->rs->body, text, len);
		c->rs->type = "application/json";
		attachment(c, r->certificate, "json");
	}
	msg_text_free(text);
	free(r);
}

/* ---- /verify ---------------------------------------------------------------
 */

/* The query arguments names[] of the request that are there, as
 * "name=value&" each (page_head_keep). */
static void keep_args(struct sbuf *keep, const struct http_req *rq,
                      const char *const *names, int n)
{
	for (int i = 0; i < n; i++) {
		const char *v = http_query(rq, names[i]);
		if (v == NULL || v[0] == '\0')
			continue;
		sb_printf(keep, "%s=", names[i]);
		sb_url(keep, v);
		sb_add(keep, "&");
	}
}

static const char *outcome_word(enum verify_outcome o)
{
	return o == VERIFY_MATCH      ? "matches"
	       : o == VERIFY_NO_MATCH ? "does not match"
	                              : "not found";
}

/* The public verification: a GET (it changes nothing, needs no session,
 * so no CSRF token), rate-limited per address on the checks that do not
 * match. */
static void get_verify(struct call *c)
{
	const char *qr = http_query(c->rq, "qr");
	const char *cert = http_query(c->rq, "cert");
	const char *hash = http_query(c->rq, "hash");
	bool asked = (qr != NULL && *qr) || (cert != NULL && *cert) ||
	             (hash != NULL && *hash);
	char cn[CALIB_ID], hn[CALIB_HASH];
	struct verify_result res, *shown = NULL;
	struct sbuf keep = {0};
	enum msg err = M_MSGS;
	int retry;

	if (asked && ratelimit_allowed(c->a->verify, c->rq->addr, &retry) < 0) {
		c->rs->status = 429;
		c->rs->retry_after = retry;
		err = M_VERIFY_TOO_MANY;
		log_warnx("verification refused from %s: too many failures",
		          c->rq->addr);
	} else if (asked && verify_input(qr, cert, hash, cn, hn) < 0) {
		c->rs->status = 400;
		err = M_VERIFY_BAD;
	} else if (asked) {
		if (call_query(c) == NULL ||
		    verify_check(c->q, cn, hn, &res) < 0) {
			if (c->q != NULL)
				log_warnx("verify: %s", query_error(c->q));
			page_message(c, 503, M_NOT_FOUND);
			return;
		}
		shown = &res;
		if (res.outcome != VERIFY_MATCH)
			ratelimit_result(c->a->verify, c->rq->addr, false);
		log_info("verification of %s from %s: %s", cn, c->rq->addr,
		         outcome_word(res.outcome));
	}
	keep_args(&keep, c->rq, (const char *const[]){"cert", "hash", "qr"}, 3);
	page_head_keep(&c->rs->body, c->lang, tr(c->lang, M_VERIFY),
	               c->logged_in ? c->s.user : NULL, c->s.csrf,
	               keep.oom || keep.p == NULL ? "" : keep.p);
	sb_free(&keep);
	verify_html(&c->rs->body, c->lang, cert, hash, qr, shown, err);
	page_tail(&c->rs->body);
}

/* ---- /events
 * ------------------------------------------------------------------ */

/* A stream sends, for each snapshot it takes, the events from the one
 * its page shows (last): the snapshot's own delta, drawn once for every
 * stream of its language (board_delta), when last is the one just
 * before; else (a new stream, or one that fell behind) events of its
 * own (board_events). */
struct stream {
	struct app *a;
	char sid[AUTH_TOKEN_SIZE];
	enum lang lang;
	uint64_t gen;
	struct board_snap *last; /* what the page shows */
	struct sbuf own;         /* events of its own */
	const char *p;           /* what is being sent: own.p, or last's */
	size_t len, sent;
};

/* The events from s->last to snap into s->p and s->len; snap becomes
 * s->last (the stream's reference). Returns 0 or -1. */
static int stream_take(struct stream *s, struct board_snap *snap)
{
	int rc = 0;

	if (s->last != NULL && snap->prev_gen == s->last->gen) {
		rc = board_delta(snap, s->lang, &s->p, &s->len);
	} else {
		board_events(&s->own, s->last, snap, s->lang);
		s->p = s->own.p;
		s->len = s->own.len;
		rc = s->own.oom ? -1 : 0;
	}
	live_release(s->a->live, s->last);
	s->last = snap;
	return rc;
}

static ssize_t stream_read(void *ctx, char *buf, size_t max)
{
	struct stream *s = ctx;

	while (s->sent == s->len) {
		bool stopping;
		struct board_snap *snap;
		s->own.len = s->sent = s->len = 0;
		if (!sessions_alive(s->a->sessions, s->sid))
			return -1;
		snap = live_next(s->a->live, &s->gen, KEEPALIVE_US, &stopping);
		if (stopping)
			return -1;
		if (snap == NULL) {
			sb_add(&s->own, ": keepalive\n\n");
			s->p = s->own.p;
			s->len = s->own.len;
		} else if (stream_take(s, snap) < 0) {
			return -1;
		}
	}
	size_t n = s->len - s->sent;
	if (n > max)
		n = max;
	memcpy(buf, s->p + s->sent, n);
	s->sent += n;
	return (ssize_t)n;
}

static void stream_done(void *ctx)
{
	struct stream *s = ctx;

	live_release(s->a->live, s->last);
	sb_free(&s->own);
	free(s);
}

static void get_events(struct call *c)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		page_message(c, 503, M_NOT_FOUND);
		return;
	}
	s->a = c->a;
	s->lang = c->lang;
	snprintf(s->sid, sizeof(s->sid), "%s", c->s.id);
	sb_add(&s->own, "retry: 2000\n\n");
	s->p = s->own.p;
	s->len = s->own.len;
	c->rs->type = "text/event-stream; charset=utf-8";
	c->rs->read = stream_read;
	c->rs->done = stream_done;
	c->rs->ctx = s;
}

/* ---- the request ------------------------------------------------------------
 */

/* The session of the request, if any, checked against the users table. */
static void find_session(struct call *c)
{
	const char *id = http_cookie(c->rq, COOKIE_SESSION);
	int rc;

	if (id == NULL || sessions_find(c->a->sessions, id, &c->s) < 0)
		return;
	rc = call_query(c) != NULL ? user_current(c->q, &c->s) : -1;
	if (rc == 0) {
		sessions_end(c->a->sessions, id);
		log_info("session of %s ended: the user changed", c->s.user);
	}
	c->logged_in = rc == 1;
	if (c->logged_in)
		snprintf(c->rs->user, sizeof(c->rs->user), "%s", c->s.user);
	else
		memset(&c->s, 0, sizeof(c->s));
}

/* The language: ?lang= (then kept in a cookie), the cookie, the
 * browser's. */
static void pick_lang(struct call *c)
{
	const char *asked = http_query(c->rq, "lang");

	if (asked != NULL &&
	    (strcmp(asked, "en") == 0 || strcmp(asked, "vi") == 0)) {
		http_set_cookie(c->rs, COOKIE_LANG, asked, LANG_COOKIE_S);
		c->lang = lang_pick(asked, NULL);
		return;
	}
	c->lang = lang_pick(http_cookie(c->rq, COOKIE_LANG),
	                    http_header(c->rq, "Accept-Language"));
}

static void route(struct call *c, bool get, bool post)
{
	const char *p = c->rq->path;

	if (strcmp(p, "/login") == 0 && (get || post)) {
		if (get)
			get_login(c);
		else
			post_login(c);
	} else if (strcmp(p, "/logout") == 0 && post) {
		post_logout(c);
	} else if (!get) {
		not_found(c);
	} else if (strcmp(p, "/") == 0) {
		get_home(c);
	} else if (strcmp(p, "/verify") == 0) {
		get_verify(c);
	} else if (strcmp(p, "/instruments") == 0 ||
	           strcmp(p, "/instrument") == 0) {
		if (!c->logged_in)
			redirect(c, "/login");
		else if (p[11] == 's')
			get_instruments(c);
		else
			get_instrument(c);
	} else if (strcmp(p, "/certificate.pdf") == 0 ||
	           strcmp(p, "/certificate.json") == 0) {
		if (!c->logged_in)
			redirect(c, "/login");
		else if (p[13] == 'p')
			get_certificate_pdf(c);
		else
			get_certificate_json(c);
	} else if (strcmp(p, "/lab/instrument") == 0 ||
	           strcmp(p, "/lab/trend.svg") == 0 ||
	           strcmp(p, "/lab/due") == 0 || strcmp(p, "/lab/log") == 0) {
		lab_route(c, p);
	} else if (strcmp(p, "/board") == 0 || strcmp(p, "/events") == 0) {
		if (!c->logged_in)
			redirect(c, "/login");
		else if (!lab_role(&c->s))
			not_found(c);
		else if (p[1] == 'b')
			get_board(c);
		else
			get_events(c);
	} else {
		not_found(c);
	}
}

void app_handle(void *ctx, const struct http_req *rq, struct http_resp *rs)
{
	struct call c = {.a = ctx, .rq = rq, .rs = rs};
	bool get = strcmp(rq->method, "GET") == 0 ||
	           strcmp(rq->method, "HEAD") == 0;
	bool post = strcmp(rq->method, "POST") == 0;

	pick_lang(&c);
	if (strncmp(rq->path, "/static/", 8) == 0 && get) {
		static_file(&c, rq->path + 8);
		return;
	}
	find_session(&c);
	if (!get && !post)
		page_message(&c, 405, M_NOT_FOUND);
	else
		route(&c, get, post);
	if (rs->body.oom) {
		sb_free(&rs->body);
		rs->status = 500;
	}
	query_close(c.q);
}

/* ---- life
 * ---------------------------------------------------------------------- */

/* The lab's time zone, as the tool takes it (query_use_lab_zone()).
 * Called before any thread starts (it sets TZ). */
static void lab_zone(const char *db)
{
	char zone[256];

	if (query_use_lab_zone(db, zone, sizeof(zone)) == 1)
		log_info("the lab's time zone: %s", zone);
}

struct app *app_new(const struct app_config *cfg, char *err, size_t errlen)
{
	struct app *a = calloc(1, sizeof(*a));

	if (a == NULL || (a->db = strdup(cfg->db)) == NULL) {
		free(a);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->clk = cfg->clk;
	lab_zone(cfg->db);
	pthread_mutex_init(&a->kdf, NULL);
	pthread_mutex_init(&a->draw, NULL);
	if ((a->sessions = sessions_new(cfg->clk)) == NULL ||
	    (a->verify = ratelimit_new(cfg->clk, VERIFY_FAILS,
	                               VERIFY_WINDOW_US)) == NULL ||
	    auth_hash("not a password of anyone", a->dummy, sizeof(a->dummy)) <
	            0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	a->live = live_start(cfg->db, cfg->clk, cfg->poll_us, sweep, a, err,
	                     errlen);
	if (a->live == NULL)
		goto fail;
	return a;
fail:
	app_free(a);
	return NULL;
}

void app_stop(struct app *a)
{
	if (a != NULL)
		live_stop(a->live);
}

void app_free(struct app *a)
{
	if (a == NULL)
		return;
	live_free(a->live);
	sessions_free(a->sessions);
	ratelimit_free(a->verify);
	pthread_mutex_destroy(&a->kdf);
	pthread_mutex_destroy(&a->draw);
	free(a->db);
	free(a);
}
