/* sim_script: a timed fault scenario (--script FILE): "SECONDS command args..." lines run as ctl commands. */
#ifndef GSMSIM_SIM_SCRIPT_H
#define GSMSIM_SIM_SCRIPT_H

struct sim_bank;
struct sim_script;

/* Reads and checks the whole file (times, command names) before anything runs. NULL (logged) on error. */
struct sim_script *sim_script_load(const char *path);
/* Starts the clock: step times count from now. */
int sim_script_start(struct sim_script *s, struct sim_bank *bank);
void sim_script_free(struct sim_script *s);

#endif
