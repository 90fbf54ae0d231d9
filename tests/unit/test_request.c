/*
 * Unit tests of the records request parser (gateway/core/request.c,
 * docs/MQTT.md): the enterprise from the topic, the reply topic from the
 * Response Topic or "reply_to", each field and its refusals with the
 * words the error reply carries, and what an error reply still gets (its
 * topic, its correlation); text that is not UTF-8 refused, a field name
 * cut on a character, reply topics a broker would refuse refused; the
 * UTF-8 helpers of gateway/core/text.c the parser and msg.c rely on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../utf8_strict.h"
#include "request.h"
#include "text.h"

#define BASE  "metrolog/lab-1/"
#define TOPIC BASE "requests/ACME/records"
#define REPLY BASE "replies/ACME/"

static struct request req;
static char why[512];

static enum request_status parse3(const char *topic, const char *response,
                                  const char *payload)
{
	why[0] = '\0';
	return request_parse(&req, BASE, topic, response, payload,
	                     strlen(payload), why, sizeof(why));
}

static enum request_status parse(const char *payload)
{
	return parse3(TOPIC, NULL, payload);
}

static void bad(const char *payload, const char *want)
{
	assert_int_equal(parse(payload), REQUEST_BAD);
	assert_string_equal(why, want);
}

static void answered(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"instrument\":\"TB-01\",\"since\":\"2026-01-"
	                       "01\",\"reply_to\":\"" REPLY "r1\","
	                       "\"correlation\":\"42\"}"),
	                 REQUEST_OK);
	assert_string_equal(req.enterprise, "ACME");
	assert_string_equal(req.reply_to, REPLY "r1");
	assert_string_equal(req.errors, REPLY "errors");
	assert_string_equal(req.instrument, "TB-01");
	assert_true(req.has_correlation);
	assert_string_equal(req.correlation, "42");
	assert_true(req.since_us == 1767225600LL * 1000000);

	/* MQTT 5: the Response Topic, an empty request */
	assert_int_equal(parse3(TOPIC, REPLY "r2", "{}"), REQUEST_OK);
	assert_string_equal(req.reply_to, REPLY "r2");
	assert_string_equal(req.instrument, "");
	assert_false(req.has_correlation);
	assert_true(req.since_us == 0);
	/* ... which "reply_to" does not replace */
	assert_int_equal(
	        parse3(TOPIC, REPLY "r2", "{\"reply_to\":\"" REPLY "r3\"}"),
	        REQUEST_OK);
	assert_string_equal(req.reply_to, REPLY "r2");
}

static void since(void **state)
{
	(void)state;
	static const char *const refused[] = {
	        "2026-02-29",
	        "2026-1-31",
	        "2026-01-31T24:00:00Z",
	        "2026-01-31T08:60:00Z",
	        "2026-01-31T08:00:00.Z",
	        "2026-01-31Z",
	        "2026-01-31T08:00:00+7",
	        "now",
	        "-30d",
	        "",
	};
	/* the one grammar of utc.h: these all mean 2026-01-31T08:00:00Z */
	static const char *const same[] = {
	        "2026-01-31T08:00Z",         "2026-01-31T08:00:00",
	        "2026-01-31 08:00:00Z",      "2026-01-31T15:00:00+07:00",
	        "2026-01-31T03:30:00-04:30",
	};
	char text[256];

	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		snprintf(text, sizeof(text),
		         "{\"since\":\"%s\",\"reply_to\":\"" REPLY "x\"}",
		         same[i]);
		assert_int_equal(parse(text), REQUEST_OK);
		assert_true(req.since_us ==
		            (1769817600LL + 8 * 3600) * 1000000);
	}
	assert_int_equal(parse("{\"since\":\"1969-12-31\","
	                       "\"reply_to\":\"" REPLY "x\"}"),
	                 REQUEST_OK);
	assert_true(req.since_us == -86400LL * 1000000);

	assert_int_equal(parse("{\"since\":\"2026-01-31T08:00:00.25Z\","
	                       "\"reply_to\":\"" REPLY "x\"}"),
	                 REQUEST_OK);
	assert_true(req.since_us ==
	            (1769817600LL + 8 * 3600) * 1000000 + 250000);
	assert_int_equal(parse("{\"since\":\"2024-02-29T23:59:59.1234567Z\","
	                       "\"reply_to\":\"" REPLY "x\"}"),
	                 REQUEST_OK);
	assert_true(req.since_us == (1709251199LL * 1000000) + 123456);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(text, sizeof(text),
		         "{\"since\":\"%s\",\"reply_to\":\"" REPLY "x\"}",
		         refused[i]);
		bad(text, "since must be an ISO 8601 date such as "
		          "\"2026-01-31\" or \"2026-01-31T08:00:00Z\"");
	}
}

/* The topic of enterprise n letters 'A' long. */
static const char *long_topic(size_t n)
{
	static char t[256];
	char ent[128];

	memset(ent, 'A', n);
	ent[n] = '\0';
	snprintf(t, sizeof(t), BASE "requests/%s/records", ent);
	return t;
}

static void ignored(void **state)
{
	(void)state;
	static const char *const topics[] = {
	        BASE "requests/AC#ME/records",
	        BASE "requests/AC ME/records",
	        BASE "requests//records",
	        "metrolog/lab-2/requests/ACME/records",
	        BASE "request/ACME/records",
	        "metrolog/lab-1/",
	        "",
	};

	for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++) {
		assert_int_equal(parse3(topics[i], NULL, "{}"),
		                 REQUEST_IGNORED);
		assert_string_equal(why, "ignored: the enterprise level is "
		                         "not 1-64 of A-Z a-z 0-9 _ . -");
	}
	assert_int_equal(parse3(long_topic(65), NULL, "{}"), REQUEST_IGNORED);
	/* 64 is a name: the request is answered (with an error) */
	assert_int_equal(parse3(long_topic(64), NULL, "{}"), REQUEST_BAD);
	assert_int_equal(strlen(req.enterprise), 64);
	assert_int_equal(parse3(BASE "requests/a_b.c-9/records", NULL, "{}"),
	                 REQUEST_BAD);
	assert_string_equal(req.enterprise, "a_b.c-9");
}

static void refused(void **state)
{
	(void)state;
	char big[REQUEST_PAYLOAD_MAX + 2];

	/* the Response Topic first: no correlation, the errors topic */
	assert_int_equal(parse3(TOPIC, BASE "replies/OTHER/x",
	                        "{\"correlation\":\"7\"}"),
	                 REQUEST_BAD);
	assert_string_equal(why, "the Response Topic must be under " REPLY);
	assert_string_equal(req.reply_to, "");
	assert_false(req.has_correlation);
	assert_string_equal(req.errors, REPLY "errors");
	/* an error reply keeps the correlation and a good reply_to */
	bad("{\"correlation\":\"7\",\"reply_to\":\"" REPLY "r\",\"x\":1}",
	    "unknown field \"x\" (known: instrument, since, reply_to, "
	    "correlation)");
	assert_string_equal(req.reply_to, REPLY "r");
	assert_string_equal(req.correlation, "7");
	bad("{\"reply_to\":\"" BASE "replies/OTHER/r\",\"correlation\":\"8\"}",
	    "reply_to must be a topic under " REPLY);
	assert_string_equal(req.reply_to, "");
	assert_string_equal(req.correlation, "8");
	bad("{\"reply_to\":\"" REPLY "#\"}",
	    "reply_to must be a topic under " REPLY);
	bad("{\"reply_to\":\"" REPLY "\"}",
	    "reply_to must be a topic under " REPLY);
	bad("{\"instrument\":\"A\",\"instrument\":\"B\"}",
	    "field \"instrument\" given twice");
	bad("{\"since\":20260101}", "field \"since\" must be a string");
	bad("{\"instrument\":\"\"}", "instrument must be an instrument id");
	bad("{}", "no reply topic: give \"reply_to\" (MQTT 3.1.1) or a "
	          "Response Topic property (MQTT 5)");
	bad("{", "malformed JSON");
	bad("{} x", "malformed JSON");
	bad("[1]", "the request must be a JSON object");
	memset(big, ' ', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	bad(big, "request too large: 4097 bytes, at most 4096");
	/* a NUL inside the payload */
	assert_int_equal(request_parse(&req, BASE, TOPIC, NULL, "{}\0{}", 5,
	                               why, sizeof(why)),
	                 REQUEST_BAD);
	assert_string_equal(why, "malformed JSON");
}

static void lengths(void **state)
{
	(void)state;
	char text[1024], v[300];

	memset(v, 'c', 257);
	v[257] = '\0';
	snprintf(text, sizeof(text), "{\"correlation\":\"%s\"}", v);
	bad(text, "correlation longer than 256 bytes");
	assert_false(req.has_correlation);
	v[256] = '\0';
	snprintf(text, sizeof(text),
	         "{\"correlation\":\"%s\",\"reply_to\":\"" REPLY "r\"}", v);
	assert_int_equal(parse(text), REQUEST_OK);
	assert_int_equal(strlen(req.correlation), 256);
	memset(v, 'i', 65);
	v[65] = '\0';
	snprintf(text, sizeof(text), "{\"instrument\":\"%s\"}", v);
	bad(text, "instrument must be an instrument id");
	v[64] = '\0';
	snprintf(text, sizeof(text),
	         "{\"instrument\":\"%s\",\"reply_to\":\"" REPLY "r\"}", v);
	assert_int_equal(parse(text), REQUEST_OK);
	assert_string_equal(req.instrument, v);
	assert_true(request_reply_ok(BASE, "ACME", REPLY "a/b"));
	assert_false(request_reply_ok(BASE, "ACME", REPLY "a/+"));
	assert_false(request_reply_ok(BASE, "ACME", BASE "replies/ACMEx/a"));
}

/* A request that is not UTF-8: refused whole, with the correlation and
 * reply topic only when they are valid themselves. */
static void not_utf8(void **state)
{
	(void)state;
	/* the issue's: a correlation of bytes FF FE */
	bad("{\"correlation\":\"\xFF\xFE\",\"reply_to\":\"" REPLY "r\"}",
	    "the request is not valid UTF-8 (invalid UTF-8 at byte 17)");
	assert_false(req.has_correlation);
	assert_string_equal(req.reply_to, REPLY "r"); /* the reply goes there */
	assert_true(utf8_strict(why, strlen(why)));
	/* anywhere else: the correlation, valid, is still echoed */
	bad("{\"correlation\":\"c\xC3\xA9\",\"reply_to\":\"" REPLY "r\","
	    "\"instrument\":\"TB\xC0\xAF\"}",
	    "the request is not valid UTF-8 (invalid UTF-8 at byte 81)");
	assert_true(req.has_correlation);
	assert_string_equal(req.correlation, "c\xC3\xA9");
	/* a field name, a surrogate (ED A0 80), a lone continuation byte */
	bad("{\"\x80\":1}",
	    "the request is not valid UTF-8 (invalid UTF-8 at byte 3)");
	bad("{\"reply_to\":\"" REPLY "\xED\xA0\x80\"}",
	    "the request is not valid UTF-8 (invalid UTF-8 at byte 42)");
	assert_string_equal(req.reply_to, "");
	/* what cJSON decodes from \u escapes is UTF-8: a lone surrogate
	 * escaped is malformed JSON to it */
	bad("{\"correlation\":\"\\uD800\"}", "malformed JSON");
	assert_int_equal(parse("{\"correlation\":\"\\u00e9\\uD83D\\uDE00\","
	                       "\"reply_to\":\"" REPLY "r\"}"),
	                 REQUEST_OK);
	assert_string_equal(req.correlation, "\xC3\xA9\xF0\x9F\x98\x80");
}

/* An unknown field's name is quoted in the error, cut at 64 bytes but
 * never inside a character. */
static void unknown_field_cut(void **state)
{
	(void)state;
	char name[80], text[256], want[256];

	/* 63 ASCII bytes and a 2-byte character: the character is left
	 * out whole */
	memset(name, 'n', 63);
	memcpy(name + 63, "\xC3\xA9xyz", 6);
	snprintf(text, sizeof(text), "{\"%s\":1}", name);
	snprintf(want, sizeof(want),
	         "unknown field \"%.63s\" (known: instrument, since, "
	         "reply_to, correlation)",
	         name);
	bad(text, want);
	assert_true(utf8_strict(why, strlen(why)));
	/* 62 and the character: 64 bytes, kept whole */
	memmove(name + 62, name + 63, 7);
	snprintf(text, sizeof(text), "{\"%s\":1}", name);
	snprintf(want, sizeof(want),
	         "unknown field \"%.64s\" (known: instrument, since, "
	         "reply_to, correlation)",
	         name);
	bad(text, want);
	assert_non_null(strstr(why, "n\xC3\xA9\""));
	/* a 4-byte character across the cut */
	memset(name, 'n', 61);
	memcpy(name + 61, "\xF0\x9F\x98\x80", 5);
	snprintf(text, sizeof(text), "{\"%s\":1}", name);
	snprintf(want, sizeof(want),
	         "unknown field \"%.61s\" (known: instrument, since, "
	         "reply_to, correlation)",
	         name);
	bad(text, want);
}

/* Reply topics a broker would refuse as topic names (and disconnect the
 * gateway for publishing on) are not reply topics. */
static void reply_topic_text(void **state)
{
	(void)state;
	assert_true(request_reply_ok(BASE, "ACME", REPLY "caf\xC3\xA9"));
	assert_false(request_reply_ok(BASE, "ACME", REPLY "a\x01"));
	assert_false(request_reply_ok(BASE, "ACME", REPLY "a\x7F"));
	assert_false(request_reply_ok(BASE, "ACME", REPLY "a\xC2\x85"));
	assert_false(request_reply_ok(BASE, "ACME", REPLY "\xEF\xBF\xBF"));
	assert_false(request_reply_ok(BASE, "ACME", REPLY "\xEF\xB7\x90"));
	assert_false(request_reply_ok(BASE, "ACME", REPLY "\xF4\x8F\xBF\xBE"));
	assert_false(request_reply_ok(BASE, "ACME", REPLY "\xFF"));
	bad("{\"reply_to\":\"" REPLY "\\u0001\"}",
	    "reply_to must be a topic under " REPLY);
	bad("{\"reply_to\":\"" REPLY "\\uFFFF\"}",
	    "reply_to must be a topic under " REPLY);
	assert_int_equal(parse3(TOPIC, REPLY "\xEF\xBF\xBE", "{}"),
	                 REQUEST_BAD);
	assert_string_equal(why, "the Response Topic must be under " REPLY);
}

static void enterprise(void **state)
{
	(void)state;
	char ent[REQUEST_NAME_MAX + 1];

	assert_true(request_enterprise(BASE, TOPIC, ent));
	assert_string_equal(ent, "ACME");
	assert_false(request_enterprise(BASE, BASE "requests/A\xC3\xA9/records",
	                                ent));
	assert_false(request_enterprise(BASE, long_topic(65), ent));
	assert_true(request_enterprise(BASE, long_topic(64), ent));
}

/* text.c: UTF-8 checked, cut and repaired. */
static void text_utf8_helpers(void **state)
{
	(void)state;
	char out[64], w[80];

	assert_int_equal(text_utf8("a\xC3\xA9\t\n", w, sizeof(w)), 0);
	assert_int_equal(text_utf8("ab\xFF", w, sizeof(w)), -1);
	assert_string_equal(w, "invalid UTF-8 at byte 3");
	assert_int_equal(text_utf8("\xC0\x80", w, sizeof(w)), -1);
	assert_int_equal(text_utf8("\xE0\x9F\xBF", w, sizeof(w)), -1);
	assert_int_equal(text_utf8("\xF4\x90\x80\x80", w, sizeof(w)), -1);
	assert_int_equal(text_utf8("\xE2\x82", w, sizeof(w)), -1);
	assert_int_equal(text_mqtt("a/b\xC3\xA9", w, sizeof(w)), 0);
	assert_int_equal(text_mqtt("a\xEF\xBF\xBF", w, sizeof(w)), -1);
	assert_string_equal(w, "a non-character (U+FFFF) at byte 2");
	assert_int_equal(text_mqtt("a\n", w, sizeof(w)), -1);
	assert_int_equal(text_printable("\xEF\xBF\xBF", w, sizeof(w)), 0);

	assert_int_equal(text_utf8_cut("abc", 5), 3);
	assert_int_equal(text_utf8_cut("abc", 2), 2);
	assert_int_equal(text_utf8_cut("a\xC3\xA9", 2), 1);
	assert_int_equal(text_utf8_cut("a\xC3\xA9", 3), 3);
	assert_int_equal(text_utf8_cut("\xF0\x9F\x98\x80", 3), 0);
	assert_int_equal(text_utf8_cut("a\xFF\xFE", 2), 2); /* bytes alone */

	/* each byte not in a valid sequence: U+FFFD */
	assert_int_equal(text_utf8_repair(out, sizeof(out),
	                                  "a\xFF\xFE"
	                                  "b\xC3\xA9"),
	                 10);
	assert_string_equal(out, "a\xEF\xBF\xBD\xEF\xBF\xBD"
	                         "b\xC3\xA9");
	assert_int_equal(text_utf8_repair(out, sizeof(out), "\xE2\x82x"), 7);
	assert_string_equal(out, "\xEF\xBF\xBD\xEF\xBF\xBDx");
	assert_true(utf8_strict(out, strlen(out)));
	/* too small: cut where a character ends, the length wanted back */
	assert_int_equal(text_utf8_repair(out, 6, "a\xFF\xFE"), 7);
	assert_string_equal(out, "a\xEF\xBF\xBD");
	assert_int_equal(text_utf8_repair(NULL, 0, "\xFF"), 3);
	assert_int_equal(text_utf8_repair(out, 1, "abc"), 3);
	assert_string_equal(out, "");
}

/* A replay request (docs/MQTT.md, Replay): parsed by the same code, its
 * own fields and range checked. */
static enum request_status replay(const char *response, const char *payload,
                                  struct replay_request *a)
{
	return request_parse_replay(a, BASE, response, payload, strlen(payload),
	                            why, sizeof(why));
}

static void replay_requests(void **state)
{
	struct replay_request a;

	(void)state;
	assert_int_equal(replay(NULL,
	                        "{\"from\":5,\"to\":9,\"reply_to\":\"" BASE
	                        "replay/replies/c1\",\"correlation\":\"x\"}",
	                        &a),
	                 REQUEST_OK);
	assert_int_equal(a.from, 5);
	assert_int_equal(a.to, 9);
	assert_string_equal(a.reply_to, BASE "replay/replies/c1");
	assert_true(a.has_correlation);
	assert_string_equal(a.correlation, "x");
	/* MQTT 5: the Response Topic */
	assert_int_equal(replay(BASE "replay/replies/c2",
	                        "{\"from\":1,\"to\":10000}", &a),
	                 REQUEST_OK);
	assert_string_equal(a.reply_to, BASE "replay/replies/c2");
	/* refused: each with why, the error reply's topic kept */
	const char *const bad_ones[][2] = {
	        {"{\"from\":5,\"to\":4}", "from <= to"},
	        {"{\"from\":1,\"to\":10001}", "at most 10000"},
	        {"{\"to\":4}", "give \"from\""},
	        {"{\"from\":0,\"to\":4}", "must be a seq"},
	        {"{\"from\":1.5,\"to\":4}", "must be a seq"},
	        {"{\"from\":\"1\",\"to\":4}", "must be a seq"},
	        {"{\"from\":1,\"from\":2,\"to\":4}", "given twice"},
	        {"{\"from\":1,\"to\":4,\"since\":\"x\"}",
	         "unknown field \"since\" (known: from, to, reply_to, "
	         "correlation)"},
	        {"[1]", "must be a JSON object"},
	};
	for (size_t i = 0; i < sizeof(bad_ones) / sizeof(bad_ones[0]); i++) {
		assert_int_equal(
		        replay(BASE "replay/replies/c", bad_ones[i][0], &a),
		        REQUEST_BAD);
		if (strstr(why, bad_ones[i][1]) == NULL)
			fail_msg("%s: \"%s\", not \"%s\"", bad_ones[i][0], why,
			         bad_ones[i][1]);
		assert_string_equal(a.reply_to, BASE "replay/replies/c");
	}
	/* a reply topic elsewhere: refused, the errors topic */
	assert_int_equal(replay(NULL,
	                        "{\"from\":1,\"to\":2,\"reply_to\":\"" BASE
	                        "replies/ACME/x\"}",
	                        &a),
	                 REQUEST_BAD);
	assert_string_equal(a.reply_to, "");
	assert_string_equal(a.errors, BASE "replay/replies/errors");
	assert_int_equal(
	        replay(BASE "replay/replies/+", "{\"from\":1,\"to\":2}", &a),
	        REQUEST_BAD);
	assert_int_equal(replay(NULL, "{\"from\":1,\"to\":2}", &a),
	                 REQUEST_BAD);
	assert_non_null(strstr(why, "no reply topic"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(answered),
	        cmocka_unit_test(since),
	        cmocka_unit_test(ignored),
	        cmocka_unit_test(refused),
	        cmocka_unit_test(lengths),
	        cmocka_unit_test(not_utf8),
	        cmocka_unit_test(unknown_field_cut),
	        cmocka_unit_test(reply_topic_text),
	        cmocka_unit_test(enterprise),
	        cmocka_unit_test(text_utf8_helpers),
	        cmocka_unit_test(replay_requests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
