/*
 * secret.h - secrets read from files (an MQTT password_file), for every
 * service that connects somewhere: metrologd and metrolog-collector.
 * A secret is never logged, and wiped before it is freed.
 */
#ifndef METROLOG_SECRET_H
#define METROLOG_SECRET_H

#include <stddef.h>

/* The first line of path, without its line end, into *out (malloc'd; an
 * empty file is an empty secret). Returns 0, or -1 with the reason in err
 * ("mqtt: password_file PATH: ...", never the secret). */
int secret_read_line(const char *path, char **out, char *err, size_t errlen);

/* Overwrite s with NULs (NULL allowed), so that a freed secret does not
 * stay in memory. */
void secret_wipe(char *s);

#endif
