/* sim_script: a timed fault scenario run on the event loop, one timer for the next step.
 *
 * Format: one step per line, "TIME COMMAND ARGS...", TIME in seconds from the start (absolute) or
 * "+SECONDS" after the previous step; words as in the ctl socket; '#' starts a comment. */
#include "sim_script.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "simroute/log.h"

#include "sim_cmd.h"
#include "sim_log.h"

struct step {
	double at;
	int lineno;
	char *text;   /* the command words, as in the file */
};

struct sim_script {
	char path[1024];
	struct step *steps;
	size_t n, next;
	struct sim_bank *bank;
	struct event *timer;
	struct timeval start;
};

void sim_script_free(struct sim_script *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->steps[i].text);
	free(s->steps);
	if (s->timer)
		event_free(s->timer);
	free(s);
}

struct sim_script *sim_script_load(const char *path)
{
	struct sim_script *s = calloc(1, sizeof(*s));
	FILE *f = fopen(path, "r");
	char *line = NULL, *argv[SIM_CMD_ARGS_MAX], *end, *copy;
	size_t cap = 0;
	double last = 0, t;
	int lineno = 0, argc;

	if (!s || !f) {
		log_warn("--script %s", path);
		goto fail;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	while (getline(&line, &cap, f) >= 0) {
		char *p = line;
		lineno++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0')
			continue;
		errno = 0;
		t = strtod(p + (*p == '+'), &end);
		if (errno || end == p + (*p == '+') || !isfinite(t) || t < 0 || (*end != ' ' && *end != '\t')) {
			log_warnx("%s:%d: expected \"SECONDS command ...\"", path, lineno);
			goto fail;
		}
		t = *p == '+' ? last + t : t;
		if (t < last) {
			log_warnx("%s:%d: time %.3f is before the previous step (%.3f)", path, lineno, t, last);
			goto fail;
		}
		last = t;
		end[strcspn(end, "\r\n")] = '\0';
		copy = strdup(end);
		if (!copy)
			goto fail;
		/* check the words now so that a typo fails at start-up, not half-way through a test */
		char *check = strdup(end);
		argc = check ? sim_cmd_split(check, argv, SIM_CMD_ARGS_MAX) : -1;
		free(check);
		if (argc <= 0) {
			log_warnx("%s:%d: no command, or an unbalanced quote", path, lineno);
			free(copy);
			goto fail;
		}
		struct step *ns = realloc(s->steps, (s->n + 1) * sizeof(*ns));
		if (!ns) {
			free(copy);
			goto fail;
		}
		s->steps = ns;
		s->steps[s->n++] = (struct step){ .at = t, .lineno = lineno, .text = copy };
	}
	free(line);
	fclose(f);
	return s;
fail:
	free(line);
	if (f)
		fclose(f);
	sim_script_free(s);
	return NULL;
}

static void arm(struct sim_script *s)
{
	struct timeval now, due, wait;
	double at;

	if (s->next >= s->n) {
		log_info("script %s: done", s->path);
		sim_log_event(s->bank->events, NULL, "script_done", json_pack("{s:s}", "script", s->path));
		return;
	}
	at = s->steps[s->next].at;
	due.tv_sec = s->start.tv_sec + (time_t)at;
	due.tv_usec = s->start.tv_usec + (suseconds_t)((at - floor(at)) * 1e6);
	if (due.tv_usec >= 1000000) {
		due.tv_sec++;
		due.tv_usec -= 1000000;
	}
	event_base_gettimeofday_cached(s->bank->base, &now);
	if (timercmp(&due, &now, <))
		timerclear(&wait);
	else
		timersub(&due, &now, &wait);
	evtimer_add(s->timer, &wait);
}

static void on_step(evutil_socket_t fd, short what, void *arg)
{
	struct sim_script *s = arg;
	struct step *st = &s->steps[s->next++];
	char *argv[SIM_CMD_ARGS_MAX], *words = strdup(st->text);
	int argc = words ? sim_cmd_split(words, argv, SIM_CMD_ARGS_MAX) : -1;
	json_t *reply = argc > 0 ? sim_cmd_run(s->bank, argc, argv) : NULL;

	if (!json_is_true(json_object_get(reply, "ok")))
		log_warnx("script %s:%d: %s", s->path, st->lineno,
			  json_string_value(json_object_get(reply, "error")) ?: "failed");
	sim_log_event(s->bank->events, NULL, "script_step",
		      json_pack("{s:i, s:f, s:s, s:b}", "line", st->lineno, "at", st->at, "command", st->text,
				"ok", json_is_true(json_object_get(reply, "ok"))));
	json_decref(reply);
	free(words);
	arm(s);
}

int sim_script_start(struct sim_script *s, struct sim_bank *bank)
{
	s->bank = bank;
	s->timer = evtimer_new(bank->base, on_step, s);
	if (!s->timer)
		return -1;
	event_base_gettimeofday_cached(bank->base, &s->start);
	arm(s);
	return 0;
}
