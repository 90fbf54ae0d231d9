/*
 * approve.c - `metrolog approve`: the approval of a calibration record by
 * a person other than the technician who calibrated (ISO/IEC 17025
 * 7.8.2.1 o). Until a record is approved its certificate is a draft
 * (certificate.c); the approval is appended to its own hash chain
 * (calib.h, approvals; store_cal_approve), never changed or removed, and
 * `metrolog verify` checks it.
 *
 * Single-threaded; writes through store.h (one transaction, synchronous =
 * FULL like every writer). Exit codes in tool.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "calib.h"
#include "cmd.h"
#include "store.h"
#include "text.h"
#include "tool.h"

enum { AP_BY, AP_ROLE };

static const struct cmd_option approve_opts[] = {
        {"by", 0, "NAME", "who approves (required; not the technician)", AP_BY},
        {"role", 0, "TEXT", "the approver's role, e.g. \"Lab manager\"",
         AP_ROLE},
        {0},
};

const struct cmd_def approve_cmd = {
        .name = "approve",
        .summary = "approve a record (its certificate is a draft until then)",
        .synopsis = "[-d DB] CERTIFICATE --by NAME [--role TEXT]",
        .about = "Approve the calibration record with certificate number "
                 "CERTIFICATE, as a person\nother than the technician who "
                 "calibrated (ISO/IEC 17025 7.8.2.1 o). The approval\nis "
                 "appended to its own hash chain (checked by 'metrolog "
                 "verify') and never\nchanged; the certificate then names "
                 "the approver, the role and the date of\napproval, which "
                 "is its date of issue. Before it, the certificate is a "
                 "draft.\nRefused: the technician approving their own "
                 "record (names compared trimmed,\nwithout case), a record "
                 "superseded by a correction, a record already\napproved, "
                 "an unknown certificate number.\n",
        .options = approve_opts,
        .common = CMD_DATABASE,
        .min_args = 1,
        .max_args = 1,
        .args_missing = "which record? give its CERTIFICATE number",
        .footer = "Exit status: 0 approved, 1 refused (see above) or "
                  "database error, 2 bad usage\nor a text that is not "
                  "printable UTF-8.\n",
        .run = cmd_approve,
};

struct approve_args {
	const char *by, *role;
};

static int on_approve_option(struct cmd_line *l, const struct cmd_option *o,
                             const char *v)
{
	struct approve_args *a = l->ctx;
	char why[128];

	if (text_printable(v, why, sizeof(why)) < 0)
		return cmd_usage(l, "--%s: %s", o->name, why);
	if (o->id == AP_BY)
		a->by = v;
	else
		a->role = v;
	return 0;
}

static void print_approval(const struct calib_approval *ap, const char *cert)
{
	char when[32];

	tool_format_time(ap->approved_us, when, sizeof(when));
	printf("approved         record %" PRId64 ", certificate %s\n",
	       ap->calibration_id, cert);
	printf("by               %s%s%s\n", ap->approver,
	       ap->role[0] ? ", " : "", ap->role);
	printf("on               %s (the certificate's date of issue)\n", when);
	printf("approval         %" PRId64 "\n", ap->id);
	printf("record hash      %s\n", ap->record_hash);
	printf("hash             %s\n", ap->hash);
}

int cmd_approve(int argc, char **argv)
{
	struct approve_args a = {0};
	struct cmd_line l = {.on_option = on_approve_option, .ctx = &a};
	struct calib_approval ap;
	struct store *st;
	char err[512], name[CALIB_TEXT];
	int rc;

	if (cmd_parse(&approve_cmd, &l, argc, argv, &rc) < 0)
		return rc;
	snprintf(name, sizeof(name), "%s", a.by != NULL ? a.by : "");
	if (text_trim(name)[0] == '\0')
		return cmd_usage(&l, "say who approves: --by NAME");
	st = store_open(tool_database(l.database), err, sizeof(err));
	if (st == NULL)
		return cmd_fail(&l, CMD_FAILED, "%s", err);
	if (store_cal_approve(st, l.args[0], a.by, a.role, &ap) < 0) {
		rc = cmd_fail(&l, CMD_FAILED, "%s", store_last_message(st));
		store_close(st);
		return rc;
	}
	store_close(st);
	print_approval(&ap, l.args[0]);
	return CMD_OK;
}
