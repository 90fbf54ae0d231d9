/*
 * modbus-load - a Modbus TCP load generator built on libmodbus clients.
 *
 * It opens N connections to one server (or spreads them over the ports
 * listed in a file, connection i using port i mod K) and has one thread per
 * connection issue back-to-back reads of R input (or holding) registers
 * from address 0 for S seconds. At the end it prints ONE JSON line with the
 * transaction count, the rate, the error count and the p50/p99 latency, so
 * tools/bench/bench-sim can compare metrolog-sim with libmodbus's own server
 * (docs/BENCHMARKS.md). Being a client of the same library on both sides of
 * the comparison keeps the client cost constant.
 *
 * Latency goes into a per-thread fixed-size log-linear histogram (32
 * sub-buckets per power of two of nanoseconds, so under 3.2 % error), so
 * the request loop never allocates.
 *
 * Threading: main parses options, connects every context, starts the
 * workers and joins them. Each worker owns its struct worker (context,
 * counters, histogram) until it is joined; main reads them only after
 * pthread_join(). Nothing is shared while the load runs.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <modbus.h>

#include "text.h"

#define LOAD_MAX_CONNECTIONS 1024
#define LOAD_MAX_PORTS       1024
#define LOAD_RECONNECT_NS    10000000 /* pause between failed reconnects */
#define OPT_HELP             256      /* getopt_long value of --help */

/*
 * Log-linear histogram of nanoseconds: values below HIST_SUB are exact;
 * above, each power of two [2^k, 2^(k+1)) is cut into HIST_SUB equal
 * buckets. 64-bit values need (64 - HIST_SUB_BITS + 1) * HIST_SUB buckets.
 */
#define HIST_SUB_BITS 5
#define HIST_SUB      (1u << HIST_SUB_BITS)
#define HIST_BUCKETS  ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
	uint64_t n[HIST_BUCKETS];
};

struct worker {
	pthread_t thread;
	modbus_t *ctx;
	int index;
	int port;
	uint64_t ok, errors;
	int first_errno; /* 0 until the first failed request */
	struct hist lat;
};

struct options {
	const char *host;
	int port;
	int connections;
	double seconds;
	int registers;
	int unit;
	bool holding;
	const char *ports_file;
};

/* Read-only once the workers start. */
static struct options opt = {
        .host = "127.0.0.1",
        .port = -1,
        .connections = 1,
        .seconds = 5.0,
        .registers = 20,
        .unit = 1,
        .holding = false,
        .ports_file = NULL,
};
static struct timespec deadline;

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: modbus-load --host ADDR --port P [--connections N] "
	        "[--seconds S]\n"
	        "                   [--registers R] [--unit U] [--holding] "
	        "[--ports-file FILE]\n"
	        "\n"
	        "Each of N connections (own thread, own libmodbus context) "
	        "reads R input\n"
	        "registers (holding registers with --holding) from address 0 "
	        "back to back\n"
	        "for S seconds, then one JSON line is printed:\n"
	        "  {\"connections\":N,\"registers\":R,\"seconds\":S,"
	        "\"transactions\":T,\n"
	        "   \"transactions_per_s\":X,\"errors\":E,"
	        "\"latency_us_p50\":..,\"latency_us_p99\":..}\n"
	        "X is T over the measured wall time. Latencies are of "
	        "successful requests.\n"
	        "\n"
	        "  --host ADDR        server IPv4 address (default 127.0.0.1)\n"
	        "  --port P           server port\n"
	        "  --ports-file FILE  one port per line; connection i uses "
	        "line i mod K\n"
	        "  --connections N    1..%d (default 1)\n"
	        "  --seconds S        run time, > 0 (default 5)\n"
	        "  --registers R      1..%d (default 20)\n"
	        "  --unit U           unit identifier 0..255 (default 1)\n"
	        "  --holding          read holding registers (FC 03), "
	        "not input (FC 04)\n"
	        "\n"
	        "Exit status: 0, or 1 if a connection could not be opened or "
	        "no request\n"
	        "succeeded, 2 on a usage error.\n",
	        LOAD_MAX_CONNECTIONS, MODBUS_MAX_READ_REGISTERS);
}

/* A whole decimal integer in [lo, hi] (text_long); -1 if it is not one. */
static int parse_int(const char *s, long lo, long hi, int *out)
{
	long v;

	if (text_long(s, lo, hi, &v) == -1)
		return -1;
	*out = (int)v;
	return 0;
}

static int parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"host", required_argument, NULL, 'h'},
	        {"port", required_argument, NULL, 'p'},
	        {"connections", required_argument, NULL, 'c'},
	        {"seconds", required_argument, NULL, 's'},
	        {"registers", required_argument, NULL, 'r'},
	        {"unit", required_argument, NULL, 'u'},
	        {"holding", no_argument, NULL, 'H'},
	        {"ports-file", required_argument, NULL, 'f'},
	        {"help", no_argument, NULL, OPT_HELP},
	        {NULL, 0, NULL, 0},
	};
	char *end;
	int ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			opt.host = optarg;
			break;
		case 'p':
			if (parse_int(optarg, 1, 65535, &opt.port) == -1) {
				fprintf(stderr,
				        "modbus-load: --port: '%s' is "
				        "not a port (1..65535)\n",
				        optarg);
				return -1;
			}
			break;
		case 'c':
			if (parse_int(optarg, 1, LOAD_MAX_CONNECTIONS,
			              &opt.connections) == -1) {
				fprintf(stderr,
				        "modbus-load: --connections: "
				        "'%s' is not in 1..%d\n",
				        optarg, LOAD_MAX_CONNECTIONS);
				return -1;
			}
			break;
		case 's':
			errno = 0;
			opt.seconds = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !(opt.seconds > 0 && opt.seconds <= 86400)) {
				fprintf(stderr,
				        "modbus-load: --seconds: '%s' "
				        "is not in (0, 86400]\n",
				        optarg);
				return -1;
			}
			break;
		case 'r':
			if (parse_int(optarg, 1, MODBUS_MAX_READ_REGISTERS,
			              &opt.registers) == -1) {
				fprintf(stderr,
				        "modbus-load: --registers: "
				        "'%s' is not in 1..%d\n",
				        optarg, MODBUS_MAX_READ_REGISTERS);
				return -1;
			}
			break;
		case 'u':
			if (parse_int(optarg, 0, 255, &opt.unit) == -1) {
				fprintf(stderr,
				        "modbus-load: --unit: '%s' is "
				        "not in 0..255\n",
				        optarg);
				return -1;
			}
			break;
		case 'H':
			opt.holding = true;
			break;
		case 'f':
			opt.ports_file = optarg;
			break;
		case OPT_HELP:
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "modbus-load: unexpected argument '%s'\n",
		        argv[optind]);
		return -1;
	}
	if (opt.port == -1 && opt.ports_file == NULL) {
		fprintf(stderr, "modbus-load: --port or --ports-file is "
		                "required\n");
		return -1;
	}
	return 0;
}

/*
 * Read one port per line from path into ports (at most max). Blank lines
 * are skipped. Returns the count (>= 1), or -1 with a message.
 */
static int read_ports(const char *path, int *ports, int max)
{
	char line[64];
	FILE *f;
	int n = 0, lineno = 0;

	f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "modbus-load: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		line[strcspn(line, " \t\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if (n == max) {
			fprintf(stderr,
			        "modbus-load: %s:%d: more than %d "
			        "ports\n",
			        path, lineno, max);
			goto fail;
		}
		if (parse_int(line, 1, 65535, &ports[n]) == -1) {
			fprintf(stderr,
			        "modbus-load: %s:%d: '%s' is not a "
			        "port\n",
			        path, lineno, line);
			goto fail;
		}
		n++;
	}
	if (ferror(f)) {
		fprintf(stderr, "modbus-load: %s: read error\n", path);
		goto fail;
	}
	if (n == 0) {
		fprintf(stderr, "modbus-load: %s: no port in file\n", path);
		goto fail;
	}
	fclose(f);
	return n;
fail:
	fclose(f);
	return -1;
}

static unsigned hist_index(uint64_t v)
{
	unsigned msb, shift;

	if (v < HIST_SUB)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	shift = msb - HIST_SUB_BITS;
	return (shift + 1) * HIST_SUB +
	       (unsigned)((v >> shift) & (HIST_SUB - 1));
}

/* The midpoint of bucket i, in the histogram's unit. */
static double hist_value(unsigned i)
{
	unsigned shift;
	uint64_t lo;

	if (i < HIST_SUB)
		return (double)i;
	shift = i / HIST_SUB - 1;
	lo = ((uint64_t)HIST_SUB + i % HIST_SUB) << shift;
	return (double)lo + (double)((uint64_t)1 << shift) / 2.0;
}

/* The value below which a fraction q of the n samples fall. */
static double hist_quantile(const struct hist *h, uint64_t n, double q)
{
	uint64_t rank, seen = 0;
	unsigned i;

	if (n == 0)
		return 0.0;
	rank = (uint64_t)(q * (double)n);
	if (rank >= n)
		rank = n - 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->n[i];
		if (seen > rank)
			return hist_value(i);
	}
	return hist_value(HIST_BUCKETS - 1);
}

static uint64_t ts_ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return ts_ns(&t);
}

/* A link error (as opposed to a Modbus exception or a bad frame) needs a
 * new connection. */
static bool is_link_error(int e)
{
	return e < MODBUS_ENOBASE && e != ETIMEDOUT;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	uint16_t regs[MODBUS_MAX_READ_REGISTERS];
	uint64_t end = ts_ns(&deadline);
	bool connected = true;

	for (;;) {
		uint64_t t0 = now_ns(), t1;
		int rc;

		if (t0 >= end)
			break;
		if (!connected) {
			struct timespec pause = {0, LOAD_RECONNECT_NS};

			modbus_close(w->ctx);
			if (modbus_connect(w->ctx) == -1) {
				nanosleep(&pause, NULL);
				continue;
			}
			connected = true;
			continue;
		}
		if (opt.holding)
			rc = modbus_read_registers(w->ctx, 0, opt.registers,
			                           regs);
		else
			rc = modbus_read_input_registers(w->ctx, 0,
			                                 opt.registers, regs);
		t1 = now_ns();
		if (rc == opt.registers) {
			w->ok++;
			w->lat.n[hist_index(t1 - t0)]++;
			continue;
		}
		w->errors++;
		if (w->first_errno == 0)
			w->first_errno = rc == -1 ? errno : EMBBADDATA;
		if (rc == -1 && is_link_error(errno))
			connected = false;
		else if (modbus_flush(w->ctx) == -1)
			connected = false;
	}
	return NULL;
}

/* Create and connect the context of w; -1 with a message on failure. */
static int worker_connect(struct worker *w)
{
	w->ctx = modbus_new_tcp(opt.host, w->port);
	if (w->ctx == NULL) {
		fprintf(stderr, "modbus-load: %s:%d: %s\n", opt.host, w->port,
		        modbus_strerror(errno));
		return -1;
	}
	if (modbus_set_slave(w->ctx, opt.unit) == -1) {
		fprintf(stderr, "modbus-load: unit %d: %s\n", opt.unit,
		        modbus_strerror(errno));
		return -1;
	}
	if (modbus_connect(w->ctx) == -1) {
		fprintf(stderr, "modbus-load: connection %d to %s:%d: %s\n",
		        w->index, opt.host, w->port, modbus_strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static int ports[LOAD_MAX_PORTS];
	static struct hist total;
	struct worker *workers = NULL;
	struct timespec start;
	uint64_t ok = 0, errors = 0, elapsed;
	int nports = 1, started = 0, status = 1, i;
	unsigned b;

	if (parse_options(argc, argv) == -1) {
		fprintf(stderr, "Try 'modbus-load --help'.\n");
		return 2;
	}
	if (opt.ports_file != NULL) {
		nports = read_ports(opt.ports_file, ports, LOAD_MAX_PORTS);
		if (nports == -1)
			return 1;
	} else {
		ports[0] = opt.port;
	}

	workers = calloc((size_t)opt.connections, sizeof(*workers));
	if (workers == NULL) {
		fprintf(stderr, "modbus-load: out of memory\n");
		return 1;
	}
	for (i = 0; i < opt.connections; i++) {
		workers[i].index = i;
		workers[i].port = ports[i % nports];
		if (worker_connect(&workers[i]) == -1)
			goto out;
	}

	clock_gettime(CLOCK_MONOTONIC, &start);
	deadline = start;
	deadline.tv_sec += (time_t)opt.seconds;
	deadline.tv_nsec +=
	        (long)((opt.seconds - (double)(time_t)opt.seconds) * 1e9);
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	for (i = 0; i < opt.connections; i++) {
		int rc = pthread_create(&workers[i].thread, NULL, worker_run,
		                        &workers[i]);
		if (rc != 0) {
			fprintf(stderr, "modbus-load: pthread_create: %s\n",
			        strerror(rc));
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(workers[i].thread, NULL);
	elapsed = now_ns() - ts_ns(&start);
	if (started < opt.connections)
		goto out;

	for (i = 0; i < opt.connections; i++) {
		struct worker *w = &workers[i];

		ok += w->ok;
		errors += w->errors;
		for (b = 0; b < HIST_BUCKETS; b++)
			total.n[b] += w->lat.n[b];
		if (w->first_errno != 0)
			fprintf(stderr,
			        "modbus-load: connection %d: %" PRIu64
			        " errors, first: %s\n",
			        i, w->errors, modbus_strerror(w->first_errno));
	}
	printf("{\"connections\":%d,\"registers\":%d,\"seconds\":%g,"
	       "\"transactions\":%" PRIu64 ",\"transactions_per_s\":%.0f,"
	       "\"errors\":%" PRIu64 ",\"latency_us_p50\":%.1f,"
	       "\"latency_us_p99\":%.1f}\n",
	       opt.connections, opt.registers, opt.seconds, ok,
	       (double)ok * 1e9 / (double)elapsed, errors,
	       hist_quantile(&total, ok, 0.50) / 1000.0,
	       hist_quantile(&total, ok, 0.99) / 1000.0);
	if (fflush(stdout) == EOF) {
		fprintf(stderr, "modbus-load: stdout: %s\n", strerror(errno));
		goto out;
	}
	status = ok > 0 ? 0 : 1;
	if (ok == 0)
		fprintf(stderr, "modbus-load: no request succeeded\n");
out:
	for (i = 0; i < opt.connections; i++) {
		if (workers[i].ctx != NULL) {
			modbus_close(workers[i].ctx);
			modbus_free(workers[i].ctx);
		}
	}
	free(workers);
	return status;
}
