/* test_quota: calendar windows and their roll-over (incl. DST and month ends), limits, next opening. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <time.h>

#include "simroute/quota.h"

static int utc(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

/* 2026-11-23 13:45:30 UTC */
#define T0 1795441530LL

static void test_bounds_utc(void **state)
{
	int64_t s, e;
	(void)state;
	quota_window_bounds(QUOTA_MINUTE, T0, &s, &e);
	assert_int_equal(s, T0 - 30);
	assert_int_equal(e, T0 + 30);
	quota_window_bounds(QUOTA_HOUR, T0, &s, &e);
	assert_int_equal(s, T0 - 45 * 60 - 30);
	assert_int_equal(e - s, 3600);
	quota_window_bounds(QUOTA_DAY, T0, &s, &e);
	assert_int_equal(s, 1795392000LL);             /* 2026-11-23 00:00 */
	assert_int_equal(e, 1795392000LL + 86400);
	quota_window_bounds(QUOTA_MONTH, T0, &s, &e);
	assert_int_equal(s, 1793491200LL);             /* 2026-11-01 00:00 */
	assert_int_equal(e, 1796083200LL);             /* 2026-12-01 00:00: November has 30 days */
	assert_string_equal(quota_window_name(QUOTA_MONTH), "month");
}

static void test_month_rolls_into_next_year(void **state)
{
	int64_t s, e;
	(void)state;
	quota_window_bounds(QUOTA_MONTH, 1798675200LL + 3600, &s, &e);   /* 2026-12-31 01:00 */
	assert_int_equal(e, 1798761600LL);                                /* 2027-01-01 00:00 */
}

static void test_day_across_dst_in_local_time(void **state)
{
	int64_t s, e;
	(void)state;
	setenv("TZ", "Europe/London", 1);
	tzset();
	/* 2026-03-29 is the spring-forward day in London: 23 hours long, starting at local midnight (UTC). */
	quota_window_bounds(QUOTA_DAY, 1774785600LL /* 2026-03-29 12:00 UTC */, &s, &e);
	assert_int_equal(s, 1774742400LL);
	assert_int_equal(e - s, 23 * 3600);
	setenv("TZ", "UTC", 1);
	tzset();
}

static void test_limits_and_rollover(void **state)
{
	struct quota_limits l = { .segments = { [QUOTA_MINUTE] = 5, [QUOTA_DAY] = 8 } };
	struct quota_counter c = { 0 };
	(void)state;
	assert_true(quota_allows(&l, &c, 5, T0));
	quota_add(&c, 3, T0);
	assert_true(quota_allows(&l, &c, 2, T0));
	assert_false(quota_allows(&l, &c, 3, T0));      /* minute: 3 + 3 > 5 */
	assert_int_equal(quota_next_open(&l, &c, 3, T0), T0 + 30);
	quota_add(&c, 2, T0 + 10);
	assert_true(quota_allows(&l, &c, 3, T0 + 30));  /* new minute; day 5 + 3 = 8 fits */
	quota_add(&c, 3, T0 + 31);
	assert_false(quota_allows(&l, &c, 1, T0 + 120)); /* day full */
	assert_int_equal(quota_next_open(&l, &c, 1, T0 + 120), 1795392000LL + 86400);
	assert_true(quota_allows(&l, &c, 5, 1795392000LL + 86400));
}

static void test_never_fits(void **state)
{
	struct quota_limits l = { .segments = { [QUOTA_MINUTE] = 4 } };
	struct quota_counter c = { 0 };
	(void)state;
	assert_int_equal(quota_next_open(&l, &c, 5, T0), -1);
	assert_int_equal(quota_next_open(&l, &c, 4, T0), T0);
}

static void test_headroom(void **state)
{
	struct quota_limits none = { { 0 } };
	struct quota_limits l = { .segments = { [QUOTA_HOUR] = 100, [QUOTA_MONTH] = 1000 } };
	struct quota_counter c = { 0 };
	(void)state;
	assert_true(quota_headroom(&none, &c, T0) == 1.0);
	quota_add(&c, 50, T0);
	assert_true(quota_headroom(&l, &c, T0) > 0.49 && quota_headroom(&l, &c, T0) < 0.51);
	quota_add(&c, 60, T0);
	assert_true(quota_headroom(&l, &c, T0) == 0.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_bounds_utc, utc),
		cmocka_unit_test_setup(test_month_rolls_into_next_year, utc),
		cmocka_unit_test_setup(test_day_across_dst_in_local_time, utc),
		cmocka_unit_test_setup(test_limits_and_rollover, utc),
		cmocka_unit_test_setup(test_never_fits, utc),
		cmocka_unit_test_setup(test_headroom, utc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
