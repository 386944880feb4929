/*
 * exec/spawn — the one place where a job process is set up and exec'd,
 * plus the async-signal-safe toolbox the supervisor and cgroup code share.
 *
 * Setting up a job happens in two halves:
 *
 *   spawn_plan_new()   in the daemon, before the supervisor is forked: it
 *                      may allocate, log and block on NSS (getpwnam_r,
 *                      getgrouplist), and it resolves everything the child
 *                      will need into the plan: argv, envp, PATH, the
 *                      output paths, uid/gid and the supplementary groups.
 *   spawn_run()        in the supervisor, a fork of the multithreaded
 *                      daemon: it may only make async-signal-safe calls (no
 *                      malloc, stdio, locks or logger; under ASan no
 *                      allocation at all), so it reads the plan and makes
 *                      raw system calls.
 *
 * The job child, in this order: setsid (own session and process group),
 * join the job's cgroups, stdin from /dev/null, DIR/stdout and DIR/stderr
 * opened for append (created 0640 and given to the job user), setgroups →
 * setgid → setuid (only when the daemon is root), RLIMIT_NPROC when asked
 * and no pids controller limits the job, a parent-death signal so the job
 * does not outlive a killed supervisor, chdir to the workdir as the user,
 * signal dispositions and mask reset, every inherited fd marked
 * close-on-exec, then execve along the job's own PATH. The child shares
 * the supervisor's memory until it execs (clone with CLONE_VM |
 * CLONE_VFORK, like posix_spawn), so any failure is written straight into
 * the supervisor's struct spawn_failure before the child exits 127.
 */
#ifndef KAON_EXEC_SPAWN_H
#define KAON_EXEC_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct exec_job;
struct cgroup_job;

/* Where setting up a job failed; stored in struct spawn_failure. */
enum spawn_stage {
	SPAWN_STAGE_NONE = 0,
	SPAWN_STAGE_FORK,       /* clone (or its stack) in the supervisor */
	SPAWN_STAGE_SUPERVISOR, /* writing DIR/supervisor */
	SPAWN_STAGE_SETSID,
	SPAWN_STAGE_CGROUP,
	SPAWN_STAGE_STDIN,
	SPAWN_STAGE_STDOUT,
	SPAWN_STAGE_STDERR,
	SPAWN_STAGE_SETGROUPS,
	SPAWN_STAGE_SETGID,
	SPAWN_STAGE_SETUID,
	SPAWN_STAGE_RLIMIT,
	SPAWN_STAGE_PDEATHSIG,
	SPAWN_STAGE_CHDIR,
	SPAWN_STAGE_EXEC,
};

struct spawn_failure {
	int stage; /* enum spawn_stage */
	int err;   /* errno */
};

/* Everything the job child needs, resolved before any fork. */
struct spawn_plan {
	char *const *argv;   /* borrowed from the exec_job: valid until the fork */
	char *file;          /* argv[0], owned: failure messages come after the fork */
	char *const *envp;   /* borrowed; never NULL (an empty list instead) */
	char **sh_argv;      /* /bin/sh FILE ARGS... for ENOEXEC, as execvp does */
	const char *path;    /* PATH from envp, or a default */
	char *workdir;
	char *stdout_path, *stderr_path;
	bool setcreds;       /* daemon is root: switch to uid/gid/groups */
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int ngroups;
	int nproc_limit;     /* RLIMIT_NPROC to set; 0: none */
	const struct cgroup_job *cgroup; /* NULL: no cgroup to join */
};

/* Daemon side. absdir is the absolute job directory. Fails with *cause
 * for a job that must not or cannot run (root, unknown user). */
int spawn_plan_new(const struct exec_job *job, const char *absdir, const struct cgroup_job *cg,
		   struct spawn_plan **out, char **cause);
void spawn_plan_free(struct spawn_plan *plan);
/* A message for a failure reported by spawn_run (caller frees). */
char *spawn_failure_message(const struct spawn_failure *f, const struct spawn_plan *plan);

/* Supervisor side (async-signal-safe). Starts the job child (see above)
 * and returns once it has exec'd (0, *pid set) or failed (-1, *failure
 * set; *pid is the child to reap, or -1 when no child was made). */
int spawn_run(const struct spawn_plan *plan, pid_t *pid, struct spawn_failure *failure);

/*
 * The steps every child kaon makes (a job, a terminal's shell) shares, so
 * that taking a user's identity is written once.
 */
/* Daemon side: the user's supplementary groups from NSS (initgroups is not
 * async-signal-safe, so the child gets the list), root's group left out
 * and counted in *dropped. *groups is the caller's to free. */
int spawn_groups_resolve(const char *user, gid_t gid, gid_t **groups, int *ngroups,
			 int *dropped, char **cause);
/* Child side (async-signal-safe): setgroups → setgid → setuid as raw
 * system calls (glibc's wrappers would broadcast the change to threads
 * glibc believes the process has), then a check that root is gone for
 * good. 0, or the failing SPAWN_STAGE_SETGROUPS/SETGID/SETUID with *err. */
int spawn_creds_drop(uid_t uid, gid_t gid, const gid_t *groups, int ngroups, int *err);
/* Child side: every signal back to its default disposition (exec resets
 * handlers, not ignored signals: the daemon ignores SIGPIPE). */
void spawn_signals_default(void);
/* Child side: every fd from 3 up closed at exec. */
void spawn_cloexec_all(void);

/*
 * Async-signal-safe helpers: only system calls and string functions that
 * POSIX lists as async-signal-safe (memcpy, strlen, ...). Numbers are
 * decimal; paths are bounded by the caller's buffer.
 */
/* Decimal text of v into buf (at least 21 bytes); returns its length. */
size_t spawn_fmt_i64(char *buf, int64_t v);
/* dst = a "/" b; false when it does not fit. */
bool spawn_path_join(char *dst, size_t cap, const char *a, const char *b);
/* Read at most cap-1 bytes of path into buf, NUL-terminated; length or -errno. */
ssize_t spawn_file_read(const char *path, char *buf, size_t cap);
/* Open an existing file for writing and write s (cgroup control files); 0 or -errno. */
int spawn_file_write(const char *path, const char *s);
/* Replace path by tmp + rename, so a reader sees the old file or the whole
 * new one. Not fsync'd (see supervisor_finish). tmp is unlinked first and
 * created O_EXCL|O_NOFOLLOW so a planted symlink is never followed. 0 or
 * -errno. */
int spawn_file_replace(const char *tmp, const char *path, const void *buf, size_t len);
/* Value of "KEY N" at the start of a line in text (cgroup stat files);
 * false when absent. */
bool spawn_text_key(const char *text, const char *key, int64_t *out);
/* Parse a decimal number at s; returns the end, or NULL when none. */
const char *spawn_parse_i64(const char *s, int64_t *out);
/* Field 22 (starttime, clock ticks since boot) of /proc/PID/stat, and
 * whether the process is a zombie; 0 or -errno. pid 0: this process. */
int spawn_proc_starttime(pid_t pid, int64_t *starttime, bool *zombie);
/* Sleep ms milliseconds (nanosleep, restarted on EINTR). */
void spawn_sleep_ms(int ms);
/* CLOCK_MONOTONIC in milliseconds. */
int64_t spawn_now_ms(void);

#endif
