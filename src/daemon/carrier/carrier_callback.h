/* carrier_callback: reading a carrier's delivery callback — form bodies, Twilio's request signature
 * and the status words — as pure functions (the endpoint is api/api_carrier.c). */
#ifndef SIMROUTED_CARRIER_CALLBACK_H
#define SIMROUTED_CARRIER_CALLBACK_H

#include <stddef.h>

/* What a reported status means for the message. */
enum carrier_callback_dlr {
	CARRIER_CALLBACK_PENDING,       /* on its way (queued, sent, ...): nothing to record */
	CARRIER_CALLBACK_DELIVERED,
	CARRIER_CALLBACK_UNDELIVERED,   /* undelivered or failed after the carrier took it */
	CARRIER_CALLBACK_UNKNOWN,
};
/* Twilio's MessageStatus words (also the generic callback's "status"). */
enum carrier_callback_dlr carrier_callback_status(const char *status);

/* An application/x-www-form-urlencoded body, decoded ('+' is a space, %XX a byte). */
struct carrier_callback_pair {
	char *key, *value;
};
struct carrier_callback_form {
	struct carrier_callback_pair *pairs;
	size_t n;
};
/* A carrier's status callback is a few hundred bytes: the route is open (no API key, only the
 * signature, which needs the whole body), so larger ones and many-field forms are refused before
 * any parsing or hashing. */
#define CARRIER_CALLBACK_MAX_BODY 16384
#define CARRIER_CALLBACK_MAX_PAIRS 64

/* 0, or -1 (out of memory, or a bad %-escape). */
int carrier_callback_form_parse(const char *body, size_t len, struct carrier_callback_form *f);
/* The first value of key, or NULL. */
const char *carrier_callback_form_get(const struct carrier_callback_form *f, const char *key);
void carrier_callback_form_clear(struct carrier_callback_form *f);

/* X-Twilio-Signature of a POST to url with form f: base64(HMAC-SHA1(auth_token, url followed by each
 * parameter's name and value, sorted by name, then value)). out holds 29 bytes (28 and the NUL).
 * 0 or -1. */
#define CARRIER_TWILIO_SIG_MAX 32
int carrier_callback_twilio_sign(const char *auth_token, const char *url, const struct carrier_callback_form *f,
				 char out[CARRIER_TWILIO_SIG_MAX]);
/* Constant-time comparison of a received signature with the expected one. */
int carrier_callback_sig_equal(const char *got, const char *want);

#endif
