/* test_store_keys: API keys created at run time on both store backends — add, taken ids and names,
 * listing, revoke, argument checks — and, on sqlite, that they survive a reopen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <unistd.h>

#include "queue/store.h"
#include "store_fixture.h"
#include "simroute/log.h"

#define HASH_A "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define HASH_B "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"

static struct store_api_key key(const char *id, const char *name, const char *hash, const char *scopes, int64_t at)
{
	struct store_api_key k = { .created_ms = at };
	snprintf(k.id, sizeof(k.id), "%s", id);
	snprintf(k.name, sizeof(k.name), "%s", name);
	snprintf(k.hash, sizeof(k.hash), "%s", hash);
	snprintf(k.scopes, sizeof(k.scopes), "%s", scopes);
	snprintf(k.created_by, sizeof(k.created_by), "unix");
	return k;
}

struct seen {
	struct store_api_key rows[8];
	int n;
	int stop_after;   /* 0: never */
};

static int seen_cb(void *arg, const struct store_api_key *k)
{
	struct seen *s = arg;
	if (s->n < 8)
		s->rows[s->n++] = *k;
	return s->stop_after && s->n >= s->stop_after;
}

static void test_add_list_revoke(void **state)
{
	struct fx *f = *state;
	struct store_api_key a = key("k_0000000a", "crm", HASH_A, "send,read", 1000);
	struct store_api_key b = key("k_0000000b", "ops", HASH_B, "admin", 2000);
	struct seen s = { 0 };

	assert_int_equal(store_key_list(f->st, seen_cb, &s), 0);
	assert_int_equal(store_key_add(f->st, &a), 0);
	assert_int_equal(store_key_add(f->st, &b), 0);
	assert_int_equal(store_key_list(f->st, seen_cb, &s), 2);
	/* oldest first, every field back as given */
	assert_string_equal(s.rows[0].id, "k_0000000a");
	assert_string_equal(s.rows[0].name, "crm");
	assert_string_equal(s.rows[0].hash, HASH_A);
	assert_string_equal(s.rows[0].scopes, "send,read");
	assert_string_equal(s.rows[0].created_by, "unix");
	assert_int_equal(s.rows[0].created_ms, 1000);
	assert_int_equal(s.rows[0].revoked_ms, 0);
	assert_string_equal(s.rows[1].name, "ops");

	/* revoke once; a second time, or an unknown id, is "no live key" */
	assert_int_equal(store_key_revoke(f->st, "k_0000000a", 5000), 0);
	assert_int_equal(store_key_revoke(f->st, "k_0000000a", 6000), 1);
	assert_int_equal(store_key_revoke(f->st, "k_ffffffff", 6000), 1);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_key_list(f->st, seen_cb, &s), 2);
	assert_int_equal(s.rows[0].revoked_ms, 5000);
	assert_int_equal(s.rows[1].revoked_ms, 0);

	/* a non-zero return stops the walk */
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	assert_int_equal(store_key_list(f->st, seen_cb, &s), 1);
}

static void test_taken(void **state)
{
	struct fx *f = *state;
	struct store_api_key a = key("k_0000000a", "crm", HASH_A, "send", 1000);
	struct store_api_key same_id = key("k_0000000a", "other", HASH_B, "send", 2000);
	struct store_api_key same_name = key("k_0000000c", "crm", HASH_B, "send", 2000);
	struct seen s = { 0 };

	assert_int_equal(store_key_add(f->st, &a), 0);
	assert_int_equal(store_key_add(f->st, &same_id), 1);
	assert_int_equal(store_key_add(f->st, &same_name), 1);
	/* a revoked key's name stays taken */
	assert_int_equal(store_key_revoke(f->st, "k_0000000a", 3000), 0);
	assert_int_equal(store_key_add(f->st, &same_name), 1);
	assert_int_equal(store_key_list(f->st, seen_cb, &s), 1);
	assert_string_equal(s.rows[0].hash, HASH_A);
}

static void test_bad_arguments(void **state)
{
	struct fx *f = *state;
	struct store_api_key k = key("k_0000000a", "crm", HASH_A, "send", 1000);
	struct seen s = { 0 };

	k.id[0] = '\0';
	assert_int_equal(store_key_add(f->st, &k), -1);
	k = key("k_0000000a", "", HASH_A, "send", 1000);
	assert_int_equal(store_key_add(f->st, &k), -1);
	/* never a key in place of its hash */
	k = key("k_0000000a", "crm", "sk_notahash", "send", 1000);
	assert_int_equal(store_key_add(f->st, &k), -1);
	k = key("k_0000000a", "crm", "sha256:9f86", "send", 1000);
	assert_int_equal(store_key_add(f->st, &k), -1);
	k = key("k_0000000a", "crm", HASH_A, "", 1000);
	assert_int_equal(store_key_add(f->st, &k), -1);
	k = key("k_0000000a", "crm", HASH_A, "send", 0);
	assert_int_equal(store_key_add(f->st, &k), -1);
	k = key("k_0000000a", "crm", HASH_A, "send", 1000);
	k.revoked_ms = 5;
	assert_int_equal(store_key_add(f->st, &k), -1);
	assert_int_equal(store_key_add(f->st, NULL), -1);
	assert_int_equal(store_key_revoke(f->st, "", 1000), -1);
	assert_int_equal(store_key_revoke(f->st, NULL, 1000), -1);
	assert_int_equal(store_key_revoke(f->st, "k_0000000a", 0), -1);
	assert_int_equal(store_key_list(f->st, NULL, NULL), -1);
	assert_int_equal(store_key_list(f->st, seen_cb, &s), 0);
}

static void test_survives_reopen(void **state)
{
	struct fx *f = *state;
	struct store_api_key a = key("k_0000000a", "crm", HASH_A, "send,read", 1000);
	struct store_api_key b = key("k_0000000b", "ops", HASH_B, "admin", 2000);
	struct seen s = { 0 };
	char err[256];

	assert_int_equal(store_key_add(f->st, &a), 0);
	assert_int_equal(store_key_add(f->st, &b), 0);
	assert_int_equal(store_key_revoke(f->st, "k_0000000b", 3000), 0);
	store_close(f->st);
	f->st = store_open("sqlite", f->path, err, sizeof(err));
	assert_non_null(f->st);
	assert_int_equal(store_key_list(f->st, seen_cb, &s), 2);
	assert_string_equal(s.rows[0].hash, HASH_A);
	assert_int_equal(s.rows[0].revoked_ms, 0);
	assert_int_equal(s.rows[1].revoked_ms, 3000);
	assert_int_equal(store_key_add(f->st, &a), 1);
}

/* mask_numbers comes back as stored, on both backends; an unmasked key stays unmasked. */
static void test_mask_numbers(void **state)
{
	struct fx *f = *state;
	struct store_api_key a = key("k_0000000a", "dash", HASH_A, "read", 1000);
	struct store_api_key b = key("k_0000000b", "crm", HASH_B, "send,read", 2000);
	struct seen s = { 0 };

	a.mask_numbers = true;
	assert_int_equal(store_key_add(f->st, &a), 0);
	assert_int_equal(store_key_add(f->st, &b), 0);
	assert_int_equal(store_key_list(f->st, seen_cb, &s), 2);
	assert_string_equal(s.rows[0].name, "dash");
	assert_true(s.rows[0].mask_numbers);
	assert_string_equal(s.rows[1].name, "crm");
	assert_false(s.rows[1].mask_numbers);
	/* revoking keeps the flag (a revoked key is still listed as it was) */
	assert_int_equal(store_key_revoke(f->st, "k_0000000a", 3000), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_key_list(f->st, seen_cb, &s), 2);
	assert_true(s.rows[0].mask_numbers);
	assert_int_equal(s.rows[0].revoked_ms, 3000);
}

/* sqlite: the flag survives a reopen, and a key stored before schema step 13 reads as unmasked. */
static void test_mask_numbers_reopen_and_migrate(void **state)
{
	struct fx *f = *state;
	struct store_api_key a = key("k_0000000a", "dash", HASH_A, "read", 1000);
	struct seen s = { 0 };
	char err[256], *msg = NULL;
	sqlite3 *db;

	a.mask_numbers = true;
	assert_int_equal(store_key_add(f->st, &a), 0);
	store_close(f->st);
	f->st = store_open("sqlite", f->path, err, sizeof(err));
	assert_non_null(f->st);
	assert_int_equal(store_key_list(f->st, seen_cb, &s), 1);
	assert_true(s.rows[0].mask_numbers);
	store_close(f->st);

	/* back to step 12: the column gone, one key written as release 12 would have */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	if (sqlite3_exec(db, "ALTER TABLE api_keys DROP COLUMN mask_numbers; PRAGMA user_version = 12;"
			 "INSERT INTO api_keys (id, name, hash, scopes, created_ms, created_by) VALUES"
			 " ('k_0000000b', 'crm', '" HASH_B "', 'send,read', 2000, 'unix');",
			 NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("sqlite: %s", msg ? msg : "?");
	sqlite3_close(db);
	f->st = store_open("sqlite", f->path, err, sizeof(err));
	if (f->st == NULL)
		fail_msg("open: %s", err);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_key_list(f->st, seen_cb, &s), 2);
	assert_string_equal(s.rows[0].name, "dash");
	assert_false(s.rows[0].mask_numbers);   /* the column was dropped: the step's default */
	assert_string_equal(s.rows[1].name, "crm");
	assert_false(s.rows[1].mask_numbers);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ALL(test_add_list_revoke),
		ALL(test_taken),
		ALL(test_bad_arguments),
		ALL(test_mask_numbers),
		cmocka_unit_test_prestate_setup_teardown(test_survives_reopen, setup, teardown, &fx_sqlite),
		cmocka_unit_test_prestate_setup_teardown(test_mask_numbers_reopen_and_migrate, setup, teardown, &fx_sqlite),
	};

	log_init("test_store_keys", getenv("TEST_LOG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
