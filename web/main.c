/*
 * metrolog-web - the lab's web console (docs/WEB.md): arguments, signals,
 * start and orderly stop.
 *
 * Threads: libmicrohttpd's (one per connection, http.c) run app_handle();
 * the live thread (live.c) watches the database; this thread only waits
 * for SIGTERM or SIGINT (blocked in every thread, taken with sigwait), then
 * ends the /events streams and the live thread, stops the server (which
 * waits for the connections' threads) and frees what is left.
 *
 * The database is opened read-only (query.h: SQLITE_OPEN_READONLY and
 * query_only) and must exist: metrologd creates it.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "http.h"
#include "log.h"
#include "mclock.h"
#include "notify.h"

#define DEFAULT_DB     "/var/lib/metrolog/metrolog.db"
#define DEFAULT_LISTEN "127.0.0.1:8080"
#define POLL_US        250000 /* a commit shows within about this long */

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: metrolog-web [OPTION]...\n"
	        "The lab's web console: the technicians' live board of every "
	        "instrument, and\nthe enterprises' portal of their "
	        "instruments and certificates, behind a\nlogin; the public "
	        "verification of a certificate (docs/WEB.md). Reads the\n"
	        "database only; accounts come from 'metrolog user add'.\n\n"
	        "  -d, --database FILE      the gateway's database, opened "
	        "read-only (default\n"
	        "                           $METROLOG_DB, else " DEFAULT_DB
	        ")\n"
	        "      --listen ADDR:PORT   where to listen "
	        "(default " DEFAULT_LISTEN "; [::1]:8080\n"
	        "                           for IPv6; port 0: any free one, "
	        "logged)\n"
	        "      --behind-tls-proxy   a reverse proxy in front "
	        "terminates "
	        "TLS: cookies\n"
	        "                           Secure, Strict-Transport-Security "
	        "sent, the client's\n"
	        "                           address the last of "
	        "X-Forwarded-For\n"
	        "  -q, --quiet              log warnings only (no access "
	        "lines)\n"
	        "  -h, --help               show this help\n"
	        "  -V, --version            show the version\n\n"
	        "Signals: SIGTERM or SIGINT end every connection and exit 0.\n"
	        "Logs go to standard error: one access line per request "
	        "(address, user, method,\npath, status), logins and "
	        "failures.\n");
}

struct web_args {
	const char *db, *listen;
	bool secure;
	enum log_level level;
};

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct web_args *a)
{
	static const struct option longopts[] = {
	        {"database", required_argument, NULL, 'd'},
	        {"listen", required_argument, NULL, 'l'},
	        {"behind-tls-proxy", no_argument, NULL, 's'},
	        {"quiet", no_argument, NULL, 'q'},
	        {"help", no_argument, NULL, 'h'},
	        {"version", no_argument, NULL, 'V'},
	        {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "d:qhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			a->db = optarg;
			break;
		case 'l':
			a->listen = optarg;
			break;
		case 's':
			a->secure = true;
			break;
		case 'q':
			a->level = LOG_LEVEL_WARN;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("metrolog-web %s\n", METROLOG_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'metrolog-web --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr,
		        "metrolog-web: unexpected argument '%s'. Try "
		        "'metrolog-web --help'.\n",
		        argv[optind]);
		return 2;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct web_args a = {.listen = DEFAULT_LISTEN, .level = LOG_LEVEL_INFO};
	const char *env = getenv("METROLOG_DB");
	struct app_config cfg = {.clk = &mclock_system, .poll_us = POLL_US};
	struct app *app;
	struct http *h;
	char err[512];
	sigset_t stop;
	int rc, sig;

	a.db = env != NULL && *env ? env : DEFAULT_DB;
	if ((rc = parse_args(argc, argv, &a)) >= 0)
		return rc;
	log_init("metrolog-web", a.level);
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (auth_init() < 0)
		fatalx("libsodium does not start (no random source)");
	cfg.db = a.db;
	if ((app = app_new(&cfg, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if ((h = http_start(a.listen, a.secure, app_handle, app, err,
	                    sizeof(err))) == NULL) {
		app_free(app);
		fatalx("%s", err);
	}
	log_info("listening on %s (port %d), database %s (read-only)%s",
	         a.listen, http_port(h), a.db,
	         a.secure ? ", behind a TLS proxy" : "");
	if (notify_send("READY=1") < 0)
		log_warn("sd_notify");
	while (sigwait(&stop, &sig) != 0)
		;
	log_info("stopping on signal %d", sig);
	notify_send("STOPPING=1");
	app_stop(app);
	http_stop(h);
	app_free(app);
	return 0;
}
