/*
 * bus.c - see bus.h. A thin layer over libmodbus that owns one modbus_t,
 * connects lazily, and turns libmodbus's errno values into enum bus_error
 * plus a message.
 *
 * The deadline. libmodbus waits for the first byte of a reply up to the
 * response timeout, then for each next byte up to the byte timeout, so a
 * device trickling a reply just under the byte timeout held the bus for
 * as long as it liked. Here the byte timeout is disabled (0, 0): then "the
 * full confirmation response must be received before expiration of the
 * response timeout" (modbus_set_byte_timeout(3)). The request is also
 * timed here, on CLOCK_MONOTONIC (real I/O time: the wire is timed, not
 * the daemon's clock), and a reply completed later than timeout_ms +
 * BUS_DEADLINE_MARGIN_MS is a timeout whatever libmodbus said.
 *
 * TCP requests are framed here and their replies checked here, because
 * libmodbus 3.1.6 checks the transaction id of a TCP reply but not its unit
 * id: behind a TCP-to-RS-485 gateway a misrouted reply would pass for the
 * addressed instrument's. libmodbus still connects and reads the reply
 * (modbus_receive_confirmation() delimits it by function code and byte
 * count, under the response timeout). RTU requests go through libmodbus's
 * read functions, which check the slave address and the CRC.
 *
 * Without waiting (the TCP mux, mux.c): bus_connect_start() connects a
 * non-blocking socket of its own to each address of the host in turn and
 * hands the one that connects to libmodbus (modbus_set_socket(3)); the
 * request goes out with bus_send(), and bus_finish() reads the reply with
 * modbus_receive_confirmation() only once bus_reply_ready() has seen with
 * recv(MSG_PEEK | MSG_DONTWAIT) every byte libmodbus will read, so it
 * never waits (its response timeout is 1 us then, as a second guard). The
 * checks of the reply are the same code as bus_read()'s (tcp_receive()).
 *
 * Threads: the poller's thread does everything but bus_interrupt(). `mu`
 * guards `connected` and `interrupted`, so that bus_interrupt() shuts down
 * the socket only while it is the bus's own (never a descriptor number
 * closed and reused meanwhile); I/O runs without it.
 */
#include "bus.h"

#include <errno.h>
#include <fcntl.h>
#include <modbus.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FLUSH_MAX   4096 /* TCP: stale bytes drained at most, then hang up */
#define MBAP_LEN    7    /* transaction, protocol, length, unit */
#define TCP_REQ_LEN (MBAP_LEN + 5)
#define MESSAGE_MAX 320 /* bytes of an error message, its NUL included */

struct bus {
	modbus_t *ctx;
	enum bus_kind kind;
	int timeout_ms;
	uint16_t tid; /* TCP: the last transaction id sent */
	/* TCP: the request in flight (tcp_send() -> tcp_receive()) */
	int req_fc, req_unit;
	uint16_t req_count;
	int64_t t0; /* CLOCK_MONOTONIC us when it was sent */
	/* TCP without waiting (bus_connect_start()): the addresses left to
	 * try and the socket connecting, -1 when none */
	struct addrinfo *ai, *ai_next;
	int cfd;
	char service[8]; /* TCP: the port */
	pthread_mutex_t mu;
	bool connected;   /* under mu */
	bool interrupted; /* under mu */
	enum bus_error error;
	int exception;
	char *message; /* made at the first error (NULL: none yet) */
	/* in one allocation, `text`: TCP "host\0tcp host:port\0", where
	 * is name + 4; RTU "rtu device baud ...\0device\0" */
	char *text;
	const char *host, *name, *where; /* where: the device, or host:port */
};

/* libmodbus waits up to timeout_ms for a connection and a whole reply
 * (bus_send() sets it not to wait at all). */
static void wait_whole(struct bus *b)
{
	modbus_set_response_timeout(b->ctx, (uint32_t)(b->timeout_ms / 1000),
	                            (uint32_t)(b->timeout_ms % 1000) * 1000);
}

/* Keep a, then c (each with its NUL) in b->text, one allocation.
 * Returns c's copy there, or NULL out of memory. */
static const char *keep_text(struct bus *b, const char *a, const char *c)
{
	size_t la = strlen(a) + 1, lc = strlen(c) + 1;

	b->text = malloc(la + lc);
	if (b->text == NULL)
		return NULL;
	memcpy(b->text, a, la);
	memcpy(b->text + la, c, lc);
	return b->text + la;
}

struct bus *bus_new(const struct bus_params *p, char *err, size_t errlen)
{
	struct bus *b = calloc(1, sizeof(*b));
	char name[sizeof("rtu ") + 256 + 32];

	if (b == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	b->kind = p->kind;
	b->cfd = -1;
	if (p->kind == BUS_TCP) {
		/* a host name or address, and a port */
		snprintf(b->service, sizeof(b->service), "%d", p->port);
		snprintf(name, sizeof(name), "tcp %s:%d", p->host, p->port);
		b->name = keep_text(b, p->host, name);
		b->host = b->text;
		b->where = b->name != NULL ? b->name + 4 : NULL;
	} else {
		snprintf(name, sizeof(name), "rtu %s %d %d%c%d", p->device,
		         p->baud, p->data_bits, p->parity, p->stop_bits);
		b->where = keep_text(b, name, p->device);
		b->name = b->text;
	}
	if (b->where == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		free(b->text);
		free(b);
		return NULL;
	}
	b->ctx = p->kind == BUS_TCP
	                 ? modbus_new_tcp_pi(b->host, b->service)
	                 : modbus_new_rtu(p->device, p->baud, p->parity,
	                                  p->data_bits, p->stop_bits);
	if (b->ctx == NULL) {
		snprintf(err, errlen, "%s: %s", b->name,
		         modbus_strerror(errno));
		free(b->text);
		free(b);
		return NULL;
	}
	b->timeout_ms = p->timeout_ms;
	wait_whole(b);
	/* no byte timeout: the response timeout bounds the whole reply */
	modbus_set_byte_timeout(b->ctx, 0, 0);
	pthread_mutex_init(&b->mu, NULL);
	return b;
}

void bus_free(struct bus *b)
{
	if (b == NULL)
		return;
	bus_close(b);
	modbus_free(b->ctx);
	pthread_mutex_destroy(&b->mu);
	free(b->message);
	free(b->text);
	free(b);
}

/* Set the message of the error (made at the first; none when out of
 * memory: bus_last_message() then says so). */
static void say(struct bus *b, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void vsay(struct bus *b, const char *fmt, va_list ap)
{
	if (b->message == NULL && (b->message = malloc(MESSAGE_MAX)) == NULL)
		return;
	vsnprintf(b->message, MESSAGE_MAX, fmt, ap);
}

static void say(struct bus *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(b, fmt, ap);
	va_end(ap);
}

/* The name of Modbus exception code c, NULL when it has none. */
static const char *exception_name(int c)
{
	static const char *const names[] = {
	        [1] = "illegal function",
	        [2] = "illegal data address",
	        [3] = "illegal data value",
	        [4] = "server device failure",
	        [5] = "acknowledge",
	        [6] = "server busy",
	        [7] = "negative acknowledge",
	        [8] = "memory parity error",
	        [10] = "gateway path unavailable",
	        [11] = "gateway target failed to respond",
	};

	return c > 0 && c < (int)(sizeof(names) / sizeof(names[0])) ? names[c]
	                                                            : NULL;
}

static bool interrupted(struct bus *b)
{
	pthread_mutex_lock(&b->mu);
	bool i = b->interrupted;
	pthread_mutex_unlock(&b->mu);
	return i;
}

/* Drain stale bytes: RTU with libmodbus (tcflush); TCP here, at most
 * FLUSH_MAX bytes, because libmodbus's TCP flush reads for as long as a
 * peer keeps sending: a peer that sends more is disconnected. */
static void flush_line(struct bus *b)
{
	uint8_t junk[512];
	size_t total = 0;

	if (!b->connected)
		return;
	if (b->kind != BUS_TCP) {
		modbus_flush(b->ctx);
		return;
	}
	for (;;) {
		ssize_t n = recv(modbus_get_socket(b->ctx), junk, sizeof(junk),
		                 MSG_DONTWAIT);
		if (n <= 0)
			return; /* nothing left (an error shows on the next use)
			         */
		total += (size_t)n;
		if (total > FLUSH_MAX) {
			bus_close(b);
			return;
		}
	}
}

/* The request failed for a reason of ours: set it, restore the line,
 * return -1. */
static int fail_as(struct bus *b, enum bus_error e, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int fail_as(struct bus *b, enum bus_error e, const char *fmt, ...)
{
	va_list ap;

	b->error = e;
	b->exception = 0;
	va_start(ap, fmt);
	vsay(b, fmt, ap);
	va_end(ap);
	/* A broken link, or a TCP stream out of step (a reply may still be
	 * on its way after a timeout, perhaps half of it): start on a fresh
	 * connection. Otherwise drop what is left of the bad reply. */
	if (e == BUS_ERR_CONNECT || e == BUS_ERR_OTHER ||
	    e == BUS_ERR_STOPPED ||
	    (e == BUS_ERR_TIMEOUT && b->kind == BUS_TCP))
		bus_close(b);
	else
		flush_line(b);
	return -1;
}

/* An exception reply with code c (1..255); returns -1. */
static int fail_exception(struct bus *b, int c)
{
	const char *name = exception_name(c);

	fail_as(b, BUS_ERR_EXCEPTION, "exception %02X%s%s%s", (unsigned)c,
	        name != NULL ? " (" : "", name != NULL ? name : "",
	        name != NULL ? ")" : "");
	b->exception = c;
	return -1;
}

/* Record errno e of a failed libmodbus call; returns -1. */
static int fail(struct bus *b, int e)
{
	if (interrupted(b))
		return fail_as(b, BUS_ERR_STOPPED, "stopped");
	if (e > MODBUS_ENOBASE && e < MODBUS_ENOBASE + MODBUS_EXCEPTION_MAX)
		return fail_exception(b, e - MODBUS_ENOBASE);
	switch (e) {
	case ETIMEDOUT:
		return fail_as(b, BUS_ERR_TIMEOUT,
		               "no complete reply within %d ms", b->timeout_ms);
	case EMBBADCRC:
		return fail_as(b, BUS_ERR_CRC, "reply with bad CRC");
	case EMBBADDATA:
	case EMBBADEXC:
	case EMBMDATA:
	case EMBBADSLAVE:
		return fail_as(b, BUS_ERR_REPLY,
		               "reply does not match the request: %s",
		               modbus_strerror(e));
	case ECONNREFUSED:
	case ECONNRESET:
	case EPIPE:
	case EBADF:
	case ENOTCONN:
	case EHOSTUNREACH:
	case ENETUNREACH:
		return fail_as(b, BUS_ERR_CONNECT, "%s", modbus_strerror(e));
	default:
		return fail_as(b, BUS_ERR_OTHER, "%s", modbus_strerror(e));
	}
}

/* The connection failed with errno e: BUS_ERR_CONNECT and the message
 * naming what could not be reached. Returns -1. */
static int connect_failed(struct bus *b, int e)
{
	b->error = BUS_ERR_CONNECT;
	b->exception = 0;
	/* a serial line is a file: say which, and why open(2) refused */
	if (b->kind == BUS_TCP)
		say(b, "cannot connect: %s", modbus_strerror(e));
	else
		say(b, "cannot open %s: %s", b->where, modbus_strerror(e));
	return -1;
}

/* The link is up (modbus_connect() or modbus_set_socket() done): say so
 * under mu, unless a stop came meanwhile. Returns 0, or -1 (stopped). */
static int link_up(struct bus *b)
{
	pthread_mutex_lock(&b->mu);
	b->connected = true;
	bool stop = b->interrupted;
	pthread_mutex_unlock(&b->mu);
	if (stop)
		return fail_as(b, BUS_ERR_STOPPED, "stopped");
	return 0;
}

int bus_connect(struct bus *b)
{
	if (b->connected)
		return 0;
	if (interrupted(b))
		return fail_as(b, BUS_ERR_STOPPED, "stopped");
	if (modbus_connect(b->ctx) == -1)
		return connect_failed(b, errno);
	return link_up(b);
}

/* Drop a connection being made without waiting: its socket and the
 * addresses left. */
static void connect_drop(struct bus *b)
{
	if (b->cfd != -1)
		close(b->cfd);
	b->cfd = -1;
	if (b->ai != NULL)
		freeaddrinfo(b->ai);
	b->ai = b->ai_next = NULL;
}

void bus_close(struct bus *b)
{
	connect_drop(b);
	pthread_mutex_lock(&b->mu);
	if (b->connected) {
		modbus_close(b->ctx);
		b->connected = false;
	}
	pthread_mutex_unlock(&b->mu);
}

void bus_interrupt(struct bus *b)
{
	pthread_mutex_lock(&b->mu);
	b->interrupted = true;
	if (b->connected && b->kind == BUS_TCP)
		shutdown(modbus_get_socket(b->ctx), SHUT_RDWR);
	pthread_mutex_unlock(&b->mu);
}

/* Socket fd has connected: make it libmodbus's (blocking again, as
 * modbus_connect() leaves its sockets). Returns 0, or -1. */
static int adopt(struct bus *b, int fd)
{
	int fl = fcntl(fd, F_GETFL);

	b->cfd = -1;
	connect_drop(b);
	if (fl == -1 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1 ||
	    modbus_set_socket(b->ctx, fd) == -1) {
		int e = errno;
		close(fd);
		return connect_failed(b, e);
	}
	return link_up(b);
}

/* Try the addresses left, without waiting: 0 connected, 1 one is
 * connecting (b->cfd), -1 none could be (the last one's errno). */
static int try_addresses(struct bus *b, int e)
{
	static const int one = 1;

	while (b->ai_next != NULL) {
		const struct addrinfo *a = b->ai_next;
		b->ai_next = a->ai_next;
		int fd = socket(a->ai_family,
		                a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		                a->ai_protocol);
		if (fd == -1) {
			e = errno;
			continue;
		}
		/* as libmodbus's own connect: no Nagle delay on requests */
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		               sizeof(one)) == 0 &&
		    connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			return adopt(b, fd);
		if (errno == EINPROGRESS) {
			b->cfd = fd;
			return 1;
		}
		e = errno;
		close(fd);
	}
	connect_drop(b);
	return connect_failed(b, e);
}

int bus_connect_start(struct bus *b)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                         .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_NUMERICSERV};

	if (b->connected)
		return 0;
	if (interrupted(b))
		return fail_as(b, BUS_ERR_STOPPED, "stopped");
	if (b->kind != BUS_TCP)
		return fail_as(b, BUS_ERR_OTHER, "not a TCP bus");
	connect_drop(b);
	int rc = getaddrinfo(b->host, b->service, &hints, &b->ai);
	if (rc != 0) {
		b->ai = NULL;
		b->error = BUS_ERR_CONNECT;
		b->exception = 0;
		say(b, "cannot connect: %s",
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	b->ai_next = b->ai;
	return try_addresses(b, ECONNREFUSED);
}

int bus_connect_end(struct bus *b)
{
	int e = 0;
	socklen_t len = sizeof(e);

	if (b->cfd == -1)
		return b->connected ? 0 : connect_failed(b, ENOTCONN);
	if (getsockopt(b->cfd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
		e = errno;
	if (e == EINPROGRESS || e == EALREADY)
		return 1;
	if (e == 0)
		return adopt(b, b->cfd);
	close(b->cfd);
	b->cfd = -1;
	return try_addresses(b, e);
}

int bus_connect_abort(struct bus *b)
{
	connect_drop(b);
	return connect_failed(b, ETIMEDOUT);
}

int bus_socket(const struct bus *b)
{
	if (b->cfd != -1)
		return b->cfd;
	return b->connected ? modbus_get_socket(b->ctx) : -1;
}

/* The error of the last request cleared, before a new one. */
static void clear_error(struct bus *b)
{
	b->error = BUS_OK;
	b->exception = 0;
	if (b->message != NULL)
		b->message[0] = '\0';
}

static int begin(struct bus *b, int unit)
{
	wait_whole(b);
	if (bus_connect(b) == -1)
		return -1;
	if (modbus_set_slave(b->ctx, unit) == -1)
		return fail(b, errno);
	flush_line(b);
	/* a peer that kept talking was hung up on: call again */
	if (!b->connected && bus_connect(b) == -1)
		return -1;
	clear_error(b);
	return 0;
}

static int function_of(enum bus_table table)
{
	switch (table) {
	case BUS_COILS:
		return MODBUS_FC_READ_COILS;
	case BUS_DISCRETE_INPUTS:
		return MODBUS_FC_READ_DISCRETE_INPUTS;
	case BUS_HOLDING_REGISTERS:
		return MODBUS_FC_READ_HOLDING_REGISTERS;
	default:
		return MODBUS_FC_READ_INPUT_REGISTERS;
	}
}

/* Check the PDU of a TCP reply (function code first, len bytes) against
 * the request and unpack it into out. Returns 0, or -1 (fail). */
static int tcp_unpack(struct bus *b, int fc, uint16_t count, const uint8_t *pdu,
                      int len, uint16_t *out)
{
	bool bits = fc <= MODBUS_FC_READ_DISCRETE_INPUTS;
	int want = bits ? (count + 7) / 8 : 2 * count;

	if (pdu[0] == (fc | 0x80)) {
		if (len != 2 || pdu[1] == 0)
			return fail(b, EMBBADEXC);
		return fail_exception(b, pdu[1]);
	}
	if (pdu[0] != fc)
		return fail_as(b, BUS_ERR_REPLY,
		               "reply with function code 0x%02X to a request "
		               "with 0x%02X",
		               pdu[0], fc);
	if (len < 2 || pdu[1] != want || len != 2 + want)
		return fail_as(b, BUS_ERR_REPLY,
		               "reply with %d data bytes (byte count %d) to a "
		               "request for %d",
		               len - 2, len < 2 ? -1 : pdu[1], want);
	for (int i = 0; i < count; i++)
		out[i] =
		        bits ? (pdu[2 + i / 8] >> (i % 8)) & 1
		             : (uint16_t)(pdu[2 + 2 * i] << 8 | pdu[3 + 2 * i]);
	return 0;
}

/* Send a read over TCP, framed here, and remember what it asked for the
 * reply's checks. Returns 0, or -1 (fail). */
static int tcp_send(struct bus *b, int unit, enum bus_table table,
                    uint16_t addr, uint16_t count)
{
	int fc = function_of(table);
	uint16_t tid = ++b->tid;
	const uint8_t req[TCP_REQ_LEN] = {
	        (uint8_t)(tid >> 8),
	        (uint8_t)tid,
	        0,
	        0,
	        0,
	        6,
	        (uint8_t)unit,
	        (uint8_t)fc,
	        (uint8_t)(addr >> 8),
	        (uint8_t)addr,
	        (uint8_t)(count >> 8),
	        (uint8_t)count,
	};

	b->req_fc = fc;
	b->req_unit = unit;
	b->req_count = count;
	ssize_t sent =
	        send(modbus_get_socket(b->ctx), req, sizeof(req), MSG_NOSIGNAL);
	if (sent != (ssize_t)sizeof(req))
		return fail(b, sent == -1 ? errno : EPIPE);
	return 0;
}

/* Read the reply to tcp_send()'s request with libmodbus and check it here,
 * unit id included. Returns 0, or -1 (fail). */
static int tcp_receive(struct bus *b, uint16_t *out)
{
	uint8_t rsp[MODBUS_TCP_MAX_ADU_LENGTH];
	int n = modbus_receive_confirmation(b->ctx, rsp);

	if (n == -1)
		return fail(b, errno);
	if (n < MBAP_LEN + 1)
		return fail_as(b, BUS_ERR_REPLY, "reply of %d bytes", n);
	unsigned rtid = (unsigned)rsp[0] << 8 | rsp[1];
	unsigned len = (unsigned)rsp[4] << 8 | rsp[5];
	if (rtid != b->tid)
		return fail_as(b, BUS_ERR_REPLY,
		               "reply with transaction id %u, not %u", rtid,
		               (unsigned)b->tid);
	if (rsp[2] != 0 || rsp[3] != 0 || len != (unsigned)n - 6)
		return fail_as(b, BUS_ERR_REPLY,
		               "reply with a bad MBAP header (protocol %u, "
		               "length %u for %d bytes)",
		               (unsigned)rsp[2] << 8 | rsp[3], len, n - 6);
	if (rsp[6] != b->req_unit)
		return fail_as(b, BUS_ERR_REPLY, "reply from unit %u, not %d",
		               rsp[6], b->req_unit);
	return tcp_unpack(b, b->req_fc, b->req_count, rsp + MBAP_LEN,
	                  n - MBAP_LEN, out);
}

/* A read over RTU, by libmodbus's read functions. Returns 0, or -1. */
static int rtu_read(struct bus *b, enum bus_table table, uint16_t addr,
                    uint16_t count, uint16_t *out)
{
	uint8_t bits[MODBUS_MAX_READ_BITS];
	int r;

	switch (table) {
	case BUS_INPUT_REGISTERS:
		r = modbus_read_input_registers(b->ctx, addr, count, out);
		break;
	case BUS_HOLDING_REGISTERS:
		r = modbus_read_registers(b->ctx, addr, count, out);
		break;
	default:
		r = table == BUS_COILS
		            ? modbus_read_bits(b->ctx, addr, count, bits)
		            : modbus_read_input_bits(b->ctx, addr, count, bits);
		for (int i = 0; r == count && i < count; i++)
			out[i] = bits[i];
		break;
	}
	if (r == -1)
		return fail(b, errno);
	if (r != count)
		return fail(b, EMBBADDATA);
	return 0;
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A request libmodbus and the protocol can carry? Returns 0, or -1. */
static int check_request(struct bus *b, enum bus_table table, uint16_t count)
{
	bool bits = table == BUS_COILS || table == BUS_DISCRETE_INPUTS;

	if (table > BUS_HOLDING_REGISTERS || count == 0 ||
	    count > (bits ? MODBUS_MAX_READ_BITS : MODBUS_MAX_READ_REGISTERS))
		return fail_as(b, BUS_ERR_OTHER, "bad request: %u %s",
		               (unsigned)count, bits ? "bits" : "registers");
	return 0;
}

/* The second bound of the deadline (bus.h): a reply complete later than
 * timeout_ms + BUS_DEADLINE_MARGIN_MS after its request is a timeout.
 * Returns 0, or -1. */
static int check_took(struct bus *b)
{
	int64_t took = mono_us() - b->t0;

	if (took > (int64_t)(b->timeout_ms + BUS_DEADLINE_MARGIN_MS) * 1000)
		return fail_as(b, BUS_ERR_TIMEOUT,
		               "reply complete after %lld ms, over %d ms",
		               (long long)(took / 1000), b->timeout_ms);
	return 0;
}

int bus_read(struct bus *b, int unit, enum bus_table table, uint16_t addr,
             uint16_t count, uint16_t *out)
{
	if (check_request(b, table, count) == -1)
		return -1;
	if (begin(b, unit) == -1)
		return -1;
	b->t0 = mono_us();
	int rc = b->kind == BUS_TCP
	                 ? tcp_send(b, unit, table, addr, count) == -1
	                           ? -1
	                           : tcp_receive(b, out)
	                 : rtu_read(b, table, addr, count, out);
	if (rc == -1)
		return -1;
	return check_took(b);
}

int bus_send(struct bus *b, int unit, enum bus_table table, uint16_t addr,
             uint16_t count)
{
	if (check_request(b, table, count) == -1)
		return -1;
	if (b->kind != BUS_TCP)
		return fail_as(b, BUS_ERR_OTHER, "not a TCP bus");
	if (interrupted(b))
		return fail_as(b, BUS_ERR_STOPPED, "stopped");
	flush_line(b);
	if (!b->connected)
		return 1; /* never connected, or hung up on by flush_line() */
	clear_error(b);
	/* never let libmodbus wait (bus_finish() calls it when the whole
	 * reply is there): a reply cut short fails at once, not at the
	 * deadline, which is the caller's to keep */
	modbus_set_response_timeout(b->ctx, 0, 1);
	b->t0 = mono_us();
	return tcp_send(b, unit, table, addr, count);
}

/* How many bytes libmodbus 3.1.6's modbus_receive_confirmation() reads
 * for the reply whose first n bytes are a (at least what it needs to
 * know more, when n is too short to tell): the MBAP header and the
 * function code, then as many bytes as the function code says follow
 * (modbus.c, compute_meta_length_after_function()), then, for reads,
 * the byte count; a length over the largest ADU is refused at once. For
 * every well-formed reply this is 6 + the MBAP length field; a reply
 * whose MBAP length disagrees is refused by tcp_receive() after. */
static size_t adu_length(const uint8_t *a, size_t n)
{
	size_t need = MBAP_LEN + 1;

	if (n < need)
		return need;
	int f = a[MBAP_LEN];
	need += f == MODBUS_FC_WRITE_SINGLE_COIL ||
	                        f == MODBUS_FC_WRITE_SINGLE_REGISTER ||
	                        f == MODBUS_FC_WRITE_MULTIPLE_COILS ||
	                        f == MODBUS_FC_WRITE_MULTIPLE_REGISTERS
	                ? 4
	        : f == MODBUS_FC_MASK_WRITE_REGISTER ? 6
	                                             : 1;
	if (n < need)
		return need;
	if (f <= MODBUS_FC_READ_INPUT_REGISTERS ||
	    f == MODBUS_FC_REPORT_SLAVE_ID ||
	    f == MODBUS_FC_WRITE_AND_READ_REGISTERS)
		need += a[MBAP_LEN + 1];
	return need > MODBUS_TCP_MAX_ADU_LENGTH ? n : need;
}

int bus_reply_ready(struct bus *b)
{
	uint8_t a[MODBUS_TCP_MAX_ADU_LENGTH];
	int fd = bus_socket(b);

	if (fd == -1)
		return 1; /* bus_finish() reports it */
	ssize_t n = recv(fd, a, sizeof(a), MSG_PEEK | MSG_DONTWAIT);
	if (n == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
		               ? 0
		               : 1;
	if (n == 0)
		return 1; /* the peer hung up: libmodbus reads the end */
	return (size_t)n >= adu_length(a, (size_t)n);
}

int bus_finish(struct bus *b, uint16_t *out)
{
	if (!b->connected)
		return fail(b, ENOTCONN);
	if (tcp_receive(b, out) == -1)
		return -1;
	return check_took(b);
}

int bus_expire(struct bus *b)
{
	return fail(b, ETIMEDOUT);
}

enum bus_error bus_last_error(const struct bus *b)
{
	return b->error;
}

int bus_last_exception(const struct bus *b)
{
	return b->exception;
}

const char *bus_last_message(const struct bus *b)
{
	return b->message != NULL   ? b->message
	       : b->error != BUS_OK ? "out of memory"
	                            : "";
}

const char *bus_name(const struct bus *b)
{
	return b->name;
}

const char *bus_where(const struct bus *b)
{
	return b->where;
}

/* The soft limit bus_fd_budget() aims at: the hard limit, at most
 * FD_SETSIZE. */
static rlim_t fd_ceiling(const struct rlimit *rl)
{
	return rl->rlim_max == RLIM_INFINITY || rl->rlim_max > FD_SETSIZE
	               ? FD_SETSIZE
	               : rl->rlim_max;
}

int bus_fd_budget(int nbuses, char *msg, size_t msglen)
{
	struct rlimit rl;
	long need = (long)nbuses + BUS_FD_RESERVE;

	msg[0] = '\0';
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		snprintf(msg, msglen, "cannot read the descriptor limit: %s",
		         strerror(errno));
		return -1;
	}
	rlim_t was = rl.rlim_cur, want = fd_ceiling(&rl);
	if (was != want) {
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			snprintf(msg, msglen,
			         "descriptor limit (soft RLIMIT_NOFILE) set "
			         "from %llu to %llu%s",
			         (unsigned long long)was,
			         (unsigned long long)want,
			         want == FD_SETSIZE && was > want
			                 ? ": libmodbus's select() takes "
			                   "descriptors below 1024 only"
			                 : "");
		else
			snprintf(
			        msg, msglen,
			        "descriptor limit (soft RLIMIT_NOFILE) kept at "
			        "%llu: cannot set it to %llu: %s",
			        (unsigned long long)was,
			        (unsigned long long)want, strerror(errno));
		if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
			rl.rlim_cur = was;
	}
	/* a soft limit left above FD_SETSIZE still holds buses below it */
	if ((rlim_t)need <= rl.rlim_cur && need <= FD_SETSIZE)
		return 0;
	if (rl.rlim_cur < FD_SETSIZE)
		snprintf(msg, msglen,
		         "%d buses need %ld descriptors (one each, %d for the "
		         "database, MQTT and the log) but the limit is %llu: "
		         "raise it (LimitNOFILE= in the systemd unit, ulimit "
		         "-n)",
		         nbuses, need, BUS_FD_RESERVE,
		         (unsigned long long)rl.rlim_cur);
	else
		snprintf(msg, msglen,
		         "%d buses are too many: at most %d (libmodbus waits "
		         "with select(), which takes descriptors below %d "
		         "only, and %d are kept for the database, MQTT and the "
		         "log)",
		         nbuses, FD_SETSIZE - BUS_FD_RESERVE, FD_SETSIZE,
		         BUS_FD_RESERVE);
	return -1;
}
