/* carrier: cloud HTTP SMS carriers (generic JSON, Twilio), driven by curl multi on the libevent loop. */
#ifndef SIMROUTED_CARRIER_H
#define SIMROUTED_CARRIER_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct carrier;

struct carrier_config {
	const char *name;
	const char *type;          /* "http" (generic JSON POST) | "twilio" */
	const char *url;           /* http: the endpoint; twilio: the API base URL */
	const char *token;         /* http: optional Bearer token */
	const char *account_sid;   /* twilio */
	const char *auth_token;    /* twilio */
	const char *from;          /* twilio: sender number or messaging service */
	int timeout_ms;            /* whole request; 0: 15000 */
};

enum carrier_outcome {
	CARRIER_ACCEPTED = 0,      /* the carrier took the message */
	CARRIER_TEMPORARY,         /* try again later (5xx, 408, 429, network error, timeout) */
	CARRIER_PERMANENT,         /* the carrier refused this message (4xx): do not retry there */
	CARRIER_CANCELLED,         /* carrier_free() while in flight */
};

struct carrier_result {
	enum carrier_outcome outcome;
	long http_status;          /* 0 if no HTTP answer */
	bool maybe_accepted;       /* TEMPORARY with no answer after the request went out (a timeout):
	                              the carrier may have taken it, so it must not be resent blindly */
	char id[80];               /* the carrier's message id, if it gave one */
	char error[160];
};
typedef void carrier_done_cb(void *arg, const struct carrier_result *res);

/* NULL with err filled on a bad config (unknown type, missing url/sid/token, not http(s)). */
struct carrier *carrier_new(struct event_base *base, const struct carrier_config *cfg, char *err, size_t errlen);
/* Starts the request; done runs later from the loop (never from inside this call). 0 or -1. */
int carrier_send(struct carrier *c, const char *to, const char *text, const char *reference, carrier_done_cb *done,
		 void *arg);
int carrier_inflight(const struct carrier *c);
const char *carrier_name(const struct carrier *c);
/* In-flight requests complete with CARRIER_CANCELLED. */
void carrier_free(struct carrier *c);

#endif
