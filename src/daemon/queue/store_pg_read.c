/* store_pg_read: the postgresql backend's queries for the API — counts, timelines, listing and
 * idempotency records (as store_sqlite_read.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/store_pg_int.h"
#include "simroute/log.h"

int store_pg_counts(void *be, struct store_counts *out)
{
	struct pg *p = be;
	PGresult *r = store_pg_exec(p, "SELECT state, lane, count(*) FROM messages GROUP BY state, lane", NULL,
				    "counts");

	if (r == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		enum msg_state state;
		int64_t lane = store_pg_i64(r, i, 1), n = store_pg_i64(r, i, 2);

		if (message_state_parse(store_pg_str(r, i, 0), &state) == -1) {
			log_warnx("store: counts: unknown state \"%s\" in database", store_pg_str(r, i, 0));
			continue;
		}
		out->by_state[state] += n;
		if (state == MSG_QUEUED && lane >= 0 && lane < LANE_COUNT)
			out->queued_by_lane[lane] += n;
	}
	PQclear(r);
	return 0;
}

/* The whole result is fetched before the callbacks run, so a callback may call the store again. */
int store_pg_timeline(void *be, int64_t id, store_event_cb *cb, void *arg)
{
	struct pg *p = be;
	struct pg_params prm = { 0 };
	PGresult *r;
	int n = 0;

	store_pg_int(&prm, id);
	r = store_pg_exec(p, "SELECT from_state, to_state, route, error, at_ms FROM events"
			  " WHERE message_id = $1 ORDER BY id", &prm, "timeline");
	if (r == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		struct store_event ev = { .at_ms = store_pg_i64(r, i, 4) };

		if (message_state_parse(store_pg_str(r, i, 0), &ev.from) == -1 ||
		    message_state_parse(store_pg_str(r, i, 1), &ev.to) == -1) {
			log_warnx("store: timeline: message %lld: unknown state in database", (long long)id);
			continue;
		}
		ev.route = PQgetisnull(r, i, 2) ? NULL : PQgetvalue(r, i, 2);
		ev.error = PQgetisnull(r, i, 3) ? NULL : PQgetvalue(r, i, 3);
		n++;
		if (cb(arg, &ev) != 0)
			break;
	}
	PQclear(r);
	return n;
}

static int unhex(const char *s, unsigned char *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

int store_pg_idem_get(void *be, const char *owner, const char *key, int64_t not_before_ms,
		      struct store_idem *out)
{
	struct pg *p = be;
	struct pg_params prm = { 0 };
	PGresult *r;
	int rc = 1;

	store_pg_text(&prm, owner);
	store_pg_text(&prm, key);
	store_pg_int(&prm, not_before_ms);
	if ((r = store_pg_run(p, PG_IDEM_GET, &prm, "idempotency key")) == NULL)
		return -1;
	if (PQntuples(r) == 1) {
		if (unhex(store_pg_str(r, 0, 0), out->request_hash, sizeof(out->request_hash)) == -1)
			memset(out->request_hash, 0, sizeof(out->request_hash));
		out->owner = owner;
		out->key = key;
		out->status = (int)store_pg_i64(r, 0, 1);
		out->first_id = store_pg_i64(r, 0, 2);
		out->count = (int)store_pg_i64(r, 0, 3);
		out->created_ms = store_pg_i64(r, 0, 4);
		rc = 0;
	}
	PQclear(r);
	return rc;
}

int store_pg_idem_purge(void *be, int64_t before_ms)
{
	struct pg *p = be;
	struct pg_params prm = { 0 };
	PGresult *r;
	int n;

	store_pg_int(&prm, before_ms);
	if ((r = store_pg_exec(p, "DELETE FROM idempotency WHERE created_ms < $1", &prm, "idempotency purge")) == NULL)
		return -1;
	n = store_pg_changes(r);
	PQclear(r);
	return n;
}

/* One shape of SQL for every filter: an unused condition gets a value that matches everything
 * ($2 NULL state, $3 0, $4 NULL to, $6 NULL suffix, $7 0); keyset paging on id, never OFFSET. */
int store_pg_list(void *be, const struct store_filter *f, store_msg_cb *cb, void *arg)
{
	struct pg *p = be;
	struct pg_params prm = { 0 };
	PGresult *r;
	int n = 0;

	store_pg_int(&prm, f->before_id > 0 ? f->before_id : INT64_MAX);
	store_pg_text(&prm, f->state >= 0 ? message_state_name((enum msg_state)f->state) : NULL);
	store_pg_int(&prm, f->since_ms > 0 ? f->since_ms : 0);
	store_pg_text(&prm, f->to);
	store_pg_int(&prm, (int64_t)f->limit);
	store_pg_text(&prm, f->to_suffix);
	store_pg_int(&prm, f->min_id > 0 ? f->min_id : 0);
	r = store_pg_exec(p, "SELECT " PG_MSG_COLUMNS " FROM messages WHERE id < $1 AND id >= $7"
			  " AND ($2::text IS NULL OR state = $2::text) AND created_ms >= $3"
			  " AND ($4::text IS NULL OR \"to\" = $4::text)"
			  " AND ($6::text IS NULL OR right(\"to\", length($6::text)) = $6::text)"
			  " ORDER BY id DESC LIMIT $5", &prm, "list");
	if (r == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		struct store_msg m;
		int stop;

		memset(&m, 0, sizeof(m));
		if (store_pg_row_to_msg(r, i, &m) == -1)
			continue;
		n++;
		stop = cb(arg, &m);
		store_msg_clear(&m);
		if (stop)
			break;
	}
	PQclear(r);
	return n;
}
