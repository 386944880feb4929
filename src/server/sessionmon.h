/*
 * server/sessionmon — the sessions monitor: one thread, with its own
 * store connection, that looks after every session whose job is live or
 * whose end is not yet recorded (docs/sessions.md):
 *
 *   starting  the job runs but its backend has not answered yet: probed
 *             every SESSIONMON_PROBE_MS, 20 ms (GET {base_url}, jupyter:
 *             {base_url}api/status, with the secret); the first answer
 *             below 500 sets ready_at, after which the proxy forwards.
 *             No answer within [sessions] start_timeout_s: the session is
 *             cancelled with end_reason 'failed'.
 *   ready     every [sessions] check_s: the last activity is the latest
 *             of proxied traffic (proxy_last_activity), a busy kernel
 *             (jupyter: GET {base_url}api/kernels, any kernel neither
 *             idle nor dead, or with a client connected), and
 *             GPU work by the session's processes (NVML). After
 *             idle_timeout_s without any, the session is cancelled with
 *             end_reason 'idle'. last_activity is written to the store
 *             when it moved, at most once per check.
 *   ended     the job's end is recorded by the scheduler; the monitor
 *             records why in session words: timeout → 'expired',
 *             cancelled → 'stopped' (unless a reason was set first),
 *             completed → 'exited', anything else → 'failed'.
 *
 * Everything it knows is in the store, so after a restart it resumes: a
 * ready session stays ready (ready_at persists), idle times count from the
 * stored last_activity.
 */
#ifndef KAON_SERVER_SESSIONMON_H
#define KAON_SERVER_SESSIONMON_H

struct server;

int sessionmon_start(struct server *srv, char **cause);
void sessionmon_stop(struct server *srv);
/* Look again soon (a session was created or stopped, a job started);
 * thread-safe, never blocks. */
void sessionmon_kick(struct server *srv);

#endif
