/*
 * sched/fairshare — usage accounting arithmetic: billing, exponential
 * decay with a half-life, and each user's share and fair-share factor.
 * Pure functions; the daemon stores the decayed usage per user.
 *
 *   billing  = cpus * w_cpu + gpus * w_gpu        per second of run time
 *              (defaults w_cpu = 1, w_gpu = 10: a GPU-second costs ten
 *              CPU-seconds, so fair share on a GPU machine is GPU-time based)
 *   decayed usage after dt seconds: u * 2^(-dt / half_life)
 *   usage accrued by a job running from t0 to t1, seen at time now:
 *              billing * integral of 2^(-(now - t)/HL) dt over [t0, t1]
 */
#ifndef KAON_SCHED_FAIRSHARE_H
#define KAON_SCHED_FAIRSHARE_H

#include <stddef.h>
#include <stdint.h>

struct sched_group;
struct sched_user;

struct fairshare_weights {
	double w_cpu;       /* default 1 */
	double w_gpu;       /* default 10 */
	int64_t half_life_s; /* default 7 days; 0: no decay */
};

void fairshare_weights_default(struct fairshare_weights *w);
double fairshare_billing(const struct fairshare_weights *w, int cpus, int gpus);
/* usage decayed over dt seconds */
double fairshare_decay(const struct fairshare_weights *w, double usage, int64_t dt);
/* usage a job with this billing accrues over [t0, t1], decayed to `now` */
double fairshare_accrue(const struct fairshare_weights *w, double billing, int64_t t0, int64_t t1,
			int64_t now);

struct fairshare_row {
	int64_t user_id;
	double share;      /* S: normalised share of the machine, sums to 1 over users */
	double usage_norm; /* U: user's usage / all usage */
	double factor;     /* F_fs = 2^(-U/S), in [0, 1]; 1 when U = 0 */
};
/* One row per user, in the order of users[]. */
void fairshare_compute(const struct sched_user *users, size_t nusers,
		       const struct sched_group *groups, size_t ngroups, struct fairshare_row *out);

#endif
