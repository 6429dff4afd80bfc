/* test_api_redact: the dashboard view's masking (numbers, OTP digits, URL queries) and its no-op otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "api/api_private.h"

static const char *field(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void test_masks_when_redacting(void **state)
{
	(void)state;
	struct api_req r = { .redact = true };
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "to", "+447700900123", "from", "BANK", "text",
			      "Your code is 123-456", "url", "https://h.example/hook?token=s3cret#x", "plain",
			      "https://h.example/hook", "n", 5);
	api_redact_number(&r, o, "to");
	api_redact_number(&r, o, "from");       /* an alphanumeric sender has no digits to hide */
	api_redact_digits(&r, o, "text");
	api_redact_url(&r, o, "url");
	api_redact_url(&r, o, "plain");
	api_redact_number(&r, o, "n");          /* not a string: left alone */
	api_redact_number(&r, o, "missing");
	json_object_set_new(o, "error", json_string("HTTP 400: The 'To' number +447700900123 is not valid"));
	api_redact_text(&r, o, "error");
	assert_string_equal(field(o, "error"), "HTTP 400: The 'To' number +44770090**** is not valid");
	assert_string_equal(field(o, "to"), "+44770090****");
	assert_string_equal(field(o, "from"), "BANK");
	assert_string_equal(field(o, "text"), "Your code is ***-***");
	assert_string_equal(field(o, "url"), "https://h.example/hook?…");
	assert_string_equal(field(o, "plain"), "https://h.example/hook");
	assert_int_equal(json_integer_value(json_object_get(o, "n")), 5);
	assert_null(json_object_get(o, "missing"));
	json_decref(o);
}

static void test_no_op_otherwise(void **state)
{
	(void)state;
	struct api_req r = { .redact = false };
	json_t *o = json_pack("{s:s, s:s, s:s}", "to", "+447700900123", "text", "code 1234", "url", "http://x/?a=1");
	api_redact_number(&r, o, "to");
	api_redact_digits(&r, o, "text");
	api_redact_url(&r, o, "url");
	api_redact_text(&r, o, "to");
	assert_string_equal(field(o, "to"), "+447700900123");
	assert_string_equal(field(o, "text"), "code 1234");
	assert_string_equal(field(o, "url"), "http://x/?a=1");
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_masks_when_redacting),
		cmocka_unit_test(test_no_op_otherwise),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
