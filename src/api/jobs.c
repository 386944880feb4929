/*
 * api/jobs — submitting, listing, cancelling, holding jobs. Everything a
 * submission gets wrong is refused here with 422 (never a job pending
 * forever): resources over the machine or the group, empty commands,
 * oversized arrays, unknown dependencies. Accepted jobs are committed,
 * then the scheduler is kicked.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/fields.h"
#include "api/jobspec.h"
#include "config/config.h"
#include "lib/xalloc.h"
#include "server/jobenv.h"
#include "server/scheduler.h"
#include "server/server.h"
#include "store/db.h"
#include "store/groups.h"
#include "store/jobs.h"
#include "store/reservations.h"
#include "store/users.h"

enum {
	API_JOBS_MAX_ARGS = 4096,
	API_JOBS_MAX_SCRIPT = 1 << 20,
	API_JOBS_MAX_AFTER = 256,
	API_JOBS_MAX_ENV = 256,
	API_JOBS_PAGE = 50,
	API_JOBS_PAGE_MAX = 1000,
};

static const struct fields_spec api_jobs_fields[] = {
	{ "name", FIELDS_STRING, false, 1, 128 },
	{ "command", FIELDS_ARGV, false, 1, API_JOBS_MAX_ARGS },
	{ "script", FIELDS_STRING, false, 1, API_JOBS_MAX_SCRIPT },
	{ "workdir", FIELDS_STRING, false, 1, 4096 },
	{ "env", FIELDS_OBJECT, false, 0, API_JOBS_MAX_ENV },
	{ "resources", FIELDS_OBJECT, false, 0, 4 },
	{ "array", FIELDS_STRING, false, 1, 256 },
	{ "after", FIELDS_INTS, false, 0, API_JOBS_MAX_AFTER },
	{ "hold", FIELDS_BOOL, false, 0, 0 },
	{ "reservation", FIELDS_INT, false, 1, INT64_MAX },
};

static const struct fields_spec api_jobs_resource_fields[] = {
	{ "cpus", FIELDS_INT, false, 1, 1 << 16 },
	{ "mem_mb", FIELDS_INT, false, 1, (int64_t)1 << 40 },
	{ "gpus", FIELDS_INT, false, 0, 64 },
	{ "walltime_s", FIELDS_INT, false, 1, (int64_t)10 * 366 * 86400 },
};

static const struct {
	const char *reason;
	const char *text;
} api_jobs_reasons[] = {
	{ "priority", "waiting for jobs with a higher priority to start first" },
	{ "resources", "waiting for CPUs, memory or GPUs to become free" },
	{ "group_limit", "the group's limit of running jobs, CPUs or GPUs is reached" },
	{ "dependency", "waiting for the jobs it depends on to complete" },
	{ "held", "held: release it to let it start" },
	{ "array_limit", "the array's limit of elements running at once is reached" },
	{ "dependency_failed", "a job it depends on did not complete" },
	{ "start_failed", "the job could not be started; see its stderr" },
};

json_t *api_jobs_reason(const char *reason, bool text)
{
	if (!reason)
		return json_null();
	if (!text)
		return json_string(reason);
	for (size_t i = 0; i < sizeof api_jobs_reasons / sizeof api_jobs_reasons[0]; i++)
		if (strcmp(api_jobs_reasons[i].reason, reason) == 0)
			return json_string(api_jobs_reasons[i].text);
	return json_string(reason);
}

static json_t *api_jobs_opt_int(int64_t v, int64_t none)
{
	return v == none ? json_null() : json_integer(v);
}

static json_t *api_jobs_gpu_array(const char *list)
{
	json_t *arr = json_array();
	for (const char *p = list; p && *p;) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		json_array_append_new(arr, json_integer(v));
		p = *end == ',' ? end + 1 : end;
	}
	return arr;
}

json_t *api_job_reason_words(const struct store_job *j)
{
	json_t *ex = j->explain ? json_loads(j->explain, 0, NULL) : NULL;
	const char *text = json_string_value(json_object_get(ex, "text"));
	json_t *out = text && *text ? json_string(text) : api_jobs_reason(j->reason, true);
	json_decref(ex);
	return out;
}

/* A pending job's plan as the scheduler explained it: its words replace
 * the generic reason text, with the what-if hints, its rank among the
 * jobs that compete with it, and the reservation it runs in or asked for. */
static void api_jobs_explain(json_t *o, const struct store_job *j)
{
	json_t *ex = j->explain ? json_loads(j->explain, 0, NULL) : NULL;
	const char *text = json_string_value(json_object_get(ex, "text"));
	if (text && *text && strcmp(j->state, "pending") == 0)
		json_object_set_new(o, "reason_text", json_string(text));
	json_t *hints = json_object_get(ex, "hints");
	json_object_set_new(o, "hints", json_is_array(hints) ? json_incref(hints) : json_array());
	json_t *blocking = json_object();
	json_t *v;
	if ((v = json_object_get(ex, "next_job")))
		json_object_set(blocking, "job", v);
	if ((v = json_object_get(ex, "next_at")))
		json_object_set_new(blocking, "frees_at", api_time_json(json_integer_value(v)));
	if ((v = json_object_get(ex, "reserved_by")))
		json_object_set(blocking, "reservation", v);
	json_object_set_new(o, "waiting_for", json_object_size(blocking) ? blocking
									  : (json_decref(blocking), json_null()));
	json_object_set_new(o, "queue_position",
			    j->queue_position > 0 ? json_integer(j->queue_position) : json_null());
	int64_t resv = j->reservation_id > 0 ? j->reservation_id : j->reservation_req;
	json_object_set_new(o, "reservation", resv > 0 ? json_integer(resv) : json_null());
	json_decref(ex);
}

/* The job as the API shows it; details (command, workdir) only when the
 * caller owns it or is an admin. */
json_t *api_job_json(const struct store_job *j, bool details)
{
	json_t *cmd = details && j->command ? json_loads(j->command, 0, NULL) : NULL;
	json_t *after = json_loads(j->after ? j->after : "[]", 0, NULL);
	json_t *alloc = json_null();
	if (j->start_time >= 0 && j->node)
		alloc = json_pack("{s:s,s:i,s:I,s:o}", "node", j->node, "cpus", j->cpus, "mem_mb",
				  (json_int_t)j->mem_mb, "gpus", api_jobs_gpu_array(j->alloc_gpus));
	json_t *o = json_pack(
		"{s:I,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:b,s:o,s:{s:i,s:I,s:i,s:I},s:o,s:o,s:o,s:b,s:f}",
		"id", (json_int_t)j->id, "name", j->name, "user", j->username, "group", j->group_name,
		"state", j->state, "reason", api_jobs_reason(j->reason, false), "reason_text",
		api_jobs_reason(j->reason, true), "command", cmd ? cmd : json_null(), "script",
		j->script != NULL, "workdir", details ? json_string(j->workdir) : json_null(),
		"resources", "cpus", j->cpus, "mem_mb", (json_int_t)j->mem_mb, "gpus", j->gpus,
		"walltime_s", (json_int_t)j->walltime_s, "array_id", api_jobs_opt_int(j->array_id, -1),
		"array_index", api_jobs_opt_int(j->array_index, -1), "after",
		after ? after : json_array(), "hold", j->hold, "priority", j->priority);
	json_object_set_new(o, "estimated_start", api_time_json(j->est_start));
	json_object_set_new(o, "submit_time", api_time_json(j->submit_time));
	json_object_set_new(o, "start_time", api_time_json(j->start_time));
	json_object_set_new(o, "end_time", api_time_json(j->end_time));
	json_object_set_new(o, "exit_code", j->has_exit && j->signal == 0 ? json_integer(j->exit_code)
									 : json_null());
	json_object_set_new(o, "signal", j->signal ? json_integer(j->signal) : json_null());
	json_object_set_new(o, "allocated", alloc);
	json_object_set_new(o, "kind", json_string(j->kind ? j->kind : "batch"));
	api_jobs_explain(o, j);
	return o;
}

/* ---- submit ---------------------------------------------------------- */

struct api_jobs_owner {
	struct store_user user;
	struct store_group group;
};

static int api_jobs_owner_load(struct http_req *req, struct http_resp *resp,
			       struct api_jobs_owner *o)
{
	int rc = store_user_get_by_id(req->store, req->who.user_id, &o->user);
	if (rc == 0 && o->user.ngroups == 0) {
		http_resp_error(resp, 422, "invalid", "you belong to no group; ask an admin to add you");
		return -1;
	}
	if (rc == 0)
		rc = store_group_get(req->store, o->user.groups[0], &o->group);
	if (rc < 0) {
		http_resp_errno(resp, rc, "account of %s", req->who.username);
		return -1;
	}
	return 0;
}

static int api_jobs_resources(struct http_req *req, struct http_resp *resp, json_t *body,
			      const struct store_group *g, struct jobspec_resources *r)
{
	json_t *res = json_object_get(body, "resources");
	if (res && fields_check(res, api_jobs_resource_fields, FIELDS_COUNT(api_jobs_resource_fields),
				resp) < 0)
		return -1;
	json_t *v;
	r->cpus = (v = json_object_get(res, "cpus")) ? json_integer_value(v) : g->default_cpus;
	r->mem_mb = (v = json_object_get(res, "mem_mb")) ? json_integer_value(v) : g->default_mem_mb;
	r->gpus = (v = json_object_get(res, "gpus")) ? json_integer_value(v) : 0;
	r->walltime_s = (v = json_object_get(res, "walltime_s")) ? json_integer_value(v)
								 : g->default_walltime_s;
	const struct inventory *inv = &req->srv->inv;
	struct jobspec_capacity cap = {
		.node_cpus = inv->cpus, .node_mem_mb = inv->mem_mb, .node_gpus = inv->ngpus,
		.max_cpus = g->max_cpus, .max_mem_mb = g->max_mem_mb, .max_gpus = g->max_gpus,
		.max_walltime_s = g->max_walltime_s,
	};
	/* A group default over the machine (a small box) shrinks to fit. */
	if (!json_object_get(res, "cpus") && r->cpus > cap.node_cpus)
		r->cpus = cap.node_cpus;
	if (!json_object_get(res, "mem_mb") && r->mem_mb > cap.node_mem_mb)
		r->mem_mb = cap.node_mem_mb;
	char *problem = jobspec_check(r, &cap, g->name);
	if (problem) {
		http_resp_error(resp, 422, "invalid", "the job %s", problem);
		free(problem);
		return -1;
	}
	return 0;
}

static int api_jobs_check_body(struct http_req *req, struct http_resp *resp, json_t *body)
{
	json_t *cmd = json_object_get(body, "command"), *script = json_object_get(body, "script");
	if (!cmd == !script) {
		http_resp_error(resp, 422, "invalid", "give exactly one of 'command' and 'script'");
		return -1;
	}
	if (cmd && json_string_length(json_array_get(cmd, 0)) == 0) {
		http_resp_error(resp, 422, "invalid", "field 'command' must start with a program name");
		return -1;
	}
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(body, "env"), k, v)
	{
		bool name_ok = *k && !(*k >= '0' && *k <= '9');
		for (const char *c = k; *c && name_ok; c++)
			name_ok = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
				  (*c >= '0' && *c <= '9') || *c == '_';
		if (!name_ok || !json_is_string(v) || strlen(k) > 128 || json_string_length(v) > 65536) {
			http_resp_error(resp, 422, "invalid", "env '%s' must be a NAME with a string value", k);
			return -1;
		}
		if (jobenv_reserved(k)) {
			http_resp_error(resp, 422, "invalid", "env '%s' is set by kaon and cannot be given", k);
			return -1;
		}
	}
	size_t i;
	json_array_foreach(json_object_get(body, "after"), i, v)
	{
		const char *state;
		if (store_job_state(req->store, json_integer_value(v), &state) < 0) {
			http_resp_error(resp, 422, "invalid", "'after' names job %lld, which does not exist",
					(long long)json_integer_value(v));
			return -1;
		}
	}
	return 0;
}

/* A job that asks for a reservation must be able to run in it: the
 * caller's, not over, and big enough for the job's request and wall time
 * (else it would wait forever). */
static int api_jobs_check_reservation(struct http_req *req, struct http_resp *resp,
				      const struct store_job *j)
{
	struct store_reservation r = { 0 };
	int rc = store_reservation_get(req->store, j->reservation_req, &r);
	long long id = (long long)j->reservation_req;
	int64_t now = time(NULL);
	if (rc == -ENOENT || (rc == 0 && r.user_id != j->user_id)) {
		http_resp_error(resp, 422, "invalid", "you have no reservation %lld", id);
		rc = -1;
	} else if (rc < 0) {
		http_resp_errno(resp, rc, "reservation %lld", id);
	} else if ((strcmp(r.state, "approved") != 0 && strcmp(r.state, "pending") != 0) ||
		   r.end_time <= now) {
		http_resp_error(resp, 422, "invalid", "reservation %lld is %s", id,
				r.end_time <= now ? "over" : r.state);
		rc = -1;
	} else if (j->gpus > r.gpus || j->cpus > r.cpus || j->mem_mb > r.mem_mb) {
		http_resp_error(resp, 422, "invalid",
				"the job asks for more than reservation %lld holds (%d GPUs, %d CPUs, "
				"%lld MiB)", id, r.gpus, r.cpus, (long long)r.mem_mb);
		rc = -1;
	} else if (j->walltime_s > r.end_time - (r.start_time > now ? r.start_time : now)) {
		http_resp_error(resp, 422, "invalid",
				"the job's wall time of %lld s is longer than what is left of reservation "
				"%lld (%lld s)", (long long)j->walltime_s, id,
				(long long)(r.end_time - (r.start_time > now ? r.start_time : now)));
		rc = -1;
	}
	store_reservation_clear(&r);
	return rc < 0 ? -1 : 0;
}

static char *api_jobs_workdir(json_t *body, const char *home)
{
	const char *w = json_string_value(json_object_get(body, "workdir"));
	if (!w)
		return xstrdup(home);
	return w[0] == '/' ? xstrdup(w) : xasprintf("%s/%s", home, w);
}

static char *api_jobs_default_name(json_t *body)
{
	const char *first = json_string_value(json_array_get(json_object_get(body, "command"), 0));
	if (!first)
		return xstrdup("script");
	const char *slash = strrchr(first, '/');
	return xstrndup(slash ? slash + 1 : first, 128);
}

static int api_jobs_insert_all(struct http_req *req, struct http_resp *resp, struct store_job *tmpl,
			       const int64_t *indices, size_t n, json_t **answer)
{
	int rc = store_begin(req->store);
	if (rc < 0) {
		http_resp_errno(resp, rc, "job");
		return -1;
	}
	json_t *ids = json_array();
	for (size_t i = 0; i < (indices ? n : 1); i++) {
		struct store_job j = *tmpl;
		if (indices) {
			j.array_id = i == 0 ? 0 : tmpl->array_id;
			j.array_index = indices[i];
		}
		if ((rc = store_job_insert(req->store, &j)) < 0)
			break;
		if (indices && i == 0)
			tmpl->array_id = j.array_id;
		tmpl->id = j.id;
		tmpl->submit_time = j.submit_time;
		json_array_append_new(ids, json_integer(j.id));
	}
	if (rc < 0 || (rc = store_commit(req->store)) < 0) {
		store_rollback(req->store);
		json_decref(ids);
		http_resp_errno(resp, rc, "job");
		return -1;
	}
	*answer = indices ? json_pack("{s:I,s:o}", "array_id", (json_int_t)tmpl->array_id, "job_ids", ids)
			  : (json_decref(ids), NULL);
	return 0;
}

void api_jobs_create(struct http_req *req, struct http_resp *resp)
{
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	struct api_jobs_owner owner = { 0 };
	struct store_job j = { 0 };
	int64_t *indices = NULL;
	size_t nindices = 0;
	struct jobspec_resources r;
	if (fields_check(body, api_jobs_fields, FIELDS_COUNT(api_jobs_fields), resp) < 0 ||
	    api_jobs_check_body(req, resp, body) < 0 || api_jobs_owner_load(req, resp, &owner) < 0 ||
	    api_jobs_resources(req, resp, body, &owner.group, &r) < 0)
		goto out;
	const char *array = json_string_value(json_object_get(body, "array"));
	char *cause = NULL;
	int limit = 0;
	if (array && jobspec_array_parse(array, (size_t)req->srv->cfg->max_array, &indices, &nindices,
					 &limit, &cause) < 0) {
		http_resp_error(resp, 422, "invalid", "%s", cause);
		free(cause);
		goto out;
	}
	json_t *v;
	j.user_id = owner.user.id;
	j.username = owner.user.username;
	j.group_name = owner.group.name;
	j.name = (v = json_object_get(body, "name")) ? xstrdup(json_string_value(v))
						      : api_jobs_default_name(body);
	j.command = (v = json_object_get(body, "command")) ? json_dumps(v, JSON_COMPACT) : NULL;
	j.script = (char *)json_string_value(json_object_get(body, "script"));
	j.workdir = api_jobs_workdir(body, owner.user.home);
	j.env = (v = json_object_get(body, "env")) ? json_dumps(v, JSON_COMPACT) : NULL;
	j.after = (v = json_object_get(body, "after")) ? json_dumps(v, JSON_COMPACT) : NULL;
	j.cpus = (int)r.cpus, j.mem_mb = r.mem_mb, j.gpus = (int)r.gpus, j.walltime_s = r.walltime_s;
	j.array_id = -1, j.array_index = -1, j.array_limit = limit;
	j.hold = json_is_true(json_object_get(body, "hold"));
	j.reservation_req = json_integer_value(json_object_get(body, "reservation"));
	json_t *answer = NULL;
	int rc = -1;
	if (j.reservation_req <= 0 || api_jobs_check_reservation(req, resp, &j) == 0)
		rc = api_jobs_insert_all(req, resp, &j, indices, nindices, &answer);
	if (rc == 0) {
		scheduler_kick(req->srv);
		if (!answer) {
			struct store_job got = { 0 };
			if (store_job_get(req->store, j.id, &got) == 0)
				answer = api_job_json(&got, true);
			store_job_clear(&got);
		}
		if (answer)
			http_resp_json(resp, 201, answer);
		else
			http_resp_errno(resp, -EIO, "job %lld", (long long)j.id);
	}
	free(j.name);
	free(j.command);
	free(j.workdir);
	free(j.env);
	free(j.after);
out:
	free(indices);
	store_user_clear(&owner.user);
	store_group_clear(&owner.group);
	json_decref(body);
}

/* ---- read ------------------------------------------------------------ */

static bool api_jobs_may_see_details(const struct http_req *req, const struct store_job *j)
{
	return req->who.admin || j->user_id == req->who.user_id;
}

void api_jobs_list(struct http_req *req, struct http_resp *resp)
{
	const char *user = http_req_query(req, "user"), *states = http_req_query(req, "state");
	const char *limit_s = http_req_query(req, "limit"), *before_s = http_req_query(req, "before");
	int64_t user_id = req->who.user_id;
	char *end;
	long long limit = limit_s ? strtoll(limit_s, &end, 10) : API_JOBS_PAGE;
	if (limit_s && (*end || limit < 1 || limit > API_JOBS_PAGE_MAX)) {
		http_resp_error(resp, 422, "invalid", "limit must be from 1 to %d", API_JOBS_PAGE_MAX);
		return;
	}
	long long before = before_s ? strtoll(before_s, &end, 10) : 0;
	if (before_s && (*end || before < 1)) {
		http_resp_error(resp, 422, "invalid", "before must be a job id");
		return;
	}
	if (user && strcmp(user, "all") == 0) {
		user_id = -1;
	} else if (user && strcmp(user, req->who.username) != 0) {
		struct store_user u = { 0 };
		int rc = store_user_get(req->store, user, &u);
		user_id = u.id;
		store_user_clear(&u);
		if (rc < 0) {
			http_resp_errno(resp, rc, "user '%s'", user);
			return;
		}
	}
	struct store_job *js;
	size_t n;
	int rc = store_jobs_list(req->store, user_id, states, before, (int)limit + 1, &js, &n);
	if (rc < 0) {
		http_resp_errno(resp, rc, "jobs");
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n && i < (size_t)limit; i++)
		json_array_append_new(arr, api_job_json(&js[i], api_jobs_may_see_details(req, &js[i])));
	json_t *next = n > (size_t)limit ? json_integer(js[limit - 1].id) : json_null();
	store_jobs_free(js, n);
	http_resp_json(resp, 200, json_pack("{s:o,s:o}", "jobs", arr, "next", next));
}

/* Load the job named by the path; 0, or -1 after answering. */
int api_jobs_load(struct http_req *req, struct http_resp *resp, struct store_job *j)
{
	char *end;
	long long id = strtoll(req->params[0], &end, 10);
	if (*end || id <= 0) {
		http_resp_error(resp, 404, "not_found", "job %s not found", req->params[0]);
		return -1;
	}
	int rc = store_job_get(req->store, id, j);
	if (rc < 0) {
		http_resp_errno(resp, rc, "job %lld", id);
		return -1;
	}
	return 0;
}

void api_jobs_get(struct http_req *req, struct http_resp *resp)
{
	struct store_job j = { 0 };
	if (api_jobs_load(req, resp, &j) < 0)
		return;
	http_resp_json(resp, 200, api_job_json(&j, api_jobs_may_see_details(req, &j)));
	store_job_clear(&j);
}

/* ---- change ---------------------------------------------------------- */

static void api_jobs_answer_reloaded(struct http_req *req, struct http_resp *resp, int64_t id)
{
	struct store_job j = { 0 };
	int rc = store_job_get(req->store, id, &j);
	if (rc < 0)
		http_resp_errno(resp, rc, "job %lld", (long long)id);
	else
		http_resp_json(resp, 200, api_job_json(&j, true));
	store_job_clear(&j);
}

static int api_jobs_load_owned(struct http_req *req, struct http_resp *resp, struct store_job *j)
{
	if (api_jobs_load(req, resp, j) < 0)
		return -1;
	if (!api_jobs_may_see_details(req, j)) {
		http_resp_error(resp, 403, "forbidden", "job %lld belongs to %s", (long long)j->id,
				j->username);
		store_job_clear(j);
		return -1;
	}
	return 0;
}

void api_jobs_cancel(struct http_req *req, struct http_resp *resp)
{
	struct store_job j = { 0 };
	if (api_jobs_load_owned(req, resp, &j) < 0)
		return;
	int rc = scheduler_cancel(req->srv, req->store, j.id);
	if (rc == -EALREADY)
		http_resp_error(resp, 409, "conflict", "job %lld has already ended (%s)", (long long)j.id,
				j.state);
	else if (rc < 0)
		http_resp_errno(resp, rc, "job %lld", (long long)j.id);
	else
		api_jobs_answer_reloaded(req, resp, j.id);
	store_job_clear(&j);
}

static void api_jobs_set_hold(struct http_req *req, struct http_resp *resp, bool hold)
{
	struct store_job j = { 0 };
	if (api_jobs_load_owned(req, resp, &j) < 0)
		return;
	int rc = store_job_set_hold(req->store, j.id, hold);
	if (rc == -ENOENT)
		http_resp_error(resp, 409, "conflict", "job %lld is %s, not pending", (long long)j.id,
				j.state);
	else if (rc < 0)
		http_resp_errno(resp, rc, "job %lld", (long long)j.id);
	else {
		scheduler_kick(req->srv);
		api_jobs_answer_reloaded(req, resp, j.id);
	}
	store_job_clear(&j);
}

void api_jobs_hold(struct http_req *req, struct http_resp *resp)
{
	api_jobs_set_hold(req, resp, true);
}

void api_jobs_release(struct http_req *req, struct http_resp *resp)
{
	api_jobs_set_hold(req, resp, false);
}
