/* test_store: the message store through its interface, on both backends (sqlite, mem), plus the
 * sqlite-only properties: reopen, schema migrations, future versions refused, a full disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/store.h"
#include "store_fixture.h"
#include "simroute/log.h"

static void reopen(struct fx *f)
{
	char err[256];

	store_close(f->st);
	f->st = store_open(f->backend, f->path, err, sizeof(err));
	if (f->st == NULL)
		fail_msg("reopen: %s", err);
}

static struct store_new_msg nm(const char *to, enum msg_lane lane, int nparts)
{
	return (struct store_new_msg){ .to = to, .text = "hello", .lane = lane, .nparts = nparts,
				       .created_ms = 1000, .expires_ms = 0 };
}

static int64_t add(struct store *st, enum msg_lane lane, int nparts)
{
	struct store_new_msg m = nm("+447700900123", lane, nparts);
	int64_t id = 0;

	assert_int_equal(store_enqueue(st, &m, 1, &id), 0);
	assert_true(id > 0);
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

/* ---- enqueue / get ---- */

static void test_enqueue_ids(void **state)
{
	struct fx *f = *state;
	struct store_new_msg b[5];
	int64_t ids[5], more[2];

	for (int i = 0; i < 5; i++)
		b[i] = nm("+447700900001", (enum msg_lane)(i % LANE_COUNT), 1);
	assert_int_equal(store_enqueue(f->st, b, 5, ids), 0);
	for (int i = 1; i < 5; i++)
		assert_true(ids[i] > ids[i - 1]);
	assert_int_equal(store_enqueue(f->st, b, 2, more), 0);
	assert_true(more[0] > ids[4] && more[1] > more[0]);
	assert_int_equal(store_enqueue(f->st, b, 0, NULL), 0);   /* empty batch: nothing to do */
}

static void test_enqueue_rejects_bad(void **state)
{
	struct fx *f = *state;
	struct store_new_msg good = nm("+447700900001", LANE_NORMAL, 1);
	struct store_new_msg bad[] = { good, good, good, good, good };
	struct store_counts c;
	int64_t ids[2];

	bad[0].nparts = 0;
	bad[1].to = "+123456789012345678901234567890123456";   /* >= STORE_TO_MAX */
	bad[2].lane = LANE_COUNT;
	bad[3].text = NULL;
	bad[4].to = "";
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct store_new_msg batch[2] = { good, bad[i] };

		assert_int_equal(store_enqueue(f->st, batch, 2, ids), -1);
	}
	/* all or nothing: the good message of each batch was not stored either */
	assert_int_equal(store_counts(f->st, &c), 0);
	assert_int_equal(c.by_state[MSG_QUEUED], 0);
}

static void test_get_fields(void **state)
{
	struct fx *f = *state;
	struct store_new_msg in = { .to = "+447700900123", .text = "Your code is 123456 \xe2\x82\xac",
				    .lane = LANE_OTP, .nparts = 2, .created_ms = 1700000000123,
				    .expires_ms = 1700000300123 };
	struct store_msg m;
	int64_t id;

	assert_int_equal(store_enqueue(f->st, &in, 1, &id), 0);
	assert_int_equal(store_get(f->st, id, &m), 0);
	assert_int_equal(m.id, id);
	assert_string_equal(m.to, in.to);
	assert_string_equal(m.text, in.text);
	assert_int_equal(m.lane, LANE_OTP);
	assert_int_equal(m.state, MSG_QUEUED);
	assert_int_equal(m.nparts, 2);
	assert_int_equal(m.parts_sent, 0);
	assert_int_equal(m.attempts, 0);
	assert_string_equal(m.route, "");
	assert_string_equal(m.last_error, "");
	assert_int_equal(m.created_ms, in.created_ms);
	assert_int_equal(m.updated_ms, in.created_ms);
	assert_int_equal(m.sent_ms, 0);
	assert_int_equal(m.expires_ms, in.expires_ms);
	store_msg_clear(&m);
	assert_null(m.text);

	assert_int_equal(store_get(f->st, id + 1000, &m), 1);
	assert_int_equal(store_get(f->st, 0, &m), 1);
	assert_int_equal(store_get(f->st, -5, &m), 1);
}

/* ---- load_pending ---- */

struct seen {
	int64_t ids[1500];
	enum msg_lane lanes[1500];
	size_t n;
	size_t stop_at;                 /* return non-zero on this visit (1-based), 0: never */
	struct store *expire_in;        /* re-enter the store: expire each visited message */
};

static int seen_cb(void *arg, int64_t id, enum msg_lane lane, int64_t expires_ms)
{
	struct seen *s = arg;

	(void)expires_ms;
	s->ids[s->n] = id;
	s->lanes[s->n] = lane;
	s->n++;
	if (s->expire_in)
		assert_int_equal(store_transition(s->expire_in, id, MSG_QUEUED, MSG_EXPIRED, NULL,
						  "ttl", 5000), 0);
	return s->stop_at != 0 && s->n == s->stop_at;
}

static void test_pending_order(void **state)
{
	struct fx *f = *state;
	static const enum msg_lane lanes[] = { LANE_BULK, LANE_OTP, LANE_NORMAL, LANE_OTP,
					       LANE_BULK, LANE_NORMAL, LANE_OTP };
	/* per lane, oldest first; ids[3] is sending and ids[4] cancelled, so not listed */
	static const struct { enum msg_lane lane; int64_t after; int n; int want[3]; } cases[] = {
		{ LANE_OTP, 0, 2, { 1, 6 } },
		{ LANE_NORMAL, 0, 2, { 2, 5 } },
		{ LANE_BULK, 0, 1, { 0 } },
		{ LANE_OTP, -1, 1, { 6 } },      /* after = ids[1]: the rest of the lane */
		{ LANE_OTP, -6, 0, { 0 } },      /* after = ids[6]: nothing left */
		{ LANE_BULK, 999, 0, { 0 } },    /* past the end */
	};
	int64_t ids[7];

	for (int i = 0; i < 7; i++)
		ids[i] = add(f->st, lanes[i], 1);
	assert_int_equal(store_transition(f->st, ids[3], MSG_QUEUED, MSG_SENDING, "a1", NULL, 2000), 0);
	assert_int_equal(store_transition(f->st, ids[4], MSG_QUEUED, MSG_CANCELLED, NULL, NULL, 2000), 0);

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct seen s = { 0 };
		/* negative: "the id of ids[-after]"; else a literal id */
		int64_t after = cases[c].after < 0 ? ids[-cases[c].after] : cases[c].after;

		assert_int_equal(store_load_pending(f->st, cases[c].lane, after, 0, seen_cb, &s),
				 cases[c].n);
		assert_int_equal(s.n, cases[c].n);
		for (int i = 0; i < cases[c].n; i++) {
			assert_int_equal(s.ids[i], ids[cases[c].want[i]]);
			assert_int_equal(s.lanes[i], cases[c].lane);
		}
	}
}

static void test_pending_paging(void **state)
{
	struct fx *f = *state;

	/* more than one internal chunk (256) per lane, lanes interleaved */
	for (int i = 0; i < 1500; i++)
		add(f->st, (enum msg_lane)((i * 7) % LANE_COUNT), 1);
	for (int l = 0; l < LANE_COUNT; l++) {
		struct seen all = { 0 }, page = { 0 };
		int64_t after = 0;
		size_t got = 0;
		int n;

		assert_int_equal(store_load_pending(f->st, (enum msg_lane)l, 0, 0, seen_cb, &all), 500);
		for (size_t i = 1; i < all.n; i++)
			assert_true(all.ids[i] > all.ids[i - 1]);

		/* pages of 3 give the same sequence */
		while ((n = store_load_pending(f->st, (enum msg_lane)l, after, 3, seen_cb, &page)) > 0) {
			assert_true(n <= 3);
			got += (size_t)n;
			after = page.ids[page.n - 1];
		}
		assert_int_equal(n, 0);
		assert_int_equal(got, 500);
		assert_memory_equal(page.ids, all.ids, 500 * sizeof(all.ids[0]));

		/* a limit larger than a chunk */
		memset(&page, 0, sizeof(page));
		assert_int_equal(store_load_pending(f->st, (enum msg_lane)l, 0, 300, seen_cb, &page), 300);
		assert_memory_equal(page.ids, all.ids, 300 * sizeof(all.ids[0]));
	}
}

static void test_pending_early_stop(void **state)
{
	struct fx *f = *state;
	struct seen s = { .stop_at = 3 };

	for (int i = 0; i < 10; i++)
		add(f->st, LANE_NORMAL, 1);
	assert_int_equal(store_load_pending(f->st, LANE_NORMAL, 0, 0, seen_cb, &s), 3);
	assert_int_equal(s.n, 3);
}

static void test_pending_reentrant(void **state)
{
	struct fx *f = *state;
	struct seen s = { .expire_in = f->st };
	struct store_counts c;

	for (int i = 0; i < 600; i++)
		add(f->st, (enum msg_lane)(i % 2 ? LANE_BULK : LANE_OTP), 1);
	assert_int_equal(store_load_pending(f->st, LANE_BULK, 0, 0, seen_cb, &s), 300);
	assert_int_equal(store_counts(f->st, &c), 0);
	assert_int_equal(c.by_state[MSG_EXPIRED], 300);
	assert_int_equal(c.queued_by_lane[LANE_BULK], 0);
	assert_int_equal(c.queued_by_lane[LANE_OTP], 300);
}

static void test_pending_bad_args(void **state)
{
	struct fx *f = *state;
	struct seen s = { 0 };

	assert_int_equal(store_load_pending(f->st, LANE_COUNT, 0, 0, seen_cb, &s), -1);
	assert_int_equal(store_load_pending(f->st, LANE_OTP, 0, 0, NULL, &s), -1);
}

/* ---- transitions ---- */

/* The legal path from queued to each state. */
static const enum msg_state paths[MSG_STATE_COUNT][4] = {
	[MSG_QUEUED] = { MSG_QUEUED },
	[MSG_SENDING] = { MSG_SENDING, MSG_QUEUED },
	[MSG_SENT] = { MSG_SENDING, MSG_SENT, MSG_QUEUED },
	[MSG_DELIVERED] = { MSG_SENDING, MSG_SENT, MSG_DELIVERED, MSG_QUEUED },
	[MSG_UNDELIVERED] = { MSG_SENDING, MSG_SENT, MSG_UNDELIVERED, MSG_QUEUED },
	[MSG_FAILED] = { MSG_FAILED, MSG_QUEUED },
	[MSG_EXPIRED] = { MSG_EXPIRED, MSG_QUEUED },
	[MSG_CANCELLED] = { MSG_CANCELLED, MSG_QUEUED },
	[MSG_UNCERTAIN] = { MSG_SENDING, MSG_UNCERTAIN, MSG_QUEUED },
};

/* Walk a message along paths[target] (terminated by the first MSG_QUEUED). */
static void bring_to(struct store *st, int64_t id, enum msg_state target)
{
	enum msg_state cur = MSG_QUEUED;

	for (int i = 0; i < 4 && paths[target][i] != MSG_QUEUED; i++) {
		assert_int_equal(store_transition(st, id, cur, paths[target][i], "r", NULL, 2000), 0);
		cur = paths[target][i];
	}
	assert_int_equal(state_of(st, id), target);
}

static void test_transition_every_pair(void **state)
{
	struct fx *f = *state;

	for (int from = 0; from < MSG_STATE_COUNT; from++) {
		for (int to = 0; to < MSG_STATE_COUNT; to++) {
			int64_t id = add(f->st, LANE_NORMAL, 1);
			bool ok = message_transition_ok((enum msg_state)from, (enum msg_state)to);
			int rc;

			bring_to(f->st, id, (enum msg_state)from);
			rc = store_transition(f->st, id, (enum msg_state)from, (enum msg_state)to, NULL,
					      NULL, 3000);
			if (rc != (ok ? 0 : -1))
				fail_msg("%s -> %s: rc %d", message_state_name((enum msg_state)from),
					 message_state_name((enum msg_state)to), rc);
			assert_int_equal(state_of(f->st, id), ok ? to : from);
		}
	}
}

static void test_transition_stale(void **state)
{
	struct fx *f = *state;
	int64_t id = add(f->st, LANE_OTP, 1);

	assert_int_equal(store_transition(f->st, id, MSG_QUEUED, MSG_SENDING, "a1", NULL, 2000), 0);
	/* someone else already moved it: legal pair, wrong stored state */
	assert_int_equal(store_transition(f->st, id, MSG_QUEUED, MSG_CANCELLED, NULL, NULL, 2100), 1);
	assert_int_equal(store_transition(f->st, id, MSG_UNCERTAIN, MSG_SENT, NULL, NULL, 2100), 1);
	assert_int_equal(state_of(f->st, id), MSG_SENDING);
	/* unknown id */
	assert_int_equal(store_transition(f->st, id + 99, MSG_QUEUED, MSG_SENDING, NULL, NULL, 2100), 1);
}

static void test_transition_fields(void **state)
{
	struct fx *f = *state;
	int64_t id = add(f->st, LANE_NORMAL, 1);
	struct store_msg m;

	assert_int_equal(store_transition(f->st, id, MSG_QUEUED, MSG_SENDING, "a1", NULL, 2000), 0);
	assert_int_equal(store_get(f->st, id, &m), 0);
	assert_int_equal(m.attempts, 1);
	assert_string_equal(m.route, "a1");
	assert_int_equal(m.updated_ms, 2000);
	store_msg_clear(&m);

	assert_int_equal(store_transition(f->st, id, MSG_SENDING, MSG_QUEUED, NULL, "CMS 38", 3000), 0);
	assert_int_equal(store_transition(f->st, id, MSG_QUEUED, MSG_SENDING, "b2", NULL, 4000), 0);
	assert_int_equal(store_transition(f->st, id, MSG_SENDING, MSG_SENT, NULL, NULL, 5000), 0);
	assert_int_equal(store_get(f->st, id, &m), 0);
	assert_int_equal(m.state, MSG_SENT);
	assert_int_equal(m.attempts, 2);
	assert_string_equal(m.route, "b2");            /* NULL route keeps the last one */
	assert_string_equal(m.last_error, "CMS 38");   /* NULL error keeps the last one */
	assert_int_equal(m.sent_ms, 5000);
	assert_int_equal(m.updated_ms, 5000);
	store_msg_clear(&m);

	assert_int_equal(store_transition(f->st, id, MSG_SENT, MSG_DELIVERED, NULL, NULL, 9000), 0);
	assert_int_equal(store_get(f->st, id, &m), 0);
	assert_int_equal(m.sent_ms, 5000);             /* delivery does not move the send time */
	store_msg_clear(&m);

	/* uncertain resolved straight to delivered: it was sent, so sent_ms is set */
	id = add(f->st, LANE_NORMAL, 1);
	bring_to(f->st, id, MSG_UNCERTAIN);
	assert_int_equal(store_transition(f->st, id, MSG_UNCERTAIN, MSG_DELIVERED, NULL, NULL, 7000), 0);
	assert_int_equal(store_get(f->st, id, &m), 0);
	assert_int_equal(m.sent_ms, 7000);
	store_msg_clear(&m);
}

struct tl {
	struct store_event ev[16];
	char route[16][16], error[16][16];
	bool has_route[16], has_error[16];
	int n;
};

static int tl_cb(void *arg, const struct store_event *ev)
{
	struct tl *t = arg;

	t->ev[t->n] = *ev;
	t->has_route[t->n] = ev->route != NULL;
	t->has_error[t->n] = ev->error != NULL;
	snprintf(t->route[t->n], 16, "%s", ev->route ? ev->route : "");
	snprintf(t->error[t->n], 16, "%s", ev->error ? ev->error : "");
	t->n++;
	return 0;
}

static void test_timeline(void **state)
{
	struct fx *f = *state;
	int64_t id = add(f->st, LANE_OTP, 1), other = add(f->st, LANE_OTP, 1);
	struct tl t = { 0 };

	assert_int_equal(store_transition(f->st, id, MSG_QUEUED, MSG_SENDING, "a1", NULL, 2000), 0);
	assert_int_equal(store_transition(f->st, other, MSG_QUEUED, MSG_CANCELLED, NULL, NULL, 2050), 0);
	assert_int_equal(store_transition(f->st, id, MSG_SENDING, MSG_UNCERTAIN, NULL, "timeout", 2100), 0);
	assert_int_equal(store_transition(f->st, id, MSG_UNCERTAIN, MSG_DELIVERED, NULL, NULL, 2200), 0);
	/* refused moves leave no trace */
	assert_int_equal(store_transition(f->st, id, MSG_DELIVERED, MSG_QUEUED, NULL, NULL, 2300), -1);
	assert_int_equal(store_transition(f->st, id, MSG_SENT, MSG_DELIVERED, NULL, NULL, 2300), 1);

	assert_int_equal(store_timeline(f->st, id, tl_cb, &t), 3);
	assert_int_equal(t.ev[0].from, MSG_QUEUED);
	assert_int_equal(t.ev[0].to, MSG_SENDING);
	assert_int_equal(t.ev[0].at_ms, 2000);
	assert_true(t.has_route[0]);
	assert_string_equal(t.route[0], "a1");
	assert_false(t.has_error[0]);
	assert_int_equal(t.ev[1].to, MSG_UNCERTAIN);
	assert_false(t.has_route[1]);
	assert_string_equal(t.error[1], "timeout");
	assert_int_equal(t.ev[2].from, MSG_UNCERTAIN);
	assert_int_equal(t.ev[2].to, MSG_DELIVERED);
	assert_int_equal(t.ev[2].at_ms, 2200);

	memset(&t, 0, sizeof(t));
	assert_int_equal(store_timeline(f->st, id + 100, tl_cb, &t), 0);
}

/* ---- parts ---- */

static int parts_sent(struct store *st, int64_t id)
{
	struct store_msg m;
	int n;

	assert_int_equal(store_get(st, id, &m), 0);
	n = m.parts_sent;
	store_msg_clear(&m);
	return n;
}

static void test_record_part(void **state)
{
	struct fx *f = *state;
	int64_t id = add(f->st, LANE_NORMAL, 3), queued = add(f->st, LANE_NORMAL, 1);

	/* not sending: refused, nothing counted */
	assert_int_equal(store_record_part(f->st, queued, 1, 7, "a1", 2000), 1);
	assert_int_equal(store_record_part(f->st, id + 100, 1, 7, "a1", 2000), 1);
	assert_int_equal(parts_sent(f->st, queued), 0);

	assert_int_equal(store_transition(f->st, id, MSG_QUEUED, MSG_SENDING, "a1", NULL, 2000), 0);
	assert_int_equal(store_record_part(f->st, id, 1, 10, "a1", 2100), 0);
	assert_int_equal(parts_sent(f->st, id), 1);
	/* the same part again (a duplicate event) is not counted twice */
	assert_int_equal(store_record_part(f->st, id, 1, 10, "a1", 2150), 0);
	assert_int_equal(parts_sent(f->st, id), 1);
	assert_int_equal(store_record_part(f->st, id, 2, 11, "a1", 2200), 0);
	assert_int_equal(parts_sent(f->st, id), 2);
	/* out of 1..nparts */
	assert_int_equal(store_record_part(f->st, id, 0, 12, "a1", 2300), -1);
	assert_int_equal(store_record_part(f->st, id, 4, 12, "a1", 2300), -1);
	assert_int_equal(parts_sent(f->st, id), 2);

	/* a late +CMGS after a timeout still counts */
	assert_int_equal(store_transition(f->st, id, MSG_SENDING, MSG_UNCERTAIN, NULL, "timeout", 2400), 0);
	assert_int_equal(store_record_part(f->st, id, 3, 12, "a1", 2500), 0);
	assert_int_equal(parts_sent(f->st, id), 3);

	/* policy: resend. The new attempt starts from zero parts, and re-sent parts count again */
	assert_int_equal(store_transition(f->st, id, MSG_UNCERTAIN, MSG_QUEUED, NULL, NULL, 2600), 0);
	assert_int_equal(parts_sent(f->st, id), 0);
	assert_int_equal(store_transition(f->st, id, MSG_QUEUED, MSG_SENDING, "b2", NULL, 2700), 0);
	assert_int_equal(parts_sent(f->st, id), 0);
	assert_int_equal(store_record_part(f->st, id, 1, 40, "b2", 2800), 0);
	assert_int_equal(parts_sent(f->st, id), 1);
}

/* ---- recovery and counts ---- */

static void test_recover(void **state)
{
	struct fx *f = *state;
	int64_t none = add(f->st, LANE_OTP, 2), some = add(f->st, LANE_OTP, 2);
	int64_t queued = add(f->st, LANE_NORMAL, 1), sent = add(f->st, LANE_BULK, 1);
	struct store_msg m;
	struct tl t = { 0 };

	assert_int_equal(store_transition(f->st, none, MSG_QUEUED, MSG_SENDING, "a1", NULL, 2000), 0);
	assert_int_equal(store_transition(f->st, some, MSG_QUEUED, MSG_SENDING, "a2", NULL, 2000), 0);
	assert_int_equal(store_record_part(f->st, some, 1, 5, "a2", 2100), 0);
	bring_to(f->st, sent, MSG_SENT);

	assert_int_equal(store_recover(f->st, 9000), 2);
	assert_int_equal(state_of(f->st, none), MSG_QUEUED);
	assert_int_equal(state_of(f->st, queued), MSG_QUEUED);
	assert_int_equal(state_of(f->st, sent), MSG_SENT);
	assert_int_equal(store_get(f->st, some, &m), 0);
	assert_int_equal(m.state, MSG_UNCERTAIN);       /* may have gone out: never resent blindly */
	assert_int_equal(m.parts_sent, 1);
	assert_int_equal(m.updated_ms, 9000);
	assert_string_not_equal(m.last_error, "");
	store_msg_clear(&m);
	assert_int_equal(store_timeline(f->st, some, tl_cb, &t), 2);
	assert_int_equal(t.ev[1].from, MSG_SENDING);
	assert_int_equal(t.ev[1].to, MSG_UNCERTAIN);
	assert_int_equal(t.ev[1].at_ms, 9000);

	assert_int_equal(store_recover(f->st, 9500), 0);   /* idempotent */
}

static void test_counts(void **state)
{
	struct fx *f = *state;
	struct store_counts c;
	int64_t id;

	assert_int_equal(store_counts(f->st, &c), 0);
	for (int s = 0; s < MSG_STATE_COUNT; s++)
		assert_int_equal(c.by_state[s], 0);

	for (int i = 0; i < 3; i++)
		add(f->st, LANE_OTP, 1);
	for (int i = 0; i < 2; i++)
		add(f->st, LANE_BULK, 1);
	id = add(f->st, LANE_NORMAL, 1);
	bring_to(f->st, id, MSG_DELIVERED);
	id = add(f->st, LANE_OTP, 1);
	bring_to(f->st, id, MSG_UNCERTAIN);
	id = add(f->st, LANE_BULK, 1);
	bring_to(f->st, id, MSG_SENDING);

	assert_int_equal(store_counts(f->st, &c), 0);
	assert_int_equal(c.by_state[MSG_QUEUED], 5);
	assert_int_equal(c.by_state[MSG_DELIVERED], 1);
	assert_int_equal(c.by_state[MSG_UNCERTAIN], 1);
	assert_int_equal(c.by_state[MSG_SENDING], 1);
	assert_int_equal(c.by_state[MSG_SENT], 0);
	assert_int_equal(c.queued_by_lane[LANE_OTP], 3);
	assert_int_equal(c.queued_by_lane[LANE_NORMAL], 0);
	assert_int_equal(c.queued_by_lane[LANE_BULK], 2);
}

static void test_open_bad_backend(void **state)
{
	char err[128];

	(void)state;
	assert_null(store_open("postgres", "x", err, sizeof(err)));
	assert_non_null(strstr(err, "postgres"));
	assert_null(store_open(NULL, "x", err, sizeof(err)));
	assert_null(store_open("sqlite", "", err, sizeof(err)));
	assert_string_not_equal(err, "");
}

/* ---- sqlite only: durability across reopen, schema versions, pragmas, full disk ---- */

static sqlite3 *raw_open(const char *path)
{
	sqlite3 *db = NULL;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		fail_msg("raw open %s: %s", path, sqlite3_errmsg(db));
	return db;
}

static void raw_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("raw exec %s: %s", sql, msg);
}

static int raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void raw_text(sqlite3 *db, const char *sql, char *out, size_t outlen)
{
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

/* the newest schema version, as the store leaves a fresh database */
static int current_version(struct fx *f)
{
	sqlite3 *db = raw_open(f->path);
	int v = raw_int(db, "PRAGMA user_version");

	sqlite3_close(db);
	assert_true(v >= 2);
	return v;
}

static void test_reopen(void **state)
{
	struct fx *f = *state;
	int64_t a = add(f->st, LANE_OTP, 2), b = add(f->st, LANE_BULK, 1), c;
	struct store_msg m;
	struct store_counts cnt;
	struct tl t = { 0 };
	struct seen s = { 0 };

	assert_int_equal(store_transition(f->st, a, MSG_QUEUED, MSG_SENDING, "a1", NULL, 2000), 0);
	assert_int_equal(store_record_part(f->st, a, 1, 17, "a1", 2100), 0);
	reopen(f);

	assert_int_equal(store_get(f->st, a, &m), 0);
	assert_int_equal(m.state, MSG_SENDING);
	assert_int_equal(m.parts_sent, 1);
	assert_int_equal(m.attempts, 1);
	assert_string_equal(m.route, "a1");
	assert_int_equal(m.nparts, 2);
	store_msg_clear(&m);
	assert_int_equal(store_timeline(f->st, a, tl_cb, &t), 1);
	assert_int_equal(store_load_pending(f->st, LANE_BULK, 0, 0, seen_cb, &s), 1);
	assert_int_equal(s.ids[0], b);
	assert_int_equal(store_counts(f->st, &cnt), 0);
	assert_int_equal(cnt.by_state[MSG_SENDING], 1);
	/* the crash case: what was sending when we stopped */
	assert_int_equal(store_recover(f->st, 5000), 1);
	assert_int_equal(state_of(f->st, a), MSG_UNCERTAIN);

	/* ids keep growing across restarts and are never reused */
	c = add(f->st, LANE_NORMAL, 1);
	assert_true(c > b);
	reopen(f);
	assert_int_equal(state_of(f->st, a), MSG_UNCERTAIN);
	assert_int_equal(state_of(f->st, c), MSG_QUEUED);
	assert_int_equal(current_version(f), current_version(f));
}

static void test_migrate_from_0(void **state)
{
	struct fx *f = *state;
	int latest = current_version(f);
	char path[160], err[256];
	struct store *st;
	sqlite3 *db;
	FILE *fp;

	/* an empty file is a database at user_version 0 (e.g. touched by a packaging script) */
	snprintf(path, sizeof(path), "%s/empty.db", f->dir);
	assert_non_null(fp = fopen(path, "w"));
	fclose(fp);
	st = store_open("sqlite", path, err, sizeof(err));
	if (st == NULL)
		fail_msg("open: %s", err);
	add(st, LANE_OTP, 1);
	store_close(st);
	db = raw_open(path);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), latest);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM messages"), 1);
	sqlite3_close(db);
}

/* A database as release 1 of the schema wrote it: a fixture, deliberately a copy and not the
 * store's own SQL, so that editing a shipped migration breaks this test. */
static const char schema_v1[] =
	"CREATE TABLE messages ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT, \"to\" TEXT NOT NULL, text TEXT NOT NULL,"
	"  lane INTEGER NOT NULL, state TEXT NOT NULL, nparts INTEGER NOT NULL,"
	"  parts_sent INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,"
	"  route TEXT NOT NULL DEFAULT '', last_error TEXT NOT NULL DEFAULT '',"
	"  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
	"  sent_ms INTEGER NOT NULL DEFAULT 0, expires_ms INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX messages_state ON messages(state, lane, id);"
	"CREATE TABLE parts ("
	"  message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL, mr INTEGER NOT NULL, route TEXT NOT NULL,"
	"  sent_ms INTEGER NOT NULL, attempt INTEGER NOT NULL,"
	"  PRIMARY KEY (message_id, seq)) WITHOUT ROWID;"
	"CREATE INDEX parts_route_mr ON parts(route, mr, sent_ms);"
	"INSERT INTO messages (\"to\", text, lane, state, nparts, parts_sent, attempts, route,"
	"  created_ms, updated_ms) VALUES ('+447700900123', 'old', 0, 'sending', 2, 1, 1, 'a1', 10, 20);"
	"INSERT INTO parts VALUES (1, 1, 99, 'a1', 20, 1);"
	"PRAGMA user_version = 1;";

static void test_migrate_from_1(void **state)
{
	struct fx *f = *state;
	int latest = current_version(f);
	char path[160], err[256];
	struct store_msg m;
	struct store *st;
	struct tl t = { 0 };
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/v1.db", f->dir);
	db = raw_open(path);
	raw_exec(db, schema_v1);
	sqlite3_close(db);

	st = store_open("sqlite", path, err, sizeof(err));
	if (st == NULL)
		fail_msg("open: %s", err);
	assert_int_equal(store_get(st, 1, &m), 0);
	assert_string_equal(m.text, "old");
	assert_int_equal(m.state, MSG_SENDING);
	assert_int_equal(m.parts_sent, 1);
	/* columns of later steps read their defaults on old rows */
	assert_string_equal(m.reference, "");
	assert_true(m.allow_carrier);
	assert_false(m.delivery_report);
	store_msg_clear(&m);
	/* the new table works with the old rows */
	assert_int_equal(store_recover(st, 1000), 1);
	assert_int_equal(store_timeline(st, 1, tl_cb, &t), 1);
	assert_int_equal(t.ev[0].to, MSG_UNCERTAIN);
	assert_int_equal(add(st, LANE_OTP, 1), 2);
	store_close(st);

	db = raw_open(path);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), latest);
	sqlite3_close(db);
}

static void test_future_version_refused(void **state)
{
	struct fx *f = *state;
	int latest = current_version(f);
	char path[160], err[256], mode[16], sql[64];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/future.db", f->dir);
	db = raw_open(path);
	snprintf(sql, sizeof(sql), "CREATE TABLE t(x); PRAGMA user_version = %d;", latest + 1);
	raw_exec(db, sql);
	sqlite3_close(db);

	assert_null(store_open("sqlite", path, err, sizeof(err)));
	assert_non_null(strstr(err, "newer"));
	/* and left exactly as it was: not migrated, not even switched to WAL */
	db = raw_open(path);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), latest + 1);
	raw_text(db, "PRAGMA journal_mode", mode, sizeof(mode));
	assert_string_equal(mode, "delete");
	sqlite3_close(db);
}

static void test_not_a_database(void **state)
{
	struct fx *f = *state;
	char path[160], err[256], junk[4096];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/junk.db", f->dir);
	memset(junk, 'x', sizeof(junk));
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fwrite(junk, 1, sizeof(junk), fp), sizeof(junk));
	fclose(fp);
	assert_null(store_open("sqlite", path, err, sizeof(err)));
	assert_string_not_equal(err, "");

	snprintf(path, sizeof(path), "%s/no/such/dir/x.db", f->dir);
	assert_null(store_open("sqlite", path, err, sizeof(err)));
	assert_string_not_equal(err, "");
}

static void test_pragmas(void **state)
{
	struct fx *f = *state;
	char mode[16];
	sqlite3 *db;

	add(f->st, LANE_OTP, 1);
	db = raw_open(f->path);
	raw_text(db, "PRAGMA journal_mode", mode, sizeof(mode));
	assert_string_equal(mode, "wal");
	sqlite3_close(db);
}

/* A full disk must fail the enqueue (the API answers 503), never pretend, and leave no half batch.
 * RLIMIT_FSIZE stands in for ENOSPC: the write fails the same way inside sqlite. */
static void test_disk_full(void **state)
{
	struct fx *f = *state;
	static char big[2000];
	struct store_new_msg batch[300];
	int64_t ids[300], id;
	struct store_counts c;
	struct rlimit old, lim;
	char wal[sizeof(f->path) + 8];
	struct stat sb;
	off_t max = 0;
	int rc;

	add(f->st, LANE_OTP, 1);
	if (stat(f->path, &sb) == 0)
		max = sb.st_size;
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	if (stat(wal, &sb) == 0 && sb.st_size > max)
		max = sb.st_size;
	memset(big, 'a', sizeof(big) - 1);
	for (int i = 0; i < 300; i++) {
		batch[i] = nm("+447700900123", LANE_BULK, 14);
		batch[i].text = big;
	}

	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)max + 16384;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = store_enqueue(f->st, batch, 300, ids);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(rc, -1);

	/* nothing of the batch is visible, and the store works again once there is room */
	assert_int_equal(store_counts(f->st, &c), 0);
	assert_int_equal(c.by_state[MSG_QUEUED], 1);
	id = add(f->st, LANE_OTP, 1);
	reopen(f);
	assert_int_equal(store_counts(f->st, &c), 0);
	assert_int_equal(c.by_state[MSG_QUEUED], 2);
	assert_int_equal(state_of(f->st, id), MSG_QUEUED);
}

/* ---- per-message options, idempotency records, listing ---- */

static void test_options_stored(void **state)
{
	struct fx *f = *state;
	struct store_new_msg in[2] = { nm("+447700900123", LANE_NORMAL, 1), nm("+447700900124", LANE_BULK, 1) };
	struct store_msg m;
	int64_t ids[2];

	in[0].reference = "order-17";
	in[0].languages = (1u << 1) | (1u << 3);
	in[0].delivery_report = true;
	in[0].allow_carrier = false;
	in[0].callback_url = "https://crm.example/hook?id=17";
	in[1].allow_carrier = true;        /* and no reference or URL: "" back */
	assert_int_equal(store_enqueue(f->st, in, 2, ids), 0);
	assert_int_equal(store_get(f->st, ids[0], &m), 0);
	assert_string_equal(m.reference, "order-17");
	assert_int_equal(m.languages, (1u << 1) | (1u << 3));
	assert_true(m.delivery_report);
	assert_false(m.allow_carrier);
	assert_string_equal(m.callback_url, "https://crm.example/hook?id=17");
	store_msg_clear(&m);
	assert_int_equal(store_get(f->st, ids[1], &m), 0);
	assert_string_equal(m.reference, "");
	assert_int_equal(m.languages, 0);
	assert_false(m.delivery_report);
	assert_true(m.allow_carrier);
	assert_string_equal(m.callback_url, "");
	store_msg_clear(&m);
}

static struct store_idem_new idem_rec(const char *owner, const char *key, size_t first, int count, int64_t at)
{
	struct store_idem_new d = { .rec = { .owner = owner, .key = key, .status = 202, .count = count,
					     .created_ms = at }, .first = first };

	memset(d.rec.request_hash, key[0], sizeof(d.rec.request_hash));
	return d;
}

static void test_idem(void **state)
{
	struct fx *f = *state;
	struct store_new_msg b[3] = { nm("+447700900001", LANE_NORMAL, 1), nm("+447700900002", LANE_NORMAL, 1),
				      nm("+447700900003", LANE_NORMAL, 1) };
	struct store_idem_new d[2] = { idem_rec("crm", "k1", 0, 1, 5000), idem_rec("crm", "k2", 1, 2, 6000) };
	struct store_idem got;
	struct store_counts c;
	int64_t ids[3];

	add(f->st, LANE_OTP, 1);
	assert_int_equal(store_idem_get(f->st, "crm", "k1", 0, &got), 1);
	assert_int_equal(store_enqueue_idem(f->st, b, 3, ids, d, 2), 0);
	assert_int_equal(d[1].rec.first_id, ids[1]);
	assert_int_equal(ids[2], ids[1] + 1);      /* the record's range is consecutive ids */
	assert_int_equal(store_idem_get(f->st, "crm", "k2", 0, &got), 0);
	assert_int_equal(got.first_id, ids[1]);
	assert_int_equal(got.count, 2);
	assert_int_equal(got.status, 202);
	assert_int_equal(got.created_ms, 6000);
	assert_int_equal(got.request_hash[31], 'k');
	/* scoped per owner, and expired records count as absent before the purge removes them */
	assert_int_equal(store_idem_get(f->st, "unix", "k2", 0, &got), 1);
	assert_int_equal(store_idem_get(f->st, "crm", "k1", 5001, &got), 1);
	assert_int_equal(store_idem_get(f->st, "crm", "k1", 5000, &got), 0);

	/* a record out of the batch's range is a programmer error, and nothing of the batch is stored */
	struct store_idem_new bad = idem_rec("crm", "k3", 1, 2, 7000);
	assert_int_equal(store_enqueue_idem(f->st, b, 2, ids, &bad, 1), -1);
	assert_int_equal(store_counts(f->st, &c), 0);
	assert_int_equal(c.by_state[MSG_QUEUED], 4);
	/* an expired key not yet purged is replaced, never failing the batch it comes with */
	struct store_idem_new again = idem_rec("crm", "k1", 0, 1, 7000);
	assert_int_equal(store_enqueue_idem(f->st, b, 1, ids, &again, 1), 0);
	assert_int_equal(store_idem_get(f->st, "crm", "k1", 6500, &got), 0);
	assert_int_equal(got.first_id, ids[0]);
	assert_int_equal(got.created_ms, 7000);

	assert_int_equal(store_idem_purge(f->st, 6500), 1);     /* k2 (6000) goes, k1 (7000) stays */
	assert_int_equal(store_idem_get(f->st, "crm", "k2", 0, &got), 1);
	assert_int_equal(store_idem_get(f->st, "crm", "k1", 0, &got), 0);
	assert_int_equal(store_idem_purge(f->st, 6500), 0);
	/* a purged key may be used again */
	struct store_idem_new reuse = idem_rec("crm", "k2", 0, 1, 8000);
	assert_int_equal(store_enqueue_idem(f->st, b, 1, ids, &reuse, 1), 0);
	assert_int_equal(store_idem_get(f->st, "crm", "k2", 0, &got), 0);
	assert_int_equal(got.first_id, ids[0]);
}

struct listed {
	int64_t ids[64];
	size_t n, stop_at;
};

static int list_cb(void *arg, const struct store_msg *m)
{
	struct listed *l = arg;

	l->ids[l->n++] = m->id;
	return l->stop_at != 0 && l->n == l->stop_at;
}

static void test_list(void **state)
{
	struct fx *f = *state;
	struct store_new_msg b[10];
	int64_t ids[10];
	struct listed l = { 0 };
	struct store_filter flt = { .state = -1, .limit = 50 };

	for (int i = 0; i < 10; i++) {
		b[i] = nm(i % 2 ? "+447700900001" : "+447700900002", LANE_NORMAL, 1);
		b[i].created_ms = 1000 + i;
	}
	assert_int_equal(store_enqueue(f->st, b, 10, ids), 0);
	assert_int_equal(store_transition(f->st, ids[3], MSG_QUEUED, MSG_CANCELLED, NULL, NULL, 2000), 0);
	assert_int_equal(store_transition(f->st, ids[7], MSG_QUEUED, MSG_CANCELLED, NULL, NULL, 2000), 0);

	assert_int_equal(store_list(f->st, &flt, list_cb, &l), 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(l.ids[i], ids[9 - i]);        /* newest first */
	/* keyset paging: limit, then the last id seen as the cursor */
	flt.limit = 4;
	l.n = 0;
	assert_int_equal(store_list(f->st, &flt, list_cb, &l), 4);
	flt.before_id = l.ids[3];
	assert_int_equal(store_list(f->st, &flt, list_cb, &l), 4);
	flt.before_id = l.ids[7];
	assert_int_equal(store_list(f->st, &flt, list_cb, &l), 2);
	for (int i = 0; i < 10; i++)
		assert_int_equal(l.ids[i], ids[9 - i]);
	/* filters combine */
	flt = (struct store_filter){ .state = MSG_CANCELLED, .limit = 50 };
	l.n = 0;
	assert_int_equal(store_list(f->st, &flt, list_cb, &l), 2);
	assert_int_equal(l.ids[0], ids[7]);
	assert_int_equal(l.ids[1], ids[3]);
	flt = (struct store_filter){ .state = -1, .to = "+447700900001", .since_ms = 1004, .limit = 50 };
	l.n = 0;
	assert_int_equal(store_list(f->st, &flt, list_cb, &l), 3);    /* created 1005, 1007, 1009 */
	assert_int_equal(l.ids[2], ids[5]);
	/* a bounded scan: only ids from min_id up (to_suffix pages through windows) */
	flt = (struct store_filter){ .state = -1, .to_suffix = "0001", .min_id = ids[6], .limit = 50 };
	l.n = 0;
	assert_int_equal(store_list(f->st, &flt, list_cb, &l), 2);    /* ids[9], ids[7]; ids[5] is below */
	assert_int_equal(l.ids[0], ids[9]);
	assert_int_equal(l.ids[1], ids[7]);
	/* early stop, and bad arguments */
	flt = (struct store_filter){ .state = -1, .limit = 50 };
	l = (struct listed){ .stop_at = 2 };
	assert_int_equal(store_list(f->st, &flt, list_cb, &l), 2);
	flt.limit = 0;
	assert_int_equal(store_list(f->st, &flt, list_cb, &l), -1);
	flt = (struct store_filter){ .state = MSG_STATE_COUNT, .limit = 5 };
	assert_int_equal(store_list(f->st, &flt, list_cb, &l), -1);
	flt = (struct store_filter){ .state = -1, .before_id = 1, .limit = 5 };
	l.n = 0;
	assert_int_equal(store_list(f->st, &flt, list_cb, &l), 0);
}

static void test_expire(void **state)
{
	struct fx *f = *state;
	struct store_new_msg m[3] = { nm("+447700900001", LANE_OTP, 1), nm("+447700900002", LANE_OTP, 1),
				      nm("+447700900003", LANE_NORMAL, 1) };
	int64_t ids[3];
	struct tl t = { 0 };
	m[0].expires_ms = 5000;    /* due */
	m[1].expires_ms = 50000;   /* not yet */
	m[2].expires_ms = 0;       /* never */
	assert_int_equal(store_enqueue(f->st, m, 3, ids), 0);
	int64_t sending = add(f->st, LANE_OTP, 1);
	assert_int_equal(store_transition(f->st, sending, MSG_QUEUED, MSG_SENDING, "a1", NULL, 2000), 0);

	assert_int_equal(store_expire(f->st, 4999), 0);
	assert_int_equal(store_expire(f->st, 6000), 1);
	assert_int_equal(state_of(f->st, ids[0]), MSG_EXPIRED);
	assert_int_equal(state_of(f->st, ids[1]), MSG_QUEUED);
	assert_int_equal(state_of(f->st, ids[2]), MSG_QUEUED);
	assert_int_equal(state_of(f->st, sending), MSG_SENDING);   /* only queued ones: a send in flight runs on */
	assert_int_equal(store_timeline(f->st, ids[0], tl_cb, &t), 1);
	assert_int_equal(t.ev[0].to, MSG_EXPIRED);
	assert_int_equal(store_expire(f->st, 6000), 0);
	assert_int_equal(store_expire(f->st, 1000000), 1);
}

struct usage { char route[8][16]; int64_t n[8]; int count; };

static int usage_cb(void *arg, const char *route, int64_t segments)
{
	struct usage *u = arg;
	snprintf(u->route[u->count], sizeof(u->route[0]), "%s", route);
	u->n[u->count++] = segments;
	return 0;
}

static int64_t usage_of(struct usage *u, const char *route)
{
	for (int i = 0; i < u->count; i++)
		if (strcmp(u->route[i], route) == 0)
			return u->n[i];
	return 0;
}

static void test_route_usage(void **state)
{
	struct fx *f = *state;
	int64_t a = add(f->st, LANE_NORMAL, 2), b = add(f->st, LANE_NORMAL, 1), c = add(f->st, LANE_NORMAL, 1);
	struct usage u = { .count = 0 };

	assert_int_equal(store_transition(f->st, a, MSG_QUEUED, MSG_SENDING, "sim1", NULL, 100), 0);
	assert_int_equal(store_record_part(f->st, a, 1, 7, "sim1", 1000), 0);
	assert_int_equal(store_record_part(f->st, a, 2, 8, "sim1", 2000), 0);
	assert_int_equal(store_transition(f->st, b, MSG_QUEUED, MSG_SENDING, "sim2", NULL, 100), 0);
	assert_int_equal(store_record_part(f->st, b, 1, 9, "sim2", 3000), 0);
	assert_int_equal(store_transition(f->st, c, MSG_QUEUED, MSG_SENDING, "sim2", NULL, 100), 0);
	assert_int_equal(store_record_part(f->st, c, 1, -1, "sim2", 3000), 0);   /* handed, no MR: not counted */

	assert_int_equal(store_route_usage(f->st, 0, usage_cb, &u), 2);
	assert_int_equal(usage_of(&u, "sim1"), 2);
	assert_int_equal(usage_of(&u, "sim2"), 1);
	u.count = 0;
	assert_int_equal(store_route_usage(f->st, 1500, usage_cb, &u), 2);
	assert_int_equal(usage_of(&u, "sim1"), 1);
	u.count = 0;
	assert_int_equal(store_route_usage(f->st, 5000, usage_cb, &u), 0);
}

struct rcpt {
	int count;
	char route[8][16], to[8][STORE_TO_MAX];
	int64_t last[8];
};

static int rcpt_cb(void *arg, const char *route, const char *number, int64_t last_ms)
{
	struct rcpt *r = arg;
	assert_true(r->count < 8);
	snprintf(r->route[r->count], sizeof(r->route[0]), "%s", route);
	snprintf(r->to[r->count], sizeof(r->to[0]), "%s", number);
	r->last[r->count++] = last_ms;
	return 0;
}

/* last_ms of (route, number), -1 if not listed; fails on a pair listed twice. */
static int64_t rcpt_of(const struct rcpt *r, const char *route, const char *number)
{
	int64_t found = -1;
	for (int i = 0; i < r->count; i++) {
		if (strcmp(r->route[i], route) == 0 && strcmp(r->to[i], number) == 0) {
			assert_int_equal(found, -1);
			found = r->last[i];
		}
	}
	return found;
}

static int64_t add_to(struct store *st, const char *to, int nparts)
{
	struct store_new_msg m = nm(to, LANE_NORMAL, nparts);
	int64_t id = 0;
	assert_int_equal(store_enqueue(st, &m, 1, &id), 0);
	return id;
}

static void test_route_recipients(void **state)
{
	struct fx *f = *state;
	/* two messages to A via sim1 (one of two parts), one to B via sim1, A again via sim2, C only handed */
	int64_t a1 = add_to(f->st, "+447700900001", 2), a2 = add_to(f->st, "+447700900001", 1);
	int64_t b = add_to(f->st, "+447700900002", 1), a3 = add_to(f->st, "+447700900001", 1);
	int64_t c = add_to(f->st, "+447700900003", 1);
	struct rcpt r = { .count = 0 };

	assert_int_equal(store_transition(f->st, a1, MSG_QUEUED, MSG_SENDING, "sim1", NULL, 100), 0);
	assert_int_equal(store_record_part(f->st, a1, 1, 1, "sim1", 1000), 0);
	assert_int_equal(store_record_part(f->st, a1, 2, 2, "sim1", 1100), 0);
	assert_int_equal(store_transition(f->st, a2, MSG_QUEUED, MSG_SENDING, "sim1", NULL, 100), 0);
	assert_int_equal(store_record_part(f->st, a2, 1, 3, "sim1", 4000), 0);
	assert_int_equal(store_transition(f->st, b, MSG_QUEUED, MSG_SENDING, "sim1", NULL, 100), 0);
	assert_int_equal(store_record_part(f->st, b, 1, 4, "sim1", 2000), 0);
	assert_int_equal(store_transition(f->st, a3, MSG_QUEUED, MSG_SENDING, "sim2", NULL, 100), 0);
	assert_int_equal(store_record_part(f->st, a3, 1, 5, "sim2", 3000), 0);
	assert_int_equal(store_transition(f->st, c, MSG_QUEUED, MSG_SENDING, "sim2", NULL, 100), 0);
	assert_int_equal(store_record_part(f->st, c, 1, -1, "sim2", 3000), 0);   /* handed, no MR: not counted */

	assert_int_equal(store_route_recipients(f->st, 0, rcpt_cb, &r), 3);
	assert_int_equal(rcpt_of(&r, "sim1", "+447700900001"), 4000);
	assert_int_equal(rcpt_of(&r, "sim1", "+447700900002"), 2000);
	assert_int_equal(rcpt_of(&r, "sim2", "+447700900001"), 3000);
	assert_int_equal(rcpt_of(&r, "sim2", "+447700900003"), -1);
	r.count = 0;
	assert_int_equal(store_route_recipients(f->st, 2500, rcpt_cb, &r), 2);
	assert_int_equal(rcpt_of(&r, "sim1", "+447700900001"), 4000);
	assert_int_equal(rcpt_of(&r, "sim1", "+447700900002"), -1);
	r.count = 0;
	assert_int_equal(store_route_recipients(f->st, 5000, rcpt_cb, &r), 0);
}

static void test_batch(void **state)
{
	struct fx *f = *state;
	int64_t a = add(f->st, LANE_NORMAL, 2), b = add(f->st, LANE_NORMAL, 1);
	struct store_msg m;

	assert_int_equal(store_batch_begin(f->st, true), 0);
	assert_int_equal(store_transition(f->st, a, MSG_QUEUED, MSG_SENDING, "sim1", NULL, 100), 0);
	assert_int_equal(store_record_part(f->st, a, 1, -1, "sim1", 100), 0);
	assert_int_equal(store_record_part(f->st, a, 9, -1, "sim1", 100), -1);      /* fails alone */
	assert_int_equal(store_transition(f->st, b, MSG_SENDING, MSG_SENT, NULL, NULL, 100), 1);  /* stale */
	assert_int_equal(store_batch_end(f->st), 0);
	if (strcmp(f->backend, "sqlite") == 0)
		reopen(f);
	assert_int_equal(store_get(f->st, a, &m), 0);
	assert_int_equal(m.state, MSG_SENDING);
	assert_int_equal(m.parts_sent, 1);      /* the handed part survived its failing neighbour */
	store_msg_clear(&m);
	assert_int_equal(state_of(f->st, b), MSG_QUEUED);
	/* no nesting, and an end without a begin is an error for the backend that batches */
	if (strcmp(f->backend, "sqlite") == 0) {
		assert_int_equal(store_batch_begin(f->st, false), 0);
		assert_int_equal(store_batch_begin(f->st, true), -1);
		assert_int_equal(store_transition(f->st, b, MSG_QUEUED, MSG_SENDING, "sim1", NULL, 150), 0);
		assert_int_equal(store_batch_end(f->st), 0);
		assert_int_equal(store_batch_end(f->st), -1);
		reopen(f);   /* a relaxed commit is still a commit: visible and kept across a clean close */
		assert_int_equal(state_of(f->st, b), MSG_SENDING);
		assert_int_equal(store_transition(f->st, b, MSG_SENDING, MSG_QUEUED, NULL, NULL, 160), 0);
	}
	/* outside a batch everything works as before */
	assert_int_equal(store_transition(f->st, b, MSG_QUEUED, MSG_CANCELLED, NULL, NULL, 200), 0);
}

/* Carrier message ids (migration 11): found by (carrier, id), survive a reopen, re-pointed when
 * added again, bad arguments refused. */
static void test_carrier_ids(void **state)
{
	struct fx *f = *state;
	int64_t a = add(f->st, LANE_NORMAL, 1), b = add(f->st, LANE_NORMAL, 1), id = 0;
	char long_id[STORE_CARRIER_ID_MAX + 1];

	assert_int_equal(store_carrier_id_add(f->st, "cloud", "SM0001", a, 100), 0);
	assert_int_equal(store_carrier_id_add(f->st, "backup", "SM0001", b, 100), 0);   /* another carrier's */
	if (strcmp(f->backend, "sqlite") == 0)
		reopen(f);
	assert_int_equal(store_carrier_id_find(f->st, "cloud", "SM0001", &id), 0);
	assert_int_equal(id, a);
	assert_int_equal(store_carrier_id_find(f->st, "backup", "SM0001", &id), 0);
	assert_int_equal(id, b);
	assert_int_equal(store_carrier_id_find(f->st, "cloud", "SM0002", &id), 1);
	assert_int_equal(store_carrier_id_find(f->st, "other", "SM0001", &id), 1);
	assert_int_equal(store_carrier_id_find(f->st, "cloud", "sm0001", &id), 1);   /* exact */
	assert_int_equal(store_carrier_id_add(f->st, "cloud", "SM0001", b, 200), 0);
	assert_int_equal(store_carrier_id_find(f->st, "cloud", "SM0001", &id), 0);
	assert_int_equal(id, b);
	memset(long_id, 'x', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	assert_int_equal(store_carrier_id_add(f->st, "cloud", long_id, a, 100), -1);
	assert_int_equal(store_carrier_id_add(f->st, "cloud", "", a, 100), -1);
	assert_int_equal(store_carrier_id_add(f->st, "", "x", a, 100), -1);
	assert_int_equal(store_carrier_id_find(f->st, "cloud", long_id, &id), 1);
	assert_int_equal(store_carrier_id_find(f->st, "cloud", "", &id), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ALL(test_enqueue_ids),
		ALL(test_expire),
		ALL(test_batch),
		ALL(test_route_usage),
		ALL(test_route_recipients),
		ALL(test_enqueue_rejects_bad),
		ALL(test_get_fields),
		ALL(test_pending_order),
		ALL(test_pending_paging),
		ALL(test_pending_early_stop),
		ALL(test_pending_reentrant),
		ALL(test_pending_bad_args),
		ALL(test_transition_every_pair),
		ALL(test_transition_stale),
		ALL(test_transition_fields),
		ALL(test_timeline),
		ALL(test_record_part),
		ALL(test_recover),
		ALL(test_counts),
		ALL(test_options_stored),
		ALL(test_idem),
		ALL(test_list),
		ALL(test_carrier_ids),
		cmocka_unit_test(test_open_bad_backend),
		SQLITE(test_reopen),
		SQLITE(test_migrate_from_0),
		SQLITE(test_migrate_from_1),
		SQLITE(test_future_version_refused),
		SQLITE(test_not_a_database),
		SQLITE(test_pragmas),
		SQLITE(test_disk_full),
	};

	/* store warnings on refused moves are expected here; keep the output readable */
	log_init("test_store", getenv("TEST_LOG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
