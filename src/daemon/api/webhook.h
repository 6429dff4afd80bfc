/* webhook: delivers the store's webhook outbox — signed POSTs over curl multi on the loop, retried. */
#ifndef SIMROUTED_WEBHOOK_H
#define SIMROUTED_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct store;
struct webhook;

struct webhook_config {
	const char *secret;       /* HMAC-SHA256 key; NULL or "": unsigned */
	int timeout_ms;           /* whole request (0: 5000) */
	int max_age_s;            /* retry an event this long after it was created (0: 86400) */
	int max_inflight;         /* requests at once (0: 4) */
};

#define WEBHOOK_SIG_MAX 72        /* "sha256=" + 64 hex digits + NUL */

/* X-Simroute-Signature for body sent at unix time `timestamp`:
 * "sha256=" hex(HMAC-SHA256(secret, "<timestamp>.<body>")). 0 or -1. */
int webhook_sign(const char *secret, long long timestamp, const char *body, size_t body_len,
		 char out[WEBHOOK_SIG_MAX]);
/* Delay before attempt `attempts` + 1 after `attempts` failures: 5 s doubling, capped at 1 h. */
int64_t webhook_backoff_ms(int attempts);

struct webhook *webhook_new(struct event_base *base, struct store *st, const struct webhook_config *cfg);
/* Look for due rows on the next loop turn (a row was written or replayed). */
void webhook_kick(void *webhook);
int webhook_inflight(const struct webhook *w);
/* Requests in flight are abandoned: their rows stay pending and go out after a restart. */
void webhook_free(struct webhook *w);

#endif
