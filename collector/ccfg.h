/*
 * ccfg.h - metrolog-collector's configuration (libconfig syntax, like
 * metrologd's), validated once, up front: every key has a type, a range
 * and a default; unknown keys are refused; every error is reported as
 * "file:line: what is wrong". docs/COLLECTOR.md lists the keys.
 */
#ifndef METROLOG_CCFG_H
#define METROLOG_CCFG_H

#include <stdbool.h>
#include <stdio.h>

struct ccfg {
	/* mqtt */
	char *host;
	int port;
	int version; /* 3 (3.1.1) or 5 */
	char *client_id;
	char *group;  /* the shared subscriptions' group */
	char *prefix; /* the gateways' mqtt.prefix */
	char *sites;  /* the site level of the filters: "+" or one site */
	int keepalive_s;
	char *username;
	char *password_file;
	bool tls;
	char *ca_file, *cert_file, *key_file;
	bool tls_verify;
	/* postgresql */
	char *conninfo;
	/* archive */
	int gap_check_ms;   /* how often holes in seq are looked for */
	int gap_settle_ms;  /* a hole counts once the message after it is
	                       this old (messages of a site arrive out of
	                       order through a share group) */
	bool repair;        /* ask gateways to replay the holes */
	int repair_span;    /* seqs a replay request asks for, at most */
	int repair_wait_ms; /* a request unanswered is asked again after
	                       this, doubled per attempt up to 10 min */
	int batch_max;      /* messages a transaction holds, at most; 1:
	                       each acknowledged only once committed */
	int batch_ms;       /* a batch is committed this long after its
	                       first message, at most */
};

/* Load and validate path. Returns a configuration to free with
 * ccfg_free(), or NULL after printing every error to errs, one
 * "file:line: message" a line. */
struct ccfg *ccfg_load(const char *path, FILE *errs);
void ccfg_free(struct ccfg *c);

#endif
