/*
 * store/models — the model catalog (docs/models.md) and trainings.
 *
 * A model is a folder kaon copied into DATA/models/NAME/VERSION when it
 * was registered, with its manifest (kaon-model.json) and what its
 * worker said about it (`kaon-model-worker describe`: metadata, argument
 * schemas, which of predict/train/warm it has). The models row holds the
 * current version; model_versions keeps every registered one.
 *
 * A training is a job of kind 'training' plus one trainings row keyed by
 * a DEEPaaS-style UUID (32 lowercase hex). Its status follows from the
 * job's state and the result file the worker writes (server side).
 *
 * Structs own their strings; *_clear frees them. JSON columns are text as
 * stored. Times are Unix seconds. Errors: -ENOENT, -EEXIST, store errors.
 */
#ifndef KAON_STORE_MODELS_H
#define KAON_STORE_MODELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

struct store_model {
	char *name;      /* [a-z0-9][a-z0-9._-]{0,63}: the name in /v2/models/NAME/ */
	char *version;   /* current version */
	char *title, *summary;
	char *keywords;  /* JSON array of strings */
	char *manifest;  /* JSON object: kaon-model.json as registered */
	char *describe;  /* JSON object: the worker's description (see docs/models.md) */
	char *dir;       /* absolute: DATA/models/NAME/VERSION */
	int64_t owner_id; /* whose Unix account runs its workers, charged for them */
	char *owner;
	bool public_predict;  /* anonymous predict allowed: manifest asks and an admin allowed it */
	bool predict_enabled; /* false: predict answers 402 (DEEPaaS's disabled endpoint) */
	bool train_enabled;
	int64_t created_at, updated_at;
};

void store_model_clear(struct store_model *m);
void store_models_free(struct store_model *ms, size_t n);

/* Register m->version of m->name: inserts the model_versions row and makes
 * it the current version (inserting or updating the models row; created_at
 * kept). -EEXIST when that version is registered already. */
int store_model_put(struct store *st, struct store_model *m);
int store_model_get(struct store *st, const char *name, struct store_model *out);
/* By name. */
int store_models_list(struct store *st, struct store_model **out, size_t *n);
/* Flags an admin changes. */
int store_model_set_flags(struct store *st, const char *name, bool public_predict,
			  bool predict_enabled, bool train_enabled);
/* The model and all its versions; -ENOENT when absent. */
int store_model_delete(struct store *st, const char *name);
/* One registered version (for trainings of an older one): fills dir,
 * manifest, describe, version, name only. */
int store_model_version_get(struct store *st, const char *name, const char *version,
			    struct store_model *out);

struct store_training {
	char *uuid;     /* 32 lowercase hex */
	char *model, *version;
	int64_t user_id;
	char *username;
	int64_t job_id;
	char *args;     /* JSON object: the parsed arguments, as DEEPaaS echoes them */
	int64_t created_at;
	bool deleted;   /* DELETEd: hidden from the DEEPaaS API, kept for accounting */
};

void store_training_clear(struct store_training *t);
void store_trainings_free(struct store_training *ts, size_t n);
int store_training_insert(struct store *st, const struct store_training *t);
int store_training_get(struct store *st, const char *uuid, struct store_training *out);
/* Not deleted, of one model; user_id -1 for every user's; oldest first. */
int store_trainings_list(struct store *st, const char *model, int64_t user_id,
			 struct store_training **out, size_t *n);
int store_training_mark_deleted(struct store *st, const char *uuid);

#endif
