/* test_store_purge: retention through the store interface on both backends (sqlite, mem) with fake
 * timestamps — texts erased but rows kept, rows deleted, only finished messages, bounded chunks —
 * plus the sqlite-only incremental vacuum and online backup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "queue/store.h"
#include "store_fixture.h"
#include "simroute/log.h"

/* One message created at 1000 with text, moved along `path` (a 0-terminated list after queued),
 * each step at `at`. Returns its id. */
static int64_t msg_at(struct fx *f, const char *text, int64_t at, const enum msg_state *path, size_t n)
{
	struct store_new_msg m = { .to = "+447700900123", .text = text, .lane = LANE_NORMAL, .nparts = 1,
				   .created_ms = 1000 };
	enum msg_state from = MSG_QUEUED;
	int64_t id;

	assert_int_equal(store_enqueue(f->st, &m, 1, &id), 0);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(store_transition(f->st, id, from, path[i], "m0", NULL, at), 0);
		from = path[i];
	}
	return id;
}

static const enum msg_state to_sent[] = { MSG_SENDING, MSG_SENT };
static const enum msg_state to_delivered[] = { MSG_SENDING, MSG_SENT, MSG_DELIVERED };
static const enum msg_state to_cancelled[] = { MSG_CANCELLED };
static const enum msg_state to_sending[] = { MSG_SENDING };
static const enum msg_state to_uncertain[] = { MSG_SENDING, MSG_UNCERTAIN };

#define STEPS(a) a, sizeof(a) / sizeof(a[0])

static void expect_msg(struct fx *f, int64_t id, const char *text, bool purged, enum msg_state state)
{
	struct store_msg m;

	assert_int_equal(store_get(f->st, id, &m), 0);
	assert_string_equal(m.text, text);
	assert_int_equal(m.purged, purged);
	assert_int_equal(m.state, state);
	assert_string_equal(m.to, "+447700900123");   /* metadata stays */
	assert_int_equal(m.nparts, 1);
	assert_int_equal(m.created_ms, 1000);
	store_msg_clear(&m);
}

static int count_events(void *arg, const struct store_event *ev)
{
	(void)ev;
	(*(int *)arg)++;
	return 0;
}

static void test_bodies_erased_rows_kept(void **state)
{
	struct fx *f = *state;
	int64_t sent = msg_at(f, "code 1234", 2000, STEPS(to_sent));
	int64_t delivered = msg_at(f, "hello", 2000, STEPS(to_delivered));
	int64_t cancelled = msg_at(f, "never mind", 2000, STEPS(to_cancelled));
	int64_t queued = msg_at(f, "waiting", 0, NULL, 0);
	int events = 0;

	/* the cutoff is exclusive: changed at 2000 is not older than 2000 */
	assert_int_equal(store_purge(f->st, 2000, 0, 100), 0);
	assert_int_equal(store_purge(f->st, 5000, 0, 100), 3);
	expect_msg(f, sent, "", true, MSG_SENT);
	expect_msg(f, delivered, "", true, MSG_DELIVERED);
	expect_msg(f, cancelled, "", true, MSG_CANCELLED);
	expect_msg(f, queued, "waiting", false, MSG_QUEUED);
	assert_int_equal(store_timeline(f->st, delivered, count_events, &events), 3);
	/* done once: nothing left to erase */
	assert_int_equal(store_purge(f->st, 5000, 0, 100), 0);
	/* a purged message still moves on (a late status report) */
	assert_int_equal(store_transition(f->st, sent, MSG_SENT, MSG_DELIVERED, NULL, NULL, 6000), 0);
	expect_msg(f, sent, "", true, MSG_DELIVERED);
}

static void test_only_done_messages(void **state)
{
	struct fx *f = *state;
	int64_t queued = msg_at(f, "q", 0, NULL, 0);
	int64_t sending = msg_at(f, "s", 2000, STEPS(to_sending));
	int64_t uncertain = msg_at(f, "u", 2000, STEPS(to_uncertain));

	assert_int_equal(store_purge(f->st, 1000000, 1000000, 100), 0);
	expect_msg(f, sending, "s", false, MSG_SENDING);
	expect_msg(f, uncertain, "u", false, MSG_UNCERTAIN);
	struct store_msg m;
	assert_int_equal(store_get(f->st, queued, &m), 0);
	assert_string_equal(m.text, "q");
	store_msg_clear(&m);
}

static int collect_ids(void *arg, const struct store_msg *m)
{
	int64_t *ids = arg;
	while (*ids)
		ids++;
	*ids = m->id;
	return 0;
}

static int pending_cb(void *arg, int64_t id, enum msg_lane lane, int64_t expires_ms)
{
	(void)lane;
	(void)expires_ms;
	*(int64_t *)arg = id;
	return 0;
}

static void test_rows_deleted(void **state)
{
	struct fx *f = *state;
	int64_t old = msg_at(f, "old", 2000, STEPS(to_delivered));
	int64_t recent = msg_at(f, "recent", 9000, STEPS(to_delivered));
	int64_t found = 0;
	assert_int_equal(store_carrier_id_add(f->st, "cloud", "c-old", old, 2000), 0);
	assert_int_equal(store_carrier_id_add(f->st, "cloud", "c-recent", recent, 9000), 0);
	int64_t queued = msg_at(f, "q", 0, NULL, 0);
	struct store_filter all = { .state = -1, .limit = 10 };
	struct store_counts c = { 0 };
	struct store_msg m;
	int64_t ids[11] = { 0 };
	int events = 0;

	assert_int_equal(store_purge(f->st, 0, 5000, 100), 1);
	assert_int_equal(store_get(f->st, old, &m), 1);
	assert_int_equal(store_timeline(f->st, old, count_events, &events), 0);
	assert_int_equal(events, 0);
	assert_int_equal(store_list(f->st, &all, collect_ids, ids), 2);
	assert_true(ids[0] == queued && ids[1] == recent);
	assert_int_equal(store_counts(f->st, &c), 0);
	assert_int_equal(c.by_state[MSG_DELIVERED], 1);
	assert_int_equal(c.by_state[MSG_QUEUED], 1);
	expect_msg(f, recent, "recent", false, MSG_DELIVERED);
	/* a deleted message's carrier id goes with it (a late callback finds nothing) */
	assert_int_equal(store_carrier_id_find(f->st, "cloud", "c-old", &found), 1);
	assert_int_equal(store_carrier_id_find(f->st, "cloud", "c-recent", &found), 0);
	assert_int_equal(found, recent);
	/* the queue sees only the queued one, in every lane */
	int64_t seen = 0;
	for (int lane = 0; lane < LANE_COUNT; lane++)
		assert_int_equal(store_load_pending(f->st, (enum msg_lane)lane, 0, 0, pending_cb, &seen),
				 lane == LANE_NORMAL ? 1 : 0);
	assert_int_equal(seen, queued);
	/* ids are never reused after a purge */
	int64_t next = msg_at(f, "next", 0, NULL, 0);
	assert_true(next > queued);
}

static void test_bounded_chunks(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < 10; i++)
		msg_at(f, "bulk", 2000, STEPS(to_cancelled));
	/* rows first, then texts, under one budget per call */
	assert_int_equal(store_purge(f->st, 5000, 0, 3), 3);
	assert_int_equal(store_purge(f->st, 5000, 0, 3), 3);
	assert_int_equal(store_purge(f->st, 5000, 0, 3), 3);
	assert_int_equal(store_purge(f->st, 5000, 0, 3), 1);
	assert_int_equal(store_purge(f->st, 5000, 0, 3), 0);
	assert_int_equal(store_purge(f->st, 5000, 5000, 4), 4);
	assert_int_equal(store_purge(f->st, 5000, 5000, 4), 4);
	assert_int_equal(store_purge(f->st, 5000, 5000, 4), 2);
	assert_int_equal(store_purge(f->st, 5000, 5000, 4), 0);
}

static void test_bad_arguments(void **state)
{
	struct fx *f = *state;

	assert_int_equal(store_purge(f->st, 5000, 5000, 0), -1);
	assert_int_equal(store_purge(f->st, -1, 0, 10), -1);
	assert_int_equal(store_purge(f->st, 0, 0, 10), 0);   /* both off: nothing to do */
}

struct inbound_seen {
	int n;
	bool purged;
	char text[64];
};

static int inbound_cb(void *arg, const struct store_inbound *m)
{
	struct inbound_seen *s = arg;
	s->n++;
	s->purged = m->purged;
	snprintf(s->text, sizeof(s->text), "%s", m->text);
	return 0;
}

static void test_inbound(void **state)
{
	struct fx *f = *state;
	struct store_inbound_part p = { .route = "m0", .from = "+46701234567", .text = "inbound secret",
					.encoding = "gsm7", .scts = "", .ref = 0, .total = 1, .seq = 1,
					.received_ms = 1000 };
	struct store_inbound_filter all = { .limit = 10 };
	struct inbound_seen seen = { 0 };
	int64_t id;

	assert_int_equal(store_inbound_add(f->st, &p, &id), 0);
	assert_true(id > 0);
	assert_int_equal(store_purge(f->st, 1000, 0, 10), 0);
	assert_int_equal(store_purge(f->st, 2000, 0, 10), 1);
	assert_int_equal(store_inbound_list(f->st, &all, inbound_cb, &seen), 1);
	assert_true(seen.purged);
	assert_string_equal(seen.text, "");
	assert_int_equal(store_purge(f->st, 2000, 0, 10), 0);
	assert_int_equal(store_purge(f->st, 2000, 2000, 10), 1);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_inbound_list(f->st, &all, inbound_cb, &seen), 0);
}

static int webhook_ids(void *arg, const struct store_webhook *w)
{
	int64_t *ids = arg;
	while (*ids)
		ids++;
	*ids = w->id;
	return 0;
}

static void test_webhooks(void **state)
{
	struct fx *f = *state;
	struct store_webhook_new w = { .url = "http://127.0.0.1:1/x", .event = "inbound.received",
				       .body = "{\"text\":\"secret\"}", .created_ms = 1000 };
	struct store_webhook_filter all = { .limit = 10 };
	struct store_webhook due[4];
	int64_t delivered, given_up, pending, ids[5] = { 0 };

	assert_int_equal(store_webhook_add(f->st, &w, &delivered), 0);
	assert_int_equal(store_webhook_add(f->st, &w, &given_up), 0);
	assert_int_equal(store_webhook_add(f->st, &w, &pending), 0);
	assert_int_equal(store_webhook_result(f->st, delivered, 1500, 0, NULL), 0);
	assert_int_equal(store_webhook_result(f->st, given_up, 0, 0, "HTTP 500"), 0);
	/* bodies of finished rows only; an erased one cannot be replayed */
	assert_int_equal(store_purge(f->st, 2000, 0, 10), 2);
	assert_int_equal(store_webhook_replay(f->st, delivered, 3000), 1);
	int n = store_webhook_due(f->st, 3000, due, 4);
	assert_int_equal(n, 1);
	assert_int_equal(due[0].id, pending);
	assert_string_equal(due[0].body, "{\"text\":\"secret\"}");
	store_webhook_clear(&due[0]);
	/* rows: finished ones go, the pending one stays */
	assert_int_equal(store_purge(f->st, 2000, 2000, 10), 2);
	assert_int_equal(store_webhook_list(f->st, &all, webhook_ids, ids), 1);
	assert_int_equal(ids[0], pending);
}

/* ---- sqlite only ---- */

static long long file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

static void test_vacuum_gives_space_back(void **state)
{
	struct fx *f = *state;
	char text[1500];
	long long before, after;
	int left, rounds = 0;

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	for (int i = 0; i < 2000; i++)
		msg_at(f, text, 2000, STEPS(to_cancelled));
	assert_int_equal(store_vacuum_step(f->st, 64), 0);   /* nothing free yet */
	/* a checkpoint moves the WAL into the file, so its size is comparable */
	store_close(f->st);
	before = file_size(f->path);
	char err[256];
	f->st = store_open(f->backend, f->path, err, sizeof(err));
	assert_non_null(f->st);
	while (store_purge(f->st, 5000, 5000, 500) == 500)
		;
	while ((left = store_vacuum_step(f->st, 64)) > 0)
		rounds++;
	assert_int_equal(left, 0);
	assert_true(rounds > 1);   /* in steps, not at once */
	store_close(f->st);
	after = file_size(f->path);
	f->st = store_open(f->backend, f->path, err, sizeof(err));
	assert_non_null(f->st);
	assert_true(after < before / 4);
}

static void test_backup_copy(void **state)
{
	struct fx *f = *state;
	char copy[160], err[256];
	bool unsupported = true;
	sqlite3 *db;
	sqlite3_stmt *st;
	int rc, steps = 0, done, total;

	for (int i = 0; i < 300; i++)
		msg_at(f, "to be copied, with some length to fill pages ...........................", 0, NULL, 0);
	snprintf(copy, sizeof(copy), "%s/copy.db", f->dir);
	struct store_backup *b = store_backup_begin(f->st, copy, &unsupported, err, sizeof(err));
	assert_non_null(b);
	assert_false(unsupported);
	/* a write between steps reaches the copy too (same connection) */
	while ((rc = store_backup_step(b, 2, err, sizeof(err))) == 1)
		if (steps++ == 1)
			msg_at(f, "written during the backup", 0, NULL, 0);
	assert_int_equal(rc, 0);
	assert_true(steps > 1);
	store_backup_progress(b, &done, &total);
	assert_int_equal(done, total);
	store_backup_free(b);
	assert_int_equal(sqlite3_open_v2(copy, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM messages", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 301);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void test_backup_unsupported(void **state)
{
	struct fx *f = *state;
	char err[256];
	bool unsupported = false;

	assert_null(store_backup_begin(f->st, "/tmp/never-written.db", &unsupported, err, sizeof(err)));
	assert_true(unsupported);
	assert_non_null(strstr(err, "cannot be backed up"));
	assert_int_equal(store_vacuum_step(f->st, 64), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ALL(test_bodies_erased_rows_kept),
		ALL(test_only_done_messages),
		ALL(test_rows_deleted),
		ALL(test_bounded_chunks),
		ALL(test_bad_arguments),
		ALL(test_inbound),
		ALL(test_webhooks),
		cmocka_unit_test_prestate_setup_teardown(test_vacuum_gives_space_back, setup, teardown, &fx_sqlite),
		cmocka_unit_test_prestate_setup_teardown(test_backup_copy, setup, teardown, &fx_sqlite),
		cmocka_unit_test_prestate_setup_teardown(test_backup_unsupported, setup, teardown, &fx_mem),
	};

	log_init("test_store_purge", LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
