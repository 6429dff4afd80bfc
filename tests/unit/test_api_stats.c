/* test_api_stats: the shared store count of /v1/status and /metrics — live on a small store, reused
 * in proportion to its cost on a large one — and GET /v1/stats' ring fed from the store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "api/api_private.h"
#include "queue/store.h"
#include "simroute/log.h"

static void test_ttl_rule(void **state)
{
	(void)state;
	assert_int_equal(api_counts_ttl_ms(0), 0);
	assert_int_equal(api_counts_ttl_ms(9), 0);          /* cheap: always live */
	assert_int_equal(api_counts_ttl_ms(10), 500);
	assert_int_equal(api_counts_ttl_ms(100), 5000);     /* a million rows: ~2 % of the loop at most */
	assert_int_equal(api_counts_ttl_ms(400), 10000);    /* capped */
	assert_int_equal(api_counts_ttl_ms(100000), 10000);
}

static void test_small_store_counts_are_live(void **state)
{
	(void)state;
	char err[128];
	struct store *st = store_open("mem", NULL, err, sizeof(err));
	assert_non_null(st);
	struct api api = { .deps = { .st = st }, .stats = api_stats_new() };
	assert_non_null(api.stats);
	struct store_counts c;
	assert_int_equal(api_store_counts(&api, &c), 0);
	assert_int_equal(c.queued_by_lane[LANE_OTP], 0);
	struct store_new_msg m = { .to = "+447700900123", .text = "hi", .lane = LANE_OTP, .nparts = 1, .created_ms = 1 };
	int64_t id;
	assert_int_equal(store_enqueue(st, &m, 1, &id), 0);
	assert_int_equal(api_store_counts(&api, &c), 0);
	assert_int_equal(c.queued_by_lane[LANE_OTP], 1);
	assert_int_equal(c.by_state[MSG_QUEUED], 1);
	/* no stats state (out of memory at start): still answers, uncached */
	struct api bare = { .deps = { .st = st } };
	assert_int_equal(api_store_counts(&bare, &c), 0);
	assert_int_equal(c.by_state[MSG_QUEUED], 1);
	api_stats_free(api.stats);
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ttl_rule),
		cmocka_unit_test(test_small_store_counts_are_live),
	};
	log_init("test_api_stats", getenv("TEST_LOG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
