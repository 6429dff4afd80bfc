/* scheduler_stats: a route's health and quota use as the API and CLI show them (read-only). */
#include <string.h>

#include "carrier/carrier.h"
#include "queue/scheduler_int.h"

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
