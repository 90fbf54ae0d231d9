/*
 * page.c - text buffers, escaping, the words of the pages in English and
 * Vietnamese, and the frame of every page (page.h).
 */
#include "page.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "text.h"

static bool sb_room(struct sbuf *b, size_t n)
{
	void *p = b->p;

	if (b->oom)
		return false;
	if (text_reserve(&p, &b->cap, b->len + n + 1, 1) < 0) {
		b->oom = true;
		return false;
	}
	b->p = p;
	return true;
}

void sb_addn(struct sbuf *b, const char *s, size_t n)
{
	if (!sb_room(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void sb_add(struct sbuf *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !sb_room(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void sb_html(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		size_t run = strcspn(s, "&<>\"'");
		sb_addn(b, s, run);
		s += run;
		switch (*s) {
		case '&':
			sb_add(b, "&amp;");
			break;
		case '<':
			sb_add(b, "&lt;");
			break;
		case '>':
			sb_add(b, "&gt;");
			break;
		case '"':
			sb_add(b, "&quot;");
			break;
		case '\'':
			sb_add(b, "&#39;");
			break;
		default:
			return; /* the end */
		}
	}
}

void sb_json(struct sbuf *b, const char *s)
{
	sb_add(b, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' ||
		    c == '&' || c == 0x7f)
			sb_printf(b, "\\u%04x", c);
		else
			sb_addn(b, s, 1);
	}
	sb_add(b, "\"");
}

void sb_url(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL)
			sb_addn(b, s, 1);
		else
			sb_printf(b, "%%%02X", c);
	}
}

char *sb_take(struct sbuf *b)
{
	char *p = b->p;

	if (p == NULL)
		p = calloc(1, 1);
	memset(b, 0, sizeof(*b));
	return p;
}

void sb_free(struct sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* ---- languages ----------------------------------------------------------- */

static const char *const lang_codes[LANGS] = {"en", "vi"};

const char *lang_code(enum lang l)
{
	return (unsigned)l < LANGS ? lang_codes[l] : "en";
}

/* The language whose code starts the n bytes of s ("vi", "vi-VN"). */
static int lang_of(const char *s, size_t n)
{
	for (int l = 0; l < LANGS; l++) {
		size_t k = strlen(lang_codes[l]);
		if (n >= k && strncasecmp(s, lang_codes[l], k) == 0 &&
		    (n == k || s[k] == '-'))
			return l;
	}
	return -1;
}

/* The q value of one Accept-Language item ("vi;q=0.8"): 1 without one. */
static double lang_q(const char *item, size_t n)
{
	const char *q = memchr(item, ';', n);
	char num[8];
	size_t len;

	if (q == NULL)
		return 1;
	q++;
	while (q < item + n && *q == ' ')
		q++;
	if (q + 2 > item + n || q[0] != 'q' || q[1] != '=')
		return 1;
	len = (size_t)(item + n - q - 2);
	if (len >= sizeof(num))
		len = sizeof(num) - 1;
	memcpy(num, q + 2, len);
	num[len] = '\0';
	return atof(num);
}

enum lang lang_pick(const char *cookie, const char *accept_language)
{
	int best = LANG_EN, l;
	double best_q = 0;

	if (cookie != NULL && (l = lang_of(cookie, strlen(cookie))) >= 0 &&
	    cookie[strlen(lang_codes[l])] == '\0')
		return (enum lang)l;
	for (const char *s = accept_language; s != NULL && *s;) {
		size_t n = strcspn(s, ",");
		const char *item = s;
		while (n > 0 && *item == ' ')
			item++, n--;
		size_t tag = strcspn(item, ";,");
		if (tag > n)
			tag = n;
		while (tag > 0 && item[tag - 1] == ' ')
			tag--;
		double q = lang_q(item, n);
		if ((l = lang_of(item, tag)) >= 0 && q > best_q) {
			best = l;
			best_q = q;
		}
		s = item + n;
		if (*s == ',')
			s++;
	}
	return (enum lang)best;
}

static const char *const words[M_MSGS][LANGS] = {
        [M_TITLE] = {"metrolog", "metrolog"},
        [M_BOARD] = {"Instruments, live", "Thiết bị, trực tiếp"},
        [M_LOGIN] = {"Log in", "Đăng nhập"},
        [M_USER] = {"User name", "Tên đăng nhập"},
        [M_PASSWORD] = {"Password", "Mật khẩu"},
        [M_SIGN_IN] = {"Log in", "Đăng nhập"},
        [M_LOGOUT] = {"Log out", "Đăng xuất"},
        [M_BAD_LOGIN] = {"Wrong user name or password.",
                         "Sai tên đăng nhập hoặc mật khẩu."},
        [M_TOO_MANY] = {"Too many failed logins from this address: try "
                        "again in a minute.",
                        "Đăng nhập sai quá nhiều lần từ địa chỉ này: hãy "
                        "thử lại sau một phút."},
        [M_BAD_FORM] = {"The form expired: please try again.",
                        "Biểu mẫu đã hết hạn: vui lòng thử lại."},
        [M_NOT_FOUND] = {"Not found.", "Không tìm thấy."},
        [M_INSTRUMENT] = {"Instrument", "Thiết bị"},
        [M_CHANNEL] = {"Channel", "Kênh"},
        [M_VALUE] = {"Last value", "Giá trị cuối"},
        [M_AGE] = {"Age", "Cách đây"},
        [M_TOLERANCE] = {"Tolerance", "Dung sai"},
        [M_LINK] = {"Link", "Kết nối"},
        [M_CALIBRATION] = {"Calibration", "Hiệu chuẩn"},
        [M_NO_TOLERANCE] = {"no tolerance set", "không đặt dung sai"},
        [M_NO_READING] = {"no reading", "không có số đọc"},
        [M_LINK_ONLINE] = {"online", "trực tuyến"},
        [M_LINK_OFFLINE] = {"offline", "mất kết nối"},
        [M_LINK_FAILING] = {"failing", "đang lỗi"},
        [M_LINK_UNKNOWN] = {"not polled yet", "chưa đọc"},
        [M_DUE_NONE] = {"no due date", "chưa có hạn"},
        [M_DUE_OK] = {"in date", "còn hạn"},
        [M_DUE_SOON] = {"due soon", "sắp đến hạn"},
        [M_DUE_OVERDUE] = {"overdue", "quá hạn"},
        [M_DUE_ON] = {"due", "hạn"},
        [M_TIMES_IN] = {"Times in the lab's time zone",
                        "Giờ theo múi giờ của phòng thí nghiệm"},
        [M_LIVE] = {"live", "trực tiếp"},
        [M_LIVE_LOST] = {"live updates lost: reconnecting",
                         "mất cập nhật trực tiếp: đang kết nối lại"},
        [M_SIGNED_IN_AS] = {"Signed in as", "Đăng nhập với tên"},
        [M_NO_INSTRUMENTS] = {"No instrument is configured yet.",
                              "Chưa có thiết bị nào được cấu hình."},
        [M_STATE_NO_DATA] = {"no data", "không có dữ liệu"},
        [M_STATE_IN] = {"in tolerance", "trong dung sai"},
        [M_STATE_WARNING] = {"warning", "cảnh báo"},
        [M_STATE_OUT] = {"out of tolerance", "ngoài dung sai"},
        [M_INSTRUMENTS] = {"Instruments", "Thiết bị"},
        [M_NO_OWN_INSTRUMENTS] = {"No instrument of yours is registered "
                                  "with the laboratory.",
                                  "Chưa có thiết bị nào của quý khách "
                                  "được đăng ký tại phòng thí nghiệm."},
        [M_MODEL] = {"Model", "Kiểu"},
        [M_SERIAL] = {"Serial number", "Số sản xuất"},
        [M_LOCATION] = {"Location", "Vị trí"},
        [M_IN_FORCE] = {"Calibration in force", "Hiệu chuẩn hiện hành"},
        [M_NEVER_CALIBRATED] = {"never calibrated", "chưa hiệu chuẩn"},
        [M_DUE_DATE] = {"Due", "Hạn hiệu chuẩn"},
        [M_HISTORY] = {"Calibration history", "Lịch sử hiệu chuẩn"},
        [M_NO_HISTORY] = {"No calibration recorded.",
                          "Chưa có hiệu chuẩn nào được ghi nhận."},
        [M_CERTIFICATE] = {"Certificate", "Giấy chứng nhận"},
        [M_CALIBRATED_ON] = {"Calibrated on", "Ngày hiệu chuẩn"},
        [M_AS_FOUND] = {"As found", "Trước hiệu chỉnh"},
        [M_AS_LEFT] = {"As left", "Sau hiệu chỉnh"},
        [M_SUPERSEDED_BY] = {"Superseded by", "Được thay thế bởi"},
        [M_APPROVAL] = {"Approval", "Phê duyệt"},
        [M_APPROVED_BY] = {"approved by %s on %s",
                           "đã phê duyệt bởi %s ngày %s"},
        [M_DRAFT] = {"draft: not approved yet", "bản nháp: chưa phê duyệt"},
        [M_DOWNLOAD] = {"Download", "Tải về"},
        [M_DEC_PASS] = {"pass", "đạt"},
        [M_DEC_CPASS] = {"conditional pass", "đạt có điều kiện"},
        [M_DEC_CFAIL] = {"conditional fail", "không đạt có điều kiện"},
        [M_DEC_FAIL] = {"fail", "không đạt"},
        [M_DEC_NONE] = {"no statement", "không đưa ra kết luận"},
        [M_VERIFY] = {"Verify a calibration certificate",
                      "Xác minh giấy chứng nhận hiệu chuẩn"},
        [M_VERIFY_ABOUT] = {"Type the certificate number and the hash "
                            "printed under its QR code, or paste the "
                            "text of the QR code.",
                            "Nhập số giấy chứng nhận và mã băm in dưới "
                            "mã QR, hoặc dán nội dung của mã QR."},
        [M_VERIFY_NUMBER] = {"Certificate number", "Số giấy chứng nhận"},
        [M_VERIFY_HASH] = {"Hash (SHA-256, 64 hexadecimal digits)",
                           "Mã băm (SHA-256, 64 chữ số thập lục phân)"},
        [M_VERIFY_QR] = {"or the text of the QR code", "hoặc nội dung mã QR"},
        [M_VERIFY_BUTTON] = {"Verify", "Xác minh"},
        [M_VERIFY_MATCH] = {"Genuine: certificate %s matches record %s, "
                            "issued %s by %s.",
                            "Xác thực: giấy chứng nhận %s khớp với bản "
                            "ghi %s, ban hành ngày %s bởi %s."},
        [M_VERIFY_APPROVED] = {"It is approved.", "Đã được phê duyệt."},
        [M_VERIFY_DRAFT] = {"It is a draft: not approved.",
                            "Đây là bản nháp: chưa được phê duyệt."},
        [M_VERIFY_NO_MATCH] = {"Does not match: certificate %s is not the "
                               "one the laboratory recorded (altered, or "
                               "not genuine).",
                               "Không khớp: giấy chứng nhận %s không phải "
                               "bản phòng thí nghiệm đã ghi nhận (bị sửa "
                               "đổi hoặc không xác thực)."},
        [M_VERIFY_NOT_FOUND] = {"Not found: the laboratory issued no "
                                "certificate numbered %s.",
                                "Không tìm thấy: phòng thí nghiệm không "
                                "cấp giấy chứng nhận số %s."},
        [M_VERIFY_BAD] = {"Give a certificate number and its hash (64 "
                          "hexadecimal digits), or the text of its QR "
                          "code (metrolog:cert=...;id=...;hash=...).",
                          "Hãy nhập số giấy chứng nhận và mã băm (64 chữ "
                          "số thập lục phân), hoặc nội dung mã QR "
                          "(metrolog:cert=...;id=...;hash=...)."},
        [M_VERIFY_TOO_MANY] = {"Too many failed checks from this address: "
                               "try again in a minute.",
                               "Kiểm tra sai quá nhiều lần từ địa chỉ này: "
                               "hãy thử lại sau một phút."},
        [M_NAV_BOARD] = {"Board", "Bảng theo dõi"},
        [M_WORKLIST] = {"Calibrations due this week",
                        "Hiệu chuẩn đến hạn trong tuần"},
        [M_EVENTS_LOG] = {"Events log", "Nhật ký sự kiện"},
        [M_OPEN_INSTRUMENT] = {"trend, events, calibrations",
                               "xu hướng, sự kiện, hiệu chuẩn"},
        [M_CHANNELS] = {"Channels", "Các kênh"},
        [M_NOT_POLLED] = {"Not polled: no live values.",
                          "Không được đọc: không có giá trị trực tiếp."},
        [M_TREND] = {"Trend", "Xu hướng"},
        [M_TREND_ALT] = {"The error of %s over time, with its tolerance "
                         "limits and the predicted crossing",
                         "Sai số của %s theo thời gian, với các giới hạn "
                         "dung sai và thời điểm dự báo vượt giới hạn"},
        [M_TREND_NO_TOLERANCE] = {"No tolerance is set: there is no error "
                                  "to draw.",
                                  "Chưa đặt dung sai: không có sai số để "
                                  "vẽ."},
        [M_TREND_NO_READINGS] = {"%s: no good reading in the last %d days.",
                                 "%s: không có số đọc tốt nào trong %d "
                                 "ngày qua."},
        [M_TREND_NO_FIT] = {"%s: no drift fit yet (fewer than 3 readings).",
                            "%s: chưa ước lượng được độ trôi (ít hơn 3 số "
                            "đọc)."},
        [M_TREND_DRIFT] = {"%s: drift %+.4g %s per day, from %lld "
                           "readings; ",
                           "%s: độ trôi %+.4g %s mỗi ngày, từ %lld số "
                           "đọc; "},
        [M_TREND_CROSSING] = {"predicted to cross a limit at %s (95 %% "
                              "prediction bound: %s).",
                              "dự báo vượt giới hạn lúc %s (giới hạn dự "
                              "báo 95 %%: %s)."},
        [M_TREND_NO_CROSSING] = {"no crossing of a limit predicted within "
                                 "%d days.",
                                 "không dự báo vượt giới hạn trong %d "
                                 "ngày."},
        [M_TREND_BEYOND] = {"beyond the horizon", "ngoài khoảng dự báo"},
        [M_RECENT_EVENTS] = {"Recent events", "Sự kiện gần đây"},
        [M_NO_EVENTS] = {"No event.", "Không có sự kiện nào."},
        [M_TIME] = {"Time", "Thời gian"},
        [M_KIND] = {"Kind", "Loại"},
        [M_CHANGE] = {"Change", "Thay đổi"},
        [M_DETAIL] = {"Detail", "Chi tiết"},
        [M_EV_TOLERANCE] = {"tolerance", "dung sai"},
        [M_EV_DRIFT] = {"drift", "độ trôi"},
        [M_EV_TREND] = {"trend forecast", "dự báo xu hướng"},
        [M_EV_CALIBRATION] = {"calibration", "hiệu chuẩn"},
        [M_ALL] = {"all", "tất cả"},
        [M_FROM] = {"From", "Từ"},
        [M_TO] = {"Before", "Trước"},
        [M_SHOW] = {"Show", "Xem"},
        [M_TIME_HINT] = {"YYYY-MM-DD or YYYY-MM-DDTHH:MM, the lab's time; "
                         "empty: the last 7 days",
                         "YYYY-MM-DD hoặc YYYY-MM-DDTHH:MM, giờ của phòng "
                         "thí nghiệm; để trống: 7 ngày qua"},
        [M_PAGE_OF] = {"Page %ld of %ld (%lld events, newest first)",
                       "Trang %ld / %ld (%lld sự kiện, mới nhất trước)"},
        [M_NEWER] = {"← newer", "← mới hơn"},
        [M_OLDER] = {"older →", "cũ hơn →"},
        [M_BAD_INSTRUMENT] = {"There is no instrument %s.",
                              "Không có thiết bị %s."},
        [M_BAD_KIND] = {"Kind '%s': expected online, offline, failing, "
                        "tolerance, drift, trend or calibration.",
                        "Loại '%s': cần là online, offline, failing, "
                        "tolerance, drift, trend hoặc calibration."},
        [M_BAD_TIME] = {"'%s' is not a time: give YYYY-MM-DD or "
                        "YYYY-MM-DDTHH:MM in the lab's time.",
                        "'%s' không phải thời điểm: hãy nhập YYYY-MM-DD "
                        "hoặc YYYY-MM-DDTHH:MM theo giờ của phòng thí "
                        "nghiệm."},
        [M_BAD_RANGE] = {"'From' must come before 'Before'.",
                         "'Từ' phải trước 'Trước'."},
        [M_BAD_PAGE] = {"Page '%s': expected a number from 1.",
                        "Trang '%s': cần là một số từ 1."},
        [M_WORKLIST_ABOUT] = {"Instruments and standards whose calibration "
                              "is overdue or due within 7 days (the lab's "
                              "dates), the earliest first.",
                              "Thiết bị và chuẩn đã quá hạn hoặc đến hạn "
                              "hiệu chuẩn trong 7 ngày (theo ngày của "
                              "phòng thí nghiệm), sớm nhất trước."},
        [M_WORKLIST_NONE] = {"No calibration is due within 7 days.",
                             "Không có hiệu chuẩn nào đến hạn trong 7 "
                             "ngày."},
        [M_DAYS_LEFT] = {"in %lld days", "còn %lld ngày"},
        [M_DUE_TODAY] = {"today", "hôm nay"},
        [M_DAYS_OVERDUE] = {"%lld days late", "trễ %lld ngày"},
        [M_OWNER] = {"Owner", "Chủ sở hữu"},
        [M_KIND_INSTRUMENT] = {"instrument", "thiết bị"},
        [M_KIND_STANDARD] = {"standard", "chuẩn"},
};

const char *tr(enum lang l, enum msg m)
{
	if ((unsigned)l >= LANGS)
		l = LANG_EN;
	return (unsigned)m < M_MSGS && words[m][l] != NULL ? words[m][l] : "?";
}

/* The message of word among n words, or dflt. */
static const char *tr_word(enum lang l, const char *word,
                           const char *const *names, const enum msg *msgs,
                           size_t n, enum msg dflt)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(word, names[i]) == 0)
			return tr(l, msgs[i]);
	return tr(l, dflt);
}

const char *tr_state(enum lang l, const char *state)
{
	/* drift_state_word()'s words */
	static const char *const names[] = {"no_data", "in_tolerance",
	                                    "warning", "out_of_tolerance"};
	static const enum msg msgs[] = {M_STATE_NO_DATA, M_STATE_IN,
	                                M_STATE_WARNING, M_STATE_OUT};

	return tr_word(l, state, names, msgs, 4, M_NO_TOLERANCE);
}

const char *tr_link(enum lang l, const char *link)
{
	static const char *const names[] = {"online", "offline", "failing"};
	static const enum msg msgs[] = {M_LINK_ONLINE, M_LINK_OFFLINE,
	                                M_LINK_FAILING};

	return tr_word(l, link, names, msgs, 3, M_LINK_UNKNOWN);
}

const char *tr_due(enum lang l, const char *due)
{
	/* calib_due_name()'s words */
	static const char *const names[] = {"none", "ok", "due_soon",
	                                    "overdue"};
	static const enum msg msgs[] = {M_DUE_NONE, M_DUE_OK, M_DUE_SOON,
	                                M_DUE_OVERDUE};

	return tr_word(l, due, names, msgs, 4, M_DUE_NONE);
}

const char *const page_event_kinds[PAGE_EVENT_KINDS] = {
        "online", "offline", "failing",    "tolerance",
        "drift",  "trend",   "calibration"};

const char *tr_event_kind(enum lang l, const char *kind)
{
	static const enum msg msgs[] = {
	        M_LINK_ONLINE, M_LINK_OFFLINE, M_LINK_FAILING,  M_EV_TOLERANCE,
	        M_EV_DRIFT,    M_EV_TREND,     M_EV_CALIBRATION};

	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		if (strcmp(kind, page_event_kinds[i]) == 0)
			return tr(l, msgs[i]);
	return NULL;
}

const char *tr_event_state(enum lang l, const char *kind, const char *state)
{
	if (state[0] == '\0')
		return "";
	return strcmp(kind, "calibration") == 0 ? tr_due(l, state)
	                                        : tr_state(l, state);
}

const char *tr_decision(enum lang l, int decision)
{
	/* enum drift_decision's order (drift.h) */
	static const enum msg msgs[] = {M_DEC_PASS, M_DEC_CPASS, M_DEC_CFAIL,
	                                M_DEC_FAIL, M_DEC_NONE};

	if (decision < 0 || decision >= (int)(sizeof(msgs) / sizeof(msgs[0])))
		return "—";
	return tr(l, msgs[decision]);
}

void page_due_text(enum lang l, const char *due, const char *due_date,
                   char *buf, size_t size)
{
	if (due_date[0] != '\0')
		snprintf(buf, size, "%s, %s %s", tr_due(l, due),
		         tr(l, M_DUE_ON), due_date);
	else
		snprintf(buf, size, "%s", tr_due(l, due));
}

void page_age(int64_t us, char *buf, size_t size)
{
	int64_t s = us > 0 ? us / 1000000 : 0;

	if (s < 120)
		snprintf(buf, size, "%lld s", (long long)s);
	else if (s < 7200)
		snprintf(buf, size, "%lld min", (long long)(s / 60));
	else if (s < 172800)
		snprintf(buf, size, "%lld h", (long long)(s / 3600));
	else
		snprintf(buf, size, "%lld d", (long long)(s / 86400));
}

void page_head_keep(struct sbuf *b, enum lang l, const char *title,
                    const char *user, const char *csrf, const char *keep)
{
	sb_printf(b,
	          "<!DOCTYPE html>\n<html lang=\"%s\"><head>"
	          "<meta charset=\"utf-8\">"
	          "<meta name=\"viewport\" content=\"width=device-width, "
	          "initial-scale=1\">",
	          lang_code(l));
	sb_add(b, "<title>");
	sb_html(b, title);
	sb_add(b, " · metrolog</title><link rel=\"stylesheet\" "
	          "href=\"/static/board.css\"></head><body><header>"
	          "<span class=\"brand\">metrolog</span><nav class=\"lang\">"
	          "<a href=\"?");
	sb_html(b, keep);
	sb_add(b, "lang=en\" hreflang=\"en\">English</a> · <a href=\"?");
	sb_html(b, keep);
	sb_add(b, "lang=vi\" hreflang=\"vi\">Tiếng Việt</a></nav>");
	if (user != NULL) {
		sb_printf(b,
		          "<form class=\"logout\" method=\"post\" "
		          "action=\"/logout\"><span>%s ",
		          tr(l, M_SIGNED_IN_AS));
		sb_html(b, user);
		sb_add(b,
		       "</span><input type=\"hidden\" name=\"csrf\" value=\"");
		sb_html(b, csrf);
		sb_printf(b, "\"><button type=\"submit\">%s</button></form>",
		          tr(l, M_LOGOUT));
	}
	sb_add(b, "</header><main>");
}

void page_head(struct sbuf *b, enum lang l, const char *title, const char *user,
               const char *csrf)
{
	page_head_keep(b, l, title, user, csrf, "");
}

void page_tail(struct sbuf *b)
{
	sb_add(b, "</main></body></html>\n");
}
