/* identity/fsident — per-thread file-system identity (see fsident.h). */
#include "identity/fsident.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "identity/unixacct.h"
#include "lib/log.h"

int fsident_load(const char *name, uid_t uid, gid_t gid, struct fsident *out)
{
	memset(out, 0, sizeof *out);
	if (!unixacct_multiuser())
		return 0;
	if (uid == 0)
		return -EPERM; /* never act as root on a user's behalf */
	out->active = true;
	out->uid = uid;
	out->gid = gid;
	int n = FSIDENT_MAX_GROUPS;
	if (getgrouplist(name, gid, out->groups, &n) < 0) {
		/* More groups than we keep: the first ones, the primary among them. */
		log_warn("fsident: %s is in more than %d groups; using the first %d", name,
			 FSIDENT_MAX_GROUPS, FSIDENT_MAX_GROUPS);
		n = FSIDENT_MAX_GROUPS;
	}
	out->ngroups = n;
	return 0;
}

static int fsident_setgroups(size_t n, const gid_t *groups)
{
	/* The raw system call: per thread (see fsident.h). */
	return syscall(SYS_setgroups, n, groups) < 0 ? -errno : 0;
}

int fsident_enter(const struct fsident *id)
{
	if (!id->active)
		return 0;
	int rc = fsident_setgroups((size_t)id->ngroups, id->groups);
	if (rc < 0)
		return rc;
	setfsgid(id->gid);
	setfsuid(id->uid);
	/* setfs*id() return the previous value, never an error: read back. */
	if ((uid_t)setfsuid((uid_t)-1) != id->uid || (gid_t)setfsgid((gid_t)-1) != id->gid) {
		fsident_leave(id);
		return -EPERM;
	}
	return 0;
}

void fsident_leave(const struct fsident *id)
{
	if (!id->active)
		return;
	setfsuid(0);
	setfsgid(0);
	if (fsident_setgroups(0, NULL) < 0 || setfsuid((uid_t)-1) != 0 ||
	    setfsgid((gid_t)-1) != 0) {
		log_error("fsident: cannot switch this thread back to root's identity; aborting");
		abort();
	}
}
