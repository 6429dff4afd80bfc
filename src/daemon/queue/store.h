/* store: the durable message queue interface; backends (sqlite, mem) behind a table of hooks. */
#ifndef SIMROUTED_STORE_H
#define SIMROUTED_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queue/message.h"

struct store;

#define STORE_TO_MAX 32
#define STORE_ROUTE_MAX 64
#define STORE_ERROR_MAX 160
#define STORE_REFERENCE_MAX 129    /* client's own id: 128 bytes and the NUL */
#define STORE_URL_MAX 513          /* callback URL: 512 bytes and the NUL */
#define STORE_IDEM_KEY_MAX 129     /* Idempotency-Key: 128 printable characters and the NUL */
#define STORE_IDEM_OWNER_MAX 65    /* API key name ([api_key:<name>]) or "unix" */

/* A message as the API hands it in. */
struct store_new_msg {
	const char *to;           /* E.164, validated */
	const char *text;         /* UTF-8, validated */
	enum msg_lane lane;
	int nparts;               /* counted by the codec at accept time */
	int64_t created_ms;       /* wall clock, ms since the epoch */
	int64_t expires_ms;       /* 0: never */
	const char *reference;    /* client's own id, NULL or "" for none (< STORE_REFERENCE_MAX) */
	unsigned languages;       /* national shift tables allowed (mask of 1u << enum pdu_lang) */
	bool delivery_report;     /* ask the network for a status report (TP-SRR) */
	bool allow_carrier;       /* may go to a cloud carrier when no modem route can take it */
	const char *callback_url; /* webhook for this message, NULL or "" for none (< STORE_URL_MAX) */
};

/* A message as the store holds it. text is owned by the struct: free with store_msg_clear(). */
struct store_msg {
	int64_t id;
	char to[STORE_TO_MAX];
	char *text;
	enum msg_lane lane;
	enum msg_state state;
	int nparts;
	int parts_sent;           /* parts handed to a modem this attempt (mr -1 until +CMGS answers) */
	int attempts;
	char route[STORE_ROUTE_MAX];       /* last route tried, "" if none */
	char last_error[STORE_ERROR_MAX];  /* "" if none */
	int64_t created_ms, updated_ms, sent_ms, expires_ms;  /* sent_ms 0 until sent */
	char reference[STORE_REFERENCE_MAX];  /* "" if none */
	unsigned languages;
	bool delivery_report, allow_carrier;
	char callback_url[STORE_URL_MAX];     /* "" if none */
	bool purged;              /* its text was erased by body retention (text is then "") */
};
void store_msg_clear(struct store_msg *m);

struct store_counts {
	int64_t by_state[MSG_STATE_COUNT];
	int64_t queued_by_lane[LANE_COUNT];
};

/* Open (creating or migrating) a store. backend: "sqlite" (path = database file) or "mem" (path ignored).
 * Returns NULL and fills err on failure. */
struct store *store_open(const char *backend, const char *path, char *err, size_t errlen);
void store_close(struct store *st);

/* Insert n messages in one transaction, durable (fsync'd) when this returns 0. ids[i] receives each id. */
int store_enqueue(struct store *st, const struct store_new_msg *msgs, size_t n, int64_t *ids);

/*
 * Idempotency records (the API's Idempotency-Key): which request, by hash, created which messages.
 * Written in the same transaction as the messages, so a crash can never leave messages without
 * their key (a retry would duplicate them) or a key without its messages.
 */
struct store_idem {
	const char *owner;        /* API key name or "unix": keys are scoped per client */
	const char *key;
	unsigned char request_hash[32];  /* SHA-256 of the request body */
	int status;               /* HTTP status of the original answer (202) */
	int64_t first_id;         /* the request's messages are first_id .. first_id + count - 1 */
	int count;
	int64_t created_ms;
	/* on write, a shared store (several nodes) keeps a record of another request created at or after
	 * this — a key still live there — instead of replacing it (see store_idem_new.taken); 0: replace */
	int64_t live_after_ms;
};
/* In a store_enqueue_idem batch: the record for msgs[first .. first + count - 1]. first_id is
 * filled by the store (ids of one transaction are consecutive: one writer, AUTOINCREMENT). */
struct store_idem_new {
	struct store_idem rec;
	size_t first;
	/* out, shared store only: another node holds the key live (both were accepted in the same few
	 * milliseconds); this request's messages were not stored (their ids are 0) */
	bool taken;
};

/* store_enqueue plus idempotency records, all in one transaction. An (owner, key) already stored
 * is replaced: the API re-uses a key only once its record has expired (and it refuses a key that is
 * live or in flight before submitting), and an expired record awaiting its purge must not fail the
 * whole group commit. */
int store_enqueue_idem(struct store *st, const struct store_new_msg *msgs, size_t n, int64_t *ids,
		       struct store_idem_new *idem, size_t nidem);
/* Look (owner, key) up: 0 found (out filled; out->owner/key point at the arguments), 1 not found,
 * -1 error. Records created before not_before_ms count as not found (expired, awaiting purge). */
int store_idem_get(struct store *st, const char *owner, const char *key, int64_t not_before_ms,
		   struct store_idem *out);
/* Delete records created before before_ms; returns how many, or -1. */
int store_idem_purge(struct store *st, int64_t before_ms);

/* Newest first listing for GET /v1/messages. */
struct store_filter {
	int state;                /* enum msg_state, or -1 for any */
	int64_t since_ms;         /* created_ms >= since_ms; 0 for any */
	const char *to;           /* exact destination, NULL for any */
	const char *to_suffix;    /* digits the destination ends with, NULL for any (a scan, newest first) */
	int64_t before_id;        /* id < before_id (the paging cursor); 0 for no bound */
	int64_t min_id;           /* id >= min_id: bounds a scan (to_suffix); 0 for no bound */
	size_t limit;             /* at most this many rows (> 0) */
};
/* The message is valid only during the callback; a non-zero return stops the walk. */
typedef int store_msg_cb(void *arg, const struct store_msg *m);
/* Calls cb for matching messages in descending id order. Returns the count visited or -1. */
int store_list(struct store *st, const struct store_filter *f, store_msg_cb *cb, void *arg);

/* Start-up recovery: `sending` rows become `queued` if no part reached a modem, else `uncertain`.
 * Returns how many rows were changed, or -1. */
int store_recover(struct store *st, int64_t now_ms);

/* Calls cb for every queued message in (lane, id) order, with id > after_id for lane paging.
 * Stops early when cb returns non-zero. Returns the count visited or -1.
 * Only messages of `lane` are visited (cb's lane argument is always that lane), oldest id first;
 * to page, pass the id of the last row seen as after_id. limit 0 means no limit. A callback may
 * call back into the store (e.g. to expire the message): rows are fetched in chunks before cb runs. */
typedef int store_pending_cb(void *arg, int64_t id, enum msg_lane lane, int64_t expires_ms);
int store_load_pending(struct store *st, enum msg_lane lane, int64_t after_id, size_t limit,
		       store_pending_cb *cb, void *arg);

/* 0 found, 1 not found, -1 error. */
int store_get(struct store *st, int64_t id, struct store_msg *out);

/* Move a message from -> to (checked against message_transition_ok and the stored state, which
 * must equal `from`). route/error may be NULL (keep). Entering `sending` counts an attempt,
 * entering `sent` sets sent_ms (so does delivered/undelivered straight from uncertain, if unset);
 * entering `queued` resets parts_sent (the next attempt sends every part again). Each change is
 * appended to the message's timeline in the same transaction. Returns 0, 1 if the stored state
 * was not `from` (or no such id), -1 on error or an illegal move. */
int store_transition(struct store *st, int64_t id, enum msg_state from, enum msg_state to,
		     const char *route, const char *error, int64_t now_ms);

/* A part reached the network: record its message reference and route.
 * seq is the part number 1..nparts (as in the concatenation UDH, TS 23.040 9.2.3.24.1).
 * Idempotent per attempt: parts_sent counts the distinct parts recorded during the current attempt
 * (entering `sending` starts one). The message must be `sending` or `uncertain` (a late +CMGS).
 * Returns 0, 1 if the message does not exist or is in another state, -1 on error (or bad seq). */
int store_record_part(struct store *st, int64_t id, int seq, int mr, const char *route, int64_t now_ms);

int store_counts(struct store *st, struct store_counts *out);

/* Group the writes that follow (transitions, parts) into one transaction: each still succeeds or
 * fails on its own, but one commit (one fsync) makes them all durable. store_batch_end returns -1
 * when that commit failed: then none of them happened, whatever they returned. No nesting.
 * durable false: the commit is not fsync'd (sqlite WAL synchronous=NORMAL: consistent, ordered, but
 * lost on power failure) — only for writes whose loss recovery already handles safely, such as
 * `sending -> sent` after the handed part was stored durably (it then comes back `uncertain`). */
int store_batch_begin(struct store *st, bool durable);
int store_batch_end(struct store *st);

/* Queued messages whose expires_ms has passed become `expired` (with a timeline row), in one
 * transaction. Returns how many, or -1. */
int store_expire(struct store *st, int64_t now_ms);

/* Segments each route got onto the network (parts with a message reference) since since_ms:
 * quota counters are rebuilt from this at start-up, so they survive restarts without a write per
 * send. cb(route, segments) once per route; returns the number of routes or -1. */
typedef int store_usage_cb(void *arg, const char *route, int64_t segments);
int store_route_usage(struct store *st, int64_t since_ms, store_usage_cb *cb, void *arg);

/* The distinct destinations each route got a part onto the network for (parts with a message
 * reference) since since_ms, with the latest such part's time: distinct-recipient quotas are rebuilt
 * from this at start-up and on reload. cb(route, number, last_ms) once per (route, number), in no
 * particular order; a non-zero return stops the walk. Returns the pairs visited or -1. */
typedef int store_recipient_cb(void *arg, const char *route, const char *number, int64_t last_ms);
int store_route_recipients(struct store *st, int64_t since_ms, store_recipient_cb *cb, void *arg);

/* One recorded state change of a message, oldest first: its timeline (created_ms is the start).
 * route/error are NULL when the transition did not set them; valid only during the callback. */
struct store_event {
	int64_t at_ms;
	enum msg_state from, to;
	const char *route;
	const char *error;
};
typedef int store_event_cb(void *arg, const struct store_event *ev);
/* Calls cb for each event of message id in order; stops early when cb returns non-zero.
 * Returns the count visited (0 for an unknown id) or -1. */
int store_timeline(struct store *st, int64_t id, store_event_cb *cb, void *arg);

/*
 * Inbound SMS (DESIGN "Inbound"): each part read from a SIM is stored on its own, in one transaction
 * with the message it completes; a concatenated set (same route, originator, reference and total)
 * becomes one message when its last part is in, or, incomplete, when store_inbound_flush finds it
 * waited too long. The modem deletes a part from the SIM only after store_inbound_add returned.
 */
#define STORE_FROM_MAX 48
struct store_inbound_part {
	const char *route;        /* the modem that received it */
	const char *from;         /* originator: "+<digits>", national digits or an alphanumeric name */
	const char *text;         /* UTF-8 text of this part */
	const char *encoding;     /* "gsm7" | "8bit" | "ucs2" */
	const char *scts;         /* SMSC time stamp, ISO 8601 ("" if none) */
	unsigned ref, total, seq; /* TS 23.040 9.2.3.24.1; total 1 (ref 0, seq 1) for a single SMS */
	int64_t received_ms;
};
struct store_inbound {
	int64_t id;
	char from[STORE_FROM_MAX];
	char *text;               /* owned: store_inbound_clear() */
	int parts;                /* distinct parts received */
	bool complete;            /* false: flushed by the reassembly timeout with parts missing */
	char route[STORE_ROUTE_MAX];
	int64_t received_ms;      /* when its last part was stored */
	bool purged;              /* its text was erased by body retention (text is then "") */
};
void store_inbound_clear(struct store_inbound *m);
/* Store a part; if it completes its set (a single SMS always does), the message too, in the same
 * transaction. 0 stored (*inbound_id: the completed message, or 0 while the set waits), 1 duplicate
 * (the same part from the same route is already stored, e.g. read again after a crash before its
 * deletion: nothing changes), -1 error. */
int store_inbound_add(struct store *st, const struct store_inbound_part *p, int64_t *inbound_id);
/* Sets whose first part was stored before before_ms become messages as they are (complete false),
 * each reported to the inbound hook (at now_ms) like a complete one. Returns how many, or -1. */
int store_inbound_flush(struct store *st, int64_t before_ms, int64_t now_ms);
struct store_inbound_filter {
	int64_t since_ms;         /* received_ms >= since_ms; 0 for any */
	int64_t before_id;        /* id < before_id (the paging cursor); 0 for no bound */
	size_t limit;             /* > 0 */
};
/* Valid only during the callback; non-zero stops the walk. Newest (highest id) first. */
typedef int store_inbound_cb(void *arg, const struct store_inbound *m);
int store_inbound_list(struct store *st, const struct store_inbound_filter *f, store_inbound_cb *cb, void *arg);

/* Pieces of one set, for the backends: joined in seq order, a repeated seq counted once. */
struct store_inbound_piece {
	unsigned seq;
	const char *text;
};
/* Sorts pieces by seq; returns the malloc'd text (NULL: out of memory) and the distinct part count. */
char *store_inbound_join(struct store_inbound_piece *pieces, size_t n, int *parts);

/*
 * Delivery reports (TS 23.040 9.2.2.3): a part is found by the route that sent it and its TP-MR.
 * TP-MR is 8 bits and wraps every 256 parts per SIM, so only parts sent at or after since_ms count,
 * the newest first.
 */
struct store_part {
	int seq, mr;
	char route[STORE_ROUTE_MAX];
	int64_t sent_ms;
	int status;               /* TP-ST of its latest status report, -1 none yet */
	int64_t status_ms;
};
typedef int store_part_cb(void *arg, const struct store_part *p);
/* The parts of message id recorded so far (latest attempt), in seq order. Count, or -1. */
int store_parts(struct store *st, int64_t id, store_part_cb *cb, void *arg);
/* Record a status report: 0 (*id, *seq: the part), 1 no part matches, -1 error. */
int store_part_status(struct store *st, const char *route, int mr, int64_t since_ms, int status, int64_t now_ms,
		      int64_t *id, int *seq);

/*
 * Webhook outbox (tracker issue 8): one row per event to POST, written right after the state change
 * it reports (in the same batch when there is one). A row is pending (delivered_ms 0, next_ms > 0),
 * delivered (delivered_ms > 0) or given up (delivered_ms 0, next_ms 0; last_error says why).
 * Per message, only the oldest pending row is ever due, so a message's events arrive in order.
 */
#define STORE_EVENT_MAX 32
struct store_webhook_new {
	const char *url;          /* < STORE_URL_MAX */
	const char *event;        /* "message.sent", ... (< STORE_EVENT_MAX) */
	const char *body;         /* the JSON to POST */
	int64_t message_id;       /* the message it reports, 0 for none (inbound): orders delivery */
	int64_t created_ms;       /* also the first next_ms */
};
struct store_webhook {
	int64_t id, message_id;
	char url[STORE_URL_MAX];
	char event[STORE_EVENT_MAX];
	char *body;               /* owned by the row: store_webhook_clear() */
	int attempts;
	int64_t next_ms, created_ms, delivered_ms;
	char last_error[STORE_ERROR_MAX];
};
void store_webhook_clear(struct store_webhook *w);
/* 0 (*id set) or -1. */
int store_webhook_add(struct store *st, const struct store_webhook_new *w, int64_t *id);
/* Up to max pending rows with next_ms <= now_ms, each the oldest pending row of its message, oldest
 * due first. rows[i].body is malloc'd (store_webhook_clear each). Count or -1. */
int store_webhook_due(struct store *st, int64_t now_ms, struct store_webhook *rows, size_t max);
/* An attempt's outcome: attempts + 1, last_error = error (NULL keeps it); delivered_ms > 0 marks it
 * delivered, else next_ms is the next try (0: give up). 0, 1 no such row, -1 error. */
int store_webhook_result(struct store *st, int64_t id, int64_t delivered_ms, int64_t next_ms, const char *error);
/* Send again now: pending with next_ms = now_ms and attempts 0 (delivered or given up alike).
 * 0, 1 no such row, -1 error. */
int store_webhook_replay(struct store *st, int64_t id, int64_t now_ms);
struct store_webhook_filter {
	bool failed;              /* only given-up rows and pending rows that failed at least once */
	int64_t before_id;        /* paging cursor; 0 no bound */
	size_t limit;             /* > 0 */
};
/* Newest first; the row (body NULL) is valid only during the callback; non-zero stops. Count or -1. */
typedef int store_webhook_cb(void *arg, const struct store_webhook *w);
/* The outbox at a glance: rows pending (oldest_pending_ms: the creation of the oldest, 0 none) and
 * given up. 0 or -1. */
struct store_webhook_backlog {
	int64_t pending, given_up, oldest_pending_ms;
};
int store_webhook_backlog(struct store *st, struct store_webhook_backlog *out);
int store_webhook_list(struct store *st, const struct store_webhook_filter *f, store_webhook_cb *cb, void *arg);

/*
 * API keys created at run time (tracker issue 9), beside the config's [api_key:*]. Only the key's hash
 * is kept, in the config's format ("sha256:<64 hex>"), never the key. A revoked row stays: its name
 * remains taken and its id keeps saying "revoked" in listings.
 */
#define STORE_KEY_ID_MAX 24        /* "k_" + 8 hex, with room */
#define STORE_KEY_NAME_MAX 65      /* 64 characters [A-Za-z0-9_.-] and the NUL */
#define STORE_KEY_HASH_MAX 72      /* "sha256:" + 64 hex and the NUL */
#define STORE_KEY_SCOPES_MAX 32    /* "send,read,admin" */
#define STORE_KEY_BY_MAX 80        /* who created it: "unix", a config key's name, "key:<id>" */
struct store_api_key {
	char id[STORE_KEY_ID_MAX];
	char name[STORE_KEY_NAME_MAX];
	char hash[STORE_KEY_HASH_MAX];
	char scopes[STORE_KEY_SCOPES_MAX];
	int64_t created_ms;
	char created_by[STORE_KEY_BY_MAX];
	int64_t revoked_ms;        /* 0: live */
	bool mask_numbers;         /* every answer to this key masks phone numbers (schema 13) */
};
/* 0 stored (durably), 1 the id or the name is taken (revoked keys included), -1 error or bad fields. */
int store_key_add(struct store *st, const struct store_api_key *k);
/* Every key, live and revoked, oldest first; the row is valid only during the callback; non-zero
 * stops. Count or -1. */
typedef int store_key_cb(void *arg, const struct store_api_key *k);
int store_key_list(struct store *st, store_key_cb *cb, void *arg);
/* Mark a live key revoked at now_ms: 0, 1 no live key with that id, -1 error. */
int store_key_revoke(struct store *st, const char *id, int64_t now_ms);

/*
 * Carrier message ids (tracker issue 7): the id a cloud carrier gave a message it accepted, so the
 * carrier's delivery callback (POST /v1/carrier/<name>/status) finds the message. (carrier, carrier_id)
 * names one message; adding it again points it at the given message.
 */
#define STORE_CARRIER_ID_MAX 129
/* 0 or -1 (bad arguments: empty, or carrier_id of STORE_CARRIER_ID_MAX bytes or more). */
int store_carrier_id_add(struct store *st, const char *carrier, const char *carrier_id, int64_t id, int64_t now_ms);
/* 0 found (*id set), 1 not found, -1 error. */
int store_carrier_id_find(struct store *st, const char *carrier, const char *carrier_id, int64_t *id);

/* Called after a state change is written (store_transition, and store_expire per message), and after
 * an inbound message is complete (store_inbound_add): the webhook outbox writes its row here, so
 * every path that changes a state produces its event. Inside a batch the hook's writes join it. */
struct store_hooks {
	void (*message)(void *arg, struct store *st, int64_t id, enum msg_state to, int64_t now_ms);
	void (*inbound)(void *arg, struct store *st, int64_t inbound_id, int64_t now_ms);
};
void store_set_hooks(struct store *st, const struct store_hooks *hooks, void *arg);

/*
 * Retention (tracker issue 10). Only messages that are done — sent or final (message_state_final) —
 * are touched, never queued, sending or uncertain ones; a message's age is its last change.
 * body_before_ms > 0: texts of such messages changed before it, of inbound SMS received before it
 * (and their parts), and bodies of finished webhook rows created before it are erased; the rows stay
 * for statistics and read back with purged set. rows_before_ms > 0: such messages (with parts and
 * timeline and carrier ids), inbound SMS and delivered or given-up webhook rows older than it are
 * deleted.
 * At most max_rows rows change per call, in one transaction, so a caller bounds the time it takes;
 * returns how many changed (== max_rows: call again), or -1.
 */
int store_purge(struct store *st, int64_t body_before_ms, int64_t rows_before_ms, size_t max_rows);
/* Give up to pages free pages back to the file system (sqlite: PRAGMA incremental_vacuum), a small
 * step at a time after purges. Returns the free pages still in the file (0: nothing to do), or -1. */
int store_vacuum_step(struct store *st, int pages);

/*
 * Online backup (sqlite: the backup API on the daemon's own connection, so writes made meanwhile are
 * copied too): begin, step a bounded number of pages per loop turn, free. A backend that cannot
 * (mem) makes store_backup_begin return NULL with *unsupported set.
 */
struct store_backup;
struct store_backup *store_backup_begin(struct store *st, const char *path, bool *unsupported, char *err,
					size_t errlen);
/* 0 done (the copy is complete and synced), 1 more to do, -1 failed (err filled). */
int store_backup_step(struct store_backup *b, int pages, char *err, size_t errlen);
/* Pages copied and in total so far, for logs. */
void store_backup_progress(const struct store_backup *b, int *done, int *total);
void store_backup_free(struct store_backup *b);

/*
 * Audit log (tracker issue 10): who did what to the gateway, and when. Rows are only ever added
 * (ids never reused); the listing is newest first. Strings are bounded: longer ones are refused.
 */
#define STORE_ACTOR_MAX 80        /* "key:<name>", "uid:<n>", "unix", "signal", "inbound" ... */
#define STORE_ACTION_MAX 48       /* "modem.disable", "optout.add", "config.reload" ... */
#define STORE_TARGET_MAX 128      /* what it acted on: a modem name, a message id, a number */
#define STORE_DETAIL_MAX 1024     /* free text */
struct store_audit_new {
	int64_t at_ms;
	const char *actor, *action;   /* required, non-empty */
	const char *target, *detail;  /* NULL or "" for none */
};
/* A stored row; the strings are valid only during the callback ("" for none). */
struct store_audit {
	int64_t id, at_ms;
	const char *actor, *action, *target, *detail;
};
/* 0, or -1 (bad arguments or a store error). */
int store_audit_add(struct store *st, const struct store_audit_new *a);
struct store_audit_filter {
	int64_t since_ms;         /* at_ms >= since_ms; 0 for any */
	int64_t before_id;        /* paging cursor; 0 no bound */
	size_t limit;             /* > 0 */
};
typedef int store_audit_cb(void *arg, const struct store_audit *a);
/* Newest (highest id) first; non-zero from cb stops. Count visited, or -1. */
int store_audit_list(struct store *st, const struct store_audit_filter *f, store_audit_cb *cb, void *arg);

/*
 * Opt-out suppression list (tracker issues 8 and 9): E.164 numbers that asked not to be messaged.
 * The daemon keeps the set in memory for the accept path (queue/optout.c); the store is its truth.
 */
#define STORE_SOURCE_MAX 16       /* "inbound" | "api" | "cli" ... */
#define STORE_NOTE_MAX 257        /* note or the keyword that caused it: 256 bytes and the NUL */
struct store_optout {
	int64_t id;               /* listing order and paging cursor (ignored by add) */
	const char *number;       /* E.164 */
	const char *source;
	const char *note;         /* NULL or "" for none */
	int64_t created_ms;
};
/* Idempotent: 0 added, 1 already listed (the stored row is kept as it was), -1 error. */
int store_optout_add(struct store *st, const struct store_optout *o);
/* 0 removed, 1 not listed, -1 error. */
int store_optout_remove(struct store *st, const char *number);
/* 1 listed, 0 not, -1 error. */
int store_optout_check(struct store *st, const char *number);
struct store_optout_filter {
	int64_t since_ms;         /* created_ms >= since_ms; 0 for any */
	int64_t before_id;        /* paging cursor; 0 no bound */
	size_t limit;             /* > 0 */
};
/* Newest first; the row is valid only during the callback; non-zero stops. Count visited, or -1. */
typedef int store_optout_cb(void *arg, const struct store_optout *o);
int store_optout_list(struct store *st, const struct store_optout_filter *f, store_optout_cb *cb, void *arg);

/*
 * Send outcomes for the dashboard's statistics (GET /v1/stats): every change of a message into
 * `sent` or `failed`, read incrementally. Events have increasing ids in the order they are written,
 * so a caller passes the last id it saw and is given only what came after — each event is read once
 * however often the statistics are polled. The first call (after_id 0) is bounded by since_ms
 * instead: the backend walks back from the newest event and stops at the first one older than
 * since_ms (never a scan of the whole table), so an event written with a wall clock stepped back
 * may be missed — statistics, not accounting.
 */
struct store_outcome {
	int64_t at_ms;
	bool sent;                /* false: failed */
	const char *route;        /* the route of the attempt ("" if none: failed before any) */
	enum msg_lane lane;
	int64_t created_ms;       /* when the message was accepted */
};
typedef void store_outcome_cb(void *arg, const struct store_outcome *o);
/* Outcomes with event id > after_id and at_ms >= since_ms, in no promised order (valid only during
 * the callback). *last_id receives the newest event id in the store (after_id when there is none
 * newer): pass it as after_id next time. Returns the count, or -1. */
int store_outcomes(struct store *st, int64_t after_id, int64_t since_ms, store_outcome_cb *cb, void *arg,
		   int64_t *last_id);

/* When the oldest queued message of each lane was accepted (0: none queued): the metrics' queue age.
 * Served by the (state, lane, id) index: one seek per lane. 0 or -1. */
int store_oldest_queued(struct store *st, int64_t out_ms[LANE_COUNT]);

/* Writes that failed in the backend since the store was opened (enqueue, transition, batch commit):
 * a disk that is full or read-only shows here first (simroute_store_write_errors_total). */
int64_t store_write_errors(const struct store *st);

/* The backend's name ("sqlite" | "mem"), for logs. */
const char *store_backend_name(const struct store *st);

/*
 * Several nodes on one shared store (the postgresql backend; docs/scale-out.md). Each node claims a
 * message with the conditional `queued -> sending` and a lease (node id, expiry) written with it;
 * its moves out of `sending` apply only while it holds the lease. A backend that is not shared
 * (sqlite, mem) has none of these hooks: store_shared is false and the calls below do nothing.
 */
#define STORE_NODE_ID_MAX 64
bool store_shared(const struct store *st);
/* Who this node is (1..63 of [A-Za-z0-9_.-]) and how long its claims last without a renewal: call
 * once, right after store_open. 0, or -1 (bad id, store error). */
int store_node_begin(struct store *st, const char *node_id, int64_t lease_ms, int64_t now_ms);
/* Heartbeat: record this node alive with its modems (names, comma separated), renew its leases, and
 * take back the claims of nodes whose lease expired — `sending` with no part handed goes back to
 * `queued` (*requeued: malloc'd ids, freed by the caller, NULL when none), with a part handed to
 * `uncertain` (never resent blindly). Call at least three times per lease. Count requeued, or -1. */
int store_node_tick(struct store *st, int64_t now_ms, const char *modems, int64_t **requeued);
/* The nodes that ever ran on this store, for GET /v1/nodes; strings valid during the callback. */
struct store_node {
	const char *id;
	int64_t started_ms, last_heartbeat_ms;
	const char *modems;       /* names, comma separated */
	int64_t claimed;          /* messages in `sending` under its lease */
	int64_t lease_ms;         /* its lease: silent longer than this, its claims are taken back */
};
typedef int store_node_cb(void *arg, const struct store_node *n);
/* Count visited, or -1; 0 rows on a store that is not shared. */
int store_nodes(struct store *st, store_node_cb *cb, void *arg);
/* The versions of the lists each node keeps in memory — the opt-out numbers and the API keys —
 * bumped by every change of them on any node: a node reloads a list when its version moved.
 * 0, or -1; always 0 and 0 on a store that is not shared. */
int store_versions(struct store *st, int64_t *optout, int64_t *keys);
/* Wake-ups (LISTEN/NOTIFY on postgresql): a descriptor that turns readable when another node
 * enqueued messages or changed a list, or -1 (not shared, or not available: poll instead). After
 * store_node_begin. Once lost (store_wake_read -1), a later store_node_tick may open it again:
 * then this gives the new descriptor. */
int store_wake_fd(struct store *st);
enum { STORE_WAKE_QUEUE = 1, STORE_WAKE_LISTS = 2 };
/* What the wake-ups since the last call were about (STORE_WAKE_* bits, 0 none), without blocking;
 * -1 when the wake-up connection is lost (the caller stops watching and relies on its polls). */
int store_wake_read(struct store *st);

#endif
