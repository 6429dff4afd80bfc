/* store_sqlite_purge: the sqlite backend's retention (bounded purges), incremental vacuum and online
 * backup (tracker issue 10). Schema: migration 9 in store_sqlite_schema.c.
 *
 * Statements are prepared per call: they run once per housekeeping turn, not per message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/store_sqlite_int.h"
#include "simroute/log.h"

/* An old database without auto_vacuum is switched by one VACUUM at open only up to this size: a
 * VACUUM rewrites the whole file, which would hold start-up too long beyond it. */
#define AUTO_VACUUM_SWITCH_MAX (64LL << 20)

static sqlite3_stmt *prep(struct sq *s, const char *sql, const char *what)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_sq_warn(s, what);
		return NULL;
	}
	return st;
}

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

/* Run one statement with ?1 = cutoff and ?2 = limit; the rows it changed, or -1. */
static int run(struct sq *s, const char *sql, int64_t cutoff, int limit, const char *what)
{
	sqlite3_stmt *st = prep(s, sql, what);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, cutoff);
	sqlite3_bind_int(st, 2, limit);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_sq_warn(s, what);
		return -1;
	}
	return sqlite3_changes(s->db);
}

/* Inbound texts: the message row and, by its id, the parts kept for duplicate detection (their
 * SIM-side crash window is long over). Up to limit messages; parts are not counted against it. */
static int purge_inbound_bodies(struct sq *s, int64_t cutoff, int limit)
{
	sqlite3_stmt *sel = prep(s, "SELECT id FROM inbound WHERE body_purged = 0 AND received_ms < ?1"
				    " ORDER BY received_ms LIMIT ?2", "purge: inbound");
	sqlite3_stmt *upd = prep(s, "UPDATE inbound SET text = '', body_purged = 1 WHERE id = ?1", "purge: inbound");
	sqlite3_stmt *del = prep(s, "DELETE FROM inbound_parts WHERE inbound_id = ?1", "purge: inbound parts");
	int64_t *ids = calloc((size_t)limit, sizeof(*ids));
	int n = 0, rc = -1;

	if (!sel || !upd || !del || !ids)
		goto out;
	sqlite3_bind_int64(sel, 1, cutoff);
	sqlite3_bind_int(sel, 2, limit);
	while (n < limit && (rc = sqlite3_step(sel)) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(sel, 0);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		store_sq_warn(s, "purge: inbound");
		rc = -1;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		sqlite3_bind_int64(upd, 1, ids[i]);
		sqlite3_bind_int64(del, 1, ids[i]);
		if (sqlite3_step(upd) != SQLITE_DONE || sqlite3_step(del) != SQLITE_DONE) {
			store_sq_warn(s, "purge: inbound");
			rc = -1;
			goto out;
		}
		sqlite3_reset(upd);
		sqlite3_reset(del);
	}
	rc = n;
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	sqlite3_finalize(del);
	free(ids);
	return rc;
}

/* Whole rows first (no point erasing a text about to go), then texts, within one budget.
 * INDEXED BY: without statistics the planner prefers the equality on state (messages_state) and then
 * sorts every finished message by age on each run; the age index walks only the old ones. */
int store_sq_purge(void *be, int64_t body_before_ms, int64_t rows_before_ms, size_t max_rows)
{
	struct sq *s = be;
	char states[160], sql[512];
	int left = (int)max_rows, n;

	done_states(states, sizeof(states));
	if (store_sq_begin(s, "purge") == -1)
		return -1;
	if (rows_before_ms > 0) {
		/* parts and events go with their message (ON DELETE CASCADE) */
		snprintf(sql, sizeof(sql), "DELETE FROM messages WHERE id IN (SELECT id FROM messages"
			 " INDEXED BY messages_updated WHERE updated_ms < ?1 AND state IN (%s)"
			 " ORDER BY updated_ms LIMIT ?2)", states);
		if ((n = run(s, sql, rows_before_ms, left, "purge: messages")) < 0)
			goto fail;
		left -= n;
		if (left > 0 && (n = run(s, "DELETE FROM inbound WHERE id IN (SELECT id FROM inbound"
					    " WHERE received_ms < ?1 ORDER BY received_ms LIMIT ?2)",
					 rows_before_ms, left, "purge: inbound")) < 0)
			goto fail;
		left -= left > 0 ? n : 0;
		if (left > 0 && (n = run(s, "DELETE FROM webhooks WHERE id IN (SELECT id FROM webhooks"
					    " WHERE created_ms < ?1 AND (delivered_ms > 0 OR next_ms = 0)"
					    " ORDER BY created_ms LIMIT ?2)",
					 rows_before_ms, left, "purge: webhooks")) < 0)
			goto fail;
		left -= left > 0 ? n : 0;
	}
	if (body_before_ms > 0 && left > 0) {
		snprintf(sql, sizeof(sql), "UPDATE messages SET text = '', body_purged = 1 WHERE id IN (SELECT id"
			 " FROM messages INDEXED BY messages_body_kept WHERE body_purged = 0 AND updated_ms < ?1 AND state IN (%s)"
			 " ORDER BY updated_ms LIMIT ?2)", states);
		if ((n = run(s, sql, body_before_ms, left, "purge: message texts")) < 0)
			goto fail;
		left -= n;
		if (left > 0 && (n = purge_inbound_bodies(s, body_before_ms, left)) < 0)
			goto fail;
		left -= left > 0 ? n : 0;
		/* an inbound.received event carries the text: a finished row's body goes too (it can no
		 * longer be replayed) */
		if (left > 0 && (n = run(s, "UPDATE webhooks SET body = '' WHERE id IN (SELECT id FROM webhooks"
					    " WHERE body != '' AND created_ms < ?1 AND (delivered_ms > 0 OR next_ms = 0)"
					    " ORDER BY created_ms LIMIT ?2)",
					 body_before_ms, left, "purge: webhook bodies")) < 0)
			goto fail;
		left -= left > 0 ? n : 0;
	}
	if (store_sq_finish(s, "purge") == -1)
		return -1;
	return (int)max_rows - left;
fail:
	store_sq_rollback(s);
	return -1;
}

static int pragma_int(struct sq *s, const char *sql, int64_t *out)
{
	sqlite3_stmt *st = prep(s, sql, sql);
	int rc;

	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		store_sq_warn(s, sql);
		return -1;
	}
	return 0;
}

int store_sq_vacuum(void *be, int pages)
{
	struct sq *s = be;
	int64_t mode, free_pages;
	char sql[64];

	if (s->in_batch || !sqlite3_get_autocommit(s->db))
		return 0;   /* never inside someone's transaction: the next turn does it */
	if (pragma_int(s, "PRAGMA auto_vacuum", &mode) == -1)
		return -1;
	if (mode != 2)
		return 0;   /* not incremental: free pages are reused, the file does not shrink */
	snprintf(sql, sizeof(sql), "PRAGMA incremental_vacuum(%d)", pages);
	/* each step of the pragma frees one page; run it to the end */
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		store_sq_warn(s, "incremental_vacuum");
		return -1;
	}
	if (pragma_int(s, "PRAGMA freelist_count", &free_pages) == -1)
		return -1;
	return free_pages > INT32_MAX ? INT32_MAX : (int)free_pages;
}

static int db_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int store_sq_auto_vacuum(sqlite3 *db, const char *path, int version, char *err, size_t errlen)
{
	int64_t mode = 0, pages = 0, page_size = 0;

	if (db_int(db, "PRAGMA auto_vacuum", &mode) == -1 || db_int(db, "PRAGMA page_count", &pages) == -1 ||
	    db_int(db, "PRAGMA page_size", &page_size) == -1) {
		snprintf(err, errlen, "%s: auto_vacuum: %s", path, sqlite3_errmsg(db));
		return -1;
	}
	if (mode == 2)
		return 0;
	/* a new file: set before the first table, the mode then holds for good */
	if (version == 0 && pages <= 1) {
		if (sqlite3_exec(db, "PRAGMA auto_vacuum = INCREMENTAL", NULL, NULL, NULL) != SQLITE_OK) {
			snprintf(err, errlen, "%s: auto_vacuum: %s", path, sqlite3_errmsg(db));
			return -1;
		}
		return 0;
	}
	if (pages * page_size > AUTO_VACUUM_SWITCH_MAX) {
		log_warnx("store: %s: auto_vacuum is off and the file is %lld MiB: purged space is reused but the "
			  "file does not shrink; see docs/operations.md (Space) to switch it offline", path,
			  (long long)(pages * page_size >> 20));
		return 0;
	}
	/* an existing file: the mode changes only with a VACUUM (cheap at this size) */
	if (sqlite3_exec(db, "PRAGMA auto_vacuum = INCREMENTAL; VACUUM;", NULL, NULL, NULL) != SQLITE_OK) {
		log_warnx("store: %s: could not switch to incremental auto_vacuum: %s", path, sqlite3_errmsg(db));
		return 0;
	}
	log_info("store: %s: switched to incremental auto_vacuum (%lld KiB rewritten)", path,
		 (long long)(pages * page_size >> 10));
	return 0;
}

/* ---- online backup ---- */

struct sq_backup {
	struct sq *src;
	sqlite3 *dest;
	sqlite3_backup *bk;
	int done, total;
};

void *store_sq_backup_begin(void *be, const char *path, char *err, size_t errlen)
{
	struct sq_backup *b = calloc(1, sizeof(*b));

	if (!b) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	b->src = be;
	if (sqlite3_open_v2(path, &b->dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, b->dest ? sqlite3_errmsg(b->dest) : "out of memory");
		store_sq_backup_free(b);
		return NULL;
	}
	/* The daemon's own connection as the source: sqlite copies its later writes into the backup
	 * as they happen, so a busy queue never restarts the copy. */
	b->bk = sqlite3_backup_init(b->dest, "main", b->src->db, "main");
	if (!b->bk) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(b->dest));
		store_sq_backup_free(b);
		return NULL;
	}
	return b;
}

int store_sq_backup_step(void *bk, int pages, char *err, size_t errlen)
{
	struct sq_backup *b = bk;
	int rc;

	if (b->src->in_batch || !sqlite3_get_autocommit(b->src->db))
		return 1;   /* the loop turn's transaction is open: next turn */
	rc = sqlite3_backup_step(b->bk, pages);
	b->total = sqlite3_backup_pagecount(b->bk);
	b->done = b->total - sqlite3_backup_remaining(b->bk);
	if (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return 1;
	rc = sqlite3_backup_finish(b->bk);
	b->bk = NULL;
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "backup: %s", sqlite3_errmsg(b->dest));
		return -1;
	}
	return 0;
}

void store_sq_backup_progress(const void *bk, int *done, int *total)
{
	const struct sq_backup *b = bk;

	*done = b->done;
	*total = b->total;
}

void store_sq_backup_free(void *bk)
{
	struct sq_backup *b = bk;

	if (!b)
		return;
	if (b->bk)
		sqlite3_backup_finish(b->bk);
	if (b->dest)
		sqlite3_close(b->dest);
	free(b);
}
