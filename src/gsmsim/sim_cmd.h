/* sim_cmd: the control command grammar of gsmsim (list, unplug, set, sms, ...), shared by the ctl socket
 * and --script; every command answers one JSON object. */
#ifndef GSMSIM_SIM_CMD_H
#define GSMSIM_SIM_CMD_H

#include <jansson.h>

struct event_base;
struct sim_log;
struct sim_modem;

struct sim_bank {
	struct event_base *base;
	struct sim_modem **modems;
	unsigned n;
	struct sim_log *events;
	unsigned commands;   /* commands run, for stats */
};

#define SIM_CMD_ARGS_MAX 64

/* Split a line into words: blanks separate, "double quotes" group (\" and \\ inside), # starts a
 * comment outside quotes. Modifies line; returns the word count or -1 (unbalanced quote / too many). */
int sim_cmd_split(char *line, char **argv, int max);
/* Runs one command; always returns a JSON object: {"ok":true,...} or {"ok":false,"error":"..."}. */
json_t *sim_cmd_run(struct sim_bank *b, int argc, char **argv);
/* The one-line usage of every command, for errors and --help. */
const char *sim_cmd_usage(void);

#endif
