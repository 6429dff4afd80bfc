/* test_modem_set: what a SIGHUP does to each modem name — add, remove, restart (hardware or identity
 * changed), keep (nothing, or only its quota, changed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "modem_set.h"

static struct config_modem mk(const char *name, const char *port)
{
	struct config_modem m;
	memset(&m, 0, sizeof(m));
	snprintf(m.name, sizeof(m.name), "%s", name);
	snprintf(m.port, sizeof(m.port), "%s", port);
	m.baud = 115200;
	for (int i = 0; i < 4; i++)
		m.quota[i] = -1;
	return m;
}

static void test_plan(void **state)
{
	struct config_modem a[3] = { mk("m0", "/dev/a"), mk("m1", "/dev/b"), mk("m2", "/dev/c") };
	struct config_modem b[3] = { mk("m0", "/dev/a"), mk("m1", "/dev/b2"), mk("m3", "/dev/d") };
	struct config cur, next;
	(void)state;

	memset(&cur, 0, sizeof(cur));
	memset(&next, 0, sizeof(next));
	cur.modems = a;
	cur.nmodems = 3;
	next.modems = b;
	next.nmodems = 3;
	assert_int_equal(modem_set_plan(&cur, &next, "m0"), MODEM_SET_KEEP);
	assert_int_equal(modem_set_plan(&cur, &next, "m1"), MODEM_SET_RESTART);
	assert_int_equal(modem_set_plan(&cur, &next, "m2"), MODEM_SET_REMOVE);
	assert_int_equal(modem_set_plan(&cur, &next, "m3"), MODEM_SET_ADD);
	assert_int_equal(modem_set_plan(&cur, &next, "nope"), MODEM_SET_KEEP);

	/* each key that names the hardware or the identity restarts; a quota does not */
	b[1] = a[1];
	b[0].quota[2] = 500;
	assert_int_equal(modem_set_plan(&cur, &next, "m0"), MODEM_SET_KEEP);
	strcpy(b[0].imei, "354510010000001");
	assert_int_equal(modem_set_plan(&cur, &next, "m0"), MODEM_SET_RESTART);
	b[0] = a[0];
	strcpy(b[0].iccid, "894600000000000000");
	assert_int_equal(modem_set_plan(&cur, &next, "m0"), MODEM_SET_RESTART);
	b[0] = a[0];
	strcpy(b[0].pin, "1234");
	assert_int_equal(modem_set_plan(&cur, &next, "m0"), MODEM_SET_RESTART);
	b[0] = a[0];
	strcpy(b[0].dialect, "huawei");
	assert_int_equal(modem_set_plan(&cur, &next, "m0"), MODEM_SET_RESTART);
	b[0] = a[0];
	b[0].baud = 9600;
	assert_int_equal(modem_set_plan(&cur, &next, "m0"), MODEM_SET_RESTART);
	assert_string_equal(modem_set_action_name(MODEM_SET_RESTART), "restart");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
