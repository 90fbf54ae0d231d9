/*
 * verify.h - the public verification of a certificate (docs/WEB.md,
 * "Verifying a certificate"): anyone, without an account, gives a
 * certificate number and its hash, or the text of its QR code
 * (calib.h, calib_qr), and learns whether the laboratory's database
 * holds that record with that hash.
 *
 * It says nothing the certificate in the asker's hands does not already
 * say: on a match, the record's number, its date of issue, the lab and
 * whether it is approved; otherwise only "does not match" or "not
 * found". A match also recomputes the record's hash from its content
 * (calib_hash): a record altered behind the store's back does not match.
 *
 * Threading: the caller's query connection and buffer; no state.
 */
#ifndef METROLOG_WEB_VERIFY_H
#define METROLOG_WEB_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "calib.h"
#include "page.h"

struct query;

enum verify_outcome { VERIFY_MATCH, VERIFY_NO_MATCH, VERIFY_NOT_FOUND };

struct verify_result {
	enum verify_outcome outcome;
	char certificate[CALIB_ID]; /* as asked */
	/* a match only: */
	int64_t record;
	int64_t issued_us; /* the approval's date, else the record's issue */
	char lab[CALIB_TEXT];
	bool approved; /* an approval that checks (certdoc_approval) */
};

/* What is asked: the QR text qr, else the number cert and hash (any may
 * be NULL), into cert_out and hash_out (lower case). Returns 0, or -1
 * when neither is given whole and well formed (a number of 1 to 64
 * printable characters, 64 hexadecimal digits). */
int verify_input(const char *qr, const char *cert, const char *hash,
                 char cert_out[CALIB_ID], char hash_out[CALIB_HASH]);

/* Check certificate cert against hash (verify_input's) into *out.
 * Returns 0, -1 on a database error. */
int verify_check(struct query *q, const char *cert, const char *hash,
                 struct verify_result *out);

/* The verification page (inside <main>): the result res (NULL none) or
 * the message err (M_MSGS none), then the form, filled with what was
 * asked (cert, hash, qr; NULL empty). */
void verify_html(struct sbuf *b, enum lang l, const char *cert,
                 const char *hash, const char *qr,
                 const struct verify_result *res, enum msg err);

#endif
