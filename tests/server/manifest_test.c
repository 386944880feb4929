/* Tests of server/manifest: kaon-model.json checked field by field. */
#include <stdlib.h>
#include <string.h>

#include "../harness.h"
#include "server/manifest.h"

static void manifest_test_refused(int line, const char *text, const char *word)
{
	struct manifest m;
	char *cause = NULL;
	if (manifest_parse(text, &m, &cause) == 0)
		harness_fail(__FILE__, line, "accepted: %s", text);
	if (!strstr(cause, word))
		harness_fail(__FILE__, line, "message '%s' does not name '%s'", cause, word);
	free(cause);
}
#define REFUSED(text, word) manifest_test_refused(__LINE__, text, word)

TEST(manifest_defaults_are_filled)
{
	struct manifest m;
	char *cause = NULL;
	CHECK_INT(manifest_parse("{\"name\":\"digits\",\"version\":\"1.0.0\",\"title\":\"Digits\","
				 "\"keywords\":[\"vision\"],\"runtime\":{\"type\":\"python\","
				 "\"module\":\"digits_model.api\"}}",
				 &m, &cause),
		  0);
	CHECK_STR(m.name, "digits");
	CHECK_STR(m.runtime, "python");
	CHECK_INT(m.predict.cpus, 1);
	CHECK_INT(m.predict.mem_mb, 1024);
	CHECK_INT(m.train.mem_mb, 2048);
	CHECK_INT(m.train.walltime_s, 3600);
	CHECK_INT(m.workers_min, 0);
	CHECK_INT(m.workers_max, 2);
	CHECK_INT(m.workers_idle_s, 300);
	CHECK(!m.public_predict);
	/* The stored manifest carries the defaults. */
	CHECK_INT(json_integer_value(json_object_get(
			  json_object_get(json_object_get(m.json, "resources"), "train"), "walltime_s")),
		  3600);
	manifest_clear(&m);
	CHECK_INT(manifest_parse("{\"name\":\"x\",\"version\":\"2\",\"title\":\"X\",\"public\":true,"
				 "\"runtime\":{\"type\":\"exec\",\"command\":[\"bin/serve\",\"-q\"],"
				 "\"predict_args\":[{\"name\":\"a\",\"in\":\"query\"}]},"
				 "\"resources\":{\"predict\":{\"gpus\":1}},\"workers\":{\"min\":1,\"max\":4}}",
				 &m, &cause),
		  0);
	CHECK_INT(m.predict.gpus, 1);
	CHECK_INT(m.workers_max, 4);
	CHECK(m.public_predict);
	manifest_clear(&m);
}

TEST(manifest_refusals_name_the_field)
{
	REFUSED("[1]", "object");
	REFUSED("{", "not valid JSON");
	REFUSED("{\"version\":\"1\",\"title\":\"T\",\"runtime\":{\"type\":\"python\",\"module\":\"m\"}}",
		"'name'");
	REFUSED("{\"name\":\"Digits!\",\"version\":\"1\",\"title\":\"T\",\"runtime\":{\"type\":\"python\",\"module\":\"m\"}}",
		"'name'");
	REFUSED("{\"name\":\"..\",\"version\":\"1\",\"title\":\"T\",\"runtime\":{\"type\":\"python\",\"module\":\"m\"}}",
		"'name'");
	REFUSED("{\"name\":\"d\",\"version\":\"-1\",\"title\":\"T\",\"runtime\":{\"type\":\"python\",\"module\":\"m\"}}",
		"'version'");
	REFUSED("{\"name\":\"d\",\"version\":\"1\",\"runtime\":{\"type\":\"python\",\"module\":\"m\"}}",
		"'title'");
	REFUSED("{\"name\":\"d\",\"version\":\"1\",\"title\":\"T\"}", "'runtime'");
	REFUSED("{\"name\":\"d\",\"version\":\"1\",\"title\":\"T\",\"runtime\":{\"type\":\"python\",\"module\":\"os; rm\"}}",
		"'runtime.module'");
	REFUSED("{\"name\":\"d\",\"version\":\"1\",\"title\":\"T\",\"runtime\":{\"type\":\"exec\",\"command\":[\"/bin/sh\"]}}",
		"'runtime.command'");
	REFUSED("{\"name\":\"d\",\"version\":\"1\",\"title\":\"T\",\"runtime\":{\"type\":\"exec\",\"command\":[\"../x\"]}}",
		"'runtime.command'");
	REFUSED("{\"name\":\"d\",\"version\":\"1\",\"title\":\"T\",\"thumbnail\":\"../../etc/passwd\","
		"\"runtime\":{\"type\":\"python\",\"module\":\"m\"}}",
		"'thumbnail'");
	REFUSED("{\"name\":\"d\",\"version\":\"1\",\"title\":\"T\",\"keywords\":\"vision\","
		"\"runtime\":{\"type\":\"python\",\"module\":\"m\"}}",
		"'keywords'");
	REFUSED("{\"name\":\"d\",\"version\":\"1\",\"title\":\"T\",\"runtime\":{\"type\":\"python\",\"module\":\"m\"},"
		"\"resources\":{\"predict\":{\"gpus\":65}}}",
		"'resources.predict.gpus'");
	REFUSED("{\"name\":\"d\",\"version\":\"1\",\"title\":\"T\",\"runtime\":{\"type\":\"python\",\"module\":\"m\"},"
		"\"workers\":{\"min\":3,\"max\":2}}",
		"'workers.min'");
	REFUSED("{\"name\":\"d\",\"version\":\"1\",\"title\":\"T\",\"runtime\":{\"type\":\"python\",\"module\":\"m\"},"
		"\"public\":\"yes\"}",
		"'public'");
	REFUSED("{\"name\":\"d\",\"name\":\"e\",\"version\":\"1\"}", "not valid JSON");
}
