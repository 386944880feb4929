/*
 * store/sessions — interactive-session profiles and sessions.
 *
 * A profile is a template an admin defines (or kaon seeds: Jupyter,
 * TensorBoard, shell): the command that starts the service, with
 * placeholders such as {socket} and {base_url}, the resources it gets,
 * its default and maximum lifetime, its idle timeout and the groups that
 * may use it.
 *
 * A session is a job of kind 'session' (jobs.kind) plus one row here,
 * keyed by the job id, that says how the proxy reaches the backend (a
 * unix socket path, or a loopback port) and the secret it presents. The
 * job's own state (pending, running, ended) stays in the jobs table; this
 * row adds readiness, activity and why it ended.
 *
 * Structs own their strings; *_clear frees them. Times are Unix seconds,
 * -1 when unset. Errors: -ENOENT, -EEXIST, or a store error.
 */
#ifndef KAON_STORE_SESSIONS_H
#define KAON_STORE_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

struct store_profile {
	char *name;        /* [a-z0-9-], unique */
	char *title;       /* shown on the launch form */
	char *description;
	char *kind;        /* jupyter, tensorboard, shell, web: how kaon probes and opens it */
	char *command;     /* JSON array of argv strings, with placeholders */
	char *env;         /* JSON object, values with placeholders */
	char *requires;    /* program that must be in PATH for the profile to be offered, or NULL */
	int cpus;
	int64_t mem_mb;
	int gpus;
	int64_t lifetime_s;     /* wall time a new session gets */
	int64_t max_lifetime_s; /* ceiling for extensions */
	int64_t idle_timeout_s; /* 0: never culled */
	char *groups;      /* JSON array of group names; "[]": every group */
	int position;      /* order on the launch form */
	char *source;      /* builtin, config, api */
	int64_t created_at, updated_at;
};

void store_profile_clear(struct store_profile *p);
void store_profiles_free(struct store_profile *ps, size_t n);

int store_profile_get(struct store *st, const char *name, struct store_profile *out);
/* All profiles by position, then name. */
int store_profiles_list(struct store *st, struct store_profile **out, size_t *n);
/* Insert or replace by name; sets created_at (kept on replace) and updated_at. */
int store_profile_put(struct store *st, struct store_profile *p);
/* -ENOENT when absent. */
int store_profile_delete(struct store *st, const char *name);

struct store_session {
	int64_t job_id;
	int64_t user_id;
	char *name;
	char *profile;
	char *kind;
	char *socket;  /* backend's unix socket path, or NULL */
	int port;      /* backend's loopback port, or 0 */
	char *secret;  /* what the proxy presents to the backend */
	char *options; /* JSON object: what the user chose (folder, ...) */
	int64_t idle_timeout_s;
	int64_t max_lifetime_s;
	int64_t ready_at;      /* when the backend first answered; -1 */
	int64_t last_activity; /* last proxied traffic or busy probe; -1 */
	char *end_reason;      /* stopped, idle, expired, failed; NULL while live */
	int64_t created_at;
	/* From the jobs row, filled by get and list (not written by insert). */
	char *state;
	char *username;
	int64_t start_time, walltime_s, end_time;
};

void store_session_clear(struct store_session *s);
void store_sessions_free(struct store_session *ss, size_t n);

/* Insert the row of a job just inserted (same transaction as the job). */
int store_session_insert(struct store *st, const struct store_session *s);
int store_session_get(struct store *st, int64_t job_id, struct store_session *out);
/* Newest first; user_id -1 for everyone; live_only: pending or running jobs. */
int store_sessions_list(struct store *st, int64_t user_id, bool live_only,
			struct store_session **out, size_t *n);
/* Live sessions of a user with this name (names are unique among live
 * sessions of one user): 0 and *job_id, or -ENOENT. */
int store_session_find_live(struct store *st, int64_t user_id, const char *name, int64_t *job_id);
/* How many pending or running sessions the user has. */
int store_sessions_count_live(struct store *st, int64_t user_id, int64_t *n);
/* What the sessions monitor looks after: every session whose job is live,
 * or has ended with no end_reason recorded yet. Oldest first. */
int store_sessions_unsettled(struct store *st, struct store_session **out, size_t *n);
int store_session_set_ready(struct store *st, int64_t job_id, int64_t ready_at);
int store_session_set_activity(struct store *st, int64_t job_id, int64_t when);
int store_session_set_end_reason(struct store *st, int64_t job_id, const char *reason);
/* Why a session ended when nothing was recorded before its job ended
 * (a stop or an idle cull record theirs first): from the job's end state,
 * timeout -> expired, cancelled -> stopped, completed -> exited, any other
 * -> failed. Static string. */
const char *store_session_end_reason_of(const char *job_state);

/* What the proxy needs for one request, in one indexed read: the owner,
 * where the backend listens, the secret, and whether it is usable now. */
struct store_session_route {
	int64_t user_id;
	bool running;  /* the job is running */
	bool ready;    /* the backend has answered once */
	char socket[108]; /* "" when the backend listens on a port */
	int port;
	char secret[96];
};
/* 0, or -ENOENT when there is no session with this id. */
int store_session_route(struct store *st, int64_t job_id, struct store_session_route *out);

#endif
