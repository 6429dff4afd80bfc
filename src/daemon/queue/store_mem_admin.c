/* store_mem_admin: the mem backend's audit log and opt-out list — same semantics as
 * store_sqlite_admin.c, for tests. Linear scans: the lists of a test are short. */
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "queue/store_backend.h"

struct mem_audit {
	int64_t id, at_ms;
	char *actor, *action, *target, *detail;
};

struct mem_optout {
	int64_t id, created_ms;
	char number[STORE_TO_MAX], source[STORE_SOURCE_MAX], note[STORE_NOTE_MAX];
};

struct store_mem_admin {
	struct mem_audit *audit;      /* id = index + 1 */
	size_t naudit, cap_audit;
	struct mem_optout *optout;    /* in insertion order (ascending id) */
	size_t noptout, cap_optout;
};

void store_mem_admin_free(struct store_mem_admin *adm)
{
	if (adm == NULL)
		return;
	for (size_t i = 0; i < adm->naudit; i++) {
		struct mem_audit *a = &adm->audit[i];
		free(a->actor);
		free(a->action);
		free(a->target);
		free(a->detail);
	}
	free(adm->audit);
	free(adm->optout);
	free(adm);
}

static struct store_mem_admin *get(struct store_mem_admin **admp)
{
	if (*admp == NULL)
		*admp = calloc(1, sizeof(**admp));
	return *admp;
}

/* Grows *arr (of size elem) to hold one more than n; 0 or -1. */
static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 16;
	void *p = realloc(*arr, ncap * elem);
	if (p == NULL)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

int store_mem_audit_add(struct store_mem_admin **admp, const struct store_audit_new *a)
{
	struct store_mem_admin *adm = get(admp);

	if (adm == NULL || grow((void **)&adm->audit, &adm->cap_audit, adm->naudit, sizeof(*adm->audit)) < 0)
		return -1;
	struct mem_audit r = { .id = (int64_t)adm->naudit + 1, .at_ms = a->at_ms, .actor = strdup(a->actor),
			       .action = strdup(a->action), .target = strdup(a->target ? a->target : ""),
			       .detail = strdup(a->detail ? a->detail : "") };
	if (!r.actor || !r.action || !r.target || !r.detail) {
		free(r.actor);
		free(r.action);
		free(r.target);
		free(r.detail);
		return -1;
	}
	adm->audit[adm->naudit++] = r;
	return 0;
}

int store_mem_audit_list(struct store_mem_admin **admp, const struct store_audit_filter *f, store_audit_cb *cb,
			 void *arg)
{
	struct store_mem_admin *adm = *admp;
	int n = 0;

	for (size_t i = adm ? adm->naudit : 0; i > 0 && (size_t)n < f->limit; i--) {
		const struct mem_audit *r = &adm->audit[i - 1];
		if ((f->before_id > 0 && r->id >= f->before_id) || r->at_ms < f->since_ms)
			continue;
		struct store_audit a = { .id = r->id, .at_ms = r->at_ms, .actor = r->actor, .action = r->action,
					 .target = r->target, .detail = r->detail };
		n++;
		if (cb(arg, &a))
			break;
	}
	return n;
}

static ssize_t find_optout(const struct store_mem_admin *adm, const char *number)
{
	for (size_t i = 0; adm && i < adm->noptout; i++)
		if (strcmp(adm->optout[i].number, number) == 0)
			return (ssize_t)i;
	return -1;
}

int store_mem_optout_add(struct store_mem_admin **admp, const struct store_optout *o)
{
	struct store_mem_admin *adm = get(admp);

	if (adm == NULL)
		return -1;
	if (find_optout(adm, o->number) >= 0)
		return 1;
	if (grow((void **)&adm->optout, &adm->cap_optout, adm->noptout, sizeof(*adm->optout)) < 0)
		return -1;
	struct mem_optout *r = &adm->optout[adm->noptout++];
	memset(r, 0, sizeof(*r));
	/* sqlite gives max(rowid) + 1: an id freed at the top is used again */
	r->id = (adm->noptout > 1 ? adm->optout[adm->noptout - 2].id : 0) + 1;
	r->created_ms = o->created_ms;
	store_copy_field(r->number, sizeof(r->number), o->number);
	store_copy_field(r->source, sizeof(r->source), o->source);
	store_copy_field(r->note, sizeof(r->note), o->note);
	return 0;
}

int store_mem_optout_remove(struct store_mem_admin **admp, const char *number)
{
	struct store_mem_admin *adm = *admp;
	ssize_t i = find_optout(adm, number);

	if (i < 0)
		return 1;
	memmove(&adm->optout[i], &adm->optout[i + 1], (adm->noptout - (size_t)i - 1) * sizeof(*adm->optout));
	adm->noptout--;
	return 0;
}

int store_mem_optout_check(struct store_mem_admin **admp, const char *number)
{
	return find_optout(*admp, number) >= 0;
}

int store_mem_optout_list(struct store_mem_admin **admp, const struct store_optout_filter *f, store_optout_cb *cb,
			  void *arg)
{
	struct store_mem_admin *adm = *admp;
	int n = 0;

	for (size_t i = adm ? adm->noptout : 0; i > 0 && (size_t)n < f->limit; i--) {
		const struct mem_optout *r = &adm->optout[i - 1];
		if ((f->before_id > 0 && r->id >= f->before_id) || r->created_ms < f->since_ms)
			continue;
		struct store_optout o = { .id = r->id, .number = r->number, .source = r->source, .note = r->note,
					  .created_ms = r->created_ms };
		n++;
		if (cb(arg, &o))
			break;
	}
	return n;
}
