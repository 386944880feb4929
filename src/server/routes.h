/*
 * server/routes — the table of every route: method, path pattern (OpenAPI
 * syntax, `{name}` captures one segment), handler and who may call it.
 *
 * The OpenAPI document (src/api/openapi.json) must describe exactly these
 * routes; tests/server/openapi_test.c fails when the two disagree.
 */
#ifndef KAON_SERVER_ROUTES_H
#define KAON_SERVER_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include "server/http.h"

enum route_access {
	ROUTE_PUBLIC, /* anyone; credentials are read when present */
	ROUTE_USER,   /* any enabled account */
	ROUTE_ADMIN,  /* accounts with the admin flag */
};

enum route_flags {
	/* The last {capture} takes the rest of the path, slashes included
	 * (/api/v1/files/{path}); it may be empty ("/api/v1/files/"). */
	ROUTE_TAIL = 1 << 0,
	/* The handler runs before the body is read and takes it through
	 * http_req_sink() (see http.h); no max_body_kib limit applies. */
	ROUTE_STREAM_BODY = 1 << 1,
	/* Cookie sessions need no X-CSRF-Token here: the handler guards
	 * cross-site requests itself (the sessions proxy checks Origin; the
	 * application behind it has its own protection). */
	ROUTE_OWN_CSRF = 1 << 2,
	/* An anonymous browser asking for a page (GET, Accept: text/html) is
	 * sent to the login page, with the way back, instead of a 401. */
	ROUTE_LOGIN_PAGE = 1 << 3,
	/* DEEPaaS v2 (api/deepaas.h): described by /swagger.json, not by
	 * openapi.json; a path that lacks this route's trailing slash, or has
	 * doubled slashes, is redirected to it (308), as DEEPaaS's aiohttp
	 * does. */
	ROUTE_DEEPAAS = 1 << 4,
};

struct route {
	const char *method; /* "*": any method */
	const char *pattern;
	http_handler handler;
	enum route_access access;
	unsigned flags; /* enum route_flags */
};

extern const struct route routes[];
extern const size_t routes_count;

/* The route for method and path, with captures stored in req->params.
 * NULL when none: *path_known tells whether another method would match
 * (405), and allow receives those methods, comma-separated. */
const struct route *routes_match(const char *method, const char *path, struct http_req *req,
				 bool *path_known, char *allow, size_t allow_len);

/* Whether path, with doubled slashes merged and then, if that alone is not
 * routed, a slash appended, is a ROUTE_DEEPAAS route's path while path
 * itself is routed nowhere: then *fixed (the caller frees) is the path to
 * redirect to. */
bool routes_deepaas_redirect(const char *path, char **fixed);

#endif
