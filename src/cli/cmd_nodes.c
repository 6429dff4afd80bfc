/* cmd_nodes: `simroute nodes` — the simrouted nodes sharing this queue (postgresql store). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_nodes(struct cli *cli, int argc, char **argv)
{
	struct client_reply r;
	char t[32], modems[128];
	size_t i, k;
	json_t *n, *m;
	int rc;

	if (argc > 1) {
		return EXIT_USAGE;
	}
	if ((rc = cli_call(cli, "GET", "/v1/nodes", NULL, &r)) != EXIT_OK)
		return rc;
	if (cli->json) {
		cli_print_json(r.body);
	} else if (!json_is_true(json_object_get(r.body, "shared"))) {
		printf("one node: this store is not shared ([store] backend = sqlite)\n");
	} else {
		const char *self = cli_str(r.body, "self");
		printf("%-20s %-6s %-14s %-8s %s\n", "NODE", "ALIVE", "HEARTBEAT", "CLAIMED", "MODEMS");
		json_array_foreach(json_object_get(r.body, "nodes"), i, n) {
			size_t off = 0;
			modems[0] = '\0';
			json_array_foreach(json_object_get(n, "modems"), k, m) {
				if (off < sizeof(modems))
					off += (size_t)snprintf(modems + off, sizeof(modems) - off, "%s%s", k ? "," : "",
								json_string_value(m) ? json_string_value(m) : "");
			}
			printf("%-18.18s%-2s %-6s %-14s %-8lld %s\n", cli_str(n, "id"),
			       strcmp(cli_str(n, "id"), self) == 0 ? " *" : "",
			       json_is_true(json_object_get(n, "alive")) ? "yes" : "no",
			       cli_time(cli_str(n, "last_heartbeat"), t, sizeof(t)), cli_int(n, "claimed"), modems);
		}
	}
	client_reply_free(&r);
	return EXIT_OK;
}
