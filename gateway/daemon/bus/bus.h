/*
 * bus.h - one Modbus bus (a TCP endpoint or a serial line) as a client.
 *
 * The only module that includes <modbus.h>: libmodbus's errors are turned
 * into enum bus_error here, with a message for the log. A bus is used by one
 * thread at a time (its poller); nothing here is shared.
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
};

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
 * wrong transaction or unit id) is an error, after which the line is
 * flushed again so it never passes for the next reply. Returns 0, or -1
 * with the reason in bus_last_error(). */
int bus_read(struct bus *b, int unit, enum bus_table table, uint16_t addr,
             uint16_t count, uint16_t *out);

enum bus_error bus_last_error(const struct bus *b);
/* The exception code of the last BUS_ERR_EXCEPTION (1..255), else 0. */
int bus_last_exception(const struct bus *b);
/* The last error as text, e.g. "timeout after 500 ms" or "exception 02
 * (illegal data address)". */
const char *bus_last_message(const struct bus *b);
/* "tcp 127.0.0.1:1502" or "rtu /dev/ttyUSB0 19200 8E1" */
const char *bus_name(const struct bus *b);

#endif
