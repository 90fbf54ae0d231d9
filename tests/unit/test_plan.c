/*
 * Unit tests of plan: every edge of the merging rule (gap, the 125-register
 * and 2000-bit limits, the top of the address space, tables, order,
 * duplicates) with each read and each slot checked against values computed
 * by hand, then a randomised check of the invariants on large inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "plan.h"

#define HR BUS_HOLDING_REGISTERS
#define IR BUS_INPUT_REGISTERS
#define CO BUS_COILS
#define DI BUS_DISCRETE_INPUTS

static void expect_read(const struct plan *p, int i, enum bus_table t,
                        uint16_t addr, uint16_t count)
{
	assert_in_range(i, 0, p->nreads - 1);
	assert_int_equal(p->reads[i].table, t);
	assert_int_equal(p->reads[i].address, addr);
	assert_int_equal(p->reads[i].count, count);
}

static void expect_slot(const struct plan *p, int i, uint16_t read,
                        uint16_t offset)
{
	assert_in_range(i, 0, p->nslots - 1);
	assert_int_equal(p->slots[i].read, read);
	assert_int_equal(p->slots[i].offset, offset);
}

static void empty_input(void **state)
{
	(void)state;
	struct plan p;

	assert_int_equal(plan_build(NULL, 0, 0, &p), 0);
	assert_int_equal(p.nreads, 0);
	assert_int_equal(p.nslots, 0);
	plan_free(&p);
	plan_free(&p);
	plan_free(NULL);
}

static void free_zeroed_plan(void **state)
{
	(void)state;
	struct plan p;

	memset(&p, 0, sizeof(p));
	plan_free(&p);
	assert_null(p.reads);
	assert_null(p.slots);
}

static void one_need(void **state)
{
	(void)state;
	const struct plan_need n[] = {{HR, 100, 2}};
	struct plan p;

	assert_int_equal(plan_build(n, 1, 10, &p), 0);
	assert_int_equal(p.nreads, 1);
	assert_int_equal(p.nslots, 1);
	expect_read(&p, 0, HR, 100, 2);
	expect_slot(&p, 0, 0, 0);
	plan_free(&p);
}

static void adjacent_merge_with_gap_zero(void **state)
{
	(void)state;
	const struct plan_need adj[] = {{HR, 0, 2}, {HR, 2, 2}, {HR, 4, 1}};
	const struct plan_need apart[] = {{HR, 0, 2}, {HR, 3, 2}};
	struct plan p;

	assert_int_equal(plan_build(adj, 3, 0, &p), 0);
	assert_int_equal(p.nreads, 1);
	expect_read(&p, 0, HR, 0, 5);
	expect_slot(&p, 0, 0, 0);
	expect_slot(&p, 1, 0, 2);
	expect_slot(&p, 2, 0, 4);
	plan_free(&p);

	assert_int_equal(plan_build(apart, 2, 0, &p), 0);
	assert_int_equal(p.nreads, 2);
	expect_read(&p, 0, HR, 0, 2);
	expect_read(&p, 1, HR, 3, 2);
	expect_slot(&p, 0, 0, 0);
	expect_slot(&p, 1, 1, 0);
	plan_free(&p);
}

/* The gap is counted from the read's end (address + count). */
static void gap_of_max_gap_merges_one_more_does_not(void **state)
{
	(void)state;
	const struct plan_need at[] = {{IR, 10, 2}, {IR, 15, 2}};   /* gap 3 */
	const struct plan_need over[] = {{IR, 10, 2}, {IR, 16, 2}}; /* gap 4 */
	struct plan p;

	assert_int_equal(plan_build(at, 2, 3, &p), 0);
	assert_int_equal(p.nreads, 1);
	expect_read(&p, 0, IR, 10, 7);
	expect_slot(&p, 0, 0, 0);
	expect_slot(&p, 1, 0, 5);
	plan_free(&p);

	assert_int_equal(plan_build(over, 2, 3, &p), 0);
	assert_int_equal(p.nreads, 2);
	expect_read(&p, 0, IR, 10, 2);
	expect_read(&p, 1, IR, 16, 2);
	expect_slot(&p, 0, 0, 0);
	expect_slot(&p, 1, 1, 0);
	plan_free(&p);
}

/* 62 float32 at 0, 2, ..., 122 and one int16 at 124: 125 registers. */
static void register_limit_exactly(void **state)
{
	(void)state;
	struct plan_need n[64];
	struct plan p;

	for (int i = 0; i < 62; i++)
		n[i] = (struct plan_need){HR, (uint16_t)(2 * i), 2};
	n[62] = (struct plan_need){HR, 124, 1};
	assert_int_equal(plan_build(n, 63, 0, &p), 0);
	assert_int_equal(p.nreads, 1);
	expect_read(&p, 0, HR, 0, 125);
	for (int i = 0; i < 62; i++)
		expect_slot(&p, i, 0, (uint16_t)(2 * i));
	expect_slot(&p, 62, 0, 124);
	plan_free(&p);

	/* one register more splits */
	n[63] = (struct plan_need){HR, 125, 1};
	assert_int_equal(plan_build(n, 64, 0, &p), 0);
	assert_int_equal(p.nreads, 2);
	expect_read(&p, 0, HR, 0, 125);
	expect_read(&p, 1, HR, 125, 1);
	expect_slot(&p, 62, 0, 124);
	expect_slot(&p, 63, 1, 0);
	plan_free(&p);

	/* with a gap: 0 and 123..124 fit (span 125); 0 and 124..125 do not */
	const struct plan_need g1[] = {{IR, 0, 1}, {IR, 123, 2}};
	const struct plan_need g2[] = {{IR, 0, 1}, {IR, 124, 2}};
	assert_int_equal(plan_build(g1, 2, 200, &p), 0);
	assert_int_equal(p.nreads, 1);
	expect_read(&p, 0, IR, 0, 125);
	expect_slot(&p, 1, 0, 123);
	plan_free(&p);
	assert_int_equal(plan_build(g2, 2, 200, &p), 0);
	assert_int_equal(p.nreads, 2);
	expect_read(&p, 0, IR, 0, 1);
	expect_read(&p, 1, IR, 124, 2);
	expect_slot(&p, 1, 1, 0);
	plan_free(&p);
}

static void bit_limit_exactly(void **state)
{
	(void)state;
	static struct plan_need n[2001];
	struct plan p;

	for (int i = 0; i < 2001; i++)
		n[i] = (struct plan_need){CO, (uint16_t)(1000 + i), 1};
	assert_int_equal(plan_build(n, 2000, 0, &p), 0);
	assert_int_equal(p.nreads, 1);
	expect_read(&p, 0, CO, 1000, 2000);
	expect_slot(&p, 1999, 0, 1999);
	plan_free(&p);

	assert_int_equal(plan_build(n, 2001, 0, &p), 0);
	assert_int_equal(p.nreads, 2);
	expect_read(&p, 0, CO, 1000, 2000);
	expect_read(&p, 1, CO, 3000, 1);
	expect_slot(&p, 1999, 0, 1999);
	expect_slot(&p, 2000, 1, 0);
	plan_free(&p);

	/* discrete inputs, across a wide gap */
	const struct plan_need fit[] = {{DI, 0, 1}, {DI, 1999, 1}};
	const struct plan_need nofit[] = {{DI, 0, 1}, {DI, 2000, 1}};
	assert_int_equal(plan_build(fit, 2, 5000, &p), 0);
	assert_int_equal(p.nreads, 1);
	expect_read(&p, 0, DI, 0, 2000);
	expect_slot(&p, 1, 0, 1999);
	plan_free(&p);
	assert_int_equal(plan_build(nofit, 2, 5000, &p), 0);
	assert_int_equal(p.nreads, 2);
	expect_read(&p, 1, DI, 2000, 1);
	expect_slot(&p, 1, 1, 0);
	plan_free(&p);
	assert_int_equal(plan_build(fit, 2, 10, &p), 0);
	assert_int_equal(p.nreads, 2);
	plan_free(&p);

	/* registers are not bits: 200 registers never fit in one read */
	const struct plan_need hr[] = {{HR, 0, 1}, {HR, 199, 1}};
	assert_int_equal(plan_build(hr, 2, 5000, &p), 0);
	assert_int_equal(p.nreads, 2);
	plan_free(&p);
}

/* Reads come out sorted by table (enum order), then address. */
static void mixed_tables_never_merge(void **state)
{
	(void)state;
	const struct plan_need n[] = {
	        {HR, 0, 1}, {IR, 0, 1}, {IR, 1, 1},
	        {CO, 0, 1}, {DI, 0, 1}, {HR, 1, 1},
	};
	struct plan p;

	assert_int_equal(plan_build(n, 6, 100, &p), 0);
	assert_int_equal(p.nreads, 4);
	expect_read(&p, 0, CO, 0, 1);
	expect_read(&p, 1, DI, 0, 1);
	expect_read(&p, 2, IR, 0, 2);
	expect_read(&p, 3, HR, 0, 2);
	expect_slot(&p, 0, 3, 0);
	expect_slot(&p, 1, 2, 0);
	expect_slot(&p, 2, 2, 1);
	expect_slot(&p, 3, 0, 0);
	expect_slot(&p, 4, 1, 0);
	expect_slot(&p, 5, 3, 1);
	plan_free(&p);
}

static void needs_out_of_order(void **state)
{
	(void)state;
	const struct plan_need n[] = {
	        {HR, 40, 2},
	        {HR, 10, 2},
	        {HR, 12, 1},
	        {HR, 30, 4},
	};
	struct plan p;

	assert_int_equal(plan_build(n, 4, 0, &p), 0);
	assert_int_equal(p.nreads, 3);
	expect_read(&p, 0, HR, 10, 3);
	expect_read(&p, 1, HR, 30, 4);
	expect_read(&p, 2, HR, 40, 2);
	expect_slot(&p, 0, 2, 0);
	expect_slot(&p, 1, 0, 0);
	expect_slot(&p, 2, 0, 2);
	expect_slot(&p, 3, 1, 0);
	plan_free(&p);

	/* 34 -> 40 is a gap of 6 */
	assert_int_equal(plan_build(n, 4, 6, &p), 0);
	assert_int_equal(p.nreads, 2);
	expect_read(&p, 0, HR, 10, 3);
	expect_read(&p, 1, HR, 30, 12);
	expect_slot(&p, 0, 1, 10);
	expect_slot(&p, 1, 0, 0);
	expect_slot(&p, 2, 0, 2);
	expect_slot(&p, 3, 1, 0);
	plan_free(&p);
}

static void duplicates_and_overlaps_share_words(void **state)
{
	(void)state;
	const struct plan_need n[] = {
	        {HR, 10, 2}, {HR, 10, 2}, {HR, 11, 2}, {HR, 10, 4}, {HR, 12, 1},
	};
	struct plan p;

	assert_int_equal(plan_build(n, 5, 0, &p), 0);
	assert_int_equal(p.nreads, 1);
	expect_read(&p, 0, HR, 10, 4);
	expect_slot(&p, 0, 0, 0);
	expect_slot(&p, 1, 0, 0);
	expect_slot(&p, 2, 0, 1);
	expect_slot(&p, 3, 0, 0);
	expect_slot(&p, 4, 0, 2);
	plan_free(&p);

	/* a full read still takes needs that lie inside it */
	struct plan_need full[4] = {
	        {IR, 0, 125}, {IR, 124, 1}, {IR, 0, 125}, {IR, 60, 4}};
	assert_int_equal(plan_build(full, 4, 0, &p), 0);
	assert_int_equal(p.nreads, 1);
	expect_read(&p, 0, IR, 0, 125);
	expect_slot(&p, 0, 0, 0);
	expect_slot(&p, 1, 0, 124);
	expect_slot(&p, 2, 0, 0);
	expect_slot(&p, 3, 0, 60);
	plan_free(&p);

	/* an overlap that would pass the limit opens a new read */
	full[1] = (struct plan_need){IR, 123, 4};
	assert_int_equal(plan_build(full, 2, 0, &p), 0);
	assert_int_equal(p.nreads, 2);
	expect_read(&p, 0, IR, 0, 125);
	expect_read(&p, 1, IR, 123, 4);
	expect_slot(&p, 1, 1, 0);
	plan_free(&p);
}

static void top_of_address_space(void **state)
{
	(void)state;
	const struct plan_need ok[] = {{HR, 65534, 2}, {HR, 65530, 1}};
	const struct plan_need last[] = {{CO, 65535, 1}, {HR, 65535, 1}};
	const struct plan_need bad[] = {{HR, 10, 1}, {HR, 65535, 2}};
	struct plan p;

	assert_int_equal(plan_build(ok, 2, 3, &p), 0);
	assert_int_equal(p.nreads, 1);
	expect_read(&p, 0, HR, 65530, 6);
	expect_slot(&p, 0, 0, 4);
	expect_slot(&p, 1, 0, 0);
	plan_free(&p);

	assert_int_equal(plan_build(last, 2, 0, &p), 0);
	assert_int_equal(p.nreads, 2);
	expect_read(&p, 0, CO, 65535, 1);
	expect_read(&p, 1, HR, 65535, 1);
	plan_free(&p);

	assert_int_equal(plan_build(bad, 2, 0, &p), -1);
	assert_int_equal(p.nreads, 0);
	assert_null(p.reads);
	assert_null(p.slots);
	plan_free(&p);
}

/* Four-register channels are never split: 61 float32 fill 0..121, an int64
 * at 122 would end at 126 and so opens the next read. */
static void int64_across_the_limit(void **state)
{
	(void)state;
	struct plan_need n[63];
	struct plan p;

	for (int i = 0; i < 61; i++)
		n[i] = (struct plan_need){HR, (uint16_t)(2 * i), 2};
	n[61] = (struct plan_need){HR, 122, 4};
	n[62] = (struct plan_need){HR, 126, 1};
	assert_int_equal(plan_build(n, 63, 0, &p), 0);
	assert_int_equal(p.nreads, 2);
	expect_read(&p, 0, HR, 0, 122);
	expect_read(&p, 1, HR, 122, 5);
	for (int i = 0; i < 61; i++)
		expect_slot(&p, i, 0, (uint16_t)(2 * i));
	expect_slot(&p, 61, 1, 0);
	expect_slot(&p, 62, 1, 4);
	plan_free(&p);

	/* 60 float32, an int16 at 120, an int64 at 121: ends at 125, fits */
	n[60] = (struct plan_need){HR, 120, 1};
	n[61] = (struct plan_need){HR, 121, 4};
	assert_int_equal(plan_build(n, 62, 0, &p), 0);
	assert_int_equal(p.nreads, 1);
	expect_read(&p, 0, HR, 0, 125);
	expect_slot(&p, 60, 0, 120);
	expect_slot(&p, 61, 0, 121);
	plan_free(&p);
}

static void bad_needs_are_refused(void **state)
{
	(void)state;
	const struct plan_need bad[][2] = {
	        {{HR, 0, 1}, {HR, 5, 0}},                /* count 0 */
	        {{HR, 0, 1}, {HR, 5, 126}},              /* > 125 registers */
	        {{IR, 0, 1}, {IR, 0, 126}},              /* > 125 registers */
	        {{CO, 0, 1}, {CO, 0, 2001}},             /* > 2000 bits */
	        {{DI, 0, 1}, {DI, 65535, 2}},            /* past 65535 */
	        {{HR, 0, 1}, {(enum bus_table)9, 0, 1}}, /* no such table */
	};
	const struct plan_need good[] = {{HR, 0, 125}, {CO, 0, 2000}};
	struct plan p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (plan_build(bad[i], 2, 0, &p) != -1)
			fail_msg("bad need set %zu was accepted", i);
		assert_null(p.reads);
		plan_free(&p);
	}
	assert_int_equal(plan_build(good, 2, 0, &p), 0);
	assert_int_equal(p.nreads, 2);
	plan_free(&p);
	assert_int_equal(plan_build(good, -1, 0, &p), -1);
	assert_int_equal(plan_build(good, 2, -1, &p), -1);
}

/* xorshift32: deterministic, so a failure reproduces. */
static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static long limit_of(enum bus_table t)
{
	return t == CO || t == DI ? PLAN_MAX_BITS : PLAN_MAX_REGISTERS;
}

/*
 * Invariants of any plan: every need lies in its read at its offset; reads
 * respect the limit, are sorted and start and end on needs; and greedy is
 * greedy: the next read of a table could not have been merged into the
 * previous one (too far, or too long with its first need).
 */
static void check_invariants(const struct plan_need *n, int cnt, int gap,
                             const struct plan *p)
{
	static long first_end[4][65536];
	static char covered_start[200000], covered_end[200000];

	assert_int_equal(p->nslots, cnt);
	assert_true(p->nreads <= 200000);
	memset(covered_start, 0, (size_t)p->nreads);
	memset(covered_end, 0, (size_t)p->nreads);
	for (int i = 0; i < p->nreads; i++) {
		const struct plan_read *r = &p->reads[i];

		first_end[r->table][r->address] = 0;
		assert_true(r->count >= 1 && r->count <= limit_of(r->table));
		assert_true((long)r->address + r->count <= 65536);
		if (i > 0) {
			const struct plan_read *q = &p->reads[i - 1];
			assert_true(q->table < r->table ||
			            (q->table == r->table &&
			             q->address < r->address));
		}
	}
	for (int i = 0; i < cnt; i++) {
		const struct plan_slot *s = &p->slots[i];
		const struct plan_read *r;
		long end;

		assert_in_range(s->read, 0, p->nreads - 1);
		r = &p->reads[s->read];
		end = (long)n[i].address + n[i].count;
		assert_int_equal(r->table, n[i].table);
		assert_true(n[i].address >= r->address);
		assert_int_equal(s->offset, n[i].address - r->address);
		assert_true(end <= (long)r->address + r->count);
		if (s->offset == 0) {
			covered_start[s->read] = 1;
			if (end > first_end[r->table][r->address])
				first_end[r->table][r->address] = end;
		}
		if (end == (long)r->address + r->count)
			covered_end[s->read] = 1;
	}
	for (int i = 0; i < p->nreads; i++) {
		assert_true(covered_start[i] && covered_end[i]);
		if (i == 0 || p->reads[i - 1].table != p->reads[i].table)
			continue;
		const struct plan_read *q = &p->reads[i - 1], *r = &p->reads[i];
		long qend = (long)q->address + q->count;
		long fe = first_end[r->table][r->address];
		long nend = fe > qend ? fe : qend;
		assert_true(r->address - qend > gap ||
		            nend - q->address > limit_of(r->table));
	}
}

static void random_plans_keep_invariants(void **state)
{
	(void)state;
	static struct plan_need n[50000];
	static const uint16_t counts[] = {1, 1, 2, 2, 4, 1, 2, 125};
	uint32_t seed = 0x12345678u;

	for (int round = 0; round < 40; round++) {
		int cnt = 1 + (int)(rnd(&seed) % (round < 30 ? 300 : 50000));
		int gap = (int)(rnd(&seed) % 20);
		uint32_t span = round % 2 ? 2000 : 65536;
		struct plan p;

		for (int i = 0; i < cnt; i++) {
			enum bus_table t = (enum bus_table)(rnd(&seed) % 4);
			uint16_t c = (t == CO || t == DI)
			                     ? 1
			                     : counts[rnd(&seed) % 8];
			uint32_t a = rnd(&seed) % span;

			if (a + c > 65536)
				a = 65536 - c;
			n[i] = (struct plan_need){t, (uint16_t)a, c};
		}
		assert_int_equal(plan_build(n, cnt, gap, &p), 0);
		check_invariants(n, cnt, gap, &p);
		plan_free(&p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(empty_input),
	        cmocka_unit_test(free_zeroed_plan),
	        cmocka_unit_test(one_need),
	        cmocka_unit_test(adjacent_merge_with_gap_zero),
	        cmocka_unit_test(gap_of_max_gap_merges_one_more_does_not),
	        cmocka_unit_test(register_limit_exactly),
	        cmocka_unit_test(bit_limit_exactly),
	        cmocka_unit_test(mixed_tables_never_merge),
	        cmocka_unit_test(needs_out_of_order),
	        cmocka_unit_test(duplicates_and_overlaps_share_words),
	        cmocka_unit_test(top_of_address_space),
	        cmocka_unit_test(int64_across_the_limit),
	        cmocka_unit_test(bad_needs_are_refused),
	        cmocka_unit_test(random_plans_keep_invariants),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
