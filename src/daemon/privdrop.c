/* privdrop: become [daemon] user after the store and listeners are open (OpenSMTPD-style). */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "simroute/log.h"

int privdrop_prepare(struct privdrop *pd, const char *user, char *err, size_t errlen)
{
	struct passwd *pw;

	memset(pd, 0, sizeof(*pd));
	if (!user || !*user)
		return 0;
	if (strlen(user) >= sizeof(pd->user)) {
		snprintf(err, errlen, "[daemon] user: name too long");
		return -1;
	}
	errno = 0;
	pw = getpwnam(user);
	if (!pw) {
		snprintf(err, errlen, "[daemon] user: no such user \"%s\"%s%s", user, errno ? ": " : "",
			 errno ? strerror(errno) : "");
		return -1;
	}
	snprintf(pd->user, sizeof(pd->user), "%s", user);
	pd->uid = pw->pw_uid;
	pd->gid = pw->pw_gid;
	if (geteuid() != 0) {
		/* systemd's User= already did it; anything else is an operator's choice we cannot change. */
		if (geteuid() != pd->uid)
			log_warnx("[daemon] user = %s: not started as root, staying uid %u", user, (unsigned)geteuid());
		return 0;
	}
	if (pd->uid == 0)
		return 0;
	pd->active = true;
	return 0;
}

int privdrop_chown(const struct privdrop *pd, const char *path, char *err, size_t errlen)
{
	if (!pd->active || !path || !*path)
		return 0;
	if (lchown(path, pd->uid, pd->gid) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "chown %s to %s: %s", path, pd->user, strerror(errno));
		return -1;
	}
	return 0;
}

int privdrop_chgrp(const char *path, const char *group, char *err, size_t errlen)
{
	struct group *gr;

	errno = 0;
	if (!(gr = getgrnam(group))) {
		snprintf(err, errlen, "group %s: %s", group, errno ? strerror(errno) : "no such group");
		return -1;
	}
	if (lchown(path, (uid_t)-1, gr->gr_gid) < 0) {
		snprintf(err, errlen, "chgrp %s %s: %s", group, path, strerror(errno));
		return -1;
	}
	return 0;
}

int privdrop_drop(const struct privdrop *pd, char *err, size_t errlen)
{
	if (!pd->active)
		return 0;
	/* Supplementary groups from /etc/group first (dialout: modems reopened after a re-plug). */
	if (initgroups(pd->user, pd->gid) < 0) {
		snprintf(err, errlen, "initgroups(%s): %s", pd->user, strerror(errno));
		return -1;
	}
	if (setresgid(pd->gid, pd->gid, pd->gid) < 0) {
		snprintf(err, errlen, "setresgid(%u): %s", (unsigned)pd->gid, strerror(errno));
		return -1;
	}
	if (setresuid(pd->uid, pd->uid, pd->uid) < 0) {
		snprintf(err, errlen, "setresuid(%u): %s", (unsigned)pd->uid, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0 || geteuid() != pd->uid || getegid() != pd->gid) {
		snprintf(err, errlen, "dropping to %s did not stick", pd->user);
		return -1;
	}
	return 0;
}

void privdrop_describe(char *buf, size_t len)
{
	gid_t groups[64];
	int n = getgroups(64, groups);
	struct passwd *pw = getpwuid(geteuid());
	size_t off = (size_t)snprintf(buf, len, "uid %u (%s), gid %u, groups ", (unsigned)geteuid(),
				      pw ? pw->pw_name : "?", (unsigned)getegid());
	for (int i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%u", i ? "," : "", (unsigned)groups[i]);
	if (n <= 0 && off < len)
		snprintf(buf + off, len - off, "none");
}
