/* modem_set: the configured modems as running ones — created from [modem:*], found again by IMEI, and
 * brought in line with a new config on SIGHUP.
 *
 * The scheduler owns the modems (a route is a slot holding one); this file decides which exist. A
 * modem leaves only between messages: one that is removed or restarted is first drained (nothing new
 * is routed to it; the message in flight, all its parts, finishes), then a timer takes it out. */
#include "modem_set.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "modem/modem.h"
#include "modem/modem_scan.h"
#include "queue/scheduler.h"
#include "simroute/log.h"
#include "simroute/quota.h"

#define MODEM_SET_DRAIN_POLL_MS 200

/* A modem draining before it goes (replace = false) or comes back with another config. */
struct pending {
	struct modem *m;
	bool replace;
	bool admin_drained;            /* drained by an admin before: the restarted modem stays drained */
	struct config_modem cm;
};

struct modem_set {
	struct event_base *base;
	struct scheduler *sched;
	const struct config *cfg;      /* the daemon's running config: timeouts, scan settings */
	struct modem_scan *scan;
	struct pending *pending;
	size_t npending;
	struct event *drain_timer;
};

static const char *const action_names[] = { "keep", "add", "remove", "restart" };

const char *modem_set_action_name(enum modem_set_action a)
{
	return (unsigned)a < sizeof(action_names) / sizeof(action_names[0]) ? action_names[a] : "?";
}

static const struct config_modem *find_cm(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nmodems; i++)
		if (strcmp(cfg->modems[i].name, name) == 0)
			return &cfg->modems[i];
	return NULL;
}

enum modem_set_action modem_set_plan(const struct config *cur, const struct config *next, const char *name)
{
	const struct config_modem *a = find_cm(cur, name), *b = find_cm(next, name);

	if (!a && b)
		return MODEM_SET_ADD;
	if (a && !b)
		return MODEM_SET_REMOVE;
	if (a && b && !config_modem_same_hardware(a, b))
		return MODEM_SET_RESTART;
	return MODEM_SET_KEEP;   /* quota keys are the quota reload's business */
}

static struct modem *modem_from_config(struct modem_set *set, const struct config_modem *cm)
{
	const struct config *cfg = set->cfg;
	struct modem_config mc = { .name = cm->name, .port = cm->port[0] ? cm->port : NULL, .baud = cm->baud,
				   .imei = cm->imei[0] ? cm->imei : NULL, .iccid = cm->iccid[0] ? cm->iccid : NULL,
				   .command_timeout_ms = cfg->command_timeout_ms,
				   .send_timeout_ms = cfg->send_timeout_ms,
				   .poll_interval_ms = cfg->poll_interval_ms,
				   .dialect = cm->dialect[0] ? cm->dialect : NULL,
				   .pin = cm->pin[0] ? cm->pin : NULL };

	return modem_new(set->base, &mc, scheduler_modem_events(), set->sched);
}

static int add_modem(struct modem_set *set, const struct config *cfg, const struct config_modem *cm)
{
	struct modem *m = modem_from_config(set, cm);
	struct quota_limits ql;

	for (int w = 0; w < QUOTA_WINDOWS; w++)
		ql.segments[w] = cm->quota[w] >= 0 ? cm->quota[w] : cfg->quota[w];
	if (!m || scheduler_add_modem(set->sched, m, &ql) < 0) {
		modem_free(m);
		log_errorx("modem %s: cannot create", cm->name);
		return -1;
	}
	return 0;
}

static struct modem *running(const struct modem_set *set, const char *name)
{
	for (size_t i = 0; i < scheduler_nmodems(set->sched); i++) {
		struct modem *m = scheduler_modem(set->sched, i);
		if (strcmp(modem_name(m), name) == 0)
			return m;
	}
	return NULL;
}

static struct pending *pending_of(struct modem_set *set, const char *name)
{
	for (size_t i = 0; i < set->npending; i++)
		if (strcmp(modem_name(set->pending[i].m), name) == 0)
			return &set->pending[i];
	return NULL;
}

static struct modem *scan_modem_at(void *arg, size_t i)
{
	struct modem_set *set = arg;
	return scheduler_modem(set->sched, i);
}

/* The scan runs when some modem is configured by IMEI (created once, when the first one appears). */
static void scan_ensure(struct modem_set *set, const struct config *cfg)
{
	bool any = false;

	if (set->scan || cfg->rescan_interval <= 0)
		return;
	for (size_t i = 0; i < cfg->nmodems; i++)
		any |= cfg->modems[i].imei[0] != '\0';
	if (!any)
		return;
	struct modem_scan_config sc = { .globs = cfg->modems_scan_glob, .interval_ms = cfg->rescan_interval * 1000,
					.probe_timeout_ms = cfg->probe_timeout_ms };
	set->scan = modem_scan_new(set->base, &sc, scan_modem_at, set);
	if (!set->scan)
		log_warnx("modems: cannot set up the scan of %s", cfg->modems_scan_glob);
	else
		log_info("modems: absent modems configured by imei are looked for in %s every %d s",
			 cfg->modems_scan_glob, cfg->rescan_interval);
}

/* ---- draining ---- */

/* Take out (or restart) every pending modem whose message in flight is done. */
static void drain_step(struct modem_set *set)
{
	size_t i = 0;

	while (i < set->npending) {
		struct pending *p = &set->pending[i];
		const char *name = modem_name(p->m);
		if (scheduler_modem_busy(set->sched, p->m)) {
			i++;
			continue;
		}
		if (p->replace) {
			struct modem *with = modem_from_config(set, &p->cm);
			log_info("modem %s: drained; restarting with the new configuration", name);
			if (!with || scheduler_replace_modem(set->sched, p->m, with) < 0) {
				log_errorx("modem %s: cannot restart with the new configuration; removed", p->cm.name);
				modem_free(with);
				scheduler_remove_modem(set->sched, p->m);
			} else if (p->admin_drained) {
				scheduler_modem_set_drained(set->sched, with, true);
			}
		} else {
			log_info("modem %s: drained; removed", name);
			scheduler_remove_modem(set->sched, p->m);
		}
		set->pending[i] = set->pending[--set->npending];
	}
	if (set->npending) {
		struct timeval tv = { 0, MODEM_SET_DRAIN_POLL_MS * 1000 };
		evtimer_add(set->drain_timer, &tv);
	}
}

static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	drain_step(arg);
}

static int drain(struct modem_set *set, struct modem *m, const struct config_modem *with)
{
	struct pending *p = pending_of(set, modem_name(m));

	if (!p) {
		struct pending *n = realloc(set->pending, (set->npending + 1) * sizeof(*n));
		if (!n)
			return -1;
		set->pending = n;
		p = &set->pending[set->npending++];
		memset(p, 0, sizeof(*p));
		p->m = m;
		for (size_t i = 0; i < scheduler_nmodems(set->sched); i++)
			if (scheduler_modem(set->sched, i) == m)
				p->admin_drained = scheduler_modem_drained(set->sched, i);
	}
	p->replace = with != NULL;
	if (with)
		p->cm = *with;
	scheduler_modem_set_drained(set->sched, m, true);
	if (scheduler_modem_busy(set->sched, m))
		log_info("modem %s: draining: its message in flight finishes first", modem_name(m));
	return 0;
}

/* ---- public ---- */

struct modem_set *modem_set_new(struct event_base *base, struct scheduler *sched, const struct config *cfg)
{
	struct modem_set *set = calloc(1, sizeof(*set));

	if (!set)
		return NULL;
	set->base = base;
	set->sched = sched;
	set->cfg = cfg;
	set->drain_timer = evtimer_new(base, drain_cb, set);
	if (!set->drain_timer) {
		modem_set_free(set);
		return NULL;
	}
	for (size_t i = 0; i < cfg->nmodems; i++) {
		if (add_modem(set, cfg, &cfg->modems[i]) < 0) {
			modem_set_free(set);
			return NULL;
		}
	}
	scan_ensure(set, cfg);
	return set;
}

int modem_set_reload(struct modem_set *set, const struct config *cur, const struct config *next)
{
	int n = 0;

	for (size_t i = 0; i < next->nmodems; i++) {
		const struct config_modem *cm = &next->modems[i];
		enum modem_set_action a = modem_set_plan(cur, next, cm->name);
		struct modem *m = running(set, cm->name);
		struct pending *p = pending_of(set, cm->name);
		if (a == MODEM_SET_KEEP && !(p && !p->replace))
			continue;
		n++;
		if (m && (a == MODEM_SET_RESTART || p)) {
			/* changed, or back while it drains for removal: it comes back with this config */
			log_info("reload: [modem:%s] %s: draining, then restarting", cm->name,
				 a == MODEM_SET_RESTART ? "changed" : "added again");
			drain(set, m, cm);
		} else if (!m) {
			log_info("reload: [modem:%s] added: starting", cm->name);
			add_modem(set, next, cm);
		}
	}
	for (size_t i = 0; i < cur->nmodems; i++) {
		const char *name = cur->modems[i].name;
		struct modem *m;
		if (find_cm(next, name) || !(m = running(set, name)))
			continue;
		n++;
		log_info("reload: [modem:%s] removed: draining, then closing", name);
		drain(set, m, NULL);
	}
	drain_step(set);
	scan_ensure(set, next);
	return n;
}

void modem_set_free(struct modem_set *set)
{
	if (!set)
		return;
	modem_scan_free(set->scan);
	if (set->drain_timer)
		event_free(set->drain_timer);
	free(set->pending);   /* the modems are the scheduler's */
	free(set);
}
