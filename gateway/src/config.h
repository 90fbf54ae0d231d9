/*
 * config.h - the gateway's configuration: a libconfig file turned into a
 * validated, immutable struct config.
 *
 * The only module that includes <libconfig.h>. Every setting is checked once,
 * up front, against a table of keys with type, range and default; every
 * error is reported as "file:line: what is wrong" and the whole file is
 * refused if there is any. Unknown keys are errors (a typo must not silently
 * fall back to a default). docs/CONFIG.md lists every key.
 *
 * A struct config is built by one thread and then only read, by any thread,
 * until config_free().
 */
#ifndef METROLOG_CONFIG_H
#define METROLOG_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bus.h"
#include "decode.h"

enum queue_full_policy {
	QUEUE_DROP_OLDEST, /* keep polling on time; the oldest samples go */
	QUEUE_BLOCK,       /* pollers wait for room; schedules slip */
};

struct cfg_channel {
	char *name;            /* unique within its instrument */
	char *unit;            /* engineering unit, "" when none */
	enum bus_table table;
	uint16_t address;      /* 0-based protocol address */
	struct decode_spec spec;
	uint32_t index;        /* global channel index: position in
	                          config.channels order over all instruments */
	int line;
};

struct cfg_instrument {
	char *id;              /* unique in the file */
	int bus;               /* index into config.buses */
	int unit_id;           /* 0..255 on TCP, 1..247 on RTU */
	int interval_ms;       /* poll period */
	char *model, *serial, *owner, *location; /* "" when not given */
	int max_gap;           /* registers to read over when coalescing */
	struct cfg_channel *channels;
	int nchannels;
	int line;
};

struct cfg_bus {
	char *name;            /* unique in the file */
	struct bus_params params; /* strings owned by the config */
	int turnaround_ms;     /* RTU: wait after a broadcast / between units */
	int silence_margin_us; /* RTU: added to the 3.5-character silence */
	bool connect_per_poll; /* TCP: connect for each poll, then close */
	int backoff_max_ms;    /* cap of the per-instrument retry back-off */
	int line;
};

/* The optional mqtt group: absent, config.mqtt is NULL and nothing is
 * published. docs/MQTT.md is the contract of what is published. */
enum outbox_full_policy {
	OUTBOX_DROP_OLDEST, /* the oldest unsent messages go, logged, counted */
};

struct cfg_mqtt {
	char *host;            /* broker host name or address */
	int port;
	char *prefix;          /* first topic levels, e.g. "metrolog" */
	char *client_id;       /* stable; default "metrologd-<site>" */
	int qos;               /* 0 or 1 */
	int keepalive_s;
	int inflight;          /* messages sent and not yet acknowledged */
	long outbox_max;       /* unsent messages kept, at most */
	enum outbox_full_policy outbox_full;
	int historical_s;      /* older than this when sent: "historical" */
	int line;
};

struct config {
	char *path;
	char *site;
	char *database;
	struct cfg_bus *buses;
	int nbuses;
	struct cfg_instrument *instruments;
	int ninstruments;
	int nchannels;         /* over all instruments */
	/* storage */
	int batch_max;         /* samples per transaction, at most */
	int batch_ms;          /* a sample waits at most this long for COMMIT */
	int queue_size;        /* samples the poller->ingest queue holds */
	enum queue_full_policy queue_full;
	int retention_days;    /* readings older than this are deleted; 0: keep */
	struct cfg_mqtt *mqtt; /* NULL: no mqtt group, nothing is published */
};

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
const struct cfg_channel *config_channel(const struct config *c,
                                         uint32_t index,
                                         const struct cfg_instrument **inst);

#endif
