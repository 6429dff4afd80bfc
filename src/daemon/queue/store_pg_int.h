/* store_pg_int: what the postgresql backend's files share (private to store_pg*.c). */
#ifndef SIMROUTED_STORE_PG_INT_H
#define SIMROUTED_STORE_PG_INT_H

#include <libpq-fe.h>

#include "queue/store_backend.h"

#define PG_MSG_COLUMNS \
	"id, \"to\", text, lane, state, nparts, parts_sent, attempts, route, last_error, " \
	"created_ms, updated_ms, sent_ms, expires_ms, reference, languages, delivery_report, " \
	"allow_carrier, callback_url, body_purged"

/* The hot paths, prepared once per connection at open (PQprepare, named "s<index>"). */
enum pg_stmt {
	PG_INSERT,
	PG_GET,
	PG_TRANSITION,
	PG_EVENT,
	PG_PENDING,
	PG_PART_MSG,
	PG_PART_UPSERT,
	PG_PART_COUNT,
	PG_IDEM_INSERT,
	PG_IDEM_GET,
	PG_STMT_COUNT
};

struct pg {
	PGconn *c;
	PGconn *wake;                   /* LISTEN connection of a shared node (store_pg_node.c), or NULL */
	int wake_warned;                /* its loss was logged: say when it is back */
	char dsn[1024];                 /* to open it */
	char node[STORE_NODE_ID_MAX];   /* this node's id ("" until store_node_begin: a lone node) */
	int64_t lease_ms;
	int in_batch;        /* store_batch_begin(): each operation is a savepoint of one transaction */
	int64_t reset_ms;    /* last attempt to re-establish a lost connection (monotonic) */
	int resetting;
	int reset_failed;    /* the last attempt failed: the next waits PG_RESET_MS */
	int batch_broken;    /* a savepoint could not be rolled back: the whole batch is lost */
};

/* Parameters of one statement, as text (libpq's text format: no byte-order or OID worries). */
#define PG_MAX_PARAMS 16
struct pg_params {
	int n;
	const char *v[PG_MAX_PARAMS];
	char buf[PG_MAX_PARAMS][24];
};
/* A connection for the dsn, named "simrouted" in pg_stat_activity unless the dsn says otherwise. */
PGconn *store_pg_connect(const char *dsn);
void store_pg_int(struct pg_params *p, int64_t v);
void store_pg_text(struct pg_params *p, const char *v);   /* NULL: SQL NULL */

/* store_pg_schema.c: migration i (0-based) brings the schema from version i to i + 1. */
extern const char *const store_pg_migrations[];
extern const int store_pg_schema_version;

void store_pg_warn(struct pg *p, const char *what, const PGresult *r);
/* Run sql (or the prepared statement stmt >= 0) with p; the result when it succeeded (command or
 * rows), else NULL (logged). The caller PQclear()s it. */
PGresult *store_pg_exec(struct pg *p, const char *sql, const struct pg_params *prm, const char *what);
PGresult *store_pg_run(struct pg *p, enum pg_stmt stmt, const struct pg_params *prm, const char *what);
/* A statement whose result is not needed: 0 or -1 (logged). */
int store_pg_do(struct pg *p, const char *sql, const struct pg_params *prm, const char *what);
int64_t store_pg_i64(const PGresult *r, int row, int col);
/* A text column, "" for NULL. */
const char *store_pg_str(const PGresult *r, int row, int col);
/* Rows changed by an INSERT/UPDATE/DELETE result. */
int store_pg_changes(const PGresult *r);
/* A row of PG_MSG_COLUMNS into out (text malloc'd); 0, or -1 (logged, out cleared). */
int store_pg_row_to_msg(const PGresult *r, int row, struct store_msg *out);

/* Transactions (savepoints inside a batch), as store_sqlite's: begin, commit-or-rollback, rollback. */
int store_pg_begin(struct pg *p, const char *what);
int store_pg_finish(struct pg *p, const char *what);
void store_pg_rollback(struct pg *p);

/* store_pg_read.c: counts, timelines, listing, idempotency records. */
int store_pg_counts(void *be, struct store_counts *out);
int store_pg_timeline(void *be, int64_t id, store_event_cb *cb, void *arg);
int store_pg_idem_get(void *be, const char *owner, const char *key, int64_t not_before_ms, struct store_idem *out);
int store_pg_idem_purge(void *be, int64_t before_ms);
int store_pg_list(void *be, const struct store_filter *f, store_msg_cb *cb, void *arg);

/* store_pg_route.c: per-route figures and carrier message ids. */
int store_pg_route_usage(void *be, int64_t since_ms, store_usage_cb *cb, void *arg);
int store_pg_route_recipients(void *be, int64_t since_ms, store_recipient_cb *cb, void *arg);
int store_pg_carrier_id_add(void *be, const char *carrier, const char *carrier_id, int64_t id, int64_t now_ms);
int store_pg_carrier_id_find(void *be, const char *carrier, const char *carrier_id, int64_t *id);
/* store_pg_admin.c: audit log, opt-out list, API keys. */
int store_pg_audit_add(void *be, const struct store_audit_new *a);
int store_pg_audit_list(void *be, const struct store_audit_filter *f, store_audit_cb *cb, void *arg);
int store_pg_optout_add(void *be, const struct store_optout *o);
int store_pg_optout_remove(void *be, const char *number);
int store_pg_optout_check(void *be, const char *number);
int store_pg_optout_list(void *be, const struct store_optout_filter *f, store_optout_cb *cb, void *arg);
int store_pg_key_add(void *be, const struct store_api_key *k);
int store_pg_key_list(void *be, store_key_cb *cb, void *arg);
int store_pg_key_revoke(void *be, const char *id, int64_t now_ms);
int store_pg_versions(void *be, int64_t *optout, int64_t *keys);
/* store_pg_webhook.c: the webhook outbox. */
int store_pg_webhook_add(void *be, const struct store_webhook_new *w, int64_t *id);
int store_pg_webhook_due(void *be, int64_t now_ms, struct store_webhook *rows, size_t max);
int store_pg_webhook_result(void *be, int64_t id, int64_t delivered_ms, int64_t next_ms, const char *error);
int store_pg_webhook_replay(void *be, int64_t id, int64_t now_ms);
int store_pg_webhook_list(void *be, const struct store_webhook_filter *f, store_webhook_cb *cb, void *arg);
int store_pg_webhook_backlog(void *be, struct store_webhook_backlog *out);
/* store_pg_inbound.c: inbound SMS and delivery reports. */
int store_pg_inbound_add(void *be, const struct store_inbound_part *p, int64_t *inbound_id);
int store_pg_inbound_flush(void *be, int64_t before_ms, int64_t **ids);
int store_pg_inbound_list(void *be, const struct store_inbound_filter *f, store_inbound_cb *cb, void *arg);
int store_pg_parts(void *be, int64_t id, store_part_cb *cb, void *arg);
int store_pg_part_status(void *be, const char *route, int mr, int64_t since_ms, int status, int64_t now_ms,
			 int64_t *id, int *seq);
/* store_pg_purge.c: retention. store_pg_stats.c: statistics. */
int store_pg_purge(void *be, int64_t body_before_ms, int64_t rows_before_ms, size_t max_rows);
int store_pg_outcomes(void *be, int64_t after_id, int64_t since_ms, store_outcome_cb *cb, void *arg,
		      int64_t *last_id);
int store_pg_oldest_queued(void *be, int64_t out_ms[LANE_COUNT]);
/* store_pg_node.c: several nodes on one queue. */
int store_pg_node_begin(void *be, const char *node_id, int64_t lease_ms, int64_t now_ms);
int store_pg_node_tick(void *be, int64_t now_ms, const char *modems, int64_t **requeued);
int store_pg_nodes(void *be, store_node_cb *cb, void *arg);
int store_pg_wake_fd(void *be);
int store_pg_wake_read(void *be);

#endif
