/*
 * certdoc.h - the calibration certificate of one record as an A4 PDF, in
 * Vietnamese and English (certdoc.c says what it carries and why): the
 * one piece of code behind `metrolog certificate` (certificate.c), which
 * writes it to a file, and metrolog-web's portal, which serves it from
 * memory. What the record alone does not say (the item's model and
 * serial, the certificates it replaces and that replace it, its approval,
 * the lab's logo) is read from the database here.
 *
 * A record without an approval, or with one that does not check against
 * it (calib_approval_hash, the record's hash), is drawn as a draft:
 * "BẢN NHÁP / DRAFT" on every page.
 *
 * Threading: the caller's query connection; a certificate is drawn on one
 * thread at a time (draw.h).
 */
#ifndef METROLOG_CERTDOC_H
#define METROLOG_CERTDOC_H

#include <stddef.h>
#include <stdint.h>

#include "calib.h"
#include "draw.h"

struct query;

struct certdoc {
	/* in */
	enum draw_lang lang;
	const char *path; /* the file (written whole or not at all), or NULL:
	                     into pdf and len */
	int64_t now_us;   /* now, UTC (the item's row is read as of now) */
	/* out */
	char *pdf; /* path NULL: the PDF, the caller's to free() */
	size_t len;
	char note[256]; /* a warning for people, "" none: an approval that
	                   does not check, the certificate drawn as a draft */
	char err[512];  /* why it failed */
};

/* The certificate numbers of the record r corrects (replaces) and of
 * the record correcting it (replaced_by), "" none; that record's id into
 * *by (0 none). Returns 0, -1 on a database error. */
int certdoc_supersession(struct query *q, const struct calib_record *r,
                         char replaces[CALIB_ID], char replaced_by[CALIB_ID],
                         int64_t *by);

/* The approval of record r into *ap when it checks (its hash, and the
 * record's hash it names): 0; 1 none (a draft); 2 one that does not
 * check (a draft too); ap zeroed unless 0. -1 on a database error. */
int certdoc_approval(struct query *q, const struct calib_record *r,
                     struct calib_approval *ap);

/* Draw the certificate of record r, read from q, as c says. Returns 0,
 * or -1 with the reason in c->err (a database error, out of memory, a
 * text no font can draw, a file that cannot be written). */
int certdoc_write(struct query *q, const struct calib_record *r,
                  struct certdoc *c);

#endif
