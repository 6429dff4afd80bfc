/* modem: one GSM modem's state machine — opening, initialising, ready/busy, sending PDUs, recovering. */
#ifndef SIMROUTED_MODEM_H
#define SIMROUTED_MODEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct modem;

enum modem_state {
	MODEM_ABSENT = 0,
	MODEM_OPENING,
	MODEM_INITIALISING,
	MODEM_SIM_WAIT,
	MODEM_REGISTERING,
	MODEM_READY,
	MODEM_BUSY,
	MODEM_RECOVERING,
	MODEM_DISABLED,
	MODEM_DRAINING,
	/* Not this modem (another IMEI answered on its port) or not its SIM (another ICCID): the port is
	 * closed, last_error says which, and the port is tried again now and then (or rebound by a scan). */
	MODEM_PARKED,
	MODEM_STATE_COUNT
};
const char *modem_state_name(enum modem_state s);

/* Events up to the scheduler. `cookie` is what the scheduler passed to modem_send(). */
struct modem_events {
	void (*ready)(void *arg, struct modem *m);   /* entered READY: can take a send */
	void (*sent)(void *arg, struct modem *m, void *cookie, int mr);
	/* cms: +CMS ERROR code or -1; reached_modem: the PDU was written (so it may have gone out) */
	void (*send_failed)(void *arg, struct modem *m, void *cookie, int cms, bool reached_modem, const char *why);
	void (*state_changed)(void *arg, struct modem *m, enum modem_state from, enum modem_state to);
	/* Optional (NULL: ignored). A +CDS status report PDU (TS 27.005 3.4.1, CNMI ds=1). */
	void (*status_report)(void *arg, struct modem *m, const char *pdu_hex);
	/* Optional. Every other URC as received (vendor lines; the inbox takes +CMTI, +CDSI and +CMT). */
	void (*urc)(void *arg, struct modem *m, const char *line, const char *pdu_hex);
	/* Optional (NULL: the SIM's messages are left alone). A received PDU, SMSC field first (DELIVER, or a
	 * STATUS-REPORT stored by CNMI ds=2): read from the SIM at `index` (+CMTI/+CDSI then AT+CMGR, or the
	 * AT+CMGL=4 sweep at READY and every few minutes), or routed by +CMT (index -1). Return true once it
	 * is stored (or is garbage to drop): then, and only then, the modem deletes it (AT+CMGD). */
	bool (*inbound)(void *arg, struct modem *m, const char *pdu_hex, int index);
	/* Optional. A re-initialised modem reports another ICCID than before: the SIM was swapped (DESIGN:
	 * the route is the SIM; its counters start again). Fired from SIM_WAIT, before REGISTERING. */
	void (*sim_changed)(void *arg, struct modem *m, const char *old_iccid, const char *new_iccid);
};

struct modem_config {
	const char *name;
	const char *port;          /* NULL: none yet; found by imei (modem_set_port) */
	const char *imei;          /* NULL: whatever modem answers on port; else only this IMEI is this modem */
	const char *iccid;         /* NULL: any SIM; else sends only with this SIM (normalised, no trailing F) */
	int baud;                  /* 0: 115200 */
	int command_timeout_ms;    /* 0: 5000 */
	int send_timeout_ms;       /* 0: 60000 (network submit can be slow) */
	int reopen_delay_ms;       /* 0: 2000; a missing or locked port is retried from this, backing off to 5 s */
	const char *dialect;       /* NULL: pick by +CGMI/ATI; else "generic" | "sim800" | "quectel" | "huawei" */
	const char *pin;           /* NULL: none; 4-8 digits, entered once per SIM_WAIT (never retried) */
	int poll_interval_ms;      /* 0: 30000; READY: registration and signal poll */
};

struct modem_info {
	enum modem_state state;
	/* IMEI (+CGSN) names the modem, ICCID the SIM; both "" until read. The ICCID is read again on every
	 * initialisation (see sim_changed). */
	char imei[20], iccid[24], manufacturer[48], model[48], revision[64], operator_name[48];
	char dialect[16];
	int rssi;                 /* +CSQ 0..31, 99 unknown */
	int64_t sent, failed;
	int64_t send_latency_ms;  /* the last successful send: AT+CMGS issued to +CMGS answered; 0 none yet */
	char last_error[128];
};

/* The last errors of a modem, newest first (`simroute modem NAME`): a repeated error counts up in
 * its entry instead of pushing the others out. */
#define MODEM_RECENT_ERRORS 5
struct modem_error {
	int64_t at_ms;            /* wall clock of its latest occurrence */
	int count;                /* occurrences in a row */
	char text[128];
};
/* Copies up to max entries into out, newest first; returns how many. */
size_t modem_recent_errors(const struct modem *m, struct modem_error *out, size_t max);

/* Copies cfg's strings and *ev. Returns NULL on a bad config (pin not 4-8 digits, unknown dialect, no port
 * and no imei). */
struct modem *modem_new(struct event_base *base, const struct modem_config *cfg, const struct modem_events *ev,
			void *arg);
/* absent -> opening, and retries until it opens. A port that fails later (unplugged: EIO, hang-up, or
 * its path gone) is closed at once, a send in flight reported (send_failed, reached_modem = the PDU was
 * written), and the port reopened when it comes back. */
void modem_start(struct modem *m);
/* Admin: disable closes the port (a modem in BUSY drains: its send finishes first, then DISABLED);
 * enable reopens a DISABLED modem. */
void modem_disable(struct modem *m);
void modem_enable(struct modem *m);
/* Admin reset: the dialect's soft reset (AT+CFUN=1,1 or alike), else close and reopen the port.
 * -1 while a send is in flight or the modem is disabled. */
int modem_reset(struct modem *m);
/* Cancels every timer and closes the port; fires no callback. Safe from inside a callback. */
void modem_free(struct modem *m);
/* Bind a modem that holds no port (absent, or parked for another IMEI) to `path` and open it: a scan
 * found its IMEI there. -1 if it holds a port or is disabled. */
int modem_set_port(struct modem *m, const char *path);
/* The scan's questions: the IMEI it is looking for (NULL: none configured), whether it wants a port
 * now, and the port it holds open (NULL: none). */
const char *modem_expected_imei(const struct modem *m);
bool modem_wants_port(const struct modem *m);
const char *modem_open_port(const struct modem *m);
const char *modem_name(const struct modem *m);
enum modem_state modem_state(const struct modem *m);
/* Single fields of modem_get_info, for the dispatch loop (which looks at every modem per message). */
int modem_rssi(const struct modem *m);
int64_t modem_send_latency_ms(const struct modem *m);
void modem_get_info(const struct modem *m, struct modem_info *out);

/* Submit one PDU (from pdu_encode_submit). Only in READY; moves to BUSY until sent/send_failed fires.
 * Returns 0 or -1 (not ready, or pdu_hex not hex / length out of 1..255). After 0, exactly one of
 * sent/send_failed fires, never from inside modem_send() itself (unless modem_free() comes first). */
int modem_send(struct modem *m, const char *pdu_hex, int length, void *cookie);

#endif
