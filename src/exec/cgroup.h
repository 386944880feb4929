/*
 * exec/cgroup — a resource group per job: limits, accounting, and a way to
 * kill every process of a job, daemonized grandchildren included.
 *
 * cgroup_init() probes once what this machine offers and prepares kaon's
 * part of each hierarchy (a "kaon-jobs" directory); it logs what it found
 * and never fails the daemon: without a writable cgroup, jobs run without
 * limits and are killed through their process group.
 *
 *   v2 (one hierarchy)  jobs under <daemon's cgroup>/kaon-jobs/. Because
 *                       a v2 cgroup with controllers enabled for its
 *                       children may hold no process, a daemon that is
 *                       alone in a non-root cgroup first moves itself into
 *                       <daemon's cgroup>/kaon-daemon/. memory.max (+
 *                       memory.swap.max 0, memory.oom.group 1), cpu.max,
 *                       pids.max; killed with cgroup.kill (5.14+), else
 *                       cgroup.freeze + cgroup.procs.
 *   v1 (per controller) jobs under <daemon's cgroup in that hierarchy>/
 *                       kaon-jobs/ for memory, cpu, cpuacct, pids and
 *                       freezer; killed by freezing, signalling every
 *                       task and thawing until the group is empty.
 *   hybrid              both: controllers bound to v1 limit the job, the
 *                       v2 group (even with no controller) kills it.
 *
 * KAON_CGROUP=auto|v2|v1|none in the environment narrows the choice (for
 * tests and for hosts where a hierarchy misbehaves).
 *
 * A job's groups are named job-<id>-<instance>, instance being a hash of
 * the data directory, so two daemons on one machine never collide.
 *
 * cgroup_job_new/free run in the daemon (they allocate and log); every
 * other cgroup_job_* call runs in the supervisor or the job child and is
 * async-signal-safe: system calls on paths prepared by cgroup_job_new.
 */
#ifndef KAON_EXEC_CGROUP_H
#define KAON_EXEC_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum { CGROUP_MAX_DIRS = 8, CGROUP_PATH_MAX = 1024 };

enum cgroup_kill_how {
	CGROUP_KILL_NONE,      /* no group: the supervisor uses the process group */
	CGROUP_KILL_FILE,      /* v2 cgroup.kill */
	CGROUP_KILL_FREEZE_V2, /* v2 cgroup.freeze, signal cgroup.procs, thaw */
	CGROUP_KILL_FREEZE_V1, /* v1 freezer.state, signal cgroup.procs, thaw */
	CGROUP_KILL_PROCS,     /* signal cgroup.procs until it is empty */
};

/* One job's groups; fixed size so that the supervisor needs no allocation. */
struct cgroup_job {
	int ndirs;
	char dirs[CGROUP_MAX_DIRS][CGROUP_PATH_MAX];
	bool v2[CGROUP_MAX_DIRS];
	int procs;   /* index of the dir that lists the job's processes */
	int freezer; /* index of the dir frozen while killing, or -1 */
	int memory;  /* index of the dir with the memory controller, or -1 */
	int cpuacct; /* index of the dir with CPU usage, or -1 */
	enum cgroup_kill_how kill;
	bool limits_memory, limits_cpu, limits_pids;
};

struct cgroup_limits {
	int64_t mem_mb; /* 0: none */
	int cpus;       /* 0: none */
	int max_procs;  /* 0: none */
};

struct cgroup_usage {
	bool have_cpu, have_peak;
	int64_t cpu_usec;
	int64_t peak_bytes;
	int64_t oom_kills; /* -1: unknown */
	int64_t failcnt;   /* v1 memory.failcnt, -1: unknown */
};

/* Probe and prepare; logs the result. instance names this daemon's groups. */
void cgroup_init(const char *instance);
/* Whether jobs get a group at all. */
bool cgroup_available(void);

/* Create the job's groups and apply limits (daemon side). *out is NULL
 * when cgroups are unavailable. 0, or negative with *cause. */
int cgroup_job_new(int64_t job_id, const struct cgroup_limits *lim, struct cgroup_job **out,
		   char **cause);
void cgroup_job_free(struct cgroup_job *cg);
/* Whether a pids limit is set (else the caller falls back to RLIMIT_NPROC). */
bool cgroup_job_limits_pids(const struct cgroup_job *cg);

/* Async-signal-safe. */
/* Move pid into every group of the job; 0 or -errno. */
int cgroup_job_join(const struct cgroup_job *cg, pid_t pid);
/* Send sig once to every process of the job; returns how many, or -errno. */
int cgroup_job_signal(const struct cgroup_job *cg, int sig);
/* SIGKILL every process until the group is empty, for at most max_ms;
 * true when it is empty. */
bool cgroup_job_kill_all(const struct cgroup_job *cg, int max_ms);
/* Accounting, read after the job has ended and before removal. */
void cgroup_job_usage(const struct cgroup_job *cg, struct cgroup_usage *u);
/* Remove the job's (empty) groups; retried briefly while the kernel
 * still counts exiting tasks. */
void cgroup_job_remove(const struct cgroup_job *cg);

#endif
