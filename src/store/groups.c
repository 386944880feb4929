/* store/groups — the groups table (see groups.h). */
#include "store/groups.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/xalloc.h"
#include "store/db.h"

#define GROUP_COLS                                                                                    \
	"g.id, g.name, g.description, g.max_gpus, g.max_cpus, g.max_mem_mb, g.max_walltime_s,"        \
	" g.max_jobs, g.max_sessions, g.fairshare_weight, g.builtin, g.created_at,"                   \
	" (SELECT count(*) FROM user_groups ug WHERE ug.group_id = g.id),"                           \
	" g.default_cpus, g.default_mem_mb, g.default_walltime_s, g.resv_max_gpus, g.resv_max_s,"   \
	" g.resv_max_ahead_s, g.resv_max_active, g.resv_approval"

void store_group_clear(struct store_group *g)
{
	free(g->name);
	free(g->description);
	memset(g, 0, sizeof *g);
}

void store_groups_free(struct store_group *gs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_group_clear(&gs[i]);
	free(gs);
}

static int64_t store_groups_limit_col(struct store_q *q, int col)
{
	return store_col_null(q, col) ? STORE_NO_LIMIT : store_col_int(q, col);
}

static void store_groups_limit_bind(struct store_q *q, int idx, int64_t v)
{
	if (v < 0)
		store_q_null(q, idx);
	else
		store_q_int(q, idx, v);
}

static void store_groups_row(struct store_q *q, struct store_group *g)
{
	g->id = store_col_int(q, 0);
	g->name = xstrdup(store_col_text(q, 1));
	g->description = xstrdup(store_col_text(q, 2));
	g->max_gpus = store_groups_limit_col(q, 3);
	g->max_cpus = store_groups_limit_col(q, 4);
	g->max_mem_mb = store_groups_limit_col(q, 5);
	g->max_walltime_s = store_groups_limit_col(q, 6);
	g->max_jobs = store_groups_limit_col(q, 7);
	g->max_sessions = store_groups_limit_col(q, 8);
	g->fairshare_weight = store_col_real(q, 9);
	g->builtin = store_col_int(q, 10) != 0;
	g->created_at = store_col_int(q, 11);
	g->members = store_col_int(q, 12);
	g->default_cpus = store_col_int(q, 13);
	g->default_mem_mb = store_col_int(q, 14);
	g->default_walltime_s = store_col_int(q, 15);
	g->resv_max_gpus = store_groups_limit_col(q, 16);
	g->resv_max_s = store_groups_limit_col(q, 17);
	g->resv_max_ahead_s = store_groups_limit_col(q, 18);
	g->resv_max_active = store_groups_limit_col(q, 19);
	g->resv_approval = store_col_int(q, 20) != 0;
}

int store_group_get(struct store *st, const char *name, struct store_group *out)
{
	static const char sql[] = "SELECT " GROUP_COLS " FROM groups g WHERE g.name = ?1";
	struct store_q *q = store_q(st, sql);
	store_q_text(q, 1, name);
	int rc = store_q_step(q);
	if (rc == STORE_ROW)
		store_groups_row(q, out);
	store_q_done(q);
	return rc == STORE_ROW ? 0 : rc == STORE_DONE ? -ENOENT : rc;
}

int store_groups_list(struct store *st, struct store_group **out, size_t *n)
{
	static const char sql[] = "SELECT " GROUP_COLS " FROM groups g ORDER BY g.name";
	struct store_q *q = store_q(st, sql);
	struct store_group *gs = NULL;
	size_t count = 0;
	int rc;
	while ((rc = store_q_step(q)) == STORE_ROW) {
		gs = xrealloc(gs, (count + 1) * sizeof *gs);
		store_groups_row(q, &gs[count++]);
	}
	store_q_done(q);
	if (rc < 0) {
		store_groups_free(gs, count);
		return rc;
	}
	*out = gs;
	*n = count;
	return 0;
}

static void store_groups_bind_fields(struct store_q *q, const struct store_group *g)
{
	store_q_text(q, 1, g->name);
	store_q_text(q, 2, g->description ? g->description : "");
	store_groups_limit_bind(q, 3, g->max_gpus);
	store_groups_limit_bind(q, 4, g->max_cpus);
	store_groups_limit_bind(q, 5, g->max_mem_mb);
	store_groups_limit_bind(q, 6, g->max_walltime_s);
	store_groups_limit_bind(q, 7, g->max_jobs);
	store_groups_limit_bind(q, 8, g->max_sessions);
	store_q_real(q, 9, g->fairshare_weight);
	store_q_int(q, 11, g->default_cpus);
	store_q_int(q, 12, g->default_mem_mb);
	store_q_int(q, 13, g->default_walltime_s);
	store_groups_limit_bind(q, 14, g->resv_max_gpus);
	store_groups_limit_bind(q, 15, g->resv_max_s);
	store_groups_limit_bind(q, 16, g->resv_max_ahead_s);
	store_groups_limit_bind(q, 17, g->resv_max_active);
	store_q_int(q, 18, g->resv_approval);
}

int store_group_insert(struct store *st, struct store_group *g)
{
	static const char sql[] =
		"INSERT INTO groups (name, description, max_gpus, max_cpus, max_mem_mb,"
		" max_walltime_s, max_jobs, max_sessions, fairshare_weight, builtin, created_at,"
		" default_cpus, default_mem_mb, default_walltime_s, resv_max_gpus, resv_max_s,"
		" resv_max_ahead_s, resv_max_active, resv_approval)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
		" ?17, ?18)";
	struct store_q *q = store_q(st, sql);
	g->created_at = time(NULL);
	store_groups_bind_fields(q, g);
	store_q_int(q, 10, g->created_at);
	int rc = store_q_exec(q);
	if (rc == 0)
		g->id = store_last_id(st);
	return rc;
}

int store_group_update(struct store *st, const struct store_group *g)
{
	static const char sql[] =
		"UPDATE groups SET name = ?1, description = ?2, max_gpus = ?3, max_cpus = ?4,"
		" max_mem_mb = ?5, max_walltime_s = ?6, max_jobs = ?7, max_sessions = ?8,"
		" fairshare_weight = ?9, default_cpus = ?11, default_mem_mb = ?12,"
		" default_walltime_s = ?13, resv_max_gpus = ?14, resv_max_s = ?15,"
		" resv_max_ahead_s = ?16, resv_max_active = ?17, resv_approval = ?18 WHERE id = ?10";
	struct store_q *q = store_q(st, sql);
	store_groups_bind_fields(q, g);
	store_q_int(q, 10, g->id);
	int rc = store_q_exec(q);
	if (rc == 0 && store_changes(st) == 0)
		return -ENOENT;
	return rc;
}

int store_group_delete(struct store *st, const char *name)
{
	static const char sql[] = "DELETE FROM groups WHERE name = ?1";
	struct store_q *q = store_q(st, sql);
	store_q_text(q, 1, name);
	int rc = store_q_exec(q);
	if (rc == 0 && store_changes(st) == 0)
		return -ENOENT;
	return rc;
}
