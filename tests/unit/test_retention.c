/* test_retention: the pure part of the retention timer — cutoffs and the pause between runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "queue/retention.h"

static void test_cutoffs(void **state)
{
	int64_t body, rows;
	(void)state;
	retention_cutoffs(1000000000, 30L * 86400, 365L * 86400, &body, &rows);
	assert_int_equal(body, 1000000000 - 30LL * 86400 * 1000);
	assert_int_equal(rows, 1000000000 - 365LL * 86400 * 1000);
	retention_cutoffs(5000, 2, 0, &body, &rows);   /* 0 = forever: that purge is off */
	assert_int_equal(body, 3000);
	assert_int_equal(rows, 0);
	retention_cutoffs(5000, 0, 0, &body, &rows);
	assert_int_equal(body, 0);
	assert_int_equal(rows, 0);
}

static void test_period(void **state)
{
	(void)state;
	/* a minute for real retention, never busier than a second for test-sized ones */
	assert_int_equal(retention_period_ms(30L * 86400, 365L * 86400), 60000);
	assert_int_equal(retention_period_ms(0, 0), 60000);
	assert_int_equal(retention_period_ms(2, 3600), 1000);
	assert_int_equal(retention_period_ms(0, 20), 5000);
	assert_int_equal(retention_period_ms(40, 0), 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cutoffs),
		cmocka_unit_test(test_period),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
