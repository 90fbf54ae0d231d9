/*
 * config_load.h - the gateway's configuration from a libconfig file.
 *
 * The only module that includes <libconfig.h>. Every setting is checked once,
 * up front, against a table of keys with type, range and default; every
 * error is reported as "file:line: what is wrong" and the whole file is
 * refused if there is any. Unknown keys are errors (a typo must not silently
 * fall back to a default). docs/CONFIG.md lists every key; config.h (core)
 * is the struct it builds.
 */
#ifndef METROLOG_CONFIG_LOAD_H
#define METROLOG_CONFIG_LOAD_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"

/*
 * Read and validate path. On success returns the config (free it with
 * config_free()). On failure returns NULL after writing every error found,
 * one per line, as "path:line: message" to errs (or "path: message" when no
 * line applies, e.g. the file cannot be opened).
 */
struct config *config_load(const char *path, FILE *errs);

void config_free(struct config *c); /* NULL allowed */

/*
 * Whether metrologd, run as this process's user, could keep its database
 * where c says, for --check-config (config_load() reads no file but its
 * own): the database's directory exists, is a directory, and this user
 * may create files in it (write and search: SQLite creates the database,
 * its -wal and its -shm there); an existing database is a file this user
 * may read and write. On failure writes one line to errs, "FILE:LINE:
 * database \"PATH\": what is wrong" (FILE:LINE of the database setting:
 * 'directory /no/such/dir does not exist', 'directory /var/lib/metrolog
 * is not writable: Permission denied') and returns -1; else returns 0.
 * Root passes the write checks whoever owns the directory: run the check
 * as the service's user (runuser -u metrolog -- metrologd -n ...).
 */
int config_check_database(const struct config *c, FILE *errs);

/* The instrument and channel of a global channel index (index <
 * c->nchannels). */
const struct cfg_channel *config_channel(const struct config *c, uint32_t index,
                                         const struct cfg_instrument **inst);

#endif
