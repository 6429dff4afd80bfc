/* test_sim_at: gsmsim's AT interpreter, table-driven - command line syntax, results per +CMEE, the SIM
 * (PIN/PUK/absent), registration URCs, and the SMS storage reached through +CNMI/+CMGR/+CMGL/+CMGD. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "../../src/gsmsim/sim_at.h"
#include "../../src/gsmsim/sim_dialect.h"
#include "../../src/gsmsim/sim_store.h"
#include "simroute/log.h"
#include "simroute/pdu.h"

static struct sim_at *new_at(const char *dialect)
{
	const struct sim_dialect *d = sim_dialect_find(dialect);
	struct sim_identity id;

	assert_non_null(d);
	sim_dialect_identity(d, 0, 0, &id);
	return sim_at_new("t", d, &id);
}

/* Runs one line; returns the reply (static buffer) and the result through *r. */
static const char *run(struct sim_at *at, const char *line, enum sim_at_result *r)
{
	static char buf[8192];
	struct evbuffer *out = evbuffer_new();
	int len = 0;
	enum sim_at_result res = sim_at_line(at, line, out, &len);
	size_t n = evbuffer_get_length(out);

	assert_true(n < sizeof(buf));
	evbuffer_remove(out, buf, n);
	buf[n] = '\0';
	evbuffer_free(out);
	if (r)
		*r = res;
	return buf;
}

static const char *urcs(struct sim_at *at)
{
	static char buf[8192];
	struct evbuffer *u = sim_at_urc(at);
	size_t n = evbuffer_get_length(u);

	assert_true(n < sizeof(buf));
	evbuffer_remove(u, buf, n);
	buf[n] = '\0';
	return buf;
}

/* Expected answers from V.250 / TS 27.007 / TS 27.005 and the vendor manuals. */
static const struct { const char *dialect, *line, *reply; } cases[] = {
	{ "sim800", "AT", "\r\nOK\r\n" },
	{ "sim800", "at", "\r\nOK\r\n" },
	{ "sim800", "", "" },                                   /* V.250 5.2.1: empty line, no answer */
	{ "sim800", "hello", "" },                              /* no AT prefix: line noise */
	{ "sim800", "AT+NOSUCH", "\r\nERROR\r\n" },              /* +CMEE=0 */
	{ "sim800", "AT+CMEE=1;+NOSUCH", "\r\n+CME ERROR: 100\r\n" },
	{ "sim800", "AT+CMEE=2;+CMGR=0", "\r\n+CMS ERROR: invalid memory index\r\n" },
	{ "sim800", "AT+CSQ;+CPIN?", "\r\n+CSQ: 20,0\r\n\r\n+CPIN: READY\r\n\r\nOK\r\n" },
	{ "sim800", "AT + c s q", "\r\n+CSQ: 20,0\r\n\r\nOK\r\n" },  /* spaces ignored, case folded */
	{ "sim800", "AT+CREG?", "\r\n+CREG: 0,1\r\n\r\nOK\r\n" },
	{ "sim800", "AT+CEREG?", "\r\nERROR\r\n" },              /* 2G only */
	{ "sim800", "AT+CPMS?", "\r\n+CPMS: \"SM\",0,50,\"SM\",0,50,\"SM\",0,50\r\n\r\nOK\r\n" },
	{ "sim800", "AT+CMGS=0", "\r\nERROR\r\n" },
	{ "sim800", "AT+CMEE=1;+CMGS=0", "\r\n+CMS ERROR: 304\r\n" },
	{ "sim800", "AT+CMGL", "\r\nOK\r\n" },
	{ "sim800", "AT+CMEE=7", "\r\nERROR\r\n" },
	{ "quectel", "AT+CEREG?", "\r\n+CEREG: 0,1\r\n\r\nOK\r\n" },
	{ "quectel", "AT+CGMI", "\r\nQuectel\r\n\r\nOK\r\n" },
	{ "quectel", "AT+CPMS?", "\r\n+CPMS: \"SM\",0,255,\"SM\",0,255,\"SM\",0,255\r\n\r\nOK\r\n" },
	{ "quectel", "AT^CURC=0", "\r\nERROR\r\n" },              /* not a Huawei */
	{ "huawei", "AT^CURC=0", "\r\nOK\r\n" },
	{ "huawei", "AT^CURC?", "\r\n^CURC: 1\r\n\r\nOK\r\n" },
	{ "huawei", "AT+QCCID", "\r\nERROR\r\n" },
	{ "huawei", "AT+CGMI", "\r\nhuawei\r\n\r\nOK\r\n" },
};

static void test_table(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sim_at *at = new_at(cases[i].dialect);
		const char *got = run(at, cases[i].line, NULL);
		if (strcmp(got, cases[i].reply) != 0)
			fail_msg("%s %s: got \"%s\"", cases[i].dialect, cases[i].line, got);
		sim_at_free(at);
	}
}

static void test_cmgs_prompt_and_reboot(void **state)
{
	struct sim_at *at = new_at("sim800");
	enum sim_at_result r;

	assert_string_equal(run(at, "AT+CMGS=23", &r), "");
	assert_int_equal(r, SIM_AT_PROMPT);
	/* AT+CFUN=1,1 answers OK and asks the modem layer to reset; the rest of the line is lost */
	assert_string_equal(run(at, "AT+CFUN=1,1;+CSQ", &r), "\r\nOK\r\n");
	assert_int_equal(r, SIM_AT_REBOOT);
	assert_string_equal(run(at, "AT+CFUN=0", &r), "\r\nOK\r\n");
	assert_int_equal(r, SIM_AT_DONE);
	assert_int_equal(sim_at_submit_blocked(at), SIM_CMS_NO_NETWORK);
	assert_string_equal(run(at, "AT+CSQ", NULL), "\r\n+CSQ: 99,0\r\n\r\nOK\r\n");
	sim_at_free(at);
}

static void test_pin_puk_absent(void **state)
{
	struct sim_at *at = new_at("sim800");

	sim_at_boot(at);
	assert_string_equal(urcs(at), "\r\nRDY\r\n+CFUN: 1\r\n+CPIN: READY\r\nCall Ready\r\nSMS Ready\r\n");
	sim_at_set_pin(at, "1234");
	sim_at_boot(at);
	assert_string_equal(urcs(at), "\r\nRDY\r\n+CFUN: 1\r\n+CPIN: SIM PIN\r\nCall Ready\r\nSMS Ready\r\n");
	run(at, "ATE0", NULL);
	assert_string_equal(run(at, "AT+CMEE=1;+CPIN?", NULL), "\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n");
	assert_string_equal(run(at, "AT+CIMI", NULL), "\r\n+CME ERROR: 11\r\n");
	assert_string_equal(run(at, "AT+CMGL=4", NULL), "\r\n+CMS ERROR: 311\r\n");
	assert_string_equal(run(at, "AT+CREG?", NULL), "\r\n+CREG: 0,0\r\n\r\nOK\r\n");
	for (int i = 0; i < 3; i++)
		assert_string_equal(run(at, "AT+CPIN=\"9999\"", NULL), "\r\n+CME ERROR: 16\r\n");
	assert_int_equal(sim_at_sim(at), SIM_SIM_PUK);
	assert_string_equal(run(at, "AT+CPIN=\"1234\"", NULL), "\r\n+CME ERROR: 16\r\n");
	assert_string_equal(run(at, "AT+CPIN=\"12345678\",\"4321\"", NULL), "\r\nOK\r\n");
	assert_int_equal(sim_at_sim(at), SIM_SIM_READY);
	sim_at_set_sim(at, SIM_SIM_ABSENT);
	assert_string_equal(urcs(at), "\r\n+CPIN: NOT READY\r\n");
	assert_string_equal(run(at, "AT+CPIN?", NULL), "\r\n+CME ERROR: 10\r\n");
	assert_string_equal(run(at, "AT+CCID", NULL), "\r\n+CME ERROR: 10\r\n");
	sim_at_boot(at);
	assert_string_equal(urcs(at), "\r\nRDY\r\n+CFUN: 1\r\n+CPIN: NOT INSERTED\r\nCall Ready\r\nSMS Ready\r\n");
	sim_at_free(at);
}

static void test_registration_urcs(void **state)
{
	struct sim_at *at = new_at("quectel");

	run(at, "AT+CREG=1;+CEREG=2", NULL);
	sim_at_set_reg(at, 2);
	assert_string_equal(urcs(at), "\r\n+CREG: 2\r\n\r\n+CEREG: 2\r\n");
	sim_at_set_reg(at, 2);
	assert_string_equal(urcs(at), "");                          /* no change, no URC */
	sim_at_set_reg(at, 5);
	assert_string_equal(urcs(at), "\r\n+CREG: 5\r\n\r\n+CEREG: 5,\"1A2B\",\"0C06\",7\r\n");
	sim_at_set_signal(at, 9);
	assert_string_equal(urcs(at), "");                          /* +QIND csq is off by default */
	run(at, "AT+QINDCFG=\"csq\",1", NULL);
	sim_at_set_signal(at, 12);
	assert_string_equal(urcs(at), "\r\n+QIND: \"csq\",12,99\r\n");
	sim_at_free(at);
}

static void test_huawei_iccid_swapped_and_rssi(void **state)
{
	struct sim_at *at = new_at("huawei");
	const struct sim_identity *id = sim_at_identity(at);
	char want[64], sw[24];
	size_t n = strlen(id->iccid), k = 0;

	for (size_t i = 0; i < n; i += 2) {
		sw[k++] = i + 1 < n ? id->iccid[i + 1] : 'F';
		sw[k++] = id->iccid[i];
	}
	sw[k] = '\0';
	snprintf(want, sizeof(want), "\r\n^ICCID: %s\r\n\r\nOK\r\n", sw);
	assert_string_equal(run(at, "AT^ICCID?", NULL), want);
	sim_at_set_signal(at, 7);
	assert_string_equal(urcs(at), "\r\n^RSSI:7\r\n");            /* no space after the colon */
	run(at, "AT^CURC=0", NULL);
	sim_at_set_signal(at, 8);
	assert_string_equal(urcs(at), "");
	sim_at_free(at);
}

static void deliver(struct sim_at *at, const char *from, const char *text, enum sim_deliver want, int *index)
{
	struct pdu_submit *s;
	struct pdu_submit_opts o = { .smsc = "+46700000000" };

	assert_int_equal(pdu_encode_deliver(from, text, "2026-11-23T13:45:00+01:00", &o, &s), PDU_OK);
	assert_int_equal(sim_at_deliver(at, s->parts[0].hex, s->parts[0].length, false, index), want);
	pdu_submit_free(s);
}

static void test_inbound_storage(void **state)
{
	struct sim_at *at = new_at("sim800");
	int idx;
	char buf[64];

	run(at, "AT+CNMI=2,1,0,0,0", NULL);
	deliver(at, "+46701234567", "hello", SIM_DELIVER_STORED, &idx);
	assert_int_equal(idx, 1);
	assert_string_equal(urcs(at), "\r\n+CMTI: \"SM\",1\r\n");
	/* text mode: TS 27.005 3.4.3 +CMGR: <stat>,<oa>,[<alpha>],<scts> and <scts> in quarters of an hour */
	assert_string_equal(run(at, "AT+CMGF=1;+CMGR=1", NULL),
			    "\r\n+CMGR: \"REC UNREAD\",\"+46701234567\",,\"26/11/23,13:45:00+04\"\r\nhello\r\n\r\nOK\r\n");
	assert_string_equal(run(at, "AT+CMGL=\"REC UNREAD\"", NULL), "\r\nOK\r\n");
	assert_true(strncmp(run(at, "AT+CMGL=\"ALL\"", NULL), "\r\n+CMGL: 1,\"REC READ\",", 22) == 0);
	run(at, "AT+CMGF=0", NULL);
	sim_store_resize(sim_at_store(at), 2);
	deliver(at, "BANK", "code", SIM_DELIVER_STORED, &idx);
	assert_int_equal(idx, 2);
	deliver(at, "BANK", "code", SIM_DELIVER_FULL, &idx);
	urcs(at);
	assert_string_equal(run(at, "AT+CPMS?", NULL), "\r\n+CPMS: \"SM\",2,2,\"SM\",2,2,\"SM\",2,2\r\n\r\nOK\r\n");
	assert_string_equal(run(at, "AT+CMGD=1,1", NULL), "\r\nOK\r\n");     /* delete all read: index 1 */
	assert_int_equal(sim_store_used(sim_at_store(at)), 1);
	assert_string_equal(run(at, "AT+CMGD=0,4", NULL), "\r\nOK\r\n");
	assert_int_equal(sim_store_used(sim_at_store(at)), 0);
	/* +CNMI <mt>=2: +CMT with the PDU, nothing stored */
	run(at, "AT+CNMI=2,2,0,0,0", NULL);
	deliver(at, "+46701234567", "direct", SIM_DELIVER_DIRECT, &idx);
	snprintf(buf, sizeof(buf), "%.12s", urcs(at));
	assert_string_equal(buf, "\r\n+CMT: \"\",2");   /* SIM800's empty <alpha> */
	sim_at_free(at);
}

static void test_status_report_routing(void **state)
{
	struct sim_at *at = new_at("sim800");
	struct pdu_part part;
	int idx;

	assert_int_equal(pdu_encode_status_report(7, "+46701234567", "2026-11-23T13:45:00+00:00",
						  "2026-11-23T13:45:05+00:00", 0, NULL, &part), PDU_OK);
	/* TS 27.005 3.4.1 <ds>: 0 none, 1 +CDS, 2 stored + +CDSI */
	assert_int_equal(sim_at_deliver(at, part.hex, part.length, true, &idx), SIM_DELIVER_DROPPED);
	run(at, "AT+CNMI=2,1,0,1,0", NULL);
	assert_int_equal(sim_at_deliver(at, part.hex, part.length, true, &idx), SIM_DELIVER_DIRECT);
	assert_true(strncmp(urcs(at), "\r\n+CDS: ", 8) == 0);
	run(at, "AT+CNMI=2,1,0,2,0", NULL);
	assert_int_equal(sim_at_deliver(at, part.hex, part.length, true, &idx), SIM_DELIVER_STORED);
	assert_string_equal(urcs(at), "\r\n+CDSI: \"SM\",1\r\n");
	sim_at_free(at);
}

static void test_text_mode_submit(void **state)
{
	struct sim_at *at = new_at("quectel");
	struct pdu_decoded d;
	char hex[PDU_HEX_MAX];
	enum sim_at_result r;
	int len = -1;
	struct evbuffer *out = evbuffer_new();

	assert_int_equal(sim_at_line(at, "AT+CMGF=1;+CMGS=\"+46708251358\"", out, &len), SIM_AT_PROMPT);
	assert_int_equal(len, 0);                                   /* 0: text follows, not a PDU */
	evbuffer_free(out);
	assert_int_equal(sim_at_text_submit(at, "hello", hex, sizeof(hex)), 0);
	assert_int_equal(pdu_decode_submit(hex, true, &d), PDU_OK);
	assert_string_equal(d.addr, "+46708251358");
	assert_string_equal(d.text, "hello");
	assert_false(d.srr);
	/* UCS2 character set: both the number and the text are hex of UTF-16BE (a surrogate pair too) */
	run(at, "AT+CSCS=\"UCS2\";+CSMP=49,167,0,8", &r);
	assert_int_equal(sim_at_line(at, "AT+CMGS=\"002B00340036\"", out = evbuffer_new(), &len), SIM_AT_PROMPT);
	evbuffer_free(out);
	assert_int_equal(sim_at_text_submit(at, "0041D83DDE00", hex, sizeof(hex)), 0);
	assert_int_equal(pdu_decode_submit(hex, true, &d), PDU_OK);
	assert_string_equal(d.addr, "+46");
	assert_string_equal(d.text, "A\xf0\x9f\x98\x80");
	assert_true(d.srr);
	assert_int_equal(d.validity_minutes, 1440);
	assert_int_equal(sim_at_text_submit(at, "004", hex, sizeof(hex)), SIM_CMS_INVALID_TEXT_PARAM);
	assert_int_equal(sim_at_text_submit(at, "D83D0041", hex, sizeof(hex)), SIM_CMS_INVALID_TEXT_PARAM);
	sim_at_free(at);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_cmgs_prompt_and_reboot),
		cmocka_unit_test(test_pin_puk_absent),
		cmocka_unit_test(test_registration_urcs),
		cmocka_unit_test(test_huawei_iccid_swapped_and_rssi),
		cmocka_unit_test(test_inbound_storage),
		cmocka_unit_test(test_status_report_routing),
		cmocka_unit_test(test_text_mode_submit),
	};

	log_init("test_sim_at", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
