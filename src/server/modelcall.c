/*
 * server/modelcall — one prediction for a parked request (modelcall.h).
 */
#include "server/modelcall.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "server/offload.h"

/* On the offload thread. */
static void modelcall_run(void *v)
{
	struct modelcall *c = v;
	c->rc = modelpool_predict(c->srv, &c->rq, &c->out);
}

void modelcall_start(struct modelcall *c, struct http_req *req)
{
	c->srv = req->srv;
	c->call = offload_start(http_req_waker(req), modelcall_run, c);
}

bool modelcall_started(const struct modelcall *c)
{
	return c->call != NULL;
}

void modelcall_answer(struct modelcall *c, struct http_resp *resp)
{
	if (!offload_done(c->call)) {
		http_resp_wait(resp);
		return;
	}
	if (c->rc == -ENOENT) {
		http_resp_error(resp, 404, "not_found", "model '%s' not found", c->rq.model);
		return;
	}
	if (c->rc < 0) {
		http_resp_errno(resp, c->rc, "prediction of '%s'", c->rq.model);
		return;
	}
	struct modelpool_response *out = &c->out;
	if (out->retry_after_s > 0) {
		char s[16];
		snprintf(s, sizeof s, "%d", out->retry_after_s);
		http_resp_header(resp, "Retry-After", s);
	}
	/* The content type is a header of ours: resp->content_type must be
	 * a string that outlives this call. */
	if (out->content_type)
		http_resp_header(resp, "Content-Type", out->content_type);
	resp->status = out->status;
	free(resp->body);
	resp->body = out->body;
	resp->len = out->len;
	resp->content_type = NULL;
	out->body = NULL;
	out->len = 0;
}

void modelcall_clear(struct modelcall *c)
{
	offload_join(c->call);
	c->call = NULL;
	modelpool_response_clear(&c->out);
}
