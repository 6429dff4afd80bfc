/* http: the API's listeners, routing table, authentication and JSON replies. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/queue.h>
#include <sys/un.h>
#include <time.h>
#include <math.h>
#include <unistd.h>

#include "api/api_private.h"
#include "config.h"
#include "queue/store.h"
#include "simroute/log.h"
#include "simroute/phone.h"

/* How often housekeeping runs (idempotency purge). */
#define HOUSEKEEPING_S 300

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

int64_t api_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool api_has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
			return true;
	}
	return false;
}

void api_reply(struct evhttp_request *req, int status, json_t *body)
{
	struct evbuffer *buf = evbuffer_new();
	char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
	const char *reason = reason_phrase(status);
	json_decref(body);
	if (!buf) {
		free(s);
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
	evbuffer_add(buf, s ? s : "{}", s ? strlen(s) : 2);
	evbuffer_add(buf, "\n", 1);
	free(s);
	evhttp_send_reply(req, status, reason, buf);
	evbuffer_free(buf);
}

void api_reply_page(struct evhttp_request *req, const char *key, json_t *list, int n, size_t limit, int64_t last_id)
{
	char cursor[24];
	if (n < 0) {
		json_decref(list);
		api_error(req, 503, "store_unavailable", NULL, "the store could not be read");
		return;
	}
	snprintf(cursor, sizeof(cursor), "%lld", (long long)last_id);
	api_reply(req, 200, json_pack("{s:o, s:o}", key, list, "next_cursor",
				      (size_t)n > limit ? json_string(cursor) : json_null()));
}

void api_reply_raw(struct evhttp_request *req, int status, const char *json, size_t len)
{
	struct evbuffer *buf = evbuffer_new();
	if (!buf) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
	evbuffer_add(buf, json, len);
	evhttp_send_reply(req, status, reason_phrase(status), buf);
	evbuffer_free(buf);
}

void api_error(struct evhttp_request *req, int status, const char *code, const char *field, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_t *err = json_pack("{s:s, s:s}", "code", code, "message", msg);
	if (field)
		json_object_set_new(err, "field", json_string(field));
	api_reply(req, status, json_pack("{s:o}", "error", err));
}

json_t *api_time(int64_t ms)
{
	char buf[80];
	struct tm tm;
	time_t t = (time_t)(ms / 1000);
	if (ms <= 0)
		return json_null();
	gmtime_r(&t, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	return json_string(buf);
}

/* Who a Bearer key is: a config key or a live store key, with its rate-limit bucket. */
struct api_auth {
	unsigned scopes;
	bool mask_numbers;            /* the key's answers are masked, whatever the request asks */
	const char *owner;
	const char *name;             /* the key's name, for the audit log's actor */
	struct api_bucket *bucket;    /* NULL: none (out of memory at a reload) */
};

/* Bearer key -> the matching [api_key:*] or live store key (compared by SHA-256 in constant time):
 * 0 and *out, or -1. Every key is compared, so the time taken does not tell which one matched. */
static int authenticate(struct api *api, struct evhttp_request *req, struct api_auth *out)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	unsigned char digest[SHA256_DIGEST_LENGTH];
	const struct config *cfg = api->deps.cfg;
	int found = -1;

	if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7])
		return -1;
	SHA256((const unsigned char *)h + 7, strlen(h + 7), digest);
	for (size_t i = 0; i < cfg->napi_keys; i++)
		if (CRYPTO_memcmp(digest, cfg->api_keys[i].sha256, sizeof(digest)) == 0 && found < 0)
			found = (int)i;
	struct api_skey *sk = api_keys_match(api, digest);
	if (found >= 0) {
		out->scopes = cfg->api_keys[found].scopes;
		out->mask_numbers = cfg->api_keys[found].mask_numbers;
		out->owner = cfg->api_keys[found].name;
		out->name = cfg->api_keys[found].name;
		out->bucket = (size_t)found < api->nbuckets ? &api->buckets[found] : NULL;
		return 0;
	}
	if (sk) {
		out->scopes = sk->scopes;
		out->mask_numbers = sk->mask_numbers;
		out->owner = sk->owner;
		out->name = sk->name;
		out->bucket = &sk->bucket;
		return 0;
	}
	return -1;
}

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int api_rate_limited(struct api *api, struct api_bucket *b)
{
	const struct config *cfg = api->deps.cfg;
	int64_t now = mono_us();

	if (cfg->api_rate_limit <= 0 || !b)
		return 0;
	if (b->last_us == 0)
		b->tokens = cfg->api_rate_burst;
	else
		b->tokens += (double)(now - b->last_us) / 1e6 * cfg->api_rate_limit;
	if (b->tokens > cfg->api_rate_burst)
		b->tokens = cfg->api_rate_burst;
	b->last_us = now;
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return 0;
	}
	int wait = (int)ceil((1.0 - b->tokens) / cfg->api_rate_limit);
	return wait < 1 ? 1 : wait;
}

/* Who is on the other end of a Unix socket connection: "uid:<n>" from the kernel (SO_PEERCRED), which the
 * peer cannot forge; "unix" if it cannot be had. */
static const char *peer_actor(struct evhttp_request *req, char *buf, size_t len)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
	struct ucred cred;
	socklen_t clen = sizeof(cred);

	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 || clen != sizeof(cred))
		return "unix";
	snprintf(buf, len, "uid:%u", (unsigned)cred.uid);
	return buf;
}

enum route_id {
	R_UI, R_STATS, R_MESSAGES_POST, R_MESSAGES_LIST, R_MESSAGE, R_MESSAGE_DELETE, R_MESSAGE_EXPLAIN, R_STATUS, R_MODEMS,
	R_MODEM_ACTION, R_KANNEL, R_HEALTHZ, R_READYZ, R_METRICS, R_INBOUND, R_WEBHOOKS, R_WEBHOOK_REPLAY, R_AUDIT,
	R_OPTOUT_LIST, R_OPTOUT_ADD, R_OPTOUT_DELETE, R_KEYS_POST, R_KEYS_LIST, R_KEY_DELETE, R_CARRIER_STATUS, R_BACKUP, R_NODES
};

struct route {
	enum evhttp_cmd_type method;
	const char *prefix;
	int exact;            /* 1: path == prefix; 0: prefix + one non-empty segment */
	unsigned scope;       /* 0: open, no key needed even on TCP */
	enum route_id id;
	const char *suffix;   /* exact 0 only: prefix + segment + suffix (e.g. "/explain") */
};

/* docs/openapi.yaml lists every path here (tests/integration/test_api_docs.py checks it): a
 * prefix route "/x/" is documented as "/x/{id}". */
static const struct route routes[] = {
	{ EVHTTP_REQ_POST, "/v1/messages", 1, SCOPE_SEND, R_MESSAGES_POST, NULL },
	{ EVHTTP_REQ_GET, "/v1/messages", 1, SCOPE_READ, R_MESSAGES_LIST, NULL },
	{ EVHTTP_REQ_GET, "/v1/messages/", 0, SCOPE_READ, R_MESSAGE, NULL },
	{ EVHTTP_REQ_DELETE, "/v1/messages/", 0, SCOPE_SEND, R_MESSAGE_DELETE, NULL },
	{ EVHTTP_REQ_GET, "/v1/messages/", 0, SCOPE_READ, R_MESSAGE_EXPLAIN, "/explain" },
	{ EVHTTP_REQ_GET, "/v1/status", 1, SCOPE_READ, R_STATUS, NULL },
	{ EVHTTP_REQ_GET, "/v1/modems", 1, SCOPE_READ, R_MODEMS, NULL },
	{ EVHTTP_REQ_GET, "/v1/nodes", 1, SCOPE_READ, R_NODES, NULL },
	{ EVHTTP_REQ_GET, "/v1/inbound", 1, SCOPE_READ, R_INBOUND, NULL },
	{ EVHTTP_REQ_GET, "/v1/webhooks", 1, SCOPE_READ, R_WEBHOOKS, NULL },
	{ EVHTTP_REQ_POST, "/v1/webhooks/", 0, SCOPE_ADMIN, R_WEBHOOK_REPLAY, "/replay" },
	{ EVHTTP_REQ_GET, "/v1/audit", 1, SCOPE_ADMIN, R_AUDIT, NULL },
	{ EVHTTP_REQ_GET, "/v1/optout", 1, SCOPE_READ, R_OPTOUT_LIST, NULL },
	{ EVHTTP_REQ_POST, "/v1/optout", 1, SCOPE_ADMIN, R_OPTOUT_ADD, NULL },
	{ EVHTTP_REQ_DELETE, "/v1/optout/", 0, SCOPE_ADMIN, R_OPTOUT_DELETE, NULL },
	{ EVHTTP_REQ_POST, "/v1/modems/", 0, SCOPE_ADMIN, R_MODEM_ACTION, "/enable" },
	{ EVHTTP_REQ_POST, "/v1/modems/", 0, SCOPE_ADMIN, R_MODEM_ACTION, "/disable" },
	{ EVHTTP_REQ_POST, "/v1/modems/", 0, SCOPE_ADMIN, R_MODEM_ACTION, "/drain" },
	{ EVHTTP_REQ_POST, "/v1/modems/", 0, SCOPE_ADMIN, R_MODEM_ACTION, "/reset" },
	{ EVHTTP_REQ_POST, "/v1/keys", 1, SCOPE_ADMIN, R_KEYS_POST, NULL },
	{ EVHTTP_REQ_GET, "/v1/keys", 1, SCOPE_ADMIN, R_KEYS_LIST, NULL },
	{ EVHTTP_REQ_DELETE, "/v1/keys/", 0, SCOPE_ADMIN, R_KEY_DELETE, NULL },
	{ EVHTTP_REQ_POST, "/v1/backup", 1, SCOPE_ADMIN, R_BACKUP, NULL },
	/* Kannel compatibility: credentials are query parameters, checked by the handler itself */
	{ EVHTTP_REQ_GET, "/cgi-bin/sendsms", 1, 0, R_KANNEL, NULL },
	{ EVHTTP_REQ_POST, "/cgi-bin/sendsms", 1, 0, R_KANNEL, NULL },
	/* a carrier's delivery callback: open, its signature is checked by the handler (api_carrier.c) */
	{ EVHTTP_REQ_POST, "/v1/carrier/", 0, 0, R_CARRIER_STATUS, "/status" },
	/* liveness is open: a load balancer or systemd probe has no key, and it tells nothing */
	{ EVHTTP_REQ_GET, "/healthz", 1, 0, R_HEALTHZ, NULL },
	{ EVHTTP_REQ_GET, "/readyz", 1, SCOPE_READ, R_READYZ, NULL },
	{ EVHTTP_REQ_GET, "/metrics", 1, SCOPE_READ, R_METRICS, NULL },
	{ EVHTTP_REQ_GET, "/v1/stats", 1, SCOPE_READ, R_STATS, NULL },
	/* the dashboard's static files are public (they hold no data); its API calls need a key */
	{ EVHTTP_REQ_GET, "/ui", 1, 0, R_UI, NULL },
	{ EVHTTP_REQ_GET, "/ui/", 1, 0, R_UI, NULL },
	{ EVHTTP_REQ_GET, "/ui/", 0, 0, R_UI, NULL },
};

/* ?view=dashboard (on a GET of any route but Kannel's, whose query is its own): 1 asked, 0 not, -1
 * another value (a 400 was sent). */
static int dashboard_view(struct evhttp_request *req, const struct evhttp_uri *uri)
{
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL, *v;
	struct evkeyvalq q;
	int rc = 0;

	if (!query || !strstr(query, "view"))
		return 0;
	TAILQ_INIT(&q);
	/* a query evhttp cannot parse is not a dashboard's: the endpoint answers it as it always did */
	if (evhttp_parse_query_str(query, &q) < 0)
		return 0;
	if ((v = evhttp_find_header(&q, "view")) != NULL) {
		rc = strcmp(v, "dashboard") == 0 ? 1 : -1;
		if (rc < 0)
			api_error(req, 400, "invalid_field", "view", "view: the only view is \"dashboard\"");
	}
	evhttp_clear_headers(&q);
	return rc;
}

static void handle(struct evhttp_request *req, struct api *api, bool trusted)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	struct api_req r = { .api = api, .req = req, .path = path, .trusted = trusted, .owner = "unix",
			      .actor = trusted ? "unix" : "anonymous" };
	char owner[STORE_IDEM_OWNER_MAX];
	int path_known = 0;

	if (!path || !*path) {
		api_error(req, 400, "bad_request", NULL, "malformed request URI");
		return;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *rt = &routes[i];
		size_t plen = strlen(rt->prefix);
		const char *rest = NULL;
		char segment[64];
		if (rt->exact ? strcmp(path, rt->prefix) != 0 : strncmp(path, rt->prefix, plen) != 0)
			continue;
		if (!rt->exact) {
			rest = path + plen;
			const char *slash = strchr(rest, '/');
			size_t seglen = slash ? (size_t)(slash - rest) : strlen(rest);
			if (seglen == 0 || seglen >= sizeof(segment))
				continue;
			if (rt->suffix ? !slash || strcmp(slash, rt->suffix) != 0 : slash != NULL)
				continue;
			memcpy(segment, rest, seglen);
			segment[seglen] = '\0';
			rest = segment;
		}
		path_known = 1;
		if (rt->method != method)
			continue;
		if (!trusted && rt->scope) {
			struct api_auth who;
			if (authenticate(api, req, &who) < 0) {
				evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
						  "Bearer realm=\"simroute\"");
				api_error(req, 401, "unauthorized", NULL, "an API key is required (Authorization: Bearer <key>)");
				return;
			}
			r.scopes = who.scopes;
			r.masked = who.mask_numbers;
			/* a copy: a store key's record moves when POST /v1/keys adds one */
			snprintf(owner, sizeof(owner), "%s", who.owner);
			r.owner = owner;
			snprintf(r.actor_buf, sizeof(r.actor_buf), "key:%s", who.name);
			r.actor = r.actor_buf;
			if (!(r.scopes & rt->scope)) {
				/* the path may hold a number (DELETE /v1/optout/<number>) */
				char shown[256];
				api_error(req, 403, "forbidden", NULL, "this API key lacks the scope for %s",
					  r.masked ? phone_redact(path, shown, sizeof(shown)) : path);
				return;
			}
			int wait = api_rate_limited(api, who.bucket);
			if (wait) {
				char secs[16];
				snprintf(secs, sizeof(secs), "%d", wait);
				evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", secs);
				api_error(req, 429, "rate_limited", NULL,
					  "more than %d requests/s (burst %d) with this API key; retry after %d s",
					  api->deps.cfg->api_rate_limit, api->deps.cfg->api_rate_burst, wait);
				return;
			}
		} else {
			r.scopes = SCOPE_SEND | SCOPE_READ | SCOPE_ADMIN;
			if (trusted)
				r.actor = peer_actor(req, r.actor_buf, sizeof(r.actor_buf));
		}
		/* A key with mask_numbers has every answer masked, whatever it asks and whatever its scopes.
		 * Otherwise the dashboard asks with view=dashboard: numbers are then masked unless the caller
		 * may administer — decided here, so no page can ask its way around it. */
		int view = method != EVHTTP_REQ_GET || rt->id == R_KANNEL ? 0 : dashboard_view(req, uri);
		if (view < 0)
			return;
		r.redact = r.masked || (view && !(r.scopes & SCOPE_ADMIN));
		switch (rt->id) {
		case R_UI: api_ui_get(&r); return;
		case R_STATS: api_stats_get(&r); return;
		case R_MESSAGES_POST: api_messages_post(&r); return;
		case R_MESSAGES_LIST: api_messages_list(&r); return;
		case R_MESSAGE: api_messages_get(&r, rest); return;
		case R_MESSAGE_DELETE: api_messages_delete(&r, rest); return;
		case R_MESSAGE_EXPLAIN: api_messages_explain(&r, rest); return;
		case R_STATUS: api_status_get(&r); return;
		case R_MODEMS: api_modems_get(&r); return;
		case R_MODEM_ACTION: api_modem_action(&r, rest, rt->suffix + 1); return;
		case R_KANNEL: api_kannel_sendsms(&r); return;
		case R_HEALTHZ: api_healthz(&r); return;
		case R_READYZ: api_readyz(&r); return;
		case R_METRICS: api_metrics(&r); return;
		case R_INBOUND: api_inbound_list(&r); return;
		case R_WEBHOOKS: api_webhooks_list(&r); return;
		case R_WEBHOOK_REPLAY: api_webhooks_replay(&r, rest); return;
		case R_AUDIT: api_audit_list(&r); return;
		case R_OPTOUT_LIST: api_optout_list(&r); return;
		case R_OPTOUT_ADD: api_optout_add(&r); return;
		case R_OPTOUT_DELETE: api_optout_delete(&r, rest); return;
		case R_KEYS_POST: api_keys_create(&r); return;
		case R_KEYS_LIST: api_keys_list(&r); return;
		case R_KEY_DELETE: api_keys_revoke(&r, rest); return;
		case R_CARRIER_STATUS: api_carrier_status(&r, rest); return;
		case R_BACKUP: api_backup_post(&r); return;
		case R_NODES: api_nodes_list(&r); return;
		}
	}
	if (path_known)
		api_error(req, 405, "method_not_allowed", NULL, "method not allowed on %s", path);
	else
		api_error(req, 404, "not_found", NULL, "no such endpoint");
}

static void tcp_cb(struct evhttp_request *req, void *arg) { handle(req, arg, false); }
static void unix_cb(struct evhttp_request *req, void *arg) { handle(req, arg, true); }

static struct evhttp *new_http(struct api *api, void (*cb)(struct evhttp_request *, void *), struct api_listener *l,
			       const char *name)
{
	struct evhttp *http = evhttp_new(api->base);
	if (!http)
		return NULL;
	evhttp_set_gencb(http, cb, api);
	evhttp_set_max_body_size(http, (ev_ssize_t)api->deps.cfg->api_max_body);
	evhttp_set_max_headers_size(http, 16384);
	/* reading a request (headers and body), writing a reply and an idle keep-alive each get this long
	 * without progress; then evhttp drops the connection */
	evhttp_set_timeout(http, api->deps.cfg->api_timeout);
	api_conn_watch(l, api, http, name);
	/* every method reaches the router, so an unknown one gets a JSON 405 rather than evhttp's bare 501 */
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE | EVHTTP_REQ_PUT |
					 EVHTTP_REQ_PATCH | EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS);
	return http;
}

static int bind_tcp(struct api *api, const char *listen_on, char *err, size_t errlen)
{
	char host[128];
	const char *colon = strrchr(listen_on, ':');
	size_t hlen = (size_t)(colon - listen_on);
	char *end;
	long port = strtol(colon + 1, &end, 10);

	if (*end || port < 0 || port > 65535 || hlen >= sizeof(host)) {
		snprintf(err, errlen, "[api] listen: bad address \"%s\"", listen_on);
		return -1;
	}
	memcpy(host, listen_on, hlen);
	host[hlen] = '\0';
	if (host[0] == '[' && hlen > 2 && host[hlen - 1] == ']') {   /* [::1]:8080 */
		memmove(host, host + 1, hlen - 2);
		host[hlen - 2] = '\0';
	}
	api->tcp = new_http(api, tcp_cb, &api->tcp_l, "tcp");
	if (!api->tcp || evhttp_bind_socket(api->tcp, host, (ev_uint16_t)port) != 0) {
		snprintf(err, errlen, "[api] listen: cannot listen on %s: %s", listen_on, strerror(errno));
		return -1;
	}
	if (api->deps.cfg->napi_keys == 0 && api->nskeys == 0)
		log_warnx("api: no API key ([api_key:*] or simroute keys create): every request on %s will be refused", listen_on);
	log_info("api: listening on http://%s", listen_on);
	return 0;
}

static int bind_unix(struct api *api, const char *path, int mode, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat sb;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "[api] socket: path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			snprintf(err, errlen, "[api] socket: %s exists and is not a socket", path);
			return -1;
		}
		/* A stale socket from a crash is removed; a live one means another simrouted is running. */
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(fd);
			snprintf(err, errlen, "[api] socket: %s is in use: is simrouted already running?", path);
			return -1;
		}
		if (fd >= 0)
			close(fd);
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(path, (mode_t)mode) < 0 ||
	    listen(fd, 128) < 0) {
		snprintf(err, errlen, "[api] socket: cannot listen on %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	api->unix_http = new_http(api, unix_cb, &api->unix_l, "unix");
	if (!api->unix_http || !evhttp_accept_socket_with_handle(api->unix_http, fd)) {
		snprintf(err, errlen, "[api] socket: cannot serve %s", path);
		close(fd);
		return -1;
	}
	snprintf(api->socket_path, sizeof(api->socket_path), "%s", path);
	log_info("api: listening on unix:%s", path);
	return 0;
}

/* Periodic work of the API: forget idempotency keys past their 24 h. */
static void housekeeping_cb(evutil_socket_t fd, short what, void *arg)
{
	struct api *api = arg;
	(void)fd;
	(void)what;
	if (store_idem_purge(api->deps.st, api_now_ms() - API_IDEM_KEEP_MS) < 0)
		log_warnx("api: could not purge old idempotency keys; retrying in %d s", HOUSEKEEPING_S);
}

struct api *api_new(struct event_base *base, const struct api_deps *deps, char *err, size_t errlen)
{
	struct api *api = calloc(1, sizeof(*api));
	struct timeval every = { HOUSEKEEPING_S, 0 };
	if (!api) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	api->base = base;
	api->deps = *deps;
	api->buckets = calloc(deps->cfg->napi_keys + 1, sizeof(*api->buckets));
	api->nbuckets = api->buckets ? deps->cfg->napi_keys : 0;
	api->housekeeping = event_new(base, -1, EV_PERSIST, housekeeping_cb, api);
	api->stats = api_stats_new();
	if (!api->buckets || !api->housekeeping || event_add(api->housekeeping, &every) < 0 || api_conn_init(api) < 0) {
		snprintf(err, errlen, "out of memory");
		api_free(api);
		return NULL;
	}
	if (api_keys_load(api, err, errlen) < 0) {
		api_free(api);
		return NULL;
	}
	if ((deps->cfg->api_listen[0] && bind_tcp(api, deps->cfg->api_listen, err, errlen) < 0) ||
	    (deps->cfg->api_socket[0] &&
	     bind_unix(api, deps->cfg->api_socket, deps->cfg->api_socket_mode, err, errlen) < 0)) {
		api_free(api);
		return NULL;
	}
	return api;
}

int api_keys_reloaded(struct api *api)
{
	/* Buckets start full again: a reload is rare, and a key's index may have moved. */
	struct api_bucket *b = calloc(api->deps.cfg->napi_keys + 1, sizeof(*b));
	free(api->buckets);
	api->buckets = b;
	api->nbuckets = b ? api->deps.cfg->napi_keys : 0;
	if (!b)
		log_warnx("api: out of memory for rate-limit state: rate limits off until the next reload");
	api_keys_check_names(api);
	return b ? 0 : -1;
}

void api_free(struct api *api)
{
	if (!api)
		return;
	api_backup_abort(api);
	if (api->tcp)
		evhttp_free(api->tcp);
	if (api->unix_http)
		evhttp_free(api->unix_http);
	api_conn_free(api);
	if (api->socket_path[0])
		unlink(api->socket_path);
	if (api->housekeeping)
		event_free(api->housekeeping);
	while (api->flights) {
		struct api_flight *f = api->flights;
		api->flights = f->next;
		free(f);
	}
	free(api->buckets);
	free(api->skeys);
	api_stats_free(api->stats);
	free(api);
}
