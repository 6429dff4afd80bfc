/* recipients: distinct-recipient quotas per route over the calendar day and month — a hash set per window. */
#include "simroute/recipients.h"

#include <stdlib.h>
#include <string.h>

#include "simroute/quota.h"

const char *recipients_window_name(enum recipients_window w)
{
	return w == RECIPIENTS_DAY ? "day" : w == RECIPIENTS_MONTH ? "month" : "?";
}

uint64_t recipients_key(const char *number)
{
	const char *p = number && *number == '+' ? number + 1 : number;
	uint64_t v = 0;
	size_t n = 0;

	if (!number)
		return 1;
	/* "+" and up to 15 digits: the number itself (< 2^50), so two numbers never share a key. */
	while (p[n] >= '0' && p[n] <= '9' && n < 16)
		v = v * 10 + (uint64_t)(p[n++] - '0');
	if (n > 0 && n <= 15 && p[n] == '\0' && *number == '+' && v != 0)
		return v;
	/* Anything else (national digits, a name): FNV-1a with the top bit set, apart from the numbers. */
	uint64_t h = 1469598103934665603ULL;
	for (const unsigned char *c = (const unsigned char *)number; *c; c++)
		h = (h ^ *c) * 1099511628211ULL;
	return h | (1ULL << 63);
}

static size_t slot_of(const struct recipients_set *s, uint64_t key)
{
	/* Fibonacci hashing spreads the mostly-sequential numbers of a bulk list over the table. */
	return (size_t)((key * 11400714819323198485ULL) >> 32) & (s->cap - 1);
}

static bool set_has(const struct recipients_set *s, uint64_t key)
{
	if (!s->cap)
		return false;
	for (size_t i = slot_of(s, key);; i = (i + 1) & (s->cap - 1)) {
		if (s->keys[i] == key)
			return true;
		if (s->keys[i] == 0)
			return false;
	}
}

static int set_put(struct recipients_set *s, uint64_t key)
{
	if ((s->n + 1) * 2 > s->cap) {
		/* Kept at most half full so a probe stays short; grows by doubling. */
		size_t ncap = s->cap ? s->cap * 2 : 64;
		uint64_t *nk = calloc(ncap, sizeof(*nk)), *old = s->keys;
		size_t ocap = s->cap;
		if (!nk)
			return -1;
		s->keys = nk;
		s->cap = ncap;
		for (size_t i = 0; i < ocap; i++)
			if (old[i])
				for (size_t j = slot_of(s, old[i]);; j = (j + 1) & (ncap - 1))
					if (nk[j] == 0) {
						nk[j] = old[i];
						break;
					}
		free(old);
	}
	for (size_t i = slot_of(s, key);; i = (i + 1) & (s->cap - 1)) {
		if (s->keys[i] == key)
			return 0;
		if (s->keys[i] == 0) {
			s->keys[i] = key;
			s->n++;
			return 0;
		}
	}
}

static void set_clear(struct recipients_set *s)
{
	/* A month's set of a busy SIM can be large: give the memory back rather than keep the peak. */
	free(s->keys);
	s->keys = NULL;
	s->n = s->cap = 0;
}

void recipients_roll(struct recipients *r, int64_t now_s)
{
	static const enum quota_window qw[RECIPIENTS_WINDOWS] = { QUOTA_DAY, QUOTA_MONTH };
	for (int w = 0; w < RECIPIENTS_WINDOWS; w++) {
		struct recipients_set *s = &r->w[w];
		/* bounds cached, as in quota_roll: the router asks for every SIM on every dispatch */
		if (now_s >= s->start && now_s < s->end)
			continue;
		int64_t start, end;
		quota_window_bounds(qw[w], now_s, &start, &end);
		if (s->start != start)
			set_clear(s);
		s->start = start;
		s->end = end;
	}
}

bool recipients_known(struct recipients *r, enum recipients_window w, const char *number, int64_t now_s)
{
	recipients_roll(r, now_s);
	return (unsigned)w < RECIPIENTS_WINDOWS && set_has(&r->w[w], recipients_key(number));
}

bool recipients_allows(const struct recipients_limits *l, struct recipients *r, const char *number, int64_t now_s)
{
	uint64_t key = recipients_key(number);
	recipients_roll(r, now_s);
	for (int w = 0; w < RECIPIENTS_WINDOWS; w++)
		if (l->max[w] > 0 && (int64_t)r->w[w].n >= l->max[w] && !set_has(&r->w[w], key))
			return false;
	return true;
}

int recipients_add(const struct recipients_limits *l, struct recipients *r, const char *number, int64_t now_s)
{
	uint64_t key = recipients_key(number);
	int rc = 0;
	recipients_roll(r, now_s);
	for (int w = 0; w < RECIPIENTS_WINDOWS; w++)
		if (l->max[w] > 0 && set_put(&r->w[w], key) < 0)
			rc = -1;
	return rc;
}

int64_t recipients_used(struct recipients *r, enum recipients_window w, int64_t now_s)
{
	recipients_roll(r, now_s);
	return (unsigned)w < RECIPIENTS_WINDOWS ? (int64_t)r->w[w].n : 0;
}

int64_t recipients_next_open(const struct recipients_limits *l, struct recipients *r, int64_t now_s)
{
	int64_t when = now_s;
	recipients_roll(r, now_s);
	for (int w = 0; w < RECIPIENTS_WINDOWS; w++)
		if (l->max[w] > 0 && (int64_t)r->w[w].n >= l->max[w] && r->w[w].end > when)
			when = r->w[w].end;
	return when;
}

void recipients_reset(struct recipients *r)
{
	for (int w = 0; w < RECIPIENTS_WINDOWS; w++) {
		if (r->w[w].cap)
			memset(r->w[w].keys, 0, r->w[w].cap * sizeof(*r->w[w].keys));
		r->w[w].n = 0;
	}
}

void recipients_free(struct recipients *r)
{
	for (int w = 0; w < RECIPIENTS_WINDOWS; w++)
		set_clear(&r->w[w]);
}
