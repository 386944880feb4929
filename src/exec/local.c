/*
 * local — the local executor (executor.h): starts each job under a forked
 * supervisor, reads job directories back, asks supervisors to cancel, and
 * reaps the supervisors this daemon forked.
 *
 * exec_local_begin hands the job to the zygote when there is one (see
 * zygote.h), which runs exec_local_fork_begin/finish in its own process.
 * Those prepare everything (cgroups created and limited, credentials and
 * paths resolved into a spawn_plan and a supervisor_plan), then fork with
 * all signals blocked and wait on a close-on-exec pipe for the
 * supervisor's report: exec'd, or why not. The
 * supervisor itself (supervisor.c) and the job child (spawn.c) only make
 * async-signal-safe calls on that prepared memory.
 */
#include "exec/executor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/cgroup.h"
#include "exec/local.h"
#include "exec/spawn.h"
#include "exec/supervisor.h"
#include "exec/zygote.h"
#include "lib/fsio.h"
#include "lib/log.h"
#include "lib/xalloc.h"

/* Supervisors forked by this daemon and not yet reaped. Only these are
 * waited for, so other modules' children keep their exit statuses. */
static struct {
	pthread_mutex_t lock;
	pid_t *pids;
	size_t n, cap;
} local_children = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void local_children_add(pid_t pid)
{
	pthread_mutex_lock(&local_children.lock);
	if (local_children.n == local_children.cap) {
		local_children.cap = local_children.cap ? local_children.cap * 2 : 16;
		local_children.pids =
			xrealloc(local_children.pids, local_children.cap * sizeof(pid_t));
	}
	local_children.pids[local_children.n++] = pid;
	pthread_mutex_unlock(&local_children.lock);
}

void exec_local_reap(void)
{
	pthread_mutex_lock(&local_children.lock);
	for (size_t i = 0; i < local_children.n;) {
		pid_t pid = local_children.pids[i];
		pid_t r = waitpid(pid, NULL, WNOHANG);
		if (r == pid || (r < 0 && errno == ECHILD)) {
			local_children.pids[i] = local_children.pids[--local_children.n];
			continue;
		}
		i++;
	}
	pthread_mutex_unlock(&local_children.lock);
}

int exec_local_init(const char *data_dir, char **cause)
{
	/* Groups are named after this data directory, so two daemons (or
	 * test runs) on one machine never share a job's group. */
	char *abs = realpath(data_dir, NULL);
	const char *name = abs ? abs : data_dir;
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const char *s = name; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	free(abs);
	char instance[16];
	snprintf(instance, sizeof instance, "%08x", h);
	cgroup_init(instance);
	(void)cause;
	return 0;
}

/* A start in flight: forked (here or by the zygote), its report not yet
 * read. */
struct exec_start {
	int64_t job_id;
	bool zygote;  /* the zygote has the request; its reply is the report */
	int reportfd; /* read end of the close-on-exec pipe */
	pid_t pid;
	struct spawn_plan *sp; /* for the failure message */
};

int exec_local_begin(const struct exec_job *job, struct exec_start **out, char **cause)
{
	*out = NULL;
	if (job && job->argv && job->argv[0] && zygote_running()) {
		int rc = zygote_send(job);
		if (rc == 0) {
			struct exec_start *s = xcalloc(1, sizeof *s);
			*s = (struct exec_start){ .job_id = job->job_id, .zygote = true, .reportfd = -1 };
			*out = s;
			return 0;
		}
		if (rc == -EMSGSIZE || rc == -E2BIG) {
			*cause = xasprintf("job %lld is too large to start (arguments, environment "
					   "or GPUs)",
					   (long long)job->job_id);
			return rc;
		}
		/* The zygote is gone: fork here instead. */
	}
	return exec_local_fork_begin(job, out, cause);
}

int exec_local_finish(struct exec_start *s, char **cause)
{
	if (!s->zygote)
		return exec_local_fork_finish(s, cause);
	int rc = zygote_recv(cause);
	if (rc < 0)
		log_info("job %lld failed to start: %s", (long long)s->job_id, *cause);
	free(s);
	return rc;
}

int exec_local_fork_begin(const struct exec_job *job, struct exec_start **out, char **cause)
{
	struct cgroup_job *cg = NULL;
	struct spawn_plan *sp = NULL;
	struct supervisor_plan *plan = NULL;
	char *absdir = NULL;
	int fds[2] = { -1, -1 };
	int rc;

	*out = NULL;
	if (!job || !job->dir || !job->argv || !job->argv[0]) {
		*cause = xstrdup("job has no directory or no command");
		return -EINVAL;
	}
	absdir = realpath(job->dir, NULL);
	if (!absdir) {
		rc = -errno;
		*cause = xasprintf("job directory %s: %s", job->dir, strerror(errno));
		return rc;
	}
	struct cgroup_limits lim = { job->mem_mb, job->cpus, job->max_procs };
	if ((rc = cgroup_job_new(job->job_id, &lim, &cg, cause)) < 0)
		goto fail;
	if ((rc = spawn_plan_new(job, absdir, cg, &sp, cause)) < 0)
		goto fail;
	plan = supervisor_plan_new(job, absdir, sp, cg);
	if (pipe2(fds, O_CLOEXEC) < 0) {
		rc = -errno;
		*cause = xasprintf("pipe() failed while starting job %lld: %s",
				   (long long)job->job_id, strerror(errno));
		goto fail;
	}

	/* Block every signal across fork so that no handler of the daemon
	 * runs in the supervisor before it has reset them (tmux job.c). */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		supervisor_run(plan, fds[1]);
	}
	int fork_errno = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(fds[1]);
	if (pid < 0) {
		rc = -fork_errno;
		*cause = xasprintf("fork() failed while starting job %lld: %s",
				   (long long)job->job_id, strerror(fork_errno));
		log_error("%s", *cause);
		goto fail;
	}
	/* From here on the supervisor owns (and removes) the groups. */
	local_children_add(pid);
	struct exec_start *s = xcalloc(1, sizeof *s);
	*s = (struct exec_start){ .job_id = job->job_id, .reportfd = fds[0], .pid = pid, .sp = sp };
	supervisor_plan_free(plan);
	cgroup_job_free(cg);
	free(absdir);
	*out = s;
	return 0;

fail:
	if (fds[0] >= 0)
		close(fds[0]);
	supervisor_plan_free(plan);
	spawn_plan_free(sp);
	if (cg)
		cgroup_job_remove(cg);
	cgroup_job_free(cg);
	free(absdir);
	return rc;
}

int exec_local_fork_finish(struct exec_start *s, char **cause)
{
	struct supervisor_report rep;
	size_t got = 0;
	int rc = 0;
	while (got < sizeof rep) {
		ssize_t n = read(s->reportfd, (char *)&rep + got, sizeof rep - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got != sizeof rep) {
		*cause = xasprintf("the supervisor of job %lld died before starting it",
				   (long long)s->job_id);
		rc = -ECHILD;
	} else if (!rep.ok) {
		*cause = spawn_failure_message(&rep.failure, s->sp);
		rc = rep.failure.err > 0 ? -rep.failure.err : -EIO;
		log_info("job %lld failed to start: %s", (long long)s->job_id, *cause);
	} else {
		log_debug("job %lld started under supervisor %ld", (long long)s->job_id,
			  (long)s->pid);
	}
	close(s->reportfd);
	spawn_plan_free(s->sp);
	free(s);
	return rc;
}

int exec_local_start(const struct exec_job *job, char **cause)
{
	struct exec_start *s;
	int rc = exec_local_begin(job, &s, cause);
	return rc < 0 ? rc : exec_local_finish(s, cause);
}

/* ---- reading a job directory --------------------------------------------- */

static char *local_path(const char *dir, const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

/* Whether /proc/PID/FILE and path are the same inode. */
static bool local_same_file(pid_t pid, const char *file, const char *path)
{
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/%ld/%s", (long)pid, file);
	struct stat a, b;
	return stat(proc, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* The live supervisor of dir, or 0. DIR/supervisor may be writable by the
 * job's user, so its word is not enough to signal a process as root: the
 * process must also have the recorded start time, be owned by this
 * daemon's uid, be named SUPERVISOR_COMM and work in dir. */
static pid_t local_supervisor(const char *dir)
{
	char *path = local_path(dir, "supervisor"), *text = NULL;
	int rc = fsio_read_file(path, 256, &text, NULL);
	free(path);
	if (rc < 0)
		return 0;
	int64_t pid = 0, start = 0;
	const char *s = spawn_parse_i64(text, &pid);
	if (s && *s == ' ')
		s = spawn_parse_i64(s + 1, &start);
	free(text);
	if (!s || pid <= 1 || pid > INT_MAX || pid == getpid())
		return 0;
	int64_t now_start;
	bool zombie = false;
	if (spawn_proc_starttime((pid_t)pid, &now_start, &zombie) < 0 || now_start != start ||
	    zombie)
		return 0;
	char proc[64], comm[32];
	struct stat st;
	snprintf(proc, sizeof proc, "/proc/%ld", (long)pid);
	if (stat(proc, &st) < 0 || st.st_uid != geteuid())
		return 0;
	snprintf(proc, sizeof proc, "/proc/%ld/comm", (long)pid);
	if (spawn_file_read(proc, comm, sizeof comm) < 0 ||
	    strcmp(comm, SUPERVISOR_COMM "\n") != 0 || !local_same_file((pid_t)pid, "cwd", dir))
		return 0;
	return (pid_t)pid;
}

/* Value of "key": in the status JSON (our own fixed format). */
static const char *local_json_value(const char *json, const char *key)
{
	char pat[40];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *s = strstr(json, pat);
	return s ? s + strlen(pat) : NULL;
}

static int local_parse_status(const char *json, struct exec_status *out)
{
	const char *v;
	int64_t n;
	memset(out, 0, sizeof *out);
	out->state = EXEC_ENDED;
	out->exit_code = -1;
	if (!(v = local_json_value(json, "exit_code")))
		return -EBADMSG;
	if (spawn_parse_i64(v, &n))
		out->exit_code = (int)n;
	if ((v = local_json_value(json, "signal")) && spawn_parse_i64(v, &n))
		out->signal = (int)n;
	if ((v = local_json_value(json, "oom")))
		out->oom = strncmp(v, "true", 4) == 0;
	if ((v = local_json_value(json, "timeout")))
		out->timeout = strncmp(v, "true", 4) == 0;
	if ((v = local_json_value(json, "cancelled")))
		out->cancelled = strncmp(v, "true", 4) == 0;
	if ((v = local_json_value(json, "start_time")) && spawn_parse_i64(v, &n))
		out->start_time = n;
	if ((v = local_json_value(json, "end_time")) && spawn_parse_i64(v, &n))
		out->end_time = n;
	if ((v = local_json_value(json, "cpu_seconds")))
		out->cpu_seconds = strtod(v, NULL);
	if ((v = local_json_value(json, "max_rss_kb")) && spawn_parse_i64(v, &n))
		out->max_rss_kb = n;
	return 0;
}

static int local_read_status(const char *dir, struct exec_status *out)
{
	char *path = local_path(dir, "status"), *text = NULL;
	int rc = fsio_read_file(path, 4096, &text, NULL);
	free(path);
	if (rc < 0)
		return rc;
	rc = local_parse_status(text, out);
	free(text);
	return rc;
}

int exec_local_status(const char *dir, struct exec_status *out)
{
	memset(out, 0, sizeof *out);
	int rc = local_read_status(dir, out);
	if (rc != -ENOENT)
		return rc;
	if (local_supervisor(dir) > 0) {
		out->state = EXEC_RUNNING;
		out->exit_code = -1;
		return 0;
	}
	/* It may have written the status and exited since the first look. */
	rc = local_read_status(dir, out);
	if (rc != -ENOENT)
		return rc;
	struct stat st;
	if (stat(dir, &st) < 0)
		return -errno;
	memset(out, 0, sizeof *out);
	out->state = EXEC_LOST;
	out->exit_code = -1;
	return 0;
}

static bool local_exists(const char *dir, const char *name)
{
	char *path = local_path(dir, name);
	struct stat st;
	bool yes = lstat(path, &st) == 0;
	free(path);
	return yes;
}

static int local_signal_cancel(pid_t pid)
{
	return kill(pid, SIGUSR1) < 0 ? -errno : 0;
}

int exec_local_cancel(const char *dir)
{
	/* First a mark, DIR/cancel, which the supervisor looks for once it
	 * has written DIR/supervisor: a cancel that comes after the job was
	 * recorded as started but before its supervisor can be found is then
	 * not lost (the job would run on, and a model worker the pool has
	 * already forgotten would be left behind). Never through a link the
	 * job's user planted; one that exists already is as good. */
	char *mark = local_path(dir, "cancel");
	int fd = open(mark, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	bool marked = fd >= 0 || errno == EEXIST;
	if (fd >= 0)
		close(fd);
	free(mark);
	pid_t pid = local_supervisor(dir);
	if (pid > 0)
		return local_signal_cancel(pid);
	/* No supervisor: the job ended (its status is written), or it was
	 * lost (DIR/supervisor names no live supervisor; unless it just
	 * appeared, look once more), or it is not up yet (neither), when the
	 * mark does the cancel. */
	if (local_exists(dir, "status"))
		return -ESRCH;
	if (local_exists(dir, "supervisor")) {
		pid = local_supervisor(dir);
		return pid > 0 ? local_signal_cancel(pid) : -ESRCH;
	}
	return marked ? 0 : -ESRCH;
}

/* Replace DIR/walltime with text: temp file, fsync, rename, fsync of the
 * directory. The directory belongs to the job user and this may run as
 * root, so the temp name is unlinked first and created O_EXCL|O_NOFOLLOW:
 * a symlink or hard link planted there is never written through. The name
 * holds the thread id, so two extensions of one job cannot share it. */
static int local_write_walltime(const char *dir, const char *text)
{
	char *path = local_path(dir, "walltime");
	char *tmp = xasprintf("%s/.walltime.%ld.tmp", dir, (long)gettid());
	int rc = 0;
	(void)unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	/* 0644 whatever the umask: the job may read its own wall time. */
	if (fchmod(fd, 0644) < 0 || (rc = fsio_write_all(fd, text, strlen(text))) < 0 ||
	    fsync(fd) < 0) {
		rc = rc < 0 ? rc : -errno;
		close(fd);
		goto unlink;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		rc = -errno;
		goto unlink;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		rc = -errno;
	if (dfd >= 0)
		close(dfd);
	goto out;
unlink:
	(void)unlink(tmp);
out:
	free(tmp);
	free(path);
	return rc;
}

int exec_local_set_walltime(const char *dir, int64_t walltime_s)
{
	if (walltime_s < 0 || walltime_s > EXEC_WALLTIME_MAX_S)
		return -EINVAL;
	pid_t pid = local_supervisor(dir);
	if (pid <= 0)
		return -ESRCH;
	char text[32];
	snprintf(text, sizeof text, "%lld\n", (long long)walltime_s);
	int rc = local_write_walltime(dir, text);
	if (rc < 0) {
		log_warn("cannot write the wall time of the job in %s: %s", dir, strerror(-rc));
		return rc;
	}
	/* The supervisor may have ended since it was found; then the file is
	 * a harmless leftover in the directory of an ended job. */
	if (kill(pid, SIGUSR2) < 0)
		return -errno;
	return 0;
}
