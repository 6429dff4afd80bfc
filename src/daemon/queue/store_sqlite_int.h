/* store_sqlite_int: what the sqlite backend's files share (private to store_sqlite*.c). */
#ifndef SIMROUTED_STORE_SQLITE_INT_H
#define SIMROUTED_STORE_SQLITE_INT_H

#include <sqlite3.h>

#include "queue/store_backend.h"

#define MSG_COLUMNS \
	"id, \"to\", text, lane, state, nparts, parts_sent, attempts, route, last_error, " \
	"created_ms, updated_ms, sent_ms, expires_ms, reference, languages, delivery_report, " \
	"allow_carrier, callback_url, body_purged"

/* The hot paths, prepared once at open (SQLITE_PREPARE_PERSISTENT). */
enum sq_stmt {
	SQ_BEGIN,
	SQ_COMMIT,
	SQ_ROLLBACK,
	SQ_SAVEPOINT,
	SQ_RELEASE,
	SQ_ROLLBACK_TO,
	SQ_INSERT,
	SQ_GET,
	SQ_TRANSITION,
	SQ_EVENT,
	SQ_PENDING,
	SQ_PART_MSG,
	SQ_PART_UPSERT,
	SQ_PART_COUNT,
	SQ_IDEM_INSERT,
	SQ_IDEM_GET,
	SQ_COUNT
};

struct sq {
	sqlite3 *db;
	sqlite3_stmt *stmt[SQ_COUNT];
	int in_batch;        /* store_batch_begin(): each operation is a savepoint of one transaction */
	int batch_broken;    /* sqlite rolled the whole batch back after an error (disk full, I/O) */
	int batch_relaxed;   /* this batch commits with synchronous=NORMAL (no fsync) */
};

/* store_sqlite_schema.c: migration i (0-based) brings the schema from version i to i + 1. */
extern const char *const store_sq_migrations[];
extern const int store_sq_schema_version;

void store_sq_warn(struct sq *s, const char *what);
/* A text column, "" for NULL. */
const char *store_sq_col_text(sqlite3_stmt *st, int col);
/* A row of MSG_COLUMNS into out (text malloc'd); 0, or -1 (logged, out cleared). */
int store_sq_row_to_msg(sqlite3_stmt *st, struct store_msg *out);

/* The read side (store_sqlite_read.c): counts, timelines, listing, idempotency records. */
int store_sq_counts(void *be, struct store_counts *out);
int store_sq_timeline(void *be, int64_t id, store_event_cb *cb, void *arg);
int store_sq_idem_get(void *be, const char *owner, const char *key, int64_t not_before_ms, struct store_idem *out);
int store_sq_idem_purge(void *be, int64_t before_ms);
int store_sq_list(void *be, const struct store_filter *f, store_msg_cb *cb, void *arg);

/* Transactions for the files beside store_sqlite.c (savepoints inside a batch). */
int store_sq_begin(struct sq *s, const char *what);
int store_sq_finish(struct sq *s, const char *what);
void store_sq_rollback(struct sq *s);
/* One write statement (prepared, bound) in its own transaction; finalizes st (NULL: -1).
 * 0, 1 no row changed, -1. */
int store_sq_write1(struct sq *s, sqlite3_stmt *st, const char *what);

/* store_sqlite_inbound.c: inbound SMS and delivery reports. */
int store_sq_inbound_add(void *be, const struct store_inbound_part *p, int64_t *inbound_id);
int store_sq_inbound_flush(void *be, int64_t before_ms, int64_t **ids);
int store_sq_inbound_list(void *be, const struct store_inbound_filter *f, store_inbound_cb *cb, void *arg);
int store_sq_parts(void *be, int64_t id, store_part_cb *cb, void *arg);
int store_sq_part_status(void *be, const char *route, int mr, int64_t since_ms, int status, int64_t now_ms,
			 int64_t *id, int *seq);

/* store_sqlite_purge.c: retention, incremental vacuum, online backup. */
int store_sq_purge(void *be, int64_t body_before_ms, int64_t rows_before_ms, size_t max_rows);
int store_sq_vacuum(void *be, int pages);
/* At open, before the schema: new files get auto_vacuum=INCREMENTAL; a small old one is switched
 * with one VACUUM, a large one is left (logged) for the operator. 0 or -1 (err). */
int store_sq_auto_vacuum(sqlite3 *db, const char *path, int version, char *err, size_t errlen);
void *store_sq_backup_begin(void *be, const char *path, char *err, size_t errlen);
int store_sq_backup_step(void *bk, int pages, char *err, size_t errlen);
void store_sq_backup_progress(const void *bk, int *done, int *total);
void store_sq_backup_free(void *bk);
/* store_sqlite_stats.c: statistics for the dashboard and /metrics. */
int store_sq_outcomes(void *be, int64_t after_id, int64_t since_ms, store_outcome_cb *cb, void *arg,
		      int64_t *last_id);
int store_sq_oldest_queued(void *be, int64_t out_ms[LANE_COUNT]);

/* store_sqlite_webhook.c: the webhook outbox. */
int store_sq_webhook_add(void *be, const struct store_webhook_new *w, int64_t *id);
int store_sq_webhook_due(void *be, int64_t now_ms, struct store_webhook *rows, size_t max);
int store_sq_webhook_result(void *be, int64_t id, int64_t delivered_ms, int64_t next_ms, const char *error);
int store_sq_webhook_replay(void *be, int64_t id, int64_t now_ms);
int store_sq_webhook_list(void *be, const struct store_webhook_filter *f, store_webhook_cb *cb, void *arg);
int store_sq_webhook_backlog(void *be, struct store_webhook_backlog *out);

/* store_sqlite_admin.c: the audit log and the opt-out list. */
int store_sq_audit_add(void *be, const struct store_audit_new *a);
int store_sq_audit_list(void *be, const struct store_audit_filter *f, store_audit_cb *cb, void *arg);
int store_sq_optout_add(void *be, const struct store_optout *o);
int store_sq_optout_remove(void *be, const char *number);
int store_sq_optout_check(void *be, const char *number);
int store_sq_optout_list(void *be, const struct store_optout_filter *f, store_optout_cb *cb, void *arg);
/* store_sqlite_keys.c: API keys created at run time. */
int store_sq_key_add(void *be, const struct store_api_key *k);
int store_sq_key_list(void *be, store_key_cb *cb, void *arg);
int store_sq_key_revoke(void *be, const char *id, int64_t now_ms);
/* store_sqlite_carrier.c: carrier message ids. */
int store_sq_carrier_id_add(void *be, const char *carrier, const char *carrier_id, int64_t id, int64_t now_ms);
int store_sq_carrier_id_find(void *be, const char *carrier, const char *carrier_id, int64_t *id);

#endif
