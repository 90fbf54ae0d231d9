/*
 * board.h - the technicians' board: every polled instrument with its link
 * state and calibration due state, each channel's last value with unit,
 * age and tolerance state; as a snapshot read from the database, as HTML,
 * and as the Server-Sent Events that take a browser from one snapshot to
 * the next (docs/WEB.md, "The board").
 *
 * A snapshot is read through query.h (query_instruments, query_channels)
 * and is immutable once read: live.c shares one among every /events
 * connection (refs, counted under live.c's lock).
 *
 * Threading: a snapshot being read belongs to its reader; once published
 * only read.
 */
#ifndef METROLOG_WEB_BOARD_H
#define METROLOG_WEB_BOARD_H

#include <stddef.h>
#include <stdint.h>

#include "page.h"

struct query;

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
	char value[32];   /* text_shortest of the last good value, "" none */
	char quality[16]; /* quality_name of the last reading, "" none */
	int64_t last_us;  /* the last reading, 0 none */
	char state[24];   /* drift_state_word, "" no tolerance configured */
};

struct board_snap {
	int refs; /* live.c's */
	int64_t now_us;
	struct board_inst *inst;
	size_t ninst;
	struct board_chan *chan;
	size_t nchan;
};

/* Read the board at now_us from q into a new snapshot *out (refs 1).
 * Active polled instruments only, by name, their channels by name.
 * Returns 0, or -1 (query_error(q) says why, or out of memory). */
int board_read(struct query *q, int64_t now_us, struct board_snap **out);
void board_free(struct board_snap *s); /* NULL allowed */

/* The board's HTML (inside <main>) in l, every text escaped. */
void board_html(struct sbuf *b, const struct board_snap *s, enum lang l);

/* The block of instrument id (instruments.id) alone, for its page: the
 * live line, its link and due states and its channels, with the same
 * element ids as on the board (board.js updates them). Returns 0, 1 when
 * the board does not show it (a standard, or not polled: nothing
 * written). */
int board_instrument_html(struct sbuf *b, const struct board_snap *s,
                          int64_t id, enum lang l);

/* The events that take a page showing old to showing cur, in l: one
 * "inst" event per instrument and one "ch" per channel that differs
 * (every one when old is NULL), each with the server's time; "reload"
 * when the instruments or channels themselves changed (the page is
 * rebuilt). Appends nothing when nothing differs. */
void board_events(struct sbuf *b, const struct board_snap *old,
                  const struct board_snap *cur, enum lang l);

#endif
