/* store_pg: the postgresql backend of the message store (tracker issue 12) — one queue that several
 * simrouted nodes can share (docs/scale-out.md). Same concepts and return conventions as store_sqlite.c.
 *
 * Blocking: libpq calls here wait for the server, as store_sqlite's wait for fsync; a first version,
 * documented in docs/scale-out.md (a writer thread behind the same interface is the next step if
 * measurements show stalls). Durability: a commit returns only when the server has committed it
 * (synchronous_commit on, the server default, set again per connection). */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "queue/store_pg_int.h"
#include "simroute/log.h"

/* Serialises schema migrations of nodes that start together, and enqueues (see pg_enqueue). */
#define PG_LOCK_MIGRATE 0x73696d0001LL
#define PG_LOCK_ENQUEUE 0x73696d0002LL

static const char *const stmt_sql[PG_STMT_COUNT] = {
	[PG_INSERT] =
		"INSERT INTO messages (\"to\", text, lane, state, nparts, created_ms, updated_ms, expires_ms,"
		" reference, languages, delivery_report, allow_carrier, callback_url)"
		" VALUES ($1, $2, $3, 'queued', $4, $5, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
	[PG_GET] = "SELECT " PG_MSG_COLUMNS " FROM messages WHERE id = $1",
	/* $1 id, $2 to, $3 now, $4 route|NULL, $5 error|NULL, $6 from, $7 this node, $8 its lease: the
	 * WHERE on state makes a stale caller (another node, or this one, moved the message first) change
	 * nothing; a move out of `sending` needs this node's lease (another node may have taken the
	 * message back after the lease expired: the move is then stale too). A claim takes the lease. */
	[PG_TRANSITION] =
		"UPDATE messages SET state = $2::text, updated_ms = $3::bigint,"
		" route = COALESCE($4::text, route), last_error = COALESCE($5::text, last_error),"
		" attempts = attempts + CASE WHEN $2::text = 'sending' THEN 1 ELSE 0 END,"
		" sent_ms = CASE WHEN $2::text = 'sent' OR ($2::text IN ('delivered', 'undelivered') AND sent_ms = 0)"
		"           THEN $3::bigint ELSE sent_ms END,"
		" parts_sent = CASE WHEN $2::text = 'queued' THEN 0 ELSE parts_sent END,"
		" lease_node = CASE WHEN $2::text = 'sending' THEN $7::text ELSE '' END,"
		" lease_until_ms = CASE WHEN $2::text = 'sending' THEN $3::bigint + $8::bigint ELSE 0 END"
		" WHERE id = $1 AND state = $6::text AND ($6::text <> 'sending' OR lease_node = $7::text)",
	[PG_EVENT] =
		"INSERT INTO events (message_id, from_state, to_state, route, error, at_ms)"
		" VALUES ($1, $2, $3, $4, $5, $6)",
	[PG_PENDING] =
		"SELECT id, expires_ms FROM messages"
		" WHERE state = 'queued' AND lane = $1 AND id > $2 ORDER BY id LIMIT $3",
	/* FOR UPDATE: the part and its count are written against the state read here */
	[PG_PART_MSG] = "SELECT state, nparts, attempts, lease_node FROM messages WHERE id = $1 FOR UPDATE",
	[PG_PART_UPSERT] =
		"INSERT INTO parts (message_id, seq, mr, route, sent_ms, attempt)"
		" VALUES ($1, $2, $3, $4, $5, $6)"
		" ON CONFLICT (message_id, seq) DO UPDATE SET mr = excluded.mr, route = excluded.route,"
		" sent_ms = excluded.sent_ms, attempt = excluded.attempt, status = -1, status_ms = 0",
	[PG_PART_COUNT] =
		"UPDATE messages SET updated_ms = $3,"
		" parts_sent = (SELECT count(*) FROM parts WHERE message_id = $1 AND attempt = $2)"
		" WHERE id = $1",
	/* an expired record is replaced (store.h); one of another request still live ($8: created at or
	 * after it) is kept, and no row comes back: another node took the key first */
	[PG_IDEM_INSERT] =
		"INSERT INTO idempotency (owner, key, request_hash, status, first_id, count, created_ms)"
		" VALUES ($1, $2, decode($3, 'hex'), $4, $5, $6, $7)"
		" ON CONFLICT (owner, key) DO UPDATE SET request_hash = excluded.request_hash,"
		" status = excluded.status, first_id = excluded.first_id, count = excluded.count,"
		" created_ms = excluded.created_ms WHERE $8::bigint = 0 OR idempotency.created_ms < $8::bigint RETURNING 1",
	[PG_IDEM_GET] =
		"SELECT encode(request_hash, 'hex'), status, first_id, count, created_ms FROM idempotency"
		" WHERE owner = $1 AND key = $2 AND created_ms >= $3",
};

void store_pg_int(struct pg_params *p, int64_t v)
{
	if (p->n >= PG_MAX_PARAMS)
		return;
	snprintf(p->buf[p->n], sizeof(p->buf[p->n]), "%" PRId64, v);
	p->v[p->n] = p->buf[p->n];
	p->n++;
}

void store_pg_text(struct pg_params *p, const char *v)
{
	if (p->n >= PG_MAX_PARAMS)
		return;
	p->v[p->n++] = v;
}

void store_pg_warn(struct pg *p, const char *what, const PGresult *r)
{
	const char *msg = r ? PQresultErrorMessage(r) : "";

	log_warnx("store: %s: %s", what, msg && msg[0] ? msg : PQerrorMessage(p->c));
}

static int session(struct pg *p, int migrating, char *err, size_t errlen);

/* The connection broke (server restart, network): the failed call stays failed (-1 to its caller,
 * which keeps its data and retries as after any store error), and the connection is re-established
 * for the next one — while the server stays away, at most every PG_RESET_MS (PQreset blocks). A batch
 * in progress is lost with the connection: it ends in -1. */
#define PG_RESET_MS 2000
static void reconnect(struct pg *p)
{
	struct timespec ts;
	char err[256];
	int64_t now;

	if (PQstatus(p->c) != CONNECTION_BAD || p->resetting)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (p->reset_failed && now - p->reset_ms < PG_RESET_MS)
		return;
	p->reset_ms = now;
	if (p->in_batch)
		p->batch_broken = 1;
	p->resetting = 1;
	PQreset(p->c);
	p->reset_failed = !(PQstatus(p->c) == CONNECTION_OK && session(p, 0, err, sizeof(err)) == 0);
	if (p->reset_failed)
		log_warnx("store: postgresql: connection lost; retrying in %d s", PG_RESET_MS / 1000);
	else
		log_info("store: postgresql: connection re-established");
	p->resetting = 0;
}

static PGresult *checked(struct pg *p, PGresult *r, const char *what)
{
	ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;

	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
		return r;
	store_pg_warn(p, what, r);
	PQclear(r);
	reconnect(p);
	return NULL;
}

PGresult *store_pg_exec(struct pg *p, const char *sql, const struct pg_params *prm, const char *what)
{
	/* without parameters: PQexec, which also runs scripts of several statements (migrations) */
	return checked(p, prm ? PQexecParams(p->c, sql, prm->n, NULL, prm->v, NULL, NULL, 0) : PQexec(p->c, sql),
		       what);
}

PGresult *store_pg_run(struct pg *p, enum pg_stmt stmt, const struct pg_params *prm, const char *what)
{
	char name[16];

	snprintf(name, sizeof(name), "s%d", (int)stmt);
	return checked(p, PQexecPrepared(p->c, name, prm ? prm->n : 0, prm ? prm->v : NULL, NULL, NULL, 0),
		       what);
}

int store_pg_do(struct pg *p, const char *sql, const struct pg_params *prm, const char *what)
{
	PGresult *r = store_pg_exec(p, sql, prm, what);

	PQclear(r);
	return r ? 0 : -1;
}

int64_t store_pg_i64(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

const char *store_pg_str(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col);
}

int store_pg_changes(const PGresult *r)
{
	const char *n = PQcmdTuples((PGresult *)r);

	return n && n[0] ? atoi(n) : 0;
}

/* As store_sqlite: inside a batch an operation is a savepoint, so it fails alone and the batch's one
 * COMMIT makes all of them durable together. */
int store_pg_begin(struct pg *p, const char *what)
{
	return store_pg_do(p, p->in_batch ? "SAVEPOINT op" : "BEGIN", NULL, what);
}

static int pg_commit(struct pg *p, const char *what)
{
	return store_pg_do(p, p->in_batch ? "RELEASE SAVEPOINT op" : "COMMIT", NULL, what);
}

/* A transaction in error state accepts only ROLLBACK: roll back to the savepoint inside a batch
 * (the batch goes on), the whole transaction outside one. */
void store_pg_rollback(struct pg *p)
{
	if (PQtransactionStatus(p->c) == PQTRANS_IDLE) {
		if (p->in_batch)
			p->batch_broken = 1;
		return;
	}
	if (p->in_batch) {
		if (store_pg_do(p, "ROLLBACK TO SAVEPOINT op", NULL, "rollback") == -1 ||
		    store_pg_do(p, "RELEASE SAVEPOINT op", NULL, "rollback") == -1)
			p->batch_broken = 1;
		return;
	}
	store_pg_do(p, "ROLLBACK", NULL, "rollback");
}

/* Commit, or roll back on failure: a commit that fails must never look like success. In PostgreSQL
 * a COMMIT of a failed transaction "succeeds" as a ROLLBACK, so the status is checked first. */
int store_pg_finish(struct pg *p, const char *what)
{
	if (!p->in_batch && PQtransactionStatus(p->c) != PQTRANS_INTRANS) {
		store_pg_rollback(p);
		return -1;
	}
	if (pg_commit(p, what) == -1) {
		store_pg_rollback(p);
		return -1;
	}
	return 0;
}

static int read_version(struct pg *p, int *out, char *err, size_t errlen)
{
	PGresult *r = store_pg_exec(p, "SELECT version FROM simroute_schema", NULL, "schema version");

	if (r == NULL || PQntuples(r) != 1) {
		snprintf(err, errlen, "postgresql: cannot read the schema version: %s", PQerrorMessage(p->c));
		PQclear(r);
		return -1;
	}
	*out = (int)store_pg_i64(r, 0, 0);
	PQclear(r);
	return 0;
}

/* Bring the schema to store_pg_schema_version in one transaction, under an advisory lock so that
 * nodes starting together migrate once; a crash midway leaves the old version. */
static int migrate(struct pg *p, char *err, size_t errlen)
{
	struct pg_params prm = { 0 };
	char sql[80];
	int from;

	store_pg_int(&prm, PG_LOCK_MIGRATE);
	if (store_pg_do(p, "BEGIN", NULL, "begin migration") == -1 ||
	    store_pg_do(p, "SELECT pg_advisory_xact_lock($1)", &prm, "migration lock") == -1 ||
	    store_pg_do(p, "CREATE TABLE IF NOT EXISTS simroute_schema (version INTEGER NOT NULL);"
			"INSERT INTO simroute_schema SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM simroute_schema)",
			NULL, "schema version table") == -1 ||
	    read_version(p, &from, err, errlen) == -1)
		goto fail;
	if (from > store_pg_schema_version || from < 0) {
		snprintf(err, errlen, "postgresql: schema version %d is %s (this simrouted supports %d); refusing it",
			 from, from < 0 ? "invalid" : "newer than this simrouted supports", store_pg_schema_version);
		goto fail_quiet;
	}
	for (int v = from; v < store_pg_schema_version; v++) {
		char what[48];

		snprintf(what, sizeof(what), "schema migration %d", v + 1);
		if (store_pg_do(p, store_pg_migrations[v], NULL, what) == -1)
			goto fail;
	}
	snprintf(sql, sizeof(sql), "UPDATE simroute_schema SET version = %d", store_pg_schema_version);
	if (store_pg_do(p, sql, NULL, "set schema version") == -1 || store_pg_do(p, "COMMIT", NULL, "commit") == -1)
		goto fail;
	if (from == 0)
		log_info("store: postgresql: created schema version %d", store_pg_schema_version);
	else if (from < store_pg_schema_version)
		log_info("store: postgresql: migrated schema from version %d to %d", from, store_pg_schema_version);
	return 0;
fail:
	snprintf(err, errlen, "postgresql: schema: %s", PQerrorMessage(p->c));
fail_quiet:
	PQclear(PQexec(p->c, "ROLLBACK"));
	return -1;
}

static void pg_close(void *be)
{
	struct pg *p = be;

	if (p == NULL)
		return;
	PQfinish(p->c);
	if (p->wake)
		PQfinish(p->wake);
	free(p);
}

static void pg_notice(void *arg, const char *msg)
{
	(void)arg;
	log_debug("store: postgresql: %s", msg);
}

/* fallback_application_name: the sessions show as simrouted in pg_stat_activity unless the dsn names
 * them otherwise. */
PGconn *store_pg_connect(const char *dsn)
{
	static const char *const keys[] = { "dbname", "fallback_application_name", NULL };
	const char *const values[] = { dsn, "simrouted", NULL };

	return PQconnectdbParams(keys, values, 1);
}

/* A session's settings and prepared statements (and at open the schema): at open, and again on a
 * connection re-established after it was lost. 0, or -1 with err. */
static int session(struct pg *p, int migrating, char *err, size_t errlen)
{
	PQsetNoticeProcessor(p->c, pg_notice, NULL);
	/* on: a commit returns once the server has flushed it (and its synchronous standbys, if any) */
	if (store_pg_do(p, "SET synchronous_commit = on; SET client_encoding = 'UTF8'", NULL, "settings") == -1) {
		snprintf(err, errlen, "postgresql: settings: %s", PQerrorMessage(p->c));
		return -1;
	}
	if (migrating && migrate(p, err, errlen) == -1)
		return -1;
	for (int i = 0; i < PG_STMT_COUNT; i++) {
		char name[16];
		PGresult *r;

		snprintf(name, sizeof(name), "s%d", i);
		r = checked(p, PQprepare(p->c, name, stmt_sql[i], 0, NULL), "prepare");
		if (r == NULL) {
			snprintf(err, errlen, "postgresql: prepare: %s", PQerrorMessage(p->c));
			return -1;
		}
		PQclear(r);
	}
	return 0;
}

static void *pg_open(const char *dsn, char *err, size_t errlen)
{
	struct pg *p;

	if (dsn == NULL || dsn[0] == '\0') {
		snprintf(err, errlen, "postgresql store: no dsn");
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(p->dsn, sizeof(p->dsn), "%s", dsn);
	p->c = store_pg_connect(dsn);
	if (p->c == NULL || PQstatus(p->c) != CONNECTION_OK) {
		snprintf(err, errlen, "postgresql: %s", p->c ? PQerrorMessage(p->c) : "out of memory");
		goto fail;
	}
	if (session(p, 1, err, errlen) == -1)
		goto fail;
	return p;
fail:
	pg_close(p);
	return NULL;
}

static void hex32(const unsigned char h[32], char out[65])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		out[2 * i] = digits[h[i] >> 4];
		out[2 * i + 1] = digits[h[i] & 15];
	}
	out[64] = '\0';
}

/* A request whose idempotency key another node holds live: its messages, inserted a moment ago in this
 * transaction, go again (nothing else refers to them yet); their ids become 0. */
static int drop_request(struct pg *p, int64_t *ids, size_t first, size_t count)
{
	struct pg_params prm = { 0 };

	store_pg_int(&prm, ids[first]);
	store_pg_int(&prm, ids[first] + (int64_t)count);
	if (store_pg_do(p, "DELETE FROM messages WHERE id >= $1 AND id < $2", &prm, "enqueue: key taken") == -1)
		return -1;
	for (size_t k = 0; k < count; k++)
		ids[first + k] = 0;
	log_info("store: idempotency key taken on another node: %zu message(s) not stored", count);
	return 0;
}

/* The advisory lock keeps one enqueue at a time across all nodes until its commit, so the ids of one
 * call are consecutive as store_idem_new promises (first_id .. first_id + count - 1). */
static int pg_enqueue(void *be, const struct store_new_msg *msgs, size_t n, int64_t *ids,
		      struct store_idem_new *idem, size_t nidem)
{
	struct pg *p = be;
	struct pg_params lk = { 0 };

	if (store_pg_begin(p, "enqueue") == -1)
		return -1;
	store_pg_int(&lk, PG_LOCK_ENQUEUE);
	/* the notification goes out at commit (and not at all on rollback): other nodes wake up */
	if (store_pg_do(p, "SELECT pg_advisory_xact_lock($1), pg_notify('simroute_queue', '')", &lk,
			"enqueue: lock") == -1)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		const struct store_new_msg *m = &msgs[i];
		struct pg_params prm = { 0 };
		PGresult *r;

		store_pg_text(&prm, m->to);
		store_pg_text(&prm, m->text);
		store_pg_int(&prm, (int)m->lane);
		store_pg_int(&prm, m->nparts);
		store_pg_int(&prm, m->created_ms);
		store_pg_int(&prm, m->expires_ms);
		store_pg_text(&prm, m->reference ? m->reference : "");
		store_pg_int(&prm, (int64_t)m->languages);
		store_pg_int(&prm, m->delivery_report);
		store_pg_int(&prm, m->allow_carrier);
		store_pg_text(&prm, m->callback_url ? m->callback_url : "");
		if ((r = store_pg_run(p, PG_INSERT, &prm, "enqueue")) == NULL)
			goto fail;
		ids[i] = store_pg_i64(r, 0, 0);
		PQclear(r);
	}
	for (size_t i = 0; i < nidem; i++) {
		struct store_idem *rec = &idem[i].rec;
		struct pg_params prm = { 0 };
		char hex[65];
		PGresult *r;

		rec->first_id = ids[idem[i].first];
		hex32(rec->request_hash, hex);
		store_pg_text(&prm, rec->owner);
		store_pg_text(&prm, rec->key);
		store_pg_text(&prm, hex);
		store_pg_int(&prm, rec->status);
		store_pg_int(&prm, rec->first_id);
		store_pg_int(&prm, rec->count);
		store_pg_int(&prm, rec->created_ms);
		store_pg_int(&prm, rec->live_after_ms);
		if ((r = store_pg_run(p, PG_IDEM_INSERT, &prm, "enqueue: idempotency key")) == NULL)
			goto fail;
		idem[i].taken = PQntuples(r) == 0;
		PQclear(r);
		if (idem[i].taken && drop_request(p, ids, idem[i].first, (size_t)rec->count) == -1)
			goto fail;
	}
	return store_pg_finish(p, "enqueue: commit");
fail:
	store_pg_rollback(p);
	return -1;
}

/* As store_sqlite's: `sending` rows go back to `queued` when no part was handed to a modem, else to
 * `uncertain` (never resent blindly) — only this node's claims (lease_node: its id, "" for a lone
 * node); another node's are its own business, or the lease sweep's (store_pg_node.c). */
static int pg_recover(void *be, int64_t now_ms)
{
	static const char *const sql =
		"WITH moved AS ("
		" UPDATE messages SET updated_ms = $1,"
		"  state = CASE WHEN parts_sent = 0 THEN 'queued' ELSE 'uncertain' END, last_error = $2,"
		"  lease_node = '', lease_until_ms = 0"
		" WHERE state = 'sending' AND lease_node = $3 RETURNING id, state, parts_sent, nparts),"
		" logged AS (INSERT INTO events (message_id, from_state, to_state, route, error, at_ms)"
		"  SELECT id, 'sending', state, NULL, $2, $1 FROM moved)"
		" SELECT id, state, parts_sent, nparts FROM moved ORDER BY id";
	struct pg *p = be;
	struct pg_params prm = { 0 };
	PGresult *r;
	int n;

	if (store_pg_begin(p, "recover") == -1)
		return -1;
	store_pg_int(&prm, now_ms);
	store_pg_text(&prm, "restarted while sending");
	store_pg_text(&prm, p->node);
	if ((r = store_pg_exec(p, sql, &prm, "recover")) == NULL) {
		store_pg_rollback(p);
		return -1;
	}
	n = PQntuples(r);
	for (int i = 0; i < n; i++)
		log_info("store: message %lld: sending -> %s at start-up (%d of %d parts sent)",
			 (long long)store_pg_i64(r, i, 0), store_pg_str(r, i, 1), (int)store_pg_i64(r, i, 2),
			 (int)store_pg_i64(r, i, 3));
	PQclear(r);
	return store_pg_finish(p, "recover: commit") == -1 ? -1 : n;
}

/* begin 2 (not durable): synchronous_commit off for this transaction only — consistent and ordered,
 * but the last commits may be lost if the server crashes, which recovery already handles for the
 * writes store.h allows here. */
static int pg_batch(void *be, int begin)
{
	struct pg *p = be;
	int rc;

	if (begin) {
		if (p->in_batch)
			return -1;
		if (store_pg_do(p, "BEGIN", NULL, "batch") == -1)
			return -1;
		if (begin == 2 && store_pg_do(p, "SET LOCAL synchronous_commit = off", NULL, "batch") == -1) {
			store_pg_do(p, "ROLLBACK", NULL, "batch");
			return -1;
		}
		p->in_batch = 1;
		p->batch_broken = 0;
		return 0;
	}
	if (!p->in_batch)
		return -1;
	p->in_batch = 0;
	if (p->batch_broken || PQtransactionStatus(p->c) != PQTRANS_INTRANS) {
		store_pg_rollback(p);
		rc = -1;
	} else {
		rc = store_pg_finish(p, "batch: commit");
	}
	return rc;
}

static int pg_expire(void *be, int64_t now_ms, int64_t **ids)
{
	static const char *const sql =
		"WITH moved AS ("
		" UPDATE messages SET state = 'expired', updated_ms = $1, last_error = $2"
		" WHERE state = 'queued' AND expires_ms > 0 AND expires_ms <= $1 RETURNING id),"
		" logged AS (INSERT INTO events (message_id, from_state, to_state, route, error, at_ms)"
		"  SELECT id, 'queued', 'expired', NULL, $2, $1 FROM moved)"
		" SELECT id FROM moved ORDER BY id";
	struct pg *p = be;
	struct pg_params prm = { 0 };
	PGresult *r;
	int n;

	*ids = NULL;
	if (store_pg_begin(p, "expire") == -1)
		return -1;
	store_pg_int(&prm, now_ms);
	store_pg_text(&prm, "ttl passed before sending");
	if ((r = store_pg_exec(p, sql, &prm, "expire")) == NULL) {
		store_pg_rollback(p);
		return -1;
	}
	n = PQntuples(r);
	if (n > 0 && (*ids = malloc((size_t)n * sizeof(**ids))) == NULL) {
		PQclear(r);
		store_pg_rollback(p);
		return -1;
	}
	for (int i = 0; i < n; i++)
		(*ids)[i] = store_pg_i64(r, i, 0);
	PQclear(r);
	if (store_pg_finish(p, "expire: commit") == -1) {
		free(*ids);
		*ids = NULL;
		return -1;
	}
	return n;
}

static int pg_pending_fetch(void *be, enum msg_lane lane, int64_t after_id, struct store_pending_row *rows,
			    size_t max)
{
	struct pg *p = be;
	struct pg_params prm = { 0 };
	PGresult *r;
	int n;

	store_pg_int(&prm, (int)lane);
	store_pg_int(&prm, after_id);
	store_pg_int(&prm, (int64_t)max);
	if ((r = store_pg_run(p, PG_PENDING, &prm, "load_pending")) == NULL)
		return -1;
	n = PQntuples(r);
	for (int i = 0; i < n && (size_t)i < max; i++) {
		rows[i].id = store_pg_i64(r, i, 0);
		rows[i].lane = lane;
		rows[i].expires_ms = store_pg_i64(r, i, 1);
	}
	PQclear(r);
	return (size_t)n < max ? n : (int)max;
}

int store_pg_row_to_msg(const PGresult *r, int row, struct store_msg *out)
{
	int64_t lane;

	out->id = store_pg_i64(r, row, 0);
	store_copy_field(out->to, sizeof(out->to), store_pg_str(r, row, 1));
	out->text = strdup(store_pg_str(r, row, 2));
	lane = store_pg_i64(r, row, 3);
	if (out->text == NULL || lane < 0 || lane >= LANE_COUNT ||
	    message_state_parse(store_pg_str(r, row, 4), &out->state) == -1) {
		log_warnx("store: message %lld: %s", (long long)out->id,
			  out->text == NULL ? "out of memory" : "bad lane or state in database");
		store_msg_clear(out);
		return -1;
	}
	out->lane = (enum msg_lane)lane;
	out->nparts = (int)store_pg_i64(r, row, 5);
	out->parts_sent = (int)store_pg_i64(r, row, 6);
	out->attempts = (int)store_pg_i64(r, row, 7);
	store_copy_field(out->route, sizeof(out->route), store_pg_str(r, row, 8));
	store_copy_field(out->last_error, sizeof(out->last_error), store_pg_str(r, row, 9));
	out->created_ms = store_pg_i64(r, row, 10);
	out->updated_ms = store_pg_i64(r, row, 11);
	out->sent_ms = store_pg_i64(r, row, 12);
	out->expires_ms = store_pg_i64(r, row, 13);
	store_copy_field(out->reference, sizeof(out->reference), store_pg_str(r, row, 14));
	out->languages = (unsigned)store_pg_i64(r, row, 15);
	out->delivery_report = store_pg_i64(r, row, 16) != 0;
	out->allow_carrier = store_pg_i64(r, row, 17) != 0;
	store_copy_field(out->callback_url, sizeof(out->callback_url), store_pg_str(r, row, 18));
	out->purged = store_pg_i64(r, row, 19) != 0;
	return 0;
}

static int pg_get(void *be, int64_t id, struct store_msg *out)
{
	struct pg *p = be;
	struct pg_params prm = { 0 };
	PGresult *r;
	int rc;

	store_pg_int(&prm, id);
	if ((r = store_pg_run(p, PG_GET, &prm, "get")) == NULL)
		return -1;
	rc = PQntuples(r) == 0 ? 1 : store_pg_row_to_msg(r, 0, out);
	PQclear(r);
	return rc;
}

static int pg_transition(void *be, int64_t id, enum msg_state from, enum msg_state to, const char *route,
			 const char *error, int64_t now_ms)
{
	struct pg *p = be;
	struct pg_params up = { 0 }, ev = { 0 };
	PGresult *r;
	int changed;

	if (store_pg_begin(p, "transition") == -1)
		return -1;
	store_pg_int(&up, id);
	store_pg_text(&up, message_state_name(to));
	store_pg_int(&up, now_ms);
	store_pg_text(&up, route);
	store_pg_text(&up, error);
	store_pg_text(&up, message_state_name(from));
	store_pg_text(&up, p->node);
	store_pg_int(&up, p->lease_ms);
	if ((r = store_pg_run(p, PG_TRANSITION, &up, "transition")) == NULL)
		goto fail;
	changed = store_pg_changes(r);
	PQclear(r);
	if (changed == 0) {
		store_pg_rollback(p);
		return 1;
	}
	store_pg_int(&ev, id);
	store_pg_text(&ev, message_state_name(from));
	store_pg_text(&ev, message_state_name(to));
	store_pg_text(&ev, route);
	store_pg_text(&ev, error);
	store_pg_int(&ev, now_ms);
	if ((r = store_pg_run(p, PG_EVENT, &ev, "transition: event")) == NULL)
		goto fail;
	PQclear(r);
	return store_pg_finish(p, "transition: commit");
fail:
	store_pg_rollback(p);
	return -1;
}

static int pg_record_part(void *be, int64_t id, int seq, int mr, const char *route, int64_t now_ms)
{
	struct pg *p = be;
	struct pg_params prm = { 0 }, up = { 0 }, cnt = { 0 };
	enum msg_state state;
	PGresult *r;
	int nparts, attempt, ours;

	if (store_pg_begin(p, "record_part") == -1)
		return -1;
	store_pg_int(&prm, id);
	if ((r = store_pg_run(p, PG_PART_MSG, &prm, "record_part")) == NULL)
		goto fail;
	if (PQntuples(r) == 0) {
		PQclear(r);
		store_pg_rollback(p);
		return 1;
	}
	if (message_state_parse(store_pg_str(r, 0, 0), &state) == -1)
		state = MSG_STATE_COUNT;
	nparts = (int)store_pg_i64(r, 0, 1);
	attempt = (int)store_pg_i64(r, 0, 2);
	ours = strcmp(store_pg_str(r, 0, 3), p->node) == 0;
	PQclear(r);
	if ((state != MSG_SENDING || !ours) && state != MSG_UNCERTAIN) {
		store_pg_rollback(p);
		return 1;
	}
	if (seq < 1 || seq > nparts) {
		log_warnx("store: record_part: message %lld: part %d out of 1..%d", (long long)id, seq, nparts);
		store_pg_rollback(p);
		return -1;
	}
	store_pg_int(&up, id);
	store_pg_int(&up, seq);
	store_pg_int(&up, mr);
	store_pg_text(&up, route ? route : "");
	store_pg_int(&up, now_ms);
	store_pg_int(&up, attempt);
	if ((r = store_pg_run(p, PG_PART_UPSERT, &up, "record_part")) == NULL)
		goto fail;
	PQclear(r);
	store_pg_int(&cnt, id);
	store_pg_int(&cnt, attempt);
	store_pg_int(&cnt, now_ms);
	if ((r = store_pg_run(p, PG_PART_COUNT, &cnt, "record_part: count")) == NULL)
		goto fail;
	PQclear(r);
	return store_pg_finish(p, "record_part: commit");
fail:
	store_pg_rollback(p);
	return -1;
}

/* vacuum and backup are NULL on purpose: autovacuum, and PostgreSQL's own backup tools. */
const struct store_backend store_backend_pg = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.enqueue = pg_enqueue,
	.recover = pg_recover,
	.pending_fetch = pg_pending_fetch,
	.get = pg_get,
	.transition = pg_transition,
	.record_part = pg_record_part,
	.counts = store_pg_counts,
	.timeline = store_pg_timeline,
	.idem_get = store_pg_idem_get,
	.idem_purge = store_pg_idem_purge,
	.list = store_pg_list,
	.expire = pg_expire,
	.batch = pg_batch,
	.route_usage = store_pg_route_usage,
	.route_recipients = store_pg_route_recipients,
	.carrier_id_add = store_pg_carrier_id_add,
	.carrier_id_find = store_pg_carrier_id_find,
	.audit_add = store_pg_audit_add,
	.audit_list = store_pg_audit_list,
	.optout_add = store_pg_optout_add,
	.optout_remove = store_pg_optout_remove,
	.optout_check = store_pg_optout_check,
	.optout_list = store_pg_optout_list,
	.key_add = store_pg_key_add,
	.key_list = store_pg_key_list,
	.key_revoke = store_pg_key_revoke,
	.webhook_add = store_pg_webhook_add,
	.webhook_due = store_pg_webhook_due,
	.webhook_result = store_pg_webhook_result,
	.webhook_replay = store_pg_webhook_replay,
	.webhook_list = store_pg_webhook_list,
	.webhook_backlog = store_pg_webhook_backlog,
	.inbound_add = store_pg_inbound_add,
	.inbound_flush = store_pg_inbound_flush,
	.inbound_list = store_pg_inbound_list,
	.parts = store_pg_parts,
	.part_status = store_pg_part_status,
	.purge = store_pg_purge,
	.outcomes = store_pg_outcomes,
	.oldest_queued = store_pg_oldest_queued,
	.node_begin = store_pg_node_begin,
	.node_tick = store_pg_node_tick,
	.nodes = store_pg_nodes,
	.versions = store_pg_versions,
	.wake_fd = store_pg_wake_fd,
	.wake_read = store_pg_wake_read,
};
