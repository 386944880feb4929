/*
 * api/deepaas_train — DEEPaaS trainings (deepaas.h): POST, GET (list),
 * GET and DELETE one.
 *
 * A training is a kaon job of kind 'training', owned by the caller and
 * queued, placed and limited like any of their jobs, plus a trainings row
 * (store/models.h) that gives it its DEEPaaS UUID. Both are written in one
 * transaction, so a training is either wholly there or not at all, and
 * both outlive the daemon: a training survives a restart by construction.
 *
 * The job runs `WORKER train DIR --args OUTDIR/args.json --out OUTDIR` in
 * OUTDIR = ~/kaon-trainings/MODEL/UUID, which the job itself creates, as
 * the user, before it starts the worker: nothing is written into a home
 * directory by root. The arguments travel in the job's environment.
 *
 * Arguments are checked here first, against the model's train_args (the
 * Swagger view of its fields that `describe` stored): types, defaults,
 * required, choices, ranges, lengths, so a bad request gets DEEPaaS's 422
 * at once and the record shows the parsed arguments as DEEPaaS does. What
 * a Swagger parameter cannot say (a module's own validator) the worker
 * checks again when the job runs; its refusal shows as status "error"
 * with the worker's message and errors.
 *
 * The record's status comes from the job's state and OUTDIR/result.json,
 * which the daemon reads as the training's owner (fsident), never as
 * root: the file is in the user's home and could be a link to anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/deepaas.h"
#include "api/jobspec.h"
#include "config/config.h"
#include "identity/fsident.h"
#include "lib/fsio.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "server/scheduler.h"
#include "server/server.h"
#include "store/db.h"
#include "store/groups.h"
#include "store/jobs.h"
#include "store/models.h"
#include "store/users.h"

enum { DEEPAAS_RESULT_MAX = 16 << 20 };

/* The job's program: make OUTDIR, write the arguments, become the worker. */
static const char deepaas_train_script[] =
	"set -e; umask 077; mkdir -p \"$1\"; cd \"$1\"; "
	"printf '%s' \"$KAON_TRAINING_ARGS\" > args.json; "
	"exec \"$2\" train \"$3\" --args \"$1/args.json\" --out \"$1\"";

/* ---- arguments from a whole request ------------------------------------- */

/* Collects a form's fields into an args object; values come in pieces. */
struct deepaas_form_acc {
	json_t *args, *before;
	char *name;
	char *val;
	size_t len;
	bool is_file;
};

static void deepaas_form_flush(struct deepaas_form_acc *a)
{
	if (a->name && !a->is_file)
		deepaas_args_add(a->args, a->before, a->name, a->val ? a->val : "");
	free(a->name);
	free(a->val);
	a->name = a->val = NULL;
	a->len = 0;
}

static int deepaas_form_piece(void *ctx, const char *name, const char *filename,
			      const char *content_type, const char *data, unsigned long long off,
			      size_t len)
{
	struct deepaas_form_acc *a = ctx;
	(void)content_type;
	if (off == 0) {
		deepaas_form_flush(a);
		a->name = xstrdup(name);
		/* Trainings take no uploads (DEEPaaS could not pass them to a
		 * training either): file parts are left out. */
		a->is_file = filename != NULL;
	}
	if (a->is_file || len == 0)
		return 0;
	a->val = xrealloc(a->val, a->len + len + 1);
	memcpy(a->val + a->len, data, len);
	a->len += len;
	a->val[a->len] = '\0';
	return 0;
}

static int deepaas_header_add(void *ctx, const char *name, const char *value)
{
	char *lower = xstrdup(name);
	for (char *c = lower; *c; c++)
		*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
	if (!json_object_get(ctx, lower))
		json_object_set_new(ctx, lower, json_string(value));
	free(lower);
	return 0;
}

/* The raw arguments of a request whose body is read: query string, then a
 * form or JSON body. NULL after answering (400 for a body that is not
 * what its Content-Type says). */
static json_t *deepaas_raw_args(struct http_req *req, struct http_resp *resp)
{
	json_t *args = json_object();
	const char *q = strchr(req->target, '?');
	if (q)
		deepaas_query_args(q + 1, args);
	const char *ctype = http_req_header(req, "Content-Type");
	if (req->body_len == 0 || !ctype)
		return args;
	if (strncasecmp(ctype, "application/json", 16) == 0) {
		json_t *body = json_loadb(req->body, req->body_len, 0, NULL);
		if (!body) {
			json_decref(args);
			deepaas_resp_fields(resp, 400, json_pack("{s:[s]}", "json", "Invalid JSON body."));
			return NULL;
		}
		const char *k;
		json_t *v;
		json_object_foreach(body, k, v) if (!json_object_get(args, k))
			json_object_set(args, k, v);
		json_decref(body);
		return args;
	}
	struct deepaas_form_acc acc = { .args = args, .before = json_deep_copy(args) };
	struct http_form *f = http_form_new(req, deepaas_form_piece, &acc);
	if (f) {
		int rc = http_form_feed(f, req->body, req->body_len);
		if (http_form_free(f) < 0 || rc < 0) {
			deepaas_form_flush(&acc);
			json_decref(acc.before);
			json_decref(args);
			http_resp_error(resp, 400, "malformed_form", "the form body is malformed");
			return NULL;
		}
		deepaas_form_flush(&acc);
	}
	json_decref(acc.before);
	return args;
}

/* ---- the record ------------------------------------------------------------- */

/* OUTDIR/result.json and its modification time, read as the training's
 * owner. NULL when absent or unreadable. */
static json_t *deepaas_result_read(struct store *st, const struct store_training *t,
				   double *mtime)
{
	*mtime = -1;
	struct store_user u = { 0 };
	if (store_user_get_by_id(st, t->user_id, &u) < 0)
		return NULL;
	char *path = xasprintf("%s/kaon-trainings/%s/%s/result.json", u.home, t->model, t->uuid);
	struct fsident id;
	json_t *res = NULL;
	if (fsident_load(u.unix_user, (uid_t)u.uid, (gid_t)u.gid, &id) == 0 &&
	    fsident_enter(&id) == 0) {
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		struct stat sb;
		if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    sb.st_size <= DEEPAAS_RESULT_MAX) {
			*mtime = (double)sb.st_mtim.tv_sec + (double)sb.st_mtim.tv_nsec / 1e9;
			res = json_loadfd(fd, 0, NULL);
		}
		if (fd >= 0)
			close(fd);
		fsident_leave(&id);
	}
	free(path);
	store_user_clear(&u);
	if (res && !json_is_object(res)) {
		json_decref(res);
		res = NULL;
	}
	return res;
}

static json_t *deepaas_record(struct store *st, const struct store_training *t, bool cancelled)
{
	struct store_job j = { 0 };
	int rc = store_job_get(st, t->job_id, &j);
	struct deepaas_training_view v = {
		.uuid = t->uuid,
		.created_at = t->created_at,
		.args = t->args,
		.job_state = rc == 0 ? j.state : "lost",
		.job_end_time = rc == 0 ? j.end_time : -1,
		.exit_code = rc == 0 && j.has_exit && j.signal == 0 ? j.exit_code : -1,
		.result_time = -1,
		.cancelled = cancelled,
	};
	bool live = strcmp(v.job_state, "pending") == 0 || strcmp(v.job_state, "running") == 0;
	if (!live && !cancelled)
		v.result = deepaas_result_read(st, t, &v.result_time);
	json_t *r = deepaas_training_record(&v);
	json_decref(v.result);
	store_job_clear(&j);
	return r;
}

json_t *deepaas_trainings_json(struct http_req *req, struct http_resp *resp, const char *model,
			       bool with_job)
{
	struct store_training *ts = NULL;
	size_t n = 0;
	int rc = store_trainings_list(req->store, model, req->who.admin ? -1 : req->who.user_id,
				      &ts, &n);
	if (rc < 0) {
		http_resp_errno(resp, rc, "trainings of '%s'", model);
		return NULL;
	}
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *r = deepaas_record(req->store, &ts[i], false);
		if (with_job) {
			json_object_set_new(r, "job_id", json_integer(ts[i].job_id));
			json_object_set_new(r, "user",
					    json_string(ts[i].username ? ts[i].username : ""));
			json_object_set_new(r, "version",
					    json_string(ts[i].version ? ts[i].version : ""));
		}
		json_array_append_new(list, r);
	}
	store_trainings_free(ts, n);
	return list;
}

/* ---- POST .../train/ ------------------------------------------------------- */

static void deepaas_uuid(char out[33])
{
	unsigned char raw[16];
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
		log_error("deepaas: getrandom() failed: %s", strerror(errno));
		abort();
	}
	raw[6] = (unsigned char)((raw[6] & 0x0f) | 0x40); /* version 4, as uuid4() */
	raw[8] = (unsigned char)((raw[8] & 0x3f) | 0x80);
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

/* The job's resources: the manifest's resources.train, else the group's
 * defaults; 0, or -1 after answering 422 when over a limit. */
static int deepaas_train_resources(struct http_req *req, struct http_resp *resp,
				   const struct store_model *m, const struct store_group *g,
				   struct jobspec_resources *r)
{
	json_t *man = json_loads(m->manifest, 0, NULL);
	json_t *res = json_object_get(json_object_get(man, "resources"), "train");
	json_t *v;
	r->cpus = json_is_integer(v = json_object_get(res, "cpus")) ? json_integer_value(v)
								     : g->default_cpus;
	r->mem_mb = json_is_integer(v = json_object_get(res, "mem_mb")) ? json_integer_value(v)
									 : g->default_mem_mb;
	r->gpus = json_is_integer(v = json_object_get(res, "gpus")) ? json_integer_value(v) : 0;
	r->walltime_s = json_is_integer(v = json_object_get(res, "walltime_s"))
				? json_integer_value(v)
				: g->default_walltime_s;
	json_decref(man);
	const struct inventory *inv = &req->srv->inv;
	struct jobspec_capacity cap = {
		.node_cpus = inv->cpus, .node_mem_mb = inv->mem_mb, .node_gpus = inv->ngpus,
		.max_cpus = g->max_cpus, .max_mem_mb = g->max_mem_mb, .max_gpus = g->max_gpus,
		.max_walltime_s = g->max_walltime_s,
	};
	char *problem = jobspec_check(r, &cap, g->name);
	if (problem) {
		http_resp_error(resp, 422, "invalid", "the training %s", problem);
		free(problem);
		return -1;
	}
	return 0;
}

static void deepaas_train_create(struct http_req *req, struct http_resp *resp,
				 const struct store_model *m)
{
	json_t *d = json_loads(m->describe, 0, NULL);
	json_t *raw = NULL, *headers = json_object(), *errors = NULL, *args = NULL;
	struct store_user u = { 0 };
	struct store_group g = { 0 };
	char *args_text = NULL, *cmd = NULL, *env = NULL, *outdir = NULL, *name = NULL;
	if (d && json_is_false(json_object_get(d, "has_train"))) {
		http_resp_error(resp, 501, "not_implemented",
				"Not implemented by underlying model (loaded '%s')", m->name);
		goto out;
	}
	if (!(raw = deepaas_raw_args(req, resp)))
		goto out;
	http_req_headers(req, deepaas_header_add, headers);
	json_t *params = json_object_get(d, "train_args");
	args = deepaas_args_check(json_is_array(params) ? params : NULL, raw, headers, &errors);
	if (!args) {
		deepaas_resp_fields(resp, 422, errors);
		errors = NULL;
		goto out;
	}
	int rc = store_user_get_by_id(req->store, req->who.user_id, &u);
	if (rc == 0 && u.ngroups == 0) {
		http_resp_error(resp, 422, "invalid", "you belong to no group; ask an admin to add you");
		goto out;
	}
	if (rc == 0)
		rc = store_group_get(req->store, u.groups[0], &g);
	if (rc < 0) {
		http_resp_errno(resp, rc, "account of %s", req->who.username);
		goto out;
	}
	struct jobspec_resources r;
	if (deepaas_train_resources(req, resp, m, &g, &r) < 0)
		goto out;

	char uuid[33];
	deepaas_uuid(uuid);
	args_text = json_dumps(args, JSON_COMPACT);
	outdir = xasprintf("%s/kaon-trainings/%s/%s", u.home, m->name, uuid);
	json_t *argv = json_pack("[s,s,s,s,s,s,s]", "/bin/sh", "-c", deepaas_train_script,
				 "kaon-training", outdir, req->srv->cfg->models_worker_program,
				 m->dir);
	json_t *envo = json_pack("{s:s,s:s,s:s}", "KAON_TRAINING_ARGS", args_text,
				 "KAON_TRAINING_UUID", uuid, "KAON_MODEL", m->name);
	cmd = json_dumps(argv, JSON_COMPACT);
	env = json_dumps(envo, JSON_COMPACT);
	json_decref(argv);
	json_decref(envo);
	name = xasprintf("train-%s", m->name);
	struct store_job j = {
		.user_id = u.id, .username = u.username, .group_name = g.name, .name = name,
		.command = cmd, .workdir = u.home, .env = env, .cpus = (int)r.cpus,
		.mem_mb = r.mem_mb, .gpus = (int)r.gpus, .walltime_s = r.walltime_s,
		.array_id = -1, .array_index = -1, .kind = (char *)"training",
	};
	struct store_training t = {
		.uuid = uuid, .model = m->name, .version = m->version, .user_id = u.id,
		.username = u.username, .args = args_text, .created_at = time(NULL),
	};
	if ((rc = store_begin(req->store)) == 0) {
		if ((rc = store_job_insert(req->store, &j)) == 0) {
			t.job_id = j.id;
			rc = store_training_insert(req->store, &t);
		}
		if (rc == 0)
			rc = store_commit(req->store);
		if (rc < 0)
			store_rollback(req->store);
	}
	if (rc < 0) {
		http_resp_errno(resp, rc, "training of '%s'", m->name);
		goto out;
	}
	scheduler_kick(req->srv);
	log_info("deepaas: %s started training %s of %s (job %lld)", u.username, uuid, m->name,
		 (long long)j.id);
	/* What DEEPaaS answers: the record as created, running. */
	struct deepaas_training_view v = { .uuid = uuid, .created_at = t.created_at,
					   .args = args_text, .job_state = "pending",
					   .job_end_time = -1, .exit_code = -1, .result_time = -1 };
	http_resp_json(resp, 200, deepaas_training_record(&v));
out:
	free(name);
	free(outdir);
	free(cmd);
	free(env);
	free(args_text);
	json_decref(args);
	json_decref(errors);
	json_decref(headers);
	json_decref(raw);
	json_decref(d);
	store_user_clear(&u);
	store_group_clear(&g);
}

/* ---- handlers ------------------------------------------------------------------ */

/* Load the model for a training route and check that training is on:
 * 0, or -1 after answering. */
static int deepaas_train_model(struct http_req *req, struct http_resp *resp,
			       struct store_model *m)
{
	if (deepaas_model_load(req, resp, DEEPAAS_TRAIN, m) < 0)
		return -1;
	if (!m->train_enabled) {
		http_resp_error(resp, 402, "disabled", "training is disabled for model '%s'", m->name);
		store_model_clear(m);
		return -1;
	}
	return 0;
}

void deepaas_trainings(struct http_req *req, struct http_resp *resp)
{
	struct store_model m = { 0 };
	bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
	if (!get && strcmp(req->method, "POST") != 0) {
		/* 404 before 405, as for a model DEEPaaS does not serve */
		if (deepaas_model_load(req, resp, DEEPAAS_TRAIN, &m) == 0) {
			deepaas_method_not_allowed(req, resp, "GET, POST");
			store_model_clear(&m);
		}
		return;
	}
	if (deepaas_train_model(req, resp, &m) < 0)
		return;
	if (!get) {
		deepaas_train_create(req, resp, &m);
		store_model_clear(&m);
		return;
	}
	json_t *list = deepaas_trainings_json(req, resp, m.name, false);
	if (list)
		http_resp_json(resp, 200, list);
	store_model_clear(&m);
}

void deepaas_training(struct http_req *req, struct http_resp *resp)
{
	struct store_model m = { 0 };
	bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
	bool del = strcmp(req->method, "DELETE") == 0;
	if (!get && !del) {
		if (deepaas_model_load(req, resp, DEEPAAS_TRAIN, &m) == 0) {
			deepaas_method_not_allowed(req, resp, "GET, DELETE");
			store_model_clear(&m);
		}
		return;
	}
	if (deepaas_train_model(req, resp, &m) < 0)
		return;
	const char *uuid = req->params[1];
	struct store_training t = { 0 };
	int rc = store_training_get(req->store, uuid, &t);
	/* Another user's training is not there, for this caller. */
	if (rc == 0 && (t.deleted || strcmp(t.model, m.name) != 0 ||
			(!req->who.admin && t.user_id != req->who.user_id)))
		rc = -ENOENT;
	if (rc < 0) {
		http_resp_errno(resp, rc, "training '%s'", uuid);
		goto out;
	}
	if (get) {
		http_resp_json(resp, 200, deepaas_record(req->store, &t, false));
		goto out;
	}
	/* DELETE: cancel the job when it still runs, then forget the
	 * training (the row stays, marked, for accounting). */
	const char *state = NULL;
	bool live = store_job_state(req->store, t.job_id, &state) == 0 &&
		    (strcmp(state, "pending") == 0 || strcmp(state, "running") == 0);
	if (live) {
		rc = scheduler_cancel(req->srv, req->store, t.job_id);
		if (rc == -EALREADY || rc == -ENOENT) /* ended meanwhile */
			live = false, rc = 0;
	}
	if (rc == 0)
		rc = store_training_mark_deleted(req->store, uuid);
	if (rc < 0) {
		http_resp_errno(resp, rc, "training '%s'", uuid);
		goto out;
	}
	log_info("deepaas: %s deleted training %s of %s", req->who.username, uuid, m.name);
	http_resp_json(resp, 200, deepaas_record(req->store, &t, live));
out:
	store_training_clear(&t);
	store_model_clear(&m);
}
