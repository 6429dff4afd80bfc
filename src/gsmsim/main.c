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

#include "sim_dialect.h"
#include "sim_log.h"
#include "sim_modem.h"

#define MODEMS_MAX 1024

struct options {
	unsigned modems;
	const char *rundir;
	double latency;
	const struct sim_dialect *dialect;
	unsigned seed;
	enum log_level level;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gsmsim --modems N --dir RUNDIR [--latency SECONDS] [--dialect %s]\n"
		"              [--seed N] [--log-level error|warn|info|debug]\n"
		"Creates N simulated GSM modems on pseudo-terminals linked as RUNDIR/modem0..N-1;\n"
		"every SMS submitted with AT+CMGS is appended to RUNDIR/sent.jsonl.\n",
		sim_dialect_names());
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
		{ "log-level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	*o = (struct options){ .latency = 0.2, .dialect = sim_dialect_find("sim800"), .level = LOG_LEVEL_INFO };
	while ((c = getopt_long(argc, argv, "n:d:l:D:s:L:h", longopts, NULL)) != -1) {
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
			o->dialect = sim_dialect_find(optarg);
			if (!o->dialect)
				fatalx("--dialect: expected %s, got '%s'", sim_dialect_names(), optarg);
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

int main(int argc, char **argv)
{
	struct options o;
	struct event_base *base;
	struct event *sigterm, *sigint;
	struct sim_modem **modems;
	struct sim_log *sent;
	char path[PATH_MAX];
	struct sim_modem_config mc;
	int rc = 0;

	log_init("gsmsim", LOG_LEVEL_INFO);
	parse_args(argc, argv, &o);
	log_set_level(o.level);
	/* A reader that goes away mid-write must not kill the simulator. */
	signal(SIGPIPE, SIG_IGN);

	if (mkdir(o.rundir, 0755) < 0 && errno != EEXIST)
		fatal("mkdir %s", o.rundir);
	base = event_base_new();
	if (!base)
		fatalx("event_base_new failed");

	snprintf(path, sizeof(path), "%s/sent.jsonl", o.rundir);
	sent = sim_log_open(path);
	if (!sent)
		fatal("open %s", path);

	modems = calloc(o.modems, sizeof(*modems));
	if (!modems)
		fatal("calloc");
	mc = (struct sim_modem_config){
		.seed = o.seed,
		.rundir = o.rundir,
		.dialect = o.dialect,
		.latency = { .tv_sec = (time_t)o.latency,
			     .tv_usec = (suseconds_t)lround((o.latency - floor(o.latency)) * 1e6) },
		.sent_log = sent,
	};
	if (mc.latency.tv_usec >= 1000000) {
		mc.latency.tv_sec++;
		mc.latency.tv_usec -= 1000000;
	}
	for (unsigned i = 0; i < o.modems; i++) {
		mc.index = i;
		modems[i] = sim_modem_new(base, &mc);
		if (!modems[i]) {
			rc = 1;
			goto out;
		}
		log_debug("%s on %s", sim_modem_name(modems[i]), sim_modem_tty(modems[i]));
	}

	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	if (!sigterm || !sigint || evsignal_add(sigterm, NULL) < 0 || evsignal_add(sigint, NULL) < 0)
		fatalx("cannot install signal handlers");

	snprintf(path, sizeof(path), "%s/gsmsim.pid", o.rundir);
	write_pidfile(path);
	log_info("%u %s modems, latency %.3f s, sent log %s/sent.jsonl", o.modems, o.dialect->name, o.latency,
		 o.rundir);
	/* The contract with tests and scripts: this line means every symlink is in place. */
	printf("gsmsim: %u modems ready in %s\n", o.modems, o.rundir);
	fflush(stdout);

	if (event_base_dispatch(base) < 0)
		rc = 1;

	event_free(sigterm);
	event_free(sigint);
	unlink(path);
out:
	for (unsigned i = 0; i < o.modems; i++)
		sim_modem_free(modems[i]);
	free(modems);
	sim_log_close(sent);
	event_base_free(base);
	return rc;
}
