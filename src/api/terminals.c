/*
 * api/terminals — the web terminal as a resource: open, list and end
 * your terminals, and attach to one over a WebSocket (docs/terminal.md).
 * The shells, their PTYs and sockets live in server/terminal.c; the
 * handshake is server/ws.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/fields.h"
#include "lib/xalloc.h"
#include "server/server.h"
#include "server/terminal.h"
#include "server/termctl.h"
#include "server/ws.h"
#include "store/groups.h"
#include "store/users.h"

static const struct fields_spec api_terminals_fields[] = {
    {"cols", FIELDS_INT, false, 1, TERMCTL_MAX_DIM},
    {"rows", FIELDS_INT, false, 1, TERMCTL_MAX_DIM},
};

static json_t *api_terminal_json(const struct terminal_info *t)
{
	return json_pack("{s:s,s:i,s:i,s:i,s:s,s:o,s:o}", "id", t->id, "cols", t->cols, "rows",
			 t->rows, "clients", t->clients, "shell", t->shell, "created_at",
			 api_time_json(t->created_at), "last_active_at",
			 api_time_json(t->last_active_at));
}

/* The limit of the user's primary group (STORE_NO_LIMIT: none) and its
 * name; 0, or -1 after answering. */
static int api_terminals_limit(struct http_req *req, struct http_resp *resp,
			       const struct store_user *u, int64_t *max, char **group)
{
	*max = STORE_NO_LIMIT;
	*group = NULL;
	if (u->ngroups == 0)
		return 0;
	struct store_group g;
	int rc = store_group_get(req->store, u->groups[0], &g);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0) {
		http_resp_errno(resp, rc, "group '%s'", u->groups[0]);
		return -1;
	}
	*max = g.max_sessions;
	*group = g.name;
	g.name = NULL;
	store_group_clear(&g);
	return 0;
}

void api_terminals_create(struct http_req *req, struct http_resp *resp)
{
	json_t *body = NULL;
	int cols = TERMINAL_DEFAULT_COLS, rows = TERMINAL_DEFAULT_ROWS;
	if (req->body_len > 0) {
		if (!(body = http_req_json(req, resp)))
			return;
		if (fields_check(body, api_terminals_fields, FIELDS_COUNT(api_terminals_fields),
				 resp) < 0)
			goto out;
		json_t *v;
		if ((v = json_object_get(body, "cols")))
			cols = (int)json_integer_value(v);
		if ((v = json_object_get(body, "rows")))
			rows = (int)json_integer_value(v);
	}
	struct store_user u = {0};
	int rc = store_user_get_by_id(req->store, req->who.user_id, &u);
	if (rc < 0) {
		http_resp_errno(resp, rc, "user");
		goto out;
	}
	int64_t max;
	char *group;
	if (api_terminals_limit(req, resp, &u, &max, &group) < 0) {
		store_user_clear(&u);
		goto out;
	}
	struct terminal_owner owner = {req->who.user_id, u.unix_user, (uid_t)u.uid, (gid_t)u.gid,
				       u.home};
	struct terminal_info info;
	char *cause = NULL;
	rc = terminal_create(req->srv, &owner, max, cols, rows, &info, &cause);
	if (rc == -EUSERS)
		http_resp_error(
		    resp, 429, "too_many_terminals",
		    "you have %lld open terminals, the most your group '%s' allows; end one "
		    "first",
		    (long long)max, group ? group : "?");
	else if (rc == -ESHUTDOWN)
		http_resp_error(resp, 503, "busy", "the server is shutting down");
	else if (rc < 0)
		http_resp_error(resp, 500, "internal", "cannot open a terminal: %s", cause);
	else
		http_resp_json(resp, 201, api_terminal_json(&info));
	free(cause);
	free(group);
	store_user_clear(&u);
out:
	json_decref(body);
}

void api_terminals_list(struct http_req *req, struct http_resp *resp)
{
	struct terminal_info *all;
	size_t n;
	terminal_list(req->srv, req->who.user_id, &all, &n);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, api_terminal_json(&all[i]));
	free(all);
	http_resp_json(resp, 200, json_pack("{s:o}", "terminals", arr));
}

void api_terminals_get(struct http_req *req, struct http_resp *resp)
{
	struct terminal_info info;
	if (terminal_get(req->srv, req->who.user_id, req->params[0], &info) < 0) {
		http_resp_error(resp, 404, "not_found", "terminal %.64s not found", req->params[0]);
		return;
	}
	http_resp_json(resp, 200, api_terminal_json(&info));
}

void api_terminals_delete(struct http_req *req, struct http_resp *resp)
{
	if (terminal_end(req->srv, req->who.user_id, req->params[0]) < 0) {
		http_resp_error(resp, 404, "not_found", "terminal %.64s not found", req->params[0]);
		return;
	}
	http_resp_empty(resp, 204);
}

/* What the upgrade callback needs, from the handler to the socket. */
struct api_terminal_attach {
	struct server *srv;
	int64_t user_id;
	char id[TERMINAL_ID_LEN + 1];
};

static void api_terminals_upgraded(void *ctx, int fd, const char *extra, size_t extra_len,
				   struct http_upgrade *up)
{
	struct api_terminal_attach *a = ctx;
	terminal_attach(a->srv, a->user_id, a->id, fd, extra, extra_len, up);
	free(a);
}

void api_terminals_ws(struct http_req *req, struct http_resp *resp)
{
	struct terminal_info info;
	/* Someone else's terminal is as unknown as a missing one. */
	if (terminal_get(req->srv, req->who.user_id, req->params[0], &info) < 0) {
		http_resp_error(resp, 404, "not_found", "terminal %.64s not found", req->params[0]);
		return;
	}
	if (ws_handshake(req, resp) < 0)
		return;
	struct api_terminal_attach *a = xcalloc(1, sizeof *a);
	a->srv = req->srv;
	a->user_id = req->who.user_id;
	memcpy(a->id, info.id, sizeof a->id);
	http_resp_upgrade(resp, api_terminals_upgraded, free, a);
}
