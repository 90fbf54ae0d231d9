/*
 * store_user.c - the write side of the accounts of metrolog-web
 * (docs/SCHEMA.md, users): `metrolog user add|passwd|disable|enable`.
 * Each call is one statement, so one transaction, synchronous = FULL as
 * every write of the store. The store never sees a password: it is handed
 * the Argon2id string auth.h made.
 *
 * Threading: as store.c; the struct store belongs to one thread.
 */
#include <stdio.h>
#include <string.h>

#include "store_int.h"

/* Run sql with up to five text parameters (NULL binds NULL) and ?6 an
 * integer; *changed the rows it changed. Returns 0 or -1 (recorded as
 * what). */
static int user_exec(struct store *st, const char *sql, const char *what,
                     const char *const text[5], int64_t num, int *changed)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK) {
		st_sqlite_error(st, rc, what);
		sqlite3_finalize(s);
		return -1;
	}
	for (int i = 0; i < 5; i++)
		if (text[i] != NULL)
			st_bind_text(s, i + 1, text[i]);
	sqlite3_bind_int64(s, 6, num);
	rc = st_run(st, s, what);
	*changed = sqlite3_changes(st->db);
	sqlite3_finalize(s);
	return rc;
}

/* 1 when sql (one text parameter) returns a row, 0 none, -1 error. */
static int user_exists(struct store *st, const char *sql, const char *text)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK) {
		st_sqlite_error(st, rc, "users");
		sqlite3_finalize(s);
		return -1;
	}
	st_bind_text(s, 1, text);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		st_sqlite_error(st, rc, "users");
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int store_user_add(struct store *st, const char *name, const char *role,
                   const char *customer, const char *hash)
{
	const char *const args[5] = {name, role, customer, hash};
	int found, changed;

	if ((strcmp(role, "enterprise") == 0) != (customer != NULL)) {
		st_error(
		        st, STORE_OTHER,
		        customer != NULL
		                ? "a %s is one of the lab's people: no customer"
		                : "an %s user names its customer",
		        role);
		return -1;
	}
	found = user_exists(st, "SELECT 1 FROM users WHERE name = ?1", name);
	if (found != 0) {
		if (found > 0)
			st_error(st, STORE_OTHER, "user %s exists already",
			         name);
		return -1;
	}
	if (customer != NULL &&
	    (found = user_exists(st, "SELECT 1 FROM customers WHERE name = ?1",
	                         customer)) != 1) {
		if (found == 0)
			st_error(st, STORE_OTHER,
			         "no customer %s (metrologd's configuration "
			         "names the customers)",
			         customer);
		return -1;
	}
	return user_exec(st,
	                 "INSERT INTO users (name, role, customer, password,"
	                 " created) VALUES (?1, ?2, ?3, ?4, ?6)",
	                 "adding a user", args, st_now_us(), &changed);
}

/* A statement on the row of user name that must change one row. */
static int user_update(struct store *st, const char *sql, const char *name,
                       const char *text, int64_t num)
{
	const char *const args[5] = {name, text};
	int changed;

	if (user_exec(st, sql, "updating a user", args, num, &changed) < 0)
		return -1;
	if (changed != 1) {
		st_error(st, STORE_OTHER, "no user %s", name);
		return -1;
	}
	return 0;
}

int store_user_passwd(struct store *st, const char *name, const char *hash)
{
	return user_update(st, "UPDATE users SET password = ?2 WHERE name = ?1",
	                   name, hash, 0);
}

int store_user_disable(struct store *st, const char *name, bool disabled)
{
	return user_update(st, "UPDATE users SET disabled = ?6 WHERE name = ?1",
	                   name, NULL, disabled ? 1 : 0);
}
