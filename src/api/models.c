/*
 * api/models — kaon's own catalog API (docs/models.md): list and search
 * models, one model's page data and thumbnail; admins register folders,
 * set the flags (anonymous predict, predict/train on or off) and remove
 * models. The DEEPaaS-compatible API (/v2/models/...) is api/deepaas.c.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "api/deepaas.h"
#include "api/fields.h"
#include "lib/xalloc.h"
#include "server/catalog.h"
#include "server/http.h"
#include "server/modelpool.h"
#include "server/server.h"
#include "store/models.h"
#include "store/users.h"

static const struct fields_spec api_models_register_fields[] = {
	{ "dir", FIELDS_STRING, false, 1, 4096 },
	{ "from_training", FIELDS_STRING, false, 32, 32 },
	{ "version", FIELDS_STRING, false, 1, 32 },
	{ "owner", FIELDS_STRING, false, 1, 64 },
	{ "public", FIELDS_BOOL, false, 0, 0 },
};

static const struct fields_spec api_models_flags_fields[] = {
	{ "public", FIELDS_BOOL, false, 0, 0 },
	{ "predict_enabled", FIELDS_BOOL, false, 0, 0 },
	{ "train_enabled", FIELDS_BOOL, false, 0, 0 },
};

static json_t *api_models_loads(const char *text)
{
	json_t *v = text ? json_loads(text, 0, NULL) : NULL;
	return v ? v : json_object();
}

/* The model as kaon's API shows it; `full` adds the description, the
 * argument schemas and the manifest's details (one model's page). */
static json_t *api_model_json(const struct store_model *m, bool full)
{
	json_t *manifest = api_models_loads(m->manifest);
	json_t *describe = api_models_loads(m->describe);
	json_t *keywords = json_loads(m->keywords ? m->keywords : "[]", 0, NULL);
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:o,s:s,s:b,s:b,s:b}", "name", m->name, "version",
			      m->version, "title", m->title, "summary", m->summary ? m->summary : "",
			      "keywords", keywords ? keywords : json_array(), "owner", m->owner,
			      "public", m->public_predict, "predict_enabled", m->predict_enabled,
			      "train_enabled", m->train_enabled);
	json_t *thumb = json_object_get(manifest, "thumbnail");
	char *url = xasprintf("/api/v1/models/%s/thumbnail", m->name);
	json_object_set_new(o, "thumbnail", json_is_string(thumb) ? json_string(url) : json_null());
	free(url);
	char *v2 = xasprintf("/v2/models/%s/", m->name);
	json_object_set_new(o, "deepaas", json_string(v2));
	free(v2);
	json_object_set_new(o, "created_at", api_time_json(m->created_at));
	json_object_set_new(o, "updated_at", api_time_json(m->updated_at));
	if (full) {
		static const char *const copy[] = { "description", "license", "url", "authors" };
		for (size_t i = 0; i < sizeof copy / sizeof copy[0]; i++) {
			json_t *v = json_object_get(manifest, copy[i]);
			json_object_set(o, copy[i], v ? v : json_null());
		}
		json_object_set(o, "runtime", json_object_get(manifest, "runtime"));
		json_object_set(o, "resources", json_object_get(manifest, "resources"));
		json_object_set(o, "workers", json_object_get(manifest, "workers"));
		static const char *const from_worker[] = { "metadata", "predict_args", "train_args",
							   "accept", "has_predict", "has_train" };
		for (size_t i = 0; i < sizeof from_worker / sizeof from_worker[0]; i++) {
			json_t *v = json_object_get(describe, from_worker[i]);
			json_object_set(o, from_worker[i], v ? v : json_null());
		}
	}
	json_decref(manifest);
	json_decref(describe);
	return o;
}

/* Case-insensitive: does any of the model's words contain q? */
static bool api_models_matches(const struct store_model *m, const char *q)
{
	if (!q || !*q)
		return true;
	const char *fields[] = { m->name, m->title, m->summary, m->keywords };
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (fields[i] && strcasestr(fields[i], q))
			return true;
	return false;
}

void api_models_list(struct http_req *req, struct http_resp *resp)
{
	const char *q = http_req_query(req, "q");
	const char *keyword = http_req_query(req, "keyword");
	struct store_model *ms = NULL;
	size_t n = 0;
	int rc = store_models_list(req->store, &ms, &n);
	if (rc < 0) {
		http_resp_errno(resp, rc, "models");
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		if (!api_models_matches(&ms[i], q))
			continue;
		if (keyword) {
			json_t *k = json_loads(ms[i].keywords ? ms[i].keywords : "[]", 0, NULL);
			bool has = false;
			size_t j;
			json_t *v;
			json_array_foreach(k, j, v)
				has = has || strcasecmp(json_string_value(v), keyword) == 0;
			json_decref(k);
			if (!has)
				continue;
		}
		json_array_append_new(arr, api_model_json(&ms[i], false));
	}
	store_models_free(ms, n);
	http_resp_json(resp, 200, json_pack("{s:o}", "models", arr));
}

static int api_models_load(struct http_req *req, struct http_resp *resp, struct store_model *m)
{
	int rc = store_model_get(req->store, req->params[0], m);
	if (rc == -ENOENT)
		http_resp_error(resp, 404, "not_found", "no model '%s'", req->params[0]);
	else if (rc < 0)
		http_resp_errno(resp, rc, "model '%s'", req->params[0]);
	return rc < 0 ? -1 : 0;
}

void api_models_get(struct http_req *req, struct http_resp *resp)
{
	struct store_model m = { 0 };
	if (api_models_load(req, resp, &m) < 0)
		return;
	http_resp_json(resp, 200, api_model_json(&m, true));
	store_model_clear(&m);
}

static const char *api_models_image_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = { { ".svg", "image/svg+xml" }, { ".png", "image/png" },
		      { ".jpg", "image/jpeg" },    { ".jpeg", "image/jpeg" },
		      { ".gif", "image/gif" },     { ".webp", "image/webp" } };
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (strcasecmp(dot, types[i].ext) == 0)
			return types[i].type;
	return NULL;
}

void api_models_thumbnail(struct http_req *req, struct http_resp *resp)
{
	struct store_model m = { 0 };
	if (api_models_load(req, resp, &m) < 0)
		return;
	json_t *manifest = api_models_loads(m.manifest);
	const char *thumb = json_string_value(json_object_get(manifest, "thumbnail"));
	const char *type = thumb ? api_models_image_type(thumb) : NULL;
	char *path = thumb ? xasprintf("%s/%s", m.dir, thumb) : NULL;
	/* The copy in the catalog holds no links (registration refuses them)
	 * and the manifest's path has no "..": O_NOFOLLOW for good measure. */
	int fd = path && type ? open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
	struct stat sb;
	if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
		/* An SVG could carry script: it is shown as an image, never as a page. */
		http_resp_header(resp, "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
		http_resp_header(resp, "Cache-Control", "private, max-age=300");
		http_resp_file(resp, 200, type, fd, 0, sb.st_size);
		fd = -1;
	} else {
		http_resp_error(resp, 404, "not_found", "model '%s' has no thumbnail", m.name);
	}
	if (fd >= 0)
		close(fd);
	free(path);
	json_decref(manifest);
	store_model_clear(&m);
}

void api_models_register(struct http_req *req, struct http_resp *resp)
{
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	struct store_user owner = { 0 };
	char *name = NULL;
	if (fields_check(body, api_models_register_fields, FIELDS_COUNT(api_models_register_fields),
			 resp) < 0)
		goto out;
	const char *dir = json_string_value(json_object_get(body, "dir"));
	const char *uuid = json_string_value(json_object_get(body, "from_training"));
	const char *version = json_string_value(json_object_get(body, "version"));
	if (!dir == !uuid) {
		http_resp_error(resp, 422, "invalid",
				"give either 'dir' (a model folder) or 'from_training' (a training's "
				"uuid)");
		goto out;
	}
	if (dir && version) {
		http_resp_error(resp, 422, "invalid",
				"'version' goes with 'from_training'; a folder's version is in its "
				"kaon-model.json");
		goto out;
	}
	const char *owner_name = json_string_value(json_object_get(body, "owner"));
	int rc = owner_name ? store_user_get(req->store, owner_name, &owner)
			    : store_user_get_by_id(req->store, req->who.user_id, &owner);
	if (rc == -ENOENT) {
		http_resp_error(resp, 422, "invalid", "no user '%s' to own the model", owner_name);
		goto out;
	}
	if (rc < 0) {
		http_resp_errno(resp, rc, "owner");
		goto out;
	}
	struct catalog_error err;
	bool public = json_is_true(json_object_get(body, "public"));
	char *new_version = NULL;
	rc = dir ? catalog_register(req->srv, req->store, dir, &owner, public, &name, &err)
		 : catalog_register_training(req->srv, req->store, uuid, version, &owner, public,
					     &name, &new_version, &err);
	free(new_version);
	if (rc < 0) {
		static const char *const codes[] = { [400] = "invalid", [404] = "not_found",
						     [409] = "conflict", [413] = "too_large",
						     [422] = "invalid" };
		const char *code = err.status < 500 && codes[err.status] ? codes[err.status] : "internal";
		http_resp_error(resp, err.status, code, "%s", err.message ? err.message : "failed");
		free(err.message);
		goto out;
	}
	struct store_model m = { 0 };
	if (store_model_get(req->store, name, &m) == 0)
		http_resp_json(resp, 201, api_model_json(&m, true));
	else
		http_resp_errno(resp, -EIO, "model '%s'", name);
	store_model_clear(&m);
out:
	free(name);
	store_user_clear(&owner);
	json_decref(body);
}

void api_models_update(struct http_req *req, struct http_resp *resp)
{
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	struct store_model m = { 0 };
	if (fields_check(body, api_models_flags_fields, FIELDS_COUNT(api_models_flags_fields), resp) < 0 ||
	    api_models_load(req, resp, &m) < 0)
		goto out;
	json_t *manifest = api_models_loads(m.manifest);
	json_t *describe = api_models_loads(m.describe);
	json_t *v;
	bool pub = (v = json_object_get(body, "public")) ? json_is_true(v) : m.public_predict;
	bool predict = (v = json_object_get(body, "predict_enabled")) ? json_is_true(v) : m.predict_enabled;
	bool train = (v = json_object_get(body, "train_enabled")) ? json_is_true(v) : m.train_enabled;
	const char *refusal = NULL;
	if (pub && !json_is_true(json_object_get(manifest, "public")))
		refusal = "its author does not allow anonymous use (\"public\": true in kaon-model.json)";
	else if (predict && !json_is_true(json_object_get(describe, "has_predict")))
		refusal = "it has no predict function";
	else if (train && !json_is_true(json_object_get(describe, "has_train")))
		refusal = "it has no train function";
	json_decref(manifest);
	json_decref(describe);
	if (refusal) {
		http_resp_error(resp, 422, "invalid", "model '%s' cannot be changed so: %s", m.name,
				refusal);
		goto out;
	}
	int rc = store_model_set_flags(req->store, m.name, pub, predict, train);
	/* Predict turned off: its warm workers go now, not at their idle time. */
	if (rc == 0 && !predict && m.predict_enabled)
		modelpool_drain(req->srv, m.name);
	store_model_clear(&m);
	if (rc == 0)
		rc = store_model_get(req->store, req->params[0], &m);
	if (rc < 0)
		http_resp_errno(resp, rc, "model '%s'", req->params[0]);
	else
		http_resp_json(resp, 200, api_model_json(&m, true));
out:
	store_model_clear(&m);
	json_decref(body);
}

void api_models_delete(struct http_req *req, struct http_resp *resp)
{
	/* The rows go; the folders stay under DATA/models, where trainings
	 * that still run from them find their code. */
	int rc = store_model_delete(req->store, req->params[0]);
	if (rc == 0)
		modelpool_drain(req->srv, req->params[0]);
	if (rc == -ENOENT)
		http_resp_error(resp, 404, "not_found", "no model '%s'", req->params[0]);
	else if (rc < 0)
		http_resp_errno(resp, rc, "model '%s'", req->params[0]);
	else
		http_resp_empty(resp, 204);
}

/* The trainings of a model, each DEEPaaS's record (GET .../train/UUID)
 * plus what kaon knows besides: the job that runs it (its live log is the
 * job's), who started it and on which version. Whose: as in the DEEPaaS
 * list, the caller's own, an admin's everyone's; and, unlike there, also
 * while an admin has training turned off, so that past trainings stay in
 * view. */
void api_models_trainings(struct http_req *req, struct http_resp *resp)
{
	struct store_model m = { 0 };
	if (api_models_load(req, resp, &m) < 0)
		return;
	json_t *arr = deepaas_trainings_json(req, resp, m.name, true);
	if (arr)
		http_resp_json(resp, 200, json_pack("{s:o}", "trainings", arr));
	store_model_clear(&m);
}
