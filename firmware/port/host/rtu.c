/*
 * rtu.c - Modbus RTU on a pseudo-terminal (see rtu.h).
 *
 * One loop timer serves two purposes: the end-of-frame silence (armed
 * t3.5 after the last byte of an unfinished frame) and the delay fault
 * (armed at the held reply's due time); it is set to the earlier of the two.
 * A trickled reply (the trickle fault) is held and written one byte per
 * due time, the timer re-armed after each. Wrong unit: the reply carries
 * farm_other_unit(). The reset and garbage faults are TCP's only.
 * Before each reply the slave's input queue is flushed: the master only
 * sends a new request once it is done with the previous reply, so anything
 * still queued there is a reply nobody read (a client that timed out or
 * closed) and would corrupt the next exchange.
 *
 * Threading: one thread, the event loop's.
 */
#define _GNU_SOURCE
#include "rtu.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "clk.h"
#include "log.h"
#include "mb.h"

struct rtu {
	struct loop_watch w; /* first: the loop hands us this pointer */
	struct loop_timer timer;
	struct loop *loop;
	struct farm *farm;
	int master, slave;
	uint32_t t35_us;
	struct mb_rtu_rx rx;
	uint64_t last_byte_us;
	uint8_t tx[MB_RTU_ADU_MAX];
	size_t txlen, txoff; /* txoff: bytes of tx already written */
	uint32_t trickle_ms; /* the held reply goes one byte at a time */
	bool delayed;
	uint64_t due_us;
	bool linked;
	char device[64];
	char link[PATH_MAX];
};

static void rearm(struct rtu *r)
{
	uint64_t due = 0;

	if (r->rx.len > 0 && !r->rx.ready)
		due = r->last_byte_us + r->t35_us;
	if (r->delayed && (due == 0 || r->due_us < due))
		due = r->due_us;
	r->timer.due_us = due;
}

/* Write the next `len` bytes of the reply (from txoff); the first of them
 * after flushing what the master left unread. */
static void send_reply(struct rtu *r, size_t len)
{
	ssize_t n;

	if (r->txoff == 0 && tcflush(r->slave, TCIFLUSH) < 0)
		log_warn("rtu: tcflush");
	n = write(r->master, r->tx + r->txoff, len);
	if (n < 0)
		log_warn("rtu: write");
	else if ((size_t)n < len)
		log_warnx("rtu: short write (%zd of %zu bytes)", n, len);
	r->txoff += len;
}

static void handle_frame(struct rtu *r, size_t len)
{
	struct farm_reply rep;
	size_t pdu_len;
	uint8_t unit;

	if (mb_rtu_parse(r->rx.buf, len, &unit, &pdu_len) < 0) {
		log_debug("rtu: bad frame (%zu bytes), discarded", len);
		goto done;
	}
	if (r->delayed) {
		log_debug("rtu: frame for unit %u while a reply is held, "
		          "discarded",
		          unit);
		goto done;
	}
	farm_request(r->farm, FARM_RTU, unit, r->rx.buf + MB_RTU_PDU_OFFSET,
	             pdu_len, r->tx + MB_RTU_PDU_OFFSET, &rep);
	if (rep.len == 0)
		goto done;
	r->txlen = mb_rtu_build(
	        r->tx, rep.wrong_unit ? farm_other_unit(unit) : unit, rep.len);
	r->txoff = 0;
	r->trickle_ms = rep.trickle_ms;
	if (rep.corrupt)
		r->tx[r->txlen - 1] ^= 0xFF;
	if (rep.delay_ms > 0 || rep.trickle_ms > 0) {
		r->delayed = true;
		r->due_us = clk_now_us() +
		            (rep.delay_ms > 0 ? rep.delay_ms : rep.trickle_ms) *
		                    UINT64_C(1000);
	} else {
		send_reply(r, r->txlen);
	}
done:
	mb_rtu_rx_reset(&r->rx);
}

static void rtu_event(struct loop_watch *w, uint32_t events)
{
	struct rtu *r = (struct rtu *)w;
	uint8_t buf[512];
	uint64_t now;
	ssize_t n, i;

	(void)events;
	n = read(r->master, buf, sizeof(buf));
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			log_warn("rtu: read");
		return;
	}
	now = clk_now_us();
	for (i = 0; i < n; i++) {
		size_t len;

		mb_rtu_rx_byte(&r->rx, buf[i], (uint32_t)now, r->t35_us);
		len = mb_rtu_rx_poll(&r->rx, (uint32_t)now, r->t35_us);
		if (len > 0)
			handle_frame(r, len);
	}
	if (n > 0)
		r->last_byte_us = now;
	rearm(r);
}

static void rtu_timer(struct loop_timer *t, uint64_t now)
{
	struct rtu *r = (struct rtu *)((char *)t - offsetof(struct rtu, timer));
	size_t len;

	if (r->delayed && r->due_us <= now) {
		if (r->trickle_ms > 0 && r->txlen - r->txoff > 1) {
			send_reply(r, 1);
			r->due_us = now + r->trickle_ms * UINT64_C(1000);
		} else {
			r->delayed = false;
			send_reply(r, r->txlen - r->txoff);
		}
	}
	if (r->rx.len > 0) {
		len = mb_rtu_rx_poll(&r->rx, (uint32_t)now, r->t35_us);
		if (len > 0)
			handle_frame(r, len);
	}
	rearm(r);
}

/* Replace a symbolic link at path (never a file) by one to target. */
static int make_link(const char *target, const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0) {
		if (!S_ISLNK(st.st_mode)) {
			log_warnx("rtu: %s exists and is not a symbolic link",
			          path);
			return -1;
		}
		if (unlink(path) < 0) {
			log_warn("rtu: unlink %s", path);
			return -1;
		}
	}
	if (symlink(target, path) < 0) {
		log_warn("rtu: symlink %s", path);
		return -1;
	}
	return 0;
}

static int open_pty(struct rtu *r)
{
	struct termios tio;
	const char *name;

	r->master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (r->master < 0) {
		log_warn("rtu: posix_openpt");
		return -1;
	}
	if (grantpt(r->master) < 0 || unlockpt(r->master) < 0) {
		log_warn("rtu: grantpt/unlockpt");
		return -1;
	}
	name = ptsname(r->master);
	if (name == NULL || strlen(name) >= sizeof(r->device)) {
		log_warn("rtu: ptsname");
		return -1;
	}
	strcpy(r->device, name);
	r->slave = open(r->device, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (r->slave < 0) {
		log_warn("rtu: open %s", r->device);
		return -1;
	}
	if (tcgetattr(r->slave, &tio) < 0) {
		log_warn("rtu: tcgetattr");
		return -1;
	}
	cfmakeraw(&tio);
	if (tcsetattr(r->slave, TCSANOW, &tio) < 0) {
		log_warn("rtu: tcsetattr");
		return -1;
	}
	return 0;
}

struct rtu *rtu_open(struct loop *l, struct farm *f, const char *link_path,
                     uint32_t baud)
{
	struct rtu *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		log_warn("rtu");
		return NULL;
	}
	r->master = r->slave = -1;
	r->loop = l;
	r->farm = f;
	r->w.fn = rtu_event;
	r->timer.fn = rtu_timer;
	r->t35_us = mb_rtu_t35_us(baud);
	mb_rtu_rx_reset(&r->rx);
	if (strlen(link_path) >= sizeof(r->link)) {
		log_warnx("rtu: %s: path too long", link_path);
		goto fail;
	}
	strcpy(r->link, link_path);
	if (open_pty(r) < 0)
		goto fail;
	if (loop_add(l, r->master, EPOLLIN, &r->w) < 0 ||
	    loop_add_timer(l, &r->timer) < 0) {
		log_warn("rtu: event loop");
		goto fail;
	}
	if (make_link(r->device, r->link) < 0)
		goto fail;
	r->linked = true;
	return r;
fail:
	rtu_close(r);
	return NULL;
}

const char *rtu_device(const struct rtu *r)
{
	return r->device;
}

void rtu_close(struct rtu *r)
{
	char target[sizeof(r->device)];
	ssize_t n;

	if (r == NULL)
		return;
	if (r->linked) {
		n = readlink(r->link, target, sizeof(target) - 1);
		if (n >= 0) {
			target[n] = 0;
			if (strcmp(target, r->device) == 0 &&
			    unlink(r->link) < 0)
				log_warn("rtu: unlink %s", r->link);
		}
	}
	loop_del_timer(r->loop, &r->timer);
	if (r->slave >= 0)
		close(r->slave);
	if (r->master >= 0)
		close(r->master);
	free(r);
}
