/* breaker: a route's circuit breaker — consecutive failures open it, a cool-down later one probe may close it. */
#include "router/breaker.h"

const char *breaker_state_name(enum breaker_state s)
{
	switch (s) {
	case BREAKER_CLOSED: return "closed";
	case BREAKER_OPEN: return "open";
	case BREAKER_HALF_OPEN: return "half_open";
	}
	return "?";
}

void breaker_init(struct breaker *b, int threshold, int64_t base_ms, int64_t max_ms)
{
	*b = (struct breaker){ .threshold = threshold > 0 ? threshold : 3,
			       .base_ms = base_ms > 0 ? base_ms : 30000,
			       .max_ms = max_ms > 0 ? max_ms : 15 * 60000 };
}

static void open_for(struct breaker *b, int64_t now_ms, int64_t ms)
{
	b->state = BREAKER_OPEN;
	b->probe_inflight = false;
	if (now_ms + ms > b->open_until_ms)
		b->open_until_ms = now_ms + ms;
}

/* Cool-down grows base, 2 base, 4 base, ... up to max (Postfix: a failing destination shrinks, then
 * reopens slowly with a single probe). */
static int64_t cool_down_ms(const struct breaker *b)
{
	int64_t ms = b->base_ms;
	for (int i = 1; i < b->opened_times && ms < b->max_ms; i++)
		ms *= 2;
	return ms < b->max_ms ? ms : b->max_ms;
}

bool breaker_allows(struct breaker *b, int64_t now_ms)
{
	switch (b->state) {
	case BREAKER_CLOSED:
		return true;
	case BREAKER_OPEN:
		if (now_ms < b->open_until_ms)
			return false;
		b->state = BREAKER_HALF_OPEN;
		b->probe_inflight = false;
		return true;
	case BREAKER_HALF_OPEN:
		return !b->probe_inflight;
	}
	return false;
}

void breaker_on_attempt(struct breaker *b)
{
	if (b->state == BREAKER_HALF_OPEN)
		b->probe_inflight = true;
}

void breaker_on_success(struct breaker *b)
{
	b->state = BREAKER_CLOSED;
	b->consecutive_failures = 0;
	b->opened_times = 0;
	b->probe_inflight = false;
	b->open_until_ms = 0;
}

void breaker_on_failure(struct breaker *b, int64_t now_ms)
{
	b->consecutive_failures++;
	if (b->state == BREAKER_HALF_OPEN || b->consecutive_failures >= b->threshold) {
		b->opened_times++;
		open_for(b, now_ms, cool_down_ms(b));
	}
}

void breaker_cool_down(struct breaker *b, int64_t now_ms, int64_t ms)
{
	b->opened_times++;
	open_for(b, now_ms, ms > 0 ? ms : cool_down_ms(b));
}
