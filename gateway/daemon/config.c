/*
 * config.c - the configuration file (libconfig syntax) turned into a
 * validated, immutable struct config; see config.h, and docs/CONFIG.md for
 * every key.
 *
 * Validation follows Redis's config loader and OpenBSD's parse.y. Each group
 * of the file (the top level, storage, a bus, an instrument, a channel) has
 * a table of keys with type, range and default, checked by one generic
 * function, check_group(); what a table cannot say (register locations, byte
 * orders, names, references between groups, duplicates, overlapping
 * registers) is checked after it, group by group. Errors are collected
 * rather than printed at once, so that all of them are reported, sorted
 * into file order; the file is refused if there is any. This is the only
 * file that includes <libconfig.h>.
 *
 * Memory: everything hangs off one struct config_priv, whose first member
 * is the public struct config; config_free() releases it all. The channels
 * of all instruments live in one array in file order, so a global channel
 * index is a position in that array and config_channel() is O(1).
 */
#include "config_load.h"
#include "config_text.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "calib.h"
#include "text.h"

#define NAME_MAX_LEN 64 /* site, bus names, instrument ids, channel names */

struct config_priv {
	struct config c;              /* first: the pointer we hand out */
	struct cfg_channel *channels; /* all channels, global index order */
	int *inst_of;                 /* instrument index of each channel */
	size_t nslots;                /* channels allocated (= c.nchannels
	                                 once loaded) */
	char *database_at;            /* "FILE:LINE" of the database setting */
};

/* ---- Errors -------------------------------------------------------- */

struct cfg_error {
	const char *file; /* libconfig's or the caller's, valid until printed */
	int line;         /* 0 when no line applies */
	int included;     /* 0: the main file, 1: an @include'd one */
	size_t seq;       /* order of discovery, to keep the sort stable */
	char *msg;
};

struct ctx {
	const char *path;
	struct cfg_text *text; /* the files' text, for integers as written */
	struct cfg_error *errs;
	size_t nerrs, cap;
	bool oom;
};

static int setting_line(const config_setting_t *s)
{
	return s != NULL ? (int)config_setting_source_line(s) : 0;
}

/* Record "label: message" at setting s (NULL or the root: no line). */
__attribute__((format(printf, 4, 5))) static void
err_at(struct ctx *x, const config_setting_t *s, const char *label,
       const char *fmt, ...)
{
	char body[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	if (x->nerrs == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 16;
		struct cfg_error *e = realloc(x->errs, cap * sizeof(*e));
		if (e == NULL) {
			x->oom = true;
			return;
		}
		x->errs = e;
		x->cap = cap;
	}
	size_t len = strlen(label) + strlen(body) + 3;
	char *msg = malloc(len);
	if (msg == NULL) {
		x->oom = true;
		return;
	}
	snprintf(msg, len, "%s%s%s", label, *label ? ": " : "", body);
	for (char *p = msg; *p; p++) /* one error, one line */
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			*p = '?';
	struct cfg_error *e = &x->errs[x->nerrs];
	e->file = s != NULL && config_setting_source_file(s) != NULL
	                  ? config_setting_source_file(s)
	                  : x->path;
	e->included = strcmp(e->file, x->path) != 0;
	e->line = setting_line(s);
	e->seq = x->nerrs;
	e->msg = msg;
	x->nerrs++;
}

/* The main file first, then included files; by line; then as found. */
static int error_cmp(const void *pa, const void *pb)
{
	const struct cfg_error *a = pa, *b = pb;
	int c;

	if (a->included != b->included)
		return a->included - b->included;
	if ((c = strcmp(a->file, b->file)) != 0)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void errors_print(struct ctx *x, FILE *out)
{
	if (x->nerrs > 0) /* errs is NULL when there is none */
		qsort(x->errs, x->nerrs, sizeof(*x->errs), error_cmp);
	for (size_t i = 0; out != NULL && i < x->nerrs; i++) {
		const struct cfg_error *e = &x->errs[i];
		if (e->line > 0)
			fprintf(out, "%s:%d: %s\n", e->file, e->line, e->msg);
		else
			fprintf(out, "%s: %s\n", e->file, e->msg);
	}
	if (out != NULL && x->oom)
		fprintf(out, "%s: out of memory\n", x->path);
}

static void errors_free(struct ctx *x)
{
	for (size_t i = 0; i < x->nerrs; i++)
		free(x->errs[i].msg);
	free(x->errs);
}

static char *dup(struct ctx *x, const char *s)
{
	char *d = strdup(s != NULL ? s : "");

	if (d == NULL)
		x->oom = true;
	return d;
}

/* ---- Key tables ---------------------------------------------------- */

enum ktype { K_STRING, K_INT, K_FLOAT, K_BOOL, K_LIST, K_GROUP };

/* Which kind of bus a bus key belongs to (SCOPE_ANY: every kind, or, as
 * the scope of a group, "kind not known"). */
enum scope { SCOPE_ANY, SCOPE_TCP, SCOPE_RTU };

struct key {
	const char *name;
	enum ktype type;
	bool required;
	long long min, max;         /* K_INT: range */
	const long long *set;       /* K_INT: allowed values, 0-terminated */
	long long def;              /* K_INT, K_BOOL: default */
	double fdef;                /* K_FLOAT: default */
	const char *sdef;           /* K_STRING: default */
	const char *unit;           /* K_INT: unit, for messages */
	const char *const *choices; /* K_STRING: allowed values, NULL-ended */
	int nshown;                 /* choices named in messages; 0: all */
	const char *hint;           /* K_STRING: what the string holds */
	enum scope scope;           /* bus keys only */
	bool refused;               /* known only to be refused with a
	                               better message; never "allowed" */
};

/* What check_group() found for one key. */
struct val {
	const config_setting_t *s; /* the setting; NULL when absent */
	bool ok;                   /* valid, or absent with a default */
	long long i;
	double f;
	const char *str;
};

/* Tables read best as tables. */
/* clang-format off */
enum { T_SITE, T_DATABASE, T_STORAGE, T_MQTT, T_BUSES, T_INSTRUMENTS,
       T_STANDARDS, T_LAB, T_CUSTOMERS, T_N };
static const struct key top_keys[T_N] = {
	[T_SITE] = {.name = "site", .type = K_STRING, .required = true},
	[T_DATABASE] = {.name = "database", .type = K_STRING,
	                .required = true, .hint = "a file path"},
	[T_STORAGE] = {.name = "storage", .type = K_GROUP},
	[T_MQTT] = {.name = "mqtt", .type = K_GROUP},
	[T_BUSES] = {.name = "buses", .type = K_LIST, .required = true},
	[T_INSTRUMENTS] = {.name = "instruments", .type = K_LIST,
	                   .required = true},
	[T_STANDARDS] = {.name = "standards", .type = K_LIST},
	[T_LAB] = {.name = "lab", .type = K_GROUP},
	[T_CUSTOMERS] = {.name = "customers", .type = K_LIST},
};

/* The laboratory (certificates) and its customers. */
enum {
	LB_NAME,
	LB_ADDRESS,
	LB_ACCREDITATION,
	LB_LOCATION,
	LB_LOGO,
	LB_TIMEZONE,
	LB_N
};
static const struct key lab_keys[LB_N] = {
	[LB_NAME] = {.name = "name", .type = K_STRING, .required = true,
	             .hint = "the laboratory's name"},
	[LB_ADDRESS] = {.name = "address", .type = K_STRING, .required = true,
	                .hint = "its postal address"},
	[LB_ACCREDITATION] = {.name = "accreditation", .type = K_STRING,
	                      .sdef = "",
	                      .hint = "body and number, e.g. \"VILAS 1234\""},
	[LB_LOCATION] = {.name = "location", .type = K_STRING, .sdef = "",
	                 .hint = "where calibrations are done"},
	[LB_LOGO] = {.name = "logo", .type = K_STRING, .sdef = "",
	             .hint = "a PNG file path"},
	[LB_TIMEZONE] = {.name = "timezone", .type = K_STRING, .sdef = "",
	                 .hint = "an IANA time zone, e.g. \"Asia/Ho_Chi_Minh\""},
};

enum { U_ID, U_NAME, U_ADDRESS, U_CONTACT, U_N };
static const struct key customer_keys[U_N] = {
	[U_ID] = {.name = "id", .type = K_STRING, .required = true},
	[U_NAME] = {.name = "name", .type = K_STRING, .required = true,
	            .hint = "the customer's legal name"},
	[U_ADDRESS] = {.name = "address", .type = K_STRING, .required = true,
	               .hint = "its postal address"},
	[U_CONTACT] = {.name = "contact", .type = K_STRING, .sdef = "",
	               .hint = "a person, telephone or e-mail"},
};

static const char *const queue_full_names[] = {"drop_oldest", "block", NULL};

enum { S_BATCH_MAX, S_BATCH_MS, S_QUEUE_SIZE, S_QUEUE_FULL, S_RETENTION, S_N };
static const struct key storage_keys[S_N] = {
	[S_BATCH_MAX] = {.name = "batch_max", .type = K_INT, .min = 1,
	                 .max = 100000, .def = 1000, .unit = "samples"},
	[S_BATCH_MS] = {.name = "batch_ms", .type = K_INT, .min = 1,
	                .max = 10000, .def = 20, .unit = "milliseconds"},
	[S_QUEUE_SIZE] = {.name = "queue_size", .type = K_INT, .min = 16,
	                  .max = 16777216, .def = 65536, .unit = "samples"},
	[S_QUEUE_FULL] = {.name = "queue_full", .type = K_STRING,
	                  .sdef = "drop_oldest", .choices = queue_full_names},
	[S_RETENTION] = {.name = "retention_days", .type = K_INT, .min = 0,
	                 .max = 36500, .def = 0, .unit = "days, 0 = keep forever"},
};

static const char *const outbox_full_names[] = {"drop_oldest", NULL};

enum {
	M_HOST, M_PORT, M_PREFIX, M_CLIENT_ID, M_QOS, M_KEEPALIVE, M_INFLIGHT,
	M_OUTBOX_MAX, M_OUTBOX_FULL, M_HISTORICAL, M_TLS, M_USERNAME,
	M_PASSWORD_FILE, M_PASSWORD, M_VERSION, M_HOMEASSISTANT, M_REQUESTS,
	M_REPLAY_PER_S, M_N
};
static const long long mqtt_versions[] = {3, 5, 0};
static const struct key mqtt_keys[M_N] = {
	[M_HOST] = {.name = "host", .type = K_STRING, .sdef = "127.0.0.1",
	            .hint = "a host name or IP address"},
	[M_PORT] = {.name = "port", .type = K_INT, .min = 1, .max = 65535,
	            .def = 1883},
	[M_PREFIX] = {.name = "prefix", .type = K_STRING, .sdef = "metrolog",
	              .hint = "topic levels such as \"metrolog\""},
	[M_CLIENT_ID] = {.name = "client_id", .type = K_STRING,
	                 .hint = "a stable MQTT client id"},
	[M_QOS] = {.name = "qos", .type = K_INT, .min = 0, .max = 1, .def = 1},
	[M_KEEPALIVE] = {.name = "keepalive_s", .type = K_INT, .min = 5,
	                 .max = 3600, .def = 30, .unit = "seconds"},
	[M_INFLIGHT] = {.name = "inflight", .type = K_INT, .min = 1,
	                .max = 65535, .def = 64, .unit = "messages"},
	[M_OUTBOX_MAX] = {.name = "outbox_max", .type = K_INT, .min = 1000,
	                  .max = 1000000000, .def = 1000000,
	                  .unit = "messages"},
	[M_OUTBOX_FULL] = {.name = "outbox_full", .type = K_STRING,
	                   .sdef = "drop_oldest", .choices = outbox_full_names},
	[M_HISTORICAL] = {.name = "historical_s", .type = K_INT, .min = 1,
	                  .max = 86400, .def = 10, .unit = "seconds"},
	[M_TLS] = {.name = "tls", .type = K_GROUP},
	[M_USERNAME] = {.name = "username", .type = K_STRING,
	                .hint = "an MQTT user name"},
	[M_PASSWORD_FILE] = {.name = "password_file", .type = K_STRING,
	                     .hint = "a file path"},
	/* known only to be refused, pointing to password_file */
	[M_PASSWORD] = {.name = "password", .type = K_STRING,
	                .refused = true},
	[M_VERSION] = {.name = "version", .type = K_INT, .set = mqtt_versions,
	               .def = 3, .unit = "3: MQTT 3.1.1, 5: MQTT 5"},
	[M_HOMEASSISTANT] = {.name = "homeassistant", .type = K_GROUP},
	/* off by default: it serves calibration records over the broker */
	[M_REQUESTS] = {.name = "requests", .type = K_BOOL, .def = false},
	/* replays (docs/MQTT.md, Replay): messages a second, at most; 0 off */
	[M_REPLAY_PER_S] = {.name = "replay_per_s", .type = K_INT, .min = 0,
	                    .max = 10000, .def = 50, .unit = "messages"},
};

enum { H_PREFIX, H_N };
static const struct key ha_keys[H_N] = {
	[H_PREFIX] = {.name = "prefix", .type = K_STRING,
	              .sdef = "homeassistant",
	              .hint = "topic levels such as \"homeassistant\""},
};

enum { L_CA_FILE, L_CERT_FILE, L_KEY_FILE, L_VERIFY, L_N };
static const struct key tls_keys[L_N] = {
	[L_CA_FILE] = {.name = "ca_file", .type = K_STRING,
	               .hint = "a file path"},
	[L_CERT_FILE] = {.name = "cert_file", .type = K_STRING,
	                 .hint = "a file path"},
	[L_KEY_FILE] = {.name = "key_file", .type = K_STRING,
	                .hint = "a file path"},
	[L_VERIFY] = {.name = "verify", .type = K_BOOL, .def = true},
};

static const char *const bus_type_names[] = {"tcp", "rtu", NULL};
static const char *const parity_names[] = {"N", "E", "O", NULL};
static const long long bauds[] = {1200,   2400,   4800,   9600,
                                  19200,  38400,  57600,  115200,
                                  230400, 460800, 921600, 0};

enum {
	B_NAME,
	B_TYPE,
	B_HOST,
	B_PORT,
	B_CONNECT_PER_POLL,
	B_DEVICE,
	B_BAUD,
	B_PARITY,
	B_DATA_BITS,
	B_STOP_BITS,
	B_TURNAROUND,
	B_SILENCE,
	B_TIMEOUT,
	B_BACKOFF,
	B_N
};
static const struct key bus_keys[B_N] = {
	[B_NAME] = {.name = "name", .type = K_STRING, .required = true},
	[B_TYPE] = {.name = "type", .type = K_STRING, .required = true,
	            .choices = bus_type_names},
	[B_HOST] = {.name = "host", .type = K_STRING, .required = true,
	            .hint = "a host name or IP address", .scope = SCOPE_TCP},
	[B_PORT] = {.name = "port", .type = K_INT, .required = true, .min = 1,
	            .max = 65535, .scope = SCOPE_TCP},
	[B_CONNECT_PER_POLL] = {.name = "connect_per_poll", .type = K_BOOL,
	                        .def = false, .scope = SCOPE_TCP},
	[B_DEVICE] = {.name = "device", .type = K_STRING, .required = true,
	              .hint = "a serial device path", .scope = SCOPE_RTU},
	[B_BAUD] = {.name = "baud", .type = K_INT, .required = true,
	            .set = bauds, .unit = "bits per second",
	            .scope = SCOPE_RTU},
	[B_PARITY] = {.name = "parity", .type = K_STRING, .sdef = "E",
	              .choices = parity_names, .scope = SCOPE_RTU},
	[B_DATA_BITS] = {.name = "data_bits", .type = K_INT, .min = 7,
	                 .max = 8, .def = 8, .scope = SCOPE_RTU},
	[B_STOP_BITS] = {.name = "stop_bits", .type = K_INT, .min = 1,
	                 .max = 2, .def = 1, .scope = SCOPE_RTU},
	[B_TURNAROUND] = {.name = "turnaround_ms", .type = K_INT, .min = 0,
	                  .max = 1000, .def = 0, .unit = "milliseconds",
	                  .scope = SCOPE_RTU},
	[B_SILENCE] = {.name = "silence_margin_us", .type = K_INT, .min = 0,
	               .max = 100000, .def = 0, .unit = "microseconds",
	               .scope = SCOPE_RTU},
	[B_TIMEOUT] = {.name = "timeout_ms", .type = K_INT, .min = 10,
	               .max = 60000, .def = 500, .unit = "milliseconds"},
	[B_BACKOFF] = {.name = "backoff_max_ms", .type = K_INT, .min = 100,
	               .max = 3600000, .def = 60000, .unit = "milliseconds"},
};

enum {
	I_ID,
	I_BUS,
	I_UNIT_ID,
	I_INTERVAL,
	I_MAX_GAP,
	I_MODEL,
	I_SERIAL,
	I_OWNER,
	I_LOCATION,
	I_CAL_INTERVAL,
	I_DUE_SOON,
	I_CHANNELS,
	I_N
};
static const struct key instrument_keys[I_N] = {
	[I_ID] = {.name = "id", .type = K_STRING, .required = true},
	[I_BUS] = {.name = "bus", .type = K_STRING, .required = true,
	           .hint = "the name of a bus"},
	[I_UNIT_ID] = {.name = "unit_id", .type = K_INT, .required = true,
	               .min = 0, .max = 255},
	[I_INTERVAL] = {.name = "interval_ms", .type = K_INT, .required = true,
	                .min = 10, .max = 86400000, .unit = "milliseconds"},
	[I_MAX_GAP] = {.name = "max_gap", .type = K_INT, .min = 0, .max = 124,
	               .def = 8, .unit = "registers"},
	[I_MODEL] = {.name = "model", .type = K_STRING, .sdef = ""},
	[I_SERIAL] = {.name = "serial", .type = K_STRING, .sdef = ""},
	[I_OWNER] = {.name = "owner", .type = K_STRING, .sdef = ""},
	[I_LOCATION] = {.name = "location", .type = K_STRING, .sdef = ""},
	[I_CAL_INTERVAL] = {.name = "calibration_interval_days", .type = K_INT,
	                    .min = 0, .max = 3650, .def = 0, .unit = "days"},
	[I_DUE_SOON] = {.name = "due_soon_days", .type = K_INT, .min = 0,
	                .max = 365, .def = 30, .unit = "days"},
	[I_CHANNELS] = {.name = "channels", .type = K_LIST, .required = true},
};

/* A standard: the identity and calibration keys of an instrument. */
enum { D_ID, D_MODEL, D_SERIAL, D_OWNER, D_LOCATION, D_CAL_INTERVAL,
       D_DUE_SOON, D_N };
static const struct key standard_keys[D_N] = {
	[D_ID] = {.name = "id", .type = K_STRING, .required = true},
	[D_MODEL] = {.name = "model", .type = K_STRING, .sdef = ""},
	[D_SERIAL] = {.name = "serial", .type = K_STRING, .sdef = ""},
	[D_OWNER] = {.name = "owner", .type = K_STRING, .sdef = ""},
	[D_LOCATION] = {.name = "location", .type = K_STRING, .sdef = ""},
	[D_CAL_INTERVAL] = {.name = "calibration_interval_days", .type = K_INT,
	                    .min = 0, .max = 3650, .def = 0, .unit = "days"},
	[D_DUE_SOON] = {.name = "due_soon_days", .type = K_INT, .min = 0,
	                .max = 365, .def = 30, .unit = "days"},
};

enum {
	C_NAME,
	C_TABLE,
	C_ADDRESS,
	C_REGISTER,
	C_TYPE,
	C_ORDER,
	C_BIT,
	C_WORDS,
	C_SCALE,
	C_OFFSET,
	C_UNIT,
	C_TOLERANCE,
	C_N
};
static const struct key channel_keys[C_N] = {
	[C_NAME] = {.name = "name", .type = K_STRING, .required = true},
	[C_TABLE] = {.name = "table", .type = K_STRING,
	             .choices = mbaddr_table_names,
	             .nshown = MBADDR_TABLE_CANONICAL},
	[C_ADDRESS] = {.name = "address", .type = K_INT, .min = 0,
	               .max = 65535, .unit = "0-based protocol address"},
	[C_REGISTER] = {.name = "register", .type = K_STRING,
	                .hint = "a register number such as \"40001\""},
	[C_TYPE] = {.name = "type", .type = K_STRING, .required = true},
	[C_ORDER] = {.name = "order", .type = K_STRING, .sdef = "ABCD",
	             .hint = "a byte order such as \"ABCD\""},
	[C_BIT] = {.name = "bit", .type = K_INT, .min = 0, .max = 15},
	[C_WORDS] = {.name = "words", .type = K_INT, .min = 1,
	             .max = DECODE_STRING_WORDS_MAX, .unit = "registers"},
	[C_SCALE] = {.name = "scale", .type = K_FLOAT, .fdef = 1.0},
	[C_OFFSET] = {.name = "offset", .type = K_FLOAT, .fdef = 0.0},
	[C_UNIT] = {.name = "unit", .type = K_STRING, .sdef = "",
	            .hint = "an engineering unit"},
	[C_TOLERANCE] = {.name = "tolerance", .type = K_GROUP},
};

static const char *const rule_names[] = {"simple", "guarded", NULL};

/* A channel's tolerance group; which form is which: load_tolerance(). */
enum {
	TL_REFERENCE, TL_LIMIT, TL_PCT_READING, TL_DIGITS, TL_RESOLUTION,
	TL_PCT_SPAN, TL_SPAN, TL_PPM_READING, TL_PPM_RANGE, TL_RANGE,
	TL_LOWER, TL_UPPER, TL_U, TL_K, TL_RULE, TL_GUARD_FACTOR, TL_WARNING,
	TL_HYSTERESIS, TL_CONSECUTIVE, TL_EWMA_LAMBDA, TL_EWMA_L, TL_CUSUM_K,
	TL_CUSUM_H, TL_BASELINE, TL_BASELINE_SIGMA, TL_REF_CHANNEL,
	TL_TREND_DAYS, TL_TREND_BIN, TL_TREND_HORIZON, TL_TREND_CONF, TL_N
};
static const struct key tolerance_keys[TL_N] = {
	[TL_REFERENCE] = {.name = "reference", .type = K_FLOAT},
	[TL_LIMIT] = {.name = "limit", .type = K_FLOAT},
	[TL_PCT_READING] = {.name = "percent_of_reading", .type = K_FLOAT},
	[TL_DIGITS] = {.name = "digits", .type = K_FLOAT},
	[TL_RESOLUTION] = {.name = "resolution", .type = K_FLOAT},
	[TL_PCT_SPAN] = {.name = "percent_of_span", .type = K_FLOAT},
	[TL_SPAN] = {.name = "span", .type = K_FLOAT},
	[TL_PPM_READING] = {.name = "ppm_of_reading", .type = K_FLOAT},
	[TL_PPM_RANGE] = {.name = "ppm_of_range", .type = K_FLOAT},
	[TL_RANGE] = {.name = "range", .type = K_FLOAT},
	[TL_LOWER] = {.name = "lower", .type = K_FLOAT},
	[TL_UPPER] = {.name = "upper", .type = K_FLOAT},
	[TL_U] = {.name = "U", .type = K_FLOAT, .fdef = 0.0},
	[TL_K] = {.name = "k", .type = K_FLOAT, .fdef = 2.0},
	[TL_RULE] = {.name = "rule", .type = K_STRING, .sdef = "simple",
	             .choices = rule_names},
	[TL_GUARD_FACTOR] = {.name = "guard_factor", .type = K_FLOAT,
	                     .fdef = 1.0},
	[TL_WARNING] = {.name = "warning", .type = K_FLOAT,
	                .fdef = DRIFT_WARN_FRACTION},
	[TL_HYSTERESIS] = {.name = "hysteresis", .type = K_FLOAT,
	                   .fdef = DRIFT_HYSTERESIS},
	[TL_CONSECUTIVE] = {.name = "consecutive", .type = K_INT, .min = 1,
	                    .max = 1000, .def = DRIFT_CONSECUTIVE,
	                    .unit = "readings"},
	[TL_EWMA_LAMBDA] = {.name = "ewma_lambda", .type = K_FLOAT},
	[TL_EWMA_L] = {.name = "ewma_L", .type = K_FLOAT, .fdef = 3.0},
	[TL_CUSUM_K] = {.name = "cusum_k", .type = K_FLOAT, .fdef = 0.5},
	[TL_CUSUM_H] = {.name = "cusum_h", .type = K_FLOAT},
	[TL_BASELINE] = {.name = "baseline", .type = K_INT, .min = 2,
	                 .max = 1000000, .def = DRIFT_BASELINE_DEFAULT,
	                 .unit = "readings"},
	[TL_BASELINE_SIGMA] = {.name = "baseline_sigma", .type = K_FLOAT},
	[TL_REF_CHANNEL] = {.name = "reference_channel", .type = K_STRING,
	                    .hint = "the name of a channel of the same "
	                            "instrument"},
	[TL_TREND_DAYS] = {.name = "trend_days", .type = K_FLOAT},
	[TL_TREND_BIN] = {.name = "trend_bin_s", .type = K_INT, .min = 1,
	                  .max = 86400, .def = 3600, .unit = "seconds"},
	[TL_TREND_HORIZON] = {.name = "trend_horizon_days", .type = K_FLOAT,
	                      .fdef = 365.0},
	[TL_TREND_CONF] = {.name = "trend_confidence", .type = K_FLOAT,
	                   .fdef = 0.95},
};
/* clang-format on */

/* ---- The generic check --------------------------------------------- */

/* Append printf-style to buf (size n), never overflowing. */
__attribute__((format(printf, 3, 4))) static void append(char *buf, size_t n,
                                                         const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len + 1 >= n)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, n - len, fmt, ap);
	va_end(ap);
}

/* "a", "b" or "c" from a NULL-ended list (the first n; 0: all). */
static void append_choices(char *buf, size_t size, const char *const *list,
                           int n)
{
	int count = 0;

	while (list[count] != NULL && (n == 0 || count < n))
		count++;
	for (int i = 0; i < count; i++)
		append(buf, size, "%s\"%s\"",
		       i == 0           ? ""
		       : i == count - 1 ? " or "
		                        : ", ",
		       list[i]);
}

/* The range part of an integer key: "10..60000 (milliseconds)". */
static void append_range(char *buf, size_t size, const struct key *k)
{
	if (k->set != NULL) {
		append(buf, size, "one of ");
		for (int i = 0; k->set[i] != 0; i++)
			append(buf, size, "%s%lld", i ? ", " : "", k->set[i]);
	} else {
		append(buf, size, "%lld..%lld", k->min, k->max);
	}
	if (k->unit != NULL)
		append(buf, size, " (%s)", k->unit);
}

/* What a key expects, e.g. "an integer 10..60000 (milliseconds)". */
static void expectation(const struct key *k, char *buf, size_t size)
{
	buf[0] = '\0';
	switch (k->type) {
	case K_STRING:
		append(buf, size, "a string");
		if (k->choices != NULL) {
			append(buf, size, ": ");
			append_choices(buf, size, k->choices, k->nshown);
		} else if (k->hint != NULL) {
			append(buf, size, ", %s", k->hint);
		}
		break;
	case K_INT:
		append(buf, size, "an integer ");
		append_range(buf, size, k);
		break;
	case K_FLOAT:
		append(buf, size, "a number");
		break;
	case K_BOOL:
		append(buf, size, "true or false");
		break;
	case K_LIST:
		append(buf, size, "a list ( { ... }, ... )");
		break;
	case K_GROUP:
		append(buf, size, "a group { ... }");
		break;
	}
}

/* The document-order position of integer setting m among the integer
 * settings of the same name on the same line of the same file, counted
 * from s down (*n: how many came before m; returns true once m is met). */
static bool ordinal_from(const config_setting_t *s, const config_setting_t *m,
                         size_t *n)
{
	int t = config_setting_type(s);

	if (s == m)
		return true;
	if ((t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) &&
	    s->name != NULL && strcmp(s->name, m->name) == 0 &&
	    s->line == m->line && s->file != NULL && m->file != NULL &&
	    strcmp(s->file, m->file) == 0)
		(*n)++;
	if (t == CONFIG_TYPE_GROUP || t == CONFIG_TYPE_LIST ||
	    t == CONFIG_TYPE_ARRAY) {
		int len = config_setting_length(s);
		for (int i = 0; i < len; i++)
			if (ordinal_from(
			            config_setting_get_elem(s, (unsigned)i), m,
			            n))
				return true;
	}
	return false;
}

/*
 * The integer setting m as the user wrote it (config_text.h: libconfig
 * 1.5 narrows to 32 bits): the literal of its line whose value libconfig
 * parsed, or, when two literals of the same name on that line parse alike
 * and differ as written, the one in m's place. When the text cannot be
 * read back, what libconfig parsed.
 */
static void written_int(struct ctx *x, const config_setting_t *m,
                        struct cfg_int *w)
{
	struct cfg_int cand[8];
	long long parsed = config_setting_get_int64(m);
	const char *line = cfg_text_line(x->text,
	                                 config_setting_source_file(m) != NULL
	                                         ? config_setting_source_file(m)
	                                         : x->path,
	                                 setting_line(m));
	size_t n =
	        line != NULL && config_setting_name(m) != NULL
	                ? cfg_text_ints(line, config_setting_name(m), cand, 8)
	                : 0;
	size_t pick = n, kept = 0;
	bool alike = true;

	for (size_t i = 0; i < n && i < 8; i++) {
		if (cand[i].parsed != parsed)
			continue;
		if (kept++ == 0)
			pick = i;
		else
			alike &= cand[i].fits == cand[pick].fits &&
			         cand[i].value == cand[pick].value;
	}
	if (kept > 1 && !alike) {
		size_t before = 0;
		ordinal_from(config_root_setting(m->config), m, &before);
		pick = before < n && before < 8 ? before : n;
	} else if (kept == 0 && n == 1) {
		pick = 0; /* libconfig's narrowing not foreseen: trust the text
		           */
	}
	if (pick < n && pick < 8) {
		*w = cand[pick];
		return;
	}
	*w = (struct cfg_int){.fits = true,
	                      .value = parsed,
	                      .approx = (double)parsed,
	                      .parsed = parsed};
	snprintf(w->text, sizeof(w->text), "%lld", parsed);
}

/* What a setting is, for "got ...": its value when it is a scalar (an
 * integer as written). */
static void got(struct ctx *x, const config_setting_t *s, char *buf,
                size_t size)
{
	struct cfg_int w;

	buf[0] = '\0';
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		written_int(x, s, &w);
		append(buf, size, "%s", w.text);
		break;
	case CONFIG_TYPE_FLOAT:
		append(buf, size, "%g", config_setting_get_float(s));
		break;
	case CONFIG_TYPE_STRING:
		append(buf, size, "\"%s\"", config_setting_get_string(s));
		break;
	case CONFIG_TYPE_BOOL:
		append(buf, size, "%s",
		       config_setting_get_bool(s) ? "true" : "false");
		break;
	case CONFIG_TYPE_GROUP:
		append(buf, size, "a group");
		break;
	case CONFIG_TYPE_LIST:
		append(buf, size, "a list");
		break;
	case CONFIG_TYPE_ARRAY:
		append(buf, size, "an array");
		break;
	default:
		append(buf, size, "nothing");
		break;
	}
}

static bool in_scope(const struct key *k, enum scope scope)
{
	return k->scope == SCOPE_ANY || scope == SCOPE_ANY || k->scope == scope;
}

/* Levenshtein distance, for "did you mean"; large for long names. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[NAME_MAX_LEN + 1];

	if (la > NAME_MAX_LEN || lb > NAME_MAX_LEN)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static void unknown_key(struct ctx *x, const config_setting_t *m,
                        const char *label, const struct key *keys, size_t n,
                        enum scope scope)
{
	const char *name = config_setting_name(m);
	const struct key *best = NULL;
	size_t best_d = (size_t)-1;
	char allowed[512] = "";

	for (size_t i = 0; i < n; i++) {
		if (!in_scope(&keys[i], scope) || keys[i].refused)
			continue;
		size_t d = distance(name, keys[i].name);
		if (d < best_d) {
			best_d = d;
			best = &keys[i];
		}
		append(allowed, sizeof(allowed), "%s%s", *allowed ? ", " : "",
		       keys[i].name);
	}
	if (best != NULL && best_d <= 2 && best_d < strlen(best->name))
		err_at(x, m, label,
		       "unknown setting \"%s\" (did you mean \"%s\"?)", name,
		       best->name);
	else
		err_at(x, m, label, "unknown setting \"%s\" (allowed: %s)",
		       name, allowed);
}

/* Whether setting m has the libconfig type key k asks for. */
static bool key_type_ok(const struct key *k, const config_setting_t *m)
{
	int t = config_setting_type(m);

	switch (k->type) {
	case K_STRING:
		return t == CONFIG_TYPE_STRING;
	case K_INT:
		return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;
	case K_FLOAT:
		return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 ||
		       t == CONFIG_TYPE_FLOAT;
	case K_BOOL:
		return t == CONFIG_TYPE_BOOL;
	case K_LIST:
		/* an empty array "[]" is an empty list to the user */
		return t == CONFIG_TYPE_LIST || (t == CONFIG_TYPE_ARRAY &&
		                                 config_setting_length(m) == 0);
	case K_GROUP:
		return t == CONFIG_TYPE_GROUP;
	}
	return false;
}

/* The value of setting m (of the right type) into v, checked against the
 * choices or range of key k; have is how m reads. Returns false after
 * reporting a value out of range. */
static bool key_value(struct ctx *x, const config_setting_t *m,
                      const struct key *k, const char *label, const char *have,
                      struct val *v)
{
	char want[512];

	switch (k->type) {
	case K_STRING:
		v->str = config_setting_get_string(m);
		if (k->choices != NULL) {
			bool found = false;
			for (int i = 0; k->choices[i] != NULL; i++)
				found |= strcmp(v->str, k->choices[i]) == 0;
			if (!found) {
				want[0] = '\0';
				append_choices(want, sizeof(want), k->choices,
				               k->nshown);
				err_at(x, m, label, "%s must be %s, got %s",
				       k->name, want, have);
				return false;
			}
		}
		break;
	case K_INT: {
		struct cfg_int w;
		written_int(x, m, &w); /* 64 bits, before any narrowing */
		v->i = w.value;
		bool in_range = w.fits && k->set == NULL && v->i >= k->min &&
		                v->i <= k->max;
		for (int i = 0; w.fits && k->set != NULL && k->set[i] != 0; i++)
			in_range |= v->i == k->set[i];
		if (!in_range) {
			want[0] = '\0';
			append_range(want, sizeof(want), k);
			err_at(x, m, label, "%s must be %s, got %s", k->name,
			       want, have);
			return false;
		}
		break;
	}
	case K_FLOAT:
		if (config_setting_type(m) == CONFIG_TYPE_FLOAT) {
			v->f = config_setting_get_float(m);
		} else {
			struct cfg_int w;
			written_int(x, m, &w);
			v->f = w.fits ? (double)w.value : w.approx;
		}
		break;
	case K_BOOL:
		v->i = config_setting_get_bool(m);
		break;
	case K_LIST:
	case K_GROUP:
		break;
	}
	return true;
}

/* Key k of group g into v: its default when absent, else its value once
 * its type and range are right; reports what is wrong. */
static void check_key(struct ctx *x, const config_setting_t *g,
                      const struct key *k, const char *label, enum scope scope,
                      struct val *v)
{
	const config_setting_t *m =
	        g != NULL ? config_setting_get_member(g, k->name) : NULL;
	char want[512], have[256];

	memset(v, 0, sizeof(*v));
	if (!in_scope(k, scope))
		return; /* reported as not applying to this kind of bus */
	expectation(k, want, sizeof(want));
	if (m == NULL) {
		if (k->required &&
		    (k->scope == SCOPE_ANY || scope != SCOPE_ANY))
			err_at(x, g, label,
			       "missing required setting \"%s\": %s", k->name,
			       want);
		else
			*v = (struct val){.ok = true,
			                  .i = k->def,
			                  .f = k->fdef,
			                  .str = k->sdef};
		return;
	}
	v->s = m;
	got(x, m, have, sizeof(have));
	if (!key_type_ok(k, m)) {
		err_at(x, m, label, "%s must be %s, got %s", k->name, want,
		       have);
		return;
	}
	if (key_value(x, m, k, label, have, v))
		v->ok = true;
}

/*
 * Check group g (NULL: an absent group, every key takes its default)
 * against keys: unknown keys, keys of another kind of bus, missing required
 * keys, types and ranges. Fills v[i] for keys[i].
 */
static void check_group(struct ctx *x, const config_setting_t *g,
                        const struct key *keys, size_t n, const char *label,
                        enum scope scope, struct val *v)
{
	int len = g != NULL ? config_setting_length(g) : 0;

	for (int i = 0; i < len; i++) {
		const config_setting_t *m =
		        config_setting_get_elem(g, (unsigned)i);
		const struct key *k = NULL;
		for (size_t j = 0; j < n && k == NULL; j++)
			if (strcmp(config_setting_name(m), keys[j].name) == 0)
				k = &keys[j];
		if (k == NULL)
			unknown_key(x, m, label, keys, n, scope);
		else if (!in_scope(k, scope))
			err_at(x, m, label, "%s applies to %s buses only",
			       k->name, k->scope == SCOPE_TCP ? "tcp" : "rtu");
	}
	for (size_t i = 0; i < n; i++)
		check_key(x, g, &keys[i], label, scope, &v[i]);
}

/* ---- Checks beyond the tables -------------------------------------- */

/* A name that can be an MQTT topic level and a file name. */
static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' ||
		      *p == '-'))
			return false;
	return true;
}

/* Copy a name-like value after checking it; NULL when invalid. */
static char *name_value(struct ctx *x, const struct val *v, const char *label,
                        const char *what)
{
	if (!v->ok)
		return NULL;
	if (!valid_name(v->str)) {
		err_at(x, v->s, label,
		       "%s \"%s\" must be 1..%d characters of "
		       "A-Z a-z 0-9 _ . -",
		       what, v->str, NAME_MAX_LEN);
		return NULL;
	}
	return dup(x, v->str);
}

/* The string member "key" of g, whatever else is wrong, for labels and
 * references; NULL when absent or not a string. */
static const char *peek_string(const config_setting_t *g, const char *key)
{
	const config_setting_t *m = config_setting_get_member(g, key);

	if (m == NULL || config_setting_type(m) != CONFIG_TYPE_STRING)
		return NULL;
	return config_setting_get_string(m);
}

/* An element of a list that must be a group. */
/* "what \"<name>\"" for messages, or "what #<i+1>" when the group has no
 * string name yet. */
static void elem_label(char *buf, size_t size, const char *what,
                       const char *name, int i)
{
	if (name != NULL)
		snprintf(buf, size, "%s \"%s\"", what, name);
	else
		snprintf(buf, size, "%s #%d", what, i + 1);
}

static bool is_group_elem(struct ctx *x, const config_setting_t *e,
                          const char *label, const char *list, int i)
{
	char have[256];

	if (config_setting_type(e) == CONFIG_TYPE_GROUP)
		return true;
	got(x, e, have, sizeof(have));
	err_at(x, e, label, "%s: element %d must be a group { ... }, got %s",
	       list, i + 1, have);
	return false;
}

/* "input registers 0..1" or "coil 5" */
static void span(char *buf, size_t size, enum bus_table t, unsigned first,
                 unsigned last)
{
	buf[0] = '\0';
	if (first == last)
		append(buf, size, "%s %u", mbaddr_table_noun(t, false), first);
	else
		append(buf, size, "%s %u..%u", mbaddr_table_noun(t, true),
		       first, last);
}

/* ---- Storage ------------------------------------------------------- */

static void load_storage(struct ctx *x, const struct val *sv, struct config *c)
{
	struct val v[S_N];

	/* absent: defaults; present but not a group: already an error */
	check_group(x, sv->ok ? sv->s : NULL, storage_keys, S_N, "storage",
	            SCOPE_ANY, v);
	c->batch_max = (int)v[S_BATCH_MAX].i;
	c->batch_ms = (int)v[S_BATCH_MS].i;
	c->queue_size = (int)v[S_QUEUE_SIZE].i;
	c->retention_days = (int)v[S_RETENTION].i;
	c->queue_full =
	        v[S_QUEUE_FULL].ok && strcmp(v[S_QUEUE_FULL].str, "block") == 0
	                ? QUEUE_BLOCK
	                : QUEUE_DROP_OLDEST;
}

/* ---- MQTT ---------------------------------------------------------- */

/* Topic levels: no wildcards, no empty level, no leading or trailing '/'. */
static bool valid_prefix(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 128 || s[0] == '/' || s[n - 1] == '/' ||
	    strstr(s, "//") != NULL)
		return false;
	for (const char *p = s; *p; p++)
		if (*p == '+' || *p == '#' || (unsigned char)*p <= ' ' ||
		    *p == 0x7f)
			return false;
	return true;
}

/* A file named by a key (present and a string): it must be a regular
 * file we can read now. Returns a copy of its path, or NULL (reported). */
static char *readable_file(struct ctx *x, const struct val *v,
                           const char *label, const char *what)
{
	struct stat st;
	FILE *f;

	if (!v->ok || v->s == NULL)
		return NULL;
	if (v->str[0] == '\0') {
		err_at(x, v->s, label, "%s must not be empty", what);
		return NULL;
	}
	if (stat(v->str, &st) != 0) {
		err_at(x, v->s, label, "%s \"%s\" cannot be read: %s", what,
		       v->str, strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		err_at(x, v->s, label, "%s \"%s\" is not a regular file", what,
		       v->str);
		return NULL;
	}
	/* regular, so opening it cannot block */
	if ((f = fopen(v->str, "r")) == NULL) {
		err_at(x, v->s, label, "%s \"%s\" cannot be read: %s", what,
		       v->str, strerror(errno));
		return NULL;
	}
	fclose(f);
	return dup(x, v->str);
}

/* The optional tls group of mqtt: present, the connection is TLS. */
static void load_tls(struct ctx *x, const struct val *tv, struct cfg_mqtt *m)
{
	struct val v[L_N];
	const char *label = "mqtt.tls";

	if (!tv->ok || tv->s == NULL)
		return; /* absent: plain TCP; not a group: reported */
	check_group(x, tv->s, tls_keys, L_N, label, SCOPE_ANY, v);
	m->tls = true;
	m->tls_verify = v[L_VERIFY].i != 0;
	m->ca_file = readable_file(x, &v[L_CA_FILE], label, "ca_file");
	m->cert_file = readable_file(x, &v[L_CERT_FILE], label, "cert_file");
	m->key_file = readable_file(x, &v[L_KEY_FILE], label, "key_file");
	if (v[L_CERT_FILE].ok && v[L_KEY_FILE].ok &&
	    (v[L_CERT_FILE].s == NULL) != (v[L_KEY_FILE].s == NULL))
		err_at(x,
		       v[L_CERT_FILE].s != NULL ? v[L_CERT_FILE].s
		                                : v[L_KEY_FILE].s,
		       label,
		       "a client certificate needs both cert_file and "
		       "key_file");
}

/* username, password_file; a password in clear is refused. */
static void load_credentials(struct ctx *x, const struct val *v,
                             struct cfg_mqtt *m)
{
	if (v[M_PASSWORD].s != NULL)
		err_at(x, v[M_PASSWORD].s, "mqtt",
		       "password is not accepted in the configuration: put "
		       "it in a file readable only by metrologd and name "
		       "that file with password_file");
	if (v[M_USERNAME].ok && v[M_USERNAME].s != NULL) {
		if (v[M_USERNAME].str[0] == '\0')
			err_at(x, v[M_USERNAME].s, "mqtt",
			       "username must not be empty");
		else
			m->username = dup(x, v[M_USERNAME].str);
	}
	m->password_file =
	        readable_file(x, &v[M_PASSWORD_FILE], "mqtt", "password_file");
	if (v[M_PASSWORD_FILE].ok && v[M_PASSWORD_FILE].s != NULL &&
	    v[M_USERNAME].ok && v[M_USERNAME].s == NULL)
		err_at(x, v[M_PASSWORD_FILE].s, "mqtt",
		       "password_file needs username (MQTT 3.1.1 sends a "
		       "password only with a user name)");
}

/* The optional homeassistant group of mqtt: present, discovery is on. */
static void load_ha(struct ctx *x, const struct val *hv, struct cfg_mqtt *m)
{
	struct val v[H_N];
	const char *label = "mqtt.homeassistant";

	if (!hv->ok || hv->s == NULL)
		return; /* absent: no discovery; not a group: reported */
	check_group(x, hv->s, ha_keys, H_N, label, SCOPE_ANY, v);
	if (v[H_PREFIX].ok && !valid_prefix(v[H_PREFIX].str))
		err_at(x, v[H_PREFIX].s != NULL ? v[H_PREFIX].s : hv->s, label,
		       "prefix \"%s\" must be topic levels separated by "
		       "'/', without '+', '#', spaces or empty levels",
		       v[H_PREFIX].str);
	else if (v[H_PREFIX].ok)
		m->ha_prefix = dup(x, v[H_PREFIX].str);
}

static void load_mqtt(struct ctx *x, const struct val *mv, struct config *c)
{
	struct val v[M_N];
	struct cfg_mqtt *m;

	if (!mv->ok || mv->s == NULL)
		return; /* absent: no publishing; not a group: reported */
	check_group(x, mv->s, mqtt_keys, M_N, "mqtt", SCOPE_ANY, v);
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		x->oom = true;
		return;
	}
	c->mqtt = m;
	m->line = setting_line(mv->s);
	m->port = (int)v[M_PORT].i;
	m->qos = (int)v[M_QOS].i;
	m->keepalive_s = (int)v[M_KEEPALIVE].i;
	m->inflight = (int)v[M_INFLIGHT].i;
	m->outbox_max = (long)v[M_OUTBOX_MAX].i;
	m->outbox_full = OUTBOX_DROP_OLDEST;
	m->historical_s = (int)v[M_HISTORICAL].i;
	m->version = (int)v[M_VERSION].i;
	m->requests = v[M_REQUESTS].i != 0;
	m->replay_per_s = (int)v[M_REPLAY_PER_S].i;
	if (v[M_HOST].ok && v[M_HOST].str[0] == '\0')
		err_at(x, v[M_HOST].s, "mqtt", "host must not be empty");
	else if (v[M_HOST].ok)
		m->host = dup(x, v[M_HOST].str);
	if (v[M_PREFIX].ok && !valid_prefix(v[M_PREFIX].str))
		err_at(x, v[M_PREFIX].s, "mqtt",
		       "prefix \"%s\" must be topic levels separated by "
		       "'/', without '+', '#', spaces or empty levels",
		       v[M_PREFIX].str);
	else if (v[M_PREFIX].ok)
		m->prefix = dup(x, v[M_PREFIX].str);
	if (v[M_CLIENT_ID].s == NULL && v[M_CLIENT_ID].ok) {
		char id[NAME_MAX_LEN + 16];
		snprintf(id, sizeof(id), "metrologd-%s",
		         c->site != NULL ? c->site : "");
		m->client_id = dup(x, id);
	} else if (v[M_CLIENT_ID].ok) {
		m->client_id =
		        name_value(x, &v[M_CLIENT_ID], "mqtt", "client_id");
	}
	load_tls(x, &v[M_TLS], m);
	load_credentials(x, v, m);
	load_ha(x, &v[M_HOMEASSISTANT], m);
}

/* ---- Buses --------------------------------------------------------- */

struct bus_info {
	const config_setting_t *g;
	const char *raw_name; /* as written, even if invalid */
	const config_setting_t *name_s;
	bool kind_ok;
};

static void load_bus(struct ctx *x, const config_setting_t *g, int i,
                     struct cfg_bus *b, struct bus_info *bi)
{
	struct val v[B_N];
	char label[128];
	const char *type = peek_string(g, "type");
	enum scope scope = SCOPE_ANY;

	bi->g = g;
	bi->raw_name = peek_string(g, "name");
	elem_label(label, sizeof(label), "bus", bi->raw_name, i);
	if (type != NULL && strcmp(type, "tcp") == 0)
		scope = SCOPE_TCP;
	else if (type != NULL && strcmp(type, "rtu") == 0)
		scope = SCOPE_RTU;
	check_group(x, g, bus_keys, B_N, label, scope, v);

	b->line = setting_line(g);
	b->name = name_value(x, &v[B_NAME], label, "name");
	bi->name_s = v[B_NAME].s;
	bi->kind_ok = v[B_TYPE].ok;
	b->params.kind = scope == SCOPE_RTU ? BUS_RTU : BUS_TCP;
	b->params.timeout_ms = (int)v[B_TIMEOUT].i;
	b->backoff_max_ms = (int)v[B_BACKOFF].i;
	if (scope == SCOPE_TCP) {
		if (v[B_HOST].ok && v[B_HOST].str[0] == '\0')
			err_at(x, v[B_HOST].s, label, "host must not be empty");
		else if (v[B_HOST].ok)
			b->params.host = dup(x, v[B_HOST].str);
		b->params.port = (int)v[B_PORT].i;
		b->connect_per_poll = v[B_CONNECT_PER_POLL].i != 0;
	} else if (scope == SCOPE_RTU) {
		if (v[B_DEVICE].ok && v[B_DEVICE].str[0] == '\0')
			err_at(x, v[B_DEVICE].s, label,
			       "device must not be empty");
		else if (v[B_DEVICE].ok)
			b->params.device = dup(x, v[B_DEVICE].str);
		b->params.baud = (int)v[B_BAUD].i;
		b->params.parity = v[B_PARITY].ok ? v[B_PARITY].str[0] : 'E';
		b->params.data_bits = (int)v[B_DATA_BITS].i;
		b->params.stop_bits = (int)v[B_STOP_BITS].i;
		b->turnaround_ms = (int)v[B_TURNAROUND].i;
		b->silence_margin_us = (int)v[B_SILENCE].i;
	}
}

/* Bus names unique; one bus per endpoint (a TCP host:port, a serial
 * device), since a bus is one endpoint polled by one thread. */
static void check_buses(struct ctx *x, const struct config *c,
                        const struct bus_info *bi)
{
	char label[128], ep[320];

	for (int i = 0; i < c->nbuses; i++) {
		const struct cfg_bus *b = &c->buses[i];
		for (int j = 0; j < i; j++) {
			const struct cfg_bus *a = &c->buses[j];
			if (b->name != NULL && a->name != NULL &&
			    strcmp(a->name, b->name) == 0) {
				err_at(x, bi[i].name_s, "",
				       "duplicate bus name \"%s\" (first at "
				       "line %d)",
				       b->name, setting_line(bi[j].name_s));
				break;
			}
		}
		for (int j = 0; j < i; j++) {
			const struct bus_params *pa = &c->buses[j].params,
			                        *pb = &b->params;
			if (!bi[i].kind_ok || !bi[j].kind_ok ||
			    pa->kind != pb->kind)
				continue;
			if (pb->kind == BUS_TCP) {
				if (!pa->host || !pb->host ||
				    strcmp(pa->host, pb->host) != 0 ||
				    pa->port != pb->port)
					continue;
				snprintf(ep, sizeof(ep), "tcp %s:%d", pb->host,
				         pb->port);
			} else {
				if (!pa->device || !pb->device ||
				    strcmp(pa->device, pb->device) != 0)
					continue;
				snprintf(ep, sizeof(ep), "device %s",
				         pb->device);
			}
			snprintf(label, sizeof(label), "bus \"%s\"",
			         bi[i].raw_name ? bi[i].raw_name : "?");
			err_at(x, bi[i].g, label,
			       "%s is already bus \"%s\" (line %d): a bus is "
			       "one endpoint, put its instruments on one bus",
			       ep, bi[j].raw_name ? bi[j].raw_name : "?",
			       c->buses[j].line);
			break;
		}
	}
}

/* ---- Channels ------------------------------------------------------ */

/* What the cross checks of an instrument need of each channel. */
struct chan_info {
	const config_setting_t *name_s;
	bool loc_ok; /* table, address and size known and valid */
	unsigned first, last;
	int bit; /* type bit in a register: the bit; else -1 */
};

/* "bit", "int16", ... or "string" */
static void type_list(char *buf, size_t size)
{
	buf[0] = '\0';
	for (int t = DECODE_BIT; t <= DECODE_STRING; t++)
		append(buf, size, "%s\"%s\"",
		       t == DECODE_BIT      ? ""
		       : t == DECODE_STRING ? " or "
		                            : ", ",
		       decode_type_name((enum decode_type)t));
}

/* The orders decode_order_parse() takes for spec's type, for messages. */
static const char *order_help(const struct decode_spec *spec)
{
	switch (decode_words(spec)) {
	case 2:
		return "4 distinct letters A-D, e.g. \"ABCD\", \"CDAB\", "
		       "\"BADC\", \"DCBA\"";
	case 4:
		return "8 distinct letters A-H, e.g. \"ABCDEFGH\", "
		       "\"GHEFCDAB\", or one of \"ABCD\", \"CDAB\", \"BADC\", "
		       "\"DCBA\"";
	default:
		return "\"AB\" or \"BA\" (or one of \"ABCD\", \"CDAB\", "
		       "\"BADC\", \"DCBA\")";
	}
}

/* Where the channel's value is: table + address, or a register number. */
static bool channel_location(struct ctx *x, const config_setting_t *g,
                             const struct val *v, const char *label,
                             struct cfg_channel *ch)
{
	const struct val *reg = &v[C_REGISTER], *tab = &v[C_TABLE],
	                 *addr = &v[C_ADDRESS];
	char want[256];

	if (reg->s != NULL && (tab->s != NULL || addr->s != NULL)) {
		err_at(x, reg->s, label,
		       "give either register or table and address, not both");
		return false;
	}
	if (reg->s != NULL) {
		if (!reg->ok)
			return false;
		if (mbaddr_register_number(reg->str, &ch->table,
		                           &ch->address) == -1) {
			err_at(x, reg->s, label,
			       "register \"%s\" is not a register number: 5 "
			       "digits 00001-09999 (coils), 10001-19999 "
			       "(discrete inputs), 30001-39999 (input "
			       "registers), 40001-49999 (holding registers), "
			       "or 6 digits 000001-065536, 100001-165536, "
			       "300001-365536, 400001-465536",
			       reg->str);
			return false;
		}
		return true;
	}
	if (tab->s == NULL && addr->s == NULL) {
		err_at(x, g, label,
		       "missing register location: give table and address, "
		       "or register");
		return false;
	}
	if (tab->s == NULL || addr->s == NULL) {
		const struct key *k =
		        &channel_keys[tab->s ? C_ADDRESS : C_TABLE];
		expectation(k, want, sizeof(want));
		err_at(x, g, label, "missing required setting \"%s\": %s",
		       k->name, want);
		return false;
	}
	if (!tab->ok || !addr->ok)
		return false;
	(void)mbaddr_table_parse(tab->str, &ch->table); /* a choice */
	ch->address = (uint16_t)addr->i;
	return true;
}

/* ---- Tolerance ----------------------------------------------------- */

/* Resolve each reference_channel of the instrument's tolerances to the
 * global index of a channel of the same instrument, not the channel
 * itself. */
static void check_reference_channels(struct ctx *x, struct cfg_instrument *in,
                                     const config_setting_t *list,
                                     const char *label)
{
	for (int i = 0; i < in->nchannels; i++) {
		struct cfg_tolerance *t = in->channels[i].tolerance;
		const struct cfg_channel *ref = NULL;
		if (t == NULL || t->ref_name == NULL)
			continue;
		for (int j = 0; j < in->nchannels && ref == NULL; j++)
			if (in->channels[j].name != NULL &&
			    strcmp(in->channels[j].name, t->ref_name) == 0)
				ref = &in->channels[j];
		if (ref == NULL || ref == &in->channels[i]) {
			/* the setting, for its line: tolerance exists here */
			const config_setting_t *tg = config_setting_get_member(
			        config_setting_get_elem(list, (unsigned)i),
			        "tolerance");
			char tl[320];
			snprintf(tl, sizeof(tl), "%s channel \"%s\" tolerance",
			         label,
			         in->channels[i].name ? in->channels[i].name
			                              : "?");
			err_at(x,
			       config_setting_get_member(tg,
			                                 "reference_channel"),
			       tl, "reference_channel \"%s\" %s", t->ref_name,
			       ref == NULL
			               ? "is not a channel of this instrument"
			               : "is the channel itself");
			continue;
		}
		t->ref_channel = ref->index;
	}
}

/* Key i of a tolerance group, present and a number (not NaN/inf). */
static bool tol_has(const struct val *v, int i)
{
	return v[i].s != NULL && v[i].ok;
}

/* Report key i when present and not finite, or below min (strictly when
 * open). Returns true when it is fine or absent. */
static bool tol_check(struct ctx *x, const struct val *v, int i,
                      const char *label, double min, bool open)
{
	if (!tol_has(v, i))
		return true;
	if (isfinite(v[i].f) && (open ? v[i].f > min : v[i].f >= min))
		return true;
	err_at(x, v[i].s, label, "%s must be a finite number %s %g, got %g",
	       tolerance_keys[i].name, open ? ">" : ">=", min, v[i].f);
	return false;
}

/* A key that belongs to another form or chart than the one chosen. */
static void tol_only_with(struct ctx *x, const struct val *v, int i, int with,
                          const char *label)
{
	if (v[i].s != NULL && v[with].s == NULL)
		err_at(x, v[i].s, label, "%s applies with %s only",
		       tolerance_keys[i].name, tolerance_keys[with].name);
}

/* The trend keys: on when trend_days is given; a window of at least
 * three bins, at most TREND_POINTS_MAX of them. */
static void load_trend(struct ctx *x, const struct val *v, const char *label,
                       struct cfg_tolerance *t)
{
	t->trend_days = 0;
	t->trend_bin_s = (int)v[TL_TREND_BIN].i;
	t->trend_horizon_days = v[TL_TREND_HORIZON].f;
	t->trend_conf = v[TL_TREND_CONF].f;
	if (v[TL_TREND_DAYS].s == NULL) {
		tol_only_with(x, v, TL_TREND_BIN, TL_TREND_DAYS, label);
		tol_only_with(x, v, TL_TREND_HORIZON, TL_TREND_DAYS, label);
		tol_only_with(x, v, TL_TREND_CONF, TL_TREND_DAYS, label);
		return;
	}
	t->trend_days = v[TL_TREND_DAYS].f;
	double bins = t->trend_days * 86400.0 / t->trend_bin_s;
	if (!(bins >= 3) || bins > TREND_POINTS_MAX)
		err_at(x, v[TL_TREND_DAYS].s, label,
		       "trend_days / trend_bin_s must give 3..%d bins, got %g "
		       "(%g days of %d s bins)",
		       TREND_POINTS_MAX, bins, t->trend_days, t->trend_bin_s);
	if (!(t->trend_horizon_days > 0) || t->trend_horizon_days > 36500)
		err_at(x, v[TL_TREND_HORIZON].s, label,
		       "trend_horizon_days must be in (0, 36500], got %g",
		       t->trend_horizon_days);
	if (!(t->trend_conf >= 0.5 && t->trend_conf < 1))
		err_at(x, v[TL_TREND_CONF].s, label,
		       "trend_confidence must be in [0.5, 1), got %g",
		       t->trend_conf);
}

/* The range of each number, and the keys that need another key. */
static void tol_check_values(struct ctx *x, const struct val *v,
                             const char *label)
{
	static const int nonneg[] = {
	        TL_LIMIT,    TL_PCT_READING, TL_DIGITS,       TL_RESOLUTION,
	        TL_PCT_SPAN, TL_SPAN,        TL_PPM_READING,  TL_PPM_RANGE,
	        TL_RANGE,    TL_U,           TL_GUARD_FACTOR, TL_HYSTERESIS,
	        TL_CUSUM_K};
	for (size_t i = 0; i < sizeof(nonneg) / sizeof(nonneg[0]); i++)
		tol_check(x, v, nonneg[i], label, 0, false);
	tol_check(x, v, TL_K, label, 0, true);
	tol_check(x, v, TL_WARNING, label, 0, true);
	tol_check(x, v, TL_EWMA_LAMBDA, label, 0, true);
	tol_check(x, v, TL_EWMA_L, label, 0, true);
	tol_check(x, v, TL_CUSUM_H, label, 0, true);
	tol_check(x, v, TL_BASELINE_SIGMA, label, 0, true);
	tol_check(x, v, TL_LOWER, label, -INFINITY, true);
	tol_check(x, v, TL_UPPER, label, -INFINITY, true);
	if (tol_has(v, TL_WARNING) && v[TL_WARNING].f > 1)
		err_at(x, v[TL_WARNING].s, label,
		       "warning must be a fraction of the limit in (0, 1], "
		       "got %g",
		       v[TL_WARNING].f);
	if (tol_has(v, TL_HYSTERESIS) && v[TL_HYSTERESIS].f >= 1)
		err_at(x, v[TL_HYSTERESIS].s, label,
		       "hysteresis must be a fraction of the limit in [0, 1), "
		       "got %g",
		       v[TL_HYSTERESIS].f);
	if (tol_has(v, TL_EWMA_LAMBDA) && v[TL_EWMA_LAMBDA].f > 1)
		err_at(x, v[TL_EWMA_LAMBDA].s, label,
		       "ewma_lambda must be in (0, 1], got %g",
		       v[TL_EWMA_LAMBDA].f);
	tol_only_with(x, v, TL_DIGITS, TL_PCT_READING, label);
	tol_only_with(x, v, TL_SPAN, TL_PCT_SPAN, label);
	tol_only_with(x, v, TL_RANGE, TL_PPM_RANGE, label);
	tol_only_with(x, v, TL_EWMA_L, TL_EWMA_LAMBDA, label);
	tol_only_with(x, v, TL_CUSUM_K, TL_CUSUM_H, label);
	tol_only_with(x, v, TL_BASELINE, TL_EWMA_LAMBDA, label);
}

/* The one tolerance form of the group g into t->tol. */
static void tol_load_form(struct ctx *x, const config_setting_t *g,
                          const struct val *v, const char *label,
                          struct cfg_tolerance *t)
{
	int forms = 0;

	forms += v[TL_LIMIT].s != NULL;
	forms += v[TL_PCT_READING].s != NULL;
	forms += v[TL_PCT_SPAN].s != NULL;
	forms += v[TL_PPM_READING].s != NULL || v[TL_PPM_RANGE].s != NULL;
	forms += v[TL_LOWER].s != NULL || v[TL_UPPER].s != NULL;
	if (forms != 1) {
		err_at(x, g, label,
		       "%s: give one of limit; percent_of_reading (with "
		       "digits and resolution); percent_of_span with span; "
		       "ppm_of_reading and/or ppm_of_range (with range); "
		       "lower and upper",
		       forms == 0 ? "no tolerance form"
		                  : "more than one "
		                    "tolerance form");
	} else if (v[TL_LIMIT].s != NULL) {
		t->tol.form = DRIFT_TOL_ABS;
		t->tol.abs = v[TL_LIMIT].f;
	} else if (v[TL_PCT_READING].s != NULL) {
		t->tol.form = v[TL_DIGITS].s != NULL ? DRIFT_TOL_PCT_DIGITS
		                                     : DRIFT_TOL_PCT_READING;
		t->tol.pct = v[TL_PCT_READING].f;
		t->tol.digits = v[TL_DIGITS].f;
		t->tol.resolution = v[TL_RESOLUTION].f;
		if (v[TL_DIGITS].s != NULL && v[TL_RESOLUTION].s == NULL)
			err_at(x, v[TL_DIGITS].s, label,
			       "digits needs resolution (the value of one "
			       "digit)");
	} else if (v[TL_PCT_SPAN].s != NULL) {
		t->tol.form = DRIFT_TOL_PCT_SPAN;
		t->tol.pct = v[TL_PCT_SPAN].f;
		t->tol.span = v[TL_SPAN].f;
		if (v[TL_SPAN].s == NULL)
			err_at(x, v[TL_PCT_SPAN].s, label,
			       "percent_of_span needs span (the span or full "
			       "scale)");
	} else if (v[TL_LOWER].s != NULL || v[TL_UPPER].s != NULL) {
		t->tol.form = DRIFT_TOL_ASYM;
		t->tol.lower = v[TL_LOWER].f;
		t->tol.upper = v[TL_UPPER].f;
		if (v[TL_LOWER].s == NULL || v[TL_UPPER].s == NULL)
			err_at(x, g, label, "lower and upper go together");
		else if (t->tol.lower > t->tol.upper)
			err_at(x, v[TL_LOWER].s, label,
			       "lower (%g) must not be above upper (%g)",
			       t->tol.lower, t->tol.upper);
	} else {
		t->tol.form = DRIFT_TOL_PPM;
		t->tol.ppm_reading = v[TL_PPM_READING].f;
		t->tol.ppm_range = v[TL_PPM_RANGE].f;
		t->tol.range = v[TL_RANGE].f;
		if (v[TL_PPM_RANGE].s != NULL && v[TL_RANGE].s == NULL)
			err_at(x, v[TL_PPM_RANGE].s, label,
			       "ppm_of_range needs range");
	}
}

/* The decision rule and the control charts into t. */
static void tol_load_rule(struct ctx *x, const struct val *v, const char *label,
                          struct cfg_tolerance *t)
{
	t->U = v[TL_U].f;
	t->k = v[TL_K].f;
	t->rule = v[TL_RULE].ok && strcmp(v[TL_RULE].str, "guarded") == 0
	                  ? TOL_RULE_GUARDED
	                  : TOL_RULE_SIMPLE;
	t->guard_factor = v[TL_GUARD_FACTOR].f;
	if (t->rule == TOL_RULE_GUARDED && v[TL_U].s == NULL)
		err_at(x, v[TL_RULE].s, label,
		       "rule \"guarded\" needs U, the expanded uncertainty");
	if (t->rule != TOL_RULE_GUARDED && v[TL_GUARD_FACTOR].s != NULL)
		err_at(x, v[TL_GUARD_FACTOR].s, label,
		       "guard_factor applies with rule \"guarded\" only");
	/* r x U exact in decimal, as every decision computes it */
	t->guard = t->rule == TOL_RULE_GUARDED
	                   ? drift_guard_band(t->guard_factor, t->U)
	                   : 0;
	t->warning = v[TL_WARNING].f;
	t->hysteresis = v[TL_HYSTERESIS].f;
	t->consecutive = (int)v[TL_CONSECUTIVE].i;
	t->ewma_lambda = v[TL_EWMA_LAMBDA].s != NULL ? v[TL_EWMA_LAMBDA].f : 0;
	t->ewma_L = v[TL_EWMA_L].f;
	t->cusum_h = v[TL_CUSUM_H].s != NULL ? v[TL_CUSUM_H].f : 0;
	t->cusum_k = v[TL_CUSUM_K].f;
	t->baseline = (int)v[TL_BASELINE].i;
	t->baseline_sigma =
	        v[TL_BASELINE_SIGMA].s != NULL ? v[TL_BASELINE_SIGMA].f : 0;
	if (v[TL_BASELINE].s != NULL && v[TL_BASELINE_SIGMA].s != NULL)
		err_at(x, v[TL_BASELINE_SIGMA].s, label,
		       "baseline and baseline_sigma exclude each other "
		       "(learn sigma, or give it)");
	if (v[TL_BASELINE_SIGMA].s != NULL && v[TL_EWMA_LAMBDA].s == NULL &&
	    v[TL_CUSUM_H].s == NULL)
		err_at(x, v[TL_BASELINE_SIGMA].s, label,
		       "baseline_sigma applies with ewma_lambda or cusum_h "
		       "only");
}

/* The limits at the reference value, checked with the state machine's
 * view; returns 0, or -1 after reporting what is wrong. */
static int tol_check_limits(struct ctx *x, const config_setting_t *g,
                            const char *label, struct cfg_tolerance *t)
{
	struct drift_channel dc;
	struct drift_channel_cfg dcfg;

	if (drift_tol_limits(&t->tol, t->reference, &t->lower, &t->upper) < 0) {
		err_at(x, g, label,
		       "the tolerance gives no valid limits at reference %g",
		       t->reference);
		return -1;
	}
	if (2 * t->guard > t->upper - t->lower) {
		err_at(x, g, label,
		       "the guard band (guard_factor * U = %g on each side) "
		       "leaves no acceptance zone within [%g, %g]",
		       t->guard, t->lower, t->upper);
		return -1;
	}
	dcfg = (struct drift_channel_cfg){.lower = t->lower,
	                                  .upper = t->upper,
	                                  .guard = t->guard,
	                                  .warn_fraction = t->warning,
	                                  .hysteresis = t->hysteresis,
	                                  .consecutive = t->consecutive};
	if (drift_channel_init(&dc, &dcfg) < 0) {
		err_at(x, g, label,
		       "the tolerance is not usable (limits "
		       "[%g, %g])",
		       t->lower, t->upper);
		return -1;
	}
	return 0;
}

/*
 * The tolerance group g of a channel (label ends with the channel). One
 * form among limit; percent_of_reading (+ digits and resolution);
 * percent_of_span + span; ppm_of_reading and/or ppm_of_range (+ range);
 * lower + upper. The limits are those of drift_tol_limits() at the
 * reference value, checked with drift_channel_init(). Returns NULL after
 * reporting what is wrong.
 */
static struct cfg_tolerance *
load_tolerance(struct ctx *x, const config_setting_t *g, const char *chan_label)
{
	struct val v[TL_N];
	char label[300];
	struct cfg_tolerance t;
	int errors = (int)x->nerrs;

	snprintf(label, sizeof(label), "%s tolerance", chan_label);
	check_group(x, g, tolerance_keys, TL_N, label, SCOPE_ANY, v);
	memset(&t, 0, sizeof(t));
	t.line = setting_line(g);
	if (tol_has(v, TL_REFERENCE) && !isfinite(v[TL_REFERENCE].f))
		err_at(x, v[TL_REFERENCE].s, label,
		       "reference must be a finite number, got %g",
		       v[TL_REFERENCE].f);
	t.reference = v[TL_REFERENCE].f;
	if (v[TL_REFERENCE].s == NULL && v[TL_REF_CHANNEL].s == NULL)
		err_at(x, g, label,
		       "missing required setting \"reference\": a number (or "
		       "reference_channel, a channel of the same instrument)");
	if (v[TL_REF_CHANNEL].s != NULL && v[TL_REF_CHANNEL].ok) {
		t.ref_name = dup(x, v[TL_REF_CHANNEL].str);
		t.by_channel = true;
	}
	tol_check_values(x, v, label);
	tol_load_form(x, g, v, label, &t);
	/* any form: the readings' resolution (monitor.c rounds to it) */
	if (v[TL_RESOLUTION].s != NULL)
		t.tol.resolution = v[TL_RESOLUTION].f;
	tol_load_rule(x, v, label, &t);
	load_trend(x, v, label, &t);
	if ((int)x->nerrs != errors || tol_check_limits(x, g, label, &t) < 0) {
		free(t.ref_name);
		return NULL;
	}
	struct cfg_tolerance *out = malloc(sizeof(*out));
	if (out == NULL) {
		x->oom = true;
		free(t.ref_name);
		return NULL;
	}
	*out = t;
	return out;
}

/* The channel's type against its table, and its keys bit and words;
 * returns loc_ok, false when the location turned out unusable. */
static bool channel_bit_words(struct ctx *x, const config_setting_t *g,
                              const struct val *v, const char *label,
                              bool type_ok, bool loc_ok, struct cfg_channel *ch)
{
	char want[512];
	enum decode_type type = ch->spec.type;
	const char *tname = decode_type_name(type);
	bool reg_table = mbaddr_table_words(ch->table);

	if (type_ok && loc_ok && !reg_table && type != DECODE_BIT) {
		err_at(x, v[C_TYPE].s, label,
		       "type must be \"bit\" for %s (one bit per address), got "
		       "\"%s\"",
		       mbaddr_table_noun(ch->table, true), v[C_TYPE].str);
		loc_ok = false;
	}
	if (v[C_BIT].s != NULL) {
		if (type_ok && type != DECODE_BIT)
			err_at(x, v[C_BIT].s, label,
			       "bit applies to type bit only, not %s", tname);
		else if (loc_ok && !reg_table)
			err_at(x, v[C_BIT].s, label,
			       "bit does not apply to %s (one bit per address)",
			       mbaddr_table_noun(ch->table, true));
		else if (v[C_BIT].ok)
			ch->spec.bit = (uint8_t)v[C_BIT].i;
	} else if (type_ok && type == DECODE_BIT && loc_ok && reg_table) {
		expectation(&channel_keys[C_BIT], want, sizeof(want));
		err_at(x, g, label,
		       "missing required setting \"bit\": %s, for type bit in "
		       "a register",
		       want);
	}
	if (v[C_WORDS].s != NULL) {
		if (type_ok && type != DECODE_STRING)
			err_at(x, v[C_WORDS].s, label,
			       "words applies to type string only, not %s",
			       tname);
		else if (v[C_WORDS].ok)
			ch->spec.string_words = (uint8_t)v[C_WORDS].i;
		else
			loc_ok = false;
	} else if (type_ok && type == DECODE_STRING) {
		expectation(&channel_keys[C_WORDS], want, sizeof(want));
		err_at(x, g, label,
		       "missing required setting \"words\": %s, for type "
		       "string",
		       want);
		loc_ok = false;
	}
	return loc_ok;
}

/* The channel's byte order, scale and offset. */
static void channel_order_scale(struct ctx *x, const struct val *v,
                                const char *label, bool type_ok,
                                struct cfg_channel *ch)
{
	enum decode_type type = ch->spec.type;

	if (v[C_ORDER].s != NULL && type_ok) {
		if (type == DECODE_BIT)
			err_at(x, v[C_ORDER].s, label,
			       "order does not apply to type bit");
		else if (v[C_ORDER].ok &&
		         decode_order_parse(&ch->spec, v[C_ORDER].str) == -1)
			err_at(x, v[C_ORDER].s, label,
			       "order \"%s\" is not a byte order for %s: %s",
			       v[C_ORDER].str, decode_type_name(type),
			       order_help(&ch->spec));
	}
	if (type_ok && type == DECODE_STRING) {
		if (v[C_SCALE].s != NULL)
			err_at(x, v[C_SCALE].s, label,
			       "scale does not apply to type string");
		if (v[C_OFFSET].s != NULL)
			err_at(x, v[C_OFFSET].s, label,
			       "offset does not apply to type string");
	}
	if (v[C_SCALE].ok && (!isfinite(v[C_SCALE].f) || v[C_SCALE].f == 0))
		err_at(x, v[C_SCALE].s, label,
		       "scale must be a finite non-zero number, got %g",
		       v[C_SCALE].f);
	else if (v[C_SCALE].ok)
		ch->spec.scale = v[C_SCALE].f;
	if (v[C_OFFSET].ok && !isfinite(v[C_OFFSET].f))
		err_at(x, v[C_OFFSET].s, label,
		       "offset must be a finite number, got %g", v[C_OFFSET].f);
	else if (v[C_OFFSET].ok)
		ch->spec.offset = v[C_OFFSET].f;
}

/* The registers a channel with a usable type and location spans, into
 * ci; reports a channel that runs past address 65535. */
static void channel_span(struct ctx *x, const struct val *v, const char *label,
                         const struct cfg_channel *ch, struct chan_info *ci)
{
	enum decode_type type = ch->spec.type;
	unsigned words = decode_words(&ch->spec);
	unsigned last = ch->address + (words > 0 ? words : 1) - 1;

	if (last > 65535) {
		err_at(x, v[C_REGISTER].s ? v[C_REGISTER].s : v[C_ADDRESS].s,
		       label,
		       "%s at %s %u needs %u registers and runs past address "
		       "65535",
		       decode_type_name(type),
		       mbaddr_table_noun(ch->table, false), ch->address, words);
		return;
	}
	ci->loc_ok = true;
	ci->first = ch->address;
	ci->last = last;
	if (type == DECODE_BIT && mbaddr_table_words(ch->table))
		ci->bit = ch->spec.bit;
}

/* The channel group g, the i-th of an instrument, into ch and ci. */
static void load_channel(struct ctx *x, const config_setting_t *g, int i,
                         const char *inst_label, uint32_t index,
                         struct cfg_channel *ch, struct chan_info *ci)
{
	struct val v[C_N];
	char label[256], want[512];
	const char *name = peek_string(g, "name");
	enum decode_type type = DECODE_UINT16;
	bool type_ok = false;

	if (name != NULL)
		snprintf(label, sizeof(label), "%s channel \"%s\"", inst_label,
		         name);
	else
		snprintf(label, sizeof(label), "%s channel #%d", inst_label,
		         i + 1);
	check_group(x, g, channel_keys, C_N, label, SCOPE_ANY, v);

	ch->line = setting_line(g);
	ch->index = index;
	ch->name = name_value(x, &v[C_NAME], label, "name");
	ch->unit = v[C_UNIT].ok ? dup(x, v[C_UNIT].str) : NULL;
	if (v[C_TOLERANCE].s != NULL && v[C_TOLERANCE].ok)
		ch->tolerance = load_tolerance(x, v[C_TOLERANCE].s, label);
	ci->name_s = v[C_NAME].s;
	ci->bit = -1;
	if (v[C_TYPE].ok) {
		type_ok = decode_type_parse(v[C_TYPE].str, &type) == 0;
		if (!type_ok) {
			type_list(want, sizeof(want));
			err_at(x, v[C_TYPE].s, label,
			       "type must be %s, got \"%s\"", want,
			       v[C_TYPE].str);
		}
	}
	decode_spec_init(&ch->spec, type);
	bool loc_ok = channel_location(x, g, v, label, ch);
	loc_ok = channel_bit_words(x, g, v, label, type_ok, loc_ok, ch);
	channel_order_scale(x, v, label, type_ok, ch);
	if (type_ok && loc_ok)
		channel_span(x, v, label, ch, ci);
}

/* Channel names unique in the instrument; no two channels reading the
 * same registers, except different bits of one register. */
static void check_channels(struct ctx *x, const struct cfg_instrument *in,
                           const struct chan_info *ci, const char *label)
{
	char sa[64], sb[64], cl[256];

	for (int i = 0; i < in->nchannels; i++) {
		const struct cfg_channel *b = &in->channels[i];
		if (b->name != NULL)
			snprintf(cl, sizeof(cl), "%s channel \"%s\"", label,
			         b->name);
		else
			snprintf(cl, sizeof(cl), "%s channel #%d", label,
			         i + 1);
		for (int j = 0; j < i; j++) {
			const struct cfg_channel *a = &in->channels[j];
			if (a->name && b->name &&
			    strcmp(a->name, b->name) == 0) {
				err_at(x, ci[i].name_s, label,
				       "duplicate channel name \"%s\" "
				       "(first at line %d)",
				       b->name, setting_line(ci[j].name_s));
				break;
			}
		}
		for (int j = 0; j < i; j++) {
			const struct cfg_channel *a = &in->channels[j];
			if (!ci[i].loc_ok || !ci[j].loc_ok ||
			    a->table != b->table || ci[i].first > ci[j].last ||
			    ci[j].first > ci[i].last)
				continue;
			if (ci[i].bit >= 0 && ci[j].bit >= 0 &&
			    ci[i].bit != ci[j].bit)
				continue; /* two bits of one register */
			span(sb, sizeof(sb), b->table, ci[i].first, ci[i].last);
			if (ci[i].bit >= 0 && ci[j].bit >= 0) {
				err_at(x, ci[i].name_s, cl,
				       "%s bit %d is also read by channel "
				       "\"%s\" (line %d)",
				       sb, ci[i].bit, a->name, a->line);
				continue;
			}
			span(sa, sizeof(sa), a->table, ci[j].first, ci[j].last);
			err_at(x, ci[i].name_s, cl,
			       "%s overlap%s channel \"%s\" (line %d, %s)", sb,
			       ci[i].first == ci[i].last ? "s" : "", a->name,
			       a->line, sa);
		}
	}
}

/* ---- Instruments --------------------------------------------------- */

struct inst_info {
	const config_setting_t *id_s, *unit_s;
	bool unit_ok; /* bus and unit_id known and valid */
};

static void load_instrument(struct ctx *x, const config_setting_t *g, int i,
                            struct config_priv *p, struct cfg_instrument *in,
                            struct inst_info *ii, const struct bus_info *bi,
                            uint32_t *next)
{
	struct config *c = &p->c;
	struct val v[I_N];
	char label[128];

	elem_label(label, sizeof(label), "instrument", peek_string(g, "id"), i);
	check_group(x, g, instrument_keys, I_N, label, SCOPE_ANY, v);

	in->line = setting_line(g);
	in->id = name_value(x, &v[I_ID], label, "id");
	ii->id_s = v[I_ID].s;
	in->bus = -1;
	in->unit_id = (int)v[I_UNIT_ID].i;
	in->interval_ms = (int)v[I_INTERVAL].i;
	in->max_gap = (int)v[I_MAX_GAP].i;
	in->model = v[I_MODEL].ok ? dup(x, v[I_MODEL].str) : NULL;
	in->serial = v[I_SERIAL].ok ? dup(x, v[I_SERIAL].str) : NULL;
	in->owner = v[I_OWNER].ok ? dup(x, v[I_OWNER].str) : NULL;
	in->location = v[I_LOCATION].ok ? dup(x, v[I_LOCATION].str) : NULL;
	in->cal_interval_days = (int)v[I_CAL_INTERVAL].i;
	in->due_soon_days = (int)v[I_DUE_SOON].i;

	if (v[I_BUS].ok) {
		for (int b = 0; b < c->nbuses && in->bus < 0; b++)
			if (bi[b].raw_name &&
			    strcmp(bi[b].raw_name, v[I_BUS].str) == 0)
				in->bus = b;
		if (in->bus < 0) {
			char names[512] = "";
			for (int b = 0; b < c->nbuses; b++)
				if (bi[b].raw_name != NULL)
					append(names, sizeof(names), "%s%s",
					       *names ? ", " : "",
					       bi[b].raw_name);
			err_at(x, v[I_BUS].s, label,
			       "unknown bus \"%s\" (buses: %s)", v[I_BUS].str,
			       *names ? names : "none");
		}
	}
	ii->unit_s = v[I_UNIT_ID].s;
	ii->unit_ok = v[I_UNIT_ID].ok && in->bus >= 0 && bi[in->bus].kind_ok;
	if (ii->unit_ok && c->buses[in->bus].params.kind == BUS_RTU &&
	    (in->unit_id < 1 || in->unit_id > 247)) {
		err_at(x, v[I_UNIT_ID].s, label,
		       "unit_id must be 1..247 on an rtu bus (0 is broadcast), "
		       "got %d",
		       in->unit_id);
		ii->unit_ok = false;
	}
	/* Modbus TCP: 1..247 as on a serial line behind a gateway, 0, or 255
	 * (the "no unit" of a plain TCP device); libmodbus refuses 248..254. */
	if (ii->unit_ok && c->buses[in->bus].params.kind == BUS_TCP &&
	    in->unit_id > 247 && in->unit_id != 255) {
		err_at(x, v[I_UNIT_ID].s, label,
		       "unit_id must be 0..247 or 255 on a tcp bus, got %d",
		       in->unit_id);
		ii->unit_ok = false;
	}

	/* channels: their slots were reserved in p->channels */
	const config_setting_t *list =
	        v[I_CHANNELS].ok ? v[I_CHANNELS].s : NULL;
	int n = list != NULL ? config_setting_length(list) : 0;
	if (list != NULL && n == 0)
		err_at(x, list, label,
		       "channels must list at least one channel");
	if (n == 0)
		return;
	struct chan_info *ci = calloc((size_t)n, sizeof(*ci));
	if (ci == NULL) {
		x->oom = true;
		return;
	}
	in->channels = &p->channels[*next];
	in->nchannels = n;
	for (int k = 0; k < n; k++) {
		const config_setting_t *e =
		        config_setting_get_elem(list, (unsigned)k);
		p->inst_of[*next] = i;
		in->channels[k].line = setting_line(e);
		in->channels[k].index = *next;
		if (is_group_elem(x, e, label, "channels", k))
			load_channel(x, e, k, label, *next, &in->channels[k],
			             &ci[k]);
		(*next)++;
	}
	check_channels(x, in, ci, label);
	check_reference_channels(x, in, list, label);
	free(ci);
}

/* Instrument ids unique; one instrument per unit id on a bus. */
static void check_instruments(struct ctx *x, const struct config *c,
                              const struct inst_info *ii)
{
	for (int i = 0; i < c->ninstruments; i++) {
		const struct cfg_instrument *b = &c->instruments[i];
		for (int j = 0; j < i; j++) {
			const struct cfg_instrument *a = &c->instruments[j];
			if (a->id && b->id && strcmp(a->id, b->id) == 0) {
				err_at(x, ii[i].id_s, "",
				       "duplicate instrument id \"%s\" (first "
				       "at line %d)",
				       b->id, setting_line(ii[j].id_s));
				break;
			}
		}
		for (int j = 0; j < i; j++) {
			const struct cfg_instrument *a = &c->instruments[j];
			if (!ii[i].unit_ok || !ii[j].unit_ok ||
			    a->bus != b->bus || a->unit_id != b->unit_id)
				continue;
			err_at(x, ii[i].unit_s, "",
			       "instrument \"%s\": unit_id %d on bus \"%s\" is "
			       "already instrument \"%s\" (line %d)",
			       b->id ? b->id : "?", b->unit_id,
			       c->buses[b->bus].name ? c->buses[b->bus].name
			                             : "?",
			       a->id ? a->id : "?", a->line);
			break;
		}
	}
}

/* ---- Standards ----------------------------------------------------- */

static void load_standard(struct ctx *x, const config_setting_t *g, int i,
                          struct cfg_standard *sd,
                          const config_setting_t **id_s)
{
	struct val v[D_N];
	char label[128];

	elem_label(label, sizeof(label), "standard", peek_string(g, "id"), i);
	check_group(x, g, standard_keys, D_N, label, SCOPE_ANY, v);
	sd->line = setting_line(g);
	sd->id = name_value(x, &v[D_ID], label, "id");
	*id_s = v[D_ID].s;
	sd->model = v[D_MODEL].ok ? dup(x, v[D_MODEL].str) : NULL;
	sd->serial = v[D_SERIAL].ok ? dup(x, v[D_SERIAL].str) : NULL;
	sd->owner = v[D_OWNER].ok ? dup(x, v[D_OWNER].str) : NULL;
	sd->location = v[D_LOCATION].ok ? dup(x, v[D_LOCATION].str) : NULL;
	sd->cal_interval_days = (int)v[D_CAL_INTERVAL].i;
	sd->due_soon_days = (int)v[D_DUE_SOON].i;
}

/* Standards: each id unique among standards and instruments. */
static void load_standards(struct ctx *x, const struct val *v, struct config *c)
{
	const config_setting_t *list = v->ok ? v->s : NULL;
	int n = list != NULL ? config_setting_length(list) : 0;
	const config_setting_t **id_s;

	if (n == 0)
		return;
	c->standards = calloc((size_t)n, sizeof(*c->standards));
	id_s = calloc((size_t)n, sizeof(*id_s));
	if (c->standards == NULL || id_s == NULL) {
		x->oom = true;
		free(id_s);
		return;
	}
	c->nstandards = n;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e =
		        config_setting_get_elem(list, (unsigned)i);
		c->standards[i].line = setting_line(e);
		if (is_group_elem(x, e, "", "standards", i))
			load_standard(x, e, i, &c->standards[i], &id_s[i]);
	}
	for (int i = 0; i < n; i++) {
		const char *id = c->standards[i].id;
		int first = 0;
		for (int j = 0; id != NULL && j < i && !first; j++)
			if (c->standards[j].id != NULL &&
			    strcmp(c->standards[j].id, id) == 0)
				first = c->standards[j].line;
		for (int j = 0; id != NULL && j < c->ninstruments && !first;
		     j++)
			if (c->instruments[j].id != NULL &&
			    strcmp(c->instruments[j].id, id) == 0)
				first = c->instruments[j].line;
		if (first)
			err_at(x, id_s[i], "",
			       "duplicate id \"%s\": already an instrument or "
			       "standard at line %d",
			       id, first);
	}
	free(id_s);
}

/* ---- The laboratory and its customers ------------------------------ */

/* A text printed on certificates: printable UTF-8 (no control
 * characters), short enough for a calibration record (calib.h). NULL
 * when absent or refused (reported). */
static char *cert_text(struct ctx *x, const struct val *v, const char *label,
                       const char *key)
{
	char why[96];

	if (!v->ok)
		return NULL;
	if (strlen(v->str) >= CALIB_TEXT - 1) {
		err_at(x, v->s, label, "%s is too long (at most %d bytes)", key,
		       CALIB_TEXT - 2);
		return NULL;
	}
	if (text_printable(v->str, why, sizeof(why)) < 0) {
		err_at(x, v->s, label, "%s: %s", key, why);
		return NULL;
	}
	return dup(x, v->str);
}

/* 0 when name is a zone of the system's zoneinfo database ($TZDIR, else
 * /usr/share/zoneinfo): a relative path of letters, digits and "._+-"
 * without "." or ".." parts, naming a TZif file. Else -1 with why. */
static int zone_known(const char *name, char *why, size_t size)
{
	const char *dir = getenv("TZDIR"), *p;
	char path[512], magic[4];
	FILE *f;
	size_t n;

	if (dir == NULL || *dir == '\0')
		dir = "/usr/share/zoneinfo";
	for (p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && strchr("/._+-", *p) == NULL)
			break;
	if (*name == '\0' || *p != '\0' || *name == '/' || *name == '.' ||
	    strstr(name, "/.") != NULL || strstr(name, "//") != NULL) {
		snprintf(why, size, "'%s' is not a time zone name", name);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(why, size,
		         "'%s' is not a time zone this system knows "
		         "(%s: %s)",
		         name, path, strerror(errno));
		return -1;
	}
	n = fread(magic, 1, sizeof(magic), f);
	fclose(f);
	if (n != sizeof(magic) || memcmp(magic, "TZif", 4) != 0) {
		snprintf(why, size,
		         "'%s' is not a time zone (%s is no TZif file)", name,
		         path);
		return -1;
	}
	return 0;
}

static void load_lab(struct ctx *x, const struct val *lv, struct config *c)
{
	char why[640];

	struct val v[LB_N];
	struct cfg_lab *l;

	if (!lv->ok || lv->s == NULL)
		return;
	check_group(x, lv->s, lab_keys, LB_N, "lab", SCOPE_ANY, v);
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		x->oom = true;
		return;
	}
	c->lab = l;
	l->line = setting_line(lv->s);
	l->name = cert_text(x, &v[LB_NAME], "lab", "name");
	l->address = cert_text(x, &v[LB_ADDRESS], "lab", "address");
	l->accreditation =
	        cert_text(x, &v[LB_ACCREDITATION], "lab", "accreditation");
	l->location = cert_text(x, &v[LB_LOCATION], "lab", "location");
	l->logo = cert_text(x, &v[LB_LOGO], "lab", "logo");
	l->timezone = cert_text(x, &v[LB_TIMEZONE], "lab", "timezone");
	if (l->timezone != NULL && l->timezone[0] != '\0' &&
	    zone_known(l->timezone, why, sizeof(why)) < 0)
		err_at(x, v[LB_TIMEZONE].s, "lab",
		       "timezone %s; names are those of tzselect(8), e.g. "
		       "\"Asia/Ho_Chi_Minh\"",
		       why);
	if (v[LB_NAME].ok && v[LB_NAME].str[0] == '\0')
		err_at(x, v[LB_NAME].s, "lab", "name must not be empty");
	if (v[LB_ADDRESS].ok && v[LB_ADDRESS].str[0] == '\0')
		err_at(x, v[LB_ADDRESS].s, "lab", "address must not be empty");
}

static void load_customer(struct ctx *x, const config_setting_t *g, int i,
                          struct cfg_customer *cu)
{
	struct val v[U_N];
	char label[128];

	elem_label(label, sizeof(label), "customer", peek_string(g, "id"), i);
	check_group(x, g, customer_keys, U_N, label, SCOPE_ANY, v);
	cu->id = name_value(x, &v[U_ID], label, "id");
	cu->name = cert_text(x, &v[U_NAME], label, "name");
	cu->address = cert_text(x, &v[U_ADDRESS], label, "address");
	cu->contact = cert_text(x, &v[U_CONTACT], label, "contact");
	if (v[U_NAME].ok && v[U_NAME].str[0] == '\0')
		err_at(x, v[U_NAME].s, label, "name must not be empty");
}

/* Customers: each id unique among customers. */
static void load_customers(struct ctx *x, const struct val *v, struct config *c)
{
	const config_setting_t *list = v->ok ? v->s : NULL;
	int n = list != NULL ? config_setting_length(list) : 0;

	if (n == 0)
		return;
	if ((c->customers = calloc((size_t)n, sizeof(*c->customers))) == NULL) {
		x->oom = true;
		return;
	}
	c->ncustomers = n;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e =
		        config_setting_get_elem(list, (unsigned)i);
		struct cfg_customer *cu = &c->customers[i];
		cu->line = setting_line(e);
		if (!is_group_elem(x, e, "", "customers", i))
			continue;
		load_customer(x, e, i, cu);
		for (int j = 0; cu->id != NULL && j < i; j++)
			if (c->customers[j].id != NULL &&
			    strcmp(c->customers[j].id, cu->id) == 0) {
				err_at(x, config_setting_get_member(e, "id"),
				       "",
				       "duplicate customer id \"%s\": already "
				       "at line %d",
				       cu->id, c->customers[j].line);
				break;
			}
	}
}

/* ---- The whole file ------------------------------------------------ */

/* Channel slots to reserve: the channels lists of all instruments. */
static size_t count_channels(const config_setting_t *list)
{
	int n = list != NULL ? config_setting_length(list) : 0;
	size_t total = 0;

	for (int i = 0; i < n; i++) {
		const config_setting_t *e =
		        config_setting_get_elem(list, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_GROUP)
			continue;
		const config_setting_t *ch =
		        config_setting_get_member(e, "channels");
		if (ch != NULL && config_setting_type(ch) == CONFIG_TYPE_LIST)
			total += (size_t)config_setting_length(ch);
	}
	return total;
}

/* "FILE:LINE" of setting s, as err_at() names it (NULL: out of memory,
 * recorded). */
static char *where_of(struct ctx *x, const config_setting_t *s)
{
	const char *file = config_setting_source_file(s) != NULL
	                           ? config_setting_source_file(s)
	                           : x->path;
	size_t len = strlen(file) + 16;
	char *at = malloc(len);

	if (at == NULL)
		x->oom = true;
	else
		snprintf(at, len, "%s:%d", file, setting_line(s));
	return at;
}

static void validate(struct ctx *x, const config_t *lc, struct config_priv *p)
{
	struct config *c = &p->c;
	struct val v[T_N];
	struct bus_info *bi = NULL;
	struct inst_info *ii = NULL;

	check_group(x, config_root_setting(lc), top_keys, T_N, "", SCOPE_ANY,
	            v);
	c->site = name_value(x, &v[T_SITE], "", "site");
	if (v[T_DATABASE].ok && v[T_DATABASE].str[0] == '\0')
		err_at(x, v[T_DATABASE].s, "", "database must not be empty");
	else if (v[T_DATABASE].ok) {
		c->database = dup(x, v[T_DATABASE].str);
		p->database_at = where_of(x, v[T_DATABASE].s);
	}
	load_storage(x, &v[T_STORAGE], c);
	load_mqtt(x, &v[T_MQTT], c);
	load_lab(x, &v[T_LAB], c);
	load_customers(x, &v[T_CUSTOMERS], c);

	const config_setting_t *buses = v[T_BUSES].ok ? v[T_BUSES].s : NULL;
	int nb = buses != NULL ? config_setting_length(buses) : 0;
	if (buses != NULL && nb == 0)
		err_at(x, buses, "", "buses must list at least one bus");
	bi = calloc(nb > 0 ? (size_t)nb : 1, sizeof(*bi));
	c->buses = calloc(nb > 0 ? (size_t)nb : 1, sizeof(*c->buses));
	if (bi == NULL || c->buses == NULL)
		goto oom;
	c->nbuses = nb;
	for (int i = 0; i < nb; i++) {
		const config_setting_t *e =
		        config_setting_get_elem(buses, (unsigned)i);
		c->buses[i].line = setting_line(e);
		bi[i].g = e;
		if (is_group_elem(x, e, "", "buses", i))
			load_bus(x, e, i, &c->buses[i], &bi[i]);
	}
	check_buses(x, c, bi);

	const config_setting_t *insts =
	        v[T_INSTRUMENTS].ok ? v[T_INSTRUMENTS].s : NULL;
	int ni = insts != NULL ? config_setting_length(insts) : 0;
	if (insts != NULL && ni == 0)
		err_at(x, insts, "",
		       "instruments must list at least one instrument");
	p->nslots = count_channels(insts);
	p->channels = calloc(p->nslots ? p->nslots : 1, sizeof(*p->channels));
	p->inst_of = calloc(p->nslots ? p->nslots : 1, sizeof(*p->inst_of));
	c->instruments =
	        calloc(ni > 0 ? (size_t)ni : 1, sizeof(*c->instruments));
	ii = calloc(ni > 0 ? (size_t)ni : 1, sizeof(*ii));
	if (!p->channels || !p->inst_of || !c->instruments || !ii)
		goto oom;
	c->ninstruments = ni;
	uint32_t next = 0;
	for (int i = 0; i < ni; i++) {
		const config_setting_t *e =
		        config_setting_get_elem(insts, (unsigned)i);
		c->instruments[i].line = setting_line(e);
		c->instruments[i].bus = -1;
		if (is_group_elem(x, e, "", "instruments", i))
			load_instrument(x, e, i, p, &c->instruments[i], &ii[i],
			                bi, &next);
	}
	assert(next <= p->nslots);
	c->nchannels = (int)next;
	check_instruments(x, c, ii);
	load_standards(x, &v[T_STANDARDS], c);
	free(bi);
	free(ii);
	return;
oom:
	x->oom = true;
	free(bi);
	free(ii);
}

struct config *config_load(const char *path, FILE *errs)
{
	struct ctx x = {.path = path};
	struct config_priv *p = NULL;
	struct stat st;
	config_t lc;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		if (errs != NULL)
			fprintf(errs, "%s: cannot open: %s\n", path,
			        strerror(errno));
		return NULL;
	}
	int is_dir = fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode);
	fclose(f);
	if (is_dir) {
		if (errs != NULL)
			fprintf(errs, "%s: cannot read: %s\n", path,
			        strerror(EISDIR));
		return NULL;
	}

	config_init(&lc);
	if (config_read_file(&lc, path) != CONFIG_TRUE) {
		const char *file = config_error_file(&lc) != NULL
		                           ? config_error_file(&lc)
		                           : path;
		if (errs != NULL &&
		    config_error_type(&lc) == CONFIG_ERR_FILE_IO)
			fprintf(errs, "%s: cannot read: %s\n", file,
			        config_error_text(&lc));
		else if (errs != NULL)
			fprintf(errs, "%s:%d: %s\n", file,
			        config_error_line(&lc), config_error_text(&lc));
		config_destroy(&lc);
		return NULL;
	}

	p = calloc(1, sizeof(*p));
	x.text = cfg_text_new();
	if (p == NULL || (p->c.path = strdup(path)) == NULL || x.text == NULL)
		x.oom = true;
	else
		validate(&x, &lc, p);
	errors_print(&x, errs); /* before config_destroy: names its files */
	bool failed = x.nerrs > 0 || x.oom;
	errors_free(&x);
	cfg_text_free(x.text);
	config_destroy(&lc);
	if (failed) {
		config_free(p != NULL ? &p->c : NULL);
		return NULL;
	}
	return &p->c;
}

/* Whether this process may create a file in dir: one is made and removed
 * (what SQLite will do with the database, its -wal and -shm; a read-only
 * file system or an ACL counts as it will). 0, or -1 with errno. */
static int can_create_in(const char *dir)
{
	size_t len = strlen(dir) + 32;
	char *name = malloc(len);
	FILE *f;
	int fd, e;

	if (name == NULL)
		return -1;
	snprintf(name, len, "%s/.metrologd-check-XXXXXX", dir);
	fd = mkstemp(name);
	e = errno;
	if (fd >= 0) {
		/* closed through stdio: unistd.h's dup() would clash */
		if ((f = fdopen(fd, "w")) != NULL)
			fclose(f);
		remove(name);
	}
	free(name);
	errno = e;
	return fd >= 0 ? 0 : -1;
}

/* Why metrologd could not keep its database at path, whose directory is
 * dir, into why; "" when nothing is wrong that this process can see. */
static void database_problem(const char *path, const char *dir, char *why,
                             size_t size)
{
	struct stat st;
	FILE *f;

	why[0] = '\0';
	if (stat(dir, &st) != 0) {
		if (errno == ENOENT)
			snprintf(why, size, "directory %s does not exist", dir);
		else
			snprintf(why, size, "directory %s: %s", dir,
			         strerror(errno));
	} else if (!S_ISDIR(st.st_mode)) {
		snprintf(why, size, "%s is not a directory", dir);
	} else if (can_create_in(dir) != 0) {
		snprintf(why, size, "directory %s is not writable: %s", dir,
		         strerror(errno));
	} else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(why, size, "is a directory");
	} else if (stat(path, &st) == 0) {
		if ((f = fopen(path, "r+")) == NULL) /* read and write, as is */
			snprintf(why, size, "cannot be read and written: %s",
			         strerror(errno));
		else
			fclose(f);
	}
}

int config_check_database(const struct config *c, FILE *errs)
{
	const struct config_priv *p = (const struct config_priv *)c;
	char *copy = strdup(c->database);
	char why[1024];

	if (copy == NULL) {
		fprintf(errs, "%s: out of memory\n", p->database_at);
		return -1;
	}
	database_problem(c->database, dirname(copy), why, sizeof(why));
	free(copy);
	if (why[0] == '\0')
		return 0;
	fprintf(errs, "%s: database \"%s\": %s\n", p->database_at, c->database,
	        why);
	return -1;
}

void config_free(struct config *c)
{
	struct config_priv *p = (struct config_priv *)c;

	if (c == NULL)
		return;
	free(p->database_at);
	for (int i = 0; c->buses != NULL && i < c->nbuses; i++) {
		free(c->buses[i].name);
		free((char *)c->buses[i].params.host);
		free((char *)c->buses[i].params.device);
	}
	for (int i = 0; c->instruments != NULL && i < c->ninstruments; i++) {
		struct cfg_instrument *in = &c->instruments[i];
		free(in->id);
		free(in->model);
		free(in->serial);
		free(in->owner);
		free(in->location);
	}
	for (int i = 0; c->standards != NULL && i < c->nstandards; i++) {
		struct cfg_standard *sd = &c->standards[i];
		free(sd->id);
		free(sd->model);
		free(sd->serial);
		free(sd->owner);
		free(sd->location);
	}
	free(c->standards);
	if (c->lab != NULL) {
		free(c->lab->name);
		free(c->lab->address);
		free(c->lab->accreditation);
		free(c->lab->location);
		free(c->lab->logo);
		free(c->lab->timezone);
		free(c->lab);
	}
	for (int i = 0; c->customers != NULL && i < c->ncustomers; i++) {
		free(c->customers[i].id);
		free(c->customers[i].name);
		free(c->customers[i].address);
		free(c->customers[i].contact);
	}
	free(c->customers);
	for (size_t i = 0; p->channels != NULL && i < p->nslots; i++) {
		free(p->channels[i].name);
		free(p->channels[i].unit);
		if (p->channels[i].tolerance != NULL)
			free(p->channels[i].tolerance->ref_name);
		free(p->channels[i].tolerance);
	}
	if (c->mqtt != NULL) {
		free(c->mqtt->host);
		free(c->mqtt->prefix);
		free(c->mqtt->client_id);
		free(c->mqtt->ca_file);
		free(c->mqtt->cert_file);
		free(c->mqtt->key_file);
		free(c->mqtt->username);
		free(c->mqtt->password_file);
		free(c->mqtt->ha_prefix);
		free(c->mqtt);
	}
	free(p->channels);
	free(p->inst_of);
	free(c->buses);
	free(c->instruments);
	free(c->site);
	free(c->database);
	free(c->path);
	free(p);
}

const struct cfg_channel *config_channel(const struct config *c, uint32_t index,
                                         const struct cfg_instrument **inst)
{
	const struct config_priv *p = (const struct config_priv *)c;

	assert(index < (uint32_t)c->nchannels);
	if (index >= (uint32_t)c->nchannels) {
		if (inst != NULL)
			*inst = NULL;
		return NULL;
	}
	if (inst != NULL)
		*inst = &c->instruments[p->inst_of[index]];
	return &p->channels[index];
}
