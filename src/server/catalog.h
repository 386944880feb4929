/*
 * server/catalog — registering a model folder in the catalog
 * (docs/models.md, "Registering a model").
 *
 * Registration copies the folder into DATA/models/NAME/VERSION (owned by
 * the daemon, 0755/0644, so the model's code cannot be changed under a
 * running worker nor by its author after review), then asks the model's
 * own worker to describe it (`kaon-model-worker describe DIR`, run as the
 * owner's Unix account with a deadline: importing the module is running
 * its code), and records both in the store. Nothing is visible until all
 * of it worked: the copy lands under a temporary name and is renamed into
 * place, and a failure removes it.
 */
#ifndef KAON_SERVER_CATALOG_H
#define KAON_SERVER_CATALOG_H

#include <stdbool.h>

struct server;
struct store;
struct store_user;

enum {
	CATALOG_MAX_FILES = 20000,
	CATALOG_DESCRIBE_TIMEOUT_MS = 120 * 1000,
	CATALOG_DESCRIBE_MAX = 4 * 1024 * 1024,
};

/* What a failed registration answers: an HTTP status and a message. */
struct catalog_error {
	int status; /* 400 bad folder, 404 no such training, 409 version exists, 413 too
		     * large, 422 bad manifest or the worker could not describe it, 500 */
	char *message;
};

/* Register the model folder src_dir (absolute path on this machine) for
 * owner; allow_public: an admin lets anonymous users predict if the
 * manifest allows it. 0 and *name (new string) the model's name, or -1
 * and *err. */
int catalog_register(struct server *srv, struct store *st, const char *src_dir,
		     const struct store_user *owner, bool allow_public, char **name,
		     struct catalog_error *err);
/* Register the outputs of a finished training (status done) as a new
 * version of the model it trained: that version's folder, with the
 * training's output folder (~TRAINER/kaon-trainings/MODEL/UUID, read with
 * the trainer's rights; its own kaon-model.json, if any, left out) laid
 * over it, and kaon-model.json's version set to `version` (NULL:
 * "BASE+first 8 digits of the uuid"). 0 and *name, *version_out (new
 * strings), or -1 and *err: 404 no such training, 409 not done / version
 * exists / base version gone, 413, 422 bad version, 500. */
int catalog_register_training(struct server *srv, struct store *st, const char *uuid,
			      const char *version, const struct store_user *owner,
			      bool allow_public, char **name, char **version_out,
			      struct catalog_error *err);
/* [models] worker_program (DATA/libexec/kaon-model-worker), new string. */
char *catalog_worker_program(const struct server *srv);
/* DATA/models/NAME, new string. */
char *catalog_model_root(const struct server *srv, const char *name);

#endif
