/* at: the AT command channel — bytes to lines, one command in flight with a timeout, URCs routed apart. */
#ifndef SIMROUTED_AT_H
#define SIMROUTED_AT_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct at_chan;

enum at_result {
	AT_RES_OK = 0,
	AT_RES_ERROR,          /* plain ERROR */
	AT_RES_CME_ERROR,      /* +CME ERROR: <n>   (code in err) */
	AT_RES_CMS_ERROR,      /* +CMS ERROR: <n>   (code in err) */
	AT_RES_TIMEOUT,        /* no final result within the command's timeout */
	AT_RES_IO,             /* the port failed or went away */
	AT_RES_CANCELLED,      /* at_free() or at_abort() while in flight */
};
const char *at_result_name(enum at_result r);

/* A finished command: intermediate response lines (echo and URCs removed), final result. */
struct at_reply {
	enum at_result result;
	int err;               /* CME/CMS code, -1 if none or verbose text that did not map */
	const char *const *lines;
	size_t nlines;
	bool pdu_written;      /* at_command_pdu: the PDU and Ctrl-Z were queued to the port (it may have gone out) */
};
typedef void at_done_cb(void *arg, const struct at_reply *reply);

/* Unsolicited result codes. For two-line URCs (+CMT, +CDS) `pdu` is the second line, else NULL. */
typedef void at_urc_cb(void *arg, const char *line, const char *pdu);
/* The port is dead (EOF, EIO after unplug): the owner must at_free() and reopen later. Fires once, after
 * a command in flight has completed with AT_RES_IO (and not at all if that done() freed the channel). */
typedef void at_fail_cb(void *arg, int err);

/* Takes a non-blocking fd it watches but does not own. `name` is used in logs. */
struct at_chan *at_new(struct event_base *base, int fd, const char *name, at_urc_cb *urc, at_fail_cb *fail,
		       void *arg);
/* A command in flight completes with AT_RES_CANCELLED from inside at_free(). Safe inside callbacks. */
void at_free(struct at_chan *ch);

/* Send "cmd\r" and collect the reply. One command at a time: returns -1 if one is in flight.
 * Commands must be printable ASCII: CR, LF, Ctrl-Z, ESC or any other control/8-bit byte -> -1.
 * timeout_ms <= 0: 5000. done() may start the next command or at_free() the channel. */
int at_command(struct at_chan *ch, const char *cmd, int timeout_ms, at_done_cb *done, void *arg);

/* "AT+CMGS=<len>\r", wait for "> ", write hex PDU and Ctrl-Z, collect "+CMGS: <mr>" and the final result.
 * If the prompt never comes, ESC is sent so the modem leaves PDU input. pdu_hex must be an even number
 * of hex digits (else -1). timeout_ms applies to the prompt wait and again, in full, after the PDU. */
int at_command_pdu(struct at_chan *ch, const char *cmd, const char *pdu_hex, int timeout_ms, at_done_cb *done,
		   void *arg);

/* Write ESC then "AT\r" without a callback, to bring a modem left in PDU input back to command mode.
 * Occupies the channel like a command (returns -1 if one is in flight). */
int at_resync(struct at_chan *ch);

/* Like at_resync() with a callback: write ESC, discard whatever the modem says during a short quiet
 * period (a modem leaving PDU input may answer the ESC), then send "AT" and report its result.
 * This is the only safe first command on a port whose state is unknown. */
int at_sync(struct at_chan *ch, int timeout_ms, at_done_cb *done, void *arg);

int at_busy(const struct at_chan *ch);
/* How long at_command_pdu waits for the "> " prompt (0: its whole timeout); the timeout passed to
 * at_command_pdu then runs from the prompt, for the PDU and the network submit. */
void at_set_prompt_timeout(struct at_chan *ch, int ms);

/* Reply helpers for done callbacks. at_reply_first: the first non-empty line; at_reply_find: the first
 * line starting with `prefix` ("+CSQ:"); both NULL if none. at_value: a line's value without its
 * "+X:"/"^X:" label, surrounding spaces and quotes, truncated to dst (NULL line: ""). */
const char *at_reply_first(const struct at_reply *r);
const char *at_reply_find(const struct at_reply *r, const char *prefix);
void at_value(char *dst, size_t n, const char *line);

#endif
