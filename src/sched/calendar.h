/*
 * sched/calendar — booking GPUs for a time window: which exact GPUs of
 * which node a reservation gets, and, when the window is taken, the
 * nearest windows of the same length that would fit.
 *
 * Pure, like sched/policy: no I/O, no clock, no globals; the same input
 * gives the same output (nodes in order, GPUs lowest index first).
 *
 * What is busy is given as intervals of GPU masks: other reservations
 * (pending and approved ones) and running jobs (their GPUs until the end
 * of their wall time; a job without one, forever). Queued jobs never
 * block a booking: a reservation comes before the queue.
 */
#ifndef KAON_SCHED_CALENDAR_H
#define KAON_SCHED_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

struct cal_node {
	const char *name;
	int ngpus;                      /* GPUs 0..ngpus-1, at most 64 */
	const char *const *gpu_models;  /* ngpus model names; NULL: unknown */
};

struct cal_busy {
	int node;
	uint64_t gpu_mask;
	int64_t start, end; /* [start, end); end INT64_MAX: until further notice */
};

struct cal_request {
	int gpus;              /* >= 1 */
	int64_t start, end;    /* start < end */
	int node;              /* index into nodes, -1: any */
	const char *gpu_model; /* every GPU must have this model (case-insensitive
				* substring, "h100" matches "NVIDIA H100 80GB"), NULL: any */
};

struct cal_fit {
	int node;
	uint64_t gpu_mask;
	int64_t start, end;
};

/*
 * Book the request: 0 and *out (the first node, in order, with enough
 * GPUs free for the whole window; its lowest free GPUs); -EBUSY when
 * every node that could hold it is taken then; -EINVAL when no node could
 * ever hold it (too many GPUs, no such node, no GPU of that model).
 */
int cal_book(const struct cal_node *nodes, size_t nnodes, const struct cal_busy *busy,
	     size_t nbusy, const struct cal_request *req, struct cal_fit *out);

/*
 * Up to max free windows as long as the request's, on any node that
 * matches it, nearest to the asked start first (by |start - asked|;
 * earlier one first on a tie): starting neither before not_before nor
 * after horizon. Windows start at not_before, at the asked start, or at
 * the end of a busy interval (the moments something frees), and at most
 * one window per start time. Returns how many.
 */
size_t cal_suggest(const struct cal_node *nodes, size_t nnodes, const struct cal_busy *busy,
		   size_t nbusy, const struct cal_request *req, int64_t not_before,
		   int64_t horizon, struct cal_fit *out, size_t max);

#endif
