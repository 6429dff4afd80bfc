/* store_pg_schema: the postgresql backend's schema, as its own list of migrations. */
#include "queue/store_pg_int.h"

/*
 * Applied in order inside one transaction under an advisory lock (several nodes may start at once);
 * simroute_schema.version is the number of steps applied. Append only once released: a step that
 * shipped is never edited, a change is a new step. (Until the backend first ships, step 1 may still
 * grow: no database outside the tests holds it yet.)
 *
 * The concepts are those of store_sqlite_schema.c (read it for the why of each table and index):
 * lane as its enum number, state by name, times as ms since the epoch (BIGINT), ids that are never
 * reused (an identity column's sequence never goes back). What differs:
 * - BOOLEAN-like flags stay SMALLINT 0/1, so the two backends' rows read the same;
 * - messages.lease_node / lease_until_ms: the node that claimed a `sending` message and until when
 *   (several nodes on one queue, docs/scale-out.md); '' / 0 when no node holds it.
 */
const char *const store_pg_migrations[] = {
	/* 1: the schema of sqlite steps 1..13, plus the lease of a claimed message */
	"CREATE TABLE messages ("
	"  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  \"to\" TEXT NOT NULL,"
	"  text TEXT NOT NULL,"
	"  lane SMALLINT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  nparts INTEGER NOT NULL,"
	"  parts_sent INTEGER NOT NULL DEFAULT 0,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  route TEXT NOT NULL DEFAULT '',"
	"  last_error TEXT NOT NULL DEFAULT '',"
	"  created_ms BIGINT NOT NULL,"
	"  updated_ms BIGINT NOT NULL,"
	"  sent_ms BIGINT NOT NULL DEFAULT 0,"
	"  expires_ms BIGINT NOT NULL DEFAULT 0,"
	"  reference TEXT NOT NULL DEFAULT '',"
	"  languages BIGINT NOT NULL DEFAULT 0,"
	"  delivery_report SMALLINT NOT NULL DEFAULT 0,"
	"  allow_carrier SMALLINT NOT NULL DEFAULT 1,"
	"  callback_url TEXT NOT NULL DEFAULT '',"
	"  body_purged SMALLINT NOT NULL DEFAULT 0,"
	"  lease_node TEXT NOT NULL DEFAULT '',"
	"  lease_until_ms BIGINT NOT NULL DEFAULT 0);"
	"CREATE INDEX messages_state ON messages(state, lane, id);"
	"CREATE INDEX messages_to ON messages(\"to\", id);"
	"CREATE INDEX messages_expiry ON messages(state, expires_ms) WHERE expires_ms > 0;"
	"CREATE INDEX messages_updated ON messages(updated_ms);"
	"CREATE INDEX messages_body_kept ON messages(updated_ms) WHERE body_purged = 0;"
	"CREATE INDEX messages_lease ON messages(lease_until_ms) WHERE state = 'sending';"
	"CREATE TABLE parts ("
	"  message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  mr INTEGER NOT NULL,"
	"  route TEXT NOT NULL,"
	"  sent_ms BIGINT NOT NULL,"
	"  attempt INTEGER NOT NULL,"
	"  status INTEGER NOT NULL DEFAULT -1,"
	"  status_ms BIGINT NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (message_id, seq));"
	"CREATE INDEX parts_route_mr ON parts(route, mr, sent_ms);"
	"CREATE TABLE events ("
	"  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
	"  from_state TEXT NOT NULL,"
	"  to_state TEXT NOT NULL,"
	"  route TEXT,"
	"  error TEXT,"
	"  at_ms BIGINT NOT NULL);"
	"CREATE INDEX events_message ON events(message_id, id);"
	"CREATE TABLE idempotency ("
	"  owner TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  request_hash BYTEA NOT NULL,"
	"  status INTEGER NOT NULL,"
	"  first_id BIGINT NOT NULL,"
	"  count INTEGER NOT NULL,"
	"  created_ms BIGINT NOT NULL,"
	"  PRIMARY KEY (owner, key));"
	"CREATE INDEX idempotency_created ON idempotency(created_ms);"
	"CREATE TABLE inbound ("
	"  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  originator TEXT NOT NULL,"
	"  text TEXT NOT NULL,"
	"  parts INTEGER NOT NULL,"
	"  complete SMALLINT NOT NULL,"
	"  route TEXT NOT NULL,"
	"  received_ms BIGINT NOT NULL,"
	"  body_purged SMALLINT NOT NULL DEFAULT 0);"
	"CREATE INDEX inbound_received ON inbound(received_ms);"
	"CREATE INDEX inbound_body_kept ON inbound(received_ms) WHERE body_purged = 0;"
	"CREATE TABLE inbound_parts ("
	"  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  route TEXT NOT NULL,"
	"  originator TEXT NOT NULL,"
	"  ref INTEGER NOT NULL,"
	"  total INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  text TEXT NOT NULL,"
	"  encoding TEXT NOT NULL,"
	"  scts TEXT NOT NULL,"
	"  received_ms BIGINT NOT NULL,"
	"  inbound_id BIGINT REFERENCES inbound(id) ON DELETE CASCADE);"
	"CREATE UNIQUE INDEX inbound_parts_once ON inbound_parts(route, originator, ref, total, seq, scts, text);"
	"CREATE INDEX inbound_parts_set ON inbound_parts(route, originator, ref, total) WHERE inbound_id IS NULL;"
	"CREATE INDEX inbound_parts_inbound ON inbound_parts(inbound_id);"
	"CREATE TABLE webhooks ("
	"  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  message_id BIGINT NOT NULL DEFAULT 0,"
	"  url TEXT NOT NULL,"
	"  event TEXT NOT NULL,"
	"  body TEXT NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_ms BIGINT NOT NULL,"
	"  created_ms BIGINT NOT NULL,"
	"  delivered_ms BIGINT NOT NULL DEFAULT 0,"
	"  last_error TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX webhooks_due ON webhooks(next_ms, id) WHERE delivered_ms = 0 AND next_ms > 0;"
	"CREATE INDEX webhooks_message ON webhooks(message_id, id) WHERE delivered_ms = 0 AND next_ms > 0;"
	"CREATE INDEX webhooks_created ON webhooks(created_ms);"
	"CREATE INDEX webhooks_body_kept ON webhooks(created_ms) WHERE body != '';"
	"CREATE INDEX webhooks_given_up ON webhooks(id) WHERE delivered_ms = 0 AND next_ms = 0;"
	"CREATE TABLE audit ("
	"  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  at_ms BIGINT NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  target TEXT NOT NULL DEFAULT '',"
	"  detail TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX audit_at ON audit(at_ms);"
	/* seq: sqlite's rowid, the listing's newest-first order and cursor */
	"CREATE TABLE optout ("
	"  number TEXT PRIMARY KEY,"
	"  source TEXT NOT NULL,"
	"  created_ms BIGINT NOT NULL,"
	"  note TEXT NOT NULL DEFAULT '',"
	"  seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE);"
	"CREATE TABLE api_keys ("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  hash TEXT NOT NULL,"
	"  scopes TEXT NOT NULL,"
	"  created_ms BIGINT NOT NULL,"
	"  created_by TEXT NOT NULL DEFAULT '',"
	"  revoked_ms BIGINT NOT NULL DEFAULT 0,"
	"  mask_numbers SMALLINT NOT NULL DEFAULT 0);"
	"CREATE TABLE carrier_ids ("
	"  carrier TEXT NOT NULL,"
	"  carrier_id TEXT NOT NULL,"
	"  message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
	"  created_ms BIGINT NOT NULL,"
	"  PRIMARY KEY (carrier, carrier_id));"
	"CREATE INDEX carrier_ids_message ON carrier_ids(message_id);",

	/* 2: the nodes sharing this queue: a heartbeat row each (GET /v1/nodes); a node's claims are
	 * the messages whose lease_node is its id */
	"CREATE TABLE nodes ("
	"  id TEXT PRIMARY KEY,"
	"  started_ms BIGINT NOT NULL,"
	"  last_heartbeat_ms BIGINT NOT NULL,"
	"  lease_ms BIGINT NOT NULL,"
	"  modems TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX messages_lease_node ON messages(lease_node) WHERE state = 'sending';",

	/* 3: a webhook row being delivered is claimed by one node until claim_until_ms, so two nodes
	 * never deliver it at once ('' / 0: free) */
	"ALTER TABLE webhooks ADD COLUMN claim_node TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE webhooks ADD COLUMN claim_until_ms BIGINT NOT NULL DEFAULT 0;",

	/* 4: a version per list the nodes keep in memory (opt-out numbers, API keys), bumped with each
	 * change, so a node reloads a list only when another node changed it */
	"CREATE TABLE simroute_changes (what TEXT PRIMARY KEY, version BIGINT NOT NULL);"
	"INSERT INTO simroute_changes VALUES ('optout', 0), ('keys', 0);",

	/* 5: the host a node runs on: another host starting under the id of a live node is refused */
	"ALTER TABLE nodes ADD COLUMN host TEXT NOT NULL DEFAULT '';",
};
const int store_pg_schema_version = (int)(sizeof(store_pg_migrations) / sizeof(store_pg_migrations[0]));
