/*
 * draw.h - pages and pictures for the metrolog tool: an A4 PDF (the
 * calibration certificate), an SVG or a PNG (the trend chart), with
 * Unicode text laid out by Pango (Vietnamese diacritics included) and QR
 * codes.
 *
 * The only file that includes cairo, Pango and libqrencode is draw.c; the
 * subcommands speak in points (PDF, SVG) or pixels (PNG), colours as
 * 0xRRGGBB and styles of this header. Fonts: DejaVu Sans and DejaVu Sans
 * Mono (fonts-dejavu-core), through fontconfig (another font that covers
 * the text is used if they are missing).
 *
 * A drawing goes to a temporary file next to its path (path.XXXXXX) and is
 * renamed onto path by draw_finish() only when everything was written: a
 * failed command leaves no file behind (draw_free removes the temporary).
 * A drawing with path NULL is written nowhere: it lays text out exactly as
 * a PDF would, to count pages before the real pass. A drawing made by
 * draw_new_memory() or draw_new_svg_memory() is kept in memory instead,
 * no file at all (draw_take()).
 *
 * Drawing calls do not fail one by one; cairo keeps the first error and
 * draw_finish() reports it. A drawing belongs to one thread; metrolog-web,
 * which draws certificates on its connections' threads, draws one at a
 * time (fontconfig's and Pango's shared state).
 *
 * Documents (the second half of this header): a paginated PDF with
 * labels in Vietnamese and English, laid out twice by draw_document() so
 * every footer can say "page x of y"; blocks (a field, a paragraph, a
 * table row) never split across pages and a table repeats its header on
 * each page. The certificate and the monthly report are such documents.
 */
#ifndef METROLOG_DRAW_H
#define METROLOG_DRAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum draw_format {
	DRAW_PDF, /* pages, points */
	DRAW_SVG, /* one picture, points (= CSS pixels at 72 per inch) */
	DRAW_PNG, /* one picture, pixels */
};

enum draw_align { DRAW_LEFT, DRAW_CENTER, DRAW_RIGHT };

struct draw_style {
	double size; /* font size, points (PNG: pixels) */
	bool bold, italic, mono;
	uint32_t color; /* 0xRRGGBB */
	enum draw_align align;
};

/* A4 in points. */
#define DRAW_A4_WIDTH  595.276
#define DRAW_A4_HEIGHT 841.890

struct draw;

/* The format for a file name's extension (.pdf .svg .png, any case).
 * Returns 0, -1 for another extension. */
int draw_format_of(const char *path, enum draw_format *f);

/* A drawing of width x height that becomes path (NULL: measure only, as a
 * PDF). NULL with the reason in err when the temporary file cannot be
 * created or cairo refuses the size. */
struct draw *draw_new(enum draw_format f, const char *path, double width,
                      double height, char *err, size_t errlen);

/* A PDF of width x height kept in memory (draw_take() after
 * draw_finish()), for a program that serves it rather than writes a
 * file. NULL with the reason in err. */
struct draw *draw_new_memory(double width, double height, char *err,
                             size_t errlen);
/* An SVG of width x height kept in memory, its <title> and <desc> from
 * draw_finish() as in a file (draw_take() after draw_finish()), for a
 * program that serves it (metrolog-web's trend picture). NULL with the
 * reason in err. */
struct draw *draw_new_svg_memory(double width, double height, char *err,
                                 size_t errlen);
/* The bytes of a finished draw_new_memory() or draw_new_svg_memory()
 * drawing (*len of them), the
 * caller's to free(); NULL for another drawing or one not finished. */
char *draw_take(struct draw *d, size_t *len);

/* PDF only: the document's title and subject in its metadata. */
void draw_set_meta(struct draw *d, const char *title, const char *subject);

/* Write everything and rename the temporary onto the path. desc (SVG
 * only, may be NULL) goes into the file as its <title> (first line) and
 * <desc> (the rest), so the picture says in text what it shows. Returns
 * 0, or -1 with the reason in err (the temporary is then removed): also
 * when a text drawn held a character no installed font has a glyph for
 * (pango's unknown glyphs: it would print as a box), or an image did not
 * load (draw_png). */
int draw_finish(struct draw *d, const char *desc, char *err, size_t errlen);

/* Free d (NULL allowed); removes the temporary when not finished. */
void draw_free(struct draw *d);

/* PDF: start a new page. Pages drawn so far (the current one counted). */
void draw_new_page(struct draw *d);
int draw_pages(const struct draw *d);

/* Text at (x, y) = top left of its box (top centre, top right with the
 * alignments), wrapped within width when width > 0 (the alignment is then
 * within [x, x + width]). Returns the height of the laid-out text. */
double draw_text(struct draw *d, double x, double y, double width,
                 const struct draw_style *s, const char *text);
/* The size text would take, without drawing it. */
void draw_text_size(struct draw *d, double width, const struct draw_style *s,
                    const char *text, double *w, double *h);
/* Text turned 90 degrees anticlockwise, centred on (x, y): axis titles. */
void draw_text_up(struct draw *d, double x, double y,
                  const struct draw_style *s, const char *text);

/* Lines and shapes; line width lw in points (PNG: pixels). */
void draw_line(struct draw *d, double x0, double y0, double x1, double y1,
               double lw, uint32_t color, bool dashed);
/* A rectangle, filled with fill when filled, outlined when lw > 0. */
void draw_rect(struct draw *d, double x, double y, double w, double h,
               bool filled, uint32_t fill, double lw, uint32_t stroke);
/* A line through n points; a NAN coordinate breaks it. */
void draw_polyline(struct draw *d, const double *xs, const double *ys, int n,
                   double lw, uint32_t color);
/* A filled band between y_lo[i] and y_hi[i] over xs (n points). */
void draw_band(struct draw *d, const double *xs, const double *y_lo,
               const double *y_hi, int n, uint32_t color);
void draw_dot(struct draw *d, double x, double y, double r, uint32_t color);
/* A small downward triangle with its tip at (x, y). */
void draw_marker(struct draw *d, double x, double y, double size,
                 uint32_t color);

/* Clip what follows to a rectangle, until draw_unclip(). */
void draw_clip(struct draw *d, double x, double y, double w, double h);
void draw_unclip(struct draw *d);

/* text across a page of page_w x page_h along its rising diagonal, in
 * large bold letters of color, translucent (alpha 0.16) so that what it
 * lies on stays legible: a watermark such as "DRAFT". */
void draw_watermark(struct draw *d, double page_w, double page_h,
                    uint32_t color, const char *text);

/* A QR code (error correction M, 8-bit) of text, size x size with its top
 * left at (x, y), black on white with no quiet zone (leave 4 modules of
 * white around it). Returns 0, -1 when text is too long for a QR code. */
int draw_qr(struct draw *d, double x, double y, double size, const char *text);

/* ---- documents ------------------------------------------------------- */

/* The documents' colours. */
#define DRAW_INK      0x1a1a1a
#define DRAW_SOFT     0x6b6b6b /* the English under the Vietnamese */
#define DRAW_ACCENT   0x0b3d6e /* headings, rules */
#define DRAW_RULE     0xc8ced6
#define DRAW_SHADE    0xeef2f7
#define DRAW_ALERT    0xb00020
#define DRAW_ALERT_BG 0xfdecee

/* Body text (Vietnamese, the English below it) and field values. */
extern const struct draw_style draw_body, draw_body_en, draw_value;

enum draw_lang {
	DRAW_VI_EN, /* Vietnamese, English below it in a lighter style */
	DRAW_VI,
	DRAW_EN,
};

/* A document being laid out. The caller sets lang, the content's column
 * (left, width), bottom (where content ends: the footer is below it),
 * header, footer and ctx; draw_document() sets d and total. */
struct draw_doc {
	struct draw *d;
	enum draw_lang lang;
	double left, width, bottom;
	double y;  /* top of the next block */
	int total; /* pages of the document; 0 while counting them */
	/* the page's header (from the top, then sets y) and footer */
	void (*header)(struct draw_doc *doc);
	void (*footer)(struct draw_doc *doc);
	const char *logo; /* a PNG drawn at the top left of every page by
	                     draw_page_top(), NULL or "" none */
	void *ctx;        /* the caller's */
	/* draw_document() with path NULL: the PDF (free() it) */
	char *pdf;
	size_t pdf_len;
};

/* Lay the document out (header, body, footer of the last page) into a
 * measuring drawing of page_w x page_h to count its pages, then into the
 * PDF path (title and subject in its metadata), or with path NULL into
 * memory: doc->pdf and doc->pdf_len. Returns 0, or -1 with the reason in
 * err (no file is then left at path; doc->pdf stays NULL). */
int draw_document(struct draw_doc *doc, double page_w, double page_h,
                  const char *path, const char *title, const char *subject,
                  void (*body)(struct draw_doc *doc), char *err, size_t errlen);

/* The label vi/en in the document's language ("vi / en" for both). */
void draw_label(const struct draw_doc *doc, const char *vi, const char *en,
                char *buf, size_t size);
/* "Trang x/y · Page x of y" (or one of them) for the current page. */
void draw_page_label(const struct draw_doc *doc, char *buf, size_t size);

/* Draw the PNG at path with its top left at (x, y), scaled to height h
 * points. Returns its width in points; 0 when it cannot be read, which
 * also makes draw_finish() refuse the drawing ("image PATH: ..."). */
double draw_png(struct draw *d, double x, double y, double h, const char *path);

/* The top of a page from top: doc->logo and who at the top left, label
 * vi/en over value at the top right, a rule; then, on page 1, the title (vi, en
 * below it), on the next pages "vi (tiếp theo) / en (continued)". Sets y below
 * it. */
void draw_page_top(struct draw_doc *doc, double top, const char *who,
                   const char *label_vi, const char *label_en,
                   const char *value, const char *title_vi,
                   const char *title_en);
/* The bottom of a page below bottom: a rule, then left, "page x of y"
 * (centred) and right on one line. Returns the y below that line. */
double draw_page_bottom(struct draw_doc *doc, const char *left,
                        const char *right);

/* Room for a block of height h: footer, new page and header when it does
 * not fit below y. */
void draw_need(struct draw_doc *doc, double h);

/* The pair vi/en stacked (or the one the language shows) at (x, y) within
 * width: its height, or draws it and returns its height. */
double draw_pair_height(struct draw_doc *doc, double width,
                        const struct draw_style *svi,
                        const struct draw_style *sen, const char *vi,
                        const char *en);
double draw_pair(struct draw_doc *doc, double x, double y, double width,
                 const struct draw_style *svi, const struct draw_style *sen,
                 const char *vi, const char *en);

/* A section heading, kept on one page with the next keep points of what
 * follows (at least 30). */
void draw_heading(struct draw_doc *doc, const char *vi, const char *en,
                  double keep);
/* A row "label | value" with a label column of label_w. */
void draw_field(struct draw_doc *doc, double label_w, const char *vi,
                const char *en, const char *value, uint32_t color);
/* A paragraph in both languages, framed in red when alert; the height
 * the one not alert takes. */
void draw_paragraph(struct draw_doc *doc, const char *vi, const char *en,
                    bool alert);
double draw_paragraph_height(struct draw_doc *doc, const char *vi,
                             const char *en);

/* A table across the content's column: ncols (<= DRAW_TABLE_COLS)
 * columns of widths (points, summing to the column's width) with header
 * cells head_vi/head_en. A cell is vi[k] with en[k] below it, or vi[k]
 * alone when en[k] is NULL. Rows are shaded alternately.
 *
 * Columns of numbers (bit k of numbers) never break a word: text between
 * two spaces ("100000.000001", "(k=2)"; a no-break space U+00A0 keeps
 * "−0.05 … +0.05" one word) stays on one line. Give every row to
 * draw_table_measure() before draw_table_start(): when a column of
 * numbers is too narrow for its widest word, it is widened at the
 * expense of the other columns (each down to its own widest word, the
 * header's included) and, if that is not enough, the table's font is
 * made smaller (down to 0.6 of its size) until every word fits. */
#define DRAW_TABLE_COLS 32
struct draw_table {
	int ncols;
	const double *widths;
	const char *const *head_vi, *const *head_en;
	int rows;         /* drawn so far */
	unsigned numbers; /* bit k: column k holds numbers */
	/* set by draw_table_measure() and draw_table_start() */
	double need[DRAW_TABLE_COLS]; /* widest word, at the full size */
	double w[DRAW_TABLE_COLS];    /* the widths drawn */
	double scale;                 /* the font size drawn, of the full */
};

/* Take the widest word of each of a row's cells into t->need. */
void draw_table_measure(struct draw_doc *doc, struct draw_table *t,
                        const char *const vi[], const char *const en[]);
/* The widths and font size (above), then the header, kept on one page
 * with the first row (vi, en). */
void draw_table_start(struct draw_doc *doc, struct draw_table *t,
                      const char *const vi[], const char *const en[]);
/* A row; on a new page under the header again when it does not fit. */
void draw_table_row(struct draw_doc *doc, struct draw_table *t,
                    const char *const vi[], const char *const en[]);
void draw_table_end(struct draw_doc *doc, struct draw_table *t);

#endif
