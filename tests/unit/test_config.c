/* test_config: simroute.ini parsing — a good file, defaults, and each kind of error naming file:line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "simroute/pdu.h"

static char path[64];

static void write_file(const char *text)
{
	strcpy(path, "/tmp/simroute-test-config-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int load(const char *text, struct config *cfg, char *err, size_t errlen)
{
	write_file(text);
	int rc = config_load(path, cfg, err, errlen);
	unlink(path);
	return rc;
}

static void test_good_file(void **state)
{
	struct config cfg;
	char err[256] = "";
	(void)state;
	int rc = load("; a comment\n"
		      "[daemon]\n"
		      "state_dir = /tmp/simroute-state   ; inline comment\n"
		      "log_level = debug\n"
		      "[api]\n"
		      "listen = 127.0.0.1:9090\n"
		      "socket = /tmp/simroute.sock\n"
		      "[router]\n"
		      "max_parts = 6\n"
		      "[otp]\n"
		      "ttl = 120\n"
		      "[modem:bank-a-1]\n"
		      "port = /dev/simroute/huawei-a1\n"
		      "dialect = huawei\n"
		      "pin = 1234\n"
		      "[modem:b2]\n"
		      "port = /dev/ttyUSB3\n"
		      "baud = 9600\n"
		      "quota_day = 500\n"
		      "[quota]\n"
		      "month = 10000\n"
		      "timezone = Europe/London\n"
		      "[carrier:backup]\n"
		      "type = twilio\n"
		      "url = http://127.0.0.1:9999\n"
		      "account_sid = AC0123\n"
		      "auth_token = tok\n"
		      "from = +15005550006\n"
		      "[api_key:crm]\n"
		      "hash = sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
		      "scopes = send,read\n",
		      &cfg, err, sizeof(err));
	assert_int_equal(rc, 0);
	assert_string_equal(cfg.state_dir, "/tmp/simroute-state");
	assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);
	assert_string_equal(cfg.api_listen, "127.0.0.1:9090");
	assert_string_equal(cfg.api_socket, "/tmp/simroute.sock");
	assert_int_equal(cfg.max_parts, 6);
	assert_int_equal(cfg.otp_ttl, 120);
	assert_int_equal(cfg.nmodems, 2);
	assert_string_equal(cfg.modems[0].name, "bank-a-1");
	assert_string_equal(cfg.modems[0].port, "/dev/simroute/huawei-a1");
	assert_string_equal(cfg.modems[0].dialect, "huawei");
	assert_string_equal(cfg.modems[0].pin, "1234");
	assert_int_equal(cfg.modems[0].baud, 115200);
	assert_int_equal(cfg.modems[1].baud, 9600);
	assert_int_equal(cfg.modems[1].quota[2], 500);
	assert_int_equal(cfg.modems[1].quota[3], -1);
	assert_int_equal(cfg.quota[3], 10000);
	assert_int_equal(cfg.quota[0], 0);
	assert_string_equal(cfg.quota_timezone, "Europe/London");
	assert_int_equal(cfg.ncarriers, 1);
	assert_string_equal(cfg.carriers[0].type, "twilio");
	assert_string_equal(cfg.carriers[0].account_sid, "AC0123");
	assert_int_equal(cfg.carriers[0].max_inflight, 8);
	assert_int_equal(cfg.napi_keys, 1);
	assert_int_equal(cfg.api_keys[0].sha256[0], 0x9f);
	assert_int_equal(cfg.api_keys[0].sha256[31], 0x08);
	assert_int_equal(cfg.api_keys[0].scopes, SCOPE_SEND | SCOPE_READ);
	assert_false(cfg.api_keys[0].mask_numbers);   /* the default: existing keys see numbers as before */
	config_free(&cfg);
}

/* IMEI (TS 23.003 6.2.1) and ICCID (E.118) as configured; the ICCID is kept as modems report it. */
static void test_identity(void **state)
{
	struct config cfg;
	char err[256] = "", out[24];
	(void)state;

	assert_true(config_imei_valid("354510010123456"));
	assert_false(config_imei_valid("35451001012345"));
	assert_false(config_imei_valid(""));
	assert_int_equal(config_iccid_normalise(out, sizeof(out), "894600000000000000"), 0);
	assert_string_equal(out, "894600000000000000");
	assert_int_equal(config_iccid_normalise(out, sizeof(out), "8946000000000000001f"), 0);
	assert_string_equal(out, "8946000000000000001");
	assert_int_equal(config_iccid_normalise(out, sizeof(out), "8946000000000000001234"), 0);
	assert_int_equal(config_iccid_normalise(out, sizeof(out), "89460000000000000F"), -1);  /* 17 digits */
	assert_int_equal(config_iccid_normalise(out, sizeof(out), "F894600000000000000"), -1);
	assert_int_equal(config_iccid_normalise(out, 10, "894600000000000000"), -1);          /* no room */

	int rc = load("[modem:a]\nimei = 354510010123456\niccid = 8946000000000000001F\n"
		      "[modem:b]\nport = /dev/ttyUSB0\n[modems]\nscan_glob = /tmp/x/*\nrescan_interval = 2\n",
		      &cfg, err, sizeof(err));
	assert_int_equal(rc, 0);
	assert_int_equal(cfg.nmodems, 2);
	assert_string_equal(cfg.modems[0].port, "");
	assert_string_equal(cfg.modems[0].imei, "354510010123456");
	assert_string_equal(cfg.modems[0].iccid, "8946000000000000001");
	assert_string_equal(cfg.modems_scan_glob, "/tmp/x/*");
	assert_int_equal(cfg.rescan_interval, 2);
	config_free(&cfg);
}

static void test_defaults(void **state)
{
	struct config cfg;
	char err[256] = "";
	(void)state;
	assert_int_equal(load("[daemon]\n", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.state_dir, "/var/lib/simroute");
	assert_int_equal(cfg.log_level, LOG_LEVEL_INFO);
	assert_string_equal(cfg.api_listen, "127.0.0.1:8080");
	assert_string_equal(cfg.api_socket, "/run/simroute/api.sock");
	assert_string_equal(cfg.store_backend, "sqlite");
	assert_int_equal(cfg.max_parts, 10);
	assert_int_equal(cfg.otp_ttl, 300);
	assert_int_equal(cfg.api_socket_mode, 0660);
	assert_int_equal(cfg.api_max_connections, 512);
	assert_int_equal(cfg.api_timeout, 30);
	assert_int_equal(cfg.nmodems, 0);
	assert_string_equal(cfg.log_target, "stderr");
	assert_int_equal(cfg.body_retention_s, 30L * 86400);
	assert_int_equal(cfg.retention_s, 365L * 86400);
	assert_string_equal(cfg.optout_stop_keywords, "STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT");
	assert_string_equal(cfg.optout_start_keywords, "START, UNSTOP, YES");
	assert_true(cfg.optout_otp_bypass);
	config_free(&cfg);
}

static void test_optout_section(void **state)
{
	struct config cfg;
	char err[256] = "";
	(void)state;
	assert_int_equal(load("[optout]\nstop_keywords = HALT, STOP\nstart_keywords =\notp_bypass = false\n", &cfg, err,
			      sizeof(err)), 0);
	assert_string_equal(cfg.optout_stop_keywords, "HALT, STOP");
	assert_string_equal(cfg.optout_start_keywords, "");
	assert_false(cfg.optout_otp_bypass);
	config_free(&cfg);
	assert_int_equal(load("[optout]\notp_bypass = yes\n", &cfg, err, sizeof(err)), 0);
	assert_true(cfg.optout_otp_bypass);
	config_free(&cfg);
}

/* Retention keys: days by default, a unit for shorter spans; 0 = forever, which needs no order. */
static void test_retention_durations(void **state)
{
	static const struct { const char *text; long body_s, rows_s; } ok[] = {
		{ "[store]\nbody_retention_days = 7\nretention_days = 90\n", 7L * 86400, 90L * 86400 },
		{ "[store]\nbody_retention_days = 2s\nretention_days = 5m\n", 2, 300 },
		{ "[store]\nbody_retention_days = 12h\nretention_days = 1d\n", 43200, 86400 },
		{ "[store]\nbody_retention_days = 0\nretention_days = 30\n", 0, 30L * 86400 },
		{ "[store]\nbody_retention_days = 400\nretention_days = 0\n", 400L * 86400, 0 },
	};
	long s;
	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct config cfg;
		char err[256] = "";
		if (load(ok[i].text, &cfg, err, sizeof(err)) != 0)
			fail_msg("case %zu: %s", i, err);
		assert_int_equal(cfg.body_retention_s, ok[i].body_s);
		assert_int_equal(cfg.retention_s, ok[i].rows_s);
		config_free(&cfg);
	}
	assert_int_equal(config_parse_duration("3", 86400, &s), 0);
	assert_int_equal(s, 3 * 86400);
	assert_int_equal(config_parse_duration("3s", 86400, &s), 0);
	assert_int_equal(s, 3);
	assert_int_equal(config_parse_duration("", 1, &s), -1);
	assert_int_equal(config_parse_duration("s", 1, &s), -1);
	assert_int_equal(config_parse_duration("1.5d", 1, &s), -1);
	assert_int_equal(config_parse_duration("99999999999999999999", 1, &s), -1);
	assert_int_equal(config_parse_duration("9223372036854775807d", 1, &s), -1);   /* overflow */
}

static void test_log_targets(void **state)
{
	static const char *const ok[] = { "stderr", "syslog", "file:/var/log/simroute/simrouted.log" };
	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct config cfg;
		char err[256] = "", text[128];
		snprintf(text, sizeof(text), "[daemon]\nlog = %s\n", ok[i]);
		if (load(text, &cfg, err, sizeof(err)) != 0)
			fail_msg("%s: %s", ok[i], err);
		assert_string_equal(cfg.log_target, ok[i]);
		config_free(&cfg);
	}
}

/* [store] backend = postgresql with its dsn; a password in the dsn is never printed by config_dump. */
static void test_store_postgresql(void **state)
{
	struct config cfg;
	char err[256] = "", *buf = NULL;
	size_t len = 0;
	FILE *out;
	(void)state;
	assert_int_equal(load("[store]\nbackend = postgresql\ndsn = host=127.0.0.1 dbname=q password=hunter2\n",
			      &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.store_backend, "postgresql");
	assert_string_equal(cfg.store_dsn, "host=127.0.0.1 dbname=q password=hunter2");
	assert_string_equal(cfg.store_node_id, "");
	assert_int_equal(cfg.store_lease_s, 30);
	assert_non_null(out = open_memstream(&buf, &len));
	config_dump(&cfg, out);
	fclose(out);
	assert_non_null(strstr(buf, "dsn = <set>"));
	assert_null(strstr(buf, "hunter2"));
	free(buf);
	config_free(&cfg);
}

/* Each bad file and the error it must produce: the line and the words that point at the mistake. */
static const struct {
	const char *text, *expect;
} bad[] = {
	{ "[daemon]\nstate_dir = /x\n[nonsense]\nkey = 1\n", ":3: unknown section [nonsense]" },
	{ "[daemon]\nstat_dir = /x\n", ":2: unknown key \"stat_dir\" in [daemon]" },
	{ "[daemon]\nlog_level = loud\n", ":2: log_level: invalid value \"loud\"" },
	{ "[api]\n\nmax_body = 12abc\n", ":3: max_body: not a number" },
	{ "[api]\nmax_body = 10\n", ":2: max_body: out of range" },
	{ "[api]\nmax_connections = 0\n", ":2: max_connections: out of range (1..65536)" },
	{ "[api]\ntimeout = 0\n", ":2: timeout: out of range (1..3600)" },
	{ "[router]\nmax_parts = 300\n", ":2: max_parts: out of range (1..255)" },
	{ "[otp]\nttl = -5\n", ":2: ttl: out of range" },
	{ "[modem:a1]\nprot = /dev/ttyUSB0\n", ":2: unknown key \"prot\" in [modem:a1]" },
	{ "[modem:a1]\ndialect = nokia\n", ":2: dialect: invalid value \"nokia\"" },
	{ "[modem:a1]\nbaud = fast\n", ":2: baud: invalid value" },
	{ "[modem:a1]\npin = 12\"\n", ":2: pin: expected 4 to 8 digits" },
	{ "[modem:a1]\npin = 12345;AT\n", ":2: pin: expected 4 to 8 digits" },
	{ "[modem:a1]\n", ":1: [modem:a1] has no port (or imei to find it by)" },
	{ "[modem:a b]\nport = /dev/x\n", ":1: [modem:a b]: invalid name" },
	{ "[modem:a1]\nimei = 35451001012345\n", ":2: [modem:a1] imei: expected 15 digits" },
	{ "[modem:a1]\nimei = 3545100101234567\n", ":2: [modem:a1] imei: expected 15 digits" },
	{ "[modem:a1]\nimei = 35451001012345X\n", ":2: [modem:a1] imei: expected 15 digits" },
	{ "[modem:a1]\nport = /dev/x\niccid = 8946000000000000\n", ":3: [modem:a1] iccid: expected 18 to 22 digits" },
	{ "[modem:a1]\niccid = 89460000000000000000123\n", ":2: [modem:a1] iccid: expected 18 to 22 digits" },
	{ "[modem:a1]\niccid = 8946000000000000001FF\n", ":2: [modem:a1] iccid: expected 18 to 22 digits" },
	{ "[modem:a1]\niccid = 894600000000000000A\n", ":2: [modem:a1] iccid: expected 18 to 22 digits" },
	{ "[modem:a1]\niccid = 8946000000000000001\n", ":1: [modem:a1] has no port (or imei to find it by)" },
	{ "[modem:a1]\nimei = 354510010123456\n[modem:a2]\nimei = 354510010123456\n",
	  ":3: [modem:a2] imei 354510010123456 is [modem:a1]'s too" },
	{ "[api_key:crm]\nhash = 1234\nscopes = send\n", ":2: hash: expected sha256:<64 hex digits>" },
	{ "[api_key:crm]\nhash = sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
	  "scopes = send,fly\n",
	  ":3: scopes: invalid value \"send,fly\"" },
	{ "[api_key:crm]\nscopes = send\n", ":1: [api_key:crm] needs hash and scopes" },
	{ "[api_key:crm]\nmask_numbers = maybe\n", ":2: mask_numbers: invalid value \"maybe\" (yes | no)" },
	{ "state_dir = /x\n", ":1: key \"state_dir\" outside any section" },
	{ "[daemon\nstate_dir = /x\n", ":1: syntax error" },
	{ "[api]\nlisten = localhost\n", "[api] listen: expected host:port" },
	{ "[api]\nlisten =\nsocket =\n", "[api] needs listen or socket" },
	{ "[store]\nbackend = oracle\n", ":2: backend: invalid value \"oracle\"" },
	{ "[store]\nbackend = postgresql\n", "[store] backend = postgresql needs dsn" },
	{ "[store]\nnode_id = a b\n", "[store] node_id: only A-Z a-z 0-9 _ . -" },
	{ "[store]\nlease_s = 1\n", ":2: lease_s: out of range (2..3600)" },
	{ "[quota]\nday = -1\n", ":2: day: out of range" },
	{ "[quota]\nweek = 5\n", ":2: unknown key \"week\" in [quota]" },
	{ "[modem:a1]\nport = /dev/x\nquota_week = 5\n", ":3: unknown key \"quota_week\"" },
	{ "[modem:a1]\nport = /dev/x\nquota_day = lots\n", ":3: quota_day: invalid value" },
	{ "[carrier:c]\ntype = smpp\n", ":2: type: invalid value \"smpp\"" },
	{ "[carrier:c]\ntype = http\nurl = ftp://x\n", ":3: url: expected http:// or https://" },
	{ "[carrier:c]\ntype = http\n", ":1: [carrier:c] needs url" },
	{ "[carrier:c]\ntype = twilio\nurl = http://127.0.0.1/\n", ":1: [carrier:c] needs account_sid" },
	{ "[carrier:c]\ntype = http\nurl = http://127.0.0.1/\nretries = 3\n", ":4: unknown key \"retries\" in [carrier:c]" },
	{ "[otp]\nmodem_deadline = 0\n", ":2: modem_deadline: out of range" },
	{ "[store]\nbody_retention_days = soon\n", ":2: body_retention_days: not a duration" },
	{ "[store]\nbody_retention_days = 5w\n", ":2: body_retention_days: not a duration" },
	{ "[store]\nretention_days = -3\n", ":2: retention_days: not a duration" },
	{ "[store]\nretention_days = 36501\n", ":2: retention_days: out of range" },
	{ "[store]\nbody_retention_days = 30\nretention_days = 7\n", "retention_days must be >= body_retention_days" },
	{ "[store]\nbody_retention_days = 2h\nretention_days = 1h\n", "retention_days must be >= body_retention_days" },
	{ "[daemon]\nlog = journald\n", "[daemon] log: expected stderr, syslog or file:/absolute/path" },
	{ "[daemon]\nlog = file:var/log/x\n", "[daemon] log: expected stderr, syslog or file:/absolute/path" },
	{ "[router]\nnational_languages = tr, xx\n", ":2: national_languages: unknown language code \"xx\"" },
	{ "[optout]\notp_bypass = maybe\n", ":2: otp_bypass: invalid value \"maybe\" (true | false)" },
	{ "[optout]\nkeywords = STOP\n", ":2: unknown key \"keywords\" in [optout]" },
	{ "[router]\nweight_signal = strong\n", ":2: weight_signal: not a number" },
	{ "[router]\nweight_latency = -0.5\n", ":2: weight_latency: out of range (0..100)" },
	{ "[router]\nweight_affinity = nan\n", ":2: weight_affinity: not a number" },
	{ "[quota]\nrecipients_month = -2\n", ":2: recipients_month: out of range" },
	{ "[modem:a1]\nport = /dev/x\nquota_recipients_day = many\n", ":3: quota_recipients_day: invalid value" },
	{ "[modem:a1]\nport = /dev/x\nquota_recipients_week = 5\n", ":3: unknown key \"quota_recipients_week\"" },
	{ "[modem:a1]\nport = /dev/x\nprefixes = +44a7\n", ":3: prefixes: invalid prefix \"+44a7\"" },
	{ "[modem:a1]\nport = /dev/x\nprefixes = +0447\n", ":3: prefixes: invalid prefix \"+0447\"" },
	{ "[modem:a1]\nport = /dev/x\nprefixes = +1234567890123456\n", ":3: prefixes: invalid prefix" },
	{ "[modem:a1]\nport = /dev/x\nprefixes = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\n",
	  ":3: prefixes: at most 16 prefixes" },
	{ "[modem:a1]\nport = /dev/x\nrestrict_prefixes = maybe\n", ":3: restrict_prefixes: invalid value" },
	{ "[modem:a1]\nport = /dev/x\nrestrict_prefixes = yes\n", ":1: [modem:a1] restrict_prefixes = yes needs prefixes" },
	{ "[carrier:c]\ntype = http\nurl = http://127.0.0.1/\nheader = X-A: a\rInjected: b\n",
	  ":4: [carrier:c] header X-A: control character" },
	{ "[carrier:c]\ntype = http\nurl = http://127.0.0.1/\nheader = no colon\n", ":4: [carrier:c] header: expected" },
	{ "[carrier:c]\ntype = http\nurl = http://127.0.0.1/\ntemplate = {\"to\": {{to}}}\n",
	  ":4: [carrier:c] template: not JSON" },
	{ "[carrier:c]\ntype = http\nurl = http://127.0.0.1/\ntemplate = {\"to\": \"{{phone}}\"}\n",
	  ":4: [carrier:c] template: unknown placeholder" },
	{ "[carrier:c]\ntype = http\nurl = http://127.0.0.1/\ntemplate_file = /nonexistent/t.json\n",
	  ":4: template_file: /nonexistent/t.json: No such file" },
	{ "[carrier:c]\ntype = http\nurl = http://127.0.0.1/\ntemplate = {}\ntemplate = []\n",
	  ":5: template: the carrier already has a template" },
	{ "[carrier:c]\ntype = twilio\nurl = http://127.0.0.1/\naccount_sid = AC1\nauth_token = t\nfrom = +1\n"
	  "template = {}\n",
	  ":1: [carrier:c] template: only for type = http" },
	{ "[carrier:c]\ntype = http\nurl = http://127.0.0.1/\ntemplate = {\"text\": \"{{text}}\", \"pad\": \""
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n",
	  ":4: line longer than" },
	{ "[carrier:c]\ntype = http\nurl = http://127.0.0.1/\nstatus_callback_url = ftp://x/\n",
	  ":4: status_callback_url: expected http:// or https://" },
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config cfg;
		char err[256] = "";
		int rc = load(bad[i].text, &cfg, err, sizeof(err));
		if (rc != -1 || strstr(err, bad[i].expect) == NULL || strncmp(err, path, strlen(path)) != 0)
			fail_msg("case %zu: rc %d, error \"%s\", expected \"%s\"", i, rc, err, bad[i].expect);
	}
}

static void test_carrier_keys(void **state)
{
	struct config cfg;
	char err[256] = "", tpl[] = "/tmp/simroute-test-tpl-XXXXXX", text[1024];
	(void)state;
	int fd = mkstemp(tpl);
	const char *json = "{\n  \"sms\": {\"to\": \"{{to}}\", \"text\": \"{{text}}\"},\n  \"ref\": \"{{id}}\"\n}\n";
	assert_true(fd >= 0);
	assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
	close(fd);
	snprintf(text, sizeof(text),
		 "[carrier:a]\ntype = http\nurl = http://127.0.0.1/send\n"
		 "header = X-Api-Key: k1\nheader = X-Tenant: t 2\n"
		 "template = {\"to\": \"{{to}}\", \"text\": \"{{text}}\", \"ref\": \"{{id}}\"}\n"
		 "response_id = /data/id\nstatus_callback_url = https://gw.example/v1/carrier/a/status\n"
		 "callback_secret = s3cret\n"
		 "[carrier:b]\ntype = http\nurl = http://127.0.0.1/b\ntemplate_file = %s\n", tpl);
	int rc = load(text, &cfg, err, sizeof(err));
	unlink(tpl);
	if (rc != 0)
		fail_msg("%s", err);
	assert_int_equal(cfg.carriers[0].nheaders, 2);
	assert_string_equal(cfg.carriers[0].headers[1], "X-Tenant: t 2");
	assert_string_equal(cfg.carriers[0].template_json, "{\"to\": \"{{to}}\", \"text\": \"{{text}}\", \"ref\": \"{{id}}\"}");
	assert_string_equal(cfg.carriers[0].response_id, "/data/id");
	assert_string_equal(cfg.carriers[0].status_callback_url, "https://gw.example/v1/carrier/a/status");
	assert_string_equal(cfg.carriers[0].callback_secret, "s3cret");
	assert_string_equal(cfg.carriers[1].template_json, json);
	config_free(&cfg);
}

/* SIGHUP: a changed [carrier:*] set replaces the running one (main.c rebuilds the carrier from it). */
static void test_reload_carriers(void **state)
{
	struct config cur, next;
	char err[256] = "";
	(void)state;
	assert_int_equal(load("[carrier:a]\ntype = http\nurl = http://127.0.0.1:1/a\n", &cur, err, sizeof(err)), 0);
	assert_int_equal(load("[carrier:a]\ntype = http\nurl = http://127.0.0.1:1/a\n", &next, err, sizeof(err)), 0);
	assert_int_equal(config_apply_reload(&cur, &next), 0);   /* the same: nothing to do */
	config_free(&next);
	assert_int_equal(load("[carrier:a]\ntype = http\nurl = http://127.0.0.1:2/a\nheader = X-K: v\n"
			      "[carrier:b]\ntype = http\nurl = http://127.0.0.1:2/b\n", &next, err, sizeof(err)), 0);
	assert_false(config_carrier_same(&cur.carriers[0], &next.carriers[0]));
	assert_int_equal(config_apply_reload(&cur, &next), 1);
	assert_int_equal(cur.ncarriers, 2);
	assert_string_equal(cur.carriers[0].url, "http://127.0.0.1:2/a");
	assert_int_equal(cur.carriers[0].nheaders, 1);
	assert_int_equal(next.ncarriers, 1);   /* the old set, for config_free */
	config_free(&next);
	assert_int_equal(load("[api]\nlisten = 127.0.0.1:1\n", &next, err, sizeof(err)), 0);
	assert_int_equal(config_apply_reload(&cur, &next), 1);   /* carriers removed (listen waits for a restart) */
	assert_int_equal(cur.ncarriers, 0);
	config_free(&next);
	config_free(&cur);
}

static void test_missing_file(void **state)
{
	struct config cfg;
	char err[256] = "";
	(void)state;
	assert_int_equal(config_load("/nonexistent/simroute.ini", &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/simroute.ini: No such file"));
}

static void test_shipped_configs_parse(void **state)
{
	(void)state;
	const char *files[] = { "conf/simroute.ini", "conf/demo.ini" };
	for (size_t i = 0; i < 2; i++) {
		struct config cfg;
		char err[256] = "";
		if (config_load(files[i], &cfg, err, sizeof(err)) != 0)
			fail_msg("%s: %s", files[i], err);
		config_free(&cfg);
	}
}

/* [api_key:*] mask_numbers: yes/no (and the other spellings of a boolean), default no; a change of
 * it alone is a changed key at SIGHUP. */
static void test_key_mask_numbers(void **state)
{
	static const char fmt[] = "[api_key:dash]\nhash = sha256:%s\nscopes = read\n%s"
				  "[api_key:crm]\nhash = sha256:%s\nscopes = send,read\n";
	const char *h1 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
	const char *h2 = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
	static const struct { const char *line; bool want; } cases[] = {
		{ "mask_numbers = yes\n", true }, { "mask_numbers = true\n", true }, { "mask_numbers = on\n", true },
		{ "mask_numbers = 1\n", true }, { "mask_numbers = no\n", false }, { "mask_numbers = off\n", false },
		{ "", false },
	};
	char text[1024], err[256] = "";
	struct config cur, next;
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), fmt, h1, cases[i].line, h2);
		assert_int_equal(load(text, &cur, err, sizeof(err)), 0);
		assert_int_equal(cur.napi_keys, 2);
		assert_int_equal(cur.api_keys[0].mask_numbers, cases[i].want);
		assert_int_equal(cur.api_keys[0].scopes, SCOPE_READ);
		assert_false(cur.api_keys[1].mask_numbers);
		config_free(&cur);
	}
	snprintf(text, sizeof(text), fmt, h1, "", h2);
	assert_int_equal(load(text, &cur, err, sizeof(err)), 0);
	snprintf(text, sizeof(text), fmt, h1, "mask_numbers = yes\n", h2);
	assert_int_equal(load(text, &next, err, sizeof(err)), 0);
	assert_int_equal(config_apply_reload(&cur, &next), 1);
	assert_true(cur.api_keys[0].mask_numbers);
	config_free(&next);
	config_free(&cur);
}

/* SIGHUP: reloadable rows and the key set move to the running config; the rest stays until restart. */
static void test_apply_reload(void **state)
{
	static const char base[] = "[daemon]\nlog_level = info\nstate_dir = /tmp/a\n[api]\nrate_limit = 10\n"
				   "[modem:m0]\nport = /dev/a\n"
				   "[api_key:old]\nhash = sha256:%s\nscopes = read\n";
	static const char next_text[] = "; moved down a line\n[daemon]\nlog_level = debug\nstate_dir = /tmp/b\n"
					"[api]\nrate_limit = 20\n[modem:m0]\nport = /dev/a\n"
					"[api_key:old]\nhash = sha256:%s\nscopes = read\n"
					"[api_key:new]\nhash = sha256:%s\nscopes = send,read\n";
	const char *h1 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
	const char *h2 = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
	char text[1024], err[256] = "";
	struct config cur, next;
	(void)state;

	snprintf(text, sizeof(text), base, h1);
	assert_int_equal(load(text, &cur, err, sizeof(err)), 0);
	snprintf(text, sizeof(text), next_text, h1, h2);
	assert_int_equal(load(text, &next, err, sizeof(err)), 0);
	/* log_level, rate_limit and the key set: 3 changes; state_dir needs a restart and stays. */
	assert_int_equal(config_apply_reload(&cur, &next), 3);
	assert_int_equal(cur.log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(cur.api_rate_limit, 20);
	assert_string_equal(cur.state_dir, "/tmp/a");
	assert_int_equal(cur.napi_keys, 2);
	assert_string_equal(cur.api_keys[1].name, "new");
	assert_int_equal(cur.api_keys[1].scopes, SCOPE_SEND | SCOPE_READ);
	assert_int_equal(next.napi_keys, 1);   /* the old set, for config_free */
	config_free(&next);

	/* The same file again (modem sections on other lines): nothing to apply. */
	assert_int_equal(load(text, &next, err, sizeof(err)), 0);
	assert_int_equal(config_apply_reload(&cur, &next), 0);
	config_free(&next);
	config_free(&cur);
}

static void test_router_keys(void **state)
{
	struct config cfg;
	char err[256] = "";
	(void)state;
	assert_int_equal(load("[daemon]\n", &cfg, err, sizeof(err)), 0);
	/* the defaults reproduce the scoring before weights were configurable */
	assert_true(cfg.weight_signal == 1.0 && cfg.weight_failure == 2.0 && cfg.weight_headroom == 0.5);
	assert_true(cfg.weight_latency == 0.25 && cfg.weight_affinity == 1.0);
	assert_int_equal(cfg.quota_recipients[0], 0);
	assert_int_equal(cfg.quota_recipients[1], 0);
	assert_int_equal(cfg.national_languages, 0);   /* no shift table unless asked for */
	config_free(&cfg);
	assert_int_equal(load("[router]\nnational_languages = tr, es\thi\n", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.national_languages,
			 (1u << pdu_lang_parse("tr")) | (1u << pdu_lang_parse("es")) | (1u << pdu_lang_parse("hi")));
	config_free(&cfg);
	assert_int_equal(load("[router]\nweight_signal = 0.5\nweight_latency = 3\n"
			      "[quota]\nrecipients_day = 50\nrecipients_month = 250\n"
			      "[modem:a]\nport = /dev/a\nprefixes = +4477, 4478,\t+33\nrestrict_prefixes = yes\n"
			      "quota_recipients_month = 10\n"
			      "[modem:b]\nport = /dev/b\n",
			      &cfg, err, sizeof(err)), 0);
	assert_true(cfg.weight_signal == 0.5 && cfg.weight_latency == 3.0);
	assert_int_equal(cfg.quota_recipients[0], 50);
	assert_int_equal(cfg.quota_recipients[1], 250);
	assert_int_equal(cfg.modems[0].nprefixes, 3);
	assert_string_equal(cfg.modems[0].prefixes[0], "+4477");
	assert_string_equal(cfg.modems[0].prefixes[1], "+4478");
	assert_string_equal(cfg.modems[0].prefixes[2], "+33");
	assert_true(cfg.modems[0].restrict_prefixes);
	assert_int_equal(cfg.modems[0].recipients[0], -1);
	assert_int_equal(cfg.modems[0].recipients[1], 10);
	assert_int_equal(cfg.modems[1].nprefixes, 0);
	assert_false(cfg.modems[1].restrict_prefixes);
	config_free(&cfg);
}

/* SIGHUP: quotas, weights and a modem's prefixes apply in place (config_reload_modem_policy); a port
 * change comes with the sections swapped by config_apply_reload. */
static void test_reload_router_policy(void **state)
{
	char err[256] = "";
	struct config cur, next;
	(void)state;
	assert_int_equal(load("[quota]\nday = 100\n[router]\nweight_signal = 1\n"
			      "[modem:m0]\nport = /dev/a\n[modem:m1]\nport = /dev/b\nquota_recipients_month = 5\n",
			      &cur, err, sizeof(err)), 0);
	assert_int_equal(load("[quota]\nday = 50\nrecipients_month = 7\n[router]\nweight_signal = 0\n"
			      "[modem:m1]\nport = /dev/b\nquota_recipients_month = 2\nprefixes = +4477\n"
			      "restrict_prefixes = yes\n[modem:m0]\nport = /dev/z\nquota_day = 3\n",
			      &next, err, sizeof(err)), 0);
	assert_int_equal(config_reload_modem_policy(&cur, &next), 2);
	assert_int_equal(cur.modems[0].quota[2], 3);
	assert_string_equal(cur.modems[0].port, "/dev/a");            /* config_apply_reload's business */
	assert_int_equal(cur.modems[1].recipients[1], 2);
	assert_int_equal(cur.modems[1].nprefixes, 1);
	assert_string_equal(cur.modems[1].prefixes[0], "+4477");
	assert_true(cur.modems[1].restrict_prefixes);
	/* day, recipients_month, weight_signal, and the [modem:*] sections (m0's port: modem_set_reload
	 * drained and restarted it before this call) */
	assert_int_equal(config_apply_reload(&cur, &next), 4);
	assert_string_equal(cur.modems[1].name, "m0");
	assert_string_equal(cur.modems[1].port, "/dev/z");
	assert_int_equal(cur.quota[2], 50);
	assert_int_equal(cur.quota_recipients[1], 7);
	assert_true(cur.weight_signal == 0.0);
	assert_int_equal(config_reload_modem_policy(&cur, &next), 0);   /* nothing left to move */
	config_free(&next);
	config_free(&cur);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_optout_section),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_retention_durations),
		cmocka_unit_test(test_log_targets),
		cmocka_unit_test(test_store_postgresql),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_shipped_configs_parse),
		cmocka_unit_test(test_apply_reload),
		cmocka_unit_test(test_key_mask_numbers),
		cmocka_unit_test(test_router_keys),
		cmocka_unit_test(test_reload_router_policy),
		cmocka_unit_test(test_carrier_keys),
		cmocka_unit_test(test_reload_carriers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
