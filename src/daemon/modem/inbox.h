/* inbox: a modem's received SMS — +CMTI/+CDSI read with AT+CMGR, +CMT passed up, a periodic AT+CMGL
 * sweep, and AT+CMGD once the scheduler has stored what was read; private to src/daemon/modem/. */
#ifndef SIMROUTED_INBOX_H
#define SIMROUTED_INBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "modem/modem.h"

struct at_reply;
struct inbox;

#define INBOX_SWEEP_MS (180 * 1000)   /* AT+CMGL=4 this often while ready, so a full SIM is emptied */

struct inbox *inbox_new(void);
void inbox_free(struct inbox *ib);

/* modem.c's hooks. The inbox's commands run on the modem's channel only when it is idle and the
 * modem READY, or BUSY with its send not yet started: they go before the next send, never inside one. */
/* A URC: true if it was the inbox's (+CMTI, +CDSI, +CMT with its PDU). */
bool inbox_urc(struct modem *m, const char *line, const char *pdu);
/* Entering READY: from anything but BUSY (start-up, recovery) the SIM is swept. Runs a pending command. */
void inbox_ready(struct modem *m, enum modem_state from);
/* The health timer: a sweep is queued when INBOX_SWEEP_MS have passed since the last. */
void inbox_tick(struct modem *m);
/* Leaving the ready states: forget queued commands (indexes may mean other messages after a reset or
 * a SIM swap; the sweep on the next READY finds whatever is stored). */
void inbox_reset(struct modem *m);
/* Issue the next queued command if the channel and the state allow it; true if one was issued. */
bool inbox_next(struct modem *m);
/* The reply to the inbox's command (m->inflight was CMD_INBOX). */
void inbox_reply(struct modem *m, const struct at_reply *r);

/* Pure parsers (TS 27.005 3.4.1, 3.4.2). "+CMTI: "SM",3" / "+CDSI: "SM",3" -> mem "SM", index 3;
 * "+CMGL: 3,1,,24" -> index 3, stat 1; "+CMGR: 1,,24" -> stat 1. Return 0, or -1 if malformed. */
int inbox_parse_indication(const char *line, char *mem, size_t n, int *index);
int inbox_parse_list(const char *line, int *index, int *stat);
int inbox_parse_read(const char *line, int *stat);

#endif
