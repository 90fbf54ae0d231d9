/*
 * test_config.c - the configuration loader (gateway/src/config.c).
 *
 * A full configuration loads with every field as written or defaulted; each
 * bad file of tests/fixtures/config/bad/ is refused with exactly the error
 * lines of its .expected companion (the fixture's path replaced by FILE), so
 * that a changed message is a visible change; every example configuration
 * in config/ loads. Errors are captured with open_memstream().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_load.h"

#define FIXTURES METROLOG_FIXTURES "/config"
#define EXAMPLES METROLOG_FIXTURES "/../../config"

/* Load path; *errs gets what config_load() wrote (free it). */
static struct config *load(const char *path, char **errs)
{
	size_t len = 0;
	FILE *f = open_memstream(errs, &len);

	assert_non_null(f);
	struct config *c = config_load(path, f);
	assert_int_equal(fclose(f), 0);
	return c;
}

/* The whole of a file, NUL-terminated (free it). */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (f == NULL)
		fail_msg("cannot open %s", path);
	FILE *out = open_memstream(&buf, &len);
	assert_non_null(out);
	int ch;
	while ((ch = getc(f)) != EOF)
		putc(ch, out);
	fclose(f);
	assert_int_equal(fclose(out), 0);
	return buf;
}

/* s with every occurrence of from replaced by to (free it). */
static char *replace(const char *s, const char *from, const char *to)
{
	char *buf = NULL;
	size_t len = 0, n = strlen(from);
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	while (*s) {
		if (strncmp(s, from, n) == 0) {
			fputs(to, out);
			s += n;
		} else {
			putc(*s++, out);
		}
	}
	assert_int_equal(fclose(out), 0);
	return buf;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* ---- A good file --------------------------------------------------- */

static void good_config_loads_every_field(void **state)
{
	(void)state;
	char *errs = NULL;
	struct config *c = load(FIXTURES "/good.cfg", &errs);

	if (c == NULL)
		fail_msg("good.cfg refused:\n%s", errs);
	assert_string_equal(errs, "");
	free(errs);

	assert_string_equal(c->path, FIXTURES "/good.cfg");
	assert_non_null(c->mqtt);
	assert_string_equal(c->mqtt->host, "broker.lab.example");
	assert_int_equal(c->mqtt->port, 8883);
	assert_string_equal(c->mqtt->prefix, "prov/metrolog");
	assert_string_equal(c->mqtt->client_id, "gw-lab-1");
	assert_int_equal(c->mqtt->qos, 0);
	assert_int_equal(c->mqtt->keepalive_s, 60);
	assert_int_equal(c->mqtt->inflight, 32);
	assert_int_equal(c->mqtt->outbox_max, 5000);
	assert_int_equal(c->mqtt->outbox_full, OUTBOX_DROP_OLDEST);
	assert_int_equal(c->mqtt->historical_s, 30);
	assert_string_equal(c->site, "lab-1");
	assert_string_equal(c->database, "/var/lib/metrolog/metrolog.db");
	assert_int_equal(c->batch_max, 500);
	assert_int_equal(c->batch_ms, 250);
	assert_int_equal(c->queue_size, 4096);
	assert_int_equal(c->queue_full, QUEUE_BLOCK);
	assert_int_equal(c->retention_days, 3650);

	/* buses: TCP with defaults, TCP with all, RTU with all, RTU defaults */
	assert_int_equal(c->nbuses, 4);
	const struct cfg_bus *b = &c->buses[0];
	assert_string_equal(b->name, "bench-a");
	assert_int_equal(b->params.kind, BUS_TCP);
	assert_string_equal(b->params.host, "127.0.0.1");
	assert_int_equal(b->params.port, 1502);
	assert_int_equal(b->params.timeout_ms, 500);
	assert_false(b->connect_per_poll);
	assert_int_equal(b->backoff_max_ms, 60000);
	assert_null(b->params.device);
	assert_int_equal(b->line, 14);
	b = &c->buses[1];
	assert_string_equal(b->name, "bench-b");
	assert_string_equal(b->params.host, "lab-gw.example");
	assert_int_equal(b->params.port, 502);
	assert_int_equal(b->params.timeout_ms, 250);
	assert_true(b->connect_per_poll);
	assert_int_equal(b->backoff_max_ms, 5000);
	b = &c->buses[2];
	assert_string_equal(b->name, "rs485-1");
	assert_int_equal(b->params.kind, BUS_RTU);
	assert_string_equal(b->params.device, "/dev/ttyUSB0");
	assert_null(b->params.host);
	assert_int_equal(b->params.baud, 19200);
	assert_int_equal(b->params.parity, 'N');
	assert_int_equal(b->params.data_bits, 8);
	assert_int_equal(b->params.stop_bits, 2);
	assert_int_equal(b->params.timeout_ms, 300);
	assert_int_equal(b->turnaround_ms, 5);
	assert_int_equal(b->silence_margin_us, 250);
	assert_int_equal(b->backoff_max_ms, 100);
	b = &c->buses[3];
	assert_string_equal(b->params.device, "/dev/ttyUSB1");
	assert_int_equal(b->params.baud, 9600);
	assert_int_equal(b->params.parity, 'E');
	assert_int_equal(b->params.data_bits, 8);
	assert_int_equal(b->params.stop_bits, 1);
	assert_int_equal(b->params.timeout_ms, 500);
	assert_int_equal(b->turnaround_ms, 0);
	assert_int_equal(b->silence_margin_us, 0);
	assert_int_equal(b->backoff_max_ms, 60000);

	/* the first instrument, every field given */
	assert_int_equal(c->ninstruments, 4);
	const struct cfg_instrument *in = &c->instruments[0];
	assert_string_equal(in->id, "TB-01");
	assert_int_equal(in->bus, 0);
	assert_int_equal(in->unit_id, 1);
	assert_int_equal(in->interval_ms, 1000);
	assert_int_equal(in->max_gap, 16);
	assert_string_equal(in->model, "bath controller");
	assert_string_equal(in->serial, "B-20417");
	assert_string_equal(in->owner, "ACME");
	assert_string_equal(in->location, "room 2");
	assert_int_equal(in->line, 26);
	assert_int_equal(in->nchannels, 7);

	const struct cfg_channel *ch = &in->channels[0];
	assert_string_equal(ch->name, "temperature");
	assert_string_equal(ch->unit, "degC");
	assert_int_equal(ch->table, BUS_INPUT_REGISTERS);
	assert_int_equal(ch->address, 0);
	assert_int_equal(ch->spec.type, DECODE_FLOAT32);
	const uint8_t cdab[4] = {2, 3, 0, 1};
	assert_memory_equal(ch->spec.order, cdab, 4);
	assert_true(ch->spec.scale == 2.0);
	assert_true(ch->spec.offset == -0.5);
	assert_int_equal(ch->index, 0);
	assert_int_equal(ch->line, 37);

	/* "40011" is holding register 10; two bits of it are allowed */
	ch = &in->channels[1];
	assert_string_equal(ch->name, "alarm");
	assert_string_equal(ch->unit, "");
	assert_int_equal(ch->table, BUS_HOLDING_REGISTERS);
	assert_int_equal(ch->address, 10);
	assert_int_equal(ch->spec.type, DECODE_BIT);
	assert_int_equal(ch->spec.bit, 3);
	assert_true(ch->spec.scale == 1.0);
	assert_true(ch->spec.offset == 0.0);
	const uint8_t abcd[8] = {0, 1, 2, 3, 4, 5, 6, 7};
	assert_memory_equal(ch->spec.order, abcd, 8);
	ch = &in->channels[2];
	assert_int_equal(ch->table, BUS_HOLDING_REGISTERS);
	assert_int_equal(ch->address, 10);
	assert_int_equal(ch->spec.bit, 4);

	ch = &in->channels[3];
	assert_int_equal(ch->spec.type, DECODE_STRING);
	assert_int_equal(ch->spec.string_words, 8);
	assert_int_equal(decode_words(&ch->spec), 8);
	ch = &in->channels[4];
	assert_int_equal(ch->table, BUS_COILS);
	assert_int_equal(ch->spec.type, DECODE_BIT);
	assert_int_equal(ch->spec.bit, 0);
	ch = &in->channels[5];
	assert_int_equal(ch->table, BUS_DISCRETE_INPUTS);
	assert_int_equal(ch->address, 1);
	assert_int_equal(ch->spec.type, DECODE_BIT);
	ch = &in->channels[6];
	assert_int_equal(ch->table, BUS_HOLDING_REGISTERS);
	assert_int_equal(ch->address, 65532); /* 65532..65535: fits */
	const uint8_t hgfedcba[8] = {7, 6, 5, 4, 3, 2, 1, 0};
	assert_memory_equal(ch->spec.order, hgfedcba, 8);

	/* defaults of an instrument; the ends of the ranges */
	in = &c->instruments[1];
	assert_string_equal(in->id, "PG-2");
	assert_int_equal(in->bus, 2);
	assert_int_equal(in->unit_id, 247);
	assert_int_equal(in->interval_ms, 10);
	assert_int_equal(in->max_gap, 8);
	assert_string_equal(in->model, "");
	assert_string_equal(in->serial, "");
	assert_string_equal(in->owner, "");
	assert_string_equal(in->location, "");
	assert_int_equal(in->channels[0].table, BUS_INPUT_REGISTERS);
	assert_int_equal(in->channels[0].address, 0);
	assert_int_equal(in->channels[0].index, 7);
	in = &c->instruments[2];
	assert_int_equal(in->interval_ms, 86400000);
	assert_int_equal(in->max_gap, 0);
	assert_int_equal(in->channels[0].table, BUS_DISCRETE_INPUTS);
	assert_int_equal(in->channels[0].address, 65535);
	assert_true(in->channels[1].spec.scale == 0.01);
	assert_int_equal(c->instruments[3].unit_id, 0); /* 0 is fine on TCP */
	assert_int_equal(c->instruments[3].bus, 1);

	/* global channel index, both ways */
	assert_int_equal(c->nchannels, 11);
	for (uint32_t i = 0; i < (uint32_t)c->nchannels; i++) {
		const struct cfg_instrument *owner = NULL;
		ch = config_channel(c, i, &owner);
		assert_non_null(ch);
		assert_int_equal(ch->index, i);
		assert_true(ch >= owner->channels &&
		            ch < owner->channels + owner->nchannels);
	}
	const struct cfg_instrument *owner = NULL;
	ch = config_channel(c, 9, &owner);
	assert_string_equal(owner->id, "PG-3");
	assert_string_equal(ch->name, "q");
	assert_ptr_equal(config_channel(c, 10, NULL),
	                 &c->instruments[3].channels[0]);
	config_free(c);
}

static void minimal_config_takes_defaults(void **state)
{
	(void)state;
	char *errs = NULL;
	struct config *c = load(FIXTURES "/minimal.cfg", &errs);

	if (c == NULL)
		fail_msg("minimal.cfg refused:\n%s", errs);
	free(errs);
	assert_int_equal(c->batch_max, 1000);
	assert_int_equal(c->batch_ms, 20);
	assert_int_equal(c->queue_size, 65536);
	assert_int_equal(c->queue_full, QUEUE_DROP_OLDEST);
	assert_int_equal(c->retention_days, 0);
	assert_null(c->mqtt); /* no mqtt group: nothing is published */
	assert_string_equal(c->database, "metrolog.db"); /* as given */
	assert_int_equal(c->nchannels, 1);
	assert_int_equal(c->instruments[0].channels[0].spec.type,
	                 DECODE_UINT16);
	config_free(c);
	config_free(NULL);
}

/* Integers are read as written, with 64 bits, whatever libconfig 1.5 made
 * of them (it narrows to 32 bits): hexadecimal, L, a sign, a float setting
 * written as an integer past 32 bits. */
static void integers_read_as_written(void **state)
{
	(void)state;
	char *errs = NULL;
	struct config *c = load(FIXTURES "/integers.cfg", &errs);

	if (c == NULL)
		fail_msg("integers.cfg refused:\n%s", errs);
	free(errs);
	assert_int_equal(c->batch_ms, 250);
	assert_int_equal(c->queue_size, 1048576);
	assert_int_equal(c->buses[0].params.port, 502);
	assert_int_equal(c->instruments[0].interval_ms, 86400000);
	assert_int_equal(c->nchannels, 2);
	assert_true(c->instruments[0].channels[0].spec.scale == 4294967296.0);
	assert_int_equal(c->instruments[0].channels[1].address, 65535);
	assert_true(c->instruments[0].channels[1].spec.scale == -1.0);
	config_free(c);
}

/* Every tolerance form gives its limits at the reference value; the
 * values are binary fractions so the limits compare exactly. */
static void tolerance_forms_give_limits(void **state)
{
	(void)state;
	char *errs = NULL;
	struct config *c = load(FIXTURES "/tolerance.cfg", &errs);

	if (c == NULL)
		fail_msg("tolerance.cfg refused:\n%s", errs);
	free(errs);
	assert_int_equal(c->nchannels, 8);
	const struct cfg_tolerance *t = c->instruments[0].channels[0].tolerance;
	assert_non_null(t);
	assert_int_equal(t->tol.form, DRIFT_TOL_ABS);
	assert_true(t->reference == 20.0);
	assert_true(t->lower == -0.5 && t->upper == 0.5);
	assert_true(t->U == 0.125 && t->k == 2);
	assert_int_equal(t->rule, TOL_RULE_GUARDED);
	assert_true(t->guard_factor == 1 && t->guard == 0.125);
	assert_true(t->warning == 0.75 && t->hysteresis == 0.1);
	assert_int_equal(t->consecutive, 5);
	assert_true(t->ewma_lambda == 0.2 && t->ewma_L == 2.7);
	assert_true(t->cusum_k == 0.5 && t->cusum_h == 4);
	assert_int_equal(t->baseline, 20);
	assert_true(t->baseline_sigma == 0);

	/* 0.5 % of 200 */
	t = c->instruments[0].channels[1].tolerance;
	assert_int_equal(t->tol.form, DRIFT_TOL_PCT_READING);
	assert_true(t->lower == -1 && t->upper == 1);
	assert_int_equal(t->rule, TOL_RULE_SIMPLE);
	assert_true(t->guard == 0);
	assert_true(t->warning == DRIFT_WARN_FRACTION);
	assert_int_equal(t->consecutive, DRIFT_CONSECUTIVE);
	assert_true(t->ewma_lambda == 0 && t->cusum_h == 0);
	/* 0.5 % of 100 + 2 digits of 0.25 */
	t = c->instruments[0].channels[2].tolerance;
	assert_int_equal(t->tol.form, DRIFT_TOL_PCT_DIGITS);
	assert_true(t->lower == -1 && t->upper == 1);
	/* 1 % of a 50 span */
	t = c->instruments[0].channels[3].tolerance;
	assert_int_equal(t->tol.form, DRIFT_TOL_PCT_SPAN);
	assert_true(t->lower == -0.5 && t->upper == 0.5);
	/* 50000 ppm of 10 + 25000 ppm of 20 */
	t = c->instruments[0].channels[4].tolerance;
	assert_int_equal(t->tol.form, DRIFT_TOL_PPM);
	assert_true(t->lower == -1 && t->upper == 1);
	/* asymmetric, CUSUM with a given sigma */
	t = c->instruments[0].channels[5].tolerance;
	assert_int_equal(t->tol.form, DRIFT_TOL_ASYM);
	assert_true(t->lower == -0.25 && t->upper == 0.5);
	assert_true(t->cusum_h == 5 && t->baseline_sigma == 0.125);
	assert_null(c->instruments[0].channels[6].tolerance);
	assert_false(c->instruments[0].channels[0].tolerance->by_channel);
	/* against channel "plain" (index 6), limits 0.5 % of 100 */
	t = c->instruments[0].channels[7].tolerance;
	assert_true(t->by_channel);
	assert_int_equal(t->ref_channel, 6);
	assert_string_equal(t->ref_name, "plain");
	assert_true(t->lower == -0.5 && t->upper == 0.5);
	config_free(c);
}

/* An empty mqtt group turns publishing on with every default. */
static void mqtt_group_takes_defaults(void **state)
{
	(void)state;
	char *errs = NULL;
	struct config *c = load(FIXTURES "/mqtt_defaults.cfg", &errs);

	if (c == NULL)
		fail_msg("mqtt_defaults.cfg refused:\n%s", errs);
	free(errs);
	assert_non_null(c->mqtt);
	assert_string_equal(c->mqtt->host, "127.0.0.1");
	assert_int_equal(c->mqtt->port, 1883);
	assert_string_equal(c->mqtt->prefix, "metrolog");
	assert_string_equal(c->mqtt->client_id, "metrologd-lab-2");
	assert_int_equal(c->mqtt->qos, 1);
	assert_int_equal(c->mqtt->keepalive_s, 30);
	assert_int_equal(c->mqtt->inflight, 64);
	assert_int_equal(c->mqtt->outbox_max, 1000000);
	assert_int_equal(c->mqtt->outbox_full, OUTBOX_DROP_OLDEST);
	assert_int_equal(c->mqtt->historical_s, 10);
	assert_false(c->mqtt->tls);
	assert_null(c->mqtt->username);
	assert_null(c->mqtt->password_file);
	assert_int_equal(c->mqtt->version, 3);
	assert_null(c->mqtt->ha_prefix);
	config_free(c);
}

/* mqtt.version = 5 and an empty homeassistant group: discovery on, under
 * the default prefix. */
static void mqtt_v5_and_homeassistant(void **state)
{
	(void)state;
	char *errs = NULL;
	struct config *c = load(FIXTURES "/mqtt_v5_ha.cfg", &errs);

	if (c == NULL)
		fail_msg("mqtt_v5_ha.cfg refused:\n%s", errs);
	free(errs);
	assert_non_null(c->mqtt);
	assert_int_equal(c->mqtt->version, 5);
	assert_non_null(c->mqtt->ha_prefix);
	assert_string_equal(c->mqtt->ha_prefix, "homeassistant");
	config_free(c);
}

/* The security keys: tls (files checked, verify), username and
 * password_file. The files only have to be readable, so the fixtures
 * stand in for certificates; the config is written to a temporary file
 * because the paths are absolute. */
static void mqtt_security_keys_load(void **state)
{
	(void)state;
	char path[] = "/tmp/metrolog-test-config-XXXXXX", *errs = NULL;
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	assert_non_null(f);
	fprintf(f,
	        "site = \"lab-1\";\ndatabase = \"test.db\";\n"
	        "mqtt = { port = 8883; username = \"gw-lab-1\";\n"
	        "  password_file = \"%s\";\n"
	        "  tls = { ca_file = \"%s\"; cert_file = \"%s\";\n"
	        "          key_file = \"%s\"; verify = false; }; };\n"
	        "buses = ( { name = \"b\"; type = \"tcp\"; "
	        "host = \"127.0.0.1\"; port = 1502; } );\n"
	        "instruments = ( { id = \"TB-01\"; bus = \"b\"; unit_id = 1; "
	        "interval_ms = 1000; channels = ( { name = \"t\"; "
	        "table = \"input\"; "
	        "address = 0; type = \"float32\"; } ); } );\n",
	        FIXTURES "/minimal.cfg", FIXTURES "/good.cfg",
	        FIXTURES "/mqtt_defaults.cfg", FIXTURES "/minimal.cfg");
	assert_int_equal(fclose(f), 0);
	struct config *c = load(path, &errs);
	unlink(path);
	if (c == NULL)
		fail_msg("refused:\n%s", errs);
	free(errs);
	assert_true(c->mqtt->tls);
	assert_false(c->mqtt->tls_verify);
	assert_string_equal(c->mqtt->ca_file, FIXTURES "/good.cfg");
	assert_string_equal(c->mqtt->cert_file, FIXTURES "/mqtt_defaults.cfg");
	assert_string_equal(c->mqtt->key_file, FIXTURES "/minimal.cfg");
	assert_string_equal(c->mqtt->username, "gw-lab-1");
	assert_string_equal(c->mqtt->password_file, FIXTURES "/minimal.cfg");
	config_free(c);
}

/* ---- Bad files: golden errors -------------------------------------- */

/* One mistake per file (many_mistakes: several). Each has a .expected. */
/* clang-format off */
static const char *const bad_files[] = {
	"address_out_of_range", "bad_bus_type", "bad_name_chars",
	"customer_duplicate", "lab_incomplete", "lab_timezone_unknown",
	"lab_timezone_path",
	"bad_order", "bad_register_number", "baud_12345", "bit_on_coil",
	"bit_on_float", "coil_not_bit", "duplicate_bus_name",
	"duplicate_channel_name", "duplicate_endpoint",
	"duplicate_instrument_id", "duplicate_setting", "duplicate_unit_id",
	"empty_buses", "empty_channels", "float_for_int", "float_past_end",
	"interval_zero", "many_mistakes", "max_gap_too_big", "missing_bit",
	"missing_host", "missing_location", "missing_site", "missing_words",
	"mqtt_bad_prefix", "mqtt_not_group", "mqtt_outbox_full_block",
	"mqtt_qos_2", "mqtt_unknown_key", "mqtt_password_in_config",
	"mqtt_password_file_missing", "mqtt_password_file_no_user",
	"mqtt_tls_ca_missing", "mqtt_tls_bad_keys", "mqtt_tls_not_group",
	"mqtt_version_4", "mqtt_ha_bad_prefix",
	"overlapping_registers", "parity_x", "port_zero", "queue_full_maybe",
	"queue_size_small", "register_and_address", "rtu_key_on_tcp",
	"same_bit_twice", "scale_zero", "standard_bad", "storage_not_group",
	"string_past_end", "syntax_error", "table_inputs",
	"tolerance_bad_values", "tolerance_guard_too_wide",
	"tolerance_no_form", "tolerance_reference_channel",
	"tolerance_two_forms", "trend_too_many_bins", "trend_without_days",
	"int_past_64", "int_wraps_32", "int_wraps_same_line",
	"int_wraps_to_1", "unit_id_0_rtu",
	"unit_id_248_rtu", "unit_id_256_tcp", "unit_id_250_tcp",
	"unknown_bus",
	"unknown_key_bus", "unknown_key_channel", "unknown_key_instrument",
	"unknown_key_top", "unknown_type", "words_on_float", "wrong_type",
};
/* clang-format on */
#define NBAD (sizeof(bad_files) / sizeof(bad_files[0]))

static void bad_files_give_exact_errors(void **state)
{
	(void)state;
	int failures = 0;

	for (size_t i = 0; i < NBAD; i++) {
		char path[512], expected_path[512];
		snprintf(path, sizeof(path), FIXTURES "/bad/%s.cfg",
		         bad_files[i]);
		snprintf(expected_path, sizeof(expected_path),
		         FIXTURES "/bad/%s.expected", bad_files[i]);
		char *errs = NULL;
		struct config *c = load(path, &errs);
		char *got = replace(errs, path, "FILE");
		char *want = slurp(expected_path);
		if (c != NULL) {
			print_error("%s: loaded, expected it refused\n",
			            bad_files[i]);
			failures++;
			config_free(c);
		} else if (strcmp(got, want) != 0) {
			print_error("%s: errors differ\n--- expected\n%s"
			            "--- got\n%s",
			            bad_files[i], want, got);
			failures++;
		} else if (count_lines(want) < 1) {
			print_error("%s: empty .expected\n", bad_files[i]);
			failures++;
		}
		free(errs);
		free(got);
		free(want);
	}
	assert_int_equal(failures, 0);
}

/* Every fixture in bad/ is in the table (none forgotten), with its
 * .expected; and there are enough of them. */
static void bad_fixture_table_is_complete(void **state)
{
	(void)state;
	glob_t g;

	assert_int_equal(glob(FIXTURES "/bad/*.cfg", 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, NBAD);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *base = strrchr(g.gl_pathv[i], '/') + 1;
		bool listed = false;
		for (size_t j = 0; j < NBAD; j++)
			listed |= strncmp(base, bad_files[j],
			                  strlen(bad_files[j])) == 0 &&
			          strcmp(base + strlen(bad_files[j]), ".cfg") ==
			                  0;
		if (!listed)
			fail_msg("%s is not in bad_files[]", base);
	}
	globfree(&g);
	assert_true(NBAD >= 25);
}

/* A file with mistakes at every level reports all of them, in file
 * order, not only the first. */
static void several_mistakes_are_all_reported(void **state)
{
	(void)state;
	char *errs = NULL;
	const char *path = FIXTURES "/bad/many_mistakes.cfg";

	assert_null(load(path, &errs));
	assert_int_equal(count_lines(errs), 14);
	const char *where[] = {
	        ":2: site",
	        ":4: storage: batch_max",
	        ":6: bus \"bench-a\"",
	        ":7: bus \"rs485-1\": parity",
	        "unknown bus",
	        "channel \"temperature\": type",
	        ":13: instrument",
	        ":16: instrument \"PC-01\": channels",
	};
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++)
		if (strstr(errs, where[i]) == NULL)
			fail_msg("no \"%s\" in:\n%s", where[i], errs);
	/* sorted by line */
	int last = 0;
	for (const char *p = errs; (p = strstr(p, ".cfg:")) != NULL;) {
		int line = atoi(p + 5);
		assert_true(line >= last);
		last = line;
		p += 5;
	}
	free(errs);
}

static void missing_file_is_one_error(void **state)
{
	(void)state;
	char *errs = NULL;
	const char *path = FIXTURES "/no-such-file.cfg";

	assert_null(load(path, &errs));
	char *want = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&want, &len);
	fprintf(f, "%s: cannot open: No such file or directory\n", path);
	fclose(f);
	assert_string_equal(errs, want);
	free(errs);
	free(want);

	assert_null(load(FIXTURES, &errs));
	assert_string_equal(errs, FIXTURES ": cannot read: Is a directory\n");
	free(errs);

	/* errs may be NULL: refused silently */
	assert_null(config_load(path, NULL));
	assert_null(config_load(FIXTURES "/bad/many_mistakes.cfg", NULL));
}

/* ---- The examples of config/ --------------------------------------- */

static void example_configs_load(void **state)
{
	(void)state;
	glob_t g;

	assert_int_equal(glob(EXAMPLES "/*.cfg", 0, NULL, &g), 0);
	assert_true(g.gl_pathc >= 2);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char *errs = NULL;
		struct config *c = load(g.gl_pathv[i], &errs);
		if (c == NULL)
			fail_msg("%s refused:\n%s", g.gl_pathv[i], errs);
		assert_string_equal(errs, "");
		assert_true(c->nchannels > 0);
		config_free(c);
		free(errs);
	}
	globfree(&g);
}

/* The demo: three instruments of four float32 channels at input
 * registers 0, 2, 4, 6 of units 1..3 on 127.0.0.1:1502. */
static void demo_config_matches_the_simulator(void **state)
{
	(void)state;
	char *errs = NULL;
	struct config *c = load(EXAMPLES "/demo.cfg", &errs);

	if (c == NULL)
		fail_msg("demo.cfg refused:\n%s", errs);
	free(errs);
	assert_int_equal(c->nbuses, 1);
	assert_string_equal(c->buses[0].params.host, "127.0.0.1");
	assert_int_equal(c->buses[0].params.port, 1502);
	assert_int_equal(c->ninstruments, 3);
	const char *units[3][4] = {{"degC", "degC", "degC", "degC"},
	                           {"kPa", "kPa", "kPa", "kPa"},
	                           {"degC", "%RH", "hPa", "ppm"}};
	for (int i = 0; i < 3; i++) {
		const struct cfg_instrument *in = &c->instruments[i];
		assert_int_equal(in->unit_id, i + 1);
		assert_int_equal(in->nchannels, 4);
		for (int k = 0; k < 4; k++) {
			const struct cfg_channel *ch = &in->channels[k];
			assert_int_equal(ch->table, BUS_INPUT_REGISTERS);
			assert_int_equal(ch->address, 2 * k);
			assert_int_equal(ch->spec.type, DECODE_FLOAT32);
			assert_string_equal(ch->unit, units[i][k]);
		}
	}
	config_free(c);
}

/* Calibration intervals per instrument, defaults, and the standards
 * list (not polled: no bus, no channels). */
static void standards_and_intervals_load(void **state)
{
	(void)state;
	char *errs = NULL;
	struct config *c = load(FIXTURES "/standards.cfg", &errs);

	assert_non_null(c);
	assert_int_equal(c->instruments[0].cal_interval_days, 365);
	assert_int_equal(c->instruments[0].due_soon_days, 45);
	assert_int_equal(c->instruments[1].cal_interval_days, 0);
	assert_int_equal(c->instruments[1].due_soon_days, 30);
	assert_int_equal(c->nstandards, 2);
	assert_string_equal(c->standards[0].id, "STD-PRT-1");
	assert_string_equal(c->standards[0].model, "Fluke 5626");
	assert_string_equal(c->standards[0].location, "bath room");
	assert_int_equal(c->standards[0].cal_interval_days, 730);
	assert_int_equal(c->standards[0].due_soon_days, 30);
	assert_string_equal(c->standards[1].serial, "");
	assert_int_equal(c->standards[1].cal_interval_days, 0);
	/* the laboratory and its customers (certificates) */
	assert_non_null(c->lab);
	assert_string_equal(c->lab->name, "Phòng Hiệu chuẩn Nhiệt");
	assert_string_equal(c->lab->address, "12 Lê Lợi, Huế");
	assert_string_equal(c->lab->accreditation, "VILAS 999");
	assert_string_equal(c->lab->location, "");
	assert_string_equal(c->lab->timezone, "Asia/Ho_Chi_Minh");
	assert_int_equal(c->ncustomers, 2);
	assert_string_equal(c->customers[0].id, "acme");
	assert_string_equal(c->customers[0].contact, "Ms. Lan");
	assert_string_equal(c->customers[1].address, "1 Hùng Vương, Huế");
	assert_string_equal(c->customers[1].contact, "");
	config_free(c);
	free(errs);
}

/* ---- --check-config: the database's directory ---------------------- */

/* A configuration in dir whose database is db (line 2), loaded; what
 * config_check_database() says of it into *said (free it). Returns its
 * result. */
static int check_database(const char *dir, const char *db, char **said,
                          char *cfg, size_t size)
{
	char *errs = NULL;
	size_t len = 0;

	snprintf(cfg, size, "%s/check.cfg", dir);
	FILE *f = fopen(cfg, "w");
	assert_non_null(f);
	fprintf(f,
	        "site = \"s\";\ndatabase = \"%s\";\n"
	        "buses = ( { name = \"b\"; type = \"tcp\"; host = "
	        "\"localhost\"; port = 502; } );\n"
	        "instruments = ( { id = \"I\"; bus = \"b\"; unit_id = 1; "
	        "interval_ms = 1000; channels = ( { name = \"x\"; "
	        "table = \"input\"; address = 0; type = \"uint16\"; } ); } "
	        ");\n",
	        db);
	assert_int_equal(fclose(f), 0);
	struct config *c = load(cfg, &errs);
	if (c == NULL)
		fail_msg("%s refused:\n%s", cfg, errs);
	free(errs);
	FILE *out = open_memstream(said, &len);
	assert_non_null(out);
	int rc = config_check_database(c, out);
	assert_int_equal(fclose(out), 0);
	config_free(c);
	return rc;
}

static void check_finds_the_database_directory(void **state)
{
	(void)state;
	char dir[] = "/tmp/metrolog-check-XXXXXX", path[512], cfg[512];
	char want[2048], *said = NULL;

	assert_non_null(mkdtemp(dir));
	/* a directory that does not exist: FILE:LINE of the setting */
	assert_int_equal(check_database(dir, "/no/such/dir/x.db", &said, cfg,
	                                sizeof(cfg)),
	                 -1);
	snprintf(want, sizeof(want),
	         "%s:2: database \"/no/such/dir/x.db\": directory "
	         "/no/such/dir does not exist\n",
	         cfg);
	assert_string_equal(said, want);
	free(said);

	/* a file where the directory should be */
	snprintf(path, sizeof(path), "%s/file/x.db", dir);
	char file[512];
	snprintf(file, sizeof(file), "%s/file", dir);
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(check_database(dir, path, &said, cfg, sizeof(cfg)),
	                 -1);
	snprintf(want, sizeof(want),
	         "%s:2: database \"%s\": %s is not a "
	         "directory\n",
	         cfg, path, file);
	assert_string_equal(said, want);
	free(said);

	/* a directory this user may write: fine, the file need not exist */
	snprintf(path, sizeof(path), "%s/x.db", dir);
	assert_int_equal(check_database(dir, path, &said, cfg, sizeof(cfg)), 0);
	assert_string_equal(said, "");
	free(said);
	/* a database that is a directory */
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(check_database(dir, path, &said, cfg, sizeof(cfg)),
	                 -1);
	assert_non_null(strstr(said, "x.db\": is a directory\n"));
	free(said);
	assert_int_equal(rmdir(path), 0);

	/* a directory it may not write (root may: not checked as root) */
	char ro[256];
	snprintf(ro, sizeof(ro), "%s/ro", dir);
	assert_int_equal(mkdir(ro, 0500), 0);
	snprintf(path, sizeof(path), "%s/x.db", ro);
	if (geteuid() != 0) {
		assert_int_equal(
		        check_database(dir, path, &said, cfg, sizeof(cfg)), -1);
		snprintf(want, sizeof(want),
		         "%s:2: database \"%s\": directory %s is not writable: "
		         "Permission denied\n",
		         cfg, path, ro);
		assert_string_equal(said, want);
		free(said);
	}
	assert_int_equal(rmdir(ro), 0);
	assert_int_equal(unlink(file), 0);
	assert_int_equal(unlink(cfg), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(good_config_loads_every_field),
	        cmocka_unit_test(minimal_config_takes_defaults),
	        cmocka_unit_test(integers_read_as_written),
	        cmocka_unit_test(mqtt_group_takes_defaults),
	        cmocka_unit_test(mqtt_v5_and_homeassistant),
	        cmocka_unit_test(mqtt_security_keys_load),
	        cmocka_unit_test(tolerance_forms_give_limits),
	        cmocka_unit_test(standards_and_intervals_load),
	        cmocka_unit_test(bad_files_give_exact_errors),
	        cmocka_unit_test(bad_fixture_table_is_complete),
	        cmocka_unit_test(several_mistakes_are_all_reported),
	        cmocka_unit_test(missing_file_is_one_error),
	        cmocka_unit_test(example_configs_load),
	        cmocka_unit_test(demo_config_matches_the_simulator),
	        cmocka_unit_test(check_finds_the_database_directory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
