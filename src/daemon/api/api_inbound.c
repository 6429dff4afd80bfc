/* api_inbound: GET /v1/inbound (received SMS, newest first, paged like GET /v1/messages) and the
 * per-part delivery status shown by GET /v1/messages/<id>. */
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <string.h>
#include <sys/queue.h>

#include "api/api_private.h"
#include "config.h"
#include "queue/store.h"
#include "simroute/pdu.h"

#define INBOUND_LIMIT_DEFAULT 50
#define INBOUND_LIMIT_MAX 500

struct inbound_listing {
	const struct api_req *r;
	json_t *list;
	size_t limit;
	int64_t last_id;
};

static int inbound_cb(void *arg, const struct store_inbound *m)
{
	struct inbound_listing *l = arg;

	if (json_array_size(l->list) >= l->limit)
		return 1;   /* the extra row only says there is a next page */
	/* text null once erased by [store] body_retention_days */
	json_t *o = json_pack("{s:I, s:s, s:o, s:i, s:b, s:s, s:o, s:b}", "id", (json_int_t)m->id, "from", m->from,
			      "text", m->purged ? json_null() : json_string(m->text ? m->text : ""), "parts", m->parts,
			      "complete", m->complete, "route", m->route, "received_at", api_time(m->received_ms),
			      "purged", m->purged);
	api_redact_number(l->r, o, "from");
	api_redact_text(l->r, o, "text");
	json_array_append_new(l->list, o);
	l->last_id = m->id;
	return 0;
}

void api_inbound_list(struct api_req *r)
{
	struct store_inbound_filter f = { .limit = INBOUND_LIMIT_DEFAULT };
	struct store *st = r->api->deps.st;
	int64_t now = api_now_ms();

	if (api_paging_query(r, INBOUND_LIMIT_MAX, &f.since_ms, &f.limit, &f.before_id) < 0)
		return;
	/* Concatenated sets that waited longer than [inbound] reassembly_timeout are listed as they are
	 * (complete: false) from now on; a store error here only delays that. */
	store_inbound_flush(st, now - (int64_t)r->api->deps.cfg->inbound_reassembly_timeout * 1000, now);
	struct inbound_listing l = { .r = r, .list = json_array(), .limit = f.limit };
	f.limit++;
	int n = store_inbound_list(st, &f, inbound_cb, &l);
	api_reply_page(r->req, "inbound", l.list, n, l.limit, l.last_id);
}

/* ---- per-part delivery status for GET /v1/messages/<id> ---- */

static const char *part_status_name(int st)
{
	if (st < 0)
		return "pending";
	switch (pdu_status_classify(st)) {
	case PDU_ST_DELIVERED: return "delivered";
	case PDU_ST_TEMPORARY: return "trying";
	case PDU_ST_PERMANENT:
	case PDU_ST_TEMP_GAVE_UP: return "undelivered";
	}
	return "pending";
}

static int part_cb(void *arg, const struct store_part *p)
{
	json_t *o = json_pack("{s:i, s:s, s:s}", "part", p->seq, "route", p->route, "delivery",
			      part_status_name(p->status));
	json_object_set_new(o, "mr", p->mr >= 0 ? json_integer(p->mr) : json_null());
	json_object_set_new(o, "tp_status", p->status >= 0 ? json_integer(p->status) : json_null());
	json_object_set_new(o, "reported_at", p->status >= 0 ? api_time(p->status_ms) : json_null());
	json_array_append_new(arg, o);
	return 0;
}

json_t *api_message_parts(struct store *st, int64_t id)
{
	json_t *a = json_array();

	if (store_parts(st, id, part_cb, a) < 0) {
		json_decref(a);
		return json_null();
	}
	return a;
}
