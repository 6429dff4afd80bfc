/* store: the durable message queue interface; backends (sqlite, mem) behind a table of hooks. */
#ifndef SIMROUTED_STORE_H
#define SIMROUTED_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "queue/message.h"

struct store;

#define STORE_TO_MAX 32
#define STORE_ROUTE_MAX 64
#define STORE_ERROR_MAX 160

/* A message as the API hands it in. */
struct store_new_msg {
	const char *to;           /* E.164, validated */
	const char *text;         /* UTF-8, validated */
	enum msg_lane lane;
	int nparts;               /* counted by the codec at accept time */
	int64_t created_ms;       /* wall clock, ms since the epoch */
	int64_t expires_ms;       /* 0: never */
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

/* The backend's name ("sqlite" | "mem"), for logs. */
const char *store_backend_name(const struct store *st);

#endif
