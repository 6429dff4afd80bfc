/* webhook: delivers the store's webhook outbox (queue/outbox.c writes it).
 *
 * A round pulls due rows (at most max_inflight in flight), on a timer and on a kick; each POST goes
 * through curl multi on the loop, never blocking it. 2xx marks the row delivered; anything else
 * schedules the next attempt with back-off until max_age, then the row is given up (kept, with its
 * last error). The store hands out only the oldest pending row of each message, so a message's
 * events reach the receiver in order. */
#include "api/webhook.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "curlev.h"
#include "queue/store.h"
#include "simroute/log.h"

#define WEBHOOK_BATCH 32
#define WEBHOOK_POLL_S 1              /* due rows are looked for at least this often */
#define WEBHOOK_BACKOFF_FIRST_MS 5000
#define WEBHOOK_BACKOFF_MAX_MS (3600 * 1000)

struct post {
	struct webhook *w;
	CURL *easy;
	struct curl_slist *headers;
	struct store_webhook row;     /* body owned */
	char errbuf[CURL_ERROR_SIZE];
	struct post *next, *prev;
};

struct webhook {
	struct event_base *base;
	struct store *st;
	struct curlev *cl;
	struct event *timer, *kick_ev;
	char *secret;                 /* "" unsigned */
	int timeout_ms, max_inflight;
	int64_t max_age_ms;
	struct post *posts;
	int inflight;
};

int webhook_sign(const char *secret, long long timestamp, const char *body, size_t body_len,
		 char out[WEBHOOK_SIG_MAX])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char prefix[32];
	int n = snprintf(prefix, sizeof(prefix), "%lld.", timestamp);
	size_t len = (size_t)n + body_len;
	unsigned char *msg = malloc(len ? len : 1);

	if (msg == NULL)
		return -1;
	memcpy(msg, prefix, (size_t)n);
	memcpy(msg + n, body, body_len);
	unsigned char *r = HMAC(EVP_sha256(), secret, (int)strlen(secret), msg, len, mac, &maclen);
	free(msg);
	if (r == NULL || maclen != 32)
		return -1;
	memcpy(out, "sha256=", 7);
	for (unsigned i = 0; i < maclen; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", mac[i]);
	return 0;
}

int64_t webhook_backoff_ms(int attempts)
{
	int64_t d = WEBHOOK_BACKOFF_FIRST_MS;

	for (int i = 1; i < attempts && d < WEBHOOK_BACKOFF_MAX_MS; i++)
		d *= 2;
	return d < WEBHOOK_BACKOFF_MAX_MS ? d : WEBHOOK_BACKOFF_MAX_MS;
}

static int64_t now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void post_free(struct post *p)
{
	struct webhook *w = p->w;

	if (p->prev)
		p->prev->next = p->next;
	else
		w->posts = p->next;
	if (p->next)
		p->next->prev = p->prev;
	if (p->easy) {
		curlev_remove(w->cl, p->easy);
		curl_easy_cleanup(p->easy);
	}
	curl_slist_free_all(p->headers);
	store_webhook_clear(&p->row);
	free(p);
	w->inflight--;
}

static void finish(struct webhook *w, struct post *p, long status, const char *error)
{
	int64_t now = now_ms();
	struct store_webhook *r = &p->row;

	if (status >= 200 && status < 300) {
		if (store_webhook_result(w->st, r->id, now, 0, "") < 0)
			log_warnx("webhook %lld: delivered, but the store did not record it: it will be sent again",
				  (long long)r->id);
		else
			log_debug("webhook %lld: %s delivered (HTTP %ld)", (long long)r->id, r->event, status);
	} else {
		int64_t next = now + webhook_backoff_ms(r->attempts + 1);
		/* a replayed row older than max_age gets this one attempt */
		if (now - r->created_ms >= w->max_age_ms) {
			next = 0;
			log_warnx("webhook %lld: %s: %s; given up after %d attempt(s)", (long long)r->id, r->event, error,
				  r->attempts + 1);
		} else {
			log_info("webhook %lld: %s: %s; retry in %lld s", (long long)r->id, r->event, error,
				 (long long)((next - now) / 1000));
		}
		store_webhook_result(w->st, r->id, 0, next, error);
	}
	post_free(p);
	webhook_kick(w);   /* this message's next event may be due now */
}

static void on_done(void *arg, CURL *easy, CURLcode code)
{
	struct webhook *w = arg;
	struct post *p = NULL;
	long status = 0;
	char error[STORE_ERROR_MAX];

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&p);
	if (p == NULL)
		return;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	if (code != CURLE_OK)
		snprintf(error, sizeof(error), "%.150s", p->errbuf[0] ? p->errbuf : curl_easy_strerror(code));
	else
		snprintf(error, sizeof(error), "HTTP %ld", status);
	finish(w, p, code == CURLE_OK ? status : 0, error);
}

/* The receiver's answer is not kept: only its status counts. */
static size_t discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
	(void)ptr;
	(void)arg;
	return size * nmemb;
}

/* curl_slist_append returns NULL and keeps the list when out of memory: never lose the list. */
static bool add_header(struct curl_slist **list, const char *h)
{
	struct curl_slist *n = curl_slist_append(*list, h);

	if (n == NULL)
		return false;
	*list = n;
	return true;
}

static void start(struct webhook *w, struct store_webhook *row)
{
	struct post *p = calloc(1, sizeof(*p));
	char hdr[128], sig[WEBHOOK_SIG_MAX];
	long long ts = (long long)(now_ms() / 1000);
	size_t len = strlen(row->body);

	if (p == NULL) {
		store_webhook_clear(row);
		return;
	}
	p->w = w;
	p->row = *row;                /* takes the body */
	memset(row, 0, sizeof(*row));
	p->next = w->posts;
	if (w->posts)
		w->posts->prev = p;
	w->posts = p;
	w->inflight++;
	bool ok = add_header(&p->headers, "Content-Type: application/json");
	snprintf(hdr, sizeof(hdr), "X-Simroute-Event: %s", p->row.event);
	ok = ok && add_header(&p->headers, hdr);
	snprintf(hdr, sizeof(hdr), "X-Simroute-Timestamp: %lld", ts);
	ok = ok && add_header(&p->headers, hdr);
	if (ok && w->secret[0]) {
		ok = webhook_sign(w->secret, ts, p->row.body, len, sig) == 0;
		snprintf(hdr, sizeof(hdr), "X-Simroute-Signature: %s", sig);
		ok = ok && add_header(&p->headers, hdr);
	}
	/* no "Expect: 100-continue" round trip before the body */
	ok = ok && add_header(&p->headers, "Expect:");
	if (!ok || (p->easy = curl_easy_init()) == NULL) {
		finish(w, p, 0, "out of memory");   /* never sent unsigned when a secret is set */
		return;
	}
	curl_easy_setopt(p->easy, CURLOPT_URL, p->row.url);
	curl_easy_setopt(p->easy, CURLOPT_POSTFIELDS, p->row.body);
	curl_easy_setopt(p->easy, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(p->easy, CURLOPT_HTTPHEADER, p->headers);
	curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(p->easy, CURLOPT_PRIVATE, p);
	curl_easy_setopt(p->easy, CURLOPT_ERRORBUFFER, p->errbuf);
	curl_easy_setopt(p->easy, CURLOPT_TIMEOUT_MS, (long)w->timeout_ms);
	curl_easy_setopt(p->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)(w->timeout_ms < 5000 ? w->timeout_ms : 5000));
	curl_easy_setopt(p->easy, CURLOPT_NOSIGNAL, 1L);
	/* an event must never be re-posted to wherever a redirect points */
	curl_easy_setopt(p->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(p->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(p->easy, CURLOPT_USERAGENT, "simroute/0.1");
	if (curlev_add(w->cl, p->easy) != 0)
		finish(w, p, 0, "cannot start a request");
}

static bool in_flight(const struct webhook *w, int64_t id)
{
	for (const struct post *p = w->posts; p; p = p->next)
		if (p->row.id == id)
			return true;
	return false;
}

static void round_cb(evutil_socket_t fd, short what, void *arg)
{
	struct webhook *w = arg;
	struct store_webhook rows[WEBHOOK_BATCH];
	int n;

	(void)fd;
	(void)what;
	if (w->inflight >= w->max_inflight)
		return;
	if ((n = store_webhook_due(w->st, now_ms(), rows, WEBHOOK_BATCH)) < 0)
		return;
	for (int i = 0; i < n; i++) {
		if (w->inflight < w->max_inflight && !in_flight(w, rows[i].id))
			start(w, &rows[i]);
		else
			store_webhook_clear(&rows[i]);
	}
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct webhook *w = arg;
	struct timeval tv = { WEBHOOK_POLL_S, 0 };

	round_cb(fd, what, arg);
	evtimer_add(w->timer, &tv);
}

void webhook_kick(void *arg)
{
	struct webhook *w = arg;

	/* one round per loop turn however many rows were written in it */
	if (w && !event_pending(w->kick_ev, EV_TIMEOUT, NULL))
		event_active(w->kick_ev, EV_TIMEOUT, 0);
}

int webhook_inflight(const struct webhook *w) { return w ? w->inflight : 0; }

struct webhook *webhook_new(struct event_base *base, struct store *st, const struct webhook_config *cfg)
{
	struct webhook *w = calloc(1, sizeof(*w));
	struct timeval tv = { WEBHOOK_POLL_S, 0 };

	if (w == NULL)
		return NULL;
	w->base = base;
	w->st = st;
	w->secret = strdup(cfg->secret ? cfg->secret : "");
	w->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 5000;
	w->max_age_ms = (int64_t)(cfg->max_age_s > 0 ? cfg->max_age_s : 86400) * 1000;
	w->max_inflight = cfg->max_inflight > 0 ? cfg->max_inflight : 4;
	w->cl = curlev_new(base, on_done, w);
	w->timer = evtimer_new(base, timer_cb, w);
	w->kick_ev = event_new(base, -1, 0, round_cb, w);
	if (!w->secret || !w->cl || !w->timer || !w->kick_ev || evtimer_add(w->timer, &tv) != 0) {
		webhook_free(w);
		return NULL;
	}
	return w;
}

void webhook_free(struct webhook *w)
{
	if (w == NULL)
		return;
	while (w->posts)
		post_free(w->posts);
	curlev_free(w->cl);
	if (w->timer)
		event_free(w->timer);
	if (w->kick_ev)
		event_free(w->kick_ev);
	free(w->secret);
	free(w);
}
