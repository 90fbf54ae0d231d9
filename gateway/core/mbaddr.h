/*
 * mbaddr.h - Modbus addressing as data: the four tables (their names
 * parsed and printed here and nowhere else), register numbers as
 * instrument manuals print them, and the parameters of a bus (a TCP
 * endpoint or a serial line).
 *
 * Pure: no I/O, no global state, any thread. The bus module (daemon/bus.c)
 * is the one that talks Modbus; this header is what the configuration,
 * the planner, the database and the tool say about addresses.
 */
#ifndef METROLOG_MBADDR_H
#define METROLOG_MBADDR_H

#include <stdbool.h>
#include <stdint.h>

enum bus_kind { BUS_TCP, BUS_RTU };

struct bus_params {
	enum bus_kind kind;
	const char *host; /* TCP */
	int port;
	const char *device; /* RTU */
	int baud;
	char parity; /* 'N', 'E' or 'O' */
	int data_bits, stop_bits;
	int timeout_ms; /* response timeout */
};

enum bus_table {
	BUS_COILS,
	BUS_DISCRETE_INPUTS,
	BUS_INPUT_REGISTERS,
	BUS_HOLDING_REGISTERS,
};

/*
 * The names of the tables, one list for the configuration, the tool and
 * the database:
 *
 *   table              name (canonical)  also accepted
 *   input registers    input             input_registers
 *   holding registers  holding           holding_registers
 *   coils              coil              coils
 *   discrete inputs    discrete          discrete_inputs
 *
 * mbaddr_table_parse() takes any of them and returns 0, or -1 for none.
 */
int mbaddr_table_parse(const char *name, enum bus_table *t);

/* The canonical name ("input", "holding", "coil", "discrete"), as stored
 * in the database's channels.reg_table. */
const char *mbaddr_table_name(enum bus_table t);

/* The canonical names, NULL-terminated, in the order of the table above
 * (for "expected one of" messages); then the aliases. */
extern const char *const mbaddr_table_names[];
#define MBADDR_TABLE_CANONICAL 4 /* the first 4 of mbaddr_table_names */

/* For people: "holding register" or "holding registers". */
const char *mbaddr_table_noun(enum bus_table t, bool plural);

/* Input and holding registers hold words; coils and discrete inputs bits. */
bool mbaddr_table_words(enum bus_table t);

/*
 * Convert a register number as printed in instrument manuals to a table and
 * a 0-based protocol address. Five digits: 00001-09999 coils, 10001-19999
 * discrete inputs, 30001-39999 input registers, 40001-49999 holding
 * registers, address = number - base - 1 (so 40001 is holding register 0).
 * Six digits: 000001-065536, 100001-165536, 300001-365536, 400001-465536
 * likewise. The number of digits decides, so write the leading zeros of a
 * coil. Returns 0, or -1 when s is not such a number.
 */
int mbaddr_register_number(const char *s, enum bus_table *table,
                           uint16_t *addr);

#endif
