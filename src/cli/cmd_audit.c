/* cmd_audit: `simroute audit [--since T] [--limit N] [--cursor C]` — the audit log, newest first. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* 6 + 14 + 13 + 15 + 15 + 12 and the spaces: 80 columns */
static void row(const struct cli *cli, json_t *a)
{
	char t[32], detail[64];
	(void)cli;
	printf("%-6lld %-14s %-13.13s %-15.15s %-15.15s %.12s\n", cli_int(a, "id"), cli_time(cli_str(a, "at"), t, sizeof(t)),
	       cli_str(a, "actor"), cli_str(a, "action"), cli_str(a, "target"),
	       cli_one_line(cli_str(a, "detail"), detail, sizeof(detail)));
}

int cmd_audit(struct cli *cli, int argc, char **argv)
{
	static const struct cli_listing l = {
		.path = "/v1/audit", .key = "audit", .row = row, .more = "simroute audit",
		.header = "ID     TIME           ACTOR         ACTION          TARGET          DETAIL\n",
	};
	return cli_listing(cli, argc, argv, &l);
}
