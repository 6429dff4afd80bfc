/* store_pg_webhook: the postgresql backend's webhook outbox (as store_sqlite_webhook.c), with rows
 * claimed by one node at a time. Plain statements: one row per final state and a due scan per
 * delivery round are off the hot path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/store_pg_int.h"

#define WH_COLUMNS "id, message_id, url, event, attempts, next_ms, created_ms, delivered_ms, last_error"

static void row_to_webhook(const PGresult *r, int i, struct store_webhook *w)
{
	w->id = store_pg_i64(r, i, 0);
	w->message_id = store_pg_i64(r, i, 1);
	store_copy_field(w->url, sizeof(w->url), store_pg_str(r, i, 2));
	store_copy_field(w->event, sizeof(w->event), store_pg_str(r, i, 3));
	w->attempts = (int)store_pg_i64(r, i, 4);
	w->next_ms = store_pg_i64(r, i, 5);
	w->created_ms = store_pg_i64(r, i, 6);
	w->delivered_ms = store_pg_i64(r, i, 7);
	store_copy_field(w->last_error, sizeof(w->last_error), store_pg_str(r, i, 8));
}

/* One write in its own transaction (a savepoint inside a batch); *id from RETURNING when asked.
 * 0, 1 no row changed, -1. */
static int write1(struct pg *p, const char *sql, const struct pg_params *prm, int64_t *id, const char *what)
{
	PGresult *r;
	int changed;

	if (store_pg_begin(p, what) == -1)
		return -1;
	if ((r = store_pg_exec(p, sql, prm, what)) == NULL) {
		store_pg_rollback(p);
		return -1;
	}
	changed = id ? PQntuples(r) : store_pg_changes(r);
	if (id && changed)
		*id = store_pg_i64(r, 0, 0);
	PQclear(r);
	if (changed == 0) {
		store_pg_rollback(p);
		return 1;
	}
	return store_pg_finish(p, what);
}

int store_pg_webhook_add(void *be, const struct store_webhook_new *w, int64_t *id)
{
	struct pg_params prm = { 0 };

	store_pg_int(&prm, w->message_id);
	store_pg_text(&prm, w->url);
	store_pg_text(&prm, w->event);
	store_pg_text(&prm, w->body);
	store_pg_int(&prm, w->created_ms);
	return write1(be, "INSERT INTO webhooks (message_id, url, event, body, next_ms, created_ms)"
		      " VALUES ($1, $2, $3, $4, $5, $5) RETURNING id", &prm, id, "webhook_add") == 0 ? 0 : -1;
}

/*
 * The due rows, claimed: a row another node claimed is skipped until its claim passes (its lease:
 * the node died mid-delivery), and SKIP LOCKED lets two nodes scanning at once split the rows rather
 * than wait or both take one. This node's own claims come back (as on sqlite, the deliverer knows
 * what it has in flight); each scan renews them. A lone node ("" id) sees every row.
 */
int store_pg_webhook_due(void *be, int64_t now_ms, struct store_webhook *rows, size_t max)
{
	struct pg *p = be;
	struct pg_params prm = { 0 };
	PGresult *r;
	int n;

	store_pg_int(&prm, now_ms);
	store_pg_int(&prm, (int64_t)max);
	store_pg_text(&prm, p->node);
	store_pg_int(&prm, now_ms + p->lease_ms);
	/* the oldest pending row of each message only: a message's events go out in order */
	if (store_pg_begin(p, "webhook_due") == -1)
		return -1;
	r = store_pg_exec(p, "WITH due AS (SELECT id FROM webhooks w"
			  " WHERE delivered_ms = 0 AND next_ms > 0 AND next_ms <= $1"
			  "  AND (claim_node = $3 OR claim_until_ms < $1) AND (message_id = 0 OR"
			  "  NOT EXISTS (SELECT 1 FROM webhooks o WHERE o.message_id = w.message_id AND o.id < w.id"
			  "   AND o.delivered_ms = 0 AND o.next_ms > 0))"
			  " ORDER BY next_ms, id LIMIT $2 FOR UPDATE SKIP LOCKED),"
			  " claimed AS (UPDATE webhooks w SET claim_node = $3, claim_until_ms = $4 FROM due"
			  "  WHERE w.id = due.id RETURNING w.id, w.message_id, w.url, w.event, w.attempts, w.next_ms,"
			  "  w.created_ms, w.delivered_ms, w.last_error, w.body)"
			  " SELECT * FROM claimed ORDER BY next_ms, id", &prm, "webhook_due");
	if (r == NULL) {
		store_pg_rollback(p);
		return -1;
	}
	n = PQntuples(r);
	if ((size_t)n > max)
		n = (int)max;
	for (int i = 0; i < n; i++) {
		row_to_webhook(r, i, &rows[i]);
		if ((rows[i].body = strdup(store_pg_str(r, i, 9))) == NULL) {
			for (int k = 0; k < i; k++)
				store_webhook_clear(&rows[k]);
			PQclear(r);
			store_pg_rollback(p);
			return -1;
		}
	}
	PQclear(r);
	if (store_pg_finish(p, "webhook_due: commit") == -1) {
		for (int k = 0; k < n; k++)
			store_webhook_clear(&rows[k]);
		return -1;
	}
	return n;
}

int store_pg_webhook_result(void *be, int64_t id, int64_t delivered_ms, int64_t next_ms, const char *error)
{
	struct pg_params prm = { 0 };

	store_pg_int(&prm, id);
	store_pg_int(&prm, delivered_ms);
	store_pg_int(&prm, next_ms);
	store_pg_text(&prm, error);
	return write1(be, "UPDATE webhooks SET attempts = attempts + 1, delivered_ms = $2::bigint,"
		      " next_ms = CASE WHEN $2::bigint > 0 THEN 0 ELSE $3::bigint END,"
		      " last_error = COALESCE($4::text, last_error), claim_node = '', claim_until_ms = 0 WHERE id = $1",
		      &prm, NULL, "webhook_result");
}

int store_pg_webhook_replay(void *be, int64_t id, int64_t now_ms)
{
	struct pg_params prm = { 0 };

	store_pg_int(&prm, id);
	store_pg_int(&prm, now_ms);
	/* a body erased by retention cannot be sent again: not found */
	return write1(be, "UPDATE webhooks SET delivered_ms = 0, next_ms = $2, attempts = 0, claim_node = '',"
		      " claim_until_ms = 0 WHERE id = $1 AND body != ''",
		      &prm, NULL, "webhook_replay");
}

int store_pg_webhook_backlog(void *be, struct store_webhook_backlog *out)
{
	PGresult *r = store_pg_exec(be, "SELECT"
				    " (SELECT count(*) FROM webhooks WHERE delivered_ms = 0 AND next_ms > 0),"
				    " (SELECT min(created_ms) FROM webhooks WHERE delivered_ms = 0 AND next_ms > 0),"
				    " (SELECT count(*) FROM webhooks WHERE delivered_ms = 0 AND next_ms = 0)", NULL,
				    "webhook_backlog");

	if (r == NULL)
		return -1;
	out->pending = store_pg_i64(r, 0, 0);
	out->oldest_pending_ms = store_pg_i64(r, 0, 1);
	out->given_up = store_pg_i64(r, 0, 2);
	PQclear(r);
	return 0;
}

int store_pg_webhook_list(void *be, const struct store_webhook_filter *f, store_webhook_cb *cb, void *arg)
{
	struct pg_params prm = { 0 };
	PGresult *r;
	int n = 0;

	store_pg_int(&prm, f->before_id > 0 ? f->before_id : INT64_MAX);
	store_pg_int(&prm, f->failed ? 1 : 0);
	store_pg_int(&prm, (int64_t)f->limit);
	r = store_pg_exec(be, "SELECT " WH_COLUMNS " FROM webhooks WHERE id < $1"
			  " AND ($2::int = 0 OR (delivered_ms = 0 AND attempts > 0)) ORDER BY id DESC LIMIT $3", &prm,
			  "webhook_list");
	if (r == NULL)
		return -1;
	while (n < PQntuples(r)) {
		struct store_webhook w = { 0 };

		row_to_webhook(r, n, &w);
		n++;
		if (cb(arg, &w))
			break;
	}
	PQclear(r);
	return n;
}
