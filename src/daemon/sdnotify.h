/* sdnotify: tells systemd (Type=notify) when simrouted is ready, how it is doing, that it is alive
 * (watchdog) and that it is stopping. Without NOTIFY_SOCKET every call is a no-op. */
#ifndef SIMROUTED_SDNOTIFY_H
#define SIMROUTED_SDNOTIFY_H

#include <stddef.h>

struct event_base;
struct sdnotify;

/* Fills buf with a one-line status ("queue 3, modems 2/4 ready"); called every few seconds. */
typedef void sdnotify_status_fn(void *arg, char *buf, size_t len);

/* Starts the watchdog timer (WATCHDOG=1 at half of WATCHDOG_USEC, when sd_watchdog_enabled says so).
 * NULL only when out of memory. */
struct sdnotify *sdnotify_new(struct event_base *base, sdnotify_status_fn *status, void *arg);
/* READY=1 with the first STATUS=, then STATUS= refreshed every SDNOTIFY_STATUS_S seconds. */
void sdnotify_ready(struct sdnotify *n);
/* STOPPING=1 and a last STATUS= (why); status updates stop, the watchdog goes on while the loop runs. */
void sdnotify_stopping(struct sdnotify *n, const char *why);
/* A one-off STATUS= (e.g. "reloading"). */
void sdnotify_status(struct sdnotify *n, const char *status);
void sdnotify_free(struct sdnotify *n);

#define SDNOTIFY_STATUS_S 5

#endif
