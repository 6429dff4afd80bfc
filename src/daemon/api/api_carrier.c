/* api_carrier: POST /v1/carrier/<name>/status — a cloud carrier reports what became of a message it
 * took. Open on TCP (the carrier has no API key): the request's signature is its authentication.
 *
 * type = twilio: Twilio's status callback (form: MessageSid, MessageStatus, ErrorCode), signed with
 * X-Twilio-Signature over [carrier:X] status_callback_url (the URL Twilio was given, as it called it,
 * whatever a reverse proxy rewrote on the way) and the auth_token.
 * type = http: JSON {"id", "status", "error"}, signed as simroute signs its own webhooks:
 * X-Simroute-Timestamp and X-Simroute-Signature = "sha256=" hex(HMAC-SHA256(callback_secret,
 * timestamp "." body)), the timestamp within API_CARRIER_SKEW_S of now (a replay goes stale).
 *
 * The carrier's message id (stored when it accepted the message) names the message; delivered or
 * undelivered moves it from sent (or uncertain) with store_transition, so the webhook outbox reports
 * it like any other final state. A repeated or late callback changes nothing and is answered 200. */
#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_private.h"
#include "api/webhook.h"
#include "carrier/carrier_callback.h"
#include "config.h"
#include "queue/store.h"
#include "simroute/log.h"

#define API_CARRIER_SKEW_S 300

int api_carrier_http_verify(const char *secret, const char *timestamp, const char *signature, const char *body,
			    size_t len, long long now_s)
{
	char want[WEBHOOK_SIG_MAX], *end;

	if (!secret || !*secret || !timestamp || !signature)
		return -1;
	long long ts = strtoll(timestamp, &end, 10);
	if (end == timestamp || *end || ts < now_s - API_CARRIER_SKEW_S || ts > now_s + API_CARRIER_SKEW_S)
		return -1;
	if (webhook_sign(secret, ts, body, len, want) < 0)
		return -1;
	return carrier_callback_sig_equal(signature, want) ? 0 : -1;
}

static const struct config_carrier *find_carrier(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->ncarriers; i++)
		if (strcmp(cfg->carriers[i].name, name) == 0)
			return &cfg->carriers[i];
	return NULL;
}

/* What the callback said, whichever its shape. */
struct report {
	char id[STORE_CARRIER_ID_MAX];
	char status[32];
	char error[96];
};

static int read_twilio(struct api_req *r, const struct config_carrier *cc, const char *body, size_t len,
		       struct report *rep)
{
	const char *got = evhttp_find_header(evhttp_request_get_input_headers(r->req), "X-Twilio-Signature");
	struct carrier_callback_form f;
	char want[CARRIER_TWILIO_SIG_MAX];

	if (!cc->status_callback_url[0]) {
		api_error(r->req, 403, "forbidden", NULL, "[carrier:%s] has no status_callback_url: Twilio's signature "
			  "cannot be checked", cc->name);
		return -1;
	}
	/* base64 of an HMAC-SHA1: 28 characters; anything else is refused before the body is parsed */
	if (!got || strlen(got) != 28) {
		api_error(r->req, 403, "bad_signature", NULL, "X-Twilio-Signature is missing or malformed");
		return -1;
	}
	if (carrier_callback_form_parse(body, len, &f) < 0) {
		api_error(r->req, 400, "bad_request", NULL, "the body is not application/x-www-form-urlencoded");
		return -1;
	}
	int ok = carrier_callback_twilio_sign(cc->auth_token, cc->status_callback_url, &f, want) == 0 &&
		 carrier_callback_sig_equal(got, want);
	if (ok) {
		const char *sid = carrier_callback_form_get(&f, "MessageSid"), *st = carrier_callback_form_get(&f, "MessageStatus");
		const char *code = carrier_callback_form_get(&f, "ErrorCode");
		snprintf(rep->id, sizeof(rep->id), "%s", sid ? sid : "");
		snprintf(rep->status, sizeof(rep->status), "%s", st ? st : "");
		if (code && *code)
			snprintf(rep->error, sizeof(rep->error), "Twilio error %.16s", code);
	}
	carrier_callback_form_clear(&f);
	if (!ok) {
		api_error(r->req, 403, "bad_signature", NULL, "X-Twilio-Signature does not match");
		return -1;
	}
	return 0;
}

static int read_http(struct api_req *r, const struct config_carrier *cc, const char *body, size_t len,
		     struct report *rep)
{
	const struct evkeyvalq *h = evhttp_request_get_input_headers(r->req);
	json_t *doc, *id;

	if (!cc->callback_secret[0]) {
		api_error(r->req, 403, "forbidden", NULL, "[carrier:%s] has no callback_secret: callbacks are refused",
			  cc->name);
		return -1;
	}
	if (api_carrier_http_verify(cc->callback_secret, evhttp_find_header(h, "X-Simroute-Timestamp"),
				    evhttp_find_header(h, "X-Simroute-Signature"), body, len, api_now_ms() / 1000) < 0) {
		api_error(r->req, 403, "bad_signature", NULL,
			  "X-Simroute-Signature does not match, or X-Simroute-Timestamp is missing or not within %d s",
			  API_CARRIER_SKEW_S);
		return -1;
	}
	doc = json_loadb(body, len, 0, NULL);
	id = json_object_get(doc, "id");
	const char *st = json_string_value(json_object_get(doc, "status"));
	const char *err = json_string_value(json_object_get(doc, "error"));
	if (!json_is_object(doc) || !(json_is_string(id) || json_is_integer(id)) || !st) {
		json_decref(doc);
		api_error(r->req, 400, "bad_request", NULL, "expected {\"id\": ..., \"status\": ..., \"error\": ...}");
		return -1;
	}
	if (json_is_string(id))
		snprintf(rep->id, sizeof(rep->id), "%s", json_string_value(id));
	else
		snprintf(rep->id, sizeof(rep->id), "%lld", (long long)json_integer_value(id));
	snprintf(rep->status, sizeof(rep->status), "%s", st);
	if (err && *err)
		snprintf(rep->error, sizeof(rep->error), "%s", err);
	json_decref(doc);
	return 0;
}

void api_carrier_status(struct api_req *r, const char *name)
{
	const struct config_carrier *cc = find_carrier(r->api->deps.cfg, name);
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);
	const char *body = len ? (const char *)evbuffer_pullup(in, -1) : "";
	struct report rep = { "", "", "" };
	struct store *st = r->api->deps.st;
	char error[STORE_ERROR_MAX];
	int64_t id = 0;

	if (!cc) {
		api_error(r->req, 404, "not_found", NULL, "no carrier named \"%s\"", name);
		return;
	}
	if (len > CARRIER_CALLBACK_MAX_BODY) {
		api_error(r->req, 413, "too_large", NULL, "a status callback is at most %d bytes", CARRIER_CALLBACK_MAX_BODY);
		return;
	}
	if (!body) {
		api_error(r->req, 503, "unavailable", NULL, "out of memory");
		return;
	}
	if ((strcmp(cc->type, "twilio") == 0 ? read_twilio(r, cc, body, len, &rep) : read_http(r, cc, body, len, &rep)) < 0)
		return;
	enum carrier_callback_dlr dlr = carrier_callback_status(rep.status);
	if (!rep.id[0] || api_has_control(rep.id, strlen(rep.id)) || api_has_control(rep.error, strlen(rep.error))) {
		api_error(r->req, 400, "bad_request", "id", "the carrier's message id is missing or not printable");
		return;
	}
	int rc = store_carrier_id_find(st, cc->name, rep.id, &id);
	if (rc != 0) {
		if (rc < 0)
			api_error(r->req, 503, "store_unavailable", NULL, "the store could not be read");
		else
			api_error(r->req, 404, "not_found", "id", "carrier %s: no message with id \"%.80s\"", cc->name,
				  rep.id);
		return;
	}
	struct store_msg m;
	if ((rc = store_get(st, id, &m)) != 0) {
		api_error(r->req, rc < 0 ? 503 : 404, rc < 0 ? "store_unavailable" : "not_found", NULL,
			  "message %lld: %s", (long long)id, rc < 0 ? "the store could not be read" : "purged");
		return;
	}
	enum msg_state to = dlr == CARRIER_CALLBACK_DELIVERED ? MSG_DELIVERED : MSG_UNDELIVERED;
	if (dlr == CARRIER_CALLBACK_UNKNOWN && strcmp(cc->type, "twilio") != 0) {
		store_msg_clear(&m);
		api_error(r->req, 400, "bad_request", "status",
			  "status: expected sent, delivered, undelivered or failed, got \"%.32s\"", rep.status);
		return;
	}
	if (dlr == CARRIER_CALLBACK_UNKNOWN) {
		/* Twilio adds statuses now and then: take it, change nothing. */
		log_info("carrier %s: message %lld: status \"%.32s\" ignored", cc->name, (long long)id, rep.status);
	} else if (dlr != CARRIER_CALLBACK_PENDING && (m.state == MSG_SENT || m.state == MSG_UNCERTAIN)) {
		snprintf(error, sizeof(error), "%.40s: %.24s%s%.90s", cc->name, rep.status, rep.error[0] ? ": " : "",
			 rep.error);
		rc = store_transition(st, id, m.state, to, NULL, to == MSG_UNDELIVERED ? error : NULL, api_now_ms());
		if (rc < 0) {
			store_msg_clear(&m);
			api_error(r->req, 503, "store_unavailable", NULL, "the store could not be written");
			return;
		}
		if (rc == 0) {
			log_info("message %lld: %s by carrier %s (id %s)", (long long)id, message_state_name(to), cc->name,
				 rep.id);
			m.state = to;
		}
	} else if (dlr != CARRIER_CALLBACK_PENDING && m.state == MSG_SENDING) {
		/* Its acceptance is not written yet (a store error being retried): ask the carrier to try later. */
		store_msg_clear(&m);
		api_error(r->req, 503, "not_ready", NULL, "message %lld is still being recorded as sent", (long long)id);
		return;
	}
	api_reply(r->req, 200, json_pack("{s:I, s:s}", "message_id", (json_int_t)id, "status",
					 message_state_name(m.state)));
	store_msg_clear(&m);
}
