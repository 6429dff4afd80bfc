/* modem: one GSM modem's state machine — opening, initialising, ready/busy, sending PDUs, recovering.
 *
 * OpenSMTPD's shape: modem_enter_state() is the only place ->state changes, it logs "old -> new" and
 * runs the new state's entry action (usually: send its first command); modem_response() judges each
 * finished AT command by what was in flight and decides the next step. Delays are timers, every
 * command has a timeout (at.c), and no state waits forever: a modem that makes no progress goes to
 * RECOVERING, which climbs a ladder (resync, soft reset, close/reopen, USB reset, reopen with back-off).
 * The bring-up states (INITIALISING, SIM_WAIT, REGISTERING) live in modem_bringup.c. */
#include "modem/modem.h"
#include "modem/modem_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "modem/at.h"
#include "modem/dialect.h"
#include "modem/inbox.h"
#include "modem/serial.h"
#include "simroute/cms.h"
#include "simroute/log.h"

#define MODEM_CMD_TIMEOUT_MS   5000
#define MODEM_SEND_TIMEOUT_MS  60000
#define MODEM_REOPEN_MS        2000
#define MODEM_REOPEN_MAX_MS    60000
#define MODEM_RUNG_USB_RESET   4        /* resync, soft reset, reopen, then this */
#define MODEM_ABSENT_MAX_MS    5000     /* ABSENT: retry a missing or locked port at least this often */
#define MODEM_HEALTH_MS        30000    /* READY: registration and signal poll */

static const char *const state_names[MODEM_STATE_COUNT] = {
	"absent", "opening", "initialising", "sim_wait", "registering", "ready", "busy", "recovering",
	"disabled", "draining", "parked",
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
	[MODEM_INITIALISING] = B(MODEM_SIM_WAIT) | B(MODEM_RECOVERING) | B(MODEM_DISABLED) | B(MODEM_PARKED),
	[MODEM_SIM_WAIT] = B(MODEM_REGISTERING) | B(MODEM_RECOVERING) | B(MODEM_DISABLED) | B(MODEM_PARKED),
	[MODEM_REGISTERING] = B(MODEM_READY) | B(MODEM_RECOVERING) | B(MODEM_DISABLED),
	[MODEM_READY] = B(MODEM_BUSY) | B(MODEM_REGISTERING) | B(MODEM_RECOVERING) | B(MODEM_DISABLED),
	[MODEM_BUSY] = B(MODEM_READY) | B(MODEM_RECOVERING) | B(MODEM_DRAINING),
	[MODEM_RECOVERING] = B(MODEM_OPENING) | B(MODEM_INITIALISING) | B(MODEM_DISABLED),
	/* DISABLED is reached from every state but BUSY, which drains first */
	[MODEM_DISABLED] = B(MODEM_OPENING),
	[MODEM_DRAINING] = B(MODEM_DISABLED),
	[MODEM_PARKED] = B(MODEM_OPENING) | B(MODEM_DISABLED),
};

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
	inbox_free(m->inbox);
	free(m->pdu);
	free(m->name);
	free(m->port);
	free(m->pin);
	free(m->want_imei);
	free(m->want_iccid);
	free(m);
}

static void modem_enter(struct modem *m) { m->depth++; }

static void modem_leave(struct modem *m)
{
	if (--m->depth == 0 && m->dead)
		modem_destroy(m);
}

int modem_cmd_timeout(const struct modem *m)
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

void modem_arm(struct modem *m, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	evtimer_add(m->timer, &tv);
}

void modem_copy_str(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	if (len >= n)
		len = n - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

void modem_set_error(struct modem *m, const char *why)
{
	struct timespec ts;
	struct modem_error *e = m->nrecent ? &m->recent[m->recent_head] : NULL;

	modem_copy_str(m->info.last_error, sizeof(m->info.last_error), why);
	clock_gettime(CLOCK_REALTIME, &ts);
	if (!e || strcmp(e->text, m->info.last_error) != 0) {
		if (m->nrecent)
			m->recent_head = (m->recent_head + 1) % MODEM_RECENT_ERRORS;
		if (m->nrecent < MODEM_RECENT_ERRORS)
			m->nrecent++;
		e = &m->recent[m->recent_head];
		memcpy(e->text, m->info.last_error, sizeof(e->text));
		e->count = 0;
	}
	e->count++;
	e->at_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

_Static_assert(sizeof(((struct modem_error *)0)->text) == sizeof(((struct modem_info *)0)->last_error),
	       "an error is kept whole");

size_t modem_recent_errors(const struct modem *m, struct modem_error *out, size_t max)
{
	size_t n = 0;
	for (; n < m->nrecent && n < max; n++)
		out[n] = m->recent[(m->recent_head + MODEM_RECENT_ERRORS - n) % MODEM_RECENT_ERRORS];
	return n;
}

void modem_park(struct modem *m, bool imei_mismatch, const char *why)
{
	/* a parked modem looks at its port every MODEM_PARK_RETRY_MS: say it once per cause */
	m->park_repeat = strcmp(why, m->info.last_error) == 0;
	if (!m->park_repeat)
		log_warnx("modem %s: %s: parked", m->name, why);
	m->parked_imei = imei_mismatch;
	modem_set_error(m, why);
	modem_enter_state(m, MODEM_PARKED, imei_mismatch ? "not this modem" : "not this SIM");
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

bool modem_issue(struct modem *m, enum modem_cmd kind, const char *cmd, int timeout_ms)
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

/* ---- BUSY: one PDU ---- */

/* Monotonic: a wall-clock step must not make a send look slow or negative. */
static int64_t modem_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void modem_send_done(struct modem *m, int mr)
{
	void *cookie = m->cookie;

	/* The router scores routes by this (its EWMA): the network's submit time as this SIM sees it. */
	if (m->send_started) {
		int64_t took = modem_mono_ms() - m->send_t0_ms;
		m->info.send_latency_ms = took > 0 ? took : 1;
	}
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
	if (cms >= 0) {
		char err[sizeof(m->info.last_error)];
		snprintf(err, sizeof(err), "+CMS ERROR %d: %s", cms, why);
		modem_set_error(m, err);
	} else {
		modem_set_error(m, why);
	}
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
	case AT_RES_CME_ERROR: {
		/* The modem or network answered no; docs/cms-errors.md says what that means for the message
		 * and the SIM. Only a timeout waiting for the network (332) leaves it possibly sent. */
		bool cms = r->result == AT_RES_CMS_ERROR;
		enum cms_class cls = cms ? cms_classify(r->err) : cme_classify(r->err);
		bool maybe = r->pdu_written && (cms ? cms_may_have_sent(r->err) : cme_may_have_sent(r->err));

		/* the scheduler is given CMS codes only: a CME one stays in the text */
		if (cms)
			snprintf(why, sizeof(why), "%s (%s)", cms_meaning(r->err), cms_class_name(cls));
		else
			snprintf(why, sizeof(why), "+CME ERROR %d: %s (%s)", r->err, cme_meaning(r->err),
				 cms_class_name(cls));
		if (cms)
			log_info("modem %s: send refused: +CMS ERROR %d: %s%s", m->name, r->err, why,
				 maybe ? "; may have been sent" : "");
		else
			log_info("modem %s: send refused: %s%s", m->name, why, maybe ? "; may have been sent" : "");
		modem_send_fail(m, cms ? r->err : -1, maybe, why);
		modem_send_settled(m, why);
		return;
	}
	case AT_RES_ERROR:
		/* A plain ERROR: definitely not sent; the modem itself is fine. */
		snprintf(why, sizeof(why), "%s", at_result_name(r->result));
		log_info("modem %s: send refused: %s", m->name, why);
		modem_send_fail(m, -1, false, why);
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
	if (inbox_next(m))
		return;   /* the SIM's reads and deletes go first; the send follows when they are done */
	at_set_prompt_timeout(m->ch, modem_cmd_timeout(m));   /* a swallowed AT+CMGS is a command timeout */
	if (at_command_pdu(m->ch, m->cmgs, m->pdu, modem_send_timeout(m), modem_response, m) == 0) {
		m->send_started = true;
		m->send_t0_ms = modem_mono_ms();
		m->inflight = CMD_SEND;
		return;
	}
	/* Report asynchronously: the caller may still be inside modem_send(). */
	modem_arm(m, 0);
}

/* The channel is free again: the inbox's commands first, then a send that waited for them. */
static void modem_idle(struct modem *m)
{
	if (m->dead || inbox_next(m))
		return;
	if (m->state == MODEM_BUSY || m->state == MODEM_DRAINING)
		modem_start_send(m);
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
		int stat = modem_parse_creg_stat(at_reply_find(r, "+CREG:"));
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
		m->info.rssi = modem_parse_csq(at_reply_find(r, "+CSQ:"));
	}
	modem_idle(m);   /* inbox commands, or a send that arrived during the poll */
}

/* ---- RECOVERING: resync, soft reset, close and reopen with back-off ---- */

static void modem_reopen_later(struct modem *m, int ms)
{
	modem_close_port(m);
	modem_arm(m, ms);
}

/* The last rung: reset the USB device behind the port (skipped for ptys and non-USB ports). */
static bool modem_usb_reset(struct modem *m)
{
	char err[256];
	int rc;

	modem_close_port(m);
	rc = serial_usb_reset(m->port, err, sizeof(err));
	if (rc == 1)
		log_warnx("modem %s: recovery: %s", m->name, err);
	else if (rc == 0)
		log_info("modem %s: recovery: USB reset skipped: %s", m->name, err);
	else
		log_warnx("modem %s: recovery: USB reset failed: %s", m->name, err);
	return rc == 1;
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
	/* the port opens but the modem did not come back after a reopen: the last resort, once per climb */
	if (rung == MODEM_RUNG_USB_RESET && modem_usb_reset(m)) {
		modem_reopen_later(m, m->d->reset_settle_ms > m->reopen_ms ? m->d->reset_settle_ms : m->reopen_ms);
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
	/* nor one parked for the same reason each time it looks at its port again */
	if (m->park_repeat && to != MODEM_READY)
		return false;
	return true;
}

static void modem_open(struct modem *m)
{
	char err[256];

	if (!m->port) {
		/* found by a scan of [modems] scan_glob (modem_set_port), not by retrying here */
		snprintf(err, sizeof(err), "no port yet: looking for IMEI %s", m->want_imei);
		if (strcmp(err, m->info.last_error) != 0)
			log_info("modem %s: %s", m->name, err);
		modem_set_error(m, err);
		modem_enter_state(m, MODEM_ABSENT, "no port");
		return;
	}
	m->sp = serial_open(m->port, m->baud, err, sizeof(err));
	if (!m->sp) {
		/* once per cause: a modem that stays unplugged must not fill the log every retry */
		if (++m->open_failures == 1 || strcmp(err, m->open_error) != 0)
			log_warnx("modem %s: %s; retrying", m->name, err);
		modem_copy_str(m->open_error, sizeof(m->open_error), err);
		modem_set_error(m, err);
		modem_enter_state(m, MODEM_ABSENT, "open failed");
		return;
	}
	m->open_failures = 0;
	m->open_error[0] = '\0';
	m->absent_ms = 0;
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

void modem_enter_state(struct modem *m, enum modem_state to, const char *why)
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
	if (to != MODEM_READY && to != MODEM_BUSY && to != MODEM_DRAINING)
		inbox_reset(m);
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
		/* Back off from reopen_ms to MODEM_ABSENT_MAX_MS: a port that is not there costs nothing
		 * while we wait, and a re-plugged modem is back within a few seconds. */
		if (m->started && m->port) {
			m->absent_ms = m->absent_ms ? m->absent_ms * 2 : m->reopen_ms;
			if (m->absent_ms > MODEM_ABSENT_MAX_MS)
				m->absent_ms = m->reopen_ms > MODEM_ABSENT_MAX_MS ? m->reopen_ms : MODEM_ABSENT_MAX_MS;
			modem_arm(m, m->absent_ms);
		}
		break;
	case MODEM_OPENING:
		modem_open(m);
		break;
	case MODEM_INITIALISING:
		modem_bringup_init(m);
		break;
	case MODEM_SIM_WAIT:
		modem_bringup_sim(m);
		break;
	case MODEM_REGISTERING:
		modem_bringup_register(m);
		break;
	case MODEM_READY:
		m->recover_level = 0;
		m->park_repeat = false;
		m->info.last_error[0] = '\0';
		if (!evtimer_pending(m->health, NULL)) {
			struct timeval tv = { m->poll_ms / 1000, (m->poll_ms % 1000) * 1000 };
			evtimer_add(m->health, &tv);
		}
		inbox_ready(m, from);   /* before the scheduler's next send can take the channel */
		if (m->dead || m->state != MODEM_READY)
			break;
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
	case MODEM_PARKED:
		modem_close_port(m);
		modem_arm(m, MODEM_PARK_RETRY_MS);
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
	case CMD_CPIN:
	case CMD_PIN:
	case CMD_ICCID:
	case CMD_CREG:
	case CMD_CSQ:
	case CMD_COPS:
		modem_bringup_reply(m, kind, r);
		break;
	case CMD_POLL_CREG:
	case CMD_POLL_CSQ:
		modem_poll_reply(m, kind, r);
		break;
	case CMD_SEND:
		modem_send_reply(m, r);
		break;
	case CMD_INBOX:
		inbox_reply(m, r);
		if (!m->dead && (m->state == MODEM_READY || m->state == MODEM_BUSY || m->state == MODEM_DRAINING))
			modem_idle(m);
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
	else if (!inbox_urc(m, line, pdu) && m->ev.urc)
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
	case MODEM_PARKED:
		modem_enter_state(m, MODEM_OPENING, m->state == MODEM_RECOVERING ? "reopen" : "retry");
		break;
	case MODEM_SIM_WAIT:
	case MODEM_REGISTERING:
		modem_bringup_timer(m);
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
	if (m->sp && serial_gone(m->sp)) {
		log_warnx("modem %s: %s vanished", m->name, m->port);
		modem_on_fail(m, ENODEV);
	} else {
		inbox_tick(m);   /* queued behind the poll */
		modem_issue(m, CMD_POLL_CREG, "AT+CREG?", 0);
	}
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

	if (!cfg || !cfg->name || (!cfg->port && !cfg->imei))
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
	m->port = cfg->port ? strdup(cfg->port) : NULL;
	m->pin = cfg->pin ? strdup(cfg->pin) : NULL;
	m->want_imei = cfg->imei ? strdup(cfg->imei) : NULL;
	m->want_iccid = cfg->iccid ? strdup(cfg->iccid) : NULL;
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
	modem_copy_str(m->info.dialect, sizeof(m->info.dialect), m->d->name);
	m->timer = evtimer_new(base, modem_on_timer, m);
	m->health = event_new(base, -1, EV_PERSIST, modem_on_health, m);
	m->inbox = inbox_new();
	if (!m->name || (cfg->port && !m->port) || (cfg->pin && !m->pin) || (cfg->imei && !m->want_imei) ||
	    (cfg->iccid && !m->want_iccid) || !m->timer || !m->health || !m->inbox) {
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
	if (!m || m->dead || (m->state != MODEM_DISABLED && m->state != MODEM_PARKED))
		return;
	modem_enter(m);
	m->started = true;
	m->recover_level = 0;
	m->pin_refused = false;   /* the admin may have fixed the pin or the SIM */
	modem_enter_state(m, MODEM_OPENING, "enabled by admin");
	modem_leave(m);
}

int modem_reset(struct modem *m)
{
	if (!m || m->dead)
		return -1;
	/* A send in flight finishes first: the admin retries (the API answers 409). */
	if (m->state == MODEM_BUSY || m->state == MODEM_DRAINING || m->state == MODEM_DISABLED ||
	    m->state == MODEM_ABSENT)
		return -1;
	modem_enter(m);
	m->recover_level = 1;   /* straight to the dialect's soft reset (or a reopen) */
	if (m->state == MODEM_RECOVERING)
		modem_recover(m);
	else
		modem_enter_state(m, MODEM_RECOVERING, "reset by admin");
	modem_leave(m);
	return 0;
}

int modem_set_port(struct modem *m, const char *path)
{
	char *p;

	if (!m || m->dead || m->sp || (m->state != MODEM_ABSENT && m->state != MODEM_PARKED) || !m->started)
		return -1;
	if (!(p = strdup(path)))
		return -1;
	if (m->port && strcmp(m->port, path) != 0)
		log_info("modem %s: IMEI %s found on %s (was %s)", m->name, m->want_imei ? m->want_imei : "?", path,
			 m->port);
	else if (!m->port)
		log_info("modem %s: IMEI %s found on %s", m->name, m->want_imei ? m->want_imei : "?", path);
	free(m->port);
	m->port = p;
	m->open_failures = 0;
	m->absent_ms = 0;
	m->park_repeat = false;
	modem_enter(m);
	modem_enter_state(m, MODEM_OPENING, "port found by IMEI");
	modem_leave(m);
	return 0;
}

const char *modem_expected_imei(const struct modem *m) { return m->want_imei; }

bool modem_wants_port(const struct modem *m)
{
	return m->want_imei && m->started && !m->dead && !m->sp &&
	       (m->state == MODEM_ABSENT || (m->state == MODEM_PARKED && m->parked_imei));
}

const char *modem_open_port(const struct modem *m) { return m->sp ? m->port : NULL; }

const char *modem_name(const struct modem *m) { return m->name; }
enum modem_state modem_state(const struct modem *m) { return m->state; }
int modem_rssi(const struct modem *m) { return m->info.rssi; }
int64_t modem_send_latency_ms(const struct modem *m) { return m->info.send_latency_ms; }

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
