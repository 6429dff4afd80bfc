/* store_backend: the hooks a storage backend implements (private to queue/; see store.c). */
#ifndef SIMROUTED_STORE_BACKEND_H
#define SIMROUTED_STORE_BACKEND_H

#include "queue/store.h"

/*
 * One const table per backend, chosen by name in store_open() (OpenSMTPD queue_backend.c style).
 * store.c validates arguments and legality before calling a hook, so a hook only does storage:
 * `be` is what open() returned. Return conventions are those of the matching store_* function.
 */
/* store_load_pending() fetches rows in chunks of this many through pending_fetch and only then
 * runs the callbacks, so a callback may re-enter the store; paging logic lives in store.c once. */
#define STORE_PENDING_CHUNK 256

struct store_pending_row {
	int64_t id;
	enum msg_lane lane;
	int64_t expires_ms;
};

struct store_backend {
	const char *name;
	void *(*open)(const char *path, char *err, size_t errlen);
	void (*close)(void *be);
	/* idem[i].rec.first_id is set by the hook from ids[idem[i].first] */
	int (*enqueue)(void *be, const struct store_new_msg *msgs, size_t n, int64_t *ids,
		       struct store_idem_new *idem, size_t nidem);
	int (*recover)(void *be, int64_t now_ms);
	/* Up to max queued rows of `lane` with id > after_id, in id order; count or -1. */
	int (*pending_fetch)(void *be, enum msg_lane lane, int64_t after_id,
			     struct store_pending_row *rows, size_t max);
	int (*get)(void *be, int64_t id, struct store_msg *out);
	int (*transition)(void *be, int64_t id, enum msg_state from, enum msg_state to,
			  const char *route, const char *error, int64_t now_ms);
	int (*record_part)(void *be, int64_t id, int seq, int mr, const char *route, int64_t now_ms);
	int (*counts)(void *be, struct store_counts *out);
	int (*timeline)(void *be, int64_t id, store_event_cb *cb, void *arg);
	int (*idem_get)(void *be, const char *owner, const char *key, int64_t not_before_ms,
			struct store_idem *out);
	int (*idem_purge)(void *be, int64_t before_ms);
	int (*list)(void *be, const struct store_filter *f, store_msg_cb *cb, void *arg);
	/* *ids: malloc'd array of the expired ids (NULL when none), freed by the caller */
	int (*expire)(void *be, int64_t now_ms, int64_t **ids);
	/* begin: 1 durable batch, 2 batch without fsync, 0 end. NULL: operations stand alone. */
	int (*batch)(void *be, int begin);
	int (*route_usage)(void *be, int64_t since_ms, store_usage_cb *cb, void *arg);
	int (*route_recipients)(void *be, int64_t since_ms, store_recipient_cb *cb, void *arg);
	/* inbound SMS and delivery reports (store_inbound.c checks the arguments) */
	int (*inbound_add)(void *be, const struct store_inbound_part *p, int64_t *inbound_id);
	/* *ids: malloc'd array of the messages it made (NULL when none), freed by the caller */
	int (*inbound_flush)(void *be, int64_t before_ms, int64_t **ids);
	int (*inbound_list)(void *be, const struct store_inbound_filter *f, store_inbound_cb *cb, void *arg);
	int (*parts)(void *be, int64_t id, store_part_cb *cb, void *arg);
	int (*part_status)(void *be, const char *route, int mr, int64_t since_ms, int status, int64_t now_ms,
			   int64_t *id, int *seq);
	/* webhook outbox */
	int (*webhook_add)(void *be, const struct store_webhook_new *w, int64_t *id);
	int (*webhook_due)(void *be, int64_t now_ms, struct store_webhook *rows, size_t max);
	int (*webhook_result)(void *be, int64_t id, int64_t delivered_ms, int64_t next_ms, const char *error);
	int (*webhook_replay)(void *be, int64_t id, int64_t now_ms);
	int (*webhook_list)(void *be, const struct store_webhook_filter *f, store_webhook_cb *cb, void *arg);
	int (*webhook_backlog)(void *be, struct store_webhook_backlog *out);
	/* audit log and opt-out list (store_admin.c checks the arguments) */
	int (*audit_add)(void *be, const struct store_audit_new *a);
	int (*audit_list)(void *be, const struct store_audit_filter *f, store_audit_cb *cb, void *arg);
	int (*optout_add)(void *be, const struct store_optout *o);
	int (*optout_remove)(void *be, const char *number);
	int (*optout_check)(void *be, const char *number);
	int (*optout_list)(void *be, const struct store_optout_filter *f, store_optout_cb *cb, void *arg);
	/* API keys created at run time (store.c checks the fields) */
	int (*key_add)(void *be, const struct store_api_key *k);
	int (*key_list)(void *be, store_key_cb *cb, void *arg);
	int (*key_revoke)(void *be, const char *id, int64_t now_ms);
	/* carrier message ids */
	int (*carrier_id_add)(void *be, const char *carrier, const char *carrier_id, int64_t id, int64_t now_ms);
	int (*carrier_id_find)(void *be, const char *carrier, const char *carrier_id, int64_t *id);
	/* retention and space (store_purge checks the arguments); vacuum NULL: nothing to give back */
	int (*purge)(void *be, int64_t body_before_ms, int64_t rows_before_ms, size_t max_rows);
	int (*vacuum)(void *be, int pages);
	/* online backup; NULL: not supported */
	void *(*backup_begin)(void *be, const char *path, char *err, size_t errlen);
	int (*backup_step)(void *bk, int pages, char *err, size_t errlen);
	void (*backup_progress)(const void *bk, int *done, int *total);
	void (*backup_free)(void *bk);
	/* statistics for the dashboard and /metrics (store.h) */
	int (*outcomes)(void *be, int64_t after_id, int64_t since_ms, store_outcome_cb *cb, void *arg,
			int64_t *last_id);
	int (*oldest_queued)(void *be, int64_t out_ms[LANE_COUNT]);
	/* several nodes on one store (store.h); all NULL: not shared */
	int (*node_begin)(void *be, const char *node_id, int64_t lease_ms, int64_t now_ms);
	int (*node_tick)(void *be, int64_t now_ms, const char *modems, int64_t **requeued);
	int (*nodes)(void *be, store_node_cb *cb, void *arg);
	int (*versions)(void *be, int64_t *optout, int64_t *keys);
	int (*wake_fd)(void *be);
	int (*wake_read)(void *be);
};

extern const struct store_backend store_backend_sqlite;
extern const struct store_backend store_backend_mem;
extern const struct store_backend store_backend_pg;

/* store.c answers a NULL hook with this (logged, -1): a backend may leave hooks it lacks NULL. */
int store_unsupported(const struct store_backend *be, const char *hook);


/* store_mem_webhook.c: the mem backend's outbox (a list owned through *wh, freed by _free). */
struct store_mem_wh;
void store_mem_wh_free(struct store_mem_wh *wh);
int store_mem_wh_add(struct store_mem_wh **wh, const struct store_webhook_new *w, int64_t *id);
int store_mem_wh_due(struct store_mem_wh **wh, int64_t now_ms, struct store_webhook *rows, size_t max);
int store_mem_wh_result(struct store_mem_wh **wh, int64_t id, int64_t delivered_ms, int64_t next_ms,
			const char *error);
int store_mem_wh_replay(struct store_mem_wh **wh, int64_t id, int64_t now_ms);
/* Retention of finished rows (store_purge semantics); rows changed, or -1. */
int store_mem_wh_purge(struct store_mem_wh **wh, int64_t body_before_ms, int64_t rows_before_ms, int max);
int store_mem_wh_list(struct store_mem_wh **wh, const struct store_webhook_filter *f, store_webhook_cb *cb,
		      void *arg);
int store_mem_wh_backlog(struct store_mem_wh **wh, struct store_webhook_backlog *out);

/* store_mem_admin.c: the mem backend's audit log and opt-out list (owned through *adm). */
struct store_mem_admin;
void store_mem_admin_free(struct store_mem_admin *adm);
int store_mem_audit_add(struct store_mem_admin **adm, const struct store_audit_new *a);
int store_mem_audit_list(struct store_mem_admin **adm, const struct store_audit_filter *f, store_audit_cb *cb,
			 void *arg);
int store_mem_optout_add(struct store_mem_admin **adm, const struct store_optout *o);
int store_mem_optout_remove(struct store_mem_admin **adm, const char *number);
int store_mem_optout_check(struct store_mem_admin **adm, const char *number);
int store_mem_optout_list(struct store_mem_admin **adm, const struct store_optout_filter *f, store_optout_cb *cb,
			  void *arg);

/* The backend table and data of a store, for dispatch files beside store.c (which owns struct store). */
const struct store_backend *store_be(struct store *st, void **data);
/* store_mem_keys.c: the mem backend's API keys (a list owned through *mk, freed by _free). */
struct store_mem_keys;
void store_mem_keys_free(struct store_mem_keys *mk);
int store_mem_keys_add(struct store_mem_keys **mk, const struct store_api_key *k);
int store_mem_keys_list(struct store_mem_keys **mk, store_key_cb *cb, void *arg);
int store_mem_keys_revoke(struct store_mem_keys **mk, const char *id, int64_t now_ms);

/* Whether retention may touch a message in state s: it is done (sent or final). */
bool store_retention_state(enum msg_state s);

/* Copy src into a fixed field, truncating; NULL gives "". */
void store_copy_field(char *dst, size_t dstlen, const char *src);

#endif
