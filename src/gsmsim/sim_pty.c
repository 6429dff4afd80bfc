/* sim_pty: one pseudo-terminal pair per simulated modem, and its RUNDIR/modemN symlink. */
#include "sim_pty.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "simroute/log.h"

struct sim_pty {
	int master;
	/*
	 * gsmsim keeps the slave open for its whole life: with no slave fd open, reads on the master
	 * fail with EIO (the daemon closing its port would look like a hang-up) and the termios
	 * settings would be lost between the daemon's close and reopen.
	 */
	int slave;
	char slave_name[64];
	char link[PATH_MAX];
};

static int open_master(char *name, size_t size)
{
	int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0) {
		log_warn("posix_openpt");
		return -1;
	}
	if (grantpt(fd) < 0 || unlockpt(fd) < 0 || ptsname_r(fd, name, size) != 0) {
		log_warn("grantpt/unlockpt/ptsname");
		close(fd);
		return -1;
	}
	return fd;
}

struct sim_pty *sim_pty_open(const char *link_path, const char *avoid)
{
	struct sim_pty *pty = calloc(1, sizeof(*pty));
	struct termios tio;
	struct stat st;

	if (!pty)
		return NULL;
	pty->master = pty->slave = -1;
	pty->master = open_master(pty->slave_name, sizeof(pty->slave_name));
	if (pty->master < 0)
		goto fail;
	/* The kernel hands out the lowest free pts number, which may be the one just closed; a modem
	 * that re-enumerates must come back under another name, so hold that one while taking the next. */
	if (avoid && strcmp(pty->slave_name, avoid) == 0) {
		int first = pty->master;
		pty->master = open_master(pty->slave_name, sizeof(pty->slave_name));
		close(first);
		if (pty->master < 0)
			goto fail;
	}
	pty->slave = open(pty->slave_name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (pty->slave < 0) {
		log_warn("open %s", pty->slave_name);
		goto fail;
	}
	/* Raw: no echo, no CR/NL translation, no signals from ^C/^Z - a modem line carries bytes. */
	if (tcgetattr(pty->slave, &tio) < 0) {
		log_warn("tcgetattr %s", pty->slave_name);
		goto fail;
	}
	cfmakeraw(&tio);
	cfsetispeed(&tio, B115200);
	cfsetospeed(&tio, B115200);
	if (tcsetattr(pty->slave, TCSANOW, &tio) < 0) {
		log_warn("tcsetattr %s", pty->slave_name);
		goto fail;
	}
	if (fcntl(pty->master, F_SETFL, fcntl(pty->master, F_GETFL) | O_NONBLOCK) < 0) {
		log_warn("fcntl O_NONBLOCK");
		goto fail;
	}
	/* A link left by a gsmsim that was killed is replaced; anything else at that path is not ours. */
	if (lstat(link_path, &st) == 0) {
		if (!S_ISLNK(st.st_mode)) {
			log_warnx("%s exists and is not a symlink", link_path);
			goto fail;
		}
		unlink(link_path);
	}
	if (symlink(pty->slave_name, link_path) < 0) {
		log_warn("symlink %s -> %s", link_path, pty->slave_name);
		goto fail;
	}
	snprintf(pty->link, sizeof(pty->link), "%s", link_path);
	return pty;
fail:
	sim_pty_close(pty);
	return NULL;
}

void sim_pty_close(struct sim_pty *pty)
{
	if (!pty)
		return;
	if (pty->link[0] && unlink(pty->link) < 0)
		log_warn("unlink %s", pty->link);
	if (pty->slave >= 0)
		close(pty->slave);
	if (pty->master >= 0)
		close(pty->master);
	free(pty);
}

int sim_pty_master_fd(const struct sim_pty *pty) { return pty->master; }
const char *sim_pty_slave_name(const struct sim_pty *pty) { return pty->slave_name; }
