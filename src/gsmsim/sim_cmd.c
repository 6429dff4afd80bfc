/* sim_cmd: the control command grammar of gsmsim, as a table of {name, args, handler} (smtpctl style). */
#include "sim_cmd.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "simroute/log.h"

#include "sim_log.h"
#include "sim_modem.h"

int sim_cmd_split(char *line, char **argv, int max)
{
	char *r = line, *w = line;
	int n = 0;

	for (;;) {
		while (*r == ' ' || *r == '\t' || *r == '\r' || *r == '\n')
			r++;
		if (*r == '\0' || *r == '#')
			return n;
		if (n == max)
			return -1;
		argv[n++] = w;
		while (*r && *r != ' ' && *r != '\t' && *r != '\r' && *r != '\n') {
			if (*r != '"') {
				*w++ = *r++;
				continue;
			}
			for (r++; *r != '"'; r++) {
				if (*r == '\0')
					return -1;
				if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
					r++;
				*w++ = *r;
			}
			r++;
		}
		if (*r)
			r++;
		*w++ = '\0';   /* w never passes r: quotes and backslashes are read but not written */
	}
}

static json_t *fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *fail(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s}", "ok", 0, "error", buf);
}

static json_t *ok(void)
{
	return json_pack("{s:b}", "ok", 1);
}

/* "3" -> modems[3]; "all" -> every modem (first = 0, last = n). */
static bool which(struct sim_bank *b, const char *s, unsigned *first, unsigned *last)
{
	char *end;
	unsigned long v;

	if (strcmp(s, "all") == 0) {
		*first = 0;
		*last = b->n;
		return true;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v >= b->n)
		return false;
	*first = (unsigned)v;
	*last = (unsigned)v + 1;
	return true;
}

static bool seconds(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !isfinite(v) || v < 0 || v > 86400)
		return false;
	*out = v;
	return true;
}

typedef json_t *(*cmd_fn)(struct sim_bank *b, struct sim_modem *m, int argc, char **argv);

static json_t *c_list(struct sim_bank *b, struct sim_modem *m, int argc, char **argv)
{
	json_t *arr = json_array();

	for (unsigned i = 0; i < b->n; i++)
		json_array_append_new(arr, sim_modem_json(b->modems[i]));
	return json_pack("{s:b, s:o}", "ok", 1, "modems", arr);
}

static json_t *c_stats(struct sim_bank *b, struct sim_modem *m, int argc, char **argv)
{
	json_t *per = json_array(), *total = json_object();
	const char *key;
	json_t *v;

	for (unsigned i = 0; i < b->n; i++) {
		json_t *c = sim_modem_counters(b->modems[i]);
		json_object_foreach(c, key, v) {
			json_t *t = json_object_get(total, key);
			json_object_set_new(total, key,
					    json_integer((t ? json_integer_value(t) : 0) + json_integer_value(v)));
		}
		json_array_append_new(per, c);
	}
	return json_pack("{s:b, s:i, s:i, s:o, s:o}", "ok", 1, "modems", b->n, "commands", b->commands, "total",
			 total, "per_modem", per);
}

static json_t *c_quit(struct sim_bank *b, struct sim_modem *m, int argc, char **argv)
{
	log_info("ctl: quit");
	sim_log_event(b->events, NULL, "quit", NULL);
	/* a moment for this answer to reach the client before the loop ends */
	event_base_loopexit(b->base, &(struct timeval){ .tv_usec = 100000 });
	return ok();
}

static json_t *modem_ok(struct sim_modem *m)
{
	return json_pack("{s:b, s:o}", "ok", 1, "modem", sim_modem_json(m));
}

static json_t *c_unplug(struct sim_bank *b, struct sim_modem *m, int argc, char **argv)
{
	double after = 0;
	char err[256];

	if (argc > 2 && !seconds(argv[2], &after))
		return fail("unplug: SECONDS must be 0..86400");
	if (sim_modem_unplug(m, after, err, sizeof(err)) < 0)
		return fail("%s", err);
	return modem_ok(m);
}

static json_t *c_replug(struct sim_bank *b, struct sim_modem *m, int argc, char **argv)
{
	char err[256];
	bool rename = argc > 2;

	if (rename && strcmp(argv[2], "rename") != 0)
		return fail("replug: expected \"rename\" or nothing after N, got \"%.32s\"", argv[2]);
	if (sim_modem_replug(m, rename, err, sizeof(err)) < 0)
		return fail("%s", err);
	return modem_ok(m);
}

static json_t *c_reboot(struct sim_bank *b, struct sim_modem *m, int argc, char **argv)
{
	char err[256];

	if (sim_modem_reboot(m, err, sizeof(err)) < 0)
		return fail("%s", err);
	return modem_ok(m);
}

static json_t *c_set(struct sim_bank *b, struct sim_modem *m, int argc, char **argv)
{
	char err[256], key[64];

	for (int i = 2; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		size_t klen = eq ? (size_t)(eq - argv[i]) : 0;
		if (!eq || klen == 0 || klen >= sizeof(key))
			return fail("set: expected key=value, got '%s'", argv[i]);
		memcpy(key, argv[i], klen);   /* argv may be a JSON string's own storage: not ours to cut */
		key[klen] = '\0';
		if (sim_modem_set(m, key, eq + 1, err, sizeof(err)) < 0)
			return fail("%s", err);
	}
	return modem_ok(m);
}

static json_t *c_fault(struct sim_bank *b, struct sim_modem *m, int argc, char **argv)
{
	char err[256];

	if (sim_modem_fault(m, argv[2], argc > 3 ? argv[3] : NULL, err, sizeof(err)) < 0)
		return fail("%s", err);
	return modem_ok(m);
}

static json_t *c_swap(struct sim_bank *b, struct sim_modem *m, int argc, char **argv)
{
	char err[256];

	if (sim_modem_swap_sim(m, argc > 2 ? argv[2] : NULL, err, sizeof(err)) < 0)
		return fail("%s", err);
	return modem_ok(m);
}

static json_t *c_sms(struct sim_bank *b, struct sim_modem *m, int argc, char **argv)
{
	char err[256];
	int parts;

	if (sim_modem_sms(m, argv[2], argv[3], &parts, err, sizeof(err)) < 0)
		return fail("%s", err);
	return json_pack("{s:b, s:i}", "ok", 1, "parts", parts);
}

static json_t *c_report(struct sim_bank *b, struct sim_modem *m, int argc, char **argv)
{
	char err[256], *end;
	long mr = strtol(argv[2], &end, 10), st = 0;

	if (*end || end == argv[2])
		return fail("report: MR must be 0..255");
	if (argc > 3) {
		if (strcmp(argv[3], "delivered") == 0)
			st = 0x00;
		else if (strcmp(argv[3], "failed") == 0)
			st = 0x41;   /* TS 23.040 9.2.3.15: incompatible destination, permanent */
		else if (strcmp(argv[3], "expired") == 0)
			st = 0x46;   /* SM validity period expired */
		else if ((st = strtol(argv[3], &end, 0)), *end || end == argv[3])
			return fail("report: STATUS is delivered|failed|expired or a TP-ST number");
	}
	if (sim_modem_report(m, (int)mr, (int)st, err, sizeof(err)) < 0)
		return fail("%s", err);
	return ok();
}

static const struct cmd {
	const char *name;
	const char *usage;
	int min_args, max_args;   /* words after the name */
	bool per_modem;           /* argv[1] is N or "all" */
	cmd_fn fn;
} cmds[] = {
	{ "list", "list", 0, 0, false, c_list },
	{ "stats", "stats", 0, 0, false, c_stats },
	{ "quit", "quit", 0, 0, false, c_quit },
	{ "unplug", "unplug N [REPLUG_AFTER_S]", 1, 2, true, c_unplug },
	{ "replug", "replug N [rename]", 1, 2, true, c_replug },
	{ "reboot", "reboot N", 1, 1, true, c_reboot },
	{ "set", "set N key=value...", 2, SIM_CMD_ARGS_MAX, true, c_set },
	{ "fault", "fault N cms CODE|noanswer|late [S]|garbage|hang|noise", 2, 3, true, c_fault },
	{ "swap-sim", "swap-sim N [ICCID]", 1, 2, true, c_swap },
	{ "sms", "sms N FROM TEXT", 3, 3, true, c_sms },
	{ "report", "report N MR [delivered|failed|expired|TP-ST]", 2, 3, true, c_report },
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

const char *sim_cmd_usage(void)
{
	return "list | stats | quit | unplug N [S] | replug N [rename] | reboot N | set N key=value... | "
	       "fault N KIND [ARG] | swap-sim N [ICCID] | sms N FROM TEXT | report N MR [STATUS]";
}

json_t *sim_cmd_run(struct sim_bank *b, int argc, char **argv)
{
	const struct cmd *c = NULL;
	unsigned first, last;
	json_t *r = NULL;

	if (argc < 1)
		return fail("empty command; expected %s", sim_cmd_usage());
	for (size_t i = 0; i < NCMDS; i++)
		if (strcmp(cmds[i].name, argv[0]) == 0)
			c = &cmds[i];
	if (!c)
		return fail("unknown command '%s'; expected %s", argv[0], sim_cmd_usage());
	if (argc - 1 < c->min_args || argc - 1 > c->max_args)
		return fail("usage: %s", c->usage);
	b->commands++;
	if (!c->per_modem)
		return c->fn(b, NULL, argc, argv);
	if (!which(b, argv[1], &first, &last))
		return fail("%s: no modem '%s' (0..%u or all)", c->name, argv[1], b->n - 1);
	/* "all": the first failure is the answer; a success answers for the last modem */
	for (unsigned i = first; i < last; i++) {
		json_decref(r);
		r = c->fn(b, b->modems[i], argc, argv);
		if (!json_is_true(json_object_get(r, "ok")))
			break;
	}
	return r;
}
