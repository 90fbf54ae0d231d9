/*
 * tool.h - what the database subcommands of the metrolog tool share: the
 * subcommands themselves (one file each group) and the helpers for the
 * database path and times.
 *
 * Times (docs/TOOL.md, "Times"): what people read and type is the lab's
 * local time (labtime.h: TZ, else /etc/localtime). Printed times carry
 * their offset ("2026-12-05T21:00:00+07:00"; "Z" where it is 0), dates are
 * local dates; a time typed without an offset is local. CSV, JSON and JSON
 * Lines are for programs: their times are UTC with "Z" (tool_format_stamp
 * decides, nothing else), their dates local dates as everywhere.
 *
 * Each subcommand is declared once, as a struct cmd_def (cmd.h): its
 * options, help and formats; metrolog.c lists the declarations. Each
 * cmd_* takes argv[0] = its own name and returns the exit status (cmd.h):
 *   0 done; 1 the request failed (unknown instrument, channel or record,
 *   database error, file not written); 2 bad usage; 4 (verify only) the
 *   audit chain or a certificate's hash does not check.
 * Every database subcommand takes -d/--database FILE; without it
 * $METROLOG_DB, else /var/lib/metrolog/metrolog.db. Read-only subcommands
 * open the file with query_open() (never modified); calibrate and approve
 * open it with store_open().
 */
#ifndef METROLOG_TOOL_H
#define METROLOG_TOOL_H

#include <stddef.h>
#include <stdint.h>

#include "cmd.h"

#define TOOL_DEFAULT_DB "/var/lib/metrolog/metrolog.db"

/* The declarations of the subcommands (cmd.h), each in its file. */
extern const struct cmd_def read_cmd, probe_cmd; /* metrolog.c */
extern const struct cmd_def instruments_cmd, channels_cmd, due_cmd,
        readings_cmd, events_cmd, report_cmd; /* records.c */
extern const struct cmd_def calibrate_cmd, calibrations_cmd,
        verify_cmd;                          /* calibrate.c */
extern const struct cmd_def certificate_cmd; /* certificate.c */
extern const struct cmd_def approve_cmd;     /* approve.c */
extern const struct cmd_def backup_cmd;      /* backup.c */
extern const struct cmd_def trend_cmd;       /* trend.c */
extern const struct cmd_def user_cmd;        /* user.c */

/* records.c: listings, export, report */
int cmd_instruments(int argc, char **argv);
int cmd_channels(int argc, char **argv);
int cmd_due(int argc, char **argv);
int cmd_readings(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* calibrate.c: recording and checking calibrations */
int cmd_calibrate(int argc, char **argv);
int cmd_calibrations(int argc, char **argv);
int cmd_verify(int argc, char **argv);

/* approve.c: the approval of a record by another person */
int cmd_approve(int argc, char **argv);
int cmd_backup(int argc, char **argv);

/* certificate.c, trend.c: documents and pictures */
int cmd_certificate(int argc, char **argv);
int cmd_trend(int argc, char **argv);

/* user.c: the accounts of metrolog-web */
int cmd_user(int argc, char **argv);

/* The database to use: given (-d), else $METROLOG_DB, else the default. */
const char *tool_database(const char *given);

/* Take the lab's time zone (its timezone setting, which metrologd keeps in
 * the database tool_database(given) names) as this process's, unless TZ is
 * set: TZ, then the lab's setting, then the system's zone. Nothing happens
 * when the database cannot be read (the subcommand says why). */
void tool_lab_zone(const char *given);

struct query;
/* Check q's audit chain and approvals (query_verify) and print what
 * `metrolog verify` prints of them ("audit chain intact: N records, head
 * H", or where it breaks). Returns 0 intact, 4 broken, 1 database error
 * (said on stderr as "metrolog CMD: ..."). (calibrate.c) */
int tool_verify_chains(struct query *q, const char *cmd);

/*
 * A time in the grammar of utc.h read in the lab's zone (labtime_parse with
 * no flags): "YYYY-MM-DD" (local midnight), "YYYY-MM-DDTHH:MM[:SS[.ffffff]]"
 * (local time) or the same with "Z" (UTC) or an offset "+HH:MM"/"-HH:MM",
 * "now", or now minus an age "-30d", "-12h", "-15m", "-10s". now_us is the
 * "now" to use. Returns 0, -1 when s is none of these (or not a real
 * calendar date).
 */
int tool_parse_time(const char *s, int64_t now_us, int64_t *us);

/*
 * The one rule of the zone of a printed time, by the output's format f:
 * CMD_CSV, CMD_JSON, CMD_JSONL (for programs): UTC, utc_format's
 * "2026-12-05T14:00:00Z"; any other (text, pdf: for people): the lab's
 * local time with its offset, labtime_format's "2026-12-05T21:00:00+07:00"
 * ("Z" where the offset is 0). digits: of a second, 0-6. buf >=
 * UTC_OFF_US_SIZE (33) bytes for digits 6, UTC_OFF_SEC_SIZE (26) for 0.
 */
void tool_format_stamp(enum cmd_format f, int64_t us, int digits, char *buf,
                       size_t size);
/* A time for people: tool_format_stamp(CMD_TEXT, us, 0, ...), e.g.
 * "2026-12-05T21:00:00+07:00" into buf (>= UTC_OFF_SEC_SIZE = 26 bytes);
 * "-" for 0. */
void tool_format_time(int64_t us, char *buf, size_t size);
/* The lab's local date of us, "2026-12-05" (labtime_format_date), into buf
 * (>= UTC_DATE_SIZE = 11 bytes); "-" for 0. In every format. */
void tool_format_date(int64_t us, char *buf, size_t size);
/* A due date (calib.h's calib_due_date: the lab's local date of due_us,
 * the date the due states decide by) into buf (>= UTC_DATE_SIZE bytes);
 * "-" for 0. Every due date the tool prints goes through this. */
void tool_format_due(int64_t due_us, char *buf, size_t size);

/* A whole number in [lo, hi], the whole of s (decimal). Returns 0, or -1
 * (*out untouched) when s is not one or is out of range. */
int tool_parse_long(const char *s, long lo, long hi, long *out);

/* Now, UTC microseconds. */
int64_t tool_now_us(void);

#endif
