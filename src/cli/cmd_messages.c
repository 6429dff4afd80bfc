/* cmd_messages: `send`, `show`, `messages`, `cancel` — messages through the API. */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static int valid_id(const char *s)
{
	return *s && strlen(s) <= 18 && strspn(s, "0123456789") == strlen(s);
}

/* Follows a message until its status is final, with a live status line on a terminal. */
static int wait_final(struct cli *cli, long long id, int timeout_s)
{
	char path[64], last[32] = "";
	struct client_reply r;
	time_t deadline = time(NULL) + timeout_s;
	int tty = isatty(STDERR_FILENO);

	snprintf(path, sizeof(path), "/v1/messages/%lld", id);
	for (;;) {
		int rc = cli_call(cli, "GET", path, NULL, &r);
		if (rc != EXIT_OK)
			return rc;
		const char *st = cli_str(r.body, "status");
		if (strcmp(st, last) != 0 || tty) {
			if (tty)
				fprintf(stderr, "\r\033[Kmessage %lld: %s%s%s", id, cli_state_color(cli, st), st, cli_reset(cli));
			else
				fprintf(stderr, "message %lld: %s\n", id, st);
			snprintf(last, sizeof(last), "%s", st);
		}
		if (cli_status_final(st)) {
			if (tty)
				fprintf(stderr, "\n");
			if (*cli_str(r.body, "error"))
				fprintf(stderr, "  %s\n", cli_str(r.body, "error"));
			if (cli->json)
				cli_print_json(r.body);
			int ok = !strcmp(st, "sent") || !strcmp(st, "delivered");
			client_reply_free(&r);
			return ok ? EXIT_OK : EXIT_FAILED;
		}
		client_reply_free(&r);
		if (time(NULL) >= deadline) {
			fprintf(stderr, "%ssimroute: gave up waiting after %d s; the message is still %s\n", tty ? "\n" : "",
				timeout_s, last);
			return EXIT_FAILED;
		}
		usleep(200000);
	}
}

int cmd_send(struct cli *cli, int argc, char **argv)
{
	const char *priority = NULL;
	struct client_reply r;
	int rc, c, wait = 0, timeout = 300;
	static const struct option opts[] = { { "otp", no_argument, NULL, 'o' },
					      { "bulk", no_argument, NULL, 'b' },
					      { "wait", no_argument, NULL, 'w' },
					      { "timeout", required_argument, NULL, 't' },
					      { NULL, 0, NULL, 0 } };
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'o')
			priority = "otp";
		else if (c == 'b')
			priority = "bulk";
		else if (c == 'w')
			wait = 1;
		else if (c == 't' && (timeout = atoi(optarg)) > 0)
			continue;
		else
			return EXIT_USAGE;
	}
	if (argc - optind != 2)
		return EXIT_USAGE;
	json_t *body = json_pack("{s:s, s:s}", "to", argv[optind], "text", argv[optind + 1]);
	if (priority)
		json_object_set_new(body, "priority", json_string(priority));
	rc = cli_call(cli, "POST", "/v1/messages", body, &r);
	json_decref(body);
	if (rc != EXIT_OK)
		return rc;
	long long id = cli_int(r.body, "id");
	if (cli->json && !wait)
		cli_print_json(r.body);
	else if (!cli->json)
		printf("queued: id %lld (%lld part%s, %s)\n", id, cli_int(r.body, "parts"),
		       cli_int(r.body, "parts") == 1 ? "" : "s", cli_str(r.body, "priority"));
	fflush(stdout);
	client_reply_free(&r);
	return wait ? wait_final(cli, id, timeout) : EXIT_OK;
}

static void print_events(json_t *events)
{
	size_t i;
	json_t *e;
	char t[32];
	if (!json_is_array(events) || !json_array_size(events))
		return;
	printf("\ntimeline:\n");
	json_array_foreach(events, i, e) {
		printf("  %s  %-9s -> %-9s %s%s%s\n", cli_time(cli_str(e, "at"), t, sizeof(t)), cli_str(e, "from"),
		       cli_str(e, "to"), cli_str(e, "route"), *cli_str(e, "error") ? "  " : "", cli_str(e, "error"));
	}
}

/* `CMD ID`: METHOD /v1/messages/ID. */
static int message_call(struct cli *cli, int argc, char **argv, const char *method, struct client_reply *r)
{
	char path[64];
	if (argc != 2 || !valid_id(argv[1]))
		return EXIT_USAGE;
	snprintf(path, sizeof(path), "/v1/messages/%s", argv[1]);
	return cli_call(cli, method, path, NULL, r);
}

int cmd_show(struct cli *cli, int argc, char **argv)
{
	struct client_reply r;
	int rc;
	if ((rc = message_call(cli, argc, argv, "GET", &r)) != EXIT_OK)
		return rc;
	if (cli->json) {
		cli_print_json(r.body);
	} else {
		static const char *const keys[] = { "id", "to", "status", "priority", "reference", "parts", "parts_sent",
						    "attempts", "route", "error", "created_at", "sent_at", "expires_at" };
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			json_t *v = json_object_get(r.body, keys[i]);
			if (json_is_string(v))
				printf("%-11s %s%s%s\n", keys[i], !strcmp(keys[i], "status") ? cli_state_color(cli, json_string_value(v)) : "",
				       json_string_value(v), !strcmp(keys[i], "status") ? cli_reset(cli) : "");
			else if (json_is_integer(v))
				printf("%-11s %lld\n", keys[i], (long long)json_integer_value(v));
			else if (v)
				printf("%-11s -\n", keys[i]);
		}
		print_events(json_object_get(r.body, "events"));
	}
	client_reply_free(&r);
	return EXIT_OK;
}

static void message_row(const struct cli *cli, json_t *m)
{
	const char *st = cli_str(m, "status");
	char t[32];
	printf("%-8lld %s%-10s%s %-6s %-16.16s %-10.10s %-14s %.10s\n", cli_int(m, "id"), cli_state_color(cli, st), st,
	       cli_reset(cli), cli_str(m, "priority"), cli_str(m, "to"), cli_str(m, "route"),
	       cli_time(cli_str(m, "created_at"), t, sizeof(t)), cli_str(m, "error"));
}

int cmd_messages(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "status", required_argument, NULL, 0x100 },
					      { "since", required_argument, NULL, 0x101 },
					      { "to", required_argument, NULL, 0x102 },
					      { "limit", required_argument, NULL, 0x103 },
					      { "cursor", required_argument, NULL, 0x104 },
					      { NULL, 0, NULL, 0 } };
	static const struct cli_listing l = {
		.path = "/v1/messages", .opts = opts, .key = "messages", .row = message_row, .more = "simroute messages",
		.header = "ID       STATUS     PRIO   TO               ROUTE      CREATED        ERROR\n",
	};
	return cli_listing(cli, argc, argv, &l);
}

int cmd_cancel(struct cli *cli, int argc, char **argv)
{
	struct client_reply r;
	int rc;
	if ((rc = message_call(cli, argc, argv, "DELETE", &r)) != EXIT_OK)
		return rc;
	if (cli->json)
		cli_print_json(r.body);
	else
		printf("message %s: %s\n", argv[1], cli_str(r.body, "status"));
	client_reply_free(&r);
	return EXIT_OK;
}

int cmd_explain(struct cli *cli, int argc, char **argv)
{
	struct client_reply r;
	char path[80];
	size_t i;
	json_t *line;
	int rc;
	if (argc != 2 || !valid_id(argv[1]))
		return EXIT_USAGE;
	snprintf(path, sizeof(path), "/v1/messages/%s/explain", argv[1]);
	if ((rc = cli_call(cli, "GET", path, NULL, &r)) != EXIT_OK)
		return rc;
	if (cli->json) {
		cli_print_json(r.body);
	} else {
		const char *st = cli_str(r.body, "status");
		printf("message %s (%s): %s%s%s\n", argv[1], cli_str(r.body, "priority"), cli_state_color(cli, st), st,
		       cli_reset(cli));
		json_array_foreach(json_object_get(r.body, "explanation"), i, line)
			printf("  %s\n", json_string_value(line));
	}
	client_reply_free(&r);
	return EXIT_OK;
}

static void inbound_row(const struct cli *cli, json_t *m)
{
	char t[32], text[64];
	(void)cli;
	cli_one_line(json_is_true(json_object_get(m, "purged")) ? "(text erased by retention)" : cli_str(m, "text"), text,
		     sizeof(text));
	printf("%-7lld %-14s %-16.16s %-10.10s %s%s\n", cli_int(m, "id"), cli_time(cli_str(m, "received_at"), t, sizeof(t)),
	       cli_str(m, "from"), cli_str(m, "route"), text,
	       json_is_false(json_object_get(m, "complete")) ? " (incomplete)" : "");
}

int cmd_inbound(struct cli *cli, int argc, char **argv)
{
	static const struct cli_listing l = {
		.path = "/v1/inbound", .key = "inbound", .row = inbound_row, .more = "simroute inbound",
		.header = "ID      RECEIVED       FROM             ROUTE      TEXT\n",
	};
	return cli_listing(cli, argc, argv, &l);
}
