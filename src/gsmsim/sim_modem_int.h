/* sim_modem_int: private to sim_modem*.c - the modem struct shared by the byte-stream side (sim_modem.c)
 * and the network side (sim_modem_net.c). */
#ifndef GSMSIM_SIM_MODEM_INT_H
#define GSMSIM_SIM_MODEM_INT_H

#include <stdint.h>
#include <sys/queue.h>

#include "simroute/pdu.h"

#include "sim_at.h"
#include "sim_fault.h"
#include "sim_modem.h"

#define LINE_MAX_BYTES 4096     /* a longer command line is discarded and answered ERROR */
#define HEX_MAX_CHARS (PDU_HEX_MAX - 1)

/*
 * command: bytes form CR-terminated AT command lines.
 * pdu_input: after AT+CMGS=<len> and "> ", hex digits until Ctrl-Z (send) or ESC (cancel).
 * submitting: the PDU is "on the network" for the latency; the modem reads nothing (bytes wait in
 *   the pty and in our input buffer) and answers +CMGS (or +CMS ERROR) when the timer fires.
 * busy: a command's answer is held back (late-answer fault); reading paused as in submitting.
 * hung: took a PDU and will never answer (fault); input is read and lost.
 * booting: reset in progress on a port that stays (UART); input is read and lost.
 * absent: unplugged / re-enumerating: no pty at all, the symlink is gone.
 */
enum sim_modem_state {
	SIM_MODEM_COMMAND,
	SIM_MODEM_PDU_INPUT,
	SIM_MODEM_SUBMITTING,
	SIM_MODEM_BUSY,
	SIM_MODEM_HUNG,
	SIM_MODEM_BOOTING,
	SIM_MODEM_ABSENT,
	SIM_MODEM_NSTATES,
};

/* Something the network holds for the modem until it can take it: an SMS part or a status report. */
struct sim_inbound {
	TAILQ_ENTRY(sim_inbound) entry;
	bool report;
	bool full_logged;
	int length;
	char hex[PDU_HEX_MAX];
};
TAILQ_HEAD(sim_inbound_list, sim_inbound);

/* A status report waiting for its delay to pass. */
struct sim_pending_report {
	LIST_ENTRY(sim_pending_report) entry;
	struct sim_modem *modem;
	struct event *timer;
	int mr;
	int status;
	char to[48];
	char submitted[32];
};
LIST_HEAD(sim_report_list, sim_pending_report);

struct sim_counters {
	unsigned sent, cms_errors, noanswer, late, garbage, hangs, received, reports, unplugs, reboots,
		swaps, storage_full;
};

struct sim_modem {
	char name[16];
	unsigned index, seed;
	char link[4096];
	unsigned renames;              /* replug ... rename: the link is RUNDIR/<name>-r<renames> */
	enum sim_modem_state state;
	const struct sim_dialect *dialect;
	struct event_base *base;
	struct sim_at *at;
	struct sim_pty *pty;           /* NULL while absent */
	struct bufferevent *bev;       /* NULL while absent */
	char last_tty[64];
	struct event *timer;           /* the one timeout of the current state (submit, late, boot, replug) */
	struct event *chatter_timer;   /* NULL unless chatter is on */
	struct event *walk_timer;      /* NULL unless the signal walks */
	bool replug_after_timer;       /* absent: the timer plugs the port back in */
	struct sim_log *sent_log, *event_log;
	struct sim_faults faults;
	uint64_t rng;
	struct sim_counters count;

	char line[LINE_MAX_BYTES];
	size_t line_len;
	bool line_overflow;
	char last_line[LINE_MAX_BYTES];   /* for A/ */

	char hex[HEX_MAX_CHARS + 1];
	size_t hex_len;
	bool hex_overflow;
	int cmgs_len;

	struct pdu_decoded pending;   /* the PDU being submitted */
	int submit_cms;               /* != 0: the network refuses it with this +CMS ERROR */
	struct evbuffer *held;        /* busy: the answer that comes late */
	int next_mr;                  /* TP-MR the network will assign next (TS 23.040 9.2.3.6), mod 256 */
	char mr_to[256][24];          /* recipient of the last SMS with each TP-MR, for status reports */
	bool warned_output_dropped;

	struct sim_inbound_list inbound;
	struct sim_report_list reports;
};

void sim_modem_enter_state(struct sim_modem *m, enum sim_modem_state next);
const char *sim_modem_state_name(enum sim_modem_state s);
void sim_modem_say(struct sim_modem *m, struct evbuffer *reply);
/* Says queued URCs if the line is free (or, by urc_cmgs_p, in the middle of +CMGS). */
void sim_modem_flush_urc(struct sim_modem *m, bool mid_cmgs);
void sim_modem_event(struct sim_modem *m, const char *event, json_t *fields);
/* 4..27 random bytes of line noise (never CR/LF), counted and recorded as a "garbage" event. */
void sim_modem_add_garbage(struct sim_modem *m, struct evbuffer *out);
double sim_modem_latency(struct sim_modem *m);

/* sim_modem_net.c */
int sim_modem_open_port(struct sim_modem *m);
void sim_modem_set_callbacks(struct sim_modem *m);   /* sim_modem.c: its bufferevent handlers */
void sim_modem_close_port(struct sim_modem *m);
void sim_modem_deliver_pending(struct sim_modem *m);
void sim_modem_boot_done(struct sim_modem *m);
void sim_modem_start_reboot(struct sim_modem *m, const char *why);
void sim_modem_submitted(struct sim_modem *m, int mr);   /* schedules its status report */
void sim_modem_update_timers(struct sim_modem *m, bool restart);
void sim_modem_net_free(struct sim_modem *m);

#endif
