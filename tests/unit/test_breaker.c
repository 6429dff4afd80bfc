/* test_breaker: circuit breaker transitions — open after N failures, growing cool-down, one probe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "router/breaker.h"

static void test_opens_after_threshold(void **state)
{
	struct breaker b;
	(void)state;
	breaker_init(&b, 3, 1000, 8000);
	breaker_on_failure(&b, 0);
	breaker_on_failure(&b, 0);
	assert_int_equal(b.state, BREAKER_CLOSED);
	assert_true(breaker_allows(&b, 0));
	breaker_on_failure(&b, 100);
	assert_int_equal(b.state, BREAKER_OPEN);
	assert_false(breaker_allows(&b, 500));
	assert_false(breaker_allows(&b, 1099));
}

static void test_success_resets_count(void **state)
{
	struct breaker b;
	(void)state;
	breaker_init(&b, 3, 1000, 8000);
	breaker_on_failure(&b, 0);
	breaker_on_failure(&b, 0);
	breaker_on_success(&b);
	breaker_on_failure(&b, 0);
	breaker_on_failure(&b, 0);
	assert_int_equal(b.state, BREAKER_CLOSED);
}

static void test_half_open_single_probe(void **state)
{
	struct breaker b;
	(void)state;
	breaker_init(&b, 1, 1000, 8000);
	breaker_on_failure(&b, 0);
	assert_true(breaker_allows(&b, 1000));        /* cool-down over: half-open */
	assert_int_equal(b.state, BREAKER_HALF_OPEN);
	breaker_on_attempt(&b);
	assert_false(breaker_allows(&b, 1001));       /* only the one probe */
	breaker_on_success(&b);
	assert_int_equal(b.state, BREAKER_CLOSED);
	assert_true(breaker_allows(&b, 1002));
}

static void test_failed_probe_reopens_longer_capped(void **state)
{
	struct breaker b;
	(void)state;
	breaker_init(&b, 1, 1000, 3000);
	breaker_on_failure(&b, 0);                     /* open 1 s */
	assert_int_equal(b.open_until_ms, 1000);
	assert_true(breaker_allows(&b, 1000));
	breaker_on_attempt(&b);
	breaker_on_failure(&b, 1000);                  /* probe failed: open 2 s */
	assert_int_equal(b.state, BREAKER_OPEN);
	assert_int_equal(b.open_until_ms, 3000);
	assert_true(breaker_allows(&b, 3000));
	breaker_on_attempt(&b);
	breaker_on_failure(&b, 3000);                  /* 4 s capped at 3 s */
	assert_int_equal(b.open_until_ms, 6000);
	assert_true(breaker_allows(&b, 6000));
	breaker_on_attempt(&b);
	breaker_on_failure(&b, 6000);
	assert_int_equal(b.open_until_ms, 9000);       /* stays at the cap */
}

static void test_explicit_cool_down(void **state)
{
	struct breaker b;
	(void)state;
	breaker_init(&b, 3, 1000, 8000);
	breaker_cool_down(&b, 100, 60000);
	assert_int_equal(b.state, BREAKER_OPEN);
	assert_false(breaker_allows(&b, 60099));
	assert_true(breaker_allows(&b, 60100));
	assert_string_equal(breaker_state_name(b.state), "half_open");
}

static void test_defaults(void **state)
{
	struct breaker b;
	(void)state;
	breaker_init(&b, 0, 0, 0);
	assert_int_equal(b.threshold, 3);
	assert_int_equal(b.base_ms, 30000);
	assert_int_equal(b.max_ms, 900000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opens_after_threshold),
		cmocka_unit_test(test_success_resets_count),
		cmocka_unit_test(test_half_open_single_probe),
		cmocka_unit_test(test_failed_probe_reopens_longer_capped),
		cmocka_unit_test(test_explicit_cool_down),
		cmocka_unit_test(test_defaults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
