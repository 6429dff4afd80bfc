/* store_pg_stats: the postgresql backend's statistics — send outcomes read incrementally from events,
 * and the oldest queued message per lane (as store_sqlite_stats.c).
 *
 * With several nodes, event ids are handed out at insert but become visible at commit, so a reader
 * may pass an id whose transaction commits a moment later and never count it: statistics, not
 * accounting (store.h says as much of a clock stepped back). */
#include "queue/store_pg_int.h"

int store_pg_outcomes(void *be, int64_t after_id, int64_t since_ms, store_outcome_cb *cb, void *arg,
		      int64_t *last_id)
{
	struct pg_params a = { 0 }, b = { 0 };
	PGresult *r;
	int64_t top, bound;
	int n = 0;

	/* top: the newest event; bound: the newest one older than since_ms (a backward walk of the
	 * primary key that stops at the first such row, so it costs what was written since) */
	store_pg_int(&a, after_id);
	store_pg_int(&a, since_ms);
	r = store_pg_exec(be, "SELECT (SELECT max(id) FROM events WHERE id > $1),"
			  " (SELECT id FROM events WHERE id > $1 AND at_ms < $2 ORDER BY id DESC LIMIT 1)", &a,
			  "outcomes");
	if (r == NULL)
		return -1;
	top = PQgetisnull(r, 0, 0) ? after_id : store_pg_i64(r, 0, 0);
	bound = PQgetisnull(r, 0, 1) ? after_id : store_pg_i64(r, 0, 1);
	PQclear(r);
	if (top > bound) {
		store_pg_int(&b, bound);
		store_pg_int(&b, top);
		store_pg_int(&b, since_ms);
		r = store_pg_exec(be, "SELECT e.at_ms, e.to_state, COALESCE(NULLIF(e.route, ''), m.route), m.lane, m.created_ms"
				  " FROM events e JOIN messages m ON m.id = e.message_id"
				  " WHERE e.id > $1 AND e.id <= $2 AND e.at_ms >= $3 AND e.to_state IN ('sent', 'failed')"
				  " ORDER BY e.id", &b, "outcomes");
		if (r == NULL)
			return -1;
		for (; n < PQntuples(r); n++) {
			int64_t lane = store_pg_i64(r, n, 3);
			struct store_outcome o = {
				.at_ms = store_pg_i64(r, n, 0),
				.sent = store_pg_str(r, n, 1)[0] == 's',
				.route = store_pg_str(r, n, 2),
				.lane = lane >= 0 && lane < LANE_COUNT ? (enum msg_lane)lane : LANE_NORMAL,
				.created_ms = store_pg_i64(r, n, 4),
			};
			cb(arg, &o);
		}
		PQclear(r);
	}
	*last_id = top;
	return n;
}

int store_pg_oldest_queued(void *be, int64_t out_ms[LANE_COUNT])
{
	/* ids are handed out in accept order (enqueue holds a lock): the lowest queued id is the oldest */
	struct pg_params prm = { 0 };
	PGresult *r;

	store_pg_int(&prm, LANE_COUNT - 1);
	r = store_pg_exec(be, "SELECT l, (SELECT created_ms FROM messages WHERE state = 'queued' AND lane = l"
			  " ORDER BY id LIMIT 1) FROM generate_series(0, $1::int) AS l", &prm, "oldest queued");
	if (r == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		int64_t l = store_pg_i64(r, i, 0);
		if (l >= 0 && l < LANE_COUNT && !PQgetisnull(r, i, 1))
			out_ms[l] = store_pg_i64(r, i, 1);
	}
	PQclear(r);
	return 0;
}
