/* sim_ctl: gsmsim's control socket RUNDIR/ctl.sock (one command per line in, one JSON line out) and
 * the `gsmsim ctl RUNDIR COMMAND...` client. */
#ifndef GSMSIM_SIM_CTL_H
#define GSMSIM_SIM_CTL_H

struct sim_bank;
struct sim_ctl;

/* Listens on `path` (a stale socket there is replaced). NULL (logged) on failure. */
struct sim_ctl *sim_ctl_listen(struct sim_bank *bank, const char *path);
/* Closes every connection and removes the socket. */
void sim_ctl_close(struct sim_ctl *ctl);

/* The client: sends argv as one command, prints the JSON answer; exit status 0 if it says ok. */
int sim_ctl_client(const char *rundir, int argc, char **argv);

#endif
