/*
 * queue.c - see queue.h. The one hand-off between the poller threads and
 * the ingest thread.
 *
 * Threads: every poller (producer) calls queue_push(); the ingest thread
 * (the one consumer) calls queue_pop(); the main thread creates the queue
 * before any of them starts, calls queue_close() to stop them, and frees it
 * after they have all been joined. Everything in struct queue below the
 * mutex (the ring, its head and length, the closed flag and the counters)
 * is read and written only with the mutex held; policy and cap never
 * change after queue_new().
 *
 * The ring is one allocation made by queue_new(): samples live in
 * ring[head], ring[(head + 1) % cap], ... (len of them). A push or a pop
 * copies with at most two memcpy(), one up to the end of the array and one
 * from its start. An empty ring starts again at ring[0]: a consumer that
 * keeps up touches only the first high_water samples of the array, whose
 * pages the kernel maps as they are first written (calloc of a large
 * block), so a queue sized for bursts costs memory only when one comes
 * (65 536 samples are 1.5 MB; a lab's 10 000 readings a second taken every
 * 100 ms touch ~50 KB). Producers wait on not_full (broadcast, since each one
 * needs a different amount of room); the consumer waits on not_empty, and
 * says in `want` how many samples it waits for: a push signals not_empty
 * only when len reaches it, so a batching consumer is not woken by every
 * push (with several consumers waiting, want is the smallest and the
 * signal a broadcast). Timed
 * waits use CLOCK_MONOTONIC so that a step of the wall clock (NTP, an
 * operator) neither stretches nor cuts a timeout.
 */
#include "queue.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct queue {
	enum queue_full_policy policy;
	size_t cap;
	pthread_mutex_t mu;
	pthread_cond_t not_empty; /* the consumer waits here */
	pthread_cond_t not_full;  /* producers wait here (QUEUE_BLOCK) */
	/* under mu: */
	size_t head; /* index of the oldest sample */
	size_t len;  /* samples held, 0..cap */
	bool closed;
	size_t want;    /* the smallest threshold of the waiting consumers */
	unsigned nwait; /* consumers waiting on not_empty */
	uint64_t pushed, dropped, blocked;
	size_t high_water;
	struct sample ring[];
};

struct queue *queue_new(size_t capacity, enum queue_full_policy policy)
{
	struct queue *q;
	pthread_condattr_t ca;
	int ninit = 0; /* how many of mu, not_empty, not_full are initialised */

	if (capacity == 0 ||
	    capacity > (SIZE_MAX - sizeof(*q)) / sizeof(struct sample))
		return NULL;
	if (policy != QUEUE_DROP_OLDEST && policy != QUEUE_BLOCK)
		return NULL;
	q = calloc(1, sizeof(*q) + capacity * sizeof(struct sample));
	if (q == NULL)
		return NULL;
	q->policy = policy;
	q->cap = capacity;

	if (pthread_mutex_init(&q->mu, NULL) != 0)
		goto fail;
	ninit++;
	if (pthread_condattr_init(&ca) != 0)
		goto fail;
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&q->not_empty, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		goto fail;
	}
	ninit++;
	if (pthread_cond_init(&q->not_full, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		goto fail;
	}
	ninit++;
	pthread_condattr_destroy(&ca);
	return q;

fail:
	if (ninit >= 2)
		pthread_cond_destroy(&q->not_empty);
	if (ninit >= 1)
		pthread_mutex_destroy(&q->mu);
	free(q);
	return NULL;
}

/* No thread may be using q any more (join them all first). */
void queue_free(struct queue *q)
{
	if (q == NULL)
		return;
	pthread_cond_destroy(&q->not_full);
	pthread_cond_destroy(&q->not_empty);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

/* Append n samples; the caller holds mu and has made room. */
static void ring_put(struct queue *q, const struct sample *s, size_t n)
{
	size_t tail = (q->head + q->len) % q->cap;
	size_t first = n < q->cap - tail ? n : q->cap - tail;

	assert(q->len + n <= q->cap);
	memcpy(&q->ring[tail], s, first * sizeof(*s));
	if (n > first)
		memcpy(&q->ring[0], s + first, (n - first) * sizeof(*s));
	q->len += n;
}

/* Remove the n oldest samples, into out unless it is NULL; mu held. */
static void ring_take(struct queue *q, struct sample *out, size_t n)
{
	size_t first = n < q->cap - q->head ? n : q->cap - q->head;

	assert(n <= q->len);
	if (out != NULL) {
		memcpy(out, &q->ring[q->head], first * sizeof(*out));
		if (n > first)
			memcpy(out + first, &q->ring[0],
			       (n - first) * sizeof(*out));
	}
	q->head = (q->head + n) % q->cap;
	q->len -= n;
	if (q->len == 0)
		q->head = 0; /* see the opening comment */
}

/*
 * All n samples go in together, or none: n > capacity can never fit and
 * returns -1 at once (a caller bug: size the queue for the largest poll).
 * n == 0 returns 0 (or -1 if closed). With QUEUE_BLOCK, a push that has to
 * wait counts once in stats.blocked however long it waits; if the queue is
 * closed meanwhile it returns -1 and pushes nothing.
 */
long queue_push(struct queue *q, const struct sample *s, size_t n)
{
	long dropped = 0;

	if (n > q->cap)
		return -1;
	assert(s != NULL || n == 0);
	pthread_mutex_lock(&q->mu);
	if (!q->closed && q->cap - q->len < n) {
		if (q->policy == QUEUE_DROP_OLDEST) {
			size_t d = n - (q->cap - q->len);

			ring_take(q, NULL, d);
			q->dropped += d;
			dropped = (long)d;
		} else {
			q->blocked++;
			while (!q->closed && q->cap - q->len < n)
				pthread_cond_wait(&q->not_full, &q->mu);
		}
	}
	if (q->closed) {
		pthread_mutex_unlock(&q->mu);
		return -1;
	}
	ring_put(q, s, n);
	q->pushed += n;
	if (q->len > q->high_water)
		q->high_water = q->len;
	if (q->nwait > 1 && q->len >= q->want)
		pthread_cond_broadcast(&q->not_empty); /* each checks its own */
	else if (q->nwait == 1 && q->len >= q->want)
		pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
	return dropped;
}

/* now + ms on CLOCK_MONOTONIC, the clock of our condition variables. */
static struct timespec deadline_after(int ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* Wait, mu held, until len reaches want, the queue is closed, or (with a
 * timeout_ms > 0) the deadline passes. */
static void wait_for(struct queue *q, size_t want, int timeout_ms)
{
	struct timespec dl = {0, 0};

	if (timeout_ms > 0)
		dl = deadline_after(timeout_ms);
	if (q->nwait++ == 0 || want < q->want)
		q->want = want;
	while (q->len < want && !q->closed) {
		if (timeout_ms < 0)
			pthread_cond_wait(&q->not_empty, &q->mu);
		else if (pthread_cond_timedwait(&q->not_empty, &q->mu, &dl) ==
		         ETIMEDOUT)
			break;
	}
	/* with others still waiting, want may stay below what they need:
	 * an early wake-up they wait again after, never a missed one */
	q->nwait--;
}

size_t queue_pop_batch(struct queue *q, struct sample *out, size_t max,
                       size_t want, int timeout_ms)
{
	size_t n;

	if (max == 0)
		return 0;
	if (want > max)
		want = max;
	if (want > q->cap)
		want = q->cap;
	if (want == 0)
		want = 1;
	pthread_mutex_lock(&q->mu);
	if (q->len < want && !q->closed && timeout_ms != 0)
		wait_for(q, want, timeout_ms);
	n = q->len < max ? q->len : max;
	if (n > 0) {
		ring_take(q, out, n);
		pthread_cond_broadcast(&q->not_full);
	}
	pthread_mutex_unlock(&q->mu);
	return n;
}

/* timeout_ms 0: do not wait; negative: wait until a sample arrives or the
 * queue is closed. max 0 returns 0 at once. */
size_t queue_pop(struct queue *q, struct sample *out, size_t max,
                 int timeout_ms)
{
	return queue_pop_batch(q, out, max, 1, timeout_ms);
}

void queue_close(struct queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	pthread_cond_broadcast(&q->not_empty);
	pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->mu);
}

void queue_get_stats(struct queue *q, struct queue_stats *st)
{
	pthread_mutex_lock(&q->mu);
	st->pushed = q->pushed;
	st->dropped = q->dropped;
	st->blocked = q->blocked;
	st->high_water = q->high_water;
	st->capacity = q->cap;
	pthread_mutex_unlock(&q->mu);
}
