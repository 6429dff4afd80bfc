/* quota: per-route send quotas in SMS segments over calendar windows (minute, hour, day, month). */
#ifndef SIMROUTE_QUOTA_H
#define SIMROUTE_QUOTA_H

#include <stdbool.h>
#include <stdint.h>

/* Windows are calendar windows in the process's local time zone (the daemon sets TZ from
 * `[quota] timezone`), so "per day" resets at local midnight as an operator's tariff does. */
enum quota_window { QUOTA_MINUTE = 0, QUOTA_HOUR, QUOTA_DAY, QUOTA_MONTH, QUOTA_WINDOWS };

struct quota_limits {
	int64_t segments[QUOTA_WINDOWS];   /* 0: no limit for that window */
};

struct quota_counter {
	int64_t start[QUOTA_WINDOWS];      /* start of the window the count belongs to (epoch s) */
	int64_t end[QUOTA_WINDOWS];        /* its end, cached: 0 = not known yet */
	int64_t used[QUOTA_WINDOWS];
};

const char *quota_window_name(enum quota_window w);   /* "minute" | "hour" | "day" | "month" */
/* [start, end) of the window holding now (epoch seconds). */
void quota_window_bounds(enum quota_window w, int64_t now_s, int64_t *start, int64_t *end);
/* Zero the counts of windows that have ended (call before reading a counter). */
void quota_roll(struct quota_counter *c, int64_t now_s);
/* Is there room for nparts more segments in every window? */
bool quota_allows(const struct quota_limits *l, struct quota_counter *c, int nparts, int64_t now_s);
void quota_add(struct quota_counter *c, int nparts, int64_t now_s);
/* When will there be room for nparts: now_s if now, the end of the latest full window otherwise,
 * or -1 if nparts exceeds a window's whole limit (it can never go on this route). */
int64_t quota_next_open(const struct quota_limits *l, struct quota_counter *c, int nparts, int64_t now_s);
/* The smallest share left over the limited windows, 0..1 (1 when nothing is limited): for scoring. */
double quota_headroom(const struct quota_limits *l, struct quota_counter *c, int64_t now_s);

#endif
