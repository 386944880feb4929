/*
 * sched/policy — one scheduling pass: priorities, then every pending job in
 * priority order through the checks (held, dependencies, group limits,
 * array throttle, placement), with EASY backfill behind the first job that
 * is blocked for lack of resources. The contract is sched/policy.h; the
 * user-facing description is docs/scheduling.md.
 *
 * Why it is shaped this way:
 * - Pure and deterministic: the daemon and the tests call the same
 *   function, and a bad decision is reproduced from its input alone. Every
 *   sort has a total order (ties end on the input index).
 * - Cost: O(n log n) for the priority sort, O(nodes) per pending job for
 *   placement, and the shadow-time computation (a sort of the running jobs
 *   by end time) is done for at most SCHED_RESERVE_TRIES jobs, the way
 *   Slurm's bf_max_job_test bounds its backfill work. Lookups of users,
 *   groups and arrays go through sorted key tables, never linear scans.
 * - Reservation on one node: a job runs on a single node, so its
 *   reservation pins the node where it fits earliest. A backfilled job on
 *   any other node cannot delay it; on that node a job that outlives the
 *   shadow time may only use the "extra" resources left over at that time.
 *   The GPUs reserved for the blocked job are, first, those released by
 *   ending jobs, so the GPUs free now stay usable by long backfill jobs.
 */
#include "sched/policy.h"

#include <stdlib.h>

#include "lib/idkey.h"
#include "lib/xalloc.h"
#include "sched/fairshare.h"

/* How many blocked jobs may try to get the reservation when the ones
 * before them cannot (they wait for jobs without a wall time). */
enum { SCHED_RESERVE_TRIES = 16 };

struct sched_nodestate {
	int64_t cpus, mem; /* free now; negative if the input overcommits */
	uint64_t used;	   /* GPUs held by running and just-started jobs */
	uint64_t all;	   /* the node's GPUs */
};

struct sched_use {
	int64_t gpus, cpus, jobs;
};

/* A job that holds resources until `end`: running, or started in this pass. */
struct sched_rel {
	int64_t end;
	int node;
	int cpus;
	int64_t mem;
	uint64_t mask;
};

struct sched_resv {
	bool active;
	int tries;
	int node;
	int64_t shadow;
	int64_t cpus, mem; /* extra: free at the shadow time beyond the job's needs */
	uint64_t gpus;
};

struct sched_state {
	const struct sched_input *in;
	struct sched_nodestate *nodes;
	struct idkey *users, *groups, *arrays;
	size_t narrays;
	struct fairshare_row *fs;
	struct sched_use *guse; /* per position in groups[] */
	int64_t *arun;		/* running elements per position in arrays[] */
	struct sched_rel *rels; /* running jobs with an end, then started ones */
	size_t nrels;
	struct sched_resv resv;
};

/* One pending job's sort key. */
struct sched_rank {
	double prio;
	int64_t submit, id;
	size_t idx;
};

static const char *const sched_reason_names[] = {
    [SCHED_REASON_NONE] = "",
    [SCHED_REASON_PRIORITY] = "priority",
    [SCHED_REASON_RESOURCES] = "resources",
    [SCHED_REASON_GROUP_LIMIT] = "group_limit",
    [SCHED_REASON_DEPENDENCY] = "dependency",
    [SCHED_REASON_HELD] = "held",
    [SCHED_REASON_ARRAY_LIMIT] = "array_limit",
    [SCHED_REASON_DEPENDENCY_FAILED] = "dependency_failed",
};

void sched_params_default(struct sched_params *p)
{
	p->w_fairshare = 10000.0;
	p->w_age = 1000.0;
	p->max_age_s = 7 * 86400;
}

const char *sched_reason_name(enum sched_reason r)
{
	if ((unsigned)r >= sizeof sched_reason_names / sizeof sched_reason_names[0])
		return "";
	return sched_reason_names[r];
}

/* a + b without overflow: wall times of "forever" must not wrap around. */
static int64_t sched_add_sat(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

static int sched_popcount(uint64_t m)
{
	return __builtin_popcountll(m);
}

/* The `n` lowest set bits of `from` (fewer if it has fewer). */
static uint64_t sched_mask_lowest(uint64_t from, int n)
{
	uint64_t out = 0;
	for (int i = 0; i < n && from; i++) {
		uint64_t bit = from & -from;
		out |= bit;
		from &= ~bit;
	}
	return out;
}

static uint64_t sched_mask_all(int ngpus)
{
	if (ngpus <= 0)
		return 0;
	if (ngpus >= SCHED_MAX_GPUS)
		return ~(uint64_t)0;
	return ((uint64_t)1 << ngpus) - 1;
}

/* Sorted, duplicate-free array ids of running and pending jobs. */
static size_t sched_arrays_index(const struct sched_input *in, struct idkey *out)
{
	size_t n = 0;
	for (size_t i = 0; i < in->nrunning; i++)
		if (in->running[i].array_id)
			out[n++] = (struct idkey){in->running[i].array_id, 0};
	for (size_t i = 0; i < in->npending; i++)
		if (in->pending[i].array_id)
			out[n++] = (struct idkey){in->pending[i].array_id, 0};
	qsort(out, n, sizeof *out, idkey_cmp);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (u == 0 || out[u - 1].id != out[i].id)
			out[u++] = out[i];
	return u;
}

static struct idkey *sched_keys_new(size_t n)
{
	return xcalloc(n ? n : 1, sizeof(struct idkey));
}

/* Group position (in st->groups) of a user id, or -1. */
static long sched_group_of(const struct sched_state *st, int64_t user_id)
{
	const struct sched_input *in = st->in;
	long u = idkey_find(st->users, in->nusers, user_id);
	if (u < 0)
		return -1;
	return idkey_find(st->groups, in->ngroups, in->users[st->users[u].idx].group_id);
}

/* What running jobs hold now: node resources, group totals, array elements,
 * and (when they have a wall time) when they let go of it. */
static void sched_state_add_running(struct sched_state *st)
{
	const struct sched_input *in = st->in;
	for (size_t i = 0; i < in->nrunning; i++) {
		const struct sched_job *j = &in->running[i];
		long g = sched_group_of(st, j->user_id);
		if (g >= 0) {
			st->guse[g].gpus += j->gpus;
			st->guse[g].cpus += j->cpus;
			st->guse[g].jobs++;
		}
		long a = j->array_id ? idkey_find(st->arrays, st->narrays, j->array_id) : -1;
		if (a >= 0)
			st->arun[a]++;
		if (j->node < 0 || (size_t)j->node >= in->nnodes)
			continue;
		struct sched_nodestate *ns = &st->nodes[j->node];
		uint64_t mask = j->gpu_mask & ns->all;
		ns->cpus -= j->cpus;
		ns->mem -= j->mem_mb;
		ns->used |= mask;
		if (j->walltime_s > 0) {
			int64_t end = sched_add_sat(j->start_time, j->walltime_s);
			/* Overdue (being killed): about to end, not in the past. */
			st->rels[st->nrels++] = (struct sched_rel){
			    end < in->now ? in->now : end, j->node, j->cpus, j->mem_mb, mask};
		}
	}
}

static void sched_state_init(struct sched_state *st, const struct sched_input *in)
{
	*st = (struct sched_state){.in = in};
	st->nodes = xcalloc(in->nnodes ? in->nnodes : 1, sizeof *st->nodes);
	for (size_t n = 0; n < in->nnodes; n++) {
		st->nodes[n].cpus = in->nodes[n].cpus;
		st->nodes[n].mem = in->nodes[n].mem_mb;
		st->nodes[n].all = sched_mask_all(in->nodes[n].ngpus);
	}
	st->users = sched_keys_new(in->nusers);
	for (size_t i = 0; i < in->nusers; i++)
		st->users[i] = (struct idkey){in->users[i].id, i};
	qsort(st->users, in->nusers, sizeof *st->users, idkey_cmp);
	st->groups = sched_keys_new(in->ngroups);
	for (size_t i = 0; i < in->ngroups; i++)
		st->groups[i] = (struct idkey){in->groups[i].id, i};
	qsort(st->groups, in->ngroups, sizeof *st->groups, idkey_cmp);
	st->guse = xcalloc(in->ngroups ? in->ngroups : 1, sizeof *st->guse);
	st->arrays = sched_keys_new(in->nrunning + in->npending);
	st->narrays = sched_arrays_index(in, st->arrays);
	st->arun = xcalloc(st->narrays ? st->narrays : 1, sizeof *st->arun);
	st->fs = xcalloc(in->nusers ? in->nusers : 1, sizeof *st->fs);
	fairshare_compute(in->users, in->nusers, in->groups, in->ngroups, st->fs);
	st->rels = xcalloc(in->nrunning + in->npending + 1, sizeof *st->rels);
	sched_state_add_running(st);
}

static void sched_state_free(struct sched_state *st)
{
	free(st->rels);
	free(st->fs);
	free(st->arun);
	free(st->arrays);
	free(st->guse);
	free(st->groups);
	free(st->users);
	free(st->nodes);
}

static double sched_priority(const struct sched_state *st, const struct sched_job *j)
{
	const struct sched_input *in = st->in;
	long u = idkey_find(st->users, in->nusers, j->user_id);
	double f_fs = u >= 0 ? st->fs[st->users[u].idx].factor : 0.0;
	double f_age = 0.0;
	if (in->params.max_age_s > 0 && in->now > j->submit_time) {
		f_age = ((double)in->now - (double)j->submit_time) / (double)in->params.max_age_s;
		if (f_age > 1.0)
			f_age = 1.0;
	}
	double prio = in->params.w_fairshare * f_fs + in->params.w_age * f_age;
	return prio == prio ? prio : 0.0; /* a NaN weight must not break the sort's order */
}

static int sched_rank_cmp(const void *a, const void *b)
{
	const struct sched_rank *x = a, *y = b;
	if (x->prio != y->prio)
		return x->prio > y->prio ? -1 : 1;
	if (x->submit != y->submit)
		return x->submit < y->submit ? -1 : 1;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Pending jobs, highest priority first; fills every out[i].priority. */
static struct sched_rank *sched_rank_new(const struct sched_state *st, struct sched_decision *out)
{
	const struct sched_input *in = st->in;
	struct sched_rank *r = xcalloc(in->npending ? in->npending : 1, sizeof *r);
	for (size_t i = 0; i < in->npending; i++) {
		const struct sched_job *j = &in->pending[i];
		out[i] = (struct sched_decision){
		    .job_id = j->id, .action = SCHED_WAIT, .node = -1, .est_start = -1};
		out[i].priority = sched_priority(st, j);
		r[i] = (struct sched_rank){out[i].priority, j->submit_time, j->id, i};
	}
	qsort(r, in->npending, sizeof *r, sched_rank_cmp);
	return r;
}

/* NONE, DEPENDENCY (some still waiting) or DEPENDENCY_FAILED (one can
 * never complete). Without a dep_state callback nothing is known, so the
 * job waits rather than being cancelled on a guess. */
static enum sched_reason sched_deps_check(const struct sched_input *in, const struct sched_job *j)
{
	enum sched_reason r = SCHED_REASON_NONE;
	for (size_t k = 0; k < j->nafter; k++) {
		if (!in->dep_state)
			return SCHED_REASON_DEPENDENCY;
		switch (in->dep_state(in->dep_ctx, j->after[k])) {
		case SCHED_DEP_OK:
			break;
		case SCHED_DEP_WAITING:
			r = SCHED_REASON_DEPENDENCY;
			break;
		case SCHED_DEP_UNKNOWN:
		case SCHED_DEP_FAILED:
		default:
			return SCHED_REASON_DEPENDENCY_FAILED;
		}
	}
	return r;
}

/* Only the kinds of resources the job asks for are checked, so a CPU-only
 * job is not held back by a group that is at its GPU limit. */
static bool sched_group_allows(const struct sched_state *st, long g, const struct sched_job *j)
{
	if (g < 0)
		return true;
	const struct sched_group *grp = &st->in->groups[st->groups[g].idx];
	const struct sched_use *u = &st->guse[g];
	if (grp->max_gpus >= 0 && j->gpus > 0 && u->gpus + j->gpus > grp->max_gpus)
		return false;
	if (grp->max_cpus >= 0 && j->cpus > 0 && u->cpus + j->cpus > grp->max_cpus)
		return false;
	if (grp->max_jobs >= 0 && u->jobs + 1 > grp->max_jobs)
		return false;
	return true;
}

static bool sched_array_allows(const struct sched_state *st, long a, const struct sched_job *j)
{
	return a < 0 || j->array_limit <= 0 || st->arun[a] < j->array_limit;
}

static bool sched_fits(int64_t cpus, int64_t mem, uint64_t free_gpus, const struct sched_job *j)
{
	return j->cpus <= cpus && j->mem_mb <= mem && j->gpus <= sched_popcount(free_gpus);
}

/* Could the job run on some node if that node were empty? */
static bool sched_fits_ever(const struct sched_input *in, const struct sched_job *j)
{
	if (j->cpus < 0 || j->mem_mb < 0 || j->gpus < 0 || j->gpus > SCHED_MAX_GPUS)
		return false;
	for (size_t n = 0; n < in->nnodes; n++)
		if (sched_fits(in->nodes[n].cpus, in->nodes[n].mem_mb,
			       sched_mask_all(in->nodes[n].ngpus), j))
			return true;
	return false;
}

/* When the job would end if started now; INT64_MAX for "no wall time". */
static int64_t sched_end_if_now(const struct sched_input *in, const struct sched_job *j)
{
	return j->walltime_s > 0 ? sched_add_sat(in->now, j->walltime_s) : INT64_MAX;
}

/*
 * The first node where the job can start now without delaying the
 * reservation. Returns it and the GPUs to use, or -1 with *why PRIORITY
 * (it fits now, but only on resources the reservation needs) or RESOURCES.
 */
static int sched_place(const struct sched_state *st, const struct sched_job *j, uint64_t *mask,
		       enum sched_reason *why)
{
	const struct sched_resv *r = &st->resv;
	bool outlives = r->active && sched_end_if_now(st->in, j) > r->shadow;
	bool blocked = false;
	for (size_t n = 0; n < st->in->nnodes; n++) {
		const struct sched_nodestate *ns = &st->nodes[n];
		uint64_t free_gpus = ns->all & ~ns->used;
		if (!sched_fits(ns->cpus, ns->mem, free_gpus, j))
			continue;
		if (outlives && (int)n == r->node) {
			free_gpus &= r->gpus;
			if (!sched_fits(r->cpus, r->mem, free_gpus, j)) {
				blocked = true;
				continue;
			}
		}
		*mask = sched_mask_lowest(free_gpus, j->gpus);
		return (int)n;
	}
	*why = blocked ? SCHED_REASON_PRIORITY : SCHED_REASON_RESOURCES;
	return -1;
}

/* Book a start: the node, the group, the array, the reservation's extra,
 * and the release at its wall time for a later shadow-time computation. */
static void sched_start(struct sched_state *st, const struct sched_job *j, long g, long a, int n,
			uint64_t mask)
{
	struct sched_nodestate *ns = &st->nodes[n];
	struct sched_resv *r = &st->resv;
	ns->cpus -= j->cpus;
	ns->mem -= j->mem_mb;
	ns->used |= mask;
	if (g >= 0) {
		st->guse[g].gpus += j->gpus;
		st->guse[g].cpus += j->cpus;
		st->guse[g].jobs++;
	}
	if (a >= 0)
		st->arun[a]++;
	if (r->active && n == r->node && sched_end_if_now(st->in, j) > r->shadow) {
		r->cpus -= j->cpus;
		r->mem -= j->mem_mb;
		r->gpus &= ~mask;
	}
	if (j->walltime_s > 0)
		st->rels[st->nrels++] =
		    (struct sched_rel){sched_end_if_now(st->in, j), n, j->cpus, j->mem_mb, mask};
}

static int sched_rel_cmp(const void *a, const void *b)
{
	const struct sched_rel *x = a, *y = b;
	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return 0; /* same node, same end: released together, order irrelevant */
}

/*
 * Release the node's jobs (sorted by end) until j fits; on success fill
 * *out with the shadow time and what is left over then. The GPUs kept for
 * j are the released ones first, so that the GPUs free now stay "extra".
 */
static bool sched_reserve_node(const struct sched_state *st, const struct sched_job *j,
			       const struct sched_rel *rel, size_t nrel, struct sched_resv *out)
{
	const struct sched_nodestate *ns = &st->nodes[rel[0].node];
	int64_t cpus = ns->cpus, mem = ns->mem;
	uint64_t free_now = ns->all & ~ns->used, free_gpus = free_now;
	for (size_t i = 0; i < nrel;) {
		int64_t t = rel[i].end;
		for (; i < nrel && rel[i].end == t; i++) {
			cpus += rel[i].cpus;
			mem += rel[i].mem;
			free_gpus |= rel[i].mask;
		}
		if (!sched_fits(cpus, mem, free_gpus, j))
			continue;
		uint64_t keep = sched_mask_lowest(free_gpus & ~free_now, j->gpus);
		keep |= sched_mask_lowest(free_now, j->gpus - sched_popcount(keep));
		*out = (struct sched_resv){.active = true,
					   .node = rel[0].node,
					   .shadow = t,
					   .cpus = cpus - j->cpus,
					   .mem = mem - j->mem_mb,
					   .gpus = free_gpus & ~keep};
		return true;
	}
	return false;
}

/* EASY backfill's reservation for the first job blocked on resources: the
 * earliest time, over all nodes, at which enough jobs will have ended. */
static bool sched_reserve(struct sched_state *st, const struct sched_job *j)
{
	struct sched_rel *rel = xcalloc(st->nrels ? st->nrels : 1, sizeof *rel);
	for (size_t i = 0; i < st->nrels; i++)
		rel[i] = st->rels[i];
	qsort(rel, st->nrels, sizeof *rel, sched_rel_cmp);
	struct sched_resv best = {.active = false}, cand;
	for (size_t i = 0, k; i < st->nrels; i = k) {
		for (k = i; k < st->nrels && rel[k].node == rel[i].node; k++)
			;
		if (sched_reserve_node(st, j, rel + i, k - i, &cand) &&
		    (!best.active || cand.shadow < best.shadow))
			best = cand;
	}
	free(rel);
	if (!best.active)
		return false;
	best.tries = st->resv.tries;
	st->resv = best;
	return true;
}

/* One pending job, in priority order: the checks of policy.h in turn. */
static void sched_decide(struct sched_state *st, const struct sched_job *j,
			 struct sched_decision *d)
{
	const struct sched_input *in = st->in;
	if (j->held) {
		d->reason = SCHED_REASON_HELD;
		return;
	}
	d->reason = sched_deps_check(in, j);
	if (d->reason == SCHED_REASON_DEPENDENCY_FAILED)
		d->action = SCHED_CANCEL;
	if (d->reason != SCHED_REASON_NONE)
		return;
	long g = sched_group_of(st, j->user_id);
	long a = j->array_id ? idkey_find(st->arrays, st->narrays, j->array_id) : -1;
	if (!sched_group_allows(st, g, j)) {
		d->reason = SCHED_REASON_GROUP_LIMIT;
		return;
	}
	if (!sched_array_allows(st, a, j)) {
		d->reason = SCHED_REASON_ARRAY_LIMIT;
		return;
	}
	if (!sched_fits_ever(in, j)) {
		d->reason = SCHED_REASON_RESOURCES;
		return;
	}
	uint64_t mask = 0;
	int n = sched_place(st, j, &mask, &d->reason);
	if (n >= 0) {
		sched_start(st, j, g, a, n, mask);
		d->action = SCHED_START;
		d->reason = SCHED_REASON_NONE;
		d->node = n;
		d->gpu_mask = mask;
		d->est_start = in->now;
		return;
	}
	if (d->reason == SCHED_REASON_RESOURCES && !st->resv.active &&
	    st->resv.tries < SCHED_RESERVE_TRIES) {
		st->resv.tries++;
		if (sched_reserve(st, j))
			d->est_start = st->resv.shadow;
	}
}

void sched_plan(const struct sched_input *in, struct sched_decision *out)
{
	struct sched_state st;
	sched_state_init(&st, in);
	struct sched_rank *rank = sched_rank_new(&st, out);
	for (size_t k = 0; k < in->npending; k++)
		sched_decide(&st, &in->pending[rank[k].idx], &out[rank[k].idx]);
	free(rank);
	sched_state_free(&st);
}
