/*
 * exec/pty — a login shell on a pseudo-terminal, for the web terminal.
 *
 * Like exec/spawn (jobs), in two halves:
 *
 *   pty_plan_new()  in the daemon: may allocate and block on NSS. Resolves
 *                   the user's login shell (getpwnam), supplementary
 *                   groups (getgrouplist), the environment and the
 *                   credentials into a plan. Refuses root.
 *   pty_spawn()     opens the PTY (posix_openpt, grantpt, unlockpt; the
 *                   slave given to the user, mode 0620 group tty), blocks
 *                   every signal and forks. The child makes only
 *                   async-signal-safe calls: signal dispositions reset,
 *                   setsid, the PTY as controlling terminal (TIOCSCTTY) on
 *                   0, 1 and 2, setgroups → setgid → setuid (raw system
 *                   calls; root must be gone for good), chdir to the home
 *                   as the user, every other fd closed on exec, the signal
 *                   mask cleared, and execve of the shell with argv[0]
 *                   "-NAME" so that it runs as a login shell. A failure is
 *                   reported over a close-on-exec pipe (stage and errno)
 *                   before _exit(127); the parent reads that pipe, so it
 *                   returns once the shell has exec'd or with the reason
 *                   it could not.
 *
 * It lives apart from spawn.c because nothing of a job's setup (cgroups,
 * output files, the supervisor, clone with a shared address space) applies,
 * and a terminal needs what a job never has: a controlling terminal.
 */
#ifndef KAON_EXEC_PTY_H
#define KAON_EXEC_PTY_H

#include <stdbool.h>
#include <sys/types.h>

struct pty_user {
	const char *unix_user; /* the Unix account (multi-user mode) */
	uid_t uid;
	gid_t gid;
	const char *home; /* HOME and the working directory */
};

struct pty_plan {
	char *shell; /* absolute path of the login shell */
	char *argv0; /* "-bash" */
	char *home;
	char **envp;
	bool setcreds; /* the daemon is root: switch to uid/gid/groups */
	uid_t uid;
	gid_t gid;
	gid_t tty_gid; /* group of the slave; (gid_t)-1: leave it */
	gid_t *groups;
	int ngroups;
};

/* Daemon side. extra_env: NULL-terminated "NAME=value" added last (may be
 * NULL). 0, or negative with *cause (unknown account, root, uid
 * mismatch). */
int pty_plan_new(const struct pty_user *u, char *const *extra_env, struct pty_plan **out,
		 char **cause);
void pty_plan_free(struct pty_plan *plan);

/* Open a PTY of cols x rows and start the plan's shell on it. 0 with
 * *master (non-blocking, close-on-exec) and *pid (the shell: session and
 * process group leader), or negative with *cause. */
int pty_spawn(const struct pty_plan *plan, int cols, int rows, int *master, pid_t *pid,
	      char **cause);
/* Set the window size (the foreground process group gets SIGWINCH). */
int pty_resize(int master, int cols, int rows);
/* Send sig to the shell's process group and to every other process of its
 * session (background jobs in groups of their own). */
void pty_signal_session(pid_t leader, int sig);

#endif
