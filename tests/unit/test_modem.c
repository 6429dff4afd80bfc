/* test_modem: the modem state machine against a scripted fake SIM800 on a pty (the real serial/at code). */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "modem/dialect.h"
#include "modem/modem.h"
#include "modem/serial.h"
#include "simroute/log.h"

#define WAIT_MS 20000  /* upper bound only: tests wait for events (generous: a loaded 2-core CI box) */
#define PDU "0001000B914477009001230000014F"   /* not parsed by the modem layer */

enum send_mode { SEND_OK, SEND_CMS38, SEND_CMS332, SEND_CME31, SEND_HANGUP, SEND_SILENT };

/* The fake modem: answers on the pty master from the same event loop. */
struct fake {
	struct event_base *base;
	int master, slave;
	char slave_path[128];
	struct event *ev;
	char line[1100];
	size_t linelen;
	bool in_pdu;
	char pdu[1100];
	size_t pdulen;
	enum send_mode send_mode;
	bool silent;            /* answer nothing at all */
	int creg_unregistered;  /* answer "not registered" this many times first */
	int nesc, nat, ncmgs, ncreg, npin;
	bool hold_creg, creg_held;       /* leave the next AT+CREG? unanswered until released */
	bool hold_cmgs, cmgs_held;       /* leave the +CMGS reply unanswered until released */
	bool huawei;                     /* identify as a Huawei (dialect pick, ^ICCID) */
	const char *ccid;                /* AT+CCID answer; NULL: the default SIM */
	const char *sim_pin;             /* SIM wants this PIN first */
	bool pin_entered;
	bool esc_before_at;
	char got_pdu[1100];
	char cmgs_cmd[1100];
};

struct fx {
	struct event_base *base;
	struct fake fk;
	struct modem *m;
	int nready, nsent, nfailed;
	int mr, cms;
	bool reached;
	void *cookie;
	char why[128];
	enum modem_state seen[64];
	int nseen;
	bool free_in_sent;
	int nsim;
	char old_iccid[32], new_iccid[32];
	char link[64];          /* a symlink to the fake's pty, as udev makes /dev/simroute/<name> */
};

static void fake_say(struct fake *fk, const char *s)
{
	if (fk->master != -1)
		(void)!write(fk->master, s, strlen(s));
}

static void fake_hangup(struct fake *fk)
{
	if (fk->ev)
		event_free(fk->ev);
	fk->ev = NULL;
	close(fk->master);
	fk->master = -1;
}

static void fake_command(struct fake *fk, const char *cmd)
{
	static const struct {
		const char *cmd, *reply;
	} script[] = {
		{ "AT", "OK" },
		{ "ATE0", "OK" },
		{ "AT+CMEE=1", "OK" },
		{ "AT+CGMI", "SIMCOM_Ltd\r\n\r\nOK" },
		{ "AT+CGMM", "SIMCOM_SIM800L\r\n\r\nOK" },
		{ "AT+CGMR", "Revision:1418B04SIM800L24\r\n\r\nOK" },
		{ "AT+CGSN", "867856030000001\r\n\r\nOK" },
		{ "AT+CMGF=0", "OK" },
		{ "AT+CSCLK=0", "OK" },
		{ "AT+CNMI=2,1,0,1,0", "OK" },
		{ "AT+CPIN?", "+CPIN: READY\r\n\r\nOK" },
		{ "AT+CCID", "8944100030000000001F\r\n\r\nOK" },
		{ "AT+CSQ", "+CSQ: 17,0\r\n\r\nOK" },
		{ "AT+COPS?", "+COPS: 0,0,\"TestNet\"\r\n\r\nOK" },
	};
	char buf[256];

	if (fk->silent)
		return;
	if (strcmp(cmd, "AT") == 0)
		fk->nat++;
	if (strcmp(cmd, "AT+CREG?") == 0) {
		fk->ncreg++;
		if (fk->hold_creg) {
			fk->creg_held = true;
			return;
		}
		fake_say(fk, fk->creg_unregistered-- > 0 ? "\r\n+CREG: 0,2\r\n\r\nOK\r\n" : "\r\n+CREG: 0,1\r\n\r\nOK\r\n");
		return;
	}
	if (fk->ccid && strcmp(cmd, "AT+CCID") == 0) {
		snprintf(buf, sizeof(buf), "\r\n%s\r\n\r\nOK\r\n", fk->ccid);
		fake_say(fk, buf);
		return;
	}
	if (fk->huawei && strcmp(cmd, "AT+CGMI") == 0) {
		fake_say(fk, "\r\nhuawei\r\n\r\nOK\r\n");
		return;
	}
	if (fk->huawei && strcmp(cmd, "AT^CURC=0") == 0) {
		fake_say(fk, "\r\nOK\r\n");
		return;
	}
	if (fk->huawei && strcmp(cmd, "AT^ICCID?") == 0) {
		fake_say(fk, "\r\n^ICCID: 984401000300000000F1\r\n\r\nOK\r\n");
		return;
	}
	if (fk->sim_pin && !fk->pin_entered && strcmp(cmd, "AT+CPIN?") == 0) {
		fake_say(fk, "\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n");
		return;
	}
	if (fk->sim_pin && strncmp(cmd, "AT+CPIN=", 8) == 0) {
		char want[32];
		fk->npin++;
		snprintf(want, sizeof(want), "AT+CPIN=\"%s\"", fk->sim_pin);
		fk->pin_entered = strcmp(cmd, want) == 0;
		fake_say(fk, fk->pin_entered ? "\r\nOK\r\n" : "\r\n+CME ERROR: 16\r\n");
		return;
	}
	if (strncmp(cmd, "AT+CMGS=", 8) == 0) {
		fk->ncmgs++;
		snprintf(fk->cmgs_cmd, sizeof(fk->cmgs_cmd), "%s", cmd);
		fk->in_pdu = true;
		fk->pdulen = 0;
		fake_say(fk, "\r\n> ");
		return;
	}
	for (size_t i = 0; i < sizeof(script) / sizeof(script[0]); i++) {
		if (strcmp(cmd, script[i].cmd) == 0) {
			snprintf(buf, sizeof(buf), "\r\n%s\r\n", script[i].reply);
			fake_say(fk, buf);
			return;
		}
	}
	fake_say(fk, "\r\nERROR\r\n");
}

static void fake_pdu_done(struct fake *fk)
{
	fk->pdu[fk->pdulen] = '\0';
	snprintf(fk->got_pdu, sizeof(fk->got_pdu), "%s", fk->pdu);
	if (fk->hold_cmgs) {
		fk->cmgs_held = true;
		return;
	}
	switch (fk->send_mode) {
	case SEND_OK:
		fake_say(fk, "\r\n+CMGS: 7\r\n\r\nOK\r\n");
		break;
	case SEND_CMS38:
		fake_say(fk, "\r\n+CMS ERROR: 38\r\n");
		break;
	case SEND_CMS332:
		fake_say(fk, "\r\n+CMS ERROR: 332\r\n");
		break;
	case SEND_CME31:
		fake_say(fk, "\r\n+CME ERROR: 31\r\n");
		break;
	case SEND_HANGUP:
		fake_hangup(fk);   /* unplugged mid-send, right after the PDU */
		break;
	case SEND_SILENT:
		break;
	}
}

static void fake_release(struct fake *fk)
{
	fk->hold_creg = fk->hold_cmgs = false;
	if (fk->creg_held)
		fake_say(fk, "\r\n+CREG: 0,1\r\n\r\nOK\r\n");
	if (fk->cmgs_held)
		fake_pdu_done(fk);
	fk->creg_held = fk->cmgs_held = false;
}

static void fake_read(evutil_socket_t fd, short what, void *arg)
{
	struct fake *fk = arg;
	char buf[512];
	ssize_t n = read(fd, buf, sizeof(buf));

	for (ssize_t i = 0; i < n && fk->master != -1; i++) {
		char c = buf[i];
		if (fk->in_pdu) {
			if (c == 0x1a) {
				fk->in_pdu = false;
				fake_pdu_done(fk);
			} else if (c == 0x1b) {
				fk->in_pdu = false;
			} else if (fk->pdulen < sizeof(fk->pdu) - 1) {
				fk->pdu[fk->pdulen++] = c;
			}
			continue;
		}
		if (c == 0x1b) {
			fk->nesc++;
			if (fk->nat == 0)
				fk->esc_before_at = true;
			continue;
		}
		if (c == '\n')
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

/* ---- events from the modem ---- */

static void ev_ready(void *arg, struct modem *m) { ((struct fx *)arg)->nready++; }

static void ev_sent(void *arg, struct modem *m, void *cookie, int mr)
{
	struct fx *f = arg;

	f->nsent++;
	f->mr = mr;
	f->cookie = cookie;
	if (f->free_in_sent) {
		modem_free(m);
		f->m = NULL;
	}
}

static void ev_send_failed(void *arg, struct modem *m, void *cookie, int cms, bool reached, const char *why)
{
	struct fx *f = arg;

	f->nfailed++;
	f->cms = cms;
	f->reached = reached;
	f->cookie = cookie;
	snprintf(f->why, sizeof(f->why), "%s", why);
}

static void ev_state(void *arg, struct modem *m, enum modem_state from, enum modem_state to)
{
	struct fx *f = arg;

	if (f->nseen < 64)
		f->seen[f->nseen++] = to;
}

static void ev_sim_changed(void *arg, struct modem *m, const char *old_iccid, const char *new_iccid)
{
	struct fx *f = arg;

	f->nsim++;
	snprintf(f->old_iccid, sizeof(f->old_iccid), "%s", old_iccid);
	snprintf(f->new_iccid, sizeof(f->new_iccid), "%s", new_iccid);
}

static const struct modem_events events = {
	.ready = ev_ready,
	.sent = ev_sent,
	.send_failed = ev_send_failed,
	.state_changed = ev_state,
	.sim_changed = ev_sim_changed,
};

static bool seen(const struct fx *f, enum modem_state s)
{
	for (int i = 0; i < f->nseen; i++)
		if (f->seen[i] == s)
			return true;
	return false;
}

/* A new pty for the fake: a modem plugged in (again). Only the fake's line state starts afresh. */
static void fake_plug(struct fake *fk, struct event_base *base)
{
	struct termios t;

	memset(&t, 0, sizeof(t));
	cfmakeraw(&t);
	fk->base = base;
	fk->linelen = 0;
	fk->in_pdu = false;
	/* the test keeps the slave open too, as gsmsim does: the master never sees a hangup between opens */
	assert_int_equal(openpty(&fk->master, &fk->slave, fk->slave_path, &t, NULL), 0);
	assert_int_equal(fcntl(fk->master, F_SETFL, fcntl(fk->master, F_GETFL) | O_NONBLOCK), 0);
	fk->ev = event_new(base, fk->master, EV_READ | EV_PERSIST, fake_read, fk);
	event_add(fk->ev, NULL);
}

static int count_seen(const struct fx *f, enum modem_state s)
{
	int n = 0;

	for (int i = 0; i < f->nseen; i++)
		n += f->seen[i] == s;
	return n;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->base = event_base_new();
	fake_plug(&f->fk, f->base);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	modem_free(f->m);
	if (f->fk.master != -1)
		fake_hangup(&f->fk);
	if (f->fk.slave != -1)
		close(f->fk.slave);
	if (f->link[0])
		unlink(f->link);
	event_base_free(f->base);
	free(f);
	return 0;
}

static void make_modem(struct fx *f, int cmd_timeout_ms)
{
	struct modem_config cfg = {
		.name = "t1",
		.port = f->fk.slave_path,
		.command_timeout_ms = cmd_timeout_ms,
		.send_timeout_ms = 300,
		.reopen_delay_ms = 50,
	};

	f->m = modem_new(f->base, &cfg, &events, f);
	assert_non_null(f->m);
	assert_int_equal(modem_state(f->m), MODEM_ABSENT);
	modem_start(f->m);
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

static void to_ready(struct fx *f)
{
	make_modem(f, 1000);
	WAIT_FOR(f, modem_state(f->m) == MODEM_READY);
	assert_int_equal(f->nready, 1);
}

static void test_init_to_ready(void **state)
{
	struct fx *f = *state;
	struct modem_info info;
	static const enum modem_state path[] = { MODEM_OPENING, MODEM_INITIALISING, MODEM_SIM_WAIT,
						 MODEM_REGISTERING, MODEM_READY };

	f->fk.creg_unregistered = 1;   /* searching once, then home */
	to_ready(f);
	assert_int_equal(f->nseen, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(f->seen[i], path[i]);
	assert_true(f->fk.esc_before_at);   /* DESIGN: ESC first, a crash may have left PDU input open */
	modem_get_info(f->m, &info);
	assert_int_equal(info.state, MODEM_READY);
	assert_string_equal(info.imei, "867856030000001");
	assert_string_equal(info.manufacturer, "SIMCOM_Ltd");
	assert_string_equal(info.model, "SIMCOM_SIM800L");
	assert_string_equal(info.dialect, "sim800");
	assert_string_equal(info.iccid, "8944100030000000001");
	assert_string_equal(info.operator_name, "TestNet");
	assert_int_equal(info.rssi, 17);
	assert_string_equal(modem_name(f->m), "t1");
	assert_string_equal(modem_state_name(MODEM_SIM_WAIT), "sim_wait");
}

static void test_send_ok(void **state)
{
	struct fx *f = *state;
	int cookie;
	struct modem_info info;

	to_ready(f);
	assert_int_equal(modem_send(f->m, PDU, 14, &cookie), 0);
	assert_int_equal(modem_state(f->m), MODEM_BUSY);
	assert_int_equal(modem_send(f->m, PDU, 14, &cookie), -1);   /* one at a time */
	WAIT_FOR(f, f->nsent == 1);
	assert_int_equal(f->mr, 7);
	assert_ptr_equal(f->cookie, &cookie);
	assert_int_equal(f->nfailed, 0);
	assert_string_equal(f->fk.cmgs_cmd, "AT+CMGS=14");
	assert_string_equal(f->fk.got_pdu, PDU);
	assert_int_equal(modem_state(f->m), MODEM_READY);
	assert_int_equal(f->nready, 2);   /* ready again: can take the next part */
	modem_get_info(f->m, &info);
	assert_int_equal(info.sent, 1);
}

static void test_send_cms_error(void **state)
{
	struct fx *f = *state;
	int cookie;

	to_ready(f);
	f->fk.send_mode = SEND_CMS38;
	assert_int_equal(modem_send(f->m, PDU, 14, &cookie), 0);
	WAIT_FOR(f, f->nfailed == 1);
	assert_int_equal(f->cms, 38);
	assert_false(f->reached);   /* refused: definitely not sent */
	assert_ptr_equal(f->cookie, &cookie);
	assert_int_equal(f->nsent, 0);
	assert_int_equal(modem_state(f->m), MODEM_READY);
	/* the reason names the code's meaning and class (docs/cms-errors.md) */
	assert_string_equal(f->why, "network out of order (cool_down)");
}

/* 332 network timeout after the PDU: the SMSC may have it, so it is reported as possibly sent. */
static void test_send_cms_network_timeout_uncertain(void **state)
{
	struct fx *f = *state;
	int cookie;

	to_ready(f);
	f->fk.send_mode = SEND_CMS332;
	assert_int_equal(modem_send(f->m, PDU, 14, &cookie), 0);
	WAIT_FOR(f, f->nfailed == 1);
	assert_int_equal(f->cms, 332);
	assert_true(f->reached);
	assert_string_equal(f->why, "network timeout (try_another)");
	assert_int_equal(modem_state(f->m), MODEM_READY);
	/* the same through +CME ERROR (TS 27.007 31 network timeout): no CMS code, text keeps the CME one */
	f->fk.send_mode = SEND_CME31;
	assert_int_equal(modem_send(f->m, PDU, 14, &cookie), 0);
	WAIT_FOR(f, f->nfailed == 2);
	assert_int_equal(f->cms, -1);
	assert_true(f->reached);
	assert_string_equal(f->why, "+CME ERROR 31: network timeout (try_another)");
}

static void test_hangup_mid_send(void **state)
{
	struct fx *f = *state;
	int cookie;

	to_ready(f);
	f->fk.send_mode = SEND_HANGUP;
	assert_int_equal(modem_send(f->m, PDU, 14, &cookie), 0);
	WAIT_FOR(f, f->nfailed == 1);
	assert_true(f->reached);    /* the PDU was written: it may have gone out */
	assert_int_equal(f->cms, -1);
	assert_int_equal(f->nsent, 0);
	WAIT_FOR(f, seen(f, MODEM_RECOVERING));
	/* the port is gone: it keeps trying to reopen, never READY, never a second report */
	pump(f);
	assert_int_not_equal(modem_state(f->m), MODEM_READY);
	assert_int_equal(f->nfailed, 1);
}

static void test_send_timeout_is_uncertain(void **state)
{
	struct fx *f = *state;
	int cookie;

	to_ready(f);
	f->fk.send_mode = SEND_SILENT;
	assert_int_equal(modem_send(f->m, PDU, 14, &cookie), 0);
	WAIT_FOR(f, f->nfailed == 1);
	assert_true(f->reached);
	WAIT_FOR(f, seen(f, MODEM_RECOVERING));
	/* the fake answers again: recovery brings the modem back */
	f->nready = 0;
	WAIT_FOR(f, f->nready == 1);
	assert_int_equal(modem_state(f->m), MODEM_READY);
}

static void test_send_rejected_when_not_ready(void **state)
{
	struct fx *f = *state;

	f->fk.silent = true;
	make_modem(f, 1000);
	assert_int_equal(modem_send(f->m, PDU, 14, NULL), -1);
	f->fk.silent = false;
	WAIT_FOR(f, modem_state(f->m) == MODEM_READY);
	assert_int_equal(modem_send(f->m, "00AZ", 2, NULL), -1);
	assert_int_equal(modem_send(f->m, "00A", 2, NULL), -1);
	assert_int_equal(modem_send(f->m, PDU, 0, NULL), -1);
	assert_int_equal(modem_send(f->m, "00AA\x1a" "ATZ", 2, NULL), -1);
	assert_int_equal(modem_state(f->m), MODEM_READY);
}

/* A modem that never answers is a fault to recover from, not a silent hang. */
static void test_silent_modem_recovers(void **state)
{
	struct fx *f = *state;

	f->fk.silent = true;
	make_modem(f, 100);
	WAIT_FOR(f, seen(f, MODEM_RECOVERING));
	/* and it comes back once the modem talks */
	f->fk.silent = false;
	WAIT_FOR(f, modem_state(f->m) == MODEM_READY);
	assert_true(f->fk.nesc >= 2);   /* every open starts with ESC */
}

/* A modem that reboots (RDY) loses ATE0/CMGF: it is initialised again. */
static void test_reboot_urc_reinitialises(void **state)
{
	struct fx *f = *state;

	to_ready(f);
	f->nseen = 0;
	fake_say(&f->fk, "\r\nRDY\r\n");
	WAIT_FOR(f, seen(f, MODEM_RECOVERING));
	WAIT_FOR(f, f->nready == 2);
	assert_true(seen(f, MODEM_INITIALISING));
	assert_int_equal(modem_state(f->m), MODEM_READY);
}

static void test_free_inside_callback(void **state)
{
	struct fx *f = *state;

	to_ready(f);
	f->free_in_sent = true;
	assert_int_equal(modem_send(f->m, PDU, 14, NULL), 0);
	WAIT_FOR(f, f->nsent == 1);
	assert_null(f->m);
	pump(f);
}

static void test_absent_port_retries(void **state)
{
	struct fx *f = *state;
	struct modem_config cfg = { .name = "t2", .port = "/nonexistent/tty", .reopen_delay_ms = 20 };

	f->m = modem_new(f->base, &cfg, &events, f);
	assert_non_null(f->m);
	modem_start(f->m);
	WAIT_FOR(f, f->nseen >= 4);   /* opening -> absent -> opening -> absent */
	assert_int_equal(f->seen[0], MODEM_OPENING);
	assert_int_equal(f->seen[1], MODEM_ABSENT);
	assert_int_equal(f->seen[2], MODEM_OPENING);
}

static void test_bad_config(void **state)
{
	struct fx *f = *state;
	struct modem_config cfg = { .name = "t3", .port = "/dev/null", .pin = "12a4" };

	assert_null(modem_new(f->base, &cfg, &events, f));
	cfg.pin = NULL;
	cfg.dialect = "nokia-3310";
	assert_null(modem_new(f->base, &cfg, &events, f));
}

/* A send arriving while the health poll is in flight waits for it, then goes out. */
static void test_send_during_health_poll(void **state)
{
	struct fx *f = *state;
	struct modem_config cfg = { .name = "t1", .port = f->fk.slave_path, .poll_interval_ms = 20 };
	int cookie;

	f->m = modem_new(f->base, &cfg, &events, f);
	modem_start(f->m);
	WAIT_FOR(f, modem_state(f->m) == MODEM_READY);
	f->fk.hold_creg = true;
	WAIT_FOR(f, f->fk.creg_held);
	assert_int_equal(modem_send(f->m, PDU, 14, &cookie), 0);
	assert_int_equal(modem_state(f->m), MODEM_BUSY);
	pump(f);
	assert_int_equal(f->fk.ncmgs, 0);   /* one command at a time */
	fake_release(&f->fk);
	WAIT_FOR(f, f->nsent == 1);
	assert_int_equal(f->mr, 7);
	assert_int_equal(f->fk.ncmgs, 1);
}

/* Disabling a busy modem lets its send finish (no double report), then closes the port. */
static void test_disable_drains(void **state)
{
	struct fx *f = *state;
	int cookie;

	to_ready(f);
	f->fk.hold_cmgs = true;
	assert_int_equal(modem_send(f->m, PDU, 14, &cookie), 0);
	WAIT_FOR(f, f->fk.cmgs_held);
	modem_disable(f->m);
	assert_int_equal(modem_state(f->m), MODEM_DRAINING);
	fake_release(&f->fk);
	WAIT_FOR(f, modem_state(f->m) == MODEM_DISABLED);
	assert_int_equal(f->nsent, 1);
	assert_int_equal(f->nfailed, 0);
	assert_int_equal(modem_send(f->m, PDU, 14, &cookie), -1);
	modem_enable(f->m);
	WAIT_FOR(f, modem_state(f->m) == MODEM_READY);
	assert_int_equal(f->nready, 2);
}

static void test_huawei_dialect(void **state)
{
	struct fx *f = *state;
	struct modem_info info;

	f->fk.huawei = true;
	to_ready(f);
	modem_get_info(f->m, &info);
	assert_string_equal(info.dialect, "huawei");
	assert_string_equal(info.manufacturer, "huawei");
	/* ^ICCID answers in swapped BCD */
	assert_string_equal(info.iccid, "8944100030000000001");
	fake_say(&f->fk, "\r\n^RSSI: 25\r\n");
	WAIT_FOR(f, (modem_get_info(f->m, &info), info.rssi == 25));
	assert_int_equal(modem_state(f->m), MODEM_READY);
}

static void test_pin_entered_once(void **state)
{
	struct fx *f = *state;
	struct modem_config cfg = { .name = "t1", .port = f->fk.slave_path, .pin = "1234" };

	f->fk.sim_pin = "1234";
	f->m = modem_new(f->base, &cfg, &events, f);
	modem_start(f->m);
	WAIT_FOR(f, modem_state(f->m) == MODEM_READY);
	assert_int_equal(f->fk.npin, 1);
}

/* A wrong PIN is never retried: three tries would lock the SIM. */
static void test_wrong_pin_not_retried(void **state)
{
	struct fx *f = *state;
	struct modem_config cfg = { .name = "t1", .port = f->fk.slave_path, .pin = "1234" };
	struct modem_info info;

	f->fk.sim_pin = "0000";
	f->m = modem_new(f->base, &cfg, &events, f);
	modem_start(f->m);
	WAIT_FOR(f, f->fk.npin == 1);
	WAIT_FOR(f, f->fk.nat > 0 && modem_state(f->m) == MODEM_SIM_WAIT);
	for (int i = 0; i < 20; i++)
		pump(f);
	assert_int_equal(f->fk.npin, 1);
	assert_int_equal(modem_state(f->m), MODEM_SIM_WAIT);
	modem_get_info(f->m, &info);
	assert_int_equal(info.state, MODEM_SIM_WAIT);
}

static void test_dialect_table(void **state)
{
	static const struct {
		const char *ident, *dialect;
	} picks[] = {
		{ "SIMCOM_Ltd", "sim800" }, { "SIMCOM INCORPORATED", "sim800" }, { "Quectel", "quectel" },
		{ "huawei", "huawei" },     { "Huawei Technologies Co., Ltd.", "huawei" },
		{ "u-blox", "generic" },    { "", "generic" },
	};
	static const struct {
		const char *in, *out;
	} iccids[] = {
		{ "89441000300000000019", "89441000300000000019" },   /* plain */
		{ "8944100030000000001F", "8944100030000000001" },    /* F-padded */
		{ "984401000300000000F1", "8944100030000000001" },    /* swapped BCD, odd length */
		{ "98941020304050607080", "89490102030405060708" },   /* swapped BCD, even length */
	};
	char out[24];

	for (size_t i = 0; i < sizeof(picks) / sizeof(picks[0]); i++)
		assert_string_equal(dialect_match(picks[i].ident)->name, picks[i].dialect);
	assert_null(dialect_by_name("nokia"));
	assert_string_equal(dialect_by_name("QUECTEL")->name, "quectel");
	for (size_t i = 0; i < sizeof(iccids) / sizeof(iccids[0]); i++) {
		dialect_iccid_normalise(out, sizeof(out), iccids[i].in);
		assert_string_equal(out, iccids[i].out);
	}
}

/* ---- exclusive access, hotplug, USB reset, SIM swap ---- */

/* Another program holding the port: refused (flock), the modem stays ABSENT saying why, and retries. */
static void test_port_locked_by_another(void **state)
{
	struct fx *f = *state;
	char err[256];
	struct serial_port *other = serial_open(f->fk.slave_path, 115200, err, sizeof(err));
	struct serial_port *second;
	struct modem_info info;

	assert_non_null(other);
	/* serial.c itself: a second opener is refused while the first holds it */
	second = serial_open(f->fk.slave_path, 115200, err, sizeof(err));
	assert_null(second);
	assert_non_null(strstr(err, "in use by another program"));

	make_modem(f, 1000);
	WAIT_FOR(f, seen(f, MODEM_ABSENT) && f->nseen >= 4);   /* and it keeps trying */
	modem_get_info(f->m, &info);
	assert_int_equal(info.state, MODEM_ABSENT);
	assert_non_null(strstr(info.last_error, "in use by another program"));
	assert_int_equal(f->fk.nat, 0);   /* never talked to the port it did not own */

	serial_close(other);
	WAIT_FOR(f, modem_state(f->m) == MODEM_READY);
	/* and now the modem holds it */
	second = serial_open(f->fk.slave_path, 115200, err, sizeof(err));
	assert_null(second);
}

static int count_fd_event(const struct event_base *base, const struct event *ev, void *arg)
{
	if (event_get_fd(ev) >= 0 && (event_get_events(ev) & (EV_READ | EV_WRITE)))
		++*(int *)arg;
	return 0;
}

static int fd_events(struct fx *f)
{
	int n = 0;

	event_base_foreach_event(f->base, count_fd_event, &n);
	return n;
}

static void make_link(struct fx *f)
{
	unlink(f->link);
	assert_int_equal(symlink(f->fk.slave_path, f->link), 0);
}

static void make_linked_modem(struct fx *f)
{
	struct modem_config cfg = {
		/* a send timeout far beyond WAIT_MS: a report in time comes from the hang-up itself */
		.name = "t1", .port = f->link, .command_timeout_ms = 1000, .send_timeout_ms = 60000,
		.reopen_delay_ms = 50,
	};

	snprintf(f->link, sizeof(f->link), "/tmp/test_modem.%d.link", (int)getpid());
	make_link(f);
	f->m = modem_new(f->base, &cfg, &events, f);
	assert_non_null(f->m);
	modem_start(f->m);
	WAIT_FOR(f, modem_state(f->m) == MODEM_READY);
}

/* Unplugged mid-send (the PDU written, no reply yet): the send is reported at once as possibly sent,
 * the dead fd leaves the loop (a hung-up pty stays readable with EIO: watching it would spin), the
 * modem waits ABSENT, and comes back when the device node re-appears behind the same link. */
static void test_unplug_replug(void **state)
{
	struct fx *f = *state;
	int cookie;

	make_linked_modem(f);
	assert_true(fd_events(f) >= 2);   /* the fake's master and the modem's port: the count sees them */
	f->fk.hold_cmgs = true;
	assert_int_equal(modem_send(f->m, PDU, 14, &cookie), 0);
	WAIT_FOR(f, f->fk.cmgs_held);

	/* unplug: the device goes, and its node with it */
	fake_hangup(&f->fk);
	close(f->fk.slave);
	f->fk.slave = -1;
	unlink(f->link);
	WAIT_FOR(f, f->nfailed == 1);
	assert_true(f->reached);
	assert_ptr_equal(f->cookie, &cookie);
	assert_int_equal(f->nsent, 0);
	WAIT_FOR(f, modem_state(f->m) == MODEM_ABSENT);
	for (int i = 0; i < 10; i++) {
		pump(f);
		assert_int_equal(fd_events(f), 0);   /* only timers while unplugged */
		assert_int_not_equal(modem_state(f->m), MODEM_READY);
	}

	/* replug: a new pty behind the same link */
	f->nready = 0;
	f->fk.hold_cmgs = f->fk.cmgs_held = false;
	fake_plug(&f->fk, f->base);
	make_link(f);
	WAIT_FOR(f, f->nready == 1);
	assert_int_equal(modem_state(f->m), MODEM_READY);
	assert_int_equal(f->nfailed, 1);   /* one report for the one send */
	assert_int_equal(modem_send(f->m, PDU, 14, &cookie), 0);
	WAIT_FOR(f, f->nsent == 1);
}

/* The link now names another device while the old fd still works (no EIO to tell us): the health poll
 * notices and the modem reopens onto the new device. */
static void test_link_moved_reopens(void **state)
{
	struct fx *f = *state;
	struct fake old;
	struct modem_config cfg = { .name = "t1", .command_timeout_ms = 1000, .reopen_delay_ms = 50,
				    .poll_interval_ms = 20 };

	snprintf(f->link, sizeof(f->link), "/tmp/test_modem.%d.link", (int)getpid());
	make_link(f);
	cfg.port = f->link;
	f->m = modem_new(f->base, &cfg, &events, f);
	modem_start(f->m);
	WAIT_FOR(f, modem_state(f->m) == MODEM_READY);

	old = f->fk;                  /* the old device keeps answering */
	event_free(f->fk.ev);
	old.ev = event_new(f->base, old.master, EV_READ | EV_PERSIST, fake_read, &old);
	event_add(old.ev, NULL);
	memset(&f->fk, 0, sizeof(f->fk));
	fake_plug(&f->fk, f->base);
	make_link(f);
	f->nready = 0;
	WAIT_FOR(f, f->nready == 1 && f->fk.nat > 0);
	assert_int_equal(modem_state(f->m), MODEM_READY);
	fake_hangup(&old);
	close(old.slave);
}

/* The USB-reset rung is skipped, with a reason, for a port that is not a USB device. */
static void test_usb_reset_skips_non_usb(void **state)
{
	struct fx *f = *state;
	char err[256];

	assert_int_equal(serial_usb_reset(f->fk.slave_path, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "not a USB device"));
	assert_int_equal(serial_usb_reset("/nonexistent/tty", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/tty"));
}

/* A silent modem climbs every rung, the USB reset included (skipped on a pty), and still comes back. */
static void test_ladder_passes_usb_rung(void **state)
{
	struct fx *f = *state;

	f->fk.silent = true;
	make_modem(f, 100);
	/* resync is skipped (no answer to AT), then reopen, USB reset, reopen with back-off */
	WAIT_FOR(f, count_seen(f, MODEM_RECOVERING) >= 3);
	f->fk.silent = false;
	WAIT_FOR(f, modem_state(f->m) == MODEM_READY);
}

/* A modem that reboots with another SIM in it: sim_changed(old, new), once, and the new ICCID. */
static void test_sim_swap_reported(void **state)
{
	struct fx *f = *state;
	struct modem_info info;

	to_ready(f);
	assert_int_equal(f->nsim, 0);   /* the first ICCID is no change */
	f->fk.ccid = "89440000000000000099";
	fake_say(&f->fk, "\r\nRDY\r\n");
	WAIT_FOR(f, f->nready == 2);
	assert_int_equal(f->nsim, 1);
	assert_string_equal(f->old_iccid, "8944100030000000001");
	assert_string_equal(f->new_iccid, "89440000000000000099");
	modem_get_info(f->m, &info);
	assert_string_equal(info.iccid, "89440000000000000099");
	assert_string_equal(info.imei, "867856030000001");
	/* the same SIM after another reboot: no event */
	fake_say(&f->fk, "\r\nRDY\r\n");
	WAIT_FOR(f, f->nready == 3);
	assert_int_equal(f->nsim, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_to_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_cms_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_cms_network_timeout_uncertain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hangup_mid_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_timeout_is_uncertain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_rejected_when_not_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_modem_recovers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reboot_urc_reinitialises, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_inside_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absent_port_retries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
		cmocka_unit_test(test_dialect_table),
		cmocka_unit_test_setup_teardown(test_send_during_health_poll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disable_drains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huawei_dialect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_entered_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_pin_not_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port_locked_by_another, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unplug_replug, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_moved_reopens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usb_reset_skips_non_usb, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ladder_passes_usb_rung, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_swap_reported, setup, teardown),
	};

	log_init("test_modem", getenv("TEST_DEBUG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
