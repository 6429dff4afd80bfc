/* cmd_status: `status`, `modems`, `modem NAME`, `watch` — the daemon, its queue and its modems at a glance. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* Problems first, in words: what an operator at 3 a.m. must act on. Returns how many were printed. */
static int print_problems(const struct cli *cli, json_t *st)
{
	json_t *routes = json_object_get(st, "routes"), *by_state = json_object_get(json_object_get(st, "queue"), "by_state");
	json_t *modems = json_object_get(st, "modems"), *m;
	long long ready = cli_int(routes, "ready"), total = cli_int(routes, "total");
	const char *red = cli->color ? "\033[31m" : "", *off = cli_reset(cli);
	int n = 0;
	size_t i;

	if (total == 0) {
		printf("%sPROBLEM%s: no modems configured; messages wait in the queue\n", red, off);
		n++;
	} else if (ready == 0) {
		printf("%sPROBLEM%s: no modem is ready (0 of %lld); messages wait in the queue\n", red, off, total);
		n++;
	}
	json_array_foreach(modems, i, m) {
		const char *state = cli_str(m, "state");
		if (strcmp(state, "ready") && strcmp(state, "busy") && strcmp(state, "disabled")) {
			printf("%sPROBLEM%s: modem %s is %s%s%s\n", red, off, cli_str(m, "name"), state,
			       *cli_str(m, "last_error") ? ": " : "", cli_str(m, "last_error"));
			n++;
		}
	}
	json_t *carrier = json_object_get(st, "carrier");
	if (json_is_object(carrier) && strcmp(cli_str(carrier, "breaker"), "closed") != 0) {
		printf("%sPROBLEM%s: carrier %s is failing (breaker %s): messages that need it wait\n", red, off,
		       cli_str(carrier, "name"), cli_str(carrier, "breaker"));
		n++;
	}
	json_t *wh = json_object_get(st, "webhooks");
	if (cli_int(wh, "given_up")) {
		printf("%sATTENTION%s: %lld webhook event(s) given up: see `simroute webhooks --failed`, replay with "
		       "`simroute webhooks replay ID`\n", red, off, cli_int(wh, "given_up"));
		n++;
	}
	if (cli_int(by_state, "uncertain")) {
		printf("%sATTENTION%s: %lld message(s) uncertain: a send was cut after the PDU reached a modem; "
		       "check with the recipient before resending\n", red, off, cli_int(by_state, "uncertain"));
		n++;
	}
	return n;
}

/* "used/limit" of a route's quota window, or "used" when it has no limit. */
static const char *quota_cell(json_t *m, const char *window, char *buf, size_t len)
{
	json_t *q = json_object_get(json_object_get(json_object_get(m, "route"), "quota"), window);
	if (!q)
		snprintf(buf, len, "-");
	else if (json_is_integer(json_object_get(q, "limit")))
		snprintf(buf, len, "%lld/%lld", cli_int(q, "used"), cli_int(q, "limit"));
	else
		snprintf(buf, len, "%lld", cli_int(q, "used"));
	return buf;
}

static void print_modem_table(const struct cli *cli, json_t *modems)
{
	size_t i;
	json_t *m;
	char sig[32], today[32];
	/* 80 columns: 10+1+12+1+12+1+10+1+11+1+4+1+15. TODAY: segments sent today / the day quota. */
	printf("%-10s %-12s %-12s %-10s %11s %4s %s\n", "MODEM", "STATE", "SIGNAL", "OPERATOR", "TODAY", "FAIL",
	       "LAST ERROR");
	json_array_foreach(modems, i, m) {
		const char *state = cli_str(m, "state");
		double fail = json_number_value(json_object_get(json_object_get(m, "route"), "failure_rate"));
		printf("%-10.10s %s%-12.12s%s %-12s %-10.10s %11.11s %3d%% %.15s\n", cli_str(m, "name"),
		       cli_state_color(cli, state), state, cli_reset(cli),
		       cli_signal((int)cli_int(m, "rssi"), sig, sizeof(sig)),
		       *cli_str(m, "operator") ? cli_str(m, "operator") : "-", quota_cell(m, "day", today, sizeof(today)),
		       (int)(fail * 100 + 0.5), cli_str(m, "last_error"));
	}
}

static void print_status(const struct cli *cli, json_t *st)
{
	json_t *q = json_object_get(st, "queue"), *lanes = json_object_get(q, "queued");
	json_t *by = json_object_get(q, "by_state"), *routes = json_object_get(st, "routes");
	json_t *store = json_object_get(st, "store");
	long long up = cli_int(st, "uptime_s");

	if (print_problems(cli, st))
		printf("\n");
	printf("simrouted %s, up %lldd %02lldh%02lldm, store %s (%lld KiB)\n", cli_str(st, "version"), up / 86400,
	       up / 3600 % 24, up / 60 % 60, cli_str(store, "path"), cli_int(store, "size_bytes") / 1024);
	printf("queue:   %lld queued (otp %lld, normal %lld, bulk %lld), %lld sending\n", cli_int(by, "queued"),
	       cli_int(lanes, "otp"), cli_int(lanes, "normal"), cli_int(lanes, "bulk"), cli_int(by, "sending"));
	printf("done:    %lld sent, %lld delivered, %lld failed, %lld expired, %lld cancelled, %lld uncertain\n",
	       cli_int(by, "sent"), cli_int(by, "delivered"), cli_int(by, "failed"), cli_int(by, "expired"),
	       cli_int(by, "cancelled"), cli_int(by, "uncertain"));
	printf("routes:  %lld of %lld ready\n", cli_int(routes, "ready"), cli_int(routes, "total"));
	json_t *carrier = json_object_get(st, "carrier"), *wh = json_object_get(st, "webhooks");
	if (json_is_object(carrier))
		printf("carrier: %s, breaker %s, %lld sent, %lld failed, %lld in flight\n", cli_str(carrier, "name"),
		       cli_str(carrier, "breaker"), cli_int(carrier, "sent"), cli_int(carrier, "failed"),
		       cli_int(carrier, "inflight"));
	else
		printf("carrier: none configured\n");
	if (json_is_object(wh)) {
		char t[32];
		printf("webhooks: %lld pending", cli_int(wh, "pending"));
		if (*cli_str(wh, "oldest_pending_at"))
			printf(" (oldest %s)", cli_time(cli_str(wh, "oldest_pending_at"), t, sizeof(t)));
		printf(", %lld given up\n", cli_int(wh, "given_up"));
	}
	if (json_array_size(json_object_get(st, "modems"))) {
		printf("\n");
		print_modem_table(cli, json_object_get(st, "modems"));
	}
}

static int get_status(struct cli *cli, struct client_reply *r)
{
	return cli_call(cli, "GET", "/v1/status", NULL, r);
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
	struct client_reply r;
	int rc;
	(void)argv;
	if (argc != 1)
		return EXIT_USAGE;
	if ((rc = get_status(cli, &r)) != EXIT_OK)
		return rc;
	if (cli->json)
		cli_print_json(r.body);
	else
		print_status(cli, r.body);
	client_reply_free(&r);
	return EXIT_OK;
}

int cmd_modems(struct cli *cli, int argc, char **argv)
{
	struct client_reply r;
	int rc;
	(void)argv;
	if (argc != 1)
		return EXIT_USAGE;
	if ((rc = get_status(cli, &r)) != EXIT_OK)
		return rc;
	json_t *modems = json_object_get(r.body, "modems");
	if (cli->json)
		cli_print_json(modems);
	else if (json_array_size(modems) == 0)
		printf("no modems configured\n");
	else
		print_modem_table(cli, modems);
	client_reply_free(&r);
	return EXIT_OK;
}

/* The route's side of one modem: quota per window, failure rate, breaker. */
static void print_route(json_t *m)
{
	static const char *const windows[] = { "minute", "hour", "day", "month" };
	json_t *rt = json_object_get(m, "route");
	char cell[48];
	if (!rt)
		return;
	printf("%-12s", "quota");
	for (size_t w = 0; w < 4; w++)
		printf(" %s %s%s", windows[w], quota_cell(m, windows[w], cell, sizeof(cell)), w < 3 ? "," : "\n");
	printf("%-12s %.1f%%\n", "failures", json_number_value(json_object_get(rt, "failure_rate")) * 100);
	printf("%-12s %s", "breaker", cli_str(rt, "breaker"));
	if (*cli_str(rt, "cooldown_until"))
		printf(" until %s", cli_time(cli_str(rt, "cooldown_until"), cell, sizeof(cell)));
	printf("\n");
	if (json_is_integer(json_object_get(rt, "message_id")))
		printf("%-12s %lld\n", "sending", cli_int(rt, "message_id"));
}

/* prefixes: "+4477, +4478" */
static void print_list(const char *key, json_t *arr)
{
	size_t i;
	json_t *e;
	printf("%-12s ", key);
	json_array_foreach(arr, i, e)
		printf("%s%s", i ? ", " : "", json_is_string(e) ? json_string_value(e) : "?");
	printf("%s\n", json_array_size(arr) ? "" : "-");
}

/* recipients: "day 12 of 50, month 212 of 250" (a window without a limit: "no limit") */
static void print_recipients(json_t *rc)
{
	static const char *const win[] = { "day", "month" };
	printf("%-12s ", "recipients");
	for (int w = 0; w < 2; w++) {
		json_t *o = json_object_get(rc, win[w]), *limit = json_object_get(o, "limit");
		if (json_is_integer(limit))
			printf("%s%s %lld of %lld", w ? ", " : "", win[w], cli_int(o, "used"),
			       (long long)json_integer_value(limit));
		else
			printf("%s%s no limit", w ? ", " : "", win[w]);
	}
	printf("\n");
}

/* recent errors, newest first: "  11-23 10:32:05  m1: +CMS ERROR 38: network out of order (x3)" */
static void print_recent_errors(json_t *errs)
{
	size_t i;
	json_t *e;
	char t[32];
	printf("%-12s %s\n", "errors", json_array_size(errs) ? "(newest first)" : "none since start");
	json_array_foreach(errs, i, e) {
		char n[24] = "";
		if (cli_int(e, "count") > 1)
			snprintf(n, sizeof(n), " (x%lld)", cli_int(e, "count"));
		printf("  %s  %.*s%s\n", cli_time(cli_str(e, "at"), t, sizeof(t)), 62 - (int)strlen(n), cli_str(e, "error"), n);
	}
}

int cmd_modem(struct cli *cli, int argc, char **argv)
{
	struct client_reply r;
	size_t i;
	json_t *m, *found = NULL;
	int rc;
	if (argc == 3) {
		/* `simroute modem NAME enable|disable|drain|reset` */
		static const char *const actions[] = { "enable", "disable", "drain", "reset" };
		char path[160];
		int known = 0;
		for (size_t a = 0; a < 4; a++)
			known |= strcmp(argv[2], actions[a]) == 0;
		if (!known || strlen(argv[1]) > 64 || strchr(argv[1], '/') || strchr(argv[1], '?'))
			return EXIT_USAGE;
		snprintf(path, sizeof(path), "/v1/modems/%s/%s", argv[1], argv[2]);
		if ((rc = cli_call(cli, "POST", path, NULL, &r)) != EXIT_OK)
			return rc;
		if (cli->json)
			cli_print_json(r.body);
		else
			printf("modem %s: %s done; now %s%s\n", argv[1], argv[2], cli_str(r.body, "state"),
			       json_is_true(json_object_get(r.body, "drained")) ? " (drained)" : "");
		client_reply_free(&r);
		return EXIT_OK;
	}
	if (argc != 2)
		return EXIT_USAGE;
	if ((rc = get_status(cli, &r)) != EXIT_OK)
		return rc;
	json_array_foreach(json_object_get(r.body, "modems"), i, m) {
		if (strcmp(cli_str(m, "name"), argv[1]) == 0)
			found = m;
	}
	if (!found) {
		fprintf(stderr, "simroute: no modem named \"%s\" (see `simroute modems`)\n", argv[1]);
		client_reply_free(&r);
		return EXIT_FAILED;
	}
	if (cli->json) {
		cli_print_json(found);
	} else {
		const char *key;
		json_t *v;
		char sig[32];
		json_object_foreach(found, key, v) {
			if (strcmp(key, "rssi") == 0)
				printf("%-12s %s\n", "signal", cli_signal((int)json_integer_value(v), sig, sizeof(sig)));
			else if (json_is_string(v))
				printf("%-12s %s\n", key, *json_string_value(v) ? json_string_value(v) : "-");
			else if (json_is_integer(v))
				printf("%-12s %lld\n", key, (long long)json_integer_value(v));
			else if (json_is_null(v))
				printf("%-12s -\n", key);
			else if (json_is_boolean(v))
				printf("%-12s %s\n", key, json_is_true(v) ? "yes" : "no");
			else if (strcmp(key, "recent_errors") == 0)
				continue;   /* last, below */
			else if (json_is_array(v))
				print_list(key, v);
			else if (strcmp(key, "recipients") == 0)
				print_recipients(v);
		}
		print_route(found);
		print_recent_errors(json_object_get(found, "recent_errors"));
	}
	client_reply_free(&r);
	return EXIT_OK;
}

static volatile sig_atomic_t watch_stop;
static void on_int(int sig) { (void)sig; watch_stop = 1; }

int cmd_watch(struct cli *cli, int argc, char **argv)
{
	int interval = 2;
	if (argc == 2) {
		char *end;
		long v = strtol(argv[1], &end, 10);
		if (*end || v < 1 || v > 3600)
			return EXIT_USAGE;
		interval = (int)v;
	} else if (argc != 1) {
		return EXIT_USAGE;
	}
	(void)argv;
	signal(SIGINT, on_int);
	signal(SIGTERM, on_int);
	while (!watch_stop) {
		struct client_reply r;
		int rc = get_status(cli, &r);
		time_t now = time(NULL);
		char ts[32];
		strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&now));
		if (!cli->json)
			printf("\033[H\033[2J");   /* home + clear: redraw in place, like top */
		if (rc == EXIT_OK) {
			if (cli->json) {
				cli_print_json(r.body);
			} else {
				printf("simroute watch — every %d s — %s — Ctrl-C to quit\n\n", interval, ts);
				print_status(cli, r.body);
			}
			client_reply_free(&r);
		} else if (rc == EXIT_UNREACHABLE && !cli->json) {
			printf("simroute watch — %s — daemon unreachable on %s; retrying\n", ts, cli->socket);
		}
		fflush(stdout);
		for (int i = 0; i < interval * 10 && !watch_stop; i++)
			usleep(100000);
	}
	return EXIT_OK;
}
