/*
 * A real full disk under metrologd: the database lives on a small tmpfs
 * mounted in a private mount namespace of this test (root, or an
 * unprivileged user namespace where the kernel allows one; otherwise the
 * test is skipped and says why). A ballast file fills most of it; once
 * SQLite reports the disk full, the ballast is deleted and metrologd must
 * commit everything it polled meanwhile: no hole in the series, the file
 * intact, exit 0 on SIGTERM.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gwtest.h"

#define FS_KIB 1088
#define BALLAST_KIB                                                            \
	704 /* 384 KiB left: room to create the database (15 schema steps:     \
	       320 KiB were too few from step 15, the view rewritten), then    \
	       it fills */

static int write_proc(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n = -1;

	if (fd != -1) {
		n = write(fd, text, strlen(text));
		close(fd);
	}
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* A private mount namespace in which we may mount: directly as root, or
 * inside a new user namespace mapping us to root. */
static int private_mounts(char *why, size_t size)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	char map[64];

	if (unshare(CLONE_NEWNS) == 0)
		goto ok;
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) == -1) {
		snprintf(why, size, "no mount namespace: %s", strerror(errno));
		return -1;
	}
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	if (write_proc("/proc/self/setgroups", "deny") == -1 ||
	    write_proc("/proc/self/uid_map", map) == -1) {
		snprintf(why, size, "cannot map the user namespace");
		return -1;
	}
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	if (write_proc("/proc/self/gid_map", map) == -1) {
		snprintf(why, size, "cannot map the user namespace");
		return -1;
	}
ok:
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1) {
		snprintf(why, size, "mount --make-rprivate /: %s",
		         strerror(errno));
		return -1;
	}
	return 0;
}

static int log_has(const struct gw *g, const char *text)
{
	char buf[65536];

	return h_read_file(g->log, buf, sizeof(buf)) >= 0 &&
	       strstr(buf, text) != NULL;
}

static int wait_log(const struct gw *g, const char *text, int ms)
{
	for (int t = 0; t < ms; t += 50) {
		if (log_has(g, text))
			return 0;
		sleep_ms(50);
	}
	return -1;
}

static void full_disk_loses_nothing(void **state)
{
	(void)state;
	const char *dir = h_tmpdir();
	char why[128], fs[H_PATH_MAX], ballast[H_PATH_MAX], opts[64];
	char bus[256], inst[2048];
	struct h_sim sim;
	struct gw g;

	if (private_mounts(why, sizeof(why)) == -1) {
		fprintf(stderr, "skipped: %s\n", why);
		skip();
	}
	h_path(fs, dir, "fs");
	assert_int_equal(mkdir(fs, 0755), 0);
	snprintf(opts, sizeof(opts), "size=%dk", FS_KIB);
	assert_int_equal(mount("tmpfs", fs, "tmpfs", 0, opts), 0);

	/* most of the filesystem taken by a ballast file */
	h_path(ballast, fs, "ballast");
	FILE *f = fopen(ballast, "w");
	assert_non_null(f);
	static char block[1024];
	for (int i = 0; i < BALLAST_KIB; i++)
		assert_int_equal(fwrite(block, 1, sizeof(block), f),
		                 sizeof(block));
	assert_int_equal(fclose(f), 0);

	assert_int_equal(h_sim_start(&sim, dir, true, false, NULL), 0);
	gw_init(&g, dir);
	h_path(g.db, fs, "metrolog.db");
	tcp_bus(bus, sizeof(bus), "b", sim.port, 500);
	instrument(inst, sizeof(inst), "F-1", "b", 1, 20, 4);
	gw_config(&g, bus, inst, "storage = { batch_ms = 20; };");
	gw_start(&g);

	/* the disk fills while it runs: commits fail ("...: append: database
	 * or disk is full; 8 samples kept, retrying"), polling goes on */
	if (wait_log(&g, "disk is full; ", 30000) == -1)
		fail_msg("metrologd never reported a full disk");
	sleep_ms(1000);
	assert_int_equal(unlink(ballast), 0);
	if (wait_log(&g, "database writable again", 60000) == -1)
		fail_msg("metrologd did not recover after space was freed");
	sleep_ms(500);
	assert_int_equal(gw_stop(&g), 0);

	/* every poll is there: 20 ms apart, no hole across the outage */
	long long gap = db_int(
	        g.db, "SELECT max(gap) / 1000 FROM (SELECT r.ts - lag(r.ts) "
	              "OVER (ORDER BY r.ts) AS gap FROM readings r JOIN "
	              "channels c ON c.id = r.channel WHERE c.name = 'c0')");
	if (gap > 500)
		fail_msg("a %lld ms hole in the readings", gap);
	assert_true(db_int(g.db, "SELECT count(*) FROM readings") > 100);
	db_assert_integrity(g.db);
	assert_int_equal(h_sim_stop(&sim), 0);
	umount2(fs, MNT_DETACH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(full_disk_loses_nothing, h_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
