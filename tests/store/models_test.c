/* Tests of store/models: the catalog's versions and flags, trainings. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness.h"
#include "store/db.h"
#include "store/models.h"

static struct store *models_test_open(void)
{
	char *path = NULL, *cause = NULL;
	struct store *st = NULL;
	CHECK(asprintf(&path, "%s/kaon.db", harness_tmpdir()) > 0);
	if (store_open(path, &st, &cause) < 0)
		harness_fail(__FILE__, __LINE__, "store_open: %s", cause);
	free(path);
	return st;
}

static struct store_model models_test_model(const char *version, const char *dir)
{
	return (struct store_model){
		.name = (char *)"digits", .version = (char *)version, .title = (char *)"Digits",
		.summary = (char *)"8x8", .keywords = (char *)"[\"vision\"]",
		.manifest = (char *)"{}", .describe = (char *)"{\"predict_args\":[]}",
		.dir = (char *)dir, .owner_id = 1, .owner = (char *)"admin",
		.predict_enabled = true, .train_enabled = true,
	};
}

TEST(store_models_versions_flags_and_delete)
{
	struct store *st = models_test_open();
	struct store_model m = models_test_model("1.0", "/d/1.0"), got = { 0 };
	CHECK_INT(store_model_put(st, &m), 0);
	CHECK_INT(store_model_put(st, &m), -EEXIST); /* the same version twice */
	CHECK_INT(store_model_set_flags(st, "digits", true, true, false), 0);
	m = models_test_model("1.1", "/d/1.1");
	CHECK_INT(store_model_put(st, &m), 0);
	CHECK_INT(store_model_get(st, "digits", &got), 0);
	CHECK_STR(got.version, "1.1");
	CHECK_STR(got.dir, "/d/1.1");
	/* A new version keeps the admin's flags. */
	CHECK(got.public_predict && got.predict_enabled && !got.train_enabled);
	store_model_clear(&got);
	CHECK_INT(store_model_version_get(st, "digits", "1.0", &got), 0);
	CHECK_STR(got.dir, "/d/1.0");
	store_model_clear(&got);
	struct store_model *ms = NULL;
	size_t n = 0;
	CHECK_INT(store_models_list(st, &ms, &n), 0);
	CHECK_INT(n, 1);
	store_models_free(ms, n);
	CHECK_INT(store_model_delete(st, "digits"), 0);
	CHECK_INT(store_model_get(st, "digits", &got), -ENOENT);
	CHECK_INT(store_model_version_get(st, "digits", "1.0", &got), -ENOENT);
	CHECK_INT(store_model_delete(st, "digits"), -ENOENT);
	CHECK_INT(store_model_set_flags(st, "digits", false, false, false), -ENOENT);
	store_close(st);
}

TEST(store_trainings_list_by_model_and_user_without_deleted)
{
	struct store *st = models_test_open();
	static const char *const uuids[] = { "aa", "bb", "cc" };
	for (int i = 0; i < 3; i++) {
		struct store_training t = {
			.uuid = (char *)uuids[i], .model = (char *)(i < 2 ? "digits" : "other"),
			.version = (char *)"1.0", .user_id = i == 1 ? 2 : 1,
			.username = (char *)"u", .job_id = 10 + i, .args = (char *)"{\"epochs\":3}",
			.created_at = 100 + i,
		};
		CHECK_INT(store_training_insert(st, &t), 0);
	}
	struct store_training *ts = NULL, t = { 0 };
	size_t n = 0;
	CHECK_INT(store_trainings_list(st, "digits", -1, &ts, &n), 0);
	CHECK_INT(n, 2);
	CHECK_STR(ts[0].uuid, "aa");
	store_trainings_free(ts, n);
	CHECK_INT(store_trainings_list(st, "digits", 2, &ts, &n), 0);
	CHECK_INT(n, 1);
	CHECK_STR(ts[0].uuid, "bb");
	store_trainings_free(ts, n);
	CHECK_INT(store_training_mark_deleted(st, "aa"), 0);
	CHECK_INT(store_trainings_list(st, "digits", -1, &ts, &n), 0);
	CHECK_INT(n, 1);
	store_trainings_free(ts, n);
	CHECK_INT(store_training_get(st, "aa", &t), 0); /* kept for accounting */
	CHECK(t.deleted);
	CHECK_INT(t.job_id, 10);
	CHECK_STR(t.args, "{\"epochs\":3}");
	store_training_clear(&t);
	CHECK_INT(store_training_get(st, "zz", &t), -ENOENT);
	store_close(st);
}
