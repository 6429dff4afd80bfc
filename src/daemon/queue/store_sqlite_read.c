/* store_sqlite_read: the sqlite backend's queries for the API — counts, timelines, listing and
 * idempotency records (the write side and the schema are in store_sqlite.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/store_sqlite_int.h"
#include "simroute/log.h"

int store_sq_counts(void *be, struct store_counts *out)
{
	struct sq *s = be;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT state, lane, count(*) FROM messages GROUP BY state, lane",
			       -1, &st, NULL) != SQLITE_OK) {
		store_sq_warn(s, "counts");
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		enum msg_state state;
		int lane = sqlite3_column_int(st, 1);
		int64_t n = sqlite3_column_int64(st, 2);

		if (message_state_parse(store_sq_col_text(st, 0), &state) == -1) {
			log_warnx("store: counts: unknown state \"%s\" in database", store_sq_col_text(st, 0));
			continue;
		}
		out->by_state[state] += n;
		if (state == MSG_QUEUED && lane >= 0 && lane < LANE_COUNT)
			out->queued_by_lane[lane] += n;
	}
	if (rc != SQLITE_DONE)
		store_sq_warn(s, "counts");
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Prepared per call, not cached: not a hot path, and a callback may call store_timeline again. */
int store_sq_timeline(void *be, int64_t id, store_event_cb *cb, void *arg)
{
	struct sq *s = be;
	sqlite3_stmt *st;
	int rc, n = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT from_state, to_state, route, error, at_ms FROM events"
			       " WHERE message_id = ?1 ORDER BY id", -1, &st, NULL) != SQLITE_OK) {
		store_sq_warn(s, "timeline");
		return -1;
	}
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_event ev = { .at_ms = sqlite3_column_int64(st, 4) };

		if (message_state_parse(store_sq_col_text(st, 0), &ev.from) == -1 ||
		    message_state_parse(store_sq_col_text(st, 1), &ev.to) == -1) {
			log_warnx("store: timeline: message %lld: unknown state in database", (long long)id);
			continue;
		}
		ev.route = (const char *)sqlite3_column_text(st, 2);
		ev.error = (const char *)sqlite3_column_text(st, 3);
		n++;
		if (cb(arg, &ev) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		store_sq_warn(s, "timeline");
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? n : -1;
}

int store_sq_idem_get(void *be, const char *owner, const char *key, int64_t not_before_ms,
		       struct store_idem *out)
{
	struct sq *s = be;
	sqlite3_stmt *st = s->stmt[SQ_IDEM_GET];
	int rc;

	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, not_before_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const void *h = sqlite3_column_blob(st, 0);

		if (h && sqlite3_column_bytes(st, 0) == (int)sizeof(out->request_hash))
			memcpy(out->request_hash, h, sizeof(out->request_hash));
		out->owner = owner;
		out->key = key;
		out->status = sqlite3_column_int(st, 1);
		out->first_id = sqlite3_column_int64(st, 2);
		out->count = sqlite3_column_int(st, 3);
		out->created_ms = sqlite3_column_int64(st, 4);
	} else if (rc != SQLITE_DONE) {
		store_sq_warn(s, "idempotency key");
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

/* Autocommit: one statement, and a purge that fails is simply retried by the next housekeeping run. */
int store_sq_idem_purge(void *be, int64_t before_ms)
{
	struct sq *s = be;
	sqlite3_stmt *st;
	int n = -1;

	if (sqlite3_prepare_v2(s->db, "DELETE FROM idempotency WHERE created_ms < ?1", -1, &st, NULL) != SQLITE_OK) {
		store_sq_warn(s, "idempotency purge");
		return -1;
	}
	sqlite3_bind_int64(st, 1, before_ms);
	if (sqlite3_step(st) == SQLITE_DONE)
		n = sqlite3_changes(s->db);
	else
		store_sq_warn(s, "idempotency purge");
	sqlite3_finalize(st);
	return n;
}

/* Built per call from the filter (unused conditions bind values that match everything, so one
 * shape of SQL serves every query); keyset paging on id, never OFFSET. */
int store_sq_list(void *be, const struct store_filter *f, store_msg_cb *cb, void *arg)
{
	struct sq *s = be;
	sqlite3_stmt *st;
	char sql[512];
	int rc, n = 0;

	snprintf(sql, sizeof(sql), "SELECT " MSG_COLUMNS " FROM messages WHERE id < ?1%s%s%s%s%s ORDER BY id DESC LIMIT ?5",
		 f->state >= 0 ? " AND state = ?2" : "", f->since_ms > 0 ? " AND created_ms >= ?3" : "",
		 f->to ? " AND \"to\" = ?4" : "", f->to_suffix ? " AND substr(\"to\", -length(?6)) = ?6" : "",
		 f->min_id > 0 ? " AND id >= ?7" : "");
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_sq_warn(s, "list");
		return -1;
	}
	sqlite3_bind_int64(st, 1, f->before_id > 0 ? f->before_id : INT64_MAX);
	if (f->state >= 0)
		sqlite3_bind_text(st, 2, message_state_name((enum msg_state)f->state), -1, SQLITE_STATIC);
	if (f->since_ms > 0)
		sqlite3_bind_int64(st, 3, f->since_ms);
	if (f->to)
		sqlite3_bind_text(st, 4, f->to, -1, SQLITE_STATIC);
	if (f->to_suffix)
		sqlite3_bind_text(st, 6, f->to_suffix, -1, SQLITE_STATIC);
	if (f->min_id > 0)
		sqlite3_bind_int64(st, 7, f->min_id);
	sqlite3_bind_int64(st, 5, (int64_t)f->limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_msg m;
		int stop;

		memset(&m, 0, sizeof(m));
		if (store_sq_row_to_msg(st, &m) == -1)
			continue;
		n++;
		stop = cb(arg, &m);
		store_msg_clear(&m);
		if (stop) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		store_sq_warn(s, "list");
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? n : -1;
}
