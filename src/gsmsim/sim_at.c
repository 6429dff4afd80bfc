/* sim_at: one simulated modem's AT command interpreter (V.250 line syntax, TS 27.007/27.005 commands). */
#include "sim_at.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "simroute/log.h"

#include "sim_at_int.h"
#include "sim_store.h"

static const struct { int code; const char *text; } cme_texts[] = {
	{ CME_NOT_ALLOWED, "operation not allowed" },
	{ CME_NOT_SUPPORTED, "operation not supported" },
	{ CME_SIM_NOT_INSERTED, "SIM not inserted" },
	{ CME_SIM_PIN, "SIM PIN required" },
	{ CME_SIM_PUK, "SIM PUK required" },
	{ CME_WRONG_PASSWORD, "incorrect password" },
	{ CME_NO_NETWORK, "no network service" },
	{ CME_BAD_PARAM, "Incorrect parameters" },
	{ CME_UNKNOWN, "unknown" },
};

/* TS 27.005 3.2.5 */
static const struct { int code; const char *text; } cms_texts[] = {
	/* TS 24.011 E.2 RP-cause values, passed through as <err> 0..127 */
	{ 8, "Operator determined barring" },
	{ 10, "Call barred" },
	{ 21, "Short message transfer rejected" },
	{ SIM_CMS_NET_OUT_OF_ORDER, "Network out of order" },
	{ 41, "Temporary failure" },
	{ 42, "Congestion" },
	{ 47, "Resources unavailable, unspecified" },
	{ 50, "Requested facility not subscribed" },
	{ 69, "Requested facility not implemented" },
	{ 96, "Invalid mandatory information" },
	{ SIM_CMS_OP_NOT_ALLOWED, "operation not allowed" },
	{ SIM_CMS_INVALID_PDU_PARAM, "invalid PDU mode parameter" },
	{ SIM_CMS_INVALID_TEXT_PARAM, "invalid text mode parameter" },
	{ SIM_CMS_INVALID_INDEX, "invalid memory index" },
	{ SIM_CMS_SIM_NOT_INSERTED, "SIM not inserted" },
	{ SIM_CMS_SIM_PIN, "SIM PIN required" },
	{ SIM_CMS_SIM_PUK, "SIM PUK required" },
	{ SIM_CMS_MEMORY_FULL, "memory full" },
	{ 330, "SMSC address unknown" },
	{ SIM_CMS_NO_NETWORK, "no network service" },
	{ 332, "network timeout" },
	{ SIM_CMS_UNKNOWN, "unknown error" },
	{ 512, "SMS rejected by the network" },   /* manufacturer specific range (TS 27.005 3.2.5) */
	{ 515, "Please wait, init or command processing in progress" },
};

void sim_at_reset_profile(struct sim_at *at)
{
	at->echo = true;
	at->cmee = 0;
	at->cmgf = 0;
	at->creg = at->cgreg = at->cereg = 0;
	at->qind_csq = false;
	at->cfun = 1;
	at->csms = 0;
	snprintf(at->cscs, sizeof(at->cscs), "%s", at->dialect->cscs_default);
	for (int i = 0; i < 3; i++)
		snprintf(at->cpms[i], sizeof(at->cpms[i]), "SM");
	/* SIM800 defaults: +CNMI: 2,1,0,0,0 and +CSMP: 17,167,0,0 */
	int cnmi[5] = { 2, 1, 0, 0, 0 }, csmp[4] = { 17, 167, 0, 0 };
	memcpy(at->cnmi, cnmi, sizeof(cnmi));
	memcpy(at->csmp, csmp, sizeof(csmp));
	memset(at->sreg, 0, sizeof(at->sreg));
	at->sreg[3] = 13;   /* V.250 6.2.1: S3 command line termination character */
	at->sreg[4] = 10;   /* S4 response formatting character */
	at->sreg[5] = 8;    /* S5 command line editing character */
}

struct sim_at *sim_at_new(const char *name, const struct sim_dialect *d, const struct sim_identity *id)
{
	struct sim_at *at = calloc(1, sizeof(*at));

	if (!at)
		return NULL;
	snprintf(at->name, sizeof(at->name), "%s", name);
	at->dialect = d;
	at->id = *id;
	snprintf(at->csca, sizeof(at->csca), "+46700000000");
	snprintf(at->puk, sizeof(at->puk), "12345678");
	at->signal = 20;
	at->reg = 1;
	at->sim = SIM_SIM_READY;
	at->store = sim_store_new(d->cpms_total);
	at->urc = evbuffer_new();
	if (!at->store || !at->urc) {
		sim_at_free(at);
		return NULL;
	}
	sim_at_reset_profile(at);
	at->curc = d->chatter_s > 0;
	return at;
}

void sim_at_free(struct sim_at *at)
{
	if (!at)
		return;
	sim_store_free(at->store);
	if (at->urc)
		evbuffer_free(at->urc);
	free(at);
}
bool sim_at_echo(const struct sim_at *at) { return at->echo; }
const struct sim_identity *sim_at_identity(const struct sim_at *at) { return &at->id; }

int sim_at_submit_blocked(const struct sim_at *at)
{
	int reg = sim_at_reg(at);

	/* Radio off (CFUN 0/4) or no registration: a real modem takes the PDU, then fails to submit it. */
	return reg == 1 || reg == 5 ? 0 : SIM_CMS_NO_NETWORK;
}

/* ---- result formatting (V.250 5.7.1 verbose form: <CR><LF>text<CR><LF>) ---- */

void sim_at_info(struct evbuffer *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_at_info(struct evbuffer *out, const char *fmt, ...)
{
	va_list ap;

	evbuffer_add(out, "\r\n", 2);
	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
}

void sim_at_final_ok(const struct sim_at *at, struct evbuffer *out)
{
	(void)at;
	sim_at_info(out, "OK");
}

void sim_at_final_error(const struct sim_at *at, struct evbuffer *out)
{
	(void)at;
	sim_at_info(out, "ERROR");
}

static void final_cme(const struct sim_at *at, int code, struct evbuffer *out)
{
	const char *text = "unknown";

	if (at->cmee == 0) {
		sim_at_info(out, "ERROR");
		return;
	}
	if (at->cmee == 1) {
		sim_at_info(out, "+CME ERROR: %d", code);
		return;
	}
	for (size_t i = 0; i < sizeof(cme_texts) / sizeof(cme_texts[0]); i++)
		if (cme_texts[i].code == code)
			text = cme_texts[i].text;
	sim_at_info(out, "+CME ERROR: %s", text);
}

void sim_at_final_cms(const struct sim_at *at, int code, struct evbuffer *out)
{
	const char *text = "unknown error";

	if (at->cmee == 0) {
		sim_at_info(out, "ERROR");
		return;
	}
	if (at->cmee == 1) {
		sim_at_info(out, "+CMS ERROR: %d", code);
		return;
	}
	for (size_t i = 0; i < sizeof(cms_texts) / sizeof(cms_texts[0]); i++)
		if (cms_texts[i].code == code)
			text = cms_texts[i].text;
	sim_at_info(out, "+CMS ERROR: %s", text);
}

/* ---- argument parsing ---- */

/* Split "a,\"b,c\",d" into fields (quotes removed). Returns the count, or -1 if malformed. */
int sim_at_split_args(const char *s, char f[][AT_ARG_LEN], int max)
{
	int n = 0;
	size_t len = 0;
	bool inq = false;

	if (*s == '\0')
		return 0;
	f[0][0] = '\0';
	for (; *s; s++) {
		if (*s == '"') {
			inq = !inq;
		} else if (*s == ',' && !inq) {
			if (++n >= max)
				return -1;
			len = 0;
			f[n][0] = '\0';
		} else {
			if (len + 1 >= AT_ARG_LEN)
				return -1;
			f[n][len++] = *s;
			f[n][len] = '\0';
		}
	}
	return inq ? -1 : n + 1;
}

bool sim_at_arg_int(const char *s, int min, int max, int *v)
{
	char *end;
	long l;

	if (*s == '\0')
		return false;
	l = strtol(s, &end, 10);
	if (*end != '\0' || l < min || l > max)
		return false;
	*v = (int)l;
	return true;
}

/* A handler's common case: "AT+X=n" with one integer in [min, max] stored in *dst. */
enum at_status sim_at_set_one_int(struct sim_at *at, const char *args, int min, int max, int *dst)
{
	char f[AT_ARGS_MAX][AT_ARG_LEN];
	int v;

	if (sim_at_split_args(args, f, AT_ARGS_MAX) != 1 || !sim_at_arg_int(f[0], min, max, &v)) {
		at->err = CME_BAD_PARAM;
		return AT_ST_CME;
	}
	*dst = v;
	return AT_ST_OK;
}

enum at_status sim_at_not_supported(struct sim_at *at)
{
	at->err = CME_NOT_SUPPORTED;
	return AT_ST_CME;
}

/* ---- the world outside the profile ---- */

int sim_at_sim_cme(const struct sim_at *at)
{
	static const int cme[] = {
		[SIM_SIM_READY] = 0, [SIM_SIM_PIN] = CME_SIM_PIN, [SIM_SIM_PUK] = CME_SIM_PUK,
		[SIM_SIM_ABSENT] = CME_SIM_NOT_INSERTED,
	};
	return cme[at->sim];
}

const char *sim_at_sim_name(enum sim_sim_state st)
{
	static const char *const names[] = {
		[SIM_SIM_READY] = "ready", [SIM_SIM_PIN] = "pin", [SIM_SIM_PUK] = "puk", [SIM_SIM_ABSENT] = "absent",
	};
	return (unsigned)st < 4 ? names[st] : "?";
}

void sim_at_urc_add(struct sim_at *at, const char *fmt, ...)
{
	va_list ap;

	evbuffer_add(at->urc, "\r\n", 2);
	va_start(ap, fmt);
	evbuffer_add_vprintf(at->urc, fmt, ap);
	va_end(ap);
	evbuffer_add(at->urc, "\r\n", 2);
}

void sim_at_set_signal(struct sim_at *at, int rssi)
{
	if (rssi == at->signal)
		return;
	at->signal = rssi;
	if (at->dialect->rssi_urc && at->curc)
		sim_at_urc_add(at, "%s%d", at->dialect->rssi_urc, rssi);
	if (at->qind_csq)
		sim_at_urc_add(at, "+QIND: \"csq\",%d,99", rssi);
}

int sim_at_signal(const struct sim_at *at) { return at->signal; }
int sim_at_cfun(const struct sim_at *at) { return at->cfun; }
enum sim_sim_state sim_at_sim(const struct sim_at *at) { return at->sim; }

int sim_at_reg(const struct sim_at *at)
{
	/* With the radio off or no usable SIM the MT is "not registered, not searching". */
	return at->cfun == 1 && at->sim == SIM_SIM_READY ? at->reg : 0;
}

void sim_at_set_reg(struct sim_at *at, int stat)
{
	int old = sim_at_reg(at);

	at->reg = stat;
	sim_at_reg_changed(at, old);
}

void sim_at_set_sim(struct sim_at *at, enum sim_sim_state st)
{
	int old = sim_at_reg(at);

	if (st == at->sim)
		return;
	if (st == SIM_SIM_ABSENT && at->dialect->sim_removed_urc)
		sim_at_urc_add(at, "%s", at->dialect->sim_removed_urc);
	if (st == SIM_SIM_READY)
		at->pin_tries = 0;
	at->sim = st;
	sim_at_reg_changed(at, old);
}

void sim_at_set_pin(struct sim_at *at, const char *pin)
{
	snprintf(at->pin, sizeof(at->pin), "%s", pin);
}

void sim_at_set_identity(struct sim_at *at, const struct sim_identity *id)
{
	at->id = *id;
	/* Another SIM: its own storage, which starts empty. */
	sim_store_clear(at->store);
}

/* The dialect's boot lines, with its "+CPIN: READY" telling the truth about the SIM (SIM800 manual
 * URC table: "+CPIN: NOT INSERTED"; a locked SIM announces "+CPIN: SIM PIN"). */
static void boot_urcs(struct sim_at *at)
{
	static const char *const cpin[] = {
		[SIM_SIM_READY] = "+CPIN: READY", [SIM_SIM_PIN] = "+CPIN: SIM PIN",
		[SIM_SIM_PUK] = "+CPIN: SIM PUK", [SIM_SIM_ABSENT] = "+CPIN: NOT INSERTED",
	};
	const char *lines = at->dialect->boot_urcs, *hit = strstr(lines, cpin[SIM_SIM_READY]);

	if (!hit) {
		sim_at_urc_add(at, "%s", lines);
		return;
	}
	sim_at_urc_add(at, "%.*s%s%s", (int)(hit - lines), lines, cpin[at->sim],
		       hit + strlen(cpin[SIM_SIM_READY]));
}

void sim_at_boot(struct sim_at *at)
{
	sim_at_reset_profile(at);
	at->reboot = false;
	evbuffer_drain(at->urc, evbuffer_get_length(at->urc));
	if (at->sim != SIM_SIM_ABSENT)
		at->sim = at->pin[0] ? SIM_SIM_PIN : SIM_SIM_READY;
	at->pin_tries = 0;
	at->curc = at->dialect->chatter_s > 0;
	if (at->dialect->boot_urcs)
		boot_urcs(at);
}

struct sim_store *sim_at_store(const struct sim_at *at) { return at->store; }
struct evbuffer *sim_at_urc(const struct sim_at *at) { return at->urc; }
int sim_at_cnmi(const struct sim_at *at, int i) { return i >= 0 && i < 5 ? at->cnmi[i] : 0; }
bool sim_at_chatter_on(const struct sim_at *at) { return at->curc; }

/* AT+CMEE / AT+CMGF: one integer setting with a read and a test form. */
static enum at_status h_int_setting(struct sim_at *at, const struct at_cmd *c, enum at_op op,
				    const char *args, struct evbuffer *out)
{
	int *dst = c->which == 0 ? &at->cmee : &at->cmgf;
	int max = c->which == 0 ? 2 : 1;

	switch (op) {
	case AT_OP_READ:
		sim_at_info(out, "+%s: %d", c->name, *dst);
		return AT_ST_OK;
	case AT_OP_TEST:
		sim_at_info(out, "+%s: (0-%d)", c->name, max);
		return AT_ST_OK;
	case AT_OP_SET:
		return sim_at_set_one_int(at, args, 0, max, dst);
	case AT_OP_EXEC:
		*dst = 0;   /* TS 27.007 9.1 / 27.005 3.2.3: omitted value = 0 */
		return AT_ST_OK;
	}
	return AT_ST_OK;
}

static const struct at_cmd at_cmds[] = {
	{ "CMEE", h_int_setting, 0 },   { "CMGF", h_int_setting, 1 },
};
static const size_t at_ncmds = sizeof(at_cmds) / sizeof(at_cmds[0]);

static const struct at_cmd *find_cmd(const struct sim_at *at, const char *name, size_t nlen)
{
	const struct { const struct at_cmd *cmds; const size_t *n; } tables[] = {
		{ at_cmds, &at_ncmds }, { sim_at_net_cmds, &sim_at_net_ncmds }, { sim_at_sms_cmds, &sim_at_sms_ncmds },
		{ at->dialect->vendor_cmds, at->dialect->n_vendor_cmds },
	};

	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		if (!tables[t].cmds)
			continue;
		for (size_t i = 0; i < *tables[t].n; i++) {
			const struct at_cmd *c = &tables[t].cmds[i];
			if (strlen(c->name) == nlen && strncmp(c->name, name, nlen) == 0)
				return c;
		}
	}
	return NULL;
}

/* ---- basic (V.250) commands: a letter (or &letter) and an optional number ---- */

static enum at_status basic(struct sim_at *at, const char **pp, struct evbuffer *out)
{
	const char *p = *pp;
	bool amp = false;
	char letter;
	long num = 0;
	int reg;

	if (*p == '&') {
		amp = true;
		p++;
	}
	letter = *p++;
	if (!amp && letter == 'S') {
		/* Sn? / Sn=v (V.250 5.3.2) */
		if (!isdigit((unsigned char)*p))
			goto unknown;
		reg = (int)strtol(p, (char **)&p, 10);
		if (reg < 0 || reg > 12)
			goto unknown;
		if (*p == '?') {
			p++;
			sim_at_info(out, "%03d", at->sreg[reg]);
		} else if (*p == '=') {
			p++;
			num = strtol(p, (char **)&p, 10);
			if (num < 0 || num > 255)
				goto unknown;
			at->sreg[reg] = (int)num;
		} else {
			goto unknown;
		}
		*pp = p;
		return AT_ST_OK;
	}
	if (isdigit((unsigned char)*p))
		num = strtol(p, (char **)&p, 10);
	*pp = p;

	if (amp) {
		switch (letter) {
		case 'F': sim_at_reset_profile(at); return AT_ST_OK;   /* factory defaults */
		case 'W': return AT_ST_OK;                      /* store profile: nothing persists */
		case 'C': case 'D': case 'K': return AT_ST_OK;  /* DCD / DTR / flow control: no lines on a pty */
		default: goto unknown;
		}
	}
	switch (letter) {
	case 'E':
		if (num > 1)
			goto unknown;
		at->echo = num == 1;
		return AT_ST_OK;
	case 'V':
		/* Numeric result codes (V0) are not simulated: every driver we know uses V1. */
		if (num != 1)
			goto unknown;
		return AT_ST_OK;
	case 'Q':
	case 'X':
	case 'H':
		return AT_ST_OK;
	case 'Z':
		sim_at_reset_profile(at);
		return AT_ST_OK;
	case 'I':
		sim_at_info(out, "%s", at->dialect->ati);
		return AT_ST_OK;
	default:
		break;
	}
unknown:
	at->err = CME_UNKNOWN;
	return AT_ST_CME;
}

/* V.250 5.2: spaces are ignored and case does not matter, except inside quoted strings. */
static bool normalise(const char *line, char *cmd, size_t size)
{
	size_t n = 0;
	bool inq = false;

	for (; *line; line++) {
		char ch = *line;
		if (ch == '"')
			inq = !inq;
		else if (!inq && (ch == ' ' || ch == '\t'))
			continue;
		else if (!inq)
			ch = (char)toupper((unsigned char)ch);
		if (n + 1 >= size)
			return false;
		cmd[n++] = ch;
	}
	cmd[n] = '\0';
	return !inq;
}

/* "+NAME" or "^NAME" (Huawei): the caret is part of the table name, the plus is not. */
static enum at_status extended(struct sim_at *at, const char **pp, struct evbuffer *out)
{
	const char *p = *pp + 1, *name = **pp == '^' ? *pp : p, *args;
	char argbuf[AT_CMD_MAX];
	size_t nlen, alen = 0;
	bool inq = false;
	enum at_op op = AT_OP_EXEC;
	const struct at_cmd *c;

	while (isalnum((unsigned char)*p))
		p++;
	nlen = (size_t)(p - name);
	if (p[0] == '=' && p[1] == '?') {
		op = AT_OP_TEST;
		p += 2;
	} else if (p[0] == '?') {
		op = AT_OP_READ;
		p++;
	} else if (p[0] == '=') {
		op = AT_OP_SET;
		p++;
	}
	/* The arguments run to the next ';' outside quotes (V.250 5.4.1). */
	args = p;
	for (; *p && (*p != ';' || inq); p++) {
		if (*p == '"')
			inq = !inq;
		alen++;
	}
	*pp = p;
	memcpy(argbuf, args, alen);
	argbuf[alen] = '\0';
	if ((op == AT_OP_READ || op == AT_OP_TEST || op == AT_OP_EXEC) && alen > 0)
		goto unknown;

	c = find_cmd(at, name, nlen);
	if (c)
		return c->fn(at, c, op, argbuf, out);
unknown:
	at->err = CME_UNKNOWN;
	return AT_ST_CME;
}

enum sim_at_result sim_at_line(struct sim_at *at, const char *line, struct evbuffer *out, int *cmgs_len)
{
	char cmd[AT_CMD_MAX];
	const char *p;
	enum at_status st = AT_ST_OK;

	while (*line == ' ' || *line == '\t')
		line++;
	if (*line == '\0')
		return SIM_AT_DONE;   /* an empty line gets no answer (V.250 5.2.1) */
	if (strncasecmp(line, "AT", 2) != 0) {
		/* A modem waits for the "AT" prefix; anything else is line noise and is dropped. */
		log_debug("%s: ignoring line without AT prefix", at->name);
		return SIM_AT_DONE;
	}
	if (!normalise(line + 2, cmd, sizeof(cmd))) {
		sim_at_final_error(at, out);
		return SIM_AT_DONE;
	}
	/* Commands run left to right; the first failure ends the line with its error (V.250 5.2.1). */
	at->reboot = false;
	for (p = cmd; *p && st == AT_ST_OK && !at->reboot;) {
		if (*p == ';') {
			p++;
			continue;
		}
		if (*p == '+' || *p == '^')
			st = extended(at, &p, out);
		else if (isalpha((unsigned char)*p) || *p == '&')
			st = basic(at, &p, out);
		else {
			at->err = CME_UNKNOWN;
			st = AT_ST_CME;
		}
	}
	switch (st) {
	case AT_ST_OK:
		sim_at_final_ok(at, out);
		if (at->reboot) {
			/* AT+CFUN=1,1 answers OK, then the MT resets: what follows it on the line is lost. */
			at->reboot = false;
			return SIM_AT_REBOOT;
		}
		break;
	case AT_ST_CME:
		final_cme(at, at->err, out);
		break;
	case AT_ST_CMS:
		sim_at_final_cms(at, at->err, out);
		break;
	case AT_ST_PROMPT:
		/* AT+CMGS takes the rest of the session: anything after it on the line is ignored. */
		*cmgs_len = at->cmgs_len;
		return SIM_AT_PROMPT;
	}
	return SIM_AT_DONE;
}
