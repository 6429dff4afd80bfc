/* Unit tests for phone: E.164 validation (ITU-T E.164: up to 15 digits) and log masking. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "simroute/phone.h"

static void
test_e164_valid(void **state)
{
	(void)state;
	assert_int_equal(phone_e164_valid("+447700900123"), 1);
	assert_int_equal(phone_e164_valid("+1234567"), 1);            /* 7 digits */
	assert_int_equal(phone_e164_valid("+123456789012345"), 1);    /* 15 digits */
	assert_int_equal(phone_e164_valid("+123456"), 0);             /* 6 digits */
	assert_int_equal(phone_e164_valid("+1234567890123456"), 0);   /* 16 digits */
	assert_int_equal(phone_e164_valid("+0447700900123"), 0);      /* no country code 0 */
	assert_int_equal(phone_e164_valid("447700900123"), 0);
	assert_int_equal(phone_e164_valid("+44 7700 900123"), 0);
	assert_int_equal(phone_e164_valid("+44770090012a"), 0);
	assert_int_equal(phone_e164_valid("+"), 0);
	assert_int_equal(phone_e164_valid(""), 0);
	assert_int_equal(phone_e164_valid(NULL), 0);
}

static void
test_mask(void **state)
{
	char out[32];

	(void)state;
	phone_mask("+447700900123", out, sizeof(out));
	assert_string_equal(out, "+44770090****");
	phone_mask("07700900123", out, sizeof(out));
	assert_string_equal(out, "0770090****");
	phone_mask("123", out, sizeof(out));
	assert_string_equal(out, "***");
	phone_mask("", out, sizeof(out));
	assert_string_equal(out, "");
	phone_mask(NULL, out, sizeof(out));
	assert_string_equal(out, "");
	/* truncation keeps the buffer terminated and never shows the hidden digits */
	phone_mask("+447700900123", out, 6);
	assert_string_equal(out, "+4477");
	phone_mask("+447700900123", out, 1);
	assert_string_equal(out, "");
}

/* Text quoting numbers (a carrier's error answer, a modem line) as it may be logged above debug. */
static void
test_redact(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "HTTP 400: The 'To' number +15005550001 is not valid", "HTTP 400: The 'To' number +1500555**** is not valid" },
		{ "+CMT: \"07700900123\",,\"24/01/01\"", "+CMT: \"0770090****\",,\"24/01/01\"" },
		{ "a 1234567 and 123456", "a 123**** and 123456" },   /* 7 digits is a number, 6 is not */
		{ "no digits", "no digits" },
		{ "", "" },
	};
	char out[96];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(phone_redact(cases[i].in, out, sizeof(out)), cases[i].out);
	assert_string_equal(phone_redact(NULL, out, sizeof(out)), "");
	/* truncated: still terminated, and the cut is at the end, so the hidden digits never show */
	assert_string_equal(phone_redact("to +447700900123", out, 10), "to +44770");
	assert_string_equal(phone_redact("x", out, 1), "");
}

/* The dashboard's masking of free text: the same rule, in place. */
static void test_redact_in_place(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "The 'To' number +447700900123 is not valid", "The 'To' number +44770090**** is not valid" },
		{ "call 07700900123 or 0770 090 0123", "call 0770090**** or 0770 090 0123" },
		{ "CMS ERROR 500 at 13:45, code 123456", "CMS ERROR 500 at 13:45, code 123456" },
		{ "1234567", "123****" },
		{ "123456", "123456" },
		{ "a+33612345678b9999999", "a+3361234****b999****" },
		{ "", "" },
	};
	char buf[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strcpy(buf, cases[i].in);
		assert_string_equal(phone_redact(buf, buf, sizeof(buf)), cases[i].out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_e164_valid),
		cmocka_unit_test(test_mask),
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_redact_in_place),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
