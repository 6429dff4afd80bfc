/* cmd_keys: `simroute keys create NAME [--scope S,...] [--mask-numbers]`, `keys list` and `keys revoke ID`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* "send,read" -> ["send", "read"] appended to a; the daemon judges the names. EXIT_OK or EXIT_USAGE. */
static int add_scopes(json_t *a, const char *list)
{
	char buf[128], *save = NULL;
	if (strlen(list) >= sizeof(buf))
		return EXIT_USAGE;
	strcpy(buf, list);
	for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
		json_array_append_new(a, json_string(tok));
	return json_array_size(a) ? EXIT_OK : EXIT_USAGE;
}

static void print_scopes(json_t *scopes)
{
	size_t i;
	json_t *s;
	json_array_foreach(scopes, i, s)
		printf("%s%s", i ? "," : "", json_string_value(s));
}

static int create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "scope", required_argument, NULL, 's' },
					      { "mask-numbers", no_argument, NULL, 'm' }, { NULL, 0, NULL, 0 } };
	json_t *scopes = json_array();
	struct client_reply r;
	int c, rc = EXIT_OK, mask = 0;

	optind = 0;   /* glibc: a full re-init, so options may follow NAME (main's "+" ordering is dropped) */
	while (rc == EXIT_OK && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'm')
			mask = 1;
		else
			rc = c == 's' ? add_scopes(scopes, optarg) : EXIT_USAGE;
	}
	if (rc != EXIT_OK || optind != argc - 1) {
		json_decref(scopes);
		return EXIT_USAGE;
	}
	if (json_array_size(scopes) == 0)
		add_scopes(scopes, "send,read");
	json_t *body = json_pack("{s:s, s:o}", "name", argv[optind], "scopes", scopes);
	if (mask)   /* sent only when asked: the daemon's default is no */
		json_object_set_new(body, "mask_numbers", json_true());
	rc = cli_call(cli, "POST", "/v1/keys", body, &r);
	json_decref(body);
	if (rc != EXIT_OK)
		return rc;
	if (cli->json) {
		cli_print_json(r.body);
	} else {
		printf("API key \"%s\" created: id %s, scopes ", cli_str(r.body, "name"), cli_str(r.body, "id"));
		print_scopes(json_object_get(r.body, "scopes"));
		printf("%s\n%s\n", json_is_true(json_object_get(r.body, "mask_numbers")) ? ", numbers masked" : "",
		       cli_str(r.body, "key"));
		printf("This key will not be shown again: store it now (simrouted keeps only its hash).\n");
	}
	client_reply_free(&r);
	return EXIT_OK;
}

static int list(struct cli *cli)
{
	struct client_reply r;
	char t[32];
	size_t i;
	json_t *k;
	int rc = cli_call(cli, "GET", "/v1/keys", NULL, &r);

	if (rc != EXIT_OK)
		return rc;
	if (cli->json) {
		cli_print_json(r.body);
		client_reply_free(&r);
		return EXIT_OK;
	}
	printf("%-12s %-24s %-7s %-16s %-14s %-7s %s\n", "ID", "NAME", "SOURCE", "SCOPES", "CREATED", "STATUS",
	       "NUMBERS");
	json_array_foreach(json_object_get(r.body, "keys"), i, k) {
		const char *revoked = cli_str(k, "revoked_at"), *created = cli_str(k, "created_at");
		char scopes[64] = "";
		size_t j;
		json_t *s;
		json_array_foreach(json_object_get(k, "scopes"), j, s)
			snprintf(scopes + strlen(scopes), sizeof(scopes) - strlen(scopes), "%s%s", j ? "," : "",
				 json_string_value(s));
		printf("%-12s %-24s %-7s %-16s %-14s %-7s %s\n", *cli_str(k, "id") ? cli_str(k, "id") : "-",
		       cli_str(k, "name"), cli_str(k, "source"), scopes, *created ? cli_time(created, t, sizeof(t)) : "-",
		       *revoked ? "revoked" : "live", json_is_true(json_object_get(k, "mask_numbers")) ? "masked" : "full");
	}
	client_reply_free(&r);
	return EXIT_OK;
}

static int revoke(struct cli *cli, const char *id)
{
	struct client_reply r;
	char path[96];
	int rc;

	if (!*id || strlen(id) > 64 || strchr(id, '/') || strchr(id, '?') || strchr(id, '%'))
		return EXIT_USAGE;
	snprintf(path, sizeof(path), "/v1/keys/%s", id);
	if ((rc = cli_call(cli, "DELETE", path, NULL, &r)) != EXIT_OK)
		return rc;
	if (cli->json)
		cli_print_json(r.body);
	else
		printf("API key %s (%s) revoked: it no longer authenticates\n", cli_str(r.body, "id"),
		       cli_str(r.body, "name"));
	client_reply_free(&r);
	return EXIT_OK;
}

int cmd_keys(struct cli *cli, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "create") == 0)
		return create(cli, argc - 1, argv + 1);
	if (argc == 2 && strcmp(argv[1], "list") == 0)
		return list(cli);
	if (argc == 3 && strcmp(argv[1], "revoke") == 0)
		return revoke(cli, argv[2]);
	return EXIT_USAGE;
}
