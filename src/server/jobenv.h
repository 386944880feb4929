/*
 * server/jobenv — everything a job needs to start, prepared from its
 * store row: the job directory (owned by the job's user), the script file,
 * argv, the environment (a clean base, the user's variables, then kaon's:
 * KAON_JOB_ID, KAON_ARRAY_ID, KAON_ARRAY_INDEX, KAON_GPUS,
 * CUDA_VISIBLE_DEVICES), and the Unix identity to run as.
 */
#ifndef KAON_SERVER_JOBENV_H
#define KAON_SERVER_JOBENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exec/executor.h"

/* The PATH a job starts with (unless its submission sets its own). */
#define JOBENV_PATH "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"

struct inventory;
struct server;
struct store;
struct store_job;

struct jobenv {
	struct exec_job job; /* points into the fields below */
	char **argv;
	char **envp;
	char *workdir;
	char *user;
	int gpus[64];
	char gpu_list[256]; /* "0,1" */
};

int jobenv_prepare(struct server *srv, struct store *st, const struct store_job *j,
		   const char *dir, uint64_t gpu_mask, struct jobenv *out, char **cause);
void jobenv_clear(struct jobenv *env);
/* The GPU indices ("0,2,3") of the inventory positions set in mask: the
 * policy counts GPUs by position, jobs and the store by NVML index. */
void jobenv_gpu_list(const struct inventory *inv, uint64_t mask, char *buf, size_t len);
/* The inverse: inventory positions of a stored index list. */
uint64_t jobenv_gpu_mask(const struct inventory *inv, const char *list);
/* Variables kaon sets itself, which a submission may not override. */
bool jobenv_reserved(const char *name);

#endif
