/*
 * api/models_predict — POST /api/v1/models/{name}/predict: one prediction
 * through the model's warm workers (server/modelpool.h), with a JSON body
 * {"args": {...}, "accept": "..."}. The answer is the worker's as it gave
 * it (JSON, or the bytes of a file with its content type), or the pool's
 * refusal: 402 predict disabled, 429 full (Retry-After), 502 the worker
 * died, 503 none could start, 504 timeout.
 *
 * The prediction runs on a thread of its own while the request is parked
 * (server/modelcall.h), so a slow model holds no http worker thread.
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
#include "lib/xalloc.h"
#include "server/modelcall.h"
#include "server/server.h"
#include "store/models.h"

static const struct fields_spec api_models_predict_fields[] = {
    {"args", FIELDS_OBJECT, false, 0, 256},
    {"accept", FIELDS_STRING, false, 1, 255},
};

/* One prediction in flight: what the worker's thread reads lives here
 * until release. */
struct api_models_predict {
	json_t *body;
	struct store_model m;
	struct modelcall call;
};

static void api_models_predict_end(void *ctx, struct http_req *req, struct http_resp *resp)
{
	struct api_models_predict *p = ctx;
	if (!modelcall_started(&p->call))
		modelcall_start(&p->call, req);
	modelcall_answer(&p->call, resp);
}

static void api_models_predict_release(void *ctx)
{
	struct api_models_predict *p = ctx;
	modelcall_clear(&p->call);
	store_model_clear(&p->m);
	json_decref(p->body);
	free(p);
}

void api_models_predict(struct http_req *req, struct http_resp *resp)
{
	const char *name = req->params[0];
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	struct store_model sm = {0};
	if (fields_check(body, api_models_predict_fields, FIELDS_COUNT(api_models_predict_fields),
			 resp) < 0)
		goto fail;
	int rc = store_model_get(req->store, name, &sm);
	if (rc < 0) {
		http_resp_errno(resp, rc, "model '%.64s'", name);
		goto fail;
	}
	if (!sm.predict_enabled) {
		http_resp_error(resp, 402, "disabled", "predict is disabled for model '%s'",
				sm.name);
		goto fail;
	}
	struct api_models_predict *p = xcalloc(1, sizeof *p);
	p->body = body;
	p->m = sm;
	p->call.rq = (struct modelpool_request){
	    .model = p->m.name,
	    .args = json_object_get(body, "args"),
	    .accept = json_string_value(json_object_get(body, "accept")),
	    .user_id = req->who.user_id,
	    .cancel_fd = http_req_client_fd(req),
	};
	struct http_sink sink = {
	    .end = api_models_predict_end,
	    .release = api_models_predict_release,
	    .ctx = p,
	};
	http_req_sink(req, &sink);
	return;
fail:
	store_model_clear(&sm);
	json_decref(body);
}
