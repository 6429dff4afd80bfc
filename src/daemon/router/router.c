/* router: pure route-choice policy — given a message's needs and route snapshots, pick one. Calls nothing. */
#include "router/router.h"

#include <string.h>

/* Latency at which the latency term is worth half its weight: a network submit takes 1-5 s. */
#define LATENCY_HALF_MS 3000.0

static double clamp01(double v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

bool router_prefix_match(const struct router_route *r, const char *to)
{
	if (!to)
		return false;
	for (int i = 0; i < r->nprefixes && i < ROUTER_PREFIXES_MAX; i++) {
		size_t n = strlen(r->prefixes[i]);
		if (n && strncmp(to, r->prefixes[i], n) == 0)
			return true;
	}
	return false;
}

double router_score_parts(const struct router_route *r, const struct router_need *need,
			  struct router_score_parts *parts)
{
	static const struct router_weights defaults = ROUTER_WEIGHTS_DEFAULT;
	const struct router_weights *w = need->weights ? need->weights : &defaults;
	struct router_score_parts p = { .why = NULL };
	bool match = router_prefix_match(r, need->to);

	if (!r->idle)
		p.why = "busy";
	else if (r->cooldown_until_ms > need->now_ms)
		p.why = "cooling down";
	else if (r->restrict_prefixes && !match)
		p.why = "prefix";
	else if (r->recipients_full)
		p.why = "recipient quota";
	/* Signal: CSQ 0..31 maps to 0..1; unknown (99) counts as middling rather than as dead. */
	p.signal = w->signal * ((r->rssi >= 0 && r->rssi <= 31) ? r->rssi / 31.0 : 0.5);
	/* Failures weigh more than signal by default: a SIM that fails delivers nothing however strong. */
	p.failure = w->failure * (1.0 - clamp01(r->fail_ewma));
	/* Not measured yet counts as fast, so a new SIM gets tried and measured rather than starved. */
	p.latency = w->latency * (r->latency_ms > 0 ? 1.0 / (1.0 + r->latency_ms / LATENCY_HALF_MS) : 1.0);
	/* Headroom spreads a quota-limited bank evenly, so no SIM runs dry long before the others. */
	p.headroom = w->headroom * clamp01(r->quota_headroom);
	p.affinity = match ? w->affinity : 0.0;
	p.total = p.signal + p.failure + p.latency + p.headroom + p.affinity;
	/* An eligible route never scores below 0 (weights are >= 0), so < 0 stays "not eligible". */
	if (p.total < 0)
		p.total = 0;
	if (parts)
		*parts = p;
	return p.why ? -1.0 : p.total;
}

double router_score(const struct router_route *r, const struct router_need *need)
{
	return router_score_parts(r, need, NULL);
}

int router_pick(const struct router_route *routes, size_t n, const struct router_need *need)
{
	double top = -1.0, score[n ? n : 1];
	int best = -1;

	for (size_t i = 0; i < n; i++) {
		score[i] = router_score(&routes[i], need);
		if (score[i] > top)
			top = score[i];
	}
	if (top < 0)
		return -1;
	/* Scores within 0.05 of the best are a tie: spread the load least-recently-used first. */
	for (size_t i = 0; i < n; i++) {
		if (score[i] < 0 || score[i] < top - 0.05)
			continue;
		if (best < 0 || routes[i].last_used_ms < routes[best].last_used_ms)
			best = (int)i;
	}
	return best;
}
