/* ingest: group commit — messages accepted during one loop turn are written in one fsync'd transaction. */
#include "queue/ingest.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "queue/scheduler.h"
#include "simroute/log.h"

/* Past this many messages a batch is committed at once rather than at the end of the turn. */
#define INGEST_BATCH_MAX 4096

struct waiter {
	ingest_done_cb *done;
	void *arg;
	size_t first, n;
};

struct ingest {
	struct store *st;
	struct scheduler *sched;
	struct event *flush_ev;
	struct store_new_msg *msgs;   /* strings owned (copied) */
	size_t nmsgs, msgs_cap;
	struct waiter *waiters;
	size_t nwaiters, waiters_cap;
	struct store_idem_new *idem;  /* owner/key owned (copied) */
	size_t nidem, idem_cap;
};

static void free_msg_strings(struct store_new_msg *m)
{
	free((char *)m->to);
	free((char *)m->text);
	free((char *)m->reference);
	free((char *)m->callback_url);
}

static void free_idem(struct store_idem_new *idem, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)idem[i].rec.owner);
		free((char *)idem[i].rec.key);
	}
}

/* NULL stays NULL; otherwise a copy (NULL in *ok = 0 when out of memory). */
static char *dup_opt(const char *s, int *ok)
{
	char *d = s ? strdup(s) : NULL;
	if (s && !d)
		*ok = 0;
	return d;
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ingest_flush(arg);
}

struct ingest *ingest_new(struct event_base *base, struct store *st, struct scheduler *sched)
{
	struct ingest *in = calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	in->st = st;
	in->sched = sched;
	in->flush_ev = event_new(base, -1, 0, flush_cb, in);
	/* Lowest priority: the loop runs it only when no request I/O is ready, so one commit covers
	 * every request read in this turn (main sets up 3 priorities; the API's events use the middle). */
	if (!in->flush_ev || event_priority_set(in->flush_ev, 2) < 0) {
		if (in->flush_ev)
			event_free(in->flush_ev);
		free(in);
		return NULL;
	}
	return in;
}

static void drop_batch(struct ingest *in)
{
	for (size_t i = 0; i < in->nmsgs; i++)
		free_msg_strings(&in->msgs[i]);
	free_idem(in->idem, in->nidem);
	in->nmsgs = 0;
	in->nwaiters = 0;
	in->nidem = 0;
}

int ingest_submit(struct ingest *in, const struct store_new_msg *msgs, size_t n, ingest_done_cb *done, void *arg)
{
	return ingest_submit_idem(in, msgs, n, NULL, done, arg);
}

int ingest_submit_idem(struct ingest *in, const struct store_new_msg *msgs, size_t n, const struct store_idem *idem,
		       ingest_done_cb *done, void *arg)
{
	if (in->nmsgs + n > in->msgs_cap) {
		size_t ncap = in->msgs_cap ? in->msgs_cap : 64;
		while (ncap < in->nmsgs + n)
			ncap *= 2;
		struct store_new_msg *m = realloc(in->msgs, ncap * sizeof(*m));
		if (!m)
			return -1;
		in->msgs = m;
		in->msgs_cap = ncap;
	}
	if (in->nwaiters == in->waiters_cap) {
		size_t ncap = in->waiters_cap ? in->waiters_cap * 2 : 64;
		struct waiter *w = realloc(in->waiters, ncap * sizeof(*w));
		if (!w)
			return -1;
		in->waiters = w;
		in->waiters_cap = ncap;
	}
	if (idem && in->nidem == in->idem_cap) {
		size_t ncap = in->idem_cap ? in->idem_cap * 2 : 16;
		struct store_idem_new *d = realloc(in->idem, ncap * sizeof(*d));
		if (!d)
			return -1;
		in->idem = d;
		in->idem_cap = ncap;
	}
	size_t first = in->nmsgs;
	for (size_t i = 0; i < n; i++) {
		struct store_new_msg *d = &in->msgs[first + i];
		int ok = 1;
		*d = msgs[i];
		d->to = dup_opt(msgs[i].to, &ok);
		d->text = dup_opt(msgs[i].text, &ok);
		d->reference = dup_opt(msgs[i].reference, &ok);
		d->callback_url = dup_opt(msgs[i].callback_url, &ok);
		if (!ok) {
			for (size_t j = 0; j <= i; j++)
				free_msg_strings(&in->msgs[first + j]);
			return -1;
		}
	}
	if (idem) {
		struct store_idem_new *d = &in->idem[in->nidem];
		int ok = 1;
		d->rec = *idem;
		d->first = first;
		d->taken = false;
		d->rec.owner = dup_opt(idem->owner, &ok);
		d->rec.key = dup_opt(idem->key, &ok);
		if (!ok) {
			free_idem(d, 1);
			for (size_t j = 0; j < n; j++)
				free_msg_strings(&in->msgs[first + j]);
			return -1;
		}
		in->nidem++;
	}
	in->nmsgs += n;
	in->waiters[in->nwaiters++] = (struct waiter){ done, arg, first, n };
	if (in->nmsgs >= INGEST_BATCH_MAX)
		ingest_flush(in);
	else
		event_active(in->flush_ev, 0, 0);
	return 0;
}

void ingest_flush(struct ingest *in)
{
	if (in->nmsgs == 0)
		return;
	size_t n = in->nmsgs, nw = in->nwaiters, nidem = in->nidem;
	int64_t *ids = calloc(n, sizeof(*ids));
	int rc = ids ? store_enqueue_idem(in->st, in->msgs, n, ids, in->idem, nidem) : -1;
	if (rc != 0)
		log_warnx("ingest: could not commit %zu message(s); refusing them", n);
	/* Detach the batch before the callbacks: a reply may lead to new submissions. */
	struct waiter *waiters = in->waiters;
	struct store_new_msg *msgs = in->msgs;
	struct store_idem_new *idem = in->idem;
	in->waiters = NULL;
	in->waiters_cap = 0;
	in->msgs = NULL;
	in->msgs_cap = 0;
	in->idem = NULL;
	in->idem_cap = 0;
	in->nmsgs = in->nwaiters = in->nidem = 0;
	if (rc == 0)
		for (size_t i = 0; i < n; i++)
			if (ids[i])   /* 0: not stored (its idempotency key was taken on another node) */
				scheduler_notify(in->sched, ids[i], msgs[i].lane);
	for (size_t i = 0; i < nw; i++) {
		int taken = 0;
		for (size_t k = 0; rc == 0 && k < nidem; k++)
			taken |= idem[k].taken && idem[k].first == waiters[i].first;
		waiters[i].done(waiters[i].arg, rc != 0 ? -1 : taken ? 1 : 0,
				rc == 0 && !taken ? ids + waiters[i].first : NULL, waiters[i].n);
	}
	for (size_t i = 0; i < n; i++)
		free_msg_strings(&msgs[i]);
	free_idem(idem, nidem);
	free(idem);
	free(msgs);
	free(waiters);
	free(ids);
}

void ingest_free(struct ingest *in)
{
	if (!in)
		return;
	ingest_flush(in);
	drop_batch(in);
	event_free(in->flush_ev);
	free(in->msgs);
	free(in->waiters);
	free(in->idem);
	free(in);
}
