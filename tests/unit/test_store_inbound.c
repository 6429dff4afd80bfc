/* test_store_inbound: inbound SMS (parts, duplicates, reassembly, the timeout flush, listing) and
 * delivery reports (matching by route, TP-MR and time, MR wrap-around) on both store backends. */
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

static struct store_inbound_part part(const char *from, const char *text, unsigned ref, unsigned total,
				      unsigned seq, int64_t at)
{
	return (struct store_inbound_part){ .route = "m0", .from = from, .text = text, .encoding = "gsm7",
					    .scts = "2026-11-23T13:45:00+01:00", .ref = ref, .total = total,
					    .seq = seq, .received_ms = at };
}

/* What the listing returned, newest first. */
struct seen {
	int n;
	int64_t id[16];
	char text[16][64];
	char from[16][48];
	int parts[16];
	bool complete[16];
	int64_t received[16];
};

static int seen_cb(void *arg, const struct store_inbound *m)
{
	struct seen *s = arg;

	if (s->n < 16) {
		s->id[s->n] = m->id;
		snprintf(s->text[s->n], sizeof(s->text[0]), "%s", m->text);
		snprintf(s->from[s->n], sizeof(s->from[0]), "%s", m->from);
		s->parts[s->n] = m->parts;
		s->complete[s->n] = m->complete;
		s->received[s->n] = m->received_ms;
	}
	s->n++;
	return 0;
}

static struct seen list_all(struct store *st)
{
	struct store_inbound_filter f = { .limit = 100 };
	struct seen s = { 0 };

	int n = store_inbound_list(st, &f, seen_cb, &s);

	assert_int_equal(n, s.n);
	return s;
}

static void test_single_and_duplicate(void **state)
{
	struct fx *f = *state;
	struct store_inbound_part p = part("+46701234567", "hello", 0, 1, 1, 1000);
	int64_t id = -1;

	assert_int_equal(store_inbound_add(f->st, &p, &id), 0);
	assert_true(id > 0);
	/* read again from the SIM (a crash before AT+CMGD): a duplicate, nothing new */
	assert_int_equal(store_inbound_add(f->st, &p, &id), 1);
	assert_int_equal(id, 0);
	/* the same text later (another SCTS) is another message */
	p.scts = "2026-11-23T13:46:00+01:00";
	assert_int_equal(store_inbound_add(f->st, &p, &id), 0);
	assert_true(id > 0);
	struct seen s = list_all(f->st);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.text[0], "hello");
	assert_string_equal(s.from[0], "+46701234567");
	assert_int_equal(s.parts[0], 1);
	assert_true(s.complete[0]);
	assert_true(s.id[0] > s.id[1]);
}

static void test_reassembly_out_of_order(void **state)
{
	struct fx *f = *state;
	struct store_inbound_part p3 = part("+4670", "three", 7, 3, 3, 1000), p1 = part("+4670", "one ", 7, 3, 1, 1001),
				  p2 = part("+4670", "two ", 7, 3, 2, 1002), other = part("+4671", "x", 7, 3, 1, 1003);
	int64_t id = -1;

	assert_int_equal(store_inbound_add(f->st, &p3, &id), 0);
	assert_int_equal(id, 0);
	assert_int_equal(store_inbound_add(f->st, &p1, &id), 0);
	assert_int_equal(id, 0);
	/* another sender with the same reference is another set */
	assert_int_equal(store_inbound_add(f->st, &other, &id), 0);
	assert_int_equal(id, 0);
	/* a repeated part (same seq, another time stamp) counts once */
	p1.scts = "2026-11-23T13:45:05+01:00";
	assert_int_equal(store_inbound_add(f->st, &p1, &id), 0);
	assert_int_equal(id, 0);
	assert_int_equal(list_all(f->st).n, 0);
	assert_int_equal(store_inbound_add(f->st, &p2, &id), 0);
	assert_true(id > 0);
	struct seen s = list_all(f->st);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.text[0], "one two three");
	assert_int_equal(s.parts[0], 3);
	assert_true(s.complete[0]);
	assert_int_equal(s.received[0], 1002);
	/* the reference comes round again: a new set, not the old one */
	p1 = part("+4670", "again ", 7, 2, 1, 5000);
	p2 = part("+4670", "and again", 7, 2, 2, 5001);
	assert_int_equal(store_inbound_add(f->st, &p1, &id), 0);
	assert_int_equal(id, 0);
	assert_int_equal(store_inbound_add(f->st, &p2, &id), 0);
	assert_true(id > 0);
	s = list_all(f->st);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.text[0], "again and again");
	/* a part of the finished set read again is a duplicate, never a new set */
	p2 = part("+4670", "two ", 7, 3, 2, 9000);
	assert_int_equal(store_inbound_add(f->st, &p2, &id), 1);
	assert_int_equal(list_all(f->st).n, 2);
}

/* The inbound hook (the webhook outbox) hears of every message, complete or flushed incomplete. */
struct hooked {
	int n;
	int64_t id[4], at[4];
};
static void on_inbound(void *arg, struct store *st, int64_t inbound_id, int64_t now_ms)
{
	struct hooked *h = arg;
	(void)st;
	if (h->n < 4) {
		h->id[h->n] = inbound_id;
		h->at[h->n] = now_ms;
	}
	h->n++;
}

static void test_timeout_flush(void **state)
{
	struct fx *f = *state;
	struct hooked h = { 0 };
	const struct store_hooks hooks = { .inbound = on_inbound };
	store_set_hooks(f->st, &hooks, &h);
	struct store_inbound_part a1 = part("+4670", "first ", 1, 3, 1, 1000), a3 = part("+4670", "third", 1, 3, 3, 1500),
				  b1 = part("+4671", "b", 2, 2, 1, 3000);
	int64_t id;

	assert_int_equal(store_inbound_add(f->st, &a1, &id), 0);
	assert_int_equal(store_inbound_add(f->st, &a3, &id), 0);
	assert_int_equal(store_inbound_add(f->st, &b1, &id), 0);
	/* nothing waited long enough: the first part's time counts */
	assert_int_equal(store_inbound_flush(f->st, 1000, 20000), 0);
	assert_int_equal(h.n, 0);   /* parts alone are no message yet */
	assert_int_equal(store_inbound_flush(f->st, 1001, 20000), 1);
	assert_int_equal(h.n, 1);
	assert_true(h.id[0] > 0);
	assert_int_equal(h.at[0], 20000);
	struct seen s = list_all(f->st);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.text[0], "first third");
	assert_int_equal(s.parts[0], 2);
	assert_false(s.complete[0]);
	assert_int_equal(store_inbound_flush(f->st, 1001, 20000), 0);   /* flushed once */
	/* the missing part arriving late starts a set of its own, flushed in its turn */
	struct store_inbound_part a2 = part("+4670", "second ", 1, 3, 2, 4000);
	assert_int_equal(store_inbound_add(f->st, &a2, &id), 0);
	assert_int_equal(id, 0);
	assert_int_equal(store_inbound_flush(f->st, 10000, 20000), 2);
	assert_int_equal(h.n, 3);
	assert_true(h.id[1] != h.id[2] && h.id[1] != h.id[0]);
	s = list_all(f->st);
	assert_int_equal(s.n, 3);
	for (int i = 0; i < 2; i++)
		assert_false(s.complete[i]);
}

static void test_list_paging_since(void **state)
{
	struct fx *f = *state;
	char text[8][16];
	int64_t id, ids[8];

	for (int i = 0; i < 8; i++) {
		snprintf(text[i], sizeof(text[i]), "t%d", i);
		struct store_inbound_part p = part("+4670", text[i], 0, 1, 1, 1000 + i * 100);
		assert_int_equal(store_inbound_add(f->st, &p, &id), 0);
		ids[i] = id;
	}
	struct store_inbound_filter fl = { .limit = 3 };
	struct seen s = { 0 };
	assert_int_equal(store_inbound_list(f->st, &fl, seen_cb, &s), 3);
	assert_int_equal(s.id[0], ids[7]);
	assert_int_equal(s.id[2], ids[5]);
	fl.before_id = s.id[2];
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_inbound_list(f->st, &fl, seen_cb, &s), 3);
	assert_int_equal(s.id[0], ids[4]);
	fl = (struct store_inbound_filter){ .limit = 100, .since_ms = 1500 };
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_inbound_list(f->st, &fl, seen_cb, &s), 3);
	assert_string_equal(s.text[2], "t5");
	fl.limit = 0;
	assert_int_equal(store_inbound_list(f->st, &fl, seen_cb, &s), -1);
}

static void test_bad_parts_refused(void **state)
{
	struct fx *f = *state;
	struct store_inbound_part p = part("+4670", "x", 1, 2, 3, 1000);
	int64_t id;

	assert_int_equal(store_inbound_add(f->st, &p, &id), -1);   /* seq beyond total */
	p = part("+4670", "x", 1, 2, 0, 1000);
	assert_int_equal(store_inbound_add(f->st, &p, &id), -1);
	p = part(NULL, "x", 0, 1, 1, 1000);
	assert_int_equal(store_inbound_add(f->st, &p, &id), -1);
	assert_int_equal(list_all(f->st).n, 0);
}

/* ---- delivery reports ---- */

static int64_t sent_msg(struct store *st, int nparts, const char *route, const int *mrs, int64_t at)
{
	struct store_new_msg m = { .to = "+447700900123", .text = "hi", .lane = LANE_NORMAL, .nparts = nparts,
				   .created_ms = at, .delivery_report = true };
	int64_t id;

	assert_int_equal(store_enqueue(st, &m, 1, &id), 0);
	assert_int_equal(store_transition(st, id, MSG_QUEUED, MSG_SENDING, route, NULL, at), 0);
	for (int i = 0; i < nparts; i++)
		assert_int_equal(store_record_part(st, id, i + 1, mrs[i], route, at), 0);
	assert_int_equal(store_transition(st, id, MSG_SENDING, MSG_SENT, NULL, NULL, at), 0);
	return id;
}

struct parts_seen {
	int n;
	struct store_part p[8];
};

static int parts_cb(void *arg, const struct store_part *p)
{
	struct parts_seen *s = arg;

	if (s->n < 8)
		s->p[s->n] = *p;
	s->n++;
	return 0;
}

static void test_part_status(void **state)
{
	struct fx *f = *state;
	int mrs[2] = { 10, 11 };
	int64_t id = sent_msg(f->st, 2, "m0", mrs, 1000), got = 0;
	struct parts_seen ps = { 0 };
	int seq = 0;

	assert_int_equal(store_parts(f->st, id, parts_cb, &ps), 2);
	assert_int_equal(ps.p[0].status, -1);
	assert_int_equal(ps.p[1].mr, 11);
	assert_int_equal(store_part_status(f->st, "m0", 11, 0, 0x00, 2000, &got, &seq), 0);
	assert_int_equal(got, id);
	assert_int_equal(seq, 2);
	memset(&ps, 0, sizeof(ps));
	assert_int_equal(store_parts(f->st, id, parts_cb, &ps), 2);
	assert_int_equal(ps.p[0].status, -1);
	assert_int_equal(ps.p[1].status, 0);
	assert_int_equal(ps.p[1].status_ms, 2000);
	assert_string_equal(ps.p[1].route, "m0");
	/* another SIM's reference, or none at all */
	assert_int_equal(store_part_status(f->st, "m1", 10, 0, 0x00, 2000, &got, &seq), 1);
	assert_int_equal(store_part_status(f->st, "m0", 12, 0, 0x00, 2000, &got, &seq), 1);
	/* a later report overwrites: temporary, then permanent */
	assert_int_equal(store_part_status(f->st, "m0", 10, 0, 0x20, 2100, &got, &seq), 0);
	assert_int_equal(store_part_status(f->st, "m0", 10, 0, 0x41, 2200, &got, &seq), 0);
	memset(&ps, 0, sizeof(ps));
	assert_int_equal(store_parts(f->st, id, parts_cb, &ps), 2);
	assert_int_equal(ps.p[0].status, 0x41);
	assert_int_equal(store_part_status(f->st, "m0", 256, 0, 0, 0, &got, &seq), -1);
}

/* TP-MR is 8 bits per SIM: after 256 parts the same reference is used again. The newest use inside
 * the window is the one a report is for; one older than the window is never matched. */
static void test_mr_wraparound(void **state)
{
	struct fx *f = *state;
	int mr = 255;
	int64_t old = sent_msg(f->st, 1, "m0", &mr, 1000);
	int64_t newer = sent_msg(f->st, 1, "m0", &mr, 50000);
	int64_t got = 0;
	int seq = 0;

	assert_int_equal(store_part_status(f->st, "m0", 255, 0, 0, 60000, &got, &seq), 0);
	assert_int_equal(got, newer);
	/* a window starting after both uses matches neither */
	assert_int_equal(store_part_status(f->st, "m0", 255, 60000, 0, 60000, &got, &seq), 1);
	/* a reference used only before the window is not matched */
	mr = 254;
	sent_msg(f->st, 1, "m0", &mr, 1000);
	assert_int_equal(store_part_status(f->st, "m0", 254, 2000, 0, 60000, &got, &seq), 1);
	assert_int_equal(store_part_status(f->st, "m0", 254, 1000, 0, 60000, &got, &seq), 0);
	struct parts_seen ps = { 0 };
	assert_int_equal(store_parts(f->st, old, parts_cb, &ps), 1);
	assert_int_equal(ps.p[0].status, -1);   /* the old part never got the report */
	memset(&ps, 0, sizeof(ps));
	assert_int_equal(store_parts(f->st, newer, parts_cb, &ps), 1);
	assert_int_equal(ps.p[0].status, 0);
}

static void test_join(void **state)
{
	struct store_inbound_piece p[] = { { 3, "c" }, { 1, "a" }, { 2, "b" }, { 1, "A" } };
	int parts = 0;
	char *t = store_inbound_join(p, 4, &parts);

	(void)state;
	assert_non_null(t);
	assert_int_equal(parts, 3);
	assert_true(strcmp(t, "abc") == 0 || strcmp(t, "Abc") == 0);
	free(t);
	t = store_inbound_join(p, 0, &parts);
	assert_string_equal(t, "");
	assert_int_equal(parts, 0);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ALL(test_single_and_duplicate),
		ALL(test_reassembly_out_of_order),
		ALL(test_timeout_flush),
		ALL(test_list_paging_since),
		ALL(test_bad_parts_refused),
		ALL(test_part_status),
		ALL(test_mr_wraparound),
		cmocka_unit_test(test_join),
	};

	log_init("test_store_inbound", getenv("TEST_LOG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
