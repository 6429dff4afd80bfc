/* api_optout: the opt-out (suppression) list — GET /v1/optout (read), POST /v1/optout and
 * DELETE /v1/optout/<number> (admin), and the accept-time check of POST /v1/messages. */
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "api/api_private.h"
#include "config.h"
#include "queue/optout.h"
#include "queue/store.h"
#include "simroute/log.h"
#include "simroute/phone.h"

#define OPTOUT_LIMIT_DEFAULT 50
#define OPTOUT_LIMIT_MAX 500
#define NOTE_MAX (STORE_NOTE_MAX - 1)

int api_optout_refuse(struct api_req *r, const struct store_new_msg *msgs, size_t n, bool batch)
{
	const struct api_deps *d = &r->api->deps;
	char field[48];

	if (d->optout == NULL || optout_count(d->optout) == 0)
		return 0;   /* the common case costs one load */
	for (size_t i = 0; i < n; i++) {
		if (!optout_contains(d->optout, msgs[i].to))
			continue;
		if (msgs[i].lane == LANE_OTP && d->cfg->optout_otp_bypass)
			continue;   /* an OTP is transactional: the user asked for it */
		if (batch)
			snprintf(field, sizeof(field), "messages[%zu].to", i);
		else
			snprintf(field, sizeof(field), "to");
		api_error(r->req, 422, "opted_out", field,
			  "%s: the recipient is on the opt-out list (replied STOP); nothing was accepted%s", field,
			  d->cfg->optout_otp_bypass ? " (only priority otp may be sent to it)" : "");
		return -1;
	}
	return 0;
}

struct optout_listing {
	const struct api_req *r;
	json_t *list;
	size_t limit;
	int64_t last_id;
};

static int optout_cb(void *arg, const struct store_optout *o)
{
	struct optout_listing *l = arg;

	if (json_array_size(l->list) >= l->limit)
		return 1;   /* the extra row only says there is a next page */
	json_t *e = json_pack("{s:s, s:s, s:o, s:o}", "number", o->number, "source", o->source, "note",
			      o->note && o->note[0] ? json_string(o->note) : json_null(), "created_at",
			      api_time(o->created_ms));
	api_redact_number(l->r, e, "number");
	api_redact_text(l->r, e, "note");
	json_array_append_new(l->list, e);
	l->last_id = o->id;
	return 0;
}

void api_optout_list(struct api_req *r)
{
	struct store_optout_filter f = { .limit = OPTOUT_LIMIT_DEFAULT };

	if (api_paging_query(r, OPTOUT_LIMIT_MAX, &f.since_ms, &f.limit, &f.before_id) < 0)
		return;
	struct optout_listing l = { .r = r, .list = json_array(), .limit = f.limit };
	f.limit++;
	int n = store_optout_list(r->api->deps.st, &f, optout_cb, &l);
	api_reply_page(r->req, "optout", l.list, n, l.limit, l.last_id);
}

/* source: who put the number there, as the client names itself ("cli" for simroute); default "api". */
static bool valid_source(const char *s)
{
	size_t len = strlen(s);
	return len > 0 && len < STORE_SOURCE_MAX && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == len;
}

/* POST /v1/optout {"number": "+447700900123", "note": "...", "source": "cli"} */
void api_optout_add(struct api_req *r)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);
	const char *data = (const char *)evbuffer_pullup(in, -1);
	const char *number = NULL, *note = NULL, *source = "api", *key;
	char masked[STORE_TO_MAX];
	json_error_t jerr;
	json_t *root, *val;

	if (r->api->deps.optout == NULL) {
		api_error(r->req, 503, "store_unavailable", NULL, "the opt-out list is not loaded");
		return;
	}
	root = len ? json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	if (!json_is_object(root)) {
		json_decref(root);
		api_error(r->req, 400, "invalid_json", NULL, "expected a JSON object such as {\"number\": \"+447700900123\"}");
		return;
	}
	json_object_foreach(root, key, val) {
		if (strcmp(key, "number") == 0) {
			if (!json_is_string(val) || !phone_e164_valid(json_string_value(val))) {
				api_error(r->req, 400, "invalid_field", "number",
					  "number: expected an E.164 number such as \"+447700900123\"");
				goto out;
			}
			number = json_string_value(val);
		} else if (strcmp(key, "note") == 0) {
			if (!json_is_string(val) || json_string_length(val) > NOTE_MAX ||
			    api_has_control(json_string_value(val), json_string_length(val))) {
				api_error(r->req, 400, "invalid_field", "note",
					  "note: expected a string of at most %d bytes without control characters", NOTE_MAX);
				goto out;
			}
			note = json_string_value(val);
		} else if (strcmp(key, "source") == 0) {
			if (!json_is_string(val) || !valid_source(json_string_value(val))) {
				api_error(r->req, 400, "invalid_field", "source",
					  "source: expected 1 to %d of a-z 0-9 _ - (e.g. \"crm\")", STORE_SOURCE_MAX - 1);
				goto out;
			}
			source = json_string_value(val);
		} else {
			api_error(r->req, 400, "unknown_field", key, "unknown field \"%.64s\"", key);
			goto out;
		}
	}
	if (number == NULL) {
		api_error(r->req, 400, "missing_field", "number", "number: required");
		goto out;
	}
	int rc = optout_add(r->api->deps.optout, number, source, note, api_now_ms());
	if (rc < 0) {
		api_error(r->req, 503, "store_unavailable", NULL, "the store could not be written");
		goto out;
	}
	phone_mask(number, masked, sizeof(masked));
	if (rc == 0) {
		log_info("api: %s added to the opt-out list by %s", masked, r->actor);
		api_audit(r, "optout.add", number, note && note[0] ? "source %s: %s" : "source %s%s", source,
			  note ? note : "");
	}
	json_t *o = json_pack("{s:s, s:b}", "number", number, "added", rc == 0);
	api_redact_number(r, o, "number");
	api_reply(r->req, rc == 0 ? 201 : 200, o);
out:
	json_decref(root);
}

/* DELETE /v1/optout/<number>: the '+' may come percent-encoded (%2B). */
void api_optout_delete(struct api_req *r, const char *segment)
{
	char *number = evhttp_uridecode(segment, 0, NULL);
	char masked[STORE_TO_MAX];

	if (number == NULL) {
		api_error(r->req, 503, "overloaded", NULL, "out of memory");
		return;
	}
	if (!phone_e164_valid(number)) {
		api_error(r->req, 400, "invalid_field", "number", "number: expected an E.164 number such as +447700900123");
		goto out;
	}
	int rc = r->api->deps.optout ? optout_remove(r->api->deps.optout, number) : -1;
	if (rc < 0) {
		api_error(r->req, 503, "store_unavailable", NULL, "the store could not be written");
		goto out;
	}
	phone_mask(number, masked, sizeof(masked));
	if (rc == 1) {
		api_error(r->req, 404, "not_found", "number", "%s is not on the opt-out list", r->redact ? masked : number);
		goto out;
	}
	log_info("api: %s removed from the opt-out list by %s", masked, r->actor);
	api_audit(r, "optout.remove", number, NULL);
	json_t *o = json_pack("{s:s, s:b}", "number", number, "removed", 1);
	api_redact_number(r, o, "number");
	api_reply(r->req, 200, o);
out:
	free(number);
}
