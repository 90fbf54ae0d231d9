/*
 * assets.h - the static files of metrolog-web (web/static/), embedded in
 * the program at build time (web/embed.cmake writes assets.c), so the
 * browser fetches nothing from anywhere else and the program needs no
 * files beside it.
 */
#ifndef METROLOG_WEB_ASSETS_H
#define METROLOG_WEB_ASSETS_H

#include <stddef.h>

struct asset {
	const char *name; /* "board.js": served as /static/board.js */
	const unsigned char *data;
	size_t len;
};

extern const struct asset assets[];
extern const size_t nassets;

#endif
