/* dialect: modem vendor differences as data — one const struct per family, picked by +CGMI/ATI text.
 *
 * gpsd's driver table and Kannel's modems.conf in one: modem.c runs the same state machine for every
 * modem and asks the dialect for the commands and timings that differ, never `if (huawei)`. */
#include "modem/dialect.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* TS 27.005 3.4.1: mode 2 (buffer while the link is busy), mt 1 (+CMTI: stored, index reported),
 * bm 0, ds 1 (+CDS: status report PDU routed to us directly, not stored on the SIM), bfr 0. */
#define CNMI_DEFAULT "AT+CNMI=2,1,0,1,0"

static const char *const no_commands[] = { NULL };

/* ---- generic: TS 27.007 / 27.005 only ---- */
static const char *const generic_match[] = { NULL };

/* ---- SIMCom SIM800 / SIM900 (SIM800 Series AT Command Manual) ---- */
static const char *const sim800_match[] = { "SIMCOM", "SIM800", "SIM900", NULL };
static const char *const sim800_init[] = {
	"AT+CSCLK=0",          /* no slow clock: a sleeping UART loses the first bytes of a command */
	NULL,
};

/* ---- Quectel (EC2x/EG9x/M95/BG96 AT manuals) ---- */
static const char *const quectel_match[] = { "QUECTEL", NULL };

/* ---- Huawei (E-series / MU / ME HiSilicon and Qualcomm firmwares) ---- */
static const char *const huawei_match[] = { "HUAWEI", NULL };
static const char *const huawei_init[] = {
	"AT^CURC=0",           /* stop the periodic ^RSSI/^BOOT/^MODE chatter on the command port */
	NULL,
};

static enum dialect_event huawei_urc(const char *line, int *value)
{
	if (strncmp(line, "^RSSI:", 6) == 0) {
		*value = atoi(line + 6);
		return DIALECT_EV_RSSI;
	}
	/* ^SIMST: 0 invalid SIM, 1 valid, 255 no SIM */
	if (strncmp(line, "^SIMST:", 7) == 0) {
		int st = atoi(line + 7);
		return (st == 0 || st == 255) ? DIALECT_EV_SIM_GONE : DIALECT_EV_NONE;
	}
	if (strcmp(line, "^SYSSTART") == 0)
		return DIALECT_EV_REBOOTED;
	return DIALECT_EV_NONE;
}

static const struct dialect dialects[] = {
	{
		.name = "generic",
		.match = generic_match,
		.init = no_commands,
		.iccid_cmd = "AT+CCID",
		.cnmi = CNMI_DEFAULT,
		.reset_cmd = "AT+CFUN=1,1",     /* TS 27.007 8.2: full functionality, reset first */
		.reset_settle_ms = 10000,
	},
	{
		.name = "sim800",
		.match = sim800_match,
		.init = sim800_init,
		.iccid_cmd = "AT+CCID",
		.cnmi = CNMI_DEFAULT,
		.reset_cmd = "AT+CFUN=1,1",
		.send_timeout_ms = 60000,       /* manual: AT+CMGS max response time 60 s */
		.reset_settle_ms = 5000,
	},
	{
		.name = "quectel",
		.match = quectel_match,
		.init = no_commands,
		.iccid_cmd = "AT+QCCID",
		.cnmi = CNMI_DEFAULT,
		.reset_cmd = "AT+CFUN=1,1",
		.send_timeout_ms = 120000,      /* manual: AT+CMGS max response time 120 s */
		.reset_settle_ms = 15000,
	},
	{
		.name = "huawei",
		.match = huawei_match,
		.init = huawei_init,
		.iccid_cmd = "AT^ICCID?",       /* works before the PIN is entered, unlike +CRSM */
		.cnmi = CNMI_DEFAULT,
		.reset_cmd = "AT+CFUN=1,1",
		.reset_settle_ms = 15000,
		.urc_event = huawei_urc,
	},
};

const struct dialect *dialect_generic(void)
{
	return &dialects[0];
}

int dialect_init_count(const struct dialect *d)
{
	int n = 0;

	while (d->init && d->init[n])
		n++;
	return n;
}

const struct dialect *dialect_by_name(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(dialects) / sizeof(dialects[0]); i++)
		if (strcasecmp(dialects[i].name, name) == 0)
			return &dialects[i];
	return NULL;
}

const struct dialect *dialect_match(const char *ident)
{
	if (!ident)
		return dialect_generic();
	for (size_t i = 0; i < sizeof(dialects) / sizeof(dialects[0]); i++)
		for (const char *const *m = dialects[i].match; *m; m++)
			if (strcasestr(ident, *m))
				return &dialects[i];
	return dialect_generic();
}

enum dialect_event dialect_urc_event(const struct dialect *d, const char *line, int *value)
{
	/* SIMCom and Quectel print RDY once the UART is up after a (re)boot */
	if (strcmp(line, "RDY") == 0)
		return DIALECT_EV_REBOOTED;
	/* TS 27.007 8.3; SIM800 reports SIM removal this way */
	if (strcmp(line, "+CPIN: NOT INSERTED") == 0 || strcmp(line, "+CPIN: NOT READY") == 0)
		return DIALECT_EV_SIM_GONE;
	if (d && d->urc_event)
		return d->urc_event(line, value);
	return DIALECT_EV_NONE;
}

/* ICCIDs come plain, quoted, F-padded, or (Huawei ^ICCID, +CRSM) as the raw nibble-swapped BCD of
 * EF_ICCID: an ICCID starts with the telecom MII 89 (ITU-T E.118), so "98..." is the swapped form. */
void dialect_iccid_normalise(char *out, size_t n, const char *value)
{
	char raw[32];
	size_t o = 0;

	if (!n)
		return;
	for (const char *s = value; s && *s && o + 1 < sizeof(raw); s++)
		if (isxdigit((unsigned char)*s))
			raw[o++] = (char)toupper((unsigned char)*s);
	if (o >= 2 && raw[0] == '9' && raw[1] == '8') {
		for (size_t i = 0; i + 1 < o; i += 2) {
			char t = raw[i];
			raw[i] = raw[i + 1];
			raw[i + 1] = t;
		}
	}
	while (o && raw[o - 1] == 'F')
		o--;
	if (o >= n)
		o = n - 1;
	memcpy(out, raw, o);
	out[o] = '\0';
}
