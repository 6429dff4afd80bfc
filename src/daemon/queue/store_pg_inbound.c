/* store_pg_inbound: the postgresql backend's inbound SMS (parts, reassembly, listing) and delivery
 * reports (as store_sqlite_inbound.c). A set's parts arrive on one SIM, so on one node: no two nodes
 * assemble the same set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/store_pg_int.h"

#define SET_WHERE "route = $1 AND originator = $2 AND ref = $3 AND total = $4 AND inbound_id IS NULL"

static void set_params(struct pg_params *prm, const char *route, const char *from, unsigned ref, unsigned total)
{
	store_pg_text(prm, route);
	store_pg_text(prm, from);
	store_pg_int(prm, ref);
	store_pg_int(prm, total);
}

/* Turn the waiting parts of one set into a message (inside the caller's transaction). 0 or -1. */
static int assemble(struct pg *p, const char *route, const char *from, unsigned ref, unsigned total, bool complete,
		    int64_t *inbound_id)
{
	struct pg_params prm = { 0 }, ins = { 0 }, link = { 0 };
	struct store_inbound_piece *pieces = NULL;
	int64_t last_ms = 0;
	int n, parts = 0, ret = -1;
	char *text = NULL;
	PGresult *r;

	set_params(&prm, route, from, ref, total);
	if (!(r = store_pg_exec(p, "SELECT seq, text, received_ms FROM inbound_parts WHERE " SET_WHERE " ORDER BY seq, id",
				&prm, "inbound: assemble")))
		return -1;
	if ((n = PQntuples(r)) == 0) {
		PQclear(r);
		return 0;
	}
	if (!(pieces = calloc((size_t)n, sizeof(*pieces))))
		goto out;
	for (int i = 0; i < n; i++) {
		pieces[i].seq = (unsigned)store_pg_i64(r, i, 0);
		pieces[i].text = store_pg_str(r, i, 1);   /* valid until PQclear(r) */
		if (store_pg_i64(r, i, 2) > last_ms)
			last_ms = store_pg_i64(r, i, 2);
	}
	if (!(text = store_inbound_join(pieces, (size_t)n, &parts)))
		goto out;
	PQclear(r);
	store_pg_text(&ins, from);
	store_pg_text(&ins, text);
	store_pg_int(&ins, parts);
	store_pg_int(&ins, complete);
	store_pg_text(&ins, route);
	store_pg_int(&ins, last_ms);
	if (!(r = store_pg_exec(p, "INSERT INTO inbound (originator, text, parts, complete, route, received_ms)"
				" VALUES ($1, $2, $3, $4, $5, $6) RETURNING id", &ins, "inbound: insert")))
		goto out;
	*inbound_id = store_pg_i64(r, 0, 0);
	PQclear(r);
	set_params(&link, route, from, ref, total);
	store_pg_int(&link, *inbound_id);
	r = store_pg_exec(p, "UPDATE inbound_parts SET inbound_id = $5 WHERE " SET_WHERE, &link, "inbound: link parts");
	ret = r ? 0 : -1;
out:
	PQclear(r);
	free(pieces);
	free(text);
	return ret;
}

int store_pg_inbound_add(void *be, const struct store_inbound_part *ip, int64_t *inbound_id)
{
	struct pg *p = be;
	struct pg_params prm = { 0 }, cnt = { 0 };
	PGresult *r;
	int64_t have = 0;
	int changed;

	if (store_pg_begin(p, "inbound_add") == -1)
		return -1;
	set_params(&prm, ip->route, ip->from, ip->ref, ip->total);
	store_pg_int(&prm, ip->seq);
	store_pg_text(&prm, ip->text);
	store_pg_text(&prm, ip->encoding);
	store_pg_text(&prm, ip->scts);
	store_pg_int(&prm, ip->received_ms);
	/* the unique index inbound_parts_once recognises a part read again: DO NOTHING, 1 */
	if (!(r = store_pg_exec(p, "INSERT INTO inbound_parts (route, originator, ref, total, seq, text, encoding, scts,"
				" received_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING", &prm,
				"inbound_add")))
		goto fail;
	changed = store_pg_changes(r);
	PQclear(r);
	if (changed == 0) {
		store_pg_rollback(p);
		return 1;
	}
	if (ip->total > 1) {
		set_params(&cnt, ip->route, ip->from, ip->ref, ip->total);
		if (!(r = store_pg_exec(p, "SELECT count(DISTINCT seq) FROM inbound_parts WHERE " SET_WHERE, &cnt,
					"inbound_add: count")))
			goto fail;
		have = store_pg_i64(r, 0, 0);
		PQclear(r);
	}
	if ((ip->total <= 1 || have >= (int64_t)ip->total) &&
	    assemble(p, ip->route, ip->from, ip->ref, ip->total, true, inbound_id) == -1)
		goto fail;
	if (store_pg_finish(p, "inbound_add: commit") == -1) {
		*inbound_id = 0;
		return -1;
	}
	return 0;
fail:
	store_pg_rollback(p);
	*inbound_id = 0;
	return -1;
}

int store_pg_inbound_flush(void *be, int64_t before_ms, int64_t **ids)
{
	struct pg *p = be;
	struct pg_params prm = { 0 };
	int64_t *made = NULL;
	PGresult *r;
	int n, ret = -1;

	store_pg_int(&prm, before_ms);
	if (!(r = store_pg_exec(p, "SELECT route, originator, ref, total FROM inbound_parts WHERE inbound_id IS NULL"
				" GROUP BY route, originator, ref, total HAVING min(received_ms) < $1", &prm,
				"inbound_flush")))
		return -1;
	if ((n = PQntuples(r)) == 0) {
		PQclear(r);
		return 0;
	}
	if (!(made = calloc((size_t)n, sizeof(*made))) || store_pg_begin(p, "inbound_flush") == -1)
		goto out;
	for (int i = 0; i < n; i++) {
		if (assemble(p, store_pg_str(r, i, 0), store_pg_str(r, i, 1), (unsigned)store_pg_i64(r, i, 2),
			     (unsigned)store_pg_i64(r, i, 3), false, &made[i]) == -1) {
			store_pg_rollback(p);
			goto out;
		}
	}
	if (store_pg_finish(p, "inbound_flush: commit") == 0) {
		ret = n;
		*ids = made;
		made = NULL;
	}
out:
	PQclear(r);
	free(made);
	return ret;
}

int store_pg_inbound_list(void *be, const struct store_inbound_filter *f, store_inbound_cb *cb, void *arg)
{
	struct pg_params prm = { 0 };
	PGresult *r;
	int n = 0;

	store_pg_int(&prm, f->before_id > 0 ? f->before_id : INT64_MAX);
	store_pg_int(&prm, f->since_ms);
	store_pg_int(&prm, (int64_t)f->limit);
	if (!(r = store_pg_exec(be, "SELECT id, originator, text, parts, complete, route, received_ms, body_purged"
				" FROM inbound WHERE id < $1 AND received_ms >= $2 ORDER BY id DESC LIMIT $3", &prm,
				"inbound_list")))
		return -1;
	while (n < PQntuples(r)) {
		struct store_inbound m = {
			.id = store_pg_i64(r, n, 0),
			.text = (char *)store_pg_str(r, n, 2),
			.parts = (int)store_pg_i64(r, n, 3),
			.complete = store_pg_i64(r, n, 4) != 0,
			.received_ms = store_pg_i64(r, n, 6),
			.purged = store_pg_i64(r, n, 7) != 0,
		};
		store_copy_field(m.from, sizeof(m.from), store_pg_str(r, n, 1));
		store_copy_field(m.route, sizeof(m.route), store_pg_str(r, n, 5));
		n++;
		if (cb(arg, &m))
			break;
	}
	PQclear(r);
	return n;
}

int store_pg_parts(void *be, int64_t id, store_part_cb *cb, void *arg)
{
	struct pg_params prm = { 0 };
	PGresult *r;
	int n = 0;

	store_pg_int(&prm, id);
	if (!(r = store_pg_exec(be, "SELECT seq, mr, route, sent_ms, status, status_ms FROM parts"
				" WHERE message_id = $1 ORDER BY seq", &prm, "parts")))
		return -1;
	while (n < PQntuples(r)) {
		struct store_part pt = {
			.seq = (int)store_pg_i64(r, n, 0),
			.mr = (int)store_pg_i64(r, n, 1),
			.sent_ms = store_pg_i64(r, n, 3),
			.status = (int)store_pg_i64(r, n, 4),
			.status_ms = store_pg_i64(r, n, 5),
		};
		store_copy_field(pt.route, sizeof(pt.route), store_pg_str(r, n, 2));
		n++;
		if (cb(arg, &pt))
			break;
	}
	PQclear(r);
	return n;
}

int store_pg_part_status(void *be, const char *route, int mr, int64_t since_ms, int status, int64_t now_ms,
			 int64_t *id, int *seq)
{
	struct pg *p = be;
	struct pg_params prm = { 0 }, up = { 0 };
	PGresult *r;

	if (store_pg_begin(p, "part_status") == -1)
		return -1;
	store_pg_text(&prm, route);
	store_pg_int(&prm, mr);
	store_pg_int(&prm, since_ms);
	/* parts_route_mr (route, mr, sent_ms) serves this: the newest use of the reference wins */
	if (!(r = store_pg_exec(p, "SELECT message_id, seq FROM parts WHERE route = $1 AND mr = $2 AND sent_ms >= $3"
				" ORDER BY sent_ms DESC LIMIT 1 FOR UPDATE", &prm, "part_status")))
		goto fail;
	if (PQntuples(r) == 0) {
		PQclear(r);
		store_pg_rollback(p);
		return 1;
	}
	*id = store_pg_i64(r, 0, 0);
	*seq = (int)store_pg_i64(r, 0, 1);
	PQclear(r);
	store_pg_int(&up, *id);
	store_pg_int(&up, *seq);
	store_pg_int(&up, status);
	store_pg_int(&up, now_ms);
	if (store_pg_do(p, "UPDATE parts SET status = $3, status_ms = $4 WHERE message_id = $1 AND seq = $2", &up,
			"part_status: update") == -1)
		goto fail;
	return store_pg_finish(p, "part_status: commit");
fail:
	store_pg_rollback(p);
	return -1;
}
