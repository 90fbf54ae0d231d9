/*
 * metrologd - the metrolog gateway daemon: arguments, signals, start and
 * orderly stop, and the ingest loop.
 *
 * Threads: one poller per bus (poller.c) pushes samples into the bounded
 * queue (queue.c); the main thread is the ingest thread: it takes samples in
 * batches and commits each batch in one SQLite transaction (store.c). It
 * also handles signals, which only set flags (the pollers block every
 * signal): SIGTERM/SIGINT stop, SIGHUP reloads the configuration.
 *
 * With an mqtt group in the configuration, the ingest thread also drives
 * the publisher (publish.c): the composer (compose.c) turns each batch into
 * its events rows and outbox messages, which store_write() commits in the
 * batch's transaction (commit before publish), and
 * publisher_step() after each commit and at least every 100 ms sends what
 * the outbox holds and deletes what the broker acknowledged. Paho's own
 * threads only record events for that step, and wake this thread if it
 * waits in publisher_wait() (where it waits, instead of sleeping, while
 * the publisher is busy): acknowledgements refill the window at once.
 *
 * The ingest thread also owns the tolerance monitor (monitor.c): each
 * sample taken from the queue goes through it, and the tolerance state
 * changes it reports are appended to the same batch, so a change is
 * committed in the transaction of the reading that caused it. The batch
 * has room for monitor_room() of them per sample.
 *
 * Nothing is lost on purpose: on stop and on reload the pollers are stopped
 * first, then the queue is drained and committed, and only then does the
 * process exit or switch to the new configuration. A batch that fails to
 * commit (database locked, disk full) is kept and retried; meanwhile the
 * queue's configured policy decides what happens when it fills.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "compose.h"
#include "config_load.h"
#include "log.h"
#include "monitor.h"
#include "poller.h"
#include "publish.h"
#include "queue.h"
#include "store.h"

#define DEFAULT_CONFIG       "/etc/metrolog/metrologd.cfg"
#define STATS_EVERY_US       (60LL * 1000000)
#define RETENTION_EVERY_US   (3600LL * 1000000)
#define CALIBRATION_EVERY_US 1000000LL /* look for new calibration records */
#define RETENTION_CHUNK      10000
#define RETRY_MIN_MS         100
#define RETRY_MAX_MS         5000
#define STOP_RETRY_US        (30LL * 1000000) /* keep trying to commit on stop */
#define BATCH_STEP_US        10000 /* an open batch looks at the queue this often */
#define PUBLISH_WAIT_MS      5     /* longest wait while the outbox drains */
#define STOP_FLUSH_MS        3000 /* on stop, publish what we can this long */

static volatile sig_atomic_t got_stop, got_reload;

struct daemon {
	const char *config_path;
	struct config *cfg;
	struct store *store;
	struct composer *comp;   /* events rows and outbox messages */
	struct publisher *pub;   /* NULL without an mqtt group */
	uint64_t outbox_dropped; /* last logged */
	struct queue *queue;
	struct poller **pollers;
	struct monitor *mon;
	struct sample *batch; /* batch_cap samples */
	size_t batch_cap;     /* batch_max * (1 + monitor_room()) */
	size_t nbatch;
	int64_t batch_since; /* monotonic us of the batch's first sample */
	int retry_ms;        /* current commit retry back-off, 0 when fine */
	int64_t next_retry;  /* monotonic us */
	int64_t next_stats, next_retention, next_calibration;
	bool retention_pending;
	bool calibration_failing; /* the last refresh failed (logged once) */
	/* counters over the whole run */
	uint64_t committed_readings, committed_events, commit_failures;
	uint64_t committed_states;  /* tolerance state changes and signals */
	struct poller_stats polled; /* of pollers already stopped */
};

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_reload = 1;
	else
		got_stop = 1;
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Sleep; a signal cuts it short, which is what the main loop wants. */
static void sleep_us(int64_t us)
{
	struct timespec ts = {(time_t)(us / 1000000),
	                      (long)(us % 1000000) * 1000};

	nanosleep(&ts, NULL);
}

static int64_t real_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: metrologd [OPTION]... [CONFIG]\n"
	        "The metrolog gateway: polls lab instruments over Modbus and "
	        "commits every reading\nto SQLite.\n\n"
	        "  -c, --config FILE   configuration file "
	        "(default " DEFAULT_CONFIG ");\n"
	        "                      a CONFIG argument means the same\n"
	        "  -n, --check-config  check the configuration, print OK or "
	        "every error as\n"
	        "                      FILE:LINE: message, and exit (0 when "
	        "OK, 1 otherwise)\n"
	        "  -d, --debug         log every failed request and more\n"
	        "  -q, --quiet         log warnings only\n"
	        "  -h, --help          show this help\n"
	        "  -V, --version       show the version\n\n"
	        "Signals: SIGHUP reloads the configuration (a bad one is "
	        "refused and the running\none stays); SIGTERM or SIGINT "
	        "commit what was read and exit 0.\n"
	        "Logs go to standard error. docs/CONFIG.md describes the "
	        "configuration.\n");
}

static void add_stats(struct poller_stats *sum, const struct poller_stats *s)
{
	sum->polls += s->polls;
	sum->transactions += s->transactions;
	sum->failures += s->failures;
	sum->readings += s->readings;
	sum->late += s->late;
	for (int b = 0; b < POLLER_JITTER_BUCKETS; b++)
		sum->jitter[b] += s->jitter[b];
}

/* One JSON line with the counters so far: the benchmark reads it. */
static void log_stats(struct daemon *d)
{
	struct poller_stats sum = d->polled;
	struct queue_stats qs;
	struct rusage ru;

	for (int i = 0; d->pollers != NULL && i < d->cfg->nbuses; i++) {
		if (d->pollers[i] != NULL) {
			struct poller_stats s;
			poller_get_stats(d->pollers[i], &s);
			add_stats(&sum, &s);
		}
	}
	queue_get_stats(d->queue, &qs);
	getrusage(RUSAGE_SELF, &ru);
	log_info("stats {\"polls\":%llu,\"transactions\":%llu,"
	         "\"failed_transactions\":%llu,\"readings_polled\":%llu,"
	         "\"readings_committed\":%llu,\"events_committed\":%llu,"
	         "\"tolerance_events\":%llu,"
	         "\"queue_dropped\":%llu,\"queue_blocked\":%llu,"
	         "\"queue_high_water\":%zu,"
	         "\"commit_failures\":%llu,\"late_polls\":%llu,"
	         "\"jitter_p50_us\":%llu,\"jitter_p99_us\":%llu,"
	         "\"cpu_s\":%.3f,\"max_rss_kib\":%ld}",
	         (unsigned long long)sum.polls,
	         (unsigned long long)sum.transactions,
	         (unsigned long long)sum.failures,
	         (unsigned long long)sum.readings,
	         (unsigned long long)d->committed_readings,
	         (unsigned long long)d->committed_events,
	         (unsigned long long)d->committed_states,
	         (unsigned long long)qs.dropped, (unsigned long long)qs.blocked,
	         qs.high_water, (unsigned long long)d->commit_failures,
	         (unsigned long long)sum.late,
	         (unsigned long long)poller_jitter_quantile(&sum, 0.5),
	         (unsigned long long)poller_jitter_quantile(&sum, 0.99),
	         (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	                 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
	         ru.ru_maxrss);
	if (d->pub != NULL) {
		struct publisher_stats ps;
		int64_t rows = 0, oldest = 0;
		publisher_get_stats(d->pub, &ps);
		store_outbox_stats(d->store, &rows, &oldest);
		log_info("mqtt stats {\"connected\":%s,\"sent\":%llu,"
		         "\"acked\":%llu,\"refused\":%llu,\"resent\":%llu,"
		         "\"connects\":%llu,"
		         "\"outbox\":%lld,\"outbox_dropped\":%llu,"
		         "\"requests\":%llu,\"request_errors\":%llu,"
		         "\"requests_dropped\":%llu}",
		         ps.connected ? "true" : "false",
		         (unsigned long long)ps.sent,
		         (unsigned long long)ps.acked,
		         (unsigned long long)ps.refused,
		         (unsigned long long)ps.resent,
		         (unsigned long long)ps.connects, (long long)rows,
		         (unsigned long long)store_outbox_dropped(d->store),
		         (unsigned long long)ps.requests,
		         (unsigned long long)ps.request_errors,
		         (unsigned long long)ps.requests_dropped);
	}
}

/* One turn of the publisher, and the outbox_full policy made visible. */
static void publish_step(struct daemon *d)
{
	uint64_t dropped;

	if (d->pub == NULL)
		return;
	publisher_step(d->pub, d->store, real_us());
	dropped = store_outbox_dropped(d->store);
	if (dropped != d->outbox_dropped) {
		log_warnx(
		        "mqtt: outbox full (outbox_max %ld): %llu oldest "
		        "unsent messages dropped, %llu in all; their readings "
		        "stay in the database",
		        d->cfg->mqtt->outbox_max,
		        (unsigned long long)(dropped - d->outbox_dropped),
		        (unsigned long long)dropped);
		d->outbox_dropped = dropped;
	}
}

static void publisher_start(struct daemon *d)
{
	char err[512];

	if (d->cfg->mqtt == NULL)
		return;
	d->pub = publisher_new(d->cfg, err, sizeof(err));
	if (d->pub == NULL)
		fatalx("%s", err);
}

/* Commit the pending batch. Returns 0, or -1 if it failed (kept). */
static int commit(struct daemon *d)
{
	if (d->nbatch == 0)
		return 0;
	if (composer_write(d->comp, d->store, d->batch, d->nbatch) == -1) {
		d->commit_failures++;
		if (d->retry_ms == 0 || d->retry_ms >= RETRY_MAX_MS)
			log_warnx("%s; %zu samples kept, retrying",
			          composer_error(d->comp, d->store), d->nbatch);
		d->retry_ms = d->retry_ms == 0 ? RETRY_MIN_MS : d->retry_ms * 2;
		if (d->retry_ms > RETRY_MAX_MS)
			d->retry_ms = RETRY_MAX_MS;
		d->next_retry = mono_us() + (int64_t)d->retry_ms * 1000;
		return -1;
	}
	if (d->retry_ms != 0)
		log_info("database writable again; %zu samples committed",
		         d->nbatch);
	for (size_t i = 0; i < d->nbatch; i++) {
		if (d->batch[i].kind == SAMPLE_READING)
			d->committed_readings++;
		else if (d->batch[i].kind == SAMPLE_STATE)
			d->committed_states++;
		else
			d->committed_events++;
	}
	d->retry_ms = 0;
	d->nbatch = 0;
	publish_step(d); /* after COMMIT only */
	return 0;
}

/* Pop up to max samples into the batch, waiting up to wait_ms, and run
 * them through the monitor, which appends its state changes. */
static size_t take(struct daemon *d, size_t max, int wait_ms)
{
	size_t first = d->nbatch;
	size_t n = queue_pop(d->queue, d->batch + first, max, wait_ms);

	d->nbatch += n;
	for (size_t i = first; i < first + n; i++)
		d->nbatch += monitor_sample(d->mon, &d->batch[i],
		                            d->batch + d->nbatch);
	return n;
}

/* Sleep up to us, or less if the busy publisher has something to act on
 * (an acknowledgement, a connection event): it wakes us. */
static void pause_us(struct daemon *d, int64_t us)
{
	if (d->pub != NULL && publisher_busy(d->pub))
		publisher_wait(d->pub, us);
	else
		sleep_us(us);
}

/* Take what the queue has and commit when the batch is full or old
 * enough. With an empty batch, wait up to wait_ms for a first sample; with
 * a batch open, sleep in steps of BATCH_STEP_US and take what arrived, so
 * that the pollers' pushes do not wake this thread one by one. */
static void ingest_step(struct daemon *d, int wait_ms)
{
	size_t max = (size_t)d->cfg->batch_max;
	int64_t now = mono_us();

	if (d->retry_ms != 0 && now < d->next_retry) {
		pause_us(d, BATCH_STEP_US);
		return;
	}
	if (d->nbatch == 0) {
		take(d, max, wait_ms);
		d->batch_since = mono_us();
	} else if (d->nbatch < max) {
		int64_t due = d->batch_since + (int64_t)d->cfg->batch_ms * 1000;
		if (due > now)
			pause_us(d, due - now < BATCH_STEP_US ? due - now
			                                      : BATCH_STEP_US);
		take(d, max - d->nbatch, 0);
	}
	now = mono_us();
	if (d->nbatch >= max ||
	    (d->nbatch > 0 &&
	     now >= d->batch_since + (int64_t)d->cfg->batch_ms * 1000))
		commit(d);
}

static void stop_pollers(struct daemon *d)
{
	for (int i = 0; d->pollers != NULL && i < d->cfg->nbuses; i++) {
		if (d->pollers[i] != NULL) {
			struct poller_stats s;
			poller_stop(d->pollers[i], &s);
			add_stats(&d->polled, &s);
		}
	}
	free(d->pollers);
	d->pollers = NULL;
}

static int start_pollers(struct daemon *d)
{
	d->pollers = calloc((size_t)d->cfg->nbuses, sizeof(*d->pollers));
	if (d->pollers == NULL)
		return -1;
	for (int i = 0; i < d->cfg->nbuses; i++) {
		d->pollers[i] = poller_start(d->cfg, i, d->queue);
		if (d->pollers[i] == NULL)
			return -1;
	}
	return 0;
}

/* With the pollers stopped: commit everything still queued. Gives up
 * after STOP_RETRY_US of failures. Returns the samples left uncommitted. */
static size_t drain(struct daemon *d)
{
	size_t max = (size_t)d->cfg->batch_max;
	int64_t deadline = mono_us() + STOP_RETRY_US;

	for (;;) {
		if (d->nbatch < max)
			take(d, max - d->nbatch, 0);
		if (d->nbatch == 0)
			return 0;
		if (d->retry_ms == 0 || mono_us() >= d->next_retry)
			commit(d);
		else
			sleep_us(BATCH_STEP_US);
		if (d->nbatch > 0 && mono_us() > deadline)
			break;
	}
	size_t left = d->nbatch, n;
	while ((n = queue_pop(d->queue, d->batch, max, 0)) > 0)
		left += n;
	d->nbatch = 0;
	log_warnx("giving up: %zu samples could not be committed", left);
	return left;
}

static void reload(struct daemon *d)
{
	struct config *next = config_load(d->config_path, stderr);

	if (next == NULL) {
		log_warnx("reload refused: %s has errors (above); the running "
		          "configuration stays in force",
		          d->config_path);
		return;
	}
	if (strcmp(next->database, d->cfg->database) != 0) {
		log_warnx("reload refused: the database cannot change while "
		          "running (%s -> %s); restart metrologd",
		          d->cfg->database, next->database);
		config_free(next);
		return;
	}
	stop_pollers(d);
	drain(d);
	if (store_sync_config(d->store, next) == -1) {
		log_warnx("reload refused: %s", store_last_message(d->store));
		config_free(next);
		if (start_pollers(d) == -1)
			fatalx("cannot restart the pollers");
		return;
	}
	if (composer_reload(d->comp, next) == -1)
		fatalx("out of memory");
	/* The queue is sized by the old config: a new size needs a restart. */
	if (next->queue_size != d->cfg->queue_size)
		log_warnx("queue_size changes at the next restart");
	/* the publisher reads the old config: a new one for the new */
	publisher_stop(d->pub, d->store, 0);
	d->pub = NULL;
	if (monitor_rebuild(d->mon, next) == -1)
		fatalx("out of memory");
	size_t cap = (size_t)next->batch_max * (1 + monitor_room(d->mon));
	if (cap > d->batch_cap) {
		struct sample *b = realloc(d->batch, cap * sizeof(*b));
		if (b == NULL)
			fatalx("out of memory");
		d->batch = b;
		d->batch_cap = cap;
	}
	config_free(d->cfg);
	d->cfg = next;
	publisher_start(d);
	if (start_pollers(d) == -1)
		fatalx("cannot start the pollers");
	log_info("configuration reloaded from %s: %d buses, %d instruments, "
	         "%d channels",
	         d->config_path, d->cfg->nbuses, d->cfg->ninstruments,
	         d->cfg->nchannels);
}

/* Delete old readings a chunk at a time, between batches. */
static void retention_step(struct daemon *d, int64_t now)
{
	if (d->cfg->retention_days == 0)
		return;
	if (!d->retention_pending && now < d->next_retention)
		return;
	int64_t cutoff =
	        real_us() - (int64_t)d->cfg->retention_days * 86400LL * 1000000;
	long deleted = 0;
	if (store_retention(d->store, cutoff, RETENTION_CHUNK, &deleted) ==
	    -1) {
		log_warnx("retention: %s", store_last_message(d->store));
		deleted = 0;
	}
	d->retention_pending = deleted == RETENTION_CHUNK;
	d->next_retention = now + RETENTION_EVERY_US;
}

/* Calibration due states: an event when one changes (a record appended
 * by the metrolog tool, or a due date coming closer). */
static void calibration_step(struct daemon *d, int64_t now)
{
	if (now < d->next_calibration)
		return;
	d->next_calibration = now + CALIBRATION_EVERY_US;
	int changes = composer_calibration(d->comp, d->store, real_us());
	/* tried every second: say when it starts failing and when it works
	 * again, not every second in between */
	if (changes == -1 && !d->calibration_failing)
		log_warnx("calibration states: %s; retrying every second",
		          composer_error(d->comp, d->store));
	else if (changes != -1 && d->calibration_failing)
		log_info("calibration states: read again");
	d->calibration_failing = changes == -1;
	for (int i = 0; changes > 0 && i < d->cfg->ninstruments; i++) {
		if (!composer_renewed(d->comp, (uint32_t)i))
			continue;
		monitor_restart_trends(d->mon, (uint32_t)i);
		log_info("instrument %s: a new calibration is in force; the "
		         "drift trends of its channels start again",
		         d->cfg->instruments[i].id);
	}
}

static int run(struct daemon *d)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	d->mon = monitor_new(d->cfg);
	if (d->mon == NULL)
		fatalx("out of memory");
	d->batch_cap = (size_t)d->cfg->batch_max * (1 + monitor_room(d->mon));
	d->batch = calloc(d->batch_cap, sizeof(*d->batch));
	d->queue = queue_new((size_t)d->cfg->queue_size, d->cfg->queue_full);
	if (d->batch == NULL || d->queue == NULL)
		fatalx("out of memory");
	publisher_start(d);
	if (start_pollers(d) == -1)
		fatalx("cannot start the pollers");
	log_info("polling %d instruments (%d channels) on %d buses into %s",
	         d->cfg->ninstruments, d->cfg->nchannels, d->cfg->nbuses,
	         d->cfg->database);
	d->next_stats = mono_us() + STATS_EVERY_US;
	while (!got_stop) {
		if (got_reload) {
			got_reload = 0;
			reload(d);
		}
		if (d->pub != NULL && publisher_busy(d->pub)) {
			/* look at the queue without waiting, then wait for
			 * the publisher (woken by its acknowledgements) */
			ingest_step(d, 0);
			if (d->nbatch == 0 && publisher_busy(d->pub))
				publisher_wait(d->pub,
				               PUBLISH_WAIT_MS * 1000LL);
		} else {
			ingest_step(d, 100);
		}
		publish_step(d);
		int64_t now = mono_us();
		if (d->nbatch == 0) {
			retention_step(d, now);
			calibration_step(d, now);
		}
		if (now >= d->next_stats) {
			log_stats(d);
			d->next_stats = now + STATS_EVERY_US;
		}
	}
	log_info("stopping: committing what was read");
	stop_pollers(d);
	size_t lost = drain(d);
	log_stats(d);
	publisher_stop(d->pub, d->store, STOP_FLUSH_MS);
	d->pub = NULL;
	return lost == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"config", required_argument, NULL, 'c'},
	        {"check-config", no_argument, NULL, 'n'},
	        {"debug", no_argument, NULL, 'd'},
	        {"quiet", no_argument, NULL, 'q'},
	        {"help", no_argument, NULL, 'h'},
	        {"version", no_argument, NULL, 'V'},
	        {NULL, 0, NULL, 0},
	};
	struct daemon d;
	enum log_level level = LOG_LEVEL_INFO;
	bool check = false;
	char err[512];
	int c;

	memset(&d, 0, sizeof(d));
	d.config_path = DEFAULT_CONFIG;
	while ((c = getopt_long(argc, argv, "c:ndqhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			d.config_path = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'd':
			level = LOG_LEVEL_DEBUG;
			break;
		case 'q':
			level = LOG_LEVEL_WARN;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("metrologd %s\n", METROLOG_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'metrologd --help'.\n");
			return 2;
		}
	}
	if (optind < argc)
		d.config_path = argv[optind++];
	if (optind < argc) {
		fprintf(stderr,
		        "metrologd: unexpected argument '%s'. Try "
		        "'metrologd --help'.\n",
		        argv[optind]);
		return 2;
	}
	log_init("metrologd", level);

	d.cfg = config_load(d.config_path, stderr);
	if (d.cfg == NULL)
		return 1;
	if (check) {
		printf("%s: OK (%d buses, %d instruments, %d channels)\n",
		       d.config_path, d.cfg->nbuses, d.cfg->ninstruments,
		       d.cfg->nchannels);
		config_free(d.cfg);
		return 0;
	}
	d.store = store_open(d.cfg->database, err, sizeof(err));
	if (d.store == NULL) {
		log_warnx("%s", err);
		config_free(d.cfg);
		return 1;
	}
	if (store_sync_config(d.store, d.cfg) == -1) {
		log_warnx("%s", store_last_message(d.store));
		store_close(d.store);
		config_free(d.cfg);
		return 1;
	}
	d.comp = composer_new(d.cfg);
	if (d.comp == NULL)
		fatalx("out of memory");
	int rc = run(&d);
	composer_free(d.comp);
	store_close(d.store);
	queue_free(d.queue);
	monitor_free(d.mon);
	free(d.batch);
	config_free(d.cfg);
	return rc;
}
