/* api_webhooks: GET /v1/webhooks (the outbox, newest first, paged) and POST /v1/webhooks/<id>/replay. */
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "api/api_private.h"
#include "api/webhook.h"
#include "queue/store.h"

#define WEBHOOKS_LIMIT_DEFAULT 50
#define WEBHOOKS_LIMIT_MAX 500

struct webhook_listing {
	const struct api_req *r;
	json_t *list;
	size_t limit;
	int64_t last_id;
};

static const char *row_status(const struct store_webhook *w)
{
	if (w->delivered_ms > 0)
		return "delivered";
	return w->next_ms > 0 ? "pending" : "failed";
}

static int webhook_cb(void *arg, const struct store_webhook *w)
{
	struct webhook_listing *l = arg;

	if (json_array_size(l->list) >= l->limit)
		return 1;   /* the extra row only says there is a next page */
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:i, s:o, s:o, s:o}", "id", (json_int_t)w->id, "url", w->url,
			      "event", w->event, "status", row_status(w), "attempts", w->attempts, "created_at",
			      api_time(w->created_ms), "delivered_at", api_time(w->delivered_ms), "next_at",
			      w->delivered_ms > 0 ? json_null() : api_time(w->next_ms));
	json_object_set_new(o, "message_id", w->message_id ? json_integer(w->message_id) : json_null());
	json_object_set_new(o, "last_error", w->last_error[0] ? json_string(w->last_error) : json_null());
	api_redact_url(l->r, o, "url");
	api_redact_text(l->r, o, "last_error");
	json_array_append_new(l->list, o);
	l->last_id = w->id;
	return 0;
}

void api_webhooks_list(struct api_req *r)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	struct store_webhook_filter f = { .limit = WEBHOOKS_LIMIT_DEFAULT };
	int64_t since_ms = 0;
	struct evkeyvalq q;
	struct evkeyval *kv;

	TAILQ_INIT(&q);
	if (query && evhttp_parse_query_str(query, &q) < 0) {
		api_error(r->req, 400, "invalid_query", NULL, "malformed query string");
		return;
	}
	TAILQ_FOREACH(kv, &q, next) {
		const char *k = kv->key, *val = kv->value;
		if (strcmp(k, "failed") == 0) {
			if (strcmp(val, "1") != 0 && strcmp(val, "0") != 0) {
				api_error(r->req, 400, "invalid_field", "failed", "failed: expected 0 or 1");
				goto out;
			}
			f.failed = val[0] == '1';
			continue;
		}
		int rc = strcmp(k, "since") == 0 ? 0
			 : api_paging_param(r, k, val, WEBHOOKS_LIMIT_MAX, &since_ms, &f.limit, &f.before_id);
		if (rc < 0)
			goto out;
		if (rc == 0) {
			api_error(r->req, 400, "unknown_field", k, "unknown query parameter \"%.64s\"", k);
			goto out;
		}
	}
	struct webhook_listing l = { .r = r, .list = json_array(), .limit = f.limit };
	f.limit++;
	int n = store_webhook_list(r->api->deps.st, &f, webhook_cb, &l);
	api_reply_page(r->req, "webhooks", l.list, n, l.limit, l.last_id);
out:
	evhttp_clear_headers(&q);
}

void api_webhooks_replay(struct api_req *r, const char *id_text)
{
	char *end;
	long long id = strtoll(id_text, &end, 10);

	if (*end != '\0' || id <= 0) {
		api_error(r->req, 404, "not_found", NULL, "no webhook event %.32s", id_text);
		return;
	}
	int rc = store_webhook_replay(r->api->deps.st, id, api_now_ms());
	if (rc < 0) {
		api_error(r->req, 503, "store_unavailable", NULL, "the store could not be written");
		return;
	}
	if (rc == 1) {
		api_error(r->req, 404, "not_found", NULL, "no webhook event %lld", id);
		return;
	}
	char target[24];
	snprintf(target, sizeof(target), "%lld", id);
	api_audit(r, "webhook.replay", target, NULL);
	webhook_kick(r->api->deps.webhook);
	api_reply(r->req, 202, json_pack("{s:I, s:s}", "id", (json_int_t)id, "status", "pending"));
}
