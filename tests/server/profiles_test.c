/* Unit tests of server/profiles.c: placeholders, the checks a profile
 * passes, [profile NAME] sections, seeding at start. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness.h"
#include "config/config.h"
#include "server/profiles.h"
#include "store/db.h"
#include "store/sessions.h"

static const struct profiles_values profiles_test_values = {
	.socket = "/d/jobs/7/kaon.sock", .base_url = "/s/7/", .secret = "SECRET", .home = "/h/a",
	.workdir = "/h/a", .folder = "/h/a/runs", .kaon = "/usr/bin/kaon", .libexec = "/d/libexec",
};

static char *profiles_test_expand(const char *tmpl)
{
	char *out = NULL, *why = NULL;
	if (profiles_expand(tmpl, &profiles_test_values, &out, &why) < 0) {
		free(why);
		return NULL;
	}
	return out;
}

TEST(profiles_expand_placeholders_and_escapes)
{
	char *s = profiles_test_expand("--sock={socket} --base={base_url}x {{literal}} {home}{folder}");
	CHECK_STR(s, "--sock=/d/jobs/7/kaon.sock --base=/s/7/x {literal} /h/a/h/a/runs");
	free(s);
	s = profiles_test_expand("{kaon} {libexec}/w {workdir} {secret}");
	CHECK_STR(s, "/usr/bin/kaon /d/libexec/w /h/a SECRET");
	free(s);
	s = profiles_test_expand("");
	CHECK_STR(s, "");
	free(s);
	/* Misspelt, unclosed and lone braces are errors, never passed on. */
	const char *bad[] = { "{sockett}", "{socket", "}", "a { b }", "{}", "{SOCKET}" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(profiles_test_expand(bad[i]) == NULL);
	/* {port} only has a value when the session has a port. */
	CHECK(profiles_test_expand("{port}") != NULL); /* 0 is still a number */
	struct profiles_values v = profiles_test_values;
	v.socket = NULL;
	char *out = NULL, *why = NULL;
	CHECK_INT(profiles_expand("{socket}", &v, &out, &why), -1);
	CHECK(strstr(why, "{socket}") != NULL);
	free(why);
}

static struct store_profile profiles_test_profile(const char *command, const char *env)
{
	struct store_profile p = {
		.name = (char *)"t", .title = (char *)"T", .kind = (char *)"web",
		.command = (char *)command, .env = (char *)env, .cpus = 1, .mem_mb = 100,
		.lifetime_s = 60, .max_lifetime_s = 60, .groups = (char *)"[]",
	};
	return p;
}

TEST(profiles_launch_adds_the_session_variables)
{
	struct store_profile p = profiles_test_profile("[\"nb\",\"--sock={socket}\",\"{base_url}\"]",
						       "{\"TOKEN\":\"{secret}\"}");
	CHECK_INT(profiles_uses(&p), PROFILES_USES_SOCKET | PROFILES_USES_BASE_URL | PROFILES_USES_SECRET);
	char *cmd = NULL, *env = NULL, *why = NULL;
	CHECK_INT(profiles_launch(&p, &profiles_test_values, &cmd, &env, &why), 0);
	CHECK_STR(cmd, "[\"nb\",\"--sock=/d/jobs/7/kaon.sock\",\"/s/7/\"]");
	json_t *e = json_loads(env, 0, NULL);
	CHECK_STR(json_string_value(json_object_get(e, "TOKEN")), "SECRET");
	CHECK_STR(json_string_value(json_object_get(e, "KAON_SESSION_SECRET")), "SECRET");
	CHECK_STR(json_string_value(json_object_get(e, "KAON_BASE_URL")), "/s/7/");
	CHECK_STR(json_string_value(json_object_get(e, "KAON_SESSION_SOCKET")), "/d/jobs/7/kaon.sock");
	CHECK(json_object_get(e, "KAON_SESSION_PORT") == NULL);
	json_decref(e);
	free(cmd);
	free(env);

	/* A {port} profile: the port, and no socket. */
	p = profiles_test_profile("[\"srv\",\"--port={port}\"]", "{}");
	CHECK_INT(profiles_uses(&p), PROFILES_USES_PORT);
	struct profiles_values v = profiles_test_values;
	v.socket = NULL;
	v.port = 40123;
	CHECK_INT(profiles_launch(&p, &v, &cmd, &env, &why), 0);
	CHECK_STR(cmd, "[\"srv\",\"--port=40123\"]");
	e = json_loads(env, 0, NULL);
	CHECK_STR(json_string_value(json_object_get(e, "KAON_SESSION_PORT")), "40123");
	CHECK(json_object_get(e, "KAON_SESSION_SOCKET") == NULL);
	json_decref(e);
	free(cmd);
	free(env);
}

/* profiles_from_json on text; 0 or -1 with the message in *why. */
static int profiles_test_json(const char *text, struct store_profile *p, char **why)
{
	json_t *obj = json_loads(text, 0, NULL);
	CHECK(obj != NULL);
	memset(p, 0, sizeof *p);
	int rc = profiles_from_json(obj, NULL, p, why);
	json_decref(obj);
	return rc;
}

TEST(profiles_from_json_fills_defaults)
{
	struct store_profile p;
	char *why = NULL;
	CHECK_INT(profiles_test_json("{\"name\":\"nb-1\",\"kind\":\"jupyter\",\"command\":[\"x\",\"{socket}\"]}",
				     &p, &why),
		  0);
	CHECK_STR(p.title, "nb-1");
	CHECK_STR(p.description, "");
	CHECK_STR(p.env, "{}");
	CHECK_STR(p.groups, "[]");
	CHECK(p.requires == NULL);
	CHECK_INT(p.cpus, 1);
	CHECK_INT(p.mem_mb, 2048);
	CHECK_INT(p.gpus, 0);
	CHECK_INT(p.lifetime_s, 8 * 3600);
	CHECK_INT(p.max_lifetime_s, 24 * 3600);
	CHECK_INT(p.idle_timeout_s, 3600);
	store_profile_clear(&p);
	/* A lifetime over the default ceiling raises the ceiling with it. */
	CHECK_INT(profiles_test_json("{\"name\":\"n\",\"kind\":\"web\",\"command\":[\"x\"],"
				     "\"lifetime_s\":172800,\"requires\":null}",
				     &p, &why),
		  0);
	CHECK_INT(p.max_lifetime_s, 172800);
	store_profile_clear(&p);
}

TEST(profiles_from_json_refuses_what_would_break_a_launch)
{
	static const struct {
		const char *json, *names;
	} bad[] = {
		{ "{\"name\":\"A\",\"kind\":\"web\",\"command\":[\"x\"]}", "name" },
		{ "{\"name\":\"a-very-long-name-over-thirty-two-chars\",\"kind\":\"web\",\"command\":[\"x\"]}", "name" },
		{ "{\"name\":\"a\",\"kind\":\"web\"}", "command" },
		{ "{\"name\":\"a\",\"command\":[\"x\"]}", "kind" },
		{ "{\"name\":\"a\",\"kind\":\"web\",\"command\":[]}", "command" },
		{ "{\"name\":\"a\",\"kind\":\"web\",\"command\":[\"\"]}", "command" },
		{ "{\"name\":\"a\",\"kind\":\"web\",\"command\":{\"x\":1}}", "command" },
		{ "{\"name\":\"a\",\"kind\":\"web\",\"command\":[\"x\",\"{nope}\"]}", "{nope}" },
		{ "{\"name\":\"a\",\"kind\":\"web\",\"command\":[\"x\"],\"env\":{\"1X\":\"v\"}}", "1X" },
		{ "{\"name\":\"a\",\"kind\":\"web\",\"command\":[\"x\"],\"env\":{\"X\":1}}", "X" },
		{ "{\"name\":\"a\",\"kind\":\"web\",\"command\":[\"x\"],\"env\":{\"CUDA_VISIBLE_DEVICES\":\"0\"}}", "CUDA_VISIBLE_DEVICES" },
		{ "{\"name\":\"a\",\"kind\":\"web\",\"command\":[\"x\"],\"env\":{\"KAON_BASE_URL\":\"/\"}}", "KAON_BASE_URL" },
		{ "{\"name\":\"a\",\"kind\":\"web\",\"command\":[\"x\"],\"env\":{\"X\":\"{secret\"}}", "X" },
		{ "{\"name\":\"a\",\"kind\":\"web\",\"command\":[\"x\"],\"requires\":\"a b\"}", "requires" },
		{ "{\"name\":\"a\",\"kind\":\"web\",\"command\":[\"x\"],\"requires\":\"bin/x\"}", "requires" },
		{ "{\"name\":\"a\",\"kind\":\"web\",\"command\":[\"x\"],\"resources\":{\"gpus\":65}}", "resources" },
		{ "{\"name\":\"a\",\"kind\":\"web\",\"command\":[\"x\"],\"resources\":{\"cpus\":4294967297}}", "resources" },
		{ "{\"name\":\"a\",\"kind\":\"web\",\"command\":[\"x\"],\"resources\":{\"disk\":1}}", "resources.disk" },
		{ "{\"name\":\"a\",\"kind\":\"web\",\"command\":[\"x\"],\"lifetime_s\":59}", "lifetime_s" },
		{ "{\"name\":\"a\",\"kind\":\"web\",\"command\":[\"x\"],\"lifetime_s\":600,\"max_lifetime_s\":599}", "max_lifetime_s" },
		{ "{\"name\":\"a\",\"kind\":\"web\",\"command\":[\"x\"],\"idle_timeout_s\":-1}", "idle_timeout_s" },
		{ "{\"name\":\"a\",\"kind\":\"web\",\"command\":[\"x\"],\"groups\":\"students\"}", "groups" },
		{ "{\"name\":\"a\",\"kind\":\"web\",\"command\":[\"x\"],\"groups\":[\"\"]}", "groups" },
		{ "{\"name\":\"a\",\"kind\":\"web\",\"command\":[\"x\"],\"title\":7}", "title" },
		{ "{\"name\":\"a\",\"kind\":\"web\",\"command\":[\"x\"],\"extra\":7}", "extra" },
		{ "{\"name\":\"a\",\"kind\":\"web\",\"command\":[\"x\",\"{socket}{port}\"]}", "not both" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct store_profile p;
		char *why = NULL;
		if (profiles_test_json(bad[i].json, &p, &why) != -1)
			harness_fail(__FILE__, __LINE__, "accepted: %s", bad[i].json);
		if (!why || !strstr(why, bad[i].names))
			harness_fail(__FILE__, __LINE__, "for %s: '%s' does not name %s", bad[i].json,
				     why ? why : "(null)", bad[i].names);
		free(why);
		store_profile_clear(&p);
	}
}

TEST(profiles_builtins_pass_their_own_checks)
{
	size_t n;
	const struct store_profile *b = profiles_builtin(&n);
	CHECK_INT(n, 4);
	for (size_t i = 0; i < n; i++) {
		char *why = NULL;
		if (profiles_check(&b[i], NULL, &why) < 0)
			harness_fail(__FILE__, __LINE__, "%s: %s", b[i].name, why);
	}
	CHECK_STR(b[0].name, "jupyter-cpu");
	CHECK_INT(b[1].gpus, 1);
	/* The secret reaches Jupyter through the environment, never argv. */
	CHECK(strstr(b[0].command, "{secret}") == NULL);
	CHECK(strstr(b[0].env, "{secret}") != NULL);
	CHECK(profiles_uses(&b[2]) & PROFILES_USES_FOLDER);
}

TEST(profiles_allowed_by_group)
{
	struct store_profile p = profiles_test_profile("[\"x\"]", "{}");
	char *groups[] = { (char *)"students", (char *)"guests" };
	CHECK(profiles_allowed(&p, groups, 2));
	CHECK(profiles_allowed(&p, NULL, 0));
	p.groups = (char *)"[\"researchers\",\"guests\"]";
	CHECK(profiles_allowed(&p, groups, 2));
	CHECK(!profiles_allowed(&p, groups, 1));
	CHECK(!profiles_allowed(&p, NULL, 0));
}

TEST(profiles_available_looks_in_the_jobs_path)
{
	struct store_profile p = profiles_test_profile("[\"x\"]", "{}");
	CHECK(profiles_available(&p));
	p.requires = (char *)"sh";
	CHECK(profiles_available(&p));
	p.requires = (char *)"/bin/sh";
	CHECK(profiles_available(&p));
	p.requires = (char *)"kaon-no-such-program-here";
	CHECK(!profiles_available(&p));
	p.requires = (char *)"/nonexistent/sh";
	CHECK(!profiles_available(&p));
}

static struct store *profiles_test_store(void)
{
	char *path = NULL, *cause = NULL;
	struct store *st = NULL;
	CHECK(asprintf(&path, "%s/kaon.db", harness_tmpdir()) > 0);
	if (store_open(path, &st, &cause) < 0)
		harness_fail(__FILE__, __LINE__, "store_open: %s", cause);
	free(path);
	return st;
}

TEST(profiles_seed_builtins_and_config_sections)
{
	struct store *st = profiles_test_store();
	struct config c;
	config_defaults(&c);
	char *cause = NULL;
	CHECK_INT(config_set(&c, "profile big", "kind", "jupyter", &cause), 0);
	CHECK_INT(config_set(&c, "profile big", "command", "[\"jupyter-notebook\", \"{socket}\"]", &cause), 0);
	CHECK_INT(config_set(&c, "profile big", "cpus", "16", &cause), 0);
	CHECK_INT(config_set(&c, "profile big", "groups", "researchers, students", &cause), 0);
	CHECK_INT(config_set(&c, "profile big", "nope", "1", &cause), -1);
	CHECK(strstr(cause, "[profile big] nope") != NULL);
	free(cause);
	cause = NULL;
	CHECK_INT(profiles_seed(st, &c, &cause), 0);

	struct store_profile got = { 0 };
	CHECK_INT(store_profile_get(st, "big", &got), 0);
	CHECK_STR(got.source, "config");
	CHECK_INT(got.cpus, 16);
	CHECK_STR(got.groups, "[\"researchers\",\"students\"]");
	store_profile_clear(&got);
	CHECK_INT(store_profile_get(st, "jupyter-cpu", &got), 0);
	CHECK_STR(got.source, "builtin");
	/* An admin's edit of a built-in survives the next start. */
	got.cpus = 7;
	CHECK_INT(store_profile_put(st, &got), 0);
	store_profile_clear(&got);

	/* Next start: the section is gone, and so is its profile. */
	config_clear(&c);
	config_defaults(&c);
	CHECK_INT(profiles_seed(st, &c, &cause), 0);
	CHECK_INT(store_profile_get(st, "big", &got), -ENOENT);
	CHECK_INT(store_profile_get(st, "jupyter-cpu", &got), 0);
	CHECK_INT(got.cpus, 7);
	store_profile_clear(&got);

	/* A bad section stops the start, naming itself. */
	CHECK_INT(config_set(&c, "profile bad", "kind", "web", &cause), 0);
	CHECK_INT(config_set(&c, "profile bad", "command", "[\"x\", \"{oops}\"]", &cause), 0);
	CHECK_INT(profiles_seed(st, &c, &cause), -1);
	CHECK(strstr(cause, "[profile bad]") != NULL && strstr(cause, "{oops}") != NULL);
	free(cause);
	cause = NULL;
	config_clear(&c);
	config_defaults(&c);
	CHECK_INT(config_set(&c, "profile bad", "kind", "web", &cause), 0);
	CHECK_INT(config_set(&c, "profile bad", "command", "[\"x\"", &cause), 0);
	CHECK_INT(profiles_seed(st, &c, &cause), -1);
	CHECK(strstr(cause, "not valid JSON") != NULL);
	free(cause);
	config_clear(&c);
	store_close(st);
}
