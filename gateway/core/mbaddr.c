/*
 * mbaddr.c - Modbus table names and register numbers (mbaddr.h).
 */
#include "mbaddr.h"

#include <stddef.h>
#include <string.h>

const char *const mbaddr_table_names[] = {
        "input",    "holding",         "coil",
        "discrete", "input_registers", "holding_registers",
        "coils",    "discrete_inputs", NULL};

/* The table each of mbaddr_table_names[] means. */
static const enum bus_table table_of[] = {
        BUS_INPUT_REGISTERS, BUS_HOLDING_REGISTERS, BUS_COILS,
        BUS_DISCRETE_INPUTS, BUS_INPUT_REGISTERS,   BUS_HOLDING_REGISTERS,
        BUS_COILS,           BUS_DISCRETE_INPUTS};

int mbaddr_table_parse(const char *name, enum bus_table *t)
{
	for (size_t i = 0; mbaddr_table_names[i] != NULL; i++) {
		if (strcmp(name, mbaddr_table_names[i]) == 0) {
			*t = table_of[i];
			return 0;
		}
	}
	return -1;
}

const char *mbaddr_table_name(enum bus_table t)
{
	for (size_t i = 0; i < MBADDR_TABLE_CANONICAL; i++)
		if (table_of[i] == t)
			return mbaddr_table_names[i];
	return "?";
}

const char *mbaddr_table_noun(enum bus_table t, bool plural)
{
	switch (t) {
	case BUS_COILS:
		return plural ? "coils" : "coil";
	case BUS_DISCRETE_INPUTS:
		return plural ? "discrete inputs" : "discrete input";
	case BUS_INPUT_REGISTERS:
		return plural ? "input registers" : "input register";
	case BUS_HOLDING_REGISTERS:
		return plural ? "holding registers" : "holding register";
	}
	return "?";
}

bool mbaddr_table_words(enum bus_table t)
{
	return t == BUS_INPUT_REGISTERS || t == BUS_HOLDING_REGISTERS;
}

int mbaddr_register_number(const char *s, enum bus_table *table, uint16_t *addr)
{
	static const enum bus_table by_digit[] = {
	        ['0'] = BUS_COILS,
	        ['1'] = BUS_DISCRETE_INPUTS,
	        ['3'] = BUS_INPUT_REGISTERS,
	        ['4'] = BUS_HOLDING_REGISTERS,
	};
	size_t len = strlen(s);
	long offset = 0;

	if (len != 5 && len != 6)
		return -1;
	for (size_t i = 1; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		offset = offset * 10 + (s[i] - '0');
	}
	if (s[0] != '0' && s[0] != '1' && s[0] != '3' && s[0] != '4')
		return -1;
	if (offset < 1 || offset > (len == 5 ? 9999 : 65536))
		return -1;
	*table = by_digit[(unsigned char)s[0]];
	*addr = (uint16_t)(offset - 1);
	return 0;
}
