/* config: simroute.ini (inih) parsed through one table of typed, bounded settings; errors name file:line. */
#ifndef SIMROUTED_CONFIG_H
#define SIMROUTED_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "simroute/log.h"

#define CONFIG_NAME_MAX 64
#define CONFIG_PATH_MAX 256
#define CONFIG_PREFIXES_MAX 16
#define CONFIG_PREFIX_LEN 17     /* "+" and up to 15 digits, and the NUL */

enum config_scope { SCOPE_SEND = 1u << 0, SCOPE_READ = 1u << 1, SCOPE_ADMIN = 1u << 2 };

struct config_modem {
	char name[CONFIG_NAME_MAX];
	char port[CONFIG_PATH_MAX];
	char dialect[16];         /* "" = detect */
	char pin[16];             /* "" = none */
	char imei[16];            /* "" = any modem on `port`; else only the modem with this IMEI is this one */
	char iccid[24];           /* "" = any SIM; else the route is used only with this SIM (no trailing F) */
	int baud;
	long quota[4];            /* segments per minute, hour, day, month; -1 = the [quota] default */
	long recipients[2];       /* distinct recipients per day, month; -1 = the [quota] default */
	char prefixes[CONFIG_PREFIXES_MAX][CONFIG_PREFIX_LEN];   /* operator prefixes, "+4477" */
	int nprefixes;
	bool restrict_prefixes;   /* only destinations matching prefixes */
	int line;                 /* where the section starts, for messages */
};

#define CONFIG_CARRIER_HEADERS 16
#define CONFIG_TEMPLATE_MAX 8192

struct config_carrier {
	char name[CONFIG_NAME_MAX];
	char type[16];            /* http | twilio */
	char url[CONFIG_PATH_MAX];
	char token[256];          /* http: Bearer token, optional */
	char account_sid[64], auth_token[128], from[32];   /* twilio (from: also {{from}} of a template) */
	int timeout_ms;
	int max_inflight;
	char headers[CONFIG_CARRIER_HEADERS][256];   /* `header = Name: value`, repeatable */
	int nheaders;
	char template_json[CONFIG_TEMPLATE_MAX];     /* http: `template` or the text of `template_file`; "" none */
	char response_id[128];    /* JSON pointer or key of the id in the answer; "" the defaults */
	char status_callback_url[512];   /* where the carrier reaches POST /v1/carrier/<name>/status */
	char callback_secret[256];       /* http: HMAC-SHA256 key of those callbacks */
	int line;
};

struct config_api_key {
	char name[CONFIG_NAME_MAX];
	unsigned char sha256[32];
	unsigned scopes;          /* enum config_scope bits */
	bool mask_numbers;        /* every answer to this key masks phone numbers (api_redact.c) */
	int line;
};

struct config {
	char path[CONFIG_PATH_MAX];
	/* [daemon] */
	char state_dir[CONFIG_PATH_MAX];
	enum log_level log_level;
	char log_target[CONFIG_PATH_MAX + 8]; /* "stderr" | "syslog" | "file:/path" */
	char user[64];            /* "" = stay as started; else become this user after opening files (root only) */
	/* [api] */
	char api_listen[128];     /* host:port, "" = no TCP listener */
	char api_socket[CONFIG_PATH_MAX]; /* "" = no Unix socket */
	int api_socket_mode;      /* octal file mode of the socket */
	char api_socket_group[64];  /* group of the socket; "" = the daemon's */
	int api_max_body;         /* bytes */
	int api_max_batch;        /* messages in one POST /v1/messages */
	int api_rate_limit;       /* requests/s per API key on TCP; 0 = no limit */
	int api_rate_burst;       /* token bucket size */
	int api_max_connections;  /* open connections per listener (TCP, socket) before new ones get a 503 */
	int api_timeout;          /* s without progress reading a request, writing a reply or idle keep-alive */
	/* [store] */
	char store_backend[16];   /* sqlite | postgresql */
	char store_dsn[1024];     /* postgresql: libpq connection string */
	char store_node_id[64];   /* postgresql: "" = the host name */
	int store_lease_s;
	char store_path[CONFIG_PATH_MAX]; /* "" = <state_dir>/simroute.db */
	long body_retention_s;    /* finished messages' and inbound texts are erased after this; 0 = never */
	long retention_s;         /* finished rows are deleted after this; 0 = never */
	/* [router] */
	int max_parts;
	int max_attempts;
	int carrier_after;        /* s a normal message waits for a modem before the carrier; 0 = never */
	int bulk_carrier_after;   /* same for bulk; 0 = never */
	int cooldown;             /* s a SIM rests after a cool-down class error (doubles, capped 16x) */
	int breaker_threshold;    /* consecutive failures that open a route's breaker */
	int otp_modem_deadline;   /* s an OTP waits for a modem before the carrier */
	/* route score weights (router.h): signal, failure, latency, headroom, affinity */
	double weight_signal, weight_failure, weight_latency, weight_headroom, weight_affinity;
	unsigned national_languages;  /* [router]: mask of 1u << enum pdu_lang for messages naming none */
	/* [inbound] */
	int inbound_reassembly_timeout; /* s a concatenated inbound SMS waits for its missing parts */
	/* [quota] defaults for every SIM, in segments; 0 = no limit */
	long quota[4];            /* minute, hour, day, month */
	long quota_recipients[2]; /* distinct recipients per SIM per day, month */
	char quota_timezone[64];  /* calendar windows' zone, "" = the system's */
	/* [otp] and per-lane defaults */
	int otp_ttl;              /* seconds */
	int normal_ttl;
	int bulk_ttl;
	/* [optout] */
	char optout_stop_keywords[256];  /* comma-separated; "" = inbound keywords off */
	char optout_start_keywords[256];
	bool optout_otp_bypass;    /* otp messages ignore the list */
	/* [webhook] */
	char webhook_url[CONFIG_PATH_MAX]; /* global receiver, "" = none */
	char webhook_secret[256];  /* HMAC-SHA256 key, "" = unsigned (warned at start-up) */
	int webhook_timeout_ms;
	int webhook_max_age;       /* s an event is retried before it is given up */
	int webhook_max_inflight;
	/* [modems] */
	char modems_scan[CONFIG_PATH_MAX];
	char modems_scan_glob[CONFIG_PATH_MAX]; /* where an absent modem configured by IMEI is looked for */
	int rescan_interval;      /* s between looks while such a modem is absent; 0 = never */
	int probe_timeout_ms;     /* AT+CGSN of a candidate port */
	/* [modem:<name>] */
	int command_timeout_ms;
	int send_timeout_ms;
	int poll_interval_ms;
	struct config_modem *modems;
	size_t nmodems;
	/* [carrier:<name>] */
	struct config_carrier *carriers;
	size_t ncarriers;
	/* [api_key:<name>] */
	struct config_api_key *api_keys;
	size_t napi_keys;
};

/* "N" (N units of `unit` seconds) or "N" + s|m|h|d -> seconds; 0 or -1. */
int config_parse_duration(const char *v, long unit, long *out_s);
/* Defaults, then the file. Returns 0, or -1 with err = "FILE:LINE: message". */
int config_load(const char *path, struct config *cfg, char *err, size_t errlen);
/* Identity formats (TS 23.003 6.2.1: IMEI 15 digits; ITU-T E.118: ICCID 18-22 digits, a trailing F pads
 * an odd length). config_iccid_normalise copies it without the F (as modems report it); -1 if invalid. */
bool config_imei_valid(const char *imei);
int config_iccid_normalise(char *out, size_t n, const char *iccid);
/* The [modem:*] keys whose change restarts that modem on SIGHUP (port, pin, dialect, baud, identity). */
bool config_modem_same_hardware(const struct config_modem *a, const struct config_modem *b);
/* Expand [modems] scan (a glob) into modems named by port basename; returns the number added. */
int config_scan_modems(struct config *cfg, char *err, size_t errlen);
void config_free(struct config *cfg);
/* SIGHUP: moves what can change at run time (table rows marked reloadable, the [api_key:*] set, the
 * [modem:*] sections — which modem_set_reload() applies to the running modems first) from
 * next into cur, logging each change, and logs what differs but needs a restart. next is left to
 * config_free. Returns the number of changes applied. */
int config_apply_reload(struct config *cur, struct config *next);
/* SIGHUP, per modem: moves each [modem:X]'s quotas, prefixes and restrict_prefixes of a modem that
 * is in both next and cur (by name) into cur, logging each change; the rest of a section is left for
 * config_apply_reload to compare. Returns the number of modems changed. */
int config_reload_modem_policy(struct config *cur, const struct config *next);
/* Whether two [carrier:*] sections say the same (the line they start at aside). */
bool config_carrier_same(const struct config_carrier *a, const struct config_carrier *b);
/* The annotated defaults, as `simrouted -t -v` prints them. */
void config_dump(const struct config *cfg, FILE *out);

#endif
