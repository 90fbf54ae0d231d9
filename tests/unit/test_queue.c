/*
 * Unit tests of queue: order across the wrap of the ring, both full
 * policies and their counters, timeouts, close, memory that follows the
 * most samples held, and a multi-producer stress
 * run in which every sample carries its producer (index) and its sequence
 * number (value, ts_us), so loss, duplication and reordering all show.
 * Timing is only checked loosely (a timed pop did wait a little); nothing
 * here asserts speed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>
#include <pthread.h>
#include <time.h>

#include "queue.h"

static struct sample mk(uint32_t index, int64_t seq)
{
	struct sample s = {0};

	s.ts_us = seq;
	s.index = index;
	s.kind = SAMPLE_READING;
	s.quality = QUALITY_GOOD;
	s.value = (double)seq;
	return s;
}

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&t, NULL);
}

/* A new queue of that capacity and policy; the test fails if there is none. */
static struct queue *new_queue(size_t capacity, enum queue_full_policy policy)
{
	struct queue *q = queue_new(capacity, policy);

	assert_non_null(q);
	return q;
}

static struct queue_stats stats_of(struct queue *q)
{
	struct queue_stats st;

	queue_get_stats(q, &st);
	return st;
}

/* Wait (at most 5 s) until `want` pushes have had to wait. */
static void wait_blocked(struct queue *q, uint64_t want)
{
	for (int i = 0; i < 5000 && stats_of(q).blocked < want; i++)
		sleep_ms(1);
	assert_true(stats_of(q).blocked >= want);
}

/* Push samples with sequence numbers from..from+n-1 (index 0). */
static long push_seq(struct queue *q, int64_t from, size_t n)
{
	struct sample s[64];

	assert_true(n <= 64);
	for (size_t i = 0; i < n; i++)
		s[i] = mk(0, from + (int64_t)i);
	return queue_push(q, s, n);
}

/* Pop exactly n samples (no wait) and check they are from..from+n-1. */
static void pop_expect(struct queue *q, size_t max, int64_t from, size_t n)
{
	struct sample out[64];

	assert_true(max <= 64);
	assert_int_equal(queue_pop(q, out, max, 0), n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(out[i].ts_us, from + (int64_t)i);
		assert_true(out[i].value == (double)(from + (int64_t)i));
	}
}

static void new_and_free_edges(void **state)
{
	(void)state;
	struct queue *q;

	assert_null(queue_new(0, QUEUE_BLOCK));
	assert_null(queue_new(SIZE_MAX / 2, QUEUE_BLOCK));
	queue_free(NULL);
	q = queue_new(1, QUEUE_DROP_OLDEST);
	assert_non_null(q);
	assert_int_equal(stats_of(q).capacity, 1);
	queue_free(q);
}

/* The ring's tail and head both wrap, then many rounds of mixed sizes. */
static void fifo_across_wraparound(void **state)
{
	(void)state;
	struct queue *q = new_queue(5, QUEUE_BLOCK);
	int64_t in = 0, out = 0;

	assert_int_equal(push_seq(q, 0, 3), 0); /* [0,1,2] at 0..2 */
	pop_expect(q, 2, 0, 2);                 /* head at 2 */
	assert_int_equal(push_seq(q, 3, 4), 0); /* 3,4 at 3..4; 5,6 at 0..1 */
	pop_expect(q, 10, 2, 5);                /* 2,3,4 then 5,6 */
	in = out = 7;

	for (int round = 0; round < 1000; round++) {
		size_t room = 5 - (size_t)(in - out);
		size_t k = 1 + (size_t)(round * 7 % 5);
		size_t m = 1 + (size_t)(round * 3 % 5);
		size_t held;

		if (k > room)
			k = room;
		assert_int_equal(push_seq(q, in, k), 0);
		in += (int64_t)k;
		held = (size_t)(in - out);
		if (m > held)
			m = held;
		pop_expect(q, m, out, m);
		out += (int64_t)m;
	}
	pop_expect(q, 5, out, (size_t)(in - out));
	assert_int_equal(stats_of(q).pushed, (uint64_t)in);
	assert_int_equal(stats_of(q).dropped, 0);
	queue_free(q);
}

static void pop_max_smaller_than_available(void **state)
{
	(void)state;
	struct queue *q = new_queue(8, QUEUE_BLOCK);

	assert_int_equal(push_seq(q, 0, 5), 0);
	pop_expect(q, 2, 0, 2);
	pop_expect(q, 2, 2, 2);
	pop_expect(q, 2, 4, 1);
	pop_expect(q, 2, 5, 0);
	/* max 0 takes nothing */
	assert_int_equal(push_seq(q, 5, 1), 0);
	assert_int_equal(queue_pop(q, NULL, 0, 0), 0);
	pop_expect(q, 1, 5, 1);
	queue_free(q);
}

static void push_size_edges(void **state)
{
	(void)state;
	struct queue *q = new_queue(4, QUEUE_DROP_OLDEST);

	assert_int_equal(push_seq(q, 0, 5), -1); /* more than capacity */
	assert_int_equal(push_seq(q, 0, 0), 0);
	assert_int_equal(stats_of(q).pushed, 0);
	pop_expect(q, 4, 0, 0);
	assert_int_equal(push_seq(q, 0, 4), 0); /* exactly capacity */
	pop_expect(q, 4, 0, 4);
	queue_free(q);
}

static void pop_timeout_returns_zero(void **state)
{
	(void)state;
	struct queue *q = new_queue(4, QUEUE_BLOCK);
	struct sample out[4];
	int64_t t0;

	assert_int_equal(queue_pop(q, out, 4, 0), 0);
	t0 = now_ms();
	assert_int_equal(queue_pop(q, out, 4, 60), 0);
	assert_true(now_ms() - t0 >= 30); /* it waited, roughly */
	/* a sample already there comes back without waiting */
	assert_int_equal(push_seq(q, 9, 1), 0);
	assert_int_equal(queue_pop(q, out, 4, 60000), 1);
	assert_int_equal(out[0].ts_us, 9);
	queue_free(q);
}

static void drop_oldest_keeps_newest(void **state)
{
	(void)state;
	struct queue *q = new_queue(4, QUEUE_DROP_OLDEST);
	struct queue_stats st;

	assert_int_equal(push_seq(q, 0, 3), 0);
	assert_int_equal(push_seq(q, 3, 3), 2); /* 0 and 1 go */
	st = stats_of(q);
	assert_int_equal(st.pushed, 6);
	assert_int_equal(st.dropped, 2);
	assert_int_equal(st.blocked, 0);
	assert_int_equal(st.high_water, 4);
	assert_int_equal(push_seq(q, 6, 4), 4); /* all of 2..5 go */
	pop_expect(q, 10, 6, 4);
	assert_int_equal(stats_of(q).dropped, 6);
	queue_free(q);

	/* many odd-sized pushes, no pops: the last 7 remain */
	q = new_queue(7, QUEUE_DROP_OLDEST);
	int64_t seq = 0;
	uint64_t returned = 0;
	for (int i = 0; i < 1000; i++) {
		size_t k = 1 + (size_t)(i * 5 % 7);
		long d = push_seq(q, seq, k);

		assert_true(d >= 0);
		returned += (uint64_t)d;
		seq += (int64_t)k;
	}
	st = stats_of(q);
	assert_int_equal(st.pushed, (uint64_t)seq);
	assert_int_equal(st.dropped, (uint64_t)seq - 7);
	assert_int_equal(returned, st.dropped);
	assert_int_equal(st.high_water, 7);
	pop_expect(q, 10, seq - 7, 7);
	queue_free(q);
}

static void high_water_is_the_peak(void **state)
{
	(void)state;
	struct queue *q = new_queue(10, QUEUE_BLOCK);
	struct queue_stats st;

	assert_int_equal(stats_of(q).high_water, 0);
	assert_int_equal(push_seq(q, 0, 3), 0);
	pop_expect(q, 2, 0, 2);
	assert_int_equal(push_seq(q, 3, 1), 0); /* holds 2 */
	assert_int_equal(stats_of(q).high_water, 3);
	assert_int_equal(push_seq(q, 4, 6), 0); /* holds 8 */
	pop_expect(q, 10, 2, 8);
	assert_int_equal(push_seq(q, 10, 1), 0);
	st = stats_of(q);
	assert_int_equal(st.high_water, 8);
	assert_int_equal(st.capacity, 10);
	assert_int_equal(st.pushed, 11);
	assert_int_equal(st.blocked, 0);
	queue_free(q);
}

/* This process's resident memory in KiB (VmRSS), -1 if unknown. */
static long rss_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (kib < 0 && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kib) != 1)
			kib = -1;
	fclose(f);
	return kib;
}

/* A consumer that keeps up touches the start of the ring only: one sample
 * at a time through a queue of 6 MB (262 144 samples) leaves its pages
 * unmapped, where a ring that runs on through its array would touch them
 * all. Order is kept as the ring starts again. */
static void memory_follows_high_water(void **state)
{
	(void)state;
	size_t cap = (size_t)1 << 18;
	struct queue *q = new_queue(cap, QUEUE_BLOCK);
	long before = rss_kib();

	if (before < 0)
		skip(); /* no /proc */
	for (int64_t seq = 0; seq < (int64_t)cap; seq++) {
		assert_int_equal(push_seq(q, seq, 1), 0);
		pop_expect(q, 4, seq, 1);
	}
	assert_true(rss_kib() - before < 1024);
	assert_int_equal(push_seq(q, 0, 3), 0);
	pop_expect(q, 2, 0, 2);
	assert_int_equal(push_seq(q, 3, 2), 0);
	pop_expect(q, 8, 2, 3);
	assert_int_equal(stats_of(q).high_water, 3);
	queue_free(q);
}

struct pusher {
	struct queue *q;
	int64_t from;
	size_t n;
	long result;
};

static void *pusher_main(void *arg)
{
	struct pusher *p = arg;

	p->result = push_seq(p->q, p->from, p->n);
	return NULL;
}

/* A blocking queue of cap samples, filled (0..cap-1), and a thread t
 * blocked pushing n more (cap..) through p. */
static struct queue *full_with_blocked_pusher(size_t cap, size_t n,
                                              struct pusher *p, pthread_t *t)
{
	struct queue *q = new_queue(cap, QUEUE_BLOCK);

	assert_int_equal(push_seq(q, 0, cap), 0);
	*p = (struct pusher){q, (int64_t)cap, n, 99};
	assert_int_equal(pthread_create(t, NULL, pusher_main, p), 0);
	wait_blocked(q, 1);
	return q;
}

struct popper {
	struct queue *q;
	int timeout_ms;
	size_t result;
	struct sample out[8];
};

static void *popper_main(void *arg)
{
	struct popper *p = arg;

	p->result = queue_pop(p->q, p->out, 8, p->timeout_ms);
	return NULL;
}

static void block_waits_for_the_consumer(void **state)
{
	(void)state;
	struct pusher p;
	pthread_t t;
	struct queue *q = full_with_blocked_pusher(4, 3, &p, &t);

	assert_int_equal(stats_of(q).pushed, 4);
	pop_expect(q, 2, 0, 2); /* room for 2 of 3: still waiting */
	sleep_ms(20);
	assert_int_equal(stats_of(q).pushed, 4);
	pop_expect(q, 1, 2, 1); /* room for 3 */
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(p.result, 0);
	pop_expect(q, 8, 3, 4); /* 3, then the pushed 4, 5, 6 */

	struct queue_stats st = stats_of(q);
	assert_int_equal(st.pushed, 7);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.blocked, 1);
	assert_int_equal(st.high_water, 4);
	queue_free(q);
}

static void push_wakes_a_waiting_consumer(void **state)
{
	(void)state;
	struct queue *q = new_queue(4, QUEUE_BLOCK);
	struct popper c = {.q = q, .timeout_ms = -1, .result = 99};
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, popper_main, &c), 0);
	sleep_ms(20);
	assert_int_equal(push_seq(q, 0, 3), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(c.result, 3); /* a push arrives whole */
	assert_int_equal(c.out[2].ts_us, 2);
	queue_free(q);
}

/* A consumer in queue_pop_batch() on its own thread. */
struct batcher {
	struct queue *q;
	size_t want;
	int timeout_ms;
	size_t result;
	struct sample out[16];
};

static void *batcher_main(void *arg)
{
	struct batcher *b = arg;

	b->result = queue_pop_batch(b->q, b->out, 16, b->want, b->timeout_ms);
	return NULL;
}

/* Ten pushes of one sample each: the consumer that wants ten is not
 * woken (and does not return) before the tenth, and gets all ten. */
static void pop_batch_waits_for_want(void **state)
{
	(void)state;
	struct queue *q = new_queue(64, QUEUE_BLOCK);
	struct batcher b = {.q = q, .want = 10, .timeout_ms = 60000};
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, batcher_main, &b), 0);
	for (int64_t i = 0; i < 10; i++) {
		sleep_ms(2); /* let the consumer wait between pushes */
		assert_int_equal(push_seq(q, i, 1), 0);
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(b.result, 10);
	for (int64_t i = 0; i < 10; i++)
		assert_int_equal(b.out[i].ts_us, i);
	queue_free(q);
}

/* Fewer than want: the timeout takes what is there; none: 0. want above
 * max or the capacity is clamped (a full queue is enough), 0 is 1. */
static void pop_batch_timeout_and_clamps(void **state)
{
	(void)state;
	struct queue *q = new_queue(4, QUEUE_DROP_OLDEST);
	struct sample out[8];
	int64_t t0;

	assert_int_equal(push_seq(q, 0, 3), 0);
	t0 = now_ms();
	assert_int_equal(queue_pop_batch(q, out, 8, 5, 60), 3);
	assert_true(now_ms() - t0 >= 30); /* it waited, roughly */
	assert_int_equal(out[2].ts_us, 2);
	assert_int_equal(queue_pop_batch(q, out, 8, 5, 0), 0);

	assert_int_equal(push_seq(q, 3, 4), 0); /* full */
	assert_int_equal(queue_pop_batch(q, out, 8, 1000, 60000), 4);
	assert_int_equal(push_seq(q, 7, 2), 0);
	assert_int_equal(queue_pop_batch(q, out, 1, 5, 60000), 1); /* max */
	assert_int_equal(out[0].ts_us, 7);
	assert_int_equal(queue_pop_batch(q, out, 8, 0, 60000), 1);
	assert_int_equal(out[0].ts_us, 8);
	queue_free(q);
}

/* A close wakes a consumer waiting for more: it takes what is there. */
static void close_wakes_a_batch_consumer(void **state)
{
	(void)state;
	struct queue *q = new_queue(64, QUEUE_BLOCK);
	struct batcher b = {.q = q, .want = 5, .timeout_ms = -1};
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, batcher_main, &b), 0);
	assert_int_equal(push_seq(q, 0, 2), 0);
	sleep_ms(20);
	queue_close(q);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(b.result, 2);
	queue_free(q);
}

static void close_wakes_producer_and_consumers(void **state)
{
	(void)state;
	struct pusher p;
	pthread_t t;
	struct queue *q = full_with_blocked_pusher(2, 1, &p, &t);

	queue_close(q);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(p.result, -1);
	assert_int_equal(push_seq(q, 5, 1), -1); /* later pushes fail */
	pop_expect(q, 8, 0, 2);                  /* what is left drains */
	assert_int_equal(queue_pop(q, NULL, 8, -1), 0); /* closed, empty */
	assert_int_equal(stats_of(q).pushed, 2);
	queue_free(q);

	/* consumers waiting forever and with a long timeout both wake */
	struct popper c1 = {.q = NULL, .timeout_ms = -1, .result = 99};
	struct popper c2 = {.q = NULL, .timeout_ms = 60000, .result = 99};
	pthread_t t1, t2;
	q = new_queue(2, QUEUE_DROP_OLDEST);
	c1.q = c2.q = q;
	assert_int_equal(pthread_create(&t1, NULL, popper_main, &c1), 0);
	assert_int_equal(pthread_create(&t2, NULL, popper_main, &c2), 0);
	sleep_ms(20);
	queue_close(q);
	assert_int_equal(pthread_join(t1, NULL), 0);
	assert_int_equal(pthread_join(t2, NULL), 0);
	assert_int_equal(c1.result, 0);
	assert_int_equal(c2.result, 0);
	queue_free(q);
}

#define PRODUCERS    4
#define PER_PRODUCER 100000

struct producer {
	struct queue *q;
	uint32_t id;
	uint64_t dropped; /* sum of what queue_push returned */
	int failed;
};

/* Pushes 0..PER_PRODUCER-1 in chunks of 1 to 8. */
static void *producer_main(void *arg)
{
	struct producer *p = arg;
	struct sample s[8];
	int64_t seq = 0;

	while (seq < PER_PRODUCER) {
		size_t k = 1 + (size_t)((seq + p->id) % 8);
		long r;

		if (k > (size_t)(PER_PRODUCER - seq))
			k = (size_t)(PER_PRODUCER - seq);
		for (size_t i = 0; i < k; i++)
			s[i] = mk(p->id, seq + (int64_t)i);
		r = queue_push(p->q, s, k);
		if (r < 0) {
			p->failed = 1;
			break;
		}
		p->dropped += (uint64_t)r;
		seq += (int64_t)k;
	}
	return NULL;
}

struct consumer {
	struct queue *q;
	uint64_t received;
	int64_t next[PRODUCERS]; /* next sequence number expected */
	int bad;                 /* samples out of order, or from nowhere */
	int exact;               /* require next == seq, not only > */
};

/* Pops until the queue is closed and empty. */
static void *consumer_main(void *arg)
{
	struct consumer *c = arg;
	struct sample out[32];
	size_t n;

	while ((n = queue_pop(c->q, out, 32, -1)) > 0) {
		for (size_t i = 0; i < n; i++) {
			uint32_t id = out[i].index;
			int64_t seq = out[i].ts_us;

			if (id >= PRODUCERS || out[i].value != (double)seq ||
			    (c->exact ? seq != c->next[id]
			              : seq < c->next[id])) {
				c->bad++;
				continue;
			}
			c->next[id] = seq + 1;
		}
		c->received += n;
	}
	return NULL;
}

static void stress(enum queue_full_policy policy, size_t capacity)
{
	struct queue *q = new_queue(capacity, policy);
	struct producer p[PRODUCERS];
	struct consumer c = {.q = q, .exact = policy == QUEUE_BLOCK};
	pthread_t tp[PRODUCERS], tc;
	uint64_t dropped = 0;

	assert_int_equal(pthread_create(&tc, NULL, consumer_main, &c), 0);
	for (uint32_t i = 0; i < PRODUCERS; i++) {
		p[i] = (struct producer){.q = q, .id = i};
		assert_int_equal(
		        pthread_create(&tp[i], NULL, producer_main, &p[i]), 0);
	}
	for (int i = 0; i < PRODUCERS; i++) {
		assert_int_equal(pthread_join(tp[i], NULL), 0);
		assert_int_equal(p[i].failed, 0);
		dropped += p[i].dropped;
	}
	queue_close(q);
	assert_int_equal(pthread_join(tc, NULL), 0);

	struct queue_stats st = stats_of(q);
	assert_int_equal(c.bad, 0);
	assert_int_equal(st.pushed, (uint64_t)PRODUCERS * PER_PRODUCER);
	assert_int_equal(st.dropped, dropped);
	assert_int_equal(c.received + st.dropped, st.pushed);
	assert_true(st.high_water <= capacity);
	if (policy == QUEUE_BLOCK) {
		assert_int_equal(st.dropped, 0);
		for (int i = 0; i < PRODUCERS; i++)
			assert_int_equal(c.next[i], PER_PRODUCER);
	} else {
		assert_int_equal(st.blocked, 0);
	}
	queue_free(q);
}

/* Every sample arrives exactly once, each producer's in order. */
static void stress_block(void **state)
{
	(void)state;
	stress(QUEUE_BLOCK, 64);
}

/* Nothing arrives twice or out of order; received + dropped = pushed. */
static void stress_drop_oldest(void **state)
{
	(void)state;
	stress(QUEUE_DROP_OLDEST, 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(new_and_free_edges),
	        cmocka_unit_test(fifo_across_wraparound),
	        cmocka_unit_test(pop_max_smaller_than_available),
	        cmocka_unit_test(push_size_edges),
	        cmocka_unit_test(pop_timeout_returns_zero),
	        cmocka_unit_test(drop_oldest_keeps_newest),
	        cmocka_unit_test(high_water_is_the_peak),
	        cmocka_unit_test(memory_follows_high_water),
	        cmocka_unit_test(block_waits_for_the_consumer),
	        cmocka_unit_test(push_wakes_a_waiting_consumer),
	        cmocka_unit_test(close_wakes_producer_and_consumers),
	        cmocka_unit_test(pop_batch_waits_for_want),
	        cmocka_unit_test(pop_batch_timeout_and_clamps),
	        cmocka_unit_test(close_wakes_a_batch_consumer),
	        cmocka_unit_test(stress_block),
	        cmocka_unit_test(stress_drop_oldest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
