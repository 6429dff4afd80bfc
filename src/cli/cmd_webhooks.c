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

int cmd_webhooks(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "failed", required_argument, NULL, 0x100 },
					      { "limit", required_argument, NULL, 0x101 },
					      { "cursor", required_argument, NULL, 0x102 },
					      { NULL, 0, NULL, 0 } };
	char path[256], t1[32], t2[32];
	char *args[16];
	struct client_reply r;
	size_t i;
	json_t *w;
	int rc, n = 0;

	if (argc == 3 && strcmp(argv[1], "replay") == 0)
		return replay(cli, argv[2]);
	/* `--failed` is a flag here; the API takes failed=1 */
	for (int a = 0; a < argc && n < 15; a++) {
		args[n++] = argv[a];
		if (strcmp(argv[a], "--failed") == 0 && n < 15)
			args[n++] = "1";
	}
	args[n] = NULL;
	if ((rc = cli_query_path("/v1/webhooks", n, args, opts, path, sizeof(path))) != EXIT_OK)
		return rc;
	if ((rc = cli_call(cli, "GET", path, NULL, &r)) != EXIT_OK)
		return rc;
	if (cli->json) {
		cli_print_json(r.body);
	} else {
		printf("%-6s %-19s %-9s %-8s %3s %-14s %s\n", "ID", "EVENT", "STATUS", "MESSAGE", "TRY", "NEXT", "LAST ERROR");
		json_array_foreach(json_object_get(r.body, "webhooks"), i, w) {
			const char *next = cli_str(w, "next_at");
			printf("%-6lld %-19.19s %-9.9s %-8lld %3lld %-14s %.16s\n", cli_int(w, "id"), cli_str(w, "event"),
			       cli_str(w, "status"), cli_int(w, "message_id"), cli_int(w, "attempts"),
			       *next ? cli_time(next, t1, sizeof(t1)) : cli_time(cli_str(w, "delivered_at"), t2, sizeof(t2)),
			       cli_str(w, "last_error"));
		}
		if (*cli_str(r.body, "next_cursor"))
			printf("more: simroute webhooks --cursor %s\n", cli_str(r.body, "next_cursor"));
	}
	client_reply_free(&r);
	return EXIT_OK;
}
