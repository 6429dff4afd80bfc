/* test_log: log targets — an append-mode file reopened after a rename (logrotate), bad targets
 * refused without changing the current one, the level threshold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "simroute/log.h"

static char dir[64];

static char *slurp(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

static void test_file_target(void **state)
{
	char path[128], spec[160], moved[160], err[256];
	struct stat sb;
	(void)state;

	snprintf(path, sizeof(path), "%s/simrouted.log", dir);
	snprintf(spec, sizeof(spec), "file:%s", path);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("kept\n", f);
	fclose(f);
	log_init("test_log", LOG_LEVEL_INFO);
	assert_int_equal(log_open(spec, err, sizeof(err)), 0);
	assert_string_equal(log_file_path(), path);
	log_info("first %d", 1);
	log_debug("hidden %d", 2);
	char *text = slurp(path);
	assert_true(strncmp(text, "kept\n", 5) == 0);   /* appended, not truncated */
	assert_non_null(strstr(text, "test_log[info] first 1\n"));
	assert_null(strstr(text, "hidden"));
	/* logrotate moves the file; a reopen starts a new one at the same path, mode 0640 */
	snprintf(moved, sizeof(moved), "%s.1", path);
	assert_int_equal(rename(path, moved), 0);
	assert_int_equal(log_reopen(err, sizeof(err)), 0);
	log_warnx("second");
	assert_non_null(strstr(slurp(path), "test_log[warn] second\n"));
	assert_null(strstr(slurp(moved), "second"));
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);
	/* refused targets leave the file in place */
	assert_int_equal(log_open("journald", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "expected stderr, syslog or file:"));
	assert_int_equal(log_open("file:/nonexistent-dir/x.log", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent-dir/x.log"));
	log_info("third");
	assert_non_null(strstr(slurp(path), "third"));
	/* a reopen that fails (the directory went away) keeps writing to the old file */
	char gone[96];
	snprintf(gone, sizeof(gone), "%s.gone", dir);
	assert_int_equal(rename(dir, gone), 0);
	assert_int_equal(log_reopen(err, sizeof(err)), -1);
	log_info("fourth");
	assert_int_equal(rename(gone, dir), 0);
	assert_non_null(strstr(slurp(path), "fourth"));
	log_close();
	assert_null(log_file_path());
}

static void test_other_targets(void **state)
{
	char err[256];
	(void)state;
	assert_int_equal(log_open("syslog", err, sizeof(err)), 0);
	assert_null(log_file_path());
	assert_int_equal(log_reopen(err, sizeof(err)), 0);   /* nothing to reopen */
	assert_int_equal(log_open("stderr", err, sizeof(err)), 0);
	assert_null(log_file_path());
	log_close();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_target),
		cmocka_unit_test(test_other_targets),
	};
	char cmd[96];
	snprintf(dir, sizeof(dir), "/tmp/test_log.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
