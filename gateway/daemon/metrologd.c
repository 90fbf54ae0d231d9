/*
 * metrologd - the metrolog gateway daemon: arguments, signals, start,
 * reload and orderly stop.
 *
 * Threads: one poller per bus (poller.c: a thread per RTU line, TCP buses
 * served by a few threads, up to 512 buses each, mux.c) pushes samples
 * into the bounded queue (queue.c); the main thread is the ingest thread
 * (ingest.c): it takes samples in batches, runs them through the tolerance
 * monitor, and commits each batch with its events rows and outbox messages
 * (compose.c) in one SQLite transaction (store.c). With an mqtt group the
 * publisher (publish.c) runs on a thread of its own with its own connection:
 * this thread tells it of each commit and deletes the outbox rows it says were
 * acknowledged, in its next transaction. Signals only set flags (the pollers
 * block every signal): SIGTERM/SIGINT stop, SIGHUP reloads the configuration.
 * One clock (mclock_system) is given to the pollers, the ingest loop and the
 * publisher: all their times come from it (mclock.h).
 *
 * Under systemd (Type=notify, notify.h): READY=1 once the database is
 * open and the pollers run; RELOADING=1 and READY=1 around a reload;
 * STOPPING=1 on a stop. With WatchdogSec=, a watchdog thread sends
 * WATCHDOG=1 only while the main loop below turns (d->beat), so an ingest
 * thread that hangs gets metrologd restarted.
 *
 * Nothing is lost on purpose: on stop and on reload the pollers are stopped
 * first, then the queue is drained and committed (ingest_drain()), and only
 * then does the process exit or switch to the new configuration.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "config_load.h"
#include "ingest.h"
#include "labtime.h"
#include "log.h"
#include "mclock.h"
#include "notify.h"
#include "poller.h"
#include "publish.h"
#include "queue.h"
#include "store.h"

#define DEFAULT_CONFIG "/etc/metrolog/metrologd.cfg"
#define STATS_EVERY_US (60LL * 1000000)
#define STOP_FLUSH_MS  3000 /* on stop, publish what we can this long */
/* SQLite's page cache of each of metrologd's two connections (the ingest
 * thread's and the publisher's), in KiB. Both mostly append and read what
 * was just written (readings_recent, the outbox: rowid order), so 8 MiB
 * each (the store's default, for the tool's reads) only held pages that
 * are never read again: at a lab's load they filled in seconds and were
 * half of metrologd's heap (docs/BENCHMARKS.md, "The lab's latency,
 * memory and CPU"). */
#define CACHE_KIB 2048

static volatile sig_atomic_t got_stop, got_reload;

struct daemon {
	const char *config_path;
	/* the one clock of the pollers, the ingest loop and the publisher */
	const struct mclock *clk;
	struct config *cfg;
	struct store *store;
	struct ingest *ingest;
	struct publisher *pub; /* NULL without an mqtt group */
	struct queue *queue;
	struct poller **pollers;
	struct poller_stats polled; /* of pollers already stopped */
	/* one more each turn of the main (ingest) loop; the watchdog thread
	 * feeds systemd only while it grows */
	atomic_uint_fast64_t beat;
	struct notify_watchdog *watchdog; /* NULL without WatchdogSec= */
};

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_reload = 1;
	else
		got_stop = 1;
}

static int64_t mono_us(const struct daemon *d)
{
	return mclock_mono(d->clk);
}

/* One state to the service manager (notify.h); a failure only logged. */
static void tell(const char *state)
{
	if (notify_send(state) == -1)
		log_warn("cannot notify the service manager (%s)", state);
}

/* READY=1 with what runs, for `systemctl status`. */
static void tell_ready(const struct daemon *d)
{
	char state[256];

	snprintf(state, sizeof(state),
	         "READY=1\nSTATUS=polling %d instruments (%d channels) on %d "
	         "buses",
	         d->cfg->ninstruments, d->cfg->nchannels, d->cfg->nbuses);
	tell(state);
}

/* RELOADING=1 with the monotonic time systemd asks of it. */
static void tell_reloading(const struct daemon *d)
{
	char state[64];

	snprintf(state, sizeof(state), "RELOADING=1\nMONOTONIC_USEC=%lld",
	         (long long)mono_us(d));
	tell(state);
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
	        "OK, 1 otherwise);\n"
	        "                      also that the database's directory "
	        "exists and this user\n"
	        "                      may create files in it\n"
	        "      --devices       print a systemd drop-in that lets the "
	        "service open only\n"
	        "                      the serial lines the configuration "
	        "names (DeviceAllow=),\n"
	        "                      and exit\n"
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
	struct ingest_stats is;
	struct rusage ru;

	for (int i = 0; d->pollers != NULL && i < d->cfg->nbuses; i++) {
		if (d->pollers[i] != NULL) {
			struct poller_stats s;
			poller_get_stats(d->pollers[i], &s);
			add_stats(&sum, &s);
		}
	}
	queue_get_stats(d->queue, &qs);
	ingest_get_stats(d->ingest, &is);
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
	         (unsigned long long)is.readings, (unsigned long long)is.events,
	         (unsigned long long)is.states, (unsigned long long)qs.dropped,
	         (unsigned long long)qs.blocked, qs.high_water,
	         (unsigned long long)is.commit_failures,
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
		         "\"requests_dropped\":%llu,\"requests_busy\":%llu,"
		         "\"requests_waiting\":%llu}",
		         ps.connected ? "true" : "false",
		         (unsigned long long)ps.sent,
		         (unsigned long long)ps.acked,
		         (unsigned long long)ps.refused,
		         (unsigned long long)ps.resent,
		         (unsigned long long)ps.connects, (long long)rows,
		         (unsigned long long)store_outbox_dropped(d->store),
		         (unsigned long long)ps.requests,
		         (unsigned long long)ps.request_errors,
		         (unsigned long long)ps.requests_dropped,
		         (unsigned long long)ps.requests_busy,
		         (unsigned long long)ps.requests_waiting);
	}
}

static void publisher_start(struct daemon *d)
{
	char err[512];

	if (d->cfg->mqtt == NULL)
		return;
	d->pub = publisher_new(d->cfg, d->clk, err, sizeof(err));
	if (d->pub == NULL)
		fatalx("%s", err);
	ingest_set_publisher(d->ingest, d->pub);
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
		d->pollers[i] = poller_start(d->cfg, i, d->queue, d->clk);
		if (d->pollers[i] == NULL)
			return -1;
	}
	return 0;
}

/* A fault no test can cause from outside: the ingest loop (this thread)
 * stuck while the others run, as on a hung disk or a deadlock. Only for
 * tests/integration/test_notify.c: with METROLOG_TEST_HANG_INGEST=FILE,
 * the loop stops for good once FILE exists (the watchdog thread stops
 * feeding, as it must). Never set outside the tests. */
static void hang_if_asked(const char *file)
{
	if (file == NULL || access(file, F_OK) != 0)
		return;
	log_warnx("test: the ingest loop hangs (METROLOG_TEST_HANG_INGEST)");
	for (;;)
		pause();
}

/* The lab's timezone setting, "" when none. */
static const char *lab_zone(const struct config *c)
{
	return c->lab != NULL && c->lab->timezone != NULL ? c->lab->timezone
	                                                  : "";
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
	ingest_drain(d->ingest);
	if (ingest_reload(d->ingest, next) == -1) {
		config_free(next);
		if (start_pollers(d) == -1)
			fatalx("cannot restart the pollers");
		return;
	}
	/* The queue is sized by the old config: a new size needs a restart. */
	if (next->queue_size != d->cfg->queue_size)
		log_warnx("queue_size changes at the next restart");
	if (strcmp(lab_zone(next), lab_zone(d->cfg)) != 0)
		log_warnx("timezone: the tool reads the new zone now, "
		          "metrologd's own log lines at the next restart");
	/* the publisher reads the old config: a new one for the new */
	publisher_stop(d->pub, d->store, 0);
	d->pub = NULL;
	ingest_set_publisher(d->ingest, NULL);
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

	d->queue = queue_new((size_t)d->cfg->queue_size, d->cfg->queue_full);
	if (d->queue == NULL)
		fatalx("out of memory");
	d->ingest = ingest_new(d->cfg, d->store, d->queue, d->clk);
	if (d->ingest == NULL)
		fatalx("out of memory");
	publisher_start(d);
	if (start_pollers(d) == -1)
		fatalx("cannot start the pollers");
	log_info("polling %d instruments (%d channels) on %d buses into %s",
	         d->cfg->ninstruments, d->cfg->nchannels, d->cfg->nbuses,
	         d->cfg->database);
	tell_ready(d);
	if (notify_watchdog_usec() > 0)
		d->watchdog =
		        notify_watchdog_start(notify_watchdog_usec(), &d->beat);
	int64_t next_stats = mono_us(d) + STATS_EVERY_US;
	const char *hang = getenv("METROLOG_TEST_HANG_INGEST");
	while (!got_stop) {
		hang_if_asked(hang);
		atomic_fetch_add(&d->beat, 1);
		if (got_reload) {
			got_reload = 0;
			tell_reloading(d);
			reload(d);
			tell_ready(d);
		}
		ingest_step(d->ingest, 100);
		int64_t now = mono_us(d);
		if (now >= next_stats) {
			log_stats(d);
			next_stats = now + STATS_EVERY_US;
		}
	}
	log_info("stopping: committing what was read");
	/* systemd watches no more once told STOPPING=1: TimeoutStopSec= */
	tell("STOPPING=1");
	notify_watchdog_stop(d->watchdog);
	d->watchdog = NULL;
	stop_pollers(d);
	size_t lost = ingest_drain(d->ingest);
	publisher_stopping(d->pub, STOP_FLUSH_MS); /* the counters stay */
	log_stats(d);
	publisher_stop(d->pub, d->store, STOP_FLUSH_MS);
	d->pub = NULL;
	return lost == 0 ? 0 : 1;
}

/* --devices: a drop-in for metrologd.service allowing exactly the RTU
 * buses' devices (DevicePolicy=closed stays: the pseudo devices). 0, or 1
 * when a device path cannot be written in a unit file. */
static int print_devices(const struct config *c, const char *path)
{
	int n = 0;

	for (int i = 0; i < c->nbuses; i++) {
		const char *dev = c->buses[i].params.device;
		if (c->buses[i].params.kind == BUS_RTU &&
		    dev[strcspn(dev, " \t\\\"'%")] != '\0') {
			fprintf(stderr,
			        "metrologd: %s:%d: device '%s' has a space, "
			        "quote, "
			        "backslash or %% that a unit file would read "
			        "otherwise; name it by a path without them\n",
			        path, c->buses[i].line, dev);
			return 1;
		}
	}
	printf("# metrologd.service may open the serial lines %s names, no "
	       "other device:\n"
	       "#   mkdir -p /etc/systemd/system/metrologd.service.d\n"
	       "#   metrologd --devices %s >"
	       " /etc/systemd/system/metrologd.service.d/devices.conf\n"
	       "#   systemctl daemon-reload && systemctl restart metrologd\n"
	       "# Each device must exist when metrologd starts (systemd allows "
	       "the device its\n# path names then); run it again after adding "
	       "a bus.\n"
	       "[Service]\nDeviceAllow=\n",
	       path, path);
	for (int i = 0; i < c->nbuses; i++)
		if (c->buses[i].params.kind == BUS_RTU) {
			printf("DeviceAllow=%s rw\n",
			       c->buses[i].params.device);
			n++;
		}
	if (n == 0)
		printf("# no RTU bus: no serial line at all\n");
	return 0;
}

/*
 * malloc hands freed memory back to the system. glibc starts so (a free
 * top of a heap above 128 KiB is trimmed, blocks from 128 KiB are mapped
 * apart) but raises both thresholds for good each time a mapped block is
 * freed, up to 32 MiB: after one large buffer came and went, each
 * thread's arena kept up to twice its size free and resident (the
 * publisher's held 2.2 MiB while using 0.3 at the lab's load). Set, they
 * stay. 512 KiB and not 128: a batch's sort and its copy for the
 * publisher pass 128 KiB at the ceilings, and would be mapped and
 * unmapped at each commit (docs/BENCHMARKS.md, session 10).
 */
#define MALLOC_GIVE_BACK (512 * 1024) /* bytes */

static void malloc_give_back(void)
{
#ifdef __GLIBC__
	(void)mallopt(M_MMAP_THRESHOLD, MALLOC_GIVE_BACK);
	(void)mallopt(M_TRIM_THRESHOLD, MALLOC_GIVE_BACK);
#endif
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"config", required_argument, NULL, 'c'},
	        {"check-config", no_argument, NULL, 'n'},
	        {"devices", no_argument, NULL, 'D'},
	        {"debug", no_argument, NULL, 'd'},
	        {"quiet", no_argument, NULL, 'q'},
	        {"help", no_argument, NULL, 'h'},
	        {"version", no_argument, NULL, 'V'},
	        {NULL, 0, NULL, 0},
	};
	struct daemon d;
	enum log_level level = LOG_LEVEL_INFO;
	bool check = false, devices = false;
	char err[512];
	int c;

	malloc_give_back();
	memset(&d, 0, sizeof(d));
	d.config_path = DEFAULT_CONFIG;
	d.clk = &mclock_system;
	while ((c = getopt_long(argc, argv, "c:ndqhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			d.config_path = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'D':
			devices = true;
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
	/* the lab's zone for the times this process prints (before any other
	 * thread: setenv); a reload keeps it until the next start */
	(void)labtime_use_zone(lab_zone(d.cfg));
	if (devices) {
		int rc = print_devices(d.cfg, d.config_path);
		config_free(d.cfg);
		return rc;
	}
	if (check && config_check_database(d.cfg, stderr) < 0) {
		config_free(d.cfg);
		return 1;
	}
	if (check) {
		printf("%s: OK (%d buses, %d instruments, %d channels)\n",
		       d.config_path, d.cfg->nbuses, d.cfg->ninstruments,
		       d.cfg->nchannels);
		config_free(d.cfg);
		return 0;
	}
	store_set_cache_kib(CACHE_KIB);
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
	int rc = run(&d);
	ingest_free(d.ingest);
	store_close(d.store);
	queue_free(d.queue);
	config_free(d.cfg);
	return rc;
}
