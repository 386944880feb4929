/*
 * api/tokens — a user's own API tokens. The secret is in the answer to
 * POST only; the store keeps its hash (see identity/secret.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/fields.h"
#include "identity/accounts.h"
#include "store/credentials.h"

/* 60 s to 366 days: shorter is useless, longer should be "never". */
static const struct fields_spec api_tokens_fields[] = {
	{ "name", FIELDS_STRING, true, 1, 64 },
	{ "expires_in_s", FIELDS_INT, false, 60, 366 * 86400 },
};

static json_t *api_token_json(const struct store_token *t)
{
	return json_pack("{s:I,s:s,s:s,s:o,s:o,s:o}", "id", (json_int_t)t->id, "name", t->name,
			 "prefix", t->prefix, "created_at", api_time_json(t->created_at), "expires_at",
			 api_time_json(t->expires_at), "last_used_at", api_time_json(t->last_used_at));
}

void api_tokens_list(struct http_req *req, struct http_resp *resp)
{
	struct store_token *ts;
	size_t n;
	int rc = store_tokens_list(req->store, req->who.user_id, &ts, &n);
	if (rc < 0) {
		http_resp_errno(resp, rc, "tokens");
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, api_token_json(&ts[i]));
	store_tokens_free(ts, n);
	http_resp_json(resp, 200, json_pack("{s:o}", "tokens", arr));
}

void api_tokens_create(struct http_req *req, struct http_resp *resp)
{
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	if (fields_check(body, api_tokens_fields, FIELDS_COUNT(api_tokens_fields), resp) < 0)
		goto out;
	const char *name = json_string_value(json_object_get(body, "name"));
	json_t *exp = json_object_get(body, "expires_in_s");
	char *secret = NULL;
	struct store_token t;
	int rc = accounts_token_issue(req->store, req->who.user_id, name,
				      exp ? json_integer_value(exp) : 0, &secret, &t);
	if (rc < 0) {
		http_resp_errno(resp, rc, "token");
		goto out;
	}
	json_t *j = api_token_json(&t);
	json_object_set_new(j, "token", json_string(secret));
	memset(secret, 0, strlen(secret));
	free(secret);
	free(t.name);
	free(t.prefix);
	http_resp_json(resp, 201, j);
out:
	json_decref(body);
}

void api_tokens_delete(struct http_req *req, struct http_resp *resp)
{
	char *end;
	long long id = strtoll(req->params[0], &end, 10);
	if (*end || id <= 0) {
		http_resp_error(resp, 404, "not_found", "token %s not found", req->params[0]);
		return;
	}
	int rc = store_token_delete(req->store, req->who.user_id, id);
	if (rc < 0) {
		http_resp_errno(resp, rc, "token %s", req->params[0]);
		return;
	}
	http_resp_empty(resp, 204);
}
