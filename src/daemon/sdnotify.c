/* sdnotify: READY/STATUS/WATCHDOG/STOPPING for systemd through libsystemd's sd_notify. */
#include "sdnotify.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>

#include "simroute/log.h"

struct sdnotify {
	struct event_base *base;
	sdnotify_status_fn *status_fn;
	void *arg;
	bool enabled;              /* NOTIFY_SOCKET was set */
	struct event *status_ev;
	struct event *watchdog_ev;
	uint64_t watchdog_usec;
};

static void send_state(const char *state)
{
	int rc = sd_notify(0, state);
	if (rc < 0)
		log_warnx("sd_notify: cannot send \"%.40s\": error %d", state, -rc);
}

static void send_status(struct sdnotify *n)
{
	char status[256], msg[300];
	n->status_fn(n->arg, status, sizeof(status));
	snprintf(msg, sizeof(msg), "STATUS=%s", status);
	send_state(msg);
}

static void status_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	send_status(arg);
}

static void watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	/* Sent from the loop itself: a loop that hangs stops the pings and systemd restarts us. */
	send_state("WATCHDOG=1");
}

struct sdnotify *sdnotify_new(struct event_base *base, sdnotify_status_fn *status, void *arg)
{
	struct sdnotify *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->base = base;
	n->status_fn = status;
	n->arg = arg;
	n->enabled = getenv("NOTIFY_SOCKET") != NULL;
	if (!n->enabled)
		return n;
	/* 0: keep WATCHDOG_USEC/PID in the environment; > 0 when the watchdog is on for this process. */
	if (sd_watchdog_enabled(0, &n->watchdog_usec) > 0 && n->watchdog_usec > 0) {
		uint64_t half = n->watchdog_usec / 2;
		struct timeval tv = { (time_t)(half / 1000000), (suseconds_t)(half % 1000000) };
		n->watchdog_ev = event_new(base, -1, EV_PERSIST, watchdog_cb, n);
		if (!n->watchdog_ev || event_add(n->watchdog_ev, &tv) < 0) {
			sdnotify_free(n);
			return NULL;
		}
		log_info("systemd: watchdog every %llu ms", (unsigned long long)(half / 1000));
	}
	return n;
}

void sdnotify_ready(struct sdnotify *n)
{
	char status[256], msg[320];
	struct timeval tv = { SDNOTIFY_STATUS_S, 0 };
	if (!n || !n->enabled)
		return;
	n->status_fn(n->arg, status, sizeof(status));
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
	send_state(msg);
	if (!n->status_ev)
		n->status_ev = event_new(n->base, -1, EV_PERSIST, status_cb, n);
	if (n->status_ev)
		event_add(n->status_ev, &tv);
	/* A first ping now: the watchdog period starts at READY. */
	if (n->watchdog_ev)
		send_state("WATCHDOG=1");
}

void sdnotify_stopping(struct sdnotify *n, const char *why)
{
	char msg[300];
	if (!n || !n->enabled)
		return;
	if (n->status_ev)
		event_del(n->status_ev);
	snprintf(msg, sizeof(msg), "STOPPING=1\nSTATUS=%s", why);
	send_state(msg);
}

void sdnotify_status(struct sdnotify *n, const char *status)
{
	char msg[300];
	if (!n || !n->enabled)
		return;
	snprintf(msg, sizeof(msg), "STATUS=%s", status);
	send_state(msg);
}

void sdnotify_free(struct sdnotify *n)
{
	if (!n)
		return;
	if (n->status_ev)
		event_free(n->status_ev);
	if (n->watchdog_ev)
		event_free(n->watchdog_ev);
	free(n);
}
