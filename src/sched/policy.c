/*
 * sched/policy — one scheduling pass: priorities, then every pending job in
 * priority order through the checks (held, dependencies, reservation,
 * group limits, array throttle), then the earliest slot on a timeline of
 * free resources. The contract is sched/policy.h; the user-facing
 * description is docs/scheduling.md.
 *
 * Why it is shaped this way:
 * - Pure and deterministic: the daemon and the tests call the same
 *   function, and a bad decision is reproduced from its input alone. Every
 *   sort has a total order (ties end on the input index).
 * - A timeline ("pool") per node, and one per reservation: a sorted list
 *   of segments [t_k, t_k+1) with the CPUs, memory and GPUs free in it.
 *   Running jobs, reservations and the slots booked for pending jobs are
 *   subtracted from it; a reservation's own pool holds what it reserved,
 *   for its owner's jobs. The earliest fit is always at a segment start,
 *   and a failed fit skips every start that would cover the segment that
 *   failed, so a search is close to linear in the segments.
 * - A second copy of the timelines, taken before any pending job is
 *   booked, tells "waits for resources" from "waits behind higher
 *   priority" and measures what is free now for the explanation.
 * - Cost: O(n log n) for the sort; per job O(segments) for its search,
 *   bounded by SCHED_PLAN_DEPTH future bookings like Slurm's
 *   bf_max_job_test; lookups of users, groups, arrays and reservations
 *   through sorted key tables.
 */
#include "sched/policy.h"

#include <stdlib.h>
#include <string.h>

#include "lib/idkey.h"
#include "lib/xalloc.h"
#include "sched/fairshare.h"

enum { SCHED_MIN_WALLTIME_HINT = 60 }; /* shorter wall-time hints are noise */

/* Free resources over [t, next segment's t). */
struct sched_seg {
	int64_t t;
	int64_t cpus, mem; /* negative when the input overcommits */
	uint64_t gpus;
};

struct sched_pool {
	int node;
	long resv;			 /* index into in->resvs; -1: the node's own pool */
	int64_t win_start, win_end; /* jobs must start and end inside */
	struct sched_seg *seg;
	size_t nseg, cap;
};

struct sched_use {
	int64_t gpus, cpus, jobs;
};

/* What a job needs from a pool. */
struct sched_need {
	int64_t cpus, mem;
	int gpus;
	int64_t wall; /* <= 0: runs until it ends by itself */
};

struct sched_state {
	const struct sched_input *in;
	struct sched_pool *pools; /* nnodes node pools, then one per reservation */
	struct sched_pool *base;  /* the same before any pending job was booked */
	size_t npools;
	struct idkey *users, *groups, *arrays, *resvs;
	size_t narrays;
	struct fairshare_row *fs;
	struct sched_use *guse; /* per position in groups[] */
	int64_t *arun;		/* running elements per position in arrays[] */
	size_t booked;		/* future slots booked so far */
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
    [SCHED_REASON_RESERVATION] = "reservation",
    [SCHED_REASON_RESERVATION_GONE] = "reservation_gone",
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
		out[i].why.node = -1;
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


/* ---- timelines ------------------------------------------------------- */

static void sched_pool_init(struct sched_pool *p, int node, long resv, int64_t now,
			    const struct sched_seg *initial)
{
	*p = (struct sched_pool){.node = node, .resv = resv, .win_start = now, .win_end = INT64_MAX};
	p->cap = 8;
	p->seg = xcalloc(p->cap, sizeof *p->seg);
	p->seg[0] = *initial;
	p->seg[0].t = now;
	p->nseg = 1;
}

static void sched_pool_copy(struct sched_pool *dst, const struct sched_pool *src)
{
	*dst = *src;
	dst->cap = src->nseg;
	dst->seg = xcalloc(dst->cap, sizeof *dst->seg);
	memcpy(dst->seg, src->seg, src->nseg * sizeof *src->seg);
}

/* Index of the segment that starts at t, splitting the one that holds it;
 * nseg for t = INT64_MAX ("never": no segment starts there). */
static size_t sched_pool_split(struct sched_pool *p, int64_t t)
{
	if (t == INT64_MAX)
		return p->nseg;
	size_t lo = 0, hi = p->nseg; /* first segment starting after t */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->seg[mid].t <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t k = lo - 1; /* seg[0].t <= t: callers clamp to it */
	if (p->seg[k].t == t)
		return k;
	if (p->nseg == p->cap) {
		p->cap *= 2;
		p->seg = xrealloc(p->seg, p->cap * sizeof *p->seg);
	}
	memmove(&p->seg[k + 2], &p->seg[k + 1], (p->nseg - k - 1) * sizeof *p->seg);
	p->seg[k + 1] = p->seg[k];
	p->seg[k + 1].t = t;
	p->nseg++;
	return k + 1;
}

/* Give (add) or take resources over [t0, t1). */
static void sched_pool_adjust(struct sched_pool *p, int64_t t0, int64_t t1, bool add,
			      int64_t cpus, int64_t mem, uint64_t gpus)
{
	if (t0 < p->seg[0].t)
		t0 = p->seg[0].t;
	if (t1 <= t0)
		return;
	size_t a = sched_pool_split(p, t0);
	size_t b = sched_pool_split(p, t1);
	for (size_t k = a; k < b; k++) {
		struct sched_seg *s = &p->seg[k];
		if (add) {
			s->cpus += cpus;
			s->mem += mem;
			s->gpus |= gpus;
		} else {
			s->cpus -= cpus;
			s->mem -= mem;
			s->gpus &= ~gpus;
		}
	}
}

/* When a job started at t ends; INT64_MAX for "no wall time". */
static int64_t sched_end_at(int64_t t, int64_t wall)
{
	return wall > 0 ? sched_add_sat(t, wall) : INT64_MAX;
}

/*
 * Does the need fit in p from the start of segment i for its whole wall
 * time? On success *mask holds the GPUs free all along. On failure *next
 * is the next segment worth trying: past the one that failed when that
 * segment alone is short, else the one after i.
 */
static bool sched_pool_fits_from(const struct sched_pool *p, size_t i, const struct sched_need *n,
				 uint64_t *mask, size_t *next)
{
	int64_t start = p->seg[i].t, end = sched_end_at(start, n->wall);
	if (start < p->win_start) {
		*next = i + 1;
		return false;
	}
	if (end > p->win_end) {
		*next = p->nseg; /* a later start ends later still */
		return false;
	}
	uint64_t acc = ~(uint64_t)0;
	for (size_t k = i; k < p->nseg && p->seg[k].t < end; k++) {
		const struct sched_seg *s = &p->seg[k];
		if (s->cpus < n->cpus || s->mem < n->mem || sched_popcount(s->gpus) < n->gpus) {
			*next = k + 1;
			return false;
		}
		acc &= s->gpus;
		if (sched_popcount(acc) < n->gpus) {
			*next = i + 1;
			return false;
		}
	}
	*mask = acc;
	return true;
}

/* The first segment (from `from`, trying at most `tries` starts) where
 * the need fits, or p->nseg. */
static size_t sched_pool_earliest(const struct sched_pool *p, const struct sched_need *n,
				  size_t tries, uint64_t *mask)
{
	for (size_t i = 0; i < p->nseg && tries > 0; tries--) {
		size_t next;
		if (sched_pool_fits_from(p, i, n, mask, &next))
			return i;
		i = next;
	}
	return p->nseg;
}

/* The GPUs a slot at segment i takes from those free all along: those
 * of the job's previous plan first; then, for a later start, those that
 * only just came free, so that GPUs free now stay open for backfill;
 * then the lowest. */
static uint64_t sched_pool_pick(const struct sched_pool *p, size_t i, uint64_t free_all, int n,
				uint64_t plan_mask)
{
	uint64_t pick = sched_mask_lowest(free_all & plan_mask, n);
	if (i > 0)
		pick |= sched_mask_lowest(free_all & ~pick & ~p->seg[i - 1].gpus,
					  n - sched_popcount(pick));
	return pick | sched_mask_lowest(free_all & ~pick, n - sched_popcount(pick));
}

/* How long the need could run if it started now (0: it cannot start). */
static int64_t sched_pool_room_now(const struct sched_pool *p, const struct sched_need *n)
{
	if (p->seg[0].t < p->win_start)
		return 0;
	uint64_t acc = ~(uint64_t)0;
	for (size_t k = 0; k < p->nseg; k++) {
		const struct sched_seg *s = &p->seg[k];
		acc &= s->gpus;
		if (s->cpus < n->cpus || s->mem < n->mem || sched_popcount(acc) < n->gpus)
			return s->t - p->seg[0].t;
	}
	return p->win_end == INT64_MAX ? INT64_MAX : p->win_end - p->seg[0].t;
}

/* ---- state ----------------------------------------------------------- */

static const struct sched_reservation *sched_resv_of(const struct sched_state *st,
						     const struct sched_pool *p)
{
	return p->resv >= 0 ? &st->in->resvs[p->resv] : NULL;
}

/* Pool of a reservation id, or NULL. */
static struct sched_pool *sched_resv_pool(const struct sched_state *st, int64_t resv_id)
{
	const struct sched_input *in = st->in;
	long k = resv_id > 0 ? idkey_find(st->resvs, in->nresvs, resv_id) : -1;
	return k < 0 ? NULL : &st->pools[in->nnodes + st->resvs[k].idx];
}

/* What a running job holds: resources on the timelines, group totals,
 * array elements. Inside its reservation until that ends, on the node
 * after; a job outside a reservation also keeps its GPUs from it. */
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
		struct sched_pool *node = &st->pools[j->node];
		uint64_t mask = j->gpu_mask & sched_mask_all(in->nodes[j->node].ngpus);
		/* Overdue (being killed): about to end, but not free yet. */
		int64_t end = j->walltime_s > 0 ? sched_add_sat(j->start_time, j->walltime_s)
						 : INT64_MAX;
		if (end <= in->now)
			end = in->now + 1;
		struct sched_pool *rp = sched_resv_pool(st, j->resv_id);
		if (rp && rp->node == j->node) {
			int64_t rend = sched_resv_of(st, rp)->end;
			sched_pool_adjust(rp, in->now, end < rend ? end : rend, false, j->cpus,
					  j->mem_mb, mask);
			sched_pool_adjust(node, rend, end, false, j->cpus, j->mem_mb, mask);
			continue;
		}
		sched_pool_adjust(node, in->now, end, false, j->cpus, j->mem_mb, mask);
		for (size_t r = 0; r < in->nresvs; r++)
			if (in->resvs[r].node == j->node)
				sched_pool_adjust(&st->pools[in->nnodes + r], in->now, end, false, 0,
						  0, mask);
	}
}

/* Node pools with everything, minus the approved reservations; a pool
 * per reservation with what it holds, for its window. */
static void sched_state_add_pools(struct sched_state *st)
{
	const struct sched_input *in = st->in;
	st->npools = in->nnodes + in->nresvs;
	st->pools = xcalloc(st->npools ? st->npools : 1, sizeof *st->pools);
	for (size_t n = 0; n < in->nnodes; n++) {
		struct sched_seg all = {0, in->nodes[n].cpus, in->nodes[n].mem_mb,
					sched_mask_all(in->nodes[n].ngpus)};
		sched_pool_init(&st->pools[n], (int)n, -1, in->now, &all);
	}
	for (size_t r = 0; r < in->nresvs; r++) {
		const struct sched_reservation *rv = &in->resvs[r];
		struct sched_pool *p = &st->pools[in->nnodes + r];
		struct sched_seg none = {0, 0, 0, 0};
		sched_pool_init(p, rv->node, (long)r, in->now, &none);
		p->win_start = rv->start > in->now ? rv->start : in->now;
		p->win_end = rv->end;
		if (!rv->approved || rv->node < 0 || (size_t)rv->node >= in->nnodes)
			continue;
		uint64_t mask = rv->gpu_mask & sched_mask_all(in->nodes[rv->node].ngpus);
		sched_pool_adjust(p, rv->start, rv->end, true, rv->cpus, rv->mem_mb, mask);
		sched_pool_adjust(&st->pools[rv->node], rv->start, rv->end, false, rv->cpus,
				  rv->mem_mb, mask);
	}
}

static void sched_state_init(struct sched_state *st, const struct sched_input *in)
{
	*st = (struct sched_state){.in = in};
	st->users = sched_keys_new(in->nusers);
	for (size_t i = 0; i < in->nusers; i++)
		st->users[i] = (struct idkey){in->users[i].id, i};
	qsort(st->users, in->nusers, sizeof *st->users, idkey_cmp);
	st->groups = sched_keys_new(in->ngroups);
	for (size_t i = 0; i < in->ngroups; i++)
		st->groups[i] = (struct idkey){in->groups[i].id, i};
	qsort(st->groups, in->ngroups, sizeof *st->groups, idkey_cmp);
	st->resvs = sched_keys_new(in->nresvs);
	for (size_t i = 0; i < in->nresvs; i++)
		st->resvs[i] = (struct idkey){in->resvs[i].id, i};
	qsort(st->resvs, in->nresvs, sizeof *st->resvs, idkey_cmp);
	st->guse = xcalloc(in->ngroups ? in->ngroups : 1, sizeof *st->guse);
	st->arrays = sched_keys_new(in->nrunning + in->npending);
	st->narrays = sched_arrays_index(in, st->arrays);
	st->arun = xcalloc(st->narrays ? st->narrays : 1, sizeof *st->arun);
	st->fs = xcalloc(in->nusers ? in->nusers : 1, sizeof *st->fs);
	fairshare_compute(in->users, in->nusers, in->groups, in->ngroups, st->fs);
	sched_state_add_pools(st);
	sched_state_add_running(st);
	st->base = xcalloc(st->npools ? st->npools : 1, sizeof *st->base);
	for (size_t p = 0; p < st->npools; p++)
		sched_pool_copy(&st->base[p], &st->pools[p]);
}

static void sched_state_free(struct sched_state *st)
{
	for (size_t p = 0; p < st->npools; p++) {
		free(st->pools[p].seg);
		free(st->base[p].seg);
	}
	free(st->pools);
	free(st->base);
	free(st->fs);
	free(st->arun);
	free(st->arrays);
	free(st->guse);
	free(st->resvs);
	free(st->groups);
	free(st->users);
}

/* The group limit a job would break, with its value and use; NONE when
 * it is within all. Only the kinds of resources the job asks for are
 * checked, so a CPU-only job is not held back by a group at its GPU limit. */
static enum sched_limit sched_group_limit(const struct sched_state *st, long g,
					  const struct sched_job *j, struct sched_why *why)
{
	if (g < 0)
		return SCHED_LIMIT_NONE;
	const struct sched_group *grp = &st->in->groups[st->groups[g].idx];
	const struct sched_use *u = &st->guse[g];
	enum sched_limit l = SCHED_LIMIT_NONE;
	if (grp->max_gpus >= 0 && j->gpus > 0 && u->gpus + j->gpus > grp->max_gpus)
		l = SCHED_LIMIT_GPUS, why->limit_value = grp->max_gpus, why->limit_used = u->gpus;
	else if (grp->max_cpus >= 0 && j->cpus > 0 && u->cpus + j->cpus > grp->max_cpus)
		l = SCHED_LIMIT_CPUS, why->limit_value = grp->max_cpus, why->limit_used = u->cpus;
	else if (grp->max_jobs >= 0 && u->jobs + 1 > grp->max_jobs)
		l = SCHED_LIMIT_JOBS, why->limit_value = grp->max_jobs, why->limit_used = u->jobs;
	why->limit = l;
	return l;
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

/* Could the job run inside the reservation if it were all free? */
static bool sched_fits_resv(const struct sched_reservation *r, const struct sched_job *j)
{
	return r->approved && sched_fits(r->cpus, r->mem_mb, r->gpu_mask, j) && j->walltime_s > 0 &&
	       j->walltime_s <= r->end - r->start;
}

/* The pools a job may run in, best first on a tie: its own reservations,
 * then the nodes (or only the reservation it asked for). */
static size_t sched_candidates(const struct sched_state *st, const struct sched_job *j,
			       size_t *out)
{
	const struct sched_input *in = st->in;
	size_t n = 0;
	if (j->resv_req > 0) {
		long k = idkey_find(st->resvs, in->nresvs, j->resv_req);
		if (k >= 0)
			out[n++] = in->nnodes + st->resvs[k].idx;
		return n;
	}
	for (size_t r = 0; r < in->nresvs; r++)
		if (in->resvs[r].user_id == j->user_id && in->resvs[r].approved)
			out[n++] = in->nnodes + r;
	for (size_t p = 0; p < in->nnodes; p++)
		out[n++] = p;
	return n;
}

static struct sched_need sched_need_of(const struct sched_job *j)
{
	return (struct sched_need){j->cpus, j->mem_mb, j->gpus, j->walltime_s};
}

/*
 * Why a job waits on resources, in numbers: on the node where it would
 * start first (or the first it fits at all), what is free now compared to
 * what it needs, which running job frees some of it first, whose
 * reservation holds GPUs it could use, and the what-ifs.
 */
static void sched_explain(const struct sched_state *st, const struct sched_job *j,
			  const size_t *cand, size_t ncand, size_t best, struct sched_why *why)
{
	const struct sched_input *in = st->in;
	const struct sched_pool *bp = &st->base[best];
	const struct sched_seg *now = &bp->seg[0];
	why->node = bp->node;
	why->need_gpus = j->gpus;
	why->need_cpus = j->cpus;
	why->need_mem = j->mem_mb;
	why->free_gpus = sched_popcount(now->gpus);
	why->free_cpus = now->cpus;
	why->free_mem = now->mem;
	if (j->gpus > why->free_gpus)
		why->short_of |= SCHED_SHORT_GPUS;
	if (j->cpus > now->cpus)
		why->short_of |= SCHED_SHORT_CPUS;
	if (j->mem_mb > now->mem)
		why->short_of |= SCHED_SHORT_MEM;
	why->next_at = INT64_MAX;
	/* Only jobs whose end frees something in that pool: inside its
	 * reservation, or (for a node) outside every reservation. */
	int64_t pool_resv = bp->resv >= 0 ? in->resvs[bp->resv].id : 0;
	for (size_t i = 0; i < in->nrunning; i++) {
		const struct sched_job *r = &in->running[i];
		bool inside = r->resv_id > 0 && sched_resv_pool(st, r->resv_id);
		if (r->node != bp->node || r->walltime_s <= 0 ||
		    (pool_resv ? r->resv_id != pool_resv : inside))
			continue;
		bool frees = ((why->short_of & SCHED_SHORT_GPUS) && r->gpu_mask) ||
			     ((why->short_of & SCHED_SHORT_CPUS) && r->cpus > 0) ||
			     ((why->short_of & SCHED_SHORT_MEM) && r->mem_mb > 0);
		int64_t end = sched_add_sat(r->start_time, r->walltime_s);
		if (end < in->now)
			end = in->now;
		if (frees && (end < why->next_at || (end == why->next_at && r->id < why->next_job))) {
			why->next_at = end;
			why->next_job = r->id;
			why->next_gpus = sched_popcount(r->gpu_mask);
		}
	}
	if (why->next_at == INT64_MAX)
		why->next_at = 0;
	/* A reservation on that node, during the job's wall time, over GPUs
	 * that no running job holds: the earliest such. */
	int64_t end = sched_end_at(in->now, j->walltime_s);
	why->resv_start = INT64_MAX;
	for (size_t r = 0; j->gpus > 0 && r < in->nresvs; r++) {
		const struct sched_reservation *rv = &in->resvs[r];
		/* Inside a reservation, that one is no obstacle; on the node,
		 * any reservation is (the owner's own too, when the job does
		 * not fit inside it). */
		if (rv->node != bp->node || !rv->approved || (bp->resv >= 0 && (size_t)bp->resv == r) ||
		    rv->start >= end || rv->end <= in->now)
			continue;
		bool held = false;
		for (size_t i = 0; i < in->nrunning && !held; i++)
			held = in->running[i].node == rv->node &&
			       (in->running[i].gpu_mask & rv->gpu_mask) == rv->gpu_mask;
		if (!held && rv->start < why->resv_start) {
			why->resv_start = rv->start;
			why->resv_end = rv->end;
			why->resv_id = rv->id;
			why->resv_user = rv->user_id;
		}
	}
	if (why->resv_start == INT64_MAX)
		why->resv_start = 0;
	/* What-ifs against the plan as it stands (higher priority first). */
	struct sched_need n = sched_need_of(j);
	for (int g = j->gpus - 1; g >= 1 && !why->fewer_gpus; g--) {
		n.gpus = g;
		uint64_t mask;
		for (size_t c = 0; c < ncand && !why->fewer_gpus; c++)
			if (sched_pool_earliest(&st->pools[cand[c]], &n, 1, &mask) == 0)
				why->fewer_gpus = g;
	}
	n.gpus = j->gpus;
	int64_t room = 0;
	for (size_t c = 0; c < ncand; c++) {
		int64_t r = sched_pool_room_now(&st->pools[cand[c]], &n);
		room = r > room ? r : room;
	}
	if (room >= SCHED_MIN_WALLTIME_HINT && (j->walltime_s <= 0 || room < j->walltime_s))
		why->max_walltime_now = room;
}

/* Book a start or a future slot for the job in pool p at segment i. */
static void sched_book(struct sched_state *st, size_t p, size_t i, const struct sched_job *j,
		       uint64_t mask)
{
	struct sched_pool *pool = &st->pools[p];
	int64_t t = pool->seg[i].t;
	sched_pool_adjust(pool, t, sched_end_at(t, j->walltime_s), false, j->cpus, j->mem_mb, mask);
}

/* Group, array and reservation bookkeeping of a job that starts now. */
static void sched_count_start(struct sched_state *st, const struct sched_job *j, long g, long a)
{
	if (g >= 0) {
		st->guse[g].gpus += j->gpus;
		st->guse[g].cpus += j->cpus;
		st->guse[g].jobs++;
	}
	if (a >= 0)
		st->arun[a]++;
}

/* One pending job, in priority order: the checks of policy.h in turn. */
static void sched_decide(struct sched_state *st, const struct sched_job *j,
			 struct sched_decision *d)
{
	const struct sched_input *in = st->in;
	d->resv_id = j->resv_req > 0 ? j->resv_req : 0;
	if (j->held) {
		d->reason = SCHED_REASON_HELD;
		return;
	}
	d->reason = sched_deps_check(in, j);
	if (d->reason == SCHED_REASON_DEPENDENCY_FAILED)
		d->action = SCHED_CANCEL;
	if (d->reason != SCHED_REASON_NONE)
		return;
	const struct sched_pool *want = j->resv_req > 0 ? sched_resv_pool(st, j->resv_req) : NULL;
	if (j->resv_req > 0 &&
	    (!want || sched_resv_of(st, want)->user_id != j->user_id)) {
		d->action = SCHED_CANCEL;
		d->reason = SCHED_REASON_RESERVATION_GONE;
		return;
	}
	long g = sched_group_of(st, j->user_id);
	long a = j->array_id ? idkey_find(st->arrays, st->narrays, j->array_id) : -1;
	if (sched_group_limit(st, g, j, &d->why) != SCHED_LIMIT_NONE) {
		d->reason = SCHED_REASON_GROUP_LIMIT;
		return;
	}
	if (!sched_array_allows(st, a, j)) {
		d->reason = SCHED_REASON_ARRAY_LIMIT;
		return;
	}
	if (want ? !sched_fits_resv(sched_resv_of(st, want), j) : !sched_fits_ever(in, j)) {
		d->reason = want ? SCHED_REASON_RESERVATION : SCHED_REASON_RESOURCES;
		d->why.node = -1;
		return;
	}
	size_t *cand = xcalloc(st->npools ? st->npools : 1, sizeof *cand);
	size_t ncand = sched_candidates(st, j, cand);
	struct sched_need n = sched_need_of(j);
	/* Past the planning depth only a start now is looked for. */
	size_t tries = st->booked < SCHED_PLAN_DEPTH ? SIZE_MAX : 1;
	size_t best = SIZE_MAX, best_seg = 0;
	int64_t best_t = INT64_MAX;
	uint64_t best_mask = 0;
	for (size_t c = 0; c < ncand; c++) {
		const struct sched_pool *p = &st->pools[cand[c]];
		uint64_t mask;
		size_t i = sched_pool_earliest(p, &n, tries, &mask);
		if (i < p->nseg && p->seg[i].t < best_t) {
			best = cand[c], best_seg = i, best_t = p->seg[i].t, best_mask = mask;
		}
	}
	const struct sched_reservation *rv = best != SIZE_MAX ? sched_resv_of(st, &st->pools[best]) : NULL;
	uint64_t gpus = 0;
	if (best != SIZE_MAX)
		gpus = sched_pool_pick(&st->pools[best], best_seg, best_mask, j->gpus, j->plan_mask);
	if (best_t == in->now) {
		sched_book(st, best, best_seg, j, gpus);
		/* What starts now is what runs, for the jobs after it too. */
		sched_pool_adjust(&st->base[best], in->now, sched_end_at(in->now, j->walltime_s),
				  false, j->cpus, j->mem_mb, gpus);
		sched_count_start(st, j, g, a);
		d->action = SCHED_START;
		d->reason = SCHED_REASON_NONE;
		d->node = st->pools[best].node;
		d->gpu_mask = gpus;
		d->est_start = in->now;
		d->resv_id = rv ? rv->id : 0;
		free(cand);
		return;
	}
	/* Waiting: for its reservation's window, behind higher-priority jobs
	 * (it would fit now but for their booked slots), or for resources.
	 * Explained before its own slot is booked, so the what-ifs see the
	 * plan without it. */
	size_t at = best != SIZE_MAX ? best : cand[0];
	for (size_t c = 0; best == SIZE_MAX && c < ncand; c++)
		if (sched_pool_earliest(&st->base[cand[c]], &n, SIZE_MAX, &(uint64_t){0}) <
		    st->base[cand[c]].nseg) {
			at = cand[c];
			break;
		}
	bool fits_base = false;
	for (size_t c = 0; c < ncand && !fits_base; c++)
		fits_base = sched_pool_earliest(&st->base[cand[c]], &n, 1, &(uint64_t){0}) == 0;
	if ((want && in->now < sched_resv_of(st, want)->start) || (rv && in->now < rv->start))
		d->reason = SCHED_REASON_RESERVATION;
	else
		d->reason = fits_base ? SCHED_REASON_PRIORITY : SCHED_REASON_RESOURCES;
	sched_explain(st, j, cand, ncand, at, &d->why);
	if (best != SIZE_MAX) {
		sched_book(st, best, best_seg, j, gpus);
		st->booked++;
		d->est_start = best_t;
		d->node = st->pools[best].node;
		d->gpu_mask = gpus;
		if (rv)
			d->resv_id = rv->id;
	}
	free(cand);
}

/* Ranks among competitors: GPU jobs among the waiting jobs that ask for
 * GPUs, the others among all waiting jobs, in priority order. */
static void sched_positions(const struct sched_input *in, const struct sched_rank *rank,
			    struct sched_decision *out)
{
	int64_t all = 0, gpu = 0;
	for (size_t k = 0; k < in->npending; k++) {
		struct sched_decision *d = &out[rank[k].idx];
		const struct sched_job *j = &in->pending[rank[k].idx];
		if (d->action != SCHED_WAIT ||
		    (d->reason != SCHED_REASON_RESOURCES && d->reason != SCHED_REASON_PRIORITY &&
		     d->reason != SCHED_REASON_RESERVATION))
			continue;
		d->position = 1 + (j->gpus > 0 ? gpu : all);
		all++;
		if (j->gpus > 0)
			gpu++;
	}
}

void sched_plan(const struct sched_input *in, struct sched_decision *out)
{
	struct sched_state st;
	sched_state_init(&st, in);
	struct sched_rank *rank = sched_rank_new(&st, out);
	for (size_t k = 0; k < in->npending; k++)
		sched_decide(&st, &in->pending[rank[k].idx], &out[rank[k].idx]);
	sched_positions(in, rank, out);
	free(rank);
	sched_state_free(&st);
}

bool sched_resv_should_release(int64_t start, int64_t first_used_at, int64_t now,
			       int64_t release_after_s)
{
	return release_after_s > 0 && first_used_at < 0 && now >= start &&
	       now - start >= release_after_s;
}
