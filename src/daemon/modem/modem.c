/* modem: one GSM modem's state machine — opening, initialising, ready/busy, sending PDUs, recovering.
 *
 * OpenSMTPD's shape: modem_enter_state() is the only place ->state changes, it logs "old -> new" and
 * runs the new state's entry action (usually: send its first command); modem_response() judges each
 * finished AT command by what was in flight and decides the next step. Delays are timers, every
 * command has a timeout (at.c), and no state waits forever: a modem that makes no progress goes to
 * RECOVERING, which climbs a ladder (resync, soft reset, close/reopen with back-off). */
#include "modem/modem.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "modem/at.h"
#include "modem/dialect.h"
#include "modem/serial.h"
#include "simroute/log.h"

#define MODEM_CMD_TIMEOUT_MS   5000
#define MODEM_SEND_TIMEOUT_MS  60000
#define MODEM_REOPEN_MS        2000
#define MODEM_REOPEN_MAX_MS    60000
#define MODEM_POLL_MS          1000     /* SIM and registration polls */
#define MODEM_SIM_LOCKED_MS    10000    /* SIM needs a PIN/PUK we cannot give: ask now and then */
#define MODEM_SIM_POLLS        30       /* SIM_WAIT without progress this many polls: recover */
#define MODEM_REG_POLLS        120      /* REGISTERING without registration: recover */
#define MODEM_HEALTH_MS        30000    /* READY: registration and signal poll */

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
	CMD_COPS,          /* ...are the bring-up commands (see modem_response) */
	CMD_POLL_CREG,     /* READY health poll */
	CMD_POLL_CSQ,
	CMD_SEND,
	CMD_RECOVER_SYNC,
	CMD_RESET,
};

struct modem {
	struct event_base *base;
	char *name, *port, *pin;
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
	bool started, pin_tried, lock_warned, denied_warned;
	bool pin_refused;                  /* until an admin re-enables: each wrong try brings the PUK closer */
	bool iccid_fallback;               /* SIM_WAIT: the dialect's ICCID command failed, AT+CCID tried */

	/* the send in progress (BUSY) */
	bool send_active, send_started;
	void *cookie;
	char *pdu;
	char cmgs[32];

	struct modem_info info;
	int depth;                         /* inside an entry point; see modem_leave() */
	bool dead;                         /* modem_free() called; freed when depth drops to 0 */
};

static const char *const state_names[MODEM_STATE_COUNT] = {
	"absent", "opening", "initialising", "sim_wait", "registering", "ready", "busy", "recovering",
	"disabled", "draining",
};

const char *modem_state_name(enum modem_state s)
{
	return (unsigned)s < MODEM_STATE_COUNT ? state_names[s] : "?";
}

#define B(s) (1u << (s))
/* The legal moves; anything else is a bug in this file. */
static const unsigned modem_moves[MODEM_STATE_COUNT] = {
	[MODEM_ABSENT] = B(MODEM_OPENING) | B(MODEM_DISABLED),
	[MODEM_OPENING] = B(MODEM_ABSENT) | B(MODEM_INITIALISING) | B(MODEM_RECOVERING) | B(MODEM_DISABLED),
	[MODEM_INITIALISING] = B(MODEM_SIM_WAIT) | B(MODEM_RECOVERING) | B(MODEM_DISABLED),
	[MODEM_SIM_WAIT] = B(MODEM_REGISTERING) | B(MODEM_RECOVERING) | B(MODEM_DISABLED),
	[MODEM_REGISTERING] = B(MODEM_READY) | B(MODEM_RECOVERING) | B(MODEM_DISABLED),
	[MODEM_READY] = B(MODEM_BUSY) | B(MODEM_REGISTERING) | B(MODEM_RECOVERING) | B(MODEM_DISABLED),
	[MODEM_BUSY] = B(MODEM_READY) | B(MODEM_RECOVERING) | B(MODEM_DRAINING),
	[MODEM_RECOVERING] = B(MODEM_OPENING) | B(MODEM_INITIALISING) | B(MODEM_DISABLED),
	/* DISABLED is reached from every state but BUSY, which drains first */
	[MODEM_DISABLED] = B(MODEM_OPENING),
	[MODEM_DRAINING] = B(MODEM_DISABLED),
};

static void modem_enter_state(struct modem *m, enum modem_state to, const char *why);
static void modem_response(void *arg, const struct at_reply *r);
static void modem_recover(struct modem *m);
static void modem_start_send(struct modem *m);
static void modem_on_urc(void *arg, const char *line, const char *pdu);
static void modem_on_fail(void *arg, int err);

/* ---- lifetime: callbacks up may call modem_free(); entry points hold the struct until they return ---- */

static void modem_destroy(struct modem *m)
{
	if (m->timer)
		event_free(m->timer);
	if (m->health)
		event_free(m->health);
	free(m->pdu);
	free(m->name);
	free(m->port);
	free(m->pin);
	free(m);
}

static void modem_enter(struct modem *m) { m->depth++; }

static void modem_leave(struct modem *m)
{
	if (--m->depth == 0 && m->dead)
		modem_destroy(m);
}

static int modem_cmd_timeout(const struct modem *m)
{
	if (m->cfg_cmd_timeout > 0)
		return m->cfg_cmd_timeout;
	return m->d && m->d->command_timeout_ms > 0 ? m->d->command_timeout_ms : MODEM_CMD_TIMEOUT_MS;
}

static int modem_send_timeout(const struct modem *m)
{
	if (m->cfg_send_timeout > 0)
		return m->cfg_send_timeout;
	return m->d && m->d->send_timeout_ms > 0 ? m->d->send_timeout_ms : MODEM_SEND_TIMEOUT_MS;
}

static void modem_arm(struct modem *m, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	evtimer_add(m->timer, &tv);
}

/* Truncating copy (snprintf "%s" into a smaller buffer trips -Wformat-truncation at -O2). */
static void copy_str(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	if (len >= n)
		len = n - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void modem_set_error(struct modem *m, const char *why)
{
	copy_str(m->info.last_error, sizeof(m->info.last_error), why);
}

static void modem_close_port(struct modem *m)
{
	struct at_chan *ch = m->ch;

	m->ch = NULL;
	m->inflight = CMD_NONE;
	at_free(ch);   /* a command in flight comes back CANCELLED, which modem_response ignores */
	serial_close(m->sp);
	m->sp = NULL;
}

/* Send a command for the current state. A channel that refuses it is broken: recover. */
static bool modem_issue(struct modem *m, enum modem_cmd kind, const char *cmd, int timeout_ms)
{
	if (m->ch && at_command(m->ch, cmd, timeout_ms > 0 ? timeout_ms : modem_cmd_timeout(m),
				modem_response, m) == 0) {
		m->inflight = kind;
		return true;
	}
	log_warnx("modem %s: cannot send %s", m->name, cmd);
	if (m->state != MODEM_RECOVERING)
		modem_enter_state(m, MODEM_RECOVERING, "AT channel refused a command");
	return false;
}

/* ---- parsing replies ---- */

/* "+CREG: <n>,<stat>[,...]" answering AT+CREG? (TS 27.007 7.2); a bare "+CREG: <stat>" too. */
static int parse_creg_stat(const char *line)
{
	int a, b;

	if (!line)
		return -1;
	switch (sscanf(line, "+CREG: %d,%d", &a, &b)) {
	case 2: return b;
	case 1: return a;
	default: return -1;
	}
}

static int parse_csq(const char *line)
{
	int rssi;

	return line && sscanf(line, "+CSQ: %d", &rssi) == 1 && rssi >= 0 && rssi <= 199 ? rssi : 99;
}

/* ---- INITIALISING: generic steps, then the dialect's commands, then CNMI ---- */

static void parse_ident(struct modem *m, const struct at_reply *r)
{
	if (r->result != AT_RES_OK || !at_reply_first(r) || m->info.manufacturer[0])
		return;
	at_value(m->info.manufacturer, sizeof(m->info.manufacturer), at_reply_first(r));
	if (!m->forced)
		m->d = dialect_match(m->info.manufacturer);
	copy_str(m->info.dialect, sizeof(m->info.dialect), m->d->name);
}

static void parse_model(struct modem *m, const struct at_reply *r)
{
	at_value(m->info.model, sizeof(m->info.model), r->result == AT_RES_OK ? at_reply_first(r) : NULL);
}

static void parse_revision(struct modem *m, const struct at_reply *r)
{
	at_value(m->info.revision, sizeof(m->info.revision), r->result == AT_RES_OK ? at_reply_first(r) : NULL);
}

static void parse_imei(struct modem *m, const struct at_reply *r)
{
	char v[40];
	size_t o = 0;

	if (r->result != AT_RES_OK)
		return;
	at_value(v, sizeof(v), at_reply_first(r));
	for (const char *s = v; *s && o + 1 < sizeof(m->info.imei); s++)
		if (isdigit((unsigned char)*s))
			m->info.imei[o++] = *s;
	m->info.imei[o] = '\0';
}

static bool have_manufacturer(const struct modem *m) { return m->info.manufacturer[0] != '\0'; }

static const struct init_step {
	const char *cmd;
	bool required;                     /* a modem refusing this cannot do PDU-mode SMS for us */
	void (*parse)(struct modem *m, const struct at_reply *r);
	bool (*skip)(const struct modem *m);
} init_steps[] = {
	{ "ATE0", true, NULL, NULL },                  /* no echo: replies are only replies */
	{ "AT+CMEE=1", false, NULL, NULL },            /* numeric +CME ERROR codes */
	{ "AT+CGMI", false, parse_ident, NULL },
	{ "ATI", false, parse_ident, have_manufacturer },
	{ "AT+CGMM", false, parse_model, NULL },
	{ "AT+CGMR", false, parse_revision, NULL },
	{ "AT+CGSN", false, parse_imei, NULL },
	{ "AT+CMGF=0", true, NULL, NULL },             /* PDU mode (TS 27.005 3.2.3) */
};
#define N_INIT_STEPS ((int)(sizeof(init_steps) / sizeof(init_steps[0])))

/* Send the command of m->step, skipping steps that do not apply; past the end, SIM_WAIT. */
static void modem_init_next(struct modem *m)
{
	int nd = dialect_init_count(m->d);

	while (m->step < N_INIT_STEPS && init_steps[m->step].skip && init_steps[m->step].skip(m))
		m->step++;
	if (m->step < N_INIT_STEPS) {
		modem_issue(m, CMD_INIT, init_steps[m->step].cmd, 0);
	} else if (m->step < N_INIT_STEPS + nd) {
		modem_issue(m, CMD_INIT, m->d->init[m->step - N_INIT_STEPS], 0);
	} else if (m->step == N_INIT_STEPS + nd && m->d->cnmi) {
		modem_issue(m, CMD_INIT, m->d->cnmi, 0);
	} else {
		log_info("modem %s: %s %s (%s dialect), IMEI %s", m->name,
			 m->info.manufacturer[0] ? m->info.manufacturer : "unknown", m->info.model, m->d->name,
			 m->info.imei[0] ? m->info.imei : "unknown");
		modem_enter_state(m, MODEM_SIM_WAIT, "initialised");
	}
}

static void modem_init_reply(struct modem *m, const struct at_reply *r)
{
	const struct init_step *st = m->step < N_INIT_STEPS ? &init_steps[m->step] : NULL;
	char why[96];

	if (r->result != AT_RES_OK) {
		if (st && st->required) {
			snprintf(why, sizeof(why), "%s refused (%s %d)", st->cmd, at_result_name(r->result), r->err);
			modem_set_error(m, why);
			modem_enter_state(m, MODEM_RECOVERING, why);
			return;
		}
		log_debug("modem %s: init step %d: %s %d, carrying on", m->name, m->step, at_result_name(r->result),
			  r->err);
	}
	if (st && st->parse)
		st->parse(m, r);
	m->step++;
	modem_init_next(m);
}

/* ---- SIM_WAIT and REGISTERING ---- */

static void modem_sim_reply(struct modem *m, const struct at_reply *r)
{
	const char *l = at_reply_find(r, "+CPIN:");
	char why[96];

	if (r->result == AT_RES_OK && l && strstr(l, "READY")) {
		if (m->d->iccid_cmd)
			modem_issue(m, CMD_ICCID, m->d->iccid_cmd, 0);
		else
			modem_enter_state(m, MODEM_REGISTERING, "SIM ready");
		return;
	}
	if (r->result == AT_RES_OK && l && strstr(l, "SIM PIN") && !strstr(l, "PIN2") && m->pin && !m->pin_tried &&
	    !m->pin_refused) {
		char cmd[32];
		m->pin_tried = true;    /* once per SIM_WAIT; a refused pin never again (see pin_refused) */
		snprintf(cmd, sizeof(cmd), "AT+CPIN=\"%s\"", m->pin);
		modem_issue(m, CMD_PIN, cmd, 0);
		return;
	}
	if (r->result == AT_RES_OK && l && (strstr(l, "PIN") || strstr(l, "PUK"))) {
		/* Nothing we can do but wait for an operator; a reset would not help. */
		if (!m->lock_warned) {
			at_value(why, sizeof(why), l);
			log_warnx("modem %s: SIM wants %s; %s", m->name, why,
				  m->pin ? "the configured pin was refused" : "no pin configured");
			snprintf(m->info.last_error, sizeof(m->info.last_error), "SIM wants %s", why);
			m->lock_warned = true;
		}
		modem_arm(m, MODEM_SIM_LOCKED_MS);
		return;
	}
	/* not inserted, busy, not ready: give it time, then treat as stuck */
	if (++m->tries >= MODEM_SIM_POLLS) {
		snprintf(why, sizeof(why), "SIM not ready after %d polls (%s)", m->tries,
			 l ? l : at_result_name(r->result));
		modem_set_error(m, why);
		modem_enter_state(m, MODEM_RECOVERING, why);
		return;
	}
	modem_arm(m, MODEM_POLL_MS);
}

static void modem_pin_reply(struct modem *m, const struct at_reply *r)
{
	if (r->result != AT_RES_OK) {
		log_warnx("modem %s: SIM refused the configured pin (%s %d); not trying again", m->name,
			  at_result_name(r->result), r->err);
	}
	modem_arm(m, MODEM_POLL_MS);   /* the SIM is busy for a moment after a PIN */
}

static void modem_iccid_reply(struct modem *m, const struct at_reply *r)
{
	char iccid[sizeof(m->info.iccid)];

	if (r->result == AT_RES_OK && at_reply_first(r)) {
		char v[64];
		at_value(v, sizeof(v), at_reply_first(r));
		dialect_iccid_normalise(iccid, sizeof(iccid), v);
		if (m->info.iccid[0] && strcmp(iccid, m->info.iccid) != 0)
			log_info("modem %s: SIM changed: ICCID %s -> %s", m->name, m->info.iccid, iccid);
		copy_str(m->info.iccid, sizeof(m->info.iccid), iccid);
	} else if (!m->iccid_fallback && strcmp(m->d->iccid_cmd, "AT+CCID") != 0) {
		/* the SIM is our route's identity: try the command most firmwares accept too */
		m->iccid_fallback = true;
		modem_issue(m, CMD_ICCID, "AT+CCID", 0);
		return;
	} else {
		log_info("modem %s: cannot read the ICCID (%s %d)", m->name, at_result_name(r->result), r->err);
	}
	modem_enter_state(m, MODEM_REGISTERING, "SIM ready");
}

static void modem_creg_reply(struct modem *m, const struct at_reply *r)
{
	int stat = r->result == AT_RES_OK ? parse_creg_stat(at_reply_find(r, "+CREG:")) : -1;
	char why[64];

	if (stat == 1 || stat == 5) {  /* home, roaming */
		m->denied_warned = false;
		modem_issue(m, CMD_CSQ, "AT+CSQ", 0);
		return;
	}
	if (stat == 3 && !m->denied_warned) {
		log_warnx("modem %s: network registration denied", m->name);
		modem_set_error(m, "registration denied");
		m->denied_warned = true;
	}
	if (++m->tries >= MODEM_REG_POLLS) {
		snprintf(why, sizeof(why), "not registered after %d polls (stat %d)", m->tries, stat);
		modem_set_error(m, why);
		modem_enter_state(m, MODEM_RECOVERING, why);
		return;
	}
	modem_arm(m, MODEM_POLL_MS);
}

/* ---- BUSY: one PDU ---- */

static void modem_send_done(struct modem *m, int mr)
{
	void *cookie = m->cookie;

	m->send_active = false;
	m->cookie = NULL;
	m->info.sent++;
	if (m->ev.sent)
		m->ev.sent(m->arg, m, cookie, mr);
}

static void modem_send_fail(struct modem *m, int cms, bool reached, const char *why)
{
	void *cookie = m->cookie;

	if (!m->send_active)
		return;
	m->send_active = false;
	m->cookie = NULL;
	m->info.failed++;
	modem_set_error(m, why);
	if (m->ev.send_failed)
		m->ev.send_failed(m->arg, m, cookie, cms, reached, why);
}

/* The send is over and the modem is fine: back to READY, or on to DISABLED if an admin asked. */
static void modem_send_settled(struct modem *m, const char *why)
{
	if (m->dead)
		return;
	if (m->state == MODEM_BUSY)
		modem_enter_state(m, MODEM_READY, why);
	else if (m->state == MODEM_DRAINING)
		modem_enter_state(m, MODEM_DISABLED, "drained");
}

static void modem_send_reply(struct modem *m, const struct at_reply *r)
{
	const char *l = at_reply_find(r, "+CMGS:");
	char why[96];
	int mr = -1;

	switch (r->result) {
	case AT_RES_OK:
		if (!l || sscanf(l, "+CMGS: %d", &mr) != 1)
			log_warnx("modem %s: AT+CMGS OK without a message reference", m->name);
		log_debug("modem %s: submitted, mr %d", m->name, mr);
		modem_send_done(m, mr);
		modem_send_settled(m, "sent");
		return;
	case AT_RES_CMS_ERROR:
	case AT_RES_CME_ERROR:
	case AT_RES_ERROR:
		/* The modem or network answered no: definitely not sent; the modem itself is fine. */
		snprintf(why, sizeof(why), "%s %d", at_result_name(r->result), r->err);
		log_info("modem %s: send refused: %s", m->name, why);
		modem_send_fail(m, r->result == AT_RES_CMS_ERROR ? r->err : -1, false, why);
		modem_send_settled(m, why);
		return;
	case AT_RES_TIMEOUT:
	case AT_RES_IO:
	default:
		/* After the PDU went out we cannot know whether the network took it: the scheduler marks
		 * the message uncertain rather than sending it twice. The modem is in an unknown state. */
		snprintf(why, sizeof(why), "%s %s", r->pdu_written ? "after the PDU:" : "before the PDU:",
			 at_result_name(r->result));
		modem_send_fail(m, -1, r->pdu_written, why);
		if (!m->dead && (m->state == MODEM_BUSY || m->state == MODEM_DRAINING))
			modem_enter_state(m, MODEM_RECOVERING, why);
		return;
	}
}

static void modem_start_send(struct modem *m)
{
	if (!m->send_active || m->send_started || !m->ch || at_busy(m->ch))
		return;
	if (at_command_pdu(m->ch, m->cmgs, m->pdu, modem_send_timeout(m), modem_response, m) == 0) {
		m->send_started = true;
		m->inflight = CMD_SEND;
		return;
	}
	/* Report asynchronously: the caller may still be inside modem_send(). */
	modem_arm(m, 0);
}

/* ---- READY: health poll ---- */

static void modem_poll_reply(struct modem *m, enum modem_cmd kind, const struct at_reply *r)
{
	if (r->result == AT_RES_TIMEOUT || r->result == AT_RES_IO) {
		modem_send_fail(m, -1, false, "health poll failed before the send");
		if (!m->dead)
			modem_enter_state(m, MODEM_RECOVERING, "health poll timed out");
		return;
	}
	if (kind == CMD_POLL_CREG) {
		int stat = parse_creg_stat(at_reply_find(r, "+CREG:"));
		if (r->result == AT_RES_OK && stat != 1 && stat != 5 && m->state == MODEM_READY) {
			log_info("modem %s: lost network registration (stat %d)", m->name, stat);
			modem_enter_state(m, MODEM_REGISTERING, "lost registration");
			return;
		}
		if (m->state == MODEM_READY) {
			modem_issue(m, CMD_POLL_CSQ, "AT+CSQ", 0);
			return;
		}
	} else if (r->result == AT_RES_OK) {
		m->info.rssi = parse_csq(at_reply_find(r, "+CSQ:"));
	}
	if (m->state == MODEM_BUSY || m->state == MODEM_DRAINING)
		modem_start_send(m);   /* a send that arrived during the poll */
}

/* ---- RECOVERING: resync, soft reset, close and reopen with back-off ---- */

static void modem_reopen_later(struct modem *m, int ms)
{
	modem_close_port(m);
	modem_arm(m, ms);
}

static void modem_recover(struct modem *m)
{
	int rung = ++m->recover_level;

	/* at.c refuses commands on a busy or dead channel: then the rung is skipped */
	if (rung == 1) {
		if (m->ch && at_sync(m->ch, modem_cmd_timeout(m), modem_response, m) == 0) {
			log_info("modem %s: recovery: resync", m->name);
			m->inflight = CMD_RECOVER_SYNC;
			return;
		}
		rung = ++m->recover_level;
	}
	if (rung == 2 && m->d->reset_cmd && m->ch &&
	    at_command(m->ch, m->d->reset_cmd, modem_cmd_timeout(m), modem_response, m) == 0) {
		log_info("modem %s: recovery: soft reset (%s)", m->name, m->d->reset_cmd);
		m->inflight = CMD_RESET;
		return;
	}
	{
		int shift = rung > 3 ? rung - 3 : 0;
		long ms = (long)m->reopen_ms << (shift > 5 ? 5 : shift);
		if (ms > MODEM_REOPEN_MAX_MS && m->reopen_ms < MODEM_REOPEN_MAX_MS)
			ms = MODEM_REOPEN_MAX_MS;
		log_info("modem %s: recovery: reopening the port in %ld ms", m->name, ms);
		modem_reopen_later(m, (int)ms);
	}
}

/* ---- the state machine ---- */

static bool modem_significant(const struct modem *m, enum modem_state from, enum modem_state to)
{
	if ((from == MODEM_READY && to == MODEM_BUSY) || (from == MODEM_BUSY && to == MODEM_READY))
		return false;
	/* a modem that stays unplugged must not fill the log every reopen_delay */
	if ((from == MODEM_ABSENT || to == MODEM_ABSENT) && m->open_failures > 1)
		return false;
	return true;
}

static void modem_open(struct modem *m)
{
	char err[256];

	m->sp = serial_open(m->port, m->baud, err, sizeof(err));
	if (!m->sp) {
		if (++m->open_failures == 1)
			log_warnx("modem %s: %s; retrying every %d ms", m->name, err, m->reopen_ms);
		modem_set_error(m, err);
		modem_enter_state(m, MODEM_ABSENT, "open failed");
		return;
	}
	m->open_failures = 0;
	m->ch = at_new(m->base, serial_fd(m->sp), m->name, modem_on_urc, modem_on_fail, m);
	/* DESIGN "Modem": ESC first, a crash may have left the modem waiting for PDU input. */
	if (m->ch && at_sync(m->ch, modem_cmd_timeout(m), modem_response, m) == 0) {
		m->inflight = CMD_OPEN_SYNC;
		return;
	}
	modem_close_port(m);
	modem_set_error(m, "cannot set up the AT channel");
	modem_enter_state(m, MODEM_ABSENT, "AT channel setup failed");
}

static void modem_enter_state(struct modem *m, enum modem_state to, const char *why)
{
	enum modem_state from = m->state;

	if (m->dead)
		return;
	/* an admin asked for this modem to stop: a fault while draining just finishes the job */
	if (from == MODEM_DRAINING && to == MODEM_RECOVERING)
		to = MODEM_DISABLED;
	if (!(modem_moves[from] & B(to))) {
		log_errorx("modem %s: BUG: illegal transition %s -> %s (%s)", m->name, modem_state_name(from),
			   modem_state_name(to), why);
		return;
	}
	if (modem_significant(m, from, to))
		log_info("modem %s: %s -> %s (%s)", m->name, modem_state_name(from), modem_state_name(to), why);
	else
		log_debug("modem %s: %s -> %s (%s)", m->name, modem_state_name(from), modem_state_name(to), why);
	m->state = to;
	m->info.state = to;
	m->tries = 0;
	m->step = 0;
	evtimer_del(m->timer);
	if (to != MODEM_READY && to != MODEM_BUSY)
		evtimer_del(m->health);   /* (DRAINING too: no new poll may delay the disable) */
	/* Whatever moves a modem out of BUSY before the reply settles the send: the PDU may be out. */
	if ((from == MODEM_BUSY || from == MODEM_DRAINING) && to != MODEM_READY && to != MODEM_DRAINING)
		modem_send_fail(m, -1, m->send_started, why);
	if (m->dead)
		return;
	if (m->ev.state_changed) {
		m->ev.state_changed(m->arg, m, from, to);
		if (m->dead || m->state != to)
			return;
	}

	switch (to) {
	case MODEM_ABSENT:
		if (m->started)
			modem_arm(m, m->reopen_ms);
		break;
	case MODEM_OPENING:
		modem_open(m);
		break;
	case MODEM_INITIALISING:
		m->pin_tried = false;
		m->lock_warned = false;
		modem_init_next(m);
		break;
	case MODEM_SIM_WAIT:
		m->iccid_fallback = false;
		modem_issue(m, CMD_CPIN, "AT+CPIN?", 0);
		break;
	case MODEM_REGISTERING:
		modem_issue(m, CMD_CREG, "AT+CREG?", 0);
		break;
	case MODEM_READY:
		m->recover_level = 0;
		m->info.last_error[0] = '\0';
		if (!evtimer_pending(m->health, NULL)) {
			struct timeval tv = { m->poll_ms / 1000, (m->poll_ms % 1000) * 1000 };
			evtimer_add(m->health, &tv);
		}
		if (m->ev.ready)
			m->ev.ready(m->arg, m);
		break;
	case MODEM_BUSY:
		modem_start_send(m);   /* or after the health poll in flight */
		break;
	case MODEM_RECOVERING:
		modem_recover(m);
		break;
	case MODEM_DISABLED:
		modem_close_port(m);
		break;
	case MODEM_DRAINING:   /* the send in flight finishes; modem_send_settled() moves on */
		if (!m->send_active)
			modem_enter_state(m, MODEM_DISABLED, "drained");
		break;
	case MODEM_STATE_COUNT:
		break;
	}
}

/* Judge a finished command by what it was for (OpenSMTPD's mta_response). */
static void modem_response(void *arg, const struct at_reply *r)
{
	struct modem *m = arg;
	enum modem_cmd kind = m->inflight;

	if (r->result == AT_RES_CANCELLED || m->dead)
		return;   /* we closed the channel ourselves */
	m->inflight = CMD_NONE;
	modem_enter(m);
	if (kind == CMD_PIN && r->result != AT_RES_OK)
		m->pin_refused = true;   /* a timeout too: the SIM may have counted the try */
	/* bring-up makes no progress: a fault to recover from, whichever command it was */
	if (kind >= CMD_INIT && kind <= CMD_COPS && (r->result == AT_RES_TIMEOUT || r->result == AT_RES_IO)) {
		modem_enter_state(m, MODEM_RECOVERING, r->result == AT_RES_IO ? "port failed" : "command timed out");
		kind = CMD_NONE;
	}
	switch (kind) {
	case CMD_OPEN_SYNC:
		if (r->result == AT_RES_OK) {
			modem_enter_state(m, MODEM_INITIALISING, "modem answers AT");
		} else {
			/* a port that does not answer AT will not take a reset either */
			if (m->recover_level < 2)
				m->recover_level = 2;
			modem_enter_state(m, MODEM_RECOVERING, "no answer to AT");
		}
		break;
	case CMD_INIT:
		modem_init_reply(m, r);
		break;
	case CMD_CPIN:
		modem_sim_reply(m, r);
		break;
	case CMD_PIN:
		modem_pin_reply(m, r);
		break;
	case CMD_ICCID:
		modem_iccid_reply(m, r);
		break;
	case CMD_CREG:
		modem_creg_reply(m, r);
		break;
	case CMD_CSQ:
		m->info.rssi = parse_csq(at_reply_find(r, "+CSQ:"));
		modem_issue(m, CMD_COPS, "AT+COPS?", 0);
		break;
	case CMD_COPS:
		if (r->result == AT_RES_OK && at_reply_find(r, "+COPS:")) {
			/* +COPS: <mode>[,<format>,"<oper>"[,<AcT>]] (TS 27.007 7.3) */
			const char *q = strchr(at_reply_find(r, "+COPS:"), '"'), *e = q ? strchr(q + 1, '"') : NULL;
			if (q && e)
				snprintf(m->info.operator_name, sizeof(m->info.operator_name), "%.*s",
					 (int)(e - q - 1), q + 1);
		}
		log_info("modem %s: registered%s%s, signal %d", m->name, m->info.operator_name[0] ? " on " : "",
			 m->info.operator_name, m->info.rssi);
		modem_enter_state(m, MODEM_READY, "registered");
		break;
	case CMD_POLL_CREG:
	case CMD_POLL_CSQ:
		modem_poll_reply(m, kind, r);
		break;
	case CMD_SEND:
		modem_send_reply(m, r);
		break;
	case CMD_RECOVER_SYNC:
		if (r->result == AT_RES_OK)
			modem_enter_state(m, MODEM_INITIALISING, "resynced");
		else
			modem_recover(m);
		break;
	case CMD_RESET:
		/* whatever it answered, the modem is rebooting (USB ones vanish and come back) */
		modem_reopen_later(m, m->d->reset_settle_ms > m->reopen_ms ? m->d->reset_settle_ms : m->reopen_ms);
		break;
	case CMD_NONE:
		break;
	}
	modem_leave(m);
}

static void modem_on_urc(void *arg, const char *line, const char *pdu)
{
	struct modem *m = arg;
	int value = -1;
	enum dialect_event e;

	modem_enter(m);
	if (strncmp(line, "+CDS:", 5) == 0 && pdu && m->ev.status_report)
		m->ev.status_report(m->arg, m, pdu);
	else if (m->ev.urc)
		m->ev.urc(m->arg, m, line, pdu);
	if (m->dead)
		goto out;
	e = dialect_urc_event(m->d, line, &value);
	switch (e) {
	case DIALECT_EV_RSSI:
		if (value >= 0 && value <= 99)
			m->info.rssi = value;
		break;
	case DIALECT_EV_REBOOTED:
		/* our settings (ATE0, CMGF, CNMI) died with it; a send in flight is in doubt */
		if (m->state >= MODEM_SIM_WAIT && m->state <= MODEM_BUSY) {
			m->recover_level = 2;   /* straight to reopening: resyncing a booting modem is noise */
			modem_enter_state(m, MODEM_RECOVERING, "modem restarted");
		}
		break;
	case DIALECT_EV_SIM_GONE:
		if (m->state >= MODEM_REGISTERING && m->state <= MODEM_BUSY)
			modem_enter_state(m, MODEM_RECOVERING, "SIM removed or failed");
		break;
	case DIALECT_EV_NONE:
		break;
	}
out:
	modem_leave(m);
}

/* The port died (unplugged, gsmsim gone). at.c already failed a command in flight with AT_RES_IO. */
static void modem_on_fail(void *arg, int err)
{
	struct modem *m = arg;

	modem_enter(m);
	modem_close_port(m);
	if (m->recover_level < 2)
		m->recover_level = 2;
	if (m->state == MODEM_RECOVERING)
		modem_recover(m);
	else if (m->state != MODEM_ABSENT && m->state != MODEM_DISABLED)
		modem_enter_state(m, MODEM_RECOVERING, "port failed");
	modem_leave(m);
}

/* m->timer: what it means depends on the state that armed it. */
static void modem_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct modem *m = arg;

	modem_enter(m);
	switch (m->state) {
	case MODEM_ABSENT:
	case MODEM_RECOVERING:
		modem_enter_state(m, MODEM_OPENING, m->state == MODEM_ABSENT ? "retry" : "reopen");
		break;
	case MODEM_SIM_WAIT:
		m->iccid_fallback = false;
		modem_issue(m, CMD_CPIN, "AT+CPIN?", 0);
		break;
	case MODEM_REGISTERING:
		modem_issue(m, CMD_CREG, "AT+CREG?", 0);
		break;
	case MODEM_BUSY:
	case MODEM_DRAINING:
		if (m->send_active && !m->send_started) {
			modem_send_fail(m, -1, false, "AT channel unavailable");
			if (!m->dead && (m->state == MODEM_BUSY || m->state == MODEM_DRAINING))
				modem_enter_state(m, MODEM_RECOVERING, "AT channel unavailable");
		}
		break;
	default:
		break;
	}
	modem_leave(m);
}

static void modem_on_health(evutil_socket_t fd, short what, void *arg)
{
	struct modem *m = arg;

	if (m->state != MODEM_READY || !m->ch || at_busy(m->ch))
		return;
	modem_enter(m);
	modem_issue(m, CMD_POLL_CREG, "AT+CREG?", 0);
	modem_leave(m);
}

/* ---- public ---- */

/* digits only: the pin goes inside AT+CPIN="..." */
static bool pin_ok(const char *pin)
{
	size_t n = strlen(pin);

	return n >= 4 && n <= 8 && strspn(pin, "0123456789") == n;
}

struct modem *modem_new(struct event_base *base, const struct modem_config *cfg, const struct modem_events *ev,
			void *arg)
{
	struct modem *m;

	if (!cfg || !cfg->name || !cfg->port)
		return NULL;
	if (cfg->pin && !pin_ok(cfg->pin)) {
		log_warnx("modem %s: pin must be 4 to 8 digits", cfg->name);
		return NULL;
	}
	if (cfg->dialect && !dialect_by_name(cfg->dialect)) {
		log_warnx("modem %s: unknown dialect \"%s\"", cfg->name, cfg->dialect);
		return NULL;
	}
	if (!(m = calloc(1, sizeof(*m))))
		return NULL;
	m->base = base;
	m->name = strdup(cfg->name);
	m->port = strdup(cfg->port);
	m->pin = cfg->pin ? strdup(cfg->pin) : NULL;
	m->baud = cfg->baud > 0 ? cfg->baud : 115200;
	m->cfg_cmd_timeout = cfg->command_timeout_ms;
	m->cfg_send_timeout = cfg->send_timeout_ms;
	m->reopen_ms = cfg->reopen_delay_ms > 0 ? cfg->reopen_delay_ms : MODEM_REOPEN_MS;
	m->poll_ms = cfg->poll_interval_ms > 0 ? cfg->poll_interval_ms : MODEM_HEALTH_MS;
	m->forced = cfg->dialect ? dialect_by_name(cfg->dialect) : NULL;
	m->d = m->forced ? m->forced : dialect_generic();
	if (ev)
		m->ev = *ev;
	m->arg = arg;
	m->state = MODEM_ABSENT;
	m->info.state = MODEM_ABSENT;
	m->info.rssi = 99;
	copy_str(m->info.dialect, sizeof(m->info.dialect), m->d->name);
	m->timer = evtimer_new(base, modem_on_timer, m);
	m->health = event_new(base, -1, EV_PERSIST, modem_on_health, m);
	if (!m->name || !m->port || (cfg->pin && !m->pin) || !m->timer || !m->health) {
		modem_destroy(m);
		return NULL;
	}
	return m;
}

void modem_start(struct modem *m)
{
	if (!m || m->dead || m->state != MODEM_ABSENT)
		return;
	modem_enter(m);
	m->started = true;
	modem_enter_state(m, MODEM_OPENING, "start");
	modem_leave(m);
}

void modem_free(struct modem *m)
{
	if (!m || m->dead)
		return;
	m->dead = true;
	evtimer_del(m->timer);
	evtimer_del(m->health);
	modem_close_port(m);
	if (m->depth == 0)
		modem_destroy(m);
}

void modem_disable(struct modem *m)
{
	if (!m || m->dead || m->state == MODEM_DISABLED || m->state == MODEM_DRAINING)
		return;
	modem_enter(m);
	modem_enter_state(m, m->state == MODEM_BUSY ? MODEM_DRAINING : MODEM_DISABLED, "disabled by admin");
	modem_leave(m);
}

void modem_enable(struct modem *m)
{
	if (!m || m->dead || m->state != MODEM_DISABLED)
		return;
	modem_enter(m);
	m->started = true;
	m->recover_level = 0;
	m->pin_refused = false;   /* the admin may have fixed the pin or the SIM */
	modem_enter_state(m, MODEM_OPENING, "enabled by admin");
	modem_leave(m);
}

const char *modem_name(const struct modem *m) { return m->name; }
enum modem_state modem_state(const struct modem *m) { return m->state; }

void modem_get_info(const struct modem *m, struct modem_info *out)
{
	*out = m->info;
	out->state = m->state;
}

int modem_send(struct modem *m, const char *pdu_hex, int length, void *cookie)
{
	size_t n;

	if (!m || m->dead || m->state != MODEM_READY || !pdu_hex || length < 1 || length > 255)
		return -1;
	n = strlen(pdu_hex);
	if (n == 0 || n % 2 || strspn(pdu_hex, "0123456789abcdefABCDEF") != n)
		return -1;
	free(m->pdu);
	if (!(m->pdu = strdup(pdu_hex)))
		return -1;
	snprintf(m->cmgs, sizeof(m->cmgs), "AT+CMGS=%d", length);
	m->cookie = cookie;
	m->send_active = true;
	m->send_started = false;
	modem_enter(m);
	modem_enter_state(m, MODEM_BUSY, "send");
	modem_leave(m);
	return 0;
}
