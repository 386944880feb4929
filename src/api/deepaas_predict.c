/*
 * api/deepaas_predict — POST /v2/models/NAME/predict/ (deepaas.h).
 *
 * The route streams its body (ROUTE_STREAM_BODY): arguments come from the
 * query string, then from the body, as webargs reads them for DEEPaaS
 * (the first source that has a name wins):
 *   - application/x-www-form-urlencoded or multipart/form-data, decoded
 *     as it arrives (http_form); a file part goes straight to a file in a
 *     private temp dir, so an upload costs no memory;
 *   - application/json: an object whose values are taken as they are
 *     (400 {"json": ["Invalid JSON body."]} when it does not parse).
 * The whole body is limited to [models] predict_max_mb (413).
 *
 * The temp dir (mkdtemp under TMPDIR or /tmp) is the daemon's, mode 0711,
 * and each file in it the model owner's, mode 0600: the worker runs as the
 * owner and can read its inputs, nobody else can, and nobody can add to
 * the dir. Everything is removed when the request ends, however it ends.
 *
 * Then the model's warm workers take it (modelpool_predict, which parses
 * and checks the arguments as DEEPaaS does: 422 comes from there), with
 * the client's socket as cancel_fd so that a client who leaves cancels
 * the work. The worker's status, content type and body are the answer;
 * the pool's own refusals (429 with Retry-After, 502, 503, 504) too.
 *
 * The prediction runs on a thread of its own while the request is parked
 * (server/modelcall.h): an http worker thread serves many connections,
 * and a slow model must not stall them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/deepaas.h"
#include "config/config.h"
#include "lib/fsio.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "server/modelcall.h"
#include "server/server.h"
#include "store/models.h"
#include "store/users.h"

enum { DEEPAAS_MAX_FILES = 256, DEEPAAS_MAX_FIELD = 1 << 20 };

struct deepaas_predict {
	struct server *srv;
	struct store_model m;
	int64_t user_id;
	int status;      /* an error to answer at the end (a refusal mid-body), else 0 */
	char *why;
	json_t *args, *before, *files;
	struct http_form *form;
	bool is_json;
	char *json;
	size_t json_len;
	size_t total, max;
	char *tmpdir;
	int nfiles;
	bool chown;
	uid_t uid;
	gid_t gid;
	/* the field being decoded */
	char *name;
	char *val;
	size_t len;
	int fd;
	char *accept_header;
	int client_fd;
	struct modelcall call; /* once the body is in */
};

static void deepaas_predict_fail(struct deepaas_predict *p, int status, const char *why)
{
	if (!p->status) {
		p->status = status;
		p->why = xstrdup(why);
	}
}

/* Finish the field being decoded: a value joins the arguments, a file is
 * closed. */
static void deepaas_predict_flush(struct deepaas_predict *p)
{
	if (p->fd >= 0) {
		if (close(p->fd) < 0)
			deepaas_predict_fail(p, 500, "cannot store an uploaded file");
		p->fd = -1;
	} else if (p->name) {
		deepaas_args_add(p->args, p->before, p->name, p->val ? p->val : "");
	}
	free(p->name);
	free(p->val);
	p->name = p->val = NULL;
	p->len = 0;
}

static int deepaas_predict_tmpdir(struct deepaas_predict *p)
{
	if (p->tmpdir)
		return 0;
	const char *base = getenv("TMPDIR");
	char *tmpl = xasprintf("%s/kaon-predict-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpl) || chmod(tmpl, p->chown ? 0711 : 0700) < 0) {
		log_error("deepaas: cannot make a temp dir %s: %s", tmpl, strerror(errno));
		free(tmpl);
		return -1;
	}
	p->tmpdir = tmpl;
	return 0;
}

/* A new file part: a file of the model owner's in the temp dir. */
static int deepaas_predict_file(struct deepaas_predict *p, const char *name, const char *filename,
				const char *content_type)
{
	if (p->nfiles == DEEPAAS_MAX_FILES) {
		deepaas_predict_fail(p, 413, "too many files in one request");
		return -1;
	}
	if (deepaas_predict_tmpdir(p) < 0) {
		deepaas_predict_fail(p, 500, "cannot store uploaded files");
		return -1;
	}
	char *path = xasprintf("%s/%d", p->tmpdir, p->nfiles++);
	p->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (p->fd < 0 || (p->chown && fchown(p->fd, p->uid, p->gid) < 0)) {
		log_error("deepaas: cannot create %s: %s", path, strerror(errno));
		free(path);
		deepaas_predict_fail(p, 500, "cannot store uploaded files");
		return -1;
	}
	json_t *list = json_object_get(p->files, name);
	if (!list)
		json_object_set_new(p->files, name, list = json_array());
	json_array_append_new(list, json_pack("{s:s,s:s,s:s}", "path", path, "filename", filename,
					      "content_type",
					      content_type ? content_type : "application/octet-stream"));
	free(path);
	return 0;
}

static int deepaas_predict_piece(void *ctx, const char *name, const char *filename,
				 const char *content_type, const char *data, unsigned long long off,
				 size_t len)
{
	struct deepaas_predict *p = ctx;
	if (off == 0) {
		deepaas_predict_flush(p);
		p->name = xstrdup(name);
		if (filename && deepaas_predict_file(p, name, filename, content_type) < 0)
			return -1;
	}
	if (len == 0)
		return 0;
	if (p->fd >= 0) {
		if (fsio_write_all(p->fd, data, len) < 0) {
			deepaas_predict_fail(p, 500, "cannot store an uploaded file");
			return -1;
		}
		return 0;
	}
	if (p->len + len > DEEPAAS_MAX_FIELD) {
		deepaas_predict_fail(p, 413, "a form value is over 1 MiB; send it as a file");
		return -1;
	}
	p->val = xrealloc(p->val, p->len + len + 1);
	memcpy(p->val + p->len, data, len);
	p->len += len;
	p->val[p->len] = '\0';
	return 0;
}

static void deepaas_predict_refuse(struct deepaas_predict *p, struct http_resp *resp)
{
	if (p->status == 413)
		http_resp_error(resp, 413, "too_large", "%s", p->why);
	else if (p->status == 400)
		http_resp_error(resp, 400, "malformed_form", "%s", p->why);
	else
		http_resp_error(resp, p->status, "internal", "%s", p->why);
}

static int deepaas_predict_write(void *ctx, const char *data, size_t len, struct http_resp *resp)
{
	struct deepaas_predict *p = ctx;
	p->total += len;
	if (p->total > p->max) {
		http_resp_error(resp, 413, "too_large",
				"the request is over the limit of %lld MiB for predictions",
				(long long)p->srv->cfg->models_predict_max_mb);
		return -1;
	}
	if (p->is_json) {
		p->json = xrealloc(p->json, p->json_len + len + 1);
		memcpy(p->json + p->json_len, data, len);
		p->json_len += len;
		p->json[p->json_len] = '\0';
		return 0;
	}
	if (!p->form)
		return 0; /* a body that is neither form nor JSON carries no arguments */
	if (http_form_feed(p->form, data, len) < 0) {
		deepaas_predict_fail(p, 400, "the form body is malformed");
		deepaas_predict_refuse(p, resp);
		return -1;
	}
	return 0;
}

static void deepaas_predict_end(void *ctx, struct http_req *req, struct http_resp *resp)
{
	struct deepaas_predict *p = ctx;
	if (modelcall_started(&p->call)) { /* woken */
		modelcall_answer(&p->call, resp);
		return;
	}
	deepaas_predict_flush(p);
	if (p->form) {
		if (http_form_free(p->form) < 0)
			deepaas_predict_fail(p, 400, "the form body is malformed");
		p->form = NULL;
	}
	if (p->status) {
		deepaas_predict_refuse(p, resp);
		return;
	}
	if (p->is_json && p->json_len) {
		json_t *body = json_loadb(p->json, p->json_len, 0, NULL);
		if (!body) {
			deepaas_resp_fields(resp, 400, json_pack("{s:[s]}", "json", "Invalid JSON body."));
			return;
		}
		const char *k;
		json_t *v;
		json_object_foreach(body, k, v) if (!json_object_get(p->args, k))
			json_object_set(p->args, k, v);
		json_decref(body);
	}
	/* The accept argument, when the request has one, else the header. */
	const char *accept = json_string_value(json_object_get(p->args, "accept"));
	if (!accept && json_is_array(json_object_get(p->args, "accept")))
		accept = json_string_value(json_array_get(json_object_get(p->args, "accept"), 0));
	p->call.rq = (struct modelpool_request){
		.model = p->m.name,
		.args = p->args,
		.files = p->files,
		.accept = accept ? accept : p->accept_header,
		.user_id = p->user_id,
		.cancel_fd = p->client_fd,
	};
	modelcall_start(&p->call, req);
	modelcall_answer(&p->call, resp);
}

static void deepaas_predict_release(void *ctx)
{
	struct deepaas_predict *p = ctx;
	modelcall_clear(&p->call); /* before the files it reads go */
	if (p->fd >= 0)
		close(p->fd);
	http_form_free(p->form);
	if (p->tmpdir) {
		for (int i = 0; i < p->nfiles; i++) {
			char *path = xasprintf("%s/%d", p->tmpdir, i);
			if (unlink(path) < 0 && errno != ENOENT)
				log_warn("deepaas: cannot remove %s: %s", path, strerror(errno));
			free(path);
		}
		if (rmdir(p->tmpdir) < 0)
			log_warn("deepaas: cannot remove %s: %s", p->tmpdir, strerror(errno));
		free(p->tmpdir);
	}
	store_model_clear(&p->m);
	json_decref(p->args);
	json_decref(p->before);
	json_decref(p->files);
	free(p->json);
	free(p->name);
	free(p->val);
	free(p->why);
	free(p->accept_header);
	free(p);
}

void deepaas_predict(struct http_req *req, struct http_resp *resp)
{
	struct store_model m = { 0 };
	if (deepaas_model_load(req, resp, DEEPAAS_PREDICT, &m) < 0)
		return;
	if (strcmp(req->method, "POST") != 0) {
		deepaas_method_not_allowed(req, resp, "POST");
		store_model_clear(&m);
		return;
	}
	if (!m.predict_enabled) {
		http_resp_error(resp, 402, "disabled", "predict is disabled for model '%s'", m.name);
		store_model_clear(&m);
		return;
	}
	json_t *d = json_loads(m.describe, 0, NULL);
	bool has_predict = !json_is_false(json_object_get(d, "has_predict"));
	json_decref(d);
	if (!has_predict) {
		http_resp_error(resp, 501, "not_implemented",
				"Not implemented by underlying model (loaded '%s')", m.name);
		store_model_clear(&m);
		return;
	}
	const struct config *cfg = req->srv->cfg;
	size_t max = (size_t)cfg->models_predict_max_mb << 20;
	const char *cl = http_req_header(req, "Content-Length");
	if (cl && strtoull(cl, NULL, 10) > max) {
		http_resp_error(resp, 413, "too_large",
				"the request is over the limit of %lld MiB for predictions",
				(long long)cfg->models_predict_max_mb);
		store_model_clear(&m);
		return;
	}
	struct deepaas_predict *p = xcalloc(1, sizeof *p);
	p->srv = req->srv;
	p->m = m;
	p->user_id = req->via == HTTP_AUTH_NONE ? -1 : req->who.user_id;
	p->max = max;
	p->fd = -1;
	p->args = json_object();
	p->files = json_object();
	p->client_fd = http_req_client_fd(req);
	const char *q = strchr(req->target, '?');
	if (q)
		deepaas_query_args(q + 1, p->args);
	p->before = json_deep_copy(p->args);
	const char *ah = http_req_header(req, "Accept");
	p->accept_header = ah ? xstrdup(ah) : NULL;
	/* Uploads belong to the model owner, whose account runs the worker. */
	if (geteuid() == 0) {
		struct store_user owner = { 0 };
		if (store_user_get_by_id(req->store, m.owner_id, &owner) == 0) {
			p->chown = true;
			p->uid = (uid_t)owner.uid;
			p->gid = (gid_t)owner.gid;
		}
		store_user_clear(&owner);
	}
	const char *ctype = http_req_header(req, "Content-Type");
	if (ctype && strncasecmp(ctype, "application/json", 16) == 0)
		p->is_json = true;
	else if (ctype)
		p->form = http_form_new(req, deepaas_predict_piece, p);
	struct http_sink sink = {
		.write = deepaas_predict_write,
		.end = deepaas_predict_end,
		.release = deepaas_predict_release,
		.ctx = p,
	};
	http_req_sink(req, &sink);
}
