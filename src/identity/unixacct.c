/* identity/unixacct — Unix accounts for kaon users (see unixacct.h). */
#include "identity/unixacct.h"

#include <errno.h>
#include <pwd.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fsio.h"
#include "lib/log.h"
#include "lib/xalloc.h"

extern char **environ;

bool unixacct_multiuser(void)
{
	return geteuid() == 0;
}

void unixacct_clear(struct unixacct *acct)
{
	free(acct->name);
	free(acct->home);
	memset(acct, 0, sizeof *acct);
}

/* getpwnam/getpwuid copied into acct; 0, -ENOENT or -errno. */
static int unixacct_lookup(const char *name, uid_t uid, struct unixacct *acct)
{
	char buf[4096];
	struct passwd pw, *res = NULL;
	int rc = name ? getpwnam_r(name, &pw, buf, sizeof buf, &res)
		      : getpwuid_r(uid, &pw, buf, sizeof buf, &res);
	if (rc != 0)
		return -rc;
	if (!res)
		return -ENOENT;
	acct->name = xstrdup(pw.pw_name);
	acct->uid = pw.pw_uid;
	acct->gid = pw.pw_gid;
	acct->home = xstrdup(pw.pw_dir);
	return 0;
}

static int unixacct_run(char *const argv[], char **cause)
{
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
	if (rc != 0) {
		*cause = xasprintf("cannot run %s: %s", argv[0], strerror(rc));
		return -rc;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			*cause = xasprintf("waitpid() for %s failed: %s", argv[0], strerror(errno));
			return -errno;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		*cause = xasprintf("%s failed (status %d)", argv[0],
				   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -EIO;
	}
	return 0;
}

static int unixacct_ensure_multi(const char *name, const char *home_root, uid_t min_uid,
				 struct unixacct *out, char **cause)
{
	int rc = unixacct_lookup(name, 0, out);
	if (rc == 0) {
		if (out->uid == 0 || out->uid < min_uid) {
			*cause = xasprintf("Unix account '%s' is a system account (uid %u); kaon runs "
					   "user work only as accounts with uid >= %u",
					   name, (unsigned)out->uid, (unsigned)min_uid);
			unixacct_clear(out);
			return -EPERM;
		}
		return 0;
	}
	if (rc != -ENOENT) {
		*cause = xasprintf("getpwnam(%s) failed: %s", name, strerror(-rc));
		return rc;
	}
	if ((rc = fsio_mkdir_p(home_root, 0711)) < 0) {
		*cause = xasprintf("cannot create %s: %s", home_root, strerror(-rc));
		return rc;
	}
	char *home = xasprintf("%s/%s", home_root, name);
	char *const argv[] = { "useradd", "--create-home", "--home-dir", home,  "--shell",
			       "/bin/bash", "--user-group", "--comment",  "kaon user", (char *)name,
			       NULL };
	rc = unixacct_run(argv, cause);
	free(home);
	if (rc < 0)
		return rc;
	if ((rc = unixacct_lookup(name, 0, out)) < 0) {
		*cause = xasprintf("useradd created '%s' but it cannot be found", name);
		return rc;
	}
	out->created = true;
	if (out->uid < min_uid) {
		/* login.defs hands out ids below min_uid: refuse rather than run
		 * users' work as something that looks like a system account. */
		*cause = xasprintf("useradd gave '%s' uid %u, below min_uid %u", name,
				   (unsigned)out->uid, (unsigned)min_uid);
		unixacct_undo(out);
		unixacct_clear(out);
		return -EPERM;
	}
	if (chmod(out->home, 0700) < 0)
		log_warn("unixacct: chmod(%s) failed: %s", out->home, strerror(errno));
	log_info("unixacct: created Unix account %s (uid %u) with home %s", out->name,
		 (unsigned)out->uid, out->home);
	return 0;
}

static int unixacct_ensure_single(const char *name, const char *home_root, struct unixacct *out,
				  char **cause)
{
	int rc = unixacct_lookup(NULL, getuid(), out);
	if (rc < 0) {
		*cause = xasprintf("cannot find the Unix account of uid %u", (unsigned)getuid());
		return rc;
	}
	free(out->home);
	out->home = xasprintf("%s/%s", home_root, name);
	if ((rc = fsio_mkdir_p(out->home, 0700)) < 0) {
		*cause = xasprintf("cannot create home %s: %s", out->home, strerror(-rc));
		unixacct_clear(out);
		return rc;
	}
	return 0;
}

int unixacct_ensure(const char *name, const char *home_root, uid_t min_uid, struct unixacct *out,
		    char **cause)
{
	memset(out, 0, sizeof *out);
	if (unixacct_multiuser())
		return unixacct_ensure_multi(name, home_root, min_uid, out, cause);
	return unixacct_ensure_single(name, home_root, out, cause);
}

void unixacct_undo(struct unixacct *acct)
{
	if (!acct->created)
		return;
	char *cause = NULL;
	char *const argv[] = { "userdel", "--remove", acct->name, NULL };
	if (unixacct_run(argv, &cause) < 0) {
		log_warn("unixacct: could not undo creation of %s: %s", acct->name, cause);
		free(cause);
	}
	acct->created = false;
}

int unixacct_rundir(const char *kind, uid_t uid, gid_t gid, char *out, size_t len)
{
	bool multi = unixacct_multiuser();
	if (multi) {
		char parent[64];
		snprintf(parent, sizeof parent, "/run/kaon/%s", kind);
		int rc = fsio_mkdir_p(parent, 0711);
		if (rc < 0)
			return rc;
		snprintf(out, len, "%s/%u", parent, (unsigned)uid);
	} else {
		snprintf(out, len, "/tmp/kaon-%s-%u", kind, (unsigned)uid);
	}
	if (mkdir(out, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (multi && chown(out, uid, gid) < 0)
		return -errno;
	struct stat st;
	if (lstat(out, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 077) != 0)
		return -EPERM;
	return 0;
}
