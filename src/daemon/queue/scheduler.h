/* scheduler: turns queued messages and modem events into sends — lanes, retries, store transitions. */
#ifndef SIMROUTED_SCHEDULER_H
#define SIMROUTED_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modem/modem.h"
#include "queue/message.h"

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
};

struct scheduler *scheduler_new(struct event_base *base, struct store *st, const struct scheduler_config *cfg);
void scheduler_free(struct scheduler *s);          /* frees the modems it was given too */

/* The event table to create modems with (arg = the scheduler). */
const struct modem_events *scheduler_modem_events(void);
/* Hand a modem to the scheduler; it starts it in scheduler_start(). quota: its SIM's limits (NULL: none). */
struct quota_limits;
int scheduler_add_modem(struct scheduler *s, struct modem *m, const struct quota_limits *quota);
/* The cloud carrier used for failover (the scheduler frees it). */
struct carrier;
void scheduler_set_carrier(struct scheduler *s, struct carrier *c, int max_inflight);

/* Recover interrupted sends, index the queue, start the modems. */
int scheduler_start(struct scheduler *s, int64_t now_ms);

/* A message was committed to the store (called by ingest after the commit). */
void scheduler_notify(struct scheduler *s, int64_t id, enum msg_lane lane);

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
struct scheduler_route_stats {
	int64_t quota_used[4], quota_limit[4];  /* segments per minute, hour, day, month */
	double failure_rate;      /* EWMA of failed attempts, 0..1 */
	const char *breaker;      /* "closed" | "open" | "half_open" */
	int64_t cooldown_until_ms;  /* breaker open: when a probe may go; else 0 */
	int64_t last_used_ms;     /* wall clock of its last send, 0 never */
	int64_t message_id;       /* the message it is sending, 0 idle */
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
