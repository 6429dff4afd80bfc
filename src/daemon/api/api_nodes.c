/* api_nodes: GET /v1/nodes — the simrouted nodes sharing one queue (postgresql store,
 * docs/scale-out.md): each one's last heartbeat, modems and messages it holds in `sending`. A store
 * that is not shared (sqlite) answers shared: false and no nodes. */
#include <string.h>

#include "api/api_private.h"
#include "queue/store.h"

struct nodes_listing {
	json_t *list;
	int64_t now_ms;
};

static int node_cb(void *arg, const struct store_node *n)
{
	struct nodes_listing *l = arg;
	json_t *modems = json_array();
	const char *p = n->modems;

	/* "m0,m1" as a list */
	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len)
			json_array_append_new(modems, json_stringn(p, len));
		p = comma ? comma + 1 : NULL;
	}
	json_array_append_new(l->list, json_pack("{s:s, s:o, s:o, s:b, s:o, s:I, s:I}", "id", n->id, "started",
						 api_time(n->started_ms), "last_heartbeat", api_time(n->last_heartbeat_ms),
						 "alive", l->now_ms - n->last_heartbeat_ms <= n->lease_ms, "modems", modems,
						 "claimed", (json_int_t)n->claimed, "lease_s",
						 (json_int_t)(n->lease_ms / 1000)));
	return 0;
}

void api_nodes_list(struct api_req *r)
{
	struct nodes_listing l = { .list = json_array(), .now_ms = api_now_ms() };
	const char *self = r->api->deps.node_id;

	if (store_nodes(r->api->deps.st, node_cb, &l) < 0) {
		json_decref(l.list);
		api_error(r->req, 500, "store_error", NULL, "the node list could not be read");
		return;
	}
	api_reply(r->req, 200, json_pack("{s:b, s:o, s:o}", "shared", store_shared(r->api->deps.st), "self",
					 self && self[0] ? json_string(self) : json_null(), "nodes", l.list));
}
