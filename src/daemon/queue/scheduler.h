/* scheduler: turns queued messages and modem events into sends — lanes, retries, store transitions. */
#ifndef SIMROUTED_SCHEDULER_H
#define SIMROUTED_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modem/modem.h"
#include "queue/message.h"
#include "router/router.h"
#include "simroute/quota.h"
#include "simroute/recipients.h"

struct event_base;
struct store;
struct scheduler;

struct scheduler_config {
	int max_parts;        /* codec limit per message */
	int max_attempts;     /* sends tried before a message fails */
	int retry_base_ms;    /* first retry delay; doubles per attempt, capped at 60 s */
	int window;           /* ids kept in memory per lane; the rest stay in the store (0: 4096) */
	int cooldown_ms;      /* a SIM's first rest after a failing streak or a cool-down error (0: 60 s) */
	int breaker_threshold;/* consecutive failures that open a route's breaker (0: 3) */
	/* how long a message of each lane waits for a modem before the carrier takes it; 0 = never */
	int64_t carrier_after_ms[LANE_COUNT];
	int sweep_interval_ms;/* expiry sweep of the queue (0: 10 s) */
	int64_t reassembly_timeout_ms; /* inbound concatenated sets listed incomplete after this (0: never) */
	/* several nodes on one shared store (store_shared): heartbeat and lease sweep this often (a third
	 * of the lease); 0: a lone node. The queue is then also polled each second for the messages other
	 * nodes accept (docs/scale-out.md). */
	int64_t node_tick_ms;
};

struct scheduler *scheduler_new(struct event_base *base, struct store *st, const struct scheduler_config *cfg);
void scheduler_free(struct scheduler *s);          /* frees the modems it was given too */

/* The event table to create modems with (arg = the scheduler). */
const struct modem_events *scheduler_modem_events(void);
/* Hand a modem to the scheduler; it starts it in scheduler_start(). quota: its SIM's limits (NULL: none). */
int scheduler_add_modem(struct scheduler *s, struct modem *m, const struct quota_limits *quota);
/* SIGHUP reload (modem_set.c). Whether the modem's route has a message in flight (all its parts go out on
 * one SIM, so a modem leaves only between messages); drain (no new messages) without an admin action;
 * take the modem out and free it, or put `with` in its place (the route keeps its counters and
 * quota). Both -1 while a message is in flight or for an unknown modem. A modem added after
 * scheduler_start() is started at once. */
bool scheduler_modem_busy(const struct scheduler *s, const struct modem *m);
void scheduler_modem_set_drained(struct scheduler *s, struct modem *m, bool drained);
int scheduler_remove_modem(struct scheduler *s, struct modem *m);
int scheduler_replace_modem(struct scheduler *s, struct modem *m, struct modem *with);
/* A route's policy from [quota], [modem:X] and its prefixes: set at start-up and again on SIGHUP. */
struct scheduler_route_policy {
	struct quota_limits quota;
	struct recipients_limits recipients;
	char prefixes[ROUTER_PREFIXES_MAX][ROUTER_PREFIX_LEN];
	int nprefixes;
	bool restrict_prefixes;
};
/* Applies to the next choice; a send in flight goes on, counters stay (a recipient set is rebuilt
 * from the store when its limits change while running). -1: no modem of that name. */
int scheduler_route_policy(struct scheduler *s, const char *name, const struct scheduler_route_policy *p);
/* [router] weight_*: how routes are scored from the next choice on. */
void scheduler_set_weights(struct scheduler *s, const struct router_weights *w);

/* A route's figures for GET /v1/modems. */
struct scheduler_route_info {
	int64_t latency_ms;                            /* send latency EWMA; 0 not measured yet */
	int64_t recipients_used[RECIPIENTS_WINDOWS];   /* distinct numbers this day / month (0 when unlimited) */
	int64_t recipients_limit[RECIPIENTS_WINDOWS];  /* 0: no limit */
	const struct scheduler_route_policy *policy;
};
void scheduler_route_info(struct scheduler *s, size_t i, struct scheduler_route_info *out);

/* The cloud carrier used for failover (the scheduler frees it). Called again (SIGHUP) it replaces the
 * carrier (NULL: none any more): the old one takes no new message and is freed once its requests in
 * flight have finished, with the settings they started with. */
struct carrier;
void scheduler_set_carrier(struct scheduler *s, struct carrier *c, int max_inflight);

/* Recover interrupted sends, index the queue, start the modems. */
int scheduler_start(struct scheduler *s, int64_t now_ms);

/* Another node enqueued messages (a shared store's wake-up): page the lanes in from the store again. */
void scheduler_wake(struct scheduler *s);

/* A message was committed to the store (called by ingest after the commit). */
void scheduler_notify(struct scheduler *s, int64_t id, enum msg_lane lane);

/* A complete inbound SMS was stored: called inside the same durable batch (its writes commit with the
 * message, or the part stays on the SIM and comes again). from is the originator as stored. */
typedef void scheduler_inbound_cb(void *arg, int64_t inbound_id, const char *from, int64_t now_ms);
void scheduler_set_inbound_cb(struct scheduler *s, scheduler_inbound_cb *cb, void *arg);
/* Asked of each queued message when it reaches the head of its lane: true = its recipient asked not
 * to be messaged (opt-out) since it was accepted; it then fails with that reason instead of going. */
typedef bool scheduler_suppress_cb(void *arg, const char *to, enum msg_lane lane);
void scheduler_set_suppress_cb(struct scheduler *s, scheduler_suppress_cb *cb, void *arg);

/* Stop claiming new messages (shutdown); sends in flight (modems and carrier) go on. Returns how many. */
int scheduler_stop(struct scheduler *s);
int scheduler_inflight(const struct scheduler *s);

/* Why a message is where it is, in words, one line per call of `line` (for `simroute explain`). */
struct store_msg;
typedef void scheduler_line_cb(void *arg, const char *text);
void scheduler_explain(struct scheduler *s, const struct store_msg *m, scheduler_line_cb *line, void *arg);

/* Admin actions on a route by modem name: "enable", "disable", "drain", "reset".
 * 0 done, -1 unknown modem or action (err says which), -2 not possible now (err says why). */
int scheduler_modem_action(struct scheduler *s, const char *name, const char *action, char *err, size_t errlen);
bool scheduler_modem_drained(const struct scheduler *s, size_t i);

/* A route's health and quota use (scheduler_stats.c). Windows as in simroute/quota.h; a limit of 0
 * means unlimited. */
/* The kinds of failed send: the CMS class of the refusal (simroute/cms.h order), then "uncertain"
 * (cut after the PDU reached the modem: never resent). */
enum { SCHED_FAIL_KINDS = 5, SCHED_LATENCY_BUCKETS = 8 };
extern const char *const scheduler_fail_kind_names[SCHED_FAIL_KINDS];
extern const double scheduler_latency_bounds_s[SCHED_LATENCY_BUCKETS - 1];
struct scheduler_route_stats {
	int64_t quota_used[4], quota_limit[4];  /* segments per minute, hour, day, month */
	double failure_rate;      /* EWMA of failed attempts, 0..1 */
	const char *breaker;      /* "closed" | "open" | "half_open" */
	int64_t cooldown_until_ms;  /* breaker open: when a probe may go; else 0 */
	int64_t last_used_ms;     /* wall clock of its last send, 0 never */
	int64_t message_id;       /* the message it is sending, 0 idle */
	/* failed sends since start by what they meant (SCHED_FAIL_*), and the send latency histogram
	 * (AT+CMGS to +CMGS per part): counts in buckets <= scheduler_latency_bounds_s[b], the last +Inf */
	int64_t failed[SCHED_FAIL_KINDS];
	int64_t latency_buckets[SCHED_LATENCY_BUCKETS];
	double latency_sum_s;
	int64_t latency_count;
};
void scheduler_route_stats(struct scheduler *s, size_t i, struct scheduler_route_stats *out);

/* The cloud carrier's counters since start; false (out zeroed) when none is configured. */
struct scheduler_carrier_stats {
	const char *name;
	int64_t sent, failed;     /* accepted; refused or failed attempts */
	int inflight;
	const char *breaker;      /* "closed" | "open" | "half_open" */
};
bool scheduler_carrier_stats(struct scheduler *s, struct scheduler_carrier_stats *out);

size_t scheduler_nmodems(const struct scheduler *s);
struct modem *scheduler_modem(const struct scheduler *s, size_t i);

#endif
