/* store_pg_admin: the postgresql backend's audit log, opt-out list and API keys (as
 * store_sqlite_admin.c and store_sqlite_keys.c). Rare administrative writes: plain statements, not
 * prepared. Several nodes share these rows; each node's in-memory copies (queue/optout.c, the API's
 * keys) are refreshed from here — see docs/scale-out.md for what is still missing there. */
#include <stdint.h>
#include <string.h>

#include "queue/store_pg_int.h"

/* One write in its own transaction (a savepoint inside a batch): 0, 1 no row changed (ON CONFLICT
 * DO NOTHING kept what was there), -1 error. A change of a list the nodes keep in memory (bump:
 * "optout" or "keys") bumps its version in the same transaction: store_versions tells the others. */
static int write1(struct pg *p, const char *sql, const struct pg_params *prm, const char *bump, const char *what)
{
	PGresult *r;
	int changed;

	if (store_pg_begin(p, what) == -1)
		return -1;
	if ((r = store_pg_exec(p, sql, prm, what)) == NULL) {
		store_pg_rollback(p);
		return -1;
	}
	changed = store_pg_changes(r);
	PQclear(r);
	if (changed == 0) {
		store_pg_rollback(p);
		return 1;
	}
	if (bump) {
		struct pg_params b = { 0 };

		store_pg_text(&b, bump);
		if (store_pg_do(p, "UPDATE simroute_changes SET version = version + 1 WHERE what = $1", &b, what) == -1 ||
		    store_pg_do(p, "SELECT pg_notify('simroute_lists', '')", NULL, what) == -1) {
			store_pg_rollback(p);
			return -1;
		}
	}
	return store_pg_finish(p, what);
}

int store_pg_versions(void *be, int64_t *optout, int64_t *keys)
{
	PGresult *r = store_pg_exec(be, "SELECT (SELECT version FROM simroute_changes WHERE what = 'optout'),"
				    " (SELECT version FROM simroute_changes WHERE what = 'keys')", NULL, "versions");

	if (r == NULL)
		return -1;
	*optout = store_pg_i64(r, 0, 0);
	*keys = store_pg_i64(r, 0, 1);
	PQclear(r);
	return 0;
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

int store_pg_audit_add(void *be, const struct store_audit_new *a)
{
	struct pg_params prm = { 0 };

	store_pg_int(&prm, a->at_ms);
	store_pg_text(&prm, nz(a->actor));
	store_pg_text(&prm, nz(a->action));
	store_pg_text(&prm, nz(a->target));
	store_pg_text(&prm, nz(a->detail));
	return write1(be, "INSERT INTO audit (at_ms, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)", &prm, NULL,
		      "audit_add") == 0 ? 0 : -1;
}

int store_pg_audit_list(void *be, const struct store_audit_filter *f, store_audit_cb *cb, void *arg)
{
	struct pg_params prm = { 0 };
	PGresult *r;
	int n = 0;

	store_pg_int(&prm, f->before_id > 0 ? f->before_id : INT64_MAX);
	store_pg_int(&prm, f->since_ms);
	store_pg_int(&prm, f->limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)f->limit);
	r = store_pg_exec(be, "SELECT id, at_ms, actor, action, target, detail FROM audit"
			  " WHERE id < $1 AND at_ms >= $2 ORDER BY id DESC LIMIT $3", &prm, "audit_list");
	if (r == NULL)
		return -1;
	while (n < PQntuples(r)) {
		struct store_audit a = { .id = store_pg_i64(r, n, 0), .at_ms = store_pg_i64(r, n, 1),
					 .actor = store_pg_str(r, n, 2), .action = store_pg_str(r, n, 3),
					 .target = store_pg_str(r, n, 4), .detail = store_pg_str(r, n, 5) };
		n++;
		if (cb(arg, &a))
			break;
	}
	PQclear(r);
	return n;
}

int store_pg_optout_add(void *be, const struct store_optout *o)
{
	struct pg_params prm = { 0 };

	store_pg_text(&prm, nz(o->number));
	store_pg_text(&prm, nz(o->source));
	store_pg_int(&prm, o->created_ms);
	store_pg_text(&prm, nz(o->note));
	return write1(be, "INSERT INTO optout (number, source, created_ms, note) VALUES ($1, $2, $3, $4)"
		      " ON CONFLICT (number) DO NOTHING", &prm, "optout", "optout_add");
}

int store_pg_optout_remove(void *be, const char *number)
{
	struct pg_params prm = { 0 };

	store_pg_text(&prm, nz(number));
	return write1(be, "DELETE FROM optout WHERE number = $1", &prm, "optout", "optout_remove");
}

int store_pg_optout_check(void *be, const char *number)
{
	struct pg_params prm = { 0 };
	PGresult *r;
	int n;

	store_pg_text(&prm, nz(number));
	if ((r = store_pg_exec(be, "SELECT 1 FROM optout WHERE number = $1", &prm, "optout_check")) == NULL)
		return -1;
	n = PQntuples(r) > 0;
	PQclear(r);
	return n;
}

int store_pg_optout_list(void *be, const struct store_optout_filter *f, store_optout_cb *cb, void *arg)
{
	struct pg_params prm = { 0 };
	PGresult *r;
	int n = 0;

	store_pg_int(&prm, f->before_id > 0 ? f->before_id : INT64_MAX);
	store_pg_int(&prm, f->since_ms);
	store_pg_int(&prm, f->limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)f->limit);
	r = store_pg_exec(be, "SELECT seq, number, source, created_ms, note FROM optout"
			  " WHERE seq < $1 AND created_ms >= $2 ORDER BY seq DESC LIMIT $3", &prm, "optout_list");
	if (r == NULL)
		return -1;
	while (n < PQntuples(r)) {
		struct store_optout o = { .id = store_pg_i64(r, n, 0), .number = store_pg_str(r, n, 1),
					  .source = store_pg_str(r, n, 2), .created_ms = store_pg_i64(r, n, 3),
					  .note = store_pg_str(r, n, 4) };
		n++;
		if (cb(arg, &o))
			break;
	}
	PQclear(r);
	return n;
}

/* A taken id or name (revoked keys included) is 1: DO NOTHING covers both unique constraints. */
int store_pg_key_add(void *be, const struct store_api_key *k)
{
	struct pg_params prm = { 0 };

	store_pg_text(&prm, k->id);
	store_pg_text(&prm, k->name);
	store_pg_text(&prm, k->hash);
	store_pg_text(&prm, k->scopes);
	store_pg_int(&prm, k->created_ms);
	store_pg_text(&prm, k->created_by);
	store_pg_int(&prm, k->mask_numbers ? 1 : 0);
	return write1(be, "INSERT INTO api_keys (id, name, hash, scopes, created_ms, created_by, mask_numbers)"
		      " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING", &prm, "keys", "key_add");
}

int store_pg_key_revoke(void *be, const char *id, int64_t now_ms)
{
	struct pg_params prm = { 0 };

	store_pg_text(&prm, nz(id));
	store_pg_int(&prm, now_ms);
	return write1(be, "UPDATE api_keys SET revoked_ms = $2 WHERE id = $1 AND revoked_ms = 0", &prm, "keys",
		      "key_revoke");
}

int store_pg_key_list(void *be, store_key_cb *cb, void *arg)
{
	PGresult *r = store_pg_exec(be, "SELECT id, name, hash, scopes, created_ms, created_by, revoked_ms,"
				    " mask_numbers FROM api_keys ORDER BY created_ms, id", NULL, "key_list");
	int n = 0;

	if (r == NULL)
		return -1;
	while (n < PQntuples(r)) {
		struct store_api_key k = { 0 };

		store_copy_field(k.id, sizeof(k.id), store_pg_str(r, n, 0));
		store_copy_field(k.name, sizeof(k.name), store_pg_str(r, n, 1));
		store_copy_field(k.hash, sizeof(k.hash), store_pg_str(r, n, 2));
		store_copy_field(k.scopes, sizeof(k.scopes), store_pg_str(r, n, 3));
		k.created_ms = store_pg_i64(r, n, 4);
		store_copy_field(k.created_by, sizeof(k.created_by), store_pg_str(r, n, 5));
		k.revoked_ms = store_pg_i64(r, n, 6);
		k.mask_numbers = store_pg_i64(r, n, 7) != 0;
		n++;
		if (cb(arg, &k))
			break;
	}
	PQclear(r);
	return n;
}
