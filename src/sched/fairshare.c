/*
 * sched/fairshare — the arithmetic of fair share: what a job costs per
 * second (billing), how old usage fades (a half-life, as Slurm's
 * PriorityDecayHalfLife and HTCondor's PRIORITY_HALFLIFE), and each user's
 * share S, normalised usage U and factor 2^(-U/S) (Slurm's classic fair
 * share with damping 1). See sched/fairshare.h and docs/scheduling.md.
 *
 * The binary is not linked with libm (the Makefile links only the
 * pkg-config libraries), so 2^x is computed here: range reduction to
 * x = n + f with |f| <= 1/2, a Taylor series of e^(f ln 2) that is exact to
 * the last bit or two of a double, and the exponent n put in by hand. The
 * same series gives 2^x - 1 without cancellation for small x, which keeps
 * the usage of a short job accurate against a half-life of days.
 */
#include "sched/fairshare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/idkey.h"
#include "lib/xalloc.h"
#include "sched/policy.h"

static const double fairshare_ln2 = 0.693147180559945309417232121458176568;

/* e^y - 1 for |y| <= ln2/2: Horner form of y(1 + y/2(1 + y/3(1 + ...))).
 * 18 terms leave a truncation error under 0.35^19/19! < 1e-25. */
static double fairshare_expm1_small(double y)
{
	double t = 1.0;
	for (int k = 18; k >= 2; k--)
		t = 1.0 + y * t / k;
	return y * t;
}

/* p * 2^n for any int n, done in steps that stay inside the normal range. */
static double fairshare_scale(double p, int n)
{
	while (n > 1000) {
		p *= 0x1p1000;
		n -= 1000;
	}
	while (n < -1000) {
		p *= 0x1p-1000;
		n += 1000;
	}
	uint64_t bits = (uint64_t)(n + 1023) << 52;
	double two_n;
	memcpy(&two_n, &bits, sizeof two_n);
	return p * two_n;
}

static double fairshare_exp2(double x)
{
	if (x != x)
		return x;
	if (x > 1100.0)
		return HUGE_VAL;
	if (x < -1100.0)
		return 0.0;
	int n = (int)(x >= 0 ? x + 0.5 : x - 0.5);
	double f = x - n;
	return fairshare_scale(1.0 + fairshare_expm1_small(f * fairshare_ln2), n);
}

/* 2^x - 1, accurate also when x is tiny. */
static double fairshare_exp2m1(double x)
{
	if (x > -0.5 && x < 0.5)
		return fairshare_expm1_small(x * fairshare_ln2);
	return fairshare_exp2(x) - 1.0;
}

void fairshare_weights_default(struct fairshare_weights *w)
{
	w->w_cpu = 1.0;
	w->w_gpu = 10.0;
	w->half_life_s = 7 * 86400;
}

double fairshare_billing(const struct fairshare_weights *w, int cpus, int gpus)
{
	return cpus * w->w_cpu + gpus * w->w_gpu;
}

double fairshare_decay(const struct fairshare_weights *w, double usage, int64_t dt)
{
	if (w->half_life_s <= 0)
		return usage;
	return usage * fairshare_exp2(-(double)dt / (double)w->half_life_s);
}

/*
 * billing * integral over [t0, t1] of 2^(-(now - t)/HL) dt
 *   = billing * HL/ln2 * 2^(-(now - t1)/HL) * (1 - 2^(-(t1 - t0)/HL))
 * The second form avoids subtracting two nearly equal numbers.
 */
double fairshare_accrue(const struct fairshare_weights *w, double billing, int64_t t0, int64_t t1,
			int64_t now)
{
	if (t1 <= t0)
		return 0.0;
	double len = (double)t1 - (double)t0;
	if (w->half_life_s <= 0)
		return billing * len;
	double hl = (double)w->half_life_s;
	double tail = fairshare_exp2(-((double)now - (double)t1) / hl);
	return billing * hl / fairshare_ln2 * tail * -fairshare_exp2m1(-len / hl);
}

static double fairshare_factor(double share, double usage_norm)
{
	if (!(share > 0.0))
		return 0.0; /* no share: no claim on the machine (Slurm does the same) */
	if (usage_norm <= 0.0)
		return 1.0;
	return fairshare_exp2(-usage_norm / share);
}

void fairshare_compute(const struct sched_user *users, size_t nusers,
		       const struct sched_group *groups, size_t ngroups, struct fairshare_row *out)
{
	struct idkey *keys = xcalloc(ngroups ? ngroups : 1, sizeof *keys);
	size_t *members = xcalloc(ngroups ? ngroups : 1, sizeof *members);
	long *pos = xcalloc(nusers ? nusers : 1, sizeof *pos);
	for (size_t i = 0; i < ngroups; i++)
		keys[i] = (struct idkey){groups[i].id, i};
	qsort(keys, ngroups, sizeof *keys, idkey_cmp);

	double total_usage = 0.0, total_weight = 0.0;
	for (size_t i = 0; i < nusers; i++) {
		pos[i] = idkey_find(keys, ngroups, users[i].group_id);
		if (pos[i] >= 0 && members[pos[i]]++ == 0 && groups[keys[pos[i]].idx].weight > 0)
			total_weight += groups[keys[pos[i]].idx].weight;
		if (users[i].usage > 0)
			total_usage += users[i].usage;
	}
	for (size_t i = 0; i < nusers; i++) {
		double share = 0.0, usage = users[i].usage > 0 ? users[i].usage : 0.0;
		if (pos[i] >= 0 && total_weight > 0) {
			double wgt = groups[keys[pos[i]].idx].weight;
			share = wgt > 0 ? wgt / total_weight / (double)members[pos[i]] : 0.0;
		}
		out[i].user_id = users[i].id;
		out[i].share = share;
		out[i].usage_norm = total_usage > 0 ? usage / total_usage : 0.0;
		out[i].factor = fairshare_factor(share, out[i].usage_norm);
	}
	free(pos);
	free(members);
	free(keys);
}
