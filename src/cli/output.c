/* output: the CLI's shared helpers — calling the API with errors reported, JSON fields, colours. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <getopt.h>

#include "cli.h"

int cli_call(struct cli *cli, const char *method, const char *path, json_t *body, struct client_reply *out)
{
	int rc = client_call(cli->socket, method, path, body, out);
	if (rc != EXIT_OK)
		return rc;
	if (out->status >= 200 && out->status < 300 && out->body)
		return EXIT_OK;
	client_print_error(out);
	rc = out->status == 400 ? EXIT_USAGE : EXIT_FAILED;
	client_reply_free(out);
	return rc;
}

void cli_print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	if (s) {
		puts(s);
		free(s);
	}
}

long long cli_int(json_t *o, const char *key) { return (long long)json_integer_value(json_object_get(o, key)); }

const char *cli_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

const char *cli_state_color(const struct cli *cli, const char *state)
{
	if (!cli->color)
		return "";
	if (!strcmp(state, "ready") || !strcmp(state, "busy") || !strcmp(state, "sent") || !strcmp(state, "delivered"))
		return "\033[32m";
	if (!strcmp(state, "failed") || !strcmp(state, "absent") || !strcmp(state, "undelivered") ||
	    !strcmp(state, "uncertain"))
		return "\033[31m";
	return "\033[33m";
}

const char *cli_reset(const struct cli *cli) { return cli->color ? "\033[0m" : ""; }

const char *cli_signal(int rssi, char *buf, int len)
{
	if (rssi < 0 || rssi > 31) {
		snprintf(buf, (size_t)len, "-");
		return buf;
	}
	/* TS 27.007 8.5: rssi 0 = -113 dBm or less, 2 dB steps, 31 = -51 dBm or more. */
	int dbm = -113 + 2 * rssi;
	int bars = rssi >= 20 ? 4 : rssi >= 15 ? 3 : rssi >= 10 ? 2 : rssi >= 2 ? 1 : 0;
	snprintf(buf, (size_t)len, "%d dBm %.*s%.*s", dbm, bars, "||||", 4 - bars, "....");
	return buf;
}

const char *cli_time(const char *iso, char *buf, int len)
{
	/* The API gives UTC ISO 8601; tables show the time of day, which fits 80 columns. */
	if (!iso || strlen(iso) < 19) {
		snprintf(buf, (size_t)len, "-");
		return buf;
	}
	snprintf(buf, (size_t)len, "%.5s %.8s", iso + 5, iso + 11);
	return buf;
}

bool cli_status_final(const char *s)
{
	return !strcmp(s, "sent") || !strcmp(s, "delivered") || !strcmp(s, "undelivered") || !strcmp(s, "failed") ||
	       !strcmp(s, "expired") || !strcmp(s, "cancelled") || !strcmp(s, "uncertain");
}

const struct option cli_paging_opts[] = { { "since", required_argument, NULL, 0x100 },
					   { "limit", required_argument, NULL, 0x101 },
					   { "cursor", required_argument, NULL, 0x102 },
					   { NULL, 0, NULL, 0 } };

int cli_listing(struct cli *cli, int argc, char **argv, const struct cli_listing *l)
{
	char path[1024];
	struct client_reply r;
	size_t i;
	json_t *item;
	int rc;

	if ((rc = cli_query_path(l->path, argc, argv, l->opts ? l->opts : cli_paging_opts, path, sizeof(path))) != EXIT_OK)
		return rc;
	if ((rc = cli_call(cli, "GET", path, NULL, &r)) != EXIT_OK)
		return rc;
	if (cli->json) {
		cli_print_json(r.body);
	} else {
		fputs(l->header, stdout);
		json_array_foreach(json_object_get(r.body, l->key), i, item)
			l->row(cli, item);
		if (*cli_str(r.body, "next_cursor"))
			printf("more: %s --cursor %s\n", l->more, cli_str(r.body, "next_cursor"));
	}
	client_reply_free(&r);
	return EXIT_OK;
}

const char *cli_one_line(const char *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s", s);
	for (char *c = buf; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	return buf;
}

int cli_query_path(const char *base, int argc, char **argv, const struct option *opts, char *path, size_t size)
{
	CURL *esc = curl_easy_init();
	size_t len = (size_t)snprintf(path, size, "%s", base);
	int c;

	if (!esc)
		return EXIT_FAILED;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c < 0x100 || !opts[c - 0x100].name) {
			curl_easy_cleanup(esc);
			return EXIT_USAGE;
		}
		char *v = curl_easy_escape(esc, optarg, 0);
		len += (size_t)snprintf(path + len, len < size ? size - len : 0, "%c%s=%s", strchr(path, '?') ? '&' : '?',
					opts[c - 0x100].name, v ? v : "");
		curl_free(v);
	}
	curl_easy_cleanup(esc);
	return optind != argc || len >= size ? EXIT_USAGE : EXIT_OK;
}
