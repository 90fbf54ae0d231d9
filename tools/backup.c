/*
 * backup.c - `metrolog backup`: a checked copy of the database while
 * metrologd runs (query_backup(): SQLite's online backup, one commit's
 * state, integrity_check, synced, renamed into place), its audit chain
 * verified on the copy, and the chain's head printed to keep apart from
 * the backup: a later copy whose chain does not reach that head has lost
 * records. Into a directory, the copy is named by the lab's local time
 * and --keep N removes the oldest of the directory's backups beyond N.
 *
 * Single-threaded; reads the database through query.h (never writes it).
 * Exit codes in tool.h.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "labtime.h"
#include "query.h"
#include "tool.h"

#define NAME_PREFIX "metrolog-"
#define NAME_SUFFIX ".db"

enum { BK_KEEP };

static const struct cmd_option backup_opts[] = {
        {"keep", 0, "N",
         "with a DIRECTORY: then remove the oldest " NAME_PREFIX "*" NAME_SUFFIX
         "\nin it beyond the N newest (1..100000)",
         BK_KEEP},
        {0},
};

const struct cmd_def backup_cmd = {
        .name = "backup",
        .summary = "copy the database while metrologd runs, checked",
        .synopsis = "[-d DB] DEST [--keep N]",
        .about = "Copy the database, as it stands at one commit, while "
                 "metrologd keeps writing\n(SQLite's online backup) into "
                 "DEST: a new file, or a directory, where the\ncopy is "
                 "named " NAME_PREFIX "YYYY-MM-DD-HHMMSS" NAME_SUFFIX
                 " by the lab's local time. The copy is\nwritten as "
                 "DEST.part, made one file (no -wal), checked (SQLite's "
                 "integrity_check),\nsynced to disk and only then renamed: "
                 "a file of that name is always a whole\ncopy. Then the "
                 "copy's audit chain and approvals are verified as "
                 "'metrolog\nverify' does, and their heads printed: keep "
                 "them apart from the backup; a\ncopy whose chain does not "
                 "contain that head has lost records. An existing\nfile "
                 "is never replaced. The copy holds the customers' records: "
                 "its mode is\n0666 less the umask (0640 under the "
                 "package's timer). Restore: stop metrologd,\ncopy the "
                 "file over the database, start metrologd "
                 "(docs/OPERATIONS.md).\n",
        .options = backup_opts,
        .common = CMD_DATABASE,
        .min_args = 1,
        .max_args = 1,
        .args_missing = "where to? give a DEST file or directory",
        .footer = "Exit status: 0 copied and verified, 1 not copied (the "
                  "reason is on the error\nstream), 2 bad usage, 4 copied "
                  "but its audit chain does not verify (the\ndatabase's "
                  "own does not: see 'metrolog verify').\n",
        .run = cmd_backup,
};

static int on_backup_option(struct cmd_line *l, const struct cmd_option *o,
                            const char *v)
{
	long *keep = l->ctx;

	(void)o;
	if (tool_parse_long(v, 1, 100000, keep) < 0)
		return cmd_usage(l,
		                 "--keep '%s': expected a whole number "
		                 "of backups, 1 to 100000",
		                 v);
	return 0;
}

/* Whether name is one of the names backup gives in a directory. */
static int is_backup_name(const struct dirent *e)
{
	size_t n = strlen(e->d_name), p = strlen(NAME_PREFIX),
	       s = strlen(NAME_SUFFIX);

	return n > p + s && strncmp(e->d_name, NAME_PREFIX, p) == 0 &&
	       strcmp(e->d_name + n - s, NAME_SUFFIX) == 0;
}

/* Remove the oldest backups of dir beyond the keep newest (the names sort
 * by time), never made, the one just made. 0, or 1 when one could not be
 * removed (said). */
static int prune(const char *dir, const char *made, long keep)
{
	struct dirent **list = NULL;
	char path[4096];
	int n = scandir(dir, &list, is_backup_name, alphasort), rc = 0;
	long kept = 1; /* made */

	if (n < 0) {
		fprintf(stderr, "metrolog backup: %s: %s\n", dir,
		        strerror(errno));
		return 1;
	}
	for (int i = n - 1; i >= 0; i--) {
		snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
		free(list[i]);
		if (strcmp(path, made) == 0)
			continue;
		if (kept < keep) {
			kept++;
		} else if (unlink(path) == 0) {
			printf("removed          %s (beyond the %ld newest)\n",
			       path, keep);
		} else {
			fprintf(stderr, "metrolog backup: %s: %s\n", path,
			        strerror(errno));
			rc = 1;
		}
	}
	free(list);
	return rc;
}

/* DEST, or DEST/metrolog-<local time>.db when DEST is a directory (*dir
 * set). 0, or -1 when the path does not fit. */
static int destination(const char *dest, char *path, size_t size, bool *dir)
{
	struct stat st;
	struct utc_civil c;

	*dir = stat(dest, &st) == 0 && S_ISDIR(st.st_mode);
	if (!*dir)
		return snprintf(path, size, "%s", dest) < (int)size ? 0 : -1;
	labtime_to_civil(tool_now_us(), &c);
	return snprintf(path, size,
	                "%s/" NAME_PREFIX
	                "%04d-%02d-%02d-%02d%02d%02d" NAME_SUFFIX,
	                dest, (int)c.year, c.month, c.day, c.hour, c.minute,
	                c.second) < (int)size
	               ? 0
	               : -1;
}

int cmd_backup(int argc, char **argv)
{
	long keep = 0;
	struct cmd_line l = {.on_option = on_backup_option, .ctx = &keep};
	char path[4096], err[4400];
	struct query *q, *copy;
	struct stat st;
	bool dir;
	int rc;

	if (cmd_parse(&backup_cmd, &l, argc, argv, &rc) < 0)
		return rc;
	if (destination(l.args[0], path, sizeof(path), &dir) < 0)
		return cmd_usage(&l, "%s: path too long", l.args[0]);
	if (keep > 0 && !dir)
		return cmd_usage(&l, "--keep needs DEST to be a directory");
	q = query_open(tool_database(l.database), err, sizeof(err));
	if (q == NULL)
		return cmd_fail(&l, CMD_FAILED, "%s", err);
	rc = query_backup(q, path, err, sizeof(err));
	query_close(q);
	if (rc < 0)
		return cmd_fail(&l, CMD_FAILED, "%s", err);
	printf("backup           %s\n", path);
	if (stat(path, &st) == 0)
		printf("size             %jd bytes\n", (intmax_t)st.st_size);
	printf("integrity        ok\n");
	copy = query_open(path, err, sizeof(err));
	if (copy == NULL)
		return cmd_fail(&l, CMD_FAILED, "the copy: %s", err);
	rc = tool_verify_chains(copy, "backup");
	query_close(copy);
	if (rc == 0)
		printf("keep the heads above apart from the backup: a copy "
		       "whose chains do not\ncontain them has lost records\n");
	if (rc == 0 && keep > 0)
		rc = prune(l.args[0], path, keep);
	return rc;
}
