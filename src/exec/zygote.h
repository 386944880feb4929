/*
 * exec/zygote — a small process, forked from the daemon at start while it
 * has a single thread, that forks the supervisors of jobs on its behalf.
 *
 * Why: a supervisor is a fork without exec (see executor.h). Forked from
 * the running daemon — many threads, a few MiB of heap and SQLite pages —
 * each start copied its page tables, and every write any daemon thread
 * then made to a shared page took a copy-on-write fault with a TLB
 * shoot-down on every CPU. Measured with bench/sched, that was over half
 * the daemon's CPU time per job. The zygote has one thread and touches
 * little memory, so forking it is cheap and nobody else pays for it.
 *
 * Protocol, over a stream socket pair (only the scheduler thread speaks
 * on it, so requests and replies stay in order):
 *   request: u32 length, then a flat struct exec_job (fixed part, then
 *            its strings, NUL-terminated);
 *   reply:   u32 length, then i32 result (0 or -errno) and the cause.
 * The zygote reads every request that is waiting, forks all their
 * supervisors, then reads the supervisors' reports and answers in order,
 * so starts overlap (the same batching exec_local_begin/finish give).
 *
 * When the daemon goes, the zygote reads end-of-file and exits; running
 * supervisors are not its business (they have their own session). If the
 * zygote is gone, exec_local_begin falls back to forking in the daemon.
 */
#ifndef KAON_EXEC_ZYGOTE_H
#define KAON_EXEC_ZYGOTE_H

#include <stdbool.h>

struct exec_job;

/* Fork the zygote. Call while the process has exactly one thread. */
int zygote_start(char **cause);
/* Close the socket (the zygote then exits) and reap it. */
void zygote_stop(void);
bool zygote_running(void);
/* Daemon side: send one start request; 0 or -errno (the zygote is then
 * marked gone). */
int zygote_send(const struct exec_job *job);
/* Daemon side: the reply to the oldest request not yet answered: what
 * exec_local_start would return, with *cause on failure. */
int zygote_recv(char **cause);

#endif
