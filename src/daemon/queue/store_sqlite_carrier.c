/* store_sqlite_carrier: the sqlite backend's carrier message ids. Schema: migration 11
 * (store_sqlite_schema.c). One row per message the carrier accepts, one lookup per delivery
 * callback: statements are prepared per call. */
#include "queue/store_sqlite_int.h"

int store_sq_carrier_id_add(void *be, const char *carrier, const char *carrier_id, int64_t id, int64_t now_ms)
{
	struct sq *s = be;
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO carrier_ids (carrier, carrier_id, message_id, created_ms)"
				      " VALUES (?1, ?2, ?3, ?4)", -1, &st, NULL) != SQLITE_OK) {
		store_sq_warn(s, "carrier_id_add");
		return -1;
	}
	sqlite3_bind_text(st, 1, carrier, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, carrier_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, id);
	sqlite3_bind_int64(st, 4, now_ms);
	if (store_sq_begin(s, "carrier_id_add") == -1) {
		sqlite3_finalize(st);
		return -1;
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		store_sq_warn(s, "carrier_id_add");
		sqlite3_finalize(st);
		store_sq_rollback(s);
		return -1;
	}
	sqlite3_finalize(st);
	return store_sq_finish(s, "carrier_id_add") == -1 ? -1 : 0;
}

int store_sq_carrier_id_find(void *be, const char *carrier, const char *carrier_id, int64_t *id)
{
	struct sq *s = be;
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, "SELECT message_id FROM carrier_ids WHERE carrier = ?1 AND carrier_id = ?2", -1,
			       &st, NULL) != SQLITE_OK) {
		store_sq_warn(s, "carrier_id_find");
		return -1;
	}
	sqlite3_bind_text(st, 1, carrier, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, carrier_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		store_sq_warn(s, "carrier_id_find");
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}
