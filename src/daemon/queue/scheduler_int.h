/* scheduler_int: what the scheduler's files share (private to queue/scheduler*.c). */
#ifndef SIMROUTED_SCHEDULER_INT_H
#define SIMROUTED_SCHEDULER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "queue/scheduler.h"
#include "queue/store.h"
#include "router/breaker.h"
#include "router/router.h"
#include "simroute/pdu.h"
#include "simroute/quota.h"
#include "simroute/recipients.h"

struct carrier;

/* A lane's in-memory window: the oldest queued ids, in order. The store holds the rest, so a million
 * queued messages do not live in memory; `complete` says the window holds every queued id of the lane.
 * An id of 0 is a hole left by a message taken out of the middle (by the carrier). */
struct lane_window {
	int64_t *ids;
	size_t head, len, cap;
	int complete;
	int64_t last_loaded;   /* highest id ever loaded from the store or notified */
};

/* A message waiting for a due time (retry back-off, quota window) — kept apart so it never holds
 * up the messages behind it in its lane. */
struct delayed {
	int64_t id, due_ms;
	enum msg_lane lane;
	bool for_route;        /* waits for a route that can take it (quota, its number), not a back-off */
	char why[96];          /* for `simroute explain` */
};

/* One route: a SIM in a modem, its health and quota, and the message it is working on. */
struct slot {
	struct scheduler *s;
	struct modem *m;
	int64_t last_used_ms;
	double fail_ewma;
	unsigned concat_ref;
	struct breaker breaker;
	struct scheduler_route_policy policy;   /* quota, recipient limits, prefixes */
	struct quota_counter used;
	struct recipients rcpt;    /* distinct numbers this day / month (only windows with a limit) */
	double latency_ewma;       /* ms from AT+CMGS to +CMGS; 0 not measured yet */
	int64_t failed[SCHED_FAIL_KINDS];              /* for /metrics (scheduler_stats.c) */
	int64_t latency_buckets[SCHED_LATENCY_BUCKETS];
	double latency_sum_s;
	int64_t latency_count;
	bool drained;              /* admin: no new messages (the modem stays up, e.g. for inbound) */
	/* in flight */
	int64_t msg_id;            /* 0: idle */
	char to[STORE_TO_MAX];     /* its destination: counted as a recipient once a part is out */
	enum msg_lane lane;
	struct pdu_submit *pdu;
	int next_part;             /* index of the next part to hand to the modem */
	int parts_sent;
	int awaiting;              /* a part is with the modem */
	int handed;                /* index of the part already stored as handed (mr -1), -1 none */
	int start;                 /* SLOT_START_*: its next part goes to the modem when the pass commits */
};

/* A slot waiting for the dispatch pass's commit before its modem may see the next part. */
enum { SLOT_START_NONE, SLOT_START_CLAIM, SLOT_START_NEXT };

/* A part the modem confirmed (+CMGS), written in the dispatch pass's transaction rather than in one of
 * its own: the next claims' commit carries it. final: the message's last part (-> `sent`). */
struct done_part {
	int64_t id, now_ms;
	int seq, mr, nparts;
	bool final;
	char route[STORE_ROUTE_MAX];
};

/* A state change the store could not take (disk full, I/O error): retried every tick, so what the
 * modem or carrier did is recorded once the store works again, and the message is not stranded. */
struct deferred_write {
	int64_t id;
	enum msg_state from, to;
	int requeue_lane;          /* >= 0: put the message back on that lane once written */
	char error[STORE_ERROR_MAX];
};

struct scheduler {
	struct event_base *base;
	struct store *st;
	struct scheduler_config cfg;
	struct lane_window lanes[LANE_COUNT];
	struct delayed *delayed;
	size_t ndelayed, delayed_cap;
	struct slot **slots;
	size_t nslots;
	struct event *kick_ev;     /* deferred dispatch: one pass per loop turn however many triggers */
	struct event *retry_ev;
	struct event *tick_ev;     /* housekeeping: deadlines, expiry sweep */
	int64_t last_sweep_ms;
	int64_t last_node_tick_ms;
	struct deferred_write *deferred;
	size_t ndeferred;
	int started;
	/* the cloud carrier, if configured */
	struct carrier *carrier;
	struct router_weights weights;
	struct breaker carrier_breaker;
	int carrier_max_inflight;
	int carrier_inflight;      /* all carriers', retired ones included */
	struct carrier **retired;  /* replaced by SIGHUP, with requests still in flight */
	size_t nretired;
	/* told of each complete inbound SMS (the opt-out keywords) */
	scheduler_inbound_cb *inbound_cb;
	void *inbound_arg;
	scheduler_suppress_cb *suppress_cb;
	void *suppress_arg;
	int64_t carrier_sent, carrier_failed;   /* accepted / refused or failed attempts since start */
	/* the dispatch pass's writes (scheduler_modem.c): one transaction per pass */
	bool pass_batch;           /* a durable batch is open: claims of this pass */
	struct done_part *done;    /* confirmed parts not yet written */
	size_t ndone, done_cap;
};

int64_t scheduler_now_ms(void);
void scheduler_kick(struct scheduler *s);
/* Hold a message back until due_ms (then it goes to the head of its lane). */
void scheduler_delay_until(struct scheduler *s, int64_t id, enum msg_lane lane, int64_t due_ms, const char *why);
/* The same for a message no free route can take now: a route that comes up (or a reload) releases it early. */
void scheduler_hold_for_route(struct scheduler *s, int64_t id, enum msg_lane lane, int64_t due_ms, const char *why);
void scheduler_release_held(struct scheduler *s);
/* Back-off for the attempt'th failure: retry_base doubled per attempt, capped at 60 s. */
int64_t scheduler_backoff_ms(const struct scheduler *s, int attempts);
/* Put a message straight back at the head of its lane (try another route now). */
void scheduler_requeue_front(struct scheduler *s, int64_t id, enum msg_lane lane);

/* store_transition, or (on a store error) the same change retried every tick until it is written.
 * requeue_lane >= 0 puts the message back on that lane after a move to `queued`. Returns 0 when
 * written now, 1 if the stored state was not `from` (nothing to do), 2 when deferred. */
int scheduler_transition(struct scheduler *s, int64_t id, enum msg_state from, enum msg_state to,
			 const char *error, int requeue_lane);

/* The SIM could take a message now (READY, idle, not drained, its breaker lets it); size, quota and
 * destination aside. */
bool scheduler_slot_free(struct slot *sl, int64_t now);
/* What the router sees of a route for msg (scheduler.c); *fits: quota for all its parts,
 * *rcpt_ok: its recipient quota lets this destination through, *prefix_ok: restrict_prefixes allows it. */
void scheduler_route_view(struct slot *sl, const struct store_msg *msg, int64_t now, struct router_route *out,
			  bool *fits, bool *rcpt_ok, bool *prefix_ok);

/* scheduler_modem.c: the modem side */
/* Claims join the pass's durable transaction (opened by the first); no part reaches a modem before
 * scheduler_pass_commit. */
void scheduler_claim_modem(struct scheduler *s, struct slot *sl, struct store_msg *msg);
/* Write the confirmed parts into the pass's transaction (a non-fsync'd one when there is no claim),
 * commit it, then hand the claimed and continuing slots their next part. Called at the end of every
 * dispatch pass and before anything else that must see the pass's writes stored (a carrier request,
 * a status report, shutdown). */
void scheduler_pass_commit(struct scheduler *s);
void scheduler_slot_reset(struct slot *sl);
/* scheduler_stats.c: one part's AT+CMGS -> +CMGS time into the route's histogram. */
void scheduler_stats_latency(struct slot *sl, int64_t ms);
void scheduler_restore_quota(struct scheduler *s, int64_t now_ms);
/* Recipient sets from the store (all routes, or only `only`), for the current day and month. */
void scheduler_restore_recipients(struct scheduler *s, struct slot *only, int64_t now_ms);

/* scheduler_carrier.c: the carrier side */
bool scheduler_carrier_ready(struct scheduler *s, int64_t now_ms);
/* Has msg waited long enough for a modem that the carrier should take it? */
bool scheduler_carrier_due(const struct scheduler *s, const struct store_msg *msg, int64_t now_ms);
void scheduler_claim_carrier(struct scheduler *s, struct store_msg *msg);
/* Frees retired carriers with nothing in flight (all: every one, cancelling). Never call it from a
 * carrier's callback: the carrier is still on the stack. */
void scheduler_carrier_reap(struct scheduler *s, bool all);

#endif
