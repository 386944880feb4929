/* server/modelproto — pool decisions and the worker line protocol (see modelproto.h). */
#include "server/modelproto.h"

#include <errno.h>
#include <string.h>

#include "lib/xalloc.h"

/* An integer member of obj in [lo, hi], or def when absent; -1 with *why. */
static int modelproto_int(json_t *obj, const char *section, const char *key, int64_t lo, int64_t hi,
			  int64_t def, int64_t *out, char **why)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		*why = xasprintf("manifest: %s.%s must be an integer from %lld to %lld", section,
				 key, (long long)lo, (long long)hi);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

int modelproto_limits(const char *manifest, struct modelproto_limits *out, char **why)
{
	json_t *m = json_loads(manifest ? manifest : "", 0, NULL);
	int rc = -EINVAL;
	if (!json_is_object(m)) {
		*why = xstrdup("manifest: not a JSON object");
		goto out;
	}
	json_t *w = json_object_get(m, "workers");
	json_t *res = json_object_get(json_object_get(m, "resources"), "predict");
	if ((w && !json_is_object(w)) || (res && !json_is_object(res))) {
		*why = xstrdup(w && !json_is_object(w)
				   ? "manifest: workers must be an object"
				   : "manifest: resources.predict must be an object");
		goto out;
	}
	int64_t min, max, idle, cpus, mem, gpus;
	if (modelproto_int(w, "workers", "min", 0, MODELPROTO_MAX_WORKERS, 0, &min, why) < 0 ||
	    modelproto_int(w, "workers", "max", 1, MODELPROTO_MAX_WORKERS, MODELPROTO_DEFAULT_MAX,
			   &max, why) < 0 ||
	    modelproto_int(w, "workers", "idle_s", 1, (int64_t)366 * 86400,
			   MODELPROTO_DEFAULT_IDLE_S, &idle, why) < 0 ||
	    modelproto_int(res, "resources.predict", "cpus", 1, 4096, 1, &cpus, why) < 0 ||
	    modelproto_int(res, "resources.predict", "mem_mb", 1, (int64_t)1 << 40, 1024, &mem,
			   why) < 0 ||
	    modelproto_int(res, "resources.predict", "gpus", 0, 64, 0, &gpus, why) < 0)
		goto out;
	if (min > max) {
		*why = xasprintf("manifest: workers.min (%lld) is over workers.max (%lld)",
				 (long long)min, (long long)max);
		goto out;
	}
	*out = (struct modelproto_limits){.min = (int)min,
					  .max = (int)max,
					  .idle_s = (int)idle,
					  .cpus = (int)cpus,
					  .mem_mb = mem,
					  .gpus = (int)gpus};
	rc = 0;
out:
	json_decref(m);
	return rc;
}

int modelproto_queue_max(int max)
{
	return max * MODELPROTO_QUEUE_PER_WORKER;
}

enum modelproto_action modelproto_decide(const struct modelproto_counts *c)
{
	int live = c->idle + c->starting + c->busy;
	if (c->idle > 0 && c->first)
		return MODELPROTO_TAKE;
	if (!c->queued && c->waiting >= modelproto_queue_max(c->max))
		return MODELPROTO_FULL;
	if (live == 0 && c->backoff)
		return MODELPROTO_UNAVAILABLE;
	/* Requests that want a worker, this one included; the idle and
	 * starting workers are theirs already. */
	int wanting = c->waiting + (c->queued ? 0 : 1);
	if (live < c->max && c->starting + c->idle < wanting && !c->backoff)
		return MODELPROTO_GROW;
	return MODELPROTO_WAIT;
}

int modelproto_retry_after(int waiting, int max, int64_t avg_ms)
{
	if (max < 1)
		max = 1;
	int64_t ms = avg_ms > 0 ? avg_ms * (waiting / max + 1) : 1000;
	int64_t s = (ms + 999) / 1000;
	return s < 1 ? 1 : s > 3600 ? 3600 : (int)s;
}

char *modelproto_request_line(json_t *args, json_t *files, const char *accept, size_t *len)
{
	json_t *o = json_object();
	json_object_set_new(o, "op", json_string("predict"));
	json_object_set_new(o, "args", args ? json_incref(args) : json_object());
	json_object_set_new(o, "files", files ? json_incref(files) : json_object());
	json_t *acc = accept ? json_string(accept) : NULL;
	json_object_set_new(o, "accept", acc ? acc : json_null());
	/* JSON_COMPACT never writes a newline: the line ends where ours does. */
	char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(o);
	if (!s)
		s = xstrdup("{}"); /* invalid UTF-8 in a borrowed value; the worker answers 400 */
	size_t n = strlen(s);
	char *line = xmalloc(n + 2);
	memcpy(line, s, n);
	line[n] = '\n';
	line[n + 1] = '\0';
	free(s);
	*len = n + 1;
	return line;
}

static const char *modelproto_error_code(int status)
{
	static const struct {
		int status;
		const char *code;
	} codes[] = {
	    {400, "bad_request"},
	    {404, "not_found"},
	    {413, "too_large"},
	    {415, "unsupported_media_type"},
	    {422, "invalid"},
	    {429, "too_many_requests"},
	    {499, "client_closed_request"},
	    {500, "model_error"},
	    {501, "not_implemented"},
	    {502, "worker_failed"},
	    {503, "unavailable"},
	    {504, "timeout"},
	};
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (codes[i].status == status)
			return codes[i].code;
	return status >= 500 ? "internal" : "error";
}

char *modelproto_error_body(int status, const char *message, size_t *len)
{
	json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", modelproto_error_code(status),
			      "message", message ? message : "");
	if (!o) /* a message that is not UTF-8 */
		o = json_pack("{s:{s:s,s:s}}", "error", "code", modelproto_error_code(status),
			      "message", "(unreadable message)");
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	*len = strlen(s);
	return s;
}

int modelproto_answer_parse(const char *line, size_t len, struct modelproto_answer *out, char **why)
{
	memset(out, 0, sizeof *out);
	json_error_t err;
	json_t *o = json_loadb(line, len, JSON_DECODE_ANY, &err);
	int rc = -EPROTO;
	if (!json_is_object(o)) {
		*why = o ? xstrdup("the worker's answer is not a JSON object")
			 : xasprintf("the worker's answer is not JSON: %s", err.text);
		goto out;
	}
	json_t *st = json_object_get(o, "status");
	if (!json_is_integer(st) || json_integer_value(st) < 100 || json_integer_value(st) > 599) {
		*why = xstrdup("the worker's answer has no valid \"status\"");
		goto out;
	}
	out->status = (int)json_integer_value(st);
	json_t *ct = json_object_get(o, "content_type");
	if (ct && (!json_is_string(ct) || json_string_length(ct) == 0 ||
		   json_string_length(ct) > 255 || strpbrk(json_string_value(ct), "\r\n"))) {
		*why = xstrdup("the worker's answer has an invalid \"content_type\"");
		goto out;
	}
	json_t *j = json_object_get(o, "json"), *path = json_object_get(o, "path");
	json_t *msg = json_object_get(o, "message");
	if (j) {
		out->body = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
		out->len = strlen(out->body);
		out->content_type = xstrdup(ct ? json_string_value(ct) : "application/json");
	} else if (path) {
		const char *p = json_string_value(path);
		if (!p || p[0] != '/' || strlen(p) >= 4096) {
			*why = xstrdup("the worker's answer has a \"path\" that is not absolute");
			goto out;
		}
		out->path = xstrdup(p);
		out->content_type =
		    xstrdup(ct ? json_string_value(ct) : "application/octet-stream");
	} else if (msg || out->status >= 400) {
		const char *m = json_string_value(msg);
		out->body =
		    modelproto_error_body(out->status, m ? m : "the model failed", &out->len);
		out->content_type = xstrdup("application/json");
	} else {
		*why =
		    xstrdup("the worker's answer has neither \"json\", \"path\" nor \"message\"");
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		modelproto_answer_clear(out);
	json_decref(o);
	return rc;
}

void modelproto_answer_clear(struct modelproto_answer *a)
{
	free(a->content_type);
	free(a->body);
	free(a->path);
	memset(a, 0, sizeof *a);
}
