/* gsmsim: a bank of simulated GSM modems on pseudo-terminals - arguments, wiring, signals, shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "simroute/log.h"

#include "sim_cmd.h"
#include "sim_ctl.h"
#include "sim_dialect.h"
#include "sim_log.h"
#include "sim_modem.h"
#include "sim_script.h"

#define MODEMS_MAX 1024
#define DIALECTS_MAX 64
#define SETS_MAX 64

struct options {
	unsigned modems;
	const char *rundir;
	double latency;
	const struct sim_dialect *dialects[DIALECTS_MAX];   /* modem i gets dialects[i % ndialects] */
	unsigned ndialects;
	const char *script;
	char *sets[SETS_MAX];
	unsigned nsets;
	unsigned seed;
	enum log_level level;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gsmsim --modems N --dir RUNDIR [--latency SECONDS] [--dialect D[,D...]]\n"
		"              [--set key=value]... [--script FILE] [--seed N] [--log-level error|warn|info|debug]\n"
		"       gsmsim ctl RUNDIR COMMAND [ARGS...]\n"
		"Creates N simulated GSM modems on pseudo-terminals linked as RUNDIR/modem0..N-1;\n"
		"every SMS submitted with AT+CMGS is appended to RUNDIR/sent.jsonl, every injected fault and\n"
		"network event to RUNDIR/events.jsonl; RUNDIR/ctl.sock takes commands. D is %s; a list\n"
		"is used in turn (modem i gets the (i mod count)-th). ctl commands:\n  %s\n",
		sim_dialect_names(), sim_cmd_usage());
}

static void parse_dialects(const char *arg, struct options *o)
{
	char buf[1024], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", arg);
	o->ndialects = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const struct sim_dialect *d = sim_dialect_find(tok);
		if (!d || o->ndialects == DIALECTS_MAX)
			fatalx("--dialect: expected %s (comma-separated), got '%s'", sim_dialect_names(), arg);
		o->dialects[o->ndialects++] = d;
	}
	if (o->ndialects == 0)
		fatalx("--dialect: expected %s, got '%s'", sim_dialect_names(), arg);
}

static bool parse_uint(const char *s, unsigned long min, unsigned long max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

static void parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "modems", required_argument, NULL, 'n' },
		{ "dir", required_argument, NULL, 'd' },
		{ "latency", required_argument, NULL, 'l' },
		{ "dialect", required_argument, NULL, 'D' },
		{ "seed", required_argument, NULL, 's' },
		{ "script", required_argument, NULL, 'S' },
		{ "set", required_argument, NULL, 'e' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	*o = (struct options){ .latency = 0.2, .dialects = { sim_dialect_find("sim800") }, .ndialects = 1,
			       .level = LOG_LEVEL_INFO };
	while ((c = getopt_long(argc, argv, "n:d:l:D:s:S:e:L:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!parse_uint(optarg, 1, MODEMS_MAX, &o->modems))
				fatalx("--modems: expected 1..%d, got '%s'", MODEMS_MAX, optarg);
			break;
		case 'd':
			o->rundir = optarg;
			break;
		case 'l':
			errno = 0;
			o->latency = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(o->latency) || o->latency < 0 ||
			    o->latency > 3600)
				fatalx("--latency: expected seconds in 0..3600, got '%s'", optarg);
			break;
		case 'D':
			parse_dialects(optarg, o);
			break;
		case 'S':
			o->script = optarg;
			break;
		case 'e':
			if (o->nsets == SETS_MAX || !strchr(optarg, '='))
				fatalx("--set: expected key=value (at most %d), got '%s'", SETS_MAX, optarg);
			o->sets[o->nsets++] = optarg;
			break;
		case 's':
			if (!parse_uint(optarg, 0, UINT_MAX, &o->seed))
				fatalx("--seed: expected a non-negative integer, got '%s'", optarg);
			break;
		case 'L':
			if (log_level_parse(optarg, &o->level) < 0)
				fatalx("--log-level: expected error|warn|info|debug, got '%s'", optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc || o->modems == 0 || !o->rundir) {
		usage(stderr);
		exit(2);
	}
}

static void write_pidfile(const char *path)
{
	char buf[32];
	int fd, n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fatal("open %s", path);
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n)
		fatal("write %s", path);
	close(fd);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct event_base *base = arg;

	log_info("signal %d: shutting down", (int)sig);
	event_base_loopbreak(base);
}

/* --set key=value for every modem, through the same path as "set all key=value" on the socket. */
static void apply_sets(struct sim_bank *bank, const struct options *o)
{
	char *argv[3] = { "set", "all", NULL };
	json_t *r;

	for (unsigned i = 0; i < o->nsets; i++) {
		argv[2] = o->sets[i];
		r = sim_cmd_run(bank, 3, argv);
		if (!json_is_true(json_object_get(r, "ok")))
			fatalx("--set %s: %s", o->sets[i], json_string_value(json_object_get(r, "error")));
		json_decref(r);
	}
	bank->commands = 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct event_base *base;
	struct event *sigterm, *sigint;
	struct sim_modem **modems;
	struct sim_log *sent, *events;
	struct sim_script *script = NULL;
	struct sim_ctl *ctl = NULL;
	struct sim_bank bank;
	char path[PATH_MAX];
	struct sim_modem_config mc;
	unsigned made = 0;
	int rc = 0;

	log_init("gsmsim", LOG_LEVEL_INFO);
	if (argc >= 2 && strcmp(argv[1], "ctl") == 0) {
		if (argc < 4) {
			usage(stderr);
			return 2;
		}
		return sim_ctl_client(argv[2], argc - 3, argv + 3);
	}
	parse_args(argc, argv, &o);
	log_set_level(o.level);
	/* A reader that goes away mid-write must not kill the simulator. */
	signal(SIGPIPE, SIG_IGN);

	if (o.script && !(script = sim_script_load(o.script)))
		fatalx("--script %s: cannot load", o.script);
	if (mkdir(o.rundir, 0755) < 0 && errno != EEXIST)
		fatal("mkdir %s", o.rundir);
	base = event_base_new();
	if (!base)
		fatalx("event_base_new failed");

	snprintf(path, sizeof(path), "%s/sent.jsonl", o.rundir);
	sent = sim_log_open(path);
	if (!sent)
		fatal("open %s", path);
	snprintf(path, sizeof(path), "%s/events.jsonl", o.rundir);
	events = sim_log_open(path);
	if (!events)
		fatal("open %s", path);

	modems = calloc(o.modems, sizeof(*modems));
	if (!modems)
		fatal("calloc");
	mc = (struct sim_modem_config){
		.seed = o.seed,
		.rundir = o.rundir,
		.latency = o.latency,
		.sent_log = sent,
		.event_log = events,
	};
	for (made = 0; made < o.modems; made++) {
		mc.index = made;
		mc.dialect = o.dialects[made % o.ndialects];
		modems[made] = sim_modem_new(base, &mc);
		if (!modems[made]) {
			rc = 1;
			goto out;
		}
		log_debug("%s on %s", sim_modem_name(modems[made]), sim_modem_tty(modems[made]));
	}
	bank = (struct sim_bank){ .base = base, .modems = modems, .n = o.modems, .events = events };
	apply_sets(&bank, &o);

	snprintf(path, sizeof(path), "%s/ctl.sock", o.rundir);
	ctl = sim_ctl_listen(&bank, path);
	if (!ctl)
		fatalx("cannot listen on %s", path);

	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	if (!sigterm || !sigint || evsignal_add(sigterm, NULL) < 0 || evsignal_add(sigint, NULL) < 0)
		fatalx("cannot install signal handlers");
	if (script && sim_script_start(script, &bank) < 0)
		fatalx("--script: cannot start");

	snprintf(path, sizeof(path), "%s/gsmsim.pid", o.rundir);
	write_pidfile(path);
	log_info("%u modems (%s%s), latency %.3f s, records in %s/sent.jsonl and events.jsonl", o.modems,
		 o.dialects[0]->name, o.ndialects > 1 ? ", ..." : "", o.latency, o.rundir);
	sim_log_event(events, NULL, "start", json_pack("{s:i, s:i}", "modems", o.modems, "pid", (int)getpid()));
	/* The contract with tests and scripts: this line means every symlink and the socket are in place. */
	printf("gsmsim: %u modems ready in %s\n", o.modems, o.rundir);
	fflush(stdout);

	if (event_base_dispatch(base) < 0)
		rc = 1;

	event_free(sigterm);
	event_free(sigint);
	unlink(path);
out:
	sim_script_free(script);
	sim_ctl_close(ctl);
	for (unsigned i = 0; i < made; i++)
		sim_modem_free(modems[i]);
	free(modems);
	sim_log_close(sent);
	sim_log_close(events);
	event_base_free(base);
	return rc;
}
