/* sim_modem: one simulated modem: its pty, the byte stream state machine (command / PDU input / submitting),
 * and what the simulated world does to it (unplug, reboot, inbound SMS, status reports, faults). */
#ifndef GSMSIM_SIM_MODEM_H
#define GSMSIM_SIM_MODEM_H

#include <stddef.h>

#include <jansson.h>

#include "sim_dialect.h"
#include "sim_fault.h"

struct event_base;
struct sim_log;
struct sim_modem;

struct sim_modem_config {
	unsigned index;                    /* 0..N-1: names the modem ("modem3") and seeds its identity */
	unsigned seed;
	const char *rundir;                /* the symlink RUNDIR/modem<index> is created here */
	const struct sim_dialect *dialect;
	double latency;                    /* network time to submit one SMS (Ctrl-Z -> +CMGS), s */
	struct sim_log *sent_log;          /* shared RUNDIR/sent.jsonl */
	struct sim_log *event_log;         /* shared RUNDIR/events.jsonl */
};

/* NULL (logged) on failure. */
struct sim_modem *sim_modem_new(struct event_base *base, const struct sim_modem_config *cfg);
/* Cancels its timers, removes its symlink, closes its pty. */
void sim_modem_free(struct sim_modem *m);

const char *sim_modem_name(const struct sim_modem *m);
const char *sim_modem_tty(const struct sim_modem *m);   /* "" while unplugged */

/* Control (ctl socket, scripts). Each returns 0, or -1 with a message in err; each injected fault is
 * appended to events.jsonl. */
json_t *sim_modem_json(const struct sim_modem *m);          /* state, identity, radio, settings, counters */
json_t *sim_modem_counters(const struct sim_modem *m);
int sim_modem_unplug(struct sim_modem *m, double replug_after, char *err, size_t errsize);
int sim_modem_replug(struct sim_modem *m, bool rename, char *err, size_t errsize);
int sim_modem_reboot(struct sim_modem *m, char *err, size_t errsize);
int sim_modem_set(struct sim_modem *m, const char *key, const char *value, char *err, size_t errsize);
int sim_modem_fault(struct sim_modem *m, const char *kind, const char *arg, char *err, size_t errsize);
int sim_modem_swap_sim(struct sim_modem *m, const char *iccid, char *err, size_t errsize);
/* Deliver a text from `from` (E.164, digits or alphanumeric); *parts = how many SMS it took. */
int sim_modem_sms(struct sim_modem *m, const char *from, const char *text, int *parts, char *err,
		  size_t errsize);
/* A status report for TP-MR `mr` (the recipient of the last SMS with that mr) with TP-ST `status`. */
int sim_modem_report(struct sim_modem *m, int mr, int status, char *err, size_t errsize);

#endif
