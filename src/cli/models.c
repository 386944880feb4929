/*
 * cli/models — `kaon models`: the model catalog from the command line
 * (docs/models.md). list/show for everyone; add, set and remove for
 * admins. `add DIR` names a folder on the server's machine: the CLI
 * sends its absolute path, as the server reads it there.
 */
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "lib/xalloc.h"

static const char models_list_usage[] = "models list [SEARCH] [--keyword K] [--json]";
static const char models_show_usage[] = "models show NAME [--json]";
static const char models_add_usage[] =
	"models add DIR | --from-training UUID [--version V] [--owner USER] [--public] [--json]";
static const char models_set_usage[] =
	"models set NAME [--public yes|no] [--predict on|off] [--train on|off] [--json]";
static const char models_remove_usage[] = "models remove NAME";

static char *models_keywords_text(const json_t *m)
{
	char *text = xstrdup("");
	size_t i;
	json_t *k;
	json_array_foreach(json_object_get(m, "keywords"), i, k)
	{
		char *n = xasprintf("%s%s%s", text, i ? ", " : "", json_string_value(k));
		free(text);
		text = n;
	}
	return text;
}

static void models_table(const json_t *models)
{
	static const char *const headers[] = { "NAME", "VERSION", "TITLE", "KEYWORDS", "PREDICT",
					       "TRAIN" };
	struct output_table *t = output_table_new(headers, 6);
	size_t i;
	json_t *m;
	json_array_foreach(models, i, m)
	{
		char *kw = models_keywords_text(m);
		output_table_add(t, output_str(m, "name"));
		output_table_add(t, output_str(m, "version"));
		output_table_add(t, output_str(m, "title"));
		output_table_add(t, kw);
		output_table_add(t, json_is_true(json_object_get(m, "predict_enabled"))
					    ? (json_is_true(json_object_get(m, "public")) ? "public" : "yes")
					    : "off");
		output_table_add(t, json_is_true(json_object_get(m, "train_enabled")) ? "yes" : "off");
		free(kw);
	}
	output_table_print(t, stdout);
}

/* Call the API and show its answer: --json as it came, else print(ans).
 * body is the caller's. The exit status. */
static int models_call(const char *method, const char *path, json_t *body, bool as_json,
		       void (*print)(const json_t *ans))
{
	json_t *ans = NULL;
	char *cause = NULL;
	if (client_call_once(method, path, body, &ans, &cause) < 0)
		return output_fail_cause(cause);
	if (as_json)
		output_json(ans);
	else
		print(ans);
	json_decref(ans);
	return 0;
}

static void models_list_print(const json_t *ans)
{
	models_table(json_object_get(ans, "models"));
}

static int models_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "keyword", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *keyword = NULL;
	bool as_json = false;
	int ch;
	optind = 0;
	while ((ch = output_getopt(argc, argv, opts)) != -1) {
		if (ch == 'k')
			keyword = optarg;
		else if (ch == 'j')
			as_json = true;
		else if (ch == 'h')
			return printf("usage: kaon %s\n", models_list_usage), 0;
		else
			return output_usage(models_list_usage, NULL);
	}
	if (argc - optind > 1)
		return output_usage(models_list_usage, "too many arguments");
	char *q = optind < argc ? client_escape(argv[optind]) : NULL;
	char *k = keyword ? client_escape(keyword) : NULL;
	char *path = xasprintf("/api/v1/models?q=%s&keyword=%s", q ? q : "", k ? k : "");
	if (!keyword)
		path[strlen(path) - strlen("&keyword=")] = '\0';
	free(q);
	free(k);
	int rc = models_call("GET", path, NULL, as_json, models_list_print);
	free(path);
	return rc;
}

static void models_print(const json_t *m)
{
	char *kw = models_keywords_text(m);
	output_field("name:", output_str(m, "name"));
	output_field("version:", output_str(m, "version"));
	output_field("title:", output_str(m, "title"));
	output_field("summary:", output_str(m, "summary"));
	output_field("keywords:", kw);
	output_field("license:", output_str(m, "license"));
	output_field("url:", output_str(m, "url"));
	output_field("owner:", output_str(m, "owner"));
	output_field("predict:", json_is_true(json_object_get(m, "predict_enabled"))
					 ? (json_is_true(json_object_get(m, "public")) ? "on, also anonymous" : "on")
					 : "off");
	output_field("train:", json_is_true(json_object_get(m, "train_enabled")) ? "on" : "off");
	output_field("deepaas:", output_str(m, "deepaas"));
	static const char *const lists[] = { "predict_args", "train_args" };
	for (size_t l = 0; l < 2; l++) {
		size_t i;
		json_t *a;
		json_array_foreach(json_object_get(m, lists[l]), i, a)
		{
			const char *type = output_str(a, "type");
			char *line = xasprintf("%s (%s%s)%s%s", output_str(a, "name"), type ? type : "any",
					       json_is_true(json_object_get(a, "required")) ? ", required" : "",
					       output_str(a, "description") ? ": " : "",
					       output_str(a, "description") ? output_str(a, "description") : "");
			output_field(i ? "" : (l ? "train args:" : "predict args:"), line);
			free(line);
		}
	}
	free(kw);
}

static int models_show(int argc, char **argv)
{
	bool as_json = false;
	int rc = output_args(argc, argv, models_show_usage, 1, &as_json);
	if (rc >= 0)
		return rc;
	char *name = client_escape(argv[optind]);
	char *path = xasprintf("/api/v1/models/%s", name);
	free(name);
	rc = models_call("GET", path, NULL, as_json, models_print);
	free(path);
	return rc;
}

static void models_added_print(const json_t *ans)
{
	printf("Registered model %s version %s (%s).\n", output_str(ans, "name"),
	       output_str(ans, "version"), output_str(ans, "deepaas"));
}

static int models_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "owner", required_argument, NULL, 'o' },
		{ "public", no_argument, NULL, 'p' },
		{ "from-training", required_argument, NULL, 'f' },
		{ "version", required_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *owner = NULL, *training = NULL, *version = NULL;
	bool pub = false, as_json = false;
	int ch;
	optind = 0;
	while ((ch = output_getopt(argc, argv, opts)) != -1) {
		if (ch == 'o')
			owner = optarg;
		else if (ch == 'f')
			training = optarg;
		else if (ch == 'v')
			version = optarg;
		else if (ch == 'p')
			pub = true;
		else if (ch == 'j')
			as_json = true;
		else if (ch == 'h')
			return printf("usage: kaon %s\n", models_add_usage), 0;
		else
			return output_usage(models_add_usage, NULL);
	}
	json_t *body;
	if (training) {
		if (argc != optind)
			return output_usage(models_add_usage,
					    "a folder or --from-training, not both");
		body = json_pack("{s:s,s:b}", "from_training", training, "public", pub);
		if (version)
			json_object_set_new(body, "version", json_string(version));
	} else {
		if (version)
			return output_usage(models_add_usage, "--version goes with --from-training "
					    "(a folder's version is in its kaon-model.json)");
		if (argc - optind != 1)
			return output_usage(models_add_usage, argc == optind
								  ? "missing the model folder"
								  : "too many arguments");
		char abs[PATH_MAX];
		if (!realpath(argv[optind], abs))
			return output_usage(models_add_usage, "'%s' is not a folder here",
					    argv[optind]);
		body = json_pack("{s:s,s:b}", "dir", abs, "public", pub);
	}
	if (owner)
		json_object_set_new(body, "owner", json_string(owner));
	int rc = models_call("POST", "/api/v1/models", body, as_json, models_added_print);
	json_decref(body);
	return rc;
}

/* yes/no, on/off, true/false. */
static int models_bool(const char *s, bool *out)
{
	if (!strcmp(s, "yes") || !strcmp(s, "on") || !strcmp(s, "true"))
		return *out = true, 0;
	if (!strcmp(s, "no") || !strcmp(s, "off") || !strcmp(s, "false"))
		return *out = false, 0;
	return -1;
}

static int models_set(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "public", required_argument, NULL, 'p' },
		{ "predict", required_argument, NULL, 'r' },
		{ "train", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *body = json_object();
	bool as_json = false, v;
	int ch;
	optind = 0;
	while ((ch = output_getopt(argc, argv, opts)) != -1) {
		const char *key = ch == 'p' ? "public" : ch == 'r' ? "predict_enabled" : "train_enabled";
		if (ch == 'j') {
			as_json = true;
		} else if (ch == 'h') {
			json_decref(body);
			return printf("usage: kaon %s\n", models_set_usage), 0;
		} else if ((ch == 'p' || ch == 'r' || ch == 't') && models_bool(optarg, &v) == 0) {
			json_object_set_new(body, key, json_boolean(v));
		} else {
			json_decref(body);
			return output_usage(models_set_usage,
					    ch == '?' ? NULL : "'%s' is not yes/no or on/off", optarg);
		}
	}
	if (argc - optind != 1 || json_object_size(body) == 0) {
		json_decref(body);
		return output_usage(models_set_usage, argc - optind != 1 ? "give one model name"
									: "nothing to set");
	}
	char *name = client_escape(argv[optind]);
	char *path = xasprintf("/api/v1/models/%s", name);
	free(name);
	int rc = models_call("PATCH", path, body, as_json, models_print);
	free(path);
	json_decref(body);
	return rc;
}

static int models_remove(int argc, char **argv)
{
	int rc = output_args(argc, argv, models_remove_usage, 1, NULL);
	if (rc >= 0)
		return rc;
	char *name = client_escape(argv[optind]);
	char *path = xasprintf("/api/v1/models/%s", name);
	free(name);
	char *cause = NULL;
	rc = client_call_once("DELETE", path, NULL, NULL, &cause);
	free(path);
	if (rc < 0)
		return output_fail_cause(cause);
	printf("Removed model %s from the catalog.\n", argv[optind]);
	return 0;
}

static const struct output_cmd models_cmds[] = {
	{ "list", models_list, models_list_usage },
	{ "show", models_show, models_show_usage },
	{ "add", models_add, models_add_usage },
	{ "set", models_set, models_set_usage },
	{ "remove", models_remove, models_remove_usage },
};

int cli_models(int argc, char **argv)
{
	/* `kaon models` alone lists, like `kaon sessions`. */
	if (argc < 2 || argv[1][0] == '-') {
		char *list_argv[64];
		int n = 0;
		list_argv[n++] = (char *)"list";
		for (int i = 1; i < argc && n < 63; i++)
			list_argv[n++] = argv[i];
		list_argv[n] = NULL;
		return models_list(n, list_argv);
	}
	return output_dispatch(models_cmds, sizeof models_cmds / sizeof models_cmds[0], "models",
			       argc, argv);
}
