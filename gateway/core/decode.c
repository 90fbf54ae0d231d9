/*
 * decode.c - see decode.h. Byte orders are applied as a permutation table,
 * so the eight 64-bit orders and the four 32-bit orders are one code path.
 */
#include "decode.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	enum decode_type type;
	unsigned words;
} types[] = {
        {"bit", DECODE_BIT, 0},         {"bool", DECODE_BIT, 0},
        {"int16", DECODE_INT16, 1},     {"uint16", DECODE_UINT16, 1},
        {"int32", DECODE_INT32, 2},     {"uint32", DECODE_UINT32, 2},
        {"int64", DECODE_INT64, 4},     {"uint64", DECODE_UINT64, 4},
        {"float32", DECODE_FLOAT32, 2}, {"float64", DECODE_FLOAT64, 4},
        {"bcd16", DECODE_BCD16, 1},     {"bcd32", DECODE_BCD32, 2},
        {"string", DECODE_STRING, 0},
};

int decode_type_parse(const char *name, enum decode_type *type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcmp(name, types[i].name) == 0) {
			*type = types[i].type;
			return 0;
		}
	}
	return -1;
}

bool decode_type_single(const char *channel_type)
{
	char name[32];
	enum decode_type t;

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(channel_type, " "),
	         channel_type);
	return decode_type_parse(name, &t) == 0 && t == DECODE_FLOAT32;
}

const char *decode_type_name(enum decode_type type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == type && strcmp(types[i].name, "bool") != 0)
			return types[i].name;
	return "?";
}

unsigned decode_words(const struct decode_spec *spec)
{
	if (spec->type == DECODE_STRING)
		return spec->string_words;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == spec->type)
			return types[i].words;
	return 0;
}

void decode_spec_init(struct decode_spec *spec, enum decode_type type)
{
	memset(spec, 0, sizeof(*spec));
	spec->type = type;
	for (uint8_t i = 0; i < DECODE_ORDER_MAX; i++)
		spec->order[i] = i;
	spec->string_words = 1;
	spec->scale = 1.0;
}

/* The byte count an order describes for a type: 2, 4 or 8. */
static unsigned order_bytes(const struct decode_spec *spec)
{
	unsigned words = decode_words(spec);

	if (spec->type == DECODE_BIT || spec->type == DECODE_STRING)
		return 2; /* AB or BA: the byte order within each register */
	return 2 * words;
}

/* Parse exactly n distinct letters A.. into a permutation. */
static int parse_letters(const char *s, unsigned n, uint8_t *order)
{
	unsigned seen = 0;

	if (strlen(s) != n)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		int k = toupper((unsigned char)s[i]) - 'A';
		if (k < 0 || (unsigned)k >= n || (seen & (1u << k)))
			return -1;
		seen |= 1u << k;
		order[i] = (uint8_t)k;
	}
	return 0;
}

int decode_order_parse(struct decode_spec *spec, const char *s)
{
	unsigned n = order_bytes(spec);
	uint8_t four[4];

	if (parse_letters(s, n, spec->order) == 0)
		return 0;
	if (n == 4 || parse_letters(s, 4, four) == -1)
		return -1;
	/* A 4-letter order: only the four classic ones, stretched. */
	bool swap_bytes = four[0] == 1 || four[0] == 3; /* BADC, DCBA */
	bool swap_words = four[0] == 2 || four[0] == 3; /* CDAB, DCBA */
	bool classic = (four[1] ^ 1) == four[0] && (four[2] ^ 2) == four[0] &&
	               (four[3] ^ 3) == four[0];
	if (!classic)
		return -1;
	unsigned words = n / 2;
	for (unsigned i = 0; i < n; i++) {
		unsigned word = i / 2, byte = i % 2;
		if (swap_words && n > 2)
			word = words - 1 - word;
		if (swap_bytes)
			byte ^= 1;
		spec->order[i] = (uint8_t)(2 * word + byte);
	}
	return 0;
}

uint64_t decode_raw(const struct decode_spec *spec, const uint16_t *regs)
{
	unsigned n = 2 * decode_words(spec);
	uint64_t v = 0;

	if (n > DECODE_ORDER_MAX)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		uint8_t byte = (uint8_t)(i % 2 == 0 ? regs[i / 2] >> 8
		                                    : regs[i / 2] & 0xFF);
		v |= (uint64_t)byte << (8 * (n - 1 - spec->order[i]));
	}
	return v;
}

/* BCD digits of raw (ndigits nibbles) into *out; -1 on a nibble over 9. */
static int bcd(uint64_t raw, unsigned ndigits, double *out)
{
	double v = 0;

	for (unsigned i = ndigits; i-- > 0;) {
		unsigned d = (unsigned)(raw >> (4 * i)) & 0xF;
		if (d > 9)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int decode_value(const struct decode_spec *spec, const uint16_t *regs,
                 double *value)
{
	uint64_t raw = decode_raw(spec, regs);
	double v;

	switch (spec->type) {
	case DECODE_BIT:
		v = (regs[0] >> (spec->bit & 15)) & 1;
		break;
	case DECODE_INT16:
		v = (int16_t)(uint16_t)raw;
		break;
	case DECODE_UINT16:
		v = (uint16_t)raw;
		break;
	case DECODE_INT32:
		v = (int32_t)(uint32_t)raw;
		break;
	case DECODE_UINT32:
		v = (uint32_t)raw;
		break;
	case DECODE_INT64:
		v = (double)(int64_t)raw;
		break;
	case DECODE_UINT64:
		v = (double)raw;
		break;
	case DECODE_FLOAT32: {
		uint32_t u = (uint32_t)raw;
		float f;
		memcpy(&f, &u, sizeof(f));
		v = f;
		break;
	}
	case DECODE_FLOAT64:
		memcpy(&v, &raw, sizeof(v));
		break;
	case DECODE_BCD16:
		if (bcd(raw, 4, &v) == -1)
			return -1;
		break;
	case DECODE_BCD32:
		if (bcd(raw, 8, &v) == -1)
			return -1;
		break;
	default: /* DECODE_STRING has no numeric value */
		return -1;
	}
	if (!isfinite(v))
		return -1;
	*value = v * spec->scale + spec->offset;
	return 0;
}

size_t decode_string(const struct decode_spec *spec, const uint16_t *regs,
                     char *out, size_t size)
{
	size_t n = 0;

	if (size == 0)
		return 0;
	for (unsigned w = 0; w < spec->string_words; w++) {
		for (unsigned b = 0; b < 2 && n + 1 < size; b++) {
			unsigned pos = spec->order[b]; /* 0 = high byte */
			out[n++] = (char)(pos == 0 ? regs[w] >> 8
			                           : regs[w] & 0xFF);
		}
	}
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\0' || out[n - 1] == ' '))
		out[--n] = '\0';
	return strlen(out);
}
