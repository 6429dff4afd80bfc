/* sim_dialect: what makes one simulated modem vendor differ from another, as data (a const table). */
#ifndef GSMSIM_SIM_DIALECT_H
#define GSMSIM_SIM_DIALECT_H

#include <stdbool.h>
#include <stddef.h>

struct at_cmd;

/*
 * One row per vendor. Everything the AT interpreter says that a real modem of that vendor says
 * differently lives here, so adding a quirk is adding a field, not an `if (huawei)`.
 */
struct sim_dialect {
	const char *name;          /* --dialect value */
	const char *manufacturer;  /* AT+CGMI / AT+GMI */
	const char *model;         /* AT+CGMM / AT+GMM */
	const char *revision;      /* AT+CGMR / AT+GMR */
	const char *ati;           /* ATI: lines separated by "\r\n" */
	const char *imei_tac;      /* 8-digit Type Allocation Code the IMEIs start with */
	const char *cscs_default;  /* character set after reset (+CSCS) */
	int cpms_total;            /* SIM message storage size reported by +CPMS */
	bool esc_replies_ok;       /* ESC at the "> " prompt answers OK (SIMCom, Quectel) or nothing */
	bool cmgs_echo_pdu;        /* with echo on, the PDU typed after "> " is echoed too */
	const char *ccid_prefix;   /* put before the ICCID in the AT+CCID answer */
	const char *pdu_alpha;     /* the <alpha> field of PDU-mode +CMT/+CMGR/+CMGL: "" or "\"\"" (SIM800) */
	const char *boot_urcs;     /* unsolicited lines after power-on or reset, "\r\n"-separated */
	bool reset_reenumerates;   /* AT+CFUN=1,1 drops the USB port; it comes back as a new tty */
	double chatter_s;          /* default period of unsolicited status chatter (Huawei ^BOOT); 0 none */
	const char *chatter;       /* the periodic chatter lines ("\r\n\r\n"-separated); the rssi URC follows */
	const char *rssi_urc;      /* prefix of the URC a signal change emits, the rssi follows; NULL none */
	const char *sim_removed_urc;  /* what the modem says when the SIM goes away; NULL nothing */
	bool has_cereg;            /* LTE modems know AT+CEREG (TS 27.007 10.1.22) */
	const struct at_cmd *vendor_cmds;   /* AT^ / AT+Q commands of this vendor */
	const size_t *n_vendor_cmds;
};

const struct sim_dialect *sim_dialect_find(const char *name);
const struct sim_dialect *sim_dialect_at(size_t i);   /* NULL past the end */
/* "sim800|quectel|huawei", for usage messages */
const char *sim_dialect_names(void);

/* Identity of one modem+SIM, deterministic from (modem index, seed) and distinct per index. */
struct sim_identity {
	char imei[16];   /* 15 digits: TAC(8) + serial(6) + Luhn check digit (3GPP TS 23.003 6.2.1) */
	char imsi[16];   /* 15 digits: MCC + MNC + MSIN (TS 23.003 2.2) */
	char iccid[21];  /* 19 digits + Luhn (ITU-T E.118): "89" + country + issuer + serial + check */
	char msisdn[17]; /* "+467..." the SIM's own number, for AT+CNUM */
};

void sim_dialect_identity(const struct sim_dialect *d, unsigned index, unsigned seed,
			  struct sim_identity *out);
/* Luhn check digit ('0'..'9') for the digit string s (ISO/IEC 7812-1). */
char sim_dialect_luhn(const char *digits);

#endif
