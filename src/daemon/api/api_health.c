/* api_health: GET /healthz (liveness), GET /readyz (can accept and send) and GET /metrics (Prometheus). */
#include <event2/buffer.h>
#include <event2/http.h>
#include <string.h>

#include "api/api_private.h"
#include "modem/modem.h"
#include "queue/scheduler.h"
#include "queue/store.h"
#include "simroute/quota.h"

/* The loop answered: that is all liveness means. Open on TCP (no key), see http.c. */
void api_healthz(struct api_req *r)
{
	api_reply(r->req, 200, json_pack("{s:s}", "status", "ok"));
}

/* Ready: the store answers a read and at least one modem can send. Otherwise 503 with every reason,
 * so an operator sees all that is wrong at once. */
void api_readyz(struct api_req *r)
{
	const struct api_deps *d = &r->api->deps;
	struct store_counts c;
	json_t *reasons = json_array();
	int ready = 0;

	/* the shared count (api_store_counts): probes every few seconds must not each scan a big store */
	if (api_store_counts(r->api, &c) < 0)
		json_array_append_new(reasons, json_string("store: a read failed"));
	for (size_t i = 0; i < scheduler_nmodems(d->sched); i++) {
		enum modem_state s = modem_state(scheduler_modem(d->sched, i));
		ready += s == MODEM_READY || s == MODEM_BUSY;
	}
	if (scheduler_nmodems(d->sched) == 0)
		json_array_append_new(reasons, json_string("modems: none configured"));
	else if (ready == 0)
		json_array_append_new(reasons, json_string("modems: none ready"));
	if (json_array_size(reasons)) {
		api_reply(r->req, 503, json_pack("{s:s, s:o}", "status", "not_ready", "reasons", reasons));
		return;
	}
	json_decref(reasons);
	api_reply(r->req, 200, json_pack("{s:s, s:i}", "status", "ready", "modems_ready", ready));
}

/* Prometheus label values escape \ " and newline (exposition format 0.0.4). */
static void label(struct evbuffer *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			evbuffer_add_printf(b, "\\%c", *v);
		else if (*v == '\n')
			evbuffer_add(b, "\\n", 2);
		else
			evbuffer_add(b, v, 1);
	}
}

static void family(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void per_modem(struct evbuffer *b, const struct api_deps *d, const char *name, const char *type,
		      const char *help, int what)
{
	family(b, name, type, help);
	for (size_t i = 0; i < scheduler_nmodems(d->sched); i++) {
		struct modem *m = scheduler_modem(d->sched, i);
		struct modem_info mi;
		long long v;
		modem_get_info(m, &mi);
		v = what == 0 ? mi.sent : what == 1 ? mi.failed : what == 2 ? mi.rssi
		  : (mi.state == MODEM_READY || mi.state == MODEM_BUSY);
		evbuffer_add_printf(b, "%s{modem=\"", name);
		label(b, modem_name(m));
		evbuffer_add_printf(b, "\"} %lld\n", v);
	}
}

/* Quota use and limits per route and window (limits only for windows that have one). */
static void quotas(struct evbuffer *b, const struct api_deps *d)
{
	size_t n = scheduler_nmodems(d->sched);
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 0)
			family(b, "simroute_route_quota_used", "gauge", "Segments sent in the current quota window.");
		else
			family(b, "simroute_route_quota_limit", "gauge", "Quota of the window in segments (absent: no limit).");
		for (size_t i = 0; i < n; i++) {
			struct scheduler_route_stats rs;
			scheduler_route_stats(d->sched, i, &rs);
			for (int w = 0; w < QUOTA_WINDOWS; w++) {
				int64_t v = pass == 0 ? rs.quota_used[w] : rs.quota_limit[w];
				if (pass == 1 && v == 0)
					continue;
				evbuffer_add_printf(b, "%s{modem=\"", pass == 0 ? "simroute_route_quota_used" : "simroute_route_quota_limit");
				label(b, modem_name(scheduler_modem(d->sched, i)));
				evbuffer_add_printf(b, "\",window=\"%s\"} %lld\n", quota_window_name((enum quota_window)w), (long long)v);
			}
		}
	}
}

/* Failed sends per route by what they meant, and the send latency histogram per route. */
static void route_sends(struct evbuffer *b, const struct api_deps *d)
{
	size_t n = scheduler_nmodems(d->sched);
	family(b, "simroute_route_failed_total", "counter",
	       "Failed sends per route by class (the CMS error's class, or uncertain: cut after the PDU).");
	for (size_t i = 0; i < n; i++) {
		struct scheduler_route_stats rs;
		scheduler_route_stats(d->sched, i, &rs);
		for (int k = 0; k < SCHED_FAIL_KINDS; k++) {
			evbuffer_add_printf(b, "simroute_route_failed_total{modem=\"");
			label(b, modem_name(scheduler_modem(d->sched, i)));
			evbuffer_add_printf(b, "\",class=\"%s\"} %lld\n", scheduler_fail_kind_names[k], (long long)rs.failed[k]);
		}
	}
	family(b, "simroute_route_send_latency_seconds", "histogram", "Time from AT+CMGS to +CMGS per part.");
	for (size_t i = 0; i < n; i++) {
		struct scheduler_route_stats rs;
		long long cum = 0;
		scheduler_route_stats(d->sched, i, &rs);
		for (int k = 0; k < SCHED_LATENCY_BUCKETS; k++) {
			cum += rs.latency_buckets[k];
			evbuffer_add_printf(b, "simroute_route_send_latency_seconds_bucket{modem=\"");
			label(b, modem_name(scheduler_modem(d->sched, i)));
			if (k < SCHED_LATENCY_BUCKETS - 1)
				evbuffer_add_printf(b, "\",le=\"%g\"} %lld\n", scheduler_latency_bounds_s[k], cum);
			else
				evbuffer_add_printf(b, "\",le=\"+Inf\"} %lld\n", cum);
		}
		evbuffer_add_printf(b, "simroute_route_send_latency_seconds_sum{modem=\"");
		label(b, modem_name(scheduler_modem(d->sched, i)));
		evbuffer_add_printf(b, "\"} %.3f\n", rs.latency_sum_s);
		evbuffer_add_printf(b, "simroute_route_send_latency_seconds_count{modem=\"");
		label(b, modem_name(scheduler_modem(d->sched, i)));
		evbuffer_add_printf(b, "\"} %lld\n", (long long)rs.latency_count);
	}
}

/* The webhook outbox: events waiting to be delivered, given up, and the age of the oldest waiting. */
static void webhook_backlog(struct evbuffer *b, const struct api_deps *d)
{
	struct store_webhook_backlog wb;
	if (store_webhook_backlog(d->st, &wb) < 0)
		return;
	family(b, "simroute_webhook_backlog", "gauge", "Webhook events by state: pending (to deliver) or given_up.");
	evbuffer_add_printf(b, "simroute_webhook_backlog{state=\"pending\"} %lld\n", (long long)wb.pending);
	evbuffer_add_printf(b, "simroute_webhook_backlog{state=\"given_up\"} %lld\n", (long long)wb.given_up);
	int64_t now = api_now_ms();
	family(b, "simroute_webhook_oldest_pending_seconds", "gauge", "Age of the oldest pending webhook event (0: none).");
	evbuffer_add_printf(b, "simroute_webhook_oldest_pending_seconds %lld\n",
			    wb.oldest_pending_ms && now > wb.oldest_pending_ms ? (long long)((now - wb.oldest_pending_ms) / 1000)
									   : 0LL);
}

void api_metrics(struct api_req *r)
{
	const struct api_deps *d = &r->api->deps;
	struct store_counts c;
	struct evbuffer *b;

	if (api_store_counts(r->api, &c) < 0) {
		api_error(r->req, 503, "store_unavailable", NULL, "the store could not be read");
		return;
	}
	if (!(b = evbuffer_new())) {
		api_error(r->req, 503, "overloaded", NULL, "out of memory");
		return;
	}
	family(b, "simroute_messages", "gauge", "Messages in the store by state.");
	for (int s = 0; s < MSG_STATE_COUNT; s++)
		evbuffer_add_printf(b, "simroute_messages{state=\"%s\"} %lld\n", message_state_name((enum msg_state)s),
				    (long long)c.by_state[s]);
	family(b, "simroute_queue_depth", "gauge", "Queued messages by lane.");
	for (int l = 0; l < LANE_COUNT; l++)
		evbuffer_add_printf(b, "simroute_queue_depth{lane=\"%s\"} %lld\n", message_lane_name((enum msg_lane)l),
				    (long long)c.queued_by_lane[l]);
	per_modem(b, d, "simroute_modem_sent_total", "counter", "Parts sent by the modem since start.", 0);
	per_modem(b, d, "simroute_modem_failed_total", "counter", "Sends that failed on the modem since start.", 1);
	per_modem(b, d, "simroute_modem_signal_rssi", "gauge", "Signal as +CSQ rssi: 0..31, 99 unknown.", 2);
	per_modem(b, d, "simroute_modem_ready", "gauge", "1 when the modem can send now.", 3);
	family(b, "simroute_api_connections", "gauge", "Open API connections per listener ([api] max_connections).");
	evbuffer_add_printf(b, "simroute_api_connections{listener=\"tcp\"} %d\n", r->api->tcp_l.nconns);
	evbuffer_add_printf(b, "simroute_api_connections{listener=\"unix\"} %d\n", r->api->unix_l.nconns);
	family(b, "simroute_api_connections_refused_total", "counter", "Connections refused over max_connections.");
	evbuffer_add_printf(b, "simroute_api_connections_refused_total{listener=\"tcp\"} %lld\n", r->api->tcp_l.refused_total);
	evbuffer_add_printf(b, "simroute_api_connections_refused_total{listener=\"unix\"} %lld\n",
			    r->api->unix_l.refused_total);
	quotas(b, d);
	route_sends(b, d);
	webhook_backlog(b, d);
	struct scheduler_carrier_stats cs;
	if (scheduler_carrier_stats(d->sched, &cs)) {
		family(b, "simroute_carrier_sent_total", "counter", "Messages the cloud carrier accepted since start.");
		evbuffer_add_printf(b, "simroute_carrier_sent_total{carrier=\"");
		label(b, cs.name);
		evbuffer_add_printf(b, "\"} %lld\n", (long long)cs.sent);
		family(b, "simroute_carrier_failed_total", "counter", "Carrier attempts refused or failed since start.");
		evbuffer_add_printf(b, "simroute_carrier_failed_total{carrier=\"");
		label(b, cs.name);
		evbuffer_add_printf(b, "\"} %lld\n", (long long)cs.failed);
		family(b, "simroute_carrier_breaker_open", "gauge", "1 while the carrier's circuit breaker is open.");
		evbuffer_add_printf(b, "simroute_carrier_breaker_open{carrier=\"");
		label(b, cs.name);
		evbuffer_add_printf(b, "\"} %d\n", strcmp(cs.breaker, "open") == 0);
	}
	int64_t oldest[LANE_COUNT], now = api_now_ms();
	if (store_oldest_queued(d->st, oldest) == 0) {
		family(b, "simroute_oldest_queued_seconds", "gauge", "Age of the oldest queued message by lane (0: none queued).");
		for (int l = 0; l < LANE_COUNT; l++)
			evbuffer_add_printf(b, "simroute_oldest_queued_seconds{lane=\"%s\"} %lld\n", message_lane_name((enum msg_lane)l),
					    oldest[l] && now > oldest[l] ? (long long)((now - oldest[l]) / 1000) : 0LL);
	}
	family(b, "simroute_store_write_errors_total", "counter", "Store writes that failed (disk full, read-only, I/O) since start.");
	evbuffer_add_printf(b, "simroute_store_write_errors_total %lld\n", (long long)store_write_errors(d->st));
	family(b, "simroute_uptime_seconds", "gauge", "Seconds since simrouted started.");
	evbuffer_add_printf(b, "simroute_uptime_seconds %lld\n", (long long)((api_now_ms() - d->started_ms) / 1000));
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Content-Type", "text/plain; version=0.0.4");
	evhttp_send_reply(r->req, 200, "OK", b);
	evbuffer_free(b);
}
