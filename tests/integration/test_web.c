/*
 * test_web.c - metrolog-web over real HTTP (libcurl), against a real
 * metrologd polling metrolog-sim, with accounts made by `metrolog user
 * add` (the password on standard input):
 *
 *   - a wrong password, an unknown user: 401, no session cookie;
 *   - five failures from one address, then even the right password: 429
 *     with Retry-After (another address still logs in);
 *   - a login or logout without its CSRF token, or with another: 403;
 *   - the session cookie: HttpOnly, SameSite=Strict, Path=/; behind a
 *     TLS proxy also Secure, with HSTS, the address from X-Forwarded-For;
 *   - the security headers on every kind of answer;
 *   - the board: the instrument, its values with unit, tolerance states
 *     in words and classes, link and calibration states, in English and
 *     Vietnamese; a hostile location shown as text, never as markup;
 *   - an enterprise user gets for /board and /events exactly the 404 of a
 *     page that does not exist;
 *   - /events delivers a reading committed after it connected (the test
 *     waits for it; the value is the one in the database);
 *   - a user disabled with `metrolog user disable` is out at the next
 *     request; logout ends a session;
 *   - metrolog-web refuses a database that does not exist, creating none,
 *     and stops on SIGTERM with exit 0;
 *   - the technicians' pages: an instrument's page (its channels, the
 *     trend of a drifting channel with its predicted crossing in words,
 *     recent events, calibration history with due dates and PDF links),
 *     its trend as SVG (the limit lines and the crossing's mark, drawn by
 *     the tool's code), the week's worklist in due order, the events log
 *     (each filter narrows it to exactly what the database holds, newest
 *     first, bad filters 400), all refused to an enterprise user with
 *     the 404 of a page that does not exist.
 *
 * Each test speaks from its own loopback address (127.0.0.N), so that the
 * failures one counts do not trip the rate limit of another. One rig for
 * all (group setup): starting metrologd and hashing passwords is slow.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "gwtest.h"
#include "harness.h"

#define HOSTILE "<script>alert('x')</script> & \"room\""
#define LAB     "Phòng Hiệu chuẩn Thử"
/* the certificate numbers: ACME's (TB-01) and BETA's (AB-02); a '/' in
 * one, which a URL carries percent-encoded */
#define CERT_A       "ACME/2026-001"
#define CERT_A_DRAFT "ACME-2026-002"
#define CERT_B       "BETA-2026-001"
#define CERT_B_DRAFT "BETA-2026-002"

static struct rig {
	struct h_sim sim;
	struct gw g;
	pid_t web;
	int port;
	char log[H_PATH_MAX];
	int64_t c2; /* channels.id of TB-01/c2, the noisy one */
} R;

/* ---- an HTTP client --------------------------------------------------- */

struct res {
	long status;
	char head[16384];
	size_t hlen;
	char *body;
	size_t blen, bcap;
	/* for a stream: stop once this says so */
	bool (*enough)(const struct res *r, void *ctx);
	void *ctx;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct res *r = ud;
	size_t len = size * n;

	if (r->blen + len + 1 > r->bcap) {
		size_t cap = r->bcap ? r->bcap : 65536;
		while (cap < r->blen + len + 1)
			cap *= 2;
		if ((r->body = realloc(r->body, cap)) == NULL)
			return 0;
		r->bcap = cap;
	}
	memcpy(r->body + r->blen, p, len);
	r->blen += len;
	r->body[r->blen] = '\0';
	if (r->enough != NULL && r->enough(r, r->ctx))
		return 0; /* ends the transfer */
	return len;
}

static size_t on_head(char *p, size_t size, size_t n, void *ud)
{
	struct res *r = ud;
	size_t len = size * n;

	if (r->hlen + len < sizeof(r->head)) {
		memcpy(r->head + r->hlen, p, len);
		r->hlen += len;
		r->head[r->hlen] = '\0';
	}
	return len;
}

/* method path from 127.0.0.<src>, with cookies ("a=b; c=d" or NULL),
 * form (URL-encoded, or NULL: no body) and one more header (or NULL). */
static void request(int src, const char *method, const char *path,
                    const char *cookies, const char *form, const char *header,
                    struct res *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hs = NULL;
	char url[512], iface[64];

	assert_non_null(c);
	free(r->body);
	r->body = NULL;
	r->blen = r->bcap = r->hlen = 0;
	r->head[0] = '\0';
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", R.port, path);
	snprintf(iface, sizeof(iface), "host!127.0.0.%d", src);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_INTERFACE, iface);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_head);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 60000L);
	if (cookies != NULL)
		curl_easy_setopt(c, CURLOPT_COOKIE, cookies);
	if (form != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
	if (header != NULL)
		hs = curl_slist_append(hs, header);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
	CURLcode rc = curl_easy_perform(c);
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && r->enough))
		fail_msg("%s %s: %s", method, path, curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(hs);
	curl_easy_cleanup(c);
	if (r->body == NULL)
		r->body = calloc(1, 1);
}

static void res_free(struct res *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* The value of header name (the last one of that name) into buf; false
 * when absent. */
static bool header(const struct res *r, const char *name, char *buf,
                   size_t size)
{
	size_t n = strlen(name);
	bool found = false;

	for (const char *p = r->head; (p = strstr(p, "\n")) != NULL; p++) {
		if (strncasecmp(p + 1, name, n) == 0 && p[1 + n] == ':') {
			const char *v = p + 2 + n;
			while (*v == ' ')
				v++;
			snprintf(buf, size, "%.*s", (int)strcspn(v, "\r\n"), v);
			found = true;
		}
	}
	return found;
}

/* The Set-Cookie line of cookie name into line, its value into value;
 * false when the response sets none. */
static bool set_cookie(const struct res *r, const char *name, char *value,
                       size_t vsize, char *line, size_t lsize)
{
	size_t n = strlen(name);

	for (const char *p = r->head; (p = strstr(p, "\nSet-Cookie: ")) != NULL;
	     p++) {
		const char *v = p + 13;
		if (strncmp(v, name, n) == 0 && v[n] == '=') {
			snprintf(line, lsize, "%.*s", (int)strcspn(v, "\r\n"),
			         v);
			snprintf(value, vsize, "%.*s",
			         (int)strcspn(v + n + 1, ";\r\n"), v + n + 1);
			return true;
		}
	}
	return false;
}

/* The value of the hidden input csrf of a form in body. */
static void form_token(const char *body, char *token, size_t size)
{
	const char *p = strstr(body, "name=\"csrf\" value=\"");

	assert_non_null(p);
	p += 19;
	snprintf(token, size, "%.*s", (int)strcspn(p, "\""), p);
	assert_int_equal(strlen(token), 64);
}

/* Log in as user with password from 127.0.0.<src>; the status of the
 * POST, and the session cookie's value into session ("" none). */
static long login(int src, const char *user, const char *password,
                  char *session, size_t size)
{
	struct res r = {0};
	char token[80], cookie[160], form[512], line[256];
	long status;

	request(src, "GET", "/login", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	form_token(r.body, token, sizeof(token));
	snprintf(cookie, sizeof(cookie), "mlw_login=%s", token);
	snprintf(form, sizeof(form), "csrf=%s&user=%s&password=%s", token, user,
	         password);
	request(src, "POST", "/login", cookie, form, NULL, &r);
	status = r.status;
	session[0] = '\0';
	if (!set_cookie(&r, "mlw_session", session, size, line, sizeof(line)))
		session[0] = '\0';
	res_free(&r);
	return status;
}

static void get_as(int src, const char *session, const char *path,
                   const char *header_line, struct res *r)
{
	char cookie[160];

	snprintf(cookie, sizeof(cookie), "mlw_session=%s", session);
	request(src, "GET", path, cookie, NULL, header_line, r);
}

/* ---- the rig ---------------------------------------------------------- */

static void add_user(const char *name, const char *role, const char *customer,
                     const char *password)
{
	char pw[H_PATH_MAX], log[H_PATH_MAX], out[4096], text[128];
	const char *argv[] = {
	        METROLOG_BIN, "user", "add",
	        "-d",         R.g.db, name,
	        "--role",     role,   customer ? "--customer" : NULL,
	        customer,     NULL};

	snprintf(text, sizeof(text), "%s\n", password);
	write_file(h_path(pw, R.g.dir, "password"), text);
	h_path(log, R.g.dir, "user.log");
	if (h_run_input(argv, pw, log, true, 120000) != 0) {
		h_read_file(log, out, sizeof(out));
		fail_msg("metrolog user add %s: %s", name, out);
	}
}

/* metrolog ARGS... (NULL-terminated after the subcommand), or fail with
 * what it printed. */
static void tool(const char *const *args)
{
	const char *argv[40] = {METROLOG_BIN};
	char log[H_PATH_MAX], out[8192];
	int n = 1;

	for (; args[n - 1] != NULL && n < 39; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	h_path(log, R.g.dir, "tool.log");
	if (h_run(argv, log, true, 120000) != 0) {
		h_read_file(log, out, sizeof(out));
		fail_msg("metrolog %s: %s", args[0], out);
	}
}

/* A calibration of instrument on the day days ago (UTC date), certificate
 * cert, written by `metrolog calibrate`; approved by `metrolog approve`
 * when approve. */
static void calibrate(const char *instrument, const char *cert, int days,
                      const char *point, bool approve)
{
	char date[16];
	time_t t = time(NULL) - (time_t)days * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	const char *cal[] = {
	        "calibrate", "-d",      R.g.db, "-i", instrument,      "-c",
	        cert,        "--date",  date,   "-t", "Trần Thị Bình", "--lab",
	        LAB,         "--point", point,  NULL};
	tool(cal);
	if (approve) {
		const char *ap[] = {"approve", "-d",          R.g.db,
		                    cert,      "--by",        "Lê Văn Cường",
		                    "--role",  "Lab manager", NULL};
		tool(ap);
	}
}

/* Two customers' records, each an approved one and a newer draft:
 * ACME's on TB-01 (a calibration interval: due dates), BETA's on AB-02
 * (none: no due date, as the board test expects). */
static void records(void)
{
	calibrate("TB-01", CERT_A, 40,
	          "c0,degC,20.5,20.52,20.51,-0.5,0.5,0.01,2", true);
	calibrate("TB-01", CERT_A_DRAFT, 10,
	          "c0,degC,20.5,20.6,,-0.5,0.5,0.01,2", false);
	calibrate("AB-02", CERT_B, 30, "p,bar,1,1.02,1.001,-0.05,0.05,0.002,2",
	          true);
	calibrate("AB-02", CERT_B_DRAFT, 5, "p,bar,1,1.01,,-0.05,0.05,0.002,2",
	          false);
	/* due 5 days ago, in 5 days, in 265 days */
	calibrate("STD-LATE", "S-LATE-1", 370, "r,ohm,100,100.01,,-1,1,0.01,2",
	          false);
	calibrate("STD-SOON", "S-SOON-1", 360, "r,ohm,100,100.01,,-1,1,0.01,2",
	          false);
	calibrate("STD-FINE", "S-FINE-1", 100, "r,ohm,100,100.01,,-1,1,0.01,2",
	          false);
}

static int rig_up(void **state)
{
	const char *dir = h_tmpdir();
	/* c3 drifts 100 units a day from 20: its error crosses +0.5 some
	 * minutes after the start, a crossing the trend predicts */
	const char *extra[] = {"-n", "2",
	                       "-m", "4",
	                       "-c", "0:nominal=20.5",
	                       "-c", "1:nominal=21",
	                       "-c", "2:noise=0.5",
	                       "-c", "3:nominal=20,drift=100",
	                       NULL};
	char bus[256], inst[2048], port[32], listen[64];

	(void)state;
	/* metrolog-web draws certificates: Pango's fontconfig leaks a block */
	gw_suppress_font_leaks();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	assert_int_equal(h_sim_start(&R.sim, dir, true, false, extra), 0);
	gw_init(&R.g, dir);
	tcp_bus(bus, sizeof(bus), "tcp-1", R.sim.port, 1000);
	snprintf(inst, sizeof(inst),
	         "{ id = \"TB-01\"; bus = \"tcp-1\"; unit_id = 1; "
	         "interval_ms = 200; owner = \"ACME\"; location = \"%s\"; "
	         "model = \"TB-9\"; serial = \"SN-0001\"; "
	         "calibration_interval_days = 365; "
	         "channels = ("
	         " { name = \"c0\"; table = \"input\"; address = 0; "
	         "type = \"float32\"; unit = \"degC\"; tolerance = { "
	         "reference = 20.5; limit = 0.5; U = 0.01; }; },"
	         " { name = \"c1\"; table = \"input\"; address = 2; "
	         "type = \"float32\"; unit = \"degC\"; tolerance = { "
	         "reference = 20; limit = 0.05; U = 0.01; }; },"
	         " { name = \"c2\"; table = \"input\"; address = 4; "
	         "type = \"float32\"; unit = \"kPa\"; },"
	         " { name = \"c3\"; table = \"input\"; address = 6; "
	         "type = \"float32\"; unit = \"degC\"; tolerance = { "
	         "reference = 20; limit = 0.5; U = 0.01; }; } ); },"
	         "{ id = \"AB-02\"; bus = \"tcp-1\"; unit_id = 2; "
	         "interval_ms = 200; owner = \"BETA\"; "
	         "channels = ( { name = \"p\"; "
	         "table = \"input\"; address = 0; type = \"float32\"; "
	         "unit = \"bar\"; } ); }",
	         "<script>alert('x')</script> & \\\"room\\\"");
	gw_config(&R.g, bus, inst,
	          "customers = ( { id = \"ACME\"; name = \"ACME Ltd\"; "
	          "address = \"1 Road\"; }, { id = \"BETA\"; name = "
	          "\"Beta JSC\"; address = \"2 Street\"; } );\n"
	          /* the worklist's: never calibrated, overdue, due soon,
	           * in date (records()) */
	          "standards = ( { id = \"STD-NEW\"; "
	          "calibration_interval_days = 365; }, { id = \"STD-LATE\"; "
	          "calibration_interval_days = 365; }, { id = \"STD-SOON\"; "
	          "calibration_interval_days = 365; }, { id = \"STD-FINE\"; "
	          "calibration_interval_days = 365; } );");
	gw_start(&R.g);
	assert_true(gw_wait_sql(&R.g,
	                        "SELECT count(*) FROM events WHERE kind = "
	                        "'tolerance' AND state_to = 'out_of_tolerance'",
	                        60000));
	R.c2 = db_int(R.g.db, "SELECT c.id FROM channels c JOIN instruments i"
	                      " ON i.id = c.instrument_id WHERE i.name = "
	                      "'TB-01' AND c.name = 'c2'");
	add_user("tech", "technician", NULL, "tech-password-1");
	add_user("tech2", "manager", NULL, "tech-password-2");
	add_user("qm", "enterprise", "ACME", "acme-password-1");
	add_user("qb", "enterprise", "BETA", "beta-password-1");
	records();

	R.port = h_free_port();
	snprintf(port, sizeof(port), "%d", R.port);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", R.port);
	h_path(R.log, dir, "web.log");
	const char *argv[] = {METROLOG_WEB_BIN, "-d",   R.g.db,
	                      "--listen",       listen, NULL};
	R.web = h_spawn(argv, R.log, true);
	assert_true(R.web > 0);
	assert_int_equal(h_wait_port(R.port, 30000), 0);
	return 0;
}

static int rig_down(void **state)
{
	(void)state;
	h_cleanup();
	curl_global_cleanup();
	return 0;
}

/* ---- the tests -------------------------------------------------------- */

static void wrong_password_refused(void **state)
{
	char session[128];

	(void)state;
	assert_int_equal(
	        login(2, "tech", "not-the-password", session, sizeof(session)),
	        401);
	assert_string_equal(session, "");
	assert_int_equal(
	        login(2, "nobody", "whatever-123", session, sizeof(session)),
	        401);
	assert_string_equal(session, "");
	assert_int_equal(
	        login(2, "tech", "tech-password-1", session, sizeof(session)),
	        303);
	assert_int_equal(strlen(session), 64);
}

static void rate_limited(void **state)
{
	char session[128], value[32];
	struct res r = {0};

	(void)state;
	for (int i = 0; i < 5; i++)
		assert_int_equal(login(3, "tech", "wrong-password", session,
		                       sizeof(session)),
		                 401);
	/* the sixth try is refused unchecked, right password or not */
	assert_int_equal(
	        login(3, "tech", "tech-password-1", session, sizeof(session)),
	        429);
	assert_string_equal(session, "");
	/* with Retry-After, on the form */
	char token[80], cookie[160], form[512];
	request(3, "GET", "/login", NULL, NULL, NULL, &r);
	form_token(r.body, token, sizeof(token));
	snprintf(cookie, sizeof(cookie), "mlw_login=%s", token);
	snprintf(form, sizeof(form), "csrf=%s&user=tech&password=x", token);
	request(3, "POST", "/login", cookie, form, NULL, &r);
	assert_int_equal(r.status, 429);
	assert_true(header(&r, "Retry-After", value, sizeof(value)));
	assert_true(atoi(value) >= 1 && atoi(value) <= 60);
	assert_non_null(strstr(r.body, "Too many failed logins"));
	/* another address is not held back */
	assert_int_equal(
	        login(4, "tech", "tech-password-1", session, sizeof(session)),
	        303);
	res_free(&r);
}

static void csrf_required(void **state)
{
	struct res r = {0};
	char token[80], other[80], cookie[256], form[512], session[128];

	(void)state;
	request(5, "GET", "/login", NULL, NULL, NULL, &r);
	form_token(r.body, token, sizeof(token));
	request(5, "GET", "/login", NULL, NULL, NULL, &r);
	form_token(r.body, other, sizeof(other));
	assert_string_not_equal(token, other);
	/* no token in the form */
	snprintf(cookie, sizeof(cookie), "mlw_login=%s", token);
	request(5, "POST", "/login", cookie,
	        "user=tech&password=tech-password-1", NULL, &r);
	assert_int_equal(r.status, 403);
	/* no cookie */
	snprintf(form, sizeof(form),
	         "csrf=%s&user=tech&password=tech-password-1", token);
	request(5, "POST", "/login", NULL, form, NULL, &r);
	assert_int_equal(r.status, 403);
	/* the token of another form */
	snprintf(cookie, sizeof(cookie), "mlw_login=%s", other);
	request(5, "POST", "/login", cookie, form, NULL, &r);
	assert_int_equal(r.status, 403);

	/* logout needs the session's own token */
	assert_int_equal(
	        login(5, "tech", "tech-password-1", session, sizeof(session)),
	        303);
	snprintf(cookie, sizeof(cookie), "mlw_session=%s", session);
	request(5, "POST", "/logout", cookie, "csrf=", NULL, &r);
	assert_int_equal(r.status, 403);
	snprintf(form, sizeof(form), "csrf=%s", token);
	request(5, "POST", "/logout", cookie, form, NULL, &r);
	assert_int_equal(r.status, 403);
	get_as(5, session, "/board", NULL, &r);
	assert_int_equal(r.status, 200); /* still logged in */
	/* with it: logged out, the session gone */
	form_token(r.body, token, sizeof(token));
	snprintf(form, sizeof(form), "csrf=%s", token);
	request(5, "POST", "/logout", cookie, form, NULL, &r);
	assert_int_equal(r.status, 303);
	get_as(5, session, "/board", NULL, &r);
	assert_int_equal(r.status, 303);
	assert_true(header(&r, "Location", token, sizeof(token)));
	assert_string_equal(token, "/login");
	res_free(&r);
}

static void assert_security_headers(const struct res *r)
{
	char v[512];

	assert_true(header(r, "Content-Security-Policy", v, sizeof(v)));
	assert_non_null(strstr(v, "default-src 'none'"));
	assert_non_null(strstr(v, "script-src 'self'"));
	assert_non_null(strstr(v, "frame-ancestors 'none'"));
	assert_null(strstr(v, "unsafe-inline"));
	assert_true(header(r, "X-Frame-Options", v, sizeof(v)));
	assert_string_equal(v, "DENY");
	assert_true(header(r, "X-Content-Type-Options", v, sizeof(v)));
	assert_string_equal(v, "nosniff");
	assert_true(header(r, "Referrer-Policy", v, sizeof(v)));
	assert_string_equal(v, "no-referrer");
}

static bool first_event(const struct res *r, void *ctx)
{
	(void)ctx;
	return strstr(r->body, "event: ch") != NULL;
}

static void cookie_flags_and_headers(void **state)
{
	struct res r = {0};
	char token[80], cookie[160], form[512], value[128], line[256];

	(void)state;
	request(6, "GET", "/login", NULL, NULL, NULL, &r);
	assert_security_headers(&r);
	assert_true(set_cookie(&r, "mlw_login", value, sizeof(value), line,
	                       sizeof(line)));
	assert_non_null(strstr(line, "HttpOnly"));
	assert_non_null(strstr(line, "SameSite=Strict"));
	form_token(r.body, token, sizeof(token));
	snprintf(cookie, sizeof(cookie), "mlw_login=%s", token);
	snprintf(form, sizeof(form),
	         "csrf=%s&user=tech&password=tech-password-1", token);
	request(6, "POST", "/login", cookie, form, NULL, &r);
	assert_int_equal(r.status, 303);
	assert_security_headers(&r);
	assert_true(set_cookie(&r, "mlw_session", value, sizeof(value), line,
	                       sizeof(line)));
	assert_non_null(strstr(line, "; HttpOnly"));
	assert_non_null(strstr(line, "; SameSite=Strict"));
	assert_non_null(strstr(line, "; Path=/"));
	assert_null(strstr(line, "Secure"));  /* not behind TLS */
	assert_null(strstr(line, "Max-Age")); /* ends with the browser */

	char session[128];
	snprintf(session, sizeof(session), "%s", value);
	const char *paths[] = {"/board", "/nowhere", "/static/board.js",
	                       "/static/board.css", "/"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		get_as(6, session, paths[i], NULL, &r);
		assert_security_headers(&r);
	}
	get_as(6, session, "/static/board.js", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_true(header(&r, "Content-Type", value, sizeof(value)));
	assert_non_null(strstr(value, "javascript"));
	assert_non_null(strstr(r.body, "EventSource"));
	r.enough = first_event;
	get_as(6, session, "/events", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_security_headers(&r);
	assert_true(header(&r, "Content-Type", value, sizeof(value)));
	assert_string_equal(value, "text/event-stream; charset=utf-8");
	res_free(&r);
}

static void board_shows_the_lab(void **state)
{
	struct res r = {0};
	char session[128];

	(void)state;
	assert_int_equal(
	        login(7, "tech2", "tech-password-2", session, sizeof(session)),
	        303);
	get_as(7, session, "/board", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<h2>TB-01</h2>"));
	/* instruments by id, each with its own channels only */
	const char *ab = strstr(r.body, "<h2>AB-02</h2>");
	const char *tb = strstr(r.body, "<h2>TB-01</h2>");
	assert_true(ab != NULL && ab < tb);
	int rows = 0;
	for (const char *p = ab;
	     (p = strstr(p, "<tr id=\"c")) != NULL && p < tb; p++)
		rows++;
	assert_int_equal(rows, 1);
	const char *bar = strstr(ab, ">bar</span>");
	assert_true(bar != NULL && bar < tb);
	assert_true(strstr(tb, ">kPa</span>") != NULL);
	/* c0: 20.5 degC, in tolerance; c1: 21, out of tolerance */
	assert_non_null(strstr(r.body, ">20.5</span> <span class=\"unit\">"
	                               "degC</span>"));
	assert_non_null(strstr(r.body, ">21</span>"));
	assert_non_null(strstr(r.body, "class=\"st st-in\">in tolerance<"));
	assert_non_null(
	        strstr(r.body, "class=\"st st-out\">out of tolerance<"));
	/* c2 has no tolerance: said so, not coloured */
	assert_non_null(
	        strstr(r.body, "class=\"st st-none\">no tolerance set<"));
	assert_non_null(strstr(r.body, "class=\"link link-online\">online<"));
	assert_non_null(strstr(r.body, "class=\"due due-none\">no due date<"));
	assert_non_null(strstr(r.body, "<span class=\"unit\">kPa</span>"));
	assert_non_null(strstr(r.body, "data-t=\""));
	assert_non_null(strstr(r.body, "<script src=\"/static/board.js\">"));
	/* no inline script or style anywhere */
	assert_null(strstr(r.body, "<script>"));
	assert_null(strstr(r.body, "style="));
	assert_null(strstr(r.body, "onclick"));
	assert_null(strstr(r.body, "javascript:"));

	/* in Vietnamese: by the browser, or by the switch (kept in a cookie) */
	get_as(7, session, "/board", "Accept-Language: vi-VN,vi;q=0.9,en;q=0.5",
	       &r);
	assert_non_null(strstr(r.body, "<html lang=\"vi\">"));
	assert_non_null(strstr(r.body, ">trong dung sai<"));
	assert_non_null(strstr(r.body, ">ngoài dung sai<"));
	assert_non_null(strstr(r.body, ">trực tuyến<"));
	get_as(7, session, "/board?lang=vi", "Accept-Language: en", &r);
	assert_non_null(strstr(r.body, ">trong dung sai<"));
	char value[32], line[256];
	assert_true(set_cookie(&r, "mlw_lang", value, sizeof(value), line,
	                       sizeof(line)));
	assert_string_equal(value, "vi");
	res_free(&r);
}

static void hostile_text_escaped(void **state)
{
	struct res r = {0};
	char session[128];

	(void)state;
	assert_int_equal(
	        login(8, "tech", "tech-password-1", session, sizeof(session)),
	        303);
	get_as(8, session, "/board", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "&lt;script&gt;alert(&#39;x&#39;)&lt;/"
	                               "script&gt; &amp; &quot;room&quot;"));
	assert_null(strstr(r.body, "<script>alert"));
	assert_null(strstr(r.body, HOSTILE));
	res_free(&r);
}

static void enterprise_gets_404(void **state)
{
	struct res none = {0}, r = {0};
	char session[128];

	(void)state;
	assert_int_equal(
	        login(9, "qm", "acme-password-1", session, sizeof(session)),
	        303);
	get_as(9, session, "/no-such-page", NULL, &none);
	assert_int_equal(none.status, 404);
	get_as(9, session, "/board", NULL, &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.body, none.body); /* the very same answer */
	assert_null(strstr(r.body, "TB-01"));
	get_as(9, session, "/events", NULL, &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.body, none.body);
	/* logged out: to the login */
	request(9, "GET", "/board", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 303);
	request(9, "GET", "/events", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 303);
	res_free(&none);
	res_free(&r);
}

/* The enterprise user of ACME sees its instrument, not BETA's, with the
 * calibration in force, due state and history. */
static void portal_shows_own_instruments(void **state)
{
	struct res r = {0};
	char session[128], v[256];

	(void)state;
	assert_int_equal(
	        login(13, "qm", "acme-password-1", session, sizeof(session)),
	        303);
	get_as(13, session, "/", NULL, &r);
	assert_int_equal(r.status, 303);
	assert_true(header(&r, "Location", v, sizeof(v)));
	assert_string_equal(v, "/instruments");
	get_as(13, session, "/instruments", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<a href=\"/instrument?name=TB-01\">"
	                               "TB-01</a>"));
	assert_null(strstr(r.body, "AB-02"));
	assert_null(strstr(r.body, "BETA"));
	/* in force: the newest performed (a draft is in force too) */
	assert_non_null(strstr(r.body, CERT_A_DRAFT));
	assert_non_null(strstr(r.body, "class=\"due due-ok\">in date, due "));
	assert_non_null(strstr(r.body, ">SN-0001<"));

	get_as(13, session, "/instrument?name=TB-01", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<h1>TB-01</h1>"));
	assert_non_null(strstr(r.body, ">" CERT_A "<"));
	assert_non_null(strstr(r.body, ">" CERT_A_DRAFT "<"));
	assert_non_null(strstr(r.body, "approved by Lê Văn Cường on "));
	assert_non_null(strstr(r.body, "draft: not approved yet"));
	assert_non_null(strstr(r.body, ">pass<"));
	/* the approved certificate can be downloaded, the draft not */
	assert_non_null(
	        strstr(r.body, "href=\"/certificate.pdf?n=ACME%2F2026-001\""));
	assert_non_null(
	        strstr(r.body, "href=\"/certificate.json?n=ACME%2F2026-001\""));
	assert_null(strstr(r.body, "n=" CERT_A_DRAFT));
	/* the language switch stays on this instrument */
	assert_non_null(strstr(r.body, "href=\"?name=TB-01&amp;lang=vi\""));
	assert_null(strstr(r.body, CERT_B));
	assert_null(strstr(r.body, "<script>"));
	/* in Vietnamese */
	get_as(13, session, "/instrument?name=TB-01&lang=vi", NULL, &r);
	assert_non_null(strstr(r.body, "Lịch sử hiệu chuẩn"));
	assert_non_null(strstr(r.body, "bản nháp: chưa phê duyệt"));
	assert_non_null(strstr(r.body, ">đạt<"));

	/* the lab's people see every instrument, drafts downloadable */
	assert_int_equal(
	        login(13, "tech", "tech-password-1", session, sizeof(session)),
	        303);
	get_as(13, session, "/instruments", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, ">TB-01</a>"));
	assert_non_null(strstr(r.body, ">AB-02</a>"));
	get_as(13, session, "/instrument?name=AB-02", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(
	        strstr(r.body, "href=\"/certificate.pdf?n=" CERT_B_DRAFT "\""));
	res_free(&r);
}

/* get path as session from src: a 404 whose body is exactly none's. */
static void same_404(int src, const char *session, const char *path,
                     const struct res *none)
{
	struct res r = {0};

	get_as(src, session, path, NULL, &r);
	if (r.status != 404 || strcmp(r.body, none->body) != 0)
		fail_msg("%s: %ld, not the 404 of what does not exist", path,
		         r.status);
	res_free(&r);
}

/* Enterprise A gets for B's instrument exactly the answer of one that
 * does not exist, by any URL; and B the same for A's. */
static void portal_isolation(void **state)
{
	struct res none = {0};
	char session[128];
	const char *b_paths[] = {
	        "/instrument?name=AB-02",
	        "/instrument?name=ab-02",
	        "/instrument?name=AB-02&name=TB-01",
	        "/instrument?name=%41B-02",
	        "/instrument?name=AB-02%00",
	        "/instrument?name=../AB-02",
	        "/instrument/AB-02",
	        "/instrument/../instrument?name=AB-02",
	        "/instruments/AB-02",
	        "/instrument?name=",
	        "/instrument",
	        "/instrument?id=2",
	        "/instrument?name=1",
	        "/instrument?name=2",
	};

	(void)state;
	assert_int_equal(
	        login(14, "qm", "acme-password-1", session, sizeof(session)),
	        303);
	get_as(14, session, "/instrument?name=NO-SUCH-1", NULL, &none);
	assert_int_equal(none.status, 404);
	assert_null(strstr(none.body, "NO-SUCH"));
	for (size_t i = 0; i < sizeof(b_paths) / sizeof(b_paths[0]); i++)
		same_404(14, session, b_paths[i], &none);

	/* and the other way round */
	assert_int_equal(
	        login(14, "qb", "beta-password-1", session, sizeof(session)),
	        303);
	get_as(14, session, "/instrument?name=NO-SUCH-1", NULL, &none);
	assert_int_equal(none.status, 404);
	same_404(14, session, "/instrument?name=TB-01", &none);
	struct res r = {0};
	get_as(14, session, "/instruments", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, ">AB-02</a>"));
	assert_null(strstr(r.body, "TB-01"));
	get_as(14, session, "/instrument?name=AB-02", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body, "ACME"));
	res_free(&r);
	res_free(&none);
}

/* The body of r into the file name in the test's directory; its path
 * into path. */
static void save_body(const struct res *r, const char *name, char *path)
{
	FILE *f = fopen(h_path(path, R.g.dir, name), "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(r->body, 1, r->blen, f), r->blen);
	assert_int_equal(fclose(f), 0);
}

/* The text of the PDF r holds, by pdftotext (poppler-utils), into text. */
static void pdf_text(const struct res *r, const char *name, char *text,
                     size_t size)
{
	char pdf[H_PATH_MAX], log[H_PATH_MAX];
	const char *argv[] = {"pdftotext", pdf, "-", NULL};

	assert_true(r->blen > 1000);
	assert_memory_equal(r->body, "%PDF-", 5);
	save_body(r, name, pdf);
	h_path(log, R.g.dir, "pdftotext.out");
	unlink(log);
	assert_int_equal(h_run(argv, log, false, 60000), 0);
	assert_true(h_read_file(log, text, size) > 0);
}

/* A's approved certificate as the tool's PDF and as JSON whose hashes
 * are the database's, and which `metrolog verify --qr` finds genuine. */
static void portal_downloads(void **state)
{
	struct res r = {0};
	char session[128], v[256], sql[256], hash[80], prev[80];
	static char text[1 << 16];

	(void)state;
	assert_int_equal(
	        login(16, "qm", "acme-password-1", session, sizeof(session)),
	        303);
	get_as(16, session, "/certificate.pdf?n=ACME%2F2026-001", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_true(header(&r, "Content-Type", v, sizeof(v)));
	assert_string_equal(v, "application/pdf");
	assert_true(header(&r, "Content-Disposition", v, sizeof(v)));
	assert_string_equal(v, "attachment; filename=\"ACME_2026-001.pdf\"");
	assert_security_headers(&r);
	pdf_text(&r, "a.pdf", text, sizeof(text));
	assert_non_null(strstr(text, CERT_A));
	assert_non_null(strstr(text, "Lê Văn Cường")); /* the approver */
	assert_null(strstr(text, "DRAFT"));

	get_as(16, session, "/certificate.json?n=ACME%2F2026-001", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_true(header(&r, "Content-Type", v, sizeof(v)));
	assert_string_equal(v, "application/json");
	cJSON *j = cJSON_Parse(r.body);
	assert_non_null(j);
	snprintf(sql, sizeof(sql),
	         "SELECT hash FROM calibrations WHERE certificate = '%s'",
	         CERT_A);
	db_text(R.g.db, sql, hash, sizeof(hash));
	snprintf(sql, sizeof(sql),
	         "SELECT prev_hash FROM calibrations WHERE certificate = '%s'",
	         CERT_A);
	db_text(R.g.db, sql, prev, sizeof(prev));
	assert_string_equal(
	        cJSON_GetStringValue(cJSON_GetObjectItem(j, "certificate")),
	        CERT_A);
	assert_string_equal(
	        cJSON_GetStringValue(cJSON_GetObjectItem(j, "instrument")),
	        "TB-01");
	assert_string_equal(
	        cJSON_GetStringValue(cJSON_GetObjectItem(j, "hash")), hash);
	assert_string_equal(
	        cJSON_GetStringValue(cJSON_GetObjectItem(j, "prev_hash")),
	        prev);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "lab")),
	                    LAB);
	cJSON *pts = cJSON_GetObjectItem(j, "points");
	assert_int_equal(cJSON_GetArraySize(pts), 1);
	cJSON *p0 = cJSON_GetArrayItem(pts, 0);
	assert_string_equal(
	        cJSON_GetStringValue(cJSON_GetObjectItem(p0, "quantity")),
	        "c0");
	assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(p0, "as_found")) ==
	            20.52);
	cJSON *ap = cJSON_GetObjectItem(j, "approval");
	assert_true(cJSON_IsObject(ap));
	assert_string_equal(
	        cJSON_GetStringValue(cJSON_GetObjectItem(ap, "approver")),
	        "Lê Văn Cường");
	assert_string_equal(
	        cJSON_GetStringValue(cJSON_GetObjectItem(ap, "record_hash")),
	        hash);
	/* the QR text it carries is genuine for the tool */
	const char *qr = cJSON_GetStringValue(cJSON_GetObjectItem(j, "qr"));
	assert_non_null(qr);
	char log[H_PATH_MAX], out[4096];
	const char *verify[] = {METROLOG_BIN, "verify", "-d", R.g.db,
	                        "--qr",       qr,       NULL};
	h_path(log, R.g.dir, "verify.log");
	assert_int_equal(h_run(verify, log, true, 60000), 0);
	assert_true(h_read_file(log, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "genuine"));
	cJSON_Delete(j);

	/* the lab's people get a draft, marked so */
	assert_int_equal(
	        login(16, "tech", "tech-password-1", session, sizeof(session)),
	        303);
	get_as(16, session, "/certificate.pdf?n=" CERT_B_DRAFT, NULL, &r);
	assert_int_equal(r.status, 200);
	pdf_text(&r, "b-draft.pdf", text, sizeof(text));
	assert_non_null(strstr(text, CERT_B_DRAFT));
	assert_non_null(strstr(text, "DRAFT"));
	get_as(16, session, "/certificate.json?n=" CERT_B_DRAFT, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"approval\":null"));
	res_free(&r);
}

/* A asking for B's certificates, or for its own draft, gets the 404 of a
 * certificate that does not exist. */
static void certificate_isolation(void **state)
{
	struct res none = {0};
	char session[128];
	const char *paths[] = {
	        "/certificate.pdf?n=" CERT_B,
	        "/certificate.json?n=" CERT_B,
	        "/certificate.pdf?n=" CERT_B_DRAFT,
	        "/certificate.pdf?n=" CERT_A_DRAFT, /* a draft: not issued */
	        "/certificate.json?n=" CERT_A_DRAFT,
	        "/certificate.pdf?n=beta-2026-001",
	        "/certificate.pdf?n=BETA-2026-001%00",
	        "/certificate.pdf?n=ACME/2026-001/../../" CERT_B,
	        "/certificate.pdf?n=1",
	        "/certificate.pdf?n=3",
	        "/certificate.pdf?id=3",
	        "/certificate.pdf?n=",
	        "/certificate.pdf",
	        "/certificate.json",
	        "/certificate/" CERT_B ".pdf",
	        "/certificate.pdf/" CERT_B,
	};

	(void)state;
	assert_int_equal(
	        login(17, "qm", "acme-password-1", session, sizeof(session)),
	        303);
	get_as(17, session, "/certificate.pdf?n=NO-SUCH-1", NULL, &none);
	assert_int_equal(none.status, 404);
	same_404(17, session, "/certificate.json?n=NO-SUCH-1", &none);
	same_404(17, session, "/instrument?name=NO-SUCH-1", &none);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		same_404(17, session, paths[i], &none);
	/* and B for A's */
	assert_int_equal(
	        login(17, "qb", "beta-password-1", session, sizeof(session)),
	        303);
	get_as(17, session, "/certificate.pdf?n=NO-SUCH-1", NULL, &none);
	same_404(17, session, "/certificate.pdf?n=ACME%2F2026-001", &none);
	same_404(17, session, "/certificate.json?n=ACME%2F2026-001", &none);
	struct res r = {0};
	get_as(17, session, "/certificate.pdf?n=" CERT_B, NULL, &r);
	assert_int_equal(r.status, 200);
	res_free(&r);
	res_free(&none);
}

/* GET /verify from 127.0.0.<src>, no session, with the query arguments
 * name=value (values percent-encoded here; names NULL-terminated list
 * of pairs). */
static void verify_get(int src, const char *const *args, struct res *r)
{
	char path[2048] = "/verify";
	size_t n = strlen(path);

	for (int i = 0; args[i] != NULL; i += 2) {
		char *v = curl_easy_escape(NULL, args[i + 1], 0);
		n += (size_t)snprintf(path + n, sizeof(path) - n, "%c%s=%s",
		                      i == 0 ? '?' : '&', args[i], v);
		curl_free(v);
	}
	assert_true(n < sizeof(path));
	request(src, "GET", path, NULL, NULL, NULL, r);
}

/* The hash and id of the record of cert, from the database. */
static int64_t record_of(const char *cert, char *hash, size_t size)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
	         "SELECT hash FROM calibrations WHERE certificate = '%s'",
	         cert);
	db_text(R.g.db, sql, hash, size);
	snprintf(sql, sizeof(sql),
	         "SELECT id FROM calibrations WHERE certificate = '%s'", cert);
	return db_int(R.g.db, sql);
}

/* /verify, without an account: a match (by the QR text, by number and
 * hash), a mismatch, a number not found, a bad question; nothing told
 * but what the certificate holds. */
static void verify_certificates(void **state)
{
	struct res r = {0};
	char ha[80], hb[80], qr[256], want[512], upper[80];
	int64_t ida, idb;

	(void)state;
	ida = record_of(CERT_A, ha, sizeof(ha));
	idb = record_of(CERT_B_DRAFT, hb, sizeof(hb));
	request(18, "GET", "/verify", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_security_headers(&r);
	assert_non_null(strstr(r.body, "<form class=\"login verify\" "
	                               "method=\"get\" action=\"/verify\">"));
	assert_null(strstr(r.body, "<script"));

	snprintf(qr, sizeof(qr), "metrolog:cert=%s;id=%lld;hash=%s", CERT_A,
	         (long long)ida, ha);
	const char *by_qr[] = {"qr", qr, NULL};
	verify_get(18, by_qr, &r);
	assert_int_equal(r.status, 200);
	snprintf(want, sizeof(want),
	         "Genuine: certificate %s matches record %lld, issued ", CERT_A,
	         (long long)ida);
	assert_non_null(strstr(r.body, want));
	assert_non_null(strstr(r.body, " by " LAB ". It is approved."));
	assert_non_null(strstr(r.body, "class=\"verify verify-match\""));
	assert_null(strstr(r.body, "TB-01"));    /* the instrument */
	assert_null(strstr(r.body, "ACME Ltd")); /* the customer */
	assert_null(strstr(r.body, "Lê Văn"));   /* the approver */

	/* number and hash, the hash in capitals; a draft */
	for (size_t i = 0; i <= strlen(hb); i++)
		upper[i] = (char)toupper((unsigned char)hb[i]);
	const char *by_hash[] = {"cert", CERT_B_DRAFT, "hash", upper, NULL};
	verify_get(18, by_hash, &r);
	assert_int_equal(r.status, 200);
	snprintf(want, sizeof(want), "matches record %lld,", (long long)idb);
	assert_non_null(strstr(r.body, want));
	assert_non_null(strstr(r.body, "It is a draft: not approved."));

	/* A's number with B's hash */
	const char *mismatch[] = {"cert", CERT_A, "hash", hb, NULL};
	verify_get(18, mismatch, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Does not match: certificate " CERT_A));
	assert_null(strstr(r.body, ha));
	assert_null(strstr(r.body, "Genuine"));
	/* a QR text whose hash was changed */
	qr[strlen(qr) - 1] = qr[strlen(qr) - 1] == '0' ? '1' : '0';
	verify_get(18, by_qr, &r);
	assert_non_null(strstr(r.body, "Does not match"));

	const char *none[] = {"cert", "NO-SUCH-9", "hash", ha, NULL};
	verify_get(18, none, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Not found: the laboratory issued no "
	                               "certificate numbered NO-SUCH-9."));

	const char *bad[] = {"cert", CERT_A, "hash", "1234", NULL};
	verify_get(18, bad, &r);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "Give a certificate number"));
	const char *hostile[] = {"cert", "<script>x</script>", "hash", ha,
	                         NULL};
	verify_get(18, hostile, &r);
	assert_int_equal(r.status, 400);
	assert_null(strstr(r.body, "<script>x"));
	assert_non_null(strstr(r.body, "&lt;script&gt;x"));

	/* in Vietnamese */
	const char *vi[] = {"qr", qr, "lang", "vi", NULL};
	qr[strlen(qr) - 1] = ha[strlen(ha) - 1];
	verify_get(18, vi, &r);
	assert_non_null(strstr(r.body, "Xác thực: giấy chứng nhận " CERT_A));
	assert_non_null(strstr(r.body, "Đã được phê duyệt."));
	assert_non_null(strstr(r.body, "href=\"?qr=metrolog%3Acert%3DACME%2F"));
	res_free(&r);
}

/* Ten checks that do not match from one address within a minute: the
 * next is refused unchecked, a genuine one too; another address is not. */
static void verify_rate_limited(void **state)
{
	struct res r = {0};
	char ha[80], value[32];
	const char *none[] = {"cert", "NO-SUCH-9", "hash", NULL, NULL};
	const char *good[] = {"cert", CERT_A, "hash", ha, NULL};

	(void)state;
	record_of(CERT_A, ha, sizeof(ha));
	none[3] = ha;
	for (int i = 0; i < 10; i++) {
		verify_get(19, none, &r);
		assert_int_equal(r.status, 200);
		assert_non_null(strstr(r.body, "Not found"));
	}
	verify_get(19, good, &r);
	assert_int_equal(r.status, 429);
	assert_true(header(&r, "Retry-After", value, sizeof(value)));
	assert_true(atoi(value) >= 1 && atoi(value) <= 60);
	assert_non_null(strstr(r.body, "Too many failed checks"));
	assert_null(strstr(r.body, "Genuine"));
	verify_get(20, good, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Genuine"));
	/* the form alone is still served */
	request(19, "GET", "/verify", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	res_free(&r);
}

/* Logged out, every portal URL sends to the login. */
static void portal_needs_login(void **state)
{
	struct res r = {0};
	char v[256];
	const char *paths[] = {"/instruments",
	                       "/instrument?name=TB-01",
	                       "/instrument?name=NO-SUCH-1",
	                       "/certificate.pdf?n=" CERT_B,
	                       "/certificate.json?n=" CERT_B,
	                       "/certificate.pdf?n=NO-SUCH-1"};

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		request(15, "GET", paths[i], NULL, NULL, NULL, &r);
		assert_int_equal(r.status, 303);
		assert_true(header(&r, "Location", v, sizeof(v)));
		assert_string_equal(v, "/login");
		/* a session id that is not one: the same */
		get_as(15,
		       "0000000000000000000000000000000000000000000000000000"
		       "000000000000",
		       paths[i], NULL, &r);
		assert_int_equal(r.status, 303);
	}
	res_free(&r);
}

/* A "chs" item of channel R.c2 ([id,t,"v",...], docs/WEB.md) with a
 * reading newer than *(int64_t *)ctx ms. */
static bool newer_event(const struct res *r, void *ctx)
{
	const int64_t *after = ctx;
	char key[64];

	snprintf(key, sizeof(key), "[%lld,", (long long)R.c2);
	for (const char *p = r->body; (p = strstr(p, key)) != NULL; p++)
		if (strtoll(p + strlen(key), NULL, 10) > *after)
			return true;
	return false;
}

static void events_deliver_a_new_commit(void **state)
{
	struct res r = {0};
	char session[128], key[64], sql[256], value[64];
	int64_t newest_ms;

	(void)state;
	assert_int_equal(
	        login(10, "tech", "tech-password-1", session, sizeof(session)),
	        303);
	/* the newest reading committed before the stream starts */
	snprintf(sql, sizeof(sql),
	         "SELECT max(ts) / 1000 FROM readings WHERE channel = %lld",
	         (long long)R.c2);
	newest_ms = db_int(R.g.db, sql);
	r.enough = newer_event;
	r.ctx = &newest_ms;
	get_as(10, session, "/events", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_true(newer_event(&r, &newest_ms)); /* else curl timed out */

	/* the last such event names a reading that is in the database, with
	 * the same value */
	snprintf(key, sizeof(key), "[%lld,", (long long)R.c2);
	const char *last = NULL;
	for (const char *p = r.body; (p = strstr(p, key)) != NULL; p++)
		last = p;
	char *end;
	long long t = strtoll(last + strlen(key), &end, 10);
	assert_memory_equal(end, ",\"", 2); /* the value, a string */
	snprintf(value, sizeof(value), "%.*s", (int)strcspn(end + 2, "\""),
	         end + 2);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM readings WHERE channel = %lld AND "
	         "ts / 1000 = %lld AND quality = 0 AND abs(value - %s) < 1e-5",
	         (long long)R.c2, t, value);
	assert_int_equal(db_int(R.g.db, sql), 1);
	res_free(&r);
}

/* ---- the technicians' pages ------------------------------------------- */

/* How many times needle occurs in hay. */
static int count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void instrument_page(void **state)
{
	struct res r = {0}, none = {0};
	char session[128], sql[256], due[32], text[96];

	(void)state;
	assert_int_equal(
	        login(30, "tech", "tech-password-1", session, sizeof(session)),
	        303);
	/* the board links each instrument to its page */
	get_as(30, session, "/board", NULL, &r);
	assert_non_null(strstr(r.body, "href=\"/lab/instrument?name=TB-01\""));
	assert_non_null(strstr(r.body, "href=\"/lab/instrument?name=AB-02\""));
	assert_non_null(strstr(r.body, "href=\"/lab/due\""));
	assert_non_null(strstr(r.body, "href=\"/lab/log\""));

	get_as(30, session, "/lab/instrument?name=TB-01", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_security_headers(&r);
	assert_non_null(strstr(r.body, "<h1>TB-01</h1>"));
	assert_non_null(strstr(r.body, ">SN-0001<"));
	/* its channels, live, as on the board: value, unit, age, state */
	assert_non_null(strstr(r.body, ">20.5</span> <span class=\"unit\">"
	                               "degC</span>"));
	assert_non_null(strstr(r.body, "class=\"st st-in\">in tolerance<"));
	assert_non_null(
	        strstr(r.body, "class=\"st st-out\">out of tolerance<"));
	assert_non_null(strstr(r.body, "class=\"age\""));
	assert_non_null(strstr(r.body, "<script src=\"/static/board.js\">"));
	assert_null(strstr(r.body, "AB-02")); /* another's channels: none */
	/* the trend of the first channel with a tolerance: c0, flat */
	assert_non_null(strstr(r.body, "<img src=\"/lab/trend.svg?name=TB-01"
	                               "&amp;channel=c0\""));
	assert_non_null(strstr(r.body, "no crossing of a limit predicted "
	                               "within 365 days"));
	assert_non_null(strstr(r.body, "href=\"?name=TB-01&amp;channel=c3\""));
	/* recent events: at most 20, newest first */
	int n = count_of(r.body, "<td class=\"when\">");
	assert_true(n > 0 && n <= 20);
	/* the history: both records, the due date of each, the draft's PDF
	 * for the lab's people */
	assert_non_null(strstr(r.body, ">" CERT_A "<"));
	assert_non_null(strstr(r.body, "href=\"/certificate.pdf?n="
	                               "ACME-2026-002\""));
	assert_non_null(strstr(r.body, "draft: not approved yet"));
	snprintf(sql, sizeof(sql),
	         "SELECT due / 1000000 FROM calibrations WHERE certificate "
	         "= '%s'",
	         CERT_A_DRAFT);
	time_t t = (time_t)db_int(R.g.db, sql);
	struct tm tm;
	localtime_r(&t, &tm); /* metrolog-web's zone: this one (no lab's) */
	strftime(due, sizeof(due), "%Y-%m-%d", &tm);
	snprintf(text, sizeof(text), "<td>%s</td>", due);
	const char *rec = strstr(r.body, ">" CERT_A_DRAFT "</th>");
	assert_non_null(rec);
	const char *cell = strstr(rec, text);
	assert_true(cell != NULL && cell < strstr(rec, "</tr>"));
	assert_null(strstr(r.body, "style="));
	assert_null(strstr(r.body, "<script>"));

	/* AB-02's events: the time it came online, in the lab's time */
	get_as(30, session, "/lab/instrument?name=AB-02", NULL, &r);
	assert_int_equal(r.status, 200);
	t = (time_t)db_int(R.g.db, "SELECT min(e.ts) / 1000000 FROM events e "
	                           "JOIN instruments i ON i.id = "
	                           "e.instrument_id WHERE i.name = 'AB-02' AND "
	                           "e.kind = 'online'");
	localtime_r(&t, &tm);
	strftime(due, sizeof(due), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(text, sizeof(text), "<td class=\"when\">%s", due);
	const char *row = strstr(r.body, text);
	assert_non_null(row);
	assert_non_null(strstr(row, "</td><td></td><td class=\"kind "
	                            "kind-online\">online</td>"));
	assert_non_null(strstr(r.body, ">" CERT_B "<"));
	assert_null(strstr(r.body, "TB-01"));

	/* the drifting channel: its crossing predicted, in words */
	get_as(30, session, "/lab/instrument?name=TB-01&channel=c3", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<img src=\"/lab/trend.svg?name=TB-01"
	                               "&amp;channel=c3\""));
	assert_non_null(strstr(r.body, "<span class=\"crossing\">predicted "
	                               "to cross a limit at 20"));
	assert_non_null(strstr(r.body, "c3: drift +"));
	/* in Vietnamese */
	get_as(30, session, "/lab/instrument?name=TB-01&channel=c3&lang=vi",
	       NULL, &r);
	assert_non_null(strstr(r.body, "<html lang=\"vi\">"));
	assert_non_null(strstr(r.body, "Xu hướng"));
	assert_non_null(strstr(r.body, "Sự kiện gần đây"));
	assert_non_null(strstr(r.body, "dự báo vượt giới hạn lúc 20"));
	assert_non_null(strstr(r.body, "ngoài dung sai"));
	assert_non_null(strstr(r.body, "href=\"?name=TB-01&amp;channel=c3&amp;"
	                               "lang=en\""));

	/* an instrument or channel that does not exist: the 404 */
	get_as(30, session, "/no-such-page", NULL, &none);
	const char *missing[] = {"/lab/instrument?name=TB-99",
	                         "/lab/instrument?name=tb-01",
	                         "/lab/instrument?name=TB-01&channel=c9",
	                         "/lab/instrument", "/lab/instrument/TB-01"};
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		get_as(30, session, missing[i], NULL, &r);
		assert_int_equal(r.status, 404);
		assert_string_equal(r.body, none.body);
	}
	res_free(&none);
	res_free(&r);
}

/* The paths "d" of the lines of the limit colour (C_LIMIT, 0xc0182f, as
 * cairo writes it) of an SVG: horizontal ones longer than 400 points
 * (the limits; the legend's is shorter) and dashed vertical ones (a
 * predicted crossing's mark). */
static void limit_lines(const char *svg, int *horizontal, int *vertical)
{
	const char *colour = "stroke:rgb(75.294118%,9.411765%,18.431373%);";

	*horizontal = *vertical = 0;
	for (const char *p = svg; (p = strstr(p, colour)) != NULL; p++) {
		const char *end = strstr(p, "/>"), *d = strstr(p, "d=\"M ");
		double x0, y0, x1, y1;
		if (end == NULL || d == NULL || d > end ||
		    sscanf(d, "d=\"M %lf %lf L %lf %lf", &x0, &y0, &x1, &y1) !=
		            4)
			continue;
		bool dashed = strstr(p, "stroke-dasharray") != NULL &&
		              strstr(p, "stroke-dasharray") < end;
		if (y0 == y1 && x1 - x0 > 400)
			(*horizontal)++;
		if (x0 == x1 && dashed)
			(*vertical)++;
	}
}

static void trend_svg(void **state)
{
	struct res r = {0}, none = {0};
	char session[128], v[256];
	int h, vert;

	(void)state;
	assert_int_equal(
	        login(31, "tech", "tech-password-1", session, sizeof(session)),
	        303);
	get_as(31, session, "/lab/trend.svg?name=TB-01&channel=c3", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_security_headers(&r);
	assert_true(header(&r, "Content-Type", v, sizeof(v)));
	assert_string_equal(v, "image/svg+xml");
	assert_memory_equal(r.body, "<?xml", 5);
	assert_non_null(strstr(r.body, "<svg "));
	assert_non_null(strstr(r.body, "</svg>"));
	/* what it shows, in its title and description (the tool's words) */
	assert_non_null(strstr(r.body, "<title>Trend of TB-01/c3: error "
	                               "(degC) over time</title>"));
	assert_non_null(strstr(r.body, "tolerance limits: lower -0.5 degC, "
	                               "upper 0.5 degC"));
	assert_non_null(strstr(r.body, "predicted crossing 20"));
	/* the two limit lines across the plot, and the crossing's mark */
	limit_lines(r.body, &h, &vert);
	assert_int_equal(h, 2);
	assert_int_equal(vert, 1);
	/* no script in it */
	assert_null(strstr(r.body, "<script"));

	/* the flat channel: its limits, no crossing */
	get_as(31, session, "/lab/trend.svg?name=TB-01&channel=c0", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "no crossing predicted within 365 "
	                               "days"));
	limit_lines(r.body, &h, &vert);
	assert_int_equal(h, 2);
	assert_int_equal(vert, 0);

	/* no picture: no tolerance, no channel, no instrument: the 404 */
	get_as(31, session, "/no-such-page", NULL, &none);
	const char *missing[] = {"/lab/trend.svg?name=TB-01&channel=c2",
	                         "/lab/trend.svg?name=TB-01&channel=c9",
	                         "/lab/trend.svg?name=TB-99&channel=c0",
	                         "/lab/trend.svg?name=TB-01",
	                         "/lab/trend.svg?channel=c0"};
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		get_as(31, session, missing[i], NULL, &r);
		assert_int_equal(r.status, 404);
		assert_string_equal(r.body, none.body);
	}
	res_free(&none);
	res_free(&r);
}

static void worklist(void **state)
{
	struct res r = {0};
	char session[128];

	(void)state;
	assert_int_equal(
	        login(32, "tech", "tech-password-1", session, sizeof(session)),
	        303);
	get_as(32, session, "/lab/due", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_security_headers(&r);
	/* never calibrated first (no date), then by due date */
	const char *fresh = strstr(r.body, ">STD-NEW</a>");
	const char *late = strstr(r.body, ">STD-LATE</a>");
	const char *soon = strstr(r.body, ">STD-SOON</a>");
	assert_true(fresh != NULL && late != NULL && soon != NULL);
	assert_true(fresh < late && late < soon);
	/* in date, or no interval: not on it */
	assert_null(strstr(r.body, "STD-FINE"));
	assert_null(strstr(r.body, ">TB-01<"));
	assert_null(strstr(r.body, ">AB-02<"));
	/* each state in words with its class */
	const char *cell = strstr(fresh, "class=\"due due-");
	assert_true(cell != NULL && cell < late);
	assert_memory_equal(cell, "class=\"due due-none\">never calibrated<",
	                    38);
	cell = strstr(late, "class=\"due due-");
	assert_true(cell != NULL && cell < soon);
	assert_memory_equal(cell, "class=\"due due-overdue\">overdue<", 32);
	assert_true(strstr(late, " days late<") < soon);
	cell = strstr(soon, "class=\"due due-");
	assert_non_null(cell);
	assert_memory_equal(cell, "class=\"due due-due_soon\">due soon<", 34);
	assert_non_null(strstr(soon, "<td>in "));
	assert_non_null(strstr(late, "<td>S-LATE-1</td>"));
	/* in Vietnamese */
	get_as(32, session, "/lab/due?lang=vi", NULL, &r);
	assert_non_null(strstr(r.body, ">quá hạn<"));
	assert_non_null(strstr(r.body, ">sắp đến hạn<"));
	assert_non_null(strstr(r.body, ">chưa hiệu chuẩn<"));
	res_free(&r);
}

/* The events log from 127.0.0.33 with query args: its status, and the
 * count its pager says into *n (-1 none). */
static long log_page(const char *session, const char *args, struct res *r,
                     long long *n)
{
	char path[512];
	const char *p;

	snprintf(path, sizeof(path), "/lab/log?%s", args);
	get_as(33, session, path, NULL, r);
	*n = -1;
	if ((p = strstr(r->body, " events, newest first)")) != NULL) {
		while (p > r->body && p[-1] >= '0' && p[-1] <= '9')
			p--;
		*n = strtoll(p, NULL, 10);
	}
	return r->status;
}

static void events_log(void **state)
{
	struct res r = {0};
	char session[128], to[64], args[256], sql[512];
	long long n, all, tol, ab;

	(void)state;
	assert_int_equal(
	        login(33, "tech", "tech-password-1", session, sizeof(session)),
	        303);
	/* a range that ends in the past: what it holds no longer changes
	 * once a reading 2 s newer is committed (one writer, in order) */
	int64_t now_s = (int64_t)time(NULL) - 1;
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM readings WHERE ts > %lld",
	         (long long)(now_s + 2) * 1000000);
	assert_true(gw_wait_sql(&R.g, sql, 30000));
	struct tm tm;
	time_t t = (time_t)now_s;
	gmtime_r(&t, &tm);
	strftime(to, sizeof(to), "%Y-%m-%dT%H%%3A%M%%3A%SZ", &tm);
	const long long lo = (long long)(now_s - 7 * 86400) * 1000000,
	                hi = (long long)now_s * 1000000;

	/* every event of the range, as many as the database holds */
	snprintf(args, sizeof(args), "to=%s", to);
	assert_int_equal(log_page(session, args, &r, &all), 200);
	assert_security_headers(&r);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM events WHERE ts >= %lld AND ts < %lld",
	         lo, hi);
	assert_int_equal(all, db_int(R.g.db, sql));
	assert_true(all > 0);
	/* newest first: the lab's local times never rise down the page */
	const char *prev = NULL;
	int rows = 0;
	for (const char *p = r.body; (p = strstr(p, "<td class=\"when\">"));
	     p++, rows++) {
		if (prev != NULL)
			assert_true(strncmp(prev, p, 42) >= 0);
		prev = p;
	}
	assert_int_equal(rows, all < 50 ? all : 50);
	/* one kind: fewer, and only that kind */
	snprintf(args, sizeof(args), "to=%s&kind=tolerance", to);
	assert_int_equal(log_page(session, args, &r, &tol), 200);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM events WHERE ts >= %lld AND ts < %lld "
	         "AND kind = 'tolerance'",
	         lo, hi);
	assert_int_equal(tol, db_int(R.g.db, sql));
	assert_true(tol > 0 && tol < all);
	assert_int_equal(count_of(r.body, "class=\"kind kind-"),
	                 count_of(r.body, "class=\"kind kind-tolerance\""));
	assert_non_null(strstr(r.body, "<option value=\"tolerance\" "
	                               "selected>"));
	/* one instrument: only its events */
	snprintf(args, sizeof(args), "to=%s&instrument=AB-02", to);
	assert_int_equal(log_page(session, args, &r, &ab), 200);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM events e JOIN instruments i ON i.id = "
	         "e.instrument_id WHERE e.ts >= %lld AND e.ts < %lld AND "
	         "i.name = 'AB-02'",
	         lo, hi);
	assert_int_equal(ab, db_int(R.g.db, sql));
	assert_true(ab > 0 && ab < all);
	assert_int_equal(count_of(r.body, "<a href=\"/lab/instrument?name="),
	                 count_of(r.body, "<a href=\"/lab/instrument?name="
	                                  "AB-02\">"));
	/* a range that holds nothing */
	assert_int_equal(
	        log_page(session, "from=2020-01-01&to=2020-01-02", &r, &n),
	        200);
	assert_int_equal(n, 0);
	assert_non_null(strstr(r.body, "No event."));

	/* bad filters: 400, and why (escaped) */
	const struct {
		const char *args, *why;
	} bad[] = {
	        {"kind=%3Cb%3E", "Kind &#39;&lt;b&gt;&#39;: expected online"},
	        {"instrument=TB-99", "There is no instrument TB-99."},
	        {"from=yesterday", "&#39;yesterday&#39; is not a time"},
	        {"from=2026-13-01", "&#39;2026-13-01&#39; is not a time"},
	        {"from=2026-12-02&to=2026-12-01", "must come before"},
	        {"page=0", "Page &#39;0&#39;: expected a number from 1."},
	        {"page=x", "Page &#39;x&#39;"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(log_page(session, bad[i].args, &r, &n), 400);
		assert_int_equal(n, -1);
		assert_non_null(strstr(r.body, bad[i].why));
		assert_null(strstr(r.body, "<b>"));
	}
	/* in Vietnamese */
	assert_int_equal(log_page(session, "kind=nope&lang=vi", &r, &n), 400);
	assert_non_null(strstr(r.body, "Loại &#39;nope&#39;: cần là"));
	res_free(&r);
}

/* An enterprise user: every technicians' page is the 404 of a page that
 * does not exist; logged out: to the login. */
static void lab_pages_refused(void **state)
{
	struct res none = {0}, r = {0};
	static char log[1 << 20];
	char session[128];
	const char *paths[] = {"/lab/instrument?name=TB-01",
	                       "/lab/trend.svg?name=TB-01&channel=c0",
	                       "/lab/due", "/lab/log",
	                       "/lab/log?instrument=TB-01"};

	(void)state;
	assert_int_equal(
	        login(34, "qm", "acme-password-1", session, sizeof(session)),
	        303);
	get_as(34, session, "/no-such-page", NULL, &none);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		get_as(34, session, paths[i], NULL, &r);
		assert_int_equal(r.status, 404);
		assert_string_equal(r.body, none.body);
		request(34, "GET", paths[i], NULL, NULL, NULL, &r);
		assert_int_equal(r.status, 303);
	}
	/* each access logged with its user and outcome */
	assert_true(h_read_file(R.log, log, sizeof(log)) > 0);
	assert_non_null(strstr(log, "access 127.0.0.34 qm GET /lab/instrument "
	                            "404"));
	assert_non_null(strstr(log, "access 127.0.0.30 tech GET "
	                            "/lab/instrument 200"));
	assert_non_null(strstr(log, "access 127.0.0.31 tech GET "
	                            "/lab/trend.svg 200"));
	assert_non_null(strstr(log, "access 127.0.0.33 tech GET /lab/log "
	                            "400"));
	res_free(&none);
	res_free(&r);
}

static void disabled_user_is_out(void **state)
{
	struct res r = {0};
	char session[128], log[H_PATH_MAX];
	const char *argv[] = {METROLOG_BIN, "user",  "disable", "-d",
	                      R.g.db,       "tech2", NULL};

	(void)state;
	assert_int_equal(
	        login(11, "tech2", "tech-password-2", session, sizeof(session)),
	        303);
	get_as(11, session, "/board", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(
	        h_run(argv, h_path(log, R.g.dir, "disable.log"), true, 60000),
	        0);
	get_as(11, session, "/board", NULL, &r);
	assert_int_equal(r.status, 303);
	assert_int_equal(
	        login(11, "tech2", "tech-password-2", session, sizeof(session)),
	        401);
	res_free(&r);
}

static void no_database_no_start(void **state)
{
	char db[H_PATH_MAX], log[H_PATH_MAX], out[4096];
	const char *argv[] = {METROLOG_WEB_BIN, "-d",          db,
	                      "--listen",       "127.0.0.1:0", NULL};

	(void)state;
	h_path(db, R.g.dir, "none.db");
	assert_int_equal(
	        h_run(argv, h_path(log, R.g.dir, "none.log"), true, 30000), 1);
	assert_true(access(db, F_OK) != 0); /* nothing created */
	assert_true(h_read_file(log, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "no such database"));
}

static void every_access_logged(void **state)
{
	static char buf[1 << 20];

	(void)state;
	assert_true(h_read_file(R.log, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "access 127.0.0.7 tech2 GET /board 200"));
	assert_non_null(strstr(buf, "access 127.0.0.9 qm GET /board 404"));
	assert_non_null(strstr(buf, "access 127.0.0.2 - POST /login 401"));
	assert_non_null(strstr(buf, "login failed from 127.0.0.2 for nobody"));
	assert_non_null(strstr(buf, "login refused from 127.0.0.3"));
}

/* Behind a TLS proxy: cookies Secure, HSTS, and the client's address
 * (rate limit, log) the last of X-Forwarded-For. */
static void behind_tls_proxy(void **state)
{
	char listen[64], log[H_PATH_MAX], v[256], value[128], line[256];
	static char buf[1 << 16];
	struct res r = {0};
	int port = R.port;
	const char *argv[] = {
	        METROLOG_WEB_BIN,     "-d", R.g.db, "--listen", listen,
	        "--behind-tls-proxy", NULL};

	(void)state;
	R.port = h_free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", R.port);
	pid_t pid = h_spawn(argv, h_path(log, R.g.dir, "web-tls.log"), true);
	assert_true(pid > 0);
	assert_int_equal(h_wait_port(R.port, 30000), 0);
	request(12, "GET", "/login", NULL, NULL,
	        "X-Forwarded-For: 203.0.113.9, 192.0.2.77", &r);
	assert_int_equal(r.status, 200);
	assert_security_headers(&r);
	assert_true(header(&r, "Strict-Transport-Security", v, sizeof(v)));
	assert_string_equal(v, "max-age=31536000");
	assert_true(set_cookie(&r, "mlw_login", value, sizeof(value), line,
	                       sizeof(line)));
	assert_non_null(strstr(line, "; Secure"));
	int status = h_stop(pid, SIGTERM, 60000);
	assert_true(status != -1 && WIFEXITED(status) &&
	            WEXITSTATUS(status) == 0);
	assert_true(h_read_file(log, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "access 192.0.2.77 - GET /login 200"));
	R.port = port;
	res_free(&r);
}

/* SIGTERM: every connection ends, exit 0 (under valgrind: no leak). */
static void stops_cleanly(void **state)
{
	int status;

	(void)state;
	status = h_stop(R.web, SIGTERM, 60000);
	R.web = 0;
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char buf[4096];
		size_t n = 0;
		FILE *f = fopen(R.log, "r");
		if (f != NULL) {
			fseek(f, -(long)sizeof(buf) + 1, SEEK_END);
			n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
		}
		buf[n] = '\0';
		fprintf(stderr, "metrolog-web's log ends:\n%s\n", buf);
		fail_msg("metrolog-web: exit status %#x", status);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(wrong_password_refused),
	        cmocka_unit_test(rate_limited),
	        cmocka_unit_test(csrf_required),
	        cmocka_unit_test(cookie_flags_and_headers),
	        cmocka_unit_test(board_shows_the_lab),
	        cmocka_unit_test(hostile_text_escaped),
	        cmocka_unit_test(enterprise_gets_404),
	        cmocka_unit_test(portal_shows_own_instruments),
	        cmocka_unit_test(portal_isolation),
	        cmocka_unit_test(portal_needs_login),
	        cmocka_unit_test(portal_downloads),
	        cmocka_unit_test(certificate_isolation),
	        cmocka_unit_test(verify_certificates),
	        cmocka_unit_test(verify_rate_limited),
	        cmocka_unit_test(events_deliver_a_new_commit),
	        cmocka_unit_test(instrument_page),
	        cmocka_unit_test(trend_svg),
	        cmocka_unit_test(worklist),
	        cmocka_unit_test(events_log),
	        cmocka_unit_test(lab_pages_refused),
	        cmocka_unit_test(disabled_user_is_out),
	        cmocka_unit_test(no_database_no_start),
	        cmocka_unit_test(every_access_logged),
	        cmocka_unit_test(behind_tls_proxy),
	        cmocka_unit_test(stops_cleanly),
	};
	return cmocka_run_group_tests(tests, rig_up, rig_down);
}
