/*
 * bus.c - see bus.h. A thin layer over libmodbus that owns one modbus_t,
 * connects lazily, and turns libmodbus's errno values into enum bus_error
 * plus a message. Used by one thread at a time.
 */
#include "bus.h"

#include <errno.h>
#include <modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bus {
	modbus_t *ctx;
	int connected;
	int timeout_ms;
	enum bus_error error;
	int exception;
	char message[160];
	char name[160];
};

struct bus *bus_new(const struct bus_params *p, char *err, size_t errlen)
{
	struct bus *b = calloc(1, sizeof(*b));

	if (b == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (p->kind == BUS_TCP) {
		char service[16]; /* a host name or address, and a port */
		snprintf(service, sizeof(service), "%d", p->port);
		b->ctx = modbus_new_tcp_pi(p->host, service);
		snprintf(b->name, sizeof(b->name), "tcp %s:%d", p->host,
		         p->port);
	} else {
		b->ctx = modbus_new_rtu(p->device, p->baud, p->parity,
		                        p->data_bits, p->stop_bits);
		snprintf(b->name, sizeof(b->name), "rtu %s %d %d%c%d",
		         p->device, p->baud, p->data_bits, p->parity,
		         p->stop_bits);
	}
	if (b->ctx == NULL) {
		snprintf(err, errlen, "%s: %s", b->name,
		         modbus_strerror(errno));
		free(b);
		return NULL;
	}
	b->timeout_ms = p->timeout_ms;
	modbus_set_response_timeout(b->ctx, (uint32_t)(p->timeout_ms / 1000),
	                            (uint32_t)(p->timeout_ms % 1000) * 1000);
	return b;
}

void bus_free(struct bus *b)
{
	if (b == NULL)
		return;
	bus_close(b);
	modbus_free(b->ctx);
	free(b);
}

static const char *exception_text(int e)
{
	switch (e) {
	case EMBXILFUN:
		return "exception 01 (illegal function)";
	case EMBXILADD:
		return "exception 02 (illegal data address)";
	case EMBXILVAL:
		return "exception 03 (illegal data value)";
	case EMBXSFAIL:
		return "exception 04 (server device failure)";
	case EMBXACK:
		return "exception 05 (acknowledge)";
	case EMBXSBUSY:
		return "exception 06 (server busy)";
	case EMBXMEMPAR:
		return "exception 08 (memory parity error)";
	case EMBXGPATH:
		return "exception 0A (gateway path unavailable)";
	case EMBXGTAR:
		return "exception 0B (gateway target failed to respond)";
	default:
		return NULL;
	}
}

/* Record errno e of a failed libmodbus call; returns -1. */
static int fail(struct bus *b, int e)
{
	const char *ex = exception_text(e);

	b->exception = 0;
	if (ex != NULL) {
		b->error = BUS_ERR_EXCEPTION;
		b->exception = e - MODBUS_ENOBASE;
		snprintf(b->message, sizeof(b->message), "%s", ex);
		return -1;
	}
	switch (e) {
	case ETIMEDOUT:
		b->error = BUS_ERR_TIMEOUT;
		snprintf(b->message, sizeof(b->message),
		         "no reply within %d ms", b->timeout_ms);
		break;
	case EMBBADCRC:
		b->error = BUS_ERR_CRC;
		snprintf(b->message, sizeof(b->message), "reply with bad CRC");
		break;
	case EMBBADDATA:
	case EMBBADEXC:
	case EMBMDATA:
	case EMBBADSLAVE:
		b->error = BUS_ERR_REPLY;
		snprintf(b->message, sizeof(b->message),
		         "reply does not match the request: %s",
		         modbus_strerror(e));
		break;
	case ECONNREFUSED:
	case ECONNRESET:
	case EPIPE:
	case EBADF:
	case ENOTCONN:
	case EHOSTUNREACH:
	case ENETUNREACH:
		b->error = BUS_ERR_CONNECT;
		snprintf(b->message, sizeof(b->message), "%s",
		         modbus_strerror(e));
		break;
	default:
		b->error = BUS_ERR_OTHER;
		snprintf(b->message, sizeof(b->message), "%s",
		         modbus_strerror(e));
	}
	/* A reply out of step or a broken link: start clean next time. */
	if (b->error == BUS_ERR_CONNECT || b->error == BUS_ERR_OTHER)
		bus_close(b);
	else if (b->connected)
		modbus_flush(b->ctx);
	return -1;
}

int bus_connect(struct bus *b)
{
	if (b->connected)
		return 0;
	if (modbus_connect(b->ctx) == -1) {
		int e = errno;
		b->error = BUS_ERR_CONNECT;
		snprintf(b->message, sizeof(b->message), "cannot connect: %s",
		         modbus_strerror(e));
		return -1;
	}
	b->connected = 1;
	return 0;
}

void bus_close(struct bus *b)
{
	if (b->connected) {
		modbus_close(b->ctx);
		b->connected = 0;
	}
}

static int begin(struct bus *b, int unit)
{
	if (bus_connect(b) == -1)
		return -1;
	if (modbus_set_slave(b->ctx, unit) == -1)
		return fail(b, errno);
	modbus_flush(b->ctx);
	b->error = BUS_OK;
	b->exception = 0;
	b->message[0] = '\0';
	return 0;
}

int bus_read(struct bus *b, int unit, enum bus_table table, uint16_t addr,
             uint16_t count, uint16_t *out)
{
	uint8_t bits[MODBUS_MAX_READ_BITS];
	int r;

	if (begin(b, unit) == -1)
		return -1;
	switch (table) {
	case BUS_INPUT_REGISTERS:
		r = modbus_read_input_registers(b->ctx, addr, count, out);
		break;
	case BUS_HOLDING_REGISTERS:
		r = modbus_read_registers(b->ctx, addr, count, out);
		break;
	case BUS_COILS:
	case BUS_DISCRETE_INPUTS:
		if (count > MODBUS_MAX_READ_BITS)
			return fail(b, EMBMDATA);
		r = table == BUS_COILS
		            ? modbus_read_bits(b->ctx, addr, count, bits)
		            : modbus_read_input_bits(b->ctx, addr, count, bits);
		for (int i = 0; r == count && i < count; i++)
			out[i] = bits[i];
		break;
	default:
		return fail(b, EINVAL);
	}
	if (r == -1)
		return fail(b, errno);
	if (r != count)
		return fail(b, EMBBADDATA);
	return 0;
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
	return b->message;
}

const char *bus_name(const struct bus *b)
{
	return b->name;
}
