/* test_cms: the +CMS/+CME ERROR classification, row by row as docs/cms-errors.md documents it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "simroute/cms.h"

struct row {
	int code;
	enum cms_class cls;
	bool may_have_sent;
	const char *meaning;
};

/* docs/cms-errors.md, first table (TS 24.011 E.1/E.2, TS 23.040 9.2.3.22, TS 27.005 3.2.5) */
static const struct row cms_doc[] = {
	{ 1, CMS_PERMANENT, false, "unassigned (unallocated) number" },
	{ 8, CMS_COOL_DOWN, false, "operator determined barring" },
	{ 10, CMS_TRY_ANOTHER, false, "call barred" },
	{ 17, CMS_TRY_ANOTHER, false, "network failure" },
	{ 21, CMS_TRY_ANOTHER, false, "short message transfer rejected" },
	{ 22, CMS_RETRY_SAME, false, "congestion / memory capacity exceeded" },
	{ 27, CMS_RETRY_SAME, false, "destination out of service" },
	{ 28, CMS_COOL_DOWN, false, "unidentified subscriber" },
	{ 29, CMS_TRY_ANOTHER, false, "facility rejected" },
	{ 30, CMS_COOL_DOWN, false, "unknown subscriber" },
	{ 38, CMS_COOL_DOWN, false, "network out of order" },
	{ 41, CMS_RETRY_SAME, false, "temporary failure" },
	{ 42, CMS_RETRY_SAME, false, "congestion" },
	{ 47, CMS_RETRY_SAME, false, "resources unavailable, unspecified" },
	{ 50, CMS_COOL_DOWN, false, "requested facility not subscribed" },
	{ 69, CMS_TRY_ANOTHER, false, "requested facility not implemented" },
	{ 81, CMS_RETRY_SAME, false, "invalid short message transfer reference value" },
	{ 95, CMS_PERMANENT, false, "semantically incorrect message" },
	{ 96, CMS_PERMANENT, false, "invalid mandatory information" },
	{ 97, CMS_TRY_ANOTHER, false, "message type non-existent or not implemented" },
	{ 98, CMS_RETRY_SAME, false, "message not compatible with short message protocol state" },
	{ 99, CMS_TRY_ANOTHER, false, "information element non-existent or not implemented" },
	{ 111, CMS_RETRY_SAME, false, "protocol error, unspecified" },
	{ 127, CMS_RETRY_SAME, false, "interworking, unspecified" },
	{ 128, CMS_PERMANENT, false, "telematic interworking not supported" },
	{ 129, CMS_PERMANENT, false, "short message type 0 not supported" },
	{ 130, CMS_PERMANENT, false, "cannot replace short message" },
	{ 143, CMS_PERMANENT, false, "unspecified TP-PID error" },
	{ 144, CMS_PERMANENT, false, "data coding scheme (alphabet) not supported" },
	{ 145, CMS_PERMANENT, false, "message class not supported" },
	{ 159, CMS_PERMANENT, false, "unspecified TP-DCS error" },
	{ 160, CMS_PERMANENT, false, "command cannot be actioned" },
	{ 161, CMS_PERMANENT, false, "command unsupported" },
	{ 175, CMS_PERMANENT, false, "unspecified TP-Command error" },
	{ 176, CMS_PERMANENT, false, "TPDU not supported" },
	{ 192, CMS_RETRY_SAME, false, "SC busy" },
	{ 193, CMS_COOL_DOWN, false, "no SC subscription" },
	{ 194, CMS_TRY_ANOTHER, false, "SC system failure" },
	{ 195, CMS_PERMANENT, false, "invalid SME address" },
	{ 196, CMS_PERMANENT, false, "destination SME barred" },
	{ 197, CMS_PERMANENT, false, "SM rejected: duplicate SM" },
	{ 198, CMS_PERMANENT, false, "TP-VPF not supported" },
	{ 199, CMS_PERMANENT, false, "TP-VP not supported" },
	{ 208, CMS_TRY_ANOTHER, false, "(U)SIM SMS storage full" },
	{ 209, CMS_TRY_ANOTHER, false, "no SMS storage capability in (U)SIM" },
	{ 210, CMS_RETRY_SAME, false, "error in MS" },
	{ 211, CMS_RETRY_SAME, false, "memory capacity exceeded" },
	{ 212, CMS_RETRY_SAME, false, "(U)SIM application toolkit busy" },
	{ 213, CMS_RETRY_SAME, false, "(U)SIM data download error" },
	{ 255, CMS_TRY_ANOTHER, false, "unspecified error cause" },
	{ 300, CMS_COOL_DOWN, false, "ME failure" },
	{ 301, CMS_COOL_DOWN, false, "SMS service of ME reserved" },
	{ 302, CMS_TRY_ANOTHER, false, "operation not allowed" },
	{ 303, CMS_COOL_DOWN, false, "operation not supported" },
	{ 304, CMS_PERMANENT, false, "invalid PDU mode parameter" },
	{ 305, CMS_PERMANENT, false, "invalid text mode parameter" },
	{ 310, CMS_COOL_DOWN, false, "(U)SIM not inserted" },
	{ 311, CMS_COOL_DOWN, false, "(U)SIM PIN required" },
	{ 312, CMS_COOL_DOWN, false, "PH-(U)SIM PIN required" },
	{ 313, CMS_COOL_DOWN, false, "(U)SIM failure" },
	{ 314, CMS_RETRY_SAME, false, "(U)SIM busy" },
	{ 315, CMS_COOL_DOWN, false, "(U)SIM wrong" },
	{ 316, CMS_COOL_DOWN, false, "(U)SIM PUK required" },
	{ 317, CMS_COOL_DOWN, false, "(U)SIM PIN2 required" },
	{ 318, CMS_COOL_DOWN, false, "(U)SIM PUK2 required" },
	{ 320, CMS_TRY_ANOTHER, false, "memory failure" },
	{ 321, CMS_TRY_ANOTHER, false, "invalid memory index" },
	{ 322, CMS_TRY_ANOTHER, false, "memory full" },
	{ 330, CMS_COOL_DOWN, false, "SMSC address unknown" },
	{ 331, CMS_TRY_ANOTHER, false, "no network service" },
	{ 332, CMS_TRY_ANOTHER, true, "network timeout" },
	{ 340, CMS_RETRY_SAME, false, "no +CNMA acknowledgement expected" },
	{ 500, CMS_TRY_ANOTHER, false, "unknown error" },
};
/* docs/cms-errors.md, +CME ERROR table (TS 27.007 9.2.1) */
static const struct row cme_doc[] = {
	{ 0, CMS_COOL_DOWN, false, "phone failure" },
	{ 3, CMS_TRY_ANOTHER, false, "operation not allowed" },
	{ 4, CMS_COOL_DOWN, false, "operation not supported" },
	{ 5, CMS_COOL_DOWN, false, "PH-SIM PIN required" },
	{ 10, CMS_COOL_DOWN, false, "SIM not inserted" },
	{ 11, CMS_COOL_DOWN, false, "SIM PIN required" },
	{ 12, CMS_COOL_DOWN, false, "SIM PUK required" },
	{ 13, CMS_COOL_DOWN, false, "SIM failure" },
	{ 14, CMS_RETRY_SAME, false, "SIM busy" },
	{ 15, CMS_COOL_DOWN, false, "SIM wrong" },
	{ 17, CMS_COOL_DOWN, false, "SIM PIN2 required" },
	{ 18, CMS_COOL_DOWN, false, "SIM PUK2 required" },
	{ 20, CMS_TRY_ANOTHER, false, "memory full" },
	{ 23, CMS_TRY_ANOTHER, false, "memory failure" },
	{ 30, CMS_TRY_ANOTHER, false, "no network service" },
	{ 31, CMS_TRY_ANOTHER, true, "network timeout" },
	{ 32, CMS_COOL_DOWN, false, "network not allowed, emergency calls only" },
	{ 100, CMS_TRY_ANOTHER, false, "unknown" },
};


#define N(a) (sizeof(a) / sizeof((a)[0]))

static void check_row(const struct row *r, enum cms_class (*classify)(int), const char *(*meaning)(int),
		      bool (*may)(int))
{
	char what[160];

	snprintf(what, sizeof(what), "code %d (%s)", r->code, r->meaning);
	if (classify(r->code) != r->cls)
		fail_msg("%s: class %s, documented %s", what, cms_class_name(classify(r->code)),
			 cms_class_name(r->cls));
	if (strcmp(meaning(r->code), r->meaning) != 0)
		fail_msg("%s: meaning \"%s\"", what, meaning(r->code));
	if (may(r->code) != r->may_have_sent)
		fail_msg("%s: may_have_sent %d", what, may(r->code));
}

static void test_cms_rows(void **state)
{
	for (size_t i = 0; i < N(cms_doc); i++)
		check_row(&cms_doc[i], cms_classify, cms_meaning, cms_may_have_sent);
}

static void test_cme_rows(void **state)
{
	for (size_t i = 0; i < N(cme_doc); i++)
		check_row(&cme_doc[i], cme_classify, cme_meaning, cme_may_have_sent);
}

/* Codes with no row: the per-range defaults of the doc's second table. */
static void test_ranges(void **state)
{
	static const struct {
		int code;
		enum cms_class cls;
		const char *meaning;
	} ranges[] = {
		{ 0, CMS_RETRY_SAME, "reserved RP-cause" },
		{ 2, CMS_RETRY_SAME, "reserved RP-cause" },
		{ 126, CMS_RETRY_SAME, "reserved RP-cause" },
		{ 131, CMS_TRY_ANOTHER, "reserved TP-failure-cause" },
		{ 200, CMS_TRY_ANOTHER, "reserved TP-failure-cause" },
		{ 224, CMS_TRY_ANOTHER, "SC specific error" },
		{ 254, CMS_TRY_ANOTHER, "SC specific error" },
		{ 256, CMS_TRY_ANOTHER, "unknown error" },
		{ 333, CMS_TRY_ANOTHER, "unknown error" },
		{ 511, CMS_TRY_ANOTHER, "unknown error" },
		{ 512, CMS_TRY_ANOTHER, "manufacturer specific error" },
		{ 65535, CMS_TRY_ANOTHER, "manufacturer specific error" },
		{ -1, CMS_TRY_ANOTHER, "unknown error" },
		{ INT32_MIN, CMS_TRY_ANOTHER, "unknown error" },
	};

	for (size_t i = 0; i < N(ranges); i++) {
		if (cms_classify(ranges[i].code) != ranges[i].cls)
			fail_msg("code %d: class %s", ranges[i].code, cms_class_name(cms_classify(ranges[i].code)));
		assert_string_equal(cms_meaning(ranges[i].code), ranges[i].meaning);
		assert_false(cms_may_have_sent(ranges[i].code));
	}
	assert_int_equal(cme_classify(-1), CMS_TRY_ANOTHER);
	assert_int_equal(cme_classify(9999), CMS_TRY_ANOTHER);
	assert_string_equal(cme_meaning(9999), "unknown error");
}

static void test_class_names(void **state)
{
	assert_string_equal(cms_class_name(CMS_RETRY_SAME), "retry_same");
	assert_string_equal(cms_class_name(CMS_TRY_ANOTHER), "try_another");
	assert_string_equal(cms_class_name(CMS_COOL_DOWN), "cool_down");
	assert_string_equal(cms_class_name(CMS_PERMANENT), "permanent");
	assert_string_equal(cms_class_name((enum cms_class)42), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cms_rows),
		cmocka_unit_test(test_cme_rows),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_class_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
