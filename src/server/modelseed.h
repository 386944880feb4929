/*
 * server/modelseed — on a first start, register the model folders of
 * [models] seed_dir (`kaon server --seed-models DIR`; `make run` gives
 * the repository's models/), owned by the first admin, so that a new
 * installation's catalog holds the shipped models without anyone typing
 * `kaon models add`.
 *
 * Runs on a thread of its own once the server listens: describing a
 * model imports it (seconds for PyTorch), and the server must answer
 * meanwhile. A folder that fails is logged and skipped; the others go
 * on. Only on the first start: a model an admin removes stays removed.
 */
#ifndef KAON_SERVER_MODELSEED_H
#define KAON_SERVER_MODELSEED_H

struct server;

/* Start seeding when srv->cfg->models_seed_dir is set; 0, or -1 and
 * *cause when no thread could be had. */
int modelseed_start(struct server *srv, char **cause);
/* Wait for the seeding to end (between two models, it stops early). */
void modelseed_stop(struct server *srv);

#endif
