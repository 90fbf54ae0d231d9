/*
 * `metrolog read` and `metrolog probe` against the real simulator over TCP
 * and RTU: decoded values equal what the simulator serves, manual register
 * numbers work, probe shows the right value in the right order, errors are
 * reported per unit with a non-zero exit, bad usage exits 2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

static struct h_sim sim;
static const char *dir;
static char tcp[32]; /* "127.0.0.1:port" of the simulator */

static int setup(void **state)
{
	(void)state;
	const char *extra[] = {"-n", "2",
	                       "-m", "3",
	                       "-c", "0:nominal=20.5",
	                       "-c", "2.1:nominal=-3.25",
	                       NULL};

	dir = h_tmpdir();
	if (h_sim_start(&sim, dir, true, true, extra) < 0)
		return -1;
	snprintf(tcp, sizeof(tcp), "127.0.0.1:%d", sim.port);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	int rc = h_sim_stop(&sim);
	h_cleanup();
	return rc;
}

static char out[16384]; /* what the last metrolog() printed */

/* Run metrolog with args; its output (stdout and stderr) goes to out.
 * Returns the exit status. */
static int metrolog(const char *const args[])
{
	const char *argv[32] = {METROLOG_BIN};
	char log[H_PATH_MAX];
	static int n;
	char name[32];
	int i;

	for (i = 0; args[i] != NULL && i < 30; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	snprintf(name, sizeof(name), "metrolog-%d.log", n++);
	int code = h_run(argv, h_path(log, dir, name), true, 30000);
	assert_true(h_read_file(log, out, sizeof(out)) >= 0);
	assert_true(code >= 0);
	return code;
}

/* Run metrolog with args: it must exit rc and print each of the strings
 * that follow rc, up to a NULL. */
static void says(const char *const args[], int rc, ...)
{
	const char *want, *missing = NULL;
	va_list ap;

	assert_int_equal(metrolog(args), rc);
	va_start(ap, rc);
	while (missing == NULL && (want = va_arg(ap, const char *)) != NULL)
		if (strstr(out, want) == NULL)
			missing = want;
	va_end(ap);
	if (missing != NULL)
		fail_msg("no \"%s\" in:\n%s", missing, out);
}

static void values_over_tcp(void **state)
{
	(void)state;
	const char *args[] = {"read", "--tcp",   tcp, "--unit",
	                      "1,2",  "--count", "3", NULL};
	/* unit 1: 20.5, nominal of channel 1 (20 + 1), 22; unit 2 channel 1
	 * overridden */
	says(args, 0, " unit 1: 20.5 21 22\n", " unit 2: 20.5 -3.25 22\n",
	     "Z unit 1:", NULL);
}

static void values_over_rtu(void **state)
{
	(void)state;
	const char *args[] = {"read",        "--rtu",  sim.rtu, "--serial",
	                      "19200,E,8,1", "--unit", "2",     "--address",
	                      "2",           NULL};

	says(args, 0, " unit 2: -3.25\n", NULL);
}

static void manual_register_numbers_and_types(void **state)
{
	(void)state;
	/* 33003 is input register 3002: the channel count */
	const char *count[] = {"read",  "--tcp",  tcp,      "--register",
	                       "33003", "--type", "uint16", "--count",
	                       "2",     NULL};
	says(count, 0, " unit 1: 3 256\n", NULL); /* 3 channels, v1.0 */
	/* counts of channel 0: int32 20500 at 31001 */
	const char *counts[] = {"read",  "--tcp",  tcp,     "--register",
	                        "31001", "--type", "int32", "--scale",
	                        "0.001", NULL};
	says(counts, 0, " unit 1: 20.5\n", NULL);
	/* coils: all channels enabled */
	const char *coils[] = {"read",  "--tcp",   tcp, "--table",
	                       "coils", "--count", "3", NULL};
	says(coils, 0, " unit 1: 1 1 1\n", NULL);
}

static void errors_are_per_unit_and_exit_1(void **state)
{
	(void)state;
	/* past the map: exception 02; unit 9 is not on this port: 0B */
	const char *past[] = {"read", "--tcp",  tcp,   "--address",
	                      "6",    "--unit", "1,9", NULL};
	says(past, 1, "unit 1: error: exception 02 (illegal data address)",
	     "unit 9: error: exception 0B", NULL);

	char closed[32];
	snprintf(closed, sizeof(closed), "127.0.0.1:%d", h_free_port());
	const char *refused[] = {"read", "--tcp", closed, NULL};
	says(refused, 1, "error: cannot connect", NULL);
}

static void probe_shows_every_interpretation(void **state)
{
	(void)state;
	const char *args[] = {"probe", "--tcp", tcp, "--count", "4", NULL};
	/* channel 0 (20.5 = 0x41A40000) read right, and the same words
	 * misread in another order, and channel 1 (21) seen one register
	 * off with swapped words */
	says(args, 0, "input registers 0..3",
	     "\n0        0x41A4  16804    16804   -      A.",
	     "\n0        ABCD      0x41A40000  1101266944  1101266944   20.5\n",
	     "\n1        CDAB      0x41A80000  1101529088  1101529088   21\n",
	     "\n0        ABCDEFGH  0x41A4000041A80000", NULL);

	const char *coils[] = {"probe", "--tcp", tcp, "--table", "coils", NULL};
	says(coils, 2, "registers only", NULL);
	const char *past[] = {"probe", "--tcp", tcp, "--address", "100", NULL};
	says(past, 1, "exception 02 (illegal data address)", NULL);
}

static void bad_usage_exits_2_with_a_reason(void **state)
{
	(void)state;
	static const struct {
		const char *args[8];
		const char *says;
	} cases[] = {
	        {{"read", NULL}, "--tcp HOST:PORT or --rtu DEVICE"},
	        {{"read", "--tcp", "localhost", NULL}, "expected HOST:PORT"},
	        {{"read", "--tcp", "h:1", "--type", "float16", NULL},
	         "unknown type"},
	        {{"read", "--tcp", "h:1", "--order", "ABCC", NULL},
	         "not a byte order"},
	        {{"read", "--tcp", "h:1", "--register", "20001", NULL},
	         "expected a number such as 30001"},
	        {{"read", "--tcp", "h:1", "--count", "63", NULL},
	         "more than one request can read"},
	        {{"read", "--tcp", "h:1", "--unit", "256", NULL},
	         "expected unit ids 0..255"},
	        {{"frobnicate", NULL}, "unknown command 'frobnicate'"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(metrolog(cases[i].args), 2);
		if (strstr(out, cases[i].says) == NULL)
			fail_msg("case %zu: '%s' not in: %s", i, cases[i].says,
			         out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(values_over_tcp),
	        cmocka_unit_test(values_over_rtu),
	        cmocka_unit_test(manual_register_numbers_and_types),
	        cmocka_unit_test(errors_are_per_unit_and_exit_1),
	        cmocka_unit_test(probe_shows_every_interpretation),
	        cmocka_unit_test(bad_usage_exits_2_with_a_reason),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
