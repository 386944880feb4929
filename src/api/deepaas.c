/*
 * api/deepaas — the DEEPaaS v2 routes that read: versions, model
 * metadata, swagger.json, /ui and /api, and the access rules every DEEPaaS
 * handler shares (deepaas.h). Predict and train are in their own files.
 *
 * Every DEEPaaS route is public at the door (server/routes.c) because a
 * model may allow anonymous predictions; the handlers check the caller
 * here. A cookie request that changes something without its CSRF header
 * reaches us as anonymous (server/auth.c), so it gets the 401 an
 * anonymous caller gets.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/deepaas.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "server/static.h"
#include "store/models.h"

#ifndef KAON_VERSION
#define KAON_VERSION "0.1.0"
#endif

/* ---- shared ------------------------------------------------------------ */

void deepaas_method_not_allowed(struct http_req *req, struct http_resp *resp, const char *allow)
{
	http_resp_header(resp, "Allow", allow);
	http_resp_error(resp, 405, "method_not_allowed", "%s is not allowed on %s (allowed: %s)",
			req->method, req->path, allow);
}

void deepaas_resp_fields(struct http_resp *resp, int status, json_t *fields)
{
	http_resp_json(resp, status, fields);
}

static void deepaas_unauthorized(struct http_resp *resp)
{
	http_resp_header(resp, "WWW-Authenticate", "Bearer");
	http_resp_error(resp, 401, "unauthorized", "log in or send an API token");
}

/* An account that may act (a disabled one may not); 0 or -1 after
 * answering. */
static int deepaas_account_ok(struct http_req *req, struct http_resp *resp)
{
	if (req->via != HTTP_AUTH_NONE && req->who.disabled) {
		http_resp_error(resp, 403, "account_disabled", "account '%s' is disabled",
				req->who.username);
		return -1;
	}
	return 0;
}

int deepaas_model_load(struct http_req *req, struct http_resp *resp, enum deepaas_need need,
		       struct store_model *m)
{
	if (deepaas_account_ok(req, resp) < 0)
		return -1;
	const char *name = req->params[0];
	int rc = store_model_get(req->store, name, m);
	if (req->via == HTTP_AUTH_NONE) {
		/* Anonymous callers learn nothing of models that are not
		 * public, not even whether they exist. */
		if (rc < 0 || !m->public_predict || need == DEEPAAS_TRAIN) {
			if (rc == 0)
				store_model_clear(m);
			deepaas_unauthorized(resp);
			return -1;
		}
		return 0;
	}
	if (rc == -ENOENT) {
		http_resp_error(resp, 404, "not_found", "no model '%s'", name);
		return -1;
	}
	if (rc < 0) {
		http_resp_errno(resp, rc, "model '%s'", name);
		return -1;
	}
	return 0;
}

/* The models this caller may see: all for an account, the public ones
 * for anyone else. 0, or -1 after answering. */
static int deepaas_models_visible(struct http_req *req, struct http_resp *resp,
				  struct store_model **out, size_t *n)
{
	if (deepaas_account_ok(req, resp) < 0)
		return -1;
	int rc = store_models_list(req->store, out, n);
	if (rc < 0) {
		http_resp_errno(resp, rc, "models");
		return -1;
	}
	if (req->via != HTTP_AUTH_NONE)
		return 0;
	size_t k = 0;
	for (size_t i = 0; i < *n; i++) {
		if ((*out)[i].public_predict)
			(*out)[k++] = (*out)[i];
		else
			store_model_clear(&(*out)[i]);
	}
	*n = k;
	return 0;
}

/* ---- versions, pages ------------------------------------------------------ */

void deepaas_root(struct http_req *req, struct http_resp *resp)
{
	/* One address, two documents: browsers get kaon's web page, DEEPaaS
	 * clients (which ask for JSON) the versions document. */
	if (!deepaas_accept_prefers_json(http_req_header(req, "Accept"))) {
		static_serve(req, resp);
		http_resp_header(resp, "Vary", "Accept");
		return;
	}
	http_resp_json(resp, 200, deepaas_versions_doc());
	http_resp_header(resp, "Vary", "Accept");
}

void deepaas_ui(struct http_req *req, struct http_resp *resp)
{
	(void)req;
	http_resp_header(resp, "Location", "/api");
	http_resp_empty(resp, 302);
}

void deepaas_v2(struct http_req *req, struct http_resp *resp)
{
	(void)req;
	http_resp_json(resp, 200, deepaas_v2_doc());
}

static json_t *deepaas_swagger_build(struct http_req *req, struct http_resp *resp)
{
	struct store_model *ms = NULL;
	size_t n = 0;
	if (deepaas_models_visible(req, resp, &ms, &n) < 0)
		return NULL;
	json_t *doc = deepaas_swagger_doc(ms, n, KAON_VERSION);
	store_models_free(ms, n);
	return doc;
}

void deepaas_swagger(struct http_req *req, struct http_resp *resp)
{
	json_t *doc = deepaas_swagger_build(req, resp);
	if (doc)
		http_resp_json(resp, 200, doc);
}

void deepaas_api_page(struct http_req *req, struct http_resp *resp)
{
	json_t *doc = deepaas_swagger_build(req, resp);
	if (!doc)
		return;
	char *html = deepaas_api_html(doc);
	json_decref(doc);
	resp->status = 200;
	resp->body = html;
	resp->len = strlen(html);
	resp->content_type = "text/html; charset=utf-8";
	/* Our own markup and one inline style sheet; nothing else loads. */
	http_resp_header(resp, "Content-Security-Policy",
			 "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
			 "form-action 'none'; frame-ancestors 'none'");
	http_resp_header(resp, "Cache-Control", "no-store");
}

/* ---- metadata ----------------------------------------------------------- */

void deepaas_models(struct http_req *req, struct http_resp *resp)
{
	struct store_model *ms = NULL;
	size_t n = 0;
	if (deepaas_models_visible(req, resp, &ms, &n) < 0)
		return;
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, deepaas_metadata(ms[i].name, ms[i].describe));
	store_models_free(ms, n);
	http_resp_json(resp, 200, json_pack("{s:o}", "models", list));
}

void deepaas_model(struct http_req *req, struct http_resp *resp)
{
	struct store_model m = { 0 };
	if (deepaas_model_load(req, resp, DEEPAAS_READ, &m) < 0)
		return;
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
		deepaas_method_not_allowed(req, resp, "GET");
	else
		http_resp_json(resp, 200, deepaas_metadata(m.name, m.describe));
	store_model_clear(&m);
}
