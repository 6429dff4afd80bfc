/* test_message: the message state machine — names, parsing, and every (from, to) pair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "queue/message.h"

/* Written from DESIGN.md and the brief, not from message.c: the legal moves, one line each. */
static const struct { enum msg_state from, to; } legal_moves[] = {
	{ MSG_QUEUED, MSG_SENDING },
	{ MSG_QUEUED, MSG_EXPIRED },
	{ MSG_QUEUED, MSG_CANCELLED },
	{ MSG_QUEUED, MSG_FAILED },
	{ MSG_SENDING, MSG_SENT },
	{ MSG_SENDING, MSG_QUEUED },      /* retry: nothing reached the network */
	{ MSG_SENDING, MSG_FAILED },
	{ MSG_SENDING, MSG_UNCERTAIN },   /* timeout after the PDU reached the modem */
	{ MSG_SENT, MSG_DELIVERED },
	{ MSG_SENT, MSG_UNDELIVERED },
	{ MSG_UNCERTAIN, MSG_SENT },
	{ MSG_UNCERTAIN, MSG_DELIVERED },
	{ MSG_UNCERTAIN, MSG_UNDELIVERED },
	{ MSG_UNCERTAIN, MSG_FAILED },
	{ MSG_UNCERTAIN, MSG_QUEUED },    /* explicit policy: resend */
};

static bool expected_legal(enum msg_state from, enum msg_state to)
{
	for (size_t i = 0; i < sizeof(legal_moves) / sizeof(legal_moves[0]); i++)
		if (legal_moves[i].from == from && legal_moves[i].to == to)
			return true;
	return false;
}

static void test_every_pair(void **state)
{
	(void)state;
	for (int f = 0; f < MSG_STATE_COUNT; f++) {
		for (int t = 0; t < MSG_STATE_COUNT; t++) {
			bool want = expected_legal((enum msg_state)f, (enum msg_state)t);
			bool got = message_transition_ok((enum msg_state)f, (enum msg_state)t);

			if (want != got)
				fail_msg("%s -> %s: expected %s", message_state_name((enum msg_state)f),
					 message_state_name((enum msg_state)t), want ? "legal" : "illegal");
		}
	}
}

static void test_out_of_range(void **state)
{
	(void)state;
	assert_false(message_transition_ok(MSG_STATE_COUNT, MSG_QUEUED));
	assert_false(message_transition_ok(MSG_QUEUED, MSG_STATE_COUNT));
	assert_false(message_transition_ok((enum msg_state)-1, MSG_SENDING));
	assert_string_equal(message_state_name(MSG_STATE_COUNT), "?");
	assert_string_equal(message_state_name((enum msg_state)-1), "?");
	assert_string_equal(message_lane_name(LANE_COUNT), "?");
	assert_false(message_state_final(MSG_STATE_COUNT));
}

static void test_final_states(void **state)
{
	static const struct { enum msg_state s; bool final; } cases[] = {
		{ MSG_QUEUED, false }, { MSG_SENDING, false }, { MSG_SENT, false },
		{ MSG_DELIVERED, true }, { MSG_UNDELIVERED, true }, { MSG_FAILED, true },
		{ MSG_EXPIRED, true }, { MSG_CANCELLED, true }, { MSG_UNCERTAIN, false },
	};

	(void)state;
	assert_int_equal(sizeof(cases) / sizeof(cases[0]), MSG_STATE_COUNT);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(message_state_final(cases[i].s), cases[i].final);
		/* a final state has no way out */
		if (cases[i].final)
			for (int t = 0; t < MSG_STATE_COUNT; t++)
				assert_false(message_transition_ok(cases[i].s, (enum msg_state)t));
	}
}

static void test_state_names(void **state)
{
	/* these strings are stored on disk and shown by the API: fixed */
	static const struct { enum msg_state s; const char *name; } cases[] = {
		{ MSG_QUEUED, "queued" }, { MSG_SENDING, "sending" }, { MSG_SENT, "sent" },
		{ MSG_DELIVERED, "delivered" }, { MSG_UNDELIVERED, "undelivered" },
		{ MSG_FAILED, "failed" }, { MSG_EXPIRED, "expired" }, { MSG_CANCELLED, "cancelled" },
		{ MSG_UNCERTAIN, "uncertain" },
	};

	(void)state;
	assert_int_equal(sizeof(cases) / sizeof(cases[0]), MSG_STATE_COUNT);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum msg_state s = MSG_STATE_COUNT;

		assert_string_equal(message_state_name(cases[i].s), cases[i].name);
		assert_int_equal(message_state_parse(cases[i].name, &s), 0);
		assert_int_equal(s, cases[i].s);
	}
}

static void test_state_parse_bad(void **state)
{
	static const char *const bad[] = { "", "QUEUED", "queued ", "queue", "?", "canceled", NULL };
	enum msg_state s = MSG_SENT;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(message_state_parse(bad[i], &s), -1);
		assert_int_equal(s, MSG_SENT);   /* untouched on failure */
	}
}

static void test_lanes(void **state)
{
	static const struct { enum msg_lane l; const char *name; } cases[] = {
		{ LANE_OTP, "otp" }, { LANE_NORMAL, "normal" }, { LANE_BULK, "bulk" },
	};
	static const char *const bad[] = { "", "OTP", "high", "normal2", NULL };
	enum msg_lane l;

	(void)state;
	assert_int_equal(sizeof(cases) / sizeof(cases[0]), LANE_COUNT);
	/* priority order is enum order: the store sorts by it */
	assert_true(LANE_OTP < LANE_NORMAL && LANE_NORMAL < LANE_BULK);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_string_equal(message_lane_name(cases[i].l), cases[i].name);
		assert_int_equal(message_lane_parse(cases[i].name, &l), 0);
		assert_int_equal(l, cases[i].l);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(message_lane_parse(bad[i], &l), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_pair),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_final_states),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_state_parse_bad),
		cmocka_unit_test(test_lanes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
