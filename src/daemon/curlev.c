/* curlev: curl's multi socket interface on the libevent loop — one event per socket curl watches,
 * one timer for curl's timeouts, and a done callback per finished transfer. Never blocks. */
#include "curlev.h"

#include <event2/event.h>
#include <stdlib.h>

struct curlev {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	curlev_done_cb *done;
	void *arg;
};

/* One socket curl wants watched. */
struct watch {
	struct curlev *cl;
	curl_socket_t fd;
	struct event *ev;
};

static void check_done(struct curlev *cl)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(cl->multi, &left)) != NULL) {
		if (msg->msg == CURLMSG_DONE)
			cl->done(cl->arg, msg->easy_handle, msg->data.result);
	}
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct watch *w = arg;
	struct curlev *cl = w->cl;
	int running;
	int flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);

	curl_multi_socket_action(cl->multi, fd, flags, &running);
	check_done(cl);   /* w may be gone now */
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct curlev *cl = userp;
	struct watch *w = socketp;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (w) {
			event_free(w->ev);
			free(w);
			curl_multi_assign(cl->multi, fd, NULL);
		}
		return 0;
	}
	short kind = (short)(EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0));
	if (!w) {
		w = calloc(1, sizeof(*w));
		if (!w)
			return -1;
		w->cl = cl;
		w->fd = fd;
		curl_multi_assign(cl->multi, fd, w);
	} else {
		event_free(w->ev);
	}
	w->ev = event_new(cl->base, fd, kind, on_socket_event, w);
	return w->ev && event_add(w->ev, NULL) == 0 ? 0 : -1;
}

static void on_timer_event(evutil_socket_t fd, short what, void *arg)
{
	struct curlev *cl = arg;
	int running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(cl->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(cl);
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct curlev *cl = userp;

	(void)multi;
	if (timeout_ms < 0)
		return evtimer_del(cl->timer);
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	return evtimer_add(cl->timer, &tv);
}

struct curlev *curlev_new(struct event_base *base, curlev_done_cb *done, void *arg)
{
	struct curlev *cl = calloc(1, sizeof(*cl));

	if (!cl)
		return NULL;
	cl->base = base;
	cl->done = done;
	cl->arg = arg;
	cl->multi = curl_multi_init();
	cl->timer = evtimer_new(base, on_timer_event, cl);
	if (!cl->multi || !cl->timer) {
		curlev_free(cl);
		return NULL;
	}
	curl_multi_setopt(cl->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(cl->multi, CURLMOPT_SOCKETDATA, cl);
	curl_multi_setopt(cl->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(cl->multi, CURLMOPT_TIMERDATA, cl);
	return cl;
}

int curlev_add(struct curlev *cl, CURL *easy)
{
	return curl_multi_add_handle(cl->multi, easy) == CURLM_OK ? 0 : -1;
}

void curlev_remove(struct curlev *cl, CURL *easy)
{
	curl_multi_remove_handle(cl->multi, easy);
}

void curlev_free(struct curlev *cl)
{
	if (!cl)
		return;
	if (cl->multi)
		curl_multi_cleanup(cl->multi);
	if (cl->timer)
		event_free(cl->timer);
	free(cl);
}
