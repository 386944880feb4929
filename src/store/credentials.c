/* store/credentials — api_tokens and web_sessions (see credentials.h). */
#include "store/credentials.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/xalloc.h"
#include "store/db.h"

void store_tokens_free(struct store_token *ts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(ts[i].name);
		free(ts[i].prefix);
	}
	free(ts);
}

static int64_t store_credentials_opt(struct store_q *q, int col)
{
	return store_col_null(q, col) ? -1 : store_col_int(q, col);
}

static void store_credentials_copy(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

int store_token_insert(struct store *st, int64_t user_id, const char *name,
		       const unsigned char hash[STORE_HASH_LEN], const char *prefix, int64_t expires_at,
		       struct store_token *out)
{
	static const char sql[] = "INSERT INTO api_tokens (user_id, name, hash, prefix, created_at,"
				  " expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
	struct store_q *q = store_q(st, sql);
	int64_t now = time(NULL);
	store_q_int(q, 1, user_id);
	store_q_text(q, 2, name);
	store_q_blob(q, 3, hash, STORE_HASH_LEN);
	store_q_text(q, 4, prefix);
	store_q_int(q, 5, now);
	if (expires_at < 0)
		store_q_null(q, 6);
	else
		store_q_int(q, 6, expires_at);
	int rc = store_q_exec(q);
	if (rc < 0)
		return rc;
	out->id = store_last_id(st);
	out->name = xstrdup(name);
	out->prefix = xstrdup(prefix);
	out->created_at = now;
	out->expires_at = expires_at;
	out->last_used_at = -1;
	return 0;
}

static int store_credentials_principal(struct store_q *q, struct store_principal *out)
{
	int rc = store_q_step(q);
	if (rc == STORE_ROW) {
		out->user_id = store_col_int(q, 0);
		store_credentials_copy(out->username, sizeof out->username, store_col_text(q, 1));
		out->admin = store_col_int(q, 2) != 0;
		out->disabled = store_col_int(q, 3) != 0;
		out->cred_id = store_col_int(q, 4);
		out->last_used_at = store_credentials_opt(q, 5);
		store_credentials_copy(out->csrf, sizeof out->csrf, store_col_text(q, 6));
	}
	store_q_done(q);
	return rc == STORE_ROW ? 0 : rc == STORE_DONE ? -ENOENT : rc;
}

int store_token_lookup(struct store *st, const unsigned char hash[STORE_HASH_LEN], int64_t now,
		       struct store_principal *out)
{
	static const char sql[] =
		"SELECT u.id, u.username, u.admin, u.disabled, t.id, t.last_used_at, ''"
		" FROM api_tokens t JOIN users u ON u.id = t.user_id"
		" WHERE t.hash = ?1 AND (t.expires_at IS NULL OR t.expires_at > ?2)";
	struct store_q *q = store_q(st, sql);
	store_q_blob(q, 1, hash, STORE_HASH_LEN);
	store_q_int(q, 2, now);
	return store_credentials_principal(q, out);
}

int store_token_touch(struct store *st, int64_t id, int64_t now)
{
	static const char sql[] = "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, id);
	store_q_int(q, 2, now);
	return store_q_exec(q);
}

int store_tokens_list(struct store *st, int64_t user_id, struct store_token **out, size_t *n)
{
	static const char sql[] = "SELECT id, name, prefix, created_at, expires_at, last_used_at"
				  " FROM api_tokens WHERE user_id = ?1 ORDER BY id";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, user_id);
	struct store_token *ts = NULL;
	size_t count = 0;
	int rc;
	while ((rc = store_q_step(q)) == STORE_ROW) {
		ts = xrealloc(ts, (count + 1) * sizeof *ts);
		struct store_token *t = &ts[count++];
		t->id = store_col_int(q, 0);
		t->name = xstrdup(store_col_text(q, 1));
		t->prefix = xstrdup(store_col_text(q, 2));
		t->created_at = store_col_int(q, 3);
		t->expires_at = store_credentials_opt(q, 4);
		t->last_used_at = store_credentials_opt(q, 5);
	}
	store_q_done(q);
	if (rc < 0) {
		store_tokens_free(ts, count);
		return rc;
	}
	*out = ts;
	*n = count;
	return 0;
}

int store_token_delete(struct store *st, int64_t user_id, int64_t id)
{
	static const char sql[] = "DELETE FROM api_tokens WHERE id = ?1 AND user_id = ?2";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, id);
	store_q_int(q, 2, user_id);
	int rc = store_q_exec(q);
	if (rc == 0 && store_changes(st) == 0)
		return -ENOENT;
	return rc;
}

int store_websession_insert(struct store *st, int64_t user_id,
			    const unsigned char hash[STORE_HASH_LEN], const char *csrf,
			    int64_t expires_at)
{
	static const char sql[] = "INSERT INTO web_sessions (user_id, hash, csrf, created_at, expires_at)"
				  " VALUES (?1, ?2, ?3, ?4, ?5)";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, user_id);
	store_q_blob(q, 2, hash, STORE_HASH_LEN);
	store_q_text(q, 3, csrf);
	store_q_int(q, 4, time(NULL));
	store_q_int(q, 5, expires_at);
	return store_q_exec(q);
}

int store_websession_lookup(struct store *st, const unsigned char hash[STORE_HASH_LEN], int64_t now,
			    struct store_principal *out)
{
	static const char sql[] =
		"SELECT u.id, u.username, u.admin, u.disabled, s.id, NULL, s.csrf"
		" FROM web_sessions s JOIN users u ON u.id = s.user_id"
		" WHERE s.hash = ?1 AND s.expires_at > ?2";
	struct store_q *q = store_q(st, sql);
	store_q_blob(q, 1, hash, STORE_HASH_LEN);
	store_q_int(q, 2, now);
	return store_credentials_principal(q, out);
}

int store_websession_delete(struct store *st, const unsigned char hash[STORE_HASH_LEN])
{
	static const char sql[] = "DELETE FROM web_sessions WHERE hash = ?1";
	struct store_q *q = store_q(st, sql);
	store_q_blob(q, 1, hash, STORE_HASH_LEN);
	return store_q_exec(q);
}

int store_websessions_delete_user(struct store *st, int64_t user_id, int64_t keep_id)
{
	static const char sql[] = "DELETE FROM web_sessions WHERE user_id = ?1 AND id != ?2";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, user_id);
	store_q_int(q, 2, keep_id);
	return store_q_exec(q);
}

int store_credentials_purge(struct store *st, int64_t now)
{
	static const char s_sql[] = "DELETE FROM web_sessions WHERE expires_at <= ?1";
	static const char t_sql[] = "DELETE FROM api_tokens WHERE expires_at IS NOT NULL"
				    " AND expires_at <= ?1";
	struct store_q *q = store_q(st, s_sql);
	store_q_int(q, 1, now);
	int rc = store_q_exec(q);
	if (rc < 0)
		return rc;
	int n = store_changes(st);
	q = store_q(st, t_sql);
	store_q_int(q, 1, now);
	rc = store_q_exec(q);
	return rc < 0 ? rc : n + store_changes(st);
}
