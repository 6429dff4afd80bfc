/* api_messages_get: GET /v1/messages/<id> (with its timeline), GET /v1/messages (paged list) and
 * DELETE /v1/messages/<id> (cancel while still queued). */
#include <ctype.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "api/api_private.h"
#include "queue/scheduler.h"
#include "queue/store.h"
#include "simroute/pdu.h"
#include "simroute/log.h"
#include "simroute/phone.h"

#define LIST_LIMIT_DEFAULT 50
#define LIST_LIMIT_MAX 500

/* Ids (and cursors) are positive decimal integers; anything else is refused, never partly parsed. */
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

/* The language codes of a mask, in enum order ("tr", "es", "pt", ...). */
static json_t *languages_doc(unsigned mask)
{
	json_t *a = json_array();
	for (unsigned i = 1; i < 32; i++)
		if ((mask & (1u << i)) && pdu_lang_code(i) != NULL)
			json_array_append_new(a, json_string(pdu_lang_code(i)));
	return a;
}

json_t *api_message_doc(const struct store_msg *m)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:i, s:i, s:i}", "id", (json_int_t)m->id, "to", m->to, "text",
			      m->text ? m->text : "", "priority", message_lane_name(m->lane), "status",
			      message_state_name(m->state), "parts", m->nparts, "parts_sent", m->parts_sent, "attempts",
			      m->attempts);
	json_object_set_new(o, "reference", m->reference[0] ? json_string(m->reference) : json_null());
	/* erased by [store] body_retention_days: null, so that "" never passes for the text sent */
	if (m->purged)
		json_object_set_new(o, "text", json_null());
	json_object_set_new(o, "purged", json_boolean(m->purged));
	json_object_set_new(o, "languages", languages_doc(m->languages));
	json_object_set_new(o, "delivery_report", json_boolean(m->delivery_report));
	json_object_set_new(o, "allow_carrier", json_boolean(m->allow_carrier));
	json_object_set_new(o, "callback_url", m->callback_url[0] ? json_string(m->callback_url) : json_null());
	json_object_set_new(o, "route", m->route[0] ? json_string(m->route) : json_null());
	json_object_set_new(o, "error", m->last_error[0] ? json_string(m->last_error) : json_null());
	json_object_set_new(o, "created_at", api_time(m->created_ms));
	json_object_set_new(o, "updated_at", api_time(m->updated_ms));
	json_object_set_new(o, "sent_at", api_time(m->sent_ms));
	json_object_set_new(o, "expires_at", api_time(m->expires_ms));
	return o;
}

/* A masked request's view (r->redact): the number masked, numbers in the texts too, and an OTP's code. */
static json_t *message_doc_for(const struct api_req *r, const struct store_msg *m)
{
	json_t *o = api_message_doc(m);
	api_redact_number(r, o, "to");
	api_redact_text(r, o, "reference");   /* the client's string: it may be built from the number */
	api_redact_url(r, o, "callback_url");
	api_redact_text(r, o, "error");
	if (m->lane == LANE_OTP)
		api_redact_digits(r, o, "text");
	else
		api_redact_text(r, o, "text");
	return o;
}

struct events {
	const struct api_req *r;
	json_t *list;
};

static int event_cb(void *arg, const struct store_event *ev)
{
	struct events *e = arg;
	json_t *o = json_pack("{s:o, s:s, s:s}", "at", api_time(ev->at_ms), "from", message_state_name(ev->from), "to",
			      message_state_name(ev->to));
	json_object_set_new(o, "route", ev->route ? json_string(ev->route) : json_null());
	json_object_set_new(o, "error", ev->error ? json_string(ev->error) : json_null());
	api_redact_text(e->r, o, "error");
	json_array_append_new(e->list, o);
	return 0;
}

/* 0 with m filled, or -1 after replying 404/503. */
static int load(struct api_req *r, const char *idstr, struct store_msg *m)
{
	int64_t id;
	int rc;
	if (parse_id(idstr, &id) < 0 || (rc = store_get(r->api->deps.st, id, m)) == 1) {
		api_error(r->req, 404, "not_found", NULL, "no message with id %.32s", idstr);
		return -1;
	}
	if (rc < 0) {
		api_error(r->req, 503, "store_unavailable", NULL, "the store could not be read");
		return -1;
	}
	return 0;
}

void api_messages_get(struct api_req *r, const char *idstr)
{
	struct store_msg m;
	if (load(r, idstr, &m) < 0)
		return;
	json_t *o = message_doc_for(r, &m), *events = json_array();
	/* the timeline is detail: a store error there still answers with the message itself */
	struct events ev = { .r = r, .list = events };
	if (store_timeline(r->api->deps.st, m.id, event_cb, &ev) < 0)
		json_object_set_new(o, "events", json_null());
	else
		json_object_set_new(o, "events", json_incref(events));
	json_decref(events);
	json_object_set_new(o, "part_status", api_message_parts(r->api->deps.st, m.id));
	store_msg_clear(&m);
	api_reply(r->req, 200, o);
}

static void explain_line(void *arg, const char *text)
{
	struct events *e = arg;
	json_t *line = json_pack("{s:s}", "t", text);
	api_redact_text(e->r, line, "t");
	json_array_append(e->list, json_object_get(line, "t"));
	json_decref(line);
}

/* GET /v1/messages/<id>/explain: the scheduler's view of the message, in words. */
void api_messages_explain(struct api_req *r, const char *idstr)
{
	struct store_msg m;
	if (load(r, idstr, &m) < 0)
		return;
	json_t *lines = json_array();
	struct events e = { .r = r, .list = lines };
	scheduler_explain(r->api->deps.sched, &m, explain_line, &e);
	json_t *o = json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)m.id, "status", message_state_name(m.state),
			      "priority", message_lane_name(m.lane), "explanation", lines);
	store_msg_clear(&m);
	api_reply(r->req, 200, o);
}

void api_messages_delete(struct api_req *r, const char *idstr)
{
	struct store_msg m;
	if (load(r, idstr, &m) < 0)
		return;
	int64_t id = m.id;
	int rc = m.state == MSG_QUEUED
			 ? store_transition(r->api->deps.st, id, MSG_QUEUED, MSG_CANCELLED, NULL, "cancelled by the API", api_now_ms())
			 : 1;
	store_msg_clear(&m);
	/* read again either way: the answer shows the state the store holds now */
	if (rc < 0 || load(r, idstr, &m) < 0) {
		if (rc < 0)
			api_error(r->req, 503, "store_unavailable", NULL, "the store could not be written");
		return;
	}
	if (rc == 1) {
		json_t *err = json_pack("{s:s, s:s, s:s}", "code", "not_cancellable", "message",
					"only a queued message can be cancelled", "status", message_state_name(m.state));
		store_msg_clear(&m);
		api_reply(r->req, 409, json_pack("{s:o}", "error", err));
		return;
	}
	log_info("api: message %lld cancelled by %s", (long long)id, r->actor);
	char target[24];
	snprintf(target, sizeof(target), "%lld", (long long)id);
	api_audit(r, "message.cancel", target, NULL);
	json_t *o = message_doc_for(r, &m);
	store_msg_clear(&m);
	api_reply(r->req, 200, o);
}

/* ISO 8601 ("2026-11-23T13:45:00Z", optional .mmm, "Z" or +hh:mm) or epoch milliseconds. */
static int parse_since(const char *s, int64_t *out)
{
	int64_t ms;
	if (parse_id(s, &ms) == 0) {
		*out = ms;
		return 0;
	}
	struct tm tm = { 0 };
	int frac = 0, n = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		   &tm.tm_sec, &n) != 6 || n != 19)
		return -1;
	const char *p = s + n;
	if (*p == '.') {
		int digits = 0;
		for (p++; isdigit((unsigned char)*p); p++, digits++)
			if (digits < 3)
				frac = frac * 10 + (*p - '0');
		if (digits == 0)
			return -1;
		for (; digits < 3; digits++)
			frac *= 10;
	}
	int offset = 0;
	if (*p == 'Z' && p[1] == '\0') {
		offset = 0;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && isdigit((unsigned char)p[1]) &&
		   isdigit((unsigned char)p[2]) && p[3] == ':' && isdigit((unsigned char)p[4]) &&
		   isdigit((unsigned char)p[5])) {
		offset = ((p[1] - '0') * 10 + (p[2] - '0')) * 60 + (p[4] - '0') * 10 + (p[5] - '0');
		if (*p == '-')
			offset = -offset;
	} else {
		return -1;
	}
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	*out = ((int64_t)t - offset * 60) * 1000 + frac;
	return *out > 0 ? 0 : -1;
}

struct listing {
	const struct api_req *r;
	json_t *list;
	int64_t last_id;
	size_t n, limit;
};

#define SUFFIX_WINDOW 100000

static int newest_cb(void *arg, const struct store_msg *m)
{
	*(int64_t *)arg = m->id;
	return 1;
}

static int list_cb(void *arg, const struct store_msg *m)
{
	struct listing *l = arg;
	/* one row past the page was asked for: it only says there is a next page */
	if (l->n == l->limit)
		return 1;
	json_array_append_new(l->list, message_doc_for(l->r, m));
	l->last_id = m->id;
	l->n++;
	return 0;
}

int api_paging_param(struct api_req *r, const char *k, const char *val, int64_t limit_max, int64_t *since_ms,
		     size_t *limit, int64_t *before_id)
{
	int64_t v;
	if (strcmp(k, "since") == 0) {
		if (parse_since(val, since_ms) < 0) {
			api_error(r->req, 400, "invalid_field", "since",
				  "since: expected ISO 8601 (\"2026-11-23T13:45:00Z\") or epoch milliseconds");
			return -1;
		}
	} else if (strcmp(k, "limit") == 0) {
		if (parse_id(val, &v) < 0 || v > limit_max) {
			api_error(r->req, 400, "invalid_field", "limit", "limit: expected 1 to %lld", (long long)limit_max);
			return -1;
		}
		*limit = (size_t)v;
	} else if (strcmp(k, "cursor") == 0) {
		if (parse_id(val, before_id) < 0) {
			api_error(r->req, 400, "invalid_field", "cursor", "cursor: expected a next_cursor from a previous page");
			return -1;
		}
	} else if (strcmp(k, "view") != 0) {   /* view=dashboard: checked by http.c for every route */
		return 0;
	}
	return 1;
}

int api_paging_query(struct api_req *r, int64_t limit_max, int64_t *since_ms, size_t *limit, int64_t *before_id)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	struct evkeyvalq q;
	struct evkeyval *kv;
	int ret = 0;

	TAILQ_INIT(&q);
	if (query && evhttp_parse_query_str(query, &q) < 0) {
		api_error(r->req, 400, "invalid_query", NULL, "malformed query string");
		return -1;
	}
	TAILQ_FOREACH(kv, &q, next) {
		int rc = api_paging_param(r, kv->key, kv->value, limit_max, since_ms, limit, before_id);
		if (rc == 0)
			api_error(r->req, 400, "unknown_field", kv->key, "unknown query parameter \"%.64s\"", kv->key);
		if (rc <= 0) {
			ret = -1;
			break;
		}
	}
	evhttp_clear_headers(&q);
	return ret;
}

void api_messages_list(struct api_req *r)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	struct store_filter f = { .state = -1, .limit = LIST_LIMIT_DEFAULT };
	struct evkeyvalq q;
	struct evkeyval *kv;
	int rc;

	TAILQ_INIT(&q);
	if (query && evhttp_parse_query_str(query, &q) < 0) {
		api_error(r->req, 400, "invalid_query", NULL, "malformed query string");
		return;
	}
	TAILQ_FOREACH(kv, &q, next) {
		const char *k = kv->key, *val = kv->value;
		if (strcmp(k, "status") == 0) {
			enum msg_state st;
			if (message_state_parse(val, &st) < 0) {
				api_error(r->req, 400, "invalid_field", "status",
					  "status: expected a message status such as \"queued\" or \"sent\"");
				goto out;
			}
			f.state = (int)st;
		} else if ((rc = api_paging_param(r, k, val, LIST_LIMIT_MAX, &f.since_ms, &f.limit, &f.before_id)) != 0) {
			if (rc < 0)
				goto out;
		} else if ((strcmp(k, "to") == 0 || strcmp(k, "to_suffix") == 0) && r->masked) {
			/* a search by digits tells the masked ones, a few requests each */
			api_error(r->req, 403, "masked_numbers", k,
				  "%s: this API key has mask_numbers: it cannot search by a number's digits", k);
			goto out;
		} else if (strcmp(k, "to") == 0) {
			if (!phone_e164_valid(val)) {
				api_error(r->req, 400, "invalid_field", "to", "to: expected an E.164 number such as \"+447700900123\"");
				goto out;
			}
			f.to = val;
		} else if (strcmp(k, "to_suffix") == 0) {
			size_t n = strlen(val);
			if (n < 2 || n > 15 || strspn(val, "0123456789") != n) {
				api_error(r->req, 400, "invalid_field", "to_suffix", "to_suffix: expected 2 to 15 digits");
				goto out;
			}
			f.to_suffix = val;
		} else {
			api_error(r->req, 400, "unknown_field", k, "unknown query parameter \"%.64s\"", k);
			goto out;
		}
	}
	/* A suffix cannot use an index: each page looks at most SUFFIX_WINDOW messages below its cursor,
	 * and when those hold fewer matches than the page, next_cursor continues below them. So one
	 * request never scans the whole table (a million rows hold the loop for ~150 ms). */
	if (f.to_suffix) {
		int64_t top = f.before_id;
		if (top <= 0) {
			struct store_filter newest = { .state = -1, .limit = 1 };
			if (store_list(r->api->deps.st, &newest, newest_cb, &top) < 0) {
				api_error(r->req, 503, "store_unavailable", NULL, "the store could not be read");
				goto out;
			}
			top++;   /* before_id is exclusive */
		}
		f.min_id = top > SUFFIX_WINDOW ? top - SUFFIX_WINDOW : 0;
	}
	struct listing l = { .r = r, .list = json_array(), .limit = f.limit };
	f.limit++;
	int n = store_list(r->api->deps.st, &f, list_cb, &l);
	if (n >= 0 && (size_t)n < f.limit && f.min_id > 1)   /* the window is done, older ones remain */
		api_reply_page(r->req, "messages", l.list, (int)f.limit, l.limit, f.min_id);
	else
		api_reply_page(r->req, "messages", l.list, n, l.limit, l.last_id);
out:
	evhttp_clear_headers(&q);
}

