/* store_sqlite_keys: the sqlite backend's API keys. Schema: migrations 8 and 13
 * (store_sqlite_schema.c).
 *
 * Statements are prepared per call: keys are created and revoked by an administrator, and listed
 * once at start-up (the API keeps them in memory, so authentication never reads the store). */
#include <stdio.h>
#include <string.h>

#include "queue/store_sqlite_int.h"
#include "simroute/log.h"

/* One write in its own transaction (a savepoint inside a batch): 0, 1 no row changed or a
 * constraint (a taken id or name) refused it, -1 error. */
static int write1(struct sq *s, const char *sql, const struct store_api_key *k, const char *id, int64_t now_ms,
		  const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_sq_warn(s, what);
		return -1;
	}
	if (k) {
		sqlite3_bind_text(st, 1, k->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, k->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, k->hash, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, k->scopes, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, k->created_ms);
		sqlite3_bind_text(st, 6, k->created_by, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 7, k->mask_numbers ? 1 : 0);
	} else {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now_ms);
	}
	if (store_sq_begin(s, what) == -1) {
		sqlite3_finalize(st);
		return -1;
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT) {
		store_sq_rollback(s);
		return 1;
	}
	if (rc != SQLITE_DONE) {
		store_sq_warn(s, what);
		store_sq_rollback(s);
		return -1;
	}
	if (sqlite3_changes(s->db) == 0) {
		store_sq_rollback(s);
		return 1;
	}
	return store_sq_finish(s, what);
}

int store_sq_key_add(void *be, const struct store_api_key *k)
{
	return write1(be, "INSERT INTO api_keys (id, name, hash, scopes, created_ms, created_by, mask_numbers)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", k, NULL, 0, "key_add");
}

int store_sq_key_revoke(void *be, const char *id, int64_t now_ms)
{
	return write1(be, "UPDATE api_keys SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms = 0", NULL, id, now_ms,
		      "key_revoke");
}

int store_sq_key_list(void *be, store_key_cb *cb, void *arg)
{
	struct sq *s = be;
	sqlite3_stmt *st = NULL;
	int rc, n = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT id, name, hash, scopes, created_ms, created_by, revoked_ms,"
			       " mask_numbers FROM api_keys ORDER BY created_ms, id", -1, &st, NULL) != SQLITE_OK) {
		store_sq_warn(s, "key_list");
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_api_key k = { 0 };
		store_copy_field(k.id, sizeof(k.id), store_sq_col_text(st, 0));
		store_copy_field(k.name, sizeof(k.name), store_sq_col_text(st, 1));
		store_copy_field(k.hash, sizeof(k.hash), store_sq_col_text(st, 2));
		store_copy_field(k.scopes, sizeof(k.scopes), store_sq_col_text(st, 3));
		k.created_ms = sqlite3_column_int64(st, 4);
		store_copy_field(k.created_by, sizeof(k.created_by), store_sq_col_text(st, 5));
		k.revoked_ms = sqlite3_column_int64(st, 6);
		k.mask_numbers = sqlite3_column_int(st, 7) != 0;
		n++;
		if (cb(arg, &k)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		store_sq_warn(s, "key_list");
		n = -1;
	}
	sqlite3_finalize(st);
	return n;
}
