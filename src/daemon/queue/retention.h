/* retention: the daemon's periodic purge of old texts and rows ([store] body_retention_days,
 * retention_days) and the incremental vacuum after it, in bounded steps so the loop never stalls. */
#ifndef SIMROUTED_RETENTION_H
#define SIMROUTED_RETENTION_H

#include <stdint.h>

struct event_base;
struct store;
struct retention;

/* Rows changed per transaction, and free pages given back per loop turn. */
#define RETENTION_CHUNK 1000
#define RETENTION_VACUUM_PAGES 256

struct retention *retention_new(struct event_base *base, struct store *st);
/* Seconds; 0 = keep forever. Called at start-up and after each reload; the next run uses them. */
void retention_set(struct retention *r, long body_s, long rows_s);
/* The pause between runs: a minute, shorter when a retention is (for tests) only seconds. */
int64_t retention_period_ms(long body_s, long rows_s);
/* The cutoffs of a run at now_ms (0: that purge is off). */
void retention_cutoffs(int64_t now_ms, long body_s, long rows_s, int64_t *body_before_ms, int64_t *rows_before_ms);
void retention_free(struct retention *r);

#endif
