/* minstats: a ring of per-minute send outcomes and OTP latency histograms (see minstats.h). */
#include "simroute/minstats.h"

#include <math.h>
#include <string.h>

#define MINUTE_MS 60000

static int64_t minute_of(int64_t ms)
{
	return ms >= 0 ? ms / MINUTE_MS : -1;
}

static size_t slot_of(int64_t minute)
{
	return (size_t)(((minute % MINSTATS_MINUTES) + MINSTATS_MINUTES) % MINSTATS_MINUTES);
}

void minstats_init(struct minstats *s, int64_t now_ms)
{
	memset(s, 0, sizeof(*s));
	s->head = minute_of(now_ms);
}

static void clear_slot(struct minstats *s, size_t i)
{
	s->sent[i] = s->failed[i] = 0;
	memset(s->lat[i], 0, sizeof(s->lat[i]));
	for (size_t r = 0; r < s->nroutes; r++)
		s->routes[r].sent[i] = s->routes[r].failed[i] = 0;
}

void minstats_advance(struct minstats *s, int64_t now_ms)
{
	int64_t now = minute_of(now_ms);
	if (now <= s->head)
		return;
	/* a jump of an hour or more empties every slot once */
	int64_t from = now - s->head > MINSTATS_MINUTES ? now - MINSTATS_MINUTES : s->head;
	for (int64_t m = from + 1; m <= now; m++)
		clear_slot(s, slot_of(m));
	s->head = now;
}

int minstats_lat_bucket(int64_t ms)
{
	if (ms <= 1)
		return 0;
	int b = (int)ceil(log((double)ms) / log(MINSTATS_LAT_RATIO) - 1e-9);
	return b >= MINSTATS_LAT_BUCKETS ? MINSTATS_LAT_BUCKETS - 1 : b;
}

int64_t minstats_lat_upper(int bucket)
{
	return bucket <= 0 ? 1 : (int64_t)floor(pow(MINSTATS_LAT_RATIO, bucket) + 1e-9);
}

/* The route's index, taking a free slot (or one with nothing in the hour) for a new name; -1 full. */
static int route_index(struct minstats *s, const char *name)
{
	for (size_t r = 0; r < s->nroutes; r++)
		if (strcmp(s->routes[r].name, name) == 0)
			return (int)r;
	size_t r = s->nroutes;
	if (r == MINSTATS_ROUTES) {
		for (r = 0; r < s->nroutes; r++) {
			uint32_t any = 0;
			for (size_t i = 0; i < MINSTATS_MINUTES; i++)
				any |= s->routes[r].sent[i] | s->routes[r].failed[i];
			if (!any)
				break;
		}
		if (r == s->nroutes)
			return -1;
	} else {
		s->nroutes++;
	}
	memset(&s->routes[r], 0, sizeof(s->routes[r]));
	size_t n = strlen(name);
	if (n >= MINSTATS_ROUTE_MAX)
		n = MINSTATS_ROUTE_MAX - 1;
	memcpy(s->routes[r].name, name, n);
	return (int)r;
}

void minstats_add(struct minstats *s, int64_t at_ms, const char *route, bool sent, int64_t latency_ms)
{
	int64_t m = minute_of(at_ms);
	if (m < 0 || m <= s->head - MINSTATS_MINUTES)
		return;
	minstats_advance(s, at_ms);
	size_t i = slot_of(m);
	if (sent)
		s->sent[i]++;
	else
		s->failed[i]++;
	if (latency_ms >= 0)
		s->lat[i][minstats_lat_bucket(latency_ms)]++;
	int r = route && *route ? route_index(s, route) : -1;
	if (r >= 0) {
		if (sent)
			s->routes[r].sent[i]++;
		else
			s->routes[r].failed[i]++;
	}
}

static int clamp_minutes(int minutes)
{
	return minutes < 1 ? 1 : minutes > MINSTATS_MINUTES ? MINSTATS_MINUTES : minutes;
}

void minstats_series(const struct minstats *s, int route, int minutes, uint32_t *sent, uint32_t *failed)
{
	minutes = clamp_minutes(minutes);
	const uint32_t *sv = route >= 0 ? s->routes[route].sent : s->sent;
	const uint32_t *fv = route >= 0 ? s->routes[route].failed : s->failed;
	for (int k = 0; k < minutes; k++) {
		size_t i = slot_of(s->head - (minutes - 1) + k);
		sent[k] = sv[i];
		failed[k] = fv[i];
	}
}

int64_t minstats_latency(const struct minstats *s, int minutes, double pct, uint64_t *count)
{
	uint64_t hist[MINSTATS_LAT_BUCKETS] = { 0 }, total = 0;
	minutes = clamp_minutes(minutes);
	for (int k = 0; k < minutes; k++) {
		size_t i = slot_of(s->head - k);
		for (int b = 0; b < MINSTATS_LAT_BUCKETS; b++) {
			hist[b] += s->lat[i][b];
			total += s->lat[i][b];
		}
	}
	if (count)
		*count = total;
	if (total == 0 || pct <= 0)
		return -1;
	/* nearest rank: the smallest value with at least pct % of the samples at or below it */
	uint64_t rank = (uint64_t)ceil(pct / 100.0 * (double)total), seen = 0;
	if (rank < 1)
		rank = 1;
	for (int b = 0; b < MINSTATS_LAT_BUCKETS; b++) {
		seen += hist[b];
		if (seen >= rank)
			return minstats_lat_upper(b);
	}
	return minstats_lat_upper(MINSTATS_LAT_BUCKETS - 1);
}
