/*
 * certificate.c - `metrolog certificate`: the calibration certificate of
 * one record as an A4 PDF, in Vietnamese and English, into a file. What
 * it carries and how it is drawn: certdoc.c (shared with metrolog-web);
 * here the options and the record asked for.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib.h"
#include "certdoc.h"
#include "draw.h"
#include "query.h"
#include "tool.h"

/* ---- the command ------------------------------------------------------- */

/* The record asked for into r: 0, -1 (said why). */
static int fetch(struct query *q, struct calib_record *r, const char *cert,
                 int64_t id)
{
	int rc = cert != NULL ? query_calibration_by_cert(q, cert, r)
	                      : query_calibration(q, id, r);

	if (rc < 0)
		fprintf(stderr, "metrolog certificate: %s\n", query_error(q));
	else if (rc == 1 && cert != NULL)
		fprintf(stderr,
		        "metrolog certificate: no calibration record with "
		        "certificate number '%s'\n",
		        cert);
	else if (rc == 1)
		fprintf(stderr,
		        "metrolog certificate: no calibration record %" PRId64
		        "\n",
		        id);
	return rc == 0 ? 0 : -1;
}

enum { CE_ID, CE_CERTIFICATE, CE_LANG };

static const struct cmd_option certificate_opts[] = {
        {"id", 0, "N", "the record with this id", CE_ID},
        {"certificate", 'c', "NUMBER",
         "the latest record with this certificate number", CE_CERTIFICATE},
        {"lang", 'l', "LANG",
         "vi+en (default: Vietnamese, English below), vi, en", CE_LANG},
        {0},
};

const struct cmd_def certificate_cmd = {
        .name = "certificate",
        .summary = "the calibration certificate of a record, as PDF",
        .synopsis = "[-d DB] (--id N | --certificate NUMBER) -o FILE.pdf\n"
                    "  [--lang vi+en|vi|en]",
        .about = "Write the calibration certificate of one calibration "
                 "record as an A4 PDF:\nlaboratory, customer, item, dates, "
                 "method, conditions, results as found and as\nleft with "
                 "limits and uncertainty, decision rule and conformity, "
                 "traceability\nto the reference standard, signatures, the "
                 "record's hash and a QR code that\n'metrolog verify' "
                 "checks. A record nobody has approved yet\n('metrolog "
                 "approve') is a draft, marked DRAFT on every page.\n",
        .options = certificate_opts,
        .common = CMD_DATABASE | CMD_OUTPUT,
        .output_help = "where to write it, FILE.pdf (required; written "
                       "whole or not at all)",
        .footer = "Exit status: 0 written, 1 no such record or it could not "
                  "be written, 2 bad usage.\n",
        .run = cmd_certificate,
};

struct cert_args {
	const char *cert;
	int64_t id;
	enum draw_lang lang;
};

static int on_certificate_option(struct cmd_line *l, const struct cmd_option *o,
                                 const char *v)
{
	struct cert_args *a = l->ctx;
	long idv;

	switch (o->id) {
	case CE_ID:
		if (tool_parse_long(v, 1, LONG_MAX, &idv) < 0)
			return cmd_usage(
			        l, "--id '%s': expected a record id >= 1", v);
		a->id = idv;
		return 0;
	case CE_CERTIFICATE:
		a->cert = v;
		return 0;
	default: /* CE_LANG */
		if (strcmp(v, "vi+en") == 0)
			a->lang = DRAW_VI_EN;
		else if (strcmp(v, "vi") == 0)
			a->lang = DRAW_VI;
		else if (strcmp(v, "en") == 0)
			a->lang = DRAW_EN;
		else
			return cmd_usage(
			        l, "--lang '%s': expected vi+en, vi or en", v);
		return 0;
	}
}

int cmd_certificate(int argc, char **argv)
{
	struct cert_args a = {.lang = DRAW_VI_EN};
	struct cmd_line l = {.on_option = on_certificate_option, .ctx = &a};
	const char *out;
	enum draw_format fmt;
	struct query *q = NULL;
	struct calib_record *r = NULL;
	struct certdoc c = {0};
	char err[512];
	int status = 1;

	if (cmd_parse(&certificate_cmd, &l, argc, argv, &status) < 0)
		return status;
	status = 1;
	out = l.output;
	if ((a.id > 0) == (a.cert != NULL))
		return cmd_usage(&l, "say which record: --id N or "
		                     "--certificate NUMBER (one of them)");
	if (out == NULL || draw_format_of(out, &fmt) < 0 || fmt != DRAW_PDF)
		return cmd_usage(&l, "say where to write it: -o FILE.pdf");
	q = query_open(tool_database(l.database), err, sizeof(err));
	if (q == NULL) {
		fprintf(stderr, "metrolog certificate: %s\n", err);
		return 1;
	}
	if ((r = malloc(sizeof(*r))) == NULL) {
		fprintf(stderr, "metrolog certificate: out of memory\n");
		goto out;
	}
	if (fetch(q, r, a.cert, a.id) < 0)
		goto out;
	c = (struct certdoc){
	        .lang = a.lang, .path = out, .now_us = tool_now_us()};
	if (certdoc_write(q, r, &c) < 0)
		fprintf(stderr, "metrolog certificate: %s\n", c.err);
	else
		status = 0;
	if (c.note[0] != '\0')
		fprintf(stderr, "metrolog certificate: %s\n", c.note);
out:
	free(r);
	query_close(q);
	return status;
}
