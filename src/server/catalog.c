/* server/catalog — registering a model folder (see catalog.h). */
#include "server/catalog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "exec/runas.h"
#include "identity/fsident.h"
#include "lib/fsio.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "server/manifest.h"
#include "server/modelpool.h"
#include "server/server.h"
#include "store/models.h"
#include "store/users.h"

enum { CATALOG_MANIFEST_MAX = 1024 * 1024, CATALOG_DEPTH_MAX = 32 };

char *catalog_worker_program(const struct server *srv)
{
	return xstrdup(srv->cfg->models_worker_program);
}

char *catalog_model_root(const struct server *srv, const char *name)
{
	return xasprintf("%s/models/%s", srv->cfg->data_dir, name);
}

__attribute__((format(printf, 3, 4))) static int catalog_fail(struct catalog_error *err,
								  int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	free(err->message);
	if (vasprintf(&err->message, fmt, ap) < 0)
		err->message = NULL;
	va_end(ap);
	err->status = status;
	return -1;
}

/* ---- copying the folder ------------------------------------------------ */

struct catalog_copy {
	const struct fsident *reader; /* whose rights read the source */
	bool overlay;		      /* files replace those already there */
	bool skip_manifest;	      /* leave out the top kaon-model.json */
	int64_t bytes, max_bytes;
	int files;
	struct catalog_error *err;
};

/* Open a source entry as the reader, so an admin registers only what
 * their own account may read. */
static int catalog_open_as(const struct catalog_copy *c, int dirfd, const char *name, int flags)
{
	if (fsident_enter(c->reader) < 0)
		return -1;
	int fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC);
	int saved = errno;
	fsident_leave(c->reader);
	errno = saved;
	return fd;
}

static int catalog_copy_file(struct catalog_copy *c, int src_fd, const char *dst, mode_t mode,
			     const char *rel)
{
	/* Executable bits are kept (an exec runtime's program); nothing is
	 * writable but by the daemon. */
	int out = open(dst, O_WRONLY | O_CREAT | (c->overlay ? O_TRUNC : O_EXCL) | O_CLOEXEC,
		       (mode & 0111) ? 0755 : 0644);
	if (out < 0)
		return catalog_fail(c->err, 500, "cannot create %s: %s", dst, strerror(errno));
	char buf[65536];
	ssize_t n;
	int rc = 0;
	while ((n = read(src_fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = catalog_fail(c->err, 400, "cannot read %s: %s", rel, strerror(errno));
			break;
		}
		c->bytes += n;
		if (c->bytes > c->max_bytes) {
			rc = catalog_fail(c->err, 413, "the model folder is over %lld MiB ([models] max_model_mib)",
					  (long long)(c->max_bytes >> 20));
			break;
		}
		if (fsio_write_all(out, buf, (size_t)n) < 0) {
			rc = catalog_fail(c->err, 500, "cannot write %s: %s", dst, strerror(errno));
			break;
		}
	}
	if (rc == 0 && fsync(out) < 0)
		rc = catalog_fail(c->err, 500, "cannot write %s: %s", dst, strerror(errno));
	close(out);
	return rc;
}

/* Copy the directory open at src_fd into dst (created), recursively:
 * directories and regular files only. */
static int catalog_copy_dir(struct catalog_copy *c, int src_fd, const char *dst, const char *rel,
			    int depth)
{
	if (depth > CATALOG_DEPTH_MAX)
		return catalog_fail(c->err, 400, "%s: folders nested too deep", rel);
	if (mkdir(dst, 0755) < 0 && errno != EEXIST)
		return catalog_fail(c->err, 500, "cannot create %s: %s", dst, strerror(errno));
	int dup_fd = dup(src_fd);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return catalog_fail(c->err, 400, "cannot list %s: %s", rel, strerror(errno));
	}
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (errno = 0, e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    strcmp(e->d_name, "__pycache__") == 0 ||
		    (c->skip_manifest && depth == 0 && strcmp(e->d_name, "kaon-model.json") == 0))
			continue;
		if (++c->files > CATALOG_MAX_FILES) {
			rc = catalog_fail(c->err, 413, "the model folder has over %d files", CATALOG_MAX_FILES);
			break;
		}
		char *sub_rel = xasprintf("%s/%s", rel, e->d_name);
		char *sub_dst = xasprintf("%s/%s", dst, e->d_name);
		int fd = catalog_open_as(c, src_fd, e->d_name, O_RDONLY | O_NONBLOCK);
		struct stat sb;
		if (fd < 0 && errno == ELOOP)
			rc = catalog_fail(c->err, 400, "%s is a symbolic link: a model folder holds only "
					  "files and folders", sub_rel);
		else if (fd < 0)
			rc = catalog_fail(c->err, 400, "cannot open %s: %s", sub_rel, strerror(errno));
		else if (fstat(fd, &sb) < 0)
			rc = catalog_fail(c->err, 400, "cannot stat %s: %s", sub_rel, strerror(errno));
		else if (S_ISDIR(sb.st_mode))
			rc = catalog_copy_dir(c, fd, sub_dst, sub_rel, depth + 1);
		else if (S_ISREG(sb.st_mode))
			rc = catalog_copy_file(c, fd, sub_dst, sb.st_mode, sub_rel);
		else
			rc = catalog_fail(c->err, 400, "%s is not a file nor a folder", sub_rel);
		if (fd >= 0)
			close(fd);
		free(sub_rel);
		free(sub_dst);
	}
	if (rc == 0 && errno != 0)
		rc = catalog_fail(c->err, 400, "cannot list %s: %s", rel, strerror(errno));
	closedir(d);
	return rc;
}

/* Remove a tree this module created (no symlinks in it by construction). */
static void catalog_remove_tree(const char *path)
{
	DIR *d = opendir(path);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char *sub = xasprintf("%s/%s", path, e->d_name);
			struct stat sb;
			if (lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode))
				catalog_remove_tree(sub);
			else
				unlink(sub);
			free(sub);
		}
		closedir(d);
	}
	rmdir(path);
}

/* ---- describe -------------------------------------------------------- */

/* Run the worker's describe as the owner; the parsed object, or NULL. */
static json_t *catalog_describe(struct server *srv, const struct fsident *owner_id,
				const struct store_user *owner, const char *dir,
				struct catalog_error *err)
{
	char *prog = catalog_worker_program(srv);
	char *home = xasprintf("HOME=%s", owner->home ? owner->home : "/");
	char *argv[] = { prog, (char *)"describe", (char *)dir, NULL };
	/* The model folder is the daemon's: Python must not try to write
	 * bytecode next to it. */
	char *envp[] = { (char *)"PATH=/usr/local/bin:/usr/bin:/bin", home,
			 (char *)"LANG=C.UTF-8", (char *)"PYTHONDONTWRITEBYTECODE=1", NULL };
	struct runas_result r;
	char *cause = NULL;
	json_t *out = NULL;
	if (runas(owner_id, dir, argv, envp, CATALOG_DESCRIBE_TIMEOUT_MS, CATALOG_DESCRIBE_MAX, &r,
		  &cause) < 0) {
		catalog_fail(err, 500, "cannot run %s: %s", prog, cause);
		free(cause);
		goto out;
	}
	if (r.timed_out) {
		catalog_fail(err, 422, "the model's worker did not describe it within %d s",
			     CATALOG_DESCRIBE_TIMEOUT_MS / 1000);
	} else if (r.exit_code != 0) {
		/* The end of stderr is where Python puts the reason. */
		const char *tail = r.err_len > 600 ? r.err + r.err_len - 600 : r.err;
		catalog_fail(err, 422, "the model's worker could not load it (exit %d): %s",
			     r.exit_code, *tail ? tail : "no message");
	} else {
		json_error_t jerr;
		out = json_loads(r.out, 0, &jerr);
		if (!json_is_object(out) || !json_is_array(json_object_get(out, "predict_args")) ||
		    !json_is_array(json_object_get(out, "train_args"))) {
			json_decref(out);
			out = NULL;
			catalog_fail(err, 422, "the model's worker answered describe with something "
				     "that is not its description");
		}
	}
	runas_result_clear(&r);
out:
	free(home);
	free(prog);
	return out;
}

/* ---- register -------------------------------------------------------- */

static char *catalog_read_manifest(const struct catalog_copy *c, int dirfd, struct catalog_error *err)
{
	int fd = catalog_open_as(c, dirfd, "kaon-model.json", O_RDONLY);
	if (fd < 0) {
		catalog_fail(err, 400, errno == ENOENT ? "the folder has no kaon-model.json"
						       : "cannot open kaon-model.json: %s",
			     strerror(errno));
		return NULL;
	}
	char *text = xmalloc(CATALOG_MANIFEST_MAX + 1);
	size_t len = 0;
	ssize_t n;
	while (len < CATALOG_MANIFEST_MAX &&
	       (n = read(fd, text + len, CATALOG_MANIFEST_MAX - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	text[len] = '\0';
	if (len == CATALOG_MANIFEST_MAX) {
		catalog_fail(err, 413, "kaon-model.json is over %d bytes", CATALOG_MANIFEST_MAX);
		free(text);
		return NULL;
	}
	return text;
}

static char *catalog_keywords(const struct manifest *m)
{
	json_t *k = json_object_get(m->json, "keywords");
	return json_dumps(k ? k : json_array(), JSON_COMPACT);
}

/* Where a folder being registered is built, and where it goes. */
struct catalog_place {
	char *root, *tmp, *final;
};

static int catalog_place_open(struct server *srv, const struct manifest *m,
			      struct catalog_place *pl, struct catalog_error *err)
{
	pl->root = catalog_model_root(srv, m->name);
	pl->final = xasprintf("%s/%s", pl->root, m->version);
	pl->tmp = xasprintf("%s/.incoming-%s-%ld", pl->root, m->version, (long)getpid());
	if (fsio_mkdir_p(pl->root, 0755) < 0)
		return catalog_fail(err, 500, "cannot create %s: %s", pl->root, strerror(errno));
	catalog_remove_tree(pl->tmp); /* a crashed earlier attempt */
	return 0;
}

/* Remove what is left of a failed registration; free the paths. */
static void catalog_place_close(struct catalog_place *pl, bool failed)
{
	if (failed && pl->tmp)
		catalog_remove_tree(pl->tmp);
	free(pl->root);
	free(pl->tmp);
	free(pl->final);
}

/* Refuse a version registered already (409). */
static int catalog_version_free(struct store *st, const struct manifest *m,
				struct catalog_error *err)
{
	struct store_model existing = { 0 };
	if (store_model_version_get(st, m->name, m->version, &existing) < 0)
		return 0;
	store_model_clear(&existing);
	return catalog_fail(err, 409, "model %s version %s is registered already: raise the version "
			    "in kaon-model.json", m->name, m->version);
}

/* pl->tmp holds the whole folder described by m: put it in place, have
 * the owner's worker describe it, record it. */
static int catalog_install(struct server *srv, struct store *st, const struct manifest *m,
			   struct catalog_place *pl, const struct fsident *runner,
			   const struct store_user *owner, bool allow_public, const char *from,
			   struct catalog_error *err)
{
	if (rename(pl->tmp, pl->final) < 0)
		return catalog_fail(err, errno == EEXIST || errno == ENOTEMPTY ? 409 : 500,
				    "cannot put the model in place at %s: %s", pl->final,
				    strerror(errno));
	json_t *describe = catalog_describe(srv, runner, owner, pl->final, err);
	if (!describe) {
		catalog_remove_tree(pl->final);
		return -1;
	}
	char *manifest_text = json_dumps(m->json, JSON_COMPACT);
	char *describe_text = json_dumps(describe, JSON_COMPACT);
	char *keywords = catalog_keywords(m);
	struct store_model row = {
		.name = (char *)m->name, .version = (char *)m->version, .title = (char *)m->title,
		.summary = (char *)(m->summary ? m->summary : ""), .keywords = keywords,
		.manifest = manifest_text, .describe = describe_text, .dir = pl->final,
		.owner_id = owner->id, .owner = owner->username,
		.public_predict = allow_public && m->public_predict,
		.predict_enabled = json_is_true(json_object_get(describe, "has_predict")),
		.train_enabled = json_is_true(json_object_get(describe, "has_train")),
	};
	int rc = store_model_put(st, &row);
	free(manifest_text);
	free(describe_text);
	free(keywords);
	json_decref(describe);
	if (rc < 0) {
		catalog_remove_tree(pl->final);
		return catalog_fail(err, rc == -EEXIST ? 409 : 500, "cannot record model %s %s: %s",
				    m->name, m->version, strerror(-rc));
	}
	/* Workers of the previous version serve the old code: replace them. */
	modelpool_drain(srv, m->name);
	log_info("models: registered %s %s for %s from %s", m->name, m->version, owner->username,
		 from);
	return 0;
}

int catalog_register(struct server *srv, struct store *st, const char *src_dir,
		     const struct store_user *owner, bool allow_public, char **name,
		     struct catalog_error *err)
{
	memset(err, 0, sizeof *err);
	struct fsident runner;
	struct manifest m = { 0 };
	struct catalog_place pl = { 0 };
	char *text = NULL;
	int src_fd = -1, rc = -1;
	if (src_dir[0] != '/')
		return catalog_fail(err, 400, "the folder must be an absolute path on the server");
	if (fsident_load(owner->unix_user, (uid_t)owner->uid, (gid_t)owner->gid, &runner) < 0)
		return catalog_fail(err, 400, "%s's Unix account cannot run a model", owner->username);
	/* The folder is read with the owner's rights: an admin registers
	 * only what the model's account may read. */
	struct catalog_copy c = { .reader = &runner, .max_bytes = srv->cfg->max_model_mib << 20,
				  .err = err };
	src_fd = catalog_open_as(&c, AT_FDCWD, src_dir, O_RDONLY | O_DIRECTORY);
	if (src_fd < 0) {
		catalog_fail(err, 400, "cannot open the folder %s: %s", src_dir, strerror(errno));
		goto out;
	}
	if (!(text = catalog_read_manifest(&c, src_fd, err)))
		goto out;
	char *cause = NULL;
	if (manifest_parse(text, &m, &cause) < 0) {
		catalog_fail(err, 422, "kaon-model.json: %s", cause);
		free(cause);
		goto out;
	}
	if (catalog_version_free(st, &m, err) < 0 || catalog_place_open(srv, &m, &pl, err) < 0 ||
	    catalog_copy_dir(&c, src_fd, pl.tmp, ".", 0) < 0 ||
	    catalog_install(srv, st, &m, &pl, &runner, owner, allow_public, src_dir, err) < 0)
		goto out;
	*name = xstrdup(m.name);
	rc = 0;
out:
	catalog_place_close(&pl, rc < 0);
	if (src_fd >= 0)
		close(src_fd);
	free(text);
	manifest_clear(&m);
	return rc;
}

/* ---- a training's outputs as a new version ------------------------------ */

/* The base version's manifest with its version replaced, parsed. */
static int catalog_training_manifest(const struct store_model *base, const char *version,
				     const struct store_training *t, struct manifest *m,
				     struct catalog_error *err)
{
	json_t *j = json_loads(base->manifest, 0, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		return catalog_fail(err, 500, "model %s %s has no readable manifest", base->name,
				    base->version);
	}
	char *v = version ? xstrdup(version) : xasprintf("%s+%.8s", base->version, t->uuid);
	json_object_set_new(j, "version", json_string(v));
	free(v);
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	char *cause = NULL;
	int rc = manifest_parse(text, m, &cause);
	free(text);
	if (rc < 0) {
		catalog_fail(err, 422, "%s", cause);
		free(cause);
	}
	return rc;
}

/* A finished training's result.json, read as the trainer from the open
 * output folder: 0 when its status is done. */
static int catalog_training_done(const struct catalog_copy *c, int out_fd, const char *uuid,
				 struct catalog_error *err)
{
	int fd = catalog_open_as(c, out_fd, "result.json", O_RDONLY);
	json_t *res = fd >= 0 ? json_loadfd(fd, 0, NULL) : NULL;
	if (fd >= 0)
		close(fd);
	const char *status = json_string_value(json_object_get(res, "status"));
	int rc = 0;
	if (!status)
		rc = catalog_fail(err, 409, "training %s has no result yet: only a finished "
				  "training's outputs can be registered", uuid);
	else if (strcmp(status, "done") != 0)
		rc = catalog_fail(err, 409, "training %s ended with status '%s': only a training that "
				  "is done can be registered", uuid, status);
	json_decref(res);
	return rc;
}

int catalog_register_training(struct server *srv, struct store *st, const char *uuid,
			      const char *version, const struct store_user *owner,
			      bool allow_public, char **name, char **version_out,
			      struct catalog_error *err)
{
	memset(err, 0, sizeof *err);
	struct store_training t = { 0 };
	struct store_model base = { 0 };
	struct store_user trainer = { 0 };
	struct manifest m = { 0 };
	struct catalog_place pl = { 0 };
	struct fsident runner, trainer_id, daemon = { 0 };
	char *outdir = NULL;
	int base_fd = -1, out_fd = -1, rc = -1;
	if (fsident_load(owner->unix_user, (uid_t)owner->uid, (gid_t)owner->gid, &runner) < 0)
		return catalog_fail(err, 400, "%s's Unix account cannot run a model", owner->username);
	if (store_training_get(st, uuid, &t) < 0 || t.deleted) {
		catalog_fail(err, 404, "no training %s", uuid);
		goto out;
	}
	if (store_model_version_get(st, t.model, t.version, &base) < 0) {
		catalog_fail(err, 409, "model %s version %s, which training %s used, is no longer "
			     "registered", t.model, t.version, uuid);
		goto out;
	}
	if (store_user_get_by_id(st, t.user_id, &trainer) < 0 ||
	    fsident_load(trainer.unix_user, (uid_t)trainer.uid, (gid_t)trainer.gid,
			 &trainer_id) < 0) {
		catalog_fail(err, 409, "the account that ran training %s is gone", uuid);
		goto out;
	}
	if (catalog_training_manifest(&base, version, &t, &m, err) < 0 ||
	    catalog_version_free(st, &m, err) < 0)
		goto out;
	/* The registered version, as the daemon owns it; then the outputs,
	 * read with the trainer's rights, over it; then the manifest. */
	struct catalog_copy c = { .reader = &daemon, .max_bytes = srv->cfg->max_model_mib << 20,
				  .err = err };
	base_fd = open(base.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (base_fd < 0) {
		catalog_fail(err, 500, "cannot open %s: %s", base.dir, strerror(errno));
		goto out;
	}
	outdir = xasprintf("%s/kaon-trainings/%s/%s", trainer.home, t.model, t.uuid);
	c.reader = &trainer_id;
	out_fd = catalog_open_as(&c, AT_FDCWD, outdir, O_RDONLY | O_DIRECTORY);
	if (out_fd < 0) {
		catalog_fail(err, 409, "cannot open training %s's output folder %s: %s", uuid, outdir,
			     strerror(errno));
		goto out;
	}
	if (catalog_training_done(&c, out_fd, uuid, err) < 0 ||
	    catalog_place_open(srv, &m, &pl, err) < 0)
		goto out;
	c.reader = &daemon;
	if (catalog_copy_dir(&c, base_fd, pl.tmp, ".", 0) < 0)
		goto out;
	c.reader = &trainer_id;
	c.overlay = c.skip_manifest = true;
	if (catalog_copy_dir(&c, out_fd, pl.tmp, ".", 0) < 0)
		goto out;
	char *path = xasprintf("%s/kaon-model.json", pl.tmp);
	char *text = json_dumps(m.json, JSON_INDENT(2));
	int wrc = fsio_write_atomic(path, text, strlen(text), 0644);
	free(text);
	free(path);
	if (wrc < 0) {
		catalog_fail(err, 500, "cannot write the manifest: %s", strerror(-wrc));
		goto out;
	}
	char *from = xasprintf("training %s (%s %s)", uuid, t.model, t.version);
	rc = catalog_install(srv, st, &m, &pl, &runner, owner, allow_public, from, err);
	free(from);
	if (rc == 0) {
		*name = xstrdup(m.name);
		*version_out = xstrdup(m.version);
	}
out:
	catalog_place_close(&pl, rc < 0);
	if (base_fd >= 0)
		close(base_fd);
	if (out_fd >= 0)
		close(out_fd);
	free(outdir);
	manifest_clear(&m);
	store_user_clear(&trainer);
	store_model_clear(&base);
	store_training_clear(&t);
	return rc;
}
