/* store/models — the model catalog and trainings tables (see models.h). */
#include "store/models.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/xalloc.h"
#include "store/db.h"

static char *store_models_text(struct store_q *q, int col)
{
	const char *s = store_col_text(q, col);
	return s ? xstrdup(s) : NULL;
}

/* --- models ----------------------------------------------------------------- */

#define MODEL_COLS                                                                                \
	"name, version, title, summary, keywords, manifest, describe, dir, owner_id, owner,"      \
	" public_predict, predict_enabled, train_enabled, created_at, updated_at"

void store_model_clear(struct store_model *m)
{
	free(m->name);
	free(m->version);
	free(m->title);
	free(m->summary);
	free(m->keywords);
	free(m->manifest);
	free(m->describe);
	free(m->dir);
	free(m->owner);
	memset(m, 0, sizeof *m);
}

void store_models_free(struct store_model *ms, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_model_clear(&ms[i]);
	free(ms);
}

static void store_models_row(struct store_q *q, struct store_model *m)
{
	m->name = store_models_text(q, 0);
	m->version = store_models_text(q, 1);
	m->title = store_models_text(q, 2);
	m->summary = store_models_text(q, 3);
	m->keywords = store_models_text(q, 4);
	m->manifest = store_models_text(q, 5);
	m->describe = store_models_text(q, 6);
	m->dir = store_models_text(q, 7);
	m->owner_id = store_col_int(q, 8);
	m->owner = store_models_text(q, 9);
	m->public_predict = store_col_int(q, 10) != 0;
	m->predict_enabled = store_col_int(q, 11) != 0;
	m->train_enabled = store_col_int(q, 12) != 0;
	m->created_at = store_col_int(q, 13);
	m->updated_at = store_col_int(q, 14);
}

int store_model_put(struct store *st, struct store_model *m)
{
	static const char version_sql[] =
		"INSERT INTO model_versions (name, version, dir, manifest, describe, created_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
	/* The new version becomes current; created_at and the admin's flags
	 * stay those of the model. */
	static const char model_sql[] =
		"INSERT INTO models (" MODEL_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
		" ?11, ?12, ?13, ?14, ?14)"
		" ON CONFLICT(name) DO UPDATE SET version = excluded.version, title = excluded.title,"
		" summary = excluded.summary, keywords = excluded.keywords,"
		" manifest = excluded.manifest, describe = excluded.describe, dir = excluded.dir,"
		" owner_id = excluded.owner_id, owner = excluded.owner,"
		" updated_at = excluded.updated_at";
	int64_t now = time(NULL);
	int rc = store_begin(st);
	if (rc < 0)
		return rc;
	struct store_q *q = store_q(st, version_sql);
	store_q_text(q, 1, m->name);
	store_q_text(q, 2, m->version);
	store_q_text(q, 3, m->dir);
	store_q_text(q, 4, m->manifest);
	store_q_text(q, 5, m->describe);
	store_q_int(q, 6, now);
	if ((rc = store_q_exec(q)) < 0)
		goto fail;
	q = store_q(st, model_sql);
	store_q_text(q, 1, m->name);
	store_q_text(q, 2, m->version);
	store_q_text(q, 3, m->title);
	store_q_text(q, 4, m->summary ? m->summary : "");
	store_q_text(q, 5, m->keywords ? m->keywords : "[]");
	store_q_text(q, 6, m->manifest);
	store_q_text(q, 7, m->describe);
	store_q_text(q, 8, m->dir);
	store_q_int(q, 9, m->owner_id);
	store_q_text(q, 10, m->owner);
	store_q_int(q, 11, m->public_predict);
	store_q_int(q, 12, m->predict_enabled);
	store_q_int(q, 13, m->train_enabled);
	store_q_int(q, 14, now);
	if ((rc = store_q_exec(q)) < 0)
		goto fail;
	if ((rc = store_commit(st)) < 0)
		goto fail;
	m->updated_at = now;
	return 0;
fail:
	store_rollback(st);
	return rc;
}

int store_model_get(struct store *st, const char *name, struct store_model *out)
{
	static const char sql[] = "SELECT " MODEL_COLS " FROM models WHERE name = ?1";
	struct store_q *q = store_q(st, sql);
	store_q_text(q, 1, name);
	int rc = store_q_step(q);
	if (rc == STORE_ROW)
		store_models_row(q, out);
	store_q_done(q);
	return rc == STORE_ROW ? 0 : rc == STORE_DONE ? -ENOENT : rc;
}

int store_models_list(struct store *st, struct store_model **out, size_t *n)
{
	static const char sql[] = "SELECT " MODEL_COLS " FROM models ORDER BY name";
	struct store_q *q = store_q(st, sql);
	struct store_model *ms = NULL;
	size_t count = 0, cap = 0;
	int rc;
	while ((rc = store_q_step(q)) == STORE_ROW) {
		if (count == cap) {
			cap = cap ? cap * 2 : 8;
			ms = xrealloc(ms, cap * sizeof *ms);
		}
		memset(&ms[count], 0, sizeof *ms);
		store_models_row(q, &ms[count++]);
	}
	store_q_done(q);
	if (rc < 0) {
		store_models_free(ms, count);
		return rc;
	}
	*out = ms;
	*n = count;
	return 0;
}

static int store_models_changed_one(struct store *st, int rc)
{
	if (rc == 0 && store_changes(st) == 0)
		return -ENOENT;
	return rc;
}

int store_model_set_flags(struct store *st, const char *name, bool public_predict,
			  bool predict_enabled, bool train_enabled)
{
	static const char sql[] = "UPDATE models SET public_predict = ?2, predict_enabled = ?3,"
				  " train_enabled = ?4, updated_at = ?5 WHERE name = ?1";
	struct store_q *q = store_q(st, sql);
	store_q_text(q, 1, name);
	store_q_int(q, 2, public_predict);
	store_q_int(q, 3, predict_enabled);
	store_q_int(q, 4, train_enabled);
	store_q_int(q, 5, time(NULL));
	return store_models_changed_one(st, store_q_exec(q));
}

int store_model_delete(struct store *st, const char *name)
{
	static const char versions_sql[] = "DELETE FROM model_versions WHERE name = ?1";
	static const char model_sql[] = "DELETE FROM models WHERE name = ?1";
	int rc = store_begin(st);
	if (rc < 0)
		return rc;
	struct store_q *q = store_q(st, versions_sql);
	store_q_text(q, 1, name);
	if ((rc = store_q_exec(q)) == 0) {
		q = store_q(st, model_sql);
		store_q_text(q, 1, name);
		rc = store_models_changed_one(st, store_q_exec(q));
	}
	if (rc == 0)
		rc = store_commit(st);
	if (rc < 0)
		store_rollback(st);
	return rc;
}

int store_model_version_get(struct store *st, const char *name, const char *version,
			    struct store_model *out)
{
	static const char sql[] = "SELECT name, version, dir, manifest, describe FROM model_versions"
				  " WHERE name = ?1 AND version = ?2";
	struct store_q *q = store_q(st, sql);
	store_q_text(q, 1, name);
	store_q_text(q, 2, version);
	int rc = store_q_step(q);
	if (rc == STORE_ROW) {
		memset(out, 0, sizeof *out);
		out->name = store_models_text(q, 0);
		out->version = store_models_text(q, 1);
		out->dir = store_models_text(q, 2);
		out->manifest = store_models_text(q, 3);
		out->describe = store_models_text(q, 4);
	}
	store_q_done(q);
	return rc == STORE_ROW ? 0 : rc == STORE_DONE ? -ENOENT : rc;
}

/* --- trainings -------------------------------------------------------------- */

#define TRAINING_COLS "uuid, model, version, user_id, username, job_id, args, created_at, deleted"

void store_training_clear(struct store_training *t)
{
	free(t->uuid);
	free(t->model);
	free(t->version);
	free(t->username);
	free(t->args);
	memset(t, 0, sizeof *t);
}

void store_trainings_free(struct store_training *ts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_training_clear(&ts[i]);
	free(ts);
}

static void store_trainings_row(struct store_q *q, struct store_training *t)
{
	t->uuid = store_models_text(q, 0);
	t->model = store_models_text(q, 1);
	t->version = store_models_text(q, 2);
	t->user_id = store_col_int(q, 3);
	t->username = store_models_text(q, 4);
	t->job_id = store_col_int(q, 5);
	t->args = store_models_text(q, 6);
	t->created_at = store_col_int(q, 7);
	t->deleted = store_col_int(q, 8) != 0;
}

int store_training_insert(struct store *st, const struct store_training *t)
{
	static const char sql[] = "INSERT INTO trainings (" TRAINING_COLS ")"
				  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0)";
	struct store_q *q = store_q(st, sql);
	store_q_text(q, 1, t->uuid);
	store_q_text(q, 2, t->model);
	store_q_text(q, 3, t->version);
	store_q_int(q, 4, t->user_id);
	store_q_text(q, 5, t->username);
	store_q_int(q, 6, t->job_id);
	store_q_text(q, 7, t->args ? t->args : "{}");
	store_q_int(q, 8, t->created_at > 0 ? t->created_at : time(NULL));
	return store_q_exec(q);
}

int store_training_get(struct store *st, const char *uuid, struct store_training *out)
{
	static const char sql[] = "SELECT " TRAINING_COLS " FROM trainings WHERE uuid = ?1";
	struct store_q *q = store_q(st, sql);
	store_q_text(q, 1, uuid);
	int rc = store_q_step(q);
	if (rc == STORE_ROW)
		store_trainings_row(q, out);
	store_q_done(q);
	return rc == STORE_ROW ? 0 : rc == STORE_DONE ? -ENOENT : rc;
}

int store_trainings_list(struct store *st, const char *model, int64_t user_id,
			 struct store_training **out, size_t *n)
{
	static const char sql[] = "SELECT " TRAINING_COLS " FROM trainings WHERE model = ?1"
				  " AND deleted = 0 AND (?2 < 0 OR user_id = ?2)"
				  " ORDER BY created_at, uuid";
	struct store_q *q = store_q(st, sql);
	store_q_text(q, 1, model);
	store_q_int(q, 2, user_id);
	struct store_training *ts = NULL;
	size_t count = 0, cap = 0;
	int rc;
	while ((rc = store_q_step(q)) == STORE_ROW) {
		if (count == cap) {
			cap = cap ? cap * 2 : 8;
			ts = xrealloc(ts, cap * sizeof *ts);
		}
		memset(&ts[count], 0, sizeof *ts);
		store_trainings_row(q, &ts[count++]);
	}
	store_q_done(q);
	if (rc < 0) {
		store_trainings_free(ts, count);
		return rc;
	}
	*out = ts;
	*n = count;
	return 0;
}

int store_training_mark_deleted(struct store *st, const char *uuid)
{
	static const char sql[] = "UPDATE trainings SET deleted = 1 WHERE uuid = ?1";
	struct store_q *q = store_q(st, sql);
	store_q_text(q, 1, uuid);
	return store_models_changed_one(st, store_q_exec(q));
}
