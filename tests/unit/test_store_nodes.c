/* test_store_nodes: several nodes on one shared store (the postgresql backend, docs/scale-out.md) —
 * one claim per message, moves out of `sending` only under the node's own lease, the sweep of expired
 * leases (requeue what no modem got, `uncertain` what one did), recover limited to the node's own
 * claims, the node listing; and that sqlite and mem are not shared (the calls do nothing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <poll.h>

#include "queue/store.h"
#include "store_fixture.h"
#include "simroute/log.h"

#define T0 1700000000000LL
#define LEASE 1000

static int64_t add(struct store *st)
{
	struct store_new_msg m = { .to = "+447700900123", .text = "hi", .lane = LANE_NORMAL, .nparts = 1,
				   .created_ms = T0, .allow_carrier = true };
	int64_t id = 0;

	assert_int_equal(store_enqueue(st, &m, 1, &id), 0);
	return id;
}

static enum msg_state state_of(struct store *st, int64_t id)
{
	struct store_msg m;
	enum msg_state s;

	assert_int_equal(store_get(st, id, &m), 0);
	s = m.state;
	store_msg_clear(&m);
	return s;
}

static struct store *second_node(struct fx *f, const char *id)
{
	char err[256];
	struct store *st = store_open("postgresql", f->path, err, sizeof(err));

	if (st == NULL)
		fail_msg("store_open: %s", err);
	assert_int_equal(store_node_begin(st, id, LEASE, T0), 0);
	return st;
}

struct seen {
	char ids[4][STORE_NODE_ID_MAX];
	int64_t claimed[4], heartbeat[4];
	int n;
};

static int seen_cb(void *arg, const struct store_node *nd)
{
	struct seen *s = arg;

	if (s->n < 4) {
		snprintf(s->ids[s->n], sizeof(s->ids[s->n]), "%s", nd->id);
		s->claimed[s->n] = nd->claimed;
		s->heartbeat[s->n] = nd->last_heartbeat_ms;
	}
	s->n++;
	return 0;
}

static int has_error(void *arg, const struct store_event *ev)
{
	int *found = arg;

	if (ev->from == MSG_SENDING && ev->error && strstr(ev->error, "node a lost its claim"))
		(*found)++;
	return 0;
}

static void test_claims_leases_sweep(void **state)
{
	struct fx *f = *state;
	struct store *a = f->st, *b;
	int64_t m1, m2, m3, m4, *ids = NULL;
	struct seen seen = { 0 };
	int found = 0;

	assert_true(store_shared(a));
	assert_int_equal(store_node_begin(a, "a", LEASE, T0), 0);
	b = second_node(f, "b");
	m1 = add(a);
	m2 = add(b);
	m3 = add(a);
	m4 = add(b);

	/* one claim per message: the second node's conditional update changes nothing */
	assert_int_equal(store_transition(a, m1, MSG_QUEUED, MSG_SENDING, "a1", NULL, T0), 0);
	assert_int_equal(store_transition(b, m1, MSG_QUEUED, MSG_SENDING, "b1", NULL, T0), 1);
	assert_int_equal(store_transition(b, m2, MSG_QUEUED, MSG_SENDING, "b1", NULL, T0), 0);
	assert_int_equal(store_record_part(b, m2, 1, -1, "b1", T0), 0);
	assert_int_equal(store_transition(a, m4, MSG_QUEUED, MSG_SENDING, "a2", NULL, T0), 0);
	assert_int_equal(store_record_part(a, m4, 1, -1, "a2", T0), 0);
	/* a node moves only what it holds: b cannot finish a's send, nor record its parts */
	assert_int_equal(store_transition(b, m1, MSG_SENDING, MSG_SENT, NULL, NULL, T0 + 1), 1);
	assert_int_equal(store_record_part(b, m1, 1, 7, "b1", T0 + 1), 1);
	assert_int_equal(state_of(a, m1), MSG_SENDING);

	/* heartbeats renew: nothing expires while both tick */
	assert_int_equal(store_node_tick(a, T0 + 600, "a1,a2", &ids), 0);
	assert_null(ids);
	assert_int_equal(store_node_tick(b, T0 + 700, "b1", &ids), 0);
	assert_int_equal(store_node_tick(b, T0 + 1400, "b1", &ids), 0);
	assert_int_equal(state_of(b, m1), MSG_SENDING);

	/* a stops ticking: once its lease (renewed at +600) passes, b takes its claims back — m1 (no part
	 * handed) to queued and handed back to the caller, m4 (a part handed) to uncertain, never resent */
	assert_int_equal(store_node_tick(b, T0 + 1700, "b1", &ids), 1);
	assert_non_null(ids);
	assert_int_equal(ids[0], m1);
	free(ids);
	ids = NULL;
	assert_int_equal(state_of(b, m1), MSG_QUEUED);
	assert_int_equal(state_of(b, m4), MSG_UNCERTAIN);
	assert_int_equal(state_of(b, m2), MSG_SENDING);   /* b's own claim is renewed, not swept */
	assert_int_equal(state_of(b, m3), MSG_QUEUED);
	assert_int_equal(store_timeline(b, m1, has_error, &found), 2);
	assert_int_equal(found, 1);
	/* a's late result is stale: the message is no longer under its lease */
	assert_int_equal(store_transition(a, m1, MSG_SENDING, MSG_SENT, NULL, NULL, T0 + 1800), 1);
	/* and b may claim it now */
	assert_int_equal(store_transition(b, m1, MSG_QUEUED, MSG_SENDING, "b1", NULL, T0 + 1800), 0);

	/* the listing: both nodes, their last heartbeat and claims */
	assert_int_equal(store_nodes(a, seen_cb, &seen), 2);
	assert_string_equal(seen.ids[0], "a");
	assert_int_equal(seen.heartbeat[0], T0 + 600);
	assert_int_equal(seen.claimed[0], 0);
	assert_string_equal(seen.ids[1], "b");
	assert_int_equal(seen.heartbeat[1], T0 + 1700);
	assert_int_equal(seen.claimed[1], 2);

	/* a restarts: its recovery touches only its own claims, never b's sends in flight */
	store_close(a);
	f->st = a = second_node(f, "a");
	assert_int_equal(store_recover(a, T0 + 2000), 0);
	assert_int_equal(state_of(a, m1), MSG_SENDING);
	assert_int_equal(state_of(a, m2), MSG_SENDING);
	/* b restarts: its own two claims are recovered (m2 had a part handed) */
	store_close(b);
	b = second_node(f, "b");
	assert_int_equal(store_recover(b, T0 + 2100), 2);
	assert_int_equal(state_of(b, m1), MSG_QUEUED);
	assert_int_equal(state_of(b, m2), MSG_UNCERTAIN);
	store_close(b);
}

/* One webhook row, two nodes: one delivers it; the other gets it only once the claim has passed
 * (the first died mid-delivery) or after a result put it back up for grabs. */
static void test_webhook_claims(void **state)
{
	struct fx *f = *state;
	struct store *a = f->st, *b;
	struct store_webhook rows[4];
	struct store_webhook_new w = { .url = "http://127.0.0.1:9/hook", .event = "message.sent", .body = "{}",
				       .message_id = 0, .created_ms = T0 };
	int64_t id1, id2;

	assert_int_equal(store_node_begin(a, "a", LEASE, T0), 0);
	b = second_node(f, "b");
	assert_int_equal(store_webhook_add(a, &w, &id1), 0);
	assert_int_equal(store_webhook_add(a, &w, &id2), 0);
	/* a takes one, b the other: never both the same */
	assert_int_equal(store_webhook_due(a, T0, rows, 1), 1);
	assert_int_equal(rows[0].id, id1);
	store_webhook_clear(&rows[0]);
	assert_int_equal(store_webhook_due(b, T0, rows, 4), 1);
	assert_int_equal(rows[0].id, id2);
	store_webhook_clear(&rows[0]);
	assert_int_equal(store_webhook_due(b, T0 + 10, rows, 4), 1);   /* its own claim comes back */
	assert_int_equal(rows[0].id, id2);
	store_webhook_clear(&rows[0]);
	/* a's delivery failed: retry due at T0 + 100, unclaimed, so b may take it then */
	assert_int_equal(store_webhook_result(a, id1, 0, T0 + 100, "connection refused"), 0);
	assert_int_equal(store_webhook_due(b, T0 + 100, rows, 4), 2);
	store_webhook_clear(&rows[0]);
	store_webhook_clear(&rows[1]);
	assert_int_equal(store_webhook_due(a, T0 + 200, rows, 4), 0);
	/* b goes silent: past its claim (renewed at +100), a takes both */
	assert_int_equal(store_webhook_due(a, T0 + 100 + LEASE + 1, rows, 4), 2);
	store_webhook_clear(&rows[0]);
	store_webhook_clear(&rows[1]);
	store_close(b);
}

/* Every change of the opt-out list or the keys moves its version; an add that changes nothing does not. */
static void test_versions(void **state)
{
	struct fx *f = *state;
	struct store_optout o = { .number = "+447700900777", .source = "api", .created_ms = T0 };
	struct store_api_key k = { .id = "k_1", .name = "crm", .hash = "sha256:00", .scopes = "read", .created_ms = T0 };
	int64_t ov, kv;

	assert_int_equal(store_versions(f->st, &ov, &kv), 0);
	assert_int_equal(ov, 0);
	assert_int_equal(kv, 0);
	assert_int_equal(store_optout_add(f->st, &o), 0);
	assert_int_equal(store_optout_add(f->st, &o), 1);
	assert_int_equal(store_versions(f->st, &ov, &kv), 0);
	assert_int_equal(ov, 1);
	assert_int_equal(store_optout_remove(f->st, o.number), 0);
	assert_int_equal(store_optout_remove(f->st, o.number), 1);
	snprintf(k.hash, sizeof(k.hash), "sha256:%064d", 0);
	assert_int_equal(store_key_add(f->st, &k), 0);
	assert_int_equal(store_key_revoke(f->st, "k_1", T0 + 1), 0);
	assert_int_equal(store_versions(f->st, &ov, &kv), 0);
	assert_int_equal(ov, 2);
	assert_int_equal(kv, 2);
}

/* What b's wake-ups say once readable (within 5 s), or -2 when nothing came. */
static int woken(struct store *b)
{
	struct pollfd pfd = { .fd = store_wake_fd(b), .events = POLLIN };
	int bits = 0;

	for (int i = 0; i < 50 && bits == 0; i++) {
		if (poll(&pfd, 1, 100) > 0)
			bits = store_wake_read(b);
	}
	return bits ? bits : -2;
}

/* LISTEN/NOTIFY: b hears a's enqueues and list changes at commit, not its own, not a rollback. */
static void test_wake_ups(void **state)
{
	struct fx *f = *state;
	struct store *a = f->st, *b;
	struct store_optout o = { .number = "+447700900777", .source = "api", .created_ms = T0 };

	assert_int_equal(store_node_begin(a, "a", LEASE, T0), 0);
	b = second_node(f, "b");
	assert_true(store_wake_fd(b) >= 0);
	assert_int_equal(store_wake_read(b), 0);
	add(a);
	assert_int_equal(woken(b), STORE_WAKE_QUEUE);
	add(b);   /* its own: no news */
	struct pollfd pfd = { .fd = store_wake_fd(b), .events = POLLIN };
	if (poll(&pfd, 1, 300) > 0)
		assert_int_equal(store_wake_read(b), 0);
	assert_int_equal(store_optout_add(a, &o), 0);
	assert_int_equal(woken(b), STORE_WAKE_LISTS);
	store_close(b);
}

/* Every simrouted session on the server ends, as when the server restarts. */
static void kill_sessions(void)
{
	PGconn *c = PQconnectdb(getenv("SIMROUTE_TEST_PG_DSN"));
	PGresult *r = PQexec(c, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'simrouted'");

	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	assert_true(PQntuples(r) >= 1);
	PQclear(r);
	PQfinish(c);
}

/* A lost connection fails the call in progress (and a batch), and the next call works again. */
static void test_connection_lost(void **state)
{
	struct fx *f = *state;
	struct store_msg m;
	int64_t id = add(f->st);

	kill_sessions();
	assert_int_equal(store_get(f->st, id, &m), -1);
	assert_int_equal(state_of(f->st, id), MSG_QUEUED);
	assert_true(add(f->st) > id);
	kill_sessions();
	assert_int_equal(store_batch_begin(f->st, true), -1);
	assert_int_equal(store_batch_begin(f->st, true), 0);
	kill_sessions();
	assert_int_equal(store_transition(f->st, id, MSG_QUEUED, MSG_SENDING, "m1", NULL, T0), -1);
	assert_int_equal(store_batch_end(f->st), -1);
	/* nothing of the batch happened; the store works */
	assert_int_equal(state_of(f->st, id), MSG_QUEUED);
	assert_int_equal(store_transition(f->st, id, MSG_QUEUED, MSG_SENDING, "m1", NULL, T0), 0);
}

/* The wake-up connection lost with every session: a wake-up read says so, the next heartbeat opens
 * it again, and b hears a's enqueues again. */
static void test_wake_reconnect(void **state)
{
	struct fx *f = *state;
	struct store *a = f->st, *b;
	struct store_counts c;
	int64_t *ids = NULL;

	assert_int_equal(store_node_begin(a, "a", LEASE, T0), 0);
	b = second_node(f, "b");
	kill_sessions();
	assert_int_equal(woken(b), -1);
	assert_int_equal(store_wake_fd(b), -1);
	assert_int_equal(store_counts(a, &c), -1);   /* a notices too, and reconnects */
	store_node_tick(b, T0 + 100, "", &ids);       /* its store call may fail; the wake-up is back */
	free(ids);
	assert_true(store_wake_fd(b) >= 0);
	add(a);
	assert_int_equal(woken(b), STORE_WAKE_QUEUE);
	store_close(b);
}

/* SQL on the test's schema, outside the store. */
static void raw_sql(struct fx *f, const char *sql)
{
	PGconn *c = PQconnectdb(f->path);
	PGresult *r = PQexec(c, sql);

	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	PQfinish(c);
}

/* Another host holding the id, alive: refused; once silent past its lease: taken over. The same
 * host (a restart) is never refused. */
static void test_node_id_taken(void **state)
{
	struct fx *f = *state;
	char err[256];
	struct store *b;

	assert_int_equal(store_node_begin(f->st, "a", LEASE, T0), 0);
	b = store_open("postgresql", f->path, err, sizeof(err));
	assert_non_null(b);
	assert_int_equal(store_node_begin(b, "a", LEASE, T0 + 10), 0);   /* same host */
	raw_sql(f, "UPDATE nodes SET host = 'elsewhere' WHERE id = 'a'");
	assert_int_equal(store_node_begin(b, "a", LEASE, T0 + 20), -1);
	assert_int_equal(store_node_begin(b, "a", LEASE, T0 + 10 + LEASE + 1), 0);
	store_close(b);
}

/* Two nodes accept one idempotency key in the same moment: the first commit keeps it; the second
 * request's messages are not stored and it is told so. An expired record is replaced as on one node. */
static void test_idempotency_key_taken(void **state)
{
	struct fx *f = *state;
	struct store *a = f->st, *b;
	struct store_new_msg m[2] = {
		{ .to = "+447700900123", .text = "one", .lane = LANE_NORMAL, .nparts = 1, .created_ms = T0 },
		{ .to = "+447700900123", .text = "two", .lane = LANE_NORMAL, .nparts = 1, .created_ms = T0 },
	};
	struct store_idem_new ia = { .rec = { .owner = "crm", .key = "k1", .status = 202, .count = 2,
					      .created_ms = T0, .live_after_ms = T0 - 1000 } };
	struct store_idem_new ib = ia;
	struct store_counts c;
	struct store_idem got;
	int64_t ids[2];

	assert_int_equal(store_node_begin(a, "a", LEASE, T0), 0);
	b = second_node(f, "b");
	assert_int_equal(store_enqueue_idem(a, m, 2, ids, &ia, 1), 0);
	assert_false(ia.taken);
	ib.rec.created_ms = T0 + 5;
	ib.rec.live_after_ms = T0 + 5 - 1000;
	assert_int_equal(store_enqueue_idem(b, m, 2, ids, &ib, 1), 0);
	assert_true(ib.taken);
	assert_int_equal(ids[0], 0);
	assert_int_equal(ids[1], 0);
	assert_int_equal(store_counts(b, &c), 0);
	assert_int_equal(c.by_state[MSG_QUEUED], 2);
	assert_int_equal(store_idem_get(b, "crm", "k1", 0, &got), 0);
	assert_int_equal(got.created_ms, T0);
	/* once a's record has expired (live_after past it), b's request replaces it */
	ib.taken = false;
	ib.rec.created_ms = T0 + 2000;
	ib.rec.live_after_ms = T0 + 1000;
	assert_int_equal(store_enqueue_idem(b, m, 2, ids, &ib, 1), 0);
	assert_false(ib.taken);
	assert_true(ids[0] > 0);
	assert_int_equal(store_idem_get(b, "crm", "k1", 0, &got), 0);
	assert_int_equal(got.first_id, ids[0]);
	store_close(b);
}

static void test_node_id_checked(void **state)
{
	struct fx *f = *state;
	int64_t *ids = NULL;

	assert_int_equal(store_node_begin(f->st, "", LEASE, T0), -1);
	assert_int_equal(store_node_begin(f->st, "a b", LEASE, T0), -1);
	assert_int_equal(store_node_begin(f->st, "a'--", LEASE, T0), -1);
	assert_int_equal(store_node_begin(f->st, "a", 10, T0), -1);
	/* before store_node_begin a tick does nothing */
	assert_int_equal(store_node_tick(f->st, T0, "", &ids), 0);
	assert_null(ids);
}

/* sqlite and mem hold one node's queue: the calls do nothing and the listing is empty */
static void test_not_shared(void **state)
{
	struct fx *f = *state;
	struct seen seen = { 0 };
	int64_t *ids = NULL;

	assert_false(store_shared(f->st));
	assert_int_equal(store_node_begin(f->st, "a", LEASE, T0), 0);
	assert_int_equal(store_node_tick(f->st, T0, "m1", &ids), 0);
	assert_null(ids);
	assert_int_equal(store_nodes(f->st, seen_cb, &seen), 0);
	int64_t ov = -1, kv = -1;
	assert_int_equal(store_versions(f->st, &ov, &kv), 0);
	assert_int_equal(ov, 0);
	assert_int_equal(kv, 0);
	assert_int_equal(store_wake_fd(f->st), -1);
	assert_int_equal(store_wake_read(f->st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		PG(test_claims_leases_sweep),
		PG(test_node_id_checked),
		PG(test_webhook_claims),
		PG(test_versions),
		PG(test_wake_ups),
		PG(test_connection_lost),
		PG(test_wake_reconnect),
		PG(test_node_id_taken),
		PG(test_idempotency_key_taken),
		BOTH(test_not_shared),
	};

	log_init("test_store_nodes", getenv("TEST_LOG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
