/* cms: what a +CMS ERROR (or +CME ERROR) answering AT+CMGS means for the message and the SIM — a pure
 * table (docs/cms-errors.md gives every row and why). */
#ifndef SIMROUTE_CMS_H
#define SIMROUTE_CMS_H

#include <stdbool.h>

enum cms_class {
	CMS_RETRY_SAME = 0,   /* transient: the message may go again on any SIM, this one included, a bit later */
	CMS_TRY_ANOTHER,      /* this SIM could not send this message now: prefer another SIM; the SIM stays up */
	CMS_COOL_DOWN,        /* this SIM cannot send at all for a while (SIM, subscription, network): rest it */
	CMS_PERMANENT,        /* the message itself is refused (bad PDU, unassigned number): no SIM will do better */
};

/* "retry_same" | "try_another" | "cool_down" | "permanent" */
const char *cms_class_name(enum cms_class c);

/* +CMS ERROR <code>: TS 27.005 3.2.5 (0..127 TS 24.011 E.2 RP-/CP-causes, 128..255 TS 23.040 9.2.3.22
 * TP-FCS, 300..340 and 500 TS 27.005, 512.. manufacturer specific). Any int is accepted; an unknown
 * or negative code is CMS_TRY_ANOTHER. */
enum cms_class cms_classify(int code);
/* Short text ("network out of order"); "unknown error" for a code with no row. Never NULL. */
const char *cms_meaning(int code);
/* The refusal may come after the network took the message (332 network timeout: no RP-ACK arrived in
 * time, yet the SMSC may have the message): a send with its PDU written is then uncertain, not failed. */
bool cms_may_have_sent(int code);

/* The same for +CME ERROR <code> (TS 27.007 9.2), which some firmwares answer AT+CMGS with. */
enum cms_class cme_classify(int code);
const char *cme_meaning(int code);
bool cme_may_have_sent(int code);

#endif
