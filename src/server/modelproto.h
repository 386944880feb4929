/*
 * server/modelproto — the pure parts of the warm predict pool
 * (server/modelpool.c): what a manifest asks of its workers, whether a
 * request takes a worker, starts one, waits or is refused, and the
 * line protocol spoken with `kaon-model-worker serve` (docs/models.md):
 * one JSON object per line each way.
 *
 * Nothing here blocks, locks or touches the store, so the decisions are
 * unit-tested on their own (tests/server/modelproto_test.c).
 */
#ifndef KAON_SERVER_MODELPROTO_H
#define KAON_SERVER_MODELPROTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	MODELPROTO_MAX_WORKERS = 64,
	MODELPROTO_QUEUE_PER_WORKER = 4, /* waiting requests per worker the pool may have */
	MODELPROTO_DEFAULT_MAX = 2,
	MODELPROTO_DEFAULT_IDLE_S = 300,
};

/* What one model's workers are: manifest "workers" and "resources.predict". */
struct modelproto_limits {
	int min, max, idle_s;
	int cpus, gpus;
	int64_t mem_mb;
};

/* From the manifest (JSON text), defaults for what it leaves out: workers
 * {min 0, max 2, idle_s 300}, predict resources {cpus 1, mem_mb 1024,
 * gpus 0}. 0, or -EINVAL with *why (to free) naming the field. */
int modelproto_limits(const char *manifest, struct modelproto_limits *out, char **why);

/* The state of one model's pool as a request sees it. */
struct modelproto_counts {
	int idle, starting, busy; /* live workers by state */
	int waiting;		  /* requests queued, this one included when queued */
	bool queued;		  /* this request is in the queue already */
	bool first;		  /* ... and at its head (or the queue is empty) */
	bool backoff;		  /* a worker failed to start a moment ago */
	int max;		  /* workers.max */
};

enum modelproto_action {
	MODELPROTO_TAKE,	/* an idle worker is this request's */
	MODELPROTO_GROW,	/* start a worker, then wait (queued) */
	MODELPROTO_WAIT,	/* wait in the queue */
	MODELPROTO_FULL,	/* 429: the queue is full */
	MODELPROTO_UNAVAILABLE, /* 503: no worker, and starting one just failed */
};

/* One decision. Idle workers go to the oldest waiter first; a worker is
 * started while fewer are starting than requests wait (each cold start is
 * some waiter's) and the pool is under max; the queue holds at most
 * max × MODELPROTO_QUEUE_PER_WORKER requests. */
enum modelproto_action modelproto_decide(const struct modelproto_counts *c);
int modelproto_queue_max(int max);
/* Retry-After for a 429: the time the queue ahead needs at the average
 * prediction time seen (avg_ms, 0 unknown), at least 1 s. */
int modelproto_retry_after(int waiting, int max, int64_t avg_ms);

/* {"op":"predict","args":...,"files":...,"accept":...} and a newline, in
 * a new string of *len bytes. args and files may be NULL ({}). */
char *modelproto_request_line(json_t *args, json_t *files, const char *accept, size_t *len);

/* One answer line, parsed. */
struct modelproto_answer {
	int status;
	char *content_type; /* always set */
	char *body;	    /* the JSON answer serialised, or an error object; NULL with path */
	size_t len;
	char *path; /* a binary answer: the file the worker wrote */
};

/* Parse an answer line (without its newline): {"status", "content_type"?,
 * then "json" (serialised into body), "path" (an absolute path), or
 * "message" (body becomes kaon's error object)}. 0, or -EPROTO with
 * *why (to free). */
int modelproto_answer_parse(const char *line, size_t len, struct modelproto_answer *out,
			    char **why);
void modelproto_answer_clear(struct modelproto_answer *a);

/* kaon's error object {"error":{"code","message"}} for status, the code
 * following from the status; a new string of *len bytes. */
char *modelproto_error_body(int status, const char *message, size_t *len);

#endif
