/*
 * api/deepaas — the DEEPaaS v2 HTTP surface (docs/deepaas.md), so that
 * DEEPaaS clients and modules work with kaon unchanged.
 *
 *   deepaas.c          routes: versions, models, metadata, swagger.json,
 *                      /ui, /api, who may call what (auth, 402, 404, 405)
 *   deepaas_spec.c     pure: documents built from the models' stored
 *                      `describe` JSON (metadata, Swagger 2.0, the /api
 *                      page), Accept negotiation, query strings, training
 *                      arguments checked against their Swagger parameters,
 *                      training records
 *   deepaas_predict.c  POST .../predict/: arguments from the query, a form
 *                      (files streamed to a private temp dir) or JSON, then
 *                      the model's warm workers (server/modelpool.h)
 *   deepaas_train.c    trainings: a job of kind 'training' plus a trainings
 *                      row (store/models.h); records from the job's state
 *                      and the worker's OUTDIR/result.json
 *
 * The behaviour follows DEEPaaS 2.x as its code behaves (see the reference
 * in docs/deepaas.md), where clients depend on it: trailing slashes (308,
 * server/routes.c), 402 for disabled endpoints, 422 {field: [messages]},
 * records with status running|done|error|cancelled, the list a bare array.
 * Errors that DEEPaaS has no body for use kaon's {"error": {...}}.
 *
 * Handlers run on http worker threads; predict waits for the model on a
 * thread of its own while the request is parked (http.h).
 */
#ifndef KAON_API_DEEPAAS_H
#define KAON_API_DEEPAAS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "server/http.h"

struct store_model;

/* ---- handlers (server/routes.c) ---- */
void deepaas_root(struct http_req *req, struct http_resp *resp);
void deepaas_ui(struct http_req *req, struct http_resp *resp);
void deepaas_api_page(struct http_req *req, struct http_resp *resp);
void deepaas_swagger(struct http_req *req, struct http_resp *resp);
void deepaas_v2(struct http_req *req, struct http_resp *resp);
void deepaas_models(struct http_req *req, struct http_resp *resp);
void deepaas_model(struct http_req *req, struct http_resp *resp);
void deepaas_predict(struct http_req *req, struct http_resp *resp);
void deepaas_trainings(struct http_req *req, struct http_resp *resp);
void deepaas_training(struct http_req *req, struct http_resp *resp);

/* The trainings of a model the caller may see (their own; an admin's,
 * everyone's), oldest first, as GET .../train/ lists them
 * (deepaas_train.c); with_job adds what kaon's own API shows besides
 * (api/models.c: job_id, user, version, for the web page's live log).
 * The array, or NULL after answering an error. */
json_t *deepaas_trainings_json(struct http_req *req, struct http_resp *resp, const char *model,
			       bool with_job);

/* ---- shared by the handlers (deepaas.c) ---- */
enum deepaas_need {
	DEEPAAS_READ,    /* metadata: anonymous when the model is public */
	DEEPAAS_PREDICT, /* anonymous when the model is public */
	DEEPAAS_TRAIN,   /* an account, always */
};
/* Load the model named by the path's {name} and check that the caller may
 * do `need` with it: 0, or -1 after answering (401, 403, 404). */
int deepaas_model_load(struct http_req *req, struct http_resp *resp, enum deepaas_need need,
		       struct store_model *m);
/* 405 with the methods allowed (comma-separated). */
void deepaas_method_not_allowed(struct http_req *req, struct http_resp *resp, const char *allow);
/* DEEPaaS's 422 / 400 bodies: {field: [messages]}. */
void deepaas_resp_fields(struct http_resp *resp, int status, json_t *fields);

/* ---- pure parts (deepaas_spec.c), unit-tested ---- */

/* The v2 version document (GET /v2/) and the versions document (GET /). */
json_t *deepaas_v2_doc(void);
json_t *deepaas_versions_doc(void);

/* A model's metadata as DEEPaaS builds it: {id, name, links} with every
 * key of describe.metadata laid over it. describe may be NULL or not
 * JSON (then a placeholder description, as DEEPaaS gives). */
json_t *deepaas_metadata(const char *name, const char *describe);

/* The Swagger 2.0 document for these models (each with its stored
 * describe JSON); version is kaon's. */
json_t *deepaas_swagger_doc(const struct store_model *ms, size_t n, const char *version);

/* The /api page: HTML listing the operations of a Swagger document. */
char *deepaas_api_html(json_t *swagger);

/* Whether an Accept header prefers application/json over text/html (by
 * the q values of the most specific ranges matching each); a missing
 * header prefers neither (false). */
bool deepaas_accept_prefers_json(const char *accept);

/* Add the arguments of a query string ("a=1&b=x+y&a=2": percent and '+'
 * decoded) to args: the first value of a name is a string, later ones
 * make it an array of strings. Names already in args before the call are
 * left alone (an earlier source wins, as webargs reads query, form, then
 * JSON). */
void deepaas_query_args(const char *query, json_t *args);
/* Add one value from a form (same rules). */
void deepaas_args_add(json_t *args, json_t *seen_before, const char *name, const char *value);

/* Check raw arguments (strings, arrays of strings, or JSON values) against
 * a list of Swagger parameter objects the way webargs does: convert by
 * type, fill defaults, check required, enum, minimum/maximum and
 * minLength/maxLength. Returns the parsed object (names not declared are
 * dropped), or NULL with *errors = {name: [messages]}. header parameters
 * are read from headers (an object of lower-case names). */
json_t *deepaas_args_check(json_t *params, json_t *raw, json_t *headers, json_t **errors);

/* What a training looks like to the record builder. */
struct deepaas_training_view {
	const char *uuid;
	int64_t created_at;     /* Unix seconds */
	const char *args;       /* JSON text */
	const char *job_state;  /* pending, running, completed, failed, cancelled, timeout, oom, lost */
	int64_t job_end_time;   /* -1 unknown */
	int64_t exit_code;      /* -1 unknown */
	json_t *result;         /* OUTDIR/result.json parsed, or NULL */
	double result_time;     /* result.json's modification time (Unix, fractional); < 0 unknown */
	bool cancelled;         /* DELETE asked for it */
};
/* The record DEEPaaS shows: uuid, date, args, status and message or
 * result {output, finish_date, duration}. Times are local. */
json_t *deepaas_training_record(const struct deepaas_training_view *v);
/* Python's str(datetime) of a Unix time in local time, always with the
 * microseconds: "YYYY-MM-DD HH:MM:SS.ffffff" (buf of 32). */
void deepaas_format_date(double t, char *buf, size_t len);
/* Python's str(timedelta): "H:MM:SS.ffffff", "N day(s), H:MM:SS.ffffff". */
void deepaas_format_duration(double seconds, char *buf, size_t len);

#endif
