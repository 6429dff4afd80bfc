/* store_pg_route: the postgresql backend's per-route figures (quota usage, recipients, read at start-up
 * and reload) and carrier message ids — as store_sqlite.c and store_sqlite_carrier.c. */
#include "queue/store_pg_int.h"

int store_pg_route_usage(void *be, int64_t since_ms, store_usage_cb *cb, void *arg)
{
	struct pg *p = be;
	struct pg_params prm = { 0 };
	PGresult *r;
	int n = 0;

	store_pg_int(&prm, since_ms);
	r = store_pg_exec(p, "SELECT route, COUNT(*) FROM parts WHERE mr >= 0 AND sent_ms >= $1 GROUP BY route",
			  &prm, "route usage");
	if (r == NULL)
		return -1;
	while (n < PQntuples(r)) {
		int stop = cb(arg, store_pg_str(r, n, 0), store_pg_i64(r, n, 1));
		n++;
		if (stop)
			break;
	}
	PQclear(r);
	return n;
}

int store_pg_route_recipients(void *be, int64_t since_ms, store_recipient_cb *cb, void *arg)
{
	struct pg *p = be;
	struct pg_params prm = { 0 };
	PGresult *r;
	int n = 0;

	store_pg_int(&prm, since_ms);
	r = store_pg_exec(p, "SELECT p.route, m.\"to\", MAX(p.sent_ms) FROM parts p JOIN messages m ON m.id = p.message_id"
			  " WHERE p.mr >= 0 AND p.sent_ms >= $1 GROUP BY p.route, m.\"to\"", &prm, "route recipients");
	if (r == NULL)
		return -1;
	while (n < PQntuples(r)) {
		int stop = cb(arg, store_pg_str(r, n, 0), store_pg_str(r, n, 1), store_pg_i64(r, n, 2));
		n++;
		if (stop)
			break;
	}
	PQclear(r);
	return n;
}

int store_pg_carrier_id_add(void *be, const char *carrier, const char *carrier_id, int64_t id, int64_t now_ms)
{
	struct pg *p = be;
	struct pg_params prm = { 0 };

	store_pg_text(&prm, carrier);
	store_pg_text(&prm, carrier_id);
	store_pg_int(&prm, id);
	store_pg_int(&prm, now_ms);
	if (store_pg_begin(p, "carrier_id_add") == -1)
		return -1;
	if (store_pg_do(p, "INSERT INTO carrier_ids (carrier, carrier_id, message_id, created_ms) VALUES ($1, $2, $3, $4)"
			" ON CONFLICT (carrier, carrier_id) DO UPDATE SET message_id = excluded.message_id,"
			" created_ms = excluded.created_ms", &prm, "carrier_id_add") == -1) {
		store_pg_rollback(p);
		return -1;
	}
	return store_pg_finish(p, "carrier_id_add") == -1 ? -1 : 0;
}

int store_pg_carrier_id_find(void *be, const char *carrier, const char *carrier_id, int64_t *id)
{
	struct pg *p = be;
	struct pg_params prm = { 0 };
	PGresult *r;
	int rc = 1;

	store_pg_text(&prm, carrier);
	store_pg_text(&prm, carrier_id);
	r = store_pg_exec(p, "SELECT message_id FROM carrier_ids WHERE carrier = $1 AND carrier_id = $2", &prm,
			  "carrier_id_find");
	if (r == NULL)
		return -1;
	if (PQntuples(r) == 1) {
		*id = store_pg_i64(r, 0, 0);
		rc = 0;
	}
	PQclear(r);
	return rc;
}
