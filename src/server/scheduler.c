/*
 * server/scheduler — the job loop (see scheduler.h): store + policy +
 * executor. Runs on its own thread with its own store connection.
 */
#include "server/scheduler.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "exec/executor.h"
#include "exec/inventory.h"
#include "lib/fsio.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "sched/explain.h"
#include "sched/fairshare.h"
#include "sched/policy.h"
#include "server/http.h"
#include "server/jobenv.h"
#include "server/server.h"
#include "server/sessionmon.h"
#include "store/db.h"
#include "store/groups.h"
#include "store/jobs.h"
#include "store/reservations.h"
#include "store/users.h"

enum {
	SCHEDULER_TICK_MS = 1000,
	SCHEDULER_PRIORITY_EPSILON = 1,
	SCHEDULER_LAUNCH_BATCH = 32,
	SCHEDULER_ENDED_MAX = 1024,
};

struct scheduler {
	struct server *srv;
	pthread_t thread;
	int kick_fd;   /* eventfd: a pass is wanted */
	int notify_fd; /* AF_UNIX datagrams from supervisors; -1 without */
	char *notify_path;
	atomic_bool stop;
	struct store *st;
	struct fairshare_weights fw;
	struct sched_params sp;
	/* Jobs whose supervisors said "ended ID" since the last pass. Only
	 * those are looked at, except in a sweep of every running job once a
	 * second (a lost datagram, a supervisor killed before it could say
	 * anything) and when too many piled up to keep. */
	int64_t ended[SCHEDULER_ENDED_MAX];
	size_t nended;
	bool sweep;
	int64_t last_sweep;
	/* The GPUs each pending job's slot had in the last plan, by job id
	 * (sorted): handed back to the policy so that plans stay stable and a
	 * job starts on the GPUs it was promised. */
	struct scheduler_promise *promised;
	size_t npromised;
	int64_t last_release_check;
};

struct scheduler_promise {
	int64_t job_id;
	uint64_t mask;
};

char *scheduler_job_dir(const struct server *srv, int64_t job_id)
{
	return xasprintf("%s/jobs/%lld", srv->cfg->data_dir, (long long)job_id);
}

void scheduler_kick(struct server *srv)
{
	uint64_t one = 1;
	if (srv->sched && write(srv->sched->kick_fd, &one, sizeof one) < 0 && errno != EAGAIN)
		log_warn("scheduler: eventfd write failed: %s", strerror(errno));
}

/* ---- ends ------------------------------------------------------------ */

static const char *scheduler_end_state(const struct exec_status *es)
{
	if (es->state == EXEC_LOST)
		return "lost";
	if (es->cancelled)
		return "cancelled";
	if (es->timeout)
		return "timeout";
	if (es->oom)
		return "oom";
	return es->signal == 0 && es->exit_code == 0 ? "completed" : "failed";
}

static void scheduler_charge(struct scheduler *s, const struct store_job *j, int64_t end,
			     int64_t now)
{
	double usage;
	int64_t updated;
	if (j->start_time < 0 || store_usage_get(s->st, j->user_id, &usage, &updated) < 0)
		return;
	double billing = fairshare_billing(&s->fw, j->cpus, j->gpus);
	usage = fairshare_decay(&s->fw, usage, updated ? now - updated : 0) +
		fairshare_accrue(&s->fw, billing, j->start_time, end > j->start_time ? end : j->start_time, now);
	if (store_usage_put(s->st, j->user_id, usage, now) < 0)
		log_warn("scheduler: could not record usage of job %lld", (long long)j->id);
}

static bool scheduler_said_ended(const struct scheduler *s, int64_t id)
{
	for (size_t i = 0; i < s->nended; i++)
		if (s->ended[i] == id)
			return true;
	return false;
}

/* Record running jobs whose supervisors have finished (those that said so,
 * or all of them in a sweep); returns how many. */
static int scheduler_collect_ends(struct scheduler *s, struct store_job *jobs, size_t n, int64_t now)
{
	int ended = 0;
	bool in_tx = false, session_ended = false;
	bool sweep = s->sweep || now != s->last_sweep;
	if (sweep) {
		s->sweep = false;
		s->last_sweep = now;
	}
	for (size_t i = 0; i < n; i++) {
		struct store_job *j = &jobs[i];
		if (strcmp(j->state, "running") != 0 || (!sweep && !scheduler_said_ended(s, j->id)))
			continue;
		char *dir = scheduler_job_dir(s->srv, j->id);
		struct exec_status es;
		int rc = exec_local_status(dir, &es);
		free(dir);
		if (rc < 0 || es.state == EXEC_RUNNING)
			continue;
		if (!in_tx && store_begin(s->st) < 0)
			return ended;
		in_tx = true;
		const char *state = scheduler_end_state(&es);
		int64_t end = es.state == EXEC_LOST || es.end_time <= 0 ? now : es.end_time;
		if (store_job_end(s->st, j->id, state, NULL, end, es.state == EXEC_LOST ? -1 : es.exit_code,
				  es.state == EXEC_LOST ? 0 : es.signal, es.cpu_seconds, es.max_rss_kb) == 0)
			scheduler_charge(s, j, end, now);
		log_info("job %lld ended: %s (exit %d, signal %d)", (long long)j->id, state, es.exit_code,
			 es.signal);
		if (j->kind && strcmp(j->kind, "session") == 0)
			session_ended = true;
		free(j->state);
		j->state = xstrdup(state);
		ended++;
	}
	if (in_tx && store_commit(s->st) < 0) {
		store_rollback(s->st);
		s->sweep = true; /* try them all again next pass */
		return 0;
	}
	/* A session's end reason is the monitor's to record: now, not at
	 * its next check. */
	if (session_ended)
		sessionmon_kick(s->srv);
	s->nended = 0;
	return ended;
}

/* ---- plan ------------------------------------------------------------ */

struct scheduler_plan {
	struct sched_job *running, *pending;
	size_t nrunning, npending;
	struct store_job **pending_rows; /* pending[i] came from pending_rows[i] */
	int64_t **afters;
	struct sched_user *users;
	size_t nusers;
	struct sched_group *groups;
	size_t ngroups;
	struct store_group *group_rows;
	struct sched_node node;
	struct sched_reservation *resvs;
	struct store_reservation *resv_rows; /* resvs[i] came from resv_rows[i] */
	size_t nresvs;
};

static void scheduler_plan_free(struct scheduler_plan *p)
{
	for (size_t i = 0; i < p->npending; i++)
		free(p->afters[i]);
	free(p->afters);
	free(p->running);
	free(p->pending);
	free(p->pending_rows);
	free(p->users);
	free(p->groups);
	store_groups_free(p->group_rows, p->ngroups);
	free(p->resvs);
	store_reservations_free(p->resv_rows, p->nresvs);
}

static int64_t *scheduler_parse_after(const char *json, size_t *n)
{
	json_t *arr = json_loads(json ? json : "[]", 0, NULL);
	*n = json_is_array(arr) ? json_array_size(arr) : 0;
	int64_t *ids = *n ? xcalloc(*n, sizeof *ids) : NULL;
	for (size_t i = 0; i < *n; i++)
		ids[i] = json_integer_value(json_array_get(arr, i));
	json_decref(arr);
	return ids;
}

void scheduler_job_to_sched(const struct server *srv, const struct store_job *j,
			    struct sched_job *sj)
{
	memset(sj, 0, sizeof *sj);
	sj->id = j->id;
	sj->user_id = j->user_id;
	sj->cpus = j->cpus;
	sj->mem_mb = j->mem_mb;
	sj->gpus = j->gpus;
	sj->walltime_s = j->walltime_s;
	sj->submit_time = j->submit_time;
	sj->held = j->hold;
	sj->array_id = j->array_id > 0 ? j->array_id : 0;
	sj->array_limit = j->array_limit;
	sj->node = 0;
	sj->start_time = j->start_time;
	sj->gpu_mask = jobenv_gpu_mask(&srv->inv, j->alloc_gpus);
	sj->resv_id = j->reservation_id > 0 ? j->reservation_id : 0;
	sj->resv_req = j->reservation_req > 0 ? j->reservation_req : 0;
}

static enum sched_dep scheduler_dep_state(void *ctx, int64_t id)
{
	struct scheduler *s = ctx;
	const char *state;
	if (store_job_state(s->st, id, &state) < 0)
		return SCHED_DEP_UNKNOWN;
	if (strcmp(state, "pending") == 0 || strcmp(state, "running") == 0)
		return SCHED_DEP_WAITING;
	return strcmp(state, "completed") == 0 ? SCHED_DEP_OK : SCHED_DEP_FAILED;
}

int scheduler_users(const struct server *srv, struct store *st, int64_t now,
		    const struct sched_job *running, size_t nrunning, struct sched_user **out,
		    size_t *n)
{
	struct fairshare_weights fw;
	scheduler_weights(srv->cfg, &fw);
	int64_t *uids = NULL, *gids = NULL, *usage_ids = NULL, *usage_at = NULL;
	double *usage = NULL;
	size_t nu = 0, nusage = 0;
	int rc = store_users_primary(st, &uids, &gids, &nu);
	if (rc == 0)
		rc = store_usage_all(st, &usage_ids, &usage, &usage_at, &nusage);
	if (rc < 0)
		goto out;
	struct sched_user *users = xcalloc(nu ? nu : 1, sizeof *users);
	for (size_t i = 0, k = 0; i < nu; i++) {
		users[i].id = uids[i];
		users[i].group_id = gids[i];
		while (k < nusage && usage_ids[k] < uids[i])
			k++;
		if (k < nusage && usage_ids[k] == uids[i])
			users[i].usage = fairshare_decay(&fw, usage[k], now - usage_at[k]);
		/* Running jobs count from their start, so a long job weighs on
		 * its owner's priority while it runs, not only once it ends. */
		for (size_t r = 0; r < nrunning; r++)
			if (running[r].user_id == uids[i] && running[r].start_time >= 0)
				users[i].usage += fairshare_accrue(
					&fw, fairshare_billing(&fw, running[r].cpus, running[r].gpus),
					running[r].start_time, now, now);
	}
	*out = users;
	*n = nu;
out:
	free(uids), free(gids), free(usage_ids), free(usage), free(usage_at);
	return rc;
}

static int scheduler_load_accounts(struct scheduler *s, struct scheduler_plan *p, int64_t now)
{
	int rc = scheduler_users(s->srv, s->st, now, p->running, p->nrunning, &p->users, &p->nusers);
	if (rc == 0)
		rc = store_groups_list(s->st, &p->group_rows, &p->ngroups);
	if (rc < 0)
		return rc;
	p->groups = xcalloc(p->ngroups ? p->ngroups : 1, sizeof *p->groups);
	for (size_t i = 0; i < p->ngroups; i++) {
		const struct store_group *g = &p->group_rows[i];
		p->groups[i] = (struct sched_group){ .id = g->id, .weight = g->fairshare_weight,
						     .max_gpus = g->max_gpus, .max_cpus = g->max_cpus,
						     .max_jobs = g->max_jobs };
	}
	return 0;
}

static int scheduler_promise_cmp(const void *a, const void *b)
{
	const struct scheduler_promise *x = a, *y = b;
	return x->job_id < y->job_id ? -1 : x->job_id > y->job_id;
}

static uint64_t scheduler_promised(const struct scheduler *s, int64_t job_id)
{
	struct scheduler_promise key = { job_id, 0 };
	if (s->npromised == 0)
		return 0;
	const struct scheduler_promise *f =
		bsearch(&key, s->promised, s->npromised, sizeof key, scheduler_promise_cmp);
	return f ? f->mask : 0;
}

/* Keep the GPUs of every booked slot of this plan for the next one. */
static void scheduler_promise(struct scheduler *s, const struct scheduler_plan *p,
			      const struct sched_decision *d)
{
	free(s->promised);
	s->promised = xcalloc(p->npending ? p->npending : 1, sizeof *s->promised);
	s->npromised = 0;
	for (size_t i = 0; i < p->npending; i++)
		if (d[i].action == SCHED_WAIT && d[i].gpu_mask)
			s->promised[s->npromised++] =
				(struct scheduler_promise){ d[i].job_id, d[i].gpu_mask };
	qsort(s->promised, s->npromised, sizeof *s->promised, scheduler_promise_cmp);
}

/* Reservations that are not over: approved ones are enforced, pending
 * ones are known so that jobs asking for them wait with the right words. */
static int scheduler_load_reservations(struct scheduler *s, struct scheduler_plan *p, int64_t now)
{
	int rc = store_reservations_list(s->st, now + 1, INT64_MAX, "pending,approved", -1, NULL,
					 &p->resv_rows, &p->nresvs);
	if (rc < 0)
		return rc;
	p->resvs = xcalloc(p->nresvs ? p->nresvs : 1, sizeof *p->resvs);
	for (size_t i = 0; i < p->nresvs; i++) {
		const struct store_reservation *r = &p->resv_rows[i];
		p->resvs[i] = (struct sched_reservation){
			.id = r->id, .user_id = r->user_id,
			.node = strcmp(r->node, s->srv->inv.hostname) == 0 ? 0 : -1,
			.gpu_mask = jobenv_gpu_mask(&s->srv->inv, r->gpu_indices),
			.cpus = r->cpus, .mem_mb = r->mem_mb, .start = r->start_time,
			.end = r->end_time, .approved = strcmp(r->state, "approved") == 0,
		};
	}
	return 0;
}

static int scheduler_build(struct scheduler *s, struct store_job *jobs, size_t n,
			   struct scheduler_plan *p, int64_t now)
{
	memset(p, 0, sizeof *p);
	p->running = xcalloc(n ? n : 1, sizeof *p->running);
	p->pending = xcalloc(n ? n : 1, sizeof *p->pending);
	p->pending_rows = xcalloc(n ? n : 1, sizeof *p->pending_rows);
	p->afters = xcalloc(n ? n : 1, sizeof *p->afters);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(jobs[i].state, "running") == 0) {
			scheduler_job_to_sched(s->srv, &jobs[i], &p->running[p->nrunning++]);
		} else if (strcmp(jobs[i].state, "pending") == 0) {
			struct sched_job *sj = &p->pending[p->npending];
			scheduler_job_to_sched(s->srv, &jobs[i], sj);
			p->afters[p->npending] = scheduler_parse_after(jobs[i].after, &sj->nafter);
			sj->after = p->afters[p->npending];
			p->pending_rows[p->npending++] = &jobs[i];
		}
	}
	for (size_t i = 0; i < p->npending; i++)
		p->pending[i].plan_mask = scheduler_promised(s, p->pending[i].id);
	const struct inventory *inv = &s->srv->inv;
	p->node = (struct sched_node){ .name = inv->hostname, .cpus = inv->cpus * (int)s->srv->cfg->oversubscribe, .mem_mb = inv->mem_mb,
				       .ngpus = inv->ngpus };
	int rc = scheduler_load_reservations(s, p, now);
	return rc < 0 ? rc : scheduler_load_accounts(s, p, now);
}

/* ---- starting -------------------------------------------------------- */

static void scheduler_start_failed(struct scheduler *s, const struct store_job *j, const char *dir,
				   const char *why)
{
	log_warn("job %lld could not start: %s", (long long)j->id, why);
	char *path = xasprintf("%s/stderr", dir);
	char *line = xasprintf("kaon: job %lld could not start: %s\n", (long long)j->id, why);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd >= 0) {
		(void)fsio_write_all(fd, line, strlen(line));
		close(fd);
	}
	free(line);
	free(path);
	/* The executor may already have written a status (exec failure): the
	 * next pass records it. Otherwise record the failure now. */
	struct exec_status es;
	if (exec_local_status(dir, &es) == 0 && es.state == EXEC_ENDED)
		return;
	if (store_job_end(s->st, j->id, "failed", "start_failed", time(NULL), -1, 0, 0, -1) < 0)
		log_error("scheduler: could not record the failure of job %lld", (long long)j->id);
}

/* One start of a pass, between its fork and its report. */
struct scheduler_launch {
	const struct store_job *job;
	struct exec_start *start; /* NULL: failed before the fork */
	char *cause;
	char gpus[sizeof((struct jobenv *)0)->gpu_list];
};

/* Prepare and fork; the report is read by scheduler_launch_finish. */
static void scheduler_launch_begin(struct scheduler *s, struct scheduler_launch *l,
				   const struct store_job *j, uint64_t gpu_mask)
{
	char *dir = scheduler_job_dir(s->srv, j->id);
	struct jobenv env;
	struct store_job full = { 0 };
	*l = (struct scheduler_launch){ .job = j };
	/* The plan was made from brief rows; a start needs the whole job. */
	int rc = store_job_get(s->st, j->id, &full);
	if (rc < 0)
		l->cause = xasprintf("cannot read job %lld from the store", (long long)j->id);
	if (rc == 0)
		rc = jobenv_prepare(s->srv, s->st, &full, dir, gpu_mask, &env, &l->cause);
	if (rc == 0) {
		snprintf(l->gpus, sizeof l->gpus, "%s", env.gpu_list);
		rc = exec_local_begin(&env.job, &l->start, &l->cause);
		jobenv_clear(&env);
	}
	if (rc < 0)
		scheduler_start_failed(s, j, dir, l->cause ? l->cause : "unknown error");
	store_job_clear(&full);
	free(dir);
}

static void scheduler_launch_finish(struct scheduler *s, struct scheduler_launch *l)
{
	const struct store_job *j = l->job;
	if (l->start) {
		if (exec_local_finish(l->start, &l->cause) < 0) {
			char *dir = scheduler_job_dir(s->srv, j->id);
			scheduler_start_failed(s, j, dir, l->cause ? l->cause : "unknown error");
			free(dir);
		} else {
			log_info("job %lld started for %s (%d cpus, %lld MiB, gpus [%s])",
				 (long long)j->id, j->username, j->cpus, (long long)j->mem_mb,
				 l->gpus);
			/* A session's backend is probed from its start on. */
			if (j->kind && strcmp(j->kind, "session") == 0)
				sessionmon_kick(s->srv);
		}
	}
	free(l->cause);
}

/* A reservation of the plan by id, or NULL. */
static const struct store_reservation *scheduler_resv_row(const struct scheduler_plan *p, int64_t id)
{
	for (size_t i = 0; i < p->nresvs; i++)
		if (p->resv_rows[i].id == id)
			return &p->resv_rows[i];
	return NULL;
}

static const char *scheduler_username(const struct scheduler_plan *p, int64_t user_id)
{
	/* A reservation row carries its owner's name. */
	for (size_t i = 0; i < p->nresvs; i++)
		if (p->resv_rows[i].user_id == user_id)
			return p->resv_rows[i].username;
	return NULL;
}

/* The explanation of a waiting job as stored: words, hints, and the
 * numbers behind them for pages that draw them. New string. */
static char *scheduler_explain_json(const struct scheduler_plan *p, const struct store_job *row,
				    const struct sched_job *j, const struct sched_decision *d,
				    int64_t now)
{
	struct explain_ctx c = { .now = now, .group = row->group_name, .resv_state = -1 };
	if (d->why.resv_id > 0)
		c.resv_owner = scheduler_username(p, d->why.resv_user);
	const struct store_reservation *own = d->resv_id > 0 ? scheduler_resv_row(p, d->resv_id) : NULL;
	if (own) {
		c.resv_start = own->start_time;
		c.resv_end = own->end_time;
		c.resv_state = strcmp(own->state, "approved") == 0 ? 1 : 0;
	}
	struct explain_words w;
	explain_words(d, j, &c, &w);
	json_t *hints = json_array();
	for (int i = 0; i < w.nhints; i++)
		json_array_append_new(hints, json_string(w.hints[i]));
	json_t *o = json_pack("{s:s,s:o}", "text", w.text, "hints", hints);
	if (d->why.next_job > 0) {
		json_object_set_new(o, "next_job", json_integer(d->why.next_job));
		json_object_set_new(o, "next_at", json_integer(d->why.next_at));
	}
	if (d->why.resv_id > 0)
		json_object_set_new(o, "reserved_by", json_integer(d->why.resv_id));
	if (d->resv_id > 0)
		json_object_set_new(o, "reservation", json_integer(d->resv_id));
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return text;
}

static bool scheduler_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Commit one decision; 0, 1 when the job was marked started, or a store
 * error. A job that stopped being pending meanwhile (cancelled or held
 * through the API) is skipped, not an error. */
static int scheduler_apply_one(struct scheduler *s, const struct scheduler_plan *p, size_t i,
			       const struct sched_decision *d, int64_t now)
{
	const struct store_job *j = p->pending_rows[i];
	char gpus[256];
	int rc;
	switch (d->action) {
	case SCHED_START:
		jobenv_gpu_list(&s->srv->inv, d->gpu_mask, gpus, sizeof gpus);
		rc = store_job_start(s->st, j->id, now, s->srv->inv.hostname, gpus,
				     d->resv_id > 0 ? d->resv_id : -1);
		if (rc == 0 && d->resv_id > 0)
			rc = store_reservation_mark_used(s->st, d->resv_id, now);
		return rc == 0 ? 1 : rc == -ENOENT ? 0 : rc;
	case SCHED_CANCEL:
		rc = store_job_cancel_pending(s->st, j->id, sched_reason_name(d->reason), now);
		return rc == -ENOENT ? 0 : rc;
	case SCHED_WAIT:
		break;
	}
	struct store_job_planned plan = {
		.reason = sched_reason_name(d->reason), .priority = d->priority,
		.est_start = d->est_start, .queue_position = d->position > 0 ? d->position : -1,
	};
	char *explain = scheduler_explain_json(p, j, &p->pending[i], d, now);
	plan.explain = explain;
	double dp = j->priority - d->priority;
	if (j->reason && strcmp(j->reason, plan.reason) == 0 && j->est_start == d->est_start &&
	    j->queue_position == plan.queue_position && scheduler_same(j->explain, explain) &&
	    dp < SCHEDULER_PRIORITY_EPSILON && dp > -SCHEDULER_PRIORITY_EPSILON) {
		free(explain);
		return 0; /* unchanged: spare the write */
	}
	rc = store_job_plan(s->st, j->id, &plan);
	free(explain);
	return rc;
}

static void scheduler_apply(struct scheduler *s, struct scheduler_plan *p,
			    const struct sched_decision *d)
{
	if (store_begin(s->st) < 0)
		return;
	int64_t now = time(NULL);
	bool *go = xcalloc(p->npending ? p->npending : 1, sizeof *go);
	int rc = 0;
	for (size_t i = 0; i < p->npending && rc >= 0; i++) {
		rc = scheduler_apply_one(s, p, i, &d[i], now);
		go[i] = rc == 1;
	}
	/* Commit before acting: a start is recorded before its process exists,
	 * so a crash in between shows as a lost job, never a ghost. */
	if (rc < 0 || store_commit(s->st) < 0) {
		store_rollback(s->st);
		log_error("scheduler: could not commit the plan; retrying next pass");
	} else {
		/* Fork a batch of supervisors, then read their reports: the
		 * starts overlap instead of each waiting for the one before.
		 * Batches bound the pipes held open at once. */
		struct scheduler_launch l[SCHEDULER_LAUNCH_BATCH];
		size_t nl = 0;
		for (size_t i = 0; i <= p->npending; i++) {
			if (i < p->npending && go[i])
				scheduler_launch_begin(s, &l[nl++], p->pending_rows[i], d[i].gpu_mask);
			if (nl == SCHEDULER_LAUNCH_BATCH || (i == p->npending && nl > 0)) {
				for (size_t k = 0; k < nl; k++)
					scheduler_launch_finish(s, &l[k]);
				nl = 0;
			}
		}
	}
	free(go);
}

/* ---- reservations ---------------------------------------------------- */

/* Release the reservations that began and that nothing used for
 * [sched] reservation_release_s, and tell their owners in the page:
 * booked GPUs nobody uses go back to the queue. Once a second. */
static void scheduler_release_unused(struct scheduler *s, int64_t now)
{
	int64_t after = s->srv->cfg->reservation_release_s;
	if (after <= 0)
		return;
	struct store_reservation *rs = NULL;
	size_t n = 0;
	if (store_reservations_list(s->st, now - after, now + 1, "approved", -1, NULL, &rs, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct store_reservation *r = &rs[i];
		if (r->end_time <= now ||
		    !sched_resv_should_release(r->start_time, r->first_used_at, now, after))
			continue;
		char dur[48], text[256], link[64];
		explain_duration(after, dur, sizeof dur);
		snprintf(text, sizeof text,
			 "Reservation %lld (%d GPU%s) was released: no job or session used it in "
			 "the %s after it began.", (long long)r->id, r->gpus, r->gpus == 1 ? "" : "s", dur);
		snprintf(link, sizeof link, "/calendar?r=%lld", (long long)r->id);
		char reason[96];
		snprintf(reason, sizeof reason, "unused for %s after it began", dur);
		if (store_begin(s->st) < 0)
			break;
		int rc = store_reservation_release(s->st, r->id, reason, now);
		if (rc == 0)
			rc = store_notify(s->st, r->user_id, "reservation_released", text, link, now);
		if (rc < 0 || store_commit(s->st) < 0) {
			store_rollback(s->st);
			continue;
		}
		log_info("reservation %lld of %s released: unused", (long long)r->id, r->username);
		scheduler_kick(s->srv); /* its GPUs are free for the queue */
	}
	store_reservations_free(rs, n);
}

static void scheduler_pass(struct scheduler *s)
{
	int64_t now = time(NULL);
	struct store_job *jobs = NULL;
	size_t n = 0;
	exec_local_reap();
	if (store_jobs_live(s->st, &jobs, &n) < 0) {
		log_error("scheduler: cannot read the live jobs");
		return;
	}
	if (scheduler_collect_ends(s, jobs, n, now) > 0)
		http_stream_wake(s->srv); /* log followers: send their end events */
	struct scheduler_plan p;
	if (scheduler_build(s, jobs, n, &p, now) == 0 && p.npending > 0) {
		struct sched_input in = {
			.now = now, .params = s->sp, .nodes = &p.node, .nnodes = 1,
			.groups = p.groups, .ngroups = p.ngroups, .users = p.users, .nusers = p.nusers,
			.running = p.running, .nrunning = p.nrunning, .pending = p.pending,
			.npending = p.npending, .dep_state = scheduler_dep_state, .dep_ctx = s,
			.resvs = p.resvs, .nresvs = p.nresvs,
		};
		struct sched_decision *d = xcalloc(p.npending, sizeof *d);
		sched_plan(&in, d);
		scheduler_apply(s, &p, d);
		scheduler_promise(s, &p, d);
		free(d);
	}
	if (now != s->last_release_check) {
		s->last_release_check = now;
		scheduler_release_unused(s, now);
	}
	scheduler_plan_free(&p);
	store_jobs_free(jobs, n);
}

/* ---- thread ---------------------------------------------------------- */

/* Read every "ended ID" datagram waiting on the notify socket. */
static void scheduler_drain(struct scheduler *s)
{
	char buf[64];
	for (;;) {
		ssize_t n = recv(s->notify_fd, buf, sizeof buf - 1, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		buf[n] = '\0';
		char *end;
		long long id = strncmp(buf, "ended ", 6) == 0 ? strtoll(buf + 6, &end, 10) : 0;
		if (id <= 0)
			continue;
		if (s->nended == SCHEDULER_ENDED_MAX)
			s->sweep = true;
		else
			s->ended[s->nended++] = id;
	}
}

static void *scheduler_main(void *arg)
{
	struct scheduler *s = arg;
	int64_t last_checkpoint = 0;
	while (!atomic_load(&s->stop)) {
		scheduler_pass(s);
		/* Request threads never checkpoint (see store/db.h): the log
		 * their writes grow is copied back here, off the request path. */
		int64_t now = time(NULL);
		if (now != last_checkpoint) {
			(void)store_checkpoint(s->st);
			last_checkpoint = now;
		}
		struct pollfd fds[2] = { { .fd = s->kick_fd, .events = POLLIN },
					 { .fd = s->notify_fd, .events = POLLIN } };
		int rc = poll(fds, s->notify_fd >= 0 ? 2 : 1, SCHEDULER_TICK_MS);
		if (rc < 0 && errno != EINTR)
			log_warn("scheduler: poll failed: %s", strerror(errno));
		uint64_t v;
		if (fds[0].revents & POLLIN && read(s->kick_fd, &v, sizeof v) < 0 && errno != EAGAIN)
			log_warn("scheduler: eventfd read failed: %s", strerror(errno));
		if (s->notify_fd >= 0 && fds[1].revents & POLLIN)
			scheduler_drain(s);
	}
	return NULL;
}

static int scheduler_notify_open(struct scheduler *s)
{
	s->notify_path = xasprintf("%s/run/notify.sock", s->srv->cfg->data_dir);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(s->notify_path) >= sizeof sa.sun_path) {
		log_warn("scheduler: %s is too long for a socket; polling job ends every second",
			 s->notify_path);
		free(s->notify_path);
		s->notify_path = NULL;
		return -1;
	}
	char *run = xasprintf("%s/run", s->srv->cfg->data_dir);
	int rc = fsio_mkdir_p(run, 0711);
	free(run);
	memcpy(sa.sun_path, s->notify_path, strlen(s->notify_path) + 1);
	unlink(s->notify_path);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (rc < 0 || fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		log_warn("scheduler: cannot bind %s (%s); polling job ends every second",
			 s->notify_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(s->notify_path);
		s->notify_path = NULL;
		return -1;
	}
	/* Supervisors of jobs run as root (they drop privileges only for the
	 * job itself), so the socket need not be open to users. */
	chmod(s->notify_path, 0600);
	return fd;
}

const char *scheduler_notify_path(const struct server *srv)
{
	return srv->sched ? srv->sched->notify_path : NULL;
}

void scheduler_weights(const struct config *cfg, struct fairshare_weights *fw)
{
	fairshare_weights_default(fw);
	fw->w_cpu = (double)cfg->w_cpu;
	fw->w_gpu = (double)cfg->w_gpu;
	fw->half_life_s = cfg->half_life_s;
}

int scheduler_start(struct server *srv, char **cause)
{
	const struct config *cfg = srv->cfg;
	struct scheduler *s = xcalloc(1, sizeof *s);
	s->srv = srv;
	scheduler_weights(cfg, &s->fw);
	sched_params_default(&s->sp);
	s->sp.w_fairshare = (double)cfg->w_fairshare;
	s->sp.w_age = (double)cfg->w_age;
	s->sp.max_age_s = cfg->max_age_s;
	char *path = xasprintf("%s/kaon.db", cfg->data_dir);
	int rc = store_open(path, &s->st, cause);
	free(path);
	if (rc < 0)
		goto fail;
	s->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->kick_fd < 0) {
		*cause = xasprintf("eventfd() failed: %s", strerror(errno));
		goto fail;
	}
	s->notify_fd = scheduler_notify_open(s);
	srv->sched = s;
	if ((rc = pthread_create(&s->thread, NULL, scheduler_main, s)) != 0) {
		*cause = xasprintf("pthread_create() failed for the scheduler: %s", strerror(rc));
		srv->sched = NULL;
		goto fail;
	}
	return 0;
fail:
	store_close(s->st);
	if (s->kick_fd > 0)
		close(s->kick_fd);
	free(s->notify_path);
	free(s);
	return -1;
}

void scheduler_stop(struct server *srv)
{
	struct scheduler *s = srv->sched;
	if (!s)
		return;
	atomic_store(&s->stop, true);
	scheduler_kick(srv);
	pthread_join(s->thread, NULL);
	srv->sched = NULL;
	close(s->kick_fd);
	if (s->notify_fd >= 0) {
		close(s->notify_fd);
		unlink(s->notify_path);
	}
	free(s->notify_path);
	free(s->promised);
	store_close(s->st);
	free(s);
}

int scheduler_cancel(struct server *srv, struct store *st, int64_t job_id)
{
	const char *state;
	int rc = store_job_state(st, job_id, &state);
	if (rc < 0)
		return rc;
	if (strcmp(state, "pending") == 0) {
		rc = store_job_cancel_pending(st, job_id, NULL, time(NULL));
		if (rc == -ENOENT) /* started meanwhile: cancel it running */
			return scheduler_cancel(srv, st, job_id);
	} else if (strcmp(state, "running") == 0) {
		/* Recorded as running, its directory may not be made yet: make
		 * it, so the cancel's mark has a place (jobenv_prepare takes it
		 * as it finds it). */
		char *dir = scheduler_job_dir(srv, job_id);
		(void)fsio_mkdir_p(dir, 0700);
		rc = exec_local_cancel(dir);
		free(dir);
	} else {
		return -EALREADY;
	}
	scheduler_kick(srv);
	return rc;
}
