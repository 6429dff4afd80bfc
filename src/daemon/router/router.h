/* router: pure route-choice policy — given a message's needs and route snapshots, pick one. Calls nothing. */
#ifndef SIMROUTED_ROUTER_H
#define SIMROUTED_ROUTER_H

#include <stddef.h>
#include <stdint.h>

struct router_route {
	const char *name;
	int idle;                 /* ready and not sending */
	int rssi;                 /* +CSQ 0..31, 99 unknown */
	double fail_ewma;         /* 0..1, recent failure rate */
	int64_t last_used_ms;     /* for least-recently-used tie-breaking */
	int64_t cooldown_until_ms;
	double quota_headroom;    /* 0..1: the smallest share of a quota window left (1 = unlimited) */
};

struct router_need {
	int nparts;
	int64_t now_ms;
};

/* Score of an eligible route (higher is better); < 0 if not eligible. */
double router_score(const struct router_route *r, const struct router_need *need);
/* Index of the best route, or -1 if none is eligible now. */
int router_pick(const struct router_route *routes, size_t n, const struct router_need *need);

#endif
