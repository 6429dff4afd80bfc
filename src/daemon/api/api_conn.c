/* api_conn: connection accounting per listener — [api] max_connections, prompt refusal beyond it.
 *
 * libevent 2.1.12 (Debian 12) has no evhttp_set_newreqcb and no public way to hand an accepted fd
 * to evhttp, so connections are counted through the hooks it does have:
 *   - evhttp_set_bevcb: evhttp asks us for each new connection's bufferevent before it makes the
 *     evhttp_connection: the count goes up here, and a connection over the limit is marked;
 *   - once evhttp has wired it (one deferred callback later, same loop turn), the bufferevent's
 *     callback argument is the evhttp_connection (bufferevent_getcb): a counted one gets a close
 *     callback (evhttp_connection_set_closecb) that brings the count down; a marked one gets a
 *     503 JSON written straight to its socket (non-blocking) and is freed at once.
 * A reference on the bufferevent is held across that gap, so a connection evhttp dropped meanwhile
 * is seen (its callbacks are cleared) rather than touched after it is gone. */
#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "api/api_private.h"
#include "config.h"
#include "simroute/log.h"

/* At most one "refused" line per listener this often. */
#define REFUSED_LOG_US (10LL * 1000000)

struct api_conn_pending {
	struct api_listener *l;
	struct bufferevent *bev;   /* referenced (bufferevent_incref) until adopted */
	bool refuse;
};

#define REFUSAL_BODY \
	"{\"error\":{\"code\":\"too_many_connections\",\"message\":\"the server has too many open connections; retry later\"}}\n"
/* The whole answer, written in one non-blocking send. */
static const char refusal[] =
	"HTTP/1.1 503 Service Unavailable\r\n"
	"Content-Type: application/json\r\n"
	"Connection: close\r\n"
	"Retry-After: 1\r\n"
	"Content-Length: %zu\r\n"
	"\r\n"
	"%s";

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void api_conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct api_listener *l = arg;
	(void)evcon;
	if (l->nconns > 0)
		l->nconns--;
}

/* Answer 503 and close, without waiting on the client: what it sent so far is read and dropped
 * first, so that closing does not turn into a reset that could swallow the answer. */
static void refuse(struct api_listener *l, struct evhttp_connection *evcon, evutil_socket_t fd)
{
	char drain[4096];
	int64_t now = mono_us();

	if (fd >= 0) {
		for (int i = 0; i < 4 && recv(fd, drain, sizeof(drain), MSG_DONTWAIT) > 0; i++)
			;
		char answer[sizeof(refusal) + sizeof(REFUSAL_BODY) + 16];
		int n = snprintf(answer, sizeof(answer), refusal, sizeof(REFUSAL_BODY) - 1, REFUSAL_BODY);
		if (send(fd, answer, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EAGAIN)
			log_debug("api: %s: refusal not sent: %s", l->name, strerror(errno));
	}
	evhttp_connection_free(evcon);
	l->refused++;
	l->refused_total++;
	if (now - l->last_log_us >= REFUSED_LOG_US) {
		log_warnx("api: %s: %d connections open ([api] max_connections): refused %lld new one(s)", l->name,
			  l->nconns, (long long)l->refused);
		l->refused = 0;
		l->last_log_us = now;
	}
}

static void adopt_cb(evutil_socket_t fd, short what, void *arg)
{
	struct api *api = arg;
	(void)fd;
	(void)what;

	/* refuse() may free connections, whose bevcb is not called again: the list is stable here */
	for (size_t i = 0; i < api->npending; i++) {
		struct api_conn_pending *p = &api->pending[i];
		bufferevent_data_cb rd = NULL;
		void *cbarg = NULL;
		bufferevent_getcb(p->bev, &rd, NULL, NULL, &cbarg);
		if (rd == NULL || cbarg == NULL) {
			/* evhttp dropped it already (bufferevent_free clears the callbacks) */
			if (!p->refuse && p->l->nconns > 0)
				p->l->nconns--;
		} else if (p->refuse) {
			refuse(p->l, cbarg, bufferevent_getfd(p->bev));
		} else {
			evhttp_connection_set_closecb(cbarg, api_conn_closed, p->l);
		}
		bufferevent_decref(p->bev);
	}
	api->npending = 0;
}

static struct bufferevent *bev_cb(struct event_base *base, void *arg)
{
	struct api_listener *l = arg;
	struct api *api = l->api;
	/* no BEV_OPT_CLOSE_ON_FREE: evhttp then closes the socket itself when it frees the connection,
	 * even while our reference keeps the bufferevent */
	struct bufferevent *bev = bufferevent_socket_new(base, -1, 0);

	if (!bev)
		return NULL;   /* evhttp makes its own: this connection goes uncounted */
	if (api->npending == api->pending_cap) {
		size_t cap = api->pending_cap ? api->pending_cap * 2 : 16;
		struct api_conn_pending *p = realloc(api->pending, cap * sizeof(*p));
		if (!p)
			return bev;
		api->pending = p;
		api->pending_cap = cap;
	}
	bool refuse_it = l->nconns >= api->deps.cfg->api_max_connections;
	bufferevent_incref(bev);
	api->pending[api->npending++] = (struct api_conn_pending){ .l = l, .bev = bev, .refuse = refuse_it };
	if (!refuse_it)
		l->nconns++;
	event_active(api->adopt, EV_TIMEOUT, 0);
	return bev;
}

int api_conn_init(struct api *api)
{
	api->adopt = event_new(api->base, -1, 0, adopt_cb, api);
	return api->adopt ? 0 : -1;
}

void api_conn_watch(struct api_listener *l, struct api *api, struct evhttp *http, const char *name)
{
	l->api = api;
	l->name = name;
	evhttp_set_bevcb(http, bev_cb, l);
}

void api_conn_free(struct api *api)
{
	/* after evhttp_free: the connections are gone, only our references remain */
	for (size_t i = 0; i < api->npending; i++)
		bufferevent_decref(api->pending[i].bev);
	free(api->pending);
	api->pending = NULL;
	api->npending = api->pending_cap = 0;
	if (api->adopt)
		event_free(api->adopt);
	api->adopt = NULL;
}
