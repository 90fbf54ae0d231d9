/*
 * mux.c - the TCP buses' pollers: a few threads, each serving up to
 * MUX_MAX_BUSES buses with one request in flight on each at once.
 *
 * Why: a thread per bus sleeps twice per poll (until the poll is due, then
 * in libmodbus's select() for the reply): at 1 000 TCP instruments at 1 s
 * that was ~2 900 context switches a second, 1 003 threads and 12 MB of
 * their stacks (docs/BENCHMARKS.md, "The lab's load, lever by lever").
 * Here one thread sleeps in epoll_wait() until the first of its buses has
 * something to do (a poll due, a reply, a deadline), does all that is
 * ready, and sleeps again: polls that fall due together, and replies that
 * come together, cost one wake-up.
 *
 * How many threads: MUX_THREADS (2), or one if the machine has one core,
 * each bus to the thread with the fewest, and at most MUX_MAX_BUSES (512)
 * buses to a thread, so that the 1 008 buses metrologd takes at most
 * (bus_fd_budget(): libmodbus's select() takes descriptors below 1 024)
 * make two threads, one per core of the small machines metrologd runs on;
 * a thread costs two descriptors (its epoll and its eventfd), within
 * BUS_FD_RESERVE. A Modbus transaction costs the client ~12 us of CPU, so
 * a thread keeps 512 buses at 10 polls a second each with room to spare,
 * but one thread for all buses makes one core the ceiling: 200 buses of
 * 10 registers every 10 ms (20 000 transactions a second) were polled at
 * 154 000-179 000 readings/s of 200 000 on one thread (docs/BENCHMARKS.md,
 * "End to end").
 * Buses of different clocks (tests) never share a thread: a thread's
 * schedule is in its buses' clock.
 *
 * A bus here is idle (waiting for its next poll: in the `due` heap, keyed
 * by the clock's monotonic time), connecting or waiting for a reply (in the
 * `io` heap, keyed by CLOCK_MONOTONIC: deadlines are real I/O time, as
 * libmodbus's waits were). Its socket is in the thread's epoll set,
 * edge-triggered: a reply is read only once bus_reply_ready() has seen all
 * of it (bus.h), so one slow device never stalls the thread, and a reply
 * not complete by its deadline (timeout_ms after the request) is a timeout
 * as in the thread per bus. Connecting never waits either
 * (bus_connect_start(): a non-blocking connect watched by epoll, the same
 * deadline): a host that answers nothing holds only its own bus.
 *
 * What a poll does, what it pushes, the back-off, lateness, the counters
 * and the events are poller.c's code (poller_int.h), the same as the
 * thread per bus of an RTU line. One difference of means, none of effect:
 * a stop (mux_detach()) drops the request in flight at once (its socket is
 * closed), and the poll cut short pushes nothing, as poller.h says.
 *
 * A full queue with queue_full = "block" holds the whole thread, as it held
 * every poller thread (they all push to the one queue).
 *
 * Threads: the registry (`muxes`, each mux's `nbuses`) is under `reg_mu`,
 * taken by poller_start() and poller_stop() on their callers' threads;
 * each mux's inbox and its buses' `queued`, `leave` and `detached` under
 * the mux's `mu`; everything else of a mux and of its buses is its
 * thread's alone. A poller's counters are under its own `mu`
 * (poller_get_stats()).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mclock.h"
#include "poller_int.h"

#define MUX_MAX_BUSES  512
#define MUX_THREADS    2
#define MUX_EVENTS     128
#define MUX_STACK_SIZE (256 * 1024)
#define MUX_SLACK_US   10000 /* the most a due poll waits for company */
#define MUX_SLACK_DIV  20    /* ... and at most 1/20 of any interval */

enum { MB_IDLE, MB_CONNECTING, MB_WAITING };
enum { HEAP_DUE, HEAP_IO };

/* A binary min-heap of buses by key (their mux_bus's hkey and hpos). */
struct heap {
	struct poller **a;
	int n;
};

struct mux {
	struct mux *next; /* in the registry */
	const struct mclock *clk;
	int nbuses; /* under reg_mu: attached or on their way */
	int epfd, evfd;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct poller *inbox; /* under mu */
	bool quit;            /* under mu */
	struct heap heaps[2]; /* HEAP_DUE, HEAP_IO */
	int64_t slack;        /* us: see wait_ms() */
};

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct mux *muxes;

/* ---- the heaps ----------------------------------------------------------- */

static void heap_set(struct heap *h, int i, struct poller *p)
{
	h->a[i] = p;
	p->m.hpos = i;
}

static void heap_up(struct heap *h, int i)
{
	struct poller *p = h->a[i];

	while (i > 0 && h->a[(i - 1) / 2]->m.hkey > p->m.hkey) {
		heap_set(h, i, h->a[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(h, i, p);
}

static void heap_down(struct heap *h, int i)
{
	struct poller *p = h->a[i];

	for (;;) {
		int c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->a[c + 1]->m.hkey < h->a[c]->m.hkey)
			c++;
		if (h->a[c]->m.hkey >= p->m.hkey)
			break;
		heap_set(h, i, h->a[c]);
		i = c;
	}
	heap_set(h, i, p);
}

/* Put p (in no heap) into heap `which` of m at key. */
static void heap_push(struct mux *m, int which, struct poller *p, int64_t key)
{
	struct heap *h = &m->heaps[which];

	p->m.heap = which;
	p->m.hkey = key;
	h->a[h->n] = p;
	p->m.hpos = h->n++;
	heap_up(h, p->m.hpos);
}

/* Take p out of its heap, if in one. */
static void heap_remove(struct mux *m, struct poller *p)
{
	if (p->m.heap < 0)
		return;
	struct heap *h = &m->heaps[p->m.heap];
	int i = p->m.hpos;
	struct poller *last = h->a[--h->n];

	p->m.heap = -1;
	if (last == p)
		return;
	heap_set(h, i, last);
	heap_up(h, i);
	heap_down(h, last->m.hpos);
}

/* The bus first due in heap `which`, NULL when it is empty. */
static struct poller *heap_top(struct mux *m, int which)
{
	return m->heaps[which].n > 0 ? m->heaps[which].a[0] : NULL;
}

/* ---- one bus ------------------------------------------------------------- */

static int64_t sys_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Watch p's socket for `events` (a new socket, or other events). */
static void watch(struct mux *m, struct poller *p, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = p};
	int fd = bus_socket(p->bus);

	if (fd == -1)
		return;
	if (epoll_ctl(m->epfd, EPOLL_CTL_MOD, fd, &ev) == -1 &&
	    epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		log_warn("bus %s: cannot watch its socket", p->bus_cfg->name);
}

/* Close p's connection (its socket leaves the epoll set with it). */
static void hang_up(struct mux *m, struct poller *p)
{
	int fd = bus_socket(p->bus);

	if (fd != -1)
		epoll_ctl(m->epfd, EPOLL_CTL_DEL, fd, NULL);
	bus_close(p->bus);
}

/* Wait for p's next poll. */
static void go_idle(struct mux *m, struct poller *p)
{
	p->m.state = MB_IDLE;
	p->m.in = poller_next_inst(p);
	heap_push(m, HEAP_DUE, p, p->m.in->next_due);
}

static void start_read(struct mux *m, struct poller *p);
static void send_or_connect(struct mux *m, struct poller *p);

/* Block read m.read of the poll ended with rc: on to the next, or the
 * poll's end. */
static void read_done(struct mux *m, struct poller *p, int rc)
{
	struct inst *in = p->m.in;

	p->m.state = MB_IDLE;
	p->m.ok += rc == 0;
	int go = poller_read_done(p, in, p->m.read, rc);
	if (go == 1 && ++p->m.read < in->plan.nreads) {
		start_read(m, p);
		return;
	}
	if (go != -1)
		poller_poll_end(p, in, p->m.ts, p->m.ok, p->m.sent);
	if (p->bus_cfg->connect_per_poll)
		hang_up(m, p);
	go_idle(m, p);
}

/* The whole reply is there (or the connection ended): read it. */
static void finish(struct mux *m, struct poller *p)
{
	const struct inst *in = p->m.in;

	heap_remove(m, p);
	read_done(m, p, bus_finish(p->bus, in->words + in->base[p->m.read]));
}

/* Can the reply be read without waiting? All of it is there, or the
 * connection ended (a reset after half a reply leaves that half readable:
 * libmodbus reads it, then the end, "Connection reset by peer", as it did
 * when it waited). */
static bool reply_ready(struct poller *p)
{
	return p->m.ended || bus_reply_ready(p->bus);
}

/* Send block read m.read, connected. */
static void send_read(struct mux *m, struct poller *p)
{
	const struct inst *in = p->m.in;
	const struct plan_read *rd = &in->plan.reads[p->m.read];
	int rc = bus_send(p->bus, in->cfg->unit_id, rd->table, rd->address,
	                  rd->count);

	if (rc == 1) {
		send_or_connect(m, p); /* hung up on while flushing */
		return;
	}
	if (rc == -1) {
		read_done(m, p, -1);
		return;
	}
	p->m.state = MB_WAITING;
	heap_push(m, HEAP_IO, p,
	          sys_mono() + (int64_t)p->bus_cfg->params.timeout_ms * 1000);
	if (p->m.stirred) {
		/* the peer spoke or hung up while the bus was idle: no new
		 * edge may come for it, so look now */
		p->m.stirred = false;
		if (reply_ready(p))
			finish(m, p);
	}
}

/* The link is up: watch for replies, and send. */
static void connected(struct mux *m, struct poller *p)
{
	p->m.stirred = false;
	p->m.ended = false;
	watch(m, p, EPOLLIN | EPOLLRDHUP | EPOLLET);
	send_read(m, p);
}

/* Start block read m.read (counted as sent from here, as the thread per
 * bus counts a read that could not connect). */
static void start_read(struct mux *m, struct poller *p)
{
	p->m.sent++;
	send_or_connect(m, p);
}

/* Connect if need be, then send block read m.read. */
static void send_or_connect(struct mux *m, struct poller *p)
{
	if (bus_socket(p->bus) != -1) {
		send_read(m, p);
		return;
	}
	int rc = bus_connect_start(p->bus);
	if (rc == 0) {
		connected(m, p);
	} else if (rc == 1) {
		p->m.state = MB_CONNECTING;
		watch(m, p, EPOLLOUT);
		heap_push(m, HEAP_IO, p,
		          sys_mono() + (int64_t)p->bus_cfg->params.timeout_ms *
		                               1000);
	} else {
		read_done(m, p, -1);
	}
}

/* Its poll is due: start it. */
static void start_poll(struct mux *m, struct poller *p)
{
	struct inst *in = p->m.in;

	poller_note_start(p, in, mclock_mono(p->clk));
	p->m.ts = mclock_real(p->clk);
	p->m.read = 0;
	p->m.ok = 0;
	p->m.sent = 0;
	start_read(m, p);
}

/* Something on p's socket: events (EPOLLIN ...). */
static void on_event(struct mux *m, struct poller *p, uint32_t events)
{
	if (p->m.state != MB_CONNECTING &&
	    (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) != 0)
		p->m.ended = true; /* no more bytes will come */
	switch (p->m.state) {
	case MB_CONNECTING: {
		int rc = bus_connect_end(p->bus);
		if (rc == 1) {
			watch(m, p, EPOLLOUT); /* the host's next address */
			return;
		}
		heap_remove(m, p);
		if (rc == 0)
			connected(m, p);
		else
			read_done(m, p, -1);
		return;
	}
	case MB_WAITING:
		if (reply_ready(p))
			finish(m, p);
		return;
	default:
		p->m.stirred = true; /* looked at with the next request */
		return;
	}
}

/* p's deadline passed. A reply complete in time that this thread, busy or
 * descheduled, saw late is still read (bus_finish() bounds it by
 * BUS_DEADLINE_MARGIN_MS, as bus_read() does). */
static void on_deadline(struct mux *m, struct poller *p)
{
	if (p->m.state == MB_CONNECTING) {
		read_done(m, p, bus_connect_abort(p->bus));
	} else if (reply_ready(p)) {
		finish(m, p);
	} else {
		/* the socket leaves the epoll set as bus_expire() closes it */
		read_done(m, p, bus_expire(p->bus));
	}
}

/* ---- the thread ---------------------------------------------------------- */

/* How long epoll_wait() may sleep: until the first deadline
 * (CLOCK_MONOTONIC) or `slack` after the first due poll (by the clock), in
 * ms rounded up (never early: the schedule is read again on waking), -1
 * when there is none. The slack is a timer's: the polls that fall due
 * within it start together, one wake-up for them all (polls spread over
 * their interval fall due every few hundred microseconds at a lab's load,
 * which woke the thread ~1 000 times a second); a poll starts at most
 * `slack` late (MUX_SLACK_US, and at most 1/MUX_SLACK_DIV of the shortest
 * interval of the thread's buses, so never late for its next one), and its
 * readings carry the time its request was sent. Replies are read as they
 * come. */
static int wait_ms(struct mux *m)
{
	struct poller *due = heap_top(m, HEAP_DUE);
	struct poller *io = heap_top(m, HEAP_IO);
	int64_t left = INT64_MAX;

	if (due != NULL)
		left = due->m.hkey + m->slack - mclock_mono(m->clk);
	if (io != NULL && io->m.hkey - sys_mono() < left)
		left = io->m.hkey - sys_mono();
	if (left == INT64_MAX)
		return -1;
	if (left <= 0)
		return 0;
	return left / 1000 >= INT_MAX ? INT_MAX : (int)((left + 999) / 1000);
}

/* Run every deadline passed and every poll due. */
static void run_timers(struct mux *m)
{
	struct poller *p;
	int64_t now = sys_mono();

	while ((p = heap_top(m, HEAP_IO)) != NULL && p->m.hkey <= now) {
		heap_remove(m, p);
		on_deadline(m, p);
	}
	now = mclock_mono(m->clk);
	while ((p = heap_top(m, HEAP_DUE)) != NULL && p->m.hkey <= now) {
		heap_remove(m, p);
		start_poll(m, p);
	}
}

/* Take in the buses attached and let go of those leaving. Returns true
 * when the thread is to end. */
static bool take_inbox(struct mux *m)
{
	uint64_t n;

	if (read(m->evfd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		log_warn("mux: eventfd");
	pthread_mutex_lock(&m->mu);
	for (struct poller *p = m->inbox, *next; p != NULL; p = next) {
		next = p->m.next;
		p->m.queued = false;
		if (p->m.leave) {
			if (p->m.attached) {
				heap_remove(m, p);
				hang_up(m, p);
				p->m.attached = false;
			}
			p->m.detached = true;
		} else if (!p->m.attached) {
			p->m.attached = true;
			for (int i = 0; i < p->ninsts; i++) {
				int64_t s =
				        (int64_t)p->insts[i].cfg->interval_ms *
				        1000 / MUX_SLACK_DIV;
				if (s < m->slack)
					m->slack = s;
			}
			go_idle(m, p);
		}
	}
	m->inbox = NULL;
	bool quit = m->quit;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
	return quit;
}

static void *mux_main(void *arg)
{
	struct mux *m = arg;
	struct epoll_event ev[MUX_EVENTS];

	log_thread_name("mux");
	for (;;) {
		int n = epoll_wait(m->epfd, ev, MUX_EVENTS, wait_ms(m));
		bool inbox = false;
		if (n == -1 && errno != EINTR)
			log_warn("mux: epoll_wait");
		for (int i = 0; i < n; i++) {
			if (ev[i].data.ptr == NULL)
				inbox = true;
			else
				on_event(m, ev[i].data.ptr, ev[i].events);
		}
		run_timers(m);
		/* last: a bus let go may be freed at once, and ev[] may
		 * still have named it */
		if (inbox && take_inbox(m))
			break;
	}
	return NULL;
}

/* ---- attach, detach ------------------------------------------------------ */

static void wake(struct mux *m)
{
	uint64_t one = 1;

	if (write(m->evfd, &one, sizeof(one)) == -1)
		log_warn("mux: eventfd");
}

static void mux_free(struct mux *m)
{
	if (m->epfd != -1)
		close(m->epfd);
	if (m->evfd != -1)
		close(m->evfd);
	free(m->heaps[HEAP_DUE].a);
	free(m->heaps[HEAP_IO].a);
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

/* A new mux thread for buses of clock clk, NULL with a log line. */
static struct mux *mux_new(const struct mclock *clk)
{
	struct mux *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->clk = clk;
	m->slack = MUX_SLACK_US;
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->cv, NULL);
	m->epfd = epoll_create1(EPOLL_CLOEXEC);
	m->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	m->heaps[HEAP_DUE].a = calloc(MUX_MAX_BUSES, sizeof(struct poller *));
	m->heaps[HEAP_IO].a = calloc(MUX_MAX_BUSES, sizeof(struct poller *));
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	if (m->epfd == -1 || m->evfd == -1 || m->heaps[HEAP_DUE].a == NULL ||
	    m->heaps[HEAP_IO].a == NULL ||
	    epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->evfd, &ev) == -1) {
		log_warn("cannot start a TCP poller thread");
		mux_free(m);
		return NULL;
	}
	/* The thread takes no signals: they go to the main thread. */
	sigset_t all, old;
	pthread_attr_t attr;
	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, MUX_STACK_SIZE);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&m->thread, &attr, mux_main, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		errno = rc;
		log_warn("cannot start a TCP poller thread");
		mux_free(m);
		return NULL;
	}
	return m;
}

/* Queue p for its mux thread to look at (under m->mu). */
static void post(struct mux *m, struct poller *p)
{
	if (!p->m.queued) {
		p->m.queued = true;
		p->m.next = m->inbox;
		m->inbox = p;
	}
}

int mux_attach(struct poller *p)
{
	static int threads;
	struct mux *m = NULL;
	int n = 0;

	pthread_mutex_lock(&reg_mu);
	if (threads == 0)
		threads = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? MUX_THREADS : 1;
	for (struct mux *t = muxes; t != NULL; t = t->next) {
		if (t->clk != p->clk)
			continue;
		n++;
		if (t->nbuses < MUX_MAX_BUSES &&
		    (m == NULL || t->nbuses < m->nbuses))
			m = t;
	}
	if (m != NULL && m->nbuses > 0 && n < threads)
		m = NULL; /* a thread more, while fewer than `threads` */
	if (m == NULL && (m = mux_new(p->clk)) != NULL) {
		m->next = muxes;
		muxes = m;
	}
	if (m != NULL)
		m->nbuses++;
	pthread_mutex_unlock(&reg_mu);
	if (m == NULL)
		return -1;
	p->m.mux = m;
	p->m.heap = -1;
	pthread_mutex_lock(&m->mu);
	post(m, p);
	pthread_mutex_unlock(&m->mu);
	wake(m);
	return 0;
}

void mux_detach(struct poller *p)
{
	struct mux *m = p->m.mux;

	pthread_mutex_lock(&m->mu);
	p->m.leave = true;
	post(m, p);
	wake(m);
	while (!p->m.detached)
		pthread_cond_wait(&m->cv, &m->mu);
	pthread_mutex_unlock(&m->mu);

	pthread_mutex_lock(&reg_mu);
	if (--m->nbuses == 0) {
		/* the last bus: the thread ends */
		struct mux **pp = &muxes;
		while (*pp != m)
			pp = &(*pp)->next;
		*pp = m->next;
		pthread_mutex_lock(&m->mu);
		m->quit = true;
		pthread_mutex_unlock(&m->mu);
		wake(m);
		pthread_join(m->thread, NULL);
		mux_free(m);
	}
	pthread_mutex_unlock(&reg_mu);
}
