/* Unit tests of the store: migrations, users, groups, credentials. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <time.h>
#include <unistd.h>

#include "../harness.h"
#include "config/config.h"
#include "identity/accounts.h"
#include "identity/secret.h"
#include "identity/unixacct.h"
#include "store/credentials.h"
#include "store/db.h"
#include "store/groups.h"
#include "store/users.h"

/* The accounts tests run in single-account mode: as root, become nobody
 * (the test runs in its own forked child) so no Unix account is made. */
static void store_test_single_account(void)
{
	if (geteuid() != 0)
		return;
	const char *dir = harness_tmpdir();
	if (chown(dir, 65534, 65534) < 0 || setgroups(0, NULL) < 0 || setgid(65534) < 0 ||
	    setuid(65534) < 0)
		SKIP("cannot switch to uid 65534 for a single-account test");
}

static struct store *store_test_open(void)
{
	char *path = NULL, *cause = NULL;
	struct store *st = NULL;
	CHECK(asprintf(&path, "%s/kaon.db", harness_tmpdir()) > 0);
	if (store_open(path, &st, &cause) < 0)
		harness_fail(__FILE__, __LINE__, "store_open: %s", cause);
	free(path);
	return st;
}

TEST(store_migrates_and_reopens)
{
	struct store *st = store_test_open();
	store_close(st);
	st = store_test_open(); /* second open: nothing to migrate */
	struct store_group *gs;
	size_t n;
	CHECK_INT(store_groups_list(st, &gs, &n), 0);
	CHECK_INT(n, 3);
	CHECK_STR(gs[0].name, "guests");
	CHECK_INT(gs[0].max_gpus, 0);
	CHECK_STR(gs[1].name, "researchers");
	CHECK(gs[1].builtin);
	CHECK_STR(gs[2].name, "students");
	CHECK_INT(gs[2].max_gpus, 1);
	store_groups_free(gs, n);
	store_close(st);
}

TEST(store_groups_insert_update_delete)
{
	struct store *st = store_test_open();
	struct store_group g = { .name = strdup("lab"), .description = strdup("x"), .max_gpus = 4,
				 .max_cpus = STORE_NO_LIMIT, .max_mem_mb = STORE_NO_LIMIT,
				 .max_walltime_s = 3600, .max_jobs = STORE_NO_LIMIT,
				 .max_sessions = STORE_NO_LIMIT, .fairshare_weight = 2.5,
				 .default_cpus = 1, .default_mem_mb = 512, .default_walltime_s = 60 };
	CHECK_INT(store_group_insert(st, &g), 0);
	CHECK_INT(store_group_insert(st, &g), -EEXIST);
	g.max_gpus = STORE_NO_LIMIT;
	CHECK_INT(store_group_update(st, &g), 0);
	struct store_group got = { 0 };
	CHECK_INT(store_group_get(st, "lab", &got), 0);
	CHECK_INT(got.max_gpus, STORE_NO_LIMIT);
	CHECK_INT(got.max_walltime_s, 3600);
	CHECK(got.fairshare_weight == 2.5);
	store_group_clear(&got);
	CHECK_INT(store_group_delete(st, "lab"), 0);
	CHECK_INT(store_group_delete(st, "lab"), -ENOENT);
	store_group_clear(&g);
	store_close(st);
}

static void store_test_user(struct store_user *u, const char *name)
{
	memset(u, 0, sizeof *u);
	u->username = strdup(name);
	u->unix_user = strdup("nobody");
	u->uid = 65534;
	u->gid = 65534;
	u->home = strdup("/tmp");
	char *groups[] = { "students", "guests" };
	store_user_set_groups(u, groups, 2);
}

TEST(store_users_keep_group_order_and_block_group_delete)
{
	struct store *st = store_test_open();
	struct store_user u;
	store_test_user(&u, "alice");
	CHECK_INT(store_user_insert(st, &u), 0);
	struct store_user got = { 0 };
	CHECK_INT(store_user_get(st, "alice", &got), 0);
	CHECK_INT(got.ngroups, 2);
	CHECK_STR(got.groups[0], "students");
	CHECK_STR(got.groups[1], "guests");
	store_user_clear(&got);
	CHECK_INT(store_group_delete(st, "students"), -EXDEV);
	struct store_user dup;
	store_test_user(&dup, "alice");
	CHECK_INT(store_user_insert(st, &dup), -EEXIST);
	CHECK_INT(store_user_delete(st, "alice"), 0);
	CHECK_INT(store_group_delete(st, "guests"), 0);
	store_user_clear(&u);
	store_user_clear(&dup);
	store_close(st);
}

TEST(store_tokens_expire_and_are_owned)
{
	CHECK_INT(secret_init(), 0);
	struct store *st = store_test_open();
	struct store_user u;
	store_test_user(&u, "bob");
	CHECK_INT(store_user_insert(st, &u), 0);
	char *secret;
	struct store_token t;
	CHECK_INT(accounts_token_issue(st, u.id, "laptop", 3600, &secret, &t), 0);
	CHECK(strncmp(secret, "kaon_", 5) == 0);
	CHECK(strncmp(secret, t.prefix, strlen(t.prefix)) == 0);
	unsigned char hash[SECRET_HASH_LEN];
	secret_hash(secret, strlen(secret), hash);
	struct store_principal p;
	int64_t now = time(NULL);
	CHECK_INT(store_token_lookup(st, hash, now, &p), 0);
	CHECK_STR(p.username, "bob");
	CHECK_INT(p.last_used_at, -1);
	CHECK_INT(store_token_lookup(st, hash, now + 3601, &p), -ENOENT);
	CHECK_INT(store_token_delete(st, u.id + 1, t.id), -ENOENT);
	CHECK_INT(store_credentials_purge(st, now + 3601), 1);
	CHECK_INT(store_token_lookup(st, hash, now, &p), -ENOENT);
	free(secret);
	free(t.name);
	free(t.prefix);
	store_user_clear(&u);
	store_close(st);
}

TEST(store_websessions_carry_csrf_and_go_with_the_user)
{
	struct store *st = store_test_open();
	struct store_user u;
	store_test_user(&u, "carol");
	CHECK_INT(store_user_insert(st, &u), 0);
	unsigned char hash[SECRET_HASH_LEN] = { 1, 2, 3 };
	int64_t now = time(NULL);
	CHECK_INT(store_websession_insert(st, u.id, hash, "csrf-value", now + 60), 0);
	struct store_principal p;
	CHECK_INT(store_websession_lookup(st, hash, now, &p), 0);
	CHECK_STR(p.csrf, "csrf-value");
	CHECK_INT(store_websession_lookup(st, hash, now + 61, &p), -ENOENT);
	CHECK_INT(store_user_delete(st, "carol"), 0);
	CHECK_INT(store_websession_lookup(st, hash, now, &p), -ENOENT);
	store_user_clear(&u);
	store_close(st);
}

TEST(accounts_create_user_is_all_or_nothing)
{
	store_test_single_account();
	CHECK(!unixacct_multiuser());
	CHECK_INT(secret_init(), 0);
	struct store *st = store_test_open();
	struct config cfg;
	config_defaults(&cfg);
	char *cause = NULL;
	CHECK_INT(config_set(&cfg, "server", "data", harness_tmpdir(), &cause), 0);
	CHECK_INT(config_finish(&cfg, &cause), 0);
	const char *bad_groups[] = { "students", "nosuch" };
	struct accounts_new_user in = { .username = "dave", .groups = bad_groups, .ngroups = 2 };
	struct store_user u;
	CHECK_INT(accounts_user_create(st, &cfg, &in, &u, &cause), -ENOENT);
	CHECK(strstr(cause, "nosuch") != NULL);
	free(cause);
	CHECK_INT(store_users_count(st), 0);
	in.ngroups = 1;
	in.password = "correct horse";
	CHECK_INT(accounts_user_create(st, &cfg, &in, &u, &cause), 0);
	CHECK(u.password_hash && strncmp(u.password_hash, "$argon2id$", 10) == 0);
	store_user_clear(&u);
	CHECK_INT(accounts_user_create(st, &cfg, &in, &u, &cause), -EEXIST);
	free(cause);
	in.username = "Bad Name";
	CHECK_INT(accounts_user_create(st, &cfg, &in, &u, &cause), -EINVAL);
	free(cause);
	CHECK_INT(store_users_count(st), 1);
	config_clear(&cfg);
	store_close(st);
}

TEST(accounts_bootstrap_only_once)
{
	store_test_single_account();
	CHECK(!unixacct_multiuser());
	CHECK_INT(secret_init(), 0);
	struct store *st = store_test_open();
	struct config cfg;
	config_defaults(&cfg);
	char *cause = NULL;
	CHECK_INT(config_set(&cfg, "server", "data", harness_tmpdir(), &cause), 0);
	CHECK_INT(config_finish(&cfg, &cause), 0);
	CHECK_INT(accounts_bootstrap(st, &cfg, &cause), 1);
	CHECK_INT(accounts_bootstrap(st, &cfg, &cause), 0);
	struct store_user u = { 0 };
	CHECK_INT(store_user_get(st, "admin", &u), 0);
	CHECK(u.admin);
	store_user_clear(&u);
	config_clear(&cfg);
	store_close(st);
}
