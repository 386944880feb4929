/*
 * api/session — login, logout and "who am I".
 *
 * Login is where an attacker guesses passwords, so it is careful: failures
 * are counted per username and per client address (429 once either is
 * over its limit, checked before any hash is computed), and an unknown
 * user costs the same argon2id verification as a known one, so timing
 * does not tell whether a username exists.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/fields.h"
#include "identity/accounts.h"
#include "identity/password.h"
#include "identity/ratelimit.h"
#include "lib/log.h"
#include "server/auth.h"
#include "server/server.h"
#include "store/credentials.h"
#include "store/db.h"
#include "store/groups.h"
#include "store/users.h"

static const struct fields_spec api_login_fields[] = {
	{ "username", FIELDS_STRING, true, 1, 64 },
	{ "password", FIELDS_STRING, true, 1, PASSWORD_MAX_LEN },
};

static json_t *api_session_groups(const struct store_user *u)
{
	json_t *groups = json_array();
	for (size_t i = 0; i < u->ngroups; i++)
		json_array_append_new(groups, json_string(u->groups[i]));
	return groups;
}

static int api_login_throttled(struct http_req *req, struct http_resp *resp, const char *username)
{
	int64_t now = time(NULL);
	int wait_user = ratelimit_wait(req->srv->login_user_limit, username, now);
	int wait_addr = ratelimit_wait(req->srv->login_addr_limit, req->client_addr, now);
	int wait = wait_user > wait_addr ? wait_user : wait_addr;
	if (wait == 0)
		return 0;
	char secs[24];
	snprintf(secs, sizeof secs, "%d", wait);
	http_resp_header(resp, "Retry-After", secs);
	http_resp_error(resp, 429, "too_many_attempts",
			"too many failed logins; try again in %d seconds", wait);
	return -1;
}

void api_login(struct http_req *req, struct http_resp *resp)
{
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	struct store_user u = { 0 };
	if (fields_check(body, api_login_fields, FIELDS_COUNT(api_login_fields), resp) < 0)
		goto out;
	const char *username = json_string_value(json_object_get(body, "username"));
	const char *password = json_string_value(json_object_get(body, "password"));
	if (api_login_throttled(req, resp, username) < 0)
		goto out;

	int rc = store_user_get(req->store, username, &u);
	if (rc < 0 && rc != -ENOENT) {
		http_resp_errno(resp, rc, "user lookup");
		goto out;
	}
	/* NULL hash (unknown user, or no password set) verifies against the
	 * dummy hash: same cost, always "no". */
	int ok = password_verify(rc == 0 ? u.password_hash : NULL, password);
	if (ok < 0) {
		http_resp_error(resp, 503, "busy", "too many logins at once; try again");
		goto out;
	}
	int64_t now = time(NULL);
	if (!ok) {
		ratelimit_fail(req->srv->login_user_limit, username, now);
		ratelimit_fail(req->srv->login_addr_limit, req->client_addr, now);
		log_info("auth: failed login for '%.64s' from %s", username, req->client_addr);
		http_resp_error(resp, 401, "invalid_credentials", "wrong username or password");
		goto out;
	}
	ratelimit_clear(req->srv->login_user_limit, username);
	if (u.disabled) {
		http_resp_error(resp, 403, "account_disabled", "account '%s' is disabled", u.username);
		goto out;
	}
	char csrf[SECRET_B64_LEN + 1];
	if ((rc = auth_session_start(req, resp, u.id, csrf)) < 0) {
		http_resp_errno(resp, rc, "session");
		goto out;
	}
	memcpy(req->who.username, u.username, strlen(u.username) + 1);
	req->via = HTTP_AUTH_COOKIE;
	http_resp_json(resp, 200,
		       json_pack("{s:s,s:s,s:b,s:o,s:s}", "username", u.username, "display_name",
				 u.display_name, "admin", u.admin, "groups", api_session_groups(&u),
				 "csrf_token", csrf));
out:
	store_user_clear(&u);
	json_decref(body);
}

void api_logout(struct http_req *req, struct http_resp *resp)
{
	int rc = auth_session_end(req, resp);
	if (rc < 0) {
		http_resp_errno(resp, rc, "session");
		return;
	}
	http_resp_empty(resp, 204);
}

static json_t *api_session_limit(int64_t v)
{
	return v < 0 ? json_null() : json_integer(v);
}

/* What the user's jobs may ask: the primary group's limits and defaults
 * (null when the user has no group), so a form can offer only what the
 * server would accept. */
static json_t *api_session_limits(struct http_req *req, const struct store_user *u)
{
	struct store_group g = { 0 };
	if (u->ngroups == 0 || store_group_get(req->store, u->groups[0], &g) < 0)
		return json_null();
	json_t *o = json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:I,s:I,s:I}", "group", g.name, "max_gpus",
			      api_session_limit(g.max_gpus), "max_cpus", api_session_limit(g.max_cpus),
			      "max_mem_mb", api_session_limit(g.max_mem_mb), "max_walltime_s",
			      api_session_limit(g.max_walltime_s), "max_jobs",
			      api_session_limit(g.max_jobs), "default_cpus", (json_int_t)g.default_cpus,
			      "default_mem_mb", (json_int_t)g.default_mem_mb, "default_walltime_s",
			      (json_int_t)g.default_walltime_s);
	store_group_clear(&g);
	return o;
}

void api_me(struct http_req *req, struct http_resp *resp)
{
	struct store_user u = { 0 };
	int rc = store_user_get_by_id(req->store, req->who.user_id, &u);
	if (rc < 0) {
		http_resp_errno(resp, rc, "user");
		return;
	}
	json_t *j = json_pack("{s:s,s:s,s:s,s:b,s:o,s:s,s:I,s:s,s:s}", "username", u.username,
			      "display_name", u.display_name, "email", u.email, "admin", u.admin,
			      "groups", api_session_groups(&u), "unix_user", u.unix_user, "uid",
			      (json_int_t)u.uid, "home", u.home, "auth",
			      req->via == HTTP_AUTH_COOKIE ? "cookie" : "token");
	json_object_set_new(j, "limits", api_session_limits(req, &u));
	if (req->via == HTTP_AUTH_COOKIE)
		json_object_set_new(j, "csrf_token", json_string(req->who.csrf));
	else /* lets a client revoke exactly the token it is using */
		json_object_set_new(j, "token_id", json_integer(req->who.cred_id));
	store_user_clear(&u);
	http_resp_json(resp, 200, j);
}

static const struct fields_spec api_password_fields[] = {
	{ "current_password", FIELDS_STRING, true, 0, PASSWORD_MAX_LEN },
	{ "new_password", FIELDS_STRING, true, 1, PASSWORD_MAX_LEN },
};

/* POST /api/v1/me/password: a user changes their own password. The
 * current one must be given (a stolen session alone cannot lock the owner
 * out) and wrong guesses count like failed logins. Every other browser
 * session of the user ends. */
void api_me_password(struct http_req *req, struct http_resp *resp)
{
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	struct store_user u = { 0 };
	char *hash = NULL;
	if (fields_check(body, api_password_fields, FIELDS_COUNT(api_password_fields), resp) < 0)
		goto out;
	const char *current = json_string_value(json_object_get(body, "current_password"));
	const char *fresh = json_string_value(json_object_get(body, "new_password"));
	const char *problem = accounts_password_problem(fresh);
	if (problem) {
		http_resp_error(resp, 422, "invalid", "new_password: %s", problem);
		goto out;
	}
	if (api_login_throttled(req, resp, req->who.username) < 0)
		goto out;
	int rc = store_user_get_by_id(req->store, req->who.user_id, &u);
	if (rc < 0) {
		http_resp_errno(resp, rc, "user");
		goto out;
	}
	/* A user without a password (token-only) sets a first one freely:
	 * holding a valid credential is proof enough then. */
	int ok = u.password_hash ? password_verify(u.password_hash, current) : 1;
	if (ok < 0) {
		http_resp_error(resp, 503, "busy", "too many password checks at once; try again");
		goto out;
	}
	if (!ok) {
		ratelimit_fail(req->srv->login_user_limit, u.username, time(NULL));
		http_resp_error(resp, 403, "wrong_password", "the current password is wrong");
		goto out;
	}
	if ((rc = password_hash(fresh, &hash)) < 0) {
		http_resp_errno(resp, rc, "password");
		goto out;
	}
	free(u.password_hash);
	u.password_hash = hash;
	hash = NULL;
	int64_t keep = req->via == HTTP_AUTH_COOKIE ? req->who.cred_id : -1;
	if ((rc = store_begin(req->store)) < 0 || (rc = store_user_update(req->store, &u)) < 0 ||
	    (rc = store_websessions_delete_user(req->store, u.id, keep)) < 0 ||
	    (rc = store_commit(req->store)) < 0) {
		store_rollback(req->store);
		http_resp_errno(resp, rc, "user");
		goto out;
	}
	log_info("auth: %s changed their password", u.username);
	http_resp_empty(resp, 204);
out:
	free(hash);
	store_user_clear(&u);
	json_decref(body);
}
