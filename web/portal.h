/*
 * portal.h - the enterprises' portal (docs/WEB.md, "The portal"): the
 * instruments of one customer with the calibration in force and its due
 * state, each instrument's calibration history, and the one rule of who
 * may see which record.
 *
 * Isolation: an enterprise user sees the instruments whose owner is its
 * customer (users.customer = instruments.owner) and the records of those
 * instruments, nothing else; the lab's people (owner NULL here) see
 * every one. Whatever is not the user's is "not found" (1), exactly as
 * what does not exist: the caller answers both with the same 404. Pages
 * name instruments by their id and records by their certificate number,
 * never by a row id.
 *
 * Threading: the caller's query connection and buffer; no state.
 */
#ifndef METROLOG_WEB_PORTAL_H
#define METROLOG_WEB_PORTAL_H

#include <stdbool.h>
#include <stdint.h>

#include "calib.h"
#include "page.h"

struct query;

/* The list of the instruments of owner (NULL: every instrument and
 * standard) at now_us, as HTML inside <main>. Returns 0, -1 on a
 * database error (query_error). */
int portal_instruments(struct sbuf *b, struct query *q, const char *owner,
                       int64_t now_us, enum lang l);

/* The page of instrument name when owner (NULL: any) owns it: its
 * particulars, calibration in force, due state and history, with links
 * to the certificates owner may download (portal_record). Returns 0, 1
 * when there is no such instrument of owner (nothing written), -1 on a
 * database error. */
int portal_instrument(struct sbuf *b, struct query *q, const char *name,
                      const char *owner, int64_t now_us, enum lang l);

/* The calibration history of instrument name (owner: as above; the
 * caller checked the instrument is owner's), newest first, as HTML: each
 * record's certificate number, calibration date, results as found and
 * as left, due date, what supersedes it, approved or draft, and links to
 * the certificate (PDF, JSON) when owner may have it. Returns 0, -1 on a
 * database error. */
int portal_history(struct sbuf *b, struct query *q, const char *name,
                   const char *owner, enum lang l);

/* The record of certificate number cert (the latest with that number)
 * when owner (NULL: any) may have it, into *r, with its approval into
 * *ap (ap->id 0: none, or one that does not check against the record:
 * a draft). An enterprise (owner not NULL) gets approved records only:
 * a draft is not issued (docs/WEB.md). Returns 0, 1 when not found or
 * not owner's (the same work either way: one lookup of the record, one
 * of its instrument), -1 on a database error. */
int portal_record(struct query *q, const char *cert, const char *owner,
                  struct calib_record *r, struct calib_approval *ap);

#endif
