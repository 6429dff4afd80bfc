/* scheduler: turns queued messages and modem events into sends — lanes, retries, store transitions. */
#include "queue/scheduler.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "queue/store.h"
#include "router/router.h"
#include "simroute/log.h"
#include "simroute/pdu.h"
#include "simroute/phone.h"

/* A lane's in-memory window: the oldest queued ids, in order. The store holds the rest, so a million
 * queued messages do not live in memory; `complete` says the window holds every queued id of the lane. */
struct lane_window {
	int64_t *ids;
	size_t head, len, cap;
	int complete;
	int64_t last_loaded;   /* highest id ever loaded from the store or notified */
};

/* A message waiting out a retry delay (kept apart so it never holds up the lane). */
struct delayed {
	int64_t id, due_ms;
	enum msg_lane lane;
};

/* One route: a modem and the message it is working on. */
struct slot {
	struct scheduler *s;
	struct modem *m;
	int64_t last_used_ms;
	double fail_ewma;
	unsigned concat_ref;
	/* in flight */
	int64_t msg_id;            /* 0: idle */
	struct pdu_submit *pdu;
	int next_part;             /* index of the next part to hand to the modem */
	int parts_sent;
	int awaiting;              /* a part is with the modem */
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
	int started;
};

static int64_t now_ms(void)
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

static int64_t window_pop(struct lane_window *w)
{
	int64_t id = w->ids[w->head];
	w->head = (w->head + 1) % w->cap;
	w->len--;
	return id;
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
	if (w->complete || w->len >= want / 4)
		return;
	size_t room = want - w->len;
	int n = store_load_pending(s->st, lane, w->last_loaded, room, refill_cb, w);
	if (n >= 0 && (size_t)n < room)
		w->complete = 1;
}

/* ---- housekeeping of one message ---- */

static void schedule_kick(struct scheduler *s)
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
	int64_t wait = due - now_ms();
	if (wait < 0)
		wait = 0;
	struct timeval tv = { (time_t)(wait / 1000), (suseconds_t)((wait % 1000) * 1000) };
	evtimer_add(s->retry_ev, &tv);
}

static void delay_message(struct scheduler *s, int64_t id, enum msg_lane lane, int attempts)
{
	int64_t wait = s->cfg.retry_base_ms;
	for (int i = 1; i < attempts && wait < 60000; i++)
		wait *= 2;
	if (wait > 60000)
		wait = 60000;
	if (s->ndelayed == s->delayed_cap) {
		size_t ncap = s->delayed_cap ? s->delayed_cap * 2 : 16;
		struct delayed *n = realloc(s->delayed, ncap * sizeof(*n));
		if (!n) {
			/* Leave it queued in the store: the next restart or page-in finds it. */
			log_warnx("scheduler: message %lld: out of memory for the retry list", (long long)id);
			return;
		}
		s->delayed = n;
		s->delayed_cap = ncap;
	}
	s->delayed[s->ndelayed++] = (struct delayed){ id, now_ms() + wait, lane };
	log_info("message %lld: retry in %lld ms (attempt %d of %d)", (long long)id, (long long)wait, attempts + 1,
		 s->cfg.max_attempts);
	arm_retry_timer(s);
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct scheduler *s = arg;
	int64_t now = now_ms();
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
	schedule_kick(s);
}

static void slot_reset(struct slot *sl)
{
	pdu_submit_free(sl->pdu);
	sl->pdu = NULL;
	sl->msg_id = 0;
	sl->next_part = sl->parts_sent = sl->awaiting = 0;
}

static void slot_continue(struct slot *sl);

/* Claim message `id` for route `sl`: checks, encodes, and hands the first part to the modem. */
static void claim(struct scheduler *s, struct slot *sl, int64_t id)
{
	struct store_msg msg;
	int64_t now = now_ms();
	char masked[STORE_TO_MAX];
	const char *route = modem_name(sl->m);

	if (store_get(s->st, id, &msg) != 0)
		return;
	if (msg.state != MSG_QUEUED) {
		store_msg_clear(&msg);   /* cancelled or moved on since it was indexed */
		return;
	}
	phone_mask(msg.to, masked, sizeof(masked));
	if (msg.expires_ms && msg.expires_ms <= now) {
		store_transition(s->st, id, MSG_QUEUED, MSG_EXPIRED, NULL, "ttl passed before sending", now);
		log_info("message %lld to %s: expired before sending", (long long)id, masked);
		store_msg_clear(&msg);
		return;
	}
	struct pdu_submit_opts opts = {
		.max_parts = (unsigned)s->cfg.max_parts,
		.concat_ref = sl->concat_ref++,
		.validity_minutes = msg.expires_ms ? (int)((msg.expires_ms - now + 59999) / 60000) : 0,
		/* the client's choices, as counted at accept time: same tables, so the same parts */
		.languages = msg.languages,
		.status_report = msg.delivery_report,
	};
	enum pdu_error perr = pdu_encode_submit(msg.to, msg.text, &opts, &sl->pdu);
	if (perr != PDU_OK) {
		store_transition(s->st, id, MSG_QUEUED, MSG_FAILED, NULL, pdu_strerror(perr), now);
		log_warnx("message %lld to %s: cannot encode: %s", (long long)id, masked, pdu_strerror(perr));
		store_msg_clear(&msg);
		return;
	}
	if (store_transition(s->st, id, MSG_QUEUED, MSG_SENDING, route, NULL, now) != 0) {
		slot_reset(sl);
		store_msg_clear(&msg);
		return;
	}
	log_debug("message %lld to %s: %d part(s) via %s", (long long)id, masked, sl->pdu->nparts, route);
	sl->msg_id = id;
	sl->last_used_ms = now;
	store_msg_clear(&msg);
	slot_continue(sl);
}

/* Hand the next part to the modem if it is free; called on claim, on `sent` and on `ready`. */
static void slot_continue(struct slot *sl)
{
	if (!sl->msg_id || sl->awaiting || modem_state(sl->m) != MODEM_READY)
		return;
	struct pdu_part *p = &sl->pdu->parts[sl->next_part];
	/* Stored before the modem sees it (mr -1 = handed, no reference yet): after a crash a `sending`
	 * message with a handed part becomes `uncertain`, never resent blindly. */
	if (store_record_part(sl->s->st, sl->msg_id, sl->next_part + 1, -1, modem_name(sl->m), now_ms()) != 0) {
		sl->awaiting = 1;   /* ev_send_failed clears it */
		scheduler_modem_events()->send_failed(sl->s, sl->m, sl, -1, false, "store error before sending");
		return;
	}
	if (modem_send(sl->m, p->hex, p->length, sl) == 0)
		sl->awaiting = 1;
}

static void dispatch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct scheduler *s = arg;
	struct router_route routes[s->nslots ? s->nslots : 1];
	(void)fd;
	(void)what;

	while (s->started) {
		int lane = -1;
		for (int l = 0; l < LANE_COUNT; l++) {
			window_refill(s, (enum msg_lane)l);
			if (s->lanes[l].len) {
				lane = l;
				break;
			}
		}
		if (lane < 0)
			return;
		struct modem_info mi;
		for (size_t i = 0; i < s->nslots; i++) {
			struct slot *sl = s->slots[i];
			modem_get_info(sl->m, &mi);
			routes[i] = (struct router_route){
				.name = modem_name(sl->m),
				.idle = mi.state == MODEM_READY && sl->msg_id == 0,
				.rssi = mi.rssi,
				.fail_ewma = sl->fail_ewma,
				.last_used_ms = sl->last_used_ms,
			};
		}
		struct router_need need = { .nparts = 1, .now_ms = now_ms() };
		int pick = router_pick(routes, s->nslots, &need);
		if (pick < 0)
			return;
		claim(s, s->slots[pick], window_pop(&s->lanes[lane]));
	}
}

/* ---- modem events ---- */

static void ev_ready(void *arg, struct modem *m)
{
	struct scheduler *s = arg;
	for (size_t i = 0; i < s->nslots; i++) {
		if (s->slots[i]->m == m) {
			slot_continue(s->slots[i]);
			break;
		}
	}
	schedule_kick(s);
}

static void ev_sent(void *arg, struct modem *m, void *cookie, int mr)
{
	struct scheduler *s = arg;
	struct slot *sl = cookie;
	int64_t now = now_ms();
	(void)m;

	sl->awaiting = 0;
	sl->fail_ewma *= 0.9;
	store_record_part(s->st, sl->msg_id, sl->next_part + 1, mr, modem_name(sl->m), now);
	sl->parts_sent++;
	if (++sl->next_part < sl->pdu->nparts) {
		slot_continue(sl);
		return;
	}
	store_transition(s->st, sl->msg_id, MSG_SENDING, MSG_SENT, NULL, NULL, now);
	log_info("message %lld: sent via %s (%d part%s, mr %d)", (long long)sl->msg_id, modem_name(sl->m),
		 sl->pdu->nparts, sl->pdu->nparts == 1 ? "" : "s", mr);
	slot_reset(sl);
	schedule_kick(s);
}

static void ev_send_failed(void *arg, struct modem *m, void *cookie, int cms, bool reached_modem, const char *why)
{
	struct scheduler *s = arg;
	struct slot *sl = cookie;
	struct store_msg msg;
	int64_t now = now_ms();
	char err[STORE_ERROR_MAX];
	(void)m;

	sl->awaiting = 0;
	sl->fail_ewma = sl->fail_ewma * 0.9 + 0.1;
	if (cms >= 0)
		snprintf(err, sizeof(err), "%s: +CMS ERROR %d: %s", modem_name(sl->m), cms, why ? why : "");
	else
		snprintf(err, sizeof(err), "%s: %s", modem_name(sl->m), why ? why : "send failed");
	int64_t id = sl->msg_id;
	int parts_sent = sl->parts_sent;
	slot_reset(sl);

	if (reached_modem || parts_sent > 0) {
		/* It may have gone out: never resend blindly (DESIGN: uncertain). */
		store_transition(s->st, id, MSG_SENDING, MSG_UNCERTAIN, NULL, err, now);
		log_warnx("message %lld: %s; may have been sent: uncertain", (long long)id, err);
	} else if (store_get(s->st, id, &msg) == 0) {
		if (msg.attempts >= s->cfg.max_attempts) {
			store_transition(s->st, id, MSG_SENDING, MSG_FAILED, NULL, err, now);
			log_warnx("message %lld: %s; %d attempts: failed", (long long)id, err, msg.attempts);
		} else if (store_transition(s->st, id, MSG_SENDING, MSG_QUEUED, NULL, err, now) == 0) {
			delay_message(s, id, msg.lane, msg.attempts);
		}
		store_msg_clear(&msg);
	}
	schedule_kick(s);
}

static void ev_state_changed(void *arg, struct modem *m, enum modem_state from, enum modem_state to)
{
	(void)from;
	(void)m;
	if (to == MODEM_READY)
		schedule_kick(arg);
}

static const struct modem_events events = {
	.ready = ev_ready,
	.sent = ev_sent,
	.send_failed = ev_send_failed,
	.state_changed = ev_state_changed,
};

const struct modem_events *scheduler_modem_events(void) { return &events; }

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
	s->kick_ev = event_new(base, -1, 0, dispatch_cb, s);
	s->retry_ev = evtimer_new(base, retry_cb, s);
	if (!s->kick_ev || !s->retry_ev) {
		scheduler_free(s);
		return NULL;
	}
	return s;
}

int scheduler_add_modem(struct scheduler *s, struct modem *m)
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
	sl->concat_ref = (unsigned)(now_ms() & 0xff);
	s->slots[s->nslots++] = sl;
	return 0;
}

int scheduler_start(struct scheduler *s, int64_t now)
{
	int n = store_recover(s->st, now);
	if (n < 0)
		return -1;
	if (n > 0)
		log_info("scheduler: %d interrupted send(s) recovered", n);
	s->started = 1;
	for (size_t i = 0; i < s->nslots; i++)
		modem_start(s->slots[i]->m);
	schedule_kick(s);
	return 0;
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
	schedule_kick(s);
}

int scheduler_stop(struct scheduler *s)
{
	s->started = 0;
	return scheduler_inflight(s);
}

int scheduler_inflight(const struct scheduler *s)
{
	int n = 0;
	for (size_t i = 0; i < s->nslots; i++)
		n += s->slots[i]->msg_id != 0;
	return n;
}

size_t scheduler_nmodems(const struct scheduler *s) { return s->nslots; }
struct modem *scheduler_modem(const struct scheduler *s, size_t i) { return i < s->nslots ? s->slots[i]->m : NULL; }

void scheduler_free(struct scheduler *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nslots; i++) {
		modem_free(s->slots[i]->m);
		slot_reset(s->slots[i]);
		free(s->slots[i]);
	}
	free(s->slots);
	for (int l = 0; l < LANE_COUNT; l++)
		free(s->lanes[l].ids);
	free(s->delayed);
	if (s->kick_ev)
		event_free(s->kick_ev);
	if (s->retry_ev)
		event_free(s->retry_ev);
	free(s);
}
