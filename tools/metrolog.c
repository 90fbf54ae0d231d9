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
 * (calibrate, calibrations, verify), approve.c, certificate.c and trend.c;
 * each is declared once as a struct cmd_def (cmd.h), and `metrolog --help`
 * lists the table below.
 *
 * Single-threaded. Exit codes: 0 success, 1 a request failed, 2 bad usage.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "calc.h"
#include "cmd.h"
#include "decode.h"
#include "labtime.h"
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

/* ---- options of read and probe ------------------------------------------ */

enum {
	R_TCP,
	R_RTU,
	R_SERIAL,
	R_UNIT,
	R_TIMEOUT,
	R_TABLE,
	R_ADDRESS,
	R_REGISTER,
	R_COUNT,
	R_TYPE,
	R_ORDER,
	R_SCALE,
	R_OFFSET,
	R_EVERY,
	R_TIMES,
};

/* The connection and block options, shared by read and probe. */
#define BUS_OPTIONS                                                            \
	{"tcp", 0, "HOST:PORT", "Modbus TCP instrument or gateway", R_TCP},    \
	        {"rtu", 'r', "DEVICE",                                         \
	         "Modbus RTU on a serial line (e.g. /dev/ttyUSB0)", R_RTU},    \
	        {"serial", 0, "B,P,D,S",                                       \
	         "baud, parity N/E/O, data bits, stop bits (default "          \
	         "19200,E,8,1)",                                               \
	         R_SERIAL},                                                    \
	        {"timeout", 0, "MS",                                           \
	         "response timeout in milliseconds (default 500)", R_TIMEOUT}, \
	        {"table", 'T', "T",                                            \
	         "input, holding, coil or discrete (default input)", R_TABLE}, \
	        {"address", 'a', "A", "0-based protocol address (default 0)",  \
	         R_ADDRESS},                                                   \
	{                                                                      \
		"register", 'R', "NUMBER",                                     \
		        "or a manual's register number: 30001 is input "       \
		        "register\n"                                           \
		        "address 0, 40001 holding register 0, 6 digits also "  \
		        "work",                                                \
		        R_REGISTER                                             \
	}

static const struct cmd_option read_opts[] = {
        BUS_OPTIONS,
        {"unit", 'u', "N[,N...]", "unit ids (default 1)", R_UNIT},
        {"count", 'n', "N", "number of values (default 1)", R_COUNT},
        {"type", 'y', "TYPE",
         "bit, int16, uint16, int32, uint32, int64, uint64, float32,\n"
         "float64, bcd16, bcd32 (default float32; bit for coils and\n"
         "discrete inputs)",
         R_TYPE},
        {"order", 0, "ORDER",
         "byte order: ABCD (big-endian), CDAB, BADC, DCBA, or one of\n"
         "the eight 64-bit orders such as GHEFCDAB (default ABCD)",
         R_ORDER},
        {"scale", 0, "S", "value = raw * S + O (default 1)", R_SCALE},
        {"offset", 0, "O", "(default 0)", R_OFFSET},
        {"every", 'e', "SECONDS",
         "repeat every SECONDS (decimals allowed) until interrupted", R_EVERY},
        {"times", 0, "N", "stop after N polls (every second unless --every)",
         R_TIMES},
        {0},
};

static const struct cmd_option probe_opts[] = {
        BUS_OPTIONS,
        {"unit", 'u', "N", "unit id (default 1; one)", R_UNIT},
        {"count", 'n', "N", "registers (default 8, at most 125)", R_COUNT},
        {0},
};

static int cmd_read(int argc, char **argv);
static int cmd_probe(int argc, char **argv);

static const char read_footer[] =
        "One of --tcp and --rtu is required. Exit status: 0 every poll "
        "answered, 1 a poll\nfailed, 2 bad usage or the connection could "
        "not be set up.\n";

const struct cmd_def read_cmd = {
        .name = "read",
        .summary = "read registers or bits and print them decoded",
        .synopsis = "(--tcp HOST:PORT | --rtu DEVICE) [OPTION]...",
        .about = "Read a block from a live Modbus instrument and print it "
                 "decoded, one line per unit\nand poll: local time, unit id, "
                 "values.\n",
        .options = read_opts,
        .footer = read_footer,
        .run = cmd_read,
};

const struct cmd_def probe_cmd = {
        .name = "probe",
        .summary = "read registers once and print every type in every byte "
                   "order",
        .synopsis = "(--tcp HOST:PORT | --rtu DEVICE) [OPTION]...",
        .about = "Read a block of registers once and print every "
                 "interpretation: each register as\nhex, uint16, int16, BCD "
                 "and text; every 32-bit value (uint32, int32, float32) "
                 "and\nevery 64-bit value (int64, float64) starting at each "
                 "address, in each byte\norder. Find the row that shows the "
                 "value the instrument displays, and put its\naddress, type "
                 "and order in the configuration.\n",
        .options = probe_opts,
        .footer = "Exit status: 0 read, 1 the read failed, 2 bad usage.\n",
        .run = cmd_probe,
};

struct read_opts {
	struct bus_params bus;
	char host[256];
	int units[MAX_UNITS], nunits;
	enum bus_table table;
	uint16_t addr;
	unsigned count;
	bool count_given, have_bus;
	struct decode_spec spec;
	const char *type, *order;
	double scale, offset;
	double every_s;
	long times;
};

static int bad(const struct cmd_line *l, const char *opt, const char *arg,
               const char *why)
{
	return cmd_usage(l, "%s '%s': %s", opt, arg, why);
}

static int parse_hostport(const struct cmd_line *l, struct read_opts *o,
                          const char *arg)
{
	const char *colon = strrchr(arg, ':');
	long port;

	if (colon == NULL || colon == arg ||
	    (size_t)(colon - arg) >= sizeof(o->host) ||
	    tool_parse_long(colon + 1, 1, 65535, &port) == -1)
		return bad(l, "--tcp", arg,
		           "expected HOST:PORT, port 1..65535");
	memcpy(o->host, arg, (size_t)(colon - arg));
	o->host[colon - arg] = '\0';
	o->bus.kind = BUS_TCP;
	o->bus.host = o->host;
	o->bus.port = (int)port;
	o->have_bus = true;
	return 0;
}

static int parse_units(const struct cmd_line *l, struct read_opts *o,
                       const char *arg)
{
	char copy[512], *save = NULL;
	long u;

	snprintf(copy, sizeof(copy), "%s", arg);
	o->nunits = 0;
	for (char *t = strtok_r(copy, ",", &save); t != NULL;
	     t = strtok_r(NULL, ",", &save)) {
		if (o->nunits == MAX_UNITS ||
		    tool_parse_long(t, 0, 255, &u) == -1)
			return bad(l, "--unit", arg,
			           "expected unit ids 0..255, comma separated");
		o->units[o->nunits++] = (int)u;
	}
	return o->nunits > 0 ? 0 : bad(l, "--unit", arg, "no unit id");
}

static int parse_serial(const struct cmd_line *l, struct read_opts *o,
                        const char *arg)
{
	char parity;
	int baud, data, stop_bits, n = 0;

	if (sscanf(arg, "%d,%c,%d,%d%n", &baud, &parity, &data, &stop_bits,
	           &n) != 4 ||
	    arg[n] != '\0' || baud <= 0 || strchr("NEO", parity) == NULL ||
	    data < 5 || data > 8 || stop_bits < 1 || stop_bits > 2)
		return bad(
		        l, "--serial", arg,
		        "expected BAUD,PARITY,DATA,STOP such as 19200,E,8,1");
	o->bus.baud = baud;
	o->bus.parity = parity;
	o->bus.data_bits = data;
	o->bus.stop_bits = stop_bits;
	return 0;
}

static int parse_double(const struct cmd_line *l, const char *opt,
                        const char *arg, double lo, double hi, const char *why,
                        double *out)
{
	char *end;

	errno = 0;
	*out = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' ||
	    !(*out >= lo && *out <= hi))
		return bad(l, opt, arg, why);
	return 0;
}

/* The options naming where the instrument is. */
static int on_bus_option(struct cmd_line *l, struct read_opts *o, int id,
                         const char *v)
{
	long n;

	switch (id) {
	case R_TCP:
		return parse_hostport(l, o, v);
	case R_RTU:
		o->bus.kind = BUS_RTU;
		o->bus.device = v;
		o->have_bus = true;
		return 0;
	case R_SERIAL:
		return parse_serial(l, o, v);
	case R_UNIT:
		return parse_units(l, o, v);
	default: /* R_TIMEOUT */
		if (tool_parse_long(v, 1, 600000, &n) == -1)
			return bad(l, "--timeout", v,
			           "expected 1..600000 milliseconds");
		o->bus.timeout_ms = (int)n;
		return 0;
	}
}

/* The options naming what to read, how to decode it and when. */
static int on_read_option(struct cmd_line *l, const struct cmd_option *opt,
                          const char *v)
{
	struct read_opts *o = l->ctx;
	long n;

	switch (opt->id) {
	case R_TABLE:
		if (mbaddr_table_parse(v, &o->table) == 0)
			return 0;
		return bad(l, "--table", v,
		           "expected input, holding, coil or discrete (or "
		           "input_registers, holding_registers, coils, "
		           "discrete_inputs)");
	case R_ADDRESS:
		if (tool_parse_long(v, 0, 65535, &n) == -1)
			return bad(l, "--address", v,
			           "expected a 0-based address 0..65535");
		o->addr = (uint16_t)n;
		return 0;
	case R_REGISTER:
		if (mbaddr_register_number(v, &o->table, &o->addr) == -1)
			return bad(l, "--register", v,
			           "expected a number such as 30001 "
			           "(input register 0) or 400001");
		return 0;
	case R_COUNT:
		if (tool_parse_long(v, 1, MAX_WORDS, &n) == -1)
			return bad(l, "--count", v, "expected 1..2000 values");
		o->count = (unsigned)n;
		o->count_given = true;
		return 0;
	case R_TYPE:
		o->type = v;
		return 0;
	case R_ORDER:
		o->order = v;
		return 0;
	case R_SCALE:
		return parse_double(l, "--scale", v, -HUGE_VAL, HUGE_VAL,
		                    "expected a number", &o->scale);
	case R_OFFSET:
		return parse_double(l, "--offset", v, -HUGE_VAL, HUGE_VAL,
		                    "expected a number", &o->offset);
	case R_EVERY:
		return parse_double(l, "--every", v, 0.01, 86400,
		                    "expected 0.01..86400 seconds",
		                    &o->every_s);
	case R_TIMES:
		if (tool_parse_long(v, 1, 1000000000, &o->times) == -1)
			return bad(l, "--times", v,
			           "expected a count of polls >= 1");
		return 0;
	default:
		return on_bus_option(l, o, opt->id, v);
	}
}

/* The type, byte order and block, once every option is read. */
static int finish_read(const struct cmd_line *l, struct read_opts *o)
{
	bool bits = o->table == BUS_COILS || o->table == BUS_DISCRETE_INPUTS;
	enum decode_type t = bits ? DECODE_BIT : DECODE_FLOAT32;

	if (o->times > 1 && o->every_s == 0)
		o->every_s = 1;
	if (o->type != NULL &&
	    (decode_type_parse(o->type, &t) == -1 || t == DECODE_STRING ||
	     (bits && t != DECODE_BIT)))
		return bad(l, "--type", o->type,
		           bits ? "coils and discrete inputs are read as bit"
		                : "unknown type (see --help)");
	decode_spec_init(&o->spec, t);
	if (decode_order_parse(&o->spec, o->order) == -1)
		return bad(l, "--order", o->order,
		           "not a byte order for this type");
	o->spec.scale = o->scale;
	o->spec.offset = o->offset;
	unsigned words = t == DECODE_BIT ? 1 : decode_words(&o->spec);
	unsigned limit = bits ? 2000 : 125;
	if (o->count * words > limit)
		return bad(l, "--count", "",
		           "more than one request can read "
		           "(125 registers or 2000 bits)");
	if ((unsigned)o->addr + o->count * words > 0x10000)
		return bad(l, "--address", "",
		           "the block runs past address 65535");
	if (t == DECODE_BIT && !bits)
		o->spec.bit = 0; /* bit 0 of each register */
	return 0;
}

/* Parse argv for read or probe (d) into o; read's type, order and block
 * are checked by finish_read(). Returns 0, or -1 with *status the exit
 * status. */
static int parse_read(const struct cmd_def *d, struct read_opts *o, int argc,
                      char **argv, int *status)
{
	struct cmd_line l = {.on_option = on_read_option, .ctx = o};

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
	o->order = "ABCD";
	o->scale = 1;
	if (cmd_parse(d, &l, argc, argv, status) < 0)
		return -1;
	if (!o->have_bus)
		*status = cmd_usage(&l, "say where the instrument is: --tcp "
		                        "HOST:PORT or --rtu DEVICE");
	else if (d == &read_cmd)
		*status = finish_read(&l, o);
	return *status == 0 ? 0 : -1;
}

static void print_time(void)
{
	char buf[UTC_OFF_US_SIZE];

	labtime_format(tool_now_us(), 3, buf, sizeof(buf));
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

	int status;

	if (parse_read(&read_cmd, &o, argc, argv, &status) < 0)
		return status;
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

	int status;

	if (parse_read(&probe_cmd, &o, argc, argv, &status) < 0)
		return status;
	if (!o.count_given)
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

/* ---- the table of subcommands -------------------------------------------- */

static const struct cmd_def *const live_cmds[] = {&read_cmd, &probe_cmd, NULL};
static const struct cmd_def *const db_cmds[] = {
        &instruments_cmd, &channels_cmd, &due_cmd,
        &readings_cmd,    &events_cmd,   &report_cmd,
        &calibrate_cmd,   &approve_cmd,  &calibrations_cmd,
        &certificate_cmd, &trend_cmd,    &verify_cmd,
        &backup_cmd,      &user_cmd,     NULL};
static const struct cmd_def *const calc_cmds[] = {&conformity_cmd,
                                                  &interval_cmd, NULL};

static const struct cmd_group groups[] = {
        {"Commands on a live instrument", live_cmds},
        {"Commands on the gateway's database (-d FILE, or $METROLOG_DB)",
         db_cmds},
        {"Calculators", calc_cmds},
};
#define N_GROUPS (int)(sizeof(groups) / sizeof(groups[0]))

static const char help_tail[] =
        "Options:\n"
        "  -h, --help     show this help (metrolog COMMAND --help for a "
        "command)\n"
        "  -V, --version  show the version\n\n"
        "Every listing takes -f/--format text|csv|json|jsonl; a short "
        "option means the\nsame in every command (docs/TOOL.md).\n"
        "Exit status: 0 success, 1 a request failed (unknown id, "
        "database error),\n2 bad usage, 4 verify found the chain or "
        "a certificate altered.\n";

int main(int argc, char **argv)
{
	if (argc < 2) {
		cmd_help_all(groups, N_GROUPS, help_tail, stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "help") == 0) {
		cmd_help_all(groups, N_GROUPS, help_tail, stdout);
		return 0;
	}
	if (strcmp(cmd, "--man") == 0) { /* not in --help: for the build */
		cmd_man(groups, N_GROUPS, help_tail, METROLOG_VERSION, stdout);
		return 0;
	}
	if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
		printf("metrolog %s\n", METROLOG_VERSION);
		return 0;
	}
	cmd_on_database(tool_lab_zone);
	for (int g = 0; g < N_GROUPS; g++)
		for (const struct cmd_def *const *c = groups[g].cmds; *c; c++)
			if (strcmp(cmd, (*c)->name) == 0)
				return (*c)->run(argc - 1, argv + 1);
	fprintf(stderr,
	        "metrolog: unknown command '%s'. Try 'metrolog "
	        "--help'.\n",
	        cmd);
	return 2;
}
