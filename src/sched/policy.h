/*
 * sched/policy — the scheduling policy: a pure function of (pending jobs,
 * running jobs, node capacity, group limits, decayed usage, time) that
 * returns, for each pending job, whether to start it now and where, or why
 * it waits and when it is expected to start.
 *
 * Pure: no I/O, no clock, no globals, no allocation visible to the caller
 * (internal scratch is freed before returning). The daemon feeds it the
 * wall clock and the store; tests feed it a virtual clock. The same input always gives the same output (ties broken by job
 * id), so a policy bug is reproducible from its input alone.
 *
 * Priority (higher runs first), documented for users in docs/scheduling.md:
 *
 *   priority = w_fairshare * F_fs + w_age * F_age
 *   F_fs  = 2^(-U/S)           classic fair share (Slurm, damping 1)
 *           S = share of the user: group weight / sum of the weights of the
 *               groups that have users, split evenly among the group's
 *               users (users[] lists them)
 *           U = user's decayed usage / all users' decayed usage (0 if none)
 *   F_age = min(1, (now - submit_time) / max_age_s)
 *
 * Placement never gives one GPU to two jobs nor more CPUs or memory than a
 * node has. Group limits (concurrent GPUs, CPUs, jobs of all the group's
 * users together, counting running jobs) keep jobs pending with reason
 * GROUP_LIMIT. An array element waits with ARRAY_LIMIT while `%N` of its
 * array run. Jobs are considered in priority order; the first job that
 * cannot start for lack of resources gets a reservation at the earliest
 * time enough running jobs will have ended (by their wall time), and a
 * lower-priority job may start now only if it fits now and either ends
 * (now + walltime) before that reservation or leaves the reserved
 * resources untouched (EASY backfill).
 */
#ifndef KAON_SCHED_POLICY_H
#define KAON_SCHED_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { SCHED_MAX_GPUS = 64 }; /* per node: gpu masks are uint64_t */

struct sched_node {
	const char *name;
	int cpus;
	int64_t mem_mb;
	int ngpus; /* GPUs indexed 0..ngpus-1 */
};

struct sched_group {
	int64_t id;
	double weight;                     /* fair-share weight, > 0 */
	int64_t max_gpus, max_cpus, max_jobs; /* concurrent, all users together; -1: no limit */
};

struct sched_user {
	int64_t id;
	int64_t group_id; /* primary group: its share and limits apply */
	double usage;     /* decayed usage as of `now` (billing-seconds) */
};

struct sched_job {
	int64_t id;
	int64_t user_id;
	int cpus;
	int64_t mem_mb;
	int gpus;
	int64_t walltime_s;
	int64_t submit_time;
	bool held;
	int64_t array_id;  /* 0: not part of an array */
	int array_limit;   /* `%N` of its array; 0: no limit */
	const int64_t *after; /* job ids that must complete successfully first */
	size_t nafter;
	/* Running jobs only: where and since when. */
	int node;
	int64_t start_time;
	uint64_t gpu_mask;
};

enum sched_dep {
	SCHED_DEP_UNKNOWN,   /* no such job */
	SCHED_DEP_WAITING,   /* pending or running */
	SCHED_DEP_OK,        /* ended with state completed */
	SCHED_DEP_FAILED,    /* ended any other way: the dependent job can never run */
};

struct sched_params {
	double w_fairshare; /* default 10000 */
	double w_age;       /* default 1000 */
	int64_t max_age_s;  /* default 7 days */
};

struct sched_input {
	int64_t now;
	struct sched_params params;
	const struct sched_node *nodes;
	size_t nnodes;
	const struct sched_group *groups;
	size_t ngroups;
	const struct sched_user *users;
	size_t nusers;
	const struct sched_job *running;
	size_t nrunning;
	const struct sched_job *pending;
	size_t npending;
	/* State of a dependency (any job id, ended ones included). */
	enum sched_dep (*dep_state)(void *ctx, int64_t job_id);
	void *dep_ctx;
};

enum sched_action {
	SCHED_START,  /* start now on node with gpu_mask */
	SCHED_WAIT,   /* stay pending for `reason` */
	SCHED_CANCEL, /* can never run (a dependency failed or is unknown) */
};

enum sched_reason {
	SCHED_REASON_NONE,
	SCHED_REASON_PRIORITY,    /* resources would fit, but a higher-priority job holds a reservation */
	SCHED_REASON_RESOURCES,   /* not enough free CPUs, memory or GPUs now */
	SCHED_REASON_GROUP_LIMIT, /* the group's concurrent limit is reached */
	SCHED_REASON_DEPENDENCY,  /* waiting for `after` jobs */
	SCHED_REASON_HELD,
	SCHED_REASON_ARRAY_LIMIT, /* `%N` elements of its array are running */
	SCHED_REASON_DEPENDENCY_FAILED, /* with SCHED_CANCEL */
};

struct sched_decision {
	int64_t job_id;
	enum sched_action action;
	enum sched_reason reason;
	int node;          /* SCHED_START */
	uint64_t gpu_mask; /* SCHED_START: exactly `gpus` bits, none in use */
	double priority;
	int64_t est_start; /* SCHED_WAIT: expected start (Unix time), -1 unknown */
};

void sched_params_default(struct sched_params *p);
/* Fill out[i] for in->pending[i]; out has in->npending entries. */
void sched_plan(const struct sched_input *in, struct sched_decision *out);
/* The reason as the API spells it: "priority", "resources", ... */
const char *sched_reason_name(enum sched_reason r);

#endif
