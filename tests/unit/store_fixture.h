/* store_fixture: the store's unit tests run each case on both backends — sqlite in a fresh temporary
 * directory, and mem — through this one fixture: BOTH(test) in the cmocka table, `struct fx *f = *state`
 * in the test. */
#ifndef SIMROUTE_TEST_STORE_FIXTURE_H
#define SIMROUTE_TEST_STORE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "queue/store.h"

struct fx {
	const char *backend;
	char dir[64];
	char path[128];           /* the sqlite file in dir */
	struct store *st;
};

static struct fx fx_sqlite = { .backend = "sqlite" };
static struct fx fx_mem = { .backend = "mem" };

static int __attribute__((unused)) setup(void **state)
{
	struct fx *f = *state;
	char err[256];

	snprintf(f->dir, sizeof(f->dir), "/tmp/simroute_test_store.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/simroute.db", f->dir);
	f->st = store_open(f->backend, f->path, err, sizeof(err));
	if (f->st == NULL) {
		print_error("store_open: %s\n", err);
		return -1;
	}
	return 0;
}

static int __attribute__((unused)) teardown(void **state)
{
	struct fx *f = *state;
	char cmd[160];

	store_close(f->st);
	f->st = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	return system(cmd) == 0 ? 0 : -1;
}

#define BOTH(fn)                                                                              \
	cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &fx_sqlite),            \
	cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &fx_mem)
#define SQLITE(fn) cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &fx_sqlite)

#endif
