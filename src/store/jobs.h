/*
 * store/jobs — the jobs table and per-user decayed usage.
 *
 * A struct store_job owns its strings (store_job_clear frees them).
 * command and after are JSON text as stored ("[...]"); the API layer
 * parses them. Times are Unix seconds, -1 when unset.
 */
#ifndef KAON_STORE_JOBS_H
#define KAON_STORE_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

struct store_job {
	int64_t id;
	int64_t user_id;
	char *username;
	char *group_name;
	char *name;
	char *command; /* JSON array, or NULL for a script job */
	char *script;  /* NULL for a command job */
	char *workdir;
	char *env;     /* JSON object */
	int cpus;
	int64_t mem_mb;
	int gpus;
	int64_t walltime_s;
	int64_t array_id;    /* -1: not an array element */
	int64_t array_index; /* -1 */
	int array_limit;
	char *after;   /* JSON array of ids */
	bool hold;
	char *state;   /* pending, running, completed, failed, cancelled, timeout, oom, lost */
	char *reason;  /* NULL when none */
	double priority;
	int64_t est_start;
	int64_t submit_time, start_time, end_time;
	int64_t exit_code; /* -1 unset */
	int64_t signal;    /* 0 unset */
	bool has_exit;
	char *node;
	char *alloc_gpus; /* "0,1" or NULL */
	double cpu_seconds;
	int64_t max_rss_kb;
	char *kind;    /* batch, session; NULL on insert means batch */
	int64_t reservation_id;  /* the reservation it runs (ran) in, -1 none */
	int64_t reservation_req; /* the reservation it asked for; -1 (0 on insert) none: automatic */
	char *explain;           /* pending: the scheduler's explanation (JSON object), or NULL */
	int64_t queue_position;  /* pending: rank among its competitors, -1 none */
};

void store_job_clear(struct store_job *j);
void store_jobs_free(struct store_job *js, size_t n);

/* Insert with state pending; sets j->id and j->submit_time. For an array,
 * the first element's id becomes the array_id of all (set array_id = 0 on
 * the first insert to mean "myself"). Run inside a transaction. */
int store_job_insert(struct store *st, struct store_job *j);
int store_job_get(struct store *st, int64_t id, struct store_job *out);
/* Live jobs (pending and running), oldest first, for planning: command,
 * script, workdir and env are left NULL (store_job_get has them). */
int store_jobs_live(struct store *st, struct store_job **out, size_t *n);
/* Newest first: user_id -1 for all users, states a comma list or NULL,
 * before_id 0 for the newest. */
int store_jobs_list(struct store *st, int64_t user_id, const char *states, int64_t before_id,
		    int limit, struct store_job **out, size_t *n);
/* State of any job, for dependencies: 0 and *state (static string) or -ENOENT. */
int store_job_state(struct store *st, int64_t id, const char **state);

int store_job_set_hold(struct store *st, int64_t id, bool hold);
/* Pending → running with its allocation, inside reservation_id (-1 none). */
int store_job_start(struct store *st, int64_t id, int64_t start_time, const char *node,
		    const char *alloc_gpus, int64_t reservation_id);
/* Running or pending → an end state. exit_code -1 / signal 0 when unknown. */
int store_job_end(struct store *st, int64_t id, const char *state, const char *reason,
		  int64_t end_time, int64_t exit_code, int64_t signal, double cpu_seconds,
		  int64_t max_rss_kb);
/* Pending → cancelled, only if still pending (-ENOENT otherwise, e.g.
 * when the scheduler started it meanwhile). */
int store_job_cancel_pending(struct store *st, int64_t id, const char *reason, int64_t now);
/* A job's command and environment, rewritten inside the transaction that
 * inserted it: a session's argv and env hold its own id (base URL, socket
 * path), known only once the row exists. command is a JSON array. */
int store_job_set_launch(struct store *st, int64_t id, const char *command, const char *env);
/* A live job's wall time (session extension); -ENOENT when it has ended. */
int store_job_set_walltime(struct store *st, int64_t id, int64_t walltime_s);
/* Rank (1 = next) of a pending job among its competitors, as the
 * scheduler last planned it; -1 when it competes for nothing (held,
 * dependencies, limits). -ENOENT when the job is not pending. */
int store_job_queue_position(struct store *st, int64_t id, int64_t *position);
/* What one scheduling pass says of a pending job. */
struct store_job_planned {
	const char *reason;
	double priority;
	int64_t est_start;      /* -1 unknown */
	int64_t queue_position; /* -1 none */
	const char *explain;    /* JSON object text, or NULL */
};
/* Update a pending job with its plan. */
int store_job_plan(struct store *st, int64_t id, const struct store_job_planned *p);

/* Decayed usage of a user as stored, with the time it was last decayed. */
int store_usage_get(struct store *st, int64_t user_id, double *usage, int64_t *updated_at);
int store_usage_put(struct store *st, int64_t user_id, double usage, int64_t updated_at);
/* All users' stored usage: parallel arrays, caller frees. */
int store_usage_all(struct store *st, int64_t **user_ids, double **usage, int64_t **updated_at,
		    size_t *n);

#endif
