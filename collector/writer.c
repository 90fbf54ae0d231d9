/*
 * writer.c - the collector's writer (writer.h): messages read (inbox.h),
 * copied into the batch (batch.h), written into one transaction
 * (archive.h) and committed together.
 *
 * Why no SAVEPOINT per message: each would be a subtransaction, and more
 * than 64 in one transaction overflow PostgreSQL's per-backend cache of
 * them, after which every other session's snapshots look them up in
 * pg_subtrans (a known slowdown of the whole server); it would also cost
 * two more round trips a message. A refused message is rare: the
 * transaction is rolled back and its other messages written again from
 * the batch, without it (written again is harmless: every write is
 * idempotent).
 *
 * Counters: a message counts as written or held already once its
 * transaction is committed (a transaction written again does not count
 * twice); a refused one when it is refused (logged once).
 */
#include "writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "inbox.h"
#include "log.h"

#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 5000
#define STOP_WAIT_MS 10000     /* at a stop, the batch in hand: tried */
#define BATCH_BYTES  (4 << 20) /* a batch is full with this much */
#define NOT_WRITTEN  (-1)      /* writer.open: no transaction open */

/* One message as read: a gateway's (archive_put) or a reply to this
 * collector's replay request (archive_replay_reply; its site in m.site). */
struct item {
	struct inbox_msg m;
	bool reply;
};

/* A message acknowledged only once committed: written after the batch,
 * from Paho's buffer (valid until it is acknowledged). */
struct tail {
	const char *topic, *payload;
	size_t len;
	struct item it;
	int rc;       /* what writing it came to */
	bool refused; /* refused for good (logged, counted) */
};

struct writer {
	const struct ccfg *c;
	struct archive *a;
	const struct mclock *k;
	volatile sig_atomic_t *stop;
	struct batch *b;
	struct item *items; /* c->batch_max, by the batch's index */
	int open;           /* messages of b written into the open
	                       transaction, NOT_WRITTEN: none open */
	int64_t due_us;     /* monotonic: the open batch is committed then */
	int64_t give_up_us; /* stopping: the batch in hand given up then */
	long long written, duplicates, refused, retries, gaps, unrepairable,
	        batches;
	bool gaps_failing; /* the last gap check failed (told once) */
};

struct writer *writer_new(const struct ccfg *c, struct archive *a,
                          const struct mclock *k, volatile sig_atomic_t *stop)
{
	struct writer *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->c = c;
	w->a = a;
	w->k = k;
	w->stop = stop;
	w->open = NOT_WRITTEN;
	w->b = batch_new(c->batch_max, BATCH_BYTES);
	w->items = calloc((size_t)c->batch_max, sizeof(*w->items));
	if (w->b == NULL || w->items == NULL) {
		writer_free(w);
		return NULL;
	}
	return w;
}

void writer_free(struct writer *w)
{
	if (w == NULL)
		return;
	batch_free(w->b);
	free(w->items);
	free(w);
}

/* Read topic's message into it. Returns 0, or -1 when refused (logged,
 * counted). */
static int read_item(struct writer *w, const char *topic, const char *payload,
                     size_t len, struct item *it)
{
	char err[1024];

	memset(it, 0, sizeof(*it));
	if (w->c->repair && inbox_reply_site(w->c->prefix, w->c->client_id,
	                                     topic, it->m.site) == 0) {
		it->reply = true;
		return 0;
	}
	if (inbox_read(&it->m, w->c->prefix, topic, payload, len, err,
	               sizeof(err)) == 0)
		return 0;
	log_warnx("refused a message on %s: %s", topic, err);
	w->refused++;
	return -1;
}

/* Write it (payload, len bytes) into the archive. Returns archive_put()'s
 * or archive_replay_reply()'s code; a refusal logged and counted. */
static int put_item(struct writer *w, const char *topic, const struct item *it,
                    const char *payload, size_t len, char *err, size_t errlen)
{
	int rc =
	        it->reply
	                ? archive_replay_reply(w->a, it->m.site, payload, len,
	                                       w->c->gap_settle_ms, err, errlen)
	                : archive_put(w->a, &it->m, payload, len, err, errlen);

	if (rc == ARCHIVE_REJECT) {
		if (it->reply)
			log_warnx("refused a replay reply of %s: %s",
			          it->m.site, err);
		else
			log_warnx("refused a message on %s: %s", topic, err);
		w->refused++;
	}
	return rc;
}

/* Count a committed message's outcome rc. */
static void count_item(struct writer *w, const struct item *it, int rc)
{
	if (it->reply) {
		log_info("replay reply of %s: %d range(s) it cannot replay "
		         "(table unrepairable)",
		         it->m.site, rc);
		w->unrepairable += rc;
	} else if (rc == ARCHIVE_HELD) {
		log_debug("%s seq %lld: held already", it->m.site,
		          (long long)it->m.seq);
		w->duplicates++;
	} else {
		log_debug("%s seq %lld: written", it->m.site,
		          (long long)it->m.seq);
		w->written++;
	}
}

/* Write into the transaction what is not in it yet: the batch's messages
 * from w->open on, then t (NULL: none). A lone t with an empty batch is
 * written in its own statement's transaction (batch_max = 1: as before
 * batches). Returns ARCHIVE_OK, ARCHIVE_RETRY with err, or ARCHIVE_REJECT
 * when a message was refused (marked; the transaction is lost). */
static int write_open(struct writer *w, struct tail *t, char *err,
                      size_t errlen)
{
	int n = batch_count(w->b), rc;
	const char *topic, *payload;
	size_t len;

	if (w->open == NOT_WRITTEN && n > 0) {
		if ((rc = archive_begin(w->a, err, errlen)) != ARCHIVE_OK)
			return rc;
		w->open = 0;
	}
	for (; w->open != NOT_WRITTEN && w->open < n; w->open++) {
		if (batch_mark(w->b, w->open) == ARCHIVE_REJECT)
			continue; /* refused in a transaction before */
		batch_get(w->b, w->open, &topic, &payload, &len);
		rc = put_item(w, topic, &w->items[w->open], payload, len, err,
		              errlen);
		if (rc != ARCHIVE_RETRY) /* the outcome; REJECT: skipped */
			batch_set_mark(w->b, w->open, rc);
		if (rc < 0)
			return rc;
	}
	if (t == NULL || t->refused)
		return ARCHIVE_OK;
	rc = put_item(w, t->topic, &t->it, t->payload, t->len, err, errlen);
	t->refused = rc == ARCHIVE_REJECT;
	t->rc = rc;
	return rc < 0 ? rc : ARCHIVE_OK;
}

/* PostgreSQL failed with err: tell it (once a round, *told), wait *wait_ms
 * (doubled up to RETRY_MAX_MS) and connect again. Returns 0 to try again,
 * -1 to give up (the collector stops: at once when no acknowledged
 * message is held, else after STOP_WAIT_MS). */
static int back_off(struct writer *w, const char *err, int *wait_ms, bool *told)
{
	char why[1024];

	if (!*told)
		log_warnx("%s; trying again", err);
	*told = true;
	w->retries++;
	if (*w->stop) {
		int64_t now = mclock_mono(w->k);
		if (batch_count(w->b) == 0)
			return -1;
		if (w->give_up_us == 0)
			w->give_up_us = now + STOP_WAIT_MS * 1000LL;
		if (now >= w->give_up_us)
			return -1;
	}
	mclock_sleep(w->k, *wait_ms * 1000LL);
	*wait_ms = *wait_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : *wait_ms * 2;
	(void)archive_reconnect(w->a, why, sizeof(why));
	return 0;
}

/* The batch and t (NULL: none) committed: count them, empty the batch. */
static void committed(struct writer *w, const struct tail *t, bool tx)
{
	for (int i = 0; i < batch_count(w->b); i++)
		if (batch_mark(w->b, i) != ARCHIVE_REJECT)
			count_item(w, &w->items[i], batch_mark(w->b, i));
	if (t != NULL && !t->refused)
		count_item(w, &t->it, t->rc);
	w->batches += tx;
	batch_clear(w->b);
	w->open = NOT_WRITTEN;
}

/* Write and commit the batch and t (NULL: none), writing again what a
 * failed transaction lost, waiting for PostgreSQL while it is away.
 * Returns 0, or -1 when the collector stops first (the batch given up,
 * logged; t not written). */
static int commit_all(struct writer *w, struct tail *t)
{
	char err[1024];
	int wait = RETRY_MIN_MS, rc;
	bool told = false;

	for (;;) {
		bool tx;
		rc = write_open(w, t, err, sizeof(err));
		tx = w->open != NOT_WRITTEN;
		if (rc == ARCHIVE_OK && tx)
			rc = archive_commit(w->a, err, sizeof(err));
		if (rc == ARCHIVE_OK) {
			committed(w, t, tx);
			if (told)
				log_info("postgresql: writing again");
			return 0;
		}
		archive_rollback(w->a);
		w->open = NOT_WRITTEN;
		if (rc == ARCHIVE_REJECT)
			continue; /* written again without the refused one */
		if (back_off(w, err, &wait, &told) < 0)
			break;
	}
	if (batch_count(w->b) > 0)
		log_warnx("stopping with %d acknowledged message(s) not "
		          "written: their seqs are gaps, found by the gap "
		          "check and replayed by the repair",
		          batch_count(w->b));
	batch_clear(w->b);
	return -1;
}

int writer_take(struct writer *w, const char *topic, const char *payload,
                size_t len)
{
	struct tail t = {.topic = topic, .payload = payload, .len = len};
	bool now;

	if (read_item(w, topic, payload, len, &t.it) < 0)
		return WRITER_DONE;
	now = w->c->batch_max == 1 || t.it.reply ||
	      t.it.m.kind == INBOX_GATEWAY_STATUS;
	if (!now && batch_add(w->b, topic, payload, len) == 0) {
		int i = batch_count(w->b) - 1;
		w->items[i] = t.it;
		if (i == 0)
			w->due_us = mclock_mono(w->k) + w->c->batch_ms * 1000LL;
		log_debug("%s seq %lld: taken into the batch (acknowledged)",
		          t.it.m.site, (long long)t.it.m.seq);
		return WRITER_BATCHED;
	}
	/* else out of memory for a copy: as if acknowledged on commit */
	return commit_all(w, &t) == 0 ? WRITER_DONE : WRITER_STOP;
}

int writer_write(struct writer *w)
{
	char err[1024];
	int rc = write_open(w, NULL, err, sizeof(err));

	if (rc == ARCHIVE_OK && !batch_full(w->b))
		return 0;
	if (rc != ARCHIVE_OK) {
		archive_rollback(w->a);
		w->open = NOT_WRITTEN;
	}
	return commit_all(w, NULL);
}

int writer_commit(struct writer *w)
{
	return batch_count(w->b) > 0 ? commit_all(w, NULL) : 0;
}

long long writer_due_in(const struct writer *w)
{
	int64_t left;

	if (batch_count(w->b) == 0)
		return -1;
	left = (w->due_us - mclock_mono(w->k)) / 1000;
	return left > 0 ? left : 0;
}

bool writer_check_gaps(struct writer *w)
{
	char err[1024];
	int n;

	if (batch_count(w->b) > 0)
		return false;
	n = archive_check_gaps(w->a, w->c->gap_settle_ms, err, sizeof(err));
	if (n < 0) {
		if (!w->gaps_failing)
			log_warnx("%s; checking again", err);
		w->gaps_failing = true;
		/* the next message's write reconnects, else do it here */
		(void)archive_reconnect(w->a, err, sizeof(err));
		return true;
	}
	w->gaps_failing = false;
	if (n > 0) {
		log_warnx("%d new gap(s) in the seq of a site (table gaps)", n);
		w->gaps += n;
	}
	return true;
}

void writer_stats(const struct writer *w, char *buf, size_t size)
{
	snprintf(buf, size,
	         "{\"written\":%lld,\"duplicates\":%lld,\"refused\":%lld,"
	         "\"retries\":%lld,\"gaps\":%lld,\"unrepairable\":%lld,"
	         "\"batches\":%lld}",
	         w->written, w->duplicates, w->refused, w->retries, w->gaps,
	         w->unrepairable, w->batches);
}
