/* store_pg_node: several simrouted nodes on one PostgreSQL queue (docs/scale-out.md) — who this node
 * is, its heartbeat, the renewal of its leases and the sweep of the leases other nodes let expire. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue/store_pg_int.h"
#include "simroute/log.h"

static void wake_notice(void *arg, const char *msg)
{
	(void)arg;
	log_debug("store: postgresql: wake-up connection: %s", msg);
}

/* The wake-up connection: LISTEN, then non-blocking, watched by the caller's event loop. Without it
 * the node still works on its polls; the heartbeat tries again. */
static void wake_open(struct pg *p)
{
	PGresult *r = NULL;

	if (p->wake != NULL)
		return;
	p->wake = store_pg_connect(p->dsn);
	if (p->wake)
		PQsetNoticeProcessor(p->wake, wake_notice, NULL);
	if (PQstatus(p->wake) != CONNECTION_OK ||
	    PQresultStatus(r = PQexec(p->wake, "LISTEN simroute_queue; LISTEN simroute_lists")) != PGRES_COMMAND_OK ||
	    PQsetnonblocking(p->wake, 1) != 0) {
		if (!p->wake_warned)
			log_warnx("store: postgresql: no wake-up connection (%s): polling only", PQerrorMessage(p->wake));
		p->wake_warned = 1;
		PQfinish(p->wake);
		p->wake = NULL;
	} else if (p->wake_warned) {
		log_info("store: postgresql: wake-up connection re-established");
		p->wake_warned = 0;
	}
	PQclear(r);
}

/* Two live nodes under one id would each take the other's claims for their own (recover, renewals):
 * a node is refused while another host holds its id and has been heard from within its lease. The
 * same host may start again at once (a restart: its old claims are recover()'s). */
int store_pg_node_begin(void *be, const char *node_id, int64_t lease_ms, int64_t now_ms)
{
	struct pg *p = be;
	struct pg_params q = { 0 }, up = { 0 };
	char host[256] = "";
	PGresult *r;

	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "?");
	snprintf(p->node, sizeof(p->node), "%s", node_id);
	p->lease_ms = lease_ms;
	wake_open(p);
	if (store_pg_begin(p, "node_begin") == -1)
		return -1;
	store_pg_text(&q, p->node);
	if (!(r = store_pg_exec(p, "SELECT host, last_heartbeat_ms, lease_ms FROM nodes WHERE id = $1 FOR UPDATE", &q,
				"node_begin")))
		goto fail;
	if (PQntuples(r) == 1 && strcmp(store_pg_str(r, 0, 0), host) != 0 &&
	    now_ms - store_pg_i64(r, 0, 1) <= store_pg_i64(r, 0, 2)) {
		log_warnx("store: node %s is running on host %s (heard from %lld ms ago): two nodes may not share an id",
			  p->node, store_pg_str(r, 0, 0), (long long)(now_ms - store_pg_i64(r, 0, 1)));
		PQclear(r);
		goto fail;
	}
	PQclear(r);
	store_pg_text(&up, p->node);
	store_pg_int(&up, now_ms);
	store_pg_int(&up, lease_ms);
	store_pg_text(&up, host);
	if (store_pg_do(p, "INSERT INTO nodes (id, started_ms, last_heartbeat_ms, lease_ms, host) VALUES ($1, $2, $2, $3, $4)"
			" ON CONFLICT (id) DO UPDATE SET started_ms = $2, last_heartbeat_ms = $2, lease_ms = $3, host = $4",
			&up, "node_begin") == -1)
		goto fail;
	return store_pg_finish(p, "node_begin: commit");
fail:
	store_pg_rollback(p);
	p->node[0] = '\0';
	return -1;
}

/*
 * One transaction: the heartbeat, the renewal, then the sweep. The sweep locks the expired rows with
 * SKIP LOCKED, so two nodes sweeping at once split them rather than wait on each other, and the
 * UPDATE's own WHERE re-checks each row once locked. A message sent through a modem has its first
 * part marked handed in its claim's transaction (scheduler_claim_modem), so it always goes to
 * `uncertain`; one claimed for the carrier with nothing handed goes back to `queued`.
 */
int store_pg_node_tick(void *be, int64_t now_ms, const char *modems, int64_t **requeued)
{
	static const char *const sweep =
		"WITH expired AS (SELECT id FROM messages WHERE state = 'sending' AND lease_node <> $2"
		"  AND lease_until_ms < $1 ORDER BY id FOR UPDATE SKIP LOCKED),"
		" moved AS (UPDATE messages m SET updated_ms = $1,"
		"  state = CASE WHEN parts_sent = 0 THEN 'queued' ELSE 'uncertain' END,"
		"  last_error = 'node ' || lease_node || ' lost its claim (lease expired)',"
		"  lease_node = '', lease_until_ms = 0"
		"  FROM expired e WHERE m.id = e.id AND m.state = 'sending' AND m.lease_until_ms < $1"
		"  RETURNING m.id, m.state, m.last_error),"
		" logged AS (INSERT INTO events (message_id, from_state, to_state, route, error, at_ms)"
		"  SELECT id, 'sending', state, NULL, last_error, $1 FROM moved)"
		" SELECT id, state, last_error FROM moved ORDER BY id";
	struct pg *p = be;
	struct pg_params hb = { 0 }, rn = { 0 }, sw = { 0 };
	PGresult *r;
	int n, nq = 0;

	*requeued = NULL;
	if (!p->node[0])
		return 0;
	wake_open(p);   /* lost since: again (store_wake_fd then gives the new descriptor) */
	if (store_pg_begin(p, "node_tick") == -1)
		return -1;
	store_pg_text(&hb, p->node);
	store_pg_int(&hb, now_ms);
	store_pg_text(&hb, modems);
	store_pg_text(&rn, p->node);
	store_pg_int(&rn, now_ms + p->lease_ms);
	if (store_pg_do(p, "UPDATE nodes SET last_heartbeat_ms = $2, modems = $3 WHERE id = $1", &hb, "node_tick") == -1 ||
	    store_pg_do(p, "UPDATE messages SET lease_until_ms = $2 WHERE state = 'sending' AND lease_node = $1", &rn,
			"node_tick: renew") == -1)
		goto fail;
	store_pg_int(&sw, now_ms);
	store_pg_text(&sw, p->node);
	if ((r = store_pg_exec(p, sweep, &sw, "node_tick: sweep")) == NULL)
		goto fail;
	n = PQntuples(r);
	if (n > 0 && (*requeued = calloc((size_t)n, sizeof(**requeued))) == NULL) {
		PQclear(r);
		goto fail;
	}
	for (int i = 0; i < n; i++) {
		bool q = strcmp(store_pg_str(r, i, 1), "queued") == 0;
		log_info("store: message %lld: sending -> %s (%s)", (long long)store_pg_i64(r, i, 0),
			 store_pg_str(r, i, 1), store_pg_str(r, i, 2));
		if (q)
			(*requeued)[nq++] = store_pg_i64(r, i, 0);
	}
	PQclear(r);
	if (store_pg_finish(p, "node_tick: commit") == -1) {
		free(*requeued);
		*requeued = NULL;
		return -1;
	}
	if (nq == 0) {
		free(*requeued);
		*requeued = NULL;
	}
	return nq;
fail:
	store_pg_rollback(p);
	return -1;
}

int store_pg_nodes(void *be, store_node_cb *cb, void *arg)
{
	PGresult *r = store_pg_exec(be, "SELECT n.id, n.started_ms, n.last_heartbeat_ms, n.modems,"
				    " (SELECT count(*) FROM messages m WHERE m.state = 'sending' AND m.lease_node = n.id),"
				    " n.lease_ms"
				    " FROM nodes n ORDER BY n.id", NULL, "nodes");
	int n = 0;

	if (r == NULL)
		return -1;
	while (n < PQntuples(r)) {
		struct store_node nd = { .id = store_pg_str(r, n, 0), .started_ms = store_pg_i64(r, n, 1),
					 .last_heartbeat_ms = store_pg_i64(r, n, 2), .modems = store_pg_str(r, n, 3),
					 .claimed = store_pg_i64(r, n, 4), .lease_ms = store_pg_i64(r, n, 5) };
		n++;
		if (cb(arg, &nd))
			break;
	}
	PQclear(r);
	return n;
}

int store_pg_wake_fd(void *be)
{
	struct pg *p = be;

	return p->wake ? PQsocket(p->wake) : -1;
}

/* Notifications from this node's own connection are not news to it: skipped by backend pid. */
int store_pg_wake_read(void *be)
{
	struct pg *p = be;
	PGnotify *n;
	int bits = 0, self = PQbackendPID(p->c);

	if (p->wake == NULL)
		return 0;
	if (!PQconsumeInput(p->wake)) {
		log_warnx("store: postgresql: wake-up connection lost (%s): polling until the next heartbeat",
			  PQerrorMessage(p->wake));
		PQfinish(p->wake);
		p->wake = NULL;
		p->wake_warned = 1;
		return -1;
	}
	while ((n = PQnotifies(p->wake)) != NULL) {
		if (n->be_pid != self)
			bits |= strcmp(n->relname, "simroute_queue") == 0 ? STORE_WAKE_QUEUE : STORE_WAKE_LISTS;
		PQfreemem(n);
	}
	return bits;
}
