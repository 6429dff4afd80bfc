/* config: simroute.ini (inih) parsed through one table of typed, bounded settings; errors name file:line. */
#ifndef SIMROUTED_CONFIG_H
#define SIMROUTED_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "simroute/log.h"

#define CONFIG_NAME_MAX 64
#define CONFIG_PATH_MAX 256

enum config_scope { SCOPE_SEND = 1u << 0, SCOPE_READ = 1u << 1, SCOPE_ADMIN = 1u << 2 };

struct config_modem {
	char name[CONFIG_NAME_MAX];
	char port[CONFIG_PATH_MAX];
	char dialect[16];         /* "" = detect */
	char pin[16];             /* "" = none */
	int baud;
	long quota[4];            /* segments per minute, hour, day, month; -1 = the [quota] default */
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
	int line;
};

struct config {
	char path[CONFIG_PATH_MAX];
	/* [daemon] */
	char state_dir[CONFIG_PATH_MAX];
	enum log_level log_level;
	char user[64];            /* "" = stay as started; else become this user after opening files (root only) */
	/* [api] */
	char api_listen[128];     /* host:port, "" = no TCP listener */
	char api_socket[CONFIG_PATH_MAX]; /* "" = no Unix socket */
	int api_socket_mode;      /* octal file mode of the socket */
	int api_max_body;         /* bytes */
	int api_max_batch;        /* messages in one POST /v1/messages */
	int api_rate_limit;       /* requests/s per API key on TCP; 0 = no limit */
	int api_rate_burst;       /* token bucket size */
	/* [store] */
	char store_backend[16];   /* sqlite */
	char store_path[CONFIG_PATH_MAX]; /* "" = <state_dir>/simroute.db */
	/* [router] */
	int max_parts;
	int max_attempts;
	int carrier_after;        /* s a normal message waits for a modem before the carrier; 0 = never */
	int bulk_carrier_after;   /* same for bulk; 0 = never */
	int cooldown;             /* s a SIM rests after a cool-down class error (doubles, capped 16x) */
	int breaker_threshold;    /* consecutive failures that open a route's breaker */
	int otp_modem_deadline;   /* s an OTP waits for a modem before the carrier */
	/* [inbound] */
	int inbound_reassembly_timeout; /* s a concatenated inbound SMS waits for its missing parts */
	/* [quota] defaults for every SIM, in segments; 0 = no limit */
	long quota[4];            /* minute, hour, day, month */
	char quota_timezone[64];  /* calendar windows' zone, "" = the system's */
	/* [otp] and per-lane defaults */
	int otp_ttl;              /* seconds */
	int normal_ttl;
	int bulk_ttl;
	/* [webhook] */
	char webhook_url[CONFIG_PATH_MAX]; /* global receiver, "" = none */
	char webhook_secret[256];  /* HMAC-SHA256 key, "" = unsigned (warned at start-up) */
	int webhook_timeout_ms;
	int webhook_max_age;       /* s an event is retried before it is given up */
	int webhook_max_inflight;
	/* [modems] */
	char modems_scan[CONFIG_PATH_MAX];
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

/* Defaults, then the file. Returns 0, or -1 with err = "FILE:LINE: message". */
int config_load(const char *path, struct config *cfg, char *err, size_t errlen);
/* Expand [modems] scan (a glob) into modems named by port basename; returns the number added. */
int config_scan_modems(struct config *cfg, char *err, size_t errlen);
void config_free(struct config *cfg);
/* SIGHUP: moves what can change at run time (table rows marked reloadable, the [api_key:*] set) from
 * next into cur, logging each change, and logs what differs but needs a restart. next is left to
 * config_free. Returns the number of changes applied. */
int config_apply_reload(struct config *cur, struct config *next);
/* Whether two [carrier:*] sections say the same (the line they start at aside). */
bool config_carrier_same(const struct config_carrier *a, const struct config_carrier *b);
/* The annotated defaults, as `simrouted -t -v` prints them. */
void config_dump(const struct config *cfg, FILE *out);

#endif
