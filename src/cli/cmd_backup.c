/* cmd_backup: simroute backup FILE — the daemon makes a consistent copy of its store (POST
 * /v1/backup) and streams it here; written to FILE.tmp, checked, synced, then renamed to FILE, so
 * FILE is never a partial copy. The CLI never opens the database itself. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* The sqlite file format (https://sqlite.org/fileformat.html 1.3): magic, page size at 16 (1 means
 * 65536), page count at 28, valid when the version at 92 equals the change counter at 24. */
static const char *check_sqlite(FILE *f, long long size)
{
	unsigned char h[100];
	uint32_t page, pages, counter, valid_for;

	if (size < 100 || fseek(f, 0, SEEK_SET) != 0 || fread(h, 1, sizeof(h), f) != sizeof(h))
		return "too short to be a database";
	if (memcmp(h, "SQLite format 3", 16) != 0)
		return "not an SQLite database (bad header)";
	page = (uint32_t)h[16] << 8 | h[17];
	if (page == 1)
		page = 65536;
	if (page < 512 || (page & (page - 1)) || size % page)
		return "size is not a whole number of pages";
	pages = (uint32_t)h[28] << 24 | (uint32_t)h[29] << 16 | (uint32_t)h[30] << 8 | h[31];
	counter = (uint32_t)h[24] << 24 | (uint32_t)h[25] << 16 | (uint32_t)h[26] << 8 | h[27];
	valid_for = (uint32_t)h[92] << 24 | (uint32_t)h[93] << 16 | (uint32_t)h[94] << 8 | h[95];
	if (counter == valid_for && (long long)pages * page != size)
		return "size does not match the page count in its header";
	return NULL;
}

int cmd_backup(struct cli *cli, int argc, char **argv)
{
	struct client_reply r;
	long long written, length;
	char tmp[4096];
	const char *bad;
	FILE *f;
	int fd, rc;

	if (argc != 2 || !argv[1][0] || argv[1][0] == '-')
		return EXIT_USAGE;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]) >= (int)sizeof(tmp)) {
		fprintf(stderr, "simroute: backup: path too long\n");
		return EXIT_USAGE;
	}
	/* 0600: the copy holds every message. A FILE.tmp left by an earlier run is replaced, never
	 * followed (a symlink planted in a shared directory) nor reused with its old, looser mode. */
	if (unlink(tmp) < 0 && errno != ENOENT) {
		fprintf(stderr, "simroute: backup: cannot replace %s: %s\n", tmp, strerror(errno));
		return EXIT_FAILED;
	}
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w+"))) {
		fprintf(stderr, "simroute: backup: cannot write %s: %s\n", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return EXIT_FAILED;
	}
	rc = client_download(cli->socket, "POST", "/v1/backup", f, &r, &written, &length);
	if (rc == EXIT_OK && (r.status < 200 || r.status >= 300)) {
		client_print_error(&r);
		rc = EXIT_FAILED;
	}
	client_reply_free(&r);
	if (rc == EXIT_OK && length >= 0 && written != length) {
		fprintf(stderr, "simroute: backup: got %lld of %lld bytes\n", written, length);
		rc = EXIT_FAILED;
	}
	if (rc == EXIT_OK && (fflush(f) != 0 || fsync(fileno(f)) != 0)) {
		fprintf(stderr, "simroute: backup: %s: %s\n", tmp, strerror(errno));
		rc = EXIT_FAILED;
	}
	if (rc == EXIT_OK && (bad = check_sqlite(f, written))) {
		fprintf(stderr, "simroute: backup: the copy is not valid: %s\n", bad);
		rc = EXIT_FAILED;
	}
	if (fclose(f) != 0 && rc == EXIT_OK) {
		fprintf(stderr, "simroute: backup: %s: %s\n", tmp, strerror(errno));
		rc = EXIT_FAILED;
	}
	if (rc == EXIT_OK && rename(tmp, argv[1]) != 0) {
		fprintf(stderr, "simroute: backup: cannot rename %s to %s: %s\n", tmp, argv[1], strerror(errno));
		rc = EXIT_FAILED;
	}
	if (rc != EXIT_OK) {
		unlink(tmp);
		return rc;
	}
	if (cli->json) {
		json_t *o = json_pack("{s:s, s:I}", "file", argv[1], "bytes", (json_int_t)written);
		cli_print_json(o);
		json_decref(o);
	} else {
		printf("backup written to %s (%lld bytes)\n", argv[1], written);
	}
	return EXIT_OK;
}
