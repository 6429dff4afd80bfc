/* retention: a timer that purges in chunks of RETENTION_CHUNK rows, one transaction per loop turn,
 * until a chunk comes back short; then gives free pages back RETENTION_VACUUM_PAGES per turn. */
#include "queue/retention.h"

#include <event2/event.h>
#include <stdlib.h>
#include <time.h>

#include "queue/store.h"
#include "simroute/log.h"

#define PERIOD_MAX_MS 60000
#define PERIOD_MIN_MS 1000
/* A busy gateway purges every minute: one info line an hour says so (each run at debug). */
#define SUMMARY_MS 3600000

struct retention {
	struct store *st;
	struct event *ev;
	long body_s, rows_s;
	int64_t run_changed;   /* rows changed by the current run, for its log line */
	int64_t unreported;    /* rows changed since the last info line */
	int64_t reported_ms;   /* when that was (0: never) */
	int vacuuming;         /* a purge changed rows: give the space back before sleeping */
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t retention_period_ms(long body_s, long rows_s)
{
	long shortest = body_s && (!rows_s || body_s < rows_s) ? body_s : rows_s;
	int64_t p = shortest ? (int64_t)shortest * 1000 / 4 : PERIOD_MAX_MS;

	return p < PERIOD_MIN_MS ? PERIOD_MIN_MS : p > PERIOD_MAX_MS ? PERIOD_MAX_MS : p;
}

void retention_cutoffs(int64_t now, long body_s, long rows_s, int64_t *body_before_ms, int64_t *rows_before_ms)
{
	*body_before_ms = body_s ? now - (int64_t)body_s * 1000 : 0;
	*rows_before_ms = rows_s ? now - (int64_t)rows_s * 1000 : 0;
}

static void schedule(struct retention *r, int64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
	evtimer_add(r->ev, &tv);
}

static void run_cb(evutil_socket_t fd, short what, void *arg)
{
	struct retention *r = arg;
	int64_t body_before, rows_before;
	int n;
	(void)fd;
	(void)what;

	if (r->vacuuming) {
		n = store_vacuum_step(r->st, RETENTION_VACUUM_PAGES);
		if (n > 0) {
			schedule(r, 0);
			return;
		}
		r->vacuuming = 0;
		if (n < 0)
			log_warnx("retention: incremental vacuum failed; the space is reused, the file does not shrink");
		schedule(r, retention_period_ms(r->body_s, r->rows_s));
		return;
	}
	retention_cutoffs(now_ms(), r->body_s, r->rows_s, &body_before, &rows_before);
	n = store_purge(r->st, body_before, rows_before, RETENTION_CHUNK);
	if (n < 0) {
		log_warnx("retention: purge failed; retrying in %lld s",
			  (long long)retention_period_ms(r->body_s, r->rows_s) / 1000);
		r->run_changed = 0;
		schedule(r, retention_period_ms(r->body_s, r->rows_s));
		return;
	}
	r->run_changed += n;
	if (n == RETENTION_CHUNK) {
		schedule(r, 0);   /* more to do: the next loop turn, after what is waiting */
		return;
	}
	if (r->run_changed) {
		int64_t now = now_ms();
		log_debug("retention: run: %lld row(s) purged", (long long)r->run_changed);
		r->unreported += r->run_changed;
		if (!r->reported_ms || now - r->reported_ms >= SUMMARY_MS) {
			log_info("retention: %lld row(s) purged (texts erased or rows deleted)%s",
				 (long long)r->unreported, r->reported_ms ? " in the last hour" : "");
			r->unreported = 0;
			r->reported_ms = now;
		}
		r->run_changed = 0;
		r->vacuuming = 1;
		schedule(r, 0);
		return;
	}
	schedule(r, retention_period_ms(r->body_s, r->rows_s));
}

struct retention *retention_new(struct event_base *base, struct store *st)
{
	struct retention *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->st = st;
	if (!(r->ev = evtimer_new(base, run_cb, r))) {
		free(r);
		return NULL;
	}
	return r;
}

void retention_set(struct retention *r, long body_s, long rows_s)
{
	bool armed = evtimer_pending(r->ev, NULL);

	r->body_s = body_s;
	r->rows_s = rows_s;
	/* start: the first run a second from now; later: the wait restarts with the new period, unless a
	 * run is under way (it reschedules itself) */
	if (!armed || (!r->vacuuming && !r->run_changed))
		schedule(r, armed ? retention_period_ms(body_s, rows_s) : PERIOD_MIN_MS);
}

void retention_free(struct retention *r)
{
	if (!r)
		return;
	event_free(r->ev);
	free(r);
}
