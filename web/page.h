/*
 * page.h - what metrolog-web's pages are built from: a growing text
 * buffer with HTML and JSON escaping, and the words of the pages in
 * English and Vietnamese.
 *
 * Every text that comes from the database or a request goes into a page
 * through sb_html() (or sb_json() into an event): a name like
 * "<script>" is shown, never run. The pages carry no inline script or
 * style (the Content-Security-Policy forbids them): behaviour and look
 * come from /static/board.js and /static/board.css.
 *
 * Threading: a struct sbuf belongs to its caller; the tables are const.
 */
#ifndef METROLOG_WEB_PAGE_H
#define METROLOG_WEB_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growing NUL-terminated text. After a failed allocation oom is set
 * and further additions do nothing (the caller answers 500). */
struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

void sb_add(struct sbuf *b, const char *s);
void sb_addn(struct sbuf *b, const char *s, size_t n);
void sb_printf(struct sbuf *b, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* s as HTML text or attribute value: & < > " ' as entities. */
void sb_html(struct sbuf *b, const char *s);
/* s as a JSON string with its quotes; < > & also as \u00XX, so the
 * text is inert wherever it lands. */
void sb_json(struct sbuf *b, const char *s);
/* s percent-encoded for a URL's query value: every byte but A-Z a-z
 * 0-9 - . _ ~ as %XX (so also safe inside an HTML attribute). */
void sb_url(struct sbuf *b, const char *s);
/* Take the text (the caller frees it); b is empty again. */
char *sb_take(struct sbuf *b);
void sb_free(struct sbuf *b);

/* The languages of the pages. */
enum lang { LANG_EN, LANG_VI, LANGS };

/* "en", "vi" */
const char *lang_code(enum lang l);
/* The language asked for: the cookie's choice (a switch on the page)
 * when it names one, else the first of Accept-Language's languages we
 * have (q values in order), else English. Either may be NULL. */
enum lang lang_pick(const char *cookie, const char *accept_language);

/* The words of the pages. */
enum msg {
	M_TITLE,
	M_BOARD,
	M_LOGIN,
	M_USER,
	M_PASSWORD,
	M_SIGN_IN,
	M_LOGOUT,
	M_BAD_LOGIN,
	M_TOO_MANY,
	M_BAD_FORM,
	M_NOT_FOUND,
	M_INSTRUMENT,
	M_CHANNEL,
	M_VALUE,
	M_AGE,
	M_TOLERANCE,
	M_LINK,
	M_CALIBRATION,
	M_NO_TOLERANCE,
	M_NO_READING,
	M_LINK_ONLINE,
	M_LINK_OFFLINE,
	M_LINK_FAILING,
	M_LINK_UNKNOWN,
	M_DUE_NONE,
	M_DUE_OK,
	M_DUE_SOON,
	M_DUE_OVERDUE,
	M_DUE_ON,
	M_TIMES_IN,
	M_LIVE,
	M_LIVE_LOST,
	M_SIGNED_IN_AS,
	M_NO_INSTRUMENTS,
	M_STATE_NO_DATA,
	M_STATE_IN,
	M_STATE_WARNING,
	M_STATE_OUT,
	/* the enterprises' portal (portal.h) */
	M_INSTRUMENTS,
	M_NO_OWN_INSTRUMENTS,
	M_MODEL,
	M_SERIAL,
	M_LOCATION,
	M_IN_FORCE,
	M_NEVER_CALIBRATED,
	M_DUE_DATE,
	M_HISTORY,
	M_NO_HISTORY,
	M_CERTIFICATE,
	M_CALIBRATED_ON,
	M_AS_FOUND,
	M_AS_LEFT,
	M_SUPERSEDED_BY,
	M_APPROVAL,
	M_APPROVED_BY,
	M_DRAFT,
	M_DOWNLOAD,
	M_DEC_PASS,
	M_DEC_CPASS,
	M_DEC_CFAIL,
	M_DEC_FAIL,
	M_DEC_NONE,
	/* the public verification (verify.h) */
	M_VERIFY,
	M_VERIFY_ABOUT,
	M_VERIFY_NUMBER,
	M_VERIFY_HASH,
	M_VERIFY_QR,
	M_VERIFY_BUTTON,
	M_VERIFY_MATCH,
	M_VERIFY_APPROVED,
	M_VERIFY_DRAFT,
	M_VERIFY_NO_MATCH,
	M_VERIFY_NOT_FOUND,
	M_VERIFY_BAD,
	M_VERIFY_TOO_MANY,
	/* the technicians' pages (lab.h) */
	M_NAV_BOARD,
	M_WORKLIST,
	M_EVENTS_LOG,
	M_OPEN_INSTRUMENT,
	M_CHANNELS,
	M_NOT_POLLED,
	M_TREND,
	M_TREND_ALT,
	M_TREND_NO_TOLERANCE,
	M_TREND_NO_READINGS,
	M_TREND_NO_FIT,
	M_TREND_DRIFT,
	M_TREND_CROSSING,
	M_TREND_NO_CROSSING,
	M_TREND_BEYOND,
	M_RECENT_EVENTS,
	M_NO_EVENTS,
	M_TIME,
	M_KIND,
	M_CHANGE,
	M_DETAIL,
	M_EV_TOLERANCE,
	M_EV_DRIFT,
	M_EV_TREND,
	M_EV_CALIBRATION,
	M_ALL,
	M_FROM,
	M_TO,
	M_SHOW,
	M_TIME_HINT,
	M_PAGE_OF,
	M_NEWER,
	M_OLDER,
	M_BAD_INSTRUMENT,
	M_BAD_KIND,
	M_BAD_TIME,
	M_BAD_RANGE,
	M_BAD_PAGE,
	M_WORKLIST_ABOUT,
	M_WORKLIST_NONE,
	M_DAYS_LEFT,
	M_DUE_TODAY,
	M_DAYS_OVERDUE,
	M_OWNER,
	M_KIND_INSTRUMENT,
	M_KIND_STANDARD,
	M_MSGS
};

/* The text of m in l (UTF-8, plain text: escape it like any other). */
const char *tr(enum lang l, enum msg m);

/* The words of a tolerance state word ("in_tolerance"...; "" : no
 * tolerance configured), a link word ("online", "offline", "failing", ""),
 * a due state (calib_due_name's words). */
const char *tr_state(enum lang l, const char *state);
const char *tr_link(enum lang l, const char *link);
const char *tr_due(enum lang l, const char *due);
/* The kinds of events (docs/SCHEMA.md, events), in the order the events
 * log offers them. */
#define PAGE_EVENT_KINDS 7
extern const char *const page_event_kinds[PAGE_EVENT_KINDS];
/* The words of an event's kind (page_event_kinds); NULL for a word not
 * among them. */
const char *tr_event_kind(enum lang l, const char *kind);
/* The words of a state an event changed from or to: a tolerance state
 * or a due state by the event's kind ("" for none). */
const char *tr_event_state(enum lang l, const char *kind, const char *state);

/* The words of a decision (enum drift_decision; -1: none, "—"). */
const char *tr_decision(enum lang l, int decision);

/* A due state with its date: "in date, due 2027-06-01", or the state's
 * words alone when due_date is "" (calib_due_name's word in due). */
void page_due_text(enum lang l, const char *due, const char *due_date,
                   char *buf, size_t size);

/* An age for people: "4 s", "3 min", "2 h", "5 d" (the same in both
 * languages; board.js writes the same). us < 0 counts as 0. */
void page_age(int64_t us, char *buf, size_t size);

/* The head of a page up to <main>, with the language switch and, when
 * user is not NULL, who is signed in and the logout form (its CSRF
 * token csrf). */
void page_head(struct sbuf *b, enum lang l, const char *title, const char *user,
               const char *csrf);
/* page_head() on a page whose query arguments matter (/instrument?name=):
 * the language switch keeps keep ("name=TB-01&", each value
 * percent-encoded, ending with '&'; "" none). */
void page_head_keep(struct sbuf *b, enum lang l, const char *title,
                    const char *user, const char *csrf, const char *keep);
/* The end of a page. */
void page_tail(struct sbuf *b);

#endif
