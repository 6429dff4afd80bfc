/* api_messages_post: POST /v1/messages — one message or a batch, validated whole, committed in one
 * transaction (group commit), with Idempotency-Key replay. */
#include <event2/buffer.h>
#include <event2/http.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_private.h"
#include "config.h"
#include "queue/ingest.h"
#include "queue/store.h"
#include "simroute/pdu.h"
#include "simroute/phone.h"

#define TTL_MAX (30 * 86400)
#define REFERENCE_MAX (STORE_REFERENCE_MAX - 1)
#define URL_MAX (STORE_URL_MAX - 1)
#define IDEM_KEY_MAX (STORE_IDEM_KEY_MAX - 1)

/* What the answer says about each accepted message; computed again, identically, on a replay. */
struct accepted {
	enum msg_lane lane;
	int nparts;
	enum pdu_encoding enc;
	const char *reference;   /* points into the request's JSON (kept alive until the answer) */
};

/* One request between validation and its commit. */
struct post {
	struct api *api;
	struct evhttp_request *req;
	json_t *root;
	bool batch;
	size_t n;
	struct accepted *acc;
	struct store_new_msg *msgs;
	struct api_flight *flight;   /* the Idempotency-Key held while in flight, or NULL */
	bool redact;                 /* the caller's r->redact: its answer is masked (the reference) */
};

static void post_free(struct post *p)
{
	if (!p)
		return;
	if (p->flight) {
		for (struct api_flight **f = &p->api->flights; *f; f = &(*f)->next) {
			if (*f == p->flight) {
				*f = p->flight->next;
				break;
			}
		}
		free(p->flight);
	}
	json_decref(p->root);
	free(p->acc);
	free(p->msgs);
	free(p);
}

/* ids are first_id, first_id + 1, ...: one request's messages are consecutive rows of one transaction. */
static json_t *answer(const struct post *p, int64_t first_id)
{
	json_t *list = json_array();
	for (size_t i = 0; i < p->n; i++) {
		const struct accepted *a = &p->acc[i];
		json_t *o = json_pack("{s:I, s:s, s:s, s:i, s:s}", "id", (json_int_t)(first_id + (int64_t)i), "status",
				      "queued", "priority", message_lane_name(a->lane), "parts", a->nparts, "encoding",
				      pdu_encoding_name(a->enc));
		if (a->reference) {
			struct api_req masked = { .redact = p->redact };
			json_object_set_new(o, "reference", json_string(a->reference));
			api_redact_text(&masked, o, "reference");
		}
		json_array_append_new(list, o);
	}
	if (p->batch)
		return json_pack("{s:o}", "messages", list);
	json_t *one = json_incref(json_array_get(list, 0));
	json_decref(list);
	return one;
}

static void reply_accepted(struct post *p, int status, int64_t first_id)
{
	char loc[64];
	if (!p->batch) {
		snprintf(loc, sizeof(loc), "/v1/messages/%lld", (long long)first_id);
		evhttp_add_header(evhttp_request_get_output_headers(p->req), "Location", loc);
	}
	if (!p->batch && !p->acc[0].reference) {
		/* One message without a client string in it: nothing to escape, so skip building a JSON
		 * tree — at 20,000 requests/s this is a good share of the accept path's CPU. */
		char json[160];
		int n = snprintf(json, sizeof(json),
				 "{\"id\":%lld,\"status\":\"queued\",\"priority\":\"%s\",\"parts\":%d,\"encoding\":\"%s\"}\n",
				 (long long)first_id, message_lane_name(p->acc[0].lane), p->acc[0].nparts,
				 pdu_encoding_name(p->acc[0].enc));
		api_reply_raw(p->req, status, json, (size_t)n);
		return;
	}
	api_reply(p->req, status, answer(p, first_id));
}

static void committed(void *arg, int rc, const int64_t *ids, size_t n)
{
	struct post *p = arg;
	(void)n;
	if (rc == 1)   /* another node committed this key first (a shared store): its answer comes on a retry */
		api_error(p->req, 409, "idempotency_in_progress", "Idempotency-Key",
			  "a request with this Idempotency-Key is being committed on another node; retry");
	else if (rc != 0)
		api_error(p->req, 503, "store_unavailable", NULL,
			  "the message could not be stored (disk full or store error); it was NOT accepted, retry later");
	else
		reply_accepted(p, 202, ids[0]);
	post_free(p);
}

/* Reads the body as JSON; replies 400 itself and returns NULL when it is not a JSON object. */
static json_t *read_json(struct api_req *r, const char *data, size_t len)
{
	json_error_t jerr;
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

static bool valid_callback_url(const char *url)
{
	struct evhttp_uri *u;
	bool ok;
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return false;
	for (const char *c = url; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return false;
	u = evhttp_uri_parse_with_flags(url, 0);
	ok = u && evhttp_uri_get_host(u) && *evhttp_uri_get_host(u);
	if (u)
		evhttp_uri_free(u);
	return ok;
}

/* Field name for errors: "to" for a single message, "messages[3].to" in a batch. */
#define FIELD(buf, prefix, key) (snprintf((buf), sizeof(buf), "%s%s%s", (prefix), *(prefix) ? "." : "", (key)), (buf))

/* Validates one message object into m and a; replies 400 itself and returns -1 on the first fault. */
static int parse_one(struct api_req *r, json_t *obj, const char *prefix, struct store_new_msg *m,
		     struct accepted *a)
{
	const struct config *cfg = r->api->deps.cfg;
	const char *key;
	json_t *val;
	char f[96];
	int64_t ttl = -1;

	/* a message that names no languages may use those of [router] national_languages */
	*m = (struct store_new_msg){ .lane = LANE_NORMAL, .allow_carrier = true, .languages = cfg->national_languages };
	*a = (struct accepted){ .lane = LANE_NORMAL };
	if (!json_is_object(obj)) {
		api_error(r->req, 400, "invalid_field", prefix, "%s: expected a message object", prefix);
		return -1;
	}
	json_object_foreach(obj, key, val) {
		if (strcmp(key, "to") == 0) {
			if (!json_is_string(val) || !phone_e164_valid(json_string_value(val))) {
				api_error(r->req, 400, "invalid_field", FIELD(f, prefix, key),
					  "%s: expected an E.164 number such as \"+447700900123\"", f);
				return -1;
			}
			m->to = json_string_value(val);
		} else if (strcmp(key, "text") == 0) {
			if (!json_is_string(val) || json_string_length(val) == 0) {
				api_error(r->req, 400, "invalid_field", FIELD(f, prefix, key), "%s: expected a non-empty string", f);
				return -1;
			}
			if (api_has_control(json_string_value(val), json_string_length(val))) {
				api_error(r->req, 400, "invalid_field", FIELD(f, prefix, key),
					  "%s: control characters other than tab, CR and LF are not allowed", f);
				return -1;
			}
			m->text = json_string_value(val);
		} else if (strcmp(key, "priority") == 0) {
			if (!json_is_string(val) || message_lane_parse(json_string_value(val), &m->lane) < 0) {
				api_error(r->req, 400, "invalid_field", FIELD(f, prefix, key),
					  "%s: expected \"otp\", \"normal\" or \"bulk\"", f);
				return -1;
			}
		} else if (strcmp(key, "ttl") == 0) {
			if (!json_is_integer(val) || json_integer_value(val) < 10 || json_integer_value(val) > TTL_MAX) {
				api_error(r->req, 400, "invalid_field", FIELD(f, prefix, key),
					  "%s: expected whole seconds between 10 and %d", f, TTL_MAX);
				return -1;
			}
			ttl = json_integer_value(val);
		} else if (strcmp(key, "reference") == 0) {
			if (!json_is_string(val) || json_string_length(val) == 0 || json_string_length(val) > REFERENCE_MAX ||
			    api_has_control(json_string_value(val), json_string_length(val))) {
				api_error(r->req, 400, "invalid_field", FIELD(f, prefix, key),
					  "%s: expected a string of 1 to %d bytes without control characters", f, REFERENCE_MAX);
				return -1;
			}
			m->reference = a->reference = json_string_value(val);
		} else if (strcmp(key, "languages") == 0) {
			size_t i;
			json_t *l;
			int lang;
			if (!json_is_array(val)) {
				api_error(r->req, 400, "invalid_field", FIELD(f, prefix, key),
					  "%s: expected an array of language codes such as [\"tr\", \"es\", \"pt\"]", f);
				return -1;
			}
			m->languages = 0;   /* its own list, even empty, replaces the default */
			json_array_foreach(val, i, l) {
				if (!json_is_string(l) || (lang = pdu_lang_parse(json_string_value(l))) < 0) {
					api_error(r->req, 400, "invalid_field", FIELD(f, prefix, key),
						  "%s[%zu]: unknown language code (tr, es, pt, bn, gu, hi, kn, ml, or, pa, ta, te, ur)",
						  f, i);
					return -1;
				}
				m->languages |= 1u << lang;
			}
		} else if (strcmp(key, "delivery_report") == 0 || strcmp(key, "allow_carrier") == 0) {
			if (!json_is_boolean(val)) {
				api_error(r->req, 400, "invalid_field", FIELD(f, prefix, key), "%s: expected true or false", f);
				return -1;
			}
			*(key[0] == 'd' ? &m->delivery_report : &m->allow_carrier) = json_is_true(val);
		} else if (strcmp(key, "callback_url") == 0) {
			if (!json_is_string(val) || json_string_length(val) > URL_MAX ||
			    !valid_callback_url(json_string_value(val))) {
				api_error(r->req, 400, "invalid_field", FIELD(f, prefix, key),
					  "%s: expected an http:// or https:// URL of at most %d bytes", f, URL_MAX);
				return -1;
			}
			m->callback_url = json_string_value(val);
		} else {
			api_error(r->req, 400, "unknown_field", FIELD(f, prefix, key), "unknown field \"%s\"", f);
			return -1;
		}
	}
	if (!m->to || !m->text) {
		api_error(r->req, 400, "missing_field", FIELD(f, prefix, m->to ? "text" : "to"), "%s: required", f);
		return -1;
	}
	/* counted with the same options the scheduler encodes with, so parts here = parts sent */
	struct pdu_submit_opts opts = { .max_parts = (unsigned)cfg->max_parts, .languages = m->languages };
	enum pdu_error perr = pdu_count_parts(m->text, &opts, &a->nparts, &a->enc);
	if (perr != PDU_OK) {
		if (perr == PDU_ERR_TOO_LONG)
			api_error(r->req, 400, "invalid_field", FIELD(f, prefix, "text"), "%s: longer than %d SMS parts", f,
				  cfg->max_parts);
		else
			api_error(r->req, 400, "invalid_field", FIELD(f, prefix, "text"), "%s: %s", f, pdu_strerror(perr));
		return -1;
	}
	if (ttl < 0)
		ttl = m->lane == LANE_OTP ? cfg->otp_ttl : m->lane == LANE_BULK ? cfg->bulk_ttl : cfg->normal_ttl;
	a->lane = m->lane;
	m->nparts = a->nparts;
	m->created_ms = api_now_ms();
	m->expires_ms = m->created_ms + ttl * 1000;
	return 0;
}

/* The whole body: {"messages": [...]} or one message. Replies 400 itself and returns -1 on a fault:
 * nothing of a batch is accepted when one message is wrong. */
static int parse_body(struct api_req *r, struct post *p)
{
	const struct config *cfg = r->api->deps.cfg;
	json_t *list = json_object_get(p->root, "messages");
	char prefix[32];

	p->batch = list != NULL;
	if (p->batch) {
		const char *key;
		json_t *val;
		json_object_foreach(p->root, key, val) {
			if (strcmp(key, "messages") != 0) {
				api_error(r->req, 400, "unknown_field", key,
					  "unknown field \"%s\" (a batch is {\"messages\": [...]} only)", key);
				return -1;
			}
		}
		if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > (size_t)cfg->api_max_batch) {
			api_error(r->req, 400, "invalid_field", "messages", "messages: expected an array of 1 to %d messages",
				  cfg->api_max_batch);
			return -1;
		}
	}
	p->n = p->batch ? json_array_size(list) : 1;
	p->acc = calloc(p->n, sizeof(*p->acc));
	p->msgs = calloc(p->n, sizeof(*p->msgs));
	if (!p->acc || !p->msgs) {
		api_error(r->req, 503, "overloaded", NULL, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < p->n; i++) {
		if (p->batch)
			snprintf(prefix, sizeof(prefix), "messages[%zu]", i);
		else
			prefix[0] = '\0';
		if (parse_one(r, p->batch ? json_array_get(list, i) : p->root, prefix, &p->msgs[i], &p->acc[i]) < 0)
			return -1;
	}
	return 0;
}

/* Idempotency-Key: at most 128 printable ASCII characters. NULL when absent; -1 after a 400. */
static int idem_key(struct api_req *r, const char **out)
{
	const char *k = evhttp_find_header(evhttp_request_get_input_headers(r->req), "Idempotency-Key");
	*out = k;
	if (!k)
		return 0;
	size_t len = strlen(k);
	bool ok = len > 0 && len <= IDEM_KEY_MAX;
	for (size_t i = 0; ok && i < len; i++)
		ok = k[i] >= 0x20 && k[i] < 0x7f;
	if (!ok) {
		api_error(r->req, 400, "invalid_header", "Idempotency-Key",
			  "Idempotency-Key: expected 1 to %d printable ASCII characters", IDEM_KEY_MAX);
		return -1;
	}
	return 0;
}

void api_messages_post(struct api_req *r)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);
	const char *data = (const char *)evbuffer_pullup(in, -1);
	struct store_idem rec = { .owner = r->owner, .status = 202 };
	const char *key;
	struct post *p;

	if (idem_key(r, &key) < 0)
		return;
	if (!(p = calloc(1, sizeof(*p)))) {
		api_error(r->req, 503, "overloaded", NULL, "out of memory");
		return;
	}
	p->api = r->api;
	p->req = r->req;
	p->redact = r->redact;
	if (!(p->root = read_json(r, data, len)) || parse_body(r, p) < 0)
		goto done;
	if (key) {
		struct store_idem old;
		int rc;
		rec.key = key;
		rec.count = (int)p->n;
		rec.created_ms = api_now_ms();
		rec.live_after_ms = rec.created_ms - API_IDEM_KEEP_MS;
		SHA256((const unsigned char *)data, len, rec.request_hash);
		for (struct api_flight *f = r->api->flights; f; f = f->next) {
			if (strcmp(f->owner, r->owner) == 0 && strcmp(f->key, key) == 0) {
				api_error(r->req, 409, "idempotency_in_progress", "Idempotency-Key",
					  "a request with this Idempotency-Key is still being committed; retry");
				goto done;
			}
		}
		rc = store_idem_get(r->api->deps.st, r->owner, key, rec.created_ms - API_IDEM_KEEP_MS, &old);
		if (rc < 0) {
			api_error(r->req, 503, "store_unavailable", NULL, "the store could not be read");
			goto done;
		}
		if (rc == 0) {
			if (memcmp(old.request_hash, rec.request_hash, sizeof(rec.request_hash)) != 0 ||
			    old.count != (int)p->n) {
				api_error(r->req, 409, "idempotency_conflict", "Idempotency-Key",
					  "this Idempotency-Key was used with a different request body");
				goto done;
			}
			/* the same request again: the same answer, nothing stored twice */
			evhttp_add_header(evhttp_request_get_output_headers(r->req), "Idempotent-Replayed", "true");
			reply_accepted(p, old.status, old.first_id);
			goto done;
		}
		if (!(p->flight = calloc(1, sizeof(*p->flight)))) {
			api_error(r->req, 503, "overloaded", NULL, "out of memory");
			goto done;
		}
		snprintf(p->flight->owner, sizeof(p->flight->owner), "%s", r->owner);
		snprintf(p->flight->key, sizeof(p->flight->key), "%s", key);
		p->flight->next = r->api->flights;
		r->api->flights = p->flight;
	}
	/* after the idempotency lookup: a replay gets its original answer even if the number opted out since */
	if (api_optout_refuse(r, p->msgs, p->n, p->batch) < 0)
		goto done;
	if (ingest_submit_idem(r->api->deps.in, p->msgs, p->n, key ? &rec : NULL, committed, p) < 0) {
		api_error(r->req, 503, "overloaded", NULL, "out of memory");
		goto done;
	}
	return;   /* committed() answers and frees p */
done:
	post_free(p);
}
