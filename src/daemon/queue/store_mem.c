/* store_mem: the message store in memory, same semantics as store_sqlite; for tests of other modules. */
#include <stdlib.h>
#include <string.h>

#include "queue/store_backend.h"
#include "simroute/log.h"

struct mem_part {
	int seq, mr, attempt;
	char route[STORE_ROUTE_MAX];
	int64_t sent_ms;
	int status;                 /* TP-ST of the latest status report, -1 none (record_part resets it) */
	int64_t status_ms;
};

/* An inbound part; inbound_id 0 while its set waits for the rest. */
struct mem_in_part {
	char *route, *from, *text, *scts;
	unsigned ref, total, seq;
	int64_t received_ms, inbound_id;
};

struct mem_event {
	int64_t id;                 /* global, increasing: store_outcomes reads what came after an id */
	struct store_event ev;      /* route/error point into the owned copies below (or NULL) */
	char *route, *error;
};

struct mem_msg {
	struct store_msg m;         /* m.text owned */
	struct mem_part *parts;     /* nparts slots, seq = index + 1, mr < 0: not sent */
	struct mem_event *events;
	size_t nevents;
	bool gone;                  /* deleted by retention: the slot stays so ids keep their index */
};

struct mem_idem {
	struct store_idem rec;      /* rec.owner/key point at the copies below */
	char owner[STORE_IDEM_OWNER_MAX], key[STORE_IDEM_KEY_MAX];
};

/* Messages in id order: ids are dense from 1, so message id lives at msgs[id - 1]. Idempotency
 * records are few (24 h of keyed requests in a test): a linear scan is enough. */
struct mem {
	struct mem_msg *msgs;
	size_t n, cap;
	struct mem_idem *idem;
	size_t nidem;
	struct mem_in_part *in_parts;
	size_t nin_parts;
	struct store_inbound *inbound;   /* id = index + 1 */
	size_t ninbound;
	struct store_mem_wh *wh;         /* webhook outbox (store_mem_webhook.c) */
	struct store_mem_admin *adm;     /* audit log and opt-out list (store_mem_admin.c) */
	struct store_mem_keys *keys;     /* API keys (store_mem_keys.c) */
	struct mem_carrier_id *cids;     /* carrier message ids, newest first */
	int64_t last_event;              /* id of the newest event */
};

struct mem_carrier_id {
	struct mem_carrier_id *next;
	char carrier[STORE_ROUTE_MAX], carrier_id[STORE_CARRIER_ID_MAX];
	int64_t id;
};

static void *mem_open(const char *path, char *err, size_t errlen)
{
	struct mem *s = calloc(1, sizeof(*s));

	(void)path;
	if (s == NULL)
		store_copy_field(err, errlen, "out of memory");
	return s;
}

static void mem_msg_free(struct mem_msg *mm)
{
	for (size_t i = 0; i < mm->nevents; i++) {
		free(mm->events[i].route);
		free(mm->events[i].error);
	}
	free(mm->events);
	free(mm->parts);
	store_msg_clear(&mm->m);
}

static void mem_close(void *be)
{
	struct mem *s = be;

	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		mem_msg_free(&s->msgs[i]);
	free(s->msgs);
	free(s->idem);
	for (size_t i = 0; i < s->nin_parts; i++) {
		free(s->in_parts[i].route);
		free(s->in_parts[i].from);
		free(s->in_parts[i].text);
		free(s->in_parts[i].scts);
	}
	free(s->in_parts);
	for (size_t i = 0; i < s->ninbound; i++)
		free(s->inbound[i].text);
	free(s->inbound);
	store_mem_wh_free(s->wh);
	store_mem_admin_free(s->adm);
	store_mem_keys_free(s->keys);
	while (s->cids) {
		struct mem_carrier_id *c = s->cids;
		s->cids = c->next;
		free(c);
	}
	free(s);
}

static struct mem_msg *mem_find(struct mem *s, int64_t id)
{
	if (id < 1 || (uint64_t)id > s->n || s->msgs[id - 1].gone)
		return NULL;
	return &s->msgs[id - 1];
}

/* All or nothing, like the sqlite transaction: grow and allocate first, then commit the batch. */
static struct mem_idem *mem_idem_find(struct mem *s, const char *owner, const char *key)
{
	for (size_t i = 0; i < s->nidem; i++)
		if (strcmp(s->idem[i].owner, owner) == 0 && strcmp(s->idem[i].key, key) == 0)
			return &s->idem[i];
	return NULL;
}

static int mem_enqueue(void *be, const struct store_new_msg *msgs, size_t n, int64_t *ids,
		       struct store_idem_new *idem, size_t nidem)
{
	struct mem *s = be;
	size_t done = 0;

	/* room for the records first, so that nothing can fail after the messages are in */
	if (nidem) {
		struct mem_idem *p = realloc(s->idem, (s->nidem + nidem) * sizeof(*p));

		if (p == NULL)
			goto nomem;
		s->idem = p;
	}

	if (s->n + n > s->cap) {
		size_t cap = s->cap ? s->cap : 64;
		struct mem_msg *p;

		while (cap < s->n + n)
			cap *= 2;
		if ((p = realloc(s->msgs, cap * sizeof(*p))) == NULL)
			goto nomem;
		s->msgs = p;
		s->cap = cap;
	}
	for (; done < n; done++) {
		const struct store_new_msg *nm = &msgs[done];
		struct mem_msg *mm = &s->msgs[s->n + done];

		memset(mm, 0, sizeof(*mm));
		mm->m.text = strdup(nm->text);
		mm->parts = calloc((size_t)nm->nparts, sizeof(*mm->parts));
		if (mm->m.text == NULL || mm->parts == NULL) {
			mem_msg_free(mm);
			goto nomem;
		}
		mm->m.id = (int64_t)(s->n + done + 1);
		store_copy_field(mm->m.to, sizeof(mm->m.to), nm->to);
		mm->m.lane = nm->lane;
		mm->m.state = MSG_QUEUED;
		mm->m.nparts = nm->nparts;
		mm->m.created_ms = mm->m.updated_ms = nm->created_ms;
		mm->m.expires_ms = nm->expires_ms;
		store_copy_field(mm->m.reference, sizeof(mm->m.reference), nm->reference);
		mm->m.languages = nm->languages;
		mm->m.delivery_report = nm->delivery_report;
		mm->m.allow_carrier = nm->allow_carrier;
		store_copy_field(mm->m.callback_url, sizeof(mm->m.callback_url), nm->callback_url);
		for (int i = 0; i < nm->nparts; i++)
			mm->parts[i].mr = -1;
	}
	for (size_t i = 0; i < n; i++)
		ids[i] = (int64_t)(s->n + i + 1);
	s->n += n;
	for (size_t i = 0; i < nidem; i++) {
		/* replaces a stored (owner, key), as INSERT OR REPLACE does */
		struct mem_idem *d = mem_idem_find(s, idem[i].rec.owner, idem[i].rec.key);

		if (d == NULL)
			d = &s->idem[s->nidem++];

		idem[i].rec.first_id = ids[idem[i].first];
		d->rec = idem[i].rec;
		store_copy_field(d->owner, sizeof(d->owner), idem[i].rec.owner);
		store_copy_field(d->key, sizeof(d->key), idem[i].rec.key);
		d->rec.owner = d->owner;
		d->rec.key = d->key;
	}
	return 0;
nomem:
	while (done > 0)
		mem_msg_free(&s->msgs[s->n + --done]);
	log_warnx("store: enqueue: out of memory");
	return -1;
}

static int mem_log_event(struct mem *s, struct mem_msg *mm, enum msg_state from, enum msg_state to,
			 const char *route, const char *error, int64_t now_ms)
{
	struct mem_event *p = realloc(mm->events, (mm->nevents + 1) * sizeof(*p));
	struct mem_event *e;

	if (p == NULL)
		return -1;
	mm->events = p;
	e = &p[mm->nevents];
	memset(e, 0, sizeof(*e));
	if ((route && (e->route = strdup(route)) == NULL) || (error && (e->error = strdup(error)) == NULL)) {
		free(e->route);
		return -1;
	}
	e->id = ++s->last_event;
	e->ev.at_ms = now_ms;
	e->ev.from = from;
	e->ev.to = to;
	mm->nevents++;
	return 0;
}

static int mem_transition(void *be, int64_t id, enum msg_state from, enum msg_state to,
			  const char *route, const char *error, int64_t now_ms)
{
	struct mem *s = be;
	struct mem_msg *mm = mem_find(s, id);
	struct store_msg *m;

	if (mm == NULL || mm->m.state != from)
		return 1;
	/* the event first: it is the only step that can fail, so a failure changes nothing */
	if (mem_log_event(s, mm, from, to, route, error, now_ms) == -1) {
		log_warnx("store: transition: out of memory");
		return -1;
	}
	m = &mm->m;
	m->state = to;
	m->updated_ms = now_ms;
	if (route)
		store_copy_field(m->route, sizeof(m->route), route);
	if (error)
		store_copy_field(m->last_error, sizeof(m->last_error), error);
	if (to == MSG_SENDING)
		m->attempts++;
	if (to == MSG_SENT || ((to == MSG_DELIVERED || to == MSG_UNDELIVERED) && m->sent_ms == 0))
		m->sent_ms = now_ms;
	if (to == MSG_QUEUED)
		m->parts_sent = 0;
	return 0;
}

static int mem_recover(void *be, int64_t now_ms)
{
	static const char *const why = "restarted while sending";
	struct mem *s = be;
	int n = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct store_msg *m = &s->msgs[i].m;
		enum msg_state to = m->parts_sent == 0 ? MSG_QUEUED : MSG_UNCERTAIN;

		if (m->state != MSG_SENDING)
			continue;
		if (mem_transition(s, m->id, MSG_SENDING, to, NULL, why, now_ms) == -1)
			return -1;
		log_info("store: message %lld: sending -> %s at start-up (%d of %d parts sent)",
			 (long long)m->id, message_state_name(to), m->parts_sent, m->nparts);
		n++;
	}
	return n;
}

static int mem_pending_fetch(void *be, enum msg_lane lane, int64_t after_id,
			     struct store_pending_row *rows, size_t max)
{
	struct mem *s = be;
	size_t n = 0;

	if (after_id < 0)
		after_id = 0;
	/* ids are dense from 1, so the row after after_id is at index after_id */
	for (uint64_t i = (uint64_t)after_id; i < s->n && n < max; i++) {
		const struct store_msg *m = &s->msgs[i].m;

		if (s->msgs[i].gone || m->state != MSG_QUEUED || m->lane != lane)
			continue;
		rows[n].id = m->id;
		rows[n].lane = m->lane;
		rows[n].expires_ms = m->expires_ms;
		n++;
	}
	return (int)n;
}

static int mem_get(void *be, int64_t id, struct store_msg *out)
{
	struct mem_msg *mm = mem_find(be, id);

	if (mm == NULL)
		return 1;
	*out = mm->m;
	if ((out->text = strdup(mm->m.text)) == NULL) {
		log_warnx("store: get: out of memory");
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return 0;
}

static int mem_record_part(void *be, int64_t id, int seq, int mr, const char *route, int64_t now_ms)
{
	struct mem_msg *mm = mem_find(be, id);
	struct mem_part *p;
	int sent = 0;

	if (mm == NULL || (mm->m.state != MSG_SENDING && mm->m.state != MSG_UNCERTAIN))
		return 1;
	if (seq < 1 || seq > mm->m.nparts) {
		log_warnx("store: record_part: message %lld: part %d out of 1..%d", (long long)id, seq,
			  mm->m.nparts);
		return -1;
	}
	p = &mm->parts[seq - 1];
	p->seq = seq;
	p->mr = mr;
	p->attempt = mm->m.attempts;
	p->sent_ms = now_ms;
	p->status = -1;
	p->status_ms = 0;
	store_copy_field(p->route, sizeof(p->route), route);
	/* counted, not incremented, exactly as the sqlite backend does */
	for (int i = 0; i < mm->m.nparts; i++)
		sent += mm->parts[i].seq > 0 && mm->parts[i].attempt == mm->m.attempts;   /* mr -1: handed, no MR yet */
	mm->m.parts_sent = sent;
	mm->m.updated_ms = now_ms;
	return 0;
}

static int mem_counts(void *be, struct store_counts *out)
{
	struct mem *s = be;

	for (size_t i = 0; i < s->n; i++) {
		const struct store_msg *m = &s->msgs[i].m;

		if (s->msgs[i].gone)
			continue;
		out->by_state[m->state]++;
		if (m->state == MSG_QUEUED)
			out->queued_by_lane[m->lane]++;
	}
	return 0;
}

static int mem_timeline(void *be, int64_t id, store_event_cb *cb, void *arg)
{
	struct mem *s = be;
	struct mem_msg *mm = mem_find(s, id);
	int n = 0;

	if (mm == NULL)
		return 0;
	/* index, not pointer: a callback may add events (realloc) while we walk */
	for (size_t i = 0; i < mm->nevents; i++) {
		struct store_event ev = mm->events[i].ev;

		ev.route = mm->events[i].route;
		ev.error = mm->events[i].error;
		n++;
		if (cb(arg, &ev) != 0)
			break;
		mm = mem_find(s, id);   /* a callback that enqueues may move the array */
	}
	return n;
}

static int mem_idem_get(void *be, const char *owner, const char *key, int64_t not_before_ms,
			struct store_idem *out)
{
	struct mem_idem *d = mem_idem_find(be, owner, key);

	if (d == NULL || d->rec.created_ms < not_before_ms)
		return 1;
	*out = d->rec;
	out->owner = owner;
	out->key = key;
	return 0;
}

static int mem_idem_purge(void *be, int64_t before_ms)
{
	struct mem *s = be;
	size_t kept = 0;
	int n = 0;

	for (size_t i = 0; i < s->nidem; i++) {
		if (s->idem[i].rec.created_ms < before_ms) {
			n++;
			continue;
		}
		s->idem[kept] = s->idem[i];
		s->idem[kept].rec.owner = s->idem[kept].owner;
		s->idem[kept].rec.key = s->idem[kept].key;
		kept++;
	}
	s->nidem = kept;
	return n;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return k <= n && strcmp(s + n - k, suffix) == 0;
}

static int mem_list(void *be, const struct store_filter *f, store_msg_cb *cb, void *arg)
{
	struct mem *s = be;
	uint64_t top = s->n;
	size_t n = 0;

	if (f->before_id > 0 && (uint64_t)(f->before_id - 1) < top)
		top = (uint64_t)(f->before_id - 1);
	/* index, not pointer, and re-checked each step: a callback may enqueue (realloc) */
	for (uint64_t i = top; i > 0 && n < f->limit && i <= s->n && (int64_t)i >= f->min_id; i--) {
		const struct store_msg *m = &s->msgs[i - 1].m;

		if (s->msgs[i - 1].gone)
			continue;
		if ((f->state >= 0 && m->state != (enum msg_state)f->state) ||
		    (f->since_ms > 0 && m->created_ms < f->since_ms) || (f->to && strcmp(m->to, f->to) != 0) ||
		    (f->to_suffix && !ends_with(m->to, f->to_suffix)))
			continue;
		n++;
		if (cb(arg, m) != 0)
			break;
	}
	return (int)n;
}

static int mem_expire(void *be, int64_t now_ms, int64_t **ids)
{
	struct mem *s = be;
	int n = 0;
	*ids = NULL;
	for (size_t i = 0; i < s->n; i++) {
		struct store_msg *m = &s->msgs[i].m;
		if (m->state != MSG_QUEUED || m->expires_ms <= 0 || m->expires_ms > now_ms)
			continue;
		int64_t *p = realloc(*ids, (size_t)(n + 1) * sizeof(**ids));
		if (p == NULL || mem_transition(s, m->id, MSG_QUEUED, MSG_EXPIRED, NULL, "ttl passed before sending",
						now_ms) == -1) {
			if (p)
				*ids = p;
			return -1;
		}
		*ids = p;
		p[n++] = m->id;
	}
	return n;
}

/* A walk over every event: the mem backend serves tests, where the store is small. */
static int mem_outcomes(void *be, int64_t after_id, int64_t since_ms, store_outcome_cb *cb, void *arg,
			int64_t *last_id)
{
	struct mem *s = be;
	int n = 0;

	for (size_t i = 0; i < s->n; i++) {
		const struct mem_msg *mm = &s->msgs[i];
		for (size_t k = 0; k < mm->nevents; k++) {
			const struct mem_event *e = &mm->events[k];
			if (e->id <= after_id || e->ev.at_ms < since_ms ||
			    (e->ev.to != MSG_SENT && e->ev.to != MSG_FAILED))
				continue;
			/* the route of the attempt: set by the move into sending, so found on the message */
			struct store_outcome o = { .at_ms = e->ev.at_ms, .sent = e->ev.to == MSG_SENT,
						   .route = e->route && *e->route ? e->route : mm->m.route,
						   .lane = mm->m.lane, .created_ms = mm->m.created_ms };
			cb(arg, &o);
			n++;
		}
	}
	if (s->last_event > after_id)
		*last_id = s->last_event;
	return n;
}

static int mem_oldest_queued(void *be, int64_t out_ms[LANE_COUNT])
{
	struct mem *s = be;
	for (size_t i = 0; i < s->n; i++) {
		const struct store_msg *m = &s->msgs[i].m;
		if (m->state == MSG_QUEUED && out_ms[m->lane] == 0)
			out_ms[m->lane] = m->created_ms;   /* id order is accept order */
	}
	return 0;
}

static int mem_route_usage(void *be, int64_t since_ms, store_usage_cb *cb, void *arg)
{
	struct mem *s = be;
	struct usage { char route[STORE_ROUTE_MAX]; int64_t n; } *u = NULL;
	size_t nu = 0;
	int rc = 0;

	for (size_t i = 0; i < s->n; i++) {
		for (int k = 0; k < s->msgs[i].m.nparts; k++) {
			const struct mem_part *p = &s->msgs[i].parts[k];
			size_t j;
			if (p->mr < 0 || p->sent_ms < since_ms)
				continue;
			for (j = 0; j < nu && strcmp(u[j].route, p->route) != 0; j++)
				;
			if (j == nu) {
				struct usage *g = realloc(u, (nu + 1) * sizeof(*u));
				if (!g) {
					free(u);
					return -1;
				}
				u = g;
				store_copy_field(u[nu].route, sizeof(u[nu].route), p->route);
				u[nu++].n = 0;
			}
			u[j].n++;
		}
	}
	for (size_t j = 0; j < nu; j++, rc++)
		if (cb(arg, u[j].route, u[j].n))
			break;
	free(u);
	return rc;
}

/* A message's parts share its destination, so one (route, number) pair per message and route, merged
 * across messages; a linear merge is fine for the test backend. */
static int mem_route_recipients(void *be, int64_t since_ms, store_recipient_cb *cb, void *arg)
{
	struct mem *s = be;
	struct pair { const char *route, *to; int64_t last; } *u = NULL;
	size_t nu = 0;
	int rc = 0;

	for (size_t i = 0; i < s->n; i++) {
		const struct store_msg *m = &s->msgs[i].m;
		for (int k = 0; k < m->nparts; k++) {
			const struct mem_part *p = &s->msgs[i].parts[k];
			size_t j;
			if (p->mr < 0 || p->sent_ms < since_ms)
				continue;
			for (j = 0; j < nu && (strcmp(u[j].route, p->route) != 0 || strcmp(u[j].to, m->to) != 0); j++)
				;
			if (j == nu) {
				struct pair *g = realloc(u, (nu + 1) * sizeof(*u));
				if (!g) {
					free(u);
					return -1;
				}
				u = g;
				u[nu++] = (struct pair){ p->route, m->to, p->sent_ms };
			}
			if (p->sent_ms > u[j].last)
				u[j].last = p->sent_ms;
		}
	}
	for (size_t j = 0; j < nu; j++, rc++)
		if (cb(arg, u[j].route, u[j].to, u[j].last))
			break;
	free(u);
	return rc;
}

/* ---- inbound SMS and delivery reports (as store_sqlite_inbound.c) ---- */

static bool in_same_set(const struct mem_in_part *q, const char *route, const char *from, unsigned ref,
			unsigned total)
{
	return q->inbound_id == 0 && q->ref == ref && q->total == total && strcmp(q->route, route) == 0 &&
	       strcmp(q->from, from) == 0;
}

static int mem_assemble(struct mem *s, const char *route, const char *from, unsigned ref, unsigned total,
			bool complete, int64_t *inbound_id)
{
	struct store_inbound_piece *pieces = calloc(s->nin_parts ? s->nin_parts : 1, sizeof(*pieces));
	struct store_inbound *m;
	size_t n = 0;
	int64_t last_ms = 0;
	int parts = 0;
	char *text;

	if (!pieces)
		return -1;
	for (size_t i = 0; i < s->nin_parts; i++) {
		struct mem_in_part *q = &s->in_parts[i];
		if (!in_same_set(q, route, from, ref, total))
			continue;
		pieces[n].seq = q->seq;
		pieces[n++].text = q->text;
		if (q->received_ms > last_ms)
			last_ms = q->received_ms;
	}
	m = realloc(s->inbound, (s->ninbound + 1) * sizeof(*m));
	text = m ? store_inbound_join(pieces, n, &parts) : NULL;
	free(pieces);
	if (m)
		s->inbound = m;
	if (!text)
		return -1;
	m = &s->inbound[s->ninbound];
	memset(m, 0, sizeof(*m));
	m->id = (int64_t)++s->ninbound;
	store_copy_field(m->from, sizeof(m->from), from);
	store_copy_field(m->route, sizeof(m->route), route);
	m->text = text;
	m->parts = parts;
	m->complete = complete;
	m->received_ms = last_ms;
	*inbound_id = m->id;
	for (size_t i = 0; i < s->nin_parts; i++)
		if (in_same_set(&s->in_parts[i], route, from, ref, total))
			s->in_parts[i].inbound_id = m->id;
	return 0;
}

static int mem_inbound_add(void *be, const struct store_inbound_part *p, int64_t *inbound_id)
{
	struct mem *s = be;
	struct mem_in_part *q;
	int have = 0;

	for (size_t i = 0; i < s->nin_parts; i++) {
		q = &s->in_parts[i];
		if (q->ref == p->ref && q->total == p->total && q->seq == p->seq && strcmp(q->route, p->route) == 0 &&
		    strcmp(q->from, p->from) == 0 && strcmp(q->scts, p->scts) == 0 && strcmp(q->text, p->text) == 0)
			return 1;
	}
	if (!(q = realloc(s->in_parts, (s->nin_parts + 1) * sizeof(*q))))
		return -1;
	s->in_parts = q;
	q = &s->in_parts[s->nin_parts];
	*q = (struct mem_in_part){ .route = strdup(p->route), .from = strdup(p->from), .text = strdup(p->text),
				   .scts = strdup(p->scts), .ref = p->ref, .total = p->total, .seq = p->seq,
				   .received_ms = p->received_ms };
	if (!q->route || !q->from || !q->text || !q->scts) {
		free(q->route);
		free(q->from);
		free(q->text);
		free(q->scts);
		return -1;
	}
	s->nin_parts++;
	if (p->total > 1) {
		/* distinct seqs of the waiting set: a seq counts once whatever its copies */
		for (unsigned seq = 1; seq <= p->total; seq++)
			for (size_t i = 0; i < s->nin_parts; i++)
				if (s->in_parts[i].seq == seq &&
				    in_same_set(&s->in_parts[i], p->route, p->from, p->ref, p->total)) {
					have++;
					break;
				}
	}
	if (p->total <= 1 || have >= (int)p->total)
		return mem_assemble(s, p->route, p->from, p->ref, p->total, true, inbound_id);
	return 0;
}

static int mem_inbound_flush(void *be, int64_t before_ms, int64_t **ids)
{
	struct mem *s = be;
	int n = 0;
	size_t cap = 0;

	for (size_t i = 0; i < s->nin_parts; i++) {
		struct mem_in_part *q = &s->in_parts[i];
		int64_t first = q->received_ms, id;
		if (q->inbound_id)
			continue;
		for (size_t j = i + 1; j < s->nin_parts; j++)
			if (in_same_set(&s->in_parts[j], q->route, q->from, q->ref, q->total) &&
			    s->in_parts[j].received_ms < first)
				first = s->in_parts[j].received_ms;
		if (first >= before_ms)
			continue;
		if (mem_assemble(s, q->route, q->from, q->ref, q->total, false, &id) == -1)
			return -1;
		if ((size_t)n == cap) {
			int64_t *p = realloc(*ids, (cap = cap ? cap * 2 : 8) * sizeof(**ids));
			if (!p)
				return -1;
			*ids = p;
		}
		(*ids)[n++] = id;
	}
	return n;
}

static int mem_inbound_list(void *be, const struct store_inbound_filter *f, store_inbound_cb *cb, void *arg)
{
	struct mem *s = be;
	int n = 0;

	for (size_t i = s->ninbound; i > 0 && (size_t)n < f->limit; i--) {
		const struct store_inbound *m = &s->inbound[i - 1];
		if (m->id == 0)
			continue;   /* deleted by retention */
		if ((f->before_id > 0 && m->id >= f->before_id) || m->received_ms < f->since_ms)
			continue;
		n++;
		if (cb(arg, m))
			break;
	}
	return n;
}

static int mem_parts(void *be, int64_t id, store_part_cb *cb, void *arg)
{
	struct mem_msg *mm = mem_find(be, id);
	int n = 0;

	for (int i = 0; mm && i < mm->m.nparts; i++) {
		const struct mem_part *q = &mm->parts[i];
		struct store_part p = { .seq = q->seq, .mr = q->mr, .sent_ms = q->sent_ms, .status = q->status,
					.status_ms = q->status_ms };
		if (q->seq == 0)
			continue;
		store_copy_field(p.route, sizeof(p.route), q->route);
		n++;
		if (cb(arg, &p))
			break;
	}
	return n;
}

static int mem_part_status(void *be, const char *route, int mr, int64_t since_ms, int status, int64_t now_ms,
			   int64_t *id, int *seq)
{
	struct mem *s = be;
	struct mem_part *best = NULL;

	for (size_t i = 0; i < s->n; i++) {
		for (int k = 0; k < s->msgs[i].m.nparts; k++) {
			struct mem_part *q = &s->msgs[i].parts[k];
			if (q->seq == 0 || q->mr != mr || q->sent_ms < since_ms || strcmp(q->route, route) != 0)
				continue;
			if (!best || q->sent_ms >= best->sent_ms) {
				best = q;
				*id = s->msgs[i].m.id;
				*seq = q->seq;
			}
		}
	}
	if (!best)
		return 1;
	best->status = status;
	best->status_ms = now_ms;
	return 0;
}

/* ---- retention (as store_sqlite_purge.c): rows first, then texts, within one budget ---- */

/* Drop the kept parts of inbound message id (they matter only until the SIM deleted them). */
static void mem_in_parts_drop(struct mem *s, int64_t id)
{
	size_t kept = 0;

	for (size_t i = 0; i < s->nin_parts; i++) {
		struct mem_in_part *q = &s->in_parts[i];
		if (q->inbound_id != id) {
			s->in_parts[kept++] = *q;
			continue;
		}
		free(q->route);
		free(q->from);
		free(q->text);
		free(q->scts);
	}
	s->nin_parts = kept;
}

/* A deleted message's carrier ids go with it, as the sqlite cascade does. */
static void mem_cids_drop(struct mem *s, int64_t id)
{
	for (struct mem_carrier_id **pc = &s->cids; *pc;) {
		struct mem_carrier_id *c = *pc;
		if (c->id != id) {
			pc = &c->next;
			continue;
		}
		*pc = c->next;
		free(c);
	}
}

static int mem_purge(void *be, int64_t body_before_ms, int64_t rows_before_ms, size_t max_rows)
{
	struct mem *s = be;
	int max = (int)max_rows, n = 0, w;

	for (size_t i = 0; rows_before_ms > 0 && i < s->n && n < max; i++) {
		struct mem_msg *mm = &s->msgs[i];
		if (mm->gone || !store_retention_state(mm->m.state) || mm->m.updated_ms >= rows_before_ms)
			continue;
		mem_cids_drop(s, mm->m.id);
		mem_msg_free(mm);
		memset(mm, 0, sizeof(*mm));
		mm->gone = true;
		mm->m.state = MSG_CANCELLED;   /* a zeroed row would read as queued to any loop that forgets gone */
		n++;
	}
	for (size_t i = 0; rows_before_ms > 0 && i < s->ninbound && n < max; i++) {
		struct store_inbound *m = &s->inbound[i];
		if (m->id == 0 || m->received_ms >= rows_before_ms)
			continue;
		mem_in_parts_drop(s, m->id);
		store_inbound_clear(m);
		memset(m, 0, sizeof(*m));
		n++;
	}
	for (size_t i = 0; body_before_ms > 0 && i < s->n && n < max; i++) {
		struct store_msg *m = &s->msgs[i].m;
		if (s->msgs[i].gone || m->purged || !store_retention_state(m->state) || m->updated_ms >= body_before_ms)
			continue;
		m->text[0] = '\0';
		m->purged = true;
		n++;
	}
	for (size_t i = 0; body_before_ms > 0 && i < s->ninbound && n < max; i++) {
		struct store_inbound *m = &s->inbound[i];
		if (m->id == 0 || m->purged || m->received_ms >= body_before_ms)
			continue;
		mem_in_parts_drop(s, m->id);
		m->text[0] = '\0';
		m->purged = true;
		n++;
	}
	if (n < max) {
		if ((w = store_mem_wh_purge(&s->wh, body_before_ms, rows_before_ms, max - n)) < 0)
			return -1;
		n += w;
	}
	return n;
}

static int mem_webhook_add(void *be, const struct store_webhook_new *w, int64_t *id)
{
	return store_mem_wh_add(&((struct mem *)be)->wh, w, id);
}
static int mem_webhook_due(void *be, int64_t now_ms, struct store_webhook *rows, size_t max)
{
	return store_mem_wh_due(&((struct mem *)be)->wh, now_ms, rows, max);
}
static int mem_webhook_result(void *be, int64_t id, int64_t delivered_ms, int64_t next_ms, const char *error)
{
	return store_mem_wh_result(&((struct mem *)be)->wh, id, delivered_ms, next_ms, error);
}
static int mem_webhook_replay(void *be, int64_t id, int64_t now_ms)
{
	return store_mem_wh_replay(&((struct mem *)be)->wh, id, now_ms);
}
static int mem_webhook_backlog(void *be, struct store_webhook_backlog *out)
{
	return store_mem_wh_backlog(&((struct mem *)be)->wh, out);
}

static int mem_webhook_list(void *be, const struct store_webhook_filter *f, store_webhook_cb *cb, void *arg)
{
	return store_mem_wh_list(&((struct mem *)be)->wh, f, cb, arg);
}

static int mem_audit_add(void *be, const struct store_audit_new *a)
{
	return store_mem_audit_add(&((struct mem *)be)->adm, a);
}
static int mem_audit_list(void *be, const struct store_audit_filter *f, store_audit_cb *cb, void *arg)
{
	return store_mem_audit_list(&((struct mem *)be)->adm, f, cb, arg);
}
static int mem_optout_add(void *be, const struct store_optout *o)
{
	return store_mem_optout_add(&((struct mem *)be)->adm, o);
}
static int mem_optout_remove(void *be, const char *number)
{
	return store_mem_optout_remove(&((struct mem *)be)->adm, number);
}
static int mem_optout_check(void *be, const char *number)
{
	return store_mem_optout_check(&((struct mem *)be)->adm, number);
}
static int mem_optout_list(void *be, const struct store_optout_filter *f, store_optout_cb *cb, void *arg)
{
	return store_mem_optout_list(&((struct mem *)be)->adm, f, cb, arg);
}

static int mem_key_add(void *be, const struct store_api_key *k)
{
	return store_mem_keys_add(&((struct mem *)be)->keys, k);
}
static int mem_key_list(void *be, store_key_cb *cb, void *arg)
{
	return store_mem_keys_list(&((struct mem *)be)->keys, cb, arg);
}
static int mem_key_revoke(void *be, const char *id, int64_t now_ms)
{
	return store_mem_keys_revoke(&((struct mem *)be)->keys, id, now_ms);
}

static int mem_carrier_id_add(void *be, const char *carrier, const char *carrier_id, int64_t id, int64_t now_ms)
{
	struct mem *s = be;
	struct mem_carrier_id *c;

	(void)now_ms;
	for (c = s->cids; c; c = c->next)
		if (strcmp(c->carrier, carrier) == 0 && strcmp(c->carrier_id, carrier_id) == 0)
			break;
	if (!c) {
		if (!(c = calloc(1, sizeof(*c))))
			return -1;
		store_copy_field(c->carrier, sizeof(c->carrier), carrier);
		store_copy_field(c->carrier_id, sizeof(c->carrier_id), carrier_id);
		c->next = s->cids;
		s->cids = c;
	}
	c->id = id;
	return 0;
}

static int mem_carrier_id_find(void *be, const char *carrier, const char *carrier_id, int64_t *id)
{
	for (struct mem_carrier_id *c = ((struct mem *)be)->cids; c; c = c->next)
		if (strcmp(c->carrier, carrier) == 0 && strcmp(c->carrier_id, carrier_id) == 0) {
			*id = c->id;
			return 0;
		}
	return 1;
}

const struct store_backend store_backend_mem = {
	.audit_add = mem_audit_add,
	.audit_list = mem_audit_list,
	.optout_add = mem_optout_add,
	.optout_remove = mem_optout_remove,
	.optout_check = mem_optout_check,
	.optout_list = mem_optout_list,
	.key_add = mem_key_add,
	.key_list = mem_key_list,
	.key_revoke = mem_key_revoke,
	.carrier_id_add = mem_carrier_id_add,
	.carrier_id_find = mem_carrier_id_find,
	.webhook_add = mem_webhook_add,
	.webhook_due = mem_webhook_due,
	.webhook_result = mem_webhook_result,
	.webhook_replay = mem_webhook_replay,
	.webhook_list = mem_webhook_list,
	.webhook_backlog = mem_webhook_backlog,
	.purge = mem_purge,
	.inbound_add = mem_inbound_add,
	.inbound_flush = mem_inbound_flush,
	.inbound_list = mem_inbound_list,
	.parts = mem_parts,
	.part_status = mem_part_status,
	.expire = mem_expire,
	.route_usage = mem_route_usage,
	.route_recipients = mem_route_recipients,
	.outcomes = mem_outcomes,
	.oldest_queued = mem_oldest_queued,
	.name = "mem",
	.open = mem_open,
	.close = mem_close,
	.enqueue = mem_enqueue,
	.recover = mem_recover,
	.pending_fetch = mem_pending_fetch,
	.get = mem_get,
	.transition = mem_transition,
	.record_part = mem_record_part,
	.counts = mem_counts,
	.timeline = mem_timeline,
	.idem_get = mem_idem_get,
	.idem_purge = mem_idem_purge,
	.list = mem_list,
};
