/*
 * modbus-ref-server - libmodbus's own Modbus TCP server, as the reference
 * against which tools/bench/bench-sim measures metrolog-sim.
 *
 * It is written the way libmodbus's tests/bandwidth-server-many-up.c is: one
 * modbus_t, modbus_tcp_listen(), a select() loop over the listening socket
 * and every client, and for a readable client modbus_set_socket() +
 * modbus_receive() + modbus_reply() against a modbus_mapping_t. The mapping
 * holds REF_REGISTERS input and holding registers; input registers 2c and
 * 2c + 1 hold channel c's value as a big-endian float32 ("ABCD"), like
 * metrolog-sim's register map (firmware/core/node.h), so both servers answer
 * the same request with the same amount of work on the wire.
 *
 * Differences from the libmodbus example, none on the request path: it
 * listens on 127.0.0.1 only; --port 0 takes a free port and --port-file
 * writes the port actually bound (atomically, by rename) so a script can wait
 * for it; a 1 s indication timeout keeps a client that sends half a request
 * from stalling the others forever; SIGTERM and SIGINT are blocked except
 * inside pselect(), so the loop ends cleanly and frees everything.
 *
 * Threading: one thread; the signal handler only sets a flag.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <modbus.h>

#define REF_REGISTERS 4000 /* input and holding registers mapped */
#define REF_CHANNELS  64   /* float32 values in input registers 0.. */
#define REF_BACKLOG   64   /* listen() backlog: more than bench-sim opens */
#define OPT_HELP      256  /* getopt_long value of --help */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: modbus-ref-server --port P [--port-file FILE] "
	        "[--verbose]\n"
	        "\n"
	        "libmodbus's TCP server on 127.0.0.1:P (P = 0: any free "
	        "port), serving %d input\n"
	        "and %d holding registers; input registers 2c, 2c+1 hold "
	        "float32 channel\n"
	        "values (ABCD) for c < %d. Runs until SIGTERM or SIGINT.\n"
	        "\n"
	        "  --port P          TCP port, 0..65535\n"
	        "  --port-file FILE  write the bound port to FILE once "
	        "listening\n"
	        "  --verbose         log connections on stderr\n",
	        REF_REGISTERS, REF_REGISTERS, REF_CHANNELS);
}

/* Write port to path via a temporary file and rename(), so a reader never
 * sees a partial file. */
static int write_port_file(const char *path, int port)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		fprintf(stderr, "modbus-ref-server: %s: path too long\n", path);
		return -1;
	}
	f = fopen(tmp, "w");
	if (f == NULL)
		goto fail;
	if (fprintf(f, "%d\n", port) < 0) {
		fclose(f);
		goto fail;
	}
	if (fclose(f) == EOF || rename(tmp, path) == -1)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "modbus-ref-server: %s: %s\n", tmp, strerror(errno));
	unlink(tmp);
	return -1;
}

/* The port a listening socket is bound to, or -1. */
static int bound_port(int s)
{
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);

	if (getsockname(s, (struct sockaddr *)&addr, &len) == -1)
		return -1;
	return ntohs(addr.sin_port);
}

static void fill_mapping(modbus_mapping_t *map)
{
	int c, i;

	for (c = 0; c < REF_CHANNELS; c++)
		modbus_set_float_abcd(20.0f + 0.25f * (float)c,
		                      &map->tab_input_registers[2 * c]);
	for (i = 2 * REF_CHANNELS; i < REF_REGISTERS; i++)
		map->tab_input_registers[i] = (uint16_t)i;
	for (i = 0; i < REF_REGISTERS; i++)
		map->tab_registers[i] = (uint16_t)i;
}

/* Serve until a signal sets stop. Returns 0 on a clean stop, -1 on a
 * select() failure. Closes every client socket it accepted. */
static int serve(modbus_t *ctx, modbus_mapping_t *map, int server, bool verbose)
{
	uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
	fd_set refset, rdset;
	sigset_t blocked, waitmask;
	int fdmax = server, fd, rc, status = 0;

	sigemptyset(&blocked);
	sigaddset(&blocked, SIGTERM);
	sigaddset(&blocked, SIGINT);
	sigprocmask(SIG_BLOCK, &blocked, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);

	FD_ZERO(&refset);
	FD_SET(server, &refset);
	while (!stop) {
		rdset = refset;
		if (pselect(fdmax + 1, &rdset, NULL, NULL, NULL, &waitmask) ==
		    -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "modbus-ref-server: select: %s\n",
			        strerror(errno));
			status = -1;
			break;
		}
		for (fd = 0; fd <= fdmax; fd++) {
			if (!FD_ISSET(fd, &rdset))
				continue;
			if (fd == server) {
				int client = accept(server, NULL, NULL);

				if (client == -1) {
					fprintf(stderr,
					        "modbus-ref-server: accept: "
					        "%s\n",
					        strerror(errno));
					continue;
				}
				if (client >= FD_SETSIZE) {
					fprintf(stderr,
					        "modbus-ref-server: too many "
					        "clients\n");
					close(client);
					continue;
				}
				FD_SET(client, &refset);
				if (client > fdmax)
					fdmax = client;
				if (verbose)
					fprintf(stderr,
					        "modbus-ref-server: new "
					        "connection on socket %d\n",
					        client);
				continue;
			}
			modbus_set_socket(ctx, fd);
			rc = modbus_receive(ctx, query);
			if (rc > 0 && modbus_reply(ctx, query, rc, map) != -1)
				continue;
			if (rc == 0)
				continue; /* not for us: ignored */
			/* Closed by the client, or an error: drop it. */
			if (verbose)
				fprintf(stderr,
				        "modbus-ref-server: closing socket %d: "
				        "%s\n",
				        fd, modbus_strerror(errno));
			close(fd);
			FD_CLR(fd, &refset);
			while (fdmax > server && !FD_ISSET(fdmax, &refset))
				fdmax--;
		}
	}
	for (fd = 0; fd <= fdmax; fd++)
		if (fd != server && FD_ISSET(fd, &refset))
			close(fd);
	return status;
}

/* What the command line asks for. */
struct ref_opts {
	long port; /* -1: not given */
	const char *port_file;
	bool verbose;
};

/* The command line into o. Returns -1 to go on, or the status to exit
 * with (0 after --help, 2 on a usage error, with a message). */
static int parse_options(int argc, char **argv, struct ref_opts *o)
{
	static const struct option longopts[] = {
	        {"port", required_argument, NULL, 'p'},
	        {"port-file", required_argument, NULL, 'f'},
	        {"verbose", no_argument, NULL, 'v'},
	        {"help", no_argument, NULL, OPT_HELP},
	        {NULL, 0, NULL, 0},
	};
	int ch;
	char *end;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			errno = 0;
			o->port = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    o->port < 0 || o->port > 65535) {
				fprintf(stderr,
				        "modbus-ref-server: --port: "
				        "'%s' is not in 0..65535\n",
				        optarg);
				return 2;
			}
			break;
		case 'f':
			o->port_file = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case OPT_HELP:
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'modbus-ref-server --help'.\n");
			return 2;
		}
	}
	if (o->port == -1 || optind < argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}

/* SIGTERM and SIGINT set stop; SIGPIPE is ignored. Returns 0 or -1 with a
 * message. */
static int install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1)
		goto fail;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "modbus-ref-server: sigaction: %s\n", strerror(errno));
	return -1;
}

/* Listen as o asks and serve until a signal. Returns the exit status. */
static int run(const struct ref_opts *o)
{
	modbus_t *ctx = NULL;
	modbus_mapping_t *map = NULL;
	long port = o->port;
	int server = -1, status = 1;

	ctx = modbus_new_tcp("127.0.0.1", (int)port);
	if (ctx == NULL) {
		fprintf(stderr, "modbus-ref-server: modbus_new_tcp: %s\n",
		        modbus_strerror(errno));
		goto out;
	}
	if (modbus_set_indication_timeout(ctx, 1, 0) == -1) {
		fprintf(stderr, "modbus-ref-server: indication timeout: %s\n",
		        modbus_strerror(errno));
		goto out;
	}
	map = modbus_mapping_new(0, 0, REF_REGISTERS, REF_REGISTERS);
	if (map == NULL) {
		fprintf(stderr, "modbus-ref-server: mapping: %s\n",
		        modbus_strerror(errno));
		goto out;
	}
	fill_mapping(map);
	server = modbus_tcp_listen(ctx, REF_BACKLOG);
	if (server == -1) {
		fprintf(stderr,
		        "modbus-ref-server: listen on 127.0.0.1:%ld: "
		        "%s\n",
		        port, modbus_strerror(errno));
		goto out;
	}
	port = bound_port(server);
	if (port == -1) {
		fprintf(stderr, "modbus-ref-server: getsockname: %s\n",
		        strerror(errno));
		goto out;
	}
	if (o->port_file != NULL &&
	    write_port_file(o->port_file, (int)port) == -1)
		goto out;
	if (o->verbose)
		fprintf(stderr,
		        "modbus-ref-server: listening on "
		        "127.0.0.1:%ld\n",
		        port);
	if (serve(ctx, map, server, o->verbose) == 0)
		status = 0;
out:
	if (server != -1)
		close(server);
	/* The context's socket is one of the clients, already closed. */
	modbus_free(ctx);
	modbus_mapping_free(map);
	return status;
}

int main(int argc, char **argv)
{
	struct ref_opts o = {.port = -1};
	int rc = parse_options(argc, argv, &o);

	if (rc >= 0)
		return rc;
	if (install_signals() == -1)
		return 1;
	return run(&o);
}
