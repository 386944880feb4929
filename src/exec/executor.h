/*
 * exec/executor — running jobs on this machine (the local executor).
 *
 * Each job runs under a small supervisor process that outlives the
 * daemon: the zygote (zygote.h), a small process the daemon forks at
 * start, forks it on the daemon's behalf (no exec: a job costs one exec,
 * the job's own; without a zygote the daemon forks it itself), the
 * supervisor detaches (setsid, reparented to init when the daemon
 * dies), puts the job in its own resource group (cgroup v2 where its
 * controllers exist, else v1), starts it as the job owner's Unix account
 * (initgroups → setgid → setuid; never root when the daemon is root) in its
 * own process group, with stdout and stderr appended to files in the job
 * directory, enforces the wall time (SIGTERM, grace, SIGKILL), and when the
 * job ends writes its exit status to the job directory atomically, then
 * tells the daemon with one datagram on the notify socket.
 *
 * The job directory is the contract between the daemon and a supervisor,
 * so a restarted daemon re-attaches from the directory alone:
 *
 *   DIR/stdout, DIR/stderr   the job's output (appended)
 *   DIR/supervisor           "PID STARTTIME JOBPID\n": the supervisor (starttime
 *                            from /proc/PID/stat, so a reused pid is not
 *                            mistaken for it) and the job's main process
 *   DIR/walltime             "SECONDS\n": the job's wall time, counted from its
 *                            start (0: none), when it changed after the start
 *                            (exec_local_set_walltime); written atomically by
 *                            the daemon, owned by the daemon's uid
 *   DIR/status               JSON written once at the end, atomically:
 *     {"exit_code":N|null,"signal":N|null,"oom":bool,"timeout":bool,
 *      "cancelled":bool,"start_time":T,"end_time":T,"cpu_seconds":X,
 *      "max_rss_kb":N}
 *
 * Cancel: the daemon asks the supervisor (exec_local_cancel), which sends
 * SIGTERM to every process of the job's resource group — children that
 * daemonized or changed process group included — then SIGKILL after the
 * grace period, and records cancelled=true.
 *
 * Wall time changed while the job runs (a session extended or shortened):
 * the daemon writes DIR/walltime and sends SIGUSR2 to the supervisor
 * (exec_local_set_walltime), which re-reads the file and moves its
 * deadline to start + SECONDS; a deadline already past ends the job as a
 * timeout at once. The supervisor trusts the file only when it is a
 * regular file owned by its own uid: the job directory belongs to the job
 * user, who could otherwise plant a wall time of their choosing. Because
 * the file is the contract, a daemon restarted meanwhile extends the jobs
 * it re-attached to like its own. Supervisors started by a kaon from
 * before this extension never unblock SIGUSR2: the signal stays pending,
 * ignored, and their jobs keep the wall time they started with.
 *
 * Calls here may block briefly (fork, file I/O); none waits for a job.
 */
#ifndef KAON_EXEC_EXECUTOR_H
#define KAON_EXEC_EXECUTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct exec_job {
	int64_t job_id;
	const char *dir;      /* the job directory, created by the caller */
	char *const *argv;    /* NULL-terminated; argv[0] is looked up in PATH */
	char *const *envp;    /* the job's complete environment */
	const char *workdir;
	const char *user;     /* Unix account name, for initgroups */
	uid_t uid;
	gid_t gid;
	int cpus;             /* CPU quota, in CPUs */
	int64_t mem_mb;       /* memory limit; exceeding it ends the job as oom */
	int64_t walltime_s;   /* 0: none */
	int max_procs;        /* process limit; 0: none */
	const int *gpus;      /* GPU indices given to the job */
	size_t ngpus;
	int grace_s;          /* between SIGTERM and SIGKILL (wall time, cancel) */
	const char *notify_socket; /* AF_UNIX datagram socket path of the daemon */
};

/* The largest wall time a running job can be given (ten years): keeps the
 * supervisor's millisecond deadline far from overflow. */
#define EXEC_WALLTIME_MAX_S ((int64_t)10 * 366 * 24 * 3600)

enum exec_state {
	EXEC_RUNNING, /* supervisor alive, no status yet */
	EXEC_ENDED,   /* status written */
	EXEC_LOST,    /* supervisor gone without writing a status */
};

struct exec_status {
	enum exec_state state;
	int exit_code; /* -1 when killed by a signal */
	int signal;    /* 0 when it exited */
	bool oom;
	bool timeout;
	bool cancelled;
	int64_t start_time, end_time;
	double cpu_seconds;
	int64_t max_rss_kb;
};

/* Probe the resource-group support and prepare kaon's part of the
 * hierarchy; logs what was found (v2, v1 controllers, or none). */
int exec_local_init(const char *data_dir, char **cause);
/* Start the job under a new supervisor. Returns once the job process has
 * been exec'd (0) or failed to start (negative, *cause says why: exec
 * errno, bad user, bad workdir, cgroup failure). */
int exec_local_start(const struct exec_job *job, char **cause);
/* The same in two halves, so that a caller starting many jobs forks all
 * their supervisors before it waits for the first report: the starts then
 * overlap instead of queueing behind each other. begin prepares and forks
 * (nothing of *job is needed after it returns); finish waits for the
 * report, frees *s and returns what exec_local_start would. Every begin
 * that returned 0 must be finished. */
struct exec_start;
int exec_local_begin(const struct exec_job *job, struct exec_start **s, char **cause);
int exec_local_finish(struct exec_start *s, char **cause);
/* Read the job directory (and check the supervisor is alive). */
int exec_local_status(const char *dir, struct exec_status *out);
/* Ask the job's supervisor to end the job (SIGTERM, grace, SIGKILL). A
 * job whose supervisor is not up yet is cancelled as soon as it is (a
 * mark, DIR/cancel, that it looks for). 0, or -ESRCH when the job ended,
 * was lost, or DIR does not exist. */
int exec_local_cancel(const char *dir);
/* Change the wall time of a running job to walltime_s seconds from its
 * start (0: none; at most EXEC_WALLTIME_MAX_S): DIR/walltime is replaced
 * (temp file, fsync, rename) and the supervisor signalled. 0, -EINVAL for
 * a value out of range, -ESRCH when no supervisor of DIR is alive (the job
 * ended; nothing is written then), or another -errno from the write. */
int exec_local_set_walltime(const char *dir, int64_t walltime_s);
/* Reap supervisors that are children of this daemon (call on SIGCHLD or
 * periodically); never blocks. */
void exec_local_reap(void);

#endif
