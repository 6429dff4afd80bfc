/* ingest: group commit — messages accepted during one loop turn are written in one fsync'd transaction. */
#ifndef SIMROUTED_INGEST_H
#define SIMROUTED_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "queue/store.h"

struct event_base;
struct scheduler;
struct ingest;

/* rc 0: ids[0..n-1] are committed; rc -1: nothing was stored (store error, e.g. disk full); rc 1 (a
 * shared store only): not stored, another node holds the request's idempotency key live (ids NULL). */
typedef void ingest_done_cb(void *arg, int rc, const int64_t *ids, size_t n);

struct ingest *ingest_new(struct event_base *base, struct store *st, struct scheduler *sched);
void ingest_free(struct ingest *in);    /* commits what is pending first */

/* Queue msgs (copied) for the next commit; done runs after it. Returns 0, or -1 (out of memory). */
int ingest_submit(struct ingest *in, const struct store_new_msg *msgs, size_t n, ingest_done_cb *done, void *arg);

/* The same, with an idempotency record committed in the same transaction as msgs (idem copied;
 * idem->first_id is filled by the store, idem->count must be n). */
int ingest_submit_idem(struct ingest *in, const struct store_new_msg *msgs, size_t n, const struct store_idem *idem,
		       ingest_done_cb *done, void *arg);

/* Commit now (also run by the loop once no more I/O is ready in this turn). */
void ingest_flush(struct ingest *in);

#endif
