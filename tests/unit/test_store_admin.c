/* test_store_admin: the audit log (add, newest-first listing, since, paging, bad rows) and the opt-out
 * list (idempotent add, remove, check, listing, persistence across a reopen) on both store backends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <unistd.h>

#include "queue/store.h"
#include "store_fixture.h"
#include "simroute/log.h"

/* What a listing saw, flattened: "id actor action target detail|" per audit row. */
struct seen {
	char text[1024];
	int64_t last_id;
	int stop_after;   /* 0: never stop */
	int n;
};

static int audit_cb(void *arg, const struct store_audit *a)
{
	struct seen *s = arg;
	size_t len = strlen(s->text);

	snprintf(s->text + len, sizeof(s->text) - len, "%lld %lld %s %s %s %s|", (long long)a->id, (long long)a->at_ms,
		 a->actor, a->action, a->target, a->detail);
	s->last_id = a->id;
	return ++s->n == s->stop_after;
}

static void add_audit(struct store *st, int64_t at, const char *actor, const char *action, const char *target,
		      const char *detail)
{
	struct store_audit_new a = { .at_ms = at, .actor = actor, .action = action, .target = target, .detail = detail };
	assert_int_equal(store_audit_add(st, &a), 0);
}

static void test_audit_add_list(void **state)
{
	struct fx *f = *state;
	struct seen s = { 0 };

	add_audit(f->st, 1000, "key:ops", "modem.disable", "m1", "state ready");
	add_audit(f->st, 2000, "uid:1000", "message.cancel", "42", NULL);
	add_audit(f->st, 3000, "signal", "config.reload", NULL, "2 change(s) applied");

	struct store_audit_filter fl = { .limit = 10 };
	assert_int_equal(store_audit_list(f->st, &fl, audit_cb, &s), 3);
	assert_string_equal(s.text, "3 3000 signal config.reload  2 change(s) applied|"
				    "2 2000 uid:1000 message.cancel 42 |"
				    "1 1000 key:ops modem.disable m1 state ready|");

	/* since: at_ms >= since_ms */
	memset(&s, 0, sizeof(s));
	fl.since_ms = 2000;
	assert_int_equal(store_audit_list(f->st, &fl, audit_cb, &s), 2);
	assert_int_equal(s.last_id, 2);

	/* paging: the cursor is the last id seen */
	memset(&s, 0, sizeof(s));
	fl = (struct store_audit_filter){ .limit = 2 };
	assert_int_equal(store_audit_list(f->st, &fl, audit_cb, &s), 2);
	assert_int_equal(s.last_id, 2);
	memset(&s, 0, sizeof(s));
	fl.before_id = 2;
	assert_int_equal(store_audit_list(f->st, &fl, audit_cb, &s), 1);
	assert_string_equal(s.text, "1 1000 key:ops modem.disable m1 state ready|");

	/* a callback that stops the walk */
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	fl = (struct store_audit_filter){ .limit = 10 };
	assert_int_equal(store_audit_list(f->st, &fl, audit_cb, &s), 1);
	assert_int_equal(s.last_id, 3);
}

static void test_audit_bad_rows(void **state)
{
	struct fx *f = *state;
	char big[STORE_DETAIL_MAX + 1];
	struct seen s = { 0 };

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	struct store_audit_new bad[] = {
		{ .at_ms = 1, .actor = NULL, .action = "a" },
		{ .at_ms = 1, .actor = "", .action = "a" },
		{ .at_ms = 1, .actor = "x", .action = NULL },
		{ .at_ms = 0, .actor = "x", .action = "a" },
		{ .at_ms = 1, .actor = "x", .action = "a", .detail = big },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(store_audit_add(f->st, &bad[i]), -1);
	assert_int_equal(store_audit_add(f->st, NULL), -1);
	struct store_audit_filter fl = { .limit = 10 };
	assert_int_equal(store_audit_list(f->st, &fl, audit_cb, &s), 0);
	fl.limit = 0;
	assert_int_equal(store_audit_list(f->st, &fl, audit_cb, &s), -1);
	/* the largest detail that fits is kept whole */
	big[STORE_DETAIL_MAX - 1] = '\0';
	add_audit(f->st, 5, "x", "a", "", big);
}

static int optout_cb(void *arg, const struct store_optout *o)
{
	struct seen *s = arg;
	size_t len = strlen(s->text);

	snprintf(s->text + len, sizeof(s->text) - len, "%s %s %lld %s|", o->number, o->source, (long long)o->created_ms,
		 o->note);
	s->last_id = o->id;
	return ++s->n == s->stop_after;
}

static void test_optout_add_remove_check(void **state)
{
	struct fx *f = *state;
	struct seen s = { 0 };
	struct store_optout a = { .number = "+447700900001", .source = "inbound", .note = "STOP", .created_ms = 100 };
	struct store_optout b = { .number = "+447700900002", .source = "api", .note = NULL, .created_ms = 200 };

	assert_int_equal(store_optout_check(f->st, a.number), 0);
	assert_int_equal(store_optout_add(f->st, &a), 0);
	assert_int_equal(store_optout_add(f->st, &b), 0);
	assert_int_equal(store_optout_check(f->st, a.number), 1);
	assert_int_equal(store_optout_check(f->st, "+447700900003"), 0);

	/* idempotent: the first row stays as it was */
	struct store_optout again = { .number = a.number, .source = "cli", .note = "again", .created_ms = 300 };
	assert_int_equal(store_optout_add(f->st, &again), 1);
	struct store_optout_filter fl = { .limit = 10 };
	assert_int_equal(store_optout_list(f->st, &fl, optout_cb, &s), 2);
	assert_string_equal(s.text, "+447700900002 api 200 |+447700900001 inbound 100 STOP|");

	assert_int_equal(store_optout_remove(f->st, a.number), 0);
	assert_int_equal(store_optout_remove(f->st, a.number), 1);
	assert_int_equal(store_optout_check(f->st, a.number), 0);
	/* added again after its removal: now the newest */
	assert_int_equal(store_optout_add(f->st, &again), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_optout_list(f->st, &fl, optout_cb, &s), 2);
	assert_string_equal(s.text, "+447700900001 cli 300 again|+447700900002 api 200 |");
}

static void test_optout_paging(void **state)
{
	struct fx *f = *state;
	char num[STORE_TO_MAX];
	struct seen s = { 0 };

	for (int i = 1; i <= 5; i++) {
		snprintf(num, sizeof(num), "+44770090000%d", i);
		struct store_optout o = { .number = num, .source = "api", .created_ms = i * 10 };
		assert_int_equal(store_optout_add(f->st, &o), 0);
	}
	struct store_optout_filter fl = { .limit = 2 };
	assert_int_equal(store_optout_list(f->st, &fl, optout_cb, &s), 2);
	assert_string_equal(s.text, "+447700900005 api 50 |+447700900004 api 40 |");
	memset(&s, 0, sizeof(s));
	fl.before_id = 4;   /* the cursor: the id of +447700900004 */
	assert_int_equal(store_optout_list(f->st, &fl, optout_cb, &s), 2);
	assert_string_equal(s.text, "+447700900003 api 30 |+447700900002 api 20 |");
	memset(&s, 0, sizeof(s));
	fl = (struct store_optout_filter){ .since_ms = 40, .limit = 10 };
	assert_int_equal(store_optout_list(f->st, &fl, optout_cb, &s), 2);
}

static void test_optout_bad_arguments(void **state)
{
	struct fx *f = *state;
	char long_number[STORE_TO_MAX + 4];
	struct seen s = { 0 };

	memset(long_number, '1', sizeof(long_number) - 1);
	long_number[0] = '+';
	long_number[sizeof(long_number) - 1] = '\0';
	struct store_optout bad[] = {
		{ .number = NULL, .source = "api", .created_ms = 1 },
		{ .number = "", .source = "api", .created_ms = 1 },
		{ .number = long_number, .source = "api", .created_ms = 1 },
		{ .number = "+447700900001", .source = NULL, .created_ms = 1 },
		{ .number = "+447700900001", .source = "api", .created_ms = 0 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(store_optout_add(f->st, &bad[i]), -1);
	assert_int_equal(store_optout_remove(f->st, ""), -1);
	assert_int_equal(store_optout_check(f->st, long_number), 0);
	struct store_optout_filter fl = { .limit = 0 };
	assert_int_equal(store_optout_list(f->st, &fl, optout_cb, &s), -1);
}

/* The sqlite list survives a restart (migration 7 applied once, rows kept). */
static void test_sqlite_reopen(void **state)
{
	struct fx *f = *state;
	char err[256];
	struct seen s = { 0 };
	struct store_optout o = { .number = "+447700900009", .source = "inbound", .note = "STOP", .created_ms = 5 };

	assert_int_equal(store_optout_add(f->st, &o), 0);
	add_audit(f->st, 7, "inbound", "optout.add", o.number, "keyword STOP");
	store_close(f->st);
	f->st = store_open("sqlite", f->path, err, sizeof(err));
	assert_non_null(f->st);
	assert_int_equal(store_optout_check(f->st, o.number), 1);
	struct store_audit_filter fl = { .limit = 10 };
	assert_int_equal(store_audit_list(f->st, &fl, audit_cb, &s), 1);
	assert_string_equal(s.text, "1 7 inbound optout.add +447700900009 keyword STOP|");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ALL(test_audit_add_list),
		ALL(test_audit_bad_rows),
		ALL(test_optout_add_remove_check),
		ALL(test_optout_paging),
		ALL(test_optout_bad_arguments),
		cmocka_unit_test_prestate_setup_teardown(test_sqlite_reopen, setup, teardown, &fx_sqlite),
	};

	log_init("test_store_admin", getenv("TEST_LOG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
