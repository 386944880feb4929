/* Unit tests of store/reservations: insert/get/update round trip, the
 * window and state filters of the list, live counts, the scheduler's
 * writes (mark used, release, use), notifications, and the groups'
 * booking policy columns. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness.h"
#include "lib/xalloc.h"
#include "store/db.h"
#include "store/groups.h"
#include "store/jobs.h"
#include "store/reservations.h"

static struct store *resv_test_open(void)
{
	char *path = NULL, *cause = NULL;
	struct store *st = NULL;
	CHECK(asprintf(&path, "%s/kaon.db", harness_tmpdir()) > 0);
	if (store_open(path, &st, &cause) < 0)
		harness_fail(__FILE__, __LINE__, "store_open: %s", cause);
	free(path);
	return st;
}

static int64_t resv_test_insert(struct store *st, int64_t user, const char *node, int64_t start,
				int64_t end, const char *state)
{
	struct store_reservation r = {
	    .user_id = user,
	    .username = (char *)"alice",
	    .group_name = (char *)"researchers",
	    .node = (char *)node,
	    .gpus = 2,
	    .gpu_indices = (char *)"0,1",
	    .cpus = 8,
	    .mem_mb = 65536,
	    .start_time = start,
	    .end_time = end,
	    .state = (char *)state,
	    .reviewed_at = -1,
	    .released_at = -1,
	    .first_used_at = -1,
	};
	CHECK_INT(store_reservation_insert(st, &r), 0);
	CHECK(r.id > 0);
	CHECK(r.created_at > 0);
	return r.id;
}

TEST(store_reservation_round_trip_and_update)
{
	struct store *st = resv_test_open();
	struct store_reservation got = {0};
	CHECK_INT(store_reservation_get(st, 1, &got), -ENOENT);
	int64_t id = resv_test_insert(st, 3, "host", 1000, 2000, "pending");
	CHECK_INT(store_reservation_get(st, id, &got), 0);
	CHECK_STR(got.username, "alice");
	CHECK_STR(got.node, "host");
	CHECK_STR(got.gpu_indices, "0,1");
	CHECK(got.gpu_model == NULL);
	CHECK_STR(got.note, "");
	CHECK_STR(got.state, "pending");
	CHECK(got.review_note == NULL && got.reviewed_by == NULL);
	CHECK_INT(got.reviewed_at, -1);
	CHECK_INT(got.released_at, -1);
	CHECK_INT(got.first_used_at, -1);
	CHECK_INT(got.cpus, 8);
	CHECK_INT(got.mem_mb, 65536);
	CHECK_INT(got.start_time, 1000);
	CHECK_INT(got.end_time, 2000);

	free(got.state);
	got.state = xstrdup("approved");
	got.review_note = xstrdup("ok");
	got.reviewed_by = xstrdup("root");
	got.reviewed_at = 1500;
	got.gpu_model = xstrdup("h100");
	CHECK_INT(store_reservation_update(st, &got), 0);
	store_reservation_clear(&got);
	CHECK_INT(store_reservation_get(st, id, &got), 0);
	CHECK_STR(got.state, "approved");
	CHECK_STR(got.review_note, "ok");
	CHECK_STR(got.reviewed_by, "root");
	CHECK_STR(got.gpu_model, "h100");
	CHECK_INT(got.reviewed_at, 1500);
	got.id = 999;
	CHECK_INT(store_reservation_update(st, &got), -ENOENT);
	store_reservation_clear(&got);
	store_close(st);
}

TEST(store_reservations_list_filters_window_states_user_node)
{
	struct store *st = resv_test_open();
	int64_t a = resv_test_insert(st, 1, "n1", 100, 200, "approved");
	int64_t b = resv_test_insert(st, 2, "n2", 50, 150, "pending");
	int64_t c = resv_test_insert(st, 1, "n1", 300, 400, "cancelled");
	struct store_reservation *rs;
	size_t n;
	CHECK_INT(store_reservations_list(st, 0, 1000, NULL, -1, NULL, &rs, &n), 0);
	CHECK_INT(n, 3);
	CHECK_INT(rs[0].id, b); /* by start time */
	CHECK_INT(rs[1].id, a);
	CHECK_INT(rs[2].id, c);
	store_reservations_free(rs, n);
	/* [from, to) overlap: touching at either end does not count. */
	CHECK_INT(store_reservations_list(st, 150, 300, NULL, -1, NULL, &rs, &n), 0);
	CHECK_INT(n, 1);
	CHECK_INT(rs[0].id, a);
	store_reservations_free(rs, n);
	CHECK_INT(store_reservations_list(st, 0, 1000, "pending,approved", -1, NULL, &rs, &n), 0);
	CHECK_INT(n, 2);
	store_reservations_free(rs, n);
	CHECK_INT(store_reservations_list(st, 0, 1000, "approve", -1, NULL, &rs, &n), 0);
	CHECK_INT(n, 0); /* whole words only */
	store_reservations_free(rs, n);
	CHECK_INT(store_reservations_list(st, 0, 1000, NULL, 1, "n1", &rs, &n), 0);
	CHECK_INT(n, 2);
	store_reservations_free(rs, n);
	CHECK_INT(store_reservations_list(st, 0, 1000, NULL, 2, "n1", &rs, &n), 0);
	CHECK_INT(n, 0);
	store_reservations_free(rs, n);

	int64_t count = -1;
	CHECK_INT(store_reservations_count_live(st, 1, "pending,approved", 0, &count), 0);
	CHECK_INT(count, 1);
	CHECK_INT(store_reservations_count_live(st, 1, "pending,approved", 200, &count), 0);
	CHECK_INT(count, 0); /* ended at 200 */
	CHECK_INT(store_reservations_count_live(st, 1, NULL, 0, &count), 0);
	CHECK_INT(count, 2);
	store_close(st);
}

TEST(store_reservation_scheduler_writes_and_use)
{
	struct store *st = resv_test_open();
	int64_t id = resv_test_insert(st, 1, "host", 1000, 2000, "approved");
	CHECK_INT(store_reservation_mark_used(st, id, 1100), 0);
	CHECK_INT(store_reservation_mark_used(st, id, 1200), 0); /* the first one stays */
	CHECK_INT(store_reservation_mark_used(st, 99, 1200), -ENOENT);
	struct store_reservation got = {0};
	CHECK_INT(store_reservation_get(st, id, &got), 0);
	CHECK_INT(got.first_used_at, 1100);
	store_reservation_clear(&got);

	int64_t jobs = -1;
	double gs = -1;
	CHECK_INT(store_reservation_use(st, 99, 1500, &jobs, &gs), -ENOENT);
	CHECK_INT(store_reservation_use(st, id, 1500, &jobs, &gs), 0);
	CHECK_INT(jobs, 0);
	CHECK(gs == 0.0);

	/* Job 1: 2 GPUs from 900 (before the window) to 1300; job 2: 1 GPU
	 * from 1400, still running. */
	for (int i = 0; i < 2; i++) {
		struct store_job j = {
		    .user_id = 1,
		    .username = (char *)"alice",
		    .group_name = (char *)"r",
		    .name = (char *)"x",
		    .command = (char *)"[\"x\"]",
		    .workdir = (char *)"/",
		    .cpus = 1,
		    .mem_mb = 100,
		    .gpus = 2 - i,
		    .walltime_s = 3600,
		    .array_id = -1,
		    .array_index = -1,
		    .after = (char *)"[]",
		};
		CHECK_INT(store_job_insert(st, &j), 0);
		CHECK_INT(store_job_start(st, j.id, i == 0 ? 900 : 1400, "host", "0", id), 0);
	}
	CHECK_INT(store_job_end(st, 1, "completed", NULL, 1300, 0, 0, 0, -1), 0);
	CHECK_INT(store_reservation_use(st, id, 1500, &jobs, &gs), 0);
	CHECK_INT(jobs, 2);
	CHECK(gs == 2.0 * 300 + 1.0 * 100);
	/* Past the window's end nothing more counts. */
	CHECK_INT(store_reservation_use(st, id, 5000, &jobs, &gs), 0);
	CHECK(gs == 2.0 * 300 + 1.0 * 600);

	CHECK_INT(store_reservation_release(st, id, "unused", 1900), 0);
	CHECK_INT(store_reservation_release(st, id, "unused", 1900), -ENOENT);
	CHECK_INT(store_reservation_get(st, id, &got), 0);
	CHECK_STR(got.state, "released");
	CHECK_STR(got.release_reason, "unused");
	CHECK_INT(got.released_at, 1900);
	store_reservation_clear(&got);
	store_close(st);
}

TEST(store_notifications_newest_first_unread_and_read)
{
	struct store *st = resv_test_open();
	CHECK_INT(store_notify(st, 1, "reservation_approved", "one", "/calendar?r=1", 100), 0);
	CHECK_INT(store_notify(st, 1, "reservation_rejected", "two", NULL, 101), 0);
	CHECK_INT(store_notify(st, 1, "reservation_released", "three", NULL, 102), 0);
	CHECK_INT(store_notify(st, 2, "reservation_approved", "other", NULL, 103), 0);
	struct store_notification *ns;
	size_t n;
	int64_t unread = -1;
	CHECK_INT(store_notifications_list(st, 1, 2, &ns, &n, &unread), 0);
	CHECK_INT(n, 2);
	CHECK_INT(unread, 3);
	CHECK_STR(ns[0].text, "three");
	CHECK_STR(ns[1].text, "two");
	CHECK(ns[1].link == NULL);
	CHECK_INT(ns[0].read_at, -1);
	int64_t first = ns[1].id - 1;
	store_notifications_free(ns, n);

	/* Someone else's id is not touched. */
	int64_t ids[] = {first, 4};
	CHECK_INT(store_notifications_read(st, 1, ids, 2, 200), 0);
	CHECK_INT(store_notifications_list(st, 1, 50, &ns, &n, &unread), 0);
	CHECK_INT(n, 3);
	CHECK_INT(unread, 2);
	CHECK_STR(ns[2].link, "/calendar?r=1");
	CHECK_INT(ns[2].read_at, 200);
	store_notifications_free(ns, n);
	CHECK_INT(store_notifications_list(st, 2, 50, &ns, &n, &unread), 0);
	CHECK_INT(unread, 1);
	store_notifications_free(ns, n);
	CHECK_INT(store_notifications_read(st, 1, NULL, 0, 300), 0);
	CHECK_INT(store_notifications_list(st, 1, 50, &ns, &n, &unread), 0);
	CHECK_INT(unread, 0);
	CHECK_INT(ns[2].read_at, 200); /* the first read time stays */
	store_notifications_free(ns, n);
	store_close(st);
}

TEST(store_groups_booking_policy_defaults_and_round_trip)
{
	struct store *st = resv_test_open();
	struct store_group g = {0};
	CHECK_INT(store_group_get(st, "students", &g), 0);
	CHECK_INT(g.resv_max_gpus, 1);
	CHECK_INT(g.resv_max_s, 8 * 3600);
	CHECK_INT(g.resv_max_ahead_s, 14 * 86400);
	CHECK_INT(g.resv_max_active, 1);
	CHECK(g.resv_approval);
	store_group_clear(&g);
	CHECK_INT(store_group_get(st, "researchers", &g), 0);
	CHECK_INT(g.resv_max_gpus, 8);
	CHECK_INT(g.resv_max_active, 4);
	CHECK(!g.resv_approval);
	g.resv_max_gpus = STORE_NO_LIMIT;
	g.resv_max_s = 3600;
	g.resv_approval = true;
	CHECK_INT(store_group_update(st, &g), 0);
	store_group_clear(&g);
	CHECK_INT(store_group_get(st, "researchers", &g), 0);
	CHECK_INT(g.resv_max_gpus, STORE_NO_LIMIT);
	CHECK_INT(g.resv_max_s, 3600);
	CHECK_INT(g.resv_max_ahead_s, 90 * 86400);
	CHECK(g.resv_approval);
	store_group_clear(&g);
	CHECK_INT(store_group_get(st, "guests", &g), 0);
	CHECK_INT(g.resv_max_gpus, 0);
	store_group_clear(&g);
	store_close(st);
}
