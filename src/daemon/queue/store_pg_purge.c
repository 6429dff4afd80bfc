/* store_pg_purge: the postgresql backend's retention (bounded purges, as store_sqlite_purge.c). No
 * vacuum hook: PostgreSQL's autovacuum gives the space back; no backup hook: use PostgreSQL's tools.
 * With several nodes each one runs the purge; the row locks make concurrent runs safe, and a row
 * already gone is simply not counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/store_pg_int.h"

/* The states retention may touch, as an SQL list: "'sent', 'delivered', ...". */
static void done_states(char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < MSG_STATE_COUNT; i++) {
		if (!store_retention_state((enum msg_state)i))
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s'%s'", off ? ", " : "",
					message_state_name((enum msg_state)i));
		if (off >= len)
			break;
	}
}

/* One statement with $1 = cutoff and $2 = limit; the rows it changed, or -1. */
static int run(struct pg *p, const char *sql, int64_t cutoff, int limit, const char *what)
{
	struct pg_params prm = { 0 };
	PGresult *r;
	int n;

	store_pg_int(&prm, cutoff);
	store_pg_int(&prm, limit);
	if (!(r = store_pg_exec(p, sql, &prm, what)))
		return -1;
	n = store_pg_changes(r);
	PQclear(r);
	return n;
}

/* Whole rows first (no point erasing a text about to go), then texts, within one budget. */
int store_pg_purge(void *be, int64_t body_before_ms, int64_t rows_before_ms, size_t max_rows)
{
	struct pg *p = be;
	char states[160], sql[512];
	int left = (int)max_rows, n;

	done_states(states, sizeof(states));
	if (store_pg_begin(p, "purge") == -1)
		return -1;
	if (rows_before_ms > 0) {
		/* parts, events and carrier ids go with their message (ON DELETE CASCADE) */
		snprintf(sql, sizeof(sql), "DELETE FROM messages WHERE id IN (SELECT id FROM messages"
			 " WHERE updated_ms < $1 AND state IN (%s) ORDER BY updated_ms LIMIT $2)", states);
		if ((n = run(p, sql, rows_before_ms, left, "purge: messages")) < 0)
			goto fail;
		left -= n;
		if (left > 0 && (n = run(p, "DELETE FROM inbound WHERE id IN (SELECT id FROM inbound"
					    " WHERE received_ms < $1 ORDER BY received_ms LIMIT $2)",
					 rows_before_ms, left, "purge: inbound")) < 0)
			goto fail;
		left -= left > 0 ? n : 0;
		if (left > 0 && (n = run(p, "DELETE FROM webhooks WHERE id IN (SELECT id FROM webhooks"
					    " WHERE created_ms < $1 AND (delivered_ms > 0 OR next_ms = 0)"
					    " ORDER BY created_ms LIMIT $2)",
					 rows_before_ms, left, "purge: webhooks")) < 0)
			goto fail;
		left -= left > 0 ? n : 0;
	}
	if (body_before_ms > 0 && left > 0) {
		snprintf(sql, sizeof(sql), "UPDATE messages SET text = '', body_purged = 1 WHERE id IN (SELECT id"
			 " FROM messages WHERE body_purged = 0 AND updated_ms < $1 AND state IN (%s)"
			 " ORDER BY updated_ms LIMIT $2)", states);
		if ((n = run(p, sql, body_before_ms, left, "purge: message texts")) < 0)
			goto fail;
		left -= n;
		/* inbound texts, and by their id the parts kept for duplicate detection (their SIM-side
		 * crash window is long over); parts are not counted against the budget */
		if (left > 0) {
			struct pg_params prm = { 0 };
			PGresult *r;

			store_pg_int(&prm, body_before_ms);
			store_pg_int(&prm, left);
			r = store_pg_exec(p, "WITH done AS (UPDATE inbound SET text = '', body_purged = 1 WHERE id IN"
					  " (SELECT id FROM inbound WHERE body_purged = 0 AND received_ms < $1"
					  "  ORDER BY received_ms LIMIT $2) RETURNING id),"
					  " gone AS (DELETE FROM inbound_parts WHERE inbound_id IN (SELECT id FROM done))"
					  " SELECT count(*) FROM done", &prm, "purge: inbound texts");
			if (!r)
				goto fail;
			n = (int)store_pg_i64(r, 0, 0);
			PQclear(r);
			left -= n;
		}
		/* an inbound.received event carries the text: a finished row's body goes too */
		if (left > 0 && (n = run(p, "UPDATE webhooks SET body = '' WHERE id IN (SELECT id FROM webhooks"
					    " WHERE body != '' AND created_ms < $1 AND (delivered_ms > 0 OR next_ms = 0)"
					    " ORDER BY created_ms LIMIT $2)",
					 body_before_ms, left, "purge: webhook bodies")) < 0)
			goto fail;
		left -= left > 0 ? n : 0;
	}
	if (store_pg_finish(p, "purge") == -1)
		return -1;
	return (int)max_rows - left;
fail:
	store_pg_rollback(p);
	return -1;
}
