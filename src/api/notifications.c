/*
 * api/notifications — what kaon tells a user in the page (the bell):
 * reservations approved, rejected or released unused. Each user sees only
 * their own; reading marks them read.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/fields.h"
#include "lib/xalloc.h"
#include "store/reservations.h"

enum { API_NOTIFICATIONS_DEFAULT = 50, API_NOTIFICATIONS_MAX = 500, API_NOTIFICATIONS_IDS = 1000 };

static const struct fields_spec api_notifications_read_fields[] = {
    {"ids", FIELDS_INTS, false, 0, API_NOTIFICATIONS_IDS},
};

void api_notifications_list(struct http_req *req, struct http_resp *resp)
{
	const char *q = http_req_query(req, "limit");
	long limit = API_NOTIFICATIONS_DEFAULT;
	if (q) {
		char *end;
		limit = strtol(q, &end, 10);
		if (end == q || *end || limit < 1 || limit > API_NOTIFICATIONS_MAX) {
			http_resp_error(resp, 400, "invalid", "'limit' must be from 1 to %d",
					API_NOTIFICATIONS_MAX);
			return;
		}
	}
	struct store_notification *ns;
	size_t n;
	int64_t unread = 0;
	int rc =
	    store_notifications_list(req->store, req->who.user_id, (int)limit, &ns, &n, &unread);
	if (rc < 0) {
		http_resp_errno(resp, rc, "notifications");
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(
		    arr, json_pack("{s:I,s:s,s:s,s:o,s:o,s:b}", "id", (json_int_t)ns[i].id, "kind",
				   ns[i].kind, "text", ns[i].text, "link",
				   ns[i].link ? json_string(ns[i].link) : json_null(), "created_at",
				   api_time_json(ns[i].created_at), "read", ns[i].read_at >= 0));
	store_notifications_free(ns, n);
	http_resp_json(resp, 200,
		       json_pack("{s:o,s:I}", "notifications", arr, "unread", (json_int_t)unread));
}

/* {"ids": [...]} marks those read; {} (or no body) marks all. */
void api_notifications_read(struct http_req *req, struct http_resp *resp)
{
	json_t *body = req->body_len == 0 ? json_object() : http_req_json(req, resp);
	if (!body)
		return;
	int64_t *ids = NULL;
	if (fields_check(body, api_notifications_read_fields,
			 FIELDS_COUNT(api_notifications_read_fields), resp) < 0)
		goto out;
	json_t *v = json_object_get(body, "ids");
	size_t n = v ? json_array_size(v) : 0;
	if (v) {
		ids = xcalloc(n + 1, sizeof *ids);
		for (size_t i = 0; i < n; i++)
			ids[i] = json_integer_value(json_array_get(v, i));
	}
	int rc = store_notifications_read(req->store, req->who.user_id, ids, n, time(NULL));
	if (rc < 0) {
		http_resp_errno(resp, rc, "notifications");
		goto out;
	}
	http_resp_empty(resp, 204);
out:
	free(ids);
	json_decref(body);
}
