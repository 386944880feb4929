/*
 * Unit tests of sched/calendar.c: which GPUs a booking gets, when it
 * collides (-EBUSY) or can never fit (-EINVAL), GPU model matching, and
 * the suggested windows (before and after the asked start, nearest first,
 * deterministic).
 */
#include <errno.h>
#include <stdint.h>

#include "../harness.h"
#include "sched/calendar.h"

enum { H = 3600 };

static const char *const cal_test_models_a[] = {"NVIDIA A100 80GB", "NVIDIA A100 80GB",
						"NVIDIA A100 80GB", "NVIDIA A100 80GB"};
static const char *const cal_test_models_b[] = {"NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3",
						"Tesla T4", "Tesla T4"};

/* Two nodes: "a" with four A100s, "b" with two H100s and two T4s. */
static const struct cal_node cal_test_nodes[] = {
    {"a", 4, cal_test_models_a},
    {"b", 4, cal_test_models_b},
};

static struct cal_request cal_test_req(int gpus, int64_t start, int64_t end)
{
	return (struct cal_request){.gpus = gpus, .start = start, .end = end, .node = -1};
}

TEST(cal_book_takes_the_first_node_and_its_lowest_free_gpus)
{
	struct cal_busy busy[] = {{0, 0x1, 0, 10 * H}, {0, 0x4, 5 * H, 6 * H}};
	struct cal_request req = cal_test_req(2, 2 * H, 4 * H);
	struct cal_fit fit;
	/* GPU 2 is busy only later: the window [2h, 4h) may use it. */
	CHECK_INT(cal_book(cal_test_nodes, 2, busy, 2, &req, &fit), 0);
	CHECK_INT(fit.node, 0);
	CHECK_INT(fit.gpu_mask, 0x6);
	CHECK_INT(fit.start, 2 * H);
	CHECK_INT(fit.end, 4 * H);
	/* Overlapping the later interval: GPU 2 is taken, so 1 and 3. */
	req = cal_test_req(2, 5 * H, 7 * H);
	CHECK_INT(cal_book(cal_test_nodes, 2, busy, 2, &req, &fit), 0);
	CHECK_INT(fit.gpu_mask, 0xa);
}

TEST(cal_book_touching_intervals_do_not_collide)
{
	/* [start, end): a booking may begin exactly when another ends. */
	struct cal_busy busy[] = {{0, 0xf, 0, 2 * H}, {0, 0xf, 4 * H, 6 * H}};
	struct cal_request req = cal_test_req(4, 2 * H, 4 * H);
	req.node = 0;
	struct cal_fit fit;
	CHECK_INT(cal_book(cal_test_nodes, 2, busy, 2, &req, &fit), 0);
	CHECK_INT(fit.gpu_mask, 0xf);
	req.end = 4 * H + 1;
	CHECK_INT(cal_book(cal_test_nodes, 2, busy, 2, &req, &fit), -EBUSY);
}

TEST(cal_book_moves_to_the_next_node_when_the_first_is_taken)
{
	struct cal_busy busy[] = {{0, 0xe, 0, 10 * H}};
	struct cal_request req = cal_test_req(2, H, 2 * H);
	struct cal_fit fit;
	CHECK_INT(cal_book(cal_test_nodes, 2, busy, 1, &req, &fit), 0);
	CHECK_INT(fit.node, 1);
	CHECK_INT(fit.gpu_mask, 0x3);
}

TEST(cal_book_collision_is_ebusy)
{
	struct cal_busy busy[] = {{0, 0x7, 0, 10 * H}, {1, 0x7, 0, INT64_MAX}};
	struct cal_request req = cal_test_req(2, H, 2 * H);
	struct cal_fit fit = {0};
	CHECK_INT(cal_book(cal_test_nodes, 2, busy, 2, &req, &fit), -EBUSY);
	/* Only on the named node. */
	req = cal_test_req(1, H, 2 * H);
	req.node = 1;
	CHECK_INT(cal_book(cal_test_nodes, 2, busy, 2, &req, &fit), 0);
	CHECK_INT(fit.node, 1);
	CHECK_INT(fit.gpu_mask, 0x8);
	/* A running job without a wall time blocks forever. */
	req.start = 1000 * H;
	req.end = 1001 * H;
	req.gpus = 2;
	CHECK_INT(cal_book(cal_test_nodes, 2, busy, 2, &req, &fit), -EBUSY);
}

TEST(cal_book_impossible_requests_are_einval)
{
	struct cal_fit fit;
	struct cal_request req = cal_test_req(5, H, 2 * H); /* more than any node has */
	CHECK_INT(cal_book(cal_test_nodes, 2, NULL, 0, &req, &fit), -EINVAL);
	req = cal_test_req(0, H, 2 * H);
	CHECK_INT(cal_book(cal_test_nodes, 2, NULL, 0, &req, &fit), -EINVAL);
	req = cal_test_req(1, 2 * H, 2 * H); /* empty window */
	CHECK_INT(cal_book(cal_test_nodes, 2, NULL, 0, &req, &fit), -EINVAL);
	req = cal_test_req(1, H, 2 * H);
	req.node = 2; /* no such node */
	CHECK_INT(cal_book(cal_test_nodes, 2, NULL, 0, &req, &fit), -EINVAL);
	req.node = -1;
	req.gpu_model = "v100";
	CHECK_INT(cal_book(cal_test_nodes, 2, NULL, 0, &req, &fit), -EINVAL);
	/* Three H100s exist nowhere, even though node b has four GPUs. */
	req.gpu_model = "H100";
	req.gpus = 3;
	CHECK_INT(cal_book(cal_test_nodes, 2, NULL, 0, &req, &fit), -EINVAL);
	CHECK_INT(cal_book(NULL, 0, NULL, 0, &req, &fit), -EINVAL);
}

TEST(cal_book_model_is_a_case_insensitive_substring)
{
	struct cal_fit fit;
	struct cal_request req = cal_test_req(2, H, 2 * H);
	req.gpu_model = "h100";
	CHECK_INT(cal_book(cal_test_nodes, 2, NULL, 0, &req, &fit), 0);
	CHECK_INT(fit.node, 1);
	CHECK_INT(fit.gpu_mask, 0x3);
	req.gpu_model = "t4";
	CHECK_INT(cal_book(cal_test_nodes, 2, NULL, 0, &req, &fit), 0);
	CHECK_INT(fit.gpu_mask, 0xc);
	/* Unknown models match only "any model". */
	static const struct cal_node unknown[] = {{"u", 2, NULL}};
	CHECK_INT(cal_book(unknown, 1, NULL, 0, &req, &fit), -EINVAL);
	req.gpu_model = NULL;
	CHECK_INT(cal_book(unknown, 1, NULL, 0, &req, &fit), 0);
	CHECK_INT(fit.gpu_mask, 0x3);
	/* The H100s are busy: T4s are never given to an H100 booking. */
	struct cal_busy busy[] = {{1, 0x3, 0, 10 * H}};
	req.gpu_model = "H100";
	req.gpus = 1;
	CHECK_INT(cal_book(cal_test_nodes, 2, busy, 1, &req, &fit), -EBUSY);
}

TEST(cal_suggest_finds_windows_after_the_asked_start)
{
	/* Node a fully busy 0..10h, then GPUs 0-1 busy 12h..14h. */
	struct cal_busy busy[] = {{0, 0xf, 0, 10 * H}, {0, 0x3, 12 * H, 14 * H}};
	struct cal_request req = cal_test_req(3, 2 * H, 4 * H);
	req.node = 0;
	struct cal_fit out[5];
	size_t n = cal_suggest(cal_test_nodes, 2, busy, 2, &req, 2 * H, 100 * H, out, 5);
	CHECK_INT(n, 2);
	/* 10h..12h fits exactly before the next interval (its start minus 2h
	 * is also 10h: one window per start time). */
	CHECK_INT(out[0].start, 10 * H);
	CHECK_INT(out[0].end, 12 * H);
	CHECK_INT(out[0].node, 0);
	CHECK_INT(out[0].gpu_mask, 0x7);
	CHECK_INT(out[1].start, 14 * H);
	CHECK_INT(out[1].gpu_mask, 0x7);
}

TEST(cal_suggest_finds_windows_that_end_where_a_busy_interval_begins)
{
	/* Free until 10h, busy 10h..20h; the user asked for 9h..12h. */
	struct cal_busy busy[] = {{0, 0xf, 10 * H, 20 * H}};
	struct cal_request req = cal_test_req(4, 9 * H, 12 * H);
	req.node = 0;
	struct cal_fit out[3];
	size_t n = cal_suggest(cal_test_nodes, 2, busy, 1, &req, 0, 100 * H, out, 3);
	CHECK_INT(n, 3);
	CHECK_INT(out[0].start, 7 * H); /* ends at 10h, 2h before the asked start */
	CHECK_INT(out[0].end, 10 * H);
	CHECK_INT(out[1].start, 0);	 /* not_before: 9h away */
	CHECK_INT(out[2].start, 20 * H); /* 11h away */
	/* not_before keeps windows out of the past. */
	n = cal_suggest(cal_test_nodes, 2, busy, 1, &req, 8 * H, 100 * H, out, 3);
	CHECK_INT(n, 1);
	CHECK_INT(out[0].start, 20 * H);
}

TEST(cal_suggest_nearest_first_earlier_on_a_tie)
{
	/* Busy 4h..6h on every GPU of both nodes; asked 4h30..5h30. Both 3h
	 * (ending at 4h) and 6h are 1h30 away: the earlier comes first. */
	struct cal_busy busy[] = {{0, 0xf, 4 * H, 6 * H}, {1, 0xf, 4 * H, 6 * H}};
	struct cal_request req = cal_test_req(1, 4 * H + H / 2, 5 * H + H / 2);
	struct cal_fit out[4];
	size_t n = cal_suggest(cal_test_nodes, 2, busy, 2, &req, 0, 100 * H, out, 4);
	CHECK_INT(n, 3);
	CHECK_INT(out[0].start, 3 * H);
	CHECK_INT(out[0].node, 0);
	CHECK_INT(out[0].gpu_mask, 0x1);
	CHECK_INT(out[1].start, 6 * H);
	CHECK_INT(out[2].start, 0);
	/* max bounds the answer; the horizon bounds the start. */
	CHECK_INT(cal_suggest(cal_test_nodes, 2, busy, 2, &req, 0, 100 * H, out, 1), 1);
	CHECK_INT(out[0].start, 3 * H);
	n = cal_suggest(cal_test_nodes, 2, busy, 2, &req, 5 * H, 5 * H, out, 4);
	CHECK_INT(n, 0);
}

TEST(cal_suggest_includes_a_free_asked_start_and_respects_the_model)
{
	struct cal_busy busy[] = {{1, 0x3, 0, 8 * H}};
	struct cal_request req = cal_test_req(2, 2 * H, 3 * H);
	req.gpu_model = "h100";
	struct cal_fit out[3];
	size_t n = cal_suggest(cal_test_nodes, 2, busy, 1, &req, 0, 100 * H, out, 3);
	CHECK_INT(n, 1);
	CHECK_INT(out[0].start, 8 * H);
	CHECK_INT(out[0].node, 1);
	CHECK_INT(out[0].gpu_mask, 0x3);
	/* Without a model the asked window itself is free on node a. */
	req.gpu_model = NULL;
	n = cal_suggest(cal_test_nodes, 2, busy, 1, &req, 0, 100 * H, out, 3);
	CHECK(n >= 1);
	CHECK_INT(out[0].start, 2 * H);
	CHECK_INT(out[0].node, 0);
	/* Nothing can ever hold it: no windows. */
	req.gpus = 9;
	CHECK_INT(cal_suggest(cal_test_nodes, 2, busy, 1, &req, 0, 100 * H, out, 3), 0);
}

TEST(cal_suggest_ignores_endless_intervals_and_is_deterministic)
{
	/* GPU 0-2 of node a held forever by a job without a wall time. */
	struct cal_busy busy[] = {{0, 0x7, 0, INT64_MAX},
				  {0, 0x8, 0, 5 * H},
				  {1, 0xf, 0, 7 * H},
				  {1, 0xf, 9 * H, 11 * H}};
	struct cal_request req = cal_test_req(1, H, 3 * H);
	struct cal_fit a[3], b[3];
	size_t na = cal_suggest(cal_test_nodes, 2, busy, 4, &req, H, 1000 * H, a, 3);
	size_t nb = cal_suggest(cal_test_nodes, 2, busy, 4, &req, H, 1000 * H, b, 3);
	CHECK_INT(na, 3);
	CHECK_INT(nb, na);
	CHECK(memcmp(a, b, sizeof a[0] * na) == 0);
	CHECK_INT(a[0].start, 5 * H); /* GPU 3 of node a frees at 5h */
	CHECK_INT(a[0].node, 0);
	CHECK_INT(a[0].gpu_mask, 0x8);
	CHECK_INT(a[1].start, 7 * H); /* node a's GPU 3 is first in order */
	CHECK_INT(a[1].node, 0);
	CHECK_INT(a[2].start, 11 * H);
}
