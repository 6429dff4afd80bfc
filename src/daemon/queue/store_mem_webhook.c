/* store_mem_webhook: the mem backend's webhook outbox — same semantics as store_sqlite_webhook.c. */
#include <stdlib.h>
#include <string.h>

#include "queue/store_backend.h"

/* Rows in id order: id = index + 1; a row deleted by retention keeps its slot with id 0. */
struct store_mem_wh {
	struct store_webhook *rows;   /* body owned */
	size_t n, cap;
};

static bool pending(const struct store_webhook *w) { return w->delivered_ms == 0 && w->next_ms > 0; }

void store_mem_wh_free(struct store_mem_wh *wh)
{
	if (wh == NULL)
		return;
	for (size_t i = 0; i < wh->n; i++)
		free(wh->rows[i].body);
	free(wh->rows);
	free(wh);
}

static struct store_webhook *find(struct store_mem_wh *wh, int64_t id)
{
	return wh && id >= 1 && (size_t)id <= wh->n && wh->rows[id - 1].id ? &wh->rows[id - 1] : NULL;
}

int store_mem_wh_add(struct store_mem_wh **whp, const struct store_webhook_new *w, int64_t *id)
{
	struct store_mem_wh *wh = *whp;

	if (wh == NULL && (wh = *whp = calloc(1, sizeof(*wh))) == NULL)
		return -1;
	if (wh->n == wh->cap) {
		size_t ncap = wh->cap ? wh->cap * 2 : 16;
		struct store_webhook *p = realloc(wh->rows, ncap * sizeof(*p));
		if (p == NULL)
			return -1;
		wh->rows = p;
		wh->cap = ncap;
	}
	struct store_webhook *r = &wh->rows[wh->n];
	memset(r, 0, sizeof(*r));
	if ((r->body = strdup(w->body)) == NULL)
		return -1;
	r->id = (int64_t)++wh->n;
	r->message_id = w->message_id;
	store_copy_field(r->url, sizeof(r->url), w->url);
	store_copy_field(r->event, sizeof(r->event), w->event);
	r->created_ms = r->next_ms = w->created_ms;
	*id = r->id;
	return 0;
}

/* Is r the oldest pending row of its message? */
static bool first_of_message(const struct store_mem_wh *wh, const struct store_webhook *r)
{
	if (r->message_id == 0)
		return true;
	for (const struct store_webhook *o = wh->rows; o < r; o++)
		if (o->message_id == r->message_id && pending(o))
			return false;
	return true;
}

static int due_cmp(const void *a, const void *b)
{
	const struct store_webhook *x = a, *y = b;

	if (x->next_ms != y->next_ms)
		return x->next_ms < y->next_ms ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

int store_mem_wh_due(struct store_mem_wh **whp, int64_t now_ms, struct store_webhook *rows, size_t max)
{
	struct store_mem_wh *wh = *whp;
	struct store_webhook *all;
	size_t n = 0;

	if (wh == NULL || wh->n == 0)
		return 0;
	if ((all = calloc(wh->n, sizeof(*all))) == NULL)
		return -1;
	for (size_t i = 0; i < wh->n; i++) {
		const struct store_webhook *r = &wh->rows[i];
		if (pending(r) && r->next_ms <= now_ms && first_of_message(wh, r))
			all[n++] = *r;
	}
	qsort(all, n, sizeof(*all), due_cmp);
	if (n > max)
		n = max;
	for (size_t i = 0; i < n; i++) {
		rows[i] = all[i];
		if ((rows[i].body = strdup(all[i].body)) == NULL) {
			for (size_t j = 0; j <= i; j++)
				store_webhook_clear(&rows[j]);
			free(all);
			return -1;
		}
	}
	free(all);
	return (int)n;
}

int store_mem_wh_result(struct store_mem_wh **whp, int64_t id, int64_t delivered_ms, int64_t next_ms,
			const char *error)
{
	struct store_webhook *r = find(*whp, id);

	if (r == NULL)
		return 1;
	r->attempts++;
	if (error)
		store_copy_field(r->last_error, sizeof(r->last_error), error);
	r->delivered_ms = delivered_ms;
	r->next_ms = delivered_ms > 0 ? 0 : next_ms;
	return 0;
}

int store_mem_wh_replay(struct store_mem_wh **whp, int64_t id, int64_t now_ms)
{
	struct store_webhook *r = find(*whp, id);

	if (r == NULL || r->body[0] == '\0')
		return 1;   /* an erased body (retention) cannot be sent again */
	r->delivered_ms = 0;
	r->next_ms = now_ms;
	r->attempts = 0;
	return 0;
}

int store_mem_wh_list(struct store_mem_wh **whp, const struct store_webhook_filter *f, store_webhook_cb *cb,
		      void *arg)
{
	struct store_mem_wh *wh = *whp;
	int n = 0;

	if (wh == NULL)
		return 0;
	for (size_t i = wh->n; i > 0 && (size_t)n < f->limit; i--) {
		struct store_webhook r = wh->rows[i - 1];
		if (r.id == 0 || (f->before_id > 0 && r.id >= f->before_id))
			continue;
		if (f->failed && (r.delivered_ms > 0 || r.attempts == 0))
			continue;
		r.body = NULL;
		n++;
		if (cb(arg, &r))
			break;
	}
	return n;
}

int store_mem_wh_backlog(struct store_mem_wh **whp, struct store_webhook_backlog *out)
{
	struct store_mem_wh *wh = *whp;

	*out = (struct store_webhook_backlog){ 0 };
	for (size_t i = 0; wh && i < wh->n; i++) {
		const struct store_webhook *r = &wh->rows[i];
		if (r->id == 0)
			continue;
		if (pending(r)) {
			out->pending++;
			if (!out->oldest_pending_ms || r->created_ms < out->oldest_pending_ms)
				out->oldest_pending_ms = r->created_ms;
		} else if (r->delivered_ms == 0) {
			out->given_up++;
		}
	}
	return 0;
}

int store_mem_wh_purge(struct store_mem_wh **whp, int64_t body_before_ms, int64_t rows_before_ms, int max)
{
	struct store_mem_wh *wh = *whp;
	int n = 0;

	for (size_t i = 0; wh && i < wh->n && n < max; i++) {
		struct store_webhook *r = &wh->rows[i];
		if (r->id == 0 || pending(r))
			continue;
		if (rows_before_ms > 0 && r->created_ms < rows_before_ms) {
			free(r->body);
			memset(r, 0, sizeof(*r));
			if ((r->body = strdup("")) == NULL)
				return -1;
			n++;
		} else if (body_before_ms > 0 && r->created_ms < body_before_ms && r->body[0]) {
			r->body[0] = '\0';
			n++;
		}
	}
	return n;
}
