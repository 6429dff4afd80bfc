/* simroute: the admin CLI — a table of commands, each a call to simrouted's API over its Unix socket. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_pdu.h"

#define DEFAULT_SOCKET "/run/simroute/api.sock"

static int cmd_pdu(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	return cli_pdu_main(argc, argv);
}

/* The command grammar table (smtpctl style). */
static const struct command {
	const char *name, *args, *help;
	int (*run)(struct cli *, int, char **);
} commands[] = {
	{ "status", "", "daemon, queue and modems at a glance, problems first", cmd_status },
	{ "modems", "", "a line per modem: state, signal, sent, failures", cmd_modems },
	{ "modem", "NAME [enable|disable|drain|reset]", "one modem and its SIM; or act on it", cmd_modem },
	{ "nodes", "", "the simrouted nodes sharing this queue (postgresql): heartbeat, claims, modems", cmd_nodes },
	{ "watch", "[SECONDS]", "live view of modems and queue (Ctrl-C quits)", cmd_watch },
	{ "send", "[--otp|--bulk] [--wait] TO TEXT", "queue a message (TO in E.164: +447700900123)", cmd_send },
	{ "messages", "[--status S] [--since T] [--to N] [--limit N]", "list messages, newest first", cmd_messages },
	{ "inbound", "[--since T] [--limit N]", "received SMS, newest first", cmd_inbound },
	{ "webhooks", "[--failed] [--limit N] | replay ID", "the webhook outbox; send one again", cmd_webhooks },
	{ "optout", "list [--since T] [--limit N] | add NUMBER [--note TEXT] | remove NUMBER",
	  "the opt-out (STOP) list: numbers that get no messages", cmd_optout },
	{ "audit", "[--since T] [--limit N]", "the audit log: who did what, newest first", cmd_audit },
	{ "keys", "create NAME [--scope send,read,admin] [--mask-numbers] | list | revoke ID",
	  "API keys for the TCP listener: create (shown once), list, revoke", cmd_keys },
	{ "show", "ID", "one message: status, route, timeline", cmd_show },
	{ "explain", "ID", "why a message is where it is: lane, waits, routes, carrier", cmd_explain },
	{ "cancel", "ID", "cancel a message that is still queued", cmd_cancel },
	{ "backup", "FILE", "a consistent copy of the daemon's database, made while it runs, into FILE", cmd_backup },
	{ "ui", "[--port N]", "the web dashboard for this machine's browser: prints a local URL (Ctrl-C stops)", cmd_ui },
	{ "pdu", "[encode|decode]", "PDU codec: JSON lines on stdin -> JSON lines out", cmd_pdu },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: simroute [-s SOCKET] [--json] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		fprintf(out, "  %s %s\n      %s\n", commands[i].name, commands[i].args, commands[i].help);
	}
	fprintf(out, "\n  -s SOCKET  simrouted's API socket (default $SIMROUTE_SOCKET or %s)\n"
		     "  --json     machine-readable output (the API's JSON)\n"
		     "exit codes: 0 ok, 1 operation failed, 2 usage error, 3 daemon unreachable\n",
		DEFAULT_SOCKET);
}

int main(int argc, char **argv)
{
	struct cli cli = { .socket = getenv("SIMROUTE_SOCKET") };
	static const struct option opts[] = { { "socket", required_argument, NULL, 's' },
					      { "json", no_argument, NULL, 'j' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	const char *no_color = getenv("NO_COLOR");
	int c;

	if (!cli.socket || !*cli.socket)
		cli.socket = DEFAULT_SOCKET;
	cli.color = isatty(STDOUT_FILENO) && !(no_color && *no_color);
	/* "+": stop at the command name, so its own options are its own. */
	while ((c = getopt_long(argc, argv, "+s:jh", opts, NULL)) != -1) {
		switch (c) {
		case 's': cli.socket = optarg; break;
		case 'j': cli.json = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (cli.json)
		cli.color = false;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) != 0)
			continue;
		int rc = commands[i].run(&cli, argc - optind, argv + optind);
		if (rc == EXIT_USAGE)
			fprintf(stderr, "usage: simroute %s %s\n", commands[i].name, commands[i].args);
		return rc;
	}
	fprintf(stderr, "simroute: unknown command \"%s\"\n", argv[optind]);
	usage(stderr);
	return EXIT_USAGE;
}
