/* test_carrier_template: the generic carrier's body template — placeholders, escaping, bad templates,
 * and finding the carrier's id in its answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "carrier/carrier_template.h"

static char *render(const char *tpl_text, const struct carrier_vars *v)
{
	char err[200] = "";
	json_t *tpl = carrier_template_parse(tpl_text, err, sizeof(err));
	if (!tpl)
		fail_msg("carrier_template_parse: %s", err);
	char *body = carrier_template_render(tpl, v);
	json_decref(tpl);
	assert_non_null(body);
	return body;
}

static void test_placeholders(void **state)
{
	(void)state;
	struct carrier_vars v = { .to = "+447700900123", .text = "hello", .id = "42", .from = "ACME",
				  .reference = "order-7", .callback_url = "https://gw.example/v1/carrier/x/status" };
	char *b = render("{\"to\": \"{{to}}\", \"text\": \"{{text}}\", \"ref\": \"{{id}}\", \"from\": \"{{from}}\","
			 " \"client_ref\": \"{{reference}}\", \"cb\": \"{{callback_url}}\", \"n\": 3, \"flash\": false,"
			 " \"opt\": null}", &v);
	assert_string_equal(b, "{\"to\":\"+447700900123\",\"text\":\"hello\",\"ref\":\"42\",\"from\":\"ACME\","
			       "\"client_ref\":\"order-7\",\"cb\":\"https://gw.example/v1/carrier/x/status\",\"n\":3,"
			       "\"flash\":false,\"opt\":null}");
	free(b);
}

static void test_values_cannot_break_out(void **state)
{
	(void)state;
	/* quotes, a backslash, a newline, a tab, a control character, é and an emoji (U+1F600) */
	const char *text = "say \"hi\" \\ then\nnew\tline \x01 caf\xc3\xa9 \xf0\x9f\x98\x80";
	struct carrier_vars v = { .to = "+1", .text = text, .id = "1" };
	char *b = render("{\"text\": \"{{text}}\", \"both\": \"[{{text}}|{{to}}]\"}", &v);
	json_error_t je;
	json_t *doc = json_loads(b, 0, &je);
	assert_non_null(doc);
	assert_int_equal(json_object_size(doc), 2);   /* nothing injected */
	assert_string_equal(json_string_value(json_object_get(doc, "text")), text);
	char want[256];
	snprintf(want, sizeof(want), "[%s|+1]", text);
	assert_string_equal(json_string_value(json_object_get(doc, "both")), want);
	assert_non_null(strstr(b, "\\\"hi\\\""));      /* escaped by the JSON writer */
	assert_non_null(strstr(b, "\\n"));
	assert_non_null(strstr(b, "\\u0001"));
	json_decref(doc);
	free(b);
	/* a value that looks like a placeholder is not expanded again */
	struct carrier_vars w = { .to = "+1", .text = "{{to}}", .id = "1" };
	b = render("[\"{{text}}\"]", &w);
	assert_string_equal(b, "[\"{{to}}\"]");
	free(b);
}

static void test_placeholders_in_keys_and_nesting(void **state)
{
	(void)state;
	struct carrier_vars v = { .to = "+447700900123", .text = "x\"y", .id = "9" };
	char *b = render("{\"messages\": [{\"destinations\": [{\"to\": \"{{to}}\"}], \"text\": \"{{text}}\"}],"
			 " \"meta_{{id}}\": {\"k\": \"v{{id}}\"}}", &v);
	assert_string_equal(b, "{\"messages\":[{\"destinations\":[{\"to\":\"+447700900123\"}],\"text\":\"x\\\"y\"}],"
			       "\"meta_9\":{\"k\":\"v9\"}}");
	free(b);
	/* a key built from a value is escaped like any string */
	struct carrier_vars q = { .to = "a\"b", .text = "t", .id = "1" };
	b = render("{\"{{to}}\": 1}", &q);
	assert_string_equal(b, "{\"a\\\"b\":1}");
	free(b);
	/* missing values are empty strings; a lone "{{" or "}}" stays as written */
	struct carrier_vars e = { .text = "t" };
	b = render("{\"r\": \"{{reference}}\", \"odd\": \"a }} b {{ c\"}", &e);
	assert_string_equal(b, "{\"r\":\"\",\"odd\":\"a }} b {{ c\"}");
	free(b);
}

static void test_invalid_templates(void **state)
{
	(void)state;
	static const struct { const char *tpl, *want; } bad[] = {
		{ "{\"to\": {{to}}}", "not JSON" },                  /* placeholder outside a string */
		{ "{\"to\": \"{{to}}\"", "not JSON" },               /* unclosed */
		{ "{\"a\": 1, \"a\": 2}", "not JSON" },              /* duplicate key */
		{ "\"{{text}}\"", "object or array" },
		{ "42", "object or array" },
		{ "{\"to\": \"{{phone}}\"}", "unknown placeholder" },
		{ "{\"{{ID}}\": 1}", "unknown placeholder" },        /* names are lower case */
		{ "", "not JSON" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[200] = "";
		json_t *t = carrier_template_parse(bad[i].tpl, err, sizeof(err));
		if (t)
			fail_msg("template %zu accepted: %s", i, bad[i].tpl);
		if (!strstr(err, bad[i].want))
			fail_msg("template %zu: error \"%s\" lacks \"%s\"", i, err, bad[i].want);
	}
}

static void test_expand(void **state)
{
	(void)state;
	struct carrier_vars v = { .to = "+1", .text = "T" };
	int unknown = 0;
	char *s = carrier_template_expand("{{to}}{{text}}{{nope}}{{", &v, &unknown);
	assert_string_equal(s, "+1T{{nope}}{{");
	assert_int_equal(unknown, 1);
	free(s);
}

static void test_response_id(void **state)
{
	(void)state;
	static const struct { const char *body, *path, *want; } t[] = {
		{ "{\"id\": \"a1\", \"sid\": \"s1\"}", NULL, "a1" },
		{ "{\"sid\": \"s1\", \"message_id\": \"m1\"}", NULL, "s1" },
		{ "{\"message_id\": 12345}", "", "12345" },
		{ "{\"other\": 1}", NULL, "" },
		{ "not json", NULL, "" },
		{ "{\"sid\": \"s1\", \"id\": \"a1\"}", "sid", "s1" },
		{ "{\"id\": \"a1\"}", "sid", "" },                       /* a named key, no fallback */
		{ "{\"data\": {\"messages\": [{\"uuid\": \"u-0\"}, {\"uuid\": \"u-1\"}]}}", "/data/messages/1/uuid", "u-1" },
		{ "{\"a/b\": {\"c~d\": \"x\"}}", "/a~1b/c~0d", "x" },      /* RFC 6901 escapes */
		{ "{\"data\": [1]}", "/data/7", "" },
		{ "{\"data\": [1]}", "/data/-", "" },
		{ "{\"id\": {\"nested\": 1}}", NULL, "" },                /* not a string or integer */
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char id[80] = "junk";
		carrier_template_response_id(t[i].body, strlen(t[i].body), t[i].path, id, sizeof(id));
		if (strcmp(id, t[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, id, t[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_placeholders),
		cmocka_unit_test(test_values_cannot_break_out),
		cmocka_unit_test(test_placeholders_in_keys_and_nesting),
		cmocka_unit_test(test_invalid_templates),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_response_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
