/* simrouted: start-up, config, signals, sd_notify, privilege drop, shutdown — wiring only; every decision
 * lives in a module. */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "api/api.h"
#include "carrier/carrier.h"
#include "config.h"
#include "modem/modem.h"
#include "modem_set.h"
#include "privdrop.h"
#include "api/webhook.h"
#include "queue/ingest.h"
#include "queue/optout.h"
#include "queue/outbox.h"
#include "queue/retention.h"
#include "queue/scheduler.h"
#include "queue/store.h"
#include "sdnotify.h"
#include "simroute/log.h"
#include "simroute/quota.h"

#define SHUTDOWN_GRACE_MS 30000
/* API keys SIGHUP may bring in: the API sizes its per-key rate buckets once, at start (api_new). */

struct daemon {
	struct event_base *base;
	struct config cfg;
	struct store *st;
	struct scheduler *sched;
	struct modem_set *modems; /* which modems exist: created, rescanned, reloaded */
	struct ingest *in;
	struct api *api;
	struct webhook *webhook;  /* delivers the outbox */
	struct outbox *outbox;    /* writes it, as the store's hooks */
	struct optout *optout;    /* the opt-out list, checked at accept time */
	struct retention *retention;
	struct event *sigterm, *sigint, *sighup, *drain_ev;
	struct event *sync_ev;    /* shared store: the in-memory lists follow other nodes' changes */
	struct event *wake_ev;    /* shared store: another node's NOTIFY (new messages, changed lists) */
	int wake_fd;              /* what wake_ev watches; -1 none (lost: sync_cb picks up a new one) */
	int64_t optout_version, keys_version;
	int64_t stop_at_ms;
	char store_path[CONFIG_PATH_MAX + 32];
	char node_id[STORE_NODE_ID_MAX];   /* on a shared store: this node's name; else "" */
	struct sdnotify *sdn;
	struct privdrop pd;
	bool sock_dir_created;    /* we made the socket's directory: it goes to [daemon] user too */
	bool debug;               /* -d: log_level stays debug across SIGHUP */
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: simrouted [-c FILE] [-t] [-d]\n"
		     "  -c FILE  configuration (default /etc/simroute/simroute.ini)\n"
		     "  -t       check the configuration, print the effective settings and exit\n"
		     "  -d       log at debug level (overrides log_level)\n"
		     "Runs in the foreground; stop with SIGTERM (waits for sends in flight).\n");
}

static int mkdir_p(const char *dir, mode_t mode)
{
	char buf[CONFIG_PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, mode) < 0 && errno != EEXIST ? -1 : 0;
}

/* Waits for the sends in flight (so nothing is left `sending` to become uncertain), then leaves the loop. */
static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct timeval tv = { 0, 100000 };
	int n = scheduler_inflight(d->sched);
	(void)fd;
	(void)what;
	if (n == 0 || now_ms() >= d->stop_at_ms) {
		if (n)
			log_warnx("shutdown: %d send(s) still in flight after %d s; they are recovered at next start", n,
				  SHUTDOWN_GRACE_MS / 1000);
		event_base_loopexit(d->base, NULL);
		return;
	}
	evtimer_add(d->drain_ev, &tv);
}

/* A reload is an admin action: the audit log says when, and what came of it (actor "signal"). */
static void audit_reload(struct daemon *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void audit_reload(struct daemon *d, const char *fmt, ...)
{
	char detail[STORE_DETAIL_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	struct store_audit_new a = { .at_ms = now_ms(), .actor = "signal", .action = "config.reload",
				     .target = d->cfg.path, .detail = detail };
	if (store_audit_add(d->st, &a) < 0)
		log_warnx("SIGHUP: the reload could not be recorded in the audit log (store error)");
}

/* Each modem's quotas ([modem:X] over [quota]), prefixes, and the score weights, to the scheduler:
 * at start-up and after SIGHUP, so new limits apply to running routes without a restart. */
static void configure_routes(struct daemon *d)
{
	const struct config *c = &d->cfg;
	struct router_weights w = { .signal = c->weight_signal, .failure = c->weight_failure,
				    .latency = c->weight_latency, .headroom = c->weight_headroom,
				    .affinity = c->weight_affinity };
	scheduler_set_weights(d->sched, &w);
	for (size_t i = 0; i < c->nmodems; i++) {
		const struct config_modem *cm = &c->modems[i];
		struct scheduler_route_policy p;
		memset(&p, 0, sizeof(p));
		for (int q = 0; q < QUOTA_WINDOWS; q++)
			p.quota.segments[q] = cm->quota[q] >= 0 ? cm->quota[q] : c->quota[q];
		for (int r = 0; r < RECIPIENTS_WINDOWS; r++)
			p.recipients.max[r] = cm->recipients[r] >= 0 ? cm->recipients[r] : c->quota_recipients[r];
		_Static_assert(CONFIG_PREFIXES_MAX == ROUTER_PREFIXES_MAX && CONFIG_PREFIX_LEN == ROUTER_PREFIX_LEN,
			       "config and router prefix sizes");
		memcpy(p.prefixes, cm->prefixes, sizeof(p.prefixes));
		p.nprefixes = cm->nprefixes;
		p.restrict_prefixes = cm->restrict_prefixes;
		scheduler_route_policy(d->sched, cm->name, &p);   /* -1: a modem added by the file, not running */
	}
}

/* The opt-out list at send time, with the accept path's OTP policy ([optout] otp_bypass, reloadable). */
static bool suppressed(void *arg, const char *to, enum msg_lane lane)
{
	struct daemon *d = arg;
	return !(lane == LANE_OTP && d->cfg.optout_otp_bypass) && optout_contains(d->optout, to);
}

/* The failover carrier from its [carrier:X] section (the first one; see setup). */
static struct carrier *make_carrier(struct daemon *d, const struct config_carrier *cc, char *err, size_t errlen)
{
	const char *headers[CONFIG_CARRIER_HEADERS];
	for (int i = 0; i < cc->nheaders && i < CONFIG_CARRIER_HEADERS; i++)
		headers[i] = cc->headers[i];
	struct carrier_config ccfg = { .name = cc->name, .type = cc->type, .url = cc->url,
				       .token = cc->token[0] ? cc->token : NULL, .account_sid = cc->account_sid,
				       .auth_token = cc->auth_token, .from = cc->from, .timeout_ms = cc->timeout_ms,
				       .headers = headers, .nheaders = (size_t)cc->nheaders,
				       .template_json = cc->template_json[0] ? cc->template_json : NULL,
				       .response_id = cc->response_id[0] ? cc->response_id : NULL,
				       .status_callback_url = cc->status_callback_url[0] ? cc->status_callback_url : NULL };
	return carrier_new(d->base, &ccfg, err, errlen);
}

/* SIGHUP with changed [carrier:*] sections: the first one becomes the failover carrier; the one it
 * replaces finishes its requests in flight with its old settings (scheduler_set_carrier). */
static void reload_carrier(struct daemon *d, const struct config_carrier *before)
{
	char err[512];
	const struct config_carrier *cc = d->cfg.ncarriers ? &d->cfg.carriers[0] : NULL;

	if (cc && before && config_carrier_same(before, cc))
		return;
	if (!cc) {
		scheduler_set_carrier(d->sched, NULL, 0);
		log_info("SIGHUP: no [carrier:*] any more: messages wait for a SIM");
		return;
	}
	struct carrier *c = make_carrier(d, cc, err, sizeof(err));
	if (!c) {
		log_errorx("SIGHUP: carrier %s: %s; keeping the running carrier", cc->name, err);
		return;
	}
	scheduler_set_carrier(d->sched, c, cc->max_inflight);
	log_info("SIGHUP: carrier %s (%s, %s) takes new messages", cc->name, cc->type, cc->url);
}

/* SIGHUP: the new file is parsed whole first; a broken one changes nothing. config_apply_reload says
 * what changed and what needs a restart (modems, carriers, listeners, store). */
static void reload(struct daemon *d)
{
	struct config next;
	char err[512];

	/* first, so that this reload's lines land in the new file after logrotate moved the old one */
	if (log_reopen(err, sizeof(err)) < 0)
		log_warnx("SIGHUP: %s; still writing to the old file", err);
	log_info("SIGHUP: reloading %s", d->cfg.path);
	if (config_load(d->cfg.path, &next, err, sizeof(err)) < 0 || config_scan_modems(&next, err, sizeof(err)) < 0) {
		log_errorx("SIGHUP: %s; keeping the running configuration", err);
		audit_reload(d, "refused: %s", err);
		return;
	}
	if (d->debug)
		next.log_level = LOG_LEVEL_DEBUG;
	modem_set_reload(d->modems, &d->cfg, &next);
	struct config_api_key *keys_before = d->cfg.api_keys;
	struct config_carrier *carriers_before = d->cfg.carriers;
	int n = config_reload_modem_policy(&d->cfg, &next);
	n += config_apply_reload(&d->cfg, &next);
	if (d->cfg.api_keys != keys_before && d->api)
		api_keys_reloaded(d->api);
	if (d->cfg.carriers != carriers_before)   /* the old set is now in next */
		reload_carrier(d, next.ncarriers ? &next.carriers[0] : NULL);
	config_free(&next);
	log_set_level(d->cfg.log_level);
	configure_routes(d);
	retention_set(d->retention, d->cfg.body_retention_s, d->cfg.retention_s);
	log_info("SIGHUP: %s reloaded: %d change(s) applied", d->cfg.path, n);
	audit_reload(d, "%d change(s) applied", n);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	(void)what;
	if (sig == SIGHUP) {
		if (!d->stop_at_ms)
			reload(d);
		return;
	}
	if (d->stop_at_ms) {
		log_info("second signal: stopping now");
		event_base_loopexit(d->base, NULL);
		return;
	}
	int n = scheduler_stop(d->sched);
	log_info("%s: stopping (%d send(s) in flight)", sig == SIGTERM ? "SIGTERM" : "SIGINT", n);
	char why[96];
	snprintf(why, sizeof(why), "stopping: waiting for %d send(s) in flight", n);
	sdnotify_stopping(d->sdn, why);
	d->stop_at_ms = now_ms() + SHUTDOWN_GRACE_MS;
	drain_cb(-1, 0, d);
}

/* STATUS= for systemctl status: queue depth and modems that can send now. */
static void status_text(void *arg, char *buf, size_t len)
{
	struct daemon *d = arg;
	struct store_counts c;
	size_t nm = scheduler_nmodems(d->sched), ready = 0;
	for (size_t i = 0; i < nm; i++) {
		enum modem_state ms = modem_state(scheduler_modem(d->sched, i));
		ready += ms == MODEM_READY || ms == MODEM_BUSY;
	}
	if (store_counts(d->st, &c) < 0) {
		snprintf(buf, len, "store unreadable; %zu/%zu modem(s) ready", ready, nm);
		return;
	}
	snprintf(buf, len, "queue %lld (otp %lld, normal %lld, bulk %lld), sending %lld, uncertain %lld; "
		 "%zu/%zu modem(s) ready",
		 (long long)c.by_state[MSG_QUEUED], (long long)c.queued_by_lane[LANE_OTP],
		 (long long)c.queued_by_lane[LANE_NORMAL], (long long)c.queued_by_lane[LANE_BULK],
		 (long long)c.by_state[MSG_SENDING], (long long)c.by_state[MSG_UNCERTAIN], ready, nm);
}

/* Started as root with [daemon] user: hand over what we opened, then become that user. */
static int drop_privileges(struct daemon *d)
{
	static const char *const companions[] = { "", "-wal", "-shm", "-journal" };
	char err[512], path[sizeof(d->store_path) + 16], who[256];

	if (d->pd.active) {
		int rc = privdrop_chown(&d->pd, d->cfg.state_dir, err, sizeof(err));
		for (size_t i = 0; rc == 0 && d->store_path[0] && i < sizeof(companions) / sizeof(companions[0]); i++) {
			snprintf(path, sizeof(path), "%s%s", d->store_path, companions[i]);
			rc = privdrop_chown(&d->pd, path, err, sizeof(err));
		}
		if (rc == 0 && d->cfg.api_socket[0])
			rc = privdrop_chown(&d->pd, d->cfg.api_socket, err, sizeof(err));
		/* the operators' group, while still root (the user need not be a member) */
		if (rc == 0 && d->cfg.api_socket[0] && d->cfg.api_socket_group[0])
			rc = privdrop_chgrp(d->cfg.api_socket, d->cfg.api_socket_group, err, sizeof(err));
		/* the log file was opened as root: the user must be able to reopen it on SIGHUP */
		if (rc == 0 && log_file_path())
			rc = privdrop_chown(&d->pd, log_file_path(), err, sizeof(err));
		if (rc == 0 && d->sock_dir_created) {
			snprintf(path, sizeof(path), "%s", d->cfg.api_socket);
			*strrchr(path, '/') = '\0';
			rc = privdrop_chown(&d->pd, path, err, sizeof(err));
		}
		if (rc < 0 || privdrop_drop(&d->pd, err, sizeof(err)) < 0) {
			log_errorx("[daemon] user = %s: %s; not serving as root", d->pd.user, err);
			return -1;
		}
	} else if (d->cfg.api_socket[0] && d->cfg.api_socket_group[0] &&
		   privdrop_chgrp(d->cfg.api_socket, d->cfg.api_socket_group, err, sizeof(err)) < 0) {
		log_errorx("[api] socket_group: %s", err);
		return -1;
	}
	privdrop_describe(who, sizeof(who));
	log_info("running as %s", who);
	return 0;
}

/* A route's quota usage is read back from the shared store by its name: two live nodes with a modem
 * of the same name would count each other's sends. Said loudly at start-up. */
static int same_modem_cb(void *arg, const struct store_node *n)
{
	struct daemon *d = arg;

	if (strcmp(n->id, d->node_id) == 0 || now_ms() - n->last_heartbeat_ms > n->lease_ms)
		return 0;
	for (size_t i = 0; i < d->cfg.nmodems; i++) {
		const char *name = d->cfg.modems[i].name, *p = n->modems;
		size_t len = strlen(name);
		while ((p = strstr(p, name)) != NULL) {
			if ((p == n->modems || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
				log_warnx("store: node %s also has a modem named %s: give each node's modems their own "
					  "names, or their quotas count each other's sends", n->id, name);
			p += len;
		}
	}
	return 0;
}

/* A shared store (postgresql): register this node under [store] node_id, or its host name with the
 * characters a node id may not hold replaced by '-'. */
static int join_queue(struct daemon *d)
{
	char *id = d->node_id;

	if (d->cfg.store_node_id[0]) {
		snprintf(id, sizeof(d->node_id), "%s", d->cfg.store_node_id);
	} else {
		if (gethostname(id, sizeof(d->node_id) - 1) < 0 || !id[0])
			snprintf(id, sizeof(d->node_id), "node");
		id[sizeof(d->node_id) - 1] = '\0';
		for (char *c = id; *c; c++)
			if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-", *c))
				*c = '-';
	}
	if (store_node_begin(d->st, id, d->cfg.store_lease_s * 1000LL, now_ms()) < 0) {
		log_errorx("store: cannot join the shared queue as node \"%s\"", id);
		return -1;
	}
	log_info("store: shared queue: node %s, lease %d s", id, d->cfg.store_lease_s);
	store_nodes(d->st, same_modem_cb, d);
	return 0;
}

static void wake_cb(evutil_socket_t fd, short what, void *arg);

/* Watch the store's wake-up descriptor, if it has one now. 0, or -1 (out of memory). */
static int watch_wake(struct daemon *d)
{
	int fd = store_wake_fd(d->st);

	if (fd < 0)
		return 0;
	if (d->wake_ev)
		event_free(d->wake_ev);
	if (!(d->wake_ev = event_new(d->base, fd, EV_READ | EV_PERSIST, wake_cb, d)) || event_add(d->wake_ev, NULL) < 0)
		return -1;
	d->wake_fd = fd;
	return 0;
}

/* Each second on a shared store: one small query for the versions of the opt-out list and the API
 * keys; a list another node changed is read again (a short poll, docs/scale-out.md). */
static void sync_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	int64_t ov, kv;
	(void)fd;
	(void)what;
	if (d->wake_fd < 0)
		watch_wake(d);
	if (store_versions(d->st, &ov, &kv) < 0)
		return;
	if (ov != d->optout_version && optout_refresh(d->optout) == 0)
		d->optout_version = ov;
	if (kv != d->keys_version && api_keys_refresh(d->api) == 0)
		d->keys_version = kv;
}

/* Another node enqueued or changed a list: act now rather than at the next poll. A lost wake-up
 * connection leaves the polls to do the work. */
static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	int bits = store_wake_read(d->st);
	(void)fd;
	(void)what;
	if (bits < 0) {
		event_del(d->wake_ev);
		d->wake_fd = -1;
		return;
	}
	if (bits)
		log_debug("store: woken by another node:%s%s", bits & STORE_WAKE_QUEUE ? " new messages" : "",
			  bits & STORE_WAKE_LISTS ? " lists changed" : "");
	if (bits & STORE_WAKE_QUEUE)
		scheduler_wake(d->sched);
	if (bits & STORE_WAKE_LISTS)
		sync_cb(-1, 0, d);
}

static int setup(struct daemon *d)
{
	char err[512];

	if (privdrop_prepare(&d->pd, d->cfg.user, err, sizeof(err)) < 0) {
		log_errorx("%s", err);
		return -1;
	}
	if (mkdir_p(d->cfg.state_dir, 0750) < 0) {
		log_warn("state_dir %s", d->cfg.state_dir);
		return -1;
	}
	/* postgresql has no file: store_path stays "" (no file size in /v1/status, no file backup) */
	if (strcmp(d->cfg.store_backend, "postgresql") == 0)
		d->store_path[0] = '\0';
	else if (d->cfg.store_path[0])
		snprintf(d->store_path, sizeof(d->store_path), "%s", d->cfg.store_path);
	else
		snprintf(d->store_path, sizeof(d->store_path), "%s/simroute.db", d->cfg.state_dir);
	d->st = store_open(d->cfg.store_backend, d->store_path[0] ? d->store_path : d->cfg.store_dsn, err,
			   sizeof(err));
	if (!d->st) {
		log_errorx("store: %s", err);
		return -1;
	}
	if (store_shared(d->st) && join_queue(d) < 0)
		return -1;
	d->optout = optout_new(d->st, d->cfg.optout_stop_keywords, d->cfg.optout_start_keywords, err, sizeof(err));
	if (!d->optout) {
		log_errorx("optout: %s", err);
		return -1;
	}
	struct webhook_config wc = { .secret = d->cfg.webhook_secret, .timeout_ms = d->cfg.webhook_timeout_ms,
				     .max_age_s = d->cfg.webhook_max_age, .max_inflight = d->cfg.webhook_max_inflight };
	d->webhook = webhook_new(d->base, d->st, &wc);
	d->outbox = d->webhook ? outbox_new(d->st, d->cfg.webhook_url, webhook_kick, d->webhook) : NULL;
	if (!d->outbox) {
		log_errorx("out of memory");
		return -1;
	}
	d->retention = retention_new(d->base, d->st);
	if (!d->retention) {
		log_errorx("out of memory");
		return -1;
	}
	retention_set(d->retention, d->cfg.body_retention_s, d->cfg.retention_s);
	if (!d->cfg.webhook_secret[0])
		log_warnx("webhook: [webhook] secret is empty: events (to %s and to any message's callback_url) "
			  "go out unsigned", d->cfg.webhook_url[0] ? d->cfg.webhook_url : "no global url");
	struct scheduler_config sc = { .max_parts = d->cfg.max_parts, .max_attempts = d->cfg.max_attempts,
				       .cooldown_ms = d->cfg.cooldown * 1000,
				       .breaker_threshold = d->cfg.breaker_threshold,
				       .reassembly_timeout_ms = d->cfg.inbound_reassembly_timeout * 1000LL,
				       .node_tick_ms = d->node_id[0] ? d->cfg.store_lease_s * 1000LL / 3 : 0,
				       .carrier_after_ms = { [LANE_OTP] = d->cfg.otp_modem_deadline * 1000LL,
							     [LANE_NORMAL] = d->cfg.carrier_after * 1000LL,
							     [LANE_BULK] = d->cfg.bulk_carrier_after * 1000LL } };
	d->sched = scheduler_new(d->base, d->st, &sc);
	d->in = d->sched ? ingest_new(d->base, d->st, d->sched) : NULL;
	if (d->sched) {
		scheduler_set_inbound_cb(d->sched, optout_inbound, d->optout);
		scheduler_set_suppress_cb(d->sched, suppressed, d);
	}
	if (!d->in) {
		log_errorx("out of memory");
		return -1;
	}
	if (!(d->modems = modem_set_new(d->base, d->sched, &d->cfg)))
		return -1;
	configure_routes(d);   /* quotas, prefixes, weights */
	if (d->cfg.ncarriers > 0) {
		const struct config_carrier *cc = &d->cfg.carriers[0];
		struct carrier *c = make_carrier(d, cc, err, sizeof(err));
		if (!c) {
			log_errorx("carrier %s: %s", cc->name, err);
			return -1;
		}
		if (d->cfg.ncarriers > 1)
			log_warnx("%zu carriers configured: only the first, %s, is used for failover", d->cfg.ncarriers,
				  cc->name);
		scheduler_set_carrier(d->sched, c, cc->max_inflight);
		log_info("carrier %s (%s): failover for messages no SIM can take in time", cc->name, cc->type);
	}
	if (d->cfg.nmodems == 0)
		log_warnx("no modems configured: messages will wait in the queue");
	if (d->cfg.api_socket[0]) {
		char dir[CONFIG_PATH_MAX];
		snprintf(dir, sizeof(dir), "%s", d->cfg.api_socket);
		char *slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			struct stat sb;
			*slash = '\0';
			d->sock_dir_created = stat(dir, &sb) < 0;
			mkdir_p(dir, 0755);
		}
	}
	struct api_deps deps = { .cfg = &d->cfg, .st = d->st, .in = d->in, .sched = d->sched, .webhook = d->webhook,
				 .optout = d->optout, .started_ms = now_ms(), .store_path = d->store_path,
				 .node_id = d->node_id };
	d->api = api_new(d->base, &deps, err, sizeof(err));
	if (!d->api) {
		log_errorx("%s", err);
		return -1;
	}
	if (store_shared(d->st)) {
		struct timeval second = { 1, 0 };
		/* -1: the first tick reads both lists again, so a change made while they were first read
		 * (before this node knew any version) is not missed */
		d->optout_version = d->keys_version = -1;
		d->wake_fd = -1;
		if (watch_wake(d) < 0) {
			log_errorx("store: cannot watch the wake-up connection");
			return -1;
		}
		if (!(d->sync_ev = event_new(d->base, -1, EV_PERSIST, sync_cb, d)) || event_add(d->sync_ev, &second) < 0) {
			log_errorx("store: cannot follow the shared lists");
			return -1;
		}
	}
	if (scheduler_start(d->sched, now_ms()) < 0) {
		log_errorx("store: cannot recover the queue");
		return -1;
	}
	d->sigterm = evsignal_new(d->base, SIGTERM, signal_cb, d);
	d->sigint = evsignal_new(d->base, SIGINT, signal_cb, d);
	d->sighup = evsignal_new(d->base, SIGHUP, signal_cb, d);
	d->drain_ev = evtimer_new(d->base, drain_cb, d);
	if (!d->sigterm || !d->sigint || !d->sighup || !d->drain_ev || evsignal_add(d->sigterm, NULL) < 0 ||
	    evsignal_add(d->sigint, NULL) < 0 || evsignal_add(d->sighup, NULL) < 0)
		return -1;
	if (drop_privileges(d) < 0)
		return -1;
	d->sdn = sdnotify_new(d->base, status_text, d);
	if (!d->sdn) {
		log_errorx("out of memory");
		return -1;
	}
	return 0;
}

static void teardown(struct daemon *d)
{
	if (d->in)
		ingest_flush(d->in);      /* replies for what was accepted go out before the listeners close */
	if (d->sync_ev)
		event_free(d->sync_ev);
	if (d->wake_ev)
		event_free(d->wake_ev);
	api_free(d->api);
	sdnotify_free(d->sdn);
	ingest_free(d->in);
	modem_set_free(d->modems);   /* its probes and drain timer; the modems are the scheduler's */
	scheduler_free(d->sched);    /* may still write final states: the outbox goes after it */
	webhook_free(d->webhook);    /* rows in flight stay pending: sent again after a restart */
	outbox_free(d->outbox);
	optout_free(d->optout);      /* after the scheduler and the API, its only users */
	retention_free(d->retention);
	if (d->st)
		store_close(d->st);
	if (d->sigterm)
		event_free(d->sigterm);
	if (d->sigint)
		event_free(d->sigint);
	if (d->sighup)
		event_free(d->sighup);
	if (d->drain_ev)
		event_free(d->drain_ev);
	config_free(&d->cfg);
	if (d->base)
		event_base_free(d->base);
}

int main(int argc, char **argv)
{
	const char *path = "/etc/simroute/simroute.ini";
	int check = 0, debug = 0, c;
	char err[512];
	struct daemon d;

	memset(&d, 0, sizeof(d));
	while ((c = getopt(argc, argv, "c:tdh")) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 't': check = 1; break;
		case 'd': debug = 1; d.debug = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init("simrouted", LOG_LEVEL_INFO);
	if (config_load(path, &d.cfg, err, sizeof(err)) < 0 || config_scan_modems(&d.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "simrouted: %s\n", err);
		return 2;
	}
	if (check) {
		config_dump(&d.cfg, stdout);
		fprintf(stderr, "simrouted: %s: configuration OK (%zu modem(s))\n", path, d.cfg.nmodems);
		config_free(&d.cfg);
		return 0;
	}
	log_set_level(debug ? LOG_LEVEL_DEBUG : d.cfg.log_level);
	/* before privileges drop: /var/log is root's */
	if (log_open(d.cfg.log_target, err, sizeof(err)) < 0) {
		fprintf(stderr, "simrouted: [daemon] log: %s\n", err);
		config_free(&d.cfg);
		return 1;
	}
	/* Quota windows are calendar windows in the operator's zone (quota.c uses local time). */
	if (d.cfg.quota_timezone[0]) {
		setenv("TZ", d.cfg.quota_timezone, 1);
		tzset();
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	signal(SIGPIPE, SIG_IGN);
	/* epoll changelist: evhttp turns a connection's read/write interest on and off around every
	 * request; coalescing those per loop turn saves ~4 epoll_ctl calls a request (no fd is dup'd). */
	struct event_config *ecfg = event_config_new();
	if (ecfg)
		event_config_set_flag(ecfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	d.base = ecfg ? event_base_new_with_config(ecfg) : event_base_new();
	if (ecfg)
		event_config_free(ecfg);
	/* Three priorities: 0 (reserved for modem I/O), 1 (the default: API and modems), 2 group commit (ingest.c). */
	if (!d.base || event_base_priority_init(d.base, 3) < 0)
		fatalx("cannot create the event loop");
	if (setup(&d) < 0) {
		teardown(&d);
		log_close();
		return 1;
	}
	log_info("simrouted ready: %zu modem(s), store %s", d.cfg.nmodems,
		 d.store_path[0] ? d.store_path : d.cfg.store_backend);
	sdnotify_ready(d.sdn);   /* the API listens and the queue is recovered */
	event_base_dispatch(d.base);
	log_info("simrouted stopped");
	teardown(&d);
	log_close();
	curl_global_cleanup();
	return 0;
}
