/*
 * api — the REST handlers, one file per resource. Each handler answers
 * through the response it is given; validation happens before anything
 * is written, and every write commits before the answer goes out.
 */
#ifndef KAON_API_API_H
#define KAON_API_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "server/http.h"

struct inventory;
struct store_group;
struct store_job;
struct store_profile;

/* session.c */
void api_login(struct http_req *req, struct http_resp *resp);
void api_logout(struct http_req *req, struct http_resp *resp);
void api_me(struct http_req *req, struct http_resp *resp);
void api_me_password(struct http_req *req, struct http_resp *resp);
/* openapi.c */
void api_openapi(struct http_req *req, struct http_resp *resp);
/* tokens.c */
void api_tokens_list(struct http_req *req, struct http_resp *resp);
void api_tokens_create(struct http_req *req, struct http_resp *resp);
void api_tokens_delete(struct http_req *req, struct http_resp *resp);
/* users.c */
void api_users_list(struct http_req *req, struct http_resp *resp);
void api_users_create(struct http_req *req, struct http_resp *resp);
void api_users_get(struct http_req *req, struct http_resp *resp);
void api_users_update(struct http_req *req, struct http_resp *resp);
void api_users_delete(struct http_req *req, struct http_resp *resp);
/* groups.c */
void api_groups_list(struct http_req *req, struct http_resp *resp);
void api_groups_create(struct http_req *req, struct http_resp *resp);
void api_groups_get(struct http_req *req, struct http_resp *resp);
void api_groups_update(struct http_req *req, struct http_resp *resp);
void api_groups_delete(struct http_req *req, struct http_resp *resp);

/* jobs.c */
void api_jobs_create(struct http_req *req, struct http_resp *resp);
void api_jobs_list(struct http_req *req, struct http_resp *resp);
void api_jobs_get(struct http_req *req, struct http_resp *resp);
void api_jobs_cancel(struct http_req *req, struct http_resp *resp);
void api_jobs_hold(struct http_req *req, struct http_resp *resp);
void api_jobs_release(struct http_req *req, struct http_resp *resp);
/* joblog.c */
void api_jobs_log(struct http_req *req, struct http_resp *resp);
/* nodes.c */
void api_nodes(struct http_req *req, struct http_resp *resp);
void api_share(struct http_req *req, struct http_resp *resp);

/* files.c (see api/files.h) */
void api_files_get(struct http_req *req, struct http_resp *resp);
void api_files_put(struct http_req *req, struct http_resp *resp);
void api_files_post(struct http_req *req, struct http_resp *resp);
void api_files_delete(struct http_req *req, struct http_resp *resp);
void api_datasets_list(struct http_req *req, struct http_resp *resp);
void api_datasets_get(struct http_req *req, struct http_resp *resp);
void api_datasets_create(struct http_req *req, struct http_resp *resp);
void api_datasets_delete(struct http_req *req, struct http_resp *resp);
/* uploads.c */
void api_uploads_create(struct http_req *req, struct http_resp *resp);
void api_uploads_get(struct http_req *req, struct http_resp *resp);
void api_uploads_put(struct http_req *req, struct http_resp *resp);
void api_uploads_delete(struct http_req *req, struct http_resp *resp);
/* terminals.c */
void api_terminals_create(struct http_req *req, struct http_resp *resp);
void api_terminals_list(struct http_req *req, struct http_resp *resp);
void api_terminals_get(struct http_req *req, struct http_resp *resp);
void api_terminals_delete(struct http_req *req, struct http_resp *resp);
void api_terminals_ws(struct http_req *req, struct http_resp *resp);

/* profiles.c */
/* models.c: kaon's catalog API */
void api_models_list(struct http_req *req, struct http_resp *resp);
void api_models_get(struct http_req *req, struct http_resp *resp);
void api_models_thumbnail(struct http_req *req, struct http_resp *resp);
void api_models_register(struct http_req *req, struct http_resp *resp);
void api_models_update(struct http_req *req, struct http_resp *resp);
void api_models_delete(struct http_req *req, struct http_resp *resp);
void api_models_trainings(struct http_req *req, struct http_resp *resp);
void api_profiles_list(struct http_req *req, struct http_resp *resp);
void api_profiles_create(struct http_req *req, struct http_resp *resp);
void api_profiles_put(struct http_req *req, struct http_resp *resp);
void api_profiles_delete(struct http_req *req, struct http_resp *resp);
/* sessions.c */
void api_sessions_create(struct http_req *req, struct http_resp *resp);
void api_sessions_list(struct http_req *req, struct http_resp *resp);
void api_sessions_get(struct http_req *req, struct http_resp *resp);
void api_sessions_stop(struct http_req *req, struct http_resp *resp);
void api_sessions_extend(struct http_req *req, struct http_resp *resp);
/* reservations.c */
void api_reservations_create(struct http_req *req, struct http_resp *resp);
void api_reservations_list(struct http_req *req, struct http_resp *resp);
void api_reservations_get(struct http_req *req, struct http_resp *resp);
void api_reservations_update(struct http_req *req, struct http_resp *resp);
void api_reservations_cancel(struct http_req *req, struct http_resp *resp);
void api_reservations_approve(struct http_req *req, struct http_resp *resp);
void api_reservations_reject(struct http_req *req, struct http_resp *resp);
/* notifications.c */
void api_notifications_list(struct http_req *req, struct http_resp *resp);
void api_models_predict(struct http_req *req, struct http_resp *resp);
void api_notifications_read(struct http_req *req, struct http_resp *resp);

/* A Unix time as an RFC 3339 UTC string, or null when t < 0. */
json_t *api_time_json(int64_t t);
/* A job as the API shows it; command and workdir only with details. */
json_t *api_job_json(const struct store_job *j, bool details);
/* A pending job's reason as the API spells it (text: in words), or null. */
json_t *api_jobs_reason(const char *reason, bool text);
/* A pending job's reason in the scheduler's own words when it gave some,
 * else the generic text of its reason; null when it has none. */
json_t *api_job_reason_words(const struct store_job *j);
/* Fit a profile to this machine and to the limits of group g (NULL: none):
 * CPUs and memory beyond the machine shrink to it, as a group's job
 * defaults do; max_lifetime_s beyond the group's wall time shrinks to it,
 * and lifetime_s to that. 0, or -1 with *why when it cannot run for this
 * group here at all (GPUs the machine lacks, resources over the group's
 * limits). */
int api_profiles_fit(struct store_profile *p, const struct inventory *inv,
		     const struct store_group *g, char **why);
/* Load the job named by the path's {id}; 0, or -1 after answering. */
int api_jobs_load(struct http_req *req, struct http_resp *resp, struct store_job *j);

#endif
