/* dialect: modem vendor differences as data — one const struct per family, picked by +CGMI/ATI text. */
#ifndef SIMROUTED_DIALECT_H
#define SIMROUTED_DIALECT_H

#include <stddef.h>

/* What a vendor URC means to the modem state machine (the dialect's event hook). */
enum dialect_event {
	DIALECT_EV_NONE = 0,
	DIALECT_EV_REBOOTED,      /* the modem restarted: our settings (ATE0, CMGF...) are gone */
	DIALECT_EV_SIM_GONE,      /* the SIM was removed or failed */
	DIALECT_EV_RSSI,          /* a signal report; value in 0..31 / 99 (+CSQ scale) */
};

struct dialect {
	const char *name;
	const char *const *match;      /* case-insensitive substrings of +CGMI / ATI text; NULL-terminated */
	const char *const *init;       /* extra init commands, run after the generic ones; NULL-terminated */
	const char *iccid_cmd;         /* reading the SIM's ICCID differs per vendor */
	const char *cnmi;              /* new-message indications (TS 27.005 3.4.1) */
	const char *reset_cmd;         /* soft reset, the second rung of the recovery ladder */
	int command_timeout_ms;        /* 0: the modem's configured default */
	int send_timeout_ms;           /* 0: the modem's configured default */
	int reset_settle_ms;           /* how long a reset takes before the port is worth reopening */
	/* Vendor URCs beyond the generic ones; may be NULL. */
	enum dialect_event (*urc_event)(const char *line, int *value);
};

const struct dialect *dialect_generic(void);
/* How many extra init commands the dialect has. */
int dialect_init_count(const struct dialect *d);
/* By configured name ("sim800"); NULL if unknown. */
const struct dialect *dialect_by_name(const char *name);
/* By identification text (+CGMI, ATI); the generic dialect if nothing matches. */
const struct dialect *dialect_match(const char *ident);
/* Classify a URC: generic codes first, then the dialect's hook. */
enum dialect_event dialect_urc_event(const struct dialect *d, const char *line, int *value);
/* An ICCID from any vendor's reply value (plain, F-padded, or nibble-swapped BCD) as its digits. */
void dialect_iccid_normalise(char *out, size_t n, const char *value);

#endif
