/* cmd_audit: `simroute audit [--since T] [--limit N] [--cursor C]` — the audit log, newest first. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* One line of a table cell: control characters (a newline in a note) would break the table. */
static const char *one_line(const char *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s", s);
	for (char *c = buf; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	return buf;
}

int cmd_audit(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "since", required_argument, NULL, 0x100 },
					      { "limit", required_argument, NULL, 0x101 },
					      { "cursor", required_argument, NULL, 0x102 },
					      { NULL, 0, NULL, 0 } };
	char path[512], t[32], detail[64];
	struct client_reply r;
	size_t i;
	json_t *a;
	int rc;

	if ((rc = cli_query_path("/v1/audit", argc, argv, opts, path, sizeof(path))) != EXIT_OK)
		return rc;
	if ((rc = cli_call(cli, "GET", path, NULL, &r)) != EXIT_OK)
		return rc;
	if (cli->json) {
		cli_print_json(r.body);
	} else {
		/* 6 + 14 + 13 + 15 + 15 + 12 and the spaces: 80 columns */
		printf("%-6s %-14s %-13s %-15s %-15s %s\n", "ID", "TIME", "ACTOR", "ACTION", "TARGET", "DETAIL");
		json_array_foreach(json_object_get(r.body, "audit"), i, a) {
			printf("%-6lld %-14s %-13.13s %-15.15s %-15.15s %.12s\n", cli_int(a, "id"),
			       cli_time(cli_str(a, "at"), t, sizeof(t)), cli_str(a, "actor"), cli_str(a, "action"),
			       cli_str(a, "target"), one_line(cli_str(a, "detail"), detail, sizeof(detail)));
		}
		if (*cli_str(r.body, "next_cursor"))
			printf("more: simroute audit --cursor %s\n", cli_str(r.body, "next_cursor"));
	}
	client_reply_free(&r);
	return EXIT_OK;
}
