/* store/sessions — profiles and sessions tables (see sessions.h). */
#include "store/sessions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/xalloc.h"
#include "store/db.h"

static char *store_sessions_text(struct store_q *q, int col)
{
	const char *s = store_col_text(q, col);
	return s ? xstrdup(s) : NULL;
}

static int64_t store_sessions_opt(struct store_q *q, int col, int64_t none)
{
	return store_col_null(q, col) ? none : store_col_int(q, col);
}

/* Grow *arr (of elem-sized items) to hold one more; returns the new slot, zeroed. */
static void *store_sessions_push(void **arr, size_t elem, size_t *count, size_t *cap)
{
	if (*count == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*arr = xrealloc(*arr, *cap * elem);
	}
	char *slot = (char *)*arr + (*count)++ * elem;
	memset(slot, 0, elem);
	return slot;
}

/* --- profiles --------------------------------------------------------------- */

#define PROFILE_COLS                                                                              \
	"name, title, description, kind, command, env, requires, cpus, mem_mb, gpus, lifetime_s," \
	" max_lifetime_s, idle_timeout_s, groups, position, source, created_at, updated_at"

void store_profile_clear(struct store_profile *p)
{
	free(p->name);
	free(p->title);
	free(p->description);
	free(p->kind);
	free(p->command);
	free(p->env);
	free(p->requires);
	free(p->groups);
	free(p->source);
	memset(p, 0, sizeof *p);
}

void store_profiles_free(struct store_profile *ps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_profile_clear(&ps[i]);
	free(ps);
}

static void store_profiles_row(struct store_q *q, struct store_profile *p)
{
	p->name = store_sessions_text(q, 0);
	p->title = store_sessions_text(q, 1);
	p->description = store_sessions_text(q, 2);
	p->kind = store_sessions_text(q, 3);
	p->command = store_sessions_text(q, 4);
	p->env = store_sessions_text(q, 5);
	p->requires = store_sessions_text(q, 6);
	p->cpus = (int)store_col_int(q, 7);
	p->mem_mb = store_col_int(q, 8);
	p->gpus = (int)store_col_int(q, 9);
	p->lifetime_s = store_col_int(q, 10);
	p->max_lifetime_s = store_col_int(q, 11);
	p->idle_timeout_s = store_col_int(q, 12);
	p->groups = store_sessions_text(q, 13);
	p->position = (int)store_col_int(q, 14);
	p->source = store_sessions_text(q, 15);
	p->created_at = store_col_int(q, 16);
	p->updated_at = store_col_int(q, 17);
}

int store_profile_get(struct store *st, const char *name, struct store_profile *out)
{
	static const char sql[] = "SELECT " PROFILE_COLS " FROM profiles WHERE name = ?1";
	struct store_q *q = store_q(st, sql);
	store_q_text(q, 1, name);
	int rc = store_q_step(q);
	if (rc == STORE_ROW)
		store_profiles_row(q, out);
	store_q_done(q);
	return rc == STORE_ROW ? 0 : rc == STORE_DONE ? -ENOENT : rc;
}

int store_profiles_list(struct store *st, struct store_profile **out, size_t *n)
{
	static const char sql[] = "SELECT " PROFILE_COLS " FROM profiles ORDER BY position, name";
	struct store_q *q = store_q(st, sql);
	struct store_profile *ps = NULL;
	size_t count = 0, cap = 0;
	int rc;
	while ((rc = store_q_step(q)) == STORE_ROW)
		store_profiles_row(q, store_sessions_push((void **)&ps, sizeof *ps, &count, &cap));
	store_q_done(q);
	if (rc < 0) {
		store_profiles_free(ps, count);
		return rc;
	}
	*out = ps;
	*n = count;
	return 0;
}

int store_profile_put(struct store *st, struct store_profile *p)
{
	/* An upsert keeps created_at of the row it replaces. */
	static const char sql[] =
		"INSERT INTO profiles (" PROFILE_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
		" ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17)"
		" ON CONFLICT(name) DO UPDATE SET title = excluded.title,"
		" description = excluded.description, kind = excluded.kind,"
		" command = excluded.command, env = excluded.env, requires = excluded.requires,"
		" cpus = excluded.cpus, mem_mb = excluded.mem_mb, gpus = excluded.gpus,"
		" lifetime_s = excluded.lifetime_s, max_lifetime_s = excluded.max_lifetime_s,"
		" idle_timeout_s = excluded.idle_timeout_s, groups = excluded.groups,"
		" position = excluded.position, source = excluded.source,"
		" updated_at = excluded.updated_at";
	static const char get_created[] = "SELECT created_at FROM profiles WHERE name = ?1";
	int64_t now = time(NULL);
	struct store_q *q = store_q(st, sql);
	store_q_text(q, 1, p->name);
	store_q_text(q, 2, p->title);
	store_q_text(q, 3, p->description ? p->description : "");
	store_q_text(q, 4, p->kind);
	store_q_text(q, 5, p->command);
	store_q_text(q, 6, p->env ? p->env : "{}");
	store_q_text(q, 7, p->requires);
	store_q_int(q, 8, p->cpus);
	store_q_int(q, 9, p->mem_mb);
	store_q_int(q, 10, p->gpus);
	store_q_int(q, 11, p->lifetime_s);
	store_q_int(q, 12, p->max_lifetime_s);
	store_q_int(q, 13, p->idle_timeout_s);
	store_q_text(q, 14, p->groups ? p->groups : "[]");
	store_q_int(q, 15, p->position);
	store_q_text(q, 16, p->source ? p->source : "api");
	store_q_int(q, 17, now);
	int rc = store_q_exec(q);
	if (rc < 0)
		return rc;
	p->updated_at = now;
	q = store_q(st, get_created);
	store_q_text(q, 1, p->name);
	rc = store_q_step(q);
	if (rc == STORE_ROW)
		p->created_at = store_col_int(q, 0);
	store_q_done(q);
	return rc == STORE_ROW ? 0 : rc == STORE_DONE ? -EIO : rc;
}

int store_profile_delete(struct store *st, const char *name)
{
	static const char sql[] = "DELETE FROM profiles WHERE name = ?1";
	struct store_q *q = store_q(st, sql);
	store_q_text(q, 1, name);
	int rc = store_q_exec(q);
	if (rc == 0 && store_changes(st) == 0)
		return -ENOENT;
	return rc;
}

/* --- sessions --------------------------------------------------------------- */

#define SESSION_COLS                                                                               \
	"s.job_id, s.user_id, s.name, s.profile, s.kind, s.socket, s.port, s.secret, s.options,"   \
	" s.idle_timeout_s, s.max_lifetime_s, s.ready_at, s.last_activity, s.end_reason,"          \
	" s.created_at, j.state, j.username, j.start_time, j.walltime_s, j.end_time"

void store_session_clear(struct store_session *s)
{
	free(s->name);
	free(s->profile);
	free(s->kind);
	free(s->socket);
	free(s->secret);
	free(s->options);
	free(s->end_reason);
	free(s->state);
	free(s->username);
	memset(s, 0, sizeof *s);
}

void store_sessions_free(struct store_session *ss, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_session_clear(&ss[i]);
	free(ss);
}

static void store_sessions_row(struct store_q *q, struct store_session *s)
{
	s->job_id = store_col_int(q, 0);
	s->user_id = store_col_int(q, 1);
	s->name = store_sessions_text(q, 2);
	s->profile = store_sessions_text(q, 3);
	s->kind = store_sessions_text(q, 4);
	s->socket = store_sessions_text(q, 5);
	s->port = (int)store_sessions_opt(q, 6, 0);
	s->secret = store_sessions_text(q, 7);
	s->options = store_sessions_text(q, 8);
	s->idle_timeout_s = store_col_int(q, 9);
	s->max_lifetime_s = store_col_int(q, 10);
	s->ready_at = store_sessions_opt(q, 11, -1);
	s->last_activity = store_sessions_opt(q, 12, -1);
	s->end_reason = store_sessions_text(q, 13);
	s->created_at = store_col_int(q, 14);
	s->state = store_sessions_text(q, 15);
	s->username = store_sessions_text(q, 16);
	s->start_time = store_sessions_opt(q, 17, -1);
	s->walltime_s = store_col_int(q, 18);
	s->end_time = store_sessions_opt(q, 19, -1);
}

int store_session_insert(struct store *st, const struct store_session *s)
{
	static const char sql[] =
		"INSERT INTO sessions (job_id, user_id, name, profile, kind, socket, port, secret,"
		" options, idle_timeout_s, max_lifetime_s, created_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, s->job_id);
	store_q_int(q, 2, s->user_id);
	store_q_text(q, 3, s->name);
	store_q_text(q, 4, s->profile);
	store_q_text(q, 5, s->kind);
	store_q_text(q, 6, s->socket);
	if (s->port > 0)
		store_q_int(q, 7, s->port);
	else
		store_q_null(q, 7);
	store_q_text(q, 8, s->secret);
	store_q_text(q, 9, s->options ? s->options : "{}");
	store_q_int(q, 10, s->idle_timeout_s);
	store_q_int(q, 11, s->max_lifetime_s);
	store_q_int(q, 12, s->created_at > 0 ? s->created_at : (int64_t)time(NULL));
	return store_q_exec(q);
}

int store_session_get(struct store *st, int64_t job_id, struct store_session *out)
{
	static const char sql[] = "SELECT " SESSION_COLS " FROM sessions s JOIN jobs j"
				  " ON j.id = s.job_id WHERE s.job_id = ?1";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, job_id);
	int rc = store_q_step(q);
	if (rc == STORE_ROW)
		store_sessions_row(q, out);
	store_q_done(q);
	return rc == STORE_ROW ? 0 : rc == STORE_DONE ? -ENOENT : rc;
}

int store_sessions_list(struct store *st, int64_t user_id, bool live_only,
			struct store_session **out, size_t *n)
{
	static const char sql[] = "SELECT " SESSION_COLS " FROM sessions s JOIN jobs j"
				  " ON j.id = s.job_id WHERE (?1 < 0 OR s.user_id = ?1)"
				  " AND (?2 = 0 OR j.state IN ('pending', 'running'))"
				  " ORDER BY s.job_id DESC";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, user_id);
	store_q_int(q, 2, live_only ? 1 : 0);
	struct store_session *ss = NULL;
	size_t count = 0, cap = 0;
	int rc;
	while ((rc = store_q_step(q)) == STORE_ROW)
		store_sessions_row(q, store_sessions_push((void **)&ss, sizeof *ss, &count, &cap));
	store_q_done(q);
	if (rc < 0) {
		store_sessions_free(ss, count);
		return rc;
	}
	*out = ss;
	*n = count;
	return 0;
}

int store_session_find_live(struct store *st, int64_t user_id, const char *name, int64_t *job_id)
{
	static const char sql[] = "SELECT s.job_id FROM sessions s JOIN jobs j ON j.id = s.job_id"
				  " WHERE s.user_id = ?1 AND s.name = ?2"
				  " AND j.state IN ('pending', 'running')"
				  " ORDER BY s.job_id DESC LIMIT 1";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, user_id);
	store_q_text(q, 2, name);
	int rc = store_q_step(q);
	if (rc == STORE_ROW)
		*job_id = store_col_int(q, 0);
	store_q_done(q);
	return rc == STORE_ROW ? 0 : rc == STORE_DONE ? -ENOENT : rc;
}

int store_sessions_count_live(struct store *st, int64_t user_id, int64_t *n)
{
	static const char sql[] = "SELECT count(*) FROM sessions s JOIN jobs j ON j.id = s.job_id"
				  " WHERE s.user_id = ?1 AND j.state IN ('pending', 'running')";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, user_id);
	int rc = store_q_step(q);
	if (rc == STORE_ROW)
		*n = store_col_int(q, 0);
	store_q_done(q);
	return rc == STORE_ROW ? 0 : rc == STORE_DONE ? -EIO : rc;
}

int store_sessions_unsettled(struct store *st, struct store_session **out, size_t *n)
{
	/* Settled sessions (ended, reason recorded) pile up over the years;
	 * the monitor reads this every few seconds, so it asks for the few
	 * that are not. */
	static const char sql[] = "SELECT " SESSION_COLS " FROM sessions s JOIN jobs j"
				  " ON j.id = s.job_id WHERE s.end_reason IS NULL"
				  " OR j.state IN ('pending', 'running') ORDER BY s.job_id";
	struct store_q *q = store_q(st, sql);
	struct store_session *ss = NULL;
	size_t count = 0, cap = 0;
	int rc;
	while ((rc = store_q_step(q)) == STORE_ROW)
		store_sessions_row(q, store_sessions_push((void **)&ss, sizeof *ss, &count, &cap));
	store_q_done(q);
	if (rc < 0) {
		store_sessions_free(ss, count);
		return rc;
	}
	*out = ss;
	*n = count;
	return 0;
}

static int store_sessions_set_int(struct store *st, const char *sql, int64_t job_id, int64_t v)
{
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, job_id);
	store_q_int(q, 2, v);
	int rc = store_q_exec(q);
	if (rc == 0 && store_changes(st) == 0)
		return -ENOENT;
	return rc;
}

int store_session_set_ready(struct store *st, int64_t job_id, int64_t ready_at)
{
	static const char sql[] = "UPDATE sessions SET ready_at = ?2 WHERE job_id = ?1";
	return store_sessions_set_int(st, sql, job_id, ready_at);
}

int store_session_set_activity(struct store *st, int64_t job_id, int64_t when)
{
	/* Never move activity backwards: the proxy and the probes report
	 * out of order. */
	static const char sql[] = "UPDATE sessions SET last_activity = max(coalesce(last_activity,"
				  " 0), ?2) WHERE job_id = ?1";
	return store_sessions_set_int(st, sql, job_id, when);
}

int store_session_set_end_reason(struct store *st, int64_t job_id, const char *reason)
{
	/* The first reason wins: a session stopped by its owner that then
	 * times out during its grace period was still "stopped". */
	static const char sql[] = "UPDATE sessions SET end_reason = coalesce(end_reason, ?2)"
				  " WHERE job_id = ?1";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, job_id);
	store_q_text(q, 2, reason);
	int rc = store_q_exec(q);
	if (rc == 0 && store_changes(st) == 0)
		return -ENOENT;
	return rc;
}

const char *store_session_end_reason_of(const char *job_state)
{
	if (strcmp(job_state, "timeout") == 0)
		return "expired";
	if (strcmp(job_state, "cancelled") == 0)
		return "stopped";
	if (strcmp(job_state, "completed") == 0)
		return "exited";
	return "failed";
}

/* Copy src into a fixed buffer; -EIO when it does not fit (never
 * truncate a path or a secret into something else). */
static int store_sessions_copy(char *dst, size_t size, const char *src)
{
	size_t len = src ? strlen(src) : 0;
	if (len >= size)
		return -EIO;
	memcpy(dst, src ? src : "", len);
	dst[len] = '\0';
	return 0;
}

int store_session_route(struct store *st, int64_t job_id, struct store_session_route *out)
{
	static const char sql[] = "SELECT s.user_id, j.state, s.ready_at, s.socket, s.port, s.secret"
				  " FROM sessions s JOIN jobs j ON j.id = s.job_id"
				  " WHERE s.job_id = ?1";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, job_id);
	int rc = store_q_step(q);
	if (rc == STORE_ROW) {
		memset(out, 0, sizeof *out);
		out->user_id = store_col_int(q, 0);
		const char *state = store_col_text(q, 1);
		out->running = state && strcmp(state, "running") == 0;
		out->ready = !store_col_null(q, 2);
		out->port = (int)store_sessions_opt(q, 4, 0);
		if (store_sessions_copy(out->socket, sizeof out->socket, store_col_text(q, 3)) < 0 ||
		    store_sessions_copy(out->secret, sizeof out->secret, store_col_text(q, 5)) < 0)
			rc = -EIO;
	}
	store_q_done(q);
	if (rc < 0)
		return rc;
	return rc == STORE_ROW ? 0 : -ENOENT;
}
