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

struct store_job;

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

/* A Unix time as an RFC 3339 UTC string, or null when t < 0. */
json_t *api_time_json(int64_t t);
/* A job as the API shows it; command and workdir only with details. */
json_t *api_job_json(const struct store_job *j, bool details);
/* Load the job named by the path's {id}; 0, or -1 after answering. */
int api_jobs_load(struct http_req *req, struct http_resp *resp, struct store_job *j);

#endif
