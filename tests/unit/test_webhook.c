/* test_webhook: the webhook signature (vectors from openssl, not from our own code), the retry
 * back-off, the event bodies, and the outbox store functions on both backends (order per message,
 * retries, give-up, replay, listing) plus the store hooks that write the outbox. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <unistd.h>

#include "api/webhook.h"
#include "queue/outbox.h"
#include "queue/store.h"
#include "store_fixture.h"
#include "simroute/log.h"

/* Computed independently when this test was written:
 *   printf '%s' '1700000000.{"event":"message.sent","id":"msg_1_sent"}' | openssl dgst -sha256 -hmac 'whsec_test'
 *   printf '%s' '1.' | openssl dgst -sha256 -hmac 'k' */
static void test_sign_vectors(void **state)
{
	const char *body = "{\"event\":\"message.sent\",\"id\":\"msg_1_sent\"}";
	char sig[WEBHOOK_SIG_MAX];

	(void)state;
	assert_int_equal(webhook_sign("whsec_test", 1700000000LL, body, strlen(body), sig), 0);
	assert_string_equal(sig, "sha256=620eebd9494505cd7928d4727082e96c8f7c547a8516a0f123280bc5b323683c");
	assert_int_equal(webhook_sign("k", 1, "", 0, sig), 0);
	assert_string_equal(sig, "sha256=37c39ff90c9eaf98b76f1cf1a38399fa408e930f34e04a5179d0dc6489fe9c78");
}

static void test_backoff(void **state)
{
	(void)state;
	assert_int_equal(webhook_backoff_ms(1), 5000);
	assert_int_equal(webhook_backoff_ms(2), 10000);
	assert_int_equal(webhook_backoff_ms(3), 20000);
	assert_int_equal(webhook_backoff_ms(10), 2560000);
	assert_int_equal(webhook_backoff_ms(11), 3600000);
	assert_int_equal(webhook_backoff_ms(1000), 3600000);
}

static int64_t add(struct store *st, int64_t msg, const char *event, int64_t at)
{
	struct store_webhook_new w = { .url = "http://127.0.0.1:9/hook", .event = event, .body = "{}",
				       .message_id = msg, .created_ms = at };
	int64_t id = 0;

	assert_int_equal(store_webhook_add(st, &w, &id), 0);
	assert_true(id > 0);
	return id;
}

/* Ids of the due rows, in order, into ids; returns the count. */
static int due(struct store *st, int64_t now, int64_t *ids, size_t max)
{
	struct store_webhook rows[16];
	int n = store_webhook_due(st, now, rows, max < 16 ? max : 16);

	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		ids[i] = rows[i].id;
		assert_string_equal(rows[i].body, "{}");
		store_webhook_clear(&rows[i]);
	}
	return n;
}

static void test_outbox_order(void **state)
{
	struct fx *f = *state;
	int64_t ids[16];

	int64_t a1 = add(f->st, 7, "message.sent", 1000);
	int64_t b1 = add(f->st, 8, "message.sent", 1001);
	int64_t a2 = add(f->st, 7, "message.delivered", 1002);
	int64_t in = add(f->st, 0, "inbound.received", 1003);
	int64_t in2 = add(f->st, 0, "inbound.received", 1004);

	assert_int_equal(due(f->st, 999, ids, 16), 0);
	/* message 7's second event waits for its first; inbound rows are not ordered */
	assert_int_equal(due(f->st, 5000, ids, 16), 4);
	assert_int_equal(ids[0], a1);
	assert_int_equal(ids[1], b1);
	assert_int_equal(ids[2], in);
	assert_int_equal(ids[3], in2);
	/* a1 fails: retried later; a2 still waits behind it */
	assert_int_equal(store_webhook_result(f->st, a1, 0, 9000, "HTTP 500"), 0);
	assert_int_equal(due(f->st, 5000, ids, 16), 3);
	assert_int_equal(ids[0], b1);
	assert_int_equal(due(f->st, 9000, ids, 16), 4);
	assert_int_equal(ids[0], b1);
	/* a1 delivered: a2 is next */
	assert_int_equal(store_webhook_result(f->st, a1, 9001, 0, ""), 0);
	assert_int_equal(due(f->st, 9001, ids, 1), 1);
	assert_int_equal(ids[0], b1);
	int n = due(f->st, 9001, ids, 16);
	assert_int_equal(n, 4);
	/* oldest due first: a2 was created (and first due) before the inbound rows */
	assert_int_equal(ids[1], a2);
	assert_int_equal(store_webhook_result(f->st, 999, 1, 0, NULL), 1);
}

struct listing {
	int n;
	struct store_webhook rows[8];
};

static int list_cb(void *arg, const struct store_webhook *w)
{
	struct listing *l = arg;

	assert_null(w->body);
	l->rows[l->n++] = *w;
	return l->n == 8;
}

static void test_outbox_give_up_replay_list(void **state)
{
	struct fx *f = *state;
	int64_t ids[16];
	struct listing l = { 0 };
	struct store_webhook_filter flt = { .limit = 8 };

	struct store_webhook_backlog wb;
	assert_int_equal(store_webhook_backlog(f->st, &wb), 0);
	assert_true(wb.pending == 0 && wb.given_up == 0 && wb.oldest_pending_ms == 0);
	int64_t a1 = add(f->st, 7, "message.sent", 1000);
	int64_t a2 = add(f->st, 7, "message.delivered", 1001);
	int64_t b1 = add(f->st, 8, "message.sent", 1002);
	assert_int_equal(store_webhook_backlog(f->st, &wb), 0);
	assert_true(wb.pending == 3 && wb.given_up == 0 && wb.oldest_pending_ms == 1000);
	/* a1 given up: a2 may go */
	assert_int_equal(store_webhook_result(f->st, a1, 0, 0, "HTTP 500"), 0);
	assert_int_equal(due(f->st, 2000, ids, 16), 2);
	assert_int_equal(ids[0], a2);
	assert_int_equal(store_webhook_result(f->st, b1, 1500, 0, ""), 0);
	/* a1 given up, b1 delivered: a2 is the backlog */
	assert_int_equal(store_webhook_backlog(f->st, &wb), 0);
	assert_true(wb.pending == 1 && wb.given_up == 1 && wb.oldest_pending_ms == 1001);

	assert_int_equal(store_webhook_list(f->st, &flt, list_cb, &l), 3);
	assert_int_equal(l.rows[0].id, b1);
	assert_true(l.rows[0].delivered_ms == 1500);
	assert_int_equal(l.rows[0].attempts, 1);
	assert_int_equal(l.rows[2].id, a1);
	assert_int_equal(l.rows[2].next_ms, 0);
	assert_int_equal(l.rows[2].delivered_ms, 0);
	assert_string_equal(l.rows[2].last_error, "HTTP 500");
	assert_string_equal(l.rows[2].event, "message.sent");
	assert_int_equal(l.rows[2].message_id, 7);

	memset(&l, 0, sizeof(l));
	flt.failed = true;
	assert_int_equal(store_webhook_list(f->st, &flt, list_cb, &l), 1);
	assert_int_equal(l.rows[0].id, a1);
	memset(&l, 0, sizeof(l));
	flt = (struct store_webhook_filter){ .limit = 8, .before_id = b1 };
	assert_int_equal(store_webhook_list(f->st, &flt, list_cb, &l), 2);
	assert_int_equal(l.rows[0].id, a2);

	/* replay: the given-up and the delivered row are pending again, now */
	assert_int_equal(store_webhook_replay(f->st, a1, 3000), 0);
	assert_int_equal(store_webhook_replay(f->st, b1, 3000), 0);
	assert_int_equal(store_webhook_replay(f->st, 999, 3000), 1);
	assert_int_equal(due(f->st, 3000, ids, 16), 2);
	assert_int_equal(ids[0], a1);   /* a1 is older than a2 again: a2 waits */
	assert_int_equal(ids[1], b1);
}

static void test_bad_args(void **state)
{
	struct fx *f = *state;
	struct store_webhook_new w = { .url = "", .event = "message.sent", .body = "{}", .created_ms = 1 };
	int64_t id;

	assert_int_equal(store_webhook_add(f->st, &w, &id), -1);
	w.url = "http://x";
	w.created_ms = 0;
	assert_int_equal(store_webhook_add(f->st, &w, &id), -1);
}

/* The outbox as the store's hooks: a final state writes one row, to the callback_url if the message
 * has one, else the global url; expiry too; other states none. */
static void test_outbox_hooks(void **state)
{
	struct fx *f = *state;
	struct outbox *ob = outbox_new(f->st, "http://global/hook", NULL, NULL);
	struct store_new_msg m[2] = {
		{ .to = "+447700900001", .text = "a", .lane = LANE_NORMAL, .nparts = 1, .created_ms = 1000 },
		{ .to = "+447700900002", .text = "b", .lane = LANE_OTP, .nparts = 1, .created_ms = 1000,
		  .expires_ms = 1500, .callback_url = "http://mine/cb", .reference = "r2" },
	};
	int64_t ids[2];
	struct listing l = { 0 };
	struct store_webhook_filter flt = { .limit = 8 };
	struct store_webhook rows[4];

	assert_non_null(ob);
	assert_int_equal(store_enqueue(f->st, m, 2, ids), 0);
	assert_int_equal(store_transition(f->st, ids[0], MSG_QUEUED, MSG_SENDING, "m0", NULL, 1100), 0);
	assert_int_equal(store_batch_begin(f->st, true), 0);
	assert_int_equal(store_transition(f->st, ids[0], MSG_SENDING, MSG_SENT, NULL, NULL, 1200), 0);
	assert_int_equal(store_batch_end(f->st), 0);
	assert_int_equal(store_expire(f->st, 2000), 1);
	assert_int_equal(store_webhook_list(f->st, &flt, list_cb, &l), 2);
	assert_string_equal(l.rows[0].event, "message.expired");
	assert_string_equal(l.rows[0].url, "http://mine/cb");
	assert_int_equal(l.rows[0].message_id, ids[1]);
	assert_string_equal(l.rows[1].event, "message.sent");
	assert_string_equal(l.rows[1].url, "http://global/hook");

	int n = store_webhook_due(f->st, 5000, rows, 4);
	assert_int_equal(n, 2);
	json_t *doc = json_loads(rows[0].body, 0, NULL);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "event")), "message.sent");
	assert_string_equal(json_string_value(json_object_get(doc, "id")), "msg_1_sent");
	json_t *msg = json_object_get(doc, "message");
	assert_int_equal(json_integer_value(json_object_get(msg, "id")), ids[0]);
	assert_string_equal(json_string_value(json_object_get(msg, "status")), "sent");
	assert_string_equal(json_string_value(json_object_get(msg, "route")), "m0");
	assert_string_equal(json_string_value(json_object_get(msg, "priority")), "normal");
	assert_true(json_is_null(json_object_get(msg, "reference")));
	assert_non_null(json_string_value(json_object_get(msg, "sent_at")));
	json_decref(doc);
	for (int i = 0; i < n; i++)
		store_webhook_clear(&rows[i]);

	/* inbound goes to the global url */
	struct store_inbound_part p = { .route = "m0", .from = "+447700900009", .text = "hi", .encoding = "gsm7",
					.scts = "", .ref = 0, .total = 1, .seq = 1, .received_ms = 3000 };
	int64_t in_id = 0;
	assert_int_equal(store_inbound_add(f->st, &p, &in_id), 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_webhook_list(f->st, &flt, list_cb, &l), 3);
	assert_string_equal(l.rows[0].event, "inbound.received");
	assert_int_equal(l.rows[0].message_id, 0);
	outbox_free(ob);
	/* unhooked: no more rows */
	assert_int_equal(store_transition(f->st, ids[0], MSG_SENT, MSG_DELIVERED, NULL, NULL, 4000), 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_webhook_list(f->st, &flt, list_cb, &l), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_vectors),
		cmocka_unit_test(test_backoff),
		ALL(test_outbox_order),
		ALL(test_outbox_give_up_replay_list),
		ALL(test_bad_args),
		ALL(test_outbox_hooks),
	};

	log_init("test_webhook", getenv("TEST_LOG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
