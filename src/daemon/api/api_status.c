/* api_status: GET /v1/status — daemon, queue depth per lane and state, and every modem, in one document. */
#include <event2/http.h>
#include <sys/stat.h>
#include <time.h>

#include "api/api_private.h"
#include "modem/modem.h"
#include "queue/scheduler.h"
#include "queue/store.h"

#ifndef SIMROUTE_VERSION
#define SIMROUTE_VERSION "0.1.0"
#endif

void api_status_get(struct api_req *r)
{
	const struct api_deps *d = &r->api->deps;
	struct store_counts c;
	struct timespec ts;
	struct stat sb;

	if (store_counts(d->st, &c) < 0) {
		api_error(r->req, 503, "store_unavailable", NULL, "the store could not be read");
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;

	json_t *by_state = json_object(), *lanes = json_object(), *modems = json_array();
	for (int s = 0; s < MSG_STATE_COUNT; s++)
		json_object_set_new(by_state, message_state_name((enum msg_state)s), json_integer(c.by_state[s]));
	for (int l = 0; l < LANE_COUNT; l++)
		json_object_set_new(lanes, message_lane_name((enum msg_lane)l), json_integer(c.queued_by_lane[l]));
	int ready = 0;
	for (size_t i = 0; i < scheduler_nmodems(d->sched); i++) {
		struct modem *m = scheduler_modem(d->sched, i);
		struct modem_info mi;
		modem_get_info(m, &mi);
		ready += mi.state == MODEM_READY || mi.state == MODEM_BUSY;
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:I}", "name", modem_name(m), "state",
				      modem_state_name(mi.state), "imei", mi.imei, "iccid", mi.iccid, "model", mi.model,
				      "operator", mi.operator_name, "rssi", mi.rssi, "sent", (json_int_t)mi.sent,
				      "failed", (json_int_t)mi.failed);
		json_object_set_new(o, "last_error", mi.last_error[0] ? json_string(mi.last_error) : json_null());
		json_array_append_new(modems, o);
	}
	json_t *store = json_pack("{s:s}", "path", d->store_path ? d->store_path : "");
	if (d->store_path && stat(d->store_path, &sb) == 0)
		json_object_set_new(store, "size_bytes", json_integer((json_int_t)sb.st_size));
	json_t *o = json_pack("{s:s, s:I, s:o, s:{s:o, s:o}, s:{s:i, s:i}, s:o}", "version", SIMROUTE_VERSION,
			      "uptime_s", (json_int_t)((now - d->started_ms) / 1000), "store", store, "queue", "queued",
			      lanes, "by_state", by_state, "routes", "ready", ready, "total",
			      (int)scheduler_nmodems(d->sched), "modems", modems);
	api_reply(r->req, 200, o);
}
