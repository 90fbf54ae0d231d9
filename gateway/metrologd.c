/*
 * metrologd - the metrolog gateway daemon: arguments, signals, start and
 * orderly stop. Polling, storage and publishing live in gateway/src/.
 *
 * This first version answers --help and --version only: the polling loop,
 * the database and MQTT come next (docs/ARCHITECTURE.md says what is there).
 */
#include <getopt.h>
#include <stdio.h>

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: metrologd [OPTION]...\n"
	        "The metrolog gateway: polls lab instruments over Modbus, "
	        "records readings in\nSQLite and publishes them over MQTT.\n\n"
	        "  -h, --help     show this help\n"
	        "  -V, --version  show the version\n\n"
	        "This version does not poll yet: use 'metrolog read' to read "
	        "an instrument.\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("metrologd %s\n", METROLOG_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'metrologd --help'.\n");
			return 2;
		}
	}
	usage(stderr);
	return 2;
}
