/*
 * exec/pty — login shells on pseudo-terminals (see pty.h).
 *
 * Everything after fork() in pty_spawn runs in a child of the
 * multithreaded daemon: another thread may have held the malloc, stdio or
 * logger lock at fork time, so the child uses only system calls on memory
 * the plan prepared. Taking the user's identity, resetting signals and
 * closing fds are spawn.h's helpers, shared with the job child.
 */
#include "exec/pty.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "exec/spawn.h"
#include "lib/log.h"
#include "lib/xalloc.h"

static const char pty_default_path[] = "/usr/local/bin:/usr/bin:/bin";

/* ---- daemon side -------------------------------------------------------- */

static void pty_env_push(char ***env, size_t *n, char *s)
{
	*env = xrealloc(*env, (*n + 2) * sizeof **env);
	(*env)[(*n)++] = s;
	(*env)[*n] = NULL;
}

/* Supplementary groups of user, root's dropped (see spawn.h). */
static int pty_plan_groups(struct pty_plan *p, const char *user, char **cause)
{
	int dropped;
	return spawn_groups_resolve(user, p->gid, &p->groups, &p->ngroups, &dropped, cause);
}

int pty_plan_new(const struct pty_user *u, char *const *extra_env, struct pty_plan **out,
		 char **cause)
{
	struct pty_plan *p = xcalloc(1, sizeof *p);
	p->tty_gid = (gid_t)-1;
	long bufsz = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t cap = bufsz > 0 ? (size_t)bufsz : 16384;
	char *buf = xmalloc(cap);
	struct passwd pw, *res = NULL;
	int rc;
	bool root = geteuid() == 0;

	/* Multi-user mode: the user's own account. Single-account mode: the
	 * daemon's, which is who the shell will run as. */
	if (root)
		rc = u->unix_user ? getpwnam_r(u->unix_user, &pw, buf, cap, &res) : ENOENT;
	else
		rc = getpwuid_r(getuid(), &pw, buf, cap, &res);
	if (rc != 0 || !res) {
		*cause = xasprintf("no Unix account %s",
				   root && u->unix_user ? u->unix_user : "for this uid");
		rc = -ENOENT;
		goto fail;
	}
	if (root) {
		/* Nothing a user starts may ever run as root. */
		if (u->uid == 0 || u->gid == 0 || pw.pw_uid == 0) {
			*cause = xasprintf("refusing to open a terminal as root (account %s)",
					   pw.pw_name);
			rc = -EPERM;
			goto fail;
		}
		if (pw.pw_uid != u->uid) {
			*cause = xasprintf("account %s has uid %u, not %u", pw.pw_name,
					   (unsigned)pw.pw_uid, (unsigned)u->uid);
			rc = -EINVAL;
			goto fail;
		}
		p->setcreds = true;
		p->uid = u->uid;
		p->gid = u->gid;
		if ((rc = pty_plan_groups(p, pw.pw_name, cause)) < 0)
			goto fail;
		struct group gr, *gres = NULL;
		char gbuf[4096];
		if (getgrnam_r("tty", &gr, gbuf, sizeof gbuf, &gres) == 0 && gres)
			p->tty_gid = gr.gr_gid;
	}
	const char *shell = pw.pw_shell && pw.pw_shell[0] == '/' ? pw.pw_shell : "/bin/sh";
	p->shell = xstrdup(shell);
	const char *base = strrchr(shell, '/') + 1;
	p->argv0 = xasprintf("-%s", base);
	p->home = xstrdup(u->home && u->home[0] ? u->home : pw.pw_dir);

	size_t n = 0;
	const char *lang = getenv("LANG");
	pty_env_push(&p->envp, &n, xstrdup("TERM=xterm-256color"));
	pty_env_push(&p->envp, &n, xasprintf("HOME=%s", p->home));
	pty_env_push(&p->envp, &n, xasprintf("USER=%s", pw.pw_name));
	pty_env_push(&p->envp, &n, xasprintf("LOGNAME=%s", pw.pw_name));
	pty_env_push(&p->envp, &n, xasprintf("SHELL=%s", shell));
	pty_env_push(&p->envp, &n, xasprintf("PATH=%s", pty_default_path));
	pty_env_push(&p->envp, &n, xasprintf("LANG=%s", lang && *lang ? lang : "C.UTF-8"));
	for (char *const *e = extra_env; e && *e; e++)
		pty_env_push(&p->envp, &n, xstrdup(*e));
	free(buf);
	*out = p;
	return 0;
fail:
	free(buf);
	pty_plan_free(p);
	return rc;
}

void pty_plan_free(struct pty_plan *p)
{
	if (!p)
		return;
	for (char **e = p->envp; e && *e; e++)
		free(*e);
	free(p->envp);
	free(p->shell);
	free(p->argv0);
	free(p->home);
	free(p->groups);
	free(p);
}

/* ---- child (async-signal-safe) ------------------------------------------ */

enum pty_stage {
	PTY_STAGE_SETSID = 1,
	PTY_STAGE_CTTY,
	PTY_STAGE_STDIO,
	PTY_STAGE_SETGROUPS,
	PTY_STAGE_SETGID,
	PTY_STAGE_SETUID,
	PTY_STAGE_CHDIR,
	PTY_STAGE_EXEC,
};

struct pty_report {
	int stage;
	int err;
};

static _Noreturn void pty_child_fail(int fd, int stage, int err)
{
	struct pty_report r = {stage, err};
	ssize_t n;
	do
		n = write(fd, &r, sizeof r);
	while (n < 0 && errno == EINTR);
	_exit(127);
}

static _Noreturn void pty_child(const struct pty_plan *p, int slave, int report)
{
	spawn_signals_default();

	if (setsid() < 0)
		pty_child_fail(report, PTY_STAGE_SETSID, errno);
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		pty_child_fail(report, PTY_STAGE_CTTY, errno);
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			pty_child_fail(report, PTY_STAGE_STDIO, errno);
	if (slave > 2)
		close(slave);

	if (p->setcreds) {
		int err = 0;
		switch (spawn_creds_drop(p->uid, p->gid, p->groups, p->ngroups, &err)) {
		case 0:
			break;
		case SPAWN_STAGE_SETGROUPS:
			pty_child_fail(report, PTY_STAGE_SETGROUPS, err);
		case SPAWN_STAGE_SETGID:
			pty_child_fail(report, PTY_STAGE_SETGID, err);
		default:
			pty_child_fail(report, PTY_STAGE_SETUID, err);
		}
	}
	/* As the user, so a home the user may not enter is refused. */
	if (chdir(p->home) < 0)
		pty_child_fail(report, PTY_STAGE_CHDIR, errno);

	/* Every fd but 0, 1, 2 closed at exec (the report pipe too: its
	 * closing tells the parent the exec happened). */
	spawn_cloexec_all();
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	char *const argv[] = {p->argv0, NULL};
	execve(p->shell, argv, p->envp);
	pty_child_fail(report, PTY_STAGE_EXEC, errno);
}

/* ---- parent --------------------------------------------------------------- */

static char *pty_failure_message(const struct pty_plan *p, const struct pty_report *r)
{
	const char *why = strerror(r->err);
	switch (r->stage) {
	case PTY_STAGE_SETSID:
		return xasprintf("setsid(): %s", why);
	case PTY_STAGE_CTTY:
		return xasprintf("making the PTY the controlling terminal: %s", why);
	case PTY_STAGE_STDIO:
		return xasprintf("dup2() of the PTY: %s", why);
	case PTY_STAGE_SETGROUPS:
		return xasprintf("setgroups for uid %u: %s", (unsigned)p->uid, why);
	case PTY_STAGE_SETGID:
		return xasprintf("setgid(%u): %s", (unsigned)p->gid, why);
	case PTY_STAGE_SETUID:
		return xasprintf("setuid(%u): %s", (unsigned)p->uid, why);
	case PTY_STAGE_CHDIR:
		return xasprintf("cannot enter the home %s: %s", p->home, why);
	case PTY_STAGE_EXEC:
		return xasprintf("cannot run the shell %s: %s", p->shell, why);
	default:
		return xasprintf("setting up the terminal (stage %d): %s", r->stage, why);
	}
}

int pty_resize(int master, int cols, int rows)
{
	struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
	return ioctl(master, TIOCSWINSZ, &ws) < 0 ? -errno : 0;
}

/* Open the master and the slave; the slave belongs to the user. */
static int pty_open(const struct pty_plan *p, int cols, int rows, int *master, int *slave,
		    char **cause)
{
	char name[64];
	int rc;
	*slave = -1;
	*master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0) {
		rc = -errno;
		*cause = xasprintf("posix_openpt() failed: %s", strerror(errno));
		return rc;
	}
	if (grantpt(*master) < 0 || unlockpt(*master) < 0 ||
	    ptsname_r(*master, name, sizeof name) != 0) {
		rc = -errno;
		*cause = xasprintf("grantpt/unlockpt/ptsname failed: %s", strerror(errno));
		goto fail;
	}
	*slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0) {
		rc = -errno;
		*cause = xasprintf("cannot open %s: %s", name, strerror(errno));
		goto fail;
	}
	/* As sshd does: the user owns their terminal (write, mesg). */
	if (p->setcreds && (fchown(*slave, p->uid, p->tty_gid) < 0 || fchmod(*slave, 0620) < 0)) {
		rc = -errno;
		*cause = xasprintf("cannot give %s to uid %u: %s", name, (unsigned)p->uid,
				   strerror(errno));
		goto fail;
	}
	struct termios tio;
	if (tcgetattr(*slave, &tio) == 0) {
		tio.c_iflag |= IUTF8; /* erase whole UTF-8 characters in cooked mode */
		(void)tcsetattr(*slave, TCSANOW, &tio);
	}
	if ((rc = pty_resize(*master, cols, rows)) < 0) {
		*cause = xasprintf("TIOCSWINSZ failed: %s", strerror(-rc));
		goto fail;
	}
	return 0;
fail:
	if (*slave >= 0)
		close(*slave);
	close(*master);
	*master = *slave = -1;
	return rc;
}

int pty_spawn(const struct pty_plan *p, int cols, int rows, int *master_out, pid_t *pid_out,
	      char **cause)
{
	int master, slave, rc;
	int report[2] = {-1, -1};
	if ((rc = pty_open(p, cols, rows, &master, &slave, cause)) < 0)
		return rc;
	if (pipe2(report, O_CLOEXEC) < 0) {
		rc = -errno;
		*cause = xasprintf("pipe() failed: %s", strerror(errno));
		goto fail;
	}
	/* Block every signal across fork so that no handler of the daemon
	 * runs in the child before it has reset them (tmux job.c). */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid_t pid = fork();
	if (pid == 0) {
		close(report[0]);
		pty_child(p, slave, report[1]);
	}
	int fork_errno = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(report[1]);
	close(slave);
	slave = -1;
	if (pid < 0) {
		rc = -fork_errno;
		*cause =
		    xasprintf("fork() failed while opening a terminal: %s", strerror(fork_errno));
		goto fail;
	}
	struct pty_report r;
	ssize_t n;
	do
		n = read(report[0], &r, sizeof r);
	while (n < 0 && errno == EINTR);
	close(report[0]);
	report[0] = -1;
	if (n != 0) {
		/* The child failed (or the report is garbled): reap it. */
		if (n == (ssize_t)sizeof r) {
			*cause = pty_failure_message(p, &r);
			rc = r.err > 0 ? -r.err : -EIO;
		} else {
			*cause = xstrdup("the terminal's child died before running the shell");
			rc = -ECHILD;
		}
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		goto fail;
	}
	int fl = fcntl(master, F_GETFL);
	if (fl < 0 || fcntl(master, F_SETFL, fl | O_NONBLOCK) < 0)
		log_warn("pty: cannot make the master non-blocking: %s", strerror(errno));
	*master_out = master;
	*pid_out = pid;
	return 0;
fail:
	if (report[0] >= 0)
		close(report[0]);
	if (slave >= 0)
		close(slave);
	close(master);
	return rc;
}

void pty_signal_session(pid_t leader, int sig)
{
	(void)kill(-leader, sig);
	/* Background jobs of an interactive shell have process groups of
	 * their own but stay in its session. */
	DIR *d = opendir("/proc");
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 1 || pid == leader)
			continue;
		pid_t sid = getsid((pid_t)pid);
		if (sid == leader)
			(void)kill((pid_t)pid, sig);
	}
	closedir(d);
}
