/* test_apikey: key encoding (base64url vectors from Python's base64 module, not from our own code),
 * generation, the config-format hash (SHA-256 of "test" is the tests' well-known key hash), and the
 * checks on names and scopes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/apikey.h"
#include "config.h"
#include "simroute/log.h"

/* python3 -c "import base64; print(base64.urlsafe_b64encode(bytes(range(32))).decode().rstrip('='))" */
static void test_encode_vectors(void **state)
{
	unsigned char raw[APIKEY_RAW];
	char key[APIKEY_MAX], id[APIKEY_ID_MAX];

	(void)state;
	for (int i = 0; i < APIKEY_RAW; i++)
		raw[i] = (unsigned char)i;
	apikey_encode(raw, key);
	assert_string_equal(key, "sk_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8");
	memset(raw, 0xff, sizeof(raw));
	apikey_encode(raw, key);
	assert_string_equal(key, "sk___________________________________________8");
	/* the two URL-safe letters: 0xfb 0xef 0xbe is "----" in base64url ("++++" in base64) */
	memset(raw, 0, sizeof(raw));
	raw[0] = 0xfb, raw[1] = 0xef, raw[2] = 0xbe;
	apikey_encode(raw, key);
	assert_string_equal(key, "sk_----AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	apikey_id_encode((const unsigned char[]){ 0x00, 0xab, 0x10, 0xff }, id);
	assert_string_equal(id, "k_00ab10ff");
}

static void test_generate(void **state)
{
	char k1[APIKEY_MAX], k2[APIKEY_MAX], id1[APIKEY_ID_MAX], id2[APIKEY_ID_MAX];

	(void)state;
	assert_int_equal(apikey_generate(k1, id1), 0);
	assert_int_equal(apikey_generate(k2, id2), 0);
	assert_int_equal(strlen(k1), 3 + 43);
	assert_int_equal(strncmp(k1, "sk_", 3), 0);
	assert_int_equal(strspn(k1 + 3, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
	assert_int_equal(strlen(id1), 10);
	assert_int_equal(strspn(id1 + 2, "0123456789abcdef"), 8);
	/* 256 random bits: two equal keys mean the generator is broken */
	assert_string_not_equal(k1, k2);
}

static void test_hash(void **state)
{
	char h[APIKEY_HASH_MAX];
	unsigned char d[32];

	(void)state;
	apikey_hash("test", h);
	assert_string_equal(h, "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
	assert_int_equal(apikey_hash_parse(h, d), 0);
	assert_int_equal(d[0], 0x9f);
	assert_int_equal(d[31], 0x08);
	assert_int_equal(apikey_hash_parse("sha256:9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08", d), 0);
	assert_int_equal(d[0], 0x9f);
	assert_int_equal(apikey_hash_parse("sha1:9f86", d), -1);
	assert_int_equal(apikey_hash_parse("sha256:9f86", d), -1);
	assert_int_equal(apikey_hash_parse("sha256:zz86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", d), -1);
}

static void test_names(void **state)
{
	char n64[66];

	(void)state;
	assert_true(apikey_valid_name("crm"));
	assert_true(apikey_valid_name("a"));
	assert_true(apikey_valid_name("CRM-prod_2.eu"));
	memset(n64, 'a', 64);
	n64[64] = '\0';
	assert_true(apikey_valid_name(n64));
	n64[64] = 'a', n64[65] = '\0';
	assert_false(apikey_valid_name(n64));
	assert_false(apikey_valid_name(""));
	assert_false(apikey_valid_name("has space"));
	assert_false(apikey_valid_name("key:x"));
	assert_false(apikey_valid_name("a/b"));
	assert_false(apikey_valid_name("caf\xc3\xa9"));
}

static void test_scopes(void **state)
{
	char out[APIKEY_SCOPES_MAX];
	unsigned s = 0;

	(void)state;
	assert_int_equal(apikey_scope_bit("send"), SCOPE_SEND);
	assert_int_equal(apikey_scope_bit("read"), SCOPE_READ);
	/* as the config reads it: admin implies send and read */
	assert_int_equal(apikey_scope_bit("admin"), SCOPE_ADMIN | SCOPE_SEND | SCOPE_READ);
	assert_int_equal(apikey_scope_bit("Admin"), 0);
	assert_int_equal(apikey_scope_bit(""), 0);
	assert_int_equal(apikey_scopes_parse("send, read", &s), 0);
	assert_int_equal(s, SCOPE_SEND | SCOPE_READ);
	assert_int_equal(apikey_scopes_parse("read,read", &s), 0);
	assert_int_equal(s, SCOPE_READ);
	assert_int_equal(apikey_scopes_parse("admin", &s), 0);
	assert_int_equal(s, SCOPE_SEND | SCOPE_READ | SCOPE_ADMIN);
	assert_int_equal(apikey_scopes_parse("send,write", &s), -1);
	assert_int_equal(apikey_scopes_parse("", &s), -1);
	assert_int_equal(apikey_scopes_parse(",", &s), -1);
	apikey_scopes_format(SCOPE_ADMIN | SCOPE_SEND | SCOPE_READ, out);
	assert_string_equal(out, "send,read,admin");
	apikey_scopes_format(SCOPE_READ, out);
	assert_string_equal(out, "read");
	assert_int_equal(apikey_scopes_parse(out, &s), 0);
	assert_int_equal(s, SCOPE_READ);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_vectors), cmocka_unit_test(test_generate), cmocka_unit_test(test_hash),
		cmocka_unit_test(test_names), cmocka_unit_test(test_scopes),
	};

	log_init("test_apikey", getenv("TEST_LOG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
