/*
 * calc.h - the technician's calculators of the metrolog tool: conformity
 * of one result (ILAC-G8 decision rule, JCGM 106 probability of
 * conformance) and calibration-interval advice from a channel's history.
 *
 * Thin command-line layers over drift.h: they parse, call the pure
 * functions and print. argv[0] is the subcommand's name ("conformity",
 * "interval"). Exit status: 0 done, 1 the input file could not be read or
 * holds bad data, 2 bad usage. The *_to variants write to the given
 * streams (for tests); the plain ones use stdout and stderr.
 */
#ifndef METROLOG_CALC_H
#define METROLOG_CALC_H

#include <stdbool.h>
#include <stdio.h>

#include "cmd.h"
#include "drift.h"

/* Their declarations (cmd.h): options, help. */
extern const struct cmd_def conformity_cmd, interval_cmd;
#include "history.h"

int calc_conformity(int argc, char **argv);
int calc_interval(int argc, char **argv);

int calc_conformity_to(int argc, char **argv, FILE *out, FILE *err);
int calc_interval_to(int argc, char **argv, FILE *out, FILE *err);

/* The options of `metrolog interval` (docs/TOOL.md). */
struct calc_interval_opts {
	double target, alpha, conf, a, b, horizon;
	int degree;             /* 1, 2, or 0: chosen by the data        */
	enum drift_sides sides; /* limits the drift bound is held to     */
	double u0;        /* standard uncertainty of the last as-left      */
	bool has_u0;      /* u0 given; else the last row's U / k           */
	double u_target;  /* uncertainty-growth target (standard), 0: none */
	double a3_band;   /* A3 band in days, when has_a3_band             */
	bool has_a3_band; /* else drift_a3_band() of the current interval */
	const char *unit, *path;
};

/* The defaults of `metrolog interval` (its --help). */
void calc_interval_defaults(struct calc_interval_opts *o);

/* Print the interval advice for n >= 2 rows in date order (what
 * `metrolog interval` prints after reading its file; source names where
 * the rows came from). */
void calc_interval_report(FILE *out, const struct history_row *rows, int n,
                          const struct calc_interval_opts *o,
                          const char *source);

/* Days since 1970-01-01 of an ISO date "YYYY-MM-DD" (exactly that form, a
 * real calendar date, years 1-9999); -1 when invalid. The rule is
 * history_parse_date() (gateway/core/history.h). */
int calc_parse_date(const char *s, long *days);
/* Format days since 1970-01-01 as YYYY-MM-DD into buf (>= 11 bytes;
 * utc_format_date). */
void calc_format_date(long days, char *buf, size_t size);

#endif
