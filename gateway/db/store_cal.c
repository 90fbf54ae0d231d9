/*
 * store_cal.c - the calibration records in the database: appending a
 * record to the hash-chained, append-only table (store_cal_append), and
 * the due states of every instrument and standard that metrologd keeps
 * and publishes (store_cal_refresh). See store.h for the contracts,
 * calib.h for the record and its hash, docs/SCHEMA.md for the tables.
 *
 * Threading: as store.c; the struct store belongs to one thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib.h"
#include "drift.h"
#include "msg.h"
#include "store_int.h"
#include "utc.h"

/* The calibration block of a status from cs (NULL: none known). */
const struct msg_calstate *st_cal_block(const struct cal_state *cs,
                                        struct msg_calstate *out)
{
	if (cs == NULL)
		return NULL;
	*out = (struct msg_calstate){
	        .state = calib_due_name((enum calib_due)cs->due),
	        .due_us = cs->due_us,
	        .certificate = cs->cert,
	        .reference_overdue = cs->in_use && cs->due == CALIB_DUE_OVERDUE,
	};
	return out;
}

/* ---- calibration records ----------------------------------------------- */

#define CAL_FUTURE_US (86400 * 1000000LL) /* clocks and time zones */

/* A statement prepared for one store_cal_append(); NULL with the error set
 * on failure. */
static sqlite3_stmt *prep(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK) {
		st_sqlite_error(st, rc, "calibration");
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

/* Run sql with one text or integer parameter; the first row's column 0
 * and 1 as integers into a and b (either may be NULL). 1 row, 0 none, -1
 * error. */
static int lookup(struct store *st, const char *sql, const char *text,
                  int64_t num, int64_t *a, int64_t *b)
{
	sqlite3_stmt *s = prep(st, sql);
	int rc, found = 0;

	if (s == NULL)
		return -1;
	if (text != NULL)
		st_bind_text(s, 1, text);
	else
		sqlite3_bind_int64(s, 1, num);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		found = 1;
		if (a != NULL)
			*a = sqlite3_column_int64(s, 0);
		if (b != NULL)
			*b = sqlite3_column_int64(s, 1);
	} else if (rc != SQLITE_DONE) {
		st_sqlite_error(st, rc, "calibration");
		found = -1;
	}
	sqlite3_finalize(s);
	return found;
}

/* The reference standard's calibration in force when r was performed:
 * its certificate, due date, and whether it was overdue (or never
 * calibrated). */
static int standard_snapshot(struct store *st, int64_t standard_id,
                             struct calib_record *r)
{
	sqlite3_stmt *s =
	        prep(st, "SELECT certificate, due FROM calibrations c"
	                 " WHERE instrument_id = ?1 AND performed <= ?2"
	                 " AND NOT EXISTS (SELECT 1 FROM calibrations n"
	                 "   WHERE n.supersedes = c.id)"
	                 " ORDER BY performed DESC, id DESC LIMIT 1");
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, standard_id);
	sqlite3_bind_int64(s, 2, r->performed_us);
	rc = sqlite3_step(s);
	r->standard_cert[0] = '\0';
	r->standard_due_us = 0;
	r->standard_overdue = true; /* never calibrated */
	if (rc == SQLITE_ROW) {
		const unsigned char *c = sqlite3_column_text(s, 0);
		snprintf(r->standard_cert, sizeof(r->standard_cert), "%s",
		         c != NULL ? (const char *)c : "");
		r->standard_due_us = sqlite3_column_int64(s, 1);
		r->standard_overdue = r->standard_due_us > 0 &&
		                      r->performed_us > r->standard_due_us;
	} else if (rc != SQLITE_DONE) {
		st_sqlite_error(st, rc, "calibration");
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

static void bind_decision(sqlite3_stmt *s, int i, int d)
{
	if (d < 0)
		sqlite3_bind_null(s, i);
	else
		st_bind_text(s, i, drift_decision_name((enum drift_decision)d));
}

static void bind_maybe(sqlite3_stmt *s, int i, double v)
{
	if (isnan(v))
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_double(s, i, v);
}

static int insert_record(struct store *st, const struct calib_record *r,
                         int64_t inst_id, int64_t std_id)
{
	sqlite3_stmt *s = prep(
	        st, "INSERT INTO calibrations (id, instrument_id, certificate,"
	            " supersedes, performed, issued, interval_days, due,"
	            " standard_id, standard_cert, standard_due,"
	            " standard_overdue, lab, customer, method, conditions,"
	            " technician, authorised, remarks, rule, guard_factor,"
	            " result_found, result_left, prev_hash, hash) VALUES"
	            " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
	            " ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24,"
	            " ?25)");
	sqlite3_stmt *p = prep(
	        st,
	        "INSERT INTO calibration_points (calibration_id, n,"
	        " quantity, unit, reference, as_found, as_left, lower,"
	        " upper, U, k, found_result, left_result) VALUES"
	        " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
	int rc = -1;

	if (s == NULL || p == NULL)
		goto out;
	sqlite3_bind_int64(s, 1, r->id);
	sqlite3_bind_int64(s, 2, inst_id);
	st_bind_text(s, 3, r->certificate);
	if (r->supersedes > 0)
		sqlite3_bind_int64(s, 4, r->supersedes);
	sqlite3_bind_int64(s, 5, r->performed_us);
	sqlite3_bind_int64(s, 6, r->issued_us);
	sqlite3_bind_int(s, 7, r->interval_days);
	sqlite3_bind_int64(s, 8, r->due_us);
	if (std_id > 0)
		sqlite3_bind_int64(s, 9, std_id);
	st_bind_text(s, 10, r->standard_cert);
	sqlite3_bind_int64(s, 11, r->standard_due_us);
	sqlite3_bind_int(s, 12, r->standard_overdue);
	st_bind_text(s, 13, r->lab);
	st_bind_text(s, 14, r->customer);
	st_bind_text(s, 15, r->method);
	st_bind_text(s, 16, r->conditions);
	st_bind_text(s, 17, r->technician);
	st_bind_text(s, 18, r->authorised);
	st_bind_text(s, 19, r->remarks);
	st_bind_text(s, 20,
	             r->rule == CALIB_RULE_GUARDED ? "guarded" : "simple");
	sqlite3_bind_double(s, 21, r->guard_factor);
	bind_decision(s, 22, r->result_found);
	bind_decision(s, 23, r->result_left);
	st_bind_text(s, 24, r->prev_hash);
	st_bind_text(s, 25, r->hash);
	if (st_run(st, s, "calibration") < 0)
		goto out;
	for (int i = 0; i < r->npoints; i++) {
		const struct calib_point *pt = &r->points[i];
		sqlite3_bind_int64(p, 1, r->id);
		sqlite3_bind_int(p, 2, i + 1);
		st_bind_text(p, 3, pt->quantity);
		st_bind_text(p, 4, pt->unit);
		sqlite3_bind_double(p, 5, pt->reference);
		bind_maybe(p, 6, pt->as_found);
		bind_maybe(p, 7, pt->as_left);
		sqlite3_bind_double(p, 8, pt->lower);
		sqlite3_bind_double(p, 9, pt->upper);
		sqlite3_bind_double(p, 10, pt->U);
		sqlite3_bind_double(p, 11, pt->k);
		bind_decision(p, 12, pt->found);
		bind_decision(p, 13, pt->left);
		if (st_run(st, p, "calibration") < 0)
			goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	sqlite3_finalize(p);
	return rc;
}

/* Everything store_cal_append() checks and fills in, inside its
 * transaction. */
static int cal_prepare(struct store *st, struct calib_record *r,
                       int64_t *inst_id, int64_t *std_id)
{
	int64_t interval = 0, other = 0, last_id = 0;
	int found;
	char owner[CALIB_TEXT] = "";

	found = lookup(st,
	               "SELECT id, interval_days FROM instruments"
	               " WHERE name = ?1",
	               r->instrument, 0, inst_id, &interval);
	if (found <= 0) {
		if (found == 0)
			st_error(st, STORE_OTHER,
			         "unknown instrument \"%s\": not an instrument "
			         "or standard of any configuration metrologd "
			         "has loaded",
			         r->instrument);
		return -1;
	}
	if (r->interval_days == 0)
		r->interval_days = (int)interval;
	if (r->customer[0] == '\0') {
		sqlite3_stmt *s = prep(st, "SELECT owner FROM instruments"
		                           " WHERE id = ?1");
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, *inst_id);
		if (sqlite3_step(s) == SQLITE_ROW)
			snprintf(owner, sizeof(owner), "%s",
			         (const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
		snprintf(r->customer, sizeof(r->customer), "%s", owner);
	}
	found = lookup(st, "SELECT id FROM calibrations WHERE certificate = ?1",
	               r->certificate, 0, &other, NULL);
	if (found != 0) {
		if (found > 0)
			st_error(st, STORE_OTHER,
			         "certificate number %s is already record "
			         "%" PRId64
			         " (a correction needs a new number)",
			         r->certificate, other);
		return -1;
	}
	if (r->supersedes > 0) {
		int64_t of = 0;
		found = lookup(st,
		               "SELECT instrument_id FROM calibrations"
		               " WHERE id = ?1",
		               NULL, r->supersedes, &of, NULL);
		if (found <= 0 || of != *inst_id) {
			if (found >= 0)
				st_error(st, STORE_OTHER,
				         "record %" PRId64 " to supersede %s",
				         r->supersedes,
				         found == 0
				                 ? "does not exist"
				                 : "is of another instrument");
			return -1;
		}
		found = lookup(st,
		               "SELECT id FROM calibrations"
		               " WHERE supersedes = ?1",
		               NULL, r->supersedes, &other, NULL);
		if (found != 0) {
			if (found > 0)
				st_error(st, STORE_OTHER,
				         "record %" PRId64
				         " is already superseded by record "
				         "%" PRId64,
				         r->supersedes, other);
			return -1;
		}
	}
	*std_id = 0;
	if (r->standard[0] != '\0') {
		if (strcmp(r->standard, r->instrument) == 0) {
			st_error(st, STORE_OTHER,
			         "%s cannot be its own reference standard",
			         r->instrument);
			return -1;
		}
		found = lookup(st, "SELECT id FROM instruments WHERE name = ?1",
		               r->standard, 0, std_id, NULL);
		if (found <= 0) {
			if (found == 0)
				st_error(st, STORE_OTHER,
				         "unknown reference standard \"%s\": "
				         "list it under standards (or "
				         "instruments) in the configuration",
				         r->standard);
			return -1;
		}
		if (standard_snapshot(st, *std_id, r) < 0)
			return -1;
	} else {
		r->standard_cert[0] = '\0';
		r->standard_due_us = 0;
		r->standard_overdue = false;
	}
	if (lookup(st, "SELECT id FROM calibrations ORDER BY id DESC LIMIT 1",
	           NULL, 0, &last_id, NULL) < 0)
		return -1;
	r->prev_hash[0] = '\0';
	if (last_id > 0) {
		sqlite3_stmt *s = prep(st, "SELECT hash FROM calibrations"
		                           " WHERE id = ?1");
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, last_id);
		if (sqlite3_step(s) == SQLITE_ROW)
			snprintf(r->prev_hash, sizeof(r->prev_hash), "%s",
			         (const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
	} else {
		snprintf(r->prev_hash, sizeof(r->prev_hash), "%s",
		         CALIB_GENESIS);
	}
	r->id = last_id + 1;
	r->issued_us = st_now_us();
	if (r->performed_us > r->issued_us + CAL_FUTURE_US) {
		st_error(st, STORE_OTHER,
		         "the calibration date is in the future (more than a "
		         "day after now)");
		return -1;
	}
	r->due_us = calib_next_due(r->performed_us, r->interval_days);
	if (calib_evaluate(r) < 0 || calib_hash(r, r->hash) < 0) {
		st_error(st, STORE_OTHER, "calibration: cannot evaluate");
		return -1;
	}
	return 0;
}

int store_cal_append(struct store *st, struct calib_record *r)
{
	char why[256];
	int64_t inst_id = 0, std_id = 0;

	if (calib_validate(r, why, sizeof(why)) < 0) {
		st_error(st, STORE_OTHER, "calibration: %s", why);
		return -1;
	}
	if (st_run(st, st->stmt[S_BEGIN], "calibration") < 0)
		return -1;
	if (cal_prepare(st, r, &inst_id, &std_id) < 0 ||
	    insert_record(st, r, inst_id, std_id) < 0 ||
	    st_run(st, st->stmt[S_COMMIT], "calibration") < 0) {
		st_rollback(st);
		return -1;
	}
	return 0;
}

/* ---- calibration due states --------------------------------------------- */

#define CAL_RECHECK_US (60 * 1000000LL)

/* The entity k of the refresh: instrument k, then standard k - ninst. */
static void cal_entity(const struct config *c, size_t k, const char **name,
                       int *soon)
{
	if (k < (size_t)c->ninstruments) {
		*name = c->instruments[k].id;
		*soon = c->instruments[k].due_soon_days;
	} else {
		*name = c->standards[k - (size_t)c->ninstruments].id;
		*soon = c->standards[k - (size_t)c->ninstruments].due_soon_days;
	}
}

/* Instruments with a channel that another channel is compared with. */
static void cal_channel_refs(const struct config *c, struct cal_state *cs)
{
	for (int i = 0; i < c->ninstruments; i++)
		for (int j = 0; j < c->instruments[i].nchannels; j++) {
			const struct cfg_tolerance *t =
			        c->instruments[i].channels[j].tolerance;
			if (t == NULL || !t->by_channel)
				continue;
			/* ref_channel is of the same instrument (config.c) */
			cs[i].in_use = true;
		}
}

/* Read the calibration in force of each of the n entities into cs, with
 * its due state at now_us. */
static int cal_read(struct store *st, struct cal_state *cs, size_t n,
                    int64_t now_us)
{
#define IN_FORCE                                                               \
	" FROM calibrations c WHERE c.instrument_id = i.id"                    \
	" AND NOT EXISTS (SELECT 1 FROM calibrations s"                        \
	"   WHERE s.supersedes = c.id)"                                        \
	" ORDER BY c.performed DESC, c.id DESC LIMIT 1)"
	sqlite3_stmt *q = prep(st, "SELECT i.id, (SELECT c.due" IN_FORCE
	                           ", (SELECT c.certificate" IN_FORCE
	                           ", EXISTS (SELECT 1 FROM calibrations r"
	                           "   WHERE r.standard_id = i.id)"
	                           " FROM instruments i WHERE i.name = ?1");
#undef IN_FORCE
	const struct config *c = st->conf;
	int rc = SQLITE_DONE;

	if (q == NULL)
		return -1;
	cal_channel_refs(c, cs);
	for (size_t k = 0; k < n; k++) {
		const char *name;
		int soon;
		cal_entity(c, k, &name, &soon);
		st_bind_text(q, 1, name);
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW) {
			const unsigned char *cert = sqlite3_column_text(q, 2);
			cs[k].row = sqlite3_column_int64(q, 0);
			cs[k].due_us = sqlite3_column_int64(q, 1);
			snprintf(cs[k].cert, sizeof(cs[k].cert), "%s",
			         cert != NULL ? (const char *)cert : "");
			cs[k].in_use |= sqlite3_column_int(q, 3) != 0;
			cs[k].due = (uint8_t)calib_due_state(cs[k].due_us, soon,
			                                     now_us);
			rc = SQLITE_DONE;
		}
		sqlite3_reset(q);
		if (rc != SQLITE_DONE)
			break;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		st_sqlite_error(st, rc, "calibration states");
		return -1;
	}
	return 0;
}

/* "ok -> due_soon: due 2027-03-01T00:00:00.000000Z, certificate C-1",
 * "calibrated: ..." when only the certificate changed, "overdue and now
 * in use: ..." when only that; ", in use as a reference" when an overdue
 * entity is one. */
static void cal_detail(const struct cal_state *was, const struct cal_state *now,
                       char *buf, size_t size)
{
	char due[32] = "none";
	int len;

	if (now->due_us > 0)
		utc_format(now->due_us, 6, due, sizeof(due));
	if (was->due != now->due)
		len = snprintf(buf, size, "%s -> %s: ",
		               calib_due_name((enum calib_due)was->due),
		               calib_due_name((enum calib_due)now->due));
	else if (strcmp(was->cert, now->cert) != 0)
		len = snprintf(buf, size, "calibrated: ");
	else /* only now in use as a reference while overdue */
		len = snprintf(buf, size, "overdue and now in use: ");
	if (len < 0 || (size_t)len >= size)
		return;
	snprintf(buf + len, size - (size_t)len, "due %s, certificate %s%s", due,
	         now->cert[0] ? now->cert : "none",
	         now->due == CALIB_DUE_OVERDUE && now->in_use
	                 ? ", in use as a reference"
	                 : "");
}

/* The MQTT event of a due-state change and the entity's new status. */
static int cal_outbox(struct store *st, size_t k, const struct cal_state *was,
                      const struct cal_state *now, const char *detail,
                      int64_t ts, int64_t *seq)
{
	const struct config *c = st->cfg;
	const char *id = k < (size_t)c->ninstruments
	                         ? c->instruments[k].id
	                         : c->standards[k - (size_t)c->ninstruments].id;
	struct msg_calstate pc;
	char topic[MSG_TOPIC_MAX];
	int len, rc;

	if (msg_topic(topic, sizeof(topic), c->mqtt->prefix, c->site, id,
	              "events") < 0) {
		st_error(st, STORE_OTHER, "outbox: topic too long");
		return -1;
	}
	do {
		len = msg_calibration(st->pbuf, st->pbuf_size, *seq, ts, id,
		                      calib_due_name((enum calib_due)was->due),
		                      calib_due_name((enum calib_due)now->due),
		                      st_cal_block(now, &pc), detail);
	} while ((rc = st_grow_payload(st, len, 1024)) == 1);
	if (rc < 0 || st_outbox_insert(st, *seq, ts, topic, len, false) < 0)
		return -1;
	(*seq)++;
	return st_outbox_entity_status(st, k, ts, seq, now);
}

/* The first refresh after a configuration: every entity's status with its
 * calibration (the standards' only status; the instruments' until their
 * next event). */
static int cal_statuses(struct store *st, const struct cal_state *cs, size_t n,
                        int64_t now_us)
{
	int64_t seq = 0;

	if (st_outbox_next_seq(st, &seq) < 0)
		return -1;
	for (size_t k = 0; k < n; k++)
		if (st_outbox_entity_status(st, k, now_us, &seq, &cs[k]) < 0)
			return -1;
	return 0;
}

/* An events row per entity whose state or certificate changed, and with
 * MQTT its event message and status. */
static int cal_events(struct store *st, const struct cal_state *cs, size_t n,
                      int64_t now_us, int *changes)
{
	sqlite3_stmt *ins = st->stmt[S_INSERT_EVENT];
	char detail[256];
	int64_t seq = 0;

	if (st->cfg != NULL && st_outbox_next_seq(st, &seq) < 0)
		return -1;

	for (size_t k = 0; k < n; k++) {
		const struct cal_state *was = &st->cal[k], *now = &cs[k];
		bool flagged = now->due == CALIB_DUE_OVERDUE && now->in_use;
		if (was->due == now->due && strcmp(was->cert, now->cert) == 0 &&
		    (was->in_use == now->in_use || !flagged))
			continue;
		cal_detail(was, now, detail, sizeof(detail));
		sqlite3_bind_int64(ins, 1, now_us);
		sqlite3_bind_int64(ins, 2, now->row);
		sqlite3_bind_text(ins, 3, "calibration", -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 4, detail, -1, SQLITE_STATIC);
		if (st_run(st, ins, "calibration event") < 0)
			return -1;
		if (st->cfg != NULL &&
		    cal_outbox(st, k, was, now, detail, now_us, &seq) < 0)
			return -1;
		(*changes)++;
	}
	return 0;
}

int store_cal_refresh(struct store *st, int64_t now_us)
{
	const struct config *c = st->conf;
	size_t n;
	struct cal_state *cs;
	int64_t last = 0;
	int changes = 0;

	if (c == NULL)
		return 0;
	if (lookup(st, "SELECT coalesce(max(id), 0) FROM calibrations", NULL, 0,
	           &last, NULL) < 0)
		return -1;
	if (st->cal != NULL && last == st->cal_seen && now_us < st->cal_next_us)
		return 0;
	n = (size_t)c->ninstruments + (size_t)c->nstandards;
	cs = calloc(n + 1, sizeof(*cs));
	if (cs == NULL) {
		st_error(st, STORE_OTHER, "calibration states: %s",
		         strerror(ENOMEM));
		return -1;
	}
	if (cal_read(st, cs, n, now_us) < 0)
		goto fail;
	/* the first refresh learns (and publishes the statuses), later ones
	 * record the changes */
	if (st->cal != NULL || st->cfg != NULL) {
		if (st_run(st, st->stmt[S_BEGIN], "calibration states") < 0)
			goto fail;
		if ((st->cal != NULL ? cal_events(st, cs, n, now_us, &changes)
		                     : cal_statuses(st, cs, n, now_us)) < 0 ||
		    st_run(st, st->stmt[S_COMMIT], "calibration states") < 0) {
			st_rollback(st);
			goto fail;
		}
	}
	for (size_t k = 0; st->cal != NULL && k < n; k++)
		cs[k].renewed = strcmp(st->cal[k].cert, cs[k].cert) != 0;
	free(st->cal);
	st->cal = cs;
	st->ncal = n;
	st->cal_seen = last;
	st->cal_next_us = now_us + CAL_RECHECK_US;
	return changes;
fail:
	free(cs);
	return -1;
}

bool store_cal_renewed(const struct store *st, uint32_t inst)
{
	return st->cal != NULL && inst < st->ncal &&
	       inst < (uint32_t)st->conf->ninstruments && st->cal[inst].renewed;
}
