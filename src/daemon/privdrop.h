/* privdrop: started as root with [daemon] user set, simrouted hands its files to that user and
 * becomes it (with the user's supplementary groups, e.g. dialout for the modems) before serving. */
#ifndef SIMROUTED_PRIVDROP_H
#define SIMROUTED_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct privdrop {
	bool active;              /* root and a user to become: chown and drop */
	char user[64];
	uid_t uid;
	gid_t gid;
};

/* Looks the user up. active = false when user is empty, or when not root (then a warning is logged if
 * the user is not the one we run as). Returns -1 with err when the user does not exist. */
int privdrop_prepare(struct privdrop *pd, const char *user, char *err, size_t errlen);
/* Gives path to the user (when active); a missing path is not an error. Returns -1 with err. */
int privdrop_chown(const struct privdrop *pd, const char *path, char *err, size_t errlen);
/* Give path to group (a name from /etc/group), keeping its owner: [api] socket_group. 0, or -1 with err
 * (no such group; not root and not a member). */
int privdrop_chgrp(const char *path, const char *group, char *err, size_t errlen);
/* initgroups + setgid + setuid, then checks that root cannot be regained. Returns -1 with err. */
int privdrop_drop(const struct privdrop *pd, char *err, size_t errlen);
/* "uid 65534 (nobody), gid 65534, groups 20,65534" of the running process. */
void privdrop_describe(char *buf, size_t len);

#endif
