/* simroute: the admin CLI — a table of commands, each a call to simrouted's API over its Unix socket. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_pdu.h"
#include "client.h"

#define DEFAULT_SOCKET "/run/simroute/api.sock"

struct cli {
	const char *socket;
	int json;
};

static void print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	if (s) {
		puts(s);
		free(s);
	}
}

static long long jint(json_t *o, const char *k) { return (long long)json_integer_value(json_object_get(o, k)); }
static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static int cmd_status(struct cli *cli, int argc, char **argv)
{
	struct client_reply r;
	int rc;
	(void)argv;
	if (argc != 1)
		return EXIT_USAGE;
	if ((rc = client_call(cli->socket, "GET", "/v1/status", NULL, &r)) != EXIT_OK)
		return rc;
	if (r.status != 200 || !r.body) {
		client_print_error(&r);
		client_reply_free(&r);
		return EXIT_FAILED;
	}
	if (cli->json) {
		print_json(r.body);
		client_reply_free(&r);
		return EXIT_OK;
	}
	json_t *q = json_object_get(r.body, "queue"), *lanes = json_object_get(q, "queued");
	json_t *st = json_object_get(q, "by_state"), *routes = json_object_get(r.body, "routes");
	json_t *store = json_object_get(r.body, "store"), *modems = json_object_get(r.body, "modems");
	long long up = jint(r.body, "uptime_s");
	long long ready = jint(routes, "ready"), total = jint(routes, "total");

	/* Problems first, in words. */
	if (total == 0)
		printf("PROBLEM: no modems configured; messages wait in the queue\n");
	else if (ready == 0)
		printf("PROBLEM: no modem is ready (0 of %lld); messages wait in the queue\n", total);
	if (jint(st, "uncertain"))
		printf("ATTENTION: %lld message(s) uncertain (may or may not have been sent)\n", jint(st, "uncertain"));
	printf("simrouted %s, up %lldh%02lldm%02llds, store %s (%lld KiB)\n", jstr(r.body, "version"), up / 3600,
	       up / 60 % 60, up % 60, jstr(store, "path"), jint(store, "size_bytes") / 1024);
	printf("queue:   %lld queued (otp %lld, normal %lld, bulk %lld), %lld sending\n", jint(st, "queued"),
	       jint(lanes, "otp"), jint(lanes, "normal"), jint(lanes, "bulk"), jint(st, "sending"));
	printf("done:    %lld sent, %lld delivered, %lld failed, %lld expired, %lld uncertain\n", jint(st, "sent"),
	       jint(st, "delivered"), jint(st, "failed"), jint(st, "expired"), jint(st, "uncertain"));
	printf("routes:  %lld of %lld ready\n", ready, total);
	if (json_array_size(modems)) {
		size_t i;
		json_t *m;
		printf("\n%-14s %-13s %-16s %6s %7s %6s  %s\n", "MODEM", "STATE", "IMEI", "SIGNAL", "SENT", "FAILED",
		       "LAST ERROR");
		json_array_foreach(modems, i, m) {
			long long rssi = jint(m, "rssi");
			char sig[16];
			if (rssi >= 0 && rssi <= 31)
				snprintf(sig, sizeof(sig), "%lld", -113 + 2 * rssi);
			else
				snprintf(sig, sizeof(sig), "-");
			printf("%-14.14s %-13.13s %-16.16s %6s %7lld %6lld  %.20s\n", jstr(m, "name"), jstr(m, "state"),
			       jstr(m, "imei"), sig, jint(m, "sent"), jint(m, "failed"), jstr(m, "last_error"));
		}
	}
	client_reply_free(&r);
	return EXIT_OK;
}

static int cmd_send(struct cli *cli, int argc, char **argv)
{
	const char *priority = NULL;
	struct client_reply r;
	int rc, c;
	static const struct option opts[] = { { "otp", no_argument, NULL, 'o' },
					      { "bulk", no_argument, NULL, 'b' },
					      { NULL, 0, NULL, 0 } };
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'o')
			priority = "otp";
		else if (c == 'b')
			priority = "bulk";
		else
			return EXIT_USAGE;
	}
	if (argc - optind != 2)
		return EXIT_USAGE;
	json_t *body = json_pack("{s:s, s:s}", "to", argv[optind], "text", argv[optind + 1]);
	if (priority)
		json_object_set_new(body, "priority", json_string(priority));
	rc = client_call(cli->socket, "POST", "/v1/messages", body, &r);
	json_decref(body);
	if (rc != EXIT_OK)
		return rc;
	if (r.status != 202 || !r.body) {
		client_print_error(&r);
		client_reply_free(&r);
		return r.status == 400 ? EXIT_USAGE : EXIT_FAILED;
	}
	if (cli->json)
		print_json(r.body);
	else
		printf("queued: id %lld (%lld part%s, %s)\n", jint(r.body, "id"), jint(r.body, "parts"),
		       jint(r.body, "parts") == 1 ? "" : "s", jstr(r.body, "priority"));
	client_reply_free(&r);
	return EXIT_OK;
}

static int cmd_show(struct cli *cli, int argc, char **argv)
{
	struct client_reply r;
	char path[64];
	int rc;
	if (argc != 2 || strlen(argv[1]) > 20 || strspn(argv[1], "0123456789") != strlen(argv[1]))
		return EXIT_USAGE;
	snprintf(path, sizeof(path), "/v1/messages/%s", argv[1]);
	if ((rc = client_call(cli->socket, "GET", path, NULL, &r)) != EXIT_OK)
		return rc;
	if (r.status != 200 || !r.body) {
		client_print_error(&r);
		client_reply_free(&r);
		return EXIT_FAILED;
	}
	if (cli->json) {
		print_json(r.body);
	} else {
		const char *keys[] = { "id", "to", "status", "priority", "parts", "parts_sent", "attempts", "route",
				       "error", "created_at", "sent_at", "expires_at" };
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			json_t *v = json_object_get(r.body, keys[i]);
			if (json_is_string(v))
				printf("%-11s %s\n", keys[i], json_string_value(v));
			else if (json_is_integer(v))
				printf("%-11s %lld\n", keys[i], (long long)json_integer_value(v));
			else
				printf("%-11s -\n", keys[i]);
		}
	}
	client_reply_free(&r);
	return EXIT_OK;
}

static int cmd_pdu(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	return cli_pdu_main(argc, argv);
}

/* The command grammar table (smtpctl style). */
static const struct command {
	const char *name, *args, *help;
	int (*run)(struct cli *, int, char **);
} commands[] = {
	{ "status", "", "daemon, queue and modems at a glance", cmd_status },
	{ "send", "[--otp|--bulk] TO TEXT", "queue a message (TO in E.164, e.g. +447700900123)", cmd_send },
	{ "show", "ID", "one message: status, route, timestamps", cmd_show },
	{ "pdu", "[encode|decode]", "PDU codec: JSON lines on stdin -> JSON lines on stdout", cmd_pdu },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: simroute [-s SOCKET] [--json] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		char left[48];
		snprintf(left, sizeof(left), "%s %s", commands[i].name, commands[i].args);
		fprintf(out, "  %-32s %s\n", left, commands[i].help);
	}
	fprintf(out, "\n  -s SOCKET  simrouted's API socket (default $SIMROUTE_SOCKET or %s)\n"
		     "  --json     machine-readable output\n"
		     "exit codes: 0 ok, 1 operation failed, 2 usage error, 3 daemon unreachable\n",
		DEFAULT_SOCKET);
}

int main(int argc, char **argv)
{
	struct cli cli = { .socket = getenv("SIMROUTE_SOCKET") };
	static const struct option opts[] = { { "socket", required_argument, NULL, 's' },
					      { "json", no_argument, NULL, 'j' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	int c;

	if (!cli.socket || !*cli.socket)
		cli.socket = DEFAULT_SOCKET;
	/* "+": stop at the command name, so its own options are its own. */
	while ((c = getopt_long(argc, argv, "+s:jh", opts, NULL)) != -1) {
		switch (c) {
		case 's': cli.socket = optarg; break;
		case 'j': cli.json = 1; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) != 0)
			continue;
		int rc = commands[i].run(&cli, argc - optind, argv + optind);
		if (rc == EXIT_USAGE)
			fprintf(stderr, "usage: simroute %s %s\n", commands[i].name, commands[i].args);
		return rc;
	}
	fprintf(stderr, "simroute: unknown command \"%s\"\n", argv[optind]);
	usage(stderr);
	return EXIT_USAGE;
}
