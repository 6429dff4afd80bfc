/* api_messages: POST /v1/messages (validate, count parts, group-commit, 202) and GET /v1/messages/<id>. */
#include <event2/buffer.h>
#include <event2/http.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_private.h"
#include "config.h"
#include "queue/ingest.h"
#include "queue/store.h"
#include "simroute/pdu.h"
#include "simroute/phone.h"

#define TTL_MAX (30 * 86400)

struct pending {
	struct evhttp_request *req;
	enum msg_lane lane;
	int nparts;
	enum pdu_encoding enc;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void committed(void *arg, int rc, const int64_t *ids, size_t n)
{
	struct pending *p = arg;
	char loc[64];
	(void)n;
	if (rc != 0) {
		api_error(p->req, 503, "store_unavailable", NULL,
			  "the message could not be stored (disk full or store error); it was NOT accepted, retry later");
	} else {
		snprintf(loc, sizeof(loc), "/v1/messages/%lld", (long long)ids[0]);
		evhttp_add_header(evhttp_request_get_output_headers(p->req), "Location", loc);
		api_reply(p->req, 202,
			  json_pack("{s:I, s:s, s:s, s:i, s:s}", "id", (json_int_t)ids[0], "status", "queued", "priority",
				    message_lane_name(p->lane), "parts", p->nparts, "encoding", pdu_encoding_name(p->enc)));
	}
	free(p);
}

/* Reads the body as JSON; replies 400 itself and returns NULL when it is not a JSON object. */
static json_t *read_json(struct api_req *r)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);
	json_error_t jerr;
	const char *data = (const char *)evbuffer_pullup(in, -1);

	if (len == 0) {
		api_error(r->req, 400, "invalid_json", NULL, "empty body: expected a JSON object");
		return NULL;
	}
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		api_error(r->req, 400, "invalid_json", NULL, "malformed JSON at line %d column %d: %s", jerr.line,
			  jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		api_error(r->req, 400, "invalid_json", NULL, "expected a JSON object");
		return NULL;
	}
	return root;
}

void api_messages_post(struct api_req *r)
{
	const struct config *cfg = r->api->deps.cfg;
	json_t *root = read_json(r);
	const char *key;
	json_t *val;
	struct store_new_msg m = { .lane = LANE_NORMAL };
	int64_t ttl = -1;

	if (!root)
		return;
	json_object_foreach(root, key, val) {
		if (strcmp(key, "to") == 0) {
			if (!json_is_string(val) || !phone_e164_valid(json_string_value(val))) {
				api_error(r->req, 400, "invalid_field", "to",
					  "to: expected an E.164 number such as \"+447700900123\"");
				goto out;
			}
			m.to = json_string_value(val);
		} else if (strcmp(key, "text") == 0) {
			if (!json_is_string(val) || json_string_length(val) == 0) {
				api_error(r->req, 400, "invalid_field", "text", "text: expected a non-empty string");
				goto out;
			}
			m.text = json_string_value(val);
		} else if (strcmp(key, "priority") == 0) {
			if (!json_is_string(val) || message_lane_parse(json_string_value(val), &m.lane) < 0) {
				api_error(r->req, 400, "invalid_field", "priority",
					  "priority: expected \"otp\", \"normal\" or \"bulk\"");
				goto out;
			}
		} else if (strcmp(key, "ttl") == 0) {
			if (!json_is_integer(val) || json_integer_value(val) < 10 || json_integer_value(val) > TTL_MAX) {
				api_error(r->req, 400, "invalid_field", "ttl",
					  "ttl: expected whole seconds between 10 and %d", TTL_MAX);
				goto out;
			}
			ttl = json_integer_value(val);
		} else {
			api_error(r->req, 400, "unknown_field", key, "unknown field \"%s\"", key);
			goto out;
		}
	}
	if (!m.to) {
		api_error(r->req, 400, "missing_field", "to", "to: required");
		goto out;
	}
	if (!m.text) {
		api_error(r->req, 400, "missing_field", "text", "text: required");
		goto out;
	}
	if (memchr(m.text, '\0', json_string_length(val = json_object_get(root, "text"))) != NULL) {
		api_error(r->req, 400, "invalid_field", "text", "text: NUL characters are not allowed");
		goto out;
	}
	struct pdu_submit_opts opts = { .max_parts = (unsigned)cfg->max_parts };
	struct pending *p = calloc(1, sizeof(*p));
	if (!p) {
		api_error(r->req, 503, "overloaded", NULL, "out of memory");
		goto out;
	}
	enum pdu_error perr = pdu_count_parts(m.text, &opts, &p->nparts, &p->enc);
	if (perr != PDU_OK) {
		free(p);
		if (perr == PDU_ERR_TOO_LONG)
			api_error(r->req, 400, "invalid_field", "text", "text: longer than %d SMS parts", cfg->max_parts);
		else
			api_error(r->req, 400, "invalid_field", "text", "text: %s", pdu_strerror(perr));
		goto out;
	}
	if (ttl < 0)
		ttl = m.lane == LANE_OTP ? cfg->otp_ttl : m.lane == LANE_BULK ? cfg->bulk_ttl : cfg->normal_ttl;
	m.nparts = p->nparts;
	m.created_ms = now_ms();
	m.expires_ms = m.created_ms + ttl * 1000;
	p->req = r->req;
	p->lane = m.lane;
	if (ingest_submit(r->api->deps.in, &m, 1, committed, p) < 0) {
		free(p);
		api_error(r->req, 503, "overloaded", NULL, "out of memory");
	}
out:
	json_decref(root);
}

/* Ids are positive decimal integers; anything else is a 404, never a crash or a partial parse. */
static int parse_id(const char *s, int64_t *out)
{
	int64_t v = 0;
	if (!*s || strlen(s) > 18)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return v > 0 ? 0 : -1;
}

void api_messages_get(struct api_req *r, const char *idstr)
{
	struct store_msg m;
	int64_t id;
	int rc;

	if (parse_id(idstr, &id) < 0 || (rc = store_get(r->api->deps.st, id, &m)) == 1) {
		api_error(r->req, 404, "not_found", NULL, "no message with id %.32s", idstr);
		return;
	}
	if (rc < 0) {
		api_error(r->req, 503, "store_unavailable", NULL, "the store could not be read");
		return;
	}
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:i, s:i, s:i}", "id", (json_int_t)m.id, "to", m.to, "text",
			      m.text ? m.text : "", "priority", message_lane_name(m.lane), "status",
			      message_state_name(m.state), "parts", m.nparts, "parts_sent", m.parts_sent, "attempts",
			      m.attempts);
	json_object_set_new(o, "route", m.route[0] ? json_string(m.route) : json_null());
	json_object_set_new(o, "error", m.last_error[0] ? json_string(m.last_error) : json_null());
	json_object_set_new(o, "created_at", api_time(m.created_ms));
	json_object_set_new(o, "updated_at", api_time(m.updated_ms));
	json_object_set_new(o, "sent_at", api_time(m.sent_ms));
	json_object_set_new(o, "expires_at", api_time(m.expires_ms));
	store_msg_clear(&m);
	api_reply(r->req, 200, o);
}
