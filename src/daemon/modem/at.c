/* at: the AT command channel — bytes to lines, one command in flight with a timeout, URCs routed apart.
 *
 * The OpenSMTPD triad: at_io() turns readable bytes into lines (and spots the "> " prompt, which has
 * no line end), at_line() classifies each line exactly by the prefix table below, and at_complete()
 * judges the command and hands an at_reply to its owner, whose state machine sends the next one.
 * A URC is never part of a command's reply and never ends one (Kannel's "any line containing OK
 * ends the command" is the bug this table exists to avoid). */
#include "modem/at.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "simroute/log.h"
#include "simroute/phone.h"

#define AT_LINE_MAX      1024   /* a PDU line is < 400 chars; longer without a newline is garbage */
#define AT_CMD_MAX       256
#define AT_PDU_HEX_MAX   (2 * 200)
#define AT_QUIET_MS      150    /* after ESC: let a modem leaving PDU input finish answering it */
#define AT_DEFAULT_MS    5000
#define AT_ESC           "\x1b"
#define AT_CTRL_Z        "\x1a"

enum at_kind {
	AT_K_OTHER = 0,    /* an intermediate response line (or, with nothing in flight, an unknown URC) */
	AT_K_OK,
	AT_K_ERROR,
	AT_K_CME,
	AT_K_CMS,
	AT_K_URC,          /* always unsolicited */
	AT_K_URC_PDU,      /* unsolicited, and the next line is its PDU (TS 27.005 3.4.1) */
	AT_K_URC_OR_REPLY, /* a reply line if the command in flight queries the same prefix, else a URC */
};

static const struct at_prefix {
	const char *text;
	enum at_kind kind;
	bool exact;        /* the whole line, not a prefix */
} at_prefixes[] = {
	/* final result codes (V.250 5.7, TS 27.007 9.2, TS 27.005 3.2.5) */
	{ "OK", AT_K_OK, true },
	{ "ERROR", AT_K_ERROR, true },
	{ "+CME ERROR:", AT_K_CME, false },
	{ "+CMS ERROR:", AT_K_CMS, false },
	/* Huawei firmwares end unknown commands with these instead of ERROR */
	{ "COMMAND NOT SUPPORT", AT_K_ERROR, true },
	{ "TOO MANY PARAMETERS", AT_K_ERROR, true },
	/* SMS indications (TS 27.005 3.4.1) */
	{ "+CMTI:", AT_K_URC, false },
	{ "+CMT:", AT_K_URC_PDU, false },
	{ "+CDSI:", AT_K_URC, false },
	{ "+CDS:", AT_K_URC_PDU, false },
	{ "+CBM:", AT_K_URC_PDU, false },
	/* network and SIM (TS 27.007 7.2, 10.1.19, 10.1.22, 8.3) — also answers to their queries */
	{ "+CREG:", AT_K_URC_OR_REPLY, false },
	{ "+CGREG:", AT_K_URC_OR_REPLY, false },
	{ "+CEREG:", AT_K_URC_OR_REPLY, false },
	{ "+CPIN:", AT_K_URC_OR_REPLY, false },
	{ "+CFUN:", AT_K_URC_OR_REPLY, false },
	{ "+CUSD:", AT_K_URC_OR_REPLY, false },
	{ "+CIEV:", AT_K_URC, false },
	{ "+CRING:", AT_K_URC, false },
	{ "+CLIP:", AT_K_URC, false },
	{ "+CTZV:", AT_K_URC, false },
	{ "RING", AT_K_URC, true },
	{ "NO CARRIER", AT_K_URC, true },      /* a voice call hung up; we never dial */
	/* Huawei */
	{ "^RSSI:", AT_K_URC, false },
	{ "^HCSQ:", AT_K_URC_OR_REPLY, false },
	{ "^MODE:", AT_K_URC, false },
	{ "^BOOT:", AT_K_URC, false },
	{ "^SRVST:", AT_K_URC, false },
	{ "^SIMST:", AT_K_URC, false },
	{ "^SYSSTART", AT_K_URC, true },
	{ "^DSFLOWRPT:", AT_K_URC, false },
	{ "^RFSWITCH:", AT_K_URC_OR_REPLY, false },
	/* Quectel */
	{ "+QIND:", AT_K_URC, false },
	{ "+QUSIM:", AT_K_URC, false },
	{ "POWERED DOWN", AT_K_URC, true },
	/* SIMCom */
	{ "Call Ready", AT_K_URC, true },
	{ "SMS Ready", AT_K_URC, true },
	{ "RDY", AT_K_URC, true },
	{ "NORMAL POWER DOWN", AT_K_URC, true },
	{ "UNDER-VOLTAGE POWER DOWN", AT_K_URC, true },
	{ "UNDER-VOLTAGE WARNNING", AT_K_URC, true },   /* sic, SIM800 manual */
	{ "OVER-VOLTAGE POWER DOWN", AT_K_URC, true },
	{ "OVER-VOLTAGE WARNNING", AT_K_URC, true },
	{ "*PSUTTZ:", AT_K_URC, false },
	{ "DST:", AT_K_URC, false },
};

enum at_phase {
	AT_PH_IDLE = 0,
	AT_PH_QUIET,       /* at_sync: ESC written, discarding until the quiet timer fires */
	AT_PH_PROMPT,      /* at_command_pdu: command written, waiting for "> " */
	AT_PH_REPLY,       /* waiting for the final result */
};

struct at_chan {
	struct event_base *base;
	int fd;
	char *name;
	at_urc_cb *urc;
	at_fail_cb *fail;
	void *arg;
	struct event *ev_read, *ev_write, *ev_timer, *ev_fail;
	struct evbuffer *out;

	char in[AT_LINE_MAX + 1];
	size_t inlen;
	bool discarding;          /* inside an overlong line: drop bytes until its line end */
	char *urc_head;           /* first line of a two-line URC, waiting for its PDU line */

	/* the command in flight */
	enum at_phase phase;
	char cmd[AT_CMD_MAX];
	char *pdu;
	int timeout_ms;
	int prompt_timeout_ms;    /* at_set_prompt_timeout: the wait for "> " alone (0: timeout_ms) */
	bool pdu_written;
	at_done_cb *done;
	void *done_arg;
	char **lines;
	size_t nlines, cap;

	int io_err;               /* a write failed outside a libevent callback: reported via ev_fail */
	bool failed;              /* fail callback fired (or about to): the port is dead */
	int depth;                /* inside one of our libevent callbacks */
	bool dead;                /* at_free() called; freed when depth drops to 0 */
};

const char *at_result_name(enum at_result r)
{
	static const char *const names[] = { "OK", "ERROR", "CME ERROR", "CMS ERROR", "TIMEOUT", "IO",
					     "CANCELLED" };
	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

/* Lines go to the log as printable ASCII; Ctrl-Z and ESC are spelt out. */
static const char *at_printable(const char *s, char *buf, size_t n)
{
	size_t o = 0;

	for (; *s && o + 4 < n; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == 0x1a) {
			buf[o++] = '^';
			buf[o++] = 'Z';
		} else if (c == 0x1b) {
			memcpy(buf + o, "ESC", 3);
			o += 3;
		} else {
			buf[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
		}
	}
	buf[o] = '\0';
	return buf;
}

/* Commands that carry a secret are logged without it, even at debug. */
static const char *at_loggable_cmd(const char *cmd, char *buf, size_t n)
{
	static const char *const secret[] = { "AT+CPIN=", "AT+CLCK=", "AT+CPWD=", "AT^CPIN=" };

	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
		size_t l = strlen(secret[i]);
		if (strncasecmp(cmd, secret[i], l) == 0) {
			snprintf(buf, n, "%s****", secret[i]);
			return buf;
		}
	}
	return at_printable(cmd, buf, n);
}

static bool at_is_hex(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s))
			return false;
	return true;
}

static const struct at_prefix *at_classify(const char *line)
{
	for (size_t i = 0; i < sizeof(at_prefixes) / sizeof(at_prefixes[0]); i++) {
		const struct at_prefix *p = &at_prefixes[i];
		if (p->exact ? strcmp(line, p->text) == 0 : strncmp(line, p->text, strlen(p->text)) == 0)
			return p;
	}
	return NULL;
}

/* "+CREG: 0,1" answers "AT+CREG?" (or "AT+CREG=?"); with another command in flight it is a URC. */
static bool at_answers_cmd(const struct at_chan *ch, const struct at_prefix *p)
{
	size_t plen = strlen(p->text) - 1;   /* without the ':' */

	if (strncasecmp(ch->cmd, "AT", 2) != 0 || strncasecmp(ch->cmd + 2, p->text, plen) != 0)
		return false;
	return ch->cmd[2 + plen] == '?' || ch->cmd[2 + plen] == '=' || ch->cmd[2 + plen] == '\0';
}

/* "+CME ERROR: 10" -> 10; verbose text ("+CME ERROR: SIM not inserted", CMEE=2) -> -1. */
static int at_error_code(const char *line)
{
	const char *p = strchr(line, ':');
	char *end;
	long v;

	if (!p)
		return -1;
	for (p++; *p == ' '; p++)
		;
	if (!isdigit((unsigned char)*p))
		return -1;
	v = strtol(p, &end, 10);
	while (*end == ' ')
		end++;
	return (*end == '\0' && v <= 65535) ? (int)v : -1;
}

static void at_schedule_fail(struct at_chan *ch, int err);

/* Push the output buffer to the port; what would block waits for EV_WRITE. */
static void at_flush(struct at_chan *ch)
{
	while (!ch->failed && !ch->io_err && evbuffer_get_length(ch->out) > 0) {
		int n = evbuffer_write(ch->out, ch->fd);
		if (n >= 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			event_add(ch->ev_write, NULL);
			return;
		}
		at_schedule_fail(ch, errno);
		return;
	}
	event_del(ch->ev_write);
}

static void at_write(struct at_chan *ch, const char *data, size_t len)
{
	if (ch->failed || ch->io_err)
		return;
	evbuffer_add(ch->out, data, len);
	at_flush(ch);
}

static void at_arm_timer(struct at_chan *ch, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	evtimer_add(ch->ev_timer, &tv);
}

/* End the command in flight and hand its reply to the owner. The owner may start the next command
 * or at_free() us from inside done(): callers check ch->dead afterwards. */
static void at_complete(struct at_chan *ch, enum at_result res, int err)
{
	at_done_cb *done = ch->done;
	void *darg = ch->done_arg;
	char **lines = ch->lines;
	size_t n = ch->nlines;
	struct at_reply r = { .result = res, .err = err, .lines = (const char *const *)lines, .nlines = n,
			      .pdu_written = ch->pdu_written };

	if (res != AT_RES_OK && res != AT_RES_CANCELLED) {
		char b[AT_CMD_MAX + 16];
		log_debug("modem %s: %s -> %s (%d)", ch->name, at_loggable_cmd(ch->cmd, b, sizeof(b)),
			  at_result_name(res), err);
	}
	evtimer_del(ch->ev_timer);
	ch->phase = AT_PH_IDLE;
	ch->lines = NULL;
	ch->nlines = ch->cap = 0;
	free(ch->pdu);
	ch->pdu = NULL;
	ch->pdu_written = false;
	ch->done = NULL;
	ch->done_arg = NULL;
	if (done)
		done(darg, &r);
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

static void at_add_line(struct at_chan *ch, const char *line)
{
	char *copy;

	if (ch->nlines == ch->cap) {
		size_t ncap = ch->cap ? ch->cap * 2 : 8;
		char **nl;
		/* a runaway reply (a modem looping output) must not eat the heap */
		if (ncap > 4096 || !(nl = realloc(ch->lines, ncap * sizeof(*nl)))) {
			log_warnx("modem %s: reply too long, line dropped", ch->name);
			return;
		}
		ch->lines = nl;
		ch->cap = ncap;
	}
	if ((copy = strdup(line)))
		ch->lines[ch->nlines++] = copy;
}

static void at_deliver_urc(struct at_chan *ch, const char *line, const char *pdu)
{
	if (ch->urc)
		ch->urc(ch->arg, line, pdu);
}

/* The port is gone: end the command with AT_RES_IO, then tell the owner once. */
static void at_die(struct at_chan *ch, int err)
{
	if (ch->failed || ch->dead)
		return;
	ch->failed = true;
	event_del(ch->ev_read);
	event_del(ch->ev_write);
	if (err)
		log_warnx("modem %s: port failed: %s", ch->name, strerror(err));
	else
		log_warnx("modem %s: port closed (EOF)", ch->name);
	if (ch->phase != AT_PH_IDLE) {
		at_complete(ch, AT_RES_IO, -1);
		if (ch->dead)
			return;
	}
	if (ch->fail)
		ch->fail(ch->arg, err);
}

static void at_schedule_fail(struct at_chan *ch, int err)
{
	/* We may be inside at_command(), called by the owner: never call it back from there. */
	ch->io_err = err ? err : EIO;
	event_active(ch->ev_fail, 0, 0);
}

static void at_prompt(struct at_chan *ch)
{
	char b[AT_PDU_HEX_MAX + 8];

	if (ch->phase != AT_PH_PROMPT) {
		/* The modem waits for PDU input nobody will type: get it out before it eats a command. */
		log_warnx("modem %s: unexpected \"> \" prompt, sending ESC", ch->name);
		at_write(ch, AT_ESC, 1);
		return;
	}
	log_debug("modem %s: > %s^Z", ch->name, at_printable(ch->pdu, b, sizeof(b)));
	at_write(ch, ch->pdu, strlen(ch->pdu));
	at_write(ch, AT_CTRL_Z, 1);
	ch->pdu_written = true;
	ch->phase = AT_PH_REPLY;
	at_arm_timer(ch, ch->timeout_ms);   /* the network submit gets its own full timeout */
}

static bool at_is_echo(const struct at_chan *ch, const char *line)
{
	size_t l;

	if (strcmp(line, ch->cmd) == 0)
		return true;
	/* with echo on (before ATE0) the PDU comes back followed by Ctrl-Z */
	if (ch->pdu && (l = strlen(ch->pdu)) && strncmp(line, ch->pdu, l) == 0 &&
	    (line[l] == '\0' || (line[l] == 0x1a && line[l + 1] == '\0')))
		return true;
	return false;
}

/* Judge one complete line in the current phase. */
static void at_line(struct at_chan *ch, const char *line)
{
	const struct at_prefix *p;
	char b[AT_LINE_MAX + 8];

	log_debug("modem %s: < %s", ch->name, at_printable(line, b, sizeof(b)));

	if (ch->urc_head) {
		char *head = ch->urc_head;
		ch->urc_head = NULL;
		if (at_is_hex(line)) {
			at_deliver_urc(ch, head, line);
			free(head);
			return;
		}
		char red[sizeof(b)];   /* a text-mode header names the originator */
		log_warnx("modem %s: \"%s\" without its PDU line", ch->name,
			  phone_redact(at_printable(head, b, sizeof(b)), red, sizeof(red)));
		at_deliver_urc(ch, head, NULL);
		free(head);
		if (ch->dead || ch->failed)
			return;
	}

	p = at_classify(line);
	if (p && p->kind == AT_K_URC_PDU) {
		free(ch->urc_head);
		ch->urc_head = strdup(line);
		return;
	}
	if (p && p->kind == AT_K_URC) {
		at_deliver_urc(ch, line, NULL);
		return;
	}
	if (p && p->kind == AT_K_URC_OR_REPLY && !(ch->phase == AT_PH_REPLY && at_answers_cmd(ch, p))) {
		at_deliver_urc(ch, line, NULL);
		return;
	}

	switch (ch->phase) {
	case AT_PH_IDLE:
		if (p)   /* a final result for nobody: a late reply to a timed-out command */
			log_debug("modem %s: stray \"%s\" ignored", ch->name, line);
		else     /* unknown vendor URC, or a late reply line: the owner may care */
			at_deliver_urc(ch, line, NULL);
		return;
	case AT_PH_QUIET:
		return;  /* whatever answers the ESC, or a late reply: nobody's */
	case AT_PH_PROMPT:
	case AT_PH_REPLY:
		break;
	}

	if (at_is_echo(ch, line))
		return;
	if (!p || p->kind == AT_K_URC_OR_REPLY) {
		at_add_line(ch, line);
		return;
	}
	switch (p->kind) {
	case AT_K_OK:
		at_complete(ch, AT_RES_OK, -1);
		break;
	case AT_K_CME:
		at_complete(ch, AT_RES_CME_ERROR, at_error_code(line));
		break;
	case AT_K_CMS:
		at_complete(ch, AT_RES_CMS_ERROR, at_error_code(line));
		break;
	default:
		at_complete(ch, AT_RES_ERROR, -1);
		break;
	}
}

static void at_leave(struct at_chan *ch);

/* EV_READ: bytes -> lines. CR and LF both end a line; empty lines are the framing of V.250 replies. */
static void at_io(evutil_socket_t fd, short what, void *arg)
{
	struct at_chan *ch = arg;
	char buf[4096];
	ssize_t n;

	ch->depth++;
	n = read(fd, buf, sizeof(buf));
	if (n == 0) {
		at_die(ch, 0);
	} else if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			at_die(ch, errno);
	}
	for (ssize_t i = 0; i < n && !ch->dead && !ch->failed; i++) {
		char c = buf[i];
		if (c == '\r' || c == '\n') {
			if (ch->discarding) {
				ch->discarding = false;
			} else if (ch->inlen) {
				ch->in[ch->inlen] = '\0';
				ch->inlen = 0;
				at_line(ch, ch->in);
			}
			continue;
		}
		if (c == '\0' || ch->discarding)
			continue;
		if (ch->inlen == AT_LINE_MAX) {
			log_warnx("modem %s: line longer than %d bytes discarded", ch->name, AT_LINE_MAX);
			ch->discarding = true;
			ch->inlen = 0;
			continue;
		}
		ch->in[ch->inlen++] = c;
		/* TS 27.005 3.5.1: the prompt is CR LF '>' ' ' with no line end after it */
		if (ch->inlen == 2 && ch->in[0] == '>' && ch->in[1] == ' ') {
			ch->inlen = 0;
			at_prompt(ch);
		}
	}
	at_leave(ch);
}

static void at_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct at_chan *ch = arg;

	ch->depth++;
	at_flush(ch);
	at_leave(ch);
}

static void at_on_fail(evutil_socket_t fd, short what, void *arg)
{
	struct at_chan *ch = arg;

	ch->depth++;
	at_die(ch, ch->io_err);
	at_leave(ch);
}

static void at_send_cmd(struct at_chan *ch)
{
	char b[AT_CMD_MAX + 16];

	log_debug("modem %s: > %s", ch->name, at_loggable_cmd(ch->cmd, b, sizeof(b)));
	at_write(ch, ch->cmd, strlen(ch->cmd));
	at_write(ch, "\r", 1);
	ch->phase = ch->pdu ? AT_PH_PROMPT : AT_PH_REPLY;
	/* A modem that swallowed AT+CMGS is known to be stuck after a command's time, not after the
	 * network submit's: the PDU's own, longer wait starts at the prompt. */
	at_arm_timer(ch, ch->pdu && ch->prompt_timeout_ms > 0 && ch->prompt_timeout_ms < ch->timeout_ms
				 ? ch->prompt_timeout_ms : ch->timeout_ms);
}

static void at_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct at_chan *ch = arg;
	char b[AT_CMD_MAX + 16];

	ch->depth++;
	switch (ch->phase) {
	case AT_PH_QUIET:
		at_send_cmd(ch);
		break;
	case AT_PH_PROMPT:
		log_warnx("modem %s: no \"> \" prompt after %s, sending ESC", ch->name,
			  at_loggable_cmd(ch->cmd, b, sizeof(b)));
		at_write(ch, AT_ESC, 1);
		at_complete(ch, AT_RES_TIMEOUT, -1);
		break;
	case AT_PH_REPLY:
		log_warnx("modem %s: %s timed out", ch->name, at_loggable_cmd(ch->cmd, b, sizeof(b)));
		at_complete(ch, AT_RES_TIMEOUT, -1);
		break;
	case AT_PH_IDLE:
		break;
	}
	at_leave(ch);
}

struct at_chan *at_new(struct event_base *base, int fd, const char *name, at_urc_cb *urc, at_fail_cb *fail,
		       void *arg)
{
	struct at_chan *ch = calloc(1, sizeof(*ch));

	if (!ch)
		return NULL;
	ch->base = base;
	ch->fd = fd;
	ch->urc = urc;
	ch->fail = fail;
	ch->arg = arg;
	ch->name = strdup(name ? name : "?");
	ch->out = evbuffer_new();
	ch->ev_read = event_new(base, fd, EV_READ | EV_PERSIST, at_io, ch);
	ch->ev_write = event_new(base, fd, EV_WRITE, at_on_write, ch);
	ch->ev_timer = evtimer_new(base, at_on_timer, ch);
	ch->ev_fail = event_new(base, -1, 0, at_on_fail, ch);
	if (!ch->name || !ch->out || !ch->ev_read || !ch->ev_write || !ch->ev_timer || !ch->ev_fail ||
	    event_add(ch->ev_read, NULL) == -1) {
		ch->dead = true;
		at_leave(ch);
		return NULL;
	}
	return ch;
}

static void at_destroy(struct at_chan *ch)
{
	struct event *evs[] = { ch->ev_read, ch->ev_write, ch->ev_timer, ch->ev_fail };

	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i])
			event_free(evs[i]);
	if (ch->out)
		evbuffer_free(ch->out);
	for (size_t i = 0; i < ch->nlines; i++)
		free(ch->lines[i]);
	free(ch->lines);
	free(ch->pdu);
	free(ch->urc_head);
	free(ch->name);
	free(ch);
}

/* Every libevent callback ends here: a channel freed from inside one is destroyed on the way out. */
static void at_leave(struct at_chan *ch)
{
	if (ch->depth > 0)
		ch->depth--;
	if (ch->dead && ch->depth == 0)
		at_destroy(ch);
}

void at_free(struct at_chan *ch)
{
	if (!ch || ch->dead)
		return;
	ch->dead = true;
	event_del(ch->ev_read);
	event_del(ch->ev_write);
	event_del(ch->ev_timer);
	event_del(ch->ev_fail);
	if (ch->phase != AT_PH_IDLE)
		at_complete(ch, AT_RES_CANCELLED, -1);
	if (ch->depth == 0)
		at_destroy(ch);
}

/* CR ends a command and Ctrl-Z / ESC end or abort PDU input: from a caller's string any of them
 * would let text (a phone number, a message) become a command of its own. */
static bool at_cmd_ok(const char *cmd)
{
	size_t n = 0;

	for (; cmd[n]; n++)
		if ((unsigned char)cmd[n] < 0x20 || (unsigned char)cmd[n] > 0x7e)
			return false;
	return n > 0 && n < AT_CMD_MAX;
}

static int at_start(struct at_chan *ch, const char *cmd, const char *pdu, int timeout_ms, at_done_cb *done,
		    void *arg, bool sync)
{
	if (!ch || ch->dead || ch->failed || ch->io_err || ch->phase != AT_PH_IDLE)
		return -1;
	if (!at_cmd_ok(cmd)) {
		log_warnx("modem %s: command with control or non-ASCII bytes rejected", ch->name);
		return -1;
	}
	if (pdu && (!at_is_hex(pdu) || strlen(pdu) % 2 || strlen(pdu) > AT_PDU_HEX_MAX)) {
		log_warnx("modem %s: PDU is not an even-length hex string, rejected", ch->name);
		return -1;
	}
	if (pdu && !(ch->pdu = strdup(pdu)))
		return -1;
	snprintf(ch->cmd, sizeof(ch->cmd), "%s", cmd);
	ch->timeout_ms = timeout_ms > 0 ? timeout_ms : AT_DEFAULT_MS;
	ch->done = done;
	ch->done_arg = arg;
	ch->pdu_written = false;
	if (sync) {
		log_debug("modem %s: > ESC (resync)", ch->name);
		at_write(ch, AT_ESC, 1);
		ch->phase = AT_PH_QUIET;
		at_arm_timer(ch, ch->timeout_ms < AT_QUIET_MS ? ch->timeout_ms : AT_QUIET_MS);
	} else {
		at_send_cmd(ch);
	}
	return 0;
}

int at_command(struct at_chan *ch, const char *cmd, int timeout_ms, at_done_cb *done, void *arg)
{
	return at_start(ch, cmd, NULL, timeout_ms, done, arg, false);
}

int at_command_pdu(struct at_chan *ch, const char *cmd, const char *pdu_hex, int timeout_ms, at_done_cb *done,
		   void *arg)
{
	if (!pdu_hex)
		return -1;
	return at_start(ch, cmd, pdu_hex, timeout_ms, done, arg, false);
}

int at_sync(struct at_chan *ch, int timeout_ms, at_done_cb *done, void *arg)
{
	return at_start(ch, "AT", NULL, timeout_ms, done, arg, true);
}

int at_resync(struct at_chan *ch)
{
	return at_start(ch, "AT", NULL, AT_DEFAULT_MS, NULL, NULL, true);
}

void at_set_prompt_timeout(struct at_chan *ch, int ms)
{
	if (ch)
		ch->prompt_timeout_ms = ms > 0 ? ms : 0;
}

int at_busy(const struct at_chan *ch)
{
	return ch && ch->phase != AT_PH_IDLE;
}

const char *at_reply_first(const struct at_reply *r)
{
	for (size_t i = 0; i < r->nlines; i++)
		if (r->lines[i][0])
			return r->lines[i];
	return NULL;
}

const char *at_reply_find(const struct at_reply *r, const char *prefix)
{
	size_t l = strlen(prefix);

	for (size_t i = 0; i < r->nlines; i++)
		if (strncmp(r->lines[i], prefix, l) == 0)
			return r->lines[i];
	return NULL;
}

void at_value(char *dst, size_t n, const char *line)
{
	const char *s = line, *colon;
	size_t len;

	if (!n)
		return;
	if (!line) {
		dst[0] = '\0';
		return;
	}
	if ((line[0] == '+' || line[0] == '^') && (colon = strchr(line, ':')))
		s = colon + 1;
	while (*s == ' ' || *s == '"')
		s++;
	len = strlen(s);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '"'))
		len--;
	if (len >= n)
		len = n - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}
