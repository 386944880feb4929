/*
 * server/modelpool — warm predict workers (docs/models.md).
 *
 * Each registered model's predictions are served by worker processes
 * that import the model once and stay up: `kaon-model-worker serve DIR
 * --socket PATH` (DATA/libexec, src/libexec/kaon-model-worker.py), each a
 * job of kind 'worker' owned by the model's owner, so the scheduler
 * places it (GPUs included), and quotas, fair share and reservations hold.
 * The pool per model grows with load up to the manifest's workers.max,
 * shrinks to workers.min after workers.idle_s without requests, replaces
 * a worker that dies, and survives a daemon restart (worker jobs and their
 * sockets outlive it, like sessions).
 *
 * One request at a time per worker, over a persistent unix-socket
 * connection carrying one JSON object per line each way (the protocol in
 * docs/models.md).
 */
#ifndef KAON_SERVER_MODELPOOL_H
#define KAON_SERVER_MODELPOOL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct server;

struct modelpool_request {
	const char *model;  /* registered name */
	json_t *args;	    /* object: name -> string, array of strings (query and form
			     * values), or any JSON value (a JSON body); borrowed */
	json_t *files;	    /* object: name -> array of {"path", "filename",
			     * "content_type"}; the caller deletes the files after the call */
	const char *accept; /* the Accept header / accept argument, or NULL */
	int64_t user_id;    /* the caller, -1 anonymous (logs only) */
	int timeout_ms;	    /* 0: [models] predict_timeout_s */
	int cancel_fd;	    /* becomes readable or hangs up when the client goes away; -1 none */
};

struct modelpool_response {
	int status;	    /* as the worker said (200, 400, 415, 422, 500, 501), or the
			     * pool's: 429 full (retry_after_s set), 502 worker died, 503
			     * no worker could start, 504 timeout, 499 client went away */
	char *content_type; /* owned */
	char *body;	    /* owned, len bytes */
	size_t len;
	int retry_after_s;
};

/* Load the registered models, adopt the worker jobs a previous daemon
 * left running (jobs of models no longer registered, or of another
 * version, are cancelled) and start the housekeeping thread (idle
 * shrink, workers.min, dead workers, wall-time replacement). */
int modelpool_start(struct server *srv, char **cause);
/* Before http_stop(): predictions in flight end now (503) and new ones
 * get 503, so that stopping the HTTP server never waits on a model.
 * Worker jobs go on running, for the next daemon to adopt. */
void modelpool_stop(struct server *srv);
/* After http_stop(): free what modelpool_start made. */
void modelpool_free(struct server *srv);
/* Run one prediction; blocks the calling thread until the answer, the
 * timeout or the client's departure (HTTP handlers call it through
 * server/modelcall.h, off their thread). Always fills *out (0), or returns
 * -ENOENT when no such model. */
int modelpool_predict(struct server *srv, const struct modelpool_request *rq,
		      struct modelpool_response *out);
void modelpool_response_clear(struct modelpool_response *r);
/* Stop the model's workers (unregistered, new version, predict disabled). */
void modelpool_drain(struct server *srv, const char *model);

#endif
