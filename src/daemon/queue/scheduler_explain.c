/* scheduler_explain: why a message is where it is — its lane, its wait, every route's state, the carrier. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "carrier/carrier.h"
#include "queue/scheduler_int.h"
#include "router/breaker.h"

struct out {
	scheduler_line_cb *line;
	void *arg;
};

static void say(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct out *o, const char *fmt, ...)
{
	char buf[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	o->line(o->arg, buf);
}

static const char *at(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%H:%M:%S UTC", &tm);
	return buf;
}

/* A window's end can be weeks away: with the date. */
static const char *at_date(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm);
	return buf;
}

static void explain_routes(struct scheduler *s, const struct store_msg *m, struct out *o, int64_t now)
{
	char t[32], score[192];
	if (s->nslots == 0)
		say(o, "no modems are configured");
	struct router_need need = { .nparts = m->nparts, .now_ms = now, .to = m->to, .weights = &s->weights };
	for (size_t i = 0; i < s->nslots; i++) {
		struct slot *sl = s->slots[i];
		const char *name = modem_name(sl->m);
		enum modem_state st = modem_state(sl->m);
		int64_t open = quota_next_open(&sl->policy.quota, &sl->used, m->nparts, now / 1000);
		struct router_route r;
		struct router_score_parts sp;
		bool fits, rcpt_ok, prefix_ok;
		scheduler_route_view(sl, m, now, &r, &fits, &rcpt_ok, &prefix_ok);
		router_score_parts(&r, &need, &sp);
		/* The score as the router would weigh this route for this message (weights of [router]). */
		snprintf(score, sizeof(score), "score %.2f = signal %.2f + health %.2f + latency %.2f + headroom %.2f"
			 " + affinity %.2f", sp.total, sp.signal, sp.failure, sp.latency, sp.headroom, sp.affinity);
		if (st != MODEM_READY && st != MODEM_BUSY)
			say(o, "route %s: modem %s, cannot send", name, modem_state_name(st));
		else if (sl->breaker.state == BREAKER_OPEN && sl->breaker.open_until_ms > now)
			say(o, "route %s: cooling down after failures until %s", name,
			    at(sl->breaker.open_until_ms, t, sizeof(t)));
		else if (sl->drained)
			say(o, "route %s: drained by an admin (takes no new messages)", name);
		else if (!prefix_ok)
			say(o, "route %s: takes only destinations starting %s%s (restrict_prefixes)", name,
			    sl->policy.prefixes[0], sl->policy.nprefixes > 1 ? ", ..." : "");
		else if (open < 0)
			say(o, "route %s: this message has more parts than its quota window allows", name);
		else if (open * 1000 > now)
			say(o, "route %s: out of quota until %s", name, at(open * 1000, t, sizeof(t)));
		else if (!rcpt_ok)
			say(o, "route %s: recipient quota used up (%lld/%lld today, %lld/%lld this month) and this number "
			       "is new to it; new numbers again at %s", name,
			    (long long)recipients_used(&sl->rcpt, RECIPIENTS_DAY, now / 1000),
			    (long long)sl->policy.recipients.max[RECIPIENTS_DAY],
			    (long long)recipients_used(&sl->rcpt, RECIPIENTS_MONTH, now / 1000),
			    (long long)sl->policy.recipients.max[RECIPIENTS_MONTH],
			    at_date(recipients_next_open(&sl->policy.recipients, &sl->rcpt, now / 1000) * 1000, t, sizeof(t)));
		else if (sl->msg_id)
			say(o, "route %s: busy sending message %lld; %s", name, (long long)sl->msg_id, score);
		else
			say(o, "route %s: ready; %s", name, score);
	}
}

static void explain_carrier(struct scheduler *s, const struct store_msg *m, struct out *o, int64_t now)
{
	char t[32];
	int64_t after = s->cfg.carrier_after_ms[m->lane];
	if (!s->carrier)
		say(o, "carrier: none configured, so it waits for a SIM");
	else if (!m->allow_carrier)
		say(o, "carrier: not allowed for this message (allow_carrier false)");
	else if (after <= 0)
		say(o, "carrier: not used for %s messages", message_lane_name(m->lane));
	else if (now - m->created_ms < after)
		say(o, "carrier: %s takes it if no SIM has started it by %s", carrier_name(s->carrier),
		    at(m->created_ms + after, t, sizeof(t)));
	else if (!breaker_allows(&s->carrier_breaker, now))
		say(o, "carrier: %s is cooling down after failures until %s", carrier_name(s->carrier),
		    at(s->carrier_breaker.open_until_ms, t, sizeof(t)));
	else
		say(o, "carrier: due now (%s, %d of %d requests in flight)", carrier_name(s->carrier),
		    s->carrier_inflight, s->carrier_max_inflight);
}

void scheduler_explain(struct scheduler *s, const struct store_msg *m, scheduler_line_cb *line, void *arg)
{
	struct out o = { line, arg };
	int64_t now = scheduler_now_ms();
	char t[32];

	switch (m->state) {
	case MSG_QUEUED: {
		int found = 0;
		for (size_t i = 0; i < s->ndelayed; i++) {
			if (s->delayed[i].id == m->id) {
				say(&o, "waiting until %s: %s", at(s->delayed[i].due_ms, t, sizeof(t)), s->delayed[i].why);
				found = 1;
			}
		}
		if (!found) {
			long ahead = 0;
			for (int l = 0; l < LANE_COUNT; l++) {
				struct lane_window *w = &s->lanes[l];
				for (size_t i = 0; i < w->len; i++) {
					int64_t id = w->ids[(w->head + i) % w->cap];
					if (id == m->id) {
						found = 1;
						break;
					}
					ahead += id != 0;
				}
				if (found || (int)m->lane == l)
					break;
			}
			if (found)
				say(&o, "queued in the %s lane with %ld message(s) ahead of it (otp > normal > bulk)",
				    message_lane_name(m->lane), ahead);
			else
				say(&o, "queued in the %s lane, behind the %d oldest of its lane held in memory",
				    message_lane_name(m->lane), s->cfg.window);
		}
		if (m->attempts)
			say(&o, "tried %d time(s) already; last error: %s", m->attempts, m->last_error);
		explain_routes(s, m, &o, now);
		explain_carrier(s, m, &o, now);
		if (m->expires_ms)
			say(&o, "expires at %s if not sent by then (ttl)", at(m->expires_ms, t, sizeof(t)));
		break;
	}
	case MSG_SENDING:
		say(&o, "being sent via %s (%d of %d part(s) handed over)", m->route, m->parts_sent, m->nparts);
		break;
	case MSG_SENT:
		say(&o, "sent via %s at %s; %s", m->route, at(m->sent_ms, t, sizeof(t)),
		    m->delivery_report ? "waiting for the delivery report" : "no delivery report was asked for");
		break;
	case MSG_DELIVERED:
		say(&o, "delivered (via %s)", m->route);
		break;
	case MSG_UNDELIVERED:
		say(&o, "the network reported it undelivered: %s", m->last_error);
		break;
	case MSG_FAILED:
		say(&o, "failed after %d attempt(s): %s", m->attempts, m->last_error);
		break;
	case MSG_EXPIRED:
		say(&o, "expired: its ttl passed before any route could send it");
		break;
	case MSG_CANCELLED:
		say(&o, "cancelled before it was sent");
		break;
	case MSG_UNCERTAIN:
		say(&o, "uncertain: a send via %s was cut after the message reached it (%s); it may have gone out, "
			"so it is not resent automatically", m->route, m->last_error);
		break;
	case MSG_STATE_COUNT:
		break;
	}
}
