/*
 * bus.h - one Modbus bus (a TCP endpoint or a serial line) as a client.
 *
 * The only module that includes <modbus.h>: libmodbus's errors are turned
 * into enum bus_error here, with a message for the log. A bus is used by one
 * thread at a time (its poller); the one exception is bus_interrupt(), which
 * another thread may call to end the request in flight.
 *
 * One deadline per request: the whole reply, however slowly its bytes
 * come, must be complete within timeout_ms of the request being sent, or
 * the request fails with BUS_ERR_TIMEOUT (libmodbus's response timeout,
 * with its byte timeout off); as a second bound, a reply measured complete
 * more than BUS_DEADLINE_MARGIN_MS after that is a timeout as well. A device
 * can so hold its bus for at most timeout_ms + BUS_DEADLINE_MARGIN_MS per
 * request, whatever it sends.
 */
#ifndef METROLOG_BUS_H
#define METROLOG_BUS_H

#include <stddef.h>
#include <stdint.h>

#include "mbaddr.h"

/* What went wrong with the last request. */
enum bus_error {
	BUS_OK = 0,
	BUS_ERR_CONNECT,   /* could not connect, or the connection dropped */
	BUS_ERR_TIMEOUT,   /* no (complete) reply in time */
	BUS_ERR_EXCEPTION, /* the instrument answered with an exception */
	BUS_ERR_CRC,       /* RTU reply with a wrong CRC */
	BUS_ERR_REPLY,     /* a reply that does not match the request */
	BUS_ERR_OTHER,
	BUS_ERR_STOPPED, /* bus_interrupt() ended it: no answer either way */
};

/* What a reply may take beyond timeout_ms, measured around the request:
 * libmodbus itself ends the wait at timeout_ms (the byte timeout is off,
 * so its response timeout covers the whole reply); this second check only
 * bounds a request should that ever fail, and is generous because the
 * time measured also holds this thread's own scheduling delays (a loaded
 * machine, valgrind), which must not turn a reply that arrived in time
 * into a timeout. */
#define BUS_DEADLINE_MARGIN_MS 1000

struct bus;

/* A bus for p (strings are copied). Does not connect. Returns NULL with
 * a reason in err when the parameters are invalid. Free with bus_free(). */
struct bus *bus_new(const struct bus_params *p, char *err, size_t errlen);
void bus_free(struct bus *b); /* NULL allowed */

/* Connect if not connected. Returns 0, or -1 (see bus_last_error()). */
int bus_connect(struct bus *b);
void bus_close(struct bus *b);

/* Read count registers (1..125) or bits (1..2000) from unit into out,
 * which holds count words; a bit is stored as 0 or 1 in its own word.
 * Connects on demand. Stale bytes on the line are flushed before the
 * request; a reply that does not match it (late reply after a timeout,
 * wrong transaction or unit id, function code, byte count) is an error,
 * after which the line is flushed again so it never passes for the next
 * reply (a TCP peer that keeps sending is disconnected instead); on TCP a
 * timeout closes the connection (the rest of a late reply would otherwise
 * arrive in the middle of the next one). The whole reply is bounded by the
 * deadline above. Returns 0, or -1 with the reason
 * in bus_last_error(). */
int bus_read(struct bus *b, int unit, enum bus_table table, uint16_t addr,
             uint16_t count, uint16_t *out);

/* TCP without waiting, for a thread that serves many buses (mux.c); the
 * deadline is then the caller's to keep. A bus is driven either by
 * bus_read() or by these, not both.
 *
 * bus_connect_start(): start connecting if not connected. Returns 0 when
 * connected, 1 when a connection is on its way (wait until bus_socket() is
 * writable, then call bus_connect_end()), -1 on failure (BUS_ERR_CONNECT,
 * "cannot connect: ..." as bus_connect()). The host name is resolved here
 * (getaddrinfo(3): a name not in /etc/hosts waits for the resolver).
 * bus_connect_end(): 0 connected, 1 on its way again (the next address of
 * the host: a new bus_socket()), -1 failed. bus_connect_abort(): the
 * caller's deadline passed: drop the attempt; returns -1 with
 * "cannot connect: Connection timed out". */
int bus_connect_start(struct bus *b);
int bus_connect_end(struct bus *b);
int bus_connect_abort(struct bus *b);

/* The socket connected or connecting, -1 when none (TCP). */
int bus_socket(const struct bus *b);

/* Send a read as bus_read() does (stale bytes flushed first), without
 * waiting for the reply. Returns 0 when sent, 1 when the bus is not
 * connected (bus_connect_start() first), -1 on failure. */
int bus_send(struct bus *b, int unit, enum bus_table table, uint16_t addr,
             uint16_t count);

/* Whether bus_finish() can end the request sent without waiting: 1 when
 * every byte of the reply libmodbus will read is there (or the connection
 * ended or failed), 0 when more is to come. Never waits. */
int bus_reply_ready(struct bus *b);

/* Read and check the reply (as bus_read(): the same checks, the same
 * errors, BUS_DEADLINE_MARGIN_MS included) once bus_reply_ready() said 1.
 * Returns 0, or -1 with the reason in bus_last_error(). */
int bus_finish(struct bus *b, uint16_t *out);

/* The request's deadline passed without a whole reply: BUS_ERR_TIMEOUT,
 * "no complete reply within N ms", the connection closed. Returns -1. */
int bus_expire(struct bus *b);

/* End the request in flight now and refuse every later one with
 * BUS_ERR_STOPPED; safe from any thread while another uses the bus. On TCP
 * the connection is shut down, which wakes the waiting reader; on RTU the
 * request in flight still ends at its deadline (a serial line cannot be
 * woken from another thread). */
void bus_interrupt(struct bus *b);

enum bus_error bus_last_error(const struct bus *b);
/* The exception code of the last BUS_ERR_EXCEPTION (1..255), else 0. */
int bus_last_exception(const struct bus *b);
/* The last error as text, e.g. "no complete reply within 500 ms",
 * "exception 02 (illegal data address)", "cannot connect: Connection
 * refused" (TCP) or "cannot open /dev/ttyUSB0: No such file or directory"
 * (RTU: the device named, with strerror of open(2)'s errno). */
const char *bus_last_message(const struct bus *b);
/* "tcp 127.0.0.1:1502" or "rtu /dev/ttyUSB0 19200 8E1" */
const char *bus_name(const struct bus *b);
/* Where the bus talks: "127.0.0.1:1502" or "/dev/ttyUSB0", for messages
 * such as "bus rs485-1 (/dev/ttyUSB0): ..." */
const char *bus_where(const struct bus *b);

/* Descriptors metrologd holds besides its buses' sockets and lines, with
 * room to spare: measured at 1 000 TCP buses, 9 (standard input, output
 * and error, the database, its WAL and shared memory, the MQTT socket, the
 * log), plus the TCP poller threads' epoll and eventfd (two each, two
 * threads at most under this limit: mux.c), plus short-lived ones (a CA
 * file while connecting, SQLite's temporary files). */
#define BUS_FD_RESERVE 16

/* The descriptors of nbuses buses, checked once before their pollers
 * start. libmodbus waits for every bus (TCP and RTU) with select(), whose
 * fd_set holds descriptors below FD_SETSIZE (1024) only: a bus given a
 * descriptor of 1024 or more aborts the whole process ("bit out of range
 * 0 - FD_SETSIZE on fd_set"). So the soft RLIMIT_NOFILE is set to
 * min(hard limit, FD_SETSIZE): raised when below (a descriptor short is
 * "Too many open files" on some bus), lowered when above (one too many
 * fails with EMFILE, a bus offline, instead of an abort). A soft limit
 * that cannot be changed (a seccomp filter, EPERM) is kept as it is.
 * Returns -1 with the reason in msg when nbuses + BUS_FD_RESERVE do not
 * fit under the resulting soft limit, else 0 with msg saying what was
 * changed, or "" when nothing was. */
int bus_fd_budget(int nbuses, char *msg, size_t msglen);

#endif
