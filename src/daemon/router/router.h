/* router: pure route-choice policy — given a message's needs and route snapshots, pick one. Calls nothing. */
#ifndef SIMROUTED_ROUTER_H
#define SIMROUTED_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROUTER_PREFIXES_MAX 16
#define ROUTER_PREFIX_LEN 17      /* "+" and up to 15 digits, and the NUL */

/* How much each part of the score counts ([router] weight_*). */
struct router_weights {
	double signal;            /* CSQ 0..31 as 0..1 */
	double failure;           /* 1 - failure-rate EWMA */
	double latency;           /* 1 / (1 + send latency / 3 s) */
	double headroom;          /* share of the tightest quota window left */
	double affinity;          /* the destination matches the route's operator prefixes */
};
/* Today's behaviour: failures weigh twice the signal, headroom half; latency a little. */
#define ROUTER_WEIGHTS_DEFAULT { .signal = 1.0, .failure = 2.0, .latency = 0.25, .headroom = 0.5, .affinity = 1.0 }

struct router_route {
	const char *name;
	int idle;                 /* ready and not sending */
	int rssi;                 /* +CSQ 0..31, 99 unknown */
	double fail_ewma;         /* 0..1, recent failure rate */
	int64_t last_used_ms;     /* for least-recently-used tie-breaking */
	int64_t cooldown_until_ms;
	double quota_headroom;    /* 0..1: the smallest share of a quota window left (1 = unlimited) */
	double latency_ms;        /* EWMA of AT+CMGS to +CMGS; <= 0 not measured yet (scored as fast) */
	bool recipients_full;     /* its distinct-recipient quota is used up and the destination is new to it */
	/* operator prefixes ("+4477"): a matching destination scores the affinity weight; with
	 * restrict_prefixes only matching destinations may use the route */
	const char (*prefixes)[ROUTER_PREFIX_LEN];
	int nprefixes;
	bool restrict_prefixes;
};

struct router_need {
	int nparts;
	int64_t now_ms;
	const char *to;                        /* destination, E.164; NULL: no prefix affinity */
	const struct router_weights *weights;  /* NULL: ROUTER_WEIGHTS_DEFAULT */
};

/* A score taken apart, for `simroute explain`: each term already weighted; why NULL when eligible. */
struct router_score_parts {
	double signal, failure, latency, headroom, affinity, total;
	const char *why;          /* not eligible: "busy", "cooling down", "recipient quota", "prefix" */
};

/* Score of an eligible route (higher is better); < 0 if not eligible. */
double router_score(const struct router_route *r, const struct router_need *need);
/* The same, with its terms (parts may be NULL). */
double router_score_parts(const struct router_route *r, const struct router_need *need,
			  struct router_score_parts *parts);
/* Does `to` start with one of the route's prefixes? */
bool router_prefix_match(const struct router_route *r, const char *to);
/* Index of the best route, or -1 if none is eligible now. */
int router_pick(const struct router_route *routes, size_t n, const struct router_need *need);

#endif
