/* test_router: the pure route choice — eligibility, health over signal, LRU among equals, latency,
 * operator prefixes (affinity and restriction), recipient quotas, weights, the score's terms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

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

static const char uk_mobile[][ROUTER_PREFIX_LEN] = { "+4477", "+4478" };
static const char fr[][ROUTER_PREFIX_LEN] = { "+33" };

static const struct router_weights w_signal_only = { .signal = 1.0, .failure = 0, .latency = 0, .headroom = 0, .affinity = 0 };
static const struct router_weights w_latency = { .signal = 1.0, .failure = 2.0, .latency = 5.0, .headroom = 0.5, .affinity = 0 };
static const struct router_weights w_no_extras = { .signal = 1.0, .failure = 2.0, .latency = 0, .headroom = 0, .affinity = 0 };
static const struct router_weights w_zero = { .signal = 0, .failure = 0, .latency = 0, .headroom = 0, .affinity = 0 };

/* One choice per row: the routes, the destination, the weights, and who must win (-1: nobody). */
struct pick_case {
	const char *what;
	struct router_route r[3];
	size_t n;
	const char *to;
	const struct router_weights *w;   /* NULL: the defaults */
	int want;
};

static const struct pick_case pick_cases[] = {
	{ "faster route wins among equals",
	  { { .name = "slow", .idle = 1, .rssi = 20, .latency_ms = 9000, .last_used_ms = 1 },
	    { .name = "fast", .idle = 1, .rssi = 20, .latency_ms = 800, .last_used_ms = 500 } }, 2, NULL, NULL, 1 },
	{ "unmeasured latency counts as fast (a new SIM gets tried)",
	  { { .name = "measured", .idle = 1, .rssi = 20, .latency_ms = 6000, .last_used_ms = 1 },
	    { .name = "new", .idle = 1, .rssi = 20, .latency_ms = 0, .last_used_ms = 500 } }, 2, NULL, NULL, 1 },
	{ "close latencies are a tie: least recently used",
	  { { .name = "a", .idle = 1, .rssi = 20, .latency_ms = 120, .last_used_ms = 900 },
	    { .name = "b", .idle = 1, .rssi = 20, .latency_ms = 180, .last_used_ms = 100 } }, 2, NULL, NULL, 1 },
	{ "prefix affinity beats a better signal",
	  { { .name = "strong", .idle = 1, .rssi = 31, .last_used_ms = 1 },
	    { .name = "uk", .idle = 1, .rssi = 12, .prefixes = uk_mobile, .nprefixes = 2, .last_used_ms = 500 } },
	  2, "+447800900123", NULL, 1 },
	{ "no affinity for a destination outside the prefixes",
	  { { .name = "strong", .idle = 1, .rssi = 31, .last_used_ms = 1 },
	    { .name = "uk", .idle = 1, .rssi = 12, .prefixes = uk_mobile, .nprefixes = 2, .last_used_ms = 500 } },
	  2, "+447900900123", NULL, 0 },
	{ "restricted route takes only its prefixes",
	  { { .name = "fr-only", .idle = 1, .rssi = 31, .prefixes = fr, .nprefixes = 1, .restrict_prefixes = true } },
	  1, "+447700900123", NULL, -1 },
	{ "restricted route takes a matching destination",
	  { { .name = "fr-only", .idle = 1, .rssi = 31, .prefixes = fr, .nprefixes = 1, .restrict_prefixes = true } },
	  1, "+33612345678", NULL, 0 },
	{ "restricted route and no destination: not eligible",
	  { { .name = "fr-only", .idle = 1, .rssi = 31, .prefixes = fr, .nprefixes = 1, .restrict_prefixes = true } },
	  1, NULL, NULL, -1 },
	{ "restricted elsewhere, the other route takes it",
	  { { .name = "fr-only", .idle = 1, .rssi = 31, .prefixes = fr, .nprefixes = 1, .restrict_prefixes = true,
	      .last_used_ms = 1 },
	    { .name = "any", .idle = 1, .rssi = 3, .fail_ewma = 0.5, .last_used_ms = 500 } }, 2, "+447700900123", NULL, 1 },
	{ "recipient quota full: the other route",
	  { { .name = "full", .idle = 1, .rssi = 31, .recipients_full = true, .last_used_ms = 1 },
	    { .name = "other", .idle = 1, .rssi = 5, .last_used_ms = 500 } }, 2, "+447700900123", NULL, 1 },
	{ "recipient quota full everywhere: nobody",
	  { { .name = "full", .idle = 1, .rssi = 31, .recipients_full = true } }, 1, "+447700900123", NULL, -1 },
	{ "weights: signal only, failures ignored",
	  { { .name = "strong-but-failing", .idle = 1, .rssi = 31, .fail_ewma = 0.8, .last_used_ms = 500 },
	    { .name = "weak-but-healthy", .idle = 1, .rssi = 8, .last_used_ms = 1 } },
	  2, NULL, &w_signal_only, 0 },
	{ "weights: latency dominates",
	  { { .name = "strong-slow", .idle = 1, .rssi = 31, .latency_ms = 12000, .last_used_ms = 1 },
	    { .name = "weak-fast", .idle = 1, .rssi = 2, .latency_ms = 300, .last_used_ms = 500 } },
	  2, NULL, &w_latency, 1 },
	{ "weights: affinity 0 ignores prefixes (signal decides)",
	  { { .name = "strong", .idle = 1, .rssi = 31, .last_used_ms = 500 },
	    { .name = "uk", .idle = 1, .rssi = 12, .prefixes = uk_mobile, .nprefixes = 2, .last_used_ms = 1 } },
	  2, "+447700900123", &w_no_extras, 0 },
	{ "weights: headroom 0 ignores quota left (LRU decides)",
	  { { .name = "nearly-dry", .idle = 1, .rssi = 20, .quota_headroom = 0.05, .last_used_ms = 1 },
	    { .name = "plenty", .idle = 1, .rssi = 20, .quota_headroom = 0.9, .last_used_ms = 500 } },
	  2, NULL, &w_no_extras, 0 },
	{ "all weights 0: every eligible route ties, least recently used",
	  { { .name = "a", .idle = 1, .rssi = 31, .last_used_ms = 300 },
	    { .name = "b", .idle = 1, .rssi = 1, .fail_ewma = 1.0, .last_used_ms = 200 },
	    { .name = "c", .idle = 0, .rssi = 31, .last_used_ms = 100 } },
	  3, NULL, &w_zero, 1 },
};

static void test_pick_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pick_cases) / sizeof(pick_cases[0]); i++) {
		const struct pick_case *c = &pick_cases[i];
		struct router_need n = { .nparts = 1, .now_ms = 1000000, .to = c->to, .weights = c->w };
		int got = router_pick(c->r, c->n, &n);
		if (got != c->want)
			fail_msg("%s: picked %d, want %d", c->what, got, c->want);
	}
}

static void test_score_parts(void **state)
{
	(void)state;
	struct router_weights w = ROUTER_WEIGHTS_DEFAULT;
	struct router_route r = { .name = "a", .idle = 1, .rssi = 31, .fail_ewma = 0.25, .quota_headroom = 0.5,
				  .latency_ms = 3000, .prefixes = uk_mobile, .nprefixes = 2 };
	struct router_need n = { .nparts = 1, .now_ms = 1000000, .to = "+447712345678", .weights = &w };
	struct router_score_parts p;
	double s = router_score_parts(&r, &n, &p);
	assert_null(p.why);
	assert_true(fabs(p.signal - 1.0) < 1e-9);
	assert_true(fabs(p.failure - 1.5) < 1e-9);          /* 2.0 * (1 - 0.25) */
	assert_true(fabs(p.latency - 0.125) < 1e-9);        /* 0.25 * 1/(1 + 3000/3000) */
	assert_true(fabs(p.headroom - 0.25) < 1e-9);        /* 0.5 * 0.5 */
	assert_true(fabs(p.affinity - 1.0) < 1e-9);
	assert_true(fabs(s - 3.875) < 1e-9);
	assert_true(fabs(p.total - s) < 1e-9);
	/* the defaults are the ones documented: NULL weights score the same */
	n.weights = NULL;
	assert_true(fabs(router_score(&r, &n) - s) < 1e-9);
	/* not eligible: the reason, and the terms still filled in for explain */
	r.recipients_full = true;
	assert_true(router_score_parts(&r, &n, &p) < 0);
	assert_string_equal(p.why, "recipient quota");
	assert_true(p.total > 0);
	r.recipients_full = false;
	r.restrict_prefixes = true;
	n.to = "+33612345678";
	assert_true(router_score_parts(&r, &n, &p) < 0);
	assert_string_equal(p.why, "prefix");
	r.idle = 0;
	assert_true(router_score_parts(&r, &n, &p) < 0);
	assert_string_equal(p.why, "busy");
}

static void test_prefix_match(void **state)
{
	(void)state;
	struct router_route r = { .name = "a", .prefixes = uk_mobile, .nprefixes = 2 };
	static const struct { const char *to; bool match; } rows[] = {
		{ "+447712345678", true }, { "+447812345678", true }, { "+447912345678", false },
		{ "+4477", true }, { "+447", false }, { "447712345678", false }, { "", false }, { NULL, false },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (router_prefix_match(&r, rows[i].to) != rows[i].match)
			fail_msg("%s: match %d", rows[i].to ? rows[i].to : "(null)", !rows[i].match);
	r.nprefixes = 0;
	assert_false(router_prefix_match(&r, "+447712345678"));
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
		cmocka_unit_test(test_pick_table),
		cmocka_unit_test(test_score_parts),
		cmocka_unit_test(test_prefix_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
