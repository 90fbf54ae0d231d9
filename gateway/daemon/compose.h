/*
 * compose.h - what one transaction writes besides the readings: from a
 * batch of samples, the events rows with their sentences for people, and
 * (with an mqtt group) the outbox messages; from the calibration records,
 * the due-state changes of every instrument and standard, as events and
 * messages. Everything goes to the store in ONE store_write(), so a
 * message is in the outbox exactly when what it reports is committed
 * (commit before publish: the publisher only drains the outbox).
 *
 * The store writes what it is handed and builds nothing; the payloads are
 * core/msg.c's, built here except the readings messages' (their rows carry
 * their channels instead; the publisher builds the payload when it sends
 * one, from composer_readings()' copy or from the database); the composer keeps
 * what messages depend on across batches: each instrument's online state, each
 * channel's tolerance state (for the retained statuses) and each entity's
 * calibration in force. A state it changes while composing is undone when the
 * write fails, so a retried batch composes the same messages again.
 *
 * Threading: a struct composer belongs to the ingest thread, like the
 * store it writes through.
 */
#ifndef METROLOG_COMPOSE_H
#define METROLOG_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "sample.h"
#include "store.h"

struct composer;

/* A composer for c (c->mqtt NULL: events rows only); c must outlive it or
 * its next composer_reload(). NULL when memory runs out. */
struct composer *composer_new(const struct config *c);
void composer_free(struct composer *cp); /* NULL allowed */

/* Switch to next: an instrument (by id) and a channel (by instrument id
 * and name) that stay keep their states; the calibration states are read
 * afresh at the next composer_calibration(), which publishes every
 * status. Returns 0, or -1 (cp unchanged) when memory runs out. */
int composer_reload(struct composer *cp, const struct config *next);

/*
 * Compose and write n samples in one store_write(): the readings, each
 * online/offline event, each SAMPLE_STATE (monitor.c) as an events row of
 * kind "tolerance", "drift" or "trend" with its sentence, and with mqtt
 * their messages in time order (one readings message per instrument and
 * timestamp carrying all its channels, an event message per event, the
 * instrument's retained status after each change of its state), each
 * with the next seq. Returns 0, or -1 with nothing written and no state
 * changed (composer_error() says why).
 */
int composer_write(struct composer *cp, struct store *st,
                   const struct sample *s, size_t n);

/*
 * The calibration due states (calib.h) of every instrument and standard at
 * now_us. The first call after composer_new() or composer_reload() learns
 * them and, with mqtt, publishes every entity's retained status with its
 * calibration; later calls write an events row (kind "calibration") and
 * its messages for each entity whose state or certificate in force
 * changed. Cheap when nothing changed: the records are read again only
 * when one was appended (by the metrolog tool, in another process) or a
 * minute has passed, so metrologd calls it about every second. Returns
 * the number of changes, or -1.
 */
int composer_calibration(struct composer *cp, struct store *st, int64_t now_us);

/*
 * With mqtt, the calibration records and approvals appended since the
 * last call (by the metrolog tool, in another process), published in full
 * (docs/MQTT.md, calibrations): at most 16 a call, records in id order,
 * each approval after its record, written in one store_write() with the
 * published marks (docs/SCHEMA.md, published), so each is put into the
 * outbox exactly once across restarts. Cheap when nothing is new (two
 * lookups). Reads the records through a read-only query connection of its
 * own on the configured database. Returns how many were put, or -1 with
 * nothing written (composer_error() says why).
 */
int composer_records(struct composer *cp, struct store *st);

/* A readings message of the last composer_write(): its outbox row has no
 * payload (docs/SCHEMA.md, outbox), and the publisher builds it with
 * msg_readings() from this copy, handed over after COMMIT
 * (publisher_committed()), or from the database when the copy is gone.
 * Its readings are readings[first .. first + n), in the payload's order. */
struct composed_msg {
	int64_t seq, ts_us;
	uint32_t inst; /* instrument index of c */
	uint32_t first, n;
};

struct composed_reading {
	double value;    /* when quality is good */
	uint32_t index;  /* global channel index of c */
	uint8_t quality; /* enum quality */
};

struct composed_readings {
	const struct config *c; /* whose indexes they are */
	const struct composed_msg *msgs;
	size_t nmsgs;
	const struct composed_reading *readings;
	size_t nreadings;
};

/* The readings messages of the last successful composer_write() (none
 * after another call), valid until the next call on cp. */
void composer_readings(const struct composer *cp, struct composed_readings *r);

/* The next write also deletes the outbox rows with seq <= upto (the
 * publisher's acknowledged prefix; store_batch.outbox_delete), in its
 * transaction; that write alone, failed or not (ask again). */
void composer_outbox_delete(struct composer *cp, int64_t upto);

/* Whether the last composer_calibration() found another certificate in
 * force for instrument index inst (a new calibration, which may have
 * adjusted it); false for the call that only learned. */
bool composer_renewed(const struct composer *cp, uint32_t inst);

/* Why the last call failed: the composer's own reason, else the store's. */
const char *composer_error(const struct composer *cp, const struct store *st);

#endif
