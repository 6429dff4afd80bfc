/* outbox: turns message state changes and inbound SMS into webhook outbox rows (store hooks).
 *
 * It runs as the store's hooks, right after the change is written and inside the same batch when
 * there is one, so every path that changes a state (scheduler, expiry sweep, deferred writes) makes
 * its event, and a row is only ever written for a change that was. Delivery is elsewhere
 * (api/webhook.c): this side never waits on the network. */
#include "queue/outbox.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "queue/store.h"
#include "simroute/log.h"

struct outbox {
	struct store *st;
	char *global_url;          /* "" for none */
	outbox_kick_cb *kick;
	void *kick_arg;
};

const char *outbox_event_name(enum msg_state to)
{
	switch (to) {
	case MSG_SENT: return "message.sent";
	case MSG_DELIVERED: return "message.delivered";
	case MSG_UNDELIVERED: return "message.undelivered";
	case MSG_FAILED: return "message.failed";
	case MSG_EXPIRED: return "message.expired";
	default: return NULL;
	}
}

static json_t *iso_time(int64_t ms)
{
	char buf[64];
	struct tm tm;
	time_t t = (time_t)(ms / 1000);

	if (ms <= 0)
		return json_null();
	gmtime_r(&t, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	return json_string(buf);
}

static json_t *str_or_null(const char *s) { return s && s[0] ? json_string(s) : json_null(); }

static char *dump(json_t *o)
{
	char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return body;
}

/* Event ids are derived from what they report, so a receiver can drop a repeat (a replay, or a
 * retry whose 2xx was lost) by id: a message enters each final state at most once. */
char *outbox_message_body(const struct store_msg *m, const char *event, int64_t now_ms)
{
	char id[64];
	json_t *msg = json_object();

	snprintf(id, sizeof(id), "msg_%lld_%s", (long long)m->id, strchr(event, '.') ? strchr(event, '.') + 1 : event);
	json_object_set_new(msg, "id", json_integer(m->id));
	json_object_set_new(msg, "to", json_string(m->to));
	json_object_set_new(msg, "status", json_string(message_state_name(m->state)));
	json_object_set_new(msg, "priority", json_string(message_lane_name(m->lane)));
	json_object_set_new(msg, "reference", str_or_null(m->reference));
	json_object_set_new(msg, "route", str_or_null(m->route));
	json_object_set_new(msg, "error", str_or_null(m->last_error));
	json_object_set_new(msg, "parts", json_integer(m->nparts));
	json_object_set_new(msg, "sent_at", iso_time(m->sent_ms));
	return dump(json_pack("{s:s, s:s, s:o, s:o}", "event", event, "id", id, "created_at", iso_time(now_ms),
			      "message", msg));
}

char *outbox_inbound_body(const struct store_inbound *in, int64_t now_ms)
{
	char id[64];
	json_t *o = json_object();

	snprintf(id, sizeof(id), "in_%lld_received", (long long)in->id);
	json_object_set_new(o, "id", json_integer(in->id));
	json_object_set_new(o, "from", json_string(in->from));
	json_object_set_new(o, "text", json_string(in->text ? in->text : ""));
	json_object_set_new(o, "parts", json_integer(in->parts));
	json_object_set_new(o, "complete", json_boolean(in->complete));
	json_object_set_new(o, "route", str_or_null(in->route));
	json_object_set_new(o, "received_at", iso_time(in->received_ms));
	return dump(json_pack("{s:s, s:s, s:o, s:o}", "event", "inbound.received", "id", id, "created_at",
			      iso_time(now_ms), "inbound", o));
}

static void add_row(struct outbox *ob, struct store *st, const char *url, const char *event, char *body,
		    int64_t message_id, int64_t now_ms)
{
	struct store_webhook_new w = { .url = url, .event = event, .body = body, .message_id = message_id,
				       .created_ms = now_ms };
	int64_t id;

	if (body == NULL)
		log_warnx("webhook: %s for message %lld: out of memory: event lost", event, (long long)message_id);
	else if (store_webhook_add(st, &w, &id) != 0)
		log_warnx("webhook: %s for %s %lld: store error: event lost", event,
			  message_id ? "message" : "inbound", (long long)message_id);
	else if (ob->kick)
		ob->kick(ob->kick_arg);
	free(body);
}

static void on_message(void *arg, struct store *st, int64_t id, enum msg_state to, int64_t now_ms)
{
	struct outbox *ob = arg;
	const char *event = outbox_event_name(to);
	struct store_msg m;

	if (event == NULL)
		return;
	/* one read by primary key per final state: the body reports the message as stored now */
	if (store_get(st, id, &m) != 0) {
		log_warnx("webhook: %s for message %lld: cannot read the message: event lost", event, (long long)id);
		return;
	}
	const char *url = m.callback_url[0] ? m.callback_url : ob->global_url;
	if (url[0])
		add_row(ob, st, url, event, outbox_message_body(&m, event, now_ms), id, now_ms);
	store_msg_clear(&m);
}

struct find_inbound {
	int64_t id;
	char *body;
	int64_t now_ms;
};

static int inbound_found(void *arg, const struct store_inbound *in)
{
	struct find_inbound *f = arg;

	if (in->id == f->id)
		f->body = outbox_inbound_body(in, f->now_ms);
	return 1;
}

static void on_inbound(void *arg, struct store *st, int64_t inbound_id, int64_t now_ms)
{
	struct outbox *ob = arg;
	struct store_inbound_filter f = { .before_id = inbound_id + 1, .limit = 1 };
	struct find_inbound fi = { .id = inbound_id, .now_ms = now_ms };

	if (!ob->global_url[0])
		return;
	if (store_inbound_list(st, &f, inbound_found, &fi) < 0 || fi.body == NULL) {
		log_warnx("webhook: inbound.received for inbound %lld: cannot read it: event lost", (long long)inbound_id);
		free(fi.body);
		return;
	}
	add_row(ob, st, ob->global_url, "inbound.received", fi.body, 0, now_ms);
}

static const struct store_hooks hooks = { .message = on_message, .inbound = on_inbound };

struct outbox *outbox_new(struct store *st, const char *global_url, outbox_kick_cb *kick, void *kick_arg)
{
	struct outbox *ob = calloc(1, sizeof(*ob));

	if (ob == NULL || (ob->global_url = strdup(global_url ? global_url : "")) == NULL) {
		free(ob);
		return NULL;
	}
	ob->st = st;
	ob->kick = kick;
	ob->kick_arg = kick_arg;
	store_set_hooks(st, &hooks, ob);
	return ob;
}

void outbox_free(struct outbox *ob)
{
	if (ob == NULL)
		return;
	store_set_hooks(ob->st, NULL, NULL);
	free(ob->global_url);
	free(ob);
}
