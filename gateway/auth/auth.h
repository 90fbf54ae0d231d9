/*
 * auth.h - the accounts of metrolog-web: passwords hashed and checked,
 * random tokens, and the words of the roles and of user names. The one
 * file behind libsodium (auth.c); the metrolog tool hashes with it
 * (`metrolog user`), metrolog-web checks with it.
 *
 * A password is stored only as its Argon2id string
 * ("$argon2id$v=19$m=65536,t=2,p=1$salt$hash": libsodium's
 * crypto_pwhash_str with the interactive limits, 64 MiB and 2 passes, a
 * random salt of 16 bytes): the string names its own parameters, so a
 * later program with stronger limits still checks an older one.
 *
 * Threading: every function may be called from any thread once
 * auth_init() has returned 0.
 */
#ifndef METROLOG_AUTH_H
#define METROLOG_AUTH_H

#include <stdbool.h>
#include <stddef.h>

/* An Argon2id string and its NUL (crypto_pwhash_STRBYTES). */
#define AUTH_HASH_SIZE 128
/* A token: 32 random bytes as 64 hex digits and a NUL. */
#define AUTH_TOKEN_SIZE 65
/* Passwords: 8 to 1024 bytes. User names: 1 to 64 bytes of
 * [A-Za-z0-9._@-], the first a letter or a digit. */
#define AUTH_PASSWORD_MIN 8
#define AUTH_PASSWORD_MAX 1024
#define AUTH_NAME_MAX     64

/* The roles (docs/WEB.md): the lab's technicians and managers see the
 * board; an enterprise user sees only its own customer's instruments. */
enum auth_role { AUTH_TECHNICIAN, AUTH_MANAGER, AUTH_ENTERPRISE, AUTH_ROLES };

/* Initialise libsodium. Returns 0, or -1 (no random source). */
int auth_init(void);

/* Hash password into out (>= AUTH_HASH_SIZE bytes). Slow on purpose
 * (about 0.1 s and 64 MiB). Returns 0, or -1 (out of memory). */
int auth_hash(const char *password, char *out, size_t size);

/* Whether password is the one hash was made from. Returns 0 when it is,
 * -1 when not (or hash is no Argon2id string). As slow as auth_hash. */
int auth_verify(const char *hash, const char *password);

/* A fresh random token (session ids, CSRF tokens) into out (>=
 * AUTH_TOKEN_SIZE bytes). */
void auth_token(char *out, size_t size);

/* Whether a and b are the same string, in a time that does not depend on
 * where they differ (for tokens a client sends). */
bool auth_same(const char *a, const char *b);

/* The role's word ("technician", "manager", "enterprise"; the database's
 * users.role); auth_role_parse reads one back: 0, or -1 none. */
const char *auth_role_name(enum auth_role r);
int auth_role_parse(const char *word, enum auth_role *r);

/* Whether name may be a user name (above). Returns 0, or -1 with the
 * reason in why. */
int auth_check_name(const char *name, char *why, size_t size);

/* Whether password may be one (its length, above). Returns 0, or -1 with
 * the reason in why. */
int auth_check_password(const char *password, char *why, size_t size);

#endif
