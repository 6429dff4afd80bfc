/* test_recipients: distinct-recipient counting per day and month, repeats free, roll-over, many numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "simroute/recipients.h"

static int utc(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

/* 2026-11-23 13:45:30 UTC; the day ends 2026-11-24 00:00, the month 2026-12-01 00:00 */
#define T0 1795441530LL
#define DAY_END 1795478400LL
#define MONTH_END 1796083200LL

static void test_keys(void **state)
{
	(void)state;
	static const struct { const char *num; uint64_t key; } exact[] = {
		{ "+447700900123", 447700900123ULL },
		{ "+123456789012345", 123456789012345ULL },
		{ "+1", 1ULL },
	};
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		assert_int_equal(recipients_key(exact[i].num), exact[i].key);
	/* not E.164: hashed, apart from every number (top bit), and stable */
	static const char *const hashed[] = { "447700900123", "+1234567890123456", "Alpha", "+44 77", "" };
	for (size_t i = 0; i < sizeof(hashed) / sizeof(hashed[0]); i++) {
		assert_true(recipients_key(hashed[i]) >> 63);
		assert_int_equal(recipients_key(hashed[i]), recipients_key(hashed[i]));
	}
	assert_int_not_equal(recipients_key("447700900123"), recipients_key("+447700900123"));
}

static void test_month_limit_repeat_is_free(void **state)
{
	(void)state;
	struct recipients_limits l = { .max = { [RECIPIENTS_MONTH] = 2 } };
	struct recipients r = { 0 };
	assert_true(recipients_allows(&l, &r, "+447700900001", T0));
	assert_int_equal(recipients_add(&l, &r, "+447700900001", T0), 0);
	assert_int_equal(recipients_add(&l, &r, "+447700900001", T0 + 5), 0);   /* repeat: still one */
	assert_int_equal(recipients_used(&r, RECIPIENTS_MONTH, T0), 1);
	assert_true(recipients_allows(&l, &r, "+447700900002", T0));
	assert_int_equal(recipients_add(&l, &r, "+447700900002", T0), 0);
	/* full: a third number may not, the two known ones still may */
	assert_false(recipients_allows(&l, &r, "+447700900003", T0));
	assert_true(recipients_allows(&l, &r, "+447700900001", T0));
	assert_true(recipients_allows(&l, &r, "+447700900002", T0 + 86400));   /* next day, same month */
	assert_true(recipients_known(&r, RECIPIENTS_MONTH, "+447700900002", T0));
	assert_false(recipients_known(&r, RECIPIENTS_MONTH, "+447700900003", T0));
	/* no day limit: the day window is not tracked */
	assert_int_equal(recipients_used(&r, RECIPIENTS_DAY, T0), 0);
	assert_int_equal(recipients_next_open(&l, &r, T0), MONTH_END);
	/* the month rolls over: the count starts again */
	assert_true(recipients_allows(&l, &r, "+447700900003", MONTH_END));
	assert_int_equal(recipients_used(&r, RECIPIENTS_MONTH, MONTH_END), 0);
	assert_int_equal(recipients_next_open(&l, &r, MONTH_END), MONTH_END);
	recipients_free(&r);
}

static void test_day_and_month(void **state)
{
	(void)state;
	struct recipients_limits l = { .max = { [RECIPIENTS_DAY] = 1, [RECIPIENTS_MONTH] = 3 } };
	struct recipients r = { 0 };
	static const struct {
		int64_t at;
		const char *num;
		bool allowed;     /* before adding */
	} steps[] = {
		{ T0, "+447700900001", true },
		{ T0 + 60, "+447700900001", true },           /* repeat */
		{ T0 + 60, "+447700900002", false },          /* day full */
		{ DAY_END, "+447700900002", true },           /* next day: day set empty, month has room */
		{ DAY_END + 1, "+447700900001", false },      /* known this month, but new to the full day */
		{ DAY_END + 86400, "+447700900003", true },   /* day 3: third this month */
		{ DAY_END + 2 * 86400, "+447700900004", false }, /* month full */
		{ DAY_END + 2 * 86400, "+447700900001", true },  /* known to the month, the day is empty */
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		bool ok = recipients_allows(&l, &r, steps[i].num, steps[i].at);
		if (ok != steps[i].allowed)
			fail_msg("step %zu: %s at %lld: allowed %d, want %d", i, steps[i].num, (long long)steps[i].at, ok,
				 steps[i].allowed);
		if (ok)
			assert_int_equal(recipients_add(&l, &r, steps[i].num, steps[i].at), 0);
	}
	assert_int_equal(recipients_used(&r, RECIPIENTS_MONTH, DAY_END + 2 * 86400), 3);
	assert_int_equal(recipients_used(&r, RECIPIENTS_DAY, DAY_END + 2 * 86400), 1);
	recipients_reset(&r);
	assert_int_equal(recipients_used(&r, RECIPIENTS_MONTH, DAY_END + 2 * 86400), 0);
	assert_true(recipients_allows(&l, &r, "+447700900009", DAY_END + 2 * 86400));
	recipients_free(&r);
}

static void test_many_numbers(void **state)
{
	(void)state;
	struct recipients_limits l = { .max = { [RECIPIENTS_MONTH] = 100000 } };
	struct recipients r = { 0 };
	char num[24];
	for (int i = 0; i < 50000; i++) {
		snprintf(num, sizeof(num), "+4477009%05d", i);
		assert_int_equal(recipients_add(&l, &r, num, T0), 0);
	}
	for (int i = 0; i < 50000; i += 7) {
		snprintf(num, sizeof(num), "+4477009%05d", i);
		assert_int_equal(recipients_add(&l, &r, num, T0), 0);
	}
	assert_int_equal(recipients_used(&r, RECIPIENTS_MONTH, T0), 50000);
	assert_true(r.w[RECIPIENTS_MONTH].cap <= 4 * 65536);   /* at most half full, doubling: bounded */
	snprintf(num, sizeof(num), "+4477009%05d", 49999);
	assert_true(recipients_known(&r, RECIPIENTS_MONTH, num, T0));
	assert_false(recipients_known(&r, RECIPIENTS_MONTH, "+447700950000", T0));
	recipients_free(&r);
	assert_null(r.w[RECIPIENTS_MONTH].keys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_month_limit_repeat_is_free),
		cmocka_unit_test(test_day_and_month),
		cmocka_unit_test(test_many_numbers),
	};
	return cmocka_run_group_tests(tests, utc, NULL);
}
