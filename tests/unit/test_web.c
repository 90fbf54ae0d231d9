/*
 * test_web.c - the parts of metrolog-web that decide without a network:
 * sessions and the login rate limit on a clock the test drives
 * (web/session.c), escaping and the choice of language (web/page.c), and
 * the events between two snapshots of the board (web/board.c), the
 * live board following commits to a real database file (web/live.c), and
 * read whole when rows it had not read were deleted after their move,
 * what the verification page accepts (web/verify.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth.h"
#include "board.h"
#include "config.h"
#include "decode.h"
#include "fakeclock.h"
#include "labtime.h"
#include "live.h"
#include "page.h"
#include "sample.h"
#include "session.h"
#include "store.h"
#include "verify.h"

#define SEC 1000000LL

static struct fake_clock fc;
static struct mclock clk;

static int setup(void **state)
{
	(void)state;
	fc = (struct fake_clock){.real = 1796500000 * SEC, .mono = 1000 * SEC};
	clk = fake_clock_of(&fc);
	return auth_init();
}

static void test_session_life(void **state)
{
	struct sessions *s = sessions_new(&clk);
	struct session a, b, got;

	(void)state;
	assert_non_null(s);
	sessions_create(s, "tech", "technician", "", "$argon2id$h", &a);
	sessions_create(s, "tech", "technician", "", "$argon2id$h", &b);
	assert_int_equal(strlen(a.id), 64);
	assert_string_not_equal(a.id, b.id); /* a new id each login */
	assert_string_not_equal(a.id, a.csrf);
	assert_int_equal(sessions_find(s, a.id, &got), 0);
	assert_string_equal(got.user, "tech");
	assert_string_equal(got.csrf, a.csrf);
	assert_int_equal(sessions_find(s, "", &got), -1);
	assert_int_equal(sessions_find(s, "abc", &got), -1);
	char other[AUTH_TOKEN_SIZE];
	auth_token(other, sizeof(other));
	assert_int_equal(sessions_find(s, other, &got), -1);

	/* idle: 8 h without a request ends it; a request starts it again */
	fc.mono += SESSION_IDLE_US - SEC;
	assert_int_equal(sessions_find(s, a.id, &got), 0);
	fc.mono += SESSION_IDLE_US - SEC;
	assert_int_equal(sessions_find(s, a.id, &got), 0);
	assert_false(sessions_alive(s, b.id)); /* b was idle all along */
	assert_int_equal(sessions_find(s, b.id, &got), -1);
	/* 24 h after its login, even in use */
	fc.mono += SESSION_MAX_US - 2 * (SESSION_IDLE_US - SEC);
	assert_int_equal(sessions_find(s, a.id, &got), -1);
	assert_int_equal(sessions_count(s), 0);

	sessions_create(s, "m", "manager", "", "$h", &a);
	assert_true(sessions_alive(s, a.id));
	sessions_end(s, a.id);
	assert_false(sessions_alive(s, a.id));
	sessions_free(s);
}

static bool keep_not_tech(void *ctx, const struct session *e)
{
	(*(int *)ctx)++;
	return strcmp(e->user, "tech") != 0;
}

static void test_session_sweep_and_full(void **state)
{
	struct sessions *s = sessions_new(&clk);
	struct session a, b, first, got;
	int asked = 0;

	(void)state;
	sessions_create(s, "tech", "technician", "", "$h", &a);
	sessions_create(s, "qm", "enterprise", "ACME", "$h", &b);
	sessions_sweep(s, keep_not_tech, &asked);
	assert_int_equal(asked, 2);
	assert_false(sessions_alive(s, a.id));
	assert_true(sessions_alive(s, b.id));
	sessions_end(s, b.id);

	/* full: the one idle longest ends */
	sessions_create(s, "u0", "technician", "", "$h", &first);
	for (int i = 1; i < SESSION_MAX; i++) {
		fc.mono += 1;
		sessions_create(s, "u", "technician", "", "$h", &a);
	}
	assert_int_equal(sessions_count(s), SESSION_MAX);
	fc.mono += 1;
	sessions_create(s, "new", "technician", "", "$h", &a);
	assert_int_equal(sessions_count(s), SESSION_MAX);
	assert_int_equal(sessions_find(s, first.id, &got), -1);
	assert_int_equal(sessions_find(s, a.id, &got), 0);
	sessions_free(s);
}

static void test_rate_limit(void **state)
{
	struct sessions *s = sessions_new(&clk);
	int retry = 0;

	(void)state;
	for (int i = 0; i < SESSION_FAILS; i++) {
		assert_int_equal(sessions_login_allowed(s, "10.0.0.1", &retry),
		                 0);
		sessions_login_result(s, "10.0.0.1", false);
		fc.mono += SEC;
	}
	assert_int_equal(sessions_login_allowed(s, "10.0.0.1", &retry), -1);
	/* the window began at the first failure, 5 s ago */
	assert_int_equal(retry, 55);
	/* another address is not held back */
	assert_int_equal(sessions_login_allowed(s, "10.0.0.2", &retry), 0);
	fc.mono += 54 * SEC;
	assert_int_equal(sessions_login_allowed(s, "10.0.0.1", &retry), -1);
	assert_int_equal(retry, 1);
	fc.mono += SEC;
	assert_int_equal(sessions_login_allowed(s, "10.0.0.1", &retry), 0);

	/* a good login forgets the failures */
	for (int i = 0; i < SESSION_FAILS - 1; i++)
		sessions_login_result(s, "10.0.0.3", false);
	sessions_login_result(s, "10.0.0.3", true);
	sessions_login_result(s, "10.0.0.3", false);
	assert_int_equal(sessions_login_allowed(s, "10.0.0.3", &retry), 0);

	/* more addresses than remembered: the oldest go, nothing breaks */
	char addr[32];
	for (int i = 0; i < SESSION_ADDRS + 10; i++) {
		snprintf(addr, sizeof(addr), "10.1.%d.%d", i / 256, i % 256);
		sessions_login_result(s, addr, false);
		fc.mono += 1;
	}
	for (int i = 0; i < SESSION_FAILS; i++)
		sessions_login_result(s, "10.9.9.9", false);
	assert_int_equal(sessions_login_allowed(s, "10.9.9.9", &retry), -1);
	sessions_free(s);
}

static void test_escaping(void **state)
{
	struct sbuf b = {0};
	char *t;

	(void)state;
	sb_html(&b, "<a href=\"x\">'&'</a>");
	assert_string_equal(b.p, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;"
	                         "&lt;/a&gt;");
	sb_free(&b);
	sb_html(&b, "plain Tiếng Việt");
	assert_string_equal(b.p, "plain Tiếng Việt");
	sb_free(&b);
	sb_json(&b, "a\"b\\c</script>\n&");
	assert_string_equal(b.p, "\"a\\u0022b\\u005cc\\u003c/script\\u003e"
	                         "\\u000a\\u0026\"");
	sb_printf(&b, "%d%s", 42, "!");
	t = sb_take(&b);
	assert_non_null(strstr(t, "42!"));
	assert_null(b.p);
	free(t);
}

static void test_lang(void **state)
{
	(void)state;
	assert_int_equal(lang_pick(NULL, NULL), LANG_EN);
	assert_int_equal(lang_pick("vi", "en"), LANG_VI);
	assert_int_equal(lang_pick("en", "vi"), LANG_EN);
	assert_int_equal(lang_pick("xx", "vi"), LANG_VI); /* cookie unknown */
	assert_int_equal(lang_pick("vi-VN", "en"), LANG_EN);
	assert_int_equal(lang_pick(NULL, "vi-VN,vi;q=0.9,en;q=0.8"), LANG_VI);
	assert_int_equal(lang_pick(NULL, "en;q=0.5, vi;q=0.9"), LANG_VI);
	assert_int_equal(lang_pick(NULL, "fr, de;q=0.9"), LANG_EN);
	assert_int_equal(lang_pick(NULL, "fr, vi ; q=0.1"), LANG_VI);
	assert_int_equal(lang_pick(NULL, "vietnamese"), LANG_EN);
	assert_int_equal(lang_pick(NULL, "EN-gb"), LANG_EN);
	assert_string_equal(tr(LANG_VI, M_STATE_OUT), "ngoài dung sai");
	assert_string_equal(tr_state(LANG_EN, "warning"), "warning");
	assert_string_equal(tr_state(LANG_EN, ""), "no tolerance set");
	assert_string_equal(tr_link(LANG_VI, "offline"), "mất kết nối");
	assert_string_equal(tr_due(LANG_EN, "due_soon"), "due soon");
	for (int l = 0; l < LANGS; l++)
		for (int m = 0; m < M_MSGS; m++)
			assert_string_not_equal(tr((enum lang)l, (enum msg)m),
			                        "?");
}

static void test_age(void **state)
{
	char buf[32];
	const struct {
		int64_t us;
		const char *want;
	} cases[] = {
	        {-5 * SEC, "0 s"},       {0, "0 s"},
	        {119 * SEC, "119 s"},    {120 * SEC, "2 min"},
	        {7199 * SEC, "119 min"}, {7200 * SEC, "2 h"},
	        {172799 * SEC, "47 h"},  {172800 * SEC, "2 d"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		page_age(cases[i].us, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].want);
	}
}

/* A snapshot of one instrument with n channels, ids 10, 11, ... */
static struct board_snap *snap_of(size_t n, const char *value)
{
	struct board_snap *s = calloc(1, sizeof(*s));

	s->refs = 1;
	s->now_us = fc.real;
	s->inst = calloc(1, sizeof(*s->inst));
	s->ninst = 1;
	s->inst[0] = (struct board_inst){.id = 1,
	                                 .name = "TB-01",
	                                 .link = "online",
	                                 .due = "ok",
	                                 .due_date = "2027-01-01",
	                                 .nchan = n};
	s->chan = calloc(n, sizeof(*s->chan));
	s->nchan = n;
	for (size_t k = 0; k < n; k++) {
		s->chan[k].id = 10 + (int64_t)k;
		snprintf(s->chan[k].value, sizeof(s->chan[k].value), "%s",
		         value);
		s->chan[k].last_us = fc.real - SEC;
		snprintf(s->chan[k].state, sizeof(s->chan[k].state), "%s",
		         "in_tolerance");
	}
	return s;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* How many channels a "chs" event lists with id (an item "[id,"). */
static int items(const char *text, int64_t id)
{
	char key[32];

	snprintf(key, sizeof(key), "[%lld,", (long long)id);
	return text != NULL ? count(text, key) : 0;
}

static void test_board_events(void **state)
{
	struct board_snap *a = snap_of(3, "20.5"), *b = snap_of(3, "20.5"),
	                  *c = snap_of(4, "20.5");
	struct sbuf out = {0};

	(void)state;
	board_events(&out, NULL, a, LANG_EN); /* a new stream: everything */
	assert_int_equal(count(out.p, "event: chs\n"), 1);
	assert_int_equal(items(out.p, 10) + items(out.p, 11) + items(out.p, 12),
	                 3);
	assert_int_equal(count(out.p, "event: inst\n"), 1);
	sb_free(&out);
	board_events(&out, a, b, LANG_EN); /* nothing changed */
	assert_null(out.p);

	b->chan[1].last_us += SEC; /* a new reading, same value */
	snprintf(b->chan[2].state, sizeof(b->chan[2].state), "warning");
	snprintf(b->inst[0].link, sizeof(b->inst[0].link), "offline");
	board_events(&out, a, b, LANG_VI);
	assert_int_equal(count(out.p, "event: chs\n"), 1);
	assert_int_equal(items(out.p, 11), 1);
	assert_int_equal(items(out.p, 12), 1);
	assert_non_null(strstr(out.p, "\"st-warn\",\"cảnh báo\""));
	assert_non_null(
	        strstr(out.p, "\"lc\":\"offline\",\"l\":\"mất kết nối\""));
	assert_int_equal(items(out.p, 10), 0);
	sb_free(&out);

	board_events(&out, a, c, LANG_EN); /* a channel added */
	assert_string_equal(out.p, "event: reload\ndata: {}\n\n");
	sb_free(&out);

	/* a hostile value stays inert in JSON */
	snprintf(b->chan[0].value, sizeof(b->chan[0].value), "</script>");
	b->chan[0].last_us += SEC;
	board_events(&out, a, b, LANG_EN);
	assert_null(strstr(out.p, "</script>"));
	assert_non_null(strstr(out.p, "\\u003c/script\\u003e"));
	sb_free(&out);
	board_free(a);
	board_free(b);
	board_free(c);
}

/* board_diff() and board_delta(): a snapshot's events from the one
 * before are drawn once per language, the same bytes for every caller,
 * and are exactly board_events() from that one; "chs" events hold at
 * most BOARD_CHS_MAX channels, each channel once. */
static void test_board_delta_shared(void **state)
{
	size_t n = 2 * BOARD_CHS_MAX + 5;
	struct board_snap *a = snap_of(n, "20.5"), *b = snap_of(n, "20.5");
	struct sbuf own = {0};
	const char *p, *again;
	size_t len, len2;

	(void)state;
	a->gen = 7;
	assert_int_equal(board_diff(a, NULL), 0); /* everything */
	assert_int_equal(board_delta(a, LANG_EN, &p, &len), 0);
	assert_int_equal(count(p, "event: chs\n"), 3);
	for (size_t k = 0; k < n; k++)
		assert_int_equal(items(p, 10 + (int64_t)k), 1);

	b->chan[3].last_us += SEC;
	snprintf(b->chan[n - 1].value, sizeof(b->chan[0].value), "21");
	assert_int_equal(board_diff(b, a), 0);
	assert_int_equal(b->prev_gen, 7);
	assert_int_equal(board_delta(b, LANG_EN, &p, &len), 0);
	assert_int_equal(board_delta(b, LANG_EN, &again, &len2), 0);
	assert_ptr_equal(p, again); /* drawn once */
	assert_int_equal(len, len2);
	board_events(&own, a, b, LANG_EN);
	assert_int_equal(len, own.len);
	assert_memory_equal(p, own.p, len); /* what a stream's own diff says */
	assert_int_equal(count(p, "event: chs\n"), 1);
	assert_int_equal(items(p, 13), 1);
	assert_int_equal(items(p, 10 + (int64_t)n - 1), 1);
	assert_int_equal(items(p, 10), 0);
	assert_int_equal(board_delta(b, LANG_VI, &again, &len2), 0);
	assert_ptr_not_equal(p, again); /* its own text in Vietnamese */
	sb_free(&own);

	struct board_snap *same = snap_of(n, "20.5");
	assert_int_equal(board_diff(same, a), 0);
	assert_int_equal(board_delta(same, LANG_EN, &p, &len), 0);
	assert_int_equal(len, 0); /* nothing differs: nothing to send */
	board_free(same);
	board_free(a);
	board_free(b);
}

/* The lab's time of each channel in a "chs" event is labtime_format()'s,
 * also around a change of offset inside an hour (Adelaide: +09:30 to
 * +10:30 at 16:30 UTC, 2026-10-03) and an hour apart. */
static void test_board_lab_time(void **state)
{
	const int64_t at = 1791045000 * SEC; /* the change */
	const int64_t when[] = {
	        at - 3600 * SEC, at - 1800 * SEC, at - SEC,        at,
	        at + SEC,        at + 1200 * SEC, at + 7200 * SEC, at - SEC};
	size_t n = sizeof(when) / sizeof(when[0]);
	struct board_snap *s = snap_of(n, "1");
	struct sbuf out = {0};
	char want[64], key[96];

	(void)state;
	assert_int_equal(labtime_use_zone("Australia/Adelaide"), 0);
	for (size_t k = 0; k < n; k++)
		s->chan[k].last_us = when[k];
	board_events(&out, NULL, s, LANG_EN);
	for (size_t k = 0; k < n; k++) {
		labtime_format(when[k], 0, want, sizeof(want));
		snprintf(key, sizeof(key), ",\"%s\"]", want);
		assert_non_null(strstr(out.p, key));
	}
	assert_non_null(strstr(out.p, "T03:00:00+10:30\"]"));
	assert_non_null(strstr(out.p, "T01:59:59+09:30\"]"));
	sb_free(&out);
	board_free(s);
	assert_int_equal(labtime_use_zone("UTC"), 0);
}

/* ---- the live board on a real database (web/live.c) -------------------- */

/* A database at path with instrument TB-01 and channels a, b, c (indexes
 * 0, 1, 2), as metrologd makes it; its store, still open. */
static struct store *lab_db(const char *path)
{
	static char *names[] = {"a", "b", "c"};
	struct cfg_channel ch[3];
	struct cfg_instrument in = {.id = "TB-01",
	                            .model = "",
	                            .serial = "",
	                            .owner = "",
	                            .location = "",
	                            .interval_ms = 1000,
	                            .channels = ch,
	                            .nchannels = 3};
	struct config c = {
	        .instruments = &in, .ninstruments = 1, .nchannels = 3};
	char err[512];
	struct store *st = store_open(path, err, sizeof(err));

	assert_non_null(st);
	memset(ch, 0, sizeof(ch));
	for (int k = 0; k < 3; k++) {
		ch[k].name = names[k];
		ch[k].unit = "degC";
		ch[k].address = (uint16_t)(2 * k);
		decode_spec_init(&ch[k].spec, DECODE_FLOAT32);
		ch[k].index = (uint32_t)k;
	}
	assert_int_equal(store_sync_config(st, &c), 0);
	return st;
}

static void commit(struct store *st, uint32_t channel, int64_t ts_us, double v)
{
	struct sample s = {.ts_us = ts_us,
	                   .index = channel,
	                   .kind = SAMPLE_READING,
	                   .value = v};

	assert_int_equal(store_append(st, &s, 1), 0);
}

/* The next snapshot after *gen, waited for (at most 30 s). */
static struct board_snap *next_snap(struct live *l, uint64_t *gen)
{
	bool stopping;
	struct board_snap *s = live_next(l, gen, 30 * SEC, &stopping);

	assert_non_null(s);
	return s;
}

/* The value a "chs" item of channel id says, into buf. */
static void item_value(const char *text, int64_t id, char *buf, size_t size)
{
	char key[32];
	const char *p;

	snprintf(key, sizeof(key), "[%lld,", (long long)id);
	p = strstr(text, key);
	assert_non_null(p);
	p = strchr(p, '"');
	assert_non_null(p);
	snprintf(buf, size, "%.*s", (int)strcspn(p + 1, "\""), p + 1);
}

/* live.c follows the commits: a snapshot's shared events list every
 * channel a commit changed exactly once, with its newest value, and no
 * other; a stream that missed snapshots gets, from the one its page
 * shows, a correct picture of the newest; an event (an instrument
 * offline) is read too, the readings kept. The clock's monotonic time stands
 * still: no periodic whole read muddles the snapshots. */
static void test_live_follows_commits(void **state)
{
	char dir[] = "/tmp/test_web_live.XXXXXX", path[128], err[256], v[32];
	int64_t t = fc.real - 10 * SEC, id[3];
	uint64_t gen = 0;
	struct sbuf out = {0};
	const char *p;
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/metrolog.db", dir);
	struct store *st = lab_db(path);
	struct live *l =
	        live_start(path, &clk, 10000, NULL, NULL, err, sizeof(err));
	assert_non_null(l);
	struct board_snap *s1 = next_snap(l, &gen);
	assert_int_equal(s1->nchan, 3);
	for (int k = 0; k < 3; k++)
		id[k] = s1->chan[k].id; /* a, b, c by name */

	/* one commit: a twice (the newer by time wins), b once */
	struct sample two[] = {
	        {.ts_us = t + SEC, .index = 0, .value = 2.5},
	        {.ts_us = t, .index = 0, .value = 1.5}, /* older, later */
	        {.ts_us = t, .index = 1, .value = 7},
	};
	assert_int_equal(store_append(st, two, 3), 0);
	struct board_snap *s2 = next_snap(l, &gen);
	assert_int_equal(s2->prev_gen, s1->gen);
	assert_int_equal(board_delta(s2, LANG_EN, &p, &len), 0);
	assert_int_equal(items(p, id[0]), 1);
	assert_int_equal(items(p, id[1]), 1);
	assert_int_equal(items(p, id[2]), 0);
	item_value(p, id[0], v, sizeof(v));
	assert_string_equal(v, "2.5");

	/* two more commits, seen one by one; a stream at s2 misses them */
	commit(st, 2, t + 2 * SEC, 3.25);
	struct board_snap *s3 = next_snap(l, &gen);
	commit(st, 0, t + 3 * SEC, 4);
	struct board_snap *s4 = next_snap(l, &gen);
	assert_int_equal(s4->prev_gen, s3->gen);
	board_events(&out, s2, s4, LANG_EN); /* the one behind */
	assert_int_equal(items(out.p, id[0]), 1);
	assert_int_equal(items(out.p, id[1]), 0);
	assert_int_equal(items(out.p, id[2]), 1);
	item_value(out.p, id[0], v, sizeof(v));
	assert_string_equal(v, "4");
	item_value(out.p, id[2], v, sizeof(v));
	assert_string_equal(v, "3.25");
	sb_free(&out);
	board_events(&out, NULL, s4, LANG_EN); /* a new stream */
	for (int k = 0; k < 3; k++)
		assert_int_equal(items(out.p, id[k]), 1);
	item_value(out.p, id[1], v, sizeof(v));
	assert_string_equal(v, "7");
	sb_free(&out);

	/* an event and a reading in one commit: the states read again, the
	 * readings kept and followed (b's new one the only channel sent) */
	struct sample off[] = {{.ts_us = t + 4 * SEC,
	                        .index = 0,
	                        .kind = SAMPLE_OFFLINE,
	                        .quality = QUALITY_TIMEOUT},
	                       {.ts_us = t + 4 * SEC, .index = 1, .value = 8}};
	assert_int_equal(store_append(st, off, 2), 0);
	struct board_snap *s5 = next_snap(l, &gen);
	assert_int_equal(board_delta(s5, LANG_EN, &p, &len), 0);
	assert_non_null(strstr(p, "event: inst\n"));
	assert_non_null(strstr(p, "\"lc\":\"offline\""));
	assert_int_equal(items(p, id[0]), 0);
	assert_int_equal(items(p, id[1]), 1);
	assert_int_equal(items(p, id[2]), 0);
	board_events(&out, NULL, s5, LANG_EN);
	item_value(out.p, id[0], v, sizeof(v));
	assert_string_equal(v, "4");
	item_value(out.p, id[1], v, sizeof(v));
	assert_string_equal(v, "8");
	sb_free(&out);

	struct board_snap *all[] = {s1, s2, s3, s4, s5};
	for (size_t k = 0; k < 5; k++)
		live_release(l, all[k]);
	live_free(l);
	store_close(st);
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* The live board after a move deleted rows it had not read yet: b's newer
 * reading committed, then a's, then every row moved into the archive and
 * deleted but the newest (a's), all between two polls of the live thread
 * (a poll every 300 ms; when it polls in between, it reads b's row
 * itself): b's newer value is still on the board (read whole, from the
 * archive), not the one it showed before. */
static void test_live_rows_gone(void **state)
{
	char dir[] = "/tmp/test_web_gone.XXXXXX", path[128], err[256], v[32];
	int64_t t = fc.real - 10 * SEC, a, b;
	uint64_t gen = 0;
	struct sbuf out = {0};

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/metrolog.db", dir);
	struct store *st = lab_db(path);
	commit(st, 1, t, 7);
	struct live *l =
	        live_start(path, &clk, 300000, NULL, NULL, err, sizeof(err));
	assert_non_null(l);
	struct board_snap *s = next_snap(l, &gen);
	a = s->chan[0].id;
	b = s->chan[1].id;
	live_release(l, s);
	/* a commit the thread reads by rowid, then the three */
	commit(st, 2, t, 1);
	live_release(l, next_snap(l, &gen));
	commit(st, 1, t + SEC, 9);
	commit(st, 0, t + SEC, 4);
	assert_int_equal(store_archive_all(st), 0);
	for (v[0] = 0; strcmp(v, "4") != 0;) { /* until a's reading is on */
		s = next_snap(l, &gen);
		sb_free(&out);
		board_events(&out, NULL, s, LANG_EN);
		if (items(out.p, a) == 1)
			item_value(out.p, a, v, sizeof(v));
		live_release(l, s);
	}
	item_value(out.p, b, v, sizeof(v));
	assert_string_equal(v, "9");
	sb_free(&out);
	live_free(l);
	store_close(st);
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* An instrument's block alone (its page): the board's cells and ids,
 * without its heading; an instrument not on the board: 1, nothing. */
static void test_board_instrument(void **state)
{
	struct board_snap *s = snap_of(2, "20.5");
	struct sbuf b = {0};

	(void)state;
	assert_int_equal(board_instrument_html(&b, s, 2, s->now_us, LANG_EN),
	                 1);
	assert_int_equal(b.len, 0);
	assert_int_equal(board_instrument_html(&b, s, 1, s->now_us, LANG_EN),
	                 0);
	assert_int_equal(count(b.p, "<tr id=\"c1"), 2);
	assert_non_null(strstr(b.p, "id=\"live\""));
	assert_non_null(strstr(b.p, "id=\"i1-link\" class=\"link "
	                            "link-online\">online<"));
	assert_null(strstr(b.p, "<h2>"));
	assert_null(strstr(b.p, "a class=\"open\""));
	sb_free(&b);
	/* on the board: the heading and the link to its page */
	board_html(&b, s, s->now_us, LANG_VI);
	assert_non_null(strstr(b.p, "<h2>TB-01</h2>"));
	assert_non_null(strstr(b.p, "<a class=\"open\" href=\"/lab/"
	                            "instrument?name=TB-01\">xu hướng, sự "
	                            "kiện, hiệu chuẩn</a>"));
	sb_free(&b);
	board_free(s);
}

/* The words of events' kinds and states, in both languages. */
static void test_event_words(void **state)
{
	(void)state;
	assert_int_equal(PAGE_EVENT_KINDS, 7);
	for (size_t i = 0; i < PAGE_EVENT_KINDS; i++) {
		assert_non_null(tr_event_kind(LANG_EN, page_event_kinds[i]));
		assert_non_null(tr_event_kind(LANG_VI, page_event_kinds[i]));
	}
	assert_string_equal(tr_event_kind(LANG_EN, "trend"), "trend forecast");
	assert_string_equal(tr_event_kind(LANG_VI, "offline"), "mất kết nối");
	assert_null(tr_event_kind(LANG_EN, "Tolerance"));
	assert_null(tr_event_kind(LANG_EN, ""));
	assert_string_equal(tr_event_state(LANG_EN, "tolerance", "warning"),
	                    "warning");
	assert_string_equal(
	        tr_event_state(LANG_VI, "tolerance", "out_of_tolerance"),
	        "ngoài dung sai");
	assert_string_equal(tr_event_state(LANG_EN, "calibration", "due_soon"),
	                    "due soon");
	assert_string_equal(tr_event_state(LANG_VI, "calibration", "overdue"),
	                    "quá hạn");
	assert_string_equal(tr_event_state(LANG_EN, "tolerance", ""), "");
	/* every message has both languages */
	for (int m = 0; m < M_MSGS; m++) {
		assert_string_not_equal(tr(LANG_EN, (enum msg)m), "?");
		assert_string_not_equal(tr(LANG_VI, (enum msg)m), "?");
	}
}

/* What /verify accepts: a QR text, or a number and 64 hex digits. */
static void test_verify_input(void **state)
{
	char cert[CALIB_ID], hash[CALIB_HASH], hex[80], qr[256];

	(void)state;
	memset(hex, 'A', 64);
	hex[64] = '\0';
	assert_int_equal(verify_input(NULL, "C-2026/001", hex, cert, hash), 0);
	assert_string_equal(cert, "C-2026/001");
	assert_int_equal(strlen(hash), 64);
	assert_int_equal(hash[0], 'a'); /* lower case */
	snprintf(qr, sizeof(qr), "metrolog:cert=X.1;id=7;hash=%s", hex);
	assert_int_equal(verify_input(qr, "ignored", "ignored", cert, hash), 0);
	assert_string_equal(cert, "X.1");
	/* refused: nothing, a short or long or non-hex hash, a number with
	 * a character no number has, an empty one, a text that is not a QR */
	assert_int_equal(verify_input(NULL, NULL, NULL, cert, hash), -1);
	assert_int_equal(verify_input(NULL, "C-1", NULL, cert, hash), -1);
	assert_int_equal(verify_input(NULL, "C-1", "abc", cert, hash), -1);
	hex[63] = 'g';
	assert_int_equal(verify_input(NULL, "C-1", hex, cert, hash), -1);
	hex[63] = 'a';
	assert_int_equal(verify_input(NULL, "C 1", hex, cert, hash), -1);
	assert_int_equal(verify_input(NULL, "C<1", hex, cert, hash), -1);
	assert_int_equal(verify_input(NULL, "", hex, cert, hash), -1);
	strcat(hex, "0");
	assert_int_equal(verify_input(NULL, "C-1", hex, cert, hash), -1);
	assert_int_equal(verify_input("cert=X;hash=00", NULL, NULL, cert, hash),
	                 -1);
	snprintf(qr, sizeof(qr), "metrolog:cert=;hash=%.64s", hex);
	assert_int_equal(verify_input(qr, NULL, NULL, cert, hash), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_session_life),
	        cmocka_unit_test(test_session_sweep_and_full),
	        cmocka_unit_test(test_rate_limit),
	        cmocka_unit_test(test_escaping),
	        cmocka_unit_test(test_lang),
	        cmocka_unit_test(test_age),
	        cmocka_unit_test(test_board_events),
	        cmocka_unit_test(test_board_instrument),
	        cmocka_unit_test(test_event_words),
	        cmocka_unit_test(test_board_delta_shared),
	        cmocka_unit_test(test_board_lab_time),
	        cmocka_unit_test(test_live_follows_commits),
	        cmocka_unit_test(test_live_rows_gone),
	        cmocka_unit_test(test_verify_input),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
