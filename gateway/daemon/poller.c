/*
 * poller.c - see poller.h. The thread per bus (RTU lines), and the code of
 * a poll that mux.c's threads (TCP buses) share (poller_int.h).
 *
 * Threads: poller_start() runs on the caller's thread and creates one
 * thread (RTU; a TCP bus is handed to a mux thread instead, mux.c) that
 * owns everything in struct poller except `mu`, `cv`, `stop` and `stats`,
 * which poller_stop() and poller_get_stats() touch under `mu` from other
 * threads. The thread's only output is queue_push().
 *
 * Time: every time the poller decides by (when a poll is due, whether it
 * was late, its jitter, back-off, a reading's UTC timestamp, the drop log's
 * rate limit) is read from the clock given to poller_start() (mclock.h).
 * Only two things keep to the system's clocks, as they must: the timed
 * wait of the condition variable (CLOCK_MONOTONIC, so that poller_stop()
 * wakes it) waits for what the clock says is left and the clock is read
 * again before deciding; and the RTU line's silences are real nanosleeps,
 * because the instruments on the wire time them.
 *
 * One poll of an instrument: take the UTC time, run its planned block reads
 * (plan.c) one after the other, decode each channel from its block
 * (decode.c), and push one sample per numeric channel, plus an online or
 * offline event when the instrument's state changed. A block that fails
 * gives its channels the failure as quality; a timeout or a lost connection
 * ends the poll early (the next blocks would only wait the same timeout).
 * An instrument is online when a read of the poll succeeded; failing when
 * none did but it answered (exceptions: it is there and refuses); offline
 * when it answered nothing usable, and then retried with back-off. Each
 * change of that state is an event and one log line.
 *
 * Stopping: poller_stop() sets `stop` and interrupts the bus (bus.h), so
 * a request in flight ends at its deadline on RTU (on TCP, mux_detach()
 * drops it at once); the
 * poll cut short pushes nothing (no reading was made, and the instrument's
 * state is not known better than before), and no further read is sent.
 */
#include "poller.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "decode.h"
#include "log.h"
#include "plan.h"
#include "poller_int.h"

#define STACK_SIZE     (256 * 1024)
#define BACKOFF_JITTER 0.2 /* +-20 % */

static int64_t mono(const struct poller *p)
{
	return mclock_mono(p->clk);
}

static int64_t real(const struct poller *p)
{
	return mclock_real(p->clk);
}

/* A real sleep, whatever the clock: the RTU line's silences, which the
 * instruments on the wire time. */
static void sleep_us(int64_t us)
{
	struct timespec ts = {(time_t)(us / 1000000),
	                      (long)(us % 1000000) * 1000};

	while (us > 0 && nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* xorshift64*: jitter for back-off, no shared state. */
static double random_unit(struct poller *p)
{
	p->rng ^= p->rng >> 12;
	p->rng ^= p->rng << 25;
	p->rng ^= p->rng >> 27;
	return (double)((p->rng * 2685821657736338717ULL) >> 11) /
	       9007199254740992.0;
}

static enum quality quality_of(enum bus_error e)
{
	switch (e) {
	case BUS_OK:
		return QUALITY_GOOD;
	case BUS_ERR_CONNECT:
		return QUALITY_CONNECT;
	case BUS_ERR_TIMEOUT:
		return QUALITY_TIMEOUT;
	case BUS_ERR_EXCEPTION:
		return QUALITY_EXCEPTION;
	case BUS_ERR_CRC:
		return QUALITY_CRC;
	case BUS_ERR_REPLY:
		return QUALITY_REPLY;
	default:
		return QUALITY_OTHER;
	}
}

static void inst_free(struct inst *in)
{
	plan_free(&in->plan);
	free(in->words);
	free(in->base);
	free(in->read_q);
	free(in->read_detail);
	free(in->channel);
	free(in->samples);
}

/* Plan the reads of one instrument: every numeric channel is a need.
 * Returns 0, 1 when it has nothing to poll (only text channels), or -1. */
static int inst_init(struct inst *in, const struct cfg_instrument *ci,
                     uint32_t index, int64_t start)
{
	struct plan_need *needs = calloc((size_t)ci->nchannels, sizeof(*needs));
	int n = 0;

	memset(in, 0, sizeof(*in));
	in->cfg = ci;
	in->index = index;
	in->next_due = start;
	in->channel = calloc((size_t)ci->nchannels, sizeof(*in->channel));
	if (needs == NULL || in->channel == NULL)
		goto fail;
	for (int i = 0; i < ci->nchannels; i++) {
		const struct cfg_channel *ch = &ci->channels[i];
		if (ch->spec.type == DECODE_STRING)
			continue; /* identity text, not a reading */
		unsigned words = decode_words(&ch->spec);
		needs[n].table = ch->table;
		needs[n].address = ch->address;
		needs[n].count = (uint16_t)(words == 0 ? 1 : words);
		in->channel[n++] = i;
	}
	in->nslots = n;
	if (n == 0) {
		free(needs);
		inst_free(in);
		return 1;
	}
	if (plan_build(needs, n, ci->max_gap, &in->plan) == -1)
		goto fail;
	size_t total = 0;
	in->base = calloc((size_t)in->plan.nreads + 1, sizeof(*in->base));
	in->read_q = calloc((size_t)in->plan.nreads + 1, 1);
	in->read_detail =
	        calloc((size_t)in->plan.nreads + 1, sizeof(*in->read_detail));
	if (in->base == NULL || in->read_q == NULL || in->read_detail == NULL)
		goto fail;
	for (int r = 0; r < in->plan.nreads; r++) {
		in->base[r] = (uint16_t)total;
		total += in->plan.reads[r].count;
	}
	in->words = calloc(total + 1, sizeof(*in->words));
	in->samples = calloc((size_t)n + 1, sizeof(*in->samples));
	if (in->words == NULL || in->samples == NULL)
		goto fail;
	free(needs);
	return 0;
fail:
	free(needs);
	inst_free(in);
	return -1;
}

static void record_jitter(struct poller_stats *st, int64_t jitter)
{
	int b = 0;

	if (jitter > 0)
		b = 64 - __builtin_clzll((unsigned long long)jitter);
	if (b >= POLLER_JITTER_BUCKETS)
		b = POLLER_JITTER_BUCKETS - 1;
	st->jitter[b]++;
}

uint64_t poller_jitter_quantile(const struct poller_stats *st, double q)
{
	uint64_t total = 0, seen = 0;

	for (int b = 0; b < POLLER_JITTER_BUCKETS; b++)
		total += st->jitter[b];
	if (total == 0)
		return 0;
	for (int b = 0; b < POLLER_JITTER_BUCKETS; b++) {
		seen += st->jitter[b];
		if ((double)seen >= q * (double)total)
			return b == 0 ? 0 : 1ULL << b;
	}
	return UINT64_MAX;
}

static bool stopping(struct poller *p)
{
	pthread_mutex_lock(&p->mu);
	bool stop = p->stop;
	pthread_mutex_unlock(&p->mu);
	return stop;
}

/* The bus's own log line, once per change, naming it and its device:
 * "bus rs485-1 (/dev/ttyUSB0): cannot open /dev/ttyUSB0: No such file or
 * directory" when it cannot be opened or connected, or the link dropped;
 * "bus rs485-1 (/dev/ttyUSB0): connected" when a read went through
 * again. Each instrument's offline line follows its own events. */
static void bus_link(struct poller *p, bool up)
{
	if (up != p->bus_down)
		return; /* no change */
	p->bus_down = !up;
	if (up)
		log_info("bus %s (%s): connected", p->bus_cfg->name,
		         bus_where(p->bus));
	else
		log_warnx("bus %s (%s): %s", p->bus_cfg->name,
		          bus_where(p->bus), bus_last_message(p->bus));
}

int poller_read_done(struct poller *p, struct inst *in, int r, int rc)
{
	if (rc == 0) {
		in->read_q[r] = QUALITY_GOOD;
		in->read_detail[r] = 0;
		bus_link(p, true);
		return 1;
	}
	enum bus_error e = bus_last_error(p->bus);
	if (e == BUS_ERR_STOPPED)
		return -1;
	if (e == BUS_ERR_CONNECT)
		bus_link(p, false);
	in->read_q[r] = (uint8_t)quality_of(e);
	in->read_detail[r] = (uint16_t)bus_last_exception(p->bus);
	log_debug("bus %s (%s) unit %d: read %d@%u: %s", p->bus_cfg->name,
	          bus_where(p->bus), in->cfg->unit_id, in->plan.reads[r].count,
	          in->plan.reads[r].address, bus_last_message(p->bus));
	if (e != BUS_ERR_TIMEOUT && e != BUS_ERR_CONNECT)
		return 1;
	/* the rest would wait for the same nothing */
	for (int rest = r + 1; rest < in->plan.nreads; rest++) {
		in->read_q[rest] = in->read_q[r];
		in->read_detail[rest] = in->read_detail[r];
	}
	return 0;
}

/* Run the block reads of one poll. Returns the number that succeeded, or
 * -1 when a stop cut the poll short. */
static int run_reads(struct poller *p, struct inst *in, uint64_t *sent)
{
	int ok = 0;

	for (int r = 0; r < in->plan.nreads; r++) {
		const struct plan_read *rd = &in->plan.reads[r];
		if (stopping(p))
			return -1;
		if (r > 0 && p->silence_us > 0)
			sleep_us(p->silence_us);
		(*sent)++;
		int rc = bus_read(p->bus, in->cfg->unit_id, rd->table,
		                  rd->address, rd->count,
		                  in->words + in->base[r]);
		ok += rc == 0;
		int go = poller_read_done(p, in, r, rc);
		if (go == -1)
			return -1;
		if (go == 0)
			break;
	}
	return ok;
}

/* Fill in->samples from the blocks of this poll. Returns the count. */
static size_t build_samples(struct inst *in, int64_t ts)
{
	const struct cfg_instrument *ci = in->cfg;
	size_t n = 0;

	for (int i = 0; i < in->nslots; i++) {
		const struct cfg_channel *ch = &ci->channels[in->channel[i]];
		const struct plan_slot *sl = &in->plan.slots[i];
		struct sample *s = &in->samples[n++];
		s->ts_us = ts;
		s->index = ch->index;
		s->kind = SAMPLE_READING;
		s->quality = in->read_q[sl->read];
		s->detail = in->read_detail[sl->read];
		s->value = 0;
		if (s->quality != QUALITY_GOOD)
			continue;
		const uint16_t *w = in->words + in->base[sl->read] + sl->offset;
		if (decode_value(&ch->spec, w, &s->value) == -1) {
			s->quality = QUALITY_INVALID;
			s->value = 0;
		}
	}
	return n;
}

/* The state a poll shows, and the block whose failure says why (-1:
 * none): online when a read succeeded; failing when none did but one was
 * answered with an exception; offline when nothing usable came back. */
static enum inst_state_kind poll_state(const struct inst *in, int ok, int *why)
{
	*why = -1;
	if (ok > 0)
		return INST_ONLINE;
	for (int r = 0; r < in->plan.nreads; r++)
		if (in->read_q[r] == QUALITY_EXCEPTION) {
			*why = r;
			return INST_FAILING;
		}
	*why = 0;
	return INST_OFFLINE;
}

/* The event of a change of state, and its log line. */
static void state_event(struct poller *p, struct inst *in,
                        enum inst_state_kind state, int why, int64_t ts,
                        struct sample *e)
{
	e->ts_us = ts;
	e->index = in->index;
	e->kind = (uint8_t)state;
	e->quality = why < 0 ? QUALITY_GOOD : in->read_q[why];
	e->detail = why < 0 ? 0 : in->read_detail[why];
	e->value = 0;
	if (state == INST_ONLINE)
		log_info("instrument %s (%s unit %d) is online", in->cfg->id,
		         bus_name(p->bus), in->cfg->unit_id);
	else if (state == INST_FAILING)
		log_warnx("instrument %s (%s unit %d) is failing: it answers "
		          "but every read fails: %s",
		          in->cfg->id, bus_name(p->bus), in->cfg->unit_id,
		          bus_last_message(p->bus));
	else
		log_warnx("instrument %s (%s unit %d) is offline: %s",
		          in->cfg->id, bus_name(p->bus), in->cfg->unit_id,
		          bus_last_message(p->bus));
	in->state = state;
}

static void poll_one(struct poller *p, struct inst *in)
{
	int64_t ts = real(p);
	uint64_t sent = 0;
	int ok = run_reads(p, in, &sent);
	if (ok < 0)
		return; /* cut short by a stop: nothing to tell */
	poller_poll_end(p, in, ts, ok, sent);
}

void poller_poll_end(struct poller *p, struct inst *in, int64_t ts, int ok,
                     uint64_t sent)
{
	size_t n = build_samples(in, ts);
	int why;
	enum inst_state_kind state = poll_state(in, ok, &why);
	bool up = state != INST_OFFLINE;
	int64_t interval = (int64_t)in->cfg->interval_ms * 1000;

	if (state != in->state)
		state_event(p, in, state, why, ts, &in->samples[n++]);
	long dropped = queue_push(p->q, in->samples, n);
	if (dropped > 0) {
		/* the policy is drop_oldest: say so, at most once a minute */
		p->dropped_unlogged += (uint64_t)dropped;
		int64_t t = mono(p);
		if (t >= p->next_drop_log) {
			log_warnx("queue full (queue_full = \"drop_oldest\"): "
			          "%llu oldest samples dropped; the database "
			          "cannot keep up or is failing",
			          (unsigned long long)p->dropped_unlogged);
			p->dropped_unlogged = 0;
			p->next_drop_log = t + 60 * 1000000LL;
		}
	}

	/* Next due time: on the grid when healthy, backed off when not. */
	uint64_t late = 0;
	if (up) {
		in->backoff = 0;
		in->next_due += interval;
		int64_t after = mono(p);
		if (in->next_due <= after) {
			int64_t missed = (after - in->next_due) / interval + 1;
			in->next_due += missed * interval;
			late = (uint64_t)missed;
		}
	} else {
		int64_t cap = (int64_t)p->bus_cfg->backoff_max_ms * 1000;
		in->backoff = in->backoff == 0 ? interval : in->backoff * 2;
		if (in->backoff > cap)
			in->backoff = cap;
		double j = 1.0 + BACKOFF_JITTER * (2.0 * random_unit(p) - 1.0);
		in->next_due = mono(p) + (int64_t)((double)in->backoff * j);
	}

	pthread_mutex_lock(&p->mu);
	p->stats.polls++;
	p->stats.transactions += sent;
	p->stats.failures += sent - (uint64_t)ok;
	p->stats.readings += (uint64_t)in->nslots;
	p->stats.late += late;
	pthread_mutex_unlock(&p->mu);
}

/* Wait until the clock's monotonic time reaches `due`, or a stop request.
 * The wait itself is on CLOCK_MONOTONIC, for as long as the clock says is
 * left; then the clock is read again, so it alone decides (a clock that
 * does not move keeps the poller waiting). Returns false on stop. */
static bool wait_until(struct poller *p, int64_t due)
{
	bool go;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		int64_t left = due - mono(p);
		if (p->stop || left <= 0)
			break;
		struct timespec ts = mclock_cv_deadline(left);
		pthread_cond_timedwait(&p->cv, &p->mu, &ts);
	}
	go = !p->stop;
	pthread_mutex_unlock(&p->mu);
	return go;
}

struct inst *poller_next_inst(struct poller *p)
{
	struct inst *next = &p->insts[0];

	for (int i = 1; i < p->ninsts; i++)
		if (p->insts[i].next_due < next->next_due)
			next = &p->insts[i];
	return next;
}

void poller_note_start(struct poller *p, const struct inst *in, int64_t now)
{
	pthread_mutex_lock(&p->mu);
	record_jitter(&p->stats, now - in->next_due);
	pthread_mutex_unlock(&p->mu);
}

static void *poller_main(void *arg)
{
	struct poller *p = arg;
	char name[16];

	snprintf(name, sizeof(name), "poll %s", p->bus_cfg->name);
	log_thread_name(name);
	for (;;) {
		struct inst *next = poller_next_inst(p);
		if (!wait_until(p, next->next_due))
			break;
		poller_note_start(p, next, mono(p));
		poll_one(p, next);
		if (p->bus_cfg->connect_per_poll)
			bus_close(p->bus);
		if (p->bus_cfg->params.kind == BUS_RTU) {
			sleep_us(p->silence_us);
			if (p->bus_cfg->turnaround_ms > 0 && p->ninsts > 1)
				sleep_us((int64_t)p->bus_cfg->turnaround_ms *
				         1000);
		}
	}
	return NULL;
}

/* 3.5 characters of 11 bits at the bus's baud rate (1750 us above 19200,
 * as the Modbus serial line spec recommends), plus the configured margin. */
static int64_t rtu_silence_us(const struct cfg_bus *b)
{
	int64_t t35 = b->params.baud > 19200
	                      ? 1750
	                      : (int64_t)(38500000.0 / b->params.baud + 0.999);

	return t35 + b->silence_margin_us;
}

/* Descriptors for all c's buses, checked with the first (bus_fd_budget());
 * the limit's change and a shortfall are logged. */
static int fd_budget(const struct config *c)
{
	char msg[320];
	int rc = bus_fd_budget(c->nbuses, msg, sizeof(msg));

	if (rc == -1)
		log_warnx("%s", msg);
	else if (msg[0] != '\0')
		log_info("%s", msg);
	return rc;
}

struct poller *poller_start(const struct config *c, int bus, struct queue *q,
                            const struct mclock *clk)
{
	struct poller *p = calloc(1, sizeof(*p));
	char err[256];
	int n = 0;

	if (p == NULL)
		return NULL;
	if (bus == 0 && fd_budget(c) == -1) {
		free(p);
		return NULL;
	}
	p->cfg = c;
	p->bus_cfg = &c->buses[bus];
	p->q = q;
	p->clk = clk;
	p->rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)real(p) ^ (uint64_t)bus;
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (p->bus_cfg->params.kind == BUS_RTU)
		p->silence_us = rtu_silence_us(p->bus_cfg);

	p->bus = bus_new(&p->bus_cfg->params, err, sizeof(err));
	if (p->bus == NULL) {
		log_warnx("bus %s: %s", p->bus_cfg->name, err);
		goto fail;
	}
	for (int i = 0; i < c->ninstruments; i++)
		n += c->instruments[i].bus == bus;
	p->insts = calloc((size_t)n + 1, sizeof(*p->insts));
	if (p->insts == NULL)
		goto fail;
	/* Spread the instruments' first polls over their interval, so that
	 * they do not all fall due at once and queue behind each other: on
	 * an RTU line its own instruments; over TCP, whose buses share a few
	 * threads (mux.c), all the TCP instruments of the config, bus by bus
	 * (instrument k of n on bus b at (b + k / n) / nbuses of it). */
	int64_t start = mono(p);
	int64_t slot = 0, slots = n;
	if (p->bus_cfg->params.kind == BUS_TCP) {
		slot = (int64_t)bus * n;
		slots = (int64_t)c->nbuses * n;
	}
	for (int i = 0; i < c->ninstruments; i++) {
		const struct cfg_instrument *ci = &c->instruments[i];
		if (ci->bus != bus)
			continue;
		int64_t phase =
		        (int64_t)ci->interval_ms * 1000 * slot++ / slots;
		int rc = inst_init(&p->insts[p->ninsts], ci, (uint32_t)i,
		                   start + phase);
		if (rc == -1) {
			log_warnx("instrument %s: cannot plan its reads",
			          ci->id);
			goto fail;
		}
		if (rc == 0)
			p->ninsts++;
	}
	if (p->ninsts == 0)
		return p; /* a bus with no instrument: nothing to run */
	if (p->bus_cfg->params.kind == BUS_TCP) {
		if (mux_attach(p) == -1)
			goto fail;
		p->muxed = true;
		return p;
	}

	/* The thread takes no signals: they go to the main thread. */
	sigset_t all, old;
	pthread_attr_t attr;
	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STACK_SIZE);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&p->thread, &attr, poller_main, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		errno = rc;
		log_warn("bus %s: cannot start its poller", p->bus_cfg->name);
		goto fail;
	}
	p->started = true;
	return p;
fail:
	poller_stop(p, NULL);
	return NULL;
}

void poller_stop(struct poller *p, struct poller_stats *last)
{
	if (p == NULL)
		return;
	if (p->muxed)
		mux_detach(p);
	if (p->started) {
		pthread_mutex_lock(&p->mu);
		p->stop = true;
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
		bus_interrupt(p->bus); /* a request in flight ends now */
		pthread_join(p->thread, NULL);
	}
	if (last != NULL)
		*last = p->stats;
	for (int i = 0; i < p->ninsts; i++)
		inst_free(&p->insts[i]);
	free(p->insts);
	bus_free(p->bus);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

void poller_get_stats(struct poller *p, struct poller_stats *st)
{
	pthread_mutex_lock(&p->mu);
	*st = p->stats;
	pthread_mutex_unlock(&p->mu);
}
