/*
 * monitor.h - the live tolerance state of every channel that has a
 * tolerance group: each good reading's error goes through drift.c's state
 * machine (and the EWMA / CUSUM charts when configured), and every change
 * becomes a SAMPLE_STATE sample committed with the reading that caused it.
 *
 * Threading: a struct monitor belongs to the ingest thread (metrologd.c),
 * which creates it at start, rebuilds it on reload and feeds it every
 * sample it takes from the queue, before the batch is committed. O(1) per
 * reading, no allocation after monitor_new() / monitor_rebuild(). A
 * channel with a reference_channel is compared with that channel's reading
 * of the same timestamp (comparison calibration).
 */
#ifndef METROLOG_MONITOR_H
#define METROLOG_MONITOR_H

#include <stddef.h>

#include "config.h"
#include "sample.h"

/* The SAMPLE_STATE samples one evaluation can cause: the state, each
 * chart's signal that opens an episode (drift.h: one per episode, not per
 * signal), and a trend forecast that is news (one per crossing). A
 * reading of a reference channel (a reference_channel of others) also
 * completes the comparisons waiting for it: monitor_room() says how many
 * samples one reading may cause in all. */
#define MONITOR_MAX_PER_READING 4

struct monitor;

/* Monitor the channels of c that have a tolerance; c must outlive the
 * monitor or its next rebuild. NULL when memory runs out. */
struct monitor *monitor_new(const struct config *c);
void monitor_free(struct monitor *m); /* NULL allowed */

/* Switch to next (a reload): a channel that still exists under the same
 * instrument id and name, with an identical tolerance group, keeps its
 * state and charts; the others start afresh at no data. Returns 0, or -1
 * (m unchanged) when memory runs out. */
int monitor_rebuild(struct monitor *m, const struct config *next);

/*
 * Feed one sample (readings only; other kinds are ignored). The value is
 * first taken at the channel's resolution (the tolerance's `resolution`;
 * else 7 significant digits for a float32, the decimals of scale and
 * offset for an integer type) and the error is exact in decimal
 * (drift_error), so a reading on a limit is on it. A reading of
 * good quality gives the error value - reference, or value - the
 * reference channel's value at the same ts (evaluated when both have
 * arrived, in either order; a reading whose reference never comes at its
 * ts counts as missing); a failed one counts as missing (towards no
 * data). Appends the SAMPLE_STATE samples it causes to out (room for
 * monitor_room()) and returns how many.
 */
size_t monitor_sample(struct monitor *m, const struct sample *s,
                      struct sample *out);

/* The most state samples one sample can cause (0: no tolerance at all). */
size_t monitor_room(const struct monitor *m);

/* A new calibration of instrument index inst is in force: it may have
 * been adjusted, so the drift trends of its channels start again (the
 * drift is fitted from the as-left on; the first forecast comes after ten
 * bins). The tolerance states and charts are kept. */
void monitor_restart_trends(struct monitor *m, uint32_t inst);

/* The current state (enum drift_state) of channel index; DRIFT_NO_DATA
 * when it has no tolerance. */
int monitor_state(const struct monitor *m, uint32_t index);

#endif
