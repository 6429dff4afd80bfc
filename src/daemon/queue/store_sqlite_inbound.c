/* store_sqlite_inbound: the sqlite backend's inbound SMS (parts, reassembly, listing) and delivery
 * reports (matching a status report to a sent part). Schema: migration 5 in store_sqlite.c.
 *
 * Statements are prepared per call: inbound SMS and status reports come at the pace of a SIM, not of
 * the API, and a cached statement would have to be reset on every error path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/store_sqlite_int.h"
#include "simroute/log.h"

#define SET_WHERE "route = ?1 AND originator = ?2 AND ref = ?3 AND total = ?4 AND inbound_id IS NULL"

static sqlite3_stmt *prep(struct sq *s, const char *sql, const char *what)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_sq_warn(s, what);
		return NULL;
	}
	return st;
}

static void bind_set(sqlite3_stmt *st, const char *route, const char *from, unsigned ref, unsigned total)
{
	sqlite3_bind_text(st, 1, route, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, ref);
	sqlite3_bind_int64(st, 4, total);
}

/* Turn the waiting parts of one set into a message (inside the caller's transaction). 0 or -1. */
static int assemble(struct sq *s, const char *route, const char *from, unsigned ref, unsigned total, bool complete,
		    int64_t *inbound_id)
{
	sqlite3_stmt *st = prep(s, "SELECT seq, text, received_ms FROM inbound_parts WHERE " SET_WHERE
				" ORDER BY seq, id", "inbound: assemble");
	struct store_inbound_piece *pieces = NULL;
	char **texts = NULL;
	size_t n = 0, cap = 0;
	int64_t last_ms = 0;
	int rc, parts = 0, ret = -1;
	char *text = NULL;

	if (!st)
		return -1;
	bind_set(st, route, from, ref, total);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			void *p1 = realloc(pieces, ncap * sizeof(*pieces)), *p2;
			if (p1)
				pieces = p1;
			p2 = p1 ? realloc(texts, ncap * sizeof(*texts)) : NULL;
			if (!p2)
				goto out;
			texts = p2;
			cap = ncap;
		}
		if (!(texts[n] = strdup(store_sq_col_text(st, 1))))
			goto out;
		pieces[n].seq = (unsigned)sqlite3_column_int64(st, 0);
		pieces[n].text = texts[n];
		if (sqlite3_column_int64(st, 2) > last_ms)
			last_ms = sqlite3_column_int64(st, 2);
		n++;
	}
	if (rc != SQLITE_DONE) {
		store_sq_warn(s, "inbound: assemble");
		goto out;
	}
	if (n == 0) {
		ret = 0;
		goto out;
	}
	if (!(text = store_inbound_join(pieces, n, &parts)))
		goto out;
	sqlite3_finalize(st);
	st = prep(s, "INSERT INTO inbound (originator, text, parts, complete, route, received_ms)"
		  " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", "inbound: insert");
	if (!st)
		goto out;
	sqlite3_bind_text(st, 1, from, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, parts);
	sqlite3_bind_int(st, 4, complete);
	sqlite3_bind_text(st, 5, route, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 6, last_ms);
	if (sqlite3_step(st) != SQLITE_DONE) {
		store_sq_warn(s, "inbound: insert");
		goto out;
	}
	*inbound_id = sqlite3_last_insert_rowid(s->db);
	sqlite3_finalize(st);
	st = prep(s, "UPDATE inbound_parts SET inbound_id = ?5 WHERE " SET_WHERE, "inbound: link parts");
	if (!st)
		goto out;
	bind_set(st, route, from, ref, total);
	sqlite3_bind_int64(st, 5, *inbound_id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		store_sq_warn(s, "inbound: link parts");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
	free(pieces);
	free(text);
	return ret;
}

int store_sq_inbound_add(void *be, const struct store_inbound_part *p, int64_t *inbound_id)
{
	struct sq *s = be;
	sqlite3_stmt *st;
	int have = 0;

	if (store_sq_begin(s, "inbound_add") == -1)
		return -1;
	st = prep(s, "INSERT OR IGNORE INTO inbound_parts (route, originator, ref, total, seq, text, encoding, scts,"
		  " received_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", "inbound_add");
	if (!st)
		goto fail;
	bind_set(st, p->route, p->from, p->ref, p->total);
	sqlite3_bind_int64(st, 5, p->seq);
	sqlite3_bind_text(st, 6, p->text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, p->encoding, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, p->scts, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, p->received_ms);
	if (sqlite3_step(st) != SQLITE_DONE) {
		store_sq_warn(s, "inbound_add");
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_changes(s->db) == 0) {
		store_sq_rollback(s);
		return 1;
	}
	if (p->total > 1) {
		if (!(st = prep(s, "SELECT count(DISTINCT seq) FROM inbound_parts WHERE " SET_WHERE, "inbound_add: count")))
			goto fail;
		bind_set(st, p->route, p->from, p->ref, p->total);
		if (sqlite3_step(st) != SQLITE_ROW) {
			store_sq_warn(s, "inbound_add: count");
			goto fail;
		}
		have = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		st = NULL;
	}
	if ((p->total <= 1 || have >= (int)p->total) &&
	    assemble(s, p->route, p->from, p->ref, p->total, true, inbound_id) == -1)
		goto fail;
	if (store_sq_finish(s, "inbound_add: commit") == -1) {
		*inbound_id = 0;
		return -1;
	}
	return 0;
fail:
	sqlite3_finalize(st);
	store_sq_rollback(s);
	*inbound_id = 0;
	return -1;
}

struct set_key {
	char *route, *from;
	unsigned ref, total;
};

int store_sq_inbound_flush(void *be, int64_t before_ms, int64_t **ids)
{
	struct sq *s = be;
	sqlite3_stmt *st;
	struct set_key *keys = NULL;
	int64_t *made = NULL;
	size_t n = 0, cap = 0;
	int rc, ret = -1;

	if (!(st = prep(s, "SELECT route, originator, ref, total FROM inbound_parts WHERE inbound_id IS NULL"
			" GROUP BY route, originator, ref, total HAVING min(received_ms) < ?1", "inbound_flush")))
		return -1;
	sqlite3_bind_int64(st, 1, before_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			void *p = realloc(keys, (cap = cap ? cap * 2 : 8) * sizeof(*keys));
			if (!p)
				break;
			keys = p;
		}
		keys[n].route = strdup(store_sq_col_text(st, 0));
		keys[n].from = strdup(store_sq_col_text(st, 1));
		keys[n].ref = (unsigned)sqlite3_column_int64(st, 2);
		keys[n].total = (unsigned)sqlite3_column_int64(st, 3);
		n++;
		if (!keys[n - 1].route || !keys[n - 1].from)
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_sq_warn(s, "inbound_flush");
		goto out;
	}
	if (n == 0) {
		ret = 0;
		goto out;
	}
	if (!(made = calloc(n, sizeof(*made))) || store_sq_begin(s, "inbound_flush") == -1)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (assemble(s, keys[i].route, keys[i].from, keys[i].ref, keys[i].total, false, &made[i]) == -1) {
			store_sq_rollback(s);
			goto out;
		}
	}
	if (store_sq_finish(s, "inbound_flush: commit") == 0) {
		ret = (int)n;
		*ids = made;
		made = NULL;
	}
out:
	free(made);
	for (size_t i = 0; i < n; i++) {
		free(keys[i].route);
		free(keys[i].from);
	}
	free(keys);
	return ret;
}

int store_sq_inbound_list(void *be, const struct store_inbound_filter *f, store_inbound_cb *cb, void *arg)
{
	struct sq *s = be;
	sqlite3_stmt *st = prep(s, "SELECT id, originator, text, parts, complete, route, received_ms, body_purged"
				" FROM inbound WHERE id < ?1 AND received_ms >= ?2 ORDER BY id DESC LIMIT ?3", "inbound_list");
	int rc, n = 0;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, f->before_id > 0 ? f->before_id : INT64_MAX);
	sqlite3_bind_int64(st, 2, f->since_ms);
	sqlite3_bind_int64(st, 3, (int64_t)f->limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_inbound m = {
			.id = sqlite3_column_int64(st, 0),
			.text = (char *)store_sq_col_text(st, 2),
			.parts = sqlite3_column_int(st, 3),
			.complete = sqlite3_column_int(st, 4) != 0,
			.received_ms = sqlite3_column_int64(st, 6),
			.purged = sqlite3_column_int(st, 7) != 0,
		};
		store_copy_field(m.from, sizeof(m.from), store_sq_col_text(st, 1));
		store_copy_field(m.route, sizeof(m.route), store_sq_col_text(st, 5));
		n++;
		if (cb(arg, &m)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		store_sq_warn(s, "inbound_list");
		n = -1;
	}
	sqlite3_finalize(st);
	return n;
}

int store_sq_parts(void *be, int64_t id, store_part_cb *cb, void *arg)
{
	struct sq *s = be;
	sqlite3_stmt *st = prep(s, "SELECT seq, mr, route, sent_ms, status, status_ms FROM parts"
				" WHERE message_id = ?1 ORDER BY seq", "parts");
	int rc, n = 0;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_part p = {
			.seq = sqlite3_column_int(st, 0),
			.mr = sqlite3_column_int(st, 1),
			.sent_ms = sqlite3_column_int64(st, 3),
			.status = sqlite3_column_int(st, 4),
			.status_ms = sqlite3_column_int64(st, 5),
		};
		store_copy_field(p.route, sizeof(p.route), store_sq_col_text(st, 2));
		n++;
		if (cb(arg, &p)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		store_sq_warn(s, "parts");
		n = -1;
	}
	sqlite3_finalize(st);
	return n;
}

int store_sq_part_status(void *be, const char *route, int mr, int64_t since_ms, int status, int64_t now_ms,
			 int64_t *id, int *seq)
{
	struct sq *s = be;
	sqlite3_stmt *st;
	int rc;

	if (store_sq_begin(s, "part_status") == -1)
		return -1;
	/* parts_route_mr (route, mr, sent_ms) serves this: the newest use of the reference wins */
	if (!(st = prep(s, "SELECT message_id, seq FROM parts WHERE route = ?1 AND mr = ?2 AND sent_ms >= ?3"
			" ORDER BY sent_ms DESC LIMIT 1", "part_status")))
		goto fail;
	sqlite3_bind_text(st, 1, route, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, mr);
	sqlite3_bind_int64(st, 3, since_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		store_sq_rollback(s);
		return 1;
	}
	if (rc != SQLITE_ROW) {
		store_sq_warn(s, "part_status");
		goto fail;
	}
	*id = sqlite3_column_int64(st, 0);
	*seq = sqlite3_column_int(st, 1);
	sqlite3_finalize(st);
	if (!(st = prep(s, "UPDATE parts SET status = ?3, status_ms = ?4 WHERE message_id = ?1 AND seq = ?2",
			"part_status: update")))
		goto fail;
	sqlite3_bind_int64(st, 1, *id);
	sqlite3_bind_int(st, 2, *seq);
	sqlite3_bind_int(st, 3, status);
	sqlite3_bind_int64(st, 4, now_ms);
	if (sqlite3_step(st) != SQLITE_DONE) {
		store_sq_warn(s, "part_status: update");
		goto fail;
	}
	sqlite3_finalize(st);
	return store_sq_finish(s, "part_status: commit");
fail:
	sqlite3_finalize(st);
	store_sq_rollback(s);
	return -1;
}
