/*
 * identity/fsident — run file-system calls of this thread as a user.
 *
 * In multi-user mode the daemon is root, and the file API must let the
 * kernel check every open, mkdir and rename against the user's uid and
 * groups, and make what it creates belong to the user. Two ways were
 * possible: fork a short-lived helper that does initgroups/setgid/setuid
 * per operation, or switch the credentials of the calling thread only.
 * We switch the thread: setfsuid()/setfsgid() act on the calling thread
 * only, and so does the raw setgroups system call (glibc's setgroups()
 * broadcasts to every thread of the process, which would hand another
 * request's thread this user's groups: never call it here). A fork per
 * upload chunk or per listing would cost far more than the operation, and
 * streamed downloads and archives need the identity across many calls.
 * With fsuid != 0 the kernel drops CAP_DAC_OVERRIDE and the other file
 * capabilities for this thread, so root's overrides do not apply either.
 *
 * Every fsident_enter() must be paired with fsident_leave() on the same
 * thread before the thread returns to the pool; a failure to switch back
 * aborts the process rather than serve the next request as someone else.
 * Single-account mode (daemon not root): both calls do nothing.
 */
#ifndef KAON_IDENTITY_FSIDENT_H
#define KAON_IDENTITY_FSIDENT_H

#include <stdbool.h>
#include <sys/types.h>

enum { FSIDENT_MAX_GROUPS = 64 };

struct fsident {
	bool active; /* false: act as the daemon (single-account mode) */
	uid_t uid;
	gid_t gid;
	gid_t groups[FSIDENT_MAX_GROUPS];
	int ngroups;
};

/* The identity of Unix account `name` (uid, primary gid, supplementary
 * groups from the group database); inactive unless the daemon is root.
 * 0 or -errno. */
int fsident_load(const char *name, uid_t uid, gid_t gid, struct fsident *out);
/* Switch this thread's file-system identity to id; 0 or -errno (nothing
 * switched on failure). */
int fsident_enter(const struct fsident *id);
/* Back to root's file-system identity (and no supplementary groups). */
void fsident_leave(const struct fsident *id);

#endif
