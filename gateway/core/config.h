/*
 * config.h - the gateway's configuration as data: a validated, immutable
 * struct config (docs/CONFIG.md lists every key).
 *
 * Only types: the loader, which reads a libconfig file into this struct,
 * is daemon/config.c (config_load.h). The database and the monitor read
 * these structs; tests build them field by field.
 *
 * A struct config is built by one thread and then only read, by any thread,
 * until config_free().
 */
#ifndef METROLOG_CONFIG_H
#define METROLOG_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"
#include "drift.h"
#include "mbaddr.h"

enum queue_full_policy {
	QUEUE_DROP_OLDEST, /* keep polling on time; the oldest samples go */
	QUEUE_BLOCK,       /* pollers wait for room; schedules slip */
};

/* The optional tolerance group of a channel (docs/CONFIG.md): what the
 * channel should read and how far it may stray. The limits are computed
 * once, at load, from the form (drift.h) evaluated at the reference value,
 * so they are fixed error limits for the live state machine. */
#define TREND_POINTS_MAX 2000 /* bins in a trend window, at most */

enum tol_rule {
	TOL_RULE_SIMPLE,  /* ILAC-G8 simple acceptance: no guard band */
	TOL_RULE_GUARDED, /* guard band w = guard_factor * U */
};

struct cfg_tolerance {
	double reference; /* nominal value; error = value - reference */
	/* comparison calibration: error = value - the value of this channel
	 * (same instrument) at the same poll; reference is then only where
	 * the limits are evaluated */
	bool by_channel;
	uint32_t ref_channel; /* global channel index, when by_channel */
	char *ref_name;       /* its name, as written; NULL when none */
	struct drift_tol tol; /* the form, as the datasheet states it */
	double lower, upper;  /* error limits at the reference value */
	double U, k;          /* expanded uncertainty and coverage factor */
	enum tol_rule rule;
	double guard_factor; /* r; guard = r * U when guarded, else 0 */
	double guard;        /* w, in the unit */
	double warning;      /* fraction of the limit that warns */
	double hysteresis;   /* fraction of the limit to come back */
	int consecutive;     /* readings in a row before a change */
	/* control charts on the error; lambda/cusum_h 0: chart off */
	double ewma_lambda, ewma_L;
	double cusum_k, cusum_h;
	int baseline;          /* readings to learn mean and sigma from */
	double baseline_sigma; /* > 0: given in-control sigma (mean 0) */
	/* the drift trend: bin means of the error over a sliding window of
	 * trend_days (0: off), and the predicted limit crossing */
	double trend_days;
	int trend_bin_s;
	double trend_horizon_days;
	double trend_conf; /* one-sided confidence of the bound */
	int line;
};

struct cfg_channel {
	char *name;                      /* unique within its instrument */
	struct cfg_tolerance *tolerance; /* NULL: none */
	char *unit;                      /* engineering unit, "" when none */
	enum bus_table table;
	uint16_t address; /* 0-based protocol address */
	struct decode_spec spec;
	uint32_t index; /* global channel index: position in
	                   config.channels order over all instruments */
	int line;
};

struct cfg_instrument {
	char *id;        /* unique in the file */
	int bus;         /* index into config.buses */
	int unit_id;     /* 0..255 on TCP, 1..247 on RTU */
	int interval_ms; /* poll period */
	char *model, *serial, *owner, *location; /* "" when not given */
	int cal_interval_days; /* calibration interval, 0: none configured */
	int due_soon_days;     /* "due soon" this many days before due */
	int max_gap;           /* registers to read over when coalescing */
	struct cfg_channel *channels;
	int nchannels;
	int line;
};

struct cfg_bus {
	char *name;               /* unique in the file */
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
	char *host; /* broker host name or address */
	int port;
	char *prefix;    /* first topic levels, e.g. "metrolog" */
	char *client_id; /* stable; default "metrologd-<site>" */
	int qos;         /* 0 or 1 */
	int keepalive_s;
	int inflight;    /* messages sent and not yet acknowledged */
	long outbox_max; /* unsent messages kept, at most */
	enum outbox_full_policy outbox_full;
	int historical_s;    /* older than this when sent: "historical" */
	bool tls;            /* a tls group: connect with TLS */
	bool tls_verify;     /* check the broker's certificate and name */
	char *ca_file;       /* NULL: the system's trusted CAs */
	char *cert_file;     /* client certificate, or NULL */
	char *key_file;      /* its private key, or NULL */
	char *username;      /* NULL: none */
	char *password_file; /* NULL: none; first line is the password,
	                        read when the publisher starts */
	int version;         /* 3: MQTT 3.1.1, 5: MQTT 5 */
	char *ha_prefix;     /* Home Assistant discovery prefix; NULL: no
	                        discovery (no homeassistant group) */
	bool requests;       /* answer records requests (docs/MQTT.md,
	                        Records on request) */
	int replay_per_s;    /* replayed messages a second, at most; 0: no
	                        replays (docs/MQTT.md, Replay) */
	int line;
};

/* A reference standard of the lab that metrologd does not poll (a
 * standard resistor, a reference thermometer read by hand): it has
 * calibrations and a due date, and is named by calibration records. */
struct cfg_standard {
	char *id; /* unique among instruments and standards */
	char *model, *serial, *owner, *location; /* "" when not given */
	int cal_interval_days;                   /* 0: none configured */
	int due_soon_days;
	int line;
};

/* The optional lab group: the laboratory's identity, printed on every
 * certificate (ISO/IEC 17025 7.8.2.1 b). Strings "" when not given. */
struct cfg_lab {
	char *name, *address;
	char *accreditation; /* body and number, e.g. "VILAS 1234" */
	char *location;      /* where the work is usually done ("": the
	                        address) */
	char *logo;          /* a PNG file for the certificate's header */
	char *timezone; /* IANA zone of the lab's time ("": the system's) */
	int line;
};

/* A customer of the lab, named by instruments' owner (its id). */
struct cfg_customer {
	char *id; /* unique among customers */
	char *name, *address, *contact;
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
	int nchannels;                  /* over all instruments */
	struct cfg_standard *standards; /* the standards list, may be empty */
	int nstandards;
	struct cfg_lab *lab;            /* NULL: no lab group */
	struct cfg_customer *customers; /* the customers list, may be empty */
	int ncustomers;
	/* storage */
	int batch_max;  /* samples per transaction, at most */
	int batch_ms;   /* a sample waits at most this long for COMMIT */
	int queue_size; /* samples the poller->ingest queue holds */
	enum queue_full_policy queue_full;
	int retention_days; /* readings older than this are deleted; 0: keep */
	struct cfg_mqtt *mqtt; /* NULL: no mqtt group, nothing is published */
};

#endif
