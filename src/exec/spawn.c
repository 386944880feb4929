/*
 * spawn — job child setup and the async-signal-safe toolbox (see spawn.h).
 *
 * Everything below spawn_failure_message() runs in a process forked from
 * the multithreaded daemon: another thread may have held the malloc, stdio
 * or logger lock at fork time, so that code uses only system calls and
 * async-signal-safe string functions, and memory prepared by the daemon.
 * prctl goes through syscall(2): the sanitizers intercept prctl and take
 * a lock of their own for PR_SET_NAME.
 */
#include "exec/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec/cgroup.h"
#include "exec/executor.h"
#include "lib/log.h"
#include "lib/xalloc.h"

/* glibc's execvp falls back to this when PATH is unset; ours is the usual
 * login PATH since jobs expect /usr/local/bin. */
static const char spawn_default_path[] = "/usr/local/bin:/usr/bin:/bin";

/* ---- daemon side -------------------------------------------------------- */

static int spawn_plan_creds(const struct exec_job *job, struct spawn_plan *p, char **cause)
{
	if (geteuid() != 0) {
		/* Single-account mode: every job runs as the daemon's own uid. */
		if (job->uid != getuid())
			log_debug("job %lld: single-account mode, running as uid %u instead of %u",
				  (long long)job->job_id, (unsigned)getuid(), (unsigned)job->uid);
		return 0;
	}
	/* Nothing that a user starts may ever run as root. */
	if (job->uid == 0 || job->gid == 0) {
		*cause = xasprintf("refusing to run job %lld as root (uid %u, gid %u)",
				   (long long)job->job_id, (unsigned)job->uid, (unsigned)job->gid);
		return -EPERM;
	}
	p->setcreds = true;
	p->uid = job->uid;
	p->gid = job->gid;
	if (!job->user) {
		p->groups = xmalloc(sizeof *p->groups);
		p->groups[0] = job->gid;
		p->ngroups = 1;
		return 0;
	}

	struct passwd pw, *res = NULL;
	long bufsz = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t cap = bufsz > 0 ? (size_t)bufsz : 16384;
	char *buf = xmalloc(cap);
	int rc = getpwnam_r(job->user, &pw, buf, cap, &res);
	if (rc != 0 || !res) {
		free(buf);
		*cause = xasprintf("no such user: %s", job->user);
		return -ENOENT;
	}
	uid_t pw_uid = pw.pw_uid;
	free(buf);
	if (pw_uid != job->uid) {
		*cause = xasprintf("user %s has uid %u, not %u", job->user, (unsigned)pw_uid,
				   (unsigned)job->uid);
		return -EINVAL;
	}

	int dropped = 0;
	rc = spawn_groups_resolve(job->user, job->gid, &p->groups, &p->ngroups, &dropped, cause);
	if (rc < 0)
		return rc;
	if (dropped)
		log_warn("job %lld: dropping group root from %s's supplementary groups",
			 (long long)job->job_id, job->user);
	return 0;
}

int spawn_plan_new(const struct exec_job *job, const char *absdir, const struct cgroup_job *cg,
		   struct spawn_plan **out, char **cause)
{
	static char *const empty_env[] = { NULL };
	struct spawn_plan *p = xcalloc(1, sizeof *p);
	int rc = spawn_plan_creds(job, p, cause);
	if (rc < 0)
		goto fail;

	p->argv = job->argv;
	p->file = xstrdup(job->argv[0]);
	p->envp = job->envp ? job->envp : empty_env;
	p->path = spawn_default_path;
	for (char *const *e = p->envp; *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			p->path = *e + 5;

	size_t argc = 0;
	while (job->argv[argc])
		argc++;
	p->sh_argv = xcalloc(argc + 2, sizeof *p->sh_argv);
	p->sh_argv[0] = (char *)"/bin/sh";
	for (size_t i = 1; i < argc; i++)
		p->sh_argv[i + 1] = job->argv[i];
	/* sh_argv[1] is the resolved file, filled in by the child. */

	p->workdir = xstrdup(job->workdir && job->workdir[0] ? job->workdir : absdir);
	p->stdout_path = xasprintf("%s/stdout", absdir);
	p->stderr_path = xasprintf("%s/stderr", absdir);
	p->cgroup = cg;
	if (job->max_procs > 0 && !cgroup_job_limits_pids(cg))
		p->nproc_limit = job->max_procs;
	*out = p;
	return 0;
fail:
	spawn_plan_free(p);
	return rc;
}

void spawn_plan_free(struct spawn_plan *p)
{
	if (!p)
		return;
	free(p->sh_argv);
	free(p->workdir);
	free(p->file);
	free(p->stdout_path);
	free(p->stderr_path);
	free(p->groups);
	free(p);
}

char *spawn_failure_message(const struct spawn_failure *f, const struct spawn_plan *p)
{
	const char *file = p->file;
	const char *why = strerror(f->err);
	switch (f->stage) {
	case SPAWN_STAGE_EXEC:
		if (f->err == ENOENT)
			return xasprintf("no such file: %s", file);
		if (f->err == EACCES)
			return xasprintf("permission denied: %s", file);
		return xasprintf("exec %s: %s", file, why);
	case SPAWN_STAGE_CHDIR:
		return xasprintf("bad workdir %s: %s", p->workdir, why);
	case SPAWN_STAGE_STDOUT:
		return xasprintf("opening %s: %s", p->stdout_path, why);
	case SPAWN_STAGE_STDERR:
		return xasprintf("opening %s: %s", p->stderr_path, why);
	case SPAWN_STAGE_CGROUP:
		return xasprintf("joining the job's cgroup: %s", why);
	case SPAWN_STAGE_SETGROUPS:
		return xasprintf("setgroups for uid %u: %s", (unsigned)p->uid, why);
	case SPAWN_STAGE_SETGID:
		return xasprintf("setgid(%u): %s", (unsigned)p->gid, why);
	case SPAWN_STAGE_SETUID:
		return xasprintf("setuid(%u): %s", (unsigned)p->uid, why);
	case SPAWN_STAGE_RLIMIT:
		return xasprintf("setrlimit(RLIMIT_NPROC, %d): %s", p->nproc_limit, why);
	case SPAWN_STAGE_SUPERVISOR:
		return xasprintf("writing the supervisor file: %s", why);
	case SPAWN_STAGE_FORK:
		return xasprintf("clone() in the supervisor: %s", why);
	default:
		return xasprintf("setting up the job (stage %d): %s", f->stage, why);
	}
}

int spawn_groups_resolve(const char *user, gid_t gid, gid_t **groups, int *ngroups,
			 int *dropped, char **cause)
{
	int n = 64;
	gid_t *g = xmalloc(sizeof *g * (size_t)n);
	while (getgrouplist(user, gid, g, &n) < 0) {
		if (n <= 0 || n > 65536) {
			free(g);
			*cause = xasprintf("getgrouplist(%s) failed", user);
			return -EINVAL;
		}
		g = xrealloc(g, sizeof *g * (size_t)n);
	}
	int kept = 0;
	*dropped = 0;
	for (int i = 0; i < n; i++) {
		if (g[i] == 0)
			(*dropped)++;
		else
			g[kept++] = g[i];
	}
	*groups = g;
	*ngroups = kept;
	return 0;
}

/* ---- in children (async-signal-safe from here on) ------------------------- */

int spawn_creds_drop(uid_t uid, gid_t gid, const gid_t *groups, int ngroups, int *err)
{
	if (syscall(SYS_setgroups, (size_t)ngroups, groups) < 0)
		return *err = errno, SPAWN_STAGE_SETGROUPS;
	if (syscall(SYS_setgid, gid) < 0)
		return *err = errno, SPAWN_STAGE_SETGID;
	if (syscall(SYS_setuid, uid) < 0)
		return *err = errno, SPAWN_STAGE_SETUID;
	/* Paranoia (h2o's setuidgid does the same): root must be gone for
	 * good. */
	if (getuid() != uid || geteuid() != uid || getegid() != gid || syscall(SYS_setuid, 0) == 0)
		return *err = EPERM, SPAWN_STAGE_SETUID;
	return 0;
}

void spawn_signals_default(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &sa, NULL);
}

/* One system call instead of a loop over RLIMIT_NOFILE, where the kernel
 * has close_range. */
void spawn_cloexec_all(void)
{
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	struct rlimit rl;
	unsigned max = 65536;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < max)
		max = (unsigned)rl.rlim_cur;
	for (unsigned fd = 3; fd < max; fd++)
		(void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
}

/* ---- job child ------------------------------------------------------------ */

/* The child shares the supervisor's memory (see spawn_run): it reports a
 * failure by writing it there, then exits; the supervisor, suspended until
 * then, reads it when it resumes. */
static _Noreturn void spawn_child_fail(struct spawn_failure *out, int stage, int err)
{
	*(volatile struct spawn_failure *)out = (struct spawn_failure){ .stage = stage, .err = err };
	_exit(127);
}

/* Open DIR/stdout or DIR/stderr for appending. The daemon is root here and
 * DIR may be writable by others, so: never follow a symlink, never block on
 * a FIFO, and only reuse an existing file that is a plain file with one
 * link owned by the job user; a new one is given to the job user. */
static int spawn_child_output(const struct spawn_plan *p, const char *path)
{
	int flags = O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
	int fd = open(path, flags | O_CREAT | O_EXCL, 0640);
	if (fd >= 0) {
		if (p->setcreds && fchown(fd, p->uid, p->gid) < 0)
			goto fail;
	} else {
		if (errno != EEXIST)
			return -errno;
		fd = open(path, flags);
		if (fd < 0)
			return -errno;
		struct stat st;
		if (fstat(fd, &st) < 0)
			goto fail;
		if (!S_ISREG(st.st_mode) || st.st_nlink != 1 ||
		    (p->setcreds && st.st_uid != p->uid)) {
			close(fd);
			return -EPERM;
		}
	}
	if (fcntl(fd, F_SETFL, O_WRONLY | O_APPEND) < 0)
		goto fail;
	return fd;
fail:;
	int err = errno;
	close(fd);
	return -err;
}

static int spawn_child_dup(int fd, int to)
{
	if (fd == to)
		return fcntl(fd, F_SETFD, 0) < 0 ? -errno : 0;
	int rc = dup2(fd, to) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

/* execve with execvp's PATH search, along the job's PATH (not the
 * daemon's), in a stack buffer. Returns the errno to report. */
static int spawn_child_exec(const struct spawn_plan *p)
{
	const char *file = p->argv[0];
	if (!file[0])
		return ENOENT;
	if (strchr(file, '/')) {
		execve(file, p->argv, p->envp);
		if (errno == ENOEXEC) {
			p->sh_argv[1] = (char *)file;
			execve("/bin/sh", p->sh_argv, p->envp);
		}
		return errno;
	}
	size_t flen = strlen(file);
	char buf[PATH_MAX];
	bool eacces = false;
	const char *s = p->path;
	for (;;) {
		const char *end = strchr(s, ':');
		size_t dlen = end ? (size_t)(end - s) : strlen(s);
		if (dlen + 1 + flen + 1 <= sizeof buf) {
			size_t n = 0;
			if (dlen == 0) {
				buf[n++] = '.'; /* an empty PATH element is the current directory */
			} else {
				memcpy(buf, s, dlen);
				n = dlen;
			}
			buf[n++] = '/';
			memcpy(buf + n, file, flen + 1);
			execve(buf, p->argv, p->envp);
			switch (errno) {
			case EACCES:
				eacces = true;
				break;
			case ENOENT:
			case ENOTDIR:
			case ESTALE:
			case ENODEV:
			case ETIMEDOUT:
			case ELOOP:
			case ENAMETOOLONG:
				break;
			case ENOEXEC:
				p->sh_argv[1] = buf;
				execve("/bin/sh", p->sh_argv, p->envp);
				return errno;
			default:
				return errno;
			}
		}
		if (!end)
			break;
		s = end + 1;
	}
	return eacces ? EACCES : ENOENT;
}

static _Noreturn void spawn_child(const struct spawn_plan *p, struct spawn_failure *failure,
				  pid_t supervisor)
{
	if (setsid() < 0)
		spawn_child_fail(failure, SPAWN_STAGE_SETSID, errno);
	/* Join before anything else runs as the job: its memory and every
	 * process it forks are then accounted to and killed with the group. */
	if (p->cgroup) {
		int rc = cgroup_job_join(p->cgroup, getpid());
		if (rc < 0)
			spawn_child_fail(failure, SPAWN_STAGE_CGROUP, -rc);
	}

	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || spawn_child_dup(fd, STDIN_FILENO) < 0)
		spawn_child_fail(failure, SPAWN_STAGE_STDIN, errno);
	fd = spawn_child_output(p, p->stdout_path);
	if (fd < 0 || (fd = spawn_child_dup(fd, STDOUT_FILENO)) < 0)
		spawn_child_fail(failure, SPAWN_STAGE_STDOUT, -fd);
	fd = spawn_child_output(p, p->stderr_path);
	if (fd < 0 || (fd = spawn_child_dup(fd, STDERR_FILENO)) < 0)
		spawn_child_fail(failure, SPAWN_STAGE_STDERR, -fd);

	if (p->setcreds) {
		int err = 0;
		int stage = spawn_creds_drop(p->uid, p->gid, p->groups, p->ngroups, &err);
		if (stage)
			spawn_child_fail(failure, stage, err);
	}
	/* After setuid: the kernel checks RLIMIT_NPROC at setuid time against
	 * the limit then in force, and refuses the exec if it was exceeded. */
	if (p->nproc_limit > 0) {
		struct rlimit rl = { (rlim_t)p->nproc_limit, (rlim_t)p->nproc_limit };
		if (setrlimit(RLIMIT_NPROC, &rl) < 0)
			spawn_child_fail(failure, SPAWN_STAGE_RLIMIT, errno);
	}
	/* A job whose supervisor was killed has nobody to record its end:
	 * end it too. Set after setuid, which clears it. */
	if (syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		spawn_child_fail(failure, SPAWN_STAGE_PDEATHSIG, errno);
	if (getppid() != supervisor)
		_exit(127);
	/* As the user, so a workdir the user may not enter is refused. */
	if (chdir(p->workdir) < 0)
		spawn_child_fail(failure, SPAWN_STAGE_CHDIR, errno);

	spawn_signals_default();
	spawn_cloexec_all();
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	spawn_child_fail(failure, SPAWN_STAGE_EXEC, spawn_child_exec(p));
}

struct spawn_child_args {
	const struct spawn_plan *plan;
	struct spawn_failure *failure;
	pid_t supervisor;
};

static int spawn_child_entry(void *arg)
{
	const struct spawn_child_args *a = arg;
	spawn_child(a->plan, a->failure, a->supervisor);
}

/*
 * The job child is made the way posix_spawn makes its children: clone with
 * CLONE_VM | CLONE_VFORK on a stack of its own. It shares the supervisor's
 * memory until it execs, so no page table is copied (the supervisor is a
 * fork of the whole daemon; copying and tearing down its page tables was
 * the largest cost of a short job), and the supervisor is suspended until
 * the child has exec'd or exited, which is exactly the hand-over it waits
 * for. The child writes nothing shared but its failure report (and errno,
 * which the supervisor does not read).
 */
int spawn_run(const struct spawn_plan *p, pid_t *pid, struct spawn_failure *failure)
{
	enum { STACK_SIZE = 128 * 1024 };
	*pid = -1;
	void *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED) {
		*failure = (struct spawn_failure){ SPAWN_STAGE_FORK, errno };
		return -1;
	}
	struct spawn_failure f = { .stage = 0, .err = 0 };
	struct spawn_child_args args = { p, &f, getpid() };
	/* No handler of the supervisor may run on the child's stack. */
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid_t child = clone(spawn_child_entry, (char *)stack + STACK_SIZE,
			    CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
	int clone_errno = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	munmap(stack, STACK_SIZE);
	if (child < 0) {
		*failure = (struct spawn_failure){ SPAWN_STAGE_FORK, clone_errno };
		return -1;
	}
	*pid = child;
	struct spawn_failure seen = *(volatile struct spawn_failure *)&f;
	if (seen.stage != 0) {
		*failure = seen;
		return -1;
	}
	return 0; /* it exec'd */
}

/* ---- async-signal-safe helpers ------------------------------------------ */

size_t spawn_fmt_i64(char *buf, int64_t v)
{
	char tmp[24];
	size_t n = 0, len = 0;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		buf[len++] = '-';
	while (n)
		buf[len++] = tmp[--n];
	buf[len] = '\0';
	return len;
}

bool spawn_path_join(char *dst, size_t cap, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la + 1 + lb + 1 > cap)
		return false;
	memcpy(dst, a, la);
	dst[la] = '/';
	memcpy(dst + la + 1, b, lb + 1);
	return true;
}

ssize_t spawn_file_read(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t used = 0;
	while (used + 1 < cap) {
		ssize_t n = read(fd, buf + used, cap - 1 - used);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int err = errno;
			close(fd);
			return -err;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	buf[used] = '\0';
	return (ssize_t)used;
}

static int spawn_fd_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int spawn_file_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = spawn_fd_write_all(fd, s, strlen(s));
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

int spawn_file_replace(const char *tmp, const char *path, const void *buf, size_t len)
{
	(void)unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	int rc = spawn_fd_write_all(fd, buf, len);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		(void)unlink(tmp);
	return rc;
}

const char *spawn_parse_i64(const char *s, int64_t *out)
{
	bool neg = false;
	if (*s == '-') {
		neg = true;
		s++;
	}
	if (*s < '0' || *s > '9')
		return NULL;
	int64_t v = 0;
	while (*s >= '0' && *s <= '9') {
		if (v > (INT64_MAX - 9) / 10)
			v = INT64_MAX; /* saturate: "max" limits and the like */
		else
			v = v * 10 + (*s - '0');
		s++;
	}
	*out = neg ? -v : v;
	return s;
}

bool spawn_text_key(const char *text, const char *key, int64_t *out)
{
	size_t klen = strlen(key);
	const char *line = text;
	while (*line) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
			return spawn_parse_i64(line + klen + 1, out) != NULL;
		const char *nl = strchr(line, '\n');
		if (!nl)
			break;
		line = nl + 1;
	}
	return false;
}

int spawn_proc_starttime(pid_t pid, int64_t *starttime, bool *zombie)
{
	char path[64] = "/proc/self/stat";
	if (pid > 0) {
		char num[24];
		spawn_fmt_i64(num, pid);
		char dir[32] = "/proc";
		if (!spawn_path_join(dir, sizeof dir, "/proc", num) ||
		    !spawn_path_join(path, sizeof path, dir, "stat"))
			return -ENAMETOOLONG;
	}
	char buf[1024];
	ssize_t n = spawn_file_read(path, buf, sizeof buf);
	if (n < 0)
		return (int)n;
	/* comm may hold spaces and parentheses: fields start after the last ')'. */
	const char *s = strrchr(buf, ')');
	if (!s)
		return -EINVAL;
	s++;
	/* Field 3 (state) is the first after ')'; starttime is field 22. */
	int field = 2;
	while (*s && field < 22) {
		while (*s == ' ')
			s++;
		field++;
		if (field == 3 && zombie)
			*zombie = (*s == 'Z' || *s == 'X');
		if (field == 22)
			break;
		while (*s && *s != ' ')
			s++;
	}
	if (field != 22 || !spawn_parse_i64(s, starttime))
		return -EINVAL;
	return 0;
}

void spawn_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int64_t spawn_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
