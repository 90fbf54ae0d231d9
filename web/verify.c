/*
 * verify.c - the public verification of a certificate (verify.h).
 */
#include "verify.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certdoc.h"
#include "labtime.h"
#include "query.h"

/* A certificate number as calib_validate allows one (1-64 of A-Z a-z
 * 0-9 _ . - /); anything else cannot be in the database. */
static bool cert_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= CALIB_ID)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("_.-/", s[i]) == NULL)
			return false;
	return true;
}

int verify_input(const char *qr, const char *cert, const char *hash,
                 char cert_out[CALIB_ID], char hash_out[CALIB_HASH])
{
	char c[CALIB_ID], h[CALIB_HASH + 1];
	size_t i;

	if (qr != NULL && qr[0] != '\0') {
		if (calib_qr_parse(qr, c, sizeof(c), h, sizeof(h)) < 0)
			return -1;
	} else if (cert != NULL && hash != NULL && strlen(cert) < sizeof(c) &&
	           strlen(hash) < sizeof(h)) {
		snprintf(c, sizeof(c), "%s", cert);
		snprintf(h, sizeof(h), "%s", hash);
	} else {
		return -1;
	}
	if (!cert_ok(c) || strlen(h) != CALIB_HASH - 1)
		return -1;
	for (i = 0; h[i] != '\0'; i++) {
		if (!isxdigit((unsigned char)h[i]))
			return -1;
		h[i] = (char)tolower((unsigned char)h[i]);
	}
	memcpy(cert_out, c, CALIB_ID);
	memcpy(hash_out, h, CALIB_HASH);
	return 0;
}

int verify_check(struct query *q, const char *cert, const char *hash,
                 struct verify_result *out)
{
	struct calib_record *r = malloc(sizeof(*r));
	struct calib_approval ap;
	char h[CALIB_HASH];
	int rc = r == NULL ? -1 : query_calibration_by_cert(q, cert, r);

	memset(out, 0, sizeof(*out));
	snprintf(out->certificate, sizeof(out->certificate), "%s", cert);
	out->outcome = VERIFY_NOT_FOUND;
	if (rc == 0) {
		out->outcome = VERIFY_NO_MATCH;
		if (strcmp(hash, r->hash) == 0 && calib_hash(r, h) == 0 &&
		    strcmp(h, r->hash) == 0) {
			out->outcome = VERIFY_MATCH;
			rc = certdoc_approval(q, r, &ap);
			out->record = r->id;
			out->approved = rc == 0;
			out->issued_us =
			        rc == 0 ? ap.approved_us : r->issued_us;
			snprintf(out->lab, sizeof(out->lab), "%s", r->lab);
		}
	}
	free(r);
	return rc < 0 ? -1 : 0;
}

/* The result's sentence(s), escaped, in a paragraph of its class. */
static void result_html(struct sbuf *b, enum lang l,
                        const struct verify_result *res)
{
	char line[1024], date[UTC_DATE_SIZE], id[24];

	switch (res->outcome) {
	case VERIFY_MATCH:
		labtime_format_date(res->issued_us, date, sizeof(date));
		snprintf(id, sizeof(id), "%lld", (long long)res->record);
		snprintf(line, sizeof(line), tr(l, M_VERIFY_MATCH),
		         res->certificate, id, date,
		         res->lab[0] ? res->lab : "—");
		sb_add(b, "<p class=\"verify verify-match\" role=\"status\">");
		sb_html(b, line);
		sb_add(b, " ");
		sb_html(b, tr(l, res->approved ? M_VERIFY_APPROVED
		                               : M_VERIFY_DRAFT));
		break;
	case VERIFY_NO_MATCH:
		snprintf(line, sizeof(line), tr(l, M_VERIFY_NO_MATCH),
		         res->certificate);
		sb_add(b, "<p class=\"verify verify-nomatch\" role=\"alert\">");
		sb_html(b, line);
		break;
	default: /* VERIFY_NOT_FOUND */
		snprintf(line, sizeof(line), tr(l, M_VERIFY_NOT_FOUND),
		         res->certificate);
		sb_add(b,
		       "<p class=\"verify verify-notfound\" role=\"alert\">");
		sb_html(b, line);
		break;
	}
	sb_add(b, "</p>");
}

/* A labelled text input name with value v (NULL: empty). */
static void input(struct sbuf *b, enum lang l, enum msg label, const char *name,
                  const char *v, int maxlength)
{
	sb_add(b, "<label>");
	sb_html(b, tr(l, label));
	sb_printf(b,
	          " <input name=\"%s\" maxlength=\"%d\" autocomplete=\"off\" "
	          "spellcheck=\"false\" value=\"",
	          name, maxlength);
	sb_html(b, v != NULL ? v : "");
	sb_add(b, "\"></label>");
}

void verify_html(struct sbuf *b, enum lang l, const char *cert,
                 const char *hash, const char *qr,
                 const struct verify_result *res, enum msg err)
{
	sb_add(b, "<h1>");
	sb_html(b, tr(l, M_VERIFY));
	sb_add(b, "</h1>");
	if (res != NULL)
		result_html(b, l, res);
	if (err != M_MSGS) {
		sb_add(b, "<p class=\"error\" role=\"alert\">");
		sb_html(b, tr(l, err));
		sb_add(b, "</p>");
	}
	sb_add(b, "<p>");
	sb_html(b, tr(l, M_VERIFY_ABOUT));
	sb_add(b, "</p><form class=\"login verify\" method=\"get\" "
	          "action=\"/verify\">");
	input(b, l, M_VERIFY_NUMBER, "cert", cert, CALIB_ID - 1);
	input(b, l, M_VERIFY_HASH, "hash", hash, CALIB_HASH - 1);
	input(b, l, M_VERIFY_QR, "qr", qr, 256);
	sb_add(b, "<button type=\"submit\">");
	sb_html(b, tr(l, M_VERIFY_BUTTON));
	sb_add(b, "</button></form>");
}
