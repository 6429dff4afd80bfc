/* scheduler: lanes of queued messages and the dispatch loop that hands them to modems or the carrier. */
#include "queue/scheduler.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "carrier/carrier.h"
#include "queue/scheduler_int.h"
#include "router/router.h"
#include "simroute/log.h"

#define CARRIER_SCAN 64     /* queued ids looked at per lane for the carrier when no modem is free */

int64_t scheduler_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- lane windows ---- */

static int window_push(struct lane_window *w, int64_t id, int front)
{
	if (w->len == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 64;
		int64_t *n = malloc(ncap * sizeof(*n));
		if (!n)
			return -1;
		for (size_t i = 0; i < w->len; i++)
			n[i] = w->ids[(w->head + i) % w->cap];
		free(w->ids);
		w->ids = n;
		w->head = 0;
		w->cap = ncap;
	}
	if (front) {
		w->head = (w->head + w->cap - 1) % w->cap;
		w->ids[w->head] = id;
	} else {
		w->ids[(w->head + w->len) % w->cap] = id;
	}
	w->len++;
	return 0;
}

static int64_t *window_at(struct lane_window *w, size_t i) { return &w->ids[(w->head + i) % w->cap]; }

static int64_t window_pop(struct lane_window *w)
{
	int64_t id = w->ids[w->head];
	w->head = (w->head + 1) % w->cap;
	w->len--;
	return id;
}

/* Drops holes at the head so the head is a real id (or the window is empty). */
static void window_trim(struct lane_window *w)
{
	while (w->len && *window_at(w, 0) == 0)
		window_pop(w);
}

static int refill_cb(void *arg, int64_t id, enum msg_lane lane, int64_t expires_ms)
{
	struct lane_window *w = arg;
	(void)lane;
	(void)expires_ms;
	if (window_push(w, id, 0) < 0)
		return 1;
	w->last_loaded = id;
	return 0;
}

/* Page the next ids of a lane in from the store when the window runs low. */
static void window_refill(struct scheduler *s, enum msg_lane lane)
{
	struct lane_window *w = &s->lanes[lane];
	size_t want = (size_t)s->cfg.window;
	window_trim(w);
	if (w->complete || w->len >= want / 4)
		return;
	size_t room = want - w->len;
	int n = store_load_pending(s->st, lane, w->last_loaded, room, refill_cb, w);
	if (n >= 0 && (size_t)n < room)
		w->complete = 1;
}

/* ---- delays ---- */

void scheduler_kick(struct scheduler *s)
{
	if (s->started)
		event_active(s->kick_ev, 0, 0);
}

static void arm_retry_timer(struct scheduler *s)
{
	if (s->ndelayed == 0)
		return;
	int64_t due = s->delayed[0].due_ms;
	for (size_t i = 1; i < s->ndelayed; i++)
		if (s->delayed[i].due_ms < due)
			due = s->delayed[i].due_ms;
	int64_t wait = due - scheduler_now_ms();
	if (wait < 0)
		wait = 0;
	struct timeval tv = { (time_t)(wait / 1000), (suseconds_t)((wait % 1000) * 1000) };
	evtimer_add(s->retry_ev, &tv);
}

int64_t scheduler_backoff_ms(const struct scheduler *s, int attempts)
{
	int64_t wait = s->cfg.retry_base_ms;
	for (int i = 1; i < attempts && wait < 60000; i++)
		wait *= 2;
	return wait > 60000 ? 60000 : wait;
}

void scheduler_delay_until(struct scheduler *s, int64_t id, enum msg_lane lane, int64_t due_ms, const char *why)
{
	if (s->ndelayed == s->delayed_cap) {
		size_t ncap = s->delayed_cap ? s->delayed_cap * 2 : 16;
		struct delayed *n = realloc(s->delayed, ncap * sizeof(*n));
		if (!n) {
			/* Leave it queued in the store: the next restart finds it. */
			log_warnx("scheduler: message %lld: out of memory for the delay list", (long long)id);
			return;
		}
		s->delayed = n;
		s->delayed_cap = ncap;
	}
	struct delayed *d = &s->delayed[s->ndelayed++];
	*d = (struct delayed){ .id = id, .due_ms = due_ms, .lane = lane };
	snprintf(d->why, sizeof(d->why), "%s", why ? why : "");
	log_info("message %lld: waiting %lld ms: %s", (long long)id, (long long)(due_ms - scheduler_now_ms()), why);
	arm_retry_timer(s);
}

void scheduler_hold_for_route(struct scheduler *s, int64_t id, enum msg_lane lane, int64_t due_ms, const char *why)
{
	size_t before = s->ndelayed;
	scheduler_delay_until(s, id, lane, due_ms, why);
	if (s->ndelayed > before)
		s->delayed[s->ndelayed - 1].for_route = true;
}

void scheduler_release_held(struct scheduler *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->ndelayed;) {
		if (s->delayed[i].for_route) {
			window_push(&s->lanes[s->delayed[i].lane], s->delayed[i].id, 1);
			s->delayed[i] = s->delayed[--s->ndelayed];
			n++;
		} else {
			i++;
		}
	}
	if (n)
		log_debug("scheduler: %zu message(s) waiting for a route looked at again", n);
	scheduler_kick(s);
}

void scheduler_requeue_front(struct scheduler *s, int64_t id, enum msg_lane lane)
{
	window_push(&s->lanes[lane], id, 1);
	scheduler_kick(s);
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct scheduler *s = arg;
	int64_t now = scheduler_now_ms();
	(void)fd;
	(void)what;
	for (size_t i = 0; i < s->ndelayed;) {
		if (s->delayed[i].due_ms <= now) {
			/* Back at the head of its lane: it is older than anything behind it. */
			window_push(&s->lanes[s->delayed[i].lane], s->delayed[i].id, 1);
			s->delayed[i] = s->delayed[--s->ndelayed];
		} else {
			i++;
		}
	}
	arm_retry_timer(s);
	scheduler_kick(s);
}

/* ---- store writes that must not be lost ---- */

int scheduler_transition(struct scheduler *s, int64_t id, enum msg_state from, enum msg_state to,
			 const char *error, int requeue_lane)
{
	int rc = store_transition(s->st, id, from, to, NULL, error, scheduler_now_ms());
	if (rc == 0 && requeue_lane >= 0)
		scheduler_requeue_front(s, id, (enum msg_lane)requeue_lane);
	if (rc >= 0)
		return rc;
	struct deferred_write *n = realloc(s->deferred, (s->ndeferred + 1) * sizeof(*n));
	if (!n)
		return -1;   /* restart recovery still resolves a `sending` row (queued or uncertain) */
	s->deferred = n;
	n = &s->deferred[s->ndeferred++];
	*n = (struct deferred_write){ .id = id, .from = from, .to = to, .requeue_lane = requeue_lane };
	snprintf(n->error, sizeof(n->error), "%s", error ? error : "");
	log_warnx("message %lld: store write %s -> %s failed; retrying every second", (long long)id,
		  message_state_name(from), message_state_name(to));
	return 2;
}

static void retry_deferred(struct scheduler *s)
{
	for (size_t i = 0; i < s->ndeferred;) {
		struct deferred_write *d = &s->deferred[i];
		int rc = store_transition(s->st, d->id, d->from, d->to, NULL, d->error[0] ? d->error : NULL,
					  scheduler_now_ms());
		if (rc < 0) {
			i++;
			continue;
		}
		if (rc == 0) {
			log_info("message %lld: store write %s -> %s done after all", (long long)d->id,
				 message_state_name(d->from), message_state_name(d->to));
			if (d->requeue_lane >= 0)
				scheduler_requeue_front(s, d->id, (enum msg_lane)d->requeue_lane);
		}
		s->deferred[i] = s->deferred[--s->ndeferred];
	}
}

/* ---- dispatch ---- */

/* Loads a lane's head; 0 with msg filled, or 1 when the id was stale (taken off the lane). */
static int load_head(struct scheduler *s, struct lane_window *w, struct store_msg *msg, int64_t now)
{
	int64_t id = *window_at(w, 0);
	int rc = store_get(s->st, id, msg);
	if (rc != 0) {
		window_pop(w);
		if (rc < 0)   /* a store error must not drop the id: look again after a back-off */
			scheduler_delay_until(s, id, (enum msg_lane)(w - s->lanes), now + scheduler_backoff_ms(s, 1),
					      "store error");
		return 1;
	}
	if (msg->state != MSG_QUEUED) {      /* cancelled or moved on since it was indexed */
		window_pop(w);
		store_msg_clear(msg);
		return 1;
	}
	if (msg->expires_ms && msg->expires_ms <= now) {
		window_pop(w);
		store_transition(s->st, id, MSG_QUEUED, MSG_EXPIRED, NULL, "ttl passed before sending", now);
		log_info("message %lld: expired before sending", (long long)id);
		store_msg_clear(msg);
		return 1;
	}
	/* A STOP received while it waited (a bulk campaign held back by quotas for hours) counts too. */
	if (s->suppress_cb && s->suppress_cb(s->suppress_arg, msg->to, msg->lane)) {
		window_pop(w);
		scheduler_transition(s, id, MSG_QUEUED, MSG_FAILED, "recipient opted out (STOP) after it was accepted", -1);
		log_info("message %lld: recipient opted out since it was accepted: failed", (long long)id);
		store_msg_clear(msg);
		return 1;
	}
	return 0;
}

void scheduler_set_suppress_cb(struct scheduler *s, scheduler_suppress_cb *cb, void *arg)
{
	s->suppress_cb = cb;
	s->suppress_arg = arg;
}

bool scheduler_slot_free(struct slot *sl, int64_t now)
{
	return modem_state(sl->m) == MODEM_READY && sl->msg_id == 0 && !sl->drained && breaker_allows(&sl->breaker, now);
}

static bool any_slot_free(struct scheduler *s, int64_t now)
{
	for (size_t i = 0; i < s->nslots; i++)
		if (scheduler_slot_free(s->slots[i], now))
			return true;
	return false;
}

void scheduler_route_view(struct slot *sl, const struct store_msg *msg, int64_t now, struct router_route *out,
			  bool *fits, bool *rcpt_ok, bool *prefix_ok)
{
	int free_now = scheduler_slot_free(sl, now);
	*fits = quota_allows(&sl->policy.quota, &sl->used, msg->nparts, now / 1000);
	*rcpt_ok = recipients_allows(&sl->policy.recipients, &sl->rcpt, msg->to, now / 1000);
	*out = (struct router_route){
		.name = modem_name(sl->m),
		.idle = free_now && *fits,
		.rssi = modem_rssi(sl->m),
		.fail_ewma = sl->fail_ewma,
		.last_used_ms = sl->last_used_ms,
		.quota_headroom = quota_headroom(&sl->policy.quota, &sl->used, now / 1000),
		.latency_ms = sl->latency_ewma,
		.recipients_full = !*rcpt_ok,
		.prefixes = sl->policy.prefixes,
		.nprefixes = sl->policy.nprefixes,
		.restrict_prefixes = sl->policy.restrict_prefixes,
	};
	*prefix_ok = !sl->policy.restrict_prefixes || router_prefix_match(out, msg->to);
}

/* No modem can take anything now: give the carrier what has waited too long for one. */
static void carrier_sweep(struct scheduler *s, int64_t now)
{
	for (int l = 0; l < LANE_COUNT && scheduler_carrier_ready(s, now); l++) {
		struct lane_window *w = &s->lanes[l];
		if (s->cfg.carrier_after_ms[l] <= 0)
			continue;
		for (size_t i = 0; i < w->len && i < CARRIER_SCAN && scheduler_carrier_ready(s, now); i++) {
			int64_t *slot_id = window_at(w, i);
			struct store_msg msg;
			if (*slot_id == 0 || store_get(s->st, *slot_id, &msg) != 0)
				continue;
			if (msg.state != MSG_QUEUED) {
				*slot_id = 0;
			} else if (scheduler_carrier_due(s, &msg, now)) {
				*slot_id = 0;
				scheduler_claim_carrier(s, &msg);
			} else if (msg.allow_carrier) {
				/* Ids are in age order: the rest of the lane is younger still. */
				store_msg_clear(&msg);
				break;
			}
			store_msg_clear(&msg);
		}
		window_trim(w);
	}
}

/* One pass: every message some route can take now is claimed; the claims (and the parts confirmed
 * since the last pass) are committed together by dispatch_cb before any modem sees a part. */
static void dispatch_pass(struct scheduler *s)
{
	struct router_route routes[s->nslots ? s->nslots : 1];

	while (s->started) {
		int64_t now = scheduler_now_ms();
		struct lane_window *w = NULL;
		for (int l = 0; l < LANE_COUNT && !w; l++) {
			window_refill(s, (enum msg_lane)l);
			if (s->lanes[l].len)
				w = &s->lanes[l];
		}
		if (!w)
			return;
		/* Every SIM busy (the usual case right after a claim) and no carrier to take anything: nothing
		 * can leave in this pass, so do not read the head and weigh every route for it. */
		if (!any_slot_free(s, now) && !scheduler_carrier_ready(s, now))
			return;
		struct store_msg msg;
		if (load_head(s, w, &msg, now))
			continue;

		/* The routes as the router sees them: idle, healthy, with quota for all the parts, and
		 * willing to take this destination (recipient quota, restrict_prefixes). */
		int idle = 0, takes_later = 0, never = 0, held_by_number = 0;
		int64_t quota_open = -1, rcpt_open = -1;
		for (size_t i = 0; i < s->nslots; i++) {
			struct slot *sl = s->slots[i];
			bool fits, rcpt_ok, prefix_ok;
			scheduler_route_view(sl, &msg, now, &routes[i], &fits, &rcpt_ok, &prefix_ok);
			/* route_view marks a route idle only if it fits this message; "free" is the SIM alone */
			int free_now = scheduler_slot_free(sl, now);
			idle += free_now;
			/* A SIM busy with another message that could take this one will take it next. */
			takes_later += fits && rcpt_ok && prefix_ok && sl->msg_id != 0;
			if (!fits) {
				int64_t open = quota_next_open(&sl->policy.quota, &sl->used, msg.nparts, now / 1000);
				never += open < 0;
				if (open >= 0 && (quota_open < 0 || open < quota_open))
					quota_open = open;
			} else if (free_now && (!rcpt_ok || !prefix_ok)) {
				/* Held back by its number, not by its size: a message behind it may go. */
				held_by_number++;
				if (prefix_ok) {
					int64_t open = recipients_next_open(&sl->policy.recipients, &sl->rcpt, now / 1000);
					if (rcpt_open < 0 || open < rcpt_open)
						rcpt_open = open;
				}
			}
		}
		struct router_need need = { .nparts = msg.nparts, .now_ms = now, .to = msg.to, .weights = &s->weights };
		int pick = router_pick(routes, s->nslots, &need);
		if (pick >= 0) {
			window_pop(w);
			scheduler_claim_modem(s, s->slots[pick], &msg);
			store_msg_clear(&msg);
			continue;
		}
		if (idle && !takes_later) {
			/* Free SIMs, none able to take this message, nor a busy one that could: the carrier
			 * if it may; else a longer message or one held back by its number waits aside (a
			 * shorter one, or one to another number, behind it may fit), and a one-part message
			 * out of quota stops the pass (nothing can fit; the tick looks again). */
			if ((size_t)never == s->nslots) {
				window_pop(w);
				scheduler_transition(s, msg.id, MSG_QUEUED, MSG_FAILED,
						     "more parts than any SIM's quota window allows", -1);
				store_msg_clear(&msg);
				continue;
			}
			if (msg.allow_carrier && scheduler_carrier_ready(s, now) && s->cfg.carrier_after_ms[msg.lane] > 0) {
				window_pop(w);
				scheduler_pass_commit(s);   /* the request may leave at once: our claims first */
				scheduler_claim_carrier(s, &msg);
				store_msg_clear(&msg);
				continue;
			}
			if (held_by_number || (msg.nparts > 1 && quota_open >= 0)) {
				/* Re-checked at least every 30 s: a SIM that is down now may come back with quota. */
				int64_t open = quota_open;
				if (rcpt_open >= 0 && (open < 0 || rcpt_open < open))
					open = rcpt_open;
				int64_t due = open >= 0 && open * 1000 < now + 30000 ? open * 1000 : now + 30000;
				if (due < now + 1000)
					due = now + 1000;
				window_pop(w);
				scheduler_hold_for_route(s, msg.id, msg.lane, due,
							 held_by_number ? "no free SIM takes this number now (recipient quota "
									  "used up, or restrict_prefixes)"
									: "no free SIM has quota for all its parts");
				store_msg_clear(&msg);
				continue;
			}
		}
		store_msg_clear(&msg);
		if (scheduler_carrier_ready(s, now)) {
			scheduler_pass_commit(s);
			carrier_sweep(s, now);
		}
		return;
	}
}

static void dispatch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct scheduler *s = arg;
	(void)fd;
	(void)what;
	dispatch_pass(s);
	scheduler_pass_commit(s);
}

/* Several nodes on one store: the queue grows behind this node's back (another node accepted a
 * message), so each second every lane pages in from the store again (ids after the last one loaded:
 * an enqueue holds a lock until its commit, so ids become visible in order). Every node_tick_ms, the
 * heartbeat; messages it took back from a node whose lease expired go first in their lanes. */
static void node_tick(struct scheduler *s, int64_t now)
{
	for (int l = 0; l < LANE_COUNT; l++)
		s->lanes[l].complete = 0;
	if (now - s->last_node_tick_ms < s->cfg.node_tick_ms)
		return;
	s->last_node_tick_ms = now;
	char modems[1024] = "";
	size_t off = 0;
	for (size_t i = 0; i < s->nslots && off < sizeof(modems); i++)
		off += (size_t)snprintf(modems + off, sizeof(modems) - off, "%s%s", i ? "," : "", modem_name(s->slots[i]->m));
	int64_t *ids = NULL;
	int n = store_node_tick(s->st, now, modems, &ids);
	for (int i = 0; i < n; i++) {
		struct store_msg msg;
		if (store_get(s->st, ids[i], &msg) != 0)
			continue;
		if (msg.state == MSG_QUEUED && window_push(&s->lanes[msg.lane], ids[i], 1) < 0)
			scheduler_delay_until(s, ids[i], msg.lane, now, "taken back from a node");
		store_msg_clear(&msg);
	}
	free(ids);
}

/* Every second: deadlines pass without any event, so look again; now and then sweep expired messages. */
static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct scheduler *s = arg;
	int64_t now = scheduler_now_ms();
	(void)fd;
	(void)what;
	if (s->ndeferred)
		retry_deferred(s);
	if (s->nretired)
		scheduler_carrier_reap(s, false);
	if (!s->started)
		return;
	if (s->cfg.node_tick_ms > 0)
		node_tick(s, now);
	if (now - s->last_sweep_ms >= s->cfg.sweep_interval_ms) {
		s->last_sweep_ms = now;
		store_expire(s->st, now);
		/* concatenated inbound parts still incomplete after the timeout are listed as they are */
		if (s->cfg.reassembly_timeout_ms > 0)
			store_inbound_flush(s->st, now - s->cfg.reassembly_timeout_ms, now);
	}
	scheduler_kick(s);
}

/* ---- life cycle ---- */

struct scheduler *scheduler_new(struct event_base *base, struct store *st, const struct scheduler_config *cfg)
{
	struct scheduler *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->base = base;
	s->st = st;
	s->cfg = *cfg;
	if (s->cfg.window <= 0)
		s->cfg.window = 4096;
	if (s->cfg.retry_base_ms <= 0)
		s->cfg.retry_base_ms = 2000;
	if (s->cfg.max_attempts <= 0)
		s->cfg.max_attempts = 5;
	if (s->cfg.cooldown_ms <= 0)
		s->cfg.cooldown_ms = 60000;
	if (s->cfg.breaker_threshold <= 0)
		s->cfg.breaker_threshold = 3;
	if (s->cfg.sweep_interval_ms <= 0)
		s->cfg.sweep_interval_ms = 10000;
	s->weights = (struct router_weights)ROUTER_WEIGHTS_DEFAULT;
	breaker_init(&s->carrier_breaker, s->cfg.breaker_threshold, s->cfg.cooldown_ms, 16LL * s->cfg.cooldown_ms);
	s->kick_ev = event_new(base, -1, 0, dispatch_cb, s);
	s->retry_ev = evtimer_new(base, retry_cb, s);
	s->tick_ev = event_new(base, -1, EV_PERSIST, tick_cb, s);
	if (!s->kick_ev || !s->retry_ev || !s->tick_ev) {
		scheduler_free(s);
		return NULL;
	}
	return s;
}

int scheduler_add_modem(struct scheduler *s, struct modem *m, const struct quota_limits *quota)
{
	struct slot **n = realloc(s->slots, (s->nslots + 1) * sizeof(*n));
	if (!n)
		return -1;
	s->slots = n;
	struct slot *sl = calloc(1, sizeof(*sl));
	if (!sl)
		return -1;
	sl->s = s;
	sl->m = m;
	sl->handed = -1;
	sl->concat_ref = (unsigned)(scheduler_now_ms() & 0xff);
	breaker_init(&sl->breaker, s->cfg.breaker_threshold, s->cfg.cooldown_ms, 16LL * s->cfg.cooldown_ms);
	if (quota)
		sl->policy.quota = *quota;
	s->slots[s->nslots++] = sl;
	if (s->started)
		modem_start(m);
	return 0;
}

static struct slot *slot_by_modem(const struct scheduler *s, const struct modem *m, size_t *at)
{
	for (size_t i = 0; i < s->nslots; i++)
		if (s->slots[i]->m == m) {
			if (at)
				*at = i;
			return s->slots[i];
		}
	return NULL;
}

bool scheduler_modem_busy(const struct scheduler *s, const struct modem *m)
{
	struct slot *sl = slot_by_modem(s, m, NULL);
	return sl && sl->msg_id != 0;
}

void scheduler_modem_set_drained(struct scheduler *s, struct modem *m, bool drained)
{
	struct slot *sl = slot_by_modem(s, m, NULL);
	if (sl)
		sl->drained = drained;
}

int scheduler_remove_modem(struct scheduler *s, struct modem *m)
{
	size_t at;
	struct slot *sl = slot_by_modem(s, m, &at);
	if (!sl || sl->msg_id != 0)
		return -1;
	modem_free(sl->m);
	scheduler_slot_reset(sl);
	recipients_free(&sl->rcpt);
	free(sl);
	memmove(&s->slots[at], &s->slots[at + 1], (s->nslots - at - 1) * sizeof(*s->slots));
	s->nslots--;
	scheduler_kick(s);
	return 0;
}

int scheduler_replace_modem(struct scheduler *s, struct modem *m, struct modem *with)
{
	struct slot *sl = slot_by_modem(s, m, NULL);
	if (!sl || sl->msg_id != 0 || !with)
		return -1;
	modem_free(sl->m);
	sl->m = with;
	sl->drained = false;
	if (s->started)
		modem_start(with);
	scheduler_kick(s);
	return 0;
}

static struct slot *slot_named(struct scheduler *s, const char *name)
{
	for (size_t i = 0; i < s->nslots; i++)
		if (strcmp(modem_name(s->slots[i]->m), name) == 0)
			return s->slots[i];
	return NULL;
}

int scheduler_route_policy(struct scheduler *s, const char *name, const struct scheduler_route_policy *p)
{
	struct slot *sl = slot_named(s, name);
	if (!sl)
		return -1;
	bool rcpt_changed = memcmp(&sl->policy.recipients, &p->recipients, sizeof(p->recipients)) != 0;
	sl->policy = *p;
	/* Only windows with a limit are tracked: a limit that appears needs the window's numbers. */
	if (rcpt_changed && s->started)
		scheduler_restore_recipients(s, sl, scheduler_now_ms());
	scheduler_release_held(s);   /* a raised limit or another prefix may let them go now */
	return 0;
}

void scheduler_set_weights(struct scheduler *s, const struct router_weights *w)
{
	s->weights = *w;
	scheduler_kick(s);
}

void scheduler_route_info(struct scheduler *s, size_t i, struct scheduler_route_info *out)
{
	memset(out, 0, sizeof(*out));
	if (i >= s->nslots)
		return;
	struct slot *sl = s->slots[i];
	int64_t now_s = scheduler_now_ms() / 1000;
	out->latency_ms = (int64_t)(sl->latency_ewma + 0.5);
	for (int w = 0; w < RECIPIENTS_WINDOWS; w++) {
		out->recipients_limit[w] = sl->policy.recipients.max[w];
		out->recipients_used[w] = recipients_used(&sl->rcpt, (enum recipients_window)w, now_s);
	}
	out->policy = &sl->policy;
}

int scheduler_start(struct scheduler *s, int64_t now)
{
	int n = store_recover(s->st, now);
	if (n < 0)
		return -1;
	if (n > 0)
		log_info("scheduler: %d interrupted send(s) recovered", n);
	scheduler_restore_quota(s, now);
	scheduler_restore_recipients(s, NULL, now);
	s->started = 1;
	s->last_sweep_ms = now;
	store_expire(s->st, now);
	if (s->cfg.node_tick_ms > 0)
		node_tick(s, now);   /* the first heartbeat names this node's modems at once */
	struct timeval second = { 1, 0 };
	event_add(s->tick_ev, &second);
	for (size_t i = 0; i < s->nslots; i++)
		modem_start(s->slots[i]->m);
	scheduler_kick(s);
	return 0;
}

void scheduler_wake(struct scheduler *s)
{
	for (int l = 0; l < LANE_COUNT; l++)
		s->lanes[l].complete = 0;
	scheduler_kick(s);
}

void scheduler_notify(struct scheduler *s, int64_t id, enum msg_lane lane)
{
	struct lane_window *w = &s->lanes[lane];
	/* Only while the window holds the whole lane; else paging from the store will find it, in order. */
	if (w->complete && w->len < (size_t)s->cfg.window && id > w->last_loaded) {
		if (window_push(w, id, 0) == 0)
			w->last_loaded = id;
		else
			w->complete = 0;
	} else {
		w->complete = 0;
	}
	scheduler_kick(s);
}

int scheduler_stop(struct scheduler *s)
{
	s->started = 0;
	return scheduler_inflight(s);
}

int scheduler_inflight(const struct scheduler *s)
{
	int n = s->carrier_inflight;
	for (size_t i = 0; i < s->nslots; i++)
		n += s->slots[i]->msg_id != 0;
	return n;
}

int scheduler_modem_action(struct scheduler *s, const char *name, const char *action, char *err, size_t errlen)
{
	struct slot *sl = slot_named(s, name);
	if (!sl) {
		snprintf(err, errlen, "no modem named \"%.64s\"", name);
		return -1;
	}
	if (strcmp(action, "drain") == 0) {
		/* The message in flight finishes; nothing new is routed here; the modem stays up. */
		sl->drained = true;
	} else if (strcmp(action, "enable") == 0) {
		sl->drained = false;
		modem_enable(sl->m);
	} else if (strcmp(action, "disable") == 0) {
		sl->drained = false;
		modem_disable(sl->m);   /* a send in flight finishes first (draining) */
	} else if (strcmp(action, "reset") == 0) {
		if (modem_reset(sl->m) < 0) {
			snprintf(err, errlen, "modem %.64s is %s: reset it when it is not sending (or enable it first)",
				 name, modem_state_name(modem_state(sl->m)));
			return -2;
		}
	} else {
		snprintf(err, errlen, "unknown action \"%.32s\" (enable, disable, drain, reset)", action);
		return -1;
	}
	log_info("modem %s: %s by admin", name, action);
	if (strcmp(action, "enable") == 0)
		scheduler_release_held(s);   /* an undrained SIM comes back at once (a disabled one when READY) */
	else
		scheduler_kick(s);
	return 0;
}

bool scheduler_modem_drained(const struct scheduler *s, size_t i) { return i < s->nslots && s->slots[i]->drained; }

size_t scheduler_nmodems(const struct scheduler *s) { return s->nslots; }
struct modem *scheduler_modem(const struct scheduler *s, size_t i) { return i < s->nslots ? s->slots[i]->m : NULL; }

void scheduler_free(struct scheduler *s)
{
	if (!s)
		return;
	scheduler_pass_commit(s);   /* parts confirmed since the last pass */
	/* The carrier first: its cancelled requests report back into the store through us. */
	carrier_free(s->carrier);
	s->carrier = NULL;
	scheduler_carrier_reap(s, true);
	free(s->retired);
	for (size_t i = 0; i < s->nslots; i++) {
		modem_free(s->slots[i]->m);
		scheduler_slot_reset(s->slots[i]);
		recipients_free(&s->slots[i]->rcpt);
		free(s->slots[i]);
	}
	free(s->slots);
	for (int l = 0; l < LANE_COUNT; l++)
		free(s->lanes[l].ids);
	free(s->delayed);
	free(s->deferred);
	free(s->done);
	if (s->kick_ev)
		event_free(s->kick_ev);
	if (s->retry_ev)
		event_free(s->retry_ev);
	if (s->tick_ev)
		event_free(s->tick_ev);
	free(s);
}
