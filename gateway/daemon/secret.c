/*
 * secret.c - secrets read from files (secret.h).
 */
#include "secret.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

void secret_wipe(char *s)
{
	volatile char *v = s;

	while (v != NULL && *v != '\0')
		*v++ = '\0';
}

int secret_read_line(const char *path, char **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (f == NULL) {
		snprintf(err, errlen, "mqtt: password_file %s: %s", path,
		         strerror(errno));
		return -1;
	}
	n = getline(&line, &cap, f);
	if (n < 0 && ferror(f)) {
		snprintf(err, errlen, "mqtt: password_file %s: %s", path,
		         strerror(errno));
		fclose(f);
		if (line != NULL)
			secret_wipe(line);
		free(line);
		return -1;
	}
	fclose(f);
	if (n < 0) { /* an empty file: an empty password */
		free(line);
		line = strdup("");
		if (line == NULL) {
			snprintf(err, errlen, "mqtt: %s", strerror(ENOMEM));
			return -1;
		}
		n = 0;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	*out = line;
	return 0;
}
