/*
 * plan.c - see plan.h. Turns the needs of one instrument (one per channel)
 * into the fewest block reads a poller has to send.
 *
 * The needs are not moved: we sort an array of keys (table, address, index
 * of the need) and walk it once, so slot i still belongs to need i. The walk
 * is greedy: a need joins the current read when it is of the same table,
 * starts at most max_gap registers (or bits) after the read's end, and the
 * read then still spans at most the protocol limit; otherwise it opens a
 * new read. A need that lies inside the current read (duplicate, overlap)
 * only gets an offset. A need is never split across two reads. Sorting
 * makes the whole O(n log n); it runs once per configuration, never on the
 * polling path.
 */
#include "plan.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct key {
	enum bus_table table;
	uint16_t address;
	int need; /* index into the caller's needs */
};

/* Total order: table, address, then the caller's order (deterministic). */
static int key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;

	if (x->table != y->table)
		return x->table < y->table ? -1 : 1;
	if (x->address != y->address)
		return x->address < y->address ? -1 : 1;
	return (x->need > y->need) - (x->need < y->need);
}

/* Most registers or bits one request may read from table t; 0: no such
 * table. */
static long table_limit(enum bus_table t)
{
	switch (t) {
	case BUS_COILS:
	case BUS_DISCRETE_INPUTS:
		return PLAN_MAX_BITS;
	case BUS_INPUT_REGISTERS:
	case BUS_HOLDING_REGISTERS:
		return PLAN_MAX_REGISTERS;
	}
	return 0;
}

static int need_valid(const struct plan_need *nd)
{
	long limit = table_limit(nd->table);

	return limit > 0 && nd->count >= 1 && nd->count <= limit &&
	       (long)nd->address + nd->count <= 65536L;
}

/*
 * Also returns -1 for n < 0 or max_gap < 0. On failure *p is left empty
 * (all zero), so plan_free(p) is harmless either way.
 */
int plan_build(const struct plan_need *needs, int n, int max_gap,
               struct plan *p)
{
	struct key *keys = NULL;
	struct plan_read *cur = NULL;
	long limit = 0;

	memset(p, 0, sizeof(*p));
	if (n < 0 || max_gap < 0 || (n > 0 && needs == NULL))
		return -1;
	if (n == 0)
		return 0;
	for (int i = 0; i < n; i++)
		if (!need_valid(&needs[i]))
			return -1;

	keys = malloc((size_t)n * sizeof(*keys));
	p->reads = malloc((size_t)n * sizeof(*p->reads)); /* at most n */
	p->slots = malloc((size_t)n * sizeof(*p->slots));
	if (keys == NULL || p->reads == NULL || p->slots == NULL)
		goto fail;
	for (int i = 0; i < n; i++) {
		keys[i].table = needs[i].table;
		keys[i].address = needs[i].address;
		keys[i].need = i;
	}
	qsort(keys, (size_t)n, sizeof(*keys), key_cmp);

	for (int k = 0; k < n; k++) {
		const struct plan_need *nd = &needs[keys[k].need];
		long start = nd->address, end = start + nd->count;

		if (cur != NULL && cur->table == nd->table) {
			long rend = (long)cur->address + cur->count;
			long nend = end > rend ? end : rend;

			if (start - rend > max_gap ||
			    nend - cur->address > limit)
				cur = NULL;
			else
				cur->count = (uint16_t)(nend - cur->address);
		} else {
			cur = NULL;
		}
		if (cur == NULL) {
			if (p->nreads > UINT16_MAX) /* slot.read is 16 bits */
				goto fail;
			cur = &p->reads[p->nreads++];
			cur->table = nd->table;
			cur->address = nd->address;
			cur->count = nd->count;
			limit = table_limit(nd->table);
		}
		assert(start >= cur->address &&
		       end <= (long)cur->address + cur->count);
		p->slots[keys[k].need].read = (uint16_t)(p->nreads - 1);
		p->slots[keys[k].need].offset =
		        (uint16_t)(start - cur->address);
	}
	p->nslots = n;
	free(keys);
	return 0;

fail:
	free(keys);
	plan_free(p);
	return -1;
}

void plan_free(struct plan *p)
{
	if (p == NULL)
		return;
	free(p->reads);
	free(p->slots);
	memset(p, 0, sizeof(*p));
}
