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

/* The instrument and channel of a global channel index (index <
 * c->nchannels). */
const struct cfg_channel *config_channel(const struct config *c, uint32_t index,
                                         const struct cfg_instrument **inst);

#endif
