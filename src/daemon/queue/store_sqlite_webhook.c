/* store_sqlite_webhook: the sqlite backend's webhook outbox. Schema: migration 6 (store_sqlite_schema.c).
 *
 * Statements are prepared per call, as in store_sqlite_inbound.c: one row per final state and a due
 * scan per delivery round are far from the API's hot path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/store_sqlite_int.h"
#include "simroute/log.h"

#define WH_COLUMNS "id, message_id, url, event, attempts, next_ms, created_ms, delivered_ms, last_error"

static sqlite3_stmt *prep(struct sq *s, const char *sql, const char *what)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_sq_warn(s, what);
		return NULL;
	}
	return st;
}

static void row_to_webhook(sqlite3_stmt *st, struct store_webhook *w)
{
	w->id = sqlite3_column_int64(st, 0);
	w->message_id = sqlite3_column_int64(st, 1);
	store_copy_field(w->url, sizeof(w->url), store_sq_col_text(st, 2));
	store_copy_field(w->event, sizeof(w->event), store_sq_col_text(st, 3));
	w->attempts = sqlite3_column_int(st, 4);
	w->next_ms = sqlite3_column_int64(st, 5);
	w->created_ms = sqlite3_column_int64(st, 6);
	w->delivered_ms = sqlite3_column_int64(st, 7);
	store_copy_field(w->last_error, sizeof(w->last_error), store_sq_col_text(st, 8));
}

int store_sq_webhook_add(void *be, const struct store_webhook_new *w, int64_t *id)
{
	struct sq *s = be;
	sqlite3_stmt *st = prep(s, "INSERT INTO webhooks (message_id, url, event, body, next_ms, created_ms)"
				" VALUES (?1, ?2, ?3, ?4, ?5, ?5)", "webhook_add");

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, w->message_id);
	sqlite3_bind_text(st, 2, w->url, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, w->event, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, w->body, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, w->created_ms);
	int rc = store_sq_write1(s, st, "webhook_add");
	if (rc != 0)
		return -1;
	/* a savepoint's release keeps the rowid; a batch commit failing later undoes it with the rest */
	*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int store_sq_webhook_due(void *be, int64_t now_ms, struct store_webhook *rows, size_t max)
{
	struct sq *s = be;
	/* the oldest pending row of each message only: a message's events go out in order */
	sqlite3_stmt *st = prep(s, "SELECT " WH_COLUMNS ", body FROM webhooks w"
				" WHERE delivered_ms = 0 AND next_ms > 0 AND next_ms <= ?1 AND (message_id = 0 OR"
				"  NOT EXISTS (SELECT 1 FROM webhooks o WHERE o.message_id = w.message_id AND o.id < w.id"
				"   AND o.delivered_ms = 0 AND o.next_ms > 0))"
				" ORDER BY next_ms, id LIMIT ?2", "webhook_due");
	size_t n = 0;
	int rc = SQLITE_DONE;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_to_webhook(st, &rows[n]);
		if ((rows[n].body = strdup(store_sq_col_text(st, 9))) == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		n++;
	}
	if (n < max && rc != SQLITE_DONE) {
		store_sq_warn(s, "webhook_due");
		sqlite3_finalize(st);
		for (size_t i = 0; i < n; i++)
			store_webhook_clear(&rows[i]);
		return -1;
	}
	sqlite3_finalize(st);
	return (int)n;
}

int store_sq_webhook_result(void *be, int64_t id, int64_t delivered_ms, int64_t next_ms, const char *error)
{
	struct sq *s = be;
	sqlite3_stmt *st = prep(s, "UPDATE webhooks SET attempts = attempts + 1, delivered_ms = ?2,"
				" next_ms = CASE WHEN ?2 > 0 THEN 0 ELSE ?3 END, last_error = COALESCE(?4, last_error)"
				" WHERE id = ?1", "webhook_result");

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, delivered_ms);
	sqlite3_bind_int64(st, 3, next_ms);
	if (error)
		sqlite3_bind_text(st, 4, error, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 4);
	return store_sq_write1(s, st, "webhook_result");
}

int store_sq_webhook_replay(void *be, int64_t id, int64_t now_ms)
{
	struct sq *s = be;
	/* a body erased by retention cannot be sent again: not found */
	sqlite3_stmt *st = prep(s, "UPDATE webhooks SET delivered_ms = 0, next_ms = ?2, attempts = 0"
				" WHERE id = ?1 AND body != ''",
				"webhook_replay");

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now_ms);
	return store_sq_write1(s, st, "webhook_replay");
}

int store_sq_webhook_backlog(void *be, struct store_webhook_backlog *out)
{
	struct sq *s = be;
	/* both counts read only their partial indexes (webhooks_due, webhooks_given_up): a few rows */
	sqlite3_stmt *st = prep(s, "SELECT (SELECT count(*) FROM webhooks INDEXED BY webhooks_due"
				"         WHERE delivered_ms = 0 AND next_ms > 0),"
				" (SELECT min(created_ms) FROM webhooks INDEXED BY webhooks_due"
				"         WHERE delivered_ms = 0 AND next_ms > 0),"
				" (SELECT count(*) FROM webhooks INDEXED BY webhooks_given_up"
				"         WHERE delivered_ms = 0 AND next_ms = 0)", "webhook_backlog");
	int rc;

	if (st == NULL)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->pending = sqlite3_column_int64(st, 0);
		out->oldest_pending_ms = sqlite3_column_int64(st, 1);
		out->given_up = sqlite3_column_int64(st, 2);
	} else {
		store_sq_warn(s, "webhook_backlog");
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int store_sq_webhook_list(void *be, const struct store_webhook_filter *f, store_webhook_cb *cb, void *arg)
{
	struct sq *s = be;
	sqlite3_stmt *st = prep(s, "SELECT " WH_COLUMNS " FROM webhooks WHERE id < ?1"
				" AND (?2 = 0 OR (delivered_ms = 0 AND attempts > 0)) ORDER BY id DESC LIMIT ?3",
				"webhook_list");
	int rc, n = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, f->before_id > 0 ? f->before_id : INT64_MAX);
	sqlite3_bind_int(st, 2, f->failed);
	sqlite3_bind_int64(st, 3, (int64_t)f->limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_webhook w = { 0 };
		row_to_webhook(st, &w);
		n++;
		if (cb(arg, &w)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		store_sq_warn(s, "webhook_list");
		n = -1;
	}
	sqlite3_finalize(st);
	return n;
}
