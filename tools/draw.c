/*
 * draw.c - cairo surfaces, Pango text and libqrencode behind draw.h.
 *
 * Text: one PangoContext per drawing, from a font map of its own (freed
 * with the drawing, so nothing of ours outlives it), at 72 units per inch
 * so a font size is in the drawing's units, with hinting of metrics off so
 * the measuring pass and the real pass lay out text identically.
 *
 * Files: cairo writes through a stream function into the temporary file
 * (PDF, PNG) or into memory (SVG, to insert <title> and <desc> after the
 * root element's start tag); draw_finish() checks cairo's status, flushes,
 * fsyncs nothing (a document is not a database) and renames.
 *
 * Documents (the end of the file) are built on the calls above only: a
 * block is measured with draw_text_size(), then placed or moved to the
 * next page by draw_need().
 */
#include "draw.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <pango/pangocairo.h>
#include <qrencode.h>

#include "text.h"

#define FONT_SANS "DejaVu Sans"
#define FONT_MONO "DejaVu Sans Mono"
#define PI        3.14159265358979323846
#define LOGO_H    30.0 /* points: the height of a page's logo */

struct draw {
	enum draw_format format;
	cairo_surface_t *surface;
	cairo_t *cr;
	PangoFontMap *fontmap;
	PangoContext *pango;
	FILE *file;       /* the temporary, NULL when measuring */
	char *path, *tmp; /* NULL when measuring */
	bool memory; /* kept in mem (draw_new_memory, draw_new_svg_memory) */
	char *mem;   /* SVG, or a PDF in memory: what cairo wrote */
	size_t mem_len, mem_cap;
	bool write_failed;
	bool finished;
	int pages;
	char fault[384];      /* the first thing drawn wrong ("" none): a text
	                         with a character no font can draw, an image that
	                         does not load; draw_finish() then refuses */
	cairo_surface_t *img; /* the last image draw_png() loaded, and */
	char *img_path;       /* its path: a logo on every page is read once */
};

int draw_format_of(const char *path, enum draw_format *f)
{
	const char *dot = strrchr(path, '.');

	if (dot == NULL || strchr(dot, '/') != NULL)
		return -1;
	if (strcasecmp(dot, ".pdf") == 0)
		*f = DRAW_PDF;
	else if (strcasecmp(dot, ".svg") == 0)
		*f = DRAW_SVG;
	else if (strcasecmp(dot, ".png") == 0)
		*f = DRAW_PNG;
	else
		return -1;
	return 0;
}

static cairo_status_t write_file(void *closure, const unsigned char *data,
                                 unsigned int length)
{
	struct draw *d = closure;

	if (d->file == NULL)
		return CAIRO_STATUS_SUCCESS; /* measuring */
	if (fwrite(data, 1, length, d->file) != length) {
		d->write_failed = true;
		return CAIRO_STATUS_WRITE_ERROR;
	}
	return CAIRO_STATUS_SUCCESS;
}

static cairo_status_t write_memory(void *closure, const unsigned char *data,
                                   unsigned int length)
{
	struct draw *d = closure;

	if (d->mem_len + length > d->mem_cap) {
		size_t cap = d->mem_cap ? d->mem_cap : 65536;
		while (cap < d->mem_len + length)
			cap *= 2;
		char *p = realloc(d->mem, cap);
		if (p == NULL) {
			d->write_failed = true;
			return CAIRO_STATUS_NO_MEMORY;
		}
		d->mem = p;
		d->mem_cap = cap;
	}
	memcpy(d->mem + d->mem_len, data, length);
	d->mem_len += length;
	return CAIRO_STATUS_SUCCESS;
}

/* The temporary file next to path, with the permissions a new file gets. */
static int open_tmp(struct draw *d, const char *path, char *err, size_t errlen)
{
	size_t n = strlen(path) + sizeof(".XXXXXX");
	mode_t mask = umask(0);
	int fd;

	umask(mask);
	d->path = strdup(path);
	d->tmp = malloc(n);
	if (d->path == NULL || d->tmp == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(d->tmp, n, "%s.XXXXXX", path);
	fd = mkstemp(d->tmp);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(d->tmp);
		d->tmp = NULL;
		return -1;
	}
	if (fchmod(fd, 0666 & ~mask) < 0 ||
	    (d->file = fdopen(fd, "wb")) == NULL) {
		snprintf(err, errlen, "%s: %s", d->tmp, strerror(errno));
		close(fd);
		return -1;
	}
	return 0;
}

/* draw_new(), or with memory a PDF or SVG kept in memory (path NULL). */
static struct draw *create(enum draw_format f, const char *path, bool memory,
                           double width, double height, char *err,
                           size_t errlen)
{
	struct draw *d = calloc(1, sizeof(*d));
	cairo_font_options_t *fo = NULL;

	if (d == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->format = f;
	d->memory = memory;
	if (path != NULL && open_tmp(d, path, err, errlen) < 0)
		goto fail;
	switch (f) {
	case DRAW_PDF:
		d->surface = cairo_pdf_surface_create_for_stream(
		        memory ? write_memory : write_file, d, width, height);
		break;
	case DRAW_SVG:
		d->surface = cairo_svg_surface_create_for_stream(
		        write_memory, d, width, height);
		break;
	case DRAW_PNG:
		if (!(width >= 1 && height >= 1 && width <= 32767 &&
		      height <= 32767)) {
			snprintf(err, errlen, "bad picture size %gx%g", width,
			         height);
			goto fail;
		}
		d->surface = cairo_image_surface_create(
		        CAIRO_FORMAT_ARGB32, (int)width, (int)height);
		break;
	}
	if (cairo_surface_status(d->surface) != CAIRO_STATUS_SUCCESS) {
		snprintf(err, errlen, "cairo: %s",
		         cairo_status_to_string(
		                 cairo_surface_status(d->surface)));
		goto fail;
	}
	d->cr = cairo_create(d->surface);
	d->fontmap = pango_cairo_font_map_new();
	d->pango = pango_font_map_create_context(d->fontmap);
	fo = cairo_font_options_create();
	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
	pango_cairo_context_set_font_options(d->pango, fo);
	cairo_font_options_destroy(fo);
	pango_cairo_context_set_resolution(d->pango, 72);
	pango_cairo_update_context(d->cr, d->pango);
	if (f == DRAW_PNG) { /* a white background, not transparency */
		cairo_set_source_rgb(d->cr, 1, 1, 1);
		cairo_paint(d->cr);
	}
	d->pages = 1;
	return d;
fail:
	draw_free(d);
	return NULL;
}

struct draw *draw_new(enum draw_format f, const char *path, double width,
                      double height, char *err, size_t errlen)
{
	return create(f, path, false, width, height, err, errlen);
}

struct draw *draw_new_memory(double width, double height, char *err,
                             size_t errlen)
{
	return create(DRAW_PDF, NULL, true, width, height, err, errlen);
}

struct draw *draw_new_svg_memory(double width, double height, char *err,
                                 size_t errlen)
{
	return create(DRAW_SVG, NULL, true, width, height, err, errlen);
}

char *draw_take(struct draw *d, size_t *len)
{
	char *p = d->memory && d->finished ? d->mem : NULL;

	*len = p != NULL ? d->mem_len : 0;
	if (p != NULL) {
		d->mem = NULL;
		d->mem_len = d->mem_cap = 0;
	}
	return p;
}

void draw_set_meta(struct draw *d, const char *title, const char *subject)
{
	if (d->format != DRAW_PDF)
		return;
	cairo_pdf_surface_set_metadata(d->surface, CAIRO_PDF_METADATA_TITLE,
	                               title);
	cairo_pdf_surface_set_metadata(d->surface, CAIRO_PDF_METADATA_SUBJECT,
	                               subject);
	cairo_pdf_surface_set_metadata(d->surface, CAIRO_PDF_METADATA_CREATOR,
	                               "metrolog " METROLOG_VERSION);
}

/* text with & < > " escaped, into f */
static void put_escaped(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(s[i], f);
		}
	}
}

/* The SVG with <title> and <desc> after the root's start tag, into f. */
static void write_svg(struct draw *d, FILE *f, const char *desc)
{
	const char *root = NULL, *end = NULL;

	for (size_t i = 0; i + 4 <= d->mem_len && root == NULL; i++)
		if (memcmp(d->mem + i, "<svg", 4) == 0)
			root = d->mem + i;
	if (root != NULL)
		end = memchr(root, '>', d->mem_len - (size_t)(root - d->mem));
	if (desc == NULL || end == NULL) {
		fwrite(d->mem, 1, d->mem_len, f);
		return;
	}
	size_t head = (size_t)(end + 1 - d->mem);
	const char *nl = strchr(desc, '\n');
	size_t tlen = nl != NULL ? (size_t)(nl - desc) : strlen(desc);
	fwrite(d->mem, 1, head, f);
	fputs("\n<title>", f);
	put_escaped(f, desc, tlen);
	fputs("</title>\n", f);
	if (nl != NULL) {
		fputs("<desc>", f);
		put_escaped(f, nl + 1, strlen(nl + 1));
		fputs("</desc>", f);
	}
	fwrite(d->mem + head, 1, d->mem_len - head, f);
}

/* A memory SVG's bytes replaced by the SVG with its <title> and <desc>
 * (write_svg through a memory stream: one code for both). */
static int svg_in_memory(struct draw *d, const char *desc, char *err,
                         size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL) {
		snprintf(err, errlen, "drawing: %s", strerror(errno));
		return -1;
	}
	write_svg(d, f, desc);
	if (ferror(f) | fclose(f)) {
		free(buf);
		snprintf(err, errlen, "drawing: out of memory");
		return -1;
	}
	free(d->mem);
	d->mem = buf;
	d->mem_len = d->mem_cap = len;
	d->finished = true;
	return 0;
}

int draw_finish(struct draw *d, const char *desc, char *err, size_t errlen)
{
	cairo_status_t st;

	cairo_destroy(d->cr);
	d->cr = NULL;
	if (d->fault[0] != '\0') {
		snprintf(err, errlen, "%s%s%s; nothing written",
		         d->path ? d->path : "", d->path ? ": " : "", d->fault);
		return -1;
	}
	if (d->format == DRAW_PNG) {
		st = cairo_surface_status(d->surface);
		if (st == CAIRO_STATUS_SUCCESS && d->file != NULL)
			st = cairo_surface_write_to_png_stream(d->surface,
			                                       write_file, d);
	} else {
		cairo_surface_finish(d->surface);
		st = cairo_surface_status(d->surface);
	}
	if (st != CAIRO_STATUS_SUCCESS || d->write_failed) {
		snprintf(err, errlen, "%s: %s", d->path ? d->path : "drawing",
		         d->write_failed ? strerror(errno)
		                         : cairo_status_to_string(st));
		return -1;
	}
	if (d->file == NULL && d->memory && d->format == DRAW_SVG)
		return svg_in_memory(d, desc, err, errlen);
	if (d->file == NULL) {
		d->finished = true;
		return 0;
	}
	if (d->format == DRAW_SVG)
		write_svg(d, d->file, desc);
	if (ferror(d->file) | fclose(d->file)) {
		d->file = NULL;
		snprintf(err, errlen, "%s: %s", d->tmp, strerror(errno));
		return -1;
	}
	d->file = NULL;
	if (rename(d->tmp, d->path) < 0) {
		snprintf(err, errlen, "%s: %s", d->path, strerror(errno));
		return -1;
	}
	d->finished = true;
	return 0;
}

void draw_free(struct draw *d)
{
	if (d == NULL)
		return;
	if (d->cr != NULL)
		cairo_destroy(d->cr);
	if (d->surface != NULL) {
		cairo_surface_finish(d->surface);
		cairo_surface_destroy(d->surface);
	}
	if (d->img != NULL)
		cairo_surface_destroy(d->img);
	free(d->img_path);
	if (d->pango != NULL)
		g_object_unref(d->pango);
	if (d->fontmap != NULL)
		g_object_unref(d->fontmap);
	if (d->file != NULL)
		fclose(d->file);
	if (d->tmp != NULL && !d->finished)
		unlink(d->tmp);
	free(d->tmp);
	free(d->path);
	free(d->mem);
	free(d);
}

void draw_new_page(struct draw *d)
{
	cairo_show_page(d->cr);
	d->pages++;
}

int draw_pages(const struct draw *d)
{
	return d->pages;
}

static void set_color(struct draw *d, uint32_t rgb)
{
	cairo_set_source_rgb(d->cr, ((rgb >> 16) & 0xff) / 255.0,
	                     ((rgb >> 8) & 0xff) / 255.0, (rgb & 0xff) / 255.0);
}

/* A layout of text in style s, wrapped at width (> 0). Caller unrefs. */
static PangoLayout *layout(struct draw *d, double width,
                           const struct draw_style *s, const char *text)
{
	PangoLayout *l = pango_layout_new(d->pango);
	PangoFontDescription *fd = pango_font_description_new();

	pango_font_description_set_family(fd, s->mono ? FONT_MONO : FONT_SANS);
	pango_font_description_set_absolute_size(fd, s->size * PANGO_SCALE);
	pango_font_description_set_weight(fd, s->bold ? PANGO_WEIGHT_BOLD
	                                              : PANGO_WEIGHT_NORMAL);
	pango_font_description_set_style(fd, s->italic ? PANGO_STYLE_ITALIC
	                                               : PANGO_STYLE_NORMAL);
	pango_layout_set_font_description(l, fd);
	pango_font_description_free(fd);
	if (width > 0) {
		pango_layout_set_width(l, (int)(width * PANGO_SCALE));
		pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
		pango_layout_set_alignment(
		        l, s->align == DRAW_CENTER  ? PANGO_ALIGN_CENTER
		           : s->align == DRAW_RIGHT ? PANGO_ALIGN_RIGHT
		                                    : PANGO_ALIGN_LEFT);
	}
	pango_layout_set_text(l, text, -1);
	if (pango_layout_get_unknown_glyphs_count(l) > 0 && d->fault[0] == '\0')
		snprintf(d->fault, sizeof(d->fault),
		         "text holds a character no installed font can draw "
		         "(\"%.*s\"): install a font that has it (e.g. "
		         "fonts-noto-cjk)",
		         (int)text_utf8_cut(text, 64), text);
	return l;
}

double draw_text(struct draw *d, double x, double y, double width,
                 const struct draw_style *s, const char *text)
{
	PangoLayout *l = layout(d, width, s, text);
	int w, h;

	pango_layout_get_size(l, &w, &h);
	if (width <= 0 && s->align == DRAW_CENTER)
		x -= (double)w / PANGO_SCALE / 2;
	else if (width <= 0 && s->align == DRAW_RIGHT)
		x -= (double)w / PANGO_SCALE;
	set_color(d, s->color);
	cairo_move_to(d->cr, x, y);
	pango_cairo_show_layout(d->cr, l);
	cairo_new_path(d->cr);
	g_object_unref(l);
	return (double)h / PANGO_SCALE;
}

void draw_text_size(struct draw *d, double width, const struct draw_style *s,
                    const char *text, double *w, double *h)
{
	PangoLayout *l = layout(d, width, s, text);
	int pw, ph;

	pango_layout_get_size(l, &pw, &ph);
	if (w != NULL)
		*w = (double)pw / PANGO_SCALE;
	if (h != NULL)
		*h = (double)ph / PANGO_SCALE;
	g_object_unref(l);
}

void draw_text_up(struct draw *d, double x, double y,
                  const struct draw_style *s, const char *text)
{
	PangoLayout *l = layout(d, 0, s, text);
	int w, h;

	pango_layout_get_size(l, &w, &h);
	cairo_save(d->cr);
	cairo_translate(d->cr, x, y);
	cairo_rotate(d->cr, -PI / 2);
	pango_cairo_update_context(d->cr, d->pango);
	pango_layout_context_changed(l);
	set_color(d, s->color);
	cairo_move_to(d->cr, -(double)w / PANGO_SCALE / 2,
	              -(double)h / PANGO_SCALE / 2);
	pango_cairo_show_layout(d->cr, l);
	cairo_new_path(d->cr);
	cairo_restore(d->cr);
	pango_cairo_update_context(d->cr, d->pango);
	g_object_unref(l);
}

void draw_watermark(struct draw *d, double page_w, double page_h,
                    uint32_t color, const char *text)
{
	struct draw_style s = {100, true, false, false, color, DRAW_LEFT};
	double diag = sqrt(page_w * page_w + page_h * page_h), w, h;
	PangoLayout *l;
	int pw, ph;

	draw_text_size(d, 0, &s, text, &w, NULL);
	s.size = w > 0 ? 100 * 0.62 * diag / w : 100;
	if (s.size > 120)
		s.size = 120;
	l = layout(d, 0, &s, text);
	pango_layout_get_size(l, &pw, &ph);
	w = (double)pw / PANGO_SCALE;
	h = (double)ph / PANGO_SCALE;
	cairo_save(d->cr);
	cairo_translate(d->cr, page_w / 2, page_h / 2);
	cairo_rotate(d->cr, -atan2(page_h, page_w));
	pango_cairo_update_context(d->cr, d->pango);
	pango_layout_context_changed(l);
	cairo_set_source_rgba(d->cr, ((color >> 16) & 0xff) / 255.0,
	                      ((color >> 8) & 0xff) / 255.0,
	                      (color & 0xff) / 255.0, 0.16);
	/* outlines, not text: a reader of the page's text (pdftotext, a
	 * screen reader, a search) never finds the mark inside the words
	 * it lies across */
	cairo_move_to(d->cr, -w / 2, -h / 2);
	pango_cairo_layout_path(d->cr, l);
	cairo_fill(d->cr);
	cairo_restore(d->cr);
	pango_cairo_update_context(d->cr, d->pango);
	g_object_unref(l);
}

void draw_line(struct draw *d, double x0, double y0, double x1, double y1,
               double lw, uint32_t color, bool dashed)
{
	static const double dash[] = {5, 3};

	set_color(d, color);
	cairo_set_line_width(d->cr, lw);
	cairo_set_dash(d->cr, dash, dashed ? 2 : 0, 0);
	cairo_move_to(d->cr, x0, y0);
	cairo_line_to(d->cr, x1, y1);
	cairo_stroke(d->cr);
	cairo_set_dash(d->cr, NULL, 0, 0);
}

void draw_rect(struct draw *d, double x, double y, double w, double h,
               bool filled, uint32_t fill, double lw, uint32_t stroke)
{
	cairo_rectangle(d->cr, x, y, w, h);
	if (filled) {
		set_color(d, fill);
		if (lw > 0)
			cairo_fill_preserve(d->cr);
		else
			cairo_fill(d->cr);
	}
	if (lw > 0) {
		set_color(d, stroke);
		cairo_set_line_width(d->cr, lw);
		cairo_stroke(d->cr);
	}
	cairo_new_path(d->cr);
}

void draw_polyline(struct draw *d, const double *xs, const double *ys, int n,
                   double lw, uint32_t color)
{
	bool pen = false;

	for (int i = 0; i < n; i++) {
		if (isnan(xs[i]) || isnan(ys[i])) {
			pen = false;
			continue;
		}
		if (pen)
			cairo_line_to(d->cr, xs[i], ys[i]);
		else
			cairo_move_to(d->cr, xs[i], ys[i]);
		pen = true;
	}
	set_color(d, color);
	cairo_set_line_width(d->cr, lw);
	cairo_set_line_join(d->cr, CAIRO_LINE_JOIN_ROUND);
	cairo_stroke(d->cr);
}

void draw_band(struct draw *d, const double *xs, const double *y_lo,
               const double *y_hi, int n, uint32_t color)
{
	if (n < 1)
		return;
	cairo_move_to(d->cr, xs[0], y_hi[0]);
	for (int i = 1; i < n; i++)
		cairo_line_to(d->cr, xs[i], y_hi[i]);
	for (int i = n - 1; i >= 0; i--)
		cairo_line_to(d->cr, xs[i], y_lo[i]);
	cairo_close_path(d->cr);
	set_color(d, color);
	cairo_fill(d->cr);
}

void draw_dot(struct draw *d, double x, double y, double r, uint32_t color)
{
	cairo_new_sub_path(d->cr);
	cairo_arc(d->cr, x, y, r, 0, 2 * PI);
	set_color(d, color);
	cairo_fill(d->cr);
}

void draw_marker(struct draw *d, double x, double y, double size,
                 uint32_t color)
{
	cairo_move_to(d->cr, x, y);
	cairo_line_to(d->cr, x - size / 2, y - size);
	cairo_line_to(d->cr, x + size / 2, y - size);
	cairo_close_path(d->cr);
	set_color(d, color);
	cairo_fill(d->cr);
}

void draw_clip(struct draw *d, double x, double y, double w, double h)
{
	cairo_save(d->cr);
	cairo_rectangle(d->cr, x, y, w, h);
	cairo_clip(d->cr);
}

void draw_unclip(struct draw *d)
{
	cairo_restore(d->cr);
}

int draw_qr(struct draw *d, double x, double y, double size, const char *text)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);

	if (qr == NULL)
		return -1;
	double m = size / qr->width;
	draw_rect(d, x, y, size, size, true, 0xffffff, 0, 0);
	for (int r = 0; r < qr->width; r++)
		for (int c = 0; c < qr->width; c++)
			if (qr->data[r * qr->width + c] & 1)
				/* a hair wider, so anti-aliasing leaves no
				 * seams between modules */
				cairo_rectangle(d->cr, x + c * m, y + r * m,
				                m + 0.02, m + 0.02);
	set_color(d, 0x000000);
	cairo_fill(d->cr);
	QRcode_free(qr);
	return 0;
}

/* ---- documents ------------------------------------------------------- */

const struct draw_style draw_body = {8.6,   false,    false,
                                     false, DRAW_INK, DRAW_LEFT};
const struct draw_style draw_body_en = {7.8,   false,     true,
                                        false, DRAW_SOFT, DRAW_LEFT};
const struct draw_style draw_value = {9.2,   false,    false,
                                      false, DRAW_INK, DRAW_LEFT};

static const struct draw_style st_head = {10.5,  true,        false,
                                          false, DRAW_ACCENT, DRAW_LEFT};
static const struct draw_style st_head_en = {9.0,   false,     true,
                                             false, DRAW_SOFT, DRAW_LEFT};
static const struct draw_style st_label = {8.2,   true,     false,
                                           false, DRAW_INK, DRAW_LEFT};
static const struct draw_style st_label_en = {7.4,   false,     true,
                                              false, DRAW_SOFT, DRAW_LEFT};
static const struct draw_style st_th = {6.6,   true,     false,
                                        false, DRAW_INK, DRAW_CENTER};
static const struct draw_style st_th_en = {6.0,   false,     true,
                                           false, DRAW_SOFT, DRAW_CENTER};
static const struct draw_style st_td = {7.0,   false,    false,
                                        false, DRAW_INK, DRAW_CENTER};
static const struct draw_style st_td_en = {6.2,   false,     true,
                                           false, DRAW_SOFT, DRAW_CENTER};

#define TABLE_HEAD_FILL 0xdde5ef

static double right(const struct draw_doc *c)
{
	return c->left + c->width;
}

int draw_document(struct draw_doc *c, double page_w, double page_h,
                  const char *path, const char *title, const char *subject,
                  void (*body)(struct draw_doc *), char *err, size_t errlen)
{
	for (int pass = 0; pass < 2; pass++) {
		c->total = pass == 0 ? 0 : draw_pages(c->d);
		if (pass == 1)
			draw_free(c->d);
		c->d = pass == 1 && path == NULL
		               ? draw_new_memory(page_w, page_h, err, errlen)
		               : draw_new(DRAW_PDF, pass == 0 ? NULL : path,
		                          page_w, page_h, err, errlen);
		if (c->d == NULL)
			return -1;
		if (pass == 1)
			draw_set_meta(c->d, title, subject);
		c->header(c);
		body(c);
		c->footer(c);
		if (pass == 1 && draw_pages(c->d) != c->total) {
			/* the two passes must agree */
			snprintf(err, errlen,
			         "page count changed (%d, then %d)", c->total,
			         draw_pages(c->d));
			goto fail;
		}
		if (draw_finish(c->d, NULL, err, errlen) < 0)
			goto fail;
	}
	if (path == NULL && (c->pdf = draw_take(c->d, &c->pdf_len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	draw_free(c->d);
	c->d = NULL;
	return 0;
fail:
	draw_free(c->d);
	c->d = NULL;
	return -1;
}

void draw_label(const struct draw_doc *c, const char *vi, const char *en,
                char *buf, size_t size)
{
	switch (c->lang) {
	case DRAW_VI:
		snprintf(buf, size, "%s", vi);
		break;
	case DRAW_EN:
		snprintf(buf, size, "%s", en);
		break;
	default:
		snprintf(buf, size, "%s / %s", vi, en);
		break;
	}
}

void draw_page_label(const struct draw_doc *c, char *buf, size_t size)
{
	int page = draw_pages(c->d);

	switch (c->lang) {
	case DRAW_VI:
		snprintf(buf, size, "Trang %d/%d", page, c->total);
		break;
	case DRAW_EN:
		snprintf(buf, size, "Page %d of %d", page, c->total);
		break;
	default:
		snprintf(buf, size, "Trang %d/%d · Page %d of %d", page,
		         c->total, page, c->total);
	}
}

void draw_page_top(struct draw_doc *c, double top, const char *who,
                   const char *label_vi, const char *label_en,
                   const char *value, const char *title_vi,
                   const char *title_en)
{
	struct draw_style lab = {9.4,   true,        false,
	                         false, DRAW_ACCENT, DRAW_LEFT};
	struct draw_style big = {12, true, false, false, DRAW_INK, DRAW_RIGHT};
	struct draw_style small = {7,     false,     false,
	                           false, DRAW_SOFT, DRAW_RIGHT};
	char label[256], vi[256], en[256];
	double h, hr, lw = 0;

	if (c->logo != NULL && c->logo[0] != '\0')
		lw = draw_png(c->d, c->left, top, LOGO_H, c->logo);
	if (lw > 0)
		lw += 8;
	h = draw_text(c->d, c->left + lw, top, c->width - 190 - lw, &lab, who);
	if (lw > 0 && h < LOGO_H)
		h = LOGO_H;
	draw_label(c, label_vi, label_en, label, sizeof(label));
	hr = draw_text(c->d, right(c), top, 0, &small, label);
	hr += draw_text(c->d, right(c), top + hr, 0, &big, value);
	c->y = top + (h > hr ? h : hr) + 6;
	draw_line(c->d, c->left, c->y, right(c), c->y, 1.2, DRAW_ACCENT, false);
	c->y += 8;
	if (draw_pages(c->d) == 1) {
		struct draw_style t = {19,    true,        false,
		                       false, DRAW_ACCENT, DRAW_CENTER};
		struct draw_style te = {13,    false,     true,
		                        false, DRAW_SOFT, DRAW_CENTER};
		c->y += draw_pair(c, c->left, c->y, c->width, &t, &te, title_vi,
		                  title_en) +
		        10;
	} else {
		struct draw_style t = {8.5,   false,     true,
		                       false, DRAW_SOFT, DRAW_LEFT};
		snprintf(vi, sizeof(vi), "%s (tiếp theo)", title_vi);
		snprintf(en, sizeof(en), "%s (continued)", title_en);
		draw_label(c, vi, en, label, sizeof(label));
		c->y += draw_text(c->d, c->left, c->y, 0, &t, label) + 6;
	}
}

/* cairo reads a PNG through this: from the FILE in closure. */
static cairo_status_t read_png(void *closure, unsigned char *data,
                               unsigned int length)
{
	return fread(data, 1, length, closure) == length
	               ? CAIRO_STATUS_SUCCESS
	               : CAIRO_STATUS_READ_ERROR;
}

/* The image at path, loaded once per drawing (d->img); NULL when it cannot
 * be read, with d->fault set. */
static cairo_surface_t *load_png(struct draw *d, const char *path)
{
	cairo_surface_t *img;
	FILE *f;

	if (d->img_path != NULL && strcmp(d->img_path, path) == 0)
		return d->img;
	if ((f = fopen(path, "rb")) == NULL) {
		if (d->fault[0] == '\0')
			snprintf(d->fault, sizeof(d->fault), "image %s: %s",
			         path, strerror(errno));
		return NULL;
	}
	img = cairo_image_surface_create_from_png_stream(read_png, f);
	fclose(f);
	if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS ||
	    cairo_image_surface_get_width(img) < 1 ||
	    cairo_image_surface_get_height(img) < 1) {
		if (d->fault[0] == '\0')
			snprintf(d->fault, sizeof(d->fault),
			         "image %s: not a PNG cairo can read (%s)",
			         path,
			         cairo_status_to_string(
			                 cairo_surface_status(img)));
		cairo_surface_destroy(img);
		return NULL;
	}
	if (d->img != NULL)
		cairo_surface_destroy(d->img);
	free(d->img_path);
	d->img = img;
	d->img_path = strdup(path); /* NULL: loaded again next time */
	return img;
}

double draw_png(struct draw *d, double x, double y, double h, const char *path)
{
	cairo_surface_t *img = load_png(d, path);
	double iw, ih;

	if (img == NULL)
		return 0;
	iw = cairo_image_surface_get_width(img);
	ih = cairo_image_surface_get_height(img);
	cairo_save(d->cr);
	cairo_translate(d->cr, x, y);
	cairo_scale(d->cr, h / ih, h / ih);
	cairo_set_source_surface(d->cr, img, 0, 0);
	cairo_paint(d->cr);
	cairo_restore(d->cr);
	return h * iw / ih;
}

double draw_page_bottom(struct draw_doc *c, const char *left, const char *rtext)
{
	struct draw_style sl = {7.2, false, false, false, DRAW_INK, DRAW_LEFT};
	struct draw_style mid = {7.2,   true,     false,
	                         false, DRAW_INK, DRAW_CENTER};
	struct draw_style sr = {7.2,   false,     false,
	                        false, DRAW_SOFT, DRAW_RIGHT};
	char buf[128];
	double y = c->bottom + 14;

	draw_line(c->d, c->left, y, right(c), y, 0.6, DRAW_RULE, false);
	y += 4;
	draw_text(c->d, c->left, y, 0, &sl, left);
	draw_page_label(c, buf, sizeof(buf));
	draw_text(c->d, c->left + c->width / 2, y, 0, &mid, buf);
	draw_text(c->d, right(c), y, 0, &sr, rtext);
	return y + 12;
}

void draw_need(struct draw_doc *c, double h)
{
	if (c->y + h <= c->bottom)
		return;
	c->footer(c);
	draw_new_page(c->d);
	c->header(c);
}

double draw_pair_height(struct draw_doc *c, double width,
                        const struct draw_style *svi,
                        const struct draw_style *sen, const char *vi,
                        const char *en)
{
	double h = 0, t;

	if (c->lang != DRAW_EN) {
		draw_text_size(c->d, width, svi, vi, NULL, &t);
		h += t;
	}
	if (c->lang != DRAW_VI) {
		draw_text_size(c->d, width, c->lang == DRAW_EN ? svi : sen, en,
		               NULL, &t);
		h += t;
	}
	return h;
}

double draw_pair(struct draw_doc *c, double x, double y, double width,
                 const struct draw_style *svi, const struct draw_style *sen,
                 const char *vi, const char *en)
{
	double h = 0;

	if (c->lang != DRAW_EN)
		h += draw_text(c->d, x, y, width, svi, vi);
	if (c->lang != DRAW_VI)
		h += draw_text(c->d, x, y + h, width,
		               c->lang == DRAW_EN ? svi : sen, en);
	return h;
}

void draw_heading(struct draw_doc *c, const char *vi, const char *en,
                  double keep)
{
	const char *first = c->lang == DRAW_EN ? en : vi;
	double w = 0, h;

	draw_text_size(c->d, 0, &st_head, first, &w, &h);
	draw_need(c, h + 14 + (keep > 30 ? keep : 30));
	c->y += 8;
	draw_text(c->d, c->left, c->y, 0, &st_head, first);
	if (c->lang == DRAW_VI_EN)
		draw_text(c->d, c->left + w + 8, c->y + 1.2, 0, &st_head_en,
		          en);
	c->y += h + 2;
	draw_line(c->d, c->left, c->y, right(c), c->y, 0.5, DRAW_RULE, false);
	c->y += 4;
}

void draw_field(struct draw_doc *c, double label_w, const char *vi,
                const char *en, const char *value, uint32_t color)
{
	struct draw_style v = draw_value;
	double vw = c->width - label_w, hv, hl, h;

	v.color = color;
	hl = draw_pair_height(c, label_w - 8, &st_label, &st_label_en, vi, en);
	draw_text_size(c->d, vw, &v, value, NULL, &hv);
	h = (hl > hv ? hl : hv) + 6;
	draw_need(c, h);
	draw_pair(c, c->left, c->y + 2, label_w - 8, &st_label, &st_label_en,
	          vi, en);
	draw_text(c->d, c->left + label_w, c->y + 2, vw, &v, value);
	c->y += h;
	draw_line(c->d, c->left, c->y, right(c), c->y, 0.3, DRAW_RULE, false);
}

double draw_paragraph_height(struct draw_doc *c, const char *vi, const char *en)
{
	return draw_pair_height(c, c->width, &draw_body, &draw_body_en, vi,
	                        en) +
	       4;
}

void draw_paragraph(struct draw_doc *c, const char *vi, const char *en,
                    bool alert)
{
	struct draw_style svi = draw_body, sen = draw_body_en;
	double pad = alert ? 6 : 0, w = c->width - 2 * pad;

	if (alert) {
		svi.bold = true;
		svi.color = DRAW_ALERT;
		sen.color = DRAW_ALERT;
	}
	double h = draw_pair_height(c, w, &svi, &sen, vi, en) + 2 * pad;
	draw_need(c, h + 4);
	if (alert)
		draw_rect(c->d, c->left, c->y, c->width, h, true, DRAW_ALERT_BG,
		          1.0, DRAW_ALERT);
	draw_pair(c, c->left + pad, c->y + pad, w, &svi, &sen, vi, en);
	c->y += h + 4;
}

/* One cell: vi, and en below it when not NULL (the one the language
 * shows); its height, drawn at (x, y) when draw. */
static double table_cell(struct draw_doc *c, double x, double y, double w,
                         const struct draw_style *svi,
                         const struct draw_style *sen, const char *vi,
                         const char *en, bool draw)
{
	double h;

	if (en != NULL && c->lang != DRAW_VI)
		return draw ? draw_pair(c, x, y, w, svi, sen, vi, en)
		            : draw_pair_height(c, w, svi, sen, vi, en);
	if (c->lang == DRAW_EN && en != NULL)
		vi = en;
	if (draw)
		return draw_text(c->d, x, y, w, svi, vi);
	draw_text_size(c->d, w, svi, vi, NULL, &h);
	return h;
}

/* A row of cells: its height, drawn at y (then below it) when draw. */
static double table_cells(struct draw_doc *c, const struct draw_table *t,
                          const char *const vi[], const char *const en[],
                          bool head, bool draw)
{
	struct draw_style svi = head ? st_th : st_td;
	struct draw_style sen = head ? st_th_en : st_td_en;
	double h = 0, x = c->left;

	svi.size *= t->scale;
	sen.size *= t->scale;
	for (int k = 0; k < t->ncols; k++) {
		double ch = table_cell(c, x + 2, c->y + 3, t->w[k] - 4, &svi,
		                       &sen, vi[k], en[k], draw);
		if (ch > h)
			h = ch;
		x += t->w[k];
	}
	return h + 6;
}

/* The widest word (between spaces or line ends) of text in style s. */
static double widest_word(struct draw *d, const struct draw_style *s,
                          const char *text)
{
	char word[512];
	double most = 0, w;

	while (*text != '\0') {
		size_t n = strcspn(text, " \n");
		if (n > 0 && n < sizeof(word)) {
			memcpy(word, text, n);
			word[n] = '\0';
			draw_text_size(d, 0, s, word, &w, NULL);
			if (w > most)
				most = w;
		}
		text += n;
		text += *text != '\0';
	}
	return most;
}

/* The widest words of the cells vi, en (in the styles of a header or
 * a row) into t->need. */
static void measure(struct draw_doc *c, struct draw_table *t,
                    const char *const vi[], const char *const en[], bool head)
{
	const struct draw_style *svi = head ? &st_th : &st_td;
	const struct draw_style *sen = head ? &st_th_en : &st_td_en;

	assert(t->ncols <= DRAW_TABLE_COLS);
	for (int k = 0; k < t->ncols; k++) {
		double w = 0, we = 0;
		if (c->lang != DRAW_EN || en[k] == NULL)
			w = widest_word(c->d, svi, vi[k]);
		if (en[k] != NULL && c->lang != DRAW_VI)
			we = widest_word(c->d, c->lang == DRAW_EN ? svi : sen,
			                 en[k]);
		if (w < we)
			w = we;
		if (w > t->need[k])
			t->need[k] = w;
	}
}

void draw_table_measure(struct draw_doc *c, struct draw_table *t,
                        const char *const vi[], const char *const en[])
{
	measure(c, t, vi, en, false);
}

/* Widths and font size (draw.h): the columns of numbers as wide as
 * their widest word needs, what they take given by the other columns
 * down to their own widest words; when that is not enough, a smaller
 * font. */
static void table_fit(struct draw_table *t)
{
	double deficit = 0, slack = 0;

	for (t->scale = 1.0;; t->scale -= 0.05) {
		deficit = slack = 0;
		for (int k = 0; k < t->ncols; k++) {
			double need = t->need[k] * t->scale + 6;
			t->w[k] = t->widths[k];
			if (t->numbers & 1u << k) {
				t->w[k] = fmax(t->widths[k], need);
				deficit += t->w[k] - t->widths[k];
			} else {
				slack += fmax(0, t->widths[k] - need);
			}
		}
		if (deficit <= slack || t->scale < 0.62)
			break;
	}
	for (int k = 0; k < t->ncols; k++) {
		double give = fmax(0, t->widths[k] - t->need[k] * t->scale - 6);
		if (!(t->numbers & 1u << k) && slack > 0)
			t->w[k] -= fmin(deficit, slack) * give / slack;
	}
}

static void table_header(struct draw_doc *c, const struct draw_table *t)
{
	double h = table_cells(c, t, t->head_vi, t->head_en, true, false);

	draw_rect(c->d, c->left, c->y, c->width, h, true, TABLE_HEAD_FILL, 0,
	          0);
	table_cells(c, t, t->head_vi, t->head_en, true, true);
	draw_line(c->d, c->left, c->y, right(c), c->y, 0.8, DRAW_ACCENT, false);
	c->y += h;
	draw_line(c->d, c->left, c->y, right(c), c->y, 0.8, DRAW_ACCENT, false);
}

void draw_table_start(struct draw_doc *c, struct draw_table *t,
                      const char *const vi[], const char *const en[])
{
	double hh;

	measure(c, t, t->head_vi, t->head_en, true);
	table_fit(t);
	hh = table_cells(c, t, t->head_vi, t->head_en, true, false);
	draw_need(c, hh + table_cells(c, t, vi, en, false, false));
	table_header(c, t);
	t->rows = 0;
}

void draw_table_row(struct draw_doc *c, struct draw_table *t,
                    const char *const vi[], const char *const en[])
{
	double h = table_cells(c, t, vi, en, false, false);

	if (c->y + h > c->bottom) {
		draw_need(c, h);
		table_header(c, t);
	}
	if (t->rows++ % 2 == 1)
		draw_rect(c->d, c->left, c->y, c->width, h, true, DRAW_SHADE, 0,
		          0);
	table_cells(c, t, vi, en, false, true);
	c->y += h;
}

void draw_table_end(struct draw_doc *c, struct draw_table *t)
{
	(void)t;
	draw_line(c->d, c->left, c->y, right(c), c->y, 0.8, DRAW_ACCENT, false);
	c->y += 4;
}
