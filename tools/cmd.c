/*
 * cmd.c - the command-line framework of the metrolog tool (cmd.h): the
 * parser, the generated --help, the table of short letters.
 *
 * cmd_parse() walks argv twice. The first walk only checks the syntax
 * against the declaration and looks for --help, calling nothing: an
 * unknown option or --help is answered before any option acts (calibrate's
 * --file reads a file). The second walk hands each option to the
 * subcommand, in command-line order, and keeps the positional arguments.
 * Between the two, the database (-d) is known: cmd_on_database()'s
 * function sees it before any option acts.
 *
 * Single-threaded; no allocation.
 */
#include "cmd.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "tool.h"

/* The ids of the options the framework handles (a subcommand's are >= 0). */
enum { ID_HELP = -1, ID_FORMAT = -2, ID_DATABASE = -3, ID_OUTPUT = -4 };

/* The help column: option names on the left, their help from here. */
#define HELP_COL 25

const struct cmd_letter cmd_letters[] = {
        {'a', "address"},  {'c', "certificate"}, {'d', "database"},
        {'e', "every"},    {'f', "format"},      {'h', "help"},
        {'H', "height"},   {'i', "instrument"},  {'l', "lang"},
        {'n', "count"},    {'o', "output"},      {'p', "point"},
        {'q', "qr"},       {'r', "rtu"},         {'R', "register"},
        {'s', "standard"}, {'t', "technician"},  {'T', "table"},
        {'u', "unit"},     {'W', "width"},       {'y', "type"},
        {0, NULL},
};

static const char *const format_names[CMD_NFORMATS] = {"text", "csv", "json",
                                                       "jsonl", "pdf"};

static const struct cmd_option common_opts[] = {
        {"format", 'f', "F", NULL, ID_FORMAT},
        {"database", 'd', "FILE",
         "the gateway's database (default $METROLOG_DB, else\n" TOOL_DEFAULT_DB
         ")",
         ID_DATABASE},
        {"output", 'o', "FILE", "write to FILE (default: standard output)",
         ID_OUTPUT},
        {"help", 'h', NULL, "show this help", ID_HELP},
};
#define N_COMMON (int)(sizeof(common_opts) / sizeof(common_opts[0]))

const char *cmd_format_name(enum cmd_format f)
{
	return (unsigned)f < CMD_NFORMATS ? format_names[f] : "?";
}

/* ---- the options of a declaration -------------------------------------- */

static bool has_common(const struct cmd_def *d, const struct cmd_option *o)
{
	switch (o->id) {
	case ID_FORMAT:
		return d->formats != 0;
	case ID_DATABASE:
		return (d->common & CMD_DATABASE) != 0;
	case ID_OUTPUT:
		return (d->common & CMD_OUTPUT) != 0;
	default:
		return true;
	}
}

/* The k-th option of d: its own, then the common ones it takes; NULL past
 * the last. */
static const struct cmd_option *option_at(const struct cmd_def *d, int k)
{
	int n = 0;

	for (const struct cmd_option *o = d->options; o != NULL && o->name; o++)
		if (n++ == k)
			return o;
	for (int i = 0; i < N_COMMON; i++)
		if (has_common(d, &common_opts[i]) && n++ == k)
			return &common_opts[i];
	return NULL;
}

static FILE *err_of(const struct cmd_line *l)
{
	return l->err != NULL ? l->err : stderr;
}

static FILE *out_of(const struct cmd_line *l)
{
	return l->out != NULL ? l->out : stdout;
}

static void vline(const struct cmd_line *l, const char *fmt, va_list ap)
{
	FILE *f = err_of(l);

	fprintf(f, "metrolog %s: ", l->def->name);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
}

int cmd_usage(const struct cmd_line *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(l, fmt, ap);
	va_end(ap);
	return CMD_USAGE;
}

int cmd_fail(const struct cmd_line *l, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(l, fmt, ap);
	va_end(ap);
	return status;
}

int cmd_check(const struct cmd_def *d, char *why, size_t size)
{
	const struct cmd_option *o, *p;

	if (d->max_args > CMD_MAX_ARGS || d->min_args > d->max_args) {
		snprintf(why, size, "positional arguments %d..%d", d->min_args,
		         d->max_args);
		return -1;
	}
	for (int k = 0; (o = option_at(d, k)) != NULL; k++) {
		for (int j = 0; j < k; j++) {
			p = option_at(d, j);
			if (strcmp(p->name, o->name) == 0 ||
			    (o->letter && p->letter == o->letter)) {
				snprintf(why, size, "--%s declared twice",
				         o->name);
				return -1;
			}
		}
		if (o->letter == 0)
			continue;
		const struct cmd_letter *t = cmd_letters;
		while (t->letter != 0 && t->letter != o->letter)
			t++;
		if (t->letter == 0 || strcmp(t->name, o->name) != 0) {
			snprintf(why, size, "-%c is --%s, not --%s", o->letter,
			         t->letter ? t->name : "in no table", o->name);
			return -1;
		}
	}
	return 0;
}

/* ---- finding an option --------------------------------------------------- */

/* The option argv[i] names is not one of this subcommand: the line. */
static int unknown(const struct cmd_line *l, const char *arg)
{
	return cmd_usage(l,
	                 "unexpected argument '%s': not an option of this "
	                 "command (metrolog %s --help lists them)",
	                 arg, l->def->name);
}

/* The long option name (len bytes) of arg: an exact name, else the one
 * name it starts. NULL after the error line. */
static const struct cmd_option *find_long(const struct cmd_line *l,
                                          const char *arg, size_t len)
{
	const struct cmd_option *o, *hit = NULL;
	const char *name = arg + 2;
	int hits = 0;

	for (int k = 0; (o = option_at(l->def, k)) != NULL; k++) {
		if (strncmp(o->name, name, len) != 0)
			continue;
		if (o->name[len] == '\0')
			return o;
		hit = o;
		hits++;
	}
	if (hits == 1)
		return hit;
	if (hits > 1)
		cmd_usage(l,
		          "'%s': ambiguous: the start of more than one option "
		          "(metrolog %s --help lists them)",
		          arg, l->def->name);
	else
		unknown(l, arg);
	return NULL;
}

static const struct cmd_option *find_short(const struct cmd_line *l,
                                           const char *arg, char c)
{
	const struct cmd_option *o;
	char one[3] = {'-', c, '\0'};

	for (int k = 0; (o = option_at(l->def, k)) != NULL; k++)
		if (o->letter == c)
			return o;
	unknown(l, arg[2] == '\0' ? arg : one);
	return NULL;
}

/* ---- acting on an option ------------------------------------------------- */

/* "text, csv, json or jsonl": the formats of the set, into buf. */
static void format_list(unsigned formats, char *buf, size_t size)
{
	int n = 0, shown = 0;

	buf[0] = '\0';
	for (int f = 0; f < CMD_NFORMATS; f++)
		n += (formats & CMD_FMT(f)) != 0;
	for (int f = 0; f < CMD_NFORMATS; f++) {
		size_t at = strlen(buf);
		if (!(formats & CMD_FMT(f)))
			continue;
		snprintf(buf + at, size - at, "%s%s",
		         shown == 0       ? ""
		         : shown == n - 1 ? " or "
		                          : ", ",
		         format_names[f]);
		shown++;
	}
}

static int set_format(struct cmd_line *l, const char *v)
{
	char list[96];

	for (int f = 0; f < CMD_NFORMATS; f++)
		if ((l->def->formats & CMD_FMT(f)) &&
		    strcmp(v, format_names[f]) == 0) {
			l->format = (enum cmd_format)f;
			return 0;
		}
	format_list(l->def->formats, list, sizeof(list));
	return cmd_usage(l, "--format '%s': expected %s", v, list);
}

/* Returns 0, -1 for --help, or the status to stop with. */
static int act(struct cmd_line *l, const struct cmd_option *o, const char *v,
               bool call)
{
	if (o->id == ID_HELP)
		return -1;
	if (o->id == ID_DATABASE) /* known before any option acts */
		l->database = v;
	if (!call)
		return 0;
	switch (o->id) {
	case ID_FORMAT:
		return set_format(l, v);
	case ID_DATABASE:
		return 0;
	case ID_OUTPUT:
		l->output = v;
		return 0;
	default:
		return l->on_option != NULL ? l->on_option(l, o, v) : 0;
	}
}

/* "--name", "--name=value" or "--name value" at argv[*i]. */
static int long_option(struct cmd_line *l, int argc, char **argv, int *i,
                       bool call)
{
	const char *name = argv[*i] + 2, *eq = strchr(name, '=');
	size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
	const struct cmd_option *o = find_long(l, argv[*i], len);

	if (o == NULL)
		return CMD_USAGE;
	if (o->arg == NULL && eq != NULL)
		return cmd_usage(l, "--%s takes no value", o->name);
	if (o->arg == NULL)
		return act(l, o, NULL, call);
	if (eq != NULL)
		return act(l, o, eq + 1, call);
	if (*i + 1 >= argc)
		return cmd_usage(l, "--%s needs a value (%s)", o->name, o->arg);
	return act(l, o, argv[++*i], call);
}

/* "-x", "-xVALUE", "-x VALUE", or flags grouped "-nh", at argv[*i]. */
static int short_options(struct cmd_line *l, int argc, char **argv, int *i,
                         bool call)
{
	const char *s = argv[*i] + 1;

	for (; *s; s++) {
		const struct cmd_option *o = find_short(l, argv[*i], *s);
		int rc;
		if (o == NULL)
			return CMD_USAGE;
		if (o->arg == NULL) {
			if ((rc = act(l, o, NULL, call)) != 0)
				return rc;
			continue;
		}
		if (s[1] != '\0')
			return act(l, o, s + 1, call);
		if (*i + 1 >= argc)
			return cmd_usage(l, "-%c (--%s) needs a value (%s)", *s,
			                 o->name, o->arg);
		return act(l, o, argv[++*i], call);
	}
	return 0;
}

/* An option, not "-", "-5" or "-.5" (positional arguments). */
static bool is_option(const char *a)
{
	if (a[0] != '-' || a[1] == '\0')
		return false;
	if (isdigit((unsigned char)a[1]))
		return false;
	return !(a[1] == '.' && isdigit((unsigned char)a[2]));
}

static int positional(struct cmd_line *l, char *a, bool call)
{
	if (l->nargs >= l->def->max_args && l->def->max_args == 0)
		return cmd_usage(l,
		                 "'%s': unexpected argument (metrolog %s "
		                 "takes none)",
		                 a, l->def->name);
	if (l->nargs >= l->def->max_args)
		return cmd_usage(l,
		                 "'%s': unexpected argument (metrolog %s "
		                 "takes at most %d)",
		                 a, l->def->name, l->def->max_args);
	if (call)
		l->args[l->nargs] = a;
	l->nargs++;
	return 0;
}

/* One walk of argv: 0, -1 for --help, or the status to stop with. */
static int walk(struct cmd_line *l, int argc, char **argv, bool call)
{
	bool only_args = false;
	int rc = 0;

	l->nargs = 0;
	for (int i = 1; i < argc && rc == 0; i++) {
		char *a = argv[i];
		if (only_args || !is_option(a))
			rc = positional(l, a, call);
		else if (strcmp(a, "--") == 0)
			only_args = true;
		else if (a[1] == '-')
			rc = long_option(l, argc, argv, &i, call);
		else
			rc = short_options(l, argc, argv, &i, call);
	}
	return rc;
}

static void (*database_fn)(const char *database);

void cmd_on_database(void (*fn)(const char *database))
{
	database_fn = fn;
}

int cmd_parse(const struct cmd_def *d, struct cmd_line *l, int argc,
              char **argv, int *status)
{
	char why[128];
	int rc;

	l->def = d;
	l->format = d->default_format;
	l->database = l->output = NULL;
	l->nargs = 0;
	if (cmd_check(d, why, sizeof(why)) < 0) {
		*status = cmd_fail(l, CMD_INTERNAL, "internal error: %s", why);
		return -1;
	}
	rc = walk(l, argc, argv, false);
	if (rc == -1) {
		cmd_help(d, out_of(l));
		*status = CMD_OK;
		return -1;
	}
	if (rc == 0 && database_fn != NULL && (d->common & CMD_DATABASE))
		database_fn(l->database);
	if (rc == 0)
		rc = walk(l, argc, argv, true);
	if (rc == 0 && l->nargs < d->min_args)
		rc = cmd_usage(l, "%s",
		               d->args_missing != NULL ? d->args_missing
		                                       : "missing argument");
	*status = rc;
	return rc == 0 ? 0 : -1;
}

/* ---- help ---------------------------------------------------------------- */

/* text with each '\n' followed by indent spaces, then a newline. */
static void indented(FILE *f, const char *text, int indent)
{
	for (; *text; text++) {
		fputc(*text, f);
		if (*text == '\n' && text[1] != '\0')
			fprintf(f, "%*s", indent, "");
	}
	fputc('\n', f);
}

static void format_help(const struct cmd_def *d, FILE *f)
{
	char list[96];

	format_list(d->formats, list, sizeof(list));
	fprintf(f, "output format: %s (default %s)\n", list,
	        format_names[d->default_format]);
}

static void option_help(const struct cmd_def *d, const struct cmd_option *o,
                        FILE *f)
{
	char left[64];
	int n;

	if (o->letter)
		n = snprintf(left, sizeof(left), "  -%c, --%s%s%s", o->letter,
		             o->name, o->arg ? " " : "", o->arg ? o->arg : "");
	else
		n = snprintf(left, sizeof(left), "      --%s%s%s", o->name,
		             o->arg ? " " : "", o->arg ? o->arg : "");
	if (n < HELP_COL - 1)
		fprintf(f, "%-*s", HELP_COL, left);
	else
		fprintf(f, "%s\n%*s", left, HELP_COL, "");
	if (o->id == ID_FORMAT)
		format_help(d, f);
	else if (o->id == ID_OUTPUT && d->output_help != NULL)
		indented(f, d->output_help, HELP_COL);
	else
		indented(f, o->help != NULL ? o->help : "", HELP_COL);
}

void cmd_help(const struct cmd_def *d, FILE *f)
{
	const char *s = d->synopsis != NULL ? d->synopsis : "";
	const struct cmd_option *o;

	fprintf(f, "Usage: metrolog %s ", d->name);
	for (; *s; s++) {
		fputc(*s, f);
		if (*s == '\n' && s[1] == ' ') /* the same usage, continued */
			fprintf(f, "      ");
		else if (*s == '\n')
			fprintf(f, "       metrolog %s ", d->name);
	}
	fprintf(f, "\n%s\nOptions:\n", d->about != NULL ? d->about : "");
	for (int k = 0; (o = option_at(d, k)) != NULL; k++)
		option_help(d, o, f);
	if (d->footer != NULL)
		fprintf(f, "\n%s", d->footer);
}

void cmd_help_all(const struct cmd_group *groups, int ngroups, const char *tail,
                  FILE *f)
{
	fprintf(f, "Usage: metrolog COMMAND [OPTION]...\n"
	           "The metrolog tool: instruments, readings and calibration "
	           "records.\n");
	for (int g = 0; g < ngroups; g++) {
		fprintf(f, "\n%s:\n", groups[g].heading);
		for (const struct cmd_def *const *c = groups[g].cmds; *c; c++)
			fprintf(f, "  %-13s %s\n", (*c)->name, (*c)->summary);
	}
	if (tail != NULL)
		fprintf(f, "\n%s", tail);
}

/* ---- the manual page ----------------------------------------------------- */

/* One character for roff: '\\' as \e, '-' as \- (so that a command
 * copied from the page works). */
static void roff_char(FILE *f, char c)
{
	if (c == '\\')
		fputs("\\e", f);
	else if (c == '-')
		fputs("\\-", f);
	else
		fputc(c, f);
}

/* A word inside a line (a name, an argument). */
static void roff_word(FILE *f, const char *word)
{
	for (; *word; word++)
		roff_char(f, *word);
}

/* Lines of text for roff, ended by a newline: a line that would start with
 * '.' or '\'' (a request) guarded by \&, a blank line a new paragraph
 * (in_tp: the text sits in a .TP paragraph, which it must not end). */
static void roff_text(FILE *f, const char *text, bool in_tp)
{
	bool bol = true;

	for (const char *p = text; *p; p++) {
		if (bol && *p == '\n') {
			fputs(in_tp ? ".sp\n" : ".PP\n", f);
			continue;
		}
		if (bol && (*p == '.' || *p == '\''))
			fputs("\\&", f);
		bol = *p == '\n';
		roff_char(f, *p);
	}
	if (!bol)
		fputc('\n', f);
}

/* One option as a .TP paragraph: its names in bold, its argument in
 * italics, then its help (the same words as option_help()). */
static void option_man(const struct cmd_def *d, const struct cmd_option *o,
                       FILE *f)
{
	char list[96];

	fputs(".TP\n", f);
	if (o->letter)
		fprintf(f, "\\fB\\-%c\\fR, ", o->letter);
	fputs("\\fB\\-\\-", f);
	roff_word(f, o->name);
	fputs("\\fR", f);
	if (o->arg != NULL) {
		fputs(" \\fI", f);
		roff_word(f, o->arg);
		fputs("\\fR", f);
	}
	fputc('\n', f);
	if (o->id == ID_FORMAT) {
		format_list(d->formats, list, sizeof(list));
		fprintf(f, "output format: %s (default %s)\n", list,
		        format_names[d->default_format]);
	} else if (o->id == ID_OUTPUT && d->output_help != NULL) {
		roff_text(f, d->output_help, true);
	} else {
		roff_text(f, o->help != NULL ? o->help : "", true);
	}
}

/* One subcommand: its usage lines, what it does, its options, footer. */
static void cmd_man_one(const struct cmd_def *d, FILE *f)
{
	const char *s = d->synopsis != NULL ? d->synopsis : "";
	const struct cmd_option *o;

	fprintf(f, ".SS %s\n", d->name);
	fprintf(f, ".nf\n\\fBmetrolog %s\\fR ", d->name);
	for (; *s; s++) {
		if (*s == '\n' && s[1] == ' ') /* the same usage, continued */
			fputs("\n    ", f);
		else if (*s == '\n')
			fprintf(f, "\n\\fBmetrolog %s\\fR ", d->name);
		else
			roff_char(f, *s);
	}
	fputs("\n.fi\n.PP\n", f);
	roff_text(f, d->about != NULL ? d->about : "", false);
	for (int k = 0; (o = option_at(d, k)) != NULL; k++)
		option_man(d, o, f);
	if (d->footer != NULL) {
		fputs(".PP\n", f);
		roff_text(f, d->footer, false);
	}
}

void cmd_man(const struct cmd_group *groups, int ngroups, const char *tail,
             const char *version, FILE *f)
{
	fprintf(f,
	        ".\\\" metrolog(1), printed by `metrolog --man` from the "
	        "declarations\n"
	        ".\\\" of its subcommands (tools/cmd.h): do not edit.\n"
	        ".TH METROLOG 1 \"\" \"metrolog %s\" \"metrolog manual\"\n"
	        ".SH NAME\nmetrolog \\- the metrolog tool: instruments, "
	        "readings and calibration records\n"
	        ".SH SYNOPSIS\n\\fBmetrolog\\fR \\fICOMMAND\\fR "
	        "[\\fIOPTION\\fR]...\n.br\n"
	        "\\fBmetrolog\\fR \\fICOMMAND\\fR \\fB\\-\\-help\\fR\n"
	        ".SH DESCRIPTION\n"
	        "The command-line tool of the technicians of a metrology "
	        "laboratory: it reads\ninstruments over Modbus, and lists, "
	        "exports and records what the gateway\n\\fBmetrologd\\fR(8) "
	        "keeps in its SQLite database: readings, events,\ncalibration "
	        "records, certificates.\n"
	        ".PP\n",
	        version);
	roff_text(f, tail != NULL ? tail : "", false);
	fputs(".SH COMMANDS\n", f);
	for (int g = 0; g < ngroups; g++) {
		fputs(".PP\n\\fI", f);
		roff_text(f, groups[g].heading, false);
		fputs("\\fR\n", f);
		for (const struct cmd_def *const *c = groups[g].cmds; *c; c++)
			cmd_man_one(*c, f);
	}
	fputs(".SH ENVIRONMENT\n.TP\n\\fBMETROLOG_DB\\fR\n"
	      "the database of every command that takes \\fB\\-d\\fR when "
	      "none is given\n(default " TOOL_DEFAULT_DB ")\n"
	      ".SH SEE ALSO\n\\fBmetrologd\\fR(8), \\fBmetrologd.cfg\\fR(5), "
	      "\\fBmetrolog\\-sim\\fR(1);\n/usr/share/doc/metrolog/TOOL.md\n",
	      f);
}
