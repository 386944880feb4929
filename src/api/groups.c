/*
 * api/groups — groups and their limits, for administrators. Limits are
 * integers or null ("no limit"); the scheduler reads the job limits from
 * the store, api/reservations the booking limits (resv_*).
 */
#include <errno.h>
#include <string.h>

#include "api/api.h"
#include "api/fields.h"
#include "identity/accounts.h"
#include "lib/xalloc.h"
#include "store/db.h"
#include "store/groups.h"

#define API_GROUPS_FIELDS(name_required)                                                              \
	{ "name", FIELDS_STRING, name_required, 1, 32 },                                              \
		{ "description", FIELDS_STRING, false, 0, 256 },                                      \
		{ "max_gpus", FIELDS_LIMIT, false, 0, 4096 },                                         \
		{ "max_cpus", FIELDS_LIMIT, false, 0, 1 << 20 },                                      \
		{ "max_mem_mb", FIELDS_LIMIT, false, 0, (int64_t)1 << 40 },                           \
		{ "max_walltime_s", FIELDS_LIMIT, false, 0, (int64_t)10 * 366 * 86400 },              \
		{ "max_jobs", FIELDS_LIMIT, false, 0, 1 << 24 },                                      \
		{ "max_sessions", FIELDS_LIMIT, false, 0, 1 << 20 },                                  \
		{ "fairshare_weight", FIELDS_NUMBER, false, 0, 1000000 },                            \
		{ "default_cpus", FIELDS_INT, false, 1, 1 << 20 },                                    \
		{ "default_mem_mb", FIELDS_INT, false, 1, (int64_t)1 << 40 },                         \
		{ "default_walltime_s", FIELDS_INT, false, 1, (int64_t)10 * 366 * 86400 },           \
		{ "resv_max_gpus", FIELDS_LIMIT, false, 0, 4096 },                                    \
		{ "resv_max_s", FIELDS_LIMIT, false, 0, (int64_t)10 * 366 * 86400 },                  \
		{ "resv_max_ahead_s", FIELDS_LIMIT, false, 0, (int64_t)10 * 366 * 86400 },            \
		{ "resv_max_active", FIELDS_LIMIT, false, 0, 1 << 20 },                               \
		{ "resv_approval", FIELDS_BOOL, false, 0, 0 }

static const struct fields_spec api_groups_create_fields[] = { API_GROUPS_FIELDS(true) };
static const struct fields_spec api_groups_update_fields[] = { API_GROUPS_FIELDS(false) };

static json_t *api_group_limit(int64_t v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static json_t *api_group_json(const struct store_group *g)
{
	json_t *o = json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:f,s:I,s:I,s:I,s:b,s:I,s:o}", "name", g->name,
			 "description", g->description, "max_gpus", api_group_limit(g->max_gpus),
			 "max_cpus", api_group_limit(g->max_cpus), "max_mem_mb",
			 api_group_limit(g->max_mem_mb), "max_walltime_s",
			 api_group_limit(g->max_walltime_s), "max_jobs", api_group_limit(g->max_jobs),
			 "max_sessions", api_group_limit(g->max_sessions), "fairshare_weight",
			 g->fairshare_weight, "default_cpus", (json_int_t)g->default_cpus,
			 "default_mem_mb", (json_int_t)g->default_mem_mb, "default_walltime_s",
			 (json_int_t)g->default_walltime_s, "builtin", g->builtin, "members", (json_int_t)g->members,
			 "created_at", api_time_json(g->created_at));
	json_object_set_new(o, "resv_max_gpus", api_group_limit(g->resv_max_gpus));
	json_object_set_new(o, "resv_max_s", api_group_limit(g->resv_max_s));
	json_object_set_new(o, "resv_max_ahead_s", api_group_limit(g->resv_max_ahead_s));
	json_object_set_new(o, "resv_max_active", api_group_limit(g->resv_max_active));
	json_object_set_new(o, "resv_approval", json_boolean(g->resv_approval));
	return o;
}

/* Copy the fields present in body onto g (already validated). */
static void api_groups_apply(json_t *body, struct store_group *g)
{
	static const struct {
		const char *name;
		size_t offset;
	} limits[] = {
		{ "max_gpus", offsetof(struct store_group, max_gpus) },
		{ "max_cpus", offsetof(struct store_group, max_cpus) },
		{ "max_mem_mb", offsetof(struct store_group, max_mem_mb) },
		{ "max_walltime_s", offsetof(struct store_group, max_walltime_s) },
		{ "max_jobs", offsetof(struct store_group, max_jobs) },
		{ "max_sessions", offsetof(struct store_group, max_sessions) },
		{ "resv_max_gpus", offsetof(struct store_group, resv_max_gpus) },
		{ "resv_max_s", offsetof(struct store_group, resv_max_s) },
		{ "resv_max_ahead_s", offsetof(struct store_group, resv_max_ahead_s) },
		{ "resv_max_active", offsetof(struct store_group, resv_max_active) },
	};
	json_t *v;
	if ((v = json_object_get(body, "name"))) {
		free(g->name);
		g->name = xstrdup(json_string_value(v));
	}
	if ((v = json_object_get(body, "description"))) {
		free(g->description);
		g->description = xstrdup(json_string_value(v));
	}
	for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++)
		if ((v = json_object_get(body, limits[i].name)))
			*(int64_t *)((char *)g + limits[i].offset) =
				json_is_null(v) ? STORE_NO_LIMIT : json_integer_value(v);
	if ((v = json_object_get(body, "fairshare_weight")))
		g->fairshare_weight = json_number_value(v);
	if ((v = json_object_get(body, "default_cpus")))
		g->default_cpus = json_integer_value(v);
	if ((v = json_object_get(body, "default_mem_mb")))
		g->default_mem_mb = json_integer_value(v);
	if ((v = json_object_get(body, "default_walltime_s")))
		g->default_walltime_s = json_integer_value(v);
	if ((v = json_object_get(body, "resv_approval")))
		g->resv_approval = json_is_true(v);
}

static int api_groups_name_ok(json_t *body, struct http_resp *resp)
{
	json_t *v = json_object_get(body, "name");
	if (v && !accounts_name_valid(json_string_value(v))) {
		http_resp_error(resp, 422, "invalid", "field 'name' must match [a-z][a-z0-9_-]{0,31}");
		return -1;
	}
	return 0;
}

void api_groups_list(struct http_req *req, struct http_resp *resp)
{
	struct store_group *gs;
	size_t n;
	int rc = store_groups_list(req->store, &gs, &n);
	if (rc < 0) {
		http_resp_errno(resp, rc, "groups");
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, api_group_json(&gs[i]));
	store_groups_free(gs, n);
	http_resp_json(resp, 200, json_pack("{s:o}", "groups", arr));
}

void api_groups_create(struct http_req *req, struct http_resp *resp)
{
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	struct store_group g = {
		.max_gpus = STORE_NO_LIMIT,
		.max_cpus = STORE_NO_LIMIT,
		.max_mem_mb = STORE_NO_LIMIT,
		.max_walltime_s = STORE_NO_LIMIT,
		.max_jobs = STORE_NO_LIMIT,
		.max_sessions = STORE_NO_LIMIT,
		/* A new group books without limits until an admin sets them,
		 * like its job limits. */
		.resv_max_gpus = STORE_NO_LIMIT,
		.resv_max_s = STORE_NO_LIMIT,
		.resv_max_ahead_s = STORE_NO_LIMIT,
		.resv_max_active = STORE_NO_LIMIT,
		.fairshare_weight = 1.0,
		.default_cpus = 1,
		.default_mem_mb = 2048,
		.default_walltime_s = 3600,
	};
	if (fields_check(body, api_groups_create_fields, FIELDS_COUNT(api_groups_create_fields), resp) < 0 ||
	    api_groups_name_ok(body, resp) < 0)
		goto out;
	g.description = xstrdup("");
	api_groups_apply(body, &g);
	int rc = store_group_insert(req->store, &g);
	if (rc < 0) {
		http_resp_errno(resp, rc, "group '%s'", g.name);
		goto out;
	}
	http_resp_json(resp, 201, api_group_json(&g));
out:
	store_group_clear(&g);
	json_decref(body);
}

void api_groups_get(struct http_req *req, struct http_resp *resp)
{
	struct store_group g = { 0 };
	int rc = store_group_get(req->store, req->params[0], &g);
	if (rc < 0) {
		http_resp_errno(resp, rc, "group '%s'", req->params[0]);
		return;
	}
	http_resp_json(resp, 200, api_group_json(&g));
	store_group_clear(&g);
}

void api_groups_update(struct http_req *req, struct http_resp *resp)
{
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	struct store_group g = { 0 };
	if (fields_check(body, api_groups_update_fields, FIELDS_COUNT(api_groups_update_fields), resp) < 0 ||
	    fields_require_some(body, resp) < 0 || api_groups_name_ok(body, resp) < 0)
		goto out;
	int rc = store_group_get(req->store, req->params[0], &g);
	if (rc < 0) {
		http_resp_errno(resp, rc, "group '%s'", req->params[0]);
		goto out;
	}
	api_groups_apply(body, &g);
	if ((rc = store_group_update(req->store, &g)) < 0) {
		http_resp_errno(resp, rc, "group '%s'", g.name);
		goto out;
	}
	http_resp_json(resp, 200, api_group_json(&g));
out:
	store_group_clear(&g);
	json_decref(body);
}

void api_groups_delete(struct http_req *req, struct http_resp *resp)
{
	int rc = store_group_delete(req->store, req->params[0]);
	if (rc == -EXDEV) {
		http_resp_error(resp, 409, "conflict",
				"group '%s' still has members; move them to another group first",
				req->params[0]);
		return;
	}
	if (rc < 0) {
		http_resp_errno(resp, rc, "group '%s'", req->params[0]);
		return;
	}
	http_resp_empty(resp, 204);
}
