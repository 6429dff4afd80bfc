/* scheduler_inbound: the scheduler's side of received PDUs (DESIGN "How a message flows", Inbound).
 *
 * An SMS-DELIVER becomes a part in the store (reassembled there); an SMS-STATUS-REPORT (+CDS, or
 * stored and read like an SMS after +CDSI) is matched to the part it reports on by (route, TP-MR,
 * time window) and may finish its message: every part delivered -> `delivered`, a permanent failure
 * of any part -> `undelivered`. Temporary statuses are recorded and change nothing. The modem deletes
 * a PDU from the SIM only when this says it is stored: a store error leaves it for the next sweep. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/scheduler_inbound.h"
#include "queue/scheduler_int.h"
#include "simroute/log.h"
#include "simroute/phone.h"

static const char *status_class_name(enum pdu_status_class c)
{
	switch (c) {
	case PDU_ST_DELIVERED: return "delivered";
	case PDU_ST_TEMPORARY: return "temporary error, still trying";
	case PDU_ST_PERMANENT: return "permanent error";
	case PDU_ST_TEMP_GAVE_UP: return "temporary error, SC gave up";
	}
	return "?";
}

struct part_tally {
	int delivered;
	int failed_seq, failed_st;   /* the first part with a permanent failure, 0 none */
};

static int tally_cb(void *arg, const struct store_part *p)
{
	struct part_tally *t = arg;
	enum pdu_status_class c = p->status >= 0 ? pdu_status_classify(p->status) : PDU_ST_TEMPORARY;

	if (c == PDU_ST_DELIVERED)
		t->delivered++;
	else if ((c == PDU_ST_PERMANENT || c == PDU_ST_TEMP_GAVE_UP) && !t->failed_seq) {
		t->failed_seq = p->seq;
		t->failed_st = p->status;
	}
	return 0;
}

/* What the parts' reports say about a `sent` or `uncertain` message: a permanent failure of any part
 * makes it undelivered, every part delivered makes it delivered, anything else waits. 0, or -1 on a
 * store error. */
static int settle(struct scheduler *s, int64_t id, enum msg_state from, int nparts, const char *route)
{
	struct part_tally t = { 0 };
	char err[STORE_ERROR_MAX];

	if (from != MSG_SENT && from != MSG_UNCERTAIN)
		return 0;   /* still sending its other parts, or already final: the parts' statuses are kept */
	if (store_parts(s->st, id, tally_cb, &t) < 0)
		return -1;
	if (t.failed_seq) {
		snprintf(err, sizeof(err), "%s: status report for part %d: TP-ST 0x%02x (%s)", route, t.failed_seq,
			 t.failed_st, status_class_name(pdu_status_classify(t.failed_st)));
		scheduler_transition(s, id, from, MSG_UNDELIVERED, err, -1);
		log_warnx("message %lld: %s -> undelivered: %s", (long long)id, message_state_name(from), err);
	} else if (t.delivered >= nparts) {
		scheduler_transition(s, id, from, MSG_DELIVERED, NULL, -1);
		log_info("message %lld: %s -> delivered", (long long)id, message_state_name(from));
	}
	return 0;
}

void scheduler_reports_settle(struct scheduler *s, int64_t id, const char *route)
{
	struct store_msg msg;

	if (store_get(s->st, id, &msg) != 0)
		return;
	enum msg_state from = msg.state;
	int nparts = msg.nparts;
	bool wanted = msg.delivery_report;
	store_msg_clear(&msg);
	if (wanted)
		settle(s, id, from, nparts, route);
}

/* 0 done (matched or not), -1 store error (the PDU stays on the SIM for another try). */
static int status_report(struct scheduler *s, struct modem *m, const struct pdu_decoded *d)
{
	const char *route = modem_name(m);
	int64_t now = scheduler_now_ms(), id = 0;
	enum pdu_status_class cls = pdu_status_classify(d->status);
	struct store_msg msg;
	int seq = 0, rc;

	scheduler_pass_commit(s);   /* a part confirmed in this loop turn is written before its report is matched */
	rc = store_part_status(s->st, route, d->mr, now - SCHEDULER_REPORT_WINDOW_MS, d->status, now, &id, &seq);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		log_info("modem %s: status report for mr %d (TP-ST 0x%02x) matches no part sent in the last 3 days: ignored",
			 route, d->mr, d->status);
		return 0;
	}
	log_info("message %lld: part %d: status report TP-ST 0x%02x (%s)", (long long)id, seq, d->status,
		 status_class_name(cls));
	if (cls == PDU_ST_TEMPORARY)
		return 0;   /* recorded; the network is still trying */
	if ((rc = store_get(s->st, id, &msg)) != 0)
		return rc < 0 ? -1 : 0;
	enum msg_state from = msg.state;
	int nparts = msg.nparts;
	store_msg_clear(&msg);
	return settle(s, id, from, nparts, route);
}

static int inbound_sms(struct scheduler *s, struct modem *m, const struct pdu_decoded *d, int index)
{
	struct store_inbound_part p = {
		.route = modem_name(m),
		.from = d->addr,
		.text = d->text,
		.encoding = pdu_encoding_name(d->encoding),
		.scts = d->scts,
		.ref = 0, .total = 1, .seq = 1,
		.received_ms = scheduler_now_ms(),
	};
	const struct pdu_concat *c = &d->concat;
	char masked[STORE_FROM_MAX];
	int64_t id = 0;
	int rc;

	if (c->present && c->total >= 1 && c->seq >= 1 && c->seq <= c->total) {
		p.ref = c->ref;
		p.total = c->total;
		p.seq = c->seq;
	}
	if (d->addr_alpha)
		snprintf(masked, sizeof(masked), "%s", d->addr);   /* a name, not a number */
	else
		phone_mask(d->addr, masked, sizeof(masked));
	/* one durable transaction: the part, the message it completes, and what the hooks and the
	 * inbound callback write for it (webhook row, opt-out change, audit row) */
	bool batched = store_batch_begin(s->st, true) == 0;   /* else each write stands alone */
	rc = store_inbound_add(s->st, &p, &id);
	if (rc == 0 && id && s->inbound_cb)
		s->inbound_cb(s->inbound_arg, id, p.from, p.received_ms);
	if (batched && store_batch_end(s->st) < 0)
		rc = -1;
	if (rc < 0) {
		log_warnx("modem %s: SMS from %s (index %d): store error; left on the SIM for the next sweep",
			  p.route, masked, index);
		return -1;
	}
	if (rc == 1) {
		log_debug("modem %s: SMS from %s (index %d, part %u/%u) already stored", p.route, masked, index, p.seq,
			  p.total);
		return 0;
	}
	if (id)
		log_info("inbound %lld: SMS from %s via %s (%u part%s)", (long long)id, masked, p.route, p.total,
			 p.total == 1 ? "" : "s");
	else
		log_info("modem %s: SMS part %u/%u from %s (ref %u) stored; waiting for the rest", p.route, p.seq,
			 p.total, masked, p.ref);
	return 0;
}

void scheduler_set_inbound_cb(struct scheduler *s, scheduler_inbound_cb *cb, void *arg)
{
	s->inbound_cb = cb;
	s->inbound_arg = arg;
}

bool scheduler_inbound_event(void *arg, struct modem *m, const char *pdu_hex, int index)
{
	struct scheduler *s = arg;
	struct pdu_decoded *d = malloc(sizeof(*d));
	enum pdu_error e;
	int rc;

	if (!d)
		return false;
	e = pdu_decode(pdu_hex, true, d);
	if (e != PDU_OK) {
		/* garbage never comes right: drop it, or a full SIM would stay full */
		log_warnx("modem %s: undecodable PDU at index %d (%s): deleted", modem_name(m), index, pdu_strerror(e));
		log_debug("modem %s: PDU %s", modem_name(m), pdu_hex);
		free(d);
		return true;
	}
	if (d->type == PDU_TYPE_STATUS_REPORT) {
		rc = status_report(s, m, d);
	} else if (d->type == PDU_TYPE_DELIVER) {
		rc = inbound_sms(s, m, d, index);
	} else {
		log_warnx("modem %s: unexpected %s PDU at index %d: deleted", modem_name(m),
			  d->type == PDU_TYPE_SUBMIT ? "SUBMIT" : "unknown", index);
		rc = 0;
	}
	free(d);
	return rc == 0;
}

void scheduler_status_report_event(void *arg, struct modem *m, const char *pdu_hex)
{
	struct pdu_decoded *d = malloc(sizeof(*d));
	enum pdu_error e;

	if (!d)
		return;
	e = pdu_decode(pdu_hex, true, d);
	if (e != PDU_OK || d->type != PDU_TYPE_STATUS_REPORT)
		log_warnx("modem %s: +CDS: not a status report (%s): ignored", modem_name(m),
			  e != PDU_OK ? pdu_strerror(e) : "another message type");
	else if (status_report(arg, m, d) < 0)
		log_warnx("modem %s: status report for mr %d lost to a store error", modem_name(m), d->mr);
	free(d);
}
