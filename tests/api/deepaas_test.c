/* Unit tests of the pure parts of the DEEPaaS surface (api/deepaas.h):
 * Accept negotiation, query strings, argument checks with marshmallow's
 * messages, metadata, swagger.json from describe JSON, training records,
 * and the slash redirects of the route table. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../harness.h"
#include "api/deepaas.h"
#include "server/routes.h"
#include "store/models.h"

static json_t *deepaas_test_json(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);
	if (!j)
		harness_fail(__FILE__, __LINE__, "bad JSON in test: %s", err.text);
	return j;
}

static void deepaas_test_eq(json_t *got, const char *want, const char *file, int line)
{
	json_t *w = deepaas_test_json(want);
	if (!json_equal(got, w)) {
		char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
		harness_fail(file, line, "got %s, want %s", g ? g : "NULL", want);
		free(g);
	}
	json_decref(w);
}
#define CHECK_JSON(got, want) deepaas_test_eq(got, want, __FILE__, __LINE__)

TEST(deepaas_accept_prefers_json_only_when_it_ranks_higher)
{
	CHECK(deepaas_accept_prefers_json("application/json"));
	CHECK(deepaas_accept_prefers_json("application/*"));
	CHECK(deepaas_accept_prefers_json("text/html;q=0.5, application/json"));
	CHECK(deepaas_accept_prefers_json("application/json, text/*;q=0.9"));
	CHECK(!deepaas_accept_prefers_json(NULL));
	CHECK(!deepaas_accept_prefers_json("*/*"));
	CHECK(!deepaas_accept_prefers_json("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
	CHECK(!deepaas_accept_prefers_json("application/json, text/html"));
	CHECK(!deepaas_accept_prefers_json("application/json;q=0, */*"));
	CHECK(!deepaas_accept_prefers_json("image/png"));
}

TEST(deepaas_query_args_decode_and_repeat)
{
	json_t *args = json_object();
	json_object_set_new(args, "early", json_string("kept"));
	deepaas_query_args("a=1&b=x+y%21&a=2&&c&early=late&%zz=%4", args);
	CHECK_JSON(args, "{\"a\":[\"1\",\"2\"],\"b\":\"x y!\",\"c\":\"\",\"early\":\"kept\","
			 "\"%zz\":\"%4\"}");
	json_decref(args);
}

TEST(deepaas_args_check_converts_fills_and_reports_like_webargs)
{
	json_t *params = deepaas_test_json(
		"[{\"name\":\"n\",\"in\":\"query\",\"required\":true,\"type\":\"integer\","
		"\"minimum\":1,\"maximum\":10},"
		"{\"name\":\"x\",\"in\":\"query\",\"type\":\"number\",\"default\":0.5},"
		"{\"name\":\"b\",\"in\":\"query\",\"type\":\"boolean\"},"
		"{\"name\":\"s\",\"in\":\"formData\",\"type\":\"string\",\"enum\":[\"a\",\"b\"]},"
		"{\"name\":\"l\",\"in\":\"query\",\"type\":\"array\",\"items\":{\"type\":\"integer\"}},"
		"{\"name\":\"t\",\"in\":\"query\",\"type\":\"string\",\"minLength\":2,\"maxLength\":3},"
		"{\"name\":\"Accept\",\"in\":\"header\",\"type\":\"string\"},"
		"{\"name\":\"raw\",\"in\":\"query\"}]");
	json_t *headers = deepaas_test_json("{\"accept\":\"image/png\"}");
	json_t *raw = deepaas_test_json("{\"n\":\"3\",\"b\":\"True\",\"s\":[\"a\",\"b\"],"
					"\"l\":[\"1\",\"2\"],\"t\":\"héé\",\"raw\":{\"k\":1},"
					"\"unknown\":\"dropped\"}");
	json_t *errors = NULL;
	json_t *out = deepaas_args_check(params, raw, headers, &errors);
	CHECK(out != NULL && errors == NULL);
	CHECK_JSON(out, "{\"n\":3,\"x\":0.5,\"b\":true,\"s\":\"a\",\"l\":[1,2],\"t\":\"héé\","
			"\"Accept\":\"image/png\",\"raw\":{\"k\":1}}");
	json_decref(out);
	json_decref(raw);

	raw = deepaas_test_json("{\"n\":\"0\",\"x\":\"nan-ish\",\"b\":\"maybe\",\"s\":\"c\","
				"\"l\":[\"1\",\"x\"],\"t\":\"a\"}");
	out = deepaas_args_check(params, raw, json_object(), &errors);
	CHECK(out == NULL);
	CHECK_JSON(errors, "{\"n\":[\"Must be greater than or equal to 1 and less than or equal to 10.\"],"
			   "\"x\":[\"Not a valid number.\"],\"b\":[\"Not a valid boolean.\"],"
			   "\"s\":[\"Must be one of: a, b.\"],\"l\":[\"Not a valid integer.\"],"
			   "\"t\":[\"Length must be between 2 and 3.\"]}");
	json_decref(errors);
	json_decref(raw);

	raw = json_object();
	out = deepaas_args_check(params, raw, NULL, &errors);
	CHECK(out == NULL);
	CHECK_JSON(errors, "{\"n\":[\"Missing data for required field.\"]}");
	json_decref(errors);
	json_decref(raw);
	json_decref(headers);
	json_decref(params);
}

TEST(deepaas_metadata_overlays_describe)
{
	json_t *m = deepaas_metadata("digits", "{\"metadata\":{\"name\":\"Digits\",\"license\":\"MIT\"}}");
	CHECK_JSON(m, "{\"id\":\"digits\",\"name\":\"Digits\",\"license\":\"MIT\","
		      "\"links\":[{\"rel\":\"self\",\"href\":\"/v2/models/digits\"}]}");
	json_decref(m);
	m = deepaas_metadata("x", "not json");
	CHECK_STR(json_string_value(json_object_get(m, "description")),
		  "Could not load description from underlying model (loaded 'x')");
	json_decref(m);
}

TEST(deepaas_swagger_from_describe)
{
	struct store_model ms[2] = {
		{ .name = (char *)"a",
		  .describe = (char *)"{\"predict_args\":[{\"name\":\"data\",\"in\":\"formData\","
				      "\"type\":\"file\",\"required\":true}],\"train_args\":[],"
				      "\"accept\":[\"image/png\",\"*/*\"],"
				      "\"response_schema\":{\"type\":\"object\"}}" },
		{ .name = (char *)"b", .describe = (char *)"{}" },
	};
	json_t *doc = deepaas_swagger_doc(ms, 2, "1.2.3");
	CHECK_STR(json_string_value(json_object_get(doc, "swagger")), "2.0");
	CHECK_STR(json_string_value(json_object_get(json_object_get(doc, "info"), "version")), "1.2.3");
	json_t *paths = json_object_get(doc, "paths");
	json_t *pa = json_object_get(json_object_get(paths, "/v2/models/a/predict/"), "post");
	CHECK_JSON(json_object_get(pa, "parameters"),
		   "[{\"name\":\"data\",\"in\":\"formData\",\"type\":\"file\",\"required\":true}]");
	CHECK_JSON(json_object_get(pa, "produces"), "[\"image/png\",\"*/*\"]");
	CHECK_STR(json_string_value(json_object_get(
			  json_object_get(json_object_get(json_object_get(pa, "responses"), "200"),
					  "schema"),
			  "$ref")),
		  "#/definitions/ModelPredictionResponse");
	json_t *pb = json_object_get(json_object_get(paths, "/v2/models/b/predict/"), "post");
	CHECK_JSON(json_object_get(pb, "produces"), "[\"application/json\"]");
	CHECK_JSON(json_object_get(pb, "parameters"), "[]");
	CHECK(json_object_get(json_object_get(paths, "/v2/models/b/train/{uuid}"), "delete") != NULL);
	json_t *defs = json_object_get(doc, "definitions");
	static const char *const names[] = { "ModelMeta", "Training", "TrainingList", "Prediction",
					     "Failure", "ModelPredictionResponse" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		CHECK(json_object_get(defs, names[i]) != NULL);
	char *html = deepaas_api_html(doc);
	CHECK(strstr(html, "/v2/models/a/predict/") != NULL);
	CHECK(strstr(html, "<script") == NULL);
	free(html);
	json_decref(doc);
}

TEST(deepaas_dates_and_durations_as_python_prints_them)
{
	char buf[64];
	setenv("TZ", "UTC", 1);
	tzset();
	deepaas_format_date(0.25, buf, sizeof buf);
	CHECK_STR(buf, "1970-01-01 00:00:00.250000");
	deepaas_format_duration(3723.000005, buf, sizeof buf);
	CHECK_STR(buf, "1:02:03.000005");
	deepaas_format_duration(86400 * 2 + 5, buf, sizeof buf);
	CHECK_STR(buf, "2 days, 0:00:05.000000");
	deepaas_format_duration(86400, buf, sizeof buf);
	CHECK_STR(buf, "1 day, 0:00:00.000000");
}

TEST(deepaas_training_record_status_from_job_and_result)
{
	setenv("TZ", "UTC", 1);
	tzset();
	struct deepaas_training_view v = { .uuid = "0123456789abcdef0123456789abcdef",
					   .created_at = 100, .args = "{\"epochs\":1}",
					   .job_state = "running", .job_end_time = -1,
					   .exit_code = -1, .result_time = -1 };
	json_t *r = deepaas_training_record(&v);
	CHECK_JSON(r, "{\"uuid\":\"0123456789abcdef0123456789abcdef\","
		      "\"date\":\"1970-01-01 00:01:40.000000\",\"args\":{\"epochs\":1},"
		      "\"status\":\"running\"}");
	json_decref(r);

	v.job_state = "completed";
	v.result = deepaas_test_json("{\"status\":\"done\",\"output\":{\"acc\":0.9}}");
	v.result_time = 161.5;
	r = deepaas_training_record(&v);
	CHECK_STR(json_string_value(json_object_get(r, "status")), "done");
	CHECK_JSON(json_object_get(r, "result"),
		   "{\"output\":{\"acc\":0.9},\"finish_date\":\"1970-01-01 00:02:41.500000\","
		   "\"duration\":\"0:01:01.500000\"}");
	json_decref(r);
	json_decref(v.result);

	v.job_state = "failed";
	v.result = deepaas_test_json("{\"status\":\"error\",\"message\":\"boom\","
				     "\"errors\":{\"x\":[\"bad\"]}}");
	r = deepaas_training_record(&v);
	CHECK_STR(json_string_value(json_object_get(r, "status")), "error");
	CHECK_STR(json_string_value(json_object_get(r, "message")), "boom");
	CHECK(json_object_get(r, "result") == NULL);
	json_decref(r);
	json_decref(v.result);

	v.result = NULL;
	v.job_state = "timeout";
	r = deepaas_training_record(&v);
	CHECK_STR(json_string_value(json_object_get(r, "status")), "error");
	CHECK(strstr(json_string_value(json_object_get(r, "message")), "wall time") != NULL);
	json_decref(r);

	v.job_state = "running";
	v.cancelled = true;
	r = deepaas_training_record(&v);
	CHECK_STR(json_string_value(json_object_get(r, "status")), "cancelled");
	json_decref(r);
}

TEST(deepaas_routes_redirect_to_the_slash_form_only)
{
	char *fixed = NULL;
	CHECK(routes_deepaas_redirect("/v2", &fixed));
	CHECK_STR(fixed, "/v2/");
	free(fixed);
	CHECK(routes_deepaas_redirect("/v2/models/m/train", &fixed));
	CHECK_STR(fixed, "/v2/models/m/train/");
	free(fixed);
	CHECK(routes_deepaas_redirect("//v2//models", &fixed));
	CHECK_STR(fixed, "/v2/models/");
	free(fixed);
	CHECK(!routes_deepaas_redirect("/v2/models/m/train/abc/", &fixed));
	CHECK(!routes_deepaas_redirect("/v2/models/m/train/abc", &fixed));
	CHECK(!routes_deepaas_redirect("/api/v1/me", &fixed));
	CHECK(!routes_deepaas_redirect("/v2/nosuch", &fixed));
}
