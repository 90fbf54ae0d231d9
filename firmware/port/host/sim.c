/*
 * sim.c - metrolog-sim: the instrument node firmware on POSIX.
 *
 * Runs the firmware's protocol core and register map (firmware/core) for N
 * simulated instruments whose channels follow a physics model (physics.c),
 * served over Modbus TCP (tcpsrv.c) and/or Modbus RTU on a pseudo-terminal
 * (rtu.c), with fault injection for tests (farm.c). This file parses and
 * validates the whole command line up front (bad arguments: one line on
 * stderr, exit 2), sets up the transports, writes the port file, and runs
 * the event loop until SIGTERM or SIGINT, then closes everything and
 * removes what it created (symlink, port file). Signals are read from a
 * signalfd on the loop, so their handling runs like any other event:
 * SIGUSR1 toggles mute, SIGUSR2 suspends and resumes the faults.
 *
 * Threading: one thread; every module runs on the event loop (loop.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "clk.h"
#include "farm.h"
#include "inst.h"
#include "log.h"
#include "loop.h"
#include "node.h"
#include "physics.h"
#include "rtu.h"
#include "tcpsrv.h"

#define EXIT_USAGE   2
#define DEFAULT_ADDR "127.0.0.1"

/* clang-format off */
static const char usage_text[] =
"metrolog-sim [OPTION]...\n"
"Transports (at least one):\n"
"  -t, --tcp [ADDR:]PORT     serve Modbus TCP on ADDR (default 127.0.0.1); PORT 0 picks a free port\n"
"  -r, --rtu PATH            serve Modbus RTU on a new pseudo-terminal whose slave side is linked at PATH\n"
"      --baud N              RTU baud rate used for the 3.5-character silence (default 19200)\n"
"      --port-file FILE      once serving, write the TCP port(s) to FILE, one per line (written to FILE.tmp then renamed, so a reader never sees half a file)\n"
"Instruments:\n"
"  -n, --instruments N       N instruments with unit ids 1..N (default 1, max 9999)\n"
"      --port-per-instrument instrument k listens on PORT+k-1 (or a free port each when PORT is 0) and answers any unit id\n"
"  -m, --channels M          channels per instrument, 1..64 (default 4)\n"
"  -c, --channel [U.]C:KEY=VAL[,KEY=VAL]...   physics of channel C (0-based) of unit U (default: every unit); repeatable, later wins. Keys: nominal (default 20+C), noise (standard deviation, default 0), drift (units per day, default 0), step (default 0), step_at (s of simulated time), lo, hi (measuring range), fault_at (s of simulated time: sensor fault from then on)\n"
"  -a, --accel X             time acceleration: X simulated seconds per real second (default 1)\n"
"      --clock-on-request    simulated time stays 0 until the first value is read, and starts then (tests whose model starts with the first poll)\n"
"      --seed N              noise seed (default 1)\n"
"      --serial-prefix S     serial numbers are S followed by the unit id as 4 digits (default \"SIM\")\n"
"Faults (for tests), applied to every unit unless --fault-unit is given:\n"
"      --fault-unit U        apply the faults below to unit U only\n"
"      --delay MS            delay every reply by MS milliseconds (other clients are still served meanwhile)\n"
"      --silent P            probability 0..1 that a request gets no reply\n"
"      --corrupt P           probability that a reply is corrupted (RTU: wrong CRC; TCP: wrong transaction id)\n"
"      --exception CODE      answer every request with exception CODE\n"
"      --drop-after N        close a TCP connection after its Nth request\n"
"Hostile device (for tests), applied like the faults above:\n"
"      --trickle MS          send each reply one byte every MS milliseconds (after --delay, if any)\n"
"      --wrong-unit          reply with another unit id (the request's + 1; 247 and above: 1)\n"
"      --wrong-function      reply with another function code (1<->2, 3<->4, ...)\n"
"      --wrong-count         reply with a byte count and data 2 bytes short (2 over when fewer than 2)\n"
"      --reset               TCP: send half of the reply, then reset the connection (RST)\n"
"      --garbage             TCP: answer with an endless stream of random bytes\n"
"  -v, --verbose             log each request to stderr\n"
"  -h, --help, -V, --version\n"
"Signals: SIGUSR1 toggles mute (no replies); SIGUSR2 suspends / resumes the faults and hostile behaviours;\n"
"SIGTERM or SIGINT stop cleanly.\n";
/* clang-format on */

struct opts {
	bool tcp;
	char tcp_addr[256];
	int tcp_port;
	const char *rtu;
	uint32_t baud;
	const char *port_file;
	unsigned ninst;
	bool per_inst;
	unsigned nch;
	struct phys_spec *spec; /* nspec parsed --channel arguments */
	const char **spec_arg;
	unsigned nspec;
	double accel;
	bool clock_on_request;
	uint64_t seed;
	const char *prefix;
	struct farm_faults faults;
	bool verbose;
};

/* Everything main() sets up, torn down by cleanup(). */
struct sim {
	struct loop *loop;
	struct farm *farm;
	struct tcpsrv *tcp;
	struct rtu *rtu;
	int sigfd;
	struct loop_watch sigwatch;
	int *ports;
	unsigned nports;
	bool port_file_written;
};

static struct sim sim = {.sigfd = -1};

enum {
	OPT_BAUD = 256,
	OPT_PORT_FILE,
	OPT_PER_INST,
	OPT_SEED,
	OPT_CLOCK_ON_REQUEST,
	OPT_SERIAL_PREFIX,
	OPT_DELAY,
	OPT_SILENT,
	OPT_CORRUPT,
	OPT_EXCEPTION,
	OPT_DROP_AFTER,
	OPT_FAULT_UNIT,
	OPT_TRICKLE,
	OPT_WRONG_UNIT,
	OPT_WRONG_FUNCTION,
	OPT_WRONG_COUNT,
	OPT_RESET,
	OPT_GARBAGE,
};

static const struct option long_opts[] = {
        {"tcp", required_argument, NULL, 't'},
        {"rtu", required_argument, NULL, 'r'},
        {"baud", required_argument, NULL, OPT_BAUD},
        {"port-file", required_argument, NULL, OPT_PORT_FILE},
        {"instruments", required_argument, NULL, 'n'},
        {"port-per-instrument", no_argument, NULL, OPT_PER_INST},
        {"channels", required_argument, NULL, 'm'},
        {"channel", required_argument, NULL, 'c'},
        {"accel", required_argument, NULL, 'a'},
        {"seed", required_argument, NULL, OPT_SEED},
        {"clock-on-request", no_argument, NULL, OPT_CLOCK_ON_REQUEST},
        {"serial-prefix", required_argument, NULL, OPT_SERIAL_PREFIX},
        {"delay", required_argument, NULL, OPT_DELAY},
        {"silent", required_argument, NULL, OPT_SILENT},
        {"corrupt", required_argument, NULL, OPT_CORRUPT},
        {"exception", required_argument, NULL, OPT_EXCEPTION},
        {"drop-after", required_argument, NULL, OPT_DROP_AFTER},
        {"fault-unit", required_argument, NULL, OPT_FAULT_UNIT},
        {"trickle", required_argument, NULL, OPT_TRICKLE},
        {"wrong-unit", no_argument, NULL, OPT_WRONG_UNIT},
        {"wrong-function", no_argument, NULL, OPT_WRONG_FUNCTION},
        {"wrong-count", no_argument, NULL, OPT_WRONG_COUNT},
        {"reset", no_argument, NULL, OPT_RESET},
        {"garbage", no_argument, NULL, OPT_GARBAGE},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
};

/* ---- command line ------------------------------------------------------- */

__attribute__((noreturn, format(printf, 2, 3))) static void
bad(const char *opt, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "metrolog-sim: %s: ", opt);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_USAGE);
}

static uint64_t parse_uint(const char *opt, const char *arg, uint64_t min,
                           uint64_t max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (arg[0] < '0' || arg[0] > '9')
		bad(opt, "'%s' is not a number", arg);
	v = strtoull(arg, &end, 10);
	if (*end != 0)
		bad(opt, "'%s' is not a number", arg);
	if (errno != 0 || v < min || v > max)
		bad(opt, "'%s' is not in %llu..%llu", arg,
		    (unsigned long long)min, (unsigned long long)max);
	return v;
}

static double parse_real(const char *opt, const char *arg, double min,
                         double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (end == arg || *end != 0 || errno != 0 || !isfinite(v))
		bad(opt, "'%s' is not a number", arg);
	if (v < min || v > max)
		bad(opt, "'%s' is not in %g..%g", arg, min, max);
	return v;
}

/* [ADDR:]PORT, ADDR may be [v6]. */
static void parse_tcp(struct opts *o, const char *arg)
{
	const char *colon = strrchr(arg, ':');
	const char *port = arg;
	size_t alen;

	snprintf(o->tcp_addr, sizeof(o->tcp_addr), "%s", DEFAULT_ADDR);
	if (colon != NULL) {
		const char *a = arg;

		alen = (size_t)(colon - arg);
		if (alen >= 2 && a[0] == '[' && a[alen - 1] == ']') {
			a++;
			alen -= 2;
		}
		if (alen == 0 || alen >= sizeof(o->tcp_addr))
			bad("--tcp", "'%s': expected [ADDR:]PORT", arg);
		memcpy(o->tcp_addr, a, alen);
		o->tcp_addr[alen] = 0;
		port = colon + 1;
	}
	if (*port == 0)
		bad("--tcp", "'%s': expected [ADDR:]PORT", arg);
	o->tcp_port = (int)parse_uint("--tcp", port, 0, 65535);
	o->tcp = true;
}

static void parse_prefix(struct opts *o, const char *arg)
{
	const char *p;

	if (strlen(arg) > INST_SERIAL_PREFIX_MAX)
		bad("--serial-prefix", "'%s' is longer than %d characters", arg,
		    INST_SERIAL_PREFIX_MAX);
	for (p = arg; *p != 0; p++)
		if (*p < 0x21 || *p > 0x7e)
			bad("--serial-prefix",
			    "'%s': only printable ASCII without spaces", arg);
	o->prefix = arg;
}

static void parse_channel(struct opts *o, const char *arg)
{
	char err[160];

	if (phys_spec_parse(arg, &o->spec[o->nspec], err, sizeof(err)) < 0)
		bad("--channel", "'%s': %s", arg, err);
	o->spec_arg[o->nspec++] = arg;
}

/* The option as the user wrote it, for error messages. */
static const char *opt_name(char *const argv[], int optind_now)
{
	const char *a = argv[optind_now - 1];

	return a != NULL ? a : "?";
}

/* The defaults, and room for one --channel per argument. */
static void opts_init(struct opts *o, int argc)
{
	memset(o, 0, sizeof(*o));
	o->baud = 19200;
	o->ninst = 1;
	o->nch = 4;
	o->accel = 1.0;
	o->seed = 1;
	o->prefix = "SIM";
	o->spec = calloc((size_t)argc, sizeof(*o->spec));
	o->spec_arg = calloc((size_t)argc, sizeof(*o->spec_arg));
	if (o->spec == NULL || o->spec_arg == NULL) {
		perror("metrolog-sim");
		exit(1);
	}
}

/* A hostile-device switch ch; false when ch is not one. */
static bool opt_hostile(struct opts *o, int ch)
{
	switch (ch) {
	case OPT_WRONG_UNIT:
		o->faults.wrong_unit = true;
		return true;
	case OPT_WRONG_FUNCTION:
		o->faults.wrong_function = true;
		return true;
	case OPT_WRONG_COUNT:
		o->faults.wrong_count = true;
		return true;
	case OPT_RESET:
		o->faults.reset = true;
		return true;
	case OPT_GARBAGE:
		o->faults.garbage = true;
		return true;
	}
	return false;
}

/* A fault injection option ch with its argument; false when ch is not one. */
static bool opt_fault(struct opts *o, int ch, const char *arg)
{
	switch (ch) {
	case OPT_DELAY:
		o->faults.delay_ms =
		        (uint32_t)parse_uint("--delay", arg, 0, 3600000);
		return true;
	case OPT_SILENT:
		o->faults.silent = parse_real("--silent", arg, 0, 1);
		return true;
	case OPT_CORRUPT:
		o->faults.corrupt = parse_real("--corrupt", arg, 0, 1);
		return true;
	case OPT_EXCEPTION:
		o->faults.exception =
		        (uint8_t)parse_uint("--exception", arg, 1, 255);
		return true;
	case OPT_DROP_AFTER:
		o->faults.drop_after = (uint32_t)parse_uint("--drop-after", arg,
		                                            1, UINT32_MAX);
		return true;
	case OPT_FAULT_UNIT:
		o->faults.unit = (unsigned)parse_uint("--fault-unit", arg, 1,
		                                      FARM_MAX_INSTRUMENTS);
		return true;
	case OPT_TRICKLE:
		o->faults.trickle_ms =
		        (uint32_t)parse_uint("--trickle", arg, 1, 3600000);
		return true;
	}
	return opt_hostile(o, ch);
}

/* Checks across options; exits on the first that fails. */
static void opts_check(const struct opts *o)
{
	if (!o->tcp && o->rtu == NULL)
		bad("no transport", "give --tcp [ADDR:]PORT or --rtu PATH");
	if (o->per_inst && !o->tcp)
		bad("--port-per-instrument", "needs --tcp");
	if (o->per_inst && o->tcp_port != 0 &&
	    o->tcp_port + (int)o->ninst - 1 > 65535)
		bad("--port-per-instrument", "ports %d..%d go past 65535",
		    o->tcp_port, o->tcp_port + (int)o->ninst - 1);
	if (o->port_file != NULL && !o->tcp)
		bad("--port-file", "needs --tcp");
	if (o->faults.reset && !o->tcp)
		bad("--reset", "needs --tcp");
	if (o->faults.garbage && !o->tcp)
		bad("--garbage", "needs --tcp");
	if (o->faults.unit > o->ninst)
		bad("--fault-unit", "unit %u is not in 1..%u", o->faults.unit,
		    o->ninst);
	for (unsigned i = 0; i < o->nspec; i++) {
		if (o->spec[i].unit > o->ninst)
			bad("--channel", "'%s': unit %u is not in 1..%u",
			    o->spec_arg[i], o->spec[i].unit, o->ninst);
		if (o->spec[i].ch >= o->nch)
			bad("--channel", "'%s': channel %u is not in 0..%u",
			    o->spec_arg[i], o->spec[i].ch, o->nch - 1);
	}
}

/* The command line into o; exits with a message on a bad one. */
static void parse_args(struct opts *o, int argc, char *argv[])
{
	int ch;

	opts_init(o, argc);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":t:r:n:m:c:a:vhV", long_opts,
	                         NULL)) != -1) {
		if (opt_fault(o, ch, optarg))
			continue;
		switch (ch) {
		case 't':
			parse_tcp(o, optarg);
			break;
		case 'r':
			if (*optarg == 0)
				bad("--rtu", "empty path");
			o->rtu = optarg;
			break;
		case OPT_BAUD:
			o->baud = (uint32_t)parse_uint("--baud", optarg, 50,
			                               4000000);
			break;
		case OPT_PORT_FILE:
			if (*optarg == 0 || strlen(optarg) > PATH_MAX - 8)
				bad("--port-file", "bad path '%s'", optarg);
			o->port_file = optarg;
			break;
		case 'n':
			o->ninst =
			        (unsigned)parse_uint("--instruments", optarg, 1,
			                             FARM_MAX_INSTRUMENTS);
			break;
		case OPT_PER_INST:
			o->per_inst = true;
			break;
		case 'm':
			o->nch = (unsigned)parse_uint("--channels", optarg, 1,
			                              NODE_MAX_CHANNELS);
			break;
		case 'c':
			parse_channel(o, optarg);
			break;
		case 'a':
			o->accel = parse_real("--accel", optarg, 1e-6, 1e9);
			break;
		case OPT_CLOCK_ON_REQUEST:
			o->clock_on_request = true;
			break;
		case OPT_SEED:
			o->seed = parse_uint("--seed", optarg, 0, UINT64_MAX);
			break;
		case OPT_SERIAL_PREFIX:
			parse_prefix(o, optarg);
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case 'V':
			printf("metrolog-sim %s\n", METROLOG_VERSION);
			exit(0);
		case ':':
			bad(opt_name(argv, optind), "needs an argument");
		default:
			bad(opt_name(argv, optind), "unknown option");
		}
	}
	if (optind < argc)
		bad(argv[optind], "unexpected argument");
	opts_check(o);
}

/* ---- signals ------------------------------------------------------------ */

static void signal_event(struct loop_watch *w, uint32_t events)
{
	struct signalfd_siginfo si;

	(void)w;
	(void)events;
	while (read(sim.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGUSR1) {
			log_info("SIGUSR1: %s", farm_toggle_mute(sim.farm)
			                                ? "muted"
			                                : "unmuted");
		} else if (si.ssi_signo == SIGUSR2) {
			log_info("SIGUSR2: faults %s",
			         farm_toggle_faults(sim.farm) ? "suspended"
			                                      : "resumed");
		} else {
			log_info("%s: stopping",
			         si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
			loop_stop(sim.loop);
		}
	}
}

static int setup_signals(void)
{
	sigset_t set;

	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return -1;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	sim.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sim.sigfd < 0)
		return -1;
	sim.sigwatch.fn = signal_event;
	return loop_add(sim.loop, sim.sigfd, EPOLLIN, &sim.sigwatch);
}

/* ---- setup -------------------------------------------------------------- */

/* Raise the descriptor limit to the hard one; return how many connections
 * fit beside nlisteners listeners. */
static unsigned conn_budget(unsigned nlisteners)
{
	struct rlimit rl;
	rlim_t room;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 256;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	room = rl.rlim_cur > nlisteners + 64 ? rl.rlim_cur - nlisteners - 64
	                                     : 16;
	return room < TCPSRV_MAX_CONNS ? (unsigned)room : TCPSRV_MAX_CONNS;
}

static int setup_tcp(const struct opts *o)
{
	unsigned i, n = o->per_inst ? o->ninst : 1;
	unsigned budget = conn_budget(n);

	if (budget < TCPSRV_MAX_CONNS)
		log_info("tcp: descriptor limit allows %u connections", budget);
	sim.tcp = tcpsrv_new(sim.loop, sim.farm, budget);
	sim.ports = calloc(n, sizeof(*sim.ports));
	if (sim.tcp == NULL || sim.ports == NULL) {
		log_warn("tcp");
		return -1;
	}
	for (i = 0; i < n; i++) {
		int port = o->tcp_port == 0 ? 0 : o->tcp_port + (int)i;
		int route = o->per_inst ? (int)i : FARM_TCP_SHARED;

		sim.ports[i] = tcpsrv_listen(sim.tcp, o->tcp_addr, port, route);
		if (sim.ports[i] < 0)
			return -1;
		sim.nports++;
	}
	return 0;
}

static int write_port_file(const char *path)
{
	char tmp[PATH_MAX];
	unsigned i;
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fp = fopen(tmp, "w");
	if (fp == NULL) {
		log_warn("--port-file: %s", tmp);
		return -1;
	}
	for (i = 0; i < sim.nports; i++)
		fprintf(fp, "%d\n", sim.ports[i]);
	if (fclose(fp) != 0) {
		log_warn("--port-file: %s", tmp);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		log_warn("--port-file: rename %s", tmp);
		unlink(tmp);
		return -1;
	}
	sim.port_file_written = true;
	return 0;
}

static void log_serving(const struct opts *o)
{
	unsigned i;
	bool contiguous = true;

	if (o->tcp && !o->per_inst) {
		log_info("serving %u instruments x %u channels on tcp %s:%d",
		         o->ninst, o->nch, o->tcp_addr, sim.ports[0]);
	} else if (o->tcp) {
		for (i = 1; i < sim.nports; i++)
			if (sim.ports[i] != sim.ports[0] + (int)i)
				contiguous = false;
		if (contiguous)
			log_info("serving %u instruments x %u channels on tcp "
			         "%s:%d..%d, one port per instrument",
			         o->ninst, o->nch, o->tcp_addr, sim.ports[0],
			         sim.ports[sim.nports - 1]);
		else
			log_info("serving %u instruments x %u channels on tcp "
			         "%s, one port per instrument: %d (unit 1) to "
			         "%d (unit %u)%s%s",
			         o->ninst, o->nch, o->tcp_addr, sim.ports[0],
			         sim.ports[sim.nports - 1], sim.nports,
			         o->port_file ? ", listed in " : "",
			         o->port_file ? o->port_file : "");
	}
	if (o->rtu != NULL)
		log_info("serving %u instruments x %u channels on rtu %s (%s), "
		         "%u baud",
		         o->ninst, o->nch, o->rtu, rtu_device(sim.rtu),
		         o->baud);
	if (o->tcp && !o->per_inst && o->ninst > 255)
		log_info("tcp: unit ids are one byte: only units 1..255 are "
		         "reachable on a shared port");
}

static void cleanup(const struct opts *o)
{
	tcpsrv_free(sim.tcp);
	rtu_close(sim.rtu);
	if (sim.sigfd >= 0)
		close(sim.sigfd);
	loop_free(sim.loop);
	farm_free(sim.farm);
	free(sim.ports);
	if (sim.port_file_written && unlink(o->port_file) < 0)
		log_warn("unlink %s", o->port_file);
	free(o->spec);
	free(o->spec_arg);
}

int main(int argc, char *argv[])
{
	struct opts o;
	char err[192];
	unsigned i;
	int rc = 1;

	parse_args(&o, argc, argv);
	log_init(o.verbose);
	clk_init(o.accel);
	if (o.clock_on_request)
		clk_hold();

	sim.farm = farm_new(o.ninst, o.nch, o.prefix, o.seed, &o.faults);
	if (sim.farm == NULL) {
		log_warn("instruments");
		goto out;
	}
	for (i = 0; i < o.nspec; i++)
		farm_apply(sim.farm, &o.spec[i]);
	if (farm_commit(sim.farm, err, sizeof(err)) < 0) {
		fprintf(stderr, "metrolog-sim: --channel: %s\n", err);
		rc = EXIT_USAGE;
		goto out;
	}
	sim.loop = loop_new();
	if (sim.loop == NULL) {
		log_warn("event loop");
		goto out;
	}
	if (setup_signals() < 0) {
		log_warn("signals");
		goto out;
	}
	if (o.tcp && setup_tcp(&o) < 0)
		goto out;
	if (o.rtu != NULL) {
		sim.rtu = rtu_open(sim.loop, sim.farm, o.rtu, o.baud);
		if (sim.rtu == NULL)
			goto out;
	}
	if (o.port_file != NULL && write_port_file(o.port_file) < 0)
		goto out;
	log_serving(&o);
	if (loop_run(sim.loop) < 0) {
		log_warn("epoll_wait");
		goto out;
	}
	rc = 0;
out:
	cleanup(&o);
	return rc;
}
