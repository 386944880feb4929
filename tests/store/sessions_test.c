/* Unit tests of store/sessions: profiles upsert, sessions joined to their
 * job, the proxy's route lookup. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness.h"
#include "store/db.h"
#include "store/jobs.h"
#include "store/sessions.h"

static struct store *sessions_test_open(void)
{
	char *path = NULL, *cause = NULL;
	struct store *st = NULL;
	CHECK(asprintf(&path, "%s/kaon.db", harness_tmpdir()) > 0);
	if (store_open(path, &st, &cause) < 0)
		harness_fail(__FILE__, __LINE__, "store_open: %s", cause);
	free(path);
	return st;
}

static struct store_profile sessions_test_profile(const char *name, int position)
{
	struct store_profile p = {
		.name = (char *)name, .title = (char *)"T", .kind = (char *)"jupyter",
		.command = (char *)"[\"jupyter-notebook\"]", .cpus = 2, .mem_mb = 4096,
		.lifetime_s = 3600, .max_lifetime_s = 7200, .idle_timeout_s = 600,
		.position = position,
	};
	return p;
}

TEST(store_profiles_upsert_keeps_created_and_orders_by_position)
{
	struct store *st = sessions_test_open();
	struct store_profile a = sessions_test_profile("b-second", 2);
	struct store_profile b = sessions_test_profile("a-later", 5);
	CHECK_INT(store_profile_put(st, &a), 0);
	CHECK_INT(store_profile_put(st, &b), 0);
	int64_t created = a.created_at;
	a.cpus = 8;
	a.source = (char *)"config";
	CHECK_INT(store_profile_put(st, &a), 0);
	CHECK_INT(a.created_at, created);

	struct store_profile got = { 0 };
	CHECK_INT(store_profile_get(st, "b-second", &got), 0);
	CHECK_INT(got.cpus, 8);
	CHECK_STR(got.source, "config");
	CHECK_STR(got.groups, "[]");
	CHECK(got.requires == NULL);
	store_profile_clear(&got);

	struct store_profile *ps;
	size_t n;
	CHECK_INT(store_profiles_list(st, &ps, &n), 0);
	CHECK_INT(n, 2);
	CHECK_STR(ps[0].name, "b-second");
	store_profiles_free(ps, n);

	CHECK_INT(store_profile_delete(st, "a-later"), 0);
	CHECK_INT(store_profile_delete(st, "a-later"), -ENOENT);
	CHECK_INT(store_profile_get(st, "a-later", &got), -ENOENT);
	store_close(st);
}

static int64_t sessions_test_job(struct store *st, int64_t user_id)
{
	struct store_job j = {
		.user_id = user_id, .username = (char *)"u", .group_name = (char *)"students",
		.name = (char *)"nb", .command = (char *)"[\"x\"]", .workdir = (char *)"/",
		.cpus = 1, .mem_mb = 100, .walltime_s = 60, .array_id = -1, .array_index = -1,
		.after = (char *)"[]",
	};
	CHECK_INT(store_job_insert(st, &j), 0);
	return j.id;
}

TEST(store_sessions_route_follows_the_job_and_readiness)
{
	struct store *st = sessions_test_open();
	struct store_session_route r;
	CHECK_INT(store_session_route(st, 1, &r), -ENOENT);

	int64_t id = sessions_test_job(st, 7);
	struct store_session s = {
		.job_id = id, .user_id = 7, .name = (char *)"work", .profile = (char *)"jupyter-cpu",
		.kind = (char *)"jupyter", .socket = (char *)"/run/kaon/s/1.sock",
		.secret = (char *)"abc", .idle_timeout_s = 600, .max_lifetime_s = 7200,
	};
	CHECK_INT(store_session_insert(st, &s), 0);
	CHECK_INT(store_session_route(st, id, &r), 0);
	CHECK_INT(r.user_id, 7);
	CHECK(!r.running && !r.ready);
	CHECK_STR(r.socket, "/run/kaon/s/1.sock");
	CHECK_STR(r.secret, "abc");
	CHECK_INT(r.port, 0);

	CHECK_INT(store_job_start(st, id, 100, "local", NULL, -1), 0);
	CHECK_INT(store_session_set_ready(st, id, 101), 0);
	CHECK_INT(store_session_route(st, id, &r), 0);
	CHECK(r.running && r.ready);

	int64_t found = 0;
	CHECK_INT(store_session_find_live(st, 7, "work", &found), 0);
	CHECK_INT(found, id);
	CHECK_INT(store_session_find_live(st, 8, "work", &found), -ENOENT);

	/* Activity never moves backwards; the first end reason wins. */
	CHECK_INT(store_session_set_activity(st, id, 200), 0);
	CHECK_INT(store_session_set_activity(st, id, 150), 0);
	CHECK_INT(store_session_set_end_reason(st, id, "stopped"), 0);
	CHECK_INT(store_session_set_end_reason(st, id, "expired"), 0);
	CHECK_INT(store_job_end(st, id, "cancelled", NULL, 300, -1, 0, 0, -1), 0);

	struct store_session got = { 0 };
	CHECK_INT(store_session_get(st, id, &got), 0);
	CHECK_INT(got.last_activity, 200);
	CHECK_STR(got.end_reason, "stopped");
	CHECK_STR(got.state, "cancelled");
	CHECK_INT(got.start_time, 100);
	CHECK_INT(got.walltime_s, 60);
	store_session_clear(&got);

	struct store_session *ss;
	size_t n;
	CHECK_INT(store_sessions_list(st, 7, true, &ss, &n), 0);
	CHECK_INT(n, 0);
	store_sessions_free(ss, n);
	CHECK_INT(store_sessions_list(st, -1, false, &ss, &n), 0);
	CHECK_INT(n, 1);
	CHECK_STR(ss[0].name, "work");
	store_sessions_free(ss, n);
	CHECK_INT(store_session_find_live(st, 7, "work", &found), -ENOENT);
	store_close(st);
}

TEST(store_jobs_carry_their_kind)
{
	struct store *st = sessions_test_open();
	int64_t batch = sessions_test_job(st, 7);
	struct store_job j = {
		.user_id = 7, .username = (char *)"u", .group_name = (char *)"students",
		.name = (char *)"nb", .workdir = (char *)"/", .cpus = 1, .mem_mb = 100,
		.walltime_s = 60, .array_id = -1, .array_index = -1, .kind = (char *)"session",
	};
	CHECK_INT(store_job_insert(st, &j), 0);
	struct store_job got = { 0 };
	CHECK_INT(store_job_get(st, batch, &got), 0);
	CHECK_STR(got.kind, "batch");
	store_job_clear(&got);
	CHECK_INT(store_job_get(st, j.id, &got), 0);
	CHECK_STR(got.kind, "session");
	CHECK(got.command == NULL);
	store_job_clear(&got);

	/* The launch is written once the id is known. */
	CHECK_INT(store_job_set_launch(st, j.id, "[\"jupyter\",\"/s/2/\"]", "{\"A\":\"b\"}"), 0);
	CHECK_INT(store_job_get(st, j.id, &got), 0);
	CHECK_STR(got.command, "[\"jupyter\",\"/s/2/\"]");
	CHECK_STR(got.env, "{\"A\":\"b\"}");
	store_job_clear(&got);
	CHECK_INT(store_job_set_launch(st, 999, "[]", NULL), -ENOENT);

	struct store_job *live;
	size_t n;
	CHECK_INT(store_jobs_live(st, &live, &n), 0);
	CHECK_INT(n, 2);
	CHECK_STR(live[0].kind, "batch");
	CHECK_STR(live[1].kind, "session");
	store_jobs_free(live, n);
	CHECK_INT(store_jobs_list(st, -1, NULL, 0, 10, &live, &n), 0);
	CHECK_STR(live[0].kind, "session");
	store_jobs_free(live, n);
	store_close(st);
}

TEST(store_job_walltime_changes_only_while_live)
{
	struct store *st = sessions_test_open();
	int64_t id = sessions_test_job(st, 7);
	CHECK_INT(store_job_set_walltime(st, id, 120), 0);
	CHECK_INT(store_job_start(st, id, 100, "local", NULL, -1), 0);
	CHECK_INT(store_job_set_walltime(st, id, 180), 0);
	struct store_job got = { 0 };
	CHECK_INT(store_job_get(st, id, &got), 0);
	CHECK_INT(got.walltime_s, 180);
	store_job_clear(&got);
	CHECK_INT(store_job_end(st, id, "completed", NULL, 200, 0, 0, 0, -1), 0);
	CHECK_INT(store_job_set_walltime(st, id, 240), -ENOENT);
	store_close(st);
}

TEST(store_job_plan_keeps_position_estimate_and_explanation)
{
	struct store *st = sessions_test_open();
	int64_t a = sessions_test_job(st, 1), b = sessions_test_job(st, 2),
		d = sessions_test_job(st, 4);
	struct store_job_planned pa = {"resources", 10, 5000, 2, "{\"text\":\"waiting\"}"};
	struct store_job_planned pb = {"held", 50, -1, -1, NULL};
	CHECK_INT(store_job_plan(st, a, &pa), 0);
	CHECK_INT(store_job_plan(st, b, &pb), 0);
	CHECK_INT(store_job_plan(st, d, &pa), 0);
	CHECK_INT(store_job_start(st, d, 100, "local", NULL, 7), 0);
	int64_t pos = 0;
	CHECK_INT(store_job_queue_position(st, a, &pos), 0);
	CHECK_INT(pos, 2);
	CHECK_INT(store_job_queue_position(st, b, &pos), 0);
	CHECK_INT(pos, -1);
	CHECK_INT(store_job_queue_position(st, d, &pos), -ENOENT);
	struct store_job j = {0};
	CHECK_INT(store_job_get(st, a, &j), 0);
	CHECK_INT(j.est_start, 5000);
	CHECK_STR(j.explain, "{\"text\":\"waiting\"}");
	store_job_clear(&j);
	/* A start clears the plan and records the reservation. */
	CHECK_INT(store_job_get(st, d, &j), 0);
	CHECK(j.explain == NULL);
	CHECK_INT(j.queue_position, -1);
	CHECK_INT(j.reservation_id, 7);
	store_job_clear(&j);
	store_close(st);
}

TEST(store_sessions_unsettled_and_counted)
{
	struct store *st = sessions_test_open();
	int64_t ids[3];
	for (int i = 0; i < 3; i++) {
		ids[i] = sessions_test_job(st, 7);
		struct store_session s = {
			.job_id = ids[i], .user_id = 7, .name = (char *)"s", .profile = (char *)"p",
			.kind = (char *)"web", .port = 9000 + i, .secret = (char *)"x",
		};
		CHECK_INT(store_session_insert(st, &s), 0);
	}
	int64_t live = 0;
	CHECK_INT(store_sessions_count_live(st, 7, &live), 0);
	CHECK_INT(live, 3);
	CHECK_INT(store_sessions_count_live(st, 8, &live), 0);
	CHECK_INT(live, 0);
	/* Ended without a reason: still the monitor's; ended with one: not. */
	CHECK_INT(store_job_end(st, ids[0], "timeout", NULL, 300, -1, 9, 0, -1), 0);
	CHECK_INT(store_job_end(st, ids[1], "cancelled", NULL, 300, -1, 15, 0, -1), 0);
	CHECK_INT(store_session_set_end_reason(st, ids[1], "stopped"), 0);
	struct store_session *ss;
	size_t n;
	CHECK_INT(store_sessions_unsettled(st, &ss, &n), 0);
	CHECK_INT(n, 2);
	CHECK_INT(ss[0].job_id, ids[0]);
	CHECK_STR(ss[0].state, "timeout");
	CHECK_INT(ss[1].job_id, ids[2]);
	CHECK_INT(ss[1].port, 9002);
	store_sessions_free(ss, n);
	CHECK_INT(store_sessions_count_live(st, 7, &live), 0);
	CHECK_INT(live, 1);
	store_close(st);
}

/* Group commit: writers on several connections commit at once (explicit
 * transactions and single autocommit statements) and every commit is
 * there after reopening. */
enum { GROUP_THREADS = 4, GROUP_COMMITS = 50 };

static void *sessions_test_writer(void *arg)
{
	const char *path = arg;
	struct store *st = NULL;
	char *cause = NULL;
	if (store_open(path, &st, &cause) < 0)
		return (void *)1;
	intptr_t failures = 0;
	for (int i = 0; i < GROUP_COMMITS; i++) {
		struct store_profile p = sessions_test_profile("x", 0);
		char name[64];
		snprintf(name, sizeof name, "p-%lx-%d", (unsigned long)pthread_self(), i);
		p.name = name;
		if (i % 2) {
			failures += store_begin(st) < 0 || store_profile_put(st, &p) < 0 ||
				    store_commit(st) < 0;
		} else {
			failures += store_profile_put(st, &p) < 0;
		}
	}
	store_close(st);
	return (void *)failures;
}

TEST(store_group_commit_keeps_every_concurrent_commit)
{
	char *path = NULL;
	CHECK(asprintf(&path, "%s/kaon.db", harness_tmpdir()) > 0);
	struct store *st = sessions_test_open();
	pthread_t t[GROUP_THREADS];
	for (int i = 0; i < GROUP_THREADS; i++)
		CHECK_INT(pthread_create(&t[i], NULL, sessions_test_writer, path), 0);
	for (int i = 0; i < GROUP_THREADS; i++) {
		void *failures;
		CHECK_INT(pthread_join(t[i], &failures), 0);
		CHECK(failures == NULL);
	}
	store_close(st);
	st = sessions_test_open();
	struct store_profile *ps;
	size_t n;
	CHECK_INT(store_profiles_list(st, &ps, &n), 0);
	CHECK_INT(n, GROUP_THREADS * GROUP_COMMITS);
	store_profiles_free(ps, n);
	store_close(st);
	free(path);
}
