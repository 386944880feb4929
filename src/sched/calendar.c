/*
 * sched/calendar — which GPUs a booking gets, and where it would fit
 * instead (the contract is sched/calendar.h; docs/reservations.md tells
 * users what they see).
 *
 * Why it is shaped this way:
 * - A node's GPUs fit in one 64-bit mask, so "free for the whole window"
 *   is the node's matching GPUs minus the OR of every busy interval that
 *   overlaps the window: O(nbusy) per node, no timeline to build.
 * - Suggestions only need to look at the moments where the answer can
 *   change: when something frees (a busy interval's end), and the latest
 *   start that still ends before something begins (a busy interval's
 *   start minus the length), plus the asked start and not_before. Between
 *   two such moments the set of overlapping intervals does not change in a
 *   way that could make a window fit that fits at neither end.
 * - Deterministic: candidates sort on (distance to the asked start, start
 *   time), a total order; nodes are tried in order, GPUs lowest first.
 */
#include "sched/calendar.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include "lib/xalloc.h"

enum { CAL_MAX_GPUS = 64 };

/* strcasestr without relying on a GNU extension's locale behaviour. */
static bool cal_model_matches(const char *model, const char *want)
{
	if (!want)
		return true;
	if (!model)
		return false;
	size_t wl = strlen(want), ml = strlen(model);
	if (wl == 0)
		return true;
	for (size_t i = 0; i + wl <= ml; i++)
		if (strncasecmp(model + i, want, wl) == 0)
			return true;
	return false;
}

/* The node's GPUs that the request may use (its model), as a mask. */
static uint64_t cal_node_candidates(const struct cal_node *n, const char *model)
{
	int ng = n->ngpus < 0 ? 0 : n->ngpus > CAL_MAX_GPUS ? CAL_MAX_GPUS : n->ngpus;
	uint64_t mask = 0;
	for (int g = 0; g < ng; g++) {
		const char *m = n->gpu_models ? n->gpu_models[g] : NULL;
		if (cal_model_matches(m, model))
			mask |= (uint64_t)1 << g;
	}
	return mask;
}

/* The lowest k bits set in mask. */
static uint64_t cal_lowest(uint64_t mask, int k)
{
	uint64_t out = 0;
	for (int g = 0; g < CAL_MAX_GPUS && k > 0; g++) {
		uint64_t bit = (uint64_t)1 << g;
		if (mask & bit) {
			out |= bit;
			k--;
		}
	}
	return out;
}

/* Book [start, end) with the request's node, GPU count and model. */
static int cal_book_window(const struct cal_node *nodes, size_t nnodes, const struct cal_busy *busy,
			   size_t nbusy, const struct cal_request *req, int64_t start, int64_t end,
			   struct cal_fit *out)
{
	if (req->gpus < 1 || req->gpus > CAL_MAX_GPUS || start >= end)
		return -EINVAL;
	if (req->node >= 0 && (size_t)req->node >= nnodes)
		return -EINVAL;
	bool possible = false;
	for (size_t i = 0; i < nnodes; i++) {
		if (req->node >= 0 && (size_t)req->node != i)
			continue;
		uint64_t cand = cal_node_candidates(&nodes[i], req->gpu_model);
		if (__builtin_popcountll(cand) < req->gpus)
			continue;
		possible = true;
		uint64_t taken = 0;
		for (size_t b = 0; b < nbusy; b++)
			if (busy[b].node == (int)i && busy[b].start < end && start < busy[b].end)
				taken |= busy[b].gpu_mask;
		uint64_t free = cand & ~taken;
		if (__builtin_popcountll(free) < req->gpus)
			continue;
		*out = (struct cal_fit){(int)i, cal_lowest(free, req->gpus), start, end};
		return 0;
	}
	return possible ? -EBUSY : -EINVAL;
}

int cal_book(const struct cal_node *nodes, size_t nnodes, const struct cal_busy *busy, size_t nbusy,
	     const struct cal_request *req, struct cal_fit *out)
{
	return cal_book_window(nodes, nnodes, busy, nbusy, req, req->start, req->end, out);
}

/* |a - b| without overflow. */
static uint64_t cal_distance(int64_t a, int64_t b)
{
	return a >= b ? (uint64_t)a - (uint64_t)b : (uint64_t)b - (uint64_t)a;
}

struct cal_candidate {
	int64_t start;
	uint64_t distance;
};

static int cal_candidate_cmp(const void *pa, const void *pb)
{
	const struct cal_candidate *a = pa, *b = pb;
	if (a->distance != b->distance)
		return a->distance < b->distance ? -1 : 1;
	return a->start < b->start ? -1 : a->start > b->start;
}

size_t cal_suggest(const struct cal_node *nodes, size_t nnodes, const struct cal_busy *busy,
		   size_t nbusy, const struct cal_request *req, int64_t not_before, int64_t horizon,
		   struct cal_fit *out, size_t max)
{
	if (max == 0 || req->start >= req->end || not_before > horizon)
		return 0;
	/* The length; a window that would end past INT64_MAX cannot exist. */
	uint64_t len = (uint64_t)req->end - (uint64_t)req->start;
	if (len > (uint64_t)INT64_MAX)
		return 0;
	int64_t d = (int64_t)len;

	struct cal_candidate *c = xmalloc((2 + 2 * nbusy) * sizeof *c);
	size_t nc = 0;
	int64_t asked = req->start;
#define CAL_ADD(t)                                                                                 \
	do {                                                                                       \
		int64_t t_ = (t);                                                                  \
		if (t_ >= not_before && t_ <= horizon && t_ <= INT64_MAX - d)                      \
			c[nc++] = (struct cal_candidate){t_, cal_distance(t_, asked)};             \
	} while (0)
	CAL_ADD(not_before);
	CAL_ADD(asked);
	for (size_t b = 0; b < nbusy; b++) {
		if (busy[b].end != INT64_MAX)
			CAL_ADD(busy[b].end);
		/* The latest window that ends where this interval begins. */
		if (busy[b].start >= INT64_MIN + d)
			CAL_ADD(busy[b].start - d);
	}
#undef CAL_ADD
	qsort(c, nc, sizeof *c, cal_candidate_cmp);

	size_t found = 0;
	for (size_t i = 0; i < nc && found < max; i++) {
		if (i > 0 && c[i].start == c[i - 1].start)
			continue; /* equal starts sort next to each other */
		struct cal_fit fit;
		if (cal_book_window(nodes, nnodes, busy, nbusy, req, c[i].start, c[i].start + d,
				    &fit) == 0)
			out[found++] = fit;
	}
	free(c);
	return found;
}
