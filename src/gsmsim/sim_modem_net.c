/* sim_modem_net: what the simulated world does to one modem - the port appearing and vanishing, resets,
 * signal and registration, SIM changes, inbound SMS and status reports held by the network. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "simroute/log.h"
#include "simroute/pdu.h"

#include "sim_at.h"
#include "sim_log.h"
#include "sim_modem_int.h"
#include "sim_pty.h"
#include "sim_store.h"

#define IN_HIGH_WATER 16384     /* read no more while this much input waits (the modem is busy) */

const char *sim_modem_tty(const struct sim_modem *m)
{
	return m->pty ? sim_pty_slave_name(m->pty) : "";
}

int sim_modem_open_port(struct sim_modem *m)
{
	m->pty = sim_pty_open(m->link, m->last_tty[0] ? m->last_tty : NULL);
	if (!m->pty)
		return -1;
	snprintf(m->last_tty, sizeof(m->last_tty), "%s", sim_pty_slave_name(m->pty));
	m->bev = bufferevent_socket_new(m->base, sim_pty_master_fd(m->pty), 0);
	if (!m->bev) {
		sim_pty_close(m->pty);
		m->pty = NULL;
		return -1;
	}
	sim_modem_set_callbacks(m);
	bufferevent_setwatermark(m->bev, EV_READ, 0, IN_HIGH_WATER);
	bufferevent_enable(m->bev, EV_READ | EV_WRITE);
	m->warned_output_dropped = false;
	return 0;
}

/* Closing the master hangs the slave up: the daemon's fd reads EIO / polls HUP, as with a USB unplug. */
void sim_modem_close_port(struct sim_modem *m)
{
	if (m->bev)
		bufferevent_free(m->bev);
	m->bev = NULL;
	sim_pty_close(m->pty);
	m->pty = NULL;
	m->line_len = 0;
}

/* The SC timestamp of "now" in UTC, as the codec takes it ("2026-11-23T13:45:00+00:00"). */
static void scts_now(char *buf, size_t size, int offset_s)
{
	time_t t = time(NULL) + offset_s;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
}

static bool can_receive(const struct sim_modem *m)
{
	int reg = sim_at_reg(m->at);

	return m->state != SIM_MODEM_ABSENT && m->state != SIM_MODEM_BOOTING && (reg == 1 || reg == 5);
}

/* Hand what the network holds to the modem, oldest first; a full SIM stops the queue (the SMSC retries). */
void sim_modem_deliver_pending(struct sim_modem *m)
{
	struct sim_inbound *in;
	int index;

	while ((in = TAILQ_FIRST(&m->inbound)) && can_receive(m)) {
		enum sim_deliver d = sim_at_deliver(m->at, in->hex, in->length, in->report, &index);
		if (d == SIM_DELIVER_FULL) {
			if (!in->full_logged) {
				m->count.storage_full++;
				sim_modem_event(m, "storage_full", json_pack("{s:s, s:i}", "kind",
						in->report ? "report" : "sms", "capacity",
						sim_store_capacity(sim_at_store(m->at))));
			}
			in->full_logged = true;
			break;
		}
		sim_modem_event(m, in->report ? "report_delivered" : "sms_delivered",
				json_pack("{s:s, s:i, s:s, s:i}", "how",
					  d == SIM_DELIVER_DIRECT ? "direct" : d == SIM_DELIVER_STORED ? "stored" : "dropped",
					  "index", index, "pdu", in->hex, "length", in->length));
		TAILQ_REMOVE(&m->inbound, in, entry);
		free(in);
	}
	sim_modem_flush_urc(m, true);
}

static int queue_inbound(struct sim_modem *m, const char *hex, int length, bool report)
{
	struct sim_inbound *in = calloc(1, sizeof(*in));

	if (!in)
		return -1;
	in->report = report;
	in->length = length;
	snprintf(in->hex, sizeof(in->hex), "%s", hex);
	TAILQ_INSERT_TAIL(&m->inbound, in, entry);
	return 0;
}

void sim_modem_boot_done(struct sim_modem *m)
{
	sim_at_boot(m->at);
	sim_modem_enter_state(m, SIM_MODEM_COMMAND);
	sim_modem_event(m, "booted", json_pack("{s:s}", "tty", sim_modem_tty(m)));
	sim_modem_update_timers(m, false);
	sim_modem_flush_urc(m, false);
	sim_modem_deliver_pending(m);
}

void sim_modem_start_reboot(struct sim_modem *m, const char *why)
{
	m->count.reboots++;
	sim_modem_event(m, "reboot", json_pack("{s:s, s:b}", "why", why, "reenumerates",
					       m->dialect->reset_reenumerates));
	m->line_len = 0;
	evbuffer_drain(m->held, evbuffer_get_length(m->held));
	if (m->state == SIM_MODEM_ABSENT) {
		/* unplugged: the reset happens when power comes back */
		return;
	}
	sim_modem_enter_state(m, SIM_MODEM_BOOTING);
	sim_modem_update_timers(m, false);
}

/* ---- status reports ---- */

static void report_free(struct sim_pending_report *r)
{
	LIST_REMOVE(r, entry);
	event_free(r->timer);
	free(r);
}

static int push_report(struct sim_modem *m, int mr, const char *to, const char *submitted, int status)
{
	struct pdu_part part;
	char now[32];
	enum pdu_error e;

	scts_now(now, sizeof(now), 0);
	e = pdu_encode_status_report(mr, to, submitted[0] ? submitted : now, now, status, NULL, &part);
	if (e != PDU_OK) {
		log_warnx("%s: status report for mr %d: %s", m->name, mr, pdu_strerror(e));
		return -1;
	}
	m->count.reports++;
	if (queue_inbound(m, part.hex, part.length, true) < 0)
		return -1;
	sim_modem_deliver_pending(m);
	return 0;
}

static void on_report_due(evutil_socket_t fd, short what, void *arg)
{
	struct sim_pending_report *r = arg;
	struct sim_modem *m = r->modem;

	push_report(m, r->mr, r->to, r->submitted, r->status);
	report_free(r);
}

void sim_modem_submitted(struct sim_modem *m, int mr)
{
	struct sim_pending_report *r;
	struct timeval tv;
	double d = m->faults.report_delay;

	if (!m->pending.srr || d < 0)
		return;
	r = calloc(1, sizeof(*r));
	if (!r)
		return;
	r->modem = m;
	r->mr = mr;
	/* TS 23.040 9.2.3.15: 0x00 received by the SME; 0x41 incompatible destination (permanent) */
	r->status = sim_fault_roll(&m->rng, m->faults.report_fail_p) ? 0x41 : m->faults.report_status;
	snprintf(r->to, sizeof(r->to), "%s", m->pending.addr);
	scts_now(r->submitted, sizeof(r->submitted), 0);
	r->timer = evtimer_new(m->base, on_report_due, r);
	if (!r->timer) {
		free(r);
		return;
	}
	LIST_INSERT_HEAD(&m->reports, r, entry);
	tv.tv_sec = (time_t)d;
	tv.tv_usec = (suseconds_t)((d - (double)tv.tv_sec) * 1e6);
	evtimer_add(r->timer, &tv);
}

int sim_modem_report(struct sim_modem *m, int mr, int status, char *err, size_t errsize)
{
	if (mr < 0 || mr > 255 || status < 0 || status > 255) {
		snprintf(err, errsize, "report: expected MR 0..255 and STATUS 0..255");
		return -1;
	}
	if (push_report(m, mr, m->mr_to[mr][0] ? m->mr_to[mr] : "+46700000000", "", status) < 0) {
		snprintf(err, errsize, "report: cannot encode");
		return -1;
	}
	return 0;
}

/* ---- inbound SMS ---- */

int sim_modem_sms(struct sim_modem *m, const char *from, const char *text, int *parts, char *err,
		  size_t errsize)
{
	struct pdu_submit_opts o = { .smsc = "+46700000000", .concat_ref = m->count.received & 0xff };
	struct pdu_submit *s = NULL;
	char ts[32];
	enum pdu_error e;

	/* GSM 7 bit or UCS-2 and the number of parts follow from the text, as at a real SMSC. */
	scts_now(ts, sizeof(ts), 0);
	e = pdu_encode_deliver(from, text, ts, &o, &s);
	if (e != PDU_OK) {
		snprintf(err, errsize, "sms: cannot encode: %s", pdu_strerror(e));
		return -1;
	}
	*parts = s->nparts;
	m->count.received++;
	sim_modem_event(m, "sms_queued", json_pack("{s:s, s:s, s:i, s:s}", "from", from, "text", text, "parts",
						   s->nparts, "encoding", pdu_encoding_name(s->encoding)));
	for (int i = 0; i < s->nparts; i++)
		queue_inbound(m, s->parts[i].hex, s->parts[i].length, false);
	pdu_submit_free(s);
	sim_modem_deliver_pending(m);
	return 0;
}

/* ---- chatter and the wandering signal: timers only while they have work ---- */

static void on_chatter(evutil_socket_t fd, short what, void *arg)
{
	struct sim_modem *m = arg;
	struct evbuffer *b;

	if (!m->bev || m->state == SIM_MODEM_BOOTING || !sim_at_chatter_on(m->at))
		return;
	b = evbuffer_new();
	if (!b)
		return;
	/* Huawei says this whenever it likes, between a command and its answer too. */
	evbuffer_add_printf(b, "\r\n%s\r\n", m->dialect->chatter ? m->dialect->chatter : "");
	if (m->dialect->rssi_urc)
		evbuffer_add_printf(b, "\r\n%s%d\r\n", m->dialect->rssi_urc, sim_at_signal(m->at));
	sim_modem_say(m, b);
	evbuffer_free(b);
}

static void on_walk(evutil_socket_t fd, short what, void *arg)
{
	struct sim_modem *m = arg;
	int s = sim_at_signal(m->at), step = (int)(sim_fault_uniform(&m->rng) * 7) - 3;

	if (s == 99)
		s = 15;
	s += step;
	s = s < 2 ? 2 : s > 31 ? 31 : s;
	sim_at_set_signal(m->at, s);
	sim_modem_flush_urc(m, true);
}

/* Keeps a persistent timer iff wanted; `restart` re-arms a running one (its period may have changed). */
static void periodic(struct sim_modem *m, struct event **ev, double period, bool want, bool restart,
		     event_callback_fn fn)
{
	struct timeval tv;

	if (*ev && (!want || period <= 0)) {
		event_free(*ev);
		*ev = NULL;
	}
	if (!want || period <= 0)
		return;
	if (!*ev) {
		*ev = event_new(m->base, -1, EV_PERSIST, fn, m);
		if (!*ev)
			return;
	} else if (!restart && evtimer_pending(*ev, NULL)) {
		return;
	}
	tv.tv_sec = (time_t)period;
	tv.tv_usec = (suseconds_t)((period - (double)tv.tv_sec) * 1e6);
	evtimer_add(*ev, &tv);
}

void sim_modem_update_timers(struct sim_modem *m, bool restart)
{
	periodic(m, &m->chatter_timer, m->faults.chatter_s, m->pty && m->dialect->chatter && sim_at_chatter_on(m->at),
		 restart, on_chatter);
	periodic(m, &m->walk_timer, m->faults.signal_walk_s, true, restart, on_walk);
}

void sim_modem_net_free(struct sim_modem *m)
{
	struct sim_inbound *in;

	while (!LIST_EMPTY(&m->reports))
		report_free(LIST_FIRST(&m->reports));
	while ((in = TAILQ_FIRST(&m->inbound))) {
		TAILQ_REMOVE(&m->inbound, in, entry);
		free(in);
	}
	if (m->chatter_timer)
		event_free(m->chatter_timer);
	if (m->walk_timer)
		event_free(m->walk_timer);
	m->chatter_timer = m->walk_timer = NULL;
}
