/* api_private: what the API's endpoint files share — the request context and reply helpers. */
#ifndef SIMROUTED_API_PRIVATE_H
#define SIMROUTED_API_PRIVATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "queue/message.h"

struct evhttp_request;
struct event;

/* An Idempotency-Key whose messages are submitted but not yet committed: a second request with it
 * must wait for the first (409), or both would be stored. */
struct api_flight {
	struct api_flight *next;
	char owner[65], key[129];
};

/* Token bucket of one API key (rate_limit per second, rate_burst deep). */
struct api_bucket {
	double tokens;
	int64_t last_us;          /* CLOCK_MONOTONIC */
};

/* A key created through POST /v1/keys, as the API keeps it (loaded from the store at start-up, kept
 * in step on create and revoke, so authentication never reads the store). Revoked ones stay listed. */
struct api_skey {
	char id[24];
	char name[65];
	unsigned char sha256[32];
	unsigned scopes;
	bool mask_numbers;        /* every answer to it is masked (api_redact.c) */
	int64_t created_ms, revoked_ms;   /* revoked_ms 0: live */
	char created_by[80];
	char owner[32];           /* "key:<id>": idempotency scope, apart from any config key's name */
	struct api_bucket bucket;
};

/* Connection accounting of one listener (api_conn.c). */
struct api_listener {
	struct api *api;
	const char *name;         /* "tcp" | "unix", for logs and metrics */
	int nconns;               /* open connections, counted from accept to close */
	long long refused;        /* since the last log line */
	long long refused_total;  /* since start, for /metrics */
	int64_t last_log_us;
};
struct api_conn_pending;

struct api {
	struct event_base *base;
	struct api_deps deps;
	struct evhttp *tcp, *unix_http;
	char socket_path[256];
	struct api_flight *flights;
	struct api_bucket *buckets;   /* one per cfg->api_keys[] */
	size_t nbuckets;
	struct api_skey *skeys;       /* store keys (api_keys.c) */
	size_t nskeys;
	struct event *housekeeping;
	struct api_listener tcp_l, unix_l;
	struct api_conn_pending *pending;  /* new connections evhttp has not finished wiring */
	size_t npending, pending_cap;
	struct event *adopt;              /* runs once they are wired */
	struct api_backup *backup;    /* the POST /v1/backup under way, or NULL (one at a time) */
	struct api_stats *stats;      /* GET /v1/stats (api_stats.c); NULL: out of memory, answers 503 */
};

struct api_req {
	struct api *api;
	struct evhttp_request *req;
	const char *path;         /* decoded path, without query */
	bool trusted;             /* came over the Unix socket */
	unsigned scopes;
	const char *owner;        /* the API key's name, or "unix": scopes idempotency keys */
	const char *actor;        /* who, for the audit log: "key:<name>", "uid:<n>" (the socket's peer) or "unix" */
	char actor_buf[80];
	bool redact;              /* numbers are masked in the answer: the key's mask_numbers, or
				   * ?view=dashboard without admin scope (a courtesy, not a permission) */
	bool masked;              /* the key has mask_numbers: a permission, so searches by a number's
				   * digits are refused too (they would reveal the masked ones) */
};

/* Records an admin action in the audit log (actor r->actor, now). target and fmt may be NULL. A store
 * error is logged, never answered: the action itself has already happened. */
void api_audit(struct api_req *r, const char *action, const char *target, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* api_conn.c: [api] max_connections per listener. init: 0 or -1 (out of memory); watch: count
 * the connections of http; free: after the listeners' evhttp_free. */
int api_conn_init(struct api *api);
void api_conn_watch(struct api_listener *l, struct api *api, struct evhttp *http, const char *name);
void api_conn_free(struct api *api);
/* The close callback that counts a connection out of listener arg: libevent keeps one close callback
 * per connection, so whoever sets another for a while (a backup) calls this one and puts it back. */
struct evhttp_connection;
void api_conn_closed(struct evhttp_connection *evcon, void *arg);

/* When r->redact: o[field] (a phone number) masked as the logs do ("+44770090****"), or every digit
 * of o[field] starred (an OTP's text). No-op otherwise, or when the field is not a string. */
void api_redact_number(const struct api_req *r, json_t *o, const char *field);
void api_redact_digits(const struct api_req *r, json_t *o, const char *field);
/* When r->redact: the numbers inside free text (an error from a carrier, an SMS body) masked —
 * every run of 7 or more digits loses its last 4 (phone_redact). */
void api_redact_text(const struct api_req *r, json_t *o, const char *field);
/* When r->redact: the query of a URL (callback tokens live there) cut to "?…". */
void api_redact_url(const struct api_req *r, json_t *o, const char *field);

/* Token bucket of a key (NULL: none): 0 if the request may go on, else the seconds to wait (for
 * Retry-After). Every route a key can use goes through it, /cgi-bin/sendsms included. */
int api_rate_limited(struct api *api, struct api_bucket *b);

/* Sends `body` (stolen: decref'd) with `status`. */
void api_reply(struct evhttp_request *req, int status, json_t *body);
/* A listing's page: {key: list, "next_cursor": last_id or null}. n is what the store returned for a
 * query of limit + 1 rows (more than limit: there is a next page); n < 0 answers 503. Steals list. */
void api_reply_page(struct evhttp_request *req, const char *key, json_t *list, int n, size_t limit, int64_t last_id);
/* Sends json (already a JSON document, ending in a newline) as is: the hot path of POST /v1/messages. */
void api_reply_raw(struct evhttp_request *req, int status, const char *json, size_t len);
/* {"error": {"code", "message", "field"}}; field may be NULL. */
void api_error(struct evhttp_request *req, int status, const char *code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* ISO 8601 UTC with milliseconds, or JSON null for 0. */
json_t *api_time(int64_t ms);
/* Wall clock, ms since the epoch. */
int64_t api_now_ms(void);
/* Whether s (len bytes) holds a control character other than \t \n \r (C0 or DEL): such text is
 * refused, it would reach handsets or logs as garbage. */
bool api_has_control(const char *s, size_t len);
/* The message as GET /v1/messages returns it (without its events). */
struct store_msg;
json_t *api_message_doc(const struct store_msg *m);

void api_messages_post(struct api_req *r);
void api_messages_get(struct api_req *r, const char *id);
void api_messages_list(struct api_req *r);
void api_messages_delete(struct api_req *r, const char *id);
void api_messages_explain(struct api_req *r, const char *id);
void api_modem_action(struct api_req *r, const char *name, const char *action);
void api_kannel_sendsms(struct api_req *r);
void api_status_get(struct api_req *r);
void api_modems_get(struct api_req *r);
void api_healthz(struct api_req *r);
void api_readyz(struct api_req *r);
void api_metrics(struct api_req *r);
void api_inbound_list(struct api_req *r);
void api_webhooks_list(struct api_req *r);
void api_webhooks_replay(struct api_req *r, const char *id);
void api_audit_list(struct api_req *r);
/* api_nodes.c: GET /v1/nodes, the nodes sharing the queue. */
void api_nodes_list(struct api_req *r);
void api_optout_list(struct api_req *r);
void api_optout_add(struct api_req *r);
void api_optout_delete(struct api_req *r, const char *number);
/* Refuses (422 opted_out, field "to" or "messages[i].to") the first of msgs whose destination is on
 * the opt-out list, unless it is an otp and [optout] otp_bypass is on. 0 all may be sent, -1 answered. */
struct store_new_msg;
int api_optout_refuse(struct api_req *r, const struct store_new_msg *msgs, size_t n, bool batch);
/* api_keys.c: keys created at run time. */
void api_keys_create(struct api_req *r);
void api_keys_list(struct api_req *r);
void api_keys_revoke(struct api_req *r, const char *id);
/* Loads the store's keys into api->skeys at start-up: 0, or -1 with err. */
int api_keys_load(struct api *api, char *err, size_t errlen);
/* Warns about each live store key that has a config key's name (after start-up and each reload). */
void api_keys_check_names(struct api *api);
/* The live store key whose SHA-256 is digest, or NULL. Every key is compared in constant time. */
struct api_skey *api_keys_match(struct api *api, const unsigned char digest[32]);
void api_carrier_status(struct api_req *r, const char *name);
/* A generic carrier's callback signature (X-Simroute-Timestamp, X-Simroute-Signature, the webhook
 * scheme with callback_secret), its timestamp within 300 s of now_s. 0 genuine, -1 not. */
int api_carrier_http_verify(const char *secret, const char *timestamp, const char *signature, const char *body,
			    size_t len, long long now_s);
void api_backup_post(struct api_req *r);
/* api_free: a backup under way is dropped (its temporary file removed), unanswered. */
void api_backup_abort(struct api *api);
void api_stats_get(struct api_req *r);
void api_ui_get(struct api_req *r);

/* api_stats.c: the per-minute ring behind GET /v1/stats. */
struct api_stats;
struct api_stats *api_stats_new(void);
/* store_counts() for /v1/status and /metrics, shared while fresh when counting is costly (a large store). */
struct store_counts;
int api_store_counts(struct api *api, struct store_counts *out);
/* How long a count that took cost_ms is reused (0: a cheap count is always made afresh). */
int64_t api_counts_ttl_ms(int64_t cost_ms);
void api_stats_free(struct api_stats *s);
/* The parts of a message as GET /v1/messages/<id> shows them (JSON null on a store error). */
struct store;
json_t *api_message_parts(struct store *st, int64_t id);
/* The paging parameters every listing takes (since, limit, cursor): 1 taken, 0 not one of them,
 * -1 invalid (a 400 was sent). */
int api_paging_param(struct api_req *r, const char *k, const char *val, int64_t limit_max, int64_t *since_ms,
		     size_t *limit, int64_t *before_id);
/* The query of a listing that takes only the paging parameters: 0, or -1 (a 400 was sent). */
int api_paging_query(struct api_req *r, int64_t limit_max, int64_t *since_ms, size_t *limit, int64_t *before_id);

/* Idempotency records older than this are forgotten (lookups ignore them; housekeeping purges). */
#define API_IDEM_KEEP_MS (24LL * 3600 * 1000)

#endif
