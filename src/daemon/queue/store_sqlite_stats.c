/* store_sqlite_stats: the sqlite backend's statistics queries — send outcomes read incrementally from
 * the events table, and the age of the oldest queued message per lane. */
#include "queue/store_sqlite_int.h"
#include "simroute/log.h"

/*
 * events has no index on at_ms, and needs none: its ids are written in time order (one writer, the
 * loop's clock), so the events after a time are a tail of the rowid b-tree. The first query walks
 * that tail backwards to find where it starts; the second reads the outcomes in it, each joined to
 * its message by primary key. Both cost what was written since, never the table's size.
 */
int store_sq_outcomes(void *be, int64_t after_id, int64_t since_ms, store_outcome_cb *cb, void *arg,
		      int64_t *last_id)
{
	struct sq *s = be;
	sqlite3_stmt *st = NULL;
	int64_t top, bound;
	int rc, n = 0;

	/* events.id is a plain rowid: once retention deleted the newest rows, new ones reuse their ids.
	 * A newest id below the caller's means that happened: start again from since_ms. */
	if (after_id > 0) {
		if (sqlite3_prepare_v2(s->db, "SELECT max(id) FROM events", -1, &st, NULL) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_ROW)
			goto fail;
		if (sqlite3_column_int64(st, 0) < after_id)
			after_id = 0;
		sqlite3_finalize(st);
		st = NULL;
	}
	top = bound = after_id;
	if (sqlite3_prepare_v2(s->db, "SELECT id, at_ms FROM events WHERE id > ?1 ORDER BY id DESC", -1, &st,
			       NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, after_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		if (top == after_id)
			top = id;
		if (sqlite3_column_int64(st, 1) < since_ms) {
			bound = id;
			break;
		}
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (top > bound) {
		if (sqlite3_prepare_v2(s->db,
				       "SELECT e.at_ms, e.to_state, COALESCE(NULLIF(e.route, ''), m.route), m.lane, m.created_ms"
				       " FROM events e JOIN messages m ON m.id = e.message_id"
				       " WHERE e.id > ?1 AND e.id <= ?2 AND e.at_ms >= ?3 AND e.to_state IN ('sent', 'failed')",
				       -1, &st, NULL) != SQLITE_OK)
			goto fail;
		sqlite3_bind_int64(st, 1, bound);
		sqlite3_bind_int64(st, 2, top);
		sqlite3_bind_int64(st, 3, since_ms);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			int lane = sqlite3_column_int(st, 3);
			struct store_outcome o = {
				.at_ms = sqlite3_column_int64(st, 0),
				.sent = sqlite3_column_text(st, 1)[0] == 's',
				.route = store_sq_col_text(st, 2),
				.lane = lane >= 0 && lane < LANE_COUNT ? (enum msg_lane)lane : LANE_NORMAL,
				.created_ms = sqlite3_column_int64(st, 4),
			};
			cb(arg, &o);
			n++;
		}
		if (rc != SQLITE_DONE)
			goto fail;
		sqlite3_finalize(st);
	}
	*last_id = top;
	return n;
fail:
	store_sq_warn(s, "outcomes");
	sqlite3_finalize(st);
	return -1;
}

int store_sq_oldest_queued(void *be, int64_t out_ms[LANE_COUNT])
{
	struct sq *s = be;
	sqlite3_stmt *st;
	int rc = SQLITE_DONE;

	/* ids are handed out in accept order, so the lowest queued id of a lane is its oldest */
	if (sqlite3_prepare_v2(s->db,
			       "SELECT created_ms FROM messages WHERE state = 'queued' AND lane = ?1 ORDER BY id LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK) {
		store_sq_warn(s, "oldest queued");
		return -1;
	}
	for (int l = 0; l < LANE_COUNT; l++) {
		sqlite3_reset(st);
		sqlite3_bind_int(st, 1, l);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			out_ms[l] = sqlite3_column_int64(st, 0);
		else if (rc != SQLITE_DONE)
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sq_warn(s, "oldest queued");
		return -1;
	}
	return 0;
}
