/* cmd_optout: `simroute optout list [--since T] [--limit N] [--cursor C]`, `optout add NUMBER [--note TEXT]`
 * and `optout remove NUMBER` — the opt-out (suppression) list. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* A number goes into a URL path: only "+" and digits, the "+" percent-encoded. */
static int number_path(const char *number, char *path, size_t size)
{
	size_t len = strlen(number);
	if (len < 2 || len > 16 || number[0] != '+' || strspn(number + 1, "0123456789") != len - 1) {
		fprintf(stderr, "simroute: %s: expected an E.164 number such as +447700900123\n", number);
		return EXIT_USAGE;
	}
	snprintf(path, size, "/v1/optout/%%2B%s", number + 1);
	return EXIT_OK;
}

static void row(const struct cli *cli, json_t *o)
{
	char t[32], note[64];
	(void)cli;
	printf("%-16.16s %-8.8s %-14s %.38s\n", cli_str(o, "number"), cli_str(o, "source"),
	       cli_time(cli_str(o, "created_at"), t, sizeof(t)), cli_one_line(cli_str(o, "note"), note, sizeof(note)));
}

static int list(struct cli *cli, int argc, char **argv)
{
	static const struct cli_listing l = {
		.path = "/v1/optout", .key = "optout", .row = row, .more = "simroute optout list",
		.header = "NUMBER           SOURCE   ADDED          NOTE\n",
	};
	return cli_listing(cli, argc, argv, &l);
}

static int add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "note", required_argument, NULL, 'n' }, { NULL, 0, NULL, 0 } };
	const char *note = NULL;
	struct client_reply r;
	int c, rc;

	/* GNU getopt's permutation: --note may come before or after the number (optind 0 re-initialises
	 * getopt, which main() left in "+" mode) */
	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'n')
			return EXIT_USAGE;
		note = optarg;
	}
	if (optind != argc - 1)
		return EXIT_USAGE;
	json_t *body = json_pack("{s:s, s:s}", "number", argv[optind], "source", "cli");
	if (note)
		json_object_set_new(body, "note", json_string(note));
	rc = cli_call(cli, "POST", "/v1/optout", body, &r);
	json_decref(body);
	if (rc != EXIT_OK)
		return rc;
	if (cli->json)
		cli_print_json(r.body);
	else
		printf("%s: %s\n", cli_str(r.body, "number"),
		       json_is_true(json_object_get(r.body, "added")) ? "added to the opt-out list" : "already listed");
	client_reply_free(&r);
	return EXIT_OK;
}

static int remove_number(struct cli *cli, int argc, char **argv)
{
	struct client_reply r;
	char path[64];
	int rc;

	if (argc != 2)
		return EXIT_USAGE;
	if ((rc = number_path(argv[1], path, sizeof(path))) != EXIT_OK)
		return rc;
	if ((rc = cli_call(cli, "DELETE", path, NULL, &r)) != EXIT_OK)
		return rc;
	if (cli->json)
		cli_print_json(r.body);
	else
		printf("%s: removed from the opt-out list\n", cli_str(r.body, "number"));
	client_reply_free(&r);
	return EXIT_OK;
}

int cmd_optout(struct cli *cli, int argc, char **argv)
{
	if (argc < 2)
		return EXIT_USAGE;
	if (strcmp(argv[1], "list") == 0)
		return list(cli, argc - 1, argv + 1);
	if (strcmp(argv[1], "add") == 0)
		return add(cli, argc - 1, argv + 1);
	if (strcmp(argv[1], "remove") == 0)
		return remove_number(cli, argc - 1, argv + 1);
	return EXIT_USAGE;
}
