/* api_stats: GET /v1/stats — sends and failures per minute over the last hour (overall and per route),
 * the OTP accept -> sent latency percentiles and the queue's age, for the dashboard. */
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "api/api_private.h"
#include "queue/store.h"
#include "simroute/minstats.h"

/* A dashboard polls every 2 s, and several may be open: the store is read at most this often. */
#define STATS_REFRESH_MS 2000
#define HOUR_MS (60LL * 60 * 1000)

/* store_counts() is a scan of the (state, lane, id) index: about 100 ms at a million rows, on the loop.
 * /v1/status and /metrics, polled by dashboards, `simroute watch` and Prometheus, share one answer while
 * it is fresh: for at most COUNTS_REUSE times what it cost (so counting takes at most ~2 % of the
 * loop), never longer than COUNTS_MAX_AGE_MS; a count cheaper than COUNTS_CHEAP_MS is always live. */
#define COUNTS_CHEAP_MS 10
#define COUNTS_REUSE 50
#define COUNTS_MAX_AGE_MS 10000

struct api_stats {
	struct store_counts counts;
	int64_t counts_at, counts_ttl;   /* CLOCK_MONOTONIC ms of the last count, and how long it holds */
	struct minstats ring;
	struct minstats scratch;  /* a read is folded here first: a store error half-way counts nothing twice */
	int64_t last_event;       /* newest event folded into the ring */
	int64_t refreshed_ms;     /* CLOCK_MONOTONIC of the last store read, 0 never */
	int64_t oldest[LANE_COUNT];
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct api_stats *api_stats_new(void)
{
	struct api_stats *s = calloc(1, sizeof(*s));
	if (s)
		minstats_init(&s->ring, api_now_ms());
	return s;
}

void api_stats_free(struct api_stats *s)
{
	free(s);
}

int64_t api_counts_ttl_ms(int64_t cost_ms)
{
	if (cost_ms < COUNTS_CHEAP_MS)
		return 0;
	return cost_ms * COUNTS_REUSE < COUNTS_MAX_AGE_MS ? cost_ms * COUNTS_REUSE : COUNTS_MAX_AGE_MS;
}

int api_store_counts(struct api *api, struct store_counts *out)
{
	struct api_stats *s = api->stats;
	int64_t t0 = mono_ms();
	if (s && s->counts_at && t0 - s->counts_at < s->counts_ttl) {
		*out = s->counts;
		return 0;
	}
	if (store_counts(api->deps.st, out) < 0)
		return -1;
	if (s) {
		s->counts = *out;
		s->counts_at = mono_ms();
		s->counts_ttl = api_counts_ttl_ms(s->counts_at - t0);
	}
	return 0;
}

static void fold(void *arg, const struct store_outcome *o)
{
	/* accept -> sent of an OTP: what a user waiting for a code feels */
	int64_t latency = o->sent && o->lane == LANE_OTP && o->at_ms >= o->created_ms ? o->at_ms - o->created_ms : -1;
	minstats_add(arg, o->at_ms, o->route, o->sent, latency);
}

/* Brings the ring up to date: only the events written since the last read are read (the first read
 * walks back an hour). 0, or -1 when the store failed (the ring keeps what it had). */
static int refresh(struct api_stats *s, struct store *st)
{
	int64_t now = api_now_ms(), mono = mono_ms(), last;
	if (s->refreshed_ms && mono - s->refreshed_ms < STATS_REFRESH_MS)
		return 0;
	s->scratch = s->ring;
	if (store_outcomes(st, s->last_event, now - HOUR_MS, fold, &s->scratch, &last) < 0 ||
	    store_oldest_queued(st, s->oldest) < 0)
		return -1;
	s->ring = s->scratch;
	s->last_event = last;
	s->refreshed_ms = mono;
	minstats_advance(&s->ring, now);
	return 0;
}

static json_t *series(const uint32_t *v, int n, json_int_t *total)
{
	json_t *a = json_array();
	*total = 0;
	for (int i = 0; i < n; i++) {
		json_array_append_new(a, json_integer(v[i]));
		*total += v[i];
	}
	return a;
}

/* {"sent": [...], "failed": [...], "sent_total", "failed_total"} of a route (-1: overall) into o. */
static void add_series(json_t *o, const struct minstats *ring, int route, int minutes)
{
	uint32_t sent[MINSTATS_MINUTES], failed[MINSTATS_MINUTES];
	json_int_t st, ft;
	minstats_series(ring, route, minutes, sent, failed);
	json_object_set_new(o, "sent", series(sent, minutes, &st));
	json_object_set_new(o, "failed", series(failed, minutes, &ft));
	json_object_set_new(o, "sent_total", json_integer(st));
	json_object_set_new(o, "failed_total", json_integer(ft));
}

static json_t *percentile(const struct minstats *ring, int minutes, double pct)
{
	int64_t v = minstats_latency(ring, minutes, pct, NULL);
	return v < 0 ? json_null() : json_integer(v);
}

void api_stats_get(struct api_req *r)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	struct api_stats *s = r->api->stats;
	struct evkeyvalq q;
	struct evkeyval *kv;
	int minutes = MINSTATS_MINUTES;

	TAILQ_INIT(&q);
	if (query && evhttp_parse_query_str(query, &q) < 0) {
		api_error(r->req, 400, "invalid_query", NULL, "malformed query string");
		return;
	}
	TAILQ_FOREACH(kv, &q, next) {
		char *end;
		long v;
		if (strcmp(kv->key, "view") == 0)   /* checked by http.c */
			continue;
		if (strcmp(kv->key, "minutes") != 0) {
			api_error(r->req, 400, "unknown_field", kv->key, "unknown query parameter \"%.64s\"", kv->key);
			goto out;
		}
		v = strtol(kv->value, &end, 10);
		if (!*kv->value || *end || v < 1 || v > MINSTATS_MINUTES) {
			api_error(r->req, 400, "invalid_field", "minutes", "minutes: expected 1 to %d", MINSTATS_MINUTES);
			goto out;
		}
		minutes = (int)v;
	}
	if (!s) {
		api_error(r->req, 503, "overloaded", NULL, "out of memory");
		goto out;
	}
	if (refresh(s, r->api->deps.st) < 0) {
		api_error(r->req, 503, "store_unavailable", NULL, "the store could not be read");
		goto out;
	}
	int64_t now = api_now_ms();
	minstats_advance(&s->ring, now);
	json_t *o = json_pack("{s:i, s:i, s:o, s:o}", "minutes", minutes, "bucket_seconds", 60, "from",
			      api_time((s->ring.head - minutes + 1) * 60000), "generated_at", api_time(now));
	add_series(o, &s->ring, -1, minutes);
	json_t *routes = json_array();
	for (size_t i = 0; i < s->ring.nroutes; i++) {
		json_t *ro = json_pack("{s:s}", "route", s->ring.routes[i].name);
		add_series(ro, &s->ring, (int)i, minutes);
		/* a route with nothing in the window is left out */
		if (json_integer_value(json_object_get(ro, "sent_total")) + json_integer_value(json_object_get(ro, "failed_total")))
			json_array_append_new(routes, ro);
		else
			json_decref(ro);
	}
	json_object_set_new(o, "routes", routes);
	uint64_t n;
	minstats_latency(&s->ring, minutes, 50, &n);
	json_object_set_new(o, "otp_latency_ms",
			    json_pack("{s:I, s:o, s:o}", "count", (json_int_t)n, "p50", percentile(&s->ring, minutes, 50),
				      "p99", percentile(&s->ring, minutes, 99)));
	json_t *oldest = json_object();
	for (int l = 0; l < LANE_COUNT; l++)
		json_object_set_new(oldest, message_lane_name((enum msg_lane)l),
				    s->oldest[l] ? json_integer((now - s->oldest[l]) / 1000 > 0 ? (now - s->oldest[l]) / 1000 : 0)
						 : json_null());
	json_object_set_new(o, "oldest_queued_seconds", oldest);
	api_reply(r->req, 200, o);
out:
	evhttp_clear_headers(&q);
}
