/* sim_at_sms: the TS 27.005 short message commands of the simulated modem (+CSCS, +CPMS, +CMGS, ...). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sim_at_int.h"

static enum at_status h_cscs(struct sim_at *at, const struct at_cmd *c, enum at_op op, const char *args,
			     struct evbuffer *out)
{
	static const char *const sets[] = { "IRA", "GSM", "UCS2", "HEX", "PCCP936" };
	char f[AT_ARGS_MAX][AT_ARG_LEN];

	switch (op) {
	case AT_OP_READ:
		sim_at_info(out, "+CSCS: \"%s\"", at->cscs);
		return AT_ST_OK;
	case AT_OP_TEST:
		sim_at_info(out, "+CSCS: (\"IRA\",\"GSM\",\"UCS2\",\"HEX\",\"PCCP936\")");
		return AT_ST_OK;
	case AT_OP_SET:
		if (sim_at_split_args(args, f, AT_ARGS_MAX) == 1)
			for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
				if (strcasecmp(f[0], sets[i]) == 0) {
					snprintf(at->cscs, sizeof(at->cscs), "%s", sets[i]);
					return AT_ST_OK;
				}
		at->err = CME_BAD_PARAM;
		return AT_ST_CME;
	case AT_OP_EXEC:
		return AT_ST_OK;
	}
	return AT_ST_OK;
}

static enum at_status h_cpms(struct sim_at *at, const struct at_cmd *c, enum at_op op, const char *args,
			     struct evbuffer *out)
{
	char f[AT_ARGS_MAX][AT_ARG_LEN];
	int n, total = at->dialect->cpms_total;

	switch (op) {
	case AT_OP_READ:
		sim_at_info(out, "+CPMS: \"%s\",0,%d,\"%s\",0,%d,\"%s\",0,%d", at->cpms[0], total, at->cpms[1], total,
		     at->cpms[2], total);
		return AT_ST_OK;
	case AT_OP_TEST:
		sim_at_info(out, "+CPMS: (\"SM\",\"ME\",\"SM_P\",\"ME_P\",\"MT\"),(\"SM\",\"ME\",\"SM_P\",\"ME_P\",\"MT\"),"
			  "(\"SM\",\"ME\",\"SM_P\",\"ME_P\",\"MT\")");
		return AT_ST_OK;
	case AT_OP_SET:
		n = sim_at_split_args(args, f, AT_ARGS_MAX);
		if (n < 1 || n > 3)
			break;
		for (int i = 0; i < n; i++) {
			if (strcasecmp(f[i], "SM") && strcasecmp(f[i], "ME") && strcasecmp(f[i], "SM_P") &&
			    strcasecmp(f[i], "ME_P") && strcasecmp(f[i], "MT"))
				goto bad;
		}
		for (int i = 0; i < n; i++)
			snprintf(at->cpms[i], sizeof(at->cpms[i]), "%.7s", f[i]);
		/* TS 27.005 3.2.2: the set form reports used,total for each of the three memories. */
		sim_at_info(out, "+CPMS: 0,%d,0,%d,0,%d", total, total, total);
		return AT_ST_OK;
	case AT_OP_EXEC:
		break;
	}
bad:
	at->err = SIM_CMS_OP_NOT_ALLOWED;
	return AT_ST_CMS;
}

/* AT+CNMI (5 ints) / AT+CSMP (4 ints): accepted and reported back; nothing acts on them yet. */
static enum at_status h_int_list(struct sim_at *at, const struct at_cmd *c, enum at_op op, const char *args,
				 struct evbuffer *out)
{
	char f[AT_ARGS_MAX][AT_ARG_LEN];
	int *v = c->which == 0 ? at->cnmi : at->csmp;
	int count = c->which == 0 ? 5 : 4, n, tmp[5];

	switch (op) {
	case AT_OP_READ:
		if (count == 5)
			sim_at_info(out, "+CNMI: %d,%d,%d,%d,%d", v[0], v[1], v[2], v[3], v[4]);
		else
			sim_at_info(out, "+CSMP: %d,%d,%d,%d", v[0], v[1], v[2], v[3]);
		return AT_ST_OK;
	case AT_OP_TEST:
		if (count == 5)
			sim_at_info(out, "+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)");
		return AT_ST_OK;
	case AT_OP_SET:
		n = sim_at_split_args(args, f, AT_ARGS_MAX);
		if (n < 1 || n > count)
			break;
		memcpy(tmp, v, sizeof(int) * (size_t)count);
		for (int i = 0; i < n; i++)
			if (f[i][0] != '\0' && !sim_at_arg_int(f[i], 0, 255, &tmp[i]))
				goto bad;
		memcpy(v, tmp, sizeof(int) * (size_t)count);
		return AT_ST_OK;
	case AT_OP_EXEC:
		return AT_ST_OK;
	}
bad:
	at->err = SIM_CMS_OP_NOT_ALLOWED;
	return AT_ST_CMS;
}

static enum at_status h_csca(struct sim_at *at, const struct at_cmd *c, enum at_op op, const char *args,
			     struct evbuffer *out)
{
	char f[AT_ARGS_MAX][AT_ARG_LEN];

	switch (op) {
	case AT_OP_READ:
		sim_at_info(out, "+CSCA: \"%s\",%d", at->csca, at->csca[0] == '+' ? 145 : 129);
		return AT_ST_OK;
	case AT_OP_SET:
		if (sim_at_split_args(args, f, AT_ARGS_MAX) < 1 || f[0][0] == '\0' || strlen(f[0]) >= sizeof(at->csca)) {
			at->err = SIM_CMS_OP_NOT_ALLOWED;
			return AT_ST_CMS;
		}
		snprintf(at->csca, sizeof(at->csca), "%.23s", f[0]);
		return AT_ST_OK;
	default:
		return AT_ST_OK;
	}
}

static enum at_status h_csms(struct sim_at *at, const struct at_cmd *c, enum at_op op, const char *args,
			     struct evbuffer *out)
{
	enum at_status st;

	switch (op) {
	case AT_OP_READ:
		sim_at_info(out, "+CSMS: %d,1,1,1", at->csms);
		return AT_ST_OK;
	case AT_OP_TEST:
		sim_at_info(out, "+CSMS: (0,1)");
		return AT_ST_OK;
	case AT_OP_SET:
		st = sim_at_set_one_int(at, args, 0, 1, &at->csms);
		if (st == AT_ST_OK)
			sim_at_info(out, "+CSMS: 1,1,1");
		return st;
	case AT_OP_EXEC:
		return sim_at_not_supported(at);
	}
	return AT_ST_OK;
}

/* Message storage: empty until inbound SMS is simulated. */
static enum at_status h_storage(struct sim_at *at, const struct at_cmd *c, enum at_op op, const char *args,
				struct evbuffer *out)
{
	if (op == AT_OP_TEST) {
		if (strcmp(c->name, "CMGL") == 0)
			sim_at_info(out, at->cmgf ? "+CMGL: (\"REC UNREAD\",\"REC READ\",\"STO UNSENT\",\"STO SENT\",\"ALL\")"
					   : "+CMGL: (0-4)");
		return AT_ST_OK;
	}
	if (strcmp(c->name, "CMGR") == 0 && op == AT_OP_SET) {
		at->err = SIM_CMS_INVALID_INDEX;
		return AT_ST_CMS;
	}
	return AT_ST_OK;
}

static enum at_status h_cmgs(struct sim_at *at, const struct at_cmd *c, enum at_op op, const char *args,
			     struct evbuffer *out)
{
	char f[AT_ARGS_MAX][AT_ARG_LEN];

	if (op == AT_OP_TEST)
		return AT_ST_OK;
	if (at->cmgf == 1) {
		/* Text mode sending is not simulated yet; PDU mode is what simrouted uses. */
		at->err = SIM_CMS_OP_NOT_ALLOWED;
		return AT_ST_CMS;
	}
	/* TS 27.005 3.5.1: AT+CMGS=<length>, the TPDU octet count (SMSC excluded), at most 164 + header. */
	if (op != AT_OP_SET || sim_at_split_args(args, f, AT_ARGS_MAX) != 1 || !sim_at_arg_int(f[0], 1, 200, &at->cmgs_len)) {
		at->err = SIM_CMS_INVALID_PDU_PARAM;
		return AT_ST_CMS;
	}
	return AT_ST_PROMPT;
}

const struct at_cmd sim_at_sms_cmds[] = {
	{ "CSCS", h_cscs, 0 },     { "CPMS", h_cpms, 0 },
	{ "CNMI", h_int_list, 0 }, { "CSMP", h_int_list, 1 },
	{ "CSCA", h_csca, 0 },     { "CSMS", h_csms, 0 },
	{ "CMGL", h_storage, 0 },  { "CMGD", h_storage, 0 },
	{ "CMGR", h_storage, 0 },  { "CMGS", h_cmgs, 0 },
};
const size_t sim_at_sms_ncmds = sizeof(sim_at_sms_cmds) / sizeof(sim_at_sms_cmds[0]);
