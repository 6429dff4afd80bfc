/* store_admin: the audit log and opt-out list of the store interface — argument checks shared by
 * both backends, then dispatch (store.c does the same for messages). */
#include <string.h>

#include "queue/store_backend.h"
#include "simroute/log.h"

/* A required string: present, non-empty, shorter than max. An optional one: NULL or shorter. */
static bool req(const char *s, size_t max) { return s && s[0] && strlen(s) < max; }
static bool opt(const char *s, size_t max) { return s == NULL || strlen(s) < max; }

int store_audit_add(struct store *st, const struct store_audit_new *a)
{
	void *data;
	const struct store_backend *be = store_be(st, &data);

	if (a == NULL || a->at_ms <= 0 || !req(a->actor, STORE_ACTOR_MAX) || !req(a->action, STORE_ACTION_MAX) ||
	    !opt(a->target, STORE_TARGET_MAX) || !opt(a->detail, STORE_DETAIL_MAX)) {
		log_warnx("store: audit_add: bad arguments");
		return -1;
	}
	if (!be->audit_add)
		return store_unsupported(be, "audit_add");
	int rc = be->audit_add(data, a);
	if (rc == 0)
		log_debug("store: audit: %s %s %s", a->actor, a->action, a->target ? a->target : "");
	return rc;
}

int store_audit_list(struct store *st, const struct store_audit_filter *f, store_audit_cb *cb, void *arg)
{
	void *data;
	const struct store_backend *be = store_be(st, &data);

	if (f == NULL || cb == NULL || f->limit == 0) {
		log_warnx("store: audit_list: bad arguments");
		return -1;
	}
	if (!be->audit_list)
		return store_unsupported(be, "audit_list");
	return be->audit_list(data, f, cb, arg);
}

int store_optout_add(struct store *st, const struct store_optout *o)
{
	void *data;
	const struct store_backend *be = store_be(st, &data);

	if (o == NULL || !req(o->number, STORE_TO_MAX) || !req(o->source, STORE_SOURCE_MAX) ||
	    !opt(o->note, STORE_NOTE_MAX) || o->created_ms <= 0) {
		log_warnx("store: optout_add: bad arguments");
		return -1;
	}
	if (!be->optout_add)
		return store_unsupported(be, "optout_add");
	return be->optout_add(data, o);
}

int store_optout_remove(struct store *st, const char *number)
{
	void *data;
	const struct store_backend *be = store_be(st, &data);

	if (!req(number, STORE_TO_MAX)) {
		log_warnx("store: optout_remove: bad arguments");
		return -1;
	}
	if (!be->optout_remove)
		return store_unsupported(be, "optout_remove");
	return be->optout_remove(data, number);
}

int store_optout_check(struct store *st, const char *number)
{
	void *data;
	const struct store_backend *be = store_be(st, &data);

	if (!req(number, STORE_TO_MAX))
		return 0;   /* nothing that long or empty is ever listed */
	if (!be->optout_check)
		return store_unsupported(be, "optout_check");
	return be->optout_check(data, number);
}

int store_optout_list(struct store *st, const struct store_optout_filter *f, store_optout_cb *cb, void *arg)
{
	void *data;
	const struct store_backend *be = store_be(st, &data);

	if (f == NULL || cb == NULL || f->limit == 0) {
		log_warnx("store: optout_list: bad arguments");
		return -1;
	}
	if (!be->optout_list)
		return store_unsupported(be, "optout_list");
	return be->optout_list(data, f, cb, arg);
}
