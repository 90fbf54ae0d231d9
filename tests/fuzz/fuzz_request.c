/*
 * fuzz_request.c - libFuzzer target for the records requests metrologd
 * answers over MQTT (core/request.c, docs/MQTT.md): the topic, the MQTT 5
 * Response Topic and the JSON payload, all chosen by whoever may publish
 * on the broker.
 *
 * The same input is also parsed as a replay request (check_replay()).
 *
 * Input: the topic up to the first '\n', the Response Topic up to the
 * next '\n' ("" there: none), the rest the payload (a payload longer than
 * REQUEST_PAYLOAD_MAX is passed as the queue keeps it: its first
 * REQUEST_PAYLOAD_MAX + 1 bytes, with its whole length). The prefix and
 * site are "metrolog/lab-1/".
 *
 * Checked: every string of the result is NUL-terminated inside its array;
 * an answered request has an enterprise that is a name, a reply topic
 * under its replies and since >= 0; a refused one says why, and any reply
 * topic it kept is one of the enterprise's; what a reply echoes (why, the
 * correlation) and the reply topic are valid UTF-8 whatever the input
 * (utf8_strict(), written apart from text.c).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../utf8_strict.h"
#include "fuzz.h"
#include "request.h"

#define BASE "metrolog/lab-1/"

/* The next '\n'-ended piece of d as a new string (the rest when none). */
static char *piece(const uint8_t **d, size_t *n)
{
	const uint8_t *nl = memchr(*d, '\n', *n);
	size_t len = nl != NULL ? (size_t)(nl - *d) : *n;
	char *s = malloc(len + 1);

	CHECK(s != NULL);
	memcpy(s, *d, len);
	s[len] = '\0';
	*d += len + (nl != NULL);
	*n -= len + (nl != NULL);
	return s;
}

static void check_names(const struct request *a)
{
	size_t n = strnlen(a->enterprise, sizeof(a->enterprise));

	CHECK(n >= 1 && n <= REQUEST_NAME_MAX);
	for (size_t i = 0; i < n; i++)
		CHECK(strchr("/+#", a->enterprise[i]) == NULL);
	CHECK(strnlen(a->instrument, sizeof(a->instrument)) <
	      sizeof(a->instrument));
	CHECK(strnlen(a->correlation, sizeof(a->correlation)) <
	      sizeof(a->correlation));
	CHECK(strnlen(a->errors, sizeof(a->errors)) < sizeof(a->errors));
	CHECK(a->reply_to[0] == '\0' ||
	      request_reply_ok(BASE, a->enterprise, a->reply_to));
	CHECK(utf8_strict(a->reply_to, strlen(a->reply_to)));
	CHECK(!a->has_correlation ||
	      utf8_strict(a->correlation, strlen(a->correlation)));
}

/* The same bytes as a replay request (docs/MQTT.md, Replay): an answered
 * one has a range of at most REPLAY_SPAN_MAX seqs and a reply topic under
 * the replay replies; a refused one says why; every string terminated
 * and what is echoed or used as a topic valid UTF-8. */
static void check_replay(const char *response, const char *payload, size_t size)
{
	struct replay_request r;
	char why[512] = "";
	size_t n = strlen(BASE "replay/replies/");
	enum request_status st = request_parse_replay(
	        &r, BASE, response, payload, size, why, sizeof(why));

	CHECK(strnlen(r.reply_to, sizeof(r.reply_to)) < sizeof(r.reply_to));
	CHECK(strnlen(r.correlation, sizeof(r.correlation)) <
	      sizeof(r.correlation));
	CHECK(r.reply_to[0] == '\0' ||
	      (strncmp(r.reply_to, BASE "replay/replies/", n) == 0 &&
	       strpbrk(r.reply_to, "+#") == NULL &&
	       utf8_strict(r.reply_to, strlen(r.reply_to))));
	CHECK(!r.has_correlation ||
	      utf8_strict(r.correlation, strlen(r.correlation)));
	if (st == REQUEST_OK)
		CHECK(r.reply_to[0] != '\0' && r.from >= 1 && r.to >= r.from &&
		      r.to - r.from < REPLAY_SPAN_MAX);
	else
		CHECK(st == REQUEST_BAD && why[0] != '\0' &&
		      utf8_strict(why, strlen(why)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *topic = piece(&data, &size), *response = piece(&data, &size);
	size_t keep =
	        size > REQUEST_PAYLOAD_MAX ? REQUEST_PAYLOAD_MAX + 1 : size;
	char *payload = malloc(keep + 1), why[512];
	struct request a;

	CHECK(payload != NULL);
	memcpy(payload, data, keep);
	payload[keep] = '\0';
	why[0] = '\0';
	switch (request_parse(&a, BASE, topic,
	                      response[0] != '\0' ? response : NULL, payload,
	                      size, why, sizeof(why))) {
	case REQUEST_OK:
		check_names(&a);
		CHECK(a.reply_to[0] != '\0');
		/* utc.h's grammar: years 0001 to 9999 */
		CHECK(a.since_us >= -62135596800000000LL &&
		      a.since_us < 253402300800000000LL);
		break;
	case REQUEST_BAD:
		check_names(&a);
		CHECK(why[0] != '\0' && utf8_strict(why, strlen(why)));
		break;
	case REQUEST_IGNORED:
		CHECK(why[0] != '\0');
		break;
	default:
		abort();
	}
	check_replay(response[0] != '\0' ? response : NULL, payload, size);
	free(topic);
	free(response);
	free(payload);
	return 0;
}
