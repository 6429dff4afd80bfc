/* scheduler_inbound: the scheduler's side of received PDUs — inbound SMS into the store, and status
 * reports matched to sent parts (private to queue/scheduler*.c). */
#ifndef SIMROUTED_SCHEDULER_INBOUND_H
#define SIMROUTED_SCHEDULER_INBOUND_H

#include <stdbool.h>
#include <stdint.h>

struct modem;
struct scheduler;

/* How far back a status report's TP-MR is looked for: reports can take days (TS 23.040 validity
 * periods), and the 8-bit reference wraps every 256 parts per SIM, so the newest use wins. */
#define SCHEDULER_REPORT_WINDOW_MS (3LL * 24 * 3600 * 1000)

/* modem_events.inbound (arg = the scheduler): true once the PDU is stored or known to be garbage. */
bool scheduler_inbound_event(void *arg, struct modem *m, const char *pdu_hex, int index);
/* modem_events.status_report: a +CDS routed to us. */
void scheduler_status_report_event(void *arg, struct modem *m, const char *pdu_hex);
/* A message just became `sent`: reports for its earlier parts may have come in while it was still
 * sending; apply them now (only for messages that asked for reports). */
void scheduler_reports_settle(struct scheduler *s, int64_t id, const char *route);

#endif
