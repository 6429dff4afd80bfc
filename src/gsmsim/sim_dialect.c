/* sim_dialect: the vendor table and the deterministic identities (IMEI, IMSI, ICCID) of simulated modems. */
#include "sim_dialect.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sim_at_int.h"

/*
 * sim800: SIM800 Series AT Command Manual V1.09 (UART modem: a reset keeps the port; "Call Ready" and
 * "SMS Ready" arrive seconds after RDY and drivers that send AT+CMGS before "SMS Ready" get errors).
 * quectel: EC25 AT Commands Manual V1.3 (USB: AT+CFUN=1,1 re-enumerates; +QIND: SMS DONE at boot; the
 * ICCID via AT+QCCID). huawei: E173/E3372 (USB; ^RSSI/^BOOT/^MODE chatter on the command port until
 * AT^CURC=0, written without a space after the colon; ^ICCID answered).
 */
static const struct sim_dialect dialects[] = {
	{
		.name = "sim800",
		.manufacturer = "SIMCOM_Ltd",
		.model = "SIMCOM_SIM800L",
		.revision = "Revision:1418B04SIM800L24",
		.ati = "SIM800 R14.18",
		.imei_tac = "35451001",
		.cscs_default = "IRA",
		.cpms_total = 50,
		.esc_replies_ok = true,
		.cmgs_echo_pdu = true,
		.ccid_prefix = "",
		/* SIM800 fills the optional <alpha> with an empty string: "+CMT: \"\",24"; a driver that
		 * takes "the field after the comma" as the length must cope */
		.pdu_alpha = "\"\"",
		.boot_urcs = "RDY\r\n+CFUN: 1\r\n+CPIN: READY\r\nCall Ready\r\nSMS Ready",
		.sim_removed_urc = "+CPIN: NOT READY",
		.vendor_cmds = sim_at_sim800_cmds,
		.n_vendor_cmds = &sim_at_sim800_ncmds,
	},
	{
		.name = "quectel",
		.manufacturer = "Quectel",
		.model = "EC25",
		.revision = "Revision: EC25EFAR06A06M4G",
		.ati = "Quectel\r\nEC25\r\nRevision: EC25EFAR06A06M4G",
		.imei_tac = "35451002",
		.cscs_default = "GSM",
		.cpms_total = 255,
		.esc_replies_ok = true,
		.cmgs_echo_pdu = true,
		.ccid_prefix = "+CCID: ",
		.pdu_alpha = "",
		.boot_urcs = "RDY\r\n+CFUN: 1\r\n+CPIN: READY\r\n+QIND: SMS DONE\r\n+QIND: PB DONE",
		.reset_reenumerates = true,
		.sim_removed_urc = "+CPIN: NOT READY",
		.has_cereg = true,
		.vendor_cmds = sim_at_quectel_cmds,
		.n_vendor_cmds = &sim_at_quectel_ncmds,
	},
	{
		.name = "huawei",
		.manufacturer = "huawei",
		.model = "E3372",
		.revision = "21.180.01.00.00",
		.ati = "Manufacturer: huawei\r\nModel: E3372\r\nRevision: 21.180.01.00.00",
		.imei_tac = "35451003",
		.cscs_default = "IRA",
		.cpms_total = 100,
		.esc_replies_ok = true,
		.cmgs_echo_pdu = true,
		.ccid_prefix = "",
		.pdu_alpha = "",
		.boot_urcs = "^SYSSTART\r\n^SIMST:1\r\n^SRVST:2",
		.reset_reenumerates = true,
		.chatter_s = 5,
		.chatter = "^BOOT:20272720,0,0,0,72\r\n\r\n^MODE:5,4",
		.rssi_urc = "^RSSI:",
		.sim_removed_urc = "^SIMST:255",
		.has_cereg = true,
		.vendor_cmds = sim_at_huawei_cmds,
		.n_vendor_cmds = &sim_at_huawei_ncmds,
	},
};

#define NDIALECTS (sizeof(dialects) / sizeof(dialects[0]))

const struct sim_dialect *sim_dialect_find(const char *name)
{
	for (size_t i = 0; i < NDIALECTS; i++)
		if (strcasecmp(name, dialects[i].name) == 0)
			return &dialects[i];
	return NULL;
}

const struct sim_dialect *sim_dialect_at(size_t i)
{
	return i < NDIALECTS ? &dialects[i] : NULL;
}

const char *sim_dialect_names(void)
{
	return "sim800|quectel|huawei";
}

char sim_dialect_luhn(const char *digits)
{
	size_t n = strlen(digits);
	unsigned sum = 0;

	/* Double every second digit counting from the right, the rightmost payload digit first. */
	for (size_t i = 0; i < n; i++) {
		unsigned v = (unsigned)(digits[n - 1 - i] - '0');
		if (i % 2 == 0) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return (char)('0' + (10 - sum % 10) % 10);
}

/*
 * A bijection of the index onto [0, modulus) for a fixed seed: 7919 and 104729 are primes that
 * share no factor with powers of ten, so distinct indices give distinct serials (up to 10^6 modems).
 */
static unsigned long serial_of(unsigned index, unsigned seed, unsigned long modulus, unsigned salt)
{
	unsigned long long v = (unsigned long long)index * 7919u + (unsigned long long)seed * 104729u + salt;
	return (unsigned long)(v % modulus);
}

void sim_dialect_identity(const struct sim_dialect *d, unsigned index, unsigned seed,
			  struct sim_identity *out)
{
	char body[24];

	/* TS 23.003 6.2.1: TAC (8) + SNR (6) + check digit computed as Luhn over the 14 digits. */
	snprintf(body, sizeof(body), "%.8s%06lu", d->imei_tac, serial_of(index, seed, 1000000ul, 123456));
	snprintf(out->imei, sizeof(out->imei), "%.14s%c", body, sim_dialect_luhn(body));

	/* MCC 001 / MNC 01 is the 3GPP test network (TS 23.003 / ITU-T E.212), so no real subscriber. */
	snprintf(out->imsi, sizeof(out->imsi), "00101%010lu", serial_of(index, seed, 10000000000ul, 4242));

	/* E.118: "89" telecom + "46" country + "01" issuer + 12-digit account + Luhn = 19 digits. */
	snprintf(body, sizeof(body), "894601%012lu", serial_of(index, seed, 1000000000000ul, 777));
	snprintf(out->iccid, sizeof(out->iccid), "%.18s%c", body, sim_dialect_luhn(body));

	/* +46 70 17406xx is Sweden's range for fiction; beyond 100 modems keep it unique instead. */
	if (index < 100 && seed == 0)
		snprintf(out->msisdn, sizeof(out->msisdn), "+46701740%03u", 600 + index);
	else
		snprintf(out->msisdn, sizeof(out->msisdn), "+4670%07lu", serial_of(index, seed, 10000000ul, 99));
}
