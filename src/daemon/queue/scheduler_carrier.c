/* scheduler_carrier: the scheduler's carrier side — failover of messages no SIM can take in time. */
#include <stdlib.h>
#include <string.h>

#include "carrier/carrier.h"
#include "queue/scheduler_int.h"
#include "simroute/log.h"
#include "simroute/phone.h"

/* What a carrier request needs to report back (the message may be gone from memory otherwise). */
struct carrier_job {
	struct scheduler *s;
	struct carrier *c;     /* the carrier it went to: after a SIGHUP, maybe a retired one */
	int64_t id;
	enum msg_lane lane;
};

bool scheduler_carrier_ready(struct scheduler *s, int64_t now_ms)
{
	return s->carrier && s->started && s->carrier_inflight < s->carrier_max_inflight &&
	       breaker_allows(&s->carrier_breaker, now_ms);
}

bool scheduler_carrier_due(const struct scheduler *s, const struct store_msg *msg, int64_t now_ms)
{
	int64_t after = s->cfg.carrier_after_ms[msg->lane];
	return s->carrier && msg->allow_carrier && after > 0 && now_ms - msg->created_ms >= after;
}

static void carrier_done(void *arg, const struct carrier_result *res)
{
	struct carrier_job *job = arg;
	struct scheduler *s = job->s;
	int64_t now = scheduler_now_ms();
	struct store_msg msg;
	bool current = job->c == s->carrier;   /* a retired carrier's outcome says nothing of the new one */
	char red[sizeof(res->error)];   /* the carrier's words may quote the number: masked in logs */

	s->carrier_inflight--;
	switch (res->outcome) {
	case CARRIER_ACCEPTED:
		s->carrier_sent++;
		if (current)
			breaker_on_success(&s->carrier_breaker);
		/* The carrier's id first: its delivery callback may follow at once. A store error loses only
		 * the later delivered/undelivered (the callback gets 404), never the send. */
		if (res->id[0] && store_carrier_id_add(s->st, carrier_name(job->c), res->id, job->id, now) < 0)
			log_warnx("message %lld: carrier id %s not stored: its delivery callback will not find it",
				  (long long)job->id, res->id);
		scheduler_transition(s, job->id, MSG_SENDING, MSG_SENT, NULL, -1);
		log_info("message %lld: sent via carrier %s (id %s)", (long long)job->id, carrier_name(job->c),
			 res->id[0] ? res->id : "-");
		break;
	case CARRIER_PERMANENT:
		/* The carrier refused this message; its words say why (bad number, no credit, ...). */
		s->carrier_failed++;
		scheduler_transition(s, job->id, MSG_SENDING, MSG_FAILED, res->error, -1);
		log_warnx("message %lld: %s: failed", (long long)job->id, phone_redact(res->error, red, sizeof(red)));
		break;
	case CARRIER_CANCELLED:
	case CARRIER_TEMPORARY:
		if (res->outcome == CARRIER_TEMPORARY) {
			s->carrier_failed++;
			if (current)
				breaker_on_failure(&s->carrier_breaker, now);
		}
		if (res->outcome == CARRIER_CANCELLED || res->maybe_accepted) {
			scheduler_transition(s, job->id, MSG_SENDING, MSG_UNCERTAIN, res->error, -1);
			log_warnx("message %lld: %s; the carrier may have it: uncertain", (long long)job->id,
				  phone_redact(res->error, red, sizeof(red)));
		} else if (store_get(s->st, job->id, &msg) != 0) {
			scheduler_transition(s, job->id, MSG_SENDING, MSG_QUEUED, res->error, (int)job->lane);
		} else {
			int rc;
			if (msg.attempts >= s->cfg.max_attempts) {
				scheduler_transition(s, job->id, MSG_SENDING, MSG_FAILED, res->error, -1);
				log_warnx("message %lld: %s; %d attempts: failed", (long long)job->id,
					  phone_redact(res->error, red, sizeof(red)), msg.attempts);
			} else if ((rc = store_transition(s->st, job->id, MSG_SENDING, MSG_QUEUED, NULL, res->error, now)) == 0) {
				scheduler_delay_until(s, job->id, job->lane, now + scheduler_backoff_ms(s, msg.attempts),
						      res->error);
			} else if (rc < 0) {
				scheduler_transition(s, job->id, MSG_SENDING, MSG_QUEUED, res->error, (int)job->lane);
			}
			store_msg_clear(&msg);
		}
		break;
	}
	free(job);
	scheduler_kick(s);
}

void scheduler_claim_carrier(struct scheduler *s, struct store_msg *msg)
{
	int64_t now = scheduler_now_ms();
	struct carrier_job *job = malloc(sizeof(*job));
	if (!job)
		return;   /* stays queued in the store; found again at the next page-in or restart */
	*job = (struct carrier_job){ s, s->carrier, msg->id, msg->lane };
	/* As for a modem: `sending` and "handed" (part 1, no reference) are durable before the request
	 * leaves, so a crash while it is out makes the message `uncertain` at start-up, never resent —
	 * the carrier may have taken it. */
	scheduler_pass_commit(s);   /* the pass's own batch first: no nesting */
	store_batch_begin(s->st, true);
	int rc = store_transition(s->st, msg->id, MSG_QUEUED, MSG_SENDING, carrier_name(s->carrier), NULL, now);
	int handed = rc == 0 ? store_record_part(s->st, msg->id, 1, -1, carrier_name(s->carrier), now) : -1;
	if (store_batch_end(s->st) < 0)
		rc = -1;
	if (rc == 0 && handed != 0) {
		/* `sending` without the mark would be requeued by a crash: put it back, try later */
		scheduler_transition(s, msg->id, MSG_SENDING, MSG_QUEUED, "store error before the carrier request",
				     -1);
		rc = -1;
	}
	if (rc != 0) {
		free(job);
		if (rc < 0)   /* a store error must not drop the id from its lane */
			scheduler_delay_until(s, msg->id, msg->lane, now + scheduler_backoff_ms(s, 1), "store error");
		return;
	}
	breaker_on_attempt(&s->carrier_breaker);
	struct carrier_msg cm = { .id = msg->id, .to = msg->to, .text = msg->text,
				  .reference = msg->reference[0] ? msg->reference : NULL };
	if (carrier_send(s->carrier, &cm, carrier_done, job) != 0) {
		/* Nothing left the process: back to the queue with a back-off. */
		if (store_transition(s->st, msg->id, MSG_SENDING, MSG_QUEUED, NULL, "carrier: cannot start a request", now) == 0)
			scheduler_delay_until(s, msg->id, msg->lane, now + scheduler_backoff_ms(s, msg->attempts + 1),
					      "carrier request failed to start");
		else
			scheduler_transition(s, msg->id, MSG_SENDING, MSG_QUEUED, "carrier: cannot start a request",
					     (int)msg->lane);
		free(job);
		return;
	}
	s->carrier_inflight++;
	log_info("message %lld: no SIM in time (waited %lld ms): to carrier %s", (long long)msg->id,
		 (long long)(now - msg->created_ms), carrier_name(s->carrier));
}

void scheduler_set_carrier(struct scheduler *s, struct carrier *c, int max_inflight)
{
	struct carrier *old = s->carrier;

	s->carrier = c;
	s->carrier_max_inflight = max_inflight > 0 ? max_inflight : 8;
	if (!old || old == c)
		return;
	/* A new carrier (SIGHUP): fresh breaker. The old one finishes its requests, with its settings. */
	breaker_init(&s->carrier_breaker, s->cfg.breaker_threshold, s->cfg.cooldown_ms, 16LL * s->cfg.cooldown_ms);
	struct carrier **r = realloc(s->retired, (s->nretired + 1) * sizeof(*r));
	if (!r || carrier_inflight(old) == 0) {
		if (r)
			s->retired = r;
		carrier_free(old);   /* nothing in flight, or (out of memory) cancelled: they become uncertain */
		return;
	}
	s->retired = r;
	s->retired[s->nretired++] = old;
	log_info("carrier %s: replaced; %d request(s) in flight finish with the old settings", carrier_name(old),
		 carrier_inflight(old));
}

void scheduler_carrier_reap(struct scheduler *s, bool all)
{
	size_t k = 0;
	for (size_t i = 0; i < s->nretired; i++) {
		if (all || carrier_inflight(s->retired[i]) == 0)
			carrier_free(s->retired[i]);
		else
			s->retired[k++] = s->retired[i];
	}
	s->nretired = k;
}
