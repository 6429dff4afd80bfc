/* sim_pty: one pseudo-terminal pair per simulated modem, and its RUNDIR/modemN symlink. */
#ifndef GSMSIM_SIM_PTY_H
#define GSMSIM_SIM_PTY_H

struct sim_pty;

/* Creates a pty whose slave is raw and linked as `link_path` (an old link there is replaced), with a
 * slave name other than `avoid` (NULL: any). NULL (logged) on failure. */
struct sim_pty *sim_pty_open(const char *link_path, const char *avoid);
/* Removes the symlink and closes both sides. */
void sim_pty_close(struct sim_pty *pty);

int sim_pty_master_fd(const struct sim_pty *pty);   /* non-blocking; gsmsim speaks as the modem here */
const char *sim_pty_slave_name(const struct sim_pty *pty);

#endif
