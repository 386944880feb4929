/*
 * api/reservations — GPU reservations (docs/reservations.md): book GPUs of
 * a node for a time window, list the calendar, change, cancel, approve or
 * reject a booking.
 *
 * Which GPUs a booking gets is sched/calendar's answer given what is busy
 * then: pending and approved reservations, and running jobs' GPUs until
 * the end of their wall time. The check and the insert run in one
 * transaction (BEGIN IMMEDIATE takes the write lock first), so two
 * bookings racing for the same GPUs are serialised and the second sees
 * the first: it gets 409 with the nearest free windows instead.
 *
 * Booking limits come from the owner's primary group (resv_* columns);
 * admins are bound by none and need no approval. Everyone sees everyone's
 * reservations (the calendar draws them), but another user's note and
 * review note only the owner and admins.
 *
 * The calendar numbers GPUs by position in the inventory; reservations
 * store the GPUs' own indices (what jobs' alloc_gpus hold), mapped here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api.h"
#include "api/fields.h"
#include "config/config.h"
#include "exec/inventory.h"
#include "lib/log.h"
#include "lib/timefmt.h"
#include "lib/xalloc.h"
#include "sched/calendar.h"
#include "server/scheduler.h"
#include "server/server.h"
#include "store/db.h"
#include "store/groups.h"
#include "store/jobs.h"
#include "store/reservations.h"
#include "store/users.h"

enum {
	/* A start up to this far in the past is taken as "now" (a form
	 * filled in a minute ago). */
	API_RESV_PAST_GRACE_S = 60,
	API_RESV_SUGGESTIONS = 3,
	API_RESV_DEFAULT_HORIZON_S = 90 * 86400,
	API_RESV_MAX_LEN_S = 366 * 86400,
	API_RESV_LIST_MAX_S = 400 * 86400,
};

static const char api_resv_live_states[] = "pending,approved";

static const struct fields_spec api_resv_create_fields[] = {
    {"gpus", FIELDS_INT, true, 1, INVENTORY_MAX_GPUS},
    {"duration_s", FIELDS_INT, false, 1, API_RESV_MAX_LEN_S},
    {"node", FIELDS_STRING, false, 1, 255},
    {"gpu_model", FIELDS_STRING, false, 1, 95},
    {"note", FIELDS_STRING, false, 0, 1000},
    {"user", FIELDS_STRING, false, 1, 32},
};

static const struct fields_spec api_resv_update_fields[] = {
    {"gpus", FIELDS_INT, false, 1, INVENTORY_MAX_GPUS},
    {"duration_s", FIELDS_INT, false, 1, API_RESV_MAX_LEN_S},
    {"note", FIELDS_STRING, false, 0, 1000},
};

static const struct fields_spec api_resv_review_fields[] = {
    {"note", FIELDS_STRING, false, 0, 1000},
};

/* ---- times and durations in words ---------------------------------------- */

/* A JSON time: RFC 3339 (Z or an offset) or integer Unix seconds. */
static int api_resv_time(json_t *v, int64_t *out)
{
	if (json_is_integer(v)) {
		json_int_t t = json_integer_value(v);
		if (t < 0 || t > (json_int_t)253402300799) /* up to 9999-12-31 */
			return -EINVAL;
		*out = t;
		return 0;
	}
	if (json_is_string(v))
		return timefmt_parse_rfc3339(json_string_value(v), out);
	return -EINVAL;
}

/* Same for a query parameter. */
static int api_resv_time_text(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long t = strtoll(s, &end, 10);
	if (end != s && !*end && !errno && t >= 0) {
		*out = t;
		return 0;
	}
	return timefmt_parse_rfc3339(s, out);
}

/* "90m", "8h", "1h30m", "14d", "2d3h". */
static void api_resv_duration(int64_t s, char *buf, size_t len)
{
	int64_t d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60, sec = s % 60;
	size_t n = 0;
	buf[0] = '\0';
	if (d)
		n += (size_t)snprintf(buf + n, len - n, "%lldd", (long long)d);
	if (h && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%lldh", (long long)h);
	if (m && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%lldm", (long long)m);
	if ((sec || s == 0) && n < len)
		snprintf(buf + n, len - n, "%llds", (long long)sec);
}

/* "2026-12-04 09:00 UTC". */
static void api_resv_when(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;
	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm);
}

/* ---- the node as the calendar sees it ------------------------------------ */

struct api_resv_node {
	struct cal_node node;
	const char *models[INVENTORY_MAX_GPUS];
	const struct inventory *inv;
	int64_t cpus, mem_mb; /* schedulable */
};

static void api_resv_node(struct http_req *req, struct api_resv_node *n)
{
	const struct inventory *inv = &req->srv->inv;
	n->inv = inv;
	for (int g = 0; g < inv->ngpus; g++)
		n->models[g] = inv->gpus[g].model;
	n->node = (struct cal_node){inv->hostname, inv->ngpus, n->models};
	n->cpus = (int64_t)inv->cpus * req->srv->cfg->oversubscribe;
	n->mem_mb = inv->mem_mb;
}

/* A comma list of GPU indices ("0,1") as a mask of inventory positions;
 * indices this node does not have are ignored. */
static uint64_t api_resv_mask(const struct inventory *inv, const char *list)
{
	uint64_t mask = 0;
	for (const char *p = list; p && *p;) {
		char *end;
		long g = strtol(p, &end, 10);
		if (end == p)
			break;
		for (int k = 0; k < inv->ngpus; k++)
			if (inv->gpus[k].index == g)
				mask |= (uint64_t)1 << k;
		p = *end == ',' ? end + 1 : end;
	}
	return mask;
}

static char *api_resv_indices(const struct inventory *inv, uint64_t mask)
{
	char *s = xstrdup("");
	for (int k = 0; k < inv->ngpus; k++) {
		if (!(mask & ((uint64_t)1 << k)))
			continue;
		char *t = xasprintf("%s%s%d", s, *s ? "," : "", inv->gpus[k].index);
		free(s);
		s = t;
	}
	return s;
}

static json_t *api_resv_indices_json(const char *list)
{
	json_t *a = json_array();
	for (const char *p = list; p && *p;) {
		char *end;
		long g = strtol(p, &end, 10);
		if (end == p)
			break;
		json_array_append_new(a, json_integer(g));
		p = *end == ',' ? end + 1 : end;
	}
	return a;
}

/* What is busy from now on: pending and approved reservations but skip
 * (the one being changed), and running jobs until the end of their wall
 * time. Jobs running inside skip do not count against it either. */
static int api_resv_busy(struct http_req *req, const struct api_resv_node *n, int64_t now,
			 const struct store_reservation *skip, struct cal_busy **out, size_t *nout)
{
	struct store_reservation *rs = NULL;
	struct store_job *js = NULL;
	size_t nr = 0, nj = 0, count = 0;
	int rc = store_reservations_list(req->store, now, INT64_MAX, api_resv_live_states, -1,
					 n->inv->hostname, &rs, &nr);
	if (rc < 0)
		return rc;
	if ((rc = store_jobs_live(req->store, &js, &nj)) < 0) {
		store_reservations_free(rs, nr);
		return rc;
	}
	struct cal_busy *b = xcalloc(nr + nj + 1, sizeof *b);
	for (size_t i = 0; i < nr; i++) {
		if (skip && rs[i].id == skip->id)
			continue;
		b[count++] = (struct cal_busy){0, api_resv_mask(n->inv, rs[i].gpu_indices),
					       rs[i].start_time, rs[i].end_time};
	}
	for (size_t i = 0; i < nj; i++) {
		if (strcmp(js[i].state, "running") != 0 || !js[i].alloc_gpus ||
		    (js[i].node && strcmp(js[i].node, n->inv->hostname) != 0))
			continue;
		uint64_t mask = api_resv_mask(n->inv, js[i].alloc_gpus);
		if (!mask || (skip && js[i].reservation_id == skip->id))
			continue;
		int64_t start = js[i].start_time >= 0 ? js[i].start_time : now;
		int64_t end = js[i].walltime_s > 0 && start <= INT64_MAX - js[i].walltime_s
				  ? start + js[i].walltime_s
				  : INT64_MAX;
		if (end > now)
			b[count++] = (struct cal_busy){0, mask, start, end};
	}
	store_reservations_free(rs, nr);
	store_jobs_free(js, nj);
	*out = b;
	*nout = count;
	return 0;
}

/* ---- the reservation as the API shows it --------------------------------- */

static const char *api_resv_phase(const struct store_reservation *r, int64_t now)
{
	if (strcmp(r->state, "pending") != 0 && strcmp(r->state, "approved") != 0)
		return NULL;
	return now < r->start_time ? "upcoming" : now < r->end_time ? "active" : "ended";
}

static bool api_resv_mine(const struct http_req *req, const struct store_reservation *r)
{
	return r->user_id == req->who.user_id;
}

static json_t *api_resv_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *api_resv_json(struct http_req *req, const struct store_reservation *r, int64_t now)
{
	bool see = api_resv_mine(req, r) || req->who.admin;
	const char *phase = api_resv_phase(r, now);
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(r->id));
	json_object_set_new(o, "user", json_string(r->username));
	json_object_set_new(o, "group", json_string(r->group_name));
	json_object_set_new(o, "node", json_string(r->node));
	json_object_set_new(o, "gpus", json_integer(r->gpus));
	json_object_set_new(o, "gpu_indices", api_resv_indices_json(r->gpu_indices));
	json_object_set_new(o, "gpu_model", api_resv_str(r->gpu_model));
	json_object_set_new(o, "cpus", json_integer(r->cpus));
	json_object_set_new(o, "mem_mb", json_integer(r->mem_mb));
	json_object_set_new(o, "start", api_time_json(r->start_time));
	json_object_set_new(o, "end", api_time_json(r->end_time));
	json_object_set_new(o, "note", see ? api_resv_str(r->note) : json_null());
	json_object_set_new(o, "state", json_string(r->state));
	json_object_set_new(o, "phase", phase ? json_string(phase) : json_null());
	json_object_set_new(o, "review_note", see ? api_resv_str(r->review_note) : json_null());
	json_object_set_new(o, "reviewed_by", api_resv_str(r->reviewed_by));
	json_object_set_new(o, "reviewed_at", api_time_json(r->reviewed_at));
	json_object_set_new(o, "released_at", api_time_json(r->released_at));
	json_object_set_new(o, "release_reason", api_resv_str(r->release_reason));

	int64_t jobs = 0;
	double used = 0;
	if (store_reservation_use(req->store, r->id, now, &jobs, &used) < 0)
		jobs = 0, used = 0; /* the row was just read; the numbers are best effort */
	double reserved = (double)r->gpus * (double)(r->end_time - r->start_time);
	json_object_set_new(o, "use",
			    json_pack("{s:I,s:f,s:f,s:f,s:o}", "jobs", (json_int_t)jobs,
				      "gpu_seconds", used, "reserved_gpu_seconds", reserved,
				      "fraction", reserved > 0 ? used / reserved : 0.0,
				      "first_used_at", api_time_json(r->first_used_at)));
	json_object_set_new(o, "mine", json_boolean(api_resv_mine(req, r)));
	json_object_set_new(o, "created_at", api_time_json(r->created_at));
	json_object_set_new(o, "updated_at", api_time_json(r->updated_at));
	return o;
}

/* ---- policy -------------------------------------------------------------- */

/* The owner's primary group; 0 with *have false when they have none. */
static int api_resv_group(struct store *st, const struct store_user *u, struct store_group *g,
			  bool *have)
{
	*have = false;
	if (u->ngroups == 0)
		return 0;
	int rc = store_group_get(st, u->groups[0], g);
	*have = rc == 0;
	return rc == -ENOENT ? 0 : rc;
}

/* The group's limits on one booking (GPUs, length, how far ahead): 0, or
 * -1 after answering 422 with the limit, its value and the group. */
static int api_resv_limits(struct http_resp *resp, const struct store_group *g, int gpus,
			   int64_t start, int64_t end, int64_t now)
{
	char a[32], b[32];
	if (g->resv_max_gpus == 0) {
		http_resp_error(resp, 422, "limit",
				"group %s may not book GPUs (resv_max_gpus 0); ask an admin",
				g->name);
		return -1;
	}
	if (g->resv_max_gpus >= 0 && gpus > g->resv_max_gpus) {
		http_resp_error(resp, 422, "limit",
				"group %s books at most %lld GPU%s per reservation (resv_max_gpus "
				"%lld); asked for %d",
				g->name, (long long)g->resv_max_gpus,
				g->resv_max_gpus == 1 ? "" : "s", (long long)g->resv_max_gpus,
				gpus);
		return -1;
	}
	if (g->resv_max_s >= 0 && end - start > g->resv_max_s) {
		api_resv_duration(g->resv_max_s, a, sizeof a);
		api_resv_duration(end - start, b, sizeof b);
		http_resp_error(
		    resp, 422, "limit",
		    "group %s books at most %s per reservation (resv_max_s %lld); asked "
		    "for %s",
		    g->name, a, (long long)g->resv_max_s, b);
		return -1;
	}
	if (g->resv_max_ahead_s >= 0 && start - now > g->resv_max_ahead_s) {
		api_resv_duration(g->resv_max_ahead_s, a, sizeof a);
		api_resv_duration(start - now, b, sizeof b);
		http_resp_error(resp, 422, "limit",
				"group %s books at most %s ahead (resv_max_ahead_s %lld); this one "
				"starts in %s",
				g->name, a, (long long)g->resv_max_ahead_s, b);
		return -1;
	}
	return 0;
}

/* The group's limit on reservations held at once (inside the booking
 * transaction): 0, -1 after answering. */
static int api_resv_active_limit(struct http_req *req, struct http_resp *resp,
				 const struct store_group *g, int64_t user_id, int64_t now)
{
	if (g->resv_max_active < 0)
		return 0;
	int64_t live = 0;
	int rc =
	    store_reservations_count_live(req->store, user_id, api_resv_live_states, now, &live);
	if (rc < 0) {
		http_resp_errno(resp, rc, "reservations");
		return -1;
	}
	if (live >= g->resv_max_active) {
		http_resp_error(
		    resp, 422, "limit",
		    "group %s holds at most %lld reservation%s at once per user "
		    "(resv_max_active %lld); %lld pending or approved already: cancel one "
		    "first",
		    g->name, (long long)g->resv_max_active, g->resv_max_active == 1 ? "" : "s",
		    (long long)g->resv_max_active, (long long)live);
		return -1;
	}
	return 0;
}

/* ---- booking ------------------------------------------------------------- */

/* What a booking asks for, after parsing. */
struct api_resv_want {
	int gpus;
	int64_t start, end;
	const char *gpu_model;
	bool admin;		  /* the caller: limits and approval do not apply */
	struct store_group group; /* the owner's primary group, when have_group */
	bool have_group;
};

/* Start and end from body ("start", and "end" or "duration_s"); each
 * falls back to the given one when absent. 0, or -1 after answering. */
static int api_resv_window(json_t *body, struct http_resp *resp, int64_t *start, int64_t *end,
			   bool require_start)
{
	json_t *vs = json_object_get(body, "start"), *ve = json_object_get(body, "end");
	json_t *vd = json_object_get(body, "duration_s");
	if (require_start && !vs) {
		http_resp_error(resp, 422, "invalid", "field 'start' is required");
		return -1;
	}
	if (ve && vd) {
		http_resp_error(resp, 422, "invalid",
				"give either 'end' or 'duration_s', not both");
		return -1;
	}
	if (require_start && !ve && !vd) {
		http_resp_error(resp, 422, "invalid", "field 'end' or 'duration_s' is required");
		return -1;
	}
	int64_t len = *end - *start;
	if (vs && api_resv_time(vs, start) < 0) {
		http_resp_error(resp, 422, "invalid",
				"field 'start' must be an RFC 3339 time (2026-12-04T09:00:00Z or "
				"with an offset) or Unix seconds");
		return -1;
	}
	if (ve && api_resv_time(ve, end) < 0) {
		http_resp_error(resp, 422, "invalid",
				"field 'end' must be an RFC 3339 time (2026-12-04T13:00:00Z or "
				"with an offset) or Unix seconds");
		return -1;
	}
	if (vd)
		len = json_integer_value(vd);
	if (vd || (vs && !ve))
		*end = *start + len; /* a moved start keeps the length */
	if (*end <= *start) {
		http_resp_error(resp, 422, "invalid", "the end must be after the start");
		return -1;
	}
	if (*end - *start > API_RESV_MAX_LEN_S) {
		http_resp_error(resp, 422, "invalid", "a reservation lasts at most 366 days");
		return -1;
	}
	return 0;
}

/* 409 with the nearest windows that would fit. */
static void api_resv_conflict(struct http_resp *resp, const struct api_resv_node *n,
			      const struct cal_busy *busy, size_t nbusy,
			      const struct cal_request *creq, const struct api_resv_want *w,
			      int64_t now)
{
	int64_t horizon = now + API_RESV_DEFAULT_HORIZON_S;
	if (!w->admin && w->have_group && w->group.resv_max_ahead_s >= 0)
		horizon = now + w->group.resv_max_ahead_s;
	struct cal_fit fits[API_RESV_SUGGESTIONS];
	size_t nf =
	    cal_suggest(&n->node, 1, busy, nbusy, creq, now, horizon, fits, API_RESV_SUGGESTIONS);
	json_t *windows = json_array();
	for (size_t i = 0; i < nf; i++) {
		char *idx = api_resv_indices(n->inv, fits[i].gpu_mask);
		json_array_append_new(
		    windows, json_pack("{s:o,s:o,s:s,s:o}", "start", api_time_json(fits[i].start),
				       "end", api_time_json(fits[i].end), "node", n->node.name,
				       "gpu_indices", api_resv_indices_json(idx)));
		free(idx);
	}
	char when[40];
	api_resv_when(creq->start, when, sizeof when);
	char *msg =
	    xasprintf("%d GPU%s%s%s %s not free from %s for that long%s", creq->gpus,
		      creq->gpus == 1 ? "" : "s", w->gpu_model ? " matching " : "",
		      w->gpu_model ? w->gpu_model : "", creq->gpus == 1 ? "is" : "are", when,
		      nf ? "; the nearest free windows are listed"
			 : "; no free window within the booking horizon");
	http_resp_json(resp, 409,
		       json_pack("{s:{s:s,s:s,s:o}}", "error", "code", "conflict", "message", msg,
				 "windows", windows));
	free(msg);
}

/* Inside the transaction: pick the GPUs for r (start/end/gpus set) or
 * answer 422/409. 0, or -1 after answering. */
static int api_resv_place(struct http_req *req, struct http_resp *resp,
			  const struct api_resv_node *n, struct store_reservation *r,
			  const struct store_reservation *skip, const struct api_resv_want *w,
			  int64_t now)
{
	struct cal_busy *busy = NULL;
	size_t nbusy = 0;
	int rc = api_resv_busy(req, n, now, skip, &busy, &nbusy);
	if (rc < 0) {
		http_resp_errno(resp, rc, "reservations");
		return -1;
	}
	struct cal_request creq = {.gpus = w->gpus,
				   .start = w->start,
				   .end = w->end,
				   .node = 0,
				   .gpu_model = w->gpu_model};
	struct cal_fit fit;
	rc = cal_book(&n->node, 1, busy, nbusy, &creq, &fit);
	if (rc == -EINVAL) {
		if (w->gpu_model)
			http_resp_error(
			    resp, 422, "invalid", "node %s has fewer than %d GPU%s matching '%s'",
			    n->node.name, w->gpus, w->gpus == 1 ? "" : "s", w->gpu_model);
		else
			http_resp_error(resp, 422, "invalid", "node %s has %d GPU%s; asked for %d",
					n->node.name, n->node.ngpus, n->node.ngpus == 1 ? "" : "s",
					w->gpus);
	} else if (rc == -EBUSY) {
		api_resv_conflict(resp, n, busy, nbusy, &creq, w, now);
	} else {
		free(r->gpu_indices);
		r->gpu_indices = api_resv_indices(n->inv, fit.gpu_mask);
		r->gpus = w->gpus;
		r->start_time = w->start;
		r->end_time = w->end;
		int64_t ng = n->node.ngpus > 0 ? n->node.ngpus : 1;
		r->cpus = (int)(n->cpus * w->gpus / ng);
		r->mem_mb = n->mem_mb * w->gpus / ng;
	}
	free(busy);
	return rc == 0 ? 0 : -1;
}

/* Commit, or roll back and answer; 0 when committed. */
static int api_resv_commit(struct http_req *req, struct http_resp *resp, const char *what)
{
	int rc = store_commit(req->store);
	if (rc < 0) {
		store_rollback(req->store);
		http_resp_errno(resp, rc, "%s", what);
		return -1;
	}
	return 0;
}

void api_reservations_create(struct http_req *req, struct http_resp *resp)
{
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	json_t *rest = json_copy(body);
	struct store_user owner = {0};
	struct store_reservation r = {.reviewed_at = -1, .released_at = -1, .first_used_at = -1};
	struct api_resv_want w = {.admin = req->who.admin};
	struct api_resv_node n;
	int64_t now = time(NULL);
	json_object_del(rest, "start");
	json_object_del(rest, "end");
	if (fields_check(rest, api_resv_create_fields, FIELDS_COUNT(api_resv_create_fields), resp) <
		0 ||
	    api_resv_window(body, resp, &w.start, &w.end, true) < 0)
		goto out;
	w.gpus = (int)json_integer_value(json_object_get(body, "gpus"));
	w.gpu_model = json_string_value(json_object_get(body, "gpu_model"));
	const char *user = json_string_value(json_object_get(body, "user"));
	const char *node = json_string_value(json_object_get(body, "node"));
	const char *note = json_string_value(json_object_get(body, "note"));
	if (user && strcmp(user, req->who.username) != 0 && !req->who.admin) {
		http_resp_error(resp, 403, "forbidden", "only admins book for someone else");
		goto out;
	}
	int rc = user ? store_user_get(req->store, user, &owner)
		      : store_user_get_by_id(req->store, req->who.user_id, &owner);
	if (rc == -ENOENT && user) {
		http_resp_error(resp, 422, "invalid", "no user '%s'", user);
		goto out;
	}
	if (rc < 0 || (rc = api_resv_group(req->store, &owner, &w.group, &w.have_group)) < 0) {
		http_resp_errno(resp, rc, "account of %s", user ? user : req->who.username);
		goto out;
	}
	if (w.start < now - API_RESV_PAST_GRACE_S) {
		http_resp_error(resp, 422, "invalid", "the start is in the past; book from now on");
		goto out;
	}
	if (w.start < now) {
		w.start = now;
		if (w.end <= w.start) {
			http_resp_error(resp, 422, "invalid", "the end must be after now");
			goto out;
		}
	}
	api_resv_node(req, &n);
	if (node && strcmp(node, n.node.name) != 0) {
		http_resp_error(resp, 422, "invalid", "no node '%s' (this cluster has %s)", node,
				n.node.name);
		goto out;
	}
	if (!w.admin && w.have_group &&
	    api_resv_limits(resp, &w.group, w.gpus, w.start, w.end, now) < 0)
		goto out;

	r.user_id = owner.id;
	r.username = xstrdup(owner.username);
	r.group_name = xstrdup(w.have_group ? w.group.name : "");
	r.node = xstrdup(n.node.name);
	r.gpu_model = w.gpu_model ? xstrdup(w.gpu_model) : NULL;
	r.note = xstrdup(note ? note : "");
	r.state =
	    xstrdup(!w.admin && w.have_group && w.group.resv_approval ? "pending" : "approved");
	if ((rc = store_begin(req->store)) < 0) {
		http_resp_errno(resp, rc, "reservation");
		goto out;
	}
	if ((!w.admin && w.have_group &&
	     api_resv_active_limit(req, resp, &w.group, owner.id, now) < 0) ||
	    api_resv_place(req, resp, &n, &r, NULL, &w, now) < 0) {
		store_rollback(req->store);
		goto out;
	}
	if ((rc = store_reservation_insert(req->store, &r)) < 0) {
		store_rollback(req->store);
		http_resp_errno(resp, rc, "reservation");
		goto out;
	}
	if (api_resv_commit(req, resp, "reservation") < 0)
		goto out;
	log_info("reservation %lld: %d GPU%s (%s) on %s for %s, %s, booked by %s", (long long)r.id,
		 r.gpus, r.gpus == 1 ? "" : "s", r.gpu_indices, r.node, r.username, r.state,
		 req->who.username);
	scheduler_kick(req->srv);
	http_resp_json(resp, 201, api_resv_json(req, &r, now));
out:
	store_reservation_clear(&r);
	store_user_clear(&owner);
	store_group_clear(&w.group);
	json_decref(rest);
	json_decref(body);
}

/* ---- reading ------------------------------------------------------------- */

static bool api_resv_state_valid(const char *s, size_t n)
{
	static const char *const states[] = {"pending", "approved", "rejected", "cancelled",
					     "released"};
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
		if (strlen(states[i]) == n && strncmp(states[i], s, n) == 0)
			return true;
	return false;
}

void api_reservations_list(struct http_req *req, struct http_resp *resp)
{
	int64_t now = time(NULL), from = now - 86400, to = now + 14 * 86400;
	const char *qfrom = http_req_query(req, "from"), *qto = http_req_query(req, "to");
	const char *node = http_req_query(req, "node"), *mine = http_req_query(req, "mine");
	const char *states = http_req_query(req, "state");
	if ((qfrom && api_resv_time_text(qfrom, &from) < 0) ||
	    (qto && api_resv_time_text(qto, &to) < 0)) {
		http_resp_error(resp, 400, "invalid",
				"'from' and 'to' must be RFC 3339 times or Unix seconds");
		return;
	}
	if (to <= from || to - from > API_RESV_LIST_MAX_S) {
		http_resp_error(resp, 400, "invalid",
				"'to' must be after 'from', and at most 400 days after it");
		return;
	}
	if (!states || !*states)
		states = "pending,approved,released";
	for (const char *p = states; *p;) {
		size_t len = strcspn(p, ",");
		if (!api_resv_state_valid(p, len)) {
			http_resp_error(resp, 400, "invalid",
					"'state' is a comma list of pending, approved, rejected, "
					"cancelled, released");
			return;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	bool only_mine = mine && (strcmp(mine, "1") == 0 || strcmp(mine, "true") == 0);
	struct store_reservation *rs;
	size_t n;
	int rc = store_reservations_list(req->store, from, to, states,
					 only_mine ? req->who.user_id : -1, node, &rs, &n);
	if (rc < 0) {
		http_resp_errno(resp, rc, "reservations");
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, api_resv_json(req, &rs[i], now));
	store_reservations_free(rs, n);
	http_resp_json(resp, 200, json_pack("{s:o}", "reservations", arr));
}

/* Load the reservation named by the path's {id}; 0, or -1 after answering. */
static int api_resv_load(struct http_req *req, struct http_resp *resp, struct store_reservation *r)
{
	char *end;
	long long id = strtoll(req->params[0], &end, 10);
	if (*end || id <= 0) {
		http_resp_error(resp, 404, "not_found", "reservation %s not found", req->params[0]);
		return -1;
	}
	int rc = store_reservation_get(req->store, id, r);
	if (rc < 0) {
		http_resp_errno(resp, rc, "reservation %lld", id);
		return -1;
	}
	return 0;
}

void api_reservations_get(struct http_req *req, struct http_resp *resp)
{
	struct store_reservation r = {0};
	if (api_resv_load(req, resp, &r) < 0)
		return;
	http_resp_json(resp, 200, api_resv_json(req, &r, time(NULL)));
	store_reservation_clear(&r);
}

/* ---- changes ------------------------------------------------------------- */

/* Owner or admin, and the reservation still live: 0, or -1 after answering. */
static int api_resv_may_change(struct http_req *req, struct http_resp *resp,
			       const struct store_reservation *r, int64_t now, const char *verb)
{
	if (!api_resv_mine(req, r) && !req->who.admin) {
		http_resp_error(resp, 403, "forbidden",
				"reservation %lld is %s's; only they or an admin may %s it",
				(long long)r->id, r->username, verb);
		return -1;
	}
	const char *phase = api_resv_phase(r, now);
	if (!phase || strcmp(phase, "ended") == 0) {
		http_resp_error(resp, 409, "conflict", "reservation %lld is %s; it cannot be %s",
				(long long)r->id, phase ? "over" : r->state,
				strcmp(verb, "cancel") == 0 ? "cancelled" : "changed");
		return -1;
	}
	return 0;
}

/* Load, check and lock for a change; 0, or -1 after answering (no
 * transaction open then). The reservation is read again inside the
 * transaction so a concurrent change is seen. */
static int api_resv_begin_change(struct http_req *req, struct http_resp *resp,
				 struct store_reservation *r, int64_t now, const char *verb)
{
	struct store_reservation first = {0};
	if (api_resv_load(req, resp, &first) < 0)
		return -1;
	int64_t id = first.id;
	store_reservation_clear(&first);
	int rc = store_begin(req->store);
	if (rc < 0) {
		http_resp_errno(resp, rc, "reservation %lld", (long long)id);
		return -1;
	}
	if ((rc = store_reservation_get(req->store, id, r)) < 0) {
		store_rollback(req->store);
		http_resp_errno(resp, rc, "reservation %lld", (long long)id);
		return -1;
	}
	if (api_resv_may_change(req, resp, r, now, verb) < 0) {
		store_rollback(req->store);
		store_reservation_clear(r);
		return -1;
	}
	return 0;
}

void api_reservations_update(struct http_req *req, struct http_resp *resp)
{
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	json_t *rest = json_copy(body);
	struct store_reservation r = {0};
	struct store_user owner = {0};
	struct api_resv_want w = {.admin = req->who.admin};
	struct api_resv_node n;
	bool open = false;
	int64_t now = time(NULL);
	json_object_del(rest, "start");
	json_object_del(rest, "end");
	if (fields_check(rest, api_resv_update_fields, FIELDS_COUNT(api_resv_update_fields), resp) <
		0 ||
	    fields_require_some(body, resp) < 0)
		goto out;
	if (api_resv_begin_change(req, resp, &r, now, "change") < 0)
		goto out;
	open = true;
	w.start = r.start_time;
	w.end = r.end_time;
	w.gpus = r.gpus;
	w.gpu_model = r.gpu_model;
	if (api_resv_window(body, resp, &w.start, &w.end, false) < 0)
		goto out;
	json_t *vg = json_object_get(body, "gpus");
	if (vg)
		w.gpus = (int)json_integer_value(vg);
	bool active = now >= r.start_time;
	bool moved = w.start != r.start_time || w.end != r.end_time || w.gpus != r.gpus;
	if (active && w.start != r.start_time) {
		http_resp_error(
		    resp, 422, "invalid",
		    "reservation %lld has begun; its start cannot move (change its end)",
		    (long long)r.id);
		goto out;
	}
	if (!active && w.start < now - API_RESV_PAST_GRACE_S) {
		http_resp_error(resp, 422, "invalid", "the start is in the past; book from now on");
		goto out;
	}
	if (!active && w.start < now)
		w.start = now;
	if (w.end <= now) {
		http_resp_error(resp, 422, "invalid", "the end must be after now");
		goto out;
	}
	if (moved) {
		int rc = store_user_get_by_id(req->store, r.user_id, &owner);
		if (rc == 0)
			rc = api_resv_group(req->store, &owner, &w.group, &w.have_group);
		if (rc < 0 && rc != -ENOENT) {
			http_resp_errno(resp, rc, "account of %s", r.username);
			goto out;
		}
		/* An active one is measured from its (fixed) start, so its
		 * "how far ahead" is never held against it. */
		if (!w.admin && w.have_group &&
		    api_resv_limits(resp, &w.group, w.gpus, w.start, w.end,
				    active ? w.start : now) < 0)
			goto out;
		api_resv_node(req, &n);
		if (strcmp(r.node, n.node.name) != 0) {
			http_resp_error(
			    resp, 409, "conflict",
			    "reservation %lld is on node %s, which this server no longer "
			    "has; book again",
			    (long long)r.id, r.node);
			goto out;
		}
		if (api_resv_place(req, resp, &n, &r, &r, &w, now) < 0)
			goto out;
		/* In an approval group a new time or size needs a new yes. */
		if (!w.admin && w.have_group && w.group.resv_approval &&
		    strcmp(r.state, "pending") != 0) {
			free(r.state);
			r.state = xstrdup("pending");
			free(r.review_note);
			free(r.reviewed_by);
			r.review_note = r.reviewed_by = NULL;
			r.reviewed_at = -1;
		}
	}
	json_t *vn = json_object_get(body, "note");
	if (vn) {
		free(r.note);
		r.note = xstrdup(json_string_value(vn));
	}
	int rc = store_reservation_update(req->store, &r);
	if (rc < 0) {
		http_resp_errno(resp, rc, "reservation %lld", (long long)r.id);
		goto out;
	}
	open = false;
	if (api_resv_commit(req, resp, "reservation") < 0)
		goto out;
	log_info("reservation %lld changed by %s", (long long)r.id, req->who.username);
	scheduler_kick(req->srv);
	http_resp_json(resp, 200, api_resv_json(req, &r, now));
out:
	if (open)
		store_rollback(req->store);
	store_reservation_clear(&r);
	store_user_clear(&owner);
	store_group_clear(&w.group);
	json_decref(rest);
	json_decref(body);
}

void api_reservations_cancel(struct http_req *req, struct http_resp *resp)
{
	struct store_reservation r = {0};
	int64_t now = time(NULL);
	if (api_resv_begin_change(req, resp, &r, now, "cancel") < 0)
		return;
	free(r.state);
	r.state = xstrdup("cancelled");
	int rc = store_reservation_update(req->store, &r);
	if (rc < 0) {
		store_rollback(req->store);
		http_resp_errno(resp, rc, "reservation %lld", (long long)r.id);
		goto out;
	}
	if (api_resv_commit(req, resp, "reservation") < 0)
		goto out;
	log_info("reservation %lld cancelled by %s", (long long)r.id, req->who.username);
	scheduler_kick(req->srv);
	http_resp_json(resp, 200, api_resv_json(req, &r, now));
out:
	store_reservation_clear(&r);
}

/* Approve or reject a pending reservation and tell its owner. The body
 * ({"note"}) is optional. */
static void api_resv_review(struct http_req *req, struct http_resp *resp, bool approve)
{
	json_t *body = req->body_len == 0 ? json_object() : http_req_json(req, resp);
	if (!body)
		return;
	struct store_reservation r = {0};
	int64_t now = time(NULL);
	const char *verb = approve ? "approved" : "rejected";
	if (fields_check(body, api_resv_review_fields, FIELDS_COUNT(api_resv_review_fields), resp) <
	    0)
		goto out;
	if (api_resv_begin_change(req, resp, &r, now, approve ? "approve" : "reject") < 0)
		goto out;
	if (strcmp(r.state, "pending") != 0) {
		store_rollback(req->store);
		http_resp_error(resp, 409, "conflict",
				"reservation %lld is %s, not pending; only a pending one can be %s",
				(long long)r.id, r.state, verb);
		goto out;
	}
	const char *note = json_string_value(json_object_get(body, "note"));
	free(r.state);
	r.state = xstrdup(verb);
	r.review_note = note && *note ? xstrdup(note) : NULL;
	r.reviewed_by = xstrdup(req->who.username);
	r.reviewed_at = now;
	char from[40], to[40];
	api_resv_when(r.start_time, from, sizeof from);
	api_resv_when(r.end_time, to, sizeof to);
	char *text = xasprintf("Your reservation %lld (%d GPU%s on %s, %s to %s) was %s by %s%s%s",
			       (long long)r.id, r.gpus, r.gpus == 1 ? "" : "s", r.node, from, to,
			       verb, req->who.username, r.review_note ? ": " : ".",
			       r.review_note ? r.review_note : "");
	char *link = xasprintf("/calendar?r=%lld", (long long)r.id);
	int rc = store_reservation_update(req->store, &r);
	if (rc == 0)
		rc = store_notify(req->store, r.user_id,
				  approve ? "reservation_approved" : "reservation_rejected", text,
				  link, now);
	free(text);
	free(link);
	if (rc < 0) {
		store_rollback(req->store);
		http_resp_errno(resp, rc, "reservation %lld", (long long)r.id);
		goto out;
	}
	if (api_resv_commit(req, resp, "reservation") < 0)
		goto out;
	log_info("reservation %lld %s by %s", (long long)r.id, verb, req->who.username);
	scheduler_kick(req->srv);
	http_resp_json(resp, 200, api_resv_json(req, &r, now));
out:
	store_reservation_clear(&r);
	json_decref(body);
}

void api_reservations_approve(struct http_req *req, struct http_resp *resp)
{
	api_resv_review(req, resp, true);
}

void api_reservations_reject(struct http_req *req, struct http_resp *resp)
{
	api_resv_review(req, resp, false);
}
