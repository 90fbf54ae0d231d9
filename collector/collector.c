/*
 * collector.c - metrolog-collector: the provincial archive's writer. It
 * takes every gateway's readings, events and statuses from the broker
 * through MQTT shared subscriptions (link.c), so that N collectors in one
 * group split the messages, and writes them into PostgreSQL in batched
 * transactions (writer.c, archive.c; docs/COLLECTOR.md, Batches: when a
 * message is acknowledged to the broker, and what makes that safe), and
 * asks the gateways to replay the holes in their seq (the repairer, below).
 * Commands:
 * run (the service), init (the schema), retention (drop old months),
 * verify (each lab's audit chain, chain.h); enterprise, availability
 * and interval (the provincial queries, province.h).
 * docs/COLLECTOR.md is the manual.
 *
 * Threads (STYLE 8): the main thread is the writer (writer.h): it owns
 * the struct archive (the one PostgreSQL connection), the batch, the
 * counters and the gap checks. Paho's receive thread calls deliver(),
 * which puts the message in the one slot under mu, signals, and waits
 * until the writer says it is done: copied into the batch (batch_max >
 * 1), or committed (batch_max = 1, and the messages writer.h keeps out of
 * batches); Paho sends the PUBACK after deliver() returns (link.h). When
 * the collector stops, a message not done is never given back: deliver()
 * waits on, and the process exits under it, so the broker sends it again;
 * the batch in hand is committed first. Signals only set a flag; the
 * writer waits at most WAKE_MS at a time, so it sees the flag. The
 * repairer (archive.repair) is a thread of its own with its own struct
 * archive: it only reads the gaps due and publishes replay requests
 * through link_ask_replay(); the replies come to the writer like any
 * message. It too sees the flag within WAKE_MS (or once its query is
 * done), and the main thread joins it. The configuration is not freed on
 * the way out of `run`: Paho's threads, which the process ends, read it
 * (a detached repairer once read it after main() had freed it: the ASan
 * step's collector that did not exit, ASan's report and the leak check at
 * exit waiting on each other's locks).
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
#include "mclock.h"
#include "province.h"
#include "writer.h"

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

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static long long mono_ms(void)
{
	return (long long)(mclock_mono(&mclock_system) / 1000);
}

static void sleep_ms(int ms)
{
	mclock_sleep(&mclock_system, ms * 1000LL);
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

/* Wait on s (locked) for a message, WAKE_MS at most, or until the open
 * batch is due (due_in ms, -1: none). */
static void wait_message(struct slot *s, long long due_in)
{
	long long ms = due_in >= 0 && due_in < WAKE_MS ? due_in : WAKE_MS;
	struct timespec until;

	if (s->done != s->given || ms == 0)
		return;
	until = mclock_cv_deadline(ms * 1000LL);
	pthread_cond_timedwait(&s->cv, &s->mu, &until);
}

/* The message in s (locked, s->done < s->given) to w: acknowledged (done)
 * when w has it, else (the collector stops) never. Returns 0, or -1 to
 * stop. */
static int take_message(struct slot *s, struct writer *w)
{
	const char *topic = s->topic, *payload = s->payload;
	size_t len = s->len;
	int rc;

	pthread_mutex_unlock(&s->mu);
	rc = writer_take(w, topic, payload, len);
	pthread_mutex_lock(&s->mu);
	if (rc == WRITER_STOP)
		return -1;
	s->done = s->given; /* Paho acknowledges it now */
	pthread_cond_broadcast(&s->cv);
	if (rc != WRITER_BATCHED)
		return 0;
	pthread_mutex_unlock(&s->mu); /* written while Paho reads on */
	rc = writer_write(w);
	pthread_mutex_lock(&s->mu);
	return rc;
}

/* The writer's loop, until a signal; then the batch in hand committed. */
static void run_loop(struct slot *s, struct writer *w, const struct ccfg *c)
{
	long long next_gaps = mono_ms() + c->gap_check_ms;
	long long next_stats = mono_ms() + STATS_EVERY_S * 1000LL;
	char stats[512];

	pthread_mutex_lock(&s->mu);
	while (!stop_signal) {
		wait_message(s, writer_due_in(w));
		if (s->done < s->given && take_message(s, w) < 0)
			break;
		long long now = mono_ms();
		if (writer_due_in(w) != 0 && now < next_gaps &&
		    now < next_stats)
			continue;
		pthread_mutex_unlock(&s->mu);
		int rc = writer_due_in(w) == 0 ? writer_commit(w) : 0;
		/* between batches: else at the next turn with none open */
		if (rc == 0 && now >= next_gaps && writer_check_gaps(w))
			next_gaps = mono_ms() + c->gap_check_ms;
		if (now >= next_stats) {
			writer_stats(w, stats, sizeof(stats));
			log_info("stats %s", stats);
			next_stats = now + STATS_EVERY_S * 1000LL;
		}
		pthread_mutex_lock(&s->mu);
		if (rc < 0)
			break;
	}
	s->closed = true;
	pthread_mutex_unlock(&s->mu);
	(void)writer_commit(w); /* acknowledged: written before the exit */
	writer_stats(w, stats, sizeof(stats));
	log_info("stopping on signal %d: stats %s", (int)stop_signal, stats);
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
	struct archive *a;

	log_thread_name("repair");
	a = connect_archive(c);
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

/* Start the repairer for c on l, its thread in *th: joined once
 * stop_signal is set. Returns 0 or -1 (logged). */
static int repair_start(const struct ccfg *c, struct link *l, pthread_t *th)
{
	static struct repairer r;
	int e;

	r.c = c;
	r.l = l;
	if ((e = pthread_create(th, NULL, repair_main, &r)) != 0) {
		log_warnx("cannot start the repairer: %s", strerror(e));
		return -1;
	}
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
	struct writer *w;
	struct link *l;
	pthread_t repairer;
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
	if ((w = writer_new(c, a, &mclock_system, &stop_signal)) == NULL) {
		log_warnx("out of memory");
		archive_close(a);
		return 1;
	}
	log_info("writing up to %d message(s) a transaction, for %d ms at "
	         "most",
	         c->batch_max, c->batch_ms);
	if ((l = link_new(c, deliver, &s, err, sizeof(err))) == NULL ||
	    (c->repair && repair_start(c, l, &repairer) < 0)) {
		if (l == NULL)
			log_warnx("%s", err);
		writer_free(w);
		archive_close(a);
		return 1;
	}
	run_loop(&s, w, c); /* returns once stop_signal is set */
	if (c->repair)
		pthread_join(repairer, NULL); /* within WAKE_MS, or its query */
	writer_free(w);
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
	        "SIGINT, writing them\n"
	        "in batched transactions (archive.batch_max, batch_ms; the "
	        "batch in hand is\n"
	        "committed at the stop); init creates "
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
		return cmd_run(c); /* c not freed: Paho's threads read it (the
		                    * link's callbacks log the broker's address)
		                    * until the process ends them */
	ccfg_free(c);
	return rc;
}
