/*
 * server/sessionmon — readiness, idle culling and end reasons of sessions
 * (see sessionmon.h). Runs on its own thread with its own store
 * connection; the probes block (bounded by their timeouts), which is why
 * they are not on the scheduler's thread.
 */
#include "server/sessionmon.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "exec/inventory.h"
#include "identity/fsident.h"
#include "lib/fsio.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "server/proxy.h"
#include "server/scheduler.h"
#include "server/server.h"
#include "server/sessprobe.h"
#include "store/db.h"
#include "store/jobs.h"
#include "store/sessions.h"
#include "store/users.h"

enum {
	/* Between readiness probes of a starting session: this is on the
	 * critical path of every launch, and a failed connect costs little. */
	SESSIONMON_PROBE_MS = 20,
	SESSIONMON_PENDING_MS = 500,  /* a pending one (the scheduler kicks us when it starts) */
	SESSIONMON_ENDING_MS = 1000,  /* a stopped one whose job has not ended yet */
	SESSIONMON_READY_TIMEOUT_MS = 2000,
	SESSIONMON_KERNELS_TIMEOUT_MS = 3000,
	SESSIONMON_KERNELS_MAX = 1 << 20,
	SESSIONMON_GPU_PIDS = 1024,
};


/* What the monitor keeps between passes about one session. */
struct sessionmon_entry {
	int64_t id;
	int64_t activity;  /* the latest activity known */
	int64_t persisted; /* what the store has */
	int64_t next_check_ms;
	int gpus;	   /* the job's GPUs: whether NVML is worth asking */
	bool owner_loaded;
	bool have_owner;
	struct fsident owner;
	char *outside_socket; /* a socket outside the job directory, removed at the end */
	bool seen;
};

struct sessionmon {
	struct server *srv;
	pthread_t thread;
	int kick_fd;
	atomic_bool stop;
	struct store *st;
	struct sessionmon_entry *entries;
	size_t nentries;
	/* GPU-busy pids of this pass, asked once for all sessions. */
	int gpu_pids[SESSIONMON_GPU_PIDS];
	int ngpu_pids; /* -1: not asked in this pass yet */
};

static int64_t sessionmon_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sessionmon_kick(struct server *srv)
{
	uint64_t one = 1;
	if (srv->smon && write(srv->smon->kick_fd, &one, sizeof one) < 0 && errno != EAGAIN)
		log_warn("sessions: eventfd write failed: %s", strerror(errno));
}

/* ---- per-session memory ------------------------------------------------------ */

static struct sessionmon_entry *sessionmon_entry(struct sessionmon *m,
						 const struct store_session *s)
{
	for (size_t i = 0; i < m->nentries; i++)
		if (m->entries[i].id == s->job_id)
			return &m->entries[i];
	m->entries = xrealloc(m->entries, (m->nentries + 1) * sizeof *m->entries);
	struct sessionmon_entry *e = &m->entries[m->nentries++];
	memset(e, 0, sizeof *e);
	e->id = s->job_id;
	e->activity = s->last_activity > s->ready_at ? s->last_activity : s->ready_at;
	e->persisted = s->last_activity;
	struct store_job j = { 0 };
	if (store_job_get(m->st, s->job_id, &j) == 0)
		e->gpus = j.gpus;
	store_job_clear(&j);
	char *jobdir = scheduler_job_dir(m->srv, s->job_id);
	size_t jl = strlen(jobdir);
	if (s->socket && !(strncmp(s->socket, jobdir, jl) == 0 && s->socket[jl] == '/'))
		e->outside_socket = xstrdup(s->socket);
	free(jobdir);
	return e;
}

/* The identity the owner's socket is connected with: NULL when it cannot
 * be had (the owner is gone), and then nothing is connected. */
static const struct fsident *sessionmon_owner(struct sessionmon *m, struct sessionmon_entry *e,
					      const struct store_session *s)
{
	if (!e->owner_loaded) {
		struct store_user u = { 0 };
		e->owner_loaded = true;
		e->have_owner = store_user_get_by_id(m->st, s->user_id, &u) == 0 &&
				fsident_load(u.unix_user, (uid_t)u.uid, (gid_t)u.gid, &e->owner) == 0;
		store_user_clear(&u);
	}
	return e->have_owner ? &e->owner : NULL;
}

/* Forget sessions that are settled; remove their sockets kept outside
 * their job directories (a killed backend cannot remove its own). */
static void sessionmon_sweep(struct sessionmon *m)
{
	size_t w = 0;
	for (size_t i = 0; i < m->nentries; i++) {
		struct sessionmon_entry *e = &m->entries[i];
		if (e->seen) {
			e->seen = false;
			m->entries[w++] = *e;
			continue;
		}
		if (e->outside_socket && unlink(e->outside_socket) < 0 && errno != ENOENT)
			log_warn("sessions: cannot remove %s: %s", e->outside_socket, strerror(errno));
		free(e->outside_socket);
	}
	m->nentries = w;
}

/* ---- readiness -------------------------------------------------------------- */

static void sessionmon_target(const struct store_session *s, const struct fsident *owner,
			      struct sessprobe_target *t)
{
	*t = (struct sessprobe_target){ .socket = s->socket, .port = s->port, .secret = s->secret,
					.owner = owner };
}

static void sessionmon_stop_session(struct sessionmon *m, int64_t id, const char *reason)
{
	if (store_session_set_end_reason(m->st, id, reason) < 0)
		log_error("sessions: cannot record why session %lld ends", (long long)id);
	int rc = scheduler_cancel(m->srv, m->st, id);
	if (rc < 0 && rc != -EALREADY)
		log_error("sessions: cannot cancel session %lld: %s", (long long)id, strerror(-rc));
}

static void sessionmon_starting(struct sessionmon *m, struct sessionmon_entry *e,
				const struct store_session *s, int64_t now)
{
	const struct fsident *owner = sessionmon_owner(m, e, s);
	if (!owner)
		return;
	struct sessprobe_target t;
	sessionmon_target(s, owner, &t);
	char path[64];
	snprintf(path, sizeof path, "/s/%lld/%s", (long long)s->job_id,
		 strcmp(s->kind, "jupyter") == 0 ? "api/status" : "");
	int status = 0;
	if (sessprobe_get(&t, path, SESSIONMON_READY_TIMEOUT_MS, 0, &status, NULL) == 0 &&
	    status < 500) {
		if (store_session_set_ready(m->st, s->job_id, now) < 0 ||
		    store_session_set_activity(m->st, s->job_id, now) < 0) {
			log_error("sessions: cannot record that session %lld is ready",
				  (long long)s->job_id);
			return;
		}
		e->activity = e->persisted = now;
		log_info("session %lld is ready (%lld s after its start)", (long long)s->job_id,
			 (long long)(now - s->start_time));
		return;
	}
	const struct config *cfg = m->srv->cfg;
	if (s->start_time >= 0 && now - s->start_time > cfg->sessions_start_timeout_s) {
		log_warn("session %lld: its service did not answer within %lld s; stopping it",
			 (long long)s->job_id, (long long)cfg->sessions_start_timeout_s);
		sessionmon_stop_session(m, s->job_id, "failed");
	}
}

/* ---- activity ---------------------------------------------------------------- */

/* An ISO 8601 UTC time as Jupyter writes it ("2026-11-23T19:00:00.123Z"),
 * or -1. */
static int64_t sessionmon_iso_time(const char *s)
{
	struct tm tm = { 0 };
	if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
		return -1;
	return (int64_t)timegm(&tm);
}

/* Jupyter's kernels: busy when any is in any state but idle (or dead),
 * or has a client connected; their own last_activity counts too.
 * Returns the activity this shows, or -1.
 *
 * "starting" counts as busy, though it is also what a kernel nobody ever
 * used keeps showing: Notebook 6 learns a kernel's state only from the
 * status messages it sees, and misses the first ones when a computation
 * starts right after the kernel (seen here: a kernel running a long
 * cell, reported "starting" throughout). Culling running work would be
 * worse than keeping an unused kernel until the session's lifetime. */
static int64_t sessionmon_kernels(struct sessionmon *m, struct sessionmon_entry *e,
				  const struct store_session *s, int64_t now)
{
	const struct fsident *owner = sessionmon_owner(m, e, s);
	if (!owner)
		return -1;
	struct sessprobe_target t;
	sessionmon_target(s, owner, &t);
	char path[64];
	snprintf(path, sizeof path, "/s/%lld/api/kernels", (long long)s->job_id);
	int status = 0;
	char *body = NULL;
	int64_t act = -1;
	if (sessprobe_get(&t, path, SESSIONMON_KERNELS_TIMEOUT_MS, SESSIONMON_KERNELS_MAX, &status,
			  &body) < 0 ||
	    status != 200) {
		free(body);
		return -1;
	}
	json_t *ks = json_loads(body, 0, NULL);
	size_t i;
	json_t *k;
	json_array_foreach(ks, i, k)
	{
		const char *state = json_string_value(json_object_get(k, "execution_state"));
		json_int_t conns = json_integer_value(json_object_get(k, "connections"));
		bool busy = (state && strcmp(state, "idle") != 0 && strcmp(state, "dead") != 0) ||
			    conns > 0;
		int64_t last = sessionmon_iso_time(json_string_value(json_object_get(k, "last_activity")));
		if (busy)
			last = now;
		if (last > now)
			last = now;
		if (last > act)
			act = last;
	}
	json_decref(ks);
	free(body);
	return act;
}

/* Whether /proc/PID belongs to job id: its cgroup is the job's, or it is
 * in the session (setsid) of the job's main process. */
static bool sessionmon_pid_in_job(struct sessionmon *m, int pid, int64_t id, long jobpid)
{
	char path[64], *text = NULL, mark[48];
	size_t len;
	bool in = false;
	snprintf(path, sizeof path, "/proc/%d/cgroup", pid);
	snprintf(mark, sizeof mark, "/job-%lld-", (long long)id);
	if (fsio_read_file(path, 64 * 1024, &text, &len) == 0)
		in = strstr(text, mark) != NULL;
	free(text);
	if (in || jobpid <= 0)
		return in;
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if (fsio_read_file(path, 64 * 1024, &text, &len) == 0) {
		/* Field 6 (session) after the ")" that ends the command name. */
		const char *p = strrchr(text, ')');
		long sid = 0;
		if (p && sscanf(p + 1, " %*c %*d %*d %ld", &sid) == 1)
			in = sid == jobpid;
	}
	free(text);
	return in;
}

/* Whether a process of the session used a GPU since the last check. */
static bool sessionmon_gpu_busy(struct sessionmon *m, const struct store_session *s)
{
	if (m->ngpu_pids < 0) {
		int64_t since = (int64_t)time(NULL) - m->srv->cfg->sessions_check_s - 1;
		m->ngpu_pids = inventory_gpu_busy_pids((uint64_t)since * 1000000, m->gpu_pids,
						       SESSIONMON_GPU_PIDS);
	}
	if (m->ngpu_pids == 0)
		return false;
	/* DIR/supervisor: "PID STARTTIME JOBPID". */
	char *dir = scheduler_job_dir(m->srv, s->job_id), *path = xasprintf("%s/supervisor", dir);
	char *text = NULL;
	size_t len;
	long sup = 0, jobpid = 0;
	unsigned long long start = 0;
	if (fsio_read_file(path, 256, &text, &len) == 0 &&
	    sscanf(text, "%ld %llu %ld", &sup, &start, &jobpid) != 3)
		jobpid = 0;
	free(text);
	free(path);
	free(dir);
	for (int i = 0; i < m->ngpu_pids; i++)
		if (sessionmon_pid_in_job(m, m->gpu_pids[i], s->job_id, jobpid))
			return true;
	return false;
}

static void sessionmon_ready(struct sessionmon *m, struct sessionmon_entry *e,
			     const struct store_session *s, int64_t now)
{
	int64_t act = e->activity;
	int64_t proxied = proxy_last_activity(s->job_id);
	if (proxied > act)
		act = proxied;
	if (strcmp(s->kind, "jupyter") == 0) {
		int64_t k = sessionmon_kernels(m, e, s, now);
		if (k > act)
			act = k;
	}
	if (e->gpus > 0 && sessionmon_gpu_busy(m, s))
		act = now;
	e->activity = act;
	if (act > e->persisted) {
		if (store_session_set_activity(m->st, s->job_id, act) == 0)
			e->persisted = act;
		else
			log_warn("sessions: cannot record the activity of session %lld",
				 (long long)s->job_id);
	}
	if (s->idle_timeout_s > 0 && act >= 0 && now - act >= s->idle_timeout_s) {
		log_info("session %lld has been idle for %lld s (its limit is %lld s); stopping it",
			 (long long)s->job_id, (long long)(now - act), (long long)s->idle_timeout_s);
		sessionmon_stop_session(m, s->job_id, "idle");
	}
}

/* ---- ends --------------------------------------------------------------------- */

static void sessionmon_ended(struct sessionmon *m, const struct store_session *s)
{
	const char *reason = store_session_end_reason_of(s->state);
	if (store_session_set_end_reason(m->st, s->job_id, reason) < 0) {
		log_error("sessions: cannot record why session %lld ended", (long long)s->job_id);
		return;
	}
	log_info("session %lld ended: %s (job %s)", (long long)s->job_id, reason, s->state);
}

/* ---- the loop ----------------------------------------------------------------- */

/* One look at every unsettled session; returns how long to sleep. */
static int64_t sessionmon_pass(struct sessionmon *m)
{
	int64_t wait = m->srv->cfg->sessions_check_s * 1000;
	struct store_session *ss = NULL;
	size_t n = 0;
	if (store_sessions_unsettled(m->st, &ss, &n) < 0) {
		log_error("sessions: cannot read the sessions from the store");
		return wait;
	}
	m->ngpu_pids = -1;
	for (size_t i = 0; i < n; i++) {
		const struct store_session *s = &ss[i];
		int64_t now = time(NULL), now_ms = sessionmon_now_ms();
		if (strcmp(s->state, "pending") != 0 && strcmp(s->state, "running") != 0) {
			sessionmon_ended(m, s);
			continue; /* settled: its entry goes in the sweep */
		}
		struct sessionmon_entry *e = sessionmon_entry(m, s);
		e->seen = true;
		if (strcmp(s->state, "pending") == 0) {
			if (wait > SESSIONMON_PENDING_MS)
				wait = SESSIONMON_PENDING_MS;
		} else if (s->end_reason) {
			if (wait > SESSIONMON_ENDING_MS)
				wait = SESSIONMON_ENDING_MS;
		} else if (s->ready_at < 0) {
			sessionmon_starting(m, e, s, now);
			if (wait > SESSIONMON_PROBE_MS)
				wait = SESSIONMON_PROBE_MS;
		} else {
			if (now_ms >= e->next_check_ms) {
				sessionmon_ready(m, e, s, now);
				e->next_check_ms = now_ms + m->srv->cfg->sessions_check_s * 1000;
			}
			int64_t until = e->next_check_ms - now_ms;
			if (wait > until)
				wait = until > 0 ? until : 0;
		}
	}
	store_sessions_free(ss, n);
	sessionmon_sweep(m);
	return wait;
}

static void *sessionmon_main(void *arg)
{
	struct sessionmon *m = arg;
	while (!atomic_load(&m->stop)) {
		int64_t wait = sessionmon_pass(m);
		struct pollfd p = { .fd = m->kick_fd, .events = POLLIN };
		int rc = poll(&p, 1, (int)wait);
		if (rc < 0 && errno != EINTR)
			log_warn("sessions: poll failed: %s", strerror(errno));
		uint64_t v;
		if (rc > 0 && read(m->kick_fd, &v, sizeof v) < 0 && errno != EAGAIN)
			log_warn("sessions: eventfd read failed: %s", strerror(errno));
	}
	return NULL;
}

int sessionmon_start(struct server *srv, char **cause)
{
	struct sessionmon *m = xcalloc(1, sizeof *m);
	m->srv = srv;
	m->kick_fd = -1;
	char *path = xasprintf("%s/kaon.db", srv->cfg->data_dir);
	int rc = store_open(path, &m->st, cause);
	free(path);
	if (rc < 0)
		goto fail;
	/* Like the request threads: never pay for a checkpoint here, the
	 * scheduler's connection does them. */
	store_autocheckpoint_off(m->st);
	m->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->kick_fd < 0) {
		*cause = xasprintf("eventfd() failed for the sessions monitor: %s", strerror(errno));
		goto fail;
	}
	srv->smon = m;
	if ((rc = pthread_create(&m->thread, NULL, sessionmon_main, m)) != 0) {
		*cause = xasprintf("pthread_create() failed for the sessions monitor: %s",
				   strerror(rc));
		srv->smon = NULL;
		goto fail;
	}
	return 0;
fail:
	if (m->kick_fd >= 0)
		close(m->kick_fd);
	store_close(m->st);
	free(m);
	return -1;
}

void sessionmon_stop(struct server *srv)
{
	struct sessionmon *m = srv->smon;
	if (!m)
		return;
	atomic_store(&m->stop, true);
	sessionmon_kick(srv);
	pthread_join(m->thread, NULL);
	srv->smon = NULL;
	close(m->kick_fd);
	for (size_t i = 0; i < m->nentries; i++)
		free(m->entries[i].outside_socket);
	free(m->entries);
	store_close(m->st);
	free(m);
}
