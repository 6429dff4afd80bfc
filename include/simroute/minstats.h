/* minstats: send outcomes per minute over the last hour (overall and per route) and an OTP latency
 * histogram, in fixed memory — what the dashboard's charts and GET /v1/stats are drawn from. */
#ifndef SIMROUTE_MINSTATS_H
#define SIMROUTE_MINSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MINSTATS_MINUTES 60       /* the ring: one slot per wall-clock minute */
#define MINSTATS_ROUTES 32        /* routes tracked by name; more share the overall series only */
#define MINSTATS_ROUTE_MAX 64
/* Latency buckets grow by MINSTATS_LAT_RATIO from 1 ms: bucket 0 holds 0..1 ms, bucket i holds
 * (r^(i-1), r^i] ms, the last one everything above (r^94 is about 7 hours). A percentile is
 * answered with its bucket's upper bound, so it is exact to within 20 %. */
#define MINSTATS_LAT_BUCKETS 96
#define MINSTATS_LAT_RATIO 1.2

struct minstats_route {
	char name[MINSTATS_ROUTE_MAX];
	uint32_t sent[MINSTATS_MINUTES], failed[MINSTATS_MINUTES];
};

/* Plain data, no pointers: zero it or minstats_init() it; no free needed. */
struct minstats {
	int64_t head;                 /* minute number (epoch ms / 60000) of the newest slot */
	uint32_t sent[MINSTATS_MINUTES], failed[MINSTATS_MINUTES];
	uint32_t lat[MINSTATS_MINUTES][MINSTATS_LAT_BUCKETS];
	struct minstats_route routes[MINSTATS_ROUTES];
	size_t nroutes;
};

void minstats_init(struct minstats *s, int64_t now_ms);
/* Move the newest slot to now's minute, emptying the minutes that left the hour. Time going back
 * (a clock step) keeps the ring as it is. */
void minstats_advance(struct minstats *s, int64_t now_ms);
/* One outcome at at_ms: sent or failed on route (NULL or "": overall only); latency_ms >= 0 adds
 * to the latency histogram (accept -> sent of an OTP), -1 not. Outcomes older than the ring are
 * ignored; newer ones advance it. */
void minstats_add(struct minstats *s, int64_t at_ms, const char *route, bool sent, int64_t latency_ms);
/* The last `minutes` (1..MINSTATS_MINUTES) minutes, oldest first, the current one last, overall
 * (route < 0) or of routes[route]. */
void minstats_series(const struct minstats *s, int route, int minutes, uint32_t *sent, uint32_t *failed);
/* The pct (0 < pct <= 100) percentile of the latencies of the last `minutes`, in ms, or -1 when
 * there are none; *count (may be NULL) receives how many there are. */
int64_t minstats_latency(const struct minstats *s, int minutes, double pct, uint64_t *count);
/* Bucket of a latency, and the upper bound of a bucket in ms. */
int minstats_lat_bucket(int64_t ms);
int64_t minstats_lat_upper(int bucket);

#endif
