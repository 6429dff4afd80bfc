/* test_inbox: the modem's inbox — the +CMTI/+CMGL/+CMGR line parsers, and against a scripted fake SIM on
 * a pty (the real serial/at/modem code): the sweep at READY, read then delete only what the scheduler
 * stored, +CMT passed up without touching the SIM, and a send waiting for the inbox's commands. */
#include <fcntl.h>
#include <pty.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "modem/inbox.h"
#include "modem/modem.h"
#include "simroute/log.h"
#include "simroute/pdu.h"

#define WAIT_MS 20000
#define NSLOTS 4
#define SUBMIT "0001000B914477009001230000014F"   /* not parsed by the modem layer */

struct fake {
	int master, slave;
	char slave_path[128];
	struct event *ev;
	char line[1100];
	size_t linelen;
	bool in_pdu;
	char slot[NSLOTS + 1][PDU_HEX_MAX];   /* the SIM's storage, 1-based; "" empty */
	char log[64][48];                     /* the commands received, in order */
	int nlog;
};

struct fx {
	struct event_base *base;
	struct fake fk;
	struct modem *m;
	int ninbound, nsent;
	int index[16];
	char pdu[16][PDU_HEX_MAX];
	int refuse_index;                     /* ev.inbound answers false for this index */
	bool send_at_ready;
};

static void say(struct fake *fk, const char *s)
{
	(void)!write(fk->master, s, strlen(s));
}

static int tpdu_len(const char *hex)
{
	unsigned smsc = 0;

	sscanf(hex, "%2x", &smsc);
	return (int)(strlen(hex) / 2) - 1 - (int)smsc;
}

static void fake_command(struct fake *fk, const char *cmd)
{
	char buf[2048];
	int i;

	if (fk->nlog < 64)
		snprintf(fk->log[fk->nlog++], sizeof(fk->log[0]), "%.47s", cmd);
	if (strcmp(cmd, "AT+CPIN?") == 0) {
		say(fk, "\r\n+CPIN: READY\r\n\r\nOK\r\n");
	} else if (strcmp(cmd, "AT+CREG?") == 0) {
		say(fk, "\r\n+CREG: 0,1\r\n\r\nOK\r\n");
	} else if (strcmp(cmd, "AT+CSQ") == 0) {
		say(fk, "\r\n+CSQ: 17,0\r\n\r\nOK\r\n");
	} else if (strcmp(cmd, "AT+CCID") == 0) {
		say(fk, "\r\n8944100030000000001F\r\n\r\nOK\r\n");
	} else if (strcmp(cmd, "AT+CMGL=4") == 0) {
		for (i = 1; i <= NSLOTS; i++) {
			if (!fk->slot[i][0])
				continue;
			snprintf(buf, sizeof(buf), "\r\n+CMGL: %d,1,,%d\r\n%s", i, tpdu_len(fk->slot[i]), fk->slot[i]);
			say(fk, buf);
		}
		say(fk, "\r\n\r\nOK\r\n");
	} else if (sscanf(cmd, "AT+CMGR=%d", &i) == 1) {
		if (i >= 1 && i <= NSLOTS && fk->slot[i][0]) {
			snprintf(buf, sizeof(buf), "\r\n+CMGR: 0,,%d\r\n%s\r\n\r\nOK\r\n", tpdu_len(fk->slot[i]), fk->slot[i]);
			say(fk, buf);
		} else {
			say(fk, "\r\nOK\r\n");
		}
	} else if (sscanf(cmd, "AT+CMGD=%d", &i) == 1) {
		if (i >= 1 && i <= NSLOTS)
			fk->slot[i][0] = '\0';
		say(fk, "\r\nOK\r\n");
	} else if (strncmp(cmd, "AT+CMGS=", 8) == 0) {
		fk->in_pdu = true;
		say(fk, "\r\n> ");
	} else {
		say(fk, "\r\nOK\r\n");
	}
}

static void fake_read(evutil_socket_t fd, short what, void *arg)
{
	struct fake *fk = arg;
	char buf[512];
	ssize_t n = read(fd, buf, sizeof(buf));

	for (ssize_t i = 0; i < n; i++) {
		char c = buf[i];
		if (fk->in_pdu) {
			if (c == 0x1a) {
				fk->in_pdu = false;
				say(fk, "\r\n+CMGS: 7\r\n\r\nOK\r\n");
			}
			continue;
		}
		if (c == 0x1b || c == '\n')
			continue;
		if (c == '\r') {
			fk->line[fk->linelen] = '\0';
			fk->linelen = 0;
			if (fk->line[0])
				fake_command(fk, fk->line);
			continue;
		}
		if (fk->linelen < sizeof(fk->line) - 1)
			fk->line[fk->linelen++] = c;
	}
}

static void ev_ready(void *arg, struct modem *m)
{
	struct fx *f = arg;

	if (f->send_at_ready) {
		f->send_at_ready = false;
		assert_int_equal(modem_send(m, SUBMIT, 14, f), 0);
	}
}

static void ev_sent(void *arg, struct modem *m, void *cookie, int mr) { ((struct fx *)arg)->nsent++; }
static void ev_failed(void *arg, struct modem *m, void *cookie, int cms, bool reached, const char *why) {}

static bool ev_inbound(void *arg, struct modem *m, const char *pdu_hex, int index)
{
	struct fx *f = arg;

	if (f->ninbound < 16) {
		f->index[f->ninbound] = index;
		snprintf(f->pdu[f->ninbound], sizeof(f->pdu[0]), "%s", pdu_hex);
	}
	f->ninbound++;
	return index != f->refuse_index;
}

static const struct modem_events events = {
	.ready = ev_ready, .sent = ev_sent, .send_failed = ev_failed, .inbound = ev_inbound,
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct termios t;

	assert_non_null(f);
	f->base = event_base_new();
	f->refuse_index = -100;
	memset(&t, 0, sizeof(t));
	cfmakeraw(&t);
	assert_int_equal(openpty(&f->fk.master, &f->fk.slave, f->fk.slave_path, &t, NULL), 0);
	assert_int_equal(fcntl(f->fk.master, F_SETFL, fcntl(f->fk.master, F_GETFL) | O_NONBLOCK), 0);
	f->fk.ev = event_new(f->base, f->fk.master, EV_READ | EV_PERSIST, fake_read, &f->fk);
	event_add(f->fk.ev, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	modem_free(f->m);
	event_free(f->fk.ev);
	close(f->fk.master);
	close(f->fk.slave);
	event_base_free(f->base);
	free(f);
	return 0;
}

static int elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int)((t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000);
}

static void pump(struct fx *f)
{
	struct timeval tv = { 0, 5000 };

	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
}

#define WAIT_FOR(f, cond)                                                    \
	do {                                                                 \
		struct timespec t0_;                                         \
		clock_gettime(CLOCK_MONOTONIC, &t0_);                        \
		while (!(cond) && elapsed_ms(&t0_) < WAIT_MS)                \
			pump(f);                                             \
		if (!(cond))                                                 \
			fail_msg("timed out waiting for " #cond);            \
	} while (0)

/* Let whatever is in flight finish (no condition to wait for: "nothing more happens"). */
static void settle(struct fx *f)
{
	for (int i = 0; i < 40; i++)
		pump(f);
}

static void start(struct fx *f)
{
	struct modem_config cfg = { .name = "t1", .port = f->fk.slave_path, .command_timeout_ms = 1000,
				    .dialect = "sim800" };

	f->m = modem_new(f->base, &cfg, &events, f);
	assert_non_null(f->m);
	modem_start(f->m);
}

static void deliver_pdu(const char *text, char *out)
{
	struct pdu_submit *d = NULL;

	assert_int_equal(pdu_encode_deliver("+46701234567", text, "2026-11-23T13:45:00+01:00", NULL, &d), PDU_OK);
	strcpy(out, d->parts[0].hex);
	pdu_submit_free(d);
}

static int logged(const struct fake *fk, const char *cmd)
{
	for (int i = 0; i < fk->nlog; i++)
		if (strcmp(fk->log[i], cmd) == 0)
			return i;
	return -1;
}

static void test_parsers(void **state)
{
	static const struct { const char *line; int rc; const char *mem; int index; } ind[] = {
		{ "+CMTI: \"SM\",3", 0, "SM", 3 },
		{ "+CMTI:\"ME\",12", 0, "ME", 12 },
		{ "+CDSI: \"SR\",0", 0, "SR", 0 },
		{ "+CMTI: \"SM\",", -1, NULL, 0 },
		{ "+CMTI: SM,3", -1, NULL, 0 },
		{ "+CMTI: \"SM\",3x", -1, NULL, 0 },
		{ "+CMTI: \"S\\\"M\",3", -1, NULL, 0 },
		{ "+CMTI: \"VERYLONGMEM\",3", -1, NULL, 0 },
		{ "+CMTI", -1, NULL, 0 },
	};
	char mem[8];
	int index, stat;

	(void)state;
	for (size_t i = 0; i < sizeof(ind) / sizeof(ind[0]); i++) {
		int rc = inbox_parse_indication(ind[i].line, mem, sizeof(mem), &index);
		if (rc != ind[i].rc)
			fail_msg("%s: %d", ind[i].line, rc);
		if (rc == 0) {
			assert_string_equal(mem, ind[i].mem);
			assert_int_equal(index, ind[i].index);
		}
	}
	assert_int_equal(inbox_parse_list("+CMGL: 3,1,,24", &index, &stat), 0);
	assert_int_equal(index, 3);
	assert_int_equal(stat, 1);
	assert_int_equal(inbox_parse_list("+CMGL: 12,0,\"\",31", &index, &stat), 0);
	assert_int_equal(index, 12);
	assert_int_equal(inbox_parse_list("+CMGL: 3", &index, &stat), -1);
	assert_int_equal(inbox_parse_list("+CMGR: 0,,24", &index, &stat), -1);
	assert_int_equal(inbox_parse_read("+CMGR: 1,,24", &stat), 0);
	assert_int_equal(stat, 1);
	assert_int_equal(inbox_parse_read("+CMGR: \"REC READ\",\"+4670\"", &stat), -1);
}

/* At READY the SIM is swept; a message is deleted only when the scheduler said it is stored. */
static void test_sweep_deletes_only_stored(void **state)
{
	struct fx *f = *state;

	deliver_pdu("one", f->fk.slot[1]);
	deliver_pdu("two", f->fk.slot[2]);
	f->refuse_index = 2;   /* e.g. a store error */
	start(f);
	WAIT_FOR(f, f->ninbound >= 2 && logged(&f->fk, "AT+CMGD=1") >= 0);
	settle(f);
	assert_int_equal(f->ninbound, 2);
	assert_int_equal(f->index[0], 1);
	assert_int_equal(f->index[1], 2);
	assert_string_equal(f->pdu[1], f->fk.slot[2]);
	assert_int_equal(f->fk.slot[1][0], '\0');
	assert_int_not_equal(f->fk.slot[2][0], '\0');   /* left for the next sweep */
	assert_int_equal(logged(&f->fk, "AT+CMGD=2"), -1);
	assert_true(logged(&f->fk, "AT+CPMS=\"SM\"") < logged(&f->fk, "AT+CMGL=4"));
}

/* +CMTI -> AT+CMGR -> the event -> AT+CMGD, in that order; an empty slot read is harmless. */
static void test_cmti_read_then_delete(void **state)
{
	struct fx *f = *state;

	start(f);
	WAIT_FOR(f, modem_state(f->m) == MODEM_READY && logged(&f->fk, "AT+CMGL=4") >= 0);
	settle(f);
	deliver_pdu("three", f->fk.slot[3]);
	say(&f->fk, "\r\n+CMTI: \"SM\",3\r\n");
	WAIT_FOR(f, logged(&f->fk, "AT+CMGD=3") >= 0);
	assert_int_equal(f->ninbound, 1);
	assert_int_equal(f->index[0], 3);
	assert_true(logged(&f->fk, "AT+CMGR=3") < logged(&f->fk, "AT+CMGD=3"));
	say(&f->fk, "\r\n+CMTI: \"SM\",4\r\n");   /* nothing there */
	WAIT_FOR(f, logged(&f->fk, "AT+CMGR=4") >= 0);
	settle(f);
	assert_int_equal(f->ninbound, 1);
	assert_int_equal(logged(&f->fk, "AT+CMGD=4"), -1);
	assert_int_equal(modem_state(f->m), MODEM_READY);
}

/* +CMT carries the PDU: up to the scheduler, nothing read or deleted on the SIM. */
static void test_cmt_routed(void **state)
{
	struct fx *f = *state;
	char hex[PDU_HEX_MAX], buf[PDU_HEX_MAX + 32];

	start(f);
	WAIT_FOR(f, modem_state(f->m) == MODEM_READY && logged(&f->fk, "AT+CMGL=4") >= 0);
	settle(f);
	deliver_pdu("routed", hex);
	snprintf(buf, sizeof(buf), "\r\n+CMT: ,%d\r\n%s\r\n", tpdu_len(hex), hex);
	say(&f->fk, buf);
	WAIT_FOR(f, f->ninbound == 1);
	assert_int_equal(f->index[0], -1);
	assert_string_equal(f->pdu[0], hex);
	settle(f);
	for (int i = 0; i < f->fk.nlog; i++)
		assert_true(strncmp(f->fk.log[i], "AT+CMGR", 7) != 0 && strncmp(f->fk.log[i], "AT+CMGD", 7) != 0);
}

/* A send asked for while the sweep is under way waits for it: reads and deletes first. */
static void test_send_waits_for_inbox(void **state)
{
	struct fx *f = *state;

	deliver_pdu("one", f->fk.slot[1]);
	deliver_pdu("two", f->fk.slot[2]);
	f->send_at_ready = true;
	start(f);
	WAIT_FOR(f, f->nsent == 1);
	int cmgs = logged(&f->fk, "AT+CMGS=14");
	assert_true(cmgs > 0);
	assert_true(logged(&f->fk, "AT+CMGD=1") >= 0 && logged(&f->fk, "AT+CMGD=1") < cmgs);
	assert_true(logged(&f->fk, "AT+CMGD=2") >= 0 && logged(&f->fk, "AT+CMGD=2") < cmgs);
	assert_int_equal(f->ninbound, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parsers),
		cmocka_unit_test_setup_teardown(test_sweep_deletes_only_stored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmti_read_then_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmt_routed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_waits_for_inbox, setup, teardown),
	};

	log_init("test_inbox", getenv("TEST_LOG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
