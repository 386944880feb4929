/*
 * server/modelcall — one prediction for an HTTP request: run by the
 * model's warm workers (server/modelpool.h) on a thread of its own while
 * the request is parked (server/offload.h), then answered with the
 * worker's answer or the pool's refusal (429 with Retry-After, 502, 503,
 * 504).
 *
 * Use from a sink's end() (http.h): the first end() fills rq and calls
 * modelcall_start(); every end() calls modelcall_answer(), which parks
 * the request until the prediction is done. The sink's release() calls
 * modelcall_clear(), which waits for the prediction to return, so what
 * rq points to (arguments, uploaded files) must stay until then.
 */
#ifndef KAON_SERVER_MODELCALL_H
#define KAON_SERVER_MODELCALL_H

#include <stdbool.h>

#include "server/http.h"
#include "server/modelpool.h"

struct offload;

struct modelcall {
	struct modelpool_request rq; /* the caller's, before modelcall_start */
	struct server *srv;
	struct offload *call;
	struct modelpool_response out;
	int rc;
};

void modelcall_start(struct modelcall *c, struct http_req *req);
bool modelcall_started(const struct modelcall *c);
/* The answer into resp, or http_resp_wait(resp) while it runs. */
void modelcall_answer(struct modelcall *c, struct http_resp *resp);
void modelcall_clear(struct modelcall *c);

#endif
