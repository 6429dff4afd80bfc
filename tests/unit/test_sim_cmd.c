/* test_sim_cmd: gsmsim's control grammar pieces that need no event loop - the word splitter shared by
 * the ctl socket and --script, the fault settings table, the PRNG, and the dialect table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/gsmsim/sim_cmd.h"
#include "../../src/gsmsim/sim_dialect.h"
#include "../../src/gsmsim/sim_fault.h"
#include "simroute/log.h"

static void test_split(void **state)
{
	static const struct { const char *in; int n; const char *words[5]; } cases[] = {
		{ "list", 1, { "list" } },
		{ "  sms 0 +4670 \"hello world\"  ", 4, { "sms", "0", "+4670", "hello world" } },
		{ "sms 0 BANK \"say \\\"hi\\\" \\\\o/\"", 4, { "sms", "0", "BANK", "say \"hi\" \\o/" } },
		{ "set all a=\"x y\"b", 3, { "set", "all", "a=x yb" } },
		{ "unplug 1 # later", 2, { "unplug", "1" } },
		{ "\"\"", 1, { "" } },
		{ "", 0, { NULL } },
		{ "# only a comment", 0, { NULL } },
		{ "sms 0 x \"open", -1, { NULL } },
	};
	char buf[256], *argv[8];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		int n = sim_cmd_split(buf, argv, 8);
		if (n != cases[i].n)
			fail_msg("'%s': %d words, want %d", cases[i].in, n, cases[i].n);
		for (int k = 0; k < n; k++)
			assert_string_equal(argv[k], cases[i].words[k]);
	}
	snprintf(buf, sizeof(buf), "a b c d");
	assert_int_equal(sim_cmd_split(buf, argv, 3), -1);     /* too many words */
}

static void test_fault_settings(void **state)
{
	struct sim_faults f;
	char err[256];

	sim_fault_defaults(&f, 0);
	assert_true(f.report_delay < 0);                        /* no status reports unless asked */
	assert_int_equal(sim_fault_set(&f, "cms_p", "0.25", err, sizeof(err)), 0);
	assert_true(f.cms_p == 0.25);
	assert_int_equal(sim_fault_set(&f, "cms_p", "1.5", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cms_p"));
	assert_int_equal(sim_fault_set(&f, "cms_codes", "38,42,500", err, sizeof(err)), 0);
	assert_int_equal(f.n_cms_codes, 3);
	assert_int_equal(f.cms_codes[2], 500);
	assert_int_equal(sim_fault_set(&f, "cms_codes", "38,x", err, sizeof(err)), -1);
	assert_int_equal(f.n_cms_codes, 3);                     /* a bad value changes nothing */
	assert_int_equal(sim_fault_set(&f, "report_status", "64", err, sizeof(err)), 0);
	assert_int_equal(sim_fault_set(&f, "report_status", "6.5", err, sizeof(err)), -1);
	assert_int_equal(sim_fault_set(&f, "nosuch", "1", err, sizeof(err)), -1);
	assert_int_equal(sim_fault_set(&f, "latency", "-1", err, sizeof(err)), -1);
	assert_int_equal(sim_fault_arm(&f, "cms", "69", err, sizeof(err)), 0);
	assert_int_equal(f.next_cms, 69);
	assert_int_equal(sim_fault_arm(&f, "cms", NULL, err, sizeof(err)), -1);
	assert_int_equal(sim_fault_arm(&f, "hang", NULL, err, sizeof(err)), 0);
	assert_int_equal(f.next_hang, 1);
	assert_int_equal(sim_fault_arm(&f, "explode", NULL, err, sizeof(err)), -1);
	json_t *j = sim_fault_json(&f);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "armed"), "cms")), 69);
	json_decref(j);
}

static void test_rng(void **state)
{
	uint64_t a = sim_fault_seed(1, 0), b = sim_fault_seed(1, 0), c = sim_fault_seed(1, 1);
	int hits = 0;

	assert_true(a == b && a != c);
	for (int i = 0; i < 10000; i++) {
		double u = sim_fault_uniform(&a);
		assert_true(u >= 0 && u < 1);
		hits += sim_fault_roll(&c, 0.3);
	}
	assert_true(hits > 2500 && hits < 3500);
	assert_false(sim_fault_roll(&c, 0));
	assert_true(sim_fault_roll(&c, 1));
}

static void test_dialect_table(void **state)
{
	const struct sim_dialect *d;
	struct sim_identity id;

	for (size_t i = 0; (d = sim_dialect_at(i)); i++) {
		assert_ptr_equal(sim_dialect_find(d->name), d);
		assert_non_null(strstr(sim_dialect_names(), d->name));
		assert_non_null(d->manufacturer);
		assert_non_null(d->ccid_prefix);
		assert_non_null(d->boot_urcs);
		assert_true(d->cpms_total >= 1 && d->cpms_total <= 255);
		/* a dialect that chatters must say what */
		assert_true(d->chatter_s == 0 || d->chatter);
		sim_dialect_identity(d, 3, 0, &id);
		assert_int_equal(strlen(id.imei), 15);
		char body[16];
		snprintf(body, sizeof(body), "%.14s", id.imei);
		assert_int_equal(id.imei[14], sim_dialect_luhn(body));
	}
	assert_null(sim_dialect_find("nokia"));
	/* USB modems re-enumerate on reset; SIM800 (UART) does not */
	assert_false(sim_dialect_find("sim800")->reset_reenumerates);
	assert_true(sim_dialect_find("quectel")->reset_reenumerates);
	assert_true(sim_dialect_find("huawei")->reset_reenumerates);
	/* ISO/IEC 7812-1 example: 7992739871 -> 3 */
	assert_int_equal(sim_dialect_luhn("7992739871"), '3');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_fault_settings),
		cmocka_unit_test(test_rng),
		cmocka_unit_test(test_dialect_table),
	};

	log_init("test_sim_cmd", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
