/* server/jobenv — a job's directory, argv, environment and identity. */
#include "server/jobenv.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "identity/unixacct.h"
#include "lib/fsio.h"
#include "lib/xalloc.h"
#include "server/scheduler.h"
#include "server/server.h"
#include "store/jobs.h"
#include "store/users.h"

static const char *const jobenv_reserved_names[] = {
	"KAON_JOB_ID", "KAON_JOB_NAME", "KAON_ARRAY_ID", "KAON_ARRAY_INDEX",
	"KAON_GPUS",   "KAON_CPUS",     "KAON_MEM_MB",   "CUDA_VISIBLE_DEVICES",
	"CUDA_DEVICE_ORDER",
};

bool jobenv_reserved(const char *name)
{
	for (size_t i = 0; i < sizeof jobenv_reserved_names / sizeof jobenv_reserved_names[0]; i++)
		if (strcmp(name, jobenv_reserved_names[i]) == 0)
			return true;
	return false;
}

void jobenv_gpu_list(const struct inventory *inv, uint64_t mask, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < inv->ngpus; i++)
		if (mask & ((uint64_t)1 << i)) {
			int n = snprintf(buf + used, len - used, "%s%d", used ? "," : "", inv->gpus[i].index);
			if (n < 0 || (size_t)n >= len - used)
				break;
			used += (size_t)n;
		}
}

uint64_t jobenv_gpu_mask(const struct inventory *inv, const char *list)
{
	uint64_t mask = 0;
	for (const char *p = list; p && *p;) {
		char *end;
		long idx = strtol(p, &end, 10);
		if (end == p)
			break;
		for (int i = 0; i < inv->ngpus; i++)
			if (inv->gpus[i].index == idx)
				mask |= (uint64_t)1 << i;
		p = *end == ',' ? end + 1 : end;
	}
	return mask;
}

void jobenv_clear(struct jobenv *env)
{
	for (char **p = env->argv; p && *p; p++)
		free(*p);
	free(env->argv);
	for (char **p = env->envp; p && *p; p++)
		free(*p);
	free(env->envp);
	free(env->workdir);
	free(env->user);
}

static void jobenv_push(char ***vec, size_t *n, char *s)
{
	*vec = xrealloc(*vec, (*n + 2) * sizeof **vec);
	(*vec)[(*n)++] = s;
	(*vec)[*n] = NULL;
}

static int jobenv_argv(const struct store_job *j, const char *dir, uid_t uid, gid_t gid,
		       struct jobenv *out, char **cause)
{
	size_t n = 0;
	if (j->script) {
		char *path = xasprintf("%s/script", dir);
		int rc = fsio_write_atomic(path, j->script, strlen(j->script), 0700);
		/* lchown: the directory is the user's, so by now the name may
		 * be a symlink they put there; never follow it as root. */
		if (rc == 0 && unixacct_multiuser() && lchown(path, uid, gid) < 0)
			rc = -errno;
		if (rc < 0) {
			*cause = xasprintf("cannot write %s: %s", path, strerror(-rc));
			free(path);
			return rc;
		}
		/* A script without #! runs under bash, like sbatch's default. */
		if (strncmp(j->script, "#!", 2) != 0)
			jobenv_push(&out->argv, &n, xstrdup("/bin/bash"));
		jobenv_push(&out->argv, &n, path);
		return 0;
	}
	json_t *arr = json_loads(j->command ? j->command : "null", 0, NULL);
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) jobenv_push(&out->argv, &n, xstrdup(json_string_value(v)));
	json_decref(arr);
	if (n == 0) {
		*cause = xstrdup("the job has no command");
		return -EINVAL;
	}
	return 0;
}

/* A base variable, unless the submission sets its own value. */
static void jobenv_push_base(char ***vec, size_t *n, json_t *user_env, const char *name,
			     const char *value)
{
	if (!json_object_get(user_env, name))
		jobenv_push(vec, n, xasprintf("%s=%s", name, value));
}

static void jobenv_envp(const struct store_job *j, const struct store_user *u, const char *gpus,
			struct jobenv *out)
{
	size_t n = 0;
	json_t *env = json_loads(j->env ? j->env : "{}", 0, NULL);
	jobenv_push_base(&out->envp, &n, env, "PATH", JOBENV_PATH);
	jobenv_push_base(&out->envp, &n, env, "HOME", u->home);
	jobenv_push_base(&out->envp, &n, env, "USER", u->unix_user);
	jobenv_push_base(&out->envp, &n, env, "LOGNAME", u->unix_user);
	jobenv_push_base(&out->envp, &n, env, "SHELL", "/bin/bash");
	jobenv_push_base(&out->envp, &n, env, "LANG", "C.UTF-8");
	const char *k;
	json_t *v;
	json_object_foreach(env, k, v)
	{
		if (json_is_string(v) && !jobenv_reserved(k))
			jobenv_push(&out->envp, &n, xasprintf("%s=%s", k, json_string_value(v)));
	}
	json_decref(env);
	jobenv_push(&out->envp, &n, xasprintf("KAON_JOB_ID=%lld", (long long)j->id));
	jobenv_push(&out->envp, &n, xasprintf("KAON_JOB_NAME=%s", j->name));
	if (j->array_id > 0) {
		jobenv_push(&out->envp, &n, xasprintf("KAON_ARRAY_ID=%lld", (long long)j->array_id));
		jobenv_push(&out->envp, &n, xasprintf("KAON_ARRAY_INDEX=%lld", (long long)j->array_index));
	}
	jobenv_push(&out->envp, &n, xasprintf("KAON_CPUS=%d", j->cpus));
	jobenv_push(&out->envp, &n, xasprintf("KAON_MEM_MB=%lld", (long long)j->mem_mb));
	jobenv_push(&out->envp, &n, xasprintf("KAON_GPUS=%s", gpus));
	/* Empty when the job has no GPU: it must not see anyone else's. The
	 * indices are NVML's, in PCI bus order; CUDA counts fastest-first
	 * unless told otherwise, which on a mixed machine would pick others. */
	jobenv_push(&out->envp, &n, xasprintf("CUDA_VISIBLE_DEVICES=%s", gpus));
	jobenv_push(&out->envp, &n, xstrdup("CUDA_DEVICE_ORDER=PCI_BUS_ID"));
}

int jobenv_prepare(struct server *srv, struct store *st, const struct store_job *j,
		   const char *dir, uint64_t gpu_mask, struct jobenv *out, char **cause)
{
	memset(out, 0, sizeof *out);
	struct store_user u = { 0 };
	int rc = store_user_get_by_id(st, j->user_id, &u);
	if (rc < 0) {
		*cause = xasprintf("its owner (user id %lld) no longer exists", (long long)j->user_id);
		return rc;
	}
	uid_t uid = unixacct_multiuser() ? (uid_t)u.uid : getuid();
	gid_t gid = unixacct_multiuser() ? (gid_t)u.gid : getgid();
	if ((rc = fsio_mkdir_p(dir, 0700)) < 0 ||
	    (unixacct_multiuser() && chown(dir, uid, gid) < 0 && (rc = -errno))) {
		*cause = xasprintf("cannot create job directory %s: %s", dir, strerror(-rc));
		goto out;
	}
	if ((rc = jobenv_argv(j, dir, uid, gid, out, cause)) < 0)
		goto out;
	jobenv_gpu_list(&srv->inv, gpu_mask, out->gpu_list, sizeof out->gpu_list);
	jobenv_envp(j, &u, out->gpu_list, out);
	size_t ngpus = 0;
	for (int i = 0; i < 64; i++)
		if (gpu_mask & ((uint64_t)1 << i))
			out->gpus[ngpus++] = srv->inv.gpus[i].index;
	out->workdir = xstrdup(j->workdir && *j->workdir ? j->workdir : u.home);
	out->user = xstrdup(u.unix_user);
	out->job = (struct exec_job){
		.job_id = j->id,
		.dir = dir,
		.argv = out->argv,
		.envp = out->envp,
		.workdir = out->workdir,
		.user = out->user,
		.uid = uid,
		.gid = gid,
		.cpus = j->cpus,
		.mem_mb = j->mem_mb,
		.walltime_s = j->walltime_s,
		.max_procs = 0,
		.gpus = out->gpus,
		.ngpus = ngpus,
		.grace_s = (int)srv->cfg->grace_s,
		.notify_socket = scheduler_notify_path(srv),
	};
out:
	if (rc < 0)
		jobenv_clear(out);
	store_user_clear(&u);
	return rc;
}
