/* scheduler_stats: a route's health and quota use as the API and CLI show them (read-only). */
#include <string.h>

#include "carrier/carrier.h"
#include "queue/scheduler_int.h"
#include "simroute/cms.h"

_Static_assert(CMS_PERMANENT + 2 == SCHED_FAIL_KINDS, "a kind per CMS class, then uncertain");

/* Names as simroute/cms.h's classes (cms_class_name), then a send cut after the PDU was written. */
const char *const scheduler_fail_kind_names[SCHED_FAIL_KINDS] = { "retry_same", "try_another", "cool_down",
								   "permanent", "uncertain" };
/* A part takes seconds on a healthy network; tens of seconds mean a struggling SIM or SMSC. */
const double scheduler_latency_bounds_s[SCHED_LATENCY_BUCKETS - 1] = { 0.5, 1, 2, 5, 10, 30, 60 };

void scheduler_stats_latency(struct slot *sl, int64_t ms)
{
	double s = (double)ms / 1000;
	int b = 0;
	while (b < SCHED_LATENCY_BUCKETS - 1 && s > scheduler_latency_bounds_s[b])
		b++;
	sl->latency_buckets[b]++;   /* per bucket; /metrics makes them cumulative */
	sl->latency_sum_s += s;
	sl->latency_count++;
}

void scheduler_route_stats(struct scheduler *s, size_t i, struct scheduler_route_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (i >= s->nslots)
		return;
	struct slot *sl = s->slots[i];
	int64_t now_ms = scheduler_now_ms();
	/* Windows that ended since the last send still hold their old counts until rolled. */
	quota_roll(&sl->used, now_ms / 1000);
	for (int w = 0; w < QUOTA_WINDOWS; w++) {
		out->quota_limit[w] = sl->policy.quota.segments[w];
		out->quota_used[w] = sl->used.used[w];
	}
	out->failure_rate = sl->fail_ewma;
	out->breaker = breaker_state_name(sl->breaker.state);
	out->cooldown_until_ms = sl->breaker.state == BREAKER_OPEN ? sl->breaker.open_until_ms : 0;
	out->last_used_ms = sl->last_used_ms;
	out->message_id = sl->msg_id;
	memcpy(out->failed, sl->failed, sizeof(out->failed));
	memcpy(out->latency_buckets, sl->latency_buckets, sizeof(out->latency_buckets));
	out->latency_sum_s = sl->latency_sum_s;
	out->latency_count = sl->latency_count;
}

bool scheduler_carrier_stats(struct scheduler *s, struct scheduler_carrier_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!s->carrier)
		return false;
	out->name = carrier_name(s->carrier);
	out->sent = s->carrier_sent;
	out->failed = s->carrier_failed;
	out->inflight = s->carrier_inflight;
	out->breaker = breaker_state_name(s->carrier_breaker.state);
	return true;
}
