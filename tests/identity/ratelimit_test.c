/* Unit tests of identity/ratelimit.c and identity/accounts name rules. */
#include "../harness.h"
#include "identity/accounts.h"
#include "identity/ratelimit.h"

TEST(ratelimit_locks_after_max_failures_for_the_window)
{
	struct ratelimit *rl = ratelimit_new(8, 3, 60);
	CHECK_INT(ratelimit_wait(rl, "alice", 1000), 0);
	ratelimit_fail(rl, "alice", 1000);
	ratelimit_fail(rl, "alice", 1001);
	CHECK_INT(ratelimit_wait(rl, "alice", 1001), 0);
	ratelimit_fail(rl, "alice", 1002);
	CHECK_INT(ratelimit_wait(rl, "alice", 1002), 60);
	CHECK_INT(ratelimit_wait(rl, "alice", 1050), 12);
	CHECK_INT(ratelimit_wait(rl, "alice", 1062), 0);
	CHECK_INT(ratelimit_wait(rl, "bob", 1002), 0);
	ratelimit_free(rl);
}

TEST(ratelimit_failures_outside_the_window_do_not_add_up)
{
	struct ratelimit *rl = ratelimit_new(8, 3, 60);
	ratelimit_fail(rl, "k", 0);
	ratelimit_fail(rl, "k", 10);
	ratelimit_fail(rl, "k", 100);
	CHECK_INT(ratelimit_wait(rl, "k", 100), 0);
	ratelimit_clear(rl, "k");
	ratelimit_free(rl);
}

TEST(ratelimit_table_stays_bounded)
{
	struct ratelimit *rl = ratelimit_new(4, 1, 60);
	char key[16];
	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof key, "u%d", i);
		ratelimit_fail(rl, key, i);
	}
	/* The newest keys are still locked; the oldest were recycled. */
	CHECK(ratelimit_wait(rl, "u99", 99) > 0);
	CHECK_INT(ratelimit_wait(rl, "u0", 99), 0);
	ratelimit_free(rl);
}

TEST(accounts_names_follow_unix_rules)
{
	CHECK(accounts_name_valid("alice"));
	CHECK(accounts_name_valid("a_b-9"));
	CHECK(!accounts_name_valid(""));
	CHECK(!accounts_name_valid("9lives"));
	CHECK(!accounts_name_valid("Alice"));
	CHECK(!accounts_name_valid("a/b"));
	CHECK(!accounts_name_valid("a.b"));
	CHECK(!accounts_name_valid("abcdefghijabcdefghijabcdefghijabc"));
	CHECK(accounts_name_valid("abcdefghijabcdefghijabcdefghijab"));
	CHECK(accounts_password_problem("short") != NULL);
	CHECK(accounts_password_problem("long enough") == NULL);
}
