/* Unit tests of sched/fairshare.c: billing, decay, accrual, shares and factors. */
#include "../harness.h"
#include "sched/fairshare.h"
#include "sched/policy.h"

/* The unit binary links no libm: a tolerance check without fabs(). */
static int fairshare_test_close(double a, double b, double rel)
{
	double d = a - b, m = b < 0 ? -b : b;
	if (d < 0)
		d = -d;
	return d <= rel * (m > 1e-300 ? m : 1e-300);
}

#define CHECK_NEAR(a, b, rel) CHECK(fairshare_test_close((a), (b), (rel)))

TEST(fairshare_weights_defaults)
{
	struct fairshare_weights w;
	fairshare_weights_default(&w);
	CHECK(w.w_cpu == 1.0);
	CHECK(w.w_gpu == 10.0);
	CHECK_INT(w.half_life_s, 7 * 86400);
}

TEST(fairshare_billing_gpu_second_costs_ten_cpu_seconds)
{
	struct fairshare_weights w;
	fairshare_weights_default(&w);
	CHECK(fairshare_billing(&w, 4, 0) == 4.0);
	CHECK(fairshare_billing(&w, 0, 1) == 10.0);
	CHECK(fairshare_billing(&w, 8, 2) == 28.0);
	w.w_gpu = 100.0;
	CHECK(fairshare_billing(&w, 8, 2) == 208.0);
}

TEST(fairshare_decay_halves_after_a_half_life)
{
	struct fairshare_weights w;
	fairshare_weights_default(&w);
	int64_t hl = w.half_life_s;
	CHECK(fairshare_decay(&w, 1000.0, 0) == 1000.0);
	CHECK(fairshare_decay(&w, 1000.0, hl) == 500.0);
	CHECK(fairshare_decay(&w, 1000.0, 2 * hl) == 250.0);
	CHECK(fairshare_decay(&w, 1000.0, 10 * hl) == 1000.0 / 1024.0);
	CHECK_NEAR(fairshare_decay(&w, 1000.0, hl / 2), 707.10678118654752, 1e-14);
	CHECK_NEAR(fairshare_decay(&w, 1.0, hl / 10), 0.93303299153680741, 1e-14);
	CHECK_NEAR(fairshare_decay(&w, 1.0, 3 * hl / 10), 0.81225239635623547, 1e-14);
	/* Decaying in steps is decaying at once. */
	double u = 1234.5;
	for (int i = 0; i < 7; i++)
		u = fairshare_decay(&w, u, 86400);
	CHECK_NEAR(u, 617.25, 1e-13);
	/* Far in the future usage vanishes without trouble. */
	CHECK(fairshare_decay(&w, 1e9, 5000 * hl) == 0.0);
	CHECK(fairshare_decay(&w, 1e9, 3000 * hl) >= 0.0);
}

TEST(fairshare_decay_half_life_zero_means_no_decay)
{
	struct fairshare_weights w;
	fairshare_weights_default(&w);
	w.half_life_s = 0;
	CHECK(fairshare_decay(&w, 42.0, 365 * 86400) == 42.0);
	CHECK(fairshare_accrue(&w, 10.0, 100, 160, 10000) == 600.0);
	CHECK(fairshare_accrue(&w, 10.0, 160, 100, 10000) == 0.0);
}

/* Right-endpoint Riemann sum with one-second steps over [t0, t1]: the
 * decayed weight grows towards `now`, so this overestimates the integral. */
static double fairshare_test_integrate(const struct fairshare_weights *w, double billing,
				       int64_t t0, int64_t t1, int64_t now)
{
	double sum = 0.0;
	for (int64_t t = t0 + 1; t <= t1; t++)
		sum += fairshare_decay(w, billing, now - t);
	return sum;
}

TEST(fairshare_accrue_matches_numeric_integration)
{
	struct fairshare_weights w;
	fairshare_weights_default(&w);
	w.half_life_s = 3600; /* short, so the curve bends over the interval */
	struct {
		int64_t t0, t1, now;
	} cases[] = {{0, 3600, 3600}, {0, 7200, 10000}, {500, 900, 900}, {0, 20000, 20000}};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		int64_t t0 = cases[c].t0, t1 = cases[c].t1, now = cases[c].now;
		/* Right- and left-endpoint sums bracket the integral; their mean is
		 * the trapezoid rule, within ~1e-9 here. */
		double right = fairshare_test_integrate(&w, 3.0, t0, t1, now);
		double left = fairshare_test_integrate(&w, 3.0, t0 - 1, t1 - 1, now);
		double exact = fairshare_accrue(&w, 3.0, t0, t1, now);
		CHECK(exact > left && exact < right);
		CHECK_NEAR(exact, (left + right) / 2, 1e-7);
	}
	/* One half-life of usage at billing 1, seen at its end: HL / (2 ln 2). */
	CHECK_NEAR(fairshare_accrue(&w, 1.0, 0, 3600, 3600), 3600 / (2 * 0.69314718055994531),
		   1e-13);
}

TEST(fairshare_accrue_adds_up_and_decays_like_usage)
{
	struct fairshare_weights w;
	fairshare_weights_default(&w);
	double b = fairshare_billing(&w, 8, 2);
	double whole = fairshare_accrue(&w, b, 1000, 500000, 900000);
	double parts = fairshare_accrue(&w, b, 1000, 123456, 900000) +
		       fairshare_accrue(&w, b, 123456, 500000, 900000);
	CHECK_NEAR(whole, parts, 1e-12);
	/* Seen later = decayed. */
	double later = fairshare_accrue(&w, b, 1000, 500000, 900000 + 86400);
	CHECK_NEAR(later, fairshare_decay(&w, whole, 86400), 1e-12);
	/* A one-second job against a 7-day half-life costs its billing, no less. */
	CHECK_NEAR(fairshare_accrue(&w, b, 100, 101, 101), b, 1e-6);
	CHECK(fairshare_accrue(&w, b, 100, 101, 101) < b);
	CHECK(fairshare_accrue(&w, b, 5, 5, 10) == 0.0);
}

TEST(fairshare_compute_shares_follow_group_weights)
{
	struct sched_group groups[] = {
	    {.id = 1, .weight = 3, .max_gpus = -1, .max_cpus = -1, .max_jobs = -1},
	    {.id = 2, .weight = 1, .max_gpus = -1, .max_cpus = -1, .max_jobs = -1},
	    {.id = 3, .weight = 50, .max_gpus = -1, .max_cpus = -1, .max_jobs = -1}, /* no users */
	};
	struct sched_user users[] = {
	    {.id = 10, .group_id = 1},
	    {.id = 11, .group_id = 1},
	    {.id = 12, .group_id = 1},
	    {.id = 20, .group_id = 2},
	};
	struct fairshare_row rows[4];
	fairshare_compute(users, 4, groups, 3, rows);
	double sum = 0;
	for (int i = 0; i < 4; i++) {
		CHECK_INT(rows[i].user_id, users[i].id);
		CHECK(rows[i].usage_norm == 0.0);
		CHECK(rows[i].factor == 1.0);
		sum += rows[i].share;
	}
	CHECK_NEAR(rows[0].share, 0.25, 1e-15);
	CHECK_NEAR(rows[2].share, 0.25, 1e-15);
	CHECK_NEAR(rows[3].share, 0.25, 1e-15);
	CHECK_NEAR(sum, 1.0, 1e-15);
}

TEST(fairshare_compute_factor_is_half_on_target)
{
	struct sched_group groups[] = {{.id = 1, .weight = 1}, {.id = 2, .weight = 1}};
	struct sched_user users[] = {
	    {.id = 1, .group_id = 1, .usage = 500},
	    {.id = 2, .group_id = 2, .usage = 1500},
	};
	struct fairshare_row rows[2];
	fairshare_compute(users, 2, groups, 2, rows);
	CHECK_NEAR(rows[0].usage_norm, 0.25, 1e-15);
	CHECK_NEAR(rows[1].usage_norm, 0.75, 1e-15);
	CHECK_NEAR(rows[0].factor, 0.70710678118654752, 1e-14); /* 2^(-0.5): under-served */
	CHECK_NEAR(rows[1].factor, 0.35355339059327376, 1e-14); /* 2^(-1.5): over-served */
	users[1].usage = 500;
	fairshare_compute(users, 2, groups, 2, rows);
	CHECK_NEAR(rows[0].factor, 0.5, 1e-15);
	CHECK_NEAR(rows[1].factor, 0.5, 1e-15);
}

TEST(fairshare_compute_user_without_share_gets_zero)
{
	struct sched_group groups[] = {{.id = 1, .weight = 1}, {.id = 2, .weight = 0}};
	struct sched_user users[] = {
	    {.id = 1, .group_id = 1, .usage = 100},
	    {.id = 2, .group_id = 99, .usage = 0}, /* unknown group */
	    {.id = 3, .group_id = 2, .usage = 0},  /* group with weight 0 */
	};
	struct fairshare_row rows[3];
	fairshare_compute(users, 3, groups, 2, rows);
	CHECK(rows[0].share == 1.0);
	CHECK(rows[0].usage_norm == 1.0);
	CHECK(rows[0].factor == 0.5);
	CHECK(rows[1].share == 0.0);
	CHECK(rows[1].factor == 0.0);
	CHECK(rows[2].share == 0.0);
	CHECK(rows[2].factor == 0.0);
	fairshare_compute(users, 0, groups, 0, rows); /* empty input is fine */
}
