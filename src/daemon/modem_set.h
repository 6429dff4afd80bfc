/* modem_set: the configured modems as running ones — created from [modem:*], found again by IMEI
 * ([modems] scan_glob), and brought in line with a new config on SIGHUP (added, drained and removed,
 * drained and restarted). */
#ifndef SIMROUTED_MODEM_SET_H
#define SIMROUTED_MODEM_SET_H

#include <stddef.h>

#include "config.h"

struct event_base;
struct scheduler;
struct modem_set;

/* What a reload does to one modem name. */
enum modem_set_action {
	MODEM_SET_KEEP = 0,      /* unchanged (or only its quota: not a restart) */
	MODEM_SET_ADD,           /* a new section: start it */
	MODEM_SET_REMOVE,        /* gone: finish the message in flight, then close and forget it */
	MODEM_SET_RESTART,       /* port, pin, dialect, baud, imei or iccid changed: drain, then reopen */
};
const char *modem_set_action_name(enum modem_set_action a);
/* Pure: what happens to `name` going from cur to next. */
enum modem_set_action modem_set_plan(const struct config *cur, const struct config *next, const char *name);

/* Creates every modem of cfg and hands it to the scheduler (which starts them in scheduler_start),
 * and the IMEI scan if any modem has an imei and [modems] rescan_interval > 0. NULL (logged) on
 * failure. cfg must outlive the set (it is the daemon's running config). */
struct modem_set *modem_set_new(struct event_base *base, struct scheduler *sched, const struct config *cfg);
/* SIGHUP, before config_apply_reload(cur, next): acts on the difference. Returns the number of modems
 * added, removed or restarted (those that drain finish on a timer). */
int modem_set_reload(struct modem_set *set, const struct config *cur, const struct config *next);
void modem_set_free(struct modem_set *set);

#endif
