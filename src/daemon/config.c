/* config: simroute.ini (inih) parsed through one table of typed, bounded settings; errors name file:line. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "carrier/carrier.h"
#include "carrier/carrier_template.h"
#include "simroute/pdu.h"

/* CT_DURATION: a long of seconds, written "N" (in the row's unit, e.g. days) or "N" + s|m|h|d. */
enum ctype { CT_STR, CT_INT, CT_LONG, CT_OCTAL, CT_LOGLEVEL, CT_ENUM, CT_BOOL, CT_DOUBLE, CT_LANGS, CT_DURATION };

/* One row per setting of the fixed sections (STYLE: "one table row per setting"). */
struct setting {
	const char *section, *key;
	enum ctype type;
	long min, max;          /* ints: bounds; strings: max length in `max` */
	const char *def;
	const char *enum_vals;  /* CT_ENUM: "|a|b|"; CT_DURATION: unit of a bare number ("s" | "d") */
	size_t off;
	const char *doc;
	bool reloadable;        /* SIGHUP applies it (its readers look at struct config on every use) */
};

#define OFF(f) offsetof(struct config, f)
#define SZ(f) ((long)sizeof(((struct config *)0)->f) - 1)

static const struct setting settings[] = {
	{ "daemon", "state_dir", CT_STR, 1, SZ(state_dir), "/var/lib/simroute", NULL, OFF(state_dir),
	  "where the sqlite store lives", false },
	{ "daemon", "log_level", CT_LOGLEVEL, 0, 0, "info", NULL, OFF(log_level), "error | warn | info | debug", true },
	{ "daemon", "log", CT_STR, 1, SZ(log_target), "stderr", NULL, OFF(log_target),
	  "stderr | syslog | file:/path (append; reopened on SIGHUP for logrotate)", false },
	{ "daemon", "user", CT_STR, 0, SZ(user), "", NULL, OFF(user),
	  "started as root: become this user (and its groups, e.g. dialout) after opening files; empty = stay", false },
	{ "api", "listen", CT_STR, 0, SZ(api_listen), "127.0.0.1:8080", NULL, OFF(api_listen),
	  "TCP host:port; an API key is always required here; empty = off", false },
	{ "api", "socket", CT_STR, 0, SZ(api_socket), "/run/simroute/api.sock", NULL, OFF(api_socket),
	  "Unix socket; access by file mode and group, no key; empty = off", false },
	{ "api", "socket_mode", CT_OCTAL, 0, 0777, "0660", NULL, OFF(api_socket_mode), "file mode of the socket", false },
	{ "api", "socket_group", CT_STR, 0, SZ(api_socket_group), "", NULL, OFF(api_socket_group),
	  "group of the socket (its members use simroute without a key); empty = the daemon's group", false },
	{ "api", "max_body", CT_INT, 1024, 64L << 20, "1048576", NULL, OFF(api_max_body),
	  "largest request body in bytes (413 beyond)", false },
	{ "api", "max_batch", CT_INT, 1, 100000, "1000", NULL, OFF(api_max_batch),
	  "most messages in one POST /v1/messages {\"messages\": [...]} (400 beyond)", true },
	{ "api", "rate_limit", CT_INT, 0, 1000000, "200", NULL, OFF(api_rate_limit),
	  "requests per second per API key on TCP (429 beyond); 0 = no limit; the socket is not limited", true },
	{ "api", "rate_burst", CT_INT, 1, 1000000, "400", NULL, OFF(api_rate_burst),
	  "requests an API key may make at once before rate_limit applies", true },
	{ "api", "max_connections", CT_INT, 1, 65536, "512", NULL, OFF(api_max_connections),
	  "open connections per listener (TCP and the socket each) before new ones get a 503 and are closed", true },
	{ "api", "timeout", CT_INT, 1, 3600, "30", NULL, OFF(api_timeout),
	  "seconds a connection may make no progress (request headers or body, reply, idle keep-alive) before it is closed",
	  false },
	{ "store", "backend", CT_ENUM, 0, SZ(store_backend), "sqlite", "|sqlite|postgresql|", OFF(store_backend),
	  "queue backend: sqlite (one node, the file at path) | postgresql (several nodes on one queue, at dsn)", false },
	{ "store", "dsn", CT_STR, 0, SZ(store_dsn), "", NULL, OFF(store_dsn),
	  "libpq connection string of the postgresql backend, e.g. host=db1 dbname=simroute user=simroute", false },
	{ "store", "node_id", CT_STR, 0, SZ(store_node_id), "", NULL, OFF(store_node_id),
	  "postgresql: this node's name among those sharing the queue (1..63 of A-Z a-z 0-9 _ . -); empty = the host name",
	  false },
	{ "store", "lease_s", CT_INT, 2, 3600, "30", NULL, OFF(store_lease_s),
	  "postgresql: seconds a node's claim on a message lasts without its heartbeat; then another node takes it back",
	  false },
	{ "store", "path", CT_STR, 0, SZ(store_path), "", NULL, OFF(store_path),
	  "database file; empty = <state_dir>/simroute.db", false },
	{ "store", "body_retention_days", CT_DURATION, 0, 100L * 365 * 86400, "30", "d", OFF(body_retention_s),
	  "days after its last change a finished message's text (and an inbound text) is erased, metadata "
	  "kept; 0 = forever; also N s|m|h|d", true },
	{ "store", "retention_days", CT_DURATION, 0, 100L * 365 * 86400, "365", "d", OFF(retention_s),
	  "days after which finished messages (with parts and timeline), inbound SMS and delivered or given-up "
	  "webhook rows are deleted; 0 = forever; >= body_retention_days; also N s|m|h|d", true },
	{ "router", "max_parts", CT_INT, 1, 255, "10", NULL, OFF(max_parts),
	  "most parts one message may be split into (400 beyond)", false },
	{ "router", "max_attempts", CT_INT, 1, 100, "5", NULL, OFF(max_attempts),
	  "send attempts before a message fails", false },
	{ "otp", "ttl", CT_INT, 10, 86400, "300", NULL, OFF(otp_ttl), "seconds an OTP stays useful", true },
	{ "otp", "modem_deadline", CT_INT, 1, 3600, "10", NULL, OFF(otp_modem_deadline),
	  "seconds an OTP waits for a modem before it goes to the carrier", false },
	{ "router", "carrier_after", CT_INT, 0, 30 * 86400, "300", NULL, OFF(carrier_after),
	  "seconds a normal message waits for a modem before the carrier; 0 = never", false },
	{ "router", "bulk_carrier_after", CT_INT, 0, 30 * 86400, "0", NULL, OFF(bulk_carrier_after),
	  "seconds a bulk message waits for a modem before the carrier; 0 = never", false },
	{ "router", "cooldown", CT_INT, 1, 86400, "60", NULL, OFF(cooldown),
	  "seconds a SIM rests after a failing streak or a cool-down error (doubles, capped)", false },
	{ "router", "breaker_threshold", CT_INT, 1, 100, "3", NULL, OFF(breaker_threshold),
	  "consecutive failures that take a SIM out of rotation", false },
	{ "router", "national_languages", CT_LANGS, 0, 0, "", NULL, OFF(national_languages),
	  "national shift tables (TS 23.038 6.2.1) a message may use when it names none: tr, es, pt, bn, gu, hi, "
	  "kn, ml, or, pa, ta, te, ur; empty: the default alphabet and UCS-2 only", true },
	{ "router", "weight_signal", CT_DOUBLE, 0, 100, "1.0", NULL, OFF(weight_signal),
	  "route score: weight of the signal (CSQ 0..31 as 0..1)", true },
	{ "router", "weight_failure", CT_DOUBLE, 0, 100, "2.0", NULL, OFF(weight_failure),
	  "route score: weight of health (1 - recent failure rate)", true },
	{ "router", "weight_latency", CT_DOUBLE, 0, 100, "0.25", NULL, OFF(weight_latency),
	  "route score: weight of speed (1 / (1 + send latency / 3 s))", true },
	{ "router", "weight_headroom", CT_DOUBLE, 0, 100, "0.5", NULL, OFF(weight_headroom),
	  "route score: weight of the quota left (tightest window, 0..1)", true },
	{ "router", "weight_affinity", CT_DOUBLE, 0, 100, "1.0", NULL, OFF(weight_affinity),
	  "route score: bonus when the destination matches the SIM's prefixes", true },
	/* Quotas and weights are read by the scheduler per dispatch: SIGHUP applies them to running routes. */
	{ "quota", "minute", CT_LONG, 0, 1000000000, "0", NULL, OFF(quota[0]), "segments per SIM per minute; 0 = no limit", true },
	{ "quota", "hour", CT_LONG, 0, 1000000000, "0", NULL, OFF(quota[1]), "segments per SIM per hour", true },
	{ "quota", "day", CT_LONG, 0, 1000000000, "0", NULL, OFF(quota[2]), "segments per SIM per day", true },
	{ "quota", "month", CT_LONG, 0, 1000000000, "0", NULL, OFF(quota[3]), "segments per SIM per month", true },
	{ "quota", "recipients_day", CT_LONG, 0, 1000000000, "0", NULL, OFF(quota_recipients[0]),
	  "distinct recipients per SIM per day (a repeat costs nothing); 0 = no limit", true },
	{ "quota", "recipients_month", CT_LONG, 0, 1000000000, "0", NULL, OFF(quota_recipients[1]),
	  "distinct recipients per SIM per calendar month; 0 = no limit", true },
	{ "quota", "timezone", CT_STR, 0, SZ(quota_timezone), "", NULL, OFF(quota_timezone),
	  "zone of the calendar windows, e.g. Europe/London; empty = the system's", false },
	{ "router", "normal_ttl", CT_INT, 10, 30 * 86400, "86400", NULL, OFF(normal_ttl),
	  "default ttl (s) of a normal message", true },
	{ "router", "bulk_ttl", CT_INT, 10, 30 * 86400, "259200", NULL, OFF(bulk_ttl),
	  "default ttl (s) of a bulk message", true },
	{ "inbound", "reassembly_timeout", CT_INT, 1, 7 * 86400, "600", NULL, OFF(inbound_reassembly_timeout),
	  "seconds a concatenated inbound SMS waits for its missing parts before it is listed incomplete", true },
	{ "optout", "stop_keywords", CT_STR, 0, SZ(optout_stop_keywords), "STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT",
	  NULL, OFF(optout_stop_keywords),
	  "an inbound SMS that is exactly one of these (trimmed, any case) puts its sender on the opt-out list; "
	  "empty = off", true },
	{ "optout", "start_keywords", CT_STR, 0, SZ(optout_start_keywords), "START, UNSTOP, YES", NULL,
	  OFF(optout_start_keywords), "an inbound SMS that is exactly one of these takes its sender off the list", true },
	{ "optout", "otp_bypass", CT_BOOL, 0, 0, "true", NULL, OFF(optout_otp_bypass),
	  "priority otp messages are sent to opted-out numbers too (transactional, not marketing)", true },
	{ "webhook", "url", CT_STR, 0, SZ(webhook_url), "", NULL, OFF(webhook_url),
	  "where message and inbound events are POSTed (a message's callback_url wins); empty = none", false },
	{ "webhook", "secret", CT_STR, 0, SZ(webhook_secret), "", NULL, OFF(webhook_secret),
	  "HMAC-SHA256 key of X-Simroute-Signature; empty = unsigned (warned at start-up)", false },
	{ "webhook", "timeout_ms", CT_INT, 100, 600000, "5000", NULL, OFF(webhook_timeout_ms),
	  "whole request to a receiver", false },
	{ "webhook", "max_age", CT_INT, 60, 30 * 86400, "86400", NULL, OFF(webhook_max_age),
	  "seconds an event is retried (5 s doubling, capped 1 h) before it is given up", false },
	{ "webhook", "max_inflight", CT_INT, 1, 256, "4", NULL, OFF(webhook_max_inflight),
	  "requests to receivers at once", false },
	{ "modems", "scan", CT_STR, 0, SZ(modems_scan), "", NULL, OFF(modems_scan),
	  "glob: every matching port becomes a modem", false },
	{ "modems", "scan_glob", CT_STR, 0, SZ(modems_scan_glob), "/dev/serial/by-id/* /dev/ttyUSB* /dev/ttyACM*", NULL,
	  OFF(modems_scan_glob),
	  "space-separated globs where a modem configured by imei is looked for while it is absent", false },
	{ "modems", "rescan_interval", CT_INT, 0, 3600, "5", NULL, OFF(rescan_interval),
	  "seconds between looks for absent modems configured by imei; 0 = never", false },
	{ "modems", "probe_timeout_ms", CT_INT, 100, 60000, "2000", NULL, OFF(probe_timeout_ms),
	  "how long a candidate port has to answer AT+CGSN", false },
	{ "modems", "command_timeout_ms", CT_INT, 100, 600000, "5000", NULL, OFF(command_timeout_ms),
	  "timeout of one AT command", false },
	{ "modems", "send_timeout_ms", CT_INT, 1000, 600000, "60000", NULL, OFF(send_timeout_ms),
	  "timeout of AT+CMGS, from the PDU to +CMGS", false },
	{ "modems", "poll_interval_ms", CT_INT, 1000, 3600000, "30000", NULL, OFF(poll_interval_ms),
	  "signal and registration poll of a ready modem", false },
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

struct parse {
	struct config *cfg;
	const char *file;
	int line;
	char *err;
	size_t errlen;
	int failed;
	char last_section[128];
};

static int fail(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parse *p, const char *fmt, ...)
{
	if (!p->failed) {
		va_list ap;
		int n = snprintf(p->err, p->errlen, "%s:%d: ", p->file, p->line);
		va_start(ap, fmt);
		if (n > 0 && (size_t)n < p->errlen)
			vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	p->failed = 1;
	return 0;
}

static int parse_long(const char *v, int base, long *out)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, base);
	if (errno || end == v || *end != '\0')
		return -1;
	*out = n;
	return 0;
}

/* Seconds of a bare number of a CT_DURATION row. */
static long duration_unit(const struct setting *s)
{
	return s->enum_vals && strcmp(s->enum_vals, "d") == 0 ? 86400 : 1;
}

int config_parse_duration(const char *v, long unit, long *out_s)
{
	static const struct { char c; long s; } units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
	char buf[32], *end;
	size_t len = strlen(v);
	long mult = unit;

	if (len == 0 || len >= sizeof(buf) || !isdigit((unsigned char)v[0]))
		return -1;
	memcpy(buf, v, len + 1);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (buf[len - 1] == units[i].c) {
			mult = units[i].s;
			buf[--len] = '\0';
			break;
		}
	}
	errno = 0;
	long n = strtol(buf, &end, 10);
	if (errno || end == buf || *end || n < 0 || n > LONG_MAX / mult)
		return -1;
	*out_s = n * mult;
	return 0;
}

static int set_value(struct parse *p, const struct setting *s, const char *val)
{
	char *dst = (char *)p->cfg + s->off;
	long n;
	char range[64];

	switch (s->type) {
	case CT_STR:
		if ((long)strlen(val) > s->max || (long)strlen(val) < s->min)
			return fail(p, "[%s] %s: value too long or empty", s->section, s->key);
		strcpy(dst, val);
		return 1;
	case CT_LANGS: {
		/* "tr, es pt": a list of codes, commas or spaces between */
		unsigned mask = 0;
		char buf[256], *save = NULL;
		if (strlen(val) >= sizeof(buf))
			return fail(p, "%s: value too long", s->key);
		strcpy(buf, val);
		for (char *t = strtok_r(buf, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
			int lang = pdu_lang_parse(t);
			if (lang < 0)
				return fail(p, "%s: unknown language code \"%s\" (tr, es, pt, bn, gu, hi, kn, ml, or, pa, "
					    "ta, te, ur)", s->key, t);
			mask |= 1u << lang;
		}
		*(unsigned *)(void *)dst = mask;
		return 1;
	}
	case CT_ENUM: {
		char pat[64];
		snprintf(pat, sizeof(pat), "|%s|", val);
		if (!*val || strstr(s->enum_vals, pat) == NULL)
			return fail(p, "%s: invalid value \"%s\"", s->key, val);
		strcpy(dst, val);
		return 1;
	}
	case CT_INT:
	case CT_OCTAL:
		if (parse_long(val, s->type == CT_OCTAL ? 8 : 10, &n) < 0)
			return fail(p, "%s: not a number: \"%s\"", s->key, val);
		if (n < s->min || n > s->max) {
			snprintf(range, sizeof(range), "%ld..%ld", s->min, s->max);
			return fail(p, "%s: out of range (%s)", s->key, range);
		}
		*(int *)(void *)dst = (int)n;
		return 1;
	case CT_LONG:
		if (parse_long(val, 10, &n) < 0)
			return fail(p, "%s: not a number: \"%s\"", s->key, val);
		if (n < s->min || n > s->max) {
			snprintf(range, sizeof(range), "%ld..%ld", s->min, s->max);
			return fail(p, "%s: out of range (%s)", s->key, range);
		}
		*(long *)(void *)dst = n;
		return 1;
	case CT_DURATION:
		if (config_parse_duration(val, duration_unit(s), &n) < 0)
			return fail(p, "%s: not a duration: \"%s\" (a number, or a number with s, m, h or d)", s->key, val);
		if (n < s->min || n > s->max) {
			snprintf(range, sizeof(range), "%ld..%ld s", s->min, s->max);
			return fail(p, "%s: out of range (%s)", s->key, range);
		}
		*(long *)(void *)dst = n;
		return 1;
	case CT_BOOL:
		if (!strcasecmp(val, "true") || !strcasecmp(val, "yes") || !strcasecmp(val, "on") || !strcmp(val, "1"))
			*(bool *)(void *)dst = true;
		else if (!strcasecmp(val, "false") || !strcasecmp(val, "no") || !strcasecmp(val, "off") || !strcmp(val, "0"))
			*(bool *)(void *)dst = false;
		else
			return fail(p, "%s: invalid value \"%s\" (true | false)", s->key, val);
		return 1;
	case CT_DOUBLE: {
		char *end;
		errno = 0;
		double d = strtod(val, &end);
		if (errno || end == val || *end != '\0' || d != d)
			return fail(p, "%s: not a number: \"%s\"", s->key, val);
		if (d < (double)s->min || d > (double)s->max) {
			snprintf(range, sizeof(range), "%ld..%ld", s->min, s->max);
			return fail(p, "%s: out of range (%s)", s->key, range);
		}
		*(double *)(void *)dst = d;
		return 1;
	}
	case CT_LOGLEVEL:
		if (log_level_parse(val, (enum log_level *)(void *)dst) < 0)
			return fail(p, "%s: invalid value \"%s\" (error | warn | info | debug)", s->key, val);
		return 1;
	}
	return fail(p, "%s: internal: bad type", s->key);
}

static int valid_name(const char *name)
{
	if (!*name || strlen(name) >= CONFIG_NAME_MAX)
		return 0;
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
			return 0;
	return 1;
}

static struct config_modem *modem_section(struct parse *p, const char *name)
{
	struct config *cfg = p->cfg;
	for (size_t i = 0; i < cfg->nmodems; i++)
		if (strcmp(cfg->modems[i].name, name) == 0)
			return &cfg->modems[i];
	struct config_modem *m = realloc(cfg->modems, (cfg->nmodems + 1) * sizeof(*m));
	if (!m)
		return NULL;
	cfg->modems = m;
	m = &cfg->modems[cfg->nmodems++];
	memset(m, 0, sizeof(*m));
	strcpy(m->name, name);
	m->baud = 115200;
	for (int i = 0; i < 4; i++)
		m->quota[i] = -1;
	m->recipients[0] = m->recipients[1] = -1;
	m->line = p->line;
	return m;
}

static struct config_api_key *key_section(struct parse *p, const char *name)
{
	struct config *cfg = p->cfg;
	for (size_t i = 0; i < cfg->napi_keys; i++)
		if (strcmp(cfg->api_keys[i].name, name) == 0)
			return &cfg->api_keys[i];
	struct config_api_key *k = realloc(cfg->api_keys, (cfg->napi_keys + 1) * sizeof(*k));
	if (!k)
		return NULL;
	cfg->api_keys = k;
	k = &cfg->api_keys[cfg->napi_keys++];
	memset(k, 0, sizeof(*k));
	strcpy(k->name, name);
	k->line = p->line;
	return k;
}

static int parse_hex32(const char *hex, unsigned char out[32])
{
	if (strlen(hex) != 64)
		return -1;
	for (int i = 0; i < 32; i++) {
		unsigned v = 0;
		for (int j = 0; j < 2; j++) {
			char c = hex[2 * i + j];
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				v |= (unsigned)(c - 'A' + 10);
			else
				return -1;
		}
		out[i] = (unsigned char)v;
	}
	return 0;
}

static int parse_scopes(const char *val, unsigned *out)
{
	char buf[128];
	unsigned scopes = 0;
	if (strlen(val) >= sizeof(buf))
		return -1;
	strcpy(buf, val);
	for (char *save = NULL, *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (strcmp(tok, "send") == 0)
			scopes |= SCOPE_SEND;
		else if (strcmp(tok, "read") == 0)
			scopes |= SCOPE_READ;
		else if (strcmp(tok, "admin") == 0)
			scopes |= SCOPE_ADMIN | SCOPE_SEND | SCOPE_READ;
		else
			return -1;
	}
	*out = scopes;
	return scopes ? 0 : -1;
}

static int parse_bool(const char *v)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1"))
		return 1;
	if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0"))
		return 0;
	return -1;
}

/* "+4477, +4478": E.164 leading digits, "+" optional in the file, stored with it. */
static int parse_prefixes(struct parse *p, struct config_modem *m, const char *val)
{
	char buf[512];
	m->nprefixes = 0;
	if (strlen(val) >= sizeof(buf))
		return fail(p, "prefixes: too long");
	strcpy(buf, val);
	for (char *save = NULL, *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		const char *d = *tok == '+' ? tok + 1 : tok;
		size_t n = strlen(d);
		if (n < 1 || n > 15 || strspn(d, "0123456789") != n || *d == '0')
			return fail(p, "prefixes: invalid prefix \"%s\" (1 to 15 digits after an optional +, no leading 0)",
				    tok);
		if (m->nprefixes == CONFIG_PREFIXES_MAX)
			return fail(p, "prefixes: at most %d prefixes", CONFIG_PREFIXES_MAX);
		snprintf(m->prefixes[m->nprefixes++], CONFIG_PREFIX_LEN, "+%s", d);
	}
	return 1;
}

static int handle_modem_key(struct parse *p, const char *name, const char *key, const char *val)
{
	struct config_modem *m = modem_section(p, name);
	long n;
	if (!m)
		return fail(p, "out of memory");
	if (key == NULL)
		return 1;
	if (strcmp(key, "port") == 0) {
		if (!*val || strlen(val) >= sizeof(m->port))
			return fail(p, "[modem:%s] port: empty or too long", name);
		strcpy(m->port, val);
	} else if (strcmp(key, "dialect") == 0) {
		if (strcmp(val, "generic") && strcmp(val, "sim800") && strcmp(val, "quectel") && strcmp(val, "huawei"))
			return fail(p, "dialect: invalid value \"%s\" (generic | sim800 | quectel | huawei)", val);
		strcpy(m->dialect, val);
	} else if (strcmp(key, "pin") == 0) {
		/* Digits only: the PIN goes into AT+CPIN="..." and must not carry anything else. */
		if (strlen(val) < 4 || strlen(val) > 8 || strspn(val, "0123456789") != strlen(val))
			return fail(p, "pin: expected 4 to 8 digits");
		strcpy(m->pin, val);
	} else if (strcmp(key, "quota_recipients_day") == 0 || strcmp(key, "quota_recipients_month") == 0) {
		if (parse_long(val, 10, &n) < 0 || n < 0 || n > 1000000000)
			return fail(p, "%s: invalid value \"%s\" (0..1000000000 recipients; 0 = no limit)", key, val);
		m->recipients[key[17] == 'm'] = n;
	} else if (strcmp(key, "prefixes") == 0) {
		return parse_prefixes(p, m, val);
	} else if (strcmp(key, "restrict_prefixes") == 0) {
		int b = parse_bool(val);
		if (b < 0)
			return fail(p, "restrict_prefixes: invalid value \"%s\" (yes | no)", val);
		m->restrict_prefixes = b;
	} else if (strncmp(key, "quota_", 6) == 0) {
		static const char *const win[4] = { "minute", "hour", "day", "month" };
		int w = -1;
		for (int i = 0; i < 4; i++)
			if (strcmp(key + 6, win[i]) == 0)
				w = i;
		if (w < 0)
			return fail(p, "unknown key \"%s\" in [modem:%s]", key, name);
		if (parse_long(val, 10, &n) < 0 || n < 0 || n > 1000000000)
			return fail(p, "%s: invalid value \"%s\" (0..1000000000 segments; 0 = no limit)", key, val);
		m->quota[w] = n;
	} else if (strcmp(key, "imei") == 0) {
		if (!config_imei_valid(val))
			return fail(p, "[modem:%s] imei: expected 15 digits, got \"%.32s\"", name, val);
		strcpy(m->imei, val);
	} else if (strcmp(key, "iccid") == 0) {
		if (config_iccid_normalise(m->iccid, sizeof(m->iccid), val) < 0)
			return fail(p, "[modem:%s] iccid: expected 18 to 22 digits (a trailing F allowed), got \"%.32s\"",
				    name, val);
	} else if (strcmp(key, "baud") == 0) {
		if (parse_long(val, 10, &n) < 0 || n < 1200 || n > 4000000)
			return fail(p, "baud: invalid value \"%s\" (1200..4000000)", val);
		m->baud = (int)n;
	} else {
		return fail(p, "unknown key \"%s\" in [modem:%s]", key, name);
	}
	return 1;
}

static int handle_key_key(struct parse *p, const char *name, const char *key, const char *val)
{
	struct config_api_key *k = key_section(p, name);
	if (!k)
		return fail(p, "out of memory");
	if (key == NULL)
		return 1;
	if (strcmp(key, "hash") == 0) {
		if (strncmp(val, "sha256:", 7) != 0 || parse_hex32(val + 7, k->sha256) < 0)
			return fail(p, "hash: expected sha256:<64 hex digits>");
	} else if (strcmp(key, "scopes") == 0) {
		if (parse_scopes(val, &k->scopes) < 0)
			return fail(p, "scopes: invalid value \"%s\" (send, read, admin)", val);
	} else if (strcmp(key, "mask_numbers") == 0) {
		int b = parse_bool(val);
		if (b < 0)
			return fail(p, "mask_numbers: invalid value \"%s\" (yes | no)", val);
		k->mask_numbers = b;
	} else {
		return fail(p, "unknown key \"%s\" in [api_key:%s]", key, name);
	}
	return 1;
}

static struct config_carrier *carrier_section(struct parse *p, const char *name)
{
	struct config *cfg = p->cfg;
	for (size_t i = 0; i < cfg->ncarriers; i++)
		if (strcmp(cfg->carriers[i].name, name) == 0)
			return &cfg->carriers[i];
	struct config_carrier *c = realloc(cfg->carriers, (cfg->ncarriers + 1) * sizeof(*c));
	if (!c)
		return NULL;
	cfg->carriers = c;
	c = &cfg->carriers[cfg->ncarriers++];
	memset(c, 0, sizeof(*c));
	strcpy(c->name, name);
	c->timeout_ms = 15000;
	c->max_inflight = 8;
	c->line = p->line;
	return c;
}

static int set_str(struct parse *p, char *dst, size_t size, const char *key, const char *val)
{
	if (strlen(val) >= size)
		return fail(p, "%s: too long (at most %zu characters)", key, size - 1);
	strcpy(dst, val);
	return 1;
}

/* `template` (inline JSON) or `template_file` (read now, relative to the config file's directory):
 * checked here so an error names this line. */
static int carrier_template_key(struct parse *p, struct config_carrier *c, const char *key, const char *val)
{
	char err[200], path[2 * CONFIG_PATH_MAX];
	const char *text = val;
	char *buf = NULL;

	if (c->template_json[0])
		return fail(p, "%s: the carrier already has a template (template or template_file, once)", key);
	if (strcmp(key, "template_file") == 0) {
		const char *slash = strrchr(p->file, '/');
		if (val[0] != '/' && slash)
			snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - p->file), p->file, val);
		else
			snprintf(path, sizeof(path), "%s", val);
		FILE *f = fopen(path, "r");
		if (!f)
			return fail(p, "template_file: %s: %s", path, strerror(errno));
		buf = calloc(1, CONFIG_TEMPLATE_MAX + 1);
		size_t n = buf ? fread(buf, 1, CONFIG_TEMPLATE_MAX, f) : 0;
		int big = buf && n == CONFIG_TEMPLATE_MAX && fgetc(f) != EOF;
		fclose(f);
		if (!buf)
			return fail(p, "out of memory");
		if (big || strlen(buf) != n) {
			free(buf);
			return fail(p, "template_file: %s: larger than %d bytes or holds a NUL", path, CONFIG_TEMPLATE_MAX - 1);
		}
		text = buf;
	}
	json_t *tpl = carrier_template_parse(text, err, sizeof(err));
	if (!tpl) {
		free(buf);
		return fail(p, "[carrier:%s] %s", c->name, err);
	}
	json_decref(tpl);
	int rc = set_str(p, c->template_json, sizeof(c->template_json), key, text);
	free(buf);
	return rc;
}

static int handle_carrier_key(struct parse *p, const char *name, const char *key, const char *val)
{
	struct config_carrier *c = carrier_section(p, name);
	long n;
	if (!c)
		return fail(p, "out of memory");
	if (key == NULL)
		return 1;
	if (strcmp(key, "type") == 0) {
		if (strcmp(val, "http") && strcmp(val, "twilio"))
			return fail(p, "type: invalid value \"%s\" (http | twilio)", val);
		return set_str(p, c->type, sizeof(c->type), key, val);
	}
	if (strcmp(key, "url") == 0) {
		if (strncmp(val, "http://", 7) && strncmp(val, "https://", 8))
			return fail(p, "url: expected http:// or https://");
		return set_str(p, c->url, sizeof(c->url), key, val);
	}
	if (strcmp(key, "token") == 0)
		return set_str(p, c->token, sizeof(c->token), key, val);
	if (strcmp(key, "account_sid") == 0)
		return set_str(p, c->account_sid, sizeof(c->account_sid), key, val);
	if (strcmp(key, "auth_token") == 0)
		return set_str(p, c->auth_token, sizeof(c->auth_token), key, val);
	if (strcmp(key, "from") == 0)
		return set_str(p, c->from, sizeof(c->from), key, val);
	if (strcmp(key, "header") == 0) {
		char err[160];
		if (carrier_header_check(val, err, sizeof(err)) < 0)
			return fail(p, "[carrier:%s] %s", name, err);
		if (c->nheaders >= CONFIG_CARRIER_HEADERS)
			return fail(p, "header: at most %d per carrier", CONFIG_CARRIER_HEADERS);
		return set_str(p, c->headers[c->nheaders++], sizeof(c->headers[0]), key, val);
	}
	if (strcmp(key, "template") == 0 || strcmp(key, "template_file") == 0)
		return carrier_template_key(p, c, key, val);
	if (strcmp(key, "response_id") == 0)
		return set_str(p, c->response_id, sizeof(c->response_id), key, val);
	if (strcmp(key, "status_callback_url") == 0) {
		if (strncmp(val, "http://", 7) && strncmp(val, "https://", 8))
			return fail(p, "status_callback_url: expected http:// or https://");
		for (const char *q = val; *q; q++)
			if ((unsigned char)*q <= 0x20 || *q == 0x7f)
				return fail(p, "status_callback_url: spaces or control characters in the URL");
		return set_str(p, c->status_callback_url, sizeof(c->status_callback_url), key, val);
	}
	if (strcmp(key, "callback_secret") == 0)
		return set_str(p, c->callback_secret, sizeof(c->callback_secret), key, val);
	if (strcmp(key, "timeout_ms") == 0 || strcmp(key, "max_inflight") == 0) {
		int t = key[0] == 't';
		if (parse_long(val, 10, &n) < 0 || n < (t ? 100 : 1) || n > (t ? 600000 : 1000))
			return fail(p, "%s: invalid value \"%s\" (%s)", key, val, t ? "100..600000" : "1..1000");
		*(t ? &c->timeout_ms : &c->max_inflight) = (int)n;
		return 1;
	}
	return fail(p, "unknown key \"%s\" in [carrier:%s]", key, name);
}

/* Called with key == NULL when a section starts (inih's section callback is not used). */
static int handle(void *user, const char *section, const char *key, const char *val)
{
	struct parse *p = user;
	const char *colon = strchr(section, ':');

	if (p->failed)
		return 0;
	if (colon) {
		const char *name = colon + 1;
		size_t plen = (size_t)(colon - section);
		if (!valid_name(name))
			return fail(p, "[%s]: invalid name (letters, digits, - _ .)", section);
		if (plen == 5 && strncmp(section, "modem", 5) == 0)
			return handle_modem_key(p, name, key, val);
		if (plen == 7 && strncmp(section, "api_key", 7) == 0)
			return handle_key_key(p, name, key, val);
		if (plen == 7 && strncmp(section, "carrier", 7) == 0)
			return handle_carrier_key(p, name, key, val);
		return fail(p, "unknown section [%s]", section);
	}
	for (size_t i = 0; i < NSETTINGS; i++) {
		if (strcmp(settings[i].section, section) != 0)
			continue;
		if (key == NULL)
			return 1;
		if (strcmp(settings[i].key, key) == 0)
			return set_value(p, &settings[i], val);
	}
	if (key == NULL)
		return fail(p, "unknown section [%s]", section);
	for (size_t i = 0; i < NSETTINGS; i++)
		if (strcmp(settings[i].section, section) == 0)
			return fail(p, "unknown key \"%s\" in [%s]", key, section);
	return fail(p, "unknown section [%s]", section);
}

static int handler(void *user, const char *section, const char *key, const char *val)
{
	struct parse *p = user;
	if (!*section)
		return fail(p, "key \"%s\" outside any section", key);
	if (strcmp(section, p->last_section) != 0) {
		snprintf(p->last_section, sizeof(p->last_section), "%s", section);
		if (!handle(p, section, NULL, NULL))
			return 0;
	}
	return handle(p, section, key, val);
}

/* fgets that counts lines, so the handler knows where it is (Debian's inih has no INI_HANDLER_LINENO). */
static char *reader(char *str, int num, void *stream)
{
	struct { FILE *f; struct parse *p; } *rs = stream;
	char *r = fgets(str, num, rs->f);
	if (!r)
		return NULL;
	rs->p->line++;
	size_t n = strlen(r);
	if (n == (size_t)num - 1 && r[n - 1] != '\n' && !feof(rs->f))   /* inih would read the rest as another line */
		fail(rs->p, "line longer than %d characters (a long carrier template goes in template_file)", num - 2);
	/* Sections are checked where they start (inih only reports them with their first key). */
	const char *s = r + strspn(r, " \t");
	const char *end = *s == '[' ? strchr(s, ']') : NULL;
	if (*s == '[' && !end)
		fail(rs->p, "syntax error: section header without ']'");
	if (end && !rs->p->failed) {
		char name[128];
		snprintf(name, sizeof(name), "%.*s", (int)(end - s - 1), s + 1);
		snprintf(rs->p->last_section, sizeof(rs->p->last_section), "%s", name);
		handle(rs->p, name, NULL, NULL);
	}
	return r;
}

static void set_defaults(struct config *cfg)
{
	struct parse p = { .cfg = cfg, .file = "(defaults)", .err = NULL, .errlen = 0 };
	char dummy[8];
	p.err = dummy;
	p.errlen = sizeof(dummy);
	for (size_t i = 0; i < NSETTINGS; i++)
		set_value(&p, &settings[i], settings[i].def);
}

int config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
	struct parse p = { .cfg = cfg, .file = path, .err = err, .errlen = errlen };
	struct { FILE *f; struct parse *p; } rs;

	memset(cfg, 0, sizeof(*cfg));
	set_defaults(cfg);
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	rs.f = fopen(path, "r");
	if (!rs.f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rs.p = &p;
	ini_allow_multiline = false;  /* a continuation line would throw the line count off */
	int rc = ini_parse_stream(reader, &rs, handler, &p);
	fclose(rs.f);
	if (p.failed)
		goto bad;
	if (rc != 0) {
		snprintf(err, errlen, "%s:%d: syntax error", path, rc > 0 ? rc : p.line);
		goto bad;
	}
	for (size_t i = 0; i < cfg->nmodems; i++) {
		/* without a port, the modem is found by its IMEI ([modems] scan_glob) */
		if (!cfg->modems[i].port[0] && !cfg->modems[i].imei[0]) {
			snprintf(err, errlen, "%s:%d: [modem:%s] has no port (or imei to find it by)", path,
				 cfg->modems[i].line, cfg->modems[i].name);
			goto bad;
		}
		for (size_t j = 0; j < i; j++) {
			if (cfg->modems[i].imei[0] && strcmp(cfg->modems[i].imei, cfg->modems[j].imei) == 0) {
				snprintf(err, errlen, "%s:%d: [modem:%s] imei %s is [modem:%s]'s too", path,
					 cfg->modems[i].line, cfg->modems[i].name, cfg->modems[i].imei,
					 cfg->modems[j].name);
				goto bad;
			}
		}
		/* a SIM restricted to no prefix would never send: surely a mistake */
		if (cfg->modems[i].restrict_prefixes && cfg->modems[i].nprefixes == 0) {
			snprintf(err, errlen, "%s:%d: [modem:%s] restrict_prefixes = yes needs prefixes", path,
				 cfg->modems[i].line, cfg->modems[i].name);
			goto bad;
		}
	}
	for (size_t i = 0; i < cfg->napi_keys; i++) {
		static const unsigned char zero[32];
		if (memcmp(cfg->api_keys[i].sha256, zero, 32) == 0 || !cfg->api_keys[i].scopes) {
			snprintf(err, errlen, "%s:%d: [api_key:%s] needs hash and scopes", path, cfg->api_keys[i].line,
				 cfg->api_keys[i].name);
			goto bad;
		}
	}
	for (size_t i = 0; i < cfg->ncarriers; i++) {
		const struct config_carrier *c = &cfg->carriers[i];
		const char *missing = !c->type[0] ? "type" : !c->url[0] ? "url" : NULL;
		if (!missing && strcmp(c->type, "twilio") == 0)
			missing = !c->account_sid[0] ? "account_sid" : !c->auth_token[0] ? "auth_token" : !c->from[0] ? "from" : NULL;
		if (missing) {
			snprintf(err, errlen, "%s:%d: [carrier:%s] needs %s", path, c->line, c->name, missing);
			goto bad;
		}
		if (strcmp(c->type, "twilio") == 0 && c->template_json[0]) {
			snprintf(err, errlen, "%s:%d: [carrier:%s] template: only for type = http (Twilio takes a form)",
				 path, c->line, c->name);
			goto bad;
		}
	}
	if (cfg->webhook_url[0] && strncmp(cfg->webhook_url, "http://", 7) != 0 &&
	    strncmp(cfg->webhook_url, "https://", 8) != 0) {
		snprintf(err, errlen, "%s: [webhook] url: expected an http:// or https:// URL", path);
		goto bad;
	}
	if (cfg->store_node_id[0] && strspn(cfg->store_node_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					    "0123456789_.-") != strlen(cfg->store_node_id)) {
		snprintf(err, errlen, "%s: [store] node_id: only A-Z a-z 0-9 _ . - (got \"%s\")", path, cfg->store_node_id);
		goto bad;
	}
	if (strcmp(cfg->store_backend, "postgresql") == 0 && !cfg->store_dsn[0]) {
		snprintf(err, errlen, "%s: [store] backend = postgresql needs dsn", path);
		goto bad;
	}
	if (cfg->retention_s && cfg->body_retention_s && cfg->retention_s < cfg->body_retention_s) {
		snprintf(err, errlen, "%s: [store] retention_days must be >= body_retention_days (or 0 = forever)", path);
		goto bad;
	}
	if (strcmp(cfg->log_target, "stderr") != 0 && strcmp(cfg->log_target, "syslog") != 0 &&
	    (strncmp(cfg->log_target, "file:/", 6) != 0)) {
		snprintf(err, errlen, "%s: [daemon] log: expected stderr, syslog or file:/absolute/path, got \"%s\"", path,
			 cfg->log_target);
		goto bad;
	}
	if (!cfg->api_listen[0] && !cfg->api_socket[0]) {
		snprintf(err, errlen, "%s: [api] needs listen or socket (or both)", path);
		goto bad;
	}
	if (cfg->api_listen[0] && !strrchr(cfg->api_listen, ':')) {
		snprintf(err, errlen, "%s: [api] listen: expected host:port, got \"%s\"", path, cfg->api_listen);
		goto bad;
	}
	return 0;
bad:
	config_free(cfg);
	return -1;
}

bool config_imei_valid(const char *imei)
{
	return strlen(imei) == 15 && strspn(imei, "0123456789") == 15;
}

int config_iccid_normalise(char *out, size_t n, const char *iccid)
{
	size_t len = strlen(iccid), digits = strspn(iccid, "0123456789");

	if (digits + 1 == len && (iccid[digits] == 'F' || iccid[digits] == 'f'))
		len = digits;
	if (digits != len || len < 18 || len > 22 || len >= n)
		return -1;
	memcpy(out, iccid, len);
	out[len] = '\0';
	return 0;
}

int config_scan_modems(struct config *cfg, char *err, size_t errlen)
{
	glob_t g;
	int added = 0;
	if (!cfg->modems_scan[0])
		return 0;
	int rc = glob(cfg->modems_scan, 0, NULL, &g);
	if (rc == GLOB_NOMATCH)
		return 0;
	if (rc != 0) {
		snprintf(err, errlen, "[modems] scan: glob failed for %s", cfg->modems_scan);
		return -1;
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *path = g.gl_pathv[i];
		const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		int dup = 0;
		for (size_t j = 0; j < cfg->nmodems; j++)
			if (strcmp(cfg->modems[j].port, path) == 0 || strcmp(cfg->modems[j].name, base) == 0)
				dup = 1;
		if (dup || !valid_name(base) || strlen(path) >= CONFIG_PATH_MAX)
			continue;
		struct config_modem *m = realloc(cfg->modems, (cfg->nmodems + 1) * sizeof(*m));
		if (!m)
			break;
		cfg->modems = m;
		m = &cfg->modems[cfg->nmodems++];
		memset(m, 0, sizeof(*m));
		snprintf(m->name, sizeof(m->name), "%s", base);
		snprintf(m->port, sizeof(m->port), "%s", path);
		m->baud = 115200;
		for (int w = 0; w < 4; w++)
			m->quota[w] = -1;
		m->recipients[0] = m->recipients[1] = -1;
		added++;
	}
	globfree(&g);
	return added;
}

void config_free(struct config *cfg)
{
	free(cfg->modems);
	free(cfg->api_keys);
	free(cfg->carriers);
	cfg->carriers = NULL;
	cfg->ncarriers = 0;
	cfg->modems = NULL;
	cfg->api_keys = NULL;
	cfg->nmodems = cfg->napi_keys = 0;
}

/* A setting's value as the file would spell it. */
static void format_value(const struct setting *s, const struct config *cfg, char *buf, size_t len)
{
	const char *v = (const char *)cfg + s->off;
	/* secrets are not printed (simrouted -t, reload logs) */
	if ((s->off == OFF(webhook_secret) || (s->off == OFF(store_dsn) && strstr(v, "password"))) && *v) {
		snprintf(buf, len, "<set>");
		return;
	}
	switch (s->type) {
	case CT_STR:
	case CT_ENUM:
		snprintf(buf, len, "%s", v);
		return;
	case CT_INT:
		snprintf(buf, len, "%d", *(const int *)(const void *)v);
		return;
	case CT_LONG:
		snprintf(buf, len, "%ld", *(const long *)(const void *)v);
		return;
	case CT_OCTAL:
		snprintf(buf, len, "0%o", (unsigned)*(const int *)(const void *)v);
		return;
	case CT_BOOL:
		snprintf(buf, len, "%s", *(const bool *)(const void *)v ? "true" : "false");
		return;
	case CT_LOGLEVEL:
		snprintf(buf, len, "%s", log_level_name(*(const enum log_level *)(const void *)v));
		return;
	case CT_DURATION: {
		long n = *(const long *)(const void *)v;
		if (n % duration_unit(s) == 0)
			snprintf(buf, len, "%ld", n / duration_unit(s));
		else
			snprintf(buf, len, "%lds", n);
		return;
	}
	case CT_DOUBLE:
		snprintf(buf, len, "%g", *(const double *)(const void *)v);
		return;
	case CT_LANGS: {
		unsigned mask = *(const unsigned *)(const void *)v;
		size_t at = 0;
		buf[0] = '\0';
		for (unsigned l = 0; l < 32 && at < len; l++)
			if ((mask & (1u << l)) && pdu_lang_code(l))
				at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? ", " : "", pdu_lang_code(l));
		return;
	}
	}
	snprintf(buf, len, "?");
}

static size_t value_size(const struct setting *s)
{
	switch (s->type) {
	case CT_STR:
	case CT_ENUM: return (size_t)s->max + 1;   /* SZ(): the whole array, NUL included */
	case CT_INT:
	case CT_OCTAL: return sizeof(int);
	case CT_LONG:
	case CT_DURATION: return sizeof(long);
	case CT_BOOL: return sizeof(bool);
	case CT_LOGLEVEL: return sizeof(enum log_level);
	case CT_DOUBLE: return sizeof(double);
	case CT_LANGS: return sizeof(unsigned);
	}
	return 0;
}

static bool same_modem(const struct config_modem *a, const struct config_modem *b)
{
	struct config_modem x = *a, y = *b;   /* both memset before filling: padding and tails are zero */
	x.line = y.line = 0;
	return memcmp(&x, &y, sizeof(x)) == 0;
}

bool config_modem_same_hardware(const struct config_modem *a, const struct config_modem *b)
{
	return strcmp(a->port, b->port) == 0 && strcmp(a->dialect, b->dialect) == 0 && strcmp(a->pin, b->pin) == 0 &&
	       strcmp(a->imei, b->imei) == 0 && strcmp(a->iccid, b->iccid) == 0 && a->baud == b->baud;
}

bool config_carrier_same(const struct config_carrier *a, const struct config_carrier *b)
{
	struct config_carrier x = *a, y = *b;
	x.line = y.line = 0;
	return memcmp(&x, &y, sizeof(x)) == 0;
}

static const struct config_carrier *find_carrier(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->ncarriers; i++)
		if (strcmp(cfg->carriers[i].name, name) == 0)
			return &cfg->carriers[i];
	return NULL;
}

static const struct config_api_key *find_key(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->napi_keys; i++)
		if (strcmp(cfg->api_keys[i].name, name) == 0)
			return &cfg->api_keys[i];
	return NULL;
}

/* "day=500 recipients_month=250 prefixes=+4477,+4478 restricted": the keys the section sets. */
static void describe_policy(const struct config_modem *m, char *buf, size_t len)
{
	static const char *const q[4] = { "minute", "hour", "day", "month" };
	size_t n = 0;
	buf[0] = '\0';
	for (int i = 0; i < 4; i++)
		if (m->quota[i] >= 0 && n < len)
			n += (size_t)snprintf(buf + n, len - n, " quota_%s=%ld", q[i], m->quota[i]);
	for (int i = 0; i < 2; i++)
		if (m->recipients[i] >= 0 && n < len)
			n += (size_t)snprintf(buf + n, len - n, " quota_recipients_%s=%ld", i ? "month" : "day",
					      m->recipients[i]);
	for (int i = 0; i < m->nprefixes && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "," : " prefixes=", m->prefixes[i]);
	if (m->restrict_prefixes && n < len)
		n += (size_t)snprintf(buf + n, len - n, " restrict_prefixes=yes");
	if (n == 0)
		snprintf(buf, len, " (the [quota] defaults, no prefixes)");
}

int config_reload_modem_policy(struct config *cur, const struct config *next)
{
	int changed = 0;
	char was[512], now[512];
	for (size_t i = 0; i < cur->nmodems; i++) {
		struct config_modem *c = &cur->modems[i];
		for (size_t j = 0; j < next->nmodems; j++) {
			const struct config_modem *n = &next->modems[j];
			if (strcmp(c->name, n->name) != 0)
				continue;
			if (memcmp(c->quota, n->quota, sizeof(c->quota)) == 0 &&
			    memcmp(c->recipients, n->recipients, sizeof(c->recipients)) == 0 &&
			    memcmp(c->prefixes, n->prefixes, sizeof(c->prefixes)) == 0 &&
			    c->nprefixes == n->nprefixes && c->restrict_prefixes == n->restrict_prefixes)
				break;
			describe_policy(c, was, sizeof(was));
			describe_policy(n, now, sizeof(now));
			log_info("reload: [modem:%s]%s ->%s", c->name, was, now);
			memcpy(c->quota, n->quota, sizeof(c->quota));
			memcpy(c->recipients, n->recipients, sizeof(c->recipients));
			memcpy(c->prefixes, n->prefixes, sizeof(c->prefixes));
			c->nprefixes = n->nprefixes;
			c->restrict_prefixes = n->restrict_prefixes;
			changed++;
			break;
		}
	}
	return changed;
}

int config_apply_reload(struct config *cur, struct config *next)
{
	char was[CONFIG_PATH_MAX + 16], now[CONFIG_PATH_MAX + 16];
	int applied = 0;

	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *s = &settings[i];
		char *dst = (char *)cur + s->off;
		const char *src = (const char *)next + s->off;
		size_t n = value_size(s);
		if (memcmp(dst, src, n) == 0)
			continue;
		format_value(s, cur, was, sizeof(was));
		format_value(s, next, now, sizeof(now));
		if (s->reloadable) {
			memcpy(dst, src, n);
			log_info("reload: [%s] %s: %s -> %s", s->section, s->key, was, now);
			applied++;
		} else {
			log_warnx("reload: [%s] %s: %s -> %s needs a restart; still %s", s->section, s->key, was, now,
				  was);
		}
	}
	bool modems_same = cur->nmodems == next->nmodems, carriers_same = cur->ncarriers == next->ncarriers;
	for (size_t i = 0; modems_same && i < cur->nmodems; i++)
		modems_same = same_modem(&cur->modems[i], &next->modems[i]);
	for (size_t i = 0; carriers_same && i < cur->ncarriers; i++)
		carriers_same = config_carrier_same(&cur->carriers[i], &next->carriers[i]);
	if (!modems_same) {
		/* the running modems were brought in line by modem_set_reload() before this call */
		struct config_modem *mm = cur->modems;
		size_t nm = cur->nmodems;
		cur->modems = next->modems;
		cur->nmodems = next->nmodems;
		next->modems = mm;
		next->nmodems = nm;
		applied++;
	}
	if (!carriers_same) {
		/* The whole set is replaced (main.c rebuilds the failover carrier; callbacks read it). */
		for (size_t i = 0; i < next->ncarriers; i++) {
			const struct config_carrier *c = &next->carriers[i], *old = find_carrier(cur, c->name);
			if (!old || !config_carrier_same(old, c))
				log_info("reload: [carrier:%s] %s", c->name, old ? "changed" : "added");
		}
		for (size_t i = 0; i < cur->ncarriers; i++)
			if (!find_carrier(next, cur->carriers[i].name))
				log_info("reload: [carrier:%s] removed", cur->carriers[i].name);
		struct config_carrier *c = cur->carriers;
		size_t nc = cur->ncarriers;
		cur->carriers = next->carriers;
		cur->ncarriers = next->ncarriers;
		next->carriers = c;
		next->ncarriers = nc;
		applied++;
	}

	/* API keys: the whole set is replaced; say which ones came, went or changed. */
	int keys_changed = cur->napi_keys != next->napi_keys;
	for (size_t i = 0; i < next->napi_keys; i++) {
		const struct config_api_key *k = &next->api_keys[i], *old = find_key(cur, k->name);
		if (!old) {
			log_info("reload: [api_key:%s] added", k->name);
			keys_changed = 1;
		} else if (memcmp(old->sha256, k->sha256, 32) != 0 || old->scopes != k->scopes ||
			   old->mask_numbers != k->mask_numbers) {
			log_info("reload: [api_key:%s] changed", k->name);
			keys_changed = 1;
		} else if (old != &cur->api_keys[i]) {
			keys_changed = 1;   /* same keys, another order */
		}
	}
	for (size_t i = 0; i < cur->napi_keys; i++)
		if (!find_key(next, cur->api_keys[i].name)) {
			log_info("reload: [api_key:%s] removed", cur->api_keys[i].name);
			keys_changed = 1;
		}
	if (keys_changed) {
		struct config_api_key *k = cur->api_keys;
		size_t nk = cur->napi_keys;
		cur->api_keys = next->api_keys;
		cur->napi_keys = next->napi_keys;
		next->api_keys = k;
		next->napi_keys = nk;
		applied++;
	}
	return applied;
}

void config_dump(const struct config *cfg, FILE *out)
{
	const char *cur = "";
	char val[CONFIG_PATH_MAX + 16];
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *s = &settings[i];
		if (strcmp(cur, s->section) != 0)
			fprintf(out, "%s[%s]\n", i ? "\n" : "", cur = s->section);
		format_value(s, cfg, val, sizeof(val));
		fprintf(out, "%s = %s", s->key, val);
		fprintf(out, "    ; %s\n", s->doc);
	}
	for (size_t i = 0; i < cfg->nmodems; i++) {
		const struct config_modem *m = &cfg->modems[i];
		fprintf(out, "\n[modem:%s]\n", m->name);
		if (m->port[0])
			fprintf(out, "port = %s\n", m->port);
		if (m->imei[0])
			fprintf(out, "imei = %s\n", m->imei);
		if (m->iccid[0])
			fprintf(out, "iccid = %s\n", m->iccid);
	}
	for (size_t i = 0; i < cfg->ncarriers; i++)
		fprintf(out, "\n[carrier:%s]\ntype = %s\nurl = %s\n", cfg->carriers[i].name, cfg->carriers[i].type,
			cfg->carriers[i].url);   /* secrets are not printed */
	for (size_t i = 0; i < cfg->napi_keys; i++)
		fprintf(out, "\n[api_key:%s]\nhash = sha256:<set>\n%s", cfg->api_keys[i].name,
			cfg->api_keys[i].mask_numbers ? "mask_numbers = yes\n" : "");
}
