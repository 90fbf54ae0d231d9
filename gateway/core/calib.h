/*
 * calib.h - a calibration record: what it holds, how it is checked, its
 * decisions, its canonical text and the SHA-256 hash that chains it to the
 * record before it, and the due state of an instrument.
 *
 * A record is what ISO/IEC 17025 7.8 asks a certificate to carry: the item,
 * the customer, the dates, the method, the reference standard (itself an
 * instrument with its own certificate and due date: the traceability
 * chain), the results at each test point as found and as left with their
 * units and expanded uncertainty, the decision rule and the decisions, who
 * calibrated and who authorised. Records are append-only: a correction is a
 * new record that names the one it supersedes (docs/METROLOGY.md).
 *
 * The audit chain: hash_n = SHA-256 of the canonical text of record n, which
 * includes hash_(n-1) (64 zeros for the first record) and every field
 * below except hash itself. Changing any stored field of a record changes
 * its hash; recomputing that hash breaks the link from the next record.
 *
 * Pure functions of the struct (the hash uses OpenSSL's libcrypto, the only
 * file that includes it); no I/O, no global state, any thread. Strings are
 * NUL-terminated UTF-8 in fixed arrays; calib_validate() refuses a string
 * that filled its array (it may have been cut).
 */
#ifndef METROLOG_CALIB_H
#define METROLOG_CALIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drift.h" /* the statement policy's defaults */

#define CALIB_ID      65  /* instrument ids, certificate numbers */
#define CALIB_TEXT    256 /* names, method, conditions, lab */
#define CALIB_REMARKS 2048
#define CALIB_UNIT    32
#define CALIB_POINTS  64 /* test points per record, at most */
#define CALIB_HASH    65 /* 64 hex digits and the NUL */
#define CALIB_GENESIS                                                          \
	"0000000000000000000000000000000000000000000000000000000000000000"

/*
 * Rule versions: which rules decided a record (stored with it, and in its
 * canonical text from version 2 on, so it is covered by the hash).
 *   1  before 2026-12: a point not adjusted (as_left NAN) had no as-left
 *      decision and was left out of the as-left result; every point got
 *      a decision whatever its uncertainty.
 *   2  a point not adjusted keeps its as-found result as left (as_left
 *      stays NAN: "not adjusted"), so the as-left result covers every
 *      point; a point gets a statement of conformity only when the
 *      record's policy allows one (calib_point_statement), otherwise
 *      DRIFT_NO_STATEMENT.
 * 0 reads as 1 (a zeroed struct, the rows written before the column).
 * Records stay as they were decided: a new rule never re-decides one.
 */
#define CALIB_RULE_VERSION 3
/* The policy's defaults (docs/METROLOGY.md, "When a statement can be
 * made"): a statement when TUR >= 4 or its specific risk <= 2.5 %. */
#define CALIB_MIN_TUR_DEFAULT  DRIFT_MIN_TUR_DEFAULT
#define CALIB_MAX_RISK_DEFAULT DRIFT_MAX_RISK_DEFAULT

enum calib_rule {
	CALIB_RULE_SIMPLE = 0,  /* ILAC-G8 simple acceptance (w = 0) */
	CALIB_RULE_GUARDED = 1, /* guarded acceptance, w = guard_factor * U */
};

/* One test point: the reference value applied (the standard's value) and
 * the instrument's indications. Error = indication - reference. */
struct calib_point {
	char quantity[CALIB_TEXT]; /* channel or quantity name, e.g.
	                              "temperature" */
	char unit[CALIB_UNIT];     /* engineering unit, "" when none */
	double reference;
	double as_found; /* indication before any adjustment; NAN: not taken */
	double as_left;  /* indication after adjustment; NAN: not adjusted */
	double lower, upper; /* error limits, lower <= upper */
	double U, k;         /* expanded uncertainty (unit), coverage factor */
	/* set by calib_evaluate(): enum drift_decision, or -1 when the
	 * indication is NAN (rule version 2: left is found when as_left is
	 * NAN, the point not adjusted) */
	int found, left;
};

struct calib_record {
	/* set by the store when appended (store_cal_append) */
	int64_t id;        /* position in the chain, 1, 2, ... */
	int64_t issued_us; /* when recorded: the certificate's issue date */
	char prev_hash[CALIB_HASH];
	char hash[CALIB_HASH];
	/* the standard's snapshot, also set by the store from its records */
	char standard_cert[CALIB_ID]; /* its certificate in force, "" none */
	int64_t standard_due_us;      /* its due date then, 0 unknown */
	bool standard_overdue;        /* overdue (or never calibrated) at
	                                 performed_us */

	/* given by the technician */
	int64_t supersedes; /* id of the record this one corrects, 0 none */
	char instrument[CALIB_ID];  /* the item: an instrument or standard id */
	char certificate[CALIB_ID]; /* unique certificate number */
	int64_t performed_us;       /* when calibrated, UTC us */
	int interval_days;          /* next due = performed + interval; 0: the
	                               instrument's configured interval (the store
	                               fills it in) */
	int64_t due_us;             /* next due date (set by the store) */
	char standard[CALIB_ID];    /* reference standard's id, "" none */
	char lab[CALIB_TEXT];       /* laboratory's name ("" : the lab of the
	                               database, its name and address before
	                               version 3) */
	char customer[CALIB_TEXT];  /* "" : the instrument's owner (the
	                               customer's name when the database
	                               knows that owner) */
	char method[CALIB_TEXT];    /* procedure identification */
	char conditions[CALIB_TEXT]; /* environment, e.g. "23.0 degC, 45 %rh" */
	char technician[CALIB_TEXT];
	char authorised[CALIB_TEXT]; /* who authorised the certificate */
	char remarks[CALIB_REMARKS];
	/* version 3 (all "" / 0 in older records; "" where the store fills
	 * in the database's lab and customer) */
	char lab_address[CALIB_TEXT];
	char lab_accreditation[CALIB_TEXT]; /* e.g. "VILAS 1234" */
	char customer_address[CALIB_TEXT];
	char customer_contact[CALIB_TEXT];
	char location[CALIB_TEXT];        /* where the work was done ("":
	                                     the lab's permanent premises) */
	char item_condition[CALIB_TEXT];  /* the item's condition on receipt */
	int64_t received_us;              /* date of receipt, 0 not given */
	char specification[CALIB_TEXT];   /* where the limits come from */
	char deviations[CALIB_TEXT];      /* additions to, deviations from or
	                                     exclusions from the method */
	char standard_reason[CALIB_TEXT]; /* why a standard overdue or never
	                                     calibrated was used */
	char amendment[CALIB_TEXT];       /* with supersedes: what changed
	                                     and why */
	/* schema 14 ("" in older records): in the canonical text only when
	 * not "", so a record without them hashes as it did before */
	char customer_id[CALIB_ID]; /* the customer's tax code or registration
	                               number as the lab records it, "" none */
	char model[CALIB_TEXT];     /* the item's model: set by the store from
	                               its instrument's (as configured) */
	enum calib_rule rule;
	double guard_factor; /* r, when guarded (w = r * U) */
	int rule_version;    /* CALIB_RULE_VERSION for a new record; 0 or
	                        1: an old one (above) */
	/* the statement policy, rule version 2 (0: the default, filled in
	 * by calib_current): a point's decision is a statement only when
	 * TUR = (upper - lower) / (2 U) >= min_tur or its specific risk
	 * <= max_risk (a fraction, 0.025 = 2.5 %) */
	double min_tur, max_risk;
	/* input only, neither stored nor hashed: store_cal_append refuses
	 * a record with a point that gets no statement */
	bool refuse_no_statement;
	int npoints;
	struct calib_point points[CALIB_POINTS];

	/* set by calib_evaluate(): the worst decision over the points
	 * (enum drift_decision), -1 when no point has that indication */
	int result_found, result_left;
};

/* Check what the technician gives: instrument, certificate (1-64 of
 * A-Z a-z 0-9 _ . - /), technician, at least one point, performed_us > 0,
 * interval_days >= 0, every number finite where required (as_found and
 * as_left may be NAN, not both), lower <= upper, U >= 0, k > 0,
 * guard_factor >= 0, min_tur >= 0, 0 <= max_risk <= 0.5 (0: the default),
 * every decision possible exactly (drift_decide_at),
 * no string filling its array, every string printable UTF-8 without
 * control characters (text_printable). Returns 0, or -1 with
 * the first problem in err ("point 2: lower limit 0.1 > upper -0.1"). */
int calib_validate(const struct calib_record *r, char *err, size_t errlen);

/* Make r a record of the current rules: rule_version CALIB_RULE_VERSION,
 * min_tur and max_risk their defaults where 0. What store_cal_append does
 * to every record it appends, and a dry run before calib_evaluate. */
void calib_current(struct calib_record *r);

/* Decide every point (drift_decide_at: error = indication - reference
 * and the limits exact in decimal, so an indication on a limit is on it;
 * w = guard_factor * U when guarded) and the record's results, under the
 * rules of r->rule_version (above). The record's result is its worst
 * point: pass < conditional pass < no statement < conditional fail <
 * fail; -1 when no point has that indication (version 2: as left is
 * never -1). Returns 0, -1 on a value drift_decide_at refuses (not
 * finite, or numbers too far apart in magnitude to compare exactly:
 * calib_validate refuses those first). */
int calib_evaluate(struct calib_record *r);

/* Why a point's decision may or may not be a statement (rule version 2;
 * docs/METROLOGY.md): */
struct calib_statement {
	double tur;   /* (upper - lower) / (2 U); INFINITY when U = 0 */
	double risk;  /* the specific risk of the decision (JCGM 106:2012,
	                 normal, u = U / k): 1 - p_c for pass and conditional
	                 pass (false accept), p_c for fail and conditional
	                 fail (false reject); 0 when U = 0 */
	bool overlap; /* guarded and 2w > upper - lower: no result can pass */
	bool made;    /* a statement: !overlap, and the decision conditional
	                 (ILAC-G8 says so itself), tur >= min_tur or risk <=
	                 max_risk */
};

/* The statement of decision d (enum drift_decision, from drift_decide)
 * for indication at point p of r, under r's policy (0: the defaults).
 * Returns 0, -1 when d cannot be decided (as calib_evaluate). */
int calib_point_statement(const struct calib_record *r,
                          const struct calib_point *p, double indication, int d,
                          struct calib_statement *out);

/* The first point of an evaluated r whose as-found or as-left decision is
 * DRIFT_NO_STATEMENT: 0 when none, -1 with "point 2: as found: no
 * statement can be made: TUR 0.1 < 4 and specific risk 84 % > 2.5 %" in
 * err. */
int calib_statements_check(const struct calib_record *r, char *err,
                           size_t errlen);

/* The same for point i (0-based) alone. */
int calib_point_why(const struct calib_record *r, int i, char *err,
                    size_t errlen);

/* The results of r re-decided under the current rules with the default
 * policy (a copy of r through calib_current and calib_evaluate), into
 * found and left: what an old record's results would be today. Returns
 * 0, -1 when memory runs out or a point cannot be decided. */
int calib_redecide(const struct calib_record *r, int *found, int *left);

/* The canonical text of r that is hashed: one "key=value\n" line per field
 * in a fixed order (hash excluded), numbers as %.17g (exact round trip),
 * NAN as "nan", strings with \\, \n and \r escaped. The first line
 * names the rule version ("metrolog-calibration=1" for 0 and 1, the text
 * of every record before version 2, unchanged); from version 2, min_tur
 * and max_risk follow guard_factor. Writes at most size
 * bytes (NUL-terminated when size > 0) and returns the length the whole
 * text needs (like snprintf). */
size_t calib_canonical(const struct calib_record *r, char *buf, size_t size);

/* SHA-256 of the canonical text, as 64 lowercase hex digits, into out.
 * Returns 0, -1 when memory runs out. */
int calib_hash(const struct calib_record *r, char out[CALIB_HASH]);

/*
 * Due states: THE RULE (docs/METROLOGY.md, "Due dates"). A calibration due
 * at due_us is due on the lab's local date of that instant (labtime.h: the
 * machine's local time zone), D, and stays in date for the whole of D:
 *   overdue   from the start of local day D + 1 (local midnight after the
 *             printed due date) on;
 *   due_soon  from the start of local day D - due_soon_days until then
 *             (with due_soon_days 0: during D itself);
 *   ok        before;
 *   none      no due date (due_us <= 0: never calibrated, or no interval).
 * Local days are asked of the zone, never counted as 24 h (a day may last
 * 23 or 25 h). Everything that decides or prints a due date calls these.
 */
enum calib_due {
	CALIB_DUE_NONE, /* no due date: never calibrated / no interval */
	CALIB_DUE_OK,
	CALIB_DUE_SOON,    /* from local day D - due_soon_days */
	CALIB_DUE_OVERDUE, /* from local day D + 1 */
};

/* The due state at now_us (due_soon_days < 0 counts as 0). */
enum calib_due calib_due_state(int64_t due_us, int due_soon_days,
                               int64_t now_us);

/* The first instant after now_us at which calib_due_state() changes (the
 * start of the due_soon or the overdue day), 0 when it never will (no due
 * date, or overdue already). */
int64_t calib_due_next_change(int64_t due_us, int due_soon_days,
                              int64_t now_us);

/* Whole local days from now_us's local date to the due date D: 0 on D,
 * -1 the day after (overdue), 30 thirty days before. */
int64_t calib_due_days_left(int64_t due_us, int64_t now_us);

/* The due date D as printed, "2027-12-05" (UTC_DATE_SIZE bytes): the lab's
 * local date of due_us, the date the rule above decides by. */
void calib_due_date(int64_t due_us, char *buf, size_t size);

/* "none", "ok", "due_soon", "overdue" */
const char *calib_due_name(enum calib_due d);

/* performed_us + interval_days days; 0 when interval_days <= 0. */
int64_t calib_next_due(int64_t performed_us, int interval_days);

/* ---- approvals (docs/SCHEMA.md, approvals) --------------------------------
 *
 * A record is approved by a person other than its technician (ISO/IEC
 * 17025 7.8.2.1 o): one approval per record, append-only, chained among
 * themselves as the records are: hash_n = SHA-256 of the canonical text
 * of approval n, which includes the approved record's hash and the hash
 * of approval n-1 (CALIB_GENESIS for the first). Altering the record
 * (and recomputing its hash) or the approval breaks its hash.
 */
struct calib_approval {
	int64_t id;             /* position in the approvals' chain, 1, 2 .. */
	int64_t calibration_id; /* the record approved */
	char record_hash[CALIB_HASH]; /* that record's hash */
	int64_t approved_us;          /* when approved, UTC us */
	char approver[CALIB_TEXT];    /* who approved */
	char role[CALIB_TEXT];        /* e.g. "Lab manager", "" none */
	char prev_hash[CALIB_HASH];
	char hash[CALIB_HASH];
};

/* The canonical text of a, one "key=value\n" line per field in this
 * order: "metrolog-approval=1", id, prev_hash, calibration_id,
 * record_hash, approved, approver, role (strings escaped as in
 * calib_canonical; hash excluded). Writes at most size bytes
 * (NUL-terminated when size > 0); returns the length the whole text
 * needs. */
size_t calib_approval_canonical(const struct calib_approval *a, char *buf,
                                size_t size);

/* SHA-256 of the canonical text, 64 lowercase hex digits, into out.
 * Returns 0, -1 when memory runs out. */
int calib_approval_hash(const struct calib_approval *a, char out[CALIB_HASH]);

/* Whether a and b name the same person, as the approval rule compares
 * names: white space trimmed at both ends and runs of it inside taken
 * as one space, letters compared without case (ASCII, Latin-1, Latin
 * Extended-A and Additional: every Vietnamese letter, so "TRẦN THỊ
 * BÌNH" is "Trần Thị Bình"). Text is compared as given (no Unicode
 * normalisation: a name typed decomposed is another text). */
bool calib_same_person(const char *a, const char *b);

/* ---- the certificate's QR code ------------------------------------------
 *
 * "metrolog:cert=<number>;id=<record id>;hash=<64 hex>": what a
 * certificate prints as a QR code and under it, and what `metrolog verify
 * --qr` and metrolog-web's /verify read back. */

#define CALIB_QR (CALIB_ID + CALIB_HASH + 64) /* bytes of the text */

/* The QR text of record r into buf (CALIB_QR bytes suffice). */
void calib_qr(const struct calib_record *r, char *buf, size_t size);

/* The certificate number and hash of a QR text into cert and hash (the
 * id is not needed: the number names the record). Returns 0, or -1 when
 * text does not start with "metrolog:", lacks cert= (or it is empty) or
 * hash=, or one does not fit. The hash is not checked for form. */
int calib_qr_parse(const char *text, char *cert, size_t csize, char *hash,
                   size_t hsize);

#endif
