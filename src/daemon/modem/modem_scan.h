/* modem_scan: finds modems configured by IMEI that hold no port (never given one, or theirs vanished:
 * USB re-enumeration renames /dev/ttyUSB3 to /dev/ttyUSB5) by probing candidate ports with AT+CGSN. */
#ifndef SIMROUTED_MODEM_SCAN_H
#define SIMROUTED_MODEM_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#define MODEM_SCAN_GLOBS_MAX 1024

struct event_base;
struct modem;
struct modem_scan;

/* The modems to find ports for: modem_at(arg, i) for i = 0.. until NULL. */
typedef struct modem *modem_scan_at_cb(void *arg, size_t i);

struct modem_scan_config {
	const char *globs;        /* space-separated; candidate ports, in order of preference */
	int interval_ms;          /* a look every interval while a modem wants a port */
	int probe_timeout_ms;     /* ESC+AT, then AT+CGSN, each this long */
};

/* NULL on a bad config or out of memory. Looks only while some modem wants a port (modem_wants_port):
 * each look lists the candidates, skips ports our modems hold, ports locked by other programs and
 * ports backed off after a failed probe, and probes the rest on the event loop. */
struct modem_scan *modem_scan_new(struct event_base *base, const struct modem_scan_config *cfg,
				  modem_scan_at_cb *modem_at, void *arg);
void modem_scan_free(struct modem_scan *sc);

/* Pure parts, for tests. The wait before probing a port again after `failures` failed probes:
 * interval doubled per failure, capped at 5 minutes. */
long modem_scan_backoff_ms(int interval_ms, int failures);
/* Which of n modems a probed port belongs to: the one that wants a port (wants[i]) and expects this
 * IMEI (expected[i], NULL: none configured). -1 if none; an empty or unreadable IMEI matches nothing. */
int modem_scan_pick(const char *imei, const char *const *expected, const bool *wants, size_t n);

#endif
