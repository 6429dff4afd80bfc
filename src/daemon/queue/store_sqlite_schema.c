/* store_sqlite_schema: the sqlite backend's schema, as the list of migrations that build it. */
#include "queue/store_sqlite_int.h"

/*
 * Schema migrations, applied in order inside one transaction; PRAGMA user_version is the number of
 * steps applied. Append only: a step that shipped is never edited, a change is a new step.
 *
 * lane is stored as its enum number (0 otp, 1 normal, 2 bulk) so that ORDER BY lane is priority
 * order and the index serves load_pending; state is stored by name (message_state_name) so that
 * an operator can read the table with the sqlite3 shell. Neither has a CHECK constraint: adding a
 * state would then need a table rebuild, and the code validates both on the way in and out.
 *
 * messages_state (state, lane, id) is a full index rather than a partial WHERE state='queued' one:
 * it serves load_pending (equality on state, keyset range on (lane, id)) and also store_counts as a
 * covering scan in GROUP BY order, which the metrics endpoint calls often.
 *
 * AUTOINCREMENT: ids are handed to API clients and webhooks; they must never be reused, even after
 * the highest rows are purged.
 */
const char *const store_sq_migrations[] = {
	/* 1: messages and the parts that reached a modem */
	"CREATE TABLE messages ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  \"to\" TEXT NOT NULL,"
	"  text TEXT NOT NULL,"
	"  lane INTEGER NOT NULL,"
	"  state TEXT NOT NULL,"
	"  nparts INTEGER NOT NULL,"
	"  parts_sent INTEGER NOT NULL DEFAULT 0,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  route TEXT NOT NULL DEFAULT '',"
	"  last_error TEXT NOT NULL DEFAULT '',"
	"  created_ms INTEGER NOT NULL,"
	"  updated_ms INTEGER NOT NULL,"
	"  sent_ms INTEGER NOT NULL DEFAULT 0,"
	"  expires_ms INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX messages_state ON messages(state, lane, id);"
	/* attempt: which attempt sent the part, so parts_sent counts the current attempt only */
	"CREATE TABLE parts ("
	"  message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  mr INTEGER NOT NULL,"
	"  route TEXT NOT NULL,"
	"  sent_ms INTEGER NOT NULL,"
	"  attempt INTEGER NOT NULL,"
	"  PRIMARY KEY (message_id, seq)) WITHOUT ROWID;"
	/* a status report names (SIM, mr); the time window narrows the 8-bit mr's many reuses */
	"CREATE INDEX parts_route_mr ON parts(route, mr, sent_ms);",

	/* 2: the timeline of each message (one row per state change) */
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
	"  from_state TEXT NOT NULL,"
	"  to_state TEXT NOT NULL,"
	"  route TEXT,"
	"  error TEXT,"
	"  at_ms INTEGER NOT NULL);"
	"CREATE INDEX events_message ON events(message_id, id);",

	/* 3: per-message options of the full API, and idempotency keys. allow_carrier defaults to 1:
	 * rows written before it existed were accepted with no restriction. The idempotency row is
	 * written in the messages' transaction; messages_to serves GET /v1/messages?to= newest first. */
	"ALTER TABLE messages ADD COLUMN reference TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE messages ADD COLUMN languages INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE messages ADD COLUMN delivery_report INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE messages ADD COLUMN allow_carrier INTEGER NOT NULL DEFAULT 1;"
	"ALTER TABLE messages ADD COLUMN callback_url TEXT NOT NULL DEFAULT '';"
	"CREATE INDEX messages_to ON messages(\"to\", id);"
	"CREATE TABLE idempotency ("
	"  owner TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  request_hash BLOB NOT NULL,"
	"  status INTEGER NOT NULL,"
	"  first_id INTEGER NOT NULL,"
	"  count INTEGER NOT NULL,"
	"  created_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (owner, key)) WITHOUT ROWID;"
	"CREATE INDEX idempotency_created ON idempotency(created_ms);",

	/* 4: the expiry sweep finds due queued rows without scanning the whole queue */
	"CREATE INDEX messages_expiry ON messages(state, expires_ms) WHERE expires_ms > 0;",

	/* 5: delivery reports per part, and inbound SMS. A part row is kept after its set is assembled
	 * (inbound_id set): the unique index then recognises a part read again from a SIM (a crash
	 * between the commit and AT+CMGD) as a duplicate. The set index covers waiting parts only. */
	"ALTER TABLE parts ADD COLUMN status INTEGER NOT NULL DEFAULT -1;"
	"ALTER TABLE parts ADD COLUMN status_ms INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE inbound ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  originator TEXT NOT NULL,"
	"  text TEXT NOT NULL,"
	"  parts INTEGER NOT NULL,"
	"  complete INTEGER NOT NULL,"
	"  route TEXT NOT NULL,"
	"  received_ms INTEGER NOT NULL);"
	"CREATE INDEX inbound_received ON inbound(received_ms);"
	"CREATE TABLE inbound_parts ("
	"  id INTEGER PRIMARY KEY,"
	"  route TEXT NOT NULL,"
	"  originator TEXT NOT NULL,"
	"  ref INTEGER NOT NULL,"
	"  total INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  text TEXT NOT NULL,"
	"  encoding TEXT NOT NULL,"
	"  scts TEXT NOT NULL,"
	"  received_ms INTEGER NOT NULL,"
	"  inbound_id INTEGER REFERENCES inbound(id) ON DELETE CASCADE);"
	"CREATE UNIQUE INDEX inbound_parts_once ON inbound_parts(route, originator, ref, total, seq, scts, text);"
	"CREATE INDEX inbound_parts_set ON inbound_parts(route, originator, ref, total) WHERE inbound_id IS NULL;",

	/* 6: the webhook outbox (tracker issue 8). message_id orders a message's events (0: inbound);
	 * next_ms 0 with delivered_ms 0 means given up. The partial indexes hold pending rows only, so
	 * the due scan and the per-message "oldest pending" check stay small however long rows are kept. */
	"CREATE TABLE webhooks ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  message_id INTEGER NOT NULL DEFAULT 0,"
	"  url TEXT NOT NULL,"
	"  event TEXT NOT NULL,"
	"  body TEXT NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_ms INTEGER NOT NULL,"
	"  created_ms INTEGER NOT NULL,"
	"  delivered_ms INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX webhooks_due ON webhooks(next_ms, id) WHERE delivered_ms = 0 AND next_ms > 0;"
	"CREATE INDEX webhooks_message ON webhooks(message_id, id) WHERE delivered_ms = 0 AND next_ms > 0;",

	/* 7: the audit log (tracker issue 10) and the opt-out suppression list (issues 8, 9). An audit
	 * id is never reused (AUTOINCREMENT): it is the listing's cursor. optout is keyed by number;
	 * its rowid (assigned max + 1 on insert) orders the listing newest first and pages it. */
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  at_ms INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  target TEXT NOT NULL DEFAULT '',"
	"  detail TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX audit_at ON audit(at_ms);"
	"CREATE TABLE optout ("
	"  number TEXT PRIMARY KEY,"
	"  source TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL,"
	"  note TEXT NOT NULL DEFAULT '');",

	/* 8: API keys created at run time (tracker issue 9): the hash in the config's "sha256:<hex>"
	 * format, never the key. name is UNIQUE across revoked rows too, so a name always means one key
	 * in listings and logs; revoked_ms 0 is a live key. */
	"CREATE TABLE api_keys ("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  hash TEXT NOT NULL,"
	"  scopes TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL,"
	"  created_by TEXT NOT NULL DEFAULT '',"
	"  revoked_ms INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;",

	/* 9: retention (tracker issue 10). body_purged marks a text erased by [store] body_retention_days
	 * (the column stays NOT NULL: the text becomes ''). The *_body_kept partial indexes hold only rows
	 * whose text is still there, so the body purge never rescans what it already erased; the full
	 * ones on the age columns serve the row purge; inbound_parts_inbound serves the cascade. */
	"ALTER TABLE messages ADD COLUMN body_purged INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE inbound ADD COLUMN body_purged INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX messages_updated ON messages(updated_ms);"
	"CREATE INDEX messages_body_kept ON messages(updated_ms) WHERE body_purged = 0;"
	"CREATE INDEX inbound_body_kept ON inbound(received_ms) WHERE body_purged = 0;"
	"CREATE INDEX inbound_parts_inbound ON inbound_parts(inbound_id);"
	"CREATE INDEX webhooks_created ON webhooks(created_ms);"
	"CREATE INDEX webhooks_body_kept ON webhooks(created_ms) WHERE body != '';",

	/* 10: empty on purpose: the number was reserved while several changes were built side by side,
	 * and steps keep their numbers once merged. */
	"",

	/* 11: carrier message ids (tracker issue 7): a delivery callback names the carrier's id. The
	 * message_id index serves the cascade when messages are purged. */
	"CREATE TABLE carrier_ids ("
	"  carrier TEXT NOT NULL,"
	"  carrier_id TEXT NOT NULL,"
	"  message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
	"  created_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (carrier, carrier_id)) WITHOUT ROWID;"
	"CREATE INDEX carrier_ids_message ON carrier_ids(message_id);",

	/* 12: the webhook events given up, for the backlog figures (/v1/status, /metrics) without a scan
	 * of the whole outbox: few rows, so a small index. */
	"CREATE INDEX webhooks_given_up ON webhooks(id) WHERE delivered_ms = 0 AND next_ms = 0;",

	/* 13: a store key that masks phone numbers in every answer (tracker issue 13); existing keys keep
	 * seeing them (0). */
	"ALTER TABLE api_keys ADD COLUMN mask_numbers INTEGER NOT NULL DEFAULT 0;",
};
const int store_sq_schema_version = (int)(sizeof(store_sq_migrations) / sizeof(store_sq_migrations[0]));
