/* api_status: GET /v1/status — daemon, queue depth per lane and state, and every modem, in one document;
 * GET /v1/modems — the modems alone. */
#include <event2/http.h>
#include <string.h>
#include <sys/stat.h>

#include "api/api_private.h"
#include "modem/modem.h"
#include "queue/scheduler.h"
#include "queue/store.h"
#include "simroute/quota.h"

#ifndef SIMROUTE_VERSION
#define SIMROUTE_VERSION "0.1.0"
#endif

/* The route's side of a modem: quota used and left per window, failure rate, breaker. */
static json_t *route_doc(struct scheduler *sched, size_t i)
{
	struct scheduler_route_stats rs;
	scheduler_route_stats(sched, i, &rs);
	json_t *quota = json_object();
	for (int w = 0; w < QUOTA_WINDOWS; w++) {
		int64_t lim = rs.quota_limit[w], used = rs.quota_used[w];
		json_object_set_new(quota, quota_window_name((enum quota_window)w),
				    json_pack("{s:I, s:o, s:o}", "used", (json_int_t)used, "limit",
					      lim ? json_integer(lim) : json_null(), "left",
					      lim ? json_integer(used < lim ? lim - used : 0) : json_null()));
	}
	return json_pack("{s:o, s:f, s:s, s:o, s:o, s:o}", "quota", quota, "failure_rate", rs.failure_rate, "breaker",
			 rs.breaker, "cooldown_until", api_time(rs.cooldown_until_ms), "last_used", api_time(rs.last_used_ms),
			 "message_id", rs.message_id ? json_integer(rs.message_id) : json_null());
}

/* What the router knows of the route: latency EWMA, distinct recipients against their limits, prefixes. */
static void route_fields(const struct api_deps *d, size_t i, json_t *o)
{
	struct scheduler_route_info ri;
	scheduler_route_info(d->sched, i, &ri);
	json_object_set_new(o, "latency_ms", ri.latency_ms > 0 ? json_integer(ri.latency_ms) : json_null());
	json_t *rc = json_object();
	for (int w = 0; w < RECIPIENTS_WINDOWS; w++)
		json_object_set_new(rc, recipients_window_name((enum recipients_window)w),
				    json_pack("{s:I, s:o}", "used", (json_int_t)ri.recipients_used[w], "limit",
					      ri.recipients_limit[w] > 0 ? json_integer(ri.recipients_limit[w])
									 : json_null()));
	json_object_set_new(o, "recipients", rc);
	json_t *px = json_array();
	for (int k = 0; ri.policy && k < ri.policy->nprefixes; k++)
		json_array_append_new(px, json_string(ri.policy->prefixes[k]));
	json_object_set_new(o, "prefixes", px);
	json_object_set_new(o, "restrict_prefixes", json_boolean(ri.policy && ri.policy->restrict_prefixes));
}

/* Every modem the scheduler drives, as the API shows it; *ready counts those that can send now. */
static json_t *modems_doc(const struct api_req *r, int *ready)
{
	const struct api_deps *d = &r->api->deps;
	json_t *modems = json_array();
	*ready = 0;
	for (size_t i = 0; i < scheduler_nmodems(d->sched); i++) {
		struct modem *m = scheduler_modem(d->sched, i);
		struct modem_info mi;
		modem_get_info(m, &mi);
		bool up = mi.state == MODEM_READY || mi.state == MODEM_BUSY;
		*ready += up;
		json_t *o = json_pack("{s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:i, s:I, s:I}", "name", modem_name(m), "state",
				      modem_state_name(mi.state), "ready", up, "imei", mi.imei, "iccid", mi.iccid, "model",
				      mi.model, "operator", mi.operator_name, "rssi", mi.rssi, "sent", (json_int_t)mi.sent,
				      "failed", (json_int_t)mi.failed);
		json_object_set_new(o, "last_error", mi.last_error[0] ? json_string(mi.last_error) : json_null());
		api_redact_text(r, o, "last_error");   /* a modem's line may quote a number */
		json_object_set_new(o, "drained", json_boolean(scheduler_modem_drained(d->sched, i)));
		struct modem_error errs[MODEM_RECENT_ERRORS];
		size_t nerr = modem_recent_errors(m, errs, MODEM_RECENT_ERRORS);
		json_t *recent = json_array();
		for (size_t k = 0; k < nerr; k++) {
			json_t *e = json_pack("{s:o, s:i, s:s}", "at", api_time(errs[k].at_ms), "count", errs[k].count,
					      "error", errs[k].text);
			api_redact_text(r, e, "error");   /* as last_error: it may quote a number or an ICCID */
			json_array_append_new(recent, e);
		}
		json_object_set_new(o, "recent_errors", recent);
		/* TS 27.007 8.5: rssi 0 is -113 dBm or less, 2 dB steps, 31 is -51 dBm or more; 99 unknown. */
		json_object_set_new(o, "signal_dbm",
				    mi.rssi >= 0 && mi.rssi <= 31 ? json_integer(-113 + 2 * mi.rssi) : json_null());
		json_object_set_new(o, "route", route_doc(d->sched, i));
		route_fields(d, i, o);
		json_array_append_new(modems, o);
	}
	return modems;
}

void api_modems_get(struct api_req *r)
{
	int ready;
	json_t *modems = modems_doc(r, &ready);
	api_reply(r->req, 200,
		  json_pack("{s:o, s:i, s:i}", "modems", modems, "ready", ready, "total",
			    (int)scheduler_nmodems(r->api->deps.sched)));
}

void api_status_get(struct api_req *r)
{
	const struct api_deps *d = &r->api->deps;
	struct store_counts c;
	struct stat sb;
	int ready;

	if (api_store_counts(r->api, &c) < 0) {
		api_error(r->req, 503, "store_unavailable", NULL, "the store could not be read");
		return;
	}
	json_t *by_state = json_object(), *lanes = json_object();
	for (int s = 0; s < MSG_STATE_COUNT; s++)
		json_object_set_new(by_state, message_state_name((enum msg_state)s), json_integer(c.by_state[s]));
	for (int l = 0; l < LANE_COUNT; l++)
		json_object_set_new(lanes, message_lane_name((enum msg_lane)l), json_integer(c.queued_by_lane[l]));
	json_t *modems = modems_doc(r, &ready);
	json_t *store = json_pack("{s:s, s:s}", "path", d->store_path ? d->store_path : "", "backend",
				  store_backend_name(d->st));
	/* a shared store (postgresql): this node's name among those on the queue (GET /v1/nodes) */
	if (d->node_id && d->node_id[0])
		json_object_set_new(store, "node", json_string(d->node_id));
	if (d->store_path && stat(d->store_path, &sb) == 0)
		json_object_set_new(store, "size_bytes", json_integer((json_int_t)sb.st_size));
	json_t *o = json_pack("{s:s, s:I, s:o, s:{s:o, s:o}, s:{s:i, s:i}, s:o}", "version", SIMROUTE_VERSION,
			      "uptime_s", (json_int_t)((api_now_ms() - d->started_ms) / 1000), "store", store, "queue",
			      "queued", lanes, "by_state", by_state, "routes", "ready", ready, "total",
			      (int)scheduler_nmodems(d->sched), "modems", modems);
	/* the cloud carrier (null: none configured) and the webhook outbox */
	struct scheduler_carrier_stats cs;
	json_object_set_new(o, "carrier",
			    scheduler_carrier_stats(d->sched, &cs)
				    ? json_pack("{s:s, s:s, s:I, s:I, s:i}", "name", cs.name, "breaker", cs.breaker, "sent",
						(json_int_t)cs.sent, "failed", (json_int_t)cs.failed, "inflight", cs.inflight)
				    : json_null());
	struct store_webhook_backlog wb;
	if (store_webhook_backlog(d->st, &wb) == 0)
		json_object_set_new(o, "webhooks",
				    json_pack("{s:I, s:I, s:o}", "pending", (json_int_t)wb.pending, "given_up",
					      (json_int_t)wb.given_up, "oldest_pending_at", api_time(wb.oldest_pending_ms)));
	api_reply(r->req, 200, o);
}

/* POST /v1/modems/<name>/{enable,disable,drain,reset} (admin scope on TCP). */
void api_modem_action(struct api_req *r, const char *name, const char *action)
{
	char err[160];
	int rc = scheduler_modem_action(r->api->deps.sched, name, action, err, sizeof(err));
	if (rc == -1) {
		api_error(r->req, 404, "not_found", NULL, "%s", err);
		return;
	}
	if (rc == -2) {
		api_error(r->req, 409, "conflict", NULL, "%s", err);
		return;
	}
	for (size_t i = 0; i < scheduler_nmodems(r->api->deps.sched); i++) {
		struct modem *m = scheduler_modem(r->api->deps.sched, i);
		if (strcmp(modem_name(m), name) == 0) {
			char what[STORE_ACTION_MAX];
			snprintf(what, sizeof(what), "modem.%s", action);
			api_audit(r, what, name, "state %s%s", modem_state_name(modem_state(m)),
				  scheduler_modem_drained(r->api->deps.sched, i) ? ", drained" : "");
			api_reply(r->req, 200,
				  json_pack("{s:s, s:s, s:s, s:b}", "name", name, "action", action, "state",
					    modem_state_name(modem_state(m)), "drained",
					    scheduler_modem_drained(r->api->deps.sched, i)));
			return;
		}
	}
	api_error(r->req, 404, "not_found", NULL, "no modem named \"%.64s\"", name);
}
