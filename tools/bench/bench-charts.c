/*
 * bench-charts - how often do metrologd's control charts signal on noise
 * alone? (docs/METROLOGY.md, "Events from the charts")
 *
 * A channel whose error is in-control normal noise is charted the way
 * gateway/daemon/monitor.c charts it (drift.c's EWMA or CUSUM, a baseline
 * given or learned from the first n readings, signals grouped into
 * episodes by drift_episode_update), for `--runs` channels of `--readings`
 * readings each after their baseline, from a fixed seed. Per chart and
 * baseline it prints:
 *   arl      the mean run length to the first signal (readings; a run
 *            with no signal counts as --readings: a lower bound then,
 *            flagged with ">=")
 *   rate     1 / (signals per reading over all channels): the long-run
 *            mean readings between signals, what sets events per day
 *   events   episodes (what becomes an events row) per channel per day
 *            at 1 reading per second, and per reading in the same form
 * and, with --shift D, the same chart's run on noise shifted by D sigmas
 * after the baseline (signals and episodes per channel: a persistent
 * shift should be one episode).
 *
 * Usage: bench-charts [--runs R] [--readings N] [--seed S] [--shift D]
 * Single-threaded, deterministic for a given seed; links metrolog_core.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drift.h"

/* xoshiro-like 64-bit generator (splitmix64): fixed seed, portable. */
static uint64_t rng;

static uint64_t next_u64(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A standard normal deviate (Marsaglia's polar method, one of the pair). */
static double normal(void)
{
	double u, v, s;

	do {
		u = (double)(next_u64() >> 11) * 0x1p-52 - 1;
		v = (double)(next_u64() >> 11) * 0x1p-52 - 1;
		s = u * u + v * v;
	} while (s >= 1 || s == 0);
	return u * sqrt(-2 * log(s) / s);
}

struct chart {
	const char *name;
	bool cusum;
	double a, b;           /* lambda, L or k, h */
	const char *published; /* the literature's ARL0, known parameters */
};

struct result {
	double arl, rate, episodes, shift_signals, shift_episodes;
	bool censored;
};

/* One channel: baseline n (0: given), then `readings` readings of noise
 * plus `shift`; adds to the counts. */
static void channel(const struct chart *ch, int n, long readings, double shift,
                    long *first, long *signals, long *episodes)
{
	struct drift_baseline base;
	struct drift_ewma ew;
	struct drift_cusum cu;

	if (n > 0)
		drift_baseline_learn(&base, n);
	else
		drift_baseline_given(&base, 0, 1);
	if (ch->cusum)
		drift_cusum_init(&cu, ch->a, ch->b, &base);
	else
		drift_ewma_init(&ew, ch->a, ch->b, &base);
	for (int i = 0; i < n; i++) { /* the baseline: no signals */
		double x = normal();
		if (ch->cusum)
			drift_cusum_update(&cu, x);
		else
			drift_ewma_update(&ew, x);
	}
	*first = -1;
	for (long i = 0; i < readings; i++) {
		double x = normal() + shift;
		enum drift_signal g = ch->cusum ? drift_cusum_update(&cu, x)
		                                : drift_ewma_update(&ew, x);
		if (g == DRIFT_SIGNAL_NONE)
			continue;
		if (*first < 0)
			*first = i + 1;
		(*signals)++;
		*episodes += ch->cusum ? cu.news : ew.news;
	}
}

static struct result run(const struct chart *ch, int n, int runs, long readings,
                         double shift)
{
	struct result r = {0};
	long sig = 0, epi = 0, s2 = 0, e2 = 0;
	double sum_first = 0;

	for (int k = 0; k < runs; k++) {
		long first;
		channel(ch, n, readings, 0, &first, &sig, &epi);
		if (first < 0) {
			first = readings;
			r.censored = true;
		}
		sum_first += (double)first;
		if (shift != 0) {
			long f2;
			channel(ch, n, readings, shift, &f2, &s2, &e2);
		}
	}
	r.arl = sum_first / runs;
	r.rate = sig > 0 ? (double)runs * (double)readings / (double)sig
	                 : INFINITY;
	r.episodes = (double)epi / runs / (double)readings * 86400;
	r.shift_signals = (double)s2 / runs;
	r.shift_episodes = (double)e2 / runs;
	return r;
}

int main(int argc, char **argv)
{
	static const struct chart charts[] = {
	        {"cusum k=0.5 h=5", true, 0.5, 5, "465 (Montgomery)"},
	        {"cusum k=0.5 h=4", true, 0.5, 4, "168 (Montgomery)"},
	        {"ewma l=0.2 L=3", false, 0.2, 3, "562 (Lucas-Saccucci)"},
	        {"ewma l=0.2 L=2.962", false, 0.2, 2.962,
	         "500 (Lucas-Saccucci)"},
	};
	static const int baselines[] = {0, 30, 100, 300, 1000, 3000};
	int runs = 1000;
	long readings = 20000;
	double shift = 0;

	rng = 20261231;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--runs") == 0)
			runs = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--readings") == 0)
			readings = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--seed") == 0)
			rng = strtoull(argv[i + 1], NULL, 0);
		else if (strcmp(argv[i], "--shift") == 0)
			shift = atof(argv[i + 1]);
		else {
			fprintf(stderr, "usage: bench-charts [--runs R] "
			                "[--readings N] [--seed S] "
			                "[--shift D]\n");
			return 2;
		}
	}
	if (runs < 1 || readings < 1) {
		fprintf(stderr,
		        "bench-charts: runs and readings must be >= 1\n");
		return 2;
	}
	printf("%d channels x %ld readings of N(0, 1) noise each, after the "
	       "baseline; events/day at 1 reading/s\n",
	       runs, readings);
	printf("%-20s %-9s %10s %10s %12s", "chart", "baseline", "arl", "rate",
	       "events/day");
	if (shift != 0)
		printf("  shift %g: signals episodes", shift);
	printf("   published ARL0\n");
	for (size_t c = 0; c < sizeof(charts) / sizeof(charts[0]); c++) {
		for (size_t b = 0; b < sizeof(baselines) / sizeof(baselines[0]);
		     b++) {
			struct result r = run(&charts[c], baselines[b], runs,
			                      readings, shift);
			char nb[16];
			if (baselines[b] == 0)
				snprintf(nb, sizeof(nb), "given");
			else
				snprintf(nb, sizeof(nb), "%d", baselines[b]);
			printf("%-20s %-9s %s%8.0f %10.0f %12.1f",
			       charts[c].name, nb, r.censored ? ">=" : "  ",
			       r.arl, r.rate, r.episodes);
			if (shift != 0)
				printf("  %15.1f %8.2f", r.shift_signals,
				       r.shift_episodes);
			printf("   %s\n", charts[c].published);
			fflush(stdout);
		}
	}
	return 0;
}
