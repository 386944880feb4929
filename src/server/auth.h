/*
 * server/auth — who is asking, and may they.
 *
 * Two kinds of credential: `Authorization: Bearer kaon_...` (API tokens,
 * for the CLI and scripts) and the `kaon_session` cookie (browsers). A
 * request authenticated by cookie that changes state must carry the
 * session's CSRF token in `X-CSRF-Token`; token requests need no CSRF
 * token because a browser never attaches them on its own.
 */
#ifndef KAON_SERVER_AUTH_H
#define KAON_SERVER_AUTH_H

#include <stdint.h>

#include "identity/secret.h"
#include "server/http.h"
#include "server/routes.h"

#define AUTH_COOKIE "kaon_session"

/* Read credentials into req->via and req->who. A bad bearer token answers
 * 401 and returns -1; a stale cookie is ignored (the route decides). */
int auth_identify(struct http_req *req, struct http_resp *resp);
/* Enforce the route's access level and the CSRF rule (unless the route
 * is ROUTE_OWN_CSRF); -1 after answering. */
int auth_authorize(const struct route *route, struct http_req *req, struct http_resp *resp);
/* Start a browser session for user_id: set the cookie on resp and write
 * the new CSRF token into csrf. 0 or a store error. */
int auth_session_start(struct http_req *req, struct http_resp *resp, int64_t user_id,
		       char csrf[SECRET_B64_LEN + 1]);
/* End the request's browser session, if any, and clear the cookie. */
int auth_session_end(struct http_req *req, struct http_resp *resp);

#endif
