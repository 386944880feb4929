/* server/auth — credentials and access rules (see auth.h). */
#include "server/auth.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config/config.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "server/server.h"
#include "store/credentials.h"

/* last_used_at is written at most this often per token, so that reading
 * with a token does not turn every request into a database write. */
enum { AUTH_TOUCH_INTERVAL_S = 60 };

static int auth_bearer(struct http_req *req, struct http_resp *resp, const char *header)
{
	if (strncasecmp(header, "Bearer ", 7) != 0) {
		http_resp_header(resp, "WWW-Authenticate", "Bearer");
		http_resp_error(resp, 401, "unauthorized", "Authorization must be 'Bearer TOKEN'");
		return -1;
	}
	const char *token = header + 7;
	while (*token == ' ')
		token++;
	unsigned char hash[SECRET_HASH_LEN];
	secret_hash(token, strlen(token), hash);
	int64_t now = time(NULL);
	int rc = store_token_lookup(req->store, hash, now, &req->who);
	if (rc == -ENOENT) {
		http_resp_header(resp, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
		http_resp_error(resp, 401, "unauthorized", "the API token is invalid, revoked or expired");
		return -1;
	}
	if (rc < 0) {
		http_resp_errno(resp, rc, "token lookup");
		return -1;
	}
	req->via = HTTP_AUTH_TOKEN;
	if (now - req->who.last_used_at >= AUTH_TOUCH_INTERVAL_S &&
	    store_token_touch(req->store, req->who.cred_id, now) < 0)
		log_warn("auth: could not record use of token %lld", (long long)req->who.cred_id);
	return 0;
}

int auth_identify(struct http_req *req, struct http_resp *resp)
{
	const char *authz = http_req_header(req, "Authorization");
	if (authz)
		return auth_bearer(req, resp, authz);
	const char *cookie = http_req_cookie(req, AUTH_COOKIE);
	if (!cookie || !*cookie)
		return 0;
	unsigned char hash[SECRET_HASH_LEN];
	secret_hash(cookie, strlen(cookie), hash);
	int rc = store_websession_lookup(req->store, hash, time(NULL), &req->who);
	if (rc == 0)
		req->via = HTTP_AUTH_COOKIE;
	else if (rc != -ENOENT) {
		http_resp_errno(resp, rc, "session lookup");
		return -1;
	}
	return 0;
}

static int auth_is_safe_method(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
	       strcmp(method, "OPTIONS") == 0;
}

static int auth_csrf_ok(struct http_req *req)
{
	if (req->via != HTTP_AUTH_COOKIE || auth_is_safe_method(req->method))
		return 1;
	const char *sent = http_req_header(req, "X-CSRF-Token");
	return sent && secret_compare(sent, req->who.csrf) == 0;
}

/* The login page, then back to this request-target: "/?next=T#/login"
 * (the web page reads next once logged in; the hash is its route). */
static void auth_login_redirect(struct http_req *req, struct http_resp *resp)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *t = req->target;
	size_t n = strlen(t);
	char *loc = xmalloc(n * 3 + 32), *o = loc;
	memcpy(o, "/?next=", 7);
	o += 7;
	for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	memcpy(o, "#/login", 8);
	http_resp_header(resp, "Location", loc);
	free(loc);
	http_resp_error(resp, 302, "unauthorized", "log in first: %s", "/#/login");
}

static bool auth_wants_page(struct http_req *req)
{
	const char *accept = http_req_header(req, "Accept");
	return (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0) && accept &&
	       strstr(accept, "text/html") && !http_req_header(req, "Authorization");
}

int auth_authorize(const struct route *route, struct http_req *req, struct http_resp *resp)
{
	enum route_access access = route->access;
	if (access == ROUTE_PUBLIC) {
		/* A public route still sees who is asking, but a cookie without
		 * its CSRF token may be a forged cross-site request: treat the
		 * caller as anonymous. */
		if (!auth_csrf_ok(req))
			req->via = HTTP_AUTH_NONE;
		return 0;
	}
	if (req->via == HTTP_AUTH_NONE && (route->flags & ROUTE_LOGIN_PAGE) &&
	    auth_wants_page(req)) {
		auth_login_redirect(req, resp);
		return -1;
	}
	if (req->via == HTTP_AUTH_NONE) {
		http_resp_header(resp, "WWW-Authenticate", "Bearer");
		http_resp_error(resp, 401, "unauthorized", "log in or send an API token");
		return -1;
	}
	if (req->who.disabled) {
		http_resp_error(resp, 403, "account_disabled", "account '%s' is disabled",
				req->who.username);
		return -1;
	}
	if (!(route->flags & ROUTE_OWN_CSRF) && !auth_csrf_ok(req)) {
		http_resp_error(resp, 403, "csrf",
				"missing or wrong X-CSRF-Token header for a cookie session");
		return -1;
	}
	if (access == ROUTE_ADMIN && !req->who.admin) {
		http_resp_error(resp, 403, "forbidden", "only administrators may do this");
		return -1;
	}
	return 0;
}

int auth_session_start(struct http_req *req, struct http_resp *resp, int64_t user_id,
		       char csrf[SECRET_B64_LEN + 1])
{
	char cookie[SECRET_B64_LEN + 1];
	secret_random(cookie);
	secret_random(csrf);
	unsigned char hash[SECRET_HASH_LEN];
	secret_hash(cookie, strlen(cookie), hash);
	int64_t ttl = req->srv->cfg->session_ttl_s;
	int rc = store_websession_insert(req->store, user_id, hash, csrf, (int64_t)time(NULL) + ttl);
	if (rc < 0)
		return rc;
	char header[256];
	snprintf(header, sizeof header, "%s=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Lax%s",
		 AUTH_COOKIE, cookie, (long long)ttl, req->tls ? "; Secure" : "");
	http_resp_header(resp, "Set-Cookie", header);
	return 0;
}

int auth_session_end(struct http_req *req, struct http_resp *resp)
{
	const char *cookie = http_req_cookie(req, AUTH_COOKIE);
	int rc = 0;
	if (req->via == HTTP_AUTH_COOKIE && cookie && *cookie) {
		unsigned char hash[SECRET_HASH_LEN];
		secret_hash(cookie, strlen(cookie), hash);
		rc = store_websession_delete(req->store, hash);
	}
	char header[160];
	snprintf(header, sizeof header, "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s",
		 AUTH_COOKIE, req->tls ? "; Secure" : "");
	http_resp_header(resp, "Set-Cookie", header);
	return rc;
}
