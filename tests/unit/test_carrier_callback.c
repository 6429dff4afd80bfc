/* test_carrier_callback: reading carrier delivery callbacks — form decoding, Twilio's request
 * signature (the vector of Twilio's security docs), status words, and the generic callback's
 * signature (the webhook scheme). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "api/api_private.h"
#include "carrier/carrier_callback.h"

static void test_form(void **state)
{
	(void)state;
	struct carrier_callback_form f;
	const char *body = "MessageSid=SM123&MessageStatus=delivered&Body=hello+world%21%20%C3%A9&Empty=&Flag&&To=%2B1";
	assert_int_equal(carrier_callback_form_parse(body, strlen(body), &f), 0);
	assert_int_equal(f.n, 6);
	assert_string_equal(carrier_callback_form_get(&f, "MessageSid"), "SM123");
	assert_string_equal(carrier_callback_form_get(&f, "Body"), "hello world! \xc3\xa9");
	assert_string_equal(carrier_callback_form_get(&f, "Empty"), "");
	assert_string_equal(carrier_callback_form_get(&f, "Flag"), "");
	assert_string_equal(carrier_callback_form_get(&f, "To"), "+1");
	assert_null(carrier_callback_form_get(&f, "messagesid"));   /* names are case-sensitive */
	carrier_callback_form_clear(&f);
	/* bad escapes and an encoded NUL are refused */
	static const char *const bad[] = { "a=%", "a=%4", "a=%zz", "a=%00", "%G1=x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(carrier_callback_form_parse(bad[i], strlen(bad[i]), &f), -1);
	assert_int_equal(carrier_callback_form_parse("", 0, &f), 0);
	assert_int_equal(f.n, 0);
	carrier_callback_form_clear(&f);
	/* a form of more fields than any status callback has is refused, not sorted and hashed */
	char many[4 * (CARRIER_CALLBACK_MAX_PAIRS + 1) + 1] = "";
	for (int i = 0; i < CARRIER_CALLBACK_MAX_PAIRS; i++)
		strcat(many, "a=1&");
	assert_int_equal(carrier_callback_form_parse(many, strlen(many), &f), 0);
	assert_int_equal(f.n, CARRIER_CALLBACK_MAX_PAIRS);
	carrier_callback_form_clear(&f);
	strcat(many, "b=2");
	assert_int_equal(carrier_callback_form_parse(many, strlen(many), &f), -1);
}

/* Twilio's docs (www.twilio.com/docs/usage/security, "Validating Requests"): auth token 12345, this
 * URL and these POST parameters give 0/KCTR6DLpKmkAf8muzZqo1nDgQ=. Parameters come in any order. */
static void test_twilio_signature_vector(void **state)
{
	(void)state;
	const char *body = "To=%2B18005551212&Digits=1234&From=%2B12349013030&Caller=%2B12349013030"
			   "&CallSid=CA1234567890ABCDE";
	struct carrier_callback_form f;
	char sig[CARRIER_TWILIO_SIG_MAX];
	assert_int_equal(carrier_callback_form_parse(body, strlen(body), &f), 0);
	assert_int_equal(carrier_callback_twilio_sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &f, sig), 0);
	assert_string_equal(sig, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
	assert_true(carrier_callback_sig_equal("0/KCTR6DLpKmkAf8muzZqo1nDgQ=", sig));
	assert_false(carrier_callback_sig_equal("0/KCTR6DLpKmkAf8muzZqo1nDgQ", sig));
	assert_false(carrier_callback_sig_equal("1/KCTR6DLpKmkAf8muzZqo1nDgQ=", sig));
	assert_false(carrier_callback_sig_equal(NULL, sig));
	/* another URL (a proxy's rewrite) or another token does not match */
	assert_int_equal(carrier_callback_twilio_sign("12345", "http://mycompany.com/myapp.php?foo=1&bar=2", &f, sig), 0);
	assert_false(carrier_callback_sig_equal("0/KCTR6DLpKmkAf8muzZqo1nDgQ=", sig));
	assert_int_equal(carrier_callback_twilio_sign("12346", "https://mycompany.com/myapp.php?foo=1&bar=2", &f, sig), 0);
	assert_false(carrier_callback_sig_equal("0/KCTR6DLpKmkAf8muzZqo1nDgQ=", sig));
	carrier_callback_form_clear(&f);
}

/* A status callback as Twilio sends it; the expected value computed independently:
 * python3 -c 'import hmac,hashlib,base64; print(base64.b64encode(hmac.new(b"tok",
 *   b"http://127.0.0.1:8080/v1/carrier/tw/statusErrorCode30003MessageSidSM1MessageStatusundelivered",
 *   hashlib.sha1).digest()).decode())' */
static void test_twilio_status_callback(void **state)
{
	(void)state;
	const char *body = "MessageStatus=undelivered&MessageSid=SM1&ErrorCode=30003";
	struct carrier_callback_form f;
	char sig[CARRIER_TWILIO_SIG_MAX];
	assert_int_equal(carrier_callback_form_parse(body, strlen(body), &f), 0);
	assert_int_equal(carrier_callback_twilio_sign("tok", "http://127.0.0.1:8080/v1/carrier/tw/status", &f, sig), 0);
	assert_string_equal(sig, "LOiQNvkJCSuaeXE0YvOSj8ovK7A=");
	carrier_callback_form_clear(&f);
}

static void test_status_words(void **state)
{
	(void)state;
	static const struct { const char *w; enum carrier_callback_dlr d; } t[] = {
		{ "queued", CARRIER_CALLBACK_PENDING }, { "accepted", CARRIER_CALLBACK_PENDING }, { "sending", CARRIER_CALLBACK_PENDING },
		{ "sent", CARRIER_CALLBACK_PENDING }, { "delivered", CARRIER_CALLBACK_DELIVERED }, { "read", CARRIER_CALLBACK_DELIVERED },
		{ "undelivered", CARRIER_CALLBACK_UNDELIVERED }, { "failed", CARRIER_CALLBACK_UNDELIVERED },
		{ "Delivered", CARRIER_CALLBACK_UNKNOWN }, { "", CARRIER_CALLBACK_UNKNOWN }, { NULL, CARRIER_CALLBACK_UNKNOWN },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(carrier_callback_status(t[i].w), t[i].d);
}

/* The generic callback: "sha256=" hex(HMAC-SHA256(secret, timestamp "." body)); expected value from
 * python3 -c 'import hmac,hashlib; print(hmac.new(b"s3cret", b"1700000000.{\"id\":\"c-1\",\"status\":\"delivered\"}",
 *   hashlib.sha256).hexdigest())' */
static void test_http_signature(void **state)
{
	(void)state;
	const char *body = "{\"id\":\"c-1\",\"status\":\"delivered\"}";
	const char *header = "sha256=3f34f18b473cebd821014074d0daf9ce2694a15fbb2f4cb68bdd76ce5de76504";
	long long now = 1700000000;
	assert_int_equal(api_carrier_http_verify("s3cret", "1700000000", header, body, strlen(body), now), 0);
	assert_int_equal(api_carrier_http_verify("s3cret", "1700000000", header, body, strlen(body), now + 300), 0);
	/* stale or future timestamps, another secret, a changed body, missing headers */
	assert_int_equal(api_carrier_http_verify("s3cret", "1700000000", header, body, strlen(body), now + 301), -1);
	assert_int_equal(api_carrier_http_verify("s3cret", "1700000000", header, body, strlen(body), now - 301), -1);
	assert_int_equal(api_carrier_http_verify("other", "1700000000", header, body, strlen(body), now), -1);
	assert_int_equal(api_carrier_http_verify("s3cret", "1700000000", header, body, strlen(body) - 1, now), -1);
	assert_int_equal(api_carrier_http_verify("s3cret", "1700000001", header, body, strlen(body), now), -1);
	assert_int_equal(api_carrier_http_verify("s3cret", "17e8", header, body, strlen(body), now), -1);
	assert_int_equal(api_carrier_http_verify("s3cret", NULL, header, body, strlen(body), now), -1);
	assert_int_equal(api_carrier_http_verify("s3cret", "1700000000", NULL, body, strlen(body), now), -1);
	assert_int_equal(api_carrier_http_verify("", "1700000000", header, body, strlen(body), now), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_form),
		cmocka_unit_test(test_twilio_signature_vector),
		cmocka_unit_test(test_twilio_status_callback),
		cmocka_unit_test(test_status_words),
		cmocka_unit_test(test_http_signature),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
