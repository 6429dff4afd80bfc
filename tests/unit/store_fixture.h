/* store_fixture: the store's unit tests run each case on both backends — sqlite in a fresh temporary
 * directory, and mem — through this one fixture: BOTH(test) in the cmocka table, `struct fx *f = *state`
 * in the test. ALL(test) adds the postgresql backend: the server named by env SIMROUTE_TEST_PG_DSN
 * (`make unit` starts one with tests/pg_server.sh), in a schema of its own per test process, emptied
 * before each case; without the variable those cases are skipped. */
#ifndef SIMROUTE_TEST_STORE_FIXTURE_H
#define SIMROUTE_TEST_STORE_FIXTURE_H

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue/store.h"

struct fx {
	const char *backend;
	char dir[64];
	char path[1024];          /* the sqlite file in dir, or the postgresql dsn */
	struct store *st;
};

static struct fx fx_sqlite = { .backend = "sqlite" };
static struct fx fx_mem = { .backend = "mem" };
static struct fx fx_pg = { .backend = "postgresql" };

/* Whether the postgresql cases can run: a server named by SIMROUTE_TEST_PG_DSN (`make unit` sets it). */
static int __attribute__((unused)) fx_pg_available(void)
{
	const char *dsn = getenv("SIMROUTE_TEST_PG_DSN");

	return dsn != NULL && dsn[0] != '\0';
}

/* Stands in for a postgresql case when there is no server: cmocka counts a skip in a setup as an
 * error, in a test as a skip. */
static void __attribute__((unused)) fx_pg_skip(void **state)
{
	(void)state;
	skip();
}

/* A fresh, empty schema t<pid> on the test server (create 1) or none (0), and the dsn that uses it;
 * 0, or -1. */
static int __attribute__((unused)) fx_pg_schema(struct fx *f, const char *dsn, int create)
{
	char sql[200];
	PGconn *c = PQconnectdb(dsn);
	PGresult *r;
	int ok;

	snprintf(sql, sizeof(sql), "SET client_min_messages = warning; DROP SCHEMA IF EXISTS t%ld CASCADE;%s t%ld",
		 (long)getpid(), create ? " CREATE SCHEMA" : "", create ? (long)getpid() : 0L);
	if (!create)
		*strrchr(sql, ' ') = '\0';
	r = PQexec(c, sql);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		print_error("postgresql %s: %s\n", dsn, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	snprintf(f->path, sizeof(f->path), "%s options='-c search_path=t%ld'", dsn, (long)getpid());
	return ok ? 0 : -1;
}

static int __attribute__((unused)) setup(void **state)
{
	struct fx *f = *state;
	char err[256];

	snprintf(f->dir, sizeof(f->dir), "/tmp/simroute_test_store.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/simroute.db", f->dir);
	if (f == &fx_pg) {
		if (!fx_pg_available())
			return 0;   /* the case is fx_pg_skip (PG(), ALL()): it reports itself skipped */
		if (fx_pg_schema(f, getenv("SIMROUTE_TEST_PG_DSN"), 1) == -1)
			return -1;
	}
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
	if (f == &fx_pg && fx_pg_available() && fx_pg_schema(f, getenv("SIMROUTE_TEST_PG_DSN"), 0) == -1)
		return -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	return system(cmd) == 0 ? 0 : -1;
}

#define BOTH(fn)                                                                              \
	cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &fx_sqlite),            \
	cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &fx_mem)
#define PG(fn) { #fn, fx_pg_available() ? fn : fx_pg_skip, setup, teardown, &fx_pg }
#define ALL(fn) BOTH(fn), PG(fn)
#define SQLITE(fn) cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &fx_sqlite)

#endif
