/* test_modem_scan: the scan's pure parts — which modem a probed IMEI belongs to, and the per-port back-off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>

#include "modem/modem_scan.h"

static void test_pick(void **state)
{
	const char *expected[] = { "354510010000001", NULL, "354510010000003", "354510010000004" };
	bool wants[] = { true, true, false, true };
	(void)state;

	assert_int_equal(modem_scan_pick("354510010000001", expected, wants, 4), 0);
	assert_int_equal(modem_scan_pick("354510010000004", expected, wants, 4), 3);
	/* modem 2 holds its port (or is disabled): its IMEI on another port is not a reason to move it */
	assert_int_equal(modem_scan_pick("354510010000003", expected, wants, 4), -1);
	/* a modem nobody configured, a port that gave no IMEI */
	assert_int_equal(modem_scan_pick("354510010000009", expected, wants, 4), -1);
	assert_int_equal(modem_scan_pick("", expected, wants, 4), -1);
	assert_int_equal(modem_scan_pick(NULL, expected, wants, 4), -1);
	assert_int_equal(modem_scan_pick("354510010000001", expected, wants, 0), -1);
}

static void test_backoff(void **state)
{
	(void)state;
	assert_int_equal(modem_scan_backoff_ms(5000, 0), 5000);
	assert_int_equal(modem_scan_backoff_ms(5000, 1), 10000);
	assert_int_equal(modem_scan_backoff_ms(5000, 3), 40000);
	assert_int_equal(modem_scan_backoff_ms(5000, 10), 300000);     /* capped at 5 minutes */
	assert_int_equal(modem_scan_backoff_ms(5000, 1000), 300000);   /* no overflow */
	assert_int_equal(modem_scan_backoff_ms(0, 1), 2000);           /* a bad interval is 1 s */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_backoff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
