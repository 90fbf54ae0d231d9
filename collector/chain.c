/*
 * chain.c - a lab's audit chain checked from the archive's rows (chain.h).
 * The rules are those of `metrolog verify` (gateway/db/query_cal.c) but
 * for one: the archive may lack records that the lab holds (messages
 * lost on the way), so a missing id is a gap to report, not a break.
 */
#include "chain.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

void chain_begin(struct chain_check *c)
{
	memset(c, 0, sizeof(*c));
}

__attribute__((format(printf, 3, 4))) static void
broken(struct chain_part *p, int64_t id, const char *fmt, ...)
{
	va_list ap;

	if (p->broken_at != 0)
		return; /* the first one is the one named */
	p->broken_at = id;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
}

/* Item id follows: a gap before it is recorded; returns whether it
 * follows the last one directly (so its link can be checked). */
static bool follow(struct chain_part *p, int64_t id)
{
	bool next = id == p->last + 1;

	if (id > p->last + 1) {
		if (p->ngaps < CHAIN_GAPS) {
			p->gap_from[p->ngaps] = p->last + 1;
			p->gap_to[p->ngaps] = id - 1;
		}
		p->ngaps++;
		p->missing += id - 1 - p->last;
	}
	p->held++;
	p->last = id;
	return next;
}

int chain_record(struct chain_check *c, const struct calib_record *r)
{
	struct chain_part *p = &c->records;
	char h[CALIB_HASH];
	const char *prev = p->last == 0 ? CALIB_GENESIS : p->head;
	int64_t before = p->last;

	if (calib_hash(r, h) < 0)
		return -1;
	bool linked = follow(p, r->id);
	if (strcmp(h, r->hash) != 0)
		broken(p, r->id,
		       "record %" PRId64 " (certificate %s) was altered: its "
		       "content hashes to %.12s..., the archive holds %.12s...",
		       r->id, r->certificate, h, r->hash);
	if (linked && strcmp(r->prev_hash, prev) != 0)
		broken(p, r->id,
		       "record %" PRId64 " (certificate %s) does not link to "
		       "record %" PRId64 ": it names %.12s..., record %" PRId64
		       " hashes to %.12s... (record %" PRId64
		       " was altered and its hash recomputed, or replaced)",
		       r->id, r->certificate, before, r->prev_hash, before,
		       prev, before);
	memcpy(p->head, r->hash, sizeof(p->head));
	return 0;
}

int chain_approval(struct chain_check *c, const struct calib_approval *a,
                   const char *held_hash)
{
	struct chain_part *p = &c->approvals;
	char h[CALIB_HASH];
	const char *prev = p->last == 0 ? CALIB_GENESIS : p->head;
	int64_t before = p->last;

	if (calib_approval_hash(a, h) < 0)
		return -1;
	bool linked = follow(p, a->id);
	if (strcmp(h, a->hash) != 0)
		broken(p, a->id,
		       "approval %" PRId64 " (record %" PRId64 ") was altered: "
		       "its content hashes to %.12s..., the archive holds "
		       "%.12s...",
		       a->id, a->calibration_id, h, a->hash);
	if (linked && strcmp(a->prev_hash, prev) != 0)
		broken(p, a->id,
		       "approval %" PRId64 " does not link to approval %" PRId64
		       " (approval %" PRId64 " was altered and its hash "
		       "recomputed, or replaced)",
		       a->id, before, before);
	if (held_hash[0] != '\0' && strcmp(held_hash, a->record_hash) != 0)
		broken(p, a->id,
		       "approval %" PRId64 " approved record %" PRId64
		       " as %.12s..., the archive holds it as %.12s...",
		       a->id, a->calibration_id, a->record_hash, held_hash);
	memcpy(p->head, a->hash, sizeof(p->head));
	return 0;
}

/* One chain's lines; returns its exit status (chain_report()). */
static int part_report(const struct chain_part *p, const char *site,
                       const char *what, const char *item, FILE *out)
{
	if (p->broken_at != 0)
		fprintf(out, "%s: %s: BROKEN at %s %" PRId64 ": %s\n", site,
		        what, item, p->broken_at, p->why);
	else if (p->held == 0)
		fprintf(out, "%s: %s: none held\n", site, what);
	else
		fprintf(out,
		        "%s: %s: %" PRId64 " held, chain intact up to %s "
		        "%" PRId64 ", head %.12s...\n",
		        site, what, p->held, item, p->last, p->head);
	for (int64_t i = 0; i < p->ngaps && i < CHAIN_GAPS; i++) {
		if (p->gap_from[i] == p->gap_to[i])
			fprintf(out,
			        "%s: %s: gap: %s %" PRId64 " missing (not "
			        "received: not tampering)\n",
			        site, what, item, p->gap_from[i]);
		else
			fprintf(out,
			        "%s: %s: gap: %ss %" PRId64 " to %" PRId64
			        " missing (not received: not tampering)\n",
			        site, what, item, p->gap_from[i], p->gap_to[i]);
	}
	if (p->ngaps > CHAIN_GAPS)
		fprintf(out,
		        "%s: %s: %" PRId64 " gaps, %" PRId64
		        " %ss missing in all\n",
		        site, what, p->ngaps, p->missing, item);
	return p->broken_at != 0 ? 4 : p->ngaps > 0 ? 3 : 0;
}

int chain_report(const struct chain_check *c, const char *site, FILE *out)
{
	int r = part_report(&c->records, site, "records", "record", out);
	int a = part_report(&c->approvals, site, "approvals", "approval", out);

	return r > a ? r : a;
}
