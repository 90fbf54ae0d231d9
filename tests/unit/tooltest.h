/*
 * tooltest.h - what the unit tests of the metrolog tool's code (test_calc.c,
 * test_cmd.c) share: an argument vector from a list, and checks on what a
 * command wrote. Include after <cmocka.h>; they fail the running test.
 */
#ifndef METROLOG_TOOLTEST_H
#define METROLOG_TOOLTEST_H

#include <string.h>

#define TT_ARGS_MAX 32

/* args (NULL-terminated, at most TT_ARGS_MAX - 1) into argv, NULL
 * terminated; returns argc. */
static inline int tt_argv(const char *const *args, char *argv[TT_ARGS_MAX])
{
	int argc = 0;

	while (args[argc] != NULL) {
		assert_true(argc < TT_ARGS_MAX - 1);
		argv[argc] = (char *)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	return argc;
}

/* Fail the test unless text contains want. */
static inline void has(const char *text, const char *want)
{
	if (strstr(text, want) == NULL)
		fail_msg("missing '%s' in:\n%s", want, text);
}

/* The number of lines (newlines) in s. */
static inline int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

#endif
