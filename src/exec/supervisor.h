/*
 * exec/supervisor — the process that owns one job from exec to exit
 * status, and outlives the daemon.
 *
 * The daemon prepares a supervisor_plan (paths, notify address, the
 * spawn plan, the job's cgroups), then forks with every signal blocked;
 * the child calls supervisor_run() and never returns. Being a fork of the
 * multithreaded daemon (no exec, so a job costs one exec), supervisor_run
 * only makes async-signal-safe calls on memory prepared before the fork.
 *
 * supervisor_run, in order: setsid (out of the daemon's session and
 * process group, so neither a terminal nor kill -9 of the daemon reaches
 * the job); default signal dispositions, all signals blocked and taken
 * with sigtimedwait; every inherited fd closed except the report pipe;
 * process name SUPERVISOR_COMM and working directory DIR (what
 * exec_local_cancel checks besides the start time); DIR/supervisor ("PID STARTTIME\n"); the job child (spawn_run); DIR/started
 * ("JOBPID START_TIME\n"); one struct supervisor_report on the pipe to the
 * daemon, which is waiting in exec_local_start. Then it waits:
 *
 *   SIGCHLD   the job's main process ended;
 *   SIGUSR1   cancel (exec_local_cancel): SIGTERM to the whole job, SIGKILL
 *             grace_s later, cancelled=true;
 *   SIGUSR2   the wall time changed (exec_local_set_walltime): DIR/walltime
 *             is read and the deadline moved to start + its seconds (a
 *             file that is not a regular file owned by the supervisor's
 *             uid, or that does not parse, is ignored; so is the signal
 *             once the job is ending);
 *   timeout   wall time: the same, timeout=true.
 *
 * When the main process has ended, whatever it left running in the job's
 * group is killed, usage is read (cgroup counters, else wait4's rusage),
 * the group removed, DIR/status written (tmp, fsync, rename, fsync dir) and
 * "ended <job_id>\n" sent to the notify socket (errors ignored: a daemon
 * that is down rescans job directories when it starts).
 */
#ifndef KAON_EXEC_SUPERVISOR_H
#define KAON_EXEC_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "exec/spawn.h"

struct exec_job;
struct cgroup_job;

/* The supervisor's process name (/proc/PID/comm, at most 15 bytes). */
#define SUPERVISOR_COMM "kaon-supervisor"

struct supervisor_plan {
	int64_t job_id;
	int64_t walltime_s; /* 0: none */
	int grace_s;
	char *dir; /* absolute */
	char *supervisor_path, *supervisor_tmp;
	char *status_path, *status_tmp;
	char *walltime_path;
	bool notify;
	struct sockaddr_un notify_addr;
	socklen_t notify_len;
	char notify_msg[48];
	size_t notify_msg_len;
	const struct spawn_plan *spawn;
	const struct cgroup_job *cgroup; /* NULL: the process group is the job */
};

/* What the supervisor tells the daemon once the job has exec'd or failed. */
struct supervisor_report {
	int ok;
	struct spawn_failure failure;
};

/* Daemon side. */
struct supervisor_plan *supervisor_plan_new(const struct exec_job *job, const char *absdir,
					    const struct spawn_plan *sp,
					    const struct cgroup_job *cg);
void supervisor_plan_free(struct supervisor_plan *plan);

/* In the forked child, with every signal blocked. reportfd is the write
 * end of a close-on-exec pipe to the daemon. */
_Noreturn void supervisor_run(const struct supervisor_plan *plan, int reportfd);

#endif
