/* sim_modem: one simulated modem: its pty, the byte stream state machine (command / PDU input / submitting). */
#ifndef GSMSIM_SIM_MODEM_H
#define GSMSIM_SIM_MODEM_H

#include <sys/time.h>

#include "sim_dialect.h"

struct event_base;
struct sim_log;
struct sim_modem;

struct sim_modem_config {
	unsigned index;                    /* 0..N-1: names the modem ("modem3") and seeds its identity */
	unsigned seed;
	const char *rundir;                /* the symlink RUNDIR/modem<index> is created here */
	const struct sim_dialect *dialect;
	struct timeval latency;            /* network time to submit one SMS (Ctrl-Z -> +CMGS) */
	struct sim_log *sent_log;          /* shared RUNDIR/sent.jsonl */
};

/* NULL (logged) on failure. */
struct sim_modem *sim_modem_new(struct event_base *base, const struct sim_modem_config *cfg);
/* Cancels its timer, removes its symlink, closes its pty. */
void sim_modem_free(struct sim_modem *m);

const char *sim_modem_name(const struct sim_modem *m);
const char *sim_modem_tty(const struct sim_modem *m);

#endif
