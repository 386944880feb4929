/* tests/server/modelproto_test.c — the pool's decisions and the worker line protocol. */
#include <errno.h>

#include "../harness.h"
#include "server/modelproto.h"

TEST(modelproto_limits_defaults_and_manifest)
{
	struct modelproto_limits l;
	char *why = NULL;
	CHECK_INT(modelproto_limits("{\"name\":\"x\"}", &l, &why), 0);
	CHECK_INT(l.min, 0);
	CHECK_INT(l.max, 2);
	CHECK_INT(l.idle_s, 300);
	CHECK_INT(l.cpus, 1);
	CHECK_INT(l.mem_mb, 1024);
	CHECK_INT(l.gpus, 0);
	CHECK_INT(
	    modelproto_limits("{\"workers\":{\"min\":1,\"max\":4,\"idle_s\":5},"
			      "\"resources\":{\"predict\":{\"cpus\":2,\"mem_mb\":64,\"gpus\":1},"
			      "\"train\":{\"cpus\":8}}}",
			      &l, &why),
	    0);
	CHECK_INT(l.min, 1);
	CHECK_INT(l.max, 4);
	CHECK_INT(l.idle_s, 5);
	CHECK_INT(l.cpus, 2);
	CHECK_INT(l.mem_mb, 64);
	CHECK_INT(l.gpus, 1);
}

TEST(modelproto_limits_refuse_bad_values_naming_the_field)
{
	struct modelproto_limits l;
	static const struct {
		const char *manifest, *field;
	} bad[] = {
	    {"{\"workers\":{\"max\":0}}", "workers.max"},
	    {"{\"workers\":{\"min\":3,\"max\":2}}", "workers.min"},
	    {"{\"workers\":{\"idle_s\":\"5\"}}", "workers.idle_s"},
	    {"{\"workers\":[]}", "workers"},
	    {"{\"resources\":{\"predict\":{\"gpus\":-1}}}", "resources.predict.gpus"},
	    {"[]", "manifest"},
	    {"not json", "manifest"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *why = NULL;
		CHECK_INT(modelproto_limits(bad[i].manifest, &l, &why), -EINVAL);
		CHECK(why && strstr(why, bad[i].field));
		free(why);
	}
}

static enum modelproto_action decide(int idle, int starting, int busy, int waiting, bool queued,
				     bool first, bool backoff, int max)
{
	struct modelproto_counts c = {.idle = idle,
				      .starting = starting,
				      .busy = busy,
				      .waiting = waiting,
				      .queued = queued,
				      .first = first,
				      .backoff = backoff,
				      .max = max};
	return modelproto_decide(&c);
}

TEST(modelproto_decide_takes_grows_waits_and_refuses)
{
	/* An idle worker: the first in line takes it; others wait behind. */
	CHECK_INT(decide(1, 0, 0, 0, false, true, false, 2), MODELPROTO_TAKE);
	CHECK_INT(decide(1, 0, 1, 2, true, false, false, 2), MODELPROTO_WAIT);
	/* ... and grow when the idle one will not be enough. */
	CHECK_INT(decide(1, 0, 0, 2, true, false, false, 2), MODELPROTO_GROW);
	CHECK_INT(decide(1, 0, 0, 1, true, false, false, 2), MODELPROTO_WAIT);
	/* None: cold start, one per waiting request, up to max. */
	CHECK_INT(decide(0, 0, 0, 0, false, true, false, 2), MODELPROTO_GROW);
	CHECK_INT(decide(0, 1, 0, 1, true, true, false, 2), MODELPROTO_WAIT);
	CHECK_INT(decide(0, 1, 0, 1, false, false, false, 2), MODELPROTO_GROW);
	CHECK_INT(decide(0, 0, 2, 0, false, true, false, 2), MODELPROTO_WAIT);
	CHECK_INT(decide(0, 1, 1, 3, false, false, false, 2), MODELPROTO_WAIT);
	/* The queue holds max x 4. */
	CHECK_INT(decide(0, 0, 2, 7, false, false, false, 2), MODELPROTO_WAIT);
	CHECK_INT(decide(0, 0, 2, 8, false, false, false, 2), MODELPROTO_FULL);
	CHECK_INT(decide(0, 0, 2, 8, true, false, false, 2), MODELPROTO_WAIT);
	CHECK_INT(modelproto_queue_max(3), 12);
	/* A start failed a moment ago: no new start; with no worker, 503. */
	CHECK_INT(decide(0, 0, 0, 0, false, true, true, 2), MODELPROTO_UNAVAILABLE);
	CHECK_INT(decide(0, 0, 1, 0, false, true, true, 2), MODELPROTO_WAIT);
}

TEST(modelproto_retry_after_follows_the_queue)
{
	CHECK_INT(modelproto_retry_after(8, 2, 0), 1);
	CHECK_INT(modelproto_retry_after(8, 2, 1000), 5);
	CHECK_INT(modelproto_retry_after(0, 2, 10), 1);
	CHECK_INT(modelproto_retry_after(1000000, 1, 100000), 3600);
}

TEST(modelproto_request_line_is_one_line)
{
	json_t *args = json_pack("{s:s,s:f}", "text", "a\nb", "x", 0.1);
	size_t len;
	char *line = modelproto_request_line(args, NULL, "image/png", &len);
	CHECK_INT(len, strlen(line));
	CHECK(line[len - 1] == '\n');
	CHECK(memchr(line, '\n', len - 1) == NULL);
	json_t *o = json_loadb(line, len, 0, NULL);
	CHECK_STR(json_string_value(json_object_get(o, "op")), "predict");
	CHECK_STR(json_string_value(json_object_get(json_object_get(o, "args"), "text")), "a\nb");
	CHECK(json_real_value(json_object_get(json_object_get(o, "args"), "x")) == 0.1);
	CHECK(json_is_object(json_object_get(o, "files")));
	CHECK_STR(json_string_value(json_object_get(o, "accept")), "image/png");
	json_decref(o);
	free(line);
	line = modelproto_request_line(NULL, NULL, NULL, &len);
	CHECK_STR(line, "{\"op\":\"predict\",\"args\":{},\"files\":{},\"accept\":null}\n");
	free(line);
	json_decref(args);
}

TEST(modelproto_answers_json_file_and_message)
{
	struct modelproto_answer a;
	char *why = NULL;
	const char *j = "{\"status\":200,\"json\":{\"status\":\"OK\",\"predictions\":[0.25,1e-7]}}";
	CHECK_INT(modelproto_answer_parse(j, strlen(j), &a, &why), 0);
	CHECK_INT(a.status, 200);
	CHECK_STR(a.content_type, "application/json");
	CHECK(strstr(a.body, "\"predictions\":[0.25,") != NULL);
	json_t *o = json_loads(a.body, 0, NULL);
	CHECK(json_real_value(json_array_get(json_object_get(o, "predictions"), 1)) == 1e-7);
	json_decref(o);
	CHECK(a.path == NULL);
	modelproto_answer_clear(&a);

	const char *v = "{\"status\":422,\"content_type\":\"application/"
			"json\",\"json\":{\"n\":[\"Not a valid integer.\"]}}";
	CHECK_INT(modelproto_answer_parse(v, strlen(v), &a, &why), 0);
	CHECK_INT(a.status, 422);
	CHECK_STR(a.body, "{\"n\":[\"Not a valid integer.\"]}");
	modelproto_answer_clear(&a);

	const char *f =
	    "{\"status\":200,\"content_type\":\"image/png\",\"path\":\"/tmp/w/out.png\"}";
	CHECK_INT(modelproto_answer_parse(f, strlen(f), &a, &why), 0);
	CHECK_STR(a.path, "/tmp/w/out.png");
	CHECK_STR(a.content_type, "image/png");
	CHECK(a.body == NULL);
	modelproto_answer_clear(&a);

	const char *m = "{\"status\":415,\"message\":\"cannot answer text/csv\"}";
	CHECK_INT(modelproto_answer_parse(m, strlen(m), &a, &why), 0);
	CHECK_INT(a.status, 415);
	CHECK_STR(a.body, "{\"error\":{\"code\":\"unsupported_media_type\",\"message\":\"cannot "
			  "answer text/csv\"}}");
	modelproto_answer_clear(&a);
}

TEST(modelproto_answers_refused)
{
	static const char *const bad[] = {
	    "",
	    "null",
	    "[1]",
	    "{\"json\":1}",
	    "{\"status\":99,\"json\":1}",
	    "{\"status\":\"200\",\"json\":1}",
	    "{\"status\":200}",
	    "{\"status\":200,\"path\":\"relative/x\"}",
	    "{\"status\":200,\"path\":5}",
	    "{\"status\":200,\"content_type\":\"a\\r\\nX-Evil: 1\",\"json\":1}",
	    "{\"status\":200,\"content_type\":\"\",\"json\":1}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct modelproto_answer a;
		char *why = NULL;
		if (modelproto_answer_parse(bad[i], strlen(bad[i]), &a, &why) != -EPROTO)
			harness_fail(__FILE__, __LINE__, "accepted %s", bad[i]);
		CHECK(why != NULL);
		CHECK(a.body == NULL && a.path == NULL && a.content_type == NULL);
		free(why);
	}
}

TEST(modelproto_error_body_codes)
{
	size_t len;
	char *s = modelproto_error_body(429, "busy \"now\"", &len);
	CHECK_STR(s,
		  "{\"error\":{\"code\":\"too_many_requests\",\"message\":\"busy \\\"now\\\"\"}}");
	CHECK_INT(len, strlen(s));
	free(s);
	s = modelproto_error_body(504, "late", &len);
	CHECK(strstr(s, "\"timeout\""));
	free(s);
	s = modelproto_error_body(502, "\xff", &len);
	CHECK(strstr(s, "worker_failed"));
	free(s);
}
