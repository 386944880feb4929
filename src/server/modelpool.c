/*
 * server/modelpool — warm predict workers (see modelpool.h).
 *
 * Locking: one mutex per pool guards everything the pool holds, its store
 * connection included (store calls here are short: a model read, a job
 * insert, a state check). Each model has a condition variable its
 * waiting requests sleep on, broadcast whenever a worker becomes idle,
 * starts listening or goes away, and whenever the queue's head changes.
 *
 * A busy worker belongs to the request using it: only that thread touches
 * its connection (the socket I/O, server/modelio.c, happens unlocked, in
 * the caller's thread, polling the worker, the client and the deadline), and only that
 * thread frees it. Others (drain, housekeeping) may only mark it to
 * retire once its request is done.
 *
 * A model entry lives while it is in the pool's list or a request holds
 * it: drain unlinks it and the last request frees it.
 *
 * The housekeeping thread probes starting workers (their job runs and
 * their socket accepts: ready), forgets workers whose job ended, cancels
 * workers idle for idle_s above workers.min or near the end of their wall
 * time, and starts workers up to workers.min.
 */
#include "server/modelpool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "identity/fsident.h"
#include "identity/secret.h"
#include "identity/unixacct.h"
#include "lib/fsio.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "server/modelio.h"
#include "server/modelproto.h"
#include "server/scheduler.h"
#include "server/server.h"
#include "server/sessprobe.h"
#include "store/db.h"
#include "store/groups.h"
#include "store/jobs.h"
#include "store/models.h"
#include "store/users.h"

enum {
	MODELPOOL_TICK_MS = 1000,	  /* housekeeping when nothing is starting */
	MODELPOOL_PROBE_MS = 20,	  /* between probes of a starting worker */
	MODELPOOL_WAIT_SLICE_MS = 50,	  /* a queued request looks at its client this often */
	MODELPOOL_BACKOFF_S = 10,	  /* no new start this long after one failed */
	MODELPOOL_REPLACE_MARGIN_S = 300, /* retire a worker this long before its wall time */
	MODELPOOL_LINE_SLACK = 64 * 1024, /* JSON around the largest answer allowed */
	MODELPOOL_EAGER_MS = 5000,	  /* probe a just-queued worker's job this long */
};

enum modelpool_state { MODELPOOL_STARTING, MODELPOOL_IDLE, MODELPOOL_BUSY };

struct modelpool_worker {
	struct modelpool_worker *next;
	int64_t job_id;
	char *socket;
	enum modelpool_state state;
	int fd;		       /* the persistent connection, -1 none */
	int64_t idle_since_ms; /* monotonic */
	int64_t created_ms;    /* monotonic: queued or adopted */
	int64_t ends_at;       /* wall clock: its wall time runs out; 0 none or not known yet */
	bool retire;	       /* cancel it when its request is done */
};

struct modelpool_waiter {
	struct modelpool_waiter *next;
};

struct modelpool_model {
	struct modelpool_model *next;
	char *name, *dir;
	int64_t owner_id;
	bool have_owner;
	struct fsident owner;
	struct modelproto_limits lim;
	struct modelpool_worker *workers;
	struct modelpool_waiter *waiters; /* oldest first */
	int nwaiting;
	pthread_cond_t cond;
	int64_t start_failed_at; /* wall clock, 0 never */
	char *start_failure;
	int64_t avg_ms; /* of recent predictions, for Retry-After */
	int users;	/* requests holding this entry */
	bool drained;	/* unlinked: freed by the last user */
};

struct modelpool {
	struct server *srv;
	pthread_mutex_t lock;
	pthread_cond_t quiet; /* inflight reached 0 */
	struct modelpool_model *models;
	struct store *st;
	pthread_t thread;
	bool thread_started;
	int kick_fd; /* eventfd: look again soon */
	int stop_fd; /* eventfd, readable for good once stopping */
	bool stopping;
	int inflight;
};

static void modelpool_kick(struct modelpool *p)
{
	uint64_t one = 1;
	if (write(p->kick_fd, &one, sizeof one) < 0 && errno != EAGAIN)
		log_warn("modelpool: eventfd write failed: %s", strerror(errno));
}

static void modelpool_fill_error(struct modelpool_response *out, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void modelpool_fill_error(struct modelpool_response *out, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	free(out->body);
	free(out->content_type);
	out->status = status;
	out->body = modelproto_error_body(status, msg, &out->len);
	out->content_type = xstrdup("application/json");
	free(msg);
}

void modelpool_response_clear(struct modelpool_response *r)
{
	free(r->content_type);
	free(r->body);
	memset(r, 0, sizeof *r);
}

/* ---- models ----------------------------------------------------------------- */

static void modelpool_model_free(struct modelpool_model *m)
{
	pthread_cond_destroy(&m->cond);
	free(m->name);
	free(m->dir);
	free(m->start_failure);
	free(m);
}

static struct modelpool_model *modelpool_model_find(struct modelpool *p, const char *name)
{
	for (struct modelpool_model *m = p->models; m; m = m->next)
		if (strcmp(m->name, name) == 0)
			return m;
	return NULL;
}

/* The entry of a store row, added to the pool; NULL (logged) when the
 * manifest asks for something invalid. */
static struct modelpool_model *modelpool_model_add(struct modelpool *p,
						   const struct store_model *sm)
{
	struct modelproto_limits lim;
	char *why = NULL;
	if (modelproto_limits(sm->manifest, &lim, &why) < 0) {
		log_error("modelpool: model %s: %s", sm->name, why);
		free(why);
		return NULL;
	}
	struct modelpool_model *m = xcalloc(1, sizeof *m);
	m->name = xstrdup(sm->name);
	m->dir = xstrdup(sm->dir);
	m->owner_id = sm->owner_id;
	m->lim = lim;
	pthread_cond_init(&m->cond, NULL);
	struct store_user u = {0};
	m->have_owner = store_user_get_by_id(p->st, sm->owner_id, &u) == 0 &&
			fsident_load(u.unix_user, (uid_t)u.uid, (gid_t)u.gid, &m->owner) == 0;
	store_user_clear(&u);
	if (!m->have_owner)
		log_warn("modelpool: model %s: its owner (user id %lld) cannot be had; no worker "
			 "will start",
			 sm->name, (long long)sm->owner_id);
	m->next = p->models;
	p->models = m;
	return m;
}

/* The model's entry, read from the store when the pool has none yet: 0,
 * -ENOENT, -EINVAL (a manifest the pool cannot serve) or a store error. */
static int modelpool_model_get(struct modelpool *p, const char *name, struct modelpool_model **out)
{
	*out = modelpool_model_find(p, name);
	if (*out)
		return 0;
	struct store_model sm = {0};
	int rc = store_model_get(p->st, name, &sm);
	if (rc == 0 && !(*out = modelpool_model_add(p, &sm)))
		rc = -EINVAL;
	store_model_clear(&sm);
	return rc;
}

static int modelpool_live(const struct modelpool_model *m)
{
	int n = 0;
	for (const struct modelpool_worker *w = m->workers; w; w = w->next)
		n++;
	return n;
}

static bool modelpool_backoff(const struct modelpool_model *m, int64_t now)
{
	return m->start_failed_at > 0 && now - m->start_failed_at < MODELPOOL_BACKOFF_S;
}

/* ---- workers ---------------------------------------------------------------- */

/* Unlink and free w; cancel its job when asked (a worker forgotten while
 * its job runs would hold its resources for nothing). */
static void modelpool_worker_forget(struct modelpool *p, struct modelpool_model *m,
				    struct modelpool_worker *w, bool cancel, const char *why)
{
	for (struct modelpool_worker **pp = &m->workers; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	if (w->fd >= 0)
		close(w->fd);
	if (cancel) {
		int rc = scheduler_cancel(p->srv, p->st, w->job_id);
		if (rc < 0 && rc != -EALREADY && rc != -ENOENT)
			log_warn("modelpool: model %s: cannot cancel worker job %lld: %s", m->name,
				 (long long)w->job_id, strerror(-rc));
	}
	log_info("modelpool: model %s: worker job %lld %s (%s)", m->name, (long long)w->job_id,
		 cancel ? "cancelled" : "forgotten", why);
	free(w->socket);
	free(w);
	pthread_cond_broadcast(&m->cond);
}

static struct modelpool_worker *modelpool_worker_add(struct modelpool_model *m, int64_t job_id,
						     const char *socket)
{
	struct modelpool_worker *w = xcalloc(1, sizeof *w);
	w->job_id = job_id;
	w->socket = xstrdup(socket);
	w->state = MODELPOOL_STARTING;
	w->fd = -1;
	w->created_ms = modelio_now_ms();
	w->next = m->workers;
	m->workers = w;
	return w;
}

/* Where worker job_id listens: DATA/jobs/ID/worker.sock (the job
 * directory is the owner's, mode 0700), else the per-user directory. */
static int modelpool_socket_path(struct modelpool *p, const struct store_user *u, int64_t job_id,
				 char **out)
{
	struct sockaddr_un sa;
	char *path =
	    xasprintf("%s/jobs/%lld/worker.sock", p->srv->cfg->data_dir, (long long)job_id);
	if (strlen(path) < sizeof sa.sun_path) {
		*out = path;
		return 0;
	}
	free(path);
	char dir[PATH_MAX];
	uid_t uid = unixacct_multiuser() ? (uid_t)u->uid : getuid();
	gid_t gid = unixacct_multiuser() ? (gid_t)u->gid : getgid();
	int rc = unixacct_rundir("workers", uid, gid, dir, sizeof dir);
	if (rc < 0)
		return rc;
	/* Daemons on one machine share the directory: a random tag keeps
	 * their job ids apart. */
	char tag[SECRET_B64_LEN + 1];
	secret_random(tag);
	*out = xasprintf("%s/%lld-%.8s.sock", dir, (long long)job_id, tag);
	return strlen(*out) < sizeof sa.sun_path ? 0 : -ENAMETOOLONG;
}

/* Insert a worker job for m (pending: the scheduler places it) and add
 * it as starting. 0, or -errno with *why. */
static int modelpool_worker_start(struct modelpool *p, struct modelpool_model *m, char **why)
{
	const struct config *cfg = p->srv->cfg;
	struct store_user u = {0};
	struct store_group g = {0};
	char *sock = NULL, *cmd = NULL;
	int rc = store_user_get_by_id(p->st, m->owner_id, &u);
	if (rc < 0) {
		*why = xasprintf("its owner (user id %lld) cannot be read", (long long)m->owner_id);
		return rc;
	}
	bool have_group = u.ngroups > 0 && store_group_get(p->st, u.groups[0], &g) == 0;
	int64_t walltime = cfg->models_worker_walltime_s;
	if (walltime <= 0)
		walltime = have_group && g.max_walltime_s > 0 ? g.max_walltime_s : 0;
	struct store_job j = {
	    .user_id = u.id,
	    .username = u.username,
	    .group_name = have_group ? g.name : (char *)"",
	    .name = m->name,
	    .workdir = m->dir,
	    .cpus = m->lim.cpus,
	    .mem_mb = m->lim.mem_mb,
	    .gpus = m->lim.gpus,
	    .walltime_s = walltime,
	    .array_id = -1,
	    .array_index = -1,
	    .kind = (char *)"worker",
	};
	if ((rc = store_begin(p->st)) < 0) {
		*why = xasprintf("the store is busy: %s", strerror(-rc));
		goto out;
	}
	rc = store_job_insert(p->st, &j);
	if (rc == 0 && (rc = modelpool_socket_path(p, &u, j.id, &sock)) < 0)
		log_error("modelpool: no socket path for worker job %lld: %s", (long long)j.id,
			  strerror(-rc));
	if (rc == 0) {
		json_t *argv = json_pack("[s,s,s,s,s]", cfg->models_worker_program, "serve", m->dir,
					 "--socket", sock);
		cmd = json_dumps(argv, JSON_COMPACT);
		json_decref(argv);
		rc = cmd ? store_job_set_launch(p->st, j.id, cmd, "{}") : -EINVAL;
	}
	if (rc == 0)
		rc = store_commit(p->st);
	if (rc < 0) {
		store_rollback(p->st);
		*why = xasprintf("cannot queue a worker job: %s", strerror(-rc));
		goto out;
	}
	modelpool_worker_add(m, j.id, sock);
	log_info("modelpool: model %s: worker job %lld queued for %s (%d of at most %d)", m->name,
		 (long long)j.id, u.username, modelpool_live(m), m->lim.max);
	scheduler_kick(p->srv);
	modelpool_kick(p);
out:
	free(cmd);
	free(sock);
	store_group_clear(&g);
	store_user_clear(&u);
	return rc;
}

static void modelpool_start_failed(struct modelpool_model *m, char *why)
{
	free(m->start_failure);
	m->start_failure = why;
	m->start_failed_at = time(NULL);
	pthread_cond_broadcast(&m->cond);
}

/* ---- housekeeping ------------------------------------------------------------- */

/* A starting worker: ready once its job runs and its socket accepts.
 * Returns whether it is still starting with its job running (probe soon). */
static bool modelpool_probe(struct modelpool *p, struct modelpool_model *m,
			    struct modelpool_worker *w, int64_t now)
{
	struct store_job j = {0};
	int rc = store_job_get(p->st, w->job_id, &j);
	bool again = false;
	if (rc < 0 || (strcmp(j.state, "pending") != 0 && strcmp(j.state, "running") != 0)) {
		modelpool_start_failed(
		    m, xasprintf("worker job %lld %s before it listened (see its "
				 "log: kaon logs %lld --stderr)",
				 (long long)w->job_id, rc < 0 ? "vanished" : j.state,
				 (long long)w->job_id));
		log_warn("modelpool: model %s: %s", m->name, m->start_failure);
		modelpool_worker_forget(p, m, w, false, "ended before it listened");
		goto out;
	}
	if (strcmp(j.state, "pending") == 0) {
		/* Just queued: the scheduler starts it within moments when it
		 * fits, and a cold start is some request's wait. */
		again = modelio_now_ms() - w->created_ms < MODELPOOL_EAGER_MS;
		goto out;
	}
	struct sessprobe_target t = {.socket = w->socket, .owner = &m->owner};
	int fd = m->have_owner ? sessprobe_connect(&t) : -EPERM;
	if (fd >= 0) {
		w->fd = fd;
		w->state = MODELPOOL_IDLE;
		w->idle_since_ms = modelio_now_ms();
		w->ends_at = j.walltime_s > 0 && j.start_time > 0 ? j.start_time + j.walltime_s : 0;
		log_info("modelpool: model %s: worker job %lld is ready (%lld s after its start)",
			 m->name, (long long)w->job_id, (long long)(now - j.start_time));
		pthread_cond_broadcast(&m->cond);
		goto out;
	}
	if (j.start_time > 0 && now - j.start_time > p->srv->cfg->models_worker_start_timeout_s) {
		modelpool_start_failed(
		    m,
		    xasprintf("worker job %lld did not listen within %lld s", (long long)w->job_id,
			      (long long)p->srv->cfg->models_worker_start_timeout_s));
		log_warn("modelpool: model %s: %s", m->name, m->start_failure);
		modelpool_worker_forget(p, m, w, true, "did not listen in time");
		goto out;
	}
	again = true;
out:
	store_job_clear(&j);
	return again;
}

/* An idle worker: gone, idle too long, or near its wall time? */
static void modelpool_check_idle(struct modelpool *p, struct modelpool_model *m,
				 struct modelpool_worker *w, int64_t now, int64_t now_ms)
{
	const char *state = NULL;
	if (store_job_state(p->st, w->job_id, &state) < 0 || strcmp(state, "running") != 0) {
		modelpool_worker_forget(p, m, w, false, "its job ended");
		return;
	}
	/* An idle connection has nothing to say: data or a hang-up means the
	 * worker went away (or restarted its listener); reconnect on use. */
	struct pollfd pf = {.fd = w->fd, .events = POLLIN | POLLRDHUP};
	if (w->fd >= 0 && poll(&pf, 1, 0) > 0) {
		close(w->fd);
		w->fd = -1;
	}
	int64_t margin = MODELPOOL_REPLACE_MARGIN_S;
	if (w->ends_at > 0 && now >= w->ends_at - margin) {
		modelpool_worker_forget(p, m, w, true, "its wall time is nearly over");
		return;
	}
	if (now_ms - w->idle_since_ms >= (int64_t)m->lim.idle_s * 1000 &&
	    modelpool_live(m) > m->lim.min)
		modelpool_worker_forget(p, m, w, true, "idle");
}

/* One look at every worker; returns how long to sleep. */
static int modelpool_pass(struct modelpool *p)
{
	int wait = MODELPOOL_TICK_MS;
	int64_t now = time(NULL), now_ms = modelio_now_ms();
	for (struct modelpool_model *m = p->models; m; m = m->next) {
		struct modelpool_worker *next;
		for (struct modelpool_worker *w = m->workers; w; w = next) {
			next = w->next;
			if (w->state == MODELPOOL_STARTING && modelpool_probe(p, m, w, now))
				wait = MODELPOOL_PROBE_MS;
			else if (w->state == MODELPOOL_IDLE)
				modelpool_check_idle(p, m, w, now, now_ms);
		}
		if (!m->have_owner)
			continue;
		while (modelpool_live(m) < m->lim.min && !modelpool_backoff(m, now)) {
			char *why = NULL;
			if (modelpool_worker_start(p, m, &why) < 0) {
				log_warn("modelpool: model %s: cannot keep workers.min: %s",
					 m->name, why);
				modelpool_start_failed(m, why);
				break;
			}
			wait = MODELPOOL_PROBE_MS;
		}
	}
	return wait;
}

static void *modelpool_main(void *arg)
{
	struct modelpool *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		bool stop = p->stopping;
		int wait = stop ? 0 : modelpool_pass(p);
		pthread_mutex_unlock(&p->lock);
		if (stop)
			break;
		struct pollfd pf[2] = {{.fd = p->kick_fd, .events = POLLIN},
				       {.fd = p->stop_fd, .events = POLLIN}};
		int rc = poll(pf, 2, wait);
		if (rc < 0 && errno != EINTR)
			log_warn("modelpool: poll failed: %s", strerror(errno));
		uint64_t v;
		if (pf[0].revents & POLLIN && read(p->kick_fd, &v, sizeof v) < 0 && errno != EAGAIN)
			log_warn("modelpool: eventfd read failed: %s", strerror(errno));
	}
	return NULL;
}

/* ---- predict ------------------------------------------------------------------ */

static void modelpool_dequeue(struct modelpool_model *m, struct modelpool_waiter *me)
{
	for (struct modelpool_waiter **pp = &m->waiters; *pp; pp = &(*pp)->next)
		if (*pp == me) {
			*pp = me->next;
			m->nwaiting--;
			break;
		}
	pthread_cond_broadcast(&m->cond); /* a new head, perhaps */
}

static void modelpool_enqueue(struct modelpool_model *m, struct modelpool_waiter *me)
{
	me->next = NULL;
	struct modelpool_waiter **pp = &m->waiters;
	while (*pp)
		pp = &(*pp)->next;
	*pp = me;
	m->nwaiting++;
}

static void modelpool_counts(const struct modelpool_model *m, const struct modelpool_waiter *me,
			     bool queued, int64_t now, struct modelproto_counts *c)
{
	*c = (struct modelproto_counts){.waiting = m->nwaiting,
					.queued = queued,
					.first = queued ? m->waiters == me : m->waiters == NULL,
					.backoff = modelpool_backoff(m, now),
					.max = m->lim.max};
	for (const struct modelpool_worker *w = m->workers; w; w = w->next)
		if (w->state == MODELPOOL_IDLE)
			c->idle++;
		else if (w->state == MODELPOOL_STARTING)
			c->starting++;
		else
			c->busy++;
}

/* The idle worker used last: the others stay idle and can be shrunk. */
static struct modelpool_worker *modelpool_pick(struct modelpool_model *m)
{
	struct modelpool_worker *best = NULL;
	for (struct modelpool_worker *w = m->workers; w; w = w->next)
		if (w->state == MODELPOOL_IDLE && (!best || w->idle_since_ms > best->idle_since_ms))
			best = w;
	return best;
}

/* Sleep on the model's condition for one slice (or up to the deadline). */
static void modelpool_sleep(struct modelpool *p, struct modelpool_model *m, int64_t deadline)
{
	int64_t until = modelio_now_ms() + MODELPOOL_WAIT_SLICE_MS;
	if (until > deadline)
		until = deadline;
	/* The condition uses the default (realtime) clock. */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t left = until - modelio_now_ms();
	if (left < 0)
		left = 0;
	ts.tv_sec += left / 1000;
	ts.tv_nsec += (left % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&m->cond, &p->lock, &ts);
}

/* Get a worker for the request (locked). NULL with *out filled when it
 * is refused or gives up. */
static struct modelpool_worker *modelpool_acquire(struct modelpool *p, struct modelpool_model *m,
						  int *cancel_fd, int64_t deadline, int timeout_ms,
						  struct modelpool_response *out)
{
	struct modelpool_waiter me;
	bool queued = false;
	struct modelpool_worker *w = NULL;
	for (;;) {
		if (p->stopping) {
			modelpool_fill_error(out, 503, "the server is shutting down");
			break;
		}
		if (m->drained) {
			modelpool_fill_error(
			    out, 503, "model %s is being replaced or removed; try again", m->name);
			break;
		}
		struct modelproto_counts c;
		int64_t now = time(NULL);
		modelpool_counts(m, &me, queued, now, &c);
		enum modelproto_action act = modelproto_decide(&c);
		if (act == MODELPROTO_TAKE) {
			w = modelpool_pick(m);
			break;
		}
		if (act == MODELPROTO_FULL) {
			out->retry_after_s =
			    modelproto_retry_after(m->nwaiting, m->lim.max, m->avg_ms);
			modelpool_fill_error(
			    out, 429,
			    "model %s is busy: %d requests wait for its %d workers; "
			    "retry in %d s",
			    m->name, m->nwaiting, m->lim.max, out->retry_after_s);
			break;
		}
		if (act == MODELPROTO_UNAVAILABLE || (act == MODELPROTO_GROW && !m->have_owner)) {
			modelpool_fill_error(out, 503, "model %s: no worker could start: %s",
					     m->name,
					     m->have_owner && m->start_failure
						 ? m->start_failure
						 : "its owner's account cannot be had");
			break;
		}
		if (!queued) {
			modelpool_enqueue(m, &me);
			queued = true;
		}
		if (act == MODELPROTO_GROW) {
			char *why = NULL;
			if (modelpool_worker_start(p, m, &why) < 0) {
				log_error("modelpool: model %s: %s", m->name, why);
				modelpool_start_failed(m, why);
			}
			continue;
		}
		if (modelio_now_ms() >= deadline) {
			modelpool_fill_error(out, 504,
					     "model %s: no worker was free within %d ms (%d "
					     "requests waiting, %d workers starting)",
					     m->name, timeout_ms, m->nwaiting, c.starting);
			break;
		}
		if (*cancel_fd >= 0) {
			struct pollfd pf = {.fd = *cancel_fd, .events = POLLIN | POLLRDHUP};
			int g = poll(&pf, 1, 0) > 0 ? modelio_client_gone(*cancel_fd, pf.revents)
						    : -1;
			if (g > 0) {
				modelpool_fill_error(out, 499, "the client went away");
				break;
			}
			if (g == 0)
				*cancel_fd = -1;
		}
		modelpool_sleep(p, m, deadline);
	}
	if (queued)
		modelpool_dequeue(m, &me);
	if (w)
		w->state = MODELPOOL_BUSY;
	return w;
}

int modelpool_predict(struct server *srv, const struct modelpool_request *rq,
		      struct modelpool_response *out)
{
	memset(out, 0, sizeof *out);
	struct modelpool *p = srv->pool;
	if (!p) {
		modelpool_fill_error(out, 503, "predictions are not served now");
		return 0;
	}
	const struct config *cfg = srv->cfg;
	int timeout_ms =
	    rq->timeout_ms > 0 ? rq->timeout_ms : (int)(cfg->models_predict_timeout_s * 1000);
	int64_t start = modelio_now_ms(), deadline = start + timeout_ms;
	size_t max = (size_t)cfg->models_max_response_mib << 20;
	int cancel_fd = rq->cancel_fd;

	pthread_mutex_lock(&p->lock);
	if (p->stopping) {
		pthread_mutex_unlock(&p->lock);
		modelpool_fill_error(out, 503, "the server is shutting down");
		return 0;
	}
	struct modelpool_model *m;
	int rc = modelpool_model_get(p, rq->model, &m);
	if (rc < 0) {
		pthread_mutex_unlock(&p->lock);
		if (rc == -ENOENT)
			return -ENOENT;
		modelpool_fill_error(out, 503, "model %s cannot be served now (%s)", rq->model,
				     rc == -EINVAL ? "its manifest is invalid: see the log"
						   : strerror(-rc));
		return 0;
	}
	m->users++;
	p->inflight++;
	struct modelpool_worker *w = modelpool_acquire(p, m, &cancel_fd, deadline, timeout_ms, out);
	pthread_mutex_unlock(&p->lock);

	enum modelio_result io = MODELIO_STOPPING;
	char *line = NULL, *why = NULL;
	size_t len = 0;
	if (w) {
		size_t reqlen;
		char *req = modelproto_request_line(rq->args, rq->files, rq->accept, &reqlen);
		struct modelio_worker mw = { .socket = w->socket,
					     .owner = m->have_owner ? &m->owner : NULL,
					     .job_id = w->job_id,
					     .fd = &w->fd };
		struct modelio_call call = { .req = req,
					     .reqlen = reqlen,
					     .stop_fd = p->stop_fd,
					     .cancel_fd = &cancel_fd,
					     .deadline_ms = deadline,
					     .max = max + MODELPOOL_LINE_SLACK };
		io = modelio_exchange(&mw, &call, &line, &len, &why);
		free(req);
		if (io == MODELIO_OK) {
			if (modelio_answer(&mw, line, len, max, out, &why) < 0) {
				log_warn("modelpool: model %s: worker job %lld: %s", m->name,
					 (long long)w->job_id, why);
				modelpool_fill_error(out, 502, "model %s: %s", m->name, why);
			}
		} else if (io == MODELIO_BROKEN)
			modelpool_fill_error(out, 502, "model %s: %s", m->name, why);
		else if (io == MODELIO_TIMEOUT)
			modelpool_fill_error(out, 504, "model %s did not answer within %d ms",
					     m->name, timeout_ms);
		else if (io == MODELIO_GONE)
			modelpool_fill_error(out, 499, "the client went away");
		else if (io == MODELIO_STOPPING)
			modelpool_fill_error(out, 503, "the server is shutting down");
		else
			modelpool_fill_error(out, 502, "model %s answered more than %d MiB",
					     m->name, (int)cfg->models_max_response_mib);
		if (io != MODELIO_OK && io != MODELIO_STOPPING)
			log_warn("modelpool: model %s: worker job %lld: %d after %lld ms%s%s",
				 m->name, (long long)w->job_id, out->status,
				 (long long)(modelio_now_ms() - start), why ? ": " : "",
				 why ? why : "");
	}

	pthread_mutex_lock(&p->lock);
	if (w) {
		int64_t ms = modelio_now_ms() - start;
		if (io == MODELIO_OK) {
			m->avg_ms = m->avg_ms ? (m->avg_ms * 7 + ms) / 8 : ms;
			w->state = MODELPOOL_IDLE;
			w->idle_since_ms = modelio_now_ms();
			if (w->retire || m->drained)
				modelpool_worker_forget(p, m, w, true, "retired");
			else
				pthread_cond_broadcast(&m->cond);
		} else if (io == MODELIO_STOPPING) {
			/* Its job goes on; the next daemon adopts it. */
			w->state = MODELPOOL_IDLE;
		} else {
			/* Timed out or abandoned: the worker may still be busy
			 * with it, and broken ones are of no use: recycle. */
			modelpool_worker_forget(p, m, w, true,
						io == MODELIO_TIMEOUT ? "timed out"
						: io == MODELIO_GONE  ? "its client went away"
									   : "broken");
		}
	}
	if (--m->users == 0 && m->drained) {
		while (m->workers)
			modelpool_worker_forget(p, m, m->workers, true, "drained");
		modelpool_model_free(m);
	}
	if (--p->inflight == 0)
		pthread_cond_broadcast(&p->quiet);
	pthread_mutex_unlock(&p->lock);
	free(line);
	free(why);
	return 0;
}

void modelpool_drain(struct server *srv, const char *model)
{
	struct modelpool *p = srv->pool;
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	struct modelpool_model **pp = &p->models;
	while (*pp && strcmp((*pp)->name, model) != 0)
		pp = &(*pp)->next;
	struct modelpool_model *m = *pp;
	if (m) {
		*pp = m->next;
		m->drained = true;
		struct modelpool_worker *next;
		for (struct modelpool_worker *w = m->workers; w; w = next) {
			next = w->next;
			if (w->state == MODELPOOL_BUSY)
				w->retire = true; /* its request finishes first */
			else
				modelpool_worker_forget(p, m, w, true, "drained");
		}
		pthread_cond_broadcast(&m->cond);
		if (m->users == 0)
			modelpool_model_free(m);
	}
	pthread_mutex_unlock(&p->lock);
}

/* ---- start and stop ------------------------------------------------------------- */

/* The socket and model dir of a worker job's command
 * [PROGRAM, "serve", DIR, "--socket", PATH]; 0 or -EINVAL. */
static int modelpool_parse_command(const char *command, char **dir, char **socket)
{
	json_t *a = json_loads(command ? command : "", 0, NULL);
	const char *d = json_string_value(json_array_get(a, 2));
	const char *flag = json_string_value(json_array_get(a, 3));
	const char *s = json_string_value(json_array_get(a, 4));
	int rc = d && s && flag && strcmp(flag, "--socket") == 0 ? 0 : -EINVAL;
	if (rc == 0) {
		*dir = xstrdup(d);
		*socket = xstrdup(s);
	}
	json_decref(a);
	return rc;
}

/* Worker jobs a previous daemon left: adopt those of registered models
 * (their sockets outlive the daemon), cancel the others. */
static void modelpool_adopt(struct modelpool *p)
{
	struct store_job *js = NULL;
	size_t n = 0;
	if (store_jobs_live(p->st, &js, &n) < 0) {
		log_error("modelpool: cannot read the live jobs; no worker adopted");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!js[i].kind || strcmp(js[i].kind, "worker") != 0)
			continue;
		struct store_job j = {0};
		char *dir = NULL, *sock = NULL;
		struct modelpool_model *m = NULL;
		int rc = store_job_get(p->st, js[i].id, &j);
		if (rc == 0)
			rc = modelpool_parse_command(j.command, &dir, &sock);
		if (rc == 0)
			rc = modelpool_model_get(p, j.name, &m);
		if (rc == 0 && strcmp(m->dir, dir) != 0)
			rc = -ESTALE;
		if (rc == 0) {
			modelpool_worker_add(m, j.id, sock);
			log_info("modelpool: model %s: adopted worker job %lld", m->name,
				 (long long)j.id);
		} else {
			log_info("modelpool: cancelling worker job %lld (%s)", (long long)js[i].id,
				 rc == -ENOENT	 ? "its model is no longer registered"
				 : rc == -ESTALE ? "it serves an older version"
						 : "it cannot be adopted");
			int c = scheduler_cancel(p->srv, p->st, js[i].id);
			if (c < 0 && c != -EALREADY)
				log_warn("modelpool: cannot cancel job %lld: %s",
					 (long long)js[i].id, strerror(-c));
		}
		free(dir);
		free(sock);
		store_job_clear(&j);
	}
	store_jobs_free(js, n);
}

int modelpool_start(struct server *srv, char **cause)
{
	struct modelpool *p = xcalloc(1, sizeof *p);
	p->srv = srv;
	p->kick_fd = p->stop_fd = -1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->quiet, NULL);
	char *path = xasprintf("%s/kaon.db", srv->cfg->data_dir);
	int rc = store_open(path, &p->st, cause);
	free(path);
	if (rc < 0)
		goto fail;
	store_autocheckpoint_off(p->st);
	p->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	p->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->kick_fd < 0 || p->stop_fd < 0) {
		*cause = xasprintf("eventfd() failed for the model pool: %s", strerror(errno));
		goto fail;
	}
	/* Every registered model, so that workers.min holds from the start. */
	struct store_model *ms = NULL;
	size_t n = 0;
	if (store_models_list(p->st, &ms, &n) == 0)
		for (size_t i = 0; i < n; i++)
			modelpool_model_add(p, &ms[i]);
	else
		log_error("modelpool: cannot list the models");
	store_models_free(ms, n);
	modelpool_adopt(p);
	srv->pool = p;
	if ((rc = pthread_create(&p->thread, NULL, modelpool_main, p)) != 0) {
		*cause = xasprintf("pthread_create() failed for the model pool: %s", strerror(rc));
		srv->pool = NULL;
		goto fail;
	}
	p->thread_started = true;
	return 0;
fail:
	srv->pool = p;
	modelpool_free(srv);
	return -1;
}

void modelpool_stop(struct server *srv)
{
	struct modelpool *p = srv->pool;
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	uint64_t one = 1;
	if (p->stop_fd >= 0 && write(p->stop_fd, &one, sizeof one) < 0)
		log_warn("modelpool: eventfd write failed: %s", strerror(errno));
	for (struct modelpool_model *m = p->models; m; m = m->next)
		pthread_cond_broadcast(&m->cond);
	while (p->inflight > 0)
		pthread_cond_wait(&p->quiet, &p->lock);
	pthread_mutex_unlock(&p->lock);
	if (p->thread_started) {
		pthread_join(p->thread, NULL);
		p->thread_started = false;
	}
}

void modelpool_free(struct server *srv)
{
	struct modelpool *p = srv->pool;
	if (!p)
		return;
	modelpool_stop(srv);
	srv->pool = NULL;
	while (p->models) {
		struct modelpool_model *m = p->models;
		p->models = m->next;
		while (m->workers) {
			struct modelpool_worker *w = m->workers;
			m->workers = w->next;
			if (w->fd >= 0)
				close(w->fd);
			free(w->socket);
			free(w);
		}
		modelpool_model_free(m);
	}
	if (p->kick_fd >= 0)
		close(p->kick_fd);
	if (p->stop_fd >= 0)
		close(p->stop_fd);
	store_close(p->st);
	pthread_cond_destroy(&p->quiet);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
