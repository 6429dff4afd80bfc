/* cli: what the CLI's command files share — options, the command signature, output helpers. */
#ifndef SIMROUTE_CLI_H
#define SIMROUTE_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>

#include "client.h"

struct cli {
	const char *socket;
	bool json;
	bool color;      /* stdout is a TTY and NO_COLOR is unset */
};

/* Every command: argv[0] is the command name. Returns an exit code (client.h). */
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_modems(struct cli *cli, int argc, char **argv);
int cmd_modem(struct cli *cli, int argc, char **argv);
int cmd_watch(struct cli *cli, int argc, char **argv);
int cmd_send(struct cli *cli, int argc, char **argv);
int cmd_show(struct cli *cli, int argc, char **argv);
int cmd_messages(struct cli *cli, int argc, char **argv);
int cmd_cancel(struct cli *cli, int argc, char **argv);
int cmd_explain(struct cli *cli, int argc, char **argv);
int cmd_inbound(struct cli *cli, int argc, char **argv);
int cmd_webhooks(struct cli *cli, int argc, char **argv);
int cmd_audit(struct cli *cli, int argc, char **argv);
int cmd_optout(struct cli *cli, int argc, char **argv);
int cmd_keys(struct cli *cli, int argc, char **argv);
int cmd_backup(struct cli *cli, int argc, char **argv);
int cmd_ui(struct cli *cli, int argc, char **argv);
int cmd_nodes(struct cli *cli, int argc, char **argv);

/* GET/POST/DELETE path; on success *out holds a 2xx reply with a JSON body. Prints errors itself.
 * Returns EXIT_OK, EXIT_FAILED, EXIT_USAGE (a 400: the request was invalid) or EXIT_UNREACHABLE. */
int cli_call(struct cli *cli, const char *method, const char *path, json_t *body, struct client_reply *out);

/* Output helpers */
void cli_print_json(json_t *j);
long long cli_int(json_t *o, const char *key);
const char *cli_str(json_t *o, const char *key);           /* "" when absent or null */
/* ANSI colour for a modem or message state when cli->color, else "". */
const char *cli_state_color(const struct cli *cli, const char *state);
const char *cli_reset(const struct cli *cli);
/* "-71 dBm ▂▄▆_" style: bars from +CSQ rssi (0..31, 99 unknown) into buf. */
const char *cli_signal(int rssi, char *buf, int len);
/* "2026-11-23T13:45:00.123Z" -> "13:45:00" when today-ish, else the date; into buf. */
const char *cli_time(const char *iso, char *buf, int len);
/* base + "?name=value&..." from --name VALUE options (opts[i].val must be 0x100 + i; values are
 * URL-escaped). EXIT_OK, or EXIT_USAGE for an unknown option, a stray argument or an overlong path. */
struct option;
int cli_query_path(const char *base, int argc, char **argv, const struct option *opts, char *path, size_t size);

/* The options of every listing (--since T, --limit N, --cursor C), as cli_query_path takes them. */
extern const struct option cli_paging_opts[];
/* A listing command: GET path with the query built from argv, then --json prints the answer as is,
 * else the header, row() for each element of the answer's `key` array, and how to get the next page. */
struct cli_listing {
	const char *path;                     /* "/v1/audit" */
	const struct option *opts;            /* NULL: cli_paging_opts */
	const char *key;                      /* "audit" */
	const char *header;                   /* the table's first line, "\n" included (80 columns) */
	void (*row)(const struct cli *cli, json_t *item);
	const char *more;                     /* "simroute audit": the next page is `<more> --cursor C` */
};
int cli_listing(struct cli *cli, int argc, char **argv, const struct cli_listing *l);
/* s in buf on one line: control characters (a newline in an SMS or a note) become spaces, so a table
 * row stays one row. Returns buf. */
const char *cli_one_line(const char *s, char *buf, size_t len);
/* Is the message status final (no more changes expected)? */
bool cli_status_final(const char *status);

#endif
