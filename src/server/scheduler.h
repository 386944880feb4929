/*
 * server/scheduler — the daemon's job loop: it owns one thread that turns
 * store state into actions. Each pass it (1) records jobs whose
 * supervisors have ended (or vanished), charging their usage, (2) asks the
 * pure policy (sched/policy.h) what to do with the pending queue, (3)
 * commits every start, cancel and pending reason to the store, and only
 * then (4) starts the jobs through the local executor.
 *
 * A pass runs when something changed (a submission, cancel, hold or
 * release kicks it; a supervisor's datagram says a job ended) and at
 * least once a second. Because all state lives in the store and the job
 * directories, a restarted daemon simply resumes: its first pass finds
 * the jobs that ended while it was down and keeps the queue in order.
 */
#ifndef KAON_SERVER_SCHEDULER_H
#define KAON_SERVER_SCHEDULER_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct fairshare_weights;
struct sched_job;
struct sched_user;
struct server;
struct store;
struct store_job;

int scheduler_start(struct server *srv, char **cause);
void scheduler_stop(struct server *srv);
/* Ask for a pass soon (thread-safe, never blocks). */
void scheduler_kick(struct server *srv);
/* Where supervisors send "ended ID" datagrams; NULL when polling. */
const char *scheduler_notify_path(const struct server *srv);
/* The job's directory, in a new string. */
char *scheduler_job_dir(const struct server *srv, int64_t job_id);
/* Cancel a job (pending: at once; running: through its supervisor).
 * 0, -ENOENT, -EALREADY when it has ended, or a store error. */
int scheduler_cancel(struct server *srv, struct store *st, int64_t job_id);

/* The billing and decay weights from the config. */
void scheduler_weights(const struct config *cfg, struct fairshare_weights *fw);
/* The policy's view of a store row. */
void scheduler_job_to_sched(const struct server *srv, const struct store_job *j,
			    struct sched_job *sj);
/* Every user with their primary group and usage decayed to now, the
 * running jobs' usage so far included; *out to free. */
int scheduler_users(const struct server *srv, struct store *st, int64_t now,
		    const struct sched_job *running, size_t nrunning, struct sched_user **out,
		    size_t *n);

#endif
