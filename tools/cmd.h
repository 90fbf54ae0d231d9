/*
 * cmd.h - the one command-line framework of the metrolog tool.
 *
 * Every subcommand is a const struct cmd_def: its name, one-line summary,
 * synopsis, description, options (long name, short letter or none,
 * argument name, help text), output formats and positional arguments.
 * cmd_parse() reads argv from that declaration and cmd_help() prints
 * `metrolog NAME --help` from it, so the help and the parser cannot
 * disagree; `metrolog --help` lists the summaries of the same table.
 *
 * The framework itself handles what every subcommand shares, from flags of
 * the declaration: -h/--help (always), -f/--format F (when formats is not
 * 0), -d/--database FILE (CMD_DATABASE), -o/--output FILE (CMD_OUTPUT). A
 * short letter means one thing in every subcommand: cmd_check() refuses a
 * declaration that gives a letter another long name than cmd_letters[]
 * (docs/TOOL.md, "Options"), and cmd_parse() runs it first.
 *
 * Syntax accepted: --name VALUE, --name=VALUE, an unambiguous prefix of a
 * long name (an exact name wins: --u is not --unit), -x VALUE, -xVALUE,
 * flags grouped (-nh), options and positional arguments in any order, "--"
 * ending the options. "-" alone and a negative number ("-3.25", "-.5": no
 * short letter is a digit or '.') are positional arguments.
 *
 * Errors are ONE line on the error stream, "metrolog NAME: ...", exit
 * status 2 (bad usage): an unknown option (the line names the option and
 * says where the options are listed), a missing argument, a value given to
 * a flag, a format the subcommand does not write, too few or too many
 * positional arguments. Single-threaded; no allocation.
 */
#ifndef METROLOG_CMD_H
#define METROLOG_CMD_H

#include <stdbool.h>
#include <stdio.h>

#define CMD_MAX_ARGS 4 /* positional arguments a subcommand may take */

/* The exit statuses of every subcommand (tool.h says which means what). */
enum {
	CMD_OK = 0,
	CMD_FAILED = 1, /* the request failed */
	CMD_USAGE = 2,  /* bad usage */
	CMD_TAMPERED =
	        4, /* verify: the chain or a certificate does not check */
	CMD_INTERNAL = 70, /* a declaration breaks cmd_letters[] */
};

/* Output formats (a listing's rows). */
enum cmd_format {
	CMD_TEXT,  /* aligned columns for people */
	CMD_CSV,   /* RFC 4180 */
	CMD_JSON,  /* one JSON array of objects */
	CMD_JSONL, /* JSON Lines: one object a line */
	CMD_PDF,   /* a document (report) */
	CMD_NFORMATS
};
#define CMD_FMT(f) (1u << (f))
/* What every listing writes. */
#define CMD_LISTING                                                            \
	(CMD_FMT(CMD_TEXT) | CMD_FMT(CMD_CSV) | CMD_FMT(CMD_JSON) |            \
	 CMD_FMT(CMD_JSONL))

/* The format's name ("text", "csv", "json", "jsonl", "pdf"). */
const char *cmd_format_name(enum cmd_format f);

/* The options the framework handles (struct cmd_def.common). */
enum { CMD_DATABASE = 1 << 0, CMD_OUTPUT = 1 << 1 };

struct cmd_option {
	const char *name; /* long name without "--"; NULL ends a table */
	char letter;      /* short letter, 0: none */
	const char *arg;  /* the argument's name in the help ("ID"); NULL: a
	                     flag, which takes none */
	const char *help; /* what it does; '\n' continues on the next line */
	int id;           /* what the subcommand's on_option switches on */
};

struct cmd_line;

struct cmd_def {
	const char *name;     /* "calibrations" */
	const char *summary;  /* one line for `metrolog --help` */
	const char *synopsis; /* after "Usage: metrolog NAME "; a '\n'
	                         starts another usage line, or continues
	                         this one when a space follows it */
	const char *about;    /* what it does (its columns...), '\n' ended */
	const struct cmd_option
	        *options;        /* its own, NULL-name ended; or NULL */
	unsigned common;         /* CMD_DATABASE | CMD_OUTPUT */
	const char *output_help; /* NULL: "write to FILE (default:
	                            standard output)" */
	unsigned formats;        /* CMD_FMT() set; 0: no --format */
	enum cmd_format default_format;
	int min_args, max_args;   /* positional arguments (<= CMD_MAX_ARGS) */
	const char *args_missing; /* the error when fewer than min_args */
	const char *footer;       /* after the options: exit status, notes */
	int (*run)(int argc, char **argv); /* argv[0] is name; returns the exit
	                                      status */
};

/* An option seen: return 0 to go on, or an exit status (after printing one
 * line, e.g. with cmd_usage()) to stop. value is NULL for a flag. */
typedef int (*cmd_option_fn)(struct cmd_line *l, const struct cmd_option *o,
                             const char *value);

/* A parse of one command line. Set out, err, on_option, ctx before
 * cmd_parse(); it fills the rest. */
struct cmd_line {
	FILE *out, *err;         /* help and errors; NULL: stdout, stderr */
	cmd_option_fn on_option; /* NULL: the subcommand has no options */
	void *ctx;               /* for on_option */
	const struct cmd_def *def;
	enum cmd_format format;   /* --format, else def->default_format */
	const char *database;     /* -d FILE, NULL when not given */
	const char *output;       /* -o FILE, NULL when not given */
	char *args[CMD_MAX_ARGS]; /* positional arguments, in order */
	int nargs;
};

/*
 * Parse argv (argv[0] the subcommand's name) against d, calling
 * l->on_option for each of d's own options in command-line order. Returns
 * 0 to run the subcommand, or -1 with *status the exit status to return:
 * 0 when --help was printed (on l->out), 2 after a usage error (one line
 * on l->err), or what on_option returned.
 */
int cmd_parse(const struct cmd_def *d, struct cmd_line *l, int argc,
              char **argv, int *status);

/* Have cmd_parse() call fn(database) (-d FILE, NULL when not given) for
 * every subcommand that takes -d, once the syntax is checked and before
 * any option acts: the tool reads the lab's time zone there, so that a
 * time typed in an option is read in it. NULL: none (the default). */
void cmd_on_database(void (*fn)(const char *database));

/* `metrolog NAME --help` from d, onto f. */
void cmd_help(const struct cmd_def *d, FILE *f);

/* One line "metrolog NAME: <message>" on l->err (l->def's name). Returns
 * CMD_USAGE, so a subcommand can `return cmd_usage(l, ...)`. */
int cmd_usage(const struct cmd_line *l, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* The same line with another exit status (e.g. CMD_FAILED). */
int cmd_fail(const struct cmd_line *l, int status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* The short letters and the one long option each means (e.g. 'o',
 * "output"), ending with letter 0. */
struct cmd_letter {
	char letter;
	const char *name;
};
extern const struct cmd_letter cmd_letters[];

/* 0 when every letter d declares is in cmd_letters[] with the same long
 * name, and no name or letter is declared twice; else -1 with the reason
 * in why. */
int cmd_check(const struct cmd_def *d, char *why, size_t size);

/* A group of subcommands for `metrolog --help`: a heading, then the
 * subcommands (NULL ended). */
struct cmd_group {
	const char *heading;
	const struct cmd_def *const *cmds;
};

/* `metrolog --help`: the usage, each group's subcommands with their
 * summaries, then tail. */
void cmd_help_all(const struct cmd_group *groups, int ngroups, const char *tail,
                  FILE *f);

/* metrolog(1) in roff (man(7)), from the same declarations as
 * cmd_help_all() and cmd_help(): every subcommand with its usage, what it
 * does, every option and its footer; tail as in `metrolog --help`. */
void cmd_man(const struct cmd_group *groups, int ngroups, const char *tail,
             const char *version, FILE *f);

#endif
