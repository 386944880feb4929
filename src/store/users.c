/* store/users — the users and user_groups tables (see users.h). */
#include "store/users.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/xalloc.h"
#include "store/db.h"

#define USER_COLS                                                                                     \
	"id, username, display_name, email, admin, disabled, password_hash, unix_user, uid, gid,"     \
	" home, created_at"

void store_user_set_groups(struct store_user *u, char *const *names, size_t n)
{
	for (size_t i = 0; i < u->ngroups; i++)
		free(u->groups[i]);
	free(u->groups);
	u->groups = n ? xcalloc(n, sizeof *u->groups) : NULL;
	for (size_t i = 0; i < n; i++)
		u->groups[i] = xstrdup(names[i]);
	u->ngroups = n;
}

void store_user_clear(struct store_user *u)
{
	free(u->username);
	free(u->display_name);
	free(u->email);
	free(u->password_hash);
	free(u->unix_user);
	free(u->home);
	store_user_set_groups(u, NULL, 0);
	memset(u, 0, sizeof *u);
}

void store_users_free(struct store_user *us, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_user_clear(&us[i]);
	free(us);
}

static char *store_users_dup_col(struct store_q *q, int col)
{
	const char *s = store_col_text(q, col);
	return s ? xstrdup(s) : NULL;
}

static void store_users_row(struct store_q *q, struct store_user *u)
{
	u->id = store_col_int(q, 0);
	u->username = store_users_dup_col(q, 1);
	u->display_name = store_users_dup_col(q, 2);
	u->email = store_users_dup_col(q, 3);
	u->admin = store_col_int(q, 4) != 0;
	u->disabled = store_col_int(q, 5) != 0;
	u->password_hash = store_users_dup_col(q, 6);
	u->unix_user = store_users_dup_col(q, 7);
	u->uid = store_col_int(q, 8);
	u->gid = store_col_int(q, 9);
	u->home = store_users_dup_col(q, 10);
	u->created_at = store_col_int(q, 11);
}

static int store_users_load_groups(struct store *st, struct store_user *u)
{
	static const char sql[] = "SELECT g.name FROM user_groups ug JOIN groups g ON g.id = ug.group_id"
				  " WHERE ug.user_id = ?1 ORDER BY ug.position";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, u->id);
	int rc;
	while ((rc = store_q_step(q)) == STORE_ROW) {
		u->groups = xrealloc(u->groups, (u->ngroups + 1) * sizeof *u->groups);
		u->groups[u->ngroups++] = xstrdup(store_col_text(q, 0));
	}
	store_q_done(q);
	return rc < 0 ? rc : 0;
}

static int store_users_get_one(struct store *st, struct store_q *q, struct store_user *out)
{
	int rc = store_q_step(q);
	if (rc == STORE_ROW)
		store_users_row(q, out);
	store_q_done(q);
	if (rc != STORE_ROW)
		return rc == STORE_DONE ? -ENOENT : rc;
	rc = store_users_load_groups(st, out);
	if (rc < 0)
		store_user_clear(out);
	return rc;
}

int store_user_get(struct store *st, const char *username, struct store_user *out)
{
	static const char sql[] = "SELECT " USER_COLS " FROM users WHERE username = ?1";
	struct store_q *q = store_q(st, sql);
	store_q_text(q, 1, username);
	return store_users_get_one(st, q, out);
}

int store_user_get_by_id(struct store *st, int64_t id, struct store_user *out)
{
	static const char sql[] = "SELECT " USER_COLS " FROM users WHERE id = ?1";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, id);
	return store_users_get_one(st, q, out);
}

int store_users_list(struct store *st, struct store_user **out, size_t *n)
{
	static const char sql[] = "SELECT " USER_COLS " FROM users ORDER BY username";
	struct store_q *q = store_q(st, sql);
	struct store_user *us = NULL;
	size_t count = 0;
	int rc;
	while ((rc = store_q_step(q)) == STORE_ROW) {
		us = xrealloc(us, (count + 1) * sizeof *us);
		memset(&us[count], 0, sizeof *us);
		store_users_row(q, &us[count++]);
	}
	store_q_done(q);
	for (size_t i = 0; rc >= 0 && i < count; i++)
		rc = store_users_load_groups(st, &us[i]);
	if (rc < 0) {
		store_users_free(us, count);
		return rc;
	}
	*out = us;
	*n = count;
	return 0;
}

int64_t store_users_count(struct store *st)
{
	static const char sql[] = "SELECT count(*) FROM users";
	struct store_q *q = store_q(st, sql);
	int rc = store_q_step(q);
	int64_t n = rc == STORE_ROW ? store_col_int(q, 0) : rc;
	store_q_done(q);
	return n;
}

static int store_users_put_groups(struct store *st, const struct store_user *u)
{
	static const char del[] = "DELETE FROM user_groups WHERE user_id = ?1";
	static const char ins[] = "INSERT INTO user_groups (user_id, group_id, position)"
				  " SELECT ?1, id, ?3 FROM groups WHERE name = ?2";
	struct store_q *q = store_q(st, del);
	store_q_int(q, 1, u->id);
	int rc = store_q_exec(q);
	for (size_t i = 0; rc == 0 && i < u->ngroups; i++) {
		q = store_q(st, ins);
		store_q_int(q, 1, u->id);
		store_q_text(q, 2, u->groups[i]);
		store_q_int(q, 3, (int64_t)i);
		rc = store_q_exec(q);
		if (rc == 0 && store_changes(st) == 0)
			rc = -ENOENT;
	}
	return rc;
}

static void store_users_bind_fields(struct store_q *q, const struct store_user *u)
{
	store_q_text(q, 1, u->username);
	store_q_text(q, 2, u->display_name ? u->display_name : "");
	store_q_text(q, 3, u->email ? u->email : "");
	store_q_int(q, 4, u->admin);
	store_q_int(q, 5, u->disabled);
	store_q_text(q, 6, u->password_hash);
	store_q_text(q, 7, u->unix_user);
	store_q_int(q, 8, u->uid);
	store_q_int(q, 9, u->gid);
	store_q_text(q, 10, u->home);
}

int store_user_insert(struct store *st, struct store_user *u)
{
	static const char sql[] = "INSERT INTO users (username, display_name, email, admin, disabled,"
				  " password_hash, unix_user, uid, gid, home, created_at)"
				  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
	struct store_q *q = store_q(st, sql);
	u->created_at = time(NULL);
	store_users_bind_fields(q, u);
	store_q_int(q, 11, u->created_at);
	int rc = store_q_exec(q);
	if (rc < 0)
		return rc;
	u->id = store_last_id(st);
	return store_users_put_groups(st, u);
}

int store_user_update(struct store *st, const struct store_user *u)
{
	static const char sql[] = "UPDATE users SET username = ?1, display_name = ?2, email = ?3,"
				  " admin = ?4, disabled = ?5, password_hash = ?6, unix_user = ?7,"
				  " uid = ?8, gid = ?9, home = ?10 WHERE id = ?11";
	struct store_q *q = store_q(st, sql);
	store_users_bind_fields(q, u);
	store_q_int(q, 11, u->id);
	int rc = store_q_exec(q);
	if (rc == 0 && store_changes(st) == 0)
		return -ENOENT;
	return rc < 0 ? rc : store_users_put_groups(st, u);
}

int store_user_delete(struct store *st, const char *username)
{
	static const char sql[] = "DELETE FROM users WHERE username = ?1";
	struct store_q *q = store_q(st, sql);
	store_q_text(q, 1, username);
	int rc = store_q_exec(q);
	if (rc == 0 && store_changes(st) == 0)
		return -ENOENT;
	return rc;
}

int store_users_primary(struct store *st, int64_t **user_ids, int64_t **group_ids, size_t *n)
{
	static const char sql[] = "SELECT ug.user_id, ug.group_id FROM user_groups ug"
				  " WHERE ug.position = (SELECT min(position) FROM user_groups x"
				  " WHERE x.user_id = ug.user_id) ORDER BY ug.user_id";
	struct store_q *q = store_q(st, sql);
	size_t count = 0;
	int64_t *us = NULL, *gs = NULL;
	int rc;
	while ((rc = store_q_step(q)) == STORE_ROW) {
		us = xrealloc(us, (count + 1) * sizeof *us);
		gs = xrealloc(gs, (count + 1) * sizeof *gs);
		us[count] = store_col_int(q, 0);
		gs[count] = store_col_int(q, 1);
		count++;
	}
	store_q_done(q);
	if (rc < 0) {
		free(us);
		free(gs);
		return rc;
	}
	*user_ids = us;
	*group_ids = gs;
	*n = count;
	return 0;
}
