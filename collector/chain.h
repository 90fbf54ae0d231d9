/*
 * chain.h - one lab's audit chain checked from what the archive holds
 * (`metrolog-collector verify`, docs/COLLECTOR.md): the records and the
 * approvals, fed in id order, each hash recomputed with the gateway's own
 * code (gateway/core/calib.c: calib_hash, calib_approval_hash) and each
 * link followed. A record whose content does not give its hash, or that
 * does not link to the record before it, is tampering: the chain is
 * broken there. A record id missing between two held ones is a gap: a
 * record the archive never received (its message lost), not tampering;
 * the chain is followed on from the next record held.
 *
 * Pure: no I/O but the report's FILE, no libpq; unit-testable alone.
 */
#ifndef METROLOG_CHAIN_H
#define METROLOG_CHAIN_H

#include <stdint.h>
#include <stdio.h>

#include "calib.h"

#define CHAIN_GAPS 8 /* gaps named in a report; the rest counted */

/* One chain (records, or approvals) followed. */
struct chain_part {
	int64_t held;      /* items fed */
	int64_t last;      /* the last id fed, 0 none */
	int64_t broken_at; /* the first item tampered with, 0 none */
	char why[512];     /* what is wrong with broken_at */
	int64_t ngaps;     /* gaps seen (ids missing between held ones) */
	int64_t missing;   /* ids missing in all */
	int64_t gap_from[CHAIN_GAPS], gap_to[CHAIN_GAPS];
	char head[CALIB_HASH]; /* the hash of the last item fed */
};

struct chain_check {
	struct chain_part records, approvals;
};

/* Start a site's check. */
void chain_begin(struct chain_check *c);

/* Feed record r (ids increasing). Returns 0, -1 when memory runs out. */
int chain_record(struct chain_check *c, const struct calib_record *r);

/* Feed approval a (ids increasing, after every record); held_hash: the
 * hash of the record it approves as the archive holds it, "" when that
 * record is not held (a gap, not tampering). Returns 0, -1 as above. */
int chain_approval(struct chain_check *c, const struct calib_approval *a,
                   const char *held_hash);

/* The site's lines into out:
 *   lab-1: records: 12 held, chain intact up to record 12, head 0c2f...
 *   lab-1: records: BROKEN at record 3: record 3 (certificate C-3) was
 *          altered: its content hashes to 9b1e..., the archive holds 3f2a...
 *   lab-1: records: gap: record 4 missing (not received: not tampering)
 * and the same for approvals. Returns 4 when a chain is broken, 3 when
 * there is a gap and nothing broken, 0 when both are intact. */
int chain_report(const struct chain_check *c, const char *site, FILE *out);

#endif
