/* cms: +CMS ERROR / +CME ERROR codes answering AT+CMGS, classified for the router.
 *
 * One row per code the specifications define; docs/cms-errors.md repeats every row with the reason for
 * its class (keep the two in step: tests/unit/test_cms.c checks the table row by row). Reserved codes
 * fall to a per-range default below. */
#include "simroute/cms.h"

#include <stddef.h>

#define R CMS_RETRY_SAME
#define A CMS_TRY_ANOTHER
#define C CMS_COOL_DOWN
#define P CMS_PERMANENT

struct cms_row {
	int code;
	enum cms_class cls;
	bool may_have_sent;
	const char *meaning;
};

/* Sorted by code. */
static const struct cms_row cms_rows[] = {
	/* TS 24.011 E.2: RP-cause, mobile originating (and E.1 CP-cause where a value is CP-only) */
	{ 1, P, false, "unassigned (unallocated) number" },
	{ 8, C, false, "operator determined barring" },
	{ 10, A, false, "call barred" },
	{ 17, A, false, "network failure" },                       /* CP-cause */
	{ 21, A, false, "short message transfer rejected" },
	{ 22, R, false, "congestion / memory capacity exceeded" }, /* CP-cause congestion; RP 22 is MT only */
	{ 27, R, false, "destination out of service" },
	{ 28, C, false, "unidentified subscriber" },
	{ 29, A, false, "facility rejected" },
	{ 30, C, false, "unknown subscriber" },
	{ 38, C, false, "network out of order" },
	{ 41, R, false, "temporary failure" },
	{ 42, R, false, "congestion" },
	{ 47, R, false, "resources unavailable, unspecified" },
	{ 50, C, false, "requested facility not subscribed" },
	{ 69, A, false, "requested facility not implemented" },
	{ 81, R, false, "invalid short message transfer reference value" },
	{ 95, P, false, "semantically incorrect message" },
	{ 96, P, false, "invalid mandatory information" },
	{ 97, A, false, "message type non-existent or not implemented" },
	{ 98, R, false, "message not compatible with short message protocol state" },
	{ 99, A, false, "information element non-existent or not implemented" },
	{ 111, R, false, "protocol error, unspecified" },
	{ 127, R, false, "interworking, unspecified" },
	/* TS 23.040 9.2.3.22: TP-Failure-Cause */
	{ 128, P, false, "telematic interworking not supported" },
	{ 129, P, false, "short message type 0 not supported" },
	{ 130, P, false, "cannot replace short message" },
	{ 143, P, false, "unspecified TP-PID error" },
	{ 144, P, false, "data coding scheme (alphabet) not supported" },
	{ 145, P, false, "message class not supported" },
	{ 159, P, false, "unspecified TP-DCS error" },
	{ 160, P, false, "command cannot be actioned" },
	{ 161, P, false, "command unsupported" },
	{ 175, P, false, "unspecified TP-Command error" },
	{ 176, P, false, "TPDU not supported" },
	{ 192, R, false, "SC busy" },
	{ 193, C, false, "no SC subscription" },
	{ 194, A, false, "SC system failure" },
	{ 195, P, false, "invalid SME address" },
	{ 196, P, false, "destination SME barred" },
	{ 197, P, false, "SM rejected: duplicate SM" },
	{ 198, P, false, "TP-VPF not supported" },
	{ 199, P, false, "TP-VP not supported" },
	{ 208, A, false, "(U)SIM SMS storage full" },
	{ 209, A, false, "no SMS storage capability in (U)SIM" },
	{ 210, R, false, "error in MS" },
	{ 211, R, false, "memory capacity exceeded" },
	{ 212, R, false, "(U)SIM application toolkit busy" },
	{ 213, R, false, "(U)SIM data download error" },
	{ 255, A, false, "unspecified error cause" },
	/* TS 27.005 3.2.5: errors of the ME/TA itself */
	{ 300, C, false, "ME failure" },
	{ 301, C, false, "SMS service of ME reserved" },
	{ 302, A, false, "operation not allowed" },
	{ 303, C, false, "operation not supported" },
	{ 304, P, false, "invalid PDU mode parameter" },
	{ 305, P, false, "invalid text mode parameter" },
	{ 310, C, false, "(U)SIM not inserted" },
	{ 311, C, false, "(U)SIM PIN required" },
	{ 312, C, false, "PH-(U)SIM PIN required" },
	{ 313, C, false, "(U)SIM failure" },
	{ 314, R, false, "(U)SIM busy" },
	{ 315, C, false, "(U)SIM wrong" },
	{ 316, C, false, "(U)SIM PUK required" },
	{ 317, C, false, "(U)SIM PIN2 required" },
	{ 318, C, false, "(U)SIM PUK2 required" },
	{ 320, A, false, "memory failure" },
	{ 321, A, false, "invalid memory index" },
	{ 322, A, false, "memory full" },
	{ 330, C, false, "SMSC address unknown" },
	{ 331, A, false, "no network service" },
	{ 332, A, true, "network timeout" },
	{ 340, R, false, "no +CNMA acknowledgement expected" },
	{ 500, A, false, "unknown error" },
};

/* TS 27.007 9.2.1: the +CME ERROR codes a firmware may answer AT+CMGS with. */
static const struct cms_row cme_rows[] = {
	{ 0, C, false, "phone failure" },
	{ 3, A, false, "operation not allowed" },
	{ 4, C, false, "operation not supported" },
	{ 5, C, false, "PH-SIM PIN required" },
	{ 10, C, false, "SIM not inserted" },
	{ 11, C, false, "SIM PIN required" },
	{ 12, C, false, "SIM PUK required" },
	{ 13, C, false, "SIM failure" },
	{ 14, R, false, "SIM busy" },
	{ 15, C, false, "SIM wrong" },
	{ 17, C, false, "SIM PIN2 required" },
	{ 18, C, false, "SIM PUK2 required" },
	{ 20, A, false, "memory full" },
	{ 23, A, false, "memory failure" },
	{ 30, A, false, "no network service" },
	{ 31, A, true, "network timeout" },
	{ 32, C, false, "network not allowed, emergency calls only" },
	{ 100, A, false, "unknown" },
};

#undef R
#undef A
#undef C
#undef P

static const struct cms_row *find(const struct cms_row *rows, size_t n, int code)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (rows[mid].code == code)
			return &rows[mid];
		if (rows[mid].code < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

#define CMS_FIND(code) find(cms_rows, sizeof(cms_rows) / sizeof(cms_rows[0]), code)
#define CME_FIND(code) find(cme_rows, sizeof(cme_rows) / sizeof(cme_rows[0]), code)

const char *cms_class_name(enum cms_class c)
{
	static const char *const names[] = { "retry_same", "try_another", "cool_down", "permanent" };

	return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "?";
}

enum cms_class cms_classify(int code)
{
	const struct cms_row *r = CMS_FIND(code);

	if (r)
		return r->cls;
	/* Reserved RP-/CP-cause values: no information beyond "the network said no this time" (as 41). */
	if (code >= 0 && code <= 127)
		return CMS_RETRY_SAME;
	/* Reserved and SC-specific (224..254) TP-FCS values, reserved 256..511, manufacturer 512..: one SIM
	 * failed one message; another SIM is the cheapest thing that may work. */
	return CMS_TRY_ANOTHER;
}

const char *cms_meaning(int code)
{
	const struct cms_row *r = CMS_FIND(code);

	if (r)
		return r->meaning;
	if (code >= 0 && code <= 127)
		return "reserved RP-cause";
	if (code >= 224 && code <= 254)
		return "SC specific error";
	if (code >= 128 && code <= 255)
		return "reserved TP-failure-cause";
	if (code >= 512)
		return "manufacturer specific error";
	return "unknown error";
}

bool cms_may_have_sent(int code)
{
	const struct cms_row *r = CMS_FIND(code);

	return r && r->may_have_sent;
}

enum cms_class cme_classify(int code)
{
	const struct cms_row *r = CME_FIND(code);

	return r ? r->cls : CMS_TRY_ANOTHER;
}

const char *cme_meaning(int code)
{
	const struct cms_row *r = CME_FIND(code);

	return r ? r->meaning : "unknown error";
}

bool cme_may_have_sent(int code)
{
	const struct cms_row *r = CME_FIND(code);

	return r && r->may_have_sent;
}
