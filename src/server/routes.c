/* server/routes — the route table and its matcher (see routes.h). */
#include "server/routes.h"

#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/deepaas.h"
#include "lib/xalloc.h"
#include "server/proxy.h"
#include "server/static.h"

const struct route routes[] = {
	{ "POST", "/api/v1/login", api_login, ROUTE_PUBLIC, 0 },
	{ "POST", "/api/v1/logout", api_logout, ROUTE_USER, 0 },
	{ "GET", "/api/v1/me", api_me, ROUTE_USER, 0 },
	{ "POST", "/api/v1/me/password", api_me_password, ROUTE_USER, 0 },
	{ "GET", "/api/v1/openapi.json", api_openapi, ROUTE_PUBLIC, 0 },
	{ "GET", "/api/v1/tokens", api_tokens_list, ROUTE_USER, 0 },
	{ "POST", "/api/v1/tokens", api_tokens_create, ROUTE_USER, 0 },
	{ "DELETE", "/api/v1/tokens/{id}", api_tokens_delete, ROUTE_USER, 0 },
	{ "GET", "/api/v1/users", api_users_list, ROUTE_ADMIN, 0 },
	{ "POST", "/api/v1/users", api_users_create, ROUTE_ADMIN, 0 },
	{ "GET", "/api/v1/users/{name}", api_users_get, ROUTE_ADMIN, 0 },
	{ "PATCH", "/api/v1/users/{name}", api_users_update, ROUTE_ADMIN, 0 },
	{ "DELETE", "/api/v1/users/{name}", api_users_delete, ROUTE_ADMIN, 0 },
	{ "POST", "/api/v1/jobs", api_jobs_create, ROUTE_USER, 0 },
	{ "GET", "/api/v1/jobs", api_jobs_list, ROUTE_USER, 0 },
	{ "GET", "/api/v1/jobs/{id}", api_jobs_get, ROUTE_USER, 0 },
	{ "POST", "/api/v1/jobs/{id}/cancel", api_jobs_cancel, ROUTE_USER, 0 },
	{ "POST", "/api/v1/jobs/{id}/hold", api_jobs_hold, ROUTE_USER, 0 },
	{ "POST", "/api/v1/jobs/{id}/release", api_jobs_release, ROUTE_USER, 0 },
	{ "GET", "/api/v1/jobs/{id}/log", api_jobs_log, ROUTE_USER, 0 },
	{ "GET", "/api/v1/nodes", api_nodes, ROUTE_USER, 0 },
	{ "GET", "/api/v1/share", api_share, ROUTE_USER, 0 },
	{ "GET", "/api/v1/groups", api_groups_list, ROUTE_ADMIN, 0 },
	{ "POST", "/api/v1/groups", api_groups_create, ROUTE_ADMIN, 0 },
	{ "GET", "/api/v1/groups/{name}", api_groups_get, ROUTE_ADMIN, 0 },
	{ "PATCH", "/api/v1/groups/{name}", api_groups_update, ROUTE_ADMIN, 0 },
	{ "DELETE", "/api/v1/groups/{name}", api_groups_delete, ROUTE_ADMIN, 0 },
	{ "GET", "/api/v1/files", api_files_get, ROUTE_USER, 0 },
	{ "GET", "/api/v1/files/{path}", api_files_get, ROUTE_USER, ROUTE_TAIL },
	{ "PUT", "/api/v1/files/{path}", api_files_put, ROUTE_USER, ROUTE_TAIL | ROUTE_STREAM_BODY },
	{ "POST", "/api/v1/files/{path}", api_files_post, ROUTE_USER, ROUTE_TAIL },
	{ "DELETE", "/api/v1/files/{path}", api_files_delete, ROUTE_USER, ROUTE_TAIL },
	{ "POST", "/api/v1/uploads", api_uploads_create, ROUTE_USER, 0 },
	{ "GET", "/api/v1/uploads/{id}", api_uploads_get, ROUTE_USER, 0 },
	{ "PUT", "/api/v1/uploads/{id}", api_uploads_put, ROUTE_USER, ROUTE_STREAM_BODY },
	{ "DELETE", "/api/v1/uploads/{id}", api_uploads_delete, ROUTE_USER, 0 },
	{ "GET", "/api/v1/datasets", api_datasets_list, ROUTE_USER, 0 },
	{ "POST", "/api/v1/datasets", api_datasets_create, ROUTE_ADMIN, 0 },
	{ "GET", "/api/v1/datasets/{name}", api_datasets_get, ROUTE_USER, 0 },
	{ "DELETE", "/api/v1/datasets/{name}", api_datasets_delete, ROUTE_ADMIN, 0 },
	{ "GET", "/api/v1/datasets/{name}/{path}", api_datasets_get, ROUTE_USER, ROUTE_TAIL },
	{ "POST", "/api/v1/terminals", api_terminals_create, ROUTE_USER, 0 },
	{ "GET", "/api/v1/terminals", api_terminals_list, ROUTE_USER, 0 },
	{ "GET", "/api/v1/terminals/{id}", api_terminals_get, ROUTE_USER, 0 },
	{ "DELETE", "/api/v1/terminals/{id}", api_terminals_delete, ROUTE_USER, 0 },
	{ "GET", "/api/v1/terminals/{id}/ws", api_terminals_ws, ROUTE_USER, 0 },
	{ "GET", "/api/v1/models", api_models_list, ROUTE_USER, 0 },
	{ "POST", "/api/v1/models", api_models_register, ROUTE_ADMIN, 0 },
	{ "GET", "/api/v1/models/{name}", api_models_get, ROUTE_USER, 0 },
	{ "PATCH", "/api/v1/models/{name}", api_models_update, ROUTE_ADMIN, 0 },
	{ "DELETE", "/api/v1/models/{name}", api_models_delete, ROUTE_ADMIN, 0 },
	{ "GET", "/api/v1/models/{name}/thumbnail", api_models_thumbnail, ROUTE_USER, 0 },
	{ "GET", "/api/v1/models/{name}/trainings", api_models_trainings, ROUTE_USER, 0 },
	{ "GET", "/api/v1/profiles", api_profiles_list, ROUTE_USER, 0 },
	{ "POST", "/api/v1/profiles", api_profiles_create, ROUTE_ADMIN, 0 },
	{ "PUT", "/api/v1/profiles/{name}", api_profiles_put, ROUTE_ADMIN, 0 },
	{ "DELETE", "/api/v1/profiles/{name}", api_profiles_delete, ROUTE_ADMIN, 0 },
	{ "POST", "/api/v1/sessions", api_sessions_create, ROUTE_USER, 0 },
	{ "GET", "/api/v1/sessions", api_sessions_list, ROUTE_USER, 0 },
	{ "GET", "/api/v1/sessions/{id}", api_sessions_get, ROUTE_USER, 0 },
	{ "POST", "/api/v1/sessions/{id}/stop", api_sessions_stop, ROUTE_USER, 0 },
	{ "POST", "/api/v1/sessions/{id}/extend", api_sessions_extend, ROUTE_USER, 0 },
	{ "POST", "/api/v1/reservations", api_reservations_create, ROUTE_USER, 0 },
	{ "GET", "/api/v1/reservations", api_reservations_list, ROUTE_USER, 0 },
	{ "GET", "/api/v1/reservations/{id}", api_reservations_get, ROUTE_USER, 0 },
	{ "PATCH", "/api/v1/reservations/{id}", api_reservations_update, ROUTE_USER, 0 },
	{ "POST", "/api/v1/reservations/{id}/cancel", api_reservations_cancel, ROUTE_USER, 0 },
	{ "POST", "/api/v1/reservations/{id}/approve", api_reservations_approve, ROUTE_ADMIN, 0 },
	{ "POST", "/api/v1/reservations/{id}/reject", api_reservations_reject, ROUTE_ADMIN, 0 },
	{ "GET", "/api/v1/notifications", api_notifications_list, ROUTE_USER, 0 },
	{ "POST", "/api/v1/models/{name}/predict", api_models_predict, ROUTE_USER, 0 },
	{ "POST", "/api/v1/notifications/read", api_notifications_read, ROUTE_USER, 0 },
	/* Interactive sessions, through kaon's proxy (server/proxy.h). */
	{ "*", "/s/{id}", proxy_handle, ROUTE_USER,
	  ROUTE_STREAM_BODY | ROUTE_OWN_CSRF | ROUTE_LOGIN_PAGE },
	{ "*", "/s/{id}/{path}", proxy_handle, ROUTE_USER,
	  ROUTE_TAIL | ROUTE_STREAM_BODY | ROUTE_OWN_CSRF | ROUTE_LOGIN_PAGE },
	/* DEEPaaS v2 (docs/deepaas.md). Public at the door: the handlers
	 * decide, because a model may allow anonymous predictions. "*" so
	 * that an unknown model is a 404 whatever the method, as DEEPaaS
	 * (which routes only the models it has) answers. */
	{ "GET", "/", deepaas_root, ROUTE_PUBLIC, ROUTE_DEEPAAS },
	{ "GET", "/ui", deepaas_ui, ROUTE_PUBLIC, ROUTE_DEEPAAS },
	{ "GET", "/api", deepaas_api_page, ROUTE_PUBLIC, ROUTE_DEEPAAS },
	{ "GET", "/swagger.json", deepaas_swagger, ROUTE_PUBLIC, ROUTE_DEEPAAS },
	{ "GET", "/v2/", deepaas_v2, ROUTE_PUBLIC, ROUTE_DEEPAAS },
	{ "GET", "/v2/models/", deepaas_models, ROUTE_PUBLIC, ROUTE_DEEPAAS },
	{ "*", "/v2/models/{name}/", deepaas_model, ROUTE_PUBLIC, ROUTE_DEEPAAS },
	{ "*", "/v2/models/{name}/predict/", deepaas_predict, ROUTE_PUBLIC,
	  ROUTE_DEEPAAS | ROUTE_STREAM_BODY },
	{ "*", "/v2/models/{name}/train/", deepaas_trainings, ROUTE_PUBLIC, ROUTE_DEEPAAS },
	{ "*", "/v2/models/{name}/train/{uuid}", deepaas_training, ROUTE_PUBLIC, ROUTE_DEEPAAS },
};
const size_t routes_count = sizeof routes / sizeof routes[0];

/* Match pattern against path segment by segment; captures go to params. */
static bool routes_match_one(const char *pattern, const char *path, bool tail, const char **params,
			     size_t *nparams, char *scratch, size_t scratch_len)
{
	size_t np = 0, used = 0;
	const char *p = pattern, *s = path;
	while (*p && *s) {
		if (*p != '/' || *s != '/')
			return false;
		p++, s++;
		const char *pe = strchrnul(p, '/'), *se = strchrnul(s, '/');
		if (*p == '{' && tail && !*pe) {
			/* The rest of the path, which lives as long as the
			 * request: no copy. */
			if (np == HTTP_MAX_PARAMS)
				return false;
			params[np++] = s;
			p = pe, s += strlen(s);
			break;
		}
		if (*p == '{') {
			size_t n = (size_t)(se - s);
			if (n == 0 || np == HTTP_MAX_PARAMS || used + n + 1 > scratch_len)
				return false;
			memcpy(scratch + used, s, n);
			scratch[used + n] = '\0';
			params[np++] = scratch + used;
			used += n + 1;
		} else if (pe - p != se - s || memcmp(p, s, (size_t)(pe - p)) != 0) {
			return false;
		}
		p = pe, s = se;
	}
	if (*p || *s)
		return false;
	*nparams = np;
	return true;
}

const struct route *routes_match(const char *method, const char *path, struct http_req *req,
				 bool *path_known, char *allow, size_t allow_len)
{
	/* Captured segments live as long as the request: in a thread-local
	 * scratch buffer that the next request on this thread overwrites
	 * only after this one has been answered. */
	static __thread char scratch[1024];
	const char *params[HTTP_MAX_PARAMS];
	size_t nparams = 0;
	*path_known = false;
	allow[0] = '\0';
	for (size_t i = 0; i < routes_count; i++) {
		const struct route *r = &routes[i];
		if (!routes_match_one(r->pattern, path, r->flags & ROUTE_TAIL, params, &nparams, scratch,
				      sizeof scratch))
			continue;
		/* HEAD is GET without the body; libmicrohttpd drops the body. */
		if (strcmp(r->method, method) == 0 || strcmp(r->method, "*") == 0 ||
		    (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0)) {
			memcpy(req->params, params, sizeof params);
			req->nparams = nparams;
			return r;
		}
		*path_known = true;
		size_t used = strlen(allow);
		if (used + strlen(r->method) + 3 < allow_len) {
			if (used)
				memcpy(allow + used, ", ", 3), used += 2;
			memcpy(allow + used, r->method, strlen(r->method) + 1);
		}
	}
	return NULL;
}

/* The DEEPaaS route whose pattern matches path, or NULL. */
static const struct route *routes_deepaas_find(const char *path)
{
	static __thread char scratch[1024];
	const char *params[HTTP_MAX_PARAMS];
	size_t nparams;
	for (size_t i = 0; i < routes_count; i++)
		if ((routes[i].flags & ROUTE_DEEPAAS) &&
		    routes_match_one(routes[i].pattern, path, routes[i].flags & ROUTE_TAIL, params,
				     &nparams, scratch, sizeof scratch))
			return &routes[i];
	return NULL;
}

bool routes_deepaas_redirect(const char *path, char **fixed)
{
	/* aiohttp's normalize_path_middleware: merge slashes, else append
	 * one, else both; never remove one (…/train/UUID/ stays a 404). */
	size_t n = strlen(path);
	char *merged = xmalloc(n + 2), *o = merged;
	for (const char *p = path; *p; p++)
		if (!(*p == '/' && o > merged && o[-1] == '/'))
			*o++ = *p;
	*o = '\0';
	char *slashed = xasprintf("%s/", path), *both = xasprintf("%s/", merged);
	const char *cands[] = { strcmp(merged, path) != 0 ? merged : NULL, slashed, both };
	*fixed = NULL;
	for (size_t i = 0; i < 3 && !*fixed; i++)
		if (cands[i] && routes_deepaas_find(cands[i]))
			*fixed = xstrdup(cands[i]);
	free(merged);
	free(slashed);
	free(both);
	return *fixed != NULL;
}
