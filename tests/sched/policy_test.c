/*
 * Unit tests of sched/policy.c with a virtual clock and no processes:
 * priority order (fair share, group weights, age), EASY backfill and its
 * reservation, group limits, array throttling, dependencies, held jobs,
 * determinism, and a randomized simulation that checks placement never
 * double-books a GPU nor overfills a node.
 */
#include <stdint.h>

#include "../harness.h"
#include "sched/fairshare.h"
#include "sched/policy.h"

enum { SCHED_TEST_MAX = 64 };

/* A small cluster and queue; tests fill it, then call sched_test_plan(). */
struct sched_test {
	struct sched_node nodes[4];
	struct sched_group groups[4];
	struct sched_user users[8];
	struct sched_job running[SCHED_TEST_MAX], pending[SCHED_TEST_MAX];
	struct sched_decision out[SCHED_TEST_MAX];
	struct sched_input in;
	enum sched_dep deps[1000]; /* dep_state by job id */
};

static enum sched_dep sched_test_dep_state(void *ctx, int64_t id)
{
	struct sched_test *t = ctx;
	return id >= 0 && id < 1000 ? t->deps[id] : SCHED_DEP_UNKNOWN;
}

/* One node with 64 CPUs, 256 GB and 8 GPUs; one group; users 1..4 in it. */
static void sched_test_init(struct sched_test *t, int64_t now)
{
	memset(t, 0, sizeof *t);
	t->nodes[0] = (struct sched_node){"n0", 64, 256000, 8};
	t->groups[0] = (struct sched_group){1, 1.0, -1, -1, -1};
	for (int i = 0; i < 4; i++)
		t->users[i] = (struct sched_user){i + 1, 1, 0.0};
	t->in.now = now;
	sched_params_default(&t->in.params);
	t->in.nodes = t->nodes;
	t->in.nnodes = 1;
	t->in.groups = t->groups;
	t->in.ngroups = 1;
	t->in.users = t->users;
	t->in.nusers = 4;
	t->in.running = t->running;
	t->in.pending = t->pending;
	t->in.dep_state = sched_test_dep_state;
	t->in.dep_ctx = t;
}

static struct sched_job *sched_test_pending(struct sched_test *t, int64_t id, int64_t user,
					    int gpus, int64_t wall, int64_t submit)
{
	struct sched_job *j = &t->pending[t->in.npending++];
	*j = (struct sched_job){.id = id,
				.user_id = user,
				.cpus = 1,
				.mem_mb = 1000,
				.gpus = gpus,
				.walltime_s = wall,
				.submit_time = submit,
				.node = -1};
	return j;
}

static struct sched_job *sched_test_running(struct sched_test *t, int64_t id, int64_t user,
					    int node, uint64_t mask, int64_t start, int64_t wall)
{
	struct sched_job *j = &t->running[t->in.nrunning++];
	*j = (struct sched_job){.id = id,
				.user_id = user,
				.cpus = 1,
				.mem_mb = 1000,
				.gpus = __builtin_popcountll(mask),
				.walltime_s = wall,
				.submit_time = start,
				.node = node,
				.start_time = start,
				.gpu_mask = mask};
	return j;
}

static void sched_test_plan(struct sched_test *t)
{
	sched_plan(&t->in, t->out);
}

static const struct sched_decision *sched_test_get(const struct sched_test *t, int64_t id)
{
	for (size_t i = 0; i < t->in.npending; i++)
		if (t->out[i].job_id == id)
			return &t->out[i];
	harness_fail(__FILE__, __LINE__, "no decision for job %lld", (long long)id);
}

/* The decision for job `id` is to wait for `why`, with that estimated start. */
static void sched_test_waits(int line, const struct sched_test *t, int64_t id,
			     enum sched_reason why, int64_t est)
{
	const struct sched_decision *d = sched_test_get(t, id);
	if (d->action != SCHED_WAIT || d->reason != why || d->est_start != est)
		harness_fail(__FILE__, line,
			     "job %lld: action %d reason %s est %lld, expected "
			     "wait %s est %lld",
			     (long long)id, (int)d->action, sched_reason_name(d->reason),
			     (long long)d->est_start, sched_reason_name(why), (long long)est);
}

/* The decision for job `id` is to start now on `node` with these GPUs. */
static void sched_test_starts(int line, const struct sched_test *t, int64_t id, int node,
			      uint64_t mask)
{
	const struct sched_decision *d = sched_test_get(t, id);
	if (d->action != SCHED_START || d->node != node || d->gpu_mask != mask)
		harness_fail(__FILE__, line,
			     "job %lld: action %d (%s) node %d mask %#llx, "
			     "expected start on %d mask %#llx",
			     (long long)id, (int)d->action, sched_reason_name(d->reason), d->node,
			     (unsigned long long)d->gpu_mask, node, (unsigned long long)mask);
}

#define CHECK_WAITS(t, id, why, est)	sched_test_waits(__LINE__, t, id, why, est)
#define CHECK_STARTS(t, id, node, mask) sched_test_starts(__LINE__, t, id, node, mask)

TEST(sched_reason_names_are_the_api_spelling)
{
	CHECK_STR(sched_reason_name(SCHED_REASON_NONE), "");
	CHECK_STR(sched_reason_name(SCHED_REASON_PRIORITY), "priority");
	CHECK_STR(sched_reason_name(SCHED_REASON_RESOURCES), "resources");
	CHECK_STR(sched_reason_name(SCHED_REASON_GROUP_LIMIT), "group_limit");
	CHECK_STR(sched_reason_name(SCHED_REASON_DEPENDENCY), "dependency");
	CHECK_STR(sched_reason_name(SCHED_REASON_HELD), "held");
	CHECK_STR(sched_reason_name(SCHED_REASON_ARRAY_LIMIT), "array_limit");
	CHECK_STR(sched_reason_name(SCHED_REASON_DEPENDENCY_FAILED), "dependency_failed");
	CHECK_STR(sched_reason_name((enum sched_reason)99), "");
}

TEST(sched_params_defaults)
{
	struct sched_params p;
	sched_params_default(&p);
	CHECK(p.w_fairshare == 10000.0);
	CHECK(p.w_age == 1000.0);
	CHECK_INT(p.max_age_s, 7 * 86400);
}

TEST(sched_empty_input_plans_nothing)
{
	struct sched_test t;
	sched_test_init(&t, 1000);
	t.in.nnodes = 0;
	sched_test_plan(&t);
	sched_test_pending(&t, 1, 1, 0, 60, 0);
	sched_test_plan(&t);
	CHECK_WAITS(&t, 1, SCHED_REASON_RESOURCES, -1);
}

TEST(sched_gpu_mask_takes_the_lowest_free_gpus)
{
	struct sched_test t;
	sched_test_init(&t, 1000);
	sched_test_running(&t, 100, 1, 0, 0x05, 0, 0);
	sched_test_pending(&t, 1, 1, 2, 60, 10);
	sched_test_pending(&t, 2, 1, 3, 60, 20);
	sched_test_pending(&t, 3, 1, 0, 60, 30);
	sched_test_plan(&t);
	CHECK_STARTS(&t, 1, 0, 0x0a);
	CHECK_STARTS(&t, 2, 0, 0x70);
	CHECK_STARTS(&t, 3, 0, 0);
	CHECK_INT(sched_test_get(&t, 1)->est_start, 1000);
}

TEST(sched_fairshare_light_user_goes_before_heavy_user)
{
	struct sched_test t;
	sched_test_init(&t, 10000);
	t.users[0].usage = 1e6;			    /* heavy */
	t.users[1].usage = 1e3;			    /* light */
	sched_test_pending(&t, 1, 1, 8, 3600, 100); /* heavy user's, submitted first */
	sched_test_pending(&t, 2, 2, 8, 3600, 200);
	sched_test_plan(&t);
	CHECK(sched_test_get(&t, 2)->priority > sched_test_get(&t, 1)->priority);
	CHECK_STARTS(&t, 2, 0, 0xff);
	/* The heavy user's job holds the reservation: it starts when job 2 ends. */
	CHECK_WAITS(&t, 1, SCHED_REASON_RESOURCES, 10000 + 3600);
	/* Without usage, submit order decides. */
	t.users[0].usage = t.users[1].usage = 0;
	sched_test_plan(&t);
	CHECK_STARTS(&t, 1, 0, 0xff);
	CHECK_WAITS(&t, 2, SCHED_REASON_RESOURCES, 10000 + 3600);
}

TEST(sched_fairshare_group_weight_ten_beats_weight_one)
{
	struct sched_test t;
	sched_test_init(&t, 10000);
	t.groups[0] = (struct sched_group){1, 10.0, -1, -1, -1};
	t.groups[1] = (struct sched_group){2, 1.0, -1, -1, -1};
	t.in.ngroups = 2;
	t.users[1].group_id = 2;
	t.in.nusers = 2;
	t.users[0].usage = t.users[1].usage = 5000; /* equal in absolute terms */
	sched_test_pending(&t, 1, 2, 8, 3600, 100); /* weight-1 group, earlier */
	sched_test_pending(&t, 2, 1, 8, 3600, 200); /* weight-10 group */
	sched_test_plan(&t);
	CHECK(sched_test_get(&t, 2)->priority > sched_test_get(&t, 1)->priority);
	CHECK_STARTS(&t, 2, 0, 0xff);
	CHECK_WAITS(&t, 1, SCHED_REASON_RESOURCES, 10000 + 3600);
}

TEST(sched_age_lets_an_old_job_outrank_eventually)
{
	struct sched_test t;
	int64_t day = 86400;
	sched_test_init(&t, 0);
	t.users[0].usage = 520; /* slightly heavier: F_fs 2^-1.04 vs 2^-0.96 */
	t.users[1].usage = 480;
	t.in.nusers = 2;
	sched_test_pending(&t, 1, 1, 8, 3600, 0);
	sched_test_pending(&t, 2, 2, 8, 3600, 0);
	t.in.now = day; /* job 1 is one day old, job 2 is new */
	t.pending[1].submit_time = day;
	sched_test_plan(&t);
	CHECK_STARTS(&t, 2, 0, 0xff);
	t.in.now = 3 * day; /* three days old: 3/7 * 1000 outweighs ~277 of fair share */
	t.pending[1].submit_time = 3 * day;
	sched_test_plan(&t);
	CHECK_STARTS(&t, 1, 0, 0xff);
	/* Age is capped at max_age_s: 7 and 30 days old weigh the same. */
	t.in.now = 7 * day;
	t.pending[1].submit_time = 7 * day;
	sched_test_plan(&t);
	double p7 = sched_test_get(&t, 1)->priority;
	t.in.now = 30 * day;
	t.pending[1].submit_time = 30 * day;
	sched_test_plan(&t);
	CHECK(sched_test_get(&t, 1)->priority == p7);
	CHECK(sched_test_get(&t, 2)->priority < p7);
}

/* Node 0: 8 GPUs, GPUs 4-7 held until t=1000 by job 100; now is 100.
 * Job 1 (oldest) wants all 8 and gets the reservation at t=1000. */
static void sched_test_backfill_setup(struct sched_test *t)
{
	sched_test_init(t, 100);
	sched_test_running(t, 100, 4, 0, 0xf0, 0, 1000);
	sched_test_pending(t, 1, 1, 8, 3600, 10);
}

TEST(sched_backfill_short_job_starts_long_job_waits)
{
	struct sched_test t;
	sched_test_backfill_setup(&t);
	sched_test_pending(&t, 2, 2, 4, 5000, 20); /* would end at 5100: after the shadow */
	sched_test_pending(&t, 3, 3, 4, 900, 30);  /* ends at 1000: exactly at the shadow */
	sched_test_plan(&t);
	CHECK_WAITS(&t, 1, SCHED_REASON_RESOURCES, 1000);
	/* Fits now, but would delay job 1: its slot comes after job 1's. */
	CHECK_WAITS(&t, 2, SCHED_REASON_PRIORITY, 1000 + 3600);
	CHECK_STARTS(&t, 3, 0, 0x0f);
	/* One second longer and it would delay job 1: it runs after job 1,
	 * beside job 2. */
	t.pending[2].walltime_s = 901;
	sched_test_plan(&t);
	CHECK_WAITS(&t, 3, SCHED_REASON_PRIORITY, 1000 + 3600);
	CHECK_INT(sched_test_get(&t, 3)->why.max_walltime_now, 900);
	/* A job with no wall time never ends before a booked slot. */
	t.pending[2].walltime_s = 0;
	sched_test_plan(&t);
	CHECK_WAITS(&t, 3, SCHED_REASON_PRIORITY, 1000 + 3600); /* beside job 2 */
}

TEST(sched_backfill_without_a_blocked_job_is_plain_first_fit)
{
	struct sched_test t;
	sched_test_backfill_setup(&t);
	t.pending[0].gpus = 2; /* now fits: no reservation */
	sched_test_pending(&t, 2, 2, 2, 99999, 20);
	sched_test_pending(&t, 3, 3, 1, 0, 30);
	sched_test_plan(&t);
	CHECK_STARTS(&t, 1, 0, 0x03);
	CHECK_STARTS(&t, 2, 0, 0x0c);
	CHECK_WAITS(&t, 3, SCHED_REASON_RESOURCES, 1000);
}

TEST(sched_backfill_long_job_uses_only_the_extra_resources)
{
	struct sched_test t;
	sched_test_backfill_setup(&t);
	t.pending[0].gpus = 6;			   /* at t=1000: 8 free, 6 for job 1, 2 extra */
	sched_test_pending(&t, 2, 2, 2, 0, 20);	   /* never ends: fits in the extra */
	sched_test_pending(&t, 3, 3, 1, 5000, 30); /* extra is used up now */
	sched_test_pending(&t, 4, 3, 2, 600, 40);  /* short: any free GPU */
	sched_test_plan(&t);
	CHECK_WAITS(&t, 1, SCHED_REASON_RESOURCES, 1000);
	/* Job 1 is kept the GPUs that job 100 releases (4-7) plus 0-1, so the
	 * extra is GPUs 2-3, free now. */
	CHECK_STARTS(&t, 2, 0, 0x0c);
	CHECK_WAITS(&t, 3, SCHED_REASON_PRIORITY, 1000 + 3600);
	CHECK_STARTS(&t, 4, 0, 0x03);
}

TEST(sched_backfill_extra_counts_cpus_and_memory_too)
{
	struct sched_test t;
	sched_test_backfill_setup(&t);
	t.pending[0].cpus = 60;	      /* at t=1000: 64 CPUs, 4 left over */
	t.pending[0].mem_mb = 200000; /* at t=1000: 256 GB, 56 GB left over */
	sched_test_pending(&t, 2, 2, 0, 0, 20)->cpus = 5;
	sched_test_pending(&t, 3, 2, 0, 0, 30)->cpus = 4;
	struct sched_job *j4 = sched_test_pending(&t, 4, 2, 0, 0, 40);
	struct sched_job *j5 = sched_test_pending(&t, 5, 2, 0, 0, 50);
	j4->cpus = j5->cpus = 0;
	j4->mem_mb = 55001; /* free now, but 1 MB more than the extra */
	j5->mem_mb = 55000; /* exactly the extra left after job 3 */
	sched_test_plan(&t);
	CHECK_WAITS(&t, 1, SCHED_REASON_RESOURCES, 1000);
	CHECK_WAITS(&t, 2, SCHED_REASON_PRIORITY, 1000 + 3600);
	CHECK_STARTS(&t, 3, 0, 0);
	CHECK_WAITS(&t, 4, SCHED_REASON_PRIORITY, 1000 + 3600);
	CHECK_STARTS(&t, 5, 0, 0);
}

TEST(sched_backfill_long_job_starts_on_another_node)
{
	struct sched_test t;
	sched_test_backfill_setup(&t);
	t.nodes[1] = (struct sched_node){"n1", 16, 64000, 4};
	t.in.nnodes = 2;
	sched_test_pending(&t, 2, 2, 4, 0, 20); /* fits now on both; only node 1 is safe */
	sched_test_pending(&t, 3, 3, 2, 0, 30); /* fits now only on node 0: reserved */
	sched_test_plan(&t);
	CHECK_WAITS(&t, 1, SCHED_REASON_RESOURCES, 1000);
	CHECK_STARTS(&t, 2, 1, 0x0f);
	CHECK_WAITS(&t, 3, SCHED_REASON_PRIORITY, 1000 + 3600);
}

TEST(sched_reservation_releases_jobs_in_order_of_their_end)
{
	struct sched_test t;
	sched_test_init(&t, 100);
	sched_test_running(&t, 100, 4, 0, 0x03, 0, 0);	  /* no wall time: never ends */
	sched_test_running(&t, 101, 4, 0, 0x0c, 50, 750); /* ends at 800 */
	sched_test_running(&t, 102, 4, 0, 0x30, 0, 500);  /* ends at 500 */
	sched_test_pending(&t, 1, 1, 6, 3600, 10);
	sched_test_plan(&t);
	CHECK_WAITS(&t, 1, SCHED_REASON_RESOURCES, 800);
	/* An overdue job (being killed) is about to end: in a second, not
	 * now, since its GPUs are not free yet. */
	t.running[1].walltime_s = 10;
	sched_test_plan(&t);
	CHECK_WAITS(&t, 1, SCHED_REASON_RESOURCES, 500);
	t.running[2].walltime_s = 10;
	sched_test_plan(&t);
	CHECK_WAITS(&t, 1, SCHED_REASON_RESOURCES, 101);
}

TEST(sched_reservation_counts_jobs_started_in_the_same_plan)
{
	struct sched_test t;
	sched_test_init(&t, 100);
	sched_test_pending(&t, 1, 1, 6, 300, 10);
	sched_test_pending(&t, 2, 1, 4, 3600, 20);
	sched_test_pending(&t, 3, 1, 2, 200, 30); /* 2 GPUs left, ends at 300 <= 400 */
	sched_test_plan(&t);
	CHECK_STARTS(&t, 1, 0, 0x3f);
	CHECK_WAITS(&t, 2, SCHED_REASON_RESOURCES, 400);
	CHECK_STARTS(&t, 3, 0, 0xc0);
}

TEST(sched_reservation_skips_jobs_that_wait_for_endless_jobs)
{
	struct sched_test t;
	sched_test_init(&t, 100);
	sched_test_running(&t, 100, 4, 0, 0x0f, 0, 0);	  /* never ends */
	sched_test_running(&t, 101, 4, 0, 0xf0, 0, 1000); /* ends at 1000 */
	sched_test_pending(&t, 1, 1, 8, 3600, 10);	  /* needs job 100's GPUs: no estimate */
	sched_test_pending(&t, 2, 1, 4, 3600, 20);	  /* gets the reservation */
	sched_test_pending(&t, 3, 1, 0, 0, 30);		  /* CPU only, runs forever: fits extra */
	sched_test_plan(&t);
	CHECK_WAITS(&t, 1, SCHED_REASON_RESOURCES, -1);
	CHECK_WAITS(&t, 2, SCHED_REASON_RESOURCES, 1000);
	CHECK_STARTS(&t, 3, 0, 0);
}

TEST(sched_job_larger_than_any_node_never_fits)
{
	struct sched_test t;
	sched_test_init(&t, 100);
	sched_test_running(&t, 100, 4, 0, 0xff, 0, 1000);
	sched_test_pending(&t, 1, 1, 9, 3600, 10);		/* 9 GPUs on an 8-GPU node */
	sched_test_pending(&t, 2, 1, 0, 3600, 20)->cpus = 65;	/* 65 CPUs on a 64-CPU node */
	sched_test_pending(&t, 3, 1, 0, 3600, 30)->mem_mb = -1; /* nonsense */
	sched_test_pending(&t, 4, 1, 8, 3600, 40);		/* fits at 1000 */
	sched_test_plan(&t);
	CHECK_WAITS(&t, 1, SCHED_REASON_RESOURCES, -1);
	CHECK_WAITS(&t, 2, SCHED_REASON_RESOURCES, -1);
	CHECK_WAITS(&t, 3, SCHED_REASON_RESOURCES, -1);
	CHECK_WAITS(&t, 4, SCHED_REASON_RESOURCES, 1000);
}

TEST(sched_group_limit_on_gpus_counts_running_and_started_jobs)
{
	struct sched_test t;
	sched_test_init(&t, 100);
	t.groups[0].max_gpus = 4;
	sched_test_running(&t, 100, 2, 0, 0x03, 0, 1000); /* another user, same group */
	sched_test_pending(&t, 1, 1, 4, 60, 10);	  /* 2 + 4 > 4 */
	sched_test_pending(&t, 2, 1, 2, 60, 20);	  /* 2 + 2 = 4 */
	sched_test_pending(&t, 3, 1, 1, 60, 30);	  /* 4 + 1 > 4, counting job 2 */
	sched_test_pending(&t, 4, 1, 0, 60, 40);	  /* asks no GPU: not held back */
	sched_test_plan(&t);
	CHECK_WAITS(&t, 1, SCHED_REASON_GROUP_LIMIT, -1);
	CHECK_STARTS(&t, 2, 0, 0x0c);
	CHECK_WAITS(&t, 3, SCHED_REASON_GROUP_LIMIT, -1);
	CHECK_STARTS(&t, 4, 0, 0);
	/* A group limit is not a reservation: a later job is not blocked by it. */
	CHECK(sched_test_get(&t, 1)->est_start == -1);
}

TEST(sched_group_limit_on_cpus_and_jobs)
{
	struct sched_test t;
	sched_test_init(&t, 100);
	t.groups[0].max_cpus = 10;
	sched_test_running(&t, 100, 2, 0, 0, 0, 1000)->cpus = 4;
	sched_test_pending(&t, 1, 1, 0, 60, 10)->cpus = 7;
	sched_test_pending(&t, 2, 1, 0, 60, 20)->cpus = 6;
	sched_test_pending(&t, 3, 1, 0, 60, 30)->cpus = 1;
	sched_test_plan(&t);
	CHECK_WAITS(&t, 1, SCHED_REASON_GROUP_LIMIT, -1);
	CHECK_STARTS(&t, 2, 0, 0);
	CHECK_WAITS(&t, 3, SCHED_REASON_GROUP_LIMIT, -1);

	t.groups[0].max_cpus = -1;
	t.groups[0].max_jobs = 3;
	sched_test_plan(&t);
	CHECK_STARTS(&t, 1, 0, 0);
	CHECK_STARTS(&t, 2, 0, 0);
	CHECK_WAITS(&t, 3, SCHED_REASON_GROUP_LIMIT, -1);

	/* Another group's users are not counted. */
	t.groups[1] = (struct sched_group){2, 1.0, -1, -1, 1};
	t.in.ngroups = 2;
	t.users[1].group_id = 2;
	sched_test_plan(&t);
	CHECK_STARTS(&t, 1, 0, 0);
	CHECK_STARTS(&t, 2, 0, 0);
	CHECK_STARTS(&t, 3, 0, 0);
}

TEST(sched_array_throttle_keeps_n_elements_running)
{
	struct sched_test t;
	sched_test_init(&t, 100);
	sched_test_running(&t, 100, 1, 0, 0x01, 0, 1000)->array_id = 7;
	for (int i = 1; i <= 4; i++) {
		struct sched_job *j = sched_test_pending(&t, i, 1, 1, 60, 10 * i);
		j->array_id = i <= 3 ? 7 : 8;
		j->array_limit = 2;
	}
	sched_test_pending(&t, 5, 1, 1, 60, 50)->array_id = 8; /* no limit on its own */
	sched_test_plan(&t);
	CHECK_STARTS(&t, 1, 0, 0x02);
	CHECK_WAITS(&t, 2, SCHED_REASON_ARRAY_LIMIT, -1);
	CHECK_WAITS(&t, 3, SCHED_REASON_ARRAY_LIMIT, -1);
	CHECK_STARTS(&t, 4, 0, 0x04);
	CHECK_STARTS(&t, 5, 0, 0x08);
}

TEST(sched_dependencies_wait_start_or_cancel)
{
	struct sched_test t;
	sched_test_init(&t, 100);
	t.deps[10] = SCHED_DEP_OK;
	t.deps[11] = SCHED_DEP_WAITING;
	t.deps[12] = SCHED_DEP_FAILED;
	static const int64_t ok[] = {10}, waiting[] = {10, 11}, failed[] = {10, 12},
			     unknown[] = {999}, both[] = {11, 12};
	struct {
		const int64_t *after;
		size_t n;
	} deps[] = {{ok, 1}, {waiting, 2}, {failed, 2}, {unknown, 1}, {both, 2}};
	for (int i = 0; i < 5; i++) {
		struct sched_job *j = sched_test_pending(&t, i + 1, 1, 1, 60, i);
		j->after = deps[i].after;
		j->nafter = deps[i].n;
	}
	sched_test_plan(&t);
	CHECK_STARTS(&t, 1, 0, 0x01);
	CHECK_WAITS(&t, 2, SCHED_REASON_DEPENDENCY, -1);
	for (int64_t id = 3; id <= 5; id++) {
		CHECK_INT(sched_test_get(&t, id)->action, SCHED_CANCEL);
		CHECK_INT(sched_test_get(&t, id)->reason, SCHED_REASON_DEPENDENCY_FAILED);
	}
	t.deps[11] = SCHED_DEP_OK;
	sched_test_plan(&t);
	CHECK_STARTS(&t, 2, 0, 0x02);
	/* Without a callback nothing is known: wait, never cancel on a guess. */
	t.in.dep_state = NULL;
	sched_test_plan(&t);
	CHECK_WAITS(&t, 3, SCHED_REASON_DEPENDENCY, -1);
}

TEST(sched_held_job_waits_and_takes_nothing)
{
	struct sched_test t;
	sched_test_init(&t, 100);
	sched_test_pending(&t, 1, 1, 8, 60, 10)->held = true;
	sched_test_pending(&t, 2, 1, 8, 60, 20);
	sched_test_plan(&t);
	CHECK_WAITS(&t, 1, SCHED_REASON_HELD, -1);
	CHECK_STARTS(&t, 2, 0, 0xff);
}

/* ---- reservations ---------------------------------------------------- */

/* Node 0 (8 GPUs, 64 CPUs, 256 GB): user 1 has GPUs 0-1 (and 16 CPUs,
 * 64 GB) reserved for [1000, 2000); now is 100. */
static struct sched_reservation sched_test_resv[4];

static void sched_test_resv_setup(struct sched_test *t)
{
	sched_test_init(t, 100);
	sched_test_resv[0] = (struct sched_reservation){.id = 7, .user_id = 1, .node = 0,
						       .gpu_mask = 0x03, .cpus = 16, .mem_mb = 64000,
						       .start = 1000, .end = 2000, .approved = true};
	t->in.resvs = sched_test_resv;
	t->in.nresvs = 1;
}

TEST(sched_resv_gpus_are_kept_free_for_it)
{
	struct sched_test t;
	sched_test_resv_setup(&t);
	/* Another user wants all 8 GPUs for an hour: not before the window
	 * ends, since it would overlap it. */
	sched_test_pending(&t, 1, 2, 8, 3600, 10);
	/* 6 GPUs fit beside the reservation, if they end before job 1's slot. */
	sched_test_pending(&t, 2, 3, 6, 1900, 20);
	sched_test_plan(&t);
	CHECK_WAITS(&t, 1, SCHED_REASON_RESOURCES, 2000);
	CHECK_STARTS(&t, 2, 0, 0xfc);
	/* The explanation names the reservation that holds the GPUs. */
	const struct sched_decision *d = sched_test_get(&t, 1);
	CHECK_INT(d->why.resv_id, 7);
	CHECK_INT(d->why.resv_user, 1);
	CHECK_INT(d->why.resv_start, 1000);
}

TEST(sched_resv_short_job_backfills_before_the_window_long_one_does_not)
{
	struct sched_test t;
	sched_test_resv_setup(&t);
	sched_test_running(&t, 100, 4, 0, 0xfc, 0, 100000); /* GPUs 2-7 busy for long */
	sched_test_pending(&t, 1, 2, 2, 900, 10);  /* ends at 1000: fits before the window */
	sched_test_pending(&t, 2, 3, 2, 901, 20);  /* one second too long */
	sched_test_plan(&t);
	CHECK_STARTS(&t, 1, 0, 0x03);
	CHECK_INT(sched_test_get(&t, 1)->resv_id, 0);
	/* Job 2 gets the GPUs when job 1 ends... no: at 1000 the window
	 * begins; it runs once the window is over. */
	CHECK_WAITS(&t, 2, SCHED_REASON_RESOURCES, 2000);
	CHECK_INT(sched_test_get(&t, 2)->why.max_walltime_now, 0); /* job 1 took them */
	/* Alone, job 2 would hear how short it must be to start now. */
	t.pending[0].held = true;
	sched_test_plan(&t);
	CHECK_WAITS(&t, 2, SCHED_REASON_RESOURCES, 2000);
	CHECK_INT(sched_test_get(&t, 2)->why.max_walltime_now, 900);
}

TEST(sched_resv_owner_job_starts_at_the_window_and_runs_inside)
{
	struct sched_test t;
	sched_test_resv_setup(&t);
	sched_test_running(&t, 100, 4, 0, 0xfc, 0, 100000);
	/* Too long to end before the window: it runs inside it, automatically. */
	sched_test_pending(&t, 1, 1, 2, 950, 10);
	/* Asked for explicitly: after job 1, inside the window. */
	sched_test_pending(&t, 2, 1, 1, 40, 20)->resv_req = 7;
	/* Too long for the window: not inside it; the GPUs are free only
	 * after the window. */
	sched_test_pending(&t, 3, 1, 2, 1500, 30);
	/* Short enough: the owner's job backfills before its own window. */
	sched_test_pending(&t, 4, 1, 2, 900, 40);
	sched_test_plan(&t);
	CHECK_WAITS(&t, 1, SCHED_REASON_RESERVATION, 1000);
	CHECK_INT(sched_test_get(&t, 1)->resv_id, 7);
	CHECK_WAITS(&t, 2, SCHED_REASON_RESERVATION, 1950);
	CHECK_INT(sched_test_get(&t, 2)->resv_id, 7);
	CHECK_WAITS(&t, 3, SCHED_REASON_RESOURCES, 2000);
	CHECK_INT(sched_test_get(&t, 3)->resv_id, 0);
	/* Its explanation names the owner's own reservation in the way. */
	CHECK_INT(sched_test_get(&t, 3)->why.resv_id, 7);
	CHECK_STARTS(&t, 4, 0, 0x03);
	t.in.npending = 3;
	/* At the window's start it starts, inside the reservation. */
	t.in.now = 1000;
	t.pending[1].resv_req = 0;
	sched_test_plan(&t);
	CHECK_STARTS(&t, 1, 0, 0x03);
	CHECK_INT(sched_test_get(&t, 1)->resv_id, 7);
	/* Another user's job never goes inside. */
	t.pending[0].user_id = 2;
	sched_test_plan(&t);
	CHECK_WAITS(&t, 1, SCHED_REASON_RESOURCES, 2000);
}

TEST(sched_resv_running_inside_holds_the_reservation_not_the_node)
{
	struct sched_test t;
	sched_test_resv_setup(&t);
	t.in.now = 1200;
	sched_test_running(&t, 100, 1, 0, 0x01, 1000, 600)->resv_id = 7; /* ends 1600 */
	sched_test_pending(&t, 1, 1, 2, 300, 10);			 /* owner: needs both */
	sched_test_pending(&t, 2, 2, 6, 300, 20);			 /* others: GPUs 2-7 */
	sched_test_pending(&t, 3, 1, 1, 300, 30);			 /* owner: GPU 1 inside */
	sched_test_plan(&t);
	/* Job 1 waits for job 100 inside the window; 6 GPUs outside would
	 * also do, but job 2 came... no: job 1 ranks first and takes 2 of
	 * the free node GPUs now. */
	CHECK_STARTS(&t, 1, 0, 0x0c);
	CHECK_INT(sched_test_get(&t, 1)->resv_id, 0);
	CHECK_WAITS(&t, 2, SCHED_REASON_RESOURCES, 1500);
	CHECK_STARTS(&t, 3, 0, 0x02);
	CHECK_INT(sched_test_get(&t, 3)->resv_id, 7);
}

TEST(sched_resv_gone_or_unapproved)
{
	struct sched_test t;
	sched_test_resv_setup(&t);
	sched_test_pending(&t, 1, 1, 1, 300, 10)->resv_req = 8; /* no such reservation */
	sched_test_pending(&t, 2, 2, 1, 300, 20)->resv_req = 7; /* not the owner */
	sched_test_pending(&t, 3, 1, 1, 300, 30)->resv_req = 7;
	sched_test_resv[0].approved = false;
	sched_test_plan(&t);
	CHECK_INT(sched_test_get(&t, 1)->action, SCHED_CANCEL);
	CHECK_INT(sched_test_get(&t, 1)->reason, SCHED_REASON_RESERVATION_GONE);
	CHECK_INT(sched_test_get(&t, 2)->action, SCHED_CANCEL);
	CHECK_WAITS(&t, 3, SCHED_REASON_RESERVATION, -1);
	/* Unapproved, it holds nothing: another user's 8-GPU job starts. */
	sched_test_pending(&t, 4, 2, 8, 3600, 40);
	sched_test_plan(&t);
	CHECK_STARTS(&t, 4, 0, 0xff);
}

TEST(sched_resv_release_when_unused)
{
	CHECK(!sched_resv_should_release(1000, -1, 1000 + 1799, 1800));
	CHECK(sched_resv_should_release(1000, -1, 1000 + 1800, 1800));
	CHECK(!sched_resv_should_release(1000, 1500, 5000, 1800)); /* used */
	CHECK(!sched_resv_should_release(1000, -1, 900000, 0));    /* disabled */
	CHECK(!sched_resv_should_release(1000, -1, 999, 1));       /* not begun */
}

TEST(sched_plan_mask_keeps_a_job_on_the_gpus_it_was_promised)
{
	struct sched_test t;
	sched_test_init(&t, 100);
	sched_test_pending(&t, 1, 1, 2, 60, 10)->plan_mask = 0x30;
	sched_test_pending(&t, 2, 1, 2, 60, 20)->plan_mask = 0x31; /* 4 and 5 taken: 0, then lowest */
	sched_test_plan(&t);
	CHECK_STARTS(&t, 1, 0, 0x30);
	CHECK_STARTS(&t, 2, 0, 0x03);
}

/* ---- explanations ---------------------------------------------------- */

TEST(sched_explain_names_what_is_short_and_what_frees_it)
{
	struct sched_test t;
	sched_test_init(&t, 100);
	sched_test_running(&t, 812, 4, 0, 0x3f, 0, 2000); /* 6 GPUs until 2000 */
	sched_test_running(&t, 813, 4, 0, 0x40, 0, 900);  /* 1 GPU until 900 */
	sched_test_pending(&t, 1, 1, 2, 3600, 10);
	sched_test_pending(&t, 2, 2, 3, 3600, 20);
	sched_test_plan(&t);
	const struct sched_decision *d1 = sched_test_get(&t, 1), *d2 = sched_test_get(&t, 2);
	CHECK_WAITS(&t, 1, SCHED_REASON_RESOURCES, 900);
	CHECK_INT(d1->why.short_of, SCHED_SHORT_GPUS);
	CHECK_INT(d1->why.need_gpus, 2);
	CHECK_INT(d1->why.free_gpus, 1);
	CHECK_INT(d1->why.next_job, 813);
	CHECK_INT(d1->why.next_at, 900);
	CHECK_INT(d1->why.next_gpus, 1);
	CHECK_INT(d1->why.fewer_gpus, 1); /* with 1 GPU it would start now */
	CHECK_INT(d1->position, 1);
	/* Job 2 waits for job 812: job 1 takes GPUs 6-7 at 900. */
	CHECK_WAITS(&t, 2, SCHED_REASON_RESOURCES, 2000);
	CHECK_INT(d2->position, 2);
	CHECK_INT(d2->why.fewer_gpus, 0); /* job 1's booked slot leaves none */
	/* A CPU-only job is ranked among all: behind both. */
	sched_test_pending(&t, 3, 3, 0, 60, 30)->cpus = 64;
	sched_test_plan(&t);
	CHECK_INT(sched_test_get(&t, 3)->position, 3);
}

TEST(sched_explain_group_limit_says_which)
{
	struct sched_test t;
	sched_test_init(&t, 100);
	t.groups[0].max_gpus = 4;
	sched_test_running(&t, 100, 2, 0, 0x0f, 0, 1000);
	sched_test_pending(&t, 1, 1, 1, 60, 10);
	sched_test_plan(&t);
	const struct sched_decision *d = sched_test_get(&t, 1);
	CHECK_WAITS(&t, 1, SCHED_REASON_GROUP_LIMIT, -1);
	CHECK_INT(d->why.limit, SCHED_LIMIT_GPUS);
	CHECK_INT(d->why.limit_value, 4);
	CHECK_INT(d->why.limit_used, 4);
	CHECK_INT(d->position, 0);
}

/*
 * Estimated start times are exact when every job runs to its wall time
 * and nothing new arrives: plan, advance the virtual clock to the next
 * end, start what the plan says, and compare each start with the first
 * estimate. Two nodes, a reservation, jobs of mixed size and length.
 */
TEST(sched_estimates_are_exact_when_jobs_run_to_their_wall_time)
{
	struct sched_test t;
	sched_test_resv_setup(&t);
	t.in.params.w_age = 0; /* priorities fixed: order by submit time */
	t.nodes[1] = (struct sched_node){"n1", 8, 32000, 2};
	t.in.nnodes = 2;
	static const struct {
		int64_t user;
		int gpus, cpus;
		int64_t wall;
	} jobs[] = {
	    {2, 4, 8, 700}, {3, 8, 8, 1000}, {1, 2, 4, 400}, {2, 1, 4, 300}, {4, 2, 60, 1500},
	    {3, 3, 2, 200}, {1, 1, 1, 900},  {2, 0, 62, 100}, {4, 6, 8, 500}, {3, 2, 4, 2500},
	    {1, 2, 16, 800}, {2, 1, 1, 50},  {4, 0, 8, 4000}, {3, 4, 4, 600}, {2, 2, 2, 1200},
	};
	enum { N = sizeof jobs / sizeof jobs[0] };
	int64_t first_est[N + 1], started[N + 1];
	for (int i = 0; i < N; i++) {
		sched_test_pending(&t, i + 1, jobs[i].user, jobs[i].gpus, jobs[i].wall, i)->cpus =
		    jobs[i].cpus;
		first_est[i + 1] = -2;
		started[i + 1] = -1;
	}
	int rounds = 0;
	while (t.in.npending > 0 && rounds++ < 100) {
		sched_test_plan(&t);
		size_t keep = 0;
		int64_t next_est = INT64_MAX;
		for (size_t i = 0; i < t.in.npending; i++) {
			const struct sched_decision *d = &t.out[i];
			if (d->est_start > t.in.now && d->est_start < next_est)
				next_est = d->est_start;
			struct sched_job j = t.pending[i];
			if (first_est[j.id] == -2)
				first_est[j.id] = d->est_start;
			CHECK(d->action != SCHED_CANCEL);
			if (d->action != SCHED_START) {
				j.plan_mask = d->gpu_mask; /* as the daemon keeps it */
				t.pending[keep++] = j;
				continue;
			}
			started[j.id] = t.in.now;
			j.node = d->node, j.gpu_mask = d->gpu_mask, j.start_time = t.in.now;
			j.resv_id = d->resv_id;
			t.running[t.in.nrunning++] = j;
		}
		t.in.npending = keep;
		/* Jobs end at their wall time; the clock moves to the next end
		 * or estimated start (the daemon plans every second). */
		int64_t next = INT64_MAX;
		for (size_t i = 0; i < t.in.nrunning; i++) {
			int64_t end = t.running[i].start_time + t.running[i].walltime_s;
			next = end < next ? end : next;
		}
		next = next_est < next ? next_est : next;
		if (next == INT64_MAX)
			break;
		t.in.now = next;
		size_t r = 0;
		for (size_t i = 0; i < t.in.nrunning; i++)
			if (t.running[i].start_time + t.running[i].walltime_s > t.in.now)
				t.running[r++] = t.running[i];
		t.in.nrunning = r;
	}
	/* The scenario is not trivial: most jobs waited, all ran. */
	int waited = 0;
	for (int id = 1; id <= N; id++)
		waited += first_est[id] > 100;
	CHECK(waited >= N / 2);
	CHECK(rounds > 8);
	for (int id = 1; id <= N; id++) {
		if (started[id] != first_est[id])
			harness_fail(__FILE__, __LINE__, "job %d started at %lld, estimated %lld", id,
				     (long long)started[id], (long long)first_est[id]);
	}
}

/* ------------------------------------------------------------------------
 * A randomized simulation: jobs arrive, start where the plan says, end at
 * random times before their wall time; after every plan the cluster must be
 * consistent. The clock, the workload and the random numbers are virtual
 * and seeded, so a failure is reproducible.
 */

enum { SCHED_SIM_JOBS = 1500, SCHED_SIM_NODES = 3, SCHED_SIM_USERS = 6 };

enum sched_sim_state { SCHED_SIM_PENDING, SCHED_SIM_RUNNING, SCHED_SIM_DONE, SCHED_SIM_FAILED };

struct sched_sim_job {
	struct sched_job j;
	int64_t after[2];
	int64_t end;
	enum sched_sim_state state;
};

struct sched_sim {
	uint64_t rng;
	int64_t now;
	struct sched_node nodes[SCHED_SIM_NODES];
	struct sched_group groups[2];
	struct sched_user users[SCHED_SIM_USERS];
	struct fairshare_weights fw;
	struct sched_sim_job jobs[SCHED_SIM_JOBS + 1]; /* by id; 0 unused */
	int njobs;
	struct sched_job running[SCHED_SIM_JOBS], pending[SCHED_SIM_JOBS], swapped[SCHED_SIM_JOBS];
	struct sched_decision out[SCHED_SIM_JOBS], again[SCHED_SIM_JOBS];
	size_t nrunning, npending;
	long started, waited_priority, reserved;
};

static uint64_t sched_sim_rand(struct sched_sim *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

static int64_t sched_sim_pick(struct sched_sim *s, int64_t n)
{
	return (int64_t)(sched_sim_rand(s) % (uint64_t)n);
}

static enum sched_dep sched_sim_dep_state(void *ctx, int64_t id)
{
	struct sched_sim *s = ctx;
	if (id < 1 || id > s->njobs)
		return SCHED_DEP_UNKNOWN;
	switch (s->jobs[id].state) {
	case SCHED_SIM_DONE:
		return SCHED_DEP_OK;
	case SCHED_SIM_FAILED:
		return SCHED_DEP_FAILED;
	default:
		return SCHED_DEP_WAITING;
	}
}

static void sched_sim_init(struct sched_sim *s, uint64_t seed)
{
	memset(s, 0, sizeof *s);
	s->rng = seed;
	s->now = 1000000;
	s->nodes[0] = (struct sched_node){"gpu8", 32, 128000, 8};
	s->nodes[1] = (struct sched_node){"gpu4", 16, 64000, 4};
	s->nodes[2] = (struct sched_node){"cpu", 48, 192000, 0};
	s->groups[0] = (struct sched_group){1, 2.0, 10, -1, 12};
	s->groups[1] = (struct sched_group){2, 1.0, -1, 40, -1};
	for (int i = 0; i < SCHED_SIM_USERS; i++)
		s->users[i] = (struct sched_user){i + 1, i % 2 + 1, 0.0};
	fairshare_weights_default(&s->fw);
	s->fw.half_life_s = 6 * 3600;
}

static void sched_sim_submit(struct sched_sim *s)
{
	static const int gpus[] = {0, 0, 1, 1, 1, 2, 2, 4, 4, 8};
	if (s->njobs == SCHED_SIM_JOBS)
		return;
	struct sched_sim_job *sj = &s->jobs[++s->njobs];
	struct sched_job *j = &sj->j;
	*j = (struct sched_job){.id = s->njobs,
				.user_id = 1 + sched_sim_pick(s, SCHED_SIM_USERS),
				.cpus = (int)sched_sim_pick(s, 17),
				.gpus = gpus[sched_sim_pick(s, 10)],
				.submit_time = s->now,
				.node = -1};
	j->mem_mb = 1000 * sched_sim_pick(s, 70);
	j->walltime_s = sched_sim_pick(s, 8) ? 60 + sched_sim_pick(s, 7200) : 0;
	j->held = sched_sim_pick(s, 20) == 0;
	if (sched_sim_pick(s, 6) == 0) { /* an array of about ten elements, %2 or %3 */
		j->array_id = 1000 + s->njobs / 10;
		j->array_limit = 2 + (int)(j->array_id % 2);
	}
	if (s->njobs > 5 && sched_sim_pick(s, 8) == 0) {
		sj->after[0] = s->njobs - 1 - sched_sim_pick(s, 5);
		sj->after[1] = sched_sim_pick(s, 50) ? sj->after[0] : 999999; /* unknown id */
		j->nafter = 2;
	}
	j->after = sj->after;
	sj->state = SCHED_SIM_PENDING;
}

/* Ends jobs whose time came, decays and accrues usage, advances the clock. */
static void sched_sim_advance(struct sched_sim *s, int64_t dt)
{
	int64_t t0 = s->now, t1 = s->now + dt;
	for (int i = 0; i < SCHED_SIM_USERS; i++)
		s->users[i].usage = fairshare_decay(&s->fw, s->users[i].usage, dt);
	for (int id = 1; id <= s->njobs; id++) {
		struct sched_sim_job *sj = &s->jobs[id];
		if (sj->state != SCHED_SIM_RUNNING)
			continue;
		int64_t end = sj->end < t1 ? sj->end : t1;
		s->users[sj->j.user_id - 1].usage += fairshare_accrue(
		    &s->fw, fairshare_billing(&s->fw, sj->j.cpus, sj->j.gpus), t0, end, t1);
		if (sj->end <= t1)
			sj->state = sched_sim_pick(s, 10) ? SCHED_SIM_DONE : SCHED_SIM_FAILED;
	}
	s->now = t1;
}

static void sched_sim_snapshot(struct sched_sim *s, struct sched_input *in)
{
	s->nrunning = s->npending = 0;
	for (int id = 1; id <= s->njobs; id++) {
		if (s->jobs[id].state == SCHED_SIM_RUNNING)
			s->running[s->nrunning++] = s->jobs[id].j;
		else if (s->jobs[id].state == SCHED_SIM_PENDING)
			s->pending[s->npending++] = s->jobs[id].j;
	}
	*in = (struct sched_input){.now = s->now,
				   .nodes = s->nodes,
				   .nnodes = SCHED_SIM_NODES,
				   .groups = s->groups,
				   .ngroups = 2,
				   .users = s->users,
				   .nusers = SCHED_SIM_USERS,
				   .running = s->running,
				   .nrunning = s->nrunning,
				   .pending = s->pending,
				   .npending = s->npending,
				   .dep_state = sched_sim_dep_state,
				   .dep_ctx = s};
	sched_params_default(&in->params);
}

static void sched_sim_same(const struct sched_decision *a, const struct sched_decision *b)
{
	CHECK_INT(a->job_id, b->job_id);
	CHECK_INT(a->action, b->action);
	CHECK_INT(a->reason, b->reason);
	CHECK(a->priority == b->priority);
	CHECK_INT(a->est_start, b->est_start);
	if (a->action == SCHED_START) {
		CHECK_INT(a->node, b->node);
		CHECK(a->gpu_mask == b->gpu_mask);
	}
}

/* Same input, same plan; and the order of the input arrays does not matter. */
static void sched_sim_check_determinism(struct sched_sim *s, struct sched_input *in)
{
	sched_plan(in, s->again);
	for (size_t i = 0; i < in->npending; i++)
		sched_sim_same(&s->out[i], &s->again[i]);
	for (size_t i = 0; i < in->npending; i++)
		s->swapped[i] = s->pending[in->npending - 1 - i];
	struct sched_input rev = *in;
	rev.pending = s->swapped;
	sched_plan(&rev, s->again);
	for (size_t i = 0; i < in->npending; i++)
		sched_sim_same(&s->out[i], &s->again[in->npending - 1 - i]);
}

/* Apply one decision to the simulated cluster, checking what it says. */
static void sched_sim_apply(struct sched_sim *s, const struct sched_decision *d, int *reservations)
{
	struct sched_sim_job *sj = &s->jobs[d->job_id];
	struct sched_job *j = &sj->j;
	CHECK_INT(sj->state, SCHED_SIM_PENDING);
	if (d->action == SCHED_CANCEL) {
		CHECK_INT(d->reason, SCHED_REASON_DEPENDENCY_FAILED);
		CHECK(j->nafter > 0);
		sj->state = SCHED_SIM_FAILED;
		return;
	}
	if (d->action == SCHED_WAIT) {
		CHECK(d->reason != SCHED_REASON_NONE);
		CHECK(d->est_start == -1 || d->est_start >= s->now);
		if (d->reason == SCHED_REASON_RESOURCES && d->est_start != -1)
			(*reservations)++;
		s->waited_priority += d->reason == SCHED_REASON_PRIORITY;
		if (j->held && sched_sim_pick(s, 10) == 0)
			j->held = false;
		return;
	}
	CHECK_INT(d->action, SCHED_START);
	CHECK(!j->held);
	CHECK(d->node >= 0 && d->node < SCHED_SIM_NODES);
	CHECK_INT(__builtin_popcountll(d->gpu_mask), j->gpus);
	CHECK_INT(d->est_start, s->now);
	j->node = d->node;
	j->gpu_mask = d->gpu_mask;
	j->start_time = s->now;
	int64_t run = j->walltime_s > 0 ? j->walltime_s : 20000;
	sj->end = s->now + 1 + sched_sim_pick(s, run);
	sj->state = SCHED_SIM_RUNNING;
	s->started++;
}

/* What must hold of the running jobs after every plan. */
static void sched_sim_check_cluster(const struct sched_sim *s)
{
	int64_t cpus[SCHED_SIM_NODES] = {0}, mem[SCHED_SIM_NODES] = {0};
	uint64_t used[SCHED_SIM_NODES] = {0};
	int64_t ggpus[3] = {0}, gcpus[3] = {0}, gjobs[3] = {0}, arrays[SCHED_SIM_JOBS] = {0};
	for (int id = 1; id <= s->njobs; id++) {
		const struct sched_job *j = &s->jobs[id].j;
		if (s->jobs[id].state != SCHED_SIM_RUNNING)
			continue;
		int n = j->node, g = (int)s->users[j->user_id - 1].group_id;
		CHECK((used[n] & j->gpu_mask) == 0); /* no GPU given twice */
		CHECK((j->gpu_mask >> s->nodes[n].ngpus) == 0);
		used[n] |= j->gpu_mask;
		cpus[n] += j->cpus;
		mem[n] += j->mem_mb;
		ggpus[g] += j->gpus;
		gcpus[g] += j->cpus;
		gjobs[g]++;
		if (j->array_id) {
			arrays[j->array_id - 1000]++;
			CHECK(arrays[j->array_id - 1000] <= j->array_limit);
		}
	}
	for (int n = 0; n < SCHED_SIM_NODES; n++) {
		CHECK(cpus[n] <= s->nodes[n].cpus);
		CHECK(mem[n] <= s->nodes[n].mem_mb);
	}
	CHECK(ggpus[1] <= s->groups[0].max_gpus);
	CHECK(gjobs[1] <= s->groups[0].max_jobs);
	CHECK(gcpus[2] <= s->groups[1].max_cpus);
}

/* Backfill's promise: what started in this plan does not delay the first booked slot.
 * Releasing every running job by its wall time, job `id` fits at `at`. */
static void sched_sim_check_reservation(const struct sched_sim *s, int64_t id, int64_t at)
{
	const struct sched_job *r = &s->jobs[id].j;
	bool fits = false;
	for (int n = 0; n < SCHED_SIM_NODES && !fits; n++) {
		int64_t cpus = s->nodes[n].cpus, mem = s->nodes[n].mem_mb;
		int gpus = s->nodes[n].ngpus;
		for (int k = 1; k <= s->njobs; k++) {
			const struct sched_job *j = &s->jobs[k].j;
			int64_t end = j->start_time + j->walltime_s;
			if (s->jobs[k].state != SCHED_SIM_RUNNING || j->node != n)
				continue;
			if (j->walltime_s == 0 || (end > s->now ? end : s->now) > at) {
				cpus -= j->cpus;
				mem -= j->mem_mb;
				gpus -= j->gpus;
			}
		}
		fits = r->cpus <= cpus && r->mem_mb <= mem && r->gpus <= gpus;
	}
	CHECK(fits);
}

static void sched_sim_run(uint64_t seed, int steps, bool determinism)
{
	struct sched_sim *s = malloc(sizeof *s);
	CHECK(s != NULL);
	sched_sim_init(s, seed);
	for (int step = 0; step < steps; step++) {
		for (int64_t k = sched_sim_pick(s, 6); k > 0; k--)
			sched_sim_submit(s);
		struct sched_input in;
		sched_sim_snapshot(s, &in);
		sched_plan(&in, s->out);
		if (determinism)
			sched_sim_check_determinism(s, &in);
		int reservations = 0, holder = -1;
		for (size_t i = 0; i < in.npending; i++) {
			CHECK_INT(s->out[i].job_id, s->pending[i].id);
			sched_sim_apply(s, &s->out[i], &reservations);
			/* The first booked slot in priority order. */
			const struct sched_decision *d = &s->out[i], *h = holder >= 0 ? &s->out[holder] : NULL;
			if (d->action == SCHED_WAIT && d->est_start != -1 &&
			    (!h || d->priority > h->priority ||
			     (d->priority == h->priority &&
			      (s->pending[i].submit_time < s->pending[holder].submit_time ||
			       (s->pending[i].submit_time == s->pending[holder].submit_time &&
				d->job_id < h->job_id)))))
				holder = (int)i;
		}
		s->reserved += reservations;
		sched_sim_check_cluster(s);
		/* What started in this plan never delays the first booked slot. */
		if (holder >= 0)
			sched_sim_check_reservation(s, s->out[holder].job_id,
						    s->out[holder].est_start);
		sched_sim_advance(s, 1 + sched_sim_pick(s, 900));
	}
	/* The workload exercised what it is meant to. */
	CHECK(s->started > steps);
	CHECK(s->reserved > steps / 2);
	CHECK(s->waited_priority > steps / 10);
	free(s);
}

TEST(sched_property_no_double_booking_in_a_simulation)
{
	for (uint64_t seed = 1; seed <= 4; seed++)
		sched_sim_run(seed * 0x9e3779b97f4a7c15ull, 400, false);
}

TEST(sched_same_input_gives_the_same_plan)
{
	sched_sim_run(42, 150, true);
}
