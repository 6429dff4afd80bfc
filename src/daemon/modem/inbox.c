/* inbox: a modem's received SMS — +CMTI/+CDSI read with AT+CMGR, +CMT passed up, a periodic AT+CMGL
 * sweep, and AT+CMGD once the scheduler has stored what was read.
 *
 * The commands wait in a small FIFO and go out on the modem's one channel between other commands
 * (modem.c asks inbox_next() whenever the channel falls idle, and before a send starts). A message
 * is deleted only after the `inbound` event said it is stored: a crash in between leaves it on the
 * SIM, the next sweep reads it again and the store recognises the duplicate.
 *
 * Index safety: a SIM reuses the lowest free index at once, so deleting an index twice could destroy
 * a message that arrived in between. A delete is queued only right after a read of that index found
 * a message, and never twice; a read is never queued twice. While the delete waits, the slot cannot
 * change, so every read of it in the meantime sees the same message (a duplicate for the store).
 *
 * +CMT (CNMI mt=2) is not acknowledged: we run with AT+CSMS=0 (the default, never changed), where
 * the modem acknowledges routed messages itself; AT+CNMA is only needed with +CSMS=1 (TS 27.005
 * 3.4.4). Our CNMI uses mt=1 anyway: messages are stored first, so nothing is lost if we are down. */
#include "modem/inbox.h"
#include "modem/modem_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modem/at.h"
#include "simroute/log.h"
#include "simroute/phone.h"

enum inbox_op_kind { OP_READ, OP_LIST, OP_DELETE };
static const char *const op_names[] = { "read", "list", "delete" };

struct inbox_op {
	enum inbox_op_kind kind;
	char mem[8];          /* TS 27.005 <mem>: "SM", "ME", ... */
	int index;            /* READ/DELETE */
};

struct inbox {
	struct inbox_op *ops;
	size_t n, cap;
	char cur_mem[8];      /* what AT+CPMS last selected for reading and deleting; "" unknown */
	bool selecting;       /* the command in flight is AT+CPMS for ops[0] */
	bool in_reply;        /* inside inbox_reply: commands queued now wait for its end */
	bool head_gone;       /* inbox_reset() during a reply: ops[0] is no longer the command answered */
	int64_t last_sweep;   /* CLOCK_MONOTONIC ms of the last queued sweep */
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct inbox *inbox_new(void)
{
	return calloc(1, sizeof(struct inbox));
}

void inbox_free(struct inbox *ib)
{
	if (!ib)
		return;
	free(ib->ops);
	free(ib);
}

/* ---- pure parsers ---- */

int inbox_parse_indication(const char *line, char *mem, size_t n, int *index)
{
	const char *p = strchr(line, ':'), *q;
	size_t len;
	char *end;
	long v;

	if (!p || n == 0)
		return -1;
	for (p++; *p == ' '; p++)
		;
	if (*p != '"' || !(q = strchr(p + 1, '"')))
		return -1;
	len = (size_t)(q - p - 1);
	if (len == 0 || len >= n)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)p[1 + i]) && p[1 + i] != '_')
			return -1;
	if (q[1] != ',')
		return -1;
	v = strtol(q + 2, &end, 10);
	if (end == q + 2 || *end || v < 0 || v > 100000)
		return -1;
	memcpy(mem, p + 1, len);
	mem[len] = '\0';
	*index = (int)v;
	return 0;
}

/* "<a>,<b>..." after the label: the first two integers (b -1 if absent and want_b false). */
static int parse_ints(const char *line, const char *label, int *a, int *b, bool want_b)
{
	size_t l = strlen(label);
	const char *p = line + l;
	char *end;
	long v;

	if (strncmp(line, label, l) != 0)
		return -1;
	while (*p == ' ')
		p++;
	v = strtol(p, &end, 10);
	if (end == p || v < 0 || v > 100000 || (*end && *end != ','))
		return -1;
	*a = (int)v;
	if (!want_b)
		return 0;
	if (*end != ',')
		return -1;
	p = end + 1;
	v = strtol(p, &end, 10);
	if (end == p || v < 0 || v > 255 || (*end && *end != ','))
		return -1;
	*b = (int)v;
	return 0;
}

int inbox_parse_list(const char *line, int *index, int *stat)
{
	return parse_ints(line, "+CMGL:", index, stat, true);
}

int inbox_parse_read(const char *line, int *stat)
{
	return parse_ints(line, "+CMGR:", stat, NULL, false);
}

/* ---- the queue ---- */

static bool queued(const struct inbox *ib, enum inbox_op_kind kind, const char *mem, int index)
{
	/* ops[0] is in flight while a reply is handled: it no longer counts as waiting */
	for (size_t i = ib->in_reply ? 1 : 0; i < ib->n; i++)
		if (ib->ops[i].kind == kind && ib->ops[i].index == index && strcmp(ib->ops[i].mem, mem) == 0)
			return true;
	return false;
}

static void push(struct modem *m, enum inbox_op_kind kind, const char *mem, int index)
{
	struct inbox *ib = m->inbox;

	if (queued(ib, kind, mem, index))
		return;
	if (ib->n == ib->cap) {
		size_t cap = ib->cap ? ib->cap * 2 : 16;
		struct inbox_op *p = realloc(ib->ops, cap * sizeof(*p));
		if (!p) {
			/* the sweep finds it later */
			log_warnx("modem %s: inbox: out of memory, %s %d dropped", m->name, op_names[kind], index);
			return;
		}
		ib->ops = p;
		ib->cap = cap;
	}
	ib->ops[ib->n].kind = kind;
	ib->ops[ib->n].index = index;
	modem_copy_str(ib->ops[ib->n].mem, sizeof(ib->ops[ib->n].mem), mem);
	ib->n++;
}

static void pop(struct inbox *ib)
{
	if (ib->n == 0)
		return;
	memmove(ib->ops, ib->ops + 1, (ib->n - 1) * sizeof(*ib->ops));
	ib->n--;
}

static void sweep(struct modem *m)
{
	m->inbox->last_sweep = mono_ms();
	push(m, OP_LIST, "SM", -1);
}

bool inbox_next(struct modem *m)
{
	struct inbox *ib = m->inbox;
	const struct inbox_op *op;
	char cmd[48];

	if (!ib || ib->n == 0 || ib->in_reply || !m->ch || at_busy(m->ch) || m->inflight != CMD_NONE)
		return false;
	if (m->state != MODEM_READY && !(m->state == MODEM_BUSY && m->send_active && !m->send_started))
		return false;
	op = &ib->ops[0];
	if (strcmp(op->mem, ib->cur_mem) != 0) {
		/* TS 27.005 3.2.2: <mem1> is where AT+CMGR/CMGL/CMGD read and delete */
		snprintf(cmd, sizeof(cmd), "AT+CPMS=\"%s\"", op->mem);
		ib->selecting = true;
	} else if (op->kind == OP_READ) {
		snprintf(cmd, sizeof(cmd), "AT+CMGR=%d", op->index);
	} else if (op->kind == OP_DELETE) {
		snprintf(cmd, sizeof(cmd), "AT+CMGD=%d", op->index);
	} else {
		snprintf(cmd, sizeof(cmd), "AT+CMGL=4");   /* PDU mode: 4 = all (TS 27.005 3.4.2) */
	}
	return modem_issue(m, CMD_INBOX, cmd, 0);
}

bool inbox_urc(struct modem *m, const char *line, const char *pdu)
{
	char mem[8];
	int index;

	if (!m->ev.inbound)
		return false;   /* nobody takes messages: the SIM keeps them, the URC goes to ev.urc */
	if (strncmp(line, "+CMT:", 5) == 0 && pdu) {
		m->ev.inbound(m->arg, m, pdu, -1);
		return true;
	}
	if (strncmp(line, "+CMTI:", 6) != 0 && strncmp(line, "+CDSI:", 6) != 0)
		return false;
	if (inbox_parse_indication(line, mem, sizeof(mem), &index) < 0) {
		/* the sweep will find it */
		char red[80];
		log_info("modem %s: unparsable indication \"%.64s\"", m->name, phone_redact(line, red, sizeof(red)));
		return true;
	}
	log_debug("modem %s: message stored at %s %d", m->name, mem, index);
	push(m, OP_READ, mem, index);
	inbox_next(m);
	return true;
}

void inbox_ready(struct modem *m, enum modem_state from)
{
	if (!m->ev.inbound)
		return;
	if (from != MODEM_BUSY)
		sweep(m);
	inbox_next(m);
}

void inbox_tick(struct modem *m)
{
	if (m->ev.inbound && mono_ms() - m->inbox->last_sweep >= INBOX_SWEEP_MS)
		sweep(m);
}

void inbox_reset(struct modem *m)
{
	struct inbox *ib = m->inbox;

	ib->n = 0;
	ib->cur_mem[0] = '\0';
	ib->selecting = false;
	if (ib->in_reply)
		ib->head_gone = true;
	ib->in_reply = false;
}

/* A message read from the SIM: up to the scheduler; deleted once it says it is stored. */
static void deliver(struct modem *m, const char *mem, int index, const char *pdu)
{
	if (!m->ev.inbound)
		return;
	if (m->ev.inbound(m->arg, m, pdu, index) && !m->dead)
		push(m, OP_DELETE, mem, index);
}

static bool is_hex(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s))
			return false;
	return true;
}

static void reply_read(struct modem *m, const struct inbox_op *op, const struct at_reply *r)
{
	int stat;

	for (size_t i = 0; i + 1 < r->nlines; i++) {
		if (strncmp(r->lines[i], "+CMGR:", 6) != 0)
			continue;
		if (inbox_parse_read(r->lines[i], &stat) < 0 || !is_hex(r->lines[i + 1])) {
			log_info("modem %s: %s %d: unreadable +CMGR reply", m->name, op->mem, op->index);
			return;
		}
		if (stat <= 1)   /* 0/1: received; 2/3 are stored outgoing messages, not ours to touch */
			deliver(m, op->mem, op->index, r->lines[i + 1]);
		return;
	}
	log_debug("modem %s: %s %d is empty", m->name, op->mem, op->index);   /* read by a sweep already */
}

static void reply_list(struct modem *m, const struct inbox_op *op, const struct at_reply *r)
{
	int index, stat, n = 0;

	for (size_t i = 0; i + 1 < r->nlines && !m->dead; i++) {
		if (inbox_parse_list(r->lines[i], &index, &stat) < 0)
			continue;
		if (!is_hex(r->lines[i + 1]))
			continue;
		i++;
		if (stat > 1)
			continue;
		n++;
		deliver(m, op->mem, index, r->lines[i]);
	}
	if (n)
		log_info("modem %s: sweep: %d message(s) stored on the SIM", m->name, n);
}

void inbox_reply(struct modem *m, const struct at_reply *r)
{
	struct inbox *ib = m->inbox;
	struct inbox_op op;

	if (ib->n == 0)
		return;
	op = ib->ops[0];
	if (r->result == AT_RES_TIMEOUT || r->result == AT_RES_IO) {
		modem_enter_state(m, MODEM_RECOVERING, r->result == AT_RES_IO ? "port failed" : "inbox command timed out");
		return;
	}
	if (ib->selecting) {
		ib->selecting = false;
		if (r->result != AT_RES_OK)
			log_info("modem %s: AT+CPMS=\"%s\": %s %d; reading anyway", m->name, op.mem,
				 at_result_name(r->result), r->err);
		modem_copy_str(ib->cur_mem, sizeof(ib->cur_mem), op.mem);
		return;
	}
	ib->in_reply = true;
	if (r->result != AT_RES_OK) {
		/* +CMS ERROR 321: invalid index, e.g. already deleted; nothing to retry, the sweep covers it */
		log_info("modem %s: inbox %s %s %d: %s %d", m->name, op_names[op.kind], op.mem, op.index,
			 at_result_name(r->result), r->err);
	} else if (op.kind == OP_READ) {
		reply_read(m, &op, r);
	} else if (op.kind == OP_LIST) {
		reply_list(m, &op, r);
	} else {
		log_debug("modem %s: deleted %s %d", m->name, op.mem, op.index);
	}
	if (m->dead)
		return;
	if (!ib->head_gone)
		pop(ib);
	ib->in_reply = ib->head_gone = false;
}
