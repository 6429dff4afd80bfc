/* modem_int: what modem.c (lifecycle, state machine, send) and modem_bringup.c (initialising, SIM wait,
 * registering) share; private to src/daemon/modem/. */
#ifndef SIMROUTED_MODEM_INT_H
#define SIMROUTED_MODEM_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "modem/modem.h"

struct at_reply;

#define MODEM_POLL_MS          1000     /* SIM and registration polls */
#define MODEM_SIM_LOCKED_MS    10000    /* SIM needs a PIN/PUK we cannot give: ask now and then */
#define MODEM_SIM_POLLS        30       /* SIM_WAIT without progress this many polls: recover */
#define MODEM_REG_POLLS        120      /* REGISTERING without registration: recover */
#define MODEM_PARK_RETRY_MS    60000    /* PARKED: look at the port again (the right modem or SIM may be back) */

/* What the command in flight was for; modem_response() dispatches on it. */
enum modem_cmd {
	CMD_NONE = 0,
	CMD_OPEN_SYNC,     /* OPENING: ESC, quiet, AT */
	CMD_INIT,          /* INITIALISING: init_steps[m->step] or a dialect command; CMD_INIT..CMD_COPS */
	CMD_CPIN,
	CMD_PIN,
	CMD_ICCID,
	CMD_CREG,
	CMD_CSQ,
	CMD_COPS,          /* ...are the bring-up commands (modem_bringup_reply) */
	CMD_POLL_CREG,     /* READY health poll */
	CMD_POLL_CSQ,
	CMD_SEND,
	CMD_INBOX,         /* READY (or BUSY before the send starts): inbox.c's read, list, delete */
	CMD_RECOVER_SYNC,
	CMD_RESET,
};

struct modem {
	struct event_base *base;
	char *name, *port, *pin;           /* port NULL: none bound yet (found by want_imei) */
	char *want_imei, *want_iccid;      /* configured identity; NULL: any */
	int baud, cfg_cmd_timeout, cfg_send_timeout, reopen_ms, poll_ms;
	const struct dialect *forced;      /* from config; NULL: detect */
	struct modem_events ev;
	void *arg;

	enum modem_state state;
	struct serial_port *sp;
	struct at_chan *ch;
	const struct dialect *d;
	struct event *timer;               /* the current state's timer: reopen, poll, recovery */
	struct event *health;              /* READY: periodic poll */
	enum modem_cmd inflight;
	int step;                          /* INITIALISING: position in the init sequence */
	int tries;                         /* polls in the current state */
	int recover_level;                 /* rungs climbed since the last READY */
	int open_failures;
	int absent_ms;                     /* ABSENT: the current retry delay (backs off to a cap) */
	char open_error[128];              /* the last open failure, logged again only when it changes */
	bool started, pin_tried, lock_warned, denied_warned;
	bool pin_refused;                  /* until an admin re-enables: each wrong try brings the PUK closer */
	bool iccid_fallback;               /* SIM_WAIT: the dialect's ICCID command failed, AT+CCID tried */
	bool parked_imei;                  /* PARKED because another modem answered (not because of the SIM) */
	bool park_repeat;                  /* parked again for the same reason: keep the log quiet */

	/* the send in progress (BUSY) */
	bool send_active, send_started;
	int64_t send_t0_ms;                /* CLOCK_MONOTONIC when AT+CMGS was issued */
	void *cookie;
	char *pdu;
	char cmgs[32];

	struct inbox *inbox;               /* inbox.c: SIM reads and deletes waiting for the channel */

	struct modem_info info;
	struct modem_error recent[MODEM_RECENT_ERRORS];   /* ring; recent_head: the newest */
	size_t recent_head, nrecent;
	int depth;                         /* inside an entry point; see modem_leave() */
	bool dead;                         /* modem_free() called; freed when depth drops to 0 */
};

/* modem.c */
void modem_enter_state(struct modem *m, enum modem_state to, const char *why);
/* Send a command for the current state; a channel that refuses it sends the modem to RECOVERING. */
bool modem_issue(struct modem *m, enum modem_cmd kind, const char *cmd, int timeout_ms);
void modem_arm(struct modem *m, int ms);
void modem_set_error(struct modem *m, const char *why);
/* Not this modem (imei_mismatch) or not its SIM: log once per cause at warn, then PARKED. */
void modem_park(struct modem *m, bool imei_mismatch, const char *why);
int modem_cmd_timeout(const struct modem *m);
/* Truncating copy (snprintf "%s" into a smaller buffer trips -Wformat-truncation at -O2). */
void modem_copy_str(char *dst, size_t n, const char *src);

/* modem_bringup.c: INITIALISING, SIM_WAIT and REGISTERING */
void modem_bringup_init(struct modem *m);       /* entry actions of the three states */
void modem_bringup_sim(struct modem *m);
void modem_bringup_register(struct modem *m);
void modem_bringup_timer(struct modem *m);      /* the state's poll timer fired */
/* A finished bring-up command (kind in CMD_INIT..CMD_COPS). */
void modem_bringup_reply(struct modem *m, enum modem_cmd kind, const struct at_reply *r);
/* "+CREG: <n>,<stat>" (or a bare "+CREG: <stat>") -> stat, -1 if none; "+CSQ: <rssi>,<ber>" -> rssi or 99. */
int modem_parse_creg_stat(const char *line);
int modem_parse_csq(const char *line);
/* The IMEI digits of an AT+CGSN answer line ("" if none); shared with the port probe. */
void modem_imei_from_reply(char *out, size_t n, const char *line);

#endif
