/*
 * portal.c - the enterprises' portal: the instruments of a customer, an
 * instrument's calibration history, and who may have which record
 * (portal.h).
 *
 * Everything read goes through query.h; every text from the database is
 * escaped (sb_html) and every name put in a link percent-encoded
 * (sb_url). A state is said in words with its class (board.css adds the
 * colour and a symbol), never by colour alone.
 */
#include "portal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certdoc.h"
#include "labtime.h"
#include "query.h"
#include "text.h"

/* ---- who may have what ---------------------------------------------------
 */

/* Whether owner (NULL: the lab, any) owns instrument in. */
static bool owns(const struct query_instrument *in, const char *owner)
{
	return owner == NULL ||
	       (owner[0] != '\0' && strcmp(in->owner, owner) == 0);
}

/* The approval of r that checks, into *ap: 0, 1 none, -1 error. */
static int approval_of(struct query *q, const struct calib_record *r,
                       struct calib_approval *ap)
{
	int rc = certdoc_approval(q, r, ap);

	return rc > 0 ? 1 : rc;
}

int portal_record(struct query *q, const char *cert, const char *owner,
                  struct calib_record *r, struct calib_approval *ap)
{
	struct query_instrument in;
	int rc = query_calibration_by_cert(q, cert, r), irc;

	memset(ap, 0, sizeof(*ap));
	if (rc < 0)
		return -1;
	/* the instrument's lookup even when there is no record, so that
	 * another's record and none cost the same */
	irc = query_instrument(q, rc == 0 ? r->instrument : "", 0, &in);
	if (irc < 0)
		return -1;
	if (rc == 1 || irc == 1 || !owns(&in, owner))
		return 1;
	if ((rc = approval_of(q, r, ap)) < 0)
		return -1;
	return owner != NULL && rc == 1 ? 1 : 0;
}

/* ---- the list of instruments -------------------------------------------- */

struct list {
	struct sbuf *b;
	enum lang l;
	int n;
};

/* The cells of the calibration in force of in and its due state. */
static void in_force_cells(struct sbuf *b, const struct query_instrument *in,
                           enum lang l)
{
	char date[UTC_DATE_SIZE] = "", due[160];

	sb_add(b, "<td>");
	if (in->cal_id != 0) {
		labtime_format_date(in->cal_us, date, sizeof(date));
		sb_html(b, in->certificate);
		sb_printf(b, " <span class=\"meta\">(%s)</span>", date);
	} else {
		sb_html(b, tr(l, M_NEVER_CALIBRATED));
	}
	date[0] = '\0';
	if (in->due_us != 0)
		calib_due_date(in->due_us, date, sizeof(date));
	page_due_text(l, calib_due_name(in->due), date, due, sizeof(due));
	sb_printf(b, "</td><td class=\"due due-%s\">", calib_due_name(in->due));
	sb_html(b, due);
	sb_add(b, "</td>");
}

static int list_row(void *ctx, const struct query_instrument *in)
{
	struct list *x = ctx;
	struct sbuf *b = x->b;

	if (x->n++ == 0)
		sb_printf(b,
		          "<table class=\"portal\"><thead><tr><th>%s</th>"
		          "<th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
		          "<th>%s</th></tr></thead><tbody>",
		          tr(x->l, M_INSTRUMENT), tr(x->l, M_MODEL),
		          tr(x->l, M_SERIAL), tr(x->l, M_LOCATION),
		          tr(x->l, M_IN_FORCE), tr(x->l, M_CALIBRATION));
	sb_add(b, "<tr><th scope=\"row\"><a href=\"/instrument?name=");
	sb_url(b, in->name);
	sb_add(b, "\">");
	sb_html(b, in->name);
	sb_add(b, "</a></th><td>");
	sb_html(b, in->model);
	sb_add(b, "</td><td>");
	sb_html(b, in->serial);
	sb_add(b, "</td><td>");
	sb_html(b, in->location);
	sb_add(b, "</td>");
	in_force_cells(b, in, x->l);
	sb_add(b, "</tr>");
	return 0;
}

int portal_instruments(struct sbuf *b, struct query *q, const char *owner,
                       int64_t now_us, enum lang l)
{
	struct list x = {.b = b, .l = l};
	char zone[16];

	sb_add(b, "<h1>");
	sb_html(b, tr(l, M_INSTRUMENTS));
	sb_add(b, "</h1>");
	/* an enterprise user whose customer is "" owns nothing (owns()) */
	if ((owner == NULL || owner[0] != '\0') &&
	    query_instruments(q, owner, now_us, list_row, &x) != 0)
		return -1;
	if (x.n == 0) {
		sb_add(b, "<p>");
		sb_html(b, tr(l, M_NO_OWN_INSTRUMENTS));
		sb_add(b, "</p>");
	} else {
		sb_add(b, "</tbody></table>");
	}
	labtime_format_zone(now_us, zone, sizeof(zone));
	sb_add(b, "<p class=\"meta\">");
	sb_html(b, tr(l, M_TIMES_IN));
	sb_printf(b, " (%s)</p>", zone);
	return 0;
}

/* ---- an instrument's page ------------------------------------------------ */

/* What a row of the history needs of a record. */
struct hist {
	int64_t id, supersedes, performed_us, due_us;
	char certificate[CALIB_ID];
	int found, left;
};

struct hist_list {
	struct hist *h;
	size_t n, cap;
	int failed;
};

static int hist_add(void *ctx, const struct calib_record *r)
{
	struct hist_list *x = ctx;
	void *p = x->h;

	if (text_reserve(&p, &x->cap, x->n + 1, sizeof(*x->h)) < 0)
		return x->failed = 1;
	x->h = p;
	x->h[x->n++] = (struct hist){.id = r->id,
	                             .supersedes = r->supersedes,
	                             .performed_us = r->performed_us,
	                             .due_us = r->due_us,
	                             .found = r->result_found,
	                             .left = r->result_left};
	snprintf(x->h[x->n - 1].certificate, CALIB_ID, "%s", r->certificate);
	return 0;
}

/* The certificate number of the record of x that supersedes id, "" . */
static const char *superseded_by(const struct hist_list *x, int64_t id)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->h[i].supersedes == id)
			return x->h[i].certificate;
	return "";
}

/* One row of the history; its approval read by id. */
static int hist_row(struct sbuf *b, struct query *q, const struct hist *h,
                    const struct hist_list *x, bool lab, enum lang l)
{
	struct calib_record *r = malloc(sizeof(*r));
	struct calib_approval ap;
	char date[UTC_DATE_SIZE], line[512];
	int rc = r == NULL ? -1 : query_calibration(q, h->id, r);

	if (rc == 0)
		rc = approval_of(q, r, &ap);
	free(r);
	if (rc < 0)
		return -1;
	labtime_format_date(h->performed_us, date, sizeof(date));
	sb_add(b, "<tr><th scope=\"row\">");
	sb_html(b, h->certificate);
	sb_printf(b, "</th><td>%s</td><td>", date);
	sb_html(b, tr_decision(l, h->found));
	sb_add(b, "</td><td>");
	sb_html(b, tr_decision(l, h->left));
	date[0] = '\0';
	if (h->due_us != 0)
		calib_due_date(h->due_us, date, sizeof(date));
	sb_printf(b, "</td><td>%s</td><td>", date);
	sb_html(b, superseded_by(x, h->id));
	if (rc == 0) {
		labtime_format_date(ap.approved_us, date, sizeof(date));
		snprintf(line, sizeof(line), tr(l, M_APPROVED_BY), ap.approver,
		         date);
		sb_add(b, "</td><td class=\"approved\">");
	} else {
		snprintf(line, sizeof(line), "%s", tr(l, M_DRAFT));
		sb_add(b, "</td><td class=\"draft\">");
	}
	sb_html(b, line);
	sb_add(b, "</td><td>");
	/* an enterprise gets approved certificates only (portal_record) */
	if (rc == 0 || lab) {
		sb_add(b, "<a href=\"/certificate.pdf?n=");
		sb_url(b, h->certificate);
		sb_add(b, "\">PDF</a> · <a href=\"/certificate.json?n=");
		sb_url(b, h->certificate);
		sb_add(b, "\">JSON</a>");
	}
	sb_add(b, "</td></tr>");
	return 0;
}

int portal_history(struct sbuf *b, struct query *q, const char *name,
                   const char *owner, enum lang l)
{
	struct hist_list x = {0};
	int rc = 0;

	sb_add(b, "<h2>");
	sb_html(b, tr(l, M_HISTORY));
	sb_add(b, "</h2>");
	if (query_calibrations(q, name, owner, hist_add, &x) != 0 || x.failed) {
		free(x.h);
		return -1;
	}
	if (x.n == 0) {
		sb_add(b, "<p>");
		sb_html(b, tr(l, M_NO_HISTORY));
		sb_add(b, "</p>");
		return 0;
	}
	sb_printf(b,
	          "<table class=\"history\"><thead><tr><th>%s</th><th>%s</th>"
	          "<th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
	          "<th>%s</th></tr></thead><tbody>",
	          tr(l, M_CERTIFICATE), tr(l, M_CALIBRATED_ON),
	          tr(l, M_AS_FOUND), tr(l, M_AS_LEFT), tr(l, M_DUE_DATE),
	          tr(l, M_SUPERSEDED_BY), tr(l, M_APPROVAL), tr(l, M_DOWNLOAD));
	/* newest first */
	for (size_t i = x.n; rc == 0 && i-- > 0;)
		rc = hist_row(b, q, &x.h[i], &x, owner == NULL, l);
	sb_add(b, "</tbody></table>");
	free(x.h);
	return rc;
}

/* A row of the particulars: label, text. */
static void particular(struct sbuf *b, enum lang l, enum msg label,
                       const char *text)
{
	sb_add(b, "<tr><th scope=\"row\">");
	sb_html(b, tr(l, label));
	sb_add(b, "</th><td>");
	sb_html(b, text);
	sb_add(b, "</td></tr>");
}

int portal_instrument(struct sbuf *b, struct query *q, const char *name,
                      const char *owner, int64_t now_us, enum lang l)
{
	struct query_instrument in;
	int rc = query_instrument(q, name, now_us, &in);

	if (rc != 0)
		return rc;
	if (!owns(&in, owner))
		return 1;
	sb_add(b, "<h1>");
	sb_html(b, in.name);
	sb_add(b, "</h1><table class=\"particulars\"><tbody>");
	particular(b, l, M_MODEL, in.model);
	particular(b, l, M_SERIAL, in.serial);
	particular(b, l, M_LOCATION, in.location);
	sb_printf(b,
	          "</tbody></table><table class=\"portal\"><thead><tr>"
	          "<th>%s</th><th>%s</th></tr></thead><tbody><tr>",
	          tr(l, M_IN_FORCE), tr(l, M_CALIBRATION));
	in_force_cells(b, &in, l);
	sb_add(b, "</tr></tbody></table>");
	return portal_history(b, q, in.name, owner, l);
}
