/*
 * tcpsrv.c - Modbus TCP listeners and connections (see tcpsrv.h).
 *
 * Per connection: in[] holds received bytes not yet handled, out[] the
 * replies built in place (MBAP + PDU). out[0, outready) may be written now;
 * out[outready, outlen) is a reply held back by the delay fault; outoff is
 * how much has been written. The epoll interest follows the state: EPOLLIN
 * only while the connection may parse more (no held reply, nothing left
 * over from a partial write, not closing), EPOLLOUT only while a partial
 * write waits. In the common case the mask never changes, so a request
 * costs one read() and one write() (plus its share of one epoll_wait()).
 *
 * Delayed connections wait in a list sorted by due time (the delay and the
 * trickle interval are each the same for every reply, so an insertion
 * walks back from the tail only past the few other kind), and one loop
 * timer armed at the head's due time serves them all. A trickled reply is
 * a held reply released one byte per due time.
 *
 * The hostile faults: a reset sends half the reply, then closes with
 * SO_LINGER 0 (an RST); garbage turns the connection into an endless
 * stream of random bytes, written whenever the socket has room, until the
 * peer goes away.
 *
 * Connection structs come from a free list grown on demand up to the
 * limit, so nothing is allocated per request.
 *
 * Threading: one thread, the event loop's.
 */
#define _GNU_SOURCE
#include "tcpsrv.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clk.h"
#include "log.h"
#include "mb.h"

#define IN_CAP             2048
#define OUT_CAP            4096
#define ACCEPTS_PER_WAKEUP 64

struct conn {
	struct loop_watch w; /* first: the loop hands us this pointer */
	struct tcpsrv *srv;
	int fd;
	int route;
	uint32_t events;  /* current epoll interest */
	uint32_t nfaulty; /* requests counted towards drop_after */
	size_t inlen;
	size_t outlen, outready, outoff;
	bool delayed;        /* a reply waits in out[outready, outlen) */
	bool closing;        /* close once out[] is written */
	bool eof;            /* the peer closed its side */
	bool reset;          /* close with an RST */
	bool garbage;        /* write random bytes forever */
	uint32_t trickle_ms; /* the held reply goes one byte at a time */
	uint64_t due_us;
	struct conn *prev, *next;   /* live list, or free list (next) */
	struct conn *dprev, *dnext; /* delay FIFO */
	uint8_t in[IN_CAP];
	uint8_t out[OUT_CAP];
};

struct listener {
	struct loop_watch w;
	struct tcpsrv *srv;
	int fd;
	int route;
	struct listener *next;
};

struct tcpsrv {
	struct loop *loop;
	struct farm *farm;
	struct loop_timer timer; /* head of the delay FIFO */
	unsigned max_conns, nconns, nalloc;
	struct conn *live, *free;
	struct conn *dhead, *dtail;
	struct listener *listeners;
	int spare_fd; /* closed to accept-and-drop when out of descriptors */
	uint64_t refused;
	uint64_t last_refusal_log_us;
	uint64_t rng; /* xorshift64 for garbage */
};

static void conn_event(struct loop_watch *w, uint32_t events);
static void conn_run(struct conn *c);

/* ---- delay FIFO --------------------------------------------------------- */

static void delay_rearm(struct tcpsrv *s)
{
	s->timer.due_us = s->dhead != NULL ? s->dhead->due_us : 0;
}

static void delay_push(struct conn *c)
{
	struct tcpsrv *s = c->srv;
	struct conn *after = s->dtail;

	while (after != NULL && after->due_us > c->due_us)
		after = after->dprev;
	c->dprev = after;
	c->dnext = after != NULL ? after->dnext : s->dhead;
	if (c->dnext != NULL)
		c->dnext->dprev = c;
	else
		s->dtail = c;
	if (after != NULL)
		after->dnext = c;
	else
		s->dhead = c;
	delay_rearm(s);
}

static void delay_remove(struct conn *c)
{
	struct tcpsrv *s = c->srv;

	if (c->dprev != NULL)
		c->dprev->dnext = c->dnext;
	else
		s->dhead = c->dnext;
	if (c->dnext != NULL)
		c->dnext->dprev = c->dprev;
	else
		s->dtail = c->dprev;
	c->dprev = c->dnext = NULL;
	delay_rearm(s);
}

static void delay_timer(struct loop_timer *t, uint64_t now)
{
	struct tcpsrv *s =
	        (struct tcpsrv *)((char *)t - offsetof(struct tcpsrv, timer));

	while (s->dhead != NULL && s->dhead->due_us <= now) {
		struct conn *c = s->dhead;

		delay_remove(c);
		if (c->trickle_ms > 0 && c->outlen - c->outready > 1) {
			c->outready++; /* one more byte may go */
			c->due_us = now + c->trickle_ms * UINT64_C(1000);
			delay_push(c);
		} else {
			c->delayed = false;
			c->outready = c->outlen;
		}
		conn_run(c);
	}
	delay_rearm(s);
}

/* ---- connections -------------------------------------------------------- */

static void conn_close(struct conn *c)
{
	struct tcpsrv *s = c->srv;

	if (c->delayed)
		delay_remove(c);
	if (c->reset) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		if (setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) <
		    0)
			log_warn("tcp: SO_LINGER");
	}
	/* close() removes the descriptor from the epoll set. */
	close(c->fd);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->live = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = NULL;
	c->next = s->free;
	s->free = c;
	s->nconns--;
}

/* Queue the reply whose PDU farm_request() wrote after out[outlen]'s
 * MBAP header, as r says: at once, held, trickled, cut by a reset, or
 * replaced by garbage. */
static void conn_reply(struct conn *c, struct mb_tcp_header *h,
                       const struct farm_reply *r)
{
	if (r->garbage) {
		c->garbage = true;
		return;
	}
	if (r->corrupt)
		h->transaction_id ^= 0xFFFF;
	if (r->wrong_unit)
		h->unit = farm_other_unit(h->unit);
	size_t len = mb_tcp_build(c->out + c->outlen, h, r->len);
	if (r->reset) {
		c->outlen += len / 2;
		c->outready = c->outlen;
		c->closing = c->reset = true;
		return;
	}
	c->outlen += len;
	if (r->delay_ms > 0 || r->trickle_ms > 0) {
		c->delayed = true;
		c->trickle_ms = r->trickle_ms;
		c->due_us = clk_now_us() +
		            (r->delay_ms > 0 ? r->delay_ms : r->trickle_ms) *
		                    UINT64_C(1000);
		delay_push(c);
	} else {
		c->outready = c->outlen;
	}
}

/* Handle every complete request in in[] while out[] has room for a reply.
 * Returns 0, or -1 if the connection was closed. */
static int conn_process(struct conn *c)
{
	struct farm *f = c->srv->farm;
	uint32_t drop_after = farm_faults(f)->drop_after;
	size_t off = 0;

	while (!c->delayed && !c->closing && !c->garbage &&
	       OUT_CAP - c->outlen >= MB_TCP_ADU_MAX) {
		struct mb_tcp_header h;
		struct farm_reply r;
		size_t pdu_len;
		uint8_t *adu;
		int n;

		n = mb_tcp_frame_len(c->in + off, c->inlen - off);
		if (n == 0)
			break;
		if (n < 0 ||
		    mb_tcp_parse(c->in + off, (size_t)n, &h, &pdu_len) < 0) {
			log_info("tcp: malformed MBAP header on connection "
			         "%d, closing it",
			         c->fd);
			conn_close(c);
			return -1;
		}
		adu = c->out + c->outlen;
		farm_request(f, c->route, h.unit,
		             c->in + off + MB_TCP_PDU_OFFSET, pdu_len,
		             adu + MB_TCP_PDU_OFFSET, &r);
		off += (size_t)n;
		if (r.len > 0)
			conn_reply(c, &h, &r);
		if (r.faulty && drop_after > 0 && ++c->nfaulty >= drop_after)
			c->closing = true;
	}
	if (off > 0) {
		c->inlen -= off;
		memmove(c->in, c->in + off, c->inlen);
	}
	return 0;
}

/* Write what may be written. Returns 0, or -1 if the connection was
 * closed. */
static int conn_flush(struct conn *c)
{
	if (c->garbage && c->outready == c->outoff) {
		struct tcpsrv *s = c->srv;
		for (size_t i = 0; i < OUT_CAP; i++) {
			s->rng ^= s->rng << 13;
			s->rng ^= s->rng >> 7;
			s->rng ^= s->rng << 17;
			c->out[i] = (uint8_t)s->rng;
		}
		c->outoff = 0;
		c->outready = c->outlen = OUT_CAP;
	}
	if (c->outready > c->outoff) {
		ssize_t n = send(c->fd, c->out + c->outoff,
		                 c->outready - c->outoff, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR) {
				log_debug("tcp: connection %d: send: %s", c->fd,
				          strerror(errno));
				conn_close(c);
				return -1;
			}
			n = 0;
		}
		c->outoff += (size_t)n;
	}
	if (c->outoff == c->outready && c->outoff > 0) {
		/* Keep only a held (delayed) reply, at the start. */
		c->outlen -= c->outoff;
		memmove(c->out, c->out + c->outoff, c->outlen);
		c->outready = c->outoff = 0;
	}
	return 0;
}

/* Set the epoll interest the state calls for, or close a finished
 * connection. Returns 0, or -1 if the connection was closed. */
static int conn_update(struct conn *c)
{
	bool pending = c->outready > c->outoff;
	uint32_t want = 0;

	if ((c->closing || c->eof) && !c->delayed && !pending) {
		conn_close(c);
		return -1;
	}
	if (pending || c->garbage)
		want |= EPOLLOUT;
	else if (!c->delayed && !c->closing && !c->eof && c->inlen < IN_CAP)
		want |= EPOLLIN;
	if (want != c->events) {
		if (loop_mod(c->srv->loop, c->fd, want, &c->w) < 0) {
			log_warn("tcp: epoll_ctl");
			conn_close(c);
			return -1;
		}
		c->events = want;
	}
	return 0;
}

/* Answer what can be answered, write, repeat while that makes progress. */
static void conn_run(struct conn *c)
{
	for (;;) {
		size_t before = c->inlen;

		if (conn_process(c) < 0 || conn_flush(c) < 0)
			return;
		if (c->inlen == before || c->inlen == 0 || c->delayed ||
		    c->closing || c->outready > c->outoff)
			break;
	}
	(void)conn_update(c);
}

static void conn_event(struct loop_watch *w, uint32_t events)
{
	struct conn *c = (struct conn *)w;

	if (events & (EPOLLERR | EPOLLHUP)) {
		conn_close(c);
		return;
	}
	if ((events & EPOLLIN) && c->inlen < IN_CAP) {
		ssize_t n = read(c->fd, c->in + c->inlen, IN_CAP - c->inlen);

		if (n > 0) {
			c->inlen += (size_t)n;
		} else if (n == 0) {
			c->eof = true;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK &&
		           errno != EINTR) {
			log_debug("tcp: connection %d: read: %s", c->fd,
			          strerror(errno));
			conn_close(c);
			return;
		}
	}
	conn_run(c);
}

static struct conn *conn_get(struct tcpsrv *s)
{
	struct conn *c = s->free;

	if (c != NULL) {
		s->free = c->next;
		return c;
	}
	c = malloc(sizeof(*c));
	if (c != NULL)
		s->nalloc++;
	return c;
}

static void refuse(struct tcpsrv *s, int fd)
{
	uint64_t now = clk_now_us();

	close(fd);
	s->refused++;
	if (now - s->last_refusal_log_us >= 1000000 ||
	    s->last_refusal_log_us == 0) {
		log_info("tcp: %u connections open, the limit: refused a new "
		         "one (%llu refused so far)",
		         s->nconns, (unsigned long long)s->refused);
		s->last_refusal_log_us = now;
	}
}

static void conn_accepted(struct listener *ls, int fd)
{
	struct tcpsrv *s = ls->srv;
	struct conn *c;
	int one = 1;

	if (s->nconns >= s->max_conns) {
		refuse(s, fd);
		return;
	}
	c = conn_get(s);
	if (c == NULL) {
		log_warn("tcp: out of memory for a connection");
		close(fd);
		return;
	}
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		log_warn("tcp: TCP_NODELAY");
	memset(c, 0, offsetof(struct conn, in));
	c->w.fn = conn_event;
	c->srv = s;
	c->fd = fd;
	c->route = ls->route;
	c->events = EPOLLIN;
	if (loop_add(s->loop, fd, EPOLLIN, &c->w) < 0) {
		log_warn("tcp: epoll_ctl");
		close(fd);
		c->next = s->free;
		s->free = c;
		return;
	}
	c->next = s->live;
	if (s->live != NULL)
		s->live->prev = c;
	s->live = c;
	s->nconns++;
}

static void listener_event(struct loop_watch *w, uint32_t events)
{
	struct listener *ls = (struct listener *)w;
	struct tcpsrv *s = ls->srv;
	int i;

	(void)events;
	for (i = 0; i < ACCEPTS_PER_WAKEUP; i++) {
		int fd = accept4(ls->fd, NULL, NULL,
		                 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			conn_accepted(ls, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if ((errno == EMFILE || errno == ENFILE) && s->spare_fd >= 0) {
			/* Out of descriptors: accept with the spare one and
			 * drop it, or the listener would stay readable. */
			close(s->spare_fd);
			fd = accept(ls->fd, NULL, NULL);
			if (fd >= 0)
				refuse(s, fd);
			s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			log_warn("tcp: accept");
		break;
	}
}

/* ---- server ------------------------------------------------------------- */

struct tcpsrv *tcpsrv_new(struct loop *l, struct farm *f, unsigned max_conns)
{
	struct tcpsrv *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->loop = l;
	s->farm = f;
	s->max_conns = max_conns;
	s->rng = 0x2545F4914F6CDD1DULL;
	s->timer.fn = delay_timer;
	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (s->spare_fd < 0 || loop_add_timer(l, &s->timer) < 0) {
		if (s->spare_fd >= 0)
			close(s->spare_fd);
		free(s);
		return NULL;
	}
	return s;
}

void tcpsrv_free(struct tcpsrv *s)
{
	if (s == NULL)
		return;
	while (s->live != NULL)
		conn_close(s->live);
	while (s->free != NULL) {
		struct conn *c = s->free;

		s->free = c->next;
		free(c);
	}
	while (s->listeners != NULL) {
		struct listener *ls = s->listeners;

		s->listeners = ls->next;
		close(ls->fd);
		free(ls);
	}
	loop_del_timer(s->loop, &s->timer);
	if (s->spare_fd >= 0)
		close(s->spare_fd);
	free(s);
}

static int bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

static int open_listener(const char *addr, int port)
{
	struct addrinfo hints, *res, *ai;
	char service[8];
	int fd = -1, err, saved = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%d", port);
	err = getaddrinfo(addr, service, &hints, &res);
	if (err != 0) {
		log_warnx("tcp: %s: %s", addr, gai_strerror(err));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int one = 1;

		fd = socket(ai->ai_family,
		            ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		            ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		               sizeof(one)) == 0 &&
		    bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, SOMAXCONN) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		errno = saved;
		log_warn("tcp: cannot listen on %s:%d", addr, port);
	}
	return fd;
}

int tcpsrv_listen(struct tcpsrv *s, const char *addr, int port, int route)
{
	struct listener *ls;
	int fd, bound;

	if (addr == NULL)
		addr = "127.0.0.1";
	fd = open_listener(addr, port);
	if (fd < 0)
		return -1;
	bound = bound_port(fd);
	ls = calloc(1, sizeof(*ls));
	if (bound < 0 || ls == NULL) {
		log_warn("tcp: listener on %s:%d", addr, port);
		goto fail;
	}
	ls->w.fn = listener_event;
	ls->srv = s;
	ls->fd = fd;
	ls->route = route;
	if (loop_add(s->loop, fd, EPOLLIN, &ls->w) < 0) {
		log_warn("tcp: epoll_ctl");
		goto fail;
	}
	ls->next = s->listeners;
	s->listeners = ls;
	return bound;
fail:
	free(ls);
	close(fd);
	return -1;
}
