/* test_router: the pure route choice — eligibility, health over signal, LRU among equals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "router/router.h"

static const struct router_need need = { .nparts = 1, .now_ms = 1000000 };

static void test_none_eligible(void **state)
{
	(void)state;
	struct router_route r[] = {
		{ .name = "busy", .idle = 0, .rssi = 31 },
		{ .name = "cooling", .idle = 1, .rssi = 31, .cooldown_until_ms = 2000000 },
	};
	assert_int_equal(router_pick(r, 2, &need), -1);
	assert_int_equal(router_pick(r, 0, &need), -1);
	assert_true(router_score(&r[0], &need) < 0);
}

static void test_cooldown_over_is_eligible(void **state)
{
	(void)state;
	struct router_route r[] = { { .name = "a", .idle = 1, .rssi = 10, .cooldown_until_ms = 999999 } };
	assert_int_equal(router_pick(r, 1, &need), 0);
}

static void test_health_beats_signal(void **state)
{
	(void)state;
	struct router_route r[] = {
		{ .name = "strong-but-failing", .idle = 1, .rssi = 31, .fail_ewma = 0.8 },
		{ .name = "weak-but-healthy", .idle = 1, .rssi = 8, .fail_ewma = 0.0 },
	};
	assert_int_equal(router_pick(r, 2, &need), 1);
}

static void test_signal_decides_between_healthy(void **state)
{
	(void)state;
	struct router_route r[] = {
		{ .name = "weak", .idle = 1, .rssi = 5, .last_used_ms = 1 },
		{ .name = "strong", .idle = 1, .rssi = 25, .last_used_ms = 500 },
	};
	assert_int_equal(router_pick(r, 2, &need), 1);
}

static void test_lru_breaks_ties(void **state)
{
	(void)state;
	struct router_route r[] = {
		{ .name = "a", .idle = 1, .rssi = 20, .last_used_ms = 300 },
		{ .name = "b", .idle = 1, .rssi = 20, .last_used_ms = 100 },
		{ .name = "c", .idle = 1, .rssi = 21, .last_used_ms = 200 },
	};
	assert_int_equal(router_pick(r, 3, &need), 1);
}

static void test_unknown_signal_is_usable(void **state)
{
	(void)state;
	struct router_route r[] = { { .name = "a", .idle = 1, .rssi = 99 } };
	assert_int_equal(router_pick(r, 1, &need), 0);
	assert_true(router_score(&r[0], &need) > 0);
}

static void test_quota_headroom_spreads_load(void **state)
{
	(void)state;
	struct router_route r[] = {
		{ .name = "nearly-dry", .idle = 1, .rssi = 20, .quota_headroom = 0.05, .last_used_ms = 1 },
		{ .name = "plenty", .idle = 1, .rssi = 20, .quota_headroom = 0.9, .last_used_ms = 500 },
	};
	assert_int_equal(router_pick(r, 2, &need), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none_eligible),
		cmocka_unit_test(test_cooldown_over_is_eligible),
		cmocka_unit_test(test_health_beats_signal),
		cmocka_unit_test(test_signal_decides_between_healthy),
		cmocka_unit_test(test_lru_breaks_ties),
		cmocka_unit_test(test_unknown_signal_is_usable),
		cmocka_unit_test(test_quota_headroom_spreads_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
