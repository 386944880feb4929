/* server/modelseed — the shipped models on a first start (modelseed.h). */
#include "server/modelseed.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "server/catalog.h"
#include "server/server.h"
#include "store/db.h"
#include "store/users.h"

struct modelseed {
	struct server *srv;
	pthread_t thread;
	atomic_bool stop;
};

static int modelseed_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The folders of dir that hold a kaon-model.json, sorted; NULL on error. */
static char **modelseed_folders(const char *dir, size_t *n)
{
	*n = 0;
	DIR *d = opendir(dir);
	if (!d) {
		log_warn("models: cannot list the seed folder %s: %s", dir, strerror(errno));
		return NULL;
	}
	char **out = NULL;
	size_t cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *path = xasprintf("%s/%s", dir, e->d_name);
		char *manifest = xasprintf("%s/kaon-model.json", path);
		struct stat sb;
		if (stat(manifest, &sb) == 0 && S_ISREG(sb.st_mode)) {
			if (*n == cap)
				out = xrealloc(out, (cap = cap ? 2 * cap : 8) * sizeof *out);
			out[(*n)++] = path;
		} else {
			free(path);
		}
		free(manifest);
	}
	closedir(d);
	if (*n)
		qsort(out, *n, sizeof *out, modelseed_cmp);
	return out;
}

static void *modelseed_main(void *arg)
{
	struct modelseed *ms = arg;
	struct server *srv = ms->srv;
	struct store *st = NULL;
	struct store_user admin = {0};
	char *cause = NULL;
	char *db = xasprintf("%s/kaon.db", srv->cfg->data_dir);
	if (store_open(db, &st, &cause) < 0) {
		log_error("models: seeding: %s", cause);
		free(cause);
		goto out;
	}
	/* The admin made by this first start owns the shipped models: its
	 * account runs their warm workers. */
	if (store_user_get(st, "admin", &admin) < 0) {
		log_warn("models: seeding: no user 'admin' to own the shipped models");
		goto out;
	}
	size_t n = 0;
	char **dirs = modelseed_folders(srv->cfg->models_seed_dir, &n);
	for (size_t i = 0; i < n; i++) {
		if (!atomic_load(&ms->stop)) {
			struct catalog_error err;
			char *name = NULL;
			if (catalog_register(srv, st, dirs[i], &admin, false, &name, &err) < 0) {
				log_warn("models: seeding: %s not registered: %s", dirs[i],
					 err.message ? err.message : "failed");
				free(err.message);
			}
			free(name);
		}
		free(dirs[i]);
	}
	free(dirs);
out:
	store_user_clear(&admin);
	if (st)
		store_close(st);
	free(db);
	return NULL;
}

int modelseed_start(struct server *srv, char **cause)
{
	if (!srv->cfg->models_seed_dir || !srv->cfg->models_seed_dir[0])
		return 0;
	struct modelseed *ms = xcalloc(1, sizeof *ms);
	ms->srv = srv;
	atomic_init(&ms->stop, false);
	int rc = pthread_create(&ms->thread, NULL, modelseed_main, ms);
	if (rc != 0) {
		*cause = xasprintf("cannot start the model seeding thread: %s", strerror(rc));
		free(ms);
		return -1;
	}
	srv->seed = ms;
	return 0;
}

void modelseed_stop(struct server *srv)
{
	struct modelseed *ms = srv->seed;
	if (!ms)
		return;
	atomic_store(&ms->stop, true);
	pthread_join(ms->thread, NULL);
	free(ms);
	srv->seed = NULL;
}
