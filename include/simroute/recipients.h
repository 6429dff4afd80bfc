/* recipients: distinct-recipient quotas per route over the calendar day and month — a hash set per window. */
#ifndef SIMROUTE_RECIPIENTS_H
#define SIMROUTE_RECIPIENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Operators cap how many different numbers one SIM may write to per day or month (bulk senders look
 * like that). A message to a number already counted in the window costs nothing; a new one counts.
 * Windows are the calendar day and month of quota.h (local time, [quota] timezone). */
enum recipients_window { RECIPIENTS_DAY = 0, RECIPIENTS_MONTH, RECIPIENTS_WINDOWS };

struct recipients_limits {
	int64_t max[RECIPIENTS_WINDOWS];   /* 0: no limit (and nothing is tracked for that window) */
};

/* Open addressing over 64-bit keys (0 = empty). A key is the E.164 number itself as an integer
 * (15 digits fit, so distinct numbers never collide), or a hash for anything else. */
struct recipients_set {
	uint64_t *keys;
	size_t n, cap;
	int64_t start, end;                /* the window the set belongs to (epoch s); end 0 = not known */
};

struct recipients {
	struct recipients_set w[RECIPIENTS_WINDOWS];
};

const char *recipients_window_name(enum recipients_window w);   /* "day" | "month" */
uint64_t recipients_key(const char *number);
/* Empty the sets whose window has ended (the other calls do it themselves). */
void recipients_roll(struct recipients *r, int64_t now_s);
/* Is number counted in window w now? */
bool recipients_known(struct recipients *r, enum recipients_window w, const char *number, int64_t now_s);
/* May a message to number go on this route: it is known in every limited window, or the window has room. */
bool recipients_allows(const struct recipients_limits *l, struct recipients *r, const char *number, int64_t now_s);
/* Count number in every limited window (a repeat changes nothing). 0, or -1 out of memory. */
int recipients_add(const struct recipients_limits *l, struct recipients *r, const char *number, int64_t now_s);
/* Distinct numbers counted in window w now (0 for a window without a limit: it is not tracked). */
int64_t recipients_used(struct recipients *r, enum recipients_window w, int64_t now_s);
/* When a new number may go again: now_s if now, else the end of the latest full window. */
int64_t recipients_next_open(const struct recipients_limits *l, struct recipients *r, int64_t now_s);
/* Forget every count (a SIM swap, a rebuild from the store). The memory stays for reuse. */
void recipients_reset(struct recipients *r);
void recipients_free(struct recipients *r);

#endif
