/* carrier: cloud HTTP SMS carriers (generic JSON, Twilio), driven by curl multi on the libevent loop. */
#ifndef SIMROUTED_CARRIER_H
#define SIMROUTED_CARRIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
	const char *const *headers;  /* "Name: value" sent with every request (a name the type sets itself,
	                                Content-Type or Authorization, replaces that one) */
	size_t nheaders;
	const char *template_json;   /* http: body template (carrier_template.h); NULL: {"to","text","reference"} */
	const char *response_id;     /* the id in a 2xx answer: JSON pointer or key; NULL: id, sid, message_id */
	const char *status_callback_url; /* twilio: sent as StatusCallback; http: the {{callback_url}} placeholder */
};

/* A message to send. */
struct carrier_msg {
	int64_t id;                /* simroute's id ({{id}}) */
	const char *to, *text;
	const char *reference;     /* the client's own id, NULL for none */
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
int carrier_send(struct carrier *c, const struct carrier_msg *m, carrier_done_cb *done, void *arg);
int carrier_inflight(const struct carrier *c);
const char *carrier_name(const struct carrier *c);
/* Checks one `header` setting: "Name: value", the name an HTTP token, the value without control
 * characters (a CR or LF would let it inject headers). 0 or -1 with err. */
int carrier_header_check(const char *line, char *err, size_t errlen);
/* In-flight requests complete with CARRIER_CANCELLED. */
void carrier_free(struct carrier *c);

#endif
