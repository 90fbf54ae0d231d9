/*
 * test_auth.c - gateway/auth/auth.c: a password checks against its own
 * hash only, hashes are salted, tokens are random and of one shape, and
 * the words of roles and user names are read as docs/WEB.md says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"

static int setup(void **state)
{
	(void)state;
	return auth_init();
}

static void test_hash_verify(void **state)
{
	char h1[AUTH_HASH_SIZE], h2[AUTH_HASH_SIZE];

	(void)state;
	assert_int_equal(auth_hash("correct horse", h1, sizeof(h1)), 0);
	assert_int_equal(strncmp(h1, "$argon2id$v=19$m=65536,t=2,p=1$", 31), 0);
	assert_int_equal(auth_verify(h1, "correct horse"), 0);
	assert_int_equal(auth_verify(h1, "correct horsE"), -1);
	assert_int_equal(auth_verify(h1, ""), -1);
	/* salted: the same password hashes differently each time */
	assert_int_equal(auth_hash("correct horse", h2, sizeof(h2)), 0);
	assert_string_not_equal(h1, h2);
	assert_int_equal(auth_verify(h2, "correct horse"), 0);
	/* anything but an Argon2id string never checks */
	assert_int_equal(auth_verify("", ""), -1);
	assert_int_equal(auth_verify("$argon2i$v=19$m=4096,t=3,p=1$x$y", "x"),
	                 -1);
	/* a buffer too small is refused */
	assert_int_equal(auth_hash("correct horse", h1, 64), -1);
}

static void test_tokens(void **state)
{
	char a[AUTH_TOKEN_SIZE], b[AUTH_TOKEN_SIZE], small[8] = "x";

	(void)state;
	auth_token(a, sizeof(a));
	auth_token(b, sizeof(b));
	assert_int_equal(strlen(a), AUTH_TOKEN_SIZE - 1);
	assert_int_equal(strspn(a, "0123456789abcdef"), AUTH_TOKEN_SIZE - 1);
	assert_string_not_equal(a, b);
	assert_true(auth_same(a, a));
	assert_false(auth_same(a, b));
	assert_false(auth_same(a, ""));
	assert_true(auth_same("", ""));
	auth_token(small, sizeof(small));
	assert_string_equal(small, "");
}

static void test_words(void **state)
{
	enum auth_role r;
	char why[128];

	(void)state;
	for (int i = 0; i < AUTH_ROLES; i++) {
		assert_int_equal(auth_role_parse(auth_role_name(i), &r), 0);
		assert_int_equal(r, i);
	}
	assert_string_equal(auth_role_name(AUTH_ENTERPRISE), "enterprise");
	assert_int_equal(auth_role_parse("admin", &r), -1);
	assert_int_equal(auth_role_parse("Manager", &r), -1);

	assert_int_equal(auth_check_name("an.nguyen@lab-1_x", why, sizeof(why)),
	                 0);
	assert_int_equal(auth_check_name("", why, sizeof(why)), -1);
	assert_int_equal(auth_check_name(".hidden", why, sizeof(why)), -1);
	assert_int_equal(auth_check_name("a b", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not ' ' at 2"));
	assert_int_equal(auth_check_name("<script>", why, sizeof(why)), -1);
	assert_int_equal(auth_check_name("Nguy\xe1\xbb\x85n", why, sizeof(why)),
	                 -1);
	char longest[AUTH_NAME_MAX + 2];
	memset(longest, 'a', AUTH_NAME_MAX);
	longest[AUTH_NAME_MAX] = '\0';
	assert_int_equal(auth_check_name(longest, why, sizeof(why)), 0);
	longest[AUTH_NAME_MAX] = 'a';
	longest[AUTH_NAME_MAX + 1] = '\0';
	assert_int_equal(auth_check_name(longest, why, sizeof(why)), -1);

	assert_int_equal(auth_check_password("12345678", why, sizeof(why)), 0);
	assert_int_equal(auth_check_password("1234567", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "this one 7"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_hash_verify),
	        cmocka_unit_test(test_tokens),
	        cmocka_unit_test(test_words),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
