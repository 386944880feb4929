/*
 * sched/explain — a pending job's plan in words: why it waits, what frees
 * what it needs and when, and what would let it start now.
 *
 * "waiting for 2 GPUs (1 free); 1 frees at 14:05 when job 812 reaches its
 * wall time" is what users ask the queue (squeue's reason codes leave
 * them to guess). Pure apart from the clock's zone: times are written in
 * the daemon's local time (TZ), as users of one machine read them.
 */
#ifndef KAON_SCHED_EXPLAIN_H
#define KAON_SCHED_EXPLAIN_H

#include <stdint.h>

#include "sched/policy.h"

enum { EXPLAIN_TEXT_MAX = 512, EXPLAIN_HINT_MAX = 200, EXPLAIN_HINTS = 3 };

struct explain_ctx {
	int64_t now;
	const char *group;      /* the job's group name */
	const char *resv_owner; /* user name of why.resv_user, or NULL */
	int64_t resv_start;     /* the job's own reservation (resv_id): window, for RESERVATION */
	int64_t resv_end;
	int resv_state;         /* 1 approved, 0 awaiting approval, -1 unknown */
};

struct explain_words {
	char text[EXPLAIN_TEXT_MAX];
	char hints[EXPLAIN_HINTS][EXPLAIN_HINT_MAX];
	int nhints;
};

/* Words for a WAIT decision of job j (any reason). */
void explain_words(const struct sched_decision *d, const struct sched_job *j,
		   const struct explain_ctx *c, struct explain_words *out);

/* "14:05" today, "Fri 14:05" within a week, else "2026-12-10 14:05". */
void explain_time(int64_t t, int64_t now, char *buf, size_t size);
/* "45 min", "2 h", "2 h 30 min", "3 d 4 h"; "under a minute" below 60 s. */
void explain_duration(int64_t s, char *buf, size_t size);

#endif
