/*
 * server/manifest — a model folder's kaon-model.json (docs/models.md):
 * parsed, checked field by field, defaults filled. Pure: text in, struct
 * or a message naming the field out, so registration refuses a bad
 * manifest with a clear 422 and the pool and the trainings read the same
 * numbers.
 */
#ifndef KAON_SERVER_MANIFEST_H
#define KAON_SERVER_MANIFEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct manifest_resources {
	int cpus;
	int64_t mem_mb;
	int gpus;
	int64_t walltime_s; /* train only; 0 for predict (workers are long-lived) */
};

struct manifest {
	json_t *json;        /* the whole manifest, defaults filled in (owned) */
	const char *name;    /* these point into json */
	const char *version;
	const char *title;
	const char *summary;
	const char *runtime; /* "python" or "exec" */
	const char *thumbnail; /* relative path in the folder, or NULL */
	struct manifest_resources predict, train;
	int workers_min, workers_max;
	int64_t workers_idle_s;
	bool public_predict; /* the author allows anonymous predict (an admin must too) */
};

/* 0, or -1 with *cause ("field 'runtime.module' must be ..."). */
int manifest_parse(const char *text, struct manifest *out, char **cause);
/* The same, from a JSON object (taken, not stolen: the caller keeps its reference). */
int manifest_from_json(json_t *obj, struct manifest *out, char **cause);
void manifest_clear(struct manifest *m);
/* A model name: [a-z0-9][a-z0-9._-]{0,63}, not "." or "..". */
bool manifest_name_ok(const char *name);
/* A version: [0-9A-Za-z][0-9A-Za-z._+-]{0,31}. */
bool manifest_version_ok(const char *version);

#endif
