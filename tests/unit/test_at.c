/* test_at: the AT channel over a real pty, the test playing the modem on the master side. */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "modem/at.h"
#include "simroute/log.h"

#define MAX_URC 16
#define WAIT_MS 3000     /* a generous upper bound: the tests wait for events, not for time */

struct fx {
	struct event_base *base;
	int master, slave;
	struct at_chan *ch;
	/* modem side: everything the channel wrote */
	char out[8192];
	size_t outlen;
	/* results */
	int ndone;
	enum at_result result;
	int err;
	bool pdu_written;
	char lines[16][1100];
	size_t nlines;
	char urc[MAX_URC][1100], urc_pdu[MAX_URC][1100];
	bool urc_has_pdu[MAX_URC];
	int nurc;
	int nfail;
	int fail_err;
	bool free_in_done;
	bool next_in_done;
};

static void on_done(void *arg, const struct at_reply *r)
{
	struct fx *f = arg;

	f->ndone++;
	f->result = r->result;
	f->err = r->err;
	f->pdu_written = r->pdu_written;
	f->nlines = 0;
	for (size_t i = 0; i < r->nlines && i < 16; i++)
		snprintf(f->lines[f->nlines++], sizeof(f->lines[0]), "%s", r->lines[i]);
	if (f->free_in_done) {
		at_free(f->ch);
		f->ch = NULL;
	} else if (f->next_in_done) {
		f->next_in_done = false;
		assert_int_equal(at_command(f->ch, "AT+NEXT", 1000, on_done, f), 0);
	}
}

static void on_urc(void *arg, const char *line, const char *pdu)
{
	struct fx *f = arg;

	if (f->nurc >= MAX_URC)
		return;
	snprintf(f->urc[f->nurc], sizeof(f->urc[0]), "%s", line);
	f->urc_has_pdu[f->nurc] = pdu != NULL;
	snprintf(f->urc_pdu[f->nurc], sizeof(f->urc_pdu[0]), "%s", pdu ? pdu : "");
	f->nurc++;
}

static void on_fail(void *arg, int err)
{
	struct fx *f = arg;

	f->nfail++;
	f->fail_err = err;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct termios t;

	assert_non_null(f);
	memset(&t, 0, sizeof(t));
	cfmakeraw(&t);
	assert_int_equal(openpty(&f->master, &f->slave, NULL, &t, NULL), 0);
	assert_int_equal(fcntl(f->slave, F_SETFL, fcntl(f->slave, F_GETFL) | O_NONBLOCK), 0);
	assert_int_equal(fcntl(f->master, F_SETFL, fcntl(f->master, F_GETFL) | O_NONBLOCK), 0);
	f->base = event_base_new();
	f->ch = at_new(f->base, f->slave, "t1", on_urc, on_fail, f);
	assert_non_null(f->ch);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	at_free(f->ch);
	if (f->master != -1)
		close(f->master);
	close(f->slave);
	event_base_free(f->base);
	free(f);
	return 0;
}

/* Run the loop briefly and collect what the channel wrote to the "modem". */
static void pump(struct fx *f)
{
	struct timeval tv = { 0, 5000 };
	ssize_t n;

	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
	if (f->master == -1)
		return;
	while ((n = read(f->master, f->out + f->outlen, sizeof(f->out) - 1 - f->outlen)) > 0)
		f->outlen += (size_t)n;
	f->out[f->outlen] = '\0';
}

static int elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int)((t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000);
}

/* Pump until the channel has written `s` (then forget what was read up to its end). */
static void expect_written(struct fx *f, const char *s)
{
	struct timespec t0;
	char *p;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!(p = memmem(f->out, f->outlen, s, strlen(s))) && elapsed_ms(&t0) < WAIT_MS)
		pump(f);
	if (!p)
		fail_msg("channel never wrote \"%s\" (wrote \"%s\")", s, f->out);
	size_t used = (size_t)(p - f->out) + strlen(s);
	memmove(f->out, f->out + used, f->outlen - used);
	f->outlen -= used;
	f->out[f->outlen] = '\0';
}

static void modem_says(struct fx *f, const char *s)
{
	assert_int_equal(write(f->master, s, strlen(s)), (ssize_t)strlen(s));
}

static void wait_done(struct fx *f, int n)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (f->ndone < n && elapsed_ms(&t0) < WAIT_MS)
		pump(f);
	assert_int_equal(f->ndone, n);
}

static void test_ok_with_lines(void **state)
{
	struct fx *f = *state;

	assert_int_equal(at_command(f->ch, "AT+CGMI", 1000, on_done, f), 0);
	assert_true(at_busy(f->ch));
	expect_written(f, "AT+CGMI\r");
	modem_says(f, "\r\nSIMCOM_Ltd\r\n\r\nOK\r\n");
	wait_done(f, 1);
	assert_int_equal(f->result, AT_RES_OK);
	assert_int_equal(f->nlines, 1);
	assert_string_equal(f->lines[0], "SIMCOM_Ltd");
	assert_false(at_busy(f->ch));
}

static void test_error_codes(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *reply;
		enum at_result res;
		int err;
	} cases[] = {
		{ "\r\nERROR\r\n", AT_RES_ERROR, -1 },
		{ "\r\n+CME ERROR: 10\r\n", AT_RES_CME_ERROR, 10 },
		{ "\r\n+CMS ERROR: 38\r\n", AT_RES_CMS_ERROR, 38 },
		{ "\r\n+CME ERROR: SIM not inserted\r\n", AT_RES_CME_ERROR, -1 },
		{ "\r\n+CMS ERROR: 500\r\n", AT_RES_CMS_ERROR, 500 },
		{ "\r\nCOMMAND NOT SUPPORT\r\n", AT_RES_ERROR, -1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(at_command(f->ch, "AT+X", 1000, on_done, f), 0);
		expect_written(f, "AT+X\r");
		modem_says(f, cases[i].reply);
		wait_done(f, (int)i + 1);
		assert_int_equal(f->result, cases[i].res);
		assert_int_equal(f->err, cases[i].err);
		assert_int_equal(f->nlines, 0);
	}
}

/* A line containing "OK" or "ERROR" is not a final result unless it is exactly one. */
static void test_only_exact_finals(void **state)
{
	struct fx *f = *state;

	assert_int_equal(at_command(f->ch, "ATI", 1000, on_done, f), 0);
	expect_written(f, "ATI\r");
	modem_says(f, "\r\nMODEM OK 2000\r\nERRORS: none\r\n");
	pump(f);
	pump(f);
	assert_int_equal(f->ndone, 0);
	modem_says(f, "\r\nOK\r\n");
	wait_done(f, 1);
	assert_int_equal(f->nlines, 2);
	assert_string_equal(f->lines[0], "MODEM OK 2000");
}

static void test_echo_dropped(void **state)
{
	struct fx *f = *state;

	assert_int_equal(at_command(f->ch, "AT+CSQ", 1000, on_done, f), 0);
	expect_written(f, "AT+CSQ\r");
	modem_says(f, "AT+CSQ\r\r\n+CSQ: 17,0\r\n\r\nOK\r\n");
	wait_done(f, 1);
	assert_int_equal(f->result, AT_RES_OK);
	assert_int_equal(f->nlines, 1);
	assert_string_equal(f->lines[0], "+CSQ: 17,0");
}

static void test_urc_inside_command(void **state)
{
	struct fx *f = *state;

	assert_int_equal(at_command(f->ch, "AT+CMGL=4", 1000, on_done, f), 0);
	expect_written(f, "AT+CMGL=4\r");
	modem_says(f, "\r\n+CMGL: 1,1,,23\r\n^RSSI:12\r\n07911326040000F0\r\n+CMTI: \"SM\",3\r\n"
		      "RING\r\n+CREG: 1\r\n\r\nOK\r\n");
	wait_done(f, 1);
	assert_int_equal(f->result, AT_RES_OK);
	assert_int_equal(f->nlines, 2);
	assert_string_equal(f->lines[0], "+CMGL: 1,1,,23");
	assert_string_equal(f->lines[1], "07911326040000F0");
	assert_int_equal(f->nurc, 4);
	assert_string_equal(f->urc[0], "^RSSI:12");
	assert_string_equal(f->urc[1], "+CMTI: \"SM\",3");
	assert_string_equal(f->urc[2], "RING");
	assert_string_equal(f->urc[3], "+CREG: 1");
	assert_false(f->urc_has_pdu[1]);
}

/* +CREG:/+CPIN: answer their own queries; with another command in flight they are URCs. */
static void test_query_prefix_is_reply(void **state)
{
	struct fx *f = *state;

	assert_int_equal(at_command(f->ch, "AT+CREG?", 1000, on_done, f), 0);
	expect_written(f, "AT+CREG?\r");
	modem_says(f, "\r\n+CREG: 0,1\r\n\r\nOK\r\n");
	wait_done(f, 1);
	assert_int_equal(f->nlines, 1);
	assert_string_equal(f->lines[0], "+CREG: 0,1");
	assert_int_equal(f->nurc, 0);

	assert_int_equal(at_command(f->ch, "AT+CPIN?", 1000, on_done, f), 0);
	expect_written(f, "AT+CPIN?\r");
	modem_says(f, "\r\n+CPIN: READY\r\n\r\nOK\r\n");
	wait_done(f, 2);
	assert_string_equal(f->lines[0], "+CPIN: READY");

	assert_int_equal(at_command(f->ch, "AT+CSQ", 1000, on_done, f), 0);
	expect_written(f, "AT+CSQ\r");
	modem_says(f, "\r\n+CPIN: NOT READY\r\n+CSQ: 5,0\r\n\r\nOK\r\n");
	wait_done(f, 3);
	assert_int_equal(f->nlines, 1);
	assert_string_equal(f->lines[0], "+CSQ: 5,0");
	assert_int_equal(f->nurc, 1);
	assert_string_equal(f->urc[0], "+CPIN: NOT READY");
}

static void test_two_line_urcs(void **state)
{
	struct fx *f = *state;

	/* idle */
	modem_says(f, "\r\n+CMT: ,24\r\n07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07\r\n");
	modem_says(f, "\r\n+CDS: 25\r\n0006D60B911326880736F4111011719551401110117195714000\r\n");
	pump(f);
	pump(f);
	/* and inside a command: the PDU line is not a reply line */
	assert_int_equal(at_command(f->ch, "AT+CSQ", 1000, on_done, f), 0);
	expect_written(f, "AT+CSQ\r");
	modem_says(f, "\r\n+CMT: ,3\r\n0011AA\r\n+CSQ: 9,0\r\n\r\nOK\r\n");
	wait_done(f, 1);
	assert_int_equal(f->nlines, 1);
	assert_string_equal(f->lines[0], "+CSQ: 9,0");
	assert_int_equal(f->nurc, 3);
	assert_string_equal(f->urc[0], "+CMT: ,24");
	assert_true(f->urc_has_pdu[0]);
	assert_string_equal(f->urc_pdu[0],
			    "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07");
	assert_string_equal(f->urc[1], "+CDS: 25");
	assert_string_equal(f->urc_pdu[1], "0006D60B911326880736F4111011719551401110117195714000");
	assert_string_equal(f->urc[2], "+CMT: ,3");
	assert_string_equal(f->urc_pdu[2], "0011AA");
}

static void test_pdu_prompt(void **state)
{
	struct fx *f = *state;

	assert_int_equal(at_command_pdu(f->ch, "AT+CMGS=13", "0001000B914477009001230000014F", 1000, on_done,
					f), 0);
	expect_written(f, "AT+CMGS=13\r");
	/* nothing else is written before the prompt */
	pump(f);
	assert_int_equal(f->outlen, 0);
	modem_says(f, "\r\n> ");
	expect_written(f, "0001000B914477009001230000014F\x1a");
	modem_says(f, "\r\n+CMGS: 5\r\n\r\nOK\r\n");
	wait_done(f, 1);
	assert_int_equal(f->result, AT_RES_OK);
	assert_true(f->pdu_written);
	assert_int_equal(f->nlines, 1);
	assert_string_equal(f->lines[0], "+CMGS: 5");
}

static void test_pdu_cms_error_before_prompt(void **state)
{
	struct fx *f = *state;

	assert_int_equal(at_command_pdu(f->ch, "AT+CMGS=13", "00AA", 1000, on_done, f), 0);
	expect_written(f, "AT+CMGS=13\r");
	modem_says(f, "\r\n+CMS ERROR: 304\r\n");
	wait_done(f, 1);
	assert_int_equal(f->result, AT_RES_CMS_ERROR);
	assert_int_equal(f->err, 304);
	assert_false(f->pdu_written);
}

static void test_timeout(void **state)
{
	struct fx *f = *state;

	assert_int_equal(at_command(f->ch, "AT+SLOW", 50, on_done, f), 0);
	expect_written(f, "AT+SLOW\r");
	wait_done(f, 1);
	assert_int_equal(f->result, AT_RES_TIMEOUT);
	/* a late reply belongs to nobody and does not complete the next command */
	assert_int_equal(at_command(f->ch, "AT+NEXT", 1000, on_done, f), 0);
	expect_written(f, "AT+NEXT\r");
	modem_says(f, "\r\n+NEXT: 1\r\n\r\nOK\r\n");
	wait_done(f, 2);
	assert_int_equal(f->result, AT_RES_OK);
}

static void test_no_prompt_sends_esc(void **state)
{
	struct fx *f = *state;

	assert_int_equal(at_command_pdu(f->ch, "AT+CMGS=13", "00AA", 50, on_done, f), 0);
	expect_written(f, "AT+CMGS=13\r");
	wait_done(f, 1);
	assert_int_equal(f->result, AT_RES_TIMEOUT);
	assert_false(f->pdu_written);
	expect_written(f, "\x1b");
	assert_null(memchr(f->out, 0x1a, f->outlen));
}

static void test_timeout_after_pdu(void **state)
{
	struct fx *f = *state;

	assert_int_equal(at_command_pdu(f->ch, "AT+CMGS=13", "00AA", 50, on_done, f), 0);
	expect_written(f, "AT+CMGS=13\r");
	modem_says(f, "\r\n> ");
	expect_written(f, "00AA\x1a");
	wait_done(f, 1);
	assert_int_equal(f->result, AT_RES_TIMEOUT);
	assert_true(f->pdu_written);
}

/* A modem that swallows AT+CMGS is given up after the prompt wait, not the network submit's wait. */
static void test_prompt_timeout_shorter_than_send(void **state)
{
	struct fx *f = *state;

	at_set_prompt_timeout(f->ch, 50);
	assert_int_equal(at_command_pdu(f->ch, "AT+CMGS=13", "00AA", 600000, on_done, f), 0);
	expect_written(f, "AT+CMGS=13\r");
	wait_done(f, 1);   /* within the test's wait bound: not after ten minutes */
	assert_int_equal(f->result, AT_RES_TIMEOUT);
	assert_false(f->pdu_written);
	expect_written(f, "\x1b");
	at_set_prompt_timeout(f->ch, 0);
}

static void test_injection_rejected(void **state)
{
	struct fx *f = *state;

	assert_int_equal(at_command(f->ch, "AT+CMGS=1\rATZ", 1000, on_done, f), -1);
	assert_int_equal(at_command(f->ch, "AT\n", 1000, on_done, f), -1);
	assert_int_equal(at_command(f->ch, "AT\x1a", 1000, on_done, f), -1);
	assert_int_equal(at_command(f->ch, "AT\x1b", 1000, on_done, f), -1);
	assert_int_equal(at_command(f->ch, "AT\xc3\xa9", 1000, on_done, f), -1);
	assert_int_equal(at_command(f->ch, "", 1000, on_done, f), -1);
	assert_int_equal(at_command_pdu(f->ch, "AT+CMGS=1", "00AA\x1a" "ATZ", 1000, on_done, f), -1);
	assert_int_equal(at_command_pdu(f->ch, "AT+CMGS=1", "00AG", 1000, on_done, f), -1);
	assert_int_equal(at_command_pdu(f->ch, "AT+CMGS=1", "00A", 1000, on_done, f), -1);
	assert_int_equal(at_command_pdu(f->ch, "AT+CMGS=1", "", 1000, on_done, f), -1);
	assert_false(at_busy(f->ch));
	pump(f);
	assert_int_equal(f->outlen, 0);
	/* one in flight at a time */
	assert_int_equal(at_command(f->ch, "AT", 1000, on_done, f), 0);
	assert_int_equal(at_command(f->ch, "AT", 1000, on_done, f), -1);
}

static void test_garbage_and_overlong(void **state)
{
	struct fx *f = *state;
	char big[3000];

	memset(big, 'x', sizeof(big));
	assert_int_equal(at_command(f->ch, "AT+CSQ", 1000, on_done, f), 0);
	expect_written(f, "AT+CSQ\r");
	assert_int_equal(write(f->master, big, sizeof(big)), (ssize_t)sizeof(big));
	{
		static const char tail[] = "tail of the long line\r\n\x01\xff\x80garbage\0\r\n+CSQ: 20,99\r\n\r\nOK\r\n";
		assert_int_equal(write(f->master, tail, sizeof(tail) - 1), (ssize_t)sizeof(tail) - 1);
	}
	wait_done(f, 1);
	assert_int_equal(f->result, AT_RES_OK);
	assert_int_equal(f->nlines, 2);   /* the overlong line and its tail are gone; the garbage line stays */
	assert_string_equal(f->lines[1], "+CSQ: 20,99");
}

static void test_eof_fails_once(void **state)
{
	struct fx *f = *state;
	struct timespec t0;

	assert_int_equal(at_command(f->ch, "AT+CSQ", 5000, on_done, f), 0);
	expect_written(f, "AT+CSQ\r");
	close(f->master);
	f->master = -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (f->nfail == 0 && elapsed_ms(&t0) < WAIT_MS)
		pump(f);
	assert_int_equal(f->nfail, 1);
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->result, AT_RES_IO);
	pump(f);
	pump(f);
	assert_int_equal(f->nfail, 1);
	assert_int_equal(at_command(f->ch, "AT", 1000, on_done, f), -1);
}

static void test_free_inside_done(void **state)
{
	struct fx *f = *state;

	f->free_in_done = true;
	assert_int_equal(at_command(f->ch, "AT", 1000, on_done, f), 0);
	expect_written(f, "AT\r");
	/* the OK and a URC after it arrive in one read: the channel must stop after the free */
	modem_says(f, "\r\nOK\r\n+CMTI: \"SM\",1\r\n");
	wait_done(f, 1);
	assert_null(f->ch);
	assert_int_equal(f->nurc, 0);
}

static void test_next_command_inside_done(void **state)
{
	struct fx *f = *state;

	f->next_in_done = true;
	assert_int_equal(at_command(f->ch, "AT", 1000, on_done, f), 0);
	expect_written(f, "AT\r");
	modem_says(f, "\r\nOK\r\n");
	wait_done(f, 1);
	expect_written(f, "AT+NEXT\r");
	modem_says(f, "\r\nERROR\r\n");
	wait_done(f, 2);
	assert_int_equal(f->result, AT_RES_ERROR);
}

static void test_sync_discards_esc_answer(void **state)
{
	struct fx *f = *state;

	assert_int_equal(at_sync(f->ch, 1000, on_done, f), 0);
	expect_written(f, "\x1b");
	/* a modem leaving PDU input may answer the ESC: that answer must not complete the AT */
	modem_says(f, "\r\nOK\r\n");
	expect_written(f, "AT\r");
	assert_int_equal(f->ndone, 0);
	modem_says(f, "\r\nERROR\r\n");
	wait_done(f, 1);
	assert_int_equal(f->result, AT_RES_ERROR);
}

static void test_unexpected_prompt_gets_esc(void **state)
{
	struct fx *f = *state;

	modem_says(f, "\r\n> ");
	expect_written(f, "\x1b");
}

static void test_free_cancels(void **state)
{
	struct fx *f = *state;

	assert_int_equal(at_command(f->ch, "AT", 1000, on_done, f), 0);
	at_free(f->ch);
	f->ch = NULL;
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->result, AT_RES_CANCELLED);
	assert_string_equal(at_result_name(AT_RES_CANCELLED), "CANCELLED");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ok_with_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_codes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_only_exact_finals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_urc_inside_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_prefix_is_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_line_urcs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pdu_prompt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pdu_cms_error_before_prompt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_prompt_sends_esc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_after_pdu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prompt_timeout_shorter_than_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_injection_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_and_overlong, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eof_fails_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_inside_done, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_command_inside_done, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_discards_esc_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unexpected_prompt_gets_esc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_cancels, setup, teardown),
	};

	log_init("test_at", getenv("TEST_DEBUG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
