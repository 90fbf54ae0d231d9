/*
 * fuzz_config.c - libFuzzer target for the gateway's configuration loader
 * (config_load() in gateway/daemon/config.c, docs/CONFIG.md): libconfig's
 * parser (installed, not instrumented) and every check of ours behind it.
 *
 * Input: the file, written into a memory file (memfd) that config_load()
 * opens by its /proc/self/fd path; errors go to /dev/null; a loaded
 * configuration is walked (every channel through config_channel()) and
 * freed. An input with an @include directive is skipped: it would read
 * whatever file it names, and libconfig's include code is not ours.
 *
 * libconfig 1.5 (Debian 12's) leaks a string on some syntax errors: the
 * buffer of one a syntax error interrupts (allocated in its
 * strbuf_append()), and a string token the parser discards while it
 * recovers (allocated in libconfig_yylex(); hyperrealm/libconfig#142,
 * fixed in 1.7.3 by a bison %destructor). Those two allocation sites are
 * suppressed below, nothing else of libconfig's;
 * regress-config/libconfig_leak_* replay them.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config_load.h"
#include "fuzz.h"

const char *__lsan_default_suppressions(void);

const char *__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

static int fd = -1;
static char path[64];
static FILE *devnull;

static int has_include(const uint8_t *d, size_t n)
{
	for (size_t i = 0; i + 8 <= n; i++)
		if (d[i] == '@' &&
		    strncasecmp((const char *)d + i + 1, "include", 7) == 0)
			return 1;
	return 0;
}

static void walk(const struct config *c)
{
	const struct cfg_instrument *in;
	const struct cfg_channel *ch;

	for (uint32_t i = 0; i < (uint32_t)c->nchannels; i++) {
		ch = config_channel(c, i, &in);
		CHECK(ch != NULL && in != NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c;

	if (fd < 0) {
		fd = memfd_create("metrolog.cfg", 0);
		devnull = fopen("/dev/null", "w");
		CHECK(fd >= 0 && devnull != NULL);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (has_include(data, size))
		return 0;
	CHECK(ftruncate(fd, 0) == 0);
	CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);
	c = config_load(path, devnull);
	if (c != NULL) {
		walk(c);
		config_free(c);
	}
	return 0;
}
