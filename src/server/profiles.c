/*
 * server/profiles — checking, seeding and expanding session profiles (see
 * profiles.h). The checks live here, not in the API handler, because the
 * config file's profiles must pass the same ones at start.
 */
#include "server/profiles.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "lib/log.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "server/jobenv.h"
#include "store/db.h"
#include "store/groups.h"
#include "store/sessions.h"

enum {
	PROFILES_MAX_ARGS = 256,
	PROFILES_MAX_ARG = 4096,
	PROFILES_MAX_ENV = 64,
	PROFILES_MAX_GROUPS = 64,
	PROFILES_MAX_TITLE = 128,
	PROFILES_MAX_DESCRIPTION = 1024,
	PROFILES_MAX_REQUIRES = 255,
	PROFILES_MAX_LIFETIME_S = 366 * 86400,
	PROFILES_DEFAULT_LIFETIME_S = 8 * 3600,
	PROFILES_DEFAULT_MAX_LIFETIME_S = 24 * 3600,
	PROFILES_DEFAULT_IDLE_S = 3600,
	PROFILES_DEFAULT_POSITION = 100,
};

static const char *const profiles_kinds[] = { "jupyter", "tensorboard", "shell", "web" };

static const struct {
	const char *name;
	unsigned bit;
} profiles_placeholders[] = {
	{ "socket", PROFILES_USES_SOCKET },   { "port", PROFILES_USES_PORT },
	{ "base_url", PROFILES_USES_BASE_URL }, { "secret", PROFILES_USES_SECRET },
	{ "home", PROFILES_USES_HOME },	      { "workdir", PROFILES_USES_WORKDIR },
	{ "folder", PROFILES_USES_FOLDER },   { "kaon", PROFILES_USES_KAON },
	{ "libexec", PROFILES_USES_LIBEXEC },
};

/* Variables kaon sets in every session, which a profile may not set. */
static const char *const profiles_session_env[] = {
	"KAON_SESSION_SECRET", "KAON_SESSION_SOCKET", "KAON_SESSION_PORT", "KAON_BASE_URL",
};

/* ---- the built-in profiles ------------------------------------------------ */

/* Jupyter behind kaon's proxy: on a socket only its owner can open, under
 * /s/ID/, with the secret as its token (JUPYTER_TOKEN, never argv).
 * allow_remote_access: the proxy keeps the browser's Host header, which
 * Notebook's DNS-rebinding check would refuse; the socket and the token
 * are what protect it. quit_button off, as JupyterHub does: quitting would
 * end the session outside kaon's stop and extension. */
#define PROFILES_JUPYTER_COMMAND                                                                     \
	"[\"jupyter-notebook\",\"--no-browser\",\"--NotebookApp.sock={socket}\","                   \
	"\"--NotebookApp.sock_mode=0600\",\"--NotebookApp.base_url={base_url}\","                   \
	"\"--NotebookApp.notebook_dir={home}\",\"--NotebookApp.allow_remote_access=True\","        \
	"\"--NotebookApp.quit_button=False\"]"

static const struct store_profile profiles_builtins[] = {
	{
		.name = (char *)"jupyter-cpu",
		.title = (char *)"Jupyter Notebook (CPU)",
		.description = (char *)"A Jupyter Notebook in your home folder, on CPUs only.",
		.kind = (char *)"jupyter",
		.command = (char *)PROFILES_JUPYTER_COMMAND,
		.env = (char *)"{\"JUPYTER_TOKEN\":\"{secret}\"}",
		.requires = (char *)"jupyter-notebook",
		.cpus = 2, .mem_mb = 4096, .gpus = 0,
		.lifetime_s = 8 * 3600, .max_lifetime_s = 24 * 3600, .idle_timeout_s = 3600,
		.groups = (char *)"[]", .position = 10, .source = (char *)"builtin",
	},
	{
		.name = (char *)"jupyter-gpu",
		.title = (char *)"Jupyter Notebook (1 GPU)",
		.description = (char *)"A Jupyter Notebook in your home folder with one GPU of its own.",
		.kind = (char *)"jupyter",
		.command = (char *)PROFILES_JUPYTER_COMMAND,
		.env = (char *)"{\"JUPYTER_TOKEN\":\"{secret}\"}",
		.requires = (char *)"jupyter-notebook",
		.cpus = 2, .mem_mb = 4096, .gpus = 1,
		.lifetime_s = 8 * 3600, .max_lifetime_s = 24 * 3600, .idle_timeout_s = 3600,
		.groups = (char *)"[]", .position = 20, .source = (char *)"builtin",
	},
	{
		.name = (char *)"tensorboard",
		.title = (char *)"TensorBoard",
		.description = (char *)"TensorBoard on a folder of yours (its logdir).",
		.kind = (char *)"tensorboard",
		.command = (char *)"[\"{libexec}/kaon-tensorboard\",\"--logdir\",\"{folder}\"]",
		.env = (char *)"{}",
		.requires = (char *)"tensorboard",
		.cpus = 1, .mem_mb = 2048, .gpus = 0,
		.lifetime_s = 8 * 3600, .max_lifetime_s = 24 * 3600, .idle_timeout_s = 3600,
		.groups = (char *)"[]", .position = 30, .source = (char *)"builtin",
	},
	{
		.name = (char *)"shell",
		.title = (char *)"Shell",
		.description = (char *)"A terminal in a session of its own, with the session's resources.",
		.kind = (char *)"shell",
		.command = (char *)"[\"{kaon}\",\"session-shell\"]",
		.env = (char *)"{}",
		.requires = NULL,
		.cpus = 1, .mem_mb = 1024, .gpus = 0,
		.lifetime_s = 8 * 3600, .max_lifetime_s = 24 * 3600, .idle_timeout_s = 3600,
		.groups = (char *)"[]", .position = 40, .source = (char *)"builtin",
	},
};

const struct store_profile *profiles_builtin(size_t *n)
{
	*n = sizeof profiles_builtins / sizeof profiles_builtins[0];
	return profiles_builtins;
}

/* ---- placeholders ---------------------------------------------------------- */

/* Walk tmpl: collect the placeholders it uses into *uses and, when v is
 * given, write the expansion to *out. 0, or -1 with *why. */
static int profiles_walk(const char *tmpl, unsigned *uses, const struct profiles_values *v,
			 char **out, char **why)
{
	struct strbuf b = { 0 };
	char port[16];
	strbuf_add(&b, "", 0);
	for (const char *p = tmpl; *p;) {
		size_t plain = strcspn(p, "{}");
		strbuf_add(&b, p, plain);
		p += plain;
		if (!*p)
			break;
		if (p[0] == p[1]) { /* {{ or }} */
			strbuf_add(&b, p, 1);
			p += 2;
			continue;
		}
		const char *end = p[0] == '{' ? strchr(p, '}') : NULL;
		size_t k, n = end ? (size_t)(end - p - 1) : 0;
		for (k = 0; end && k < sizeof profiles_placeholders / sizeof profiles_placeholders[0]; k++)
			if (strlen(profiles_placeholders[k].name) == n &&
			    strncmp(profiles_placeholders[k].name, p + 1, n) == 0)
				break;
		if (!end || k == sizeof profiles_placeholders / sizeof profiles_placeholders[0]) {
			if (!end)
				*why = xasprintf("'%s' has a lone '%c' (write '%c%c' for a brace)", tmpl,
						 *p, *p, *p);
			else
				*why = xasprintf("'%s' has an unknown placeholder {%.*s} (known: {socket} "
						 "{port} {base_url} {secret} {home} {workdir} {folder} "
						 "{kaon} {libexec})",
						 tmpl, (int)(n > 32 ? 32 : n), p + 1);
			free(b.s);
			return -1;
		}
		unsigned bit = profiles_placeholders[k].bit;
		*uses |= bit;
		if (v) {
			const char *val = bit == PROFILES_USES_SOCKET	  ? v->socket
					  : bit == PROFILES_USES_BASE_URL ? v->base_url
					  : bit == PROFILES_USES_SECRET	  ? v->secret
					  : bit == PROFILES_USES_HOME	  ? v->home
					  : bit == PROFILES_USES_WORKDIR  ? v->workdir
					  : bit == PROFILES_USES_FOLDER	  ? v->folder
					  : bit == PROFILES_USES_KAON	  ? v->kaon
					  : bit == PROFILES_USES_LIBEXEC  ? v->libexec
									  : NULL;
			if (bit == PROFILES_USES_PORT) {
				snprintf(port, sizeof port, "%d", v->port);
				val = port;
			}
			if (!val) {
				*why = xasprintf("'%s': {%s} has no value in this session", tmpl,
						 profiles_placeholders[k].name);
				free(b.s);
				return -1;
			}
			strbuf_add(&b, val, strlen(val));
		}
		p = end + 1;
	}
	if (out)
		*out = b.s;
	else
		free(b.s);
	return 0;
}

int profiles_expand(const char *tmpl, const struct profiles_values *v, char **out, char **why)
{
	unsigned uses = 0;
	return profiles_walk(tmpl, &uses, v, out, why);
}

unsigned profiles_uses(const struct store_profile *p)
{
	unsigned uses = 0;
	char *why = NULL;
	json_t *cmd = json_loads(p->command ? p->command : "[]", 0, NULL);
	json_t *env = json_loads(p->env ? p->env : "{}", 0, NULL);
	size_t i;
	const char *k;
	json_t *v;
	json_array_foreach(cmd, i, v) if (json_is_string(v) &&
					  profiles_walk(json_string_value(v), &uses, NULL, NULL, &why) < 0)
	{
		free(why);
		why = NULL;
	}
	json_object_foreach(env, k, v) if (json_is_string(v) &&
					   profiles_walk(json_string_value(v), &uses, NULL, NULL, &why) < 0)
	{
		free(why);
		why = NULL;
	}
	json_decref(cmd);
	json_decref(env);
	return uses;
}

int profiles_launch(const struct store_profile *p, const struct profiles_values *v,
		    char **command, char **env, char **why)
{
	json_t *cmd = json_loads(p->command ? p->command : "[]", 0, NULL);
	json_t *penv = json_loads(p->env ? p->env : "{}", 0, NULL);
	json_t *argv = json_array(), *envo = json_object();
	int rc = -1;
	if (!json_is_array(cmd) || !json_is_object(penv)) {
		*why = xasprintf("profile '%s' has a malformed command or env", p->name);
		goto out;
	}
	size_t i;
	const char *k;
	json_t *e;
	json_array_foreach(cmd, i, e)
	{
		char *s;
		if (profiles_expand(json_string_value(e), v, &s, why) < 0)
			goto out;
		json_array_append_new(argv, json_string(s));
		free(s);
	}
	json_object_foreach(penv, k, e)
	{
		char *s;
		if (profiles_expand(json_string_value(e), v, &s, why) < 0)
			goto out;
		json_object_set_new(envo, k, json_string(s));
		free(s);
	}
	json_object_set_new(envo, "KAON_SESSION_SECRET", json_string(v->secret));
	json_object_set_new(envo, "KAON_BASE_URL", json_string(v->base_url));
	if (v->socket) {
		json_object_set_new(envo, "KAON_SESSION_SOCKET", json_string(v->socket));
	} else {
		char port[16];
		snprintf(port, sizeof port, "%d", v->port);
		json_object_set_new(envo, "KAON_SESSION_PORT", json_string(port));
	}
	*command = json_dumps(argv, JSON_COMPACT);
	*env = json_dumps(envo, JSON_COMPACT);
	rc = 0;
out:
	json_decref(cmd);
	json_decref(penv);
	json_decref(argv);
	json_decref(envo);
	return rc;
}

/* ---- checks ------------------------------------------------------------------ */

bool profiles_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > PROFILES_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

static bool profiles_env_name_ok(const char *k)
{
	if (!*k || (*k >= '0' && *k <= '9') || strlen(k) > 128)
		return false;
	for (const char *c = k; *c; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= '0' && *c <= '9') || *c == '_'))
			return false;
	return true;
}

static bool profiles_session_var(const char *k)
{
	for (size_t i = 0; i < sizeof profiles_session_env / sizeof profiles_session_env[0]; i++)
		if (strcmp(k, profiles_session_env[i]) == 0)
			return true;
	return false;
}

/* A JSON string without NUL bytes, of len bytes in min..max. */
static bool profiles_str_ok(json_t *v, size_t min, size_t max)
{
	if (!json_is_string(v))
		return false;
	size_t n = json_string_length(v);
	return n >= min && n <= max && strlen(json_string_value(v)) == n;
}

static int profiles_check_command(const struct store_profile *p, char **why)
{
	json_error_t err;
	json_t *cmd = json_loads(p->command ? p->command : "", 0, &err);
	int rc = -1;
	unsigned uses = 0;
	if (!json_is_array(cmd) || json_array_size(cmd) == 0 ||
	    json_array_size(cmd) > PROFILES_MAX_ARGS) {
		*why = xasprintf("field 'command' must be a JSON array of 1 to %d strings",
				 PROFILES_MAX_ARGS);
		goto out;
	}
	size_t i;
	json_t *v;
	json_array_foreach(cmd, i, v)
	{
		if (!profiles_str_ok(v, i == 0 ? 1 : 0, PROFILES_MAX_ARG)) {
			*why = xasprintf("field 'command' must be a JSON array of strings (at most %d "
					 "bytes each, the first not empty); element %zu is not",
					 PROFILES_MAX_ARG, i);
			goto out;
		}
		char *inner = NULL;
		if (profiles_walk(json_string_value(v), &uses, NULL, NULL, &inner) < 0) {
			*why = xasprintf("field 'command': %s", inner);
			free(inner);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(cmd);
	return rc;
}

static int profiles_check_env(const struct store_profile *p, char **why)
{
	json_t *env = json_loads(p->env ? p->env : "{}", 0, NULL);
	int rc = -1;
	unsigned uses = 0;
	if (!json_is_object(env) || json_object_size(env) > PROFILES_MAX_ENV) {
		*why = xasprintf("field 'env' must be a JSON object of at most %d NAME: \"value\"",
				 PROFILES_MAX_ENV);
		goto out;
	}
	const char *k;
	json_t *v;
	json_object_foreach(env, k, v)
	{
		if (!profiles_env_name_ok(k) || !profiles_str_ok(v, 0, PROFILES_MAX_ARG)) {
			*why = xasprintf("env '%.128s' must be a NAME with a string value", k);
			goto out;
		}
		if (jobenv_reserved(k) || profiles_session_var(k)) {
			*why = xasprintf("env '%s' is set by kaon and cannot be given", k);
			goto out;
		}
		char *inner = NULL;
		if (profiles_walk(json_string_value(v), &uses, NULL, NULL, &inner) < 0) {
			*why = xasprintf("env '%s': %s", k, inner);
			free(inner);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(env);
	return rc;
}

static int profiles_check_groups(const struct store_profile *p, struct store *st, char **why)
{
	json_t *groups = json_loads(p->groups ? p->groups : "[]", 0, NULL);
	int rc = -1;
	if (!json_is_array(groups) || json_array_size(groups) > PROFILES_MAX_GROUPS) {
		*why = xasprintf("field 'groups' must be an array of at most %d group names",
				 PROFILES_MAX_GROUPS);
		goto out;
	}
	size_t i;
	json_t *v;
	json_array_foreach(groups, i, v)
	{
		if (!profiles_str_ok(v, 1, 64)) {
			*why = xstrdup("field 'groups' must be an array of group names");
			goto out;
		}
		struct store_group g = { 0 };
		int grc = st ? store_group_get(st, json_string_value(v), &g) : 0;
		store_group_clear(&g);
		if (grc == -ENOENT) {
			*why = xasprintf("field 'groups': there is no group '%s'", json_string_value(v));
			goto out;
		}
		if (grc < 0) {
			*why = xasprintf("cannot read group '%s' from the store", json_string_value(v));
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(groups);
	return rc;
}

int profiles_check(const struct store_profile *p, struct store *st, char **why)
{
	if (!p->name || !profiles_name_valid(p->name)) {
		*why = xasprintf("field 'name' must match [a-z0-9-]{1,%d}", PROFILES_NAME_MAX);
		return -1;
	}
	if (!p->title || !*p->title || strlen(p->title) > PROFILES_MAX_TITLE) {
		*why = xasprintf("field 'title' must be 1 to %d bytes", PROFILES_MAX_TITLE);
		return -1;
	}
	if (p->description && strlen(p->description) > PROFILES_MAX_DESCRIPTION) {
		*why = xasprintf("field 'description' must be at most %d bytes",
				 PROFILES_MAX_DESCRIPTION);
		return -1;
	}
	size_t k;
	for (k = 0; p->kind && k < sizeof profiles_kinds / sizeof profiles_kinds[0]; k++)
		if (strcmp(p->kind, profiles_kinds[k]) == 0)
			break;
	if (!p->kind || k == sizeof profiles_kinds / sizeof profiles_kinds[0]) {
		*why = xstrdup("field 'kind' must be one of jupyter, tensorboard, shell, web");
		return -1;
	}
	if (p->requires &&
	    (!*p->requires || strlen(p->requires) > PROFILES_MAX_REQUIRES ||
	     strspn(p->requires, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-/") !=
		     strlen(p->requires) ||
	     (strchr(p->requires, '/') && p->requires[0] != '/'))) {
		*why = xstrdup("field 'requires' must be a program name or an absolute path");
		return -1;
	}
	if (p->cpus < 1 || p->cpus > 1 << 16 || p->mem_mb < 1 || p->mem_mb > (int64_t)1 << 40 ||
	    p->gpus < 0 || p->gpus > 64) {
		*why = xstrdup("field 'resources' must have cpus 1 to 65536, mem_mb from 1, gpus 0 to 64");
		return -1;
	}
	if (p->lifetime_s < 60 || p->lifetime_s > PROFILES_MAX_LIFETIME_S) {
		*why = xasprintf("field 'lifetime_s' must be from 60 to %d", PROFILES_MAX_LIFETIME_S);
		return -1;
	}
	if (p->max_lifetime_s < p->lifetime_s || p->max_lifetime_s > PROFILES_MAX_LIFETIME_S) {
		*why = xasprintf("field 'max_lifetime_s' must be from lifetime_s (%lld) to %d",
				 (long long)p->lifetime_s, PROFILES_MAX_LIFETIME_S);
		return -1;
	}
	if (p->idle_timeout_s < 0 || p->idle_timeout_s > PROFILES_MAX_LIFETIME_S) {
		*why = xasprintf("field 'idle_timeout_s' must be from 0 (never) to %d",
				 PROFILES_MAX_LIFETIME_S);
		return -1;
	}
	if (p->position < -1000000 || p->position > 1000000) {
		*why = xstrdup("field 'position' must be from -1000000 to 1000000");
		return -1;
	}
	if (profiles_check_command(p, why) < 0 || profiles_check_env(p, why) < 0 ||
	    profiles_check_groups(p, st, why) < 0)
		return -1;
	unsigned uses = profiles_uses(p);
	if ((uses & PROFILES_USES_SOCKET) && (uses & PROFILES_USES_PORT)) {
		*why = xstrdup("a profile listens on {socket} or on {port}, not both");
		return -1;
	}
	return 0;
}

/* ---- from JSON and from the config file ---------------------------------------- */

static const char *const profiles_fields[] = {
	"name",	      "title",	    "description", "kind",	     "command",
	"env",	      "requires",   "resources",   "lifetime_s",     "max_lifetime_s",
	"idle_timeout_s", "groups", "position",
};

/* An integer field of obj into *out (left as it is when absent); -1 with
 * *why when present and not an integer. */
static int profiles_int(json_t *obj, const char *name, int64_t *out, char **why)
{
	json_t *v = json_object_get(obj, name);
	if (!v)
		return 0;
	if (!json_is_integer(v)) {
		*why = xasprintf("field '%s' must be an integer", name);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

/* A string field (NULL when absent or null, if nullable). */
static int profiles_string(json_t *obj, const char *name, bool nullable, char **out, char **why)
{
	json_t *v = json_object_get(obj, name);
	if (!v || (nullable && json_is_null(v)))
		return 0;
	if (!profiles_str_ok(v, 0, 65536)) {
		*why = xasprintf("field '%s' must be a string%s", name, nullable ? " or null" : "");
		return -1;
	}
	free(*out);
	*out = xstrdup(json_string_value(v));
	return 0;
}

int profiles_from_json(json_t *obj, struct store *st, struct store_profile *p, char **why)
{
	if (!json_is_object(obj)) {
		*why = xstrdup("a profile is a JSON object");
		return -1;
	}
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v)
	{
		size_t k;
		for (k = 0; k < sizeof profiles_fields / sizeof profiles_fields[0]; k++)
			if (strcmp(key, profiles_fields[k]) == 0)
				break;
		if (k == sizeof profiles_fields / sizeof profiles_fields[0]) {
			*why = xasprintf("unknown field '%.64s'", key);
			return -1;
		}
	}
	int64_t cpus = 1, mem_mb = 2048, gpus = 0, lifetime = PROFILES_DEFAULT_LIFETIME_S,
		max_lifetime = -1, idle = PROFILES_DEFAULT_IDLE_S, position = PROFILES_DEFAULT_POSITION;
	json_t *res = json_object_get(obj, "resources");
	if (res && !json_is_object(res)) {
		*why = xstrdup("field 'resources' must be an object {cpus, mem_mb, gpus}");
		return -1;
	}
	json_object_foreach(res, key, v) if (strcmp(key, "cpus") && strcmp(key, "mem_mb") &&
					     strcmp(key, "gpus"))
	{
		*why = xasprintf("unknown field 'resources.%.64s'", key);
		return -1;
	}
	if (profiles_string(obj, "name", false, &p->name, why) < 0 ||
	    profiles_string(obj, "title", false, &p->title, why) < 0 ||
	    profiles_string(obj, "description", false, &p->description, why) < 0 ||
	    profiles_string(obj, "kind", false, &p->kind, why) < 0 ||
	    profiles_string(obj, "requires", true, &p->requires, why) < 0 ||
	    profiles_int(res, "cpus", &cpus, why) < 0 || profiles_int(res, "mem_mb", &mem_mb, why) < 0 ||
	    profiles_int(res, "gpus", &gpus, why) < 0 ||
	    profiles_int(obj, "lifetime_s", &lifetime, why) < 0 ||
	    profiles_int(obj, "max_lifetime_s", &max_lifetime, why) < 0 ||
	    profiles_int(obj, "idle_timeout_s", &idle, why) < 0 ||
	    profiles_int(obj, "position", &position, why) < 0)
		return -1;
	if (!p->title && p->name)
		p->title = xstrdup(p->name);
	if (!p->description)
		p->description = xstrdup("");
	json_t *cmd = json_object_get(obj, "command"), *env = json_object_get(obj, "env"),
	       *groups = json_object_get(obj, "groups");
	if (!cmd) {
		*why = xstrdup("field 'command' is required");
		return -1;
	}
	if (!p->kind) {
		*why = xstrdup("field 'kind' is required");
		return -1;
	}
	free(p->command);
	p->command = json_dumps(cmd, JSON_COMPACT | JSON_ENCODE_ANY);
	free(p->env);
	p->env = env ? json_dumps(env, JSON_COMPACT | JSON_ENCODE_ANY) : xstrdup("{}");
	free(p->groups);
	p->groups = groups ? json_dumps(groups, JSON_COMPACT | JSON_ENCODE_ANY) : xstrdup("[]");
	/* Values far out of range would be cut by the int fields below and
	 * slip past the checks: clamp them to something the checks refuse. */
	p->cpus = cpus < 0 || cpus > INT_MAX ? -1 : (int)cpus;
	p->gpus = gpus < 0 || gpus > INT_MAX ? -1 : (int)gpus;
	p->mem_mb = mem_mb;
	p->lifetime_s = lifetime;
	p->max_lifetime_s = max_lifetime >= 0 ? max_lifetime
			    : lifetime > PROFILES_DEFAULT_MAX_LIFETIME_S ? lifetime
									 : PROFILES_DEFAULT_MAX_LIFETIME_S;
	p->idle_timeout_s = idle;
	p->position = position < INT_MIN || position > INT_MAX ? INT_MAX : (int)position;
	return profiles_check(p, st, why);
}

/* One [profile NAME] value as JSON: integers and JSON texts parsed, the
 * rest strings. NULL with *why when it does not parse. */
static json_t *profiles_config_value(const char *key, const char *value, char **why)
{
	static const char *const ints[] = { "cpus", "mem_mb", "gpus", "lifetime_s", "max_lifetime_s",
					    "idle_timeout_s", "position" };
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		if (strcmp(key, ints[i]) != 0)
			continue;
		char *end;
		errno = 0;
		long long v = strtoll(value, &end, 10);
		if (errno || end == value || *end) {
			*why = xasprintf("%s must be an integer", key);
			return NULL;
		}
		return json_integer(v);
	}
	if (strcmp(key, "command") == 0 || strcmp(key, "env") == 0 ||
	    (strcmp(key, "groups") == 0 && value[0] == '[')) {
		json_error_t err;
		json_t *j = json_loads(value, JSON_DECODE_ANY, &err);
		if (!j)
			*why = xasprintf("%s is not valid JSON: %s", key, err.text);
		return j;
	}
	if (strcmp(key, "groups") == 0) { /* a comma-separated list */
		json_t *arr = json_array();
		for (const char *p = value; *p;) {
			p += strspn(p, " \t,");
			size_t n = strcspn(p, " \t,");
			if (n)
				json_array_append_new(arr, json_stringn(p, n));
			p += n;
		}
		return arr;
	}
	return json_string(value);
}

int profiles_from_config(const struct config_profile *cp, struct store *st,
			 struct store_profile *p, char **why)
{
	json_t *obj = json_pack("{s:s}", "name", cp->name), *res = json_object();
	char *inner = NULL;
	int rc = -1;
	for (size_t i = 0; i < cp->n; i++) {
		json_t *v = profiles_config_value(cp->keys[i], cp->values[i], &inner);
		if (!v)
			goto out;
		bool is_res = strcmp(cp->keys[i], "cpus") == 0 || strcmp(cp->keys[i], "mem_mb") == 0 ||
			      strcmp(cp->keys[i], "gpus") == 0;
		json_object_set_new(is_res ? res : obj, cp->keys[i], v);
	}
	json_object_set(obj, "resources", res);
	rc = profiles_from_json(obj, st, p, &inner);
	free(p->source);
	p->source = xstrdup("config");
out:
	if (rc < 0) {
		*why = xasprintf("[profile %s] %s", cp->name, inner);
		free(inner);
	}
	json_decref(res);
	json_decref(obj);
	return rc;
}

/* ---- availability ------------------------------------------------------------- */

bool profiles_available(const struct store_profile *p)
{
	if (!p->requires)
		return true;
	if (p->requires[0] == '/')
		return access(p->requires, X_OK) == 0;
	const char *path = JOBENV_PATH;
	for (const char *d = path; *d;) {
		size_t n = strcspn(d, ":");
		char *full = xasprintf("%.*s/%s", (int)n, d, p->requires);
		bool ok = access(full, X_OK) == 0;
		free(full);
		if (ok)
			return true;
		d += n;
		if (*d == ':')
			d++;
	}
	return false;
}

bool profiles_allowed(const struct store_profile *p, char *const *groups, size_t n)
{
	json_t *allowed = json_loads(p->groups ? p->groups : "[]", 0, NULL);
	bool ok = !json_is_array(allowed) || json_array_size(allowed) == 0;
	size_t i;
	json_t *v;
	json_array_foreach(allowed, i, v) for (size_t k = 0; k < n && !ok; k++) ok =
		json_is_string(v) && strcmp(json_string_value(v), groups[k]) == 0;
	json_decref(allowed);
	return ok;
}

/* ---- seeding ------------------------------------------------------------------ */

/* Warn about groups a config profile names that do not exist: such a
 * profile is offered to nobody of them, which is safe, and refusing to
 * start because a group was deleted through the API would not be. */
static void profiles_warn_groups(struct store *st, const struct store_profile *p)
{
	json_t *groups = json_loads(p->groups, 0, NULL);
	size_t i;
	json_t *v;
	json_array_foreach(groups, i, v)
	{
		struct store_group g = { 0 };
		if (store_group_get(st, json_string_value(v), &g) == -ENOENT)
			log_warn("profiles: [profile %s] names group '%s', which does not exist",
				 p->name, json_string_value(v));
		store_group_clear(&g);
	}
	json_decref(groups);
}

int profiles_seed(struct store *st, const struct config *cfg, char **cause)
{
	struct store_profile *have = NULL, *conf = NULL;
	size_t nhave = 0, nb;
	const struct store_profile *b = profiles_builtin(&nb);
	int rc = -1;
	/* Check every config section before writing any. */
	conf = xcalloc(cfg->nprofiles ? cfg->nprofiles : 1, sizeof *conf);
	for (size_t i = 0; i < cfg->nprofiles; i++)
		if (profiles_from_config(&cfg->profiles[i], NULL, &conf[i], cause) < 0)
			goto out;
	if (store_profiles_list(st, &have, &nhave) < 0 || store_begin(st) < 0) {
		*cause = xstrdup("cannot read the profiles from the store");
		goto out;
	}
	int src = 0;
	for (size_t i = 0; i < nb && src == 0; i++) {
		bool present = false;
		for (size_t k = 0; k < nhave; k++)
			present = present || strcmp(have[k].name, b[i].name) == 0;
		for (size_t k = 0; k < cfg->nprofiles; k++)
			present = present || strcmp(conf[k].name, b[i].name) == 0;
		struct store_profile copy = b[i];
		if (!present)
			src = store_profile_put(st, &copy);
	}
	/* A section removed from the file takes its profile with it. */
	for (size_t k = 0; k < nhave && src == 0; k++) {
		bool kept = false;
		for (size_t i = 0; i < cfg->nprofiles; i++)
			kept = kept || strcmp(conf[i].name, have[k].name) == 0;
		if (!kept && strcmp(have[k].source, "config") == 0)
			src = store_profile_delete(st, have[k].name);
	}
	for (size_t i = 0; i < cfg->nprofiles && src == 0; i++) {
		profiles_warn_groups(st, &conf[i]);
		src = store_profile_put(st, &conf[i]);
	}
	if (src < 0 || store_commit(st) < 0) {
		store_rollback(st);
		*cause = xstrdup("cannot write the profiles to the store");
		goto out;
	}
	rc = 0;
out:
	store_profiles_free(have, nhave);
	store_profiles_free(conf, cfg->nprofiles);
	return rc;
}

/* ---- JSON --------------------------------------------------------------------- */

json_t *profiles_json(const struct store_profile *p, bool details, bool available)
{
	json_t *options = json_array();
	if (profiles_uses(p) & PROFILES_USES_FOLDER)
		json_array_append_new(options, json_string("folder"));
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:{s:i,s:I,s:i},s:I,s:I,s:I,s:o}", "name", p->name,
			      "title", p->title, "description", p->description ? p->description : "",
			      "kind", p->kind, "resources", "cpus", p->cpus, "mem_mb",
			      (json_int_t)p->mem_mb, "gpus", p->gpus, "lifetime_s",
			      (json_int_t)p->lifetime_s, "max_lifetime_s", (json_int_t)p->max_lifetime_s,
			      "idle_timeout_s", (json_int_t)p->idle_timeout_s, "options", options);
	if (!details)
		return o;
	json_t *cmd = json_loads(p->command ? p->command : "[]", 0, NULL);
	json_t *env = json_loads(p->env ? p->env : "{}", 0, NULL);
	json_t *groups = json_loads(p->groups ? p->groups : "[]", 0, NULL);
	json_object_set_new(o, "command", cmd ? cmd : json_array());
	json_object_set_new(o, "env", env ? env : json_object());
	json_object_set_new(o, "requires", p->requires ? json_string(p->requires) : json_null());
	json_object_set_new(o, "groups", groups ? groups : json_array());
	json_object_set_new(o, "position", json_integer(p->position));
	json_object_set_new(o, "source", json_string(p->source ? p->source : "api"));
	json_object_set_new(o, "available", json_boolean(available));
	return o;
}
