/* store/jobs — the jobs and usage tables (see jobs.h). */
#include "store/jobs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/xalloc.h"
#include "store/db.h"

#define JOB_COLS                                                                                      \
	"id, user_id, username, group_name, name, command, script, workdir, env, cpus, mem_mb, gpus," \
	" walltime_s, array_id, array_index, array_limit, after, hold, state, reason, priority,"      \
	" est_start, submit_time, start_time, end_time, exit_code, signal, node, alloc_gpus,"         \
	" cpu_seconds, max_rss_kb, kind, reservation_id, reservation_req, explain, queue_position"

void store_job_clear(struct store_job *j)
{
	free(j->username);
	free(j->group_name);
	free(j->name);
	free(j->command);
	free(j->script);
	free(j->workdir);
	free(j->env);
	free(j->after);
	free(j->state);
	free(j->reason);
	free(j->node);
	free(j->alloc_gpus);
	free(j->kind);
	free(j->explain);
	memset(j, 0, sizeof *j);
}

void store_jobs_free(struct store_job *js, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_job_clear(&js[i]);
	free(js);
}

static char *store_jobs_text(struct store_q *q, int col)
{
	const char *s = store_col_text(q, col);
	return s ? xstrdup(s) : NULL;
}

static int64_t store_jobs_opt(struct store_q *q, int col, int64_t none)
{
	return store_col_null(q, col) ? none : store_col_int(q, col);
}

static void store_jobs_row(struct store_q *q, struct store_job *j)
{
	j->id = store_col_int(q, 0);
	j->user_id = store_col_int(q, 1);
	j->username = store_jobs_text(q, 2);
	j->group_name = store_jobs_text(q, 3);
	j->name = store_jobs_text(q, 4);
	j->command = store_jobs_text(q, 5);
	j->script = store_jobs_text(q, 6);
	j->workdir = store_jobs_text(q, 7);
	j->env = store_jobs_text(q, 8);
	j->cpus = (int)store_col_int(q, 9);
	j->mem_mb = store_col_int(q, 10);
	j->gpus = (int)store_col_int(q, 11);
	j->walltime_s = store_col_int(q, 12);
	j->array_id = store_jobs_opt(q, 13, -1);
	j->array_index = store_jobs_opt(q, 14, -1);
	j->array_limit = (int)store_col_int(q, 15);
	j->after = store_jobs_text(q, 16);
	j->hold = store_col_int(q, 17) != 0;
	j->state = store_jobs_text(q, 18);
	j->reason = store_jobs_text(q, 19);
	j->priority = store_col_real(q, 20);
	j->est_start = store_jobs_opt(q, 21, -1);
	j->submit_time = store_col_int(q, 22);
	j->start_time = store_jobs_opt(q, 23, -1);
	j->end_time = store_jobs_opt(q, 24, -1);
	j->has_exit = !store_col_null(q, 25);
	j->exit_code = store_jobs_opt(q, 25, -1);
	j->signal = store_jobs_opt(q, 26, 0);
	j->node = store_jobs_text(q, 27);
	j->alloc_gpus = store_jobs_text(q, 28);
	j->cpu_seconds = store_col_real(q, 29);
	j->max_rss_kb = store_jobs_opt(q, 30, -1);
	j->kind = store_jobs_text(q, 31);
	j->reservation_id = store_jobs_opt(q, 32, -1);
	j->reservation_req = store_jobs_opt(q, 33, -1);
	j->explain = store_jobs_text(q, 34);
	j->queue_position = store_jobs_opt(q, 35, -1);
}

static int store_jobs_collect(struct store_q *q, struct store_job **out, size_t *n)
{
	struct store_job *js = NULL;
	size_t count = 0, cap = 0;
	int rc;
	while ((rc = store_q_step(q)) == STORE_ROW) {
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			js = xrealloc(js, cap * sizeof *js);
		}
		memset(&js[count], 0, sizeof *js);
		store_jobs_row(q, &js[count++]);
	}
	store_q_done(q);
	if (rc < 0) {
		store_jobs_free(js, count);
		return rc;
	}
	*out = js;
	*n = count;
	return 0;
}

int store_job_insert(struct store *st, struct store_job *j)
{
	static const char sql[] =
		"INSERT INTO jobs (user_id, username, group_name, name, command, script, workdir, env,"
		" cpus, mem_mb, gpus, walltime_s, array_id, array_index, array_limit, after, hold,"
		" state, submit_time, kind, reservation_req) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
		" ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, 'pending', ?18, ?19, ?20)";
	static const char fix_array[] = "UPDATE jobs SET array_id = id WHERE id = ?1";
	struct store_q *q = store_q(st, sql);
	if (j->submit_time <= 0)
		j->submit_time = time(NULL);
	store_q_int(q, 1, j->user_id);
	store_q_text(q, 2, j->username);
	store_q_text(q, 3, j->group_name);
	store_q_text(q, 4, j->name);
	store_q_text(q, 5, j->command);
	store_q_text(q, 6, j->script);
	store_q_text(q, 7, j->workdir);
	store_q_text(q, 8, j->env ? j->env : "{}");
	store_q_int(q, 9, j->cpus);
	store_q_int(q, 10, j->mem_mb);
	store_q_int(q, 11, j->gpus);
	store_q_int(q, 12, j->walltime_s);
	if (j->array_id < 0)
		store_q_null(q, 13);
	else
		store_q_int(q, 13, j->array_id);
	if (j->array_index < 0)
		store_q_null(q, 14);
	else
		store_q_int(q, 14, j->array_index);
	store_q_int(q, 15, j->array_limit);
	store_q_text(q, 16, j->after ? j->after : "[]");
	store_q_int(q, 17, j->hold);
	store_q_int(q, 18, j->submit_time);
	store_q_text(q, 19, j->kind ? j->kind : "batch");
	if (j->reservation_req > 0)
		store_q_int(q, 20, j->reservation_req);
	else
		store_q_null(q, 20);
	int rc = store_q_exec(q);
	if (rc < 0)
		return rc;
	j->id = store_last_id(st);
	if (j->array_id == 0) {
		q = store_q(st, fix_array);
		store_q_int(q, 1, j->id);
		if ((rc = store_q_exec(q)) < 0)
			return rc;
		j->array_id = j->id;
	}
	return 0;
}

int store_job_get(struct store *st, int64_t id, struct store_job *out)
{
	static const char sql[] = "SELECT " JOB_COLS " FROM jobs WHERE id = ?1";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, id);
	int rc = store_q_step(q);
	if (rc == STORE_ROW)
		store_jobs_row(q, out);
	store_q_done(q);
	return rc == STORE_ROW ? 0 : rc == STORE_DONE ? -ENOENT : rc;
}

int store_jobs_live(struct store *st, struct store_job **out, size_t *n)
{
	/* The scheduler reads this every pass, for every queued job: leave
	 * out what only a start needs (command, script, workdir, env). */
	static const char sql[] =
		"SELECT id, user_id, username, group_name, name, NULL, NULL, NULL, NULL, cpus, mem_mb,"
		" gpus, walltime_s, array_id, array_index, array_limit, after, hold, state, reason,"
		" priority, est_start, submit_time, start_time, end_time, exit_code, signal, node,"
		" alloc_gpus, cpu_seconds, max_rss_kb, kind, reservation_id, reservation_req, explain,"
		" queue_position FROM jobs WHERE state IN ('pending', 'running') ORDER BY id";
	return store_jobs_collect(store_q(st, sql), out, n);
}

/* Whether a comma list of states names only pending and running. */
static bool store_jobs_live_only(const char *states)
{
	if (!states || !*states)
		return false;
	for (const char *s = states; *s;) {
		size_t n = strcspn(s, ",");
		if (!((n == 7 && strncmp(s, "pending", 7) == 0) ||
		      (n == 7 && strncmp(s, "running", 7) == 0)))
			return false;
		s += n;
		if (*s == ',')
			s++;
	}
	return true;
}

int store_jobs_list(struct store *st, int64_t user_id, const char *states, int64_t before_id,
		    int limit, struct store_job **out, size_t *n)
{
	/* states is matched as a comma list with instr() so one prepared
	 * statement serves every filter. Walking the ids downwards finds a
	 * page at once for common states; live jobs (pending, running) are
	 * few among a long history, so a filter on those alone goes through
	 * the partial index jobs_live instead of scanning the history. */
	static const char sql[] =
		"SELECT " JOB_COLS " FROM jobs WHERE (?1 < 0 OR user_id = ?1)"
		" AND (?2 IS NULL OR instr(',' || ?2 || ',', ',' || state || ',') > 0)"
		" AND (?3 <= 0 OR id < ?3) ORDER BY id DESC LIMIT ?4";
	static const char sql_live[] =
		"SELECT " JOB_COLS " FROM jobs WHERE state IN ('pending', 'running')"
		" AND (?1 < 0 OR user_id = ?1)"
		" AND instr(',' || ?2 || ',', ',' || state || ',') > 0"
		" AND (?3 <= 0 OR id < ?3) ORDER BY id DESC LIMIT ?4";
	struct store_q *q = store_q(st, store_jobs_live_only(states) ? sql_live : sql);
	store_q_int(q, 1, user_id);
	store_q_text(q, 2, states);
	store_q_int(q, 3, before_id);
	store_q_int(q, 4, limit);
	return store_jobs_collect(q, out, n);
}

int store_job_state(struct store *st, int64_t id, const char **state)
{
	static const char *const known[] = { "pending", "running", "completed", "failed",
					     "cancelled", "timeout", "oom", "lost" };
	static const char sql[] = "SELECT state FROM jobs WHERE id = ?1";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, id);
	int rc = store_q_step(q);
	*state = NULL;
	if (rc == STORE_ROW) {
		const char *s = store_col_text(q, 0);
		for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
			if (strcmp(s, known[i]) == 0)
				*state = known[i];
	}
	store_q_done(q);
	if (rc == STORE_ROW)
		return *state ? 0 : -EIO;
	return rc == STORE_DONE ? -ENOENT : rc;
}

static int store_jobs_changed_one(struct store *st, int rc)
{
	if (rc == 0 && store_changes(st) == 0)
		return -ENOENT;
	return rc;
}

int store_job_set_hold(struct store *st, int64_t id, bool hold)
{
	static const char sql[] = "UPDATE jobs SET hold = ?2, reason = CASE WHEN ?2 THEN 'held'"
				  " ELSE NULL END WHERE id = ?1 AND state = 'pending'";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, id);
	store_q_int(q, 2, hold);
	return store_jobs_changed_one(st, store_q_exec(q));
}

int store_job_start(struct store *st, int64_t id, int64_t start_time, const char *node,
		    const char *alloc_gpus, int64_t reservation_id)
{
	static const char sql[] = "UPDATE jobs SET state = 'running', reason = NULL, est_start = NULL,"
				  " explain = NULL, queue_position = NULL,"
				  " start_time = ?2, node = ?3, alloc_gpus = ?4, reservation_id = ?5"
				  " WHERE id = ?1 AND state = 'pending'";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, id);
	store_q_int(q, 2, start_time);
	store_q_text(q, 3, node);
	store_q_text(q, 4, alloc_gpus);
	if (reservation_id > 0)
		store_q_int(q, 5, reservation_id);
	else
		store_q_null(q, 5);
	return store_jobs_changed_one(st, store_q_exec(q));
}

int store_job_end(struct store *st, int64_t id, const char *state, const char *reason,
		  int64_t end_time, int64_t exit_code, int64_t signal, double cpu_seconds,
		  int64_t max_rss_kb)
{
	static const char sql[] =
		"UPDATE jobs SET state = ?2, reason = ?3, est_start = NULL, explain = NULL,"
		" queue_position = NULL, end_time = ?4,"
		" exit_code = ?5, signal = ?6, cpu_seconds = ?7, max_rss_kb = ?8"
		" WHERE id = ?1 AND state IN ('pending', 'running')";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, id);
	store_q_text(q, 2, state);
	store_q_text(q, 3, reason);
	store_q_int(q, 4, end_time);
	if (exit_code < 0 && signal == 0)
		store_q_null(q, 5);
	else
		store_q_int(q, 5, exit_code);
	if (signal == 0)
		store_q_null(q, 6);
	else
		store_q_int(q, 6, signal);
	store_q_real(q, 7, cpu_seconds);
	if (max_rss_kb < 0)
		store_q_null(q, 8);
	else
		store_q_int(q, 8, max_rss_kb);
	return store_jobs_changed_one(st, store_q_exec(q));
}

int store_job_cancel_pending(struct store *st, int64_t id, const char *reason, int64_t now)
{
	static const char sql[] = "UPDATE jobs SET state = 'cancelled', reason = ?2, est_start = NULL,"
				  " explain = NULL, queue_position = NULL,"
				  " end_time = ?3 WHERE id = ?1 AND state = 'pending'";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, id);
	store_q_text(q, 2, reason);
	store_q_int(q, 3, now);
	return store_jobs_changed_one(st, store_q_exec(q));
}

int store_job_set_launch(struct store *st, int64_t id, const char *command, const char *env)
{
	static const char sql[] = "UPDATE jobs SET command = ?2, env = ?3 WHERE id = ?1";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, id);
	store_q_text(q, 2, command);
	store_q_text(q, 3, env ? env : "{}");
	return store_jobs_changed_one(st, store_q_exec(q));
}

int store_job_set_walltime(struct store *st, int64_t id, int64_t walltime_s)
{
	static const char sql[] = "UPDATE jobs SET walltime_s = ?2"
				  " WHERE id = ?1 AND state IN ('pending', 'running')";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, id);
	store_q_int(q, 2, walltime_s);
	return store_jobs_changed_one(st, store_q_exec(q));
}

int store_job_queue_position(struct store *st, int64_t id, int64_t *position)
{
	static const char sql[] =
		"SELECT queue_position FROM jobs WHERE id = ?1 AND state = 'pending'";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, id);
	int rc = store_q_step(q);
	if (rc == STORE_ROW)
		*position = store_jobs_opt(q, 0, -1);
	store_q_done(q);
	return rc == STORE_ROW ? 0 : rc == STORE_DONE ? -ENOENT : rc;
}

int store_job_plan(struct store *st, int64_t id, const struct store_job_planned *p)
{
	static const char sql[] = "UPDATE jobs SET reason = ?2, priority = ?3, est_start = ?4,"
				  " queue_position = ?5, explain = ?6"
				  " WHERE id = ?1 AND state = 'pending'";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, id);
	store_q_text(q, 2, p->reason);
	store_q_real(q, 3, p->priority);
	if (p->est_start < 0)
		store_q_null(q, 4);
	else
		store_q_int(q, 4, p->est_start);
	if (p->queue_position < 0)
		store_q_null(q, 5);
	else
		store_q_int(q, 5, p->queue_position);
	store_q_text(q, 6, p->explain);
	return store_q_exec(q);
}

int store_usage_get(struct store *st, int64_t user_id, double *usage, int64_t *updated_at)
{
	static const char sql[] = "SELECT usage, updated_at FROM usage WHERE user_id = ?1";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, user_id);
	int rc = store_q_step(q);
	*usage = 0;
	*updated_at = 0;
	if (rc == STORE_ROW) {
		*usage = store_col_real(q, 0);
		*updated_at = store_col_int(q, 1);
	}
	store_q_done(q);
	return rc < 0 ? rc : 0;
}

int store_usage_put(struct store *st, int64_t user_id, double usage, int64_t updated_at)
{
	static const char sql[] = "INSERT INTO usage (user_id, usage, updated_at) VALUES (?1, ?2, ?3)"
				  " ON CONFLICT (user_id) DO UPDATE SET usage = ?2, updated_at = ?3";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, user_id);
	store_q_real(q, 2, usage);
	store_q_int(q, 3, updated_at);
	return store_q_exec(q);
}

int store_usage_all(struct store *st, int64_t **user_ids, double **usage, int64_t **updated_at,
		    size_t *n)
{
	static const char sql[] = "SELECT user_id, usage, updated_at FROM usage ORDER BY user_id";
	struct store_q *q = store_q(st, sql);
	size_t count = 0;
	int64_t *ids = NULL, *ts = NULL;
	double *us = NULL;
	int rc;
	while ((rc = store_q_step(q)) == STORE_ROW) {
		ids = xrealloc(ids, (count + 1) * sizeof *ids);
		us = xrealloc(us, (count + 1) * sizeof *us);
		ts = xrealloc(ts, (count + 1) * sizeof *ts);
		ids[count] = store_col_int(q, 0);
		us[count] = store_col_real(q, 1);
		ts[count] = store_col_int(q, 2);
		count++;
	}
	store_q_done(q);
	if (rc < 0) {
		free(ids), free(us), free(ts);
		return rc;
	}
	*user_ids = ids, *usage = us, *updated_at = ts, *n = count;
	return 0;
}
