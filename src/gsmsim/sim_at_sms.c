/* sim_at_sms: the TS 27.005 short message commands of the simulated modem (+CSCS, +CPMS, +CMGS, ...). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "simroute/pdu.h"

#include "sim_at_int.h"
#include "sim_store.h"

/* +CMS errors for a SIM that is not usable (TS 27.005 3.2.5), 0 when it is ready. */
static int sim_cms(const struct sim_at *at)
{
	switch (sim_at_sim_cme(at)) {
	case CME_SIM_NOT_INSERTED: return SIM_CMS_SIM_NOT_INSERTED;
	case CME_SIM_PIN: return SIM_CMS_SIM_PIN;
	case CME_SIM_PUK: return SIM_CMS_SIM_PUK;
	default: return 0;
	}
}

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
	int n, total = sim_store_capacity(at->store), used = sim_store_used(at->store);

	/* One storage backs every <mem>: gsmsim's modems keep messages on the SIM only. */
	if (op != AT_OP_TEST && (n = sim_cms(at)) != 0) {
		at->err = n;
		return AT_ST_CMS;
	}
	switch (op) {
	case AT_OP_READ:
		sim_at_info(out, "+CPMS: \"%s\",%d,%d,\"%s\",%d,%d,\"%s\",%d,%d", at->cpms[0], used, total, at->cpms[1],
			    used, total, at->cpms[2], used, total);
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
		sim_at_info(out, "+CPMS: %d,%d,%d,%d,%d,%d", used, total, used, total, used, total);
		return AT_ST_OK;
	case AT_OP_EXEC:
		break;
	}
bad:
	at->err = SIM_CMS_OP_NOT_ALLOWED;
	return AT_ST_CMS;
}

/* AT+CNMI (5 ints; sim_at_deliver acts on <mt> and <ds>) / AT+CSMP (4 ints, reported back). */
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

/* TS 27.005 3.1 <stat> in text mode */
static const char *const stat_text[] = { "REC UNREAD", "REC READ", "STO UNSENT", "STO SENT", "ALL" };

/* "2026-11-23T13:45:00+01:00" -> "26/11/23,13:45:00+04" (TS 27.005 3.1 <scts>: quarters of an hour) */
static void scts_text(const char *iso, char *buf, size_t size)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0;
	char sign = '+';

	if (sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d%c%2d:%2d", &y, &mo, &d, &h, &mi, &sec, &sign, &oh, &om) < 6) {
		snprintf(buf, size, "00/01/01,00:00:00+00");
		return;
	}
	snprintf(buf, size, "%02d/%02d/%02d,%02d:%02d:%02d%c%02d", y % 100, mo, d, h, mi, sec,
		 sign == '-' ? '-' : '+', (oh * 60 + om) / 15);
}

/* One stored message as +CMGR (index 0) or +CMGL (index > 0) reports it. */
static void show_message(const struct sim_at *at, int index, int stat, const char *hex, int length,
			 bool report, struct evbuffer *out)
{
	struct pdu_decoded d;
	char ts[32];
	const char *cmd = index > 0 ? "CMGL" : "CMGR";

	if (at->cmgf == 0) {
		/* PDU mode (TS 27.005 3.4.2/3.4.3): +CMGR: <stat>,[<alpha>],<length><CR><LF><pdu> */
		if (index > 0)
			sim_at_info(out, "+CMGL: %d,%d,%s,%d\r\n%s", index, stat, at->dialect->pdu_alpha, length, hex);
		else
			sim_at_info(out, "+CMGR: %d,%s,%d\r\n%s", stat, at->dialect->pdu_alpha, length, hex);
		return;
	}
	if (pdu_decode(hex, true, &d) != PDU_OK) {
		sim_at_info(out, "+%s: \"%s\"", cmd, stat_text[stat]);   /* undecodable: the status only */
		return;
	}
	if (report) {
		/* text mode status report: <stat>,<fo>,<mr>,,,<scts>,<dt>,<st> */
		scts_text(d.scts, ts, sizeof(ts));
		if (index > 0)
			evbuffer_add_printf(out, "\r\n+CMGL: %d,", index);
		else
			evbuffer_add_printf(out, "\r\n+CMGR: ");
		evbuffer_add_printf(out, "\"%s\",6,%d,,,\"%s\",", stat_text[stat], d.mr, ts);
		scts_text(d.discharge, ts, sizeof(ts));
		evbuffer_add_printf(out, "\"%s\",%d\r\n", ts, d.status);
		return;
	}
	scts_text(d.scts, ts, sizeof(ts));
	if (index > 0)
		sim_at_info(out, "+CMGL: %d,\"%s\",\"%s\",,\"%s\"\r\n%s", index, stat_text[stat], d.addr, ts, d.text);
	else
		sim_at_info(out, "+CMGR: \"%s\",\"%s\",,\"%s\"\r\n%s", stat_text[stat], d.addr, ts, d.text);
}

static enum at_status h_cmgr(struct sim_at *at, const struct at_cmd *c, enum at_op op, const char *args,
			     struct evbuffer *out)
{
	int index, length, stat, cms = sim_cms(at);
	bool report;
	const char *hex;

	if (op == AT_OP_TEST)
		return AT_ST_OK;
	if (cms) {
		at->err = cms;
		return AT_ST_CMS;
	}
	if (op != AT_OP_SET || !sim_at_arg_int(args, 0, 100000, &index)) {
		at->err = SIM_CMS_OP_NOT_ALLOWED;
		return AT_ST_CMS;
	}
	if (index < 1 || index > sim_store_capacity(at->store)) {
		at->err = SIM_CMS_INVALID_INDEX;
		return AT_ST_CMS;
	}
	hex = sim_store_get(at->store, index, &length, &stat, &report);
	/* An empty slot: SIM800 and EC25 answer a bare OK, as TS 27.005 leaves it open. */
	if (hex) {
		show_message(at, 0, stat, hex, length, report, out);
		sim_store_mark_read(at->store, index);
	}
	return AT_ST_OK;
}

static enum at_status h_cmgl(struct sim_at *at, const struct at_cmd *c, enum at_op op, const char *args,
			     struct evbuffer *out)
{
	char f[AT_ARGS_MAX][AT_ARG_LEN];
	int want = 0, cms = sim_cms(at), length, stat;
	bool report;
	const char *hex;

	if (op == AT_OP_TEST) {
		sim_at_info(out, at->cmgf ? "+CMGL: (\"REC UNREAD\",\"REC READ\",\"STO UNSENT\",\"STO SENT\",\"ALL\")"
				   : "+CMGL: (0-4)");
		return AT_ST_OK;
	}
	if (cms) {
		at->err = cms;
		return AT_ST_CMS;
	}
	/* TS 27.005 3.4.2: the default <stat> is "REC UNREAD" / 0. */
	if (op == AT_OP_SET) {
		if (sim_at_split_args(args, f, AT_ARGS_MAX) != 1)
			goto bad;
		if (at->cmgf == 0 && !sim_at_arg_int(f[0], 0, 4, &want))
			goto bad;
		if (at->cmgf == 1) {
			for (want = 0; want < 5 && strcasecmp(f[0], stat_text[want]) != 0; want++)
				;
			if (want == 5)
				goto bad;
		}
	} else if (op != AT_OP_EXEC) {
		goto bad;
	}
	for (int i = 1; i <= sim_store_capacity(at->store); i++) {
		hex = sim_store_get(at->store, i, &length, &stat, &report);
		if (!hex || (want != 4 && stat != want))
			continue;
		show_message(at, i, stat, hex, length, report, out);
		sim_store_mark_read(at->store, i);
	}
	return AT_ST_OK;
bad:
	at->err = SIM_CMS_OP_NOT_ALLOWED;
	return AT_ST_CMS;
}

static enum at_status h_cmgd(struct sim_at *at, const struct at_cmd *c, enum at_op op, const char *args,
			     struct evbuffer *out)
{
	char f[AT_ARGS_MAX][AT_ARG_LEN];
	int n, index, flag = 0, cms = sim_cms(at), stat;

	if (op == AT_OP_TEST) {
		sim_at_info(out, "+CMGD: (1-%d),(0-4)", sim_store_capacity(at->store));
		return AT_ST_OK;
	}
	if (cms) {
		at->err = cms;
		return AT_ST_CMS;
	}
	n = op == AT_OP_SET ? sim_at_split_args(args, f, AT_ARGS_MAX) : -1;
	if (n < 1 || n > 2 || !sim_at_arg_int(f[0], 0, 100000, &index) ||
	    (n == 2 && !sim_at_arg_int(f[1], 0, 4, &flag))) {
		at->err = SIM_CMS_OP_NOT_ALLOWED;
		return AT_ST_CMS;
	}
	if (flag == 0) {
		if (index < 1 || index > sim_store_capacity(at->store)) {
			at->err = SIM_CMS_INVALID_INDEX;
			return AT_ST_CMS;
		}
		sim_store_delete(at->store, index);   /* deleting an empty slot is OK on real modems */
		return AT_ST_OK;
	}
	/* TS 27.005 3.5.4 <delflag>: 1 read, 2 read+sent, 3 read+sent+unsent, 4 all; <index> ignored. */
	for (int i = 1; i <= sim_store_capacity(at->store); i++)
		if (sim_store_get(at->store, i, NULL, &stat, NULL) && (flag == 4 || stat == SIM_STAT_READ ||
		    (flag >= 2 && stat == SIM_STAT_SENT) || (flag >= 3 && stat == SIM_STAT_UNSENT)))
			sim_store_delete(at->store, i);
	return AT_ST_OK;
}

enum sim_deliver sim_at_deliver(struct sim_at *at, const char *hex, int length, bool report, int *index)
{
	/* TS 27.005 3.4.1 +CNMI=<mode>,<mt>,<bm>,<ds>,<bfr> */
	int mt = at->cnmi[1], ds = at->cnmi[3];
	struct pdu_decoded d;
	char ts[32];

	*index = 0;
	if (report && ds == 0)
		return SIM_DELIVER_DROPPED;
	if ((report && ds == 1) || (!report && mt == 2)) {
		if (at->cmgf == 0) {
			if (report)
				sim_at_urc_add(at, "+CDS: %d\r\n%s", length, hex);
			else
				sim_at_urc_add(at, "+CMT: %s,%d\r\n%s", at->dialect->pdu_alpha, length, hex);
		} else if (pdu_decode(hex, true, &d) == PDU_OK) {
			scts_text(d.scts, ts, sizeof(ts));
			if (report)
				sim_at_urc_add(at, "+CDS: 6,%d,,,\"%s\",\"%s\",%d", d.mr, ts, ts, d.status);
			else
				sim_at_urc_add(at, "+CMT: \"%s\",,\"%s\"\r\n%s", d.addr, ts, d.text);
		}
		return SIM_DELIVER_DIRECT;
	}
	*index = sim_store_put(at->store, hex, length, report);
	if (*index == 0)
		return SIM_DELIVER_FULL;
	if (report && ds == 2)
		sim_at_urc_add(at, "+CDSI: \"%s\",%d", at->cpms[2], *index);
	else if (!report && mt != 0)
		sim_at_urc_add(at, "+CMTI: \"%s\",%d", at->cpms[2], *index);
	return SIM_DELIVER_STORED;
}

/* "002B0034" (UCS2 character set: hex of UTF-16BE) -> UTF-8. false if malformed. */
static bool ucs2_hex_to_utf8(const char *hex, char *out, size_t size)
{
	size_t n = strlen(hex), k = 0;
	unsigned u, lo;

	if (n % 4 != 0)
		return false;
	for (size_t i = 0; i < n; i += 4) {
		if (sscanf(hex + i, "%4x", &u) != 1)
			return false;
		if (u >= 0xD800 && u < 0xDC00) {   /* a surrogate pair: the second half follows */
			if (i + 8 > n || sscanf(hex + i + 4, "%4x", &lo) != 1 || lo < 0xDC00 || lo > 0xDFFF)
				return false;
			u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
			i += 4;
		}
		if (k + 5 > size)
			return false;
		if (u < 0x80) {
			out[k++] = (char)u;
		} else if (u < 0x800) {
			out[k++] = (char)(0xC0 | u >> 6);
			out[k++] = (char)(0x80 | (u & 0x3F));
		} else if (u < 0x10000) {
			out[k++] = (char)(0xE0 | u >> 12);
			out[k++] = (char)(0x80 | ((u >> 6) & 0x3F));
			out[k++] = (char)(0x80 | (u & 0x3F));
		} else {
			out[k++] = (char)(0xF0 | u >> 18);
			out[k++] = (char)(0x80 | ((u >> 12) & 0x3F));
			out[k++] = (char)(0x80 | ((u >> 6) & 0x3F));
			out[k++] = (char)(0x80 | (u & 0x3F));
		}
	}
	out[k] = '\0';
	return true;
}

/* A string parameter or text in the current +CSCS character set, as UTF-8. */
static bool from_cscs(const struct sim_at *at, const char *in, char *out, size_t size)
{
	if (strcasecmp(at->cscs, "UCS2") == 0)
		return ucs2_hex_to_utf8(in, out, size);
	/* IRA and GSM: what a driver types is ASCII in practice; taken as it comes */
	return (size_t)snprintf(out, size, "%s", in) < size;
}

/* TS 23.040 9.2.3.12.1: relative TP-VP octet -> minutes */
static int vp_minutes(int vp)
{
	if (vp <= 143)
		return (vp + 1) * 5;
	if (vp <= 167)
		return 12 * 60 + (vp - 143) * 30;
	if (vp <= 196)
		return (vp - 166) * 24 * 60;
	return (vp - 192) * 7 * 24 * 60;
}

int sim_at_text_submit(const struct sim_at *at, const char *typed, char *hex, size_t size)
{
	char text[PDU_TEXT_MAX], da[AT_ARG_LEN];
	/* +CSMP <fo>: bit 5 TP-SRR, bits 3-4 TP-VPF (10 = relative, TS 23.040 9.2.3.3) */
	struct pdu_submit_opts o = {
		.status_report = (at->csmp[0] & 0x20) != 0,
		.validity_minutes = (at->csmp[0] & 0x18) == 0x10 ? vp_minutes(at->csmp[1]) : 0,
	};
	struct pdu_submit *s = NULL;
	enum pdu_error e;

	if (!from_cscs(at, typed, text, sizeof(text)) || !from_cscs(at, at->cmgs_da, da, sizeof(da)))
		return SIM_CMS_INVALID_TEXT_PARAM;
	e = pdu_encode_submit(da, text, &o, &s);
	if (e != PDU_OK)
		return SIM_CMS_INVALID_TEXT_PARAM;   /* bad number, empty or invalid text */
	/* Text mode sends one SMS: no concatenation, longer text is refused (SIM800 and EC25 alike). */
	if (s->nparts != 1 || strlen(s->parts[0].hex) >= size) {
		pdu_submit_free(s);
		return SIM_CMS_INVALID_TEXT_PARAM;
	}
	snprintf(hex, size, "%s", s->parts[0].hex);
	pdu_submit_free(s);
	return 0;
}

static enum at_status h_cmgs(struct sim_at *at, const struct at_cmd *c, enum at_op op, const char *args,
			     struct evbuffer *out)
{
	char f[AT_ARGS_MAX][AT_ARG_LEN];
	int n;

	if (op == AT_OP_TEST)
		return AT_ST_OK;
	if (sim_cms(at)) {
		at->err = sim_cms(at);
		return AT_ST_CMS;
	}
	if (at->cmgf == 1) {
		/* TS 27.005 3.5.1 text mode: AT+CMGS=<da>[,<toda>]; the text follows the prompt. */
		n = op == AT_OP_SET ? sim_at_split_args(args, f, AT_ARGS_MAX) : -1;
		if (n < 1 || n > 2 || f[0][0] == '\0') {
			at->err = SIM_CMS_INVALID_TEXT_PARAM;
			return AT_ST_CMS;
		}
		snprintf(at->cmgs_da, sizeof(at->cmgs_da), "%s", f[0]);
		at->cmgs_len = 0;
		return AT_ST_PROMPT;
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
	{ "CMGL", h_cmgl, 0 },     { "CMGD", h_cmgd, 0 },
	{ "CMGR", h_cmgr, 0 },     { "CMGS", h_cmgs, 0 },
};
const size_t sim_at_sms_ncmds = sizeof(sim_at_sms_cmds) / sizeof(sim_at_sms_cmds[0]);
