/*
 * collector.c - metrolog-collector: the provincial archive's writer. It
 * takes every gateway's readings, events and statuses from the broker
 * through MQTT shared subscriptions (link.c), so that N collectors in one
 * group split the messages, and writes each into PostgreSQL (archive.c),
 * acknowledging it to the broker only once it is committed, and asks
 * the gateways to replay the holes in their seq (the repairer, below).
 * Commands:
 * run (the service), init (the schema), retention (drop old months),
 * verify (each lab's audit chain, chain.h); enterprise, availability
 * and interval (the provincial queries, province.h).
 * docs/COLLECTOR.md is the manual.
 *
 * Threads (STYLE 8): the main thread is the writer: it owns the struct
 * archive (the one PostgreSQL connection), the counters and the gap
 * checks. Paho's receive thread calls deliver(), which puts the message
 * in the one slot under mu, signals, and waits until the writer says it
 * is done; Paho sends the PUBACK after deliver() returns (link.h). When
 * the collector stops, a message not committed is never given back:
 * deliver() waits on, and the process exits under it, so the broker
 * sends it again. Signals only set a flag; the writer waits at most
 * WAKE_MS at a time, so it sees the flag. The repairer (archive.repair)
 * is a thread of its own with its own struct archive: it only reads the
 * gaps due and publishes replay requests through link_ask_replay(); the
 * replies come to the writer like any message.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive.h"
#include "ccfg.h"
#include "chain.h"
#include "inbox.h"
#include "link.h"
#include "log.h"
#include "province.h"

#define DEFAULT_CONFIG "/etc/metrolog/collector.cfg"
#define WAKE_MS        100
#define RETRY_MIN_MS   100
#define RETRY_MAX_MS   5000
#define STATS_EVERY_S  60
#define REPAIR_MAX_MS  600000 /* a repair's back-off, at most */

/* The one message between Paho's thread and the writer. */
struct slot {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const char *topic, *payload; /* valid while Paho's thread waits */
	size_t len;
	unsigned long long given, done; /* messages handed, and finished */
	bool closed;                    /* the writer takes no more */
};

struct stats {
	long long written, duplicates, refused, retries, gaps, unrepairable;
	bool gaps_failing; /* the last gap check failed (told once) */
};

/* The stats line, every minute and at stop (docs/COLLECTOR.md). */
#define STATS_FMT                                                              \
	"{\"written\":%lld,\"duplicates\":%lld,\"refused\":%lld,"              \
	"\"retries\":%lld,\"gaps\":%lld,\"unrepairable\":%lld}"
#define STATS_ARGS(st)                                                         \
	(st).written, (st).duplicates, (st).refused, (st).retries, (st).gaps,  \
	        (st).unrepairable

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Paho's thread (link_deliver_fn): hand the message over, wait until it
 * is done; never return once the writer is closed (see the top). */
static void deliver(void *arg, const char *topic, const char *payload,
                    size_t len)
{
	struct slot *s = arg;
	unsigned long long mine;

	pthread_mutex_lock(&s->mu);
	s->topic = topic;
	s->payload = payload;
	s->len = len;
	mine = ++s->given;
	pthread_cond_broadcast(&s->cv);
	while (s->done < mine || s->closed)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
}

/* What one write is: a gateway's message (archive_put) or a reply to a
 * replay request (archive_replay_reply). */
struct put {
	const struct ccfg *c;
	const struct inbox_msg *m; /* NULL: a replay reply of site */
	const char *site, *payload;
	size_t len;
};

static int put_once(struct archive *a, const struct put *p, char *err,
                    size_t errlen)
{
	if (p->m != NULL)
		return archive_put(a, p->m, p->payload, p->len, err, errlen);
	return archive_replay_reply(a, p->site, p->payload, p->len,
	                            p->c->gap_settle_ms, err, errlen);
}

/* Write p until it is committed or refused for good, with back-off while
 * the database is away. Returns put_once()'s last code, or ARCHIVE_RETRY
 * when the collector stops first (not written). */
static int put_retrying(struct archive *a, struct stats *st,
                        const struct put *p, char *err, size_t errlen)
{
	int wait = RETRY_MIN_MS, rc;
	bool told = false;

	while ((rc = put_once(a, p, err, errlen)) == ARCHIVE_RETRY) {
		if (!told)
			log_warnx("%s; trying again", err);
		told = true;
		st->retries++;
		if (stop_signal)
			return ARCHIVE_RETRY;
		sleep_ms(wait);
		wait = wait * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : wait * 2;
		(void)archive_reconnect(a, err, errlen);
	}
	if (told)
		log_info("postgresql: writing again");
	return rc;
}

/* A gateway's reply to this collector's replay request (docs/MQTT.md,
 * Replay). Returns 0 when done, -1 when the collector stops first. */
static int write_reply(struct archive *a, const struct ccfg *c,
                       struct stats *st, const char *site, const char *payload,
                       size_t len)
{
	struct put p = {c, NULL, site, payload, len};
	char err[1024];
	int rc = put_retrying(a, st, &p, err, sizeof(err));

	if (rc == ARCHIVE_RETRY)
		return -1;
	if (rc == ARCHIVE_REJECT) {
		log_warnx("refused a replay reply of %s: %s", site, err);
		st->refused++;
	} else {
		log_info("replay reply of %s: %d range(s) it cannot replay "
		         "(table unrepairable)",
		         site, rc);
		st->unrepairable += rc;
	}
	return 0;
}

/* Write one message until it is committed or refused for good. Returns 0
 * when done, -1 when the collector stops first (not written). */
static int write_one(struct archive *a, const struct ccfg *c, struct stats *st,
                     const char *topic, const char *payload, size_t len)
{
	struct inbox_msg m;
	char err[1024], site[INBOX_NAME_MAX];
	int rc;

	if (c->repair &&
	    inbox_reply_site(c->prefix, c->client_id, topic, site) == 0)
		return write_reply(a, c, st, site, payload, len);
	if (inbox_read(&m, c->prefix, topic, payload, len, err, sizeof(err)) <
	    0) {
		log_warnx("refused a message on %s: %s", topic, err);
		st->refused++;
		return 0;
	}
	struct put p = {c, &m, NULL, payload, len};
	rc = put_retrying(a, st, &p, err, sizeof(err));
	if (rc == ARCHIVE_RETRY)
		return -1;
	if (rc == ARCHIVE_REJECT) {
		log_warnx("refused a message on %s: %s", topic, err);
		st->refused++;
	} else if (rc == ARCHIVE_HELD) {
		log_debug("%s seq %lld: held already", m.site,
		          (long long)m.seq);
		st->duplicates++;
	} else {
		log_debug("%s seq %lld: written", m.site, (long long)m.seq);
		st->written++;
	}
	return 0;
}

static void check_gaps(struct archive *a, const struct ccfg *c,
                       struct stats *st)
{
	char err[1024];
	int n = archive_check_gaps(a, c->gap_settle_ms, err, sizeof(err));

	if (n < 0) {
		if (!st->gaps_failing)
			log_warnx("%s; checking again", err);
		st->gaps_failing = true;
		/* the next message's write reconnects, else do it here */
		(void)archive_reconnect(a, err, sizeof(err));
		return;
	}
	st->gaps_failing = false;
	if (n > 0) {
		log_warnx("%d new gap(s) in the seq of a site (table gaps)", n);
		st->gaps += n;
	}
}

/* The writer's loop, until a signal. */
static void run_loop(struct slot *s, struct archive *a, const struct ccfg *c)
{
	struct stats st = {0};
	long long next_gaps = mono_ms() + c->gap_check_ms;
	long long next_stats = mono_ms() + STATS_EVERY_S * 1000LL;

	pthread_mutex_lock(&s->mu);
	while (!stop_signal) {
		if (s->done == s->given) {
			struct timespec until;
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_nsec += WAKE_MS * 1000000L;
			until.tv_sec += until.tv_nsec / 1000000000L;
			until.tv_nsec %= 1000000000L;
			pthread_cond_timedwait(&s->cv, &s->mu, &until);
		}
		if (s->done < s->given) {
			const char *topic = s->topic, *payload = s->payload;
			size_t len = s->len;
			pthread_mutex_unlock(&s->mu);
			int rc = write_one(a, c, &st, topic, payload, len);
			pthread_mutex_lock(&s->mu);
			if (rc < 0)
				break;
			s->done = s->given;
			pthread_cond_broadcast(&s->cv);
		}
		long long now = mono_ms();
		if (now >= next_gaps || now >= next_stats) {
			pthread_mutex_unlock(&s->mu);
			if (now >= next_gaps) {
				check_gaps(a, c, &st);
				next_gaps = mono_ms() + c->gap_check_ms;
			}
			if (now >= next_stats) {
				log_info("stats " STATS_FMT, STATS_ARGS(st));
				next_stats = now + STATS_EVERY_S * 1000LL;
			}
			pthread_mutex_lock(&s->mu);
		}
	}
	s->closed = true;
	pthread_mutex_unlock(&s->mu);
	log_info("stopping on signal %d: stats " STATS_FMT, (int)stop_signal,
	         STATS_ARGS(st));
}

/* Connect to PostgreSQL, waiting for it (with back-off) until a signal. */
static struct archive *connect_archive(const struct ccfg *c)
{
	char err[1024];
	int wait = RETRY_MIN_MS;
	bool told = false;
	struct archive *a;

	while ((a = archive_open(c->conninfo, err, sizeof(err))) == NULL) {
		if (!told)
			log_warnx("%s; trying again", err);
		told = true;
		if (stop_signal)
			return NULL;
		sleep_ms(wait);
		wait = wait * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : wait * 2;
	}
	if (archive_check(a, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		archive_close(a);
		return NULL;
	}
	return a;
}

/* The repairer (c->repair): its own thread and PostgreSQL connection,
 * so that asking never waits for the writer, nor the writer for it.
 * Every gap_check_ms it takes the gaps due (archive_repairs_due(): one
 * per site, claimed, with back-off) and asks their gateways for a replay
 * (link_ask_replay()); the replies come to the writer like messages. */
struct repairer {
	const struct ccfg *c;
	struct link *l;
};

static void ask_one(void *ctx, const char *site, long long from, long long to)
{
	const struct repairer *r = ctx;

	(void)link_ask_replay(r->l, site, from, to); /* else: asked again */
}

static void *repair_main(void *arg)
{
	const struct repairer *r = arg;
	const struct ccfg *c = r->c;
	struct archive *a = connect_archive(c);
	bool failing = false;
	char err[1024];

	while (a != NULL && !stop_signal) {
		for (int t = 0; t < c->gap_check_ms && !stop_signal;
		     t += WAKE_MS)
			sleep_ms(WAKE_MS);
		if (archive_repairs_due(a, c->repair_span, c->repair_wait_ms,
		                        REPAIR_MAX_MS, ask_one, arg, err,
		                        sizeof(err)) >= 0) {
			failing = false;
			continue;
		}
		if (!failing)
			log_warnx("%s; repairing again later", err);
		failing = true;
		(void)archive_reconnect(a, err, sizeof(err));
	}
	archive_close(a);
	return NULL;
}

/* Start the repairer for c on l (detached: the process ends it).
 * Returns 0 or -1 (logged). */
static int repair_start(const struct ccfg *c, struct link *l)
{
	static struct repairer r;
	pthread_t th;
	int e;

	r.c = c;
	r.l = l;
	if ((e = pthread_create(&th, NULL, repair_main, &r)) != 0) {
		log_warnx("cannot start the repairer: %s", strerror(e));
		return -1;
	}
	pthread_detach(th);
	log_info("repairing holes by replay (%d seqs a request at most)",
	         c->repair_span);
	return 0;
}

static int cmd_run(const struct ccfg *c)
{
	static struct slot s = {.mu = PTHREAD_MUTEX_INITIALIZER};
	struct sigaction sa = {.sa_handler = on_signal};
	pthread_condattr_t ca;
	struct archive *a;
	struct link *l;
	char err[1024];

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s.cv, &ca);
	pthread_condattr_destroy(&ca);
	a = connect_archive(c);
	if (a == NULL)
		return 1;
	log_info("postgresql: connected, schema checked");
	if ((l = link_new(c, deliver, &s, err, sizeof(err))) == NULL ||
	    (c->repair && repair_start(c, l) < 0)) {
		if (l == NULL)
			log_warnx("%s", err);
		archive_close(a);
		return 1;
	}
	run_loop(&s, a, c);
	archive_close(a);
	return 0; /* the caller exits: Paho's threads end with the process */
}

static int cmd_init(const struct ccfg *c)
{
	char err[1024];
	struct archive *a = archive_open(c->conninfo, err, sizeof(err));

	if (a == NULL || archive_init(a, err, sizeof(err)) < 0) {
		fprintf(stderr, "metrolog-collector: %s\n", err);
		archive_close(a);
		return 1;
	}
	archive_close(a);
	printf("the archive's schema is in place\n");
	return 0;
}

static int cmd_retention(const struct ccfg *c, const char *before)
{
	char err[1024];
	struct archive *a = archive_open(c->conninfo, err, sizeof(err));
	int n = -1;

	if (a != NULL && archive_check(a, err, sizeof(err)) == 0)
		n = archive_drop_before(a, before, stdout, err, sizeof(err));
	archive_close(a);
	if (n < 0) {
		fprintf(stderr, "metrolog-collector: %s\n", err);
		return 1;
	}
	printf("%d partition(s) dropped\n", n);
	return 0;
}

/* verify: one chain_check per site, the worst exit status kept. */
struct verify {
	struct chain_check c;
	int status;
};

static void v_site(void *ctx, const char *site)
{
	(void)site;
	chain_begin(&((struct verify *)ctx)->c);
}

static int v_record(void *ctx, const struct calib_record *r)
{
	return chain_record(&((struct verify *)ctx)->c, r);
}

static int v_approval(void *ctx, const struct calib_approval *a,
                      const char *held_hash)
{
	return chain_approval(&((struct verify *)ctx)->c, a, held_hash);
}

static void v_site_end(void *ctx, const char *site)
{
	struct verify *v = ctx;
	int st = chain_report(&v->c, site, stdout);

	if (st > v->status)
		v->status = st;
}

/* Each site's audit chain from the archive (chain.h): 0 intact, 3 a gap
 * and nothing broken, 4 broken, 1 error. */
static int cmd_verify(const struct ccfg *c, const char *site)
{
	static const struct archive_cal_fn fn = {v_site, v_record, v_approval,
	                                         v_site_end};
	static struct verify v; /* a chain_check is large */
	char err[1024];
	struct archive *a = archive_open(c->conninfo, err, sizeof(err));
	int n = -1;

	if (a != NULL && archive_check(a, err, sizeof(err)) == 0)
		n = archive_cal_each(a, site, &fn, &v, err, sizeof(err));
	archive_close(a);
	fflush(stdout);
	if (n < 0) {
		fprintf(stderr, "metrolog-collector: %s\n", err);
		return 1;
	}
	return v.status;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: metrolog-collector [OPTION]... [run | init | retention "
	        "--before TIME |\n"
	        "                                       verify [--site SITE]]\n"
	        "The metrolog archive's collector: takes every gateway's "
	        "readings, events and\n"
	        "statuses from an MQTT broker (shared subscriptions) into "
	        "PostgreSQL, each once,\n"
	        "and asks the gateways to replay the holes in their seq "
	        "(what cannot be replayed\n"
	        "is kept in the table unrepairable).\n"
	        "\n"
	        "  -c, --config FILE   configuration file "
	        "(default " DEFAULT_CONFIG ")\n"
	        "  -n, --check-config  check the configuration, print OK or "
	        "every error as\n"
	        "                      FILE:LINE: message, and exit (0 when "
	        "OK, 1 otherwise)\n"
	        "  -d, --debug         log every message written\n"
	        "  -h, --help          show this help\n"
	        "  -V, --version       show the version\n"
	        "  --before TIME       with retention: the end of what is "
	        "dropped, ISO 8601\n"
	        "                      (2025-01-01T00:00:00Z)\n"
	        "  --site SITE         with verify: that site only\n"
	        "\n"
	        "Commands: run (the default) takes messages until SIGTERM or "
	        "SIGINT; init creates\n"
	        "the archive's schema in the database (again: changes "
	        "nothing); "
	        "retention drops\n"
	        "the monthly partitions of readings and messages that end at "
	        "or before TIME;\n"
	        "verify recomputes each site's audit chain of calibration "
	        "records and approvals\n"
	        "from the archive: exit 0 intact, 3 records missing (a gap, "
	        "not tampering),\n"
	        "4 broken (a record altered), 1 error.\n"
	        "The provincial queries: enterprise NAME|--id ID, availability "
	        "--from TIME --to TIME,\n"
	        "interval --model MODEL (docs/PROVINCE-QUERIES.md).\n"
	        "Logs go to standard error. docs/COLLECTOR.md describes the "
	        "configuration.\n");
}

/* Is arg the option of short or long name? */
static bool opt(const char *arg, const char *short_name, const char *long_name)
{
	return strcmp(arg, short_name) == 0 || strcmp(arg, long_name) == 0;
}

int main(int argc, char **argv)
{
	const char *path = DEFAULT_CONFIG, *cmd = "run", *before = NULL,
	           *site = NULL;
	bool check = false, verbose = false;
	struct ccfg *c;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (opt(argv[i], "-c", "--config") && i + 1 < argc)
			path = argv[++i];
		else if (opt(argv[i], "-d", "--debug"))
			verbose = true;
		else if (opt(argv[i], "-n", "--check-config"))
			check = true;
		else if (opt(argv[i], "-h", "--help")) {
			usage(stdout);
			return 0;
		} else if (opt(argv[i], "-V", "--version")) {
			printf("metrolog-collector " METROLOG_VERSION "\n");
			return 0;
		} else if (strcmp(argv[i], "--before") == 0 && i + 1 < argc)
			before = argv[++i];
		else if (strcmp(argv[i], "--site") == 0 && i + 1 < argc)
			site = argv[++i];
		else if (province_is_command(argv[i]))
			return province_main(path, i, argc, argv);
		else if (argv[i][0] != '-' &&
		         (strcmp(argv[i], "run") == 0 ||
		          strcmp(argv[i], "init") == 0 ||
		          strcmp(argv[i], "retention") == 0 ||
		          strcmp(argv[i], "verify") == 0))
			cmd = argv[i];
		else {
			fprintf(stderr, "metrolog-collector: bad argument %s\n",
			        argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if ((strcmp(cmd, "retention") == 0) != (before != NULL) ||
	    (site != NULL && strcmp(cmd, "verify") != 0)) {
		usage(stderr);
		return 2;
	}
	log_init("metrolog-collector",
	         verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	c = ccfg_load(path, stderr);
	if (check) {
		if (c != NULL)
			printf("OK\n");
		ccfg_free(c);
		return c != NULL ? 0 : 1;
	}
	if (c == NULL)
		return 1;
	if (strcmp(cmd, "init") == 0)
		rc = cmd_init(c);
	else if (strcmp(cmd, "retention") == 0)
		rc = cmd_retention(c, before);
	else if (strcmp(cmd, "verify") == 0)
		rc = cmd_verify(c, site);
	else
		rc = cmd_run(c);
	ccfg_free(c);
	return rc;
}
