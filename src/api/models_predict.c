/*
 * api/models_predict — POST /api/v1/models/{name}/predict: one prediction
 * through the model's warm workers (server/modelpool.h), with a JSON body
 * {"args": {...}, "accept": "..."}. The answer is the worker's as it gave
 * it (JSON, or the bytes of a file with its content type), or the pool's
 * refusal: 402 predict disabled, 429 full (Retry-After), 502 the worker
 * died, 503 none could start, 504 timeout.
 *
 * The DEEPaaS surface (/v2/models/NAME/predict/, api/deepaas.c) is the one
 * clients use; this route is kaon's own, JSON in, for tools and tests.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/fields.h"
#include "lib/log.h"
#include "server/modelpool.h"
#include "server/server.h"
#include "store/models.h"

static const struct fields_spec api_models_predict_fields[] = {
    {"args", FIELDS_OBJECT, false, 0, 256},
    {"accept", FIELDS_STRING, false, 1, 255},
};

void api_models_predict(struct http_req *req, struct http_resp *resp)
{
	const char *name = req->params[0];
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	struct store_model sm = {0};
	struct modelpool_response out = {0};
	if (fields_check(body, api_models_predict_fields, FIELDS_COUNT(api_models_predict_fields),
			 resp) < 0)
		goto done;
	int rc = store_model_get(req->store, name, &sm);
	if (rc < 0) {
		http_resp_errno(resp, rc, "model '%.64s'", name);
		goto done;
	}
	if (!sm.predict_enabled) {
		http_resp_error(resp, 402, "disabled", "predict is disabled for model '%s'",
				sm.name);
		goto done;
	}
	struct modelpool_request rq = {
	    .model = sm.name,
	    .args = json_object_get(body, "args"),
	    .accept = json_string_value(json_object_get(body, "accept")),
	    .user_id = req->who.user_id,
	    .cancel_fd = http_req_client_fd(req),
	};
	rc = modelpool_predict(req->srv, &rq, &out);
	if (rc == -ENOENT) {
		http_resp_error(resp, 404, "not_found", "model '%s' not found", sm.name);
		goto done;
	}
	if (out.retry_after_s > 0) {
		char s[16];
		snprintf(s, sizeof s, "%d", out.retry_after_s);
		http_resp_header(resp, "Retry-After", s);
	}
	/* The content type is the worker's: a header of ours, since the
	 * response's content_type must outlive this call. */
	if (out.content_type)
		http_resp_header(resp, "Content-Type", out.content_type);
	resp->status = out.status;
	free(resp->body);
	resp->body = out.body;
	resp->len = out.len;
	resp->content_type = NULL;
	out.body = NULL;
done:
	modelpool_response_clear(&out);
	store_model_clear(&sm);
	json_decref(body);
}
