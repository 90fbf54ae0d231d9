/*
 * metrolog - the command-line tool of technicians and enterprises.
 *
 * This file holds the dispatcher and the commands on a live instrument:
 *   read   read a block of registers or bits from a live instrument and print
 *          it decoded, once or every N seconds
 *   probe  read a block of registers once and print every interpretation
 *          (each type in each byte order), to find the settings of a new
 *          instrument
 * The others live beside it: calc.c (conformity, interval), records.c
 * (instruments, channels, due, readings, events, report), calibrate.c
 * (calibrate, calibrations, verify), certificate.c and trend.c; tool.h
 * declares them and their exit codes.
 *
 * Single-threaded. Exit codes: 0 success, 1 a request failed, 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "calc.h"
#include "decode.h"
#include "tool.h"
#include "utc.h"

#define MAX_UNITS 64
#define MAX_WORDS 2000

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: metrolog COMMAND [OPTION]...\n"
	        "The metrolog tool: instruments, readings and calibration "
	        "records.\n\n"
	        "Commands on a live instrument:\n"
	        "  read          read registers or bits and print them "
	        "decoded\n"
	        "  probe         read registers once and print every type in "
	        "every byte order\n"
	        "Commands on the gateway's database (-d FILE, or "
	        "$METROLOG_DB):\n"
	        "  instruments   instruments and standards: state, last "
	        "reading, calibration due\n"
	        "  channels      channels: last reading, tolerance, live "
	        "state\n"
	        "  due           the worklist: calibrations overdue or due "
	        "soon\n"
	        "  readings      export readings as CSV or JSON Lines\n"
	        "  events        online/offline, tolerance, drift and trend "
	        "events\n"
	        "  report        monthly summary per instrument\n"
	        "  calibrate     record a calibration (append-only, "
	        "hash-chained)\n"
	        "  calibrations  list the calibration records, or show one\n"
	        "  certificate   the calibration certificate of a record, as "
	        "PDF\n"
	        "  trend         a channel's error over time, as SVG or PNG\n"
	        "  verify        check the audit chain and a certificate's "
	        "hash\n"
	        "Calculators:\n"
	        "  conformity    decide the conformity of one result "
	        "(ILAC-G8) and its\n"
	        "                probability of conformance\n"
	        "  interval      suggest a calibration interval from a "
	        "calibration-history CSV\n\n"
	        "Options:\n"
	        "  -h, --help     show this help (metrolog COMMAND --help for "
	        "a command)\n"
	        "  -V, --version  show the version\n\n"
	        "Exit status: 0 success, 1 a request failed (unknown id, "
	        "database error),\n2 bad usage, 4 verify found the chain or "
	        "a certificate altered.\n");
}

static void probe_usage(FILE *f)
{
	fprintf(f,
	        "Usage: metrolog probe (--tcp HOST:PORT | --rtu DEVICE) "
	        "[OPTION]...\n"
	        "Read a block of registers once and print every "
	        "interpretation: each register as\nhex, uint16, int16, BCD "
	        "and text; every 32-bit value (uint32, int32, float32) and\n"
	        "every 64-bit value (int64, float64) starting at each address, "
	        "in each byte\norder. Find the row that shows the value the "
	        "instrument displays, and put its\naddress, type and order in "
	        "the configuration.\n\n"
	        "Options: --tcp, --rtu, --serial, --unit (one), --timeout, "
	        "--table (input or\nholding), --address or --register, --count "
	        "(registers, default 8, at most 125),\nas for 'metrolog "
	        "read'.\n");
}

static void read_usage(FILE *f)
{
	fprintf(f,
	        "Usage: metrolog read (--tcp HOST:PORT | --rtu DEVICE) "
	        "[OPTION]...\n"
	        "Read a block from a live Modbus instrument and print it "
	        "decoded, one line per unit\nand poll: UTC time, unit id, "
	        "values.\n\n"
	        "Connection:\n"
	        "  -t, --tcp HOST:PORT    Modbus TCP instrument or gateway\n"
	        "  -r, --rtu DEVICE       Modbus RTU on a serial line "
	        "(e.g. /dev/ttyUSB0)\n"
	        "      --serial B,P,D,S   baud, parity N/E/O, data bits, stop "
	        "bits (default 19200,E,8,1)\n"
	        "  -u, --unit N[,N...]    unit ids (default 1)\n"
	        "      --timeout MS       response timeout in milliseconds "
	        "(default 500)\n"
	        "What to read:\n"
	        "  -T, --table T          input, holding, coil or discrete "
	        "(default input)\n"
	        "  -a, --address A        0-based protocol address (default "
	        "0)\n"
	        "  -R, --register NUMBER  or a manual's register number: "
	        "30001 is input register\n"
	        "                         address 0, 40001 holding register 0, "
	        "6 digits also work\n"
	        "  -n, --count N          number of values (default 1)\n"
	        "  -y, --type TYPE        bit, int16, uint16, int32, uint32, "
	        "int64, uint64, float32,\n"
	        "                         float64, bcd16, bcd32 (default "
	        "float32; bit for coils and\n"
	        "                         discrete inputs)\n"
	        "  -o, --order ORDER      byte order: ABCD (big-endian), CDAB, "
	        "BADC, DCBA, or one of\n"
	        "                         the eight 64-bit orders such as "
	        "GHEFCDAB (default ABCD)\n"
	        "      --scale S, --offset O  value = raw * S + O (default 1, "
	        "0)\n"
	        "When:\n"
	        "  -e, --every SECONDS    repeat every SECONDS (decimals "
	        "allowed) until interrupted\n"
	        "  -c, --times N          stop after N polls (every second "
	        "unless "
	        "--every)\n");
}

struct read_opts {
	struct bus_params bus;
	char host[256];
	int units[MAX_UNITS], nunits;
	enum bus_table table;
	uint16_t addr;
	unsigned count;
	struct decode_spec spec;
	double every_s;
	long times;
};

static int bad(const char *opt, const char *arg, const char *why)
{
	fprintf(stderr, "metrolog read: %s '%s': %s\n", opt, arg, why);
	return -1;
}

static int parse_hostport(struct read_opts *o, const char *arg)
{
	const char *colon = strrchr(arg, ':');
	long port;

	if (colon == NULL || colon == arg ||
	    (size_t)(colon - arg) >= sizeof(o->host) ||
	    tool_parse_long(colon + 1, 1, 65535, &port) == -1)
		return bad("--tcp", arg, "expected HOST:PORT, port 1..65535");
	memcpy(o->host, arg, (size_t)(colon - arg));
	o->host[colon - arg] = '\0';
	o->bus.kind = BUS_TCP;
	o->bus.host = o->host;
	o->bus.port = (int)port;
	return 0;
}

static int parse_units(struct read_opts *o, const char *arg)
{
	char copy[512], *save = NULL;
	long u;

	snprintf(copy, sizeof(copy), "%s", arg);
	o->nunits = 0;
	for (char *t = strtok_r(copy, ",", &save); t != NULL;
	     t = strtok_r(NULL, ",", &save)) {
		if (o->nunits == MAX_UNITS ||
		    tool_parse_long(t, 0, 255, &u) == -1)
			return bad("--unit", arg,
			           "expected unit ids 0..255, comma separated");
		o->units[o->nunits++] = (int)u;
	}
	return o->nunits > 0 ? 0 : bad("--unit", arg, "no unit id");
}

static int parse_serial(struct read_opts *o, const char *arg)
{
	char parity;
	int baud, data, stop_bits, n = 0;

	if (sscanf(arg, "%d,%c,%d,%d%n", &baud, &parity, &data, &stop_bits,
	           &n) != 4 ||
	    arg[n] != '\0' || baud <= 0 || strchr("NEO", parity) == NULL ||
	    data < 5 || data > 8 || stop_bits < 1 || stop_bits > 2)
		return bad(
		        "--serial", arg,
		        "expected BAUD,PARITY,DATA,STOP such as 19200,E,8,1");
	o->bus.baud = baud;
	o->bus.parity = parity;
	o->bus.data_bits = data;
	o->bus.stop_bits = stop_bits;
	return 0;
}

static int parse_table(struct read_opts *o, const char *arg)
{
	if (mbaddr_table_parse(arg, &o->table) == 0)
		return 0;
	return bad("--table", arg,
	           "expected input, holding, coil or discrete (or "
	           "input_registers, holding_registers, coils, "
	           "discrete_inputs)");
}

static int parse_read(struct read_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"tcp", required_argument, NULL, 't'},
	        {"rtu", required_argument, NULL, 'r'},
	        {"serial", required_argument, NULL, 's'},
	        {"unit", required_argument, NULL, 'u'},
	        {"timeout", required_argument, NULL, 'W'},
	        {"table", required_argument, NULL, 'T'},
	        {"address", required_argument, NULL, 'a'},
	        {"register", required_argument, NULL, 'R'},
	        {"count", required_argument, NULL, 'n'},
	        {"type", required_argument, NULL, 'y'},
	        {"order", required_argument, NULL, 'o'},
	        {"scale", required_argument, NULL, 'S'},
	        {"offset", required_argument, NULL, 'O'},
	        {"every", required_argument, NULL, 'e'},
	        {"times", required_argument, NULL, 'c'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *type = NULL, *order = "ABCD";
	double scale = 1, offset = 0;
	bool have_bus = false;
	long v;
	int c;

	memset(o, 0, sizeof(*o));
	o->bus = (struct bus_params){.kind = BUS_TCP,
	                             .baud = 19200,
	                             .parity = 'E',
	                             .data_bits = 8,
	                             .stop_bits = 1,
	                             .timeout_ms = 500};
	o->units[0] = 1;
	o->nunits = 1;
	o->table = BUS_INPUT_REGISTERS;
	o->count = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "t:r:u:T:a:R:n:y:o:e:c:h", longopts,
	                        NULL)) != -1) {
		char *end;
		switch (c) {
		case 't':
			if (parse_hostport(o, optarg) == -1)
				return -1;
			have_bus = true;
			break;
		case 'r':
			o->bus.kind = BUS_RTU;
			o->bus.device = optarg;
			have_bus = true;
			break;
		case 's':
			if (parse_serial(o, optarg) == -1)
				return -1;
			break;
		case 'u':
			if (parse_units(o, optarg) == -1)
				return -1;
			break;
		case 'W':
			if (tool_parse_long(optarg, 1, 600000, &v) == -1)
				return bad("--timeout", optarg,
				           "expected 1..600000 milliseconds");
			o->bus.timeout_ms = (int)v;
			break;
		case 'T':
			if (parse_table(o, optarg) == -1)
				return -1;
			break;
		case 'a':
			if (tool_parse_long(optarg, 0, 65535, &v) == -1)
				return bad(
				        "--address", optarg,
				        "expected a 0-based address 0..65535");
			o->addr = (uint16_t)v;
			break;
		case 'R':
			if (mbaddr_register_number(optarg, &o->table,
			                           &o->addr) == -1)
				return bad("--register", optarg,
				           "expected a number such as 30001 "
				           "(input register 0) or 400001");
			break;
		case 'n':
			if (tool_parse_long(optarg, 1, MAX_WORDS, &v) == -1)
				return bad("--count", optarg,
				           "expected 1..2000 values");
			o->count = (unsigned)v;
			break;
		case 'y':
			type = optarg;
			break;
		case 'o':
			order = optarg;
			break;
		case 'S':
		case 'O':
			errno = 0;
			double d = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0')
				return bad(c == 'S' ? "--scale" : "--offset",
				           optarg, "expected a number");
			*(c == 'S' ? &scale : &offset) = d;
			break;
		case 'e':
			errno = 0;
			o->every_s = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !(o->every_s >= 0.01 && o->every_s <= 86400))
				return bad("--every", optarg,
				           "expected 0.01..86400 seconds");
			break;
		case 'c':
			if (tool_parse_long(optarg, 1, 1000000000, &v) == -1)
				return bad("--times", optarg,
				           "expected a count of polls >= 1");
			o->times = v;
			break;
		case 'h':
			read_usage(stdout);
			exit(0);
		default:
			fprintf(stderr, "Try 'metrolog read --help'.\n");
			return -1;
		}
	}
	if (optind < argc)
		return bad("argument", argv[optind], "unexpected");
	if (o->times > 1 && o->every_s == 0)
		o->every_s = 1;
	if (!have_bus) {
		fprintf(stderr, "metrolog read: say where the instrument is: "
		                "--tcp HOST:PORT or --rtu DEVICE\n");
		return -1;
	}
	bool bits = o->table == BUS_COILS || o->table == BUS_DISCRETE_INPUTS;
	enum decode_type t = bits ? DECODE_BIT : DECODE_FLOAT32;
	if (type != NULL && (decode_type_parse(type, &t) == -1 ||
	                     t == DECODE_STRING || (bits && t != DECODE_BIT)))
		return bad("--type", type,
		           bits ? "coils and discrete inputs are read as bit"
		                : "unknown type (see --help)");
	decode_spec_init(&o->spec, t);
	if (decode_order_parse(&o->spec, order) == -1)
		return bad("--order", order, "not a byte order for this type");
	o->spec.scale = scale;
	o->spec.offset = offset;
	unsigned words = t == DECODE_BIT ? 1 : decode_words(&o->spec);
	unsigned limit = bits ? 2000 : 125;
	if (o->count * words > limit)
		return bad("--count", "",
		           "more than one request can read "
		           "(125 registers or 2000 bits)");
	if ((unsigned)o->addr + o->count * words > 0x10000)
		return bad("--address", "",
		           "the block runs past address 65535");
	if (t == DECODE_BIT && !bits)
		o->spec.bit = 0; /* bit 0 of each register */
	return 0;
}

static void print_time(void)
{
	char buf[UTC_US_SIZE];

	utc_format(tool_now_us(), 3, buf, sizeof(buf));
	fputs(buf, stdout);
}

/* One poll of one unit: a line of values, or of the error. */
static int read_once(struct bus *b, const struct read_opts *o, int unit)
{
	uint16_t regs[MAX_WORDS];
	unsigned words =
	        o->spec.type == DECODE_BIT ? 1 : decode_words(&o->spec);
	int rc = bus_read(b, unit, o->table, o->addr,
	                  (uint16_t)(o->count * words), regs);

	print_time();
	printf(" unit %d:", unit);
	if (rc == -1) {
		printf(" error: %s\n", bus_last_message(b));
		return -1;
	}
	/* float32 carries about 7 significant digits: print no more */
	int digits = o->spec.type == DECODE_FLOAT32 ? 7 : 15;
	for (unsigned i = 0; i < o->count; i++) {
		double v;
		if (decode_value(&o->spec, regs + i * words, &v) == 0)
			printf(" %.*g", digits, v);
		else
			printf(" invalid");
	}
	printf("\n");
	return 0;
}

static void sleep_until(struct timespec *next, double every_s)
{
	long long ns = next->tv_nsec + (long long)(every_s * 1e9);

	next->tv_sec += (time_t)(ns / 1000000000LL);
	next->tv_nsec = (long)(ns % 1000000000LL);
	while (!stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next,
	                                NULL) == EINTR)
		;
}

static int cmd_read(int argc, char **argv)
{
	struct read_opts o;
	char err[256];
	int failed = 0;

	if (parse_read(&o, argc, argv) == -1)
		return 2;
	struct bus *b = bus_new(&o.bus, err, sizeof(err));
	if (b == NULL) {
		fprintf(stderr, "metrolog read: %s\n", err);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (long polls = 0; !stop; polls++) {
		if (o.times > 0 && polls == o.times)
			break;
		if (polls > 0 && o.every_s == 0)
			break;
		if (polls > 0)
			sleep_until(&next, o.every_s);
		for (int i = 0; i < o.nunits && !stop; i++)
			if (read_once(b, &o, o.units[i]) == -1)
				failed = 1;
		fflush(stdout);
	}
	bus_free(b);
	return failed;
}

static void probe_print(const uint16_t *regs, unsigned n, uint16_t addr)
{
	static const char *const orders32[] = {"ABCD", "CDAB", "BADC", "DCBA"};
	static const char *const orders64[] = {
	        "ABCDEFGH", "GHEFCDAB", "BADCFEHG", "HGFEDCBA",
	        "CDABGHEF", "EFGHABCD", "DCBAHGFE", "FEHGBADC"};
	struct decode_spec s;
	double v;

	printf("address  hex     uint16   int16   bcd16  text\n");
	for (unsigned i = 0; i < n; i++) {
		char text[3] = {(char)(regs[i] >> 8), (char)(regs[i] & 0xFF),
		                0};
		for (int k = 0; k < 2; k++)
			if (text[k] < 0x20 || text[k] > 0x7E)
				text[k] = '.';
		char bcd[8] = "-";
		decode_spec_init(&s, DECODE_BCD16);
		if (decode_value(&s, regs + i, &v) == 0)
			snprintf(bcd, sizeof(bcd), "%04.0f", v);
		printf("%-7u  0x%04X  %-7u  %-6d  %-5s  %s\n", addr + i,
		       regs[i], regs[i], (int16_t)regs[i], bcd, text);
	}
	if (n >= 2)
		printf("\naddress  order     hex         uint32      int32     "
		       "   "
		       "float32\n");
	for (unsigned i = 0; i + 2 <= n; i++) {
		for (size_t k = 0; k < 4; k++) {
			decode_spec_init(&s, DECODE_UINT32);
			decode_order_parse(&s, orders32[k]);
			uint32_t raw = (uint32_t)decode_raw(&s, regs + i);
			float f;
			memcpy(&f, &raw, sizeof(f));
			printf("%-7u  %-8s  0x%08X  %-10u  %-11d  %.7g\n",
			       addr + i, orders32[k], raw, raw, (int32_t)raw,
			       (double)f);
		}
	}
	if (n >= 4)
		printf("\naddress  order     hex                 int64         "
		       "  "
		       "      float64\n");
	for (unsigned i = 0; i + 4 <= n; i++) {
		for (size_t k = 0; k < 8; k++) {
			decode_spec_init(&s, DECODE_INT64);
			decode_order_parse(&s, orders64[k]);
			uint64_t raw = decode_raw(&s, regs + i);
			double d;
			memcpy(&d, &raw, sizeof(d));
			printf("%-7u  %-8s  0x%016llX  %-20lld  %.15g\n",
			       addr + i, orders64[k], (unsigned long long)raw,
			       (long long)raw, d);
		}
	}
}

static int cmd_probe(int argc, char **argv)
{
	struct read_opts o;
	uint16_t regs[MAX_WORDS];
	char err[256];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			probe_usage(stdout);
			return 0;
		}
	}
	if (parse_read(&o, argc, argv) == -1)
		return 2;
	bool count_given = false;
	for (int i = 1; i < argc; i++)
		count_given |= strcmp(argv[i], "--count") == 0 ||
		               strcmp(argv[i], "-n") == 0;
	if (!count_given)
		o.count = 8;
	if (o.table != BUS_INPUT_REGISTERS &&
	    o.table != BUS_HOLDING_REGISTERS) {
		fprintf(stderr, "metrolog probe: registers only: --table input "
		                "or holding\n");
		return 2;
	}
	if (o.count > 125 || (unsigned)o.addr + o.count > 0x10000) {
		fprintf(stderr,
		        "metrolog probe: --count: at most 125 registers, "
		        "within addresses 0..65535\n");
		return 2;
	}
	if (o.nunits != 1) {
		fprintf(stderr, "metrolog probe: one --unit at a time\n");
		return 2;
	}
	struct bus *b = bus_new(&o.bus, err, sizeof(err));
	if (b == NULL) {
		fprintf(stderr, "metrolog probe: %s\n", err);
		return 2;
	}
	int rc = bus_read(b, o.units[0], o.table, o.addr, (uint16_t)o.count,
	                  regs);
	if (rc == -1) {
		fprintf(stderr, "metrolog probe: %s unit %d: %s\n", bus_name(b),
		        o.units[0], bus_last_message(b));
		bus_free(b);
		return 1;
	}
	printf("%s unit %d, %s registers %u..%u (0-based addresses):\n\n",
	       bus_name(b), o.units[0],
	       o.table == BUS_INPUT_REGISTERS ? "input" : "holding", o.addr,
	       o.addr + o.count - 1);
	probe_print(regs, o.count, o.addr);
	bus_free(b);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
		printf("metrolog %s\n", METROLOG_VERSION);
		return 0;
	}
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
	        {"read", cmd_read},
	        {"probe", cmd_probe},
	        {"conformity", calc_conformity},
	        {"interval", calc_interval},
	        {"instruments", cmd_instruments},
	        {"channels", cmd_channels},
	        {"due", cmd_due},
	        {"readings", cmd_readings},
	        {"events", cmd_events},
	        {"report", cmd_report},
	        {"calibrate", cmd_calibrate},
	        {"calibrations", cmd_calibrations},
	        {"verify", cmd_verify},
	        {"certificate", cmd_certificate},
	        {"trend", cmd_trend},
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmd, cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr,
	        "metrolog: unknown command '%s'. Try 'metrolog "
	        "--help'.\n",
	        cmd);
	return 2;
}
