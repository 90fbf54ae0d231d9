/*
 * bench-msg.c - the cost of one readings payload (msg_readings(),
 * gateway/core/msg.c), the JSON metrologd writes for every poll of an
 * instrument (docs/MQTT.md, readings): ns per message of 10 and of 60
 * float32 channels, and per reading. Values like a lab's: 20.0123 plus
 * noise, one channel in 16 timed out (value null), names and units as a
 * configuration has them ("ch07", "°C"). A fixed-seed generator, so two
 * runs build the same messages. Timed in the thread's CPU time, not the
 * wall clock, so that a busy machine slows the figures less (it still
 * shares caches). docs/BENCHMARKS.md, "Readings payload".
 *
 *   bench-msg [seconds per case, default 1]
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "msg.h"
#include "sample.h"

#define MAXCH    60
#define VARIANTS 64 /* distinct messages cycled through */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

/* The thread's CPU time, in seconds. */
static double cpu_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* VARIANTS messages of n channels each into ch[v * MAXCH + i]. */
static void make(struct msg_channel *ch, char names[][16], size_t n)
{
	static const char *const units[] = {"°C", "V", "bar", "%RH"};

	for (size_t i = 0; i < n; i++)
		snprintf(names[i], sizeof(names[i]), "ch%02zu", i);
	for (size_t v = 0; v < VARIANTS; v++)
		for (size_t i = 0; i < n; i++) {
			double noise = (double)(rng() % 20001) / 1e4 - 1.0;
			float f = (float)(20.0123 + noise * 0.01);
			bool lost = rng() % 16 == 0;
			ch[v * MAXCH + i] = (struct msg_channel){
			        .name = names[i],
			        .unit = units[i % 4],
			        .value = (double)f,
			        .quality =
			                lost ? QUALITY_TIMEOUT : QUALITY_GOOD,
			        .digits = 7,
			};
		}
}

/* Build messages of n channels for about secs seconds; prints ns per
 * message and per reading. Returns 0, or -1 when a build fails. */
static int run(size_t n, double secs)
{
	static struct msg_channel ch[VARIANTS * MAXCH];
	static char names[MAXCH][16], buf[16384];
	int64_t ts = 1795694400123456LL, msgs = 0, bytes = 0;
	double t0, t;

	make(ch, names, n);
	t0 = cpu_s();
	do {
		for (int k = 0; k < 1000; k++, msgs++) {
			int len =
			        msg_readings(buf, sizeof(buf), msgs, ts,
			                     "bench-instrument-01",
			                     &ch[(msgs % VARIANTS) * MAXCH], n);
			if (len < 0)
				return -1;
			bytes += len;
			ts += 20000;
		}
		t = cpu_s() - t0;
	} while (t < secs);
	printf("%2zu channels: %8.0f ns/message %6.1f ns/reading "
	       "%5" PRId64 " bytes/message (%" PRId64
	       " messages in %.2f s of CPU)\n",
	       n, t * 1e9 / (double)msgs, t * 1e9 / (double)msgs / (double)n,
	       bytes / msgs, msgs, t);
	return 0;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;

	if (secs <= 0 || run(10, secs) < 0 || run(60, secs) < 0) {
		fprintf(stderr, "usage: bench-msg [seconds > 0]; or a build "
		                "failed\n");
		return 1;
	}
	return 0;
}
