/* store_sqlite: the sqlite backend of the message store — WAL, fsync'd commits, versioned schema. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/store_sqlite_int.h"
#include "simroute/log.h"


/* SQL of each prepared statement (enum sq_stmt, store_sqlite_int.h). */
static const char *const stmt_sql[SQ_COUNT] = {
	/* IMMEDIATE: take the write lock now, so a busy database fails here, before any work */
	[SQ_BEGIN] = "BEGIN IMMEDIATE",
	[SQ_COMMIT] = "COMMIT",
	[SQ_ROLLBACK] = "ROLLBACK",
	[SQ_SAVEPOINT] = "SAVEPOINT op",
	[SQ_RELEASE] = "RELEASE op",
	[SQ_ROLLBACK_TO] = "ROLLBACK TO op",
	[SQ_INSERT] =
		"INSERT INTO messages (\"to\", text, lane, state, nparts, created_ms, updated_ms, expires_ms,"
		" reference, languages, delivery_report, allow_carrier, callback_url)"
		" VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[SQ_GET] = "SELECT " MSG_COLUMNS " FROM messages WHERE id = ?1",
	/* ?1 id, ?2 to, ?3 now, ?4 route|NULL, ?5 error|NULL, ?6 from. The WHERE on state makes a
	 * stale caller (someone else moved the message first) change nothing. */
	[SQ_TRANSITION] =
		"UPDATE messages SET state = ?2, updated_ms = ?3,"
		" route = COALESCE(?4, route), last_error = COALESCE(?5, last_error),"
		" attempts = attempts + (?2 = 'sending'),"
		" sent_ms = CASE WHEN ?2 = 'sent' OR (?2 IN ('delivered', 'undelivered') AND sent_ms = 0)"
		"           THEN ?3 ELSE sent_ms END,"
		" parts_sent = CASE WHEN ?2 = 'queued' THEN 0 ELSE parts_sent END"
		" WHERE id = ?1 AND state = ?6",
	[SQ_EVENT] =
		"INSERT INTO events (message_id, from_state, to_state, route, error, at_ms)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	/* equality on (state, lane) and a range on id: an exact range of the messages_state index,
	 * so paging deep into a large bulk lane never rescans it from the start */
	[SQ_PENDING] =
		"SELECT id, expires_ms FROM messages"
		" WHERE state = 'queued' AND lane = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
	[SQ_PART_MSG] = "SELECT state, nparts, attempts FROM messages WHERE id = ?1",
	[SQ_PART_UPSERT] =
		"INSERT INTO parts (message_id, seq, mr, route, sent_ms, attempt)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		" ON CONFLICT (message_id, seq) DO UPDATE SET mr = excluded.mr, route = excluded.route,"
		" sent_ms = excluded.sent_ms, attempt = excluded.attempt, status = -1, status_ms = 0",
	/* counted, not incremented: recording the same part twice must not count it twice */
	[SQ_PART_COUNT] =
		"UPDATE messages SET updated_ms = ?3,"
		" parts_sent = (SELECT count(*) FROM parts WHERE message_id = ?1 AND attempt = ?2)"
		" WHERE id = ?1",
	[SQ_IDEM_INSERT] =
		"INSERT OR REPLACE INTO idempotency (owner, key, request_hash, status, first_id, count, created_ms)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[SQ_IDEM_GET] =
		"SELECT request_hash, status, first_id, count, created_ms FROM idempotency"
		" WHERE owner = ?1 AND key = ?2 AND created_ms >= ?3",
};



void store_sq_warn(struct sq *s, const char *what)
{
	log_warnx("store: %s: %s", what, sqlite3_errmsg(s->db));
}

/* Step a statement that returns no rows we need, then reset it. 0 or -1 (logged). */
static int sq_exec(struct sq *s, enum sq_stmt i, const char *what)
{
	sqlite3_stmt *st = s->stmt[i];
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		store_sq_warn(s, what);
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

/* Inside a batch an operation is a savepoint: it succeeds or fails alone, and the batch's one
 * COMMIT (one fsync) makes all of them durable together. */
static int sq_begin(struct sq *s, const char *what)
{
	/* The batch was rolled back whole: a savepoint now would start (and commit) a transaction of its
	 * own, which store_batch_end would then report as not done. */
	if (s->in_batch && s->batch_broken)
		return -1;
	return sq_exec(s, s->in_batch ? SQ_SAVEPOINT : SQ_BEGIN, what);
}

static int sq_commit(struct sq *s, const char *what)
{
	return sq_exec(s, s->in_batch ? SQ_RELEASE : SQ_COMMIT, what);
}

/* After an error sqlite may already have rolled back (SQLITE_FULL, IOERR): only roll back what is
 * still open, and never let a failed rollback hide the first error. */
static void sq_rollback(struct sq *s)
{
	if (sqlite3_get_autocommit(s->db)) {
		if (s->in_batch)
			s->batch_broken = 1;   /* the whole batch went with it */
		return;
	}
	if (s->in_batch) {
		sqlite3_step(s->stmt[SQ_ROLLBACK_TO]);
		sqlite3_reset(s->stmt[SQ_ROLLBACK_TO]);
		sqlite3_step(s->stmt[SQ_RELEASE]);
		sqlite3_reset(s->stmt[SQ_RELEASE]);
		return;
	}
	sqlite3_step(s->stmt[SQ_ROLLBACK]);
	sqlite3_reset(s->stmt[SQ_ROLLBACK]);
}

/* Commit, or roll back on failure: a commit that fails (disk full) must never look like success. */
static int sq_finish(struct sq *s, const char *what)
{
	if (sq_commit(s, what) == -1) {
		sq_rollback(s);
		return -1;
	}
	return 0;
}

static void bind_text_or_null(sqlite3_stmt *st, int col, const char *v)
{
	if (v)
		sqlite3_bind_text(st, col, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, col);
}

const char *store_sq_col_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? (const char *)t : "";
}

/* Run a multi-statement script (migrations, pragmas), filling err. */
static int exec_script(sqlite3 *db, const char *sql, const char *what, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", what, msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int read_int_pragma(sqlite3 *db, const char *sql, int *out, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", sql, sqlite3_errmsg(db));
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		snprintf(err, errlen, "%s: %s", sql, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return -1;
	}
	*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

static int version_supported(int v, const char *path, char *err, size_t errlen)
{
	if (v > store_sq_schema_version) {
		snprintf(err, errlen, "%s: schema version %d is newer than this simrouted supports (%d); "
			 "refusing to open it (was it written by a newer release?)", path, v, store_sq_schema_version);
		return -1;
	}
	if (v < 0) {
		snprintf(err, errlen, "%s: invalid schema version %d", path, v);
		return -1;
	}
	return 0;
}

/* Bring the schema to store_sq_schema_version in one transaction: a crash midway leaves the old version. */
static int migrate(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	char sql[64];
	int from;

	if (exec_script(db, "BEGIN IMMEDIATE", "begin migration", err, errlen) == -1)
		return -1;
	/* read again under the write lock: another process may have migrated meanwhile */
	if (read_int_pragma(db, "PRAGMA user_version", &from, err, errlen) == -1 ||
	    version_supported(from, path, err, errlen) == -1)
		goto fail;
	for (int v = from; v < store_sq_schema_version; v++) {
		char what[48];

		snprintf(what, sizeof(what), "schema migration %d", v + 1);
		if (exec_script(db, store_sq_migrations[v], what, err, errlen) == -1)
			goto fail;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", store_sq_schema_version);
	if (exec_script(db, sql, "set schema version", err, errlen) == -1 ||
	    exec_script(db, "COMMIT", "commit migration", err, errlen) == -1)
		goto fail;
	if (from == 0)
		log_info("store: %s: created schema version %d", path, store_sq_schema_version);
	else if (from < store_sq_schema_version)
		log_info("store: %s: migrated schema from version %d to %d", path, from, store_sq_schema_version);
	return 0;
fail:
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static void sq_close(void *be)
{
	struct sq *s = be;

	if (s == NULL)
		return;
	for (int i = 0; i < SQ_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	if (sqlite3_close(s->db) != SQLITE_OK)
		log_warnx("store: close: %s", sqlite3_errmsg(s->db));
	free(s);
}

static void *sq_open(const char *path, char *err, size_t errlen)
{
	struct sq *s;
	sqlite3_stmt *st;
	int version;
	const char *mode;

	if (path == NULL || path[0] == '\0') {
		snprintf(err, errlen, "sqlite store: no database path");
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* NOMUTEX: one connection used by one thread at a time (the loop, or later a writer thread) */
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	/* refuse a newer schema before touching anything, not even the journal mode */
	if (read_int_pragma(s->db, "PRAGMA user_version", &version, err, errlen) == -1 ||
	    version_supported(version, path, err, errlen) == -1)
		goto fail;

	if (store_sq_auto_vacuum(s->db, path, version, err, errlen) == -1)
		goto fail;
	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		snprintf(err, errlen, "%s: journal_mode: %s", path, sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
		goto fail;
	}
	mode = store_sq_col_text(st, 0);
	/* e.g. a filesystem without shared memory; synchronous=FULL keeps the rollback journal
	 * durable too, so go on, slower */
	if (strcmp(mode, "wal") != 0)
		log_warnx("store: %s: journal mode is \"%s\", not wal", path, mode);
	sqlite3_finalize(st);

	/* FULL: a commit is fsync'd before it returns, so an acknowledged message survives power loss */
	if (exec_script(s->db, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;", "pragmas",
			err, errlen) == -1)
		goto fail;
	if (migrate(s->db, path, err, errlen) == -1)
		goto fail;
	for (int i = 0; i < SQ_COUNT; i++) {
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
				       NULL) != SQLITE_OK) {
			snprintf(err, errlen, "%s: prepare: %s", path, sqlite3_errmsg(s->db));
			goto fail;
		}
	}
	return s;
fail:
	sq_close(s);
	return NULL;
}

static int sq_enqueue(void *be, const struct store_new_msg *msgs, size_t n, int64_t *ids,
		      struct store_idem_new *idem, size_t nidem)
{
	struct sq *s = be;
	sqlite3_stmt *st = s->stmt[SQ_INSERT];

	if (sq_begin(s, "enqueue") == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct store_new_msg *m = &msgs[i];

		sqlite3_bind_text(st, 1, m->to, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, m->text, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, (int)m->lane);
		sqlite3_bind_int(st, 4, m->nparts);
		sqlite3_bind_int64(st, 5, m->created_ms);
		sqlite3_bind_int64(st, 6, m->expires_ms);
		sqlite3_bind_text(st, 7, m->reference ? m->reference : "", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 8, (int64_t)m->languages);
		sqlite3_bind_int(st, 9, m->delivery_report);
		sqlite3_bind_int(st, 10, m->allow_carrier);
		sqlite3_bind_text(st, 11, m->callback_url ? m->callback_url : "", -1, SQLITE_STATIC);
		if (sq_exec(s, SQ_INSERT, "enqueue") == -1) {
			sq_rollback(s);
			return -1;
		}
		ids[i] = sqlite3_last_insert_rowid(s->db);
	}
	st = s->stmt[SQ_IDEM_INSERT];
	for (size_t i = 0; i < nidem; i++) {
		struct store_idem *r = &idem[i].rec;

		r->first_id = ids[idem[i].first];
		sqlite3_bind_text(st, 1, r->owner, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, r->key, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, r->request_hash, sizeof(r->request_hash), SQLITE_STATIC);
		sqlite3_bind_int(st, 4, r->status);
		sqlite3_bind_int64(st, 5, r->first_id);
		sqlite3_bind_int(st, 6, r->count);
		sqlite3_bind_int64(st, 7, r->created_ms);
		if (sq_exec(s, SQ_IDEM_INSERT, "enqueue: idempotency key") == -1) {
			sq_rollback(s);
			return -1;
		}
	}
	return sq_finish(s, "enqueue: commit");
}

static int sq_recover(void *be, int64_t now_ms)
{
	static const char *const log_sql =
		"INSERT INTO events (message_id, from_state, to_state, route, error, at_ms)"
		" SELECT id, 'sending', CASE WHEN parts_sent = 0 THEN 'queued' ELSE 'uncertain' END,"
		"        NULL, ?2, ?1 FROM messages WHERE state = 'sending'";
	/* RETURNING: sqlite applies every change on the first step, so stepping while logging is safe */
	static const char *const update_sql =
		"UPDATE messages SET updated_ms = ?1,"
		" state = CASE WHEN parts_sent = 0 THEN 'queued' ELSE 'uncertain' END, last_error = ?2"
		" WHERE state = 'sending' RETURNING id, state, parts_sent, nparts";
	static const char *const why = "restarted while sending";
	struct sq *s = be;
	sqlite3_stmt *st = NULL;
	int n = 0, rc;

	if (sq_begin(s, "recover") == -1)
		return -1;
	for (int pass = 0; pass < 2; pass++) {
		if (sqlite3_prepare_v2(s->db, pass == 0 ? log_sql : update_sql, -1, &st, NULL) != SQLITE_OK)
			goto fail;
		sqlite3_bind_int64(st, 1, now_ms);
		sqlite3_bind_text(st, 2, why, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			n++;
			log_info("store: message %lld: sending -> %s at start-up (%d of %d parts sent)",
				 (long long)sqlite3_column_int64(st, 0), store_sq_col_text(st, 1),
				 sqlite3_column_int(st, 2), sqlite3_column_int(st, 3));
		}
		if (rc != SQLITE_DONE)
			goto fail;
		sqlite3_finalize(st);
		st = NULL;
	}
	if (sq_finish(s, "recover: commit") == -1)
		return -1;
	return n;
fail:
	store_sq_warn(s, "recover");
	sqlite3_finalize(st);
	sq_rollback(s);
	return -1;
}

static void sq_relax_end(struct sq *s)
{
	if (s->batch_relaxed && sqlite3_exec(s->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL) != SQLITE_OK)
		store_sq_warn(s, "batch: back to synchronous=FULL");
	s->batch_relaxed = 0;
}

static int sq_batch(void *be, int begin)
{
	struct sq *s = be;
	if (begin) {
		if (s->in_batch)
			return -1;
		/* synchronous applies at commit; it cannot change inside a transaction, so set it first */
		if (begin == 2 && sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK)
			return -1;
		s->batch_relaxed = begin == 2;
		if (sq_exec(s, SQ_BEGIN, "batch") == -1) {
			sq_relax_end(s);
			return -1;
		}
		s->in_batch = 1;
		s->batch_broken = 0;
		return 0;
	}
	if (!s->in_batch)
		return -1;
	s->in_batch = 0;
	int rc;
	if (s->batch_broken) {
		sq_rollback(s);
		rc = -1;
	} else {
		rc = sq_finish(s, "batch: commit");
	}
	sq_relax_end(s);
	return rc;
}

static int sq_expire(void *be, int64_t now_ms, int64_t **ids)
{
	static const char *const sql[2] = {
		"INSERT INTO events (message_id, from_state, to_state, route, error, at_ms)"
		" SELECT id, 'queued', 'expired', NULL, ?2, ?1 FROM messages"
		" WHERE state = 'queued' AND expires_ms > 0 AND expires_ms <= ?1",
		"UPDATE messages SET state = 'expired', updated_ms = ?1, last_error = ?2"
		" WHERE state = 'queued' AND expires_ms > 0 AND expires_ms <= ?1 RETURNING id",
	};
	struct sq *s = be;
	sqlite3_stmt *st = NULL;
	int n = 0, rc;

	*ids = NULL;
	if (sq_begin(s, "expire") == -1)
		return -1;
	for (int pass = 0; pass < 2; pass++) {
		if (sqlite3_prepare_v2(s->db, sql[pass], -1, &st, NULL) != SQLITE_OK)
			goto fail;
		sqlite3_bind_int64(st, 1, now_ms);
		sqlite3_bind_text(st, 2, "ttl passed before sending", -1, SQLITE_STATIC);
		n = 0;
		/* RETURNING: every change is applied at the first step; the ids feed message.expired */
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			int64_t *p = realloc(*ids, (size_t)(n + 1) * sizeof(**ids));
			if (p == NULL)
				goto fail;
			*ids = p;
			p[n++] = sqlite3_column_int64(st, 0);
		}
		if (rc != SQLITE_DONE)
			goto fail;
		sqlite3_finalize(st);
		st = NULL;
	}
	if (n == 0) {
		sq_rollback(s);   /* nothing changed: no need to pay for a commit's fsync */
		return 0;
	}
	if (sq_finish(s, "expire: commit") == -1)
		goto freed;
	return n;
fail:
	store_sq_warn(s, "expire");
	sqlite3_finalize(st);
	sq_rollback(s);
freed:
	free(*ids);
	*ids = NULL;
	return -1;
}

/* Runs at start-up and on reload only: a scan of the window's parts, as sq_route_usage. */
static int sq_route_recipients(void *be, int64_t since_ms, store_recipient_cb *cb, void *arg)
{
	struct sq *s = be;
	sqlite3_stmt *st;
	int n = 0, rc;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT p.route, m.\"to\", MAX(p.sent_ms) FROM parts p JOIN messages m ON m.id = p.message_id"
			       " WHERE p.mr >= 0 AND p.sent_ms >= ?1 GROUP BY p.route, m.\"to\"",
			       -1, &st, NULL) != SQLITE_OK) {
		store_sq_warn(s, "route recipients");
		return -1;
	}
	sqlite3_bind_int64(st, 1, since_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n++;
		if (cb(arg, store_sq_col_text(st, 0), store_sq_col_text(st, 1), sqlite3_column_int64(st, 2)))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sq_warn(s, "route recipients");
		n = -1;
	}
	sqlite3_finalize(st);
	return n;
}

static int sq_route_usage(void *be, int64_t since_ms, store_usage_cb *cb, void *arg)
{
	struct sq *s = be;
	sqlite3_stmt *st;
	int n = 0, rc;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT route, COUNT(*) FROM parts WHERE mr >= 0 AND sent_ms >= ?1 GROUP BY route",
			       -1, &st, NULL) != SQLITE_OK) {
		store_sq_warn(s, "route usage");
		return -1;
	}
	sqlite3_bind_int64(st, 1, since_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n++;
		if (cb(arg, store_sq_col_text(st, 0), sqlite3_column_int64(st, 1)))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sq_warn(s, "route usage");
		n = -1;
	}
	sqlite3_finalize(st);
	return n;
}

static int sq_pending_fetch(void *be, enum msg_lane lane, int64_t after_id,
			    struct store_pending_row *rows, size_t max)
{
	struct sq *s = be;
	sqlite3_stmt *st = s->stmt[SQ_PENDING];
	size_t n = 0;
	int rc = SQLITE_DONE;

	sqlite3_bind_int(st, 1, (int)lane);
	sqlite3_bind_int64(st, 2, after_id);
	sqlite3_bind_int64(st, 3, (int64_t)max);
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		rows[n].id = sqlite3_column_int64(st, 0);
		rows[n].lane = lane;
		rows[n].expires_ms = sqlite3_column_int64(st, 1);
		n++;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		store_sq_warn(s, "load_pending");
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return (int)n;
}

/* A row of MSG_COLUMNS into out (text malloc'd); 0, or -1 (logged, out cleared). */
int store_sq_row_to_msg(sqlite3_stmt *st, struct store_msg *out)
{
	int lane;

	out->id = sqlite3_column_int64(st, 0);
	store_copy_field(out->to, sizeof(out->to), store_sq_col_text(st, 1));
	out->text = strdup(store_sq_col_text(st, 2));
	lane = sqlite3_column_int(st, 3);
	if (out->text == NULL || lane < 0 || lane >= LANE_COUNT ||
	    message_state_parse(store_sq_col_text(st, 4), &out->state) == -1) {
		log_warnx("store: message %lld: %s", (long long)out->id,
			  out->text == NULL ? "out of memory" : "bad lane or state in database");
		store_msg_clear(out);
		return -1;
	}
	out->lane = (enum msg_lane)lane;
	out->nparts = sqlite3_column_int(st, 5);
	out->parts_sent = sqlite3_column_int(st, 6);
	out->attempts = sqlite3_column_int(st, 7);
	store_copy_field(out->route, sizeof(out->route), store_sq_col_text(st, 8));
	store_copy_field(out->last_error, sizeof(out->last_error), store_sq_col_text(st, 9));
	out->created_ms = sqlite3_column_int64(st, 10);
	out->updated_ms = sqlite3_column_int64(st, 11);
	out->sent_ms = sqlite3_column_int64(st, 12);
	out->expires_ms = sqlite3_column_int64(st, 13);
	store_copy_field(out->reference, sizeof(out->reference), store_sq_col_text(st, 14));
	out->languages = (unsigned)sqlite3_column_int64(st, 15);
	out->delivery_report = sqlite3_column_int(st, 16) != 0;
	out->allow_carrier = sqlite3_column_int(st, 17) != 0;
	store_copy_field(out->callback_url, sizeof(out->callback_url), store_sq_col_text(st, 18));
	out->purged = sqlite3_column_int(st, 19) != 0;
	return 0;
}

static int sq_get(void *be, int64_t id, struct store_msg *out)
{
	struct sq *s = be;
	sqlite3_stmt *st = s->stmt[SQ_GET];
	int rc;

	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return 1;
	}
	if (rc != SQLITE_ROW) {
		store_sq_warn(s, "get");
		sqlite3_reset(st);
		return -1;
	}
	rc = store_sq_row_to_msg(st, out);
	sqlite3_reset(st);
	return rc;
}

static int sq_transition(void *be, int64_t id, enum msg_state from, enum msg_state to,
			 const char *route, const char *error, int64_t now_ms)
{
	struct sq *s = be;
	sqlite3_stmt *up = s->stmt[SQ_TRANSITION], *ev = s->stmt[SQ_EVENT];

	if (sq_begin(s, "transition") == -1)
		return -1;
	sqlite3_bind_int64(up, 1, id);
	sqlite3_bind_text(up, 2, message_state_name(to), -1, SQLITE_STATIC);
	sqlite3_bind_int64(up, 3, now_ms);
	bind_text_or_null(up, 4, route);
	bind_text_or_null(up, 5, error);
	sqlite3_bind_text(up, 6, message_state_name(from), -1, SQLITE_STATIC);
	if (sq_exec(s, SQ_TRANSITION, "transition") == -1)
		goto fail;
	if (sqlite3_changes(s->db) == 0) {
		sq_rollback(s);
		return 1;
	}
	sqlite3_bind_int64(ev, 1, id);
	sqlite3_bind_text(ev, 2, message_state_name(from), -1, SQLITE_STATIC);
	sqlite3_bind_text(ev, 3, message_state_name(to), -1, SQLITE_STATIC);
	bind_text_or_null(ev, 4, route);
	bind_text_or_null(ev, 5, error);
	sqlite3_bind_int64(ev, 6, now_ms);
	if (sq_exec(s, SQ_EVENT, "transition: event") == -1)
		goto fail;
	return sq_finish(s, "transition: commit");
fail:
	sq_rollback(s);
	return -1;
}

static int sq_record_part(void *be, int64_t id, int seq, int mr, const char *route, int64_t now_ms)
{
	struct sq *s = be;
	sqlite3_stmt *st = s->stmt[SQ_PART_MSG];
	enum msg_state state;
	int rc, nparts, attempt;

	if (sq_begin(s, "record_part") == -1)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		if (rc != SQLITE_DONE)
			store_sq_warn(s, "record_part");
		sqlite3_reset(st);
		sq_rollback(s);
		return rc == SQLITE_DONE ? 1 : -1;
	}
	if (message_state_parse(store_sq_col_text(st, 0), &state) == -1)
		state = MSG_STATE_COUNT;
	nparts = sqlite3_column_int(st, 1);
	attempt = sqlite3_column_int(st, 2);
	sqlite3_reset(st);
	if (state != MSG_SENDING && state != MSG_UNCERTAIN) {
		sq_rollback(s);
		return 1;
	}
	if (seq < 1 || seq > nparts) {
		log_warnx("store: record_part: message %lld: part %d out of 1..%d", (long long)id, seq,
			  nparts);
		sq_rollback(s);
		return -1;
	}
	st = s->stmt[SQ_PART_UPSERT];
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, seq);
	sqlite3_bind_int(st, 3, mr);
	sqlite3_bind_text(st, 4, route ? route : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now_ms);
	sqlite3_bind_int(st, 6, attempt);
	if (sq_exec(s, SQ_PART_UPSERT, "record_part") == -1)
		goto fail;
	st = s->stmt[SQ_PART_COUNT];
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, attempt);
	sqlite3_bind_int64(st, 3, now_ms);
	if (sq_exec(s, SQ_PART_COUNT, "record_part: count") == -1)
		goto fail;
	return sq_finish(s, "record_part: commit");
fail:
	sq_rollback(s);
	return -1;
}

/* For the other store_sqlite*.c files: a transaction (a savepoint inside a batch), its commit and
 * its rollback, exactly as the operations above use them. */
int store_sq_begin(struct sq *s, const char *what) { return sq_begin(s, what); }
int store_sq_finish(struct sq *s, const char *what) { return sq_finish(s, what); }
void store_sq_rollback(struct sq *s) { sq_rollback(s); }

int store_sq_write1(struct sq *s, sqlite3_stmt *st, const char *what)
{
	if (st == NULL)
		return -1;
	if (sq_begin(s, what) == -1) {
		sqlite3_finalize(st);
		return -1;
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		store_sq_warn(s, what);
		sqlite3_finalize(st);
		sq_rollback(s);
		return -1;
	}
	sqlite3_finalize(st);
	if (sqlite3_changes(s->db) == 0) {
		sq_rollback(s);
		return 1;
	}
	return sq_finish(s, what);
}

const struct store_backend store_backend_sqlite = {
	.key_add = store_sq_key_add,
	.key_list = store_sq_key_list,
	.key_revoke = store_sq_key_revoke,
	.carrier_id_add = store_sq_carrier_id_add,
	.carrier_id_find = store_sq_carrier_id_find,
	.webhook_add = store_sq_webhook_add,
	.webhook_due = store_sq_webhook_due,
	.webhook_result = store_sq_webhook_result,
	.webhook_replay = store_sq_webhook_replay,
	.webhook_list = store_sq_webhook_list,
	.webhook_backlog = store_sq_webhook_backlog,
	.audit_add = store_sq_audit_add,
	.audit_list = store_sq_audit_list,
	.optout_add = store_sq_optout_add,
	.optout_remove = store_sq_optout_remove,
	.optout_check = store_sq_optout_check,
	.optout_list = store_sq_optout_list,
	.batch = sq_batch,
	.expire = sq_expire,
	.route_usage = sq_route_usage,
	.route_recipients = sq_route_recipients,
	.outcomes = store_sq_outcomes,
	.oldest_queued = store_sq_oldest_queued,
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.enqueue = sq_enqueue,
	.recover = sq_recover,
	.pending_fetch = sq_pending_fetch,
	.get = sq_get,
	.transition = sq_transition,
	.record_part = sq_record_part,
	.counts = store_sq_counts,
	.timeline = store_sq_timeline,
	.idem_get = store_sq_idem_get,
	.idem_purge = store_sq_idem_purge,
	.list = store_sq_list,
	.inbound_add = store_sq_inbound_add,
	.inbound_flush = store_sq_inbound_flush,
	.inbound_list = store_sq_inbound_list,
	.parts = store_sq_parts,
	.part_status = store_sq_part_status,
	.purge = store_sq_purge,
	.vacuum = store_sq_vacuum,
	.backup_begin = store_sq_backup_begin,
	.backup_step = store_sq_backup_step,
	.backup_progress = store_sq_backup_progress,
	.backup_free = store_sq_backup_free,
};
