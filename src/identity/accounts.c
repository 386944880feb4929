/* identity/accounts — user creation, tokens, first start (see accounts.h). */
#include "identity/accounts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "identity/password.h"
#include "identity/secret.h"
#include "identity/unixacct.h"
#include "lib/fsio.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/credentials.h"
#include "store/db.h"
#include "store/groups.h"
#include "store/users.h"

bool accounts_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > STORE_NAME_MAX || s[0] < 'a' || s[0] > 'z')
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

const char *accounts_password_problem(const char *password)
{
	size_t n = strlen(password);
	if (n < PASSWORD_MIN_LEN)
		return "password must be at least 8 characters";
	if (n > PASSWORD_MAX_LEN)
		return "password must be at most 1024 characters";
	return NULL;
}

static int accounts_check_input(struct store *st, const struct accounts_new_user *in,
				const char *const *groups, size_t ngroups, char **cause)
{
	if (!accounts_name_valid(in->username)) {
		*cause = xstrdup("username must match [a-z][a-z0-9_-]{0,31}");
		return -EINVAL;
	}
	if (in->unix_user && !accounts_name_valid(in->unix_user)) {
		*cause = xstrdup("unix_user must match [a-z][a-z0-9_-]{0,31}");
		return -EINVAL;
	}
	const char *problem = in->password ? accounts_password_problem(in->password) : NULL;
	if (problem) {
		*cause = xstrdup(problem);
		return -EINVAL;
	}
	for (size_t i = 0; i < ngroups; i++) {
		struct store_group g = { 0 };
		int rc = store_group_get(st, groups[i], &g);
		store_group_clear(&g);
		if (rc == -ENOENT) {
			*cause = xasprintf("group '%s' does not exist", groups[i]);
			return -ENOENT;
		}
		if (rc < 0) {
			*cause = xstrdup("store error while checking groups");
			return rc;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(groups[i], groups[j]) == 0) {
				*cause = xasprintf("group '%s' is listed twice", groups[i]);
				return -EINVAL;
			}
	}
	return 0;
}

int accounts_user_create(struct store *st, const struct config *cfg,
			 const struct accounts_new_user *in, struct store_user *out, char **cause)
{
	const char *const default_groups[] = { cfg->default_group };
	const char *const *groups = in->ngroups ? in->groups : default_groups;
	size_t ngroups = in->ngroups ? in->ngroups : 1;
	struct unixacct acct = { 0 };
	char *hash = NULL;

	int rc = accounts_check_input(st, in, groups, ngroups, cause);
	if (rc < 0)
		return rc;
	/* Hash before taking the write lock: it is the slow part. */
	if (in->password && (rc = password_hash(in->password, &hash)) < 0) {
		*cause = xstrdup(rc == -EBUSY ? "too many password operations at once; try again"
					      : "password hashing failed");
		return rc;
	}
	if ((rc = store_begin(st)) < 0) {
		*cause = xstrdup("store is busy; try again");
		goto fail;
	}
	struct store_user probe = { 0 };
	rc = store_user_get(st, in->username, &probe);
	store_user_clear(&probe);
	if (rc == 0) {
		*cause = xasprintf("user '%s' already exists", in->username);
		rc = -EEXIST;
		goto fail_tx;
	}
	/* The Unix account is made inside the transaction so that a failure
	 * on either side undoes the other. */
	const char *unix_name = in->unix_user ? in->unix_user : in->username;
	if ((rc = unixacct_ensure(unix_name, cfg->home_root, (uid_t)cfg->unix_min_uid, &acct, cause)) < 0)
		goto fail_tx;

	memset(out, 0, sizeof *out);
	out->username = xstrdup(in->username);
	out->display_name = xstrdup(in->display_name ? in->display_name : "");
	out->email = xstrdup(in->email ? in->email : "");
	out->admin = in->admin;
	out->password_hash = hash;
	hash = NULL;
	out->unix_user = xstrdup(acct.name);
	out->uid = acct.uid;
	out->gid = acct.gid;
	out->home = xstrdup(acct.home);
	store_user_set_groups(out, (char *const *)groups, ngroups);
	if ((rc = store_user_insert(st, out)) < 0 || (rc = store_commit(st)) < 0) {
		*cause = xasprintf(rc == -EEXIST ? "user '%s' already exists"
						 : "store error while creating user '%s'",
				   in->username);
		store_user_clear(out);
		goto fail_tx;
	}
	unixacct_clear(&acct);
	return 0;

fail_tx:
	store_rollback(st);
	unixacct_undo(&acct);
	unixacct_clear(&acct);
fail:
	free(hash);
	return rc;
}

int accounts_token_issue(struct store *st, int64_t user_id, const char *name, int64_t expires_in_s,
			 char **secret, struct store_token *out)
{
	char raw[SECRET_B64_LEN + 1];
	secret_random(raw);
	char *token = xasprintf("kaon_%s", raw);
	unsigned char hash[SECRET_HASH_LEN];
	secret_hash(token, strlen(token), hash);
	char prefix[ACCOUNTS_TOKEN_PREFIX_LEN + 1];
	memcpy(prefix, token, ACCOUNTS_TOKEN_PREFIX_LEN);
	prefix[ACCOUNTS_TOKEN_PREFIX_LEN] = '\0';
	int64_t expires_at = expires_in_s > 0 ? (int64_t)time(NULL) + expires_in_s : -1;
	int rc = store_token_insert(st, user_id, name, hash, prefix, expires_at, out);
	if (rc < 0) {
		free(token);
		return rc;
	}
	*secret = token;
	return 0;
}

int accounts_bootstrap(struct store *st, const struct config *cfg, char **cause)
{
	int64_t n = store_users_count(st);
	if (n < 0) {
		*cause = xstrdup("cannot count users");
		return (int)n;
	}
	if (n > 0)
		return 0;
	char *password = password_generate();
	const char *const groups[] = { "researchers" };
	struct accounts_new_user in = {
		.username = "admin",
		.display_name = "Administrator",
		.admin = true,
		.password = password,
		.groups = groups,
		.ngroups = 1,
	};
	struct store_user u;
	/* Without the built-in group (an admin deleted it), fall back to the
	 * configured default group. */
	struct store_group g = { 0 };
	if (store_group_get(st, "researchers", &g) < 0)
		in.ngroups = 0;
	store_group_clear(&g);
	/* The password file is written first: an admin whose password was
	 * never written down would lock everyone out. */
	char *path = xasprintf("%s/initial-admin-password", cfg->data_dir);
	char *line = xasprintf("%s\n", password);
	int rc = fsio_write_atomic(path, line, strlen(line), 0600);
	free(line);
	if (rc < 0) {
		*cause = xasprintf("cannot write %s: %s", path, strerror(-rc));
		free(path);
		goto out;
	}
	rc = accounts_user_create(st, cfg, &in, &u, cause);
	if (rc < 0) {
		unlink(path);
		free(path);
		goto out;
	}
	store_user_clear(&u);
	log_info("first start: created user 'admin'; its password is in %s", path);
	free(path);
	rc = 1;
out:
	memset(password, 0, strlen(password));
	free(password);
	return rc;
}
