/*
 * api/users — accounts, for administrators. Creation goes through
 * identity/accounts.c, which also makes the Unix account in multi-user
 * mode; here are the checks that only make sense over the API (an admin
 * may not disable, demote or delete themself: that is how a platform
 * ends up with no administrator).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/fields.h"
#include "identity/accounts.h"
#include "identity/password.h"
#include "lib/xalloc.h"
#include "server/server.h"
#include "store/credentials.h"
#include "store/db.h"
#include "store/groups.h"
#include "store/users.h"

enum { API_USERS_MAX_GROUPS = 16 };

static const struct fields_spec api_users_create_fields[] = {
	{ "username", FIELDS_STRING, true, 1, 32 },
	{ "password", FIELDS_STRING, false, 1, PASSWORD_MAX_LEN },
	{ "display_name", FIELDS_STRING, false, 0, 128 },
	{ "email", FIELDS_STRING, false, 0, 254 },
	{ "admin", FIELDS_BOOL, false, 0, 0 },
	{ "groups", FIELDS_STRINGS, false, 1, API_USERS_MAX_GROUPS },
	{ "unix_user", FIELDS_STRING, false, 1, 32 },
};

static const struct fields_spec api_users_update_fields[] = {
	{ "password", FIELDS_STRING, false, 1, PASSWORD_MAX_LEN },
	{ "display_name", FIELDS_STRING, false, 0, 128 },
	{ "email", FIELDS_STRING, false, 0, 254 },
	{ "admin", FIELDS_BOOL, false, 0, 0 },
	{ "disabled", FIELDS_BOOL, false, 0, 0 },
	{ "groups", FIELDS_STRINGS, false, 1, API_USERS_MAX_GROUPS },
};

static json_t *api_user_json(const struct store_user *u)
{
	json_t *groups = json_array();
	for (size_t i = 0; i < u->ngroups; i++)
		json_array_append_new(groups, json_string(u->groups[i]));
	return json_pack("{s:s,s:s,s:s,s:b,s:b,s:o,s:s,s:I,s:I,s:s,s:b,s:o}", "username", u->username,
			 "display_name", u->display_name, "email", u->email, "admin", u->admin,
			 "disabled", u->disabled, "groups", groups, "unix_user", u->unix_user, "uid",
			 (json_int_t)u->uid, "gid", (json_int_t)u->gid, "home", u->home,
			 "password_set", u->password_hash != NULL, "created_at",
			 api_time_json(u->created_at));
}

void api_users_list(struct http_req *req, struct http_resp *resp)
{
	struct store_user *us;
	size_t n;
	int rc = store_users_list(req->store, &us, &n);
	if (rc < 0) {
		http_resp_errno(resp, rc, "users");
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, api_user_json(&us[i]));
	store_users_free(us, n);
	http_resp_json(resp, 200, json_pack("{s:o}", "users", arr));
}

/* Borrow the strings of a JSON array of strings; the caller frees the
 * returned array (not the strings). */
static const char **api_users_group_names(json_t *arr, size_t *n)
{
	*n = arr ? json_array_size(arr) : 0;
	const char **names = xcalloc(*n ? *n : 1, sizeof *names);
	for (size_t i = 0; i < *n; i++)
		names[i] = json_string_value(json_array_get(arr, i));
	return names;
}

static const char *api_users_opt_str(json_t *body, const char *key)
{
	return json_string_value(json_object_get(body, key));
}

void api_users_create(struct http_req *req, struct http_resp *resp)
{
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	if (fields_check(body, api_users_create_fields, FIELDS_COUNT(api_users_create_fields), resp) < 0) {
		json_decref(body);
		return;
	}
	size_t ngroups;
	const char **groups = api_users_group_names(json_object_get(body, "groups"), &ngroups);
	struct accounts_new_user in = {
		.username = api_users_opt_str(body, "username"),
		.display_name = api_users_opt_str(body, "display_name"),
		.email = api_users_opt_str(body, "email"),
		.admin = json_is_true(json_object_get(body, "admin")),
		.password = api_users_opt_str(body, "password"),
		.unix_user = api_users_opt_str(body, "unix_user"),
		.groups = groups,
		.ngroups = ngroups,
	};
	struct store_user u;
	char *cause = NULL;
	int rc = accounts_user_create(req->store, req->srv->cfg, &in, &u, &cause);
	if (rc == 0) {
		http_resp_json(resp, 201, api_user_json(&u));
		store_user_clear(&u);
	} else if (rc == -EINVAL || rc == -ENOENT || rc == -EPERM) {
		http_resp_error(resp, 422, "invalid", "%s", cause);
	} else if (rc == -EEXIST) {
		http_resp_error(resp, 409, "conflict", "%s", cause);
	} else if (rc == -EBUSY) {
		http_resp_error(resp, 503, "busy", "%s", cause ? cause : "the server is busy");
	} else {
		http_resp_error(resp, 500, "internal", "cannot create user: %s",
				cause ? cause : "store error");
	}
	free(cause);
	free(groups);
	json_decref(body);
}

void api_users_get(struct http_req *req, struct http_resp *resp)
{
	struct store_user u = { 0 };
	int rc = store_user_get(req->store, req->params[0], &u);
	if (rc < 0) {
		http_resp_errno(resp, rc, "user '%s'", req->params[0]);
		return;
	}
	http_resp_json(resp, 200, api_user_json(&u));
	store_user_clear(&u);
}

/* Apply body to u; 0, or -1 after answering. *logout_all is set when the
 * change must end the user's browser sessions. */
static int api_users_apply(struct http_req *req, struct http_resp *resp, json_t *body,
			   struct store_user *u, bool *logout_all)
{
	bool self = u->id == req->who.user_id;
	json_t *v;
	if ((v = json_object_get(body, "admin")) && self && !json_is_true(v)) {
		http_resp_error(resp, 409, "conflict", "you cannot remove your own admin rights");
		return -1;
	}
	if ((v = json_object_get(body, "disabled")) && self && json_is_true(v)) {
		http_resp_error(resp, 409, "conflict", "you cannot disable your own account");
		return -1;
	}
	if ((v = json_object_get(body, "groups"))) {
		size_t n;
		const char **names = api_users_group_names(v, &n);
		for (size_t i = 0; i < n; i++) {
			struct store_group g = { 0 };
			int rc = store_group_get(req->store, names[i], &g);
			store_group_clear(&g);
			for (size_t j = 0; rc == 0 && j < i; j++)
				if (strcmp(names[i], names[j]) == 0)
					rc = -EINVAL;
			if (rc < 0) {
				if (rc == -ENOENT || rc == -EINVAL)
					http_resp_error(resp, 422, "invalid",
							rc == -ENOENT ? "group '%s' does not exist"
								      : "group '%s' is listed twice",
							names[i]);
				else
					http_resp_errno(resp, rc, "group '%s'", names[i]);
				free(names);
				return -1;
			}
		}
		store_user_set_groups(u, (char *const *)names, n);
		free(names);
	}
	if ((v = json_object_get(body, "password"))) {
		const char *problem = accounts_password_problem(json_string_value(v));
		if (problem) {
			http_resp_error(resp, 422, "invalid", "%s", problem);
			return -1;
		}
		char *hash;
		int rc = password_hash(json_string_value(v), &hash);
		if (rc < 0) {
			http_resp_errno(resp, rc, "password");
			return -1;
		}
		free(u->password_hash);
		u->password_hash = hash;
		*logout_all = true;
	}
	if ((v = json_object_get(body, "display_name"))) {
		free(u->display_name);
		u->display_name = xstrdup(json_string_value(v));
	}
	if ((v = json_object_get(body, "email"))) {
		free(u->email);
		u->email = xstrdup(json_string_value(v));
	}
	if ((v = json_object_get(body, "admin")))
		u->admin = json_is_true(v);
	if ((v = json_object_get(body, "disabled"))) {
		u->disabled = json_is_true(v);
		*logout_all |= u->disabled;
	}
	return 0;
}

void api_users_update(struct http_req *req, struct http_resp *resp)
{
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	struct store_user u = { 0 };
	bool logout_all = false;
	if (fields_check(body, api_users_update_fields, FIELDS_COUNT(api_users_update_fields), resp) < 0 ||
	    fields_require_some(body, resp) < 0)
		goto out;
	int rc = store_user_get(req->store, req->params[0], &u);
	if (rc < 0) {
		http_resp_errno(resp, rc, "user '%s'", req->params[0]);
		goto out;
	}
	if (api_users_apply(req, resp, body, &u, &logout_all) < 0)
		goto out;
	if ((rc = store_begin(req->store)) < 0 || (rc = store_user_update(req->store, &u)) < 0 ||
	    (logout_all && (rc = store_websessions_delete_user(req->store, u.id, -1)) < 0) ||
	    (rc = store_commit(req->store)) < 0) {
		store_rollback(req->store);
		http_resp_errno(resp, rc, "user '%s'", u.username);
		goto out;
	}
	http_resp_json(resp, 200, api_user_json(&u));
out:
	store_user_clear(&u);
	json_decref(body);
}

void api_users_delete(struct http_req *req, struct http_resp *resp)
{
	if (strcmp(req->params[0], req->who.username) == 0) {
		http_resp_error(resp, 409, "conflict", "you cannot delete your own account");
		return;
	}
	int rc = store_user_delete(req->store, req->params[0]);
	if (rc < 0) {
		http_resp_errno(resp, rc, "user '%s'", req->params[0]);
		return;
	}
	http_resp_empty(resp, 204);
}
