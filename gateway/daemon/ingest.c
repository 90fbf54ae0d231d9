/*
 * ingest.c - the ingest loop (ingest.h): batch, commit, retry, drain,
 * reload, and the publisher's, retention's and calibration's turns.
 *
 * Threading: the ingest thread only (ingest.h).
 */
#include "ingest.h"

#include <stdbool.h>
#include <stdlib.h>

#include "compose.h"
#include "log.h"
#include "monitor.h"
#include "publish.h"

#define RETENTION_EVERY_US   (3600LL * 1000000)
#define CALIBRATION_EVERY_US 1000000LL /* look for new calibration records */
#define RETENTION_CHUNK      10000
#define RETRY_MIN_MS         100
#define RETRY_MAX_MS         5000
#define STOP_RETRY_US        (30LL * 1000000) /* keep trying to commit on stop */
/* a failed batch looks at its back-off this often */
#define RETRY_STEP_US 10000
/* acknowledged outbox rows deleted alone after this long without a commit */
#define DELETE_IDLE_US 200000

struct ingest {
	const struct config *c;
	struct store *st;
	struct queue *q;
	const struct mclock *clk;
	struct composer *comp;   /* events rows and outbox messages */
	struct monitor *mon;     /* tolerance states */
	struct publisher *pub;   /* NULL: none */
	uint64_t outbox_dropped; /* last logged */
	int64_t outbox_deleted;  /* outbox rows <= this deleted (acked) */
	int64_t last_commit;     /* monotonic us */
	struct sample *batch;    /* batch_cap samples */
	size_t batch_cap;        /* batch_max * (1 + monitor_room()) */
	size_t nbatch;
	int64_t batch_since; /* monotonic us of the batch's first sample */
	int retry_ms;        /* current commit retry back-off, 0 when fine */
	int64_t next_retry;  /* monotonic us */
	int64_t next_retention, next_calibration;
	bool retention_pending;
	bool calibration_failing; /* the last refresh failed (logged once) */
	bool records_failing;     /* the last composer_records() failed */
	struct ingest_stats stats;
};

/* ---- time: the clock given to ingest_new() ----------------------------- */

static int64_t mono(const struct ingest *in)
{
	return mclock_mono(in->clk);
}

static int64_t real(const struct ingest *in)
{
	return mclock_real(in->clk);
}

/* ---- batches ------------------------------------------------------------ */

/* After a commit: hand the batch's readings messages to the publisher's
 * thread (which wakes), and make the outbox_full policy visible. */
static void publish_step(struct ingest *in)
{
	struct composed_readings r;
	uint64_t dropped;

	if (in->pub == NULL)
		return;
	composer_readings(in->comp, &r);
	publisher_committed(in->pub, &r);
	dropped = store_outbox_dropped(in->st);
	if (dropped != in->outbox_dropped) {
		log_warnx(
		        "mqtt: outbox full (outbox_max %ld): %llu oldest "
		        "unsent messages dropped, %llu in all; their readings "
		        "stay in the database",
		        in->c->mqtt->outbox_max,
		        (unsigned long long)(dropped - in->outbox_dropped),
		        (unsigned long long)dropped);
		in->outbox_dropped = dropped;
	}
}

static void count(struct ingest *in)
{
	for (size_t i = 0; i < in->nbatch; i++) {
		if (in->batch[i].kind == SAMPLE_READING)
			in->stats.readings++;
		else if (in->batch[i].kind == SAMPLE_STATE)
			in->stats.states++;
		else
			in->stats.events++;
	}
}

/* The publisher's acknowledged prefix, when not deleted yet; 0: none. */
static int64_t acked(struct ingest *in)
{
	int64_t upto = in->pub != NULL ? publisher_acked(in->pub) : 0;

	return upto > in->outbox_deleted ? upto : 0;
}

/* Without commits for a while, the acknowledged rows in a transaction of
 * their own (they go with the next batch's otherwise). */
static void delete_acked(struct ingest *in, int64_t now)
{
	int64_t upto;

	if (now < in->last_commit + DELETE_IDLE_US || (upto = acked(in)) == 0)
		return;
	in->last_commit = now;
	if (store_outbox_delete(in->st, upto) == -1)
		log_warnx("mqtt: %s", store_last_message(in->st));
	else
		in->outbox_deleted = upto;
}

/* Commit the pending batch (with the acknowledged outbox rows' delete).
 * Returns 0, or -1 if it failed (kept). */
static int commit(struct ingest *in)
{
	int64_t upto = acked(in);

	if (in->nbatch == 0)
		return 0;
	composer_outbox_delete(in->comp, upto);
	if (composer_write(in->comp, in->st, in->batch, in->nbatch) == -1) {
		in->stats.commit_failures++;
		if (in->retry_ms == 0 || in->retry_ms >= RETRY_MAX_MS)
			log_warnx("%s; %zu samples kept, retrying",
			          composer_error(in->comp, in->st), in->nbatch);
		in->retry_ms =
		        in->retry_ms == 0 ? RETRY_MIN_MS : in->retry_ms * 2;
		if (in->retry_ms > RETRY_MAX_MS)
			in->retry_ms = RETRY_MAX_MS;
		in->next_retry = mono(in) + (int64_t)in->retry_ms * 1000;
		return -1;
	}
	if (in->retry_ms != 0)
		log_info("database writable again; %zu samples committed",
		         in->nbatch);
	count(in);
	if (upto > 0)
		in->outbox_deleted = upto;
	in->last_commit = mono(in);
	in->retry_ms = 0;
	in->nbatch = 0;
	publish_step(in); /* after COMMIT only */
	return 0;
}

/* Pop up to max samples into the batch once want of them are queued,
 * waiting up to wait_ms for them (queue_pop_batch()), and run them
 * through the monitor, which appends its state changes. */
static size_t take(struct ingest *in, size_t max, size_t want, int wait_ms)
{
	size_t first = in->nbatch;
	size_t n =
	        queue_pop_batch(in->q, in->batch + first, max, want, wait_ms);

	in->nbatch += n;
	for (size_t i = first; i < first + n; i++)
		in->nbatch += monitor_sample(in->mon, &in->batch[i],
		                             in->batch + in->nbatch);
	return n;
}

/* Sleep up to us (the publisher runs on its own thread). */
static void pause_us(struct ingest *in, int64_t us)
{
	mclock_sleep(in->clk, us);
}

/* With a batch open: wait up to us (what is left of batch_ms) for the
 * rest of it, at most wait_ms when wait_ms > 0. The wait is on the queue,
 * which wakes this thread once the batch can be filled, not at every
 * push: one wake-up per batch. What of that time the queue's wait did not
 * cover by the clock is slept on the clock: nothing with mclock_system
 * (the timed wait ends at its deadline, rounded up to a millisecond), the
 * whole of it with wait_ms 0 (a test's clock, which only sleeping
 * advances). */
static void fill(struct ingest *in, size_t max, int64_t us, int wait_ms)
{
	int64_t start = mono(in), left;

	if (wait_ms > 0 && us > (int64_t)wait_ms * 1000)
		us = (int64_t)wait_ms * 1000;
	take(in, max - in->nbatch, max - in->nbatch,
	     wait_ms > 0 ? (int)((us + 999) / 1000) : 0);
	left = start + us - mono(in);
	if (in->nbatch < max && left > 0)
		pause_us(in, left);
}

/* Take and commit (ingest_step() without the other turns). */
static void batch_step(struct ingest *in, int wait_ms)
{
	size_t max = (size_t)in->c->batch_max;
	int64_t age = (int64_t)in->c->batch_ms * 1000;
	int64_t now = mono(in);

	if (in->retry_ms != 0 && now < in->next_retry) {
		pause_us(in, RETRY_STEP_US);
		return;
	}
	if (in->nbatch == 0) {
		take(in, max, 1, wait_ms);
		in->batch_since = mono(in);
	} else if (in->nbatch < max) {
		int64_t due = in->batch_since + age;
		if (due > now)
			fill(in, max, due - now, wait_ms);
		else
			take(in, max - in->nbatch, 1, 0);
	}
	now = mono(in);
	if (in->nbatch >= max ||
	    (in->nbatch > 0 && now >= in->batch_since + age))
		commit(in);
}

/* ---- between batches ---------------------------------------------------- */

/* Delete old readings a chunk at a time. */
static void retention_step(struct ingest *in, int64_t now)
{
	if (in->c->retention_days == 0)
		return;
	if (!in->retention_pending && now < in->next_retention)
		return;
	int64_t cutoff =
	        real(in) - (int64_t)in->c->retention_days * 86400LL * 1000000;
	long deleted = 0;
	if (store_retention(in->st, cutoff, RETENTION_CHUNK, &deleted) == -1) {
		log_warnx("retention: %s", store_last_message(in->st));
		deleted = 0;
	}
	in->retention_pending = deleted == RETENTION_CHUNK;
	in->next_retention = now + RETENTION_EVERY_US;
}

/* Calibration records and approvals appended by the tool, into the
 * outbox (composer_records()); failures said once, like the states'. */
static void records_step(struct ingest *in)
{
	int n = composer_records(in->comp, in->st);

	if (n == -1 && !in->records_failing)
		log_warnx("calibration records: %s; retrying every second",
		          composer_error(in->comp, in->st));
	else if (n != -1 && in->records_failing)
		log_info("calibration records: published again");
	else if (n > 0)
		log_debug("calibration records: %d record(s) or approval(s) "
		          "put into the outbox",
		          n);
	in->records_failing = n == -1;
}

/* Calibration due states: an event when one changes (a record appended
 * by the metrolog tool, or a due date coming closer). */
static void calibration_step(struct ingest *in, int64_t now)
{
	if (now < in->next_calibration)
		return;
	in->next_calibration = now + CALIBRATION_EVERY_US;
	int changes = composer_calibration(in->comp, in->st, real(in));
	/* tried every second: say when it starts failing and when it works
	 * again, not every second in between */
	if (changes == -1 && !in->calibration_failing)
		log_warnx("calibration states: %s; retrying every second",
		          composer_error(in->comp, in->st));
	else if (changes != -1 && in->calibration_failing)
		log_info("calibration states: read again");
	in->calibration_failing = changes == -1;
	records_step(in);
	if (in->pub != NULL)
		publisher_committed(in->pub, NULL); /* what these wrote */
	for (int i = 0; changes > 0 && i < in->c->ninstruments; i++) {
		if (!composer_renewed(in->comp, (uint32_t)i))
			continue;
		monitor_restart_trends(in->mon, (uint32_t)i);
		log_info("instrument %s: a new calibration is in force; the "
		         "drift trends of its channels start again",
		         in->c->instruments[i].id);
	}
}

void ingest_step(struct ingest *in, int wait_ms)
{
	batch_step(in, wait_ms);
	if (in->nbatch == 0) {
		int64_t now = mono(in);
		delete_acked(in, now);
		retention_step(in, now);
		calibration_step(in, now);
	}
}

size_t ingest_drain(struct ingest *in)
{
	size_t max = (size_t)in->c->batch_max;
	int64_t deadline = mono(in) + STOP_RETRY_US;

	for (;;) {
		if (in->nbatch < max)
			take(in, max - in->nbatch, 1, 0);
		if (in->nbatch == 0)
			return 0;
		if (in->retry_ms == 0 || mono(in) >= in->next_retry)
			commit(in);
		else
			mclock_sleep(in->clk, RETRY_STEP_US);
		if (in->nbatch > 0 && mono(in) > deadline)
			break;
	}
	size_t left = in->nbatch, n;
	while ((n = queue_pop(in->q, in->batch, max, 0)) > 0)
		left += n;
	in->nbatch = 0;
	log_warnx("giving up: %zu samples could not be committed", left);
	return left;
}

/* Room for batch_max samples and the state changes they may cause. */
static int size_batch(struct ingest *in, const struct config *c)
{
	size_t cap = (size_t)c->batch_max * (1 + monitor_room(in->mon));

	if (cap <= in->batch_cap)
		return 0;
	struct sample *b = realloc(in->batch, cap * sizeof(*b));
	if (b == NULL)
		return -1;
	in->batch = b;
	in->batch_cap = cap;
	return 0;
}

int ingest_reload(struct ingest *in, const struct config *next)
{
	if (store_sync_config(in->st, next) == -1) {
		log_warnx("reload refused: %s", store_last_message(in->st));
		return -1;
	}
	if (composer_reload(in->comp, next) == -1 ||
	    monitor_rebuild(in->mon, next) == -1 || size_batch(in, next) == -1)
		fatalx("out of memory");
	in->c = next;
	return 0;
}

struct ingest *ingest_new(const struct config *c, struct store *st,
                          struct queue *q, const struct mclock *clk)
{
	struct ingest *in = calloc(1, sizeof(*in));

	if (in == NULL)
		goto fail;
	*in = (struct ingest){.c = c, .st = st, .q = q, .clk = clk};
	in->comp = composer_new(c);
	in->mon = monitor_new(c);
	if (in->comp == NULL || in->mon == NULL || size_batch(in, c) == -1)
		goto fail;
	return in;
fail:
	log_warnx("ingest: out of memory");
	ingest_free(in);
	return NULL;
}

void ingest_free(struct ingest *in)
{
	if (in == NULL)
		return;
	composer_free(in->comp);
	monitor_free(in->mon);
	free(in->batch);
	free(in);
}

void ingest_set_publisher(struct ingest *in, struct publisher *p)
{
	in->pub = p;
}

void ingest_get_stats(const struct ingest *in, struct ingest_stats *s)
{
	*s = in->stats;
	s->pending = in->nbatch;
	s->retrying = in->retry_ms != 0;
}
