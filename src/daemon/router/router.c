/* router: pure route-choice policy — given a message's needs and route snapshots, pick one. Calls nothing. */
#include "router/router.h"

double router_score(const struct router_route *r, const struct router_need *need)
{
	if (!r->idle || r->cooldown_until_ms > need->now_ms)
		return -1.0;
	/* Signal: CSQ 0..31 maps to 0..1; unknown (99) counts as middling rather than as dead. */
	double signal = (r->rssi >= 0 && r->rssi <= 31) ? r->rssi / 31.0 : 0.5;
	double health = 1.0 - (r->fail_ewma < 0 ? 0 : r->fail_ewma > 1 ? 1 : r->fail_ewma);
	/* Failures weigh more than signal: a SIM that fails delivers nothing however strong its signal.
	 * Headroom spreads a quota-limited bank evenly, so no SIM runs dry long before the others. */
	double headroom = r->quota_headroom < 0 ? 0 : r->quota_headroom > 1 ? 1 : r->quota_headroom;
	return 2.0 * health + signal + 0.5 * headroom;
}

int router_pick(const struct router_route *routes, size_t n, const struct router_need *need)
{
	double top = -1.0;
	int best = -1;

	for (size_t i = 0; i < n; i++) {
		double s = router_score(&routes[i], need);
		if (s > top)
			top = s;
	}
	if (top < 0)
		return -1;
	/* Scores within 0.05 of the best are a tie: spread the load least-recently-used first. */
	for (size_t i = 0; i < n; i++) {
		double s = router_score(&routes[i], need);
		if (s < 0 || s < top - 0.05)
			continue;
		if (best < 0 || routes[i].last_used_ms < routes[best].last_used_ms)
			best = (int)i;
	}
	return best;
}
