/* server/routes — the route table and its matcher (see routes.h). */
#include "server/routes.h"

#include <string.h>

#include "api/api.h"
#include "server/static.h"

const struct route routes[] = {
	{ "POST", "/api/v1/login", api_login, ROUTE_PUBLIC },
	{ "POST", "/api/v1/logout", api_logout, ROUTE_USER },
	{ "GET", "/api/v1/me", api_me, ROUTE_USER },
	{ "POST", "/api/v1/me/password", api_me_password, ROUTE_USER },
	{ "GET", "/api/v1/openapi.json", api_openapi, ROUTE_PUBLIC },
	{ "GET", "/api/v1/tokens", api_tokens_list, ROUTE_USER },
	{ "POST", "/api/v1/tokens", api_tokens_create, ROUTE_USER },
	{ "DELETE", "/api/v1/tokens/{id}", api_tokens_delete, ROUTE_USER },
	{ "GET", "/api/v1/users", api_users_list, ROUTE_ADMIN },
	{ "POST", "/api/v1/users", api_users_create, ROUTE_ADMIN },
	{ "GET", "/api/v1/users/{name}", api_users_get, ROUTE_ADMIN },
	{ "PATCH", "/api/v1/users/{name}", api_users_update, ROUTE_ADMIN },
	{ "DELETE", "/api/v1/users/{name}", api_users_delete, ROUTE_ADMIN },
	{ "POST", "/api/v1/jobs", api_jobs_create, ROUTE_USER },
	{ "GET", "/api/v1/jobs", api_jobs_list, ROUTE_USER },
	{ "GET", "/api/v1/jobs/{id}", api_jobs_get, ROUTE_USER },
	{ "POST", "/api/v1/jobs/{id}/cancel", api_jobs_cancel, ROUTE_USER },
	{ "POST", "/api/v1/jobs/{id}/hold", api_jobs_hold, ROUTE_USER },
	{ "POST", "/api/v1/jobs/{id}/release", api_jobs_release, ROUTE_USER },
	{ "GET", "/api/v1/jobs/{id}/log", api_jobs_log, ROUTE_USER },
	{ "GET", "/api/v1/nodes", api_nodes, ROUTE_USER },
	{ "GET", "/api/v1/share", api_share, ROUTE_USER },
	{ "GET", "/api/v1/groups", api_groups_list, ROUTE_ADMIN },
	{ "POST", "/api/v1/groups", api_groups_create, ROUTE_ADMIN },
	{ "GET", "/api/v1/groups/{name}", api_groups_get, ROUTE_ADMIN },
	{ "PATCH", "/api/v1/groups/{name}", api_groups_update, ROUTE_ADMIN },
	{ "DELETE", "/api/v1/groups/{name}", api_groups_delete, ROUTE_ADMIN },
};
const size_t routes_count = sizeof routes / sizeof routes[0];

/* Match pattern against path segment by segment; captures go to params. */
static bool routes_match_one(const char *pattern, const char *path, const char **params,
			     size_t *nparams, char *scratch, size_t scratch_len)
{
	size_t np = 0, used = 0;
	const char *p = pattern, *s = path;
	while (*p && *s) {
		if (*p != '/' || *s != '/')
			return false;
		p++, s++;
		const char *pe = strchrnul(p, '/'), *se = strchrnul(s, '/');
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
		if (!routes_match_one(r->pattern, path, params, &nparams, scratch, sizeof scratch))
			continue;
		/* HEAD is GET without the body; libmicrohttpd drops the body. */
		if (strcmp(r->method, method) == 0 ||
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
