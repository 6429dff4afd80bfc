/* sim_modem: one simulated modem: its pty, the byte stream state machine (command / PDU input / submitting). */
#include "sim_modem.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "simroute/log.h"
#include "simroute/pdu.h"

#include "sim_at.h"
#include "sim_log.h"
#include "sim_pty.h"

#define LINE_MAX_BYTES 4096     /* a longer command line is discarded and answered ERROR */
#define HEX_MAX_CHARS (PDU_HEX_MAX - 1)
#define IN_HIGH_WATER 16384     /* read no more while this much input waits (the modem is busy) */
#define OUT_MAX 65536           /* output nobody reads beyond this is dropped */

#define CTRL_Z 0x1a
#define ESC 0x1b
#define BACKSPACE 0x08

/*
 * command: bytes form CR-terminated AT command lines.
 * pdu_input: after AT+CMGS=<len> and "> ", hex digits until Ctrl-Z (send) or ESC (cancel).
 * submitting: the PDU is "on the network" for the latency; the modem reads nothing (bytes wait in
 *   the pty and in our input buffer) and answers +CMGS when the timer fires.
 */
enum sim_modem_state {
	SIM_MODEM_COMMAND,
	SIM_MODEM_PDU_INPUT,
	SIM_MODEM_SUBMITTING,
};

struct sim_modem {
	char name[16];
	enum sim_modem_state state;
	const struct sim_dialect *dialect;
	struct sim_at *at;
	struct sim_pty *pty;
	struct bufferevent *bev;
	struct event *submit_timer;
	struct timeval latency;
	struct sim_log *sent_log;

	char line[LINE_MAX_BYTES];
	size_t line_len;
	bool line_overflow;
	char last_line[LINE_MAX_BYTES];   /* for A/ */

	char hex[HEX_MAX_CHARS + 1];
	size_t hex_len;
	bool hex_overflow;
	int cmgs_len;

	struct pdu_decoded pending;   /* the PDU being submitted */
	int next_mr;                  /* TP-MR the network will assign next (TS 23.040 9.2.3.6), mod 256 */
	bool warned_output_dropped;
};

static const char *const state_names[] = {
	[SIM_MODEM_COMMAND] = "command",
	[SIM_MODEM_PDU_INPUT] = "pdu-input",
	[SIM_MODEM_SUBMITTING] = "submitting",
};

static const char *sim_modem_state_name(enum sim_modem_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

static void process_input(struct sim_modem *m);

/* The only place ->state changes. Reading is paused exactly while submitting. */
static void sim_modem_enter_state(struct sim_modem *m, enum sim_modem_state next)
{
	static const bool allowed[3][3] = {
		[SIM_MODEM_COMMAND] = { [SIM_MODEM_PDU_INPUT] = true },
		[SIM_MODEM_PDU_INPUT] = { [SIM_MODEM_COMMAND] = true, [SIM_MODEM_SUBMITTING] = true },
		[SIM_MODEM_SUBMITTING] = { [SIM_MODEM_COMMAND] = true },
	};

	if (!allowed[m->state][next]) {
		log_errorx("%s: bad transition %s -> %s", m->name, sim_modem_state_name(m->state),
			   sim_modem_state_name(next));
		return;
	}
	log_debug("%s: %s -> %s", m->name, sim_modem_state_name(m->state), sim_modem_state_name(next));
	m->state = next;
	switch (next) {
	case SIM_MODEM_PDU_INPUT:
		m->hex_len = 0;
		m->hex_overflow = false;
		break;
	case SIM_MODEM_SUBMITTING:
		bufferevent_disable(m->bev, EV_READ);
		evtimer_add(m->submit_timer, &m->latency);
		break;
	case SIM_MODEM_COMMAND:
		bufferevent_enable(m->bev, EV_READ);
		break;
	}
}

/* Every byte the modem says goes out here; at debug level each reply is logged, escaped. */
static void say(struct sim_modem *m, struct evbuffer *reply)
{
	size_t n = evbuffer_get_length(reply);

	if (n == 0)
		return;
	if (log_enabled(LOG_LEVEL_DEBUG)) {
		char esc[512];
		size_t k = 0;
		unsigned char *p = evbuffer_pullup(reply, -1);
		for (size_t i = 0; i < n && k + 5 < sizeof(esc); i++) {
			if (p[i] == '\r')
				k += (size_t)snprintf(esc + k, sizeof(esc) - k, "\\r");
			else if (p[i] == '\n')
				k += (size_t)snprintf(esc + k, sizeof(esc) - k, "\\n");
			else if (isprint(p[i]))
				esc[k++] = (char)p[i];
			else
				k += (size_t)snprintf(esc + k, sizeof(esc) - k, "\\x%02x", p[i]);
		}
		esc[k] = '\0';
		log_debug("%s: -> %s", m->name, esc);
	}
	bufferevent_write_buffer(m->bev, reply);
}

static void say_str(struct sim_modem *m, const char *s)
{
	struct evbuffer *b = evbuffer_new();

	if (!b)
		return;
	evbuffer_add(b, s, strlen(s));
	say(m, b);
	evbuffer_free(b);
}

static void echo_byte(struct sim_modem *m, unsigned char b)
{
	bufferevent_write(m->bev, &b, 1);
}

/* Mask all but the country code and first digits: never a full number in the log above debug. */
static void mask_number(const char *num, char *buf, size_t size)
{
	size_t n = strlen(num);

	snprintf(buf, size, "%s", num);
	for (size_t i = n > 4 ? n - 4 : 0; i < n && i < size - 1; i++)
		buf[i] = '*';
}

static void run_line(struct sim_modem *m)
{
	struct evbuffer *reply = evbuffer_new();
	enum sim_at_result r;
	int len = 0;

	if (!reply)
		return;
	m->line[m->line_len] = '\0';
	log_debug("%s: <- %s", m->name, m->line);
	if (m->line_len > 0 && !m->line_overflow)
		memcpy(m->last_line, m->line, m->line_len + 1);
	if (m->line_overflow) {
		log_warnx("%s: command line longer than %d bytes discarded", m->name, LINE_MAX_BYTES);
		sim_at_final_error(m->at, reply);
		r = SIM_AT_DONE;
	} else {
		r = sim_at_line(m->at, m->line, reply, &len);
	}
	m->line_len = 0;
	m->line_overflow = false;
	if (r == SIM_AT_PROMPT) {
		/* TS 27.005 3.5.1: the prompt is <CR><LF><greater_than><space>. */
		evbuffer_add(reply, "\r\n> ", 4);
		m->cmgs_len = len;
		sim_modem_enter_state(m, SIM_MODEM_PDU_INPUT);
	}
	say(m, reply);
	evbuffer_free(reply);
}

static void cms_error(struct sim_modem *m, int code)
{
	struct evbuffer *reply = evbuffer_new();

	if (!reply)
		return;
	sim_at_final_cms(m->at, code, reply);
	say(m, reply);
	evbuffer_free(reply);
}

/* Ctrl-Z: judge the PDU now; a good one goes "to the network" for the latency. */
static void submit(struct sim_modem *m)
{
	enum pdu_error err;
	int smsc_octets, tpdu_octets, blocked;
	unsigned v;

	m->hex[m->hex_len] = '\0';
	log_debug("%s: <- PDU %s (length %d)", m->name, m->hex, m->cmgs_len);
	if (m->hex_overflow || m->hex_len < 2 || m->hex_len % 2 != 0 || sscanf(m->hex, "%2x", &v) != 1) {
		log_info("%s: AT+CMGS: PDU is not hex octets: +CMS ERROR 304", m->name);
		goto bad;
	}
	/* TS 27.005 3.5.1: <length> counts the TPDU only, not the SMSC address field (1 + its length octet). */
	smsc_octets = 1 + (int)v;
	tpdu_octets = (int)m->hex_len / 2 - smsc_octets;
	if (tpdu_octets != m->cmgs_len) {
		log_info("%s: AT+CMGS=%d but the TPDU has %d octets: +CMS ERROR 304", m->name, m->cmgs_len,
			 tpdu_octets);
		goto bad;
	}
	err = pdu_decode_submit(m->hex, true, &m->pending);
	if (err != PDU_OK) {
		log_info("%s: AT+CMGS: undecodable SUBMIT (%s): +CMS ERROR 304", m->name, pdu_strerror(err));
		goto bad;
	}
	blocked = sim_at_submit_blocked(m->at);
	if (blocked) {
		log_info("%s: AT+CMGS: radio off: +CMS ERROR %d", m->name, blocked);
		cms_error(m, blocked);
		sim_modem_enter_state(m, SIM_MODEM_COMMAND);
		return;
	}
	sim_modem_enter_state(m, SIM_MODEM_SUBMITTING);
	return;
bad:
	cms_error(m, SIM_CMS_INVALID_PDU_PARAM);
	sim_modem_enter_state(m, SIM_MODEM_COMMAND);
}

static void on_submitted(evutil_socket_t fd, short what, void *arg)
{
	struct sim_modem *m = arg;
	char masked[64], reply[48];
	int mr = m->next_mr;

	m->next_mr = (m->next_mr + 1) & 0xff;
	/* The record is on disk before +CMGS leaves, so whoever saw +CMGS finds the line. */
	sim_log_sent(m->sent_log, m->name, sim_at_identity(m->at), m->hex, &m->pending, mr);
	mask_number(m->pending.addr, masked, sizeof(masked));
	log_info("%s: SMS to %s submitted, mr %d (%s%s)", m->name, masked, mr,
		 pdu_encoding_name(m->pending.encoding), m->pending.concat.present ? ", part of a set" : "");
	snprintf(reply, sizeof(reply), "\r\n+CMGS: %d\r\n\r\nOK\r\n", mr);
	say_str(m, reply);
	sim_modem_enter_state(m, SIM_MODEM_COMMAND);
	process_input(m);
}

static void feed_command(struct sim_modem *m, unsigned char b)
{
	/* ESC and Ctrl-Z outside a PDU are what a driver sends to get out of a stuck prompt: no-ops. */
	if (b == ESC || b == CTRL_Z || b == '\0')
		return;
	if (sim_at_echo(m->at))
		echo_byte(m, b);
	if (b == '\r') {               /* S3 */
		run_line(m);
	} else if (b == '\n') {        /* a driver's CR LF: the LF is not part of the next line */
		return;
	} else if (b == '/' && m->line_len == 1 && (m->line[0] == 'A' || m->line[0] == 'a')) {
		/* V.250 5.2.4: "A/" repeats the previous command line at once, no CR needed. */
		size_t n = strlen(m->last_line);
		memcpy(m->line, m->last_line, n);
		m->line_len = n;
		run_line(m);
	} else if (b == BACKSPACE) {   /* S5 */
		if (m->line_len > 0)
			m->line_len--;
	} else if (m->line_len < LINE_MAX_BYTES - 1) {
		m->line[m->line_len++] = (char)b;
	} else {
		m->line_overflow = true;
	}
}

static void feed_pdu(struct sim_modem *m, unsigned char b)
{
	if (b == CTRL_Z) {
		submit(m);
		return;
	}
	if (b == ESC) {
		log_debug("%s: <- ESC: AT+CMGS cancelled", m->name);
		if (m->dialect->esc_replies_ok)
			say_str(m, "\r\nOK\r\n");
		sim_modem_enter_state(m, SIM_MODEM_COMMAND);
		return;
	}
	if (sim_at_echo(m->at) && m->dialect->cmgs_echo_pdu)
		echo_byte(m, b);
	if (b == '\r' || b == '\n')
		return;   /* some drivers end the PDU line before the Ctrl-Z */
	if (m->hex_len < HEX_MAX_CHARS)
		m->hex[m->hex_len++] = (char)b;
	else
		m->hex_overflow = true;
}

/* Consume buffered input until it is gone or the modem turns busy (the rest waits for the answer). */
static void process_input(struct sim_modem *m)
{
	struct evbuffer *in = bufferevent_get_input(m->bev);

	while (m->state != SIM_MODEM_SUBMITTING && evbuffer_get_length(in) > 0) {
		size_t len = evbuffer_get_contiguous_space(in), used = 0;
		unsigned char *p = evbuffer_pullup(in, (ev_ssize_t)len);

		while (used < len && m->state != SIM_MODEM_SUBMITTING) {
			unsigned char b = p[used++];
			if (m->state == SIM_MODEM_COMMAND)
				feed_command(m, b);
			else
				feed_pdu(m, b);
		}
		evbuffer_drain(in, used);
	}
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct sim_modem *m = arg;
	struct evbuffer *out = bufferevent_get_output(bev);
	size_t pending = evbuffer_get_length(out);

	/* Nobody has read our replies for a long time: a real modem's buffer would have overflowed too. */
	if (pending > OUT_MAX) {
		if (!m->warned_output_dropped)
			log_warnx("%s: nobody reads the port: dropping %zu bytes of output", m->name, pending);
		m->warned_output_dropped = true;
		evbuffer_drain(out, pending);
	}
	process_input(m);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct sim_modem *m = arg;

	/* With our own slave fd open the master should never see EOF/EIO; log it and keep going. */
	log_warn("%s: pty event 0x%x", m->name, what);
	if (m->state != SIM_MODEM_SUBMITTING)
		bufferevent_enable(bev, EV_READ);
}

struct sim_modem *sim_modem_new(struct event_base *base, const struct sim_modem_config *cfg)
{
	struct sim_modem *m = calloc(1, sizeof(*m));
	struct sim_identity id;
	char link[PATH_MAX];

	if (!m)
		return NULL;
	snprintf(m->name, sizeof(m->name), "modem%u", cfg->index);
	m->state = SIM_MODEM_COMMAND;
	m->dialect = cfg->dialect;
	m->latency = cfg->latency;
	m->sent_log = cfg->sent_log;
	sim_dialect_identity(cfg->dialect, cfg->index, cfg->seed, &id);
	m->at = sim_at_new(m->name, cfg->dialect, &id);
	snprintf(link, sizeof(link), "%s/%s", cfg->rundir, m->name);
	m->pty = sim_pty_open(link);
	if (!m->at || !m->pty)
		goto fail;
	m->bev = bufferevent_socket_new(base, sim_pty_master_fd(m->pty), 0);
	m->submit_timer = evtimer_new(base, on_submitted, m);
	if (!m->bev || !m->submit_timer)
		goto fail;
	bufferevent_setcb(m->bev, on_read, NULL, on_event, m);
	bufferevent_setwatermark(m->bev, EV_READ, 0, IN_HIGH_WATER);
	bufferevent_enable(m->bev, EV_READ | EV_WRITE);
	log_debug("%s: %s, IMEI %s, ICCID %s on %s", m->name, cfg->dialect->name, id.imei, id.iccid,
		  sim_pty_slave_name(m->pty));
	return m;
fail:
	log_warnx("%s: cannot set up", m->name);
	sim_modem_free(m);
	return NULL;
}

void sim_modem_free(struct sim_modem *m)
{
	if (!m)
		return;
	if (m->submit_timer)
		event_free(m->submit_timer);
	if (m->bev)
		bufferevent_free(m->bev);
	sim_pty_close(m->pty);
	sim_at_free(m->at);
	free(m);
}

const char *sim_modem_name(const struct sim_modem *m) { return m->name; }
const char *sim_modem_tty(const struct sim_modem *m) { return sim_pty_slave_name(m->pty); }
