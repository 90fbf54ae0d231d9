/*
 * query_user.c - the read side of the accounts of metrolog-web
 * (docs/SCHEMA.md, users), and the data version it polls to learn that
 * metrologd committed. See query.h.
 */
#include <stdio.h>
#include <string.h>

#include "query_int.h"

static const char users_sql[] =
        "SELECT id, name, role, coalesce(customer, ''), password, disabled,"
        " created FROM users WHERE (?1 IS NULL OR name = ?1) ORDER BY name";

static void read_user(sqlite3_stmt *s, struct query_user *u)
{
	memset(u, 0, sizeof(*u));
	u->id = sqlite3_column_int64(s, 0);
	query_text(s, 1, u->name, sizeof(u->name));
	query_text(s, 2, u->role, sizeof(u->role));
	query_text(s, 3, u->customer, sizeof(u->customer));
	query_text(s, 4, u->password, sizeof(u->password));
	u->disabled = sqlite3_column_int(s, 5) != 0;
	u->created_us = sqlite3_column_int64(s, 6);
}

static int list_users(struct query *q, const char *name,
                      int (*fn)(void *, const struct query_user *), void *ctx)
{
	sqlite3_stmt *s = query_prepare(q, users_sql);
	struct query_user u;
	int rc, ret = 0;

	if (s == NULL)
		return -1;
	if (name != NULL)
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_user(s, &u);
		if ((ret = fn(ctx, &u)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = query_fail(q, rc, "users");
	sqlite3_finalize(s);
	return ret;
}

int query_users(struct query *q,
                int (*fn)(void *ctx, const struct query_user *), void *ctx)
{
	return list_users(q, NULL, fn, ctx);
}

static int copy_user(void *ctx, const struct query_user *u)
{
	memcpy(ctx, u, sizeof(*u));
	return 1;
}

int query_user(struct query *q, const char *name, struct query_user *out)
{
	int ret = list_users(q, name, copy_user, out);

	return ret < 0 ? -1 : ret == 1 ? 0 : 1;
}

int query_data_version(struct query *q, int64_t *version)
{
	sqlite3_stmt *s = query_prepare(q, "PRAGMA data_version");
	int rc;

	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : query_fail(q, rc, "data_version");
}
