/* server/manifest — kaon-model.json parsed and checked (see manifest.h). */
#include "server/manifest.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

enum {
	MANIFEST_TEXT_MAX = 256,
	MANIFEST_DESCRIPTION_MAX = 64 * 1024,
	MANIFEST_KEYWORDS_MAX = 32,
	MANIFEST_WORKERS_MAX = 64,
};

static bool manifest_charset(const char *s, size_t max, const char *first, const char *rest)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max || !strchr(first, s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!strchr(rest, s[i]))
			return false;
	return true;
}

bool manifest_name_ok(const char *name)
{
	static const char lower[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	return manifest_charset(name, 64, lower, "abcdefghijklmnopqrstuvwxyz0123456789._-") &&
	       strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

bool manifest_version_ok(const char *version)
{
	static const char alnum[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	return manifest_charset(version, 32, alnum,
				"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-");
}

/* A string field: required or not, at most max bytes, no control bytes. */
static int manifest_string(json_t *o, const char *key, bool required, size_t max,
			   const char **out, char **cause)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			*cause = xasprintf("field '%s' is required", key);
		return required ? -1 : 0;
	}
	const char *s = json_string_value(v);
	size_t n = s ? json_string_length(v) : 0;
	if (!s || (required && n == 0) || n > max || strlen(s) != n) {
		*cause = xasprintf("field '%s' must be a string of %s1 to %zu bytes", key,
				   required ? "" : "0 or ", max);
		return -1;
	}
	*out = s;
	return 0;
}

static int manifest_strings(json_t *o, const char *key, size_t max_items, char **cause)
{
	json_t *v = json_object_get(o, key);
	if (!v)
		return 0;
	size_t i;
	json_t *e;
	if (!json_is_array(v) || json_array_size(v) > max_items)
		goto bad;
	json_array_foreach(v, i, e)
		if (!json_is_string(e) || json_string_length(e) == 0 ||
		    json_string_length(e) > MANIFEST_TEXT_MAX)
			goto bad;
	return 0;
bad:
	*cause = xasprintf("field '%s' must be a list of at most %zu non-empty strings", key,
			   max_items);
	return -1;
}

/* An integer in [min, max], or the default when absent; written back. */
static int manifest_int(json_t *o, const char *where, const char *key, int64_t min, int64_t max,
			int64_t def, int64_t *out, char **cause)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		json_object_set_new(o, key, json_integer(def));
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		*cause = xasprintf("field '%s%s' must be a whole number from %lld to %lld", where, key,
				   (long long)min, (long long)max);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

/* An object field, created empty when absent. */
static json_t *manifest_object(json_t *o, const char *key, const char *where, char **cause)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		v = json_object();
		json_object_set_new(o, key, v);
	}
	if (!json_is_object(v)) {
		*cause = xasprintf("field '%s%s' must be an object", where, key);
		return NULL;
	}
	return v;
}

static int manifest_resources(json_t *res, const char *key, bool train,
			      struct manifest_resources *out, char **cause)
{
	char where[32];
	snprintf(where, sizeof where, "resources.%s.", key);
	json_t *o = manifest_object(res, key, "resources.", cause);
	int64_t cpus, gpus;
	if (!o || manifest_int(o, where, "cpus", 1, 1024, 1, &cpus, cause) < 0 ||
	    manifest_int(o, where, "mem_mb", 64, (int64_t)1 << 30, train ? 2048 : 1024,
			 &out->mem_mb, cause) < 0 ||
	    manifest_int(o, where, "gpus", 0, 64, 0, &gpus, cause) < 0 ||
	    (train && manifest_int(o, where, "walltime_s", 60, (int64_t)366 * 86400, 3600,
				   &out->walltime_s, cause) < 0))
		return -1;
	out->cpus = (int)cpus;
	out->gpus = (int)gpus;
	return 0;
}

/* runtime: {"type":"python","module":"pkg.api"} or {"type":"exec","command":[...], ...}. */
static int manifest_runtime(json_t *o, struct manifest *m, char **cause)
{
	json_t *rt = json_object_get(o, "runtime");
	const char *type = json_string_value(json_object_get(rt, "type"));
	if (!json_is_object(rt) || !type || (strcmp(type, "python") != 0 && strcmp(type, "exec") != 0)) {
		*cause = xasprintf("field 'runtime' must be {\"type\": \"python\", \"module\": ...} or "
				   "{\"type\": \"exec\", \"command\": [...]}");
		return -1;
	}
	m->runtime = type;
	if (strcmp(type, "python") == 0) {
		const char *mod = json_string_value(json_object_get(rt, "module"));
		if (!mod || !manifest_charset(mod, 200, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_",
					      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:")) {
			*cause = xasprintf("field 'runtime.module' must name a Python module "
					   "(\"package.api\" or \"package.api:Class\")");
			return -1;
		}
		return 0;
	}
	json_t *cmd = json_object_get(rt, "command");
	size_t i;
	json_t *e;
	if (!json_is_array(cmd) || json_array_size(cmd) == 0 || json_array_size(cmd) > 64)
		goto bad_cmd;
	json_array_foreach(cmd, i, e)
		if (!json_is_string(e) || json_string_length(e) == 0 || json_string_length(e) > 4096)
			goto bad_cmd;
	const char *prog = json_string_value(json_array_get(cmd, 0));
	if (prog[0] == '/' || strstr(prog, ".."))
		goto bad_cmd;
	static const char *const lists[] = { "predict_args", "train_args" };
	for (size_t k = 0; k < 2; k++) {
		json_t *args = json_object_get(rt, lists[k]);
		if (args && !json_is_array(args)) {
			*cause = xasprintf("field 'runtime.%s' must be a list of parameters", lists[k]);
			return -1;
		}
		json_array_foreach(args, i, e)
			if (!json_is_string(json_object_get(e, "name"))) {
				*cause = xasprintf("field 'runtime.%s[%zu]' must be an object with a "
						   "'name'", lists[k], i);
				return -1;
			}
	}
	return 0;
bad_cmd:
	*cause = xasprintf("field 'runtime.command' must be a list of strings whose first names a "
			   "program inside the model folder (a relative path without '..')");
	return -1;
}

int manifest_from_json(json_t *obj, struct manifest *m, char **cause)
{
	memset(m, 0, sizeof *m);
	if (!json_is_object(obj)) {
		*cause = xstrdup("the manifest must be a JSON object");
		return -1;
	}
	m->json = json_deep_copy(obj);
	json_t *o = m->json;
	const char *description, *license, *url;
	if (manifest_string(o, "name", true, 64, &m->name, cause) < 0 ||
	    manifest_string(o, "version", true, 32, &m->version, cause) < 0 ||
	    manifest_string(o, "title", true, MANIFEST_TEXT_MAX, &m->title, cause) < 0 ||
	    manifest_string(o, "summary", false, MANIFEST_TEXT_MAX, &m->summary, cause) < 0 ||
	    manifest_string(o, "description", false, MANIFEST_DESCRIPTION_MAX, &description, cause) < 0 ||
	    manifest_string(o, "license", false, MANIFEST_TEXT_MAX, &license, cause) < 0 ||
	    manifest_string(o, "url", false, 2048, &url, cause) < 0 ||
	    manifest_string(o, "thumbnail", false, 255, &m->thumbnail, cause) < 0 ||
	    manifest_strings(o, "keywords", MANIFEST_KEYWORDS_MAX, cause) < 0 ||
	    manifest_strings(o, "authors", MANIFEST_KEYWORDS_MAX, cause) < 0)
		goto fail;
	if (!manifest_name_ok(m->name)) {
		*cause = xasprintf("field 'name' must be 1 to 64 of a-z, 0-9, '.', '_' and '-', "
				   "starting with a letter or digit");
		goto fail;
	}
	if (!manifest_version_ok(m->version)) {
		*cause = xasprintf("field 'version' must be 1 to 32 of letters, digits, '.', '_', '+' "
				   "and '-', starting with a letter or digit");
		goto fail;
	}
	if (m->thumbnail && (m->thumbnail[0] == '/' || strstr(m->thumbnail, ".."))) {
		*cause = xasprintf("field 'thumbnail' must be a path inside the model folder");
		goto fail;
	}
	if (manifest_runtime(o, m, cause) < 0)
		goto fail;
	json_t *res = manifest_object(o, "resources", "", cause);
	if (!res || manifest_resources(res, "predict", false, &m->predict, cause) < 0 ||
	    manifest_resources(res, "train", true, &m->train, cause) < 0)
		goto fail;
	json_t *w = manifest_object(o, "workers", "", cause);
	int64_t wmin, wmax;
	if (!w || manifest_int(w, "workers.", "min", 0, MANIFEST_WORKERS_MAX, 0, &wmin, cause) < 0 ||
	    manifest_int(w, "workers.", "max", 1, MANIFEST_WORKERS_MAX, 2, &wmax, cause) < 0 ||
	    manifest_int(w, "workers.", "idle_s", 10, (int64_t)30 * 86400, 300, &m->workers_idle_s,
			 cause) < 0)
		goto fail;
	if (wmin > wmax) {
		*cause = xasprintf("field 'workers.min' (%lld) must not be over 'workers.max' (%lld)",
				   (long long)wmin, (long long)wmax);
		goto fail;
	}
	m->workers_min = (int)wmin, m->workers_max = (int)wmax;
	json_t *pub = json_object_get(o, "public");
	if (pub && !json_is_boolean(pub)) {
		*cause = xasprintf("field 'public' must be true or false");
		goto fail;
	}
	m->public_predict = json_is_true(pub);
	return 0;
fail:
	manifest_clear(m);
	return -1;
}

int manifest_parse(const char *text, struct manifest *m, char **cause)
{
	json_error_t err;
	json_t *obj = json_loads(text, JSON_REJECT_DUPLICATES, &err);
	if (!obj) {
		memset(m, 0, sizeof *m);
		*cause = xasprintf("kaon-model.json is not valid JSON: %s (line %d)", err.text, err.line);
		return -1;
	}
	int rc = manifest_from_json(obj, m, cause);
	json_decref(obj);
	return rc;
}

void manifest_clear(struct manifest *m)
{
	json_decref(m->json);
	memset(m, 0, sizeof *m);
}
