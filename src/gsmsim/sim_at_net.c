/* sim_at_net: identity, SIM, signal, registration and power commands of the simulated modem (TS 27.007),
 * plus the vendor command sets (AT+Q..., AT^...). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "simroute/log.h"

#include "sim_at_int.h"

enum { ID_MANUF, ID_MODEL, ID_REV, ID_IMEI, ID_IMSI, ID_ICCID, ID_QCCID, ID_HWICCID };

static enum at_status h_ident(struct sim_at *at, const struct at_cmd *c, enum at_op op, const char *args,
			      struct evbuffer *out)
{
	const char *v = NULL;
	int cme;

	if (op == AT_OP_TEST)
		return AT_ST_OK;
	/* ^ICCID is a read command on Huawei (AT^ICCID?), the others are actions. */
	if (op != (c->which == ID_HWICCID ? AT_OP_READ : AT_OP_EXEC))
		return sim_at_not_supported(at);
	if (c->which >= ID_IMSI && (cme = sim_at_sim_cme(at)) != 0) {
		/* The ICCID is readable with the PIN still locked; the IMSI is not (TS 27.007 8.3). */
		if (c->which == ID_IMSI || cme == CME_SIM_NOT_INSERTED) {
			at->err = cme;
			return AT_ST_CME;
		}
	}
	switch (c->which) {
	case ID_MANUF: v = at->dialect->manufacturer; break;
	case ID_MODEL: v = at->dialect->model; break;
	case ID_REV: v = at->dialect->revision; break;
	case ID_IMEI: v = at->id.imei; break;
	case ID_IMSI: v = at->id.imsi; break;
	case ID_ICCID:
		sim_at_info(out, "%s%s", at->dialect->ccid_prefix, at->id.iccid);
		return AT_ST_OK;
	case ID_QCCID:
		sim_at_info(out, "+QCCID: %s", at->id.iccid);
		return AT_ST_OK;
	case ID_HWICCID: {
		/* Huawei reports the EF_ICCID bytes as stored: BCD with the nibbles of each octet swapped
		 * (TS 11.11 10.1.1), so "8946..." reads "9864..." - a driver must swap them back. */
		char sw[24];
		size_t n = strlen(at->id.iccid), k = 0;
		for (size_t i = 0; i < n; i += 2) {
			sw[k++] = i + 1 < n ? at->id.iccid[i + 1] : 'F';
			sw[k++] = at->id.iccid[i];
		}
		sw[k] = '\0';
		sim_at_info(out, "^ICCID: %s", sw);
		return AT_ST_OK;
	}
	}
	sim_at_info(out, "%s", v ? v : "");
	return AT_ST_OK;
}

static enum at_status h_cpin(struct sim_at *at, const struct at_cmd *c, enum at_op op, const char *args,
			     struct evbuffer *out)
{
	static const char *const shown[] = {
		[SIM_SIM_READY] = "READY", [SIM_SIM_PIN] = "SIM PIN", [SIM_SIM_PUK] = "SIM PUK",
	};
	char f[AT_ARGS_MAX][AT_ARG_LEN];
	int n;

	switch (op) {
	case AT_OP_READ:
		if (at->sim == SIM_SIM_ABSENT) {
			at->err = CME_SIM_NOT_INSERTED;
			return AT_ST_CME;
		}
		sim_at_info(out, "+CPIN: %s", shown[at->sim]);
		return AT_ST_OK;
	case AT_OP_TEST:
		return AT_ST_OK;
	case AT_OP_EXEC:
		return sim_at_not_supported(at);
	case AT_OP_SET:
		break;
	}
	n = sim_at_split_args(args, f, AT_ARGS_MAX);
	if (n < 1 || n > 2) {
		at->err = CME_BAD_PARAM;
		return AT_ST_CME;
	}
	switch (at->sim) {
	case SIM_SIM_ABSENT:
		at->err = CME_SIM_NOT_INSERTED;
		return AT_ST_CME;
	case SIM_SIM_READY:
		return AT_ST_OK;   /* nothing to unlock; SIM800 and EC25 answer OK */
	case SIM_SIM_PIN:
		if (strcmp(f[0], at->pin) != 0) {
			/* TS 11.11: three wrong PINs block the SIM until the PUK is given. */
			if (++at->pin_tries >= 3) {
				at->sim = SIM_SIM_PUK;
				log_info("%s: third wrong PIN: SIM PUK", at->name);
			}
			at->err = CME_WRONG_PASSWORD;
			return AT_ST_CME;
		}
		break;
	case SIM_SIM_PUK:
		if (n != 2 || strcmp(f[0], at->puk) != 0 || strlen(f[1]) < 4 || strlen(f[1]) >= sizeof(at->pin)) {
			at->err = CME_WRONG_PASSWORD;
			return AT_ST_CME;
		}
		snprintf(at->pin, sizeof(at->pin), "%.8s", f[1]);   /* length checked above */
		break;
	}
	sim_at_set_sim(at, SIM_SIM_READY);
	return AT_ST_OK;
}

static enum at_status h_csq(struct sim_at *at, const struct at_cmd *c, enum at_op op, const char *args,
			    struct evbuffer *out)
{
	if (op == AT_OP_EXEC)
		sim_at_info(out, "+CSQ: %d,0", at->cfun == 1 ? at->signal : 99);
	else if (op == AT_OP_TEST)
		sim_at_info(out, "+CSQ: (0-31,99),(0-7,99)");
	else
		return sim_at_not_supported(at);
	return AT_ST_OK;
}

enum { REG_CREG, REG_CGREG, REG_CEREG };

static int *reg_mode(struct sim_at *at, int which)
{
	return which == REG_CREG ? &at->creg : which == REG_CGREG ? &at->cgreg : &at->cereg;
}

/* TS 27.007 7.2 / 10.1.20 / 10.1.22: "+CREG: [<n>,]<stat>[,<lac>,<ci>[,<AcT>]]". */
static void reg_line(struct sim_at *at, int which, bool with_n, struct evbuffer *out)
{
	static const char *const names[] = { "CREG", "CGREG", "CEREG" };
	int n = *reg_mode(at, which), stat = sim_at_reg(at);
	char head[24];

	if (with_n)
		snprintf(head, sizeof(head), "%d,", n);
	else
		head[0] = '\0';
	if (n >= 2 && (stat == 1 || stat == 5))
		sim_at_info(out, "+%s: %s%d,\"1A2B\",\"%04X\"%s", names[which], head, stat,
			    0x0C00u + (unsigned)(at->id.imei[13] - '0'), which == REG_CEREG ? ",7" : "");
	else
		sim_at_info(out, "+%s: %s%d", names[which], head, stat);
}

void sim_at_reg_changed(struct sim_at *at, int old)
{
	if (sim_at_reg(at) == old)
		return;
	for (int w = REG_CREG; w <= REG_CEREG; w++)
		if (*reg_mode(at, w) > 0 && (w != REG_CEREG || at->dialect->has_cereg))
			reg_line(at, w, false, at->urc);
}

static enum at_status h_creg(struct sim_at *at, const struct at_cmd *c, enum at_op op, const char *args,
			     struct evbuffer *out)
{
	switch (op) {
	case AT_OP_READ:
		reg_line(at, c->which, true, out);
		return AT_ST_OK;
	case AT_OP_TEST:
		sim_at_info(out, "+%s: (0-2)", c->name);
		return AT_ST_OK;
	case AT_OP_SET:
		return sim_at_set_one_int(at, args, 0, 2, reg_mode(at, c->which));
	case AT_OP_EXEC:
		*reg_mode(at, c->which) = 0;
		return AT_ST_OK;
	}
	return AT_ST_OK;
}

static enum at_status h_cops(struct sim_at *at, const struct at_cmd *c, enum at_op op, const char *args,
			     struct evbuffer *out)
{
	int stat = sim_at_reg(at);

	switch (op) {
	case AT_OP_READ:
		if (stat == 1 || stat == 5)
			sim_at_info(out, "+COPS: 0,0,\"SIMROUTE TEST\"%s", at->dialect->has_cereg ? ",7" : "");
		else
			sim_at_info(out, "+COPS: 0");
		return AT_ST_OK;
	case AT_OP_TEST:
		sim_at_info(out, "+COPS: (2,\"SIMROUTE TEST\",\"SIMROUTE\",\"00101\"),,(0-4),(0-2)");
		return AT_ST_OK;
	default:
		/* Operator selection: there is one network and it is always selected. */
		return AT_ST_OK;
	}
}

static enum at_status h_cfun(struct sim_at *at, const struct at_cmd *c, enum at_op op, const char *args,
			     struct evbuffer *out)
{
	char f[AT_ARGS_MAX][AT_ARG_LEN];
	int n, fun, rst = 0, old;

	switch (op) {
	case AT_OP_READ:
		sim_at_info(out, "+CFUN: %d", at->cfun);
		return AT_ST_OK;
	case AT_OP_TEST:
		sim_at_info(out, "+CFUN: (0,1,4),(0,1)");
		return AT_ST_OK;
	case AT_OP_SET:
		n = sim_at_split_args(args, f, AT_ARGS_MAX);
		if (n < 1 || n > 2 || !sim_at_arg_int(f[0], 0, 4, &fun) || fun == 2 || fun == 3 ||
		    (n == 2 && !sim_at_arg_int(f[1], 0, 1, &rst))) {
			at->err = CME_BAD_PARAM;
			return AT_ST_CME;
		}
		log_info("%s: AT+CFUN=%d%s", at->name, fun, rst ? ",1 (reset)" : "");
		/* TS 27.007 8.2: <rst>=1 resets the MT; the modem layer runs the reboot after the OK. */
		if (rst) {
			at->reboot = true;
			return AT_ST_OK;
		}
		old = sim_at_reg(at);
		at->cfun = fun;
		sim_at_reg_changed(at, old);
		return AT_ST_OK;
	case AT_OP_EXEC:
		return sim_at_not_supported(at);
	}
	return AT_ST_OK;
}

static enum at_status h_cnum(struct sim_at *at, const struct at_cmd *c, enum at_op op, const char *args,
			     struct evbuffer *out)
{
	int cme = sim_at_sim_cme(at);

	if (op == AT_OP_TEST)
		return AT_ST_OK;
	if (op != AT_OP_EXEC)
		return sim_at_not_supported(at);
	if (cme) {
		at->err = cme;
		return AT_ST_CME;
	}
	sim_at_info(out, "+CNUM: \"\",\"%s\",145", at->id.msisdn);
	return AT_ST_OK;
}

const struct at_cmd sim_at_net_cmds[] = {
	{ "CGMI", h_ident, ID_MANUF },  { "GMI", h_ident, ID_MANUF },
	{ "CGMM", h_ident, ID_MODEL },  { "GMM", h_ident, ID_MODEL },
	{ "CGMR", h_ident, ID_REV },    { "GMR", h_ident, ID_REV },
	{ "CGSN", h_ident, ID_IMEI },   { "GSN", h_ident, ID_IMEI },
	{ "CIMI", h_ident, ID_IMSI },   { "CCID", h_ident, ID_ICCID },
	{ "CPIN", h_cpin, 0 },          { "CSQ", h_csq, 0 },
	{ "CREG", h_creg, REG_CREG },   { "CGREG", h_creg, REG_CGREG },
	{ "COPS", h_cops, 0 },          { "CFUN", h_cfun, 0 },
	{ "CNUM", h_cnum, 0 },
};
const size_t sim_at_net_ncmds = sizeof(sim_at_net_cmds) / sizeof(sim_at_net_cmds[0]);

/* ---- vendor command sets ---- */

/* AT^CURC=0|1 (Huawei): switches the ^RSSI/^BOOT/^MODE chatter off and on. */
static enum at_status h_curc(struct sim_at *at, const struct at_cmd *c, enum at_op op, const char *args,
			     struct evbuffer *out)
{
	int v = at->curc;

	if (op == AT_OP_READ) {
		sim_at_info(out, "^CURC: %d", v);
		return AT_ST_OK;
	}
	if (op == AT_OP_TEST) {
		sim_at_info(out, "^CURC: (0-1)");
		return AT_ST_OK;
	}
	if (op != AT_OP_SET || sim_at_set_one_int(at, args, 0, 1, &v) != AT_ST_OK) {
		at->err = CME_BAD_PARAM;
		return AT_ST_CME;
	}
	at->curc = v;
	return AT_ST_OK;
}

/* AT+QINDCFG="csq",1 (Quectel): +QIND: "csq",<rssi>,<ber> on every signal change. */
static enum at_status h_qindcfg(struct sim_at *at, const struct at_cmd *c, enum at_op op, const char *args,
				struct evbuffer *out)
{
	char f[AT_ARGS_MAX][AT_ARG_LEN];
	int n, v;

	if (op == AT_OP_TEST)
		return AT_ST_OK;
	n = op == AT_OP_SET ? sim_at_split_args(args, f, AT_ARGS_MAX) : -1;
	if (n == 1 && strcasecmp(f[0], "csq") == 0) {
		sim_at_info(out, "+QINDCFG: \"csq\",%d", at->qind_csq);
		return AT_ST_OK;
	}
	if (n >= 2 && sim_at_arg_int(f[1], 0, 1, &v)) {
		if (strcasecmp(f[0], "csq") == 0)
			at->qind_csq = v;
		return AT_ST_OK;   /* "all", "smsincoming", ... accepted and not simulated */
	}
	at->err = CME_BAD_PARAM;
	return AT_ST_CME;
}

/* SIM800's AT+CSCLK (sleep) and Huawei's AT^SYSCFG... are accepted and change nothing. */
static enum at_status h_accept(struct sim_at *at, const struct at_cmd *c, enum at_op op, const char *args,
			       struct evbuffer *out)
{
	return AT_ST_OK;
}

const struct at_cmd sim_at_sim800_cmds[] = {
	{ "CSCLK", h_accept, 0 },
};
const size_t sim_at_sim800_ncmds = sizeof(sim_at_sim800_cmds) / sizeof(sim_at_sim800_cmds[0]);

const struct at_cmd sim_at_quectel_cmds[] = {
	{ "QCCID", h_ident, ID_QCCID },  { "QINDCFG", h_qindcfg, 0 },
	{ "CEREG", h_creg, REG_CEREG },  { "QURCCFG", h_accept, 0 },
};
const size_t sim_at_quectel_ncmds = sizeof(sim_at_quectel_cmds) / sizeof(sim_at_quectel_cmds[0]);

const struct at_cmd sim_at_huawei_cmds[] = {
	{ "^ICCID", h_ident, ID_HWICCID }, { "^CURC", h_curc, 0 },
	{ "CEREG", h_creg, REG_CEREG },    { "^SYSCFG", h_accept, 0 },
};
const size_t sim_at_huawei_ncmds = sizeof(sim_at_huawei_cmds) / sizeof(sim_at_huawei_cmds[0]);
