/* test_optout: the inbound keyword match (pure), the in-memory set against the store (growth, removals,
 * reload at start-up) and the inbound handler (E.164 senders only, audit rows) on the mem backend. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "queue/optout.h"
#include "queue/store.h"
#include "simroute/log.h"

#define STOP "STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT"
#define START "START, UNSTOP, YES"

static void test_keyword_match(void **state)
{
	static const struct {
		const char *text;
		enum optout_keyword want;
	} cases[] = {
		{ "STOP", OPTOUT_KW_STOP },
		{ "stop", OPTOUT_KW_STOP },
		{ "  Stop\r\n", OPTOUT_KW_STOP },
		{ "\tunsubscribe ", OPTOUT_KW_STOP },
		{ "QUIT", OPTOUT_KW_STOP },
		{ "stopall", OPTOUT_KW_STOP },
		{ "Start", OPTOUT_KW_START },
		{ " yes ", OPTOUT_KW_START },
		{ "UNSTOP", OPTOUT_KW_START },
		{ "stop please", OPTOUT_KW_NONE },
		{ "STOP STOP", OPTOUT_KW_NONE },
		{ "STOPP", OPTOUT_KW_NONE },
		{ "STO", OPTOUT_KW_NONE },
		{ "", OPTOUT_KW_NONE },
		{ "   ", OPTOUT_KW_NONE },
		{ "S T O P", OPTOUT_KW_NONE },
		{ "yes!", OPTOUT_KW_NONE },
		{ ",", OPTOUT_KW_NONE },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum optout_keyword got = optout_keyword_match(cases[i].text, STOP, START);
		if (got != cases[i].want)
			fail_msg("\"%s\": got %d, want %d", cases[i].text, (int)got, (int)cases[i].want);
	}
	assert_int_equal(optout_keyword_match(NULL, STOP, START), OPTOUT_KW_NONE);
	/* empty or missing lists match nothing; odd spacing and empty items in a list are tolerated */
	assert_int_equal(optout_keyword_match("STOP", "", ""), OPTOUT_KW_NONE);
	assert_int_equal(optout_keyword_match("STOP", NULL, NULL), OPTOUT_KW_NONE);
	assert_int_equal(optout_keyword_match("halt", " ,, HALT ,", NULL), OPTOUT_KW_STOP);
	assert_int_equal(optout_keyword_match("", " ,, HALT ,", NULL), OPTOUT_KW_NONE);
	/* a word on both lists is a stop: the safer reading */
	assert_int_equal(optout_keyword_match("end", "END", "END"), OPTOUT_KW_STOP);
}

static void test_set_add_remove_reload(void **state)
{
	char err[128], num[32];
	struct store *st = store_open("mem", NULL, err, sizeof(err));
	struct optout *o;

	(void)state;
	assert_non_null(st);
	o = optout_new(st, STOP, START, err, sizeof(err));
	assert_non_null(o);
	assert_int_equal(optout_count(o), 0);
	assert_false(optout_contains(o, "+447700900001"));
	/* enough numbers to grow the table several times */
	for (int i = 0; i < 1000; i++) {
		snprintf(num, sizeof(num), "+4477009%05d", i);
		assert_int_equal(optout_add(o, num, "api", NULL, 1000 + i), 0);
	}
	assert_int_equal(optout_add(o, "+447700900005", "cli", "again", 5000), 1);
	assert_int_equal(optout_count(o), 1000);
	/* remove every other one, then churn: tombstones must not lose or invent members */
	for (int i = 0; i < 1000; i += 2) {
		snprintf(num, sizeof(num), "+4477009%05d", i);
		assert_int_equal(optout_remove(o, num), 0);
	}
	assert_int_equal(optout_remove(o, "+447700900000"), 1);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 200; i++) {
			snprintf(num, sizeof(num), "+4478009%05d", i);
			assert_int_equal(optout_add(o, num, "api", NULL, 9000), 0);
		}
		for (int i = 0; i < 200; i++) {
			snprintf(num, sizeof(num), "+4478009%05d", i);
			assert_int_equal(optout_remove(o, num), 0);
		}
	}
	assert_int_equal(optout_count(o), 500);
	for (int i = 0; i < 1000; i++) {
		snprintf(num, sizeof(num), "+4477009%05d", i);
		assert_int_equal(optout_contains(o, num), i % 2 == 1);
	}
	optout_free(o);
	/* a new set (a restart) is loaded from the store */
	o = optout_new(st, STOP, START, err, sizeof(err));
	assert_non_null(o);
	assert_int_equal(optout_count(o), 500);
	assert_true(optout_contains(o, "+447700900001"));
	assert_false(optout_contains(o, "+447700900002"));
	assert_false(optout_contains(o, NULL));
	optout_free(o);
	store_close(st);
}

static int64_t inbound(struct store *st, const char *from, const char *text)
{
	struct store_inbound_part p = { .route = "m0", .from = from, .text = text, .encoding = "gsm7", .scts = "",
					.ref = 0, .total = 1, .seq = 1, .received_ms = 1000 };
	int64_t id = 0;
	assert_int_equal(store_inbound_add(st, &p, &id), 0);
	assert_true(id > 0);
	return id;
}

struct audit_seen {
	char text[512];
};

static int audit_cb(void *arg, const struct store_audit *a)
{
	struct audit_seen *s = arg;
	size_t len = strlen(s->text);
	snprintf(s->text + len, sizeof(s->text) - len, "%s %s %s|", a->actor, a->action, a->target);
	return 0;
}

static void test_inbound_keywords(void **state)
{
	char err[128], stop[64] = "STOP, END", start[64] = "START";
	struct store *st = store_open("mem", NULL, err, sizeof(err));
	struct optout *o;
	struct audit_seen seen = { 0 };

	(void)state;
	assert_non_null(st);
	o = optout_new(st, stop, start, err, sizeof(err));
	assert_non_null(o);
	optout_inbound(o, inbound(st, "+46701234567", " stop\n"), "+46701234567", 2000);
	assert_true(optout_contains(o, "+46701234567"));
	assert_int_equal(store_optout_check(st, "+46701234567"), 1);
	/* again: already listed, no second audit row */
	optout_inbound(o, inbound(st, "+46701234567", "STOP"), "+46701234567", 2100);
	/* an alphanumeric or national sender is not a number we can send to: ignored */
	optout_inbound(o, inbound(st, "BANK", "STOP"), "BANK", 2200);
	optout_inbound(o, inbound(st, "0701234567", "STOP"), "0701234567", 2300);
	assert_int_equal(optout_count(o), 1);
	/* other text changes nothing */
	optout_inbound(o, inbound(st, "+46701234567", "start the engine"), "+46701234567", 2400);
	assert_true(optout_contains(o, "+46701234567"));
	/* the lists are read in place: a reload that changes them applies at once */
	snprintf(start, sizeof(start), "GO");
	optout_inbound(o, inbound(st, "+46701234567", "START"), "+46701234567", 2500);
	assert_true(optout_contains(o, "+46701234567"));
	optout_inbound(o, inbound(st, "+46701234567", "go"), "+46701234567", 2600);
	assert_false(optout_contains(o, "+46701234567"));
	assert_int_equal(store_optout_check(st, "+46701234567"), 0);

	struct store_audit_filter f = { .limit = 10 };
	assert_int_equal(store_audit_list(st, &f, audit_cb, &seen), 2);
	assert_string_equal(seen.text, "inbound optout.remove +46701234567|inbound optout.add +46701234567|");
	optout_free(o);
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyword_match),
		cmocka_unit_test(test_set_add_remove_reload),
		cmocka_unit_test(test_inbound_keywords),
	};

	log_init("test_optout", getenv("TEST_LOG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
