/* sched/explain — a pending job's plan in words (see explain.h). */
#include "sched/explain.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void explain_time(int64_t t, int64_t now, char *buf, size_t size)
{
	time_t tt = (time_t)t, tn = (time_t)now;
	struct tm a, b;
	localtime_r(&tt, &a);
	localtime_r(&tn, &b);
	const char *fmt = "%Y-%m-%d %H:%M";
	if (a.tm_year == b.tm_year && a.tm_yday == b.tm_yday)
		fmt = "%H:%M";
	else if (t > now && t - now < 6 * 86400)
		fmt = "%a %H:%M";
	if (strftime(buf, size, fmt, &a) == 0 && size > 0)
		buf[0] = '\0';
}

void explain_duration(int64_t s, char *buf, size_t size)
{
	int64_t d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60;
	if (s < 60)
		snprintf(buf, size, "under a minute");
	else if (d > 0)
		snprintf(buf, size, h ? "%lld d %lld h" : "%lld d", (long long)d, (long long)h);
	else if (h > 0)
		snprintf(buf, size, m ? "%lld h %lld min" : "%lld h", (long long)h, (long long)m);
	else
		snprintf(buf, size, "%lld min", (long long)m);
}

/* Append to a fixed buffer; truncation keeps it a valid string. */
__attribute__((format(printf, 3, 4))) static void explain_cat(char *buf, size_t size,
								 const char *fmt, ...)
{
	size_t len = strlen(buf);
	if (len + 1 >= size)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

static const char *explain_s(int64_t n)
{
	return n == 1 ? "" : "s";
}

static void explain_hint(struct explain_words *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void explain_hint(struct explain_words *w, const char *fmt, ...)
{
	if (w->nhints == EXPLAIN_HINTS)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->hints[w->nhints++], EXPLAIN_HINT_MAX, fmt, ap);
	va_end(ap);
}

/* "2 GPUs (1 free)", "8 CPUs (4 free)", "16384 MiB of memory (8000 free)". */
static void explain_short(const struct sched_why *y, char *buf, size_t size)
{
	const char *sep = "";
	if (y->short_of & SCHED_SHORT_GPUS) {
		explain_cat(buf, size, "%d GPU%s (%d free)", y->need_gpus, explain_s(y->need_gpus),
			    y->free_gpus);
		sep = ", ";
	}
	if (y->short_of & SCHED_SHORT_CPUS) {
		explain_cat(buf, size, "%s%d CPU%s (%lld free)", sep, y->need_cpus,
			    explain_s(y->need_cpus), (long long)(y->free_cpus > 0 ? y->free_cpus : 0));
		sep = ", ";
	}
	if (y->short_of & SCHED_SHORT_MEM)
		explain_cat(buf, size, "%s%lld MiB of memory (%lld free)", sep, (long long)y->need_mem,
			    (long long)(y->free_mem > 0 ? y->free_mem : 0));
}

static void explain_resources(const struct sched_decision *d, const struct sched_job *j,
			      const struct explain_ctx *c, struct explain_words *w)
{
	const struct sched_why *y = &d->why;
	char at[32];
	if (y->node < 0) {
		snprintf(w->text, sizeof w->text,
			 "asks for more CPUs, memory or GPUs than any node has: it cannot start "
			 "until the request is reduced");
		return;
	}
	if (y->short_of) {
		snprintf(w->text, sizeof w->text, "waiting for ");
		explain_short(y, w->text, sizeof w->text);
		if (y->next_job > 0) {
			explain_time(y->next_at, c->now, at, sizeof at);
			if ((y->short_of & SCHED_SHORT_GPUS) && y->next_gpus > 0)
				explain_cat(w->text, sizeof w->text,
					    "; %d frees at %s when job %lld reaches its wall time",
					    y->next_gpus, at, (long long)y->next_job);
			else
				explain_cat(w->text, sizeof w->text,
					    "; job %lld frees some at %s when it reaches its wall time",
					    (long long)y->next_job, at);
		}
	} else {
		snprintf(w->text, sizeof w->text,
			 "waiting until what it needs is free for its whole wall time");
	}
	if (y->resv_id > 0) {
		char from[32], to[32];
		explain_time(y->resv_start, c->now, from, sizeof from);
		explain_time(y->resv_end, c->now, to, sizeof to);
		if (y->resv_user == j->user_id)
			explain_cat(w->text, sizeof w->text,
				    "; GPUs are reserved for you from %s to %s (reservation %lld), "
				    "too short for this job", from, to, (long long)y->resv_id);
		else
			explain_cat(w->text, sizeof w->text,
				    "; GPUs are reserved for %s from %s to %s (reservation %lld)",
				    c->resv_owner ? c->resv_owner : "another user", from, to,
				    (long long)y->resv_id);
	}
}

static void explain_group_limit(const struct sched_decision *d, const struct explain_ctx *c,
				struct explain_words *w)
{
	const struct sched_why *y = &d->why;
	const char *g = c->group ? c->group : "its group";
	long long v = (long long)y->limit_value, u = (long long)y->limit_used;
	switch (y->limit) {
	case SCHED_LIMIT_GPUS:
		snprintf(w->text, sizeof w->text, "group %s is at its %lld-GPU limit (%lld in use)", g, v, u);
		break;
	case SCHED_LIMIT_CPUS:
		snprintf(w->text, sizeof w->text, "group %s is at its %lld-CPU limit (%lld in use)", g, v, u);
		break;
	case SCHED_LIMIT_JOBS:
		snprintf(w->text, sizeof w->text,
			 "group %s is at its limit of %lld running job%s", g, v, explain_s(v));
		break;
	case SCHED_LIMIT_NONE:
	default:
		snprintf(w->text, sizeof w->text, "group %s is at one of its limits", g);
	}
	explain_cat(w->text, sizeof w->text, "; it starts when the group's jobs free enough");
}

static void explain_reservation(const struct sched_decision *d, const struct explain_ctx *c,
				struct explain_words *w)
{
	char at[32];
	long long id = (long long)d->resv_id;
	if (c->resv_state == 0) {
		snprintf(w->text, sizeof w->text, "its reservation %lld awaits an admin's approval", id);
	} else if (d->why.node < 0) {
		snprintf(w->text, sizeof w->text,
			 "does not fit in its reservation %lld (too many CPUs, memory or GPUs, or a "
			 "wall time longer than the reservation)", id);
	} else if (c->resv_start > c->now) {
		explain_time(c->resv_start, c->now, at, sizeof at);
		snprintf(w->text, sizeof w->text, "waiting for its reservation %lld, which begins at %s",
			 id, at);
	} else {
		snprintf(w->text, sizeof w->text,
			 "waiting for room in its reservation %lld, where the owner's other jobs run", id);
	}
}

void explain_words(const struct sched_decision *d, const struct sched_job *j,
		   const struct explain_ctx *c, struct explain_words *out)
{
	memset(out, 0, sizeof *out);
	const struct sched_why *y = &d->why;
	switch (d->reason) {
	case SCHED_REASON_RESOURCES:
		explain_resources(d, j, c, out);
		break;
	case SCHED_REASON_PRIORITY:
		snprintf(out->text, sizeof out->text,
			 "waiting behind higher-priority jobs: what it needs is planned for them first");
		break;
	case SCHED_REASON_GROUP_LIMIT:
		explain_group_limit(d, c, out);
		break;
	case SCHED_REASON_RESERVATION:
		explain_reservation(d, c, out);
		break;
	case SCHED_REASON_DEPENDENCY:
		snprintf(out->text, sizeof out->text, "waiting for the jobs it depends on to complete");
		break;
	case SCHED_REASON_HELD:
		snprintf(out->text, sizeof out->text, "held: release it to let it start");
		break;
	case SCHED_REASON_ARRAY_LIMIT:
		snprintf(out->text, sizeof out->text,
			 "the array's limit of elements running at once is reached");
		break;
	case SCHED_REASON_DEPENDENCY_FAILED:
		snprintf(out->text, sizeof out->text, "a job it depends on did not complete");
		break;
	case SCHED_REASON_RESERVATION_GONE:
		snprintf(out->text, sizeof out->text, "its reservation %lld has ended or was cancelled",
			 (long long)d->resv_id);
		break;
	case SCHED_REASON_NONE:
	default:
		break;
	}
	if (y->fewer_gpus > 0)
		explain_hint(out, "with %d GPU%s instead of %d it would start now", y->fewer_gpus,
			     explain_s(y->fewer_gpus), j->gpus);
	if (y->max_walltime_now > 0) {
		char dur[48];
		explain_duration(y->max_walltime_now, dur, sizeof dur);
		explain_hint(out, "with a wall time of at most %s it would start now", dur);
	}
	if (d->reason == SCHED_REASON_GROUP_LIMIT && y->limit == SCHED_LIMIT_GPUS &&
	    y->limit_value > y->limit_used && j->gpus > y->limit_value - y->limit_used)
		explain_hint(out, "with %lld GPU%s it would fit the group's limit now",
			     (long long)(y->limit_value - y->limit_used),
			     explain_s(y->limit_value - y->limit_used));
}
