/* test_minstats: the per-minute ring (roll-over, old and future outcomes, routes) and latency percentiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simroute/minstats.h"

/* 2026-11-23 13:45:00 UTC, a minute boundary */
#define T0 1795441500000LL
#define MIN 60000LL

static struct minstats *fresh(int64_t now)
{
	struct minstats *s = malloc(sizeof(*s));
	assert_non_null(s);
	minstats_init(s, now);
	return s;
}

static void test_series_oldest_first(void **state)
{
	(void)state;
	struct minstats *s = fresh(T0);
	uint32_t sent[3], failed[3];
	minstats_add(s, T0 - 2 * MIN + 5, "a1", true, -1);
	minstats_add(s, T0 - MIN, "a1", true, -1);
	minstats_add(s, T0 - MIN + 59999, "a2", false, -1);
	minstats_add(s, T0 + 30000, NULL, true, -1);
	minstats_series(s, -1, 3, sent, failed);
	assert_int_equal(sent[0], 1);
	assert_int_equal(sent[1], 1);
	assert_int_equal(failed[1], 1);
	assert_int_equal(sent[2], 1);
	assert_int_equal(failed[2], 0);
	assert_int_equal(s->nroutes, 2);
	minstats_series(s, 0, 3, sent, failed);   /* a1 */
	assert_int_equal(sent[0], 1);
	assert_int_equal(sent[1], 1);
	assert_int_equal(sent[2], 0);
	minstats_series(s, 1, 3, sent, failed);   /* a2 */
	assert_int_equal(failed[1], 1);
	free(s);
}

static void test_roll_and_bounds(void **state)
{
	(void)state;
	struct minstats *s = fresh(T0);
	uint32_t sent[MINSTATS_MINUTES], failed[MINSTATS_MINUTES];
	minstats_add(s, T0, "a1", true, 100);
	/* an hour old: outside the ring, ignored */
	minstats_add(s, T0 - 60 * MIN, "a1", true, -1);
	minstats_series(s, -1, 60, sent, failed);
	assert_int_equal(sent[59], 1);
	assert_int_equal(sent[0], 0);
	/* 59 minutes later the outcome is the oldest slot; one more and it is gone */
	minstats_advance(s, T0 + 59 * MIN);
	minstats_series(s, -1, 60, sent, failed);
	assert_int_equal(sent[0], 1);
	assert_int_equal(sent[59], 0);
	assert_int_equal(minstats_latency(s, 60, 50, NULL), minstats_lat_upper(minstats_lat_bucket(100)));
	minstats_advance(s, T0 + 60 * MIN);
	minstats_series(s, -1, 60, sent, failed);
	for (int i = 0; i < 60; i++)
		assert_int_equal(sent[i], 0);
	assert_int_equal(minstats_latency(s, 60, 50, NULL), -1);
	/* a clock step back keeps the ring; an outcome in the future advances it */
	minstats_advance(s, T0);
	assert_int_equal(s->head, (T0 + 60 * MIN) / MIN);
	minstats_add(s, T0 + 200 * MIN, NULL, false, -1);
	assert_int_equal(s->head, (T0 + 200 * MIN) / MIN);
	minstats_series(s, -1, 1, sent, failed);
	assert_int_equal(failed[0], 1);
	free(s);
}

static void test_latency_percentiles(void **state)
{
	(void)state;
	struct minstats *s = fresh(T0);
	uint64_t n;
	/* 1..100 s in one-second steps over the last 10 minutes */
	for (int i = 1; i <= 100; i++)
		minstats_add(s, T0 - (i % 10) * MIN, "a1", true, i * 1000);
	int64_t p50 = minstats_latency(s, 60, 50, &n), p99 = minstats_latency(s, 60, 99, NULL);
	assert_int_equal(n, 100);
	/* the answer is the bucket's upper bound: at or above the true value, within 20 % */
	assert_true(p50 >= 50000 && p50 <= 60000);
	assert_true(p99 >= 99000 && p99 <= 99000 * 1.2);
	assert_true(minstats_latency(s, 60, 100, NULL) >= 100000);
	/* the last minute alone holds i = 10, 20, ... 100 */
	assert_true(minstats_latency(s, 1, 50, &n) >= 50000);
	assert_int_equal(n, 10);
	free(s);
}

static void test_buckets(void **state)
{
	(void)state;
	assert_int_equal(minstats_lat_bucket(0), 0);
	assert_int_equal(minstats_lat_bucket(1), 0);
	assert_int_equal(minstats_lat_upper(0), 1);
	for (int64_t ms = 2; ms < 10000000; ms = ms * 3 / 2 + 1) {
		int b = minstats_lat_bucket(ms);
		assert_true(minstats_lat_upper(b) >= ms);
		assert_true(b == 0 || minstats_lat_upper(b - 1) < ms);
	}
	assert_int_equal(minstats_lat_bucket(INT64_MAX / 2), MINSTATS_LAT_BUCKETS - 1);
}

static void test_route_slots_reused(void **state)
{
	(void)state;
	struct minstats *s = fresh(T0);
	char name[16];
	for (int i = 0; i < MINSTATS_ROUTES; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		minstats_add(s, T0, name, true, -1);
	}
	/* full: a new route counts overall only */
	minstats_add(s, T0, "late", true, -1);
	assert_int_equal(s->nroutes, MINSTATS_ROUTES);
	uint32_t sent[1], failed[1];
	minstats_series(s, -1, 1, sent, failed);
	assert_int_equal(sent[0], MINSTATS_ROUTES + 1);
	/* an hour later every slot is empty again and a new name takes one */
	minstats_add(s, T0 + 61 * MIN, "late", true, -1);
	int found = 0;
	for (size_t r = 0; r < s->nroutes; r++)
		found += strcmp(s->routes[r].name, "late") == 0;
	assert_int_equal(found, 1);
	/* a long name is cut, not overrun */
	minstats_add(s, T0 + 61 * MIN, "a-very-long-route-name-that-goes-on-and-on-past-sixty-four-characters-x", false, -1);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_series_oldest_first),
		cmocka_unit_test(test_roll_and_bounds),
		cmocka_unit_test(test_latency_percentiles),
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_route_slots_reused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
