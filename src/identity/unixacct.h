/*
 * identity/unixacct — the Unix account behind a kaon user.
 *
 * Multi-user mode (daemon running as root): every kaon user is a Unix
 * account. A missing account is created with useradd, its home under
 * home_root; an existing one is mapped as it is. System accounts (uid
 * below min_uid, root above all) are refused, so nothing a user starts
 * can ever run as root.
 *
 * Single-account mode (daemon as an ordinary user): every kaon user maps
 * to the daemon's own uid, with a home directory of its own under
 * home_root.
 *
 * Calls here may block: they run useradd and touch the file system.
 */
#ifndef KAON_IDENTITY_UNIXACCT_H
#define KAON_IDENTITY_UNIXACCT_H

#include <stdbool.h>
#include <sys/types.h>

struct unixacct {
	char *name;
	uid_t uid;
	gid_t gid;
	char *home;
	bool created; /* useradd ran for this call: undo removes it again */
};

/* True when the daemon runs as root and maps users to Unix accounts. */
bool unixacct_multiuser(void);
/* A per-user directory that only the user (and root) can enter, for
 * sockets whose job-directory path would not fit in sun_path:
 * /run/kaon/KIND/UID in multi-user mode, else /tmp/kaon-KIND-UID.
 * Created if absent, and refused (-EPERM) when it exists with another
 * owner, other permissions or as a link (in /tmp anyone could have made
 * it first). The path goes to out. 0 or -errno. */
int unixacct_rundir(const char *kind, uid_t uid, gid_t gid, char *out, size_t len);
/* Find or create the account for `name`; 0 or negative with *cause. */
int unixacct_ensure(const char *name, const char *home_root, uid_t min_uid, struct unixacct *out,
		    char **cause);
/* Undo a creation when the transaction it was part of failed. */
void unixacct_undo(struct unixacct *acct);
void unixacct_clear(struct unixacct *acct);

#endif
