/* store: backend dispatch and the checks every backend shares (arguments, legal moves, logging). */
#include "queue/store.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/store_backend.h"
#include "simroute/log.h"

struct store {
	const struct store_backend *be;
	void *data;
	struct store_hooks hooks;
	int64_t write_errors;     /* writes the backend failed (disk full, read-only, I/O): a metric */
	void *hooks_arg;
};

static const struct store_backend *const backends[] = {
	&store_backend_sqlite,
	&store_backend_mem,
	&store_backend_pg,
};

void store_copy_field(char *dst, size_t dstlen, const char *src)
{
	if (dstlen == 0)
		return;
	snprintf(dst, dstlen, "%s", src ? src : "");
}

void store_msg_clear(struct store_msg *m)
{
	if (m == NULL)
		return;
	free(m->text);
	memset(m, 0, sizeof(*m));
}

/* A hook the backend does not implement (yet): an error, as a failed storage operation would be. */
int store_unsupported(const struct store_backend *be, const char *hook)
{
	log_warnx("store: %s: not supported by the %s backend", hook, be->name);
	return -1;
}

struct store *store_open(const char *backend, const char *path, char *err, size_t errlen)
{
	const struct store_backend *be = NULL;
	struct store *st;

	if (err && errlen)
		err[0] = '\0';
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (backend && strcmp(backend, backends[i]->name) == 0)
			be = backends[i];
	}
	if (be == NULL) {
		snprintf(err, errlen, "unknown store backend \"%s\" (sqlite | postgresql | mem)", backend ? backend : "");
		return NULL;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->be = be;
	if ((st->data = be->open(path, err, errlen)) == NULL) {
		free(st);
		return NULL;
	}
	return st;
}

void store_close(struct store *st)
{
	if (st == NULL)
		return;
	st->be->close(st->data);
	free(st);
}

bool store_retention_state(enum msg_state s)
{
	return s == MSG_SENT || message_state_final(s);
}

int store_purge(struct store *st, int64_t body_before_ms, int64_t rows_before_ms, size_t max_rows)
{
	if (body_before_ms < 0 || rows_before_ms < 0 || max_rows == 0 || max_rows > INT32_MAX) {
		log_warnx("store: purge: bad arguments");
		return -1;
	}
	if (!body_before_ms && !rows_before_ms)
		return 0;
	if (!st->be->purge)
		return store_unsupported(st->be, "purge");
	return st->be->purge(st->data, body_before_ms, rows_before_ms, max_rows);
}

int store_vacuum_step(struct store *st, int pages)
{
	return st->be->vacuum && pages > 0 ? st->be->vacuum(st->data, pages) : 0;
}

struct store_backup {
	const struct store_backend *be;
	void *bk;
};

struct store_backup *store_backup_begin(struct store *st, const char *path, bool *unsupported, char *err,
					size_t errlen)
{
	struct store_backup *b;

	*unsupported = !st->be->backup_begin;
	if (*unsupported) {
		snprintf(err, errlen, "the %s store cannot be backed up", st->be->name);
		return NULL;
	}
	if (!(b = calloc(1, sizeof(*b)))) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	b->be = st->be;
	if (!(b->bk = st->be->backup_begin(st->data, path, err, errlen))) {
		free(b);
		return NULL;
	}
	return b;
}

int store_backup_step(struct store_backup *b, int pages, char *err, size_t errlen)
{
	return b->be->backup_step(b->bk, pages > 0 ? pages : 1, err, errlen);
}

void store_backup_progress(const struct store_backup *b, int *done, int *total)
{
	b->be->backup_progress(b->bk, done, total);
}

void store_backup_free(struct store_backup *b)
{
	if (!b)
		return;
	b->be->backup_free(b->bk);
	free(b);
}

const struct store_backend *store_be(struct store *st, void **data)
{
	*data = st->data;
	return st->be;
}

const char *store_backend_name(const struct store *st)
{
	return st->be->name;
}

/* Bad input here is a programmer error upstream (the API validates): refuse it loudly rather than
 * store a row that cannot be sent. */
static bool new_msg_ok(const struct store_new_msg *m, size_t i)
{
	if (m->to == NULL || m->to[0] == '\0' || strlen(m->to) >= STORE_TO_MAX) {
		log_warnx("store: enqueue: message %zu: bad destination", i);
		return false;
	}
	if (m->text == NULL) {
		log_warnx("store: enqueue: message %zu: no text", i);
		return false;
	}
	if ((unsigned)m->lane >= LANE_COUNT) {
		log_warnx("store: enqueue: message %zu: bad lane %d", i, (int)m->lane);
		return false;
	}
	if (m->nparts < 1) {
		log_warnx("store: enqueue: message %zu: bad part count %d", i, m->nparts);
		return false;
	}
	if ((m->reference && strlen(m->reference) >= STORE_REFERENCE_MAX) ||
	    (m->callback_url && strlen(m->callback_url) >= STORE_URL_MAX)) {
		log_warnx("store: enqueue: message %zu: reference or callback_url too long", i);
		return false;
	}
	return true;
}

static bool idem_ok(const struct store_idem_new *d, size_t n)
{
	const struct store_idem *r = &d->rec;

	if (r->owner == NULL || r->key == NULL || !r->owner[0] || !r->key[0] ||
	    strlen(r->owner) >= STORE_IDEM_OWNER_MAX || strlen(r->key) >= STORE_IDEM_KEY_MAX ||
	    r->count < 1 || d->first + (size_t)r->count > n) {
		log_warnx("store: enqueue: bad idempotency record");
		return false;
	}
	return true;
}

int store_enqueue(struct store *st, const struct store_new_msg *msgs, size_t n, int64_t *ids)
{
	return store_enqueue_idem(st, msgs, n, ids, NULL, 0);
}

int store_enqueue_idem(struct store *st, const struct store_new_msg *msgs, size_t n, int64_t *ids,
		       struct store_idem_new *idem, size_t nidem)
{
	if (n == 0)
		return 0;
	if (msgs == NULL || ids == NULL || (nidem && idem == NULL))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!new_msg_ok(&msgs[i], i))
			return -1;
	}
	for (size_t i = 0; i < nidem; i++) {
		if (!idem_ok(&idem[i], n))
			return -1;
		idem[i].taken = false;   /* out: only a shared backend sets it */
	}
	if (!st->be->enqueue)
		return store_unsupported(st->be, "enqueue");
	if (st->be->enqueue(st->data, msgs, n, ids, idem, nidem) == -1) {
		st->write_errors++;
		return -1;
	}
	log_debug("store: enqueued %zu message(s), ids %lld..%lld", n, (long long)ids[0],
		  (long long)ids[n - 1]);
	return 0;
}

int store_recover(struct store *st, int64_t now_ms)
{
	if (!st->be->recover)
		return store_unsupported(st->be, "recover");
	return st->be->recover(st->data, now_ms);
}

int store_load_pending(struct store *st, enum msg_lane lane, int64_t after_id, size_t limit,
		       store_pending_cb *cb, void *arg)
{
	if ((unsigned)lane >= LANE_COUNT || cb == NULL) {
		log_warnx("store: load_pending: bad arguments (lane %d)", (int)lane);
		return -1;
	}
	struct store_pending_row rows[STORE_PENDING_CHUNK];
	int visited = 0;

	for (;;) {
		size_t want = STORE_PENDING_CHUNK;
		int got;

		if (limit != 0 && limit - (size_t)visited < want)
			want = limit - (size_t)visited;
		if (want == 0)
			break;
		if (!st->be->pending_fetch)
			return store_unsupported(st->be, "pending_fetch");
		if ((got = st->be->pending_fetch(st->data, lane, after_id, rows, want)) == -1)
			return -1;
		for (int i = 0; i < got; i++) {
			visited++;
			if (cb(arg, rows[i].id, rows[i].lane, rows[i].expires_ms) != 0)
				return visited;
		}
		if ((size_t)got < want)
			break;
		/* continue after the last row of this chunk */
		after_id = rows[got - 1].id;
	}
	return visited;
}

int store_get(struct store *st, int64_t id, struct store_msg *out)
{
	memset(out, 0, sizeof(*out));
	if (!st->be->get)
		return store_unsupported(st->be, "get");
	return st->be->get(st->data, id, out);
}

int store_transition(struct store *st, int64_t id, enum msg_state from, enum msg_state to,
		     const char *route, const char *error, int64_t now_ms)
{
	int rc;

	if (!message_transition_ok(from, to)) {
		log_warnx("store: message %lld: illegal transition %s -> %s", (long long)id,
			  message_state_name(from), message_state_name(to));
		return -1;
	}
	if (!st->be->transition)
		return store_unsupported(st->be, "transition");
	rc = st->be->transition(st->data, id, from, to, route, error, now_ms);
	if (rc == 0 && st->hooks.message)
		st->hooks.message(st->hooks_arg, st, id, to, now_ms);
	if (rc == 0)
		log_debug("store: message %lld: %s -> %s%s%s%s%s", (long long)id,
			  message_state_name(from), message_state_name(to),
			  route ? " route " : "", route ? route : "",
			  error ? ": " : "", error ? error : "");
	else if (rc < 0)
		st->write_errors++;
	else if (rc == 1)
		log_debug("store: message %lld: %s -> %s: not in state %s (stale)", (long long)id,
			  message_state_name(from), message_state_name(to), message_state_name(from));
	return rc;
}

int store_record_part(struct store *st, int64_t id, int seq, int mr, const char *route, int64_t now_ms)
{
	if (!st->be->record_part)
		return store_unsupported(st->be, "record_part");
	int rc = st->be->record_part(st->data, id, seq, mr, route, now_ms);

	if (rc == 0)
		log_debug("store: message %lld: part %d sent, mr %d, route %s", (long long)id, seq, mr,
			  route ? route : "-");
	else if (rc == 1)
		/* a part went out for a message we do not think is sending: a duplicate risk to see */
		log_warnx("store: message %lld: part %d (mr %d, route %s) reported while the message "
			  "is unknown or not sending: not recorded", (long long)id, seq, mr,
			  route ? route : "-");
	return rc;
}

int store_counts(struct store *st, struct store_counts *out)
{
	memset(out, 0, sizeof(*out));
	if (!st->be->counts)
		return store_unsupported(st->be, "counts");
	return st->be->counts(st->data, out);
}

int store_timeline(struct store *st, int64_t id, store_event_cb *cb, void *arg)
{
	if (cb == NULL)
		return -1;
	if (!st->be->timeline)
		return store_unsupported(st->be, "timeline");
	return st->be->timeline(st->data, id, cb, arg);
}

int store_idem_get(struct store *st, const char *owner, const char *key, int64_t not_before_ms,
		   struct store_idem *out)
{
	memset(out, 0, sizeof(*out));
	if (owner == NULL || key == NULL)
		return -1;
	if (!st->be->idem_get)
		return store_unsupported(st->be, "idem_get");
	return st->be->idem_get(st->data, owner, key, not_before_ms, out);
}

int store_idem_purge(struct store *st, int64_t before_ms)
{
	if (!st->be->idem_purge)
		return store_unsupported(st->be, "idem_purge");
	int n = st->be->idem_purge(st->data, before_ms);

	if (n > 0)
		log_debug("store: purged %d idempotency record(s)", n);
	return n;
}

int store_list(struct store *st, const struct store_filter *f, store_msg_cb *cb, void *arg)
{
	if (f == NULL || cb == NULL || f->limit == 0 || f->state >= MSG_STATE_COUNT) {
		log_warnx("store: list: bad arguments");
		return -1;
	}
	if (!st->be->list)
		return store_unsupported(st->be, "list");
	return st->be->list(st->data, f, cb, arg);
}

int store_expire(struct store *st, int64_t now_ms)
{
	int64_t *ids = NULL;
	if (!st->be->expire)
		return store_unsupported(st->be, "expire");
	int n = st->be->expire(st->data, now_ms, &ids);
	if (n > 0)
		log_info("store: %d queued message(s) expired (ttl passed before sending)", n);
	for (int i = 0; i < n && ids && st->hooks.message; i++)
		st->hooks.message(st->hooks_arg, st, ids[i], MSG_EXPIRED, now_ms);
	free(ids);
	return n;
}

int store_route_usage(struct store *st, int64_t since_ms, store_usage_cb *cb, void *arg)
{
	if (!st->be->route_usage)
		return store_unsupported(st->be, "route_usage");
	return st->be->route_usage(st->data, since_ms, cb, arg);
}

int store_route_recipients(struct store *st, int64_t since_ms, store_recipient_cb *cb, void *arg)
{
	if (!st->be->route_recipients)
		return store_unsupported(st->be, "route_recipients");
	return st->be->route_recipients(st->data, since_ms, cb, arg);
}

int store_outcomes(struct store *st, int64_t after_id, int64_t since_ms, store_outcome_cb *cb, void *arg,
		   int64_t *last_id)
{
	*last_id = after_id;
	if (!st->be->outcomes)
		return store_unsupported(st->be, "outcomes");
	return st->be->outcomes(st->data, after_id < 0 ? 0 : after_id, since_ms, cb, arg, last_id);
}

int store_oldest_queued(struct store *st, int64_t out_ms[LANE_COUNT])
{
	for (int l = 0; l < LANE_COUNT; l++)
		out_ms[l] = 0;
	if (!st->be->oldest_queued)
		return store_unsupported(st->be, "oldest_queued");
	return st->be->oldest_queued(st->data, out_ms);
}

int store_batch_begin(struct store *st, bool durable)
{
	return st->be->batch ? st->be->batch(st->data, durable ? 1 : 2) : 0;
}

int store_batch_end(struct store *st)
{
	int rc = st->be->batch ? st->be->batch(st->data, 0) : 0;
	if (rc < 0) {
		st->write_errors++;
		log_warnx("store: a batch of writes could not be committed: none of them happened");
	}
	return rc;
}

int64_t store_write_errors(const struct store *st)
{
	return st->write_errors;
}

/* ---- inbound SMS and delivery reports ---- */

void store_inbound_clear(struct store_inbound *m)
{
	if (m == NULL)
		return;
	free(m->text);
	memset(m, 0, sizeof(*m));
}

static int piece_cmp(const void *a, const void *b)
{
	const struct store_inbound_piece *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

char *store_inbound_join(struct store_inbound_piece *pieces, size_t n, int *parts)
{
	size_t len = 0, off = 0;
	char *text;

	qsort(pieces, n, sizeof(*pieces), piece_cmp);
	for (size_t i = 0; i < n; i++)
		len += strlen(pieces[i].text);
	if ((text = malloc(len + 1)) == NULL)
		return NULL;
	*parts = 0;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(pieces[i].text);

		/* the same part twice (another SCTS, a resend by the SMSC): its first copy only */
		if (i > 0 && pieces[i].seq == pieces[i - 1].seq)
			continue;
		memcpy(text + off, pieces[i].text, l);
		off += l;
		(*parts)++;
	}
	text[off] = '\0';
	return text;
}

int store_inbound_add(struct store *st, const struct store_inbound_part *p, int64_t *inbound_id)
{
	*inbound_id = 0;
	if (p == NULL || !p->route || !p->from || !p->text || !p->encoding || !p->scts || p->total < 1 ||
	    p->seq < 1 || p->seq > p->total || strlen(p->from) >= STORE_FROM_MAX ||
	    strlen(p->route) >= STORE_ROUTE_MAX) {
		log_warnx("store: inbound_add: bad arguments");
		return -1;
	}
	if (!st->be->inbound_add)
		return store_unsupported(st->be, "inbound_add");
	int rc = st->be->inbound_add(st->data, p, inbound_id);
	if (rc == 0 && *inbound_id && st->hooks.inbound)
		st->hooks.inbound(st->hooks_arg, st, *inbound_id, p->received_ms);
	return rc;
}

int store_inbound_flush(struct store *st, int64_t before_ms, int64_t now_ms)
{
	int64_t *ids = NULL;
	if (!st->be->inbound_flush)
		return store_unsupported(st->be, "inbound_flush");
	int n = st->be->inbound_flush(st->data, before_ms, &ids);
	/* An incomplete message is still a received message: its event goes out like any other. */
	for (int i = 0; i < n && ids && st->hooks.inbound; i++)
		st->hooks.inbound(st->hooks_arg, st, ids[i], now_ms);
	free(ids);
	return n;
}

int store_inbound_list(struct store *st, const struct store_inbound_filter *f, store_inbound_cb *cb, void *arg)
{
	if (f == NULL || cb == NULL || f->limit == 0) {
		log_warnx("store: inbound_list: bad arguments");
		return -1;
	}
	if (!st->be->inbound_list)
		return store_unsupported(st->be, "inbound_list");
	return st->be->inbound_list(st->data, f, cb, arg);
}

int store_parts(struct store *st, int64_t id, store_part_cb *cb, void *arg)
{
	if (cb == NULL)
		return -1;
	if (!st->be->parts)
		return store_unsupported(st->be, "parts");
	return st->be->parts(st->data, id, cb, arg);
}

int store_part_status(struct store *st, const char *route, int mr, int64_t since_ms, int status, int64_t now_ms,
		      int64_t *id, int *seq)
{
	if (route == NULL || mr < 0 || mr > 255 || status < 0 || status > 255) {
		log_warnx("store: part_status: bad arguments");
		return -1;
	}
	if (!st->be->part_status)
		return store_unsupported(st->be, "part_status");
	return st->be->part_status(st->data, route, mr, since_ms, status, now_ms, id, seq);
}

/* ---- carrier message ids ---- */

static bool carrier_id_ok(const char *carrier, const char *carrier_id)
{
	return carrier && *carrier && carrier_id && *carrier_id && strlen(carrier_id) < STORE_CARRIER_ID_MAX &&
	       strlen(carrier) < STORE_ROUTE_MAX;
}

int store_carrier_id_add(struct store *st, const char *carrier, const char *carrier_id, int64_t id, int64_t now_ms)
{
	if (!carrier_id_ok(carrier, carrier_id) || id <= 0) {
		log_warnx("store: carrier_id_add: bad arguments");
		return -1;
	}
	if (!st->be->carrier_id_add)
		return store_unsupported(st->be, "carrier_id_add");
	return st->be->carrier_id_add(st->data, carrier, carrier_id, id, now_ms);
}

int store_carrier_id_find(struct store *st, const char *carrier, const char *carrier_id, int64_t *id)
{
	if (!carrier_id_ok(carrier, carrier_id))
		return 1;   /* a callback naming nothing we could have stored */
	if (!st->be->carrier_id_find)
		return store_unsupported(st->be, "carrier_id_find");
	return st->be->carrier_id_find(st->data, carrier, carrier_id, id);
}

/* ---- webhook outbox ---- */

void store_set_hooks(struct store *st, const struct store_hooks *hooks, void *arg)
{
	st->hooks = hooks ? *hooks : (struct store_hooks){ 0 };
	st->hooks_arg = arg;
}

void store_webhook_clear(struct store_webhook *w)
{
	if (w == NULL)
		return;
	free(w->body);
	memset(w, 0, sizeof(*w));
}

int store_webhook_add(struct store *st, const struct store_webhook_new *w, int64_t *id)
{
	*id = 0;
	if (w == NULL || !w->url || !w->url[0] || !w->event || !w->body || strlen(w->url) >= STORE_URL_MAX ||
	    strlen(w->event) >= STORE_EVENT_MAX || w->created_ms <= 0) {
		log_warnx("store: webhook_add: bad arguments");
		return -1;
	}
	if (!st->be->webhook_add)
		return store_unsupported(st->be, "webhook_add");
	int rc = st->be->webhook_add(st->data, w, id);
	if (rc == 0)
		log_debug("store: webhook %lld: %s queued", (long long)*id, w->event);
	return rc;
}

int store_webhook_due(struct store *st, int64_t now_ms, struct store_webhook *rows, size_t max)
{
	if (rows == NULL || max == 0)
		return -1;
	memset(rows, 0, max * sizeof(*rows));
	if (!st->be->webhook_due)
		return store_unsupported(st->be, "webhook_due");
	return st->be->webhook_due(st->data, now_ms, rows, max);
}

int store_webhook_result(struct store *st, int64_t id, int64_t delivered_ms, int64_t next_ms, const char *error)
{
	if (delivered_ms < 0 || next_ms < 0)
		return -1;
	if (!st->be->webhook_result)
		return store_unsupported(st->be, "webhook_result");
	return st->be->webhook_result(st->data, id, delivered_ms, next_ms, error);
}

int store_webhook_replay(struct store *st, int64_t id, int64_t now_ms)
{
	if (now_ms <= 0)
		return -1;
	if (!st->be->webhook_replay)
		return store_unsupported(st->be, "webhook_replay");
	return st->be->webhook_replay(st->data, id, now_ms);
}

int store_webhook_backlog(struct store *st, struct store_webhook_backlog *out)
{
	*out = (struct store_webhook_backlog){ 0 };
	if (!st->be->webhook_backlog)
		return store_unsupported(st->be, "webhook_backlog");
	return st->be->webhook_backlog(st->data, out);
}

int store_webhook_list(struct store *st, const struct store_webhook_filter *f, store_webhook_cb *cb, void *arg)
{
	if (f == NULL || cb == NULL || f->limit == 0) {
		log_warnx("store: webhook_list: bad arguments");
		return -1;
	}
	if (!st->be->webhook_list)
		return store_unsupported(st->be, "webhook_list");
	return st->be->webhook_list(st->data, f, cb, arg);
}

/* ---- API keys ---- */

static bool key_field_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	return n > 0 && n < max;
}

int store_key_add(struct store *st, const struct store_api_key *k)
{
	if (k == NULL || !key_field_ok(k->id, sizeof(k->id)) || !key_field_ok(k->name, sizeof(k->name)) ||
	    strncmp(k->hash, "sha256:", 7) != 0 || strnlen(k->hash, sizeof(k->hash)) != 7 + 64 ||
	    !key_field_ok(k->scopes, sizeof(k->scopes)) || strnlen(k->created_by, sizeof(k->created_by)) >= sizeof(k->created_by) ||
	    k->created_ms <= 0 || k->revoked_ms != 0) {
		log_warnx("store: key_add: bad arguments");
		return -1;
	}
	if (!st->be->key_add)
		return store_unsupported(st->be, "key_add");
	int rc = st->be->key_add(st->data, k);
	if (rc == 0)
		log_debug("store: API key %s (%s) stored", k->id, k->name);
	return rc;
}

int store_key_list(struct store *st, store_key_cb *cb, void *arg)
{
	if (cb == NULL)
		return -1;
	if (!st->be->key_list)
		return store_unsupported(st->be, "key_list");
	return st->be->key_list(st->data, cb, arg);
}

int store_key_revoke(struct store *st, const char *id, int64_t now_ms)
{
	if (id == NULL || !*id || now_ms <= 0)
		return -1;
	if (!st->be->key_revoke)
		return store_unsupported(st->be, "key_revoke");
	return st->be->key_revoke(st->data, id, now_ms);
}

bool store_shared(const struct store *st)
{
	return st->be->node_begin != NULL;
}

int store_node_begin(struct store *st, const char *node_id, int64_t lease_ms, int64_t now_ms)
{
	size_t n = node_id ? strlen(node_id) : 0;

	if (!st->be->node_begin)
		return 0;
	if (n == 0 || n >= STORE_NODE_ID_MAX || strspn(node_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
						       "0123456789_.-") != n || lease_ms < 1000) {
		log_warnx("store: node_begin: bad node id or lease");
		return -1;
	}
	return st->be->node_begin(st->data, node_id, lease_ms, now_ms);
}

int store_node_tick(struct store *st, int64_t now_ms, const char *modems, int64_t **requeued)
{
	*requeued = NULL;
	if (!st->be->node_tick)
		return 0;
	return st->be->node_tick(st->data, now_ms, modems ? modems : "", requeued);
}

int store_nodes(struct store *st, store_node_cb *cb, void *arg)
{
	if (cb == NULL)
		return -1;
	return st->be->nodes ? st->be->nodes(st->data, cb, arg) : 0;
}

int store_versions(struct store *st, int64_t *optout, int64_t *keys)
{
	*optout = *keys = 0;
	return st->be->versions ? st->be->versions(st->data, optout, keys) : 0;
}

int store_wake_fd(struct store *st)
{
	return st->be->wake_fd ? st->be->wake_fd(st->data) : -1;
}

int store_wake_read(struct store *st)
{
	return st->be->wake_read ? st->be->wake_read(st->data) : 0;
}
