/*
 * test_poller.c - a poller (gateway/daemon/poller.c) in this process,
 * polling a real metrolog-sim over TCP into a real queue, with clocks of
 * the test's own (mclock.h): the seam is real.
 *
 * A clock that reads 2030-01-01: every reading and event carries its UTC
 * time. A clock that moves only when the test moves it: a poll happens
 * when the clock says it is due, at the clock's UTC time; a jump of the
 * clock is lateness (polls skipped, jitter) measured in the clock's time;
 * a dead instrument's back-off runs on the clock too. None of these can
 * hold if the poller read the system's clocks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <time.h>

#include <cmocka.h>

#include "bus.h"
#include "config_load.h"
#include "harness.h"
#include "mclock.h"
#include "poller.h"
#include "queue.h"

#define MS       1000LL
#define T2030_US (1893456000LL * 1000000) /* 2030-01-01T00:00:00Z */
#define WAIT_MS  10000 /* the longest any condition is waited for */

/* ---- the test's clocks -------------------------------------------------- */

/* The system's clocks, the UTC one shifted by *ctx us. */
static int64_t shifted_real(void *ctx)
{
	return mclock_system.real_us(NULL) + *(const int64_t *)ctx;
}

static int64_t shifted_mono(void *ctx)
{
	(void)ctx;
	return mclock_system.mono_us(NULL);
}

static void shifted_sleep(void *ctx, int64_t us)
{
	(void)ctx;
	mclock_system.sleep_us(NULL, us);
}

/* A clock that moves only when the test moves it (the poller's thread
 * reads it while the test's thread writes it: atomics). */
struct frozen {
	_Atomic int64_t real, mono;
};

static int64_t frozen_real(void *ctx)
{
	return atomic_load(&((struct frozen *)ctx)->real);
}

static int64_t frozen_mono(void *ctx)
{
	return atomic_load(&((struct frozen *)ctx)->mono);
}

static void frozen_advance(struct frozen *f, int64_t us)
{
	/* UTC first: a poller that sees the new monotonic time and polls
	 * must read the new UTC time */
	atomic_fetch_add(&f->real, us);
	atomic_fetch_add(&f->mono, us);
}

static void frozen_sleep(void *ctx, int64_t us)
{
	frozen_advance(ctx, us);
}

/* ---- one poller of one bus ---------------------------------------------- */

struct rig {
	struct h_sim sim;
	char dir[H_PATH_MAX];
	struct config *cfg;
	struct queue *q;
	struct poller *p;
	struct mclock clk; /* the poller's clock */
	struct frozen f;   /* behind clk, when frozen_clock() */
};

/* An empty rig with a fresh temporary directory. */
static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "%s", h_tmpdir());
}

/* Start the poller of r's bus 0 on clock clk (copied into r), or fail. */
static void rig_start(struct rig *r, struct mclock clk)
{
	r->clk = clk;
	r->p = poller_start(r->cfg, 0, r->q, &r->clk);
	assert_non_null(r->p);
}

/* Start the poller of r on a clock of its own (r->f) that reads 2030 and
 * monotonic time mono_us, and moves only when the test moves it. */
static void rig_start_frozen(struct rig *r, int64_t mono_us)
{
	atomic_store(&r->f.real, T2030_US);
	atomic_store(&r->f.mono, mono_us);
	rig_start(r, (struct mclock){frozen_real, frozen_mono, frozen_sleep,
	                             &r->f});
}

/* Instrument "A" on TCP port `port`, unit 1, every interval_ms, channels
 * c0 and c1 (float32 at input registers 0 and 2: the simulator serves 20
 * and 21). */
static void rig_load(struct rig *r, int port, int interval_ms)
{
	char path[H_PATH_MAX], db[H_PATH_MAX], text[2048];
	FILE *f;

	snprintf(text, sizeof(text),
	         "site = \"s\";\ndatabase = \"%s\";\n"
	         "buses = ( { name = \"b\"; type = \"tcp\"; host = "
	         "\"127.0.0.1\"; port = %d; timeout_ms = 1000; } );\n"
	         "instruments = ( { id = \"A\"; bus = \"b\"; unit_id = 1;"
	         " interval_ms = %d; channels = ("
	         " { name = \"c0\"; table = \"input\"; address = 0;"
	         " type = \"float32\"; },"
	         " { name = \"c1\"; table = \"input\"; address = 2;"
	         " type = \"float32\"; } ); } );\n",
	         h_path(db, r->dir, "metrolog.db"), port, interval_ms);
	f = fopen(h_path(path, r->dir, "gw.cfg"), "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	r->cfg = config_load(path, stderr);
	assert_non_null(r->cfg);
	r->q = queue_new(1024, QUEUE_DROP_OLDEST);
	assert_non_null(r->q);
}

/* The simulator serving unit 1 on TCP, and the rig for it. */
static void rig_up(struct rig *r, int interval_ms)
{
	rig_init(r);
	if (h_sim_start(&r->sim, r->dir, true, false, NULL) < 0)
		fail_msg("metrolog-sim did not start");
	rig_load(r, r->sim.port, interval_ms);
}

static void rig_down(struct rig *r, struct poller_stats *last)
{
	poller_stop(r->p, last);
	queue_free(r->q);
	config_free(r->cfg);
	if (r->sim.pid > 0)
		assert_int_equal(h_sim_stop(&r->sim), 0);
}

/* Wait until the poller counts n polls (it counts a poll after pushing
 * its samples and scheduling the next); there must not be more. */
static void wait_polls(struct poller *p, uint64_t n)
{
	struct poller_stats st;
	struct timespec ms = {0, 1000 * 1000};

	for (int t = 0; t < WAIT_MS; t++) {
		poller_get_stats(p, &st);
		if (st.polls >= n) {
			assert_int_equal(st.polls, n);
			return;
		}
		nanosleep(&ms, NULL);
	}
	fail_msg("%llu polls after %d ms, want %llu",
	         (unsigned long long)st.polls, WAIT_MS, (unsigned long long)n);
}

/* What the queue holds now: exactly n samples. */
static void take(struct rig *r, struct sample *out, size_t n)
{
	struct sample extra[16];

	assert_int_equal(queue_pop(r->q, out, n, 0), n);
	assert_int_equal(queue_pop(r->q, extra, 16, 0), 0);
}

/* s is a good reading of c0 or c1 with the simulator's value, at ts. */
static void assert_reading(const struct rig *r, const struct sample *s,
                           int64_t ts)
{
	const struct cfg_instrument *a = &r->cfg->instruments[0];

	assert_int_equal(s->kind, SAMPLE_READING);
	assert_int_equal(s->quality, QUALITY_GOOD);
	assert_int_equal(s->ts_us, ts);
	if (s->index == a->channels[0].index)
		assert_true(s->value == 20.0);
	else if (s->index == a->channels[1].index)
		assert_true(s->value == 21.0);
	else
		fail_msg("a reading of channel index %u", s->index);
}

/* ---- tests -------------------------------------------------------------- */

/* Polling in real time with a clock that reads 2030: every sample carries
 * the clock's UTC time, not the system's. */
static void readings_carry_the_clocks_utc_time(void **state)
{
	struct rig r;
	struct sample s[64];
	size_t got = 0, readings = 0, online = 0;
	int64_t shift, last = 0;

	(void)state;
	rig_up(&r, 100);
	shift = T2030_US - mclock_system.real_us(NULL);
	rig_start(&r, (struct mclock){shifted_real, shifted_mono, shifted_sleep,
	                              &shift});
	for (int t = 0; t < WAIT_MS / 100 && readings < 10; t++) {
		size_t n = queue_pop(r.q, s + got, 64 - got, 100);
		for (size_t i = got; i < got + n; i++) {
			/* in 2030, within the test's minute, in order */
			assert_true(s[i].ts_us >= T2030_US);
			assert_true(s[i].ts_us < T2030_US + 60000 * MS);
			assert_true(s[i].ts_us >= last);
			last = s[i].ts_us;
			if (s[i].kind == SAMPLE_ONLINE)
				online++;
			else
				readings++;
		}
		got += n;
	}
	assert_true(readings >= 10);
	assert_int_equal(online, 1);
	for (size_t i = 0; i < got; i++)
		if (s[i].kind == SAMPLE_READING)
			assert_reading(&r, &s[i], s[i].ts_us);
	rig_down(&r, NULL);
}

/* A clock that moves only when the test moves it: polls happen when the
 * clock says so, at its UTC time, and a jump of 700 ms over a 200 ms grid
 * is two polls skipped and 500 ms of jitter, all in the clock's time. */
static void the_schedule_runs_on_the_clock(void **state)
{
	struct rig r;
	struct poller_stats st;
	struct sample s[3];

	(void)state;
	rig_up(&r, 200);
	rig_start_frozen(&r, 5000000000LL);

	/* the first poll is due at once: two readings and "online" */
	wait_polls(r.p, 1);
	take(&r, s, 3);
	assert_reading(&r, &s[0], T2030_US);
	assert_reading(&r, &s[1], T2030_US);
	assert_int_equal(s[2].kind, SAMPLE_ONLINE);
	assert_int_equal(s[2].ts_us, T2030_US);

	/* the next one when the clock reaches it */
	frozen_advance(&r.f, 200 * MS);
	wait_polls(r.p, 2);
	take(&r, s, 2);
	assert_reading(&r, &s[0], T2030_US + 200 * MS);
	assert_reading(&r, &s[1], T2030_US + 200 * MS);

	/* due at 400 ms, the clock jumps to 900: one poll at 900, the ones
	 * due at 600 and 800 skipped, the next due at 1000 */
	frozen_advance(&r.f, 700 * MS);
	wait_polls(r.p, 3);
	take(&r, s, 2);
	assert_reading(&r, &s[0], T2030_US + 900 * MS);
	assert_reading(&r, &s[1], T2030_US + 900 * MS);

	rig_down(&r, &st);
	assert_int_equal(st.polls, 3);
	assert_int_equal(st.late, 2);
	assert_int_equal(st.failures, 0);
	/* jitters 0, 0 and 500 ms: 500000 us is in [2^18, 2^19) */
	assert_int_equal(st.jitter[0], 2);
	assert_int_equal(st.jitter[19], 1);
	assert_int_equal(poller_jitter_quantile(&st, 0.5), 0);
	assert_int_equal(poller_jitter_quantile(&st, 1.0), 1ULL << 19);
}

/* A dead instrument (nothing listens on its port) backs off on the
 * clock: 200 ms +-20 %, then 400 ms +-20 %, each retry when the clock
 * passes the longest it could be, stamped with the clock's UTC time. */
static void back_off_runs_on_the_clock(void **state)
{
	struct rig r;
	struct poller_stats st;
	struct sample s[3];

	(void)state;
	rig_init(&r);
	rig_load(&r, h_free_port(), 200);
	rig_start_frozen(&r, 7000000000LL);

	wait_polls(r.p, 1);
	take(&r, s, 3);
	assert_int_equal(s[0].quality, QUALITY_CONNECT);
	assert_int_equal(s[0].ts_us, T2030_US);
	assert_int_equal(s[2].kind, SAMPLE_OFFLINE);
	assert_int_equal(s[2].ts_us, T2030_US);

	frozen_advance(&r.f, 240 * MS); /* the first back-off: 160..240 ms */
	wait_polls(r.p, 2);
	take(&r, s, 2);
	assert_int_equal(s[0].quality, QUALITY_CONNECT);
	assert_int_equal(s[0].ts_us, T2030_US + 240 * MS);

	frozen_advance(&r.f, 480 * MS); /* the second: 320..480 ms */
	wait_polls(r.p, 3);
	take(&r, s, 2);
	assert_int_equal(s[1].ts_us, T2030_US + 720 * MS);

	rig_down(&r, &st);
	assert_int_equal(st.late, 0);
	/* each retry started at most 80 ms and 160 ms after it was due */
	assert_true(poller_jitter_quantile(&st, 1.0) <= 1ULL << 18);
}

static rlim_t soft_nofile(void)
{
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	return rl.rlim_cur;
}

static void set_soft_nofile(rlim_t n)
{
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = n;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

/* The descriptors of the buses: the soft limit goes to FD_SETSIZE (up
 * from below, down from above: libmodbus's select() aborts on a
 * descriptor of 1024 or more), and a config with more buses than fit
 * under it is refused with the figures. Needs a hard limit >= FD_SETSIZE
 * (Linux's default is far above). */
static void buses_fit_under_the_descriptor_limit(void **state)
{
	struct rlimit rl;
	char msg[320];

	(void)state;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < FD_SETSIZE)
		skip();
	rlim_t was = rl.rlim_cur;

	set_soft_nofile(64);
	assert_int_equal(bus_fd_budget(1000, msg, sizeof(msg)), 0);
	assert_int_equal(soft_nofile(), FD_SETSIZE);
	assert_non_null(strstr(msg, "from 64 to 1024"));

	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > FD_SETSIZE) {
		set_soft_nofile(FD_SETSIZE + 1);
		assert_int_equal(bus_fd_budget(2, msg, sizeof(msg)), 0);
		assert_int_equal(soft_nofile(), FD_SETSIZE);
		assert_non_null(strstr(msg, "select()"));
	}

	assert_int_equal(
	        bus_fd_budget(FD_SETSIZE - BUS_FD_RESERVE, msg, sizeof(msg)),
	        0);
	assert_string_equal(msg, ""); /* nothing to change */
	assert_int_equal(bus_fd_budget(FD_SETSIZE - BUS_FD_RESERVE + 1, msg,
	                               sizeof(msg)),
	                 -1);
	assert_non_null(strstr(msg, "1009 buses are too many: at most 1008"));
	set_soft_nofile(was);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(readings_carry_the_clocks_utc_time,
	                                  h_teardown),
	        cmocka_unit_test_teardown(the_schedule_runs_on_the_clock,
	                                  h_teardown),
	        cmocka_unit_test_teardown(back_off_runs_on_the_clock,
	                                  h_teardown),
	        cmocka_unit_test(buses_fit_under_the_descriptor_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
