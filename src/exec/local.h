/*
 * exec/local — internals shared by local.c and zygote.c: starting a job by
 * forking its supervisor from the calling process. exec_local_begin/finish
 * (executor.h) use these directly when there is no zygote; the zygote uses
 * them for every request it gets.
 */
#ifndef KAON_EXEC_LOCAL_H
#define KAON_EXEC_LOCAL_H

struct exec_job;
struct exec_start;

int exec_local_fork_begin(const struct exec_job *job, struct exec_start **s, char **cause);
int exec_local_fork_finish(struct exec_start *s, char **cause);

#endif
