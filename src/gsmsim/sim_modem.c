/* sim_modem: one simulated modem's byte stream: the state machine of command lines, PDU input and
 * submission, with the faults that hit a command (no answer, late answer, line noise, hang, +CMS ERROR). */
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
#include "sim_modem_int.h"

#define OUT_MAX 65536           /* output nobody reads beyond this is dropped */

#define CTRL_Z 0x1a
#define ESC 0x1b
#define BACKSPACE 0x08

static const char *const state_names[] = {
	[SIM_MODEM_COMMAND] = "command",
	[SIM_MODEM_PDU_INPUT] = "pdu-input",
	[SIM_MODEM_SUBMITTING] = "submitting",
	[SIM_MODEM_BUSY] = "busy",
	[SIM_MODEM_HUNG] = "hung",
	[SIM_MODEM_BOOTING] = "booting",
	[SIM_MODEM_ABSENT] = "absent",
};

const char *sim_modem_state_name(enum sim_modem_state s)
{
	return (unsigned)s < SIM_MODEM_NSTATES ? state_names[s] : "?";
}

static void process_input(struct sim_modem *m);

static struct timeval tv_of(double s)
{
	struct timeval tv;

	if (s < 0)
		s = 0;
	tv.tv_sec = (time_t)s;
	tv.tv_usec = (suseconds_t)((s - (double)tv.tv_sec) * 1e6);
	return tv;
}

double sim_modem_latency(struct sim_modem *m)
{
	return m->faults.latency + m->faults.jitter * sim_fault_uniform(&m->rng);
}

/*
 * The only place ->state changes. The state's one timer is cancelled on every move and armed by the
 * state that needs it; reading is paused exactly while submitting or busy (the bytes wait, as they do
 * in a real modem's UART buffer), and discarded while hung or booting.
 */
void sim_modem_enter_state(struct sim_modem *m, enum sim_modem_state next)
{
#define S(x) (1u << SIM_MODEM_##x)
	static const unsigned allowed[SIM_MODEM_NSTATES] = {
		[SIM_MODEM_COMMAND] = S(PDU_INPUT) | S(BUSY) | S(BOOTING) | S(ABSENT),
		[SIM_MODEM_PDU_INPUT] = S(COMMAND) | S(SUBMITTING) | S(HUNG) | S(BOOTING) | S(ABSENT),
		[SIM_MODEM_SUBMITTING] = S(COMMAND) | S(BOOTING) | S(ABSENT),
		[SIM_MODEM_BUSY] = S(COMMAND) | S(BOOTING) | S(ABSENT),
		[SIM_MODEM_HUNG] = S(BOOTING) | S(ABSENT),
		[SIM_MODEM_BOOTING] = S(COMMAND) | S(BOOTING) | S(ABSENT),
		[SIM_MODEM_ABSENT] = S(COMMAND) | S(BOOTING),
	};
#undef S
	struct timeval tv;

	if (!(allowed[m->state] & (1u << next))) {
		log_errorx("%s: bad transition %s -> %s", m->name, sim_modem_state_name(m->state),
			   sim_modem_state_name(next));
		return;
	}
	log_debug("%s: %s -> %s", m->name, sim_modem_state_name(m->state), sim_modem_state_name(next));
	m->state = next;
	evtimer_del(m->timer);
	if (m->bev && (next == SIM_MODEM_SUBMITTING || next == SIM_MODEM_BUSY))
		bufferevent_disable(m->bev, EV_READ);
	else if (m->bev)
		bufferevent_enable(m->bev, EV_READ);
	switch (next) {
	case SIM_MODEM_PDU_INPUT:
		m->hex_len = 0;
		m->hex_overflow = false;
		break;
	case SIM_MODEM_SUBMITTING:
		tv = tv_of(sim_modem_latency(m));
		evtimer_add(m->timer, &tv);
		break;
	case SIM_MODEM_BUSY:
		tv = tv_of(m->faults.late_s);
		evtimer_add(m->timer, &tv);
		break;
	case SIM_MODEM_HUNG:
		if (m->faults.hang_s > 0) {
			tv = tv_of(m->faults.hang_s);
			evtimer_add(m->timer, &tv);
		}
		break;
	case SIM_MODEM_BOOTING:
		/* a short pause first, so the OK of AT+CFUN=1,1 leaves before the port goes */
		tv = tv_of(m->dialect->reset_reenumerates && m->bev ? 0.05 : m->faults.boot_s);
		evtimer_add(m->timer, &tv);
		break;
	case SIM_MODEM_ABSENT:
		if (m->replug_after_timer) {
			tv = tv_of(m->faults.boot_s);
			evtimer_add(m->timer, &tv);
		}
		break;
	case SIM_MODEM_COMMAND:
	case SIM_MODEM_NSTATES:
		break;
	}
}

void sim_modem_event(struct sim_modem *m, const char *event, json_t *fields)
{
	log_info("%s: %s", m->name, event);
	sim_log_event(m->event_log, m->name, event, fields);
}

/* Every byte the modem says goes out here; at debug level each reply is logged, escaped. */
void sim_modem_say(struct sim_modem *m, struct evbuffer *reply)
{
	size_t n = evbuffer_get_length(reply);
	struct evbuffer *out;

	if (n == 0)
		return;
	if (!m->bev) {
		evbuffer_drain(reply, n);
		return;
	}
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
	/* Nobody has read our output for a long time: a real modem's buffer would have overflowed too. */
	out = bufferevent_get_output(m->bev);
	if (evbuffer_get_length(out) > OUT_MAX) {
		if (!m->warned_output_dropped)
			log_warnx("%s: nobody reads the port: dropping output", m->name);
		m->warned_output_dropped = true;
		evbuffer_drain(out, evbuffer_get_length(out));
	}
	bufferevent_write_buffer(m->bev, reply);
}

static void say_str(struct sim_modem *m, const char *s)
{
	struct evbuffer *b = evbuffer_new();

	if (!b)
		return;
	evbuffer_add(b, s, strlen(s));
	sim_modem_say(m, b);
	evbuffer_free(b);
}

void sim_modem_flush_urc(struct sim_modem *m, bool mid_cmgs)
{
	struct evbuffer *urc = sim_at_urc(m->at);

	if (evbuffer_get_length(urc) == 0 || !m->bev)
		return;
	if (m->state == SIM_MODEM_COMMAND && m->line_len == 0) {
		sim_modem_say(m, urc);
	} else if (mid_cmgs && (m->state == SIM_MODEM_PDU_INPUT || m->state == SIM_MODEM_SUBMITTING) &&
		   sim_fault_roll(&m->rng, m->faults.urc_cmgs_p)) {
		/* Real modems do this: a +CMTI between "> " and +CMGS. A driver must not take it as the answer. */
		sim_modem_event(m, "urc_in_cmgs", json_pack("{s:s}", "state", sim_modem_state_name(m->state)));
		sim_modem_say(m, urc);
	}
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

/* A one-shot armed by "fault N ..." wins; else the probability decides. */
static bool fault_hits(struct sim_modem *m, int *armed, double p)
{
	if (*armed > 0) {
		(*armed)--;
		return true;
	}
	return sim_fault_roll(&m->rng, p);
}

void sim_modem_add_garbage(struct sim_modem *m, struct evbuffer *out)
{
	int n = 4 + (int)(sim_fault_uniform(&m->rng) * 24);

	/* line noise: high bytes and control characters, never a CR LF that would make it a line */
	for (int i = 0; i < n; i++) {
		unsigned char b = (unsigned char)(sim_fault_uniform(&m->rng) * 256);
		if (b == '\r' || b == '\n')
			b = 0xff;
		evbuffer_add(out, &b, 1);
	}
	m->count.garbage++;
	sim_modem_event(m, "garbage", json_pack("{s:i}", "bytes", n));
}

/*
 * What naive drivers trip over: an unsolicited line between a command's information text and its
 * final result ("+CSQ: 20,0", "^RSSI:20", "OK"), as Huawei sticks do. The URC queue goes in if it has
 * anything; else the dialect's signal URC is made up for the occasion.
 */
static void interleave_urc(struct sim_modem *m, struct evbuffer *reply)
{
	struct evbuffer *urc = sim_at_urc(m->at), *out;
	size_t n = evbuffer_get_length(reply), cut;
	const char *p;

	if (n < 4 || (evbuffer_get_length(urc) == 0 && !m->dialect->rssi_urc))
		return;
	/* the final result code is the last "\r\n<code>\r\n" */
	p = (const char *)evbuffer_pullup(reply, -1);
	for (cut = n - 3; cut > 0 && !(p[cut] == '\r' && p[cut + 1] == '\n'); cut--)
		;
	out = evbuffer_new();
	if (!out)
		return;
	evbuffer_add(out, p, cut);
	if (evbuffer_get_length(urc) > 0)
		evbuffer_add_buffer(out, urc);
	else
		evbuffer_add_printf(out, "\r\n%s%d\r\n", m->dialect->rssi_urc, sim_at_signal(m->at));
	evbuffer_add(out, p + cut, n - cut);
	evbuffer_drain(reply, n);
	evbuffer_add_buffer(reply, out);
	evbuffer_free(out);
	sim_modem_event(m, "urc_interleaved", json_pack("{s:s}", "command", m->last_line));
}

static void run_line(struct sim_modem *m)
{
	struct evbuffer *reply;
	enum sim_at_result r;
	int len = 0;

	m->line[m->line_len] = '\0';
	log_debug("%s: <- %s", m->name, m->line);
	if (m->line_len > 0 && !m->line_overflow)
		memcpy(m->last_line, m->line, m->line_len + 1);
	if (m->line_len > 0 && !m->line_overflow &&
	    fault_hits(m, &m->faults.next_noanswer, m->faults.noanswer_p)) {
		m->count.noanswer++;
		sim_modem_event(m, "noanswer", json_pack("{s:s}", "command", m->line));
		m->line_len = 0;
		return;
	}
	reply = evbuffer_new();
	if (!reply)
		return;
	if (m->line_len > 0 && fault_hits(m, &m->faults.next_garbage, m->faults.garbage_p))
		sim_modem_add_garbage(m, reply);
	if (m->line_overflow) {
		log_warnx("%s: command line longer than %d bytes discarded", m->name, LINE_MAX_BYTES);
		sim_at_final_error(m->at, reply);
		r = SIM_AT_DONE;
	} else {
		r = sim_at_line(m->at, m->line, reply, &len);
	}
	m->line_len = 0;
	m->line_overflow = false;
	switch (r) {
	case SIM_AT_PROMPT:
		/* TS 27.005 3.5.1: the prompt is <CR><LF><greater_than><space>. */
		evbuffer_add(reply, "\r\n> ", 4);
		m->cmgs_len = len;
		sim_modem_enter_state(m, SIM_MODEM_PDU_INPUT);
		sim_modem_say(m, reply);
		sim_modem_flush_urc(m, true);
		break;
	case SIM_AT_REBOOT:
		sim_modem_say(m, reply);
		sim_modem_start_reboot(m, "AT+CFUN=1,1");
		break;
	case SIM_AT_DONE:
		if (evbuffer_get_length(reply) > 0 && sim_fault_roll(&m->rng, m->faults.urc_interleave_p))
			interleave_urc(m, reply);
		if (evbuffer_get_length(reply) > 0 && fault_hits(m, &m->faults.next_late, m->faults.late_p)) {
			m->count.late++;
			sim_modem_event(m, "late", json_pack("{s:s, s:f}", "command", m->last_line, "delay",
							     m->faults.late_s));
			evbuffer_add_buffer(m->held, reply);
			sim_modem_enter_state(m, SIM_MODEM_BUSY);
			break;
		}
		sim_modem_say(m, reply);
		break;
	}
	evbuffer_free(reply);
	if (m->state == SIM_MODEM_COMMAND && !TAILQ_EMPTY(&m->inbound))
		sim_modem_deliver_pending(m);   /* AT+CMGD may have made room */
	sim_modem_update_timers(m, false);    /* AT^CURC may have switched the chatter */
}

static void cms_error(struct sim_modem *m, int code)
{
	struct evbuffer *reply = evbuffer_new();

	if (!reply)
		return;
	sim_at_final_cms(m->at, code, reply);
	sim_modem_say(m, reply);
	evbuffer_free(reply);
}

/* Ctrl-Z: judge the PDU now; a good one goes "to the network" for the latency. */
static void submit(struct sim_modem *m)
{
	enum pdu_error err;
	int smsc_octets, tpdu_octets, blocked;
	unsigned v;

	m->hex[m->hex_len] = '\0';
	if (m->cmgs_len == 0) {
		/* text mode: the modem builds the PDU itself; from here on it is the same submission */
		char built[PDU_HEX_MAX];
		int cms = m->hex_overflow ? SIM_CMS_INVALID_TEXT_PARAM
					  : sim_at_text_submit(m->at, m->hex, built, sizeof(built));
		log_debug("%s: <- text (%zu bytes)", m->name, m->hex_len);
		if (cms) {
			log_info("%s: AT+CMGS (text mode): +CMS ERROR %d", m->name, cms);
			cms_error(m, cms);
			sim_modem_enter_state(m, SIM_MODEM_COMMAND);
			return;
		}
		m->hex_len = strlen(built);
		memcpy(m->hex, built, m->hex_len + 1);
		if (pdu_decode_submit(m->hex, true, &m->pending) != PDU_OK)
			goto bad;
		goto decoded;
	}
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
decoded:
	blocked = sim_at_submit_blocked(m->at);
	if (blocked) {
		log_info("%s: AT+CMGS: not registered: +CMS ERROR %d", m->name, blocked);
		cms_error(m, blocked);
		sim_modem_enter_state(m, SIM_MODEM_COMMAND);
		return;
	}
	if (fault_hits(m, &m->faults.next_hang, m->faults.hang_p)) {
		m->count.hangs++;
		sim_modem_event(m, "hang", json_pack("{s:s}", "to", m->pending.addr));
		sim_modem_enter_state(m, SIM_MODEM_HUNG);
		return;
	}
	m->submit_cms = 0;
	if (m->faults.next_cms > 0) {
		m->submit_cms = m->faults.next_cms;
		m->faults.next_cms = 0;
	} else if (m->faults.n_cms_codes > 0 && sim_fault_roll(&m->rng, m->faults.cms_p)) {
		m->submit_cms = m->faults.cms_codes[(int)(sim_fault_uniform(&m->rng) * m->faults.n_cms_codes)];
	}
	sim_modem_enter_state(m, SIM_MODEM_SUBMITTING);
	return;
bad:
	cms_error(m, SIM_CMS_INVALID_PDU_PARAM);
	sim_modem_enter_state(m, SIM_MODEM_COMMAND);
}

static void on_submitted(struct sim_modem *m)
{
	char masked[64], reply[48];
	int mr = m->next_mr;

	if (m->submit_cms) {
		/* The network refused it (RP-ERROR): the modem reports the cause; nothing was sent. */
		m->count.cms_errors++;
		sim_modem_event(m, "cms_error", json_pack("{s:i, s:s}", "code", m->submit_cms, "to", m->pending.addr));
		cms_error(m, m->submit_cms);
		sim_modem_enter_state(m, SIM_MODEM_COMMAND);
		return;
	}
	m->next_mr = (m->next_mr + 1) & 0xff;
	snprintf(m->mr_to[mr], sizeof(m->mr_to[mr]), "%.23s", m->pending.addr);
	/* The record is on disk before +CMGS leaves, so whoever saw +CMGS finds the line. */
	sim_log_sent(m->sent_log, m->name, sim_at_identity(m->at), m->hex, &m->pending, mr);
	m->count.sent++;
	mask_number(m->pending.addr, masked, sizeof(masked));
	log_info("%s: SMS to %s submitted, mr %d (%s%s)", m->name, masked, mr,
		 pdu_encoding_name(m->pending.encoding), m->pending.concat.present ? ", part of a set" : "");
	snprintf(reply, sizeof(reply), "\r\n+CMGS: %d\r\n\r\nOK\r\n", mr);
	say_str(m, reply);
	sim_modem_enter_state(m, SIM_MODEM_COMMAND);
	sim_modem_submitted(m, mr);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sim_modem *m = arg;
	char err[128];

	switch (m->state) {
	case SIM_MODEM_SUBMITTING:
		on_submitted(m);
		break;
	case SIM_MODEM_BUSY:
		sim_modem_say(m, m->held);
		sim_modem_enter_state(m, SIM_MODEM_COMMAND);
		break;
	case SIM_MODEM_HUNG:
		sim_modem_start_reboot(m, "hang watchdog");
		return;
	case SIM_MODEM_BOOTING:
		if (m->dialect->reset_reenumerates && m->bev) {
			/* USB modems drop off the bus while they reset and come back as a new tty. */
			sim_modem_close_port(m);
			m->replug_after_timer = true;
			sim_modem_enter_state(m, SIM_MODEM_ABSENT);
		} else {
			sim_modem_boot_done(m);
		}
		return;
	case SIM_MODEM_ABSENT:
		m->replug_after_timer = false;
		if (sim_modem_replug(m, false, err, sizeof(err)) < 0)
			log_warnx("%s: replug: %s", m->name, err);
		return;
	default:
		return;
	}
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
	if (m->cmgs_len == 0 && b == '\r') {
		/* text mode: a CR is a line break in the text, and TS 27.005 3.5.1 prompts again */
		say_str(m, "\r\n> ");
		b = '\n';
	} else if (b == '\r' || b == '\n') {
		return;   /* some drivers end the PDU line before the Ctrl-Z */
	}
	if (m->hex_len < HEX_MAX_CHARS)
		m->hex[m->hex_len++] = (char)b;
	else
		m->hex_overflow = true;
}

/* Consume buffered input until it is gone or the modem turns busy (the rest waits for the answer). */
static void process_input(struct sim_modem *m)
{
	struct evbuffer *in;

	if (!m->bev)
		return;
	in = bufferevent_get_input(m->bev);
	while (evbuffer_get_length(in) > 0) {
		size_t len, used = 0;
		unsigned char *p;

		if (m->state == SIM_MODEM_HUNG || m->state == SIM_MODEM_BOOTING) {
			evbuffer_drain(in, evbuffer_get_length(in));   /* nobody is listening */
			break;
		}
		if (m->state != SIM_MODEM_COMMAND && m->state != SIM_MODEM_PDU_INPUT)
			break;
		len = evbuffer_get_contiguous_space(in);
		p = evbuffer_pullup(in, (ev_ssize_t)len);
		while (used < len && (m->state == SIM_MODEM_COMMAND || m->state == SIM_MODEM_PDU_INPUT)) {
			unsigned char b = p[used++];
			if (m->state == SIM_MODEM_COMMAND)
				feed_command(m, b);
			else
				feed_pdu(m, b);
		}
		evbuffer_drain(in, used);
	}
	sim_modem_flush_urc(m, false);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	process_input(arg);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct sim_modem *m = arg;

	/* With our own slave fd open the master should never see EOF/EIO; log it and keep going. */
	log_warn("%s: pty event 0x%x", m->name, what);
	if (m->state != SIM_MODEM_SUBMITTING && m->state != SIM_MODEM_BUSY)
		bufferevent_enable(bev, EV_READ);
}

void sim_modem_set_callbacks(struct sim_modem *m)
{
	bufferevent_setcb(m->bev, on_read, NULL, on_event, m);
}

struct sim_modem *sim_modem_new(struct event_base *base, const struct sim_modem_config *cfg)
{
	struct sim_modem *m = calloc(1, sizeof(*m));
	struct sim_identity id;

	if (!m)
		return NULL;
	snprintf(m->name, sizeof(m->name), "modem%u", cfg->index);
	m->index = cfg->index;
	m->seed = cfg->seed;
	m->base = base;
	m->state = SIM_MODEM_COMMAND;
	m->dialect = cfg->dialect;
	m->sent_log = cfg->sent_log;
	m->event_log = cfg->event_log;
	sim_fault_defaults(&m->faults, cfg->dialect->chatter_s);
	m->faults.latency = cfg->latency;
	m->rng = sim_fault_seed(cfg->seed, cfg->index);
	TAILQ_INIT(&m->inbound);
	LIST_INIT(&m->reports);
	snprintf(m->link, sizeof(m->link), "%s/%s", cfg->rundir, m->name);
	sim_dialect_identity(cfg->dialect, cfg->index, cfg->seed, &id);
	m->at = sim_at_new(m->name, cfg->dialect, &id);
	m->timer = evtimer_new(base, on_timer, m);
	m->held = evbuffer_new();
	if (!m->at || !m->timer || !m->held || sim_modem_open_port(m) < 0)
		goto fail;
	sim_modem_update_timers(m, false);
	log_debug("%s: %s, IMEI %s, ICCID %s on %s", m->name, cfg->dialect->name, id.imei, id.iccid,
		  sim_modem_tty(m));
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
	sim_modem_net_free(m);
	if (m->timer)
		event_free(m->timer);
	sim_modem_close_port(m);
	if (m->held)
		evbuffer_free(m->held);
	sim_at_free(m->at);
	free(m);
}

const char *sim_modem_name(const struct sim_modem *m) { return m->name; }
