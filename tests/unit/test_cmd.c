/*
 * Unit tests of the command-line framework of the metrolog tool
 * (tools/cmd.c): parsing from a declaration, the one-line usage errors and
 * their exit status, the generated --help, and the table of short letters.
 * The streams are memory streams; nothing else is touched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "tooltest.h"

enum { T_INSTRUMENT, T_OWNER, T_DRY_RUN, T_COUNT, T_STANDARD, T_SUPERSEDES };

static const struct cmd_option test_opts[] = {
        {"instrument", 'i', "ID", "the instrument", T_INSTRUMENT},
        {"owner", 0, "ID", "only this owner's", T_OWNER},
        {"dry-run", 0, NULL, "record nothing\ncontinued", T_DRY_RUN},
        {"count", 'n', "N", "how many", T_COUNT},
        {"standard", 's', "ID", "the standard", T_STANDARD},
        {"supersedes", 0, "ID", "the record corrected", T_SUPERSEDES},
        {NULL},
};

static int run_nothing(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static const struct cmd_def test_cmd = {
        .name = "widgets",
        .summary = "list the widgets",
        .synopsis = "[-d DB] [ARG]\n  [--more]\n[-d DB] --other",
        .about = "What it does.\n",
        .options = test_opts,
        .common = CMD_DATABASE | CMD_OUTPUT,
        .formats = CMD_LISTING,
        .default_format = CMD_TEXT,
        .max_args = 2,
        .footer = "Exit status: 0 done, 2 bad usage.\n",
        .run = run_nothing,
};

/* What the callback saw, in order. */
struct seen {
	char log[512];
	int calls;
	int fail_on; /* an id that makes the callback fail with 7; -1 none */
};

static int on_opt(struct cmd_line *l, const struct cmd_option *o, const char *v)
{
	struct seen *s = l->ctx;
	size_t n = strlen(s->log);

	s->calls++;
	snprintf(s->log + n, sizeof(s->log) - n, "%s=%s;", o->name,
	         v != NULL ? v : "(flag)");
	return o->id == s->fail_on ? 7 : 0;
}

struct run {
	int rc, status;
	char *out, *err;
	size_t nout, nerr;
	struct seen seen;
	struct cmd_line line;
};

static void run(struct run *r, const struct cmd_def *d, const char *const *args)
{
	char *argv[TT_ARGS_MAX];
	int argc = tt_argv(args, argv);

	memset(r, 0, sizeof(*r));
	r->seen.fail_on = -1;
	FILE *out = open_memstream(&r->out, &r->nout);
	FILE *err = open_memstream(&r->err, &r->nerr);
	assert_non_null(out);
	assert_non_null(err);
	r->line = (struct cmd_line){
	        .out = out, .err = err, .on_option = on_opt, .ctx = &r->seen};
	r->rc = cmd_parse(d, &r->line, argc, argv, &r->status);
	fclose(out);
	fclose(err);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* A usage error: status 2, the callback never called, nothing on the
 * output, one line on the error stream naming the subcommand and want. */
static void usage_error(const char *const *args, const char *want)
{
	struct run r;

	run(&r, &test_cmd, args);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.status, 2);
	assert_int_equal(r.nout, 0);
	assert_int_equal(lines(r.err), 1);
	has(r.err, "metrolog widgets: ");
	has(r.err, want);
	run_free(&r);
}

/* ---- parsing ------------------------------------------------------------- */

static void long_and_short_forms_in_order(void **state)
{
	(void)state;
	const char *args[] = {"widgets", "--instrument", "TB-01", "a1",
	                      "-n5",     "--owner=ACME", "-s",    "STD-1",
	                      "-d",      "x.db",         "a2",    "--dry-run",
	                      "-o",      "out.csv",      NULL};
	struct run r;

	run(&r, &test_cmd, args);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.seen.log, "instrument=TB-01;count=5;owner=ACME;"
	                                "standard=STD-1;dry-run=(flag);");
	assert_int_equal(r.line.nargs, 2);
	assert_string_equal(r.line.args[0], "a1");
	assert_string_equal(r.line.args[1], "a2");
	assert_string_equal(r.line.database, "x.db");
	assert_string_equal(r.line.output, "out.csv");
	assert_int_equal(r.line.format, CMD_TEXT); /* the default */
	assert_int_equal(r.nerr, 0);
	run_free(&r);
}

static void negative_numbers_dash_and_double_dash_are_arguments(void **state)
{
	(void)state;
	const char *args[] = {"widgets", "-3.25", "--", "--owner", NULL};
	const char *dash[] = {"widgets", "-", ".5", NULL};
	const char *value[] = {"widgets", "--count", "-1", "-.5", NULL};
	struct run r;

	run(&r, &test_cmd, args);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.seen.calls, 0);
	assert_int_equal(r.line.nargs, 2);
	assert_string_equal(r.line.args[0], "-3.25");
	assert_string_equal(r.line.args[1], "--owner");
	run_free(&r);
	run(&r, &test_cmd, dash);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.line.args[0], "-");
	assert_string_equal(r.line.args[1], ".5");
	run_free(&r);
	/* an option's value may start with '-' */
	run(&r, &test_cmd, value);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.seen.log, "count=-1;");
	assert_string_equal(r.line.args[0], "-.5");
	run_free(&r);
}

static void prefixes_formats_and_grouped_flags(void **state)
{
	(void)state;
	const char *prefix[] = {"widgets", "--inst", "X", "--dry",
	                        "-f",      "json",   NULL};
	const char *fmt[] = {"widgets", "--format=jsonl", "-fcsv", NULL};
	struct run r;

	run(&r, &test_cmd, prefix);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.seen.log, "instrument=X;dry-run=(flag);");
	assert_int_equal(r.line.format, CMD_JSON);
	run_free(&r);
	run(&r, &test_cmd, fmt);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.line.format, CMD_CSV); /* the last one */
	run_free(&r);
	assert_string_equal(cmd_format_name(CMD_JSONL), "jsonl");
}

static void the_callback_stops_with_its_status(void **state)
{
	(void)state;
	const char *args[] = {"widgets", "-i", "A", "--owner",
	                      "B",       "-n", "3", NULL};
	struct run r;
	char *argv[8];
	int status = -1;

	for (int i = 0; args[i] != NULL; i++)
		argv[i] = (char *)args[i];
	memset(&r, 0, sizeof(r));
	r.seen.fail_on = T_OWNER;
	r.line = (struct cmd_line){.on_option = on_opt, .ctx = &r.seen};
	assert_int_equal(cmd_parse(&test_cmd, &r.line, 7, argv, &status), -1);
	assert_int_equal(status, 7);
	assert_string_equal(r.seen.log, "instrument=A;owner=B;");
}

/* ---- errors -------------------------------------------------------------- */

static void unknown_options_name_the_option(void **state)
{
	(void)state;
	const char *a1[] = {"widgets", "--frobnicate", NULL};
	usage_error(a1, "unexpected argument '--frobnicate': not an option "
	                "of this command (metrolog widgets --help lists them)");
	const char *a2[] = {"widgets", "-z", NULL};
	usage_error(a2, "'-z': not an option");
	const char *a3[] = {"widgets", "-nzx", NULL}; /* -n takes "zx" */
	struct run r;
	run(&r, &test_cmd, a3);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.seen.log, "count=zx;");
	run_free(&r);
	const char *a4[] = {"widgets", "-iX", "-z", NULL};
	usage_error(a4, "'-z'");
	/* after a good option, before --help: nothing acted */
	const char *a5[] = {"widgets", "-i", "X", "--bogus=1", "--help", NULL};
	usage_error(a5, "'--bogus=1'");
	/* --s is the start of --standard and --supersedes */
	const char *a6[] = {"widgets", "--s", "1", NULL};
	usage_error(a6, "'--s': ambiguous");
}

static void missing_values_and_bad_values(void **state)
{
	(void)state;
	const char *a1[] = {"widgets", "--instrument", NULL};
	usage_error(a1, "--instrument needs a value (ID)");
	const char *a2[] = {"widgets", "-n", NULL};
	usage_error(a2, "-n (--count) needs a value (N)");
	const char *a3[] = {"widgets", "--dry-run=yes", NULL};
	usage_error(a3, "--dry-run takes no value");
	const char *a4[] = {"widgets", "--format", "xml", NULL};
	usage_error(a4, "--format 'xml': expected text, csv, json or jsonl");
	const char *a5[] = {"widgets", "--format", "pdf", NULL};
	usage_error(a5, "--format 'pdf'");
	const char *a6[] = {"widgets", "a", "b", "c", NULL};
	usage_error(a6, "'c': unexpected argument (metrolog widgets takes at "
	                "most 2)");
}

static void too_few_arguments(void **state)
{
	(void)state;
	struct cmd_def d = test_cmd;
	const char *args[] = {"widgets", "-i", "X", NULL};
	struct run r;

	d.min_args = 1;
	d.args_missing = "say which widget";
	run(&r, &d, args);
	assert_int_equal(r.status, 2);
	assert_int_equal(lines(r.err), 1);
	has(r.err, "metrolog widgets: say which widget");
	run_free(&r);
}

static void no_format_no_database_unless_declared(void **state)
{
	(void)state;
	struct cmd_def d = test_cmd;
	const char *f[] = {"widgets", "--format", "csv", NULL};
	const char *db[] = {"widgets", "-d", "x.db", NULL};
	struct run r;

	d.formats = 0;
	d.common = 0;
	run(&r, &d, f);
	assert_int_equal(r.status, 2);
	has(r.err, "'--format'");
	run_free(&r);
	run(&r, &d, db);
	assert_int_equal(r.status, 2);
	has(r.err, "'-d'");
	run_free(&r);
}

/* ---- help ---------------------------------------------------------------- */

static void help_comes_from_the_declaration(void **state)
{
	(void)state;
	const char *args[] = {"widgets", "-i", "X", "--help", NULL};
	const char *grouped[] = {"widgets", "-h", NULL};
	struct run r;

	run(&r, &test_cmd, args);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.seen.calls, 0); /* nothing acted */
	assert_int_equal(r.nerr, 0);
	has(r.out, "Usage: metrolog widgets [-d DB] [ARG]\n"
	           "        [--more]\n"
	           "       metrolog widgets [-d DB] --other\n"
	           "What it does.\n\nOptions:\n");
	has(r.out, "  -i, --instrument ID    the instrument\n");
	has(r.out, "      --owner ID         only this owner's\n");
	has(r.out, "      --dry-run          record nothing\n"
	           "                         continued\n");
	has(r.out, "  -f, --format F         output format: text, csv, json "
	           "or jsonl (default text)\n");
	has(r.out, "  -d, --database FILE");
	has(r.out, "  -o, --output FILE      write to FILE");
	has(r.out, "  -h, --help             show this help\n");
	has(r.out, "\nExit status: 0 done, 2 bad usage.\n");
	/* every option the parser takes is in the help */
	for (const struct cmd_option *o = test_opts; o->name; o++) {
		char name[64];
		snprintf(name, sizeof(name), "--%s", o->name);
		has(r.out, name);
	}
	run_free(&r);
	run(&r, &test_cmd, grouped);
	assert_int_equal(r.status, 0);
	has(r.out, "Usage: metrolog widgets");
	run_free(&r);
}

static void help_all_lists_the_summaries(void **state)
{
	(void)state;
	static const struct cmd_def *const cmds[] = {&test_cmd, NULL};
	const struct cmd_group groups[] = {{"Things", cmds}};
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	assert_non_null(f);
	cmd_help_all(groups, 1, "Tail.\n", f);
	fclose(f);
	has(text, "Usage: metrolog COMMAND");
	has(text, "\nThings:\n  widgets       list the widgets\n");
	has(text, "\nTail.\n");
	free(text);
}

/* ---- one letter, one meaning ----------------------------------------------
 */

static void letters_mean_one_thing(void **state)
{
	(void)state;
	static const struct cmd_option owner_o[] = {
	        {"owner", 'o', "ID", "owner", 0}, {NULL}};
	static const struct cmd_option twice[] = {
	        {"instrument", 'i', "ID", "", 0},
	        {"instrument", 0, "ID", "", 1},
	        {NULL}};
	static const struct cmd_option unlisted[] = {
	        {"zebra", 'Z', NULL, "", 0}, {NULL}};
	struct cmd_def d = test_cmd;
	char why[128];
	struct run r;
	const char *args[] = {"widgets", NULL};

	assert_int_equal(cmd_check(&test_cmd, why, sizeof(why)), 0);
	d.options = owner_o;
	d.common = 0;
	assert_int_equal(cmd_check(&d, why, sizeof(why)), -1);
	has(why, "-o is --output, not --owner");
	/* -o as --owner beside the framework's -o --output */
	d.common = CMD_OUTPUT;
	assert_int_equal(cmd_check(&d, why, sizeof(why)), -1);
	d.options = twice;
	assert_int_equal(cmd_check(&d, why, sizeof(why)), -1);
	has(why, "--instrument declared twice");
	d.options = unlisted;
	assert_int_equal(cmd_check(&d, why, sizeof(why)), -1);
	d.options = test_opts;
	d.max_args = CMD_MAX_ARGS + 1;
	assert_int_equal(cmd_check(&d, why, sizeof(why)), -1);
	/* cmd_parse refuses to run a bad declaration */
	d.options = owner_o;
	d.max_args = 0;
	run(&r, &d, args);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.status, CMD_INTERNAL);
	has(r.err, "internal error");
	run_free(&r);
	/* the table itself: each letter once */
	for (const struct cmd_letter *a = cmd_letters; a->letter; a++)
		for (const struct cmd_letter *b = a + 1; b->letter; b++) {
			assert_true(a->letter != b->letter);
			assert_true(strcmp(a->name, b->name) != 0);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(long_and_short_forms_in_order),
	        cmocka_unit_test(
	                negative_numbers_dash_and_double_dash_are_arguments),
	        cmocka_unit_test(prefixes_formats_and_grouped_flags),
	        cmocka_unit_test(the_callback_stops_with_its_status),
	        cmocka_unit_test(unknown_options_name_the_option),
	        cmocka_unit_test(missing_values_and_bad_values),
	        cmocka_unit_test(too_few_arguments),
	        cmocka_unit_test(no_format_no_database_unless_declared),
	        cmocka_unit_test(help_comes_from_the_declaration),
	        cmocka_unit_test(help_all_lists_the_summaries),
	        cmocka_unit_test(letters_mean_one_thing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
