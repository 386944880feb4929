/* Unit tests of the route table and the OpenAPI document that must
 * describe it exactly. */
#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "../harness.h"
#include "server/embedded.h"
#include "server/routes.h"

TEST(routes_match_captures_and_405)
{
	struct http_req req = { 0 };
	bool known;
	char allow[64];
	const struct route *r = routes_match("GET", "/api/v1/users/alice", &req, &known, allow, sizeof allow);
	CHECK(r != NULL);
	CHECK_STR(r->pattern, "/api/v1/users/{name}");
	CHECK_INT(req.nparams, 1);
	CHECK_STR(req.params[0], "alice");
	CHECK(routes_match("PUT", "/api/v1/users/alice", &req, &known, allow, sizeof allow) == NULL);
	CHECK(known);
	CHECK(strstr(allow, "GET") && strstr(allow, "PATCH") && strstr(allow, "DELETE"));
	CHECK(routes_match("GET", "/api/v1/users/alice/x", &req, &known, allow, sizeof allow) == NULL);
	CHECK(!known);
	CHECK(routes_match("GET", "/api/v1/users/", &req, &known, allow, sizeof allow) == NULL);
	CHECK(routes_match("GET", "/api/v1/user", &req, &known, allow, sizeof allow) == NULL);
}

TEST(routes_match_any_method_and_the_sessions_proxy)
{
	struct http_req req = {0};
	bool known;
	char allow[64];
	static const char *const methods[] = {"GET",   "HEAD",	 "POST",    "PUT",
					      "PATCH", "DELETE", "OPTIONS", "PROPFIND"};
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		const struct route *r = routes_match(methods[i], "/s/12/api/kernels/x", &req,
						     &known, allow, sizeof allow);
		CHECK(r != NULL);
		CHECK_STR(r->pattern, "/s/{id}/{path}");
		CHECK(r->flags & ROUTE_STREAM_BODY);
		CHECK(r->flags & ROUTE_OWN_CSRF);
		CHECK_INT(req.nparams, 2);
		CHECK_STR(req.params[0], "12");
		CHECK_STR(req.params[1], "api/kernels/x");
	}
	const struct route *r = routes_match("GET", "/s/12/", &req, &known, allow, sizeof allow);
	CHECK(r != NULL && req.nparams == 2 && strcmp(req.params[1], "") == 0);
	r = routes_match("POST", "/s/12", &req, &known, allow, sizeof allow);
	CHECK(r != NULL);
	CHECK_STR(r->pattern, "/s/{id}");
	CHECK(routes_match("GET", "/s/", &req, &known, allow, sizeof allow) == NULL);
}

static json_t *routes_test_openapi(void)
{
	const struct embedded_file *f = embedded_find("openapi.json");
	CHECK(f != NULL);
	json_error_t err;
	json_t *doc = json_loadb((const char *)f->data, f->len, 0, &err);
	if (!doc)
		harness_fail(__FILE__, __LINE__, "openapi.json: line %d: %s", err.line, err.text);
	return doc;
}

TEST(openapi_describes_every_route)
{
	json_t *doc = routes_test_openapi();
	json_t *paths = json_object_get(doc, "paths");
	CHECK(json_is_object(paths));
	for (size_t i = 0; i < routes_count; i++) {
		if (routes[i].flags & ROUTE_DEEPAAS) /* described by /swagger.json */
			continue;
		char method[16];
		size_t n = strlen(routes[i].method);
		for (size_t k = 0; k <= n; k++)
			method[k] = (char)(routes[i].method[k] | (k < n ? 0x20 : 0));
		/* A route of any method is described for each usual one. */
		static const char *const any[] = {"get", "post", "put", "patch", "delete"};
		bool star = strcmp(method, "*") == 0;
		for (size_t m = 0; m < (star ? 5 : 1); m++) {
			const char *want = star ? any[m] : method;
			json_t *op =
			    json_object_get(json_object_get(paths, routes[i].pattern), want);
			if (!op)
				harness_fail(__FILE__, __LINE__, "openapi.json lacks %s %s", want,
					     routes[i].pattern);
		}
	}
	json_decref(doc);
}

TEST(openapi_describes_no_route_that_does_not_exist)
{
	static const char *const methods[] = { "get", "post", "put", "patch", "delete" };
	json_t *doc = routes_test_openapi();
	const char *path;
	json_t *item;
	json_object_foreach(json_object_get(doc, "paths"), path, item)
	{
		for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++) {
			if (!json_object_get(item, methods[m]))
				continue;
			bool found = false;
			for (size_t i = 0; i < routes_count && !found; i++)
				found = strcmp(routes[i].pattern, path) == 0 &&
					(strcasecmp(routes[i].method, methods[m]) == 0 ||
					 strcmp(routes[i].method, "*") == 0);
			if (!found)
				harness_fail(__FILE__, __LINE__, "openapi.json describes %s %s, which is not routed",
					     methods[m], path);
		}
	}
	json_decref(doc);
}
