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
 * array run.
 *
 * Planning is conservative backfill over a timeline (what Slurm's
 * backfill scheduler does for the jobs it tests): every node's free CPUs,
 * memory and GPUs are known from now on, given the running jobs' wall
 * times and the reservations. Jobs are taken in priority order; each gets
 * the earliest start at which it fits for its whole wall time, and that
 * slot is booked on the timeline, so a lower-priority job starts now only
 * if it delays no job before it. The booked slots are the estimated start
 * times: exact when every job runs to its wall time and nothing new
 * arrives. Past SCHED_PLAN_DEPTH booked future slots, later jobs may still
 * start now (without delaying any booked slot) but get no estimate.
 *
 * Reservations (calendar bookings) hold their GPUs, and the node's CPUs
 * and memory in proportion, for their window: during it only the owner's
 * jobs run on them, and other jobs may use them before it only if they
 * end by its start. An owner's job runs inside a reservation when it asks
 * for it (resv_req) or, automatically, when that is where it starts
 * earliest; it must end by the reservation's end.
  */
#ifndef KAON_SCHED_POLICY_H
#define KAON_SCHED_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	SCHED_MAX_GPUS = 64,     /* per node: gpu masks are uint64_t */
	SCHED_PLAN_DEPTH = 500,  /* future slots booked per plan (Slurm's bf_max_job_test) */
};

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

/* A reservation: GPUs of one node for [start, end), with CPUs and memory. */
struct sched_reservation {
	int64_t id;
	int64_t user_id;
	int node;
	uint64_t gpu_mask;
	int cpus;
	int64_t mem_mb;
	int64_t start, end;
	bool approved; /* false: awaiting approval; holds nothing, runs nothing yet */
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
	int64_t resv_req;  /* pending: run only inside this reservation; 0: anywhere */
	/* Pending: the GPUs its slot had in the previous plan (0: none). They
	 * are taken again when still free, so a plan is stable from pass to
	 * pass and a job starts on the GPUs it was promised. */
	uint64_t plan_mask;
	/* Running jobs only: where, since when, and inside which reservation (0: none). */
	int node;
	int64_t start_time;
	uint64_t gpu_mask;
	int64_t resv_id;
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
	const struct sched_reservation *resvs; /* live ones: end > now */
	size_t nresvs;
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
	SCHED_REASON_RESERVATION, /* its reservation has not begun, awaits approval, or is too short */
	SCHED_REASON_RESERVATION_GONE, /* with SCHED_CANCEL: its reservation is no more */
};

/* What a resource-waiting job is short of (bits of sched_why.short_of). */
enum { SCHED_SHORT_GPUS = 1, SCHED_SHORT_CPUS = 2, SCHED_SHORT_MEM = 4 };

/* The group limit a GROUP_LIMIT job waits on. */
enum sched_limit { SCHED_LIMIT_NONE, SCHED_LIMIT_GPUS, SCHED_LIMIT_CPUS, SCHED_LIMIT_JOBS };

/*
 * Why a job waits, in numbers the daemon turns into words. Filled for
 * RESOURCES and PRIORITY (the node where it would start first), for
 * GROUP_LIMIT, and for RESERVATION; zero otherwise.
 */
struct sched_why {
	int node;                  /* -1: none */
	unsigned short_of;         /* SCHED_SHORT_*: what is missing now for running jobs */
	int need_gpus, free_gpus;  /* free now on that node for this job */
	int need_cpus;
	int64_t free_cpus;
	int64_t need_mem, free_mem;
	/* The first running job whose end frees some of what is short. */
	int64_t next_job, next_at;
	int next_gpus;
	/* A reservation (another user's, or the owner's own that the job does
	 * not fit in) holds GPUs this job could otherwise use. */
	int64_t resv_id, resv_user, resv_start, resv_end;
	/* What-if: with this many GPUs (fewer than asked, >= 1) it would start
	 * now; 0: none would. With a wall time of at most this it would start
	 * now (backfill); 0: none would. */
	int fewer_gpus;
	int64_t max_walltime_now;
	/* GROUP_LIMIT */
	enum sched_limit limit;
	int64_t limit_value, limit_used;
};

struct sched_decision {
	int64_t job_id;
	enum sched_action action;
	enum sched_reason reason;
	int node;          /* SCHED_START; a booked SCHED_WAIT: where its slot is */
	uint64_t gpu_mask; /* SCHED_START: exactly `gpus` bits, none in use; booked WAIT: its slot's */
	double priority;
	int64_t est_start; /* SCHED_WAIT: expected start (Unix time), -1 unknown */
	int64_t resv_id;   /* SCHED_START: inside this reservation; WAIT: the one it asked for */
	/* SCHED_WAIT for resources or priority: rank (1 = next) among the
	 * pending jobs that compete with it (GPU jobs among the jobs that ask
	 * for GPUs, others among all); 0 otherwise. */
	int64_t position;
	struct sched_why why;
};

void sched_params_default(struct sched_params *p);
/* Fill out[i] for in->pending[i]; out has in->npending entries. */
void sched_plan(const struct sched_input *in, struct sched_decision *out);
/* A reservation that nothing used within release_after_s of its start is
 * released (0: never). first_used_at -1: unused so far. */
bool sched_resv_should_release(int64_t start, int64_t first_used_at, int64_t now,
			       int64_t release_after_s);
/* The reason as the API spells it: "priority", "resources", ... */
const char *sched_reason_name(enum sched_reason r);

#endif
