/*
 * auth.c - passwords, tokens and the words of accounts (auth.h): the one
 * file that includes <sodium.h>.
 *
 * Argon2id through crypto_pwhash_str_alg() with libsodium's interactive
 * limits: a login costs one hash, about 0.1 s of one core and 64 MiB,
 * which metrolog-web's rate limit bounds (docs/WEB.md).
 */
#include "auth.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

int auth_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

int auth_hash(const char *password, char *out, size_t size)
{
	char buf[crypto_pwhash_STRBYTES];

	if (size < sizeof(buf) ||
	    crypto_pwhash_str_alg(buf, password, strlen(password),
	                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                          crypto_pwhash_MEMLIMIT_INTERACTIVE,
	                          crypto_pwhash_ALG_ARGON2ID13) != 0)
		return -1;
	memcpy(out, buf, sizeof(buf));
	return 0;
}

int auth_verify(const char *hash, const char *password)
{
	if (strncmp(hash, "$argon2id$", 10) != 0)
		return -1;
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0
	               ? 0
	               : -1;
}

void auth_token(char *out, size_t size)
{
	unsigned char raw[32];

	if (size < AUTH_TOKEN_SIZE) {
		if (size > 0)
			out[0] = '\0';
		return;
	}
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(out, size, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
}

bool auth_same(const char *a, const char *b)
{
	size_t n = strlen(a);

	return n == strlen(b) && sodium_memcmp(a, b, n) == 0;
}

static const char *const role_names[AUTH_ROLES] = {"technician", "manager",
                                                   "enterprise"};

const char *auth_role_name(enum auth_role r)
{
	return (unsigned)r < AUTH_ROLES ? role_names[r] : "?";
}

int auth_role_parse(const char *word, enum auth_role *r)
{
	for (int i = 0; i < AUTH_ROLES; i++)
		if (strcmp(word, role_names[i]) == 0) {
			*r = (enum auth_role)i;
			return 0;
		}
	return -1;
}

static bool name_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return !first && (c == '.' || c == '_' || c == '@' || c == '-');
}

int auth_check_name(const char *name, char *why, size_t size)
{
	size_t n = strlen(name);

	if (n == 0 || n > AUTH_NAME_MAX) {
		snprintf(why, size, "a user name has 1 to %d characters",
		         AUTH_NAME_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!name_char(name[i], i == 0)) {
			snprintf(why, size,
			         "a user name is letters and digits, then "
			         "also . _ @ - (not '%c' at %zu)",
			         name[i] >= 0x20 && name[i] < 0x7f ? name[i]
			                                           : '?',
			         i + 1);
			return -1;
		}
	return 0;
}

int auth_check_password(const char *password, char *why, size_t size)
{
	size_t n = strlen(password);

	if (n < AUTH_PASSWORD_MIN || n > AUTH_PASSWORD_MAX) {
		snprintf(why, size,
		         "a password has %d to %d bytes (this one %zu)",
		         AUTH_PASSWORD_MIN, AUTH_PASSWORD_MAX, n);
		return -1;
	}
	return 0;
}
