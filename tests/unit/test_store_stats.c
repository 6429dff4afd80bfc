/* test_store_stats: what the dashboard reads from the store — store_outcomes (incremental, bounded by
 * time), store_oldest_queued and the listing's to_suffix search — on both backends. */
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

static int64_t add(struct store *st, enum msg_lane lane, int64_t created_ms)
{
	struct store_new_msg m = { .to = "+447700900123", .text = "hi", .lane = lane, .nparts = 1,
				   .created_ms = created_ms };
	int64_t id = 0;
	assert_int_equal(store_enqueue(st, &m, 1, &id), 0);
	return id;
}

struct seen {
	int n, sent, failed;
	int64_t latency_sum, at_sum;
	char routes[256];
};

static void outcome_cb(void *arg, const struct store_outcome *o)
{
	struct seen *s = arg;
	s->n++;
	if (o->sent)
		s->sent++;
	else
		s->failed++;
	s->at_sum += o->at_ms;
	if (o->lane == LANE_OTP && o->sent)
		s->latency_sum += o->at_ms - o->created_ms;
	strncat(s->routes, o->route[0] ? o->route : "-", sizeof(s->routes) - strlen(s->routes) - 2);
	strcat(s->routes, ",");
}

static void test_outcomes(void **state)
{
	struct fx *f = *state;
	struct seen s = { 0 };
	int64_t last = -5;
	int64_t a = add(f->st, LANE_OTP, 1000), b = add(f->st, LANE_NORMAL, 1000), c = add(f->st, LANE_NORMAL, 1000);

	/* nothing happened yet */
	assert_int_equal(store_outcomes(f->st, 0, 0, outcome_cb, &s, &last), 0);
	assert_int_equal(last, 0);
	/* a: sent on sim1 at 5000 (accepted at 1000); b: failed on sim2 at 6000; c: failed before any route */
	assert_int_equal(store_transition(f->st, a, MSG_QUEUED, MSG_SENDING, "sim1", NULL, 4000), 0);
	assert_int_equal(store_transition(f->st, a, MSG_SENDING, MSG_SENT, NULL, NULL, 5000), 0);
	assert_int_equal(store_transition(f->st, b, MSG_QUEUED, MSG_SENDING, "sim2", NULL, 5500), 0);
	assert_int_equal(store_transition(f->st, b, MSG_SENDING, MSG_FAILED, NULL, "CMS 500", 6000), 0);
	assert_int_equal(store_transition(f->st, c, MSG_QUEUED, MSG_FAILED, NULL, "too long", 7000), 0);
	assert_int_equal(store_outcomes(f->st, 0, 0, outcome_cb, &s, &last), 3);
	assert_int_equal(s.sent, 1);
	assert_int_equal(s.failed, 2);
	assert_int_equal(s.latency_sum, 4000);
	assert_non_null(strstr(s.routes, "sim1,"));
	assert_non_null(strstr(s.routes, "sim2,"));
	assert_non_null(strstr(s.routes, "-,"));
	assert_true(last >= 5);   /* five events were written */

	/* incremental: nothing new after `last` */
	int64_t again;
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_outcomes(f->st, last, 0, outcome_cb, &s, &again), 0);
	assert_int_equal(again, last);
	/* one more: only it comes back */
	assert_int_equal(store_transition(f->st, a, MSG_SENT, MSG_DELIVERED, NULL, NULL, 8000), 0);
	int64_t d = add(f->st, LANE_BULK, 8000);
	assert_int_equal(store_transition(f->st, d, MSG_QUEUED, MSG_SENDING, "sim3", NULL, 8500), 0);
	assert_int_equal(store_transition(f->st, d, MSG_SENDING, MSG_SENT, NULL, NULL, 9000), 0);
	assert_int_equal(store_outcomes(f->st, last, 0, outcome_cb, &s, &again), 1);
	assert_int_equal(s.sent, 1);
	assert_string_equal(s.routes, "sim3,");
	assert_int_equal(again, last + 3);

	/* a first call bounded by time sees only the recent ones */
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_outcomes(f->st, 0, 6000, outcome_cb, &s, &last), 3);
	assert_int_equal(s.at_sum, 6000 + 7000 + 9000);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_outcomes(f->st, 0, 100000, outcome_cb, &s, &last), 0);
	assert_int_equal(last, again);

	/* retention deletes every finished message with its events; the ids of new events may then be
	 * ones handed out before (sqlite reuses the top rowids): the next send is still seen */
	assert_true(store_purge(f->st, 0, 50000, 1000) >= 4);
	int64_t e = add(f->st, LANE_NORMAL, 60000);
	assert_int_equal(store_transition(f->st, e, MSG_QUEUED, MSG_SENDING, "sim4", NULL, 60500), 0);
	assert_int_equal(store_transition(f->st, e, MSG_SENDING, MSG_SENT, NULL, NULL, 61000), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_outcomes(f->st, again, 55000, outcome_cb, &s, &last), 1);
	assert_string_equal(s.routes, "sim4,");
}

static void test_oldest_queued(void **state)
{
	struct fx *f = *state;
	int64_t out[LANE_COUNT];

	assert_int_equal(store_oldest_queued(f->st, out), 0);
	for (int l = 0; l < LANE_COUNT; l++)
		assert_int_equal(out[l], 0);
	int64_t a = add(f->st, LANE_OTP, 1000);
	add(f->st, LANE_OTP, 2000);
	add(f->st, LANE_BULK, 3000);
	assert_int_equal(store_oldest_queued(f->st, out), 0);
	assert_int_equal(out[LANE_OTP], 1000);
	assert_int_equal(out[LANE_NORMAL], 0);
	assert_int_equal(out[LANE_BULK], 3000);
	/* once the oldest leaves the queue the next one is the oldest */
	assert_int_equal(store_transition(f->st, a, MSG_QUEUED, MSG_SENDING, "sim1", NULL, 4000), 0);
	assert_int_equal(store_oldest_queued(f->st, out), 0);
	assert_int_equal(out[LANE_OTP], 2000);
}

static int count_cb(void *arg, const struct store_msg *m)
{
	(void)m;
	(*(int *)arg)++;
	return 0;
}

static void test_list_to_suffix(void **state)
{
	struct fx *f = *state;
	const char *to[] = { "+447700900123", "+447700900456", "+33612340123" };
	for (size_t i = 0; i < 3; i++) {
		struct store_new_msg m = { .to = to[i], .text = "hi", .lane = LANE_NORMAL, .nparts = 1, .created_ms = 1000 };
		int64_t id;
		assert_int_equal(store_enqueue(f->st, &m, 1, &id), 0);
	}
	struct { const char *suffix; int n; } cases[] = {
		{ "0123", 2 }, { "900123", 1 }, { "456", 1 }, { "33612340123", 1 }, { "99", 0 },
		{ "1447700900123", 0 },   /* longer than a number it would end: no match, no error */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct store_filter flt = { .state = -1, .to_suffix = cases[i].suffix, .limit = 10 };
		int n = 0;
		assert_int_equal(store_list(f->st, &flt, count_cb, &n), cases[i].n);
		assert_int_equal(n, cases[i].n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ALL(test_outcomes),
		ALL(test_oldest_queued),
		ALL(test_list_to_suffix),
	};
	log_init("test_store_stats", getenv("TEST_LOG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
