/* api_audit: the audit log — api_audit() for every endpoint that changes something, and
 * GET /v1/audit (admin scope), newest first, paged like the other listings. */
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/queue.h>

#include "api/api_private.h"
#include "queue/store.h"
#include "simroute/log.h"
#include "simroute/phone.h"

#define AUDIT_LIMIT_DEFAULT 50
#define AUDIT_LIMIT_MAX 500

void api_audit(struct api_req *r, const char *action, const char *target, const char *fmt, ...)
{
	char detail[STORE_DETAIL_MAX];
	struct store_audit_new a = { .at_ms = api_now_ms(), .actor = r->actor ? r->actor : "unknown",
				     .action = action, .target = target, .detail = NULL };

	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
		a.detail = detail;
	}
	if (store_audit_add(r->api->deps.st, &a) < 0)
		log_warnx("api: audit: %s %s by %s could not be recorded (store error)", action, target ? target : "",
			  a.actor);
}

struct audit_listing {
	const struct api_req *r;
	json_t *list;
	size_t limit;
	int64_t last_id;
};

static json_t *str_or_null(const char *s) { return s && s[0] ? json_string(s) : json_null(); }

static int audit_cb(void *arg, const struct store_audit *a)
{
	struct audit_listing *l = arg;

	if (json_array_size(l->list) >= l->limit)
		return 1;   /* the extra row only says there is a next page */
	json_t *o = json_pack("{s:I, s:o, s:s, s:s, s:o, s:o}", "id", (json_int_t)a->id, "at", api_time(a->at_ms),
			      "actor", a->actor, "action", a->action, "target", str_or_null(a->target), "detail",
			      str_or_null(a->detail));
	/* a target is a number for the opt-out actions; ids and modem names stay as they are */
	if (a->target && phone_e164_valid(a->target))
		api_redact_number(l->r, o, "target");
	api_redact_text(l->r, o, "detail");
	json_array_append_new(l->list, o);
	l->last_id = a->id;
	return 0;
}

void api_audit_list(struct api_req *r)
{
	struct store_audit_filter f = { .limit = AUDIT_LIMIT_DEFAULT };

	if (api_paging_query(r, AUDIT_LIMIT_MAX, &f.since_ms, &f.limit, &f.before_id) < 0)
		return;
	struct audit_listing l = { .r = r, .list = json_array(), .limit = f.limit };
	f.limit++;
	int n = store_audit_list(r->api->deps.st, &f, audit_cb, &l);
	api_reply_page(r->req, "audit", l.list, n, l.limit, l.last_id);
}
