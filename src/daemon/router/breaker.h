/* breaker: a route's circuit breaker — consecutive failures open it, a cool-down later one probe may close it. */
#ifndef SIMROUTED_BREAKER_H
#define SIMROUTED_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

enum breaker_state { BREAKER_CLOSED = 0, BREAKER_OPEN, BREAKER_HALF_OPEN };

/* Plain data so it can live in a route's struct and be tested without a loop. */
struct breaker {
	enum breaker_state state;
	int consecutive_failures;
	int opened_times;          /* opens in a row without a success: grows the cool-down */
	int64_t open_until_ms;     /* OPEN: when a probe may go */
	bool probe_inflight;       /* HALF_OPEN: the one probe is out */
	/* settings */
	int threshold;             /* consecutive failures that open it (0: 3) */
	int64_t base_ms;           /* first cool-down (0: 30 s); doubles per re-open */
	int64_t max_ms;            /* cap (0: 15 min) */
};

const char *breaker_state_name(enum breaker_state s);
void breaker_init(struct breaker *b, int threshold, int64_t base_ms, int64_t max_ms);
/* May a message be sent now? OPEN turns HALF_OPEN once the cool-down has passed. */
bool breaker_allows(struct breaker *b, int64_t now_ms);
/* A send is starting (in HALF_OPEN it is the probe: no other send until it ends). */
void breaker_on_attempt(struct breaker *b);
void breaker_on_success(struct breaker *b);
/* A failure that counts against the route (not the message's own fault). */
void breaker_on_failure(struct breaker *b, int64_t now_ms);
/* Cool the route down now for at least ms (a CMS error of the cool-down class), as if opened. */
void breaker_cool_down(struct breaker *b, int64_t now_ms, int64_t ms);

#endif
