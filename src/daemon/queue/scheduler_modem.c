/* scheduler_modem: the scheduler's modem side — claiming a message for a SIM, and the modems' events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/scheduler_inbound.h"
#include "queue/scheduler_int.h"
#include "simroute/cms.h"
#include "simroute/log.h"
#include "simroute/phone.h"

void scheduler_slot_reset(struct slot *sl)
{
	pdu_submit_free(sl->pdu);
	sl->pdu = NULL;
	sl->msg_id = 0;
	sl->next_part = sl->parts_sent = sl->awaiting = 0;
	sl->handed = -1;
	sl->start = SLOT_START_NONE;
}

static const struct modem_events events;

/* Hand the next part to the modem if it is free; called on claim, on `sent` and on `ready`. */
static void slot_continue(struct slot *sl)
{
	if (!sl->msg_id || sl->awaiting || modem_state(sl->m) != MODEM_READY)
		return;
	struct pdu_part *p = &sl->pdu->parts[sl->next_part];
	/* Stored before the modem sees it (mr -1 = handed, no reference yet): after a crash a `sending`
	 * message with a handed part becomes `uncertain`, never resent blindly. Usually it was stored in
	 * the same transaction as the write before it (claim, previous part). */
	if (sl->handed != sl->next_part &&
	    store_record_part(sl->s->st, sl->msg_id, sl->next_part + 1, -1, modem_name(sl->m),
			      scheduler_now_ms()) != 0) {
		sl->awaiting = 1;   /* send_failed clears it */
		events.send_failed(sl->s, sl->m, sl, -1, false, "store error before sending");
		return;
	}
	sl->handed = sl->next_part;
	if (modem_send(sl->m, p->hex, p->length, sl) == 0)
		sl->awaiting = 1;
}

void scheduler_claim_modem(struct scheduler *s, struct slot *sl, struct store_msg *msg)
{
	int64_t now = scheduler_now_ms();
	char masked[STORE_TO_MAX];
	const char *route = modem_name(sl->m);

	phone_mask(msg->to, masked, sizeof(masked));
	struct pdu_submit_opts opts = {
		.max_parts = (unsigned)s->cfg.max_parts,
		.concat_ref = sl->concat_ref++,
		.validity_minutes = msg->expires_ms ? (int)((msg->expires_ms - now + 59999) / 60000) : 0,
		/* the client's choices, as counted at accept time: same tables, so the same parts */
		.languages = msg->languages,
		.status_report = msg->delivery_report,
	};
	enum pdu_error perr = pdu_encode_submit(msg->to, msg->text, &opts, &sl->pdu);
	if (perr != PDU_OK) {
		store_transition(s->st, msg->id, MSG_QUEUED, MSG_FAILED, NULL, pdu_strerror(perr), now);
		log_warnx("message %lld to %s: cannot encode: %s", (long long)msg->id, masked, pdu_strerror(perr));
		return;
	}
	/* `sending` and "part 1 handed" in the pass's transaction: one fsync before AT+CMGS for every claim
	 * of the pass (and the confirmed parts written with them), not one per message. */
	if (!s->pass_batch && store_batch_begin(s->st, true) == 0)
		s->pass_batch = true;   /* else each write below is its own durable commit */
	int rc = store_transition(s->st, msg->id, MSG_QUEUED, MSG_SENDING, route, NULL, now);
	int handed = rc == 0 ? store_record_part(s->st, msg->id, 1, -1, route, now) : -1;
	if (rc == 0 && handed != 0) {
		/* `sending` without the handed mark would be requeued by a crash: do not send it now. */
		scheduler_slot_reset(sl);
		scheduler_transition(s, msg->id, MSG_SENDING, MSG_QUEUED, "store error before sending", (int)msg->lane);
		return;
	}
	if (rc != 0) {
		scheduler_slot_reset(sl);
		/* A store error must not drop the id from the lane: try again after a back-off. */
		if (rc < 0)
			scheduler_delay_until(s, msg->id, msg->lane, now + scheduler_backoff_ms(s, 1), "store error");
		return;
	}
	sl->handed = 0;
	log_debug("message %lld to %s: %d part(s) via %s", (long long)msg->id, masked, sl->pdu->nparts, route);
	sl->msg_id = msg->id;
	snprintf(sl->to, sizeof(sl->to), "%s", msg->to);
	sl->lane = msg->lane;
	sl->last_used_ms = now;
	if (s->pass_batch) {
		sl->start = SLOT_START_CLAIM;   /* the modem sees it once the pass has committed */
		return;
	}
	breaker_on_attempt(&sl->breaker);
	slot_continue(sl);
}

/* A confirmed part's writes: its reference, and `sent` after the last part (inside a batch when there is one). */
static int done_write(struct scheduler *s, const struct done_part *d)
{
	store_record_part(s->st, d->id, d->seq, d->mr, d->route, d->now_ms);
	return d->final ? store_transition(s->st, d->id, MSG_SENDING, MSG_SENT, NULL, NULL, d->now_ms) : 0;
}

/* What follows a confirmed last part once its writes were committed (or failed: then retried alone). */
static void done_after(struct scheduler *s, const struct done_part *d, bool written)
{
	if (!d->final)
		return;
	if (!written)
		scheduler_transition(s, d->id, MSG_SENDING, MSG_SENT, NULL, -1);
	log_info("message %lld: sent via %s (%d part%s, mr %d)", (long long)d->id, d->route, d->nparts,
		 d->nparts == 1 ? "" : "s", d->mr);
	if (d->nparts > 1)
		scheduler_reports_settle(s, d->id, d->route);   /* reports of earlier parts */
}

void scheduler_pass_commit(struct scheduler *s)
{
	bool batch = s->pass_batch;
	s->pass_batch = false;
	if (!batch && s->ndone == 0)
		return;
	/* No claim in this pass: the confirmed parts need no fsync of their own — part 1 of each message
	 * was stored handed durably, so if these writes are lost to a power failure the message comes back
	 * `uncertain`, never resent; the next fsync'd commit makes them durable anyway (WAL commits are
	 * ordered). */
	if (!batch && store_batch_begin(s->st, false) == 0)
		batch = true;
	size_t ndone = s->ndone;
	int *rcs = ndone ? malloc(ndone * sizeof(*rcs)) : NULL;
	for (size_t i = 0; i < ndone; i++) {
		int rc = done_write(s, &s->done[i]);
		if (rcs)
			rcs[i] = rc;
	}
	/* A continuing message's next part is stored handed before the modem sees it, as part 1 was. */
	for (size_t i = 0; i < s->nslots; i++) {
		struct slot *sl = s->slots[i];
		if (sl->start == SLOT_START_NEXT && sl->handed != sl->next_part &&
		    store_record_part(s->st, sl->msg_id, sl->next_part + 1, -1, modem_name(sl->m), scheduler_now_ms()) == 0)
			sl->handed = sl->next_part;
	}
	bool ok = !batch || store_batch_end(s->st) == 0;
	s->ndone = 0;
	for (size_t i = 0; i < s->nslots; i++) {
		struct slot *sl = s->slots[i];
		int start = sl->start;
		sl->start = SLOT_START_NONE;
		if (start == SLOT_START_CLAIM && !ok) {
			/* The claim did not happen: the message is `queued` in the store; try again after a back-off. */
			int64_t id = sl->msg_id;
			enum msg_lane lane = sl->lane;
			scheduler_slot_reset(sl);
			scheduler_delay_until(s, id, lane, scheduler_now_ms() + scheduler_backoff_ms(s, 1), "store error");
		} else if (start != SLOT_START_NONE) {
			if (start == SLOT_START_CLAIM)
				breaker_on_attempt(&sl->breaker);   /* a half-open SIM's probe is under way now */
			if (!ok && start == SLOT_START_NEXT)
				sl->handed = -1;   /* not stored: slot_continue stores it (or gives up) alone */
			slot_continue(sl);
		}
	}
	for (size_t i = 0; i < ndone; i++)
		done_after(s, &s->done[i], ok && (!rcs || rcs[i] >= 0));
	free(rcs);
}

static struct slot *slot_of(struct scheduler *s, struct modem *m)
{
	for (size_t i = 0; i < s->nslots; i++)
		if (s->slots[i]->m == m)
			return s->slots[i];
	return NULL;
}

static void ev_ready(void *arg, struct modem *m)
{
	struct scheduler *s = arg;
	struct slot *sl = slot_of(s, m);
	if (sl)
		slot_continue(sl);
	scheduler_kick(s);
}

static void ev_sent(void *arg, struct modem *m, void *cookie, int mr)
{
	struct scheduler *s = arg;
	struct slot *sl = cookie;
	int64_t now = scheduler_now_ms();
	(void)m;

	sl->awaiting = 0;
	sl->fail_ewma *= 0.9;
	breaker_on_success(&sl->breaker);
	quota_add(&sl->used, 1, now / 1000);     /* quotas count segments on the network */
	/* A recipient counts once its first part is out (as the store rebuilds it: parts with an mr). */
	if (sl->parts_sent == 0 && recipients_add(&sl->policy.recipients, &sl->rcpt, sl->to, now / 1000) < 0)
		log_warnx("modem %s: out of memory counting recipients", modem_name(sl->m));
	sl->parts_sent++;
	int64_t latency_ms = modem_send_latency_ms(sl->m);
	if (latency_ms > 0)
		scheduler_stats_latency(sl, latency_ms);
	if (latency_ms > 0)   /* EWMA, as fail_ewma: the last ~10 sends count */
		sl->latency_ewma = sl->latency_ewma > 0 ? sl->latency_ewma * 0.9 + 0.1 * (double)latency_ms
							: (double)latency_ms;
	/* This part's reference (and `sent` after the last part) is written by the dispatch pass that this
	 * kicks, in one transaction with the claims it makes: no commit of its own. */
	struct done_part d = { .id = sl->msg_id, .now_ms = now, .seq = sl->next_part + 1, .mr = mr,
			       .nparts = sl->pdu->nparts, .final = sl->next_part + 1 >= sl->pdu->nparts };
	snprintf(d.route, sizeof(d.route), "%s", modem_name(sl->m));
	if (s->ndone == s->done_cap) {
		size_t ncap = s->done_cap ? s->done_cap * 2 : 64;
		struct done_part *n = realloc(s->done, ncap * sizeof(*n));
		if (n) {
			s->done = n;
			s->done_cap = ncap;
		}
	}
	bool queued = s->ndone < s->done_cap;
	if (queued)
		s->done[s->ndone++] = d;
	else   /* out of memory: written now, alone */
		done_after(s, &d, done_write(s, &d) >= 0);
	if (!d.final) {
		sl->next_part++;
		sl->start = SLOT_START_NEXT;
	} else {
		scheduler_slot_reset(sl);
	}
	/* Stopped, no pass will run: write it now. */
	if (!s->started)
		scheduler_pass_commit(s);
	scheduler_kick(s);
}

/* What a refused send means for the SIM and the message (docs/cms-errors.md). */
static void requeue_by_class(struct scheduler *s, struct slot *sl, int64_t id, enum msg_lane lane, enum cms_class cls,
			     const char *err, int64_t now)
{
	struct store_msg msg;
	if (store_get(s->st, id, &msg) != 0) {
		/* Cannot even read it: put it back once the store answers. */
		scheduler_transition(s, id, MSG_SENDING, MSG_QUEUED, err, lane);
		return;
	}
	int attempts = msg.attempts;
	store_msg_clear(&msg);
	if (cls == CMS_PERMANENT || attempts >= s->cfg.max_attempts) {
		scheduler_transition(s, id, MSG_SENDING, MSG_FAILED, err, -1);
		log_warnx("message %lld: %s; %s: failed", (long long)id, err,
			  cls == CMS_PERMANENT ? "permanent error" : "attempts exhausted");
		return;
	}
	switch (cls) {
	case CMS_COOL_DOWN:
		/* The SIM is the problem (no SMS service, SMSC unknown): rest it; the message goes on elsewhere. */
		breaker_cool_down(&sl->breaker, now, s->cfg.cooldown_ms);
		log_warnx("modem %s: %s: cooling down %d s", modem_name(sl->m), err, s->cfg.cooldown_ms / 1000);
		scheduler_transition(s, id, MSG_SENDING, MSG_QUEUED, err, lane);
		break;
	case CMS_TRY_ANOTHER:
		breaker_on_failure(&sl->breaker, now);
		scheduler_transition(s, id, MSG_SENDING, MSG_QUEUED, err, lane);   /* LRU steers it elsewhere */
		break;
	case CMS_RETRY_SAME:
	case CMS_PERMANENT: {
		breaker_on_failure(&sl->breaker, now);
		int rc = store_transition(s->st, id, MSG_SENDING, MSG_QUEUED, NULL, err, now);
		if (rc == 0)
			scheduler_delay_until(s, id, lane, now + scheduler_backoff_ms(s, attempts), err);
		else if (rc < 0)
			scheduler_transition(s, id, MSG_SENDING, MSG_QUEUED, err, lane);
		break;
	}
	}
}

static void ev_send_failed(void *arg, struct modem *m, void *cookie, int cms, bool reached_modem, const char *why)
{
	struct scheduler *s = arg;
	struct slot *sl = cookie;
	int64_t now = scheduler_now_ms();
	char err[STORE_ERROR_MAX];
	(void)m;

	sl->awaiting = 0;
	sl->fail_ewma = sl->fail_ewma * 0.9 + 0.1;
	if (cms >= 0)
		snprintf(err, sizeof(err), "%s: +CMS ERROR %d: %s", modem_name(sl->m), cms, why ? why : "");
	else
		snprintf(err, sizeof(err), "%s: %s", modem_name(sl->m), why ? why : "send failed");
	int64_t id = sl->msg_id;
	enum msg_lane lane = sl->lane;
	int parts_sent = sl->parts_sent;
	scheduler_slot_reset(sl);

	if (reached_modem || parts_sent > 0) {
		/* It may have gone out: never resend blindly (DESIGN: uncertain). */
		breaker_on_failure(&sl->breaker, now);
		sl->failed[SCHED_FAIL_KINDS - 1]++;
		scheduler_transition(s, id, MSG_SENDING, MSG_UNCERTAIN, err, -1);
		log_warnx("message %lld: %s; may have been sent: uncertain", (long long)id, err);
	} else {
		/* Without a CMS code (plain ERROR, +CME, a port that vanished before the PDU): another SIM. */
		enum cms_class cls = cms >= 0 ? cms_classify(cms) : CMS_TRY_ANOTHER;
		sl->failed[cls]++;
		requeue_by_class(s, sl, id, lane, cls, err, now);
	}
	scheduler_kick(s);
}

static void ev_state_changed(void *arg, struct modem *m, enum modem_state from, enum modem_state to)
{
	(void)m;
	/* A SIM coming up (not merely done with a send) may take what waits for a route. */
	if (to == MODEM_READY && from != MODEM_BUSY)
		scheduler_release_held(arg);
	else if (to == MODEM_READY)
		scheduler_kick(arg);
}

/* A new SIM is a new route: its health and counters start again. */
static void ev_sim_changed(void *arg, struct modem *m, const char *old_iccid, const char *new_iccid)
{
	struct slot *sl = slot_of(arg, m);
	(void)old_iccid;
	(void)new_iccid;
	if (!sl)
		return;
	sl->fail_ewma = 0;
	sl->latency_ewma = 0;
	breaker_init(&sl->breaker, sl->breaker.threshold, sl->breaker.base_ms, sl->breaker.max_ms);
	memset(&sl->used, 0, sizeof(sl->used));
	recipients_reset(&sl->rcpt);
}

static const struct modem_events events = {
	.ready = ev_ready,
	.sent = ev_sent,
	.send_failed = ev_send_failed,
	.state_changed = ev_state_changed,
	.sim_changed = ev_sim_changed,
	.inbound = scheduler_inbound_event,
	.status_report = scheduler_status_report_event,
};

const struct modem_events *scheduler_modem_events(void) { return &events; }

struct usage_ctx {
	struct scheduler *s;
	enum quota_window w;
	int64_t start;
};

static int usage_cb(void *arg, const char *route, int64_t segments)
{
	struct usage_ctx *u = arg;
	for (size_t i = 0; i < u->s->nslots; i++) {
		struct slot *sl = u->s->slots[i];
		if (strcmp(modem_name(sl->m), route) == 0) {
			sl->used.used[u->w] = segments;
		}
	}
	return 0;
}

/* Quota counters come back from the parts the store saw go out, so a restart resets nothing. */
void scheduler_restore_quota(struct scheduler *s, int64_t now_ms)
{
	for (int w = 0; w < QUOTA_WINDOWS; w++) {
		int64_t start, end;
		quota_window_bounds((enum quota_window)w, now_ms / 1000, &start, &end);
		for (size_t i = 0; i < s->nslots; i++) {
			s->slots[i]->used.start[w] = start;
			s->slots[i]->used.end[w] = end;
			s->slots[i]->used.used[w] = 0;
		}
		struct usage_ctx u = { s, (enum quota_window)w, start };
		store_route_usage(s->st, start * 1000, usage_cb, &u);
	}
}

struct rcpt_ctx {
	struct scheduler *s;
	struct slot *only;
	int64_t now_s, day_start_ms;
};

static int recipients_cb(void *arg, const char *route, const char *number, int64_t last_ms)
{
	struct rcpt_ctx *c = arg;
	for (size_t i = 0; i < c->s->nslots; i++) {
		struct slot *sl = c->s->slots[i];
		if ((c->only && sl != c->only) || strcmp(modem_name(sl->m), route) != 0)
			continue;
		/* the month's numbers all count for the month; the day's only those sent today */
		struct recipients_limits l = { .max = { [RECIPIENTS_MONTH] = sl->policy.recipients.max[RECIPIENTS_MONTH] } };
		if (last_ms >= c->day_start_ms)
			l.max[RECIPIENTS_DAY] = sl->policy.recipients.max[RECIPIENTS_DAY];
		if (recipients_add(&l, &sl->rcpt, number, c->now_s) < 0)
			return 1;
	}
	return 0;
}

/* Recipient sets come back from the parts the store saw go out since the month began (a day is
 * always inside its month), so a restart or a reload forgets nobody. */
void scheduler_restore_recipients(struct scheduler *s, struct slot *only, int64_t now_ms)
{
	int64_t day_start, month_start, end;
	bool any = false;
	quota_window_bounds(QUOTA_DAY, now_ms / 1000, &day_start, &end);
	quota_window_bounds(QUOTA_MONTH, now_ms / 1000, &month_start, &end);
	for (size_t i = 0; i < s->nslots; i++) {
		struct slot *sl = s->slots[i];
		if (only && sl != only)
			continue;
		recipients_reset(&sl->rcpt);
		any |= sl->policy.recipients.max[RECIPIENTS_DAY] > 0 || sl->policy.recipients.max[RECIPIENTS_MONTH] > 0;
	}
	if (!any)
		return;
	struct rcpt_ctx c = { s, only, now_ms / 1000, day_start * 1000 };
	int64_t since = month_start < day_start ? month_start : day_start;
	if (store_route_recipients(s->st, since * 1000, recipients_cb, &c) < 0)
		log_warnx("scheduler: cannot read recipients from the store: recipient quotas start from zero");
}
