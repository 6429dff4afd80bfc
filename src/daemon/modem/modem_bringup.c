/* modem_bringup: a modem's way to READY — INITIALISING (echo off, identity, PDU mode, the dialect's
 * commands), SIM_WAIT (PIN, ICCID) and REGISTERING (network, signal, operator). modem.c owns the state
 * machine and calls in here for these states' entry actions, their poll timer and their replies. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modem/at.h"
#include "modem/dialect.h"
#include "modem/modem_int.h"
#include "simroute/log.h"

/* ---- parsing replies ---- */

/* "+CREG: <n>,<stat>[,...]" answering AT+CREG? (TS 27.007 7.2); a bare "+CREG: <stat>" too. */
int modem_parse_creg_stat(const char *line)
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

int modem_parse_csq(const char *line)
{
	int rssi;

	return line && sscanf(line, "+CSQ: %d", &rssi) == 1 && rssi >= 0 && rssi <= 199 ? rssi : 99;
}

void modem_imei_from_reply(char *out, size_t n, const char *line)
{
	char v[40];
	size_t o = 0;

	at_value(v, sizeof(v), line);
	/* "+CGSN: 3545...", "IMEI: 3545...", "3545...": the digits (TS 27.007 5.4) */
	for (const char *s = v; *s && o + 1 < n; s++)
		if (isdigit((unsigned char)*s))
			out[o++] = *s;
	if (n)
		out[o] = '\0';
}

/* ---- INITIALISING: generic steps, then the dialect's commands, then CNMI ---- */

static void parse_ident(struct modem *m, const struct at_reply *r)
{
	if (r->result != AT_RES_OK || !at_reply_first(r) || m->info.manufacturer[0])
		return;
	at_value(m->info.manufacturer, sizeof(m->info.manufacturer), at_reply_first(r));
	if (!m->forced)
		m->d = dialect_match(m->info.manufacturer);
	modem_copy_str(m->info.dialect, sizeof(m->info.dialect), m->d->name);
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
	char imei[sizeof(m->info.imei)], why[160];

	modem_imei_from_reply(imei, sizeof(imei), r->result == AT_RES_OK ? at_reply_first(r) : NULL);
	/* A configured IMEI: a port that answers with another one (or none) is not this modem */
	if (m->want_imei && strcmp(imei, m->want_imei) != 0) {
		if (imei[0])
			snprintf(why, sizeof(why), "wrong modem: IMEI %s, expected %s (on %s)", imei, m->want_imei, m->port);
		else
			snprintf(why, sizeof(why), "cannot read the IMEI (expected %s) on %s", m->want_imei, m->port);
		modem_park(m, true, why);
		return;
	}
	/* DESIGN: a modem is known by its IMEI, not by its tty: without one configured, say so when another one answers here */
	if (m->info.imei[0] && imei[0] && strcmp(imei, m->info.imei) != 0)
		log_warnx("modem %s: another modem on %s: IMEI %s -> %s", m->name, m->port, m->info.imei, imei);
	if (imei[0])
		modem_copy_str(m->info.imei, sizeof(m->info.imei), imei);
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
	if (m->dead || m->state != MODEM_INITIALISING)
		return;   /* parked: another IMEI */
	m->step++;
	modem_init_next(m);
}

/* ---- SIM_WAIT and REGISTERING ---- */

static void modem_sim_reply(struct modem *m, const struct at_reply *r)
{
	const char *l = at_reply_find(r, "+CPIN:");
	char why[96];

	if (r->result == AT_RES_OK && l && strstr(l, "READY")) {
		/* a configured ICCID must be checked even where the dialect would not read it */
		if (m->d->iccid_cmd || m->want_iccid)
			modem_issue(m, CMD_ICCID, m->d->iccid_cmd ? m->d->iccid_cmd : "AT+CCID", 0);
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
			char err[sizeof(why) + 16];
			snprintf(err, sizeof(err), "SIM wants %s", why);
			modem_set_error(m, err);
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
		/* the route is the SIM: a SIM moved to another slot must not send under this name */
		if (m->want_iccid && strcmp(iccid, m->want_iccid) != 0) {
			char why[128];
			snprintf(why, sizeof(why), "wrong SIM: ICCID %s, expected %s", iccid[0] ? iccid : "unreadable",
				 m->want_iccid);
			modem_park(m, false, why);
			return;
		}
		if (m->info.iccid[0] && iccid[0] && strcmp(iccid, m->info.iccid) != 0) {
			char old[sizeof(m->info.iccid)];
			modem_copy_str(old, sizeof(old), m->info.iccid);
			modem_copy_str(m->info.iccid, sizeof(m->info.iccid), iccid);
			log_warnx("modem %s: SIM changed: ICCID %s -> %s", m->name, old, iccid);
			if (m->ev.sim_changed) {
				m->ev.sim_changed(m->arg, m, old, iccid);
				if (m->dead || m->state != MODEM_SIM_WAIT)
					return;   /* freed or disabled from the callback */
			}
		}
		if (iccid[0])
			modem_copy_str(m->info.iccid, sizeof(m->info.iccid), iccid);
	} else if (!m->iccid_fallback && m->d->iccid_cmd && strcmp(m->d->iccid_cmd, "AT+CCID") != 0) {
		/* the SIM is our route's identity: try the command most firmwares accept too */
		m->iccid_fallback = true;
		modem_issue(m, CMD_ICCID, "AT+CCID", 0);
		return;
	} else if (m->want_iccid) {
		char why[128];
		snprintf(why, sizeof(why), "cannot read the ICCID to check the SIM (expected %s)", m->want_iccid);
		modem_park(m, false, why);
		return;
	} else {
		log_info("modem %s: cannot read the ICCID (%s %d)", m->name, at_result_name(r->result), r->err);
	}
	modem_enter_state(m, MODEM_REGISTERING, "SIM ready");
}

static void modem_creg_reply(struct modem *m, const struct at_reply *r)
{
	int stat = r->result == AT_RES_OK ? modem_parse_creg_stat(at_reply_find(r, "+CREG:")) : -1;
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

/* ---- entry points from modem.c ---- */

void modem_bringup_init(struct modem *m)
{
	m->pin_tried = false;
	m->lock_warned = false;
	modem_init_next(m);
}

void modem_bringup_sim(struct modem *m)
{
	m->iccid_fallback = false;
	modem_issue(m, CMD_CPIN, "AT+CPIN?", 0);
}

void modem_bringup_register(struct modem *m)
{
	modem_issue(m, CMD_CREG, "AT+CREG?", 0);
}

void modem_bringup_timer(struct modem *m)
{
	if (m->state == MODEM_SIM_WAIT)
		modem_bringup_sim(m);
	else if (m->state == MODEM_REGISTERING)
		modem_bringup_register(m);
}

/* +COPS: <mode>[,<format>,"<oper>"[,<AcT>]] (TS 27.007 7.3) */
static void modem_cops_reply(struct modem *m, const struct at_reply *r)
{
	if (r->result == AT_RES_OK && at_reply_find(r, "+COPS:")) {
		const char *q = strchr(at_reply_find(r, "+COPS:"), '"'), *e = q ? strchr(q + 1, '"') : NULL;
		if (q && e)
			snprintf(m->info.operator_name, sizeof(m->info.operator_name), "%.*s", (int)(e - q - 1),
				 q + 1);
	}
	log_info("modem %s: registered%s%s, signal %d", m->name, m->info.operator_name[0] ? " on " : "",
		 m->info.operator_name, m->info.rssi);
	modem_enter_state(m, MODEM_READY, "registered");
}

void modem_bringup_reply(struct modem *m, enum modem_cmd kind, const struct at_reply *r)
{
	switch (kind) {
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
		m->info.rssi = modem_parse_csq(at_reply_find(r, "+CSQ:"));
		modem_issue(m, CMD_COPS, "AT+COPS?", 0);
		break;
	case CMD_COPS:
		modem_cops_reply(m, r);
		break;
	default:
		break;
	}
}
