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

#define CALIB_ID      65  /* instrument ids, certificate numbers */
#define CALIB_TEXT    256 /* names, method, conditions, lab */
#define CALIB_REMARKS 2048
#define CALIB_UNIT    32
#define CALIB_POINTS  64 /* test points per record, at most */
#define CALIB_HASH    65 /* 64 hex digits and the NUL */
#define CALIB_GENESIS                                                          \
	"0000000000000000000000000000000000000000000000000000000000000000"

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
	 * indication is NAN */
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
	char lab[CALIB_TEXT];       /* laboratory name and address */
	char customer[CALIB_TEXT];  /* "" : the instrument's owner */
	char method[CALIB_TEXT];    /* procedure identification */
	char conditions[CALIB_TEXT]; /* environment, e.g. "23.0 degC, 45 %rh" */
	char technician[CALIB_TEXT];
	char authorised[CALIB_TEXT]; /* who authorised the certificate */
	char remarks[CALIB_REMARKS];
	enum calib_rule rule;
	double guard_factor; /* r, when guarded (w = r * U) */
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
 * guard_factor >= 0, every decision possible exactly (drift_decide_at),
 * no string filling its array, every string printable UTF-8 without
 * control characters (text_printable). Returns 0, or -1 with
 * the first problem in err ("point 2: lower limit 0.1 > upper -0.1"). */
int calib_validate(const struct calib_record *r, char *err, size_t errlen);

/* Decide every point (drift_decide_at: error = indication - reference
 * and the limits exact in decimal, so an indication on a limit is on it;
 * w = guard_factor * U when guarded) and the record's results. Returns 0,
 * -1 on a value drift_decide_at refuses (not finite, or numbers too far
 * apart in magnitude to compare exactly: calib_validate refuses those
 * first). */
int calib_evaluate(struct calib_record *r);

/* The canonical text of r that is hashed: one "key=value\n" line per field
 * in a fixed order (hash excluded), numbers as %.17g (exact round trip),
 * NAN as "nan", strings with \\, \n and \r escaped. Writes at most size
 * bytes (NUL-terminated when size > 0) and returns the length the whole
 * text needs (like snprintf). */
size_t calib_canonical(const struct calib_record *r, char *buf, size_t size);

/* SHA-256 of the canonical text, as 64 lowercase hex digits, into out.
 * Returns 0, -1 when memory runs out. */
int calib_hash(const struct calib_record *r, char out[CALIB_HASH]);

/* Due state of an instrument whose calibration in force is due at due_us
 * (0: never calibrated, or no interval). */
enum calib_due {
	CALIB_DUE_NONE, /* no due date: never calibrated / no interval */
	CALIB_DUE_OK,
	CALIB_DUE_SOON,    /* due within due_soon_days */
	CALIB_DUE_OVERDUE, /* now_us > due_us */
};

enum calib_due calib_due_state(int64_t due_us, int due_soon_days,
                               int64_t now_us);
/* "none", "ok", "due_soon", "overdue" */
const char *calib_due_name(enum calib_due d);

/* performed_us + interval_days days; 0 when interval_days <= 0. */
int64_t calib_next_due(int64_t performed_us, int interval_days);

#endif
