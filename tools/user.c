/*
 * user.c - `metrolog user`: the accounts of metrolog-web (docs/WEB.md):
 * add, passwd, disable, enable, list.
 *
 * A password is never an argument (a command line is visible to every
 * user of the machine in ps): it is read from the terminal without echo,
 * twice, or, when standard input is no terminal (scripts, tests), as its
 * first line. It is hashed here (auth.h: Argon2id) and only the hash goes
 * to the database (store.h, store_user_*). list reads through query.h.
 *
 * Single-threaded. Exit codes in tool.h.
 */
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth.h"
#include "cmd.h"
#include "out.h"
#include "query.h"
#include "store.h"
#include "tool.h"

enum { US_ROLE, US_CUSTOMER };

static const struct cmd_option user_opts[] = {
        {"role", 0, "ROLE", "add: technician, manager or enterprise (required)",
         US_ROLE},
        {"customer", 0, "ID",
         "add: the customer of an enterprise user (its id in\n"
         "metrologd's configuration; for enterprise users only)",
         US_CUSTOMER},
        {0},
};

const struct cmd_def user_cmd = {
        .name = "user",
        .summary = "the accounts of metrolog-web: add, passwd, disable, list",
        .synopsis = "[-d DB] add NAME --role ROLE [--customer ID]\n"
                    "[-d DB] passwd NAME\n"
                    "[-d DB] disable NAME\n"
                    "[-d DB] enable NAME\n"
                    "[-d DB] list [-f F]",
        .about = "Manage who may log in to metrolog-web (docs/WEB.md).\n"
                 "  add      a new user with a role: technician or manager "
                 "(the lab's people:\n"
                 "           the board), or enterprise (a customer's "
                 "person: only its own\n"
                 "           instruments); the password is asked\n"
                 "  passwd   a new password for a user\n"
                 "  disable  refuse a user's logins and end its sessions "
                 "(users are never\n"
                 "           deleted); enable lets it in again\n"
                 "  list     every user: name, role, customer, disabled, "
                 "created\n"
                 "The password is read from the terminal without echo, "
                 "twice; when standard\ninput is not a terminal, its first "
                 "line is the password (never an argument).\nA password has "
                 "8 to 1024 bytes; a user name 1 to 64 of letters, digits "
                 "and\n. _ @ - (starting with a letter or a digit). Only "
                 "the password's Argon2id\nhash is stored.\n",
        .options = user_opts,
        .common = CMD_DATABASE | CMD_OUTPUT,
        .formats = CMD_LISTING,
        .default_format = CMD_TEXT,
        .min_args = 1,
        .max_args = 2,
        .args_missing = "what to do? add, passwd, disable, enable or list",
        .footer = "Exit status: 0 done, 1 refused (unknown user or "
                  "customer, name taken) or\ndatabase error, 2 bad usage "
                  "or a password refused.\n",
        .run = cmd_user,
};

struct user_args {
	const char *role, *customer;
};

static int on_user_option(struct cmd_line *l, const struct cmd_option *o,
                          const char *v)
{
	struct user_args *a = l->ctx;

	if (o->id == US_ROLE)
		a->role = v;
	else
		a->customer = v;
	return 0;
}

/* One line of standard input into buf, without its line end. Returns
 * 0, or -1 at end of input or for a line too long. */
static int read_line(char *buf, size_t size)
{
	size_t n;

	if (fgets(buf, (int)size, stdin) == NULL)
		return -1;
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (!feof(stdin))
		return -1; /* longer than buf */
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return 0;
}

/* Prompt on the terminal and read a line without echo. */
static int read_hidden(const char *prompt, char *buf, size_t size)
{
	struct termios old, quiet;
	int rc;

	if (tcgetattr(STDIN_FILENO, &old) != 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	fprintf(stderr, "%s", prompt);
	fflush(stderr);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0)
		return -1;
	rc = read_line(buf, size);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	return rc;
}

/* The new password of name (terminal: twice; else the first line),
 * checked (auth_check_password) and hashed into hash. Returns 0, or the
 * exit status after one line on the error stream. */
static int new_password(const struct cmd_line *l, const char *name, char *hash,
                        size_t size)
{
	char pw[AUTH_PASSWORD_MAX + 2], again[AUTH_PASSWORD_MAX + 2],
	        prompt[128], why[128];
	int rc = CMD_OK;

	if (isatty(STDIN_FILENO)) {
		snprintf(prompt, sizeof(prompt), "Password for %s: ", name);
		if (read_hidden(prompt, pw, sizeof(pw)) < 0 ||
		    read_hidden("Again: ", again, sizeof(again)) < 0)
			rc = cmd_fail(l, CMD_USAGE, "no password read");
		else if (strcmp(pw, again) != 0)
			rc = cmd_fail(
			        l, CMD_USAGE,
			        "the two passwords differ: nothing changed");
	} else if (read_line(pw, sizeof(pw)) < 0) {
		rc = cmd_fail(l, CMD_USAGE,
		              "no password on standard input (its first line; "
		              "at most %d bytes)",
		              AUTH_PASSWORD_MAX);
	}
	if (rc == CMD_OK && auth_check_password(pw, why, sizeof(why)) < 0)
		rc = cmd_fail(l, CMD_USAGE, "%s", why);
	if (rc == CMD_OK && auth_hash(pw, hash, size) < 0)
		rc = cmd_fail(l, CMD_FAILED,
		              "cannot hash the password (memory)");
	memset(pw, 0, sizeof(pw));
	memset(again, 0, sizeof(again));
	return rc;
}

/* add, passwd, disable, enable: one write through the store. */
static int user_write(const struct cmd_line *l, const struct user_args *a,
                      const char *verb, const char *name)
{
	char hash[AUTH_HASH_SIZE], err[512];
	struct store *st;
	int rc = CMD_OK;
	bool add = strcmp(verb, "add") == 0;

	if (add && a->role == NULL)
		return cmd_usage(l, "add: say the role: --role technician, "
		                    "manager or enterprise");
	if ((add || strcmp(verb, "passwd") == 0) &&
	    (rc = new_password(l, name, hash, sizeof(hash))) != CMD_OK)
		return rc;
	st = store_open(tool_database(l->database), err, sizeof(err));
	if (st == NULL)
		return cmd_fail(l, CMD_FAILED, "%s", err);
	if (add)
		rc = store_user_add(st, name, a->role, a->customer, hash);
	else if (strcmp(verb, "passwd") == 0)
		rc = store_user_passwd(st, name, hash);
	else
		rc = store_user_disable(st, name, strcmp(verb, "disable") == 0);
	rc = rc < 0 ? cmd_fail(l, CMD_FAILED, "%s", store_last_message(st))
	            : CMD_OK;
	store_close(st);
	if (rc == CMD_OK)
		printf("%s: %s\n", verb, name);
	return rc;
}

static const struct out_col user_cols[] = {
        {"name", OUT_STRING},     {"role", OUT_STRING},
        {"customer", OUT_STRING}, {"disabled", OUT_RAW},
        {"created", OUT_STRING},
};
#define N_USER_COLS (int)(sizeof(user_cols) / sizeof(user_cols[0]))

static int user_row(void *ctx, const struct query_user *u)
{
	struct out *w = ctx;
	char created[40];
	const char *v[N_USER_COLS] = {u->name, u->role, u->customer,
	                              u->disabled ? "true" : "false", created};

	tool_format_stamp(w->format, u->created_us, 0, created,
	                  sizeof(created));
	out_row(w, v);
	return 0;
}

static int user_list(const struct cmd_line *l)
{
	struct query *q;
	struct out w;
	char err[512];
	int rc;

	q = query_open(tool_database(l->database), err, sizeof(err));
	if (q == NULL)
		return cmd_fail(l, CMD_FAILED, "%s", err);
	if (out_open(&w, l, user_cols, N_USER_COLS) < 0) {
		query_close(q);
		return CMD_FAILED;
	}
	rc = query_users(q, user_row, &w);
	if (rc < 0)
		fprintf(stderr, "metrolog user: %s\n", query_error(q));
	if (out_close(&w, rc == 0) < 0 || rc < 0)
		rc = CMD_FAILED;
	query_close(q);
	return rc;
}

/* Whether verb takes a NAME; -1 for a verb that is none. */
static int verb_takes_name(const char *verb)
{
	static const char *const named[] = {"add", "passwd", "disable",
	                                    "enable"};

	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (strcmp(verb, named[i]) == 0)
			return 1;
	return strcmp(verb, "list") == 0 ? 0 : -1;
}

int cmd_user(int argc, char **argv)
{
	struct user_args a = {0};
	struct cmd_line l = {.on_option = on_user_option, .ctx = &a};
	char why[128];
	int rc, named;

	if (cmd_parse(&user_cmd, &l, argc, argv, &rc) < 0)
		return rc;
	named = verb_takes_name(l.args[0]);
	if (named < 0)
		return cmd_usage(&l,
		                 "unknown action '%s': add, passwd, "
		                 "disable, enable or list",
		                 l.args[0]);
	if (named != (l.nargs == 2))
		return cmd_usage(&l,
		                 named ? "%s: which user? give its NAME"
		                       : "%s takes no NAME",
		                 l.args[0]);
	if ((a.role != NULL || a.customer != NULL) &&
	    strcmp(l.args[0], "add") != 0)
		return cmd_usage(&l, "--role and --customer are for add");
	if (!named)
		return user_list(&l);
	if (auth_check_name(l.args[1], why, sizeof(why)) < 0)
		return cmd_usage(&l, "%s", why);
	if (auth_init() < 0)
		return cmd_fail(&l, CMD_FAILED, "libsodium does not start");
	return user_write(&l, &a, l.args[0], l.args[1]);
}
