/*
 * api/profiles — the session profiles a user may launch, and their
 * administration (docs/sessions.md). What a valid profile is, the
 * built-in ones and the placeholders are server/profiles.c's; this file
 * decides who sees what: a user sees the profiles their groups may use,
 * whose program is installed, that fit the machine and the limits of
 * their primary group (so the launch form offers nothing that would be
 * refused), as they would get them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/jobspec.h"
#include "lib/xalloc.h"
#include "server/profiles.h"
#include "server/server.h"
#include "store/db.h"
#include "store/groups.h"
#include "store/sessions.h"
#include "store/users.h"

int api_profiles_fit(struct store_profile *p, const struct inventory *inv,
		     const struct store_group *g, char **why)
{
	if (p->cpus > inv->cpus)
		p->cpus = inv->cpus;
	if (p->mem_mb > inv->mem_mb)
		p->mem_mb = inv->mem_mb;
	if (g && g->max_walltime_s >= 0 && p->max_lifetime_s > g->max_walltime_s)
		p->max_lifetime_s = g->max_walltime_s;
	if (p->lifetime_s > p->max_lifetime_s)
		p->lifetime_s = p->max_lifetime_s;
	struct jobspec_resources r = { .cpus = p->cpus, .mem_mb = p->mem_mb, .gpus = p->gpus,
				       .walltime_s = p->lifetime_s };
	struct jobspec_capacity cap = {
		.node_cpus = inv->cpus, .node_mem_mb = inv->mem_mb, .node_gpus = inv->ngpus,
		.max_cpus = g ? g->max_cpus : -1, .max_mem_mb = g ? g->max_mem_mb : -1,
		.max_gpus = g ? g->max_gpus : -1, .max_walltime_s = g ? g->max_walltime_s : -1,
	};
	char *problem = jobspec_check(&r, &cap, g ? g->name : "-");
	if (problem) {
		*why = xasprintf("profile '%s' %s", p->name, problem);
		free(problem);
		return -1;
	}
	return 0;
}

/* Whether the machine can run it at all, for the admins' listing. */
static bool api_profiles_runnable(const struct store_profile *p, const struct inventory *inv)
{
	return profiles_available(p) && p->gpus <= inv->ngpus;
}

void api_profiles_list(struct http_req *req, struct http_resp *resp)
{
	const char *all = http_req_query(req, "all");
	bool details = all && strcmp(all, "1") == 0;
	if (details && !req->who.admin) {
		http_resp_error(resp, 403, "forbidden", "only admins see every profile (?all=1)");
		return;
	}
	struct store_user u = { 0 };
	struct store_group g = { 0 };
	struct store_profile *ps = NULL;
	size_t n = 0;
	int rc = store_user_get_by_id(req->store, req->who.user_id, &u);
	bool have_group = false;
	if (rc == 0 && u.ngroups > 0) {
		rc = store_group_get(req->store, u.groups[0], &g);
		have_group = rc == 0;
		if (rc == -ENOENT)
			rc = 0;
	}
	if (rc == 0)
		rc = store_profiles_list(req->store, &ps, &n);
	if (rc < 0) {
		http_resp_errno(resp, rc, "profiles");
		goto out;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		struct store_profile *p = &ps[i];
		if (details) {
			json_array_append_new(arr, profiles_json(p, true, api_profiles_runnable(p, &req->srv->inv)));
			continue;
		}
		char *why = NULL;
		if (!profiles_allowed(p, u.groups, u.ngroups) || !profiles_available(p) ||
		    !have_group || api_profiles_fit(p, &req->srv->inv, &g, &why) < 0) {
			free(why);
			continue;
		}
		json_array_append_new(arr, profiles_json(p, false, true));
	}
	http_resp_json(resp, 200, json_pack("{s:o}", "profiles", arr));
out:
	store_profiles_free(ps, n);
	store_group_clear(&g);
	store_user_clear(&u);
}

/* Answer with the stored profile (details, as admins see it). */
static void api_profiles_answer(struct http_req *req, struct http_resp *resp, int status,
				const char *name)
{
	struct store_profile p = { 0 };
	int rc = store_profile_get(req->store, name, &p);
	if (rc < 0)
		http_resp_errno(resp, rc, "profile '%s'", name);
	else
		http_resp_json(resp, status,
			       profiles_json(&p, true, api_profiles_runnable(&p, &req->srv->inv)));
	store_profile_clear(&p);
}

/* Why a stored profile may not be changed through the API, or NULL. */
static const char *api_profiles_locked(const struct store_profile *old)
{
	if (old->source && strcmp(old->source, "config") == 0)
		return "is defined in the config file, which is read at every start; change it there";
	return NULL;
}

/* Check body as profile `name` (from the path, or the body) and store it
 * with source; answers. */
static void api_profiles_write(struct http_req *req, struct http_resp *resp, json_t *body,
			       bool create)
{
	struct store_profile p = { 0 }, old = { 0 };
	char *why = NULL;
	if (!create) {
		json_t *name = json_object_get(body, "name");
		if (name && !(json_is_string(name) &&
			      strcmp(json_string_value(name), req->params[0]) == 0)) {
			http_resp_error(resp, 422, "invalid",
					"field 'name' must be the profile's name from the path");
			goto out;
		}
		json_object_set_new(body, "name", json_string(req->params[0]));
	}
	if (profiles_from_json(body, req->store, &p, &why) < 0) {
		http_resp_error(resp, 422, "invalid", "%s", why);
		goto out;
	}
	int rc = store_begin(req->store);
	if (rc < 0) {
		http_resp_errno(resp, rc, "profile '%s'", p.name);
		goto out;
	}
	rc = store_profile_get(req->store, p.name, &old);
	bool exists = rc == 0;
	const char *locked = exists ? api_profiles_locked(&old) : NULL;
	if (rc == -ENOENT)
		rc = 0;
	if (rc == 0 && create && exists) {
		store_rollback(req->store);
		http_resp_error(resp, 409, "conflict",
				"profile '%s' already exists; PUT /api/v1/profiles/%s replaces it",
				p.name, p.name);
		goto out;
	}
	if (rc == 0 && locked) {
		store_rollback(req->store);
		http_resp_error(resp, 409, "conflict", "profile '%s' %s", p.name, locked);
		goto out;
	}
	/* A built-in profile stays one when an admin edits it: it is then
	 * present, so the next start does not seed it again. */
	p.source = xstrdup(exists && strcmp(old.source, "builtin") == 0 ? "builtin" : "api");
	if (rc == 0)
		rc = store_profile_put(req->store, &p);
	if (rc < 0 || (rc = store_commit(req->store)) < 0) {
		store_rollback(req->store);
		http_resp_errno(resp, rc, "profile '%s'", p.name);
		goto out;
	}
	api_profiles_answer(req, resp, exists ? 200 : 201, p.name);
out:
	free(why);
	store_profile_clear(&p);
	store_profile_clear(&old);
}

void api_profiles_create(struct http_req *req, struct http_resp *resp)
{
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	api_profiles_write(req, resp, body, true);
	json_decref(body);
}

void api_profiles_put(struct http_req *req, struct http_resp *resp)
{
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	api_profiles_write(req, resp, body, false);
	json_decref(body);
}

void api_profiles_delete(struct http_req *req, struct http_resp *resp)
{
	struct store_profile old = { 0 };
	int rc = store_profile_get(req->store, req->params[0], &old);
	const char *locked = rc == 0 ? api_profiles_locked(&old) : NULL;
	if (rc == 0 && !locked && strcmp(old.source, "builtin") == 0)
		locked = "is built in and would come back at the next start; give it a 'groups' "
			 "list to limit who may use it instead";
	if (rc < 0)
		http_resp_errno(resp, rc, "profile '%s'", req->params[0]);
	else if (locked)
		http_resp_error(resp, 409, "conflict", "profile '%s' %s", old.name, locked);
	else if ((rc = store_profile_delete(req->store, old.name)) < 0)
		http_resp_errno(resp, rc, "profile '%s'", old.name);
	else
		http_resp_empty(resp, 204);
	store_profile_clear(&old);
}
