/*
 * Unit tests of mbaddr_register_number(): manual register numbers (30001,
 * 400001, ...) to a table and a 0-based protocol address.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bus.h"

static void five_and_six_digit_numbers(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		enum bus_table table;
		uint16_t addr;
	} ok[] = {
	        {"00001", BUS_COILS, 0},
	        {"09999", BUS_COILS, 9998},
	        {"10001", BUS_DISCRETE_INPUTS, 0},
	        {"30001", BUS_INPUT_REGISTERS, 0},
	        {"33003", BUS_INPUT_REGISTERS, 3002},
	        {"40001", BUS_HOLDING_REGISTERS, 0},
	        {"49999", BUS_HOLDING_REGISTERS, 9998},
	        {"000001", BUS_COILS, 0},
	        {"030001", BUS_COILS,
	         30000}, /* six digits: a coil, not 30001 */
	        {"165536", BUS_DISCRETE_INPUTS, 65535},
	        {"300001", BUS_INPUT_REGISTERS, 0},
	        {"465536", BUS_HOLDING_REGISTERS, 65535},
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		enum bus_table t = BUS_COILS;
		uint16_t a = 1;
		assert_int_equal(mbaddr_register_number(ok[i].s, &t, &a), 0);
		assert_int_equal(t, ok[i].table);
		assert_int_equal(a, ok[i].addr);
	}
}

static void not_register_numbers(void **state)
{
	(void)state;
	static const char *bad[] = {"",       "1",       "3001",  "30000",
	                            "40000",  "20001",   "50001", "465537",
	                            "400000", "4000001", "4000a", "-4001",
	                            "3 001"};
	enum bus_table t;
	uint16_t a;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mbaddr_register_number(bad[i], &t, &a) != -1)
			fail_msg("'%s' was accepted", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(five_and_six_digit_numbers),
	        cmocka_unit_test(not_register_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
