/*
 * ccfg.c - the collector's configuration file (ccfg.h). One table of keys
 * per group, checked by one function, check_group(), as metrologd's
 * config.c does (Redis's loader, OpenBSD's parse.y): type, range,
 * default, unknown keys refused, and every error collected and printed as
 * "file:line: message" before the file is refused. The only file of the
 * collector that includes <libconfig.h>.
 */
#include "ccfg.h"

#include <libconfig.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

enum ktype { K_INT, K_STR, K_BOOL };

struct key {
	const char *name;
	enum ktype type;
	size_t off; /* offset in struct ccfg */
	long min, max;
	long def_int;        /* K_INT, K_BOOL */
	const char *def_str; /* K_STR: NULL means none (the key is optional
	                        unless required) */
	bool required;
};

#define OFF(f) offsetof(struct ccfg, f)

static const struct key mqtt_keys[] = {
        {"host", K_STR, OFF(host), 0, 0, 0, "127.0.0.1", false},
        {"port", K_INT, OFF(port), 1, 65535, 1883, NULL, false},
        {"version", K_INT, OFF(version), 3, 5, 5, NULL, false},
        {"client_id", K_STR, OFF(client_id), 0, 0, 0, NULL, true},
        {"group", K_STR, OFF(group), 0, 0, 0, "metrolog-archive", false},
        {"prefix", K_STR, OFF(prefix), 0, 0, 0, "metrolog", false},
        {"sites", K_STR, OFF(sites), 0, 0, 0, "+", false},
        {"keepalive_s", K_INT, OFF(keepalive_s), 2, 3600, 30, NULL, false},
        {"username", K_STR, OFF(username), 0, 0, 0, NULL, false},
        {"password_file", K_STR, OFF(password_file), 0, 0, 0, NULL, false},
        {NULL, K_INT, 0, 0, 0, 0, NULL, false}};

static const struct key tls_keys[] = {
        {"ca_file", K_STR, OFF(ca_file), 0, 0, 0, NULL, false},
        {"cert_file", K_STR, OFF(cert_file), 0, 0, 0, NULL, false},
        {"key_file", K_STR, OFF(key_file), 0, 0, 0, NULL, false},
        {"verify", K_BOOL, OFF(tls_verify), 0, 1, 1, NULL, false},
        {NULL, K_INT, 0, 0, 0, 0, NULL, false}};

static const struct key pg_keys[] = {
        {"conninfo", K_STR, OFF(conninfo), 0, 0, 0, NULL, true},
        {NULL, K_INT, 0, 0, 0, 0, NULL, false}};

static const struct key archive_keys[] = {
        {"gap_check_ms", K_INT, OFF(gap_check_ms), 100, 3600000, 1000, NULL,
         false},
        {"gap_settle_ms", K_INT, OFF(gap_settle_ms), 0, 86400000, 10000, NULL,
         false},
        {"repair", K_BOOL, OFF(repair), 0, 1, 1, NULL, false},
        {"repair_span", K_INT, OFF(repair_span), 1, 10000, 1000, NULL, false},
        {"repair_wait_ms", K_INT, OFF(repair_wait_ms), 100, 3600000, 30000,
         NULL, false},
        {"batch_max", K_INT, OFF(batch_max), 1, 10000, 256, NULL, false},
        {"batch_ms", K_INT, OFF(batch_ms), 1, 60000, 50, NULL, false},
        {NULL, K_INT, 0, 0, 0, 0, NULL, false}};

struct err {
	int line;
	int seq;
	char text[512];
};

struct ctx {
	const char *path;
	struct err *errs; /* printed sorted by line when the file is read */
	int nerrs, cap;
};

__attribute__((format(printf, 3, 4))) static void
err_at(struct ctx *x, const config_setting_t *s, const char *fmt, ...)
{
	const char *file = s != NULL ? config_setting_source_file(s) : NULL;
	int line = s != NULL ? (int)config_setting_source_line(s) : 0;
	struct err *e;
	va_list ap;
	int n;

	if (x->nerrs == x->cap) {
		int cap = x->cap ? 2 * x->cap : 16;
		struct err *m = realloc(x->errs, (size_t)cap * sizeof(*m));
		if (m == NULL) {
			x->nerrs++; /* counted, not printed */
			return;
		}
		x->errs = m;
		x->cap = cap;
	}
	e = &x->errs[x->nerrs];
	e->line = line;
	e->seq = x->nerrs++;
	if (line > 0)
		n = snprintf(e->text, sizeof(e->text),
		             "%s:%d: ", file != NULL ? file : x->path, line);
	else
		n = snprintf(e->text, sizeof(e->text), "%s: ", x->path);
	va_start(ap, fmt);
	vsnprintf(e->text + n, sizeof(e->text) - (size_t)n, fmt, ap);
	va_end(ap);
}

static int err_cmp(const void *a, const void *b)
{
	const struct err *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Every error, in file order, one a line. */
static void err_print(struct ctx *x, FILE *out)
{
	int n = x->nerrs < x->cap ? x->nerrs : x->cap;

	if (x->errs == NULL)
		return;
	qsort(x->errs, (size_t)n, sizeof(*x->errs), err_cmp);
	for (int i = 0; i < n; i++)
		fprintf(out, "%s\n", x->errs[i].text);
}

static const struct key *find_key(const struct key *keys, const char *name)
{
	for (; keys->name != NULL; keys++)
		if (strcmp(keys->name, name) == 0)
			return keys;
	return NULL;
}

static void set_default(struct ccfg *c, const struct key *k)
{
	char *at = (char *)c + k->off;

	if (k->type == K_INT)
		*(int *)(void *)at = (int)k->def_int;
	else if (k->type == K_BOOL)
		*(bool *)(void *)at = k->def_int != 0;
	else if (k->def_str != NULL)
		*(char **)(void *)at = strdup(k->def_str);
}

/* One setting s of group gname against k into c. */
static void check_key(struct ctx *x, struct ccfg *c, const char *gname,
                      const struct key *k, const config_setting_t *s)
{
	char *at = (char *)c + k->off;
	int t = config_setting_type(s);

	if (k->type == K_INT) {
		long long v = config_setting_get_int64(s);
		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
			err_at(x, s, "%s.%s must be an integer", gname,
			       k->name);
		else if (v < k->min || v > k->max)
			err_at(x, s, "%s.%s must be from %ld to %ld, not %lld",
			       gname, k->name, k->min, k->max, v);
		else
			*(int *)(void *)at = (int)v;
	} else if (k->type == K_BOOL) {
		if (t != CONFIG_TYPE_BOOL)
			err_at(x, s, "%s.%s must be true or false", gname,
			       k->name);
		else
			*(bool *)(void *)at = config_setting_get_bool(s);
	} else {
		const char *v = config_setting_get_string(s);
		char why[64];
		if (v == NULL)
			err_at(x, s, "%s.%s must be a string", gname, k->name);
		else if (v[0] == '\0')
			err_at(x, s, "%s.%s must not be empty", gname, k->name);
		else if (text_printable(v, why, sizeof(why)) < 0)
			err_at(x, s, "%s.%s: %s", gname, k->name, why);
		else {
			free(*(char **)(void *)at);
			*(char **)(void *)at = strdup(v);
		}
	}
}

/* The settings of group g (NULL: absent) against keys; subgroup (may be
 * NULL) names the one group allowed inside. */
static void check_group(struct ctx *x, struct ccfg *c, const char *gname,
                        const config_setting_t *g, const struct key *keys,
                        const char *subgroup)
{
	for (const struct key *k = keys; k->name != NULL; k++) {
		set_default(c, k);
		/* an absent group is told once, by its caller */
		if (k->required && g != NULL &&
		    config_setting_get_member(g, k->name) == NULL)
			err_at(x, g, "%s.%s is required", gname, k->name);
	}
	for (int i = 0; g != NULL && i < config_setting_length(g); i++) {
		const config_setting_t *s =
		        config_setting_get_elem(g, (unsigned)i);
		const struct key *k = find_key(keys, config_setting_name(s));
		if (k != NULL)
			check_key(x, c, gname, k, s);
		else if (subgroup == NULL ||
		         strcmp(config_setting_name(s), subgroup) != 0)
			err_at(x, s, "unknown key %s.%s", gname,
			       config_setting_name(s));
	}
}

static void check_root(struct ctx *x, struct ccfg *c, config_t *lc)
{
	static const char *const groups[] = {"mqtt", "postgresql", "archive"};
	const config_setting_t *root = config_root_setting(lc);
	const config_setting_t *m = config_lookup(lc, "mqtt");
	const config_setting_t *tls =
	        m != NULL ? config_setting_get_member(m, "tls") : NULL;

	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *s =
		        config_setting_get_elem(root, (unsigned)i);
		const char *n = config_setting_name(s);
		bool known = false;
		for (size_t j = 0; j < 3; j++)
			known |= strcmp(n, groups[j]) == 0;
		if (!known)
			err_at(x, s, "unknown key %s", n);
		else if (!config_setting_is_group(s))
			err_at(x, s, "%s must be a group { ... }", n);
	}
	if (m == NULL)
		err_at(x, root, "no mqtt group");
	check_group(x, c, "mqtt",
	            m != NULL && config_setting_is_group(m) ? m : NULL,
	            mqtt_keys, "tls");
	c->tls = tls != NULL;
	if (tls != NULL && !config_setting_is_group(tls))
		err_at(x, tls, "mqtt.tls must be a group { ... }");
	check_group(x, c, "mqtt.tls",
	            tls != NULL && config_setting_is_group(tls) ? tls : NULL,
	            tls_keys, NULL);
	const config_setting_t *pg = config_lookup(lc, "postgresql");
	if (pg == NULL)
		err_at(x, root, "no postgresql group");
	check_group(x, c, "postgresql",
	            pg != NULL && config_setting_is_group(pg) ? pg : NULL,
	            pg_keys, NULL);
	const config_setting_t *a = config_lookup(lc, "archive");
	check_group(x, c, "archive",
	            a != NULL && config_setting_is_group(a) ? a : NULL,
	            archive_keys, NULL);
}

/* What the tables cannot say: the MQTT version, names that go into
 * topics. */
static void check_topics(struct ctx *x, struct ccfg *c, config_t *lc)
{
	const config_setting_t *m = config_lookup(lc, "mqtt");
	const char *bad = "+#";

	if (c->version == 4)
		err_at(x, config_setting_get_member(m, "version"),
		       "mqtt.version must be 3 or 5, not 4");
	if (c->group != NULL && strpbrk(c->group, "+#/") != NULL)
		err_at(x, config_setting_get_member(m, "group"),
		       "mqtt.group must not hold '+', '#' or '/'");
	if (c->prefix != NULL && (strpbrk(c->prefix, bad) != NULL ||
	                          c->prefix[strlen(c->prefix) - 1] == '/'))
		err_at(x, config_setting_get_member(m, "prefix"),
		       "mqtt.prefix must not hold '+' or '#' nor end with '/'");
	if (c->repair && c->client_id != NULL &&
	    (c->client_id[0] == '\0' || strpbrk(c->client_id, "+#/") != NULL))
		err_at(x, config_setting_get_member(m, "client_id"),
		       "mqtt.client_id must not hold '+', '#' or '/': it is "
		       "the last level of the topic of the replay replies");
	if (c->sites != NULL && strcmp(c->sites, "+") != 0 &&
	    strpbrk(c->sites, "+#/") != NULL)
		err_at(x, config_setting_get_member(m, "sites"),
		       "mqtt.sites must be \"+\" (every site) or one site");
}

struct ccfg *ccfg_load(const char *path, FILE *errs)
{
	struct ctx x = {path, NULL, 0, 0};
	struct ccfg *c = calloc(1, sizeof(*c));
	config_t lc;

	if (c == NULL) {
		fprintf(errs, "%s: out of memory\n", path);
		return NULL;
	}
	config_init(&lc);
	if (config_read_file(&lc, path) != CONFIG_TRUE) {
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
			fprintf(errs, "%s: cannot read the file\n", path);
		else
			fprintf(errs, "%s:%d: %s\n",
			        config_error_file(&lc) != NULL
			                ? config_error_file(&lc)
			                : path,
			        config_error_line(&lc), config_error_text(&lc));
		config_destroy(&lc);
		ccfg_free(c);
		return NULL;
	}
	check_root(&x, c, &lc);
	check_topics(&x, c, &lc);
	config_destroy(&lc);
	err_print(&x, errs);
	free(x.errs);
	if (x.nerrs > 0) {
		ccfg_free(c);
		return NULL;
	}
	return c;
}

void ccfg_free(struct ccfg *c)
{
	if (c == NULL)
		return;
	free(c->host);
	free(c->client_id);
	free(c->group);
	free(c->prefix);
	free(c->sites);
	free(c->username);
	free(c->password_file);
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	free(c->conninfo);
	free(c);
}
