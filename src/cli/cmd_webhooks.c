/* cmd_webhooks: `simroute webhooks [--failed] [--limit N]` and `simroute webhooks replay ID`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int replay(struct cli *cli, const char *id)
{
	struct client_reply r;
	char path[64];
	int rc;
	if (!*id || strlen(id) > 18 || strspn(id, "0123456789") != strlen(id))
		return EXIT_USAGE;
	snprintf(path, sizeof(path), "/v1/webhooks/%s/replay", id);
	if ((rc = cli_call(cli, "POST", path, NULL, &r)) != EXIT_OK)
		return rc;
	if (cli->json)
		cli_print_json(r.body);
	else
		printf("webhook %s: %s again\n", id, cli_str(r.body, "status"));
	client_reply_free(&r);
	return EXIT_OK;
}

static void row(const struct cli *cli, json_t *w)
{
	const char *next = cli_str(w, "next_at");
	char t[32];
	(void)cli;
	printf("%-6lld %-19.19s %-9.9s %-8lld %3lld %-14s %.16s\n", cli_int(w, "id"), cli_str(w, "event"),
	       cli_str(w, "status"), cli_int(w, "message_id"), cli_int(w, "attempts"),
	       cli_time(*next ? next : cli_str(w, "delivered_at"), t, sizeof(t)), cli_str(w, "last_error"));
}

int cmd_webhooks(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "failed", required_argument, NULL, 0x100 },
					      { "limit", required_argument, NULL, 0x101 },
					      { "cursor", required_argument, NULL, 0x102 },
					      { NULL, 0, NULL, 0 } };
	static const struct cli_listing l = {
		.path = "/v1/webhooks", .opts = opts, .key = "webhooks", .row = row, .more = "simroute webhooks",
		.header = "ID     EVENT               STATUS    MESSAGE  TRY NEXT           LAST ERROR\n",
	};
	char *args[16];
	int n = 0;

	if (argc == 3 && strcmp(argv[1], "replay") == 0)
		return replay(cli, argv[2]);
	/* `--failed` is a flag here; the API takes failed=1 */
	for (int a = 0; a < argc && n < 15; a++) {
		args[n++] = argv[a];
		if (strcmp(argv[a], "--failed") == 0 && n < 15)
			args[n++] = "1";
	}
	args[n] = NULL;
	return cli_listing(cli, n, args, &l);
}
