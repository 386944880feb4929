/*
 * api/deepaas_spec — the pure parts of the DEEPaaS surface (deepaas.h):
 * documents built from the models' stored `describe` JSON, Accept
 * negotiation, query strings, training arguments, training records. No
 * store, no HTTP: the unit tests call these directly.
 *
 * What DEEPaaS does is described in docs/deepaas.md; messages and formats
 * here are the ones its libraries produce (marshmallow's messages, Python's
 * str() of dates and durations), because clients show or parse them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/deepaas.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "store/models.h"

/* ---- versions and metadata -------------------------------------------- */

json_t *deepaas_v2_doc(void)
{
	return json_pack("{s:s,s:s,s:[{s:s,s:s,s:s}]}", "version", "stable", "id", "v2", "links",
			 "rel", "self", "type", "application/json", "href", "/v2/");
}

json_t *deepaas_versions_doc(void)
{
	return json_pack("{s:[o],s:[{s:s,s:s,s:s},{s:s,s:s,s:s}]}", "versions", deepaas_v2_doc(),
			 "links", "rel", "help", "type", "text/html", "href", "/api", "rel",
			 "describedby", "type", "application/json", "href", "/swagger.json");
}

json_t *deepaas_metadata(const char *name, const char *describe)
{
	char *href = xasprintf("/v2/models/%s", name);
	json_t *m = json_pack("{s:s,s:s,s:[{s:s,s:s}]}", "id", name, "name", name, "links", "rel",
			      "self", "href", href);
	free(href);
	json_t *d = describe ? json_loads(describe, 0, NULL) : NULL;
	json_t *meta = json_object_get(d, "metadata");
	if (json_is_object(meta))
		json_object_update(m, meta);
	else /* what DEEPaaS's wrapper says of a module without get_metadata */
		json_object_set_new(m, "description",
				    json_sprintf("Could not load description from underlying model "
						 "(loaded '%s')",
						 name));
	json_decref(d);
	return m;
}

/* ---- swagger.json ----------------------------------------------------- */

static json_t *deepaas_ref(const char *def)
{
	char *r = xasprintf("#/definitions/%s", def);
	json_t *o = json_pack("{s:s}", "$ref", r);
	free(r);
	return o;
}

static json_t *deepaas_op(const char *tag, const char *summary, json_t *params, json_t *ok_schema,
			  json_t *produces)
{
	json_t *resp = json_pack("{s:{s:s}}", "200", "description", "OK");
	if (ok_schema)
		json_object_set_new(json_object_get(resp, "200"), "schema", ok_schema);
	json_t *op = json_pack("{s:[s],s:s,s:o,s:o}", "tags", tag, "summary", summary, "parameters",
			       params ? params : json_array(), "responses", resp);
	if (produces)
		json_object_set_new(op, "produces", produces);
	return op;
}

/* A copy of the describe's list of Swagger parameter objects, or []. */
static json_t *deepaas_params(json_t *describe, const char *key)
{
	json_t *p = json_object_get(describe, key);
	return json_is_array(p) ? json_deep_copy(p) : json_array();
}

static json_t *deepaas_definitions(void)
{
	json_t *link = json_pack("{s:s,s:{s:{s:s},s:{s:s},s:{s:s}}}", "type", "object",
				 "properties", "rel", "type", "string", "href", "type", "string",
				 "type", "type", "string");
	json_t *meta = json_pack("{s:s,s:[s,s,s],s:{s:{s:s},s:{s:s},s:{s:s},s:{s:s},s:{s:s},"
				 "s:{s:s},s:{s:s},s:{s:s,s:o}}}",
				 "type", "object", "required", "id", "name", "description",
				 "properties", "id", "type", "string", "name", "type", "string",
				 "description", "type", "string", "license", "type", "string",
				 "author", "type", "string", "version", "type", "string", "url",
				 "type", "string", "links", "type", "array", "items", link);
	json_t *result = json_pack("{s:s,s:{s:{},s:{s:s},s:{s:s}}}", "type", "object", "properties",
				   "output", "finish_date", "type", "string", "duration", "type",
				   "string");
	json_t *training = json_pack(
		"{s:s,s:[s,s,s],s:{s:{s:s},s:{s:s},s:{s:s,s:[s,s,s,s]},s:{s:s},s:{s:s},s:o}}",
		"type", "object", "required", "uuid", "date", "status", "properties", "uuid", "type",
		"string", "date", "type", "string", "status", "type", "string", "enum", "running",
		"done", "error", "cancelled", "args", "type", "object", "message", "type", "string",
		"result", result);
	json_t *defs = json_pack(
		"{s:o,s:o,s:{s:s,s:o},s:{s:s,s:{s:{s:s},s:{s:s}}},s:{s:s,s:{s:{s:s}}}}",
		"ModelMeta", meta, "Training", training, "TrainingList", "type", "array", "items",
		deepaas_ref("Training"), "Prediction", "type", "object", "properties", "status",
		"type", "string", "predictions", "type", "string", "Failure", "type", "object",
		"properties", "message", "type", "string");
	return defs;
}

/* The paths of one model, added to paths; its response schema (when it
 * has one) to defs under def_name. */
static void deepaas_swagger_model(json_t *paths, json_t *defs, const struct store_model *m,
				  const char *def_name)
{
	json_t *d = m->describe ? json_loads(m->describe, 0, NULL) : NULL;
	char *base = xasprintf("/v2/models/%s/", m->name);
	char *summary = xasprintf("Return '%s' model metadata", m->name);
	json_object_set_new(paths, base,
			    json_pack("{s:o}", "get",
				      deepaas_op("models", summary, NULL, deepaas_ref("ModelMeta"),
						 NULL)));
	free(summary);

	json_t *accept = json_object_get(d, "accept");
	json_t *produces = json_is_array(accept) && json_array_size(accept)
				   ? json_deep_copy(accept)
				   : json_pack("[s]", "application/json");
	json_t *schema = json_object_get(d, "response_schema");
	json_t *ok = deepaas_ref("Prediction");
	if (json_is_object(schema)) {
		json_object_set(defs, def_name, schema);
		json_decref(ok);
		ok = deepaas_ref(def_name);
	}
	json_t *predict = deepaas_op("models", "Make a prediction given the input data",
				     deepaas_params(d, "predict_args"), ok, produces);
	json_object_set_new(json_object_get(predict, "responses"), "400",
			    json_pack("{s:s,s:o}", "description", "Bad request", "schema",
				      deepaas_ref("Failure")));
	char *p = xasprintf("%spredict/", base);
	json_object_set_new(paths, p, json_pack("{s:o}", "post", predict));
	free(p);

	p = xasprintf("%strain/", base);
	json_object_set_new(
		paths, p,
		json_pack("{s:o,s:o}", "post",
			  deepaas_op("models", "Retrain model with available data",
				     deepaas_params(d, "train_args"), deepaas_ref("Training"), NULL),
			  "get",
			  deepaas_op("models", "Get a list of trainings (running or completed)",
				     NULL, deepaas_ref("TrainingList"), NULL)));
	free(p);
	p = xasprintf("%strain/{uuid}", base);
	json_t *uuid = json_pack("[{s:s,s:s,s:b,s:s}]", "in", "path", "name", "uuid", "required", 1,
				 "type", "string");
	json_object_set_new(
		paths, p,
		json_pack("{s:o,s:o}", "get",
			  deepaas_op("models", "Get status of a training", json_deep_copy(uuid),
				     deepaas_ref("Training"), NULL),
			  "delete",
			  deepaas_op("models", "Cancel a running training", json_deep_copy(uuid),
				     deepaas_ref("Training"), NULL)));
	json_decref(uuid);
	free(p);
	free(base);
	json_decref(d);
}

json_t *deepaas_swagger_doc(const struct store_model *ms, size_t n, const char *version)
{
	json_t *paths = json_object(), *defs = deepaas_definitions();
	json_object_set_new(paths, "/",
			    json_pack("{s:o}", "get",
				      deepaas_op("versions", "Get available API versions", NULL,
						 NULL, NULL)));
	json_object_set_new(paths, "/v2/",
			    json_pack("{s:o}", "get",
				      deepaas_op("versions", "Get V2 API version information",
						 NULL, NULL, NULL)));
	json_object_set_new(paths, "/v2/models/",
			    json_pack("{s:o}", "get",
				      deepaas_op("models", "Return loaded models and its information",
						 NULL, NULL, NULL)));
	/* DEEPaaS serves one model and names its response schema
	 * ModelPredictionResponse, which clients look up by that name; with
	 * several models that name stays with the only one that has a
	 * schema, and each gets its own when more do. */
	size_t with_schema = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *d = ms[i].describe ? json_loads(ms[i].describe, 0, NULL) : NULL;
		with_schema += json_is_object(json_object_get(d, "response_schema"));
		json_decref(d);
	}
	for (size_t i = 0; i < n; i++) {
		char *def = with_schema > 1 ? xasprintf("ModelPredictionResponse_%s", ms[i].name)
					    : xstrdup("ModelPredictionResponse");
		deepaas_swagger_model(paths, defs, &ms[i], def);
		free(def);
	}
	return json_pack("{s:s,s:{s:s,s:s,s:s},s:{s:s,s:s},s:o,s:o}", "swagger", "2.0", "info",
			 "title", "DEEP as a Service API endpoint", "version", version,
			 "description", "DEEPaaS v2 API served by kaon", "externalDocs",
			 "description", "DEEPaaS documentation", "url",
			 "https://deepaas.readthedocs.org/", "paths", paths, "definitions", defs);
}

/* ---- the /api page ------------------------------------------------------ */

static void deepaas_esc(struct strbuf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': strbuf_adds(b, "&lt;"); break;
		case '>': strbuf_adds(b, "&gt;"); break;
		case '&': strbuf_adds(b, "&amp;"); break;
		case '"': strbuf_adds(b, "&quot;"); break;
		case '\'': strbuf_adds(b, "&#39;"); break;
		default: strbuf_add(b, s, 1);
		}
	}
}

/* A JSON value as short text for the page ("" for NULL). */
static void deepaas_esc_json(struct strbuf *b, json_t *v)
{
	if (!v)
		return;
	if (json_is_string(v)) {
		deepaas_esc(b, json_string_value(v));
		return;
	}
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	deepaas_esc(b, s);
	free(s);
}

char *deepaas_api_html(json_t *swagger)
{
	struct strbuf b = { 0 };
	strbuf_adds(&b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			 "<title>DEEPaaS API — kaon</title><style>"
			 "body{font:15px/1.4 system-ui,sans-serif;max-width:70em;margin:2em auto;"
			 "padding:0 1em}code,th,td{font-size:14px}table{border-collapse:collapse;"
			 "width:100%}th,td{border:1px solid #ccc;padding:.2em .4em;text-align:left;"
			 "vertical-align:top}.m{font-weight:bold;text-transform:uppercase}"
			 "section{margin:1.5em 0}</style></head><body>\n<h1>");
	json_t *info = json_object_get(swagger, "info");
	deepaas_esc(&b, json_string_value(json_object_get(info, "title")));
	strbuf_adds(&b, "</h1>\n<p>Swagger 2.0 document: <a href=\"/swagger.json\">/swagger.json</a>. "
			 "Calls need a kaon API token (<code>Authorization: Bearer …</code>) "
			 "unless a model allows anonymous predictions.</p>\n");
	const char *path;
	json_t *item;
	json_object_foreach(json_object_get(swagger, "paths"), path, item)
	{
		const char *method;
		json_t *op;
		json_object_foreach(item, method, op)
		{
			strbuf_adds(&b, "<section><h2><span class=\"m\">");
			deepaas_esc(&b, method);
			strbuf_adds(&b, "</span> <code>");
			deepaas_esc(&b, path);
			strbuf_adds(&b, "</code></h2><p>");
			deepaas_esc(&b, json_string_value(json_object_get(op, "summary")));
			strbuf_adds(&b, "</p>\n");
			json_t *produces = json_object_get(op, "produces");
			if (json_array_size(produces)) {
				strbuf_adds(&b, "<p>Response types: ");
				size_t i;
				json_t *v;
				json_array_foreach(produces, i, v)
				{
					strbuf_adds(&b, i ? ", <code>" : "<code>");
					deepaas_esc(&b, json_string_value(v));
					strbuf_adds(&b, "</code>");
				}
				strbuf_adds(&b, "</p>\n");
			}
			json_t *params = json_object_get(op, "parameters");
			if (json_array_size(params)) {
				strbuf_adds(&b, "<table><tr><th>Name</th><th>In</th><th>Type</th>"
						 "<th>Required</th><th>Default</th><th>Choices</th>"
						 "<th>Description</th></tr>\n");
				size_t i;
				json_t *p;
				json_array_foreach(params, i, p)
				{
					static const char *const cols[] = { "name", "in", "type" };
					strbuf_adds(&b, "<tr>");
					for (size_t c = 0; c < 3; c++) {
						strbuf_adds(&b, "<td>");
						deepaas_esc_json(&b, json_object_get(p, cols[c]));
						strbuf_adds(&b, "</td>");
					}
					strbuf_adds(&b, json_is_true(json_object_get(p, "required"))
								 ? "<td>yes</td><td>"
								 : "<td>no</td><td>");
					deepaas_esc_json(&b, json_object_get(p, "default"));
					strbuf_adds(&b, "</td><td>");
					deepaas_esc_json(&b, json_object_get(p, "enum"));
					strbuf_adds(&b, "</td><td>");
					deepaas_esc_json(&b, json_object_get(p, "description"));
					strbuf_adds(&b, "</td></tr>\n");
				}
				strbuf_adds(&b, "</table>\n");
			}
			strbuf_adds(&b, "</section>\n");
		}
	}
	strbuf_adds(&b, "</body></html>\n");
	return b.s;
}

/* ---- Accept ------------------------------------------------------------ */

/* The q of the most specific range in accept that matches type/sub; -1
 * when none does. */
static double deepaas_accept_q(const char *accept, const char *type, const char *sub)
{
	double best_q = -1;
	int best_spec = -1;
	const char *p = accept;
	while (*p) {
		const char *end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		char range[128];
		size_t n = (size_t)(end - p);
		if (n < sizeof range) {
			memcpy(range, p, n);
			range[n] = '\0';
			double q = 1;
			char *semi = strchr(range, ';');
			if (semi) {
				*semi = '\0';
				for (char *a = semi + 1; a && *a; a = strchr(a, ';') ? strchr(a, ';') + 1 : NULL) {
					while (*a == ' ')
						a++;
					if ((a[0] == 'q' || a[0] == 'Q') && a[1] == '=')
						q = strtod(a + 2, NULL);
				}
			}
			char *r = range;
			while (*r == ' ' || *r == '\t')
				r++;
			size_t rl = strlen(r);
			while (rl && (r[rl - 1] == ' ' || r[rl - 1] == '\t'))
				r[--rl] = '\0';
			char *slash = strchr(r, '/');
			if (slash) {
				*slash = '\0';
				const char *rt = r, *rs = slash + 1;
				int spec = -1;
				if (strcmp(rt, "*") == 0 && strcmp(rs, "*") == 0)
					spec = 0;
				else if (strcasecmp(rt, type) == 0 && strcmp(rs, "*") == 0)
					spec = 1;
				else if (strcasecmp(rt, type) == 0 && strcasecmp(rs, sub) == 0)
					spec = 2;
				if (spec > best_spec)
					best_spec = spec, best_q = q;
			}
		}
		p = *end ? end + 1 : end;
	}
	return best_q;
}

bool deepaas_accept_prefers_json(const char *accept)
{
	if (!accept)
		return false;
	double json = deepaas_accept_q(accept, "application", "json");
	double html = deepaas_accept_q(accept, "text", "html");
	return json > 0 && json > html;
}

/* ---- arguments --------------------------------------------------------- */

void deepaas_args_add(json_t *args, json_t *seen_before, const char *name, const char *value)
{
	if (seen_before && json_object_get(seen_before, name))
		return;
	json_t *cur = json_object_get(args, name);
	if (!cur) {
		json_object_set_new(args, name, json_string(value));
	} else if (json_is_array(cur)) {
		json_array_append_new(cur, json_string(value));
	} else {
		json_object_set_new(args, name, json_pack("[O,s]", cur, value));
	}
}

static int deepaas_hex(char c)
{
	return c >= '0' && c <= '9'	? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* Decode s[0..n) (percent and '+') into a new string. */
static char *deepaas_unquote(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			*o++ = ' ';
		} else if (s[i] == '%' && i + 2 < n && deepaas_hex(s[i + 1]) >= 0 &&
			   deepaas_hex(s[i + 2]) >= 0) {
			*o++ = (char)(deepaas_hex(s[i + 1]) * 16 + deepaas_hex(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

void deepaas_query_args(const char *query, json_t *args)
{
	json_t *before = json_deep_copy(args);
	const char *p = query;
	while (p && *p) {
		const char *end = strchr(p, '&');
		if (!end)
			end = p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		if (end > p) {
			char *name = deepaas_unquote(p, (size_t)((eq ? eq : end) - p));
			char *value = eq ? deepaas_unquote(eq + 1, (size_t)(end - eq - 1)) : xstrdup("");
			if (*name)
				deepaas_args_add(args, before, name, value);
			free(name);
			free(value);
		}
		p = *end ? end + 1 : end;
	}
	json_decref(before);
}

/* Python's str() of a JSON number, as marshmallow puts it in messages. */
static char *deepaas_num_text(json_t *v)
{
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	double d = json_number_value(v);
	char *s = xasprintf("%.17g", d);
	/* the shortest text that reads back the same, as Python's repr */
	for (int prec = 1; prec <= 17; prec++) {
		char *t = xasprintf("%.*g", prec, d);
		if (strtod(t, NULL) == d) {
			free(s);
			s = t;
			break;
		}
		free(t);
	}
	if (!strpbrk(s, ".eEn")) {
		char *t = xasprintf("%s.0", s);
		free(s);
		s = t;
	}
	return s;
}

static json_t *deepaas_to_bool(json_t *v)
{
	static const char *const yes[] = { "t", "true", "on", "y", "yes", "1" };
	static const char *const no[] = { "f", "false", "off", "n", "no", "0" };
	if (json_is_boolean(v))
		return json_incref(v);
	if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1))
		return json_boolean(json_integer_value(v));
	const char *s = json_string_value(v);
	if (!s || !*s)
		return NULL;
	/* marshmallow lists "true", "True" and "TRUE", not every spelling */
	bool mixed = false;
	for (const char *c = s + 1; *c && *s; c++)
		mixed |= (isupper((unsigned char)*c) != 0) != (isupper((unsigned char)s[1]) != 0);
	if (mixed)
		return NULL;
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		if (strcasecmp(s, yes[i]) == 0)
			return json_true();
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		if (strcasecmp(s, no[i]) == 0)
			return json_false();
	return NULL;
}

/* Convert one value by Swagger type; NULL with *msg when it is not one. */
static json_t *deepaas_convert(json_t *v, const char *type, const char **msg)
{
	if (!type || strcmp(type, "file") == 0) /* Field / Raw: as given */
		return json_incref(v);
	const char *s = json_string_value(v);
	if (strcmp(type, "integer") == 0) {
		*msg = "Not a valid integer.";
		if (json_is_integer(v))
			return json_incref(v);
		double d = json_real_value(v);
		if (json_is_real(v) && d > -9e18 && d < 9e18 && (double)(json_int_t)d == d)
			return json_integer((json_int_t)d);
		if (s) {
			char *end;
			long long n = strtoll(s, &end, 10);
			while (*end == ' ')
				end++;
			if (*s && end != s && !*end)
				return json_integer(n);
		}
		return NULL;
	}
	if (strcmp(type, "number") == 0) {
		*msg = "Not a valid number.";
		if (json_is_number(v))
			return json_real(json_number_value(v));
		if (s) {
			char *end;
			double d = strtod(s, &end);
			while (*end == ' ')
				end++;
			if (*s && end != s && !*end && d - d == 0) /* finite */
				return json_real(d);
		}
		return NULL;
	}
	if (strcmp(type, "boolean") == 0) {
		*msg = "Not a valid boolean.";
		return deepaas_to_bool(v);
	}
	if (strcmp(type, "string") == 0) {
		*msg = "Not a valid string.";
		return s ? json_incref(v) : NULL;
	}
	if (strcmp(type, "object") == 0) {
		*msg = "Not a valid mapping type.";
		return json_is_object(v) ? json_incref(v) : NULL;
	}
	return json_incref(v);
}

static size_t deepaas_utf8_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* The validators DEEPaaS's fields carry, as their Swagger keys say:
 * enum (OneOf), minimum/maximum (Range), minLength/maxLength (Length). */
static void deepaas_validate(json_t *p, json_t *v, json_t *msgs)
{
	json_t *en = json_object_get(p, "enum");
	if (json_is_array(en) && json_array_size(en)) {
		bool found = false;
		size_t i;
		json_t *c;
		json_array_foreach(en, i, c) found |= json_equal(c, v) ||
						      (json_is_number(c) && json_is_number(v) &&
						       json_number_value(c) == json_number_value(v));
		if (!found) {
			struct strbuf b = { 0 };
			strbuf_adds(&b, "Must be one of: ");
			json_array_foreach(en, i, c)
			{
				if (i)
					strbuf_adds(&b, ", ");
				if (json_is_string(c)) {
					strbuf_adds(&b, json_string_value(c));
				} else if (json_is_number(c)) {
					char *t = deepaas_num_text(c);
					strbuf_adds(&b, t);
					free(t);
				} else {
					char *t = json_dumps(c, JSON_ENCODE_ANY | JSON_COMPACT);
					strbuf_adds(&b, t);
					free(t);
				}
			}
			strbuf_adds(&b, ".");
			json_array_append_new(msgs, json_string(b.s));
			free(b.s);
		}
	}
	json_t *lo = json_object_get(p, "minimum"), *hi = json_object_get(p, "maximum");
	if (json_is_number(v) && (json_is_number(lo) || json_is_number(hi))) {
		double d = json_number_value(v);
		if ((json_is_number(lo) && d < json_number_value(lo)) ||
		    (json_is_number(hi) && d > json_number_value(hi))) {
			char *l = json_is_number(lo) ? deepaas_num_text(lo) : NULL;
			char *h = json_is_number(hi) ? deepaas_num_text(hi) : NULL;
			json_array_append_new(
				msgs, l && h ? json_sprintf("Must be greater than or equal to %s and "
							    "less than or equal to %s.",
							    l, h)
				      : l    ? json_sprintf("Must be greater than or equal to %s.", l)
					     : json_sprintf("Must be less than or equal to %s.", h));
			free(l);
			free(h);
		}
	}
	json_t *minl = json_object_get(p, "minLength"), *maxl = json_object_get(p, "maxLength");
	if ((json_is_integer(minl) || json_is_integer(maxl)) &&
	    (json_is_string(v) || json_is_array(v))) {
		long long n = json_is_string(v) ? (long long)deepaas_utf8_len(json_string_value(v))
						: (long long)json_array_size(v);
		long long a = json_integer_value(minl), b = json_integer_value(maxl);
		bool has_a = json_is_integer(minl), has_b = json_is_integer(maxl);
		if ((has_a && n < a) || (has_b && n > b))
			json_array_append_new(
				msgs, has_a && has_b ? json_sprintf("Length must be between %lld and %lld.",
								    a, b)
				      : has_a	     ? json_sprintf("Shorter than minimum length %lld.", a)
						     : json_sprintf("Longer than maximum length %lld.", b));
	}
}

json_t *deepaas_args_check(json_t *params, json_t *raw, json_t *headers, json_t **errors)
{
	json_t *out = json_object(), *errs = json_object();
	size_t i;
	json_t *p;
	json_array_foreach(params, i, p)
	{
		const char *name = json_string_value(json_object_get(p, "name"));
		const char *in = json_string_value(json_object_get(p, "in"));
		const char *type = json_string_value(json_object_get(p, "type"));
		if (!name || (in && strcmp(in, "path") == 0))
			continue;
		json_t *v;
		if (in && strcmp(in, "header") == 0) {
			char *lower = xstrdup(name);
			for (char *c = lower; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			v = json_object_get(headers, lower);
			free(lower);
		} else {
			v = json_object_get(raw, name);
		}
		json_t *msgs = json_array();
		json_t *val = NULL;
		if (!v || json_is_null(v)) {
			json_t *def = json_object_get(p, "default");
			if (def)
				val = json_deep_copy(def);
			else if (json_is_true(json_object_get(p, "required")))
				json_array_append_new(msgs, json_string("Missing data for required field."));
		} else if (type && strcmp(type, "array") == 0) {
			const char *itype =
				json_string_value(json_object_get(json_object_get(p, "items"), "type"));
			json_t *list = json_is_array(v) ? json_incref(v) : json_pack("[O]", v);
			val = json_array();
			size_t k;
			json_t *e;
			json_array_foreach(list, k, e)
			{
				const char *msg = NULL;
				json_t *c = deepaas_convert(e, itype, &msg);
				if (!c) {
					json_array_append_new(msgs, json_string(msg));
					break;
				}
				json_array_append_new(val, c);
			}
			json_decref(list);
		} else {
			/* A repeated name for a single value: the first, as
			 * aiohttp's MultiDict.get gives webargs. */
			json_t *one = json_is_array(v) && !(type && strcmp(type, "object") == 0) &&
						      json_array_size(v) &&
						      json_is_string(json_array_get(v, 0))
					      ? json_array_get(v, 0)
					      : v;
			const char *msg = NULL;
			val = deepaas_convert(one, type, &msg);
			if (!val)
				json_array_append_new(msgs, json_string(msg));
		}
		if (val && json_array_size(msgs) == 0)
			deepaas_validate(p, val, msgs);
		if (json_array_size(msgs)) {
			json_object_set_new(errs, name, msgs);
			json_decref(val);
		} else {
			json_decref(msgs);
			if (val)
				json_object_set_new(out, name, val);
		}
	}
	if (json_object_size(errs)) {
		json_decref(out);
		*errors = errs;
		return NULL;
	}
	json_decref(errs);
	*errors = NULL;
	return out;
}

/* ---- training records ------------------------------------------------- */

void deepaas_format_date(double t, char *buf, size_t len)
{
	/* Times here are after 1970: truncation is floor. */
	time_t s = (time_t)(t < 0 ? 0 : t);
	long us = (long)((t - (double)s) * 1e6 + 0.5);
	if (us >= 1000000)
		s++, us -= 1000000;
	struct tm tm;
	localtime_r(&s, &tm);
	char base[24];
	strftime(base, sizeof base, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06ld", base, us);
}

void deepaas_format_duration(double seconds, char *buf, size_t len)
{
	if (seconds < 0)
		seconds = 0;
	long long total_us = (long long)(seconds * 1e6 + 0.5);
	long long days = total_us / (86400LL * 1000000);
	long long rest = total_us % (86400LL * 1000000);
	long long h = rest / 3600000000LL, m = rest / 60000000LL % 60, s = rest / 1000000 % 60,
		  us = rest % 1000000;
	if (days)
		snprintf(buf, len, "%lld day%s, %lld:%02lld:%02lld.%06lld", days,
			 days == 1 ? "" : "s", h, m, s, us);
	else
		snprintf(buf, len, "%lld:%02lld:%02lld.%06lld", h, m, s, us);
}

/* Why a job that wrote no result ended, in words. */
static json_t *deepaas_job_end_message(const struct deepaas_training_view *v)
{
	const char *st = v->job_state;
	if (strcmp(st, "timeout") == 0)
		return json_string("the training ran past its wall time and was stopped");
	if (strcmp(st, "oom") == 0)
		return json_string("the training ran out of memory and was stopped");
	if (strcmp(st, "lost") == 0)
		return json_string("the training's process was lost");
	if (strcmp(st, "completed") == 0)
		return json_string("the training ended without writing a result");
	if (v->exit_code >= 0)
		return json_sprintf("the training failed (exit code %lld); see its job log",
				    (long long)v->exit_code);
	return json_string("the training failed; see its job log");
}

json_t *deepaas_training_record(const struct deepaas_training_view *v)
{
	char date[40];
	deepaas_format_date((double)v->created_at, date, sizeof date);
	json_t *args = v->args ? json_loads(v->args, 0, NULL) : NULL;
	json_t *r = json_pack("{s:s,s:s,s:o}", "uuid", v->uuid, "date", date, "args",
			      args ? args : json_object());
	const char *st = v->job_state;
	bool live = strcmp(st, "pending") == 0 || strcmp(st, "running") == 0;
	const char *rstatus = json_string_value(json_object_get(v->result, "status"));
	if (v->cancelled || strcmp(st, "cancelled") == 0) {
		json_object_set_new(r, "status", json_string("cancelled"));
	} else if (live) {
		json_object_set_new(r, "status", json_string("running"));
	} else if (rstatus && strcmp(rstatus, "done") == 0 && strcmp(st, "completed") == 0) {
		double fin = v->result_time >= 0 ? v->result_time
			     : v->job_end_time >= 0 ? (double)v->job_end_time
						    : (double)v->created_at;
		char fd[40], dur[48];
		deepaas_format_date(fin, fd, sizeof fd);
		deepaas_format_duration(fin - (double)v->created_at, dur, sizeof dur);
		json_t *output = json_object_get(v->result, "output");
		json_object_set_new(r, "status", json_string("done"));
		json_object_set_new(r, "result",
				    json_pack("{s:O,s:s,s:s}", "output", output ? output : json_null(),
					      "finish_date", fd, "duration", dur));
	} else {
		json_object_set_new(r, "status", json_string("error"));
		json_t *msg = json_object_get(v->result, "message");
		json_object_set_new(r, "message",
				    json_is_string(msg) ? json_incref(msg) : deepaas_job_end_message(v));
		json_t *errs = json_object_get(v->result, "errors");
		if (json_is_object(errs))
			json_object_set(r, "errors", errs);
	}
	return r;
}
