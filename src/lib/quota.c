/* quota: per-route send quotas in SMS segments over calendar windows (minute, hour, day, month). */
#include "simroute/quota.h"

#include <time.h>

const char *quota_window_name(enum quota_window w)
{
	static const char *const names[] = { "minute", "hour", "day", "month" };
	return (unsigned)w < QUOTA_WINDOWS ? names[w] : "?";
}

void quota_window_bounds(enum quota_window w, int64_t now_s, int64_t *start, int64_t *end)
{
	time_t t = (time_t)now_s;
	struct tm tm, e;

	localtime_r(&t, &tm);
	tm.tm_sec = 0;
	if (w >= QUOTA_HOUR)
		tm.tm_min = 0;
	if (w >= QUOTA_DAY)
		tm.tm_hour = 0;
	if (w >= QUOTA_MONTH)
		tm.tm_mday = 1;
	/* Let mktime decide DST for the boundary itself (a day across a DST change is 23 or 25 h). */
	tm.tm_isdst = -1;
	e = tm;
	switch (w) {
	case QUOTA_MINUTE: e.tm_min++; break;
	case QUOTA_HOUR: e.tm_hour++; break;
	case QUOTA_DAY: e.tm_mday++; break;
	case QUOTA_MONTH: e.tm_mon++; break;
	case QUOTA_WINDOWS: break;
	}
	e.tm_isdst = -1;
	*start = (int64_t)mktime(&tm);
	*end = (int64_t)mktime(&e);
}

void quota_roll(struct quota_counter *c, int64_t now_s)
{
	for (int w = 0; w < QUOTA_WINDOWS; w++) {
		/* The window's bounds are cached: localtime_r/mktime re-read the zone file each call
		 * (a stat per call), and the router asks for every SIM on every dispatch. */
		if (now_s >= c->start[w] && now_s < c->end[w])
			continue;
		int64_t start, end;
		quota_window_bounds((enum quota_window)w, now_s, &start, &end);
		if (c->start[w] != start)
			c->used[w] = 0;
		c->start[w] = start;
		c->end[w] = end;
	}
}

bool quota_allows(const struct quota_limits *l, struct quota_counter *c, int nparts, int64_t now_s)
{
	quota_roll(c, now_s);
	for (int w = 0; w < QUOTA_WINDOWS; w++)
		if (l->segments[w] > 0 && c->used[w] + nparts > l->segments[w])
			return false;
	return true;
}

void quota_add(struct quota_counter *c, int nparts, int64_t now_s)
{
	quota_roll(c, now_s);
	for (int w = 0; w < QUOTA_WINDOWS; w++)
		c->used[w] += nparts;
}

int64_t quota_next_open(const struct quota_limits *l, struct quota_counter *c, int nparts, int64_t now_s)
{
	int64_t when = now_s;
	quota_roll(c, now_s);
	for (int w = 0; w < QUOTA_WINDOWS; w++) {
		if (l->segments[w] <= 0)
			continue;
		if (nparts > l->segments[w])
			return -1;
		if (c->used[w] + nparts > l->segments[w] && c->end[w] > when)
			when = c->end[w];
	}
	return when;
}

double quota_headroom(const struct quota_limits *l, struct quota_counter *c, int64_t now_s)
{
	double least = 1.0;
	quota_roll(c, now_s);
	for (int w = 0; w < QUOTA_WINDOWS; w++) {
		if (l->segments[w] <= 0)
			continue;
		double left = (double)(l->segments[w] - c->used[w]) / (double)l->segments[w];
		if (left < least)
			least = left < 0 ? 0 : left;
	}
	return least;
}
