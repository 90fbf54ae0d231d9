/*
 * poller_int.h - the inside of a poller, shared by poller.c (the thread
 * per bus: RTU lines) and mux.c (the TCP buses, many to a thread), as
 * SQLite's btreeInt.h is to btree.c: not for anyone else.
 *
 * One piece of code for one piece of logic: how a poll's block reads are
 * recorded, how a poll ends (samples, state events, the queue, the next
 * due time, the counters) is poller.c's, whichever thread drives the bus.
 */
#ifndef METROLOG_POLLER_INT_H
#define METROLOG_POLLER_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "plan.h"
#include "poller.h"

/* INST_UNKNOWN, or the enum sample_kind of the instrument's last event */
enum inst_state_kind {
	INST_UNKNOWN = 0,
	INST_ONLINE = SAMPLE_ONLINE,
	INST_OFFLINE = SAMPLE_OFFLINE,
	INST_FAILING = SAMPLE_FAILING,
};

struct inst {
	const struct cfg_instrument *cfg;
	uint32_t index; /* instrument index in the config */
	struct plan plan;
	uint16_t *words; /* all blocks' registers, block r at base[r] */
	uint16_t *base;
	uint8_t *read_q; /* quality of block r in the current poll */
	uint16_t *read_detail;
	int *channel; /* plan slot i -> channel index in cfg */
	int nslots;
	struct sample *samples; /* nslots readings + 1 event */
	int64_t next_due;       /* the clock's monotonic us */
	int64_t backoff;        /* current back-off, us; 0 when healthy */
	enum inst_state_kind state;
};

struct mux;

/* What a mux thread keeps of one bus (mux.c); its thread's alone, but
 * for `leave`, `queued`, `next` and `detached`, under the mux's lock. */
struct mux_bus {
	struct mux *mux;
	struct poller *next; /* in the mux's inbox */
	bool queued;         /* in the inbox */
	bool leave;          /* poller_stop() asked */
	bool attached;       /* the thread serves it */
	bool detached;       /* the thread let it go */
	int state;           /* enum in mux.c */
	int heap;            /* which heap holds it, -1 none */
	int hpos;            /* its place there */
	int64_t hkey;        /* its key there */
	bool stirred;        /* its socket said something while idle */
	bool ended;          /* the peer hung up or reset: no more bytes */
	/* the poll under way */
	struct inst *in;
	int read; /* block read under way */
	int ok;
	uint64_t sent;
	int64_t ts;
};

struct poller {
	const struct config *cfg;
	const struct cfg_bus *bus_cfg;
	const struct mclock *clk;
	struct bus *bus;
	struct queue *q;
	struct inst *insts;
	int ninsts;
	int64_t silence_us;        /* RTU: pause between two transactions */
	uint64_t dropped_unlogged; /* samples the queue dropped, not logged yet
	                            */
	int64_t next_drop_log;     /* the clock's monotonic us */
	uint64_t rng;
	bool bus_down; /* the bus could not be opened or connected: logged */
	pthread_t thread;
	bool started; /* its own thread runs */
	bool muxed;   /* a mux thread serves it */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	struct poller_stats stats;
	struct mux_bus m;
};

/* The instrument due first. */
struct inst *poller_next_inst(struct poller *p);

/* A poll of in starts: its jitter (now minus its due time) counted. */
void poller_note_start(struct poller *p, const struct inst *in, int64_t now);

/* Block read r of in ended with rc (0 or -1, bus_last_error()): record
 * it. Returns 1 to go on with the next block, 0 when the poll's reads end
 * here (a timeout or a lost connection: the rest are given the same
 * failure), -1 when a stop cut the poll short. */
int poller_read_done(struct poller *p, struct inst *in, int r, int rc);

/* The poll of in that started at UTC ts ended, ok of its `sent` block
 * reads good: push its samples (and a state event), schedule the next,
 * count it. */
void poller_poll_end(struct poller *p, struct inst *in, int64_t ts, int ok,
                     uint64_t sent);

/* mux.c: hand TCP poller p (its instruments planned) to a mux thread of
 * its clock. Returns 0, or -1 with a log line. */
int mux_attach(struct poller *p);

/* mux.c: take p back; the request in flight is dropped, a poll under way
 * pushes nothing. Returns once the mux thread no longer touches p. */
void mux_detach(struct poller *p);

#endif
