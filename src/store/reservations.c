/* store/reservations — reservations and notifications tables (see
 * reservations.h; the schema is v4 in store/schema.c). */
#include "store/reservations.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/xalloc.h"
#include "store/db.h"

static char *store_resv_text(struct store_q *q, int col)
{
	const char *s = store_col_text(q, col);
	return s ? xstrdup(s) : NULL;
}

static int64_t store_resv_opt(struct store_q *q, int col)
{
	return store_col_null(q, col) ? -1 : store_col_int(q, col);
}

static void store_resv_bind_opt(struct store_q *q, int idx, int64_t v)
{
	if (v < 0)
		store_q_null(q, idx);
	else
		store_q_int(q, idx, v);
}

/* Grow *arr (of elem-sized items) to hold one more; returns the new slot, zeroed. */
static void *store_resv_push(void **arr, size_t elem, size_t *count, size_t *cap)
{
	if (*count == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*arr = xrealloc(*arr, *cap * elem);
	}
	char *slot = (char *)*arr + (*count)++ * elem;
	memset(slot, 0, elem);
	return slot;
}

/* --- reservations ----------------------------------------------------------- */

#define RESV_COLS                                                                                  \
	"id, user_id, username, group_name, node, gpus, gpu_indices, gpu_model, cpus, mem_mb,"     \
	" start_time, end_time, note, state, review_note, reviewed_by, reviewed_at, released_at,"  \
	" release_reason, first_used_at, created_at, updated_at"

void store_reservation_clear(struct store_reservation *r)
{
	free(r->username);
	free(r->group_name);
	free(r->node);
	free(r->gpu_indices);
	free(r->gpu_model);
	free(r->note);
	free(r->state);
	free(r->review_note);
	free(r->reviewed_by);
	free(r->release_reason);
	memset(r, 0, sizeof *r);
}

void store_reservations_free(struct store_reservation *rs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_reservation_clear(&rs[i]);
	free(rs);
}

static void store_resv_row(struct store_q *q, struct store_reservation *r)
{
	r->id = store_col_int(q, 0);
	r->user_id = store_col_int(q, 1);
	r->username = store_resv_text(q, 2);
	r->group_name = store_resv_text(q, 3);
	r->node = store_resv_text(q, 4);
	r->gpus = (int)store_col_int(q, 5);
	r->gpu_indices = store_resv_text(q, 6);
	r->gpu_model = store_resv_text(q, 7);
	r->cpus = (int)store_col_int(q, 8);
	r->mem_mb = store_col_int(q, 9);
	r->start_time = store_col_int(q, 10);
	r->end_time = store_col_int(q, 11);
	r->note = store_resv_text(q, 12);
	r->state = store_resv_text(q, 13);
	r->review_note = store_resv_text(q, 14);
	r->reviewed_by = store_resv_text(q, 15);
	r->reviewed_at = store_resv_opt(q, 16);
	r->released_at = store_resv_opt(q, 17);
	r->release_reason = store_resv_text(q, 18);
	r->first_used_at = store_resv_opt(q, 19);
	r->created_at = store_col_int(q, 20);
	r->updated_at = store_col_int(q, 21);
}

/* Bind every field but id and the timestamps, as ?2..?20 in RESV_COLS order. */
static void store_resv_bind(struct store_q *q, const struct store_reservation *r)
{
	store_q_int(q, 2, r->user_id);
	store_q_text(q, 3, r->username);
	store_q_text(q, 4, r->group_name);
	store_q_text(q, 5, r->node);
	store_q_int(q, 6, r->gpus);
	store_q_text(q, 7, r->gpu_indices);
	store_q_text(q, 8, r->gpu_model);
	store_q_int(q, 9, r->cpus);
	store_q_int(q, 10, r->mem_mb);
	store_q_int(q, 11, r->start_time);
	store_q_int(q, 12, r->end_time);
	store_q_text(q, 13, r->note ? r->note : "");
	store_q_text(q, 14, r->state);
	store_q_text(q, 15, r->review_note);
	store_q_text(q, 16, r->reviewed_by);
	store_resv_bind_opt(q, 17, r->reviewed_at);
	store_resv_bind_opt(q, 18, r->released_at);
	store_q_text(q, 19, r->release_reason);
	store_resv_bind_opt(q, 20, r->first_used_at);
}

int store_reservation_insert(struct store *st, struct store_reservation *r)
{
	static const char sql[] =
	    "INSERT INTO reservations (" RESV_COLS ") VALUES (NULL, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
	    " ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?21)";
	int64_t now = time(NULL);
	struct store_q *q = store_q(st, sql);
	store_resv_bind(q, r);
	store_q_int(q, 21, now);
	int rc = store_q_exec(q);
	if (rc < 0)
		return rc;
	r->id = store_last_id(st);
	r->created_at = r->updated_at = now;
	return 0;
}

int store_reservation_get(struct store *st, int64_t id, struct store_reservation *out)
{
	static const char sql[] = "SELECT " RESV_COLS " FROM reservations WHERE id = ?1";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, id);
	int rc = store_q_step(q);
	if (rc == STORE_ROW)
		store_resv_row(q, out);
	store_q_done(q);
	return rc == STORE_ROW ? 0 : rc == STORE_DONE ? -ENOENT : rc;
}

int store_reservation_update(struct store *st, struct store_reservation *r)
{
	static const char sql[] =
	    "UPDATE reservations SET user_id = ?2, username = ?3, group_name = ?4, node = ?5,"
	    " gpus = ?6, gpu_indices = ?7, gpu_model = ?8, cpus = ?9, mem_mb = ?10,"
	    " start_time = ?11, end_time = ?12, note = ?13, state = ?14, review_note = ?15,"
	    " reviewed_by = ?16, reviewed_at = ?17, released_at = ?18, release_reason = ?19,"
	    " first_used_at = ?20, updated_at = ?21 WHERE id = ?1";
	int64_t now = time(NULL);
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, r->id);
	store_resv_bind(q, r);
	store_q_int(q, 21, now);
	int rc = store_q_exec(q);
	if (rc < 0)
		return rc;
	if (store_changes(st) == 0)
		return -ENOENT;
	r->updated_at = now;
	return 0;
}

/* Whether the comma list has the word (an empty or NULL list has none). */
static int store_resv_in_list(const char *list, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = list; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == wl && strncmp(p, word, wl) == 0)
			return 1;
		p = comma ? comma + 1 : p + len;
	}
	return 0;
}

int store_reservations_list(struct store *st, int64_t from, int64_t to, const char *states,
			    int64_t user_id, const char *node, struct store_reservation **out,
			    size_t *n)
{
	/* The state filter is applied here rather than in SQL: a comma list
	 * would need a dynamic IN (...) and the rows in a window are few. */
	static const char sql[] = "SELECT " RESV_COLS " FROM reservations"
				  " WHERE end_time > ?1 AND start_time < ?2"
				  " AND (?3 < 0 OR user_id = ?3) AND (?4 IS NULL OR node = ?4)"
				  " ORDER BY start_time, id";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, from);
	store_q_int(q, 2, to);
	store_q_int(q, 3, user_id);
	store_q_text(q, 4, node);
	struct store_reservation *rs = NULL;
	size_t count = 0, cap = 0;
	int rc;
	while ((rc = store_q_step(q)) == STORE_ROW) {
		if (states && !store_resv_in_list(states, store_col_text(q, 13)))
			continue;
		store_resv_row(q, store_resv_push((void **)&rs, sizeof *rs, &count, &cap));
	}
	store_q_done(q);
	if (rc < 0) {
		store_reservations_free(rs, count);
		return rc;
	}
	*out = rs;
	*n = count;
	return 0;
}

int store_reservations_count_live(struct store *st, int64_t user_id, const char *states,
				  int64_t now, int64_t *count)
{
	static const char sql[] =
	    "SELECT state FROM reservations WHERE user_id = ?1 AND end_time > ?2";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, user_id);
	store_q_int(q, 2, now);
	int64_t c = 0;
	int rc;
	while ((rc = store_q_step(q)) == STORE_ROW)
		if (!states || store_resv_in_list(states, store_col_text(q, 0)))
			c++;
	store_q_done(q);
	if (rc < 0)
		return rc;
	*count = c;
	return 0;
}

int store_reservation_mark_used(struct store *st, int64_t id, int64_t now)
{
	static const char sql[] =
	    "UPDATE reservations SET first_used_at = COALESCE(first_used_at, ?2) WHERE id = ?1";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, id);
	store_q_int(q, 2, now);
	int rc = store_q_exec(q);
	if (rc == 0 && store_changes(st) == 0)
		return -ENOENT;
	return rc;
}

int store_reservation_release(struct store *st, int64_t id, const char *reason, int64_t now)
{
	static const char sql[] =
	    "UPDATE reservations SET state = 'released', released_at = ?2, release_reason = ?3,"
	    " updated_at = ?2 WHERE id = ?1 AND state = 'approved'";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, id);
	store_q_int(q, 2, now);
	store_q_text(q, 3, reason);
	int rc = store_q_exec(q);
	if (rc == 0 && store_changes(st) == 0)
		return -ENOENT;
	return rc;
}

int store_reservation_use(struct store *st, int64_t id, int64_t now, int64_t *jobs,
			  double *gpu_seconds)
{
	/* Each job counts its GPUs for the part of its run that lies inside
	 * the reservation's window and before now; a running job's run so
	 * far ends now. */
	static const char sql[] =
	    "SELECT COUNT(j.id), COALESCE(SUM(j.gpus * MAX(0,"
	    "   MIN(COALESCE(j.end_time, ?2), r.end_time, ?2) - MAX(j.start_time, r.start_time))),"
	    "   0)"
	    " FROM reservations r JOIN jobs j ON j.reservation_id = r.id"
	    " WHERE r.id = ?1 AND j.start_time IS NOT NULL";
	static const char exists[] = "SELECT 1 FROM reservations WHERE id = ?1";
	struct store_q *q = store_q(st, exists);
	store_q_int(q, 1, id);
	int rc = store_q_step(q);
	store_q_done(q);
	if (rc != STORE_ROW)
		return rc == STORE_DONE ? -ENOENT : rc;
	q = store_q(st, sql);
	store_q_int(q, 1, id);
	store_q_int(q, 2, now);
	rc = store_q_step(q);
	if (rc == STORE_ROW) {
		*jobs = store_col_int(q, 0);
		*gpu_seconds = store_col_real(q, 1);
	}
	store_q_done(q);
	return rc == STORE_ROW ? 0 : rc == STORE_DONE ? -EIO : rc;
}

/* --- notifications ---------------------------------------------------------- */

void store_notifications_free(struct store_notification *ns, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(ns[i].kind);
		free(ns[i].text);
		free(ns[i].link);
	}
	free(ns);
}

int store_notify(struct store *st, int64_t user_id, const char *kind, const char *text,
		 const char *link, int64_t now)
{
	static const char sql[] =
	    "INSERT INTO notifications (user_id, kind, text, link, created_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, user_id);
	store_q_text(q, 2, kind);
	store_q_text(q, 3, text);
	store_q_text(q, 4, link);
	store_q_int(q, 5, now);
	return store_q_exec(q);
}

int store_notifications_list(struct store *st, int64_t user_id, int limit,
			     struct store_notification **out, size_t *n, int64_t *unread)
{
	static const char sql[] =
	    "SELECT id, user_id, kind, text, link, created_at, read_at"
	    " FROM notifications WHERE user_id = ?1 ORDER BY id DESC LIMIT ?2";
	static const char count_sql[] =
	    "SELECT COUNT(*) FROM notifications WHERE user_id = ?1 AND read_at IS NULL";
	struct store_q *q = store_q(st, sql);
	store_q_int(q, 1, user_id);
	store_q_int(q, 2, limit);
	struct store_notification *ns = NULL;
	size_t count = 0, cap = 0;
	int rc;
	while ((rc = store_q_step(q)) == STORE_ROW) {
		struct store_notification *x =
		    store_resv_push((void **)&ns, sizeof *ns, &count, &cap);
		x->id = store_col_int(q, 0);
		x->user_id = store_col_int(q, 1);
		x->kind = store_resv_text(q, 2);
		x->text = store_resv_text(q, 3);
		x->link = store_resv_text(q, 4);
		x->created_at = store_col_int(q, 5);
		x->read_at = store_resv_opt(q, 6);
	}
	store_q_done(q);
	if (rc < 0)
		goto fail;
	q = store_q(st, count_sql);
	store_q_int(q, 1, user_id);
	rc = store_q_step(q);
	if (rc == STORE_ROW)
		*unread = store_col_int(q, 0);
	store_q_done(q);
	if (rc != STORE_ROW) {
		rc = rc < 0 ? rc : -EIO;
		goto fail;
	}
	*out = ns;
	*n = count;
	return 0;
fail:
	store_notifications_free(ns, count);
	return rc;
}

int store_notifications_read(struct store *st, int64_t user_id, const int64_t *ids, size_t n,
			     int64_t now)
{
	static const char all_sql[] = "UPDATE notifications SET read_at = ?2"
				      " WHERE user_id = ?1 AND read_at IS NULL";
	static const char one_sql[] = "UPDATE notifications SET read_at = ?2"
				      " WHERE user_id = ?1 AND id = ?3 AND read_at IS NULL";
	if (!ids) {
		struct store_q *q = store_q(st, all_sql);
		store_q_int(q, 1, user_id);
		store_q_int(q, 2, now);
		return store_q_exec(q);
	}
	for (size_t i = 0; i < n; i++) {
		struct store_q *q = store_q(st, one_sql);
		store_q_int(q, 1, user_id);
		store_q_int(q, 2, now);
		store_q_int(q, 3, ids[i]);
		int rc = store_q_exec(q);
		if (rc < 0)
			return rc;
	}
	return 0;
}
