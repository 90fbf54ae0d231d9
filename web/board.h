/*
 * board.h - the technicians' board: every polled instrument with its link
 * state and calibration due state, each channel's last value with unit,
 * age and tolerance state; as a snapshot read from the database, as HTML,
 * and as the Server-Sent Events that take a browser from one snapshot to
 * the next (docs/WEB.md, "The board" and "Live updates").
 *
 * A snapshot is read whole through query.h (board_read: query_instruments,
 * query_channels), or made from the one before it and the readings
 * committed since (board_copy, then board_follow: query_recent_after).
 * board_diff() then records what differs from the one before, and
 * board_delta() draws that as events once per language, the same bytes
 * for every /events stream that shows the one before.
 *
 * Threading: a snapshot being made belongs to its maker; once published
 * (live.c shares one among every /events connection and page, refs
 * counted under live.c's lock) only read, but for board_delta(), which
 * draws under the snapshot's own lock.
 */
#ifndef METROLOG_WEB_BOARD_H
#define METROLOG_WEB_BOARD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "page.h"

struct query;

/* channels in one "chs" event at most: a line a browser parses at once */
#define BOARD_CHS_MAX 256

struct board_inst {
	int64_t id;
	char name[65];
	char location[256];
	char link[16];       /* "online", "offline", "failing", "" none yet */
	char due[16];        /* calib_due_name(): none, ok, due_soon, overdue */
	char due_date[16];   /* the lab's local date, "" none */
	size_t first, nchan; /* its channels in board_snap.chan */
};

struct board_chan {
	int64_t id;
	char name[256];
	char unit[32];
	bool single;      /* float32 (text_shortest's precision) */
	char value[32];   /* text_shortest of the last good value, "" none */
	char quality[16]; /* quality_name of the last reading, "" none */
	int64_t last_us;  /* the last reading, 0 none */
	char state[24];   /* drift_state_word, "" no tolerance configured */
};

/* What differs between two snapshots, as indexes into the newer one's
 * inst and chan, in order; reload: the instruments or channels themselves
 * differ (then no list). */
struct board_delta {
	bool reload;
	size_t *inst, ninst;
	size_t *chan, nchan;
};

struct board_id {
	int64_t id; /* channels.id */
	size_t k;   /* its index in board_snap.chan */
};

struct board_snap {
	int refs;     /* live.c's */
	uint64_t gen; /* live.c's: 1, 2, ... in the order published */
	int64_t now_us;
	struct board_inst *inst;
	size_t ninst;
	struct board_chan *chan;
	size_t nchan;
	struct board_id *by_id; /* every channel, by channels.id */
	/* board_diff(): what differs from the snapshot numbered prev_gen (0:
	 * none, every instrument and channel listed) */
	uint64_t prev_gen;
	struct board_delta delta;
	/* board_delta()'s text of delta in each language, drawn once */
	pthread_mutex_t lock;
	struct sbuf text[LANGS];
	bool drawn[LANGS];
};

/* Read the board at now_us from q into a new snapshot *out (refs 1).
 * Active polled instruments only, by name, their channels by name.
 * Returns 0, or -1 (query_error(q) says why, or out of memory). */
int board_read(struct query *q, int64_t now_us, struct board_snap **out);
void board_free(struct board_snap *s); /* NULL allowed */

/* As board_read(), but each channel's last reading taken from prev (that
 * of its channel with the same id; none for a new one) instead of read:
 * what changed but readings (links, due and tolerance states, the
 * instruments and channels themselves), at a cost that does not grow
 * with readings_recent. Returns 0 or -1. */
int board_refresh(struct query *q, const struct board_snap *prev,
                  int64_t now_us, struct board_snap **out);

/* A new snapshot *out (refs 1) with the instruments and channels of s and
 * their states, at now_us; nothing of s's delta. Returns 0 or -1 (out of
 * memory). */
int board_copy(const struct board_snap *s, int64_t now_us,
               struct board_snap **out);

/* Apply to s (made by board_copy, not yet published) the readings that
 * readings_recent holds after rowid after (query_recent_after): each
 * channel's last value, quality and time become those of its newest
 * reading, as board_read() would have read them. Readings of channels
 * not on the board are skipped. Returns 0 or -1 (query_error(q)). */
int board_follow(struct query *q, int64_t after, struct board_snap *s);

/* Record in cur what differs from old (NULL: every instrument and
 * channel), the instruments' link and due states, each channel's
 * reading time, value and tolerance state, and old's generation.
 * Before cur is published. Returns 0 or -1 (out of memory). */
int board_diff(struct board_snap *cur, const struct board_snap *old);

/* The board's HTML (inside <main>) in l, every text escaped; ages at
 * now_us. */
void board_html(struct sbuf *b, const struct board_snap *s, int64_t now_us,
                enum lang l);

/* The block of instrument id (instruments.id) alone, for its page: the
 * live line, its link and due states and its channels, with the same
 * element ids as on the board (board.js updates them), ages at now_us.
 * Returns 0, 1 when
 * the board does not show it (a standard, or not polled: nothing
 * written). */
int board_instrument_html(struct sbuf *b, const struct board_snap *s,
                          int64_t id, int64_t now_us, enum lang l);

/* The events that take a page showing old to showing cur, in l: one
 * "inst" event per instrument that differs, then "chs" events of at most
 * BOARD_CHS_MAX channels each listing those that differ (every one when
 * old is NULL), with the server's time; "reload" when the instruments or
 * channels themselves changed (the page is rebuilt). Appends nothing
 * when nothing differs. */
void board_events(struct sbuf *b, const struct board_snap *old,
                  const struct board_snap *cur, enum lang l);

/* board_events() from the snapshot numbered s->prev_gen to s, in l, as
 * board_diff() recorded it: drawn at the first call for l, then the same
 * bytes for every caller until s is freed. *p and *len (NULL and 0 when
 * nothing differs) stay valid while the caller holds s. Any thread.
 * Returns 0, or -1 (out of memory). */
int board_delta(struct board_snap *s, enum lang l, const char **p, size_t *len);

#endif
