/* store_sqlite_admin: the sqlite backend's audit log and opt-out list. Schema: migration 7.
 *
 * Statements are prepared per call (as in store_sqlite_webhook.c): admin actions are rare, and the
 * accept path checks the opt-out list in memory (queue/optout.c), never here. */
#include <stdint.h>
#include <string.h>

#include "queue/store_sqlite_int.h"

static sqlite3_stmt *prep(struct sq *s, const char *sql, const char *what)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_sq_warn(s, what);
		return NULL;
	}
	return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_STATIC);
}

int store_sq_audit_add(void *be, const struct store_audit_new *a)
{
	struct sq *s = be;
	sqlite3_stmt *st = prep(s, "INSERT INTO audit (at_ms, actor, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
				"audit_add");

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, a->at_ms);
	bind_text(st, 2, a->actor);
	bind_text(st, 3, a->action);
	bind_text(st, 4, a->target);
	bind_text(st, 5, a->detail);
	return store_sq_write1(s, st, "audit_add") == 0 ? 0 : -1;
}

int store_sq_audit_list(void *be, const struct store_audit_filter *f, store_audit_cb *cb, void *arg)
{
	struct sq *s = be;
	sqlite3_stmt *st = prep(s, "SELECT id, at_ms, actor, action, target, detail FROM audit"
				" WHERE id < ?1 AND at_ms >= ?2 ORDER BY id DESC LIMIT ?3", "audit_list");
	int rc, n = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, f->before_id > 0 ? f->before_id : INT64_MAX);
	sqlite3_bind_int64(st, 2, f->since_ms);
	sqlite3_bind_int64(st, 3, (int64_t)f->limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_audit a = { .id = sqlite3_column_int64(st, 0), .at_ms = sqlite3_column_int64(st, 1),
					 .actor = store_sq_col_text(st, 2), .action = store_sq_col_text(st, 3),
					 .target = store_sq_col_text(st, 4), .detail = store_sq_col_text(st, 5) };
		n++;
		if (cb(arg, &a)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		store_sq_warn(s, "audit_list");
		n = -1;
	}
	sqlite3_finalize(st);
	return n;
}

int store_sq_optout_add(void *be, const struct store_optout *o)
{
	struct sq *s = be;
	sqlite3_stmt *st = prep(s, "INSERT INTO optout (number, source, created_ms, note) VALUES (?1, ?2, ?3, ?4)"
				" ON CONFLICT (number) DO NOTHING", "optout_add");

	if (st == NULL)
		return -1;
	bind_text(st, 1, o->number);
	bind_text(st, 2, o->source);
	sqlite3_bind_int64(st, 3, o->created_ms);
	bind_text(st, 4, o->note);
	return store_sq_write1(s, st, "optout_add");
}

int store_sq_optout_remove(void *be, const char *number)
{
	struct sq *s = be;
	sqlite3_stmt *st = prep(s, "DELETE FROM optout WHERE number = ?1", "optout_remove");

	if (st == NULL)
		return -1;
	bind_text(st, 1, number);
	return store_sq_write1(s, st, "optout_remove");
}

int store_sq_optout_check(void *be, const char *number)
{
	struct sq *s = be;
	sqlite3_stmt *st = prep(s, "SELECT 1 FROM optout WHERE number = ?1", "optout_check");
	int rc;

	if (st == NULL)
		return -1;
	bind_text(st, 1, number);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		store_sq_warn(s, "optout_check");
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int store_sq_optout_list(void *be, const struct store_optout_filter *f, store_optout_cb *cb, void *arg)
{
	struct sq *s = be;
	sqlite3_stmt *st = prep(s, "SELECT rowid, number, source, created_ms, note FROM optout"
				" WHERE rowid < ?1 AND created_ms >= ?2 ORDER BY rowid DESC LIMIT ?3", "optout_list");
	int rc, n = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, f->before_id > 0 ? f->before_id : INT64_MAX);
	sqlite3_bind_int64(st, 2, f->since_ms);
	sqlite3_bind_int64(st, 3, f->limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)f->limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_optout o = { .id = sqlite3_column_int64(st, 0), .number = store_sq_col_text(st, 1),
					  .source = store_sq_col_text(st, 2), .created_ms = sqlite3_column_int64(st, 3),
					  .note = store_sq_col_text(st, 4) };
		n++;
		if (cb(arg, &o)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		store_sq_warn(s, "optout_list");
		n = -1;
	}
	sqlite3_finalize(st);
	return n;
}
